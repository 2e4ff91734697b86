/* Error metrics on tables whose figures are known in closed form, the
 * content hash, tables from the caller and metadata setters. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "axmul_tests.h"
#include <hwnas/hwnas.h>

static hwnas_context *ctx;
static int32_t *table;

static int setup(void **state)
{
    (void)state;
    table = malloc(HWNAS_AXMUL_TABLE_SIZE * sizeof *table);
    return !table || hwnas_context_new(&ctx, "threads=1");
}

static int teardown(void **state)
{
    (void)state;
    free(table);
    hwnas_context_free(ctx);
    return 0;
}

static void fill_exact(int is_signed)
{
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++)
            table[a * 256 + b] = is_signed ? (int8_t)a * (int8_t)b : a * b;
}

static hwnas_axmul *from_table(const char *name, int is_signed)
{
    hwnas_axmul *m = NULL;
    int rc = hwnas_axmul_new_table(&m, ctx, name, table, is_signed);
    if (rc != HWNAS_OK)
        fail_msg("%s: %s", name, hwnas_error_last());
    return m;
}

static void near(double got, double want, const char *what)
{
    if (fabs(got - want) > 1e-12 * (1 + fabs(want)))
        fail_msg("%s: %.17g, expected %.17g", what, got, want);
}

static void test_plus_one(void **state)
{
    (void)state;
    fill_exact(0);
    for (int i = 0; i < HWNAS_AXMUL_TABLE_SIZE; i++)
        table[i] += 1;
    hwnas_axmul *m = from_table("plus_one", 0);
    double mre = 0;
    for (int a = 1; a < 256; a++)
        for (int b = 1; b < 256; b++)
            mre += 1.0 / (a * b);
    mre /= 255.0 * 255.0;
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MAE), 1, "mae");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCE), 1, "wce");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_EP), 1, "ep");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_BIAS), 1, "bias");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MSE), 1, "mse");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MRE), mre, "mre");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCRE), 1, "wcre");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MAE_PCT), 100.0 / 65536, "mae_pct");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MRE_PCT), 100 * mre, "mre_pct");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_EP_PCT), 100, "ep_pct");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MSE_PCT), 100.0 / 65536 / 65536, "mse_pct");
    assert_true(isnan(hwnas_axmul_power(m)) && isnan(hwnas_axmul_area(m)));
    assert_string_equal(hwnas_axmul_source(m), "");
    hwnas_axmul_free(m);
}

static void test_single_error(void **state)
{
    (void)state;
    fill_exact(0);
    table[3 * 256 + 5] = 25; /* a=3, b=5: e = +10 */
    hwnas_axmul *m = from_table("one_wrong", 0);
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MAE), 10.0 / 65536, "mae");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCE), 10, "wce");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCE_PCT), 1000.0 / 65536, "wce_pct");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_EP), 1.0 / 65536, "ep");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MRE), 10.0 / 15 / 65025, "mre");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCRE), 10.0 / 15, "wcre");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCRE_PCT), 1000.0 / 15, "wcre_pct");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_BIAS), 10.0 / 65536, "bias");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_BIAS_PCT), 1000.0 / 65536 / 65536, "bias_pct");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MSE), 100.0 / 65536, "mse");
    /* Errors where a*b = 0 count in every metric but the relative ones. */
    table[3 * 256 + 5] = 15;
    table[0 * 256 + 7] = 4;
    hwnas_axmul *z = from_table("zero_row", 0);
    near(hwnas_axmul_metric(z, HWNAS_AXMUL_EP), 1.0 / 65536, "ep at a*b=0");
    near(hwnas_axmul_metric(z, HWNAS_AXMUL_MRE), 0, "mre at a*b=0");
    near(hwnas_axmul_metric(z, HWNAS_AXMUL_WCRE), 0, "wcre at a*b=0");
    assert_true(hwnas_axmul_hash(m) != hwnas_axmul_hash(z));
    hwnas_axmul_free(z);
    hwnas_axmul_free(m);
}

static void test_constant_zero(void **state)
{
    (void)state;
    /* EvoApproxLib's mul8u_199Z: mae_pct 24.81, wce_pct 99.22, ep_pct 99.22,
     * mre_pct 100.00, wcre_pct 100.00. */
    memset(table, 0, HWNAS_AXMUL_TABLE_SIZE * sizeof *table);
    hwnas_axmul *m = from_table("zero", 0);
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MAE), 32640.0 * 32640 / 65536, "mae");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCE), 65025, "wce");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_BIAS), -32640.0 * 32640 / 65536, "bias");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_EP_PCT), 65025 * 100.0 / 65536, "ep_pct");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MRE_PCT), 100, "mre_pct");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCRE_PCT), 100, "wcre_pct");
    hwnas_axmul_free(m);
}

static void test_signed_metrics(void **state)
{
    (void)state;
    fill_exact(1);
    table[255 * 256 + 255] = -1; /* a = b = -1: e = -2 */
    table[128 * 256 + 1] = -126; /* a = -128, b = 1: e = +2 */
    hwnas_axmul *m = from_table("signed_two", 1);
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_BIAS), 0, "bias");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MAE), 4.0 / 65536, "mae");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_WCRE), 2, "wcre");
    near(hwnas_axmul_metric(m, HWNAS_AXMUL_MRE), (2.0 + 2.0 / 128) / 65025, "mre");
    assert_int_equal(hwnas_axmul_product(m, -1, -1), -1);
    hwnas_axmul_free(m);
}

static void test_metric_names(void **state)
{
    (void)state;
    for (int32_t i = 0; i < HWNAS_AXMUL_METRIC_COUNT; i++)
        assert_int_equal(hwnas_axmul_metric_index(hwnas_axmul_metric_name(i)), i);
    assert_string_equal(hwnas_axmul_metric_name(HWNAS_AXMUL_WCRE_PCT), "wcre_pct");
    assert_null(hwnas_axmul_metric_name(HWNAS_AXMUL_METRIC_COUNT));
    assert_null(hwnas_axmul_metric_name(-1));
    assert_int_equal(hwnas_axmul_metric_index("accuracy"), -1);
    assert_int_equal(hwnas_axmul_metric_index(NULL), -1);
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_new(&m, ctx, "exact"), HWNAS_OK);
    assert_true(isnan(hwnas_axmul_metric(m, 99)));
    hwnas_axmul_free(m);
}

static void test_hash(void **state)
{
    (void)state;
    fill_exact(0);
    hwnas_axmul *a = from_table("a", 0), *b = from_table("b", 0), *e = NULL;
    assert_int_equal(hwnas_axmul_new(&e, ctx, "exact"), HWNAS_OK);
    assert_true(hwnas_axmul_hash(a) == hwnas_axmul_hash(b));
    assert_true(hwnas_axmul_hash(a) == hwnas_axmul_hash(e));
    /* The hash is part of the contract (doc/axmul.md): pinned. */
    assert_true(hwnas_axmul_hash(e) == UINT64_C(0xbdfedb63baa9570b));
    table[65535] ^= 1;
    hwnas_axmul *c = from_table("c", 0);
    assert_true(hwnas_axmul_hash(a) != hwnas_axmul_hash(c));
    hwnas_axmul_free(a);
    hwnas_axmul_free(b);
    hwnas_axmul_free(c);
    hwnas_axmul_free(e);
    /* Same 16-bit patterns, other signedness: another hash. */
    memset(table, 0, HWNAS_AXMUL_TABLE_SIZE * sizeof *table);
    a = from_table("zu", 0);
    b = from_table("zs", 1);
    assert_true(hwnas_axmul_hash(a) != hwnas_axmul_hash(b));
    hwnas_axmul_free(a);
    hwnas_axmul_free(b);
}

static void test_table_errors(void **state)
{
    (void)state;
    hwnas_axmul *m = (hwnas_axmul *)&m;
    fill_exact(0);
    table[2 * 256 + 9] = -1;
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, "neg", table, 0), HWNAS_EINVAL);
    assert_null(m);
    assert_non_null(strstr(hwnas_error_last(), "a=2, b=9"));
    fill_exact(1);
    table[255 * 256 + 0] = 40000;
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, "big", table, 1), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "a=-1, b=0"));
    table[255 * 256 + 0] = 0;
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, "bad name", table, 1), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "bad name"));
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, "", table, 1), HWNAS_EINVAL);
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, "x", table, 2), HWNAS_EINVAL);
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, "x", NULL, 0), HWNAS_EINVAL);
    char long_name[80];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[79] = 0;
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, long_name, table, 1), HWNAS_EINVAL);
    long_name[63] = 0;
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, long_name, table, 1), HWNAS_OK);
    hwnas_axmul_free(m);
}

static void test_setters(void **state)
{
    (void)state;
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_new(&m, ctx, "drum:k=5"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_set_cost(m, 0.25, 0.5), HWNAS_OK);
    assert_true(hwnas_axmul_power(m) == 0.25 && hwnas_axmul_area(m) == 0.5);
    assert_int_equal(hwnas_axmul_set_cost(m, -1, 0.5), HWNAS_EINVAL);
    assert_int_equal(hwnas_axmul_set_cost(m, INFINITY, 0.5), HWNAS_EINVAL);
    assert_int_equal(hwnas_axmul_set_cost(m, NAN, NAN), HWNAS_OK);
    assert_true(isnan(hwnas_axmul_power(m)));
    assert_int_equal(hwnas_axmul_set_name(m, "my_drum"), HWNAS_OK);
    assert_string_equal(hwnas_axmul_name(m), "my_drum");
    assert_int_equal(hwnas_axmul_set_name(m, "my drum"), HWNAS_EINVAL);
    assert_string_equal(hwnas_axmul_name(m), "my_drum");
    assert_int_equal(hwnas_axmul_set_source(m, "synthesised by hand, 45 nm"), HWNAS_OK);
    assert_string_equal(hwnas_axmul_source(m), "synthesised by hand, 45 nm");
    assert_int_equal(hwnas_axmul_set_source(m, "two\nlines"), HWNAS_EINVAL);
    assert_string_equal(hwnas_axmul_source(m), "synthesised by hand, 45 nm");
    hwnas_axmul_free(m);
}

int run_metrics_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plus_one),
        cmocka_unit_test(test_single_error),
        cmocka_unit_test(test_constant_zero),
        cmocka_unit_test(test_signed_metrics),
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_table_errors),
        cmocka_unit_test(test_setters),
    };
    return cmocka_run_group_tests_name("axmul metrics", tests, setup, teardown);
}
