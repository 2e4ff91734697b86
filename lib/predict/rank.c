/* Rank correlations: Kendall's tau-b and Spearman's rho, for judging a
 * predictor by the order it puts candidates in (what a search uses). */
#include <math.h>

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

/* The mid-rank of v[i] among v[0..n): 1 + the values below it + half the
 * others equal to it. O(n) per value and no memory, like tau's O(n^2):
 * these judge predictors on thousands of points, not millions. */
static double midrank(const double *v, size_t n, size_t i)
{
    double below = 0, equal = 0;
    for (size_t j = 0; j < n; j++) {
        below += v[j] < v[i];
        equal += v[j] == v[i];
    }
    return 1 + below + 0.5 * (equal - 1);
}

int hwnas_rank_spearman(const double *a, const double *b, size_t n, double *out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_rank_spearman: out is NULL");
    *out = 0;
    int rc = check("hwnas_rank_spearman", a, b, n);
    if (rc != HWNAS_OK)
        return rc;
    double m = 0.5 * (double)(n + 1), sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double ra = midrank(a, n, i) - m, rb = midrank(b, n, i) - m;
        sab += ra * rb;
        saa += ra * ra;
        sbb += rb * rb;
    }
    *out = saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
    return HWNAS_OK;
}
