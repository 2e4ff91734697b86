/*
 * bench/latency (issue 20, item 4, this host): how well latencies are
 * predicted for nets no table or model has seen, per space, at one thread
 * and fp32 (the engine the profiler runs).
 *
 * Per space: TRAIN nets sampled with seed 1 are profiled into a LUT
 * (hwnas_latency_lut_profile) and measured end to end
 * (hwnas_latency_lut_measure); then TEST nets sampled with seed 2 that
 * differ from every training net (and from each other) are measured and
 * predicted by
 *   lut sum     the LUT (missing=interpolate: layers it lacks are
 *               interpolated in work between compatible entries)
 *   lut+linear  a latency model with the LUT, predictor=none: the sum
 *               corrected in log space by a ridge regression on the net's
 *               features (node count - dispatch -, activations and memory
 *               traffic, fused batch-norms, ...), learnt from the
 *               training nets: the "improved sum"
 *   lut+gbrt    the same plus boosted trees on what is left
 *   gbrt        a latency model without the LUT (features only)
 * Kendall's tau, MAPE and the share within +-10% of measured latency.
 * The load average is printed with the figures: other processes on a
 * shared machine slow some passes; measure takes the fastest reading of
 * the thread's CPU time, which resists most of it but not all.
 *
 * usage: bench_latency_host [TRAIN [TEST [SPACE...]]]
 *   defaults 60 training and 100 test nets; spaces "cell" "cgp" "macro"
 *   and the default job's CGP space (8-bit layers with approximate
 *   multipliers: profiled and measured in int8 on the lookup GEMM)
 *   (KIND or KIND:OPTIONS).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwnas/hwnas.h"

#define WARMUP 3
#define REPEATS 10

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "bench_latency_host: %s: %s\n", what, hwnas_error_last());
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void loadavg(char *buf, size_t size)
{
    FILE *f = fopen("/proc/loadavg", "r");
    buf[0] = 0;
    if (f) {
        if (!fgets(buf, (int)size, f))
            buf[0] = 0;
        fclose(f);
    }
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = 0;
}

enum { P_LUT, P_LINEAR, P_LUT_GBRT, P_GBRT, N_P };
static const char *const p_names[N_P] = {"lut sum", "lut+linear", "lut+gbrt", "gbrt"};

/* Sample distinct nets of space from seed into nets[0..n) (skipping the
 * hashes in seen[0..*n_seen), to which theirs are added). */
static size_t sample(hwnas_context *ctx, hwnas_space *space, uint64_t seed, hwnas_net **nets,
                     size_t n, uint64_t *seen, size_t *n_seen)
{
    hwnas_rng *rng;
    if (hwnas_rng_new(&rng, ctx, seed, 0))
        die("rng");
    uint32_t *genes = calloc(hwnas_space_gene_count(space) + 1, sizeof *genes);
    size_t got = 0;
    for (size_t tries = 0; got < n && tries < 100 * n; tries++) {
        if (hwnas_net_new(&nets[got], ctx) || hwnas_space_sample(space, rng, genes))
            die("sample");
        int rc = hwnas_space_decode(space, genes, nets[got]);
        if (rc == HWNAS_EINVALID) {
            hwnas_net_free(nets[got]);
            continue;
        }
        if (rc)
            die("decode");
        uint64_t h = hwnas_net_hash(nets[got]);
        int dup = 0;
        for (size_t i = 0; i < *n_seen && !dup; i++)
            dup = seen[i] == h;
        if (dup) {
            hwnas_net_free(nets[got]);
            continue;
        }
        seen[(*n_seen)++] = h;
        got++;
    }
    free(genes);
    hwnas_rng_free(rng);
    return got;
}

static void run_space(hwnas_context *ctx, const char *spec, size_t n_train, size_t n_test)
{
    char kind[128];
    const char *colon = strchr(spec, ':');
    snprintf(kind, sizeof kind, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
    hwnas_space *space;
    if (hwnas_space_new(&space, ctx, kind, colon ? colon + 1 : NULL))
        die(spec);
    hwnas_net **train = calloc(n_train, sizeof *train), **test = calloc(n_test, sizeof *test);
    uint64_t *seen = calloc(n_train + n_test, sizeof *seen);
    double *ytrain = calloc(n_train, sizeof *ytrain), *ytest = calloc(n_test, sizeof *ytest);
    double *pred[N_P];
    for (int p = 0; p < N_P; p++)
        pred[p] = calloc(n_test, sizeof *pred[p]);
    size_t n_seen = 0;
    n_train = sample(ctx, space, 1, train, n_train, seen, &n_seen);
    n_test = sample(ctx, space, 2, test, n_test, seen, &n_seen);

    char load0[128], load1[128];
    loadavg(load0, sizeof load0);
    double t0 = now();
    hwnas_latency_lut *lut;
    if (hwnas_latency_lut_new(&lut, ctx))
        die("lut");
    for (size_t i = 0; i < n_train; i++)
        if (hwnas_latency_lut_profile(lut, train[i], WARMUP, REPEATS) ||
            hwnas_latency_lut_measure(&ytrain[i], ctx, train[i], WARMUP, REPEATS))
            die("profile");
    double t_profile = now() - t0;
    hwnas_latency_model *models[N_P] = {NULL};
    static const char *const opts[N_P] = {NULL, "predictor=none", "predictor=gbrt",
                                          "predictor=gbrt"};
    for (int p = 1; p < N_P; p++) {
        if (hwnas_latency_model_new(&models[p], ctx, p == P_GBRT ? NULL : lut, opts[p]))
            die("model");
        for (size_t i = 0; i < n_train; i++)
            if (hwnas_latency_model_add(models[p], train[i], ytrain[i]))
                die("model add");
        if (hwnas_latency_model_fit(models[p]))
            die("fit");
    }
    size_t missing = 0;
    t0 = now();
    for (size_t i = 0; i < n_test; i++) {
        if (hwnas_latency_lut_measure(&ytest[i], ctx, test[i], WARMUP, REPEATS))
            die("measure");
        double strict;
        missing += hwnas_latency_lut_predict(&strict, lut, test[i],
                                             HWNAS_LATENCY_LUT_MISSING_ERROR) == HWNAS_ENOTFOUND;
        if (hwnas_latency_lut_predict(&pred[P_LUT][i], lut, test[i],
                                      HWNAS_LATENCY_LUT_MISSING_INTERPOLATE))
            die("lut predict");
        for (int p = 1; p < N_P; p++)
            if (hwnas_latency_model_predict(&pred[p][i], models[p], test[i]))
                die("model predict");
    }
    double t_test = now() - t0;
    loadavg(load1, sizeof load1);
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < n_test; i++) {
        lo = fmin(lo, ytest[i]);
        hi = fmax(hi, ytest[i]);
    }
    printf("\n%s: %zu training nets profiled (%zu LUT entries, %.0f s), %zu unseen test nets "
           "measured (%.0f s; %.3g to %.3g ms), %zu with a layer the LUT lacks\n",
           spec, n_train, hwnas_latency_lut_count(lut), t_profile, n_test, t_test, lo, hi,
           missing);
    printf("load average before: %s; after: %s\n", load0, load1);
    printf("  %-11s %7s %7s %8s\n", "predictor", "tau", "MAPE", "in+-10%");
    for (int p = 0; p < N_P; p++) {
        double tau, mape = 0, within = 0;
        if (hwnas_rank_kendall(pred[p], ytest, n_test, &tau))
            die("kendall");
        for (size_t i = 0; i < n_test; i++) {
            double e = fabs(pred[p][i] - ytest[i]) / ytest[i];
            mape += e;
            within += e <= 0.10;
        }
        printf("  %-11s %7.4f %6.1f%% %7.1f%%\n", p_names[p], tau, 100 * mape / (double)n_test,
               100 * within / (double)n_test);
    }
    fflush(stdout);
    for (int p = 0; p < N_P; p++) {
        hwnas_latency_model_free(models[p]);
        free(pred[p]);
    }
    for (size_t i = 0; i < n_train; i++)
        hwnas_net_free(train[i]);
    for (size_t i = 0; i < n_test; i++)
        hwnas_net_free(test[i]);
    free(train);
    free(test);
    free(seen);
    free(ytrain);
    free(ytest);
    hwnas_latency_lut_free(lut);
    hwnas_space_free(space);
}

int main(int argc, char **argv)
{
    size_t n_train = argc > 1 ? (size_t)atol(argv[1]) : 60;
    size_t n_test = argc > 2 ? (size_t)atol(argv[2]) : 100;
    if (n_train < 2 || n_test < 2) {
        fprintf(stderr, "usage: bench_latency_host [TRAIN >= 2 [TEST >= 2 [SPACE...]]]\n");
        return 2;
    }
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1"))
        die("context");
    printf("latency on this host, 1 thread, fp32 engine (int8 for low-bit nets), batch 1 "
           "(warmup %d, %d repeats)\n",
           WARMUP, REPEATS);
    /* the last: tools/cli/search.c's DEFAULT_SPACE_OPTIONS */
    static const char *const defaults[] = {
        "cell", "cgp", "macro",
        ("cgp:rows=1;cols=8;levels_back=3;stem=16;bits=8;"
         "multipliers=exact,drum:k=6,drum:k=4,trunc:t=2,mitchell")};
    if (argc > 3)
        for (int i = 3; i < argc; i++)
            run_space(ctx, argv[i], n_train, n_test);
    else
        for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
            run_space(ctx, defaults[i], n_train, n_test);
    hwnas_context_free(ctx);
    return 0;
}
