/* Pareto toolkit: crowding distance (Deb et al., 2002). */
#include <math.h>
#include <string.h>

#include "pareto_internal.h"

typedef struct crowd_key {
    const double *pts; /* row-major, stride m */
    size_t m;
    size_t col;            /* objective compared */
    const uint32_t *rank;  /* front labels, or NULL */
} crowd_key;

static int cmp_rank(uint32_t a, uint32_t b, const void *data)
{
    const crowd_key *k = data;
    return (k->rank[a] > k->rank[b]) - (k->rank[a] < k->rank[b]);
}

static int cmp_obj(uint32_t a, uint32_t b, const void *data)
{
    const crowd_key *k = data;
    double x = k->pts[(size_t)a * k->m + k->col], y = k->pts[(size_t)b * k->m + k->col];
    return (x > y) - (x < y);
}

/* Distances of the front f[0..len) (indices in increasing order). */
static void crowd_front(double *dist, crowd_key *key, const uint32_t *f, size_t len,
                        uint32_t *sorted, uint32_t *tmp)
{
    const double *pts = key->pts;
    size_t m = key->m;
    for (size_t j = 0; j < m; j++) {
        memcpy(sorted, f, len * sizeof *sorted);
        key->col = j;
        hwnas__pareto_sort_idx(sorted, tmp, len, cmp_obj, key); /* ties by index */
        dist[sorted[0]] = INFINITY;
        dist[sorted[len - 1]] = INFINITY;
        double range = pts[(size_t)sorted[len - 1] * m + j] - pts[(size_t)sorted[0] * m + j];
        if (!(range > 0) || !isfinite(range))
            continue;
        for (size_t k = 1; k + 1 < len; k++)
            dist[sorted[k]] += (pts[(size_t)sorted[k + 1] * m + j] -
                                pts[(size_t)sorted[k - 1] * m + j]) / range;
    }
}

int hwnas_pareto_crowding(double *out_distance, hwnas_context *ctx, const double *points,
                          size_t n, size_t m, const uint32_t *rank)
{
    static const char fn[] = "hwnas_pareto_crowding";
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "%s: ctx is NULL", fn);
    if (m == 0)
        return hwnas__error(HWNAS_EINVAL, "%s: m (objectives) is 0; need at least 1", fn);
    if (n > 0 && (!points || !out_distance))
        return hwnas__error(HWNAS_EINVAL, "%s: %s is NULL with n = %zu", fn,
                            points ? "out_distance" : "points", n);
    if (n >= UINT32_MAX || m > SIZE_MAX / 16 / (n ? n : 1))
        return hwnas__error(HWNAS_EINVAL, "%s: too many points (n = %zu, m = %zu)", fn, n, m);
    int rc = hwnas__pareto_check_values(fn, "points", points, n, m, 0);
    if (rc != HWNAS_OK || n == 0)
        return rc;

    uint32_t *idx = hwnas__malloc(ctx, 3 * n * sizeof *idx);
    if (!idx)
        return HWNAS_ENOMEM;
    uint32_t *sorted = idx + n, *tmp = idx + 2 * n;
    crowd_key key = {points, m, 0, rank};
    for (size_t i = 0; i < n; i++) {
        idx[i] = (uint32_t)i;
        out_distance[i] = 0;
    }
    if (rank)
        hwnas__pareto_sort_idx(idx, tmp, n, cmp_rank, &key); /* fronts, by index inside */
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && (!rank || rank[idx[e]] == rank[idx[s]]))
            e++;
        crowd_front(out_distance, &key, idx + s, e - s, sorted, tmp);
        s = e;
    }
    hwnas__free(ctx, idx);
    return HWNAS_OK;
}
