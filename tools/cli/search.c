/* hwnas search: the main job; hwnas report DIR: its results again. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* The default job: hardware-aware search on Fashion-MNIST in ~10 minutes
 * on 2 cores. Proxy training (a subset, one epoch) ranks candidates; the
 * winners are trained fully afterwards with hwnas train. */
#define DEFAULT_SPACE "cgp"
#define DEFAULT_SPACE_OPTIONS \
    "rows=1;cols=8;levels_back=3;stem=16;bits=8;multipliers=exact,drum:k=6,drum:k=4,trunc:t=2,mitchell"
#define DEFAULT_STRATEGY "nsga2"
#define DEFAULT_STRATEGY_OPTIONS "population=16"
#define DEFAULT_OBJECTIVES "accuracy_q:max,energy_uj:min"
#define DEFAULT_ACCURACY \
    "accuracy:train_subset=4000;val_subset=2000;epochs=2;batch=32;lr=0.1;quant=true"
#define DEFAULT_BUDGET "160"
#define DEFAULT_CONSTRAINTS "params<=100000"
#define DEFAULT_TIME_LIMIT "480"
#define DEFAULT_BATCH "16"
/* Then the 12 most promising (the proxy front first, by non-dominated
 * rank) are trained again on 5x the images for twice the epochs, and the
 * front is chosen among them by those figures. */
#define DEFAULT_REFINE "12"
#define DEFAULT_REFINE_ESTIMATOR \
    "accuracy:train_subset=20000;val_subset=5000;epochs=4;batch=64;lr=0.1;quant=true"
#define DEFAULT_REFINE_BY "rank"

static hwnas_search *volatile running;

static void on_sigint(int sig)
{
    (void)sig;
    if (running)
        hwnas_search_stop(running);
}

/* The metrics the progress line shows, when the search has them. */
static const char *const shown[] = {"accuracy", "accuracy_q", "energy_uj", "latency_ms"};
enum { N_SHOWN = sizeof shown / sizeof *shown };

typedef struct progress {
    size_t refine; /* candidates refined after the budget (0: none or not known) */
    int tty;
    double start;
    size_t budget;
    size_t acc_metric_ok;
    double best[N_SHOWN]; /* print_best's */
} progress;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void format_eta(char *buf, size_t size, double seconds)
{
    if (!isfinite(seconds) || seconds < 0)
        snprintf(buf, size, "--");
    else if (seconds >= 3600)
        snprintf(buf, size, "%dh%02dm", (int)(seconds / 3600), (int)fmod(seconds / 60, 60));
    else
        snprintf(buf, size, "%dm%02ds", (int)(seconds / 60), (int)fmod(seconds, 60));
}

/* The front's indices (malloc'd, *n of them; NULL when empty or out of
 * memory, which the progress line and table can do without). */
static size_t *front_of(hwnas_search *s, size_t *n)
{
    *n = hwnas_search_front(s, NULL, 0);
    size_t *front = *n ? malloc(*n * sizeof *front) : NULL;
    if (!front)
        *n = 0;
    else
        *n = hwnas_search_front(s, front, *n);
    return front;
}

/* The best value of each shown metric among every candidate that was on
 * the front at some progress line: it never gets worse from one line to
 * the next (a front member with the highest fp32 accuracy can be
 * dominated by the objectives and leave the front; its figure stays the
 * best so far). best[] holds it between lines (NaN: none yet). */
static void print_best(FILE *out, hwnas_search *s, double *best)
{
    size_t nf;
    size_t *front = front_of(s, &nf);
    int any = 0;
    for (int m = 0; m < N_SHOWN; m++) {
        int higher = strncmp(shown[m], "accuracy", 8) == 0, known = 0;
        for (size_t i = 0; i < nf; i++) {
            double v;
            if (hwnas_search_metric(s, front[i], shown[m], &v) != HWNAS_OK)
                break;
            known = 1;
            if (!isnan(v) && (isnan(best[m]) || (higher ? v > best[m] : v < best[m])))
                best[m] = v;
        }
        if (!known && isnan(best[m]))
            continue;
        fprintf(out, "%s %s %.4g (%s)", any ? "," : "  best so far:", shown[m], best[m],
                higher ? "max" : "min");
        any = 1;
    }
    hwnas_error_clear();
    fprintf(out, "  front %zu", nf);
    free(front);
}

static void announce_refine(progress *p)
{
    if (p->refine)
        fprintf(stderr, "%srefining the %zu most promising candidates with the refine "
                        "estimator\n",
                p->tty ? "\n" : "", p->refine);
    p->refine = 0;
}

static int on_progress(hwnas_search *s, double fraction, void *user_data)
{
    progress *p = user_data;
    double elapsed = now() - p->start;
    char eta[32];
    format_eta(eta, sizeof eta, fraction > 0 ? elapsed / fraction - elapsed : NAN);
    double hv = NAN;
    hwnas_search_hypervolume(s, &hv);
    size_t n = hwnas_search_count(s), pruned = 0;
    for (size_t i = 0; i < n; i++)
        pruned += hwnas_search_pruned(s, i) == 1;
    char pruned_text[48] = "";
    if (pruned)
        snprintf(pruned_text, sizeof pruned_text, " (%zu pruned)", pruned);
    if (p->tty) {
        char bar[31];
        int fill = (int)(fraction * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %zu/%zu%s", bar, n, p->budget, pruned_text);
        print_best(stderr, s, p->best);
        fprintf(stderr, "  hv %.4g  ETA %s   ", hv, eta);
    } else {
        fprintf(stderr, "evaluated %zu/%zu%s", n, p->budget, pruned_text);
        print_best(stderr, s, p->best);
        fprintf(stderr, "  hv %.4g  elapsed %.0fs  ETA %s\n", hv, elapsed, eta);
    }
    if (fraction >= 1)
        announce_refine(p);
    fflush(stderr);
    return 0;
}

/* Under co-design, the hardware half of candidate i's genotype (malloc'd
 * by the library: hwnas_free; NULL without hardware). */
static char *hardware_of(hwnas_search *s, size_t i)
{
    const hwnas_space *sp = hwnas_search_space(s);
    const hwnas_space *net = hwnas_space_net_half(sp), *hw = hwnas_space_accel_half(sp);
    char *text = NULL;
    if (hw && hwnas_space_format(hw, hwnas_search_genes(s, i) +
                                         (net ? hwnas_space_gene_count(net) : 0),
                                 &text) != HWNAS_OK)
        text = NULL;
    return text;
}

/* The front as an aligned table of its objectives and a few metrics; under
 * co-design also the hardware's figures and genotype. */
static void print_front(hwnas_search *s)
{
    size_t nf;
    size_t *front = front_of(s, &nf);
    int codesign = hwnas_space_has_accel(hwnas_search_space(s));
    const char *cols[] = {"accuracy",   "accuracy_q", "energy_uj", "energy_mul_uj",
                          "latency_ms", "macs",       "params",    "area_mm2",
                          "power_mw",   "edp"};
    enum { N_COLS = sizeof cols / sizeof cols[0], N_HW_COLS = 3 };
    size_t refined = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++)
        refined += hwnas_search_refined(s, i) == 1;
    if (refined)
        printf("\nPareto front: %zu of the %zu candidates refined (of %zu evaluated), by "
               "their refined figures\n\n  #  eval",
               nf, refined, hwnas_search_count(s));
    else
        printf("\nPareto front: %zu of %zu candidates\n\n  #  eval", nf,
               hwnas_search_count(s));
    int present[N_COLS];
    for (int c = 0; c < N_COLS; c++) {
        double v;
        present[c] = (codesign || c < N_COLS - N_HW_COLS) && hwnas_search_count(s) &&
                     hwnas_search_metric(s, 0, cols[c], &v) == HWNAS_OK;
        if (present[c])
            printf("  %12s", cols[c]);
    }
    printf(codesign ? "  genotype (network @ hardware)\n" : "  genotype\n");
    for (size_t i = 0; i < nf; i++) {
        printf("%3zu %5zu", i, front[i]);
        for (int c = 0; c < N_COLS; c++)
            if (present[c]) {
                double v;
                hwnas_search_metric(s, front[i], cols[c], &v);
                printf("  %12.6g", v);
            }
        const char *key = hwnas_search_key(s, front[i]);
        char *hw = codesign ? hardware_of(s, front[i]) : NULL;
        if (hw) /* the hardware whole: it tells the members' accelerators apart */
            printf("  %.40s%s @ %s\n", key, strlen(key) > 40 ? "..." : "", hw);
        else
            printf("  %.60s%s\n", key, strlen(key) > 60 ? "..." : "");
        hwnas_free(hw);
    }
    free(front);
}

static int finish(hwnas_search *s, const char *out)
{
    int rc = hwnas_search_write_results(s, out);
    if (rc != HWNAS_OK)
        return cli_fail("writing results", rc);
    size_t n = hwnas_search_count(s), failed = 0, front[1];
    for (size_t i = 0; i < n; i++)
        failed += hwnas_search_error(s, i) != NULL;
    size_t nf = hwnas_search_front(s, front, 1);
    if (n && failed == n) {
        fprintf(stderr, "hwnas: search: every one of the %zu candidates failed; the first "
                        "said: %s\nresults in %s/: archive.csv archive.json (front empty)\n",
                n, hwnas_search_error(s, 0), out);
        return CLI_FAIL;
    }
    print_front(s);
    double hv;
    if (hwnas_search_hypervolume(s, &hv) == HWNAS_OK)
        printf("\nhypervolume %.6g\n", hv);
    printf("results in %s/: archive.csv archive.json front.csv front.json%s%s front.svg "
           "hypervolume.svg\n",
           out, nf ? " front/*.net" : "",
           nf && hwnas_space_has_accel(hwnas_search_space(s)) ? " front/*.hw" : "");
    if (nf)
        printf("train a front member: hwnas train %s/front/000.net --epochs 30 --augment\n",
               out);
    return CLI_OK;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hwnas search [--space KIND] [--space-options OPTS] [--strategy KIND]\n"
            "                    [--strategy-options OPTS] [--estimator KIND[:OPTS]]...\n"
            "                    [--objectives LIST] [--constraints LIST] [--budget N]\n"
            "                    [--time-limit SECONDS] [--batch N] [--seed N] [--out DIR]\n"
            "                    [--refine K] [--refine-estimator KIND[:OPTS]] [--refine-by "
            "rank|first]\n"
            "                    [--codesign joint|nested] [--codesign-options OPTS]\n"
            "                    [--prune none|asha|hyperband|curve] [--prune-options OPTS]\n"
            "                    [--schedule batch|async] [--start-over]\n"
            "       hwnas search --resume DIR [--budget N] [--refine K] [--refine-estimator ...]\n"
            "                    [--salvage]\n"
            "under mpirun (built with MPI): rank 0 searches, the other ranks estimate;\n"
            "          --mpi-options \"heartbeat=1;timeout=30\" (doc/distributed.md)\n"
            "defaults: --space " DEFAULT_SPACE " --space-options \"" DEFAULT_SPACE_OPTIONS
            "\"\n          --strategy " DEFAULT_STRATEGY " --strategy-options \""
            DEFAULT_STRATEGY_OPTIONS "\"\n          --estimator cost --estimator accelerator "
            "--estimator \"" DEFAULT_ACCURACY "\"\n          --objectives " DEFAULT_OBJECTIVES
            " --constraints " DEFAULT_CONSTRAINTS "\n         "
            " --budget " DEFAULT_BUDGET "\n          --time-limit " DEFAULT_TIME_LIMIT
            " --batch " DEFAULT_BATCH " --out hwnas-search\n"
            "          --refine " DEFAULT_REFINE " --refine-estimator \"" DEFAULT_REFINE_ESTIMATOR
            "\" --refine-by " DEFAULT_REFINE_BY "\n"
            "co-design: a space NET+accelerator (cell, cgp, macro) searches networks and\n"
            "          accelerators together; --codesign joint (default) runs one strategy\n"
            "          over both, nested runs it over networks and, per network, an inner\n"
            "          search (--codesign-options \"strategy=...;budget=64;objective=edp;\n"
            "          max_area_mm2=...\": hwnas describe codesign) for its accelerator\n"
            "pruning: --prune stops unpromising trainings at rungs (asha, hyperband) or by\n"
            "          learning-curve extrapolation (curve); --prune-options \"eta=3;\n"
            "          min_resource=...\" (hwnas describe prune); the progress line counts\n"
            "          the pruned candidates\n"
            "schedule: batch (default) asks, estimates and tells --batch candidates at a\n"
            "          time: the same archive at any thread or rank count; async keeps\n"
            "          every worker (thread, or rank under mpirun) busy, telling each\n"
            "          finished candidate at once and asking the next: the archive follows\n"
            "          the completion order (for random, evolution and REINFORCE; doc/search.md)\n");
}

/* The search's options, each value checked by the options API (a bad one
 * is an error naming key and value) and written back quoted, backslash
 * before '"' and '\\', so that no value (a directory name) can end its
 * quotes and set another key. The text grows as needed: nothing is cut. */
typedef struct opt_text {
    hwnas_options *check; /* scratch options of kind "search" */
    char *text;           /* "key=\"value\";..." NUL-terminated, malloc'd */
    size_t len, cap;
} opt_text;

static int opt_put(opt_text *o, const char *p, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *t = realloc(o->text, cap);
        if (!t) {
            fprintf(stderr, "hwnas search: out of memory\n");
            return HWNAS_ENOMEM;
        }
        o->text = t;
        o->cap = cap;
    }
    memcpy(o->text + o->len, p, n);
    o->len += n;
    o->text[o->len] = 0;
    return HWNAS_OK;
}

static int opt_add(opt_text *o, const char *key, const char *value)
{
    int rc = hwnas_options_set(o->check, key, value);
    if (rc != HWNAS_OK) {
        cli_fail("search", rc);
        return rc;
    }
    if ((o->len && (rc = opt_put(o, ";", 1)) != HWNAS_OK) ||
        (rc = opt_put(o, key, strlen(key))) != HWNAS_OK || (rc = opt_put(o, "=\"", 2)) != HWNAS_OK)
        return rc;
    for (const char *v = value; *v; v++) {
        if (*v == '"' || *v == '\\')
            rc = opt_put(o, "\\", 1);
        if (rc == HWNAS_OK)
            rc = opt_put(o, v, 1);
        if (rc != HWNAS_OK)
            return rc;
    }
    return opt_put(o, "\"", 1);
}

/* A number the options API checked (0 when that key was not set). */
static size_t opt_count(const opt_text *o, const char *key)
{
    int64_t v = 0;
    hwnas_options_get_int(o->check, key, &v);
    return v > 0 ? (size_t)v : 0;
}

static int add_estimator(hwnas_search *s, const char *spec)
{
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    char *kind = malloc(n + 1);
    if (!kind) {
        fprintf(stderr, "hwnas search: out of memory\n");
        return HWNAS_ENOMEM;
    }
    memcpy(kind, spec, n);
    kind[n] = 0;
    int rc = hwnas_search_add_estimator(s, kind, colon ? colon + 1 : NULL);
    free(kind);
    if (rc != HWNAS_OK)
        cli_fail("estimator", rc);
    return rc;
}

static const char *mpi_options; /* --mpi-options: hwnas_search_run_mpi's */

static int run_search(hwnas_context *ctx, hwnas_search *s, size_t budget, size_t refine,
                      const char *out)
{
    if (cli_mpi_rank() > 0) {
        /* A worker rank: estimates what rank 0 sends; rank 0 reports. */
        int rc = cli_search_run(s, mpi_options);
        return rc == HWNAS_OK ? CLI_OK : cli_fail("search (worker rank)", rc);
    }
    progress p = {refine, isatty(2), now(), budget, 0, {0}};
    for (int m = 0; m < N_SHOWN; m++)
        p.best[m] = NAN;
    hwnas_search_on_progress(s, on_progress, &p);
    if (hwnas_search_count(s) >= budget)
        announce_refine(&p);
    running = s;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    int rc = cli_search_run(s, mpi_options);
    sigaction(SIGINT, &old, NULL);
    running = NULL;
    if (p.tty)
        fputc('\n', stderr);
    (void)ctx;
    if (rc == HWNAS_EUSER) {
        fprintf(stderr, "hwnas search: stopped after %zu evaluations; continue with: "
                        "hwnas search --resume %s\n",
                hwnas_search_count(s), out);
        finish(s, out);
        return CLI_FAIL;
    }
    if (rc != HWNAS_OK)
        return cli_fail("search", rc);
    return finish(s, out);
}

/* --resume DIR: only what may change on a resume is passed (NULL: not
 * given); a finished search can be refined afterwards (--refine K). */
static int resume_search(hwnas_context *ctx, opt_text *o, const char *dir, const char *budget,
                         const char *refine, const char *refine_est, const char *refine_by,
                         const char *time_limit, int salvage)
{
    int rc = HWNAS_OK;
    if (budget)
        rc = opt_add(o, "budget", budget);
    if (rc == HWNAS_OK && refine)
        rc = opt_add(o, "refine", refine);
    if (rc == HWNAS_OK && refine_est)
        rc = opt_add(o, "refine_estimator", refine_est);
    if (rc == HWNAS_OK && refine_by)
        rc = opt_add(o, "refine_by", refine_by);
    if (rc == HWNAS_OK && time_limit)
        rc = opt_add(o, "time_limit", time_limit);
    if (rc == HWNAS_OK && salvage)
        rc = opt_add(o, "salvage", "true");
    if (rc != HWNAS_OK)
        return rc == HWNAS_ENOMEM ? CLI_FAIL : CLI_USAGE;
    hwnas_search *s;
    char local[4096];
    int shared = cli_mpi_share_conf(dir, local, sizeof local);
    if (shared < 0)
        return CLI_FAIL;
    /* A worker rank resumes from rank 0's settings, never from the
     * directory itself, which may be on rank 0's node only. */
    rc = hwnas_search_resume(&s, ctx, shared ? local : dir, o->text ? o->text : "");
    if (shared)
        cli_mpi_unshare_conf(local);
    if (rc != HWNAS_OK)
        return cli_fail("resume", rc);
    if (cli_mpi_rank() == 0) {
        printf("resuming %s\n", dir);
        fflush(stdout);
    }
    size_t b = budget ? opt_count(o, "budget") : 0;
    int status = run_search(ctx, s, b > 0 ? b : hwnas_search_count(s),
                            refine ? opt_count(o, "refine") : 0, dir);
    hwnas_search_free(s);
    return status;
}

int cli_search(hwnas_context *ctx, int argc, char **argv)
{
    const char *space = DEFAULT_SPACE, *space_opts = DEFAULT_SPACE_OPTIONS;
    const char *strategy = DEFAULT_STRATEGY, *strategy_opts = DEFAULT_STRATEGY_OPTIONS;
    const char *objectives = DEFAULT_OBJECTIVES, *constraints = NULL, *budget = DEFAULT_BUDGET;
    const char *const default_time_limit = DEFAULT_TIME_LIMIT;
    const char *time_limit = default_time_limit, *batch = DEFAULT_BATCH, *seed = NULL, *out = "hwnas-search";
    const char *resume = NULL, *refine = DEFAULT_REFINE, *refine_est = DEFAULT_REFINE_ESTIMATOR;
    const char *refine_by = DEFAULT_REFINE_BY;
    const char *codesign = NULL, *codesign_opts = NULL;
    const char *prune = NULL, *prune_opts = NULL, *schedule = NULL;
    const char *estimators[16];
    size_t n_est = 0;
    int budget_given = 0, space_opts_given = 0, strategy_opts_given = 0;
    int refine_given = 0, refine_est_given = 0, refine_by_given = 0;
    int salvage = 0, start_over = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--salvage") || !strcmp(a, "--start-over")) {
            *(!strcmp(a, "--salvage") ? &salvage : &start_over) = 1;
            continue;
        }
        const char **slot = !strcmp(a, "--space")              ? &space
                            : !strcmp(a, "--space-options")    ? &space_opts
                            : !strcmp(a, "--strategy")         ? &strategy
                            : !strcmp(a, "--strategy-options") ? &strategy_opts
                            : !strcmp(a, "--objectives")       ? &objectives
                            : !strcmp(a, "--constraints")      ? &constraints
                            : !strcmp(a, "--budget")           ? &budget
                            : !strcmp(a, "--time-limit")       ? &time_limit
                            : !strcmp(a, "--batch")            ? &batch
                            : !strcmp(a, "--seed")             ? &seed
                            : !strcmp(a, "--out")              ? &out
                            : !strcmp(a, "--resume")           ? &resume
                            : !strcmp(a, "--refine")           ? &refine
                            : !strcmp(a, "--refine-estimator") ? &refine_est
                            : !strcmp(a, "--refine-by")        ? &refine_by
                            : !strcmp(a, "--codesign")         ? &codesign
                            : !strcmp(a, "--codesign-options") ? &codesign_opts
                            : !strcmp(a, "--mpi-options")      ? &mpi_options
                            : !strcmp(a, "--prune")            ? &prune
                            : !strcmp(a, "--prune-options")    ? &prune_opts
                            : !strcmp(a, "--schedule")         ? &schedule
                                                               : NULL;
        int is_est = !strcmp(a, "--estimator");
        if ((!slot && !is_est) || i + 1 >= argc) {
            fprintf(stderr, slot || is_est ? "hwnas search: %s needs a value\n"
                                           : "hwnas search: unknown option '%s'\n",
                    a);
            usage(stderr);
            return CLI_USAGE;
        }
        if (is_est) {
            if (n_est == 16) {
                fprintf(stderr, "hwnas search: at most 16 estimators\n");
                return CLI_USAGE;
            }
            estimators[n_est++] = argv[++i];
        } else {
            *slot = argv[++i];
            budget_given |= slot == &budget;
            refine_given |= slot == &refine;
            refine_est_given |= slot == &refine_est;
            refine_by_given |= slot == &refine_by;
            space_opts_given |= slot == &space_opts;
            strategy_opts_given |= slot == &strategy_opts;
        }
    }
    /* The default job keeps networks small enough for microcontroller-class
     * targets; the default options belong to the default kinds. */
    if (!constraints)
        constraints = n_est == 0 ? DEFAULT_CONSTRAINTS : "";
    if (!refine_given && n_est > 0)
        refine = "0"; /* the default refinement re-trains the default accuracy estimator */
    if (strcmp(space, DEFAULT_SPACE) != 0 && !space_opts_given)
        space_opts = "";
    if (strcmp(strategy, DEFAULT_STRATEGY) != 0 && !strategy_opts_given)
        strategy_opts = "";
    hwnas_search *s = NULL;
    int rc;
    if (resume ? !*resume : !*out) {
        fprintf(stderr, "hwnas search: %s needs a directory name, not \"\"\n",
                resume ? "--resume" : "--out");
        return CLI_USAGE;
    }
    /* A resumed search keeps its saved configuration: what would change it
     * is an error, not silently ignored. */
    for (int i = 0; resume && i < argc; i++) {
        static const char *const fixed[] = {"--space", "--space-options", "--strategy",
                                            "--strategy-options", "--estimator", "--objectives",
                                            "--constraints", "--batch", "--seed", "--out",
                                            "--codesign", "--codesign-options", "--prune",
                                            "--prune-options", "--schedule"};
        for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++)
            if (!strcmp(argv[i], fixed[k])) {
                fprintf(stderr, "hwnas search: %s cannot be changed on --resume: the search "
                                "keeps the configuration saved in %s/search.conf (only "
                                "--budget, --time-limit, --refine, --refine-estimator, "
                                "--refine-by and --salvage apply)\n",
                        fixed[k], resume);
                return CLI_USAGE;
            }
    }
    if (resume && start_over) {
        fprintf(stderr, "hwnas search: --start-over starts a new search; it cannot be "
                        "combined with --resume\n");
        return CLI_USAGE;
    }
    if (!resume && salvage) {
        fprintf(stderr, "hwnas search: --salvage repairs a search being resumed; use it with "
                        "--resume DIR\n");
        return CLI_USAGE;
    }
    opt_text o = {NULL, NULL, 0, 0};
    rc = hwnas_options_new(&o.check, ctx, "search");
    if (rc != HWNAS_OK)
        return cli_fail("search", rc);
    int status = resume ? resume_search(ctx, &o, resume, budget_given ? budget : NULL,
                                        refine_given ? refine : NULL,
                                        refine_est_given ? refine_est : NULL,
                                        refine_by_given ? refine_by : NULL,
                                        time_limit != default_time_limit ? time_limit : NULL,
                                        salvage)
                        : CLI_OK;
    if (!resume) {
        rc = opt_add(&o, "objectives", objectives);
        if (rc == HWNAS_OK)
            rc = opt_add(&o, "constraints", constraints);
        if (rc == HWNAS_OK)
            rc = opt_add(&o, "budget", budget);
        if (rc == HWNAS_OK)
            rc = opt_add(&o, "time_limit", time_limit);
        if (rc == HWNAS_OK)
            rc = opt_add(&o, "batch", batch);
        /* A worker rank keeps nothing: rank 0 owns the directory (and its lock). */
        if (rc == HWNAS_OK)
            rc = opt_add(&o, "out", cli_mpi_rank() > 0 ? "" : out);
        if (rc == HWNAS_OK)
            rc = opt_add(&o, "refine", refine);
        if (rc == HWNAS_OK)
            rc = opt_add(&o, "refine_estimator", refine_est);
        if (rc == HWNAS_OK)
            rc = opt_add(&o, "refine_by", refine_by);
        if (rc == HWNAS_OK && seed)
            rc = opt_add(&o, "seed", seed);
        if (rc == HWNAS_OK && codesign)
            rc = opt_add(&o, "codesign", codesign);
        if (rc == HWNAS_OK && codesign_opts)
            rc = opt_add(&o, "codesign_options", codesign_opts);
        if (rc == HWNAS_OK && prune)
            rc = opt_add(&o, "prune", prune);
        if (rc == HWNAS_OK && prune_opts)
            rc = opt_add(&o, "prune_options", prune_opts);
        if (rc == HWNAS_OK && schedule)
            rc = opt_add(&o, "schedule", schedule);
        if (rc == HWNAS_OK && start_over)
            rc = opt_add(&o, "start_over", "true");
        status = rc == HWNAS_OK ? CLI_OK : rc == HWNAS_ENOMEM ? CLI_FAIL : CLI_USAGE;
    }
    if (!resume && status == CLI_OK) {
        rc = hwnas_search_new(&s, ctx, space, space_opts, strategy, strategy_opts, o.text);
        if (rc != HWNAS_OK)
            status = cli_fail("search", rc);
    }
    if (!resume && status == CLI_OK && n_est == 0) {
        /* Cheap first: a net over the parameter limit is not trained. */
        estimators[n_est++] = "cost";
        estimators[n_est++] = "accelerator"; /* the built-in eyeriss-45nm-int8 */
        estimators[n_est++] = DEFAULT_ACCURACY;
    }
    for (size_t e = 0; !resume && status == CLI_OK && e < n_est; e++)
        if (add_estimator(s, estimators[e]) != HWNAS_OK)
            status = CLI_FAIL;
    if (!resume && status == CLI_OK && cli_mpi_rank() == 0) {
        if (cli_mpi_size() > 1)
            printf("hwnas search: rank 0 of %d; ranks 1-%d estimate\n", cli_mpi_size(),
                   cli_mpi_size() - 1);
        printf("hwnas search: %s (%s) with %s, objectives %s, budget %s evaluations, %zu "
               "thread(s), results in %s/\n",
               space, space_opts, strategy, objectives, budget, hwnas_context_threads(ctx), out);
        fflush(stdout);
    }
    if (!resume && status == CLI_OK) {
        status = run_search(ctx, s, opt_count(&o, "budget"), opt_count(&o, "refine"), out);
    }
    hwnas_search_free(s);
    hwnas_options_free(o.check);
    free(o.text);
    return status;
}

int cli_report(hwnas_context *ctx, int argc, char **argv)
{
    const char *dir = NULL, *axes = NULL, *html_out = NULL;
    int html = 0, bad = 0;
    for (int i = 0; i < argc && !bad; i++) {
        if (!strcmp(argv[i], "--axes") && i + 1 < argc)
            axes = argv[++i];
        else if (!strcmp(argv[i], "--html"))
            html = 1;
        else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc)
            html_out = argv[++i];
        else if (!dir && strncmp(argv[i], "-", 1) != 0)
            dir = argv[i];
        else
            bad = 1;
    }
    const char *comma = axes ? strchr(axes, ',') : NULL;
    if (bad || !dir || (html_out && (!html || !*html_out)) ||
        (axes && (!comma || comma == axes || !comma[1] || strchr(comma + 1, ',')))) {
        cli_report_usage(stderr);
        return CLI_USAGE;
    }
    hwnas_search *s;
    /* A report reads: the journal, snapshot and configuration stay as
     * they are, whatever state they are in. */
    int rc = hwnas_search_resume(&s, ctx, dir, "read_only=true");
    if (rc != HWNAS_OK)
        return cli_fail("report", rc);
    uint32_t genes[1];
    uint64_t ids[1];
    size_t n;
    rc = hwnas_search_ask(s, 0, genes, ids, &n); /* loads the archive, asks nothing */
    int status = rc == HWNAS_OK ? finish(s, dir) : cli_fail("report", rc);
    if (status == CLI_OK && html) {
        rc = hwnas_search_write_report(s, dir, html_out);
        if (rc != HWNAS_OK)
            status = cli_fail("report", rc);
        else if (html_out)
            printf("report: %s\n", html_out);
        else
            printf("report: %s/report.html\n", dir);
    }
    hwnas_search_free(s);
    if (status == CLI_OK && axes) {
        size_t xlen = (size_t)(comma - axes);
        char *x = malloc(xlen + 1);
        if (x) {
            memcpy(x, axes, xlen);
            x[xlen] = 0;
        }
        rc = x ? hwnas_search_plot_front(ctx, dir, x, comma + 1) : HWNAS_ENOMEM;
        if (rc != HWNAS_OK)
            status = cli_fail("report", rc);
        else
            printf("%s/front.svg: %s over %s\n", dir, comma + 1, x);
        free(x);
    }
    return status;
}

void cli_search_usage(FILE *f) { usage(f); }

void cli_report_usage(FILE *f)
{
    fprintf(f, "usage: hwnas report DIR [--axes X,Y] [--html [-o FILE]]\n"
               "  --axes X,Y  draw front.svg as metric Y over metric X (any two columns of\n"
               "              archive.csv, e.g. edp,accuracy); default: each pair of objectives\n"
               "  --html      also write one self-contained HTML page: the front, its plots,\n"
               "              each member's layers, multipliers and energy/latency, the settings\n"
               "  -o FILE     the page's file (default DIR/report.html)\n");
}
