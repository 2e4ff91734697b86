/* The engine's backends (lib/engine/backend/): every backend built in
 * agrees with the reference ("openblas") to fp32 tolerance on the
 * reference CNN and zoo nets (forward logits, then a few SGD steps), gives
 * the same bits at any thread count, and a training step allocates
 * nothing once the first batch has run. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "engine/model_internal.h"
#include "engine_tests.h"
#include "fixtures.h"

/* A net with what the zoo has little of: dilation, groups with several
 * channels each, biases, non-square kernels and strides, pooling, prelu,
 * swish, tanh. */
static const char *const mix_net =
    "hwnas-net 1\nx = input(shape=3x20x20)\nc1 = conv(out=12, k=3, pad=1, bias=1)\nbn\nrelu6\n"
    "maxpool(k=3, s=2, pad=1)\nconv(out=12, k=3, pad=2, d=2, groups=3, bias=0)\nprelu\n"
    "dwconv(k=5, s=2, pad=2)\nbn\nswish\navgpool(k=3, s=1, pad=1)\nconv(out=24, k=1, bias=0)\n"
    "bn\nrelu\nconv(out=16, kh=3, kw=1, sh=2, sw=1, ph=1, pw=0, bias=1)\ntanh\ngap\n"
    "linear(out=10)\n";

static hwnas_net *load_net(hwnas_context *ctx, const char *file)
{
    if (!file) {
        hwnas_net *net = NULL;
        assert_int_equal(hwnas_net_parse(&net, ctx, mix_net, "mix"), HWNAS_OK);
        return net;
    }
    const char *root = getenv("HWNAS_SOURCE_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/nets/%s", root ? root : ".", file);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_load(&net, ctx, path), HWNAS_OK);
    return net;
}

/* Largest |a - b| over largest |b| (plus a floor for near-zero tensors). */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, m = 1e-6;
    for (size_t k = 0; k < n; k++) {
        double e = fabs((double)a[k] - (double)b[k]);
        d = e > d ? e : d;
        m = fabs((double)b[k]) > m ? fabs((double)b[k]) : m;
    }
    return d / m;
}

typedef struct run_out {
    float *logits;           /* first forward, inference */
    float *params;           /* after the SGD steps */
    double loss[4];
    size_t n_logits, n_params;
} run_out;

/* engine= backend at threads: the logits of an inference forward, then
 * steps SGD steps (lr, momentum 0.9) on fixed data, batch n. */
static void run(run_out *o, hwnas_net *net, const char *engine, int threads, size_t n,
                int steps, double lr)
{
    hwnas_context *ctx = NULL;
    char opts[64];
    snprintf(opts, sizeof opts, "threads=%d;engine=%s", threads, engine);
    assert_int_equal(hwnas_context_new(&ctx, opts), HWNAS_OK);
    hwnas__engine *e = NULL;
    assert_int_equal(hwnas__engine_new(&e, ctx, net, 7), HWNAS_OK);
    assert_int_equal(hwnas__engine_reserve(e, n), HWNAS_OK);
    size_t in = e->nodes[e->input].size, k = e->nodes[e->logits].size;
    float *x = malloc(n * in * sizeof *x), *dz = malloc(n * k * sizeof *dz);
    float *v = calloc(e->n_params, sizeof *v);
    int32_t *y = malloc(n * sizeof *y);
    assert_non_null(x);
    assert_non_null(dz);
    assert_non_null(v);
    assert_non_null(y);
    fx_seed(99);
    for (size_t i = 0; i < n * in; i++)
        x[i] = (float)((double)(fx_rnd() % 2000) / 1000.0 - 1.0);
    for (size_t s = 0; s < n; s++)
        y[s] = (int32_t)(s % k);
    assert_int_equal(hwnas__engine_forward(e, x, n, 0, 0), HWNAS_OK);
    o->n_logits = n * k;
    o->logits = malloc(n * k * sizeof *o->logits);
    assert_non_null(o->logits);
    memcpy(o->logits, e->act[e->logits], n * k * sizeof *o->logits);
    for (int t = 0; t < steps; t++) {
        size_t correct;
        assert_int_equal(hwnas__engine_forward(e, x, n, 1, (uint64_t)t), HWNAS_OK);
        hwnas__engine_loss(&o->loss[t], &correct, dz, e, y, 0.0);
        assert_int_equal(hwnas__engine_backward(e, dz), HWNAS_OK);
        hwnas__sgd_step(e->params, v, e->grads, e->n_params, lr, 0.9, 0.0, 0);
    }
    o->n_params = e->n_params;
    o->params = malloc(e->n_params * sizeof *o->params);
    assert_non_null(o->params);
    memcpy(o->params, e->params, e->n_params * sizeof *o->params);
    free(x);
    free(dz);
    free(v);
    free(y);
    hwnas__engine_free(e);
    hwnas_context_free(ctx);
}

static void run_free(run_out *o)
{
    free(o->logits);
    free(o->params);
}

static int have_onednn(void)
{
    if (hwnas__backend_onednn())
        return 1;
    printf("# oneDNN backend not built (meson feature onednn): skipped\n");
    return 0;
}

/* Forward logits and the first training loss agree with the reference
 * within relative 1e-4, the losses of the next SGD steps and the weights
 * after three within tol (rounding differences grow with training); the
 * same bits at 1 and 2 threads. */
static void parity(const char *file, size_t n, double lr, double tol)
{
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_net *net = load_net(ctx, file);
    run_out ref, dn, dn2;
    run(&ref, net, "openblas", 2, n, 3, lr);
    run(&dn, net, "onednn", 1, n, 3, lr);
    run(&dn2, net, "onednn", 2, n, 3, lr);
    double dl = rel_diff(dn.logits, ref.logits, ref.n_logits);
    double dp = rel_diff(dn.params, ref.params, ref.n_params);
    double dloss = 0, dloss0 = fabs(dn.loss[0] - ref.loss[0]) / fabs(ref.loss[0]);
    for (int t = 0; t < 3; t++) {
        double d = fabs(dn.loss[t] - ref.loss[t]) / fabs(ref.loss[t]);
        dloss = d > dloss ? d : dloss;
    }
    printf("# parity %-16s batch %zu: logits %.2e, losses %.2e, weights after 3 steps %.2e\n",
           file ? file : "mix", n, dl, dloss, dp);
    assert_true(dl < 1e-4);
    assert_true(dloss0 < 1e-4);
    assert_true(dloss < tol);
    assert_true(dp < tol);
    assert_memory_equal(dn.params, dn2.params, dn.n_params * sizeof *dn.params);
    assert_memory_equal(dn.logits, dn2.logits, dn.n_logits * sizeof *dn.logits);
    run_free(&ref);
    run_free(&dn);
    run_free(&dn2);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void test_parity_reference_cnn(void **state)
{
    (void)state;
    if (have_onednn())
        parity("fmnist_ref.net", 40, 0.01, 1e-4); /* chunks of 2 and 3 samples */
}

static void test_parity_zoo(void **state)
{
    (void)state;
    if (!have_onednn())
        return;
    parity("lenet5.net", 20, 0.01, 1e-4);
    parity("resnet20.net", 20, 0.01, 1e-4);
    /* batch 2 at 224 x 224: the batch-norms of the last blocks normalise
     * 2 x 7 x 7 values per channel, and their backward pass (a difference
     * of nearly equal sums) turns rounding differences of 2e-5 in the
     * gradients above them into 3e-2 in the ones below (block14.expand_bn);
     * the first loss agrees to 3e-7 */
    parity("mobilenet_v2.net", 2, 0.001, 5e-2);
    parity(NULL, 24, 0.01, 1e-4);
}

/* engine=onednn in a build without it is refused, naming the option;
 * engine=openblas always works. */
static void test_engine_option(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;engine=onednn"), HWNAS_OK);
    hwnas_net *net = load_net(ctx, NULL);
    hwnas__engine *e = NULL;
    int rc = hwnas__engine_new(&e, ctx, net, 1);
    if (hwnas__backend_onednn()) {
        assert_int_equal(rc, HWNAS_OK);
        assert_string_equal(e->be_ops->name, "onednn");
    } else {
        assert_int_equal(rc, HWNAS_EUNSUPPORTED);
        assert_non_null(strstr(hwnas_error_last(), "engine=onednn"));
    }
    hwnas__engine_free(e);
    e = NULL;
    assert_int_equal(hwnas_context_set_option(ctx, "engine", "openblas"), HWNAS_OK);
    assert_int_equal(hwnas__engine_new(&e, ctx, net, 1), HWNAS_OK);
    assert_string_equal(e->be_ops->name, "openblas");
    hwnas__engine_free(e);
    assert_int_equal(hwnas_context_set_option(ctx, "engine", "cuda"), HWNAS_EINVAL);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

/* ---- no allocation in a training step ---------------------------------- */

static atomic_size_t n_allocs;

static void *count_malloc(size_t size, void *ud)
{
    (void)ud;
    atomic_fetch_add(&n_allocs, 1);
    return malloc(size);
}

static void *count_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    atomic_fetch_add(&n_allocs, 1);
    return realloc(p, size);
}

static void count_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

typedef struct alloc_seen {
    size_t at_batch[8];      /* allocation count at each batch callback */
    size_t batches;
} alloc_seen;

static int on_batch(int event, int64_t epoch, int64_t epochs, int64_t batch, int64_t batches,
                    double loss, double acc, double lr, void *ud)
{
    (void)epoch, (void)epochs, (void)batches, (void)loss, (void)acc, (void)lr;
    alloc_seen *s = ud;
    if (event == HWNAS_MODEL_EVENT_BATCH && batch < 8) {
        s->at_batch[batch] = atomic_load(&n_allocs);
        s->batches = (size_t)batch + 1;
    }
    return 0;
}

/* hwnas_model_train over 6 batches of the same size: the count of
 * allocations through the context's allocator is the same at every batch
 * callback from the first on (each backend, 1 and 2 threads). */
static void no_alloc(const char *engine, int threads)
{
    hwnas_context *ctx = NULL;
    char opts[64];
    snprintf(opts, sizeof opts, "threads=%d;engine=%s", threads, engine);
    assert_int_equal(hwnas_context_new_custom(&ctx, opts, count_malloc, count_realloc,
                                              count_free, NULL),
                     HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, mix_net, "mix"), HWNAS_OK);
    size_t n = 6 * 16;
    float *x = malloc(n * 3 * 20 * 20 * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    fx_seed(5);
    for (size_t i = 0; i < n * 3 * 20 * 20; i++)
        x[i] = (float)((double)(fx_rnd() % 2000) / 1000.0 - 1.0);
    for (size_t s = 0; s < n; s++)
        y[s] = (int32_t)(s % 10);
    hwnas_dataset *ds = NULL;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, x, y, n, 3, 20, 20, 10), HWNAS_OK);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 1), HWNAS_OK);
    alloc_seen seen = {0};
    assert_int_equal(hwnas_model_train(m, ds, "epochs=1;batch=16;lr=0.01", on_batch, &seen),
                     HWNAS_OK);
    assert_int_equal(seen.batches, 6);
    for (size_t b = 1; b < seen.batches; b++)
        assert_int_equal(seen.at_batch[b], seen.at_batch[0]);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
    free(x);
    free(y);
}

static void test_no_alloc_in_training_step(void **state)
{
    (void)state;
    no_alloc("openblas", 1);
    no_alloc("openblas", 2);
    if (hwnas__backend_onednn()) {
        no_alloc("onednn", 1);
        no_alloc("onednn", 2);
    }
}

/* Pooling as the reference computed it before its vectorised paths (one
 * output at a time, window rows then columns; average: padding left out
 * of the divisor; max: the first maximum gets the gradient): the
 * reference's kernels must give these values. */
static void naive_pool(const hwnas__be_pool *g, size_t n, const float *x, float *y,
                       const float *dy, float *dx)
{
    for (size_t s = 0; s < n; s++)
        for (size_t c = 0; c < g->c; c++)
            for (size_t oy = 0; oy < g->oh; oy++)
                for (size_t ox = 0; ox < g->ow; ox++) {
                    size_t ys = oy * g->sh, xs = ox * g->sw;
                    size_t y0 = ys > g->ph ? ys - g->ph : 0, x0 = xs > g->pw ? xs - g->pw : 0;
                    size_t y1 = ys + g->kh - g->ph < g->h ? ys + g->kh - g->ph : g->h;
                    size_t x1 = xs + g->kw - g->pw < g->w ? xs + g->kw - g->pw : g->w;
                    float cnt = (float)((y1 - y0) * (x1 - x0)), sum = 0;
                    size_t o = ((s * g->c + c) * g->oh + oy) * g->ow + ox;
                    const float *xc = x + (s * g->c + c) * g->h * g->w;
                    float *dxc = dx + (s * g->c + c) * g->h * g->w;
                    if (g->max) {
                        size_t arg = y0 * g->w + x0;
                        for (size_t iy = y0; iy < y1; iy++)
                            for (size_t ix = x0; ix < x1; ix++)
                                if (xc[iy * g->w + ix] > xc[arg])
                                    arg = iy * g->w + ix;
                        y[o] = xc[arg];
                        dxc[arg] += dy[o];
                        continue;
                    }
                    for (size_t iy = y0; iy < y1; iy++)
                        for (size_t ix = x0; ix < x1; ix++) {
                            sum += xc[iy * g->w + ix];
                            dxc[iy * g->w + ix] += dy[o] / cnt;
                        }
                    y[o] = sum / cnt;
                }
}

/* The reference backend's pooling (average: a zero-padded grid for small
 * stride-1 planes, row loops otherwise; max: row loops) gives the naive
 * loops' forward bits and backward values, with and without accumulation,
 * at 1 and 2 threads; inputs with ties (max: the first wins). */
static void test_pool_paths(void **state)
{
    (void)state;
    /* c, h, w, kh, kw, sh, sw, ph, pw */
    static const size_t shapes[][9] = {
        {3, 28, 28, 3, 3, 1, 1, 1, 1}, {2, 7, 7, 3, 3, 1, 1, 1, 1}, {2, 14, 14, 2, 2, 2, 2, 0, 0},
        {2, 9, 11, 3, 3, 2, 2, 1, 1},  {1, 70, 70, 3, 3, 1, 1, 1, 1}, {2, 8, 6, 5, 3, 1, 1, 2, 0},
        {1, 5, 5, 4, 4, 1, 1, 1, 1},   {2, 6, 7, 3, 2, 1, 2, 0, 1},   {1, 1, 1, 3, 3, 1, 1, 1, 1},
        {3, 7, 9, 2, 2, 2, 2, 0, 0}, /* 2 x 2 max windows leaving a row and a column out */
    };
    for (int threads = 1; threads <= 2; threads++) {
        hwnas_context *ctx = NULL;
        char opts[32];
        snprintf(opts, sizeof opts, "threads=%d", threads);
        assert_int_equal(hwnas_context_new(&ctx, opts), HWNAS_OK);
        for (size_t k = 0; k < 2 * sizeof shapes / sizeof *shapes; k++) {
            const size_t *v = shapes[k % (sizeof shapes / sizeof *shapes)];
            hwnas__be_pool g = {0};
            g.max = k >= sizeof shapes / sizeof *shapes;
            g.c = v[0], g.h = v[1], g.w = v[2], g.kh = v[3], g.kw = v[4];
            g.sh = v[5], g.sw = v[6], g.ph = v[7], g.pw = v[8];
            g.oh = (g.h + 2 * g.ph - g.kh) / g.sh + 1;
            g.ow = (g.w + 2 * g.pw - g.kw) / g.sw + 1;
            size_t n = 5, isz = n * g.c * g.h * g.w, osz = n * g.c * g.oh * g.ow;
            float *x = malloc(isz * sizeof *x), *y = malloc(osz * sizeof *y);
            float *ry = malloc(osz * sizeof *ry), *dy = malloc(osz * sizeof *dy);
            float *dx = malloc(isz * sizeof *dx), *rdx = malloc(isz * sizeof *rdx);
            assert_true(x && y && ry && dy && dx && rdx);
            for (size_t i = 0; i < isz; i++)
                x[i] = (float)((i * 7919 + k) % (g.max ? 7 : 1000)) / 3.0f - 1.5f;
            for (size_t i = 0; i < osz; i++)
                dy[i] = (float)((i * 104729 + 3 * k) % 997) / 499.0f - 1.0f;
            for (int acc = 0; acc <= 1; acc++) {
                for (size_t i = 0; i < isz; i++)
                    rdx[i] = dx[i] = acc ? (float)(i % 13) * 0.25f - 1.0f : 0.0f;
                naive_pool(&g, n, x, ry, dy, rdx);
                hwnas__be_run r = {0};
                r.ctx = ctx, r.n = n, r.train = 1;
                assert_int_equal(hwnas__backend_openblas.pool_forward(&r, &g, x, y), HWNAS_OK);
                assert_memory_equal(y, ry, osz * sizeof *y);
                if (!acc)
                    for (size_t i = 0; i < isz; i++)
                        dx[i] = 1e30f; /* must be overwritten */
                assert_int_equal(hwnas__backend_openblas.pool_backward(&r, &g, x, dy, dx, acc),
                                 HWNAS_OK);
                for (size_t i = 0; i < isz; i++)
                    if (dx[i] != rdx[i])
                        fail_msg("shape %zu acc %d: dx[%zu] %.9g, naive %.9g", k, acc, i,
                                 (double)dx[i], (double)rdx[i]);
            }
            free(x), free(y), free(ry), free(dy), free(dx), free(rdx);
        }
        hwnas_context_free(ctx);
    }
}

int run_backend_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_option),
        cmocka_unit_test(test_pool_paths),
        cmocka_unit_test(test_parity_reference_cnn),
        cmocka_unit_test(test_parity_zoo),
        cmocka_unit_test(test_no_alloc_in_training_step),
    };
    return cmocka_run_group_tests_name("engine-backend", tests, NULL, NULL);
}
