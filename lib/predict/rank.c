/* Rank correlations: Kendall's tau-b and Spearman's rho, for judging a
 * predictor by the order it puts candidates in (what a search uses). */
#include <math.h>
#include <stdlib.h>

#include "predict_internal.h"

static int check(const char *fn, const double *a, const double *b, size_t n)
{
    if (!a || !b)
        return hwnas__error(HWNAS_EINVAL, "%s: a and b are required", fn);
    if (n < 2)
        return hwnas__error(HWNAS_EINVAL, "%s: %zu values (it needs at least 2)", fn, n);
    for (size_t i = 0; i < n; i++)
        if (isnan(a[i]) || isnan(b[i]))
            return hwnas__error(HWNAS_EINVAL, "%s: value %zu of %s is NaN", fn, i,
                                isnan(a[i]) ? "a" : "b");
    return HWNAS_OK;
}

int hwnas_rank_kendall(const double *a, const double *b, size_t n, double *out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_rank_kendall: out is NULL");
    *out = 0;
    int rc = check("hwnas_rank_kendall", a, b, n);
    if (rc != HWNAS_OK)
        return rc;
    /* O(n^2): exact and plain; the sizes judged here are thousands. */
    double conc = 0, tie_a = 0, tie_b = 0, pairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double da = a[i] - a[j], db = b[i] - b[j];
            pairs += 1;
            if (da == 0 && db == 0) {
                tie_a += 1;
                tie_b += 1;
            } else if (da == 0) {
                tie_a += 1;
            } else if (db == 0) {
                tie_b += 1;
            } else {
                conc += (da > 0) == (db > 0) ? 1 : -1;
            }
        }
    double den = sqrt((pairs - tie_a) * (pairs - tie_b));
    *out = den > 0 ? conc / den : 0;
    return HWNAS_OK;
}

typedef struct keyed {
    double v;
    size_t i;
} keyed;

static int by_value(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* Mid-ranks of v[n] into r[n] (ties share the mean of their positions). */
static int midranks(const double *v, size_t n, double *r)
{
    keyed *k = malloc(n * sizeof *k);
    if (!k)
        return hwnas__enomem();
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){v[i], i};
    qsort(k, n, sizeof *k, by_value);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && k[j + 1].v == k[i].v)
            j++;
        for (size_t t = i; t <= j; t++)
            r[k[t].i] = 0.5 * (double)(i + j) + 1;
        i = j + 1;
    }
    free(k);
    return HWNAS_OK;
}

int hwnas_rank_spearman(const double *a, const double *b, size_t n, double *out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_rank_spearman: out is NULL");
    *out = 0;
    int rc = check("hwnas_rank_spearman", a, b, n);
    if (rc != HWNAS_OK)
        return rc;
    /* No context here: plain malloc for the scratch ranks. */
    double *ra = malloc(2 * n * sizeof *ra);
    if (!ra)
        return hwnas__enomem();
    double *rb = ra + n;
    rc = midranks(a, n, ra);
    if (rc == HWNAS_OK)
        rc = midranks(b, n, rb);
    if (rc == HWNAS_OK) {
        double m = 0.5 * (double)(n + 1), sab = 0, saa = 0, sbb = 0;
        for (size_t i = 0; i < n; i++) {
            sab += (ra[i] - m) * (rb[i] - m);
            saa += (ra[i] - m) * (ra[i] - m);
            sbb += (rb[i] - m) * (rb[i] - m);
        }
        *out = saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
    }
    free(ra);
    return rc;
}
