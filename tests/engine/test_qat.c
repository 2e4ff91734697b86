/* Fine-tuning of quant models (hwnas_quant_finetune): its forward pass is
 * the int8 inference, it is deterministic for a seed at any thread count,
 * it recovers the accuracy an approximate multiplier costs on
 * Fashion-MNIST (when installed), bad arguments are errors, and an
 * out-of-memory walk. `test_qat unit` or `test_qat oom`. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/int8_internal.h"
#include "fixtures.h"
#include "hwnas/hwnas.h"
#include "test_alloc.h"

/* The small net trained a little on its synthetic task. */
static hwnas_model *trained_model(hwnas_context *ctx, const hwnas_dataset *ds)
{
    return fx_small_model(ctx, ds, "epochs=2;batch=16;lr=0.05");
}

/* Mean cross-entropy of n rows of k scores. */
static double mean_loss(const float *z, const int32_t *labels, size_t n, size_t k)
{
    double total = 0;
    for (size_t s = 0; s < n; s++) {
        const float *zs = z + s * k;
        double m = zs[0], sum = 0;
        for (size_t j = 1; j < k; j++)
            m = zs[j] > m ? zs[j] : m;
        for (size_t j = 0; j < k; j++)
            sum += exp((double)zs[j] - m);
        total += m + log(sum) - (double)zs[labels[s]];
    }
    return total / (double)n;
}

typedef struct seen {
    double first_loss; /* loss of the first BATCH event */
    int batches, epochs;
    int stop_at;       /* stop (non-zero return) at this batch event, -1 never */
} seen;

static int on_progress(int event, int64_t epoch, int64_t epochs, int64_t batch, int64_t batches,
                       double loss, double accuracy, double lr, void *user_data)
{
    seen *s = user_data;
    (void)epoch, (void)epochs, (void)batch, (void)batches, (void)accuracy, (void)lr;
    if (event == HWNAS_MODEL_EVENT_EPOCH) {
        s->epochs++;
        return 0;
    }
    if (s->batches == 0)
        s->first_loss = loss;
    return s->batches++ == s->stop_at;
}

/* The training forward pass is the int8 inference: with lr = 0 and one
 * batch of the whole set, the loss fine-tuning sees is the loss of the
 * scores hwnas_quant_predict gives, and the logits of the training pass
 * are those scores bit for bit; nothing changes afterwards. */
static void check_forward_is_inference(hwnas_context *ctx, const char *mul_spec)
{
    size_t n = 48;
    hwnas_dataset *ds = fx_random_set(ctx, n, 1);
    hwnas_model *m = trained_model(ctx, ds);
    hwnas_quant *q = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, "batch=32"), HWNAS_OK);
    assert_int_equal(hwnas_quant_layer_count(q), 4);
    assert_non_null(q->layers[0].bn_name);
    assert_non_null(q->layers[2].bn_name);
    hwnas_axmul *mul = NULL;
    assert_int_equal(hwnas_axmul_new(&mul, ctx, mul_spec), HWNAS_OK);
    assert_int_equal(hwnas_quant_set_multiplier(q, -1, mul), HWNAS_OK);
    float *x = malloc(n * 162 * sizeof *x), *z = malloc(n * 4 * sizeof *z);
    float *z2 = malloc(n * 4 * sizeof *z2);
    int32_t *y = malloc(n * sizeof *y);
    size_t *pos = malloc(n * sizeof *pos);
    for (size_t s = 0; s < n; s++)
        pos[s] = s;
    assert_int_equal(hwnas_dataset_batch(x, y, ds, pos, n), HWNAS_OK);
    assert_int_equal(hwnas_quant_predict(z, NULL, q, x, n), HWNAS_OK);
    double inference = mean_loss(z, y, n, 4);
    /* the training-mode pass itself */
    assert_int_equal(hwnas__quant_reserve(q, n), HWNAS_OK);
    assert_int_equal(hwnas__quant_forward(q, x, n, 1, 0), HWNAS_OK);
    assert_memory_equal(q->eng->act[q->eng->logits], z, n * 4 * sizeof *z);
    /* and through the public call */
    uint8_t *before = NULL, *after = NULL;
    size_t len_before, len_after;
    assert_int_equal(hwnas_model_save_buffer(&before, &len_before, m), HWNAS_OK);
    seen s = {0, 0, 0, -1};
    assert_int_equal(hwnas_quant_finetune(q, m, ds, "epochs=1;batch=48;lr=0", on_progress, &s),
                     HWNAS_OK);
    assert_int_equal(s.batches, 1);
    assert_int_equal(s.epochs, 1);
    /* per-sample losses are equal; only the order of the sum differs */
    if (fabs(s.first_loss - inference) > 1e-12 * inference)
        fail_msg("%s: fine-tuning loss %.17g, int8 inference loss %.17g", mul_spec,
                 s.first_loss, inference);
    assert_true(fabs(hwnas_model_train_loss(m) - inference) <= 1e-12 * inference);
    assert_int_equal(hwnas_model_save_buffer(&after, &len_after, m), HWNAS_OK);
    assert_int_equal(len_before, len_after);
    assert_memory_equal(before, after, len_before);
    assert_int_equal(hwnas_quant_predict(z2, NULL, q, x, n), HWNAS_OK);
    assert_memory_equal(z, z2, n * 4 * sizeof *z);
    hwnas_free(before);
    hwnas_free(after);
    free(x);
    free(z);
    free(z2);
    free(y);
    free(pos);
    hwnas_axmul_free(mul);
    hwnas_quant_free(q);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
}

static void test_forward_is_inference(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    check_forward_is_inference(ctx, "exact");
    check_forward_is_inference(ctx, "exact:signed=1");
    check_forward_is_inference(ctx, "trunc:t=3");
    check_forward_is_inference(ctx, "mitchell");
    hwnas_context_free(ctx);
}

/* Fine-tuning lowers the int8 training loss of a crude multiplier on the
 * small set and changes the weights; the progress callback can stop it. */
static void test_learns(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    hwnas_dataset *ds = fx_random_set(ctx, 96, 2);
    hwnas_model *m = trained_model(ctx, ds);
    hwnas_quant *q = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, NULL), HWNAS_OK);
    hwnas_axmul *mul = NULL;
    assert_int_equal(hwnas_axmul_new(&mul, ctx, "trunc:t=4"), HWNAS_OK);
    assert_int_equal(hwnas_quant_set_multiplier(q, -1, mul), HWNAS_OK);
    seen s = {0, 0, 0, -1};
    assert_int_equal(hwnas_quant_finetune(q, m, ds, "epochs=1;batch=96;lr=0", on_progress, &s),
                     HWNAS_OK);
    double start = s.first_loss;
    assert_int_equal(hwnas_quant_finetune(q, m, ds, "epochs=10;batch=16;lr=0.03", NULL, NULL),
                     HWNAS_OK);
    s = (seen){0, 0, 0, -1};
    assert_int_equal(hwnas_quant_finetune(q, m, ds, "epochs=1;batch=96;lr=0", on_progress, &s),
                     HWNAS_OK);
    printf("# trunc:t=4 int8 loss %.4f before, %.4f after fine-tuning\n", start, s.first_loss);
    assert_true(s.first_loss < 0.98 * start);
    /* stopped by the callback after its third batch */
    s = (seen){0, 0, 0, 2};
    assert_int_equal(hwnas_quant_finetune(q, m, ds, "epochs=2;batch=16", on_progress, &s),
                     HWNAS_EUSER);
    assert_int_equal(s.batches, 3);
    assert_non_null(strstr(hwnas_error_last(), "callback"));
    double acc;
    assert_int_equal(hwnas_quant_evaluate(&acc, NULL, q, ds), HWNAS_OK); /* still usable */
    /* recalibrate: the ranges follow the new weights */
    double lo, hi, lo2, hi2;
    assert_int_equal(hwnas_quant_layer_range(&lo, &hi, q, 1), HWNAS_OK);
    assert_int_equal(hwnas_quant_finetune(q, m, ds, "epochs=0;recalibrate=true", NULL, NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_quant_layer_range(&lo2, &hi2, q, 1), HWNAS_OK);
    assert_true(hi2 != hi);
    hwnas_axmul_free(mul);
    hwnas_quant_free(q);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

/* The same weights and int8 scores for a seed at 1 and 2 threads; another
 * seed gives others. */
static void finetuned(uint8_t **weights, size_t *len, float *scores, const char *threads,
                      const char *options)
{
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, threads), HWNAS_OK);
    hwnas_dataset *ds = fx_random_set(ctx, 70, 3);
    hwnas_model *m = trained_model(ctx, ds);
    hwnas_quant *q = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, "batch=32"), HWNAS_OK);
    hwnas_axmul *mul = NULL;
    assert_int_equal(hwnas_axmul_new(&mul, ctx, "mitchell"), HWNAS_OK);
    assert_int_equal(hwnas_quant_set_multiplier(q, 0, mul), HWNAS_OK);
    assert_int_equal(hwnas_quant_finetune(q, m, ds, options, NULL, NULL), HWNAS_OK);
    assert_int_equal(hwnas_model_save_buffer(weights, len, m), HWNAS_OK);
    float *x = malloc(70 * 162 * sizeof *x);
    int32_t *y = malloc(70 * sizeof *y);
    size_t pos[70];
    for (size_t s = 0; s < 70; s++)
        pos[s] = s;
    assert_int_equal(hwnas_dataset_batch(x, y, ds, pos, 70), HWNAS_OK);
    assert_int_equal(hwnas_quant_predict(scores, NULL, q, x, 70), HWNAS_OK);
    free(x);
    free(y);
    hwnas_axmul_free(mul);
    hwnas_quant_free(q);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *opts = "epochs=2;batch=24;lr=0.02;seed=5;recalibrate=1";
    uint8_t *w1 = NULL, *w2 = NULL, *w3 = NULL;
    size_t l1, l2, l3;
    float s1[280], s2[280], s3[280];
    finetuned(&w1, &l1, s1, "threads=1", opts);
    finetuned(&w2, &l2, s2, "threads=2", opts);
    finetuned(&w3, &l3, s3, "threads=2", "epochs=2;batch=24;lr=0.02;seed=6;recalibrate=1");
    assert_int_equal(l1, l2);
    assert_memory_equal(w1, w2, l1);
    assert_memory_equal(s1, s2, sizeof s1);
    assert_true(l1 != l3 || memcmp(w1, w3, l1) != 0);
    hwnas_free(w1);
    hwnas_free(w2);
    hwnas_free(w3);
}

static void test_errors(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_dataset *ds = fx_random_set(ctx, 20, 4);
    hwnas_model *m = trained_model(ctx, ds);
    hwnas_quant *q = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, NULL), HWNAS_OK);
    assert_int_equal(hwnas_quant_finetune(NULL, m, ds, NULL, NULL, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_quant_finetune(q, NULL, ds, NULL, NULL, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_quant_finetune(q, m, NULL, NULL, NULL, NULL), HWNAS_EINVAL);
    static const char *const bad[][2] = {
        {"epochs=-1", "epochs"},     {"lr=-0.5", "lr"},        {"batch=0", "batch"},
        {"schedule=step", "schedule"}, {"momentum=2", "momentum"}, {"nosuch=1", "nosuch"},
        {"recalibrate=maybe", "recalibrate"}, {"seed=x", "seed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(hwnas_quant_finetune(q, m, ds, bad[i][0], NULL, NULL), HWNAS_EINVAL);
        if (!strstr(hwnas_error_last(), bad[i][1]))
            fail_msg("'%s': the message '%s' does not name '%s'", bad[i][0],
                     hwnas_error_last(), bad[i][1]);
    }
    /* a model of another net */
    hwnas_net *other_net = NULL;
    assert_int_equal(hwnas_net_parse(&other_net, ctx,
                                     "hwnas-net 1\nx = input(shape=2x9x9)\nconv(out=4, k=3)\n"
                                     "relu\ngap\nlinear(out=4)\n", "other"),
                     HWNAS_OK);
    hwnas_model *other = NULL;
    assert_int_equal(hwnas_model_new(&other, ctx, other_net, 1), HWNAS_OK);
    assert_int_equal(hwnas_quant_finetune(q, other, ds, NULL, NULL, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "not the one"));
    /* a dataset of another shape, and one with more classes */
    float img[3 * 16] = {0};
    int32_t lab[3] = {0, 1, 2};
    hwnas_dataset *shape = NULL, *classes = NULL;
    assert_int_equal(hwnas_dataset_from_float(&shape, ctx, img, lab, 3, 1, 4, 4, 3), HWNAS_OK);
    assert_int_equal(hwnas_quant_finetune(q, m, shape, NULL, NULL, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "1x4x4"));
    float img2[2 * 162] = {0};
    int32_t lab2[2] = {0, 6};
    assert_int_equal(hwnas_dataset_from_float(&classes, ctx, img2, lab2, 2, 2, 9, 9, 7),
                     HWNAS_OK);
    assert_int_equal(hwnas_quant_finetune(q, m, classes, NULL, NULL, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "classes"));
    /* the option kind is listed */
    hwnas_options *o = NULL;
    assert_int_equal(hwnas_options_new(&o, ctx, "quant_finetune"), HWNAS_OK);
    hwnas_options_free(o);
    hwnas_dataset_free(shape);
    hwnas_dataset_free(classes);
    hwnas_model_free(other);
    hwnas_net_free(other_net);
    hwnas_quant_free(q);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
}

/* Fashion-MNIST, when installed: the reference CNN trained briefly, with
 * Mitchell's logarithmic multiplier in every layer, loses most of its
 * accuracy; one epoch of fine-tuning gets much of it back. */
static void test_fashion_mnist(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=2"), HWNAS_OK);
    hwnas_dataset *train = NULL, *test = NULL;
    if (!fx_fashion_mnist(ctx, 12000, 5000, 1, &train, &test)) {
        hwnas_context_free(ctx);
        skip();
    }
    hwnas_net *net = fx_reference_cnn(ctx);
    hwnas_model *m = NULL;
    assert_int_equal(hwnas_model_new(&m, ctx, net, 1), HWNAS_OK);
    assert_int_equal(hwnas_model_train(m, train, "epochs=3;lr=0.1", NULL, NULL), HWNAS_OK);
    double acc_f, before, after;
    assert_int_equal(hwnas_model_evaluate(&acc_f, NULL, NULL, m, test, 0), HWNAS_OK);
    hwnas_quant *q = NULL;
    hwnas_axmul *mul = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, train, NULL), HWNAS_OK);
    assert_int_equal(hwnas_axmul_new(&mul, ctx, "mitchell"), HWNAS_OK);
    assert_int_equal(hwnas_quant_set_multiplier(q, -1, mul), HWNAS_OK);
    assert_int_equal(hwnas_quant_evaluate(&before, NULL, q, test), HWNAS_OK);
    assert_int_equal(hwnas_quant_finetune(q, m, train, "epochs=1", NULL, NULL), HWNAS_OK);
    assert_int_equal(hwnas_quant_evaluate(&after, NULL, q, test), HWNAS_OK);
    printf("# fashion-mnist: fp32 %.4f; int8 mitchell %.4f before, %.4f after one epoch of "
           "fine-tuning\n", acc_f, before, after);
    assert_true(acc_f > 0.75);
    assert_true(before < acc_f - 0.2);   /* a visible drop */
    assert_true(after > before + 0.3);   /* most of it back */
    hwnas_axmul_free(mul);
    hwnas_quant_free(q);
    hwnas_model_free(m);
    hwnas_net_free(net);
    hwnas_dataset_free(train);
    hwnas_dataset_free(test);
    hwnas_context_free(ctx);
}

/* ---- out of memory ------------------------------------------------------ */

static void test_oom(void **state)
{
    (void)state;
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "threads=2");
    assert_non_null(ctx);
    hwnas_dataset *ds = fx_random_set(ctx, 40, 3);
    hwnas_model *m = trained_model(ctx, ds);
    hwnas_quant *q = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, "batch=16"), HWNAS_OK);
    const char *opts = "epochs=1;batch=20;recalibrate=1";
    /* a first run starts the context's thread pool and makes q's buffers */
    assert_int_equal(hwnas_quant_finetune(q, m, ds, opts, NULL, NULL), HWNAS_OK);
    hwnas_quant_free(q);
    q = NULL;
    assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, "batch=16"), HWNAS_OK);
    long baseline = t.live;
    for (long n = 0;; n++) {
        assert_true(n < 100000);
        test_alloc_fail_from(&t, n);
        int rc = hwnas_quant_finetune(q, m, ds, opts, NULL, NULL);
        test_alloc_disarm(&t);
        double acc;
        assert_int_equal(hwnas_quant_evaluate(&acc, NULL, q, ds), HWNAS_OK); /* usable */
        if (rc == HWNAS_OK)
            break;
        if (rc != HWNAS_ENOMEM)
            fail_msg("step %ld returned %d (%s)", n, rc, hwnas_error_last());
        /* q's buffers may have grown in the failed call, but no more */
        hwnas_quant_free(q);
        q = NULL;
        assert_int_equal(hwnas_quant_new(&q, m, NULL, ds, "batch=16"), HWNAS_OK);
        assert_int_equal(t.live, baseline);
    }
    hwnas_quant_free(q);
    hwnas_model_free(m);
    hwnas_dataset_free(ds);
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_forward_is_inference), cmocka_unit_test(test_learns),
            cmocka_unit_test(test_deterministic),        cmocka_unit_test(test_errors),
            cmocka_unit_test(test_fashion_mnist),
        };
        return cmocka_run_group_tests_name("qat", tests, NULL, NULL);
    }
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("qat-oom", tests, NULL, NULL);
    }
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
