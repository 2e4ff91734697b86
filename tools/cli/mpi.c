/*
 * hwnas under mpirun (built with libhwnas_mpi, HWNAS_HAVE_MPI): rank 0
 * runs `hwnas search` as in one process, every other rank builds the same
 * search from the same arguments and estimates what rank 0 sends it
 * (doc/distributed.md). Without MPI these are the one-process stand-ins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifdef HWNAS_HAVE_MPI
#include <hwnas/mpi.h>

static int mpi_on; /* MPI_Init was called by us */

/* Launched by mpirun (Open MPI, or any PMI/PMIx launcher)? A plain run
 * never initialises MPI: no start-up cost, no launcher needed. */
static int under_launcher(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

void cli_mpi_init(int *argc, char ***argv)
{
    if (!under_launcher())
        return;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS)
        mpi_on = 1;
}

int cli_mpi_finalize(int status)
{
    if (!mpi_on)
        return status;
    /* A rank failing before the search ran (bad arguments, a directory in
     * use) leaves the others waiting for it: ending the job tells them. */
    if (status != CLI_OK && hwnas_mpi_world_size() > 1 && !cli_mpi_ran)
        MPI_Abort(MPI_COMM_WORLD, status);
    hwnas_mpi_finalize(); /* skipped after a lost rank: it would wait for it */
    return status;
}

int cli_mpi_rank(void)
{
    return mpi_on ? hwnas_mpi_world_rank() : 0;
}

int cli_mpi_size(void)
{
    return mpi_on ? hwnas_mpi_world_size() : 1;
}

int cli_search_run(hwnas_search *s, const char *mpi_options)
{
    cli_mpi_ran = 1;
    if (!mpi_on || hwnas_mpi_world_size() == 1)
        return hwnas_search_run(s);
    return hwnas_search_run_mpi(s, MPI_COMM_WORLD, mpi_options);
}

int cli_mpi_share_conf(const char *dir, char *local, size_t size)
{
    if (!mpi_on || hwnas_mpi_world_size() == 1)
        return 0;
    long len = -1;
    char *text = NULL;
    if (hwnas_mpi_world_rank() == 0) {
        char path[4096];
        FILE *f = NULL;
        if ((size_t)snprintf(path, sizeof path, "%s/search.conf", dir) < sizeof path)
            f = fopen(path, "rb");
        if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
            fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)len + 1)) &&
            fread(text, 1, (size_t)len, f) != (size_t)len)
            len = -1;
        if (f)
            fclose(f);
        if (!text)
            len = -1;
    }
    /* Rank 0's search.conf to every rank: the output directory may be on
     * rank 0's node only; -1 when it has none (its resume says why). */
    MPI_Bcast(&len, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    if (len >= 0 && hwnas_mpi_world_rank() != 0)
        text = malloc((size_t)len + 1);
    if (len >= 0)
        MPI_Bcast(text ? text : "", text ? (int)len : 0, MPI_BYTE, 0, MPI_COMM_WORLD);
    int rc = 0;
    if (hwnas_mpi_world_rank() != 0 && len >= 0) {
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char path[4096];
        FILE *f = NULL;
        if ((size_t)snprintf(local, size, "%s/hwnas-mpi-XXXXXX", tmp) < size && mkdtemp(local) &&
            (size_t)snprintf(path, sizeof path, "%s/search.conf", local) < sizeof path)
            f = fopen(path, "wb");
        rc = f && fwrite(text, 1, (size_t)len, f) == (size_t)len ? 1 : -1;
        if (f && fclose(f) != 0)
            rc = -1;
        if (rc < 0)
            fprintf(stderr, "hwnas search: rank %d cannot keep the search's settings in %s\n",
                    hwnas_mpi_world_rank(), tmp);
    }
    free(text);
    return rc;
}

void cli_mpi_unshare_conf(const char *local)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/search.conf", local) < sizeof path)
        unlink(path);
    rmdir(local);
}

#else /* one process */

void cli_mpi_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
}

int cli_mpi_finalize(int status)
{
    return status;
}

int cli_mpi_rank(void)
{
    return 0;
}

int cli_mpi_size(void)
{
    return 1;
}

int cli_search_run(hwnas_search *s, const char *mpi_options)
{
    (void)mpi_options;
    cli_mpi_ran = 1;
    return hwnas_search_run(s);
}

int cli_mpi_share_conf(const char *dir, char *local, size_t size)
{
    (void)dir;
    (void)local;
    (void)size;
    return 0;
}

void cli_mpi_unshare_conf(const char *local)
{
    (void)local;
}

#endif

int cli_mpi_ran;
