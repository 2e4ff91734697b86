/*
 * libhwnas dsearch - differentiable architecture search. Not installed;
 * not part of the ABI. See include/hwnas/dsearch.h and doc/dsearch.md.
 *
 * Files: dsearch.c (options, alpha and its Adam, one step, cost table,
 * derive), file.c (the checkpoint), run.c (the lambda sweep, results
 * directory, resume).
 */
#ifndef HWNAS_DSEARCH_INTERNAL_H
#define HWNAS_DSEARCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "engine/engine_internal.h"
#include "supernet/supernet_internal.h"

#define HWNAS__DS_COEF (HWNAS__SN_EDGES * HWNAS__SN_OPS) /* alpha: edge * OPS + op */
#define HWNAS__DS_MAX_LAMBDA 32

enum { HWNAS__DS_DARTS = 0, HWNAS__DS_GDAS = 1, HWNAS__DS_FBNET = 2, HWNAS__DS_PROXYLESS = 3,
       HWNAS__DS_DARTS2 = 4 };
enum { HWNAS__DS_COST_NONE = 0, HWNAS__DS_COST_MACS = 1, HWNAS__DS_COST_PARAMS = 2,
       HWNAS__DS_COST_LATENCY = 3, HWNAS__DS_COST_ENERGY = 4, HWNAS__DS_COST_CYCLES = 5 };
/* how the cost enters the loss */
enum { HWNAS__DS_FORM_ADD = 0, HWNAS__DS_FORM_MUL = 1, HWNAS__DS_FORM_TARGET = 2 };

/* The options of kind "dsearch". */
typedef struct hwnas__ds_config {
    int method, cost, form;
    double gamma, target, xi;
    char lut[1024], hardware[1024], accel_options[512];
    double lambda[HWNAS__DS_MAX_LAMBDA];
    size_t n_lambda;
    int64_t epochs, batch, channels, cells, seed, skip_cap, calibration, evaluation, retrain,
        every;
    double w_lr, w_mom, w_wd, w_clip, a_lr, a_wd, b1, b2, tau_max, tau_min;
} hwnas__ds_config;

/* The dataset's shape the supernet is built for. */
typedef struct hwnas__ds_shape {
    size_t channels, size, classes;
} hwnas__ds_shape;

/* One mini-batch. */
typedef struct hwnas__ds_batch {
    const float *images;
    const int32_t *labels;
    size_t n;
} hwnas__ds_batch;

#define HWNAS__DS_STATS 5 /* per epoch: w_loss, w_acc, a_loss, a_acc, expected cost */

/* One lambda's search. */
typedef struct hwnas__ds_run {
    hwnas_context *ctx;
    double lambda;
    hwnas_supernet *sn;            /* owned; its full net's engine carries mix */
    hwnas__eng_mix *mix;           /* owned */
    double alpha[HWNAS__DS_COEF], am[HWNAS__DS_COEF], av[HWNAS__DS_COEF];
    float *velocity;               /* n_params SGD momentum */
    size_t n_params;
    uint64_t step, total;
    double cost[HWNAS__DS_COEF], cost_max; /* the loss's cost table (not saved) */
    /* per finished epoch: alpha then the stats (HWNAS__DS_COEF +
     * HWNAS__DS_STATS doubles a row) */
    double *traj;
    size_t n_traj;
    double sums[4];                /* the epoch under way: w_loss*n, w_correct, a_loss*n, a_acc*n */
    uint64_t seen;                 /* its samples */
} hwnas__ds_run;

#define HWNAS__DS_ROW (HWNAS__DS_COEF + HWNAS__DS_STATS)

extern const hwnas__kind hwnas__dsearch_kind;

int hwnas__ds_read_config(hwnas__ds_config *c, hwnas_context *ctx, const char *text);
/* What a resumed run must match (everything that changes the training). */
void hwnas__ds_config_text(char *buf, size_t size, const hwnas__ds_config *c, double lambda);

/* A run on sn (owned from the call on, even on error), or on a fresh
 * supernet of c and shape when sn is NULL. */
int hwnas__ds_run_new(hwnas__ds_run **out, hwnas_context *ctx, const hwnas__ds_config *c,
                      double lambda, const hwnas__ds_shape *shape, hwnas_supernet *sn);
void hwnas__ds_run_free(hwnas__ds_run *r);

/* softmax(alpha) per edge. */
void hwnas__ds_probs(double *p, const double *alpha);
/* The cost table (HWNAS__DS_COST_MACS or _PARAMS) of r's supernet. */
void hwnas__ds_cost_table(double *cost, const hwnas__ds_run *r, int which);

/* The cost table of c's source (cost.c): per (edge, op), the cost of the
 * nodes that operation alone runs, summed over the cells; dir holds the
 * profiled latency table when c has no lut. Errors name the source and,
 * for one that lacks an operation, the edge, operation and key. */
int hwnas__ds_cost_source(double *cost, const hwnas__ds_run *r, const hwnas__ds_config *c,
                          const char *dir);
/* The derived net's cost in the source's unit. */
int hwnas__ds_net_cost(double *out, const hwnas_net *net, const hwnas__ds_config *c,
                       hwnas_context *ctx, const char *dir);
/* Expected cost under softmax(alpha), and (grad not NULL) its gradient
 * divided by cmax. */
double hwnas__ds_cost_grad(double *grad, const double *alpha, const double *cost, double cmax);
/* One alternating step; out gets w_loss, w_correct, a_loss, a_correct. */
int hwnas__ds_step(hwnas__ds_run *r, const hwnas__ds_config *c, const hwnas__ds_batch *wb,
                   const hwnas__ds_batch *ab, float *dlogits, uint64_t batches, double *out);
/* The derived cell: argmax per edge, skip connections capped. */
void hwnas__ds_derive(uint32_t *g, const double *alpha, int64_t skip_cap);

/* The checkpoint (file.c): r's state with the options text it must match. */
int hwnas__ds_to_bytes(uint8_t **out, size_t *len, const hwnas__ds_run *r, const char *text);
/* A run from checkpoint bytes; expect (may be NULL) is the options text it
 * must have been written with. name labels errors. */
int hwnas__ds_from_bytes(hwnas__ds_run **out, hwnas_context *ctx, const hwnas__ds_config *c,
                         const uint8_t *b, size_t len, const char *expect, const char *name);

#endif /* HWNAS_DSEARCH_INTERNAL_H */
