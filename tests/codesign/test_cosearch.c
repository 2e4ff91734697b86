/*
 * Co-search (issue 16, second half): searches over NET+accelerator spaces,
 * joint and nested, with the cost and accelerator estimators (fast):
 * every candidate priced on its own hardware, constraints on hardware
 * metrics, the network half's key for the estimators, discarded networks,
 * results (network and hardware columns, front/NNN.hw, front.svg on any
 * two metrics), resume after SIGKILL of a nested search, and NAS-Bench-201
 * table accuracy on cell+accelerator when the benchmark file is there.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hwnas/hwnas.h"
#include "test_sigkill.h"
#include "test_files.h"
#include "test_tmpdir.h"

#define NET_OPTS "rows=1;cols=4;levels_back=2;stem=8;bits=8"
#define OBJ "objectives=\"params:max,edp:min\""

static double metric(const hwnas_search *s, size_t i, const char *name)
{
    double v = NAN;
    hwnas_search_metric(s, i, name, &v);
    return v;
}

static hwnas_search *make(hwnas_context *ctx, const char *options)
{
    hwnas_search *s = NULL;
    if (hwnas_search_new(&s, ctx, "cgp+accelerator", NET_OPTS, "nsga2", "population=8",
                         options) != HWNAS_OK)
        fail_msg("search: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "accelerator", NULL), HWNAS_OK);
    return s;
}

/* Every successful candidate's figures are those of its own accelerator:
 * area_mm2 is the decoded hardware's, power_mw is energy over latency. */
static void check_own_hardware(const hwnas_search *s)
{
    const hwnas_space *sp = hwnas_search_space(s);
    size_t ok = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        assert_non_null(strstr(hwnas_search_key(s, i), " @ "));
        if (hwnas_search_error(s, i))
            continue;
        hwnas_accel *a;
        assert_int_equal(hwnas_space_decode_accel(&a, sp, hwnas_search_genes(s, i)), HWNAS_OK);
        assert_true(fabs(metric(s, i, "area_mm2") - hwnas_accel_area_mm2(a)) < 1e-9);
        hwnas_accel_free(a);
        double p = metric(s, i, "power_mw");
        assert_true(fabs(p - metric(s, i, "energy_uj") / metric(s, i, "latency_ms")) <
                    1e-9 * p);
        ok++;
    }
    assert_true(ok > 0);
}

static void test_joint(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=5"), HWNAS_OK);
    hwnas_search *s = make(ctx, OBJ ";evaluations=24;batch=8;constraints=\"area_mm2<=2.5\"");
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    check_own_hardware(s);
    /* The accelerators differ: the strategy searches the hardware genes. */
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++)
        if (!hwnas_search_error(s, i)) {
            lo = fmin(lo, metric(s, i, "area_mm2"));
            hi = fmax(hi, metric(s, i, "area_mm2"));
        }
    assert_true(hi > lo);
    size_t front[64], nf = hwnas_search_front(s, front, 64);
    assert_true(nf > 0);
    for (size_t k = 0; k < nf; k++)
        assert_true(metric(s, front[k], "area_mm2") <= 2.5);
    /* Ask/tell from outside works jointly. */
    uint32_t genes[256];
    uint64_t id;
    size_t n;
    assert_true(hwnas_space_gene_count(hwnas_search_space(s)) <= 256);
    assert_int_equal(hwnas_search_ask(s, 1, genes, &id, &n), HWNAS_OK);
    assert_int_equal(n, 1);
    hwnas_search_free(s);
    hwnas_context_free(ctx);
}

/* Constraints on area_mm2, power_mw, latency_ms and edp: a candidate is
 * feasible exactly when its hardware figures keep all four. */
static void test_hardware_constraints(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=9"), HWNAS_OK);
    hwnas_search *s = make(ctx, OBJ ";evaluations=32;batch=8;constraints=\"area_mm2<=2;"
                                "power_mw<=250;latency_ms<=0.05;edp<=0.5\"");
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    size_t feasible = 0, infeasible = 0, front[64];
    size_t nf = hwnas_search_front(s, front, 64);
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        if (hwnas_search_error(s, i))
            continue;
        int keeps = metric(s, i, "area_mm2") <= 2 && metric(s, i, "power_mw") <= 250 &&
                    metric(s, i, "latency_ms") <= 0.05 && metric(s, i, "edp") <= 0.5;
        int on_front = 0;
        for (size_t k = 0; k < nf; k++)
            on_front |= front[k] == i;
        if (on_front)
            assert_true(keeps);
        feasible += keeps;
        infeasible += !keeps;
    }
    assert_true(feasible > 0 && infeasible > 0);
    hwnas_search_free(s);
    hwnas_context_free(ctx);
}

/* What a custom estimator sees under co-design: the network half's key
 * and the candidate's hardware. */
typedef struct seen {
    int calls, with_accel, composite_key;
} seen;

static int seen_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                   void *user_data)
{
    (void)stream;
    seen *w = user_data;
    w->calls++;
    w->with_accel += hwnas_estimator_current_accel() != NULL;
    w->composite_key += key && strstr(key, " @ ") != NULL;
    values[0] = (double)hwnas_net_macs(net);
    return 0;
}

static void test_estimators_see_network_key_and_hardware(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=3"), HWNAS_OK);
    hwnas_search *s;
    assert_int_equal(hwnas_search_new(&s, ctx, "cgp+accelerator", NET_OPTS, "random", NULL,
                                      "objectives=\"seen:min,edp:min\";evaluations=6"),
                     HWNAS_OK);
    seen w = {0, 0, 0};
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "seen", "seen:MACs", seen_cb, &w),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, e), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "accelerator", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    assert_true(w.calls > 0);
    assert_int_equal(w.with_accel, w.calls);
    assert_int_equal(w.composite_key, 0);
    hwnas_search_free(s);
    hwnas_estimator_free(e);
    hwnas_context_free(ctx);
}

static char *archive_text(const hwnas_search *s)
{
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        const char *err = hwnas_search_error(s, i);
        len += (size_t)snprintf(out + len, cap - len, "%zu %s %.17g %.17g %d %s\n", i,
                                hwnas_search_key(s, i), metric(s, i, "edp"),
                                metric(s, i, "area_mm2"), hwnas_search_cached(s, i),
                                err ? err : "-");
        assert_true(len < cap);
    }
    return out;
}

#define NESTED_OPTS                                                                          \
    OBJ ";evaluations=20;batch=4;snapshot_every=5;codesign=nested;"                          \
        "codesign_options=\"strategy=random;budget=8;batch=4;max_area_mm2=1.5\""

/* With keep, the search and its context are the caller's to free. */
static char *nested_run(const char *ctx_opts, const char *out_dir, hwnas_search **keep,
                        hwnas_context **keep_ctx)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, ctx_opts), HWNAS_OK);
    char opts[1024];
    snprintf(opts, sizeof opts, NESTED_OPTS "%s%s", out_dir ? ";out=" : "",
             out_dir ? out_dir : "");
    hwnas_search *s = make(ctx, opts);
    if (hwnas_search_run(s) != HWNAS_OK)
        fail_msg("nested run: %s", hwnas_error_last());
    char *t = archive_text(s);
    if (keep) {
        *keep = s;
        *keep_ctx = ctx;
    } else {
        hwnas_search_free(s);
        hwnas_context_free(ctx);
    }
    return t;
}

/* Nested: the strategy sees the network genes, the archive the pairs; each
 * accelerator is within the inner limit, a network with none is a failed
 * record estimated by nothing; the same at any thread count. */
static void test_nested(void **state)
{
    (void)state;
    hwnas_search *s;
    hwnas_context *ctx;
    char *one = nested_run("threads=1;seed=11", NULL, &s, &ctx);
    const hwnas_space *sp = hwnas_search_space(s);
    size_t net_genes = hwnas_space_gene_count(hwnas_space_net_half(sp));
    size_t discarded = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        assert_non_null(strstr(hwnas_search_key(s, i), " @ "));
        const char *err = hwnas_search_error(s, i);
        if (err && strstr(err, "nested co-design")) {
            discarded++;
            assert_true(isnan(metric(s, i, "macs"))); /* no estimator ran */
        } else if (!err) {
            assert_true(metric(s, i, "area_mm2") <= 1.5);
        }
    }
    assert_true(discarded > 0 && discarded < hwnas_search_count(s));
    check_own_hardware(s);
    /* The strategy's genotypes are networks only. */
    uint32_t genes[256];
    uint64_t id;
    size_t n;
    assert_true(net_genes < hwnas_space_gene_count(sp));
    assert_int_equal(hwnas_search_ask(s, 1, genes, &id, &n), HWNAS_EUNSUPPORTED);
    assert_non_null(strstr(hwnas_error_last(), "codesign=joint"));
    hwnas_search_free(s);
    hwnas_context_free(ctx);
    char *two = nested_run("threads=2;seed=11", NULL, NULL, NULL);
    assert_string_equal(one, two);
    free(one);
    free(two);
}

static void test_option_errors(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_search *s;
    assert_int_equal(hwnas_search_new(&s, ctx, "cgp", NULL, "random", NULL, "codesign=nested"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "co-design space"));
    assert_int_equal(hwnas_search_new(&s, ctx, "cgp+accelerator", NULL, "random", NULL,
                                      "codesign_options=\"budget=4\""),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "codesign=nested"));
    assert_int_equal(hwnas_search_new(&s, ctx, "cgp+accelerator", NULL, "random", NULL,
                                      "codesign=nested;codesign_options=\"budgit=4\""),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "budgit"));
    assert_int_equal(hwnas_search_new(&s, ctx, "cgp+accelerator", NULL, "random", NULL,
                                      "codesign=sideways"),
                     HWNAS_EINVAL);
    /* Nested needs an estimator that prices hardware: said at start. */
    assert_int_equal(hwnas_search_new(&s, ctx, "cgp+accelerator", NULL, "random", NULL,
                                      "objectives=\"params:min\";codesign=nested"),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "estimator:accelerator"));
    hwnas_search_free(s);
    hwnas_context_free(ctx);
}

/* Results: network and hardware columns, front/NNN.hw that loads and
 * prices the member as the search did, front.svg on any two metrics. */
static void test_results(void **state)
{
    (void)state;
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/nested-results", test_tmpdir);
    hwnas_search *s;
    hwnas_context *run_ctx;
    free(nested_run("threads=2;seed=11", dir, &s, &run_ctx));
    assert_int_equal(hwnas_search_write_results(s, NULL), HWNAS_OK);
    snprintf(p, sizeof p, "%s/archive.csv", dir);
    char *csv = test_slurp(p, NULL);
    assert_non_null(csv);
    char *eol = strchr(csv, '\n');
    assert_non_null(eol);
    *eol = 0;
    assert_true(strlen(csv) > 17 && strcmp(csv + strlen(csv) - 17, ",network,hardware") == 0);
    assert_non_null(strstr(eol + 1, "pe_rows="));
    free(csv);
    snprintf(p, sizeof p, "%s/archive.json", dir);
    char *json = test_slurp(p, NULL);
    assert_non_null(strstr(json, "\"hardware\": \"clock_mhz="));
    free(json);
    size_t front[64], nf = hwnas_search_front(s, front, 64);
    assert_true(nf > 0);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    for (size_t k = 0; k < nf; k++) {
        hwnas_accel *a;
        hwnas_net *net;
        snprintf(p, sizeof p, "%s/front/%03zu.hw", dir, k);
        if (hwnas_accel_load(&a, ctx, p, NULL) != HWNAS_OK)
            fail_msg("%s: %s", p, hwnas_error_last());
        snprintf(p, sizeof p, "%s/front/%03zu.net", dir, k);
        assert_int_equal(hwnas_net_load(&net, ctx, p), HWNAS_OK);
        hwnas_estimator *e;
        assert_int_equal(hwnas_estimator_new(&e, ctx, "accelerator", NULL), HWNAS_OK);
        double v[16];
        assert_true(hwnas_estimator_metric_count(e) <= 16);
        assert_int_equal(hwnas_estimator_estimate_on(e, net, a, NULL, 0, v), HWNAS_OK);
        int64_t edp = hwnas_estimator_metric_index(e, "edp");
        assert_true(fabs(v[edp] - metric(s, front[k], "edp")) <= 1e-9 * v[edp]);
        hwnas_estimator_free(e);
        hwnas_net_free(net);
        hwnas_accel_free(a);
    }
    /* No .hw beyond the front. */
    snprintf(p, sizeof p, "%s/front/%03zu.hw", dir, nf);
    assert_int_not_equal(access(p, F_OK), 0);
    /* front.svg for two metrics that are not both objectives. */
    assert_int_equal(hwnas_search_plot_front(ctx, dir, "area_mm2", "power_mw"), HWNAS_OK);
    snprintf(p, sizeof p, "%s/front.svg", dir);
    char *svg = test_slurp(p, NULL);
    assert_non_null(strstr(svg, "area [area_mm2] (mm\xc2\xb2)")); /* label and unit */
    assert_non_null(strstr(svg, "power [power_mw] (mW)"));
    free(svg);
    assert_int_equal(hwnas_search_plot_front(ctx, dir, "area_mm2", "no_such"), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "no_such"));
    assert_int_equal(hwnas_search_plot_front(ctx, dir, NULL, "edp"), HWNAS_EINVAL);
    /* search.conf keeps the mode for a resume. */
    snprintf(p, sizeof p, "%s/search.conf", dir);
    char *conf = test_slurp(p, NULL);
    assert_non_null(strstr(conf, "codesign=nested"));
    free(conf);
    hwnas_context_free(ctx);
    hwnas_search_free(s);
    hwnas_context_free(run_ctx);
}

/* A search without hardware writes no co-design options, columns or
 * files. */
static void test_plain_search_unchanged(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=2"), HWNAS_OK);
    char dir[512], opts[700], p[600];
    snprintf(dir, sizeof dir, "%s/plain", test_tmpdir);
    snprintf(opts, sizeof opts, "objectives=\"params:min,macs:max\";evaluations=6;out=%s", dir);
    hwnas_search *s;
    assert_int_equal(hwnas_search_new(&s, ctx, "cgp", NULL, "random", NULL, opts), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    assert_int_equal(hwnas_search_write_results(s, NULL), HWNAS_OK);
    snprintf(p, sizeof p, "%s/search.conf", dir);
    char *conf = test_slurp(p, NULL);
    assert_null(strstr(conf, "codesign"));
    free(conf);
    snprintf(p, sizeof p, "%s/archive.csv", dir);
    char *csv = test_slurp(p, NULL);
    assert_null(strstr(csv, "hardware"));
    free(csv);
    snprintf(p, sizeof p, "%s/front/000.hw", dir);
    assert_int_not_equal(access(p, F_OK), 0);
    hwnas_search_free(s);
    hwnas_context_free(ctx);
}

/* The killed child's nested search, into directory arg. */
static hwnas_search *make_nested(hwnas_context *ctx, void *arg)
{
    char opts[1024];
    snprintf(opts, sizeof opts, NESTED_OPTS ";out=%s", (const char *)arg);
    hwnas_search *s = NULL;
    if (hwnas_search_new(&s, ctx, "cgp+accelerator", NET_OPTS, "nsga2", "population=8", opts) !=
            HWNAS_OK ||
        hwnas_search_add_estimator(s, "cost", NULL) != HWNAS_OK ||
        hwnas_search_add_estimator(s, "accelerator", NULL) != HWNAS_OK) {
        hwnas_search_free(s);
        return NULL;
    }
    return s;
}

/* A nested search SIGKILLed mid-way resumes to the archive an
 * uninterrupted one gives: the journal holds each network's hardware. */
static void test_nested_resume_after_sigkill(void **state)
{
    (void)state;
    char *want = nested_run("threads=2;seed=11", NULL, NULL, NULL);
    const size_t kill_at[] = {3, 11};
    for (size_t k = 0; k < 2; k++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/killed-nested-%zu", test_tmpdir, k);
        test_killed_run("threads=2;seed=11", make_nested, dir, kill_at[k]);
        hwnas_context *ctx;
        assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=11;log_level=error"), HWNAS_OK);
        hwnas_search *s;
        if (hwnas_search_resume(&s, ctx, dir, NULL) != HWNAS_OK)
            fail_msg("resume: %s", hwnas_error_last());
        if (hwnas_search_run(s) != HWNAS_OK)
            fail_msg("run: %s", hwnas_error_last());
        char *got = archive_text(s);
        assert_string_equal(got, want);
        free(got);
        hwnas_search_free(s);
        hwnas_context_free(ctx);
    }
    free(want);
}

static const char *shared_file(const char *name, char *buf, size_t size)
{
    const char *dir = getenv("HWNAS_SHARED_DIR");
    snprintf(buf, size, "%s/data/benchmarks/%s", dir ? dir : "../shared", name);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

/* NAS-Bench-201 accuracy (estimator:table keyed by the cell string) on
 * cell+accelerator, joint and nested: the table answers for the network
 * half. */
static void test_table_on_cell_accelerator(void **state)
{
    (void)state;
    char acc[512];
    if (!shared_file("nb201_nats_tss_test_acc_200ep.csv", acc, sizeof acc)) {
        print_message("nb201_nats_tss_test_acc_200ep.csv not found under HWNAS_SHARED_DIR "
                      "(default ../shared): skipped\n");
        skip();
    }
    char table[700];
    snprintf(table, sizeof table,
             "file=%s;key=ArchitectureString;metrics=CIFAR10TestAccuracy200Epochs:accuracy:%%",
             acc);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=4"), HWNAS_OK);
    hwnas_estimator *t;
    assert_int_equal(hwnas_estimator_new(&t, ctx, "table", table), HWNAS_OK);
    const char *modes[] = {"codesign=joint", "codesign=nested;codesign_options=\"budget=6\""};
    for (int m = 0; m < 2; m++) {
        char opts[300];
        snprintf(opts, sizeof opts, "objectives=\"accuracy:max,edp:min\";evaluations=12;"
                 "batch=6;%s", modes[m]);
        hwnas_search *s;
        assert_int_equal(hwnas_search_new(&s, ctx, "cell+accelerator", NULL, "random", NULL,
                                          opts),
                         HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator_object(s, t), HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator(s, "accelerator", NULL), HWNAS_OK);
        if (hwnas_search_run(s) != HWNAS_OK)
            fail_msg("%s: %s", modes[m], hwnas_error_last());
        for (size_t i = 0; i < hwnas_search_count(s); i++) {
            if (hwnas_search_error(s, i))
                fail_msg("%s: %s", modes[m], hwnas_search_error(s, i));
            char key[512];
            const char *k = hwnas_search_key(s, i);
            size_t n = (size_t)(strstr(k, " @ ") - k);
            memcpy(key, k, n);
            key[n] = 0;
            double v;
            hwnas_net *net;
            assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
            assert_int_equal(hwnas_estimator_estimate(t, net, key, 0, &v), HWNAS_OK);
            hwnas_net_free(net);
            assert_true(v == metric(s, i, "accuracy"));
            assert_true(metric(s, i, "edp") > 0);
        }
        hwnas_search_free(s);
    }
    hwnas_estimator_free(t);
    hwnas_context_free(ctx);
}

static int setup(void **state)
{
    (void)state;
    return test_tmpdir_make("hwnas-cosearch");
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joint),
        cmocka_unit_test(test_hardware_constraints),
        cmocka_unit_test(test_estimators_see_network_key_and_hardware),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_plain_search_unchanged),
        cmocka_unit_test(test_nested_resume_after_sigkill),
        cmocka_unit_test(test_table_on_cell_accelerator),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
