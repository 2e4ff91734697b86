/* Estimators: creation, metrics, estimate, and custom callbacks. */
#include <math.h>
#include <string.h>

#include "estimator_internal.h"
#include "hwnas/accel.h"

int hwnas__estimator_add_metric(hwnas_estimator *e, const char *name, const char *unit)
{
    for (size_t i = 0; i < e->n_metrics; i++)
        if (strcmp(e->metric_names[i], name) == 0)
            return hwnas__error(HWNAS_EINVAL, "%s: metric '%s' is listed twice", e->kind_name,
                                name);
    char **names = hwnas__realloc(e->ctx, e->metric_names, (e->n_metrics + 1) * sizeof *names);
    if (!names)
        return HWNAS_ENOMEM;
    e->metric_names = names;
    char **units = hwnas__realloc(e->ctx, e->metric_units, (e->n_metrics + 1) * sizeof *units);
    if (!units)
        return HWNAS_ENOMEM;
    e->metric_units = units;
    names[e->n_metrics] = hwnas__strdup(e->ctx, name);
    units[e->n_metrics] = hwnas__strdup(e->ctx, unit ? unit : "");
    if (!names[e->n_metrics] || !units[e->n_metrics]) {
        hwnas__free(e->ctx, names[e->n_metrics]);
        hwnas__free(e->ctx, units[e->n_metrics]);
        return HWNAS_ENOMEM;
    }
    e->n_metrics++;
    return HWNAS_OK;
}

void hwnas_estimator_free(hwnas_estimator *e)
{
    if (!e)
        return;
    if (e->impl && e->impl->fini)
        e->impl->fini(e);
    for (size_t i = 0; i < e->n_metrics; i++) {
        hwnas__free(e->ctx, e->metric_names[i]);
        hwnas__free(e->ctx, e->metric_units[i]);
    }
    hwnas__free(e->ctx, e->metric_names);
    hwnas__free(e->ctx, e->metric_units);
    hwnas_options_free(e->options);
    hwnas__free(e->ctx, e->kind_name);
    hwnas__free(e->ctx, e);
}

int hwnas_estimator_new(hwnas_estimator **out, hwnas_context *ctx, const char *kind,
                        const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_estimator_new: out is NULL");
    *out = NULL;
    if (!ctx || !kind)
        return hwnas__error(HWNAS_EINVAL, "hwnas_estimator_new: ctx and kind are required");
    const hwnas__kind *k = hwnas__kind_find_in(ctx, "estimator", kind);
    if (!k)
        return HWNAS_ENOTFOUND;
    if (strncmp(k->name, "estimator:", 10) != 0 || !k->impl)
        return hwnas__error(HWNAS_ENOTFOUND, "'%s' is a %s, not an estimator", kind, k->name);
    hwnas_estimator *e = hwnas__calloc(ctx, 1, sizeof *e);
    if (!e)
        return HWNAS_ENOMEM;
    e->ctx = ctx;
    e->kind_name = hwnas__strdup(ctx, k->name);
    if (!e->kind_name) {
        hwnas__free(ctx, e);
        return HWNAS_ENOMEM;
    }
    int rc = hwnas__options_new_kind(&e->options, ctx, k, options);
    if (rc == HWNAS_OK) {
        e->impl = k->impl;
        rc = e->impl->init(e);
    }
    if (rc != HWNAS_OK) {
        hwnas_estimator_free(e);
        return rc;
    }
    *out = e;
    return HWNAS_OK;
}

static int valid_metric_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

int hwnas_estimator_new_custom(hwnas_estimator **out, hwnas_context *ctx, const char *name,
                               const char *metrics, hwnas_estimate_cb cb, void *user_data)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_estimator_new_custom: out is NULL");
    *out = NULL;
    if (!ctx || !name || !metrics || !cb)
        return hwnas__error(HWNAS_EINVAL,
                            "hwnas_estimator_new_custom: ctx, name, metrics and cb are required");
    hwnas_estimator *e = hwnas__calloc(ctx, 1, sizeof *e);
    if (!e)
        return HWNAS_ENOMEM;
    e->ctx = ctx;
    e->cb = cb;
    e->cb_data = user_data;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    hwnas__strbuf_printf(&sb, "custom:%s", name);
    e->kind_name = sb.failed ? NULL : sb.data;
    int rc = e->kind_name ? HWNAS_OK : HWNAS_ENOMEM;
    const char *p = metrics;
    while (rc == HWNAS_OK && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        size_t nlen = colon ? (size_t)(colon - p) : len;
        if (!valid_metric_name(p, nlen)) {
            rc = hwnas__error(HWNAS_EINVAL,
                              "custom estimator '%s': metric \"%.*s\" in \"%s\" is not name:unit "
                              "with a name of [a-z0-9_]",
                              name, (int)len, p, metrics);
            break;
        }
        char *mname = hwnas__strndup(ctx, p, nlen);
        char *unit = colon ? hwnas__strndup(ctx, colon + 1, len - nlen - 1)
                           : hwnas__strdup(ctx, "");
        rc = mname && unit ? hwnas__estimator_add_metric(e, mname, unit) : HWNAS_ENOMEM;
        hwnas__free(ctx, mname);
        hwnas__free(ctx, unit);
        p = end ? end + 1 : p + len;
    }
    if (rc == HWNAS_OK && e->n_metrics == 0)
        rc = hwnas__error(HWNAS_EINVAL, "custom estimator '%s': no metrics in \"%s\"", name,
                          metrics);
    if (rc != HWNAS_OK) {
        hwnas_estimator_free(e);
        return rc;
    }
    *out = e;
    return HWNAS_OK;
}

const char *hwnas_estimator_kind(const hwnas_estimator *e) { return e ? e->kind_name : NULL; }

const hwnas_options *hwnas_estimator_options(const hwnas_estimator *e)
{
    return e ? e->options : NULL;
}

size_t hwnas_estimator_metric_count(const hwnas_estimator *e) { return e ? e->n_metrics : 0; }

const char *hwnas_estimator_metric_name(const hwnas_estimator *e, size_t i)
{
    return e && i < e->n_metrics ? e->metric_names[i] : NULL;
}

const char *hwnas_estimator_metric_unit(const hwnas_estimator *e, size_t i)
{
    return e && i < e->n_metrics ? e->metric_units[i] : NULL;
}

int64_t hwnas_estimator_metric_index(const hwnas_estimator *e, const char *name)
{
    for (size_t i = 0; e && name && i < e->n_metrics; i++)
        if (strcmp(e->metric_names[i], name) == 0)
            return (int64_t)i;
    return -1;
}

void hwnas_estimator_set_error(const char *message)
{
    hwnas__error(HWNAS_EUSER, "%s", message ? message : "");
}

/* The hardware of the estimate running on this thread, for custom and
 * plugin callbacks (hwnas_estimator_current_accel): set for the length of
 * one estimate, like the last error it is per thread. */
static _Thread_local const hwnas_accel *current_accel;

const hwnas_accel *hwnas_estimator_current_accel(void) { return current_accel; }

/* Set by hwnas_estimator_interrupt during an estimate on this thread; after
 * it, whether that estimate was interrupted. */
static _Thread_local int interrupted;
static _Thread_local unsigned depth; /* estimates running on this thread (nested in callbacks) */

void hwnas_estimator_interrupt(void) { interrupted = 1; }

int hwnas_estimator_interrupted(void) { return interrupted; }

int hwnas_estimator_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                             uint64_t stream, double *values)
{
    return hwnas_estimator_estimate_on(e, net, NULL, key, stream, values);
}

static int estimate_custom(hwnas_estimator *e, const hwnas_net *net, const char *key,
                           uint64_t stream, double *values)
{
    hwnas_error_clear();
    int r = e->cb(net, key, stream, values, e->cb_data);
    if (r != 0) {
        const char *why = hwnas_error_last();
        return hwnas__error(HWNAS_EUSER, "estimator %s failed for %s%s%s", e->kind_name,
                            key ? key : "this net", *why ? ": " : " (callback returned non-zero)",
                            why);
    }
    for (size_t i = 0; i < e->n_metrics; i++)
        if (isnan(values[i]))
            return hwnas__error(HWNAS_EUSER, "estimator %s returned NaN for metric %s",
                                e->kind_name, e->metric_names[i]);
    return HWNAS_OK;
}

int hwnas_estimator_estimate_on(hwnas_estimator *e, const hwnas_net *net,
                                const hwnas_accel *accel, const char *key, uint64_t stream,
                                double *values)
{
    if (!e || !net || !values)
        return hwnas__error(HWNAS_EINVAL, "hwnas_estimator_estimate: estimator, net and values "
                                          "are required");
    const hwnas_accel *outer = current_accel; /* an estimator inside a callback */
    int outer_interrupted = depth > 0 && interrupted; /* at the top, a stale answer */
    current_accel = accel;
    interrupted = 0;
    depth++;
    int rc;
    if (e->impl && accel && e->impl->estimate_on)
        rc = e->impl->estimate_on(e, net, accel, key, stream, values);
    else if (e->impl)
        rc = e->impl->estimate(e, net, key, stream, values);
    else
        rc = estimate_custom(e, net, key, stream, values);
    depth--;
    current_accel = outer;
    if (interrupted) /* whatever the callback returned */
        rc = hwnas__error(HWNAS_EUSER, "estimator %s: interrupted", e->kind_name);
    /* the enclosing estimate (a callback that estimates) is interrupted too */
    if (outer_interrupted)
        interrupted = 1;
    return rc;
}

int hwnas_estimator_observe(hwnas_estimator *e, const char *key, size_t n,
                            const char *const *names, const double *values)
{
    if (!e || !key || (n && (!names || !values)))
        return hwnas__error(HWNAS_EINVAL, "hwnas_estimator_observe: estimator, key and (with "
                                          "metrics) names and values are required");
    if (!e->impl || !e->impl->observe)
        return HWNAS_OK;
    return e->impl->observe(e, key, n, names, values);
}
