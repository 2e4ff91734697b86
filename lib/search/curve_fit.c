/*
 * Learning-curve extrapolation for the pruner (prune.c), after Domhan et
 * al. (IJCAI 2015) in a small form: two parametric families, a power law
 * y = a - b t^-c and an exponential y = a - b e^-ct, each fitted by least
 * squares (for a fixed c the model is linear in a and b: closed form; c
 * by a log-spaced grid refined by golden section), then a weighted
 * ensemble (weights by Gaussian likelihood of each fit's residuals) whose
 * prediction at the final epoch comes with a standard deviation: the
 * spread of the members plus each member's residual noise and the
 * uncertainty of its a, b. Deterministic: no random restarts.
 */
#include <math.h>
#include <stdio.h>

#include "search_internal.h"

typedef double (*basis_fn)(double t, double c);

static double pow_basis(double t, double c) { return pow(t, -c); }
static double exp_basis(double t, double c) { return exp(-c * t); }

typedef struct fit {
    double a, b, c, sse;
    double s11, s12, s22; /* (X'X)^-1 of the linear part, for the prediction variance */
} fit;

/* Least squares of y = a - b f(t, c) for a fixed c; 0 when degenerate. */
static int fit_linear(const double *t, const double *y, size_t n, basis_fn f, double c, fit *out)
{
    double sx = 0, sxx = 0, sy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double x = -f(t[i], c);
        sx += x, sxx += x * x, sy += y[i], sxy += x * y[i];
    }
    double det = (double)n * sxx - sx * sx;
    if (!(fabs(det) > 1e-12 * (1 + sxx * (double)n)))
        return 0;
    double b = ((double)n * sxy - sx * sy) / det;
    double a = (sy - b * sx) / (double)n;
    double sse = 0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - (a - b * f(t[i], c));
        sse += r * r;
    }
    *out = (fit){a, b, c, sse, sxx / det, -sx / det, (double)n / det};
    return isfinite(sse);
}

/* The best c in [lo, hi] (log scale) for one family. */
static int fit_family(const double *t, const double *y, size_t n, basis_fn f, double lo,
                      double hi, fit *best)
{
    enum { GRID = 48 };
    int found = 0;
    double step = log(hi / lo) / (GRID - 1);
    size_t at = 0;
    for (size_t g = 0; g < GRID; g++) {
        fit x = {0};
        if (fit_linear(t, y, n, f, lo * exp(step * (double)g), &x) &&
            (!found || x.sse < best->sse)) {
            *best = x;
            at = g;
            found = 1;
        }
    }
    if (!found)
        return 0;
    /* Golden section on log c around the best grid point. */
    double l = log(lo) + step * (at ? (double)at - 1 : 0), h = log(lo) + step * (double)(at + 1);
    const double phi = 0.6180339887498949;
    for (int it = 0; it < 40; it++) {
        double m1 = h - phi * (h - l), m2 = l + phi * (h - l);
        fit x1 = {0}, x2 = {0};
        int o1 = fit_linear(t, y, n, f, exp(m1), &x1), o2 = fit_linear(t, y, n, f, exp(m2), &x2);
        double e1 = o1 ? x1.sse : INFINITY, e2 = o2 ? x2.sse : INFINITY;
        if (e1 < best->sse)
            *best = x1;
        if (e2 < best->sse)
            *best = x2;
        if (e1 < e2)
            h = m2;
        else
            l = m1;
    }
    return 1;
}

int hwnas__curve_predict(const double *t, const double *y, size_t n, double at, double *mean,
                         double *sd)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(t[i]) || !isfinite(y[i]))
            return hwnas__error(HWNAS_EINVAL, "learning curve: point %zu (epoch %g, value %g) "
                                              "is not a finite number",
                                i, t[i], y[i]);
    for (size_t i = 0; i < n; i++)
        if (t[i] <= 0 || (i && t[i] <= t[i - 1]))
            return hwnas__error(HWNAS_EINVAL, "learning curve: epochs must be > 0 and "
                                              "increasing (point %zu at %g)",
                                i, t[i]);
    if (n < 4)
        return hwnas__error(HWNAS_EINVAL, "learning curve: %zu points, at least 4 are needed "
                                          "to fit 3 parameters with a residual",
                            n);
    if (!(at >= t[n - 1]))
        return hwnas__error(HWNAS_EINVAL, "learning curve: predicting at epoch %g, before "
                                          "the last point (%g)",
                            at, t[n - 1]);
    static const basis_fn family[] = {pow_basis, exp_basis};
    /* exp: rates whose time constant spans a hundredth to ten times the horizon */
    const double lo[] = {0.01, 0.1 / at}, hi[] = {10, 100 / t[0]};
    double mu[2], var[2], logw[2];
    size_t k = 0;
    for (size_t m = 0; m < 2; m++) {
        fit x = {0};
        if (!fit_family(t, y, n, family[m], lo[m], hi[m], &x))
            continue;
        double noise = x.sse / (double)(n - 3);
        double f0 = -family[m](at, x.c);
        /* var of a + b f0 from (X'X)^-1, plus the noise of one measurement */
        double lin = x.s11 + 2 * f0 * x.s12 + f0 * f0 * x.s22;
        mu[k] = x.a + x.b * f0;
        var[k] = noise * (1 + (lin > 0 ? lin : 0));
        /* Gaussian likelihood at the ML noise level, up to a shared constant */
        logw[k] = -0.5 * (double)n * log(x.sse / (double)n + 1e-12);
        k++;
    }
    if (k == 0)
        return hwnas__error(HWNAS_EINVAL, "learning curve: no family fits the %zu points", n);
    double top = logw[0];
    for (size_t m = 1; m < k; m++)
        top = fmax(top, logw[m]);
    double wsum = 0, m1 = 0, m2 = 0;
    for (size_t m = 0; m < k; m++) {
        double w = exp(logw[m] - top);
        wsum += w;
        m1 += w * mu[m];
        m2 += w * (var[m] + mu[m] * mu[m]);
    }
    m1 /= wsum;
    m2 /= wsum;
    *mean = m1;
    *sd = sqrt(fmax(m2 - m1 * m1, 0));
    if (!isfinite(*mean) || !isfinite(*sd))
        return hwnas__error(HWNAS_EINVAL, "learning curve: the fit is not finite");
    return HWNAS_OK;
}
