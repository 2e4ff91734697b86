/*
 * The default evaluator (search_internal.h): each candidate is decoded
 * and estimated on a worker of the context's threads, `parallel` of them
 * at once. The workers take candidates from one queue in evaluation order
 * (no wave barrier: a worker that finishes a small network starts the next
 * candidate while the other still trains a large one); each candidate
 * keeps its record and random stream, so results do not depend on who
 * took it. With screening, a candidate whose metrics so far break a
 * constraint skips the later estimators.
 */
#include <math.h>
#include <stdatomic.h>

#include "estimator/estimator_internal.h"
#include "search_internal.h"

typedef struct queue {
    hwnas_search *s;
    hwnas__job *jobs;
    size_t n;
    atomic_size_t next;     /* the next job a worker takes */
    atomic_int interrupted; /* an estimate was interrupted: the batch is dropped, skip the rest */
} queue;

/* Whether a constraint on a measured metric is broken (unmeasured
 * metrics are NaN and break nothing yet). */
static int breaks_constraint(const hwnas_search *s, const double *metrics)
{
    for (size_t k = 0; k < s->n_con; k++) {
        double v = metrics[s->con[k].metric], b = s->con[k].bound;
        if (isfinite(v) && (s->con[k].upper ? v > b : v < b))
            return 1;
    }
    return 0;
}

int hwnas__estimate_job(hwnas_search *s, hwnas__job *job, size_t watched,
                        struct hwnas__curve_watch *w)
{
    hwnas__record *r = job->rec;
    double t0 = hwnas__now_seconds();
    /* Under co-design the net runs on its own hardware (c.accel) and the
     * estimators see the network half's key. */
    hwnas__candidate c;
    int rc = hwnas__candidate_decode(s, r, 1, &c);
    job->net = c.net;
    c.net = NULL; /* the job's now */
    int screen = (int)hwnas__options_int(s->options, OPT_SCREEN), interrupted = 0;
    size_t failed_at = 0, failed_n = s->n_metrics; /* the metrics a failure leaves unknown */
    if (!w)
        watched = SIZE_MAX;
    /* The watched estimator (the costly training) runs last, so that the
     * pruner sees the candidate's other metrics when it decides. */
    for (size_t k = 0; rc == HWNAS_OK && k < s->n_est + (watched < s->n_est); k++) {
        size_t e = k < s->n_est ? k : watched;
        if (e == watched && k < s->n_est)
            continue;
        size_t m = 0;
        for (size_t j = 0; j < e; j++)
            m += hwnas_estimator_metric_count(s->est[j]);
        if (e == watched)
            hwnas__curve_watch_set(w);
        rc = hwnas_estimator_estimate_on(s->est[e], job->net, c.accel, c.key, r->stream,
                                         r->metrics + m);
        if (e == watched)
            hwnas__curve_watch_set(NULL);
        interrupted = rc != HWNAS_OK && hwnas_estimator_interrupted();
        if (rc != HWNAS_OK && e == watched) {
            /* The other metrics stand: the pruner ranked by them, and a
             * resume must see what the other candidates saw. */
            failed_at = m;
            failed_n = hwnas_estimator_metric_count(s->est[e]);
        }
        if (screen && rc == HWNAS_OK && breaks_constraint(s, r->metrics))
            break; /* infeasible already: the later (costly) estimators are skipped */
    }
    hwnas__candidate_release(&c);
    r->seconds = hwnas__now_seconds() - t0;
    if (interrupted) {
        job->interrupted = 1; /* not a failure of this candidate: the batch is dropped */
        return 0;
    }
    if (rc != HWNAS_OK) {
        /* The message is on this thread: copy it into the record now. */
        if (hwnas__record_fail(s, r, hwnas_error_last()) != HWNAS_OK)
            return 1;
        for (size_t m = failed_at; m < failed_at + failed_n; m++)
            r->metrics[m] = NAN;
    }
    return 0;
}

/* Decode and estimate job i; runs on a worker thread. */
static int estimate_one(queue *q, size_t i)
{
    if (atomic_load(&q->interrupted))
        return 0; /* the batch is dropped: not worth the time */
    int rc = hwnas__estimate_job(q->s, &q->jobs[i], SIZE_MAX, NULL);
    if (q->jobs[i].interrupted)
        atomic_store(&q->interrupted, 1);
    return rc;
}

/* One worker: jobs from the queue until it is empty. */
static int worker(size_t task, size_t thread, void *data)
{
    (void)task, (void)thread;
    queue *q = data;
    for (;;) {
        size_t i = atomic_fetch_add(&q->next, 1);
        if (i >= q->n)
            return 0;
        if (estimate_one(q, i) != 0)
            return 1;
    }
}

/* One job on the calling thread, exactly as a worker does it (same
 * stream, screening and failure record): for evaluators that place jobs
 * themselves (lib/mpi's workers). HWNAS_ENOMEM when the failure could not
 * be recorded; job->interrupted as in a batch. */
int hwnas__evaluate_one(hwnas_search *s, hwnas__job *job)
{
    queue q = {s, job, 1, 0, 0};
    return estimate_one(&q, 0) ? HWNAS_ENOMEM : HWNAS_OK;
}

static int evaluate_local(void *data, hwnas_search *s, hwnas__job *jobs, size_t n)
{
    (void)data;
    /* parallel=N bounds how many candidates are estimated at once; each
     * keeps its record and stream, so results do not change with N. */
    size_t width = (size_t)hwnas__options_int(s->options, OPT_PARALLEL);
    if (width == 0 || width > n)
        width = n;
    queue q;
    q.s = s;
    q.jobs = jobs;
    q.n = n;
    atomic_init(&q.next, 0);
    atomic_init(&q.interrupted, 0);
    int rc = hwnas_parallel_for(s->ctx, width, worker, &q);
    if (rc == HWNAS_EUSER)
        rc = HWNAS_ENOMEM; /* a worker stops only when it cannot record an error */
    for (size_t j = 0; rc == HWNAS_OK && j < n; j++)
        if (jobs[j].interrupted)
            rc = hwnas__error(HWNAS_EUSER, "search interrupted while estimating evaluation "
                                           "%llu; its batch is estimated again when the search "
                                           "runs or resumes",
                              (unsigned long long)jobs[j].rec->eval);
    return rc;
}

const hwnas__evaluator hwnas__local_evaluator = {evaluate_local, NULL, NULL, NULL, NULL};
