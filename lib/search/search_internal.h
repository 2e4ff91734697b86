/* libhwnas search - the driver's state, shared by its files. Not installed. */
#ifndef HWNAS_SEARCH_INTERNAL_H
#define HWNAS_SEARCH_INTERNAL_H

#include <signal.h>
#include <stdio.h>

#include "core/core_internal.h"
#include "hwnas/estimator.h"
#include "hwnas/net.h"
#include "hwnas/search.h"
#include "hwnas/space.h"
#include "hwnas/strategy.h"

enum {
    OPT_OBJECTIVES,
    OPT_CONSTRAINTS,
    OPT_BUDGET,
    OPT_TIME_LIMIT,
    OPT_BATCH,
    OPT_PARALLEL,
    OPT_SEED,
    OPT_OUT,
    OPT_SNAPSHOT_EVERY,
    OPT_HV_REFERENCE,
    OPT_SCREEN,
    OPT_REFINE,
    OPT_REFINE_ESTIMATOR,
    OPT_REFINE_BY,
    OPT_SALVAGE,    /* session-only: never saved in search.conf */
    OPT_READ_ONLY,  /* session-only */
    OPT_START_OVER, /* session-only */
    OPT_CODESIGN,   /* joint | nested: how a co-design space is searched */
    OPT_CODESIGN_OPTIONS, /* the inner search's, kind codesign (nested) */
    OPT_GUIDE,          /* guide.c: none | mlp | gbrt | gp */
    OPT_GUIDE_OPTIONS,
    OPT_GUIDE_POOL,
    OPT_GUIDE_MIN,
    OPT_GUIDE_KAPPA,
    OPT_GUIDE_ENCODING,
    OPT_GUIDE_REST,
    OPT_PRUNE,            /* none | asha | hyperband | curve (prune.c) */
    OPT_PRUNE_OPTIONS,    /* the pruner's, kind prune */
    OPT_SCHEDULE,         /* batch | async (async.c) */
    N_SEARCH_OPTIONS
    /* alias rows (old names) follow in the table */
};

/* One archived candidate. */
typedef struct hwnas__record {
    uint64_t eval;     /* evaluation index: position in the archive */
    uint64_t stream;   /* its estimates' random stream: eval, or under schedule=async the
                        * ask's number (asked before its place in the archive is known) */
    uint64_t id;       /* the strategy's id */
    uint64_t hash;     /* phenotype hash (0 when decoding failed) */
    uint32_t *genes;   /* gene_count */
    char *key;         /* genotype string */
    double *metrics;   /* n_metrics; NaN when unknown */
    double *obj;       /* n_obj, minimised; unset when failed */
    double violation;  /* 0 feasible */
    int failed;        /* estimation failed: error says why */
    char *error;       /* NULL on success */
    double seconds;    /* estimation time */
    int cached;        /* metrics copied from an earlier candidate */
    int refined;       /* 1: re-estimated by the refine estimator, -1: that failed */
    double *proxy;     /* n_metrics: the figures before refinement (NULL unless refined) */
    double *proxy_obj; /* n_obj: the objectives the strategy was told (NULL unless refined) */
    double proxy_violation;
    char *refine_error;    /* why refinement failed */
    double refine_seconds; /* refine estimation time */
    int pruned;        /* training stopped early by the pruner: metrics are partial */
    double *curve;     /* n_curve (epoch, validation accuracy) pairs; NULL when none */
    size_t n_curve;
} hwnas__record;

/* One refinement, as journaled. */
typedef struct hwnas__refined {
    uint64_t eval;
    double *values;    /* the refine estimator's metrics, in its order */
    int failed;
    char *error;
    double seconds;
} hwnas__refined;

typedef struct hwnas__objective {
    size_t metric; /* index into the search's metrics */
    double sign;   /* +1 minimise, -1 maximise */
    char *name;
} hwnas__objective;

typedef struct hwnas__constraint {
    size_t metric;
    int upper;     /* 1: metric <= bound, 0: metric >= bound */
    double bound;
    char *name;
} hwnas__constraint;

/* A pending candidate in ask/tell mode or inside a batch. */
typedef struct hwnas__pending {
    uint64_t id;
    uint32_t *genes;
} hwnas__pending;

/* One candidate handed to an evaluator. */
typedef struct hwnas__job {
    hwnas__record *rec; /* in: genes, key, hash, eval (its random stream), metrics NaN;
                         * out: metrics and seconds, or failed with its error */
    hwnas_net *net;     /* out: the decoded net, journaled with the record; may stay NULL */
    int interrupted;    /* out: an estimate was interrupted (hwnas_estimator_interrupt):
                         * the batch is dropped and estimated again */
} hwnas__job;

/*
 * Where a batch is estimated: the one place the run loop hands candidates
 * out (ask -> decode -> estimate -> tell -> record). The default runs the
 * estimators on the context's threads (evaluate.c); a pruner or a remote
 * (MPI) evaluator replaces it. evaluate fills jobs[0..n) in any order and
 * at any concurrency, but candidate k must use random stream k so that
 * results do not depend on where they were computed. It returns an error
 * only when the batch cannot go on (HWNAS_ENOMEM, HWNAS_EUSER); a
 * candidate's failure goes into its record.
 */
typedef struct hwnas__evaluator {
    int (*evaluate)(void *data, hwnas_search *s, hwnas__job *jobs, size_t n);
    void *data; /* the evaluator's, passed back */
    /* schedule=async (async.c), for evaluators that can: start hands one
     * job out (to a free worker, or queued until one is free; the job
     * stays valid until next returns it), next waits until a started job
     * has finished and returns it; width is how many jobs they keep busy
     * (asked ahead). Errors as for evaluate. NULL start: this evaluator
     * runs jobs one after the other in start order, on the calling thread. */
    int (*start)(void *data, hwnas_search *s, hwnas__job *job);
    int (*next)(void *data, hwnas_search *s, hwnas__job **done);
    size_t (*width)(void *data, hwnas_search *s);
} hwnas__evaluator;

struct hwnas_search {
    hwnas_context *ctx;
    hwnas_options *options;
    char *space_kind, *space_options, *strategy_kind, *strategy_options;
    hwnas_space *space;           /* owned */
    hwnas_strategy *strategy;     /* owned; over space, or its network half when nested */
    size_t n_genes;               /* of space: what records, the journal and results hold */
    size_t n_ask;                 /* of what the strategy asks: n_genes, or the network
                                   * half's when nested */
    int nested;                   /* codesign=nested on a space with hardware */
    struct hwnas__codesign *codesign; /* owned, set at start when nested */

    hwnas_estimator **est;        /* n_est estimators */
    int *est_owned;               /* 1 when the search frees est[i] */
    size_t n_est;
    char **metric_names;          /* n_metrics: union of the estimators' metrics */
    size_t *metric_est;           /* which estimator produces metric i */
    size_t n_metrics;

    char *objectives_text, *constraints_text;
    hwnas__objective *obj;        /* resolved at start */
    size_t n_obj;
    hwnas__constraint *con;
    size_t n_con;
    int started;                  /* objectives resolved, no more estimators */

    hwnas__record *rec;           /* archive, rec[i].eval == i */
    size_t n_rec, cap_rec;

    uint64_t *cache_keys;         /* phenotype hash -> first successful record */
    int64_t *cache_vals;
    size_t cache_mask, cache_used;

    hwnas__pending *pending;      /* asked, not yet told (ask/tell mode) */
    size_t n_pending, cap_pending;

    hwnas__record *replay;        /* journal records after the last snapshot */
    size_t n_replay;
    char *resume_dir;             /* set by hwnas_search_resume until start */

    FILE *journal;                /* open for append when out is set; written with write(2)
                                   * on its descriptor, never through its stdio buffer */
    int lock_fd;                  /* the out directory's lock file (flock), -1 when none */
    size_t since_snapshot;
    double started_at;            /* wall clock of run start */
    double elapsed_before;        /* seconds spent in earlier sessions */
    double *hv_history;           /* hypervolume after each batch, per evaluation count */
    size_t *hv_evals;
    size_t n_hv, cap_hv;

    hwnas_estimator *refine_est;  /* owned; NULL without refine */
    size_t *refine_map;           /* refine metric j -> search metric */
    hwnas__refined *refine_log;   /* refinements read from the journal */
    size_t n_refine_log;
    size_t n_refined;             /* records refined successfully */

    hwnas__evaluator evaluator;   /* set at start: the local one unless a hook set another */
    struct hwnas__pruner *pruner; /* owned; NULL unless prune is set (prune.c) */
    uint32_t *redo_genes;         /* a batch dropped by an interruption, asked again by */
    uint64_t *redo_ids;           /* nobody: the next run estimates it first */
    size_t n_redo;
    struct hwnas__async *async;   /* owned; schedule=async's candidates in flight (async.c) */

    volatile sig_atomic_t stop;
    hwnas_search_candidate_cb on_candidate;
    void *on_candidate_data;
    hwnas_search_batch_cb on_batch;
    void *on_batch_data;
    hwnas_search_progress_cb on_progress;
    void *on_progress_data;
};

extern const hwnas__kind hwnas__search_kind;

/* The out option: the search's directory, "" when it keeps nothing. */
static inline const char *hwnas__search_out(const hwnas_search *s)
{
    return hwnas__options_str(s->options, OPT_OUT);
}

/*
 * lib/search, file by file, each calling only the files listed above it
 * (so no two call each other both ways):
 *   candidate.c a genotype's net, hardware and estimator key
 *   archive.c   records, scoring, failure records, the evaluation cache,
 *               the per-candidate getters
 *   front.c     the Pareto front, orders and hypervolume over the archive
 *   out_dir.c   one search per directory: lock, stale temporaries, an
 *               earlier search moved aside, damaged files kept aside
 *   journal.c   the file formats: search.conf, journal.tsv (evaluation and R
 *               records), snapshot.bin
 *   results.c   the results directory's tables and front nets
 *   evaluate.c  the default evaluator: estimation on the context's threads
 *   curve_fit.c learning-curve extrapolation (power law + exponential)
 *   prune.c     the pruning evaluator: rungs, successive halving, Hyperband,
 *               curve extrapolation (search option prune)
 *   nested.c    nested co-design: each network's accelerator by an inner search
 *   refine.c    multi-fidelity refinement after the budget
 *   guide.c     predictor-guided batches: a pool asked, the best estimated
 *   search.c    the object: options, estimators, objectives, constraints
 *   resume.c    re-creating a search from its directory and replaying it
 *   run.c       start, the loop, ask/tell from outside
 * The report part (lib/report) draws from what results.c writes.
 */

/* candidate.c */
/* A record's genotype as the estimators take it: net (when asked for),
 * accel (co-design spaces, else NULL) and key (the record's key, or the
 * network half's genotype string under co-design; borrowed from the
 * record or own_key). */
typedef struct hwnas__candidate {
    hwnas_net *net;
    struct hwnas_accel *accel;
    const char *key;
    char *own_key;
} hwnas__candidate;
void hwnas__candidate_init(hwnas__candidate *c);
void hwnas__candidate_release(hwnas__candidate *c);
/* Errors as hwnas_space_decode and hwnas_space_decode_accel; what was
 * made is kept in c for release. */
int hwnas__candidate_decode(const hwnas_search *s, const hwnas__record *r, int want_net,
                            hwnas__candidate *c);
/* The network and hardware halves' genotype strings of genes (each NULL
 * when the space has no such half; hwnas_free). */
int hwnas__candidate_halves(const hwnas_search *s, const uint32_t *genes, char **net,
                            char **hw);

/* archive.c */
int hwnas__record_new(hwnas_search *s, hwnas__record *r, const uint32_t *genes, uint64_t id,
                      uint64_t eval);
int hwnas__record_fail(const hwnas_search *s, hwnas__record *r, const char *why);
char *hwnas__not_finite(const hwnas_context *ctx, const char *objective, double v);
void hwnas__record_release(const hwnas_context *ctx, hwnas__record *r);
int hwnas__search_score(hwnas_search *s, hwnas__record *r);
int hwnas__search_archive(hwnas_search *s, hwnas__record *r);
void hwnas__archive_release(hwnas_search *s);
int hwnas__cache_init(hwnas_search *s);
int64_t hwnas__cache_find(const hwnas_search *s, uint64_t hash);
int hwnas__cache_put(hwnas_search *s, uint64_t hash, int64_t index);
int64_t hwnas__metric_index(const hwnas_search *s, const char *name, size_t len);

/* front.c */
/* Among points [0, n) (m minimised objectives each, pts row by row),
 * those with ok[i], one per hash (the first), ordered by non-dominated
 * rank (when by_rank), then the first objective, then index: *out (free
 * with hwnas__free) gets *count indices, of which the first *front are of
 * rank 0 (all of them when !by_rank). */
int hwnas__pareto_order(hwnas_context *ctx, const double *pts, const unsigned char *ok,
                        const uint64_t *hash, size_t n, size_t m, int by_rank, size_t **out,
                        size_t *count, size_t *front);
/* The hypervolume of the rank-0 points of that order against ref. */
int hwnas__pareto_front_hv(hwnas_context *ctx, const double *pts,
                           const unsigned char *ok, const uint64_t *hash, size_t n, size_t m,
                           const double *ref, double *out);
/* The default hypervolume reference of points [0, n): each objective's
 * worst among those with ok[i], plus a tenth of its range (plus 1 when
 * flat). Returns 0 (ref unset) when no point is ok. The progress line
 * (hwnas_search_hypervolume) and the report's plot both use it. */
int hwnas__pareto_reference(const double *pts, const unsigned char *ok, size_t n, size_t m,
                            double *ref);
int hwnas__search_order(const hwnas_search *s, size_t upto, int told, int by_rank, size_t **out,
                        size_t *n, size_t *front);
int hwnas__search_front_all(const hwnas_search *s, size_t **out, size_t *n);
int hwnas__search_hv(const hwnas_search *s, size_t upto, const double *ref, double *out);
int hwnas__search_reference(const hwnas_search *s, double *ref);

/* out_dir.c */
/* dir/name into buf, or HWNAS_EINVAL naming the path when it does not fit. */
int hwnas__path_in(const char *dir, const char *name, char *buf, size_t size);
int hwnas__out_lock(hwnas_search *s);
void hwnas__out_unlock(hwnas_search *s);
int hwnas__out_prepare(hwnas_search *s);
int hwnas__out_keep_aside(const char *path, char *kept, size_t size);

/* journal.c */
typedef struct hwnas__config {
    char *space, *space_options, *strategy, *strategy_options, *options;
    char **est_kind, **est_options; /* n_est each */
    size_t n_est;
} hwnas__config;

int hwnas__config_write(hwnas_search *s);
int hwnas__config_read(const hwnas_context *ctx, const char *path, hwnas__config *c);
void hwnas__config_free(const hwnas_context *ctx, hwnas__config *c);
int hwnas__journal_open(hwnas_search *s);
/* Journal records are formatted into a buffer (one line each, with its
 * CRC) and committed together: one write and one fsync per batch. After a
 * crash the journal ends with whole records, or one torn record the CRC
 * rejects; the rest of that batch is estimated again on resume, as when
 * the crash came before the batch was recorded. commit releases sb. */
int hwnas__journal_format(hwnas_search *s, hwnas__strbuf *sb, const hwnas__record *r,
                          const hwnas_net *net);
int hwnas__journal_commit(hwnas_search *s, hwnas__strbuf *sb);
int hwnas__journal_append(hwnas_search *s, const hwnas__record *r, const hwnas_net *net);
int hwnas__journal_append_refined(hwnas_search *s, const hwnas__refined *x);
/* Read path into s->replay (evaluations) and s->refine_log (refinements,
 * kept only when the search refines); damage, a torn tail and salvage as
 * doc/formats/journal.md says. */
int hwnas__journal_read(hwnas_search *s, const char *path);
int hwnas__snapshot_write(hwnas_search *s);
/* Load the strategy from the snapshot at path (none: *covered = 0) and
 * say how many journal records it covers. */
int hwnas__snapshot_read(hwnas_search *s, const char *path, size_t *covered);

/* results.c */
/* archive.csv/.json, front.csv/.json and front/NNN.net into dir. */
int hwnas__results_write(const hwnas_search *s, const char *dir);

/* evaluate.c */
extern const hwnas__evaluator hwnas__local_evaluator;

/* run.c, shared with async.c: a copy's and a journaled record's figures
 * into dst; after a batch (or an async completion): hypervolume, a
 * snapshot when may_snapshot and due, callbacks, progress. */
int hwnas__copy_metrics(hwnas_search *s, hwnas__record *dst, const hwnas__record *src);
int hwnas__take_replay(hwnas_search *s, hwnas__record *dst, const hwnas__record *src);
int hwnas__after_batch(hwnas_search *s, int may_snapshot);

/* async.c: schedule=async's run loop, its candidates in flight (kept
 * across runs: asked, not told), and their release. */
typedef struct hwnas__async hwnas__async;
int hwnas__run_async(hwnas_search *s, size_t budget, double limit);
size_t hwnas__async_in_flight(const hwnas_search *s);
void hwnas__async_release(hwnas_search *s);
/* One job decoded and estimated on the calling thread as the local
 * evaluator does it (lib/mpi's workers evaluate with it). */
int hwnas__evaluate_one(hwnas_search *s, hwnas__job *job);
struct hwnas__curve_watch;
/* Decode and estimate one job on the calling thread (screening as the
 * local evaluator). With w, estimator `watched` runs last, watched by w
 * (estimator_internal.h). Returns 0, or 1 when a failure cannot be
 * recorded (HWNAS_ENOMEM); an interrupted estimate sets job->interrupted. */
int hwnas__estimate_job(hwnas_search *s, hwnas__job *job, size_t watched,
                        struct hwnas__curve_watch *w);

/* curve_fit.c */
/* Extrapolate the curve (t[i], y[i]), i < n (n >= 4, t increasing and
 * > 0) to epoch at: the ensemble's *mean and its standard deviation *sd.
 * Errors: HWNAS_EINVAL naming the point that is NaN or out of order, or
 * when no family fits. */
int hwnas__curve_predict(const double *t, const double *y, size_t n, double at, double *mean,
                         double *sd);

/* prune.c */
extern const hwnas__kind hwnas__prune_kind;
/* Check the prune options at creation (errors name the key). */
int hwnas__prune_check(hwnas_search *s);
/* At start: with prune set, the pruner and its evaluator (the local one's
 * replacement). Errors: HWNAS_EINVAL (no estimator with a curve, no rung
 * below the epochs), HWNAS_ENOMEM. */
int hwnas__prune_setup(hwnas_search *s);
void hwnas__prune_release(hwnas_search *s);
/* Copy src's pruned mark and curve into dst (a cache copy, a replay). */
int hwnas__record_copy_curve(const hwnas_search *s, hwnas__record *dst,
                             const hwnas__record *src);

/* nested.c */
/* Nested co-design: the inner search object for the search (at start). */
int hwnas__nested_setup(hwnas_search *s);
/* The full genotype of each asked network genotype (n of them, s->n_ask
 * genes each) into full (n x s->n_genes): the network's genes, then the
 * hardware the inner search chose for it; why[i] is NULL, or (owned,
 * hwnas__free) the reason network i is discarded without estimation.
 * skip[i] != 0 leaves slot i alone (a replayed record). Runs the inner
 * searches on the context's threads. Errors: HWNAS_ENOMEM and errors of the
 * inner strategy. */
int hwnas__nested_complete(hwnas_search *s, const uint32_t *asked, const unsigned char *skip,
                           size_t n, uint32_t *full, char **why);

/* refine.c */
int hwnas__refine_setup(hwnas_search *s);
void hwnas__refine_release(hwnas_search *s);
int hwnas__search_refine(hwnas_search *s, int compute);

/* guide.c */
/* Whether the next batch is guided (guide set, guide_min evaluations done). */
int hwnas__guide_active(const hwnas_search *s);
/* At start: the guide options make sense for this search (HWNAS_EUNSUPPORTED
 * with codesign=nested; HWNAS_ENOTFOUND for an encoding the space lacks). */
int hwnas__guide_check(const hwnas_search *s);
/* Up to want candidates, the best of a pool by the predictors; the rest of
 * the pool is told to the strategy (never archived). Errors: HWNAS_ENOMEM,
 * the predictors' and the strategy's. */
int hwnas__guide_ask(hwnas_search *s, size_t want, uint32_t *genes, uint64_t *ids,
                     size_t *got);

/* search.c */
int hwnas__search_resolve(hwnas_search *s);

/* resume.c */
int hwnas__resume_load(hwnas_search *s);

/* run.c */
int hwnas__search_start(hwnas_search *s);

#endif
