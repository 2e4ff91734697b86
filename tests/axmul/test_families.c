/* Built-in families: their rules at hand-computed points, canonical names,
 * the cost model and spec errors. */
#include <math.h>
#include <string.h>

#include "axmul_tests.h"
#include <hwnas/hwnas.h>

static hwnas_context *ctx;

static int setup(void **state)
{
    (void)state;
    return hwnas_context_new(&ctx, "threads=1");
}

static int teardown(void **state)
{
    (void)state;
    hwnas_context_free(ctx);
    return 0;
}

static hwnas_axmul *make(const char *spec)
{
    hwnas_axmul *m = NULL;
    int rc = hwnas_axmul_new(&m, ctx, spec);
    if (rc != HWNAS_OK)
        fail_msg("%s: %s", spec, hwnas_error_last());
    return m;
}

static int32_t prod(const char *spec, int a, int b)
{
    hwnas_axmul *m = make(spec);
    int32_t v = hwnas_axmul_product(m, a, b);
    hwnas_axmul_free(m);
    return v;
}

static uint64_t hash_of(const char *spec)
{
    hwnas_axmul *m = make(spec);
    uint64_t h = hwnas_axmul_hash(m);
    hwnas_axmul_free(m);
    return h;
}

static void test_exact(void **state)
{
    (void)state;
    hwnas_axmul *m = make("exact");
    const int32_t *t = hwnas_axmul_table(m);
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++)
            assert_int_equal(t[a * 256 + b], a * b);
    for (int i = 0; i < HWNAS_AXMUL_METRIC_COUNT; i++)
        assert_true(hwnas_axmul_metric(m, i) == 0.0);
    assert_true(hwnas_axmul_power(m) == 1.0 && hwnas_axmul_area(m) == 1.0);
    assert_int_equal(hwnas_axmul_is_signed(m), 0);
    assert_string_equal(hwnas_axmul_name(m), "exact");
    assert_string_equal(hwnas_axmul_source(m), "builtin");
    hwnas_axmul_free(m);

    m = make("exact:signed=1");
    t = hwnas_axmul_table(m);
    for (int a = -128; a < 128; a++)
        for (int b = -128; b < 128; b++)
            assert_int_equal(t[(a & 255) * 256 + (b & 255)], a * b);
    assert_int_equal(hwnas_axmul_is_signed(m), 1);
    assert_true(hwnas_axmul_metric(m, HWNAS_AXMUL_WCE) == 0.0);
    assert_int_equal(hwnas_axmul_product(m, -128, -128), 16384);
    assert_int_equal((int16_t)hwnas_axmul_table16(m)[(uint8_t)-3 * 256 + 5], -15);
    hwnas_axmul_free(m);
}

static void test_rules(void **state)
{
    (void)state;
    /* Operand truncation. */
    assert_int_equal(prod("trunc:t=2", 7, 7), 16);
    assert_int_equal(prod("trunc:t=2", 255, 255), 252 * 252);
    assert_int_equal(prod("trunc:t=2", 3, 200), 0);
    assert_true(hash_of("trunc:t=0") == hash_of("exact"));
    {
        hwnas_axmul *z = make("trunc:t=8"); /* constant 0: wrong wherever a*b != 0 */
        assert_true(hwnas_axmul_metric(z, HWNAS_AXMUL_EP) == 255.0 * 255 / 65536);
        assert_true(hwnas_axmul_metric(z, HWNAS_AXMUL_MRE) == 1.0);
        hwnas_axmul_free(z);
    }
    /* Partial-product truncation: column 0 is a0*b0 only. */
    assert_int_equal(prod("pptrunc:k=1", 1, 1), 0);
    assert_int_equal(prod("pptrunc:k=1", 3, 3), 8);
    assert_int_equal(prod("pptrunc:k=14", 255, 255), 16384);
    assert_int_equal(prod("pptrunc:k=15", 255, 255), 0);
    assert_int_equal(prod("pptrunc:k=14", 127, 255), 0);
    assert_true(hash_of("pptrunc:k=0") == hash_of("exact"));
    /* Broken array: rows are the weight's bits. */
    assert_true(hash_of("bam:h=0,v=7") == hash_of("pptrunc:k=7"));
    assert_int_equal(prod("bam:h=1,v=0", 255, 1), 0);
    assert_int_equal(prod("bam:h=1,v=0", 1, 255), 254);
    assert_int_equal(prod("bam:h=1,v=0", 255, 2), 510);
    /* DRUM. */
    assert_int_equal(prod("drum:k=4", 100, 1), 104);
    assert_int_equal(prod("drum:k=4", 255, 255), 240 * 240);
    assert_int_equal(prod("drum:k=4", 15, 13), 195);
    assert_true(hash_of("drum:k=8") == hash_of("exact"));
    /* Mitchell. */
    assert_int_equal(prod("mitchell", 3, 3), 8);
    assert_int_equal(prod("mitchell", 255, 255), 65024);
    assert_int_equal(prod("mitchell", 64, 32), 2048);
    for (int b = 0; b < 256; b++)
        assert_int_equal(prod("mitchell", 1, b), b);
    /* Kulkarni: 3*3 = 7 in every 2x2 block. */
    assert_int_equal(prod("kulkarni", 3, 3), 7);
    assert_int_equal(prod("kulkarni", 2, 3), 6);
    assert_int_equal(prod("kulkarni", 255, 255), 7 * 85 * 85);
    assert_int_equal(prod("kulkarni", 12, 12), 7 * 16);
    /* ETM. */
    assert_int_equal(prod("etm:w=4", 15, 15), 225);
    assert_int_equal(prod("etm:w=4", 16, 1), 31);
    assert_int_equal(prod("etm:w=4", 255, 255), 57855);
    assert_int_equal(prod("etm:w=4", 32, 48), 1536);
    /* RoBA. */
    assert_int_equal(prod("roba", 3, 3), 8);
    assert_int_equal(prod("roba", 255, 255), 65024);
    assert_int_equal(prod("roba", 192, 191), 40704);
    for (int b = 0; b < 256; b++)
        assert_int_equal(prod("roba", 64, b), 64 * b);
}

static void test_known_error_bounds(void **state)
{
    (void)state;
    /* Published worst-case relative errors: Mitchell and RoBA 1/9,
     * Kulkarni 2/9 (= 1 - 7/9); DRUM is unbiased. */
    hwnas_axmul *m = make("mitchell");
    assert_true(fabs(hwnas_axmul_metric(m, HWNAS_AXMUL_WCRE) - 1.0 / 9) < 1e-12);
    assert_true(hwnas_axmul_metric(m, HWNAS_AXMUL_BIAS) < 0);
    hwnas_axmul_free(m);
    m = make("roba");
    assert_true(fabs(hwnas_axmul_metric(m, HWNAS_AXMUL_WCRE) - 1.0 / 9) < 1e-12);
    hwnas_axmul_free(m);
    m = make("kulkarni");
    assert_true(fabs(hwnas_axmul_metric(m, HWNAS_AXMUL_WCRE) - 2.0 / 9) < 1e-12);
    hwnas_axmul_free(m);
    m = make("drum:k=6");
    double mae = hwnas_axmul_metric(m, HWNAS_AXMUL_MAE);
    assert_true(fabs(hwnas_axmul_metric(m, HWNAS_AXMUL_BIAS)) < 0.5 * mae);
    hwnas_axmul_free(m);
}

static void test_signed_wrap(void **state)
{
    (void)state;
    hwnas_axmul *u = make("drum:k=4");
    hwnas_axmul *s = make("drum:k=4,signed=1");
    assert_string_equal(hwnas_axmul_name(s), "drum:k=4,signed=1");
    for (int a = -128; a < 128; a++)
        for (int b = -128; b < 128; b++) {
            int32_t mag = hwnas_axmul_product(u, a < 0 ? -a : a, b < 0 ? -b : b);
            int32_t want = ((a < 0) != (b < 0)) ? -mag : mag;
            assert_int_equal(hwnas_axmul_product(s, a, b), want);
        }
    assert_true(hwnas_axmul_hash(u) != hwnas_axmul_hash(s));
    assert_true(hwnas_axmul_power(s) == hwnas_axmul_power(u));
    hwnas_axmul_free(u);
    hwnas_axmul_free(s);
}

static void test_names_and_cost(void **state)
{
    (void)state;
    struct {
        const char *spec, *name;
        double cost;
    } cases[] = {
        {"drum", "drum:k=4", 32.0 / 64},
        /* bam:h=2,v=6: rows 2..7 keep the bits with i + j >= 6: 4+5+6+7+8+8. */
        {"bam:v=6,h=2", "bam:h=2,v=6", 38.0 / 64},
        {"exact:signed=0", "exact", 1.0},
        {"trunc:t=2", "trunc:t=2", 36.0 / 64},
        {"pptrunc:k=6", "pptrunc:k=6", 43.0 / 64},
        {"mitchell:signed=1", "mitchell:signed=1", 31.0 / 64},
        {"kulkarni", "kulkarni", 48.0 / 64},
        {"etm:w=4", "etm:w=4", 28.0 / 64},
        {"roba", "roba", 52.0 / 64},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hwnas_axmul *m = make(cases[i].spec);
        assert_string_equal(hwnas_axmul_name(m), cases[i].name);
        if (fabs(hwnas_axmul_power(m) - cases[i].cost) > 1e-12)
            fail_msg("%s: power %g, expected %g", cases[i].spec, hwnas_axmul_power(m),
                     cases[i].cost);
        assert_true(hwnas_axmul_area(m) == hwnas_axmul_power(m));
        hwnas_axmul_free(m);
    }
    assert_int_equal(hwnas_axmul_family_count(), 9);
    assert_string_equal(hwnas_axmul_family_name(4), "drum");
    assert_non_null(strstr(hwnas_axmul_family_help(4), "k=1..8"));
    assert_null(hwnas_axmul_family_name(9));
    for (size_t i = 0; i < hwnas_axmul_builtin_count(); i++) {
        hwnas_axmul *m = make(hwnas_axmul_builtin_name(i));
        assert_string_equal(hwnas_axmul_name(m), hwnas_axmul_builtin_name(i));
        hwnas_axmul_free(m);
    }
    assert_null(hwnas_axmul_builtin_name(hwnas_axmul_builtin_count()));
}

static void test_spec_errors(void **state)
{
    (void)state;
    struct {
        const char *spec;
        int code;
        const char *in_message;
    } cases[] = {
        {"drum:k=9", HWNAS_EINVAL, "k=9 must be an integer in 1..8"},
        {"wallace", HWNAS_ENOTFOUND, "families: exact, trunc"},
        {"drum:x=1", HWNAS_EINVAL, "unknown key 'x'; drum takes k=1..8"},
        {"drum:k=", HWNAS_EINVAL, "k="},
        {"bam:h=1,h=2", HWNAS_EINVAL, "twice"},
        {"exact:signed=2", HWNAS_EINVAL, "signed=2"},
        {"drum:k=4,", HWNAS_EINVAL, "key=value"},
        {"trunc:t=-1", HWNAS_EINVAL, "t=-1"},
        {"drum:k", HWNAS_EINVAL, "key=value"},
        {"", HWNAS_ENOTFOUND, "family ''"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hwnas_axmul *m = (hwnas_axmul *)&m;
        int rc = hwnas_axmul_new(&m, ctx, cases[i].spec);
        assert_int_equal(rc, cases[i].code);
        assert_null(m);
        if (!strstr(hwnas_error_last(), cases[i].in_message))
            fail_msg("%s: message '%s' lacks '%s'", cases[i].spec, hwnas_error_last(),
                     cases[i].in_message);
    }
    hwnas_axmul *m;
    assert_int_equal(hwnas_axmul_new(&m, NULL, "exact"), HWNAS_EINVAL);
    assert_int_equal(hwnas_axmul_new(&m, ctx, NULL), HWNAS_EINVAL);
    hwnas_axmul_free(NULL);
}

static void test_accessors(void **state)
{
    (void)state;
    hwnas_axmul *m = make("etm:w=3");
    const int32_t *t = hwnas_axmul_table(m);
    const uint16_t *t16 = hwnas_axmul_table16(m), *tw = hwnas_axmul_table16_by_weight(m);
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) {
            assert_int_equal(t16[a * 256 + b], t[a * 256 + b]);
            assert_int_equal(tw[b * 256 + a], t[a * 256 + b]);
            assert_int_equal(hwnas_axmul_product(m, a, b), t[a * 256 + b]);
        }
    assert_int_equal(hwnas_axmul_product(m, 256 + 5, 7), t[5 * 256 + 7]);
    hwnas_axmul_free(m);
}

int run_families_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_known_error_bounds),
        cmocka_unit_test(test_signed_wrap),
        cmocka_unit_test(test_names_and_cost),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_accessors),
    };
    return cmocka_run_group_tests_name("axmul families", tests, setup, teardown);
}
