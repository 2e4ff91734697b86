/* Learned latency models (latency_lut.h): fitting known laws, the LUT
 * feature, the text format (round trip, errors), estimator:latency_model,
 * determinism, OOM walks. Latencies are synthetic: no timing here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hwnas/hwnas.h"
#include "test_alloc.h"

#define NF HWNAS_LATENCY_MODEL_FEATURES
#define assert_double_equal(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static hwnas_context *ctx;
static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hwnas-lm-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return hwnas_context_new(&ctx, "threads=1");
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return -1;
    hwnas_context_free(ctx);
    return 0;
}

/* A family of nets: width c, depth d (1..3 conv-bn-relu blocks), a 1x1
 * or 3x3 kernel. */
static hwnas_net *family_net(hwnas_context *c, int width, int depth, int k)
{
    char text[2048];
    int n = snprintf(text, sizeof text, "hwnas-net 1\nx = input(shape=3x16x16)\n");
    for (int i = 0; i < depth; i++)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "conv(out=%d, k=%d, pad=%d, bias=0)\nbn\nrelu\n", width * (i + 1), k,
                      k / 2);
    snprintf(text + n, sizeof text - (size_t)n, "gap\nlinear(out=10)\n");
    hwnas_net *net;
    assert_int_equal(hwnas_net_parse(&net, c, text, NULL), HWNAS_OK);
    return net;
}

/* The synthetic device: latency a power law of MACs times a cost per node. */
static double law(const hwnas_net *net)
{
    return 0.002 * pow((double)hwnas_net_macs(net), 0.8) *
           exp(0.05 * (double)hwnas_net_node_count(net));
}

static void add_family(hwnas_latency_model *m, int skip_odd)
{
    for (int w = 2; w <= 32; w += 2)
        for (int d = 1; d <= 3; d++)
            for (int k = 1; k <= 3; k += 2) {
                if (skip_odd && (w / 2) % 2)
                    continue;
                hwnas_net *net = family_net(ctx, w, d, k);
                assert_int_equal(hwnas_latency_model_add(m, net, law(net)), HWNAS_OK);
                hwnas_net_free(net);
            }
}

/* max relative error of m on the widths the fit did not see */
static double held_out_error(const hwnas_latency_model *m)
{
    double worst = 0;
    for (int w = 2; w <= 32; w += 4)
        for (int d = 1; d <= 3; d++)
            for (int k = 1; k <= 3; k += 2) {
                hwnas_net *net = family_net(ctx, w, d, k);
                double ms;
                assert_int_equal(hwnas_latency_model_predict(&ms, m, net), HWNAS_OK);
                worst = fmax(worst, fabs(ms - law(net)) / law(net));
                hwnas_net_free(net);
            }
    return worst;
}

static void test_fit_law(void **state)
{
    (void)state;
    /* log latency is linear in log MACs and the node count: the ridge
     * part alone, unpenalised, recovers it on widths it never saw */
    hwnas_latency_model *m;
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, "predictor=none;ridge=0"),
                     HWNAS_OK);
    add_family(m, 1);
    assert_int_equal(hwnas_latency_model_count(m), 48);
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
    /* log1p(MACs) is not exactly log(MACs): a small bias remains */
    assert_true(held_out_error(m) < 0.001);
    hwnas_latency_model_free(m);

    /* the boosted trees on top keep it (default options: ridge=auto finds
     * the law needs no penalty) */
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, NULL), HWNAS_OK);
    add_family(m, 1);
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
    assert_true(held_out_error(m) < 0.001);
    hwnas_latency_model_free(m);

    /* trees alone cannot extrapolate beyond the widths they saw, but
     * interpolate within 10% */
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, "base=none;predictor=gbrt"),
                     HWNAS_OK);
    add_family(m, 0);
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
    assert_true(held_out_error(m) < 0.10);
    hwnas_latency_model_free(m);
}

static void test_features(void **state)
{
    (void)state;
    hwnas_latency_model *m;
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, NULL), HWNAS_OK);
    hwnas_net *net = family_net(ctx, 8, 2, 3);
    double f[NF];
    assert_int_equal(hwnas_latency_model_features(f, m, net), HWNAS_OK);
    assert_double_equal(f[0], log1p((double)hwnas_net_macs(net)), 1e-12);
    assert_double_equal(f[1], log1p((double)hwnas_net_params(net)), 1e-12);
    assert_double_equal(f[4], 8, 0);  /* nodes: 2 x (conv bn relu), gap, linear */
    assert_double_equal(f[5], 2, 0);  /* dense 3x3 convolutions */
    assert_double_equal(f[6], 0, 0);  /* 1x1 */
    assert_double_equal(f[8], 1, 0);  /* linear */
    assert_double_equal(f[9], 1, 0);  /* pooling (gap) */
    assert_double_equal(f[10], 2, 0); /* batch-norms */
    assert_double_equal(f[19], 2, 0); /* both fused with their relu */
    assert_double_equal(f[22], 0, 0); /* no LUT */
    /* feature vectors fit and predict as the nets do */
    hwnas_latency_model *a, *b;
    assert_int_equal(hwnas_latency_model_new(&a, ctx, NULL, NULL), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_new(&b, ctx, NULL, NULL), HWNAS_OK);
    for (int w = 2; w <= 20; w += 3) {
        hwnas_net *x = family_net(ctx, w, 1 + w % 3, 3);
        assert_int_equal(hwnas_latency_model_add(a, x, law(x)), HWNAS_OK);
        assert_int_equal(hwnas_latency_model_features(f, m, x), HWNAS_OK);
        assert_int_equal(hwnas_latency_model_add_features(b, f, law(x)), HWNAS_OK);
        hwnas_net_free(x);
    }
    assert_int_equal(hwnas_latency_model_fit(a), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_fit(b), HWNAS_OK);
    double pa, pb;
    assert_int_equal(hwnas_latency_model_features(f, m, net), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_predict(&pa, a, net), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_predict_features(&pb, b, f), HWNAS_OK);
    assert_true(pa == pb);
    /* a bad feature and a LUT feature without a LUT are named */
    f[3] = NAN;
    assert_int_equal(hwnas_latency_model_predict_features(&pb, b, f), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "feature 3"));
    f[3] = 1;
    f[22] = 2;
    assert_int_equal(hwnas_latency_model_add_features(b, f, 1), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "no LUT"));
    hwnas_latency_model_free(a);
    hwnas_latency_model_free(b);
    hwnas_net_free(net);
    hwnas_latency_model_free(m);
}

/* A LUT that knows every layer of the family, each at 1 us per 1000 MACs
 * or output elements. */
static hwnas_latency_lut *family_lut(void)
{
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    for (int w = 2; w <= 32; w += 2)
        for (int d = 1; d <= 3; d++)
            for (int k = 1; k <= 3; k += 2) {
                hwnas_net *net = family_net(ctx, w, d, k);
                for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
                    char *key;
                    assert_int_equal(hwnas_latency_lut_layer_key(&key, net, i), HWNAS_OK);
                    double work = (double)hwnas_net_node_macs(net, i) +
                                  (double)hwnas_net_node_activations(net, i);
                    assert_int_equal(hwnas_latency_lut_set(lut, key, 1e-6 * work + 1e-4),
                                     HWNAS_OK);
                    hwnas_free(key);
                }
                hwnas_net_free(net);
            }
    assert_int_equal(hwnas_latency_lut_set_overhead(lut, 0.01), HWNAS_OK);
    return lut;
}

static void test_lut_feature(void **state)
{
    (void)state;
    hwnas_latency_lut *lut = family_lut();
    hwnas_latency_model *m;
    assert_int_equal(hwnas_latency_model_new(&m, ctx, lut, "predictor=none"), HWNAS_OK);
    hwnas_latency_lut_free(lut); /* the model keeps its own copy */
    /* the device runs 1.3 times slower than the LUT says: the model learns
     * the ratio (its target is relative to the LUT's sum) */
    double sums[3];
    for (int w = 2; w <= 32; w += 2) {
        hwnas_net *net = family_net(ctx, w, 1 + w % 3, 3);
        double f[NF];
        assert_int_equal(hwnas_latency_model_features(f, m, net), HWNAS_OK);
        assert_true(f[22] != 0);
        assert_int_equal(hwnas_latency_model_add(m, net, 1.3 * exp(f[22])), HWNAS_OK);
        hwnas_net_free(net);
    }
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
    for (int d = 1; d <= 3; d++) {
        hwnas_net *net = family_net(ctx, 6, d, 1);
        double f[NF];
        assert_int_equal(hwnas_latency_model_features(f, m, net), HWNAS_OK);
        assert_int_equal(hwnas_latency_model_predict(&sums[d - 1], m, net), HWNAS_OK);
        assert_double_equal(sums[d - 1], 1.3 * exp(f[22]), 1e-9 * sums[d - 1]);
        hwnas_net_free(net);
    }
    /* a net the LUT lacks a layer of, with missing=error: named */
    hwnas_latency_model *strict;
    lut = family_lut();
    assert_int_equal(hwnas_latency_model_new(&strict, ctx, lut, "missing=error"), HWNAS_OK);
    hwnas_latency_lut_free(lut);
    hwnas_net *odd = family_net(ctx, 7, 1, 5);
    assert_int_equal(hwnas_latency_model_add(strict, odd, 1), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "conv"));
    hwnas_net_free(odd);
    hwnas_latency_model_free(strict);
    /* the round trip keeps the LUT: the same predictions */
    char *text;
    assert_int_equal(hwnas_latency_model_format(m, &text), HWNAS_OK);
    assert_non_null(strstr(text, "lut-begin\nhwnas-latency-lut 1\n"));
    hwnas_latency_model *back;
    assert_int_equal(hwnas_latency_model_parse(&back, ctx, text, strlen(text), NULL), HWNAS_OK);
    hwnas_free(text);
    hwnas_net *net = family_net(ctx, 6, 2, 1);
    double a, b;
    assert_int_equal(hwnas_latency_model_predict(&a, back, net), HWNAS_OK);
    assert_true(a == sums[1]);
    (void)b;
    hwnas_net_free(net);
    hwnas_latency_model_free(back);
    hwnas_latency_model_free(m);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *kinds[] = {"predictor=gbrt", "predictor=mlp;predictor_options=\"epochs=50;seed=3\"",
                           "predictor=gp", "predictor=none;base=linear;ridge=0.5"};
    for (size_t k = 0; k < 4; k++) {
        hwnas_latency_model *m;
        assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, kinds[k]), HWNAS_OK);
        add_family(m, 1);
        assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
        char path[300];
        snprintf(path, sizeof path, "%s/m%zu.model%s", tmpdir, k, k % 2 ? ".gz" : "");
        assert_int_equal(hwnas_latency_model_save(m, path), HWNAS_OK);
        hwnas_latency_model *back;
        assert_int_equal(hwnas_latency_model_load(&back, ctx, path), HWNAS_OK);
        assert_int_equal(hwnas_latency_model_count(back), 48);
        char *t1, *t2;
        assert_int_equal(hwnas_latency_model_format(m, &t1), HWNAS_OK);
        assert_int_equal(hwnas_latency_model_format(back, &t2), HWNAS_OK);
        assert_string_equal(t1, t2);
        hwnas_free(t1);
        hwnas_free(t2);
        /* refitted on load from the same rows: bit for bit */
        for (int w = 3; w <= 30; w += 9) {
            hwnas_net *net = family_net(ctx, w, 2, 3);
            double a, b;
            assert_int_equal(hwnas_latency_model_predict(&a, m, net), HWNAS_OK);
            assert_int_equal(hwnas_latency_model_predict(&b, back, net), HWNAS_OK);
            assert_true(a == b && a > 0);
            hwnas_net_free(net);
        }
        hwnas_latency_model_free(back);
        hwnas_latency_model_free(m);
    }
}

static void test_determinism(void **state)
{
    (void)state;
    double first = 0;
    for (int threads = 1; threads <= 4; threads += 3) {
        char o[32];
        snprintf(o, sizeof o, "threads=%d", threads);
        hwnas_context *c;
        assert_int_equal(hwnas_context_new(&c, o), HWNAS_OK);
        hwnas_latency_model *m;
        assert_int_equal(hwnas_latency_model_new(&m, c, NULL, "predictor=mlp"), HWNAS_OK);
        for (int w = 2; w <= 32; w += 2) {
            hwnas_net *net = family_net(c, w, 1 + w % 3, 3);
            assert_int_equal(hwnas_latency_model_add(m, net, law(net)), HWNAS_OK);
            hwnas_net_free(net);
        }
        assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
        hwnas_net *net = family_net(c, 9, 2, 1);
        double ms;
        assert_int_equal(hwnas_latency_model_predict(&ms, m, net), HWNAS_OK);
        if (threads == 1)
            first = ms;
        else
            assert_true(ms == first);
        hwnas_net_free(net);
        hwnas_latency_model_free(m);
        hwnas_context_free(c);
    }
}

static void test_api_errors(void **state)
{
    (void)state;
    hwnas_latency_model *m = (hwnas_latency_model *)1;
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, "predictor=forest"), HWNAS_EINVAL);
    assert_null(m);
    assert_non_null(strstr(hwnas_error_last(), "gbrt|mlp|gp|none"));
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, "trees=3"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "trees"));
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, "predictor_options=\"depth=99\""),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "depth"));
    assert_int_equal(hwnas_latency_model_new(&m, NULL, NULL, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, NULL), HWNAS_OK);
    hwnas_net *net = family_net(ctx, 4, 1, 3);
    double ms;
    assert_int_equal(hwnas_latency_model_predict(&ms, m, net), HWNAS_ESTATE);
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_ESTATE);
    assert_non_null(strstr(hwnas_error_last(), "0 measured nets"));
    assert_int_equal(hwnas_latency_model_add(m, net, 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_model_add(m, net, NAN), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_model_add(m, NULL, 1), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_model_add(m, net, 1), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_ESTATE);
    assert_non_null(strstr(hwnas_error_last(), "1 measured net;"));
    /* identical rows: a constant target fits (and predicts it) */
    assert_int_equal(hwnas_latency_model_add(m, net, 1), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_predict(&ms, m, net), HWNAS_OK);
    assert_double_equal(ms, 1, 1e-9);
    /* adding unfits until the next fit */
    assert_int_equal(hwnas_latency_model_add(m, net, 2), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_predict(&ms, m, net), HWNAS_ESTATE);
    hwnas_net *empty;
    assert_int_equal(hwnas_net_parse(&empty, ctx, "hwnas-net 1\nx = input(shape=1x2x2)\n",
                                     NULL), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_add(m, empty, 1), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "no layer"));
    hwnas_net_free(empty);
    hwnas_net_free(net);
    hwnas_latency_model_free(m);
    hwnas_latency_model_free(NULL);
    assert_int_equal(hwnas_latency_model_count(NULL), 0);
}

static void expect_parse_error(const char *text, int code, const char *words)
{
    hwnas_latency_model *m = (hwnas_latency_model *)1;
    int rc = hwnas_latency_model_parse(&m, ctx, text, strlen(text), "t.model");
    if (rc != code || !strstr(hwnas_error_last(), words))
        fail_msg("got %d \"%s\", want %d with \"%s\" for:\n%s", rc, hwnas_error_last(), code,
                 words, text);
    assert_null(m);
}

#define HEAD "hwnas-latency-model 1\noptions predictor=none\nfeatures 23\n"
#define ROW0 " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 0\n"

static void test_format_errors(void **state)
{
    (void)state;
    expect_parse_error("", HWNAS_EFORMAT, "empty");
    expect_parse_error("hwnas-latency-lut 1\n", HWNAS_EFORMAT,
                       "t.model:1: not a latency model");
    expect_parse_error("hwnas-latency-model 2\n", HWNAS_EVERSION, "t.model:1: latency model "
                                                                    "format version 2");
    expect_parse_error("hwnas-latency-model 1\n", HWNAS_EFORMAT, "no 'options' line");
    expect_parse_error("hwnas-latency-model 1\nfeatures 23\n", HWNAS_EFORMAT,
                       "t.model:2: the 'options' line");
    expect_parse_error("hwnas-latency-model 1\noptions predictor=x\n", HWNAS_EFORMAT,
                       "t.model:2:");
    expect_parse_error("hwnas-latency-model 1\noptions predictor=none\nfeatures 7\n",
                       HWNAS_EFORMAT, "t.model:3: 'features 7'");
    expect_parse_error("hwnas-latency-model 1\noptions predictor=none\nnet 1" ROW0,
                       HWNAS_EFORMAT, "t.model:3: a net line before the 'features' line");
    expect_parse_error(HEAD "net 1 2 3\n", HWNAS_EFORMAT, "t.model:4: a net line has 3 numbers");
    expect_parse_error(HEAD "net 1" ROW0 "net 1 x" ROW0, HWNAS_EFORMAT,
                       "t.model:5: number 2 \"x\"");
    expect_parse_error(HEAD "net 1 5" ROW0, HWNAS_EFORMAT, "more than 24 numbers");
    expect_parse_error(HEAD "net -1" ROW0, HWNAS_EFORMAT, "t.model:4: latency -1 is not > 0");
    expect_parse_error(HEAD "net 1e300" ROW0, HWNAS_EFORMAT, "out of range");
    expect_parse_error(HEAD "nets 1" ROW0, HWNAS_EFORMAT, "t.model:4: unknown line");
    expect_parse_error(HEAD "features 23\n", HWNAS_EFORMAT, "'features' must come once");
    expect_parse_error(HEAD "net 1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 1\n",
                       HWNAS_EFORMAT, "net 1 has a LUT feature");
    expect_parse_error(HEAD "lut-begin\nhwnas-latency-lut 1\n", HWNAS_EFORMAT,
                       "t.model:4: 'lut-begin' without 'lut-end'");
    expect_parse_error(HEAD "lut-begin\nhwnas-latency-lut 1\nbogus\nlut-end\n", HWNAS_EFORMAT,
                       "t.model (its LUT, from line 5):2: unknown line");
    expect_parse_error(HEAD "lut-begin\nhwnas-latency-lut 1\nlut-end\nlut-begin\n"
                       "hwnas-latency-lut 1\nlut-end\n", HWNAS_EFORMAT, "a second LUT");
    static const char nul[] = HEAD "net 1" ROW0 "net\0 1\n";
    hwnas_latency_model *bad = (hwnas_latency_model *)1;
    assert_int_equal(hwnas_latency_model_parse(&bad, ctx, nul, sizeof nul - 1, "t.model"),
                     HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "t.model:5: NUL byte"));
    assert_null(bad);
    /* one row: read (not fitted) - fitting needs two */
    hwnas_latency_model *m;
    const char *one = HEAD "net 1" ROW0;
    assert_int_equal(hwnas_latency_model_parse(&m, ctx, one, strlen(one), NULL), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_count(m), 1);
    hwnas_latency_model_free(m);
    assert_int_equal(hwnas_latency_model_load(&m, ctx, "/nonexistent/x.model"),
                     HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "/nonexistent/x.model"));
}

static void test_estimator(void **state)
{
    (void)state;
    hwnas_estimator *e = (hwnas_estimator *)1;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "latency_model", NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "model=FILE"));
    hwnas_latency_model *m;
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, NULL), HWNAS_OK);
    char path[300], opts[320];
    snprintf(path, sizeof path, "%s/one.model", tmpdir);
    snprintf(opts, sizeof opts, "model=%s", path);
    hwnas_net *net = family_net(ctx, 4, 1, 3);
    assert_int_equal(hwnas_latency_model_add(m, net, 1), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_save(m, path), HWNAS_OK);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "latency_model", opts), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "1 measured net;"));
    hwnas_latency_model_free(m);
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, NULL), HWNAS_OK);
    add_family(m, 1);
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_save(m, path), HWNAS_OK);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "estimator:latency_model", opts), HWNAS_OK);
    assert_int_equal(hwnas_estimator_metric_count(e), 1);
    assert_string_equal(hwnas_estimator_metric_name(e, 0), "latency_ms");
    double v, ms;
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, &v), HWNAS_OK);
    assert_int_equal(hwnas_latency_model_predict(&ms, m, net), HWNAS_OK);
    assert_true(v == ms);
    hwnas_estimator_free(e);
    hwnas_net_free(net);
    hwnas_latency_model_free(m);
}

/* A search optimises the model's latency and obeys a bound on it, as with
 * any estimator: every candidate within the bound has the model's
 * prediction of its decoded net as latency_ms. */
static void test_search(void **state)
{
    (void)state;
    hwnas_space *space;
    const char *space_opts = "channels=4;cells=1";
    assert_int_equal(hwnas_space_new(&space, ctx, "cell", space_opts), HWNAS_OK);
    hwnas_rng *rng;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 5, 0), HWNAS_OK);
    hwnas_latency_model *m;
    assert_int_equal(hwnas_latency_model_new(&m, ctx, NULL, NULL), HWNAS_OK);
    uint32_t genes[6];
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    double lo = INFINITY, hi = 0;
    while (hwnas_latency_model_count(m) < 40) {
        assert_int_equal(hwnas_space_sample(space, rng, genes), HWNAS_OK);
        assert_int_equal(hwnas_space_decode(space, genes, net), HWNAS_OK);
        assert_int_equal(hwnas_latency_model_add(m, net, law(net)), HWNAS_OK);
        lo = fmin(lo, law(net));
        hi = fmax(hi, law(net));
    }
    double bound = sqrt(lo * hi); /* some candidates above, some below */
    char search_opts[200];
    snprintf(search_opts, sizeof search_opts, "objectives=latency_ms:min,macs:max;"
             "constraints=latency_ms<=%.6g;budget=24", bound);
    assert_int_equal(hwnas_latency_model_fit(m), HWNAS_OK);
    char path[300], opts[320];
    snprintf(path, sizeof path, "%s/search.model", tmpdir);
    snprintf(opts, sizeof opts, "model=%s", path);
    assert_int_equal(hwnas_latency_model_save(m, path), HWNAS_OK);
    hwnas_search *s;
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", space_opts, "random", "seed=3",
                                      search_opts),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "latency_model", opts), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    assert_int_equal(hwnas_search_count(s), 24);
    size_t within = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        double v, want;
        assert_int_equal(hwnas_search_metric(s, i, "latency_ms", &v), HWNAS_OK);
        assert_int_equal(hwnas_space_decode(space, hwnas_search_genes(s, i), net), HWNAS_OK);
        assert_int_equal(hwnas_latency_model_predict(&want, m, net), HWNAS_OK);
        assert_true(v == want);
        within += v <= bound;
    }
    /* the front holds only candidates within the bound */
    size_t front[24];
    size_t nf = hwnas_search_front(s, front, 24);
    assert_true(nf >= 1 && within >= 1 && within < 24);
    for (size_t i = 0; i < nf; i++) {
        double v;
        assert_int_equal(hwnas_search_metric(s, front[i], "latency_ms", &v), HWNAS_OK);
        assert_true(v <= bound);
    }
    hwnas_search_free(s);
    hwnas_net_free(net);
    hwnas_latency_model_free(m);
    hwnas_rng_free(rng);
    hwnas_space_free(space);
}

static void test_oom(void **state)
{
    (void)state;
    test_alloc t;
    hwnas_context *c = test_alloc_context(&t, "threads=1");
    hwnas_net *net = family_net(c, 4, 2, 3);
    hwnas_latency_model *fitted;
    assert_int_equal(hwnas_latency_model_new(&fitted, c, NULL, "predictor=gbrt"), HWNAS_OK);
    for (int w = 2; w <= 10; w += 2) {
        hwnas_net *x = family_net(c, w, 1 + w % 3, 3);
        assert_int_equal(hwnas_latency_model_add(fitted, x, law(x)), HWNAS_OK);
        hwnas_net_free(x);
    }
    assert_int_equal(hwnas_latency_model_fit(fitted), HWNAS_OK);
    char *text;
    assert_int_equal(hwnas_latency_model_format(fitted, &text), HWNAS_OK);
    char path[300], opts[320];
    snprintf(path, sizeof path, "%s/oom.model", tmpdir);
    snprintf(opts, sizeof opts, "model=%s", path);
    assert_int_equal(hwnas_latency_model_save(fitted, path), HWNAS_OK);
    long base = t.live;
    for (int which = 0; which < 5; which++) {
        for (long n = 0;; n++) {
            test_alloc_fail_from(&t, n);
            hwnas_latency_model *m = NULL;
            hwnas_estimator *e = NULL;
            char *s = NULL;
            int rc;
            if (which == 0)
                rc = hwnas_latency_model_new(&m, c, NULL, "predictor=mlp");
            else if (which == 1)
                rc = hwnas_latency_model_parse(&m, c, text, strlen(text), NULL);
            else if (which == 2)
                rc = hwnas_latency_model_format(fitted, &s);
            else if (which == 3)
                rc = hwnas_estimator_new(&e, c, "latency_model", opts);
            else {
                /* add and fit on a model made before the walk */
                test_alloc_disarm(&t);
                assert_int_equal(hwnas_latency_model_new(&m, c, NULL, NULL), HWNAS_OK);
                test_alloc_fail_from(&t, n);
                rc = hwnas_latency_model_add(m, net, 1);
                if (rc == HWNAS_OK)
                    rc = hwnas_latency_model_add(m, net, 2);
                if (rc == HWNAS_OK)
                    rc = hwnas_latency_model_fit(m);
            }
            test_alloc_disarm(&t);
            hwnas_free(s);
            hwnas_latency_model_free(m);
            hwnas_estimator_free(e);
            assert_int_equal(t.live, base);
            if (rc == HWNAS_OK)
                break;
            assert_int_equal(rc, HWNAS_ENOMEM);
        }
    }
    hwnas_free(text);
    hwnas_latency_model_free(fitted);
    hwnas_net_free(net);
    hwnas_context_free(c);
    assert_int_equal(t.live, 0);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("latency_model/oom", tests, setup, teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_law),       cmocka_unit_test(test_features),
        cmocka_unit_test(test_lut_feature),   cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_determinism),   cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_format_errors), cmocka_unit_test(test_estimator),
        cmocka_unit_test(test_search),
    };
    return cmocka_run_group_tests_name("latency_model", tests, setup, teardown);
}
