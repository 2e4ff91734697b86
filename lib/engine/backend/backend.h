/*
 * libhwnas engine backends - the layer kernels of the fp32 engine behind
 * one table: convolution (forward, backward-data, backward-weights),
 * linear, pooling, batch-norm and activations. Not installed; not part of
 * the ABI.
 *
 * A backend sees tensors and shapes, never the IR: every tensor is NCHW
 * float for n samples (rank-2 tensors are n x F), parameters are in the
 * engine's flat layout (convolution weights [cout][cin/groups][kh][kw]
 * then the bias; linear [out][in] then the bias). What a backend keeps
 * between calls (primitives, blocked layouts, packed weights) lives in a
 * per-layer handle it creates.
 *
 * Determinism (the library's rule: the same results at any thread count):
 * a batch of n samples is cut into hwnas__be_chunks(n) chunks, a number
 * that depends on n only; a backend runs one chunk at a time on one thread
 * (one task of hwnas_parallel_for per chunk, or per channel, or per fixed
 * block of rows) and forms cross-sample sums of parameter gradients per
 * chunk, added in chunk order. It never lets a library of its own choose a
 * thread count.
 *
 * The reference backend ("openblas": im2col + cblas_sgemm, direct loops)
 * implements every entry; another backend fills the entries it does
 * better and leaves the others NULL, which the engine then takes from the
 * reference.
 */
#ifndef HWNAS_ENGINE_BACKEND_H
#define HWNAS_ENGINE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "hwnas/net.h" /* HWNAS_NET_ACT_*: the activation functions */

/* Most chunks a batch is cut into (so most partial gradient slots). */
#define HWNAS__BE_MAX_CHUNKS 16

/* Number of chunks a batch of n samples is cut into (a function of n
 * only), and chunk c's range [lo, hi). */
static inline size_t hwnas__be_chunks(size_t n)
{
    return n < HWNAS__BE_MAX_CHUNKS ? n : HWNAS__BE_MAX_CHUNKS;
}

static inline void hwnas__be_chunk_range(size_t n, size_t c, size_t *lo, size_t *hi)
{
    size_t nc = hwnas__be_chunks(n);
    *lo = c * n / nc;
    *hi = (c + 1) * n / nc;
}

/* Samples in the largest chunk of a batch of up to cap samples. */
static inline size_t hwnas__be_max_chunk(size_t cap)
{
    size_t nc = hwnas__be_chunks(cap);
    return (cap + nc - 1) / nc;
}

/* ---- shapes ------------------------------------------------------------ */

typedef struct hwnas__be_conv {
    size_t cin, h, w;          /* input of one sample */
    size_t cout, oh, ow;       /* output of one sample */
    size_t groups;             /* cin and cout are multiples of it */
    size_t kh, kw, sh, sw;     /* kernel, stride (>= 1) */
    size_t ph, pw, dh, dw;     /* padding on each side, dilation (>= 1) */
    int bias;                  /* a bias of cout follows the weights */
} hwnas__be_conv;

typedef struct hwnas__be_pool {
    size_t c, h, w, oh, ow;    /* channels, input and output plane */
    size_t kh, kw, sh, sw, ph, pw;
    int max;                   /* 1 max (first maximum wins), 0 average
                                * (padding left out of the divisor) */
} hwnas__be_pool;

/* Activation functions of a fused batch-norm. */
enum { HWNAS__BE_ACT_NONE = 0, HWNAS__BE_ACT_RELU = 1, HWNAS__BE_ACT_RELU6 = 2 };

typedef struct hwnas__be_bn {
    size_t c, hw;              /* channels, positions per channel and sample */
    int act;                   /* HWNAS__BE_ACT_*: relu or relu6 applied to
                                * the output (y is then the activation's) */
    float momentum, eps;       /* running statistics' momentum; epsilon */
} hwnas__be_bn;

typedef struct hwnas__be_act {
    size_t c, hw;              /* channels, positions (rank 2: hw = 1) */
    int fn;                    /* HWNAS_NET_ACT_* (prelu: slopes per channel) */
    float alpha;               /* elu, leaky_relu */
} hwnas__be_act;

/* ---- one pass ------------------------------------------------------------- */

/* What a kernel call runs with: threads, the batch, scratch. */
typedef struct hwnas__be_run {
    hwnas_context *ctx;        /* threads (hwnas_parallel_for) and allocator */
    size_t n;                  /* samples in this pass (1 .. batch_cap) */
    int train;                 /* 1: training (batch statistics; a backward follows) */
    float *const *scratch;     /* per worker of ctx: scratch_size floats */
    size_t scratch_size;
    float *partial;            /* HWNAS__BE_MAX_CHUNKS slots of partial_stride floats */
    size_t partial_stride;     /* >= the parameters of any layer with chunk partials,
                                * and HWNAS__BE_BN_PARTIAL(c) for a batch-norm of c
                                * channels (else the reference's batch-norm fails
                                * with HWNAS_EINVAL) */
} hwnas__be_run;

/* Floats of a chunk's partial slot the reference's batch-norm uses for c
 * channels (2 c double sums, aligned). */
#define HWNAS__BE_BN_PARTIAL(c) (4 * (size_t)(c) + 2)

/* grads[0..n) = sum of slot c of r->partial over chunks c < chunks, in chunk
 * order. */
void hwnas__be_reduce_partials(float *grads, const hwnas__be_run *r, size_t n, size_t chunks);

/* ---- the table ------------------------------------------------------------ */

typedef struct hwnas__backend hwnas__backend; /* a backend instance (its engine's) */

typedef struct hwnas__backend_ops {
    const char *name;          /* the context's engine= value: "openblas", "onednn" */

    /* A backend instance for one engine; NULL create means none needed. */
    int (*create)(hwnas__backend **out, hwnas_context *ctx);
    void (*destroy)(hwnas__backend *be);

    /* Per convolution layer: a handle for batches of up to batch_cap
     * samples and ctx's threads (NULL conv_new: no state). HWNAS_EUNSUPPORTED
     * (no message needed) leaves the layer to the reference; it must
     * depend on the shape only. */
    int (*conv_new)(void **out, hwnas__backend *be, const hwnas__be_conv *g, size_t batch_cap,
                    size_t workers);
    void (*conv_free)(hwnas__backend *be, void *layer);
    /* Floats of the engine's per-worker scratch a convolution needs. */
    size_t (*conv_scratch)(const hwnas__be_conv *g, size_t batch_cap);
    /* y = conv(x, w) + b */
    int (*conv_forward)(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                        const hwnas__be_conv *g, const float *x, const float *w, float *y);
    /* Inference only (optional): y = act(scale[c] * conv(x, w) + shift[c]),
     * the layer's own bias left out (the caller folds it into shift): a
     * convolution, the batch-norm on running statistics that is its only
     * consumer and that one's fused relu / relu6 (act: HWNAS__BE_ACT_*) in
     * one pass. HWNAS_EUNSUPPORTED (no message needed): the caller runs
     * them apart. */
    int (*conv_forward_affine)(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                               const hwnas__be_conv *g, const float *x, const float *w,
                               const float *scale, const float *shift, int act, float *y);
    /* dW (and db) into dwb (weights then bias, overwritten) from x and dy;
     * dx (+)= the input gradient when dx is not NULL (acc: add). Backward-
     * data and backward-weights in one call: the reference shares its
     * column matrix between them. */
    int (*conv_backward)(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                         const hwnas__be_conv *g, const float *x, const float *w,
                         const float *dy, float *dx, int acc, float *dwb);

    /* y[n x out] = x[n x f] W^T + b */
    int (*linear_forward)(const hwnas__be_run *r, size_t f, size_t out, const float *x,
                          const float *w, const float *b, float *y);
    /* dW, db (overwritten; db may be NULL); dx (+)= dy W when not NULL */
    int (*linear_backward)(const hwnas__be_run *r, size_t f, size_t out, const float *x,
                           const float *w, const float *dy, float *dx, int acc, float *dw,
                           float *db);

    int (*pool_forward)(const hwnas__be_run *r, const hwnas__be_pool *g, const float *x,
                        float *y);
    int (*pool_backward)(const hwnas__be_run *r, const hwnas__be_pool *g, const float *x,
                         const float *dy, float *dx, int acc);

    /* Training: batch statistics into aux (mean[c] then invstd[c]) and the
     * running statistics (running: mean[c] then var[c]) updated; else the
     * running statistics. gb: gamma[c] then beta[c]. */
    int (*bn_forward)(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x, float *y,
                      const float *gb, float *running, float *aux);
    /* y, dy: the output and its gradient (of the fused activation when
     * there is one); dgb: dgamma then dbeta (overwritten). */
    int (*bn_backward)(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x,
                       const float *y, const float *dy, const float *gb, const float *aux,
                       float *dx, int acc, float *dgb);

    /* slope: prelu's per-channel slopes (NULL for other functions) */
    int (*act_forward)(const hwnas__be_run *r, const hwnas__be_act *g, const float *x, float *y,
                       const float *slope);
    /* dslope: prelu's slope gradient (overwritten) */
    int (*act_backward)(const hwnas__be_run *r, const hwnas__be_act *g, const float *x,
                        const float *y, const float *dy, const float *slope, float *dx, int acc,
                        float *dslope);
} hwnas__backend_ops;

/* The reference backend: every entry. */
extern const hwnas__backend_ops hwnas__backend_openblas;

/* The oneDNN backend, or NULL when the library was built without it. */
const hwnas__backend_ops *hwnas__backend_onednn(void);

/* Backends by the context's engine option: auto picks the fastest one
 * built in (onednn when there, else openblas). Errors: HWNAS_EUNSUPPORTED
 * (a backend this build lacks: the message says so). */
int hwnas__backend_pick(const hwnas__backend_ops **out, const hwnas_context *ctx);

#endif /* HWNAS_ENGINE_BACKEND_H */
