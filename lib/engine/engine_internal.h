/*
 * libhwnas engine - the fp32 training engine: a net compiled into buffers
 * and kernels. Not installed; not part of the ABI.
 *
 * Layout: every tensor is NCHW float for a batch of N samples (rank-2 nodes
 * are N x F). Parameters of all nodes live in one flat array (params), their
 * gradients in another of the same layout (grads); batch-norm running
 * statistics live in state. See doc/engine.md.
 *
 * Determinism: a batch of N samples is cut into hwnas__engine_chunks(N)
 * chunks, a number that depends on N only. Work runs per chunk (or per
 * channel) on any thread; cross-sample sums of parameter gradients are
 * formed per chunk and added in chunk order. Results therefore do not depend
 * on the thread count.
 */
#ifndef HWNAS_ENGINE_INTERNAL_H
#define HWNAS_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/core_internal.h"
#include "hwnas/net.h"
#include "net/net_internal.h"

/* Most chunks a batch is cut into (so most partial gradient slots). */
#define HWNAS__ENGINE_MAX_CHUNKS HWNAS__BE_MAX_CHUNKS

typedef struct hwnas__eng_node {
    int kind;                 /* HWNAS_NET_* */
    int rank;                 /* 4 or 2 */
    size_t c, h, w;           /* output shape of one sample (rank 2: h = w = 1) */
    size_t size;              /* c * h * w */
    hwnas__net_attrs a;       /* attributes, as in the IR */
    const uint32_t *in;       /* n_in input node indices (into the net's array) */
    size_t n_in;
    size_t p_off, n_p;        /* this node's parameters: params[p_off .. +n_p) */
    size_t s_off, n_s;        /* its running state: state[s_off .. +n_s) */
    size_t x_off;             /* its per-batch aux floats: aux[x_off ..) (bn mean, invstd) */
    const char *name;         /* borrowed from the net */
    /* batch-norm followed by its only consumer, a relu or relu6: the
     * batch-norm writes the activation's output directly (its own act is
     * left unwritten) and its backward applies the activation's mask; the
     * activation node does nothing itself (fused = 1). */
    size_t fused_act;         /* batch-norm: that activation node (0: none) */
    int fused;                /* the activation: run inside its batch-norm */
    /* convolutions: the backend that runs the node (the engine's, or the
     * reference when the engine's has no entry or refused the shape) and
     * its per-layer handle (NULL until reserve, or none needed) */
    const hwnas__backend_ops *ops;
    void *layer;
    /* convolution whose only consumer is this batch-norm (0: none): in
     * inference, a backend with conv_forward_affine runs both (and the
     * batch-norm's fused activation) in one pass */
    size_t bn_after;
} hwnas__eng_node;

typedef struct hwnas__engine {
    hwnas_context *ctx;          /* allocator and threads */
    const hwnas__backend_ops *be_ops; /* the context's engine= backend, never NULL */
    hwnas__backend *be;          /* its instance (NULL: it needs none) */
    const hwnas_net *net;        /* borrowed, not modified while the engine lives */
    hwnas__eng_node *nodes;      /* n, in the net's (topological) order */
    size_t n;
    size_t input;                /* index of the one input node */
    size_t output;               /* last node */
    size_t logits;               /* node the loss reads: output, or softmax's input */
    float *params, *grads;       /* n_params each */
    size_t n_params;
    float *state;                /* n_state: batch-norm running mean then var */
    size_t n_state;
    float *aux;                  /* n_aux per-batch floats (bn batch mean/invstd) */
    size_t n_aux;
    size_t max_node_params;      /* largest n_p of a node with chunk partials */
    /* buffers for batch_cap samples (0 = none yet), all in one arena laid
     * out by the memory plan (engine.c, "Memory plan" in doc/engine.md) */
    size_t batch_cap;
    float **act;                 /* act[i]: batch_cap * size floats; the pass's
                                  * view: act_train or act_infer */
    float **dact;                /* dact[i]: gradients of act[i] */
    uint8_t **mask;              /* dropout masks (NULL for other nodes) */
    /* share = 1 (set before hwnas__engine_reserve; hwnas_model does):
     * buffers whose lifetimes do not overlap share memory, so after a pass
     * only these hold their values: act[logits] and act[output] after any
     * forward pass, dact[input] after a backward pass, e->grads; the rest
     * is scratch. share = 0: every node keeps its own act and dact (callers
     * that read any node's buffers after a pass: zero-cost proxies, int8,
     * QAT, the latency profiler, tests). */
    int share;
    int shared;                  /* share as the buffers were planned */
    const void *planned_mix;     /* e->mix as the buffers were planned */
    float *arena;                /* arena_size floats */
    size_t arena_size;
    float **act_train, **act_infer; /* share = 0: one array (act_infer == act_train) */
    /* share = 1: alias[i] = an earlier activation node computing the same
     * function of the same input (act[i] is its buffer; forward skips i),
     * else i. NULL with share = 0. */
    size_t *alias;
    uint8_t *dinit;              /* dact[i] written by some consumer this pass */
    uint8_t *done;               /* inference: act[i] already written by a fused pass */
    float *affine;               /* 2 * max_c floats: a folded batch-norm's scale, shift */
    size_t max_c;                /* most channels of a node */
    float *partial;              /* MAX_CHUNKS * max_node_params floats */
    size_t n_workers;            /* scratch sets allocated (threads of ctx) */
    float **col;                 /* per worker: col_size floats */
    size_t col_size;
    /* the pass being run */
    size_t batch;                /* samples in the current pass */
    int train;                   /* 1: batch statistics, dropout; 0: inference */
    int need_input_grad;         /* compute dact of the input node too (tests) */
    uint64_t seed, step;         /* dropout stream: (seed, step, node, sample) */
    float bn_momentum, bn_eps;   /* 0.1, 1e-5 as PyTorch */
    /* per-node timer (latency LUT profiler); node_ms NULL: off. Else
     * forward stores in node_ms[i] the ms node_clock (seconds) measured
     * across each node it runs; fused nodes' slots are left as they are. */
    double *node_ms;
    double (*node_clock)(void);
    /* mixed edges of a differentiable search (mixed.c); NULL: none */
    struct hwnas__eng_mix *mix;
} hwnas__engine;

/* Compile net (borrowed for the engine's life) and initialise parameters
 * from seed (He normal for weights, 0 for biases, 1/0 for batch-norm, 0.25
 * for prelu). Errors: HWNAS_EINVAL, HWNAS_EUNSUPPORTED (a node kind the
 * engine cannot run, or not exactly one input node: the message names the
 * node), HWNAS_ENOMEM. */
int hwnas__engine_new(hwnas__engine **out, hwnas_context *ctx, const hwnas_net *net,
                      uint64_t seed);
void hwnas__engine_free(hwnas__engine *e);

/* How convolution and linear layers are initialised. */
enum {
    HWNAS__INIT_HE = 0,      /* weights N(0, 2 / fan_in), biases 0 */
    HWNAS__INIT_UNIFORM = 1  /* weights and biases U(-1/sqrt(fan_in), +1/sqrt(fan_in)):
                              * PyTorch's default (kaiming_uniform, a = sqrt(5)) */
};

/* Re-initialise every parameter and running statistic from seed, with
 * scheme HWNAS__INIT_* for convolution and linear layers. */
void hwnas__engine_init_params(hwnas__engine *e, uint64_t seed, int scheme);

/* Make buffers for batches of up to n samples. Errors: HWNAS_ENOMEM (the
 * engine keeps its previous buffers). */
int hwnas__engine_reserve(hwnas__engine *e, size_t n);

/* Forward pass of n <= batch_cap samples x (n * input size floats). train
 * selects batch statistics and dropout (whose masks come from (seed, step)).
 * The result is e->act[e->output]. */
int hwnas__engine_forward(hwnas__engine *e, const float *x, size_t n, int train,
                          uint64_t step);

/* Backward pass after a training forward: dlogits (batch * size of the
 * logits node) is the loss gradient at e->logits. Fills e->grads. */
int hwnas__engine_backward(hwnas__engine *e, const float *dlogits);

/* The same walk over the nodes, with a caller's own backward step: own
 * returns 1 when it did node k (its status in *rc), 0 to leave node k to
 * the engine. Fine-tuning through int8 layers (qat.c) uses it. */
typedef int (*hwnas__node_backward)(void *ud, size_t k, int *rc);
int hwnas__engine_backward_walk(hwnas__engine *e, const float *dlogits, hwnas__node_backward own,
                                void *ud);

/* Softmax cross-entropy with label smoothing eps over the logits of the
 * last forward: returns the mean loss into *out_loss, the number of correct
 * arg-max predictions into *out_correct, and (if dlogits) the gradient of
 * the mean loss. */
void hwnas__engine_loss(double *out_loss, size_t *out_correct, float *dlogits,
                        const hwnas__engine *e, const int32_t *labels, double eps);

/* Number of chunks a batch of n samples is cut into (a function of n only:
 * see "Determinism" above), and chunk c's range [lo, hi). Inline: the
 * kernels call them per task. */
static inline size_t hwnas__engine_chunks(size_t n)
{
    return hwnas__be_chunks(n);
}

static inline void hwnas__engine_chunk_range(size_t n, size_t c, size_t *lo, size_t *hi)
{
    hwnas__be_chunk_range(n, c, lo, hi);
}

/* ---- kernels (kernels.c) ---------------------------------------------- */

/* Each runs one node over the current batch through the backend; inputs
 * are act[in[j]]. Errors name the node. */
int hwnas__k_conv_forward(hwnas__engine *e, size_t i);
int hwnas__k_conv_backward(hwnas__engine *e, size_t i);
/* Inference: conv node i and its batch-norm bn_after (and that one's
 * fused activation) in one pass of the backend's conv_forward_affine.
 * HWNAS_EUNSUPPORTED (no message): run them apart. */
int hwnas__k_conv_bn_forward(hwnas__engine *e, size_t i);
int hwnas__k_linear_forward(hwnas__engine *e, size_t i);
int hwnas__k_linear_backward(hwnas__engine *e, size_t i);
int hwnas__k_forward(hwnas__engine *e, size_t i);  /* every other kind */
int hwnas__k_backward(hwnas__engine *e, size_t i);

/* The dact buffer of input j of node i for writing: returns NULL when that
 * input needs no gradient; *acc is 1 when the kernel must add to it, 0 when
 * it must overwrite it. Call once per input, in order, before the kernel
 * runs. */
float *hwnas__k_dx(hwnas__engine *e, size_t i, size_t j, int *acc); /* kernels.c */

/* The backend's view of conv node i. */
void hwnas__k_conv_shape(hwnas__be_conv *out, const hwnas__engine *e, size_t i);

/* The pass being run, as the backend sees it. */
void hwnas__k_run(hwnas__be_run *out, hwnas__engine *e);

/* ---- mixed edges (mixed.c) ------------------------------------------- */

/* A differentiable search weights the terms of some add nodes: node
 * y = sum_q w[coef[q]] * x_q, the coefficients w set by the caller per
 * step, d loss / d w accumulated (in double, over the batch) into dw.
 * Nodes that only feed one term (its private chain) are skipped, forward
 * and backward, while that term's coefficient is exactly 0, skip_zero is
 * set and keep is not (a one-hot or one-path step computes only the chosen ops). The
 * IR knows nothing of it: the engine calls the hooks below for every
 * node. */
typedef struct hwnas__eng_mix hwnas__eng_mix;

/* A mix for e's nodes (none mixed yet); attach it with e->mix = mix. */
int hwnas__mix_new(hwnas__eng_mix **out, hwnas__engine *e, size_t n_coef);
void hwnas__mix_free(hwnas__eng_mix *m);
/* Make add node `node` mixed, input q weighted by w[coef[q]] (coef[q] <
 * n_coef; -1: weight 1). Call for every mixed node, then
 * hwnas__mix_seal. Errors: HWNAS_EINVAL (not an add node, a coefficient
 * out of range), HWNAS_ENOMEM. */
int hwnas__mix_set_node(hwnas__eng_mix *m, size_t node, const int32_t *coef);
/* Work out the private chains of the terms. */
int hwnas__mix_seal(hwnas__eng_mix *m);
/* The coefficients (n_coef floats, the caller writes them), the gradient
 * accumulator (n_coef doubles, the caller clears it) and skip_zero. */
float *hwnas__mix_w(hwnas__eng_mix *m);
double *hwnas__mix_dw(hwnas__eng_mix *m);
void hwnas__mix_skip_zero(hwnas__eng_mix *m, int on);
/* Per coefficient (the caller writes, 0 at start): 1 keeps its term
 * computed at weight 0, for d loss / d w (ProxylessNAS' second path). */
uint8_t *hwnas__mix_keep(hwnas__eng_mix *m);
/* The coefficient whose term node i alone feeds (-1: none). */
int32_t hwnas__mix_owner(const hwnas__eng_mix *m, size_t i);
/* Engine hooks: 1 when the mix ran node i (status in *rc), 0 to leave it
 * to the engine. */
int hwnas__mix_forward(hwnas__engine *e, size_t i, int *rc);
int hwnas__mix_backward(hwnas__engine *e, size_t i, int *rc);

/* ---- optimiser (optim.c) ---------------------------------------------- */

/* One SGD step over n parameters (PyTorch's semantics: g = grad + wd * w;
 * v = momentum * v + g; step = nesterov ? g + momentum * v : v; w -= lr *
 * step). */
void hwnas__sgd_step(float *w, float *v, const float *grad, size_t n, double lr,
                     double momentum, double weight_decay, int nesterov);

/* Learning rate at step t (0-based) of total steps: linear warm-up over
 * warmup steps, then the schedule (0 constant, 1 cosine to 0 over the
 * remaining steps, 2 step: times gamma every step_every steps). */
double hwnas__lr_at(double lr, int schedule, uint64_t t, uint64_t total, uint64_t warmup,
                    uint64_t step_every, double gamma);

#endif /* HWNAS_ENGINE_INTERNAL_H */
