/*
 * The plots of a results directory, drawn from its files alone: front.svg
 * (objective pairs) and hypervolume.svg (hypervolume over evaluations).
 * archive.csv holds every figure they need, each to full precision, so
 * the plots are those the candidates' figures give.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "search/search_internal.h"

/* ---- reading archive.csv and front.csv --------------------------------- */

/* A table the search wrote: eval,id,genotype,hash, the metrics,
 * violation,feasible,failed,error,seconds,cached, with refinement
 * refined,refine_error,refine_seconds and proxy_<metric> columns. */
typedef struct table {
    hwnas__csv csv;
    size_t feasible, failed; /* columns */
    int64_t refined;         /* column, -1 without refinement */
    size_t *obj;             /* n objectives: their metric columns */
    int64_t *proxy;          /* n: their proxy_ columns, -1 when not refined */
} table;

static void table_free(const hwnas_context *ctx, table *t)
{
    hwnas__csv_free(ctx, &t->csv);
    hwnas__free(ctx, t->obj);
    hwnas__free(ctx, t->proxy);
}

static const char *cell(const table *t, size_t row, size_t col)
{
    return t->csv.cells[row * t->csv.n_cols + col];
}

/* A figure: NaN where the search wrote none. */
static double number(const table *t, size_t row, size_t col)
{
    const char *c = cell(t, row, col);
    return *c ? strtod(c, NULL) : NAN;
}

static int flag(const table *t, size_t row, size_t col) { return strcmp(cell(t, row, col), "1") == 0; }

static int table_load(hwnas_context *ctx, const char *dir, const char *name,
                      const hwnas__report_objectives *o, table *t)
{
    memset(t, 0, sizeof *t);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return hwnas__error(HWNAS_EINVAL, "report: path '%s/%s' is too long", dir, name);
    int rc = hwnas__csv_load(ctx, path, &t->csv);
    if (rc != HWNAS_OK)
        return rc;
    const hwnas__csv *c = &t->csv;
    /* The fixed columns after the metrics, found from the last "cached"
     * (a metric may have any name, a proxy_ column cannot be "cached"). */
    size_t cached = c->n_cols;
    for (size_t i = c->n_cols; i-- > 0 && cached == c->n_cols;)
        if (strcmp(c->header[i], "cached") == 0)
            cached = i;
    if (cached == c->n_cols || cached < 9 || strcmp(c->header[cached - 5], "violation") != 0 ||
        strcmp(c->header[cached - 4], "feasible") != 0 ||
        strcmp(c->header[cached - 3], "failed") != 0 || strcmp(c->header[3], "hash") != 0) {
        table_free(ctx, t);
        return hwnas__error(HWNAS_EFORMAT, "%s:1: not the header of a search's table "
                                           "(eval,id,genotype,hash,metrics...,violation,"
                                           "feasible,failed,error,seconds,cached)",
                            path);
    }
    t->feasible = cached - 4;
    t->failed = cached - 3;
    t->refined = cached + 1 < c->n_cols && strcmp(c->header[cached + 1], "refined") == 0
                     ? (int64_t)cached + 1
                     : -1;
    t->obj = hwnas__malloc(ctx, (o->n + 1) * sizeof *t->obj);
    t->proxy = hwnas__malloc(ctx, (o->n + 1) * sizeof *t->proxy);
    if (!t->obj || !t->proxy) {
        table_free(ctx, t);
        return HWNAS_ENOMEM;
    }
    for (size_t k = 0; k < o->n; k++) {
        size_t m = 4;
        while (m < cached - 5 && strcmp(c->header[m], o->names[k]) != 0)
            m++;
        if (m == cached - 5) {
            table_free(ctx, t);
            return hwnas__error(HWNAS_EFORMAT, "%s:1: no metric column '%s'", path,
                                o->names[k]);
        }
        t->obj[k] = m;
        t->proxy[k] = -1;
        for (size_t j = cached + 1; j < c->n_cols; j++)
            if (strncmp(c->header[j], "proxy_", 6) == 0 &&
                strcmp(c->header[j] + 6, o->names[k]) == 0)
                t->proxy[k] = (int64_t)j;
    }
    return HWNAS_OK;
}

/* ---- SVG ------------------------------------------------------------- */

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

static int write_svg(hwnas_context *ctx, const char *dir, const char *name, hwnas__strbuf *sb)
{
    char path[4096];
    int rc = (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path
                 ? hwnas__error(HWNAS_EINVAL, "report: path '%s/%s' is too long", dir, name)
             : sb->failed ? HWNAS_ENOMEM
                          : hwnas__file_write_atomic(ctx, path, sb->data ? sb->data : "",
                                                     sb->len, 0);
    hwnas__strbuf_release(sb);
    return rc;
}

/* One panel: every candidate faded, the front highlighted and, when join,
 * joined in its order. */
static void front_panel(hwnas__strbuf *sb, const table *all, const table *front, size_t a,
                        size_t b, int join, double x0)
{
    size_t ca = all->obj[a], cb = all->obj[b], fa = front->obj[a], fb = front->obj[b];
    double y0 = 20, w = 420 - 100, h = 320 - 70;
    axis ax = {INFINITY, -INFINITY, 0}, ay = {INFINITY, -INFINITY, 0};
    for (size_t i = 0; i < all->csv.n_rows; i++)
        if (!flag(all, i, all->failed)) {
            double x = number(all, i, ca), y = number(all, i, cb);
            if (!isfinite(x) || !isfinite(y))
                continue;
            ax.lo = fmin(ax.lo, x), ax.hi = fmax(ax.hi, x);
            ay.lo = fmin(ay.lo, y), ay.hi = fmax(ay.hi, y);
        }
    if (!isfinite(ax.lo))
        ax.lo = 0, ax.hi = 1, ay.lo = 0, ay.hi = 1;
    axis_finish(&ax);
    axis_finish(&ay);
    svg_axes(sb, x0, y0, w, h, ax, ay, all->csv.header[ca], all->csv.header[cb]);
    for (size_t i = 0; i < all->csv.n_rows; i++) {
        double x = number(all, i, ca), y = number(all, i, cb);
        if (flag(all, i, all->failed) || !isfinite(x) || !isfinite(y))
            continue;
        hwnas__strbuf_printf(sb,
                             "<circle cx='%.1f' cy='%.1f' r='2.5' fill='%s' "
                             "opacity='0.35'/>\n",
                             scale(ax, x, x0, x0 + w), scale(ay, y, y0 + h, y0),
                             flag(all, i, all->feasible) ? "#888" : "#d88");
    }
    size_t nf = front->csv.n_rows;
    if (nf && join) {
        hwnas__strbuf_puts(sb, "<polyline fill='none' stroke='#c22' stroke-width='1.5' "
                               "points='");
        for (size_t i = 0; i < nf; i++)
            hwnas__strbuf_printf(sb, "%.1f,%.1f ", scale(ax, number(front, i, fa), x0, x0 + w),
                                 scale(ay, number(front, i, fb), y0 + h, y0));
        hwnas__strbuf_puts(sb, "'/>\n");
    }
    for (size_t i = 0; i < nf; i++) {
        hwnas__strbuf_printf(sb, "<circle cx='%.1f' cy='%.1f' r='4' fill='#c22'><title>",
                             scale(ax, number(front, i, fa), x0, x0 + w),
                             scale(ay, number(front, i, fb), y0 + h, y0));
        for (const char *c = cell(front, i, 2); *c; c++) { /* the genotype */
            if (*c == '<' || *c == '&')
                hwnas__strbuf_puts(sb, *c == '<' ? "&lt;" : "&amp;");
            else
                hwnas__strbuf_append(sb, c, 1);
        }
        hwnas__strbuf_puts(sb, "</title></circle>\n");
    }
}

static int front_svg(hwnas_context *ctx, const char *dir, const hwnas__report_objectives *o,
                     const table *all, const table *front)
{
    size_t pairs = o->n >= 2 ? o->n * (o->n - 1) / 2 : 1;
    double pw = 420, ph = 320;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    hwnas__strbuf_printf(&sb,
                         "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
                         "font-family='sans-serif'>\n<rect width='100%%' height='100%%' "
                         "fill='white'/>\n",
                         pw * (double)pairs, ph);
    size_t panel = 0;
    if (o->n == 1)
        front_panel(&sb, all, front, 0, 0, 0, 80);
    for (size_t a = 0; o->n > 1 && a < o->n; a++)
        for (size_t b = a + 1; b < o->n; b++, panel++)
            front_panel(&sb, all, front, a, b, o->n == 2, pw * (double)panel + 80);
    hwnas__strbuf_puts(&sb, "</svg>\n");
    return write_svg(ctx, dir, "front.svg", &sb);
}

/* The objectives each candidate's figures told the strategy (minimised),
 * and whether they count: feasible and successful by those figures. A
 * refined candidate was told its proxy figures, and only candidates
 * feasible by them are refined. */
static int told_points(hwnas_context *ctx, const table *t, const hwnas__report_objectives *o,
                       double **pts, unsigned char **ok, uint64_t **hash)
{
    size_t n = t->csv.n_rows, m = o->n;
    *pts = hwnas__calloc(ctx, n * m + 1, sizeof **pts);
    *ok = hwnas__calloc(ctx, n + 1, sizeof **ok);
    *hash = hwnas__calloc(ctx, n + 1, sizeof **hash);
    if (!*pts || !*ok || !*hash)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int refined = t->refined >= 0 && flag(t, i, (size_t)t->refined);
        (*hash)[i] = strtoull(cell(t, i, 3), NULL, 16);
        (*ok)[i] = refined ? !flag(t, i, t->failed) : flag(t, i, t->feasible);
        for (size_t k = 0; (*ok)[i] && k < m; k++) {
            size_t col = refined && t->proxy[k] >= 0 ? (size_t)t->proxy[k] : t->obj[k];
            (*pts)[i * m + k] = o->sign[k] * number(t, i, col);
        }
    }
    return HWNAS_OK;
}

static int hv_svg(hwnas_context *ctx, const char *dir, const hwnas__report_objectives *o,
                  const table *t, const double *ref)
{
    double *pts = NULL;
    unsigned char *ok = NULL;
    uint64_t *hash = NULL;
    size_t n_rec = t->csv.n_rows;
    int rc = told_points(ctx, t, o, &pts, &ok, &hash);
    enum { POINTS = 60 };
    double hv[POINTS];
    size_t at[POINTS], n = 0;
    for (size_t k = 1; k <= POINTS && rc == HWNAS_OK; k++) {
        size_t upto = (n_rec * k + POINTS - 1) / POINTS;
        if (n && at[n - 1] == upto)
            continue;
        at[n] = upto;
        rc = hwnas__pareto_front_hv(ctx, pts, ok, hash, upto, o->n, ref, &hv[n]);
        n++;
    }
    hwnas__free(ctx, pts);
    hwnas__free(ctx, ok);
    hwnas__free(ctx, hash);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    hwnas__strbuf_puts(&sb, "<svg xmlns='http://www.w3.org/2000/svg' width='480' height='320' "
                            "font-family='sans-serif'>\n<rect width='100%' height='100%' "
                            "fill='white'/>\n");
    axis ax = {0, (double)n_rec, 0}, ay = {0, n ? hv[n - 1] : 1, 0};
    if (ay.hi <= 0)
        ay.hi = 1;
    svg_axes(&sb, 80, 20, 380, 250, ax, ay, "evaluations", "hypervolume");
    hwnas__strbuf_puts(&sb, "<polyline fill='none' stroke='#26c' stroke-width='2' points='");
    for (size_t i = 0; i < n; i++)
        hwnas__strbuf_printf(&sb, "%.1f,%.1f ", scale(ax, (double)at[i], 70, 460),
                             scale(ay, hv[i], 270, 20));
    hwnas__strbuf_puts(&sb, "'/>\n</svg>\n");
    return write_svg(ctx, dir, "hypervolume.svg", &sb);
}

int hwnas__report_plots(hwnas_context *ctx, const char *dir, const hwnas__report_objectives *o,
                        const double *ref)
{
    table all, front;
    int rc = table_load(ctx, dir, "archive.csv", o, &all);
    if (rc != HWNAS_OK)
        return rc;
    rc = table_load(ctx, dir, "front.csv", o, &front);
    if (rc == HWNAS_OK) {
        rc = front_svg(ctx, dir, o, &all, &front);
        table_free(ctx, &front);
    }
    if (rc == HWNAS_OK && ref)
        rc = hv_svg(ctx, dir, o, &all, ref);
    table_free(ctx, &all);
    return rc;
}

int hwnas_search_plot_front(hwnas_context *ctx, const char *dir, const char *x, const char *y)
{
    if (!ctx || !dir || !x || !y)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_plot_front: ctx, dir, x and y are "
                                          "required");
    /* The front is ordered by the first objective, not by x: its members
     * are not joined. */
    const char *names[2] = {x, y};
    const double sign[2] = {1, 1};
    hwnas__report_objectives o = {2, names, sign};
    table all, front;
    int rc = table_load(ctx, dir, "archive.csv", &o, &all);
    if (rc != HWNAS_OK)
        return rc;
    rc = table_load(ctx, dir, "front.csv", &o, &front);
    if (rc == HWNAS_OK) {
        hwnas__strbuf sb;
        hwnas__strbuf_init(&sb, ctx);
        hwnas__strbuf_puts(&sb, "<svg xmlns='http://www.w3.org/2000/svg' width='420' "
                                "height='320' font-family='sans-serif'>\n<rect width='100%' "
                                "height='100%' fill='white'/>\n");
        front_panel(&sb, &all, &front, 0, 1, 0, 80);
        hwnas__strbuf_puts(&sb, "</svg>\n");
        rc = write_svg(ctx, dir, "front.svg", &sb);
        table_free(ctx, &front);
    }
    table_free(ctx, &all);
    return rc;
}
