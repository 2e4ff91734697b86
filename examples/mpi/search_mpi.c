/*
 * A search spread over MPI ranks with libhwnas_mpi: every rank builds the
 * same search, hwnas_search_run_mpi makes rank 0 run it (strategy, journal,
 * results) and the other ranks decode and estimate the candidates it sends
 * them. Any estimator works the same way, including trained accuracy,
 * which is where spreading pays.
 *
 *   mpirun -np 3 search_mpi [--single] BUDGET
 *
 * prints the archive (evaluation, genotype, metrics) on rank 0 so that a
 * run on N ranks can be compared with a single-process run (--single) of
 * the same seed: they are identical.
 *
 * Build: cc search_mpi.c $(pkg-config --cflags --libs hwnas-mpi)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwnas/hwnas.h>
#include <hwnas/mpi.h>

static void die(const char *what)
{
    fprintf(stderr, "search_mpi: %s: %s\n", what, hwnas_error_last());
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static void print_archive(hwnas_search *s)
{
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        printf("%zu %s", i, hwnas_search_key(s, i));
        for (size_t m = 0; m < hwnas_search_metric_count(s); m++) {
            double v;
            hwnas_search_metric(s, i, hwnas_search_metric_name(s, m), &v);
            printf(" %.17g", v);
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    int single = argc > 1 && strcmp(argv[1], "--single") == 0;
    long budget = argc > 1 + single ? atol(argv[1 + single]) : 30;
    char opts[256];
    snprintf(opts, sizeof opts, "objectives=macs:min,params:max;budget=%ld;batch=6", budget);
    hwnas_context *ctx;
    hwnas_search *s;
    if (hwnas_context_new(&ctx, "threads=1;seed=7") != HWNAS_OK)
        die("context");
    /* The same calls on every rank: the workers use their copy to decode
     * and estimate, rank 0 checks that the copies match. */
    if (hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1", "ea",
                         "mode=regularized;population=8;sample=3", opts) != HWNAS_OK ||
        hwnas_search_add_estimator(s, "cost", NULL) != HWNAS_OK)
        die("search");
    int rc = single ? (hwnas_mpi_world_rank() == 0 ? hwnas_search_run(s) : HWNAS_OK)
                    : hwnas_search_run_mpi(s, MPI_COMM_WORLD, NULL);
    if (rc != HWNAS_OK)
        die("run");
    if (hwnas_mpi_world_rank() == 0)
        print_archive(s);
    hwnas_search_free(s);
    hwnas_context_free(ctx);
    hwnas_mpi_finalize(); /* MPI_Finalize, unless a worker was lost */
    return 0;
}
