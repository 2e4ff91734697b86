/* Out-of-memory walks for every constructor of the data part: fail
 * allocation n = 0, 1, 2, ... until success; each failure returns
 * HWNAS_ENOMEM, leaks nothing and leaves the context usable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_tests.h"
#include "test_oom.h"

static char dir[64], img_path[512], lab_path[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", tmpdir_new());
    uint8_t px[6 * 784], lb[6];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 31);
    for (int i = 0; i < 6; i++)
        lb[i] = (uint8_t)(i % 3);
    uint32_t di[3] = {6, 28, 28}, dl[1] = {6};
    write_idx_u8(img_path, dir, "train-images-idx3-ubyte.gz", 3, di, px, 1);
    write_idx_u8(lab_path, dir, "train-labels-idx1-ubyte.gz", 1, dl, lb, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    return 0;
}

static int step_idx_read(hwnas_context *ctx, void *arg)
{
    (void)arg;
    hwnas_idx *idx = NULL;
    int rc = hwnas_idx_read(&idx, ctx, img_path);
    hwnas_idx_free(idx);
    return rc;
}

static int step_idx_parse(hwnas_context *ctx, void *arg)
{
    (void)arg;
    uint8_t b[16] = {0, 0, HWNAS_IDX_SHORT, 1, 0, 0, 0, 2, 1, 2, 3, 4};
    hwnas_idx *idx = NULL;
    int rc = hwnas_idx_parse(&idx, ctx, b, 12, "mem");
    hwnas_idx_free(idx);
    return rc;
}

static int step_load(hwnas_context *ctx, void *arg)
{
    hwnas_dataset *ds = NULL;
    char opts[1200];
    if (arg)
        snprintf(opts, sizeof opts, "dir=%s", dir);
    else
        snprintf(opts, sizeof opts, "images=%s;labels=%s;classes=3", img_path, lab_path);
    int rc = hwnas_dataset_load(&ds, ctx, arg ? "fashion-mnist" : "idx", opts);
    hwnas_dataset_free(ds);
    return rc;
}

static int step_from_memory(hwnas_context *ctx, void *arg)
{
    float img[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int32_t lab[4] = {0, 1, 1, 0};
    uint8_t u8[8] = {0, 1, 2, 3, 4, 5, 6, 7}, l8[4] = {0, 1, 1, 0};
    hwnas_dataset *ds = NULL;
    int rc = arg ? hwnas_dataset_from_u8(&ds, ctx, u8, l8, 4, 1, 1, 2, 0.5, 0)
                 : hwnas_dataset_from_float(&ds, ctx, img, lab, 4, 1, 2, 1, 0);
    hwnas_dataset_free(ds);
    return rc;
}

/* Walk view constructors: the base dataset is made with allocations
 * allowed, then allocation n onwards fails inside the constructor. */
static void walk_views(int which)
{
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "threads=1");
    assert_non_null(ctx);
    float img[40];
    int32_t lab[20];
    for (int i = 0; i < 20; i++) {
        img[2 * i] = (float)i;
        img[2 * i + 1] = 1;
        lab[i] = i % 3;
    }
    hwnas_dataset *base = NULL;
    assert_int_equal(hwnas_dataset_from_float(&base, ctx, img, lab, 20, 2, 1, 1, 0), HWNAS_OK);
    double mean[2] = {1, 2}, sd[2] = {3, 4};
    assert_int_equal(hwnas_dataset_normalize(base, mean, sd), HWNAS_OK);
    long baseline = t.live;
    size_t pos[3] = {4, 1, 4};
    for (long n = 0;; n++) {
        assert_true(n < 1000);
        test_alloc_fail_from(&t, n);
        hwnas_dataset *a = NULL, *b = NULL;
        int rc;
        switch (which) {
        case 0: rc = hwnas_dataset_subset(&a, base, 5, HWNAS_DATASET_FIRST, 0); break;
        case 1: rc = hwnas_dataset_subset(&a, base, 5, HWNAS_DATASET_RANDOM, 1); break;
        case 2: rc = hwnas_dataset_subset(&a, base, 5, HWNAS_DATASET_STRATIFIED, 1); break;
        case 3: rc = hwnas_dataset_select(&a, base, pos, 3); break;
        case 4: rc = hwnas_dataset_split(&a, &b, base, 0.3, HWNAS_DATASET_RANDOM, 1); break;
        case 5: rc = hwnas_dataset_split(&a, &b, base, 0.3, HWNAS_DATASET_STRATIFIED, 1); break;
        default: {
            /* normalize on a dataset that has none yet allocates. */
            hwnas_dataset_normalize(base, NULL, NULL);
            rc = hwnas_dataset_normalize(base, mean, sd);
            break;
        }
        }
        test_alloc_disarm(&t);
        hwnas_dataset_free(a);
        hwnas_dataset_free(b);
        if (which == 6 && rc != HWNAS_OK) {
            /* Unchanged on error: still unnormalised. Restore the baseline. */
            float v[2];
            size_t p0 = 0;
            assert_int_equal(hwnas_dataset_batch(v, NULL, base, &p0, 1), HWNAS_OK);
            assert_true(v[0] == 0.0f && v[1] == 1.0f);
            assert_int_equal(hwnas_dataset_normalize(base, mean, sd), HWNAS_OK);
        }
        assert_int_equal(t.live, baseline);
        if (rc == HWNAS_OK)
            break;
        if (rc != HWNAS_ENOMEM)
            fail_msg("view %d: step %ld returned %d (%s)", which, n, rc, hwnas_error_last());
        assert_null(a);
        assert_null(b);
    }
    hwnas_dataset_free(base);
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
}

static void test_oom_idx(void **state)
{
    (void)state;
    test_oom_walk("idx_read", step_idx_read, NULL);
    test_oom_walk("idx_parse", step_idx_parse, NULL);
}

static void test_oom_load(void **state)
{
    (void)state;
    test_oom_walk("load idx", step_load, NULL);
    test_oom_walk("load fashion-mnist", step_load, dir);
}

static void test_oom_memory(void **state)
{
    (void)state;
    test_oom_walk("from_float", step_from_memory, NULL);
    test_oom_walk("from_u8", step_from_memory, dir);
}

static void test_oom_views(void **state)
{
    (void)state;
    for (int which = 0; which <= 6; which++)
        walk_views(which);
}

int run_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_idx),
        cmocka_unit_test(test_oom_load),
        cmocka_unit_test(test_oom_memory),
        cmocka_unit_test(test_oom_views),
    };
    return cmocka_run_group_tests_name("data-oom", tests, setup, teardown);
}
