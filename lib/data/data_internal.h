/*
 * libhwnas data part - what its files share. Not installed; not ABI.
 */
#ifndef HWNAS_DATA_INTERNAL_H
#define HWNAS_DATA_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "hwnas/data.h"

/* ---- IDX (idx.c) ------------------------------------------------------- */

struct hwnas_idx {
    hwnas_context *ctx; /* allocator owner */
    int type;           /* HWNAS_IDX_* */
    size_t elem_bytes;  /* bytes of one element: 1, 2, 4 or 8 */
    size_t size;        /* elements: the product of dims (fits with elem_bytes in size_t) */
    uint8_t *buf;       /* owned block that holds the data */
    const void *data;   /* the elements in host byte order, inside buf */
    size_t rank;        /* >= 1 */
    size_t dims[];      /* rank dimensions, dims[0] = items */
};

/* Build an IDX array from the whole content of a file or buffer. Takes
 * ownership of buf (ctx allocator) in every case, success or not; name is
 * the file name used in messages. */
int hwnas__data_idx_from_buffer(hwnas_idx **out, hwnas_context *ctx, uint8_t *buf, size_t len,
                                const char *name);

/* ---- samples (dataset.c) -------------------------------------------------- */

/* The samples themselves, shared by a dataset and its views. Immutable once
 * built, except for refs. */
typedef struct hwnas__data_store {
    atomic_size_t refs;  /* datasets pointing here; the last one frees it */
    hwnas_context *ctx;  /* allocator owner */
    size_t n;            /* samples, >= 1 */
    size_t c, h, w;      /* image shape, each >= 1 */
    size_t sample;       /* c * h * w, and n * sample fits in size_t */
    size_t classes;      /* >= 1; every label in [0, classes) */
    float *images;       /* n * sample floats, N,C,H,W, all finite */
    int32_t *labels;     /* n labels */
} hwnas__data_store;

struct hwnas_dataset {
    hwnas_context *ctx;        /* allocator owner */
    hwnas__data_store *store;  /* shared samples, one reference held */
    size_t count;              /* samples in this view, >= 1 */
    size_t *pos;               /* count store indices; NULL = 0..count-1 */
    double *norm;              /* NULL, or c means then c stds (each std > 0) */
};

/* A store with room for n samples of c x h x w, refs = 1, classes 0
 * (to be set by the caller). Checks the sizes; errors name `what`. */
int hwnas__data_store_new(hwnas__data_store **out, hwnas_context *ctx, size_t n, size_t c,
                          size_t h, size_t w, const char *what);
void hwnas__data_store_unref(hwnas__data_store *st);

/* Check labels against classes (0 = derive it) and set st->classes.
 * what names the source in messages. */
int hwnas__data_store_set_classes(hwnas__data_store *st, size_t classes, const char *what);

/* A dataset viewing the whole of st; takes over the caller's reference
 * (dropped on error too). */
int hwnas__data_wrap(hwnas_dataset **out, hwnas__data_store *st);

/* A view over ds's store with the given store indices (taken over, freed on
 * error) and ds's normalisation. */
int hwnas__data_view(hwnas_dataset **out, const hwnas_dataset *ds, size_t *pos, size_t count);

/* Store index of view position i (i < ds->count). */
static inline size_t hwnas__data_index(const hwnas_dataset *ds, size_t i)
{
    return ds->pos ? ds->pos[i] : i;
}

/* ---- random streams (sample.c) -------------------------------------------- */

/* Purposes of the data part's random streams (see doc/data.md). */
enum {
    HWNAS__DATA_STREAM_SUBSET = 1,
    HWNAS__DATA_STREAM_SPLIT = 2,
    HWNAS__DATA_STREAM_SHUFFLE = 3,
    HWNAS__DATA_STREAM_AUGMENT = 4
};

/* The stream of (seed, purpose, a, b). */
void hwnas__data_rng(hwnas__rng *r, uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b);

/* ---- loaders (load.c) ------------------------------------------------------ */

/* The kinds of hwnas_dataset_load(), for the registry in lib/kinds.c. */
extern const hwnas__kind hwnas__dataset_fashion_mnist_kind;
extern const hwnas__kind hwnas__dataset_idx_kind;

#endif /* HWNAS_DATA_INTERNAL_H */
