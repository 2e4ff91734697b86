/*
 * libhwnas - supernets: weight sharing (one-shot NAS).
 *
 * A supernet holds one set of weights shared by every candidate of a space:
 * trained once with single-path uniform sampling (SPOS: each mini-batch
 * trains one randomly chosen path), it rates a candidate in well under a
 * second by the accuracy of that path with the inherited weights, after its
 * batch-norm statistics are recalibrated on a few hundred images.
 *
 * Spaces: "cell", the NAS-Bench-201 cell space (space:cell): every edge of
 * every cell holds all five operations (none, skip_connect, nor_conv_1x1,
 * nor_conv_3x3, avg_pool_3x3). A path is a choice vector: one operation
 * per edge, 6 edges, in NAS-Bench-201's edge order and operation order -
 * exactly space:cell's genotype, so a cell genotype is a choice vector. The
 * path's network is built node for node as space:cell decodes that
 * genotype (same nodes, names and hash), so a sub-network extracted from a
 * supernet is the stand-alone candidate with copied weights.
 *
 * "macro", space:macro (Once-for-All style): each block slot of a stage
 * holds its largest blocks (widest, kernel 5, expansion 6, with
 * squeeze-excitation, and the skip's projection); a path's layers take
 * slices of them (the first channels, the centre of the kernel) and its
 * depth the first slots. A path is space:macro's genotype (exact
 * multipliers only: the multiplier gene has one value) and its network is
 * built as space:macro decodes it (same nodes, names and hash).
 *
 * "cgp", space:cgp (EvoApproxNAS-style CGP grid): every grid node holds a
 * choice block, the weights of every function it can take at the widest
 * channel count a node can have; a path's layers take slices of them (the
 * first channels, the centre or top-left corner of the kernel). A path is
 * space:cgp's genotype (exact 32-bit multipliers only: every multiplier
 * gene has one value) and its network is built as space:cgp decodes it.
 *
 * Storage: the shared weights are those of the "full" net, the cell skeleton
 * whose nodes sum every operation of every incoming edge (every path is a
 * sub-graph of it; a differentiable search weights that sum). They are a
 * model's weights in the weights format (doc/formats/weights.md), embedded
 * in the supernet file with the construction options, the input
 * normalisation and the training state (doc/formats/supernet.md).
 *
 * Determinism: the same options, seed and dataset give bit-identical
 * weights at any thread count, and a training resumed from its checkpoint
 * after a kill ends with the weights of an uninterrupted one.
 *
 * Threads: a supernet is not thread-safe while it trains or loads; once
 * trained, hwnas_supernet_subnet() and hwnas_supernet_rate() may be called
 * from several threads at once (they only read it).
 */
#ifndef HWNAS_SUPERNET_H
#define HWNAS_SUPERNET_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "model.h"

HWNAS_BEGIN_DECLS

struct hwnas_context;
struct hwnas_dataset;
struct hwnas_model;

typedef struct hwnas_supernet hwnas_supernet;

/*
 * A supernet of space "cell" with options "key=value;..." of the kind
 * "supernet:nb201" (hwnas describe supernet:nb201; not "supernet:cell",
 * which would make the bare name "cell" ambiguous with space:cell):
 * channels (16), cells (5), classes (10), input_channels (3), input_size
 * (32) - the same meaning and defaults as space:cell's - and seed (1),
 * which initialises the shared weights as hwnas_model_new does. Or of space
 * "macro" with options of the kind "supernet:ofa": space:macro's options
 * and defaults less multipliers (input_channels at most 64), and seed. Or
 * of space "cgp" with options of the kind "supernet:cgp": space:cgp's rows,
 * cols (rows*cols at most 256), levels_back, input_channels (at most 64),
 * input_size, classes, min_size and stem with its defaults, and seed.
 * Errors: HWNAS_EINVAL (NULL
 * argument, bad option), HWNAS_ENOTFOUND (unknown space: the message lists
 * the known ones), HWNAS_ENOMEM. *out is the caller's
 * (hwnas_supernet_free), NULL on error.
 */
HWNAS_API int hwnas_supernet_new(hwnas_supernet **out, struct hwnas_context *ctx,
                                 const char *space, const char *options);

/* Free a supernet. No-op on NULL. */
HWNAS_API void hwnas_supernet_free(hwnas_supernet *sn);

/*
 * Read a supernet file (a finished training or a checkpoint). Errors:
 * HWNAS_EINVAL (NULL argument), HWNAS_ENOTFOUND / HWNAS_EIO (naming the
 * path), HWNAS_EFORMAT (not a supernet file, truncated, corrupted, bad
 * options or weights: the message names the path and what is wrong),
 * HWNAS_EVERSION (a newer format version), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_supernet_load(hwnas_supernet **out, struct hwnas_context *ctx,
                                  const char *path);

/* Write sn to path, gzip-compressed and atomically (temporary file, fsync,
 * rename): the weights, and the training state for a resume. Errors:
 * HWNAS_EINVAL, HWNAS_EIO (naming the path), HWNAS_ENOMEM. */
HWNAS_API int hwnas_supernet_save(const hwnas_supernet *sn, const char *path);

/* The space's name ("cell", "macro" or "cgp"), the construction options as text
 * (canonical, seed last; borrowed,
 * valid while sn lives), the length of a choice vector and the number of
 * choices of each of its entries. NULL / 0 for NULL. */
HWNAS_API const char *hwnas_supernet_space(const hwnas_supernet *sn);
HWNAS_API const char *hwnas_supernet_options(const hwnas_supernet *sn);
HWNAS_API size_t hwnas_supernet_choice_count(const hwnas_supernet *sn);
HWNAS_API uint32_t hwnas_supernet_choice_cardinality(const hwnas_supernet *sn, size_t i);

/* Training steps done and planned (0 before any training), the shared
 * parameters (the full net's), and the input normalisation the supernet was
 * trained with (channels values each; 0 and 1 before training). */
HWNAS_API uint64_t hwnas_supernet_steps_done(const hwnas_supernet *sn);
HWNAS_API uint64_t hwnas_supernet_steps_total(const hwnas_supernet *sn);
HWNAS_API size_t hwnas_supernet_param_count(const hwnas_supernet *sn);
HWNAS_API int hwnas_supernet_normalization(double *out_mean, double *out_std,
                                           const hwnas_supernet *sn);

/*
 * The choice vector (hwnas_supernet_choice_count() entries) of a
 * candidate's key: for "cell", a NAS-Bench-201 architecture string
 * (|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|); for "macro" and
 * "cgp", the space's genotype text (the genes, comma-separated). Errors:
 * HWNAS_EINVAL (NULL argument), HWNAS_EFORMAT (not such a string, or a
 * choice out of range: the message gives the position or the choice).
 */
HWNAS_API int hwnas_supernet_parse_key(uint32_t *out_choices, const hwnas_supernet *sn,
                                       const char *key);

/*
 * The stand-alone model of the path choices, with the shared weights (and
 * running statistics) copied in. Its net equals the one space:cell (or
 * space:macro, space:cgp) decodes for that genotype under the same
 * options. Errors: HWNAS_EINVAL (NULL argument, a choice out of range: the
 * message names the entry), HWNAS_ENOMEM. *out is the caller's (hwnas_model_free).
 */
HWNAS_API int hwnas_supernet_subnet(struct hwnas_model **out, const hwnas_supernet *sn,
                                    const uint32_t *choices);

/*
 * Recalibrate the batch-norm running statistics of model on the first n
 * samples of ds (all of them when n is 0 or larger): they become the
 * average over those samples' mini-batches (of `batch` samples; 0 = 128)
 * of the batch statistics, as PyTorch with momentum=None - what a path
 * taken out of a supernet needs before it is measured, since the shared
 * statistics mix every path's. Weights are unchanged. Errors:
 * HWNAS_EINVAL (NULL argument, a dataset of another shape), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_supernet_calibrate(struct hwnas_model *model,
                                       const struct hwnas_dataset *ds, size_t n, size_t batch);

/*
 * Rate a path: its stand-alone model (hwnas_supernet_subnet), recalibrated
 * on the first n_calib samples of calib, then evaluated on the first
 * n_eval samples of eval (0: all); *out_accuracy gets the top-1 accuracy
 * in [0, 1]. Datasets are used as given (normalise them with
 * hwnas_supernet_normalization first). Errors as the calls it makes.
 */
HWNAS_API int hwnas_supernet_rate(double *out_accuracy, const hwnas_supernet *sn,
                                  const uint32_t *choices, const struct hwnas_dataset *calib,
                                  size_t n_calib, const struct hwnas_dataset *eval,
                                  size_t n_eval);

/*
 * Train sn with SPOS on ds (normalised by the caller; its per-channel mean
 * and std are recorded with normalization, channels values each, may be
 * NULL for 0 and 1). Options of the kind "supernet_train": epochs (10),
 * batch (64), lr (0.05, cosine schedule to 0), momentum (0.9), nesterov
 * (0), weight_decay (5e-4), seed (1: data order and path sampling),
 * checkpoint_every (steps between checkpoints, 200), and for "macro" and
 * "cell" sandwich (0; n >= 1: every step trains the largest path - for
 * "cell" the cell of six nor_conv_3x3 edges -, for "macro" also the
 * smallest, and n uniform paths on the batch and makes one update from
 * their summed gradients) and distill (0; 1 needs sandwich: the paths but
 * the largest learn the largest's softmax outputs - in-place
 * distillation).
 *
 * Each step draws a path uniformly (every choice uniform, from the stream
 * of (seed, step)), trains it on one mini-batch and updates only that
 * path's weights (its slices of them for "macro") and momentum (the others
 * are untouched, as PyTorch's SGD skips parameters without gradients).
 *
 * checkpoint (may be NULL) is written atomically every checkpoint_every
 * steps and at the end; a supernet loaded from it continues where it
 * stopped when trained again with the same options and dataset (otherwise
 * HWNAS_EINVAL names the option that differs). A supernet whose training
 * is complete returns at once. cb (may be NULL) gets progress as
 * hwnas_model_train's.
 *
 * Errors: HWNAS_EINVAL (NULL argument, bad option, sandwich or distill for
 * "cgp", distill without sandwich, a dataset of another shape, the loss
 * diverged: the message gives the step), HWNAS_EUSER (cb
 * stopped it; a checkpoint is written first), HWNAS_EIO (the checkpoint),
 * HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_supernet_train(hwnas_supernet *sn, const struct hwnas_dataset *ds,
                                   const double *mean, const double *std,
                                   const char *options, const char *checkpoint,
                                   hwnas_model_progress_cb cb, void *user_data);

HWNAS_END_DECLS

#endif /* HWNAS_SUPERNET_H */
