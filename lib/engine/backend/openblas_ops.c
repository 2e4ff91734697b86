/* The reference backend's pooling, batch-norm and activation kernels.
 * Pooling and activations run one task per chunk of samples, batch-norm
 * one task per channel (its sums over the batch in a fixed order), so
 * results do not depend on the thread count. */
#include <math.h>
#include <string.h>

#include "openblas_internal.h"

/* Hot loops (engine_hot.h). */
#include "engine/engine_hot.h"

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

typedef hwnas__be_pool pool_geom;

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

HOT static void pool_sample(const pool_geom *g, const float *x, float *y, const float *dy,
                            float *dx)
{
    int is_max = g->max;
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

typedef struct bn_task {
    const hwnas__be_run *r;
    const hwnas__be_bn *g;
    const float *x, *y, *dy, *gb, *aux_in;
    float *yw, *running, *aux, *dx, *dgb;
    int acc;
} bn_task;

HOT static int bn_forward_task(size_t c, size_t worker, void *data)
{
    (void)worker;
    const bn_task *t = data;
    const hwnas__be_bn *g = t->g;
    size_t n = t->r->n, hw = g->hw, C = g->c, sz = C * hw;
    const float *x = t->x;
    float *y = t->yw;
    const float *gamma = t->gb, *beta = gamma + C;
    float *rmean = t->running, *rvar = rmean + C;
    float *aux = t->aux;
    double mean, invstd;
    if (t->r->train) {
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
        invstd = 1.0 / sqrt(var + g->eps);
        double mo = g->momentum;
        rmean[c] = (float)((1 - mo) * rmean[c] + mo * mean);
        rvar[c] = (float)((1 - mo) * rvar[c] + mo * (m > 1 ? var * m / (m - 1) : var));
        aux[c] = (float)mean, aux[C + c] = (float)invstd;
    } else {
        mean = rmean[c];
        invstd = 1.0 / sqrt((double)rvar[c] + g->eps);
    }
    float a = (float)(gamma[c] * invstd), b = (float)(beta[c] - gamma[c] * invstd * mean);
    if (g->act != HWNAS__BE_ACT_NONE) { /* relu or relu6 of the result */
        float hi = g->act == HWNAS__BE_ACT_RELU6 ? 6.0f : INFINITY;
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
    const bn_task *t = data;
    const hwnas__be_bn *g = t->g;
    size_t n = t->r->n, hw = g->hw, C = g->c, sz = C * hw;
    const float *x = t->x, *dy = t->dy;
    const float *gamma = t->gb;
    float *dgamma = t->dgb, *dbeta = dgamma + C;
    float mean = t->aux_in[c], invstd = t->aux_in[C + c];
    /* fused relu / relu6: the gradient is dy of the activation where its
     * output y is inside (0, hi) */
    const float *ya = NULL;
    float hi = INFINITY;
    if (g->act != HWNAS__BE_ACT_NONE) {
        ya = t->y;
        if (g->act == HWNAS__BE_ACT_RELU6)
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
    float *dx = t->dx;
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
                float gv = yc[k] > 0 && yc[k] < hi ? dc[k] : 0.0f;
                put(&dxc[k], k1 * (gv - k2 - (xc[k] - mean) * k3), t->acc);
            }
        } else {
            for (size_t k = 0; k < hw; k++)
                put(&dxc[k], k1 * (dc[k] - k2 - (xc[k] - mean) * k3), t->acc);
        }
    }
    return 0;
}

int hwnas__ob_bn_forward(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x, float *y,
                         const float *gb, float *running, float *aux)
{
    bn_task t = {0};
    t.r = r, t.g = g, t.x = x, t.yw = y, t.gb = gb, t.running = running, t.aux = aux;
    return hwnas_parallel_for(r->ctx, g->c, bn_forward_task, &t);
}

int hwnas__ob_bn_backward(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x,
                          const float *y, const float *dy, const float *gb, const float *aux,
                          float *dx, int acc, float *dgb)
{
    bn_task t = {0};
    t.r = r, t.g = g, t.x = x, t.y = y, t.dy = dy, t.gb = gb, t.aux_in = aux;
    t.dx = dx, t.acc = acc, t.dgb = dgb;
    return hwnas_parallel_for(r->ctx, g->c, bn_backward_task, &t);
}

/* ---- entry points: pooling and activations, one task per chunk --------- */

typedef struct op_task {
    const hwnas__be_run *r;
    const hwnas__be_pool *pool;
    const hwnas__be_act *act;
    const float *x, *y, *dy, *slope;
    float *yw, *dx;
    int acc;
} op_task;

HOT static int pool_forward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const pool_geom *g = t->pool;
    size_t lo, hi, isz = g->c * g->h * g->w, sz = g->c * g->oh * g->ow;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    for (size_t s = lo; s < hi; s++)
        pool_sample(g, t->x + s * isz, t->yw + s * sz, NULL, NULL);
    return 0;
}

HOT static int pool_backward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const pool_geom *g = t->pool;
    size_t lo, hi, isz = g->c * g->h * g->w, sz = g->c * g->oh * g->ow;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    if (!t->acc)
        memset(t->dx + lo * isz, 0, (hi - lo) * isz * sizeof *t->dx);
    for (size_t s = lo; s < hi; s++)
        pool_sample(g, t->x + s * isz, NULL, t->dy + s * sz, t->dx + s * isz);
    return 0;
}

int hwnas__ob_pool_forward(const hwnas__be_run *r, const hwnas__be_pool *g, const float *x,
                           float *y)
{
    op_task t = {0};
    t.r = r, t.pool = g, t.x = x, t.yw = y;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), pool_forward_task, &t);
}

int hwnas__ob_pool_backward(const hwnas__be_run *r, const hwnas__be_pool *g, const float *x,
                            const float *dy, float *dx, int acc)
{
    op_task t = {0};
    t.r = r, t.pool = g, t.x = x, t.dy = dy, t.dx = dx, t.acc = acc;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), pool_backward_task, &t);
}

HOT static int act_forward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const hwnas__be_act *g = t->act;
    size_t lo, hi, hw = g->hw, sz = g->c * hw;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    for (size_t s = lo; s < hi; s++) {
        if (!t->slope) {
            act_forward(t->x + s * sz, t->yw + s * sz, sz, g->fn, g->alpha);
            continue;
        }
        for (size_t c = 0; c < g->c; c++)
            act_forward(t->x + s * sz + c * hw, t->yw + s * sz + c * hw, hw, g->fn, t->slope[c]);
    }
    return 0;
}

HOT static int act_backward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const hwnas__be_act *g = t->act;
    size_t lo, hi, hw = g->hw, sz = g->c * hw;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    const float *x = t->x, *y = t->y, *dy = t->dy;
    float *dx = t->dx;
    int prelu = t->slope != NULL;
    float *ds = t->r->partial + ch * t->r->partial_stride;
    if (prelu)
        memset(ds, 0, g->c * sizeof *ds);
    for (size_t s = lo; s < hi; s++) {
        size_t o = s * sz;
        if (!prelu) {
            if (dx)
                act_backward(x + o, y + o, dy + o, dx + o, sz, g->fn, g->alpha, t->acc);
            continue;
        }
        for (size_t c = 0; c < g->c; c++) {
            size_t oc = o + c * hw;
            float a = 0;
            for (size_t k = 0; k < hw; k++)
                a += x[oc + k] > 0 ? 0.0f : dy[oc + k] * x[oc + k];
            ds[c] += a;
            if (dx)
                act_backward(x + oc, y + oc, dy + oc, dx + oc, hw, g->fn, t->slope[c], t->acc);
        }
    }
    return 0;
}

int hwnas__ob_act_forward(const hwnas__be_run *r, const hwnas__be_act *g, const float *x,
                          float *y, const float *slope)
{
    op_task t = {0};
    t.r = r, t.act = g, t.x = x, t.yw = y, t.slope = slope;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), act_forward_task, &t);
}

int hwnas__ob_act_backward(const hwnas__be_run *r, const hwnas__be_act *g, const float *x,
                           const float *y, const float *dy, const float *slope, float *dx,
                           int acc, float *dslope)
{
    op_task t = {0};
    t.r = r, t.act = g, t.x = x, t.y = y, t.dy = dy, t.slope = slope, t.dx = dx, t.acc = acc;
    size_t chunks = hwnas__be_chunks(r->n);
    int rc = hwnas_parallel_for(r->ctx, chunks, act_backward_task, &t);
    if (rc == HWNAS_OK && slope)
        hwnas__be_reduce_partials(dslope, r, g->c, chunks);
    return rc;
}
