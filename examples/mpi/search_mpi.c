/*
 * A search spread over MPI ranks: rank 0 owns the search and drives it
 * with ask/tell; the other ranks decode and estimate the candidates it
 * sends them. Any estimator works the same way, including trained
 * accuracy, which is where spreading pays.
 *
 *   mpirun -np 3 search_mpi [--single] BUDGET
 *
 * prints the archive (evaluation, genotype, metrics) so that a run on N
 * ranks can be compared with a single-process run (--single) of the same
 * seed: they are identical.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwnas/hwnas.h>

#define SPACE "cell"
#define SPACE_OPTIONS "channels=4;cells=1"
#define STRATEGY "ea"
#define STRATEGY_OPTIONS "mode=regularized;population=8;sample=3"
#define ESTIMATOR "cost"
#define BATCH 6

enum { TAG_WORK = 1, TAG_RESULT = 2, TAG_STOP = 3 };

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

static hwnas_search *make_search(hwnas_context *ctx, long budget)
{
    char opts[256];
    snprintf(opts, sizeof opts, "objectives=macs:min,params:max;budget=%ld;batch=%d",
             budget, BATCH);
    hwnas_search *s;
    if (hwnas_search_new(&s, ctx, SPACE, SPACE_OPTIONS, STRATEGY, STRATEGY_OPTIONS, opts) !=
            HWNAS_OK ||
        hwnas_search_add_estimator(s, ESTIMATOR, NULL) != HWNAS_OK)
        die("search");
    return s;
}

/* Rank 0: ask a batch, deal it out, collect, tell in ask order. */
static void drive(hwnas_context *ctx, long budget, int ranks)
{
    hwnas_search *s = make_search(ctx, budget);
    const hwnas_space *space = hwnas_search_space(s);
    size_t ng = hwnas_space_gene_count(space), nm = hwnas_search_metric_count(s);
    uint32_t *genes = malloc(BATCH * ng * sizeof *genes);
    uint64_t ids[BATCH];
    double *values = malloc(BATCH * (nm + 1) * sizeof *values);
    const char **names = malloc(nm * sizeof *names);
    for (size_t m = 0; m < nm; m++)
        names[m] = hwnas_search_metric_name(s, m);
    while (hwnas_search_count(s) < (size_t)budget) {
        size_t want = (size_t)budget - hwnas_search_count(s), n;
        if (want > BATCH)
            want = BATCH;
        if (hwnas_search_ask(s, want, genes, ids, &n) != HWNAS_OK || n == 0)
            die("ask");
        for (size_t k = 0; k < n; k++)
            MPI_Send(genes + k * ng, (int)ng, MPI_UINT32_T, 1 + (int)(k % (size_t)(ranks - 1)),
                     TAG_WORK, MPI_COMM_WORLD);
        for (size_t k = 0; k < n; k++) /* each worker answers in the order it was sent */
            MPI_Recv(values + k * (nm + 1), (int)nm + 1, MPI_DOUBLE,
                     1 + (int)(k % (size_t)(ranks - 1)), TAG_RESULT, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        for (size_t k = 0; k < n; k++) {
            const double *v = values + k * (nm + 1);
            if (hwnas_search_tell(s, ids[k], v[nm] != 0 ? 0 : nm, names, v,
                                  v[nm] != 0 ? "estimation failed on a worker" : NULL) !=
                HWNAS_OK)
                die("tell");
        }
    }
    for (int r = 1; r < ranks; r++)
        MPI_Send(NULL, 0, MPI_UINT32_T, r, TAG_STOP, MPI_COMM_WORLD);
    print_archive(s);
    free(genes);
    free(values);
    free(names);
    hwnas_search_free(s);
}

/* Other ranks: decode and estimate what rank 0 sends, until told to stop. */
static void work(hwnas_context *ctx)
{
    hwnas_space *space;
    hwnas_estimator *est;
    hwnas_net *net;
    if (hwnas_space_new(&space, ctx, SPACE, SPACE_OPTIONS) != HWNAS_OK ||
        hwnas_estimator_new(&est, ctx, ESTIMATOR, NULL) != HWNAS_OK ||
        hwnas_net_new(&net, ctx) != HWNAS_OK)
        die("worker");
    size_t ng = hwnas_space_gene_count(space), nm = hwnas_estimator_metric_count(est);
    uint32_t *genes = malloc(ng * sizeof *genes);
    double *values = malloc((nm + 1) * sizeof *values);
    for (;;) {
        MPI_Status st;
        MPI_Recv(genes, (int)ng, MPI_UINT32_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        if (st.MPI_TAG == TAG_STOP)
            break;
        char *key = NULL;
        int rc = hwnas_space_decode(space, genes, net);
        if (rc == HWNAS_OK)
            rc = hwnas_space_format(space, genes, &key);
        /* The stream is not the evaluation number here: cost does not
         * draw random numbers. Estimators that do need it sent along. */
        if (rc == HWNAS_OK)
            rc = hwnas_estimator_estimate(est, net, key, 0, values);
        hwnas_free(key);
        values[nm] = rc != HWNAS_OK;
        MPI_Send(values, (int)nm + 1, MPI_DOUBLE, 0, TAG_RESULT, MPI_COMM_WORLD);
    }
    free(genes);
    free(values);
    hwnas_net_free(net);
    hwnas_estimator_free(est);
    hwnas_space_free(space);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, ranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    int single = argc > 1 && strcmp(argv[1], "--single") == 0;
    long budget = argc > 1 + single ? atol(argv[1 + single]) : 30;
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1;seed=7") != HWNAS_OK)
        die("context");
    if (single) {
        if (rank == 0) {
            hwnas_search *s = make_search(ctx, budget);
            if (hwnas_search_run(s) != HWNAS_OK)
                die("run");
            print_archive(s);
            hwnas_search_free(s);
        }
    } else if (ranks < 2) {
        fprintf(stderr, "search_mpi: run with at least 2 ranks (mpirun -np 3 ...) or --single\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    } else if (rank == 0) {
        drive(ctx, budget, ranks);
    } else {
        work(ctx);
    }
    hwnas_context_free(ctx);
    MPI_Finalize();
    return 0;
}
