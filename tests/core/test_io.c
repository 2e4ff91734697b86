/* File helpers: whole-file reads with transparent gunzip, atomic writes. */
#include <dirent.h>
#include <fcntl.h>
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

static char *read_plain(const char *path)
{
    uint8_t *out;
    size_t len;
    if (hwnas__file_read(ctx, path, 0, &out, &len) != HWNAS_OK)
        fail_msg("read %s: %s", path, hwnas_error_last());
    return (char *)out;
}

/* The writer keeps what is there: a symbolic link stays a link and its
 * target gets the data (also when it does not exist yet); a FIFO stays a
 * FIFO and is written in place; /dev/fd/N writes to the descriptor at its
 * offset; a file's mode is kept; stale temporaries are removed. */
static void test_write_keeps_links_fifos_and_descriptors(void **state)
{
    (void)state;
    char target[512], link_path[512], fifo[512], p[600];
    snprintf(target, sizeof target, "%s/target.txt", dir);
    snprintf(link_path, sizeof link_path, "%s/link.txt", dir);
    assert_int_equal(hwnas__file_write_atomic(ctx, target, "old", 3, 0), HWNAS_OK);
    assert_int_equal(chmod(target, 0600), 0);
    assert_int_equal(symlink("target.txt", link_path), 0);
    assert_int_equal(hwnas__file_write_atomic(ctx, link_path, "new", 3, 0), HWNAS_OK);
    struct stat st;
    assert_int_equal(lstat(link_path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char *got = read_plain(target);
    assert_string_equal(got, "new");
    hwnas__free(ctx, got);
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A dangling link: the file it names is created. */
    unlink(target);
    assert_int_equal(hwnas__file_write_atomic(ctx, link_path, "again", 5, 0), HWNAS_OK);
    assert_int_equal(lstat(link_path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    got = read_plain(target);
    assert_string_equal(got, "again");
    hwnas__free(ctx, got);
    /* A FIFO is written in place, not replaced by a regular file. */
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(rfd >= 0);
    assert_int_equal(hwnas__file_write_atomic(ctx, fifo, "through", 7, 0), HWNAS_OK);
    char buf[16] = {0};
    assert_int_equal(read(rfd, buf, sizeof buf), 7);
    assert_string_equal(buf, "through");
    close(rfd);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    /* /dev/fd/N: the descriptor, at its offset (as a shell's >> would have it). */
    snprintf(p, sizeof p, "%s/appended.txt", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "head,", 5), 5);
    char alias[32];
    snprintf(alias, sizeof alias, "/dev/fd/%d", fd);
    assert_int_equal(hwnas__file_write_atomic(ctx, alias, "tail", 4, 0), HWNAS_OK);
    close(fd);
    got = read_plain(p);
    assert_string_equal(got, "head,tail");
    hwnas__free(ctx, got);
    /* A full device fails with its reason. */
    assert_int_equal(hwnas__file_write_atomic(ctx, "/dev/full", "x", 1, 0), HWNAS_EIO);
    assert_non_null(strstr(hwnas_error_last(), "/dev/full"));
    /* Temporaries a killed writer left are removed; other files stay. */
    snprintf(p, sizeof p, "%s/x.csv.tmp.aB3xYz", dir);
    assert_int_equal(hwnas__file_write_atomic(ctx, p, "t", 1, 0), HWNAS_OK);
    assert_int_equal(hwnas__remove_stale_temps(dir), 1);
    assert_int_not_equal(stat(p, &st), 0);
    assert_int_equal(stat(target, &st), 0);
    unlink(fifo);
}

int run_io_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_read_plain_and_gzip),
        cmocka_unit_test(test_read_errors_name_the_file),
        cmocka_unit_test(test_concatenated_gzip_members),
        cmocka_unit_test(test_write_failure_leaves_nothing),
        cmocka_unit_test(test_write_keeps_links_fifos_and_descriptors),
    };
    return cmocka_run_group_tests_name("core/io", tests, setup, teardown);
}
