/* Datasets: host-memory constructors, loading IDX pairs and a stand-in
 * Fashion-MNIST directory, batches, normalisation and augmentation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_tests.h"

static hwnas_context *ctx;
static const char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tmpdir_new();
    return hwnas_context_new(&ctx, NULL);
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    hwnas_context_free(ctx);
    return 0;
}

static void test_from_float(void **state)
{
    (void)state;
    /* 3 samples, 2 channels of 2 x 3. */
    float img[3 * 12];
    for (int i = 0; i < 36; i++)
        img[i] = (float)i * 0.5f;
    int32_t lab[3] = {2, 0, 4};
    hwnas_dataset *ds = NULL;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, 3, 2, 2, 3, 0), HWNAS_OK);
    assert_int_equal(hwnas_dataset_count(ds), 3);
    assert_int_equal(hwnas_dataset_channels(ds), 2);
    assert_int_equal(hwnas_dataset_height(ds), 2);
    assert_int_equal(hwnas_dataset_width(ds), 3);
    assert_int_equal(hwnas_dataset_sample_size(ds), 12);
    assert_int_equal(hwnas_dataset_classes(ds), 5);
    assert_int_equal(hwnas_dataset_label(ds, 2), 4);
    assert_int_equal(hwnas_dataset_label(ds, 3), -1);
    size_t hist[5];
    assert_int_equal(hwnas_dataset_histogram(hist, ds), HWNAS_OK);
    assert_true(hist[0] == 1 && hist[1] == 0 && hist[2] == 1 && hist[3] == 0 && hist[4] == 1);
    /* The caller's arrays were copied. */
    img[0] = 99;
    size_t pos[2] = {2, 0};
    float out[24];
    int32_t ol[2];
    assert_int_equal(hwnas_dataset_batch(out, ol, ds, pos, 2), HWNAS_OK);
    assert_true(out[0] == 12.0f && out[11] == 17.5f && out[12] == 0.0f);
    assert_true(ol[0] == 4 && ol[1] == 2);
    /* Labels only, and a bad position. */
    assert_int_equal(hwnas_dataset_batch(NULL, ol, ds, pos, 2), HWNAS_OK);
    pos[1] = 3;
    assert_int_equal(hwnas_dataset_batch(out, ol, ds, pos, 2), HWNAS_EINVAL);
    assert_message_has("positions[1] = 3", NULL);
    assert_int_equal(hwnas_dataset_batch(NULL, NULL, ds, pos, 2), HWNAS_EINVAL);
    hwnas_dataset_free(ds);
    hwnas_dataset_free(NULL);
    assert_int_equal(hwnas_dataset_count(NULL), 0);
}

static void test_from_memory_errors(void **state)
{
    (void)state;
    float img[4] = {0, 1, 2, NAN};
    int32_t lab[4] = {0, 1, 2, 3};
    hwnas_dataset *ds = (hwnas_dataset *)1;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, 4, 1, 1, 1, 0), HWNAS_EINVAL);
    assert_null(ds);
    assert_message_has("value 3", "not finite", NULL);
    img[3] = 3;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, 4, 1, 1, 1, 3), HWNAS_EINVAL);
    assert_message_has("label 3 of sample 3 is out of range [0, 3)", NULL);
    lab[1] = -1;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, 4, 1, 1, 1, 0), HWNAS_EINVAL);
    assert_message_has("label -1 of sample 1", NULL);
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, 0, 1, 1, 1, 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, 4, 1, 0, 1, 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, NULL, lab, 4, 1, 1, 1, 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, SIZE_MAX / 2, 1, 1, 4, 0),
                     HWNAS_EINVAL);
    assert_message_has("overflow", NULL);
    uint8_t u8[4] = {0, 51, 255, 3}, l8[4] = {1, 1, 0, 1};
    assert_int_equal(hwnas_dataset_from_u8(&ds, ctx, u8, l8, 4, 1, 2, 2, INFINITY, 0),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_from_u8(&ds, ctx, u8, l8, 1, 1, 2, 2, 1.0 / 255, 0), HWNAS_OK);
    assert_int_equal(hwnas_dataset_classes(ds), 2);
    float out[4];
    size_t p0 = 0;
    assert_int_equal(hwnas_dataset_batch(out, NULL, ds, &p0, 1), HWNAS_OK);
    assert_true(out[0] == 0.0f && out[1] == (float)(51.0 / 255) && out[2] == 1.0f);
    hwnas_dataset_free(ds);
}

/* Write a stand-in Fashion-MNIST: n images of 28 x 28 with pixel
 * (i + y + x) % 256 and label i % 10. */
static void write_fake_fmnist(const char *d, const char *prefix, uint32_t n, int gzip)
{
    uint8_t *px = malloc((size_t)n * 784), *lb = malloc(n);
    for (uint32_t i = 0; i < n; i++) {
        lb[i] = (uint8_t)(i % 10);
        for (int k = 0; k < 784; k++)
            px[(size_t)i * 784 + k] = (uint8_t)((i + k / 28 + k % 28) % 256);
    }
    char path[512], name[64];
    uint32_t di[3] = {n, 28, 28}, dl[1] = {n};
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gzip ? ".gz" : "");
    write_idx_u8(path, d, name, 3, di, px, gzip);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gzip ? ".gz" : "");
    write_idx_u8(path, d, name, 1, dl, lb, gzip);
    free(px);
    free(lb);
}

static void test_fashion_mnist_dir(void **state)
{
    (void)state;
    write_fake_fmnist(dir, "train", 30, 1);
    write_fake_fmnist(dir, "t10k", 20, 0); /* plain files work too */
    char opts[600];
    snprintf(opts, sizeof opts, "dir=%s", dir);
    hwnas_dataset *tr = NULL, *te = NULL;
    assert_int_equal(hwnas_dataset_load(&tr, ctx, "fashion-mnist", opts), HWNAS_OK);
    snprintf(opts, sizeof opts, "split=test;dir=%s;scale=1", dir);
    assert_int_equal(hwnas_dataset_load(&te, ctx, "dataset:fashion-mnist", opts), HWNAS_OK);
    assert_int_equal(hwnas_dataset_count(tr), 30);
    assert_int_equal(hwnas_dataset_count(te), 20);
    assert_int_equal(hwnas_dataset_classes(tr), 10);
    assert_int_equal(hwnas_dataset_height(te), 28);
    assert_int_equal(hwnas_dataset_label(tr, 13), 3);
    float img[784];
    size_t p = 5;
    assert_int_equal(hwnas_dataset_batch(img, NULL, tr, &p, 1), HWNAS_OK);
    assert_true(img[28 * 2 + 3] == (float)(10.0 / 255));
    assert_int_equal(hwnas_dataset_batch(img, NULL, te, &p, 1), HWNAS_OK);
    assert_true(img[28 * 2 + 3] == 10.0f);
    hwnas_dataset_free(tr);
    hwnas_dataset_free(te);
    /* A directory without the files says how to install them. */
    hwnas_dataset *ds = (hwnas_dataset *)1;
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "fashion-mnist", "dir=/nonexistent/fm"),
                     HWNAS_ENOTFOUND);
    assert_null(ds);
    assert_message_has("/nonexistent/fm/train-images-idx3-ubyte.gz",
                       "apt-get install dataset-fashion-mnist", NULL);
    /* Bad options and names. */
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "fashion-mnist", "split=val"), HWNAS_EINVAL);
    assert_message_has("split", NULL);
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "fashion-mnist", "spilt=test"), HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "cifar", NULL), HWNAS_ENOTFOUND);
    assert_message_has("cifar", "fashion-mnist", NULL);
    assert_int_equal(hwnas_dataset_load(&ds, NULL, "idx", NULL), HWNAS_EINVAL);
}

static void test_idx_pair(void **state)
{
    (void)state;
    char ip[512], lp[512], opts[1200];
    uint32_t di[4] = {2, 2, 2, 3}; /* N H W C */
    uint8_t px[24];
    for (int i = 0; i < 24; i++)
        px[i] = (uint8_t)i;
    uint32_t dl[1] = {2};
    uint8_t lb[2] = {1, 0};
    write_idx_u8(ip, dir, "im4", 4, di, px, 0);
    write_idx_u8(lp, dir, "lb", 1, dl, lb, 1);
    snprintf(opts, sizeof opts, "images=%s;labels=%s;layout=nhwc;scale=1", ip, lp);
    hwnas_dataset *ds = NULL;
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "idx", opts), HWNAS_OK);
    assert_int_equal(hwnas_dataset_channels(ds), 3);
    assert_int_equal(hwnas_dataset_height(ds), 2);
    assert_int_equal(hwnas_dataset_width(ds), 2);
    float out[12];
    size_t p = 1;
    assert_int_equal(hwnas_dataset_batch(out, NULL, ds, &p, 1), HWNAS_OK);
    /* Sample 1, channel c, pixel (y, x) was byte 12 + (y * 2 + x) * 3 + c. */
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 4; k++)
            assert_true(out[c * 4 + k] == (float)(12 + k * 3 + c));
    hwnas_dataset_free(ds);
    /* The same file as N C H W. */
    snprintf(opts, sizeof opts, "images=%s;labels=%s", ip, lp);
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "idx", opts), HWNAS_OK);
    assert_int_equal(hwnas_dataset_channels(ds), 2);
    assert_int_equal(hwnas_dataset_batch(out, NULL, ds, &p, 1), HWNAS_OK);
    assert_true(out[5] == (float)(17.0 / 255));
    hwnas_dataset_free(ds);

    /* Counts that differ name both files. */
    uint32_t dl3[1] = {3};
    uint8_t lb3[3] = {0, 1, 2};
    write_idx_u8(lp, dir, "lb3", 1, dl3, lb3, 0);
    snprintf(opts, sizeof opts, "images=%s;labels=%s", ip, lp);
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "idx", opts), HWNAS_EFORMAT);
    assert_message_has(ip, lp, "holds 2 images", "holds 3 labels", NULL);
    /* A label out of range for classes=. */
    write_idx_u8(lp, dir, "lb", 1, dl, lb, 1);
    snprintf(opts, sizeof opts, "images=%s;labels=%s;classes=1", ip, lp);
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "idx", opts), HWNAS_EFORMAT);
    assert_message_has(lp, "label 1 of item 0", NULL);
    /* Labels file of the wrong rank; images given as labels. */
    snprintf(opts, sizeof opts, "images=%s;labels=%s", ip, ip);
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "idx", opts), HWNAS_EFORMAT);
    assert_message_has("labels must have 1 dimension", NULL);
    /* Missing option. */
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "idx", "labels=x"), HWNAS_EINVAL);
    assert_message_has("'images' is required", NULL);
    /* Float labels are refused. */
    size_t len;
    uint8_t fl[8] = {0};
    uint8_t *b = idx_bytes(HWNAS_IDX_FLOAT, 1, dl, fl, 8, &len);
    write_file(lp, dir, "lbf", b, len, 0);
    free(b);
    snprintf(opts, sizeof opts, "images=%s;labels=%s", ip, lp);
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "idx", opts), HWNAS_EFORMAT);
    assert_message_has("must be integers", NULL);
    /* Int16 labels and float images, scale 1 by default. */
    uint8_t sl[4] = {0, 1, 0, 0};
    b = idx_bytes(HWNAS_IDX_SHORT, 1, dl, sl, 4, &len);
    write_file(lp, dir, "lbs", b, len, 0);
    free(b);
    uint32_t d2[2] = {2, 1};
    uint8_t fv[8] = {0x3F, 0xC0, 0, 0, 0x7F, 0x80, 0, 0}; /* 1.5, +inf */
    b = idx_bytes(HWNAS_IDX_FLOAT, 2, d2, fv, 8, &len);
    write_file(ip, dir, "imf", b, len, 0);
    free(b);
    snprintf(opts, sizeof opts, "images=%s;labels=%s", ip, lp);
    assert_int_equal(hwnas_dataset_load(&ds, ctx, "idx", opts), HWNAS_EFORMAT);
    assert_message_has(ip, "not finite", NULL);
}

static void test_normalize(void **state)
{
    (void)state;
    /* 2 samples, 2 channels of 1 x 2: channel 0 = {1, 3, 5, 7}, channel 1 = {2, 2, 2, 2}. */
    float img[8] = {1, 3, 2, 2, 5, 7, 2, 2};
    int32_t lab[2] = {0, 1};
    hwnas_dataset *ds = NULL;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, 2, 2, 1, 2, 0), HWNAS_OK);
    double mean[2], sd[2];
    assert_int_equal(hwnas_dataset_stats(mean, sd, ds), HWNAS_OK);
    assert_true(mean[0] == 4 && fabs(sd[0] - sqrt(5.0)) < 1e-12);
    assert_true(mean[1] == 2 && sd[1] == 0);
    /* A zero std is refused, naming the channel. */
    assert_int_equal(hwnas_dataset_normalize(ds, mean, sd), HWNAS_EINVAL);
    assert_message_has("channel 1", NULL);
    sd[1] = 0.5;
    assert_int_equal(hwnas_dataset_normalize(ds, mean, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_normalize(ds, mean, sd), HWNAS_OK);
    size_t pos[2] = {0, 1};
    float out[8];
    assert_int_equal(hwnas_dataset_batch(out, NULL, ds, pos, 2), HWNAS_OK);
    assert_true(fabsf(out[0] - (float)(-3 / sqrt(5.0))) < 1e-6f);
    assert_true(out[2] == 0 && out[3] == 0);
    double m2[2], s2[2];
    /* Stats ignore the normalisation: they describe the stored values. */
    assert_int_equal(hwnas_dataset_stats(m2, s2, ds), HWNAS_OK);
    assert_true(m2[0] == 4);
    /* A view inherits the normalisation; the parent's removal leaves it. */
    hwnas_dataset *v = NULL;
    assert_int_equal(hwnas_dataset_subset(&v, ds, 1, HWNAS_DATASET_FIRST, 0), HWNAS_OK);
    assert_int_equal(hwnas_dataset_normalize(ds, NULL, NULL), HWNAS_OK);
    assert_int_equal(hwnas_dataset_batch(out, NULL, v, pos, 1), HWNAS_OK);
    assert_true(fabsf(out[1] - (float)(-1 / sqrt(5.0))) < 1e-6f);
    assert_int_equal(hwnas_dataset_batch(out, NULL, ds, pos, 1), HWNAS_OK);
    assert_true(out[1] == 3);
    /* The parent may go first. */
    hwnas_dataset_free(ds);
    assert_int_equal(hwnas_dataset_label(v, 0), 0);
    hwnas_dataset_free(v);
}

/* A dataset of n distinct images (c x h x w) with label i % classes. */
static hwnas_dataset *distinct(size_t n, size_t c, size_t h, size_t w, size_t classes)
{
    size_t s = c * h * w;
    float *img = malloc(n * s * sizeof *img);
    int32_t *lab = malloc(n * sizeof *lab);
    for (size_t i = 0; i < n * s; i++)
        img[i] = (float)(i % 1000) + 1.0f;
    for (size_t i = 0; i < n; i++)
        lab[i] = (int32_t)(i % classes);
    hwnas_dataset *ds = NULL;
    assert_int_equal(hwnas_dataset_from_float(&ds, ctx, img, lab, n, c, h, w, classes), HWNAS_OK);
    free(img);
    free(lab);
    return ds;
}

static void test_augment(void **state)
{
    (void)state;
    enum { N = 6, C = 2, H = 5, W = 4, S = C * H * W };
    hwnas_dataset *ds = distinct(N, C, H, W, 3);
    size_t pos[N] = {0, 1, 2, 3, 4, 5};
    float plain[N * S], aug[N * S], back[N * S];
    int32_t l1[N], l2[N];
    assert_int_equal(hwnas_dataset_batch(plain, l1, ds, pos, N), HWNAS_OK);
    /* pad 0, no flip: the identity, whatever the seed. */
    assert_int_equal(hwnas_dataset_batch_augment(aug, l2, ds, pos, N, 0, 0.0, 77, 3), HWNAS_OK);
    assert_memory_equal(aug, plain, sizeof plain);
    assert_memory_equal(l1, l2, sizeof l1);
    /* flip_prob 1: x -> W-1-x, and flipping twice is the identity. */
    assert_int_equal(hwnas_dataset_batch_augment(aug, NULL, ds, pos, N, 0, 1.0, 5, 0), HWNAS_OK);
    for (size_t i = 0; i < N * S; i++)
        assert_true(aug[i] == plain[i - i % W + (W - 1 - i % W)]);
    hwnas_dataset *flipped = NULL;
    assert_int_equal(hwnas_dataset_from_float(&flipped, ctx, aug, l1, N, C, H, W, 3), HWNAS_OK);
    assert_int_equal(hwnas_dataset_batch_augment(back, NULL, flipped, pos, N, 0, 1.0, 9, 1),
                     HWNAS_OK);
    assert_memory_equal(back, plain, sizeof plain);
    hwnas_dataset_free(flipped);
    /* Padded crops: every value is 0 or the original pixel shifted by one
     * (dy, dx) per image, the same in every channel. */
    int shifted = 0;
    assert_int_equal(hwnas_dataset_batch_augment(aug, NULL, ds, pos, N, 2, 0.0, 11, 0), HWNAS_OK);
    for (size_t j = 0; j < N; j++) {
        int found = 0;
        for (int dy = -2; dy <= 2 && !found; dy++)
            for (int dx = -2; dx <= 2 && !found; dx++) {
                int ok = 1;
                for (int c = 0; c < C && ok; c++)
                    for (int y = 0; y < H && ok; y++)
                        for (int x = 0; x < W && ok; x++) {
                            int sy = y + dy, sx = x + dx;
                            float want = sy >= 0 && sy < H && sx >= 0 && sx < W
                                             ? plain[j * S + (size_t)(c * H * W + sy * W + sx)]
                                             : 0.0f;
                            ok = aug[j * S + (size_t)(c * H * W + y * W + x)] == want;
                        }
                if (ok) {
                    found = 1;
                    shifted += dy != 0 || dx != 0;
                }
            }
        assert_true(found);
    }
    assert_true(shifted > 0);
    /* Reproducible per (seed, epoch, position), whatever the batch: sample
     * 4 alone gets what it got in the full batch. */
    float one[S];
    size_t p4 = 4;
    assert_int_equal(hwnas_dataset_batch_augment(one, NULL, ds, &p4, 1, 2, 0.5, 11, 0), HWNAS_OK);
    assert_int_equal(hwnas_dataset_batch_augment(aug, NULL, ds, pos, N, 2, 0.5, 11, 0), HWNAS_OK);
    assert_memory_equal(one, aug + 4 * S, sizeof one);
    /* Another epoch changes some image. */
    assert_int_equal(hwnas_dataset_batch_augment(back, NULL, ds, pos, N, 2, 0.5, 11, 1), HWNAS_OK);
    assert_memory_not_equal(back, aug, sizeof aug);
    /* Bad parameters. */
    assert_int_equal(hwnas_dataset_batch_augment(aug, NULL, ds, pos, N, 6, 0.5, 1, 0),
                     HWNAS_EINVAL);
    assert_message_has("pad 6", NULL);
    assert_int_equal(hwnas_dataset_batch_augment(aug, NULL, ds, pos, N, 1, 1.5, 1, 0),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_dataset_batch_augment(aug, NULL, ds, pos, N, 1, NAN, 1, 0),
                     HWNAS_EINVAL);
    hwnas_dataset_free(ds);
}

/* Padding is zero in stored values, then normalised like the image. */
static void test_augment_pad_normalized(void **state)
{
    (void)state;
    hwnas_dataset *ds = distinct(1, 1, 1, 1, 1);
    double m = 0.5, s = 2;
    assert_int_equal(hwnas_dataset_normalize(ds, &m, &s), HWNAS_OK);
    /* A 1 x 1 image padded by 1: 2 of 3 offsets per axis fall outside. */
    int zero = 0, orig = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        float v;
        size_t p = 0;
        assert_int_equal(hwnas_dataset_batch_augment(&v, NULL, ds, &p, 1, 1, 0, seed, 0),
                         HWNAS_OK);
        if (v == -0.25f)
            zero++;
        else if (v == 0.25f) /* (1 - 0.5) / 2 */
            orig++;
        else
            fail_msg("unexpected value %g", (double)v);
    }
    assert_true(zero > 0 && orig > 0);
    hwnas_dataset_free(ds);
}

int run_dataset_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_float),
        cmocka_unit_test(test_from_memory_errors),
        cmocka_unit_test(test_fashion_mnist_dir),
        cmocka_unit_test(test_idx_pair),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_augment),
        cmocka_unit_test(test_augment_pad_normalized),
    };
    return cmocka_run_group_tests_name("dataset", tests, setup, teardown);
}
