/*
 * The public entry points of libhwnas_mpi: options, the search's
 * fingerprint that rank 0 and the workers compare, and the split of the
 * ranks into rank 0 (master.c) and workers (worker.c).
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "mpi_internal.h"

enum { OPT_HEARTBEAT, OPT_TIMEOUT };

static const hwnas__option_spec mpi_options[] = {
    [OPT_HEARTBEAT] = {"heartbeat", HWNAS_OPTION_FLOAT, "1", 0.01, 3600, NULL,
                       "seconds between a busy worker's signs of life"},
    [OPT_TIMEOUT] = {"timeout", HWNAS_OPTION_FLOAT, "30", 0.05, 1e6, NULL,
                     "seconds of silence after which rank 0 takes a worker for dead and gives "
                     "its candidate to another rank"},
};

static const hwnas__kind mpi_kind = {"mpi", mpi_options, HWNAS_ARRAY_SIZE(mpi_options), NULL};

static atomic_int lost; /* see hwnas__mpi_set_lost */

void hwnas__mpi_set_lost(void)
{
    atomic_store(&lost, 1);
}

int hwnas_mpi_finalize(void)
{
    int inited = 0, finished = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finished);
    if (!inited || finished)
        return 0;
    if (atomic_load(&lost))
        return 1; /* Open MPI 4's MPI_Finalize may wait forever for the lost rank */
    MPI_Finalize();
    return 0;
}

int hwnas__mpi_fail(int mpi_rc, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", mpi_rc);
    return hwnas__error(HWNAS_EIO, "mpi: %s: %s", what, text);
}

void hwnas__mpi_nap(unsigned *idle)
{
    unsigned n = *idle < 50 ? *idle : 50;
    struct timespec ts = {0, 20000L * (1 + (long)n)}; /* 20 us .. 1 ms */
    nanosleep(&ts, NULL);
    (*idle)++;
}

char *hwnas__mpi_fingerprint(hwnas_search *s)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_printf(&sb, "space=%s(%s) genes=%zu metrics=", s->space_kind,
                         s->space_options ? s->space_options : "", s->n_genes);
    for (size_t m = 0; m < s->n_metrics; m++)
        hwnas__strbuf_printf(&sb, "%s%s", m ? "," : "", s->metric_names[m]);
    hwnas__strbuf_printf(&sb, " estimators=%zu constraints=%s screen=%d", s->n_est,
                         hwnas__options_str(s->options, OPT_CONSTRAINTS),
                         (int)hwnas__options_int(s->options, OPT_SCREEN));
    if (sb.failed) {
        hwnas__strbuf_release(&sb);
        return NULL;
    }
    return sb.data; /* the context's allocation, hwnas__free */
}

int hwnas_search_run_mpi(hwnas_search *s, MPI_Comm comm, const char *options)
{
    if (!s)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_run_mpi: search is NULL");
    hwnas_options *opts = NULL;
    int rc = hwnas__options_new_kind(&opts, s->ctx, &mpi_kind, options);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__mpi_opts o = {hwnas__options_float(opts, OPT_HEARTBEAT),
                         hwnas__options_float(opts, OPT_TIMEOUT)};
    hwnas_options_free(opts);
    int inited = 0, finished = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finished);
    if (!inited || finished)
        return hwnas__error(HWNAS_ESTATE, "hwnas_search_run_mpi: MPI is %s",
                            finished ? "finalised" : "not initialised (call MPI_Init first)");
    int size = 1, rank = 0;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    if (size == 1)
        return hwnas_search_run(s);
    MPI_Errhandler old;
    MPI_Comm_get_errhandler(comm, &old);
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    rc = rank == 0 ? hwnas__mpi_master(s, comm, &o) : hwnas__mpi_worker(s, comm, &o);
    MPI_Comm_set_errhandler(comm, old);
    MPI_Errhandler_free(&old);
    return rc;
}

int hwnas_search_run_mpi_world(hwnas_search *s, const char *options)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided = 0;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS)
            return hwnas__mpi_fail(rc, "initialising MPI");
    }
    return hwnas_search_run_mpi(s, MPI_COMM_WORLD, options);
}

int hwnas_mpi_world_rank(void)
{
    int inited = 0, finished = 0, rank = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finished);
    if (inited && !finished)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

int hwnas_mpi_world_size(void)
{
    int inited = 0, finished = 0, size = 1;
    MPI_Initialized(&inited);
    MPI_Finalized(&finished);
    if (inited && !finished)
        MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}
