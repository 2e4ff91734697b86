/* Gradients of every node kind against central finite differences, forward
 * kernels against naive references, and the loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "engine_tests.h"

#define BATCH 3

/* samples per pass of gradcheck (BATCH, or more to reach the kernels' paths
 * that put several samples in one chunk and one sgemm) */
static size_t batch = BATCH;

typedef struct gc {
    hwnas_context *ctx;
    hwnas_net *net;
    hwnas__engine *e;
    size_t in_size, out_size;
    float *x, *r;
} gc;

static double frand(hwnas__rng *g)
{
    return hwnas__rng_normal(g);
}

static void gc_open(gc *g, const char *spec, double xscale, double xshift, int threads)
{
    char opts[32];
    snprintf(opts, sizeof opts, "threads=%d", threads);
    assert_int_equal(hwnas_context_new(&g->ctx, opts), HWNAS_OK);
    int rc = hwnas_net_parse(&g->net, g->ctx, spec, "spec");
    if (rc != HWNAS_OK)
        fail_msg("parse: %s", hwnas_error_last());
    rc = hwnas__engine_new(&g->e, g->ctx, g->net, 3);
    if (rc != HWNAS_OK)
        fail_msg("engine: %s", hwnas_error_last());
    g->e->need_input_grad = 1;
    assert_int_equal(hwnas__engine_reserve(g->e, batch), HWNAS_OK);
    g->in_size = batch * g->e->nodes[g->e->input].size;
    g->out_size = batch * g->e->nodes[g->e->logits].size;
    g->x = malloc(g->in_size * sizeof(float));
    g->r = malloc(g->out_size * sizeof(float));
    hwnas__rng rng;
    hwnas__rng_seed(&rng, 11, 0);
    for (size_t k = 0; k < g->in_size; k++)
        g->x[k] = (float)(xscale * frand(&rng) + xshift);
    for (size_t k = 0; k < g->out_size; k++)
        g->r[k] = (float)frand(&rng);
    /* non-trivial batch-norm affine parameters and prelu slopes */
    for (size_t i = 0; i < g->e->n; i++) {
        const hwnas__eng_node *nd = &g->e->nodes[i];
        if (nd->kind == HWNAS_NET_BATCHNORM || nd->kind == HWNAS_NET_ACT)
            for (size_t k = 0; k < nd->n_p; k++)
                g->e->params[nd->p_off + k] += (float)(0.3 * frand(&rng));
    }
}

static void gc_close(gc *g)
{
    free(g->x);
    free(g->r);
    hwnas__engine_free(g->e);
    hwnas_net_free(g->net);
    hwnas_context_free(g->ctx);
}

/* sum(out * r) of a training forward at a fixed step. */
static double objective(gc *g)
{
    assert_int_equal(hwnas__engine_forward(g->e, g->x, batch, 1, 5), HWNAS_OK);
    const float *out = g->e->act[g->e->logits];
    double s = 0;
    for (size_t k = 0; k < g->out_size; k++)
        s += (double)out[k] * g->r[k];
    return s;
}

static void compare(const char *what, size_t k, double analytic, double numeric)
{
    double tol = 2e-2 + 2e-2 * fmax(fabs(analytic), fabs(numeric));
    if (fabs(analytic - numeric) > tol)
        fail_msg("%s[%zu]: analytic %.6g, finite differences %.6g", what, k, analytic, numeric);
}

/* Check up to `most` coordinates of v (n floats) against differences. */
static void check_coords(gc *g, float *v, size_t n, const float *analytic, const char *what,
                         double eps)
{
    size_t most = 24, stride = n > most ? n / most : 1;
    for (size_t k = 0; k < n; k += stride) {
        float keep = v[k];
        v[k] = keep + (float)eps;
        double up = objective(g);
        v[k] = keep - (float)eps;
        double down = objective(g);
        v[k] = keep;
        double num = (up - down) / (2 * eps);
        compare(what, k, analytic[k], num);
    }
}

static void gradcheck(const char *spec, double xscale, double xshift, double eps)
{
    gc g;
    gc_open(&g, spec, xscale, xshift, 2);
    objective(&g);
    assert_int_equal(hwnas__engine_backward(g.e, g.r), HWNAS_OK);
    float *dx = malloc(g.in_size * sizeof *dx);
    float *dp = malloc((g.e->n_params + 1) * sizeof *dp);
    memcpy(dx, g.e->dact[g.e->input], g.in_size * sizeof *dx);
    memcpy(dp, g.e->grads, g.e->n_params * sizeof *dp);
    check_coords(&g, g.x, g.in_size, dx, "input", eps);
    for (size_t i = 0; i < g.e->n; i++) {
        const hwnas__eng_node *nd = &g.e->nodes[i];
        if (nd->n_p)
            check_coords(&g, g.e->params + nd->p_off, nd->n_p, dp + nd->p_off, nd->name, eps);
    }
    free(dx);
    free(dp);
    gc_close(&g);
}

#define NET(body) "hwnas-net 1\n" body

static void test_grad_conv(void **state)
{
    (void)state;
    gradcheck(NET("x = input(shape=3x7x6)\nconv(out=4, k=3, pad=1)\n"
                  "conv(out=5, k=3, s=2, pad=1, bias=0)\nconv(out=2, k=2, s=1, pad=0)\n"),
              1.0, 0, 1e-2);
    /* dilation, groups, asymmetric kernel via k on a wide input */
    gradcheck(NET("x = input(shape=4x9x8)\nconv(out=6, k=3, d=2, pad=2, groups=2)\n"
                  "conv(out=3, k=1, s=2)\n"),
              1.0, 0, 1e-2);
    /* 40 samples: chunks of several samples, several samples per sgemm */
    batch = 40;
    gradcheck(NET("x = input(shape=3x7x6)\nconv(out=4, k=3, pad=1)\nbn\n"
                  "conv(out=5, k=3, s=2, pad=1, bias=0)\nswish\ndwconv(k=3, pad=1)\n"
                  "linear(out=3)\n"),
              1.0, 0, 1e-2);
    batch = BATCH;
}

static void test_grad_dwconv(void **state)
{
    (void)state;
    gradcheck(NET("x = input(shape=3x8x7)\ndwconv(mult=2, k=3, s=2, pad=1)\n"
                  "dwconv(k=3, pad=1, d=2, bias=0)\nconv(out=2, k=1)\n"),
              1.0, 0, 1e-2);
}

static void test_grad_pool(void **state)
{
    (void)state;
    gradcheck(NET("x = input(shape=2x7x7)\nmaxpool(k=2)\n"), 1.0, 0, 1e-3);
    gradcheck(NET("x = input(shape=2x7x7)\nmaxpool(k=3, s=2, pad=1)\n"), 1.0, 0, 1e-3);
    gradcheck(NET("x = input(shape=2x7x7)\navgpool(k=3, s=2, pad=1)\n"), 1.0, 0, 1e-2);
    gradcheck(NET("x = input(shape=2x6x6)\navgpool(k=2)\ngap\n"), 1.0, 0, 1e-2);
}

static void test_grad_bn(void **state)
{
    (void)state;
    gradcheck(NET("x = input(shape=3x5x4)\nconv(out=4, k=3, pad=1)\nbn\n"), 1.0, 0.5, 1e-2);
    gradcheck(NET("x = input(shape=3x2x2)\nlinear(out=5)\nbn\n"), 1.0, 0, 1e-2);
    /* batch-norm fused with the relu / relu6 that is its only consumer */
    gradcheck(NET("x = input(shape=3x5x4)\nconv(out=4, k=3, pad=1)\nbn\nrelu\n"
                  "conv(out=3, k=3, s=2, pad=1)\n"), 1.0, 0.5, 1e-3);
    gradcheck(NET("x = input(shape=2x4x4)\nconv(out=3, k=1)\nbn\nrelu6\nconv(out=2, k=1)\n"),
              1.0, 0, 1e-3);
    /* not fused: the batch-norm output has a second consumer */
    gradcheck(NET("x = input(shape=2x4x4)\nconv(out=3, k=1)\nb = bn\nr = relu\nadd(r, b)\n"),
              1.0, 0, 1e-3);
}

/* The fused batch-norm + relu gives the same outputs and gradients, bit for
 * bit, as the two nodes run apart. */
static void test_bn_fusion(void **state)
{
    (void)state;
    const char *spec = NET("x = input(shape=3x6x6)\nconv(out=4, k=3, pad=1)\nbn\nrelu\n"
                           "conv(out=4, k=3, s=2, pad=1)\nbn\nrelu6\ngap\nlinear(out=3)\n");
    gc f, u;
    gc_open(&f, spec, 3.0, 0.5, 2);
    gc_open(&u, spec, 3.0, 0.5, 2);
    assert_int_equal(f.e->nodes[2].fused_act, 3);
    assert_int_equal(f.e->nodes[3].fused, 1);
    assert_int_equal(f.e->nodes[5].fused_act, 6);
    for (size_t i = 0; i < u.e->n; i++)
        u.e->nodes[i].fused_act = 0, u.e->nodes[i].fused = 0;
    double of = objective(&f), ou = objective(&u);
    assert_true(of == ou);
    assert_memory_equal(f.e->act[f.e->logits], u.e->act[u.e->logits], f.out_size * sizeof(float));
    assert_int_equal(hwnas__engine_backward(f.e, f.r), HWNAS_OK);
    assert_int_equal(hwnas__engine_backward(u.e, u.r), HWNAS_OK);
    assert_memory_equal(f.e->grads, u.e->grads, f.e->n_params * sizeof(float));
    assert_memory_equal(f.e->dact[f.e->input], u.e->dact[u.e->input], f.in_size * sizeof(float));
    assert_memory_equal(f.e->state, u.e->state, f.e->n_state * sizeof(float));
    gc_close(&f);
    gc_close(&u);
}

static void test_grad_act(void **state)
{
    (void)state;
    const char *fns[] = {"relu", "relu6", "elu(alpha=0.7)", "leaky_relu(slope=0.1)", "prelu",
                         "sigmoid", "swish", "hard_swish", "hard_sigmoid", "tanh"};
    for (size_t k = 0; k < sizeof fns / sizeof *fns; k++) {
        char spec[256];
        snprintf(spec, sizeof spec, "hwnas-net 1\nx = input(shape=3x4x4)\n%s\n", fns[k]);
        /* values spread over the interesting ranges (-6 .. 8) */
        gradcheck(spec, 3.5, 1.0, 1e-3);
    }
    gradcheck(NET("x = input(shape=3x2x2)\nflatten\nprelu\n"), 2.0, 0, 1e-3);
}

static void test_grad_merge(void **state)
{
    (void)state;
    gradcheck(NET("x = input(shape=2x5x5)\na = conv(out=3, k=3, pad=1)\n"
                  "b = conv(x, out=3, k=1)\nadd(a, b, a)\n"),
              1.0, 0, 1e-2);
    /* squeeze-and-excitation: a per-channel scale */
    gradcheck(NET("x = input(shape=3x4x4)\nf = conv(out=4, k=3, pad=1)\ngap\n"
                  "conv(out=2, k=1)\nrelu\nconv(out=4, k=1)\ns = sigmoid\nmul(f, s)\n"),
              1.0, 0, 1e-2);
    gradcheck(NET("x = input(shape=2x3x3)\na = tanh\nb = sigmoid(x)\nmul(a, b)\n"), 1.0, 0,
              1e-2);
    gradcheck(NET("x = input(shape=2x4x4)\na = conv(out=3, k=3, pad=1)\n"
                  "b = maxpool(x, k=3, s=1, pad=1)\nconcat(a, b, x)\nconv(out=2, k=1)\n"),
              1.0, 0, 1e-3);
}

static void test_grad_misc(void **state)
{
    (void)state;
    gradcheck(NET("x = input(shape=3x4x4)\ndropout(p=0.3)\nconv(out=2, k=3)\n"), 1.0, 0, 1e-2);
    gradcheck(NET("x = input(shape=3x3x3)\nflatten\nlinear(out=4)\nlinear(out=3, bias=0)\n"),
              1.0, 0, 1e-2);
    gradcheck(NET("x = input(shape=2x3x3)\nconv(out=4, k=1)\nsoftmax\nconv(out=3, k=1)\n"), 1.0,
              0, 1e-2);
    gradcheck(NET("x = input(shape=6x1x1)\nlinear(out=5)\nsoftmax\nlinear(out=3)\n"), 2.0, 0,
              1e-2);
}

/* The loss's gradient, label smoothing included, on a net whose logits are
 * its input. */
static void test_grad_loss(void **state)
{
    (void)state;
    gc g;
    gc_open(&g, NET("x = input(shape=5x1x1)\nflatten\n"), 2.0, 0, 1);
    int32_t labels[BATCH] = {1, 4, 0};
    float dl[BATCH * 5];
    double loss, lu, ld;
    size_t correct;
    for (int pass = 0; pass < 2; pass++) {
        double eps = pass ? 0.1 : 0.0;
        objective(&g);
        hwnas__engine_loss(&loss, &correct, dl, g.e, labels, eps);
        for (size_t k = 0; k < BATCH * 5; k++) {
            float keep = g.x[k];
            g.x[k] = keep + 1e-2f;
            objective(&g);
            hwnas__engine_loss(&lu, &correct, NULL, g.e, labels, eps);
            g.x[k] = keep - 1e-2f;
            objective(&g);
            hwnas__engine_loss(&ld, &correct, NULL, g.e, labels, eps);
            g.x[k] = keep;
            compare("dlogits", k, dl[k], (lu - ld) / 2e-2);
        }
    }
    gc_close(&g);
}

/* Convolution forward against a naive double-precision loop. */
static void test_conv_reference(void **state)
{
    (void)state;
    const char *specs[] = {
        NET("x = input(shape=4x9x7)\nconv(out=6, k=3, s=2, pad=1, d=1, groups=2)\n"),
        NET("x = input(shape=3x8x8)\nconv(out=5, k=3, s=1, pad=2, d=2)\n"),
        NET("x = input(shape=3x8x8)\ndwconv(mult=2, k=3, s=2, pad=1)\n"),
        NET("x = input(shape=1x6x6)\nconv(out=3, k=5, s=1, pad=0)\n"),
    };
    for (size_t t = 0; t < sizeof specs / sizeof *specs; t++) {
        gc g;
        gc_open(&g, specs[t], 1.0, 0, 2);
        objective(&g);
        const hwnas__eng_node *nd = &g.e->nodes[1], *in = &g.e->nodes[0];
        size_t G = (size_t)nd->a.groups, cig = in->c / G, cog = nd->c / G;
        const float *w = g.e->params + nd->p_off;
        const float *b = nd->a.bias ? w + nd->c * cig * (size_t)nd->a.kh * (size_t)nd->a.kw : NULL;
        for (size_t s = 0; s < BATCH; s++)
            for (size_t oc = 0; oc < nd->c; oc++)
                for (size_t oy = 0; oy < nd->h; oy++)
                    for (size_t ox = 0; ox < nd->w; ox++) {
                        double acc = b ? b[oc] : 0;
                        size_t grp = oc / cog;
                        for (size_t ci = 0; ci < cig; ci++)
                            for (long ky = 0; ky < nd->a.kh; ky++)
                                for (long kx = 0; kx < nd->a.kw; kx++) {
                                    long iy = (long)oy * nd->a.sh - nd->a.ph + ky * nd->a.dh;
                                    long ix = (long)ox * nd->a.sw - nd->a.pw + kx * nd->a.dw;
                                    if (iy < 0 || ix < 0 || iy >= (long)in->h ||
                                        ix >= (long)in->w)
                                        continue;
                                    double xv = g.x[((s * in->c + grp * cig + ci) * in->h +
                                                     (size_t)iy) * in->w + (size_t)ix];
                                    double wv = w[((oc * cig + ci) * (size_t)nd->a.kh +
                                                   (size_t)ky) * (size_t)nd->a.kw + (size_t)kx];
                                    acc += xv * wv;
                                }
                        float got = g.e->act[1][((s * nd->c + oc) * nd->h + oy) * nd->w + ox];
                        assert_true(fabs(got - acc) < 1e-4 * (1 + fabs(acc)));
                    }
        gc_close(&g);
    }
}

/* elu's vectorised expm1 (openblas_ops.c): within 4 ulp of expm1 in double
 * over the whole negative range, exact for x > 0, -alpha far below,
 * NaN kept. */
static void test_elu_reference(void **state)
{
    (void)state;
    gc g;
    size_t keep = batch;
    batch = 16; /* 16 x 1024 inputs */
    gc_open(&g, NET("x = input(shape=1x32x32)\nelu(alpha=0.7)\n"), 1.0, 0, 1);
    size_t n = g.in_size;
    for (size_t k = 0; k < n; k++) /* -100 .. 4, denser near 0 */
        g.x[k] = (float)(k < n / 2 ? -100.0 * pow((double)(n / 2 - k) / (double)(n / 2), 3)
                                   : 4.0 * (double)(k - n / 2) / (double)(n / 2));
    g.x[1] = -1e-30f, g.x[2] = -1e-7f, g.x[3] = NAN, g.x[4] = -INFINITY;
    objective(&g);
    const float *y = g.e->act[1];
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
        if (k == 3) {
            assert_true(isnan(y[k]));
            continue;
        }
        double want = g.x[k] > 0 ? (double)g.x[k] : 0.7 * expm1((double)g.x[k]);
        double ulp = nextafterf((float)fabs(want), INFINITY) - (float)fabs(want);
        double err = fabs(y[k] - want) / (want == 0 ? 1e-45 : ulp);
        if (err > worst)
            worst = err;
        if (err > 4)
            fail_msg("elu(%.9g) = %.9g, want %.9g (%.1f ulp)", (double)g.x[k], (double)y[k],
                     want, err);
    }
    print_message("elu: worst %.2f ulp\n", worst);
    gc_close(&g);
    batch = keep;
}

/* Pooling semantics: padding never wins a max and is left out of averages. */
static void test_pool_reference(void **state)
{
    (void)state;
    gc g;
    gc_open(&g, NET("x = input(shape=1x2x2)\na = avgpool(k=3, s=1, pad=1)\n"), 1.0, 0, 1);
    for (size_t k = 0; k < g.in_size; k++)
        g.x[k] = -1.0f - (float)k;
    objective(&g);
    /* every 3x3 window over a 2x2 image holds all four cells */
    for (size_t s = 0; s < BATCH; s++)
        for (size_t k = 0; k < 4; k++) {
            const float *xs = g.x + s * 4;
            float want = (xs[0] + xs[1] + xs[2] + xs[3]) / 4;
            assert_true(fabs(g.e->act[1][s * 4 + k] - want) < 1e-6);
        }
    gc_close(&g);
    gc_open(&g, NET("x = input(shape=1x2x2)\na = maxpool(k=3, s=1, pad=1)\n"), 1.0, 0, 1);
    for (size_t k = 0; k < g.in_size; k++)
        g.x[k] = -1.0f - (float)k;
    objective(&g);
    for (size_t s = 0; s < BATCH; s++)
        assert_true(g.e->act[1][s * 4] == g.x[s * 4]);
    gc_close(&g);
}

/* Batch-norm: training normalises with batch statistics and updates the
 * running ones (unbiased variance, momentum 0.1); inference uses them. */
static void test_bn_modes(void **state)
{
    (void)state;
    gc g;
    gc_open(&g, NET("x = input(shape=1x1x2)\nbn\n"), 1.0, 0, 1);
    float x[BATCH * 2] = {1, 2, 3, 4, 5, 6};
    memcpy(g.x, x, sizeof x);
    float *p = g.e->params;
    p[0] = 1, p[1] = 0;
    objective(&g);
    double var = 17.5 / 6; /* mean 3.5 */
    assert_true(fabs(g.e->act[1][0] - (1 - 3.5) / sqrt(var + 1e-5)) < 1e-5);
    assert_true(fabs(g.e->state[0] - 0.35) < 1e-6);
    assert_true(fabs(g.e->state[1] - (0.9 + 0.1 * 17.5 / 5)) < 1e-5);
    assert_int_equal(hwnas__engine_forward(g.e, g.x, BATCH, 0, 0), HWNAS_OK);
    double rv = 0.9 + 0.1 * 17.5 / 5;
    assert_true(fabs(g.e->act[1][5] - (6 - 0.35) / sqrt(rv + 1e-5)) < 1e-5);
    gc_close(&g);
}

/* Dropout: the mask depends on (seed, step) only; inference is identity. */
static void test_dropout_stream(void **state)
{
    (void)state;
    gc g;
    gc_open(&g, NET("x = input(shape=4x8x8)\ndropout(p=0.5)\n"), 1.0, 3.0, 1);
    objective(&g);
    size_t zeros = 0, n = g.in_size;
    float *first = malloc(n * sizeof *first);
    memcpy(first, g.e->act[1], n * sizeof *first);
    for (size_t k = 0; k < n; k++) {
        zeros += first[k] == 0;
        assert_true(first[k] == 0 || fabs(first[k] - 2 * g.x[k]) < 1e-5);
    }
    assert_true(zeros > n / 4 && zeros < 3 * n / 4);
    objective(&g);
    assert_memory_equal(first, g.e->act[1], n * sizeof *first);
    assert_int_equal(hwnas__engine_forward(g.e, g.x, BATCH, 1, 6), HWNAS_OK);
    assert_true(memcmp(first, g.e->act[1], n * sizeof *first) != 0);
    assert_int_equal(hwnas__engine_forward(g.e, g.x, BATCH, 0, 6), HWNAS_OK);
    assert_memory_equal(g.x, g.e->act[1], n * sizeof *first);
    free(first);
    gc_close(&g);
}

int run_grad_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_conv),      cmocka_unit_test(test_grad_dwconv),
        cmocka_unit_test(test_grad_pool),      cmocka_unit_test(test_grad_bn),
        cmocka_unit_test(test_grad_act),       cmocka_unit_test(test_grad_merge),
        cmocka_unit_test(test_grad_misc),      cmocka_unit_test(test_grad_loss),
        cmocka_unit_test(test_conv_reference), cmocka_unit_test(test_bn_fusion), cmocka_unit_test(test_pool_reference),
        cmocka_unit_test(test_elu_reference),
        cmocka_unit_test(test_bn_modes),       cmocka_unit_test(test_dropout_stream),
    };
    return cmocka_run_group_tests_name("engine-grad", tests, NULL, NULL);
}
