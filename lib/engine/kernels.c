/* Kernels of every node kind except convolution and linear: pooling,
 * global average pooling, batch-norm, activations, add, mul, concat,
 * dropout, flatten, softmax. Each runs over chunks of samples (or, for
 * batch-norm, over channels) so results do not depend on the thread count. */
#include <math.h>
#include <string.h>

#include "engine_internal.h"

/* Hot loops: optimised as at -O3 (GCC vectorises little at -O2) and cloned
 * for AVX-512, AVX2 and the baseline, picked at load time. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT
#endif

#define MAX_IN 64 /* inputs of one add/concat handled per task struct */

typedef struct op_task {
    hwnas__engine *e;
    size_t i;
    const hwnas__eng_node *nd;
    float *dx[MAX_IN];        /* gradients of the inputs (NULL: not wanted) */
    int acc[MAX_IN];          /* add into dx[j] rather than overwrite */
    size_t n_in;
} op_task;

static const float *in_act(const op_task *t, size_t j)
{
    return t->e->act[t->nd->in[j]];
}

static const hwnas__eng_node *in_node(const op_task *t, size_t j)
{
    return &t->e->nodes[t->nd->in[j]];
}

/* dst = v or dst += v */
static inline void put(float *dst, float v, int acc)
{
    *dst = acc ? *dst + v : v;
}

/* ---- activations -------------------------------------------------------- */

static inline float sigm(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

HOT static void act_forward(const float *x, float *y, size_t n, int fn, float alpha)
{
    switch (fn) {
    case HWNAS_NET_ACT_RELU:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] > 0 ? x[k] : 0.0f;
        break;
    case HWNAS_NET_ACT_RELU6:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] > 0 ? (x[k] < 6 ? x[k] : 6.0f) : 0.0f;
        break;
    case HWNAS_NET_ACT_ELU:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] > 0 ? x[k] : alpha * expm1f(x[k]);
        break;
    case HWNAS_NET_ACT_LEAKY_RELU:
    case HWNAS_NET_ACT_PRELU:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] > 0 ? x[k] : alpha * x[k];
        break;
    case HWNAS_NET_ACT_SIGMOID:
        for (size_t k = 0; k < n; k++)
            y[k] = sigm(x[k]);
        break;
    case HWNAS_NET_ACT_SWISH:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] * sigm(x[k]);
        break;
    case HWNAS_NET_ACT_HARD_SWISH:
        for (size_t k = 0; k < n; k++) {
            float r = x[k] + 3.0f;
            r = r > 0 ? (r < 6 ? r : 6.0f) : 0.0f;
            y[k] = x[k] * r / 6.0f;
        }
        break;
    case HWNAS_NET_ACT_HARD_SIGMOID:
        for (size_t k = 0; k < n; k++) {
            float r = x[k] + 3.0f;
            y[k] = (r > 0 ? (r < 6 ? r : 6.0f) : 0.0f) / 6.0f;
        }
        break;
    default: /* tanh */
        for (size_t k = 0; k < n; k++)
            y[k] = tanhf(x[k]);
        break;
    }
}

/* f'(x) from x and y = f(x), for every kind but the ones act_backward
 * handles in their own loops. */
static inline float act_slope(float x, float y, int fn, float alpha)
{
    switch (fn) {
    case HWNAS_NET_ACT_ELU:
        return x > 0 ? 1.0f : y + alpha;
    case HWNAS_NET_ACT_SIGMOID:
        return y * (1.0f - y);
    case HWNAS_NET_ACT_SWISH: {
        float s = sigm(x);
        return s + x * s * (1.0f - s);
    }
    case HWNAS_NET_ACT_HARD_SWISH:
        return x < -3 ? 0.0f : (x > 3 ? 1.0f : (2.0f * x + 3.0f) / 6.0f);
    case HWNAS_NET_ACT_HARD_SIGMOID:
        return x > -3 && x < 3 ? 1.0f / 6.0f : 0.0f;
    default: /* tanh */
        return 1.0f - y * y;
    }
}

/* dx (+)= dy * f'(x); y = f(x). The common kinds get loops of their own
 * so that they vectorise. */
HOT static void act_backward(const float *x, const float *y, const float *dy, float *dx,
                             size_t n, int fn, float alpha, int acc)
{
    float lo = 0.0f, hi = fn == HWNAS_NET_ACT_RELU6 ? 6.0f : INFINITY;
    switch (fn) {
    case HWNAS_NET_ACT_RELU:
    case HWNAS_NET_ACT_RELU6:
        if (acc)
            for (size_t k = 0; k < n; k++)
                dx[k] += x[k] > lo && x[k] < hi ? dy[k] : 0.0f;
        else
            for (size_t k = 0; k < n; k++)
                dx[k] = x[k] > lo && x[k] < hi ? dy[k] : 0.0f;
        return;
    case HWNAS_NET_ACT_LEAKY_RELU:
    case HWNAS_NET_ACT_PRELU:
        for (size_t k = 0; k < n; k++)
            put(&dx[k], x[k] > 0 ? dy[k] : alpha * dy[k], acc);
        return;
    default:
        for (size_t k = 0; k < n; k++)
            put(&dx[k], dy[k] * act_slope(x[k], y[k], fn, alpha), acc);
        return;
    }
}

/* ---- pooling ------------------------------------------------------------ */

typedef struct pool_geom {
    size_t c, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
} pool_geom;

static void pool_geom_of(pool_geom *g, const op_task *t)
{
    const hwnas__eng_node *x = in_node(t, 0), *nd = t->nd;
    g->c = x->c, g->h = x->h, g->w = x->w, g->oh = nd->h, g->ow = nd->w;
    g->kh = (size_t)nd->a.kh, g->kw = (size_t)nd->a.kw;
    g->sh = (size_t)nd->a.sh, g->sw = (size_t)nd->a.sw;
    g->ph = (size_t)nd->a.ph, g->pw = (size_t)nd->a.pw;
}

/* The window of output (oy, ox) clipped to the input: [y0, y1) x [x0, x1). */
static void window(const pool_geom *g, size_t oy, size_t ox, size_t *y0, size_t *y1, size_t *x0,
                   size_t *x1)
{
    size_t ys = oy * g->sh, xs = ox * g->sw;
    *y0 = ys > g->ph ? ys - g->ph : 0;
    *x0 = xs > g->pw ? xs - g->pw : 0;
    *y1 = ys + g->kh - g->ph < g->h ? ys + g->kh - g->ph : g->h;
    *x1 = xs + g->kw - g->pw < g->w ? xs + g->kw - g->pw : g->w;
}

HOT static void pool_sample(const op_task *t, const pool_geom *g, const float *x, float *y,
                        const float *dy, float *dx)
{
    int is_max = t->nd->kind == HWNAS_NET_MAXPOOL;
    for (size_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w;
        float *dxc = dx ? dx + c * g->h * g->w : NULL;
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++) {
                size_t y0, y1, x0, x1, o = (c * g->oh + oy) * g->ow + ox;
                window(g, oy, ox, &y0, &y1, &x0, &x1);
                if (is_max) {
                    size_t arg = y0 * g->w + x0;
                    for (size_t iy = y0; iy < y1; iy++)
                        for (size_t ix = x0; ix < x1; ix++)
                            if (xc[iy * g->w + ix] > xc[arg])
                                arg = iy * g->w + ix;
                    if (y)
                        y[o] = xc[arg];
                    else
                        dxc[arg] += dy[o];
                } else {
                    float cnt = (float)((y1 - y0) * (x1 - x0));
                    if (y) {
                        float s = 0;
                        for (size_t iy = y0; iy < y1; iy++)
                            for (size_t ix = x0; ix < x1; ix++)
                                s += xc[iy * g->w + ix];
                        y[o] = s / cnt;
                    } else {
                        float v = dy[o] / cnt;
                        for (size_t iy = y0; iy < y1; iy++)
                            for (size_t ix = x0; ix < x1; ix++)
                                dxc[iy * g->w + ix] += v;
                    }
                }
            }
    }
}

/* ---- gradient buffers of a node's inputs ------------------------------ */

/* The first kernel to write an input's gradient overwrites it, later ones
 * add to it (dinit): no pass clears every buffer beforehand. */
float *hwnas__k_dx(hwnas__engine *e, size_t i, size_t j, int *acc)
{
    size_t in = e->nodes[i].in[j];
    if (e->nodes[in].kind == HWNAS_NET_INPUT && !e->need_input_grad) {
        *acc = 0;
        return NULL;
    }
    *acc = e->dinit[in];
    e->dinit[in] = 1;
    return e->dact[in];
}

/* ---- per-chunk forward ---------------------------------------------------- */

static uint64_t dropout_seed(const hwnas__engine *e)
{
    return e->seed ^ (e->step * 0x9E3779B97F4A7C15ull);
}

HOT static int forward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const hwnas__eng_node *nd = t->nd;
    hwnas__engine *e = t->e;
    size_t lo, hi, sz = nd->size;
    hwnas__engine_chunk_range(e->batch, ch, &lo, &hi);
    float *y = e->act[t->i];
    const float *x = in_act(t, 0);
    switch (nd->kind) {
    case HWNAS_NET_MAXPOOL:
    case HWNAS_NET_AVGPOOL: {
        pool_geom g;
        pool_geom_of(&g, t);
        size_t isz = in_node(t, 0)->size;
        for (size_t s = lo; s < hi; s++)
            pool_sample(t, &g, x + s * isz, y + s * sz, NULL, NULL);
        break;
    }
    case HWNAS_NET_GAVGPOOL: {
        size_t hw = in_node(t, 0)->h * in_node(t, 0)->w;
        for (size_t s = lo; s < hi; s++)
            for (size_t c = 0; c < nd->c; c++) {
                const float *xc = x + (s * nd->c + c) * hw;
                float acc = 0;
                for (size_t k = 0; k < hw; k++)
                    acc += xc[k];
                y[s * nd->c + c] = acc / (float)hw;
            }
        break;
    }
    case HWNAS_NET_ACT: {
        int prelu = nd->a.fn == HWNAS_NET_ACT_PRELU;
        size_t hw = nd->h * nd->w;
        const float *slope = e->params + nd->p_off;
        for (size_t s = lo; s < hi; s++) {
            if (!prelu) {
                act_forward(x + s * sz, y + s * sz, sz, nd->a.fn, (float)nd->a.alpha);
                continue;
            }
            for (size_t c = 0; c < nd->c; c++)
                act_forward(x + s * sz + c * hw, y + s * sz + c * hw, hw, nd->a.fn, slope[c]);
        }
        break;
    }
    case HWNAS_NET_ADD:
        for (size_t s = lo; s < hi; s++) {
            float *ys = y + s * sz;
            memcpy(ys, x + s * sz, sz * sizeof *ys);
            for (size_t j = 1; j < nd->n_in; j++) {
                const float *xs = in_act(t, j) + s * sz;
                for (size_t k = 0; k < sz; k++)
                    ys[k] += xs[k];
            }
        }
        break;
    case HWNAS_NET_MUL: {
        const hwnas__eng_node *sn = in_node(t, 1);
        const float *sc = in_act(t, 1);
        size_t hw = nd->h * nd->w;
        for (size_t s = lo; s < hi; s++) {
            const float *xs = x + s * sz, *ss = sc + s * sn->size;
            float *ys = y + s * sz;
            if (sn->size == sz) {
                for (size_t k = 0; k < sz; k++)
                    ys[k] = xs[k] * ss[k];
            } else {
                for (size_t c = 0; c < nd->c; c++)
                    for (size_t k = 0; k < hw; k++)
                        ys[c * hw + k] = xs[c * hw + k] * ss[c];
            }
        }
        break;
    }
    case HWNAS_NET_CONCAT:
        for (size_t s = lo; s < hi; s++) {
            size_t off = 0;
            for (size_t j = 0; j < nd->n_in; j++) {
                size_t isz = in_node(t, j)->size;
                memcpy(y + s * sz + off, in_act(t, j) + s * isz, isz * sizeof *y);
                off += isz;
            }
        }
        break;
    case HWNAS_NET_DROPOUT: {
        double p = nd->a.alpha;
        if (!e->train || p <= 0) {
            memcpy(y + lo * sz, x + lo * sz, (hi - lo) * sz * sizeof *y);
            break;
        }
        float scale = p < 1 ? (float)(1.0 / (1.0 - p)) : 0.0f;
        uint8_t *m = e->mask[t->i];
        for (size_t s = lo; s < hi; s++) {
            hwnas__rng r;
            hwnas__rng_seed(&r, dropout_seed(e), ((uint64_t)t->i << 32) ^ (uint64_t)s);
            for (size_t k = s * sz; k < (s + 1) * sz; k++) {
                m[k] = hwnas__rng_uniform(&r) >= p;
                y[k] = m[k] ? x[k] * scale : 0.0f;
            }
        }
        break;
    }
    case HWNAS_NET_FLATTEN:
        memcpy(y + lo * sz, x + lo * sz, (hi - lo) * sz * sizeof *y);
        break;
    case HWNAS_NET_ZERO:
        memset(y + lo * sz, 0, (hi - lo) * sz * sizeof *y);
        break;
    case HWNAS_NET_SOFTMAX: {
        size_t hw = nd->h * nd->w;
        for (size_t s = lo; s < hi; s++)
            for (size_t q = 0; q < hw; q++) {
                const float *xs = x + s * sz + q;
                float *ys = y + s * sz + q;
                float m = xs[0], sum = 0;
                for (size_t c = 1; c < nd->c; c++)
                    m = xs[c * hw] > m ? xs[c * hw] : m;
                for (size_t c = 0; c < nd->c; c++)
                    sum += ys[c * hw] = expf(xs[c * hw] - m);
                for (size_t c = 0; c < nd->c; c++)
                    ys[c * hw] /= sum;
            }
        break;
    }
    default:
        break;
    }
    return 0;
}

/* ---- batch-norm, one channel per task ------------------------------------ */

#define LANES 16

/* sum of x[0..n) and of (x - m)^2 in LANES fixed partial sums, added in a
 * fixed order: vectorises, and stays deterministic. */
static inline void lane_sums(const float *x, size_t n, float m, float *s1, float *s2)
{
    float a[LANES] = {0}, b[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= n; k += LANES)
        for (size_t l = 0; l < LANES; l++) {
            float d = x[k + l] - m;
            a[l] += x[k + l];
            b[l] += d * d;
        }
    for (; k < n; k++) {
        float d = x[k] - m;
        a[0] += x[k];
        b[0] += d * d;
    }
    float ta = 0, tb = 0;
    for (size_t l = 0; l < LANES; l++)
        ta += a[l], tb += b[l];
    *s1 = ta;
    *s2 = tb;
}

/* sum of dy and of dy * (x - m) the same way */
static inline void lane_dot(const float *dy, const float *x, size_t n, float m, float *s1,
                            float *s2)
{
    float a[LANES] = {0}, b[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= n; k += LANES)
        for (size_t l = 0; l < LANES; l++) {
            a[l] += dy[k + l];
            b[l] += dy[k + l] * (x[k + l] - m);
        }
    for (; k < n; k++) {
        a[0] += dy[k];
        b[0] += dy[k] * (x[k] - m);
    }
    float ta = 0, tb = 0;
    for (size_t l = 0; l < LANES; l++)
        ta += a[l], tb += b[l];
    *s1 = ta;
    *s2 = tb;
}

/* lane_dot of the gradient dy * [0 < y < hi] (a fused relu / relu6 with
 * output y) */
static inline void lane_dot_mask(const float *dy, const float *y, float hi, const float *x,
                                 size_t n, float m, float *s1, float *s2)
{
    float a[LANES] = {0}, b[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= n; k += LANES)
        for (size_t l = 0; l < LANES; l++) {
            float g = y[k + l] > 0 && y[k + l] < hi ? dy[k + l] : 0.0f;
            a[l] += g;
            b[l] += g * (x[k + l] - m);
        }
    for (; k < n; k++) {
        float g = y[k] > 0 && y[k] < hi ? dy[k] : 0.0f;
        a[0] += g;
        b[0] += g * (x[k] - m);
    }
    float ta = 0, tb = 0;
    for (size_t l = 0; l < LANES; l++)
        ta += a[l], tb += b[l];
    *s1 = ta;
    *s2 = tb;
}

HOT static int bn_forward_task(size_t c, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const hwnas__eng_node *nd = t->nd;
    hwnas__engine *e = t->e;
    size_t n = e->batch, hw = nd->h * nd->w, sz = nd->size, C = nd->c;
    const float *x = in_act(t, 0);
    float *y = e->act[t->i];
    const float *gamma = e->params + nd->p_off, *beta = gamma + C;
    float *rmean = e->state + nd->s_off, *rvar = rmean + C;
    float *aux = e->aux + nd->x_off;
    double mean, invstd;
    if (e->train) {
        double s1 = 0, s2 = 0, m = (double)(n * hw);
        /* shifted by the first value for a stable variance */
        float shift = x[c * hw];
        for (size_t s = 0; s < n; s++) {
            float a, b;
            lane_sums(x + s * sz + c * hw, hw, shift, &a, &b);
            s1 += a, s2 += b;
        }
        double dm = s1 / m - shift;
        mean = s1 / m;
        double var = s2 / m - dm * dm;
        var = var > 0 ? var : 0;
        invstd = 1.0 / sqrt(var + e->bn_eps);
        double mo = e->bn_momentum;
        rmean[c] = (float)((1 - mo) * rmean[c] + mo * mean);
        rvar[c] = (float)((1 - mo) * rvar[c] + mo * (m > 1 ? var * m / (m - 1) : var));
        aux[c] = (float)mean, aux[C + c] = (float)invstd;
    } else {
        mean = rmean[c];
        invstd = 1.0 / sqrt((double)rvar[c] + e->bn_eps);
    }
    float a = (float)(gamma[c] * invstd), b = (float)(beta[c] - gamma[c] * invstd * mean);
    if (nd->fused_act) { /* relu or relu6 of the result, into the activation's output */
        const hwnas__eng_node *an = &e->nodes[nd->fused_act];
        float hi = an->a.fn == HWNAS_NET_ACT_RELU6 ? 6.0f : INFINITY;
        y = e->act[nd->fused_act];
        for (size_t s = 0; s < n; s++) {
            const float *xc = x + s * sz + c * hw;
            float *yc = y + s * sz + c * hw;
            for (size_t k = 0; k < hw; k++) {
                float v = a * xc[k] + b;
                v = v > 0 ? v : 0.0f;
                yc[k] = v < hi ? v : hi;
            }
        }
        return 0;
    }
    for (size_t s = 0; s < n; s++) {
        const float *xc = x + s * sz + c * hw;
        float *yc = y + s * sz + c * hw;
        for (size_t k = 0; k < hw; k++)
            yc[k] = a * xc[k] + b;
    }
    return 0;
}

HOT static int bn_backward_task(size_t c, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const hwnas__eng_node *nd = t->nd;
    hwnas__engine *e = t->e;
    size_t n = e->batch, hw = nd->h * nd->w, sz = nd->size, C = nd->c;
    const float *x = in_act(t, 0), *dy = e->dact[t->i];
    const float *gamma = e->params + nd->p_off;
    float *dgamma = e->grads + nd->p_off, *dbeta = dgamma + C;
    float mean = e->aux[nd->x_off + c], invstd = e->aux[nd->x_off + C + c];
    /* fused relu / relu6: the gradient is dy of the activation where its
     * output y is inside (0, hi) */
    const float *ya = NULL;
    float hi = INFINITY;
    if (nd->fused_act) {
        dy = e->dact[nd->fused_act];
        ya = e->act[nd->fused_act];
        if (e->nodes[nd->fused_act].a.fn == HWNAS_NET_ACT_RELU6)
            hi = 6.0f;
    }
    double sdy = 0, sdyx = 0;
    for (size_t s = 0; s < n; s++) {
        float a, b;
        size_t o = s * sz + c * hw;
        if (ya)
            lane_dot_mask(dy + o, ya + o, hi, x + o, hw, mean, &a, &b);
        else
            lane_dot(dy + o, x + o, hw, mean, &a, &b);
        sdy += a, sdyx += b;
    }
    double dg = sdyx * invstd;
    dgamma[c] = (float)dg;
    dbeta[c] = (float)sdy;
    float *dx = t->dx[0];
    if (!dx)
        return 0;
    double m = (double)(n * hw);
    float k1 = gamma[c] * invstd, k2 = (float)(sdy / m), k3 = (float)(dg / m) * invstd;
    for (size_t s = 0; s < n; s++) {
        size_t o = s * sz + c * hw;
        const float *xc = x + o, *dc = dy + o;
        float *dxc = dx + o;
        if (ya) {
            const float *yc = ya + o;
            for (size_t k = 0; k < hw; k++) {
                float g = yc[k] > 0 && yc[k] < hi ? dc[k] : 0.0f;
                put(&dxc[k], k1 * (g - k2 - (xc[k] - mean) * k3), t->acc[0]);
            }
        } else {
            for (size_t k = 0; k < hw; k++)
                put(&dxc[k], k1 * (dc[k] - k2 - (xc[k] - mean) * k3), t->acc[0]);
        }
    }
    return 0;
}

/* ---- per-chunk backward --------------------------------------------------- */

HOT static int backward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const hwnas__eng_node *nd = t->nd;
    hwnas__engine *e = t->e;
    size_t lo, hi, sz = nd->size;
    hwnas__engine_chunk_range(e->batch, ch, &lo, &hi);
    const float *y = e->act[t->i], *dy = e->dact[t->i], *x = in_act(t, 0);
    float *dx = t->dx[0];
    int acc = t->acc[0];
    switch (nd->kind) {
    case HWNAS_NET_MAXPOOL:
    case HWNAS_NET_AVGPOOL: {
        if (!dx)
            break;
        pool_geom g;
        pool_geom_of(&g, t);
        size_t isz = in_node(t, 0)->size;
        if (!acc)
            memset(dx + lo * isz, 0, (hi - lo) * isz * sizeof *dx);
        for (size_t s = lo; s < hi; s++)
            pool_sample(t, &g, x + s * isz, NULL, dy + s * sz, dx + s * isz);
        break;
    }
    case HWNAS_NET_GAVGPOOL: {
        if (!dx)
            break;
        size_t hw = in_node(t, 0)->h * in_node(t, 0)->w;
        for (size_t s = lo; s < hi; s++)
            for (size_t c = 0; c < nd->c; c++) {
                float v = dy[s * nd->c + c] / (float)hw, *dc = dx + (s * nd->c + c) * hw;
                for (size_t k = 0; k < hw; k++)
                    put(&dc[k], v, acc);
            }
        break;
    }
    case HWNAS_NET_ACT: {
        int prelu = nd->a.fn == HWNAS_NET_ACT_PRELU;
        size_t hw = nd->h * nd->w;
        const float *slope = e->params + nd->p_off;
        float *ds = e->partial + ch * e->max_node_params;
        if (prelu)
            memset(ds, 0, nd->c * sizeof *ds);
        for (size_t s = lo; s < hi; s++) {
            size_t o = s * sz;
            if (!prelu) {
                if (dx)
                    act_backward(x + o, y + o, dy + o, dx + o, sz, nd->a.fn, (float)nd->a.alpha,
                                 acc);
                continue;
            }
            for (size_t c = 0; c < nd->c; c++) {
                size_t oc = o + c * hw;
                float a = 0;
                for (size_t k = 0; k < hw; k++)
                    a += x[oc + k] > 0 ? 0.0f : dy[oc + k] * x[oc + k];
                ds[c] += a;
                if (dx)
                    act_backward(x + oc, y + oc, dy + oc, dx + oc, hw, nd->a.fn, slope[c], acc);
            }
        }
        break;
    }
    case HWNAS_NET_ADD:
        for (size_t j = 0; j < t->n_in; j++)
            if (t->dx[j])
                for (size_t k = lo * sz; k < hi * sz; k++)
                    put(&t->dx[j][k], dy[k], t->acc[j]);
        break;
    case HWNAS_NET_MUL: {
        const hwnas__eng_node *sn = in_node(t, 1);
        const float *sc = in_act(t, 1);
        float *dsc = t->dx[1];
        size_t hw = nd->h * nd->w;
        int full = sn->size == sz;
        for (size_t s = lo; s < hi; s++) {
            const float *xs = x + s * sz, *ss = sc + s * sn->size, *dys = dy + s * sz;
            if (dx)
                for (size_t k = 0; k < sz; k++)
                    put(&dx[s * sz + k], dys[k] * (full ? ss[k] : ss[k / hw]), acc);
            if (!dsc)
                continue;
            float *dss = dsc + s * sn->size;
            if (full) {
                for (size_t k = 0; k < sz; k++)
                    put(&dss[k], dys[k] * xs[k], t->acc[1]);
            } else {
                for (size_t c = 0; c < nd->c; c++) {
                    float a = 0;
                    for (size_t k = 0; k < hw; k++)
                        a += dys[c * hw + k] * xs[c * hw + k];
                    put(&dss[c], a, t->acc[1]);
                }
            }
        }
        break;
    }
    case HWNAS_NET_CONCAT:
        for (size_t s = lo; s < hi; s++) {
            size_t off = 0;
            for (size_t j = 0; j < t->n_in; j++) {
                size_t isz = in_node(t, j)->size;
                if (t->dx[j])
                    for (size_t k = 0; k < isz; k++)
                        put(&t->dx[j][s * isz + k], dy[s * sz + off + k], t->acc[j]);
                off += isz;
            }
        }
        break;
    case HWNAS_NET_DROPOUT: {
        if (!dx)
            break;
        double p = nd->a.alpha;
        float scale = p <= 0 ? 1.0f : p < 1 ? (float)(1.0 / (1.0 - p)) : 0.0f;
        const uint8_t *m = e->mask[t->i];
        for (size_t k = lo * sz; k < hi * sz; k++)
            put(&dx[k], p <= 0 || m[k] ? dy[k] * scale : 0.0f, acc);
        break;
    }
    case HWNAS_NET_FLATTEN:
        if (dx)
            for (size_t k = lo * sz; k < hi * sz; k++)
                put(&dx[k], dy[k], acc);
        break;
    case HWNAS_NET_ZERO: /* constant output: no gradient reaches the input */
        if (dx)
            for (size_t k = lo * sz; k < hi * sz; k++)
                put(&dx[k], 0.0f, acc);
        break;
    case HWNAS_NET_SOFTMAX: {
        if (!dx)
            break;
        size_t hw = nd->h * nd->w;
        for (size_t s = lo; s < hi; s++)
            for (size_t q = 0; q < hw; q++) {
                size_t b = s * sz + q;
                float d = 0;
                for (size_t c = 0; c < nd->c; c++)
                    d += dy[b + c * hw] * y[b + c * hw];
                for (size_t c = 0; c < nd->c; c++)
                    put(&dx[b + c * hw], y[b + c * hw] * (dy[b + c * hw] - d), acc);
            }
        break;
    }
    default:
        break;
    }
    return 0;
}

/* ---- dispatch -------------------------------------------------------------- */

static int check_inputs(const hwnas__eng_node *nd)
{
    if (nd->n_in > MAX_IN)
        return hwnas__error(HWNAS_EUNSUPPORTED, "engine: node '%s' has %zu inputs; the engine "
                            "takes at most %d", nd->name, nd->n_in, MAX_IN);
    return HWNAS_OK;
}

int hwnas__k_forward(hwnas__engine *e, size_t i)
{
    op_task t = {0};
    t.e = e, t.i = i, t.nd = &e->nodes[i], t.n_in = t.nd->n_in;
    int rc = check_inputs(t.nd);
    if (rc != HWNAS_OK)
        return rc;
    if (t.nd->kind == HWNAS_NET_BATCHNORM)
        rc = hwnas_parallel_for(e->ctx, t.nd->c, bn_forward_task, &t);
    else
        rc = hwnas_parallel_for(e->ctx, hwnas__engine_chunks(e->batch), forward_task, &t);
    return rc == HWNAS_OK ? rc : hwnas__error(rc, "engine: node '%s' failed", t.nd->name);
}

int hwnas__k_backward(hwnas__engine *e, size_t i)
{
    op_task t = {0};
    t.e = e, t.i = i, t.nd = &e->nodes[i], t.n_in = t.nd->n_in;
    int rc = check_inputs(t.nd);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t j = 0; j < t.n_in; j++)
        t.dx[j] = hwnas__k_dx(e, i, j, &t.acc[j]);
    size_t chunks = hwnas__engine_chunks(e->batch);
    if (t.nd->kind == HWNAS_NET_BATCHNORM)
        rc = hwnas_parallel_for(e->ctx, t.nd->c, bn_backward_task, &t);
    else
        rc = hwnas_parallel_for(e->ctx, chunks, backward_task, &t);
    if (rc != HWNAS_OK)
        return hwnas__error(rc, "engine: node '%s' failed", t.nd->name);
    if (t.nd->kind == HWNAS_NET_ACT && t.nd->a.fn == HWNAS_NET_ACT_PRELU) {
        float *g = e->grads + t.nd->p_off;
        memcpy(g, e->partial, t.nd->c * sizeof *g);
        for (size_t c = 1; c < chunks; c++)
            for (size_t k = 0; k < t.nd->c; k++)
                g[k] += e->partial[c * e->max_node_params + k];
    }
    return HWNAS_OK;
}
