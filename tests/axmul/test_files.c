/* Files: the binary layout, our text layout, and clear errors on bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
    if (hwnas_axmul_new(&m, ctx, spec) != HWNAS_OK)
        fail_msg("%s: %s", spec, hwnas_error_last());
    return m;
}

static void same_table(const hwnas_axmul *a, const hwnas_axmul *b)
{
    assert_int_equal(hwnas_axmul_is_signed(a), hwnas_axmul_is_signed(b));
    assert_memory_equal(hwnas_axmul_table(a), hwnas_axmul_table(b),
                        HWNAS_AXMUL_TABLE_SIZE * sizeof(int32_t));
    assert_true(hwnas_axmul_hash(a) == hwnas_axmul_hash(b));
}

static void test_bin_roundtrip(void **state)
{
    (void)state;
    hwnas_axmul *m = make("kulkarni");
    void *data;
    size_t len;
    assert_int_equal(hwnas_axmul_write(m, "bin", &data, &len), HWNAS_OK);
    assert_int_equal(len, HWNAS_AXMUL_BIN_SIZE);
    const uint8_t *b = data;
    /* Entry a*256+b, little-endian: (255, 255) is the last entry. */
    uint16_t last = (uint16_t)(b[131070] | b[131071] << 8);
    assert_int_equal(last, 7 * 85 * 85);
    assert_int_equal(b[2 * (3 * 256 + 3)], 7);
    hwnas_axmul *r = NULL;
    assert_int_equal(hwnas_axmul_read(&r, ctx, data, len, "auto", "some/dir/mul8u_KUL.bin"),
                     HWNAS_OK);
    same_table(m, r);
    assert_string_equal(hwnas_axmul_name(r), "mul8u_KUL");
    assert_string_equal(hwnas_axmul_source(r), "some/dir/mul8u_KUL.bin");
    assert_true(isnan(hwnas_axmul_power(r)));
    hwnas_axmul_free(r);
    /* Wrong size. */
    assert_int_equal(hwnas_axmul_read(&r, ctx, data, len - 2, "bin", "short.bin"), HWNAS_EFORMAT);
    assert_null(r);
    assert_non_null(strstr(hwnas_error_last(), "short.bin: 131070 bytes"));
    assert_int_equal(hwnas_axmul_read(&r, ctx, data, len - 1, NULL, "odd.bin"), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "odd.bin"));
    assert_int_equal(hwnas_axmul_read(&r, ctx, data, len, "png", NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "'png'"));
    /* Names from long file names: up to 63 characters whole, longer ones
     * their start and a hash of the whole (once cut at 63: one name). */
    char path[2][200], want[64];
    for (int i = 0; i < 2; i++) {
        memset(path[i], 'x', 150);
        path[i][0] = '/', path[i][148] = (char)('a' + i);
        strcpy(path[i] + 150, ".bin.gz");
        assert_int_equal(hwnas_axmul_read(&r, ctx, data, len, "bin", path[i]), HWNAS_OK);
        const char *name = hwnas_axmul_name(r);
        assert_int_equal(strlen(name), 63);
        assert_memory_equal(name, path[i] + 1, 54);
        assert_int_equal(name[54], '-');
        if (i == 0)
            strcpy(want, name);
        else
            assert_string_not_equal(want, name);
        hwnas_axmul_free(r);
    }
    memset(path[0], 'y', 63);
    strcpy(path[0] + 63, ".bin");
    assert_int_equal(hwnas_axmul_read(&r, ctx, data, len, "bin", path[0]), HWNAS_OK);
    path[0][63] = 0;
    assert_string_equal(hwnas_axmul_name(r), path[0]);
    hwnas_axmul_free(r);
    /* A signed multiplier needs bin-signed, and the other way round. */
    void *none = NULL;
    assert_int_equal(hwnas_axmul_write(m, "bin-signed", &none, &len), HWNAS_EINVAL);
    assert_null(none);
    hwnas_free(data);
    hwnas_axmul_free(m);

    m = make("drum:k=3,signed=1");
    assert_int_equal(hwnas_axmul_write(m, "bin", &data, &len), HWNAS_EINVAL);
    assert_int_equal(hwnas_axmul_write(m, "bin-signed", &data, &len), HWNAS_OK);
    assert_int_equal(hwnas_axmul_read(&r, ctx, data, len, "bin-signed", "s.bin"), HWNAS_OK);
    same_table(m, r);
    hwnas_axmul_free(r);
    hwnas_free(data);
    hwnas_axmul_free(m);
}

static void test_text_roundtrip(void **state)
{
    (void)state;
    const char *specs[] = {"drum:k=4", "mitchell:signed=1", "exact"};
    for (size_t i = 0; i < 3; i++) {
        hwnas_axmul *m = make(specs[i]);
        if (i == 0) {
            assert_int_equal(hwnas_axmul_set_cost(m, 0.123456789012345, NAN), HWNAS_OK);
            assert_int_equal(hwnas_axmul_set_source(m, "a\ttest source, with: punctuation"),
                             HWNAS_OK);
        }
        void *data;
        size_t len;
        assert_int_equal(hwnas_axmul_write(m, NULL, &data, &len), HWNAS_OK);
        assert_int_equal(strlen(data), len);
        assert_int_equal(strncmp(data, "hwnas-axmul 1\n", 14), 0);
        hwnas_axmul *r = NULL;
        if (hwnas_axmul_read(&r, ctx, data, len, NULL, "t.axmul") != HWNAS_OK)
            fail_msg("%s: %s", specs[i], hwnas_error_last());
        same_table(m, r);
        assert_string_equal(hwnas_axmul_name(r), hwnas_axmul_name(m));
        assert_string_equal(hwnas_axmul_source(r), hwnas_axmul_source(m));
        assert_true(hwnas_axmul_power(r) == hwnas_axmul_power(m));
        assert_true(isnan(hwnas_axmul_area(m)) ? isnan(hwnas_axmul_area(r))
                                                : hwnas_axmul_area(r) == hwnas_axmul_area(m));
        hwnas_axmul_free(r);
        hwnas_free(data);
        hwnas_axmul_free(m);
    }
}

static void test_save_load(void **state)
{
    (void)state;
    const char *dir = axmul_test_dir();
    assert_non_null(dir);
    const char *names[] = {"m.bin", "m.axmul", "m.axmul.gz", "m.bin.gz", "m.txt"};
    hwnas_axmul *m = make("etm:w=3");
    for (size_t i = 0; i < 5; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_int_equal(hwnas_axmul_save(m, path, NULL), HWNAS_OK);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        unsigned char head[2];
        assert_int_equal(fread(head, 1, 2, f), 2);
        fclose(f);
        int gz = strstr(names[i], ".gz") != NULL;
        assert_int_equal(head[0] == 0x1f && head[1] == 0x8b, gz);
        hwnas_axmul *r = NULL;
        if (hwnas_axmul_load(&r, ctx, path, NULL) != HWNAS_OK)
            fail_msg("%s: %s", path, hwnas_error_last());
        same_table(m, r);
        int is_bin = strstr(names[i], ".bin") != NULL;
        assert_string_equal(hwnas_axmul_name(r), is_bin ? "m" : "etm:w=3");
        hwnas_axmul_free(r);
    }
    hwnas_axmul *r = (hwnas_axmul *)&r;
    char path[512];
    snprintf(path, sizeof path, "%s/missing.bin", dir);
    assert_int_equal(hwnas_axmul_load(&r, ctx, path, NULL), HWNAS_ENOTFOUND);
    assert_null(r);
    assert_non_null(strstr(hwnas_error_last(), "missing.bin"));
    snprintf(path, sizeof path, "%s/no/such/dir/x.bin", dir);
    assert_int_equal(hwnas_axmul_save(m, path, NULL) != HWNAS_OK, 1);
    hwnas_axmul_free(m);
}

/* A valid text file of the exact unsigned multiplier, with hooks to break it. */
static char *exact_text(const char *header, const char *meta, int value_at_3_5, const char *end)
{
    size_t cap = 600000;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "%s\n%stable\n", header, meta);
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++)
            n += (size_t)snprintf(s + n, cap - n, b ? " %d" : "%d",
                                  a == 3 && b == 5 ? value_at_3_5 : a * b);
        s[n++] = '\n';
    }
    snprintf(s + n, cap - n, "%s", end);
    return s;
}

static void expect_error(const char *text, int code, const char *in_message)
{
    hwnas_axmul *m = (hwnas_axmul *)&m;
    int rc = hwnas_axmul_read(&m, ctx, text, strlen(text), "text", "bad.axmul");
    if (rc != code)
        fail_msg("got %d (%s), expected %d", rc, hwnas_error_last(), code);
    assert_null(m);
    if (!strstr(hwnas_error_last(), in_message))
        fail_msg("message '%s' lacks '%s'", hwnas_error_last(), in_message);
}

static void test_text_errors(void **state)
{
    (void)state;
    const char *meta = "name x\nsigned 0\n";
    char *t;
    /* The good one first, with comments, CRs and blank lines. */
    t = exact_text("# made by hand\n\nhwnas-axmul 1\r", "name ok\r\n# c\nsigned 0\npower 0.5\n",
                   15, "# done\nend\n\n");
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_read(&m, ctx, t, strlen(t), NULL, "ok.axmul"), HWNAS_OK);
    assert_true(hwnas_axmul_metric(m, HWNAS_AXMUL_WCE) == 0);
    assert_true(hwnas_axmul_power(m) == 0.5 && isnan(hwnas_axmul_area(m)));
    assert_string_equal(hwnas_axmul_source(m), "ok.axmul");
    hwnas_axmul_free(m);
    free(t);

    t = exact_text("hwnas-axmul 1", meta, 70000, "end\n");
    expect_error(t, HWNAS_EFORMAT, "bad.axmul:8:");
    expect_error(t, HWNAS_EFORMAT, "product 70000 for a=3, b=5 is impossible");
    free(t);
    t = exact_text("hwnas-axmul 1", meta, -1, "end\n");
    expect_error(t, HWNAS_EFORMAT, "product -1 for a=3, b=5");
    free(t);
    t = exact_text("hwnas-axmul 1", "name x\nsigned 1\n", 1, "end\n");
    expect_error(t, HWNAS_EFORMAT, "product 32895 for a=-127, b=-1 is impossible for a signed multiplier");
    free(t);
    t = exact_text("hwnas-axmul 2", meta, 15, "end\n");
    expect_error(t, HWNAS_EVERSION, "version 2");
    free(t);
    t = exact_text("hwnas-axmol 1", meta, 15, "end\n");
    expect_error(t, HWNAS_EFORMAT, "bad.axmul:1:1: bad header");
    free(t);
    t = exact_text("hwnas-axmul 1", meta, 15, "");
    expect_error(t, HWNAS_EFORMAT, "'end' expected");
    free(t);
    t = exact_text("hwnas-axmul 1", meta, 15, "end\n0 1\n");
    expect_error(t, HWNAS_EFORMAT, "bad.axmul:262: text after 'end'");
    free(t);
    t = exact_text("hwnas-axmul 1", "signed 0\n", 15, "end\n");
    expect_error(t, HWNAS_EFORMAT, "'name' must come before 'table'");
    free(t);
    t = exact_text("hwnas-axmul 1", "name x\n", 15, "end\n");
    expect_error(t, HWNAS_EFORMAT, "'signed'");
    free(t);
    t = exact_text("hwnas-axmul 1", "name x\nname y\nsigned 0\n", 15, "end\n");
    expect_error(t, HWNAS_EFORMAT, "bad.axmul:3:1: key 'name' given twice");
    free(t);
    t = exact_text("hwnas-axmul 1", "name x\nsigned 0\ncolour red\n", 15, "end\n");
    expect_error(t, HWNAS_EFORMAT, "bad.axmul:4:1: unknown key 'colour'");
    free(t);
    t = exact_text("hwnas-axmul 1", "name x y\nsigned 0\n", 15, "end\n");
    expect_error(t, HWNAS_EFORMAT, "bad name 'x y'");
    free(t);
    t = exact_text("hwnas-axmul 1", "name x\nsigned 0\npower -1\n", 15, "end\n");
    expect_error(t, HWNAS_EFORMAT, "bad.axmul:4:7: power: '-1'");
    free(t);
    t = exact_text("hwnas-axmul 1", "name x\nsigned yes\n", 15, "end\n");
    expect_error(t, HWNAS_EFORMAT, "signed: expected 0 or 1");
    free(t);

    /* Row shape: a missing value, an extra one, a word. */
    t = exact_text("hwnas-axmul 1", meta, 15, "end\n");
    char *row3 = strstr(t, "\n0 3 6 9 ") + 1;
    char *nl = strchr(row3, '\n');
    char *last = nl;
    while (last[-1] != ' ')
        last--;
    memmove(last - 1, nl, strlen(nl) + 1); /* drop the row's last value */
    expect_error(t, HWNAS_EFORMAT, "bad.axmul:8:");
    expect_error(t, HWNAS_EFORMAT, "row 3 has 255 values");
    free(t);
    t = exact_text("hwnas-axmul 1", meta, 15, "end\n");
    row3 = strstr(t, "\n0 3 6 9 ") + 1;
    nl = strchr(row3, '\n');
    memmove(nl + 2, nl, strlen(nl) + 1);
    nl[0] = ' ';
    nl[1] = '1';
    expect_error(t, HWNAS_EFORMAT, "row 3 has more than 256 values");
    free(t);
    t = exact_text("hwnas-axmul 1", meta, 15, "end\n");
    row3 = strstr(t, "\n0 3 6 9 ") + 1;
    memcpy(row3 + 2, "x", 1);
    expect_error(t, HWNAS_EFORMAT, "bad.axmul:8:3: 'x' is not an integer");
    free(t);
    t = exact_text("hwnas-axmul 1", meta, 15, "end\n");
    *strstr(t, "\n0 200 400") = 0; /* cut after row 199 */
    expect_error(t, HWNAS_EFORMAT, "end of file after 200 of 256 table rows");
    free(t);

    expect_error("", HWNAS_EFORMAT, "bad.axmul: empty");
    expect_error("hwnas-axmul 1\nname x\n", HWNAS_EFORMAT, "before 'table'");
    expect_error("hwnas-axmul\n", HWNAS_EFORMAT, "bad header");
    expect_error("hwnas-axmul one\n", HWNAS_EFORMAT, "bad version");
    hwnas_axmul *r = NULL;
    assert_int_equal(hwnas_axmul_read(&r, ctx, "hello", 5, NULL, "what.dat"), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "what.dat: neither"));
}

int run_files_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bin_roundtrip),
        cmocka_unit_test(test_text_roundtrip),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_text_errors),
    };
    return cmocka_run_group_tests_name("axmul files", tests, setup, teardown);
}
