/*
 * The run loop: ask -> decode -> estimate -> tell -> record, batch after
 * batch until the budget is spent; start (resolving objectives, preparing
 * the directory, resuming); and ask/tell for hosts that evaluate
 * elsewhere.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

int hwnas__search_start(hwnas_search *s)
{
    if (s->started)
        return HWNAS_OK;
    if (s->n_est == 0)
        return hwnas__error(HWNAS_ESTATE, "search: add at least one estimator before running");
    int rc = hwnas__search_resolve(s);
    if (rc == HWNAS_OK)
        rc = hwnas__nested_setup(s);
    if (rc == HWNAS_OK && !s->refine_est)
        rc = hwnas__refine_setup(s);
    if (rc == HWNAS_OK)
        rc = hwnas__guide_check(s);
    int read_only = (int)hwnas__options_int(s->options, OPT_READ_ONLY);
    if (rc == HWNAS_OK && *hwnas__search_out(s) && !read_only)
        rc = hwnas__out_prepare(s);
    if (rc == HWNAS_OK && s->resume_dir)
        rc = hwnas__resume_load(s);
    if (rc == HWNAS_OK && *hwnas__search_out(s) && !read_only)
        rc = hwnas__journal_open(s);
    if (rc == HWNAS_OK)
        rc = hwnas__prune_setup(s); /* with prune set, the pruning evaluator */
    if (rc == HWNAS_OK && !s->evaluator.evaluate)
        s->evaluator = hwnas__local_evaluator;
    if (rc == HWNAS_OK)
        s->started = 1;
    return rc;
}

/* One candidate of a batch on its way to the archive. */
typedef struct slot {
    hwnas__record rec;  /* becomes the archive record */
    hwnas_net *net;     /* decoded net (for the journal), NULL when none */
    int64_t copy_from;  /* -1, or the archive index (>= 0) or -2 - batch index to copy */
    int evaluate;       /* handed to the evaluator */
    int replayed;       /* taken from the journal of an earlier session */
} slot;

int hwnas__copy_metrics(hwnas_search *s, hwnas__record *dst, const hwnas__record *src)
{
    memcpy(dst->metrics, src->metrics, s->n_metrics * sizeof *dst->metrics);
    dst->cached = 1;
    if (src->failed)
        hwnas__record_fail(s, dst, src->error);
    return hwnas__record_copy_curve(s, dst, src); /* a pruned source's copy is pruned too */
}

/* A journal record of an earlier session for evaluation eval, if its
 * genotype is the one asked now (nested: its network half, the hardware
 * being what the inner search chose for it). */
static const hwnas__record *replay_for(const hwnas_search *s, uint64_t eval,
                                       const uint32_t *genes)
{
    for (size_t i = 0; i < s->n_replay; i++)
        if (s->replay[i].eval == eval)
            return memcmp(s->replay[i].genes, genes, s->n_ask * sizeof *genes) == 0
                       ? &s->replay[i]
                       : NULL;
    return NULL;
}

int hwnas__take_replay(hwnas_search *s, hwnas__record *dst, const hwnas__record *src)
{
    memcpy(dst->metrics, src->metrics, s->n_metrics * sizeof *dst->metrics);
    dst->seconds = src->seconds;
    dst->cached = src->cached;
    if (src->failed)
        hwnas__record_fail(s, dst, src->error);
    return hwnas__record_copy_curve(s, dst, src);
}

/* Nested co-design: the asked network genotypes completed with the
 * hardware their inner searches chose (a journaled one is taken as it
 * was); why[i] says why network i is discarded, or is NULL. */
static int complete_batch(hwnas_search *s, const uint32_t *genes, size_t n, uint32_t *full,
                          char **why)
{
    unsigned char *skip = hwnas__calloc(s->ctx, n + 1, sizeof *skip);
    if (!skip)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        skip[i] = replay_for(s, s->n_rec + i, genes + i * s->n_ask) != NULL;
    int rc = hwnas__nested_complete(s, genes, skip, n, full, why);
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
        if (skip[i])
            memcpy(full + i * s->n_genes,
                   replay_for(s, s->n_rec + i, genes + i * s->n_ask)->genes,
                   s->n_genes * sizeof *full);
    hwnas__free(s->ctx, skip);
    return rc;
}

/* Decode: each asked genotype becomes a record (its string and phenotype
 * hash); what an earlier session journaled or the cache (or an earlier
 * slot of this batch) already knows is not estimated again. */
static int decode_batch(hwnas_search *s, slot *slots, const uint32_t *genes,
                        const uint64_t *ids, size_t n)
{
    int rc = HWNAS_OK;
    size_t base = s->n_rec;
    uint32_t *full = NULL;
    char **why = NULL;
    if (s->nested) {
        full = hwnas__malloc(s->ctx, (n * s->n_genes + 1) * sizeof *full);
        why = hwnas__calloc(s->ctx, n + 1, sizeof *why);
        rc = full && why ? complete_batch(s, genes, n, full, why) : HWNAS_ENOMEM;
        genes = full;
    }
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        slot *sl = &slots[i];
        sl->copy_from = -1;
        rc = hwnas__record_new(s, &sl->rec, genes + i * s->n_genes, ids[i], base + i);
        if (rc == HWNAS_OK && why && why[i] && !sl->rec.failed)
            rc = hwnas__record_fail(s, &sl->rec, why[i]);
        if (rc != HWNAS_OK || sl->rec.failed)
            continue;
        const hwnas__record *old = replay_for(s, base + i, sl->rec.genes);
        if (old) {
            rc = hwnas__take_replay(s, &sl->rec, old);
            sl->replayed = 1;
            continue;
        }
        int64_t hit = hwnas__cache_find(s, sl->rec.hash);
        for (size_t j = 0; hit < 0 && j < i; j++)
            if (!slots[j].rec.failed && slots[j].rec.hash == sl->rec.hash &&
                slots[j].copy_from == -1)
                hit = -2 - (int64_t)j;
        sl->copy_from = hit;
        sl->evaluate = hit == -1;
    }
    for (size_t i = 0; why && i < n; i++)
        hwnas__free(s->ctx, why[i]);
    hwnas__free(s->ctx, why);
    hwnas__free(s->ctx, full);
    return rc;
}

/* Estimate: the rest goes to the evaluator, the one place a batch leaves
 * the loop (search_internal.h). */
static int estimate_batch(hwnas_search *s, slot *slots, size_t n, int *interrupted)
{
    hwnas__job *jobs = hwnas__calloc(s->ctx, n + 1, sizeof *jobs);
    if (!jobs)
        return HWNAS_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (slots[i].evaluate)
            jobs[k++].rec = &slots[i].rec;
    int rc = k ? s->evaluator.evaluate(s->evaluator.data, s, jobs, k) : HWNAS_OK;
    size_t n_jobs = k;
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (slots[i].evaluate)
            slots[i].net = jobs[k++].net;
    for (size_t j = 0; j < n_jobs; j++)
        if (jobs[j].interrupted)
            *interrupted = 1;
    hwnas__free(s->ctx, jobs);
    return rc;
}

/* Tell: copies take their source's figures, every candidate is scored,
 * and the strategy learns the batch. */
static int tell_batch(hwnas_search *s, slot *slots, const uint64_t *ids, size_t n)
{
    double *obj = hwnas__calloc(s->ctx, n * s->n_obj + 1, sizeof *obj);
    double *viol = hwnas__calloc(s->ctx, n + 1, sizeof *viol);
    int *failed = hwnas__calloc(s->ctx, n + 1, sizeof *failed);
    int rc = obj && viol && failed ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        slot *sl = &slots[i];
        if (sl->copy_from >= 0)
            rc = hwnas__copy_metrics(s, &sl->rec, &s->rec[sl->copy_from]);
        else if (sl->copy_from <= -2) /* an earlier slot, scored by now */
            rc = hwnas__copy_metrics(s, &sl->rec, &slots[-2 - sl->copy_from].rec);
        if (rc == HWNAS_OK)
            rc = hwnas__search_score(s, &sl->rec);
        failed[i] = sl->rec.failed;
        viol[i] = sl->rec.violation;
        if (rc == HWNAS_OK && !sl->rec.failed)
            memcpy(obj + i * s->n_obj, sl->rec.obj, s->n_obj * sizeof *obj);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_strategy_tell(s->strategy, n, ids, obj, viol, failed);
    hwnas__free(s->ctx, obj);
    hwnas__free(s->ctx, viol);
    hwnas__free(s->ctx, failed);
    return rc;
}

/* Record: journal (before the archive, so that a resume finds what the
 * archive held), cache, archive, then the candidate callbacks in
 * evaluation order. */
static int record_batch(hwnas_search *s, slot *slots, size_t n)
{
    int rc = HWNAS_OK;
    size_t base = s->n_rec;
    if (s->journal) { /* group commit: one fsync for the batch */
        hwnas__strbuf sb;
        hwnas__strbuf_init(&sb, s->ctx);
        for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
            if (!slots[i].replayed)
                rc = hwnas__journal_format(s, &sb, &slots[i].rec, slots[i].net);
        if (rc == HWNAS_OK)
            rc = hwnas__journal_commit(s, &sb);
        else
            hwnas__strbuf_release(&sb);
    }
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        slot *sl = &slots[i];
        if (!sl->rec.failed && !sl->rec.cached &&
            hwnas__cache_find(s, sl->rec.hash) < 0)
            rc = hwnas__cache_put(s, sl->rec.hash, (int64_t)s->n_rec);
        if (rc == HWNAS_OK)
            rc = hwnas__search_archive(s, &sl->rec);
        if (rc == HWNAS_OK)
            s->since_snapshot++;
    }
    for (size_t i = base; rc == HWNAS_OK && i < s->n_rec; i++)
        if (s->on_candidate && s->on_candidate(s, i, s->on_candidate_data) != 0)
            rc = hwnas__error(HWNAS_EUSER, "search stopped by the candidate callback at "
                                           "evaluation %zu",
                              i);
    return rc;
}

/* One batch of asked candidates, from decoding to the archive. An
 * interrupted estimate (*interrupted = 1) drops the whole batch before the
 * strategy or the journal hears of it. */
static int run_batch(hwnas_search *s, const uint32_t *genes, const uint64_t *ids, size_t n,
                     int *interrupted)
{
    slot *slots = hwnas__calloc(s->ctx, n + 1, sizeof *slots);
    if (!slots)
        return HWNAS_ENOMEM;
    int rc = decode_batch(s, slots, genes, ids, n);
    if (rc == HWNAS_OK)
        rc = estimate_batch(s, slots, n, interrupted);
    if (*interrupted && rc == HWNAS_OK) /* an evaluator that did not say so */
        rc = hwnas__error(HWNAS_EUSER, "search interrupted while estimating a batch");
    if (rc == HWNAS_OK)
        rc = tell_batch(s, slots, ids, n);
    if (rc == HWNAS_OK)
        rc = record_batch(s, slots, n);
    for (size_t i = 0; i < n; i++) {
        hwnas__record_release(s->ctx, &slots[i].rec);
        hwnas_net_free(slots[i].net);
    }
    hwnas__free(s->ctx, slots);
    return rc;
}

static int record_hypervolume(hwnas_search *s)
{
    if (s->n_hv == s->cap_hv) {
        size_t cap = s->cap_hv ? s->cap_hv * 2 : 64;
        double *h = hwnas__realloc(s->ctx, s->hv_history, cap * sizeof *h);
        if (!h)
            return HWNAS_ENOMEM;
        s->hv_history = h;
        size_t *e = hwnas__realloc(s->ctx, s->hv_evals, cap * sizeof *e);
        if (!e)
            return HWNAS_ENOMEM;
        s->hv_evals = e;
        s->cap_hv = cap;
    }
    s->hv_evals[s->n_hv] = s->n_rec;
    s->hv_history[s->n_hv] = NAN; /* computed against the final reference in results */
    s->n_hv++;
    return HWNAS_OK;
}

int hwnas__after_batch(hwnas_search *s, int may_snapshot)
{
    int rc = record_hypervolume(s);
    if (rc == HWNAS_OK && may_snapshot && s->journal && s->n_pending == 0 &&
        s->since_snapshot >= (size_t)hwnas__options_int(s->options, OPT_SNAPSHOT_EVERY))
        rc = hwnas__snapshot_write(s);
    if (rc != HWNAS_OK)
        return rc;
    if (s->on_batch && s->on_batch(s, s->n_rec, s->on_batch_data) != 0)
        return hwnas__error(HWNAS_EUSER, "search stopped by the batch callback after %zu "
                                         "evaluations",
                            s->n_rec);
    double budget = (double)hwnas__options_int(s->options, OPT_BUDGET);
    double fraction = (double)s->n_rec / budget;
    double limit = hwnas__options_float(s->options, OPT_TIME_LIMIT);
    if (limit > 0) {
        double t = (s->elapsed_before + hwnas__now_seconds() - s->started_at) / limit;
        fraction = t > fraction ? t : fraction;
    }
    if (s->on_progress && s->on_progress(s, fraction > 1 ? 1 : fraction,
                                         s->on_progress_data) != 0)
        return hwnas__error(HWNAS_EUSER, "search stopped by the progress callback after %zu "
                                         "evaluations",
                            s->n_rec);
    return HWNAS_OK;
}

/* The interrupted batch, kept to be estimated again by the next run: the
 * loop's buffers change hands (a resume from the directory asks the batch
 * again instead, from the last snapshot and the journal). */
static void keep_redo(hwnas_search *s, uint32_t **genes, uint64_t **ids, size_t n)
{
    hwnas__free(s->ctx, s->redo_genes);
    hwnas__free(s->ctx, s->redo_ids);
    s->redo_genes = *genes;
    s->redo_ids = *ids;
    s->n_redo = n;
    *genes = NULL;
    *ids = NULL;
}

/* The kept batch into the loop's buffers (which it replaces). */
static int take_redo(hwnas_search *s, uint32_t **genes, uint64_t **ids, size_t *got)
{
    hwnas__free(s->ctx, *genes);
    hwnas__free(s->ctx, *ids);
    *genes = s->redo_genes;
    *ids = s->redo_ids;
    *got = s->n_redo;
    s->redo_genes = NULL;
    s->redo_ids = NULL;
    s->n_redo = 0;
    return HWNAS_OK;
}

int hwnas_search_run(hwnas_search *s)
{
    if (!s)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_run: search is NULL");
    int rc = hwnas__search_start(s);
    if (rc != HWNAS_OK)
        return rc;
    if (s->n_pending)
        return hwnas__error(HWNAS_ESTATE, "search: %zu candidates asked with hwnas_search_ask "
                                          "are not told yet",
                            s->n_pending);
    size_t budget = (size_t)hwnas__options_int(s->options, OPT_BUDGET);
    size_t batch_size = (size_t)hwnas__options_int(s->options, OPT_BATCH);
    if (batch_size == 0)
        batch_size = hwnas_context_threads(s->ctx);
    double limit = hwnas__options_float(s->options, OPT_TIME_LIMIT);
    uint32_t *genes = hwnas__malloc(s->ctx, batch_size * s->n_ask * sizeof *genes);
    uint64_t *ids = hwnas__malloc(s->ctx, batch_size * sizeof *ids);
    if (!genes || !ids) {
        hwnas__free(s->ctx, genes);
        hwnas__free(s->ctx, ids);
        return HWNAS_ENOMEM;
    }
    s->stop = 0;
    s->started_at = hwnas__now_seconds();
    int interrupted = 0;
    if (hwnas__options_int(s->options, OPT_SCHEDULE) == 1)
        rc = hwnas__run_async(s, budget, limit);
    while (rc == HWNAS_OK && s->n_rec < budget && !s->async) {
        if (s->stop) {
            rc = hwnas__error(HWNAS_EUSER, "search stopped after %zu evaluations", s->n_rec);
            break;
        }
        if (limit > 0 && s->elapsed_before + hwnas__now_seconds() - s->started_at >= limit)
            break;
        size_t want = budget - s->n_rec < batch_size ? budget - s->n_rec : batch_size, got = 0;
        if (s->n_redo) {
            rc = take_redo(s, &genes, &ids, &got);
        } else if (hwnas__guide_active(s)) {
            rc = hwnas__guide_ask(s, want, genes, ids, &got);
            if (rc == HWNAS_OK && got == 0)
                rc = hwnas__error(HWNAS_EINTERNAL, "search: %s asked for nothing with no "
                                                   "candidate pending",
                                  hwnas_strategy_kind(s->strategy));
        } else {
            rc = hwnas_strategy_ask(s->strategy, want, genes, ids, &got);
            if (rc == HWNAS_OK && got == 0)
                rc = hwnas__error(HWNAS_EINTERNAL, "search: %s asked for nothing with no "
                                                   "candidate pending",
                                  hwnas_strategy_kind(s->strategy));
        }
        if (rc == HWNAS_OK)
            rc = run_batch(s, genes, ids, got, &interrupted);
        if (interrupted) {
            keep_redo(s, &genes, &ids, got);
            break;
        }
        if (rc == HWNAS_OK)
            rc = hwnas__after_batch(s, 1);
    }
    s->elapsed_before += hwnas__now_seconds() - s->started_at;
    s->started_at = hwnas__now_seconds();
    /* A final snapshot so that a finished search resumes to more budget;
     * none after an interruption: the strategy has asked a batch that the
     * journal does not hold, and a resume must ask it again. */
    if ((rc == HWNAS_OK || rc == HWNAS_EUSER) && s->journal && s->n_pending == 0 &&
        s->since_snapshot > 0 && !s->n_redo && hwnas__async_in_flight(s) == 0) {
        char saved[1024];
        snprintf(saved, sizeof saved, "%s", hwnas_error_last());
        int src = hwnas__snapshot_write(s);
        if (src != HWNAS_OK)
            rc = src;
        else if (rc == HWNAS_EUSER)
            hwnas__error(HWNAS_EUSER, "%s", saved);
    }
    hwnas__free(s->ctx, genes);
    hwnas__free(s->ctx, ids);
    /* After the final snapshot, so that resuming finds the whole archive. */
    if (rc == HWNAS_OK)
        rc = hwnas__search_refine(s, 1);
    return rc;
}

/* ---- ask/tell from outside ------------------------------------------- */

int hwnas_search_ask(hwnas_search *s, size_t max, uint32_t *genes, uint64_t *ids,
                     size_t *count)
{
    if (!s || !genes || !ids || !count)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_ask: search, genes, ids and count are "
                                          "required");
    *count = 0;
    int rc = hwnas__search_start(s);
    if (rc != HWNAS_OK || max == 0)
        return rc;
    if (s->n_redo)
        return hwnas__error(HWNAS_ESTATE, "search: a batch of %zu candidates was interrupted; "
                                          "hwnas_search_run estimates it before more are asked",
                            s->n_redo);
    if (hwnas__async_in_flight(s))
        return hwnas__error(HWNAS_ESTATE, "search: %zu candidates of schedule=async are in "
                                          "flight; hwnas_search_run finishes them first",
                            hwnas__async_in_flight(s));
    if (s->nested)
        return hwnas__error(HWNAS_EUNSUPPORTED, "hwnas_search_ask: a nested co-design search "
                            "runs each network's inner search inside hwnas_search_run; ask and "
                            "tell from outside work with codesign=joint");
    size_t got = 0;
    rc = hwnas_strategy_ask(s->strategy, max, genes, ids, &got);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__pending *p = hwnas__realloc(s->ctx, s->pending, (s->n_pending + got + 1) * sizeof *p);
    if (!p)
        return HWNAS_ENOMEM;
    s->pending = p;
    for (size_t i = 0; i < got; i++) {
        p[s->n_pending].id = ids[i];
        p[s->n_pending].genes = hwnas__malloc(s->ctx, s->n_genes * sizeof *genes);
        if (!p[s->n_pending].genes)
            return HWNAS_ENOMEM;
        memcpy(p[s->n_pending].genes, genes + i * s->n_genes, s->n_genes * sizeof *genes);
        s->n_pending++;
    }
    *count = got;
    return HWNAS_OK;
}

int hwnas_search_tell(hwnas_search *s, uint64_t id, size_t n_metrics, const char *const *names,
                      const double *values, const char *error)
{
    if (!s || (n_metrics && (!names || !values)))
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_tell: search, names and values are "
                                          "required");
    size_t k = 0;
    while (k < s->n_pending && s->pending[k].id != id)
        k++;
    if (k == s->n_pending)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_tell: candidate %llu was not asked or "
                                          "is already told",
                            (unsigned long long)id);
    hwnas__record r;
    int rc = hwnas__record_new(s, &r, s->pending[k].genes, id, s->n_rec);
    for (size_t i = 0; rc == HWNAS_OK && i < n_metrics; i++) {
        size_t m = 0;
        while (m < s->n_metrics && strcmp(s->metric_names[m], names[i]) != 0)
            m++;
        if (m == s->n_metrics)
            rc = hwnas__error(HWNAS_EINVAL, "hwnas_search_tell: unknown metric '%s'", names[i]);
        else
            r.metrics[m] = values[i];
    }
    if (rc == HWNAS_OK && error)
        rc = hwnas__record_fail(s, &r, error);
    for (size_t j = 0; rc == HWNAS_OK && !r.failed && j < s->n_obj; j++)
        if (isnan(r.metrics[s->obj[j].metric]))
            rc = hwnas__error(HWNAS_EINVAL, "hwnas_search_tell: candidate %llu lacks metric '%s' "
                                            "(an objective)",
                              (unsigned long long)id, s->obj[j].name);
    if (rc == HWNAS_OK)
        rc = hwnas__search_score(s, &r);
    if (rc == HWNAS_OK && s->journal)
        rc = hwnas__journal_append(s, &r, NULL);
    if (rc == HWNAS_OK) {
        /* A failed candidate still passes an objective row (ignored). */
        double *obj = r.obj ? r.obj : hwnas__calloc(s->ctx, s->n_obj + 1, sizeof *obj);
        double v = r.violation;
        int f = r.failed;
        rc = obj ? hwnas_strategy_tell(s->strategy, 1, &id, obj, &v, &f) : HWNAS_ENOMEM;
        if (obj != r.obj)
            hwnas__free(s->ctx, obj);
    }
    if (rc == HWNAS_OK && !r.failed && hwnas__cache_find(s, r.hash) < 0)
        rc = hwnas__cache_put(s, r.hash, (int64_t)s->n_rec);
    if (rc == HWNAS_OK)
        rc = hwnas__search_archive(s, &r);
    if (rc != HWNAS_OK) {
        hwnas__record_release(s->ctx, &r);
        return rc;
    }
    hwnas__free(s->ctx, s->pending[k].genes);
    s->pending[k] = s->pending[--s->n_pending];
    s->since_snapshot++;
    if (s->on_candidate && s->on_candidate(s, s->n_rec - 1, s->on_candidate_data) != 0)
        return hwnas__error(HWNAS_EUSER, "search stopped by the candidate callback");
    if (s->n_pending == 0)
        return hwnas__after_batch(s, 1);
    return HWNAS_OK;
}
