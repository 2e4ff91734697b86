/* libhwnas spaces - what each space kind implements. Not installed. */
#ifndef HWNAS_SPACE_INTERNAL_H
#define HWNAS_SPACE_INTERNAL_H

#include "core/core_internal.h"
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
};

/* Allocate the gene tables for n genes (called by a kind's init). */
int hwnas__space_set_genes(hwnas_space *space, size_t n);
/* Name gene i (printf-style) and set its cardinality and ordinal flag. */
int hwnas__space_gene(hwnas_space *space, size_t i, uint32_t cardinality, int ordinal,
                      const char *fmt, ...) HWNAS_PRINTF(5, 6);

extern const hwnas__space_impl hwnas__space_cell_impl;

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
