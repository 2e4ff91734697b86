/* Out-of-memory walks for the Pareto toolkit: fail allocation k = 0, 1, ...
 * until the call succeeds; each failure must return HWNAS_ENOMEM, leak
 * nothing and leave the context usable, and the final result must equal
 * the one computed without failures. */
#include <math.h>
#include <string.h>

#include "strategy_tests.h"
#include "strategy/pareto_internal.h"
#include "test_alloc.h"

#define N 40

static double points[N * 5], viol[N];

typedef int (*oom_step)(hwnas_context *ctx, size_t m, double *result);

static int step_rank(hwnas_context *ctx, size_t m, double *result)
{
    uint32_t rank[N];
    size_t fronts = 0;
    int rc = hwnas_pareto_rank(rank, &fronts, ctx, points, N, m);
    for (size_t i = 0; rc == HWNAS_OK && i < N; i++)
        result[i] = rank[i];
    result[N] = (double)fronts;
    return rc;
}

static int step_rank_general(hwnas_context *ctx, size_t m, double *result)
{
    uint32_t rank[N];
    size_t fronts = 0;
    int rc = hwnas__pareto_rank_algo(rank, &fronts, ctx, points, N, m,
                                     HWNAS__PARETO_RANK_GENERAL);
    for (size_t i = 0; rc == HWNAS_OK && i < N; i++)
        result[i] = rank[i];
    result[N] = (double)fronts;
    return rc;
}

static int step_rank_constrained(hwnas_context *ctx, size_t m, double *result)
{
    uint32_t rank[N];
    size_t fronts = 0;
    int rc = hwnas_pareto_rank_constrained(rank, &fronts, ctx, points, viol, N, m);
    for (size_t i = 0; rc == HWNAS_OK && i < N; i++)
        result[i] = rank[i];
    result[N] = (double)fronts;
    return rc;
}

static int step_crowding(hwnas_context *ctx, size_t m, double *result)
{
    uint32_t rank[N];
    for (size_t i = 0; i < N; i++)
        rank[i] = (uint32_t)(i % 3);
    return hwnas_pareto_crowding(result, ctx, points, N, m, rank);
}

static int step_hypervolume(hwnas_context *ctx, size_t m, double *result)
{
    static const double ref[] = {1, 1, 1, 1, 1};
    return hwnas_pareto_hypervolume(result, ctx, points, m > 3 ? 12 : N, m, ref);
}

static void walk(const char *name, oom_step step, size_t m)
{
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "threads=1");
    assert_non_null(ctx);
    double want[N + 1] = {0}, got[N + 1] = {0};
    assert_int_equal(step(ctx, m, want), HWNAS_OK);
    long baseline = t.live;
    for (long k = 0;; k++) {
        assert_true(k < 1000);
        test_alloc_fail_from(&t, k);
        int rc = step(ctx, m, got);
        test_alloc_disarm(&t);
        assert_int_equal(t.live, baseline);
        if (rc == HWNAS_OK)
            break;
        if (rc != HWNAS_ENOMEM)
            fail_msg("%s (m = %zu): step %ld returned %d (%s)", name, m, k, rc,
                     hwnas_error_last());
    }
    assert_memory_equal(got, want, sizeof want);
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
}

static void test_oom_pareto(void **state)
{
    (void)state;
    hwnas__rng r;
    hwnas__rng_seed(&r, 11, 1);
    for (size_t i = 0; i < N * 5; i++)
        points[i] = (double)hwnas__rng_below(&r, 8) / 8;
    for (size_t i = 0; i < N; i++)
        viol[i] = hwnas__rng_below(&r, 2) ? 0 : (double)hwnas__rng_below(&r, 3);
    for (size_t m = 1; m <= 5; m++) {
        walk("rank", step_rank, m);
        walk("rank_general", step_rank_general, m);
        walk("rank_constrained", step_rank_constrained, m);
        walk("crowding", step_crowding, m);
        walk("hypervolume", step_hypervolume, m);
    }
}

int run_pareto_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_pareto),
    };
    return cmocka_run_group_tests_name("pareto-oom", tests, NULL, NULL);
}
