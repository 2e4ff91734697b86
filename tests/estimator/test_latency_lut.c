/* Latency LUTs: keys, the text format and its errors, prediction with and
 * without fall-backs, estimator:latency_lut, the profiler, OOM walks.
 * No timing is asserted: profiled values are only checked for shape. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/engine_internal.h"
#include "estimator/lut_internal.h"
#include "test_alloc.h"

static hwnas_context *ctx;
static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hwnas-lut-XXXXXX");
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

static const char *net_text = "hwnas-net 1\n"
                              "x = input(shape=3x8x8)\n"
                              "c1 = conv(out=4, k=3, pad=1, s=2)\n"
                              "r1 = relu\n"
                              "c2 = conv(out=4, k=3, pad=1)\n"
                              "a = add(r1, c2)\n"
                              "p = maxpool(k=2)\n"
                              "f = flatten\n"
                              "fc = linear(out=10, bits=8)\n";

static hwnas_net *test_net(hwnas_context *c)
{
    hwnas_net *net;
    assert_int_equal(hwnas_net_parse(&net, c, net_text, NULL), HWNAS_OK);
    return net;
}

static void test_keys(void **state)
{
    (void)state;
    hwnas_net *net = test_net(ctx);
    static const char *const want[] = {
        "input in=3x8x8 out=3x8x8",
        "conv in=3x8x8 out=4x4x4 k=3x3 s=2x2 p=1x1 d=1x1 g=1 bits=32 mul=exact",
        "relu in=4x4x4 out=4x4x4",
        "conv in=4x4x4 out=4x4x4 k=3x3 s=1x1 p=1x1 d=1x1 g=1 bits=32 mul=exact",
        "add in=4x4x4 out=4x4x4 inputs=2",
        "maxpool in=4x4x4 out=4x2x2 k=2x2 s=2x2 p=0x0",
        "flatten in=4x2x2 out=16",
        "linear in=16 out=10 bits=8 mul=exact",
    };
    assert_int_equal(hwnas_net_node_count(net), 8);
    for (size_t i = 0; i < 8; i++) {
        char *k;
        assert_int_equal(hwnas_latency_lut_layer_key(&k, net, i), HWNAS_OK);
        assert_string_equal(k, want[i]);
        hwnas_free(k);
    }
    char *k = (char *)1;
    assert_int_equal(hwnas_latency_lut_layer_key(&k, net, 8), HWNAS_EINVAL);
    assert_null(k);
    /* keys are canonicalised: any field order, k=3 for k=3x3 */
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_set(lut, "conv mul=exact bits=32 g=1 d=1 p=1 s=2 k=3 "
                                                "out=4x4x4 in=3x8x8", 0.5),
                     HWNAS_OK);
    assert_string_equal(hwnas_latency_lut_key(lut, 0), want[1]);
    double v;
    assert_int_equal(hwnas_latency_lut_get(&v, lut, want[1]), HWNAS_OK);
    assert_true(v == 0.5);
    assert_int_equal(hwnas_latency_lut_get(&v, lut, want[2]), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), want[2]));
    /* malformed keys name the field */
    assert_int_equal(hwnas_latency_lut_set(lut, "conv in=3x8x8 out=4 speed=3", 1), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "speed"));
    assert_int_equal(hwnas_latency_lut_set(lut, "conv in=3x8 out=4", 1), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "'in'"));
    assert_int_equal(hwnas_latency_lut_set(lut, "conv out=4", 1), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_lut_set(lut, "conv in=1 out=4 g=1 g=2", 1), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_lut_set(lut, "relu in=1 out=1", -1), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_lut_set(lut, "relu in=1 out=1", NAN), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_lut_count(lut), 1);
    hwnas_latency_lut_free(lut);
    hwnas_net_free(net);
}

/* A LUT with an entry for every layer of net: node i costs (i + 1) ms. */
static hwnas_latency_lut *full_lut(hwnas_context *c, const hwnas_net *net, double overhead)
{
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, c), HWNAS_OK);
    for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
        char *k;
        assert_int_equal(hwnas_latency_lut_layer_key(&k, net, i), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_set(lut, k, (double)(i + 1)), HWNAS_OK);
        hwnas_free(k);
    }
    assert_int_equal(hwnas_latency_lut_set_overhead(lut, overhead), HWNAS_OK);
    return lut;
}

static void test_predict(void **state)
{
    (void)state;
    hwnas_net *net = test_net(ctx);
    hwnas_latency_lut *lut = full_lut(ctx, net, 0.25);
    double ms;
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 0), HWNAS_OK);
    assert_true(fabs(ms - (36 + 0.25)) < 1e-12);
    /* a wider net: c1 and c2 get other shapes */
    hwnas_net *wide;
    assert_int_equal(hwnas_net_parse(&wide, ctx,
                                     "hwnas-net 1\nx = input(shape=3x8x8)\n"
                                     "c1 = conv(out=8, k=3, pad=1, s=2)\nrelu\n",
                                     NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, wide, HWNAS_LATENCY_LUT_MISSING_ERROR),
                     HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "'c1'"));
    assert_non_null(strstr(hwnas_error_last(), "conv in=3x8x8 out=8x4x4"));
    /* nearest: c1's 2 ms, relu's key in=8x4x4 is nearest to relu in=4x4x4 (3 ms) */
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, wide, HWNAS_LATENCY_LUT_MISSING_NEAREST),
                     HWNAS_OK);
    assert_true(fabs(ms - (1 + 2 + 3 + 0.25)) < 1e-12);
    /* interpolate: twice the work of the only compatible entry, twice its time */
    assert_int_equal(
        hwnas_latency_lut_predict(&ms, lut, wide, HWNAS_LATENCY_LUT_MISSING_INTERPOLATE),
        HWNAS_OK);
    assert_true(fabs(ms - (1 + 4 + 6 + 0.25)) < 1e-12);
    /* between two entries: linear in work */
    assert_int_equal(hwnas_latency_lut_set(lut, "relu in=16x4x4 out=16x4x4", 7.0), HWNAS_OK);
    assert_int_equal(
        hwnas_latency_lut_predict(&ms, lut, wide, HWNAS_LATENCY_LUT_MISSING_INTERPOLATE),
        HWNAS_OK);
    /* relu work: 2*128 between 2*64 (3 ms) and 2*256 (7 ms): 3 + 4 * (64/192) */
    assert_true(fabs(ms - (1 + 4 + (3 + 4.0 / 3) + 0.25)) < 1e-12);
    /* scale: the nearest in shape (relu 4x4x4 and 16x4x4 are as near to
     * 8x4x4; the first one met, 4x4x4, 3 ms) times the work ratio, 2 */
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, wide, HWNAS_LATENCY_LUT_MISSING_SCALE),
                     HWNAS_OK);
    assert_true(fabs(ms - (1 + 4 + 6 + 0.25)) < 1e-12);
    /* no compatible entry at all: still an error (a pool has no kin but
     * pools of its own kernel, stride and padding) */
    hwnas_net *other;
    assert_int_equal(hwnas_net_parse(&other, ctx,
                                     "hwnas-net 1\ninput(shape=3x8x8)\navgpool(k=3)\n", NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, other, 1), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "avgpool in=3x8x8"));
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, other, 7), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, other, 4), HWNAS_EINVAL);
    hwnas_net_free(other);
    hwnas_net_free(wide);
    hwnas_latency_lut_free(lut);
    hwnas_net_free(net);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void expect_parse_error(const char *text, int code, const char *words)
{
    hwnas_latency_lut *lut = (hwnas_latency_lut *)1;
    int rc = hwnas_latency_lut_parse(&lut, ctx, text, strlen(text), "t.lut");
    if (rc != code || !strstr(hwnas_error_last(), words))
        fail_msg("got %d \"%s\", want %d with \"%s\" for:\n%s", rc, hwnas_error_last(), code,
                 words, text);
    assert_null(lut);
}

static void test_format(void **state)
{
    (void)state;
    const char *text = "# measured on a phone\n"
                       "hwnas-latency-lut 1\n"
                       "device Pixel 3, TFLite, 1 thread\n"
                       "meta engine=tflite\n"
                       "unit us\n"
                       "overhead 150\n"
                       "layer relu in=4x4x4 out=4x4x4 : 2.5\n"
                       "layer  conv in=3x8x8 out=4x4x4 k=3 s=2 p=1 d=1 g=1 bits=8 mul=mul8u_1JFF"
                       "   :  40 \r\n";
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_parse(&lut, ctx, text, strlen(text), "t.lut"), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_count(lut), 2);
    assert_string_equal(hwnas_latency_lut_device(lut), "Pixel 3, TFLite, 1 thread");
    assert_true(fabs(hwnas_latency_lut_overhead(lut) - 0.15) < 1e-12);
    assert_true(fabs(hwnas_latency_lut_value(lut, 1) - 0.04) < 1e-12);
    assert_string_equal(hwnas_latency_lut_key(lut, 1),
                        "conv in=3x8x8 out=4x4x4 k=3x3 s=2x2 p=1x1 d=1x1 g=1 bits=8 "
                        "mul=mul8u_1JFF");
    /* act= and ctx= (format 1 since libhwnas 0.2): canonical order */
    assert_int_equal(hwnas_latency_lut_set(lut, "bn ctx=40 act=relu out=4x4x4 in=4x4x4", 0.5),
                     HWNAS_OK);
    assert_string_equal(hwnas_latency_lut_key(lut, 2), "bn in=4x4x4 out=4x4x4 act=relu ctx=40");
    /* format and read back: the same text again */
    char *a, *b;
    assert_int_equal(hwnas_latency_lut_format(lut, &a), HWNAS_OK);
    assert_non_null(strstr(a, "unit ms\noverhead 0.15\nlayer bn in=4x4x4 out=4x4x4 act=relu ctx=40 "
                              ": 0.5\nlayer conv"));
    hwnas_latency_lut *again;
    assert_int_equal(hwnas_latency_lut_parse(&again, ctx, a, strlen(a), NULL), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_format(again, &b), HWNAS_OK);
    assert_string_equal(a, b);
    hwnas_free(b);
    hwnas_latency_lut_free(again);
    /* save (plain and gzip) and load */
    for (int gz = 0; gz < 2; gz++) {
        char path[256];
        snprintf(path, sizeof path, "%s/x.lut%s", tmpdir, gz ? ".gz" : "");
        assert_int_equal(hwnas_latency_lut_save(lut, path), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_load(&again, ctx, path), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_format(again, &b), HWNAS_OK);
        assert_string_equal(a, b);
        hwnas_free(b);
        hwnas_latency_lut_free(again);
    }
    hwnas_free(a);
    hwnas_latency_lut_free(lut);

    expect_parse_error("", HWNAS_EFORMAT, "not a latency LUT");
    expect_parse_error("hello\n", HWNAS_EFORMAT, "t.lut:1: not a latency LUT");
    expect_parse_error("hwnas-latency-lut 2\n", HWNAS_EVERSION, "version 2");
    expect_parse_error("hwnas-latency-lut 1\nlayer relu in=1 out=1 : 1\nfrob 3\n", HWNAS_EFORMAT,
                       "t.lut:3: unknown line");
    expect_parse_error("hwnas-latency-lut 1\nlayer relu in=1 out=1 1\n", HWNAS_EFORMAT,
                       "t.lut:2: a layer line");
    expect_parse_error("hwnas-latency-lut 1\n\nlayer relu in=1 out=1 speed=2 : 1\n",
                       HWNAS_EFORMAT, "t.lut:3: unknown field \"speed\"");
    expect_parse_error("hwnas-latency-lut 1\nlayer bn in=1 out=1 ctx=x : 1\n", HWNAS_EFORMAT,
                       "t.lut:2: bad value \"x\" of field 'ctx'");
    expect_parse_error("hwnas-latency-lut 1\nlayer bn in=1 out=1 ctx=256 : 1\n", HWNAS_EFORMAT,
                       "field 'ctx'");
    expect_parse_error("hwnas-latency-lut 1\nlayer bn in=1 out=1 act=Relu : 1\n",
                       HWNAS_EFORMAT, "field 'act'");
    expect_parse_error("hwnas-latency-lut 1\nlayer relu in=1 out=1 : -1\n", HWNAS_EFORMAT,
                       "t.lut:2: latency \"-1\"");
    expect_parse_error("hwnas-latency-lut 1\nlayer relu in=1 out=1 : 1\n"
                       "layer relu out=1 in=1 : 2\n",
                       HWNAS_EFORMAT, "t.lut:3: layer \"relu in=1 out=1\" is listed twice");
    expect_parse_error("hwnas-latency-lut 1\noverhead 1\nunit us\n", HWNAS_EFORMAT,
                       "t.lut:3: 'unit' must come once");
    expect_parse_error("hwnas-latency-lut 1\nunit ns\n", HWNAS_EFORMAT, "unit \"ns\"");
    expect_parse_error("hwnas-latency-lut 1\noverhead nan\n", HWNAS_EFORMAT, "overhead");
    hwnas_latency_lut *none = (hwnas_latency_lut *)1;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.lut", tmpdir);
    assert_int_equal(hwnas_latency_lut_load(&none, ctx, missing), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "none.lut"));
    assert_null(none);
}

static int kind_registered(const char *name)
{
    for (size_t i = 0; i < hwnas_kind_count(ctx); i++)
        if (strcmp(hwnas_kind_name(ctx, i), name) == 0)
            return 1;
    return 0;
}

static void test_estimator(void **state)
{
    (void)state;
    if (!kind_registered("estimator:latency_lut")) {
        print_message("lib/kinds.c does not list hwnas__estimator_latency_lut_kind yet\n");
        skip();
    }
    hwnas_net *net = test_net(ctx);
    hwnas_latency_lut *lut = full_lut(ctx, net, 0.5);
    char path[256];
    snprintf(path, sizeof path, "%s/est.lut", tmpdir);
    assert_int_equal(hwnas_latency_lut_save(lut, path), HWNAS_OK);
    hwnas_latency_lut_free(lut);
    char opts[400];
    snprintf(opts, sizeof opts, "lut=%s", path);
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "latency_lut", opts), HWNAS_OK);
    assert_string_equal(hwnas_estimator_kind(e), "estimator:latency_lut");
    assert_int_equal(hwnas_estimator_metric_count(e), 1);
    assert_string_equal(hwnas_estimator_metric_name(e, 0), "latency_ms");
    assert_string_equal(hwnas_estimator_metric_unit(e, 0), "ms");
    double v;
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, &v), HWNAS_OK);
    assert_true(fabs(v - 36.5) < 1e-9);
    hwnas_net *other;
    assert_int_equal(hwnas_net_parse(&other, ctx, "hwnas-net 1\ninput(shape=1x2x2)\n", NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, other, "k", 0, &v), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "est.lut"));
    assert_non_null(strstr(hwnas_error_last(), "input in=1x2x2"));
    hwnas_estimator_free(e);
    /* overhead overridden; nearest fall-back */
    snprintf(opts, sizeof opts, "lut=%s;overhead=2;missing=nearest", path);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "estimator:latency_lut", opts), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, &v), HWNAS_OK);
    assert_true(fabs(v - 38) < 1e-9);
    assert_int_equal(hwnas_estimator_estimate(e, other, NULL, 0, &v), HWNAS_OK);
    assert_true(fabs(v - 3) < 1e-9); /* the input entry (1 ms) + 2 */
    hwnas_estimator_free(e);
    hwnas_net_free(other);
    /* option errors */
    assert_int_equal(hwnas_estimator_new(&e, ctx, "latency_lut", NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "lut=FILE"));
    snprintf(opts, sizeof opts, "lut=%s;overhead=soon", path);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "latency_lut", opts), HWNAS_EINVAL);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "latency_lut", "lut=/nonexistent/x.lut"),
                     HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "/nonexistent/x.lut"));
    snprintf(opts, sizeof opts, "lut=%s;missing=guess", path);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "latency_lut", opts), HWNAS_EINVAL);
    hwnas_net_free(net);
}

static void test_profile(void **state)
{
    (void)state;
    hwnas_net *net = test_net(ctx);
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_profile(lut, net, 1, 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_lut_profile(lut, net, 1, 3), HWNAS_OK);
    for (size_t i = 0; i < 16; i++) {
        double v = hwnas_latency_lut_value(lut, i);
        assert_true(isfinite(v) && v >= 0);
    }
    /* every node's key, and the same once more with the net's latency
     * class: 16 entries, in node order (the keys do not depend on the
     * timings; the class, the same for every node, is the net's measured
     * latency) */
    assert_int_equal(hwnas_latency_lut_count(lut), 16);
    const char *c0 = strstr(hwnas_latency_lut_key(lut, 1), " ctx=");
    assert_non_null(c0);
    for (size_t i = 0; i < 8; i++) {
        char *k, want[300];
        assert_int_equal(hwnas_latency_lut_layer_key(&k, net, i), HWNAS_OK);
        assert_string_equal(hwnas_latency_lut_key(lut, 2 * i), k);
        snprintf(want, sizeof want, "%s%s", k, c0);
        assert_string_equal(hwnas_latency_lut_key(lut, 2 * i + 1), want);
        hwnas_free(k);
    }
    /* profiling it again: the same plain keys, medians of both; the class
     * keys too, unless this pass's latency falls into another class (the
     * machine's load decides: then 8 more entries follow) */
    char *first[16];
    for (size_t i = 0; i < 16; i++)
        first[i] = strdup(hwnas_latency_lut_key(lut, i));
    assert_int_equal(hwnas_latency_lut_profile(lut, net, 0, 1), HWNAS_OK);
    size_t count = hwnas_latency_lut_count(lut);
    assert_true(count == 16 || count == 24);
    for (size_t i = 0; i < 16; i++) {
        assert_string_equal(hwnas_latency_lut_key(lut, i), first[i]);
        free(first[i]);
    }
    assert_true(isfinite(hwnas_latency_lut_overhead(lut)));
    double pred, meas;
    assert_int_equal(hwnas_latency_lut_predict(&pred, lut, net, 0), HWNAS_OK);
    assert_true(isfinite(pred));
    assert_int_equal(hwnas_latency_lut_measure(&meas, ctx, net, 1, 3), HWNAS_OK);
    assert_true(meas > 0 && isfinite(meas));
    assert_int_equal(hwnas_latency_lut_measure(&meas, ctx, net, 1, 0), HWNAS_EINVAL);
    hwnas_latency_lut_free(lut);
    hwnas_net_free(net);
}

/* conv -> bn -> relu (fused by the engine), bn -> add (not fused: the bn
 * has two consumers), bn -> relu6 (fused), relu -> bn -> sigmoid (not). */
static const char *fused_text = "hwnas-net 1\n"
                                "x = input(shape=3x8x8)\n"
                                "c = conv(out=4, k=3, pad=1)\n"
                                "b1 = bn\n"
                                "r1 = relu\n"
                                "b2 = bn(c)\n"
                                "a = add(b2, r1, b2)\n"
                                "b3 = bn\n"
                                "r6 = relu6\n"
                                "b4 = bn\n"
                                "s = sigmoid\n"
                                "g = gap\n";

static void test_fused_keys(void **state)
{
    (void)state;
    hwnas_net *net;
    assert_int_equal(hwnas_net_parse(&net, ctx, fused_text, NULL), HWNAS_OK);
    size_t n = hwnas_net_node_count(net);
    static const char *const want[] = {
        "input in=3x8x8 out=3x8x8",
        "conv in=3x8x8 out=4x8x8 k=3x3 s=1x1 p=1x1 d=1x1 g=1 bits=32 mul=exact",
        "bn in=4x8x8 out=4x8x8 act=relu",
        NULL,
        "bn in=4x8x8 out=4x8x8",
        "add in=4x8x8 out=4x8x8 inputs=3",
        "bn in=4x8x8 out=4x8x8 act=relu6",
        NULL,
        "bn in=4x8x8 out=4x8x8",
        "sigmoid in=4x8x8 out=4x8x8",
        "gap in=4x8x8 out=4x1x1",
    };
    assert_int_equal(n, HWNAS_ARRAY_SIZE(want));
    /* the LUT's view of what runs is the engine's */
    hwnas__engine *e;
    assert_int_equal(hwnas__engine_new(&e, ctx, net, 1), HWNAS_OK);
    for (size_t i = 0; i < n; i++) {
        char *k;
        assert_int_equal(hwnas__lut_run_key(&k, net, i, -1), HWNAS_OK);
        if (!want[i])
            assert_null(k);
        else
            assert_string_equal(k, want[i]);
        assert_int_equal(k == NULL, e->nodes[i].fused);
        assert_int_equal(k && strstr(k, " act="), e->nodes[i].fused_act != 0);
        hwnas_free(k);
        /* with a latency class, the same key plus ctx= */
        assert_int_equal(hwnas__lut_run_key(&k, net, i, 41), HWNAS_OK);
        if (want[i]) {
            char w[300];
            snprintf(w, sizeof w, "%s ctx=41", want[i]);
            assert_string_equal(k, w);
        }
        hwnas_free(k);
    }
    hwnas__engine_free(e);
    /* profiling gives the fused keys, and none for the fused activations */
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_profile(lut, net, 0, 2), HWNAS_OK);
    double v;
    assert_int_equal(hwnas_latency_lut_get(&v, lut, want[2]), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_get(&v, lut, want[6]), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_get(&v, lut, "relu in=4x8x8 out=4x8x8"), HWNAS_ENOTFOUND);
    assert_int_equal(hwnas_latency_lut_get(&v, lut, "relu6 in=4x8x8 out=4x8x8"),
                     HWNAS_ENOTFOUND);
    hwnas_latency_lut_free(lut);
    hwnas_net_free(net);
}

/* A net whose convolutions and linear layers are all low-bit is profiled
 * as it is deployed: in int8 on the lookup GEMM with the multipliers it
 * names (a multiplier the registry lacks is then an error naming it), its
 * batch-norm folded into the convolution and the relu after it keyed on
 * the batch-norm as the fp32 engine fuses them. A net with one 32-bit
 * layer runs in fp32, where multipliers are not looked up. */
static const char *int8_text = "hwnas-net 1\n"
                               "x = input(shape=3x8x8)\n"
                               "c = conv(out=4, k=3, pad=1, bits=8, mul=\"drum:k=4\")\n"
                               "b = bn\n"
                               "r = relu\n"
                               "g = gap\n"
                               "fc = linear(out=10, bits=8, mul=\"%s\")\n";

static void test_profile_int8(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, int8_text, "mitchell");
    hwnas_net *net;
    assert_int_equal(hwnas_net_parse(&net, ctx, text, NULL), HWNAS_OK);
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_profile(lut, net, 1, 2), HWNAS_OK);
    double v;
    assert_int_equal(hwnas_latency_lut_get(&v, lut, "conv in=3x8x8 out=4x8x8 k=3x3 s=1x1 p=1x1 "
                                                    "d=1x1 g=1 bits=8 mul=drum:k=4"),
                     HWNAS_OK);
    assert_true(isfinite(v) && v >= 0);
    assert_int_equal(hwnas_latency_lut_get(&v, lut, "bn in=4x8x8 out=4x8x8 act=relu"), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_get(&v, lut, "relu in=4x8x8 out=4x8x8"), HWNAS_ENOTFOUND);
    assert_int_equal(hwnas_latency_lut_get(&v, lut, "linear in=4x1x1 out=10 bits=8 mul=mitchell"),
                     HWNAS_OK);
    double meas;
    assert_int_equal(hwnas_latency_lut_measure(&meas, ctx, net, 1, 2), HWNAS_OK);
    assert_true(meas > 0 && isfinite(meas));
    hwnas_net_free(net);

    /* an unknown multiplier: the int8 path looks it up and says which */
    snprintf(text, sizeof text, int8_text, "nosuch:k=1");
    assert_int_equal(hwnas_net_parse(&net, ctx, text, NULL), HWNAS_OK);
    size_t before = hwnas_latency_lut_count(lut);
    assert_int_not_equal(hwnas_latency_lut_profile(lut, net, 0, 1), HWNAS_OK);
    assert_non_null(strstr(hwnas_error_last(), "nosuch"));
    assert_int_equal(hwnas_latency_lut_count(lut), before);
    assert_int_not_equal(hwnas_latency_lut_measure(&meas, ctx, net, 0, 1), HWNAS_OK);
    hwnas_net_free(net);

    /* the same net with a 32-bit linear layer runs in fp32 */
    const char *mixed = "hwnas-net 1\n"
                        "x = input(shape=3x8x8)\n"
                        "c = conv(out=4, k=3, pad=1, bits=8, mul=\"nosuch:k=1\")\n"
                        "g = gap\n"
                        "fc = linear(out=10)\n";
    assert_int_equal(hwnas_net_parse(&net, ctx, mixed, NULL), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_profile(lut, net, 0, 1), HWNAS_OK);
    hwnas_net_free(net);
    hwnas_latency_lut_free(lut);
}

/* The profiler's outlier rule: a pass slower than 1.25x the fastest is
 * left out of the node medians (here one whose node 0 lost a time
 * slice), and the nodes are scaled to the fastest pass. */
static void test_node_times_outliers(void **state)
{
    (void)state;
    enum { N = 3, P = 5 };
    const uint8_t fused[N] = {0, 1, 0};
    /* node 0 takes 1 ms and node 2 3 ms in every pass but pass 3, where
     * node 0 took 40 ms */
    double node_t[P * N], instr[P] = {4.0, 4.2, 4.1, 43.0, 4.0}, out[N], col[P];
    for (size_t r = 0; r < P; r++) {
        node_t[r * N + 0] = r == 3 ? 40.0 : 1.0;
        node_t[r * N + 1] = 0;
        node_t[r * N + 2] = 3.0;
    }
    hwnas__lut_node_times(out, fused, N, node_t, instr, P, 0, 0, col);
    assert_true(fabs(out[0] - 1.0) < 1e-12);
    assert_true(out[1] == 0);
    assert_true(fabs(out[2] - 3.0) < 1e-12);
    /* three disturbed passes of five: a plain median would give 40 ms */
    node_t[1 * N + 0] = node_t[2 * N + 0] = 40.0;
    instr[1] = instr[2] = 43.0;
    hwnas__lut_node_times(out, fused, N, node_t, instr, P, 0, 0, col);
    assert_true(fabs(out[0] - 1.0) < 1e-12);
    /* scaled to the fastest pass less its clock reads: (4 - 3 * 0.1 - 0.05)
     * over the medians' sum (1 - 0.1) + (3 - 0.1) */
    hwnas__lut_node_times(out, fused, N, node_t, instr, P, 0.1, 0.05, col);
    double scale = (4.0 - 3 * 0.1 - 0.05) / (0.9 + 2.9);
    assert_true(fabs(out[0] - 0.9 * scale) < 1e-12);
    assert_true(fabs(out[2] - 2.9 * scale) < 1e-12);
}

/* A LUT holding exactly the layers that run in a net predicts the sum of
 * its entries plus the overhead, fused layers counted once; a LUT of
 * separate bn and relu entries (measured elsewhere) gives bn + relu. */
static void test_predict_fused(void **state)
{
    (void)state;
    hwnas_net *net;
    assert_int_equal(hwnas_net_parse(&net, ctx, fused_text, NULL), HWNAS_OK);
    size_t n = hwnas_net_node_count(net);
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_set_overhead(lut, 0.5), HWNAS_OK);
    double sum = 0.5;
    for (size_t i = 0; i < n; i++) {
        char *k;
        assert_int_equal(hwnas__lut_run_key(&k, net, i, -1), HWNAS_OK);
        if (!k)
            continue;
        double v = 1.0 / (double)(i + 1); /* a distinct value per layer */
        /* the two bn layers without act= share one key: set once */
        if (hwnas_latency_lut_get(&v, lut, k) == HWNAS_ENOTFOUND)
            assert_int_equal(hwnas_latency_lut_set(lut, k, v), HWNAS_OK);
        sum += v;
        hwnas_free(k);
    }
    double ms;
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 0), HWNAS_OK);
    assert_true(fabs(ms - sum) < 1e-12);
    hwnas_latency_lut_free(lut);
    /* separate entries for every node: the plain sum */
    lut = full_lut(ctx, net, 0.5);
    sum = 0.5;
    for (size_t i = 0; i < n; i++) {
        char *k;
        double v;
        assert_int_equal(hwnas_latency_lut_layer_key(&k, net, i), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_get(&v, lut, k), HWNAS_OK);
        sum += v;
        hwnas_free(k);
    }
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 0), HWNAS_OK);
    assert_true(fabs(ms - sum) < 1e-12);
    /* a fused entry, once there, replaces bn + relu */
    double bn, relu, fused = 100;
    assert_int_equal(hwnas_latency_lut_get(&bn, lut, "bn in=4x8x8 out=4x8x8"), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_get(&relu, lut, "relu in=4x8x8 out=4x8x8"), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_set(lut, "bn in=4x8x8 out=4x8x8 act=relu", fused),
                     HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 0), HWNAS_OK);
    assert_true(fabs(ms - (sum - bn - relu + fused)) < 1e-9);
    hwnas_latency_lut_free(lut);
    hwnas_net_free(net);
}

/* Entries per latency class: the plain entries give the net's latency,
 * its context x; then each layer takes its entry of the net's class,
 * linear in x between two classes, the nearest class beyond the ends, and
 * the plain entry when the layer has no class entry. */
static void test_predict_ctx(void **state)
{
    (void)state;
    hwnas_net *net = test_net(ctx);
    size_t n = hwnas_net_node_count(net);
    double x = hwnas__lut_ctx_x(1000.0 * (double)n); /* 8 plain entries of 1000 ms */
    int c = hwnas__lut_ctx_class(1000.0 * (double)n);
    assert_true(fabs(x - c) <= 0.5 && fabs(x - 2 * log2(8e6)) < 1e-12);
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    double want = 0;
    for (size_t i = 0; i < n; i++) {
        char *k, key[300];
        assert_int_equal(hwnas_latency_lut_layer_key(&k, net, i), HWNAS_OK);
        /* plain entries: the first estimate, and layers without classes */
        assert_int_equal(hwnas_latency_lut_set(lut, k, 1000), HWNAS_OK);
        if (i == 0) { /* node 0: its own class only */
            snprintf(key, sizeof key, "%s ctx=%d", k, c);
            assert_int_equal(hwnas_latency_lut_set(lut, key, 2), HWNAS_OK);
            want += 2;
        } else if (i == 1) { /* node 1: classes c - 1 and c + 1 */
            snprintf(key, sizeof key, "%s ctx=%d", k, c - 1);
            assert_int_equal(hwnas_latency_lut_set(lut, key, 1), HWNAS_OK);
            snprintf(key, sizeof key, "%s ctx=%d", k, c + 1);
            assert_int_equal(hwnas_latency_lut_set(lut, key, 3), HWNAS_OK);
            want += 1 + 2 * (x - (c - 1)) / 2;
        } else if (i == 2) { /* node 2: two classes below */
            snprintf(key, sizeof key, "%s ctx=%d", k, c - 3);
            assert_int_equal(hwnas_latency_lut_set(lut, key, 5), HWNAS_OK);
            snprintf(key, sizeof key, "%s ctx=%d", k, c - 2);
            assert_int_equal(hwnas_latency_lut_set(lut, key, 4), HWNAS_OK);
            want += 4;
        } else { /* the rest: no class entry, the plain one */
            want += 1000;
        }
        hwnas_free(k);
    }
    double ms;
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 0), HWNAS_OK);
    assert_true(fabs(ms - want) < 1e-9);
    /* and the format keeps them */
    char *text;
    assert_int_equal(hwnas_latency_lut_format(lut, &text), HWNAS_OK);
    hwnas_latency_lut *again;
    assert_int_equal(hwnas_latency_lut_parse(&again, ctx, text, strlen(text), NULL), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_predict(&ms, again, net, 0), HWNAS_OK);
    assert_true(fabs(ms - want) < 1e-6);
    hwnas_free(text);
    hwnas_latency_lut_free(again);
    hwnas_latency_lut_free(lut);
    hwnas_net_free(net);
}

/* Profiled samples: the entry is their median; a value set before counts
 * as one sample. */
static void test_median(void **state)
{
    (void)state;
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    const char *k = "relu in=4 out=4";
    static const double s[] = {5, 1, 9, 2, 100, 3};
    static const double med[] = {5, 3, 5, 3.5, 5, 4};
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(s); i++) {
        assert_int_equal(hwnas__lut_add_sample(lut, k, s[i]), HWNAS_OK);
        assert_true(hwnas_latency_lut_value(lut, 0) == med[i]);
    }
    assert_int_equal(hwnas_latency_lut_set(lut, k, 7), HWNAS_OK);
    assert_int_equal(hwnas__lut_add_sample(lut, k, 1), HWNAS_OK);
    assert_int_equal(hwnas__lut_add_sample(lut, k, 2), HWNAS_OK);
    assert_true(hwnas_latency_lut_value(lut, 0) == 2); /* median of 7, 1, 2 */
    hwnas_latency_lut_free(lut);
}

/* Layers with no compatible entry fall back on kin: the same op with
 * other parameters, the same op with another multiplier, any layer with a
 * multiplier at the same bits, then any memory-bound op, scaled in work. */
static void test_fallback_kin(void **state)
{
    (void)state;
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_set(lut, "input in=1x4x4 out=1x4x4", 0.25), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_set(lut, "relu in=2x4x4 out=2x4x4", 1), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_set(lut, "avgpool in=1x4x4 out=1x2x2 k=2 s=2 p=0", 2),
                     HWNAS_OK);
    hwnas_net *net;
    /* zero of 1x4x4: the memory-bound entry closest in work, the input
     * (equal work: 0.25 ms); a 3x3 pool: the 2x2 pool's 2 ms times
     * (16 + 4 * 9) / (16 + 4 * 4) */
    assert_int_equal(hwnas_net_parse(&net, ctx,
                                     "hwnas-net 1\nx = input(shape=1x4x4)\nz = zero\n"
                                     "p = avgpool(x, k=3, s=1)\n",
                                     NULL),
                     HWNAS_OK);
    double ms;
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 0), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "zero in=1x4x4"));
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 2), HWNAS_OK);
    assert_true(fabs(ms - (0.25 + 0.25 + 2.0 * 52 / 32)) < 1e-12);
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 1), HWNAS_OK);
    assert_true(fabs(ms - (0.25 + 0.25 + 2)) < 1e-12);
    hwnas_net_free(net);
    /* low-bit layers: a conv with another multiplier at the same bits
     * (tier 2: 4 ms for 1x4x4 -> 2x4x4 3x3, work 2 * 16 * 9 = 288), else
     * any layer with a multiplier at those bits (tier 3: a dwconv from
     * the conv, work 1 * 16 * 9 = 144 -> 2 ms); never across bits (a
     * 32-bit conv finds no kin in the 8-bit one) */
    assert_int_equal(hwnas_latency_lut_set(lut, "conv in=1x4x4 out=2x4x4 k=3x3 s=1x1 p=1x1 "
                                                "d=1x1 g=1 bits=8 mul=mitchell",
                                           4),
                     HWNAS_OK);
    assert_int_equal(hwnas_net_parse(&net, ctx,
                                     "hwnas-net 1\nx = input(shape=1x4x4)\n"
                                     "c = conv(out=4, k=3, pad=1, bits=8, mul=\"drum:k=4\")\n"
                                     "d = dwconv(x, k=3, pad=1, bits=8, mul=\"drum:k=4\")\n",
                                     NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 3), HWNAS_OK);
    assert_true(fabs(ms - (0.25 + 4.0 * 576 / 288 + 4.0 * 144 / 288)) < 1e-12);
    hwnas_net_free(net);
    assert_int_equal(hwnas_net_parse(&net, ctx,
                                     "hwnas-net 1\nx = input(shape=1x4x4)\n"
                                     "c = conv(out=4, k=3, pad=1)\n",
                                     NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 3), HWNAS_ENOTFOUND);
    hwnas_net_free(net);
    hwnas_latency_lut_free(lut);
}

/* Latencies beyond HWNAS__LUT_MAX_MS (1e9 ms) are refused wherever they
 * enter, naming file and line; a LUT at the bound predicts a finite
 * latency through the ctx= path (entries of 1e308 once summed to infinity
 * and overflowed the conversion to a context class: UBSan, issue 24). */
static void test_out_of_range(void **state)
{
    (void)state;
    expect_parse_error("hwnas-latency-lut 1\nlayer relu in=1 out=1 : 1e308\n", HWNAS_EFORMAT,
                       "t.lut:2: latency \"1e308\" is out of range");
    expect_parse_error("hwnas-latency-lut 1\nunit s\nlayer relu in=1 out=1 : 1e7\n",
                       HWNAS_EFORMAT, "t.lut:3: latency \"1e7\" is out of range");
    expect_parse_error("hwnas-latency-lut 1\n\noverhead -1e308\n", HWNAS_EFORMAT,
                       "t.lut:3: overhead \"-1e308\" is out of range");
    expect_parse_error("hwnas-latency-lut 1\nlayer relu in=1 out=1 ctx=3 : 1e10\n",
                       HWNAS_EFORMAT, "t.lut:2:");
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_set(lut, "relu in=1 out=1", 1e308), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_lut_set_overhead(lut, -1e308), HWNAS_EINVAL);
    assert_int_equal(hwnas__lut_add_sample(lut, "relu in=1 out=1", 1e308), HWNAS_EINVAL);
    assert_int_equal(hwnas_latency_lut_count(lut), 0);
    hwnas_net *net = test_net(ctx);
    size_t n = hwnas_net_node_count(net);
    for (size_t i = 0; i < n; i++) {
        char *k, key[300];
        assert_int_equal(hwnas_latency_lut_layer_key(&k, net, i), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_set(lut, k, HWNAS__LUT_MAX_MS), HWNAS_OK);
        snprintf(key, sizeof key, "%s ctx=255", k);
        assert_int_equal(hwnas_latency_lut_set(lut, key, HWNAS__LUT_MAX_MS), HWNAS_OK);
        hwnas_free(k);
    }
    assert_int_equal(hwnas_latency_lut_set_overhead(lut, HWNAS__LUT_MAX_MS), HWNAS_OK);
    double ms;
    assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net, 0), HWNAS_OK);
    assert_true(isfinite(ms) && ms == HWNAS__LUT_MAX_MS * (double)(n + 1));
    hwnas_net_free(net);
    hwnas_latency_lut_free(lut);
}

/* Multiplier names as long as the IR takes (128 characters) are keys
 * whole: two that differ only at the end are two layers (keys once kept
 * 63 characters, silently). */
static void test_long_multiplier(void **state)
{
    (void)state;
    char name[2][HWNAS__NET_MAX_NAME + 1], text[1024];
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    char *key[2];
    hwnas_net *net[2];
    for (int i = 0; i < 2; i++) {
        memset(name[i], 'm', HWNAS__NET_MAX_NAME);
        name[i][HWNAS__NET_MAX_NAME - 1] = (char)('a' + i);
        name[i][HWNAS__NET_MAX_NAME] = '\0';
        snprintf(text, sizeof text, "hwnas-net 1\nx = input(shape=1x4x4)\n"
                 "c = conv(out=2, k=3, pad=1, bits=8, mul=%s)\n", name[i]);
        assert_int_equal(hwnas_net_parse(&net[i], ctx, text, NULL), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_layer_key(&key[i], net[i], 1), HWNAS_OK);
        assert_non_null(strstr(key[i], name[i]));
        assert_int_equal(hwnas_latency_lut_set(lut, key[i], 1.0 + i), HWNAS_OK);
        char *in;
        assert_int_equal(hwnas_latency_lut_layer_key(&in, net[i], 0), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_set(lut, in, 0), HWNAS_OK);
        hwnas_free(in);
    }
    assert_int_equal(hwnas_latency_lut_count(lut), 3);
    for (int i = 0; i < 2; i++) {
        double ms;
        assert_int_equal(hwnas_latency_lut_predict(&ms, lut, net[i], 0), HWNAS_OK);
        assert_true(ms == 1.0 + i);
        hwnas_free(key[i]);
        hwnas_net_free(net[i]);
    }
    hwnas_latency_lut_free(lut);
}

/* Every multiplier name the IR takes is a key that reads back: built-in
 * specs hold '=' and ',' (their keys were once refused when read). */
static void test_multiplier_specs_round_trip(void **state)
{
    (void)state;
    static const char *const muls[] = {"drum:k=6", "bam:h=2,v=6", "trunc:t=2,signed=1",
                                       "a.b-c+d:e=f,g"};
    hwnas_latency_lut *lut, *back;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx), HWNAS_OK);
    hwnas_net *net[4];
    for (int i = 0; i < 4; i++) {
        char text[512], *key, *in;
        snprintf(text, sizeof text, "hwnas-net 1\nx = input(shape=1x4x4)\n"
                 "c = conv(out=2, k=3, pad=1, bits=8, mul=\"%s\")\n", muls[i]);
        assert_int_equal(hwnas_net_parse(&net[i], ctx, text, NULL), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_layer_key(&key, net[i], 1), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_set(lut, key, 1.0 + i), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_layer_key(&in, net[i], 0), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_set(lut, in, 0), HWNAS_OK);
        hwnas_free(in);
        hwnas_free(key);
    }
    char *text;
    assert_int_equal(hwnas_latency_lut_format(lut, &text), HWNAS_OK);
    assert_non_null(strstr(text, " mul=bam:h=2,v=6 : 2\n"));
    assert_int_equal(hwnas_latency_lut_parse(&back, ctx, text, strlen(text), "t.lut"),
                     HWNAS_OK);
    assert_int_equal(hwnas_latency_lut_count(back), 5);
    for (int i = 0; i < 4; i++) {
        double ms;
        assert_int_equal(hwnas_latency_lut_predict(&ms, back, net[i], 0), HWNAS_OK);
        assert_true(ms == 1.0 + i);
        hwnas_net_free(net[i]);
    }
    hwnas_free(text);
    hwnas_latency_lut_free(back);
    hwnas_latency_lut_free(lut);
    /* other characters stay refused, naming the line */
    expect_parse_error("hwnas-latency-lut 1\nlayer conv in=1x4x4 out=2x4x4 mul=a\"b : 1\n",
                       HWNAS_EFORMAT, "t.lut:2: bad value \"a\"b\" of field 'mul'");
}

static void test_oom(void **state)
{
    (void)state;
    const char *text = "hwnas-latency-lut 1\ndevice d\nunit ms\noverhead 1\n"
                       "layer relu in=4x4x4 out=4x4x4 : 2.5\n"
                       "layer input in=3x8x8 out=3x8x8 : 0.5\n";
    const char *path = write_file("oom.lut", text);
    char opts[300];
    snprintf(opts, sizeof opts, "lut=%s", path);
    test_alloc t;
    hwnas_context *c = test_alloc_context(&t, "threads=1");
    hwnas_net *net = test_net(c), *net8;
    char text8[512];
    snprintf(text8, sizeof text8, int8_text, "mitchell");
    assert_int_equal(hwnas_net_parse(&net8, c, text8, NULL), HWNAS_OK);
    long base = t.live;
    for (int which = 0; which < 5; which++) {
        for (long n = 0;; n++) {
            test_alloc_fail_from(&t, n);
            hwnas_latency_lut *lut = NULL;
            hwnas_estimator *e = NULL;
            int rc;
            if (which == 0)
                rc = hwnas_latency_lut_parse(&lut, c, text, strlen(text), NULL);
            else if (which == 1)
                rc = kind_registered("estimator:latency_lut")
                         ? hwnas_estimator_new(&e, c, "latency_lut", opts)
                         : HWNAS_OK;
            else {
                rc = hwnas_latency_lut_new(&lut, c);
                if (rc == HWNAS_OK && which == 2)
                    rc = hwnas_latency_lut_profile(lut, net, 0, 1);
                if (rc == HWNAS_OK && which == 4)
                    rc = hwnas_latency_lut_profile(lut, net8, 0, 1);
                char *s = NULL;
                if (rc == HWNAS_OK && which == 3)
                    rc = hwnas_latency_lut_format(lut, &s);
                hwnas_free(s);
            }
            test_alloc_disarm(&t);
            hwnas_latency_lut_free(lut);
            hwnas_estimator_free(e);
            assert_int_equal(t.live, base);
            if (rc == HWNAS_OK)
                break;
            assert_int_equal(rc, HWNAS_ENOMEM);
        }
    }
    hwnas_net_free(net);
    hwnas_net_free(net8);
    hwnas_context_free(c);
    assert_int_equal(t.live, 0);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("latency_lut/oom", tests, setup, teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),     cmocka_unit_test(test_predict),
        cmocka_unit_test(test_format),   cmocka_unit_test(test_estimator),
        cmocka_unit_test(test_profile),  cmocka_unit_test(test_fused_keys),
        cmocka_unit_test(test_profile_int8), cmocka_unit_test(test_node_times_outliers),
        cmocka_unit_test(test_predict_fused), cmocka_unit_test(test_predict_ctx),
        cmocka_unit_test(test_median),   cmocka_unit_test(test_fallback_kin),
        cmocka_unit_test(test_out_of_range), cmocka_unit_test(test_long_multiplier),
        cmocka_unit_test(test_multiplier_specs_round_trip),
    };
    return cmocka_run_group_tests_name("latency_lut", tests, setup, teardown);
}
