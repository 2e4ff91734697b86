/* Byte streams (lib/core/byte_stream.c): what the writer puts the reader
 * gets back, little-endian on every host; a short or bad stream fails and
 * stays failed. */
#include <float.h>
#include <math.h>
#include <string.h>

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

static void test_round_trip(void **state)
{
    (void)state;
    hwnas__writer w = {ctx, NULL, 0, 0, 0};
    hwnas__writer_u8(&w, 0xab);
    hwnas__writer_u32(&w, 0x01020304u);
    hwnas__writer_u64(&w, UINT64_C(0x1122334455667788));
    hwnas__writer_f64(&w, -DBL_MAX);
    hwnas__writer_f64(&w, INFINITY);
    hwnas__writer_u64(&w, 3); /* a count of 3 items of 2 bytes */
    hwnas__writer_put(&w, "abcdef", 6);
    /* 300 more bytes: the writer grows past its first 256 */
    for (int i = 0; i < 300; i++)
        hwnas__writer_u8(&w, (uint8_t)i);
    assert_false(w.failed);
    assert_int_equal(w.len, 1 + 4 + 8 + 8 + 8 + 8 + 6 + 300);
    static const uint8_t le[] = {0xab, 0x04, 0x03, 0x02, 0x01, 0x88, 0x77};
    assert_memory_equal(w.data, le, sizeof le);

    hwnas__reader r = {w.data, w.len, 0, 0};
    assert_int_equal(hwnas__reader_u8(&r), 0xab);
    assert_int_equal(hwnas__reader_u32(&r), 0x01020304u);
    assert_true(hwnas__reader_u64(&r) == UINT64_C(0x1122334455667788));
    assert_true(hwnas__reader_f64(&r) == -DBL_MAX);
    assert_true(isinf(hwnas__reader_f64(&r)));
    assert_int_equal(hwnas__reader_count(&r, 2), 3);
    const uint8_t *p = hwnas__reader_take(&r, 6);
    assert_non_null(p);
    assert_memory_equal(p, "abcdef", 6);
    for (int i = 0; i < 300; i++)
        assert_int_equal(hwnas__reader_u8(&r), (uint8_t)i);
    assert_false(r.failed);
    assert_int_equal(r.pos, r.len);
    hwnas__free(ctx, w.data);
}

static void test_bad_streams(void **state)
{
    (void)state;
    uint8_t buf[16] = {1, 2, 3};
    /* too short: 0 and failed, and every later read fails too */
    hwnas__reader r = {buf, 3, 0, 0};
    assert_int_equal(hwnas__reader_u32(&r), 0);
    assert_true(r.failed);
    assert_int_equal(hwnas__reader_u8(&r), 0);
    assert_null(hwnas__reader_take(&r, 1));
    /* NaN is refused */
    double nan = NAN;
    memcpy(buf, &nan, 8);
    r = (hwnas__reader){buf, 8, 0, 0};
    assert_true(hwnas__reader_f64(&r) == 0 && r.failed);
    /* a count larger than what is left */
    uint64_t n = 2;
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(n >> (8 * i));
    r = (hwnas__reader){buf, 16, 0, 0};
    assert_int_equal(hwnas__reader_count(&r, 5), 0);
    assert_true(r.failed);
    r = (hwnas__reader){buf, 16, 0, 0};
    assert_int_equal(hwnas__reader_count(&r, 4), 2);
    assert_false(r.failed);
    assert_int_equal(hwnas__reader_fail(&r), 0);
    assert_true(r.failed);
}

int run_byte_stream_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_streams),
    };
    return cmocka_run_group_tests_name("core/byte_stream", tests, setup, teardown);
}
