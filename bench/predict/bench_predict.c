/*
 * bench/predict (issue 17, item 4): surrogate predictors on NAS-Bench-201.
 *
 * Part 1, rank correlation: for each seed, the 15625 cells are shuffled;
 * each predictor is fitted on the first N (N = 20, 100, 1000) and tested
 * on the next 1000 (the same test cells for every N), the target being
 * CIFAR-10 test accuracy after 200 epochs (the table's, no training).
 * Kendall's tau and Spearman's rho of predicted against true accuracy,
 * mean and standard deviation over seeds, with fit and predict times.
 *
 * usage: bench_predict NB201_CSV [SEEDS [ENCODING [KINDS]]]
 *   defaults 10 seeds, the cell space's default encoding (path), kinds
 *   "mlp,gbrt,gp"; ENCODING onehot compares the one-hot of the edges.
 *
 * Part 2, predictor-guided search: bench_predict NB201_CSV search [SEEDS
 * [STRATEGY_OPTIONS]] runs, per seed, plain regularized evolution (REA)
 * for 300 evaluations and, for 100 evaluations, REA and NSGA-II guided
 * by each predictor (guide=KIND: each batch of 10 is the best of a pool
 * of 100 the strategy proposes, after 20 plain evaluations), objective
 * accuracy:max on the table (estimator:table, no training). It prints the
 * mean best accuracy found after 100, 200 and 300 evaluations (defaults:
 * 100 seeds; REA population=20;sample=5, NSGA-II population=20).
 * A last argument ",0,2,5," runs only those methods (0 REA, 1-3 REA + gp,
 * gbrt, mlp, 4 NSGA-II, 5-7 NSGA-II + gp, gbrt, mlp).
 * bench_predict NB201_CSV curve [SEEDS [REA_OPTIONS]] prints plain REA's
 * mean best accuracy after every 10 evaluations up to 300.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwnas/hwnas.h"

#define N_CELLS 15625
#define N_TEST 1000
static const size_t sizes[] = {20, 100, 1000};
enum { N_SIZES = sizeof sizes / sizeof *sizes };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "bench_predict: %s: %s\n", what, hwnas_error_last());
    exit(1);
}

/* The table: CIFAR-10 accuracy (column 0) and the genes of the
 * architecture string (column 3) of every cell, in index order. */
static void load(hwnas_space *space, const char *path, double *acc, uint32_t *genes)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_predict: cannot open %s\n", path);
        exit(1);
    }
    char line[4096];
    size_t n = 0;
    if (!fgets(line, sizeof line, f))
        exit(1);
    while (n < N_CELLS && fgets(line, sizeof line, f)) {
        char *field[5] = {line};
        int k = 1;
        for (char *c = line; *c && k < 5; c++)
            if (*c == ',') {
                *c = 0;
                field[k++] = c + 1;
            }
        if (k < 5) {
            fprintf(stderr, "bench_predict: %s: row %zu has %d fields\n", path, n + 1, k);
            exit(1);
        }
        acc[n] = strtod(field[0], NULL);
        if (hwnas_space_parse(space, field[3], genes + n * 6) != HWNAS_OK)
            die(field[3]);
        n++;
    }
    fclose(f);
    if (n != N_CELLS) {
        fprintf(stderr, "bench_predict: %s: %zu rows, expected %d\n", path, n, N_CELLS);
        exit(1);
    }
}

static void shuffle(size_t *idx, size_t n, hwnas_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)hwnas_rng_below(rng, i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

typedef struct stats {
    double s, ss;
    size_t n;
} stats;

static void add(stats *st, double v)
{
    st->s += v;
    st->ss += v * v;
    st->n++;
}

static double mean_of(const stats *st) { return st->n ? st->s / (double)st->n : NAN; }

static double sd_of(const stats *st)
{
    if (st->n < 2)
        return 0;
    double m = mean_of(st), v = (st->ss - (double)st->n * m * m) / (double)(st->n - 1);
    return v > 0 ? sqrt(v) : 0;
}

/* The best accuracy among the first n records of s. */
static double best_upto(const hwnas_search *s, size_t n)
{
    double best = -INFINITY;
    for (size_t i = 0; i < n && i < hwnas_search_count(s); i++) {
        double a;
        if (!hwnas_search_error(s, i) && hwnas_search_metric(s, i, "accuracy", &a) == HWNAS_OK &&
            a > best)
            best = a;
    }
    return best;
}

typedef struct method {
    const char *name, *strategy, *guide;
    size_t budget;
} method;

static int search_bench(const char *csv, size_t seeds, const char *rea_opts,
                        const char *nsga_opts, const char *extra, const char *only)
{
    static const method methods[] = {
        {"REA", "ea", "none", 300},         {"REA + gp", "ea", "gp", 100},
        {"REA + gbrt", "ea", "gbrt", 100},  {"REA + mlp", "ea", "mlp", 100},
        {"NSGA-II", "nsga2", "none", 300},  {"NSGA-II + gp", "nsga2", "gp", 100},
        {"NSGA-II + gbrt", "nsga2", "gbrt", 100}, {"NSGA-II + mlp", "nsga2", "mlp", 100},
    };
    enum { N_METHODS = sizeof methods / sizeof *methods };
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "log_level=error") != HWNAS_OK)
        die("context");
    char topts[1200];
    snprintf(topts, sizeof topts,
             "file=%s;key=ArchitectureString;metrics=CIFAR10TestAccuracy200Epochs:accuracy:%%",
             csv);
    hwnas_estimator *table;
    if (hwnas_estimator_new(&table, ctx, "table", topts) != HWNAS_OK)
        die("table");
    stats at[N_METHODS][3] = {{{0}}}, secs[N_METHODS] = {{0}};
    for (size_t m = 0; m < N_METHODS; m++) {
        char tag[8];
        snprintf(tag, sizeof tag, ",%zu,", m);
        if (*only && !strstr(only, tag))
            continue;
        for (size_t seed = 1; seed <= seeds; seed++) {
            char opts[512];
            snprintf(opts, sizeof opts,
                     "objectives=accuracy:max;budget=%zu;batch=10;seed=%zu;guide=%s;"
                     "guide_pool=100;guide_min=20%s%s",
                     methods[m].budget, seed, methods[m].guide,
                     *extra && strcmp(methods[m].guide, "none") ? ";" : "",
                     strcmp(methods[m].guide, "none") ? extra : "");
            const char *sopts = strcmp(methods[m].strategy, "ea") == 0 ? rea_opts : nsga_opts;
            hwnas_search *s;
            double t0 = now();
            if (hwnas_search_new(&s, ctx, "cell", NULL, methods[m].strategy, sopts, opts) !=
                    HWNAS_OK ||
                hwnas_search_add_estimator_object(s, table) != HWNAS_OK)
                die("search");
            if (hwnas_search_run(s) != HWNAS_OK)
                die("run");
            add(&secs[m], now() - t0);
            for (size_t k = 0; k < 3; k++)
                if ((k + 1) * 100 <= methods[m].budget)
                    add(&at[m][k], best_upto(s, (k + 1) * 100));
            hwnas_search_free(s);
        }
        fprintf(stderr, "%s done\n", methods[m].name);
    }
    printf("NAS-Bench-201 CIFAR-10 (test accuracy, 200 epochs; oracle setting), %zu seeds,\n"
           "objective accuracy:max, batch 10; guided: pool 100, after 20 plain evaluations;\n"
           "REA %s, NSGA-II %s; guided searches' options %s\n\n",
           seeds, rea_opts, nsga_opts, *extra ? extra : "(defaults)");
    printf("| method | best after 100 | after 200 | after 300 | s per run |\n");
    printf("|---|---:|---:|---:|---:|\n");
    for (size_t m = 0; m < N_METHODS; m++) {
        if (!secs[m].n)
            continue;
        printf("| %s |", methods[m].name);
        for (size_t k = 0; k < 3; k++)
            if (at[m][k].n)
                printf(" %.3f +- %.3f |", mean_of(&at[m][k]),
                       sd_of(&at[m][k]) / sqrt((double)at[m][k].n));
            else
                printf(" |");
        printf(" %.2f |\n", mean_of(&secs[m]));
    }
    printf("\n(+- is the standard error of the mean over seeds)\n");
    hwnas_estimator_free(table);
    hwnas_context_free(ctx);
    return 0;
}

/* Plain REA's mean best accuracy after every 10 evaluations up to 300:
 * how many evaluations it needs to reach what a guided search reaches. */
static int curve_bench(const char *csv, size_t seeds, const char *rea_opts)
{
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "log_level=error") != HWNAS_OK)
        die("context");
    char topts[1200];
    snprintf(topts, sizeof topts,
             "file=%s;key=ArchitectureString;metrics=CIFAR10TestAccuracy200Epochs:accuracy:%%",
             csv);
    hwnas_estimator *table;
    if (hwnas_estimator_new(&table, ctx, "table", topts) != HWNAS_OK)
        die("table");
    stats at[30] = {{0}};
    for (size_t seed = 1; seed <= seeds; seed++) {
        char opts[256];
        snprintf(opts, sizeof opts, "objectives=accuracy:max;budget=300;batch=10;seed=%zu", seed);
        hwnas_search *s;
        if (hwnas_search_new(&s, ctx, "cell", NULL, "ea", rea_opts, opts) != HWNAS_OK ||
            hwnas_search_add_estimator_object(s, table) != HWNAS_OK ||
            hwnas_search_run(s) != HWNAS_OK)
            die("search");
        for (size_t k = 0; k < 30; k++)
            add(&at[k], best_upto(s, (k + 1) * 10));
        hwnas_search_free(s);
    }
    printf("plain REA (%s), %zu seeds: mean best accuracy after N evaluations\n\n", rea_opts,
           seeds);
    printf("| N | best |\n|---:|---:|\n");
    for (size_t k = 0; k < 30; k++)
        printf("| %zu | %.3f +- %.3f |\n", (k + 1) * 10, mean_of(&at[k]),
               sd_of(&at[k]) / sqrt((double)at[k].n));
    hwnas_estimator_free(table);
    hwnas_context_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[2], "curve") == 0)
        return curve_bench(argv[1], argc > 3 ? (size_t)atoi(argv[3]) : 100,
                           argc > 4 ? argv[4] : "mode=regularized;population=20;sample=5");
    if (argc > 2 && strcmp(argv[2], "search") == 0)
        return search_bench(argv[1], argc > 3 ? (size_t)atoi(argv[3]) : 100,
                            argc > 4 ? argv[4] : "mode=regularized;population=20;sample=5",
                            argc > 5 ? argv[5] : "population=20", argc > 6 ? argv[6] : "",
                            argc > 7 ? argv[7] : "");
    if (argc < 2) {
        fprintf(stderr, "usage: bench_predict NB201_CSV [SEEDS [ENCODING [KINDS]]]\n");
        return 2;
    }
    size_t seeds = argc > 2 ? (size_t)atoi(argv[2]) : 10;
    const char *encoding = argc > 3 ? argv[3] : "";
    const char *kinds_text = argc > 4 ? argv[4] : "mlp,gbrt,gp";
    hwnas_context *ctx = NULL;
    hwnas_space *space = NULL;
    if (hwnas_context_new(&ctx, NULL) != HWNAS_OK ||
        hwnas_space_new(&space, ctx, "cell", NULL) != HWNAS_OK)
        die("setup");
    double *acc = malloc(N_CELLS * sizeof *acc);
    uint32_t *genes = malloc(N_CELLS * 6 * sizeof *genes);
    size_t d = 0;
    if (hwnas_space_encode(space, encoding, NULL, NULL, 0, &d) != HWNAS_OK)
        die("encoding");
    double *x = malloc((size_t)N_CELLS * d * sizeof *x);
    load(space, argv[1], acc, genes);
    for (size_t i = 0; i < N_CELLS; i++)
        if (hwnas_space_encode(space, encoding, genes + i * 6, x + i * d, d, &d) != HWNAS_OK)
            die("encode");

    char kinds[256];
    snprintf(kinds, sizeof kinds, "%s", kinds_text);
    char *kind_list[8];
    size_t n_kinds = 0;
    for (char *t = strtok(kinds, ","); t && n_kinds < 8; t = strtok(NULL, ","))
        kind_list[n_kinds++] = t;

    stats tau[8][N_SIZES] = {{{0}}}, rho[8][N_SIZES] = {{{0}}}, tfit[8][N_SIZES] = {{{0}}};
    size_t idx[N_CELLS];
    double *xt = malloc(1000 * d * sizeof *xt), *xtr = malloc(1000 * d * sizeof *xtr);
    double ytr[1000], yt[N_TEST], mean[N_TEST], sd[N_TEST];
    for (size_t seed = 1; seed <= seeds; seed++) {
        hwnas_rng *rng = NULL;
        if (hwnas_rng_new(&rng, ctx, seed, 17) != HWNAS_OK)
            die("rng");
        for (size_t i = 0; i < N_CELLS; i++)
            idx[i] = i;
        shuffle(idx, N_CELLS, rng);
        hwnas_rng_free(rng);
        /* test: the last N_TEST of the shuffle; training: a prefix */
        for (size_t i = 0; i < N_TEST; i++) {
            size_t c = idx[N_CELLS - N_TEST + i];
            memcpy(xt + i * d, x + c * d, d * sizeof *x);
            yt[i] = acc[c];
        }
        for (size_t k = 0; k < n_kinds; k++)
            for (size_t s = 0; s < N_SIZES; s++) {
                size_t n = sizes[s];
                for (size_t i = 0; i < n; i++) {
                    memcpy(xtr + i * d, x + idx[i] * d, d * sizeof *x);
                    ytr[i] = acc[idx[i]];
                }
                char opts[64];
                snprintf(opts, sizeof opts, "seed=%zu", seed);
                hwnas_predictor *p = NULL;
                if (hwnas_predictor_new(&p, ctx, kind_list[k], opts) != HWNAS_OK)
                    die(kind_list[k]);
                double t0 = now();
                if (hwnas_predictor_fit(p, xtr, ytr, n, d) != HWNAS_OK)
                    die("fit");
                if (hwnas_predictor_predict(p, xt, N_TEST, mean, sd) != HWNAS_OK)
                    die("predict");
                add(&tfit[k][s], now() - t0);
                double t, r;
                if (hwnas_rank_kendall(mean, yt, N_TEST, &t) != HWNAS_OK ||
                    hwnas_rank_spearman(mean, yt, N_TEST, &r) != HWNAS_OK)
                    die("rank");
                add(&tau[k][s], t);
                add(&rho[k][s], r);
                hwnas_predictor_free(p);
            }
        fprintf(stderr, "seed %zu done\n", seed);
    }
    printf("NAS-Bench-201 CIFAR-10, %zu seeds, encoding %s (%zu features), test on %d cells\n\n",
           seeds, *encoding ? encoding : "default", d, N_TEST);
    printf("| predictor | train | Kendall tau | Spearman rho | fit+predict s |\n");
    printf("|---|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < n_kinds; k++)
        for (size_t s = 0; s < N_SIZES; s++)
            printf("| %s | %zu | %.3f +- %.3f | %.3f +- %.3f | %.2f |\n", kind_list[k], sizes[s],
                   mean_of(&tau[k][s]), sd_of(&tau[k][s]), mean_of(&rho[k][s]),
                   sd_of(&rho[k][s]), mean_of(&tfit[k][s]));
    free(xt);
    free(xtr);
    free(x);
    free(acc);
    free(genes);
    hwnas_space_free(space);
    hwnas_context_free(ctx);
    return 0;
}
