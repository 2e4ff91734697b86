/*
 * libhwnas - int8 inference with approximate multipliers.
 *
 * An hwnas_quant is a post-training quantised copy of a trained
 * hwnas_model in which every convolution, depthwise convolution and linear
 * layer computes with 8-bit operands and int32 accumulation, and every 8x8
 * product is read from the product table of the multiplier that the net
 * names for that node (hwnas_net_node_multiplier, resolved in an
 * hwnas_axmul_registry). doc/int8.md describes the scheme:
 *
 *  - activations: asymmetric 8-bit per tensor, the range of each quantised
 *    layer's input calibrated (min/max) on a few batches of a dataset, zero
 *    exactly representable (TF's nudging), as tf-approximate does;
 *  - weights: for an unsigned multiplier asymmetric unsigned 8-bit per
 *    tensor (or per output channel); for a signed multiplier symmetric
 *    signed 8-bit per output channel (or per tensor), activations then
 *    being the unsigned codes shifted by -128;
 *  - batch-norm directly after a convolution (its only consumer) is folded
 *    into the convolution's weights and biases before quantisation;
 *  - products P(a, w) come from the table; the zero points are corrected
 *    exactly in integers (sum P - za sum w - zw sum a + K za zw); the int32
 *    result is dequantised to fp32 with the bias, and every other node
 *    (activations, pooling, add, ...) runs in fp32 on the library's engine;
 *    the next quantised layer requantises its input.
 *
 * Threads: a quant model runs its work on the context's threads; it is not
 * thread-safe (one call at a time). It holds copies of the weights and
 * tables it needs: the model and registry may be freed afterwards.
 */
#ifndef HWNAS_QUANT_H
#define HWNAS_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "model.h"

HWNAS_BEGIN_DECLS

struct hwnas_dataset;
struct hwnas_axmul;
struct hwnas_axmul_registry;

typedef struct hwnas_quant hwnas_quant;

/*
 * Quantise model. Options "key=value;..." of the kind "quant" (list them
 * with hwnas_options_new(&o, ctx, "quant")):
 *   calib_batches (4): batches of calib used to calibrate activation ranges;
 *   batch (256): samples per batch, for calibration and evaluation;
 *   weights (auto | tensor | channel): weight scales per tensor or per
 *     output channel; auto = tensor for unsigned and channel for signed
 *     multipliers;
 *   fold_bn (true): fold batch-norm into the convolution before it.
 * calib: samples in the model's input shape (its first
 * calib_batches * batch samples are used; the labels are not). reg: where
 * the multipliers the net names are found; NULL = a registry of the
 * built-in families only.
 *
 * Errors: HWNAS_EINVAL (NULL model or calib, bad option, a dataset of
 * another shape), HWNAS_ENOTFOUND (a multiplier the registry does not know:
 * the message names the node and the multiplier), HWNAS_EUNSUPPORTED (a
 * layer with more than 32768 products per output), HWNAS_ENOMEM. *out is
 * the caller's (hwnas_quant_free) and NULL on error.
 */
HWNAS_API int hwnas_quant_new(hwnas_quant **out, const struct hwnas_model *model,
                              struct hwnas_axmul_registry *reg,
                              const struct hwnas_dataset *calib, const char *options);

/* Free a quant model. No-op on NULL. */
HWNAS_API void hwnas_quant_free(hwnas_quant *q);

/* Number of quantised layers, and the net node index of layer i (-1 out of
 * range). */
HWNAS_API size_t hwnas_quant_layer_count(const hwnas_quant *q);
HWNAS_API int64_t hwnas_quant_layer_node(const hwnas_quant *q, size_t i);

/* The name of the multiplier layer i computes with (borrowed, valid until
 * the multiplier is changed or q freed), NULL out of range. */
HWNAS_API const char *hwnas_quant_layer_multiplier(const hwnas_quant *q, size_t i);

/* The calibrated input range of layer i; errors: HWNAS_EINVAL (NULL, i out
 * of range). */
HWNAS_API int hwnas_quant_layer_range(double *out_min, double *out_max, const hwnas_quant *q,
                                      size_t i);

/*
 * Make layer i (or every layer when i is -1) compute with m (copied; the
 * caller keeps m). Weights are quantised again when the signedness
 * changes. Errors: HWNAS_EINVAL (NULL q or m, i out of range),
 * HWNAS_ENOMEM (q unchanged).
 */
HWNAS_API int hwnas_quant_set_multiplier(hwnas_quant *q, int64_t i,
                                         const struct hwnas_axmul *m);

/*
 * Run n images (n * channels * height * width floats, N,C,H,W) through the
 * int8 path. out_scores (may be NULL) gets n * classes values of the net's
 * last node, out_labels (may be NULL) the arg-max classes. Errors:
 * HWNAS_EINVAL (NULL q or images, n == 0, both outputs NULL), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_quant_predict(float *out_scores, int32_t *out_labels, hwnas_quant *q,
                                  const float *images, size_t n);

/*
 * Accuracy of the int8 path on ds (fraction of samples whose arg-max class
 * is the label) into *out_accuracy; out_confusion (may be NULL) gets
 * classes * classes counts (row = label, column = prediction). Errors:
 * HWNAS_EINVAL (NULL argument, a dataset of another shape or with more
 * classes), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_quant_evaluate(double *out_accuracy, int64_t *out_confusion,
                                   hwnas_quant *q, const struct hwnas_dataset *ds);

/*
 * accuracy_q in one call: quantise model with the multipliers its net
 * names (hwnas_quant_new with calib, reg and options), evaluate on ds and
 * free. Errors: those of hwnas_quant_new and hwnas_quant_evaluate.
 */
HWNAS_API int hwnas_quant_accuracy(double *out_accuracy, const struct hwnas_model *model,
                                   struct hwnas_axmul_registry *reg,
                                   const struct hwnas_dataset *calib,
                                   const struct hwnas_dataset *ds, const char *options);

/*
 * Approximate-multiplier-aware fine-tuning (quantisation-aware retraining)
 * of model, the trained model q was made from, on train; then q is
 * refreshed so that hwnas_quant_evaluate measures the fine-tuned net.
 *
 * Training starts from model's current weights. Its forward pass is the
 * int8 inference of q, bit for bit: batch-norms folded into a convolution
 * use their running statistics (frozen), the folded weights are quantised
 * as at inference, each layer's input is quantised with its calibrated
 * range, every product comes from the layer's multiplier table, and the
 * result is dequantised with the folded bias. The backward pass is the
 * straight-through estimator: the gradient of the fp32 layer at the
 * fake-quantised operands (no gradient where an input saturates), chained
 * through the fold to the raw weights and the batch-norm's scale and
 * shift. The other nodes train as in hwnas_model_train (dropout, batch
 * statistics of batch-norms not folded). SGD, as hwnas_model_train.
 *
 * Options "key=value;..." of the kind "quant_finetune" (list them with
 * hwnas_options_new(&o, ctx, "quant_finetune")): epochs (1), batch (128),
 * lr (0.01), momentum (0.9), weight_decay (0), schedule (cosine |
 * constant), label_smoothing (0), seed (1: shuffling and dropout),
 * recalibrate (false: keep the calibrated input ranges that the
 * fine-tuning used; true: calibrate them again on train's first batches
 * afterwards, as hwnas_quant_new does).
 *
 * Afterwards model holds the fine-tuned fp32 weights (and
 * hwnas_model_train_loss/accuracy those of the last epoch, measured on the
 * int8 forward pass), and q computes with them: weights quantised again
 * from them, with the same multipliers. cb (may be NULL) gets progress as
 * for hwnas_model_train (loss and accuracy of the int8 forward pass).
 * The result is the same for a seed whatever the context's thread count.
 *
 * Errors: HWNAS_EINVAL (NULL q, model or train, bad option, a model whose
 * net is not q's, a dataset of another shape or with more classes, a loss
 * that diverged), HWNAS_EUSER (cb stopped it), HWNAS_ENOMEM. On error the
 * model and q may hold partly fine-tuned weights (q stays usable).
 * Threads: uses the context's threads; q and model are used by one call at
 * a time.
 */
HWNAS_API int hwnas_quant_finetune(hwnas_quant *q, hwnas_model *model,
                                   const struct hwnas_dataset *train, const char *options,
                                   hwnas_model_progress_cb cb, void *user_data);

HWNAS_END_DECLS

#endif /* HWNAS_QUANT_H */
