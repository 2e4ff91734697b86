/* Zero-cost proxies (lib/engine/zero_cost.c) against values computed here
 * independently: closed forms on a one-layer linear classifier (gradient,
 * Hessian-gradient product, synflow, the rank-one input-gradient
 * correlations) and on a ReLU straight after the input (naswot's codes are
 * the input's signs); determinism over thread counts, the engine left as
 * it came, bad input, out-of-memory. The PyTorch cross-check on a deeper
 * net is bindings/python/tests/test_zero_cost.py.
 * `test_zero_cost unit|oom`. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/zero_cost.h"
#include "hwnas/hwnas.h"
#include "test_oom.h"

#define ALL ((1u << HWNAS__ZC_COUNT) - 1)
#define BIT(p) (1u << (p))

typedef struct fx {
    hwnas_context *ctx;
    hwnas_net *net;
    hwnas__engine *e;
    size_t n, in_size, classes;
    float *x;
    int32_t *y;
} fx;

static void fx_open(fx *f, const char *spec, size_t n, int threads, uint64_t data_seed)
{
    char opts[32];
    snprintf(opts, sizeof opts, "threads=%d", threads);
    assert_int_equal(hwnas_context_new(&f->ctx, opts), HWNAS_OK);
    if (hwnas_net_parse(&f->net, f->ctx, spec, "spec") != HWNAS_OK)
        fail_msg("parse: %s", hwnas_error_last());
    if (hwnas__engine_new(&f->e, f->ctx, f->net, 5) != HWNAS_OK)
        fail_msg("engine: %s", hwnas_error_last());
    assert_int_equal(hwnas__engine_reserve(f->e, n), HWNAS_OK);
    f->n = n;
    f->in_size = f->e->nodes[f->e->input].size;
    f->classes = f->e->nodes[f->e->logits].size;
    f->x = malloc(n * f->in_size * sizeof *f->x);
    f->y = malloc(n * sizeof *f->y);
    hwnas__rng r;
    hwnas__rng_seed(&r, data_seed, 0);
    for (size_t i = 0; i < n * f->in_size; i++)
        f->x[i] = (float)hwnas__rng_normal(&r);
    for (size_t s = 0; s < n; s++)
        f->y[s] = (int32_t)(s % f->classes);
}

static void fx_close(fx *f)
{
    hwnas__engine_free(f->e);
    hwnas_net_free(f->net);
    hwnas_context_free(f->ctx);
    free(f->x);
    free(f->y);
}

static void near(double got, double want, double rtol, const char *what)
{
    if (!(fabs(got - want) <= rtol * fabs(want) + 1e-12))
        fail_msg("%s: %.10g, expected %.10g (rtol %g)", what, got, want, rtol);
}

/* ---- one linear layer: closed forms ------------------------------------ */

#define LIN_N 6

static void test_linear_closed_forms(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "hwnas-net 1\nx = input(shape=1x3x3)\nfc = linear(out=4)\n", LIN_N, 1, 7);
    const size_t I = f.in_size, J = f.classes, n = f.n;
    /* the engine's initial weights, with a non-zero bias so that it counts */
    float *W = f.e->params + f.e->nodes[1].p_off, *b = W + J * I;
    for (size_t j = 0; j < J; j++)
        b[j] = 0.1f * (float)j - 0.15f;
    double out[HWNAS__ZC_COUNT];
    int rc = hwnas__zero_cost(out, f.e, f.x, f.y, n, ALL & ~BIT(HWNAS__ZC_NASWOT) & ~BIT(HWNAS__ZC_NASWOT_PWL), 1);
    if (rc != HWNAS_OK)
        fail_msg("zero_cost: %s", hwnas_error_last());
    /* p = softmax(W x + b); dL/dW = sum_s (p_s - onehot_s) x_s^T / n */
    double p[LIN_N][4], G[4][9] = {{0}};
    for (size_t s = 0; s < n; s++) {
        double z[4], m = -INFINITY, sum = 0;
        for (size_t j = 0; j < J; j++) {
            z[j] = b[j];
            for (size_t i = 0; i < I; i++)
                z[j] += (double)W[j * I + i] * f.x[s * I + i];
            m = fmax(m, z[j]);
        }
        for (size_t j = 0; j < J; j++)
            sum += exp(z[j] - m);
        for (size_t j = 0; j < J; j++) {
            p[s][j] = exp(z[j] - m) / sum;
            double d = (p[s][j] - (j == (size_t)f.y[s])) / (double)n;
            for (size_t i = 0; i < I; i++)
                G[j][i] += d * f.x[s * I + i];
        }
    }
    double norm = 0, snip = 0, absw = 0;
    for (size_t j = 0; j < J; j++)
        for (size_t i = 0; i < I; i++) {
            norm += G[j][i] * G[j][i];
            snip += fabs(G[j][i] * W[j * I + i]);
            absw += fabs(W[j * I + i]);
        }
    near(out[HWNAS__ZC_GRAD_NORM], sqrt(norm), 1e-5, "grad_norm");
    near(out[HWNAS__ZC_SNIP], snip, 1e-5, "snip");
    /* R = sum_j sum_i |W_ji| + |b_j| on an all-ones input: dR/dW = 1 */
    near(out[HWNAS__ZC_SYNFLOW], absw, 1e-5, "synflow");
    /* H g over W: (1/n) sum_s x_s (diag(p_s) u_s - p_s (p_s . u_s)) with
     * u_s = G x_s; grasp = -sum W * H g */
    double grasp = 0;
    for (size_t s = 0; s < n; s++) {
        double u[4], pu = 0;
        for (size_t j = 0; j < J; j++) {
            u[j] = 0;
            for (size_t i = 0; i < I; i++)
                u[j] += G[j][i] * f.x[s * I + i];
            pu += p[s][j] * u[j];
        }
        for (size_t j = 0; j < J; j++) {
            double a = p[s][j] * (u[j] - pu) / (double)n;
            for (size_t i = 0; i < I; i++)
                grasp -= W[j * I + i] * a * f.x[s * I + i];
        }
    }
    near(out[HWNAS__ZC_GRASP], grasp, 2e-3, "grasp");
    /* every sample's input gradient is sum_j W_j: the correlations are all
     * 1, eigenvalues n (once) and 0 (n - 1 times) */
    double k = 1e-5, dn = (double)n;
    double jc = -(log(dn + k) + 1 / (dn + k) + (dn - 1) * (log(k) + 1 / k));
    near(out[HWNAS__ZC_JACOB_COV], jc, 1e-6, "jacob_cov");
    /* no ReLU: naswot is undefined, and says so */
    rc = hwnas__zero_cost(out, f.e, f.x, f.y, n, BIT(HWNAS__ZC_NASWOT), 1);
    assert_int_equal(rc, HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "ReLU"));
    fx_close(&f);
}

/* ---- naswot: a ReLU on the input --------------------------------------- */

static double logdet_gauss(double *a, size_t n)
{
    double ld = 0;
    for (size_t c = 0; c < n; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(a[r * n + c]) > fabs(a[piv * n + c]))
                piv = r;
        for (size_t q = 0; q < n && piv != c; q++) {
            double t = a[c * n + q];
            a[c * n + q] = a[piv * n + q];
            a[piv * n + q] = t;
        }
        ld += log(fabs(a[c * n + c]));
        for (size_t r = c + 1; r < n; r++) {
            double m = a[r * n + c] / a[c * n + c];
            for (size_t q = c; q < n; q++)
                a[r * n + q] -= m * a[c * n + q];
        }
    }
    return ld;
}

static void test_naswot_codes(void **state)
{
    (void)state;
    fx f;
    const size_t n = 8;
    fx_open(&f, "hwnas-net 1\nx = input(shape=1x4x4)\nr = relu\nfc = linear(out=3)\n", n, 1, 9);
    double out[HWNAS__ZC_COUNT];
    if (hwnas__zero_cost(out, f.e, f.x, f.y, n, BIT(HWNAS__ZC_NASWOT), 2) != HWNAS_OK)
        fail_msg("zero_cost: %s", hwnas_error_last());
    double K[8 * 8];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double agree = 0;
            for (size_t u = 0; u < 16; u++)
                agree += (f.x[i * 16 + u] > 0) == (f.x[j * 16 + u] > 0);
            K[i * n + j] = agree;
        }
    double want = logdet_gauss(K, n);
    near(out[HWNAS__ZC_NASWOT], want, 1e-9, "naswot");
    fx_close(&f);
    /* naswot_pwl: the same codes from a relu6, a leaky_relu or a prelu; naswot
     * sees no ReLU there */
    static const char *const pwl[] = {"relu6", "leaky_relu", "prelu"};
    for (int a = 0; a < 3; a++) {
        char spec[128];
        snprintf(spec, sizeof spec, "hwnas-net 1\nx = input(shape=1x4x4)\nr = %s\n"
                 "fc = linear(out=3)\n", pwl[a]);
        fx_open(&f, spec, n, 1, 9);
        if (hwnas__zero_cost(out, f.e, f.x, f.y, n, BIT(HWNAS__ZC_NASWOT_PWL), 2) != HWNAS_OK)
            fail_msg("zero_cost %s: %s", pwl[a], hwnas_error_last());
        near(out[HWNAS__ZC_NASWOT_PWL], want, 1e-9, pwl[a]);
        assert_int_equal(hwnas__zero_cost(out, f.e, f.x, f.y, n, BIT(HWNAS__ZC_NASWOT), 2),
                         HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "naswot needs ReLU"));
        fx_close(&f);
    }
    fx_open(&f, "hwnas-net 1\nx = input(shape=1x4x4)\nr = relu\nfc = linear(out=3)\n", n, 1, 9);
    /* two samples with the same codes: K is singular, an error */
    for (size_t u = 0; u < 16; u++)
        f.x[16 + u] = f.x[u] > 0 ? 1.0f : -1.0f, f.x[u] = f.x[u] > 0 ? 2.0f : -2.0f;
    assert_int_equal(hwnas__zero_cost(out, f.e, f.x, f.y, n, BIT(HWNAS__ZC_NASWOT), 2),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "singular"));
    fx_close(&f);
}

/* ---- a CNN with batch-norms: determinism, the engine left as it came ---- */

static const char *const cnn =
    "hwnas-net 1\nx = input(shape=2x9x9)\nc1 = conv(out=8, k=3, pad=1, bias=0)\nbn\nrelu\n"
    "c2 = conv(out=8, k=3, s=2, pad=1, groups=2)\nrelu\nd = dwconv(k=3, pad=1)\nbn\nrelu\n"
    "drop = dropout(p=0.2)\ngap\nfc = linear(out=4)\n";

static void run_cnn(double *out, int threads, float *params_after, size_t *n_params)
{
    fx f;
    fx_open(&f, cnn, 16, threads, 3);
    float *p0 = malloc(f.e->n_params * sizeof *p0), *s0 = malloc(f.e->n_state * sizeof *s0);
    memcpy(p0, f.e->params, f.e->n_params * sizeof *p0);
    memcpy(s0, f.e->state, f.e->n_state * sizeof *s0);
    if (hwnas__zero_cost(out, f.e, f.x, f.y, f.n, ALL, 4) != HWNAS_OK)
        fail_msg("zero_cost: %s", hwnas_error_last());
    assert_memory_equal(p0, f.e->params, f.e->n_params * sizeof *p0);
    assert_memory_equal(s0, f.e->state, f.e->n_state * sizeof *s0);
    if (params_after)
        memcpy(params_after, f.e->params, f.e->n_params * sizeof *p0);
    *n_params = f.e->n_params;
    free(p0);
    free(s0);
    fx_close(&f);
}

static void test_cnn_deterministic(void **state)
{
    (void)state;
    double a[HWNAS__ZC_COUNT], b[HWNAS__ZC_COUNT];
    size_t np;
    run_cnn(a, 1, NULL, &np);
    run_cnn(b, 2, NULL, &np);
    for (int p = 0; p < HWNAS__ZC_COUNT; p++) {
        if (memcmp(&a[p], &b[p], sizeof a[p]) != 0)
            fail_msg("%s: %.17g at 1 thread, %.17g at 2", hwnas__zc_names[p], a[p], b[p]);
        assert_true(isfinite(a[p]));
    }
    assert_true(a[HWNAS__ZC_GRAD_NORM] > 0 && a[HWNAS__ZC_SNIP] > 0 && a[HWNAS__ZC_SYNFLOW] > 0);
    /* the same call twice on one engine: the same scores (nothing left over) */
    fx f;
    fx_open(&f, cnn, 16, 2, 3);
    double c[HWNAS__ZC_COUNT];
    assert_int_equal(hwnas__zero_cost(c, f.e, f.x, f.y, f.n, ALL, 4), HWNAS_OK);
    assert_int_equal(hwnas__zero_cost(c, f.e, f.x, f.y, f.n, ALL, 4), HWNAS_OK);
    assert_memory_equal(a, c, sizeof a);
    /* one proxy alone gives what it gave among all */
    for (int p = 0; p < HWNAS__ZC_COUNT; p++) {
        double d[HWNAS__ZC_COUNT];
        assert_int_equal(hwnas__zero_cost(d, f.e, f.x, f.y, f.n, BIT(p), 4), HWNAS_OK);
        if (memcmp(&a[p], &d[p], sizeof d[p]) != 0)
            fail_msg("%s alone: %.17g, among all %.17g", hwnas__zc_names[p], d[p], a[p]);
    }
    fx_close(&f);
}

static void test_bad_input(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, cnn, 16, 1, 3);
    double out[HWNAS__ZC_COUNT];
    f.y[3] = 4; /* the net has 4 classes */
    assert_int_equal(hwnas__zero_cost(out, f.e, f.x, f.y, f.n, ALL, 1), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "label 4 of sample 3"));
    f.y[3] = 3;
    assert_int_equal(hwnas__zero_cost(out, f.e, f.x, f.y, 1, ALL, 1), HWNAS_EINVAL);
    assert_int_equal(hwnas__zero_cost(out, f.e, f.x, f.y, 17, ALL, 1), HWNAS_EINVAL);
    /* a NaN in the minibatch: a clear error, the engine unharmed */
    f.x[5] = NAN;
    int rc = hwnas__zero_cost(out, f.e, f.x, f.y, f.n, BIT(HWNAS__ZC_SNIP), 1);
    assert_int_equal(rc, HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "not finite"));
    rc = hwnas__zero_cost(out, f.e, f.x, f.y, f.n, BIT(HWNAS__ZC_JACOB_COV), 1);
    assert_int_equal(rc, HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "jacob_cov"));
    f.x[5] = 0;
    assert_int_equal(hwnas__zero_cost(out, f.e, f.x, f.y, f.n, ALL, 1), HWNAS_OK);
    fx_close(&f);
}

/* ---- out of memory ------------------------------------------------------ */

static int oom_step(hwnas_context *ctx, void *arg)
{
    (void)arg;
    hwnas_net *net = NULL;
    hwnas__engine *e = NULL;
    int rc = hwnas_net_parse(&net, ctx, cnn, "spec");
    if (rc == HWNAS_OK)
        rc = hwnas__engine_new(&e, ctx, net, 5);
    if (rc == HWNAS_OK)
        rc = hwnas__engine_reserve(e, 4);
    float x[4 * 162];
    int32_t y[4] = {0, 1, 2, 3};
    for (size_t i = 0; i < 4 * 162; i++)
        x[i] = (float)((i * 37) % 11) - 5.0f;
    double out[HWNAS__ZC_COUNT];
    if (rc == HWNAS_OK)
        rc = hwnas__zero_cost(out, e, x, y, 4, ALL, 1);
    hwnas__engine_free(e);
    hwnas_net_free(net);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    test_oom_walk("zero_cost", oom_step, NULL);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_linear_closed_forms),
            cmocka_unit_test(test_naswot_codes),
            cmocka_unit_test(test_cnn_deterministic),
            cmocka_unit_test(test_bad_input),
        };
        return cmocka_run_group_tests_name("zero_cost", tests, NULL, NULL);
    }
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("zero_cost_oom", tests, NULL, NULL);
    }
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
