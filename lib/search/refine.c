/*
 * Multi-fidelity selection: once the budget is spent, the `refine` most
 * promising candidates (by non-dominated rank of the cheap proxy figures)
 * are estimated again with a costlier estimator (`refine_estimator`), and
 * the front is chosen among them by those figures. The strategy never
 * sees refined figures: they would not be comparable with the proxy ones
 * it ranks by. Each refinement is journaled ("R" records), so a search
 * killed while refining resumes to the same front.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

/* Each refine metric's index among the search's; at least one objective. */
static int map_metrics(hwnas_search *s, const char *kind)
{
    size_t m = hwnas_estimator_metric_count(s->refine_est), objectives = 0;
    s->refine_map = hwnas__malloc(s->ctx, (m + 1) * sizeof *s->refine_map);
    if (!s->refine_map)
        return HWNAS_ENOMEM;
    for (size_t j = 0; j < m; j++) {
        const char *name = hwnas_estimator_metric_name(s->refine_est, j);
        size_t k = 0;
        while (k < s->n_metrics && strcmp(s->metric_names[k], name) != 0)
            k++;
        if (k == s->n_metrics)
            return hwnas__error(HWNAS_EINVAL, "search: refine_estimator %s gives '%s', which no "
                                              "estimator of the search gives",
                                kind, name);
        s->refine_map[j] = k;
        for (size_t o = 0; o < s->n_obj; o++)
            objectives += s->obj[o].metric == k;
    }
    if (objectives == 0)
        return hwnas__error(HWNAS_EINVAL, "search: refine_estimator %s gives none of the "
                                          "objectives",
                            kind);
    return HWNAS_OK;
}

/* Create the refine estimator from "kind[:options]" and map its metrics
 * onto the search's; called at start, after the objectives are known. */
int hwnas__refine_setup(hwnas_search *s)
{
    if (hwnas__options_int(s->options, OPT_REFINE) == 0)
        return HWNAS_OK;
    const char *spec = hwnas__options_str(s->options, OPT_REFINE_ESTIMATOR);
    if (!*spec)
        return hwnas__error(HWNAS_EINVAL, "search: refine=%lld needs refine_estimator "
                                          "(kind:options, e.g. \"accuracy:epochs=4\")",
                            (long long)hwnas__options_int(s->options, OPT_REFINE));
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n == 0)
        return hwnas__error(HWNAS_EINVAL, "search: refine_estimator \"%s\": no kind before ':'",
                            spec);
    char *kind = hwnas__strndup(s->ctx, spec, n);
    if (!kind)
        return HWNAS_ENOMEM;
    int rc = hwnas_estimator_new(&s->refine_est, s->ctx, kind, colon ? colon + 1 : NULL);
    if (rc == HWNAS_OK)
        rc = map_metrics(s, kind);
    hwnas__free(s->ctx, kind);
    return rc;
}

void hwnas__refine_release(hwnas_search *s)
{
    hwnas_estimator_free(s->refine_est);
    hwnas__free(s->ctx, s->refine_map);
    for (size_t i = 0; i < s->n_refine_log; i++) {
        hwnas__free(s->ctx, s->refine_log[i].values);
        hwnas__free(s->ctx, s->refine_log[i].error);
    }
    hwnas__free(s->ctx, s->refine_log);
}

/* ---- selection and the stage itself ----------------------------------- */

/* The candidates to refine, best first: feasible and successful by the
 * proxy figures, one per phenotype, ordered by non-dominated rank (unless
 * refine_by=first), then the first objective, then evaluation order. */
static int select_candidates(const hwnas_search *s, size_t **out, size_t *n)
{
    size_t want = (size_t)hwnas__options_int(s->options, OPT_REFINE), all, front;
    int by_rank = hwnas__options_int(s->options, OPT_REFINE_BY) == 0;
    int rc = hwnas__search_order(s, s->n_rec, 1, by_rank, out, &all, &front);
    *n = all < want ? all : want;
    return rc;
}

/* Record x's figures on archive record r (the proxy ones are kept). */
static int apply(hwnas_search *s, hwnas__record *r, const hwnas__refined *x)
{
    size_t m = hwnas_estimator_metric_count(s->refine_est);
    r->refine_seconds = x->seconds;
    if (x->failed) {
        r->refined = -1;
        r->refine_error = hwnas__strdup(s->ctx, x->error && *x->error ? x->error
                                                                     : "unknown error");
        return r->refine_error ? HWNAS_OK : HWNAS_ENOMEM;
    }
    for (size_t o = 0; o < s->n_obj; o++)
        for (size_t j = 0; j < m; j++)
            if (s->refine_map[j] == s->obj[o].metric && !isfinite(x->values[j])) {
                r->refined = -1;
                r->refine_error = hwnas__not_finite(s->ctx, s->obj[o].name, x->values[j]);
                return r->refine_error ? HWNAS_OK : HWNAS_ENOMEM;
            }
    r->proxy = hwnas__malloc(s->ctx, (s->n_metrics + 1) * sizeof *r->proxy);
    if (!r->proxy)
        return HWNAS_ENOMEM;
    memcpy(r->proxy, r->metrics, s->n_metrics * sizeof *r->proxy);
    for (size_t j = 0; j < m; j++)
        r->metrics[s->refine_map[j]] = x->values[j];
    r->proxy_obj = r->obj;
    r->proxy_violation = r->violation;
    r->obj = NULL;
    r->refined = 1;
    s->n_refined++;
    return hwnas__search_score(s, r);
}

static const hwnas__refined *logged(const hwnas_search *s, uint64_t eval)
{
    for (size_t i = s->n_refine_log; i-- > 0;)
        if (s->refine_log[i].eval == eval)
            return &s->refine_log[i];
    return NULL;
}

typedef struct refine_job {
    hwnas_search *s;
    const size_t *todo;   /* archive indices */
    hwnas__refined *out;  /* one per todo */
} refine_job;

static int refine_task(size_t i, size_t worker, void *data)
{
    (void)worker;
    refine_job *job = data;
    hwnas_search *s = job->s;
    hwnas__record *r = &s->rec[job->todo[i]];
    hwnas__refined *x = &job->out[i];
    double t0 = hwnas__now_seconds();
    hwnas__candidate c; /* under co-design: its hardware and network key */
    int rc = hwnas__candidate_decode(s, r, 1, &c);
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_estimate_on(s->refine_est, c.net, c.accel, c.key, r->eval,
                                         x->values);
    hwnas_net_free(c.net);
    c.net = NULL;
    x->eval = r->eval;
    x->seconds = hwnas__now_seconds() - t0;
    if (rc != HWNAS_OK) {
        x->failed = 1;
        x->error = hwnas__strdup(s->ctx, hwnas_error_last()); /* the message is on this thread */
        if (!x->error) {
            hwnas__candidate_release(&c);
            return 1;
        }
    }
    hwnas__candidate_release(&c);
    return 0;
}

int hwnas__search_refine(hwnas_search *s, int compute)
{
    if (!s->refine_est)
        return HWNAS_OK;
    size_t *sel, n;
    int rc = select_candidates(s, &sel, &n);
    if (rc != HWNAS_OK)
        return rc;
    size_t m = hwnas_estimator_metric_count(s->refine_est), n_todo = 0;
    size_t *todo = hwnas__malloc(s->ctx, (n + 1) * sizeof *todo);
    hwnas__refined *out = hwnas__calloc(s->ctx, n + 1, sizeof *out);
    if (!todo || !out)
        rc = HWNAS_ENOMEM;
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        hwnas__record *r = &s->rec[sel[i]];
        if (r->refined)
            continue;
        const hwnas__refined *x = logged(s, r->eval);
        if (x)
            rc = apply(s, r, x);
        else if (compute)
            todo[n_todo++] = sel[i];
    }
    for (size_t i = 0; rc == HWNAS_OK && i < n_todo; i++) {
        out[i].values = hwnas__malloc(s->ctx, (m + 1) * sizeof *out[i].values);
        if (!out[i].values)
            rc = HWNAS_ENOMEM;
        for (size_t j = 0; rc == HWNAS_OK && j < m; j++)
            out[i].values[j] = NAN;
    }
    /* In waves of `threads`, as evaluations are; each result is journaled
     * as soon as its wave ends, so a kill loses at most one wave. */
    size_t wave = (size_t)hwnas__options_int(s->options, OPT_PARALLEL);
    if (wave == 0)
        wave = hwnas_context_threads(s->ctx);
    for (size_t first = 0; rc == HWNAS_OK && first < n_todo; first += wave) {
        size_t count = n_todo - first < wave ? n_todo - first : wave;
        refine_job job = {s, todo + first, out + first};
        hwnas_context_log(s->ctx, HWNAS_LOG_INFO, "refining candidates %zu-%zu of %zu",
                          first + 1, first + count, n_todo);
        rc = hwnas_parallel_for(s->ctx, count, refine_task, &job);
        if (rc == HWNAS_EUSER)
            rc = HWNAS_ENOMEM;
        for (size_t i = first; rc == HWNAS_OK && i < first + count; i++) {
            if (s->journal)
                rc = hwnas__journal_append_refined(s, &out[i]);
            if (rc == HWNAS_OK)
                rc = apply(s, &s->rec[todo[i]], &out[i]);
        }
        if (rc == HWNAS_OK && s->stop)
            rc = hwnas__error(HWNAS_EUSER, "search stopped while refining");
    }
    for (size_t i = 0; out && i < n_todo; i++) {
        hwnas__free(s->ctx, out[i].values);
        hwnas__free(s->ctx, out[i].error);
    }
    hwnas__free(s->ctx, out);
    hwnas__free(s->ctx, todo);
    hwnas__free(s->ctx, sel);
    return rc;
}
