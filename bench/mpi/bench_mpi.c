/*
 * Distributed search figures (doc/distributed.md), printed, never asserted.
 *
 *   mpirun -np N bench_mpi scale SLEEP_MS BUDGET BATCH
 *       candidates per second with an estimator that sleeps SLEEP_MS per
 *       candidate (a latency-bound estimate: a measurement on a device, a
 *       queue): N-1 workers should give N-1 times one process's rate.
 *   bench_mpi overhead BUDGET DIR
 *       rank 0's own work without estimation: ask, decode, tell and the
 *       journal (one fsync per batch of 64) in DIR, with an estimator that costs
 *       nothing, in one process; and the same without a journal.
 *   mpirun -np N bench_mpi overhead-mpi BUDGET DIR
 *       the same through the workers: what rank 0 sustains with messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hwnas/hwnas.h>
#include <hwnas/mpi.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* This process's CPU time (all its threads): what rank 0 spends, whatever
 * else the machine runs. */
static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_mpi: %s: %s\n", what, hwnas_error_last());
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static int sleep_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                    void *user_data)
{
    (void)key;
    double ms = *(const double *)user_data;
    if (ms > 0) {
        struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - 1e3 * (double)(time_t)(ms / 1e3)) * 1e6)};
        nanosleep(&ts, NULL);
    }
    values[0] = (double)hwnas_net_params(net) + (double)(stream % 97);
    return 0;
}

/* The scaling runs search the NB201 cell space; the overhead runs the
 * default job's CGP space, where 20,000 random candidates are nearly all
 * distinct (the cell space has 6,466 distinct cells: past a few thousand,
 * the random strategy's duplicate retries would be what is measured). */
static hwnas_search *make(hwnas_context *ctx, const char *space, const char *strategy,
                          long budget, long batch, const char *out, double *ms)
{
    char opts[512];
    snprintf(opts, sizeof opts, "objectives=a:max;budget=%ld;batch=%ld;out=\"%s\";"
             "snapshot_every=1000000", budget, batch, out);
    hwnas_search *s;
    hwnas_estimator *e;
    if (hwnas_search_new(&s, ctx, space, strcmp(space, "cell") == 0 ? "channels=4;cells=1" : "",
                         strategy, "", opts) != HWNAS_OK ||
        hwnas_estimator_new_custom(&e, ctx, "sleep", "a:1", sleep_cb, ms) != HWNAS_OK ||
        hwnas_search_add_estimator_object(s, e) != HWNAS_OK)
        die("search");
    return s;
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    int rank = hwnas_mpi_world_rank(), size = hwnas_mpi_world_size();
    if (argc < 4) {
        if (rank == 0)
            fprintf(stderr, "usage: bench_mpi scale SLEEP_MS BUDGET BATCH | overhead BUDGET DIR"
                            " | overhead-mpi BUDGET DIR\n");
        MPI_Finalize();
        return 2;
    }
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1;seed=1") != HWNAS_OK)
        die("context");
    if (strcmp(argv[1], "scale") == 0 && argc >= 5) {
        double ms = atof(argv[2]);
        long budget = atol(argv[3]), batch = atol(argv[4]);
        hwnas_search *s = make(ctx, "cell", "random", budget, batch, "", &ms);
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        if (hwnas_search_run_mpi(s, MPI_COMM_WORLD, NULL) != HWNAS_OK)
            die("run");
        double t = now() - t0;
        int workers = size > 1 ? size - 1 : 1;
        if (rank == 0)
            printf("scale ranks %d workers %d sleep_ms %g candidates %zu seconds %.3f "
                   "throughput %.2f/s ideal %.2f/s efficiency %.0f%%\n",
                   size, workers, ms, hwnas_search_count(s), t, (double)budget / t,
                   workers * 1e3 / ms, 100.0 * ((double)budget / t) / (workers * 1e3 / ms));
        hwnas_search_free(s);
    } else if (strcmp(argv[1], "overhead") == 0 && rank == 0) {
        double ms = 0;
        long budget = atol(argv[2]);
        /* DIR "-": no journal run (a profile of the rest). */
        for (int journal = strcmp(argv[3], "-") != 0; journal >= 0; journal--) {
            char out[4096];
            snprintf(out, sizeof out, "%s/overhead-%d", argv[3], journal);
            hwnas_search *s = make(ctx, "cgp", "random", budget, 64, journal ? out : "", &ms);
            double t0 = now(), c0 = cpu();
            if (hwnas_search_run(s) != HWNAS_OK)
                die("run");
            double t = now() - t0, c = cpu() - c0;
            printf("overhead one process, %s: %zu candidates in %.3f s = %.0f candidates/s "
                   "(%.3f CPU s = %.0f candidates per CPU s)\n",
                   journal ? "journal fsync'd per batch" : "no journal", hwnas_search_count(s),
                   t, (double)hwnas_search_count(s) / t, c, (double)hwnas_search_count(s) / c);
            hwnas_search_free(s);
        }
    } else if (strcmp(argv[1], "overhead-mpi") == 0) {
        double ms = 0;
        long budget = atol(argv[2]);
        for (int journal = strcmp(argv[3], "-") != 0; journal >= 0; journal--) {
            char out[4096];
            snprintf(out, sizeof out, "%s/overhead-mpi-%d", argv[3], journal);
            hwnas_search *s = make(ctx, "cgp", "random", budget, 64, journal && rank == 0 ? out : "",
                                   &ms);
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = now(), c0 = cpu();
            if (hwnas_search_run_mpi(s, MPI_COMM_WORLD, NULL) != HWNAS_OK)
                die("run");
            double t = now() - t0, c = cpu() - c0;
            if (rank == 0)
                printf("overhead %d ranks, %s: %zu candidates in %.3f s = %.0f candidates/s "
                       "(rank 0: %.3f CPU s = %.0f candidates per CPU s)\n",
                       size, journal ? "journal fsync'd per batch" : "no journal",
                       hwnas_search_count(s), t, (double)hwnas_search_count(s) / t, c,
                       (double)hwnas_search_count(s) / c);
            hwnas_search_free(s);
        }
    }
    hwnas_context_free(ctx);
    MPI_Finalize();
    return 0;
}
