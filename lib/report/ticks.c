/*
 * Axis ticks at round values and axis labels with units, for the plots.
 * Linear axes step by 1, 2 or 5 times a power of ten; logarithmic axes
 * tick at decades. The axis range is widened to the ticks around the
 * data, so the first and last tick sit on the axis' ends.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

size_t hwnas__report_ticks(double *lo, double *hi, int log_axis, size_t target, double *out,
                           size_t cap, double *step_out)
{
    double a = *lo, b = *hi;
    if (!isfinite(a) || !isfinite(b) || a > b)
        a = 0, b = 1;
    if (target < 2)
        target = 2;
    if (log_axis && a > 0) {
        double e0 = floor(log10(a) + 1e-9), e1 = ceil(log10(b) - 1e-9);
        if (e1 <= e0)
            e1 = e0 + 1;
        /* Every decade, or every k-th when there are too many. */
        double k = ceil((e1 - e0) / (double)(target * 2));
        e0 = floor(e0 / k) * k;
        e1 = ceil(e1 / k) * k;
        size_t n = 0;
        for (double e = e0; e <= e1 + 1e-9 && n < cap; e += k)
            out[n++] = pow(10, e);
        *lo = pow(10, e0);
        *hi = pow(10, e1);
        if (step_out)
            *step_out = k; /* in decades */
        return n;
    }
    if (b == a) { /* flat data: a unit range around it, or a tenth of it */
        double d = a != 0 ? fabs(a) * 0.1 : 1;
        a -= d, b += d;
    }
    double raw = (b - a) / (double)target;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    /* Indices, not repeated sums: 0.1 + 0.2 stays 0.3. */
    double i0 = floor(a / step + 1e-9), i1 = ceil(b / step - 1e-9);
    if (i1 <= i0)
        i1 = i0 + 1;
    size_t n = 0;
    for (double i = i0; i <= i1 + 1e-9 && n < cap; i++) {
        double v = i * step;
        out[n++] = fabs(v) < step * 1e-9 ? 0.0 : v;
    }
    *lo = i0 * step;
    *hi = i1 * step;
    if (step_out)
        *step_out = step;
    return n;
}

void hwnas__report_tick_label(double v, double step, int log_axis, char *buf, size_t size)
{
    if (log_axis) {
        double e = round(log10(v));
        if (e >= -3 && e <= 4)
            snprintf(buf, size, "%.*f", e < 0 ? (int)-e : 0, v);
        else
            snprintf(buf, size, "1e%d", (int)e);
        return;
    }
    double a = fabs(v) > fabs(step) ? fabs(v) : fabs(step);
    if (v == 0)
        snprintf(buf, size, "0");
    else if (a >= 1e6 || fabs(step) >= 1e5 || fabs(step) < 1e-4) { /* one style per axis */
        /* 2e+08 as 2e8 */
        char t[64], *e;
        /* enough digits to tell neighbouring ticks apart */
        int sig = (int)ceil(log10(a / fabs(step)) - 1e-9) + 1;
        snprintf(t, sizeof t, "%.*g", sig < 3 ? 3 : sig > 15 ? 15 : sig, v);
        if ((e = strchr(t, 'e')) != NULL) {
            char *d = e + 1, *p = e + 1;
            if (*p == '+')
                p++;
            else if (*p == '-')
                *d++ = *p++;
            while (*p == '0' && p[1])
                p++;
            memmove(d, p, strlen(p) + 1);
        }
        snprintf(buf, size, "%s", t);
    }
    else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(buf, size, "%.*f", dec, v);
    }
}

/* Metric names the library's estimators use, with what they measure and
 * their units; other names are shown as they are. */
static const struct {
    const char *name, *label, *unit;
} known[] = {
    {"accuracy", "accuracy", "%"},
    {"accuracy_q", "int8 accuracy", "%"},
    {"energy_uj", "energy", "\xc2\xb5J"},
    {"energy_mac_uj", "MAC energy", "\xc2\xb5J"},
    {"energy_mul_uj", "multiply energy", "\xc2\xb5J"},
    {"latency_ms", "latency", "ms"},
    {"edp", "energy-delay product", "\xc2\xb5J\xc2\xb7ms"},
    {"area_mm2", "area", "mm\xc2\xb2"},
    {"power_mw", "power", "mW"},
    {"macs", "multiply-accumulates", NULL},
    {"params", "parameters", NULL},
    {"cycles", "cycles", "cycles"},
    {"dram_accesses", "DRAM accesses", "words"},
    {"utilisation", "utilisation", "fraction of MACs"},
    {"mac_energy_share", "MAC share of energy", "fraction"},
    {"hypervolume", "hypervolume", NULL},
    {"evaluations", "evaluations", "candidates"},
};

const char *hwnas__report_unit(const char *metric)
{
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(known[i].name, metric) == 0)
            return known[i].unit;
    return NULL;
}

void hwnas__report_axis_label(hwnas__strbuf *sb, const char *metric)
{
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(known[i].name, metric) == 0) {
            hwnas__strbuf_puts(sb, known[i].label);
            if (strcmp(known[i].label, metric) != 0) {
                hwnas__strbuf_puts(sb, " [");
                hwnas__strbuf_puts(sb, metric);
                hwnas__strbuf_puts(sb, "]");
            }
            if (known[i].unit)
                hwnas__strbuf_printf(sb, " (%s)", known[i].unit);
            return;
        }
    hwnas__report_escape(sb, metric);
}

void hwnas__report_escape(hwnas__strbuf *sb, const char *text)
{
    for (const char *p = text; *p; p++) {
        const char *e = *p == '&'   ? "&amp;"
                        : *p == '<' ? "&lt;"
                        : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;"
                        : *p == '\'' ? "&#39;"
                                     : NULL;
        if (e)
            hwnas__strbuf_puts(sb, e);
        else if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
            hwnas__strbuf_puts(sb, "\xef\xbf\xbd"); /* U+FFFD: no control bytes in XML */
        else
            hwnas__strbuf_append(sb, p, 1);
    }
}
