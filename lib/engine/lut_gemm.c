/* The lookup GEMM: every 8x8 product read from a multiplier's table.
 * Weight-stationary: for one weight the 256 products of its table row are
 * used for a whole block of columns before the next weight, so the row
 * stays in L1 (scalar path) or in registers (VBMI path). This file holds
 * the tables, the scalar kernel, the dispatch and the threaded driver;
 * lut_gemm_avx512.c the VBMI kernel. */
#include <stdio.h>
#include <string.h>

#include "int8_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

/* Columns per block: a block's int32 row of C (2 KiB) and its slice of the
 * activation rows stay in L1 while the weights of a row stream by. */
#define SCALAR_BLOCK 512
/* Columns per task of the threaded driver (a multiple of every kernel's
 * block so that blocks never straddle tasks). */
#define TASK_BLOCK 1024

int hwnas__lut_init(hwnas__lut *lut, const hwnas_context *ctx, const hwnas_axmul *m)
{
    memset(lut, 0, sizeof *lut);
    lut->by_weight = hwnas__malloc(ctx, HWNAS_AXMUL_TABLE_SIZE * sizeof *lut->by_weight);
    lut->split = hwnas__malloc(ctx, 2 * HWNAS_AXMUL_TABLE_SIZE);
    if (!lut->by_weight || !lut->split) {
        hwnas__lut_fini(lut, ctx);
        return HWNAS_ENOMEM;
    }
    memcpy(lut->by_weight, hwnas_axmul_table16_by_weight(m),
           HWNAS_AXMUL_TABLE_SIZE * sizeof *lut->by_weight);
    lut->is_signed = hwnas_axmul_is_signed(m) ? 1 : 0;
    lut->hash = hwnas_axmul_hash(m);
    snprintf(lut->name, sizeof lut->name, "%s", hwnas_axmul_name(m));
    uint8_t flip = lut->is_signed ? 0x80 : 0;
    for (size_t w = 0; w < 256; w++)
        for (size_t a = 0; a < 256; a++) {
            uint16_t p = lut->by_weight[w * 256 + a];
            lut->split[w * 512 + a] = (uint8_t)(p & 0xff);
            lut->split[w * 512 + 256 + a] = (uint8_t)((p >> 8) ^ flip);
        }
    return HWNAS_OK;
}

void hwnas__lut_fini(hwnas__lut *lut, const hwnas_context *ctx)
{
    hwnas__free(ctx, lut->by_weight);
    hwnas__free(ctx, lut->split);
    lut->by_weight = NULL;
    lut->split = NULL;
}

static int has_vbmi(void)
{
#if HWNAS__LUT_HAVE_VBMI
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
#else
    return 0;
#endif
}

int hwnas__lut_path_available(int path)
{
    switch (path) {
    case HWNAS__LUT_AUTO:
    case HWNAS__LUT_SCALAR:
        return 1;
    case HWNAS__LUT_VBMI:
        return has_vbmi();
    default:
        return 0;
    }
}

int hwnas__lut_path_best(void)
{
    return has_vbmi() ? HWNAS__LUT_VBMI : HWNAS__LUT_SCALAR;
}

const char *hwnas__lut_path_name(int path)
{
    static const char *const names[] = {"auto", "scalar", "avx512vbmi"};
    return path >= 0 && path < HWNAS__LUT_PATHS ? names[path] : "?";
}

/* Signed and unsigned rows differ only in how a 16-bit pattern widens; two
 * copies keep the inner loop free of the test. */
static void scalar_block_u(int32_t *c, const uint8_t *w, const uint8_t *A, size_t lda,
                           size_t K, size_t len, const uint16_t *t)
{
    memset(c, 0, len * sizeof *c);
    size_t k = 0;
    /* four weights per pass: one load and store of c per four products */
    for (; k + 4 <= K; k += 4) {
        const uint16_t *r0 = t + (size_t)w[k] * 256, *r1 = t + (size_t)w[k + 1] * 256;
        const uint16_t *r2 = t + (size_t)w[k + 2] * 256, *r3 = t + (size_t)w[k + 3] * 256;
        const uint8_t *a0 = A + k * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (size_t n = 0; n < len; n++)
            c[n] += (int32_t)r0[a0[n]] + r1[a1[n]] + r2[a2[n]] + r3[a3[n]];
    }
    for (; k < K; k++) {
        const uint16_t *row = t + (size_t)w[k] * 256;
        const uint8_t *a = A + k * lda;
        for (size_t n = 0; n < len; n++)
            c[n] += row[a[n]];
    }
}

static void scalar_block_s(int32_t *c, const uint8_t *w, const uint8_t *A, size_t lda,
                           size_t K, size_t len, const uint16_t *t)
{
    memset(c, 0, len * sizeof *c);
    size_t k = 0;
    for (; k + 4 <= K; k += 4) {
        const int16_t *r0 = (const int16_t *)(const void *)(t + (size_t)w[k] * 256);
        const int16_t *r1 = (const int16_t *)(const void *)(t + (size_t)w[k + 1] * 256);
        const int16_t *r2 = (const int16_t *)(const void *)(t + (size_t)w[k + 2] * 256);
        const int16_t *r3 = (const int16_t *)(const void *)(t + (size_t)w[k + 3] * 256);
        const uint8_t *a0 = A + k * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (size_t n = 0; n < len; n++)
            c[n] += (int32_t)r0[a0[n]] + r1[a1[n]] + r2[a2[n]] + r3[a3[n]];
    }
    for (; k < K; k++) {
        const int16_t *row = (const int16_t *)(const void *)(t + (size_t)w[k] * 256);
        const uint8_t *a = A + k * lda;
        for (size_t n = 0; n < len; n++)
            c[n] += row[a[n]];
    }
}

void hwnas__lut_gemm_scalar(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw,
                            const uint8_t *A, size_t lda, size_t M, size_t K, size_t n0,
                            size_t n1, const hwnas__lut *lut)
{
    for (size_t b = n0; b < n1; b += SCALAR_BLOCK) {
        size_t len = n1 - b < SCALAR_BLOCK ? n1 - b : SCALAR_BLOCK;
        for (size_t m = 0; m < M; m++) {
            if (lut->is_signed)
                scalar_block_s(C + m * ldc + b, W + m * ldw, A + b, lda, K, len,
                               lut->by_weight);
            else
                scalar_block_u(C + m * ldc + b, W + m * ldw, A + b, lda, K, len,
                               lut->by_weight);
        }
    }
}

static void run_path(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw, const uint8_t *A,
                     size_t lda, size_t M, size_t K, size_t n0, size_t n1,
                     const hwnas__lut *lut, int path)
{
    if (path == HWNAS__LUT_AUTO)
        path = hwnas__lut_path_best();
#if HWNAS__LUT_HAVE_VBMI
    if (path == HWNAS__LUT_VBMI && has_vbmi()) {
        hwnas__lut_gemm_vbmi(C, ldc, W, ldw, A, lda, M, K, n0, n1, lut);
        return;
    }
#endif
    hwnas__lut_gemm_scalar(C, ldc, W, ldw, A, lda, M, K, n0, n1, lut);
}

void hwnas__lut_gemm(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw, const uint8_t *A,
                     size_t lda, size_t M, size_t K, size_t N, const hwnas__lut *lut, int path)
{
    if (M == 0 || N == 0)
        return;
    if (K == 0) {
        for (size_t m = 0; m < M; m++)
            memset(C + m * ldc, 0, N * sizeof *C);
        return;
    }
    run_path(C, ldc, W, ldw, A, lda, M, K, 0, N, lut, path);
}

typedef struct gemm_task {
    int32_t *C;
    size_t ldc, ldw, lda, M, K, N;
    const uint8_t *W, *A;
    const hwnas__lut *lut;
    int path;
} gemm_task;

static int gemm_task_run(size_t i, size_t worker, void *data)
{
    (void)worker;
    const gemm_task *t = data;
    size_t n0 = i * TASK_BLOCK, n1 = n0 + TASK_BLOCK < t->N ? n0 + TASK_BLOCK : t->N;
    run_path(t->C, t->ldc, t->W, t->ldw, t->A, t->lda, t->M, t->K, n0, n1, t->lut, t->path);
    return 0;
}

int hwnas__lut_gemm_mt(hwnas_context *ctx, int32_t *C, size_t ldc, const uint8_t *W,
                       size_t ldw, const uint8_t *A, size_t lda, size_t M, size_t K, size_t N,
                       const hwnas__lut *lut, int path)
{
    if (M == 0 || N == 0 || K == 0 || N <= TASK_BLOCK || hwnas_context_threads(ctx) < 2) {
        hwnas__lut_gemm(C, ldc, W, ldw, A, lda, M, K, N, lut, path);
        return HWNAS_OK;
    }
    gemm_task t = {C, ldc, ldw, lda, M, K, N, W, A, lut, path};
    return hwnas_parallel_for(ctx, (N + TASK_BLOCK - 1) / TASK_BLOCK, gemm_task_run, &t);
}

void hwnas__int8_gemm_exact(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw,
                            const uint8_t *A, size_t lda, size_t M, size_t K, size_t N)
{
    for (size_t b = 0; b < N; b += SCALAR_BLOCK) {
        size_t len = N - b < SCALAR_BLOCK ? N - b : SCALAR_BLOCK;
        for (size_t m = 0; m < M; m++) {
            int32_t *c = C + m * ldc + b;
            memset(c, 0, len * sizeof *c);
            const uint8_t *w = W + m * ldw;
            for (size_t k = 0; k < K; k++) {
                int32_t wk = w[k];
                const uint8_t *a = A + k * lda + b;
                for (size_t n = 0; n < len; n++)
                    c[n] += wk * (int32_t)a[n];
            }
        }
    }
}
