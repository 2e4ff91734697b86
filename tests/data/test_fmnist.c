/* The real Fashion-MNIST from the Debian package dataset-fashion-mnist:
 * sizes, shape and the known label histogram. Skipped when absent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "data_tests.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

static void check_split(const char *split, size_t n, size_t per_class)
{
    if (access(FMNIST_DIR, R_OK) != 0) {
        print_message("skipped: " FMNIST_DIR " is absent (apt-get install "
                      "dataset-fashion-mnist)\n");
        skip();
    }
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    char opts[64];
    snprintf(opts, sizeof opts, "split=%s", split);
    hwnas_dataset *ds = NULL;
    int rc = hwnas_dataset_load(&ds, ctx, "fashion-mnist", opts);
    if (rc != HWNAS_OK)
        fail_msg("%s", hwnas_error_last());
    assert_int_equal(hwnas_dataset_count(ds), n);
    assert_int_equal(hwnas_dataset_channels(ds), 1);
    assert_int_equal(hwnas_dataset_height(ds), 28);
    assert_int_equal(hwnas_dataset_width(ds), 28);
    assert_int_equal(hwnas_dataset_classes(ds), 10);
    size_t h[10];
    assert_int_equal(hwnas_dataset_histogram(h, ds), HWNAS_OK);
    for (int c = 0; c < 10; c++)
        assert_int_equal(h[c], per_class);
    /* The first image of both splits is an ankle boot (class 9). */
    assert_int_equal(hwnas_dataset_label(ds, 0), 9);
    /* Values are bytes / 255: in [0, 1], with both ends reached. */
    double mean, sd;
    assert_int_equal(hwnas_dataset_stats(&mean, &sd, ds), HWNAS_OK);
    /* Published figures: mean 0.2860, std 0.3530 on the training set. */
    if (n == 60000)
        assert_true(fabs(mean - 0.2860) < 5e-4 && fabs(sd - 0.3530) < 5e-4);
    float img[784];
    size_t p = 0;
    assert_int_equal(hwnas_dataset_batch(img, NULL, ds, &p, 1), HWNAS_OK);
    float lo = 1, hi = 0;
    for (int k = 0; k < 784; k++) {
        lo = img[k] < lo ? img[k] : lo;
        hi = img[k] > hi ? img[k] : hi;
    }
    assert_true(lo == 0.0f && hi <= 1.0f && hi > 0.5f);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

static void test_fmnist_train(void **state)
{
    (void)state;
    check_split("train", 60000, 6000);
}

static void test_fmnist_test(void **state)
{
    (void)state;
    check_split("test", 10000, 1000);
}

int run_fmnist_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmnist_train),
        cmocka_unit_test(test_fmnist_test),
    };
    return cmocka_run_group_tests_name("fashion-mnist", tests, NULL, NULL);
}
