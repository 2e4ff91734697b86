/*
 * libhwnas - estimators: from a network to named metrics.
 *
 * An estimator maps a net to a fixed list of metrics, each a name and a
 * unit ("latency_ms" in "ms"); estimate() fills one double per metric.
 * A search combines several estimators and reads every metric by name.
 *
 * Kinds (hwnas describe KIND lists their options):
 *   estimator:cost   analytic figures of the IR: macs, params, weight_bytes,
 *                    activations, peak_activations, memory_accesses
 *   estimator:table  metrics looked up in a CSV benchmark table (e.g.
 *                    NAS-Bench-201, HW-NAS-Bench), keyed by the space's
 *                    genotype string or by row index
 *   estimator:predictor  a surrogate (predict.h) that learns one metric
 *                    online from finished evaluations (hwnas_estimator_observe)
 *                    and predicts it, with its std, for new candidates
 * plus custom estimators from callbacks (hwnas_estimator_new_custom).
 *
 * Under co-design an estimate also gets the candidate's hardware
 * (hwnas_estimator_estimate_on).
 *
 * Every estimate gets the net, the candidate's key (the space's genotype
 * string, e.g. a NAS-Bench-201 architecture string; NULL when there is
 * none) and a random stream number, so that estimators that draw random
 * numbers (training) give the same result for a candidate whatever the
 * order or thread of evaluation.
 *
 * Thread rules: creating and freeing are not thread-safe. estimate() of
 * the built-in kinds may run from many threads at once on one estimator;
 * custom callbacks are called concurrently when the host evaluates in
 * parallel (the search says so with its threads option).
 */
#ifndef HWNAS_ESTIMATOR_H
#define HWNAS_ESTIMATOR_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_estimator hwnas_estimator;
struct hwnas_context;
struct hwnas_options;
struct hwnas_net;
struct hwnas_accel;

/*
 * Create an estimator of kind with options "key=value;...".
 * Errors: HWNAS_EINVAL (NULL argument, bad option), HWNAS_ENOTFOUND
 * (unknown kind, or a file an option names: the message names it),
 * HWNAS_EFORMAT (a malformed file: file and line), HWNAS_ENOMEM.
 * *out is the caller's (hwnas_estimator_free), NULL on error.
 */
HWNAS_API int hwnas_estimator_new(hwnas_estimator **out, struct hwnas_context *ctx,
                                  const char *kind, const char *options);

/*
 * A custom estimator: estimate() calls cb(net, key, stream, values,
 * user_data), which writes one double per metric into values and returns
 * 0, or non-zero when this net cannot be estimated (the estimate then
 * fails with HWNAS_EUSER for that net only; the callback may say why
 * through hwnas_estimator_set_error).
 * name: a label for messages ("roofline"); metrics: "name:unit,name:unit"
 * ("latency_ms:ms,energy_uj:uJ"), names [a-z0-9_]+, unique.
 * user_data is passed through and never freed.
 * Errors: HWNAS_EINVAL (NULL argument, malformed metrics list),
 * HWNAS_ENOMEM.
 */
typedef int (*hwnas_estimate_cb)(const struct hwnas_net *net, const char *key,
                                 uint64_t stream, double *values, void *user_data);
HWNAS_API int hwnas_estimator_new_custom(hwnas_estimator **out,
                                         struct hwnas_context *ctx, const char *name,
                                         const char *metrics, hwnas_estimate_cb cb,
                                         void *user_data);

/* Free an estimator. No-op on NULL. */
HWNAS_API void hwnas_estimator_free(hwnas_estimator *est);

/* The kind ("estimator:cost", or "custom:<name>"). Borrowed. */
HWNAS_API const char *hwnas_estimator_kind(const hwnas_estimator *est);

/* The options (borrowed; NULL for custom estimators). */
HWNAS_API const struct hwnas_options *hwnas_estimator_options(const hwnas_estimator *est);

/* Number of metrics, and metric i's name and unit (NULL out of range).
 * Borrowed, valid while est lives. */
HWNAS_API size_t hwnas_estimator_metric_count(const hwnas_estimator *est);
HWNAS_API const char *hwnas_estimator_metric_name(const hwnas_estimator *est, size_t i);
HWNAS_API const char *hwnas_estimator_metric_unit(const hwnas_estimator *est, size_t i);

/* Index of the metric called name, or -1. */
HWNAS_API int64_t hwnas_estimator_metric_index(const hwnas_estimator *est,
                                               const char *name);

/*
 * Estimate net: values[metric_count] receives the metrics. key: the
 * candidate's genotype string or NULL; stream: its random stream.
 * Errors for this net only, the estimator stays usable: HWNAS_EINVAL
 * (NULL argument), HWNAS_ENOTFOUND (estimator:table has no row for key:
 * the message names the key), HWNAS_EUSER (a custom callback failed),
 * HWNAS_EUNSUPPORTED (the estimator cannot handle this net), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_estimator_estimate(hwnas_estimator *est, const struct hwnas_net *net,
                                       const char *key, uint64_t stream, double *values);

/*
 * Estimate net as it runs on accel, the candidate's hardware (a co-design
 * space's hwnas_space_decode_accel; accel.h). accel NULL is
 * hwnas_estimator_estimate(). estimator:accelerator maps and prices the
 * net on accel instead of its own description (its mapping cache keeps
 * every description's mappings apart, by content hash); the other
 * built-in kinds ignore the hardware. Custom and plugin estimators see the
 * net only, through their callback's arguments, and may ask for the
 * hardware with hwnas_estimator_current_accel(). accel is borrowed for the
 * call. Errors and thread rules as hwnas_estimator_estimate(); for
 * estimator:accelerator also HWNAS_EINVAL when a layer fits no mapping on
 * accel (the message names the layer and the level).
 */
HWNAS_API int hwnas_estimator_estimate_on(hwnas_estimator *est,
                                          const struct hwnas_net *net,
                                          const struct hwnas_accel *accel, const char *key,
                                          uint64_t stream, double *values);

/* From inside a custom or plugin callback: the hardware the running
 * estimate is for (borrowed, valid during the callback), or NULL when
 * there is none (hwnas_estimator_estimate). Per thread: callbacks that run
 * concurrently each see their own. */
HWNAS_API const struct hwnas_accel *hwnas_estimator_current_accel(void);

/* From inside a custom callback: the message that the failing estimate
 * reports (printf-style is not offered across the FFI: pass plain text). */
HWNAS_API void hwnas_estimator_set_error(const char *message);

/*
 * From inside a custom or plugin callback: the user interrupted the
 * program (Ctrl-C, a shutdown) and this estimate must not count. The
 * estimate then fails with HWNAS_EUSER ("interrupted") whatever the
 * callback returns, and a search that ran it stops without keeping the
 * batch the candidate belongs to: nothing of that batch is journaled,
 * told or archived, and the next hwnas_search_run on the same search (or a
 * resume from its directory) estimates that batch again, so the archive is
 * the one an uninterrupted run makes. Per thread, like the last error;
 * an interruption inside a nested estimate also marks the enclosing one.
 */
HWNAS_API void hwnas_estimator_interrupt(void);

/* Whether the last estimate that returned on this thread was interrupted
 * (hwnas_estimator_interrupt): 1 or 0. For hosts that run their own loop
 * over hwnas_estimator_estimate. */
HWNAS_API int hwnas_estimator_interrupted(void);

/*
 * Tell est a finished evaluation: the candidate's key (its genotype
 * string) and its metrics by name, values[n] (NaN where unknown). Kinds
 * that learn keep it (estimator:predictor fits on the observations of its
 * metric that are finite, ignoring the others); every other kind ignores
 * it and returns HWNAS_OK. A search calls this on each of its estimators
 * for every candidate that enters its archive without failing (resumed
 * ones included), in evaluation order, on the thread that runs the
 * search, never while a batch is being estimated.
 * Errors: HWNAS_EINVAL (NULL est or key, names or values NULL with n > 0),
 * HWNAS_EFORMAT (estimator:predictor: key is no genotype of its space: the
 * message names it), HWNAS_ENOMEM. Not thread-safe: never concurrently
 * with an estimate on the same estimator.
 */
HWNAS_API int hwnas_estimator_observe(hwnas_estimator *est, const char *key, size_t n,
                                      const char *const *names, const double *values);

HWNAS_END_DECLS

#endif /* HWNAS_ESTIMATOR_H */
