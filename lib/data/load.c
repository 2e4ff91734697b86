/* Named datasets from files: Fashion-MNIST in its Debian location, and any
 * pair of IDX files. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data_internal.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

enum { FM_SPLIT, FM_DIR, FM_SCALE };
static const hwnas__option_spec fmnist_options[] = {
    [FM_SPLIT] = {"split", HWNAS_OPTION_ENUM, "train", 0, 0, "train|test",
                  "which images: the 60,000 for training or the 10,000 for testing"},
    [FM_DIR] = {"dir", HWNAS_OPTION_STRING, FMNIST_DIR, 0, 0, NULL,
                "directory of the four IDX files, gzipped or plain"},
    [FM_SCALE] = {"scale", HWNAS_OPTION_FLOAT, "0.00392156862745098", -1e30, 1e30, NULL,
                  "factor applied to the byte values (default 1/255: values in [0, 1])"},
};

const hwnas__kind hwnas__dataset_fashion_mnist_kind = {
    "dataset:fashion-mnist", fmnist_options, HWNAS_ARRAY_SIZE(fmnist_options), NULL,
};

enum { IX_IMAGES, IX_LABELS, IX_SCALE, IX_CLASSES, IX_LAYOUT };
static const hwnas__option_spec idx_options[] = {
    [IX_IMAGES] = {"images", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                   "IDX file of the images (rank 2, 3 or 4), required"},
    [IX_LABELS] = {"labels", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                   "IDX file of the labels (rank 1, integers), required"},
    [IX_SCALE] = {"scale", HWNAS_OPTION_FLOAT, "0", -1e30, 1e30, NULL,
                  "factor applied to the values; 0 = 1/255 for unsigned bytes, else 1"},
    [IX_CLASSES] = {"classes", HWNAS_OPTION_INT, "0", 0, 1 << 20, NULL,
                    "number of classes; 0 = the largest label + 1"},
    [IX_LAYOUT] = {"layout", HWNAS_OPTION_ENUM, "nchw", 0, 0, "nchw|nhwc",
                   "order of the dimensions of a rank-4 image file"},
};

const hwnas__kind hwnas__dataset_idx_kind = {
    "dataset:idx", idx_options, HWNAS_ARRAY_SIZE(idx_options), NULL,
};

/* Element k of idx as double. */
static double idx_at(const hwnas_idx *idx, size_t k)
{
    const void *d = idx->data;
    switch (idx->type) {
    case HWNAS_IDX_UBYTE: return ((const uint8_t *)d)[k];
    case HWNAS_IDX_SBYTE: return ((const int8_t *)d)[k];
    case HWNAS_IDX_SHORT: return ((const int16_t *)d)[k];
    case HWNAS_IDX_INT: return ((const int32_t *)d)[k];
    case HWNAS_IDX_FLOAT: return ((const float *)d)[k];
    default: return ((const double *)d)[k];
    }
}

/* Build a store from an image and a label IDX array (both checked here). */
static int store_from_idx(hwnas__data_store **out, hwnas_context *ctx, const hwnas_idx *im,
                          const char *im_path, const hwnas_idx *lb, const char *lb_path,
                          double scale, size_t classes, int nhwc)
{
    *out = NULL;
    size_t n = im->dims[0], c = 1, h = 1, w = 1;
    if (im->rank == 2) {
        w = im->dims[1];
    } else if (im->rank == 3) {
        h = im->dims[1];
        w = im->dims[2];
    } else if (im->rank == 4) {
        c = nhwc ? im->dims[3] : im->dims[1];
        h = nhwc ? im->dims[1] : im->dims[2];
        w = nhwc ? im->dims[2] : im->dims[3];
    } else {
        return hwnas__error(HWNAS_EFORMAT,
                            "%s: images must have 2, 3 or 4 dimensions (N x F, N x H x W, "
                            "N x C x H x W), not %zu",
                            im_path, im->rank);
    }
    if (lb->rank != 1)
        return hwnas__error(HWNAS_EFORMAT, "%s: labels must have 1 dimension, not %zu", lb_path,
                            lb->rank);
    if (lb->type == HWNAS_IDX_FLOAT || lb->type == HWNAS_IDX_DOUBLE)
        return hwnas__error(HWNAS_EFORMAT, "%s: labels must be integers, not %s", lb_path,
                            lb->type == HWNAS_IDX_FLOAT ? "float" : "double");
    if (lb->dims[0] != n)
        return hwnas__error(HWNAS_EFORMAT, "%s holds %zu images but %s holds %zu labels",
                            im_path, n, lb_path, lb->dims[0]);
    if (n == 0 || c * h * w == 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: no data (%zu items of %zu values)", im_path, n,
                            c * h * w);
    hwnas__data_store *st;
    int rc = hwnas__data_store_new(&st, ctx, n, c, h, w, im_path);
    if (rc != HWNAS_OK)
        return rc;
    size_t total = n * st->sample;
    if (im->type == HWNAS_IDX_UBYTE && !nhwc) {
        float table[256];
        for (int v = 0; v < 256; v++)
            table[v] = (float)(v * scale);
        const uint8_t *src = im->data;
        for (size_t i = 0; i < total; i++)
            st->images[i] = table[src[i]];
    } else {
        for (size_t i = 0; i < total; i++) {
            /* Destination i = (s, ch, y, x); its source index by layout. */
            size_t k = i;
            if (nhwc && im->rank == 4) {
                size_t s = i / st->sample, r = i % st->sample;
                size_t ch = r / (h * w), y = r % (h * w) / w, x = r % w;
                k = s * st->sample + (y * w + x) * c + ch;
            }
            float v = (float)(idx_at(im, k) * scale);
            if (!isfinite(v)) {
                size_t item = k / st->sample;
                hwnas__data_store_unref(st);
                return hwnas__error(HWNAS_EFORMAT,
                                    "%s: value %zu (item %zu) is not finite after scaling by %g",
                                    im_path, k, item, scale);
            }
            st->images[i] = v;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double v = idx_at(lb, i);
        if (v < 0 || (classes && v >= (double)classes) || v > INT32_MAX) {
            hwnas__data_store_unref(st);
            return hwnas__error(HWNAS_EFORMAT, "%s: label %.0f of item %zu is out of range [0, %zu)",
                                lb_path, v, i, classes ? classes : (size_t)INT32_MAX);
        }
        st->labels[i] = (int32_t)v;
    }
    rc = hwnas__data_store_set_classes(st, classes, lb_path);
    if (rc != HWNAS_OK) {
        hwnas__data_store_unref(st);
        return rc == HWNAS_EINVAL ? HWNAS_EFORMAT : rc;
    }
    *out = st;
    return HWNAS_OK;
}

/* Read both files and build the dataset. */
static int load_pair(hwnas_dataset **out, hwnas_context *ctx, const char *im_path,
                     const char *lb_path, double scale, size_t classes, int nhwc)
{
    hwnas_idx *lb = NULL, *im = NULL;
    /* Labels first: they are small, so a wrong path fails fast. */
    int rc = hwnas_idx_read(&lb, ctx, lb_path);
    if (rc == HWNAS_OK)
        rc = hwnas_idx_read(&im, ctx, im_path);
    hwnas__data_store *st = NULL;
    if (rc == HWNAS_OK) {
        if (scale == 0)
            scale = im->type == HWNAS_IDX_UBYTE ? 1.0 / 255 : 1.0;
        rc = store_from_idx(&st, ctx, im, im_path, lb, lb_path, scale, classes, nhwc);
    }
    hwnas_idx_free(im);
    hwnas_idx_free(lb);
    if (rc != HWNAS_OK)
        return rc;
    return hwnas__data_wrap(out, st);
}

/* dir/name.gz if it exists, else dir/name if it exists; into path[size]. */
static int find_file(char *path, size_t size, const char *dir, const char *name)
{
    FILE *f;
    snprintf(path, size, "%s/%s.gz", dir, name);
    if ((f = fopen(path, "rb"))) {
        fclose(f);
        return 1;
    }
    snprintf(path, size, "%s/%s", dir, name);
    if ((f = fopen(path, "rb"))) {
        fclose(f);
        return 1;
    }
    return 0;
}

static int load_fashion_mnist(hwnas_dataset **out, hwnas_context *ctx, const hwnas_options *o)
{
    int test = strcmp(hwnas__options_str(o, FM_SPLIT), "test") == 0;
    const char *dir = hwnas__options_str(o, FM_DIR);
    double scale = hwnas__options_float(o, FM_SCALE);
    const char *prefix = test ? "t10k" : "train";
    char names[2][32], paths[2][4096];
    snprintf(names[0], sizeof names[0], "%s-images-idx3-ubyte", prefix);
    snprintf(names[1], sizeof names[1], "%s-labels-idx1-ubyte", prefix);
    for (int i = 0; i < 2; i++) {
        if (strlen(dir) > 4000)
            return hwnas__error(HWNAS_EINVAL, "fashion-mnist: dir is too long (%zu bytes)",
                                strlen(dir));
        if (!find_file(paths[i], sizeof paths[i], dir, names[i]))
            return hwnas__error(HWNAS_ENOTFOUND,
                                "Fashion-MNIST not found: neither %s/%s.gz nor %s/%s exists; "
                                "install it with `apt-get install dataset-fashion-mnist`, or "
                                "point dir= at a directory holding the files",
                                dir, names[i], dir, names[i]);
    }
    hwnas_dataset *ds = NULL;
    int rc = load_pair(&ds, ctx, paths[0], paths[1], scale, 10, 0);
    if (rc != HWNAS_OK)
        return rc;
    *out = ds;
    return HWNAS_OK;
}

static int load_idx(hwnas_dataset **out, hwnas_context *ctx, const hwnas_options *o)
{
    const char *images = hwnas__options_str(o, IX_IMAGES);
    const char *labels = hwnas__options_str(o, IX_LABELS);
    if (!*images || !*labels)
        return hwnas__error(HWNAS_EINVAL, "dataset idx: option '%s' is required (a path)",
                            !*images ? "images" : "labels");
    return load_pair(out, ctx, images, labels, hwnas__options_float(o, IX_SCALE),
                     (size_t)hwnas__options_int(o, IX_CLASSES),
                     strcmp(hwnas__options_str(o, IX_LAYOUT), "nhwc") == 0);
}

static const struct {
    const hwnas__kind *kind;
    int (*load)(hwnas_dataset **out, hwnas_context *ctx, const hwnas_options *o);
} loaders[] = {
    {&hwnas__dataset_fashion_mnist_kind, load_fashion_mnist},
    {&hwnas__dataset_idx_kind, load_idx},
};

int hwnas_dataset_load(hwnas_dataset **out, hwnas_context *ctx, const char *name,
                       const char *options)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !name)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dataset_load: NULL %s",
                            !out ? "out" : !ctx ? "ctx" : "name");
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(loaders); i++) {
        const char *full = loaders[i].kind->name; /* "dataset:<bare>" */
        if (strcmp(name, full) != 0 && strcmp(name, full + 8) != 0)
            continue;
        hwnas_options *o = NULL;
        int rc = hwnas__options_new_kind(&o, ctx, loaders[i].kind, options);
        if (rc != HWNAS_OK)
            return rc;
        rc = loaders[i].load(out, ctx, o);
        hwnas_options_free(o);
        return rc;
    }
    return hwnas__error(HWNAS_ENOTFOUND, "unknown dataset '%s'; known: fashion-mnist, idx", name);
}
