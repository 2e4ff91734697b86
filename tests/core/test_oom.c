/* Out-of-memory walks: fail allocation n = 0, 1, 2, ... until success.
 * Each failure must return HWNAS_ENOMEM, leak nothing and leave the
 * context usable. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core_tests.h"
#include "core/core_internal.h"
#include "test_alloc.h"

/* One step of a walk: returns the call's result with allocations failing
 * from the n-th on. The context lives outside the step. */
typedef int (*oom_step)(hwnas_context *ctx, test_alloc *t, long n, void *arg);

static void walk(const char *name, oom_step step, void *arg)
{
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "threads=1");
    assert_non_null(ctx);
    long baseline = t.live;
    for (long n = 0;; n++) {
        assert_true(n < 100000);
        test_alloc_fail_from(&t, n);
        int rc = step(ctx, &t, n, arg);
        test_alloc_disarm(&t);
        if (rc == HWNAS_OK) {
            assert_int_equal(t.live, baseline); /* the step frees its result */
            break;
        }
        if (rc != HWNAS_ENOMEM)
            fail_msg("%s: step %ld returned %d (%s)", name, n, rc, hwnas_error_last());
        assert_int_equal(t.live, baseline);
    }
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
}

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

static int step_options_new(hwnas_context *ctx, test_alloc *t, long n, void *arg)
{
    (void)t;
    (void)n;
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

static int step_context_set_option(hwnas_context *ctx, test_alloc *t, long n, void *arg)
{
    (void)t;
    (void)n;
    (void)arg;
    return hwnas_context_set_option(ctx, "log_level", "info");
}

static int step_rng_new(hwnas_context *ctx, test_alloc *t, long n, void *arg)
{
    (void)t;
    (void)n;
    (void)arg;
    hwnas_rng *r = NULL;
    int rc = hwnas_rng_new(&r, ctx, 1, 2);
    hwnas_rng_free(r);
    return rc;
}

static int step_file_round_trip(hwnas_context *ctx, test_alloc *t, long n, void *arg)
{
    (void)t;
    (void)n;
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

static void test_oom_walks(void **state)
{
    (void)state;
    walk("options", step_options_new, NULL);
    walk("context_set_option", step_context_set_option, NULL);
    walk("rng", step_rng_new, NULL);
    char path[] = "/tmp/hwnas-oom-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    walk("file", step_file_round_trip, path);
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
