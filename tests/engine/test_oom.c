/* Out-of-memory walks of the model's constructor, training, evaluation and
 * weights round trip: each failure returns HWNAS_ENOMEM and leaks nothing. */
#include <stdio.h>
#include <string.h>

#include "engine_tests.h"
#include "hwnas/hwnas.h"
#include "test_alloc.h"

static const char *spec = "hwnas-net 1\nx = input(shape=1x4x4)\nconv(out=4, k=3, pad=1)\nbn\n"
                          "relu\ndropout(p=0.2)\ngap\nlinear(out=2)\n";

/* what = 0: create only; 1: create, train, evaluate, save and load. */
static int step(hwnas_context *ctx, int what)
{
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

static void walk(int what)
{
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "threads=1");
    assert_non_null(ctx);
    long baseline = t.live;
    for (long n = 0;; n++) {
        assert_true(n < 100000);
        test_alloc_fail_from(&t, n);
        int rc = step(ctx, what);
        test_alloc_disarm(&t);
        assert_int_equal(t.live, baseline);
        if (rc == HWNAS_OK)
            break;
        if (rc != HWNAS_ENOMEM)
            fail_msg("step %ld returned %d (%s)", n, rc, hwnas_error_last());
    }
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
}

static void test_oom_model_new(void **state)
{
    (void)state;
    walk(0);
}

static void test_oom_model_train(void **state)
{
    (void)state;
    walk(1);
}

int run_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_model_new),
        cmocka_unit_test(test_oom_model_train),
    };
    return cmocka_run_group_tests_name("engine-oom", tests, NULL, NULL);
}
