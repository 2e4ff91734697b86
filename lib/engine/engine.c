/* The engine: compile a net into nodes and buffers, run forward and
 * backward passes over them, the loss, parameter initialisation. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

static int kind_known(int kind)
{
    return kind >= HWNAS_NET_INPUT && kind <= HWNAS_NET_ZERO;
}

/* Parameter, state and aux counts of node nd (input shape x). */
static void count_params(hwnas__eng_node *nd, const hwnas__eng_node *x)
{
    nd->n_p = nd->n_s = 0;
    switch (nd->kind) {
    case HWNAS_NET_CONV2D:
    case HWNAS_NET_DWCONV2D: {
        size_t cin_g = x->c / (size_t)nd->a.groups;
        nd->n_p = nd->c * cin_g * (size_t)nd->a.kh * (size_t)nd->a.kw + (nd->a.bias ? nd->c : 0);
        break;
    }
    case HWNAS_NET_LINEAR:
        nd->n_p = nd->c * x->size + (nd->a.bias ? nd->c : 0);
        break;
    case HWNAS_NET_BATCHNORM:
        nd->n_p = 2 * nd->c;
        nd->n_s = 2 * nd->c;
        break;
    case HWNAS_NET_ACT:
        if (nd->a.fn == HWNAS_NET_ACT_PRELU)
            nd->n_p = nd->c;
        break;
    default:
        break;
    }
}

/* Mark batch-norm nodes whose only consumer is a relu or relu6 (see
 * hwnas__eng_node.fused_act). */
static void fuse_bn_act(hwnas__engine *e)
{
    for (size_t k = 0; k < e->n; k++) {
        if (e->nodes[k].kind != HWNAS_NET_BATCHNORM)
            continue;
        size_t uses = 0, user = 0;
        for (size_t j = k + 1; j < e->n; j++)
            for (size_t q = 0; q < e->nodes[j].n_in; q++)
                if (e->nodes[j].in[q] == k)
                    uses++, user = j;
        const hwnas__eng_node *u = &e->nodes[user];
        if (uses == 1 && u->kind == HWNAS_NET_ACT && u->n_in == 1 &&
            (u->a.fn == HWNAS_NET_ACT_RELU || u->a.fn == HWNAS_NET_ACT_RELU6)) {
            e->nodes[k].fused_act = user;
            e->nodes[user].fused = 1;
        }
    }
}

/* Mark convolutions whose only consumer is a batch-norm (bn_after). */
static void fuse_conv_bn(hwnas__engine *e)
{
    for (size_t k = 0; k < e->n; k++) {
        hwnas__eng_node *nd = &e->nodes[k];
        if (nd->kind != HWNAS_NET_CONV2D && nd->kind != HWNAS_NET_DWCONV2D)
            continue;
        size_t uses = 0, user = 0;
        for (size_t j = k + 1; j < e->n; j++)
            for (size_t q = 0; q < e->nodes[j].n_in; q++)
                if (e->nodes[j].in[q] == k)
                    uses++, user = j;
        if (uses == 1 && e->nodes[user].kind == HWNAS_NET_BATCHNORM)
            nd->bn_after = user;
        if (nd->c > e->max_c)
            e->max_c = nd->c;
    }
}

void hwnas__engine_init_params(hwnas__engine *e, uint64_t seed, int scheme)
{
    for (size_t i = 0; i < e->n; i++) {
        hwnas__eng_node *nd = &e->nodes[i];
        float *p = e->params + nd->p_off;
        hwnas__rng r;
        hwnas__rng_seed(&r, seed, (uint64_t)i);
        switch (nd->kind) {
        case HWNAS_NET_CONV2D:
        case HWNAS_NET_DWCONV2D:
        case HWNAS_NET_LINEAR: {
            size_t nb = nd->a.bias ? nd->c : 0, nw = nd->n_p - nb;
            double fan_in = (double)nw / (double)nd->c;
            if (scheme == HWNAS__INIT_UNIFORM) {
                double bound = 1.0 / sqrt(fan_in);
                for (size_t k = 0; k < nd->n_p; k++)
                    p[k] = (float)(bound * (2.0 * hwnas__rng_uniform(&r) - 1.0));
                break;
            }
            double sd = sqrt(2.0 / fan_in);
            for (size_t k = 0; k < nw; k++)
                p[k] = (float)(sd * hwnas__rng_normal(&r));
            memset(p + nw, 0, nb * sizeof *p);
            break;
        }
        case HWNAS_NET_BATCHNORM: {
            float *s = e->state + nd->s_off;
            for (size_t k = 0; k < nd->c; k++) {
                p[k] = 1.0f, p[nd->c + k] = 0.0f;
                s[k] = 0.0f, s[nd->c + k] = 1.0f;
            }
            break;
        }
        case HWNAS_NET_ACT:
            for (size_t k = 0; k < nd->n_p; k++)
                p[k] = 0.25f;
            break;
        default:
            break;
        }
    }
}

int hwnas__engine_new(hwnas__engine **out, hwnas_context *ctx, const hwnas_net *net,
                      uint64_t seed)
{
    if (!out || !ctx || !net)
        return hwnas__error(HWNAS_EINVAL, "engine: out, ctx and net are required");
    *out = NULL;
    if (net->n == 0)
        return hwnas__error(HWNAS_EINVAL, "engine: the net has no nodes");
    hwnas__engine *e = hwnas__calloc(ctx, 1, sizeof *e);
    if (!e)
        return HWNAS_ENOMEM;
    e->ctx = ctx;
    e->net = net;
    e->n = net->n;
    int rc = hwnas__backend_pick(&e->be_ops, ctx);
    if (rc == HWNAS_OK && e->be_ops->create)
        rc = e->be_ops->create(&e->be, ctx);
    if (rc != HWNAS_OK) {
        hwnas__engine_free(e);
        return rc;
    }
    e->bn_momentum = 0.1f;
    e->bn_eps = 1e-5f;
    e->nodes = hwnas__calloc(ctx, e->n, sizeof *e->nodes);
    if (!e->nodes) {
        hwnas__engine_free(e);
        return HWNAS_ENOMEM;
    }
    size_t n_inputs = 0, p_off = 0, s_off = 0, x_off = 0;
    for (size_t i = 0; i < e->n; i++) {
        const hwnas__net_node *src = &net->nodes[i];
        hwnas__eng_node *nd = &e->nodes[i];
        nd->name = hwnas__net_str(net, src->name);
        nd->kind = src->kind;
        if (!kind_known(nd->kind)) {
            hwnas__engine_free(e);
            return hwnas__error(HWNAS_EUNSUPPORTED, "engine: node '%s' (%s): the fp32 engine "
                                "cannot run this kind of node (kind %d)", nd->name,
                                hwnas__net_op_name(src), src->kind);
        }
        nd->rank = src->rank;
        nd->c = (size_t)src->c, nd->h = (size_t)src->h, nd->w = (size_t)src->w;
        nd->size = nd->c * nd->h * nd->w;
        nd->a = src->a;
        nd->in = net->inputs + src->in_off;
        nd->n_in = src->n_in;
        if (nd->kind == HWNAS_NET_INPUT) {
            e->input = i;
            n_inputs++;
        } else {
            count_params(nd, &e->nodes[nd->in[0]]);
        }
        nd->p_off = p_off, p_off += nd->n_p;
        nd->s_off = s_off, s_off += nd->n_s;
        nd->x_off = x_off, x_off += nd->kind == HWNAS_NET_BATCHNORM ? 2 * nd->c : 0;
        if ((nd->kind == HWNAS_NET_CONV2D || nd->kind == HWNAS_NET_DWCONV2D ||
             nd->kind == HWNAS_NET_ACT) && nd->n_p > e->max_node_params)
            e->max_node_params = nd->n_p;
        /* batch-norm: per-chunk sums, 2 c doubles (backend.h) */
        if (nd->kind == HWNAS_NET_BATCHNORM && HWNAS__BE_BN_PARTIAL(nd->c) > e->max_node_params)
            e->max_node_params = HWNAS__BE_BN_PARTIAL(nd->c);
    }
    if (n_inputs != 1) {
        hwnas__engine_free(e);
        return hwnas__error(HWNAS_EUNSUPPORTED, "engine: the net has %zu input nodes; the "
                            "engine runs nets with exactly one", n_inputs);
    }
    fuse_bn_act(e);
    fuse_conv_bn(e);
    e->output = e->n - 1;
    e->logits = e->output;
    if (e->nodes[e->output].kind == HWNAS_NET_SOFTMAX)
        e->logits = e->nodes[e->output].in[0];
    e->n_params = p_off, e->n_state = s_off, e->n_aux = x_off;
    e->params = hwnas__calloc(ctx, p_off ? p_off : 1, sizeof(float));
    e->grads = hwnas__calloc(ctx, p_off ? p_off : 1, sizeof(float));
    e->state = hwnas__calloc(ctx, s_off ? s_off : 1, sizeof(float));
    e->aux = hwnas__calloc(ctx, x_off ? x_off : 1, sizeof(float));
    if (!e->params || !e->grads || !e->state || !e->aux) {
        hwnas__engine_free(e);
        return HWNAS_ENOMEM;
    }
    hwnas__engine_init_params(e, seed, HWNAS__INIT_HE);
    *out = e;
    return HWNAS_OK;
}

static void free_buffers(hwnas__engine *e)
{
    const hwnas_context *ctx = e->ctx;
    for (size_t i = 0; e->nodes && i < e->n; i++) {
        hwnas__eng_node *nd = &e->nodes[i];
        if (nd->layer && nd->ops->conv_free)
            nd->ops->conv_free(e->be, nd->layer);
        nd->layer = NULL;
        nd->ops = NULL;
    }
    for (size_t i = 0; e->col && i < e->n_workers; i++)
        hwnas__free(ctx, e->col[i]);
    if (e->act_infer != e->act_train)
        hwnas__free(ctx, e->act_infer);
    hwnas__free(ctx, e->act_train);
    hwnas__free(ctx, e->dact);
    hwnas__free(ctx, e->mask);
    hwnas__free(ctx, e->arena);
    hwnas__free(ctx, e->alias);
    hwnas__free(ctx, e->col);
    hwnas__free(ctx, e->dinit);
    hwnas__free(ctx, e->done);
    hwnas__free(ctx, e->affine);
    hwnas__free(ctx, e->partial);
    e->act = e->act_train = e->act_infer = e->dact = e->col = NULL;
    e->arena = NULL;
    e->alias = NULL;
    e->arena_size = 0;
    e->mask = NULL;
    e->dinit = NULL;
    e->done = NULL;
    e->affine = NULL;
    e->partial = NULL;
    e->batch_cap = 0;
    e->n_workers = 0;
    e->col_size = 0;
}

void hwnas__engine_free(hwnas__engine *e)
{
    if (!e)
        return;
    const hwnas_context *ctx = e->ctx;
    free_buffers(e);
    hwnas__free(ctx, e->params);
    hwnas__free(ctx, e->grads);
    hwnas__free(ctx, e->state);
    hwnas__free(ctx, e->aux);
    hwnas__free(ctx, e->nodes);
    if (e->be)
        e->be_ops->destroy(e->be);
    hwnas__free(ctx, e);
}

static float *alloc_floats(const hwnas_context *ctx, size_t n)
{
    if (n > SIZE_MAX / sizeof(float)) {
        hwnas__enomem();
        return NULL;
    }
    return hwnas__malloc(ctx, n * sizeof(float));
}

/* Conv node i's backend and layer handle: the engine's backend when it
 * takes the shape, else the reference. */
static int conv_layer(hwnas__engine *e, size_t i, size_t cap, size_t workers)
{
    hwnas__eng_node *nd = &e->nodes[i];
    const hwnas__backend_ops *ops = e->be_ops;
    nd->ops = &hwnas__backend_openblas;
    if (!ops->conv_forward || !ops->conv_backward)
        return HWNAS_OK;
    if (!ops->conv_new) {
        nd->ops = ops;
        return HWNAS_OK;
    }
    hwnas__be_conv g;
    hwnas__k_conv_shape(&g, e, i);
    int rc = ops->conv_new(&nd->layer, e->be, &g, cap, workers);
    if (rc == HWNAS_EUNSUPPORTED) { /* the reference runs it */
        HWNAS_LOG(e->ctx, HWNAS_LOG_DEBUG, "engine: node '%s': backend %s leaves it to the "
                  "reference", nd->name, ops->name);
        return HWNAS_OK;
    }
    if (rc != HWNAS_OK)
        return rc;
    nd->ops = ops;
    return HWNAS_OK;
}

/* ---- memory plan ----------------------------------------------------------
 *
 * Every buffer of a pass (a node's output act, its gradient dact, a dropout
 * mask) is a request with a size and a lifetime on one time line: the
 * forward step of node i at F(i) = i, the backward step of node k at B(k) =
 * 2n - 1 - k, and END = 2n for what callers read after a pass. With share
 * on, requests whose lifetimes (closed intervals) do not overlap share
 * memory: largest request first, each goes into the smallest gap of the
 * arena left by the requests placed so far that overlap it in time, else
 * after them (plan_place; on the NB201 cells the arena is the most bytes
 * ever live at once). A kernel
 * reads its inputs and writes its output at its own step, so an input and
 * an output never share; a gradient lives from the backward step of the
 * first consumer that writes it (hwnas__k_dx: the first writer overwrites,
 * the rest add) to the node's own backward step.
 *
 * Training keeps an output until the backward step of the last node whose
 * backward reads it (bwd_reads); inference keeps it until its last
 * consumer. The two plans are laid from the arena's start; the forward pass
 * picks act_train or act_infer. */

enum { RQ_ACT = 0, RQ_DACT = 1, RQ_MASK = 2 };

typedef struct plan_rq {
    size_t size;   /* floats, a multiple of ALIGN_F */
    size_t lo, hi; /* lifetime, closed */
    size_t node;
    int what;      /* RQ_* */
    size_t block;  /* offset in the arena (floats) */
} plan_rq;

#define ALIGN_F 16 /* floats: every buffer starts on a 64-byte boundary */

static size_t t_fwd(size_t i)
{
    return i;
}

static size_t t_bwd(const hwnas__engine *e, size_t k)
{
    return 2 * e->n - 1 - k;
}

static void extend(size_t *hi, size_t x, size_t t)
{
    if (t > hi[x])
        hi[x] = t;
}

static int act_reads_x_only(int fn)
{
    return fn == HWNAS_NET_ACT_LEAKY_RELU || fn == HWNAS_NET_ACT_PRELU;
}

/* relu and relu6: 0 < y < hi exactly when 0 < x < hi, so with shared
 * buffers their backward step is given the output as its input too
 * (engine_backward_walk) and reads only the output. */
static int act_reads_y_only(int fn)
{
    return fn == HWNAS_NET_ACT_RELU || fn == HWNAS_NET_ACT_RELU6;
}

static size_t A(const hwnas__engine *e, size_t i)
{
    return e->alias ? e->alias[i] : i;
}

/* The activations the backward step of node r reads (the backend entries
 * as the reference implements them, backend.h; kernels.c; mixed.c):
 *   conv, dwconv, linear, maxpool: the input;
 *   batchnorm: the input, and its fused activation's output (the mask);
 *   act: the output (relu, relu6: see act_reads_y_only), the input
 *   (leaky_relu, prelu), else input and output;
 *   mul: both inputs; softmax: its output; a mixed add: every input (for
 *   d loss / d w);
 *   avgpool, gap, add, concat, flatten, zero: nothing; dropout: its mask;
 *   a fused activation: nothing (its batch-norm does its work).
 * A backend whose backward reads more must be added here. */
static void bwd_reads(const hwnas__engine *e, size_t r, size_t *hi)
{
    const hwnas__eng_node *nd = &e->nodes[r];
    size_t t = t_bwd(e, r);
    if (nd->fused || nd->kind == HWNAS_NET_INPUT)
        return;
    switch (nd->kind) {
    case HWNAS_NET_CONV2D:
    case HWNAS_NET_DWCONV2D:
    case HWNAS_NET_LINEAR:
    case HWNAS_NET_MAXPOOL:
        extend(hi, A(e, nd->in[0]), t);
        break;
    case HWNAS_NET_BATCHNORM:
        extend(hi, A(e, nd->in[0]), t);
        if (nd->fused_act)
            extend(hi, A(e, nd->fused_act), t);
        break;
    case HWNAS_NET_ACT:
        if (!act_reads_y_only(nd->a.fn) || !e->share)
            extend(hi, A(e, nd->in[0]), t);
        if (!act_reads_x_only(nd->a.fn))
            extend(hi, A(e, r), t);
        break;
    case HWNAS_NET_SOFTMAX:
        extend(hi, A(e, r), t);
        break;
    case HWNAS_NET_MUL:
        for (size_t q = 0; q < nd->n_in; q++)
            extend(hi, A(e, nd->in[q]), t);
        break;
    case HWNAS_NET_ADD:
        if (e->mix)
            for (size_t q = 0; q < nd->n_in; q++)
                extend(hi, A(e, nd->in[q]), t);
        break;
    default:
        break;
    }
}

static size_t round_f(size_t n)
{
    return n > SIZE_MAX - ALIGN_F ? SIZE_MAX : (n + ALIGN_F - 1) / ALIGN_F * ALIGN_F;
}

/* Activation nodes computing what an earlier one computes (the same
 * function of the same input: NB201 cells apply relu to a node once per
 * edge) share its output; with mixed edges none (a term may skip one). */
static void find_aliases(hwnas__engine *e)
{
    for (size_t j = 0; j < e->n; j++) {
        const hwnas__eng_node *b = &e->nodes[j];
        e->alias[j] = j;
        if (e->mix || b->kind != HWNAS_NET_ACT || b->fused || b->n_in != 1 ||
            b->a.fn == HWNAS_NET_ACT_PRELU)
            continue;
        for (size_t i = 0; i < j; i++) {
            const hwnas__eng_node *a = &e->nodes[i];
            if (e->alias[i] == i && a->kind == HWNAS_NET_ACT && !a->fused && a->n_in == 1 &&
                a->in[0] == b->in[0] && a->a.fn == b->a.fn && a->a.alpha == b->a.alpha) {
                e->alias[j] = i;
                break;
            }
        }
    }
}

/* The act requests of a training (train = 1) or inference pass for n
 * samples into rq (one per node that is not an alias); returns their
 * count. lo, hi: e->n scratch. */
static size_t act_requests(plan_rq *rq, const hwnas__engine *e, size_t n, int train, size_t *lo,
                           size_t *hi)
{
    size_t N = e->n, end = 2 * N;
    for (size_t i = 0; i < N; i++)
        lo[i] = hi[i] = t_fwd(i);
    for (size_t i = 0; i < N; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        /* other writers: a batch-norm writes its fused activation's output;
         * in inference a convolution may write its batch-norm's */
        if (nd->fused_act && t_fwd(i) < lo[nd->fused_act])
            lo[nd->fused_act] = t_fwd(i);
        if (!train && nd->bn_after) {
            size_t b = nd->bn_after, o = e->nodes[b].fused_act ? e->nodes[b].fused_act : b;
            if (t_fwd(i) < lo[o])
                lo[o] = t_fwd(i);
        }
        /* a fused activation reads nothing, nor does an alias */
        if (!nd->fused && A(e, i) == i)
            for (size_t q = 0; q < nd->n_in; q++)
                extend(hi, A(e, nd->in[q]), t_fwd(i));
    }
    extend(hi, A(e, e->logits), end);
    extend(hi, A(e, e->output), end);
    for (size_t r = 0; train && r <= e->logits; r++)
        bwd_reads(e, r, hi);
    size_t nr = 0;
    for (size_t i = 0; i < N; i++)
        if (A(e, i) == i)
            rq[nr++] = (plan_rq){round_f(n * e->nodes[i].size), lo[i], hi[i], i, RQ_ACT, 0};
    return nr;
}

/* The dact and mask requests of training into rq; returns their count.
 * mc: e->n scratch. */
static size_t grad_requests(plan_rq *rq, const hwnas__engine *e, size_t n, size_t *mc)
{
    size_t N = e->n, nr = 0;
    /* the last consumer that runs a backward step: the first writer */
    for (size_t i = 0; i < N; i++)
        mc[i] = i;
    for (size_t j = 0; j <= e->logits; j++)
        for (size_t q = 0; q < e->nodes[j].n_in; q++)
            if (j > mc[e->nodes[j].in[q]])
                mc[e->nodes[j].in[q]] = j;
    for (size_t i = 0; i < N; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        size_t lo = t_bwd(e, mc[i]), hi = t_bwd(e, i);
        if (i > e->logits || nd->fused_act)
            lo = hi; /* never read: a batch-norm's consumer reads none (its
                      * zeroing is all that can happen, mixed.c) */
        else if (nd->kind == HWNAS_NET_INPUT)
            hi = 2 * N; /* read after the pass (need_input_grad) */
        else if (nd->fused)
            hi = t_bwd(e, nd->in[0]); /* its batch-norm reads it */
        rq[nr++] = (plan_rq){round_f(n * nd->size), lo, hi, i, RQ_DACT, 0};
        if (nd->kind == HWNAS_NET_DROPOUT) {
            size_t bytes = n * nd->size;
            size_t hm = i <= e->logits ? t_bwd(e, i) : t_fwd(i);
            rq[nr++] = (plan_rq){round_f(bytes / sizeof(float) + 1), t_fwd(i), hm, i, RQ_MASK, 0};
        }
    }
    return nr;
}

static int cmp_rq(const void *pa, const void *pb)
{
    const plan_rq *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->what != b->what)
        return a->what < b->what ? -1 : 1;
    return a->node < b->node ? -1 : a->node > b->node;
}

static int cmp_span(const void *pa, const void *pb)
{
    const size_t *a = pa, *b = pb;
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1];
}

/* Offsets for the nr requests into rq[].block; returns the floats used
 * (SIZE_MAX: overflow). share: largest request first, each into the
 * smallest gap between the requests placed so far that overlap it in time
 * (else after the last of them); share 0: one after the other. span: 2 nr
 * scratch. */
static size_t plan_place(plan_rq *rq, size_t nr, int share, size_t *span)
{
    qsort(rq, nr, sizeof *rq, cmp_rq);
    size_t total = 0;
    for (size_t r = 0; r < nr; r++) {
        size_t ns = 0, at = 0;
        if (share) {
            for (size_t q = 0; q < r; q++)
                if (rq[q].lo <= rq[r].hi && rq[r].lo <= rq[q].hi) {
                    span[2 * ns] = rq[q].block;
                    span[2 * ns + 1] = rq[q].block + rq[q].size;
                    ns++;
                }
            qsort(span, ns, 2 * sizeof *span, cmp_span);
            size_t end = 0, best = SIZE_MAX;
            at = SIZE_MAX;
            for (size_t k = 0; k < ns; k++) {
                size_t gap = span[2 * k] > end ? span[2 * k] - end : 0;
                if (gap >= rq[r].size && gap < best)
                    best = gap, at = end;
                end = span[2 * k + 1] > end ? span[2 * k + 1] : end;
            }
            if (at == SIZE_MAX)
                at = end;
        } else {
            at = total;
        }
        if (rq[r].size > SIZE_MAX - at)
            return SIZE_MAX;
        rq[r].block = at;
        total = at + rq[r].size > total ? at + rq[r].size : total;
    }
    return total;
}

/* Plan and allocate act, dact and the masks for n samples. */
static int plan_buffers(hwnas__engine *e, size_t n)
{
    const hwnas_context *ctx = e->ctx;
    size_t N = e->n, cap = 4 * N;
    int share = e->share != 0;
    for (size_t i = 0; i < N; i++)
        if (e->nodes[i].size > (SIZE_MAX / 2 - ALIGN_F) / sizeof(float) / n)
            return hwnas__enomem();
    plan_rq *rq = hwnas__malloc(ctx, cap * sizeof *rq);
    size_t *tmp = hwnas__malloc(ctx, 2 * cap * sizeof *tmp);
    int rc = HWNAS_ENOMEM;
    if (!rq || !tmp)
        goto done;
    if (share) {
        if (!(e->alias = hwnas__malloc(ctx, N * sizeof *e->alias)))
            goto done;
        find_aliases(e);
    }
    /* training: acts, then gradients and masks, in one plan */
    size_t nt = act_requests(rq, e, n, 1, tmp, tmp + N);
    nt += grad_requests(rq + nt, e, n, tmp);
    size_t total = plan_place(rq, nt, share, tmp);
    size_t ni = 0;
    if (share) { /* inference: acts alone, from the arena's start too */
        ni = act_requests(rq + nt, e, n, 0, tmp, tmp + N);
        size_t t = plan_place(rq + nt, ni, 1, tmp);
        total = t > total ? t : total;
    }
    if (total > SIZE_MAX - ALIGN_F) {
        rc = hwnas__enomem();
        goto done;
    }
    e->arena = alloc_floats(ctx, total + ALIGN_F);
    if (!e->arena)
        goto done;
    e->arena_size = total;
    HWNAS_LOG(e->ctx, HWNAS_LOG_DEBUG, "engine: buffers for %zu samples: %.1f MiB (%s)", n,
              (double)total * sizeof(float) / 1048576.0,
              share ? "shared by liveness" : "every node its own");
    float *base = e->arena + (ALIGN_F - ((uintptr_t)e->arena / sizeof(float)) % ALIGN_F) % ALIGN_F;
    for (size_t r = 0; r < nt + ni; r++) {
        float *p = base + rq[r].block;
        if (r >= nt)
            e->act_infer[rq[r].node] = p;
        else if (rq[r].what == RQ_ACT)
            e->act_train[rq[r].node] = p;
        else if (rq[r].what == RQ_DACT)
            e->dact[rq[r].node] = p;
        else
            e->mask[rq[r].node] = (uint8_t *)p;
    }
    for (size_t i = 0; share && i < N; i++) {
        e->act_train[i] = e->act_train[A(e, i)];
        e->act_infer[i] = e->act_infer[A(e, i)];
    }
    if (!share)
        e->act_infer = e->act_train;
    e->act = e->act_train;
    e->shared = share;
    e->planned_mix = e->mix;
    rc = HWNAS_OK;
done:
    hwnas__free(ctx, rq);
    hwnas__free(ctx, tmp);
    return rc;
}

int hwnas__engine_reserve(hwnas__engine *e, size_t n)
{
    if (n == 0)
        return hwnas__error(HWNAS_EINVAL, "engine: batch size 0");
    size_t workers = hwnas_context_threads(e->ctx);
    if (n <= e->batch_cap && workers <= e->n_workers && e->shared == (e->share != 0) &&
        (!e->shared || e->planned_mix == e->mix))
        return HWNAS_OK;
    free_buffers(e);
    const hwnas_context *ctx = e->ctx;
    e->act_train = hwnas__calloc(ctx, e->n, sizeof *e->act_train);
    e->act_infer = e->share ? hwnas__calloc(ctx, e->n, sizeof *e->act_infer) : NULL;
    e->dact = hwnas__calloc(ctx, e->n, sizeof *e->dact);
    e->mask = hwnas__calloc(ctx, e->n, sizeof *e->mask);
    e->dinit = hwnas__calloc(ctx, e->n, 1);
    e->done = hwnas__calloc(ctx, e->n, 1);
    e->affine = alloc_floats(ctx, 2 * e->max_c + 2);
    e->col = hwnas__calloc(ctx, workers, sizeof *e->col);
    if (!e->act_train || (e->share && !e->act_infer) || !e->dact || !e->mask || !e->dinit ||
        !e->done || !e->affine || !e->col)
        goto fail;
    e->n_workers = workers;
    int rc = plan_buffers(e, n);
    if (rc != HWNAS_OK) {
        free_buffers(e);
        return rc;
    }
    e->batch_cap = n;
    size_t col = 1;
    for (size_t i = 0; i < e->n; i++) {
        hwnas__eng_node *nd = &e->nodes[i];
        if (nd->kind == HWNAS_NET_CONV2D || nd->kind == HWNAS_NET_DWCONV2D) {
            rc = conv_layer(e, i, n, workers);
            if (rc != HWNAS_OK) {
                free_buffers(e);
                return rc;
            }
            hwnas__be_conv g;
            hwnas__k_conv_shape(&g, e, i);
            size_t s = nd->ops->conv_scratch ? nd->ops->conv_scratch(&g, n) : 1;
            if (s > col)
                col = s;
        }
    }
    for (size_t w = 0; w < workers; w++)
        if (!(e->col[w] = alloc_floats(ctx, col)))
            goto fail;
    e->col_size = col;
    if (e->max_node_params > SIZE_MAX / HWNAS__ENGINE_MAX_CHUNKS)
        goto nomem;
    e->partial = alloc_floats(ctx, HWNAS__ENGINE_MAX_CHUNKS * (e->max_node_params + 1));
    if (!e->partial)
        goto fail;
    return HWNAS_OK;
nomem:
    hwnas__enomem();
fail:
    free_buffers(e);
    return HWNAS_ENOMEM;
}

int hwnas__engine_forward(hwnas__engine *e, const float *x, size_t n, int train, uint64_t step)
{
    if (n == 0 || n > e->batch_cap)
        return hwnas__error(HWNAS_EINVAL, "engine: batch of %zu samples, buffers for %zu", n,
                            e->batch_cap);
    /* sgemm calls come from our own workers: keep OpenBLAS from starting
     * threads of its own inside them (process-wide, idempotent). */
    openblas_set_num_threads(1);
    if (e->shared && e->mix != e->planned_mix)
        return hwnas__error(HWNAS_ESTATE, "engine: mixed edges attached after the buffers were "
                            "planned (call hwnas__engine_reserve again)");
    e->act = train ? e->act_train : e->act_infer;
    e->batch = n;
    e->train = train;
    e->step = step;
    double t_prev = e->node_ms ? e->node_clock() : 0;
    /* conv + batch-norm in one pass: inference, not while profiling nodes */
    int fold = !train && !e->node_ms;
    if (fold)
        memset(e->done, 0, e->n);
    for (size_t i = 0; i < e->n; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        if (nd->fused || (fold && e->done[i])) /* written by an input's pass */
            continue;
        if (e->alias && e->alias[i] != i) /* computed by its twin */
            continue;
        int mixed_rc;
        if (e->mix && hwnas__mix_forward(e, i, &mixed_rc)) { /* mixed.c */
            if (mixed_rc != HWNAS_OK)
                return mixed_rc;
            continue;
        }
        if (fold && nd->bn_after && nd->ops && nd->ops->conv_forward_affine) {
            int rc = hwnas__k_conv_bn_forward(e, i);
            if (rc == HWNAS_OK) {
                e->done[nd->bn_after] = 1;
                continue;
            }
            if (rc != HWNAS_EUNSUPPORTED)
                return rc;
        }
        int rc;
        switch (nd->kind) {
        case HWNAS_NET_INPUT:
            memcpy(e->act[i], x, n * nd->size * sizeof(float));
            rc = HWNAS_OK;
            break;
        case HWNAS_NET_CONV2D:
        case HWNAS_NET_DWCONV2D:
            rc = hwnas__k_conv_forward(e, i);
            break;
        case HWNAS_NET_LINEAR:
            rc = hwnas__k_linear_forward(e, i);
            break;
        default:
            rc = hwnas__k_forward(e, i);
            break;
        }
        if (rc != HWNAS_OK)
            return rc;
        if (e->node_ms) {
            double t = e->node_clock();
            e->node_ms[i] = (t - t_prev) * 1e3;
            t_prev = t;
        }
    }
    return HWNAS_OK;
}

int hwnas__engine_backward(hwnas__engine *e, const float *dlogits)
{
    if (!e->train)
        return hwnas__error(HWNAS_ESTATE, "engine: backward needs a training forward pass");
    return hwnas__engine_backward_walk(e, dlogits, NULL, NULL);
}

int hwnas__engine_backward_walk(hwnas__engine *e, const float *dlogits, hwnas__node_backward own,
                                void *ud)
{
    if (e->shared && !e->train) /* the inference plan kept no inputs */
        return hwnas__error(HWNAS_ESTATE, "engine: backward needs a training forward pass "
                            "(buffers shared by liveness)");
    size_t n = e->batch;
    memset(e->dinit, 0, e->n);
    memcpy(e->dact[e->logits], dlogits, n * e->nodes[e->logits].size * sizeof(float));
    e->dinit[e->logits] = 1;
    for (size_t k = e->logits + 1; k-- > 0;) {
        const hwnas__eng_node *nd = &e->nodes[k];
        if (nd->kind == HWNAS_NET_INPUT)
            continue;
        if (!e->dinit[k]) /* no consumer: a zero gradient */
            memset(e->dact[k], 0, n * nd->size * sizeof(float));
        e->dinit[k] = 1;
        int rc = HWNAS_OK;
        if ((e->mix && hwnas__mix_backward(e, k, &rc)) || (own && own(ud, k, &rc))) {
            if (rc != HWNAS_OK)
                return rc;
            continue;
        }
        if (nd->fused) { /* its batch-norm input reads dact[k] and act[k] */
            int acc;
            hwnas__k_dx(e, k, 0, &acc);
            continue;
        }
        switch (nd->kind) {
        case HWNAS_NET_CONV2D:
        case HWNAS_NET_DWCONV2D:
            rc = hwnas__k_conv_backward(e, k);
            break;
        case HWNAS_NET_LINEAR:
            rc = hwnas__k_linear_backward(e, k);
            break;
        case HWNAS_NET_ACT:
            if (e->shared && act_reads_y_only(nd->a.fn)) {
                /* the input is not kept: its mask is the output's */
                float *x = e->act[nd->in[0]];
                e->act[nd->in[0]] = e->act[k];
                rc = hwnas__k_backward(e, k);
                e->act[nd->in[0]] = x;
                break;
            }
            rc = hwnas__k_backward(e, k);
            break;
        default:
            rc = hwnas__k_backward(e, k);
            break;
        }
        if (rc != HWNAS_OK)
            return rc;
    }
    /* parameters of nodes after the logits node (none today) get zero */
    for (size_t k = e->logits + 1; k < e->n; k++)
        memset(e->grads + e->nodes[k].p_off, 0, e->nodes[k].n_p * sizeof(float));
    return HWNAS_OK;
}

void hwnas__engine_loss(double *out_loss, size_t *out_correct, float *dlogits,
                        const hwnas__engine *e, const int32_t *labels, double eps)
{
    size_t n = e->batch, k = e->nodes[e->logits].size;
    const float *z = e->act[e->logits];
    double total = 0;
    size_t correct = 0;
    double off = eps / (double)k, on = 1.0 - eps + off;
    for (size_t s = 0; s < n; s++) {
        const float *zs = z + s * k;
        size_t arg = 0;
        for (size_t j = 1; j < k; j++)
            if (zs[j] > zs[arg])
                arg = j;
        correct += arg == (size_t)labels[s];
        double m = zs[arg], sum = 0;
        for (size_t j = 0; j < k; j++)
            sum += exp((double)zs[j] - m);
        double lse = m + log(sum), loss = 0;
        for (size_t j = 0; j < k; j++) {
            double q = j == (size_t)labels[s] ? on : off;
            loss += q * (lse - (double)zs[j]);
            if (dlogits)
                dlogits[s * k + j] = (float)((exp((double)zs[j] - lse) - q) / (double)n);
        }
        total += loss;
    }
    *out_loss = total / (double)n;
    *out_correct = correct;
}
