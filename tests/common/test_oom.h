/*
 * The out-of-memory walk (STYLE.md rule 20), header-only, for cmocka tests:
 * include <cmocka.h> (with its prerequisites) before this header.
 *
 * test_oom_walk runs step on a context whose allocator fails the n-th
 * allocation (0-based) and every later one, for n = 0, 1, 2, ... until the
 * step succeeds. Each failing step must return HWNAS_ENOMEM and every step
 * must leave the context's live blocks as it found them (the step frees
 * what it made); the context must still work for the next n, and it frees
 * to zero blocks at the end.
 */
#ifndef HWNAS_TEST_OOM_H
#define HWNAS_TEST_OOM_H

#include "test_alloc.h"

/* One step: the calls under test on ctx, returning their result. */
typedef int (*test_oom_step)(hwnas_context *ctx, void *arg);

/* Steps that allocate more often than this are taken for a loop. */
#define TEST_OOM_MAX_STEPS 100000L

static inline void test_oom_walk(const char *name, test_oom_step step, void *arg)
{
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "threads=1");
    assert_non_null(ctx);
    long baseline = t.live;
    for (long n = 0;; n++) {
        if (n >= TEST_OOM_MAX_STEPS)
            fail_msg("%s: still failing after %ld allocations", name, n);
        test_alloc_fail_from(&t, n);
        int rc = step(ctx, arg);
        test_alloc_disarm(&t);
        if (rc != HWNAS_OK && rc != HWNAS_ENOMEM)
            fail_msg("%s: step %ld returned %d (%s)", name, n, rc, hwnas_error_last());
        if (t.live != baseline)
            fail_msg("%s: step %ld (%s) leaked %ld blocks", name, n,
                     rc == HWNAS_OK ? "success" : "ENOMEM", t.live - baseline);
        if (rc == HWNAS_OK)
            break;
    }
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
}

#endif
