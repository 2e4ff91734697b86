/* hwnas_model_train_checkpoint (lib/engine/train_checkpoint.c): a run
 * stopped after an epoch, stopped inside one, or SIGKILLed inside one
 * resumes to the bits of an uninterrupted run; a finished checkpoint
 * returns at once; a checkpoint of another net, options or dataset, or a
 * corrupt one, is refused by name and left as it was; out-of-memory.
 * `test_train_checkpoint unit|oom`. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hwnas/hwnas.h"
#include "test_oom.h"
#include "test_tmpdir.h"

/* Batch-norm, dropout and augmentation: every stream a resume must replay. */
static const char *const NET = "hwnas-net 1\nx = input(shape=1x8x8)\n"
                               "conv(out=4, k=3, pad=1, bias=0)\nbn\nrelu\ndropout(p=0.2)\n"
                               "maxpool(k=2)\ngap\nlinear(out=3)\n";
static const char *const OPTS = "epochs=3;batch=8;lr=0.1;warmup=0.5;weight_decay=5e-4;"
                                "augment=1;crop_pad=1;seed=4;init=he";
#define N 36 /* 5 batches an epoch, the last short */

static hwnas_context *ctx;

static hwnas_dataset *dataset(hwnas_context *c, int label_shift)
{
    float img[N * 64];
    int32_t lab[N];
    for (int k = 0; k < N * 64; k++)
        img[k] = (float)((k * 37) % 23) / 11.0f - 1.0f;
    for (int k = 0; k < N; k++)
        lab[k] = (k + label_shift) % 3;
    hwnas_dataset *d = NULL;
    assert_int_equal(hwnas_dataset_from_float(&d, c, img, lab, N, 1, 8, 8, 3), HWNAS_OK);
    return d;
}

static hwnas_model *model(const char *text, uint64_t seed)
{
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, text, "ck.net"), HWNAS_OK);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, seed), HWNAS_OK);
    hwnas_net_free(net);
    return m;
}

static void weights(uint8_t **b, size_t *len, const hwnas_model *m)
{
    assert_int_equal(hwnas_model_save_buffer(b, len, m), HWNAS_OK);
}

static void assert_same_weights(const hwnas_model *a, const hwnas_model *b)
{
    uint8_t *x, *y;
    size_t lx, ly;
    weights(&x, &lx, a);
    weights(&y, &ly, b);
    assert_int_equal(lx, ly);
    assert_memory_equal(x, y, lx);
    hwnas_free(x);
    hwnas_free(y);
    assert_memory_equal(&(double){hwnas_model_train_loss(a)},
                        &(double){hwnas_model_train_loss(b)}, sizeof(double));
}

typedef struct path_buf {
    char s[128];
} path_buf;

/* A file of the scratch directory (test_tmpdir is at most 63 bytes). */
static path_buf path(const char *name)
{
    path_buf p;
    snprintf(p.s, sizeof p.s, "%s/%s", test_tmpdir, name);
    return p;
}

/* Stops (or kills the process) at epoch ep, batch b (-1: after the epoch). */
typedef struct stop_at {
    int64_t ep, b;
    int kill;
    int epochs_heard;
} stop_at;

static int stopper(int event, int64_t epoch, int64_t epochs, int64_t batch, int64_t batches,
                   double loss, double acc, double lr, void *ud)
{
    (void)epochs, (void)batches, (void)loss, (void)acc, (void)lr;
    stop_at *s = ud;
    if (event == HWNAS_MODEL_EVENT_EPOCH)
        s->epochs_heard++;
    int here = epoch == s->ep && ((s->b < 0 && event == HWNAS_MODEL_EVENT_EPOCH) ||
                                  (s->b >= 0 && event == HWNAS_MODEL_EVENT_BATCH && batch == s->b));
    if (here && s->kill)
        raise(SIGKILL);
    return here;
}

static int setup(void **state)
{
    (void)state;
    return test_tmpdir_make("hwnas-tck") || hwnas_context_new(&ctx, "threads=2");
}

static int teardown(void **state)
{
    (void)state;
    hwnas_context_free(ctx);
    return test_tmpdir_remove();
}

static void test_resume_same_bits(void **state)
{
    (void)state;
    hwnas_dataset *d = dataset(ctx, 0);
    hwnas_model *ref = model(NET, 1);
    assert_int_equal(hwnas_model_train(ref, d, OPTS, NULL, NULL), HWNAS_OK);

    path_buf pa = path("a.tck"), pb = path("b.tck");
    /* uninterrupted, with a checkpoint: the same run */
    hwnas_model *a = model(NET, 1);
    assert_int_equal(hwnas_model_train_checkpoint(a, d, OPTS, pa.s, NULL, NULL),
                     HWNAS_OK);
    assert_same_weights(a, ref);

    /* stopped after epoch 0, then inside epoch 1: resumed each time by a
     * model whose own weights differ (they come from the file) */
    stop_at s1 = {0, -1, 0, 0}, s2 = {1, 2, 0, 0}, s3 = {-1, -1, 0, 0};
    hwnas_model *b = model(NET, 2);
    assert_int_equal(hwnas_model_train_checkpoint(b, d, OPTS, pb.s, stopper, &s1),
                     HWNAS_EUSER);
    hwnas_model_free(b);
    b = model(NET, 3);
    assert_int_equal(hwnas_model_train_checkpoint(b, d, OPTS, pb.s, stopper, &s2),
                     HWNAS_EUSER);
    hwnas_model_free(b);
    b = model(NET, 4);
    assert_int_equal(hwnas_model_train_checkpoint(b, d, OPTS, pb.s, stopper, &s3),
                     HWNAS_OK);
    assert_int_equal(s3.epochs_heard, 2); /* epochs 1 and 2 */
    assert_same_weights(b, ref);

    /* finished: another call returns at once with the run's weights */
    hwnas_model *c = model(NET, 5);
    stop_at s4 = {-1, -1, 0, 0};
    assert_int_equal(hwnas_model_train_checkpoint(c, d, OPTS, pb.s, stopper, &s4),
                     HWNAS_OK);
    assert_int_equal(s4.epochs_heard, 0);
    assert_same_weights(c, ref);
    assert_true(hwnas_model_train_accuracy(c) == hwnas_model_train_accuracy(ref));

    hwnas_model_free(a);
    hwnas_model_free(b);
    hwnas_model_free(c);
    hwnas_model_free(ref);
    hwnas_dataset_free(d);
}

/* kill -9 inside epoch 2: the next call finishes the run from epoch 1's
 * checkpoint, with the uninterrupted run's bits */
static void test_sigkill(void **state)
{
    (void)state;
    path_buf pk = path("k.tck");
    const char *ck = pk.s;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        hwnas_context *c = NULL;
        if (hwnas_context_new(&c, "threads=1") != HWNAS_OK)
            _exit(3);
        hwnas_dataset *d = dataset(c, 0);
        hwnas_net *net = NULL;
        hwnas_model *m = NULL;
        if (hwnas_net_parse(&net, c, NET, "ck.net") != HWNAS_OK ||
            hwnas_model_new(&m, c, net, 9) != HWNAS_OK)
            _exit(3);
        stop_at s = {2, 3, 1, 0};
        hwnas_model_train_checkpoint(m, d, OPTS, ck, stopper, &s);
        _exit(4); /* not reached: killed at epoch 2, batch 3 */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    hwnas_dataset *d = dataset(ctx, 0);
    hwnas_model *ref = model(NET, 1), *m = model(NET, 6);
    assert_int_equal(hwnas_model_train(ref, d, OPTS, NULL, NULL), HWNAS_OK);
    stop_at s = {-1, -1, 0, 0};
    assert_int_equal(hwnas_model_train_checkpoint(m, d, OPTS, ck, stopper, &s), HWNAS_OK);
    assert_int_equal(s.epochs_heard, 1);
    assert_same_weights(m, ref);
    hwnas_model_free(ref);
    hwnas_model_free(m);
    hwnas_dataset_free(d);
}

static uint8_t *read_all(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    uint8_t *b = malloc(1 << 20);
    assert_non_null(b);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static void write_all(const char *p, const void *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void expect_refusal(const char *net, const char *opts, int label_shift, const char *ck,
                           int rc, const char *says)
{
    hwnas_dataset *d = dataset(ctx, label_shift);
    hwnas_model *m = model(net, 1);
    size_t before_len, after_len;
    uint8_t *before = read_all(ck, &before_len);
    assert_int_equal(hwnas_model_train_checkpoint(m, d, opts, ck, NULL, NULL), rc);
    if (!strstr(hwnas_error_last(), says) || !strstr(hwnas_error_last(), ck))
        fail_msg("expected '%s' and the path in: %s", says, hwnas_error_last());
    uint8_t *after = read_all(ck, &after_len);
    assert_int_equal(before_len, after_len); /* left as it was */
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
    hwnas_model_free(m);
    hwnas_dataset_free(d);
}

static void test_refusals(void **state)
{
    (void)state;
    hwnas_dataset *d = dataset(ctx, 0);
    hwnas_model *m = model(NET, 1);
    path_buf pr = path("r.tck"), pg = path("g.tck");
    const char *ck = pr.s;
    stop_at s = {0, -1, 0, 0};
    assert_int_equal(hwnas_model_train_checkpoint(m, d, OPTS, ck, stopper, &s), HWNAS_EUSER);
    hwnas_model_free(m);
    hwnas_dataset_free(d);

    char other_opts[256];
    snprintf(other_opts, sizeof other_opts, "%s;lr=0.05", OPTS);
    expect_refusal(NET, other_opts, 0, ck, HWNAS_EINVAL, "lr=0.10000000000000001");
    snprintf(other_opts, sizeof other_opts, "%s;epochs=4", OPTS);
    expect_refusal(NET, other_opts, 0, ck, HWNAS_EINVAL, "epochs=3");
    expect_refusal(NET, OPTS, 1, ck, HWNAS_EINVAL, "other labels");
    const char *wider = "hwnas-net 1\nx = input(shape=1x8x8)\n"
                        "conv(out=5, k=3, pad=1, bias=0)\nbn\nrelu\ndropout(p=0.2)\n"
                        "maxpool(k=2)\ngap\nlinear(out=3)\n";
    expect_refusal(wider, OPTS, 0, ck, HWNAS_EINVAL, "another net");

    /* not a checkpoint; a weights file; truncated (the uncompressed bytes
     * less their last 9) */
    write_all(ck, "hello", 5);
    expect_refusal(NET, OPTS, 0, ck, HWNAS_EFORMAT, "bad magic");
    hwnas_model *w = model(NET, 1);
    assert_int_equal(hwnas_model_save(w, ck), HWNAS_OK);
    expect_refusal(NET, OPTS, 0, ck, HWNAS_EFORMAT, "bad magic");
    hwnas_model_free(w);
    d = dataset(ctx, 0);
    m = model(NET, 1);
    const char *good = pg.s;
    stop_at s0 = {0, -1, 0, 0};
    assert_int_equal(hwnas_model_train_checkpoint(m, d, OPTS, good, stopper, &s0), HWNAS_EUSER);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "zcat '%s' | head -c -9 > '%s'", good, ck);
    assert_int_equal(system(cmd), 0);
    expect_refusal(NET, OPTS, 0, ck, HWNAS_EFORMAT, "checksum");
    snprintf(cmd, sizeof cmd, "zcat '%s' > '%s' && printf 'x' >> '%s'", good, ck, ck);
    assert_int_equal(system(cmd), 0);
    expect_refusal(NET, OPTS, 0, ck, HWNAS_EFORMAT, "checksum");
    /* the missing argument */
    assert_int_equal(hwnas_model_train_checkpoint(m, d, OPTS, NULL, NULL, NULL), HWNAS_EINVAL);
    /* a directory that does not exist: refused before any training */
    stop_at none = {-1, -1, 0, 0};
    assert_int_equal(hwnas_model_train_checkpoint(m, d, OPTS, "/nonexistent-dir/x.tck", stopper,
                                                  &none),
                     HWNAS_EIO);
    assert_non_null(strstr(hwnas_error_last(), "/nonexistent-dir/x.tck"));
    assert_int_equal(none.epochs_heard, 0);
    hwnas_model_free(m);
    hwnas_dataset_free(d);
}

/* Out of memory anywhere in a checkpointed epoch and in a resume. */
static int oom_step(hwnas_context *c, void *arg)
{
    (void)arg;
    char ck[128];
    snprintf(ck, sizeof ck, "%s/oom.tck", test_tmpdir);
    remove(ck);
    float img[8 * 64];
    int32_t lab[8];
    for (int k = 0; k < 8 * 64; k++)
        img[k] = (float)(k % 9) / 9.0f;
    for (int k = 0; k < 8; k++)
        lab[k] = k % 3;
    hwnas_dataset *d = NULL;
    hwnas_net *net = NULL;
    hwnas_model *m = NULL, *r = NULL;
    int rc = hwnas_dataset_from_float(&d, c, img, lab, 8, 1, 8, 8, 3);
    if (rc == HWNAS_OK)
        rc = hwnas_net_parse(&net, c, NET, "oom.net");
    if (rc == HWNAS_OK)
        rc = hwnas_model_new(&m, c, net, 1);
    if (rc == HWNAS_OK)
        rc = hwnas_model_train_checkpoint(m, d, "epochs=1;batch=4", ck, NULL, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_model_new(&r, c, net, 2);
    if (rc == HWNAS_OK)
        rc = hwnas_model_train_checkpoint(r, d, "epochs=1;batch=4", ck, NULL, NULL);
    hwnas_model_free(m);
    hwnas_model_free(r);
    hwnas_net_free(net);
    hwnas_dataset_free(d);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    test_oom_walk("train_checkpoint", oom_step, NULL);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_resume_same_bits),
            cmocka_unit_test(test_sigkill),
            cmocka_unit_test(test_refusals),
        };
        return cmocka_run_group_tests_name("train_checkpoint", tests, setup, teardown);
    }
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("train_checkpoint_oom", tests, setup, teardown);
    }
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
