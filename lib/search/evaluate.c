/*
 * The default evaluator (search_internal.h): each candidate is decoded
 * and estimated on a worker of the context's threads, `threads` of them
 * at once. With screening, a candidate whose metrics so far break a
 * constraint skips the later estimators.
 */
#include <math.h>
#include <stdatomic.h>

#include "estimator/estimator_internal.h"
#include "search_internal.h"

typedef struct wave {
    hwnas_search *s;
    hwnas__job *jobs;       /* this wave's first job */
    atomic_int interrupted; /* an estimate was interrupted: the batch is dropped, skip the rest */
} wave;

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
        rc = hwnas_estimator_estimate_on(s->est[e], job->net, c.accel, c.key, r->eval,
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

/* Decode and estimate one candidate; runs on a worker thread. */
static int estimate_task(size_t i, size_t worker, void *data)
{
    (void)worker;
    wave *w = data;
    if (atomic_load(&w->interrupted))
        return 0; /* the batch is dropped: not worth the time */
    int rc = hwnas__estimate_job(w->s, &w->jobs[i], SIZE_MAX, NULL);
    if (w->jobs[i].interrupted)
        atomic_store(&w->interrupted, 1);
    return rc;
}

/* One job on the calling thread, exactly as a wave's task does it (same
 * stream, screening and failure record): for evaluators that place jobs
 * themselves (lib/mpi's workers). HWNAS_ENOMEM when the failure could not
 * be recorded; job->interrupted as in a wave. */
int hwnas__evaluate_one(hwnas_search *s, hwnas__job *job)
{
    wave w = {s, job, 0};
    return estimate_task(0, 0, &w) ? HWNAS_ENOMEM : HWNAS_OK;
}

static int evaluate_local(void *data, hwnas_search *s, hwnas__job *jobs, size_t n)
{
    (void)data;
    /* parallel=N bounds how many candidates are estimated at once (waves of
     * N); each keeps its record and stream, so results do not change. */
    size_t width = (size_t)hwnas__options_int(s->options, OPT_PARALLEL);
    if (width == 0 || width > n)
        width = n;
    int rc = HWNAS_OK;
    for (size_t first = 0; rc == HWNAS_OK && first < n; first += width) {
        wave w = {s, jobs + first, 0};
        rc = hwnas_parallel_for(s->ctx, n - first < width ? n - first : width, estimate_task,
                                &w);
        if (rc == HWNAS_EUSER)
            rc = HWNAS_ENOMEM; /* a task stops only when it cannot record an error */
        for (size_t j = first; rc == HWNAS_OK && j < first + width && j < n; j++)
            if (jobs[j].interrupted)
                rc = hwnas__error(HWNAS_EUSER, "search interrupted while estimating "
                                               "evaluation %llu; its batch is estimated again "
                                               "when the search runs or resumes",
                                  (unsigned long long)jobs[j].rec->eval);
    }
    return rc;
}

const hwnas__evaluator hwnas__local_evaluator = {evaluate_local, NULL};
