/* Errors, version and the context. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core_tests.h"
#include "core/core_internal.h"
#include "engine/backend/backend.h"
#include "test_alloc.h"

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(hwnas_version_number(), HWNAS_VERSION_NUMBER);
    assert_string_equal(hwnas_version_string(), HWNAS_VERSION_STRING);
    assert_string_equal(hwnas_version_string(), HWNAS_MESON_VERSION);
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", HWNAS_VERSION_MAJOR, HWNAS_VERSION_MINOR,
             HWNAS_VERSION_PATCH);
    assert_string_equal(buf, HWNAS_VERSION_STRING);
}

/* Every known feature, in the documented order, each yes or no, and each
 * answer matching what the build really has. */
static void test_build_features(void **state)
{
    (void)state;
    assert_int_equal(hwnas_abi_version(), HWNAS_TEST_ABI_MAJOR);
    const char *f = hwnas_build_features();
    assert_non_null(f);
    assert_ptr_equal(f, hwnas_build_features()); /* static storage */
    char expect[128];
    snprintf(expect, sizeof expect, "onednn=%s;mpi=%s;onnx=%s",
             hwnas__backend_onednn() ? "yes" : "no", HWNAS_TEST_MPI ? "yes" : "no",
             hwnas_onnx_available() ? "yes" : "no");
    assert_string_equal(f, expect);
    /* engine=onednn works exactly when the feature says so */
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "engine=onednn"), HWNAS_OK);
    const hwnas__backend_ops *ops = NULL;
    int rc = hwnas__backend_pick(&ops, ctx);
    assert_int_equal(rc == HWNAS_OK, strstr(f, "onednn=yes") != NULL);
    hwnas_context_free(ctx);
}

static void test_error_codes(void **state)
{
    (void)state;
    /* The numbers are ABI: they must never change. */
    assert_int_equal(HWNAS_OK, 0);
    assert_int_equal(HWNAS_EINVAL, -1);
    assert_int_equal(HWNAS_ENOMEM, -2);
    assert_int_equal(HWNAS_EIO, -3);
    assert_int_equal(HWNAS_EFORMAT, -4);
    assert_int_equal(HWNAS_ENOTFOUND, -5);
    assert_int_equal(HWNAS_EUSER, -6);
    assert_int_equal(HWNAS_ESTATE, -7);
    assert_int_equal(HWNAS_EVERSION, -8);
    assert_int_equal(HWNAS_EUNSUPPORTED, -9);
    assert_int_equal(HWNAS_EINVALID, -10);
    assert_int_equal(HWNAS_EINTERNAL, -11);
    for (int c = HWNAS_EINTERNAL; c <= HWNAS_OK; c++) {
        assert_non_null(hwnas_error_str(c));
        assert_string_not_equal(hwnas_error_str(c), "unknown error");
    }
    assert_string_equal(hwnas_error_str(-999), "unknown error");
    assert_string_equal(hwnas_error_str(5), "unknown error");
}

static void test_error_last(void **state)
{
    (void)state;
    hwnas_error_clear();
    assert_string_equal(hwnas_error_last(), "");
    assert_int_equal(hwnas_error_last_code(), HWNAS_OK);
    assert_int_equal(hwnas__error(HWNAS_EFORMAT, "%s:%d: bad", "f.net", 3), HWNAS_EFORMAT);
    assert_string_equal(hwnas_error_last(), "f.net:3: bad");
    assert_int_equal(hwnas_error_last_code(), HWNAS_EFORMAT);
    /* A message may be built from the previous one. */
    hwnas__error(HWNAS_EIO, "while loading: %s", hwnas_error_last());
    assert_string_equal(hwnas_error_last(), "while loading: f.net:3: bad");
    hwnas_error_clear();
    assert_string_equal(hwnas_error_last(), "");
}

static void *other_thread(void *arg)
{
    (void)arg;
    hwnas__error(HWNAS_EIO, "from the other thread");
    return NULL;
}

static void test_error_per_thread(void **state)
{
    (void)state;
    hwnas__error(HWNAS_EINVAL, "main thread message");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    assert_string_equal(hwnas_error_last(), "main thread message");
    assert_int_equal(hwnas_error_last_code(), HWNAS_EINVAL);
}

static void test_context_defaults(void **state)
{
    (void)state;
    hwnas_context *ctx = (hwnas_context *)0x1;
    assert_int_equal(hwnas_context_new(NULL, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    assert_true(hwnas_context_threads(ctx) >= 1);
    assert_int_equal(hwnas_context_seed(ctx), 0);
    const hwnas_options *o = hwnas_context_options(ctx);
    assert_non_null(o);
    assert_string_equal(hwnas_options_kind(o), "context");
    hwnas_context_free(ctx);
    hwnas_context_free(NULL);
}

static void test_context_options(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=3; seed=12345678901"), HWNAS_OK);
    assert_int_equal(hwnas_context_threads(ctx), 3);
    assert_int_equal(hwnas_context_seed(ctx), 12345678901ULL);
    assert_int_equal(hwnas_context_set_option(ctx, "threads", "1"), HWNAS_OK);
    assert_int_equal(hwnas_context_threads(ctx), 1);
    assert_int_equal(hwnas_context_set_option(ctx, "threads", "-1"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "[0, 4096]"));
    assert_int_equal(hwnas_context_threads(ctx), 1);
    assert_int_equal(hwnas_context_set_option(NULL, "threads", "1"), HWNAS_EINVAL);
    hwnas_context_free(ctx);

    ctx = (hwnas_context *)0x1;
    assert_int_equal(hwnas_context_new(&ctx, "thread=2"), HWNAS_EINVAL);
    assert_null(ctx);
    const char *msg = hwnas_error_last();
    assert_non_null(strstr(msg, "'thread'"));
    assert_non_null(strstr(msg, "threads, seed, log_level"));
    assert_non_null(strstr(msg, "did you mean 'threads'"));
}

static void test_context_custom_allocator(void **state)
{
    (void)state;
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "seed=5");
    assert_non_null(ctx);
    assert_true(t.live > 0);
    char *buf = hwnas__buffer_strdup(ctx, "handed to the caller");
    assert_non_null(buf);
    long before = t.live;
    hwnas_free(buf);
    assert_int_equal(t.live, before - 1);
    hwnas_free(NULL);
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
    assert_int_equal(hwnas_context_new_custom(&ctx, NULL, test_alloc_malloc, NULL,
                                              test_alloc_free, &t),
                     HWNAS_EINVAL);
}

typedef struct log_capture {
    int calls;
    int level;
    char last[256];
} log_capture;

static void capture_log(int level, const char *message, void *user_data)
{
    log_capture *c = user_data;
    c->calls++;
    c->level = level;
    snprintf(c->last, sizeof c->last, "%s", message);
}

static void test_context_log(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "log_level=info"), HWNAS_OK);
    log_capture c = {0, -1, ""};
    hwnas_context_set_log(ctx, capture_log, &c);
    hwnas_context_log(ctx, HWNAS_LOG_INFO, "evaluated %d of %d", 3, 10);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, HWNAS_LOG_INFO);
    assert_string_equal(c.last, "evaluated 3 of 10");
    hwnas_context_log(ctx, HWNAS_LOG_DEBUG, "too verbose");
    assert_int_equal(c.calls, 1);
    assert_int_equal(hwnas_context_set_option(ctx, "log_level", "debug"), HWNAS_OK);
    hwnas_context_log(ctx, HWNAS_LOG_DEBUG, "now shown");
    assert_int_equal(c.calls, 2);
    assert_int_equal(hwnas_context_set_option(ctx, "log_level", "error"), HWNAS_OK);
    hwnas_context_log(ctx, HWNAS_LOG_WARN, "hidden");
    assert_int_equal(c.calls, 2);
    hwnas_context_free(ctx);
}

int run_error_context_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_build_features),
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test(test_error_last),
        cmocka_unit_test(test_error_per_thread),
        cmocka_unit_test(test_context_defaults),
        cmocka_unit_test(test_context_options),
        cmocka_unit_test(test_context_custom_allocator),
        cmocka_unit_test(test_context_log),
    };
    return cmocka_run_group_tests_name("core/error+context", tests, NULL, NULL);
}
