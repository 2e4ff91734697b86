/*
 * The accelerator model's speed and its figures against the references:
 *   1. mapping the 53 convolutions (and the classifier) of ResNet-50 with
 *      the default mapper budget, one core (goal: under 2 s);
 *   2. a default-job CGP candidate through estimator:accelerator, cold (an
 *      estimator that has mapped none of its layers; goal: under 20 ms) and
 *      warm (as inside a search, with the estimator's cache of mapped layers);
 *   3. the Eyeriss chip: AlexNet's conv layers at batch 4 on
 *      examples/hardware/eyeriss.hw against its 34.7 frames/s and 15.4 MB
 *      of DRAM traffic per batch (Chen et al., JSSC 2017);
 *   4. the seed's AlexNet DRAM figures (2,896 M without reuse, ~61 M with).
 * Timeloop itself is not a Debian package and cannot be run here: the
 * count-for-count comparison with its reference outputs is tests/accel.
 * Usage: bench_accel (sources at HWNAS_SOURCE_ROOT, fixed at build time)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hwnas/hwnas.h>

#define SRC HWNAS_SOURCE_ROOT

/* CPU time of this thread: the figure of one core, even when other
 * programs share it (wall-clock time is printed beside it in bench/accel/run). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void check(int rc, const char *what)
{
    if (rc != HWNAS_OK) {
        fprintf(stderr, "bench_accel: %s: %s\n", what, hwnas_error_last());
        exit(1);
    }
}

static double metric(const hwnas_accel_result *r, int64_t layer, const char *name)
{
    double v;
    check(hwnas_accel_result_metric(&v, r, layer, name), name);
    return v;
}

/* The default job's space (tools/cli/search.c). */
#define CGP_OPTIONS \
    "rows=1;cols=8;levels_back=3;stem=16;bits=8;multipliers=exact,drum:k=6,drum:k=4,trunc:t=2,mitchell"

static void resnet50(hwnas_context *ctx)
{
    hwnas_accel *a;
    check(hwnas_accel_load(&a, ctx, SRC "/examples/hardware/eyeriss_45nm_int8.hw", NULL), "load");
    hwnas_net *net;
    check(hwnas_net_load(&net, ctx, SRC "/examples/nets/resnet50.net"), "resnet50");
    hwnas_accel_result *r = NULL;
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        hwnas_accel_result_free(r);
        double t0 = now();
        check(hwnas_accel_run(&r, a, net, NULL), "run");
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("ResNet-50 on %s: %zu layers mapped in %.3f s (goal < 2 s; budget 600 per "
           "layer, objective edp, best of 3, CPU time)\n",
           hwnas_accel_name(a), hwnas_accel_result_layer_count(r), best);
    printf("  %.1f mJ, %.2f ms at %.0f MHz, utilisation %.2f, %.1f M DRAM words, MAC share "
           "%.1f%%\n",
           metric(r, -1, "energy_uj") * 1e-3, metric(r, -1, "latency_ms"),
           hwnas_accel_clock_mhz(a), metric(r, -1, "utilisation"),
           metric(r, -1, "dram_accesses") * 1e-6, 100 * metric(r, -1, "mac_energy_share"));
    hwnas_accel_result_free(r);
    hwnas_net_free(net);
    hwnas_accel_free(a);
}

static void cgp_candidates(hwnas_context *ctx)
{
    hwnas_space *sp;
    check(hwnas_space_new(&sp, ctx, "cgp", CGP_OPTIONS), "space");
    hwnas_rng *rng;
    check(hwnas_rng_new(&rng, ctx, 1, 0), "rng");
    size_t ng = hwnas_space_gene_count(sp);
    uint32_t *genes = calloc(ng, sizeof *genes);
    hwnas_net *net, *all_muls;
    check(hwnas_net_new(&net, ctx), "net");
    /* a net of other shapes on every multiplier of the space: building the
     * multiplier tables is the estimator's one-time cost, not a mapping */
    check(hwnas_net_parse(&all_muls, ctx,
                          "hwnas-net 1\nx = input(shape=3x5x5)\nconv(out=3, k=1)\n"
                          "conv(out=3, k=1)\nconv(out=3, k=1)\nconv(out=3, k=1)\n",
                          "multipliers"),
          "net");
    static const char *const muls[] = {"drum:k=6", "drum:k=4", "trunc:t=2", "mitchell"};
    for (size_t i = 0; i < 4; i++)
        check(hwnas_net_set_multiplier(all_muls, i + 1, muls[i], 8), "multiplier");
    hwnas_estimator *warm;
    check(hwnas_estimator_new(&warm, ctx, "accelerator", NULL), "estimator");
    double v[16], cold_total = 0, cold_max = 0, warm_total = 0, layers = 0;
    int n = 0;
    while (n < 50) {
        check(hwnas_space_sample(sp, rng, genes), "sample");
        if (hwnas_space_decode(sp, genes, net) != HWNAS_OK)
            continue;
        hwnas_estimator *cold;
        check(hwnas_estimator_new(&cold, ctx, "accelerator", NULL), "estimator");
        check(hwnas_estimator_estimate(cold, all_muls, NULL, 0, v), "warm-up");
        double t0 = now();
        check(hwnas_estimator_estimate(cold, net, NULL, 0, v), "estimate");
        double t = now() - t0;
        hwnas_estimator_free(cold);
        cold_total += t;
        if (t > cold_max)
            cold_max = t;
        t0 = now();
        check(hwnas_estimator_estimate(warm, net, NULL, 0, v), "estimate");
        warm_total += now() - t0;
        for (size_t i = 0; i < hwnas_net_node_count(net); i++)
            layers += hwnas_net_node_macs(net, i) > 0 && hwnas_net_node_multiplier(net, i);
        n++;
    }
    printf("default-job CGP candidates (%d, %.1f layers each): cold %.2f ms mean, %.2f ms max "
           "(goal < 20 ms, CPU time); warm (cached layers, as in a search) %.3f ms mean\n",
           n, layers / n, 1e3 * cold_total / n, 1e3 * cold_max, 1e3 * warm_total / n);
    hwnas_estimator_free(warm);
    hwnas_net_free(all_muls);
    hwnas_net_free(net);
    free(genes);
    hwnas_rng_free(rng);
    hwnas_space_free(sp);
}

static void eyeriss_chip_and_seed(hwnas_context *ctx)
{
    hwnas_accel *a;
    hwnas_net *net;
    hwnas_accel_result *r;
    check(hwnas_accel_load(&a, ctx, SRC "/examples/hardware/eyeriss.hw", NULL), "eyeriss");
    check(hwnas_net_load(&net, ctx, SRC "/examples/nets/alexnet.net"), "alexnet");
    check(hwnas_accel_run(&r, a, net, "batch=4"), "run");
    double ms = 0, dram = 0, macs = 0, energy = 0;
    for (size_t i = 0; i < hwnas_accel_result_layer_count(r); i++) {
        if (strncmp(hwnas_accel_result_layer_name(r, i), "conv", 4) != 0)
            continue;
        ms += metric(r, (int64_t)i, "latency_ms");
        dram += metric(r, (int64_t)i, "dram_accesses");
        macs += metric(r, (int64_t)i, "macs");
        energy += metric(r, (int64_t)i, "energy_uj");
    }
    double fps = 4 / (ms * 1e-3), mb = dram * 2 / 1e6;
    printf("Eyeriss (65 nm, 16-bit), AlexNet conv1-5 at batch 4: %.1f frames/s (chip 34.7, "
           "%+.0f%%), %.1f MB DRAM per batch (chip 15.4, %+.0f%%), %.4f DRAM accesses/MAC "
           "(chip 0.0029), %.1f GMACS (chip 23.1), %.0f mW at that rate (chip 278)\n",
           fps, 100 * (fps / 34.7 - 1), mb, 100 * (mb / 15.4 - 1), dram / macs,
           macs / (ms * 1e-3) / 1e9, energy * 1e-6 / (ms * 1e-3) * 1e3);
    hwnas_accel_result_free(r);
    hwnas_accel_free(a);

    check(hwnas_accel_load(&a, ctx, SRC "/tests/accel/data/no_local_reuse.hw", NULL), "nlr");
    check(hwnas_accel_run(&r, a, net, NULL), "run");
    printf("AlexNet DRAM accesses: without local reuse %.1f M (seed: 2,896 M)",
           metric(r, -1, "dram_accesses") * 1e-6);
    hwnas_accel_result_free(r);
    hwnas_accel_free(a);
    check(hwnas_accel_load(&a, ctx, SRC "/examples/hardware/eyeriss_45nm_int8.hw", NULL), "l");
    check(hwnas_accel_run(&r, a, net, NULL), "run");
    printf("; with reuse on eyeriss-45nm-int8 %.1f M (seed: about 61 M)\n",
           metric(r, -1, "dram_accesses") * 1e-6);
    hwnas_accel_result_free(r);
    hwnas_accel_free(a);
    hwnas_net_free(net);
}

int main(void)
{
    hwnas_context *ctx;
    check(hwnas_context_new(&ctx, "threads=1"), "context");
    resnet50(ctx);
    cgp_candidates(ctx);
    eyeriss_chip_and_seed(ctx);
    hwnas_context_free(ctx);
    return 0;
}
