/* parallel-for: the built-in pool, nesting, stopping, the host's own loop. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_tests.h"
#include "core/core_internal.h"

typedef struct squares {
    uint64_t *out;
    size_t threads;
    atomic_int bad_worker;
} squares;

static int square_task(size_t i, size_t worker, void *data)
{
    squares *s = data;
    if (worker >= s->threads)
        atomic_store(&s->bad_worker, 1);
    s->out[i] = (uint64_t)i * i;
    return 0;
}

static void run_squares(const char *options)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, options), HWNAS_OK);
    enum { N = 100000 };
    squares s = {calloc(N, sizeof(uint64_t)), hwnas_context_threads(ctx), 0};
    assert_non_null(s.out);
    for (int round = 0; round < 3; round++) { /* the pool is reused */
        memset(s.out, 0, N * sizeof(uint64_t));
        assert_int_equal(hwnas_parallel_for(ctx, N, square_task, &s), HWNAS_OK);
        for (size_t i = 0; i < N; i++)
            assert_true(s.out[i] == (uint64_t)i * i);
    }
    assert_int_equal(atomic_load(&s.bad_worker), 0);
    assert_int_equal(hwnas_parallel_for(ctx, 0, square_task, &s), HWNAS_OK);
    free(s.out);
    hwnas_context_free(ctx);
}

static void test_serial_and_threads(void **state)
{
    (void)state;
    run_squares("threads=1");
    run_squares("threads=2");
    run_squares("threads=4");
    run_squares("threads=0");
}

static int failing_task(size_t i, size_t worker, void *data)
{
    (void)worker;
    atomic_fetch_add((atomic_int *)data, 1);
    return i == 10 ? 42 : 0;
}

static void test_stop(void **state)
{
    (void)state;
    hwnas_context *ctx;
    for (int t = 1; t <= 3; t++) {
        char opt[32];
        snprintf(opt, sizeof opt, "threads=%d", t);
        assert_int_equal(hwnas_context_new(&ctx, opt), HWNAS_OK);
        atomic_int ran = 0;
        assert_int_equal(hwnas_parallel_for(ctx, 1000000, failing_task, &ran), HWNAS_EUSER);
        assert_non_null(strstr(hwnas_error_last(), "42"));
        assert_true(atomic_load(&ran) < 1000000); /* it really stopped */
        /* And the pool still works afterwards. */
        atomic_int ran2 = 0;
        assert_int_equal(hwnas_parallel_for(ctx, 5, failing_task, &ran2), HWNAS_OK);
        assert_int_equal(atomic_load(&ran2), 5);
        hwnas_context_free(ctx);
    }
    assert_int_equal(hwnas_parallel_for(NULL, 1, failing_task, NULL), HWNAS_EINVAL);
}

typedef struct nested {
    hwnas_context *ctx;
    atomic_long total;
} nested;

static int inner_task(size_t i, size_t worker, void *data)
{
    (void)worker;
    atomic_fetch_add(&((nested *)data)->total, (long)i);
    return 0;
}

static int outer_task(size_t i, size_t worker, void *data)
{
    (void)i;
    (void)worker;
    nested *n = data;
    return hwnas_parallel_for(n->ctx, 100, inner_task, n) == HWNAS_OK ? 0 : 1;
}

static void test_nested(void **state)
{
    (void)state;
    nested n;
    assert_int_equal(hwnas_context_new(&n.ctx, "threads=3"), HWNAS_OK);
    atomic_init(&n.total, 0);
    assert_int_equal(hwnas_parallel_for(n.ctx, 20, outer_task, &n), HWNAS_OK);
    assert_int_equal(atomic_load(&n.total), 20 * 4950);
    hwnas_context_free(n.ctx);
}

typedef struct host_loop {
    int calls;
} host_loop;

/* A host's parallel-for: here, backwards on one thread. */
static int backwards_for(size_t n, hwnas_task_fn task, void *task_data, void *user_data)
{
    ((host_loop *)user_data)->calls++;
    for (size_t i = n; i-- > 0;) {
        int r = task(i, 0, task_data);
        if (r)
            return r;
    }
    return 0;
}

static void test_host_parallel_for(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    host_loop h = {0};
    hwnas_context_set_parallel_for(ctx, backwards_for, &h);
    squares s = {calloc(1000, sizeof(uint64_t)), 1, 0};
    assert_int_equal(hwnas_parallel_for(ctx, 1000, square_task, &s), HWNAS_OK);
    assert_int_equal(h.calls, 1);
    assert_true(s.out[999] == 999 * 999);
    atomic_int ran = 0;
    assert_int_equal(hwnas_parallel_for(ctx, 100, failing_task, &ran), HWNAS_EUSER);
    hwnas_context_set_parallel_for(ctx, NULL, NULL);
    assert_int_equal(hwnas_parallel_for(ctx, 1000, square_task, &s), HWNAS_OK);
    assert_int_equal(h.calls, 2);
    free(s.out);
    hwnas_context_free(ctx);
}

int run_parallel_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_and_threads),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_host_parallel_for),
    };
    return cmocka_run_group_tests_name("core/parallel", tests, NULL, NULL);
}
