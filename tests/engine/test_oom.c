/* Out-of-memory walks of the model's constructor, training, evaluation and
 * weights round trip: each failure returns HWNAS_ENOMEM and leaks nothing. */
#include <stdio.h>
#include <string.h>

#include "engine_tests.h"
#include "hwnas/hwnas.h"
#include "test_oom.h"

static const char *spec = "hwnas-net 1\nx = input(shape=1x4x4)\nconv(out=4, k=3, pad=1)\nbn\n"
                          "relu\ndropout(p=0.2)\ngap\nlinear(out=2)\n";

/* *what = 0: create only; 1: create, train, evaluate, save and load. */
static int step(hwnas_context *ctx, void *arg)
{
    int what = *(const int *)arg;
    hwnas_net *net = NULL;
    hwnas_model *m = NULL;
    hwnas_dataset *ds = NULL;
    uint8_t *buf = NULL;
    size_t len;
    float x[6 * 16];
    int32_t y[6] = {0, 1, 0, 1, 1, 0};
    for (size_t k = 0; k < 6 * 16; k++)
        x[k] = (float)(k % 7) * 0.1f;
    int rc = hwnas_net_parse(&net, ctx, spec, "oom");
    if (rc == HWNAS_OK)
        rc = hwnas_model_new(&m, ctx, net, 1);
    if (rc == HWNAS_OK && what) {
        rc = hwnas_dataset_from_float(&ds, ctx, x, y, 6, 1, 4, 4, 2);
        if (rc == HWNAS_OK)
            rc = hwnas_model_train(m, ds, "epochs=1;batch=4", NULL, NULL);
        if (rc == HWNAS_OK)
            rc = hwnas_model_evaluate(NULL, NULL, NULL, m, ds, 3);
        if (rc == HWNAS_OK)
            rc = hwnas_model_save_buffer(&buf, &len, m);
        if (rc == HWNAS_OK)
            rc = hwnas_model_load_buffer(m, buf, len, NULL);
    }
    hwnas_free(buf);
    hwnas_dataset_free(ds);
    hwnas_model_free(m);
    hwnas_net_free(net);
    return rc;
}

static void test_oom_model_new(void **state)
{
    (void)state;
    int what = 0;
    test_oom_walk("model_new", step, &what);
}

static void test_oom_model_train(void **state)
{
    (void)state;
    int what = 1;
    test_oom_walk("model train, evaluate, save, load", step, &what);
}

int run_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_model_new),
        cmocka_unit_test(test_oom_model_train),
    };
    return cmocka_run_group_tests_name("engine-oom", tests, NULL, NULL);
}
