/*
 * libhwnas - search spaces: genotypes and how they become networks.
 *
 * A space knows one family of architectures. A genotype is a plain vector
 * of genes, gene i in [0, cardinality(i)); strategies see nothing else, so
 * every strategy works with every space. The space samples, mutates and
 * crosses genotypes (its own operators where it has them, generic ones
 * otherwise), decodes a genotype into an hwnas_net, and gives each
 * genotype a phenotype hash: equal for genotypes that decode to the same
 * network, so a search never evaluates the same network twice.
 *
 * Kinds (hwnas describe KIND lists each one's options):
 *   space:cell   the NAS-Bench-201 cell space (6 edges x 5 operations)
 *   space:cgp    Cartesian genetic programming over a grid of layer nodes with
 *                approximate-multiplier genes (EvoApproxNAS)
 *   space:macro  a chain of stages and blocks (ProxylessNAS / MnasNet style)
 *   space:accelerator  accelerators: the parameters a hardware template
 *                lists (doc/formats/hardware-template.md) - PE array, buffer
 *                sizes, data width, dataflow, clock, multiplier
 *   space:cell+accelerator, space:cgp+accelerator, space:macro+accelerator
 *                co-design: a network and the accelerator it runs on. The
 *                genotype is the network's genes, then the hardware's (named
 *                "hw.NAME"); options are the network space's, then the
 *                hardware's prefixed "hw." ("hw.template=my.hwt"); the
 *                phenotype hash covers both halves; the genotype string is
 *                the network's, " @ ", the hardware's. Sampling, mutation
 *                (one half at a time at the default rate) and crossover work
 *                per half, each with its own operators.
 *
 * A space with a hardware half (hwnas_space_has_accel) decodes a genotype
 * to an accelerator description too (hwnas_space_decode_accel). When the
 * hardware has an approximate multiplier, the decoded network's
 * multiplying layers compute with it at 8 bits (so that training sees what
 * the chip computes); with the exact one they stay as the network space
 * made them.
 *
 * Thread rules: creating and freeing a space is not thread-safe. A created
 * space is read-only: every other call may run from many threads at once,
 * each with its own hwnas_rng and hwnas_net.
 */
#ifndef HWNAS_SPACE_H
#define HWNAS_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_space hwnas_space;
struct hwnas_context;
struct hwnas_options;
struct hwnas_rng;
struct hwnas_net;
struct hwnas_accel;

/*
 * Create a space of a registered kind ("space:cell" or "cell") with options
 * "key=value;...". Errors: HWNAS_EINVAL (NULL argument, bad option: the
 * message names it), HWNAS_ENOTFOUND (unknown kind, or a kind that is not a
 * space), HWNAS_ENOMEM. *out is the caller's (hwnas_space_free), NULL on
 * error.
 */
HWNAS_API int hwnas_space_new(hwnas_space **out, struct hwnas_context *ctx,
                              const char *kind, const char *options);

/* Free a space. No-op on NULL. */
HWNAS_API void hwnas_space_free(hwnas_space *space);

/* The kind ("space:cell"). Borrowed. */
HWNAS_API const char *hwnas_space_kind(const hwnas_space *space);

/* The space's options as set at creation (borrowed, read-only). */
HWNAS_API const struct hwnas_options *hwnas_space_options(const hwnas_space *space);

/* Number of genes. */
HWNAS_API size_t hwnas_space_gene_count(const hwnas_space *space);

/* Cardinality of gene i (>= 1); 0 when i is out of range. */
HWNAS_API uint32_t hwnas_space_gene_cardinality(const hwnas_space *space, size_t i);

/* Name of gene i ("edge_2_1"); NULL when out of range. Borrowed. */
HWNAS_API const char *hwnas_space_gene_name(const hwnas_space *space, size_t i);

/* 1 when gene i's values are ordered (a width, a count: neighbours are
 * similar, so strategies may use ordinal operators), 0 when they are
 * categories, -1 when out of range. */
HWNAS_API int hwnas_space_gene_ordinal(const hwnas_space *space, size_t i);

/* log10 of the number of genotypes (product of the cardinalities). */
HWNAS_API double hwnas_space_size_log10(const hwnas_space *space);

/*
 * Check that genes[0..gene_count) are within bounds. Errors:
 * HWNAS_EINVAL naming the first gene out of range and its cardinality.
 */
HWNAS_API int hwnas_space_check(const hwnas_space *space, const uint32_t *genes);

/*
 * Draw a genotype into genes[gene_count] from rng (uniform over the
 * genotypes unless the space documents otherwise). Errors: HWNAS_EINVAL.
 */
HWNAS_API int hwnas_space_sample(const hwnas_space *space, struct hwnas_rng *rng,
                                 uint32_t *genes);

/*
 * Write a mutant of parent into child (both gene_count long; they may be
 * the same array). rate: the probability that each gene changes (0 = the
 * space's default, one gene on average); a changed gene always takes a
 * different value. Spaces with their own operator use it (and may ignore
 * rate: see the kind's documentation). Errors: HWNAS_EINVAL.
 */
HWNAS_API int hwnas_space_mutate(const hwnas_space *space, struct hwnas_rng *rng,
                                 const uint32_t *parent, uint32_t *child, double rate);

/*
 * Cross parents a and b into children c and d (all gene_count long; c or d
 * may be NULL when not wanted). Generic operator: uniform crossover, each
 * gene from either parent with probability 1/2, d the complement of c.
 * Errors: HWNAS_EINVAL.
 */
HWNAS_API int hwnas_space_crossover(const hwnas_space *space, struct hwnas_rng *rng,
                                    const uint32_t *a, const uint32_t *b, uint32_t *c,
                                    uint32_t *d);

/* 1 if the space brings its own mutation (op 0) or crossover (op 1)
 * operator instead of the generic one, else 0. */
HWNAS_API int hwnas_space_has_operator(const hwnas_space *space, int op);
enum { HWNAS_SPACE_OP_MUTATE = 0, HWNAS_SPACE_OP_CROSSOVER = 1 };

/*
 * Decode genes into net: the net is cleared and rebuilt (its memory is
 * reused, so decoding many genotypes into one net is cheap).
 * Errors: HWNAS_EINVAL (genes out of bounds, NULL), HWNAS_EINVALID (the
 * genotype is within bounds but describes no valid network: the message
 * says why; strategies treat it as a failed candidate), HWNAS_ENOMEM.
 * On error the net is left empty.
 */
HWNAS_API int hwnas_space_decode(const hwnas_space *space, const uint32_t *genes,
                                 struct hwnas_net *net);

/*
 * The phenotype hash of genes: equal for genotypes that decode to the
 * same network (for space:cell, exactly NAS-Bench-201's isomorphism
 * classes). Errors as hwnas_space_decode().
 */
/*
 * 1 if the space has a hardware half (space:accelerator and the
 * "+accelerator" composites), else 0 (also for NULL).
 */
HWNAS_API int hwnas_space_has_accel(const hwnas_space *space);

/*
 * Decode the hardware half of genes into a new accelerator description,
 * with its area and energies derived by the model (accel.h): what
 * hwnas_accel_run and hwnas_estimator_estimate_on take.
 * Errors: HWNAS_EINVAL (NULL, genes out of bounds), HWNAS_EUNSUPPORTED (a
 * space without a hardware half), HWNAS_EINVALID (the chosen values make no
 * consistent accelerator, e.g. a buffer smaller than its block: the
 * message says why; a search treats it as a failed candidate),
 * HWNAS_ENOMEM. *out is the caller's (hwnas_accel_free), NULL on error.
 * Thread-safe on a created space.
 *
 * space:accelerator has no network: hwnas_space_decode of it fails with
 * HWNAS_EUNSUPPORTED, and its phenotype hash is the hardware's
 * (hwnas_accel_hash of the decoded description).
 */
HWNAS_API int hwnas_space_decode_accel(struct hwnas_accel **out, const hwnas_space *space,
                                       const uint32_t *genes);

/*
 * The halves of a co-design space (borrowed from space, live as long as
 * it): the network half is the space of the first
 * hwnas_space_gene_count(net_half) genes, the hardware half that of the
 * remaining ones. For a network space, net_half is the space itself and
 * accel_half NULL; for space:accelerator, net_half is NULL and accel_half
 * the space itself; NULL for NULL. A nested search runs its outer strategy
 * on the network half and an inner one on the hardware half.
 */
HWNAS_API const hwnas_space *hwnas_space_net_half(const hwnas_space *space);
HWNAS_API const hwnas_space *hwnas_space_accel_half(const hwnas_space *space);

HWNAS_API int hwnas_space_hash(const hwnas_space *space, const uint32_t *genes,
                               uint64_t *out);

/*
 * A readable genotype string (for space:cell the NAS-Bench-201
 * architecture string "|nor_conv_3x3~0|+|...|"; generically the genes
 * separated by commas). *out is the caller's (hwnas_free).
 * Errors: HWNAS_EINVAL, HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_space_format(const hwnas_space *space, const uint32_t *genes,
                                 char **out);

/*
 * Parse a genotype string written by hwnas_space_format() into
 * genes[gene_count]. Errors: HWNAS_EINVAL (NULL), HWNAS_EFORMAT naming the
 * position and what was expected; genes is unchanged on error.
 */
HWNAS_API int hwnas_space_parse(const hwnas_space *space, const char *text,
                                uint32_t *genes);

/*
 * The feature vector of genes that predictors learn from (predict.h),
 * in an encoding of the space:
 *   "onehot"  every space: gene i one-hot over its cardinality (the sum
 *             of the cardinalities in all)
 *   "path"    space:cell: NAS-Bench-201's path encoding (White et al.,
 *             BANANAS): one feature per sequence of operations along a
 *             path from the cell's input to its output (4 + 16 + 64 = 84;
 *             "none" cuts a path), 1 when the cell has such a path
 *   "active"  space:cgp: the one-hot of the genes that shape the decoded
 *             network (active nodes, the parameters their function uses,
 *             the output), 0 for the inactive ones, so genotypes with the
 *             same phenotype get the same vector
 * encoding NULL or "" is the space's default: "path" for space:cell,
 * "active" for space:cgp, "onehot" for the others. out[cap] receives *n
 * values; out NULL with cap 0 asks only for *n (genes may then be NULL).
 * Errors: HWNAS_EINVAL (NULL space or n, genes out of range, cap smaller
 * than *n: the message says both), HWNAS_ENOTFOUND (an encoding the space
 * does not have: the message lists the ones it has). Thread-safe on a
 * created space.
 */
HWNAS_API int hwnas_space_encode(const hwnas_space *space, const char *encoding,
                                 const uint32_t *genes, double *out, size_t cap, size_t *n);

HWNAS_END_DECLS

#endif /* HWNAS_SPACE_H */
