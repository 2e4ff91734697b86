/* Real data: the 36 EvoApproxLib multipliers in ../shared with their
 * published figures. Every figure must come out to its printed precision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axmul_tests.h"
#include <hwnas/hwnas.h>

static char dir[1024];

static int setup(void **state)
{
    (void)state;
    const char *shared = getenv("HWNAS_SHARED_DIR");
    if (shared && *shared)
        snprintf(dir, sizeof dir, "%s/axmul/evoapprox-mul8u", shared);
    return 0;
}

/* Open params.csv, or skip the test with a message. */
static FILE *open_params(void)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/params.csv", dir);
    FILE *f = dir[0] ? fopen(path, "r") : NULL;
    if (!f) {
        fprintf(stderr, "skipped: no EvoApproxLib tables at '%s' (set HWNAS_SHARED_DIR)\n",
                dir[0] ? dir : "$HWNAS_SHARED_DIR/axmul/evoapprox-mul8u");
        skip();
    }
    return f;
}

/* Split a line of params.csv in place into 9 fields. */
static int split(char *line, char **f)
{
    line[strcspn(line, "\r\n")] = 0;
    int n = 0;
    for (char *p = line; p && n < 9; n++) {
        f[n] = p;
        p = strchr(p, ',');
        if (p)
            *p++ = 0;
    }
    return n;
}

static void test_published_figures(void **state)
{
    (void)state;
    FILE *f = open_params();
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_axmul_registry *reg = NULL;
    assert_int_equal(hwnas_axmul_registry_new(&reg, ctx), HWNAS_OK);
    size_t count = 0;
    if (hwnas_axmul_registry_load_dir(reg, dir, &count) != HWNAS_OK)
        fail_msg("%s", hwnas_error_last());
    assert_int_equal(count, 36);
    char line[512], *fl[9];
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(split(line, fl), 9);
    const char *cols[9];
    for (int i = 0; i < 9; i++)
        cols[i] = strdup(fl[i]);
    assert_string_equal(cols[1], "power_mw");
    assert_string_equal(cols[2], "area_um2");
    int rows = 0, figures = 0, wrong = 0;
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(split(line, fl), 9);
        const hwnas_axmul *m = NULL;
        if (hwnas_axmul_registry_get(&m, reg, fl[0]) != HWNAS_OK)
            fail_msg("%s: %s", fl[0], hwnas_error_last());
        rows++;
        for (int c = 4; c < 9; c++) { /* mae_pct .. wcre_pct */
            int32_t id = hwnas_axmul_metric_index(cols[c]);
            assert_true(id >= 0);
            double v = hwnas_axmul_metric(m, id);
            const char *dot = strchr(fl[c], '.');
            int decimals = dot ? (int)strlen(dot + 1) : 0;
            char ours[64];
            snprintf(ours, sizeof ours, "%.*f", decimals, v);
            figures++;
            if (strcmp(ours, fl[c]) != 0) {
                wrong++;
                fprintf(stderr, "%s %s: published %s, computed %.10g\n", fl[0], cols[c], fl[c], v);
            }
        }
        /* Power and area relative to the exact mul8u_1JFF (0.391 mW, 709.6 um2). */
        double pw = strtod(fl[1], NULL), ar = strtod(fl[2], NULL);
        assert_true(fabs(hwnas_axmul_power(m) - pw / 0.391) < 1e-12);
        assert_true(fabs(hwnas_axmul_area(m) - ar / 709.6) < 1e-12);
    }
    fclose(f);
    assert_int_equal(rows, 36);
    assert_int_equal(figures, 180);
    assert_int_equal(wrong, 0);

    /* The exact one is the built-in exact multiplier, by content. */
    const hwnas_axmul *j = NULL, *e = NULL, *z = NULL;
    assert_int_equal(hwnas_axmul_registry_get(&j, reg, "mul8u_1JFF"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_registry_get(&e, reg, "exact"), HWNAS_OK);
    assert_true(hwnas_axmul_hash(j) == hwnas_axmul_hash(e));
    assert_int_equal(hwnas_axmul_registry_get(&z, reg, "mul8u_199Z"), HWNAS_OK);
    assert_true(hwnas_axmul_metric(z, HWNAS_AXMUL_WCE) == 65025);
    /* mul8u_L40 is not symmetric: operand order matters. */
    const hwnas_axmul *l = NULL;
    assert_int_equal(hwnas_axmul_registry_get(&l, reg, "mul8u_L40"), HWNAS_OK);
    int differ = 0;
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++)
            differ += hwnas_axmul_product(l, a, b) != hwnas_axmul_product(l, b, a);
    assert_int_equal(differ, 50254);
    for (int i = 0; i < 9; i++)
        free((void *)cols[i]);
    hwnas_axmul_registry_free(reg);
    hwnas_context_free(ctx);
}

static void test_bytes_roundtrip(void **state)
{
    (void)state;
    fclose(open_params());
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    const char *names[] = {"mul8u_L40", "mul8u_2AC", "mul8u_YX7"};
    for (int i = 0; i < 3; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s.bin", dir, names[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static unsigned char raw[HWNAS_AXMUL_BIN_SIZE + 1];
        assert_int_equal(fread(raw, 1, sizeof raw, f), HWNAS_AXMUL_BIN_SIZE);
        fclose(f);
        hwnas_axmul *m = NULL, *t = NULL;
        assert_int_equal(hwnas_axmul_load(&m, ctx, path, NULL), HWNAS_OK);
        assert_string_equal(hwnas_axmul_name(m), names[i]);
        void *out;
        size_t len;
        assert_int_equal(hwnas_axmul_write(m, "bin", &out, &len), HWNAS_OK);
        assert_int_equal(len, HWNAS_AXMUL_BIN_SIZE);
        assert_memory_equal(out, raw, len);
        hwnas_free(out);
        /* Through the text layout and back: same table and hash. */
        assert_int_equal(hwnas_axmul_write(m, "text", &out, &len), HWNAS_OK);
        assert_int_equal(hwnas_axmul_read(&t, ctx, out, len, NULL, "x"), HWNAS_OK);
        assert_true(hwnas_axmul_hash(t) == hwnas_axmul_hash(m));
        assert_string_equal(hwnas_axmul_source(t), path);
        hwnas_free(out);
        hwnas_axmul_free(t);
        hwnas_axmul_free(m);
    }
    hwnas_context_free(ctx);
}

int run_evoapprox_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_figures),
        cmocka_unit_test(test_bytes_roundtrip),
    };
    return cmocka_run_group_tests_name("axmul evoapprox", tests, setup, NULL);
}
