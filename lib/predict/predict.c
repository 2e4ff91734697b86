/* Predictors: creation by kind, the checks and target scaling every kind
 * shares, fit and predict. */
#include <math.h>
#include <string.h>

#include "predict_internal.h"

static const hwnas__predictor_impl *impl_of(const hwnas_predictor *p)
{
    return (const hwnas__predictor_impl *)p->kind->impl;
}

int hwnas_predictor_new(hwnas_predictor **out, hwnas_context *ctx, const char *kind,
                        const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_predictor_new: out is NULL");
    *out = NULL;
    if (!ctx || !kind)
        return hwnas__error(HWNAS_EINVAL, "hwnas_predictor_new: ctx and kind are required");
    const hwnas__kind *k = hwnas__kind_find_in(ctx, "predictor", kind);
    if (!k)
        return HWNAS_ENOTFOUND;
    if (strncmp(k->name, "predictor:", 10) != 0 || !k->impl)
        return hwnas__error(HWNAS_ENOTFOUND, "'%s' is a %s, not a predictor (mlp, gbrt, gp)",
                            kind, k->name);
    hwnas_predictor *p = hwnas__calloc(ctx, 1, sizeof *p);
    if (!p)
        return HWNAS_ENOMEM;
    p->ctx = ctx;
    p->kind = k;
    int rc = hwnas__options_new_kind(&p->options, ctx, k, options);
    if (rc != HWNAS_OK) {
        hwnas__free(ctx, p);
        return rc;
    }
    int64_t seed = hwnas__options_int(p->options, 0);
    p->seed = seed ? (uint64_t)seed : hwnas_context_seed(ctx);
    *out = p;
    return HWNAS_OK;
}

static void clear(hwnas_predictor *p)
{
    if (p->model)
        impl_of(p)->clear(p);
    p->model = NULL;
    p->d = 0;
}

void hwnas_predictor_free(hwnas_predictor *p)
{
    if (!p)
        return;
    clear(p);
    hwnas_options_free(p->options);
    hwnas__free(p->ctx, p);
}

const char *hwnas_predictor_kind(const hwnas_predictor *p) { return p ? p->kind->name : NULL; }

const hwnas_options *hwnas_predictor_options(const hwnas_predictor *p)
{
    return p ? p->options : NULL;
}

size_t hwnas_predictor_dim(const hwnas_predictor *p) { return p && p->model ? p->d : 0; }

/* The first non-finite entry of rows x[n * d], named for the message. */
static int check_rows(const hwnas_predictor *p, const char *fn, const double *x, size_t n,
                      size_t d)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            if (!isfinite(x[i * d + j]))
                return hwnas__error(HWNAS_EINVAL, "%s (%s): feature %zu of row %zu is %g", fn,
                                    p->kind->name, j, i, x[i * d + j]);
    return HWNAS_OK;
}

int hwnas_predictor_fit(hwnas_predictor *p, const double *x, const double *y, size_t n,
                        size_t d)
{
    if (!p || !x || !y)
        return hwnas__error(HWNAS_EINVAL, "hwnas_predictor_fit: predictor, x and y are "
                                          "required");
    clear(p);
    if (n < 2 || d == 0)
        return hwnas__error(HWNAS_EINVAL, "hwnas_predictor_fit (%s): %zu rows of %zu features "
                                          "(it needs at least 2 rows and 1 feature)",
                            p->kind->name, n, d);
    int rc = check_rows(p, "hwnas_predictor_fit", x, n, d);
    if (rc != HWNAS_OK)
        return rc;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            return hwnas__error(HWNAS_EINVAL, "hwnas_predictor_fit (%s): target of row %zu is "
                                              "%g",
                                p->kind->name, i, y[i]);
        sum += y[i];
    }
    double mean = sum / (double)n, ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (y[i] - mean) * (y[i] - mean);
    double scale = sqrt(ss / (double)n);
    if (!(scale > 1e-12 * (fabs(mean) + 1)))
        scale = 1;
    double *ys = hwnas__malloc(p->ctx, n * sizeof *ys);
    if (!ys)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        ys[i] = (y[i] - mean) / scale;
    p->y_mean = mean;
    p->y_scale = scale;
    p->d = d;
    rc = impl_of(p)->fit(p, x, ys, n, d);
    hwnas__free(p->ctx, ys);
    if (rc != HWNAS_OK)
        clear(p);
    return rc;
}

int hwnas_predictor_predict(const hwnas_predictor *p, const double *x, size_t n, double *mean,
                            double *std)
{
    if (!p || (n && (!x || !mean)))
        return hwnas__error(HWNAS_EINVAL, "hwnas_predictor_predict: predictor, x and mean are "
                                          "required");
    if (!p->model)
        return hwnas__error(HWNAS_ESTATE, "hwnas_predictor_predict (%s): the predictor has no "
                                          "data yet (fit it first)",
                            p->kind->name);
    if (n == 0)
        return HWNAS_OK;
    int rc = check_rows(p, "hwnas_predictor_predict", x, n, p->d);
    if (rc != HWNAS_OK)
        return rc;
    double *sd = std ? std : hwnas__malloc(p->ctx, n * sizeof *sd);
    if (!sd)
        return HWNAS_ENOMEM;
    rc = impl_of(p)->predict(p, x, n, mean, sd);
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        mean[i] = p->y_mean + p->y_scale * mean[i];
        sd[i] *= p->y_scale;
    }
    if (sd != std)
        hwnas__free(p->ctx, sd);
    return rc;
}
