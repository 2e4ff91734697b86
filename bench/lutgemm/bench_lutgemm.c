/* Throughput of the lookup GEMM (every product read from a multiplier's
 * table) on the shape of a 3x3 convolution with 64 input and output
 * channels over a 56x56 map: M = 64, K = 576, N = 3136, with 1 and 2
 * threads, next to an exact int8 GEMM and OpenBLAS sgemm on the same
 * shape. Prints "key value" lines; bench/lutgemm/run adds numpy.
 * usage: bench_lutgemm [M K N [seconds]] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/int8_internal.h"

static size_t M = 64, K = 576, N = 3136;
static double min_seconds = 0.5;

typedef struct job {
    int what; /* 0 lut, 1 exact int8, 2 sgemm */
    int path;
    hwnas_context *ctx;
    const hwnas__lut *lut;
    const uint8_t *W, *A;
    int32_t *C;
    const float *Wf, *Af;
    float *Cf;
} job;

static int exact_task(size_t i, size_t worker, void *data)
{
    (void)worker;
    const job *j = data;
    size_t n0 = i * N / 2, n1 = (i + 1) * N / 2;
    hwnas__int8_gemm_exact(j->C + n0, N, j->W, K, j->A + n0, N, M, K, n1 - n0);
    return 0;
}

static void run(const job *j, size_t threads)
{
    switch (j->what) {
    case 0:
        hwnas__lut_gemm_mt(j->ctx, j->C, N, j->W, K, j->A, N, M, K, N, j->lut, j->path);
        break;
    case 1:
        if (threads > 1)
            hwnas_parallel_for(j->ctx, 2, exact_task, (void *)j);
        else
            hwnas__int8_gemm_exact(j->C, N, j->W, K, j->A, N, M, K, N);
        break;
    default:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f,
                    j->Wf, (int)K, j->Af, (int)N, 0.0f, j->Cf, (int)N);
        break;
    }
}

/* MACs per second of j, best of repeated timed runs. */
static double measure(const job *j, size_t threads)
{
    run(j, threads); /* warm */
    double best = 0, total = 0;
    while (total < min_seconds) {
        double t0 = hwnas__now_seconds();
        run(j, threads);
        double dt = hwnas__now_seconds() - t0;
        total += dt;
        double r = (double)M * (double)K * (double)N / dt;
        best = r > best ? r : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc >= 4) {
        M = (size_t)atol(argv[1]), K = (size_t)atol(argv[2]), N = (size_t)atol(argv[3]);
        if (argc >= 5)
            min_seconds = atof(argv[4]);
    }
    if (!M || !K || !N || K > HWNAS__LUT_MAX_K) {
        fprintf(stderr, "usage: bench_lutgemm [M K N [seconds]] (K <= %d)\n",
                HWNAS__LUT_MAX_K);
        return 2;
    }
    uint8_t *W = malloc(M * K), *A = malloc(K * N);
    int32_t *C = malloc(M * N * sizeof *C), *ref = malloc(M * N * sizeof *ref);
    float *Wf = malloc(M * K * sizeof *Wf), *Af = malloc(K * N * sizeof *Af);
    float *Cf = malloc(M * N * sizeof *Cf);
    uint64_t s = 12345;
    for (size_t i = 0; i < M * K; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        W[i] = (uint8_t)(s >> 56), Wf[i] = (float)W[i];
    }
    for (size_t i = 0; i < K * N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        A[i] = (uint8_t)(s >> 56), Af[i] = (float)A[i];
    }
    printf("shape %zu %zu %zu\n", M, K, N);
    printf("best_path %s\n", hwnas__lut_path_name(hwnas__lut_path_best()));
    for (size_t threads = 1; threads <= 2; threads++) {
        char opts[32];
        snprintf(opts, sizeof opts, "threads=%zu", threads);
        hwnas_context *ctx = NULL;
        hwnas_axmul *mul = NULL;
        if (hwnas_context_new(&ctx, opts) != HWNAS_OK ||
            hwnas_axmul_new(&mul, ctx, "drum:k=4") != HWNAS_OK) {
            fprintf(stderr, "bench_lutgemm: %s\n", hwnas_error_last());
            return 1;
        }
        hwnas__lut lut;
        if (hwnas__lut_init(&lut, ctx, mul) != HWNAS_OK)
            return 1;
        job j = {0, 0, ctx, &lut, W, A, C, Wf, Af, Cf};
        for (int path = HWNAS__LUT_SCALAR; path < HWNAS__LUT_PATHS; path++) {
            if (!hwnas__lut_path_available(path))
                continue;
            j.path = path;
            double r = measure(&j, threads);
            if (path == HWNAS__LUT_SCALAR)
                memcpy(ref, C, M * N * sizeof *C);
            else if (memcmp(ref, C, M * N * sizeof *C) != 0) {
                fprintf(stderr, "bench_lutgemm: path %s differs from scalar\n",
                        hwnas__lut_path_name(path));
                return 1;
            }
            printf("lut_%s_t%zu %.4g\n", hwnas__lut_path_name(path), threads, r);
        }
        j.what = 1;
        printf("exact_int8_t%zu %.4g\n", threads, measure(&j, threads));
        openblas_set_num_threads((int)threads);
        j.what = 2;
        printf("sgemm_t%zu %.4g\n", threads, measure(&j, threads));
        hwnas__lut_fini(&lut, ctx);
        hwnas_axmul_free(mul);
        hwnas_context_free(ctx);
    }
    free(W), free(A), free(C), free(ref), free(Wf), free(Af), free(Cf);
    return 0;
}
