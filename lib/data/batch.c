/* Reading samples out: statistics, normalisation, mini-batches and
 * augmentation (random crop with zero padding, horizontal flip). */
#include <math.h>
#include <string.h>

#include "data_internal.h"

int hwnas_dataset_stats(double *out_mean, double *out_std, const hwnas_dataset *ds)
{
    if (!out_mean || !out_std || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dataset_stats: NULL %s",
                            !out_mean ? "out_mean" : !out_std ? "out_std" : "ds");
    const hwnas__data_store *st = ds->store;
    size_t plane = st->h * st->w;
    double per = (double)ds->count * (double)plane;
    /* Two passes in a fixed order: exact enough and independent of threads. */
    for (size_t c = 0; c < st->c; c++) {
        double sum = 0;
        for (size_t i = 0; i < ds->count; i++) {
            const float *p = st->images + hwnas__data_index(ds, i) * st->sample + c * plane;
            double s = 0;
            for (size_t k = 0; k < plane; k++)
                s += p[k];
            sum += s;
        }
        double mean = sum / per, ss = 0;
        for (size_t i = 0; i < ds->count; i++) {
            const float *p = st->images + hwnas__data_index(ds, i) * st->sample + c * plane;
            double s = 0;
            for (size_t k = 0; k < plane; k++) {
                double d = p[k] - mean;
                s += d * d;
            }
            ss += s;
        }
        out_mean[c] = mean;
        out_std[c] = sqrt(ss / per);
    }
    return HWNAS_OK;
}

int hwnas_dataset_normalize(hwnas_dataset *ds, const double *mean, const double *std)
{
    const char *fn = "hwnas_dataset_normalize";
    if (!ds)
        return hwnas__error(HWNAS_EINVAL, "%s: NULL ds", fn);
    if (!mean != !std)
        return hwnas__error(HWNAS_EINVAL, "%s: %s is NULL but %s is not", fn,
                            !mean ? "mean" : "std", !mean ? "std" : "mean");
    if (!mean) {
        hwnas__free(ds->ctx, ds->norm);
        ds->norm = NULL;
        return HWNAS_OK;
    }
    size_t c = ds->store->c;
    for (size_t i = 0; i < c; i++) {
        if (!isfinite(mean[i]))
            return hwnas__error(HWNAS_EINVAL, "%s: mean of channel %zu is %g, not finite", fn,
                                i, mean[i]);
        if (!isfinite(std[i]) || !(std[i] > 0) || !isfinite(1.0 / std[i]))
            return hwnas__error(HWNAS_EINVAL,
                                "%s: std of channel %zu is %g; it must be finite and > 0", fn,
                                i, std[i]);
    }
    double *norm = ds->norm;
    if (!norm) {
        norm = hwnas__malloc(ds->ctx, 2 * c * sizeof *norm);
        if (!norm)
            return HWNAS_ENOMEM;
    }
    memcpy(norm, mean, c * sizeof *norm);
    memcpy(norm + c, std, c * sizeof *norm);
    ds->norm = norm;
    return HWNAS_OK;
}

/* Bring one image (in place) from stored values to delivered ones. */
static void apply_norm(float *img, const hwnas_dataset *ds)
{
    const hwnas__data_store *st = ds->store;
    size_t plane = st->h * st->w;
    for (size_t c = 0; c < st->c; c++) {
        float m = (float)ds->norm[c], inv = (float)(1.0 / ds->norm[st->c + c]);
        float *p = img + c * plane;
        for (size_t k = 0; k < plane; k++)
            p[k] = (p[k] - m) * inv;
    }
}

static int check_batch(float *out_images, int32_t *out_labels, const hwnas_dataset *ds,
                       const size_t *positions, size_t n, const char *fn)
{
    if (!ds || !positions || (!out_images && !out_labels))
        return hwnas__error(HWNAS_EINVAL, "%s: NULL %s", fn,
                            !ds ? "ds" : !positions ? "positions" : "out_images and out_labels");
    for (size_t j = 0; j < n; j++)
        if (positions[j] >= ds->count)
            return hwnas__error(HWNAS_EINVAL, "%s: positions[%zu] = %zu is not below %zu", fn, j,
                                positions[j], ds->count);
    return HWNAS_OK;
}

int hwnas_dataset_batch(float *out_images, int32_t *out_labels, const hwnas_dataset *ds,
                        const size_t *positions, size_t n)
{
    int rc = check_batch(out_images, out_labels, ds, positions, n, "hwnas_dataset_batch");
    if (rc != HWNAS_OK)
        return rc;
    const hwnas__data_store *st = ds->store;
    for (size_t j = 0; j < n; j++) {
        size_t k = hwnas__data_index(ds, positions[j]);
        if (out_labels)
            out_labels[j] = st->labels[k];
        if (!out_images)
            continue;
        float *dst = out_images + j * st->sample;
        memcpy(dst, st->images + k * st->sample, st->sample * sizeof *dst);
        if (ds->norm)
            apply_norm(dst, ds);
    }
    return HWNAS_OK;
}

/* Crop the image at src, padded by pad zeros, at offset (dy, dx) of the
 * padded image, flipping left-right if flip, into dst. */
static void crop_flip(float *dst, const float *src, const hwnas__data_store *st, size_t pad,
                      size_t dy, size_t dx, int flip)
{
    size_t h = st->h, w = st->w, plane = h * w;
    for (size_t c = 0; c < st->c; c++) {
        const float *s = src + c * plane;
        float *d = dst + c * plane;
        for (size_t y = 0; y < h; y++) {
            /* Source row sy = y + dy - pad, computed without going negative. */
            int row_in = y + dy >= pad && y + dy - pad < h;
            const float *srow = row_in ? s + (y + dy - pad) * w : NULL;
            float *drow = d + y * w;
            for (size_t x = 0; x < w; x++) {
                size_t xx = flip ? w - 1 - x : x;
                int in = row_in && xx + dx >= pad && xx + dx - pad < w;
                drow[x] = in ? srow[xx + dx - pad] : 0.0f;
            }
        }
    }
}

int hwnas_dataset_batch_augment(float *out_images, int32_t *out_labels, const hwnas_dataset *ds,
                                const size_t *positions, size_t n, size_t pad, double flip_prob,
                                uint64_t seed, uint64_t epoch)
{
    const char *fn = "hwnas_dataset_batch_augment";
    int rc = check_batch(out_images, out_labels, ds, positions, n, fn);
    if (rc != HWNAS_OK)
        return rc;
    if (!(flip_prob >= 0 && flip_prob <= 1))
        return hwnas__error(HWNAS_EINVAL, "%s: flip_prob %g is not in [0, 1]", fn, flip_prob);
    const hwnas__data_store *st = ds->store;
    size_t limit = st->h > st->w ? st->h : st->w;
    if (pad > limit)
        return hwnas__error(HWNAS_EINVAL, "%s: pad %zu is larger than the image (%zu x %zu)", fn,
                            pad, st->h, st->w);
    for (size_t j = 0; j < n; j++) {
        size_t k = hwnas__data_index(ds, positions[j]);
        if (out_labels)
            out_labels[j] = st->labels[k];
        if (!out_images)
            continue;
        hwnas__rng r;
        hwnas__data_rng(&r, seed, HWNAS__DATA_STREAM_AUGMENT, epoch, positions[j]);
        size_t dy = (size_t)hwnas__rng_below(&r, 2 * (uint64_t)pad + 1);
        size_t dx = (size_t)hwnas__rng_below(&r, 2 * (uint64_t)pad + 1);
        int flip = hwnas__rng_uniform(&r) < flip_prob;
        float *dst = out_images + j * st->sample;
        crop_flip(dst, st->images + k * st->sample, st, pad, dy, dx, flip);
        if (ds->norm)
            apply_norm(dst, ds);
    }
    return HWNAS_OK;
}
