/* hwnas_model: training, evaluation, prediction, determinism, weights
 * files, callbacks, options, schedules and the optimiser. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine_internal.h"
#include "engine/model_internal.h"
#include "engine_tests.h"
#include "fixtures.h"
#include "hwnas/hwnas.h"

#define SIDE 8
#define CLASSES 4

static const char *small_net =
    "hwnas-net 1\nx = input(shape=1x8x8)\nconv(out=8, k=3, pad=1, bias=0)\nbn\nrelu\n"
    "conv(out=16, k=3, s=2, pad=1, bias=0)\nbn\nrelu\ngap\ndropout(p=0.1)\nlinear(out=4)\n";

/* n images of 1x8x8: class k has a bright quadrant k, plus noise. */
static hwnas_dataset *toy_dataset(hwnas_context *ctx, size_t n, uint64_t seed)
{
    float *x = malloc(n * SIDE * SIDE * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    hwnas__rng r;
    hwnas__rng_seed(&r, seed, 0);
    for (size_t s = 0; s < n; s++) {
        int32_t k = (int32_t)(s % CLASSES);
        y[s] = k;
        for (size_t i = 0; i < SIDE; i++)
            for (size_t j = 0; j < SIDE; j++) {
                int q = (i >= SIDE / 2) * 2 + (j >= SIDE / 2);
                x[(s * SIDE + i) * SIDE + j] =
                    (float)((q == k ? 1.0 : 0.0) + 0.3 * hwnas__rng_normal(&r));
            }
    }
    hwnas_dataset *ds = NULL;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, x, y, n, 1, SIDE, SIDE, CLASSES),
                     HWNAS_OK);
    free(x);
    free(y);
    return ds;
}

static hwnas_model *toy_model(hwnas_context *ctx, const char *spec)
{
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, spec, "toy"), HWNAS_OK);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 42), HWNAS_OK);
    hwnas_net_free(net); /* the model keeps its own copy */
    return m;
}

typedef struct progress {
    int batches, epochs, stop_at;
    double last_loss;
} progress;

static int on_progress(int event, int64_t epoch, int64_t epochs, int64_t batch,
                       int64_t batches, double loss, double accuracy, double lr, void *ud)
{
    progress *p = ud;
    assert_true(epoch < epochs && batch <= batches && lr >= 0 && accuracy >= 0 &&
                accuracy <= 1 && isfinite(loss));
    if (event == HWNAS_MODEL_EVENT_BATCH)
        p->batches++;
    else
        p->epochs++, p->last_loss = loss;
    return p->stop_at && p->batches >= p->stop_at;
}

static void test_train_evaluate(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    hwnas_dataset *train = toy_dataset(ctx, 400, 1), *test = toy_dataset(ctx, 200, 2);
    hwnas_model *m = toy_model(ctx, small_net);
    assert_int_equal(hwnas_model_classes(m), CLASSES);
    assert_int_equal(hwnas_model_param_count(m), hwnas_net_params(hwnas_model_net(m)));
    assert_true(isnan(hwnas_model_train_loss(m)));
    double acc0;
    assert_int_equal(hwnas_model_evaluate(&acc0, NULL, NULL, m, test, 0), HWNAS_OK);
    progress p = {0};
    int rc = hwnas_model_train(m, train, "epochs=4;batch=32;lr=0.05;schedule=cosine;warmup=0.5",
                               on_progress, &p);
    if (rc != HWNAS_OK)
        fail_msg("train: %s", hwnas_error_last());
    assert_int_equal(p.epochs, 4);
    assert_int_equal(p.batches, 4 * 13);
    assert_true(p.last_loss == hwnas_model_train_loss(m));
    double acc, loss;
    int64_t conf[CLASSES * CLASSES];
    assert_int_equal(hwnas_model_evaluate(&acc, &loss, conf, m, test, 64), HWNAS_OK);
    assert_true(acc > 0.9);
    assert_true(loss < 1.0);
    assert_true(acc0 < 0.5);
    int64_t total = 0, diag = 0;
    for (int i = 0; i < CLASSES; i++)
        for (int j = 0; j < CLASSES; j++)
            total += conf[i * CLASSES + j], diag += i == j ? conf[i * CLASSES + j] : 0;
    assert_int_equal(total, 200);
    assert_true(fabs((double)diag / 200 - acc) < 1e-12);

    /* predict agrees with evaluate, probabilities sum to 1 */
    float images[10 * SIDE * SIDE], probs[10 * CLASSES];
    int32_t labels[10], pred[10];
    size_t pos[10];
    for (size_t k = 0; k < 10; k++)
        pos[k] = k;
    assert_int_equal(hwnas_dataset_batch(images, labels, test, pos, 10), HWNAS_OK);
    assert_int_equal(hwnas_model_predict(probs, pred, m, images, 10), HWNAS_OK);
    for (size_t s = 0; s < 10; s++) {
        double sum = 0;
        size_t arg = 0;
        for (size_t j = 0; j < CLASSES; j++) {
            sum += probs[s * CLASSES + j];
            if (probs[s * CLASSES + j] > probs[s * CLASSES + arg])
                arg = j;
        }
        assert_true(fabs(sum - 1) < 1e-5);
        assert_int_equal(arg, pred[s]);
    }
    hwnas_model_free(m);
    hwnas_dataset_free(train);
    hwnas_dataset_free(test);
    hwnas_context_free(ctx);
}

/* Weights after training, as bytes, for a given thread count. */
static uint8_t *train_bytes(int threads, const char *opts, size_t *len)
{
    char co[32];
    snprintf(co, sizeof co, "threads=%d", threads);
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, co), HWNAS_OK);
    hwnas_dataset *train = toy_dataset(ctx, 150, 1);
    hwnas_model *m = toy_model(ctx, small_net);
    assert_int_equal(hwnas_model_train(m, train, opts, NULL, NULL), HWNAS_OK);
    uint8_t *buf = NULL;
    assert_int_equal(hwnas_model_save_buffer(&buf, len, m), HWNAS_OK);
    uint8_t *copy = malloc(*len);
    memcpy(copy, buf, *len);
    hwnas_free(buf);
    hwnas_model_free(m);
    hwnas_dataset_free(train);
    hwnas_context_free(ctx);
    return copy;
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *opts = "epochs=2;batch=40;augment=1;crop_pad=2;nesterov=1;weight_decay=1e-4;"
                       "label_smoothing=0.1";
    size_t l1, l2, l3;
    uint8_t *a = train_bytes(1, opts, &l1), *b = train_bytes(2, opts, &l2),
            *c = train_bytes(3, opts, &l3);
    assert_int_equal(l1, l2);
    assert_int_equal(l1, l3);
    assert_memory_equal(a, b, l1);
    assert_memory_equal(a, c, l1);
    free(b);
    b = train_bytes(2, "epochs=2;batch=40;seed=9", &l2);
    assert_true(memcmp(a, b, l1) != 0);
    free(a);
    free(b);
    free(c);
}

static void test_weights_file(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_dataset *train = toy_dataset(ctx, 100, 1);
    hwnas_model *m = toy_model(ctx, small_net), *m2 = toy_model(ctx, small_net);
    assert_int_equal(hwnas_model_train(m, train, "epochs=1;batch=25", NULL, NULL), HWNAS_OK);
    char path[] = "/tmp/hwnas_weights_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(hwnas_model_save(m, path), HWNAS_OK);
    assert_int_equal(hwnas_model_load(m2, path), HWNAS_OK);
    double a1, a2, l1, l2;
    assert_int_equal(hwnas_model_evaluate(&a1, &l1, NULL, m, train, 0), HWNAS_OK);
    assert_int_equal(hwnas_model_evaluate(&a2, &l2, NULL, m2, train, 0), HWNAS_OK);
    /* other batch sizes: sgemm may block (and round) the samples otherwise */
    assert_true(a1 == a2 && fabs(l1 - l2) < 1e-6);

    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(hwnas_model_save_buffer(&buf, &len, m), HWNAS_OK);
    /* every truncation and a flipped byte anywhere are refused */
    for (size_t cut = 0; cut < len; cut += 1 + cut / 7) {
        int rc = hwnas_model_load_buffer(m2, buf, cut, "cut");
        assert_true(rc == HWNAS_EFORMAT);
        assert_non_null(strstr(hwnas_error_last(), "cut"));
    }
    for (size_t k = 0; k < len; k += 1 + k / 5) {
        buf[k] ^= 0x10;
        int rc = hwnas_model_load_buffer(m2, buf, len, "flip");
        assert_true(rc == HWNAS_EFORMAT || rc == HWNAS_EVERSION);
        buf[k] ^= 0x10;
    }
    assert_int_equal(hwnas_model_load_buffer(m2, buf, len, NULL), HWNAS_OK);
    /* a negative batch-norm variance (the last value saved), checksum right */
    {
        float neg = -1.0f;
        uint8_t *bad = malloc(len);
        assert_non_null(bad);
        memcpy(bad, buf, len);
        memcpy(bad + len - 12, &neg, 4); /* little-endian hosts, as the format */
        uint64_t h = hwnas__hash_bytes(bad, len - 8);
        for (int k = 0; k < 8; k++)
            bad[len - 8 + k] = (uint8_t)(h >> (8 * k));
        assert_int_equal(hwnas_model_load_buffer(m2, bad, len, "negvar"), HWNAS_EFORMAT);
        assert_non_null(strstr(hwnas_error_last(), "negvar: batch-norm"));
        assert_non_null(strstr(hwnas_error_last(), "negative"));
        free(bad);
    }
    /* a file of another net */
    hwnas_model *other = toy_model(ctx, "hwnas-net 1\nx = input(shape=1x8x8)\ngap\n"
                                        "linear(out=4)\n");
    assert_int_equal(hwnas_model_load_buffer(other, buf, len, "w"), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "another net"));
    hwnas_free(buf);
    unlink(path);
    assert_int_equal(hwnas_model_load(m2, path), HWNAS_ENOTFOUND);
    hwnas_model_free(other);
    hwnas_model_free(m);
    hwnas_model_free(m2);
    hwnas_dataset_free(train);
    hwnas_context_free(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_dataset *train = toy_dataset(ctx, 64, 1);
    hwnas_model *m = toy_model(ctx, small_net);
    assert_int_equal(hwnas_model_train(m, train, "epoch=3", NULL, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "epoch"));
    assert_int_equal(hwnas_model_train(m, train, "schedule=linear", NULL, NULL), HWNAS_EINVAL);
    progress p = {0};
    p.stop_at = 2;
    assert_int_equal(hwnas_model_train(m, train, "batch=8", on_progress, &p), HWNAS_EUSER);
    assert_int_equal(p.batches, 2);
    /* wrong shape */
    hwnas_model *m3 = toy_model(ctx, "hwnas-net 1\nx = input(shape=3x8x8)\ngap\nlinear(out=4)\n");
    assert_int_equal(hwnas_model_train(m3, train, NULL, NULL, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "3x8x8"));
    /* too few classes */
    hwnas_model *m2 = toy_model(ctx, "hwnas-net 1\nx = input(shape=1x8x8)\ngap\nlinear(out=3)\n");
    assert_int_equal(hwnas_model_evaluate(NULL, NULL, NULL, m2, train, 0), HWNAS_EINVAL);
    /* two inputs */
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, "hwnas-net 1\na = input(shape=1x4x4)\n"
                                     "b = input(shape=1x4x4)\nadd(a, b)\n", "two"), HWNAS_OK);
    hwnas_model *bad = NULL;
    assert_int_equal(hwnas_model_new(&bad, ctx, net, 1), HWNAS_EUNSUPPORTED);
    assert_null(bad);
    assert_int_equal(hwnas_model_new(&bad, ctx, NULL, 1), HWNAS_EINVAL);
    hwnas_model_free(NULL);
    hwnas_net_free(net);
    hwnas_model_free(m);
    hwnas_model_free(m2);
    hwnas_model_free(m3);
    hwnas_dataset_free(train);
    hwnas_context_free(ctx);
}

/* A softmax at the end: training reads its input, prediction its output. */
static void test_softmax_output(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    hwnas_dataset *train = toy_dataset(ctx, 200, 1);
    hwnas_model *m = toy_model(ctx, "hwnas-net 1\nx = input(shape=1x8x8)\n"
                                    "conv(out=8, k=3, s=2, pad=1)\nrelu\nlinear(out=4)\n"
                                    "softmax\n");
    assert_int_equal(hwnas_model_classes(m), 4);
    assert_int_equal(hwnas_model_train(m, train, "epochs=5;batch=20;lr=0.1", NULL, NULL),
                     HWNAS_OK);
    double acc;
    assert_int_equal(hwnas_model_evaluate(&acc, NULL, NULL, m, train, 0), HWNAS_OK);
    assert_true(acc > 0.8);
    hwnas_model_free(m);
    hwnas_dataset_free(train);
    hwnas_context_free(ctx);
}

static void test_schedule_and_sgd(void **state)
{
    (void)state;
    /* warm-up is linear, cosine ends near 0, step drops by gamma */
    assert_true(fabs(hwnas__lr_at(0.1, 1, 0, 100, 10, 0, 0) - 0.01) < 1e-12);
    assert_true(fabs(hwnas__lr_at(0.1, 1, 9, 100, 10, 0, 0) - 0.1) < 1e-12);
    assert_true(fabs(hwnas__lr_at(0.1, 1, 10, 100, 10, 0, 0) - 0.1) < 1e-12);
    assert_true(fabs(hwnas__lr_at(0.1, 1, 55, 100, 10, 0, 0) - 0.05) < 1e-12);
    assert_true(hwnas__lr_at(0.1, 1, 99, 100, 10, 0, 0) < 0.001);
    assert_true(fabs(hwnas__lr_at(0.1, 2, 25, 100, 0, 10, 0.5) - 0.025) < 1e-12);
    assert_true(fabs(hwnas__lr_at(0.1, 0, 77, 100, 0, 10, 0.5) - 0.1) < 1e-12);
    /* PyTorch's SGD: v = m v + (g + wd w); nesterov step g' + m v */
    float w[2] = {1.0f, -2.0f}, v[2] = {0.5f, 0.0f}, g[2] = {0.2f, 0.4f};
    hwnas__sgd_step(w, v, g, 2, 0.1, 0.9, 0.01, 0);
    assert_true(fabs(v[0] - (0.45 + 0.21)) < 1e-6 && fabs(w[0] - (1 - 0.1 * 0.66)) < 1e-6);
    float w2[1] = {1.0f}, v2[1] = {0.5f}, g2[1] = {0.2f};
    hwnas__sgd_step(w2, v2, g2, 1, 0.1, 0.9, 0.0, 1);
    double vv = 0.45 + 0.2;
    assert_true(fabs(v2[0] - vv) < 1e-6 && fabs(w2[0] - (1 - 0.1 * (0.2 + 0.9 * vv))) < 1e-6);
}

/* Three training steps of a conv + batch-norm + relu + gap + linear net
 * from fixed weights and inputs, the second on a partial batch, against
 * PyTorch (bench/engine/golden_step.py, float64): the loss averaged over
 * the batch, batch-norm normalising with the biased batch variance and
 * keeping the unbiased one (momentum 0.1), the gradients of gap and
 * linear, SGD's momentum (v = 0.9 v + g, w -= lr v). The engine's side of
 * the parity with PyTorch that bench/engine/parity.py checks at scale. */
static const double torch_losses[] = {
    1.112033022e+00, 1.288619028e+00, 1.108788340e+00};
static const double torch_params[] = {
    1.896369151e-01, 3.865745616e-01, 1.463048324e-02, -3.835733260e-01, -2.243992816e-01,
    2.593080748e-01, 3.574488023e-01, -7.415362711e-02, -4.016890335e-01, -1.430290042e-01,
    3.218368330e-01, 3.155341994e-01, -1.524764994e-01, -3.966042915e-01, -5.924844013e-02,
    3.654207570e-01, 2.552470145e-01, -2.285856575e-01, -3.688554944e-01, 3.179442469e-02,
    3.777945093e-01, 1.688796711e-01, -2.723261352e-01, -3.325555100e-01, 1.020322225e-01,
    3.965231068e-01, 9.027426722e-02, -3.494534307e-01, -2.443049012e-01, 1.732511104e-01,
    3.658990887e-01};
static const double torch_state[] = {
    2.558224821e-02, -2.474528241e-03, 7.676537346e-01, 7.578637008e-01};

static void test_torch_steps(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, "hwnas-net 1\nx = input(shape=1x4x4)\n"
                                     "conv(out=2, k=3, pad=1, bias=0)\nbn\nrelu\ngap\n"
                                     "linear(out=3)\n", "torch_steps"),
                     HWNAS_OK);
    hwnas__engine *e = NULL;
    assert_int_equal(hwnas__engine_new(&e, ctx, net, 1), HWNAS_OK);
    size_t np = sizeof torch_params / sizeof *torch_params;
    assert_int_equal(e->n_params, np);
    assert_int_equal(e->n_state, sizeof torch_state / sizeof *torch_state);
    for (size_t k = 0; k < np; k++)
        e->params[k] = (float)(0.4 * sin(1.3 * (double)k + 0.5));
    float x[6 * 16], v[sizeof torch_params / sizeof *torch_params] = {0}, dz[4 * 3];
    for (size_t k = 0; k < 6 * 16; k++)
        x[k] = (float)(cos(0.37 * (double)k) + 0.1 * (double)(k / 16));
    const int32_t y[6] = {0, 1, 2, 1, 0, 2};
    const size_t lo[3] = {0, 4, 0}, nb[3] = {4, 2, 4};
    assert_int_equal(hwnas__engine_reserve(e, 4), HWNAS_OK);
    for (size_t t = 0; t < 3; t++) {
        double loss;
        size_t correct;
        assert_int_equal(hwnas__engine_forward(e, x + lo[t] * 16, nb[t], 1, t), HWNAS_OK);
        hwnas__engine_loss(&loss, &correct, dz, e, y + lo[t], 0.0);
        assert_true(fabs(loss - torch_losses[t]) < 1e-5);
        assert_int_equal(hwnas__engine_backward(e, dz), HWNAS_OK);
        hwnas__sgd_step(e->params, v, e->grads, np, 0.05, 0.9, 0.0, 0);
    }
    for (size_t k = 0; k < np; k++)
        assert_true(fabs(e->params[k] - torch_params[k]) < 1e-5);
    for (size_t k = 0; k < e->n_state; k++)
        assert_true(fabs(e->state[k] - torch_state[k]) < 1e-5);
    hwnas__engine_free(e);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

/* init=he re-draws the weights hwnas_model_new gave for the same seed;
 * init=uniform draws convolution and linear weights and biases from
 * U(-1/sqrt(fan_in), +1/sqrt(fan_in)) and resets batch-norm's scale and
 * shift. */
static void test_init_option(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_dataset *ds = toy_dataset(ctx, 8, 3);
    hwnas_model *m = toy_model(ctx, small_net); /* seed 42 */
    hwnas__engine *e = m->eng;
    size_t np = e->n_params;
    float *p0 = malloc(np * sizeof *p0);
    memcpy(p0, e->params, np * sizeof *p0);
    /* lr 0: the weights stay as initialised */
    assert_int_equal(hwnas_model_train(m, ds, "lr=0;init=he;seed=42", NULL, NULL), HWNAS_OK);
    assert_memory_equal(p0, e->params, np * sizeof *p0);
    assert_int_equal(hwnas_model_train(m, ds, "lr=0;init=uniform;seed=42", NULL, NULL),
                     HWNAS_OK);
    for (size_t i = 0; i < e->n; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        const float *p = e->params + nd->p_off;
        if (nd->kind == HWNAS_NET_CONV2D || nd->kind == HWNAS_NET_LINEAR) {
            size_t nb = nd->a.bias ? nd->c : 0;
            double bound = 1.0 / sqrt((double)(nd->n_p - nb) / (double)nd->c), ss = 0;
            for (size_t k = 0; k < nd->n_p; k++) {
                assert_true(fabs(p[k]) <= bound);
                ss += (double)p[k] * p[k];
            }
            /* variance bound^2 / 3 (within sampling noise of >= 36 draws) */
            double var = ss / (double)nd->n_p;
            assert_true(var > 0.5 * bound * bound / 3 && var < 1.5 * bound * bound / 3);
            for (size_t k = nd->n_p - nb; k < nd->n_p; k++)
                assert_true(p[k] != 0.0f);
        } else if (nd->kind == HWNAS_NET_BATCHNORM) {
            assert_true(p[0] == 1.0f && p[nd->c] == 0.0f);
        }
    }
    /* keep (the default) trains what is there */
    memcpy(p0, e->params, np * sizeof *p0);
    assert_int_equal(hwnas_model_train(m, ds, "lr=0", NULL, NULL), HWNAS_OK);
    assert_memory_equal(p0, e->params, np * sizeof *p0);
    assert_int_equal(hwnas_model_train(m, ds, "init=normal", NULL, NULL), HWNAS_EINVAL);
    free(p0);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

/* The model kind is listed and describes its options. */
static void test_options_kind(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    hwnas_options *o = NULL;
    assert_int_equal(hwnas_options_new(&o, ctx, "model"), HWNAS_OK);
    assert_true(hwnas_options_index(o, "label_smoothing") >= 0);
    assert_string_equal(hwnas_options_range(o, (size_t)hwnas_options_index(o, "schedule")),
                        "constant|cosine|step");
    hwnas_options_free(o);
    hwnas_context_free(ctx);
}

/* Fashion-MNIST, when installed: a short training run learns. */
static void test_fashion_mnist(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    hwnas_dataset *train = NULL, *test = NULL;
    if (!fx_fashion_mnist(ctx, 3000, 1000, 0, &train, &test)) {
        hwnas_context_free(ctx);
        skip();
    }
    hwnas_net *net = fx_reference_cnn(ctx);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 1), HWNAS_OK);
    assert_int_equal(hwnas_model_train(m, train, "epochs=1;schedule=constant", NULL, NULL),
                     HWNAS_OK);
    double acc;
    assert_int_equal(hwnas_model_evaluate(&acc, NULL, NULL, m, test, 0), HWNAS_OK);
    assert_true(acc > 0.3); /* chance is 0.1 */
    hwnas_model_free(m);
    hwnas_net_free(net);
    hwnas_dataset_free(train);
    hwnas_dataset_free(test);
    hwnas_context_free(ctx);
}

int run_model_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_evaluate),   cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_weights_file),     cmocka_unit_test(test_errors),
        cmocka_unit_test(test_softmax_output),   cmocka_unit_test(test_schedule_and_sgd),
        cmocka_unit_test(test_options_kind),     cmocka_unit_test(test_fashion_mnist),
        cmocka_unit_test(test_torch_steps),      cmocka_unit_test(test_init_option),
    };
    return cmocka_run_group_tests_name("engine-model", tests, NULL, NULL);
}
