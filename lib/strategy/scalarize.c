/* One number per result for the single-objective strategies (ea, reinforce). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strategy_internal.h"

int hwnas__scalarizer_init(hwnas__scalarizer *z, hwnas_strategy *s)
{
    memset(z, 0, sizeof *z);
    z->m = s->n_obj;
    int64_t k = hwnas__strategy_opt_int(s, "objective");
    if (k >= (int64_t)s->n_obj)
        return hwnas__error(HWNAS_EINVAL, "%s: option objective=%lld but there are %zu objectives",
                            s->kind->name, (long long)k, s->n_obj);
    z->objective = (int)k;
    z->w = hwnas__malloc(s->ctx, z->m * sizeof *z->w);
    z->lo = hwnas__malloc(s->ctx, z->m * sizeof *z->lo);
    z->hi = hwnas__malloc(s->ctx, z->m * sizeof *z->hi);
    if (!z->w || !z->lo || !z->hi)
        return HWNAS_ENOMEM;
    for (size_t j = 0; j < z->m; j++) {
        z->w[j] = 1.0;
        z->lo[j] = DBL_MAX;
        z->hi[j] = -DBL_MAX;
    }
    const char *text = hwnas__strategy_opt_str(s, "weights");
    const char *p = text;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return HWNAS_OK;
    for (size_t j = 0; j < z->m; j++) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || v < 0)
            return hwnas__error(HWNAS_EINVAL,
                                "%s: option weights=\"%s\": weight %zu at position %zu is not a "
                                "finite number >= 0",
                                s->kind->name, text, j, (size_t)(p - text) + 1);
        z->w[j] = v;
        p = end;
        while (*p == ' ')
            p++;
        if (j + 1 < z->m) {
            if (*p != ',')
                return hwnas__error(HWNAS_EINVAL,
                                    "%s: option weights=\"%s\": expected %zu comma-separated "
                                    "weights (one per objective)",
                                    s->kind->name, text, z->m);
            p++;
        }
    }
    if (*p)
        return hwnas__error(HWNAS_EINVAL,
                            "%s: option weights=\"%s\": more weights than the %zu objectives",
                            s->kind->name, text, z->m);
    return HWNAS_OK;
}

void hwnas__scalarizer_fini(hwnas__scalarizer *z, const hwnas_context *ctx)
{
    hwnas__free(ctx, z->w);
    hwnas__free(ctx, z->lo);
    hwnas__free(ctx, z->hi);
    z->w = z->lo = z->hi = NULL;
}

void hwnas__scalarizer_observe(hwnas__scalarizer *z, const double *obj, double violation,
                               int failed)
{
    if (failed || violation > 0)
        return;
    for (size_t j = 0; j < z->m; j++) {
        if (obj[j] < z->lo[j])
            z->lo[j] = obj[j];
        if (obj[j] > z->hi[j])
            z->hi[j] = obj[j];
    }
    z->seen++;
}

double hwnas__scalarizer_value(const hwnas__scalarizer *z, const double *obj)
{
    if (z->objective >= 0)
        return obj[z->objective];
    double v = 0;
    for (size_t j = 0; j < z->m; j++) {
        double range = z->hi[j] - z->lo[j];
        if (z->w[j] == 0 || !(range > 0))
            continue;
        double x = (obj[j] - z->lo[j]) / range;
        /* Results outside the range seen so far stay ordered but bounded. */
        v += z->w[j] * x;
    }
    return v;
}

static int tier(double violation, int failed) { return failed ? 2 : (violation > 0 ? 1 : 0); }

int hwnas__scalarizer_compare(const hwnas__scalarizer *z, const double *oa, double va, int fa,
                              const double *ob, double vb, int fb)
{
    int ta = tier(va, fa), tb = tier(vb, fb);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    if (ta == 2)
        return 0;
    double a = ta == 1 ? va : hwnas__scalarizer_value(z, oa);
    double b = ta == 1 ? vb : hwnas__scalarizer_value(z, ob);
    return a < b ? -1 : (a > b ? 1 : 0);
}

double hwnas__scalarizer_penalised(const hwnas__scalarizer *z, const double *obj,
                                   double violation, int failed)
{
    double top = 0;
    for (size_t j = 0; j < z->m; j++)
        if (z->objective < 0 || (size_t)z->objective == j)
            top += z->objective < 0 ? z->w[j] : 1.0;
    /* Bounded, so that one bad result cannot swamp a reward baseline. */
    if (failed)
        return top + 2.0;
    if (violation > 0)
        return top + 1.0 + violation / (1.0 + violation);
    if (z->objective < 0)
        return hwnas__scalarizer_value(z, obj);
    size_t k = (size_t)z->objective;
    double range = z->hi[k] - z->lo[k];
    return range > 0 ? (obj[k] - z->lo[k]) / range : 0.0;
}

void hwnas__scalarizer_save(const hwnas__scalarizer *z, hwnas__writer *w)
{
    hwnas__writer_u64(w, z->seen);
    for (size_t j = 0; j < z->m; j++) {
        hwnas__writer_f64(w, z->lo[j]);
        hwnas__writer_f64(w, z->hi[j]);
    }
}

int hwnas__scalarizer_load(hwnas__scalarizer *z, hwnas__reader *r)
{
    z->seen = hwnas__reader_u64(r);
    for (size_t j = 0; j < z->m; j++) {
        z->lo[j] = hwnas__reader_f64(r);
        z->hi[j] = hwnas__reader_f64(r);
        if (z->seen > 0 && (!(z->lo[j] <= z->hi[j]) || !isfinite(z->lo[j]) ||
                            !isfinite(z->hi[j])))
            return hwnas__reader_fail(r);
    }
    return r->failed ? 0 : 1;
}
