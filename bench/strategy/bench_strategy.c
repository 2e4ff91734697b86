/*
 * The strategies against published and exact references.
 *
 * nb201: random search, regularized evolution and REINFORCE on the real
 * NAS-Bench-201 CIFAR-10 table (test accuracy after 200 epochs of all
 * 15,625 cells), each over `seeds` seeds at 100 and 300 evaluations, with
 * objective -accuracy. Printed beside each mean best accuracy: the exact
 * expected best-of-N of uniform sampling with replacement, computed from
 * the table, and the NAS-Bench-201 paper's figures (Dong and Yang, 2020,
 * which search on the validation split with a time budget: not the same
 * protocol, shown for orientation).
 *
 * zdt1: NSGA-II on ZDT1 with 30 ordinal genes of 65,536 levels mapped to
 * [0, 1], population 100, 250 generations; hypervolume of the final
 * population w.r.t. (11, 11) averaged over `seeds` seeds, and the time.
 *
 * usage: bench_strategy [nb201|zdt1|all [seeds [shared_dir]]]
 *        (defaults: all, 100 for nb201 and 5 for zdt1, $HWNAS_SHARED_DIR)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwnas/pareto.h"
#include "strategy/strategy_internal.h"
#include "test_strategy_nb201.h"
#include "test_strategy_space.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "bench_strategy: %s: %s (%s)\n", what, hwnas_error_str(rc),
            hwnas_error_last());
    exit(1);
}

/* Best accuracy found by one search of evals evaluations. */
static double nb201_search(hwnas_context *ctx, const hwnas_space *cell, const double *acc,
                           const char *kind, const char *opts, size_t evals)
{
    hwnas_strategy *s = NULL;
    int rc = hwnas_strategy_new(&s, ctx, kind, opts, cell, 1);
    if (rc != HWNAS_OK)
        fail(kind, rc);
    double best = 0;
    for (size_t done = 0; done < evals;) {
        uint32_t g[10 * 6];
        uint64_t ids[10];
        double o[10];
        size_t n, want = evals - done < 10 ? evals - done : 10;
        if ((rc = hwnas_strategy_ask(s, want, g, ids, &n)) != HWNAS_OK || n == 0)
            fail("ask", rc);
        for (size_t k = 0; k < n; k++) {
            double a = acc[nb201_index(g + 6 * k)];
            o[k] = -a;
            best = a > best ? a : best;
        }
        if ((rc = hwnas_strategy_tell(s, n, ids, o, NULL, NULL)) != HWNAS_OK)
            fail("tell", rc);
        done += n;
    }
    hwnas_strategy_free(s);
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* E[max of N uniform draws with replacement] = sum_k a_(k) ((k/n)^N - ((k-1)/n)^N). */
static double expected_best(const double *acc, size_t n, size_t N)
{
    double *a = malloc(n * sizeof *a);
    memcpy(a, acc, n * sizeof *a);
    qsort(a, n, sizeof *a, cmp_double);
    double e = 0;
    for (size_t k = 1; k <= n; k++)
        e += a[k - 1] * (pow((double)k / (double)n, (double)N) -
                         pow((double)(k - 1) / (double)n, (double)N));
    free(a);
    return e;
}

static void bench_nb201(hwnas_context *ctx, int seeds, const char *shared)
{
    hwnas_space *cell = NULL;
    int rc = hwnas_space_new(&cell, ctx, "cell", NULL);
    if (rc != HWNAS_OK)
        fail("space", rc);
    double *acc = malloc(NB201_N * sizeof *acc);
    rc = nb201_load(cell, shared, 0, acc);
    if (rc != 0) {
        printf("nb201: skipped: nb201_nats_tss_test_acc_200ep.csv %s (set HWNAS_SHARED_DIR "
               "or pass the shared directory)\n",
               rc == -1 ? "not found" : "malformed");
        free(acc);
        hwnas_space_free(cell);
        return;
    }
    static const struct {
        const char *name, *kind, *opts;
        double paper;
    } alg[] = {
        {"random (uniform, with replacement)", "random", "dedup=false", 93.70},
        {"random (de-duplicated)", "random", "dedup=true", 93.70},
        {"regularized evolution (P=20, S=5)", "ea", "mode=regularized;population=20;sample=5",
         93.92},
        {"REINFORCE (factorised)", "reinforce", "lr=0.05", 93.85},
        {"REINFORCE (LSTM, hidden 32)", "reinforce", "controller=lstm;hidden=32;lr=0.005",
         93.85},
    };
    const size_t budgets[2] = {100, 300};
    double best_all = 0;
    for (size_t i = 0; i < NB201_N; i++)
        best_all = acc[i] > best_all ? acc[i] : best_all;
    printf("NAS-Bench-201 CIFAR-10 test accuracy (200 epochs), %d seeds, best in table %.2f%%\n",
           seeds, best_all);
    printf("  exact E[best of N] of uniform sampling with replacement: N=100 %.3f%%, N=300 "
           "%.3f%%\n",
           expected_best(acc, NB201_N, 100), expected_best(acc, NB201_N, 300));
    printf("  %-38s %18s %18s %8s %8s\n", "strategy", "N=100 mean+-se", "N=300 mean+-se", "paper",
           "time/s");
    for (size_t a = 0; a < HWNAS_ARRAY_SIZE(alg); a++) {
        double mean[2], se[2];
        double t0 = now();
        for (int b = 0; b < 2; b++) {
            double s1 = 0, s2 = 0;
            for (int seed = 1; seed <= seeds; seed++) {
                char opts[256];
                snprintf(opts, sizeof opts, "%s;seed=%d", alg[a].opts, seed);
                double v = nb201_search(ctx, cell, acc, alg[a].kind, opts, budgets[b]);
                s1 += v;
                s2 += v * v;
            }
            mean[b] = s1 / seeds;
            double var = seeds > 1 ? (s2 - s1 * s1 / seeds) / (seeds - 1) : 0;
            se[b] = sqrt(var > 0 ? var / seeds : 0);
        }
        printf("  %-38s %10.3f+-%.3f %10.3f+-%.3f %8.2f %8.2f\n", alg[a].name, mean[0], se[0],
               mean[1], se[1], alg[a].paper, now() - t0);
    }
    free(acc);
    hwnas_space_free(cell);
}

static void zdt1(const uint32_t *g, double *o)
{
    double s = 0;
    for (int i = 1; i < 30; i++)
        s += (double)g[i] / 65535.0;
    double x0 = (double)g[0] / 65535.0, gg = 1 + 9 * s / 29;
    o[0] = x0;
    o[1] = gg * (1 - sqrt(x0 / gg));
}

static void bench_zdt1(hwnas_context *ctx, int seeds)
{
    hwnas_space *sp = NULL;
    int rc = ordinal_space_new(&sp, ctx, "genes=30;levels=65536");
    if (rc != HWNAS_OK)
        fail("space", rc);
    const size_t P = 100, gens = 250;
    double hv_sum = 0, t_sum = 0;
    printf("NSGA-II on ZDT1 (30 ordinal genes of 65,536 levels, population %zu, %zu "
           "generations), hypervolume w.r.t. (11, 11):\n",
           P, gens);
    for (int seed = 1; seed <= seeds; seed++) {
        char opts[128];
        snprintf(opts, sizeof opts, "seed=%d;population=%zu;eta_c=20;eta_m=20;crossover=0.9",
                 seed, P);
        double t0 = now();
        hwnas_strategy *s = NULL;
        if ((rc = hwnas_strategy_new(&s, ctx, "nsga2", opts, sp, 2)) != HWNAS_OK)
            fail("nsga2", rc);
        uint32_t *g = malloc(P * 30 * sizeof *g);
        uint64_t *ids = malloc(P * sizeof *ids);
        double *o = malloc(2 * P * sizeof *o);
        for (size_t b = 0; b <= gens; b++) {
            size_t n;
            if ((rc = hwnas_strategy_ask(s, P, g, ids, &n)) != HWNAS_OK || n != P)
                fail("ask", rc);
            for (size_t k = 0; k < n; k++)
                zdt1(g + 30 * k, o + 2 * k);
            if ((rc = hwnas_strategy_tell(s, n, ids, o, NULL, NULL)) != HWNAS_OK)
                fail("tell", rc);
        }
        /* The next ask runs the last survival. */
        size_t n;
        if ((rc = hwnas_strategy_ask(s, 1, g, ids, &n)) != HWNAS_OK)
            fail("ask", rc);
        const uint32_t *pg;
        const double *po;
        hwnas__strategy_nsga2_population(s, &pg, &po, &n);
        double t = now() - t0;
        double ref[2] = {11, 11}, hv;
        if ((rc = hwnas_pareto_hypervolume(&hv, ctx, po, n, 2, ref)) != HWNAS_OK)
            fail("hypervolume", rc);
        printf("  hwnas seed %d: hypervolume %.6f  time %.3f s\n", seed, hv, t);
        hv_sum += hv;
        t_sum += t;
        free(g);
        free(ids);
        free(o);
        hwnas_strategy_free(s);
    }
    printf("  hwnas mean: hypervolume %.6f  time %.3f s   (true front: %.6f)\n", hv_sum / seeds,
           t_sum / seeds, 121.0 - 1.0 / 3.0);
    hwnas_space_free(sp);
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    int seeds = argc > 2 ? atoi(argv[2]) : 0;
    const char *shared = argc > 3 ? argv[3] : NULL;
    if (strcmp(what, "all") && strcmp(what, "nb201") && strcmp(what, "zdt1")) {
        fprintf(stderr, "usage: %s [nb201|zdt1|all [seeds [shared_dir]]]\n", argv[0]);
        return 2;
    }
    hwnas_context *ctx = NULL;
    int rc = hwnas_context_new(&ctx, "threads=1");
    if (rc != HWNAS_OK)
        fail("context", rc);
    if (strcmp(what, "zdt1") != 0)
        bench_nb201(ctx, seeds > 0 ? seeds : 100, shared);
    if (strcmp(what, "nb201") != 0)
        bench_zdt1(ctx, seeds > 0 ? seeds : 5);
    hwnas_context_free(ctx);
    return 0;
}
