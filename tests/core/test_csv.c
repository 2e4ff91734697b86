/* CSV tables (lib/core/csv.c): quoting, line endings, blank lines, the
 * header, and errors that name file, line and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "core_tests.h"
#include "core/core_internal.h"

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

static void test_parse(void **state)
{
    (void)state;
    hwnas__csv t;
    const char *text = "key,\"a, b\",c\r\n"
                       "\n"
                       "x,\"say \"\"hi\"\"\",1.5\r\n"
                       "\"\",,\"multi\nline\"\n";
    assert_int_equal(hwnas__csv_parse(ctx, text, "t.csv", &t), HWNAS_OK);
    assert_int_equal(t.n_cols, 3);
    assert_int_equal(t.n_rows, 2);
    assert_string_equal(t.header[1], "a, b");
    assert_string_equal(t.cells[1], "say \"hi\"");
    assert_string_equal(t.cells[2], "1.5");
    assert_string_equal(t.cells[3], "");
    assert_string_equal(t.cells[4], "");
    assert_string_equal(t.cells[5], "multi\nline");
    assert_int_equal(t.line[0], 3);
    assert_int_equal(t.line[1], 4);
    assert_int_equal(hwnas__csv_column(&t, "c"), 2);
    assert_int_equal(hwnas__csv_column(&t, "a"), -1);
    hwnas__csv_free(ctx, &t);
    assert_int_equal(t.n_rows, 0);
    /* a header alone is a table without rows */
    assert_int_equal(hwnas__csv_parse(ctx, "a,b", "t.csv", &t), HWNAS_OK);
    assert_int_equal(t.n_rows, 0);
    hwnas__csv_free(ctx, &t);
    /* a field longer than any fixed buffer arrives whole */
    static char big[20000];
    memset(big, 'v', sizeof big);
    memcpy(big, "h\n", 2);
    big[sizeof big - 1] = '\0';
    assert_int_equal(hwnas__csv_parse(ctx, big, "t.csv", &t), HWNAS_OK);
    assert_int_equal(strlen(t.cells[0]), sizeof big - 3);
    hwnas__csv_free(ctx, &t);
}

static void expect_error(const char *text, const char *words)
{
    hwnas__csv t;
    int rc = hwnas__csv_parse(ctx, text, "t.csv", &t);
    if (rc != HWNAS_EFORMAT || !strstr(hwnas_error_last(), words))
        fail_msg("got %d \"%s\", want HWNAS_EFORMAT with \"%s\"", rc, hwnas_error_last(),
                 words);
    assert_int_equal(t.n_rows, 0);
    assert_null(t.header);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", "t.csv: empty file");
    expect_error("a,b\n1\n", "t.csv:2: 1 fields, but the header has 2");
    expect_error("a,b\n1,\"open\n", "t.csv:2:3: unterminated quoted field");
    expect_error("a,b\n1,\"x\"y\n", "t.csv:2:6: expected ','");
}

static void test_load(void **state)
{
    (void)state;
    char path[] = "/tmp/hwnas-csv-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "a,b\n1,2\n", 8), 8);
    close(fd);
    hwnas__csv t;
    assert_int_equal(hwnas__csv_load(ctx, path, &t), HWNAS_OK);
    assert_int_equal(t.n_rows, 1);
    assert_string_equal(t.cells[1], "2");
    hwnas__csv_free(ctx, &t);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "a,b\n1,\0\n", 8), 8);
    close(fd);
    assert_int_equal(hwnas__csv_load(ctx, path, &t), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "NUL byte"));
    unlink(path);
}

int run_csv_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests_name("core/csv", tests, setup, teardown);
}
