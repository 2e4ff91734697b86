/* Predictors (lib/predict), feature encodings of spaces, the predictor
 * estimator and predictor-guided searches. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hwnas/hwnas.h"
#include "strategy/strategy_internal.h"
#include "test_oom.h"
#include "test_tmpdir.h"

static hwnas_context *ctx;
static const char *const kinds[] = {"mlp", "gbrt", "gp"};

static int setup(void **state)
{
    (void)state;
    if (test_tmpdir_make("hwnas-predict") != 0)
        return -1;
    return hwnas_context_new(&ctx, "threads=1;log_level=error");
}

static int teardown(void **state)
{
    (void)state;
    hwnas_context_free(ctx);
    return test_tmpdir_remove();
}

/* A synthetic regression on binary features: additive weights plus two
 * interactions, like operations on edges. x[n * d], y[n]. */
#define D 12
static void synthetic(uint64_t seed, size_t n, double *x, double *y)
{
    hwnas_rng *r = NULL;
    assert_int_equal(hwnas_rng_new(&r, ctx, seed, 1), HWNAS_OK);
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        for (size_t j = 0; j < D; j++) {
            x[i * D + j] = (double)hwnas_rng_below(r, 2);
            v += (double)(j % 5 + 1) * (j % 2 ? -1 : 1) * x[i * D + j];
        }
        v += 4 * x[i * D] * x[i * D + 3] - 3 * x[i * D + 5] * x[i * D + 7];
        y[i] = 70 + v;
    }
    hwnas_rng_free(r);
}

static void test_new_and_options(void **state)
{
    (void)state;
    for (size_t k = 0; k < 3; k++) {
        hwnas_predictor *p = NULL;
        assert_int_equal(hwnas_predictor_new(&p, ctx, kinds[k], NULL), HWNAS_OK);
        char full[64];
        snprintf(full, sizeof full, "predictor:%s", kinds[k]);
        assert_string_equal(hwnas_predictor_kind(p), full);
        assert_non_null(hwnas_predictor_options(p));
        assert_int_equal(hwnas_predictor_dim(p), 0);
        hwnas_predictor_free(p);
    }
    hwnas_predictor *p = (hwnas_predictor *)0x1;
    assert_int_equal(hwnas_predictor_new(&p, ctx, "svm", NULL), HWNAS_ENOTFOUND);
    assert_null(p);
    assert_int_equal(hwnas_predictor_new(&p, ctx, "cell", NULL), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "not a predictor"));
    assert_int_equal(hwnas_predictor_new(&p, ctx, "gp", "kernel=linear"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "kernel"));
    assert_int_equal(hwnas_predictor_new(&p, ctx, "mlp", "widht=3"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "hidden")); /* lists the valid keys */
    assert_int_equal(hwnas_predictor_new(&p, ctx, "gbrt", "depth=99"), HWNAS_EINVAL);
    assert_int_equal(hwnas_predictor_new(NULL, ctx, "gp", NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_predictor_new(&p, NULL, "gp", NULL), HWNAS_EINVAL);
    hwnas_predictor_free(NULL);
    assert_null(hwnas_predictor_kind(NULL));
}

static void test_bad_input(void **state)
{
    (void)state;
    double x[20 * D], y[20], mean[20], sd[20];
    synthetic(3, 20, x, y);
    for (size_t k = 0; k < 3; k++) {
        hwnas_predictor *p = NULL;
        assert_int_equal(hwnas_predictor_new(&p, ctx, kinds[k], NULL), HWNAS_OK);
        /* asked before it has data */
        assert_int_equal(hwnas_predictor_predict(p, x, 1, mean, sd), HWNAS_ESTATE);
        assert_non_null(strstr(hwnas_error_last(), "no data yet"));
        /* a NaN target names its row */
        double saved = y[7];
        y[7] = NAN;
        assert_int_equal(hwnas_predictor_fit(p, x, y, 20, D), HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "target of row 7"));
        y[7] = saved;
        assert_int_equal(hwnas_predictor_dim(p), 0);
        x[3 * D + 2] = INFINITY;
        assert_int_equal(hwnas_predictor_fit(p, x, y, 20, D), HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "feature 2 of row 3"));
        x[3 * D + 2] = 0;
        assert_int_equal(hwnas_predictor_fit(p, x, y, 1, D), HWNAS_EINVAL);
        assert_int_equal(hwnas_predictor_fit(p, x, y, 20, 0), HWNAS_EINVAL);
        assert_int_equal(hwnas_predictor_fit(p, NULL, y, 20, D), HWNAS_EINVAL);
        assert_int_equal(hwnas_predictor_fit(p, x, y, 20, D), HWNAS_OK);
        assert_int_equal(hwnas_predictor_dim(p), D);
        /* a NaN feature at predict names row and column */
        double q[2 * D];
        memcpy(q, x, sizeof q);
        q[D + 4] = NAN;
        assert_int_equal(hwnas_predictor_predict(p, q, 2, mean, sd), HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "feature 4 of row 1"));
        assert_int_equal(hwnas_predictor_predict(p, x, 20, mean, NULL), HWNAS_OK);
        assert_int_equal(hwnas_predictor_predict(p, x, 0, NULL, NULL), HWNAS_OK);
        assert_int_equal(hwnas_predictor_predict(p, NULL, 2, mean, sd), HWNAS_EINVAL);
        hwnas_predictor_free(p);
    }
}

/* Every kind learns the synthetic function: rank correlation on unseen
 * rows well above chance. */
static void test_learns(void **state)
{
    (void)state;
    enum { N = 300, T = 200 };
    double *x = malloc((N + T) * D * sizeof *x), y[N + T], mean[T], sd[T];
    synthetic(11, N + T, x, y);
    for (size_t k = 0; k < 3; k++) {
        hwnas_predictor *p = NULL;
        assert_int_equal(hwnas_predictor_new(&p, ctx, kinds[k], "seed=5"), HWNAS_OK);
        assert_int_equal(hwnas_predictor_fit(p, x, y, N, D), HWNAS_OK);
        assert_int_equal(hwnas_predictor_predict(p, x + N * D, T, mean, sd), HWNAS_OK);
        double tau, rho;
        assert_int_equal(hwnas_rank_kendall(mean, y + N, T, &tau), HWNAS_OK);
        assert_int_equal(hwnas_rank_spearman(mean, y + N, T, &rho), HWNAS_OK);
        print_message("%s: tau %.3f rho %.3f\n", kinds[k], tau, rho);
        assert_true(tau > 0.7);
        assert_true(rho > 0.85);
        /* predictions on the targets' scale */
        double err = 0;
        for (size_t i = 0; i < T; i++)
            err += fabs(mean[i] - y[N + i]);
        assert_true(err / T < 2.5);
        for (size_t i = 0; i < T; i++)
            assert_true(sd[i] >= 0 && isfinite(sd[i]));
        hwnas_predictor_free(p);
    }
    free(x);
}

/* The GP's std: small at its training points, large far from them; and
 * it interpolates a smooth function. */
static void test_gp_uncertainty(void **state)
{
    (void)state;
    enum { N = 15 };
    double x[N], y[N];
    for (size_t i = 0; i < N; i++) {
        x[i] = (double)i / (N - 1) * 3;
        y[i] = sin(2 * x[i]);
    }
    hwnas_predictor *p = NULL;
    assert_int_equal(hwnas_predictor_new(&p, ctx, "gp", "kernel=rbf"), HWNAS_OK);
    assert_int_equal(hwnas_predictor_fit(p, x, y, N, 1), HWNAS_OK);
    double q[3] = {1.1, 1.5, 20}, mean[3], sd[3];
    assert_int_equal(hwnas_predictor_predict(p, q, 3, mean, sd), HWNAS_OK);
    assert_true(fabs(mean[0] - sin(2.2)) < 0.05);
    assert_true(fabs(mean[1] - sin(3.0)) < 0.05);
    assert_true(sd[0] < 0.1 && sd[1] < 0.1);
    assert_true(sd[2] > 0.5);
    double mx[N], msd[N];
    assert_int_equal(hwnas_predictor_predict(p, x, N, mx, msd), HWNAS_OK);
    for (size_t i = 0; i < N; i++)
        assert_true(fabs(mx[i] - y[i]) < 0.05);
    hwnas_predictor_free(p);
}

/* Same seed and data, same numbers bit for bit; an ensemble's spread is
 * its std; another seed gives another MLP. */
static void test_deterministic(void **state)
{
    (void)state;
    enum { N = 80 };
    double x[N * D], y[N];
    synthetic(21, N, x, y);
    for (size_t k = 0; k < 3; k++) {
        double m1[N], s1[N], m2[N], s2[N];
        for (int round = 0; round < 2; round++) {
            hwnas_context *c = NULL;
            assert_int_equal(hwnas_context_new(&c, round ? "threads=4" : "threads=1"), HWNAS_OK);
            hwnas_predictor *p = NULL;
            assert_int_equal(hwnas_predictor_new(&p, c, kinds[k], "seed=9"), HWNAS_OK);
            assert_int_equal(hwnas_predictor_fit(p, x, y, N, D), HWNAS_OK);
            assert_int_equal(hwnas_predictor_predict(p, x, N, round ? m2 : m1, round ? s2 : s1),
                             HWNAS_OK);
            hwnas_predictor_free(p);
            hwnas_context_free(c);
        }
        assert_memory_equal(m1, m2, sizeof m1);
        assert_memory_equal(s1, s2, sizeof s1);
    }
    hwnas_predictor *a = NULL, *b = NULL;
    assert_int_equal(hwnas_predictor_new(&a, ctx, "mlp", "seed=1;ensemble=4"), HWNAS_OK);
    assert_int_equal(hwnas_predictor_new(&b, ctx, "mlp", "seed=2;ensemble=1"), HWNAS_OK);
    assert_int_equal(hwnas_predictor_fit(a, x, y, N, D), HWNAS_OK);
    assert_int_equal(hwnas_predictor_fit(b, x, y, N, D), HWNAS_OK);
    double ma[N], sa[N], mb[N], sb[N];
    assert_int_equal(hwnas_predictor_predict(a, x, N, ma, sa), HWNAS_OK);
    assert_int_equal(hwnas_predictor_predict(b, x, N, mb, sb), HWNAS_OK);
    assert_true(memcmp(ma, mb, sizeof ma) != 0);
    double spread = 0;
    for (size_t i = 0; i < N; i++) {
        spread += sa[i];
        assert_true(sb[i] == 0); /* one network: no spread */
    }
    assert_true(spread > 0);
    hwnas_predictor_free(a);
    hwnas_predictor_free(b);
}

static void test_rank(void **state)
{
    (void)state;
    double a[5] = {1, 2, 3, 4, 5}, b[5] = {10, 20, 30, 40, 50}, c[5] = {5, 4, 3, 2, 1}, v;
    assert_int_equal(hwnas_rank_kendall(a, b, 5, &v), HWNAS_OK);
    assert_true(fabs(v - 1) < 1e-12);
    assert_int_equal(hwnas_rank_spearman(a, c, 5, &v), HWNAS_OK);
    assert_true(fabs(v + 1) < 1e-12);
    double p[3] = {1, 2, 3}, q[3] = {1, 3, 2};
    assert_int_equal(hwnas_rank_kendall(p, q, 3, &v), HWNAS_OK);
    assert_true(fabs(v - 1.0 / 3) < 1e-12);
    assert_int_equal(hwnas_rank_spearman(p, q, 3, &v), HWNAS_OK);
    assert_true(fabs(v - 0.5) < 1e-12);
    /* ties: tau-b */
    double t[3] = {1, 1, 2};
    assert_int_equal(hwnas_rank_kendall(t, p, 3, &v), HWNAS_OK);
    assert_true(fabs(v - 2 / sqrt(6)) < 1e-12);
    /* spearman with ties: Pearson of mid-ranks (1.5, 1.5, 3) vs (1, 2, 3) */
    assert_int_equal(hwnas_rank_spearman(t, p, 3, &v), HWNAS_OK);
    assert_true(fabs(v - 1.5 / sqrt(1.5 * 2)) < 1e-12);
    double k[3] = {7, 7, 7};
    assert_int_equal(hwnas_rank_kendall(k, p, 3, &v), HWNAS_OK);
    assert_true(v == 0);
    q[1] = NAN;
    assert_int_equal(hwnas_rank_spearman(p, q, 3, &v), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "value 1 of b"));
    assert_int_equal(hwnas_rank_kendall(p, q, 1, &v), HWNAS_EINVAL);
    assert_int_equal(hwnas_rank_kendall(NULL, q, 3, &v), HWNAS_EINVAL);
    assert_int_equal(hwnas_rank_kendall(p, q, 3, NULL), HWNAS_EINVAL);
}

static void test_encode_cell(void **state)
{
    (void)state;
    hwnas_space *s = NULL;
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", NULL), HWNAS_OK);
    size_t n = 0;
    assert_int_equal(hwnas_space_encode(s, NULL, NULL, NULL, 0, &n), HWNAS_OK);
    assert_int_equal(n, 84);
    assert_int_equal(hwnas_space_encode(s, "onehot", NULL, NULL, 0, &n), HWNAS_OK);
    assert_int_equal(n, 30);
    double v[84];
    uint32_t g[6];
    /* every edge nor_conv_3x3 (op 3, path code 2): one path of each length */
    assert_int_equal(hwnas_space_parse(s, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|"
                                          "nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
                                       g),
                     HWNAS_OK);
    assert_int_equal(hwnas_space_encode(s, "path", g, v, 84, &n), HWNAS_OK);
    double sum = 0;
    for (size_t i = 0; i < 84; i++)
        sum += v[i];
    assert_true(sum == 3 && v[2] == 1 && v[4 + 10] == 1 && v[20 + 42] == 1);
    /* all none: no path */
    memset(g, 0, sizeof g);
    assert_int_equal(hwnas_space_encode(s, "", g, v, 84, &n), HWNAS_OK);
    for (size_t i = 0; i < 84; i++)
        assert_true(v[i] == 0);
    /* skip on 3<-0 only, the rest none: the length-1 path of skip (code 0) */
    g[3] = 1;
    assert_int_equal(hwnas_space_encode(s, NULL, g, v, 84, &n), HWNAS_OK);
    assert_true(v[0] == 1);
    assert_int_equal(hwnas_space_encode(s, "onehot", g, v, 84, &n), HWNAS_OK);
    assert_int_equal(n, 30);
    assert_true(v[0] == 1 && v[3 * 5 + 1] == 1 && v[3 * 5] == 0);
    /* errors */
    assert_int_equal(hwnas_space_encode(s, "adjacency", g, v, 84, &n), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "onehot, path"));
    assert_int_equal(hwnas_space_encode(s, NULL, g, v, 10, &n), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "84 features"));
    g[2] = 9;
    assert_int_equal(hwnas_space_encode(s, NULL, g, v, 84, &n), HWNAS_EINVAL);
    assert_int_equal(hwnas_space_encode(s, NULL, NULL, v, 84, &n), HWNAS_EINVAL);
    assert_int_equal(hwnas_space_encode(NULL, NULL, g, v, 84, &n), HWNAS_EINVAL);
    hwnas_space_free(s);
}

/* CGP: genotypes that differ only in inactive genes share their "active"
 * features (and hash), not their one-hot. */
static void test_encode_cgp(void **state)
{
    (void)state;
    hwnas_space *s = NULL;
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp", "rows=1;cols=6;levels_back=6"), HWNAS_OK);
    size_t ng = hwnas_space_gene_count(s), n = 0, n1 = 0;
    assert_int_equal(hwnas_space_encode(s, NULL, NULL, NULL, 0, &n), HWNAS_OK);
    assert_int_equal(hwnas_space_encode(s, "onehot", NULL, NULL, 0, &n1), HWNAS_OK);
    assert_int_equal(n, n1);
    uint32_t *a = calloc(ng, sizeof *a), *b = calloc(ng, sizeof *b);
    double *va = malloc(n * sizeof *va), *vb = malloc(n * sizeof *vb);
    hwnas_rng *r = NULL;
    assert_int_equal(hwnas_rng_new(&r, ctx, 4, 0), HWNAS_OK);
    int found = 0;
    for (int t = 0; t < 200 && !found; t++) {
        assert_int_equal(hwnas_space_sample(s, r, a), HWNAS_OK);
        memcpy(b, a, ng * sizeof *a);
        /* change every gene of node 5's (the last column's) parameters when
         * the output does not use node 5 */
        uint64_t ha, hb;
        for (size_t i = 5 * 12 + 3; i < 6 * 12; i++)
            b[i] = (a[i] + 1) % hwnas_space_gene_cardinality(s, i);
        if (hwnas_space_hash(s, a, &ha) != HWNAS_OK || hwnas_space_hash(s, b, &hb) != HWNAS_OK ||
            ha != hb)
            continue;
        found = 1;
        assert_int_equal(hwnas_space_encode(s, "active", a, va, n, &n), HWNAS_OK);
        assert_int_equal(hwnas_space_encode(s, "active", b, vb, n, &n), HWNAS_OK);
        assert_memory_equal(va, vb, n * sizeof *va);
        assert_int_equal(hwnas_space_encode(s, "onehot", a, va, n, &n), HWNAS_OK);
        assert_int_equal(hwnas_space_encode(s, "onehot", b, vb, n, &n), HWNAS_OK);
        assert_true(memcmp(va, vb, n * sizeof *va) != 0);
    }
    assert_true(found);
    assert_int_equal(hwnas_space_encode(s, "path", a, va, n, &n), HWNAS_ENOTFOUND);
    hwnas_rng_free(r);
    free(a);
    free(b);
    free(va);
    free(vb);
    hwnas_space_free(s);
}

/* ---- the predictor estimator ------------------------------------------ */

/* A synthetic accuracy of a cell: a weight per operation and edge. */
static double cell_score(const char *key)
{
    static const char *const ops[] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                      "avg_pool_3x3"};
    static const double w[5] = {0, 1, 3, 5, 1.5};
    double v = 50;
    int edge = 0;
    for (const char *c = key; *c; c++)
        if (*c == '|' && c[1] && c[1] != '+') {
            for (int o = 4; o >= 0; o--)
                if (strncmp(c + 1, ops[o], strlen(ops[o])) == 0) {
                    v += w[o] * (1 + 0.1 * edge);
                    break;
                }
            edge++;
        }
    return v;
}

static int score_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                    void *user_data)
{
    (void)net;
    (void)stream;
    int *calls = user_data;
    __atomic_add_fetch(calls, 1, __ATOMIC_SEQ_CST);
    values[0] = cell_score(key);
    return 0;
}

static void test_estimator_predictor(void **state)
{
    (void)state;
    hwnas_estimator *e = NULL;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "predictor",
                                         "metric=accuracy;min_data=8;early=error;predictor=gp"),
                     HWNAS_OK);
    assert_int_equal(hwnas_estimator_metric_count(e), 2);
    assert_string_equal(hwnas_estimator_metric_name(e, 0), "predicted_accuracy");
    assert_string_equal(hwnas_estimator_metric_name(e, 1), "predicted_accuracy_std");
    hwnas_space *s = NULL;
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", NULL), HWNAS_OK);
    hwnas_rng *r = NULL;
    assert_int_equal(hwnas_rng_new(&r, ctx, 8, 0), HWNAS_OK);
    uint32_t g[6];
    char *key = NULL;
    double v[2];
    assert_int_equal(hwnas_space_sample(s, r, g), HWNAS_OK);
    assert_int_equal(hwnas_space_format(s, g, &key), HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    /* asked before it has data: a clear error for this candidate */
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 0, v), HWNAS_ESTATE);
    assert_non_null(strstr(hwnas_error_last(), "0 finished evaluations of 'accuracy'"));
    const char *names[2] = {"latency_ms", "accuracy"};
    for (int i = 0; i < 60; i++) {
        char *k = NULL;
        assert_int_equal(hwnas_space_sample(s, r, g), HWNAS_OK);
        assert_int_equal(hwnas_space_format(s, g, &k), HWNAS_OK);
        double vals[2] = {1, cell_score(k)};
        assert_int_equal(hwnas_estimator_observe(e, k, 2, names, vals), HWNAS_OK);
        vals[1] = NAN; /* ignored: nothing to learn */
        assert_int_equal(hwnas_estimator_observe(e, k, 2, names, vals), HWNAS_OK);
        hwnas_free(k);
    }
    assert_int_equal(hwnas_estimator_observe(e, "|bogus~0|", 2, names, (double[]){1, 2}),
                     HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "bogus"));
    assert_int_equal(hwnas_estimator_observe(e, NULL, 0, NULL, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 0, v), HWNAS_OK);
    assert_true(fabs(v[0] - cell_score(key)) < 3);
    assert_true(v[1] >= 0);
    /* other kinds ignore observations */
    hwnas_estimator *cost = NULL;
    assert_int_equal(hwnas_estimator_new(&cost, ctx, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_estimator_observe(cost, key, 2, names, (double[]){1, 2}), HWNAS_OK);
    hwnas_estimator_free(cost);
    hwnas_free(key);
    hwnas_estimator_free(e);
    /* early=nan: unknown rather than failed */
    assert_int_equal(hwnas_estimator_new(&e, ctx, "predictor", "min_data=5"), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, "|none~0|+|none~0|none~1|+|none~0|none~1|"
                                                      "none~2|",
                                              0, v),
                     HWNAS_OK);
    assert_true(isnan(v[0]) && isnan(v[1]));
    hwnas_estimator_free(e);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "predictor", "metric=Accuracy"), HWNAS_EINVAL);
    assert_int_not_equal(hwnas_estimator_new(&e, ctx, "predictor", "space=nospace"), HWNAS_OK);
    assert_non_null(strstr(hwnas_error_last(), "nospace"));
    hwnas_net_free(net);
    hwnas_rng_free(r);
    hwnas_space_free(s);
}

/* In a search, the predictor estimator learns from the other estimator's
 * results as they are archived. */
static void test_estimator_in_search(void **state)
{
    (void)state;
    int calls = 0;
    hwnas_search *s = NULL;
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, "random", NULL,
                                      "objectives=accuracy:max;budget=60;batch=10;seed=3"),
                     HWNAS_OK);
    hwnas_estimator *e = NULL;
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "score", "accuracy:%", score_cb, &calls),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, e), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "predictor", "min_data=10;predictor=gbrt"),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    assert_int_equal(hwnas_search_count(s), 60);
    size_t known = 0;
    double err = 0;
    for (size_t i = 0; i < 60; i++) {
        double p = NAN, a = NAN;
        assert_null(hwnas_search_error(s, i));
        hwnas_search_metric(s, i, "predicted_accuracy", &p);
        hwnas_search_metric(s, i, "accuracy", &a);
        if (i < 10)
            assert_true(isnan(p)); /* nothing observed before the first batch ends */
        else if (!hwnas_search_cached(s, i)) {
            assert_false(isnan(p));
            known++;
            if (i >= 40)
                err += fabs(p - a);
        }
    }
    assert_true(known > 40);
    assert_true(err / 20 < 4);
    hwnas_search_free(s);
    hwnas_estimator_free(e);
}

/* ---- predictor-guided searches ---------------------------------------- */

typedef struct run_out {
    size_t n;
    char keys[200][128];
    double best;
    int calls;
} run_out;

static void guided_run(hwnas_context *c, const char *strategy, const char *sopts,
                       const char *opts, run_out *o)
{
    memset(o, 0, sizeof *o);
    hwnas_search *s = NULL;
    assert_int_equal(hwnas_search_new(&s, c, "cell", NULL, strategy, sopts, opts), HWNAS_OK);
    hwnas_estimator *e = NULL;
    assert_int_equal(hwnas_estimator_new_custom(&e, c, "score", "accuracy:%", score_cb,
                                                &o->calls),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, e), HWNAS_OK);
    int rc = hwnas_search_run(s);
    if (rc != HWNAS_OK)
        fail_msg("%s: %s", strategy, hwnas_error_last());
    o->n = hwnas_search_count(s);
    o->best = -1;
    for (size_t i = 0; i < o->n && i < 200; i++) {
        snprintf(o->keys[i], sizeof o->keys[i], "%s", hwnas_search_key(s, i));
        double a;
        if (hwnas_search_metric(s, i, "accuracy", &a) == HWNAS_OK && a > o->best)
            o->best = a;
    }
    hwnas_search_free(s);
    hwnas_estimator_free(e);
}

/* Every strategy runs guided; the archive holds exactly the estimated
 * candidates (the rest of each pool is never archived), and the same seed
 * gives the same archive at any thread count. */
static void test_guide_every_strategy(void **state)
{
    (void)state;
    static const char *const strategies[][2] = {
        {"random", ""},
        {"ea", "mode=regularized;population=10;sample=3"},
        {"ea", "mode=one_plus_lambda;lambda=4"},
        {"nsga2", "population=12"},
        {"reinforce", ""},
    };
    for (size_t k = 0; k < sizeof strategies / sizeof *strategies; k++)
        for (size_t g = 0; g < 3; g++) {
            char opts[256];
            snprintf(opts, sizeof opts,
                     "objectives=accuracy:max;budget=40;batch=5;seed=7;guide=%s;guide_pool=40;"
                     "guide_min=10;guide_options=%s",
                     kinds[g], g == 0 ? "epochs=30" : "");
            hwnas_context *c1 = NULL, *c4 = NULL;
            assert_int_equal(hwnas_context_new(&c1, "threads=1;log_level=error"), HWNAS_OK);
            assert_int_equal(hwnas_context_new(&c4, "threads=4;log_level=error"), HWNAS_OK);
            static run_out a, b;
            guided_run(c1, strategies[k][0], strategies[k][1], opts, &a);
            guided_run(c4, strategies[k][0], strategies[k][1], opts, &b);
            assert_int_equal(a.n, 40);
            assert_int_equal(b.n, 40);
            /* each archived candidate was estimated at most once (cached ones not at all) */
            assert_true(a.calls <= 40);
            for (size_t i = 0; i < 40; i++)
                assert_string_equal(a.keys[i], b.keys[i]);
            assert_int_equal(a.calls, b.calls);
            hwnas_context_free(c1);
            hwnas_context_free(c4);
        }
}

/* Guiding pays on a learnable objective: over seeds, guided random search
 * finds better cells than plain random search with the same budget. */
static void test_guide_helps(void **state)
{
    (void)state;
    double plain = 0, guided = 0;
    for (int seed = 1; seed <= 5; seed++) {
        char opts[256];
        static run_out o;
        snprintf(opts, sizeof opts, "objectives=accuracy:max;budget=40;batch=5;seed=%d", seed);
        guided_run(ctx, "random", "", opts, &o);
        plain += o.best;
        snprintf(opts, sizeof opts,
                 "objectives=accuracy:max;budget=40;batch=5;seed=%d;guide=gp;guide_min=10;"
                 "guide_pool=200",
                 seed);
        guided_run(ctx, "random", "", opts, &o);
        guided += o.best;
    }
    print_message("best: plain %.3f guided %.3f\n", plain / 5, guided / 5);
    assert_true(guided > plain + 1);
}

static int stop_at_20(hwnas_search *s, size_t n, void *user_data)
{
    (void)s;
    (void)user_data;
    return n >= 20;
}

/* A guided search stopped and resumed from its directory ends with the
 * archive of an uninterrupted one: the predictors are a function of the
 * archive and the seed, and the strategy's snapshot holds what the rest of
 * each pool told it. */
static void test_guide_resume(void **state)
{
    (void)state;
    static const char *const strategies[][2] = {
        {"ea", "mode=regularized;population=10;sample=3"}, {"nsga2", "population=12"}};
    for (size_t k = 0; k < 2; k++) {
        const char *base = "objectives=accuracy:max;budget=40;batch=5;seed=4;guide=gbrt;"
                           "guide_min=10;guide_pool=30;snapshot_every=5";
        static run_out whole;
        guided_run(ctx, strategies[k][0], strategies[k][1], base, &whole);
        char opts[512];
        snprintf(opts, sizeof opts, "%s;out=%s/r%zu", base, test_tmpdir, k);
        int calls = 0;
        hwnas_estimator *e = NULL;
        assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "score", "accuracy:%", score_cb,
                                                    &calls),
                         HWNAS_OK);
        hwnas_search *s = NULL;
        assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, strategies[k][0],
                                          strategies[k][1], opts),
                         HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator_object(s, e), HWNAS_OK);
        hwnas_search_on_batch(s, stop_at_20, NULL);
        assert_int_equal(hwnas_search_run(s), HWNAS_EUSER);
        /* a guided batch may be short (few new candidates in its pool) */
        assert_true(hwnas_search_count(s) >= 20 && hwnas_search_count(s) < 40);
        hwnas_search_free(s);
        char dir[256];
        snprintf(dir, sizeof dir, "%s/r%zu", test_tmpdir, k);
        assert_int_equal(hwnas_search_resume(&s, ctx, dir, NULL), HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator_object(s, e), HWNAS_OK);
        if (hwnas_search_run(s) != HWNAS_OK)
            fail_msg("resume: %s", hwnas_error_last());
        assert_int_equal(hwnas_search_count(s), 40);
        for (size_t i = 0; i < 40; i++)
            assert_string_equal(hwnas_search_key(s, i), whole.keys[i]);
        hwnas_search_free(s);
        hwnas_estimator_free(e);
    }
}

static void test_guide_errors(void **state)
{
    (void)state;
    hwnas_search *s = NULL;
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, "random", NULL, "guide=svm"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "guide"));
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, "random", NULL,
                                      "objectives=accuracy:max;guide=gp;guide_encoding=active"),
                     HWNAS_OK);
    int calls = 0;
    hwnas_estimator *e = NULL;
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "score", "accuracy:%", score_cb, &calls),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, e), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "guide_encoding"));
    hwnas_search_free(s);
    /* bad predictor options are named when guiding starts */
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, "random", NULL,
                                      "objectives=accuracy:max;budget=30;batch=5;guide=gp;"
                                      "guide_min=10;guide_options=kernel=cubic"),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, e), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "guide_options"));
    hwnas_search_free(s);
    hwnas_estimator_free(e);
    /* nested co-design runs inner searches per network: not guided */
    assert_int_equal(hwnas_search_new(&s, ctx, "cell+accelerator", NULL, "random", NULL,
                                      "objectives=macs:min;budget=4;guide=gbrt;"
                                      "codesign=nested"),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "accelerator", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_EUNSUPPORTED);
    assert_non_null(strstr(hwnas_error_last(), "codesign=nested"));
    hwnas_search_free(s);
}

/* Unevaluated tells (what a guided search tells of the pool members it
 * does not estimate): they complete a generation, never block a strategy,
 * and are checked like any tell. */
static void test_tell_unevaluated(void **state)
{
    (void)state;
    hwnas_space *sp = NULL;
    assert_int_equal(hwnas_space_new(&sp, ctx, "cell", NULL), HWNAS_OK);
    static const char *const kinds_opts[][2] = {
        {"nsga2", "population=6"},
        {"ea", "mode=regularized;population=6;sample=2"},
        {"ea", "mode=one_plus_lambda;lambda=5"},
        {"reinforce", ""},
        {"random", ""},
    };
    for (size_t k = 0; k < 5; k++) {
        hwnas_strategy *st = NULL;
        assert_int_equal(hwnas_strategy_new(&st, ctx, kinds_opts[k][0], kinds_opts[k][1], sp, 1),
                         HWNAS_OK);
        uint32_t g[64 * 6];
        uint64_t ids[64];
        for (int round = 0; round < 6; round++) {
            size_t n = 0;
            assert_int_equal(hwnas_strategy_ask(st, 6, g, ids, &n), HWNAS_OK);
            assert_true(n > 0); /* never stuck waiting for an unevaluated one */
            /* the first two evaluated, the rest not */
            size_t real = n < 2 ? n : 2;
            double obj[6] = {1, 2, 3, 4, 5, 6};
            assert_int_equal(hwnas_strategy_tell(st, real, ids, obj, NULL, NULL), HWNAS_OK);
            if (n > real)
                assert_int_equal(hwnas__strategy_tell_unevaluated(st, n - real, ids + real),
                                 HWNAS_OK);
            assert_int_equal(hwnas_strategy_pending(st), 0);
            assert_int_equal(hwnas__strategy_tell_unevaluated(st, 1, ids), HWNAS_EINVAL);
            assert_non_null(strstr(hwnas_error_last(), "not pending"));
        }
        hwnas_strategy_free(st);
    }
    hwnas_space_free(sp);
}

/* ---- out of memory ----------------------------------------------------- */

static int oom_step(hwnas_context *c, void *arg)
{
    const char *kind = arg;
    double x[16 * D], y[16], m[16], sd[16];
    for (size_t i = 0; i < 16; i++) {
        y[i] = 0;
        for (size_t j = 0; j < D; j++) {
            x[i * D + j] = (double)((i * 7 + j * 3) % 5 == 0);
            y[i] += x[i * D + j] * (double)j;
        }
    }
    hwnas_predictor *p = NULL;
    int rc = hwnas_predictor_new(&p, c, kind, "epochs=3;trees=5;ensemble=2");
    if (rc == HWNAS_EINVAL) /* options of another kind: the kind's own step */
        rc = hwnas_predictor_new(&p, c, kind, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_predictor_fit(p, x, y, 16, D);
    if (rc == HWNAS_OK)
        rc = hwnas_predictor_predict(p, x, 16, m, sd);
    hwnas_predictor_free(p);
    return rc;
}

/* estimator:predictor: create, observe, refit and predict. */
static int oom_estimator_step(hwnas_context *c, void *arg)
{
    (void)arg;
    static const char *const keys[] = {
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|",
        "|none~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|avg_pool_3x3~2|",
        "|skip_connect~0|+|none~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|none~2|",
    };
    hwnas_estimator *e = NULL;
    hwnas_net *net = NULL;
    int rc = hwnas_estimator_new(&e, c, "predictor", "predictor=gbrt;min_data=3;"
                                                      "predictor_options=trees=4");
    if (rc == HWNAS_OK)
        rc = hwnas_net_new(&net, c);
    const char *names[1] = {"accuracy"};
    for (size_t i = 0; rc == HWNAS_OK && i < 4; i++)
        rc = hwnas_estimator_observe(e, keys[i], 1, names, (double[]){80 + (double)i});
    double v[2];
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_estimate(e, net, keys[1], 0, v);
    hwnas_net_free(net);
    hwnas_estimator_free(e);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    test_oom_walk("estimator:predictor", oom_estimator_step, NULL);
    test_oom_walk("predictor:mlp", oom_step, "mlp");
    test_oom_walk("predictor:gbrt", oom_step, "gbrt");
    test_oom_walk("predictor:gp", oom_step, "gp");
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("predict/oom", tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_options),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_learns),
        cmocka_unit_test(test_gp_uncertainty),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_encode_cell),
        cmocka_unit_test(test_encode_cgp),
        cmocka_unit_test(test_estimator_predictor),
        cmocka_unit_test(test_estimator_in_search),
        cmocka_unit_test(test_guide_every_strategy),
        cmocka_unit_test(test_guide_helps),
        cmocka_unit_test(test_tell_unevaluated),
        cmocka_unit_test(test_guide_resume),
        cmocka_unit_test(test_guide_errors),
    };
    return cmocka_run_group_tests_name("predict", tests, setup, teardown);
}
