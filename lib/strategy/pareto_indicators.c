/* Pareto toolkit: IGD, IGD+ and the additive epsilon indicator. Each is a
 * min over the approximation inside a mean or max over the reference
 * front, by brute force: O(n n_ref m), no allocation. */
#include <math.h>

#include "pareto_internal.h"

enum { IND_IGD, IND_IGD_PLUS, IND_EPS };

static const char *const ind_names[] = {"hwnas_pareto_igd", "hwnas_pareto_igd_plus",
                                        "hwnas_pareto_epsilon_additive"};

/* What point a costs reference point r under indicator kind. */
static double ind_term(int kind, const double *a, const double *r, size_t m)
{
    double s = kind == IND_EPS ? -INFINITY : 0;
    for (size_t j = 0; j < m; j++) {
        double d = a[j] - r[j];
        if (kind == IND_EPS)
            s = fmax(s, d);
        else if (kind == IND_IGD || d > 0)
            s += d * d;
    }
    return kind == IND_EPS ? s : sqrt(s);
}

static int indicator(int kind, double *out, hwnas_context *ctx, const double *points,
                     size_t n, const double *reference, size_t n_ref, size_t m)
{
    const char *fn = ind_names[kind];
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "%s: out is NULL", fn);
    *out = 0;
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "%s: ctx is NULL", fn);
    if (m == 0 || n == 0 || n_ref == 0)
        return hwnas__error(HWNAS_EINVAL, "%s: %s is 0; need at least 1", fn,
                            m == 0 ? "m (objectives)" : n == 0 ? "n (points)" : "n_ref (reference points)");
    if (!points || !reference)
        return hwnas__error(HWNAS_EINVAL, "%s: %s is NULL", fn, points ? "reference" : "points");
    if (m > SIZE_MAX / 8 / n || m > SIZE_MAX / 8 / n_ref)
        return hwnas__error(HWNAS_EINVAL, "%s: too many points (n = %zu, n_ref = %zu, m = %zu)",
                            fn, n, n_ref, m);
    int rc = hwnas__pareto_check_values(fn, "points", points, n, m, 1);
    if (rc == HWNAS_OK)
        rc = hwnas__pareto_check_values(fn, "reference", reference, n_ref, m, 1);
    if (rc != HWNAS_OK)
        return rc;
    double acc = kind == IND_EPS ? -INFINITY : 0;
    for (size_t r = 0; r < n_ref; r++) {
        double best = INFINITY;
        for (size_t i = 0; i < n; i++)
            best = fmin(best, ind_term(kind, points + i * m, reference + r * m, m));
        if (kind == IND_EPS)
            acc = fmax(acc, best);
        else
            acc += best;
    }
    *out = kind == IND_EPS ? acc : acc / (double)n_ref;
    return HWNAS_OK;
}

int hwnas_pareto_igd(double *out, hwnas_context *ctx, const double *points, size_t n,
                     const double *reference, size_t n_ref, size_t m)
{
    return indicator(IND_IGD, out, ctx, points, n, reference, n_ref, m);
}

int hwnas_pareto_igd_plus(double *out, hwnas_context *ctx, const double *points, size_t n,
                          const double *reference, size_t n_ref, size_t m)
{
    return indicator(IND_IGD_PLUS, out, ctx, points, n, reference, n_ref, m);
}

int hwnas_pareto_epsilon_additive(double *out, hwnas_context *ctx, const double *points,
                                  size_t n, const double *reference, size_t n_ref, size_t m)
{
    return indicator(IND_EPS, out, ctx, points, n, reference, n_ref, m);
}
