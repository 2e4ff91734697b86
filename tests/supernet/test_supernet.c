/* tests/supernet: path extraction against space:cell, SPOS steps against a
 * stand-alone training step, determinism across threads, resume after
 * SIGKILL, bad files, rating and estimator:supernet. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/model_internal.h"
#include "hwnas/hwnas.h"
#include "supernet/supernet_internal.h"
#include "test_oom.h"
#include "test_tmpdir.h"

#define SN_OPTS "channels=4;cells=1;classes=4;input_channels=1;input_size=8"
#define N_IMG 48
#define H 8

static hwnas_context *ctx1, *ctx2; /* 1 and 2 threads */
static hwnas_dataset *ds;
static char idx_opts[1024];

static int setup(void **state)
{
    (void)state;
    if (test_tmpdir_make("hwnas-sn") != 0)
        return -1;
    if (hwnas_context_new(&ctx1, "threads=1") != HWNAS_OK ||
        hwnas_context_new(&ctx2, "threads=2") != HWNAS_OK)
        return -1;
    uint8_t img[16 + N_IMG * H * H], lab[8 + N_IMG];
    const uint8_t ih[16] = {0, 0, 8, 3, 0, 0, 0, N_IMG, 0, 0, 0, H, 0, 0, 0, H};
    const uint8_t lh[8] = {0, 0, 8, 1, 0, 0, 0, N_IMG};
    memcpy(img, ih, 16);
    memcpy(lab, lh, 8);
    float f[N_IMG * H * H];
    int32_t l[N_IMG];
    for (int s = 0; s < N_IMG; s++) {
        l[s] = s % 4;
        lab[8 + s] = (uint8_t)l[s];
        for (int k = 0; k < H * H; k++) {
            /* a class-dependent pattern plus noise, so that training learns */
            int v = ((k % H) < 2 * (l[s] + 1) ? 160 : 40) + (s * 131 + k * 71) % 50;
            img[16 + s * H * H + k] = (uint8_t)v;
            f[s * H * H + k] = (float)v / 255.0f - 0.4f;
        }
    }
    char ip[256], lp[256];
    snprintf(ip, sizeof ip, "%s/images.idx", test_tmpdir);
    snprintf(lp, sizeof lp, "%s/labels.idx", test_tmpdir);
    FILE *fp = fopen(ip, "wb");
    if (!fp || fwrite(img, 1, sizeof img, fp) != sizeof img || fclose(fp) != 0)
        return -1;
    fp = fopen(lp, "wb");
    if (!fp || fwrite(lab, 1, sizeof lab, fp) != sizeof lab || fclose(fp) != 0)
        return -1;
    snprintf(idx_opts, sizeof idx_opts, "dataset=idx;data_options=\"images=%s;labels=%s;classes=4\"",
             ip, lp);
    return hwnas_dataset_from_float(&ds, ctx1, f, l, N_IMG, 1, H, H, 4) == HWNAS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx1);
    hwnas_context_free(ctx2);
    return test_tmpdir_remove();
}

static hwnas_supernet *make(hwnas_context *ctx)
{
    hwnas_supernet *sn = NULL;
    if (hwnas_supernet_new(&sn, ctx, "cell", SN_OPTS) != HWNAS_OK)
        fail_msg("supernet: %s", hwnas_error_last());
    return sn;
}

/* Paths that matter: all none (a zero cell), a disconnected output, every
 * operation everywhere, and mixes. */
static const uint32_t paths[][6] = {
    {0, 0, 0, 0, 0, 0}, {3, 0, 3, 0, 0, 0}, {1, 1, 1, 1, 1, 1}, {2, 2, 2, 2, 2, 2},
    {3, 3, 3, 3, 3, 3}, {4, 4, 4, 4, 4, 4}, {3, 1, 0, 2, 4, 3}, {0, 3, 4, 1, 0, 2},
    {2, 0, 1, 0, 3, 0}, {4, 3, 2, 1, 0, 3},
};

/* The decisive test: a path taken out of the supernet is space:cell's own
 * network for that genotype, and with the supernet's weights copied into
 * that stand-alone network it computes the same outputs bit for bit. */
static void test_path_is_space_network(void **state)
{
    (void)state;
    hwnas_supernet *sn = make(ctx1);
    hwnas_space *space = NULL;
    assert_int_equal(hwnas_space_new(&space, ctx1, "cell", SN_OPTS), HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_new(&net, ctx1), HWNAS_OK);
    float images[4 * H * H];
    for (size_t k = 0; k < sizeof images / sizeof images[0]; k++)
        images[k] = (float)((k * 37) % 23) / 11.0f - 1.0f;
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        assert_int_equal(hwnas_space_decode(space, paths[p], net), HWNAS_OK);
        hwnas_model *sub = NULL, *alone = NULL;
        assert_int_equal(hwnas_supernet_subnet(&sub, sn, paths[p]), HWNAS_OK);
        assert_true(hwnas_net_equal(net, hwnas_model_net(sub)));
        assert_true(hwnas_net_hash(net) == hwnas_net_hash(hwnas_model_net(sub)));
        /* the stand-alone network, other initial weights, then the copy */
        assert_int_equal(hwnas_model_new(&alone, ctx1, net, 777), HWNAS_OK);
        uint8_t *buf;
        size_t len;
        assert_int_equal(hwnas_model_save_buffer(&buf, &len, sub), HWNAS_OK);
        assert_int_equal(hwnas_model_load_buffer(alone, buf, len, NULL), HWNAS_OK);
        hwnas_free(buf);
        float pa[4 * 4], pb[4 * 4];
        assert_int_equal(hwnas_model_predict(pa, NULL, sub, images, 4), HWNAS_OK);
        assert_int_equal(hwnas_model_predict(pb, NULL, alone, images, 4), HWNAS_OK);
        assert_memory_equal(pa, pb, sizeof pa);
        hwnas_model_free(sub);
        hwnas_model_free(alone);
    }
    /* the key a search hands the estimator maps to the same genotype */
    char *text;
    uint32_t g[6];
    assert_int_equal(hwnas_space_format(space, paths[6], &text), HWNAS_OK);
    assert_int_equal(hwnas_supernet_parse_key(g, sn, text), HWNAS_OK);
    assert_memory_equal(g, paths[6], sizeof g);
    hwnas_free(text);
    assert_int_equal(hwnas_supernet_parse_key(g, sn, "|nor_conv_3x3~0|+|bogus~0|"),
                     HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "position"));
    uint32_t badg[6] = {0, 5, 0, 0, 0, 0};
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_supernet_subnet(&m, sn, badg), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "choice 1"));
    hwnas_net_free(net);
    hwnas_space_free(space);
    hwnas_supernet_free(sn);
}

/* Two paths with the same operation on an edge share its weights. */
static void test_weights_shared(void **state)
{
    (void)state;
    hwnas_supernet *sn = make(ctx1);
    const uint32_t a[6] = {3, 3, 0, 0, 0, 1}, b[6] = {3, 2, 0, 0, 0, 1};
    hwnas_model *ma, *mb;
    size_t *map_a, *map_b;
    assert_int_equal(hwnas__sn_path_model(&ma, sn, a, &map_a), HWNAS_OK);
    assert_int_equal(hwnas__sn_path_model(&mb, sn, b, &map_b), HWNAS_OK);
    size_t shared = 0;
    for (size_t i = 0; i < ma->eng->n; i++)
        for (size_t j = 0; map_a[i] != SIZE_MAX && j < mb->eng->n; j++)
            if (map_a[i] == map_b[j]) {
                const hwnas__eng_node *x = &ma->eng->nodes[i], *y = &mb->eng->nodes[j];
                assert_int_equal(x->n_p, y->n_p);
                assert_memory_equal(ma->eng->params + x->p_off, mb->eng->params + y->p_off,
                                    x->n_p * sizeof(float));
                shared++;
            }
    /* stem conv+bn, edge (1<-0) conv3 conv+bn, 3 reductions' 2x(conv+bn)+conv
     * ... at least the stem, edge 0's op and the classifier */
    assert_true(shared >= 5);
    hwnas__free(ctx1, map_a);
    hwnas__free(ctx1, map_b);
    hwnas_model_free(ma);
    hwnas_model_free(mb);
    hwnas_supernet_free(sn);
}

/* One SPOS step equals one SGD step of the stand-alone network on the same
 * batch, and touches nothing off the path. */
/* The first SPOS step of STEP_OPTS by hand on a stand-alone model: the
 * same batch (order of seed 3), loss and SGD update. */
#define STEP_OPTS "epochs=1;batch=48;lr=0.1;momentum=0.9;weight_decay=0.001;seed=3"
static void standalone_step(hwnas__engine *e)
{
    size_t order[N_IMG];
    float images[N_IMG * H * H], dl[N_IMG * 4], *vel = calloc(e->n_params, sizeof *vel);
    int32_t labels[N_IMG];
    assert_non_null(vel);
    hwnas_dataset_shuffle(order, ds, 3, 0);
    assert_int_equal(hwnas_dataset_batch(images, labels, ds, order, N_IMG), HWNAS_OK);
    assert_int_equal(hwnas__engine_reserve(e, N_IMG), HWNAS_OK);
    e->seed = 3;
    assert_int_equal(hwnas__engine_forward(e, images, N_IMG, 1, 0), HWNAS_OK);
    double loss;
    size_t correct;
    hwnas__engine_loss(&loss, &correct, dl, e, labels, 0);
    assert_int_equal(hwnas__engine_backward(e, dl), HWNAS_OK);
    hwnas__sgd_step(e->params, vel, e->grads, e->n_params, 0.1, 0.9, 0.001, 0);
    free(vel);
}

static void test_step_matches_standalone(void **state)
{
    (void)state;
    hwnas_supernet *sn = make(ctx1);
    uint32_t g[6];
    hwnas__sn_sample_path(g, 3, 0);
    /* a path that differs from g on every edge: its edge weights must stay */
    uint32_t h[6];
    for (int e = 0; e < 6; e++)
        h[e] = g[e] == 3 ? 2 : 3;
    hwnas_model *alone, *other_before;
    size_t *map_g, *map_h;
    assert_int_equal(hwnas__sn_path_model(&alone, sn, g, &map_g), HWNAS_OK);
    assert_int_equal(hwnas__sn_path_model(&other_before, sn, h, &map_h), HWNAS_OK);
    hwnas__engine *e = alone->eng;
    standalone_step(e);

    assert_int_equal(hwnas_supernet_train(sn, ds, NULL, NULL, STEP_OPTS, NULL, NULL, NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_supernet_steps_done(sn), 1);
    hwnas_model *after, *other_after;
    assert_int_equal(hwnas_supernet_subnet(&after, sn, g), HWNAS_OK);
    assert_int_equal(hwnas_supernet_subnet(&other_after, sn, h), HWNAS_OK);
    assert_int_equal(after->eng->n_params, e->n_params);
    assert_memory_equal(after->eng->params, e->params, e->n_params * sizeof(float));
    /* h's own edges (not on g) are untouched; shared ones moved */
    size_t untouched = 0, moved = 0;
    for (size_t j = 0; j < other_after->eng->n; j++) {
        if (map_h[j] == SIZE_MAX)
            continue;
        int on_g = 0;
        for (size_t i = 0; i < e->n; i++)
            on_g |= map_g[i] == map_h[j];
        const hwnas__eng_node *nd = &other_after->eng->nodes[j];
        int same = memcmp(other_after->eng->params + nd->p_off,
                          other_before->eng->params + nd->p_off, nd->n_p * sizeof(float)) == 0;
        if (on_g)
            moved += !same;
        else {
            assert_true(same);
            untouched++;
        }
    }
    assert_true(untouched > 0 && moved > 0);
    hwnas__free(ctx1, map_g);
    hwnas__free(ctx1, map_h);
    hwnas_model_free(alone);
    hwnas_model_free(other_before);
    hwnas_model_free(after);
    hwnas_model_free(other_after);
    hwnas_supernet_free(sn);
}

static const char *train_opts = "epochs=3;batch=8;lr=0.05;seed=7;checkpoint_every=4";

static uint8_t *bytes_of(const hwnas_supernet *sn, size_t *len)
{
    uint8_t *b;
    assert_int_equal(hwnas__sn_to_bytes(&b, len, sn), HWNAS_OK);
    return b;
}

/* Same seed, same weights at 1 and 2 threads; the learned paths rate
 * above chance. */
static void test_deterministic(void **state)
{
    (void)state;
    hwnas_supernet *a = make(ctx1), *b = make(ctx2);
    assert_int_equal(hwnas_supernet_train(a, ds, NULL, NULL, train_opts, NULL, NULL, NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_supernet_train(b, ds, NULL, NULL, train_opts, NULL, NULL, NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_supernet_steps_done(a), 18);
    size_t la, lb;
    uint8_t *ba = bytes_of(a, &la), *bb = bytes_of(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    hwnas__free(ctx1, ba);
    hwnas__free(ctx2, bb);
    /* a finished training returns at once */
    assert_int_equal(hwnas_supernet_train(a, ds, NULL, NULL, train_opts, NULL, NULL, NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_supernet_steps_done(a), 18);
    double acc = -1;
    assert_int_equal(hwnas_supernet_rate(&acc, a, paths[4], ds, 32, ds, 0), HWNAS_OK);
    assert_true(acc >= 0 && acc <= 1);
    /* recalibration replaces the running statistics, not the weights */
    hwnas_model *m;
    assert_int_equal(hwnas_supernet_subnet(&m, a, paths[4]), HWNAS_OK);
    float *p0 = malloc(m->eng->n_params * sizeof *p0), *s0 = malloc(m->eng->n_state * 4);
    memcpy(p0, m->eng->params, m->eng->n_params * 4);
    memcpy(s0, m->eng->state, m->eng->n_state * 4);
    assert_int_equal(hwnas_supernet_calibrate(m, ds, 32, 16), HWNAS_OK);
    assert_memory_equal(p0, m->eng->params, m->eng->n_params * 4);
    assert_memory_not_equal(s0, m->eng->state, m->eng->n_state * 4);
    free(p0);
    free(s0);
    hwnas_model_free(m);
    hwnas_supernet_free(a);
    hwnas_supernet_free(b);
}

static int kill_at_step(int event, int64_t epoch, int64_t epochs, int64_t batch, int64_t batches,
                        double loss, double acc, double lr, void *ud)
{
    (void)event, (void)epochs, (void)loss, (void)acc, (void)lr;
    if (event == HWNAS_MODEL_EVENT_BATCH && epoch * batches + batch + 1 == *(int64_t *)ud)
        raise(SIGKILL);
    return 0;
}

/* Killed (SIGKILL) after step 10 with checkpoints every 4 steps, resumed
 * from the step-8 checkpoint: the weights of an uninterrupted run. */
static void test_resume_after_sigkill(void **state)
{
    (void)state;
    char ck[256];
    snprintf(ck, sizeof ck, "%s/train.snet", test_tmpdir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* a context of the child's own: the parent's pool threads are not
         * in the child */
        hwnas_context *cctx = NULL;
        hwnas_supernet *sn = NULL;
        int64_t at = 10;
        if (hwnas_context_new(&cctx, "threads=2") != HWNAS_OK ||
            hwnas_supernet_new(&sn, cctx, "cell", SN_OPTS) != HWNAS_OK)
            _exit(3);
        hwnas_supernet_train(sn, ds, NULL, NULL, train_opts, ck, kill_at_step, &at);
        _exit(4);
    }
    int status;
    assert_true(waitpid(pid, &status, 0) == pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    hwnas_supernet *r = NULL;
    assert_int_equal(hwnas_supernet_load(&r, ctx2, ck), HWNAS_OK);
    assert_int_equal(hwnas_supernet_steps_done(r), 8);
    assert_int_equal(hwnas_supernet_steps_total(r), 18);
    /* a resume with other options is refused, naming the option */
    assert_int_equal(hwnas_supernet_train(r, ds, NULL, NULL, "epochs=3;batch=8;lr=0.1;seed=7",
                                          ck, NULL, NULL),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "lr"));
    assert_int_equal(hwnas_supernet_train(r, ds, NULL, NULL, train_opts, ck, NULL, NULL),
                     HWNAS_OK);
    hwnas_supernet *u = make(ctx1);
    assert_int_equal(hwnas_supernet_train(u, ds, NULL, NULL, train_opts, NULL, NULL, NULL),
                     HWNAS_OK);
    size_t lr_, lu;
    uint8_t *br = bytes_of(r, &lr_), *bu = bytes_of(u, &lu);
    assert_int_equal(lr_, lu);
    assert_memory_equal(br, bu, lu);
    /* and the file written at the end reads back to the same bytes */
    hwnas_supernet *f = NULL;
    assert_int_equal(hwnas_supernet_load(&f, ctx1, ck), HWNAS_OK);
    size_t lf;
    uint8_t *bf = bytes_of(f, &lf);
    assert_int_equal(lf, lu);
    assert_memory_equal(bf, bu, lu);
    hwnas__free(ctx1, bf);
    hwnas__free(ctx2, br);
    hwnas__free(ctx1, bu);
    hwnas_supernet_free(f);
    hwnas_supernet_free(r);
    hwnas_supernet_free(u);
}

static void expect_load_error(const char *path, int code, const char *words)
{
    hwnas_supernet *sn = (hwnas_supernet *)1;
    assert_int_equal(hwnas_supernet_load(&sn, ctx1, path), code);
    assert_null(sn);
    if (!strstr(hwnas_error_last(), words))
        fail_msg("message \"%s\" lacks \"%s\"", hwnas_error_last(), words);
}

static void write_raw(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Write b[0..n) with its checksum (the last 8 bytes) redone, so that the
 * loader reaches the field a test has changed. */
static void write_rehashed(const char *path, uint8_t *b, size_t n)
{
    uint64_t h = hwnas__hash_bytes(b, n - 8);
    for (int k = 0; k < 8; k++)
        b[n - 8 + k] = (uint8_t)(h >> (8 * k));
    write_raw(path, b, n);
}

/* estimator:supernet over the weights file sp, on the test data. */
static hwnas_estimator *rating_estimator(const char *sp)
{
    char opts[2048];
    snprintf(opts, sizeof opts, "%s;weights=%s;calibration=24;evaluation=12;val_fraction=0.25",
             idx_opts, sp);
    hwnas_estimator *e = NULL;
    if (hwnas_estimator_new(&e, ctx1, "supernet", opts) != HWNAS_OK)
        fail_msg("%s", hwnas_error_last());
    return e;
}

static void test_bad_files(void **state)
{
    (void)state;
    char p[256];
    snprintf(p, sizeof p, "%s/bad.snet", test_tmpdir);
    expect_load_error("/nonexistent/x.snet", HWNAS_ENOTFOUND, "/nonexistent/x.snet");
    hwnas_supernet *sn = make(ctx1);
    assert_int_equal(hwnas_supernet_train(sn, ds, NULL, NULL, "epochs=1;batch=16", NULL, NULL,
                                          NULL),
                     HWNAS_OK);
    size_t len;
    uint8_t *b = bytes_of(sn, &len);
    write_raw(p, b, 7);
    expect_load_error(p, HWNAS_EFORMAT, "bad magic");
    write_raw(p, b, len / 2);
    expect_load_error(p, HWNAS_EFORMAT, "bad.snet");
    b[len / 3] ^= 0x40;
    write_raw(p, b, len);
    expect_load_error(p, HWNAS_EFORMAT, "checksum");
    b[len / 3] ^= 0x40;
    b[8] = 9; /* version 9, checksum redone */
    write_rehashed(p, b, len);
    expect_load_error(p, HWNAS_EVERSION, "version 9");
    b[8] = 2;
    b[20] = 0; /* channels (u64 at byte 20) 0 */
    write_rehashed(p, b, len);
    expect_load_error(p, HWNAS_EFORMAT, "channels");
    /* a good file round-trips */
    b[20] = 4;
    write_rehashed(p, b, len);
    hwnas_supernet *ok = NULL;
    assert_int_equal(hwnas_supernet_load(&ok, ctx1, p), HWNAS_OK);
    assert_string_equal(hwnas_supernet_options(ok), hwnas_supernet_options(sn));
    hwnas_supernet_free(ok);
    hwnas__free(ctx1, b);
    /* version 1 (before the macro space): an untrained cell supernet's
     * bytes are the same but for the version */
    hwnas_supernet *fresh = make(ctx1);
    b = bytes_of(fresh, &len);
    b[8] = 1;
    write_rehashed(p, b, len);
    assert_int_equal(hwnas_supernet_load(&ok, ctx1, p), HWNAS_OK);
    assert_string_equal(hwnas_supernet_options(ok), hwnas_supernet_options(fresh));
    hwnas_supernet_free(ok);
    hwnas_supernet_free(fresh);
    hwnas__free(ctx1, b);
    /* construction errors */
    hwnas_supernet *x = NULL;
    assert_int_equal(hwnas_supernet_new(&x, ctx1, "accelerator", NULL), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "cell, macro, cgp"));
    assert_int_equal(hwnas_supernet_new(&x, ctx1, "cell", "chanels=3"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "chanels"));
    assert_int_equal(hwnas_supernet_train(sn, ds, NULL, NULL, "epochs=0", NULL, NULL, NULL),
                     HWNAS_EINVAL);
    hwnas_supernet_free(sn);
}

/* estimator:supernet rates a search's candidates by key; a net that is not
 * the key's path under the supernet's options is refused. */
static void test_estimator(void **state)
{
    (void)state;
    char sp[256];
    snprintf(sp, sizeof sp, "%s/est.snet", test_tmpdir);
    hwnas_supernet *sn = make(ctx1);
    assert_int_equal(hwnas_supernet_train(sn, ds, NULL, NULL, "epochs=2;batch=16", sp, NULL,
                                          NULL),
                     HWNAS_OK);
    hwnas_supernet_free(sn);
    hwnas_estimator *e = rating_estimator(sp);
    hwnas_space *space = NULL;
    assert_int_equal(hwnas_space_new(&space, ctx1, "cell", SN_OPTS), HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_new(&net, ctx1), HWNAS_OK);
    double v[3], w[3];
    char *key;
    assert_int_equal(hwnas_space_decode(space, paths[6], net), HWNAS_OK);
    assert_int_equal(hwnas_space_format(space, paths[6], &key), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 1, v), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 2, w), HWNAS_OK);
    assert_true(v[0] >= 0 && v[0] <= 100 && v[1] > 0 && v[2] >= 0);
    assert_true(v[0] == w[0]); /* no randomness in rating */
    /* the net of another genotype under that key */
    assert_int_equal(hwnas_space_decode(space, paths[4], net), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 1, v), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "space's options differ"));
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 1, v), HWNAS_EINVAL);
    hwnas_free(key);
    hwnas_net_free(net);
    hwnas_space_free(space);
    hwnas_estimator_free(e);
    assert_int_equal(hwnas_estimator_new(&e, ctx1, "supernet", idx_opts), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "weights"));

    /* a search over the supernet, its best two retrained from scratch by
     * the refinement stage */
    char dir[256], sopts[4096], est[2048];
    snprintf(dir, sizeof dir, "%s/search", test_tmpdir);
    char inner[2048], *q = inner;
    for (const char *c = idx_opts; *c; c++) { /* quotes inside a quoted value */
        if (*c == '"' || *c == '\\')
            *q++ = '\\';
        *q++ = *c;
    }
    *q = 0;
    snprintf(sopts, sizeof sopts, "out=%s;budget=6;objectives=accuracy:max;refine=2;"
             "refine_estimator=\"accuracy:%s;epochs=1;batch=16;val_fraction=0.25\"", dir,
             inner);
    hwnas_search *s = NULL;
    if (hwnas_search_new(&s, ctx1, "cell", SN_OPTS, "random", NULL, sopts) != HWNAS_OK)
        fail_msg("search: %s", hwnas_error_last());
    snprintf(est, sizeof est, "%s;weights=%s;calibration=24;evaluation=12;val_fraction=0.25",
             idx_opts, sp);
    if (hwnas_search_add_estimator(s, "supernet", est) != HWNAS_OK)
        fail_msg("add: %s", hwnas_error_last());
    if (hwnas_search_run(s) != HWNAS_OK)
        fail_msg("run: %s", hwnas_error_last());
    assert_int_equal(hwnas_search_count(s), 6);
    hwnas_search_free(s);
    char results[512];
    snprintf(results, sizeof results, "%s/journal.tsv", dir);
    FILE *f = fopen(results, "r");
    assert_non_null(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* two refinement records ("R"), after the six evaluations */
    char *r1 = strstr(buf, "\nR\t");
    assert_non_null(r1);
    assert_non_null(strstr(r1 + 1, "\nR\t"));
}


#define CGP_A "rows=2;cols=4;levels_back=2;input_channels=1;input_size=8;classes=4"
#define CGP_B "rows=1;cols=5;levels_back=5;input_channels=1;input_size=8;classes=4;stem=4;" \
              "min_size=2"
#define CGP_NG 12 /* genes per grid node */
#define CGP_MAX_GENES (8 * CGP_NG + 2)

static hwnas_supernet *make_cgp(hwnas_context *ctx, const char *opts)
{
    hwnas_supernet *sn = NULL;
    if (hwnas_supernet_new(&sn, ctx, "cgp", opts) != HWNAS_OK)
        fail_msg("cgp supernet: %s", hwnas_error_last());
    return sn;
}

/* ---- the macro space (supernet:ofa) ----------------------------------- */

#define MACRO_NET "input_channels=1;input_size=8;classes=4;stem_channels=4;channels=4,8;" \
                  "strides=1,2;widths=0.5,1;divisor=2;min_blocks=1;max_blocks=2;"          \
                  "head_channels=8;se_ratio=0.25"
#define MACRO_GENES 14 /* 2 stages x (blocks, width, mul, 2 x (op, se)) */

static hwnas_supernet *make_macro(hwnas_context *ctx)
{
    hwnas_supernet *sn = NULL;
    if (hwnas_supernet_new(&sn, ctx, "macro", MACRO_NET ";seed=5") != HWNAS_OK)
        fail_msg("macro supernet: %s", hwnas_error_last());
    return sn;
}

/* Genotypes of space:macro that matter: every op in a stage's first slot
 * (a skip there is a projection or, with equal widths, the identity),
 * both depths and widths, squeeze-excitation on and off. */
static const uint32_t macro_paths[][MACRO_GENES] = {
    {1, 1, 0, 7, 1, 7, 1, 1, 1, 0, 7, 1, 7, 1}, /* the largest */
    {0, 0, 0, 2, 0, 2, 0, 0, 0, 0, 2, 0, 2, 0}, /* the smallest */
    {1, 0, 0, 8, 0, 0, 0, 1, 1, 0, 3, 1, 8, 0}, /* skip (projection), conv3; ir1 k5 se, skip */
    {1, 1, 0, 1, 0, 8, 1, 0, 0, 0, 4, 0, 6, 1}, /* conv5, skip (identity); ir3 k3 */
    {0, 0, 0, 5, 1, 3, 0, 1, 0, 0, 8, 0, 2, 0}, /* ir3 k5 se; skip (projection) */
    {1, 0, 0, 6, 0, 4, 1, 1, 1, 0, 0, 0, 1, 1}, /* ir6 k3, ir3 k3 se; conv3, conv5 */
};

/* The stand-alone check of one genotype of n_genes: the supernet's path
 * is the space's own network (nodes, names, hash) and, with its weights
 * copied in, computes the same outputs bit for bit. */
static void check_path(hwnas_supernet *sn, hwnas_space *space, hwnas_net *net,
                       const uint32_t *g, size_t n_genes)
{
    float images[3 * H * H];
    for (size_t k = 0; k < sizeof images / sizeof images[0]; k++)
        images[k] = (float)((k * 29) % 17) / 8.0f - 1.0f;
    assert_int_equal(hwnas_space_decode(space, g, net), HWNAS_OK);
    hwnas_model *sub = NULL, *alone = NULL;
    if (hwnas_supernet_subnet(&sub, sn, g) != HWNAS_OK)
        fail_msg("subnet: %s", hwnas_error_last());
    if (!hwnas_net_equal(net, hwnas_model_net(sub))) {
        char *a = NULL, *b = NULL;
        hwnas_net_format(net, &a);
        hwnas_net_format(hwnas_model_net(sub), &b);
        fail_msg("space:\n%s\nsupernet:\n%s", a, b);
    }
    assert_true(hwnas_net_hash(net) == hwnas_net_hash(hwnas_model_net(sub)));
    assert_int_equal(hwnas_model_new(&alone, ctx1, net, 777), HWNAS_OK);
    uint8_t *buf;
    size_t len;
    assert_int_equal(hwnas_model_save_buffer(&buf, &len, sub), HWNAS_OK);
    assert_int_equal(hwnas_model_load_buffer(alone, buf, len, NULL), HWNAS_OK);
    hwnas_free(buf);
    float pa[3 * 4], pb[3 * 4];
    assert_int_equal(hwnas_model_predict(pa, NULL, sub, images, 3), HWNAS_OK);
    assert_int_equal(hwnas_model_predict(pb, NULL, alone, images, 3), HWNAS_OK);
    assert_memory_equal(pa, pb, sizeof pa);
    for (size_t k = 0; k < 12; k++)
        assert_true(isfinite(pa[k]));
    /* the key a search hands the estimator names the same genotype */
    char *text;
    uint32_t back[CGP_MAX_GENES > MACRO_GENES ? CGP_MAX_GENES : MACRO_GENES];
    assert_true(n_genes <= sizeof back / sizeof back[0]);
    assert_int_equal(hwnas_space_format(space, g, &text), HWNAS_OK);
    assert_int_equal(hwnas_supernet_parse_key(back, sn, text), HWNAS_OK);
    assert_memory_equal(back, g, n_genes * sizeof *g);
    hwnas_free(text);
    hwnas_model_free(sub);
    hwnas_model_free(alone);
}

static void test_macro_path_is_space_network(void **state)
{
    (void)state;
    hwnas_supernet *sn = make_macro(ctx1);
    assert_string_equal(hwnas_supernet_space(sn), "macro");
    hwnas_space *space = NULL;
    assert_int_equal(hwnas_space_new(&space, ctx1, "macro", MACRO_NET), HWNAS_OK);
    assert_int_equal(hwnas_supernet_choice_count(sn), hwnas_space_gene_count(space));
    for (size_t i = 0; i < MACRO_GENES; i++)
        assert_int_equal(hwnas_supernet_choice_cardinality(sn, i),
                         hwnas_space_gene_cardinality(space, i));
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_new(&net, ctx1), HWNAS_OK);
    for (size_t p = 0; p < sizeof macro_paths / sizeof macro_paths[0]; p++)
        check_path(sn, space, net, macro_paths[p], MACRO_GENES);
    /* and 40 random genotypes of the space */
    hwnas_rng *rng = NULL;
    assert_int_equal(hwnas_rng_new(&rng, ctx1, 11, 0), HWNAS_OK);
    uint32_t g[MACRO_GENES];
    for (int k = 0; k < 40; k++) {
        assert_int_equal(hwnas_space_sample(space, rng, g), HWNAS_OK);
        check_path(sn, space, net, g, MACRO_GENES);
    }
    hwnas_rng_free(rng);
    /* the options read back as the same supernet and space */
    hwnas_supernet *again = NULL;
    assert_int_equal(hwnas_supernet_new(&again, ctx1, "macro", hwnas_supernet_options(sn)),
                     HWNAS_OK);
    assert_string_equal(hwnas_supernet_options(again), hwnas_supernet_options(sn));
    hwnas_supernet_free(again);
    /* bad keys and choices name what is wrong */
    assert_int_equal(hwnas_supernet_parse_key(g, sn, "1,1,0"), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "position"));
    assert_int_equal(hwnas_supernet_parse_key(g, sn, "1,2,0,0,0,0,0,0,0,0,0,0,0,0"),
                     HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "choice 1 = 2"));
    memcpy(g, macro_paths[0], sizeof g);
    g[3] = 9;
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_supernet_subnet(&m, sn, g), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "choice 3"));
    hwnas_supernet *x = NULL;
    assert_int_equal(hwnas_supernet_new(&x, ctx1, "macro", "channels=4,8;strides=1"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "channels and strides"));
    assert_int_equal(hwnas_supernet_new(&x, ctx1, "macro", "widths=1,0.5"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "ascending"));
    hwnas_net_free(net);
    hwnas_space_free(space);
    hwnas_supernet_free(sn);
}

/* Slices: the largest path holds whole full nodes; a smaller one the
 * first channels and the centre of the kernel. */
static void test_macro_slices(void **state)
{
    (void)state;
    hwnas_supernet *sn = make_macro(ctx1);
    const hwnas__engine *fe = sn->full->eng;
    hwnas_model *m;
    size_t *map;
    assert_int_equal(hwnas__sn_path_model(&m, sn, macro_paths[0], &map), HWNAS_OK);
    size_t whole = 0;
    for (size_t i = 0; i < m->eng->n; i++) {
        if (map[i] == SIZE_MAX)
            continue;
        const hwnas__eng_node *a = &m->eng->nodes[i], *f = &fe->nodes[map[i]];
        assert_int_equal(a->n_p, f->n_p);
        assert_memory_equal(m->eng->params + a->p_off, fe->params + f->p_off, a->n_p * 4);
        whole++;
    }
    /* stem 2, 4 mbconvs x 8 (expand, dw, se x 2, project and their 3 bn), head 2, fc */
    assert_int_equal(whole, 2 + 4 * 8 + 2 + 1);
    hwnas__free(ctx1, map);
    hwnas_model_free(m);
    /* macro_paths[2]: stage 0 slot 1 is conv3 at width 0.5 (2 channels)
     * on 2 input channels; the full node is a 5x5 conv of 4 x 4 */
    assert_int_equal(hwnas__sn_path_model(&m, sn, macro_paths[2], &map), HWNAS_OK);
    size_t checked = 0;
    for (size_t i = 0; i < m->eng->n; i++) {
        const hwnas__eng_node *a = &m->eng->nodes[i];
        if (map[i] == SIZE_MAX || a->kind != HWNAS_NET_CONV2D || a->a.kh != 3 ||
            fe->nodes[map[i]].a.kh != 5) /* not the stem's 3x3 */
            continue;
        const hwnas__eng_node *f = &fe->nodes[map[i]];
        size_t ai = m->eng->nodes[a->in[0]].c, fi = fe->nodes[f->in[0]].c;
        assert_true(a->c == 2 && ai == 2 && f->c == 4 && fi == 4);
        for (size_t o = 0; o < a->c; o++)
            for (size_t c = 0; c < ai; c++)
                for (size_t y = 0; y < 3; y++)
                    for (size_t x = 0; x < 3; x++)
                        assert_true(m->eng->params[a->p_off + ((o * ai + c) * 3 + y) * 3 + x] ==
                                    fe->params[f->p_off + ((o * fi + c) * 5 + y + 1) * 5 + x + 1]);
        checked++;
    }
    assert_int_equal(checked, 1);
    hwnas__free(ctx1, map);
    hwnas_model_free(m);
    hwnas_supernet_free(sn);
}

/* One SPOS step of a macro or CGP supernet along path g equals one SGD
 * step of the stand-alone network (bit for bit), and moves no parameter
 * outside the path's slices; every parameter of the path is a slice of its
 * own (no two share a supernet parameter). */
static void check_step_on_slices(hwnas_supernet *sn, const uint32_t *g)
{
    hwnas_model *alone;
    uint32_t *pidx;
    assert_int_equal(hwnas__sn_path_slices(&alone, sn, g, NULL, &pidx, NULL), HWNAS_OK);
    size_t np_full = sn->full->eng->n_params;
    float *before = malloc(np_full * sizeof *before);
    assert_non_null(before);
    memcpy(before, sn->full->eng->params, np_full * sizeof *before);
    hwnas__engine *e = alone->eng;
    standalone_step(e);
    assert_int_equal(hwnas_supernet_train(sn, ds, NULL, NULL, STEP_OPTS, NULL, NULL, NULL),
                     HWNAS_OK);
    hwnas_model *after;
    assert_int_equal(hwnas_supernet_subnet(&after, sn, g), HWNAS_OK);
    assert_int_equal(after->eng->n_params, e->n_params);
    assert_memory_equal(after->eng->params, e->params, e->n_params * sizeof(float));
    uint8_t *in = calloc(np_full, 1);
    assert_non_null(in);
    for (size_t k = 0; k < e->n_params; k++) {
        assert_true(pidx[k] < np_full);
        assert_false(in[pidx[k]]);
        in[pidx[k]] = 1;
    }
    size_t off = 0, moved = 0;
    for (size_t k = 0; k < np_full; k++) {
        int same = before[k] == sn->full->eng->params[k];
        if (!in[k]) {
            assert_true(same);
            off++;
        } else
            moved += !same;
    }
    assert_true(off > 0 && moved > 0);
    free(in);
    free(before);
    hwnas__free(ctx1, pidx);
    hwnas_model_free(alone);
    hwnas_model_free(after);
}

static void test_macro_step_matches_standalone(void **state)
{
    (void)state;
    hwnas_supernet *sn = make_macro(ctx1);
    uint32_t g[MACRO_GENES];
    hwnas__sn_sample(sn, g, 3, 0, 0);
    check_step_on_slices(sn, g);
    hwnas_supernet_free(sn);
}

/* The cell space's sandwich rule: the all-conv3x3 cell is trained every
 * step beside n uniform paths - the same bytes at 1 and 2 threads, and
 * after one step the parameters of that cell's slices have moved (with
 * SPOS one step moves one path only: a fifth of them here). */
static void test_cell_sandwich(void **state)
{
    (void)state;
    const char *opts = "epochs=1;batch=48;lr=0.05;seed=4;sandwich=1";
    hwnas_supernet *a = make(ctx1), *b = make(ctx2), *s = make(ctx1);
    const uint32_t conv3[6] = {3, 3, 3, 3, 3, 3};
    hwnas_model *m;
    uint32_t *pidx;
    assert_int_equal(hwnas__sn_path_slices(&m, a, conv3, NULL, &pidx, NULL), HWNAS_OK);
    size_t np = a->full->eng->n_params, n = m->eng->n_params;
    float *before = malloc(np * sizeof *before);
    memcpy(before, a->full->eng->params, np * sizeof *before);
    assert_int_equal(hwnas_supernet_train(a, ds, NULL, NULL, opts, NULL, NULL, NULL), HWNAS_OK);
    assert_int_equal(hwnas_supernet_train(b, ds, NULL, NULL, opts, NULL, NULL, NULL), HWNAS_OK);
    assert_int_equal(hwnas_supernet_train(s, ds, NULL, NULL, "epochs=1;batch=48;lr=0.05;seed=4",
                                          NULL, NULL, NULL),
                     HWNAS_OK);
    assert_memory_equal(a->full->eng->params, b->full->eng->params, np * sizeof(float));
    size_t moved = 0, moved_spos = 0;
    for (size_t k = 0; k < n; k++) {
        moved += a->full->eng->params[pidx[k]] != before[pidx[k]];
        moved_spos += s->full->eng->params[pidx[k]] != before[pidx[k]];
    }
    /* all but a handful: a batch-norm shift of 0 whose gradient, a sum
     * over the batch near 1e-10, rounds to exactly 0 with some BLAS kernels
     * (3 of 23,200 with OpenBLAS's AVX-512 ones) keeps its value */
    assert_true(moved >= n - n / 1000);
    assert_true(moved_spos < n / 2);
    free(before);
    hwnas__free(ctx1, pidx);
    hwnas_model_free(m);
    hwnas_supernet_free(a);
    hwnas_supernet_free(b);
    hwnas_supernet_free(s);
}

/* The sandwich rule with in-place distillation: deterministic at 1 and 2
 * threads, saved and resumed with its options, refused where it has no
 * meaning. */
static void test_macro_sandwich(void **state)
{
    (void)state;
    const char *opts = "epochs=2;batch=16;lr=0.05;seed=2;sandwich=1;distill=1";
    hwnas_supernet *a = make_macro(ctx1), *b = make_macro(ctx2), *c = make_macro(ctx1);
    assert_int_equal(hwnas_supernet_train(a, ds, NULL, NULL, opts, NULL, NULL, NULL), HWNAS_OK);
    assert_int_equal(hwnas_supernet_train(b, ds, NULL, NULL, opts, NULL, NULL, NULL), HWNAS_OK);
    assert_int_equal(hwnas_supernet_steps_done(a), 6);
    size_t la, lb;
    uint8_t *ba = bytes_of(a, &la), *bb = bytes_of(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    /* without distillation the weights differ */
    assert_int_equal(hwnas_supernet_train(c, ds, NULL, NULL,
                                          "epochs=2;batch=16;lr=0.05;seed=2;sandwich=1", NULL,
                                          NULL, NULL),
                     HWNAS_OK);
    size_t lc;
    uint8_t *bc = bytes_of(c, &lc);
    assert_true(lc != la || memcmp(bc, ba, la) != 0);
    /* the file keeps the recipe: a resume with another one is refused */
    char p[256];
    snprintf(p, sizeof p, "%s/sandwich.snet", test_tmpdir);
    assert_int_equal(hwnas_supernet_save(a, p), HWNAS_OK);
    hwnas_supernet *r = NULL;
    assert_int_equal(hwnas_supernet_load(&r, ctx1, p), HWNAS_OK);
    size_t lr_;
    uint8_t *br = bytes_of(r, &lr_);
    assert_int_equal(lr_, la);
    assert_memory_equal(br, ba, la);
    assert_int_equal(hwnas_supernet_train(r, ds, NULL, NULL,
                                          "epochs=2;batch=16;lr=0.05;seed=2;sandwich=2;distill=1",
                                          NULL, NULL, NULL),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "sandwich"));
    /* options text that parses but is not canonical is refused (it would
     * not write back the same bytes) */
    uint8_t *nb = bytes_of(a, &la);
    uint8_t *at = memmem(nb, la, "se_ratio=0.25", 13);
    assert_non_null(at);
    memcpy(at, "se_ratio=.250", 13);
    char q[256];
    snprintf(q, sizeof q, "%s/noncanon.snet", test_tmpdir);
    write_rehashed(q, nb, la);
    expect_load_error(q, HWNAS_EFORMAT, "canonical");
    hwnas__free(ctx1, nb);
    double acc;
    assert_int_equal(hwnas_supernet_rate(&acc, r, macro_paths[3], ds, 32, ds, 0), HWNAS_OK);
    assert_true(acc >= 0 && acc <= 1);
    /* distill needs the sandwich; a CGP grid has none */
    hwnas_supernet *x = make_macro(ctx1), *cg = make_cgp(ctx1, CGP_B);
    assert_int_equal(hwnas_supernet_train(x, ds, NULL, NULL, "distill=1", NULL, NULL, NULL),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "sandwich"));
    assert_int_equal(hwnas_supernet_train(cg, ds, NULL, NULL, "sandwich=1", NULL, NULL, NULL),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "CGP"));
    hwnas_supernet_free(x);
    hwnas_supernet_free(cg);
    hwnas__free(ctx1, ba);
    hwnas__free(ctx2, bb);
    hwnas__free(ctx1, bc);
    hwnas__free(ctx1, br);
    hwnas_supernet_free(r);
    hwnas_supernet_free(a);
    hwnas_supernet_free(b);
    hwnas_supernet_free(c);
}

/* estimator:supernet rates space:macro's candidates by their genotype
 * text; a space with other options is refused. */
static void test_macro_estimator(void **state)
{
    (void)state;
    char sp[256];
    snprintf(sp, sizeof sp, "%s/macro.snet", test_tmpdir);
    hwnas_supernet *sn = make_macro(ctx1);
    assert_int_equal(hwnas_supernet_train(sn, ds, NULL, NULL, "epochs=1;batch=16", sp, NULL,
                                          NULL),
                     HWNAS_OK);
    hwnas_supernet_free(sn);
    hwnas_estimator *e = rating_estimator(sp);
    hwnas_space *space = NULL, *other = NULL;
    assert_int_equal(hwnas_space_new(&space, ctx1, "macro", MACRO_NET), HWNAS_OK);
    assert_int_equal(hwnas_space_new(&other, ctx1, "macro", MACRO_NET ";head_channels=16"),
                     HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_new(&net, ctx1), HWNAS_OK);
    double v[3];
    char *key;
    assert_int_equal(hwnas_space_decode(space, macro_paths[5], net), HWNAS_OK);
    assert_int_equal(hwnas_space_format(space, macro_paths[5], &key), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 1, v), HWNAS_OK);
    assert_true(v[0] >= 0 && v[0] <= 100 && v[1] > 0 && v[2] >= 0);
    assert_int_equal(hwnas_space_decode(other, macro_paths[5], net), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 1, v), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "space's options differ"));
    assert_int_equal(hwnas_estimator_estimate(e, net, "|nor_conv_3x3~0|", 1, v), HWNAS_EFORMAT);
    hwnas_free(key);
    hwnas_net_free(net);
    hwnas_space_free(space);
    hwnas_space_free(other);
    hwnas_estimator_free(e);
}

/* ---- the CGP space (supernet:cgp) -------------------------------------- */

/* For both grids: every function on the output node (12 random genotypes
 * each, so with random parameters and inputs behind it), then 60 wholly
 * random genotypes; 180 in all per grid. */
static void test_cgp_path_is_space_network(void **state)
{
    (void)state;
    const char *grids[2] = {CGP_A, CGP_B};
    for (int gi = 0; gi < 2; gi++) {
        hwnas_supernet *sn = make_cgp(ctx1, grids[gi]);
        assert_string_equal(hwnas_supernet_space(sn), "cgp");
        hwnas_space *space = NULL;
        assert_int_equal(hwnas_space_new(&space, ctx1, "cgp", grids[gi]), HWNAS_OK);
        size_t ng = hwnas_space_gene_count(space);
        assert_true(ng <= CGP_MAX_GENES);
        assert_int_equal(hwnas_supernet_choice_count(sn), ng);
        for (size_t i = 0; i < ng; i++)
            assert_int_equal(hwnas_supernet_choice_cardinality(sn, i),
                             hwnas_space_gene_cardinality(space, i));
        size_t nodes = (ng - 2) / CGP_NG;
        hwnas_net *net = NULL;
        assert_int_equal(hwnas_net_new(&net, ctx1), HWNAS_OK);
        hwnas_rng *rng = NULL;
        assert_int_equal(hwnas_rng_new(&rng, ctx1, 11 + (uint64_t)gi, 0), HWNAS_OK);
        uint32_t g[CGP_MAX_GENES];
        for (uint32_t f = 0; f < 10; f++)
            for (int k = 0; k < 12; k++) {
                assert_int_equal(hwnas_space_sample(space, rng, g), HWNAS_OK);
                g[nodes * CGP_NG] = (uint32_t)nodes - 1; /* output: the last node */
                g[(nodes - 1) * CGP_NG] = f;
                check_path(sn, space, net, g, ng);
            }
        for (int k = 0; k < 60; k++) {
            assert_int_equal(hwnas_space_sample(space, rng, g), HWNAS_OK);
            check_path(sn, space, net, g, ng);
        }
        hwnas_rng_free(rng);
        hwnas_supernet *again = NULL;
        assert_int_equal(hwnas_supernet_new(&again, ctx1, "cgp", hwnas_supernet_options(sn)),
                         HWNAS_OK);
        assert_string_equal(hwnas_supernet_options(again), hwnas_supernet_options(sn));
        hwnas_supernet_free(again);
        /* bad keys and choices name what is wrong */
        assert_int_equal(hwnas_supernet_parse_key(g, sn, "0,0,0"), HWNAS_EFORMAT);
        assert_non_null(strstr(hwnas_error_last(), "position"));
        assert_int_equal(hwnas_supernet_parse_key(g, sn, "0,1,0"), HWNAS_EFORMAT);
        assert_non_null(strstr(hwnas_error_last(), "choice 1 = 1"));
        g[0] = 10;
        hwnas_model *m = NULL;
        assert_int_equal(hwnas_supernet_subnet(&m, sn, g), HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "choice 0"));
        hwnas_net_free(net);
        hwnas_space_free(space);
        hwnas_supernet_free(sn);
    }
    hwnas_supernet *x = NULL;
    assert_int_equal(hwnas_supernet_new(&x, ctx1, "cgp", "rows=16;cols=17"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "rows*cols"));
    assert_int_equal(hwnas_supernet_new(&x, ctx1, "cgp", "multipliers=exact"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "multipliers"));
}

/* Slices of the choice blocks: a 2x2 conv without bias on the input is the
 * top-left corner of the node's 3x3 conv (first 32 of 128 outputs, first
 * input channel), its PReLU the first 32 slopes; a kernel-3 inverted
 * residual of expansion 1 takes the first channels of the 5x5 depthwise
 * layer of 4 x 128, its centre. */
static void test_cgp_slices(void **state)
{
    (void)state;
    hwnas_supernet *sn = make_cgp(ctx1, CGP_A);
    const hwnas__engine *fe = sn->full->eng;
    uint32_t g[CGP_MAX_GENES] = {0};
    size_t ng = hwnas_supernet_choice_count(sn);
    /* node 0: conv k2, 32 channels, stride 1, prelu, no bias; output node 0 */
    g[0] = 4, g[3] = 0, g[4] = 0, g[5] = 0, g[6] = 3, g[7] = 0;
    g[ng - 2] = 0;
    hwnas_model *m;
    size_t *map;
    assert_int_equal(hwnas__sn_path_model(&m, sn, g, &map), HWNAS_OK);
    size_t checked = 0;
    for (size_t i = 0; i < m->eng->n; i++) {
        const hwnas__eng_node *a = &m->eng->nodes[i];
        if (map[i] == SIZE_MAX)
            continue;
        const hwnas__eng_node *f = &fe->nodes[map[i]];
        const float *pa = m->eng->params + a->p_off, *pf = fe->params + f->p_off;
        if (a->kind == HWNAS_NET_CONV2D) {
            assert_true(a->c == 32 && a->a.kh == 2 && !a->a.bias && f->c == 128 &&
                        f->a.kh == 3 && f->a.bias && fe->nodes[f->in[0]].c == 128);
            for (size_t o = 0; o < 32; o++)
                for (size_t y = 0; y < 2; y++)
                    for (size_t x = 0; x < 2; x++)
                        assert_true(pa[(o * 2 + y) * 2 + x] == pf[(o * 128 * 3 + y) * 3 + x]);
            checked++;
        } else if (a->kind == HWNAS_NET_ACT) {
            assert_true(a->n_p == 32 && f->n_p == 128);
            assert_memory_equal(pa, pf, 32 * sizeof *pa);
            checked++;
        }
    }
    assert_int_equal(checked, 2);
    hwnas__free(ctx1, map);
    hwnas_model_free(m);
    /* node 0: inverted, kernel 3, expansion 0 (none) on the input's one
     * channel */
    memset(g, 0, sizeof g);
    g[0] = 7, g[3] = 0, g[9] = 0;
    assert_int_equal(hwnas__sn_path_model(&m, sn, g, &map), HWNAS_OK);
    checked = 0;
    for (size_t i = 0; i < m->eng->n; i++) {
        const hwnas__eng_node *a = &m->eng->nodes[i];
        if (map[i] == SIZE_MAX || a->kind != HWNAS_NET_DWCONV2D)
            continue;
        const hwnas__eng_node *f = &fe->nodes[map[i]];
        assert_true(a->c == 1 && a->a.kh == 3 && f->c == 512 && f->a.kh == 5);
        const float *pa = m->eng->params + a->p_off, *pf = fe->params + f->p_off;
        for (size_t y = 0; y < 3; y++)
            for (size_t x = 0; x < 3; x++)
                assert_true(pa[y * 3 + x] == pf[(y + 1) * 5 + x + 1]);
        checked++;
    }
    assert_int_equal(checked, 1);
    hwnas__free(ctx1, map);
    hwnas_model_free(m);
    hwnas_supernet_free(sn);
}

static void test_cgp_step_matches_standalone(void **state)
{
    (void)state;
    hwnas_supernet *sn = make_cgp(ctx1, CGP_B);
    uint32_t g[CGP_MAX_GENES];
    hwnas__sn_sample(sn, g, 3, 0, 0);
    check_step_on_slices(sn, g);
    hwnas_supernet_free(sn);
}

/* Training with a checkpoint, loading it, and estimator:supernet over
 * space:cgp keys; a space of other options (int8, another stem) is refused
 * by the hash check. */
static void test_cgp_estimator(void **state)
{
    (void)state;
    char sp[256];
    snprintf(sp, sizeof sp, "%s/cgp.snet", test_tmpdir);
    hwnas_supernet *sn = make_cgp(ctx1, CGP_B);
    assert_int_equal(hwnas_supernet_train(sn, ds, NULL, NULL, "epochs=1;batch=16", sp, NULL,
                                          NULL),
                     HWNAS_OK);
    hwnas_supernet *back = NULL;
    assert_int_equal(hwnas_supernet_load(&back, ctx1, sp), HWNAS_OK);
    assert_string_equal(hwnas_supernet_space(back), "cgp");
    assert_string_equal(hwnas_supernet_options(back), hwnas_supernet_options(sn));
    assert_int_equal(hwnas_supernet_steps_done(back), 3);
    assert_memory_equal(back->full->eng->params, sn->full->eng->params,
                        sn->full->eng->n_params * sizeof(float));
    hwnas_supernet_free(back);
    /* options out of canonical order, or of another space's kind, are
     * refused by name */
    size_t la;
    uint8_t *nb = bytes_of(sn, &la);
    uint8_t *at = memmem(nb, la, "min_size=2;stem=4", 17);
    assert_non_null(at);
    memcpy(at, "stem=4;min_size=2", 17);
    char q[256];
    snprintf(q, sizeof q, "%s/cgp-noncanon.snet", test_tmpdir);
    write_rehashed(q, nb, la);
    expect_load_error(q, HWNAS_EFORMAT, "cgp options");
    memcpy(at, "stem=4;mul=exact", 16);
    write_rehashed(q, nb, la);
    expect_load_error(q, HWNAS_EFORMAT, "bad cgp options");
    hwnas__free(ctx1, nb);
    hwnas_supernet_free(sn);
    hwnas_estimator *e = rating_estimator(sp);
    hwnas_space *space = NULL, *int8 = NULL, *other = NULL;
    assert_int_equal(hwnas_space_new(&space, ctx1, "cgp", CGP_B), HWNAS_OK);
    assert_int_equal(hwnas_space_new(&int8, ctx1, "cgp", CGP_B ";bits=8"), HWNAS_OK);
    assert_int_equal(hwnas_space_new(&other, ctx1, "cgp",
                                     "rows=1;cols=5;levels_back=5;input_channels=1;"
                                     "input_size=8;classes=4;stem=6;min_size=2"),
                     HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_new(&net, ctx1), HWNAS_OK);
    hwnas_rng *rng = NULL;
    assert_int_equal(hwnas_rng_new(&rng, ctx1, 5, 0), HWNAS_OK);
    uint32_t g[CGP_MAX_GENES];
    double v[3];
    char *key;
    for (int k = 0; k < 5; k++) {
        assert_int_equal(hwnas_space_sample(space, rng, g), HWNAS_OK);
        assert_int_equal(hwnas_space_decode(space, g, net), HWNAS_OK);
        assert_int_equal(hwnas_space_format(space, g, &key), HWNAS_OK);
        if (hwnas_estimator_estimate(e, net, key, 1, v) != HWNAS_OK)
            fail_msg("%s", hwnas_error_last());
        assert_true(v[0] >= 0 && v[0] <= 100 && v[1] > 0 && v[2] >= 0);
        hwnas_free(key);
    }
    /* a conv node on the output, so the int8 net differs */
    g[5 * CGP_NG] = 4, g[4 * CGP_NG] = 4;
    assert_int_equal(hwnas_space_format(space, g, &key), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(int8, g, net), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 1, v), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "space's options differ"));
    assert_int_equal(hwnas_space_decode(other, g, net), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, key, 1, v), HWNAS_EINVAL);
    hwnas_free(key);
    hwnas_rng_free(rng);
    hwnas_net_free(net);
    hwnas_space_free(space);
    hwnas_space_free(int8);
    hwnas_space_free(other);
    hwnas_estimator_free(e);
}

/* Eight H x H images of (k % levels) / levels, labels k % 4. */
static int oom_data(hwnas_dataset **d, hwnas_context *ctx, int levels)
{
    float img[8 * H * H];
    int32_t lab[8];
    for (int k = 0; k < 8 * H * H; k++)
        img[k] = (float)(k % levels) / (float)levels;
    for (int k = 0; k < 8; k++)
        lab[k] = k % 4;
    return hwnas_dataset_from_float(d, ctx, img, lab, 8, 1, H, H, 4);
}

/* The out-of-memory walk over creation, a training step with a
 * checkpoint, loading, extraction and rating: ENOMEM, no leaks. */
#define CGP_ONE "rows=1;cols=1;levels_back=1;input_channels=1;input_size=8;classes=4;stem=4"

static int oom_step(hwnas_context *ctx, void *arg)
{
    (void)arg;
    char ck[256];
    snprintf(ck, sizeof ck, "%s/oom.snet", test_tmpdir);
    hwnas_dataset *d = NULL;
    hwnas_supernet *sn = NULL, *back = NULL;
    hwnas_model *m = NULL;
    double acc;
    int rc = oom_data(&d, ctx, 7);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_new(&sn, ctx, "cell", SN_OPTS);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_train(sn, d, NULL, NULL, "epochs=1;batch=8", ck, NULL, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_load(&back, ctx, ck);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_subnet(&m, back, paths[6]);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_rate(&acc, back, paths[6], d, 8, d, 4);
    hwnas_supernet *mac = NULL, *mback = NULL;
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_new(&mac, ctx, "macro", MACRO_NET);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_train(mac, d, NULL, NULL, "epochs=1;batch=8;sandwich=1;distill=1",
                                  ck, NULL, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_load(&mback, ctx, ck);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_rate(&acc, mback, macro_paths[2], d, 8, d, 4);
    hwnas_supernet_free(mac);
    hwnas_supernet_free(mback);
    hwnas_model_free(m);
    hwnas_supernet_free(back);
    hwnas_supernet_free(sn);
    hwnas_dataset_free(d);
    return rc;
}

/* The CGP supernet's own walk (its file I/O is the others' but for the
 * options text): creation, a training step, extraction and rating of a
 * one-node grid. */
static int oom_cgp_step(hwnas_context *ctx, void *arg)
{
    (void)arg;
    static const uint32_t g[CGP_NG + 2] = {0}; /* first choice of every gene */
    hwnas_dataset *d = NULL;
    hwnas_supernet *sn = NULL;
    hwnas_model *m = NULL;
    double acc;
    int rc = oom_data(&d, ctx, 5);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_new(&sn, ctx, "cgp", CGP_ONE);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_train(sn, d, NULL, NULL, "epochs=1;batch=8", NULL, NULL, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_subnet(&m, sn, g);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_rate(&acc, sn, g, d, 8, d, 4);
    hwnas_model_free(m);
    hwnas_supernet_free(sn);
    hwnas_dataset_free(d);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    test_oom_walk("supernet", oom_step, NULL);
    test_oom_walk("supernet cgp", oom_cgp_step, NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "oom") == 0) {
        const struct CMUnitTest oom[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests(oom, setup, teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_is_space_network),
        cmocka_unit_test(test_weights_shared),
        cmocka_unit_test(test_step_matches_standalone),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_resume_after_sigkill),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_estimator),
        cmocka_unit_test(test_macro_path_is_space_network),
        cmocka_unit_test(test_macro_slices),
        cmocka_unit_test(test_macro_step_matches_standalone),
        cmocka_unit_test(test_macro_sandwich),
        cmocka_unit_test(test_cell_sandwich),
        cmocka_unit_test(test_macro_estimator),
        cmocka_unit_test(test_cgp_path_is_space_network),
        cmocka_unit_test(test_cgp_slices),
        cmocka_unit_test(test_cgp_step_matches_standalone),
        cmocka_unit_test(test_cgp_estimator),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
