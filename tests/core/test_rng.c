/* The random-number generator: reproducibility, streams, distributions. */
#include <math.h>
#include <string.h>

#include "core_tests.h"
#include "core/core_internal.h"

static hwnas_context *ctx;

static int setup(void **state)
{
    (void)state;
    return hwnas_context_new(&ctx, NULL);
}

static int teardown(void **state)
{
    (void)state;
    hwnas_context_free(ctx);
    return 0;
}

static void test_reference_sequence(void **state)
{
    (void)state;
    /* xoshiro256** from the reference state {1, 2, 3, 4}: the first outputs
     * of Vigna's reference implementation. */
    hwnas__rng r = {{1, 2, 3, 4}};
    assert_true(hwnas__rng_u64(&r) == UINT64_C(11520));
    assert_true(hwnas__rng_u64(&r) == UINT64_C(0));
    assert_true(hwnas__rng_u64(&r) == UINT64_C(1509978240));
    assert_true(hwnas__rng_u64(&r) == UINT64_C(1215971899390074240));
    /* SplitMix64 from 1234567, as in its reference implementation. */
    uint64_t sm = 1234567;
    assert_true(hwnas__splitmix64(&sm) == UINT64_C(6457827717110365317));
    assert_true(hwnas__splitmix64(&sm) == UINT64_C(3203168211198807973));
}

static void test_same_seed_same_stream(void **state)
{
    (void)state;
    hwnas_rng *a, *b;
    assert_int_equal(hwnas_rng_new(&a, ctx, 7, 3), HWNAS_OK);
    assert_int_equal(hwnas_rng_new(&b, ctx, 7, 3), HWNAS_OK);
    for (int i = 0; i < 10000; i++)
        assert_true(hwnas_rng_u64(a) == hwnas_rng_u64(b));
    hwnas_rng_reseed(b, 7, 4);
    hwnas_rng_reseed(a, 7, 3);
    int same = 0;
    for (int i = 0; i < 1000; i++)
        same += hwnas_rng_u64(a) == hwnas_rng_u64(b);
    assert_int_equal(same, 0);
    hwnas_rng_free(a);
    hwnas_rng_free(b);
    hwnas_rng_free(NULL);
    assert_int_equal(hwnas_rng_new(NULL, ctx, 1, 1), HWNAS_EINVAL);
    assert_int_equal(hwnas_rng_new(&a, NULL, 1, 1), HWNAS_EINVAL);
}

static void test_streams_are_independent(void **state)
{
    (void)state;
    /* First outputs of 4096 neighbouring streams and 4096 neighbouring
     * seeds: no repeats,
     * and each output bit is set about half the time. */
    enum { N = 4096 };
    static uint64_t first[2 * N];
    for (uint64_t k = 0; k < N; k++) {
        hwnas__rng r;
        hwnas__rng_seed(&r, 1, k);
        first[k] = hwnas__rng_u64(&r);
        hwnas__rng_seed(&r, k + 10000, 1);
        first[N + k] = hwnas__rng_u64(&r);
    }
    for (size_t i = 0; i < 2 * N; i++)
        for (size_t j = i + 1; j < 2 * N; j++)
            assert_true(first[i] != first[j]);
    for (int bit = 0; bit < 64; bit++) {
        int ones = 0;
        for (size_t i = 0; i < N; i++)
            ones += (int)((first[i] >> bit) & 1);
        /* Binomial(4096, 1/2): sd 32; 6 sd is a 1e-9 false alarm. */
        assert_true(ones > 2048 - 192 && ones < 2048 + 192);
    }
}

static void test_below_and_uniform(void **state)
{
    (void)state;
    hwnas__rng r;
    hwnas__rng_seed(&r, 99, 0);
    enum { K = 7, DRAWS = 70000 };
    long counts[K] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = hwnas__rng_below(&r, K);
        assert_true(x < K);
        counts[x]++;
    }
    double chi2 = 0;
    for (int k = 0; k < K; k++) {
        double d = (double)counts[k] - DRAWS / (double)K;
        chi2 += d * d / (DRAWS / (double)K);
    }
    assert_true(chi2 < 30.0); /* 6 degrees of freedom: p < 1e-4 */
    assert_int_equal(hwnas__rng_below(&r, 0), 0);
    assert_int_equal(hwnas__rng_below(&r, 1), 0);
    uint64_t big = UINT64_C(0xC000000000000001);
    for (int i = 0; i < 1000; i++)
        assert_true(hwnas__rng_below(&r, big) < big);
    double sum = 0;
    for (int i = 0; i < DRAWS; i++) {
        double u = hwnas__rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    assert_true(fabs(sum / DRAWS - 0.5) < 0.01);
}

static void test_normal(void **state)
{
    (void)state;
    hwnas_rng *r;
    assert_int_equal(hwnas_rng_new(&r, ctx, 5, 5), HWNAS_OK);
    double s = 0, s2 = 0;
    enum { N = 100000 };
    for (int i = 0; i < N; i++) {
        double x = hwnas_rng_normal(r);
        assert_true(isfinite(x));
        s += x;
        s2 += x * x;
    }
    double mean = s / N, var = s2 / N - mean * mean;
    assert_true(fabs(mean) < 0.02);
    assert_true(fabs(var - 1.0) < 0.02);
    hwnas_rng_free(r);
}

static void test_save_load(void **state)
{
    (void)state;
    hwnas_rng *a, *b;
    assert_int_equal(hwnas_rng_new(&a, ctx, 11, 0), HWNAS_OK);
    assert_int_equal(hwnas_rng_new(&b, ctx, 0, 0), HWNAS_OK);
    for (int i = 0; i < 17; i++)
        hwnas_rng_u64(a);
    uint8_t st[HWNAS_RNG_STATE_SIZE];
    hwnas_rng_save(a, st);
    assert_int_equal(hwnas_rng_load(b, st), HWNAS_OK);
    for (int i = 0; i < 100; i++)
        assert_true(hwnas_rng_u64(a) == hwnas_rng_u64(b));
    hwnas_rng_save(b, st);
    uint8_t zero[HWNAS_RNG_STATE_SIZE] = {0};
    assert_int_equal(hwnas_rng_load(b, zero), HWNAS_EINVAL);
    hwnas_rng_load(a, st);
    assert_true(hwnas_rng_u64(a) == hwnas_rng_u64(b)); /* b unchanged by the failed load */
    hwnas_rng_free(a);
    hwnas_rng_free(b);
}

static void test_pinned_sequence(void **state)
{
    (void)state;
    /* The (seed, stream) -> sequence mapping is a contract (rng.h): these
     * values must never change within ABI major 0. */
    hwnas__rng r;
    hwnas__rng_seed(&r, 0, 0);
    uint64_t a = hwnas__rng_u64(&r), b = hwnas__rng_u64(&r);
    hwnas__rng_seed(&r, 42, 1);
    uint64_t c = hwnas__rng_u64(&r);
    assert_true(a == UINT64_C(6117606463337864471));
    assert_true(b == UINT64_C(13224515574460851640));
    assert_true(c == UINT64_C(18199874562553405341));
}

int run_rng_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_sequence),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_streams_are_independent),
        cmocka_unit_test(test_below_and_uniform),
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_pinned_sequence),
    };
    return cmocka_run_group_tests_name("core/rng", tests, setup, teardown);
}
