/*
 * The plots of a results directory, drawn from its files alone: front.svg
 * (objective pairs) and hypervolume.svg (hypervolume over evaluations).
 * archive.csv holds every figure they need, each to full precision, so
 * the plots show the figures the search printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hwnas/dsearch.h"
#include "hwnas/pareto.h"
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
    int64_t pruned;          /* column, -1 without pruning */
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

static int is_refined(const table *t, size_t row)
{
    return t->refined >= 0 && flag(t, row, (size_t)t->refined);
}

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
    /* a pruned candidate's figures are partial: never on the front */
    t->pruned = -1;
    for (size_t i = cached + 1; i < c->n_cols && t->pruned < 0; i++)
        if (strcmp(c->header[i], "pruned") == 0)
            t->pruned = (int64_t)i;
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

enum { MAX_TICKS = 24 };

typedef struct axis {
    double lo, hi; /* the range drawn: from the first tick to the last */
    int log;       /* logarithmic: positive data spanning over two decades */
    double tick[MAX_TICKS], step;
    size_t n_ticks;
} axis;

/* An axis over data [lo, hi] (infinite lo: no data). */
static void axis_make(axis *a, double lo, double hi, int may_log)
{
    if (!isfinite(lo) || !isfinite(hi))
        lo = 0, hi = 1;
    a->log = may_log && lo > 0 && hi / lo > 100;
    a->lo = lo;
    a->hi = hi;
    a->n_ticks = hwnas__report_ticks(&a->lo, &a->hi, a->log, 5, a->tick, MAX_TICKS, &a->step);
}

static double axis_pos(const axis *a, double v)
{
    if (a->log)
        return log10(v / a->lo) / log10(a->hi / a->lo);
    return (v - a->lo) / (a->hi - a->lo);
}

typedef struct frame {
    double x, y, w, h; /* the plotting area */
} frame;

static double px(const frame *f, const axis *a, double v) { return f->x + axis_pos(a, v) * f->w; }
static double py(const frame *f, const axis *a, double v)
{
    return f->y + f->h - axis_pos(a, v) * f->h;
}

static void svg_open(hwnas__strbuf *sb, const hwnas__report_setup *st, double w, double h,
                     const char *what)
{
    hwnas__strbuf_printf(sb, "<svg %swidth='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f' "
                             "font-family='sans-serif' role='img' class='plot %s'>\n"
                             "<rect width='100%%' height='100%%' fill='white'/>\n",
                         st->inline_svg ? "" : "xmlns='http://www.w3.org/2000/svg' ", w, h, w,
                         h, what);
}

static void svg_text(hwnas__strbuf *sb, double x, double y, int size, const char *anchor,
                     const char *extra, const char *text)
{
    hwnas__strbuf_printf(sb, "<text x='%.1f' y='%.1f' font-size='%d' text-anchor='%s'%s>", x,
                         y, size, anchor, extra ? extra : "");
    hwnas__report_escape(sb, text);
    hwnas__strbuf_puts(sb, "</text>\n");
}

/* What the plot shows (bold), and under it the search it belongs to. */
static void svg_title(hwnas__strbuf *sb, double x, const char *what, const char *title)
{
    svg_text(sb, x, 18, 13, "start", " font-weight='bold' class='title'", what);
    if (title && *title)
        svg_text(sb, x, 33, 11, "start", " fill='#333' class='search'", title);
}

/* The frame, grid lines and round ticks, and the labels with units
 * (metric names; log scales said). */
static void svg_axes(hwnas__strbuf *sb, const frame *f, const axis *ax, const axis *ay,
                     const char *xmetric, const char *ymetric)
{
    char buf[64];
    for (size_t t = 0; t < ax->n_ticks; t++) {
        double x = px(f, ax, ax->tick[t]);
        hwnas__strbuf_printf(sb, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                                 "stroke='#e4e4e4'/>\n",
                             x, f->y, x, f->y + f->h);
        hwnas__report_tick_label(ax->tick[t], ax->step, ax->log, buf, sizeof buf);
        svg_text(sb, x, f->y + f->h + 14, 10, "middle", " class='xtick'", buf);
    }
    for (size_t t = 0; t < ay->n_ticks; t++) {
        double y = py(f, ay, ay->tick[t]);
        hwnas__strbuf_printf(sb, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                                 "stroke='#e4e4e4'/>\n",
                             f->x, y, f->x + f->w, y);
        hwnas__report_tick_label(ay->tick[t], ay->step, ay->log, buf, sizeof buf);
        svg_text(sb, f->x - 4, y + 3, 10, "end", " class='ytick'", buf);
    }
    hwnas__strbuf_printf(sb, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
                             "fill='none' stroke='#444'/>\n",
                         f->x, f->y, f->w, f->h);
    hwnas__strbuf_printf(sb, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle' "
                             "class='xlabel'>",
                         f->x + f->w / 2, f->y + f->h + 32);
    hwnas__report_axis_label(sb, xmetric);
    hwnas__strbuf_puts(sb, ax->log ? ", log scale</text>\n" : "</text>\n");
    double lx = f->x - 52, ly = f->y + f->h / 2;
    hwnas__strbuf_printf(sb, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle' "
                             "transform='rotate(-90 %.1f %.1f)' class='ylabel'>",
                         lx, ly, lx, ly);
    hwnas__report_axis_label(sb, ymetric);
    hwnas__strbuf_puts(sb, ay->log ? ", log scale</text>\n" : "</text>\n");
}

/* Legend entries: a marker drawn by its SVG and a text. */
typedef struct legend {
    const char *mark[6], *text[6];
    size_t n;
} legend;

static void legend_add(legend *l, const char *mark, const char *text)
{
    l->mark[l->n] = mark;
    l->text[l->n++] = text;
}

/* One row of entries from (x, y); each mark is drawn at (0,0) and moved. */
static void svg_legend(hwnas__strbuf *sb, const legend *l, double x, double y)
{
    hwnas__strbuf_puts(sb, "<g class='legend'>\n");
    for (size_t i = 0; i < l->n; i++) {
        hwnas__strbuf_printf(sb, "<g transform='translate(%.1f %.1f)'>%s</g>\n", x + 6, y - 4,
                             l->mark[i]);
        svg_text(sb, x + 14, y, 11, "start", NULL, l->text[i]);
        x += 22 + 6.2 * (double)strlen(l->text[i]);
    }
    hwnas__strbuf_puts(sb, "</g>\n");
}

static const char MARK_PROXY[] = "<circle r='2.5' fill='#888' opacity='0.5'/>";
static const char MARK_INFEASIBLE[] = "<path d='M-2.5,-2.5L2.5,2.5M-2.5,2.5L2.5,-2.5' "
                                      "stroke='#d66' stroke-width='1.2'/>";
static const char MARK_REFINED[] = "<rect x='-3' y='-3' width='6' height='6' fill='#26c' "
                                   "opacity='0.7'/>";
static const char MARK_FRONT[] = "<circle r='4.5' fill='#c22' stroke='white' "
                                 "stroke-width='1'/>";
static const char MARK_LINE[] = "<path d='M-6,0L6,0' stroke='#26c' stroke-width='2'/>";

enum { PANEL_W = 460, PANEL_H = 390, TOP = 48 };

/* One panel of metric b over metric a (columns obj[a], obj[b] of both
 * tables) at horizontal offset x0: every successful candidate (proxy-only
 * ones grey, refined ones blue squares tied to their proxy figures by a
 * faint line, infeasible ones red crosses), then the front, joined in its
 * order when join. */
static void front_panel(hwnas__strbuf *sb, const table *all, const table *front, size_t a,
                        size_t b, int join, double x0)
{
    size_t ca = all->obj[a], cb = all->obj[b], fa = front->obj[a], fb = front->obj[b];
    frame f = {x0 + 70, TOP, PANEL_W - 70 - 20, PANEL_H - TOP - 80};
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < all->csv.n_rows; i++)
        for (int proxy = 0; proxy < 2 && !flag(all, i, all->failed); proxy++) {
            /* a refined candidate's proxy figures too: its line stays inside */
            if (proxy && (!is_refined(all, i) || all->proxy[a] < 0 || all->proxy[b] < 0))
                continue;
            double x = number(all, i, proxy ? (size_t)all->proxy[a] : ca);
            double y = number(all, i, proxy ? (size_t)all->proxy[b] : cb);
            if (!isfinite(x) || !isfinite(y))
                continue;
            xlo = fmin(xlo, x), xhi = fmax(xhi, x);
            ylo = fmin(ylo, y), yhi = fmax(yhi, y);
        }
    axis ax, ay;
    axis_make(&ax, xlo, xhi, 1);
    axis_make(&ay, ylo, yhi, 1);
    svg_axes(sb, &f, &ax, &ay, all->csv.header[ca], all->csv.header[cb]);
    int seen_proxy = 0, seen_infeasible = 0, seen_refined = 0;
    for (size_t i = 0; i < all->csv.n_rows; i++) {
        double x = number(all, i, ca), y = number(all, i, cb);
        if (flag(all, i, all->failed) || !isfinite(x) || !isfinite(y))
            continue;
        const char *mark = MARK_PROXY;
        if (is_refined(all, i)) {
            mark = MARK_REFINED;
            seen_refined = 1;
            double x1 = all->proxy[a] >= 0 ? number(all, i, (size_t)all->proxy[a]) : x;
            double y1 = all->proxy[b] >= 0 ? number(all, i, (size_t)all->proxy[b]) : y;
            if (isfinite(x1) && isfinite(y1) && (x1 != x || y1 != y))
                hwnas__strbuf_printf(sb, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                                         "stroke='#26c' stroke-width='0.6' opacity='0.35'/>\n",
                                     px(&f, &ax, x1), py(&f, &ay, y1), px(&f, &ax, x),
                                     py(&f, &ay, y));
        } else if (!flag(all, i, all->feasible)) {
            mark = MARK_INFEASIBLE;
            seen_infeasible = 1;
        } else
            seen_proxy = 1;
        hwnas__strbuf_printf(sb, "<g class='candidate' transform='translate(%.1f %.1f)'>%s"
                                 "</g>\n",
                             px(&f, &ax, x), py(&f, &ay, y), mark);
    }
    size_t nf = front->csv.n_rows;
    if (nf && join) {
        hwnas__strbuf_puts(sb, "<polyline fill='none' stroke='#c22' stroke-width='1.5' "
                               "points='");
        for (size_t i = 0; i < nf; i++)
            hwnas__strbuf_printf(sb, "%.1f,%.1f ", px(&f, &ax, number(front, i, fa)),
                                 py(&f, &ay, number(front, i, fb)));
        hwnas__strbuf_puts(sb, "'/>\n");
    }
    for (size_t i = 0; i < nf; i++) {
        hwnas__strbuf_printf(sb, "<g class='member' transform='translate(%.1f %.1f)'>%s"
                                 "<title>front member %zu: evaluation ",
                             px(&f, &ax, number(front, i, fa)),
                             py(&f, &ay, number(front, i, fb)), MARK_FRONT, i);
        hwnas__report_escape(sb, cell(front, i, 0));
        hwnas__strbuf_puts(sb, ", ");
        hwnas__report_escape(sb, cell(front, i, 2)); /* the genotype */
        hwnas__strbuf_puts(sb, "</title></g>\n");
    }
    legend l = {{NULL}, {NULL}, 0};
    if (seen_proxy)
        legend_add(&l, MARK_PROXY, seen_refined ? "proxy figures only" : "candidate");
    if (seen_refined)
        legend_add(&l, MARK_REFINED, "refined");
    if (seen_infeasible)
        legend_add(&l, MARK_INFEASIBLE, "infeasible");
    if (nf)
        legend_add(&l, MARK_FRONT, "Pareto front");
    svg_legend(sb, &l, f.x - 40, f.y + f.h + 58);
}

/* The titles count evaluations: the archive's rows. */
static void title_line(hwnas__strbuf *sb, double x, const char *what,
                       const hwnas__report_setup *st)
{
    svg_title(sb, x, what, st->title);
}

static int front_draw(const hwnas__report_setup *st, const table *all, const table *front,
                      hwnas__strbuf *sb)
{
    const hwnas__report_objectives *o = &st->obj;
    size_t pairs = o->n >= 2 ? o->n * (o->n - 1) / 2 : 1;
    svg_open(sb, st, PANEL_W * (double)pairs, PANEL_H, "front");
    title_line(sb, 10, all->refined >= 0 ? "Pareto front (refined figures)" : "Pareto front",
               st);
    size_t panel = 0;
    if (o->n == 1)
        front_panel(sb, all, front, 0, 0, 0, 0);
    for (size_t a = 0; o->n > 1 && a < o->n; a++)
        for (size_t b = a + 1; b < o->n; b++, panel++)
            front_panel(sb, all, front, a, b, o->n == 2, PANEL_W * (double)panel);
    hwnas__strbuf_puts(sb, "</svg>\n");
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

int hwnas__report_front_svg(hwnas_context *ctx, const char *dir,
                            const hwnas__report_setup *setup, hwnas__strbuf *out)
{
    table all, front;
    int rc = table_load(ctx, dir, "archive.csv", &setup->obj, &all);
    if (rc != HWNAS_OK)
        return rc;
    rc = table_load(ctx, dir, "front.csv", &setup->obj, &front);
    if (rc == HWNAS_OK) {
        rc = front_draw(setup, &all, &front, out);
        table_free(ctx, &front);
    }
    table_free(ctx, &all);
    return rc;
}

/* ---- hypervolume ------------------------------------------------------ */

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
        int refined = is_refined(t, i);
        (*hash)[i] = strtoull(cell(t, i, 3), NULL, 16);
        (*ok)[i] = refined ? !flag(t, i, t->failed) : flag(t, i, t->feasible);
        if (t->pruned >= 0 && flag(t, i, (size_t)t->pruned))
            (*ok)[i] = 0;
        for (size_t k = 0; (*ok)[i] && k < m; k++) {
            size_t col = refined && t->proxy[k] >= 0 ? (size_t)t->proxy[k] : t->obj[k];
            (*pts)[i * m + k] = o->sign[k] * number(t, i, col);
        }
    }
    return HWNAS_OK;
}

/* At most this many points: every step-th evaluation, or fewer. */
enum { MAX_POINTS = 400 };

static size_t series_step(size_t n_rec, const hwnas__report_setup *st)
{
    size_t step = st->step ? st->step : 1;
    if (n_rec / step > MAX_POINTS)
        step *= (n_rec / step + MAX_POINTS - 1) / MAX_POINTS;
    return step;
}

/* The rank-0 points of a growing prefix of the archive, kept as points
 * arrive (hwnas__pareto_front_hv ranks every prefix again: quadratic per
 * point). The same points as that function's front: ok ones, the first of
 * each phenotype hash, none dominated; in its order (first objective, then
 * evaluation), so the hypervolume is computed alike. */
typedef struct growing {
    const double *pts;
    size_t m;
    size_t *front, n_front; /* indices into pts */
    uint64_t *seen;         /* open addressing: hashes of ok points so far */
    unsigned char *used;
    size_t mask;
} growing;

static int dominates(const double *a, const double *b, size_t m)
{
    int better = 0;
    for (size_t k = 0; k < m; k++) {
        if (a[k] > b[k])
            return 0;
        better |= a[k] < b[k];
    }
    return better;
}

/* 1 when hash is new (and now seen). */
static int first_of_hash(growing *g, uint64_t hash)
{
    size_t h = (size_t)((hash * 0x9e3779b97f4a7c15ull) >> 20) & g->mask;
    while (g->used[h]) {
        if (g->seen[h] == hash)
            return 0;
        h = (h + 1) & g->mask;
    }
    g->used[h] = 1;
    g->seen[h] = hash;
    return 1;
}

static void growing_add(growing *g, size_t i)
{
    const double *p = g->pts + i * g->m;
    for (size_t j = 0; j < g->n_front; j++)
        if (dominates(g->pts + g->front[j] * g->m, p, g->m))
            return;
    size_t kept = 0, at = 0;
    for (size_t j = 0; j < g->n_front; j++)
        if (!dominates(p, g->pts + g->front[j] * g->m, g->m))
            g->front[kept++] = g->front[j];
    g->n_front = kept;
    while (at < kept && g->pts[g->front[at] * g->m] <= p[0])
        at++; /* after equal first objectives: i is the latest */
    memmove(g->front + at + 1, g->front + at, (kept - at) * sizeof *g->front);
    g->front[at] = i;
    g->n_front++;
}

static int hv_series(hwnas_context *ctx, const table *t, const hwnas__report_setup *st,
                     size_t **at_out, double **hv_out, size_t *n_out)
{
    *at_out = NULL;
    *hv_out = NULL;
    *n_out = 0;
    size_t n_rec = t->csv.n_rows, m = st->obj.n;
    size_t step = series_step(n_rec, st);
    size_t slots = 16;
    while (slots < 2 * n_rec)
        slots *= 2;
    double *pts = NULL, *ref = hwnas__malloc(ctx, (m + 1) * sizeof *ref);
    double *buf = hwnas__malloc(ctx, (n_rec * m + 1) * sizeof *buf);
    unsigned char *ok = NULL;
    uint64_t *hash = NULL;
    growing g = {NULL, m, hwnas__malloc(ctx, (n_rec + 1) * sizeof(size_t)), 0,
                 hwnas__malloc(ctx, slots * sizeof(uint64_t)), hwnas__calloc(ctx, slots, 1),
                 slots - 1};
    size_t cap = n_rec / step + 2, n = 0, added = 0;
    size_t *at = hwnas__malloc(ctx, cap * sizeof *at);
    double *hv = hwnas__malloc(ctx, cap * sizeof *hv);
    int rc = ref && buf && g.front && g.seen && g.used && at && hv
                 ? told_points(ctx, t, &st->obj, &pts, &ok, &hash)
                 : HWNAS_ENOMEM;
    g.pts = pts;
    for (size_t upto = step; rc == HWNAS_OK && upto < n_rec + step; upto += step) {
        size_t u = upto < n_rec ? upto : n_rec;
        for (; added < u; added++)
            if (ok[added] && first_of_hash(&g, hash[added]))
                growing_add(&g, added);
        if (st->ref)
            memcpy(ref, st->ref, m * sizeof *ref);
        else if (!hwnas__pareto_reference(pts, ok, u, m, ref))
            continue; /* nothing feasible yet: the progress line printed nan */
        for (size_t j = 0; j < g.n_front; j++)
            memcpy(buf + j * m, pts + g.front[j] * m, m * sizeof *buf);
        at[n] = u;
        rc = hwnas_pareto_hypervolume(&hv[n], ctx, buf, g.n_front, m, ref);
        n++;
    }
    hwnas__free(ctx, pts);
    hwnas__free(ctx, ok);
    hwnas__free(ctx, hash);
    hwnas__free(ctx, ref);
    hwnas__free(ctx, buf);
    hwnas__free(ctx, g.front);
    hwnas__free(ctx, g.seen);
    hwnas__free(ctx, g.used);
    if (rc != HWNAS_OK) {
        hwnas__free(ctx, at);
        hwnas__free(ctx, hv);
        return rc;
    }
    *at_out = at;
    *hv_out = hv;
    *n_out = n;
    return HWNAS_OK;
}

int hwnas__report_hv_series(hwnas_context *ctx, const char *dir,
                            const hwnas__report_setup *setup, size_t **at, double **hv,
                            size_t *n)
{
    table t;
    int rc = table_load(ctx, dir, "archive.csv", &setup->obj, &t);
    if (rc != HWNAS_OK)
        return rc;
    rc = hv_series(ctx, &t, setup, at, hv, n);
    table_free(ctx, &t);
    return rc;
}

/* "% x uJ": the product of the objectives' units, when all are known. */
static void hv_unit(hwnas__strbuf *sb, const hwnas__report_objectives *o)
{
    for (size_t k = 0; k < o->n; k++)
        if (!hwnas__report_unit(o->names[k]))
            return;
    hwnas__strbuf_puts(sb, " (");
    for (size_t k = 0; k < o->n; k++) {
        if (k)
            hwnas__strbuf_puts(sb, " \xc3\x97 ");
        hwnas__strbuf_puts(sb, hwnas__report_unit(o->names[k]));
    }
    hwnas__strbuf_puts(sb, ")");
}

static int hv_draw(const hwnas__report_setup *st, size_t n_rec, const size_t *at,
                   const double *hv, size_t n, hwnas__strbuf *sb)
{
    enum { W = 520, H = 420 };
    svg_open(sb, st, W, H, "hypervolume");
    title_line(sb, 10, "Hypervolume", st);
    frame f = {80, TOP + 30, W - 80 - 20, H - TOP - 30 - 80};
    axis ax, ay;
    axis_make(&ax, 0, (double)(n_rec ? n_rec : 1), 0);
    axis_make(&ay, 0, n ? hv[n - 1] : 1, 0);
    svg_axes(sb, &f, &ax, &ay, "evaluations", "hypervolume");
    /* What is measured, against what: the y label cannot say it all. */
    hwnas__strbuf sub;
    hwnas__strbuf_init(&sub, sb->ctx);
    hwnas__strbuf_puts(&sub, "of the front so far, by the figures the strategy was told");
    hv_unit(&sub, &st->obj);
    if (!sub.failed)
        svg_text(sb, 10, TOP + 2, 11, "start", " fill='#333' class='subtitle'", sub.data);
    hwnas__strbuf_release(&sub);
    svg_text(sb, 10, TOP + 16, 11, "start", " fill='#333' class='subtitle'",
             st->ref ? "reference point: the hv_reference option"
                     : "reference point: the worst feasible so far + 10% of the range, as in "
                       "the progress line");
    hwnas__strbuf_puts(sb, "<polyline class='hv' fill='none' stroke='#26c' stroke-width='2' "
                           "points='");
    for (size_t i = 0; i < n; i++)
        hwnas__strbuf_printf(sb, "%.1f,%.1f ", px(&f, &ax, (double)at[i]),
                             py(&f, &ay, hv[i]));
    hwnas__strbuf_puts(sb, "'/>\n");
    for (size_t i = 0; n <= 60 && i < n; i++)
        hwnas__strbuf_printf(sb, "<circle cx='%.1f' cy='%.1f' r='2' fill='#26c'><title>%zu "
                                 "evaluations: %.6g</title></circle>\n",
                             px(&f, &ax, (double)at[i]), py(&f, &ay, hv[i]), at[i], hv[i]);
    legend l = {{NULL}, {NULL}, 0};
    char every[96];
    size_t step = series_step(n_rec, st);
    if (step == 1)
        snprintf(every, sizeof every, "after each evaluation (a progress line: each batch)");
    else
        snprintf(every, sizeof every, "after every %zu evaluations", step);
    legend_add(&l, MARK_LINE, every);
    svg_legend(sb, &l, f.x - 40, f.y + f.h + 58);
    hwnas__strbuf_puts(sb, "</svg>\n");
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

int hwnas__report_hv_svg(hwnas_context *ctx, const char *dir, const hwnas__report_setup *setup,
                         hwnas__strbuf *out, int *drawn)
{
    *drawn = 0;
    table t;
    int rc = table_load(ctx, dir, "archive.csv", &setup->obj, &t);
    if (rc != HWNAS_OK)
        return rc;
    size_t *at, n;
    double *hv;
    rc = hv_series(ctx, &t, setup, &at, &hv, &n);
    if (rc == HWNAS_OK && n) {
        rc = hv_draw(setup, t.csv.n_rows, at, hv, n, out);
        *drawn = 1;
    }
    hwnas__free(ctx, at); /* NULL when hv_series failed */
    hwnas__free(ctx, hv);
    table_free(ctx, &t);
    return rc;
}

/* ---- files ----------------------------------------------------------- */

static int write_svg(hwnas_context *ctx, const char *dir, const char *name, hwnas__strbuf *sb)
{
    char path[4096];
    int rc = (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path
                 ? hwnas__error(HWNAS_EINVAL, "report: path '%s/%s' is too long", dir, name)
             : sb->failed ? HWNAS_ENOMEM
                          : hwnas__file_write_atomic(ctx, path, sb->data ? sb->data : "",
                                                     sb->len, 0);
    return rc;
}

int hwnas__report_plots(hwnas_context *ctx, const char *dir, const hwnas__report_setup *setup,
                        int hv)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    int rc = hwnas__report_front_svg(ctx, dir, setup, &sb);
    if (rc == HWNAS_OK)
        rc = write_svg(ctx, dir, "front.svg", &sb);
    hwnas__strbuf_release(&sb);
    int drawn = 0;
    if (rc == HWNAS_OK && hv)
        rc = hwnas__report_hv_svg(ctx, dir, setup, &sb, &drawn);
    if (rc == HWNAS_OK && drawn)
        rc = write_svg(ctx, dir, "hypervolume.svg", &sb);
    hwnas__strbuf_release(&sb);
    return rc;
}

void hwnas__report_title(hwnas_context *ctx, const char *dir, const char *space,
                         const char *strategy, size_t evaluations, hwnas__strbuf *sb)
{
    /* The directory's last component names the search. */
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    hwnas__strbuf_append(sb, dir + start, len - start);
    char path[4096];
    hwnas__config c;
    if (space && strategy)
        hwnas__strbuf_printf(sb, ": space %s, strategy %s", space, strategy);
    else if ((size_t)snprintf(path, sizeof path, "%s/search.conf", dir) < sizeof path &&
        hwnas__config_read(ctx, path, &c) == HWNAS_OK) {
        hwnas__strbuf_printf(sb, ": space %s, strategy %s", c.space, c.strategy);
        hwnas__config_free(ctx, &c);
    } else
        hwnas_error_clear(); /* no search.conf: the title does without */
    hwnas__strbuf_printf(sb, ", %zu evaluations", evaluations);
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
    hwnas__report_setup st = {{2, names, sign}, NULL, NULL, 1, 0};
    table all, front;
    int rc = table_load(ctx, dir, "archive.csv", &st.obj, &all);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf title, sb;
    hwnas__strbuf_init(&title, ctx);
    hwnas__strbuf_init(&sb, ctx);
    hwnas__report_title(ctx, dir, NULL, NULL, all.csv.n_rows, &title);
    st.title = title.failed ? NULL : title.data;
    rc = table_load(ctx, dir, "front.csv", &st.obj, &front);
    if (rc == HWNAS_OK) {
        svg_open(&sb, &st, PANEL_W, PANEL_H, "front");
        title_line(&sb, 10, "Pareto front", &st);
        front_panel(&sb, &all, &front, 0, 1, 0, 0);
        hwnas__strbuf_puts(&sb, "</svg>\n");
        rc = write_svg(ctx, dir, "front.svg", &sb);
        table_free(ctx, &front);
    }
    hwnas__strbuf_release(&sb);
    hwnas__strbuf_release(&title);
    table_free(ctx, &all);
    return rc;
}

/* ---- a differentiable search's directory (hwnas_dsearch_run) ----------- */

/* Operations' colours, in their order of first appearance in alpha.csv
 * (NAS-Bench-201's: none, skip_connect, nor_conv_1x1, nor_conv_3x3,
 * avg_pool_3x3). */
static const char *const OP_COLOUR[] = {"#999", "#2a2", "#26c", "#c22", "#e90", "#939", "#0aa",
                                        "#753"};
enum { DS_MAX_OPS = 8, DS_MAX_EDGES = 64, DS_PANEL_W = 300, DS_PANEL_H = 230, DS_COLS = 3 };

/* Column name of csv (loaded from path), or an error naming both. */
static int need_column(size_t *out, const hwnas__csv *c, const char *path, const char *name)
{
    int64_t k = hwnas__csv_column(c, name);
    if (k < 0)
        return hwnas__error(HWNAS_EFORMAT, "%s:1: no column '%s'", path, name);
    *out = (size_t)k;
    return HWNAS_OK;
}

/* The number in row r, column k of c (path's line r + 2), or an error. */
static int need_number(double *out, const hwnas__csv *c, const char *path, size_t r, size_t k)
{
    const char *text = c->cells[r * c->n_cols + k];
    char *end;
    *out = strtod(text, &end);
    if (!*text || *end || isnan(*out))
        return hwnas__error(HWNAS_EFORMAT, "%s:%zu: column '%s': '%s' is not a number", path,
                            r + 2, c->header[k], text);
    return HWNAS_OK;
}

/* alpha.svg of one run from its alpha.csv (epoch, edge, op, alpha, prob). */
static int alpha_plot(hwnas_context *ctx, const char *run, const char *title)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/alpha.csv", run) >= sizeof path)
        return hwnas__error(HWNAS_EINVAL, "report: path '%s/alpha.csv' is too long", run);
    hwnas__csv c;
    int rc = hwnas__csv_load(ctx, path, &c);
    if (rc != HWNAS_OK)
        return rc;
    size_t ce = 0, cedge = 0, cop = 0, cp = 0;
    const char *ops[DS_MAX_OPS];
    size_t n_ops = 0, n_edges = 0;
    double emax = 1;
    rc = need_column(&ce, &c, path, "epoch");
    if (rc == HWNAS_OK)
        rc = need_column(&cedge, &c, path, "edge");
    if (rc == HWNAS_OK)
        rc = need_column(&cop, &c, path, "op");
    if (rc == HWNAS_OK)
        rc = need_column(&cp, &c, path, "prob");
    for (size_t r = 0; r < c.n_rows && rc == HWNAS_OK; r++) {
        double e, ed, p;
        rc = need_number(&e, &c, path, r, ce);
        if (rc == HWNAS_OK)
            rc = need_number(&ed, &c, path, r, cedge);
        if (rc == HWNAS_OK)
            rc = need_number(&p, &c, path, r, cp);
        if (rc != HWNAS_OK)
            break;
        if (ed < 0 || ed >= DS_MAX_EDGES || ed != floor(ed) || e < 0 || p < 0 || p > 1) {
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: edge %g, epoch %g or probability %g out "
                                             "of range", path, r + 2, ed, e, p);
            break;
        }
        n_edges = (size_t)ed + 1 > n_edges ? (size_t)ed + 1 : n_edges;
        emax = fmax(emax, e);
        const char *op = c.cells[r * c.n_cols + cop];
        size_t k = 0;
        while (k < n_ops && strcmp(ops[k], op) != 0)
            k++;
        if (k == n_ops) {
            if (n_ops == DS_MAX_OPS) {
                rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: more than %d operations", path, r + 2,
                                  DS_MAX_OPS);
                break;
            }
            ops[n_ops++] = op;
        }
    }
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    if (rc == HWNAS_OK) {
        size_t rows = (n_edges + DS_COLS - 1) / DS_COLS;
        double w = DS_COLS * DS_PANEL_W, h = TOP + (double)rows * DS_PANEL_H + 40;
        hwnas__report_setup st = {{0, NULL, NULL}, title, NULL, 0, 0};
        svg_open(&sb, &st, w, h, "alpha");
        svg_title(&sb, 10, "operation probabilities over the epochs, per edge", title);
        axis ax, ay;
        axis_make(&ax, 0, emax, 0);
        axis_make(&ay, 0, 1, 0);
        for (size_t ed = 0; ed < n_edges; ed++) {
            frame f = {(double)(ed % DS_COLS) * DS_PANEL_W + 60,
                       TOP + (double)(ed / DS_COLS) * DS_PANEL_H + 16, DS_PANEL_W - 80,
                       DS_PANEL_H - 76};
            svg_axes(&sb, &f, &ax, &ay, "epoch", "probability");
            char label[32];
            snprintf(label, sizeof label, "edge %zu", ed);
            svg_text(&sb, f.x + 4, f.y - 4, 11, "start", " class='edge'", label);
            for (size_t k = 0; k < n_ops; k++) {
                /* the run's start (epoch 0: uniform) then each epoch's row */
                hwnas__strbuf_printf(&sb, "<polyline class='op' fill='none' stroke='%s' "
                                          "stroke-width='1.6' points='%.1f,%.1f ",
                                     OP_COLOUR[k], px(&f, &ax, 0),
                                     py(&f, &ay, 1.0 / (double)n_ops));
                for (size_t r = 0; r < c.n_rows; r++) {
                    char *const *row = c.cells + r * c.n_cols;
                    if (strtod(row[cedge], NULL) != (double)ed || strcmp(row[cop], ops[k]) != 0)
                        continue;
                    hwnas__strbuf_printf(&sb, "%.1f,%.1f ", px(&f, &ax, strtod(row[ce], NULL)),
                                         py(&f, &ay, strtod(row[cp], NULL)));
                }
                hwnas__strbuf_puts(&sb, "'/>\n");
            }
        }
        legend l = {{NULL}, {NULL}, 0};
        char marks[DS_MAX_OPS][96];
        for (size_t k = 0; k < n_ops && k < 6; k++) {
            snprintf(marks[k], sizeof marks[k],
                     "<path d='M-6,0L6,0' stroke='%s' stroke-width='2.5'/>", OP_COLOUR[k]);
            legend_add(&l, marks[k], ops[k]);
        }
        svg_legend(&sb, &l, 20, h - 14);
        hwnas__strbuf_puts(&sb, "</svg>\n");
        rc = write_svg(ctx, run, "alpha.svg", &sb);
    }
    hwnas__strbuf_release(&sb);
    hwnas__csv_free(ctx, &c);
    return rc;
}

/* front.svg from dir/front.csv (lambda, arch, accuracy, retrain_accuracy,
 * macs, params, cost, pareto, net). */
static int dsearch_front_plot(hwnas_context *ctx, const char *dir, const char *title)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/front.csv", dir) >= sizeof path)
        return hwnas__error(HWNAS_EINVAL, "report: path '%s/front.csv' is too long", dir);
    hwnas__csv c;
    int rc = hwnas__csv_load(ctx, path, &c);
    if (rc != HWNAS_OK)
        return rc;
    size_t ca = 0, cr = 0, cc = 0, cpar = 0, cl = 0;
    rc = need_column(&ca, &c, path, "accuracy");
    if (rc == HWNAS_OK)
        rc = need_column(&cr, &c, path, "retrain_accuracy");
    if (rc == HWNAS_OK)
        rc = need_column(&cc, &c, path, "cost");
    if (rc == HWNAS_OK)
        rc = need_column(&cpar, &c, path, "pareto");
    if (rc == HWNAS_OK)
        rc = need_column(&cl, &c, path, "lambda");
    /* retrained accuracy when every run has one */
    int retrained = c.n_rows > 0;
    for (size_t r = 0; r < c.n_rows && rc == HWNAS_OK; r++)
        retrained &= c.cells[r * c.n_cols + cr][0] != '\0';
    size_t cy = retrained ? cr : ca, n = c.n_rows;
    double *x = rc == HWNAS_OK ? hwnas__malloc(ctx, (2 * n + 1) * sizeof *x) : NULL; /* x, y */
    if (rc == HWNAS_OK && !x)
        rc = HWNAS_ENOMEM;
    double *y = x ? x + n : NULL, xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY,
           yhi = -INFINITY;
    for (size_t r = 0; r < n && rc == HWNAS_OK; r++) {
        rc = need_number(&x[r], &c, path, r, cc);
        if (rc == HWNAS_OK)
            rc = need_number(&y[r], &c, path, r, cy);
        xlo = fmin(xlo, x[r]), xhi = fmax(xhi, x[r]);
        ylo = fmin(ylo, y[r]), yhi = fmax(yhi, y[r]);
    }
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    if (rc == HWNAS_OK) {
        hwnas__report_setup st = {{0, NULL, NULL}, title, NULL, 0, 0};
        svg_open(&sb, &st, PANEL_W, PANEL_H, "front");
        svg_title(&sb, 10, "derived nets: accuracy over hardware cost", title);
        frame f = {70, TOP, PANEL_W - 70 - 20, PANEL_H - TOP - 80};
        axis ax, ay;
        axis_make(&ax, xlo, xhi, 1);
        axis_make(&ay, ylo, yhi, 0);
        svg_axes(&sb, &f, &ax, &ay, "cost", retrained ? "retrain_accuracy" : "accuracy");
        /* the front joined in order of cost */
        hwnas__strbuf_puts(&sb, "<polyline fill='none' stroke='#c22' stroke-width='1.5' "
                                "points='");
        double last = -INFINITY;
        for (;;) {
            /* the next front member by cost (n is small: lambdas) */
            size_t best = n;
            for (size_t r = 0; r < n; r++)
                if (strcmp(c.cells[r * c.n_cols + cpar], "1") == 0 && x[r] > last &&
                    (best == n || x[r] < x[best]))
                    best = r;
            if (best == n)
                break;
            hwnas__strbuf_printf(&sb, "%.1f,%.1f ", px(&f, &ax, x[best]), py(&f, &ay, y[best]));
            last = x[best];
        }
        hwnas__strbuf_puts(&sb, "'/>\n");
        int seen_other = 0, seen_front = 0;
        for (size_t r = 0; r < n; r++) {
            int front = strcmp(c.cells[r * c.n_cols + cpar], "1") == 0;
            seen_front |= front, seen_other |= !front;
            hwnas__strbuf_printf(&sb, "<g class='%s' transform='translate(%.1f %.1f)'>%s"
                                      "<title>lambda ",
                                 front ? "member" : "candidate", px(&f, &ax, x[r]),
                                 py(&f, &ay, y[r]), front ? MARK_FRONT : MARK_PROXY);
            hwnas__report_escape(&sb, c.cells[r * c.n_cols + cl]);
            hwnas__strbuf_puts(&sb, "</title></g>\n");
        }
        legend l = {{NULL}, {NULL}, 0};
        if (seen_other)
            legend_add(&l, MARK_PROXY, "derived net");
        if (seen_front)
            legend_add(&l, MARK_FRONT, "accuracy-cost front");
        svg_legend(&sb, &l, f.x - 40, f.y + f.h + 58);
        hwnas__strbuf_puts(&sb, "</svg>\n");
        rc = write_svg(ctx, dir, "front.svg", &sb);
    }
    hwnas__strbuf_release(&sb);
    hwnas__free(ctx, x);
    hwnas__csv_free(ctx, &c);
    return rc;
}

int hwnas_dsearch_write_plots(hwnas_context *ctx, const char *dir)
{
    if (!ctx || !dir)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dsearch_write_plots: ctx and dir are required");
    int rc = dsearch_front_plot(ctx, dir, dir);
    for (unsigned i = 0; rc == HWNAS_OK; i++) {
        char run[4096], alpha[4200];
        struct stat st;
        if ((size_t)snprintf(run, sizeof run, "%s/lambda-%u", dir, i) >= sizeof run)
            return hwnas__error(HWNAS_EINVAL, "report: path '%s' is too long", dir);
        snprintf(alpha, sizeof alpha, "%s/alpha.csv", run);
        if (stat(alpha, &st) != 0)
            break;
        rc = alpha_plot(ctx, run, run);
    }
    return rc;
}
