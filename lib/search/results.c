/* Results: the Pareto front, hypervolume, and the files a search writes. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwnas/pareto.h"
#include "search_internal.h"

static int usable(const hwnas__record *r) { return !r->failed && r->obj && r->violation <= 0; }

/* The objectives the strategy was told (before any refinement). */
static const double *told_obj(const hwnas__record *r)
{
    return r->proxy_obj ? r->proxy_obj : r->obj;
}

static int told_usable(const hwnas__record *r)
{
    return !r->failed && told_obj(r) && (r->proxy ? r->proxy_violation : r->violation) <= 0;
}

/* Feasible candidates among the first `upto`, one per phenotype (the
 * first evaluated), ordered by non-dominated rank (when by_rank), then the
 * first objective, then evaluation order; *front counts those of rank 0
 * (all of them when !by_rank). The strategy's view (`told`) ranks
 * everything by the figures it was told; the final view ranks by the best
 * figures known, among the refined candidates once there are any (proxy
 * and refined figures are not comparable). */
int hwnas__search_order(const hwnas_search *s, size_t upto, int told, int by_rank, size_t **out,
                        size_t *n, size_t *front)
{
    *out = NULL;
    *n = *front = 0;
    size_t m = s->n_obj, k = 0;
    size_t *idx = hwnas__malloc(s->ctx, (upto + 1) * sizeof *idx);
    double *pts = hwnas__malloc(s->ctx, (upto * m + 1) * sizeof *pts);
    uint32_t *rank = hwnas__calloc(s->ctx, upto + 1, sizeof *rank);
    int rc = idx && pts && rank ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t i = 0; rc == HWNAS_OK && i < upto; i++) {
        const hwnas__record *r = &s->rec[i];
        if (told ? !told_usable(r) : !usable(r) || (s->n_refined && r->refined != 1))
            continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++)
            dup = s->rec[idx[j]].hash == r->hash;
        if (dup)
            continue;
        idx[k] = i;
        memcpy(pts + k * m, told ? told_obj(r) : r->obj, m * sizeof *pts);
        k++;
    }
    size_t fronts = 0;
    if (rc == HWNAS_OK && k && by_rank)
        rc = hwnas_pareto_rank(rank, &fronts, s->ctx, pts, k, m);
    /* Stable insertion sort by (rank, first objective). */
    for (size_t i = 1; rc == HWNAS_OK && i < k; i++) {
        size_t v = idx[i], j = i;
        uint32_t rv = rank[i];
        double ov = pts[i * m];
        for (; j > 0 && (rank[j - 1] > rv || (rank[j - 1] == rv && pts[(j - 1) * m] > ov)); j--) {
            idx[j] = idx[j - 1];
            rank[j] = rank[j - 1];
            pts[j * m] = pts[(j - 1) * m]; /* only the first objective is compared again */
        }
        idx[j] = v;
        rank[j] = rv;
        pts[j * m] = ov;
    }
    size_t f = 0;
    while (f < k && rank[f] == 0)
        f++;
    hwnas__free(s->ctx, pts);
    hwnas__free(s->ctx, rank);
    if (rc != HWNAS_OK) {
        hwnas__free(s->ctx, idx);
        return rc;
    }
    *out = idx;
    *n = k;
    *front = f;
    return HWNAS_OK;
}

/* Feasible non-dominated candidates among the first `upto`, one per
 * phenotype, sorted by the first objective. */
static int front_upto(const hwnas_search *s, size_t upto, int told, size_t **out, size_t *n)
{
    size_t all;
    return hwnas__search_order(s, upto, told, 1, out, &all, n);
}

int hwnas__search_front_all(const hwnas_search *s, size_t **out, size_t *n)
{
    return front_upto(s, s->n_rec, 0, out, n);
}

size_t hwnas_search_front(const hwnas_search *s, size_t *indices, size_t cap)
{
    if (!s || (cap && !indices)) {
        hwnas__error(HWNAS_EINVAL, "hwnas_search_front: search and indices are required");
        return 0;
    }
    if (!s->started || s->n_obj == 0)
        return 0;
    size_t *idx, n;
    if (front_upto(s, s->n_rec, 0, &idx, &n) != HWNAS_OK)
        return 0;
    memcpy(indices, idx, (n < cap ? n : cap) * sizeof *idx);
    hwnas__free(s->ctx, idx);
    return n;
}

/* The reference point, minimised: the option, or the worst feasible value
 * of each objective plus a tenth of its range (plus 1 when flat). */
int hwnas__search_reference(const hwnas_search *s, double *ref)
{
    const char *text = hwnas__options_str(s->options, OPT_HV_REFERENCE);
    if (*text) {
        const char *p = text;
        for (size_t k = 0; k < s->n_obj; k++) {
            char *end;
            double v = strtod(p, &end);
            if (end == p || !isfinite(v))
                return hwnas__error(HWNAS_EINVAL, "search: hv_reference \"%s\" needs %zu "
                                                  "numbers",
                                    text, s->n_obj);
            ref[k] = s->obj[k].sign * v;
            p = *end == ',' ? end + 1 : end;
        }
        return HWNAS_OK;
    }
    int any = 0;
    for (size_t k = 0; k < s->n_obj; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < s->n_rec; i++)
            if (told_usable(&s->rec[i])) {
                lo = fmin(lo, told_obj(&s->rec[i])[k]);
                hi = fmax(hi, told_obj(&s->rec[i])[k]);
                any = 1;
            }
        ref[k] = hi + (hi > lo ? 0.1 * (hi - lo) : 1.0);
    }
    return any ? HWNAS_OK
               : hwnas__error(HWNAS_ESTATE, "search: no feasible candidate yet");
}

int hwnas__search_hv(const hwnas_search *s, size_t upto, const double *ref, double *out)
{
    size_t *idx, n;
    int rc = front_upto(s, upto, 1, &idx, &n);
    if (rc != HWNAS_OK)
        return rc;
    double *pts = hwnas__malloc(s->ctx, (n * s->n_obj + 1) * sizeof *pts);
    if (!pts) {
        hwnas__free(s->ctx, idx);
        return HWNAS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        memcpy(pts + i * s->n_obj, told_obj(&s->rec[idx[i]]), s->n_obj * sizeof *pts);
    rc = hwnas_pareto_hypervolume(out, s->ctx, pts, n, s->n_obj, ref);
    hwnas__free(s->ctx, pts);
    hwnas__free(s->ctx, idx);
    return rc;
}

int hwnas_search_hypervolume(const hwnas_search *s, double *out)
{
    if (!s || !out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_hypervolume: search and out are "
                                          "required");
    if (!s->started || s->n_obj == 0)
        return hwnas__error(HWNAS_ESTATE, "search: not started");
    double *ref = hwnas__malloc(s->ctx, s->n_obj * sizeof *ref);
    if (!ref)
        return HWNAS_ENOMEM;
    int rc = hwnas__search_reference(s, ref);
    if (rc == HWNAS_OK)
        rc = hwnas__search_hv(s, s->n_rec, ref, out);
    hwnas__free(s->ctx, ref);
    return rc;
}

/* ---- files ------------------------------------------------------------ */

static void csv_text(hwnas__strbuf *sb, const char *t)
{
    hwnas__strbuf_puts(sb, "\"");
    for (; t && *t; t++) {
        if (*t == '"')
            hwnas__strbuf_puts(sb, "\"");
        hwnas__strbuf_append(sb, t, 1);
    }
    hwnas__strbuf_puts(sb, "\"");
}

static void json_number(hwnas__strbuf *sb, double v)
{
    if (isfinite(v))
        hwnas__strbuf_printf(sb, "%.17g", v);
    else
        hwnas__strbuf_puts(sb, "null");
}

static void csv_rows(const hwnas_search *s, hwnas__strbuf *sb, const size_t *idx, size_t n)
{
    hwnas__strbuf_puts(sb, "eval,id,genotype,hash");
    for (size_t m = 0; m < s->n_metrics; m++)
        hwnas__strbuf_printf(sb, ",%s", s->metric_names[m]);
    hwnas__strbuf_puts(sb, ",violation,feasible,failed,error,seconds,cached");
    /* With refinement: the flag, and the proxy figures it replaced. */
    size_t n_ref = s->refine_est ? hwnas_estimator_metric_count(s->refine_est) : 0;
    if (s->refine_est)
        hwnas__strbuf_puts(sb, ",refined,refine_error,refine_seconds");
    for (size_t j = 0; j < n_ref; j++)
        hwnas__strbuf_printf(sb, ",proxy_%s", s->metric_names[s->refine_map[j]]);
    hwnas__strbuf_puts(sb, "\n");
    for (size_t t = 0; t < n; t++) {
        const hwnas__record *r = &s->rec[idx ? idx[t] : t];
        hwnas__strbuf_printf(sb, "%llu,%llu,", (unsigned long long)r->eval,
                             (unsigned long long)r->id);
        csv_text(sb, r->key);
        hwnas__strbuf_printf(sb, ",%016llx", (unsigned long long)r->hash);
        for (size_t m = 0; m < s->n_metrics; m++)
            if (isnan(r->metrics[m]))
                hwnas__strbuf_puts(sb, ",");
            else
                hwnas__strbuf_printf(sb, ",%.17g", r->metrics[m]);
        hwnas__strbuf_printf(sb, ",%.17g,%d,%d,", r->violation, usable(r), r->failed);
        csv_text(sb, r->error);
        hwnas__strbuf_printf(sb, ",%.6f,%d", r->seconds, r->cached);
        if (s->refine_est) {
            hwnas__strbuf_printf(sb, ",%d,", r->refined);
            csv_text(sb, r->refine_error);
            hwnas__strbuf_printf(sb, ",%.6f", r->refine_seconds);
        }
        for (size_t j = 0; j < n_ref; j++)
            if (r->proxy)
                hwnas__strbuf_printf(sb, ",%.17g", r->proxy[s->refine_map[j]]);
            else
                hwnas__strbuf_puts(sb, ",");
        hwnas__strbuf_puts(sb, "\n");
    }
}

static void json_rows(const hwnas_search *s, hwnas__strbuf *sb, const size_t *idx, size_t n)
{
    hwnas__strbuf_puts(sb, "[\n");
    for (size_t t = 0; t < n; t++) {
        const hwnas__record *r = &s->rec[idx ? idx[t] : t];
        hwnas__strbuf_printf(sb, "  {\"eval\": %llu, \"id\": %llu, \"genotype\": ",
                             (unsigned long long)r->eval, (unsigned long long)r->id);
        hwnas__strbuf_json(sb, r->key);
        hwnas__strbuf_puts(sb, ", \"genes\": [");
        for (size_t g = 0; g < s->n_genes; g++)
            hwnas__strbuf_printf(sb, "%s%u", g ? ", " : "", (unsigned)r->genes[g]);
        hwnas__strbuf_printf(sb, "], \"hash\": \"%016llx\", \"metrics\": {",
                             (unsigned long long)r->hash);
        for (size_t m = 0; m < s->n_metrics; m++) {
            hwnas__strbuf_printf(sb, "%s\"%s\": ", m ? ", " : "", s->metric_names[m]);
            json_number(sb, r->metrics[m]);
        }
        hwnas__strbuf_puts(sb, "}, \"violation\": ");
        json_number(sb, r->violation);
        hwnas__strbuf_printf(sb, ", \"feasible\": %s, \"error\": ", usable(r) ? "true" : "false");
        if (r->error)
            hwnas__strbuf_json(sb, r->error);
        else
            hwnas__strbuf_puts(sb, "null");
        hwnas__strbuf_printf(sb, ", \"seconds\": %.6f, \"cached\": %s", r->seconds,
                             r->cached ? "true" : "false");
        if (s->refine_est) {
            hwnas__strbuf_printf(sb, ", \"refined\": %d, \"refine_error\": ", r->refined);
            if (r->refine_error)
                hwnas__strbuf_json(sb, r->refine_error);
            else
                hwnas__strbuf_puts(sb, "null");
            hwnas__strbuf_printf(sb, ", \"refine_seconds\": %.6f, \"proxy\": {",
                                 r->refine_seconds);
            size_t n_ref = hwnas_estimator_metric_count(s->refine_est);
            for (size_t j = 0; r->proxy && j < n_ref; j++) {
                size_t m = s->refine_map[j];
                hwnas__strbuf_printf(sb, "%s\"%s\": ", j ? ", " : "", s->metric_names[m]);
                json_number(sb, r->proxy[m]);
            }
            hwnas__strbuf_puts(sb, "}");
        }
        hwnas__strbuf_printf(sb, "}%s\n", t + 1 < n ? "," : "");
    }
    hwnas__strbuf_puts(sb, "]\n");
}

static int write_text(const hwnas_search *s, const char *dir, const char *name,
                      hwnas__strbuf *sb)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        hwnas__strbuf_release(sb);
        return hwnas__error(HWNAS_EINVAL, "search: path too long in '%s'", dir);
    }
    int rc = sb->failed ? HWNAS_ENOMEM
                        : hwnas__file_write_atomic(s->ctx, path, sb->data ? sb->data : "",
                                                   sb->len, 0);
    hwnas__strbuf_release(sb);
    return rc;
}

/* ---- SVG plots -------------------------------------------------------- */

typedef struct axis {
    double lo, hi; /* data range */
    int log;       /* logarithmic: positive data spanning over two decades */
} axis;

static void axis_finish(axis *a)
{
    a->log = a->lo > 0 && a->hi / a->lo > 100;
}

static double axis_pos(axis a, double v)
{
    if (a.log)
        return a.hi > a.lo ? log10(v / a.lo) / log10(a.hi / a.lo) : 0.5;
    return a.hi > a.lo ? (v - a.lo) / (a.hi - a.lo) : 0.5;
}

static double axis_value(axis a, double t)
{
    return a.log ? a.lo * pow(a.hi / a.lo, t) : a.lo + (a.hi - a.lo) * t;
}

static double scale(axis a, double v, double from, double to)
{
    return from + axis_pos(a, v) * (to - from);
}

static void svg_axes(hwnas__strbuf *sb, double x0, double y0, double w, double h, axis ax,
                     axis ay, const char *xlabel, const char *ylabel)
{
    hwnas__strbuf_printf(sb,
                         "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' "
                         "stroke='#444'/>\n",
                         x0, y0, w, h);
    for (int t = 0; t <= 4; t++) {
        double fx = x0 + w * t / 4, fy = y0 + h - h * t / 4;
        hwnas__strbuf_printf(sb,
                             "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%.4g"
                             "</text>\n",
                             fx, y0 + h + 14, axis_value(ax, t / 4.0));
        hwnas__strbuf_printf(sb,
                             "<text x='%.1f' y='%.1f' font-size='10' text-anchor='end'>%.4g"
                             "</text>\n",
                             x0 - 4, fy + 3, axis_value(ay, t / 4.0));
    }
    hwnas__strbuf_printf(sb,
                         "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle'>",
                         x0 + w / 2, y0 + h + 30);
    hwnas__strbuf_puts(sb, xlabel);
    if (ax.log)
        hwnas__strbuf_puts(sb, " (log scale)");
    hwnas__strbuf_printf(sb,
                         "</text>\n<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle' "
                         "transform='rotate(-90 %.1f %.1f)'>",
                         x0 - 62, y0 + h / 2, x0 - 62, y0 + h / 2);
    hwnas__strbuf_puts(sb, ylabel);
    if (ay.log)
        hwnas__strbuf_puts(sb, " (log scale)");
    hwnas__strbuf_puts(sb, "</text>\n");
}

/* Objective pairs: every candidate faded, the front highlighted and joined. */
static int front_svg(const hwnas_search *s, const char *dir, const size_t *front, size_t nf)
{
    size_t pairs = s->n_obj >= 2 ? s->n_obj * (s->n_obj - 1) / 2 : 1;
    double pw = 420, ph = 320;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_printf(&sb,
                         "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
                         "font-family='sans-serif'>\n<rect width='100%%' height='100%%' "
                         "fill='white'/>\n",
                         pw * (double)pairs, ph);
    size_t panel = 0;
    for (size_t a = 0; a < s->n_obj; a++)
        for (size_t b = a + 1; b < s->n_obj || (s->n_obj == 1 && b == 1); b++, panel++) {
            size_t ma = s->obj[a].metric, mb = s->n_obj == 1 ? ma : s->obj[b].metric;
            axis ax = {INFINITY, -INFINITY, 0}, ay = {INFINITY, -INFINITY, 0};
            for (size_t i = 0; i < s->n_rec; i++)
                if (!s->rec[i].failed) {
                    double x = s->rec[i].metrics[ma], y = s->rec[i].metrics[mb];
                    if (!isfinite(x) || !isfinite(y))
                        continue;
                    ax.lo = fmin(ax.lo, x), ax.hi = fmax(ax.hi, x);
                    ay.lo = fmin(ay.lo, y), ay.hi = fmax(ay.hi, y);
                }
            if (!isfinite(ax.lo))
                ax.lo = 0, ax.hi = 1, ay.lo = 0, ay.hi = 1;
            axis_finish(&ax);
            axis_finish(&ay);
            double x0 = pw * (double)panel + 80, y0 = 20, w = pw - 100, h = ph - 70;
            svg_axes(&sb, x0, y0, w, h, ax, ay, s->metric_names[ma], s->metric_names[mb]);
            for (size_t i = 0; i < s->n_rec; i++) {
                const hwnas__record *r = &s->rec[i];
                double x = r->metrics[ma], y = r->metrics[mb];
                if (r->failed || !isfinite(x) || !isfinite(y))
                    continue;
                hwnas__strbuf_printf(&sb,
                                     "<circle cx='%.1f' cy='%.1f' r='2.5' fill='%s' "
                                     "opacity='0.35'/>\n",
                                     scale(ax, x, x0, x0 + w), scale(ay, y, y0 + h, y0),
                                     usable(r) ? "#888" : "#d88");
            }
            if (nf && s->n_obj == 2) {
                hwnas__strbuf_puts(&sb, "<polyline fill='none' stroke='#c22' stroke-width='1.5' "
                                        "points='");
                for (size_t i = 0; i < nf; i++) {
                    const hwnas__record *r = &s->rec[front[i]];
                    hwnas__strbuf_printf(&sb, "%.1f,%.1f ",
                                         scale(ax, r->metrics[ma], x0, x0 + w),
                                         scale(ay, r->metrics[mb], y0 + h, y0));
                }
                hwnas__strbuf_puts(&sb, "'/>\n");
            }
            for (size_t i = 0; i < nf; i++) {
                const hwnas__record *r = &s->rec[front[i]];
                hwnas__strbuf_printf(&sb,
                                     "<circle cx='%.1f' cy='%.1f' r='4' fill='#c22'><title>",
                                     scale(ax, r->metrics[ma], x0, x0 + w),
                                     scale(ay, r->metrics[mb], y0 + h, y0));
                for (const char *c = r->key; c && *c; c++) {
                    if (*c == '<' || *c == '&')
                        hwnas__strbuf_puts(&sb, *c == '<' ? "&lt;" : "&amp;");
                    else
                        hwnas__strbuf_append(&sb, c, 1);
                }
                hwnas__strbuf_puts(&sb, "</title></circle>\n");
            }
            if (s->n_obj == 1)
                break;
        }
    hwnas__strbuf_puts(&sb, "</svg>\n");
    return write_text(s, dir, "front.svg", &sb);
}

static int hv_svg(const hwnas_search *s, const char *dir, double *hv_out)
{
    double *ref = hwnas__malloc(s->ctx, s->n_obj * sizeof *ref);
    if (!ref)
        return HWNAS_ENOMEM;
    int rc = hwnas__search_reference(s, ref);
    if (rc != HWNAS_OK) {
        hwnas__free(s->ctx, ref);
        return rc == HWNAS_ESTATE ? HWNAS_OK : rc; /* nothing feasible: no plot */
    }
    enum { POINTS = 60 };
    double hv[POINTS];
    size_t at[POINTS], n = 0;
    for (size_t k = 1; k <= POINTS && rc == HWNAS_OK; k++) {
        size_t upto = (s->n_rec * k + POINTS - 1) / POINTS;
        if (n && at[n - 1] == upto)
            continue;
        at[n] = upto;
        rc = hwnas__search_hv(s, upto, ref, &hv[n]);
        n++;
    }
    hwnas__free(s->ctx, ref);
    if (rc != HWNAS_OK)
        return rc;
    *hv_out = n ? hv[n - 1] : 0;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_puts(&sb, "<svg xmlns='http://www.w3.org/2000/svg' width='480' height='320' "
                            "font-family='sans-serif'>\n<rect width='100%' height='100%' "
                            "fill='white'/>\n");
    axis ax = {0, (double)s->n_rec, 0}, ay = {0, n ? hv[n - 1] : 1, 0};
    if (ay.hi <= 0)
        ay.hi = 1;
    svg_axes(&sb, 80, 20, 380, 250, ax, ay, "evaluations", "hypervolume");
    hwnas__strbuf_puts(&sb, "<polyline fill='none' stroke='#26c' stroke-width='2' points='");
    for (size_t i = 0; i < n; i++)
        hwnas__strbuf_printf(&sb, "%.1f,%.1f ", scale(ax, (double)at[i], 70, 460),
                             scale(ay, hv[i], 270, 20));
    hwnas__strbuf_puts(&sb, "'/>\n</svg>\n");
    return write_text(s, dir, "hypervolume.svg", &sb);
}

/* A front member that decodes to no net has no file. */
static int front_skipped(const hwnas_search *s, const size_t *front, size_t k)
{
    hwnas_net *net;
    if (hwnas_net_new(&net, s->ctx) != HWNAS_OK)
        return 0;
    int skipped = hwnas_space_decode(s->space, s->rec[front[k]].genes, net) != HWNAS_OK;
    hwnas_net_free(net);
    return skipped;
}

static int front_nets(const hwnas_search *s, const char *dir, const size_t *front, size_t nf)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/front", dir) >= sizeof path)
        return hwnas__error(HWNAS_EINVAL, "search: path too long in '%s'", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return hwnas__error(HWNAS_EIO, "cannot create '%s': %s", path, strerror(errno));
    hwnas_net *net;
    int rc = hwnas_net_new(&net, s->ctx);
    for (size_t i = 0; rc == HWNAS_OK && i < nf; i++) {
        const hwnas__record *r = &s->rec[front[i]];
        if (hwnas_space_decode(s->space, r->genes, net) != HWNAS_OK)
            continue; /* e.g. a space whose candidates are not networks */
        char *spec = NULL;
        rc = hwnas_net_format(net, &spec);
        if (rc != HWNAS_OK)
            break;
        hwnas__strbuf sb;
        hwnas__strbuf_init(&sb, s->ctx);
        hwnas__strbuf_puts(&sb, "# front member ");
        hwnas__strbuf_printf(&sb, "%zu of the search (evaluation %llu): %s\n", i,
                             (unsigned long long)r->eval, r->key);
        hwnas__strbuf_puts(&sb, spec);
        hwnas_free(spec);
        char name[64];
        snprintf(name, sizeof name, "front/%03zu.net", i);
        rc = write_text(s, dir, name, &sb);
    }
    hwnas_net_free(net);
    /* Members of an earlier, larger front are not members of this one. */
    DIR *d = rc == HWNAS_OK ? opendir(path) : NULL;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char *end;
        unsigned long k = strtoul(e->d_name, &end, 10);
        if (end - e->d_name >= 3 && strcmp(end, ".net") == 0 && e->d_name[0] != '-' &&
            (k >= nf || front_skipped(s, front, k))) {
            char old[4400];
            snprintf(old, sizeof old, "%s/%s", path, e->d_name);
            if (unlink(old) != 0 && errno != ENOENT)
                rc = hwnas__error(HWNAS_EIO, "cannot remove '%s', no longer on the front: %s",
                                  old, strerror(errno));
        }
    }
    if (d)
        closedir(d);
    return rc;
}

int hwnas_search_write_results(const hwnas_search *s, const char *dir)
{
    if (!s)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_write_results: search is NULL");
    if (!dir || !*dir)
        dir = hwnas__search_out(s);
    if (!*dir)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_write_results: no directory (set the "
                                          "out option or pass one)");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return hwnas__error(HWNAS_EIO, "cannot create '%s': %s", dir, strerror(errno));
    if (!s->started)
        return hwnas__error(HWNAS_ESTATE, "search: not started, no results");
    size_t *front = NULL, nf = 0;
    int rc = hwnas__search_front_all(s, &front, &nf);
    hwnas__strbuf sb;
    if (rc == HWNAS_OK) {
        hwnas__strbuf_init(&sb, s->ctx);
        csv_rows(s, &sb, NULL, s->n_rec);
        rc = write_text(s, dir, "archive.csv", &sb);
    }
    if (rc == HWNAS_OK) {
        hwnas__strbuf_init(&sb, s->ctx);
        json_rows(s, &sb, NULL, s->n_rec);
        rc = write_text(s, dir, "archive.json", &sb);
    }
    if (rc == HWNAS_OK) {
        hwnas__strbuf_init(&sb, s->ctx);
        csv_rows(s, &sb, front, nf);
        rc = write_text(s, dir, "front.csv", &sb);
    }
    if (rc == HWNAS_OK) {
        hwnas__strbuf_init(&sb, s->ctx);
        json_rows(s, &sb, front, nf);
        rc = write_text(s, dir, "front.json", &sb);
    }
    if (rc == HWNAS_OK)
        rc = front_nets(s, dir, front, nf);
    if (rc == HWNAS_OK)
        rc = front_svg(s, dir, front, nf);
    double hv = 0;
    if (rc == HWNAS_OK)
        rc = hv_svg(s, dir, &hv);
    hwnas__free(s->ctx, front);
    return rc;
}
