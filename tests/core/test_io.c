/* File helpers: whole-file reads with transparent gunzip, atomic writes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core_tests.h"
#include "core/core_internal.h"

static hwnas_context *ctx;
static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hwnas-io-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return hwnas_context_new(&ctx, NULL);
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    hwnas_context_free(ctx);
    return 0;
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_write_read_plain_and_gzip(void **state)
{
    (void)state;
    char path[512];
    static uint8_t data[300000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 9));
    for (int gz = 0; gz <= 1; gz++) {
        snprintf(path, sizeof path, "%s/data%d.bin", dir, gz);
        assert_int_equal(hwnas__file_write_atomic(ctx, path, data, sizeof data, gz), HWNAS_OK);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        if (gz)
            assert_true((size_t)st.st_size < sizeof data);
        else
            assert_int_equal(st.st_size, sizeof data);
        uint8_t *back;
        size_t len;
        assert_int_equal(hwnas__file_read(ctx, path, 0, &back, &len), HWNAS_OK);
        assert_int_equal(len, sizeof data);
        assert_memory_equal(back, data, len);
        assert_int_equal(back[len], 0); /* NUL past the end for text parsers */
        hwnas__free(ctx, back);
    }
    /* Overwrite replaces the content; no temporary files remain. */
    snprintf(path, sizeof path, "%s/data0.bin", dir);
    assert_int_equal(hwnas__file_write_atomic(ctx, path, "abc", 3, 0), HWNAS_OK);
    uint8_t *back;
    size_t len;
    assert_int_equal(hwnas__file_read(ctx, path, 0, &back, &len), HWNAS_OK);
    assert_int_equal(len, 3);
    assert_string_equal((char *)back, "abc");
    hwnas__free(ctx, back);
    assert_int_equal(count_files(), 2);
}

static void test_read_errors_name_the_file(void **state)
{
    (void)state;
    char path[512];
    uint8_t *out = (uint8_t *)0x1;
    size_t len = 1;
    snprintf(path, sizeof path, "%s/missing.idx.gz", dir);
    assert_int_equal(hwnas__file_read(ctx, path, 0, &out, &len), HWNAS_ENOTFOUND);
    assert_null(out);
    assert_non_null(strstr(hwnas_error_last(), "missing.idx.gz"));

    /* A gzip file cut in half. */
    static uint8_t data[100000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(rand() & 0xff);
    snprintf(path, sizeof path, "%s/cut.gz", dir);
    assert_int_equal(hwnas__file_write_atomic(ctx, path, data, sizeof data, 1), HWNAS_OK);
    struct stat st;
    stat(path, &st);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    assert_int_equal(hwnas__file_read(ctx, path, 0, &out, &len), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "cut.gz"));
    assert_non_null(strstr(hwnas_error_last(), "truncated"));

    /* A gzip header followed by garbage. */
    snprintf(path, sizeof path, "%s/garbage.gz", dir);
    const uint8_t bad[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 1, 2, 3};
    assert_int_equal(hwnas__file_write_atomic(ctx, path, bad, sizeof bad, 0), HWNAS_OK);
    assert_int_equal(hwnas__file_read(ctx, path, 0, &out, &len), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "garbage.gz"));

    /* Size bounds hold for plain and for inflated data. */
    snprintf(path, sizeof path, "%s/big.gz", dir);
    memset(data, 0, sizeof data);
    assert_int_equal(hwnas__file_write_atomic(ctx, path, data, sizeof data, 1), HWNAS_OK);
    assert_int_equal(hwnas__file_read(ctx, path, 1000, &out, &len), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "larger than 1000"));
    snprintf(path, sizeof path, "%s/big.bin", dir);
    assert_int_equal(hwnas__file_write_atomic(ctx, path, data, sizeof data, 0), HWNAS_OK);
    assert_int_equal(hwnas__file_read(ctx, path, 1000, &out, &len), HWNAS_EFORMAT);
    assert_int_equal(hwnas__file_read(ctx, path, sizeof data, &out, &len), HWNAS_OK);
    hwnas__free(ctx, out);

    /* A directory is not a file. */
    assert_int_equal(hwnas__file_read(ctx, dir, 0, &out, &len), HWNAS_EIO);
}

static void test_concatenated_gzip_members(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/two.gz", dir);
    gzFile f = gzopen(path, "wb");
    gzwrite(f, "hello ", 6);
    gzclose(f);
    f = gzopen(path, "ab");
    gzwrite(f, "world", 5);
    gzclose(f);
    uint8_t *out;
    size_t len;
    assert_int_equal(hwnas__file_read(ctx, path, 0, &out, &len), HWNAS_OK);
    assert_int_equal(len, 11);
    assert_string_equal((char *)out, "hello world");
    hwnas__free(ctx, out);
}

static void test_write_failure_leaves_nothing(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/no/such/dir/out.bin", dir);
    int before = count_files();
    assert_int_equal(hwnas__file_write_atomic(ctx, path, "x", 1, 0), HWNAS_EIO);
    assert_non_null(strstr(hwnas_error_last(), "out.bin"));
    assert_int_equal(count_files(), before);
    /* Replacing a directory fails, and the temporary file is removed. */
    snprintf(path, sizeof path, "%s/adir", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    before = count_files();
    assert_int_equal(hwnas__file_write_atomic(ctx, path, "x", 1, 0), HWNAS_EIO);
    assert_int_equal(count_files(), before);
    rmdir(path);
}

int run_io_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_read_plain_and_gzip),
        cmocka_unit_test(test_read_errors_name_the_file),
        cmocka_unit_test(test_concatenated_gzip_members),
        cmocka_unit_test(test_write_failure_leaves_nothing),
    };
    return cmocka_run_group_tests_name("core/io", tests, setup, teardown);
}
