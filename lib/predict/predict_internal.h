/* libhwnas predictors - what each predictor kind implements. Not installed. */
#ifndef HWNAS_PREDICT_INTERNAL_H
#define HWNAS_PREDICT_INTERNAL_H

#include "core/core_internal.h"
#include "hwnas/predict.h"

/*
 * A kind fits on standardised targets (mean 0, deviation 1; the object
 * does the scaling both ways) and checked, finite inputs; it owns
 * p->model between fit and clear.
 */
typedef struct hwnas__predictor_impl {
    /* Build p->model from x[n * d], y[n] (n >= 2, d >= 1). */
    int (*fit)(hwnas_predictor *p, const double *x, const double *y, size_t n, size_t d);
    /* Standardised mean[n] and std[n] (std never NULL here). Thread-safe. */
    int (*predict)(const hwnas_predictor *p, const double *x, size_t n, double *mean,
                   double *std);
    /* Free p->model (never NULL here). */
    void (*clear)(hwnas_predictor *p);
} hwnas__predictor_impl;

struct hwnas_predictor {
    hwnas_context *ctx;                 /* allocator; outlives the predictor */
    const hwnas__kind *kind;            /* kind->impl is an hwnas__predictor_impl */
    hwnas_options *options;             /* owned */
    uint64_t seed;                      /* the seed option, or the context's */
    size_t d;                           /* features of the fitted data; 0 = unfitted */
    double y_mean, y_scale;             /* targets' mean and deviation (1 if constant) */
    void *model;                        /* the kind's, NULL when unfitted */
};

/* The kinds' tables (options: every kind's first row is seed). */
extern const hwnas__kind hwnas__predictor_mlp_kind, hwnas__predictor_gbrt_kind,
    hwnas__predictor_gp_kind;

#endif
