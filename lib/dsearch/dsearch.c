/* Differentiable search (include/hwnas/dsearch.h, doc/dsearch.md): the
 * full cell supernet with its cell sums weighted through the engine's mixed
 * edges (lib/engine/mixed.c), alpha and its Adam, the alternating
 * weight/architecture steps, the cost table, derive, the lambda sweep and
 * the checkpoint a killed run resumes from. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dsearch_internal.h"
#include "engine/model_internal.h"
#include "hwnas/data.h"
#include "hwnas/dsearch.h"
#include "supernet/supernet_internal.h"

enum {
    OPT_METHOD, OPT_COST, OPT_LAMBDA, OPT_EPOCHS, OPT_BATCH, OPT_CHANNELS, OPT_CELLS, OPT_SEED,
    OPT_W_LR, OPT_W_MOM, OPT_W_WD, OPT_W_CLIP, OPT_A_LR, OPT_A_WD, OPT_B1, OPT_B2, OPT_TAU_MAX,
    OPT_TAU_MIN, OPT_SKIP_CAP, OPT_CALIB, OPT_EVAL, OPT_RETRAIN, OPT_EVERY, OPT_FORM, OPT_GAMMA,
    OPT_TARGET, OPT_XI, OPT_LUT, OPT_HARDWARE, OPT_ACCEL_OPTIONS
};

static const hwnas__option_spec ds_options[] = {
    [OPT_METHOD] = {"method", HWNAS_OPTION_ENUM, "darts", 0, 0,
                    "darts|gdas|fbnet|proxyless|darts2",
                    "darts: softmax-weighted sum (first order), darts2: second order; gdas: "
                    "Gumbel one-hot; fbnet: Gumbel-softmax weights; proxyless: one sampled path"},
    [OPT_COST] = {"cost", HWNAS_OPTION_ENUM, "macs", 0, 0,
                  "none|macs|params|latency|energy|cycles",
                  "hardware cost per (edge, operation) in the loss"},
    [OPT_LAMBDA] = {"lambda", HWNAS_OPTION_STRING, "0", 0, 0, NULL,
                    "weights of the cost term, comma-separated: one run per value"},
    [OPT_EPOCHS] = {"epochs", HWNAS_OPTION_INT, "10", 1, 100000, NULL, "search epochs"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "64", 1, 65536, NULL, "samples per mini-batch"},
    [OPT_CHANNELS] = {"channels", HWNAS_OPTION_INT, "8", 1, 64, NULL,
                      "supernet channels of the first stage"},
    [OPT_CELLS] = {"cells", HWNAS_OPTION_INT, "1", 1, 8, NULL, "cells per stage"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "weights, alpha, split, data order and Gumbel noise"},
    [OPT_W_LR] = {"w_lr", HWNAS_OPTION_FLOAT, "0.025", 0, 1000, NULL,
                  "weights' SGD learning rate (cosine to 0)"},
    [OPT_W_MOM] = {"w_momentum", HWNAS_OPTION_FLOAT, "0.9", 0, 1, NULL, "weights' momentum"},
    [OPT_W_WD] = {"w_wd", HWNAS_OPTION_FLOAT, "3e-4", 0, 1, NULL, "weights' weight decay"},
    [OPT_W_CLIP] = {"w_clip", HWNAS_OPTION_FLOAT, "5", 0, 1e12, NULL,
                    "gradient norm clip of the weights (0: none)"},
    [OPT_A_LR] = {"a_lr", HWNAS_OPTION_FLOAT, "3e-4", 0, 1000, NULL, "alpha's Adam learning rate"},
    [OPT_A_WD] = {"a_wd", HWNAS_OPTION_FLOAT, "1e-3", 0, 1, NULL, "alpha's weight decay"},
    [OPT_B1] = {"a_beta1", HWNAS_OPTION_FLOAT, "0.5", 0, 0.999999, NULL, "alpha's Adam beta1"},
    [OPT_B2] = {"a_beta2", HWNAS_OPTION_FLOAT, "0.999", 0, 0.999999, NULL, "alpha's Adam beta2"},
    [OPT_TAU_MAX] = {"tau_max", HWNAS_OPTION_FLOAT, "10", 1e-6, 1e6, NULL,
                     "GDAS: temperature at the first step"},
    [OPT_TAU_MIN] = {"tau_min", HWNAS_OPTION_FLOAT, "0.1", 1e-6, 1e6, NULL,
                     "GDAS: temperature at the last step (linear schedule)"},
    [OPT_SKIP_CAP] = {"skip_cap", HWNAS_OPTION_INT, "-1", -1, 6, NULL,
                      "most skip connections in the derived cell (-1: no cap)"},
    [OPT_CALIB] = {"calibration", HWNAS_OPTION_INT, "512", 1, 1e9, NULL,
                   "images recalibrating the derived net's batch-norms"},
    [OPT_EVAL] = {"evaluation", HWNAS_OPTION_INT, "1000", 0, 1e9, NULL,
                  "eval images rating the derived net (0: all)"},
    [OPT_RETRAIN] = {"retrain", HWNAS_OPTION_INT, "0", 0, 100000, NULL,
                     "epochs training each derived net from scratch (0: none)"},
    [OPT_EVERY] = {"checkpoint_every", HWNAS_OPTION_INT, "50", 1, 1e12, NULL,
                   "steps between checkpoints (and one per epoch)"},
    [OPT_FORM] = {"form", HWNAS_OPTION_ENUM, "add", 0, 0, "add|mul|target",
                  "add: CE + lambda E/max; mul: CE * lambda * log(E)^gamma (FBNet); target: "
                  "CE + lambda max(0, E/target - 1)"},
    [OPT_GAMMA] = {"gamma", HWNAS_OPTION_FLOAT, "0.6", 0, 100, NULL,
                   "form=mul: the exponent of log(E)"},
    [OPT_TARGET] = {"target", HWNAS_OPTION_FLOAT, "0", 0, 1e300, NULL,
                    "form=target: the cost (in the source's unit) above which it is penalised"},
    [OPT_XI] = {"xi", HWNAS_OPTION_FLOAT, "-1", -1, 1000, NULL,
                "darts2: the virtual step's learning rate (-1: w_lr)"},
    [OPT_LUT] = {"lut", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                 "cost=latency: a latency table file (empty: profile this host once into "
                 "OUT/latency.lut)"},
    [OPT_HARDWARE] = {"hardware", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                      "cost=energy|cycles: the accelerator description (.hw)"},
    [OPT_ACCEL_OPTIONS] = {"accel_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                           "cost=energy|cycles: hwnas_accel_run's options"},
};

const hwnas__kind hwnas__dsearch_kind = {
    "dsearch", ds_options, HWNAS_ARRAY_SIZE(ds_options), NULL,
};

static const char *const method_names[] = {"darts", "gdas", "fbnet", "proxyless", "darts2"};
static const char *const cost_names[] = {"none", "macs", "params", "latency", "energy", "cycles"};
static const char *const form_names[] = {"add", "mul", "target"};

static int copy_str(char *dst, size_t size, const char *src, const char *key)
{
    if (strlen(src) >= size)
        return hwnas__error(HWNAS_EINVAL, "dsearch: option %s is longer than %zu bytes", key,
                            size - 1);
    memcpy(dst, src, strlen(src) + 1);
    return HWNAS_OK;
}

int hwnas__ds_read_config(hwnas__ds_config *c, hwnas_context *ctx, const char *text)
{
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &hwnas__dsearch_kind, text);
    if (rc != HWNAS_OK)
        return rc;
    memset(c, 0, sizeof *c);
    c->method = (int)hwnas__options_int(o, OPT_METHOD);
    c->cost = (int)hwnas__options_int(o, OPT_COST);
    c->epochs = hwnas__options_int(o, OPT_EPOCHS);
    c->batch = hwnas__options_int(o, OPT_BATCH);
    c->channels = hwnas__options_int(o, OPT_CHANNELS);
    c->cells = hwnas__options_int(o, OPT_CELLS);
    c->seed = hwnas__options_int(o, OPT_SEED);
    c->w_lr = hwnas__options_float(o, OPT_W_LR);
    c->w_mom = hwnas__options_float(o, OPT_W_MOM);
    c->w_wd = hwnas__options_float(o, OPT_W_WD);
    c->w_clip = hwnas__options_float(o, OPT_W_CLIP);
    c->a_lr = hwnas__options_float(o, OPT_A_LR);
    c->a_wd = hwnas__options_float(o, OPT_A_WD);
    c->b1 = hwnas__options_float(o, OPT_B1);
    c->b2 = hwnas__options_float(o, OPT_B2);
    c->tau_max = hwnas__options_float(o, OPT_TAU_MAX);
    c->tau_min = hwnas__options_float(o, OPT_TAU_MIN);
    c->skip_cap = hwnas__options_int(o, OPT_SKIP_CAP);
    c->calibration = hwnas__options_int(o, OPT_CALIB);
    c->evaluation = hwnas__options_int(o, OPT_EVAL);
    c->retrain = hwnas__options_int(o, OPT_RETRAIN);
    c->every = hwnas__options_int(o, OPT_EVERY);
    c->form = (int)hwnas__options_int(o, OPT_FORM);
    c->gamma = hwnas__options_float(o, OPT_GAMMA);
    c->target = hwnas__options_float(o, OPT_TARGET);
    c->xi = hwnas__options_float(o, OPT_XI);
    if (c->xi < 0)
        c->xi = c->w_lr;
    rc = copy_str(c->lut, sizeof c->lut, hwnas__options_str(o, OPT_LUT), "lut");
    if (rc == HWNAS_OK)
        rc = copy_str(c->hardware, sizeof c->hardware, hwnas__options_str(o, OPT_HARDWARE),
                      "hardware");
    if (rc == HWNAS_OK)
        rc = copy_str(c->accel_options, sizeof c->accel_options,
                      hwnas__options_str(o, OPT_ACCEL_OPTIONS), "accel_options");
    if (rc == HWNAS_OK && c->form == HWNAS__DS_FORM_TARGET && !(c->target > 0))
        rc = hwnas__error(HWNAS_EINVAL, "dsearch: form=target needs target > 0 (the cost above "
                          "which the loss grows, in the cost source's unit)");
    if (rc == HWNAS_OK && c->form != HWNAS__DS_FORM_ADD && c->cost == HWNAS__DS_COST_NONE)
        rc = hwnas__error(HWNAS_EINVAL, "dsearch: form=%s needs a cost source (cost=none)",
                          form_names[c->form]);
    const char *l = hwnas__options_str(o, OPT_LAMBDA);
    const char *p = l;
    while (rc == HWNAS_OK) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || v < 0 || (*end && *end != ','))
            rc = hwnas__error(HWNAS_EINVAL, "dsearch: option lambda=\"%s\": expected "
                              "comma-separated finite values >= 0 at \"%s\"", l, p);
        else if (c->n_lambda == HWNAS__DS_MAX_LAMBDA)
            rc = hwnas__error(HWNAS_EINVAL, "dsearch: option lambda=\"%s\": at most %d values",
                              l, HWNAS__DS_MAX_LAMBDA);
        else
            c->lambda[c->n_lambda++] = v;
        if (rc != HWNAS_OK || !*end)
            break;
        p = end + 1;
    }
    hwnas_options_free(o);
    return rc;
}

void hwnas__ds_config_text(char *buf, size_t size, const hwnas__ds_config *c, double lambda)
{
    snprintf(buf, size,
             "method=%s;cost=%s;lambda=%.17g;epochs=%lld;batch=%lld;channels=%lld;cells=%lld;"
             "seed=%lld;w_lr=%.17g;w_momentum=%.17g;w_wd=%.17g;w_clip=%.17g;a_lr=%.17g;"
             "a_wd=%.17g;a_beta1=%.17g;a_beta2=%.17g;tau_max=%.17g;tau_min=%.17g;form=%s;"
             "gamma=%.17g;target=%.17g;xi=%.17g;lut=%s;hardware=%s;accel_options=%s",
             method_names[c->method], cost_names[c->cost], lambda, (long long)c->epochs,
             (long long)c->batch, (long long)c->channels, (long long)c->cells,
             (long long)c->seed, c->w_lr, c->w_mom, c->w_wd, c->w_clip, c->a_lr, c->a_wd, c->b1,
             c->b2, c->tau_max, c->tau_min, form_names[c->form], c->gamma, c->target, c->xi,
             c->lut, c->hardware, c->accel_options);
}

/* ---- the run's state -------------------------------------------------- */

void hwnas__ds_run_free(hwnas__ds_run *r)
{
    if (!r)
        return;
    if (r->sn && r->sn->full)
        r->sn->full->eng->mix = NULL;
    hwnas__mix_free(r->mix);
    hwnas_supernet_free(r->sn);
    hwnas__free(r->ctx, r->velocity);
    hwnas__free(r->ctx, r->traj);
    hwnas__free(r->ctx, r);
}

/* The mix on the supernet's engine: every cell sum weighted by its
 * (edge, operation) coefficient. */
static int attach_mix(hwnas__ds_run *r)
{
    size_t nodes[64];
    int32_t coef[64][HWNAS__SN_MAX_TERMS];
    size_t n = hwnas__sn_mixed_sums(r->sn, nodes, coef, 64);
    if (n != (size_t)(9 * r->sn->cfg.cells) || n > 64)
        return hwnas__error(HWNAS_EINVAL, "dsearch: the supernet has %zu cell sums, expected %lld",
                            n, (long long)(9 * r->sn->cfg.cells));
    hwnas__engine *e = r->sn->full->eng;
    int rc = hwnas__mix_new(&r->mix, e, HWNAS__DS_COEF);
    for (size_t k = 0; rc == HWNAS_OK && k < n; k++)
        rc = hwnas__mix_set_node(r->mix, nodes[k], coef[k]);
    if (rc == HWNAS_OK)
        rc = hwnas__mix_seal(r->mix);
    if (rc == HWNAS_OK)
        e->mix = r->mix;
    return rc;
}

/* A fresh run: supernet, alpha ~ 1e-3 N(0, 1) as DARTS, zero optimiser
 * state. */
int hwnas__ds_run_new(hwnas__ds_run **out, hwnas_context *ctx, const hwnas__ds_config *c,
                      double lambda, const hwnas__ds_shape *shape, hwnas_supernet *sn)
{
    *out = NULL;
    hwnas__ds_run *r = hwnas__calloc(ctx, 1, sizeof *r);
    if (!r) {
        hwnas_supernet_free(sn);
        return HWNAS_ENOMEM;
    }
    r->ctx = ctx;
    r->lambda = lambda;
    int rc = HWNAS_OK;
    if (sn) {
        r->sn = sn;
    } else {
        char opts[512];
        snprintf(opts, sizeof opts,
                 "channels=%lld;cells=%lld;classes=%zu;input_channels=%zu;input_size=%zu;"
                 "seed=%lld",
                 (long long)c->channels, (long long)c->cells, shape->classes, shape->channels,
                 shape->size, (long long)c->seed);
        rc = hwnas_supernet_new(&r->sn, ctx, "cell", opts);
        hwnas__rng g;
        hwnas__rng_seed(&g, (uint64_t)c->seed, UINT64_C(0xA1FA));
        for (size_t k = 0; k < HWNAS__DS_COEF; k++)
            r->alpha[k] = 1e-3 * hwnas__rng_normal(&g);
    }
    if (rc == HWNAS_OK)
        rc = attach_mix(r);
    if (rc == HWNAS_OK) {
        r->n_params = r->sn->full->eng->n_params;
        r->velocity = hwnas__calloc(ctx, r->n_params ? r->n_params : 1, sizeof *r->velocity);
        if (!r->velocity)
            rc = HWNAS_ENOMEM;
    }
    if (rc != HWNAS_OK) {
        hwnas__ds_run_free(r);
        return rc;
    }
    *out = r;
    return HWNAS_OK;
}

/* ---- cost table --------------------------------------------------------- */

/* cost[edge * OPS + op]: the cost of the nodes that operation alone runs,
 * summed over the cells; skip_connect and none cost nothing. */
void hwnas__ds_cost_table(double *cost, const hwnas__ds_run *r, int which)
{
    const hwnas_net *net = r->sn->full_net;
    for (size_t k = 0; k < HWNAS__DS_COEF; k++)
        cost[k] = 0;
    for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
        int32_t o = hwnas__mix_owner(r->mix, i);
        if (o < 0)
            continue;
        cost[o] += which == HWNAS__DS_COST_PARAMS ? (double)hwnas_net_node_params(net, i)
                                                  : (double)hwnas_net_node_macs(net, i);
    }
}

/* ---- one step ----------------------------------------------------------- */

static void softmax_edge(double *p, const double *a, double scale)
{
    double m = a[0];
    for (int k = 1; k < HWNAS__SN_OPS; k++)
        m = a[k] > m ? a[k] : m;
    double s = 0;
    for (int k = 0; k < HWNAS__SN_OPS; k++)
        s += p[k] = exp((a[k] - m) * scale);
    for (int k = 0; k < HWNAS__SN_OPS; k++)
        p[k] /= s;
}

void hwnas__ds_probs(double *p, const double *alpha)
{
    for (int e = 0; e < HWNAS__SN_EDGES; e++)
        softmax_edge(p + e * HWNAS__SN_OPS, alpha + e * HWNAS__SN_OPS, 1.0);
}

static double tau_at(const hwnas__ds_config *c, uint64_t step, uint64_t total)
{
    double f = total > 1 ? (double)step / (double)(total - 1) : 1.0;
    return c->tau_max - (c->tau_max - c->tau_min) * f;
}

/* The coefficients of one forward, and in soft the probabilities the
 * architecture gradient goes through: softmax(alpha) (DARTS); a Gumbel
 * sample's one-hot (GDAS) or its soft weights (FBNet), soft = the
 * Gumbel-softmax at temperature tau; one path drawn from softmax(alpha)
 * (ProxylessNAS), with a second distinct operation per edge kept for its
 * gate gradient (in pair; soft = softmax over the pair). Noise comes from
 * the stream of (seed, 2 * step + which). */
static void set_coefficients(hwnas__ds_run *r, const hwnas__ds_config *c, double *soft,
                             int *pair, uint64_t which)
{
    float *w = hwnas__mix_w(r->mix);
    uint8_t *keep = hwnas__mix_keep(r->mix);
    memset(keep, 0, HWNAS__DS_COEF);
    if (c->method == HWNAS__DS_DARTS || c->method == HWNAS__DS_DARTS2) {
        hwnas__ds_probs(soft, r->alpha);
        for (size_t k = 0; k < HWNAS__DS_COEF; k++)
            w[k] = (float)soft[k];
        hwnas__mix_skip_zero(r->mix, 0);
        return;
    }
    hwnas__rng g;
    hwnas__rng_seed(&g, (uint64_t)c->seed ^ UINT64_C(0x6DA5), 2 * r->step + which);
    if (c->method == HWNAS__DS_PROXYLESS) {
        hwnas__ds_probs(soft, r->alpha);
        for (int e = 0; e < HWNAS__SN_EDGES; e++) {
            double *p = soft + e * HWNAS__SN_OPS, u = hwnas__rng_uniform(&g), acc = 0;
            int s = HWNAS__SN_OPS - 1, t = -1;
            for (int k = 0; k < HWNAS__SN_OPS; k++)
                if (u < (acc += p[k])) {
                    s = k;
                    break;
                }
            /* the second path: another operation, drawn in proportion */
            u = hwnas__rng_uniform(&g) * (1 - p[s]), acc = 0;
            for (int k = 0; k < HWNAS__SN_OPS; k++) {
                if (k == s)
                    continue;
                t = k;
                if (u < (acc += p[k]))
                    break;
            }
            pair[2 * e] = s, pair[2 * e + 1] = t;
            for (int k = 0; k < HWNAS__SN_OPS; k++)
                w[e * HWNAS__SN_OPS + k] = k == s ? 1.0f : 0.0f;
            keep[e * HWNAS__SN_OPS + t] = 1;
            /* the pair's probabilities, renormalised */
            double a0 = r->alpha[e * HWNAS__SN_OPS + s], a1 = r->alpha[e * HWNAS__SN_OPS + t];
            double m = a0 > a1 ? a0 : a1, e0 = exp(a0 - m), e1 = exp(a1 - m);
            for (int k = 0; k < HWNAS__SN_OPS; k++)
                p[k] = 0;
            p[s] = e0 / (e0 + e1), p[t] = e1 / (e0 + e1);
        }
        hwnas__mix_skip_zero(r->mix, 1);
        return;
    }
    double tau = tau_at(c, r->step, r->total);
    for (int e = 0; e < HWNAS__SN_EDGES; e++) {
        double z[HWNAS__SN_OPS];
        for (int k = 0; k < HWNAS__SN_OPS; k++) {
            double u = hwnas__rng_uniform(&g);
            u = u < 1e-20 ? 1e-20 : u;
            z[k] = r->alpha[e * HWNAS__SN_OPS + k] - log(-log(u));
        }
        double *s = soft + e * HWNAS__SN_OPS;
        softmax_edge(s, z, 1.0 / tau);
        int best = 0;
        for (int k = 1; k < HWNAS__SN_OPS; k++)
            best = s[k] > s[best] ? k : best;
        for (int k = 0; k < HWNAS__SN_OPS; k++)
            w[e * HWNAS__SN_OPS + k] = c->method == HWNAS__DS_FBNET ? (float)s[k]
                                       : k == best                  ? 1.0f
                                                                    : 0.0f;
    }
    hwnas__mix_skip_zero(r->mix, c->method == HWNAS__DS_GDAS);
}

#define DIVERGED 1 /* pass(): the loss is not finite */

/* Forward and backward of one batch with the current coefficients. */
static int pass(hwnas__ds_run *r, const float *images, const int32_t *labels, size_t nb,
                float *dlogits, double *loss, size_t *correct)
{
    hwnas__engine *e = r->sn->full->eng;
    double *dw = hwnas__mix_dw(r->mix);
    memset(dw, 0, HWNAS__DS_COEF * sizeof *dw);
    int rc = hwnas__engine_forward(e, images, nb, 1, r->step);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__engine_loss(loss, correct, dlogits, e, labels, 0);
    if (!isfinite(*loss))
        return DIVERGED;
    return hwnas__engine_backward(e, dlogits);
}

/* d E[cost] / d alpha (in the cost's unit), and E[cost] itself. */
double hwnas__ds_cost_grad(double *grad, const double *alpha, const double *cost, double cmax)
{
    double p[HWNAS__DS_COEF], total = 0;
    hwnas__ds_probs(p, alpha);
    for (int e = 0; e < HWNAS__SN_EDGES; e++) {
        const double *pe = p + e * HWNAS__SN_OPS, *ce = cost + e * HWNAS__SN_OPS;
        double mean = 0;
        for (int k = 0; k < HWNAS__SN_OPS; k++)
            mean += pe[k] * ce[k];
        total += mean;
        for (int k = 0; grad && k < HWNAS__SN_OPS; k++)
            grad[e * HWNAS__SN_OPS + k] = pe[k] * (ce[k] - mean) / cmax;
    }
    return total;
}

static int diverged(const hwnas__ds_run *r, uint64_t batches, const char *what)
{
    return hwnas__error(HWNAS_EINVAL, "dsearch: lambda=%g: the %s loss is not finite at epoch "
                        "%llu, step %llu; the last checkpoint is kept (lower w_lr or a_lr)",
                        r->lambda, what, (unsigned long long)(r->step / batches + 1),
                        (unsigned long long)r->step);
}

/* d loss / d alpha from the mixed edges' d loss / d coefficient (dw)
 * through soft (softmax Jacobian, times scale; in ProxylessNAS only
 * within each edge's pair, where soft is the pair's softmax). */
static void alpha_grad(double *g, const double *dw, const double *soft, double scale)
{
    for (int ed = 0; ed < HWNAS__SN_EDGES; ed++) {
        const double *s = soft + ed * HWNAS__SN_OPS, *ge = dw + ed * HWNAS__SN_OPS;
        double mean = 0;
        for (int k = 0; k < HWNAS__SN_OPS; k++)
            mean += ge[k] * s[k];
        for (int k = 0; k < HWNAS__SN_OPS; k++)
            g[ed * HWNAS__SN_OPS + k] = scale * s[k] * (ge[k] - mean);
    }
}

/* DARTS' second-order gradient (finite-difference Hessian-vector product):
 * grad_alpha L_val(w', alpha) - xi (grad_alpha L_train(w+) -
 * grad_alpha L_train(w-)) / (2 eps), w' = w - xi grad_w L_train(w),
 * w+- = w +- eps grad_w' L_val(w'), eps = 0.01 / |grad_w' L_val(w')|. */
static int second_order(hwnas__ds_run *r, const hwnas__ds_config *c, const hwnas__ds_batch *wb,
                        const hwnas__ds_batch *ab, float *dlogits, double *g, double *loss,
                        size_t *correct)
{
    hwnas__engine *e = r->sn->full->eng;
    size_t n = e->n_params;
    double soft[HWNAS__DS_COEF], l2;
    size_t c2;
    float *w0 = hwnas__malloc(r->ctx, 2 * (n ? n : 1) * sizeof *w0), *dv = w0 + n;
    if (!w0)
        return HWNAS_ENOMEM;
    memcpy(w0, e->params, n * sizeof *w0);
    set_coefficients(r, c, soft, NULL, 0);
    int rc = pass(r, wb->images, wb->labels, wb->n, dlogits, &l2, &c2);
    for (size_t k = 0; rc == HWNAS_OK && k < n; k++)
        e->params[k] = (float)((double)w0[k] - c->xi * ((double)e->grads[k] +
                                                        c->w_wd * (double)w0[k]));
    if (rc == HWNAS_OK)
        rc = pass(r, ab->images, ab->labels, ab->n, dlogits, loss, correct);
    double gv[HWNAS__DS_COEF], gp[HWNAS__DS_COEF], gm[HWNAS__DS_COEF], norm = 0;
    if (rc == HWNAS_OK) {
        alpha_grad(gv, hwnas__mix_dw(r->mix), soft, 1);
        memcpy(dv, e->grads, n * sizeof *dv);
        for (size_t k = 0; k < n; k++)
            norm += (double)dv[k] * (double)dv[k];
    }
    double eps = 0.01 / (sqrt(norm) + 1e-12);
    for (int side = 0; rc == HWNAS_OK && side < 2; side++) {
        double sg = side ? -eps : eps;
        for (size_t k = 0; k < n; k++)
            e->params[k] = (float)((double)w0[k] + sg * (double)dv[k]);
        rc = pass(r, wb->images, wb->labels, wb->n, dlogits, &l2, &c2);
        if (rc == HWNAS_OK)
            alpha_grad(side ? gm : gp, hwnas__mix_dw(r->mix), soft, 1);
    }
    memcpy(e->params, w0, n * sizeof *w0);
    hwnas__free(r->ctx, w0);
    for (size_t k = 0; rc == HWNAS_OK && k < HWNAS__DS_COEF; k++)
        g[k] = gv[k] - c->xi * (gp[k] - gm[k]) / (2 * eps);
    return rc;
}

/* The cost term's gradient into g (CE the arch batch's loss): add, FBNet's
 * multiplicative form, or the target form; E under softmax(alpha). */
static int cost_term(double *g, const hwnas__ds_run *r, const hwnas__ds_config *c, double ce,
                     uint64_t batches)
{
    if (c->cost == HWNAS__DS_COST_NONE || !(r->lambda > 0) || !(r->cost_max > 0))
        return HWNAS_OK;
    double de[HWNAS__DS_COEF];
    double E = hwnas__ds_cost_grad(de, r->alpha, r->cost, 1);
    if (c->form == HWNAS__DS_FORM_ADD) {
        for (size_t k = 0; k < HWNAS__DS_COEF; k++)
            g[k] += r->lambda * de[k] / r->cost_max;
    } else if (c->form == HWNAS__DS_FORM_TARGET) {
        for (size_t k = 0; E > c->target && k < HWNAS__DS_COEF; k++)
            g[k] += r->lambda * de[k] / c->target;
    } else {
        /* L = CE * lambda * log(E)^gamma: the CE gradient scaled, plus CE
         * times the factor's derivative */
        if (!(E > 1))
            return hwnas__error(HWNAS_EINVAL, "dsearch: form=mul needs an expected cost above 1 "
                                "in the source's unit (it is %g at step %llu of epoch %llu): "
                                "use form=add or a finer unit", E,
                                (unsigned long long)r->step,
                                (unsigned long long)(r->step / batches + 1));
        double lg = log(E), f = r->lambda * pow(lg, c->gamma);
        double df = r->lambda * c->gamma * pow(lg, c->gamma - 1) / E;
        for (size_t k = 0; k < HWNAS__DS_COEF; k++)
            g[k] = f * g[k] + ce * df * de[k];
    }
    return HWNAS_OK;
}

/* One search step: alpha on the arch batch, then the weights on the
 * weight batch. */
int hwnas__ds_step(hwnas__ds_run *r, const hwnas__ds_config *c, const hwnas__ds_batch *wb,
                   const hwnas__ds_batch *ab, float *dlogits, uint64_t batches,
                   double *out /* w_loss, w_correct, a_loss, a_correct */)
{
    hwnas__engine *e = r->sn->full->eng;
    double soft[HWNAS__DS_COEF], loss = 0, g[HWNAS__DS_COEF];
    int pair[2 * HWNAS__SN_EDGES];
    size_t correct = 0;
    int rc;
    /* architecture step */
    if (c->method == HWNAS__DS_DARTS2) {
        rc = second_order(r, c, wb, ab, dlogits, g, &loss, &correct);
    } else {
        set_coefficients(r, c, soft, pair, 0);
        rc = pass(r, ab->images, ab->labels, ab->n, dlogits, &loss, &correct);
        int gumbel = c->method == HWNAS__DS_GDAS || c->method == HWNAS__DS_FBNET;
        if (rc == HWNAS_OK)
            alpha_grad(g, hwnas__mix_dw(r->mix), soft,
                       gumbel ? 1.0 / tau_at(c, r->step, r->total) : 1.0);
    }
    if (rc == DIVERGED)
        return diverged(r, batches, "architecture");
    if (rc != HWNAS_OK)
        return rc;
    out[2] = loss, out[3] = (double)correct;
    rc = cost_term(g, r, c, loss, batches);
    if (rc != HWNAS_OK)
        return rc;
    double before[2 * HWNAS__SN_EDGES];
    for (int ed = 0; c->method == HWNAS__DS_PROXYLESS && ed < HWNAS__SN_EDGES; ed++)
        for (int j = 0; j < 2; j++)
            before[2 * ed + j] = r->alpha[ed * HWNAS__SN_OPS + pair[2 * ed + j]];
    /* Adam with L2 weight decay (PyTorch's) */
    uint64_t t = r->step + 1;
    double bc1 = 1 - pow(c->b1, (double)t), bc2 = 1 - pow(c->b2, (double)t);
    for (size_t k = 0; k < HWNAS__DS_COEF; k++) {
        double gk = g[k] + c->a_wd * r->alpha[k];
        r->am[k] = c->b1 * r->am[k] + (1 - c->b1) * gk;
        r->av[k] = c->b2 * r->av[k] + (1 - c->b2) * gk * gk;
        r->alpha[k] -= c->a_lr * (r->am[k] / bc1) / (sqrt(r->av[k] / bc2) + 1e-8);
    }
    /* ProxylessNAS: the pair's total weight is kept, so the operations
     * not sampled keep their probabilities */
    for (int ed = 0; c->method == HWNAS__DS_PROXYLESS && ed < HWNAS__SN_EDGES; ed++) {
        double *a = r->alpha + ed * HWNAS__SN_OPS;
        int s = pair[2 * ed], u = pair[2 * ed + 1];
        double old = log(exp(before[2 * ed]) + exp(before[2 * ed + 1]));
        double now = log(exp(a[s]) + exp(a[u]));
        a[s] -= now - old, a[u] -= now - old;
    }
    /* weight step */
    set_coefficients(r, c, soft, pair, 1);
    memset(hwnas__mix_keep(r->mix), 0, HWNAS__DS_COEF); /* the weights need one path only */
    rc = pass(r, wb->images, wb->labels, wb->n, dlogits, &loss, &correct);
    if (rc == DIVERGED)
        return diverged(r, batches, "weights'");
    if (rc != HWNAS_OK)
        return rc;
    out[0] = loss, out[1] = (double)correct;
    if (c->w_clip > 0) {
        double norm = 0;
        for (size_t k = 0; k < e->n_params; k++)
            norm += (double)e->grads[k] * (double)e->grads[k];
        norm = sqrt(norm);
        if (norm > c->w_clip) {
            float f = (float)(c->w_clip / (norm + 1e-6));
            for (size_t k = 0; k < e->n_params; k++)
                e->grads[k] *= f;
        }
    }
    double lr = hwnas__lr_at(c->w_lr, 1, r->step, r->total, 0, 0, 0);
    hwnas__sgd_step(e->params, r->velocity, e->grads, e->n_params, lr, c->w_mom, c->w_wd, 0);
    r->step++;
    return HWNAS_OK;
}

/* ---- derive --------------------------------------------------------------- */

void hwnas__ds_derive(uint32_t *g, const double *alpha, int64_t skip_cap)
{
    double p[HWNAS__DS_COEF];
    hwnas__ds_probs(p, alpha);
    enum { NONE = 0, SKIP = 1 };
    int skips = 0;
    for (int e = 0; e < HWNAS__SN_EDGES; e++) {
        const double *pe = p + e * HWNAS__SN_OPS;
        int best = 0;
        for (int k = 1; k < HWNAS__SN_OPS; k++)
            best = pe[k] > pe[best] ? k : best;
        g[e] = (uint32_t)best;
        skips += best == SKIP;
    }
    /* P-DARTS: the least confident skip connections give way first */
    while (skip_cap >= 0 && skips > skip_cap) {
        int worst = -1;
        for (int e = 0; e < HWNAS__SN_EDGES; e++)
            if (g[e] == SKIP && (worst < 0 || p[e * HWNAS__SN_OPS + SKIP] <
                                                  p[worst * HWNAS__SN_OPS + SKIP]))
                worst = e;
        const double *pe = p + worst * HWNAS__SN_OPS;
        int best = -1;
        for (int k = 0; k < HWNAS__SN_OPS; k++)
            if (k != SKIP && k != NONE && (best < 0 || pe[k] > pe[best]))
                best = k;
        g[worst] = (uint32_t)best;
        skips--;
    }
}
