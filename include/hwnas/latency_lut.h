/*
 * libhwnas - latency look-up tables: per-layer latencies, as FBNet,
 * ProxylessNAS and Once-for-All use them.
 *
 * A LUT maps a layer configuration to a latency. A layer's key is a line
 * of text naming everything its run time depends on (doc/formats/
 * latency-lut.md):
 *
 *   conv in=16x32x32 out=32x16x16 k=3x3 s=2x2 p=1x1 d=1x1 g=1 bits=32 mul=exact
 *
 * (op, input shape, output shape, so output channels, kernel, stride,
 * padding, dilation, groups, bit width, multiplier; inputs=N for add and
 * concat). A net's predicted latency is the sum of its layers' latencies
 * plus a per-net overhead term (dispatch, the parts of a forward pass that
 * belong to no layer), which the builder fits.
 *
 * Tables come from a file (hwnas_latency_lut_load: LUTs measured anywhere,
 * a phone, an MCU, HW-NAS-Bench's devices) or from the builder, which runs
 * the nets it is given on this host in the library's fp32 inference
 * engine at batch 1 and times every layer in context, inside the real
 * forward pass (warm-up, repeats, the calling thread pinned to its CPU). Two optional key fields describe what that engine runs:
 * act=relu|relu6 on a batch-norm the engine fuses with its activation, and
 * ctx=N, the latency class of the nets an entry was timed in
 * (doc/formats/latency-lut.md).
 *
 * The estimator kind estimator:latency_lut (options lut=FILE,
 * missing=error|nearest|interpolate|scale, overhead) gives the metric
 * latency_ms.
 *
 * Thread rules: building (set, profile, load) is not thread-safe; a LUT
 * that is no longer modified may be read (get, predict, format, save) from
 * any number of threads at once.
 */
#ifndef HWNAS_LATENCY_LUT_H
#define HWNAS_LATENCY_LUT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_latency_lut hwnas_latency_lut;
struct hwnas_context;
struct hwnas_net;

/* What hwnas_latency_lut_predict() does with a layer the LUT lacks. */
enum {
    /* fail with HWNAS_ENOTFOUND naming the layer and its key */
    HWNAS_LATENCY_LUT_MISSING_ERROR = 0,
    /* the latency of the closest entry of the same op, kernel, stride,
     * dilation, group kind, bit width and multiplier (distance: sum of the
     * absolute log ratios of the six shape dimensions) */
    HWNAS_LATENCY_LUT_MISSING_NEAREST = 1,
    /* among those same entries, linear interpolation in the layer's work
     * (MACs for conv and linear, input plus output elements otherwise)
     * between the closest entries below and above; beyond the ends, the
     * closest entry scaled in proportion to work */
    HWNAS_LATENCY_LUT_MISSING_INTERPOLATE = 2,
    /* the closest entry as for NEAREST, scaled in proportion to work (a
     * neighbour in shape keeps its efficiency; since libhwnas 0.2) */
    HWNAS_LATENCY_LUT_MISSING_SCALE = 3
};

/* An empty LUT (overhead 0). Errors: HWNAS_EINVAL, HWNAS_ENOMEM.
 * *out is the caller's (hwnas_latency_lut_free), NULL on error. */
HWNAS_API int hwnas_latency_lut_new(hwnas_latency_lut **out, struct hwnas_context *ctx);

/* Free a LUT. No-op on NULL. */
HWNAS_API void hwnas_latency_lut_free(hwnas_latency_lut *lut);

/*
 * Read a LUT file (gzip-compressed or not; doc/formats/latency-lut.md),
 * or parse len bytes of text (name is used in messages, NULL = "<memory>").
 * Errors: HWNAS_EINVAL (NULL argument), HWNAS_ENOTFOUND / HWNAS_EIO (the
 * file, named), HWNAS_EFORMAT (file and line, and what is wrong),
 * HWNAS_EVERSION (a newer format version), HWNAS_ENOMEM.
 * *out is the caller's, NULL on error.
 */
HWNAS_API int hwnas_latency_lut_load(hwnas_latency_lut **out, struct hwnas_context *ctx,
                                     const char *path);
HWNAS_API int hwnas_latency_lut_parse(hwnas_latency_lut **out, struct hwnas_context *ctx,
                                      const char *text, size_t len, const char *name);

/* The LUT as text in the file format (*out is the caller's, hwnas_free),
 * entries sorted by key; and written atomically to path (gzip when path
 * ends in ".gz"). Errors: HWNAS_EINVAL, HWNAS_EIO (naming path),
 * HWNAS_ENOMEM. */
HWNAS_API int hwnas_latency_lut_format(const hwnas_latency_lut *lut, char **out);
HWNAS_API int hwnas_latency_lut_save(const hwnas_latency_lut *lut, const char *path);

/* Number of entries. */
HWNAS_API size_t hwnas_latency_lut_count(const hwnas_latency_lut *lut);

/* Entry i's canonical key (borrowed, valid until the LUT changes or is
 * freed; NULL out of range) and latency in ms (NaN out of range), in the
 * order the entries were added or read. */
HWNAS_API const char *hwnas_latency_lut_key(const hwnas_latency_lut *lut, size_t i);
HWNAS_API double hwnas_latency_lut_value(const hwnas_latency_lut *lut, size_t i);

/*
 * Set the latency (ms, finite, >= 0) of the layer key (fields in any
 * order; stored in canonical form), replacing an entry with the same key.
 * Errors: HWNAS_EINVAL (NULL, bad latency, malformed key: the message
 * names the field), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_latency_lut_set(hwnas_latency_lut *lut, const char *key, double ms);

/* The latency of key. Errors: HWNAS_EINVAL (malformed key),
 * HWNAS_ENOTFOUND (no such entry: the message gives the canonical key). */
HWNAS_API int hwnas_latency_lut_get(double *out_ms, const hwnas_latency_lut *lut,
                                    const char *key);

/* The per-net overhead in ms (may be negative: it is fitted), and setting
 * it (finite). Errors: HWNAS_EINVAL. */
HWNAS_API double hwnas_latency_lut_overhead(const hwnas_latency_lut *lut);
HWNAS_API int hwnas_latency_lut_set_overhead(hwnas_latency_lut *lut, double ms);

/* The device line (free text, "" when none; borrowed) and setting it (one
 * line, no newline). Errors: HWNAS_EINVAL, HWNAS_ENOMEM. */
HWNAS_API const char *hwnas_latency_lut_device(const hwnas_latency_lut *lut);
HWNAS_API int hwnas_latency_lut_set_device(hwnas_latency_lut *lut, const char *device);

/* The canonical key of node i of net (*out is the caller's, hwnas_free).
 * Errors: HWNAS_EINVAL (NULL, i out of range), HWNAS_ENOMEM. */
HWNAS_API int hwnas_latency_lut_layer_key(char **out, const struct hwnas_net *net, size_t i);

/*
 * Predicted latency of net in ms: the sum over its layers of their entries
 * plus the overhead. A batch-norm whose only consumer is a relu or relu6
 * is one layer, its entry the key with act=...; without such an entry, the
 * bn's and the activation's entries. When the LUT has entries with ctx=,
 * the plain entries first give the net's latency, its class; then each
 * layer's latency is interpolated between the classes the LUT has for it
 * around the net's (a layer without any: its plain entry).
 * missing: HWNAS_LATENCY_LUT_MISSING_*.
 * Errors: HWNAS_EINVAL (NULL, empty net, bad missing), HWNAS_ENOTFOUND (a
 * layer without entry and no compatible entry to fall back on: the
 * message names the node and its key), HWNAS_ENOMEM. Thread-safe on a LUT
 * no longer modified.
 */
HWNAS_API int hwnas_latency_lut_predict(double *out_ms, const hwnas_latency_lut *lut,
                                        const struct hwnas_net *net, int missing);

/*
 * Profile net on this host and add its layers: the net runs in the fp32
 * engine at batch 1 in inference mode with the LUT's context's threads -
 * or, when every convolution and linear layer of net has at most 8 bits,
 * as it is deployed: in int8 on the lookup-GEMM kernels with the
 * multipliers its nodes name (hwnas_quant with the built-in multiplier
 * families, batch-norms folded, the other nodes in fp32; a relu after a
 * folded batch-norm is timed as part of it, keyed as the fp32 engine's
 * fused pair), so its keys' bits= and mul= are what was measured;
 * after `warmup` forward passes, `repeats` plain passes (timed as by
 * hwnas_latency_lut_measure) alternate with `repeats` instrumented passes
 * in which the engine times every node it runs. An instrumented pass
 * slower than 1.25x the fastest is disturbed and left out; while fewer than
 * half of the passes so far are undisturbed, another `repeats` of each run
 * (at most three rounds in all). A node's time is its median over the
 * undisturbed passes, scaled so that the net's nodes sum to the fastest
 * instrumented pass (less the timer's own cost). It is added
 * as a sample to its layer's entry (the run key: act= for a fused
 * batch-norm, whose activation adds nothing) and to the same key with the
 * net's ctx= class (of its measured latency); an entry is the median of
 * its samples. The overhead
 * becomes the median, over all nets profiled so far, of (fastest plain
 * pass - sum of its node times). Weights are random (latency does not depend on
 * them). The calling thread is pinned to the CPU it runs on (Linux).
 * Errors: HWNAS_EINVAL (NULL, repeats 0), HWNAS_EUNSUPPORTED (a net the
 * engine cannot run), HWNAS_ENOTFOUND (an int8 net names a multiplier the
 * built-in families lack: the message names node and multiplier),
 * HWNAS_ENOMEM. On error the LUT may hold some of the net's layers.
 */
HWNAS_API int hwnas_latency_lut_profile(hwnas_latency_lut *lut, const struct hwnas_net *net,
                                        uint32_t warmup, uint32_t repeats);

/*
 * Measure net's end-to-end latency in ms on this host the way the profiler
 * does (fp32 engine, or int8 for a low-bit net; batch 1, inference, ctx's
 * threads, pinned): the
 * fastest of `repeats` readings after `warmup` passes, a reading spanning
 * as many back-to-back passes as fill about 0.25 ms (one for most nets).
 * Other work on the machine can only slow a pass down, so the fastest
 * reading is the least disturbed one and stays put as the load varies.
 * With one thread the clock is the thread's CPU time: all kernels run on
 * the calling thread (unless a host parallel-for moves them), so this is
 * the latency on a core of its own, without the time slices the OS gives
 * other processes on a shared machine; with more threads, wall time.
 * Errors as hwnas_latency_lut_profile().
 */
HWNAS_API int hwnas_latency_lut_measure(double *out_ms, struct hwnas_context *ctx,
                                        const struct hwnas_net *net, uint32_t warmup,
                                        uint32_t repeats);

/*
 * Learned latency models (issue 20): a regression from features of a net
 * to its measured latency, for what a per-layer sum misses (overheads the
 * table does not see, a device known only through whole-net
 * measurements, as HW-NAS-Bench gives them).
 *
 * A model holds measured nets as feature rows (doc/formats/
 * latency-model.md lists the features: MACs, parameters, activations and
 * memory traffic, node counts and MACs per kind of layer, fused
 * batch-norms, low-bit and approximate layers, and, when the model has a
 * LUT, the LUT's prediction). Fitting learns log(latency): when the model
 * has a LUT, relative to the LUT's prediction (the model corrects the
 * sum); a ridge regression on the standardised features first (base=
 * linear: it extrapolates, as trees cannot), then the regressor of
 * predict.h (predictor=gbrt|mlp|gp, or none) on what the linear part
 * leaves. Options (key=value;...):
 *   predictor=gbrt|mlp|gp|none   the regressor of the residuals (gbrt)
 *   predictor_options=...        its options (hwnas describe predictor:gbrt)
 *   base=linear|none             the ridge regression first (linear)
 *   ridge=0.1                    its penalty per example, >= 0
 *   missing=error|nearest|interpolate|scale   a layer the LUT lacks
 *                                (interpolate; HWNAS_LATENCY_LUT_MISSING_*)
 * The estimator kind estimator:latency_model (option model=FILE) gives
 * the metric latency_ms from a saved model.
 *
 * Determinism: the same rows and options fit the same model, bit for bit,
 * at any thread count; a saved model refits itself on load from the rows
 * it keeps, so it predicts exactly as before.
 *
 * Thread rules: add and fit need the model to themselves; a fitted model
 * no longer modified may predict, format and save from many threads.
 */
typedef struct hwnas_latency_model hwnas_latency_model;

/* Features per net (format version 1). */
#define HWNAS_LATENCY_MODEL_FEATURES 23

/*
 * An empty model. lut may be NULL (features of the net alone); else the
 * model keeps its own copy (the LUT may be freed at once). Errors:
 * HWNAS_EINVAL (NULL ctx, bad option: the message names it and lists the
 * valid keys), HWNAS_ENOMEM. *out is the caller's
 * (hwnas_latency_model_free), NULL on error.
 */
HWNAS_API int hwnas_latency_model_new(hwnas_latency_model **out, struct hwnas_context *ctx,
                                      const hwnas_latency_lut *lut, const char *options);

/* Free a model. No-op on NULL. */
HWNAS_API void hwnas_latency_model_free(hwnas_latency_model *model);

/*
 * Add a measured net: its features and its latency ms (finite, > 0).
 * The model is unfitted until the next hwnas_latency_model_fit. Errors:
 * HWNAS_EINVAL (NULL, bad ms, empty net), HWNAS_ENOTFOUND (the LUT lacks
 * a layer and missing=error: the message names it), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_latency_model_add(hwnas_latency_model *model, const struct hwnas_net *net,
                                      double ms);

/* Number of measured nets added (or read). */
HWNAS_API size_t hwnas_latency_model_count(const hwnas_latency_model *model);

/*
 * Fit on every net added. Errors: HWNAS_EINVAL (NULL), HWNAS_ESTATE
 * (fewer than 2 nets: the message says how many), HWNAS_ENOMEM. On error
 * the model is unfitted.
 */
HWNAS_API int hwnas_latency_model_fit(hwnas_latency_model *model);

/*
 * Predicted latency of net in ms (> 0). Errors: HWNAS_EINVAL (NULL,
 * empty net), HWNAS_ESTATE (not fitted), HWNAS_ENOTFOUND (as for add),
 * HWNAS_ENOMEM. Thread-safe on a fitted model no longer modified.
 */
HWNAS_API int hwnas_latency_model_predict(double *out_ms, const hwnas_latency_model *model,
                                          const struct hwnas_net *net);

/*
 * The feature vector of net into out[HWNAS_LATENCY_MODEL_FEATURES]
 * (doc/formats/latency-model.md names them). Errors as for predict, but
 * the model need not be fitted. Thread-safe on a model no longer modified.
 */
HWNAS_API int hwnas_latency_model_features(double *out, const hwnas_latency_model *model,
                                           const struct hwnas_net *net);

/*
 * The same from feature vectors (f[HWNAS_LATENCY_MODEL_FEATURES], as
 * hwnas_latency_model_features gives them, each finite with magnitude at
 * most 1e9): add a measured net by its features, and predict from them -
 * for hosts that keep features rather than nets (thousands of benchmark
 * cells), or compute them elsewhere. Errors as add and predict
 * (HWNAS_EINVAL naming a bad feature). predict_features is thread-safe on
 * a fitted model no longer modified.
 */
HWNAS_API int hwnas_latency_model_add_features(hwnas_latency_model *model, const double *f,
                                               double ms);
HWNAS_API int hwnas_latency_model_predict_features(double *out_ms,
                                                   const hwnas_latency_model *model,
                                                   const double *f);

/*
 * The model as text (doc/formats/latency-model.md: options, the measured
 * rows, the LUT), *out the caller's (hwnas_free); and written atomically
 * to path (gzip when it ends in ".gz"). Errors: HWNAS_EINVAL, HWNAS_EIO
 * (naming path), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_latency_model_format(const hwnas_latency_model *model, char **out);
HWNAS_API int hwnas_latency_model_save(const hwnas_latency_model *model, const char *path);

/*
 * Read a model file (gzip or not), or parse len bytes of text (name for
 * messages, NULL = "<memory>"), and fit it when it has 2 rows or more.
 * Errors: HWNAS_EINVAL (NULL), HWNAS_ENOTFOUND / HWNAS_EIO (the file),
 * HWNAS_EFORMAT (file and line, and what is wrong), HWNAS_EVERSION (a newer
 * format), HWNAS_ENOMEM. *out is the caller's, NULL on error.
 */
HWNAS_API int hwnas_latency_model_load(hwnas_latency_model **out, struct hwnas_context *ctx,
                                       const char *path);
HWNAS_API int hwnas_latency_model_parse(hwnas_latency_model **out, struct hwnas_context *ctx,
                                        const char *text, size_t len, const char *name);

HWNAS_END_DECLS

#endif /* HWNAS_LATENCY_LUT_H */
