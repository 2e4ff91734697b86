/*
 * Pruning (search option prune): the evaluator that watches each
 * candidate's learning curve (estimator_internal.h) and stops the
 * training of those not worth finishing.
 *
 * Rungs are training positions r0, r0 eta, r0 eta^2, ... below the curve
 * estimator's epochs T (r0 = min_resource epochs, or that fraction of T).
 *   asha       at each rung a candidate goes on when it ranks in the top
 *              1/eta of the candidates that reached the rung before it
 *              (asynchronous successive halving: no batch barrier).
 *   hyperband  the same in brackets: bracket b starts pruning at rung b
 *              (the last bracket never prunes); a candidate's bracket is
 *              drawn from its evaluation number and the seed, with
 *              Hyperband's proportions (more candidates where r0 is small).
 *   curve      from min_points reports on, the curve is extrapolated to T
 *              (curve_fit.c); the candidate stops when its optimistic
 *              final accuracy (mean + sigmas sd) would still be dominated
 *              by the archive's front (with its other metrics as they are).
 * extrapolate=true adds the curve rule to asha and hyperband.
 *
 * Determinism. A decision depends only on candidates with smaller
 * evaluation numbers: the archive, the replayed records of this batch and
 * the batch's earlier jobs. A job at a rung waits until each earlier job
 * of its bracket has passed that rung or finished; workers take jobs in
 * evaluation order, so whatever it waits for is running and the wait
 * ends. The curve rule's front is the archive's when the batch began.
 * Hence the same candidates are pruned at any thread count (for a fixed
 * batch size, which the strategy sees anyway).
 *
 * Ranking. The candidates at a rung are ordered by non-dominated rank of
 * their objectives (the curve's metric at its rung value, the others as
 * measured; those breaking a constraint last), then the first objective,
 * then evaluation order; one goes on when its position is below
 * max(1, floor(n / eta)) among the n ranked.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "estimator/estimator_internal.h"
#include "hwnas/pareto.h"
#include "search_internal.h"

enum { P_NONE, P_ASHA, P_HYPERBAND, P_CURVE };
enum { OPT_RESOURCE, OPT_MIN_RESOURCE, OPT_ETA, OPT_POINTS, OPT_MIN_POINTS, OPT_SIGMAS,
       OPT_EXTRAPOLATE };

static const hwnas__option_spec prune_options[] = {
    [OPT_RESOURCE] = {"resource", HWNAS_OPTION_ENUM, "fraction", 0, 0, "epochs|fraction",
                      "what min_resource counts: epochs, or a fraction of the training"},
    [OPT_MIN_RESOURCE] = {"min_resource", HWNAS_OPTION_FLOAT, "0", 0, 1e6, NULL,
                          "the first rung (0: 1 epoch, or 1/eta^2 of the training)"},
    [OPT_ETA] = {"eta", HWNAS_OPTION_INT, "3", 2, 100, NULL,
                 "rung spacing and the share that goes on (1/eta)"},
    [OPT_POINTS] = {"points", HWNAS_OPTION_INT, "8", 4, 1000, NULL,
                    "curve: validation points over the training, evenly spaced"},
    [OPT_MIN_POINTS] = {"min_points", HWNAS_OPTION_INT, "4", 4, 1000, NULL,
                        "curve: points before the first extrapolation"},
    [OPT_SIGMAS] = {"sigmas", HWNAS_OPTION_FLOAT, "2", 0, 100, NULL,
                    "curve: the optimistic prediction is mean + sigmas x sd"},
    [OPT_EXTRAPOLATE] = {"extrapolate", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                         "asha, hyperband: the curve rule too, between rungs"},
};

const hwnas__kind hwnas__prune_kind = {
    "prune", prune_options, HWNAS_ARRAY_SIZE(prune_options), NULL,
};

typedef struct hwnas__pruner {
    int method;          /* P_* */
    int extrapolate;     /* the curve rule (curve, or extrapolate=true) */
    size_t eta;
    double epochs;       /* T: where the curve ends */
    size_t est;          /* the watched estimator */
    size_t metric;       /* its accuracy: the search metric ranked */
    size_t metric_end;   /* its metrics are [metric, metric_end): unknown while it trains */
    size_t ranked;       /* the objective's metric the curve stands for: the first
                          * objective among the watched estimator's metrics */
    double *at;          /* n_at report positions (epochs), increasing, the last T */
    size_t n_at;
    size_t *rung_at;     /* n_rungs indices into at: the rungs, all < T */
    size_t n_rungs;
    double *bracket_cum; /* n_brackets cumulative Hyperband shares, the last 1 */
    size_t n_brackets;
    size_t min_points;
    double sigmas;
    uint64_t seed;
} hwnas__pruner;

int hwnas__prune_check(hwnas_search *s)
{
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, s->ctx, &hwnas__prune_kind,
                                     hwnas__options_str(s->options, OPT_PRUNE_OPTIONS));
    if (rc == HWNAS_OK && hwnas__options_int(s->options, OPT_PRUNE) == P_NONE &&
        *hwnas__options_str(s->options, OPT_PRUNE_OPTIONS))
        rc = hwnas__error(HWNAS_EINVAL, "search: prune_options \"%s\" set with prune=none: "
                          "choose prune=asha, hyperband or curve",
                          hwnas__options_str(s->options, OPT_PRUNE_OPTIONS));
    hwnas_options_free(o);
    return rc;
}

void hwnas__prune_release(hwnas_search *s)
{
    hwnas__pruner *p = s->pruner;
    if (!p)
        return;
    hwnas__free(s->ctx, p->at);
    hwnas__free(s->ctx, p->rung_at);
    hwnas__free(s->ctx, p->bracket_cum);
    hwnas__free(s->ctx, p);
    s->pruner = NULL;
}

int hwnas__record_copy_curve(const hwnas_search *s, hwnas__record *dst,
                             const hwnas__record *src)
{
    dst->pruned = src->pruned;
    hwnas__free(s->ctx, dst->curve);
    dst->curve = NULL;
    dst->n_curve = 0;
    if (!src->n_curve)
        return HWNAS_OK;
    dst->curve = hwnas__malloc(s->ctx, 2 * src->n_curve * sizeof *dst->curve);
    if (!dst->curve)
        return HWNAS_ENOMEM;
    memcpy(dst->curve, src->curve, 2 * src->n_curve * sizeof *dst->curve);
    dst->n_curve = src->n_curve;
    return HWNAS_OK;
}

/* Append position x to the sorted set at (n of cap), unless already in. */
static void add_position(double *at, size_t *n, double x)
{
    size_t i = 0;
    while (i < *n && at[i] < x - 1e-9)
        i++;
    if (i < *n && fabs(at[i] - x) <= 1e-9)
        return;
    memmove(at + i + 1, at + i, (*n - i) * sizeof *at);
    at[i] = x;
    (*n)++;
}

/* Rung positions, report positions and Hyperband's brackets. */
static int plan(hwnas_search *s, hwnas__pruner *p, const hwnas_options *o)
{
    double T = p->epochs, eta = (double)p->eta;
    double r0 = hwnas__options_float(o, OPT_MIN_RESOURCE);
    int fraction = hwnas__options_int(o, OPT_RESOURCE) == 1;
    if (r0 == 0)
        r0 = fraction ? 1 / (eta * eta) : 1;
    if (fraction && r0 >= 1)
        return hwnas__error(HWNAS_EINVAL, "search: prune_options min_resource=%g with "
                            "resource=fraction must be below 1", r0);
    if (fraction)
        r0 *= T;
    size_t n_rungs = 0;
    for (double r = r0; r < T - 1e-9 && n_rungs < 64; r *= eta)
        n_rungs++;
    if (p->method != P_CURVE && n_rungs == 0)
        return hwnas__error(HWNAS_EINVAL, "search: prune=%s has no rung below the %g epochs "
                            "of %s (first rung at %g epochs): lower prune_options "
                            "min_resource, or use resource=fraction",
                            p->method == P_ASHA ? "asha" : "hyperband", T,
                            hwnas_estimator_kind(s->est[p->est]), r0);
    if (p->method == P_CURVE)
        n_rungs = 0;
    size_t points = p->extrapolate ? (size_t)hwnas__options_int(o, OPT_POINTS) : 0;
    size_t cap = n_rungs + points + (size_t)T + 2;
    p->at = hwnas__malloc(s->ctx, cap * sizeof *p->at);
    p->rung_at = hwnas__malloc(s->ctx, (n_rungs + 1) * sizeof *p->rung_at);
    if (!p->at || !p->rung_at)
        return HWNAS_ENOMEM;
    double r = r0;
    for (size_t i = 0; i < n_rungs; i++, r *= eta)
        add_position(p->at, &p->n_at, r);
    for (size_t i = 1; i <= points; i++)
        add_position(p->at, &p->n_at, T * (double)i / (double)points);
    for (size_t e = 1; (double)e < T; e++) /* the curve after every epoch too */
        add_position(p->at, &p->n_at, (double)e);
    add_position(p->at, &p->n_at, T);
    r = r0;
    for (size_t i = 0; i < n_rungs; i++, r *= eta) {
        size_t k = 0;
        while (fabs(p->at[k] - r) > 1e-9)
            k++;
        p->rung_at[i] = k;
    }
    p->n_rungs = n_rungs;
    /* Hyperband: bracket b prunes from rung b on; s = n_rungs - b halvings
     * get ceil((s_max + 1) / (s + 1) eta^s) of the candidates. */
    p->n_brackets = p->method == P_HYPERBAND ? n_rungs + 1 : 1;
    p->bracket_cum = hwnas__malloc(s->ctx, p->n_brackets * sizeof *p->bracket_cum);
    if (!p->bracket_cum)
        return HWNAS_ENOMEM;
    double total = 0;
    for (size_t b = 0; b < p->n_brackets; b++) {
        double h = (double)(p->n_brackets - 1 - b);
        total += ceil((double)p->n_brackets / (h + 1) * pow(eta, h));
        p->bracket_cum[b] = total;
    }
    for (size_t b = 0; b < p->n_brackets; b++)
        p->bracket_cum[b] /= total;
    p->bracket_cum[p->n_brackets - 1] = 1;
    return HWNAS_OK;
}

static int evaluate_pruned(void *data, hwnas_search *s, hwnas__job *jobs, size_t n);

int hwnas__prune_setup(hwnas_search *s)
{
    int method = (int)hwnas__options_int(s->options, OPT_PRUNE);
    if (method == P_NONE || s->pruner)
        return HWNAS_OK;
    if (s->evaluator.evaluate) /* a remote evaluator: its workers do not watch curves yet */
        return hwnas__error(HWNAS_EUNSUPPORTED, "search: prune works with the local "
                            "evaluator only; this search has another one (remote "
                            "evaluation): set prune=none");
    hwnas__pruner *p = hwnas__calloc(s->ctx, 1, sizeof *p);
    if (!p)
        return HWNAS_ENOMEM;
    s->pruner = p;
    p->method = method;
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, s->ctx, &hwnas__prune_kind,
                                     hwnas__options_str(s->options, OPT_PRUNE_OPTIONS));
    if (rc != HWNAS_OK)
        return rc;
    p->eta = (size_t)hwnas__options_int(o, OPT_ETA);
    p->extrapolate = method == P_CURVE || hwnas__options_int(o, OPT_EXTRAPOLATE);
    p->min_points = (size_t)hwnas__options_int(o, OPT_MIN_POINTS);
    p->sigmas = hwnas__options_float(o, OPT_SIGMAS);
    p->seed = (uint64_t)hwnas__options_int(s->options, OPT_SEED);
    p->est = s->n_est;
    size_t m = 0;
    for (size_t e = 0; e < s->n_est && p->est == s->n_est; e++) {
        if (hwnas__estimator_curve_epochs(s->est[e]) > 0)
            p->est = e, p->metric = m, p->metric_end = m + hwnas_estimator_metric_count(s->est[e]);
        m += hwnas_estimator_metric_count(s->est[e]);
    }
    static const char *const names[] = {"none", "asha", "hyperband", "curve"};
    if (p->est == s->n_est)
        rc = hwnas__error(HWNAS_EINVAL, "search: prune=%s needs an estimator with a learning "
                          "curve (estimator:accuracy); none of the %zu added has one",
                          names[method], s->n_est);
    /* The curve (validation accuracy) stands for the first objective the
     * watched estimator gives: accuracy, or accuracy_q measured after it. */
    p->ranked = SIZE_MAX;
    for (size_t k = 0; rc == HWNAS_OK && k < s->n_obj && p->ranked == SIZE_MAX; k++)
        if (s->obj[k].metric >= p->metric && s->obj[k].metric < p->metric_end)
            p->ranked = s->obj[k].metric;
    if (rc == HWNAS_OK && p->ranked == SIZE_MAX)
        rc = hwnas__error(HWNAS_EINVAL, "search: prune=%s ranks by the learning curve of %s, "
                          "but none of its metrics is among the objectives \"%s\"",
                          names[method], hwnas_estimator_kind(s->est[p->est]),
                          hwnas__options_str(s->options, OPT_OBJECTIVES));
    if (rc == HWNAS_OK) {
        p->epochs = hwnas__estimator_curve_epochs(s->est[p->est]);
        rc = plan(s, p, o);
    }
    hwnas_options_free(o);
    if (rc == HWNAS_OK)
        s->evaluator = (hwnas__evaluator){evaluate_pruned, p, NULL, NULL, NULL};
    return rc;
}

/* ---- one batch ---------------------------------------------------------- */

typedef struct batch {
    hwnas_search *s;
    hwnas__pruner *p;
    hwnas__job *jobs;
    size_t n;
    atomic_size_t next;         /* the next job a worker takes */
    atomic_int interrupted;
    pthread_mutex_t lock;       /* guards reached, done, vals */
    pthread_cond_t moved;       /* a job reported or finished */
    size_t *reached;            /* per job: positions reported so far */
    unsigned char *done;
    double *vals;               /* n x n_at: job j's value at p->at[k] */
    size_t *bracket;            /* per job */
    const hwnas__record **extra; /* replayed records of this batch (not jobs) */
    size_t n_extra;
    double *front;              /* n_front x n_obj: the archive's front at batch start */
    size_t n_front;
} batch;

typedef struct watcher {
    batch *b;
    size_t j;                   /* the job */
    hwnas__curve_watch w;
} watcher;

static size_t bracket_of(const hwnas__pruner *p, uint64_t eval)
{
    if (p->n_brackets == 1)
        return 0;
    uint64_t x = p->seed ^ (eval * UINT64_C(0xd1b54a32d192ed03)) ^ UINT64_C(0x5052554e45); /* "PRUNE" */
    double u = (double)(hwnas__splitmix64(&x) >> 11) * 0x1p-53;
    size_t b = 0;
    while (b + 1 < p->n_brackets && u >= p->bracket_cum[b])
        b++;
    return b;
}

/* A record's curve value at position x, or NaN. */
static double curve_at(const hwnas__record *r, double x)
{
    for (size_t i = 0; i < r->n_curve; i++)
        if (fabs(r->curve[2 * i] - x) <= 1e-9)
            return r->curve[2 * i + 1];
    return NAN;
}

/* The value of metric i for ranking: v for the ranked metric, 0 for the
 * watched estimator's others (unknown while it trains, so never used),
 * the measured value otherwise. */
static double rank_value(const hwnas__pruner *p, const double *metrics, size_t i, double v)
{
    if (i == p->ranked)
        return v;
    return i >= p->metric && i < p->metric_end ? 0 : metrics[i];
}

/* A record's objectives (minimised) with the ranked metric set to v, and
 * whether it keeps the constraints on the metrics known (1) or not (0). */
static int point_of(const hwnas_search *s, const hwnas__pruner *p, const double *metrics,
                    double v, double *pt)
{
    for (size_t k = 0; k < s->n_obj; k++) {
        double x = rank_value(p, metrics, s->obj[k].metric, v);
        pt[k] = isfinite(x) ? s->obj[k].sign * x : 1e300;
    }
    for (size_t k = 0; k < s->n_con; k++) {
        if (s->con[k].metric >= p->metric && s->con[k].metric < p->metric_end)
            continue;
        double x = rank_value(p, metrics, s->con[k].metric, v);
        if (isfinite(x) && (s->con[k].upper ? x > s->con[k].bound : x < s->con[k].bound))
            return 0;
    }
    return 1;
}

/* Whether job j goes on past rung i (under b->lock, its predecessors at
 * the rung settled). Errors: HWNAS_ENOMEM. */
static int rung_decision(batch *b, size_t j, size_t i, int *go_on)
{
    hwnas_search *s = b->s;
    hwnas__pruner *p = b->p;
    size_t k = p->rung_at[i], m = s->n_obj, cap = s->n_rec + b->n_extra + b->n + 1;
    double x = p->at[k];
    double *pts = hwnas__malloc(s->ctx, cap * m * sizeof *pts);
    unsigned char *ok = hwnas__calloc(s->ctx, cap, 1);
    uint64_t *ids = hwnas__malloc(s->ctx, cap * sizeof *ids);
    int rc = pts && ok && ids ? HWNAS_OK : HWNAS_ENOMEM;
    size_t n = 0, self = SIZE_MAX;
    for (size_t r = 0; rc == HWNAS_OK && r < s->n_rec + b->n_extra; r++) {
        const hwnas__record *rec = r < s->n_rec ? &s->rec[r] : b->extra[r - s->n_rec];
        /* failed ones too: a job fails after its rungs, and its batch's
         * later jobs ranked it */
        if (rec->cached || bracket_of(p, rec->eval) != b->bracket[j] ||
            rec->eval > b->jobs[j].rec->eval)
            continue;
        double v = curve_at(rec, x);
        if (isnan(v))
            continue;
        ok[n] = (unsigned char)point_of(s, p, rec->metrics, v, pts + n * m);
        ids[n++] = rec->eval;
    }
    for (size_t q = 0; rc == HWNAS_OK && q <= j; q++) {
        if (b->bracket[q] != b->bracket[j] || b->reached[q] <= k)
            continue;
        if (q == j)
            self = n;
        ok[n] = (unsigned char)point_of(s, p, b->jobs[q].rec->metrics, b->vals[q * p->n_at + k],
                                        pts + n * m);
        ids[n++] = b->jobs[q].rec->eval;
    }
    size_t *order = NULL, count = 0, front = 0;
    if (rc == HWNAS_OK)
        rc = hwnas__pareto_order(s->ctx, pts, ok, ids, n, m, 1, &order, &count, &front);
    *go_on = 0;
    size_t keep = count / p->eta ? count / p->eta : 1;
    for (size_t q = 0; rc == HWNAS_OK && q < count && q < keep; q++)
        if (order[q] == self)
            *go_on = 1;
    hwnas__free(s->ctx, order);
    hwnas__free(s->ctx, pts);
    hwnas__free(s->ctx, ok);
    hwnas__free(s->ctx, ids);
    return rc;
}

/* The curve rule for job j after report k: 1 stop, 0 go on, < 0 error. */
static int curve_decision(batch *b, size_t j, size_t k)
{
    hwnas_search *s = b->s;
    hwnas__pruner *p = b->p;
    if (k + 1 < p->min_points || p->at[k] >= p->epochs - 1e-9 || b->n_front == 0)
        return 0;
    double mean, sd;
    int rc = hwnas__curve_predict(p->at, b->vals + j * p->n_at, k + 1, p->epochs, &mean, &sd);
    if (rc != HWNAS_OK)
        return rc;
    double best = mean + p->sigmas * sd;
    double *pt = hwnas__malloc(s->ctx, (s->n_obj + 1) * sizeof *pt);
    if (!pt)
        return HWNAS_ENOMEM;
    point_of(s, p, b->jobs[j].rec->metrics, best, pt);
    int dominated = 0;
    for (size_t f = 0; f < b->n_front && !dominated; f++) {
        const double *q = b->front + f * s->n_obj;
        int le = 1, lt = 0;
        for (size_t o = 0; o < s->n_obj; o++) {
            le &= q[o] <= pt[o];
            lt |= q[o] < pt[o];
        }
        dominated = le && lt;
    }
    hwnas__free(s->ctx, pt);
    return dominated;
}

/* The watch's report: record the value, then decide at a rung or by the
 * curve. Runs on the job's worker. */
static int on_report(void *data, size_t k, double value)
{
    watcher *wt = data;
    batch *b = wt->b;
    hwnas__pruner *p = b->p;
    size_t j = wt->j;
    uint64_t eval = b->jobs[j].rec->eval;
    if (!isfinite(value))
        return hwnas__error(HWNAS_EINVAL, "pruning: evaluation %llu reported validation "
                            "accuracy %g at epoch %g: a learning curve needs finite values",
                            (unsigned long long)eval, value, p->at[k]);
    pthread_mutex_lock(&b->lock);
    b->vals[j * p->n_at + k] = value;
    b->reached[j] = k + 1;
    pthread_cond_broadcast(&b->moved);
    size_t i = 0;
    while (i < p->n_rungs && p->rung_at[i] != k)
        i++;
    int rc = 0;
    if (i < p->n_rungs && i >= b->bracket[j]) {
        /* Wait for the earlier jobs of the bracket to pass the rung or end. */
        for (;;) {
            size_t q = 0;
            while (q < j && (b->bracket[q] != b->bracket[j] || b->done[q] || b->reached[q] > k))
                q++;
            if (q == j || atomic_load(&b->interrupted))
                break;
            pthread_cond_wait(&b->moved, &b->lock);
        }
        int go_on = 1;
        rc = rung_decision(b, j, i, &go_on);
        if (rc == HWNAS_OK && !go_on)
            rc = 1;
    }
    pthread_mutex_unlock(&b->lock);
    if (rc == 0 && p->extrapolate)
        rc = curve_decision(b, j, k);
    return rc;
}

static void finish(batch *b, size_t j)
{
    pthread_mutex_lock(&b->lock);
    b->done[j] = 1;
    pthread_cond_broadcast(&b->moved);
    pthread_mutex_unlock(&b->lock);
}

/* One job, watched; its curve and pruned mark into the record. */
static int run_job(batch *b, size_t j)
{
    hwnas__pruner *p = b->p;
    watcher wt = {b, j, {p->at, p->n_at, on_report, NULL, 0, 0}};
    wt.w.data = &wt;
    int rc = hwnas__estimate_job(b->s, &b->jobs[j], p->est, &wt.w);
    hwnas__record *r = b->jobs[j].rec;
    pthread_mutex_lock(&b->lock);
    size_t n = b->reached[j];
    pthread_mutex_unlock(&b->lock);
    if (rc == 0 && n) {
        r->curve = hwnas__malloc(b->s->ctx, 2 * n * sizeof *r->curve);
        if (!r->curve)
            rc = 1;
        for (size_t k = 0; r->curve && k < n; k++) {
            r->curve[2 * k] = p->at[k];
            r->curve[2 * k + 1] = b->vals[j * p->n_at + k];
        }
        r->n_curve = r->curve ? n : 0;
    }
    r->pruned = wt.w.stopped && !r->failed;
    if (b->jobs[j].interrupted)
        atomic_store(&b->interrupted, 1);
    finish(b, j);
    return rc;
}

static int worker(size_t task, size_t thread, void *data)
{
    (void)task, (void)thread;
    batch *b = data;
    int rc = 0;
    for (;;) {
        size_t j = atomic_fetch_add(&b->next, 1);
        if (j >= b->n)
            return rc;
        if (rc || atomic_load(&b->interrupted))
            finish(b, j); /* the batch is dropped: release whoever waits */
        else
            rc = run_job(b, j);
    }
}

/* The archive's feasible, fully trained front, for the curve rule. */
static int front_at_start(batch *b)
{
    hwnas_search *s = b->s;
    size_t *idx = NULL, n = 0;
    int rc = hwnas__search_front_all(s, &idx, &n);
    if (rc == HWNAS_OK && n) {
        b->front = hwnas__malloc(s->ctx, n * s->n_obj * sizeof *b->front);
        if (!b->front)
            rc = HWNAS_ENOMEM;
        for (size_t i = 0; b->front && i < n; i++)
            memcpy(b->front + i * s->n_obj, s->rec[idx[i]].obj, s->n_obj * sizeof *b->front);
        b->n_front = b->front ? n : 0;
    }
    hwnas__free(s->ctx, idx);
    return rc;
}

static int evaluate_pruned(void *data, hwnas_search *s, hwnas__job *jobs, size_t n)
{
    batch b;
    memset(&b, 0, sizeof b);
    b.s = s;
    b.p = data;
    b.jobs = jobs;
    b.n = n;
    atomic_init(&b.next, 0);
    atomic_init(&b.interrupted, 0);
    b.reached = hwnas__calloc(s->ctx, n + 1, sizeof *b.reached);
    b.done = hwnas__calloc(s->ctx, n + 1, 1);
    b.vals = hwnas__malloc(s->ctx, (n * b.p->n_at + 1) * sizeof *b.vals);
    b.bracket = hwnas__malloc(s->ctx, (n + 1) * sizeof *b.bracket);
    b.extra = hwnas__malloc(s->ctx, (s->n_replay + 1) * sizeof *b.extra);
    int rc = b.reached && b.done && b.vals && b.bracket && b.extra ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t j = 0; rc == HWNAS_OK && j < n; j++)
        b.bracket[j] = bracket_of(b.p, jobs[j].rec->eval);
    /* Records of this batch taken from the journal take part as they did
     * when they were estimated: the decisions of a resumed batch are the
     * same. */
    uint64_t last = n ? jobs[n - 1].rec->eval : 0;
    for (size_t i = 0; rc == HWNAS_OK && i < s->n_replay; i++) {
        const hwnas__record *r = &s->replay[i];
        int job = 0;
        for (size_t j = 0; j < n && !job; j++)
            job = jobs[j].rec->eval == r->eval;
        if (!job && r->eval >= s->n_rec && r->eval < last)
            b.extra[b.n_extra++] = r;
    }
    if (rc == HWNAS_OK && b.p->extrapolate)
        rc = front_at_start(&b);
    if (rc != HWNAS_OK)
        goto done;
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.moved, NULL);
    size_t width = (size_t)hwnas__options_int(s->options, OPT_PARALLEL);
    size_t threads = hwnas_context_threads(s->ctx);
    if (width == 0 || width > threads)
        width = threads ? threads : 1;
    if (width > n)
        width = n;
    rc = hwnas_parallel_for(s->ctx, width, worker, &b);
    if (rc == HWNAS_EUSER)
        rc = HWNAS_ENOMEM; /* a worker stops only when it cannot record an error */
    for (size_t j = 0; rc == HWNAS_OK && j < n; j++)
        if (jobs[j].interrupted)
            rc = hwnas__error(HWNAS_EUSER, "search interrupted while estimating evaluation "
                                           "%llu; its batch is estimated again when the search "
                                           "runs or resumes",
                              (unsigned long long)jobs[j].rec->eval);
    pthread_cond_destroy(&b.moved);
    pthread_mutex_destroy(&b.lock);
done:
    hwnas__free(s->ctx, b.reached);
    hwnas__free(s->ctx, b.done);
    hwnas__free(s->ctx, b.vals);
    hwnas__free(s->ctx, b.bracket);
    hwnas__free(s->ctx, b.extra);
    hwnas__free(s->ctx, b.front);
    return rc;
}

/* ---- public getters ------------------------------------------------------ */

int hwnas_search_pruned(const hwnas_search *s, size_t i)
{
    return s && i < s->n_rec ? s->rec[i].pruned : 0;
}

size_t hwnas_search_curve(const hwnas_search *s, size_t i, double *epochs, double *values,
                          size_t cap)
{
    if (!s || i >= s->n_rec)
        return 0;
    const hwnas__record *r = &s->rec[i];
    for (size_t k = 0; k < r->n_curve && k < cap; k++) {
        if (epochs)
            epochs[k] = r->curve[2 * k];
        if (values)
            values[k] = r->curve[2 * k + 1];
    }
    return r->n_curve;
}
