/* libhwnas strategies - what each strategy kind implements. Not installed. */
#ifndef HWNAS_STRATEGY_INTERNAL_H
#define HWNAS_STRATEGY_INTERNAL_H

#include <float.h>

#include "core/core_internal.h"
#include "hwnas/space.h"
#include "hwnas/strategy.h"

/* ---- the strategy object ---------------------------------------------- */

/* One told result, as a kind sees it. */
typedef struct hwnas__strategy_result {
    uint64_t tag;          /* the tag the kind gave the candidate at ask */
    const uint32_t *genes; /* n_genes */
    const double *obj;     /* n_objectives, minimised; all DBL_MAX when failed */
    double violation;      /* 0 feasible, > 0 infeasible; DBL_MAX when failed */
    int failed;            /* 1 when the candidate could not be evaluated */
    int unevaluated;       /* 1: never estimated (a guided search's pool member that was
                            * not chosen); failed is 1 too, so a kind that ignores this
                            * field treats it as failed; steady-state kinds skip it */
} hwnas__strategy_result;

/* A strategy kind's operations (kind->impl). */
typedef struct hwnas__strategy_impl {
    size_t max_objectives; /* 0 = any number */
    /* Build s->state from s->options (seed and RNG are already set). */
    int (*init)(hwnas_strategy *s);
    void (*fini)(hwnas_strategy *s);
    /* Propose up to max (>= 1) candidates: genes[k * n_genes] and a tag
     * each (the kind's own handle, given back at tell); *count may be 0
     * when the kind waits for results. */
    int (*ask)(hwnas_strategy *s, size_t max, uint32_t *genes, uint64_t *tags,
               size_t *count);
    /* Take results whose ids the framework checked. Cannot fail: a kind
     * defers work that allocates to its next ask. */
    void (*tell)(hwnas_strategy *s, size_t n, const hwnas__strategy_result *r);
    /* Append the kind's state / read it back into a fresh s->state (the
     * framework state, pending candidates included, is loaded first so the
     * kind can check its tags against them). */
    int (*save)(const hwnas_strategy *s, hwnas__writer *w);
    int (*load)(hwnas_strategy *s, hwnas__reader *r);
} hwnas__strategy_impl;

struct hwnas_strategy {
    hwnas_context *ctx;            /* allocator; outlives the strategy */
    const hwnas__kind *kind;       /* kind->impl is an hwnas__strategy_impl */
    hwnas_options *options;        /* owned */
    const hwnas_space *space;      /* borrowed; outlives the strategy */
    size_t n_genes;                /* hwnas_space_gene_count(space) */
    size_t n_obj;                  /* objectives per candidate, >= 1 */
    uint64_t seed;                 /* effective seed (option, or the context's) */
    hwnas_rng *rng;                /* owned; the kind's only source of randomness */
    uint64_t next_id;              /* id of the next candidate handed out */
    size_t n_pending, cap_pending; /* candidates handed out, not yet told */
    uint64_t *pend_id;             /* n_pending ids, strictly increasing */
    uint64_t *pend_tag;            /* the kind's tag of each */
    uint32_t *pend_genes;          /* n_pending * n_genes */
    void *state;                   /* the kind's own, freed by fini */
};

/* Tell count pending candidates that they will never be evaluated (a
 * predictor-guided search ranked them out, lib/search/guide.c). They reach
 * the kind as failed results marked unevaluated: generational kinds
 * (nsga2, ea one_plus_lambda) complete their generation with them as
 * failed, steady-state ones (ea regularized, reinforce) leave them out of
 * their population and policy. Errors as hwnas_strategy_tell. */
int hwnas__strategy_tell_unevaluated(hwnas_strategy *s, size_t count, const uint64_t *ids);

/* The RNG state inside s->rng. */
hwnas__rng *hwnas__strategy_rng(hwnas_strategy *s);

/* Integer option by name (the kind's table is known to have it). */
int64_t hwnas__strategy_opt_int(const hwnas_strategy *s, const char *key);
double hwnas__strategy_opt_float(const hwnas_strategy *s, const char *key);
const char *hwnas__strategy_opt_str(const hwnas_strategy *s, const char *key);

/* Recompute the trailing checksum of a saved state in place (len >= 8);
 * for the fuzz target, so that mutated inputs reach the parser. */
void hwnas__strategy_fix_checksum(uint8_t *data, size_t len);

/* ---- variation helpers shared by the evolutionary kinds --------------- */

/* 1 when gene i gets ordinal operators (the space flags it, or all_ordinal). */
int hwnas__strategy_gene_ordinal(const hwnas_strategy *s, size_t i, int all_ordinal);
/* Bounded SBX (Deb and Agrawal 1995) on integer genes in [0, card), each
 * ordinal gene with probability 1/2; categorical genes swap with
 * probability 1/2. c, d receive the children. */
void hwnas__strategy_sbx(hwnas_strategy *s, const uint32_t *a, const uint32_t *b, uint32_t *c,
                         uint32_t *d, double eta, int all_ordinal);
/* Per-gene mutation with probability rate: polynomial mutation (Deb) on
 * ordinal genes, a different random value on categorical ones. */
void hwnas__strategy_polymut(hwnas_strategy *s, uint32_t *g, double rate, double eta,
                             int all_ordinal);

/* ---- candidates with their results, as the evolutionary kinds keep them -- */

typedef struct hwnas__group {
    uint32_t *g; /* n * n_genes */
    double *o;   /* n * m objectives */
    double *v;   /* n violations */
    uint8_t *f;  /* n failed flags */
} hwnas__group;

int hwnas__group_alloc(const hwnas_context *ctx, hwnas__group *g, size_t n, size_t ng, size_t m);
void hwnas__group_free(const hwnas_context *ctx, hwnas__group *g);
void hwnas__group_save(hwnas__writer *w, const hwnas__group *g, size_t n, size_t ng, size_t m);
/* Read n entries, checking genes against the space and flags; 0 = bad. */
int hwnas__group_load(const hwnas_strategy *s, hwnas__reader *r, hwnas__group *g, size_t n);

/* ---- scalarisation for single-objective kinds (scalarize.c) ----------- */

/* Turns objective vectors into one number to minimise: a weighted sum of
 * objectives normalised by the running min/max of feasible results, or one
 * objective. Constraints by tiers: feasible < infeasible (by violation) <
 * failed. */
typedef struct hwnas__scalarizer {
    size_t m;          /* objectives */
    int objective;     /* -1: weighted sum; else the objective used */
    double *w;         /* m weights (weighted sum) */
    double *lo, *hi;   /* m running min / max over feasible results */
    uint64_t seen;     /* feasible results folded into lo/hi */
} hwnas__scalarizer;

/* Build from options "weights" (comma-separated, "" = all 1) and
 * "objective" (-1 = weighted sum). Errors name the option. */
int hwnas__scalarizer_init(hwnas__scalarizer *z, hwnas_strategy *s);
void hwnas__scalarizer_fini(hwnas__scalarizer *z, const hwnas_context *ctx);
/* Fold a result into the running min/max (feasible, non-failed only). */
void hwnas__scalarizer_observe(hwnas__scalarizer *z, const double *obj, double violation,
                               int failed);
/* The scalar of a feasible result (normalised weighted sum, or the chosen
 * objective). */
double hwnas__scalarizer_value(const hwnas__scalarizer *z, const double *obj);
/* Compare two results by tier then value: < 0 when a is better. */
int hwnas__scalarizer_compare(const hwnas__scalarizer *z, const double *oa, double va, int fa,
                              const double *ob, double vb, int fb);
/* One bounded number for every result, for rewards: the normalised value
 * in [0, W] for feasible ones (W = sum of weights, 1 for one objective);
 * W + 1 + v / (1 + v) for violation v; W + 2 for failed ones. */
double hwnas__scalarizer_penalised(const hwnas__scalarizer *z, const double *obj,
                                   double violation, int failed);
void hwnas__scalarizer_save(const hwnas__scalarizer *z, hwnas__writer *w);
int hwnas__scalarizer_load(hwnas__scalarizer *z, hwnas__reader *r);

/* NSGA-II's current population (after the last survival): *n entries,
 * objectives obj[*n * n_obj] and genes[*n * n_genes], borrowed until the
 * next ask/tell/load. *n is 0 before the first survival or when s is not
 * an NSGA-II strategy. For tests and benchmarks. */
void hwnas__strategy_nsga2_population(const hwnas_strategy *s, const uint32_t **genes,
                                      const double **obj, size_t *n);

extern const hwnas__strategy_impl hwnas__strategy_random_impl;
extern const hwnas__strategy_impl hwnas__strategy_nsga2_impl;
extern const hwnas__strategy_impl hwnas__strategy_ea_impl;
extern const hwnas__strategy_impl hwnas__strategy_reinforce_impl;

#endif
