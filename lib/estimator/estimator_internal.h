/* libhwnas estimators - what each estimator kind implements. Not installed. */
#ifndef HWNAS_ESTIMATOR_INTERNAL_H
#define HWNAS_ESTIMATOR_INTERNAL_H

#include "core/core_internal.h"
#include "hwnas/estimator.h"
#include "hwnas/net.h"

typedef struct hwnas__estimator_impl {
    /* Declare metrics (hwnas__estimator_add_metric) and set up state. */
    int (*init)(hwnas_estimator *est);
    void (*fini)(hwnas_estimator *est);
    /* Must be safe to call from several threads at once. */
    int (*estimate)(hwnas_estimator *est, const hwnas_net *net, const char *key,
                    uint64_t stream, double *values);
    /* The same on the candidate's hardware (never NULL here); NULL: the
     * kind ignores the hardware and estimate() runs. Thread-safe too. */
    int (*estimate_on)(hwnas_estimator *est, const hwnas_net *net,
                       const struct hwnas_accel *accel, const char *key, uint64_t stream,
                       double *values);
    /* A finished evaluation (hwnas_estimator_observe); NULL: the kind
     * ignores them. Not concurrent with estimate. */
    int (*observe)(hwnas_estimator *est, const char *key, size_t n, const char *const *names,
                   const double *values);
} hwnas__estimator_impl;

struct hwnas_estimator {
    hwnas_context *ctx;                /* allocator; outlives the estimator */
    const hwnas__estimator_impl *impl; /* NULL for custom estimators */
    char *kind_name;                   /* "estimator:cost" or "custom:<name>" */
    hwnas_options *options;            /* NULL for custom estimators */
    size_t n_metrics;
    char **metric_names;               /* n_metrics owned strings */
    char **metric_units;               /* n_metrics owned strings */
    hwnas_estimate_cb cb;              /* custom estimators */
    void *cb_data;
    void *state;                       /* the kind's own, freed by fini */
};

int hwnas__estimator_add_metric(hwnas_estimator *est, const char *name, const char *unit);

extern const hwnas__estimator_impl hwnas__estimator_cost_impl;
extern const hwnas__estimator_impl hwnas__estimator_table_impl;
extern const hwnas__estimator_impl hwnas__estimator_accuracy_impl;
extern const hwnas__estimator_impl hwnas__estimator_energy_impl;
extern const hwnas__estimator_impl hwnas__estimator_accelerator_impl;
extern const hwnas__estimator_impl hwnas__estimator_predictor_impl;
extern const hwnas__estimator_impl hwnas__estimator_zero_cost_impl;

#endif
