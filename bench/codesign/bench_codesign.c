/*
 * bench/codesign (issue 16, item 5a): NAS-Bench-201 with co-design.
 *
 * Accuracy comes from the benchmark's table (CIFAR-10 test accuracy after
 * 200 epochs, no training); EDP from estimator:accelerator on the decoded
 * cell at CIFAR input size (32x32x3, the cell space's default). Three
 * searches with the same budget of network evaluations, objectives
 * accuracy:max and edp:min, under the constraint area_mm2 <= the area of
 * the Eyeriss-like array (eyeriss-45nm-int8):
 *
 *   joint   NSGA-II over cell+accelerator (network and hardware genes)
 *   nested  NSGA-II over the cell, and per cell an inner search over the
 *           hardware (codesign=nested) for its lowest-EDP accelerator
 *   fixed   NSGA-II over the cell on the fixed eyeriss-45nm-int8
 *
 * For each: the hypervolume of the final front over seeds (mean, std),
 * with one reference point for all, in (accuracy, log10 EDP); and the
 * best EDP reached at several accuracy thresholds (geometric mean over
 * seeds), with the reduction against the fixed accelerator.
 *
 * usage: bench_codesign NB201_CSV [SEEDS [EVALUATIONS [INNER_BUDGET [MAPPER_BUDGET]]]]
 * (defaults 10, 1000, 16, 100: the mapper's budget per distinct layer and
 * accelerator, the same for all three methods).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwnas/hwnas.h"

enum { JOINT, NESTED, FIXED, N_METHODS };
static const char *const method_name[N_METHODS] = {"joint co-search", "nested co-search",
                                                   "fixed eyeriss-45nm-int8"};
static const double thresholds[] = {85, 88, 90, 91, 92, 93, 94};
enum { N_THR = sizeof thresholds / sizeof *thresholds };

/* Hypervolume reference: accuracy 10 % (chance on CIFAR-10) and EDP
 * 10^REF_LOG_EDP uJ x ms (above every NB201 cell on the fixed array). */
#define REF_ACCURACY 10.0
#define REF_LOG_EDP 4.0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_codesign: %s: %s\n", what, hwnas_error_last());
    exit(1);
}

/* The area of the Eyeriss-like array: estimator:accelerator's built-in
 * description, on any net. */
static double eyeriss_area(hwnas_context *ctx)
{
    hwnas_estimator *e = NULL;
    hwnas_net *net = NULL;
    if (hwnas_estimator_new(&e, ctx, "accelerator", NULL) != HWNAS_OK ||
        hwnas_net_parse(&net, ctx, "hwnas-net 1\nx = input(shape=3x32x32)\n"
                                   "conv(out=16, k=3, pad=1)\ngap\nlinear(out=10)\n",
                        "<probe>") !=
            HWNAS_OK)
        die("eyeriss area");
    double v[32];
    if (hwnas_estimator_estimate(e, net, NULL, 0, v) != HWNAS_OK)
        die("eyeriss area");
    double area = v[hwnas_estimator_metric_index(e, "area_mm2")];
    hwnas_net_free(net);
    hwnas_estimator_free(e);
    return area;
}

typedef struct outcome {
    double hv;
    double best_edp[N_THR]; /* lowest feasible EDP with accuracy >= threshold; NAN: none */
    size_t front, discarded, distinct_hw;
    double seconds;
} outcome;

static char accel_opts[64]; /* estimator:accelerator's options: the mapper budget */

static outcome run(hwnas_context *ctx, int method, hwnas_estimator *table, double area,
                   uint64_t seed, size_t evaluations, size_t inner_budget)
{
    char opts[1024];
    snprintf(opts, sizeof opts,
             "objectives=\"accuracy:max,edp:min\";constraints=\"area_mm2<=%.17g\";"
             "evaluations=%zu;batch=50;seed=%llu%s",
             area, evaluations, (unsigned long long)seed,
             method == NESTED ? ";codesign=nested" : "");
    if (method == NESTED) {
        size_t len = strlen(opts);
        snprintf(opts + len, sizeof opts - len,
                 ";codesign_options=\"strategy=random;budget=%zu;batch=16;objective=edp;"
                 "max_area_mm2=%.17g\"",
                 inner_budget, area);
    }
    hwnas_search *s;
    double t0 = now();
    if (hwnas_search_new(&s, ctx, method == FIXED ? "cell" : "cell+accelerator", NULL, "nsga2",
                         "population=50", opts) != HWNAS_OK ||
        hwnas_search_add_estimator_object(s, table) != HWNAS_OK ||
        hwnas_search_add_estimator(s, "accelerator", accel_opts) != HWNAS_OK)
        die("search");
    if (hwnas_search_run(s) != HWNAS_OK)
        die("run");
    outcome o;
    memset(&o, 0, sizeof o);
    o.seconds = now() - t0;
    for (int k = 0; k < N_THR; k++)
        o.best_edp[k] = NAN;
    size_t n = hwnas_search_count(s);
    char **hw = calloc(n + 1, sizeof *hw);
    for (size_t i = 0; i < n; i++) {
        const char *err = hwnas_search_error(s, i);
        if (err) {
            o.discarded += strstr(err, "nested co-design") != NULL;
            continue;
        }
        double acc, edp, a;
        hwnas_search_metric(s, i, "accuracy", &acc);
        hwnas_search_metric(s, i, "edp", &edp);
        hwnas_search_metric(s, i, "area_mm2", &a);
        if (!(a <= area))
            continue;
        for (int k = 0; k < N_THR; k++)
            if (acc >= thresholds[k] && !(edp >= o.best_edp[k]))
                o.best_edp[k] = edp;
    }
    size_t nf = hwnas_search_front(s, NULL, 0);
    size_t *front = malloc((nf + 1) * sizeof *front);
    double *pts = malloc((2 * nf + 1) * sizeof *pts);
    nf = hwnas_search_front(s, front, nf);
    o.front = nf;
    size_t np = 0;
    for (size_t k = 0; k < nf; k++) {
        double acc, edp;
        hwnas_search_metric(s, front[k], "accuracy", &acc);
        hwnas_search_metric(s, front[k], "edp", &edp);
        pts[2 * np] = -acc;
        pts[2 * np + 1] = log10(edp);
        np++;
        const char *key = hwnas_search_key(s, front[k]);
        const char *at = strstr(key, " @ ");
        size_t j = 0;
        while (at && j < o.distinct_hw && strcmp(hw[j], at) != 0)
            j++;
        if (at && j == o.distinct_hw)
            hw[o.distinct_hw++] = strdup(at);
    }
    const double ref[2] = {-REF_ACCURACY, REF_LOG_EDP};
    if (hwnas_pareto_hypervolume(&o.hv, ctx, pts, np, 2, ref) != HWNAS_OK)
        die("hypervolume");
    for (size_t j = 0; j < o.distinct_hw; j++)
        free(hw[j]);
    free(hw);
    free(front);
    free(pts);
    hwnas_search_free(s);
    return o;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_codesign NB201_CSV [SEEDS [EVALUATIONS [INNER_BUDGET "
                        "[MAPPER_BUDGET]]]]\n");
        return 2;
    }
    size_t seeds = argc > 2 ? strtoul(argv[2], NULL, 10) : 10;
    size_t evaluations = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
    size_t inner = argc > 4 ? strtoul(argv[4], NULL, 10) : 16;
    size_t mapper = argc > 5 ? strtoul(argv[5], NULL, 10) : 100;
    snprintf(accel_opts, sizeof accel_opts, "budget=%zu", mapper);
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "log_level=error") != HWNAS_OK)
        die("context");
    char topts[1200];
    snprintf(topts, sizeof topts,
             "file=%s;key=ArchitectureString;metrics=CIFAR10TestAccuracy200Epochs:accuracy:%%",
             argv[1]);
    hwnas_estimator *table;
    if (hwnas_estimator_new(&table, ctx, "table", topts) != HWNAS_OK)
        die("table");
    double area = eyeriss_area(ctx);
    printf("NAS-Bench-201 (CIFAR-10 test accuracy, 200 epochs) x accelerator EDP at 32x32x3;\n"
           "area_mm2 <= %.4f (eyeriss-45nm-int8); %zu seeds x %zu network evaluations;\n"
           "nested: inner random search, %zu accelerators per network, lowest EDP;\n"
           "mapper budget %zu per layer; NSGA-II population 50, batch 50; %zu thread(s)\n"
           "hypervolume of (accuracy %%, log10 EDP uJ*ms) against (%.0f, %.0f)\n\n",
           area, seeds, evaluations, inner, mapper, hwnas_context_threads(ctx), REF_ACCURACY,
           REF_LOG_EDP);
    outcome *res = calloc(N_METHODS * seeds, sizeof *res);
    for (size_t k = 0; k < seeds; k++)
        for (int m = 0; m < N_METHODS; m++) {
            res[m * seeds + k] = run(ctx, m, table, area, k + 1, evaluations, inner);
            fprintf(stderr, "seed %zu %-24s hv %.3f front %zu discarded %zu %.1f s\n", k + 1,
                    method_name[m], res[m * seeds + k].hv, res[m * seeds + k].front,
                    res[m * seeds + k].discarded, res[m * seeds + k].seconds);
        }
    printf("%-24s %9s %7s %6s %9s %9s %8s\n", "method", "HV mean", "std", "front",
           "accels", "discarded", "s/run");
    for (int m = 0; m < N_METHODS; m++) {
        double sum = 0, sq = 0, fr = 0, hwn = 0, dis = 0, sec = 0;
        for (size_t k = 0; k < seeds; k++) {
            const outcome *o = &res[m * seeds + k];
            sum += o->hv;
            sq += o->hv * o->hv;
            fr += (double)o->front;
            hwn += (double)o->distinct_hw;
            dis += (double)o->discarded;
            sec += o->seconds;
        }
        double mean = sum / (double)seeds;
        double sd = seeds > 1 ? sqrt(fmax(0, (sq - sum * mean) / (double)(seeds - 1))) : 0;
        printf("%-24s %9.3f %7.3f %6.1f %9.1f %9.1f %8.1f\n", method_name[m], mean, sd,
               fr / (double)seeds, hwn / (double)seeds, dis / (double)seeds,
               sec / (double)seeds);
    }
    printf("\nbest EDP (uJ*ms) at equal accuracy: geometric mean over the seeds that reach "
           "it\n%-12s", "accuracy >=");
    for (int m = 0; m < N_METHODS; m++)
        printf(" %16.16s", method_name[m]);
    printf(" %9s %9s\n", "fixed/jnt", "fixed/nst");
    for (int t = 0; t < N_THR; t++) {
        double g[N_METHODS];
        size_t reached[N_METHODS];
        printf("%10.0f %% ", thresholds[t]);
        for (int m = 0; m < N_METHODS; m++) {
            double l = 0;
            reached[m] = 0;
            for (size_t k = 0; k < seeds; k++) {
                double e = res[m * seeds + k].best_edp[t];
                if (isfinite(e)) {
                    l += log(e);
                    reached[m]++;
                }
            }
            g[m] = reached[m] ? exp(l / (double)reached[m]) : NAN;
            char cellbuf[64];
            if (reached[m])
                snprintf(cellbuf, sizeof cellbuf, "%.4g (%zu/%zu)", g[m], reached[m], seeds);
            else
                snprintf(cellbuf, sizeof cellbuf, "- (0/%zu)", seeds);
            printf(" %16s", cellbuf);
        }
        for (int m = 0; m < FIXED; m++)
            if (isfinite(g[FIXED] / g[m]))
                printf(" %8.2fx", g[FIXED] / g[m]);
            else
                printf(" %9s", "-");
        printf("\n");
    }
    free(res);
    hwnas_estimator_free(table);
    hwnas_context_free(ctx);
    return 0;
}
