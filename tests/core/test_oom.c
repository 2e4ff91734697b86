/* Out-of-memory walks: fail allocation n = 0, 1, 2, ... until success.
 * Each failure must return HWNAS_ENOMEM, leak nothing and leave the
 * context usable. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core_tests.h"
#include "core/core_internal.h"
#include "test_oom.h"

static void test_oom_context_new(void **state)
{
    (void)state;
    for (long n = 0;; n++) {
        test_alloc t;
        test_alloc_init(&t);
        test_alloc_fail_from(&t, n);
        hwnas_context *ctx = (hwnas_context *)0x1;
        int rc = hwnas_context_new_custom(&ctx, "threads=2;seed=3;log_level=info",
                                          test_alloc_malloc, test_alloc_realloc,
                                          test_alloc_free, &t);
        if (rc == HWNAS_OK) {
            test_alloc_disarm(&t);
            hwnas_context_free(ctx);
            assert_int_equal(t.live, 0);
            break;
        }
        assert_int_equal(rc, HWNAS_ENOMEM);
        assert_null(ctx);
        assert_int_equal(t.live, 0);
    }
}

static int step_options_new(hwnas_context *ctx, void *arg)
{
    (void)arg;
    hwnas_options *o = NULL;
    int rc = hwnas_options_new(&o, ctx, "context");
    if (rc == HWNAS_OK)
        rc = hwnas_options_parse(o, "threads=7;log_level='debug'");
    if (rc == HWNAS_OK) {
        char *s = NULL;
        rc = hwnas_options_format(o, 0, &s);
        hwnas_free(s);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_options_set(o, "seed", "99");
    hwnas_options_free(o);
    return rc;
}

static int step_context_set_option(hwnas_context *ctx, void *arg)
{
    (void)arg;
    return hwnas_context_set_option(ctx, "log_level", "info");
}

static int step_rng_new(hwnas_context *ctx, void *arg)
{
    (void)arg;
    hwnas_rng *r = NULL;
    int rc = hwnas_rng_new(&r, ctx, 1, 2);
    hwnas_rng_free(r);
    return rc;
}

static int step_file_round_trip(hwnas_context *ctx, void *arg)
{
    const char *path = arg;
    static uint8_t data[20000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i % 251);
    int rc = hwnas__file_write_atomic(ctx, path, data, sizeof data, 1);
    if (rc != HWNAS_OK)
        return rc;
    uint8_t *back = NULL;
    size_t len = 0;
    rc = hwnas__file_read(ctx, path, 0, &back, &len);
    if (rc == HWNAS_OK && (len != sizeof data || memcmp(back, data, len) != 0))
        rc = HWNAS_EINTERNAL;
    hwnas__free(ctx, back);
    return rc;
}

static int step_csv(hwnas_context *ctx, void *arg)
{
    (void)arg;
    hwnas__csv t;
    int rc = hwnas__csv_parse(ctx, "k,\"v\"\n1,\"a\"\"b\"\n2,c\n", "oom.csv", &t);
    if (rc == HWNAS_OK)
        hwnas__csv_free(ctx, &t);
    return rc;
}

static int step_writer(hwnas_context *ctx, void *arg)
{
    (void)arg;
    hwnas__writer w = {ctx, NULL, 0, 0, 0};
    for (uint32_t i = 0; i < 1000; i++)
        hwnas__writer_u32(&w, i);
    hwnas__free(ctx, w.data);
    return w.failed ? HWNAS_ENOMEM : HWNAS_OK;
}

static void test_oom_walks(void **state)
{
    (void)state;
    test_oom_walk("options", step_options_new, NULL);
    test_oom_walk("context_set_option", step_context_set_option, NULL);
    test_oom_walk("rng", step_rng_new, NULL);
    test_oom_walk("csv", step_csv, NULL);
    test_oom_walk("byte stream writer", step_writer, NULL);
    char path[] = "/tmp/hwnas-oom-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    test_oom_walk("file", step_file_round_trip, path);
    unlink(path);
}

int run_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_context_new),
        cmocka_unit_test(test_oom_walks),
    };
    return cmocka_run_group_tests_name("core/oom", tests, NULL, NULL);
}
