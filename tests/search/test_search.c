/* The search driver: run, cache, failures, callbacks, determinism across
 * thread counts, journal and resume (after SIGKILL, for every strategy),
 * ask/tell from outside, multi-fidelity refinement (and its resume),
 * results, out-of-memory. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_sigkill.h"
#include "test_files.h"
#include "test_refine_table.h"
#include "test_tmpdir.h"

#include <zlib.h>

#include "search/search_internal.h"
#include "test_alloc.h"

static int setup(void **state)
{
    (void)state;
    return test_tmpdir_make("hwnas-search");
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove();
}

/* A deterministic stand-in for trained accuracy: a function of the net. */
typedef struct scorer {
    int fail_every;      /* fail nets whose hash % fail_every == 0 (0: never) */
    uint64_t max_params; /* the largest net scored (threads: written under no lock,
                          * so only single-threaded tests read it) */
    size_t calls;
} scorer;

static int score_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                    void *user_data)
{
    (void)key;
    (void)stream;
    scorer *sc = user_data;
    uint64_t h = hwnas_net_hash(net);
    if (sc->fail_every && h % (uint64_t)sc->fail_every == 0) {
        hwnas_estimator_set_error("simulated training failure");
        return 1;
    }
    if (hwnas_net_params(net) > sc->max_params)
        sc->max_params = hwnas_net_params(net);
    sc->calls++;
    double macs = (double)hwnas_net_macs(net);
    values[0] = 50.0 + 40.0 * (1.0 - exp(-macs / 5e7)) + (double)(h % 100) / 50.0;
    return 0;
}

static hwnas_search *make(hwnas_context *ctx, const char *strategy, const char *options,
                          hwnas_estimator **custom, scorer *sc)
{
    hwnas_search *s = NULL;
    int rc = hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1", strategy,
                              strcmp(strategy, "ea") == 0 ? "mode=regularized;population=8;"
                                                            "sample=3"
                              : strcmp(strategy, "nsga2") == 0 ? "population=6"
                                                               : NULL,
                              options);
    if (rc != HWNAS_OK)
        fail_msg("search_new: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_estimator_new_custom(custom, ctx, "score", "score:%", score_cb, sc),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, *custom), HWNAS_OK);
    return s;
}

#define OBJ "objectives=score:max,macs:min"

static void test_run_front_and_cache(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=3"), HWNAS_OK);
    scorer sc = {0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "random", OBJ ";evaluations=60;batch=5", &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    assert_int_equal(hwnas_search_count(s), 60);
    assert_int_equal(hwnas_search_metric_count(s), 7);
    size_t front[64];
    size_t nf = hwnas_search_front(s, front, 64);
    assert_int_equal(hwnas_search_front(s, NULL, 0), nf); /* the size alone */
    assert_true(nf >= 1 && nf <= 60);
    /* Every front member is feasible and nothing in the archive dominates it. */
    for (size_t a = 0; a < nf; a++) {
        double sa, ma;
        hwnas_search_metric(s, front[a], "score", &sa);
        hwnas_search_metric(s, front[a], "macs", &ma);
        for (size_t i = 0; i < hwnas_search_count(s); i++) {
            double si, mi;
            hwnas_search_metric(s, i, "score", &si);
            hwnas_search_metric(s, i, "macs", &mi);
            assert_false(si >= sa && mi <= ma && (si > sa || mi < ma));
        }
        if (a)
            assert_true(hwnas_search_genes(s, front[a]) != NULL);
    }
    double hv;
    assert_int_equal(hwnas_search_hypervolume(s, &hv), HWNAS_OK);
    assert_true(hv > 0);
    /* random de-duplicates phenotypes, so nothing is cached here; every
     * key parses back to its genes. */
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        uint32_t g[6];
        assert_int_equal(hwnas_space_parse(hwnas_search_space(s), hwnas_search_key(s, i), g),
                         HWNAS_OK);
        assert_memory_equal(g, hwnas_search_genes(s, i), sizeof g);
        assert_null(hwnas_search_error(s, i));
    }
    double v;
    assert_int_equal(hwnas_search_metric(s, 0, "nope", &v), HWNAS_ENOTFOUND);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

/* The archive as text, for comparing runs. */
static char *archive_text(hwnas_search *s)
{
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        double sc, m;
        hwnas_search_metric(s, i, "score", &sc);
        hwnas_search_metric(s, i, "macs", &m);
        const char *err = hwnas_search_error(s, i);
        len += (size_t)snprintf(out + len, cap - len, "%zu %s %.17g %.17g %d %s\n", i,
                                hwnas_search_key(s, i), sc, m, hwnas_search_cached(s, i),
                                err ? err : "-");
        assert_true(len < cap);
    }
    return out;
}

static char *run_to_text(const char *strategy, const char *ctx_opts, const char *opts,
                         int fail_every)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, ctx_opts), HWNAS_OK);
    scorer sc = {fail_every, 0, 0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, strategy, opts, &custom, &sc);
    int rc = hwnas_search_run(s);
    if (rc != HWNAS_OK)
        fail_msg("run: %s", hwnas_error_last());
    char *t = archive_text(s);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
    return t;
}

static void test_same_result_at_any_thread_count(void **state)
{
    (void)state;
    const char *kinds[] = {"random", "ea", "nsga2", "reinforce"};
    for (size_t k = 0; k < 4; k++) {
        char *a = run_to_text(kinds[k], "threads=1;seed=9", OBJ ";evaluations=30;batch=4", 7);
        char *b = run_to_text(kinds[k], "threads=3;seed=9", OBJ ";evaluations=30;batch=4", 7);
        char *c = run_to_text(kinds[k], "threads=3;seed=9",
                              OBJ ";evaluations=30;batch=4;threads=1", 7);
        assert_string_equal(a, b);
        assert_string_equal(a, c);
        free(a);
        free(b);
        free(c);
    }
}

static void test_failures_are_recorded(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=4"), HWNAS_OK);
    scorer sc = {3, 0, 0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "ea", OBJ ";evaluations=40", &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    assert_int_equal(hwnas_search_count(s), 40);
    size_t failed = 0;
    for (size_t i = 0; i < 40; i++) {
        const char *e = hwnas_search_error(s, i);
        if (e) {
            failed++;
            assert_non_null(strstr(e, "simulated training failure"));
            double v;
            hwnas_search_metric(s, i, "score", &v);
            assert_true(isnan(v));
        }
    }
    assert_true(failed > 0 && failed < 40);
    size_t front[40];
    size_t nf = hwnas_search_front(s, front, 40);
    for (size_t i = 0; i < nf; i++)
        assert_null(hwnas_search_error(s, front[i]));
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

static void test_bad_objectives_and_constraints(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    scorer sc = {0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "random", "objectives=accuracy:max,macs:min", &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_ESTATE);
    assert_non_null(strstr(hwnas_error_last(), "'accuracy'"));
    assert_non_null(strstr(hwnas_error_last(), "macs, params"));
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    s = make(ctx, "random", OBJ ";constraints=params<=abc", &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "params<=abc"));
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    s = make(ctx, "random", "objectives=score:up", &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "max or min"));
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_search *t = (hwnas_search *)0x1;
    assert_int_equal(hwnas_search_new(&t, ctx, "cell", NULL, "random", NULL, "objectives="),
                     HWNAS_EINVAL);
    assert_null(t);
    assert_int_equal(hwnas_search_new(&t, ctx, "cell", NULL, "nope", NULL, NULL),
                     HWNAS_ENOTFOUND);
    hwnas_context_free(ctx);
}

static void test_constraints_shape_the_front(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=5"), HWNAS_OK);
    scorer sc = {0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "nsga2", OBJ ";evaluations=48;constraints=params<=60000",
                           &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    size_t front[48];
    size_t nf = hwnas_search_front(s, front, 48);
    assert_true(nf > 0);
    for (size_t i = 0; i < nf; i++) {
        double p;
        hwnas_search_metric(s, front[i], "params", &p);
        assert_true(p <= 60000);
    }
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

/* screen=true: a net over the parameter limit (known from estimator:cost,
 * added first) is never passed to the costly estimator; it is archived
 * infeasible, not failed, with that estimator's metric NaN. screen=false
 * scores every net. */
static void test_screening_skips_later_estimators(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=5"), HWNAS_OK);
    size_t fronts[2][64], nf[2], over[2] = {0, 0}, calls[2];
    for (int screen = 0; screen < 2; screen++) {
        scorer sc = {0, 0, 0};
        hwnas_estimator *custom;
        char opts[160];
        snprintf(opts, sizeof opts, OBJ ";evaluations=40;batch=4;constraints=params<=8000;"
                 "screen=%s", screen ? "true" : "false");
        hwnas_search *s = make(ctx, "nsga2", opts, &custom, &sc);
        assert_int_equal(hwnas_search_run(s), HWNAS_OK);
        for (size_t i = 0; i < hwnas_search_count(s); i++) {
            double p, score;
            assert_int_equal(hwnas_search_metric(s, i, "params", &p), HWNAS_OK);
            assert_int_equal(hwnas_search_metric(s, i, "score", &score), HWNAS_OK);
            assert_null(hwnas_search_error(s, i));
            if (p > 8000) {
                over[screen]++;
                assert_true(screen ? isnan(score) : isfinite(score));
            } else {
                assert_true(isfinite(score));
            }
        }
        if (screen)
            assert_true(sc.max_params <= 8000);
        calls[screen] = sc.calls;
        nf[screen] = hwnas_search_front(s, fronts[screen], 64);
        hwnas_search_free(s);
        hwnas_estimator_free(custom);
    }
    assert_true(over[1] > 0); /* the test exercised screening */
    assert_true(calls[1] < calls[0]);
    assert_true(nf[1] > 0);
    hwnas_context_free(ctx);
}

typedef struct counter {
    size_t candidates, batches, stop_at;
    double last_fraction;
} counter;

static int count_candidate(hwnas_search *s, size_t i, void *ud)
{
    (void)s;
    counter *c = ud;
    assert_int_equal(i, c->candidates);
    c->candidates++;
    return 0;
}

static int count_batch(hwnas_search *s, size_t evals, void *ud)
{
    (void)s;
    counter *c = ud;
    c->batches++;
    return c->stop_at && evals >= c->stop_at;
}

static int progress(hwnas_search *s, double f, void *ud)
{
    (void)s;
    counter *c = ud;
    assert_true(f >= c->last_fraction && f <= 1.0);
    c->last_fraction = f;
    return 0;
}

static void test_callbacks_stop_and_resume(void **state)
{
    (void)state;
    char *want = run_to_text("nsga2", "threads=2;seed=11", OBJ ";evaluations=36;batch=6", 0);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/stopped", test_tmpdir);
    char opts[256];
    snprintf(opts, sizeof opts, OBJ ";evaluations=36;batch=6;snapshot_every=5;out=%s", dir);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=11"), HWNAS_OK);
    scorer sc = {0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "nsga2", opts, &custom, &sc);
    counter c = {0, 0, 18, 0};
    hwnas_search_on_candidate(s, count_candidate, &c);
    hwnas_search_on_batch(s, count_batch, &c);
    hwnas_search_on_progress(s, progress, &c);
    assert_int_equal(hwnas_search_run(s), HWNAS_EUSER);
    assert_int_equal(hwnas_search_count(s), 18);
    assert_int_equal(c.candidates, 18);
    assert_int_equal(c.batches, 3);
    hwnas_search_free(s);
    /* Resume: the custom estimator is added again, then the run finishes. */
    assert_int_equal(hwnas_search_resume(&s, ctx, dir, NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, custom), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    char *got = archive_text(s);
    assert_string_equal(got, want);
    assert_int_equal(hwnas_search_write_results(s, NULL), HWNAS_OK);
    const char *files[] = {"archive.csv", "archive.json", "front.csv", "front.json", "front.svg",
                           "hypervolume.svg", "front/000.net", "journal.tsv", "snapshot.bin",
                           "search.conf"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        struct stat st;
        if (stat(p, &st) != 0 || st.st_size == 0)
            fail_msg("missing or empty %s", p);
    }
    /* A front member's spec parses back into a net. */
    char p[256];
    snprintf(p, sizeof p, "%s/front/000.net", dir);
    hwnas_net *net;
    assert_int_equal(hwnas_net_load(&net, ctx, p), HWNAS_OK);
    assert_true(hwnas_net_macs(net) > 0);
    hwnas_net_free(net);
    free(got);
    free(want);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

/* Stop (not kill) after *ud evaluations. */
static int test_kill_candidate_stop(hwnas_search *s, size_t i, void *ud)
{
    (void)s;
    return i + 1 == *(size_t *)ud;
}

/* The killed child's search: strategy and out directory. */
typedef struct killed {
    const char *strategy, *dir;
    scorer sc;
} killed;

static hwnas_search *make_killed(hwnas_context *ctx, void *arg)
{
    killed *k = arg;
    hwnas_estimator *custom;
    char opts[256];
    snprintf(opts, sizeof opts, OBJ ";evaluations=40;batch=3;snapshot_every=7;"
             "constraints=params<=8000;out=%s", k->dir);
    return make(ctx, k->strategy, opts, &custom, &k->sc);
}

/* Resume the search in dir (its scorer fails every 5th net, as the
 * killed runs' did), run it to its budget and return its archive text. */
static char *resume_to_text(const char *dir, const char *what)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=21;log_level=error"), HWNAS_OK);
    hwnas_search *s;
    if (hwnas_search_resume(&s, ctx, dir, NULL) != HWNAS_OK)
        fail_msg("resume %s: %s", what, hwnas_error_last());
    scorer sc = {5, 0, 0};
    hwnas_estimator *custom;
    assert_int_equal(hwnas_estimator_new_custom(&custom, ctx, "score", "score:%", score_cb, &sc),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, custom), HWNAS_OK);
    if (hwnas_search_run(s) != HWNAS_OK)
        fail_msg("run %s: %s", what, hwnas_error_last());
    char *got = archive_text(s);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
    return got;
}

/* Run in a child that SIGKILLs itself after `kill_at` evaluations. */
static void killed_run(const char *strategy, const char *dir, size_t kill_at)
{
    killed k = {strategy, dir, {5, 0, 0}};
    test_killed_run("threads=2;seed=21", make_killed, &k, kill_at);
}

/* With a constraint, so that screened candidates (metrics NaN) are
 * journaled and replayed too. */
static void test_sigkill_then_resume_for_every_strategy(void **state)
{
    (void)state;
    const char *kinds[] = {"random", "ea", "nsga2", "reinforce"};
    const size_t kill_at[] = {11, 17, 5, 26};
    for (size_t k = 0; k < 4; k++) {
        char *want = run_to_text(kinds[k], "threads=2;seed=21",
                                 OBJ ";evaluations=40;batch=3;constraints=params<=8000", 5);
        char dir[128];
        snprintf(dir, sizeof dir, "%s/killed-%s", test_tmpdir, kinds[k]);
        killed_run(kinds[k], dir, kill_at[k]);
        /* Damage the tail as a crash in mid-write would. */
        char p[256];
        snprintf(p, sizeof p, "%s/journal.tsv", dir);
        FILE *f = fopen(p, "ab");
        assert_non_null(f);
        fputs("17\t3\tdeadbeef\t1,2", f);
        fclose(f);
        char *got = resume_to_text(dir, kinds[k]);
        if (strcmp(got, want) != 0) {
            char p1[256], p2[256];
            snprintf(p1, sizeof p1, "%s/%s.resumed", test_tmpdir, kinds[k]);
            snprintf(p2, sizeof p2, "%s/%s.uninterrupted", test_tmpdir, kinds[k]);
            FILE *f1 = fopen(p1, "w"), *f2 = fopen(p2, "w");
            if (f1 && f2) {
                fputs(got, f1);
                fputs(want, f2);
            }
            if (f1)
                fclose(f1);
            if (f2)
                fclose(f2);
            fail_msg("%s: the resumed archive differs from an uninterrupted run (%s vs %s)",
                     kinds[k], p1, p2);
        }
        free(got);
        free(want);
    }
}

/* ---- schedule=async ------------------------------------------------------ */

/* With one candidate in flight, async is batch=1: ask, estimate, tell. */
static void test_async_width_one_is_batch_one(void **state)
{
    (void)state;
    const char *kinds[] = {"random", "ea", "nsga2", "reinforce"};
    for (size_t k = 0; k < 4; k++) {
        char *a = run_to_text(kinds[k], "threads=2;seed=4", OBJ ";budget=25;batch=1", 5);
        char *b = run_to_text(kinds[k], "threads=2;seed=4",
                              OBJ ";budget=25;schedule=async;parallel=1", 5);
        if (strcmp(a, b) != 0)
            fail_msg("%s: async width 1 differs from batch 1:\n%s\n---\n%s", kinds[k], a, b);
        free(a);
        free(b);
    }
}

static hwnas_search *make_async_killed(hwnas_context *ctx, void *arg)
{
    killed *k = arg;
    hwnas_estimator *custom;
    char opts[256];
    snprintf(opts, sizeof opts, OBJ ";budget=40;schedule=async;parallel=3;snapshot_every=7;"
             "constraints=params<=8000;out=%s", k->dir);
    return make(ctx, k->strategy, opts, &custom, &k->sc);
}

/* Three in flight (finishing, on the local evaluator, in ask order): a
 * search killed mid-way resumes - asking again in the same pattern and
 * taking the journal's completions - to the uninterrupted archive. A
 * stopped run, run again, goes on with the candidates it had in flight. */
static void test_async_sigkill_and_stop_then_resume(void **state)
{
    (void)state;
    const char *kinds[] = {"random", "ea", "reinforce"};
    const size_t kill_at[] = {11, 17, 26};
    for (size_t k = 0; k < 3; k++) {
        char *want = run_to_text(kinds[k], "threads=2;seed=21",
                                 OBJ ";budget=40;schedule=async;parallel=3;"
                                 "constraints=params<=8000", 5);
        char dir[128];
        snprintf(dir, sizeof dir, "%s/async-%s", test_tmpdir, kinds[k]);
        killed kl = {kinds[k], dir, {5, 0, 0}};
        test_killed_run("threads=2;seed=21", make_async_killed, &kl, kill_at[k]);
        char *got = resume_to_text(dir, kinds[k]);
        if (strcmp(got, want) != 0)
            fail_msg("%s: resumed async archive differs:\n%s\n---\n%s", kinds[k], got, want);
        free(got);
        hwnas_context *ctx;
        assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=21;log_level=error"), HWNAS_OK);
        hwnas_search *s;
        hwnas_estimator *custom;

        /* Stopped by the candidate callback, then run again in memory. */
        scorer sc2 = {5, 0, 0};
        s = make(ctx, kinds[k], OBJ ";budget=40;schedule=async;parallel=3;"
                 "constraints=params<=8000", &custom, &sc2);
        size_t at = kill_at[k];
        hwnas_search_on_candidate(s, test_kill_candidate_stop, &at);
        assert_int_equal(hwnas_search_run(s), HWNAS_EUSER);
        assert_int_equal(hwnas_search_count(s), kill_at[k]);
        hwnas_search_on_candidate(s, NULL, NULL);
        if (hwnas_search_run(s) != HWNAS_OK)
            fail_msg("run again %s: %s", kinds[k], hwnas_error_last());
        got = archive_text(s);
        if (strcmp(got, want) != 0)
            fail_msg("%s: stopped and run again differs:\n%s\n---\n%s", kinds[k], got, want);
        free(got);
        free(want);
        hwnas_search_free(s);
        hwnas_estimator_free(custom);
        hwnas_context_free(ctx);
    }
}

/* Pruning and guidance rank a batch: refused with async, naming them. */
static void test_async_refusals(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    const char *opts[] = {OBJ ";budget=10;schedule=async;guide=gp",
                          OBJ ";budget=10;schedule=async;prune=asha"};
    const char *names[] = {"guide", "prune"};
    for (size_t i = 0; i < 2; i++) {
        scorer sc = {0, 0, 0};
        hwnas_estimator *custom;
        hwnas_search *s = make(ctx, "random", opts[i], &custom, &sc);
        int rc = hwnas_search_run(s);
        assert_true(rc == HWNAS_EUNSUPPORTED || rc == HWNAS_EINVAL);
        if (!strstr(hwnas_error_last(), names[i]))
            fail_msg("%s: %s", names[i], hwnas_error_last());
        hwnas_search_free(s);
        hwnas_estimator_free(custom);
    }
    hwnas_context_free(ctx);
}

static void test_ask_tell_from_outside(void **state)
{
    (void)state;
    char *want = run_to_text("ea", "threads=1;seed=8", OBJ ";evaluations=20;batch=4", 0);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=8"), HWNAS_OK);
    scorer sc = {0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "ea", OBJ ";evaluations=20;batch=4", &custom, &sc);
    hwnas_estimator *cost;
    assert_int_equal(hwnas_estimator_new(&cost, ctx, "cost", NULL), HWNAS_OK);
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    while (hwnas_search_count(s) < 20) {
        uint32_t genes[4 * 6];
        uint64_t ids[4];
        size_t n;
        assert_int_equal(hwnas_search_ask(s, 4, genes, ids, &n), HWNAS_OK);
        assert_true(n > 0);
        /* Tell in reverse order, as a cluster might finish them. */
        for (size_t k = n; k-- > 0;) {
            assert_int_equal(hwnas_space_decode(hwnas_search_space(s), genes + 6 * k, net),
                             HWNAS_OK);
            double c[6], score;
            hwnas_estimator_estimate(cost, net, NULL, 0, c);
            score_cb(net, NULL, 0, &score, &sc);
            const char *names[] = {"macs", "score"};
            double values[] = {c[0], score};
            assert_int_equal(hwnas_search_tell(s, ids[k], 2, names, values, NULL), HWNAS_OK);
        }
    }
    const char *names[] = {"bogus"};
    double values[] = {1};
    assert_int_equal(hwnas_search_tell(s, 999999, 1, names, values, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_search_count(s), 20);
    size_t front[20];
    assert_true(hwnas_search_front(s, front, 20) > 0);
    free(want);
    hwnas_net_free(net);
    hwnas_estimator_free(cost);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

/* ---- interruption (hwnas_estimator_interrupt) ------------------------ */

/* score_cb, but the interrupt_at-th call is interrupted (as a Python
 * estimator does on KeyboardInterrupt), once. */
typedef struct interrupter {
    scorer sc;
    size_t calls, interrupt_at;
} interrupter;

static int interrupting_cb(const hwnas_net *net, const char *key, uint64_t stream,
                           double *values, void *user_data)
{
    interrupter *it = user_data;
    if (++it->calls == it->interrupt_at) {
        hwnas_estimator_interrupt();
        return 0; /* interrupted whatever the callback returns */
    }
    return score_cb(net, key, stream, values, &it->sc);
}

static size_t journal_records(const char *dir)
{
    char p[256];
    snprintf(p, sizeof p, "%s/journal.tsv", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n - 1; /* the header line */
}

/* An interrupted estimate drops its batch (not journaled, told or
 * archived) and stops the search; running again, in the same process or
 * after a resume, gives the archive of an uninterrupted run. */
static void test_interrupted_batch_is_estimated_again(void **state)
{
    (void)state;
    char *want = run_to_text("nsga2", "threads=2;seed=11", OBJ ";evaluations=36;batch=6", 0);
    for (int resume = 0; resume < 2; resume++) {
        char dir[128], opts[256];
        snprintf(dir, sizeof dir, "%s/interrupted%d", test_tmpdir, resume);
        snprintf(opts, sizeof opts, OBJ ";evaluations=36;batch=6;snapshot_every=5;out=%s", dir);
        hwnas_context *ctx;
        assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=11"), HWNAS_OK);
        hwnas_search *s = NULL;
        assert_int_equal(hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1", "nsga2",
                                          "population=6", opts),
                         HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
        interrupter it = {{0, 0, 0}, 0, 10}; /* in the second batch */
        hwnas_estimator *est;
        assert_int_equal(hwnas_estimator_new_custom(&est, ctx, "score", "score:%",
                                                    interrupting_cb, &it),
                         HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator_object(s, est), HWNAS_OK);
        assert_int_equal(hwnas_search_run(s), HWNAS_EUSER);
        assert_non_null(strstr(hwnas_error_last(), "interrupted"));
        assert_true(hwnas_estimator_interrupted());
        assert_int_equal(hwnas_search_count(s), 6); /* the first batch only */
        assert_int_equal(journal_records(dir), 6);
        uint32_t g[6];
        uint64_t id;
        size_t n;
        assert_int_equal(hwnas_search_ask(s, 1, g, &id, &n), HWNAS_ESTATE);
        if (resume) {
            hwnas_search_free(s);
            assert_int_equal(hwnas_search_resume(&s, ctx, dir, NULL), HWNAS_OK);
            assert_int_equal(hwnas_search_add_estimator_object(s, est), HWNAS_OK);
        }
        assert_int_equal(hwnas_search_run(s), HWNAS_OK);
        assert_false(hwnas_estimator_interrupted());
        char *got = archive_text(s);
        assert_string_equal(got, want);
        assert_int_equal(journal_records(dir), 36);
        free(got);
        hwnas_search_free(s);
        hwnas_estimator_free(est);
        hwnas_context_free(ctx);
    }
    free(want);
}

/* ---- multi-fidelity refinement --------------------------------------- */


static size_t count_refine_records(const char *dir)
{
    char p[256];
    snprintf(p, sizeof p, "%s/journal.tsv", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char line[8192];
    size_t n = 0;
    while (fgets(line, sizeof line, f))
        n += line[0] == 'R' && line[1] == '\t';
    fclose(f);
    return n;
}

/* Refined flags, refined and proxy scores, and the front, as text. */
static char *refine_text(hwnas_search *s)
{
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = 0;
    for (size_t i = 0; i < hwnas_search_count(s); i++) {
        double sc, px;
        assert_int_equal(hwnas_search_metric(s, i, "score", &sc), HWNAS_OK);
        assert_int_equal(hwnas_search_proxy_metric(s, i, "score", &px), HWNAS_OK);
        len += (size_t)snprintf(out + len, cap - len, "%zu %d %.17g %.17g\n", i,
                                hwnas_search_refined(s, i), sc, px);
    }
    size_t front[256], nf = hwnas_search_front(s, front, 256);
    for (size_t k = 0; k < nf; k++)
        len += (size_t)snprintf(out + len, cap - len, "front %zu\n", front[k]);
    assert_true(len < cap);
    return out;
}

static void test_refine_chooses_the_front_by_refined_figures(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=5;log_level=error"), HWNAS_OK);
    char table[128], dir[128], opts[512];
    snprintf(table, sizeof table, "%s/refine.csv", test_tmpdir);
    snprintf(dir, sizeof dir, "%s/refined", test_tmpdir);
    test_write_refine_table(ctx, table);
    snprintf(opts, sizeof opts,
             OBJ ";evaluations=30;batch=5;refine=6;refine_estimator=\"table:file=%s;key=key;"
                 "metrics=s2:score\";out=%s",
             table, dir);
    scorer sc = {0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "nsga2", opts, &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    size_t n = hwnas_search_count(s), refined = 0;
    for (size_t i = 0; i < n; i++) {
        double v, px;
        hwnas_search_metric(s, i, "score", &v);
        hwnas_search_proxy_metric(s, i, "score", &px);
        if (hwnas_search_refined(s, i) == 1) {
            refined++;
            assert_true(v >= 60 && v < 97 && v == floor(v)); /* the table's figure */
            assert_true(px != v);
        } else {
            assert_int_equal(hwnas_search_refined(s, i), 0);
            assert_true(v == px || (isnan(v) && isnan(px)));
        }
    }
    assert_int_equal(refined, 6);
    assert_int_equal(count_refine_records(dir), 6);
    /* Every member of the proxy front was refined (it holds at most 6 here). */
    for (size_t i = 0; i < n; i++) {
        double si, mi;
        hwnas_search_proxy_metric(s, i, "score", &si);
        hwnas_search_metric(s, i, "macs", &mi);
        int dominated = 0;
        for (size_t j = 0; j < n && !dominated; j++) {
            double sj, mj;
            hwnas_search_proxy_metric(s, j, "score", &sj);
            hwnas_search_metric(s, j, "macs", &mj);
            dominated = sj >= si && mj <= mi && (sj > si || mj < mi);
        }
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = hwnas_search_hash(s, j) == hwnas_search_hash(s, i);
        if (!dominated && !dup)
            assert_int_equal(hwnas_search_refined(s, i), 1);
    }
    /* The front: refined members only, none dominated by another refined one. */
    size_t front[64], nf = hwnas_search_front(s, front, 64);
    assert_true(nf >= 1);
    for (size_t a = 0; a < nf; a++) {
        assert_int_equal(hwnas_search_refined(s, front[a]), 1);
        double sa, ma;
        hwnas_search_metric(s, front[a], "score", &sa);
        hwnas_search_metric(s, front[a], "macs", &ma);
        for (size_t i = 0; i < n; i++) {
            double si, mi;
            if (hwnas_search_refined(s, i) != 1)
                continue;
            hwnas_search_metric(s, i, "score", &si);
            hwnas_search_metric(s, i, "macs", &mi);
            assert_false(si >= sa && mi <= ma && (si > sa || mi < ma));
        }
    }
    char *want = refine_text(s);
    assert_int_equal(hwnas_search_write_results(s, NULL), HWNAS_OK);
    hwnas_search_free(s);

    /* Reopened (as hwnas report does), the refinements come from the journal. */
    assert_int_equal(hwnas_search_resume(&s, ctx, dir, NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, custom), HWNAS_OK);
    uint32_t genes[6];
    uint64_t ids[1];
    size_t got_n;
    assert_int_equal(hwnas_search_ask(s, 0, genes, ids, &got_n), HWNAS_OK);
    char *got = refine_text(s);
    assert_string_equal(got, want);
    free(got);
    hwnas_search_free(s);

    /* Killed while refining: the last two refinements never reached the
     * journal and a third was torn. Resuming refines those two again. */
    char p[256];
    snprintf(p, sizeof p, "%s/journal.tsv", dir);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    for (int cut = 0; cut < 2; cut++) {
        char *last = strrchr(text, '\n');
        *last = 0;
        char *prev = strrchr(text, '\n');
        assert_true(prev && prev[1] == 'R');
        prev[1] = 0;
    }
    f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fputs("R\t3\t71", f);
    fclose(f);
    assert_int_equal(count_refine_records(dir), 4 + 1);
    assert_int_equal(hwnas_search_resume(&s, ctx, dir, NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, custom), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    got = refine_text(s);
    assert_string_equal(got, want);
    assert_int_equal(count_refine_records(dir), 6);
    free(got);
    free(want);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

/* refine_by=first: the K best by the first objective alone. */
static void test_refine_by_first_objective(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=6;log_level=error"), HWNAS_OK);
    char table[128], opts[512];
    snprintf(table, sizeof table, "%s/refine-first.csv", test_tmpdir);
    test_write_refine_table(ctx, table);
    snprintf(opts, sizeof opts,
             OBJ ";evaluations=30;batch=5;refine=5;refine_by=first;refine_estimator=\"table:"
                 "file=%s;key=key;metrics=s2:score\"",
             table);
    scorer sc = {0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "random", opts, &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    /* No unrefined candidate has a higher proxy score than a refined one. */
    size_t n = hwnas_search_count(s), refined = 0;
    double worst_refined = INFINITY, best_other = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double px;
        hwnas_search_proxy_metric(s, i, "score", &px);
        if (hwnas_search_refined(s, i) == 1) {
            refined++;
            worst_refined = fmin(worst_refined, px);
        } else {
            best_other = fmax(best_other, px);
        }
    }
    assert_int_equal(refined, 5);
    assert_true(worst_refined >= best_other);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

static void test_refine_errors(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;log_level=error"), HWNAS_OK);
    const char *bad[] = {
        OBJ ";evaluations=4;refine=2",                               /* no estimator */
        OBJ ";evaluations=4;refine=2;refine_estimator=nope",         /* unknown kind */
        OBJ ";evaluations=4;refine=2;refine_estimator=\":x=1\"",     /* no kind */
        "objectives=score:max;evaluations=4;refine=2;refine_estimator=cost", /* no objective */
    };
    const char *needle[] = {"refine_estimator", "nope", "no kind", "none of the objectives"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        scorer sc = {0};
        hwnas_estimator *custom;
        hwnas_search *s = make(ctx, "random", bad[k], &custom, &sc);
        assert_int_not_equal(hwnas_search_run(s), HWNAS_OK);
        if (!strstr(hwnas_error_last(), needle[k]))
            fail_msg("case %zu: '%s' does not mention '%s'", k, hwnas_error_last(), needle[k]);
        assert_int_equal(hwnas_search_count(s), 0);
        hwnas_search_free(s);
        hwnas_estimator_free(custom);
    }
    /* A refine estimator with a metric the search does not know. */
    hwnas_search *s;
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1", "random", NULL,
                                      "objectives=macs:min;evaluations=4;refine=2;"
                                      "refine_estimator=energy"),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "energy_uj"));
    hwnas_search_free(s);
    /* Bad arguments of the queries. */
    assert_int_equal(hwnas_search_refined(NULL, 0), 0);
    double v;
    assert_int_equal(hwnas_search_proxy_metric(NULL, 0, "macs", &v), HWNAS_EINVAL);
    hwnas_context_free(ctx);
}

/* Fail the n-th allocation for n = 0, 1, ... until a run of a cost search
 * with these options succeeds; each failure is ENOMEM and leaks nothing. */

/* ---- a damaged or shared results directory never loses data ---------- */

static void spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Run a small search into dir, stopping after `stop_at` evaluations (0:
 * to its end of 24). */
#define DMG_OPTS OBJ ";evaluations=24;batch=3;snapshot_every=6;out=%s"
static void small_run(const char *dir, size_t stop_at, const char *extra)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=31"), HWNAS_OK);
    char opts[512];
    snprintf(opts, sizeof opts, DMG_OPTS "%s", dir, extra ? extra : "");
    scorer sc = {7, 0, 0};
    hwnas_estimator *custom;
    hwnas_search *s = make(ctx, "ea", opts, &custom, &sc);
    counter c = {0, 0, stop_at, 0};
    hwnas_search_on_batch(s, count_batch, &c);
    int rc = hwnas_search_run(s);
    if (rc != (stop_at ? HWNAS_EUSER : HWNAS_OK))
        fail_msg("small run: %s", hwnas_error_last());
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

/* Resume dir with options and run to the end; the archive as text, or
 * NULL with *rc the error. */
static char *resume_text(const char *dir, const char *options, int *rc)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=31;log_level=error"), HWNAS_OK);
    hwnas_search *s = NULL;
    char *text = NULL;
    *rc = hwnas_search_resume(&s, ctx, dir, options);
    scorer sc = {7, 0, 0};
    hwnas_estimator *custom = NULL;
    if (*rc == HWNAS_OK) {
        assert_int_equal(hwnas_estimator_new_custom(&custom, ctx, "score", "score:%", score_cb,
                                                    &sc),
                         HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator_object(s, custom), HWNAS_OK);
        *rc = hwnas_search_run(s);
    }
    if (*rc == HWNAS_OK)
        text = archive_text(s);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
    return text;
}

/* Start of line `line` (1-based) in text. */
static char *line_at(char *text, size_t line)
{
    char *p = text;
    for (size_t l = 1; l < line; l++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    return p;
}

typedef struct damage {
    const char *name;
    size_t line;      /* the line the error must name */
    const char *says; /* what the message must say */
} damage;

/* Damage journal text j (of n bytes) in place or into out; returns the
 * new length. */
static size_t apply_damage(int kind, const char *j, size_t n, char *out)
{
    memcpy(out, j, n);
    char *l5 = line_at(out, 5), *l6 = line_at(out, 6), *l7 = line_at(out, 7);
    switch (kind) {
    case 0: /* a flipped bit in the middle */
        l5[3] ^= 0x04;
        return n;
    case 1: { /* CRLF line endings from an editor */
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (j[i] == '\n')
                out[m++] = '\r';
            out[m++] = j[i];
        }
        return m;
    }
    case 2: /* a NUL byte */
        l6[0] = 0;
        return n;
    case 3: /* a duplicated record */
        memmove(l6 + (l6 - l5), l6, n - (size_t)(l6 - out));
        memcpy(l6, l5, (size_t)(l6 - l5));
        return n + (size_t)(l6 - l5);
    case 4: /* a missing record */
        memmove(l5, l6, n - (size_t)(l6 - out));
        return n - (size_t)(l6 - l5);
    case 6: { /* negative seconds, with a CRC that matches (written by a buggy tool) */
        size_t at5 = (size_t)(l5 - out), at6 = (size_t)(l6 - out);
        char line[8192], rebuilt[8300];
        assert_true(at6 - at5 < sizeof line);
        memcpy(line, j + at5, at6 - at5 - 1);
        line[at6 - at5 - 1] = 0;
        char *f = line;
        for (int i = 0; i < 8; i++)
            f = strchr(f, '\t') + 1; /* field 9: seconds */
        char *after = strchr(f, '\t');
        char *hash = strrchr(line, '\t');
        int m = snprintf(rebuilt, sizeof rebuilt, "%.*s-1%.*s", (int)(f - line), line,
                         (int)(hash - after), after);
        m += snprintf(rebuilt + m, sizeof rebuilt - (size_t)m, "\t#%08x\n",
                      (unsigned)crc32(0L, (const Bytef *)rebuilt, (uInt)m));
        memcpy(out + at5, rebuilt, (size_t)m);
        memcpy(out + at5 + m, j + at6, n - at6);
        return at5 + (size_t)m + (n - at6);
    }
    case 5:
    default: { /* a complete last line with a bad CRC (not torn: it has its newline) */
        (void)l7;
        char *last = out + n - 2;
        *last = *last == '0' ? '1' : '0';
        return n;
    }
    }
}

static void test_damage_never_deletes(void **state)
{
    (void)state;
    char dir[128], path[256], conf[256];
    snprintf(dir, sizeof dir, "%s/damaged", test_tmpdir);
    small_run(dir, 12, NULL); /* 12 of 24 evaluated, snapshot at 12 */
    snprintf(path, sizeof path, "%s/journal.tsv", dir);
    snprintf(conf, sizeof conf, "%s/search.conf", dir);
    size_t n, conf_len;
    char *journal = test_slurp(path, &n), *config = test_slurp(conf, &conf_len);
    assert_non_null(journal);
    /* An uninterrupted run of the same search, for comparison. */
    int rc;
    char *want = run_to_text("ea", "threads=2;seed=31", OBJ ";evaluations=24;batch=3", 7);
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += journal[i] == '\n';
    const damage kinds[] = {
        {"flipped bit", 5, "CRC mismatch"},
        {"CRLF", 2, "carriage return"},
        {"NUL byte", 6, "CRC"},
        {"duplicated record", 6, "where evaluation 4 was expected"},
        {"missing record", 5, "where evaluation 3 was expected"},
        {"bad last line", lines, "CRC mismatch"},
        {"negative seconds", 5, "seconds '-1' is not a finite number >= 0"},
    };
    char *bad = malloc(2 * n + 64);
    assert_non_null(bad);
    for (int k = 0; k < (int)(sizeof kinds / sizeof *kinds); k++) {
        size_t m = apply_damage(k, journal, n, bad);
        spit(path, bad, m);
        /* Resume and report (read_only) refuse, naming file, line and
         * problem; the journal and the configuration stay byte for byte. */
        const char *modes[] = {NULL, "read_only=true"};
        for (int mode = 0; mode < 2; mode++) {
            char *got = resume_text(dir, modes[mode], &rc);
            assert_null(got);
            assert_int_equal(rc, HWNAS_EFORMAT);
            char where[300];
            snprintf(where, sizeof where, "%s:%zu: ", path, kinds[k].line);
            if (!strstr(hwnas_error_last(), where) || !strstr(hwnas_error_last(), kinds[k].says))
                fail_msg("%s: the message does not name %s and '%s': %s", kinds[k].name, where,
                         kinds[k].says, hwnas_error_last());
            size_t l2;
            char *after = test_slurp(path, &l2);
            if (l2 != m || memcmp(after, bad, m) != 0)
                fail_msg("%s: the damaged journal was changed", kinds[k].name);
            free(after);
            after = test_slurp(conf, &l2);
            assert_true(l2 == conf_len && memcmp(after, config, l2) == 0);
            free(after);
        }
    }
    /* Salvage keeps the valid records, moves the original aside and
     * resumes: with a damaged record 3 (line 5) the snapshot covers more
     * than is kept, so the journal is replayed from the strategy's start;
     * the end is the archive of an uninterrupted run. */
    size_t m = apply_damage(0, journal, n, bad);
    spit(path, bad, m);
    char *got = resume_text(dir, "salvage=true", &rc);
    if (!got)
        fail_msg("salvage: %s", hwnas_error_last());
    assert_string_equal(got, want);
    free(got);
    char aside[300];
    snprintf(aside, sizeof aside, "%s.damaged.1", path);
    size_t la;
    char *orig = test_slurp(aside, &la);
    assert_non_null(orig);
    assert_true(la == m && memcmp(orig, bad, m) == 0);
    free(orig);
    snprintf(aside, sizeof aside, "%s/snapshot.bin.damaged.1", dir);
    struct stat st;
    assert_int_equal(stat(aside, &st), 0);
    /* salvage is not saved: a later damage is an error again. */
    size_t l2;
    char *now = test_slurp(conf, &l2);
    assert_null(strstr(now, "salvage=true"));
    free(now);
    free(bad);
    free(want);
    free(journal);
    free(config);
}

static void test_torn_tail_and_read_only(void **state)
{
    (void)state;
    char dir[128], path[256];
    snprintf(dir, sizeof dir, "%s/torn", test_tmpdir);
    small_run(dir, 12, NULL);
    snprintf(path, sizeof path, "%s/journal.tsv", dir);
    size_t n;
    char *journal = test_slurp(path, &n);
    char *torn = malloc(n + 32);
    memcpy(torn, journal, n);
    memcpy(torn + n, "12\t5\t00ab", 9); /* what a crash in mid-write leaves */
    spit(path, torn, n + 9);
    /* read_only ignores the torn tail and writes nothing. */
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=31;log_level=error"), HWNAS_OK);
    hwnas_search *s;
    assert_int_equal(hwnas_search_resume(&s, ctx, dir, "read_only=true"), HWNAS_OK);
    scorer sc = {7, 0, 0};
    hwnas_estimator *custom;
    assert_int_equal(hwnas_estimator_new_custom(&custom, ctx, "score", "score:%", score_cb, &sc),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, custom), HWNAS_OK);
    uint32_t g[8];
    uint64_t ids[1];
    size_t got_n;
    assert_int_equal(hwnas_search_ask(s, 0, g, ids, &got_n), HWNAS_OK);
    assert_true(hwnas_search_count(s) >= 12);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
    size_t l2;
    char *after = test_slurp(path, &l2);
    assert_true(l2 == n + 9 && memcmp(after, torn, n + 9) == 0);
    free(after);
    /* A resume cuts exactly the torn record, nothing else. */
    int rc;
    char *want = run_to_text("ea", "threads=2;seed=31", OBJ ";evaluations=24;batch=3", 7);
    char *got = resume_text(dir, NULL, &rc);
    if (!got)
        fail_msg("resume: %s", hwnas_error_last());
    assert_string_equal(got, want);
    after = test_slurp(path, &l2);
    assert_true(l2 > n && memcmp(after, journal, n) == 0); /* the old records, then new ones */
    free(after);
    free(got);
    free(want);
    free(torn);
    free(journal);
}

static void test_one_search_per_directory(void **state)
{
    (void)state;
    char dir[128], opts[256], path[300];
    snprintf(dir, sizeof dir, "%s/shared", test_tmpdir);
    snprintf(opts, sizeof opts, DMG_OPTS, dir);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=31"), HWNAS_OK);
    hwnas_search *a, *b = NULL;
    assert_int_equal(hwnas_search_new(&a, ctx, "cell", "channels=4;cells=1", "random", NULL,
                                      opts),
                     HWNAS_OK);
    /* A second search on the same directory is refused, naming the holder. */
    assert_int_equal(hwnas_search_new(&b, ctx, "cell", "channels=4;cells=1", "random", NULL,
                                      opts),
                     HWNAS_ESTATE);
    assert_null(b);
    char pid[32];
    snprintf(pid, sizeof pid, "process %ld", (long)getpid());
    if (!strstr(hwnas_error_last(), pid) || !strstr(hwnas_error_last(), "hwnas.lock"))
        fail_msg("the message names no holder: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_resume(&b, ctx, dir, NULL), HWNAS_ENOTFOUND); /* no conf yet */
    hwnas_search_free(a);
    hwnas_context_free(ctx);
    /* ... also across processes: a child holding it is named. */
    small_run(dir, 0, NULL);
    int p2c[2], c2p[2];
    assert_int_equal(pipe(p2c), 0);
    assert_int_equal(pipe(c2p), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        hwnas_context *cc;
        hwnas_search *cs;
        if (hwnas_context_new(&cc, "threads=1") != HWNAS_OK ||
            hwnas_search_resume(&cs, cc, dir, "read_only=true") != HWNAS_OK)
            _exit(3);
        char x = 1;
        if (write(c2p[1], &x, 1) != 1 || read(p2c[0], &x, 1) != 1)
            _exit(4);
        _exit(0);
    }
    char x;
    assert_int_equal(read(c2p[0], &x, 1), 1);
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=31;log_level=error"), HWNAS_OK);
    int rc;
    char *got = resume_text(dir, NULL, &rc);
    assert_null(got);
    assert_int_equal(rc, HWNAS_ESTATE);
    snprintf(pid, sizeof pid, "process %ld", (long)child);
    if (!strstr(hwnas_error_last(), pid))
        fail_msg("the message does not name the child: %s", hwnas_error_last());
    assert_int_equal(write(p2c[1], &x, 1), 1);
    int status;
    waitpid(child, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The holder gone (the kernel released its lock), resume works. */
    char *want = run_to_text("ea", "threads=2;seed=31", OBJ ";evaluations=24;batch=3", 7);
    got = resume_text(dir, NULL, &rc);
    if (!got)
        fail_msg("resume: %s", hwnas_error_last());
    assert_string_equal(got, want);
    free(got);
    /* A new search into a directory holding one is refused before any
     * work, and the journal is not appended to. */
    snprintf(path, sizeof path, "%s/journal.tsv", dir);
    size_t n, l2;
    char *journal = test_slurp(path, &n);
    hwnas_search *s;
    scorer sc = {7, 0, 0};
    hwnas_estimator *custom;
    s = make(ctx, "ea", opts, &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_ESTATE);
    assert_non_null(strstr(hwnas_error_last(), "already holds a search"));
    assert_int_equal(sc.calls, 0);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    char *after = test_slurp(path, &l2);
    assert_true(l2 == n && memcmp(after, journal, n) == 0);
    free(after);
    /* start_over moves the old files into previous.1/ and runs afresh. */
    snprintf(opts, sizeof opts, DMG_OPTS ";start_over=true", dir);
    s = make(ctx, "ea", opts, &custom, &sc);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    got = archive_text(s);
    assert_string_equal(got, want);
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    snprintf(path, sizeof path, "%s/previous.1/journal.tsv", dir);
    after = test_slurp(path, &l2);
    assert_non_null(after);
    assert_true(l2 == n && memcmp(after, journal, n) == 0);
    free(after);
    free(got);
    free(want);
    free(journal);
    hwnas_context_free(ctx);
}

static void test_stale_temps_and_old_front_files(void **state)
{
    (void)state;
    char dir[128], path[300];
    snprintf(dir, sizeof dir, "%s/stale", test_tmpdir);
    small_run(dir, 12, NULL);
    const char *stale[] = {"archive.csv.tmp.Ab3dEf", "snapshot.bin.tmp.123456"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, stale[i]);
        spit(path, "x", 1);
    }
    snprintf(path, sizeof path, "%s/front", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/front/123.net", dir);
    spit(path, "old", 3);
    snprintf(path, sizeof path, "%s/front/notes.txt", dir);
    spit(path, "mine", 4);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=31;log_level=error"), HWNAS_OK);
    hwnas_search *s;
    assert_int_equal(hwnas_search_resume(&s, ctx, dir, NULL), HWNAS_OK);
    scorer sc = {7, 0, 0};
    hwnas_estimator *custom;
    assert_int_equal(hwnas_estimator_new_custom(&custom, ctx, "score", "score:%", score_cb, &sc),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, custom), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    struct stat st;
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, stale[i]);
        if (stat(path, &st) == 0)
            fail_msg("%s was not removed", path);
    }
    assert_int_equal(hwnas_search_write_results(s, NULL), HWNAS_OK);
    size_t front[64];
    size_t nf = hwnas_search_front(s, front, 64);
    assert_true(nf > 0 && nf < 123);
    snprintf(path, sizeof path, "%s/front/123.net", dir);
    assert_int_not_equal(stat(path, &st), 0); /* not on this front */
    snprintf(path, sizeof path, "%s/front/%03zu.net", dir, nf - 1);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/front/notes.txt", dir);
    assert_int_equal(stat(path, &st), 0); /* not ours: kept */
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
}

static int latin1_fail(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                       void *user_data)
{
    (void)net;
    (void)key;
    (void)stream;
    (void)values;
    (void)user_data;
    hwnas_estimator_set_error("cannot open '/data/caf\xe9/\xff\xfe.idx' (\xc3\xa9 is fine)");
    return 1;
}

/* JSON results are valid UTF-8 whatever bytes a message holds. */
static void test_json_is_utf8(void **state)
{
    (void)state;
    char dir[128], path[300];
    snprintf(dir, sizeof dir, "%s/utf8", test_tmpdir);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=3"), HWNAS_OK);
    char opts[256];
    snprintf(opts, sizeof opts, "objectives=score:max;evaluations=2;batch=1;out=%s", dir);
    hwnas_search *s;
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1", "random", NULL,
                                      opts),
                     HWNAS_OK);
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "score", "score:%", latin1_fail, NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator_object(s, e), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    assert_int_equal(hwnas_search_write_results(s, NULL), HWNAS_OK);
    snprintf(path, sizeof path, "%s/archive.json", dir);
    size_t n;
    char *json = test_slurp(path, &n);
    assert_non_null(json);
    json = realloc(json, n + 1);
    json[n] = 0;
    for (size_t i = 0; i < n; i++) /* no byte that cannot be in UTF-8 */
        assert_true((unsigned char)json[i] != 0xff && (unsigned char)json[i] != 0xfe);
    assert_non_null(strstr(json, "caf\\ufffd/\\ufffd\\ufffd.idx"));
    assert_non_null(strstr(json, "\xc3\xa9 is fine"));
    free(json);
    hwnas_search_free(s);
    hwnas_estimator_free(e);
    hwnas_context_free(ctx);
}

static void oom_walk(test_alloc *t, hwnas_context *c, const char *options, int want_refined)
{
    long base = t->live;
    for (long n = 0;; n++) {
        test_alloc_fail_from(t, n);
        hwnas_search *s = NULL;
        int rc = hwnas_search_new(&s, c, "cell", "channels=4;cells=1", "random", NULL, options);
        if (rc == HWNAS_OK)
            rc = hwnas_search_add_estimator(s, "cost", NULL);
        if (rc == HWNAS_OK)
            rc = hwnas_search_run(s);
        int refined = 0;
        for (size_t i = 0; rc == HWNAS_OK && i < hwnas_search_count(s); i++)
            refined += hwnas_search_refined(s, i);
        hwnas_search_free(s);
        test_alloc_disarm(t);
        assert_int_equal(t->live, base);
        if (rc == HWNAS_OK) {
            assert_int_equal(refined, want_refined);
            break;
        }
        if (rc != HWNAS_ENOMEM)
            fail_msg("%s, step %ld: %d %s", options, n, rc, hwnas_error_last());
    }
}

/* Writing the results (the search's tables, then the report's plots
 * read back from them) fails cleanly at every allocation. */
static void oom_results(test_alloc *t, hwnas_context *c)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/oom-results", test_tmpdir);
    hwnas_search *s = NULL;
    assert_int_equal(hwnas_search_new(&s, c, "cell", "channels=4;cells=1", "random", NULL,
                                      "objectives=macs:min,params:min;evaluations=3;"
                                      "refine=1;refine_estimator=cost"),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    long base = t->live;
    for (long n = 0;; n++) {
        test_alloc_fail_from(t, n);
        int rc = hwnas_search_write_results(s, dir);
        test_alloc_disarm(t);
        assert_int_equal(t->live, base);
        if (rc == HWNAS_OK)
            break;
        if (rc != HWNAS_ENOMEM)
            fail_msg("write_results, step %ld: %d %s", n, rc, hwnas_error_last());
    }
    hwnas_search_free(s);
}

static void test_oom(void **state)
{
    (void)state;
    test_alloc t;
    hwnas_context *c = test_alloc_context(&t, "threads=1");
    oom_walk(&t, c, "objectives=macs:min;evaluations=3", 0);
    /* With a refinement stage (cost refining cost). */
    oom_walk(&t, c, "objectives=macs:min;evaluations=3;refine=2;refine_estimator=cost", 2);
    oom_results(&t, c);
    hwnas_context_free(c);
    assert_int_equal(t.live, 0);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("search/oom", tests, setup, teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_front_and_cache),
        cmocka_unit_test(test_same_result_at_any_thread_count),
        cmocka_unit_test(test_failures_are_recorded),
        cmocka_unit_test(test_bad_objectives_and_constraints),
        cmocka_unit_test(test_constraints_shape_the_front),
        cmocka_unit_test(test_screening_skips_later_estimators),
        cmocka_unit_test(test_callbacks_stop_and_resume),
        cmocka_unit_test(test_sigkill_then_resume_for_every_strategy),
        cmocka_unit_test(test_async_width_one_is_batch_one),
        cmocka_unit_test(test_async_sigkill_and_stop_then_resume),
        cmocka_unit_test(test_async_refusals),
        cmocka_unit_test(test_ask_tell_from_outside),
        cmocka_unit_test(test_interrupted_batch_is_estimated_again),
        cmocka_unit_test(test_refine_chooses_the_front_by_refined_figures),
        cmocka_unit_test(test_refine_by_first_objective),
        cmocka_unit_test(test_refine_errors),
        cmocka_unit_test(test_damage_never_deletes),
        cmocka_unit_test(test_torn_tail_and_read_only),
        cmocka_unit_test(test_one_search_per_directory),
        cmocka_unit_test(test_stale_temps_and_old_front_files),
        cmocka_unit_test(test_json_is_utf8),
    };
    return cmocka_run_group_tests_name("search", tests, setup, teardown);
}
