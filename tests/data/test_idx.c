/* The IDX reader: every element type, plain and gzip files, and the
 * rejection of malformed headers and sizes with messages that say what is
 * wrong and where. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data_tests.h"

static hwnas_context *ctx;
static const char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tmpdir_new();
    return hwnas_context_new(&ctx, NULL);
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    hwnas_context_free(ctx);
    return 0;
}

static void test_ubyte_plain_and_gzip(void **state)
{
    (void)state;
    uint32_t dims[3] = {2, 3, 4};
    uint8_t data[24];
    for (int i = 0; i < 24; i++)
        data[i] = (uint8_t)(i * 10);
    char path[512];
    for (int gz = 0; gz < 2; gz++) {
        write_idx_u8(path, dir, gz ? "a.gz" : "a", 3, dims, data, gz);
        hwnas_idx *idx = NULL;
        assert_int_equal(hwnas_idx_read(&idx, ctx, path), HWNAS_OK);
        assert_int_equal(hwnas_idx_type(idx), HWNAS_IDX_UBYTE);
        assert_int_equal(hwnas_idx_rank(idx), 3);
        assert_int_equal(hwnas_idx_dim(idx, 0), 2);
        assert_int_equal(hwnas_idx_dim(idx, 1), 3);
        assert_int_equal(hwnas_idx_dim(idx, 2), 4);
        assert_int_equal(hwnas_idx_dim(idx, 3), 0);
        assert_int_equal(hwnas_idx_size(idx), 24);
        assert_memory_equal(hwnas_idx_data(idx), data, 24);
        double d[3];
        assert_int_equal(hwnas_idx_get_double(d, idx, 21, 3), HWNAS_OK);
        assert_true(d[0] == 210 && d[1] == 220 && d[2] == 230);
        assert_int_equal(hwnas_idx_get_double(d, idx, 22, 3), HWNAS_EINVAL);
        hwnas_idx_free(idx);
    }
    hwnas_idx_free(NULL);
}

/* Every type: big-endian bytes in, host values out. */
static void test_all_types(void **state)
{
    (void)state;
    uint32_t dims[2] = {1, 2};
    size_t len;
    /* sbyte: -2, 127 */
    uint8_t sb[2] = {0xFE, 0x7F};
    /* short: -2, 0x1234 */
    uint8_t sh[4] = {0xFF, 0xFE, 0x12, 0x34};
    /* int: -100000, 0x01020304 */
    uint8_t in[8] = {0xFF, 0xFE, 0x79, 0x60, 0x01, 0x02, 0x03, 0x04};
    /* float: 1.5 (0x3FC00000), -0.25 (0xBE800000) */
    uint8_t fl[8] = {0x3F, 0xC0, 0, 0, 0xBE, 0x80, 0, 0};
    /* double: 1.5, -1e10 (0xC202A05F20000000) */
    uint8_t db[16] = {0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0xC2, 0x02, 0xA0, 0x5F, 0x20, 0, 0, 0};
    struct {
        int type;
        const uint8_t *raw;
        size_t n;
        double want[2];
    } cases[] = {
        {HWNAS_IDX_SBYTE, sb, 2, {-2, 127}},
        {HWNAS_IDX_SHORT, sh, 4, {-2, 0x1234}},
        {HWNAS_IDX_INT, in, 8, {-100000, 0x01020304}},
        {HWNAS_IDX_FLOAT, fl, 8, {1.5, -0.25}},
        {HWNAS_IDX_DOUBLE, db, 16, {1.5, -1e10}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t *b = idx_bytes(cases[c].type, 2, dims, cases[c].raw, cases[c].n, &len);
        hwnas_idx *idx = NULL;
        assert_int_equal(hwnas_idx_parse(&idx, ctx, b, len, "t"), HWNAS_OK);
        free(b);
        assert_int_equal(hwnas_idx_type(idx), cases[c].type);
        double d[2];
        assert_int_equal(hwnas_idx_get_double(d, idx, 0, 2), HWNAS_OK);
        assert_true(d[0] == cases[c].want[0]);
        assert_true(d[1] == cases[c].want[1]);
        const void *p = hwnas_idx_data(idx);
        switch (cases[c].type) {
        case HWNAS_IDX_SBYTE: assert_int_equal(((const int8_t *)p)[0], -2); break;
        case HWNAS_IDX_SHORT: assert_int_equal(((const int16_t *)p)[1], 0x1234); break;
        case HWNAS_IDX_INT: assert_int_equal(((const int32_t *)p)[0], -100000); break;
        case HWNAS_IDX_FLOAT: assert_true(((const float *)p)[1] == -0.25f); break;
        default: assert_true(((const double *)p)[1] == -1e10); break;
        }
        hwnas_idx_free(idx);
    }
}

/* A file whose data is one label short gives the message the issue asks for. */
static void test_truncated_labels(void **state)
{
    (void)state;
    uint32_t dims[1] = {10000};
    uint8_t *labels = calloc(10000, 1);
    size_t len;
    uint8_t *b = idx_bytes(HWNAS_IDX_UBYTE, 1, dims, labels, 9999, &len);
    char path[512];
    write_file(path, dir, "t10k-labels-idx1-ubyte.gz", b, len, 1);
    hwnas_idx *idx = (hwnas_idx *)1;
    assert_int_equal(hwnas_idx_read(&idx, ctx, path), HWNAS_EFORMAT);
    assert_null(idx);
    assert_message_has(path, "header says 10000 items but the file holds 9999", NULL);
    free(b);
    /* One extra byte is as wrong as one missing. */
    b = idx_bytes(HWNAS_IDX_UBYTE, 1, dims, labels, 10000, &len);
    uint8_t *more = malloc(len + 1);
    memcpy(more, b, len);
    more[len] = 7;
    assert_int_equal(hwnas_idx_parse(&idx, ctx, more, len + 1, "x"), HWNAS_EFORMAT);
    assert_message_has("x: header says 10000 items but the file holds 10001", NULL);
    free(more);
    free(b);
    free(labels);
}

static void test_partial_item(void **state)
{
    (void)state;
    uint32_t dims[3] = {3, 28, 28};
    static uint8_t px[3 * 784];
    size_t len;
    uint8_t *b = idx_bytes(HWNAS_IDX_UBYTE, 3, dims, px, 3 * 784 - 100, &len);
    hwnas_idx *idx = NULL;
    assert_int_equal(hwnas_idx_parse(&idx, ctx, b, len, "img"), HWNAS_EFORMAT);
    assert_message_has("img: header says 3 items of 784 bytes", "2252 bytes", NULL);
    free(b);
    /* Short items of a multi-byte type count in items of their byte size. */
    uint32_t d1[1] = {4};
    uint8_t ints[12] = {0};
    b = idx_bytes(HWNAS_IDX_INT, 1, d1, ints, 12, &len);
    assert_int_equal(hwnas_idx_parse(&idx, ctx, b, len, "i"), HWNAS_EFORMAT);
    assert_message_has("header says 4 items but the file holds 3", NULL);
    free(b);
}

static void test_bad_headers(void **state)
{
    (void)state;
    hwnas_idx *idx = NULL;
    uint8_t b[16] = {0};
    /* Too short for a magic number. */
    assert_int_equal(hwnas_idx_parse(&idx, ctx, b, 3, "s"), HWNAS_EFORMAT);
    assert_message_has("s: 3 bytes is too short", NULL);
    assert_int_equal(hwnas_idx_parse(&idx, ctx, b, 0, NULL), HWNAS_EFORMAT);
    assert_message_has("<memory>", NULL);
    /* Wrong magic: not starting with two zeros. */
    uint8_t m1[8] = {0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0};
    assert_int_equal(hwnas_idx_parse(&idx, ctx, m1, 8, "m"), HWNAS_EFORMAT);
    assert_message_has("m: not an IDX file", "0x12340801", NULL);
    /* Unknown type 0x0A. */
    uint8_t m2[8] = {0, 0, 0x0A, 0x01, 0, 0, 0, 0};
    assert_int_equal(hwnas_idx_parse(&idx, ctx, m2, 8, "m"), HWNAS_EFORMAT);
    assert_message_has("0x00000a01", NULL);
    /* Rank 0. */
    uint8_t m3[4] = {0, 0, 0x08, 0};
    assert_int_equal(hwnas_idx_parse(&idx, ctx, m3, 4, "m"), HWNAS_EFORMAT);
    assert_message_has("0 dimensions", NULL);
    /* Header cut inside the dimensions. */
    uint8_t m4[10] = {0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0};
    assert_int_equal(hwnas_idx_parse(&idx, ctx, m4, 10, "m"), HWNAS_EFORMAT);
    assert_message_has("declares 3 dimensions (16 header bytes) but the file ends after 10",
                       NULL);
    /* Dimensions whose product overflows. */
    uint8_t m5[24] = {0, 0, 0x0E, 5};
    memset(m5 + 4, 0xFF, 20);
    assert_int_equal(hwnas_idx_parse(&idx, ctx, m5, 24, "m"), HWNAS_EFORMAT);
    /* gzip bytes handed to the in-memory parser. */
    uint8_t gz[8] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0};
    assert_int_equal(hwnas_idx_parse(&idx, ctx, gz, 8, "g"), HWNAS_EFORMAT);
    assert_message_has("gzip", NULL);
    assert_null(idx);
    assert_int_equal(hwnas_idx_parse(NULL, ctx, b, 8, "m"), HWNAS_EINVAL);
    assert_int_equal(hwnas_idx_parse(&idx, NULL, b, 8, "m"), HWNAS_EINVAL);
}

static void test_zero_items_and_files(void **state)
{
    (void)state;
    /* A valid empty array. */
    uint32_t dims[2] = {0, 5};
    size_t len;
    uint8_t *b = idx_bytes(HWNAS_IDX_UBYTE, 2, dims, NULL, 0, &len);
    hwnas_idx *idx = NULL;
    assert_int_equal(hwnas_idx_parse(&idx, ctx, b, len, "e"), HWNAS_OK);
    assert_int_equal(hwnas_idx_size(idx), 0);
    hwnas_idx_free(idx);
    free(b);
    /* Missing file; corrupt gzip. */
    char path[512];
    snprintf(path, sizeof path, "%s/none.gz", dir);
    assert_int_equal(hwnas_idx_read(&idx, ctx, path), HWNAS_ENOTFOUND);
    assert_message_has(path, NULL);
    uint8_t junk[40] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8};
    write_file(path, dir, "junk.gz", junk, sizeof junk, 0);
    assert_int_equal(hwnas_idx_read(&idx, ctx, path), HWNAS_EFORMAT);
    assert_message_has("junk.gz", NULL);
    /* A truncated gzip file (cut in the middle of the stream). */
    uint32_t d3[3] = {50, 28, 28};
    static uint8_t px[50 * 784];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 7919 >> 3);
    write_idx_u8(path, dir, "full.gz", 3, d3, px, 1);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t raw[100000];
    size_t got = fread(raw, 1, sizeof raw, f);
    fclose(f);
    write_file(path, dir, "cut.gz", raw, got / 2, 0);
    assert_int_equal(hwnas_idx_read(&idx, ctx, path), HWNAS_EFORMAT);
    assert_message_has("cut.gz", "truncated", NULL);
    assert_null(idx);
}

/* Reads are bounded (a file: by what its header declares; a pipe: by
 * 128 MiB): /dev/zero and an endless stream behind a valid header end in
 * an error, not in all memory. */
static void test_endless_input_is_bounded(void **state)
{
    (void)state;
    hwnas_idx *idx = NULL;
    assert_int_equal(hwnas_idx_read(&idx, ctx, "/dev/zero"), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "/dev/zero"));
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/endless.idx", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* header: ubyte, 1 dimension of 10 items; then zeros for ever */
        signal(SIGPIPE, SIG_DFL);
        alarm(60); /* never outlive a failed test */
        FILE *f = fopen(fifo, "wb");
        static const unsigned char head[8] = {0, 0, 8, 1, 0, 0, 0, 10};
        static unsigned char zeros[65536];
        if (!f || fwrite(head, 1, 8, f) != 8)
            _exit(1);
        for (;;)
            if (fwrite(zeros, 1, sizeof zeros, f) != sizeof zeros)
                _exit(0);
    }
    assert_int_equal(hwnas_idx_read(&idx, ctx, fifo), HWNAS_EFORMAT);
    assert_null(idx);
    if (!strstr(hwnas_error_last(), "larger than"))
        fail_msg("unclear message: %s", hwnas_error_last());
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(fifo);
}

int run_idx_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ubyte_plain_and_gzip),
        cmocka_unit_test(test_endless_input_is_bounded),
        cmocka_unit_test(test_all_types),
        cmocka_unit_test(test_truncated_labels),
        cmocka_unit_test(test_partial_item),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_zero_items_and_files),
    };
    return cmocka_run_group_tests_name("idx", tests, setup, teardown);
}
