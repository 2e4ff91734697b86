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
    OPT_EVALUATIONS,
    OPT_TIME_LIMIT,
    OPT_BATCH,
    OPT_THREADS,
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
    N_SEARCH_OPTIONS
};

/* One archived candidate. */
typedef struct hwnas__record {
    uint64_t eval;     /* evaluation index: position in the archive, random stream */
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

struct hwnas_search {
    hwnas_context *ctx;
    hwnas_options *options;
    char *space_kind, *space_options, *strategy_kind, *strategy_options;
    hwnas_space *space;           /* owned */
    hwnas_strategy *strategy;     /* owned */
    size_t n_genes;

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

    volatile sig_atomic_t stop;
    hwnas_search_candidate_cb on_candidate;
    void *on_candidate_data;
    hwnas_search_batch_cb on_batch;
    void *on_batch_data;
    hwnas_search_progress_cb on_progress;
    void *on_progress_data;
};

extern const hwnas__kind hwnas__search_kind;

/* search.c */
int hwnas__search_start(hwnas_search *s);
const char *hwnas__search_out(const hwnas_search *s);
int hwnas__search_archive(hwnas_search *s, hwnas__record *r);
void hwnas__record_release(const hwnas_context *ctx, hwnas__record *r);
int64_t hwnas__cache_find(const hwnas_search *s, uint64_t hash);
int hwnas__cache_put(hwnas_search *s, uint64_t hash, int64_t index);

/* run.c */
int hwnas__search_score(hwnas_search *s, hwnas__record *r);

/* refine.c */
int hwnas__refine_setup(hwnas_search *s);
void hwnas__refine_release(hwnas_search *s);
int hwnas__refine_journal(hwnas_search *s, const hwnas__refined *x);
int hwnas__refine_parse(hwnas_search *s, char *line, size_t len);
int hwnas__search_refine(hwnas_search *s, int compute);

/* journal.c */
int hwnas__journal_seal(hwnas_search *s, hwnas__strbuf *sb);
int hwnas__journal_open(hwnas_search *s);
int hwnas__journal_append(hwnas_search *s, const hwnas__record *r, const hwnas_net *net);
int hwnas__snapshot_write(hwnas_search *s);
int hwnas__config_write(hwnas_search *s);
int hwnas__resume_load(hwnas_search *s);
int hwnas__out_prepare(hwnas_search *s);
int hwnas__out_lock(hwnas_search *s);
void hwnas__out_unlock(hwnas_search *s);

/* results.c */
int hwnas__search_order(const hwnas_search *s, size_t upto, int told, int by_rank, size_t **out,
                        size_t *n, size_t *front);
int hwnas__search_front_all(const hwnas_search *s, size_t **out, size_t *n);
int hwnas__search_hv(const hwnas_search *s, size_t upto, const double *ref, double *out);
int hwnas__search_reference(const hwnas_search *s, double *ref);

#endif
