/* libhwnas spaces - what each space kind implements. Not installed. */
#ifndef HWNAS_SPACE_INTERNAL_H
#define HWNAS_SPACE_INTERNAL_H

#include "core/core_internal.h"
#include "hwnas/accel.h"
#include "hwnas/net.h"
#include "hwnas/space.h"

/* A space kind's operations. NULL entries fall back to generic ones. */
typedef struct hwnas__space_impl {
    /* Set up genes (hwnas__space_set_genes) and state from the options. */
    int (*init)(hwnas_space *space);
    void (*fini)(hwnas_space *space);
    int (*decode)(const hwnas_space *space, const uint32_t *genes, hwnas_net *net);
    /* NULL: hash of the decoded net. */
    int (*hash)(const hwnas_space *space, const uint32_t *genes, uint64_t *out);
    /* NULL: genes as comma-separated numbers. */
    int (*format)(const hwnas_space *space, const uint32_t *genes, hwnas__strbuf *sb);
    int (*parse)(const hwnas_space *space, const char *text, uint32_t *genes);
    int (*sample)(const hwnas_space *space, hwnas__rng *rng, uint32_t *genes);
    int (*mutate)(const hwnas_space *space, hwnas__rng *rng, const uint32_t *parent,
                  uint32_t *child, double rate);
    int (*crossover)(const hwnas_space *space, hwnas__rng *rng, const uint32_t *a,
                     const uint32_t *b, uint32_t *c, uint32_t *d);
    /* The hardware of a candidate; NULL for a space without a hardware
     * half (hwnas_space_decode_accel then fails with EUNSUPPORTED). */
    int (*decode_accel)(const hwnas_space *space, const uint32_t *genes, hwnas_accel **out);
    /* NULL: the kind has an operator when mutate / crossover is set. */
    int (*has_operator)(const hwnas_space *space, int op);
    /* A feature encoding of the kind's own (hwnas_space_encode): its
     * name, the space's default when default_encoding is set, and the
     * function. *n gets the length; genes NULL asks only for it; out has
     * room for it. NULL encode: the space has only "onehot". */
    const char *encoding;
    int default_encoding;
    int (*encode)(const hwnas_space *space, const uint32_t *genes, double *out, size_t *n);
} hwnas__space_impl;

struct hwnas_space {
    hwnas_context *ctx;             /* allocator; outlives the space */
    const hwnas__kind *kind;        /* kind->impl is an hwnas__space_impl */
    hwnas_options *options;         /* owned, parsed at creation */
    size_t n_genes;
    uint32_t *cardinality;          /* n_genes entries, each >= 1 */
    uint8_t *ordinal;               /* n_genes flags */
    char **gene_names;              /* n_genes owned strings */
    void *state;                    /* the kind's own, freed by fini */
    /* a composite's halves, owned: the network's genes come first, then
     * the hardware's; both NULL for other kinds */
    hwnas_space *net_half, *accel_half;
};

/* A space of kind k on an option set of k's (owned by the space from the
 * call on, freed on error too). */
int hwnas__space_new_opts(hwnas_space **out, hwnas_context *ctx, const hwnas__kind *k,
                          hwnas_options *opts);

/* The operators on the internal generator (the public calls' work, after
 * their checks): the kind's own, else the generic ones. */
int hwnas__space_sample_r(const hwnas_space *space, hwnas__rng *rng, uint32_t *genes);
int hwnas__space_mutate_r(const hwnas_space *space, hwnas__rng *rng, const uint32_t *parent,
                          uint32_t *child, double rate);
int hwnas__space_crossover_r(const hwnas_space *space, hwnas__rng *rng, const uint32_t *a,
                             const uint32_t *b, uint32_t *c, uint32_t *d);

/* ---- co-design (accelerator.c, composite.c) ---- */

/* The options of space:accelerator, with prefix P on their names: "" for
 * the kind itself, "hw." in a composite. */
#define HWNAS__SPACE_ACCEL_OPTION_ROWS(P)                                                      \
    {P "template", HWNAS_OPTION_STRING, "", 0, 0, NULL,                                        \
     "hardware template file (doc/formats/hardware-template.md); empty = the built-in "       \
     "eyeriss-45nm-space (examples/hardware/eyeriss_space.hwt)"},                              \
        {P "axmul_dir", HWNAS_OPTION_STRING, "", 0, 0, NULL,                                   \
         "directory of imported multiplier tables (names the template lists that are not "    \
         "built in)"},                                                                        \
        {P "multiplier_per", HWNAS_OPTION_ENUM, "template", 0, 0, "template|accelerator|layer", \
         "one multiplier gene for the chip (accelerator) or each layer's from the network's "  \
         "multiplier genes among the listed ones (layer); template = as its multiplier_per "   \
         "says"}
#define HWNAS__SPACE_ACCEL_N_OPTIONS 3

/* The multiplier the hardware at genes has ("exact", or an approximate
 * one that the network's multiplying layers then compute with). */
const char *hwnas__space_accel_multiplier(const hwnas_space *accel_space,
                                          const uint32_t *genes);
/* The template of a space:accelerator (borrowed). */
const struct hwnas__template *hwnas__space_accel_template(const hwnas_space *accel_space);

extern const hwnas__space_impl hwnas__space_composite_impl;

/* Allocate the gene tables for n genes (called by a kind's init). */
int hwnas__space_set_genes(hwnas_space *space, size_t n);
/* Name gene i (printf-style) and set its cardinality and ordinal flag. */
int hwnas__space_gene(hwnas_space *space, size_t i, uint32_t cardinality, int ordinal,
                      const char *fmt, ...) HWNAS_PRINTF(5, 6);

extern const hwnas__space_impl hwnas__space_cell_impl;

/* ---- the network builder every space decodes with (builder.c) ---- */

/* Adds layers to a net one after another and keeps the first failure:
 * after one, every call does nothing and returns -1 as the node index, so
 * a decoder is the plain sequence of its layers and checks once, with
 * hwnas__build_finish. Layer calls return the new node's index. */
typedef struct hwnas__builder {
    hwnas_net *net;     /* the net decoded into; borrowed */
    int rc;             /* HWNAS_OK, or the first failure */
    int32_t bits;       /* width hwnas__build_multiplier gives: 8, 32, or 0 (keep) */
    const void *state;  /* the decoding space's own state, for its helpers */
} hwnas__builder;

void hwnas__build_init(hwnas__builder *b, hwnas_net *net, int32_t bits, const void *state);
/* The input node "input" of c x h x w. */
int64_t hwnas__build_input(hwnas__builder *b, int64_t c, int64_t h, int64_t w);
/* Op (a spec op name) on node x (the last node when x < 0); attrs as in
 * hwnas_net_add, or NULL. */
int64_t hwnas__build_op(hwnas__builder *b, const char *op, int64_t x, const char *attrs);
/* The same with attributes formatted printf-style, of any length. */
int64_t hwnas__build_opf(hwnas__builder *b, const char *op, int64_t x, const char *fmt, ...)
    HWNAS_PRINTF(4, 5);
/* A k x k convolution to c channels at stride s, padding k / 2. */
int64_t hwnas__build_conv(hwnas__builder *b, int64_t x, int64_t c, int64_t k, int64_t s,
                          int64_t bias);
/* A k x k depthwise convolution at stride s, padding k / 2. */
int64_t hwnas__build_dwconv(hwnas__builder *b, int64_t x, int64_t k, int64_t s, int64_t bias);
/* The sum of n >= 1 nodes (terms[0] itself when n == 1). */
int64_t hwnas__build_add(hwnas__builder *b, const int64_t *terms, size_t n);
/* Channels and height of node x (0 after a failure). */
void hwnas__build_shape(const hwnas__builder *b, int64_t x, int64_t *c, int64_t *h);
/* Give every multiplying node from index first on multiplier mul at the
 * builder's bits; exact at 32 bits (or 0) leaves the nodes as made. */
void hwnas__build_multiplier(hwnas__builder *b, size_t first, const char *mul);
/* The builder's outcome for kind's decode (e.g. "space:cgp"): HWNAS_OK, a
 * net the IR refused as HWNAS_EINVALID naming why, or the failure. */
int hwnas__build_finish(const hwnas__builder *b, const char *kind);

/* The multipliers option of cgp and macro: comma-separated names, each
 * checked against what the IR accepts (cgp.c). */
int hwnas__space_multipliers(char ***out, size_t *n, hwnas_context *ctx, const char *kind,
                             const char *text);
void hwnas__space_multipliers_free(hwnas_context *ctx, char **list, size_t n);
/* Which nodes of a space:cgp genotype the output reaches (cgp.c). */
int hwnas__cgp_active_nodes(const hwnas_space *space, const uint32_t *genes, uint8_t *active);

/* NAS-Bench-201's isomorphism key of a cell genotype, appended to out
 * (exposed for the tests that compare it with the published tables). */
int hwnas__cell_unique_string(const hwnas_context *ctx, const uint32_t *genes,
                              hwnas__strbuf *out);

#endif
