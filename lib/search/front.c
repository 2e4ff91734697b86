/*
 * The Pareto front of the archive, the orders refinement chooses by, and
 * hypervolume. The ordering works on plain arrays of points so that the
 * report part computes the same figures from a results directory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hwnas/pareto.h"
#include "search_internal.h"

int hwnas__pareto_order(hwnas_context *ctx, const double *pts, const unsigned char *ok,
                        const uint64_t *hash, size_t n, size_t m, int by_rank, size_t **out,
                        size_t *count, size_t *front)
{
    *out = NULL;
    *count = *front = 0;
    size_t k = 0;
    size_t *idx = hwnas__malloc(ctx, (n + 1) * sizeof *idx);
    double *sel = hwnas__malloc(ctx, (n * m + 1) * sizeof *sel);
    uint32_t *rank = hwnas__calloc(ctx, n + 1, sizeof *rank);
    int rc = idx && sel && rank ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        if (!ok[i])
            continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++)
            dup = hash[idx[j]] == hash[i];
        if (dup)
            continue;
        idx[k] = i;
        memcpy(sel + k * m, pts + i * m, m * sizeof *sel);
        k++;
    }
    size_t fronts = 0;
    if (rc == HWNAS_OK && k && by_rank)
        rc = hwnas_pareto_rank(rank, &fronts, ctx, sel, k, m);
    /* Stable insertion sort by (rank, first objective). */
    for (size_t i = 1; rc == HWNAS_OK && i < k; i++) {
        size_t v = idx[i], j = i;
        uint32_t rv = rank[i];
        double ov = sel[i * m];
        for (; j > 0 && (rank[j - 1] > rv || (rank[j - 1] == rv && sel[(j - 1) * m] > ov)); j--) {
            idx[j] = idx[j - 1];
            rank[j] = rank[j - 1];
            sel[j * m] = sel[(j - 1) * m]; /* only the first objective is compared again */
        }
        idx[j] = v;
        rank[j] = rv;
        sel[j * m] = ov;
    }
    size_t f = 0;
    while (f < k && rank[f] == 0)
        f++;
    hwnas__free(ctx, sel);
    hwnas__free(ctx, rank);
    if (rc != HWNAS_OK) {
        hwnas__free(ctx, idx);
        return rc;
    }
    *out = idx;
    *count = k;
    *front = f;
    return HWNAS_OK;
}

int hwnas__pareto_front_hv(hwnas_context *ctx, const double *pts,
                           const unsigned char *ok, const uint64_t *hash, size_t n, size_t m,
                           const double *ref, double *out)
{
    size_t *idx, all, nf;
    int rc = hwnas__pareto_order(ctx, pts, ok, hash, n, m, 1, &idx, &all, &nf);
    if (rc != HWNAS_OK)
        return rc;
    double *front = hwnas__malloc(ctx, (nf * m + 1) * sizeof *front);
    if (!front) {
        hwnas__free(ctx, idx);
        return HWNAS_ENOMEM;
    }
    for (size_t i = 0; i < nf; i++)
        memcpy(front + i * m, pts + idx[i] * m, m * sizeof *front);
    rc = hwnas_pareto_hypervolume(out, ctx, front, nf, m, ref);
    hwnas__free(ctx, front);
    hwnas__free(ctx, idx);
    return rc;
}

/* A pruned candidate's figures are partial: never a front member. */
static int usable(const hwnas__record *r)
{
    return !r->failed && !r->pruned && r->obj && r->violation <= 0;
}

/* The objectives the strategy was told (before any refinement). */
static const double *told_obj(const hwnas__record *r)
{
    return r->proxy_obj ? r->proxy_obj : r->obj;
}

static int told_usable(const hwnas__record *r)
{
    return !r->failed && !r->pruned && told_obj(r) &&
           (r->proxy ? r->proxy_violation : r->violation) <= 0;
}

/* The first upto records as arrays: the strategy's view (told) or the
 * final one (the best figures known, among the refined candidates once
 * there are any: proxy and refined figures are not comparable). */
static int as_points(const hwnas_search *s, size_t upto, int told, double **pts,
                     unsigned char **ok, uint64_t **hash)
{
    size_t m = s->n_obj;
    *pts = hwnas__calloc(s->ctx, upto * m + 1, sizeof **pts);
    *ok = hwnas__calloc(s->ctx, upto + 1, sizeof **ok);
    *hash = hwnas__malloc(s->ctx, (upto + 1) * sizeof **hash);
    if (!*pts || !*ok || !*hash)
        return HWNAS_ENOMEM; /* the caller frees what was allocated */
    for (size_t i = 0; i < upto; i++) {
        const hwnas__record *r = &s->rec[i];
        (*hash)[i] = r->hash;
        (*ok)[i] = told ? told_usable(r) : usable(r) && !(s->n_refined && r->refined != 1);
        if ((*ok)[i])
            memcpy(*pts + i * m, told ? told_obj(r) : r->obj, m * sizeof **pts);
    }
    return HWNAS_OK;
}

/* Feasible candidates among the first `upto`, one per phenotype (the
 * first evaluated), ordered by non-dominated rank (when by_rank), then the
 * first objective, then evaluation order; *front counts those of rank 0. */
int hwnas__search_order(const hwnas_search *s, size_t upto, int told, int by_rank, size_t **out,
                        size_t *n, size_t *front)
{
    double *pts;
    unsigned char *ok;
    uint64_t *hash;
    *out = NULL;
    *n = *front = 0;
    int rc = as_points(s, upto, told, &pts, &ok, &hash);
    if (rc == HWNAS_OK)
        rc = hwnas__pareto_order(s->ctx, pts, ok, hash, upto, s->n_obj, by_rank, out, n, front);
    hwnas__free(s->ctx, pts);
    hwnas__free(s->ctx, ok);
    hwnas__free(s->ctx, hash);
    return rc;
}

/* Feasible non-dominated candidates, one per phenotype, sorted by the
 * first objective. */
int hwnas__search_front_all(const hwnas_search *s, size_t **out, size_t *n)
{
    size_t all;
    return hwnas__search_order(s, s->n_rec, 0, 1, out, &all, n);
}

size_t hwnas_search_front(const hwnas_search *s, size_t *indices, size_t cap)
{
    if (!s || (cap && !indices)) {
        hwnas__error(HWNAS_EINVAL, "hwnas_search_front: search and indices are required");
        return 0;
    }
    if (!s->started || s->n_obj == 0)
        return 0;
    size_t *idx, n;
    if (hwnas__search_front_all(s, &idx, &n) != HWNAS_OK)
        return 0;
    if (cap) /* indices may be NULL when cap is 0: the size alone */
        memcpy(indices, idx, (n < cap ? n : cap) * sizeof *idx);
    hwnas__free(s->ctx, idx);
    return n;
}

int hwnas__pareto_reference(const double *pts, const unsigned char *ok, size_t n, size_t m,
                            double *ref)
{
    int any = 0;
    for (size_t k = 0; k < m; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++)
            if (ok[i]) {
                lo = fmin(lo, pts[i * m + k]);
                hi = fmax(hi, pts[i * m + k]);
                any = 1;
            }
        ref[k] = hi + (hi > lo ? 0.1 * (hi - lo) : 1.0);
    }
    return any;
}

/* The reference point, minimised: the option, or the default of
 * hwnas__pareto_reference over the figures the strategy was told. */
int hwnas__search_reference(const hwnas_search *s, double *ref)
{
    const char *text = hwnas__options_str(s->options, OPT_HV_REFERENCE);
    if (*text) {
        const char *p = text;
        for (size_t k = 0; k < s->n_obj; k++) {
            char *end;
            double v = strtod(p, &end);
            if (end == p || !isfinite(v))
                return hwnas__error(HWNAS_EINVAL, "search: hv_reference \"%s\" needs %zu "
                                                  "numbers",
                                    text, s->n_obj);
            ref[k] = s->obj[k].sign * v;
            p = *end == ',' ? end + 1 : end;
        }
        return HWNAS_OK;
    }
    double *pts;
    unsigned char *ok;
    uint64_t *hash;
    int rc = as_points(s, s->n_rec, 1, &pts, &ok, &hash);
    if (rc == HWNAS_OK && !hwnas__pareto_reference(pts, ok, s->n_rec, s->n_obj, ref))
        rc = hwnas__error(HWNAS_ESTATE, "search: no feasible candidate yet");
    hwnas__free(s->ctx, pts);
    hwnas__free(s->ctx, ok);
    hwnas__free(s->ctx, hash);
    return rc;
}

/* Hypervolume of the first upto candidates by the figures the strategy
 * was told. */
int hwnas__search_hv(const hwnas_search *s, size_t upto, const double *ref, double *out)
{
    double *pts;
    unsigned char *ok;
    uint64_t *hash;
    int rc = as_points(s, upto, 1, &pts, &ok, &hash);
    if (rc == HWNAS_OK)
        rc = hwnas__pareto_front_hv(s->ctx, pts, ok, hash, upto, s->n_obj, ref, out);
    hwnas__free(s->ctx, pts);
    hwnas__free(s->ctx, ok);
    hwnas__free(s->ctx, hash);
    return rc;
}

int hwnas_search_hypervolume(const hwnas_search *s, double *out)
{
    if (!s || !out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_hypervolume: search and out are "
                                          "required");
    if (!s->started || s->n_obj == 0)
        return hwnas__error(HWNAS_ESTATE, "search: not started");
    double *ref = hwnas__malloc(s->ctx, s->n_obj * sizeof *ref);
    if (!ref)
        return HWNAS_ENOMEM;
    int rc = hwnas__search_reference(s, ref);
    if (rc == HWNAS_OK)
        rc = hwnas__search_hv(s, s->n_rec, ref, out);
    hwnas__free(s->ctx, ref);
    return rc;
}
