/*
 * libhwnas - search strategies: ask for genotypes, tell their objectives.
 *
 * A strategy proposes genotypes of a space and learns from their objective
 * vectors. It never sees a network: it works with every space. The host
 * (usually hwnas_search, or a program evaluating on its own cluster) runs
 *
 *     ask  -> evaluate each genotype -> tell -> ask -> ...
 *
 * ask hands out candidates, each with an id; tell takes results by id, in
 * any order and in any grouping, so batches of any size work and
 * evaluations may finish out of order. Objectives are minimised (the
 * search negates the ones to maximise). A candidate may carry a
 * constraint violation (0 = feasible, larger = worse) or be marked failed
 * (it could not be evaluated: it is treated as worse than any feasible or
 * infeasible result).
 *
 * The whole state, random generator included, serialises to bytes
 * (hwnas_strategy_save/load), so a resumed search continues exactly as an
 * uninterrupted one would.
 *
 * Kinds (hwnas describe KIND lists their options):
 *   strategy:random     uniform sampling, de-duplicated by phenotype hash
 *   strategy:ea         CGP-style (1+lambda) with neutral drift, or
 *                       regularized (aging) evolution: option mode
 *   strategy:nsga2      NSGA-II with constraint domination
 *   strategy:reinforce  REINFORCE with a factorised or LSTM policy
 *
 * Thread rules: a strategy is used by one thread at a time. The space it
 * was created with must outlive it.
 */
#ifndef HWNAS_STRATEGY_H
#define HWNAS_STRATEGY_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_strategy hwnas_strategy;
struct hwnas_context;
struct hwnas_options;
struct hwnas_space;

/*
 * Create a strategy of kind for space, optimising n_objectives objectives.
 * options: "key=value;..." (every kind has seed, among others; seed 0
 * means the context's seed). Errors: HWNAS_EINVAL (NULL argument,
 * n_objectives 0 or more than the kind supports, bad option),
 * HWNAS_ENOTFOUND (unknown kind), HWNAS_ENOMEM. *out is the caller's.
 */
HWNAS_API int hwnas_strategy_new(hwnas_strategy **out, struct hwnas_context *ctx,
                                 const char *kind, const char *options,
                                 const struct hwnas_space *space, size_t n_objectives);

/* Free a strategy. No-op on NULL. */
HWNAS_API void hwnas_strategy_free(hwnas_strategy *strategy);

/* The kind ("strategy:nsga2") and options (borrowed). */
HWNAS_API const char *hwnas_strategy_kind(const hwnas_strategy *strategy);
HWNAS_API const struct hwnas_options *hwnas_strategy_options(const hwnas_strategy *strategy);

/*
 * Ask for up to max candidates. Writes count genotypes into
 * genes[count * gene_count] and their ids into ids[count]; count may be
 * less than max (0 when the strategy waits for results it handed out:
 * tell them first) . Ids are unique within the strategy's life and survive
 * save/load. Errors: HWNAS_EINVAL (NULL argument), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_strategy_ask(hwnas_strategy *strategy, size_t max, uint32_t *genes,
                                 uint64_t *ids, size_t *count);

/*
 * Tell the results of count candidates: ids from ask, objectives
 * [count * n_objectives] (minimised; finite unless failed), violations
 * [count] or NULL (all feasible), failed[count] or NULL (none failed).
 * Errors: HWNAS_EINVAL (unknown or already told id, non-finite objective
 * of a non-failed candidate: the message names the id); on error nothing
 * is told.
 */
HWNAS_API int hwnas_strategy_tell(hwnas_strategy *strategy, size_t count,
                                  const uint64_t *ids, const double *objectives,
                                  const double *violations, const int *failed);

/* Number of candidates asked for and not yet told. */
HWNAS_API size_t hwnas_strategy_pending(const hwnas_strategy *strategy);

/*
 * Serialise the whole state (pending candidates, population, generator)
 * into a buffer *out of *len bytes, the caller's (hwnas_free). The format
 * is versioned; see doc/formats/strategy-state.md.
 */
HWNAS_API int hwnas_strategy_save(const hwnas_strategy *strategy, uint8_t **out,
                                  size_t *len);

/*
 * Replace the state of strategy (created with the same kind, options,
 * space and objective count) by one saved with hwnas_strategy_save.
 * Errors: HWNAS_EFORMAT (truncated or corrupted data, or state of another
 * kind or space: the message says which), HWNAS_EVERSION; strategy is
 * unchanged on error.
 */
HWNAS_API int hwnas_strategy_load(hwnas_strategy *strategy, const uint8_t *data,
                                  size_t len);

HWNAS_END_DECLS

#endif /* HWNAS_STRATEGY_H */
