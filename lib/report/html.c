/*
 * hwnas_search_write_report (search.h): one self-contained HTML page of a
 * search - its front, the plots, each member's layers, multipliers and
 * energy/latency breakdown, and the search's settings. Nothing in it is
 * fetched: styles and SVG are inline, and a Content-Security-Policy
 * forbids every other source. Every text that comes from a file or an
 * option (names, genotypes, paths) is escaped.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hwnas/accel.h"
#include "hwnas/options.h"
#include "report_internal.h"
#include "search/search_internal.h"

static const char STYLE[] =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:80em}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right;font-size:.9em}"
    "th{background:#f2f2f2}td.text,th.text{text-align:left}"
    "code{font-size:.85em;word-break:break-all}"
    "svg{display:block;margin:.5em 0;max-width:100%;height:auto}"
    "section.member{border-top:1px solid #ddd;margin-top:1em}"
    ".note{color:#555;font-size:.9em}div.wide{overflow-x:auto}";

static void esc(hwnas__strbuf *sb, const char *t) { hwnas__report_escape(sb, t ? t : ""); }

static void th(hwnas__strbuf *sb, const char *text, int left)
{
    hwnas__strbuf_puts(sb, left ? "<th class='text'>" : "<th>");
    esc(sb, text);
    hwnas__strbuf_puts(sb, "</th>");
}

static void td_num(hwnas__strbuf *sb, double v)
{
    if (isnan(v))
        hwnas__strbuf_puts(sb, "<td>&#8211;</td>");
    else
        hwnas__strbuf_printf(sb, "<td>%.6g</td>", v);
}

static void td_text(hwnas__strbuf *sb, const char *t, int code)
{
    hwnas__strbuf_puts(sb, code ? "<td class='text'><code>" : "<td class='text'>");
    esc(sb, t);
    hwnas__strbuf_puts(sb, code ? "</code></td>" : "</td>");
}

/* ---- the front ------------------------------------------------------- */

static int is_objective(const hwnas_search *s, size_t m)
{
    for (size_t k = 0; k < s->n_obj; k++)
        if (s->obj[k].metric == m)
            return 1;
    return 0;
}

static void front_table(hwnas__strbuf *sb, const hwnas_search *s, const size_t *front, size_t nf)
{
    hwnas__strbuf_puts(sb, "<div class='wide'><table id='front'>\n<thead><tr><th>#</th><th>evaluation</th>");
    for (size_t k = 0; k < s->n_obj; k++) {
        hwnas__strbuf_puts(sb, "<th class='objective'>");
        esc(sb, s->obj[k].name);
        hwnas__strbuf_puts(sb, s->obj[k].sign < 0 ? " (max)</th>" : " (min)</th>");
    }
    for (size_t m = 0; m < s->n_metrics; m++)
        if (!is_objective(s, m))
            th(sb, s->metric_names[m], 0);
    if (s->n_refined)
        th(sb, "refined", 0);
    hwnas__strbuf_puts(sb, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < nf; i++) {
        const hwnas__record *r = &s->rec[front[i]];
        hwnas__strbuf_printf(sb, "<tr class='member'><td><a href='#member-%zu'>%zu</a></td>"
                                 "<td>%zu</td>",
                             i, i, front[i]);
        for (size_t k = 0; k < s->n_obj; k++)
            td_num(sb, r->metrics[s->obj[k].metric]);
        for (size_t m = 0; m < s->n_metrics; m++)
            if (!is_objective(s, m))
                td_num(sb, r->metrics[m]);
        if (s->n_refined)
            hwnas__strbuf_puts(sb, r->refined == 1 ? "<td>yes</td>" : "<td>no</td>");
        hwnas__strbuf_puts(sb, "</tr>\n");
    }
    hwnas__strbuf_puts(sb, "</tbody></table></div>\n<p class='note'>Each member's genotype, "
                           "layers and breakdown follow its number's link.</p>\n");
}

/* ---- a member: layers, multipliers, energy and latency ----------------- */

/* The accelerator the search priced energy on (estimator:accelerator):
 * its description when the space has no hardware (*own: the caller
 * frees it), and the options it ran with, for hwnas_accel_run. */
typedef struct pricing {
    const hwnas_estimator *est; /* estimator:accelerator, NULL when none */
    hwnas_accel *own;           /* its description (not under co-design) */
    char *run_options;          /* hwnas_free */
} pricing;

static int pricing_init(const hwnas_search *s, pricing *p)
{
    memset(p, 0, sizeof *p);
    for (size_t e = 0; e < s->n_est && !p->est; e++)
        if (strcmp(hwnas_estimator_kind(s->est[e]), "estimator:accelerator") == 0)
            p->est = s->est[e];
    if (!p->est)
        return HWNAS_OK;
    const hwnas_options *eo = hwnas_estimator_options(p->est);
    hwnas_options *ao = NULL;
    int rc = hwnas_options_new(&ao, s->ctx, "accel");
    /* The estimator's rows shared with the model (batch, fuse, the
     * mapper's objective, budget and seed) are hwnas_accel_run's. */
    for (size_t i = 0; rc == HWNAS_OK && i < hwnas_options_count(ao); i++) {
        const char *v;
        if (hwnas_options_get_string(eo, hwnas_options_name(ao, i), &v) == HWNAS_OK)
            rc = hwnas_options_set(ao, hwnas_options_name(ao, i), v);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_options_format(ao, 1, &p->run_options);
    hwnas_options_free(ao);
    const char *hw = "", *dir = "";
    hwnas_options_get_string(eo, "hardware", &hw);
    hwnas_options_get_string(eo, "axmul_dir", &dir);
    if (rc == HWNAS_OK && !hwnas_space_has_accel(s->space))
        rc = *hw ? hwnas_accel_load(&p->own, s->ctx, hw, dir)
                 : hwnas__report_default_accel(&p->own, s->ctx, dir);
    return rc;
}

static void pricing_release(pricing *p)
{
    hwnas_accel_free(p->own);
    hwnas_free(p->run_options);
}

static void shape_text(hwnas__strbuf *sb, const hwnas_net *net, size_t i)
{
    int64_t d[4];
    int rank = hwnas_net_node_shape(net, i, d);
    for (int k = 1; k < rank; k++) /* the batch left out */
        hwnas__strbuf_printf(sb, k > 1 ? "&#215;%lld" : "%lld", (long long)d[k]);
}

static void layers_table(hwnas__strbuf *sb, const hwnas_net *net, const hwnas_accel_result *res)
{
    size_t n = hwnas_net_node_count(net);
    hwnas__strbuf_puts(sb, "<table class='layers'>\n<thead><tr><th class='text'>node</th>"
                           "<th class='text'>op</th><th>output (C&#215;H&#215;W)</th>"
                           "<th class='text'>multiplier</th><th>bits</th><th>MACs</th>"
                           "<th>parameters</th>");
    if (res)
        hwnas__strbuf_puts(sb, "<th>energy (&#181;J)</th><th>latency (ms)</th>"
                               "<th class='text'>mapping</th>");
    hwnas__strbuf_puts(sb, "</tr></thead>\n<tbody>\n");
    size_t n_layers = res ? hwnas_accel_result_layer_count(res) : 0;
    for (size_t i = 0; i < n; i++) {
        hwnas__strbuf_puts(sb, "<tr class='layer'>");
        td_text(sb, hwnas_net_node_name(net, i), 0);
        td_text(sb, hwnas_net_node_op(net, i), 0);
        hwnas__strbuf_puts(sb, "<td>");
        shape_text(sb, net, i);
        hwnas__strbuf_puts(sb, "</td>");
        const char *mul = hwnas_net_node_multiplier(net, i);
        td_text(sb, mul ? mul : "", 1);
        if (mul)
            hwnas__strbuf_printf(sb, "<td>%d</td>", (int)hwnas_net_node_bits(net, i));
        else
            hwnas__strbuf_puts(sb, "<td></td>");
        hwnas__strbuf_printf(sb, "<td>%llu</td><td>%llu</td>",
                             (unsigned long long)hwnas_net_node_macs(net, i),
                             (unsigned long long)hwnas_net_node_params(net, i));
        if (res) {
            size_t l = 0;
            while (l < n_layers && hwnas_accel_result_layer_node(res, l) != (int64_t)i)
                l++;
            double e = NAN, t = NAN;
            if (l < n_layers) {
                hwnas_accel_result_metric(&e, res, (int64_t)l, "energy_uj");
                hwnas_accel_result_metric(&t, res, (int64_t)l, "latency_ms");
            }
            td_num(sb, e);
            td_num(sb, t);
            td_text(sb, l < n_layers ? hwnas_accel_result_layer_mapping(res, l) : "", 1);
        }
        hwnas__strbuf_puts(sb, "</tr>\n");
    }
    hwnas__strbuf_puts(sb, "</tbody></table>\n");
}

static void levels_table(hwnas__strbuf *sb, const hwnas_accel_result *res)
{
    double total = NAN, mac = NAN, lat = NAN, cycles = NAN;
    hwnas_accel_result_metric(&total, res, -1, "energy_uj");
    hwnas_accel_result_metric(&mac, res, -1, "energy_mac_uj");
    hwnas_accel_result_metric(&lat, res, -1, "latency_ms");
    hwnas_accel_result_metric(&cycles, res, -1, "cycles");
    hwnas__strbuf_printf(sb, "<p>On the accelerator model: <b>%.6g &#181;J</b>, <b>%.6g "
                             "ms</b> (%.0f cycles). Energy by level:</p>\n",
                         total, lat, cycles);
    hwnas__strbuf_puts(sb, "<table class='levels'>\n<thead><tr><th class='text'>level</th>"
                           "<th>energy (&#181;J)</th><th>share</th></tr></thead>\n<tbody>\n");
    for (size_t lv = 0; lv < hwnas_accel_result_level_count(res); lv++) {
        double e = NAN;
        hwnas_accel_result_level(&e, res, -1, lv, NULL, "energy");
        hwnas__strbuf_puts(sb, "<tr class='level'>");
        td_text(sb, hwnas_accel_result_level_name(res, lv), 0);
        td_num(sb, e);
        hwnas__strbuf_printf(sb, "<td>%.1f%%</td></tr>\n", total > 0 ? 100 * e / total : 0.0);
    }
    hwnas__strbuf_printf(sb, "<tr class='level'><td class='text'>MACs</td><td>%.6g</td>"
                             "<td>%.1f%%</td></tr>\n</tbody></table>\n",
                         mac, total > 0 ? 100 * mac / total : 0.0);
}

static int member_section(hwnas__strbuf *sb, const hwnas_search *s, const pricing *p, size_t k,
                          size_t index)
{
    const hwnas__record *r = &s->rec[index];
    hwnas__strbuf_printf(sb, "<section class='member' id='member-%zu'>\n<h3>Member %zu "
                             "(evaluation %zu)</h3>\n<p>genotype <code>",
                         k, k, index);
    esc(sb, r->key);
    hwnas__strbuf_puts(sb, "</code></p>\n");
    hwnas__candidate c;
    hwnas__candidate_init(&c);
    int rc = hwnas__candidate_decode(s, r, 1, &c);
    if (rc != HWNAS_OK) { /* the front's networks decoded before: say so, go on */
        hwnas__strbuf_puts(sb, "<p class='note'>not decoded: ");
        esc(sb, hwnas_error_last());
        hwnas__strbuf_puts(sb, "</p>\n</section>\n");
        hwnas__candidate_release(&c);
        return rc == HWNAS_ENOMEM ? rc : HWNAS_OK;
    }
    hwnas_accel_result *res = NULL;
    const hwnas_accel *a = c.accel ? c.accel : p->own;
    if (p->est && a) {
        rc = hwnas_accel_run(&res, a, c.net, p->run_options);
        if (rc == HWNAS_ENOMEM) {
            hwnas__candidate_release(&c);
            return rc;
        }
        if (rc != HWNAS_OK) {
            hwnas__strbuf_puts(sb, "<p class='note'>accelerator model: ");
            esc(sb, hwnas_error_last());
            hwnas__strbuf_puts(sb, "</p>\n");
        }
    }
    if (a && res) {
        hwnas__strbuf_puts(sb, "<p>hardware: ");
        esc(sb, hwnas_accel_name(a));
        hwnas__strbuf_printf(sb, " (%lld MACs at %.6g MHz, %.4g mm&#178;)</p>\n",
                             (long long)hwnas_accel_mac_count(a), hwnas_accel_clock_mhz(a),
                             hwnas_accel_area_mm2(a));
    }
    hwnas__strbuf_printf(sb, "<p>%llu parameters, %llu MACs</p>\n",
                         (unsigned long long)hwnas_net_params(c.net),
                         (unsigned long long)hwnas_net_macs(c.net));
    layers_table(sb, c.net, res);
    if (res)
        levels_table(sb, res);
    hwnas__strbuf_puts(sb, "</section>\n");
    hwnas_accel_result_free(res);
    hwnas__candidate_release(&c);
    return HWNAS_OK;
}

/* ---- settings ---------------------------------------------------------- */

static void setting(hwnas__strbuf *sb, const char *key, const char *value)
{
    hwnas__strbuf_puts(sb, "<tr class='setting'>");
    td_text(sb, key, 0);
    td_text(sb, value && *value ? value : "(defaults)", 1);
    hwnas__strbuf_puts(sb, "</tr>\n");
}

static int settings_table(hwnas__strbuf *sb, const hwnas_search *s)
{
    char *opts = NULL;
    int rc = hwnas_options_format(s->options, 1, &opts);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf_puts(sb, "<table id='settings'>\n<tbody>\n");
    setting(sb, "space", s->space_kind);
    setting(sb, "space options", s->space_options);
    setting(sb, "strategy", s->strategy_kind);
    setting(sb, "strategy options", s->strategy_options);
    setting(sb, "search options (changed)", opts);
    hwnas_free(opts);
    for (size_t e = 0; rc == HWNAS_OK && e < s->n_est; e++) {
        const hwnas_options *eo = hwnas_estimator_options(s->est[e]);
        char *t = NULL;
        if (eo)
            rc = hwnas_options_format(eo, 1, &t);
        setting(sb, hwnas_estimator_kind(s->est[e]), t);
        hwnas_free(t);
    }
    if (rc == HWNAS_OK && s->refine_est) {
        const hwnas_options *eo = hwnas_estimator_options(s->refine_est);
        char *t = NULL;
        if (eo)
            rc = hwnas_options_format(eo, 1, &t);
        hwnas__strbuf_puts(sb, "<tr class='setting'>");
        td_text(sb, "refine estimator", 0);
        hwnas__strbuf_puts(sb, "<td class='text'><code>");
        esc(sb, hwnas_estimator_kind(s->refine_est));
        hwnas__strbuf_puts(sb, ": ");
        esc(sb, t);
        hwnas__strbuf_puts(sb, "</code></td></tr>\n");
        hwnas_free(t);
    }
    hwnas__strbuf_puts(sb, "</tbody></table>\n");
    return rc;
}

/* ---- the page ---------------------------------------------------------- */

static int page(const hwnas_search *s, const char *dir, hwnas__strbuf *sb)
{
    hwnas__report_setup st;
    hwnas__strbuf title;
    hwnas__strbuf_init(&title, s->ctx);
    int rc = hwnas__report_setup_of(s, dir, &st, &title);
    size_t *front = NULL, nf = 0;
    if (rc == HWNAS_OK)
        rc = hwnas__search_front_all(s, &front, &nf);
    pricing p;
    memset(&p, 0, sizeof p);
    if (rc == HWNAS_OK)
        rc = pricing_init(s, &p);
    if (rc != HWNAS_OK)
        goto done;
    hwnas__strbuf_printf(sb, "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>"
                             "\n<meta http-equiv='Content-Security-Policy' content=\"default-src "
                             "'none'; style-src 'unsafe-inline'\">\n<title>hwnas report: ");
    esc(sb, title.data);
    hwnas__strbuf_printf(sb, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Search "
                             "report</h1>\n<p id='summary'>",
                         STYLE);
    esc(sb, title.data);
    size_t failed = 0;
    for (size_t i = 0; i < s->n_rec; i++)
        failed += s->rec[i].failed != 0;
    hwnas__strbuf_printf(sb, ". %zu candidates evaluated, %zu failed; the front holds %zu",
                         s->n_rec, failed, nf);
    if (s->n_refined)
        hwnas__strbuf_printf(sb, " of the %zu refined candidates, by their refined figures",
                             s->n_refined);
    double hv;
    if (hwnas_search_hypervolume(s, &hv) == HWNAS_OK)
        hwnas__strbuf_printf(sb, "; hypervolume %.6g (the figures the strategy was told)", hv);
    else
        hwnas_error_clear();
    hwnas__strbuf_puts(sb, ".</p>\n<h2>Pareto front</h2>\n");
    front_table(sb, s, front, nf);
    hwnas__strbuf_puts(sb, "<h2>Plots</h2>\n<div id='plots'>\n");
    st.inline_svg = 1;
    rc = hwnas__report_front_svg(s->ctx, dir, &st, sb);
    int drawn = 0;
    if (rc == HWNAS_OK)
        rc = hwnas__report_hv_svg(s->ctx, dir, &st, sb, &drawn);
    if (rc == HWNAS_OK && !drawn)
        hwnas__strbuf_puts(sb, "<p class='note'>No hypervolume: no feasible candidate.</p>\n");
    hwnas__strbuf_puts(sb, "</div>\n<h2>Front members</h2>\n");
    if (p.est)
        hwnas__strbuf_puts(sb, "<p class='note'>Energy and latency per layer: "
                               "hwnas_accel_run with the options of the search's "
                               "estimator:accelerator.</p>\n");
    for (size_t k = 0; rc == HWNAS_OK && k < nf; k++)
        rc = member_section(sb, s, &p, k, front[k]);
    if (rc == HWNAS_OK) {
        hwnas__strbuf_puts(sb, "<h2>Settings</h2>\n");
        rc = settings_table(sb, s);
    }
    hwnas__strbuf_puts(sb, "</body>\n</html>\n");
    if (rc == HWNAS_OK && sb->failed)
        rc = HWNAS_ENOMEM;
done:
    pricing_release(&p);
    hwnas__free(s->ctx, front);
    hwnas__report_setup_release(s, &st);
    hwnas__strbuf_release(&title);
    return rc;
}

int hwnas_search_write_report(const hwnas_search *s, const char *dir, const char *path)
{
    if (!s)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_write_report: search is NULL");
    if (!dir || !*dir)
        dir = hwnas__search_out(s);
    if (!*dir)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_write_report: no directory (set the "
                                          "out option or pass one)");
    if (!s->started)
        return hwnas__error(HWNAS_ESTATE, "search: not started, no report");
    char def[4096];
    if (!path || !*path) {
        if (hwnas__path_in(dir, "report.html", def, sizeof def) != HWNAS_OK)
            return HWNAS_EINVAL;
        path = def;
    }
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    int rc = page(s, dir, &sb);
    if (rc == HWNAS_OK)
        rc = hwnas__file_write_atomic(s->ctx, path, sb.data, sb.len, 0);
    hwnas__strbuf_release(&sb);
    return rc;
}
