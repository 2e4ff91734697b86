/*
 * A tiny space of ordinal genes for strategy tests and benchmarks
 * (header-only; needs the library's internals): `genes` genes of `levels`
 * values each, all flagged ordinal. It decodes to no network
 * (HWNAS_EUNSUPPORTED); its phenotype hash is a hash of the genes.
 */
#ifndef HWNAS_TEST_STRATEGY_SPACE_H
#define HWNAS_TEST_STRATEGY_SPACE_H

#include "space/space_internal.h"

static const hwnas__option_spec ordinal_space_options[] = {
    {"genes", HWNAS_OPTION_INT, "30", 1, 100000, NULL, "number of genes"},
    {"levels", HWNAS_OPTION_INT, "65536", 1, 4294967295.0, NULL, "values of each gene"},
    {"ordinal", HWNAS_OPTION_BOOL, "true", 0, 0, NULL, "flag the genes ordinal"},
};

static int ordinal_space_init(hwnas_space *s)
{
    size_t n = (size_t)hwnas__options_int(s->options, 0);
    uint32_t levels = (uint32_t)hwnas__options_int(s->options, 1);
    int ordinal = (int)hwnas__options_int(s->options, 2);
    int rc = hwnas__space_set_genes(s, n);
    for (size_t i = 0; i < n && rc == HWNAS_OK; i++)
        rc = hwnas__space_gene(s, i, levels, ordinal, "x%zu", i);
    return rc;
}

static int ordinal_space_decode(const hwnas_space *s, const uint32_t *g, hwnas_net *net)
{
    (void)g;
    (void)net;
    return hwnas__error(HWNAS_EUNSUPPORTED, "%s decodes to no network", s->kind->name);
}

static int ordinal_space_hash(const hwnas_space *s, const uint32_t *g, uint64_t *out)
{
    *out = hwnas__hash_bytes(g, s->n_genes * sizeof *g);
    return HWNAS_OK;
}

static const hwnas__space_impl ordinal_space_impl = {
    .init = ordinal_space_init,
    .decode = ordinal_space_decode,
    .hash = ordinal_space_hash,
};

static const hwnas__kind ordinal_space_kind = {
    "space:test_ordinal", ordinal_space_options, 3, &ordinal_space_impl,
};

/* Create the space as hwnas_space_new would (it is not a registered kind). */
static inline int ordinal_space_new(hwnas_space **out, hwnas_context *ctx, const char *options)
{
    *out = NULL;
    hwnas_space *s = hwnas__calloc(ctx, 1, sizeof *s);
    if (!s)
        return HWNAS_ENOMEM;
    s->ctx = ctx;
    int rc = hwnas__options_new_kind(&s->options, ctx, &ordinal_space_kind, options);
    if (rc != HWNAS_OK) {
        hwnas__free(ctx, s);
        return rc;
    }
    s->kind = &ordinal_space_kind;
    rc = ordinal_space_init(s);
    if (rc != HWNAS_OK) {
        hwnas_space_free(s);
        return rc;
    }
    *out = s;
    return HWNAS_OK;
}

#endif
