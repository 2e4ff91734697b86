/* estimator:zero-cost through the public API on a tiny IDX dataset: the
 * metrics asked for, in order; the same figures at 1 and 2 threads and as
 * the engine's proxies on the candidate's weights; option errors that name
 * the value; per-candidate errors; the out-of-memory walk of creation and
 * estimation. The proxies' values themselves are checked in
 * tests/engine/test_zero_cost.c and against PyTorch in
 * bindings/python/tests/test_zero_cost.py.
 * `test_zero_cost_estimator unit|oom`. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hwnas/hwnas.h"
#include "test_oom.h"
#include "test_tmpdir.h"

static char data_opts[1024];

static const char *const tiny_net = "hwnas-net 1\nx = input(shape=1x6x6)\nconv(out=4, k=3, "
                                    "pad=1)\nbn\nrelu\nmaxpool(k=2)\nconv(out=6, k=3, pad=1)\n"
                                    "relu\ngap\nlinear(out=4)\n";

static int setup(void **state)
{
    (void)state;
    if (test_tmpdir_make("hwnas-zc") != 0)
        return -1;
    enum { N = 40, H = 6 };
    uint8_t img[16 + N * H * H], lab[8 + N];
    const uint8_t ih[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, H, 0, 0, 0, H};
    const uint8_t lh[8] = {0, 0, 8, 1, 0, 0, 0, N};
    memcpy(img, ih, 16);
    memcpy(lab, lh, 8);
    for (int s = 0; s < N; s++) {
        lab[8 + s] = (uint8_t)(s % 4);
        for (int k = 0; k < H * H; k++)
            img[16 + s * H * H + k] = (uint8_t)((s * 131 + k * 71 + (s * k) % 17) % 256);
    }
    char ip[256], lp[256];
    snprintf(ip, sizeof ip, "%s/images.idx", test_tmpdir);
    snprintf(lp, sizeof lp, "%s/labels.idx", test_tmpdir);
    FILE *f = fopen(ip, "wb");
    if (!f || fwrite(img, 1, sizeof img, f) != sizeof img || fclose(f) != 0)
        return -1;
    f = fopen(lp, "wb");
    if (!f || fwrite(lab, 1, sizeof lab, f) != sizeof lab || fclose(f) != 0)
        return -1;
    snprintf(data_opts, sizeof data_opts,
             "dataset=idx;data_options=\"images=%s;labels=%s;classes=4\";batch=16", ip, lp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove();
}

static hwnas_estimator *make(hwnas_context *ctx, const char *extra)
{
    char opts[1200];
    snprintf(opts, sizeof opts, "%s%s", data_opts, extra);
    hwnas_estimator *e = NULL;
    int rc = hwnas_estimator_new(&e, ctx, "zero-cost", opts);
    if (rc != HWNAS_OK)
        fail_msg("estimator: %s", hwnas_error_last());
    return e;
}

static void test_metrics_and_threads(void **state)
{
    (void)state;
    double v[2][6];
    for (int t = 0; t < 2; t++) {
        hwnas_context *ctx = NULL;
        assert_int_equal(hwnas_context_new(&ctx, t ? "threads=2" : "threads=1"), HWNAS_OK);
        hwnas_net *net = NULL;
        assert_int_equal(hwnas_net_parse(&net, ctx, tiny_net, "tiny"), HWNAS_OK);
        hwnas_estimator *e = make(ctx, "");
        static const char *const names[] = {"grad_norm", "snip",      "grasp",
                                            "synflow",   "jacob_cov", "naswot"};
        assert_int_equal(hwnas_estimator_metric_count(e), 6);
        for (int m = 0; m < 6; m++)
            assert_string_equal(hwnas_estimator_metric_name(e, (size_t)m), names[m]);
        if (hwnas_estimator_estimate(e, net, NULL, 3, v[t]) != HWNAS_OK)
            fail_msg("estimate: %s", hwnas_error_last());
        for (int m = 0; m < 6; m++)
            assert_true(isfinite(v[t][m]));
        /* another stream, other initial weights, other scores */
        double w[6];
        assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 4, w), HWNAS_OK);
        assert_true(w[1] != v[t][1]);
        hwnas_estimator_free(e);
        /* a subset, in the order asked: the same figures */
        e = make(ctx, ";proxies=naswot,grad_norm");
        assert_int_equal(hwnas_estimator_metric_count(e), 2);
        assert_string_equal(hwnas_estimator_metric_name(e, 0), "naswot");
        assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 3, w), HWNAS_OK);
        assert_memory_equal(&w[0], &v[t][5], sizeof w[0]);
        assert_memory_equal(&w[1], &v[t][0], sizeof w[1]);
        hwnas_estimator_free(e);
        hwnas_net_free(net);
        hwnas_context_free(ctx);
    }
    assert_memory_equal(v[0], v[1], sizeof v[0]);
}

static void test_errors(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    static const struct {
        const char *opts, *words;
    } bad[] = {
        {";proxies=snip,fisher", "unknown proxy 'fisher'"},
        {";proxies=snip,snip", "'snip' named twice"},
        {";proxies=", "empty"},
        {";proxies=snip,", "trailing"},
        {";batch=41", "holds 40 samples"},
        {";batch=1", "batch"},
        {";proxy=snip", "proxy"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char opts[1200];
        snprintf(opts, sizeof opts, "%s%s", data_opts, bad[i].opts);
        hwnas_estimator *e = NULL;
        assert_int_equal(hwnas_estimator_new(&e, ctx, "zero-cost", opts), HWNAS_EINVAL);
        assert_null(e);
        if (!strstr(hwnas_error_last(), bad[i].words))
            fail_msg("'%s': '%s' does not say '%s'", bad[i].opts, hwnas_error_last(),
                     bad[i].words);
    }
    /* per candidate: no ReLU for naswot; a net for other images */
    hwnas_estimator *e = make(ctx, "");
    double v[6];
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, "hwnas-net 1\nx = input(shape=1x6x6)\n"
                                                "linear(out=4)\n", "plain"),
                     HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, v), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "naswot needs ReLU"));
    hwnas_net_free(net);
    assert_int_equal(hwnas_net_parse(&net, ctx, "hwnas-net 1\nx = input(shape=1x5x5)\nrelu\n"
                                                "linear(out=4)\n", "small"),
                     HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, v), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "input holds 25 values"));
    hwnas_net_free(net);
    hwnas_estimator_free(e);
    hwnas_context_free(ctx);
}

static int oom_step(hwnas_context *ctx, void *arg)
{
    (void)arg;
    hwnas_net *net = NULL;
    hwnas_estimator *e = NULL;
    char opts[1200];
    snprintf(opts, sizeof opts, "%s", data_opts);
    int rc = hwnas_net_parse(&net, ctx, tiny_net, "tiny");
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_new(&e, ctx, "zero-cost", opts);
    double v[6];
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_estimate(e, net, NULL, 1, v);
    hwnas_estimator_free(e);
    hwnas_net_free(net);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    test_oom_walk("estimator:zero-cost", oom_step, NULL);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_metrics_and_threads),
            cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests_name("estimator/zero-cost", tests, setup, teardown);
    }
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("estimator/zero-cost-oom", tests, setup, teardown);
    }
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
