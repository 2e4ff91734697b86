/* Datasets: the shared sample store, views over it, host-memory
 * constructors and the getters. */
#include <math.h>
#include <string.h>

#include "data_internal.h"

int hwnas__data_store_new(hwnas__data_store **out, hwnas_context *ctx, size_t n, size_t c,
                          size_t h, size_t w, const char *what)
{
    *out = NULL;
    if (n == 0 || c == 0 || h == 0 || w == 0)
        return hwnas__error(HWNAS_EINVAL,
                            "%s: %zu samples of %zu x %zu x %zu: every size must be >= 1", what,
                            n, c, h, w);
    size_t sample = c;
    if (h > SIZE_MAX / sample || w > SIZE_MAX / (sample * h) ||
        n > SIZE_MAX / sizeof(float) / (sample * h * w))
        return hwnas__error(HWNAS_EINVAL, "%s: %zu samples of %zu x %zu x %zu overflow memory",
                            what, n, c, h, w);
    sample = c * h * w;
    hwnas__data_store *st = hwnas__calloc(ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    st->images = hwnas__malloc(ctx, n * sample * sizeof(float));
    st->labels = hwnas__malloc(ctx, n * sizeof(int32_t));
    if (!st->images || !st->labels) {
        hwnas__free(ctx, st->images);
        hwnas__free(ctx, st->labels);
        hwnas__free(ctx, st);
        return HWNAS_ENOMEM;
    }
    atomic_init(&st->refs, 1);
    st->ctx = ctx;
    st->n = n;
    st->c = c;
    st->h = h;
    st->w = w;
    st->sample = sample;
    *out = st;
    return HWNAS_OK;
}

void hwnas__data_store_unref(hwnas__data_store *st)
{
    if (!st || atomic_fetch_sub(&st->refs, 1) != 1)
        return;
    hwnas__free(st->ctx, st->images);
    hwnas__free(st->ctx, st->labels);
    hwnas__free(st->ctx, st);
}

int hwnas__data_store_set_classes(hwnas__data_store *st, size_t classes, const char *what)
{
    int32_t max = -1;
    for (size_t i = 0; i < st->n; i++) {
        int32_t l = st->labels[i];
        if (l < 0 || (classes > 0 && (size_t)l >= classes))
            return hwnas__error(HWNAS_EINVAL, "%s: label %d of sample %zu is out of range [0, %zu)",
                                what, (int)l, i, classes ? classes : (size_t)INT32_MAX);
        if (l > max)
            max = l;
    }
    /* A bound on derived class counts keeps per-class arrays of a corrupt
     * label file (one huge label) from exhausting memory. */
    if (!classes && max >= (1 << 20))
        return hwnas__error(HWNAS_EINVAL,
                            "%s: largest label %d implies more than 2^20 classes; pass classes= "
                            "explicitly if that is meant",
                            what, (int)max);
    st->classes = classes ? classes : (size_t)max + 1;
    return HWNAS_OK;
}

int hwnas__data_wrap(hwnas_dataset **out, hwnas__data_store *st)
{
    *out = NULL;
    hwnas_dataset *ds = hwnas__calloc(st->ctx, 1, sizeof *ds);
    if (!ds) {
        hwnas__data_store_unref(st);
        return HWNAS_ENOMEM;
    }
    ds->ctx = st->ctx;
    ds->store = st;
    ds->count = st->n;
    *out = ds;
    return HWNAS_OK;
}

int hwnas__data_view(hwnas_dataset **out, const hwnas_dataset *ds, size_t *pos, size_t count)
{
    *out = NULL;
    hwnas_dataset *v = hwnas__calloc(ds->ctx, 1, sizeof *v);
    double *norm = NULL;
    if (v && ds->norm) {
        norm = hwnas__malloc(ds->ctx, 2 * ds->store->c * sizeof *norm);
        if (norm)
            memcpy(norm, ds->norm, 2 * ds->store->c * sizeof *norm);
    }
    if (!v || (ds->norm && !norm)) {
        hwnas__free(ds->ctx, v);
        hwnas__free(ds->ctx, pos);
        return HWNAS_ENOMEM;
    }
    v->ctx = ds->ctx;
    v->store = ds->store;
    atomic_fetch_add(&v->store->refs, 1);
    v->count = count;
    v->pos = pos;
    v->norm = norm;
    *out = v;
    return HWNAS_OK;
}

void hwnas_dataset_free(hwnas_dataset *ds)
{
    if (!ds)
        return;
    hwnas_context *ctx = ds->ctx;
    hwnas__data_store_unref(ds->store);
    hwnas__free(ctx, ds->pos);
    hwnas__free(ctx, ds->norm);
    hwnas__free(ctx, ds);
}

/* Checks shared by the host-memory constructors. */
static int check_memory_args(hwnas_dataset **out, hwnas_context *ctx, const void *images,
                             const void *labels, const char *fn)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !images || !labels)
        return hwnas__error(HWNAS_EINVAL, "%s: NULL %s", fn,
                            !out ? "out" : !ctx ? "ctx" : !images ? "images" : "labels");
    return HWNAS_OK;
}

int hwnas_dataset_from_float(hwnas_dataset **out, hwnas_context *ctx, const float *images,
                             const int32_t *labels, size_t n, size_t channels, size_t height,
                             size_t width, size_t classes)
{
    const char *fn = "hwnas_dataset_from_float";
    int rc = check_memory_args(out, ctx, images, labels, fn);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__data_store *st;
    rc = hwnas__data_store_new(&st, ctx, n, channels, height, width, fn);
    if (rc != HWNAS_OK)
        return rc;
    size_t total = n * st->sample;
    for (size_t i = 0; i < total; i++) {
        if (!isfinite(images[i])) {
            hwnas__data_store_unref(st);
            return hwnas__error(HWNAS_EINVAL, "%s: image value %zu (sample %zu) is not finite",
                                fn, i, i / (channels * height * width));
        }
    }
    memcpy(st->images, images, total * sizeof(float));
    memcpy(st->labels, labels, n * sizeof(int32_t));
    rc = hwnas__data_store_set_classes(st, classes, fn);
    if (rc != HWNAS_OK) {
        hwnas__data_store_unref(st);
        return rc;
    }
    return hwnas__data_wrap(out, st);
}

int hwnas_dataset_from_u8(hwnas_dataset **out, hwnas_context *ctx, const uint8_t *images,
                          const uint8_t *labels, size_t n, size_t channels, size_t height,
                          size_t width, double scale, size_t classes)
{
    const char *fn = "hwnas_dataset_from_u8";
    int rc = check_memory_args(out, ctx, images, labels, fn);
    if (rc != HWNAS_OK)
        return rc;
    if (!isfinite(scale) || !isfinite(255.0 * scale))
        return hwnas__error(HWNAS_EINVAL, "%s: scale %g is not finite", fn, scale);
    hwnas__data_store *st;
    rc = hwnas__data_store_new(&st, ctx, n, channels, height, width, fn);
    if (rc != HWNAS_OK)
        return rc;
    float table[256];
    for (int v = 0; v < 256; v++)
        table[v] = (float)(v * scale);
    size_t total = n * st->sample;
    for (size_t i = 0; i < total; i++)
        st->images[i] = table[images[i]];
    for (size_t i = 0; i < n; i++)
        st->labels[i] = labels[i];
    rc = hwnas__data_store_set_classes(st, classes, fn);
    if (rc != HWNAS_OK) {
        hwnas__data_store_unref(st);
        return rc;
    }
    return hwnas__data_wrap(out, st);
}

size_t hwnas_dataset_count(const hwnas_dataset *ds) { return ds ? ds->count : 0; }
size_t hwnas_dataset_channels(const hwnas_dataset *ds) { return ds ? ds->store->c : 0; }
size_t hwnas_dataset_height(const hwnas_dataset *ds) { return ds ? ds->store->h : 0; }
size_t hwnas_dataset_width(const hwnas_dataset *ds) { return ds ? ds->store->w : 0; }
size_t hwnas_dataset_sample_size(const hwnas_dataset *ds) { return ds ? ds->store->sample : 0; }
size_t hwnas_dataset_classes(const hwnas_dataset *ds) { return ds ? ds->store->classes : 0; }

int32_t hwnas_dataset_label(const hwnas_dataset *ds, size_t i)
{
    if (!ds || i >= ds->count)
        return -1;
    return ds->store->labels[hwnas__data_index(ds, i)];
}

int hwnas_dataset_histogram(size_t *out_counts, const hwnas_dataset *ds)
{
    if (!out_counts || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dataset_histogram: NULL %s",
                            !out_counts ? "out_counts" : "ds");
    memset(out_counts, 0, ds->store->classes * sizeof *out_counts);
    for (size_t i = 0; i < ds->count; i++)
        out_counts[ds->store->labels[hwnas__data_index(ds, i)]]++;
    return HWNAS_OK;
}
