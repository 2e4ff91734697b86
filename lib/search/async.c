/*
 * schedule=async: the steady-state run loop. The evaluator's width
 * candidates are always asked ahead; when one finishes it is told to the
 * strategy at once, archived, and the next is asked, so a worker that
 * finishes never waits for the others (a batch would).
 *
 * Determinism. A candidate's place in the archive (eval) is its place in
 * the completion order; its estimates use the number of its ask as their
 * random stream (record.stream), known when it is handed out. Asks follow
 * a fixed rule - width at the start, one after each completion - so the
 * whole search is a function of the completion order, which the journal
 * records: a resume asks again in the same pattern and takes each
 * journaled completion, in journal order, from the candidates asked, then
 * goes on live. Snapshots are written only with nothing in flight (at
 * the end): a snapshot cannot hold an asked, untold candidate.
 */
#include <string.h>

#include "search_internal.h"

enum { A_FREE, A_WAIT, A_RUN, A_DONE };

typedef struct aslot {
    hwnas__record rec;
    hwnas__job job;
    int state;
    int replayed;   /* its figures came from the journal */
} aslot;

struct hwnas__async {
    aslot *slot;
    size_t width;
    uint64_t asked; /* asks so far: the next one's stream */
};

void hwnas__async_release(hwnas_search *s)
{
    hwnas__async *a = s->async;
    if (!a)
        return;
    for (size_t i = 0; i < a->width; i++) {
        hwnas__record_release(s->ctx, &a->slot[i].rec);
        hwnas_net_free(a->slot[i].job.net);
    }
    hwnas__free(s->ctx, a->slot);
    hwnas__free(s->ctx, a);
    s->async = NULL;
}

size_t hwnas__async_in_flight(const hwnas_search *s)
{
    size_t n = 0;
    for (size_t i = 0; s->async && i < s->async->width; i++)
        n += s->async->slot[i].state != A_FREE;
    return n;
}

static int setup(hwnas_search *s)
{
    static const char *const refused[] = {"prune", "guide"};
    const int opts[] = {OPT_PRUNE, OPT_GUIDE};
    for (size_t k = 0; k < 2; k++)
        if (hwnas__options_int(s->options, (size_t)opts[k]) != 0)
            return hwnas__error(HWNAS_EUNSUPPORTED, "search: %s works with schedule=batch "
                                "(its decisions rank candidates of one batch); it is set "
                                "with schedule=async",
                                refused[k]);
    if (s->nested)
        return hwnas__error(HWNAS_EUNSUPPORTED, "search: codesign=nested works with "
                                                "schedule=batch");
    if (s->async)
        return HWNAS_OK;
    size_t width = s->evaluator.width ? s->evaluator.width(s->evaluator.data, s) : 0;
    if (width == 0)
        width = (size_t)hwnas__options_int(s->options, OPT_PARALLEL);
    if (width == 0)
        width = hwnas_context_threads(s->ctx);
    if (width == 0)
        width = 1;
    hwnas__async *a = hwnas__calloc(s->ctx, 1, sizeof *a);
    if (!a)
        return HWNAS_ENOMEM;
    a->slot = hwnas__calloc(s->ctx, width, sizeof *a->slot);
    if (!a->slot) {
        hwnas__free(s->ctx, a);
        return HWNAS_ENOMEM;
    }
    a->width = width;
    a->asked = s->n_rec; /* asks restart with the archive a snapshot covered */
    s->async = a;
    return HWNAS_OK;
}

/* Ask one candidate into free slot f; *got 0 when the strategy has none
 * to give until it hears of those in flight (regularized evolution while
 * its first population is out). */
static int ask_into(hwnas_search *s, aslot *f, uint32_t *genes, size_t *got)
{
    uint64_t id = 0;
    int rc = hwnas_strategy_ask(s->strategy, 1, genes, &id, got);
    if (rc != HWNAS_OK || *got == 0)
        return rc;
    rc = hwnas__record_new(s, &f->rec, genes, id, UINT64_MAX);
    if (rc != HWNAS_OK)
        return rc;
    f->rec.stream = s->async->asked++;
    f->replayed = 0;
    memset(&f->job, 0, sizeof f->job);
    f->job.rec = &f->rec;
    f->state = A_WAIT;
    if (f->rec.failed)
        f->state = A_DONE;
    /* Known already: a copy, finished at once (twins in flight together
     * are both estimated). */
    int64_t hit = f->rec.failed ? -1 : hwnas__cache_find(s, f->rec.hash);
    if (hit >= 0) {
        f->state = A_DONE;
        return hwnas__copy_metrics(s, &f->rec, &s->rec[hit]);
    }
    return HWNAS_OK;
}

/* The oldest slot (smallest stream) in state st, or NULL. */
static aslot *oldest(hwnas__async *a, int st)
{
    aslot *best = NULL;
    for (size_t i = 0; i < a->width; i++)
        if (a->slot[i].state == st && (!best || a->slot[i].rec.stream < best->rec.stream))
            best = &a->slot[i];
    return best;
}

/* The journal's record for the next evaluation, if any. */
static const hwnas__record *journaled(const hwnas_search *s)
{
    for (size_t i = 0; i < s->n_replay; i++)
        if (s->replay[i].eval == s->n_rec)
            return &s->replay[i];
    return NULL;
}

/* The next candidate to finish: the journal's while it has one, then an
 * answer the cache or decoding gave, then the evaluator's. */
static int next_done(hwnas_search *s, aslot **out)
{
    hwnas__async *a = s->async;
    *out = NULL;
    const hwnas__record *old = journaled(s);
    if (old) {
        for (size_t i = 0; i < a->width && !*out; i++) {
            aslot *f = &a->slot[i];
            if (f->state != A_FREE && f->rec.id == old->id &&
                memcmp(f->rec.genes, old->genes, s->n_genes * sizeof *old->genes) == 0)
                *out = f;
        }
        if (!*out)
            return hwnas__error(HWNAS_EFORMAT, "search: the journal in '%s' says evaluation "
                                "%llu was candidate %llu, which this search has not asked: "
                                "it was written by another schedule or width (schedule=async "
                                "replays the asks of the run that wrote it)",
                                hwnas__search_out(s), (unsigned long long)old->eval,
                                (unsigned long long)old->id);
        aslot *f = *out;
        if (f->state == A_RUN)
            return hwnas__error(HWNAS_EINTERNAL, "search: a journaled candidate is running");
        f->rec.failed = 0;
        hwnas__free(s->ctx, f->rec.error);
        f->rec.error = NULL;
        f->replayed = 1;
        f->state = A_DONE;
        return hwnas__take_replay(s, &f->rec, old);
    }
    if ((*out = oldest(a, A_DONE)) != NULL)
        return HWNAS_OK;
    int rc = HWNAS_OK;
    if (!s->evaluator.start) {
        /* One after the other on this thread, in ask order. */
        aslot *f = oldest(a, A_WAIT);
        if (!f)
            return hwnas__error(HWNAS_EINTERNAL, "search: nothing in flight to wait for");
        rc = hwnas__evaluate_one(s, &f->job);
        f->state = A_DONE;
        *out = f;
        return rc;
    }
    for (aslot *f; rc == HWNAS_OK && (f = oldest(a, A_WAIT)) != NULL;) {
        f->state = A_RUN;
        rc = s->evaluator.start(s->evaluator.data, s, &f->job);
    }
    hwnas__job *job = NULL;
    if (rc == HWNAS_OK)
        rc = s->evaluator.next(s->evaluator.data, s, &job);
    for (size_t i = 0; rc == HWNAS_OK && i < a->width && !*out; i++)
        if (&a->slot[i].job == job)
            *out = &a->slot[i];
    if (rc == HWNAS_OK && !*out)
        rc = hwnas__error(HWNAS_EINTERNAL, "search: the evaluator finished a job it was not "
                                           "given");
    if (*out)
        (*out)->state = A_DONE;
    return rc;
}

/* Tell, journal and archive slot f as the next evaluation. */
static int finish(hwnas_search *s, aslot *f)
{
    hwnas__record *r = &f->rec;
    r->eval = s->n_rec;
    int rc = hwnas__search_score(s, r);
    if (rc == HWNAS_OK) {
        /* A failed candidate still passes an objective row (ignored). */
        double *obj = r->obj ? r->obj : hwnas__calloc(s->ctx, s->n_obj + 1, sizeof *obj);
        double v = r->violation;
        int failed = r->failed;
        rc = obj ? hwnas_strategy_tell(s->strategy, 1, &r->id, obj, &v, &failed) : HWNAS_ENOMEM;
        if (obj != r->obj)
            hwnas__free(s->ctx, obj);
    }
    if (rc == HWNAS_OK && s->journal && !f->replayed)
        rc = hwnas__journal_append(s, r, f->job.net);
    if (rc == HWNAS_OK && !r->failed && !r->cached && hwnas__cache_find(s, r->hash) < 0)
        rc = hwnas__cache_put(s, r->hash, (int64_t)s->n_rec);
    if (rc == HWNAS_OK)
        rc = hwnas__search_archive(s, r); /* takes what r owns */
    if (rc == HWNAS_OK) {
        memset(r, 0, sizeof *r);
        s->since_snapshot++;
    }
    hwnas_net_free(f->job.net);
    f->job.net = NULL;
    f->state = A_FREE;
    if (rc == HWNAS_OK && s->on_candidate &&
        s->on_candidate(s, s->n_rec - 1, s->on_candidate_data) != 0)
        rc = hwnas__error(HWNAS_EUSER, "search stopped by the candidate callback at "
                                       "evaluation %zu",
                          s->n_rec - 1);
    return rc;
}

int hwnas__run_async(hwnas_search *s, size_t budget, double limit)
{
    int rc = setup(s);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__async *a = s->async;
    /* Jobs an earlier run left running were abandoned with its evaluator. */
    for (size_t i = 0; i < a->width; i++)
        if (a->slot[i].state == A_RUN)
            a->slot[i].state = A_WAIT;
    uint32_t *genes = hwnas__malloc(s->ctx, (s->n_genes + 1) * sizeof *genes);
    if (!genes)
        return HWNAS_ENOMEM;
    while (rc == HWNAS_OK) {
        if (s->stop) {
            rc = hwnas__error(HWNAS_EUSER, "search stopped after %zu evaluations", s->n_rec);
            break;
        }
        if (limit > 0 && s->elapsed_before + hwnas__now_seconds() - s->started_at >= limit)
            break;
        /* Every free slot asks, in slot order, until the strategy has
         * nothing more to give before it hears back. */
        size_t flying = hwnas__async_in_flight(s), got = 1;
        for (size_t i = 0;
             rc == HWNAS_OK && got && i < a->width && s->n_rec + flying < budget; i++)
            if (a->slot[i].state == A_FREE) {
                rc = ask_into(s, &a->slot[i], genes, &got);
                flying += got;
            }
        if (rc == HWNAS_OK && flying == 0 && s->n_rec < budget)
            rc = hwnas__error(HWNAS_EINTERNAL, "search: %s asked for nothing with no "
                                               "candidate in flight",
                              hwnas_strategy_kind(s->strategy));
        if (rc != HWNAS_OK || flying == 0)
            break;
        aslot *f = NULL;
        rc = next_done(s, &f);
        if (rc == HWNAS_OK && f && f->job.interrupted) {
            /* Nothing of it is told: the next run (or a resume) estimates it again. */
            f->job.interrupted = 0;
            f->state = A_WAIT;
            rc = hwnas__error(HWNAS_EUSER, "search interrupted while estimating the candidate "
                                           "asked %llu-th; it is estimated again when the "
                                           "search runs or resumes",
                              (unsigned long long)f->rec.stream + 1);
            break;
        }
        if (rc == HWNAS_OK)
            rc = finish(s, f);
        if (rc == HWNAS_OK)
            rc = hwnas__after_batch(s, hwnas__async_in_flight(s) == 0);
    }
    hwnas__free(s->ctx, genes);
    return rc;
}
