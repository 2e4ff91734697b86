/*
 * libhwnas - models: a net with trained fp32 weights.
 *
 * A model is an instance of a net (hwnas_net) with parameters, trained on
 * the CPU by the library's fp32 engine (NCHW tensors, convolutions on
 * OpenBLAS; doc/engine.md) with SGD. It classifies: the net's last node
 * gives one score (logit) per class, or, when the last node is a softmax,
 * the loss reads the softmax's input and predictions are its output.
 *
 * Every node kind of the IR is supported except several input nodes; a net
 * with a kind the engine does not know is refused with HWNAS_EUNSUPPORTED
 * naming the node.
 *
 * Determinism: the same net, seed, options and dataset give bit-identical
 * weights whatever the context's thread count (work is cut into chunks that
 * depend on the batch size only, and partial sums are added in a fixed
 * order).
 *
 * Threads: the model runs its work on the context's threads
 * (hwnas_parallel_for). OpenBLAS is asked to run single-threaded
 * (openblas_set_num_threads(1), a process-wide setting) because the engine
 * calls it from its own workers. A model is not thread-safe: one call at a
 * time on a model; different models may be used from different threads.
 */
#ifndef HWNAS_MODEL_H
#define HWNAS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

struct hwnas_context;
struct hwnas_net;
struct hwnas_dataset;

typedef struct hwnas_model hwnas_model;

/* Events of the training progress callback. */
enum {
    HWNAS_MODEL_EVENT_BATCH = 0, /* a mini-batch was trained */
    HWNAS_MODEL_EVENT_EPOCH = 1  /* an epoch ended */
};

/*
 * Training progress. epoch in [0, epochs); batch in [0, batches) for a
 * BATCH event (batches per epoch), batches for an EPOCH event. loss and
 * accuracy: for BATCH the mean loss and accuracy of that mini-batch, for
 * EPOCH those of the whole epoch (measured while training, with dropout and
 * batch statistics). lr: the learning rate used for the batch (for EPOCH:
 * that of the last batch). Return 0 to go on, non-zero to stop training
 * with HWNAS_EUSER (the weights keep the updates made so far). Called on
 * the thread that called hwnas_model_train().
 */
typedef int (*hwnas_model_progress_cb)(int event, int64_t epoch, int64_t epochs, int64_t batch,
                                       int64_t batches, double loss, double accuracy,
                                       double lr, void *user_data);

/*
 * A model of net with weights initialised from seed: He-normal
 * convolution and linear weights (standard deviation sqrt(2 / fan_in)),
 * zero biases, batch-norm scale 1 and shift 0 with running mean 0 and
 * variance 1, PReLU slopes 0.25. net is copied: the caller may free or
 * change it afterwards.
 *
 * Errors: HWNAS_EINVAL (NULL argument), HWNAS_EUNSUPPORTED (a node the
 * engine cannot run, or not exactly one input node; the message names the
 * node), HWNAS_ENOMEM. *out is the caller's (hwnas_model_free) and NULL on
 * error.
 */
HWNAS_API int hwnas_model_new(hwnas_model **out, struct hwnas_context *ctx,
                              const struct hwnas_net *net, uint64_t seed);

/* Free a model. No-op on NULL. */
HWNAS_API void hwnas_model_free(hwnas_model *model);

/* The model's own copy of its net (borrowed, valid while the model lives;
 * do not modify it). */
HWNAS_API const struct hwnas_net *hwnas_model_net(const hwnas_model *model);

/* Trainable parameters (the net's params cost) and the number of classes
 * (outputs of the net's last node, or of the softmax's input). 0 for NULL. */
HWNAS_API size_t hwnas_model_param_count(const hwnas_model *model);
HWNAS_API size_t hwnas_model_classes(const hwnas_model *model);

/*
 * Train on ds with options "key=value;..." of the kind "model" (list them
 * with hwnas_options_new(&o, ctx, "model") or `hwnas describe model`):
 *   epochs (1), batch (128), lr (0.05), momentum (0.9), nesterov (0),
 *   weight_decay (0), schedule (cosine | step | constant; cosine),
 *   warmup (epochs of linear warm-up, may be fractional; 0),
 *   step_epochs and gamma (step schedule: lr times gamma every step_epochs
 *   epochs; 30 and 0.1), label_smoothing (0), augment (0; 1 = random crop
 *   with crop_pad zero padding and left-right flips with probability flip),
 *   crop_pad (4), flip (0.5), seed (1; the shuffling, augmentation and
 *   dropout streams), init (keep | he | uniform; keep: he or uniform first
 *   re-initialise every parameter and running statistic from seed, with
 *   He-normal convolution and linear weights as hwnas_model_new, or with
 *   weights and biases uniform in +-1/sqrt(fan_in), PyTorch's default).
 * Each epoch visits ds in a fresh shuffled order in batches of `batch` (the
 * last may be smaller); the loss is softmax cross-entropy with label
 * smoothing, averaged over the batch. The momentum buffers start at zero
 * on every call.
 *
 * ds must have the input node's shape (channels x height x width) and at
 * most hwnas_model_classes() classes. cb (may be NULL) gets progress.
 *
 * Errors: HWNAS_EINVAL (NULL model or ds, bad option, a dataset of another
 * shape or with more classes: the message says which), HWNAS_EUSER (cb
 * stopped it), HWNAS_ENOMEM. On error the weights may be partly trained.
 */
HWNAS_API int hwnas_model_train(hwnas_model *model, const struct hwnas_dataset *ds,
                                const char *options, hwnas_model_progress_cb cb,
                                void *user_data);

/*
 * hwnas_model_train with a checkpoint file: after every epoch the run's
 * state (weights with batch-norm running statistics, momentum buffers,
 * epochs done, that epoch's loss and accuracy) is written atomically to
 * `checkpoint` (gzip, checksummed; doc/formats/train-checkpoint.md), before
 * cb hears of the epoch. If the file exists, the run resumes from it after
 * its last finished epoch (init= does not re-initialise then) and ends
 * with the same weights, bit for bit, as one uninterrupted run; if it
 * holds the finished run, the model takes its weights and the call returns
 * at once. A run killed at any moment therefore loses at most the epoch
 * under way. The checkpoint is not removed at the end.
 *
 * The file must come from the same net (by hwnas_net_hash), the same
 * options (every key, defaults included) and the same dataset (count,
 * sample size, labels and a sample of normalised images); otherwise
 * HWNAS_EINVAL names what differs and nothing is written.
 *
 * Errors: those of hwnas_model_train; HWNAS_EINVAL (NULL checkpoint, or a
 * checkpoint of another run); HWNAS_EFORMAT (not a training checkpoint,
 * truncated or corrupted: the message names the file), HWNAS_EVERSION;
 * HWNAS_EIO (the file cannot be read or written: a directory that takes
 * no new files is found before any training, a later failed write ends the
 * run with the previous checkpoint intact). Thread-safety: as
 * hwnas_model_train.
 */
HWNAS_API int hwnas_model_train_checkpoint(hwnas_model *model, const struct hwnas_dataset *ds,
                                           const char *options, const char *checkpoint,
                                           hwnas_model_progress_cb cb, void *user_data);

/* Mean training loss and accuracy of the last epoch of the last
 * hwnas_model_train() call (NaN before any epoch ended). */
HWNAS_API double hwnas_model_train_loss(const hwnas_model *model);
HWNAS_API double hwnas_model_train_accuracy(const hwnas_model *model);

/*
 * Evaluate on ds in inference mode (running batch-norm statistics, no
 * dropout), batch samples at a time (0 = 256). Any output may be NULL:
 * out_accuracy gets the fraction of samples whose arg-max class is the
 * label, out_loss the mean cross-entropy (no smoothing), out_confusion
 * (classes * classes entries, row = true label, column = prediction) the
 * counts. Errors: HWNAS_EINVAL (NULL model or ds, a dataset of another
 * shape or with more classes), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_model_evaluate(double *out_accuracy, double *out_loss,
                                   int64_t *out_confusion, hwnas_model *model,
                                   const struct hwnas_dataset *ds, size_t batch);

/*
 * Classify n images (n * channels * height * width floats, N,C,H,W, the
 * input node's shape) in inference mode. out_probs (may be NULL) gets n *
 * classes softmax probabilities, out_labels (may be NULL) the arg-max
 * classes. Errors: HWNAS_EINVAL (NULL model or images, n == 0, both
 * outputs NULL), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_model_predict(float *out_probs, int32_t *out_labels, hwnas_model *model,
                                  const float *images, size_t n);

/*
 * Save the weights (parameters and batch-norm running statistics) to path,
 * gzip-compressed, written atomically (doc/formats/weights.md). Errors:
 * HWNAS_EINVAL, HWNAS_EIO (naming the path), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_model_save(const hwnas_model *model, const char *path);

/*
 * Load weights saved from a model of the same net (same structure: the
 * file carries the net's hash and every tensor's size). All or nothing: on
 * error the model is unchanged. Errors: HWNAS_EINVAL (NULL argument),
 * HWNAS_ENOTFOUND / HWNAS_EIO (naming the path), HWNAS_EFORMAT (not a
 * weights file, truncated, corrupted, or saved from another net: the
 * message says which and names the path), HWNAS_EVERSION (a newer format
 * version), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_model_load(hwnas_model *model, const char *path);

/* The weights file's uncompressed bytes in memory (*out is the caller's,
 * released with hwnas_free()), and loading from such bytes (name is used
 * in error messages, NULL = "<memory>"). Errors as save and load. */
HWNAS_API int hwnas_model_save_buffer(uint8_t **out, size_t *out_len,
                                      const hwnas_model *model);
HWNAS_API int hwnas_model_load_buffer(hwnas_model *model, const void *data, size_t len,
                                      const char *name);

HWNAS_END_DECLS

#endif /* HWNAS_MODEL_H */
