/* Pareto toolkit: non-dominated sorting, plain and constrained.
 *
 * Every path starts the same way: sort the points lexicographically and
 * merge exact duplicates. In that order a point can only be dominated by
 * points before it, and front membership is monotone: if front k dominates
 * p, so does every front before k. So each distinct point goes, by binary
 * search over the fronts built so far, into the first front that does not
 * dominate it (Jensen 2003; Zhang et al.'s ENS-BS 2015). What differs with m
 * is how "front k dominates p" is answered. */
#include <math.h>
#include <string.h>

#include "pareto_internal.h"

/* m = 1: fronts are the distinct values. */
static size_t rank_1d(uint32_t *rank, const uint32_t *u, size_t d)
{
    for (size_t k = 0; k < d; k++)
        rank[u[k]] = (uint32_t)k;
    return d;
}

/* m = 2: front k dominates p iff the second objective of the front's last
 * point is <= p's (points distinct and in lexicographic order); those last
 * values increase strictly with k. */
static size_t rank_2d(uint32_t *rank, const double *pts, const uint32_t *u, size_t d,
                      double *last)
{
    size_t fronts = 0;
    for (size_t k = 0; k < d; k++) {
        double y = pts[(size_t)u[k] * 2 + 1];
        size_t lo = 0, hi = fronts;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (last[mid] <= y)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == fronts)
            fronts++;
        last[lo] = y;
        rank[u[k]] = (uint32_t)lo;
    }
    return fronts;
}

/* m = 3: an earlier, distinct point q dominates p iff (q1, q2) weakly
 * dominates (p1, p2) in objectives 1 and 2, so each front keeps the minimal
 * elements of that projection as a staircase. */
static size_t rank_3d(uint32_t *rank, const double *pts, const uint32_t *u, size_t d,
                      hwnas__stair_node *pool, uint32_t *roots)
{
    size_t fronts = 0;
    for (size_t k = 0; k < d; k++) {
        const double *p = pts + (size_t)u[k] * 3;
        size_t lo = 0, hi = fronts;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (hwnas__stair_covers(pool, roots[mid], p[1], p[2]))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == fronts)
            roots[fronts++] = 0;
        uint32_t node = (uint32_t)k + 1;
        hwnas__stair_init(pool, node, p[1], p[2]);
        hwnas__stair_insert(pool, &roots[lo], node);
        rank[u[k]] = (uint32_t)lo;
    }
    return fronts;
}

/* Any m: scan the front's members. Members are chained newest first, as
 * recent points lie closest to p in the order and dominate it most often. */
static int front_dominates(const double *pts, size_t m, const uint32_t *head,
                           const uint32_t *next, size_t f, const double *p)
{
    for (uint32_t q = head[f]; q != UINT32_MAX; q = next[q]) {
        const double *a = pts + (size_t)q * m;
        size_t j = 0;
        while (j < m && a[j] <= p[j])
            j++;
        if (j == m)
            return 1;
    }
    return 0;
}

static size_t rank_general(uint32_t *rank, const double *pts, size_t m,
                           const uint32_t *u, size_t d, uint32_t *head, uint32_t *next)
{
    size_t fronts = 0;
    for (size_t k = 0; k < d; k++) {
        uint32_t i = u[k];
        const double *p = pts + (size_t)i * m;
        size_t lo = 0, hi = fronts;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (front_dominates(pts, m, head, next, mid, p))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == fronts)
            head[fronts++] = UINT32_MAX;
        next[i] = head[lo];
        head[lo] = i;
        rank[i] = (uint32_t)lo;
    }
    return fronts;
}

int hwnas__pareto_rank_algo(uint32_t *out_rank, size_t *out_fronts,
                            hwnas_context *ctx, const double *points, size_t n,
                            size_t m, int algo)
{
    if (out_fronts)
        *out_fronts = 0;
    if (n == 0)
        return HWNAS_OK;
    uint32_t *idx = hwnas__malloc(ctx, 2 * n * sizeof *idx);
    if (!idx)
        return HWNAS_ENOMEM;
    uint32_t *u = idx + n; /* scratch for the sort, then the distinct points */
    hwnas__pareto_lex lx = {points, m};
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    hwnas__pareto_sort_idx(idx, u, n, hwnas__pareto_cmp_lex, &lx);
    size_t d = 0;
    for (size_t k = 0; k < n; k++)
        if (k == 0 || hwnas__pareto_cmp_lex(idx[k - 1], idx[k], &lx) != 0)
            u[d++] = idx[k];

    int rc = HWNAS_OK;
    size_t fronts = 0;
    if (algo == HWNAS__PARETO_RANK_AUTO && m == 1) {
        fronts = rank_1d(out_rank, u, d);
    } else if (algo == HWNAS__PARETO_RANK_AUTO && m == 2) {
        double *last = hwnas__malloc(ctx, d * sizeof *last);
        if (last)
            fronts = rank_2d(out_rank, points, u, d, last);
        else
            rc = HWNAS_ENOMEM;
        hwnas__free(ctx, last);
    } else if (algo == HWNAS__PARETO_RANK_AUTO && m == 3) {
        hwnas__stair_node *pool = hwnas__malloc(ctx, (d + 1) * sizeof *pool);
        uint32_t *roots = hwnas__malloc(ctx, d * sizeof *roots);
        if (pool && roots)
            fronts = rank_3d(out_rank, points, u, d, pool, roots);
        else
            rc = HWNAS_ENOMEM;
        hwnas__free(ctx, pool);
        hwnas__free(ctx, roots);
    } else {
        uint32_t *head = hwnas__malloc(ctx, (d + n) * sizeof *head);
        if (head)
            fronts = rank_general(out_rank, points, m, u, d, head, head + d);
        else
            rc = HWNAS_ENOMEM;
        hwnas__free(ctx, head);
    }
    if (rc == HWNAS_OK) {
        /* Duplicates follow the first of their group in the sorted order. */
        for (size_t k = 1; k < n; k++)
            if (hwnas__pareto_cmp_lex(idx[k - 1], idx[k], &lx) == 0)
                out_rank[idx[k]] = out_rank[idx[k - 1]];
        if (out_fronts)
            *out_fronts = fronts;
    }
    hwnas__free(ctx, idx);
    return rc;
}

static int check_rank_args(const char *fn, uint32_t *out_rank, hwnas_context *ctx,
                           const double *points, size_t n, size_t m)
{
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "%s: ctx is NULL", fn);
    if (m == 0)
        return hwnas__error(HWNAS_EINVAL, "%s: m (objectives) is 0; need at least 1", fn);
    if (n > 0 && (!points || !out_rank))
        return hwnas__error(HWNAS_EINVAL, "%s: %s is NULL with n = %zu", fn,
                            points ? "out_rank" : "points", n);
    if (n >= UINT32_MAX || m > SIZE_MAX / 16 / (n ? n : 1))
        return hwnas__error(HWNAS_EINVAL, "%s: too many points (n = %zu, m = %zu)", fn, n, m);
    return hwnas__pareto_check_values(fn, "points", points, n, m, 0);
}

int hwnas_pareto_rank(uint32_t *out_rank, size_t *out_fronts,
                                hwnas_context *ctx, const double *points, size_t n,
                                size_t m)
{
    if (out_fronts)
        *out_fronts = 0;
    int rc = check_rank_args("hwnas_pareto_rank", out_rank, ctx, points, n, m);
    if (rc != HWNAS_OK)
        return rc;
    return hwnas__pareto_rank_algo(out_rank, out_fronts, ctx, points, n, m,
                                   HWNAS__PARETO_RANK_AUTO);
}

static int cmp_violation(uint32_t a, uint32_t b, const void *data)
{
    const double *v = data;
    return (v[a] > v[b]) - (v[a] < v[b]);
}

int hwnas_pareto_rank_constrained(uint32_t *out_rank, size_t *out_fronts,
                                            hwnas_context *ctx, const double *points,
                                            const double *violation, size_t n, size_t m)
{
    static const char fn[] = "hwnas_pareto_rank_constrained";
    if (out_fronts)
        *out_fronts = 0;
    int rc = check_rank_args(fn, out_rank, ctx, points, n, m);
    if (rc != HWNAS_OK)
        return rc;
    if (!violation)
        return hwnas__pareto_rank_algo(out_rank, out_fronts, ctx, points, n, m,
                                       HWNAS__PARETO_RANK_AUTO);
    rc = hwnas__pareto_check_values(fn, "violation", violation, n, 1, 0);
    if (rc != HWNAS_OK)
        return rc;

    size_t nf = 0;
    for (size_t i = 0; i < n; i++)
        nf += !(violation[i] > 0);
    /* feasible: their indices, their points packed, their ranks;
     * infeasible: their indices sorted by violation. */
    uint32_t *idx = hwnas__malloc(ctx, 3 * n * sizeof *idx);
    double *packed = hwnas__malloc(ctx, (nf ? nf : 1) * m * sizeof *packed);
    if (!idx || !packed) {
        hwnas__free(ctx, idx);
        hwnas__free(ctx, packed);
        return HWNAS_ENOMEM;
    }
    uint32_t *feas_rank = idx + n, *tmp = idx + 2 * n;
    size_t a = 0, b = nf;
    for (size_t i = 0; i < n; i++) {
        if (violation[i] > 0) {
            idx[b++] = (uint32_t)i;
        } else {
            memcpy(packed + a * m, points + i * m, m * sizeof *packed);
            idx[a++] = (uint32_t)i;
        }
    }
    size_t fronts = 0;
    rc = hwnas__pareto_rank_algo(feas_rank, &fronts, ctx, packed, nf, m,
                                 HWNAS__PARETO_RANK_AUTO);
    if (rc == HWNAS_OK) {
        for (size_t k = 0; k < nf; k++)
            out_rank[idx[k]] = feas_rank[k];
        hwnas__pareto_sort_idx(idx + nf, tmp, n - nf, cmp_violation, violation);
        for (size_t k = nf; k < n; k++) {
            if (k == nf || violation[idx[k]] != violation[idx[k - 1]])
                fronts++;
            out_rank[idx[k]] = (uint32_t)(fronts - 1);
        }
        if (out_fronts)
            *out_fronts = fronts;
    }
    hwnas__free(ctx, idx);
    hwnas__free(ctx, packed);
    return rc;
}

int hwnas_pareto_dominance(const double *a, const double *b, size_t m)
{
    int a_better = 0, b_better = 0;
    for (size_t j = 0; j < m; j++) {
        if (a[j] < b[j])
            a_better = 1;
        else if (b[j] < a[j])
            b_better = 1;
        else if (a[j] != b[j])
            return 0; /* NaN */
    }
    if (a_better && !b_better)
        return 1;
    if (b_better && !a_better)
        return -1;
    return 0;
}
