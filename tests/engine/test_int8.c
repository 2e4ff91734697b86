/* int8 inference with approximate multipliers: the lookup GEMM paths
 * against a naive sum of table entries, the quantised layers against a
 * naive integer reference, quant models end to end, and an out-of-memory
 * walk. `test_int8 unit` or `test_int8 oom`. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/int8_internal.h"
#include "fixtures.h"
#include "hwnas/hwnas.h"
#include "test_alloc.h"

static int32_t pval(const hwnas__lut *lut, uint8_t w, uint8_t a)
{
    uint16_t p = lut->by_weight[(size_t)w * 256 + a];
    return lut->is_signed ? (int32_t)(int16_t)p : (int32_t)p;
}

/* A table of extremes: every product 65535 (unsigned) or alternating
 * -32768 / 32767 (signed), to test the widest sums. */
static hwnas_axmul *extreme(hwnas_context *ctx, int is_signed)
{
    int32_t *t = malloc(HWNAS_AXMUL_TABLE_SIZE * sizeof *t);
    for (size_t i = 0; i < HWNAS_AXMUL_TABLE_SIZE; i++)
        t[i] = is_signed ? ((i * 7919) % 3 == 0 ? -32768 : 32767) : (int32_t)(65535 - (i % 5));
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_new_table(&m, ctx, is_signed ? "ext_s" : "ext_u", t, is_signed),
                     HWNAS_OK);
    free(t);
    return m;
}

static void check_gemm(hwnas_context *ctx, const hwnas_axmul *m, size_t M, size_t K, size_t N)
{
    hwnas__lut lut;
    assert_int_equal(hwnas__lut_init(&lut, ctx, m), HWNAS_OK);
    uint8_t *W = malloc(M * K), *A = malloc(K * N);
    int32_t *ref = malloc(M * N * sizeof *ref), *C = malloc(M * N * sizeof *C);
    for (size_t i = 0; i < M * K; i++)
        W[i] = (uint8_t)fx_rnd();
    for (size_t i = 0; i < K * N; i++)
        A[i] = (uint8_t)fx_rnd();
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            int64_t s = 0;
            for (size_t k = 0; k < K; k++)
                s += pval(&lut, W[i * K + k], A[k * N + j]);
            ref[i * N + j] = (int32_t)s;
        }
    for (int path = 0; path < HWNAS__LUT_PATHS; path++) {
        if (!hwnas__lut_path_available(path))
            continue;
        memset(C, 0x55, M * N * sizeof *C);
        hwnas__lut_gemm(C, N, W, K, A, N, M, K, N, &lut, path);
        if (memcmp(C, ref, M * N * sizeof *C) != 0)
            fail_msg("%s: path %s differs (M=%zu K=%zu N=%zu)", hwnas_axmul_name(m),
                     hwnas__lut_path_name(path), M, K, N);
        memset(C, 0x55, M * N * sizeof *C);
        assert_int_equal(hwnas__lut_gemm_mt(ctx, C, N, W, K, A, N, M, K, N, &lut, path),
                         HWNAS_OK);
        assert_memory_equal(C, ref, M * N * sizeof *C);
    }
    free(W);
    free(A);
    free(ref);
    free(C);
    hwnas__lut_fini(&lut, ctx);
}

/* Every kernel path gives the naive sum of table entries, bit for bit, for
 * unsigned and signed tables, tails of every size and K past a 16-bit
 * flush. */
static void test_gemm_paths(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=3"), HWNAS_OK);
    const char *specs[] = {"exact", "drum:k=4", "mitchell", "exact:signed=1", "bam:h=2,v=6"};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        hwnas_axmul *m = NULL;
        assert_int_equal(hwnas_axmul_new(&m, ctx, specs[s]), HWNAS_OK);
        check_gemm(ctx, m, 5, 300, 333);
        check_gemm(ctx, m, 3, 7, 1);
        check_gemm(ctx, m, 2, 513, 2100);
        hwnas_axmul_free(m);
    }
    for (int sg = 0; sg < 2; sg++) {
        hwnas_axmul *m = extreme(ctx, sg);
        check_gemm(ctx, m, 2, 600, 130);
        check_gemm(ctx, m, 1, HWNAS__LUT_MAX_K, 65);
        hwnas_axmul_free(m);
    }
    printf("# lut gemm: best path here is %s\n", hwnas__lut_path_name(hwnas__lut_path_best()));
    hwnas_context_free(ctx);
}

/* A layer with random geometry, weights quantised for m. */
static void make_layer(hwnas__qlayer *L, const hwnas__lut *lut, int kind, size_t groups,
                       int per_channel)
{
    memset(L, 0, sizeof *L);
    L->kind = kind;
    L->lut = lut;
    L->per_channel = per_channel;
    if (kind == HWNAS_NET_LINEAR) {
        L->cin = 37, L->h = L->w = 1, L->cout = 6, L->groups = 1;
        L->kh = L->kw = L->sh = L->sw = L->dh = L->dw = 1;
        L->oh = L->ow = 1;
    } else {
        L->cin = 2 * groups, L->h = 7, L->w = 6, L->cout = 3 * groups, L->groups = groups;
        L->kh = 3, L->kw = 2, L->sh = 2, L->sw = 1, L->ph = 1, L->pw = 2, L->dh = 1,
        L->dw = 2;
        L->oh = (L->h + 2 * L->ph - L->dh * (L->kh - 1) - 1) / L->sh + 1;
        L->ow = (L->w + 2 * L->pw - L->dw * (L->kw - 1) - 1) / L->sw + 1;
    }
    L->p = L->oh * L->ow;
    L->cin_g = L->cin / L->groups, L->cout_g = L->cout / L->groups;
    L->kg = L->cin_g * L->kh * L->kw;
    size_t nw = L->cout * L->kg;
    L->wf = malloc(nw * sizeof *L->wf);
    L->bias = calloc(L->cout, sizeof *L->bias);
    L->wq = malloc(nw);
    L->wsum = malloc(L->cout * sizeof *L->wsum);
    L->wzero = malloc(L->cout * sizeof *L->wzero);
    L->wscale = malloc(L->cout * sizeof *L->wscale);
    for (size_t i = 0; i < nw; i++)
        L->wf[i] = (float)((double)(fx_rnd() % 2001) / 1000.0 - 0.7) *
                   (float)(1 + i / L->kg);
    hwnas__qlayer_quantise_weights(L);
    hwnas__qlayer_set_input_range(L, -1.5f, 3.0f);
}

static void free_layer(hwnas__qlayer *L)
{
    free(L->wf);
    free(L->bias);
    free(L->wq);
    free(L->wsum);
    free(L->wzero);
    free(L->wscale);
}

static int32_t v8(uint8_t code, int sgn)
{
    return sgn ? (int32_t)(int8_t)code : (int32_t)code;
}

/* The corrected accumulators of a convolution against a naive integer
 * loop: sum of P(a, w) - za w - zw a + za zw, and with the exact
 * multiplier the same as sum (a - za)(w - zw). */
static void check_conv(hwnas_context *ctx, const char *spec, size_t groups, int per_channel)
{
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_new(&m, ctx, spec), HWNAS_OK);
    hwnas__lut lut;
    assert_int_equal(hwnas__lut_init(&lut, ctx, m), HWNAS_OK);
    int exact = strncmp(spec, "exact", 5) == 0, sgn = lut.is_signed;
    hwnas__qlayer L;
    make_layer(&L, &lut, HWNAS_NET_CONV2D, groups, per_channel);
    size_t nin = L.cin * L.h * L.w;
    uint8_t *xq = malloc(nin), *col = malloc(L.kg * L.p);
    int32_t *colsum = malloc(L.p * sizeof *colsum), *out = malloc(L.cout * L.p * sizeof *out);
    int32_t *out2 = malloc(L.cout * L.p * sizeof *out2);
    for (size_t i = 0; i < nin; i++)
        xq[i] = (uint8_t)fx_rnd();
    hwnas__qlayer_conv_sample(out, &L, xq, col, colsum, HWNAS__LUT_SCALAR);
    hwnas__qlayer_conv_sample(out2, &L, xq, col, colsum, HWNAS__LUT_AUTO);
    assert_memory_equal(out, out2, L.cout * L.p * sizeof *out);
    int32_t za = L.in_zero;
    for (size_t co = 0; co < L.cout; co++) {
        size_t g = co / L.cout_g;
        int32_t zw = L.wzero[co];
        for (size_t oy = 0; oy < L.oh; oy++)
            for (size_t ox = 0; ox < L.ow; ox++) {
                int64_t s = 0, s_exact = 0;
                for (size_t c = 0; c < L.cin_g; c++)
                    for (size_t ky = 0; ky < L.kh; ky++)
                        for (size_t kx = 0; kx < L.kw; kx++) {
                            long iy = (long)(oy * L.sh + ky * L.dh) - (long)L.ph;
                            long ix = (long)(ox * L.sw + kx * L.dw) - (long)L.pw;
                            uint8_t a = L.in_zero_code;
                            if (iy >= 0 && iy < (long)L.h && ix >= 0 && ix < (long)L.w)
                                a = xq[((g * L.cin_g + c) * L.h + (size_t)iy) * L.w +
                                       (size_t)ix];
                            uint8_t w = L.wq[(co * L.cin_g + c) * L.kh * L.kw + ky * L.kw + kx];
                            int32_t av = v8(a, sgn), wv = v8(w, sgn);
                            s += pval(&lut, w, a) - za * wv - zw * av + za * zw;
                            s_exact += (int64_t)(av - za) * (wv - zw);
                        }
                int32_t got = out[co * L.p + oy * L.ow + ox];
                assert_int_equal(got, s);
                if (exact)
                    assert_int_equal(got, s_exact);
            }
    }
    free(xq);
    free(col);
    free(colsum);
    free(out);
    free(out2);
    free_layer(&L);
    hwnas__lut_fini(&lut, ctx);
    hwnas_axmul_free(m);
}

static void check_linear(hwnas_context *ctx, const char *spec, int per_channel)
{
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_new(&m, ctx, spec), HWNAS_OK);
    hwnas__lut lut;
    assert_int_equal(hwnas__lut_init(&lut, ctx, m), HWNAS_OK);
    int exact = strncmp(spec, "exact", 5) == 0, sgn = lut.is_signed;
    hwnas__qlayer L;
    make_layer(&L, &lut, HWNAS_NET_LINEAR, 1, per_channel);
    size_t n = 1500, F = L.kg, M = L.cout;
    uint8_t *xq = malloc(n * F), *at = malloc(n * F);
    int32_t *acc = malloc(n * M * sizeof *acc), *colsum = malloc(n * sizeof *colsum);
    int32_t *out = malloc(n * M * sizeof *out);
    for (size_t i = 0; i < n * F; i++)
        xq[i] = (uint8_t)fx_rnd();
    assert_int_equal(hwnas__qlayer_linear(ctx, out, &L, xq, n, at, acc, colsum,
                                          HWNAS__LUT_AUTO),
                     HWNAS_OK);
    for (size_t s = 0; s < n; s++)
        for (size_t o = 0; o < M; o++) {
            int64_t sum = 0, se = 0;
            for (size_t k = 0; k < F; k++) {
                uint8_t a = xq[s * F + k], w = L.wq[o * F + k];
                int32_t av = v8(a, sgn), wv = v8(w, sgn);
                sum += pval(&lut, w, a) - L.in_zero * wv - L.wzero[o] * av +
                       L.in_zero * L.wzero[o];
                se += (int64_t)(av - L.in_zero) * (wv - L.wzero[o]);
            }
            assert_int_equal(out[s * M + o], sum);
            if (exact)
                assert_int_equal(out[s * M + o], se);
        }
    free(xq);
    free(at);
    free(acc);
    free(colsum);
    free(out);
    free_layer(&L);
    hwnas__lut_fini(&lut, ctx);
    hwnas_axmul_free(m);
}

static void test_layers_reference(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    const char *specs[] = {"exact", "exact:signed=1", "drum:k=3", "mitchell:signed=1"};
    for (size_t s = 0; s < 4; s++)
        for (int pc = 0; pc < 2; pc++) {
            check_conv(ctx, specs[s], 1, pc);
            check_conv(ctx, specs[s], 2, pc);
            check_linear(ctx, specs[s], pc);
        }
    hwnas_context_free(ctx);
}

/* Quantisation parameters: zero is exact, codes cover the range. */
static void test_quant_params(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_new(&m, ctx, "exact"), HWNAS_OK);
    hwnas__lut lut;
    assert_int_equal(hwnas__lut_init(&lut, ctx, m), HWNAS_OK);
    hwnas__qlayer L;
    memset(&L, 0, sizeof L);
    L.lut = &lut;
    hwnas__qlayer_set_input_range(&L, -1.0f, 3.0f);
    assert_float_equal(L.in_scale, 4.0 / 255, 1e-7);
    assert_int_equal(L.in_zero, 64);
    float x[5] = {0.0f, -1.0f, 3.0f, -7.0f, 100.0f};
    uint8_t q[5];
    hwnas__qlayer_quantise_input(q, x, 5, &L);
    assert_int_equal(q[0], 64);
    assert_int_equal(q[1], 0);
    assert_int_equal(q[2], 255);
    assert_int_equal(q[3], 0);
    assert_int_equal(q[4], 255);
    /* a NaN or infinite activation is a code, never an undefined
     * conversion (UBSan); a range as wide as floats go has finite
     * parameters */
    float odd[3] = {NAN, INFINITY, -INFINITY};
    hwnas__qlayer_quantise_input(q, odd, 3, &L);
    assert_int_equal(q[0], 0);
    assert_int_equal(q[1], 255);
    assert_int_equal(q[2], 0);
    hwnas__qlayer_set_input_range(&L, -3e38f, 3e38f);
    assert_true(isfinite(L.in_scale) && L.in_scale > 0);
    assert_true(L.in_zero >= 127 && L.in_zero <= 128);
    hwnas__qlayer_set_input_range(&L, 0.5f, 2.0f); /* widened to contain 0 */
    assert_true(L.in_min == 0.0f);
    assert_int_equal(L.in_zero, 0);
    hwnas__lut_fini(&lut, ctx);
    hwnas_axmul_free(m);
    hwnas_context_free(ctx);
}

/* The small net trained a little on its synthetic task. */
static hwnas_model *small_model(hwnas_context *ctx, const hwnas_dataset *ds)
{
    return fx_small_model(ctx, ds, "epochs=3;batch=16;lr=0.05");
}

/* End to end on a small net with grouped and depthwise convolutions:
 * int8 with the exact multiplier agrees with fp32, paths are bit-identical,
 * thread counts do not matter, changing the multiplier changes results and
 * changing it back restores them. */
static void test_quant_model(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    hwnas_dataset *ds = fx_random_set(ctx, 200, 5);
    hwnas_model *m = small_model(ctx, ds);
    hwnas_quant *q = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, "calib_batches=2;batch=64"), HWNAS_OK);
    assert_int_equal(hwnas_quant_layer_count(q), 4);
    assert_int_equal(hwnas_quant_layer_node(q, 0), 1);
    assert_string_equal(hwnas_quant_layer_multiplier(q, 3), "exact");
    double lo, hi;
    assert_int_equal(hwnas_quant_layer_range(&lo, &hi, q, 1), HWNAS_OK);
    assert_true(lo == 0.0 && hi > 0.0); /* after a relu */
    size_t n = 200, k = 4;
    float *x = malloc(n * 162 * sizeof *x), *pf = malloc(n * k * sizeof *pf);
    float *pq = malloc(n * k * sizeof *pq), *pq2 = malloc(n * k * sizeof *pq2);
    int32_t *labels = malloc(n * sizeof *labels), *lf = malloc(n * sizeof *lf);
    int32_t *lq = malloc(n * sizeof *lq);
    size_t *pos = malloc(n * sizeof *pos);
    for (size_t i = 0; i < n; i++)
        pos[i] = i;
    assert_int_equal(hwnas_dataset_batch(x, labels, ds, pos, n), HWNAS_OK);
    assert_int_equal(hwnas_model_predict(NULL, lf, m, x, n), HWNAS_OK);
    assert_int_equal(hwnas_quant_predict(pq, lq, q, x, n), HWNAS_OK);
    size_t agree = 0;
    for (size_t i = 0; i < n; i++)
        agree += lf[i] == lq[i];
    assert_true(agree >= n * 95 / 100);
    double acc_f, acc_q;
    assert_int_equal(hwnas_model_evaluate(&acc_f, NULL, NULL, m, ds, 0), HWNAS_OK);
    assert_int_equal(hwnas_quant_evaluate(&acc_q, NULL, q, ds), HWNAS_OK);
    assert_true(fabs(acc_f - acc_q) <= 0.03);
    /* every kernel path gives the same scores */
    for (int path = 1; path < HWNAS__LUT_PATHS; path++) {
        if (!hwnas__lut_path_available(path))
            continue;
        hwnas__quant_set_path(q, path);
        assert_int_equal(hwnas_quant_predict(pq2, NULL, q, x, n), HWNAS_OK);
        assert_memory_equal(pq, pq2, n * k * sizeof *pq);
    }
    hwnas__quant_set_path(q, HWNAS__LUT_AUTO);
    /* a cruder multiplier changes the scores; exact again restores them */
    hwnas_axmul *crude = NULL, *ex = NULL;
    assert_int_equal(hwnas_axmul_new(&crude, ctx, "trunc:t=4"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_new(&ex, ctx, "exact"), HWNAS_OK);
    assert_int_equal(hwnas_quant_set_multiplier(q, -1, crude), HWNAS_OK);
    assert_string_equal(hwnas_quant_layer_multiplier(q, 0), hwnas_axmul_name(crude));
    assert_int_equal(hwnas_quant_predict(pq2, NULL, q, x, n), HWNAS_OK);
    assert_true(memcmp(pq, pq2, n * k * sizeof *pq) != 0);
    assert_int_equal(hwnas_quant_set_multiplier(q, -1, ex), HWNAS_OK);
    assert_int_equal(hwnas_quant_predict(pq2, NULL, q, x, n), HWNAS_OK);
    assert_memory_equal(pq, pq2, n * k * sizeof *pq);
    /* signed exact: per-channel symmetric weights, also close to fp32 */
    hwnas_axmul *sx = NULL;
    assert_int_equal(hwnas_axmul_new(&sx, ctx, "exact:signed=1"), HWNAS_OK);
    assert_int_equal(hwnas_quant_set_multiplier(q, -1, sx), HWNAS_OK);
    assert_int_equal(hwnas_quant_evaluate(&acc_q, NULL, q, ds), HWNAS_OK);
    assert_true(fabs(acc_f - acc_q) <= 0.03);
    /* one layer only */
    assert_int_equal(hwnas_quant_set_multiplier(q, 2, crude), HWNAS_OK);
    assert_string_equal(hwnas_quant_layer_multiplier(q, 2), hwnas_axmul_name(crude));
    assert_string_equal(hwnas_quant_layer_multiplier(q, 1), "exact:signed=1");
    hwnas_quant_free(q);
    hwnas_axmul_free(crude);
    hwnas_axmul_free(ex);
    hwnas_axmul_free(sx);
    free(x);
    free(pf);
    free(pq);
    free(pq2);
    free(labels);
    free(lf);
    free(lq);
    free(pos);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

/* The multipliers the net names are used, looked up in the registry. */
/* Batch-norms that cannot be folded (on the input, after an activation)
 * run in fp32 between quantised layers, where the engine writes their relu
 * inside them: int8 with the exact multiplier must still follow fp32. */
static void test_unfolded_batch_norm(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    hwnas_dataset *ds = fx_random_set(ctx, 200, 7);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx,
                                     "hwnas-net 1\nx = input(shape=2x9x9)\nbn\nrelu\n"
                                     "conv(out=8, k=3, pad=1)\nbn\nrelu\n"
                                     "dwconv(k=3, s=2, pad=1, bias=0)\nelu\nbn\nrelu\n"
                                     "gap\nlinear(out=4)\n",
                                     "unfolded"),
                     HWNAS_OK);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 3), HWNAS_OK);
    hwnas_net_free(net);
    assert_int_equal(hwnas_model_train(m, ds, "epochs=3;batch=16;lr=0.05", NULL, NULL),
                     HWNAS_OK);
    double acc_f, acc_q;
    assert_int_equal(hwnas_model_evaluate(&acc_f, NULL, NULL, m, ds, 0), HWNAS_OK);
    assert_int_equal(hwnas_quant_accuracy(&acc_q, m, NULL, ds, ds, "calib_batches=2"),
                     HWNAS_OK);
    assert_true(acc_f > 0.5);
    assert_true(fabs(acc_f - acc_q) <= 0.05);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

static void test_named_multipliers(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    hwnas_dataset *ds = fx_random_set(ctx, 64, 9);
    const char *spec = "hwnas-net 1\nx = input(shape=2x9x9)\nconv(out=4, k=3, mul=mitchell)\n"
                       "relu\ngap\nlinear(out=4, mul=mine)\n";
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, spec, "named"), HWNAS_OK);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 1), HWNAS_OK);
    hwnas_quant *q = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, NULL), HWNAS_ENOTFOUND);
    assert_null(q);
    assert_non_null(strstr(hwnas_error_last(), "mine"));
    hwnas_axmul_registry *reg = NULL;
    assert_int_equal(hwnas_axmul_registry_new(&reg, ctx), HWNAS_OK);
    hwnas_axmul *mine = NULL;
    assert_int_equal(hwnas_axmul_new(&mine, ctx, "mitchell:signed=1"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_set_name(mine, "mine"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_registry_add(reg, mine), HWNAS_OK);
    assert_int_equal(hwnas_quant_new(&q, m, reg, ds, "weights=tensor"), HWNAS_OK);
    hwnas_axmul_registry_free(reg); /* the quant model keeps copies */
    assert_string_equal(hwnas_quant_layer_multiplier(q, 0), "mitchell");
    assert_string_equal(hwnas_quant_layer_multiplier(q, 1), "mine");
    double acc;
    assert_int_equal(hwnas_quant_evaluate(&acc, NULL, q, ds), HWNAS_OK);
    assert_true(acc >= 0.0 && acc <= 1.0);
    hwnas_quant_free(q);
    /* errors */
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, "weights=row"), HWNAS_EINVAL);
    assert_int_equal(hwnas_quant_new(&q, NULL, NULL, ds, NULL), HWNAS_EINVAL);
    hwnas_dataset *other = NULL;
    float img[3 * 16] = {0};
    int32_t lab[3] = {0, 1, 2};
    assert_int_equal(hwnas_dataset_from_float(&other, ctx, img, lab, 3, 1, 4, 4, 3), HWNAS_OK);
    assert_int_equal(hwnas_quant_new(&q, m, NULL, other, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "1x4x4"));
    hwnas_quant_free(NULL);
    hwnas_dataset_free(other);
    hwnas_model_free(m);
    hwnas_net_free(net);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

/* Fashion-MNIST, when installed: the reference CNN trained briefly loses
 * at most one percentage point in int8 with the exact multiplier, unsigned
 * (per tensor) and signed (per channel). */
static void test_fashion_mnist(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    hwnas_dataset *train = NULL, *test = NULL;
    if (!fx_fashion_mnist(ctx, 12000, 5000, 1, &train, &test)) {
        hwnas_context_free(ctx);
        skip();
    }
    hwnas_net *net = fx_reference_cnn(ctx);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 1), HWNAS_OK);
    assert_int_equal(hwnas_model_train(m, train, "epochs=3;lr=0.1", NULL, NULL), HWNAS_OK);
    double acc_f, acc_u, acc_s;
    assert_int_equal(hwnas_model_evaluate(&acc_f, NULL, NULL, m, test, 0), HWNAS_OK);
    assert_int_equal(hwnas_quant_accuracy(&acc_u, m, NULL, train, test, NULL), HWNAS_OK);
    hwnas_quant *q = NULL;
    hwnas_axmul *sx = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, train, NULL), HWNAS_OK);
    assert_int_equal(hwnas_axmul_new(&sx, ctx, "exact:signed=1"), HWNAS_OK);
    assert_int_equal(hwnas_quant_set_multiplier(q, -1, sx), HWNAS_OK);
    assert_int_equal(hwnas_quant_evaluate(&acc_s, NULL, q, test), HWNAS_OK);
    printf("# fashion-mnist: fp32 %.4f, int8 unsigned/tensor %.4f, int8 signed/channel %.4f\n",
           acc_f, acc_u, acc_s);
    assert_true(acc_f > 0.75);
    assert_true(fabs(acc_f - acc_u) <= 0.01);
    assert_true(fabs(acc_f - acc_s) <= 0.01);
    hwnas_axmul_free(sx);
    hwnas_quant_free(q);
    hwnas_model_free(m);
    hwnas_net_free(net);
    hwnas_dataset_free(train);
    hwnas_dataset_free(test);
    hwnas_context_free(ctx);
}

/* ---- out of memory ------------------------------------------------------ */

static int oom_step(hwnas_context *ctx, const hwnas_model *m, const hwnas_dataset *ds,
                    const hwnas_axmul *mul)
{
    hwnas_quant *q = NULL;
    double acc;
    int rc = hwnas_quant_new(&q, m, NULL, ds, "batch=16;calib_batches=2");
    if (rc == HWNAS_OK)
        rc = hwnas_quant_evaluate(&acc, NULL, q, ds);
    if (rc == HWNAS_OK)
        rc = hwnas_quant_set_multiplier(q, 1, mul);
    hwnas_quant_free(q);
    (void)ctx;
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "threads=2");
    assert_non_null(ctx);
    hwnas_dataset *ds = fx_random_set(ctx, 40, 3);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, fx_small_net, "small"), HWNAS_OK);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 3), HWNAS_OK);
    hwnas_axmul *mul = NULL;
    assert_int_equal(hwnas_axmul_new(&mul, ctx, "drum:k=3"), HWNAS_OK);
    /* a first run starts the context's thread pool, which stays */
    assert_int_equal(oom_step(ctx, m, ds, mul), HWNAS_OK);
    long baseline = t.live;
    for (long n = 0;; n++) {
        assert_true(n < 100000);
        test_alloc_fail_from(&t, n);
        int rc = oom_step(ctx, m, ds, mul);
        test_alloc_disarm(&t);
        assert_int_equal(t.live, baseline);
        if (rc == HWNAS_OK)
            break;
        if (rc != HWNAS_ENOMEM)
            fail_msg("step %ld returned %d (%s)", n, rc, hwnas_error_last());
    }
    hwnas_axmul_free(mul);
    hwnas_model_free(m);
    hwnas_net_free(net);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_gemm_paths),      cmocka_unit_test(test_layers_reference),
            cmocka_unit_test(test_quant_params),    cmocka_unit_test(test_quant_model),
            cmocka_unit_test(test_named_multipliers), cmocka_unit_test(test_fashion_mnist),
            cmocka_unit_test(test_unfolded_batch_norm),
        };
        return cmocka_run_group_tests_name("int8", tests, NULL, NULL);
    }
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("int8-oom", tests, NULL, NULL);
    }
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
