/*
 * A counting, failing allocator for tests (header-only).
 *
 * fail_at = n makes the n-th allocation (0-based) and every later one fail,
 * so an out-of-memory walk raises n from 0 until the call succeeds. live
 * counts blocks not yet freed: it must be back to zero after every free.
 */
#ifndef HWNAS_TEST_ALLOC_H
#define HWNAS_TEST_ALLOC_H

#include <stdint.h>
#include <stdlib.h>

#include <hwnas/hwnas.h>

typedef struct test_alloc {
    long calls;   /* allocations attempted (malloc and realloc) */
    long fail_at; /* first failing call; -1 = never fail */
    long live;    /* blocks allocated and not yet freed */
} test_alloc;

static void *test_alloc_malloc(size_t size, void *ud)
{
    test_alloc *t = ud;
    if (t->fail_at >= 0 && t->calls++ >= t->fail_at)
        return NULL;
    void *p = malloc(size);
    if (p)
        t->live++;
    return p;
}

static void *test_alloc_realloc(void *ptr, size_t size, void *ud)
{
    test_alloc *t = ud;
    if (t->fail_at >= 0 && t->calls++ >= t->fail_at)
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        t->live++;
    return p;
}

static void test_alloc_free(void *ptr, void *ud)
{
    test_alloc *t = ud;
    if (ptr)
        t->live--;
    free(ptr);
}

static inline void test_alloc_init(test_alloc *t)
{
    t->calls = 0;
    t->fail_at = -1;
    t->live = 0;
}

/* A context on the counting allocator (never failing until fail_at is set). */
static inline hwnas_context *test_alloc_context(test_alloc *t, const char *options)
{
    hwnas_context *ctx = NULL;
    test_alloc_init(t);
    if (hwnas_context_new_custom(&ctx, options, test_alloc_malloc, test_alloc_realloc,
                                 test_alloc_free, t) != HWNAS_OK)
        return NULL;
    return ctx;
}

/* Arm the allocator to fail from the n-th call on, counting from now. */
static inline void test_alloc_fail_from(test_alloc *t, long n)
{
    t->calls = 0;
    t->fail_at = n;
}

static inline void test_alloc_disarm(test_alloc *t) { t->fail_at = -1; }

#endif
