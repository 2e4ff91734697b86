/* Pareto toolkit: the index sort and argument checks its files share. */
#include <math.h>
#include <string.h>

#include "pareto_internal.h"

/* Runs this short are sorted by insertion: cheaper than merging. */
#define INSERTION_RUN 16

static void insertion_sort(uint32_t *idx, size_t n, hwnas__pareto_cmp cmp,
                           const void *data)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = idx[i];
        size_t j = i;
        while (j > 0 && cmp(idx[j - 1], v, data) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

/* Bottom-up: sorted runs of INSERTION_RUN, then passes that merge pairs of
 * runs back and forth between idx and tmp. Stable: on ties the left run's
 * element goes first. */
void hwnas__pareto_sort_idx(uint32_t *idx, uint32_t *tmp, size_t n,
                            hwnas__pareto_cmp cmp, const void *data)
{
    for (size_t s = 0; s < n; s += INSERTION_RUN)
        insertion_sort(idx + s, n - s < INSERTION_RUN ? n - s : INSERTION_RUN, cmp, data);
    uint32_t *src = idx, *dst = tmp;
    for (size_t w = INSERTION_RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n;
            size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            if (mid < hi && cmp(src[mid - 1], src[mid], data) <= 0) {
                memcpy(dst + lo, src + lo, (hi - lo) * sizeof *src); /* already in order */
                continue;
            }
            while (i < mid && j < hi)
                dst[k++] = cmp(src[j], src[i], data) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx)
        memcpy(idx, src, n * sizeof *idx);
}

int hwnas__pareto_cmp_lex(uint32_t a, uint32_t b, const void *data)
{
    const hwnas__pareto_lex *lx = data;
    const double *pa = lx->points + (size_t)a * lx->m;
    const double *pb = lx->points + (size_t)b * lx->m;
    for (size_t j = 0; j < lx->m; j++) {
        if (pa[j] < pb[j])
            return -1;
        if (pa[j] > pb[j])
            return 1;
    }
    return 0;
}

int hwnas__pareto_check_values(const char *fn, const char *what, const double *v,
                               size_t n, size_t m, int finite)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m; j++) {
            double x = v[i * m + j];
            if (isnan(x) || (finite && !isfinite(x)))
                return hwnas__error(HWNAS_EINVAL, "%s: %s[%zu][%zu] is %s%s", fn, what, i, j,
                                    isnan(x) ? "NaN" : "infinite",
                                    finite ? " (values must be finite)" : "");
        }
    return HWNAS_OK;
}
