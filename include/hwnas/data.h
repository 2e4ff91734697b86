/*
 * libhwnas - datasets: IDX files, in-memory sets, splits, batches,
 * augmentation.
 *
 * A dataset (hwnas_dataset) is a list of samples, each an image stored as
 * float in C,H,W order (channels, height, width) with an int32 label in
 * [0, classes). Datasets come from files (the IDX format of MNIST and
 * Fashion-MNIST, plain or gzip; see doc/formats/idx.md) or from the host's
 * memory. Splits and subsets are views: they share the parent's samples
 * (reference-counted, so each view and the parent are freed independently
 * and in any order) and only hold their own list of sample positions and
 * their own normalisation.
 *
 * Randomness: everything random (splits, subsets, shuffles, augmentation)
 * takes an explicit seed (and, where it varies, an epoch) and derives its
 * own stream from it (doc/data.md), so the same seed gives the same result
 * whatever the thread count, the batch size or the order of calls.
 *
 * Thread rules: a dataset is read-only after creation except for
 * hwnas_dataset_normalize(). Reading calls (count, shape, label, batch,
 * stats, shuffle, the constructors of views) may run concurrently on one
 * dataset from several threads; normalize must not run concurrently with
 * anything else on the same dataset. Freeing views and parents from
 * different threads is safe.
 */
#ifndef HWNAS_DATA_H
#define HWNAS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

struct hwnas_context;

/* ---- IDX arrays --------------------------------------------------------- */

typedef struct hwnas_idx hwnas_idx;

/* IDX element types: the third byte of the magic number. */
enum {
    HWNAS_IDX_UBYTE = 0x08,  /* uint8 */
    HWNAS_IDX_SBYTE = 0x09,  /* int8 */
    HWNAS_IDX_SHORT = 0x0B,  /* int16, big-endian in the file */
    HWNAS_IDX_INT = 0x0C,    /* int32, big-endian in the file */
    HWNAS_IDX_FLOAT = 0x0D,  /* IEEE-754 binary32, big-endian in the file */
    HWNAS_IDX_DOUBLE = 0x0E  /* IEEE-754 binary64, big-endian in the file */
};

/*
 * Read an IDX file (plain, or gzip-compressed: detected by its content, not
 * its name). The header is checked in full: two zero bytes, a known element
 * type, a rank of at least 1, and a data size that matches the dimensions
 * exactly (neither missing nor extra bytes).
 *
 * Errors (the message names the file and what was wrong, e.g. "x.gz: header
 * says 10000 items but the file holds 9999"): HWNAS_EINVAL (NULL argument),
 * HWNAS_ENOTFOUND (no such file), HWNAS_EIO, HWNAS_EFORMAT (bad magic,
 * unknown type, size mismatch, corrupt gzip), HWNAS_ENOMEM. On success *out
 * is the caller's (hwnas_idx_free); on error it is NULL.
 */
HWNAS_API int hwnas_idx_read(hwnas_idx **out, struct hwnas_context *ctx, const char *path);

/*
 * Parse IDX data already in memory (not compressed; the bytes are copied).
 * name is used in error messages in place of a file name (NULL: "<memory>").
 * Errors as hwnas_idx_read() except ENOTFOUND/EIO.
 */
HWNAS_API int hwnas_idx_parse(hwnas_idx **out, struct hwnas_context *ctx, const void *data,
                              size_t size, const char *name);

/* Free an IDX array. No-op on NULL. */
HWNAS_API void hwnas_idx_free(hwnas_idx *idx);

/* Element type (HWNAS_IDX_*), rank (number of dimensions, >= 1), dimension
 * i (0 when i >= rank; dimension 0 is the item count) and total number of
 * elements (the product of the dimensions). */
HWNAS_API int hwnas_idx_type(const hwnas_idx *idx);
HWNAS_API size_t hwnas_idx_rank(const hwnas_idx *idx);
HWNAS_API size_t hwnas_idx_dim(const hwnas_idx *idx, size_t i);
HWNAS_API size_t hwnas_idx_size(const hwnas_idx *idx);

/* The elements in row-major order, in host byte order, of the C type that
 * hwnas_idx_type() names (uint8_t, int8_t, int16_t, int32_t, float,
 * double). Borrowed: valid until the array is freed. */
HWNAS_API const void *hwnas_idx_data(const hwnas_idx *idx);

/*
 * Convert n elements starting at element first to double, into out[n].
 * Errors: HWNAS_EINVAL (NULL idx or out, or [first, first + n) beyond the
 * array; out is untouched then).
 */
HWNAS_API int hwnas_idx_get_double(double *out, const hwnas_idx *idx, size_t first, size_t n);

/* ---- datasets ------------------------------------------------------------ */

typedef struct hwnas_dataset hwnas_dataset;

/* Ways of choosing samples (hwnas_dataset_subset, hwnas_dataset_split). */
enum {
    HWNAS_DATASET_FIRST = 0,      /* the first n, in order (subset only) */
    HWNAS_DATASET_RANDOM = 1,     /* n drawn uniformly without replacement */
    HWNAS_DATASET_STRATIFIED = 2  /* n drawn per class, in proportion to the
                                     class sizes (largest remainder) */
};

/*
 * Load a named dataset with "key=value;..." options (NULL = defaults).
 *
 *   "fashion-mnist": Fashion-MNIST (60,000 training and 10,000 test images,
 *       1x28x28, 10 classes). Options: split=train|test (default train);
 *       dir=the directory holding train-images-idx3-ubyte.gz,
 *       train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
 *       t10k-labels-idx1-ubyte.gz (or the same names without .gz), default
 *       /usr/share/datasets/fashion-mnist, which the Debian package
 *       dataset-fashion-mnist installs; scale=factor applied to the byte
 *       values (default 1/255, giving [0, 1]).
 *   "idx": any pair of IDX files. Options: images=path (required; rank 2
 *       is N x F, read as 1x1xF; rank 3 N x H x W, read as 1xHxW; rank 4
 *       N x C x H x W, or N x H x W x C with layout=nhwc); labels=path
 *       (required; rank 1, an integer type); scale=factor applied to the
 *       values (default 0 = automatic: 1/255 for unsigned bytes, else 1);
 *       classes=count (default 0 = the largest label + 1).
 *
 * Every label must lie in [0, classes). Errors: HWNAS_EINVAL (NULL
 * argument, bad option: the message names it), HWNAS_ENOTFOUND (unknown
 * dataset name; missing files: for Fashion-MNIST the message says to run
 * `apt-get install dataset-fashion-mnist` or to set dir=), HWNAS_EIO,
 * HWNAS_EFORMAT (malformed file, image and label counts that differ, a
 * label out of range: the message names the file), HWNAS_ENOMEM. On
 * success *out is the caller's (hwnas_dataset_free); on error it is NULL.
 */
HWNAS_API int hwnas_dataset_load(hwnas_dataset **out, struct hwnas_context *ctx,
                                 const char *name, const char *options);

/*
 * A dataset from host memory (copied in): n samples of channels x height x
 * width floats each, in N,C,H,W order, and n labels. classes = 0 means the
 * largest label + 1. Errors: HWNAS_EINVAL (NULL pointer, a zero size, a
 * size whose product overflows, a label < 0 or >= classes, or a non-finite
 * value: the message gives its index), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_dataset_from_float(hwnas_dataset **out, struct hwnas_context *ctx,
                                       const float *images, const int32_t *labels, size_t n,
                                       size_t channels, size_t height, size_t width,
                                       size_t classes);

/*
 * Like hwnas_dataset_from_float() from bytes: each image value becomes
 * byte * scale (scale finite; 1.0 / 255 gives [0, 1]); labels are bytes.
 */
HWNAS_API int hwnas_dataset_from_u8(hwnas_dataset **out, struct hwnas_context *ctx,
                                    const uint8_t *images, const uint8_t *labels, size_t n,
                                    size_t channels, size_t height, size_t width,
                                    double scale, size_t classes);

/* Free a dataset (its views stay valid). No-op on NULL. */
HWNAS_API void hwnas_dataset_free(hwnas_dataset *ds);

/* Number of samples; image shape; floats per image (channels * height *
 * width); number of classes. 0 for NULL. */
HWNAS_API size_t hwnas_dataset_count(const hwnas_dataset *ds);
HWNAS_API size_t hwnas_dataset_channels(const hwnas_dataset *ds);
HWNAS_API size_t hwnas_dataset_height(const hwnas_dataset *ds);
HWNAS_API size_t hwnas_dataset_width(const hwnas_dataset *ds);
HWNAS_API size_t hwnas_dataset_sample_size(const hwnas_dataset *ds);
HWNAS_API size_t hwnas_dataset_classes(const hwnas_dataset *ds);

/* Label of sample i, or -1 when ds is NULL or i >= count. */
HWNAS_API int32_t hwnas_dataset_label(const hwnas_dataset *ds, size_t i);

/* Number of samples of each class into out_counts[classes]. Errors:
 * HWNAS_EINVAL (NULL argument). */
HWNAS_API int hwnas_dataset_histogram(size_t *out_counts, const hwnas_dataset *ds);

/*
 * A view of n samples of ds. mode: HWNAS_DATASET_FIRST (positions 0..n-1),
 * HWNAS_DATASET_RANDOM or HWNAS_DATASET_STRATIFIED (chosen with seed; the
 * chosen samples keep their order in ds). n == count gives all of ds. The
 * view inherits ds's normalisation. Errors: HWNAS_EINVAL (NULL argument,
 * n == 0 or n > count, unknown mode), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_dataset_subset(hwnas_dataset **out, const hwnas_dataset *ds, size_t n,
                                   int mode, uint64_t seed);

/*
 * A view of the samples at positions[0..n) of ds, in that order (repeats
 * allowed). Errors: HWNAS_EINVAL (NULL argument, n == 0, a position >=
 * count: the message gives its index), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_dataset_select(hwnas_dataset **out, const hwnas_dataset *ds,
                                   const size_t *positions, size_t n);

/*
 * Split ds into a training and a validation view: round(count *
 * val_fraction) samples go to validation, the rest to training, each
 * keeping ds's order. mode: HWNAS_DATASET_RANDOM, or
 * HWNAS_DATASET_STRATIFIED to keep the class proportions in both.
 * The same seed always gives the same split. Both views inherit ds's
 * normalisation. Errors: HWNAS_EINVAL (NULL argument, val_fraction outside
 * (0, 1) or leaving either part empty, unknown mode), HWNAS_ENOMEM; on
 * error both outputs are NULL.
 */
HWNAS_API int hwnas_dataset_split(hwnas_dataset **out_train, hwnas_dataset **out_val,
                                  const hwnas_dataset *ds, double val_fraction, int mode,
                                  uint64_t seed);

/*
 * Per-channel mean and standard deviation (population, divisor N*H*W) of
 * ds's stored values, ignoring any normalisation set on ds, into
 * out_mean[channels] and out_std[channels]. Computed in a fixed order, so
 * the result does not depend on threads. Errors: HWNAS_EINVAL.
 */
HWNAS_API int hwnas_dataset_stats(double *out_mean, double *out_std, const hwnas_dataset *ds);

/*
 * Make ds deliver (x - mean[c]) / std[c] for every value x of channel c
 * (mean and std arrays of `channels` entries, copied); it replaces any
 * previous normalisation of ds (not of its parent or other views). NULL
 * mean and std remove it. Typical use: stats on the training split, then
 * normalize the training, validation and test sets with them. Errors:
 * HWNAS_EINVAL (only one of mean/std NULL, a non-finite mean, a std that is
 * not finite and > 0: the message names the channel), HWNAS_ENOMEM; ds is
 * unchanged on error. Not thread-safe with other calls on ds.
 */
HWNAS_API int hwnas_dataset_normalize(hwnas_dataset *ds, const double *mean, const double *std);

/*
 * Fill out_order[count] with a permutation of [0, count) drawn from the
 * stream of (seed, epoch): the order of one training epoch. Allocates
 * nothing. Errors: HWNAS_EINVAL (NULL argument).
 */
HWNAS_API int hwnas_dataset_shuffle(size_t *out_order, const hwnas_dataset *ds, uint64_t seed,
                                    uint64_t epoch);

/*
 * Copy the samples at positions[0..n) of ds into out_images (n *
 * sample_size floats, N,C,H,W, normalised if ds is) and their labels into
 * out_labels[n] (either output may be NULL to skip it). Errors:
 * HWNAS_EINVAL (NULL ds or positions, both outputs NULL, a position >=
 * count: the message gives its index; the outputs may be partly written).
 */
HWNAS_API int hwnas_dataset_batch(float *out_images, int32_t *out_labels,
                                  const hwnas_dataset *ds, const size_t *positions, size_t n);

/*
 * Like hwnas_dataset_batch() with augmentation: each image is padded by
 * `pad` zeros on every side (zero in the stored scale, before
 * normalisation, as a crop-then-normalise pipeline does), cropped back to
 * height x width at a random offset, and flipped left-right with
 * probability flip_prob. Sample positions[j] draws from its own stream of
 * (seed, epoch, positions[j]), so its augmentation does not depend on the
 * batch it is in, the batch size or the thread count. pad = 0 and
 * flip_prob = 0 give exactly hwnas_dataset_batch(); flip_prob = 1 flips
 * every image. Errors as hwnas_dataset_batch(), plus HWNAS_EINVAL for
 * flip_prob outside [0, 1] or pad > max(height, width).
 */
HWNAS_API int hwnas_dataset_batch_augment(float *out_images, int32_t *out_labels,
                                          const hwnas_dataset *ds, const size_t *positions,
                                          size_t n, size_t pad, double flip_prob,
                                          uint64_t seed, uint64_t epoch);

HWNAS_END_DECLS

#endif /* HWNAS_DATA_H */
