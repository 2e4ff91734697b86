/* Plugins: the roofline example loaded and used like a built-in kind, and
 * every way a plugin can be wrong reported with the file named. Public API
 * only (the plugins link the shared library too). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_alloc.h"

static char path_buf[1024];

static const char *plugin_path(const char *name)
{
    const char *dir = getenv("HWNAS_PLUGIN_DIR");
    snprintf(path_buf, sizeof path_buf, "%s/%s.so", dir ? dir : ".", name);
    return path_buf;
}

static hwnas_net *conv_net(hwnas_context *ctx)
{
    hwnas_net *net;
    assert_int_equal(hwnas_net_parse(&net, ctx,
                                     "hwnas-net 1\ninput(shape=3x16x16)\nconv(out=8, k=3, pad=1)\nrelu\n"
                                     "gap\nlinear(out=10)\n",
                                     NULL),
                     HWNAS_OK);
    return net;
}

/* The roofline by hand: max(flops/peak, bytes/bw) per node. */
static double roofline_by_hand(const hwnas_net *net, double peak, double bw, double overhead)
{
    double s = overhead;
    for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
        double macs = (double)hwnas_net_node_macs(net, i);
        double out = (double)hwnas_net_node_activations(net, i);
        double in = 0;
        for (size_t j = 0; j < hwnas_net_node_input_count(net, i); j++)
            in += (double)hwnas_net_node_activations(net, (size_t)hwnas_net_node_input(net, i, j));
        double flops = macs > 0 ? 2 * macs : out;
        double bytes = (double)hwnas_net_node_weight_bytes(net, i) + 4 * (in + out);
        s += fmax(flops / peak, bytes / bw);
    }
    return s * 1e3;
}

static void test_roofline(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    size_t builtin = hwnas_kind_count(ctx);
    hwnas_estimator *e = NULL;
    /* unknown before loading */
    assert_int_equal(hwnas_estimator_new(&e, ctx, "roofline", NULL), HWNAS_ENOTFOUND);
    assert_int_equal(hwnas_context_load_plugin(ctx, plugin_path("roofline")), HWNAS_OK);
    assert_int_equal(hwnas_kind_count(ctx), builtin + 1);
    assert_string_equal(hwnas_kind_name(ctx, builtin), "estimator:roofline");

    /* its options describe themselves like a built-in kind's */
    hwnas_options *o;
    assert_int_equal(hwnas_options_new(&o, ctx, "estimator:roofline"), HWNAS_OK);
    assert_int_equal(hwnas_options_parse(o, "peak_gflops=2"), HWNAS_OK);
    assert_int_equal(hwnas_options_count(o), 3);
    assert_string_equal(hwnas_options_name(o, 1), "bandwidth_gbs");
    assert_string_equal(hwnas_options_value(o, 0), "2");
    hwnas_options_free(o);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "roofline", "speed=3"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "peak_gflops"));
    assert_int_equal(hwnas_estimator_new(&e, ctx, "roofline", "peak_gflops=-1"), HWNAS_EINVAL);

    /* bare and full names, metrics, and the figures */
    assert_int_equal(hwnas_estimator_new(&e, ctx, "roofline",
                                         "peak_gflops=0.5;bandwidth_gbs=0.25;overhead_us=10"),
                     HWNAS_OK);
    assert_string_equal(hwnas_estimator_kind(e), "estimator:roofline");
    assert_int_equal(hwnas_estimator_metric_count(e), 2);
    assert_string_equal(hwnas_estimator_metric_name(e, 0), "latency_ms");
    assert_string_equal(hwnas_estimator_metric_unit(e, 0), "ms");
    assert_string_equal(hwnas_estimator_metric_unit(e, 1), "flop/B");
    hwnas_net *net = conv_net(ctx);
    double v[2];
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, v), HWNAS_OK);
    double want = roofline_by_hand(net, 0.5e9, 0.25e9, 10e-6);
    assert_true(fabs(v[0] - want) < 1e-9 * want);
    assert_true(v[1] > 0);
    /* compute-bound: doubling the bandwidth changes little, halving the
     * peak nearly doubles the conv's time */
    hwnas_estimator *e2;
    assert_int_equal(hwnas_estimator_new(&e2, ctx, "estimator:roofline",
                                         "peak_gflops=0.25;bandwidth_gbs=0.25;overhead_us=10"),
                     HWNAS_OK);
    double v2[2];
    assert_int_equal(hwnas_estimator_estimate(e2, net, NULL, 0, v2), HWNAS_OK);
    assert_true(fabs(v2[0] - roofline_by_hand(net, 0.25e9, 0.25e9, 10e-6)) < 1e-9 * v2[0]);
    assert_true(v2[0] > 1.5 * v[0]);
    hwnas_estimator_free(e2);
    hwnas_estimator_free(e);

    /* loading it twice: its kind is taken */
    assert_int_equal(hwnas_context_load_plugin(ctx, plugin_path("roofline")), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "roofline.so"));
    assert_non_null(strstr(hwnas_error_last(), "estimator:roofline"));
    assert_int_equal(hwnas_kind_count(ctx), builtin + 1);

    /* another context does not see it */
    hwnas_context *other;
    assert_int_equal(hwnas_context_new(&other, NULL), HWNAS_OK);
    assert_int_equal(hwnas_estimator_new(&e, other, "roofline", NULL), HWNAS_ENOTFOUND);
    hwnas_context_free(other);

    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void expect_load_error(const char *name, int code, const char *words)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    size_t n = hwnas_kind_count(ctx);
    const char *path = plugin_path(name);
    int rc = hwnas_context_load_plugin(ctx, path);
    if (rc != code || !strstr(hwnas_error_last(), words) || !strstr(hwnas_error_last(), path))
        fail_msg("%s: got %d \"%s\", want %d with \"%s\"", name, rc, hwnas_error_last(), code,
                 words);
    assert_int_equal(hwnas_kind_count(ctx), n);
    hwnas_context_free(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    expect_load_error("bad1", HWNAS_EVERSION, "ABI version 99");
    expect_load_error("bad2", HWNAS_EVERSION, "table is 8 bytes");
    expect_load_error("bad3", HWNAS_EUSER, "no licence for this host");
    expect_load_error("bad4", HWNAS_ENOTFOUND, "no symbol hwnas_plugin_entry");
    expect_load_error("bad5", HWNAS_EINVAL, "Bad-Name");
    expect_load_error("bad6", HWNAS_EINVAL, "scale");
    expect_load_error("bad7", HWNAS_EINVAL, "estimator:cost");
    expect_load_error("no-such-plugin", HWNAS_ENOTFOUND, "no such file");
    /* a file that is no shared object */
    FILE *f = fopen(plugin_path("not-elf"), "w");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    expect_load_error("not-elf", HWNAS_EFORMAT, "cannot load");
    remove(plugin_path("not-elf"));
    assert_int_equal(hwnas_context_load_plugin(NULL, "x"), HWNAS_EINVAL);
}

static void test_failing_estimate(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    assert_int_equal(hwnas_context_load_plugin(ctx, plugin_path("bad8")), HWNAS_OK);
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "flaky", NULL), HWNAS_OK);
    hwnas_net *small, *big;
    assert_int_equal(hwnas_net_parse(&small, ctx, "hwnas-net 1\ninput(shape=1x4x4)\nrelu\n", NULL), HWNAS_OK);
    big = conv_net(ctx);
    double v;
    assert_int_equal(hwnas_estimator_estimate(e, small, NULL, 0, &v), HWNAS_OK);
    assert_true(v == 2.0);
    assert_int_equal(hwnas_estimator_estimate(e, big, "cand-7", 0, &v), HWNAS_EUSER);
    assert_non_null(strstr(hwnas_error_last(), "too many nodes for flaky"));
    assert_non_null(strstr(hwnas_error_last(), "cand-7"));
    assert_non_null(strstr(hwnas_error_last(), "bad8.so"));
    /* the estimator stays usable */
    assert_int_equal(hwnas_estimator_estimate(e, small, NULL, 0, &v), HWNAS_OK);
    hwnas_estimator_free(e);
    hwnas_net_free(small);
    hwnas_net_free(big);
    hwnas_context_free(ctx);
}

static void test_oom(void **state)
{
    (void)state;
    for (long n = 0;; n++) {
        test_alloc t;
        hwnas_context *c = test_alloc_context(&t, "threads=1");
        assert_non_null(c);
        long base = t.live;
        test_alloc_fail_from(&t, n);
        int rc = hwnas_context_load_plugin(c, plugin_path("roofline"));
        test_alloc_disarm(&t);
        if (rc != HWNAS_OK) {
            assert_int_equal(rc, HWNAS_ENOMEM);
            assert_int_equal(t.live, base);
        }
        hwnas_estimator *e = NULL;
        int rc2 = rc == HWNAS_OK ? HWNAS_OK : -1;
        for (long m = 0; rc == HWNAS_OK; m++) {
            test_alloc_fail_from(&t, m);
            rc2 = hwnas_estimator_new(&e, c, "roofline", NULL);
            test_alloc_disarm(&t);
            hwnas_estimator_free(e);
            e = NULL;
            if (rc2 == HWNAS_OK)
                break;
            assert_int_equal(rc2, HWNAS_ENOMEM);
        }
        hwnas_context_free(c);
        assert_int_equal(t.live, 0);
        if (rc == HWNAS_OK)
            break;
    }
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("plugin/oom", tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roofline),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_failing_estimate),
    };
    return cmocka_run_group_tests_name("plugin", tests, NULL, NULL);
}
