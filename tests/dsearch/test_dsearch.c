/* tests/dsearch: the engine's mixed edges against finite differences and
 * against a path's own model, the cost gradient, derive with the skip cap,
 * the search's determinism at 1 and 2 threads, resume after SIGKILL, a
 * diverging loss, bad options and bad checkpoints. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsearch/dsearch_internal.h"
#include "engine/model_internal.h"
#include "hwnas/hwnas.h"
#include "test_oom.h"
#include "test_tmpdir.h"

#define N_IMG 64
#define H 8
#define SMALL "channels=4;cells=1;epochs=2;batch=8;a_lr=0.01;evaluation=0;calibration=32"

static hwnas_context *ctx1, *ctx2; /* 1 and 2 threads */
static hwnas_dataset *ds;

static int setup(void **state)
{
    (void)state;
    if (test_tmpdir_make("hwnas-ds") != 0)
        return -1;
    if (hwnas_context_new(&ctx1, "threads=1") != HWNAS_OK ||
        hwnas_context_new(&ctx2, "threads=2") != HWNAS_OK)
        return -1;
    float f[N_IMG * H * H];
    int32_t l[N_IMG];
    for (int s = 0; s < N_IMG; s++) {
        l[s] = s % 4;
        for (int k = 0; k < H * H; k++) {
            /* a class-dependent pattern plus noise, so that training learns */
            int v = ((k % H) < 2 * (l[s] + 1) ? 160 : 40) + (s * 131 + k * 71) % 50;
            f[s * H * H + k] = (float)v / 255.0f - 0.4f;
        }
    }
    return hwnas_dataset_from_float(&ds, ctx1, f, l, N_IMG, 1, H, H, 4) == HWNAS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx1);
    hwnas_context_free(ctx2);
    return test_tmpdir_remove();
}

static void expect_fail_in(const char *dir, const char *opts, int code, const char *words);

static hwnas__ds_run *make_run(hwnas_context *ctx, const char *opts, hwnas__ds_config *c)
{
    assert_int_equal(hwnas__ds_read_config(c, ctx, opts), HWNAS_OK);
    hwnas__ds_shape shape = {1, H, 4};
    hwnas__ds_run *r = NULL;
    if (hwnas__ds_run_new(&r, ctx, c, 0, &shape, NULL) != HWNAS_OK)
        fail_msg("run: %s", hwnas_error_last());
    return r;
}

/* Mean loss of a training-mode forward on the first n images. */
static double loss_of(hwnas__engine *e, const float *x, const int32_t *y, size_t n)
{
    assert_int_equal(hwnas__engine_forward(e, x, n, 1, 0), HWNAS_OK);
    double loss;
    size_t correct;
    hwnas__engine_loss(&loss, &correct, NULL, e, y, 0);
    return loss;
}

/* d loss / d coefficient from the mixed edges equals the central finite
 * difference, for soft (DARTS) coefficients; and a term of coefficient 0
 * with skip_zero gets no gradient and its private nodes none either. */
static void test_mix_gradient(void **state)
{
    (void)state;
    hwnas__ds_config c;
    hwnas__ds_run *r = make_run(ctx1, SMALL, &c);
    hwnas__engine *e = r->sn->full->eng;
    enum { NB = 8 };
    float x[NB * H * H], dl[NB * 4];
    int32_t y[NB];
    size_t order[NB];
    for (size_t k = 0; k < NB; k++)
        order[k] = k;
    assert_int_equal(hwnas_dataset_batch(x, y, ds, order, NB), HWNAS_OK);
    assert_int_equal(hwnas__engine_reserve(e, NB), HWNAS_OK);
    float *w = hwnas__mix_w(r->mix);
    double *dw = hwnas__mix_dw(r->mix);
    for (size_t k = 0; k < HWNAS__DS_COEF; k++)
        w[k] = 0.1f + 0.05f * (float)(k % 7);
    memset(dw, 0, HWNAS__DS_COEF * sizeof *dw);
    assert_int_equal(hwnas__engine_forward(e, x, NB, 1, 0), HWNAS_OK);
    double loss;
    size_t correct;
    hwnas__engine_loss(&loss, &correct, dl, e, y, 0);
    assert_int_equal(hwnas__engine_backward(e, dl), HWNAS_OK);
    double g[HWNAS__DS_COEF];
    memcpy(g, dw, sizeof g);
    int checked = 0;
    double err = 0, mag = 0;
    for (size_t k = 0; k < HWNAS__DS_COEF; k++) {
        if (k % HWNAS__SN_OPS == 0) { /* none: no term, no gradient */
            assert_true(g[k] == 0.0);
            continue;
        }
        float keep = w[k];
        /* small h: the loss has ReLU kinks; float noise bounds the match */
        double h = 1e-3;
        w[k] = keep + (float)h;
        double up = loss_of(e, x, y, NB);
        w[k] = keep - (float)h;
        double down = loss_of(e, x, y, NB);
        w[k] = keep;
        double fd = (up - down) / (2 * h);
        if (fabs(fd - g[k]) > 0.06 * fabs(fd) + 0.012)
            fail_msg("coefficient %zu: analytic %g, finite difference %g", k, g[k], fd);
        err += fabs(fd - g[k]), mag += fabs(fd);
        checked += fabs(g[k]) > 1e-3;
    }
    assert_true(checked >= 10); /* the gradients are not all ~0 */
    if (err > 0.04 * mag)
        fail_msg("analytic and finite-difference gradients differ by %g of %g", err, mag);
    /* coefficient of edge 0's nor_conv_3x3 off: its convolutions get no
     * gradient, the term no d loss / d w */
    w[0 * HWNAS__SN_OPS + 3] = 0.0f;
    hwnas__mix_skip_zero(r->mix, 1);
    memset(dw, 0, HWNAS__DS_COEF * sizeof *dw);
    assert_int_equal(hwnas__engine_forward(e, x, NB, 1, 0), HWNAS_OK);
    hwnas__engine_loss(&loss, &correct, dl, e, y, 0);
    assert_int_equal(hwnas__engine_backward(e, dl), HWNAS_OK);
    assert_true(dw[3] == 0.0);
    size_t owned = 0;
    for (size_t i = 0; i < e->n; i++)
        if (hwnas__mix_owner(r->mix, i) == 3) {
            owned++;
            for (size_t p = 0; p < e->nodes[i].n_p; p++)
                assert_true(e->grads[e->nodes[i].p_off + p] == 0.0f);
        }
    /* relu, conv, bn in each of the 3 stages' cell */
    assert_int_equal(owned, 9);
    hwnas__ds_run_free(r);
}

/* A one-hot step (GDAS) computes the path's network: the full net's
 * logits equal those of the path's own model with the same weights. */
static void test_one_hot_is_path(void **state)
{
    (void)state;
    hwnas__ds_config c;
    hwnas__ds_run *r = make_run(ctx2, SMALL, &c);
    hwnas__engine *e = r->sn->full->eng;
    const uint32_t g[6] = {3, 2, 4, 3, 1, 2};
    float *w = hwnas__mix_w(r->mix);
    for (size_t k = 0; k < HWNAS__DS_COEF; k++)
        w[k] = g[k / HWNAS__SN_OPS] == k % HWNAS__SN_OPS ? 1.0f : 0.0f;
    hwnas__mix_skip_zero(r->mix, 1);
    enum { NB = 8 };
    float x[NB * H * H];
    int32_t y[NB];
    size_t order[NB];
    for (size_t k = 0; k < NB; k++)
        order[k] = k + 3;
    assert_int_equal(hwnas_dataset_batch(x, y, ds, order, NB), HWNAS_OK);
    assert_int_equal(hwnas__engine_reserve(e, NB), HWNAS_OK);
    assert_int_equal(hwnas__engine_forward(e, x, NB, 1, 0), HWNAS_OK);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_supernet_subnet(&m, r->sn, g), HWNAS_OK);
    assert_int_equal(hwnas__engine_reserve(m->eng, NB), HWNAS_OK);
    assert_int_equal(hwnas__engine_forward(m->eng, x, NB, 1, 0), HWNAS_OK);
    const float *a = e->act[e->logits], *b = m->eng->act[m->eng->logits];
    for (size_t k = 0; k < NB * 4; k++)
        if (fabsf(a[k] - b[k]) > 1e-4f * (1 + fabsf(b[k])))
            fail_msg("logit %zu: mixed %g, path %g", k, a[k], b[k]);
    hwnas_model_free(m);
    hwnas__ds_run_free(r);
}

/* The cost gradient is the derivative of the expected cost; the table
 * prices a 3x3 convolution at 9x a 1x1's weights and skip/pool/none at 0. */
static void test_cost(void **state)
{
    (void)state;
    hwnas__ds_config c;
    hwnas__ds_run *r = make_run(ctx1, SMALL, &c);
    double macs[HWNAS__DS_COEF], params[HWNAS__DS_COEF];
    hwnas__ds_cost_table(macs, r, HWNAS__DS_COST_MACS);
    hwnas__ds_cost_table(params, r, HWNAS__DS_COST_PARAMS);
    for (int ed = 0; ed < 6; ed++) {
        const double *m = macs + ed * 5;
        assert_true(m[0] == 0 && m[1] == 0 && m[4] == 0);
        assert_true(m[2] > 0);
        /* convolution MACs: 9x (batch-norms count no MACs) */
        assert_true(fabs(m[3] - 9 * m[2]) < 1e-9 * m[3]);
        assert_true(params[ed * 5 + 3] > params[ed * 5 + 2]);
    }
    /* the whole full net's MACs are the cost table's plus the skeleton's */
    double alpha[HWNAS__DS_COEF], grad[HWNAS__DS_COEF];
    for (size_t k = 0; k < HWNAS__DS_COEF; k++)
        alpha[k] = 0.3 * sin((double)k);
    hwnas__ds_cost_grad(grad, alpha, macs, 1e6);
    for (size_t k = 0; k < HWNAS__DS_COEF; k++) {
        double keep = alpha[k], h = 1e-5;
        alpha[k] = keep + h;
        double up = hwnas__ds_cost_grad(NULL, alpha, macs, 1);
        alpha[k] = keep - h;
        double down = hwnas__ds_cost_grad(NULL, alpha, macs, 1);
        alpha[k] = keep;
        double fd = (up - down) / (2 * h) / 1e6;
        assert_true(fabs(fd - grad[k]) <= 1e-6 * (fabs(fd) + 1e-3));
    }
    hwnas__ds_run_free(r);
}

static void test_derive(void **state)
{
    (void)state;
    double alpha[HWNAS__DS_COEF] = {0};
    /* edges 0..3 prefer skip (edge 2 least), edges 4, 5 prefer conv3 */
    const double skip_p[6] = {3, 2.5, 1.2, 2, 0, 0};
    for (int ed = 0; ed < 6; ed++) {
        alpha[ed * 5 + 1] = skip_p[ed];
        alpha[ed * 5 + 3] = ed >= 4 ? 2 : 0.5;
        alpha[ed * 5 + 2] = ed == 2 ? 1.0 : 0.1; /* edge 2's runner-up: conv1 */
        alpha[ed * 5 + 0] = ed == 2 ? 1.1 : -1;  /* none ranks above it but is not taken */
    }
    uint32_t g[6];
    hwnas__ds_derive(g, alpha, -1);
    const uint32_t plain[6] = {1, 1, 1, 1, 3, 3};
    assert_memory_equal(g, plain, sizeof g);
    hwnas__ds_derive(g, alpha, 2);
    const uint32_t capped[6] = {1, 1, 2, 3, 3, 3};
    assert_memory_equal(g, capped, sizeof g);
    hwnas__ds_derive(g, alpha, 0);
    for (int ed = 0; ed < 6; ed++)
        assert_true(g[ed] != 1 && g[ed] != 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[4][65536];
    static int which;
    char *b = buf[which++ % 4];
    size_t n = fread(b, 1, sizeof buf[0] - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static void same_file(const char *a, const char *b, const char *name)
{
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/%s", a, name);
    snprintf(pb, sizeof pb, "%s/%s", b, name);
    const char *x = slurp(pa), *y = slurp(pb);
    if (strcmp(x, y) != 0)
        fail_msg("%s and %s differ:\n%s\n---\n%s", pa, pb, x, y);
}

static void search(hwnas_context *ctx, const char *opts, const char *dir)
{
    if (hwnas_dsearch_run(ctx, ds, NULL, opts, dir, NULL, NULL) != HWNAS_OK)
        fail_msg("dsearch %s: %s", opts, hwnas_error_last());
}

/* DARTS and GDAS: the same files at 1 and 2 threads; alpha moved, the
 * cost term pulls the expected cost down, and the results directory holds
 * what the header lists. */
static void test_deterministic(void **state)
{
    (void)state;
    const char *methods[2] = {"darts", "gdas"};
    for (int mth = 0; mth < 2; mth++) {
        char a[256], b[256], opts[512];
        snprintf(a, sizeof a, "%s/det-%s-1", test_tmpdir, methods[mth]);
        snprintf(b, sizeof b, "%s/det-%s-2", test_tmpdir, methods[mth]);
        snprintf(opts, sizeof opts, SMALL ";method=%s;lambda=0,2;cost=macs", methods[mth]);
        search(ctx1, opts, a);
        search(ctx2, opts, b);
        same_file(a, b, "front.csv");
        same_file(a, b, "cost.csv");
        same_file(a, b, "lambda-0/alpha.csv");
        same_file(a, b, "lambda-1/alpha.csv");
        same_file(a, b, "lambda-1/epochs.csv");
        same_file(a, b, "lambda-1/derived.net");
        /* the cost term: the expected cost of the last epoch is lower with
         * lambda 2 than with 0 */
        char p[512];
        double c0 = 0, c1 = 0;
        for (int li = 0; li < 2; li++) {
            snprintf(p, sizeof p, "%s/lambda-%d/epochs.csv", a, li);
            const char *t = slurp(p);
            const char *last = strrchr(t, '\n');
            while (last > t && last[-1] != '\n')
                last--;
            const char *comma = strrchr(last, ',');
            assert_non_null(comma);
            *(li ? &c1 : &c0) = strtod(comma + 1, NULL);
        }
        if (!(c1 < c0))
            fail_msg("%s: expected cost with lambda=2 %g, with 0 %g", methods[mth], c1, c0);
        /* the derived net is a net file the library reads */
        hwnas_net *net = NULL;
        snprintf(p, sizeof p, "%s/lambda-0/derived.net", a);
        assert_int_equal(hwnas_net_load(&net, ctx1, p), HWNAS_OK);
        assert_true(hwnas_net_node_count(net) > 10);
        hwnas_net_free(net);
        snprintf(p, sizeof p, "%s/front.csv", a);
        const char *front = slurp(p);
        assert_non_null(strstr(front, "lambda,arch,accuracy"));
        assert_non_null(strstr(front, "lambda-1/derived.net"));
    }
}

/* FBNet, ProxylessNAS and second-order DARTS: deterministic across
 * threads and alpha moves; darts2 with xi=0 is first-order DARTS exactly;
 * the target form with a target above every cell changes nothing. */
static void test_methods(void **state)
{
    (void)state;
    const char *methods[3] = {"fbnet", "proxyless", "darts2"};
    for (int mth = 0; mth < 3; mth++) {
        char a[256], b[256], opts[512];
        snprintf(a, sizeof a, "%s/m-%s-1", test_tmpdir, methods[mth]);
        snprintf(b, sizeof b, "%s/m-%s-2", test_tmpdir, methods[mth]);
        snprintf(opts, sizeof opts, SMALL ";method=%s;lambda=1", methods[mth]);
        search(ctx1, opts, a);
        search(ctx2, opts, b);
        same_file(a, b, "front.csv");
        same_file(a, b, "lambda-0/alpha.csv");
        char p[512];
        snprintf(p, sizeof p, "%s/lambda-0/alpha.csv", a);
        const char *t = slurp(p);
        /* epoch 2's alpha of edge 0, none differs from its 1e-3 start */
        const char *row = strstr(t, "\n2,0,none,");
        assert_non_null(row);
        double alpha = strtod(row + strlen("\n2,0,none,"), NULL);
        assert_true(fabs(alpha) > 2e-3);
    }
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/xi0-first", test_tmpdir);
    snprintf(b, sizeof b, "%s/xi0-second", test_tmpdir);
    search(ctx1, SMALL ";method=darts;lambda=0", a);
    search(ctx1, SMALL ";method=darts2;xi=0;lambda=0", b);
    same_file(a, b, "lambda-0/alpha.csv");
    same_file(a, b, "front.csv");
    snprintf(b, sizeof b, "%s/target-high", test_tmpdir);
    search(ctx1, SMALL ";method=darts;lambda=3;form=target;target=1e15", b);
    same_file(a, b, "lambda-0/alpha.csv");
    snprintf(b, sizeof b, "%s/target-low", test_tmpdir);
    search(ctx1, SMALL ";method=darts;lambda=3;form=target;target=1000", b);
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/lambda-0/epochs.csv", a);
    snprintf(pb, sizeof pb, "%s/lambda-0/epochs.csv", b);
    const char *ea = strrchr(slurp(pa), ','), *eb = strrchr(slurp(pb), ',');
    assert_true(strtod(eb + 1, NULL) < strtod(ea + 1, NULL)); /* pushed below */
    expect_fail_in(b, "form=target", HWNAS_EINVAL, "target");
    expect_fail_in(b, "form=mul;cost=none", HWNAS_EINVAL, "cost");
}

/* cost=latency from a table file: the cost of an operation is the sum of
 * its nodes' entries over the cells; a table without one of them is an
 * error naming the operation, the edge and the key. */
static void test_latency_source(void **state)
{
    (void)state;
    hwnas__ds_config c;
    hwnas__ds_run *r = make_run(ctx1, SMALL, &c);
    hwnas_latency_lut *lut = NULL;
    assert_int_equal(hwnas_latency_lut_new(&lut, ctx1), HWNAS_OK);
    const hwnas_net *net = r->sn->full_net;
    char *skipped = NULL;
    for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
        char *key = NULL;
        assert_int_equal(hwnas_latency_lut_layer_key(&key, net, i), HWNAS_OK);
        assert_int_equal(hwnas_latency_lut_set(lut, key, 0.5), HWNAS_OK);
        hwnas_free(key);
    }
    char path[512], dir[512], opts[1024];
    snprintf(path, sizeof path, "%s/host.lut", test_tmpdir);
    snprintf(dir, sizeof dir, "%s/lat", test_tmpdir);
    assert_int_equal(hwnas_latency_lut_save(lut, path), HWNAS_OK);
    snprintf(opts, sizeof opts, SMALL ";cost=latency;lut=%s", path);
    assert_int_equal(hwnas__ds_read_config(&c, ctx1, opts), HWNAS_OK);
    double cost[HWNAS__DS_COEF];
    assert_int_equal(hwnas__ds_cost_source(cost, r, &c, dir), HWNAS_OK);
    for (int e = 0; e < 6; e++) {
        /* relu, conv, bn in each of the 3 cells; a pool node; nothing */
        assert_true(cost[e * 5 + 2] == 4.5 && cost[e * 5 + 3] == 4.5);
        assert_true(cost[e * 5 + 4] == 1.5 && cost[e * 5 + 1] == 0 && cost[e * 5 + 0] == 0);
    }
    /* a table lacking edge 4's 3x3 convolution (the key of its conv node) */
    hwnas_latency_lut *part = NULL;
    assert_int_equal(hwnas_latency_lut_new(&part, ctx1), HWNAS_OK);
    for (size_t i = 0; i < hwnas_net_node_count(net) && !skipped; i++)
        if (hwnas__mix_owner(r->mix, i) == 4 * 5 + 3 && hwnas_net_node_macs(net, i) > 0)
            assert_int_equal(hwnas_latency_lut_layer_key(&skipped, net, i), HWNAS_OK);
    for (size_t i = 0; skipped && i < hwnas_net_node_count(net); i++) {
        char *key = NULL;
        assert_int_equal(hwnas_latency_lut_layer_key(&key, net, i), HWNAS_OK);
        if (strcmp(key, skipped) != 0) /* the same shape on other edges goes too */
            assert_int_equal(hwnas_latency_lut_set(part, key, 0.5), HWNAS_OK);
        hwnas_free(key);
    }
    assert_non_null(skipped);
    snprintf(path, sizeof path, "%s/part.lut", test_tmpdir);
    assert_int_equal(hwnas_latency_lut_save(part, path), HWNAS_OK);
    snprintf(opts, sizeof opts, SMALL ";cost=latency;lut=%s", path);
    assert_int_equal(hwnas__ds_read_config(&c, ctx1, opts), HWNAS_OK);
    assert_int_equal(hwnas__ds_cost_source(cost, r, &c, dir), HWNAS_ENOTFOUND);
    if (!strstr(hwnas_error_last(), "nor_conv_3x3") || !strstr(hwnas_error_last(), skipped))
        fail_msg("message: %s", hwnas_error_last());
    hwnas_free(skipped);
    hwnas_latency_lut_free(part);
    hwnas_latency_lut_free(lut);
    hwnas__ds_run_free(r);
}

/* The last comma-separated field of the line at line. */
static double last_field(const char *line)
{
    const char *end = strchr(line, '\n'), *comma = NULL;
    for (const char *q = line; q < end; q++)
        if (*q == ',')
            comma = q;
    assert_non_null(comma);
    return strtod(comma + 1, NULL);
}

/* cost=energy on an accelerator description: convolutions priced, a 3x3
 * above a 1x1; the derived net's figure in front.csv is the model's. */
static void test_energy_source(void **state)
{
    (void)state;
    const char *root = getenv("HWNAS_SOURCE_ROOT");
    char hw[1024], dir[512], opts[2048];
    snprintf(hw, sizeof hw, "%s/examples/hardware/eyeriss.hw", root ? root : "..");
    snprintf(dir, sizeof dir, "%s/energy", test_tmpdir);
    snprintf(opts, sizeof opts, SMALL ";epochs=1;cost=energy;lambda=1;hardware=%s", hw);
    search(ctx1, opts, dir);
    char p[700];
    snprintf(p, sizeof p, "%s/cost.csv", dir);
    const char *t = slurp(p);
    for (int e = 0; e < 6; e++) {
        char k1[32], k3[32];
        snprintf(k1, sizeof k1, "\n%d,nor_conv_1x1,", e);
        snprintf(k3, sizeof k3, "\n%d,nor_conv_3x3,", e);
        const char *a = strstr(t, k1), *b = strstr(t, k3);
        assert_non_null(a);
        assert_non_null(b);
        double e1 = last_field(a + 1), e3 = last_field(b + 1);
        assert_true(e1 > 0 && e3 > e1);
    }
    hwnas_net *net = NULL;
    snprintf(p, sizeof p, "%s/lambda-0/derived.net", dir);
    assert_int_equal(hwnas_net_load(&net, ctx1, p), HWNAS_OK);
    hwnas_accel *acc = NULL;
    hwnas_accel_result *res = NULL;
    assert_int_equal(hwnas_accel_load(&acc, ctx1, hw, NULL), HWNAS_OK);
    assert_int_equal(hwnas_accel_run(&res, acc, net, NULL), HWNAS_OK);
    double energy;
    assert_int_equal(hwnas_accel_result_metric(&energy, res, -1, "energy_uj"), HWNAS_OK);
    snprintf(p, sizeof p, "%s/front.csv", dir);
    const char *front = strchr(slurp(p), '\n') + 1;
    /* lambda,arch,accuracy,retrain,macs,params,cost,... */
    const char *f = front;
    for (int k = 0; k < 6; k++)
        f = strchr(f, ',') + 1;
    assert_true(fabs(strtod(f, NULL) - energy) <= 1e-6 * energy);
    hwnas_accel_result_free(res);
    hwnas_accel_free(acc);
    hwnas_net_free(net);
    snprintf(dir, sizeof dir, "%s/energy-no-hw", test_tmpdir);
    expect_fail_in(dir, SMALL ";cost=energy", HWNAS_EINVAL, "hardware");
}

static int kill_at_step(int event, int64_t epoch, int64_t epochs, int64_t batch, int64_t batches,
                        double loss, double acc, double lr, void *ud)
{
    (void)epochs, (void)loss, (void)acc, (void)lr;
    if (event == HWNAS_MODEL_EVENT_BATCH && epoch * batches + batch + 1 == *(int64_t *)ud)
        raise(SIGKILL);
    return 0;
}

/* Killed by SIGKILL mid-epoch (checkpoints every 3 steps): the same call
 * again resumes and ends with the uninterrupted run's files. */
static void test_resume_after_sigkill(void **state)
{
    (void)state;
    const char *opts = SMALL ";method=gdas;lambda=0.5;checkpoint_every=3";
    char killed[256], whole[256];
    snprintf(killed, sizeof killed, "%s/killed", test_tmpdir);
    snprintf(whole, sizeof whole, "%s/whole", test_tmpdir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        hwnas_context *cctx = NULL;
        int64_t at = 5; /* epoch 2, after the step-3 checkpoint and the epoch's */
        if (hwnas_context_new(&cctx, "threads=2") != HWNAS_OK)
            _exit(3);
        hwnas_dsearch_run(cctx, ds, NULL, opts, killed, kill_at_step, &at);
        _exit(4);
    }
    int status;
    assert_true(waitpid(pid, &status, 0) == pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char ck[512];
    snprintf(ck, sizeof ck, "%s/lambda-0/checkpoint.dsn", killed);
    struct stat st;
    assert_int_equal(stat(ck, &st), 0);
    /* other options: refused, naming the file */
    assert_int_equal(hwnas_dsearch_run(ctx1, ds, NULL, SMALL ";method=darts;lambda=0.5", killed,
                                       NULL, NULL),
                     HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "checkpoint.dsn"));
    search(ctx1, opts, killed);
    search(ctx2, opts, whole);
    same_file(killed, whole, "front.csv");
    same_file(killed, whole, "lambda-0/alpha.csv");
    same_file(killed, whole, "lambda-0/epochs.csv");
}

/* A NaN weight: the step stops with lambda, epoch and step in the
 * message (and writes nothing: the caller keeps its last checkpoint). */
static void test_diverged(void **state)
{
    (void)state;
    hwnas__ds_config c;
    hwnas__ds_run *r = make_run(ctx1, SMALL, &c);
    r->total = 20;
    r->step = 7;
    r->lambda = 0.25;
    hwnas__engine *e = r->sn->full->eng;
    enum { NB = 8 };
    float x[NB * H * H], dl[NB * 4];
    int32_t y[NB];
    size_t order[NB];
    for (size_t k = 0; k < NB; k++)
        order[k] = k;
    assert_int_equal(hwnas_dataset_batch(x, y, ds, order, NB), HWNAS_OK);
    assert_int_equal(hwnas__engine_reserve(e, NB), HWNAS_OK);
    e->params[e->nodes[e->n - 1].p_off] = NAN; /* the classifier */
    hwnas__ds_batch b = {x, y, NB};
    double out[4];
    assert_int_equal(hwnas__ds_step(r, &c, &b, &b, dl, 4, out), HWNAS_EINVAL);
    const char *msg = hwnas_error_last();
    if (!strstr(msg, "not finite") || !strstr(msg, "lambda=0.25") || !strstr(msg, "epoch 2") ||
        !strstr(msg, "step 7"))
        fail_msg("message: %s", msg);
    assert_int_equal(r->step, 7);
    hwnas__ds_run_free(r);
}

static void expect_fail_in(const char *dir, const char *opts, int code, const char *words)
{
    assert_int_equal(hwnas_dsearch_run(ctx1, ds, NULL, opts, dir, NULL, NULL), code);
    if (!strstr(hwnas_error_last(), words))
        fail_msg("message \"%s\" lacks \"%s\"", hwnas_error_last(), words);
}

static void expect_fail(const char *opts, int code, const char *words)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/bad", test_tmpdir);
    expect_fail_in(dir, opts, code, words);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_fail("lambda=1,x", HWNAS_EINVAL, "lambda");
    expect_fail("lambda=-1", HWNAS_EINVAL, "lambda");
    expect_fail("method=enas", HWNAS_EINVAL, "method");
    expect_fail("cost=joules", HWNAS_EINVAL, "cost");
    expect_fail("epochs=0", HWNAS_EINVAL, "epochs");
    assert_int_equal(hwnas_dsearch_run(NULL, ds, NULL, "", "x", NULL, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_dsearch_check_options(ctx1, "method=gdas;lambda=0,1.5"), HWNAS_OK);
    assert_int_equal(hwnas_dsearch_check_options(ctx1, "lambda=1,,2"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "lambda"));
    assert_int_equal(hwnas_dsearch_check_options(ctx1, "form=mul"), HWNAS_OK);
    assert_int_equal(hwnas_dsearch_check_options(ctx1, "form=mul;cost=none"), HWNAS_EINVAL);
    assert_int_equal(hwnas_dsearch_check_options(NULL, ""), HWNAS_EINVAL);
    /* bad checkpoints: named, no crash */
    char dir[256], ck[512];
    snprintf(dir, sizeof dir, "%s/badck", test_tmpdir);
    search(ctx1, SMALL ";epochs=1", dir);
    snprintf(ck, sizeof ck, "%s/lambda-0/checkpoint.dsn", dir);
    uint8_t *b = NULL;
    size_t len = 0;
    assert_int_equal(hwnas__file_read(ctx1, ck, 0, &b, &len), HWNAS_OK);
    hwnas__ds_config c;
    assert_int_equal(hwnas__ds_read_config(&c, ctx1, SMALL), HWNAS_OK);
    const size_t cuts[] = {0, 5, 12, 40, 300, len / 2, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        hwnas__ds_run *r = (hwnas__ds_run *)1;
        int rc = hwnas__ds_from_bytes(&r, ctx1, &c, b, cuts[k], NULL, "cut.dsn");
        assert_true(rc == HWNAS_EFORMAT);
        assert_null(r);
        assert_non_null(strstr(hwnas_error_last(), "cut.dsn"));
    }
    FILE *f = fopen(ck, "wb");
    assert_non_null(f);
    fputs("not a checkpoint", f);
    fclose(f);
    expect_fail_in(dir, SMALL ";epochs=1", HWNAS_EFORMAT, "checkpoint.dsn");
    hwnas__free(ctx1, b);
}

static int oom_step(hwnas_context *ctx, void *arg)
{
    (void)arg;
    char dir[256];
    static int k;
    snprintf(dir, sizeof dir, "%s/oom-%d", test_tmpdir, k++);
    return hwnas_dsearch_run(ctx, ds, NULL,
                             "channels=2;cells=1;epochs=1;batch=32;evaluation=8;calibration=8",
                             dir, NULL, NULL);
}

static void test_oom(void **state)
{
    (void)state;
    test_oom_walk("dsearch", oom_step, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "oom") == 0) {
        const struct CMUnitTest oom[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests(oom, setup, teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix_gradient),     cmocka_unit_test(test_one_hot_is_path),
        cmocka_unit_test(test_cost),             cmocka_unit_test(test_derive),
        cmocka_unit_test(test_deterministic),    cmocka_unit_test(test_resume_after_sigkill),
        cmocka_unit_test(test_diverged),         cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_methods),          cmocka_unit_test(test_latency_source),
        cmocka_unit_test(test_energy_source),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
