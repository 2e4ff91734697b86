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

/*
 * Learning curves (accuracy.c), for pruning in the search. A watch asks
 * the next estimate on the calling thread to report its validation
 * accuracy (%) after training positions at[0..n_at), in epochs (fractions
 * allowed, increasing, the last at most the estimator's epochs), and to
 * stop early when report() says so.
 *
 * Ownership and threads: the watch and its arrays are the caller's and
 * must outlive the estimate. hwnas__curve_watch_set(w) arms it for the
 * calling thread only; the accuracy estimate takes it (and disarms it) as
 * it starts, so an estimator that estimates inside its callback never sees
 * it; other kinds ignore it, and the caller disarms it after the call
 * (hwnas__curve_watch_set(NULL)). report() runs on the estimating thread.
 */
typedef struct hwnas__curve_watch {
    const double *at; /* n_at increasing positions in epochs, > 0 */
    size_t n_at;
    /* After position at[k] with the validation accuracy there: 0 trains
     * on, 1 stops (the estimate succeeds with the metrics of the model as
     * trained so far), < 0 is an error code (an error set) that fails the
     * estimate. */
    int (*report)(void *data, size_t k, double accuracy);
    void *data;
    int stopped;      /* out: report() stopped training after at[stopped_at] */
    size_t stopped_at;
} hwnas__curve_watch;
void hwnas__curve_watch_set(hwnas__curve_watch *w);
/* The epochs an estimator's learning curve spans: > 0 for estimator:accuracy
 * (its epochs option), 0 for kinds without a curve. */
double hwnas__estimator_curve_epochs(const hwnas_estimator *est);

extern const hwnas__estimator_impl hwnas__estimator_cost_impl;
extern const hwnas__estimator_impl hwnas__estimator_table_impl;
extern const hwnas__estimator_impl hwnas__estimator_accuracy_impl;
extern const hwnas__estimator_impl hwnas__estimator_energy_impl;
extern const hwnas__estimator_impl hwnas__estimator_accelerator_impl;
extern const hwnas__estimator_impl hwnas__estimator_predictor_impl;
extern const hwnas__estimator_impl hwnas__estimator_zero_cost_impl;
extern const hwnas__estimator_impl hwnas__estimator_supernet_impl;

#endif
