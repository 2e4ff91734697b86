/* Choosing samples: subsets, selections, splits and shuffles are
 * deterministic for a seed, independent of the thread count, and keep
 * their promises (disjoint, complete, stratified). */
#include <stdlib.h>
#include <string.h>

#include "data_tests.h"

/* n samples; sample i has a single pixel i and label class_of(i). Classes
 * have unequal sizes: label = i % 7 < 4 ? 0 : i % 7 - 3 (classes 0..3). */
static int32_t class_of(size_t i) { return i % 7 < 4 ? 0 : (int32_t)(i % 7 - 3); }

static hwnas_dataset *numbered(hwnas_context *ctx, size_t n)
{
    float *img = malloc(n * sizeof *img);
    int32_t *lab = malloc(n * sizeof *lab);
    for (size_t i = 0; i < n; i++) {
        img[i] = (float)i;
        lab[i] = class_of(i);
    }
    hwnas_dataset *ds = NULL;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, n, 1, 1, 1, 0), HWNAS_OK);
    free(img);
    free(lab);
    return ds;
}

/* The original indices (pixel values) of the samples of ds. */
static size_t *ids(const hwnas_dataset *ds)
{
    size_t n = hwnas_dataset_count(ds);
    size_t *pos = malloc(n * sizeof *pos), *out = malloc(n * sizeof *out);
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        pos[i] = i;
    assert_int_equal(hwnas_dataset_batch(v, NULL, ds, pos, n), HWNAS_OK);
    for (size_t i = 0; i < n; i++)
        out[i] = (size_t)v[i];
    free(pos);
    free(v);
    return out;
}

static void test_subset(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    hwnas_dataset *ds = numbered(ctx, 700), *a = NULL, *b = NULL;
    assert_int_equal(hwnas_dataset_classes(ds), 4);
    /* First n. */
    assert_int_equal(hwnas_dataset_subset(&a, ds, 10, HWNAS_DATASET_FIRST, 0), HWNAS_OK);
    size_t *ia = ids(a);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(ia[i], i);
    free(ia);
    hwnas_dataset_free(a);
    /* Random n: same seed same choice, ascending, no repeats; other seed differs. */
    assert_int_equal(hwnas_dataset_subset(&a, ds, 100, HWNAS_DATASET_RANDOM, 42), HWNAS_OK);
    assert_int_equal(hwnas_dataset_subset(&b, ds, 100, HWNAS_DATASET_RANDOM, 42), HWNAS_OK);
    ia = ids(a);
    size_t *ib = ids(b);
    assert_memory_equal(ia, ib, 100 * sizeof *ia);
    for (size_t i = 1; i < 100; i++)
        assert_true(ia[i] > ia[i - 1]);
    free(ib);
    hwnas_dataset_free(b);
    assert_int_equal(hwnas_dataset_subset(&b, ds, 100, HWNAS_DATASET_RANDOM, 43), HWNAS_OK);
    ib = ids(b);
    assert_memory_not_equal(ia, ib, 100 * sizeof *ia);
    free(ia);
    free(ib);
    hwnas_dataset_free(a);
    hwnas_dataset_free(b);
    /* Stratified: 70 of 700 keeps the class sizes 400:100:100:100 exactly. */
    assert_int_equal(hwnas_dataset_subset(&a, ds, 70, HWNAS_DATASET_STRATIFIED, 1), HWNAS_OK);
    size_t h[4];
    assert_int_equal(hwnas_dataset_histogram(h, a), HWNAS_OK);
    assert_true(h[0] == 40 && h[1] == 10 && h[2] == 10 && h[3] == 10);
    /* A subset of a subset: 7 of those 70 -> 4:1:1:1; labels follow. */
    assert_int_equal(hwnas_dataset_subset(&b, a, 7, HWNAS_DATASET_STRATIFIED, 2), HWNAS_OK);
    assert_int_equal(hwnas_dataset_histogram(h, b), HWNAS_OK);
    assert_true(h[0] == 4 && h[1] == 1 && h[2] == 1 && h[3] == 1);
    ib = ids(b);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(hwnas_dataset_label(b, i), class_of(ib[i]));
    free(ib);
    hwnas_dataset_free(b);
    hwnas_dataset_free(a);
    /* Odd sizes still sum up: 5 of 700 by largest remainder (4:1:1:1 * 5/7). */
    assert_int_equal(hwnas_dataset_subset(&a, ds, 5, HWNAS_DATASET_STRATIFIED, 3), HWNAS_OK);
    assert_int_equal(hwnas_dataset_count(a), 5);
    assert_int_equal(hwnas_dataset_histogram(h, a), HWNAS_OK);
    assert_int_equal(h[0] + h[1] + h[2] + h[3], 5);
    assert_int_equal(h[0], 3);
    hwnas_dataset_free(a);
    /* Errors. */
    assert_int_equal(hwnas_dataset_subset(&a, ds, 0, HWNAS_DATASET_FIRST, 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_subset(&a, ds, 701, HWNAS_DATASET_RANDOM, 0), HWNAS_EINVAL);
    assert_message_has("701", NULL);
    assert_int_equal(hwnas_dataset_subset(&a, ds, 5, 9, 0), HWNAS_EINVAL);
    assert_message_has("mode 9", NULL);
    assert_null(a);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

static void test_select(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    hwnas_dataset *ds = numbered(ctx, 50), *a = NULL, *b = NULL;
    size_t p[4] = {9, 3, 3, 49};
    assert_int_equal(hwnas_dataset_select(&a, ds, p, 4), HWNAS_OK);
    size_t q[2] = {3, 0};
    assert_int_equal(hwnas_dataset_select(&b, a, q, 2), HWNAS_OK);
    size_t *ib = ids(b);
    assert_true(ib[0] == 49 && ib[1] == 9);
    free(ib);
    p[2] = 50;
    hwnas_dataset *c = NULL;
    assert_int_equal(hwnas_dataset_select(&c, ds, p, 4), HWNAS_EINVAL);
    assert_message_has("positions[2] = 50", NULL);
    assert_int_equal(hwnas_dataset_select(&c, ds, p, 0), HWNAS_EINVAL);
    hwnas_dataset_free(a);
    hwnas_dataset_free(b);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

/* Split ds under a context of `threads` threads; returns the ids of the
 * validation part (n_val of them) after checking the split's promises. */
static size_t *split_ids(const char *threads, int mode, uint64_t seed, size_t *n_val)
{
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, threads), HWNAS_OK);
    hwnas_dataset *ds = numbered(ctx, 1000), *tr = NULL, *va = NULL;
    assert_int_equal(hwnas_dataset_split(&tr, &va, ds, 0.15, mode, seed), HWNAS_OK);
    assert_int_equal(hwnas_dataset_count(va), 150);
    assert_int_equal(hwnas_dataset_count(tr), 850);
    size_t *it = ids(tr), *iv = ids(va);
    /* Disjoint and complete: every id exactly once. */
    char seen[1000] = {0};
    for (size_t i = 0; i < 850; i++)
        seen[it[i]]++;
    for (size_t i = 0; i < 150; i++)
        seen[iv[i]]++;
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    for (size_t i = 1; i < 150; i++)
        assert_true(iv[i] > iv[i - 1]);
    if (mode == HWNAS_DATASET_STRATIFIED) {
        /* Classes of 572/143/143/142 (0..999): 15% is 85.8/21.45/21.45/21.3. */
        size_t h[4];
        assert_int_equal(hwnas_dataset_histogram(h, va), HWNAS_OK);
        assert_true(h[0] == 86 && h[1] == 22 && h[2] == 21 && h[3] == 21);
    }
    free(it);
    hwnas_dataset_free(tr);
    hwnas_dataset_free(va);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
    *n_val = 150;
    return iv;
}

static void test_split(void **state)
{
    (void)state;
    for (int mode = HWNAS_DATASET_RANDOM; mode <= HWNAS_DATASET_STRATIFIED; mode++) {
        size_t n;
        size_t *a = split_ids("threads=1", mode, 7, &n);
        size_t *b = split_ids("threads=4", mode, 7, &n);
        size_t *c = split_ids("threads=2", mode, 8, &n);
        assert_memory_equal(a, b, n * sizeof *a);
        assert_memory_not_equal(a, c, n * sizeof *a);
        free(a);
        free(b);
        free(c);
    }
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    hwnas_dataset *ds = numbered(ctx, 10), *tr = (hwnas_dataset *)1, *va = (hwnas_dataset *)1;
    assert_int_equal(hwnas_dataset_split(&tr, &va, ds, 0.01, HWNAS_DATASET_RANDOM, 0),
                     HWNAS_EINVAL);
    assert_message_has("0 for validation", NULL);
    assert_null(tr);
    assert_null(va);
    assert_int_equal(hwnas_dataset_split(&tr, &va, ds, 1.0, HWNAS_DATASET_RANDOM, 0),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_split(&tr, &va, ds, 0.5, HWNAS_DATASET_FIRST, 0),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_split(&tr, NULL, ds, 0.5, HWNAS_DATASET_RANDOM, 0),
                     HWNAS_EINVAL);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

static void test_shuffle(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    hwnas_dataset *ds = numbered(ctx, 500);
    size_t a[500], b[500], c[500], d[500];
    assert_int_equal(hwnas_dataset_shuffle(a, ds, 3, 0), HWNAS_OK);
    assert_int_equal(hwnas_dataset_shuffle(b, ds, 3, 0), HWNAS_OK);
    assert_int_equal(hwnas_dataset_shuffle(c, ds, 3, 1), HWNAS_OK);
    assert_int_equal(hwnas_dataset_shuffle(d, ds, 4, 0), HWNAS_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    assert_memory_not_equal(a, d, sizeof a);
    /* A permutation, and not the identity. */
    char seen[500] = {0};
    size_t fixed = 0;
    for (size_t i = 0; i < 500; i++) {
        assert_true(a[i] < 500);
        seen[a[i]]++;
        fixed += a[i] == i;
    }
    for (size_t i = 0; i < 500; i++)
        assert_int_equal(seen[i], 1);
    assert_true(fixed < 20);
    /* A single sample. */
    hwnas_dataset *one = NULL;
    assert_int_equal(hwnas_dataset_subset(&one, ds, 1, HWNAS_DATASET_FIRST, 0), HWNAS_OK);
    assert_int_equal(hwnas_dataset_shuffle(a, one, 3, 0), HWNAS_OK);
    assert_int_equal(a[0], 0);
    assert_int_equal(hwnas_dataset_shuffle(NULL, one, 3, 0), HWNAS_EINVAL);
    hwnas_dataset_free(one);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

int run_sample_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subset),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_shuffle),
    };
    return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}
