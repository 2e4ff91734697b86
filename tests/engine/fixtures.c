#include "fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

static uint64_t rng_state = 88172645463325252ull;

void fx_seed(uint64_t state) { rng_state = state; }

uint32_t fx_rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

const char *const fx_small_net =
    "hwnas-net 1\nx = input(shape=2x9x9)\nc1 = conv(out=8, k=3, pad=1, bias=0)\nbn\nrelu\n"
    "c2 = conv(out=8, k=3, s=2, pad=1, groups=2)\nrelu\nd = dwconv(k=3, pad=1)\nbn\nrelu\n"
    "gap\nfc = linear(out=4)\n";

hwnas_dataset *fx_random_set(hwnas_context *ctx, size_t n, uint32_t seed)
{
    fx_seed(seed * 2654435761u + 1);
    float *x = malloc(n * 2 * 81 * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (size_t s = 0; s < n; s++) {
        y[s] = (int32_t)(s % 4);
        for (size_t k = 0; k < 162; k++)
            x[s * 162 + k] = (float)((double)(fx_rnd() % 1000) / 500.0 - 1.0) +
                             (k % 4 == (size_t)y[s] ? 0.8f : 0.0f);
    }
    hwnas_dataset *ds = NULL;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, x, y, n, 2, 9, 9, 4), HWNAS_OK);
    free(x);
    free(y);
    return ds;
}

hwnas_model *fx_small_model(hwnas_context *ctx, const hwnas_dataset *ds, const char *options)
{
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, fx_small_net, "small"), HWNAS_OK);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 3), HWNAS_OK);
    hwnas_net_free(net);
    assert_int_equal(hwnas_model_train(m, ds, options, NULL, NULL), HWNAS_OK);
    return m;
}

int fx_fashion_mnist(hwnas_context *ctx, size_t n_train, size_t n_test, int normalize,
                     hwnas_dataset **train, hwnas_dataset **test)
{
    hwnas_dataset *all = NULL, *test_all = NULL;
    if (hwnas_dataset_load(&all, ctx, "fashion-mnist", NULL) != HWNAS_OK) {
        printf("# fashion-mnist is not installed (apt-get install dataset-fashion-mnist): "
               "skipped\n");
        return 0;
    }
    assert_int_equal(hwnas_dataset_load(&test_all, ctx, "fashion-mnist", "split=test"),
                     HWNAS_OK);
    assert_int_equal(hwnas_dataset_subset(train, all, n_train, HWNAS_DATASET_FIRST, 0),
                     HWNAS_OK);
    assert_int_equal(hwnas_dataset_subset(test, test_all, n_test, HWNAS_DATASET_FIRST, 0),
                     HWNAS_OK);
    hwnas_dataset_free(all);
    hwnas_dataset_free(test_all);
    if (normalize) {
        double mean[1], sd[1];
        assert_int_equal(hwnas_dataset_stats(mean, sd, *train), HWNAS_OK);
        assert_int_equal(hwnas_dataset_normalize(*train, mean, sd), HWNAS_OK);
        assert_int_equal(hwnas_dataset_normalize(*test, mean, sd), HWNAS_OK);
    }
    return 1;
}

hwnas_net *fx_reference_cnn(hwnas_context *ctx)
{
    const char *root = getenv("HWNAS_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/nets/fmnist_ref.net", root ? root : ".");
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_load(&net, ctx, path), HWNAS_OK);
    return net;
}
