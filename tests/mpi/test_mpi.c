/* libhwnas_mpi (run under mpirun -np 3 by meson): hwnas_search_run_mpi
 * gives the archive of hwnas_search_run for every strategy with the
 * candidates estimated on the workers only, over MPI_COMM_WORLD and over a
 * split communicator; bad options, a NULL search and a worker whose search
 * differs are errors that say so. Every test is collective: all ranks run
 * it in the same order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <hwnas/hwnas.h>
#include <hwnas/mpi.h>

typedef struct counter {
    size_t calls;       /* candidates this process estimated */
    hwnas_estimator *e; /* the custom estimator: the search borrows it */
} counter;

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A function of the net and of the candidate's random stream; fails a
 * few nets, as a trainer might. */
static int score_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                    void *user_data)
{
    (void)key;
    counter *c = user_data;
    c->calls++;
    if (hwnas_net_hash(net) % 7 == 0) {
        hwnas_estimator_set_error("simulated training failure");
        return 1;
    }
    values[0] = (double)hwnas_net_params(net) * 1e-4 + (double)(mix(stream) >> 11) * 0x1p-53;
    return 0;
}

static hwnas_search *make(hwnas_context *ctx, const char *strategy, const char *sopts,
                          const char *space_opts, counter *c)
{
    hwnas_search *s;
    if (hwnas_search_new(&s, ctx, "cell", space_opts, strategy, sopts,
                         "objectives=score:max,macs:min;budget=30;batch=5") != HWNAS_OK)
        fail_msg("search_new: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_estimator_new_custom(&c->e, ctx, "score", "score:1", score_cb, c),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, c->e), HWNAS_OK);
    return s;
}

/* The archive as text: key, every metric, the error. */
static char *archive_text(const hwnas_search *s)
{
    size_t cap = 1 << 16, len = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    t[0] = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        len += (size_t)snprintf(t + len, cap - len, "%zu %s", i, hwnas_search_key(s, i));
        for (size_t m = 0; m < hwnas_search_metric_count(s); m++) {
            double v;
            hwnas_search_metric(s, i, hwnas_search_metric_name(s, m), &v);
            len += (size_t)snprintf(t + len, cap - len, " %.17g", v);
        }
        const char *err = hwnas_search_error(s, i);
        len += (size_t)snprintf(t + len, cap - len, " %s\n", err ? err : "-");
        assert_true(len < cap - 256);
    }
    return t;
}

static const char *const strategies[][2] = {
    {"nsga2", "population=10"},
    {"random", ""},
    {"ea", "mode=regularized;population=8;sample=3"},
    {"reinforce", ""},
};

/* Same archive as one process, every estimate made on a worker. */
static void test_same_archive(void **state)
{
    (void)state;
    int rank = hwnas_mpi_world_rank();
    for (size_t k = 0; k < sizeof strategies / sizeof strategies[0]; k++) {
        hwnas_context *ctx;
        assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=9"), HWNAS_OK);
        counter c = {0};
        hwnas_search *s = make(ctx, strategies[k][0], strategies[k][1], "channels=4;cells=1", &c);
        if (hwnas_search_run_mpi(s, MPI_COMM_WORLD, "heartbeat=0.2;timeout=20") != HWNAS_OK)
            fail_msg("%s on rank %d: %s", strategies[k][0], rank, hwnas_error_last());
        unsigned long mine = (unsigned long)c.calls, workers = 0;
        MPI_Reduce(&mine, &workers, 1, MPI_UNSIGNED_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rank == 0) {
            assert_int_equal(c.calls, 0); /* rank 0 estimated nothing itself */
            assert_int_equal(hwnas_search_count(s), 30);
            counter lc = {0};
            hwnas_search *local = make(ctx, strategies[k][0], strategies[k][1],
                                       "channels=4;cells=1", &lc);
            assert_int_equal(hwnas_search_run(local), HWNAS_OK);
            char *want = archive_text(local), *got = archive_text(s);
            assert_string_equal(got, want);
            assert_true(strstr(got, "simulated training failure") != NULL);
            assert_int_equal(workers, lc.calls); /* each candidate estimated once */
            free(want);
            free(got);
            hwnas_search_free(local);
            hwnas_estimator_free(lc.e);
        } else {
            assert_int_equal(hwnas_search_count(s), 0); /* a worker keeps nothing */
        }
        hwnas_search_free(s);
        hwnas_estimator_free(c.e);
        hwnas_context_free(ctx);
    }
}

/* schedule=async: every worker busy, the archive in completion order. A
 * slow candidate (sleeping by its stream) finishes after faster ones asked
 * later. Replaying the journal in one process - asking in the same pattern
 * and taking its completions - gives the same archive: the search is a
 * function of the completion order. */
static int slow_score_cb(const hwnas_net *net, const char *key, uint64_t stream,
                         double *values, void *user_data)
{
    if (stream % 4 == 1) {
        struct timespec ts = {0, 30 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return score_cb(net, key, stream, values, user_data);
}

static void test_async(void **state)
{
    (void)state;
    int rank = hwnas_mpi_world_rank();
    char dir[64] = "";
    if (rank == 0)
        assert_non_null(mkdtemp(strcpy(dir, "/tmp/hwnas-mpi-async-XXXXXX")));
    for (size_t k = 1; k < sizeof strategies / sizeof strategies[0]; k++) {
        hwnas_context *ctx;
        assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=9;log_level=error"), HWNAS_OK);
        char opts[256], out[128] = "";
        if (rank == 0)
            snprintf(out, sizeof out, "%s/%s", dir, strategies[k][0]);
        snprintf(opts, sizeof opts, "objectives=score:max,macs:min;budget=24;schedule=async%s%s",
                 rank == 0 ? ";out=" : "", out);
        hwnas_search *s;
        if (hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1", strategies[k][0],
                             strategies[k][1], opts) != HWNAS_OK)
            fail_msg("search_new: %s", hwnas_error_last());
        counter c = {0};
        assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
        assert_int_equal(hwnas_estimator_new_custom(&c.e, ctx, "score", "score:1",
                                                    slow_score_cb, &c),
                         HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator_object(s, c.e), HWNAS_OK);
        if (hwnas_search_run_mpi(s, MPI_COMM_WORLD, "heartbeat=0.2;timeout=20") != HWNAS_OK)
            fail_msg("async %s on rank %d: %s", strategies[k][0], rank, hwnas_error_last());
        if (rank == 0) {
            assert_int_equal(c.calls, 0);
            assert_int_equal(hwnas_search_count(s), 24);
            char *got = archive_text(s);
            hwnas_search_free(s); /* its lock on the directory */
            s = NULL;
            hwnas_search *r;
            if (hwnas_search_resume(&r, ctx, out, NULL) != HWNAS_OK)
                fail_msg("resume: %s", hwnas_error_last());
            counter rc = {0};
            assert_int_equal(hwnas_estimator_new_custom(&rc.e, ctx, "score", "score:1",
                                                        slow_score_cb, &rc),
                             HWNAS_OK);
            assert_int_equal(hwnas_search_add_estimator_object(r, rc.e), HWNAS_OK);
            if (hwnas_search_run(r) != HWNAS_OK)
                fail_msg("replay %s: %s", strategies[k][0], hwnas_error_last());
            assert_int_equal(rc.calls, 0); /* everything came from the journal */
            char *again = archive_text(r);
            assert_string_equal(again, got);
            free(got);
            free(again);
            hwnas_search_free(r);
            hwnas_estimator_free(rc.e);
        }
        hwnas_search_free(s);
        hwnas_estimator_free(c.e);
        hwnas_context_free(ctx);
    }
    if (rank == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

/* Over a split communicator: ranks 0-1 together, rank 2 alone (which is
 * hwnas_search_run); both get the one-process archive. */
static void test_split_comm(void **state)
{
    (void)state;
    int rank = hwnas_mpi_world_rank();
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, rank < 2 ? 0 : 1, rank, &half);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=4"), HWNAS_OK);
    counter c = {0};
    hwnas_search *s = make(ctx, "nsga2", "population=10", "channels=4;cells=1", &c);
    assert_int_equal(hwnas_search_run_mpi(s, half, NULL), HWNAS_OK);
    int sub;
    MPI_Comm_rank(half, &sub);
    if (sub == 0) {
        counter lc = {0};
        hwnas_search *local = make(ctx, "nsga2", "population=10", "channels=4;cells=1", &lc);
        assert_int_equal(hwnas_search_run(local), HWNAS_OK);
        char *want = archive_text(local), *got = archive_text(s);
        assert_string_equal(got, want);
        free(want);
        free(got);
        hwnas_search_free(local);
        hwnas_estimator_free(lc.e);
    }
    hwnas_search_free(s);
    hwnas_estimator_free(c.e);
    hwnas_context_free(ctx);
    MPI_Comm_free(&half);
    MPI_Barrier(MPI_COMM_WORLD);
}

/* Errors found before any message: every rank fails the same way. */
static void test_bad_calls(void **state)
{
    (void)state;
    assert_int_equal(hwnas_search_run_mpi(NULL, MPI_COMM_WORLD, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_search_run_mpi_world(NULL, NULL), HWNAS_EINVAL);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    counter c = {0};
    hwnas_search *s = make(ctx, "random", "", "channels=4;cells=1", &c);
    assert_int_equal(hwnas_search_run_mpi(s, MPI_COMM_WORLD, "heartbeat=-1"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "heartbeat"));
    assert_int_equal(hwnas_search_run_mpi(s, MPI_COMM_WORLD, "beat=1"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "timeout")); /* the valid keys are listed */
    assert_int_equal(hwnas_search_count(s), 0);
    hwnas_search_free(s);
    hwnas_estimator_free(c.e);
    hwnas_context_free(ctx);
}

/* Rank 2 built another search: rank 0 fails and says which rank, what. */
static void test_mismatch(void **state)
{
    (void)state;
    int rank = hwnas_mpi_world_rank();
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=2"), HWNAS_OK);
    counter c = {0};
    hwnas_search *s = make(ctx, "random", "", rank == 2 ? "channels=8;cells=1"
                                                        : "channels=4;cells=1", &c);
    int rc = hwnas_search_run_mpi(s, MPI_COMM_WORLD, "timeout=20");
    if (rank == 0) {
        assert_int_equal(rc, HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "rank 2"));
        assert_non_null(strstr(hwnas_error_last(), "channels=8"));
    } else {
        assert_int_equal(rc, HWNAS_OK);
    }
    if (rank == 2)
        assert_int_equal(c.calls, 0); /* never given a job (rank 1 may have had some) */
    hwnas_search_free(s);
    hwnas_estimator_free(c.e);
    hwnas_context_free(ctx);
    MPI_Barrier(MPI_COMM_WORLD);
}

static void test_world(void **state)
{
    (void)state;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    assert_int_equal(hwnas_mpi_world_rank(), rank);
    assert_int_equal(hwnas_mpi_world_size(), size);
    assert_int_equal(size, 3); /* meson runs this under mpirun -np 3 */
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_world),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_same_archive),
        cmocka_unit_test(test_async),
        cmocka_unit_test(test_split_comm),
        cmocka_unit_test(test_mismatch),
    };
    char name[32];
    snprintf(name, sizeof name, "mpi (rank %d)", hwnas_mpi_world_rank());
    int failed = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    /* No rank was lost: hwnas_mpi_finalize finalises (then says rank 0 of
     * 1), and a second call is a no-op. */
    int skipped = hwnas_mpi_finalize();
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (skipped != 0 || !finalized || hwnas_mpi_world_rank() != 0 ||
        hwnas_mpi_world_size() != 1 || hwnas_mpi_finalize() != 0) {
        fprintf(stderr, "hwnas_mpi_finalize: skipped %d, finalized %d\n", skipped, finalized);
        failed = 1;
    }
    return failed ? 1 : 0;
}
