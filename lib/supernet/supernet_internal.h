/*
 * libhwnas supernet - shared weights, single-path training, path rating.
 * Not installed; not part of the ABI. See include/hwnas/supernet.h and
 * doc/supernet.md.
 *
 * Layout: the shared weights are a model of the "full" net (every edge
 * holds every operation, a cell node sums them all). Each node the builder
 * makes carries a key naming its place in the skeleton (block, edge,
 * operation, part) that is the same whichever path is built, so a path's
 * node finds its weights in the full net by key.
 */
#ifndef HWNAS_SUPERNET_INTERNAL_H
#define HWNAS_SUPERNET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "hwnas/net.h"
#include "hwnas/supernet.h"

#define HWNAS__SN_EDGES 6
#define HWNAS__SN_OPS 5
#define HWNAS__SN_MAX_CHANNELS 64

/* One built node's key and its index in the net. */
typedef struct hwnas__sn_key {
    uint32_t key;  /* hwnas__sn_key_of(block, edge, op, part) */
    uint32_t node; /* index in the net */
} hwnas__sn_key;

/* The construction options of a cell supernet (kind supernet:nb201). */
typedef struct hwnas__sn_cell {
    int64_t channels, cells, classes, in_channels, in_size;
} hwnas__sn_cell;

/* The training recipe (kind supernet_train); checkpoint_every is not part
 * of what a resume must match. */
typedef struct hwnas__sn_recipe {
    int64_t epochs, batch, nesterov, seed, checkpoint_every;
    double lr, momentum, weight_decay;
} hwnas__sn_recipe;

struct hwnas_supernet {
    hwnas_context *ctx;          /* allocator; outlives sn */
    hwnas__sn_cell cfg;          /* the cell skeleton */
    uint64_t seed;               /* initialisation seed */
    char *options_text;          /* canonical construction options (owned) */
    hwnas_net *full_net;         /* every operation on every edge */
    struct hwnas_model *full;    /* its model: the shared weights */
    hwnas__sn_key *keys;         /* n_keys keys of full_net's weighted nodes, sorted by key */
    size_t n_keys;
    /* normalisation of the inputs it was trained with */
    size_t n_norm;               /* channels (in_channels) */
    double mean[HWNAS__SN_MAX_CHANNELS], std[HWNAS__SN_MAX_CHANNELS];
    /* training state: all zero / NULL before the first training */
    int trained;                 /* recipe and velocity are set */
    hwnas__sn_recipe recipe;
    uint64_t n_samples;          /* samples of the training set */
    uint64_t step, total;        /* steps done and planned */
    float *velocity;             /* SGD momentum of every shared parameter */
};

extern const hwnas__kind hwnas__supernet_cell_kind;
extern const hwnas__kind hwnas__supernet_train_kind;

/* Build into net (empty) the full net (choices NULL) or the path choices,
 * recording the key of every node with weights in keys (n_keys set; keys
 * holds at least hwnas_net_node_count() entries after success: it is
 * reallocated as needed, *keys NULL to start). Errors: HWNAS_ENOMEM, the
 * net's. */
int hwnas__sn_cell_build(hwnas_net *net, const hwnas__sn_cell *cfg, const uint32_t *choices,
                         hwnas__sn_key **keys, size_t *n_keys, size_t *cap);

/* The cell sums of sn's full net in net order (a differentiable search
 * weights their terms, lib/dsearch): up to cap node indices into nodes and,
 * per term q of each, edge * HWNAS__SN_OPS + operation into coef; returns
 * how many there are (3 per cell). */
#define HWNAS__SN_MAX_TERMS 12
size_t hwnas__sn_mixed_sums(const hwnas_supernet *sn, size_t *nodes,
                            int32_t (*coef)[HWNAS__SN_MAX_TERMS], size_t cap);

/* An operation's NAS-Bench-201 name ("?" out of range), and a choice
 * vector as a NAS-Bench-201 architecture string (into buf). */
const char *hwnas__sn_op_name(uint32_t op);
void hwnas__sn_cell_format(char *buf, size_t size, const uint32_t *g);

/* Parse a NAS-Bench-201 architecture string. */
int hwnas__sn_cell_parse(uint32_t *out, const char *text);

/* The supernet file (file.c): bytes of sn, and sn from bytes (a fresh
 * supernet, *out the caller's). name labels errors. */
int hwnas__sn_to_bytes(uint8_t **out, size_t *len, const hwnas_supernet *sn);
int hwnas__sn_from_bytes(hwnas_supernet **out, hwnas_context *ctx, const uint8_t *b,
                         size_t len, const char *name);

/* A supernet of cfg and seed with fresh weights (supernet.c). */
int hwnas__sn_make(hwnas_supernet **out, hwnas_context *ctx, const hwnas__sn_cell *cfg,
                   uint64_t seed);

/* The stand-alone model of path choices with the shared weights copied in;
 * *out_map (if out_map is not NULL; the caller frees it) gets, per node of
 * the path's engine, its node in the full net (SIZE_MAX: no weights).
 * Errors: HWNAS_EINVAL (a choice out of range), HWNAS_ENOMEM. */
int hwnas__sn_path_model(struct hwnas_model **out, const hwnas_supernet *sn,
                         const uint32_t *choices, size_t **out_map);

/* The path SPOS trains at step (train.c): every edge's operation uniform
 * from the stream of (seed, step). */
void hwnas__sn_sample_path(uint32_t *g, uint64_t seed, uint64_t step);

/* The recipe as option text ("epochs=..;batch=.."), into buf. */
void hwnas__sn_recipe_text(char *buf, size_t size, const hwnas__sn_recipe *r);

#endif /* HWNAS_SUPERNET_INTERNAL_H */
