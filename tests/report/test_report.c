/* The report: round ticks (1-2-5, decades) and their labels, escaping,
 * the hypervolume plot against the progress line, front plots that tell
 * proxy-only and refined candidates apart, and the HTML page (content,
 * escaping, no URL, errors, out-of-memory). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_files.h"
#include "test_refine_table.h"
#include "test_tmpdir.h"

#include "hwnas/dsearch.h"
#include "report/report_internal.h"
#include "search/search_internal.h"
#include "test_alloc.h"

static int setup(void **state)
{
    (void)state;
    return test_tmpdir_make("hwnas-report");
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove();
}

/* ---- ticks ------------------------------------------------------------- */

static void expect_ticks(double lo, double hi, int log_axis, const double *want, size_t n,
                         double want_lo, double want_hi)
{
    double t[32], step;
    size_t got = hwnas__report_ticks(&lo, &hi, log_axis, 5, t, 32, &step);
    if (got != n)
        fail_msg("%zu ticks, expected %zu (first %g)", got, n, got ? t[0] : NAN);
    for (size_t i = 0; i < n; i++)
        if (fabs(t[i] - want[i]) > 1e-12 * fmax(1, fabs(want[i])))
            fail_msg("tick %zu: %.17g, expected %.17g", i, t[i], want[i]);
    assert_true(fabs(lo - want_lo) <= 1e-12 * fmax(1, fabs(want_lo)));
    assert_true(fabs(hi - want_hi) <= 1e-12 * fmax(1, fabs(want_hi)));
}

static void test_ticks_linear_are_1_2_5(void **state)
{
    (void)state;
    /* step 0.2 (2 x 0.1): widened to 0 .. 1 */
    expect_ticks(0.13, 0.87, 0, (double[]){0, 0.2, 0.4, 0.6, 0.8, 1.0}, 6, 0, 1);
    /* step 20 */
    expect_ticks(3, 97, 0, (double[]){0, 20, 40, 60, 80, 100}, 6, 0, 100);
    /* step 5000: the hypervolume of the default job's scale */
    expect_ticks(1200, 22000, 0, (double[]){0, 5000, 10000, 15000, 20000, 25000}, 6, 0, 25000);
    /* step 1 over negative and positive values */
    expect_ticks(-2.5, 1.5, 0, (double[]){-3, -2, -1, 0, 1, 2}, 6, -3, 2);
    /* step 0.1 around 76.95 .. 77.25 */
    expect_ticks(76.95, 77.25, 0, (double[]){76.9, 77.0, 77.1, 77.2, 77.3}, 5, 76.9, 77.3);
    /* flat data: a tenth either side, at round values */
    expect_ticks(50, 50, 0, (double[]){44, 46, 48, 50, 52, 54, 56}, 7, 44, 56);
    expect_ticks(0, 0, 0, (double[]){-1, -0.5, 0, 0.5, 1}, 5, -1, 1);
    /* every step is 1, 2 or 5 times a power of ten, and the data inside */
    for (int k = 0; k < 200; k++) {
        double lo = exp((k % 17) - 8.0) * (k % 3 ? 1 : -1), hi = lo + exp((k % 13) - 6.0);
        double a = lo, b = hi, t[32], step;
        size_t n = hwnas__report_ticks(&a, &b, 0, 5, t, 32, &step);
        double m = step / pow(10, floor(log10(step) + 1e-12));
        assert_true(fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9);
        assert_true(n >= 3 && n <= 12);
        assert_true(a <= lo && b >= hi);
        assert_true(fabs(t[0] - a) < 1e-9 * step && fabs(t[n - 1] - b) < 1e-9 * step);
    }
}

static void test_ticks_log_are_decades(void **state)
{
    (void)state;
    expect_ticks(0.03, 470, 1, (double[]){0.01, 0.1, 1, 10, 100, 1000}, 6, 0.01, 1000);
    expect_ticks(1.23, 292.7, 1, (double[]){1, 10, 100, 1000}, 4, 1, 1000);
    expect_ticks(100, 1000, 1, (double[]){100, 1000}, 2, 100, 1000); /* exact decades */
    /* 30 decades: every third, still round */
    double lo = 1e-12, hi = 1e17, t[32], step;
    size_t n = hwnas__report_ticks(&lo, &hi, 1, 5, t, 32, &step);
    assert_true(n >= 2 && n <= 11);
    assert_true(step >= 2);
    for (size_t i = 0; i < n; i++) {
        double e = log10(t[i]);
        assert_true(fabs(e - round(e)) < 1e-9);
    }
    assert_true(lo <= 1e-12 && hi >= 1e17);
}

static void test_tick_labels(void **state)
{
    (void)state;
    char b[64];
    hwnas__report_tick_label(0.6000000000000001, 0.2, 0, b, sizeof b);
    assert_string_equal(b, "0.6");
    hwnas__report_tick_label(77.05, 0.05, 0, b, sizeof b);
    assert_string_equal(b, "77.05");
    hwnas__report_tick_label(25000, 5000, 0, b, sizeof b);
    assert_string_equal(b, "25000");
    hwnas__report_tick_label(5e5, 5e5, 0, b, sizeof b); /* as its neighbour 1e6 */
    assert_string_equal(b, "5e5");
    hwnas__report_tick_label(4e8, 2e8, 0, b, sizeof b);
    assert_string_equal(b, "4e8");
    hwnas__report_tick_label(1000000002, 2, 0, b, sizeof b); /* neighbours stay apart */
    assert_string_equal(b, "1000000002");
    hwnas__report_tick_label(-3e-6, 1e-6, 0, b, sizeof b);
    assert_string_equal(b, "-3e-6");
    hwnas__report_tick_label(0.001, 1, 1, b, sizeof b);
    assert_string_equal(b, "0.001");
    hwnas__report_tick_label(1000, 1, 1, b, sizeof b);
    assert_string_equal(b, "1000");
    hwnas__report_tick_label(1e6, 1, 1, b, sizeof b);
    assert_string_equal(b, "1e6");
}

static void test_escape_and_axis_labels(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    hwnas__report_escape(&sb, "<a href='x'>&\"\x01");
    assert_string_equal(sb.data, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\xef\xbf\xbd");
    hwnas__strbuf_release(&sb);
    hwnas__report_axis_label(&sb, "energy_uj");
    assert_string_equal(sb.data, "energy [energy_uj] (\xc2\xb5J)");
    hwnas__strbuf_release(&sb);
    hwnas__report_axis_label(&sb, "accuracy");
    assert_string_equal(sb.data, "accuracy (%)");
    hwnas__strbuf_release(&sb);
    hwnas__report_axis_label(&sb, "my<metric>");
    assert_string_equal(sb.data, "my&lt;metric&gt;");
    hwnas__strbuf_release(&sb);
    hwnas_context_free(ctx);
}

/* ---- a search to report on ------------------------------------------- */

static int score_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                    void *user_data)
{
    (void)key;
    (void)stream;
    (void)user_data;
    double macs = (double)hwnas_net_macs(net);
    values[0] = 50.0 + 40.0 * (1.0 - exp(-macs / 5e7)) + (double)(hwnas_net_hash(net) % 100) / 50.0;
    return 0;
}

typedef struct line {
    size_t count[64];
    double hv[64];
    size_t n;
} line;

/* What the command line's progress line prints: the hypervolume now. */
static int on_progress(hwnas_search *s, double fraction, void *user_data)
{
    (void)fraction;
    line *l = user_data;
    double hv = NAN;
    if (hwnas_search_hypervolume(s, &hv) != HWNAS_OK)
        hv = NAN;
    if (l->n < 64) {
        l->count[l->n] = hwnas_search_count(s);
        l->hv[l->n++] = hv;
    }
    return 0;
}

static hwnas_search *run_search(hwnas_context *ctx, const char *dir, const char *extra,
                                int accel, hwnas_estimator **custom, line *l)
{
    char opts[1024];
    snprintf(opts, sizeof opts,
             "objectives=score:max,macs:min;budget=30;batch=5;seed=3;out=\"%s\"%s", dir,
             extra ? extra : "");
    hwnas_search *s = NULL;
    if (hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1", "nsga2", "population=6",
                         opts) != HWNAS_OK)
        fail_msg("search_new: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    if (accel)
        assert_int_equal(hwnas_search_add_estimator(s, "accelerator", "budget=50"), HWNAS_OK);
    assert_int_equal(hwnas_estimator_new_custom(custom, ctx, "score", "score:%", score_cb, NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, *custom), HWNAS_OK);
    if (l)
        hwnas_search_on_progress(s, on_progress, l);
    if (hwnas_search_run(s) != HWNAS_OK)
        fail_msg("run: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_write_results(s, NULL), HWNAS_OK);
    return s;
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* The plot draws, after each batch, the hypervolume the progress line
 * printed then: the same reference point (of that moment) and figures. */
static void test_hypervolume_plot_is_the_progress_line(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;log_level=error"), HWNAS_OK);
    for (int fixed = 0; fixed < 2; fixed++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/hv%d", test_tmpdir, fixed);
        line l = {{0}, {0}, 0};
        hwnas_estimator *custom;
        hwnas_search *s = run_search(ctx, dir, fixed ? ";hv_reference=\"40,1e9\"" : NULL, 0,
                                     &custom, &l);
        assert_true(l.n >= 6); /* a batch ends where the strategy's asks end too */
        hwnas__report_setup st;
        hwnas__strbuf title;
        hwnas__strbuf_init(&title, ctx);
        assert_int_equal(hwnas__report_setup_of(s, dir, &st, &title), HWNAS_OK);
        assert_int_equal(st.step, 1);
        assert_true(fixed ? st.ref != NULL : st.ref == NULL);
        size_t *at, n;
        double *hv;
        assert_int_equal(hwnas__report_hv_series(ctx, dir, &st, &at, &hv, &n), HWNAS_OK);
        size_t matched = 0;
        for (size_t i = 0; i < l.n; i++) {
            for (size_t j = 0; j < n; j++)
                if (at[j] == l.count[i]) {
                    if (fabs(hv[j] - l.hv[i]) > 1e-9 * fabs(l.hv[i]))
                        fail_msg("after %zu evaluations: plot %.17g, progress line %.17g",
                                 at[j], hv[j], l.hv[i]);
                    matched++;
                }
        }
        /* every line that printed a figure has its point */
        size_t printed = 0;
        for (size_t i = 0; i < l.n; i++)
            printed += !isnan(l.hv[i]);
        assert_int_equal(matched, printed);
        assert_true(n >= 25 && n <= 30 && at[n - 1] == 30);
        for (size_t j = 1; j < n; j++)
            assert_true(hv[j] >= hv[j - 1]); /* a growing reference only adds */
        /* With one reference point, every point is the hypervolume of
         * that prefix as the search computes it. */
        for (size_t j = 0; fixed && j < n; j++) {
            double want;
            assert_int_equal(hwnas__search_hv(s, at[j], st.ref, &want), HWNAS_OK);
            if (fabs(hv[j] - want) > 1e-12 * fmax(1, fabs(want)))
                fail_msg("prefix %zu: plot %.17g, search %.17g", at[j], hv[j], want);
        }
        /* The last point is the search's hypervolume. */
        double final;
        assert_int_equal(hwnas_search_hypervolume(s, &final), HWNAS_OK);
        assert_true(fabs(hv[n - 1] - final) <= 1e-9 * final);
        hwnas__free(ctx, at);
        hwnas__free(ctx, hv);
        /* The file: a title naming the search, units, round ticks, a legend. */
        char path[512];
        snprintf(path, sizeof path, "%s/hypervolume.svg", dir);
        char *svg = test_slurp(path, NULL);
        assert_non_null(svg);
        assert_non_null(strstr(svg, "Hypervolume"));
        char want[300];
        snprintf(want, sizeof want, "hv%d: space cell, strategy nsga2, 30 evaluations", fixed);
        assert_non_null(strstr(svg, want));
        assert_non_null(strstr(svg, fixed ? "the hv_reference option" : "as in the progress "
                                                                         "line"));
        assert_non_null(strstr(svg, ">evaluations (candidates)<"));
        assert_non_null(strstr(svg, "class='legend'"));
        assert_non_null(strstr(svg, "class='xtick'>30<"));
        assert_int_equal(count(svg, "<circle"), n);
        free(svg);
        snprintf(path, sizeof path, "%s/front.svg", dir);
        svg = test_slurp(path, NULL);
        assert_non_null(svg);
        assert_non_null(strstr(svg, "Pareto front"));
        assert_non_null(strstr(svg, "multiply-accumulates [macs]"));
        assert_int_equal(count(svg, "class='member'"), hwnas_search_front(s, NULL, 0));
        free(svg);
        hwnas__report_setup_release(s, &st);
        hwnas__strbuf_release(&title);
        hwnas_search_free(s);
        hwnas_estimator_free(custom);
    }
    hwnas_context_free(ctx);
}

/* The plot's incremental front against ranking every prefix again, on a
 * synthetic archive with repeated phenotypes, infeasible and failed rows,
 * equal points and three objectives. */
static void test_hypervolume_series_against_every_prefix(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "log_level=error"), HWNAS_OK);
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/synthetic", test_tmpdir);
    assert_int_equal(mkdir(dir, 0777), 0);
    snprintf(path, sizeof path, "%s/archive.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("eval,id,genotype,hash,a,b,c,violation,feasible,failed,error,seconds,cached\n", f);
    enum { N = 300, M = 3 };
    static double pts[N * M];
    static unsigned char ok[N];
    static uint64_t hash[N];
    uint64_t x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        hash[i] = (x >> 33) % 150 + 1; /* about half repeat an earlier phenotype */
        int feasible = (x >> 20) % 7 != 0, failed = (x >> 24) % 11 == 0;
        ok[i] = feasible && !failed;
        double v[M];
        for (size_t k = 0; k < M; k++) /* coarse values: ties and equal points */
            v[k] = (double)((x >> (8 * k + 3)) % 9) + (k == 0 ? 0.5 * (double)(i % 3) : 0);
        for (size_t k = 0; k < M; k++)
            pts[i * M + k] = (k == 1 ? -1 : 1) * v[k]; /* b is maximised */
        fprintf(f, "%zu,%zu,g%zu,%016llx,%g,%g,%g,%g,%d,%d,%s,0.1,0\n", i, i, i,
                (unsigned long long)hash[i], v[0], v[1], v[2], feasible ? 0.0 : 0.5,
                ok[i], failed, failed ? "boom" : ""); /* a failed one is not feasible */
    }
    fclose(f);
    const char *names[M] = {"a", "b", "c"};
    const double sign[M] = {1, -1, 1};
    const double ref[M] = {10, 1, 10};
    hwnas__report_setup st = {{M, names, sign}, "synthetic", ref, 1, 0};
    size_t *at, n;
    double *hv;
    assert_int_equal(hwnas__report_hv_series(ctx, dir, &st, &at, &hv, &n), HWNAS_OK);
    assert_int_equal(n, N);
    for (size_t j = 0; j < n; j++) {
        double want;
        assert_int_equal(at[j], j + 1);
        assert_int_equal(hwnas__pareto_front_hv(ctx, pts, ok, hash, at[j], M, ref, &want),
                         HWNAS_OK);
        if (fabs(hv[j] - want) > 1e-12 * fmax(1, want))
            fail_msg("prefix %zu: %.17g, ranked again %.17g", at[j], hv[j], want);
    }
    hwnas__free(ctx, at);
    hwnas__free(ctx, hv);
    /* The moving reference: each prefix's own. */
    st.ref = NULL;
    assert_int_equal(hwnas__report_hv_series(ctx, dir, &st, &at, &hv, &n), HWNAS_OK);
    assert_true(n >= N - 5);
    for (size_t j = 0; j < n; j++) {
        double r[M], want;
        assert_true(hwnas__pareto_reference(pts, ok, at[j], M, r));
        assert_int_equal(hwnas__pareto_front_hv(ctx, pts, ok, hash, at[j], M, r, &want),
                         HWNAS_OK);
        if (fabs(hv[j] - want) > 1e-12 * fmax(1, want))
            fail_msg("prefix %zu (moving): %.17g, ranked again %.17g", at[j], hv[j], want);
    }
    hwnas__free(ctx, at);
    hwnas__free(ctx, hv);
    hwnas_context_free(ctx);
}

/* A table estimator's refined figures: refined candidates are drawn as
 * squares tied to their proxy figures, the others as grey dots. */
static void test_front_plot_tells_refined_apart(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;log_level=error"), HWNAS_OK);
    char table[256], dir[256], extra[600];
    snprintf(table, sizeof table, "%s/refine.csv", test_tmpdir);
    snprintf(dir, sizeof dir, "%s/refined", test_tmpdir);
    test_write_refine_table(ctx, table);
    snprintf(extra, sizeof extra,
             ";refine=4;refine_estimator=\"table:file=%s;key=key;metrics=s2:score\"", table);
    hwnas_estimator *custom;
    hwnas_search *s = run_search(ctx, dir, extra, 0, &custom, NULL);
    size_t refined = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++)
        refined += hwnas_search_refined(s, i) == 1;
    assert_int_equal(refined, 4);
    char path[512];
    snprintf(path, sizeof path, "%s/front.svg", dir);
    char *svg = test_slurp(path, NULL);
    assert_non_null(svg);
    /* one square per refined candidate, plus the legend's */
    assert_int_equal(count(svg, "<rect x='-3' y='-3'"), refined + 1);
    assert_non_null(strstr(svg, ">refined<"));
    assert_non_null(strstr(svg, ">proxy figures only<"));
    assert_non_null(strstr(svg, "Pareto front (refined figures)"));
    assert_true(count(svg, "stroke='#26c' stroke-width='0.6'") >= 1); /* proxy -> refined */
    free(svg);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

/* ---- the HTML page ----------------------------------------------------- */

static void test_html_report(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;log_level=error"), HWNAS_OK);
    /* A name from the user, with markup in it. */
    char dir[256];
    snprintf(dir, sizeof dir, "%s/a<b>&c'd", test_tmpdir);
    hwnas_estimator *custom;
    hwnas_search *s = run_search(ctx, dir, NULL, 1, &custom, NULL);
    assert_int_equal(hwnas_search_write_report(s, NULL, NULL), HWNAS_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = test_slurp(path, NULL);
    assert_non_null(html);
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(html, "http-equiv='Content-Security-Policy' content=\"default-src "
                                 "'none'"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, " src="));
    /* escaped wherever it appears */
    assert_null(strstr(html, "a<b>"));
    assert_non_null(strstr(html, "a&lt;b&gt;&amp;c&#39;d: space cell, strategy nsga2"));
    size_t front[64], nf = hwnas_search_front(s, front, 64);
    assert_true(nf >= 2);
    assert_int_equal(count(html, "<tr class='member'>"), nf);
    assert_int_equal(count(html, "<section class='member'"), nf);
    assert_int_equal(count(html, "<svg "), 2);
    assert_int_equal(count(html, "</svg>"), 2);
    assert_int_equal(count(html, "class='plot front'"), 1);
    assert_int_equal(count(html, "class='plot hypervolume'"), 1);
    /* Each member: its layers (every node of its net), multipliers, and
     * the accelerator's energy per layer and level, whose total is the
     * figure the search recorded. */
    size_t nodes = 0;
    for (size_t k = 0; k < nf; k++) {
        hwnas_net *net;
        char p[512];
        snprintf(p, sizeof p, "%s/front/%03zu.net", dir, k);
        assert_int_equal(hwnas_net_load(&net, ctx, p), HWNAS_OK);
        nodes += hwnas_net_node_count(net);
        hwnas_net_free(net);
        double e;
        assert_int_equal(hwnas_search_metric(s, front[k], "energy_uj", &e), HWNAS_OK);
        char want[128];
        snprintf(want, sizeof want, "On the accelerator model: <b>%.6g &#181;J</b>", e);
        if (!strstr(html, want))
            fail_msg("member %zu: no '%s'", k, want);
    }
    assert_int_equal(count(html, "<tr class='layer'>"), nodes);
    assert_true(count(html, "<tr class='level'>") >= nf * 3);
    assert_non_null(strstr(html, "<td class='text'><code>exact</code></td>"));
    /* settings */
    assert_non_null(strstr(html, "<table id='settings'>"));
    assert_non_null(strstr(html, "<td class='text'>estimator:accelerator</td><td "
                                 "class='text'><code>budget=50</code>"));
    assert_non_null(strstr(html, "<td class='text'>custom:score</td>"));
    free(html);

    /* Another file; then errors leave nothing behind. */
    snprintf(path, sizeof path, "%s/elsewhere.html", test_tmpdir);
    assert_int_equal(hwnas_search_write_report(s, dir, path), HWNAS_OK);
    assert_int_equal(access(path, F_OK), 0);
    char empty[256], bad[512];
    snprintf(empty, sizeof empty, "%s/empty", test_tmpdir);
    assert_int_equal(mkdir(empty, 0777), 0);
    snprintf(bad, sizeof bad, "%s/bad.html", test_tmpdir);
    assert_int_equal(hwnas_search_write_report(s, empty, bad), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "archive.csv"));
    assert_int_equal(access(bad, F_OK), -1);
    assert_int_equal(hwnas_search_write_report(NULL, dir, bad), HWNAS_EINVAL);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);

    hwnas_search *fresh;
    assert_int_equal(hwnas_search_new(&fresh, ctx, "cell", NULL, "random", NULL,
                                      "objectives=macs:min"),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_write_report(fresh, dir, bad), HWNAS_ESTATE);
    hwnas_search_free(fresh);
    hwnas_context_free(ctx);
}

/* Allocation n fails, for n = 0, 1, ...: HWNAS_ENOMEM, no leak, no file,
 * until the page is written. */
static void test_html_report_oom(void **state)
{
    (void)state;
    test_alloc ta;
    test_alloc_init(&ta);
    hwnas_context *ctx = test_alloc_context(&ta, "threads=1;log_level=error");
    assert_non_null(ctx);
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/oom", test_tmpdir);
    snprintf(path, sizeof path, "%s/oom.html", test_tmpdir);
    hwnas_estimator *custom;
    hwnas_search *s = run_search(ctx, dir, NULL, 1, &custom, NULL);
    int rc = HWNAS_ENOMEM;
    long n;
    for (n = getenv("OOM_FROM") ? atol(getenv("OOM_FROM")) : 0; rc == HWNAS_ENOMEM && n < 100000; n++) {
        long live = ta.live;
        ta.calls = 0;
        ta.fail_at = n;
        rc = hwnas_search_write_report(s, dir, path);
        ta.fail_at = -1;
        if (ta.live != live)
            fail_msg("failing allocation %ld: %ld blocks leaked (rc %d: %s)", n, ta.live - live,
                     rc, hwnas_error_last());
        if (rc == HWNAS_ENOMEM)
            assert_int_equal(access(path, F_OK), -1);
    }
    if (rc != HWNAS_OK)
        fail_msg("after %ld failing allocations: %d %s", n, rc, hwnas_error_last());
    assert_true(n > 10);
    assert_int_equal(access(path, F_OK), 0);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

/* ---- a differentiable search's plots ---------------------------------- */

/* Two lambdas, one off the front; two edges of three operations over two
 * epochs: a polyline per edge and operation, starting uniform (1/3). */
static void write_dsearch_dir(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/ds", test_tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/ds/lambda-0", test_tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/ds/lambda-1", test_tmpdir);
    mkdir(path, 0755);
    test_tmpdir_write("ds/front.csv", "lambda,arch,accuracy,retrain_accuracy,macs,params,cost,"
                                      "pareto,net\n"
                                      "0,|a~0|,0.80,,1000,10,1000,1,lambda-0/derived.net\n"
                                      "1,|b~0|,0.70,,1200,12,1200,0,lambda-1/derived.net\n");
    const char *alpha = "epoch,edge,op,alpha,prob\n"
                        "1,0,none,0,0.2\n1,0,skip,0,0.3\n1,0,conv,0,0.5\n"
                        "1,1,none,0,0.3\n1,1,skip,0,0.3\n1,1,conv,0,0.4\n"
                        "2,0,none,0,0.1\n2,0,skip,0,0.2\n2,0,conv,0,0.7\n"
                        "2,1,none,0,0.3\n2,1,skip,0,0.3\n2,1,conv,0,0.4\n";
    test_tmpdir_write("ds/lambda-0/alpha.csv", alpha);
    test_tmpdir_write("ds/lambda-1/alpha.csv", alpha);
}

static void test_dsearch_plots(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    write_dsearch_dir();
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/ds", test_tmpdir);
    assert_int_equal(hwnas_dsearch_write_plots(ctx, dir), HWNAS_OK);
    snprintf(path, sizeof path, "%s/front.svg", dir);
    char *front = test_slurp(path, NULL);
    assert_non_null(front);
    assert_int_equal(count(front, "class='member'"), 1);
    assert_int_equal(count(front, "class='candidate'"), 1);
    assert_non_null(strstr(front, "<title>lambda 1</title>"));
    assert_non_null(strstr(front, "</svg>"));
    free(front);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/lambda-%d/alpha.svg", dir, i);
        char *a = test_slurp(path, NULL);
        assert_non_null(a);
        assert_int_equal(count(a, "class='op'"), 6); /* 2 edges x 3 operations */
        assert_int_equal(count(a, ">edge "), 2);
        assert_non_null(strstr(a, ">conv</text>"));  /* the legend */
        /* every line starts uniform and has a point per epoch */
        const char *p = strstr(a, "class='op'");
        const char *pts = strstr(p, "points='");
        assert_non_null(pts);
        size_t commas = 0;
        for (const char *q = pts + 8; *q != '\''; q++)
            commas += *q == ',';
        assert_int_equal(commas, 3);
        free(a);
    }
    /* errors name the file and what is wrong */
    test_tmpdir_write("ds/lambda-1/alpha.csv", "epoch,edge,op,alpha,prob\n1,0,none,0,x\n");
    assert_int_equal(hwnas_dsearch_write_plots(ctx, dir), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "lambda-1/alpha.csv:2"));
    assert_non_null(strstr(hwnas_error_last(), "'x'"));
    test_tmpdir_write("ds/front.csv", "lambda,arch,accuracy\n0,|a~0|,0.8\n");
    assert_int_equal(hwnas_dsearch_write_plots(ctx, dir), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "no column 'retrain_accuracy'"));
    snprintf(path, sizeof path, "%s/none", test_tmpdir);
    assert_int_not_equal(hwnas_dsearch_write_plots(ctx, path), HWNAS_OK);
    assert_non_null(strstr(hwnas_error_last(), "front.csv"));
    assert_int_equal(hwnas_dsearch_write_plots(NULL, dir), HWNAS_EINVAL);
    assert_int_equal(hwnas_dsearch_write_plots(ctx, NULL), HWNAS_EINVAL);
    hwnas_context_free(ctx);
}

static void test_dsearch_plots_oom(void **state)
{
    (void)state;
    write_dsearch_dir();
    char dir[256];
    snprintf(dir, sizeof dir, "%s/ds", test_tmpdir);
    test_alloc t;
    hwnas_context *c = test_alloc_context(&t, "threads=1");
    long base = t.live;
    for (long n = 0;; n++) {
        test_alloc_fail_from(&t, n);
        int rc = hwnas_dsearch_write_plots(c, dir);
        test_alloc_disarm(&t);
        assert_int_equal(t.live, base);
        if (rc == HWNAS_OK)
            break;
        assert_int_equal(rc, HWNAS_ENOMEM);
    }
    hwnas_context_free(c);
    assert_int_equal(t.live, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_ticks_linear_are_1_2_5),
        cmocka_unit_test(test_ticks_log_are_decades),
        cmocka_unit_test(test_tick_labels),
        cmocka_unit_test(test_escape_and_axis_labels),
        cmocka_unit_test(test_hypervolume_plot_is_the_progress_line),
        cmocka_unit_test(test_hypervolume_series_against_every_prefix),
        cmocka_unit_test(test_front_plot_tells_refined_apart),
        cmocka_unit_test(test_dsearch_plots),
        cmocka_unit_test(test_html_report),
    };
    const struct CMUnitTest oom[] = {
        cmocka_unit_test(test_html_report_oom),
        cmocka_unit_test(test_dsearch_plots_oom),
    };
    if (argc > 1 && strcmp(argv[1], "oom") == 0)
        return cmocka_run_group_tests_name("report-oom", oom, setup, teardown);
    return cmocka_run_group_tests_name("report", unit, setup, teardown);
}
