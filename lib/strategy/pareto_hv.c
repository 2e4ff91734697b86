/* Pareto toolkit: exact hypervolume.
 *
 * m = 2: sort by the first objective and sweep.
 * m = 3: Beume et al.'s sweep along the third objective, keeping the 2-D
 *        staircase of the points seen so far in a treap and its area
 *        updated as points come in. O(n log n).
 * m >= 4: WFG-style slicing. With the points ordered by their last
 *        objective z, point i owns the slab [z_i, ref) over the part of
 *        its (m-1)-D box that no earlier point covers, so
 *          HV_m = sum_i (ref_m - z_i) * (box_i - HV_{m-1}(limit set_i)),
 *        where limit set_i holds max(p_j, p_i) for j < i, reduced to its
 *        non-dominated points. The recursion stops at the 3-D sweep. */
#include <math.h>
#include <string.h>

#include "pareto_internal.h"

/* Scratch shared by every level; only one 2-D/3-D sweep runs at a time. */
typedef struct hv_work {
    size_t n;                  /* points after filtering, >= every set size */
    const double *ref;         /* the reference point, m values */
    uint32_t *idx, *tmp;       /* sort scratch, n each */
    hwnas__stair_node *pool;   /* n + 1 treap nodes */
    double **in;               /* in[d]: the set given to level d, n x d */
    double **sorted;           /* sorted[d]: that set ordered by objective d-1 */
    uint32_t **order;          /* order[d]: n indices for level d's sort */
} hv_work;

typedef struct col_key {
    const double *pts; /* row-major */
    size_t stride;     /* values per point */
    size_t col;        /* the objective compared */
} col_key;

static int cmp_col(uint32_t a, uint32_t b, const void *data)
{
    const col_key *k = data;
    double x = k->pts[(size_t)a * k->stride + k->col];
    double y = k->pts[(size_t)b * k->stride + k->col];
    return (x > y) - (x < y);
}

/* Points are strictly inside the reference box. */
static double hv2(hv_work *w, const double *pts, size_t n)
{
    col_key key = {pts, 2, 0};
    for (size_t i = 0; i < n; i++)
        w->idx[i] = (uint32_t)i;
    hwnas__pareto_sort_idx(w->idx, w->tmp, n, cmp_col, &key);
    double rx = w->ref[0], floor_y = w->ref[1], area = 0;
    for (size_t k = 0; k < n; k++) {
        const double *p = pts + (size_t)w->idx[k] * 2;
        if (p[1] < floor_y) {
            area += (rx - p[0]) * (floor_y - p[1]);
            floor_y = p[1];
        }
    }
    return area;
}

static void inorder(const hwnas__stair_node *pool, uint32_t t, double y, double *x0,
                    double *h, double *added)
{
    while (t) {
        inorder(pool, pool[t].left, y, x0, h, added);
        *added += (pool[t].a - *x0) * (*h - y);
        *x0 = pool[t].a;
        *h = pool[t].b;
        t = pool[t].right;
    }
}

/* Add (x, y) to the staircase *root; return the area it adds to the union
 * of boxes [(a, b), (rx, ry)]. */
static double stair_add(hwnas__stair_node *pool, uint32_t *root, uint32_t node, double rx,
                        double ry)
{
    double x = pool[node].a, y = pool[node].b;
    if (hwnas__stair_covers(pool, *root, x, y))
        return 0;
    uint32_t l, r, gone;
    hwnas__stair_split_a(pool, *root, x, &l, &r);
    hwnas__stair_split_b(pool, r, y, &gone, &r);
    /* Over [x, next) the covered region so far reaches down to h: the
     * left neighbour's height, then that of each point now dominated. */
    uint32_t left = hwnas__stair_max(pool, l), right = hwnas__stair_min(pool, r);
    double x0 = x, h = left ? pool[left].b : ry, added = 0;
    inorder(pool, gone, y, &x0, &h, &added);
    added += ((right ? pool[right].a : rx) - x0) * (h - y);
    *root = hwnas__stair_merge(pool, hwnas__stair_merge(pool, l, node), r);
    return added;
}

static double hv3(hv_work *w, const double *pts, size_t n)
{
    col_key key = {pts, 3, 2};
    for (size_t i = 0; i < n; i++)
        w->idx[i] = (uint32_t)i;
    hwnas__pareto_sort_idx(w->idx, w->tmp, n, cmp_col, &key);
    const double *ref = w->ref;
    uint32_t root = 0;
    double area = 0, vol = 0, z = 0;
    for (size_t k = 0; k < n; k++) {
        const double *p = pts + (size_t)w->idx[k] * 3;
        if (k > 0)
            vol += area * (p[2] - z);
        z = p[2];
        hwnas__stair_init(w->pool, (uint32_t)k + 1, p[0], p[1]);
        area += stair_add(w->pool, &root, (uint32_t)k + 1, ref[0], ref[1]);
    }
    return n ? vol + area * (ref[2] - z) : 0;
}

static int weakly_dominates(const double *a, const double *b, size_t d)
{
    for (size_t j = 0; j < d; j++)
        if (a[j] > b[j])
            return 0;
    return 1;
}

/* HV of the n points of w->in[d] (d >= 2). */
static double hv_level(hv_work *w, size_t n, size_t d)
{
    if (n == 0)
        return 0;
    if (d == 2)
        return hv2(w, w->in[2], n);
    if (d == 3)
        return hv3(w, w->in[3], n);
    const double *in = w->in[d], *ref = w->ref;
    double *s = w->sorted[d], *lim = w->in[d - 1];
    uint32_t *ord = w->order[d];
    col_key key = {in, d, d - 1};
    for (size_t i = 0; i < n; i++)
        ord[i] = (uint32_t)i;
    hwnas__pareto_sort_idx(ord, w->tmp, n, cmp_col, &key);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * d, in + (size_t)ord[i] * d, d * sizeof *s);

    double vol = 0;
    for (size_t i = 0; i < n; i++) {
        const double *p = s + i * d;
        size_t nl = 0;
        int covered = 0;
        for (size_t j = 0; j < i && !covered; j++) {
            double *qq = lim + nl * (d - 1); /* the candidate, in the free slot */
            for (size_t c = 0; c < d - 1; c++)
                qq[c] = fmax(s[j * d + c], p[c]);
            if (weakly_dominates(qq, p, d - 1)) {
                covered = 1; /* an earlier point covers p's whole box */
                break;
            }
            size_t keep = 0, dominated = 0;
            for (size_t t = 0; t < nl; t++) {
                const double *o = lim + t * (d - 1);
                if (weakly_dominates(o, qq, d - 1)) {
                    dominated = 1;
                    break;
                }
            }
            if (dominated)
                continue;
            for (size_t t = 0; t < nl; t++) {
                const double *o = lim + t * (d - 1);
                if (!weakly_dominates(qq, o, d - 1)) {
                    if (keep != t)
                        memmove(lim + keep * (d - 1), o, (d - 1) * sizeof *lim);
                    keep++;
                }
            }
            memmove(lim + keep * (d - 1), qq, (d - 1) * sizeof *lim);
            nl = keep + 1;
        }
        if (covered)
            continue;
        double box = 1;
        for (size_t c = 0; c < d - 1; c++)
            box *= ref[c] - p[c];
        vol += (ref[d - 1] - p[d - 1]) * (box - hv_level(w, nl, d - 1));
    }
    return vol;
}

int hwnas_pareto_hypervolume(double *out, hwnas_context *ctx, const double *points,
                             size_t n, size_t m, const double *ref)
{
    static const char fn[] = "hwnas_pareto_hypervolume";
    if (!out || !ctx || !ref || (n > 0 && !points))
        return hwnas__error(HWNAS_EINVAL, "%s: %s is NULL", fn,
                            !out ? "out" : !ctx ? "ctx" : !ref ? "ref" : "points");
    *out = 0;
    if (m == 0)
        return hwnas__error(HWNAS_EINVAL, "%s: m (objectives) is 0; need at least 1", fn);
    if (n >= UINT32_MAX || m > 4096 || (n && m > SIZE_MAX / 16 / m / n))
        return hwnas__error(HWNAS_EINVAL, "%s: too many points or objectives (n = %zu, m = %zu)",
                            fn, n, m);
    int rc = hwnas__pareto_check_values(fn, "ref", ref, 1, m, 1);
    if (rc == HWNAS_OK)
        rc = hwnas__pareto_check_values(fn, "points", points, n, m, 1);
    if (rc != HWNAS_OK)
        return rc;

    /* Keep the points strictly inside the reference box. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && points[i * m + j] < ref[j])
            j++;
        k += j == m;
    }
    if (k == 0)
        return HWNAS_OK;
    if (m == 1) {
        double best = ref[0];
        for (size_t i = 0; i < n; i++)
            best = fmin(best, points[i]);
        *out = ref[0] - best;
        return HWNAS_OK;
    }

    hv_work w = {0};
    w.n = k;
    w.ref = ref;
    size_t levels = m + 1;
    size_t doubles = 0;
    for (size_t d = 2; d <= m; d++)
        doubles += (d > 3 ? 2 : 1) * k * d; /* in[d], and sorted[d] above 3-D */
    w.idx = hwnas__malloc(ctx, 2 * k * sizeof *w.idx);
    w.pool = hwnas__malloc(ctx, (k + 1) * sizeof *w.pool);
    w.in = hwnas__calloc(ctx, 2 * levels, sizeof *w.in);
    w.order = hwnas__calloc(ctx, levels, sizeof *w.order);
    double *store = hwnas__malloc(ctx, doubles * sizeof *store);
    uint32_t *ord_store = m > 3 ? hwnas__malloc(ctx, (m - 3) * k * sizeof *ord_store) : NULL;
    if (!w.idx || !w.pool || !w.in || !w.order || !store || (m > 3 && !ord_store)) {
        rc = HWNAS_ENOMEM;
        goto done;
    }
    w.tmp = w.idx + k;
    w.sorted = w.in + levels;
    double *at = store;
    for (size_t d = 2; d <= m; d++) {
        w.in[d] = at;
        at += k * d;
        if (d > 3) {
            w.sorted[d] = at;
            at += k * d;
            w.order[d] = ord_store + (d - 4) * k;
        }
    }
    k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && points[i * m + j] < ref[j])
            j++;
        if (j == m)
            memcpy(w.in[m] + (k++) * m, points + i * m, m * sizeof *store);
    }
    *out = hv_level(&w, k, m);
done:
    hwnas__free(ctx, w.idx);
    hwnas__free(ctx, w.pool);
    hwnas__free(ctx, w.in);
    hwnas__free(ctx, w.order);
    hwnas__free(ctx, store);
    hwnas__free(ctx, ord_store);
    return rc;
}
