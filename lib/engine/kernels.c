/* The engine's side of the kernels: convolution, linear, pooling,
 * batch-norm and activations go to the backend (backend/backend.h) with
 * their tensors and shapes; global average pooling, add, mul, concat,
 * dropout, flatten, zero and softmax run here. Each runs over chunks of
 * samples so results do not depend on the thread count. */
#include <math.h>
#include <string.h>

#include "engine_internal.h"

/* Hot loops (engine_hot.h). */
#include "engine_hot.h"

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

/* dst[0..n) = src or += src: the flag decided once, outside the loop, so
 * both loops vectorise. */
static inline void put_n(float *restrict dst, const float *restrict src, size_t n, int acc)
{
    if (acc)
        for (size_t k = 0; k < n; k++)
            dst[k] += src[k];
    else
        memcpy(dst, src, n * sizeof *dst);
}

/* dst[0..n) = v or += v */
static inline void put_const(float *restrict dst, float v, size_t n, int acc)
{
    if (acc)
        for (size_t k = 0; k < n; k++)
            dst[k] += v;
    else
        for (size_t k = 0; k < n; k++)
            dst[k] = v;
}

/* dst[0..n) = src * scale * keep (keep 0 or 1), or += that: dropout's two
 * passes, branch-free so they vectorise. */
static inline void put_masked(float *restrict dst, const float *restrict src,
                              const uint8_t *restrict keep, float scale, size_t n, int acc)
{
    if (acc)
        for (size_t k = 0; k < n; k++)
            dst[k] += src[k] * (scale * (float)keep[k]);
    else
        for (size_t k = 0; k < n; k++)
            dst[k] = src[k] * (scale * (float)keep[k]);
}

/* The sum of n floats in eight interleaved lanes added up in a fixed
 * order: vectorises, and the result does not depend on the thread count. */
static inline float lane_sum(const float *restrict x, size_t n)
{
    float lane[8] = {0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (size_t l = 0; l < 8; l++)
            lane[l] += x[k + l];
    for (size_t l = 0; k < n; k++, l++)
        lane[l] += x[k];
    return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

/* Dropout's keep mask of one sample: four 16-bit draws from each 64-bit
 * output of the sample's stream, kept when a draw is at or above p in
 * units of 2^-16 (the uniform draw per element cost a tenth of a small
 * net's training step). */
static void dropout_mask(uint8_t *restrict m, size_t n, double p, hwnas__rng *r)
{
    uint32_t cut = (uint32_t)(p * 65536.0 + 0.5);
    for (size_t k = 0; k < n; k += 4) {
        uint64_t u = hwnas__rng_u64(r);
        size_t q = n - k < 4 ? n - k : 4;
        for (size_t j = 0; j < q; j++)
            m[k + j] = (uint32_t)((u >> (16 * j)) & 0xFFFFu) >= cut;
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
    case HWNAS_NET_GAVGPOOL: {
        size_t hw = in_node(t, 0)->h * in_node(t, 0)->w;
        for (size_t s = lo; s < hi; s++)
            for (size_t c = 0; c < nd->c; c++) {
                y[s * nd->c + c] = lane_sum(x + (s * nd->c + c) * hw, hw) / (float)hw;
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
            dropout_mask(m + s * sz, sz, p, &r);
            put_masked(y + s * sz, x + s * sz, m + s * sz, scale, sz, 0);
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
    case HWNAS_NET_GAVGPOOL: {
        if (!dx)
            break;
        size_t hw = in_node(t, 0)->h * in_node(t, 0)->w;
        for (size_t s = lo; s < hi; s++)
            for (size_t c = 0; c < nd->c; c++)
                put_const(dx + (s * nd->c + c) * hw, dy[s * nd->c + c] / (float)hw, hw, acc);
        break;
    }
    case HWNAS_NET_ADD:
        for (size_t j = 0; j < t->n_in; j++)
            if (t->dx[j])
                put_n(t->dx[j] + lo * sz, dy + lo * sz, (hi - lo) * sz, t->acc[j]);
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
        if (p <= 0 || !e->train)
            put_n(dx + lo * sz, dy + lo * sz, (hi - lo) * sz, acc);
        else
            put_masked(dx + lo * sz, dy + lo * sz, e->mask[t->i] + lo * sz, scale, (hi - lo) * sz,
                       acc);
        break;
    }
    case HWNAS_NET_FLATTEN:
        if (dx)
            put_n(dx + lo * sz, dy + lo * sz, (hi - lo) * sz, acc);
        break;
    case HWNAS_NET_ZERO: /* constant output: no gradient reaches the input */
        if (dx)
            put_const(dx + lo * sz, 0.0f, (hi - lo) * sz, acc);
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

/* ---- the backend's layers -------------------------------------------------- */

void hwnas__k_run(hwnas__be_run *out, hwnas__engine *e)
{
    out->ctx = e->ctx;
    out->n = e->batch;
    out->train = e->train;
    out->scratch = e->col;
    out->scratch_size = e->col_size;
    out->partial = e->partial;
    out->partial_stride = e->max_node_params;
}

void hwnas__k_conv_shape(hwnas__be_conv *out, const hwnas__engine *e, size_t i)
{
    const hwnas__eng_node *nd = &e->nodes[i], *x = &e->nodes[nd->in[0]];
    out->cin = x->c, out->h = x->h, out->w = x->w;
    out->cout = nd->c, out->oh = nd->h, out->ow = nd->w;
    out->groups = (size_t)nd->a.groups;
    out->kh = (size_t)nd->a.kh, out->kw = (size_t)nd->a.kw;
    out->sh = (size_t)nd->a.sh, out->sw = (size_t)nd->a.sw;
    out->ph = (size_t)nd->a.ph, out->pw = (size_t)nd->a.pw;
    out->dh = (size_t)nd->a.dh, out->dw = (size_t)nd->a.dw;
    out->bias = nd->a.bias != 0;
}

static int failed(int rc, const hwnas__eng_node *nd, const char *what)
{
    return rc == HWNAS_OK ? rc : hwnas__error(rc, "engine: node '%s' (%s) failed", nd->name, what);
}

/* The node's backend for an entry: its own when it has one, else the
 * reference. */
#define OPS(e, nd, entry) \
    ((nd)->ops && (nd)->ops->entry ? (nd)->ops : (e)->be_ops->entry ? (e)->be_ops \
                                                                    : &hwnas__backend_openblas)

int hwnas__k_conv_forward(hwnas__engine *e, size_t i)
{
    const hwnas__eng_node *nd = &e->nodes[i];
    hwnas__be_conv g;
    hwnas__be_run r;
    hwnas__k_conv_shape(&g, e, i);
    hwnas__k_run(&r, e);
    const hwnas__backend_ops *ops = nd->ops ? nd->ops : &hwnas__backend_openblas;
    int rc = ops->conv_forward(&r, e->be, nd->layer, &g, e->act[nd->in[0]],
                               e->params + nd->p_off, e->act[i]);
    return failed(rc, nd, "conv");
}

int hwnas__k_conv_backward(hwnas__engine *e, size_t i)
{
    const hwnas__eng_node *nd = &e->nodes[i];
    hwnas__be_conv g;
    hwnas__be_run r;
    hwnas__k_conv_shape(&g, e, i);
    hwnas__k_run(&r, e);
    int acc;
    float *dx = hwnas__k_dx(e, i, 0, &acc);
    const hwnas__backend_ops *ops = nd->ops ? nd->ops : &hwnas__backend_openblas;
    int rc = ops->conv_backward(&r, e->be, nd->layer, &g, e->act[nd->in[0]],
                                e->params + nd->p_off, e->dact[i], dx, acc,
                                e->grads + nd->p_off);
    return failed(rc, nd, "conv");
}

int hwnas__k_conv_bn_forward(hwnas__engine *e, size_t i)
{
    const hwnas__eng_node *nd = &e->nodes[i], *bn = &e->nodes[nd->bn_after];
    hwnas__be_conv g;
    hwnas__be_run r;
    hwnas__k_conv_shape(&g, e, i);
    hwnas__k_run(&r, e);
    /* the batch-norm on running statistics as the reference computes it,
     * folded with the convolution's bias */
    const float *w = e->params + nd->p_off, *gamma = e->params + bn->p_off, *beta = gamma + nd->c;
    const float *rmean = e->state + bn->s_off, *rvar = rmean + nd->c;
    const float *bias = g.bias ? w + nd->n_p - nd->c : NULL;
    float *scale = e->affine, *shift = e->affine + nd->c;
    for (size_t c = 0; c < nd->c; c++) {
        double invstd = 1.0 / sqrt((double)rvar[c] + e->bn_eps);
        double a = gamma[c] * invstd;
        scale[c] = (float)a;
        shift[c] = (float)(beta[c] - a * rmean[c] + (bias ? a * bias[c] : 0.0));
    }
    int act = HWNAS__BE_ACT_NONE;
    if (bn->fused_act)
        act = e->nodes[bn->fused_act].a.fn == HWNAS_NET_ACT_RELU6 ? HWNAS__BE_ACT_RELU6
                                                                  : HWNAS__BE_ACT_RELU;
    float *y = e->act[bn->fused_act ? bn->fused_act : nd->bn_after];
    int rc = nd->ops->conv_forward_affine(&r, e->be, nd->layer, &g, e->act[nd->in[0]], w, scale,
                                          shift, act, y);
    return rc == HWNAS_EUNSUPPORTED ? rc : failed(rc, nd, "conv");
}

int hwnas__k_linear_forward(hwnas__engine *e, size_t i)
{
    const hwnas__eng_node *nd = &e->nodes[i];
    hwnas__be_run r;
    hwnas__k_run(&r, e);
    size_t f = e->nodes[nd->in[0]].size, out = nd->c;
    const float *w = e->params + nd->p_off;
    int rc = OPS(e, nd, linear_forward)
                 ->linear_forward(&r, f, out, e->act[nd->in[0]], w,
                                  nd->a.bias ? w + out * f : NULL, e->act[i]);
    return failed(rc, nd, "linear");
}

int hwnas__k_linear_backward(hwnas__engine *e, size_t i)
{
    const hwnas__eng_node *nd = &e->nodes[i];
    hwnas__be_run r;
    hwnas__k_run(&r, e);
    size_t f = e->nodes[nd->in[0]].size, out = nd->c;
    int acc;
    float *dx = hwnas__k_dx(e, i, 0, &acc);
    float *dw = e->grads + nd->p_off;
    int rc = OPS(e, nd, linear_backward)
                 ->linear_backward(&r, f, out, e->act[nd->in[0]], e->params + nd->p_off,
                                   e->dact[i], dx, acc, dw, nd->a.bias ? dw + out * f : NULL);
    return failed(rc, nd, "linear");
}

static void pool_shape(hwnas__be_pool *g, const hwnas__engine *e, const hwnas__eng_node *nd)
{
    const hwnas__eng_node *x = &e->nodes[nd->in[0]];
    g->c = x->c, g->h = x->h, g->w = x->w, g->oh = nd->h, g->ow = nd->w;
    g->kh = (size_t)nd->a.kh, g->kw = (size_t)nd->a.kw;
    g->sh = (size_t)nd->a.sh, g->sw = (size_t)nd->a.sw;
    g->ph = (size_t)nd->a.ph, g->pw = (size_t)nd->a.pw;
    g->max = nd->kind == HWNAS_NET_MAXPOOL;
}

static void bn_shape(hwnas__be_bn *g, const hwnas__engine *e, const hwnas__eng_node *nd)
{
    g->c = nd->c, g->hw = nd->h * nd->w;
    g->act = HWNAS__BE_ACT_NONE;
    if (nd->fused_act)
        g->act = e->nodes[nd->fused_act].a.fn == HWNAS_NET_ACT_RELU6 ? HWNAS__BE_ACT_RELU6
                                                                     : HWNAS__BE_ACT_RELU;
    g->momentum = e->bn_momentum, g->eps = e->bn_eps;
}

static void act_shape(hwnas__be_act *g, const hwnas__eng_node *nd)
{
    g->c = nd->c, g->hw = nd->h * nd->w;
    g->fn = nd->a.fn;
    g->alpha = (float)nd->a.alpha;
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
    const hwnas__eng_node *nd = t.nd;
    int rc = check_inputs(nd);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__be_run r;
    hwnas__k_run(&r, e);
    const float *x = e->act[nd->in[0]];
    switch (nd->kind) {
    case HWNAS_NET_MAXPOOL:
    case HWNAS_NET_AVGPOOL: {
        hwnas__be_pool g;
        pool_shape(&g, e, nd);
        rc = OPS(e, nd, pool_forward)->pool_forward(&r, &g, x, e->act[i]);
        break;
    }
    case HWNAS_NET_BATCHNORM: {
        hwnas__be_bn g;
        bn_shape(&g, e, nd);
        /* a fused activation's output is written directly */
        float *y = e->act[nd->fused_act ? nd->fused_act : i];
        rc = OPS(e, nd, bn_forward)->bn_forward(&r, &g, x, y, e->params + nd->p_off,
                                                e->state + nd->s_off, e->aux + nd->x_off);
        break;
    }
    case HWNAS_NET_ACT: {
        hwnas__be_act g;
        act_shape(&g, nd);
        rc = OPS(e, nd, act_forward)->act_forward(&r, &g, x, e->act[i],
                                                  nd->a.fn == HWNAS_NET_ACT_PRELU
                                                      ? e->params + nd->p_off : NULL);
        break;
    }
    default:
        rc = hwnas_parallel_for(e->ctx, hwnas__engine_chunks(e->batch), forward_task, &t);
        break;
    }
    return rc == HWNAS_OK ? rc : hwnas__error(rc, "engine: node '%s' failed", nd->name);
}

int hwnas__k_backward(hwnas__engine *e, size_t i)
{
    op_task t = {0};
    t.e = e, t.i = i, t.nd = &e->nodes[i], t.n_in = t.nd->n_in;
    const hwnas__eng_node *nd = t.nd;
    int rc = check_inputs(nd);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t j = 0; j < t.n_in; j++)
        t.dx[j] = hwnas__k_dx(e, i, j, &t.acc[j]);
    hwnas__be_run r;
    hwnas__k_run(&r, e);
    const float *x = e->act[nd->in[0]];
    switch (nd->kind) {
    case HWNAS_NET_MAXPOOL:
    case HWNAS_NET_AVGPOOL: {
        if (!t.dx[0])
            break;
        hwnas__be_pool g;
        pool_shape(&g, e, nd);
        rc = OPS(e, nd, pool_backward)->pool_backward(&r, &g, x, e->dact[i], t.dx[0], t.acc[0]);
        break;
    }
    case HWNAS_NET_BATCHNORM: {
        hwnas__be_bn g;
        bn_shape(&g, e, nd);
        /* fused: the activation's output and gradient */
        size_t o = nd->fused_act ? nd->fused_act : i;
        rc = OPS(e, nd, bn_backward)
                 ->bn_backward(&r, &g, x, e->act[o], e->dact[o], e->params + nd->p_off,
                               e->aux + nd->x_off, t.dx[0], t.acc[0], e->grads + nd->p_off);
        break;
    }
    case HWNAS_NET_ACT: {
        hwnas__be_act g;
        act_shape(&g, nd);
        int prelu = nd->a.fn == HWNAS_NET_ACT_PRELU;
        if (!t.dx[0] && !prelu)
            break;
        rc = OPS(e, nd, act_backward)
                 ->act_backward(&r, &g, x, e->act[i], e->dact[i],
                                prelu ? e->params + nd->p_off : NULL, t.dx[0], t.acc[0],
                                prelu ? e->grads + nd->p_off : NULL);
        break;
    }
    default:
        rc = hwnas_parallel_for(e->ctx, hwnas__engine_chunks(e->batch), backward_task, &t);
        break;
    }
    return rc == HWNAS_OK ? rc : hwnas__error(rc, "engine: node '%s' failed", nd->name);
}
