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
#include "net/net_internal.h"
#include "hwnas/supernet.h"

#define HWNAS__SN_EDGES 6
#define HWNAS__SN_OPS 5
#define HWNAS__SN_MAX_CHANNELS 64
#define HWNAS__SN_MAX_STAGES HWNAS__NET_MAX_STAGES
/* Longest choice vector: the macro space's stages of 3 + 2 * 64 genes. */
#define HWNAS__SN_MAX_CHOICES (HWNAS__SN_MAX_STAGES * (3 + 2 * 64))

/* The spaces a supernet exists for (their code in the file). */
enum { HWNAS__SN_CELL = 1, HWNAS__SN_MACRO = 2, HWNAS__SN_CGP = 3 };

/* Most grid nodes of a CGP supernet: its genes (12 a node, 2 more) fit in
 * a choice vector. */
#define HWNAS__SN_CGP_MAX_NODES 256

/* One built node's key and its index in the net. */
typedef struct hwnas__sn_key {
    uint32_t key;  /* hwnas__sn_key_of(block, edge, op, part) */
    uint32_t node; /* index in the net */
} hwnas__sn_key;

/* The construction options of a cell supernet (kind supernet:nb201). */
typedef struct hwnas__sn_cell {
    int64_t channels, cells, classes, in_channels, in_size;
} hwnas__sn_cell;

/* The construction options of a macro supernet (kind supernet:ofa):
 * space:macro's, less its multipliers (exact only). */
typedef struct hwnas__sn_macro {
    int64_t in_channels, in_size, classes, stem_channels, stem_stride;
    int64_t divisor, min_blocks, max_blocks, head_channels;
    hwnas__net_stages stages;                   /* channels, strides, widths */
    double se_ratio;                            /* in [0.01, 1] */
    int act;                                    /* index into hwnas__sn_acts */
} hwnas__sn_macro;

extern const char *const hwnas__sn_acts[4];

/* The construction options of a CGP supernet (kind supernet:cgp):
 * space:cgp's, less multipliers, bits and mutate_active. */
typedef struct hwnas__sn_cgp {
    int64_t rows, cols, levels_back, in_channels, in_size, classes, min_size, stem;
} hwnas__sn_cgp;

/* The training recipe (kind supernet_train); checkpoint_every is not part
 * of what a resume must match. */
typedef struct hwnas__sn_recipe {
    int64_t epochs, batch, nesterov, seed, checkpoint_every;
    double lr, momentum, weight_decay;
    /* sandwich rule (macro): 0 = one uniform path per step (SPOS); n >= 1
     * = the largest, the smallest and n uniform paths, one update */
    int64_t sandwich;
    int64_t distill; /* in-place distillation: the others learn the largest's outputs */
} hwnas__sn_recipe;

struct hwnas_supernet {
    hwnas_context *ctx;          /* allocator; outlives sn */
    int space;                   /* HWNAS__SN_CELL, _MACRO or _CGP */
    hwnas__sn_cell cfg;          /* the cell skeleton (space cell) */
    hwnas__sn_macro mcfg;        /* the macro skeleton (space macro) */
    hwnas__sn_cgp ccfg;          /* the CGP grid (space cgp) */
    size_t n_choices;            /* length of a choice vector */
    uint32_t card[HWNAS__SN_MAX_CHOICES]; /* choices of each entry */
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
extern const hwnas__kind hwnas__supernet_macro_kind;
extern const hwnas__kind hwnas__supernet_cgp_kind;
extern const hwnas__kind hwnas__supernet_train_kind;

/* Build into net (empty) the full net (choices NULL) or the path choices,
 * recording the key of every node with weights in keys (n_keys set; keys
 * holds at least hwnas_net_node_count() entries after success: it is
 * reallocated as needed, *keys NULL to start). Errors: HWNAS_ENOMEM, the
 * net's. */
int hwnas__sn_cell_build(hwnas_net *net, const hwnas__sn_cell *cfg, const uint32_t *choices,
                         hwnas__sn_key **keys, size_t *n_keys, size_t *cap);

/* The same for the macro skeleton (macro.c): the full net holds in each
 * block slot its largest blocks (widest, kernel 5, expansion 6, with
 * squeeze-excitation, and for a stage's first slot the skip's projection),
 * summed; a path is space:macro's network of that genotype, node for node.
 * A path's weighted nodes carry the key of the full node whose slice they
 * take. */
int hwnas__sn_macro_build(hwnas_net *net, const hwnas__sn_macro *cfg, const uint32_t *choices,
                          hwnas__sn_key **keys, size_t *n_keys, size_t *cap);
/* The macro options as canonical text (space:macro's names, seed last)
 * into buf; and a config from option text (kind supernet:ofa: seed into
 * *seed). */
void hwnas__sn_macro_text(char *buf, size_t size, const hwnas__sn_macro *cfg, uint64_t seed);
int hwnas__sn_macro_config(hwnas__sn_macro *cfg, uint64_t *seed, hwnas_context *ctx,
                           const char *options);
/* The choice cardinalities of a macro supernet (space:macro's genes). */
size_t hwnas__sn_macro_cards(const hwnas__sn_macro *cfg, uint32_t *card);
/* The largest and smallest paths of the sandwich rule. */
void hwnas__sn_macro_extreme(const hwnas__sn_macro *cfg, int largest, uint32_t *choices);

/* The same for the CGP grid (cgp.c): the full net holds every grid node's
 * choice block (each function's largest weights, hanging off one source:
 * storage only); a path is space:cgp's network of that genotype, node for
 * node. */
int hwnas__sn_cgp_build(hwnas_net *net, const hwnas__sn_cgp *cfg, const uint32_t *choices,
                        hwnas__sn_key **keys, size_t *n_keys, size_t *cap);
/* Canonical option text, config from text, cardinalities (space:cgp's
 * genes, the multiplier genes with one value), and the widest channel
 * count a node can have (what the choice blocks are built for). */
void hwnas__sn_cgp_text(char *buf, size_t size, const hwnas__sn_cgp *cfg, uint64_t seed);
int hwnas__sn_cgp_config(hwnas__sn_cgp *cfg, uint64_t *seed, hwnas_context *ctx,
                         const char *options);
size_t hwnas__sn_cgp_cards(const hwnas__sn_cgp *cfg, uint32_t *card);
int64_t hwnas__sn_cgp_cmax(const hwnas__sn_cgp *cfg);

/* Build the full net (choices NULL) or a path of sn's space. */
int hwnas__sn_build(const hwnas_supernet *sn, hwnas_net *net, const uint32_t *choices,
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

/* Append (key, node) to a builder's key list *keys of *n entries and
 * *cap capacity, growing it (supernet.c). Errors: HWNAS_ENOMEM (the list
 * unchanged). */
int hwnas__sn_key_push(hwnas_context *ctx, hwnas__sn_key **keys, size_t *n, size_t *cap,
                       uint32_t key, int64_t node);

/* Parse a NAS-Bench-201 architecture string. */
int hwnas__sn_cell_parse(uint32_t *out, const char *text);

/* The supernet file (file.c): bytes of sn, and sn from bytes (a fresh
 * supernet, *out the caller's). name labels errors. */
int hwnas__sn_to_bytes(uint8_t **out, size_t *len, const hwnas_supernet *sn);
int hwnas__sn_from_bytes(hwnas_supernet **out, hwnas_context *ctx, const uint8_t *b,
                         size_t len, const char *name);

/* A supernet of cfg and seed with fresh weights (supernet.c); the macro
 * one of mcfg. */
int hwnas__sn_make(hwnas_supernet **out, hwnas_context *ctx, const hwnas__sn_cell *cfg,
                   uint64_t seed);
int hwnas__sn_make_macro(hwnas_supernet **out, hwnas_context *ctx, const hwnas__sn_macro *mcfg,
                         uint64_t seed);
int hwnas__sn_make_cgp(hwnas_supernet **out, hwnas_context *ctx, const hwnas__sn_cgp *ccfg,
                       uint64_t seed);

/* The stand-alone model of path choices with the shared weights copied in;
 * *out_map (if out_map is not NULL; the caller frees it) gets, per node of
 * the path's engine, its node in the full net (SIZE_MAX: no weights).
 * Errors: HWNAS_EINVAL (a choice out of range), HWNAS_ENOMEM. */
int hwnas__sn_path_model(struct hwnas_model **out, const hwnas_supernet *sn,
                         const uint32_t *choices, size_t **out_map);
/* The same, and where each parameter and running-state value of the path
 * sits in the full net's arrays (*out_p: the path engine's n_params
 * indices, *out_s: n_state; UINT32_MAX for none): a path node takes a
 * slice of its full node (first output and input channels, the centre of
 * the kernel), so training scatters its update back through them. Any out
 * pointer may be NULL; the caller frees what it asked for. */
int hwnas__sn_path_slices(struct hwnas_model **out, const hwnas_supernet *sn,
                          const uint32_t *choices, size_t **out_map, uint32_t **out_p,
                          uint32_t **out_s);
/* Check choices against sn's cardinalities (HWNAS_EINVAL naming the entry). */
int hwnas__sn_check_choices(const hwnas_supernet *sn, const uint32_t *choices);

/* The path SPOS trains at step (train.c): every edge's operation uniform
 * from the stream of (seed, step). */
void hwnas__sn_sample_path(uint32_t *g, uint64_t seed, uint64_t step);
/* The same for any supernet: entry i uniform in [0, card[i]) from the
 * stream of (seed, step, k) - k the path's number within the step. For
 * the cell space with k = 0 it is hwnas__sn_sample_path. */
void hwnas__sn_sample(const hwnas_supernet *sn, uint32_t *g, uint64_t seed, uint64_t step,
                      uint32_t k);

/* The recipe as option text ("epochs=..;batch=.."), into buf. */
void hwnas__sn_recipe_text(char *buf, size_t size, const hwnas__sn_recipe *r);

#endif /* HWNAS_SUPERNET_INTERNAL_H */
