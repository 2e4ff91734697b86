/*
 * NSGA-II on NAS-Bench-201 accuracy against HW-NAS-Bench latency, read from
 * the published tables through estimator:table and driven by hwnas_search:
 * with 500 evaluations, what share of the true front's hypervolume does the
 * search reach? (Issue goal: >= 95%, averaged over 20 seeds.)
 *
 *   bench_nb201_hw SHARED_DIR [SEEDS] [EVALUATIONS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hwnas/hwnas.h>

static const char *const devices[] = {"eyeriss", "fpga", "pixel3", "raspi4"};

static void die(const char *what)
{
    fprintf(stderr, "bench_nb201_hw: %s: %s\n", what, hwnas_error_last());
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_nb201_hw SHARED_DIR [SEEDS] [EVALUATIONS]\n");
        return 2;
    }
    int seeds = argc > 2 ? atoi(argv[2]) : 20, evals = argc > 3 ? atoi(argv[3]) : 500;
    char acc_opts[2048], lat_opts[2048];
    snprintf(acc_opts, sizeof acc_opts,
             "file=%s/data/benchmarks/nb201_nats_tss_test_acc_200ep.csv;key=ArchitectureString;"
             "metrics=CIFAR10TestAccuracy200Epochs:accuracy:%%",
             argv[1]);
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1;log_level=error") != HWNAS_OK)
        die("context");
    printf("NSGA-II (population 50) on NAS-Bench-201 CIFAR-10 accuracy vs HW-NAS-Bench latency,\n"
           "%d evaluations, %d seeds; hypervolume as a share of the true front's\n\n", evals,
           seeds);
    printf("%-8s %12s %12s %10s %10s\n", "device", "true HV", "mean HV", "share", "min");
    double grand = 0;
    for (size_t d = 0; d < 4; d++) {
        snprintf(lat_opts, sizeof lat_opts,
                 "file=%s/data/benchmarks/nb201_latency_hwnasbench_cifar10_via_help.csv;"
                 "key=arch_idx;index_file=%s/data/benchmarks/nb201_nats_tss_test_acc_200ep.csv;"
                 "metrics=%s_latency_ms:latency_ms:ms",
                 argv[1], argv[1], devices[d]);
        /* The true front: every one of the 15,625 cells. */
        hwnas_estimator *acc, *lat;
        hwnas_space *space;
        if (hwnas_estimator_new(&acc, ctx, "table", acc_opts) != HWNAS_OK ||
            hwnas_estimator_new(&lat, ctx, "table", lat_opts) != HWNAS_OK ||
            hwnas_space_new(&space, ctx, "cell", NULL) != HWNAS_OK)
            die("tables (is SHARED_DIR right?)");
        hwnas_net *net;
        hwnas_net_new(&net, ctx);
        static double pts[15625 * 2];
        double worst_acc = INFINITY, worst_lat = 0;
        for (int code = 0; code < 15625; code++) {
            uint32_t g[6];
            for (int e = 5, c = code; e >= 0; e--, c /= 5)
                g[e] = (uint32_t)(c % 5);
            char *key;
            double a = 0, l = 0;
            if (hwnas_space_format(space, g, &key) != HWNAS_OK ||
                hwnas_estimator_estimate(acc, net, key, 0, &a) != HWNAS_OK ||
                hwnas_estimator_estimate(lat, net, key, 0, &l) != HWNAS_OK)
                die("lookup");
            hwnas_free(key);
            pts[2 * code] = -a;
            pts[2 * code + 1] = l;
            worst_acc = fmin(worst_acc, a);
            worst_lat = fmax(worst_lat, l);
        }
        double ref[2] = {-worst_acc, worst_lat}, true_hv;
        if (hwnas_pareto_hypervolume(&true_hv, ctx, pts, 15625, 2, ref) != HWNAS_OK)
            die("hypervolume");
        double sum = 0, lo = INFINITY;
        for (int seed = 1; seed <= seeds; seed++) {
            char opts[512];
            snprintf(opts, sizeof opts,
                     "objectives=accuracy:max,latency_ms:min;evaluations=%d;batch=50;seed=%d;"
                     "hv_reference=\"%.17g,%.17g\"",
                     evals, seed, worst_acc, worst_lat);
            hwnas_search *s;
            if (hwnas_search_new(&s, ctx, "cell", NULL, "nsga2", "population=50", opts) !=
                    HWNAS_OK ||
                hwnas_search_add_estimator(s, "table", acc_opts) != HWNAS_OK ||
                hwnas_search_add_estimator(s, "table", lat_opts) != HWNAS_OK ||
                hwnas_search_run(s) != HWNAS_OK)
                die("search");
            double hv;
            if (hwnas_search_hypervolume(s, &hv) != HWNAS_OK)
                die("search hypervolume");
            sum += hv / true_hv;
            lo = fmin(lo, hv / true_hv);
            hwnas_search_free(s);
        }
        printf("%-8s %12.4f %12.4f %9.2f%% %9.2f%%\n", devices[d], true_hv,
               sum / seeds * true_hv, 100 * sum / seeds, 100 * lo);
        grand += sum / seeds;
        hwnas_net_free(net);
        hwnas_space_free(space);
        hwnas_estimator_free(acc);
        hwnas_estimator_free(lat);
    }
    printf("\nmean share over the four devices: %.2f%% (goal >= 95%%)\n", 100 * grand / 4);
    hwnas_context_free(ctx);
    return 0;
}
