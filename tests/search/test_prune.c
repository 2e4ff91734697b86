/* Pruning: the learning-curve fit, the accuracy estimator's curve watch,
 * and searches with prune=asha|hyperband|curve - the same pruned set and
 * archive at 1 and 2 threads, pruned candidates kept off the front,
 * journal and resume after SIGKILL, bad options and bad journal curves.
 * The searches train for real on a Fashion-MNIST subset (skipped when the
 * dataset is not installed). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_sigkill.h"
#include "test_tmpdir.h"

#include <zlib.h>

#include "estimator/estimator_internal.h"
#include "search/search_internal.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
#define ACC "train_subset=300;val_subset=150;epochs=3;batch=25;lr=0.05"
#define OBJ "objectives=accuracy:max,macs:min"

static int setup(void **state)
{
    (void)state;
    return test_tmpdir_make("hwnas-prune");
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove();
}

static int have_data(void)
{
    if (access(FMNIST, R_OK) == 0)
        return 1;
    print_message("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): "
                  "skipped\n");
    return 0;
}

/* ---- the curve fit ------------------------------------------------------ */

static void test_curve_fit_extrapolates(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "log_level=error"), HWNAS_OK);
    double t[8], y[8], mean, sd;
    /* A power law seen up to epoch 2, predicted at epoch 8. */
    for (int i = 0; i < 8; i++) {
        t[i] = 0.25 * (i + 1);
        y[i] = 90 - 30 * pow(t[i], -0.7);
    }
    assert_int_equal(hwnas__curve_predict(t, y, 8, 8, &mean, &sd), HWNAS_OK);
    double truth = 90 - 30 * pow(8, -0.7);
    print_message("power law: predicted %.3f +- %.3f, truth %.3f\n", mean, sd, truth);
    assert_true(fabs(mean - truth) < 1.0);
    assert_true(sd >= 0 && sd < 2.0);
    /* An exponential, with noise: the truth within a few deviations. */
    for (int i = 0; i < 8; i++)
        y[i] = 85 - 40 * exp(-1.5 * t[i]) + ((i % 2) ? 0.3 : -0.3);
    assert_int_equal(hwnas__curve_predict(t, y, 8, 6, &mean, &sd), HWNAS_OK);
    truth = 85 - 40 * exp(-9.0);
    print_message("exponential: predicted %.3f +- %.3f, truth %.3f\n", mean, sd, truth);
    assert_true(fabs(mean - truth) < 3.0 + 3 * sd);
    assert_true(sd > 0); /* noisy points: an uncertainty */
    /* Bad input: a clear error naming the point. */
    y[2] = NAN;
    assert_int_equal(hwnas__curve_predict(t, y, 8, 6, &mean, &sd), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "point 2"));
    y[2] = 50;
    assert_int_equal(hwnas__curve_predict(t, y, 3, 6, &mean, &sd), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "at least 4"));
    t[3] = t[2];
    assert_int_equal(hwnas__curve_predict(t, y, 8, 6, &mean, &sd), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "increasing"));
    hwnas_context_free(ctx);
}

/* ---- the accuracy estimator's watch --------------------------------------- */

typedef struct seen {
    double v[8];
    size_t n;
    size_t stop_at; /* stop after this report (SIZE_MAX: never) */
} seen;

static int record_report(void *data, size_t k, double acc)
{
    seen *x = data;
    assert_int_equal(k, x->n);
    x->v[x->n++] = acc;
    return k == x->stop_at;
}

/* The zoo's reference CNN. */
static hwnas_net *load_ref(hwnas_context *ctx)
{
    const char *root = getenv("HWNAS_SOURCE_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/nets/fmnist_ref.net", root ? root : ".");
    hwnas_net *net = NULL;
    if (hwnas_net_load(&net, ctx, path) != HWNAS_OK)
        fail_msg("%s: %s", path, hwnas_error_last());
    return net;
}

static void test_accuracy_reports_its_curve(void **state)
{
    (void)state;
    if (!have_data())
        skip();
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accuracy", ACC), HWNAS_OK);
    assert_true(hwnas__estimator_curve_epochs(e) == 3);
    hwnas_estimator *cost;
    assert_int_equal(hwnas_estimator_new(&cost, ctx, "cost", NULL), HWNAS_OK);
    assert_true(hwnas__estimator_curve_epochs(cost) == 0);
    hwnas_estimator_free(cost);
    hwnas_net *net = load_ref(ctx);
    double plain[3], watched[3], stopped[3];
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 4, plain), HWNAS_OK);
    static const double at[] = {0.5, 1, 2, 3};
    seen x = {{0}, 0, SIZE_MAX};
    hwnas__curve_watch w = {at, 4, record_report, &x, 0, 0};
    hwnas__curve_watch_set(&w);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 4, watched), HWNAS_OK);
    assert_int_equal(x.n, 4);
    assert_false(w.stopped);
    /* Validating while training changes nothing: the last point is the
     * unwatched estimate, bit for bit. */
    assert_true(watched[0] == plain[0] && watched[1] == plain[1]);
    assert_true(x.v[3] == plain[0]);
    print_message("curve %.2f %.2f %.2f %.2f\n", x.v[0], x.v[1], x.v[2], x.v[3]);
    /* The watch is taken by one estimate only. */
    seen y = {{0}, 0, SIZE_MAX};
    hwnas__curve_watch w2 = {at, 4, record_report, &y, 0, 0};
    hwnas__curve_watch_set(&w2);
    hwnas__curve_watch_set(NULL);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 4, watched), HWNAS_OK);
    assert_int_equal(y.n, 0);
    /* Stopped after the second report: the metrics of the model there. */
    seen z = {{0}, 0, 1};
    hwnas__curve_watch w3 = {at, 4, record_report, &z, 0, 0};
    hwnas__curve_watch_set(&w3);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 4, stopped), HWNAS_OK);
    assert_true(w3.stopped && w3.stopped_at == 1 && z.n == 2);
    assert_true(stopped[0] == x.v[1]);
    /* no later report came (z.n == 2): the training stopped there; its
     * time (stopped[2]) is not compared, timings belong in bench/ */
    assert_true(isfinite(stopped[2]) && stopped[2] >= 0);
    hwnas_net_free(net);
    hwnas_estimator_free(e);
    hwnas_context_free(ctx);
}

/* Reports before the end validate on curve_val_subset images (a multiple
 * of 100/50 %), the last one on the whole validation part. */
static void test_curve_reports_on_a_subset(void **state)
{
    (void)state;
    if (!have_data())
        skip();
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accuracy", ACC ";curve_val_subset=50"),
                     HWNAS_OK);
    hwnas_net *net = load_ref(ctx);
    double plain[3], watched[3];
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 4, plain), HWNAS_OK);
    static const double at[] = {0.5, 1, 2, 3};
    seen x = {{0}, 0, SIZE_MAX};
    hwnas__curve_watch w = {at, 4, record_report, &x, 0, 0};
    hwnas__curve_watch_set(&w);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 4, watched), HWNAS_OK);
    assert_int_equal(x.n, 4);
    for (size_t k = 0; k < 3; k++) {
        double correct = x.v[k] / 2; /* of 50 */
        assert_true(fabs(correct - round(correct)) < 1e-9);
    }
    assert_true(x.v[3] == plain[0] && watched[0] == plain[0]);
    assert_true(fabs(plain[0] * 1.5 - round(plain[0] * 1.5)) < 1e-6); /* of 150 */
    hwnas_net_free(net);
    hwnas_estimator_free(e);
    hwnas_context_free(ctx);
}

/* ---- searches ------------------------------------------------------------ */

static hwnas_search *make(hwnas_context *ctx, const char *options)
{
    hwnas_search *s = NULL;
    if (hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1;input_channels=1;input_size=28", "random", NULL, options) !=
        HWNAS_OK)
        fail_msg("search_new: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "accuracy", ACC), HWNAS_OK);
    return s;
}

/* Everything but timings: keys, accuracy, macs, pruned, curve, errors. */
static char *archive_text(const hwnas_search *s, size_t *pruned)
{
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = 0;
    *pruned = 0;
    int64_t acc = hwnas__metric_index(s, "accuracy", 8), macs = hwnas__metric_index(s, "macs", 4);
    assert_true(acc >= 0 && macs >= 0);
    for (size_t i = 0; i < s->n_rec; i++) {
        const hwnas__record *r = &s->rec[i];
        *pruned += (size_t)r->pruned;
        len += (size_t)snprintf(out + len, cap - len, "%zu %s %.17g %.17g p%d c%d %s |", i,
                                r->key, r->metrics[acc], r->metrics[macs], r->pruned, r->cached,
                                r->error ? r->error : "-");
        for (size_t k = 0; k < r->n_curve; k++)
            len += (size_t)snprintf(out + len, cap - len, " %g:%.17g", r->curve[2 * k],
                                    r->curve[2 * k + 1]);
        len += (size_t)snprintf(out + len, cap - len, "\n");
        assert_true(len < cap);
    }
    return out;
}

static char *run_to_text(const char *ctx_opts, const char *opts, size_t *pruned)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, ctx_opts), HWNAS_OK);
    hwnas_search *s = make(ctx, opts);
    if (hwnas_search_run(s) != HWNAS_OK)
        fail_msg("run %s: %s", opts, hwnas_error_last());
    char *t = archive_text(s, pruned);
    /* Pruned candidates are never front members. */
    size_t front[64];
    size_t n = hwnas_search_front(s, front, 64);
    if (n == 0)
        fail_msg("no front with %s:\n%s", opts, t);
    for (size_t i = 0; i < n && i < 64; i++)
        assert_false(s->rec[front[i]].pruned);
    hwnas_search_free(s);
    hwnas_context_free(ctx);
    return t;
}

static const char *const methods[] = {
    "prune=asha;prune_options=\"resource=epochs;min_resource=0.5;eta=2\"",
    "prune=hyperband;prune_options=\"min_resource=0.2;eta=2\"",
    "prune=curve;prune_options=\"points=6;min_points=4;sigmas=1\"",
};

static void test_same_pruning_at_any_thread_count(void **state)
{
    (void)state;
    if (!have_data())
        skip();
    for (size_t m = 0; m < 3; m++) {
        char opts[512];
        snprintf(opts, sizeof opts, OBJ ";budget=16;batch=4;seed=7;%s", methods[m]);
        size_t p1, p2;
        char *a = run_to_text("threads=1;seed=7", opts, &p1);
        char *b = run_to_text("threads=2;seed=7", opts, &p2);
        print_message("%s: %zu of 16 pruned\n", methods[m], p1);
        if (strcmp(a, b) != 0)
            fail_msg("threads=1 and threads=2 differ with %s:\n%s\n---\n%s", methods[m], a, b);
        assert_int_equal(p1, p2);
        if (m < 2) /* successive halving always prunes some of 16 */
            assert_true(p1 > 0 && p1 < 16);
        free(a);
        free(b);
    }
}

/* Every candidate at or below a rung ranked among those before it: the
 * first of each bracket always goes on, and a pruned one's curve stops at
 * a rung. */
static void test_asha_stops_at_rungs(void **state)
{
    (void)state;
    if (!have_data())
        skip();
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=3"), HWNAS_OK);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/asha", test_tmpdir);
    char opts[512];
    snprintf(opts, sizeof opts, OBJ ";budget=12;batch=4;out=%s;%s", dir, methods[0]);
    hwnas_search *s = make(ctx, opts);
    assert_int_equal(hwnas_search_run(s), HWNAS_OK);
    assert_false(s->rec[0].pruned);
    size_t full = 0;
    for (size_t i = 0; i < s->n_rec; i++) {
        const hwnas__record *r = &s->rec[i];
        if (r->failed || r->cached)
            continue;
        if (r->pruned) {
            double last = r->curve[2 * (r->n_curve - 1)];
            assert_true(last == 0.5 || last == 1 || last == 2); /* a rung */
            /* accuracy is the curve's value where it stopped */
            int64_t acc = hwnas__metric_index(s, "accuracy", 8);
            assert_true(r->metrics[acc] == r->curve[2 * r->n_curve - 1]);
        } else {
            assert_true(r->curve[2 * (r->n_curve - 1)] == 3);
            full++;
        }
    }
    assert_true(full >= 1);
    /* The journal and the results carry the mark and the curve. */
    char path[512];
    snprintf(path, sizeof path, "%s/journal.tsv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1 << 14];
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    assert_non_null(fgets(line, sizeof line, f));
    size_t tabs = 0;
    for (char *c = line; *c; c++)
        tabs += *c == '\t';
    assert_int_equal(tabs, 13); /* 13 fields and the CRC */
    assert_non_null(strstr(line, "0.5:"));
    fclose(f);
    assert_int_equal(hwnas_search_write_results(s, dir), HWNAS_OK);
    snprintf(path, sizeof path, "%s/archive.csv", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",pruned,curve\n"));
    fclose(f);
    hwnas_search_free(s);
    hwnas_context_free(ctx);
}

/* A pruned candidate's int8 accuracy is not measured (NaN, no quantised
 * evaluation spent on it); with accuracy_q an objective, its curve's last
 * value ranks it, and it is not a failure. Finishers have accuracy_q. */
static void test_pruned_skip_int8(void **state)
{
    (void)state;
    if (!have_data())
        skip();
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2;seed=5"), HWNAS_OK);
    hwnas_search *s = NULL;
    if (hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1;input_channels=1;input_size=28",
                         "random", NULL,
                         "objectives=accuracy_q:max,macs:min;budget=8;batch=4;seed=5;"
                         "prune=asha;prune_options=\"resource=epochs;min_resource=0.5;eta=2\"") !=
        HWNAS_OK)
        fail_msg("search_new: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "accuracy", ACC ";quant=true"), HWNAS_OK);
    if (hwnas_search_run(s) != HWNAS_OK)
        fail_msg("run: %s", hwnas_error_last());
    int64_t q = hwnas__metric_index(s, "accuracy_q", 10);
    assert_true(q >= 0);
    size_t pruned = 0, finished = 0;
    for (size_t i = 0; i < s->n_rec; i++) {
        const hwnas__record *r = &s->rec[i];
        if (r->cached)
            continue;
        assert_false(r->failed);
        if (r->pruned) {
            pruned++;
            assert_true(isnan(r->metrics[q]));
            assert_non_null(r->obj);
            assert_true(r->obj[0] == -r->curve[2 * r->n_curve - 1]);
        } else {
            finished++;
            assert_true(isfinite(r->metrics[q]));
            assert_true(r->obj[0] == -r->metrics[q]);
        }
    }
    print_message("%zu pruned, %zu finished\n", pruned, finished);
    assert_true(pruned > 0 && finished > 0);
    hwnas_search_free(s);
    hwnas_context_free(ctx);
}

/* The killed child's search: make()'s with options arg. */
static hwnas_search *make_killed(hwnas_context *ctx, void *arg)
{
    return make(ctx, arg);
}

/* Killed mid-search, resumed at another thread count: the archive of an
 * uninterrupted run, pruned marks and curves included. */
static void test_sigkill_then_resume(void **state)
{
    (void)state;
    if (!have_data())
        skip();
    for (size_t m = 0; m < 2; m++) {
        char opts[512];
        snprintf(opts, sizeof opts, OBJ ";budget=14;batch=3;snapshot_every=4;seed=5;%s",
                 methods[m]);
        size_t p_want, p_got;
        char *want = run_to_text("threads=2;seed=5", opts, &p_want);
        char dir[256];
        snprintf(dir, sizeof dir, "%s/killed-%zu", test_tmpdir, m);
        size_t kill_at = 8;
        char o[1024];
        snprintf(o, sizeof o, "%s;out=%s", opts, dir);
        test_killed_run("threads=2;seed=5;log_level=error", make_killed, o, kill_at);
        /* Drop the journal's last record too, as a kill between two appends
         * would: the resumed batch then mixes replayed and new candidates,
         * and the new ones must rank the replayed ones as before. */
        char path[512];
        snprintf(path, sizeof path, "%s/journal.tsv", dir);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char text[1 << 20];
        size_t len = fread(text, 1, sizeof text, f);
        fclose(f);
        assert_true(len > 0 && len < sizeof text && text[len - 1] == '\n');
        size_t records = 0;
        for (size_t i = 0; i < len; i++)
            records += text[i] == '\n';
        assert_true(records >= kill_at + 1); /* the header and kill_at records at least */
        len--;
        while (len > 0 && text[len - 1] != '\n')
            len--;
        assert_int_equal(truncate(path, (off_t)len), 0);
        hwnas_context *ctx;
        assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=5;log_level=error"), HWNAS_OK);
        hwnas_search *s;
        if (hwnas_search_resume(&s, ctx, dir, NULL) != HWNAS_OK)
            fail_msg("resume: %s", hwnas_error_last());
        if (hwnas_search_run(s) != HWNAS_OK)
            fail_msg("run: %s", hwnas_error_last());
        char *got = archive_text(s, &p_got);
        if (strcmp(got, want) != 0)
            fail_msg("resumed archive differs (%s):\n%s\n---\n%s", methods[m], want, got);
        free(got);
        free(want);
        hwnas_search_free(s);
        hwnas_context_free(ctx);
    }
}

static void test_bad_options(void **state)
{
    (void)state;
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "log_level=error"), HWNAS_OK);
    hwnas_search *s = NULL;
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, "random", NULL,
                                      OBJ ";prune=asha;prune_options=\"etta=3\""),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "etta"));
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, "random", NULL,
                                      OBJ ";prune=sometimes"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "hyperband"));
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, "random", NULL,
                                      OBJ ";prune_options=\"eta=3\""),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "prune=none"));
    /* No estimator with a curve. */
    assert_int_equal(hwnas_search_new(&s, ctx, "cell", NULL, "random", NULL,
                                      "objectives=macs:min;budget=2;prune=asha"),
                     HWNAS_OK);
    assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_search_run(s), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "learning curve"));
    hwnas_search_free(s);
    if (access(FMNIST, R_OK) == 0) {
        /* No rung below 3 epochs when the first is at 4. */
        assert_int_equal(hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1;input_channels=1;input_size=28", "random", NULL,
                                          OBJ ";budget=2;prune=asha;prune_options=\"resource="
                                              "epochs;min_resource=4\""),
                         HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator(s, "cost", NULL), HWNAS_OK);
        assert_int_equal(hwnas_search_add_estimator(s, "accuracy", ACC), HWNAS_OK);
        assert_int_equal(hwnas_search_run(s), HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "min_resource"));
        hwnas_search_free(s);
    }
    hwnas_context_free(ctx);
}

/* A journal whose curve field is damaged (CRC recomputed, as an editor
 * would not): the error names the line and the point. */
static void test_bad_journal_curve(void **state)
{
    (void)state;
    if (!have_data())
        skip();
    char dir[256];
    snprintf(dir, sizeof dir, "%s/asha", test_tmpdir); /* from test_asha_stops_at_rungs */
    char path[512];
    snprintf(path, sizeof path, "%s/journal.tsv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char head[4096], line[1 << 14];
    assert_non_null(fgets(head, sizeof head, f));
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    /* Replace the first curve value by nan and re-seal. */
    char *colon = strstr(line, "0.5:");
    assert_non_null(colon);
    char *end = strpbrk(colon + 4, ",\t");
    char bad[1 << 14];
    snprintf(bad, sizeof bad, "%.*snan%.*s", (int)(colon + 4 - line), line,
             (int)(strrchr(line, '\t') - end), end);
    uint32_t crc = (uint32_t)crc32(0L, (const unsigned char *)bad, (unsigned)strlen(bad));
    char bdir[256];
    snprintf(bdir, sizeof bdir, "%s/bad-curve", test_tmpdir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", bdir, dir, bdir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/journal.tsv", bdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s%s\t#%08x\n", head, bad, (unsigned)crc);
    fclose(f);
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "log_level=error"), HWNAS_OK);
    hwnas_search *s = NULL;
    int rc = hwnas_search_resume(&s, ctx, bdir, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_search_run(s);
    assert_int_equal(rc, HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "journal.tsv:2"));
    assert_non_null(strstr(hwnas_error_last(), "curve point 1"));
    hwnas_search_free(s);
    hwnas_context_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curve_fit_extrapolates),
        cmocka_unit_test(test_accuracy_reports_its_curve),
        cmocka_unit_test(test_curve_reports_on_a_subset),
        cmocka_unit_test(test_pruned_skip_int8),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_same_pruning_at_any_thread_count),
        cmocka_unit_test(test_asha_stops_at_rungs),
        cmocka_unit_test(test_bad_journal_curve),
        cmocka_unit_test(test_sigkill_then_resume),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
