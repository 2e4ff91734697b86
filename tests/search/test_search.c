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

#include "search/search_internal.h"
#include "test_alloc.h"

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/hwnas-search-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (getenv("HWNAS_KEEP_TMP"))
        return 0;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : -1;
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
    snprintf(dir, sizeof dir, "%s/stopped", tmp);
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

/* Run in a child that SIGKILLs itself after `kill_at` evaluations. */
static void killed_run(const char *strategy, const char *dir, size_t kill_at);

static int kill_candidate(hwnas_search *s, size_t i, void *ud)
{
    (void)s;
    if (i + 1 == *(size_t *)ud)
        raise(SIGKILL);
    return 0;
}

static void killed_run(const char *strategy, const char *dir, size_t kill_at)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        hwnas_context *ctx;
        if (hwnas_context_new(&ctx, "threads=2;seed=21") != HWNAS_OK)
            _exit(3);
        scorer sc = {5, 0, 0};
        hwnas_estimator *custom;
        char opts[256];
        snprintf(opts, sizeof opts, OBJ ";evaluations=40;batch=3;snapshot_every=7;"
                 "constraints=params<=8000;out=%s", dir);
        hwnas_search *s = make(ctx, strategy, opts, &custom, &sc);
        hwnas_search_on_candidate(s, kill_candidate, &kill_at);
        hwnas_search_run(s);
        _exit(4); /* not reached when the kill happens */
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
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
        snprintf(dir, sizeof dir, "%s/killed-%s", tmp, kinds[k]);
        killed_run(kinds[k], dir, kill_at[k]);
        /* Damage the tail as a crash in mid-write would. */
        char p[256];
        snprintf(p, sizeof p, "%s/journal.tsv", dir);
        FILE *f = fopen(p, "ab");
        assert_non_null(f);
        fputs("17\t3\tdeadbeef\t1,2", f);
        fclose(f);
        hwnas_context *ctx;
        assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=21;log_level=error"), HWNAS_OK);
        hwnas_search *s;
        if (hwnas_search_resume(&s, ctx, dir, NULL) != HWNAS_OK)
            fail_msg("resume %s: %s", kinds[k], hwnas_error_last());
        scorer sc = {5, 0, 0};
        hwnas_estimator *custom;
        assert_int_equal(hwnas_estimator_new_custom(&custom, ctx, "score", "score:%", score_cb,
                                                    &sc),
                         HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator_object(s, custom), HWNAS_OK);
        if (hwnas_search_run(s) != HWNAS_OK)
            fail_msg("run %s: %s", kinds[k], hwnas_error_last());
        char *got = archive_text(s);
        if (strcmp(got, want) != 0) {
            char p1[256], p2[256];
            snprintf(p1, sizeof p1, "%s/%s.resumed", tmp, kinds[k]);
            snprintf(p2, sizeof p2, "%s/%s.uninterrupted", tmp, kinds[k]);
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
        hwnas_search_free(s);
        hwnas_estimator_free(custom);
        hwnas_context_free(ctx);
    }
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

/* ---- multi-fidelity refinement --------------------------------------- */

/* A table estimator file giving every cell genotype a "score" unlike the
 * proxy's: the refine estimator of the tests. */
static void write_refine_table(hwnas_context *ctx, const char *path)
{
    hwnas_space *sp;
    assert_int_equal(hwnas_space_new(&sp, ctx, "cell", "channels=4;cells=1"), HWNAS_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("key,s2\n", f);
    for (uint32_t code = 0; code < 15625; code++) {
        uint32_t g[6];
        for (uint32_t k = 0, c = code; k < 6; k++, c /= 5)
            g[k] = c % 5;
        char *key;
        assert_int_equal(hwnas_space_format(sp, g, &key), HWNAS_OK);
        fprintf(f, "\"%s\",%u\n", key, 60 + (code * 7919u) % 37u);
        hwnas_free(key);
    }
    fclose(f);
    hwnas_space_free(sp);
}

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
    snprintf(table, sizeof table, "%s/refine.csv", tmp);
    snprintf(dir, sizeof dir, "%s/refined", tmp);
    write_refine_table(ctx, table);
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
    snprintf(table, sizeof table, "%s/refine-first.csv", tmp);
    write_refine_table(ctx, table);
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

static void test_oom(void **state)
{
    (void)state;
    test_alloc t;
    hwnas_context *c = test_alloc_context(&t, "threads=1");
    oom_walk(&t, c, "objectives=macs:min;evaluations=3", 0);
    /* With a refinement stage (cost refining cost). */
    oom_walk(&t, c, "objectives=macs:min;evaluations=3;refine=2;refine_estimator=cost", 2);
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
        cmocka_unit_test(test_ask_tell_from_outside),
        cmocka_unit_test(test_refine_chooses_the_front_by_refined_figures),
        cmocka_unit_test(test_refine_by_first_objective),
        cmocka_unit_test(test_refine_errors),
    };
    return cmocka_run_group_tests_name("search", tests, setup, teardown);
}
