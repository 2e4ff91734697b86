/* Search spaces: creation, genes, and the generic operators. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "space_internal.h"

static const hwnas__space_impl *impl_of(const hwnas_space *s)
{
    return (const hwnas__space_impl *)s->kind->impl;
}

int hwnas__space_set_genes(hwnas_space *s, size_t n)
{
    s->n_genes = n;
    s->cardinality = hwnas__calloc(s->ctx, n, sizeof *s->cardinality);
    s->ordinal = hwnas__calloc(s->ctx, n, sizeof *s->ordinal);
    s->gene_names = hwnas__calloc(s->ctx, n, sizeof *s->gene_names);
    return s->cardinality && s->ordinal && s->gene_names ? HWNAS_OK : HWNAS_ENOMEM;
}

int hwnas__space_gene(hwnas_space *s, size_t i, uint32_t cardinality, int ordinal,
                      const char *fmt, ...)
{
    hwnas__strbuf name; /* names of any length, whole */
    hwnas__strbuf_init(&name, s->ctx);
    va_list ap;
    va_start(ap, fmt);
    hwnas__strbuf_vprintf(&name, fmt, ap);
    va_end(ap);
    s->cardinality[i] = cardinality;
    s->ordinal[i] = (uint8_t)(ordinal != 0);
    s->gene_names[i] = name.failed ? NULL : hwnas__strdup(s->ctx, name.data ? name.data : "");
    hwnas__strbuf_release(&name);
    return s->gene_names[i] ? HWNAS_OK : HWNAS_ENOMEM;
}

void hwnas_space_free(hwnas_space *s)
{
    if (!s)
        return;
    if (s->kind && impl_of(s)->fini)
        impl_of(s)->fini(s);
    hwnas_space_free(s->net_half);
    hwnas_space_free(s->accel_half);
    if (s->gene_names)
        for (size_t i = 0; i < s->n_genes; i++)
            hwnas__free(s->ctx, s->gene_names[i]);
    hwnas__free(s->ctx, s->gene_names);
    hwnas__free(s->ctx, s->cardinality);
    hwnas__free(s->ctx, s->ordinal);
    hwnas_options_free(s->options);
    hwnas__free(s->ctx, s);
}

int hwnas_space_new(hwnas_space **out, hwnas_context *ctx, const char *kind,
                    const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_new: out is NULL");
    *out = NULL;
    if (!ctx || !kind)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_new: ctx and kind are required");
    const hwnas__kind *k = hwnas__kind_find_in(ctx, "space", kind);
    if (!k)
        return HWNAS_ENOTFOUND;
    if (strncmp(k->name, "space:", 6) != 0 || !k->impl)
        return hwnas__error(HWNAS_ENOTFOUND, "'%s' is a %s, not a space", kind, k->name);
    hwnas_space *s = hwnas__calloc(ctx, 1, sizeof *s);
    if (!s)
        return HWNAS_ENOMEM;
    s->ctx = ctx;
    int rc = hwnas__options_new_kind(&s->options, ctx, k, options);
    if (rc != HWNAS_OK) {
        hwnas__free(ctx, s);
        return rc;
    }
    s->kind = k;
    rc = impl_of(s)->init(s);
    if (rc != HWNAS_OK) {
        hwnas_space_free(s);
        return rc;
    }
    *out = s;
    return HWNAS_OK;
}

int hwnas__space_new_opts(hwnas_space **out, hwnas_context *ctx, const hwnas__kind *k,
                          hwnas_options *opts)
{
    *out = NULL;
    hwnas_space *s = hwnas__calloc(ctx, 1, sizeof *s);
    if (!s) {
        hwnas_options_free(opts);
        return HWNAS_ENOMEM;
    }
    s->ctx = ctx;
    s->options = opts;
    s->kind = k;
    int rc = impl_of(s)->init(s);
    if (rc != HWNAS_OK) {
        hwnas_space_free(s);
        return rc;
    }
    *out = s;
    return HWNAS_OK;
}

const char *hwnas_space_kind(const hwnas_space *s) { return s ? s->kind->name : NULL; }

const hwnas_options *hwnas_space_options(const hwnas_space *s) { return s ? s->options : NULL; }

size_t hwnas_space_gene_count(const hwnas_space *s) { return s ? s->n_genes : 0; }

uint32_t hwnas_space_gene_cardinality(const hwnas_space *s, size_t i)
{
    return s && i < s->n_genes ? s->cardinality[i] : 0;
}

const char *hwnas_space_gene_name(const hwnas_space *s, size_t i)
{
    return s && i < s->n_genes ? s->gene_names[i] : NULL;
}

int hwnas_space_gene_ordinal(const hwnas_space *s, size_t i)
{
    return s && i < s->n_genes ? s->ordinal[i] : -1;
}

double hwnas_space_size_log10(const hwnas_space *s)
{
    double l = 0;
    for (size_t i = 0; s && i < s->n_genes; i++)
        l += log10((double)s->cardinality[i]);
    return l;
}

int hwnas_space_check(const hwnas_space *s, const uint32_t *genes)
{
    if (!s || !genes)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_check: space and genes are required");
    for (size_t i = 0; i < s->n_genes; i++)
        if (genes[i] >= s->cardinality[i])
            return hwnas__error(HWNAS_EINVAL,
                                "%s: gene %zu (%s) = %u is out of range [0, %u)", s->kind->name,
                                i, s->gene_names[i], (unsigned)genes[i],
                                (unsigned)s->cardinality[i]);
    return HWNAS_OK;
}

int hwnas_space_sample(const hwnas_space *s, hwnas_rng *rng, uint32_t *genes)
{
    if (!s || !rng || !genes)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_sample: space, rng and genes are required");
    return hwnas__space_sample_r(s, hwnas__rng_state(rng), genes);
}

int hwnas__space_sample_r(const hwnas_space *s, hwnas__rng *r, uint32_t *genes)
{
    if (impl_of(s)->sample)
        return impl_of(s)->sample(s, r, genes);
    for (size_t i = 0; i < s->n_genes; i++)
        genes[i] = (uint32_t)hwnas__rng_below(r, s->cardinality[i]);
    return HWNAS_OK;
}

int hwnas_space_mutate(const hwnas_space *s, hwnas_rng *rng, const uint32_t *parent,
                       uint32_t *child, double rate)
{
    if (!s || !rng || !parent || !child)
        return hwnas__error(HWNAS_EINVAL,
                            "hwnas_space_mutate: space, rng, parent and child are required");
    if (!(rate >= 0.0 && rate <= 1.0))
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_mutate: rate %g is not in [0, 1]", rate);
    int rc = hwnas_space_check(s, parent);
    if (rc != HWNAS_OK)
        return rc;
    return hwnas__space_mutate_r(s, hwnas__rng_state(rng), parent, child, rate);
}

int hwnas__space_mutate_r(const hwnas_space *s, hwnas__rng *r, const uint32_t *parent,
                          uint32_t *child, double rate)
{
    if (impl_of(s)->mutate)
        return impl_of(s)->mutate(s, r, parent, child, rate);
    if (child != parent)
        memcpy(child, parent, s->n_genes * sizeof *child);
    /* Only genes with a choice can change; the default rate changes one
     * of them on average, and at least one always changes so that a
     * mutant differs from its parent. */
    size_t mutable_genes = 0;
    for (size_t i = 0; i < s->n_genes; i++)
        mutable_genes += s->cardinality[i] > 1;
    if (mutable_genes == 0)
        return HWNAS_OK;
    double p = rate > 0 ? rate : 1.0 / (double)mutable_genes;
    size_t changed = 0;
    for (size_t i = 0; i < s->n_genes; i++) {
        if (s->cardinality[i] < 2 || hwnas__rng_uniform(r) >= p)
            continue;
        uint32_t v = (uint32_t)hwnas__rng_below(r, s->cardinality[i] - 1);
        child[i] = v >= child[i] ? v + 1 : v;
        changed++;
    }
    if (changed == 0) {
        size_t k = (size_t)hwnas__rng_below(r, mutable_genes), i = 0;
        for (;; i++)
            if (s->cardinality[i] > 1 && k-- == 0)
                break;
        uint32_t v = (uint32_t)hwnas__rng_below(r, s->cardinality[i] - 1);
        child[i] = v >= child[i] ? v + 1 : v;
    }
    return HWNAS_OK;
}

int hwnas_space_crossover(const hwnas_space *s, hwnas_rng *rng, const uint32_t *a,
                          const uint32_t *b, uint32_t *c, uint32_t *d)
{
    if (!s || !rng || !a || !b)
        return hwnas__error(HWNAS_EINVAL,
                            "hwnas_space_crossover: space, rng and both parents are required");
    int rc = hwnas_space_check(s, a);
    if (rc == HWNAS_OK)
        rc = hwnas_space_check(s, b);
    if (rc != HWNAS_OK)
        return rc;
    return hwnas__space_crossover_r(s, hwnas__rng_state(rng), a, b, c, d);
}

int hwnas__space_crossover_r(const hwnas_space *s, hwnas__rng *r, const uint32_t *a,
                             const uint32_t *b, uint32_t *c, uint32_t *d)
{
    if (impl_of(s)->crossover)
        return impl_of(s)->crossover(s, r, a, b, c, d);
    for (size_t i = 0; i < s->n_genes; i++) {
        int swap = (int)(hwnas__rng_u64(r) >> 63);
        uint32_t x = swap ? b[i] : a[i], y = swap ? a[i] : b[i];
        if (c)
            c[i] = x;
        if (d)
            d[i] = y;
    }
    return HWNAS_OK;
}

int hwnas_space_has_operator(const hwnas_space *s, int op)
{
    if (!s)
        return 0;
    if (impl_of(s)->has_operator)
        return impl_of(s)->has_operator(s, op);
    if (op == HWNAS_SPACE_OP_MUTATE)
        return impl_of(s)->mutate != NULL;
    if (op == HWNAS_SPACE_OP_CROSSOVER)
        return impl_of(s)->crossover != NULL;
    return 0;
}

int hwnas_space_decode(const hwnas_space *s, const uint32_t *genes, hwnas_net *net)
{
    if (!s || !genes || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_decode: space, genes and net are required");
    hwnas_net_clear(net);
    int rc = hwnas_space_check(s, genes);
    if (rc == HWNAS_OK)
        rc = impl_of(s)->decode(s, genes, net);
    if (rc != HWNAS_OK)
        hwnas_net_clear(net);
    return rc;
}

int hwnas_space_has_accel(const hwnas_space *s)
{
    return s && impl_of(s)->decode_accel ? 1 : 0;
}

const hwnas_space *hwnas_space_net_half(const hwnas_space *s)
{
    if (!s)
        return NULL;
    if (s->accel_half)
        return s->net_half;
    return impl_of(s)->decode_accel ? NULL : s;
}

const hwnas_space *hwnas_space_accel_half(const hwnas_space *s)
{
    if (!s)
        return NULL;
    if (s->accel_half)
        return s->accel_half;
    return impl_of(s)->decode_accel ? s : NULL;
}

int hwnas_space_decode_accel(hwnas_accel **out, const hwnas_space *s, const uint32_t *genes)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_decode_accel: out is NULL");
    *out = NULL;
    if (!s || !genes)
        return hwnas__error(HWNAS_EINVAL,
                            "hwnas_space_decode_accel: space and genes are required");
    if (!impl_of(s)->decode_accel)
        return hwnas__error(HWNAS_EUNSUPPORTED,
                            "%s has no hardware half: its candidates are networks only (a "
                            "co-design space is space:accelerator or a network space + "
                            "accelerator, such as space:cgp+accelerator)",
                            s->kind->name);
    int rc = hwnas_space_check(s, genes);
    if (rc == HWNAS_OK)
        rc = impl_of(s)->decode_accel(s, genes, out);
    return rc;
}

int hwnas_space_hash(const hwnas_space *s, const uint32_t *genes, uint64_t *out)
{
    if (!s || !genes || !out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_hash: space, genes and out are required");
    int rc = hwnas_space_check(s, genes);
    if (rc != HWNAS_OK)
        return rc;
    if (impl_of(s)->hash)
        return impl_of(s)->hash(s, genes, out);
    hwnas_net *net;
    rc = hwnas_net_new(&net, s->ctx);
    if (rc != HWNAS_OK)
        return rc;
    rc = impl_of(s)->decode(s, genes, net);
    if (rc == HWNAS_OK)
        *out = hwnas_net_hash(net);
    hwnas_net_free(net);
    return rc;
}

int hwnas_space_format(const hwnas_space *s, const uint32_t *genes, char **out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_format: out is NULL");
    *out = NULL;
    if (!s || !genes)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_format: space and genes are required");
    int rc = hwnas_space_check(s, genes);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    if (impl_of(s)->format) {
        rc = impl_of(s)->format(s, genes, &sb);
        if (rc != HWNAS_OK) {
            hwnas__strbuf_release(&sb);
            return rc;
        }
    } else {
        for (size_t i = 0; i < s->n_genes; i++) {
            if (i)
                hwnas__strbuf_append(&sb, ",", 1);
            hwnas__strbuf_put_u64(&sb, genes[i]);
        }
    }
    *out = hwnas__strbuf_detach_buffer(&sb);
    return *out ? HWNAS_OK : HWNAS_ENOMEM;
}

static int parse_generic(const hwnas_space *s, const char *text, uint32_t *genes)
{
    const char *p = text;
    for (size_t i = 0; i < s->n_genes; i++) {
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9')
            return hwnas__error(HWNAS_EFORMAT,
                                "genotype \"%s\": expected gene %zu (%s) at position %zu",
                                text, i, s->gene_names[i], (size_t)(p - text) + 1);
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9' && v <= UINT32_MAX)
            v = v * 10 + (uint64_t)(*p++ - '0');
        if (v >= s->cardinality[i])
            return hwnas__error(HWNAS_EFORMAT,
                                "genotype \"%s\": gene %zu (%s) = %llu is out of range [0, %u)",
                                text, i, s->gene_names[i], (unsigned long long)v,
                                (unsigned)s->cardinality[i]);
        genes[i] = (uint32_t)v;
        while (*p == ' ')
            p++;
        if (i + 1 < s->n_genes) {
            if (*p != ',')
                return hwnas__error(HWNAS_EFORMAT,
                                    "genotype \"%s\": expected ',' at position %zu", text,
                                    (size_t)(p - text) + 1);
            p++;
        }
    }
    if (*p)
        return hwnas__error(HWNAS_EFORMAT,
                            "genotype \"%s\": unexpected text at position %zu (the space has %zu "
                            "genes)",
                            text, (size_t)(p - text) + 1, s->n_genes);
    return HWNAS_OK;
}

int hwnas_space_parse(const hwnas_space *s, const char *text, uint32_t *genes)
{
    if (!s || !text || !genes)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_parse: space, text and genes are required");
    uint32_t tmp[256];
    uint32_t *staged = s->n_genes <= 256 ? tmp : hwnas__malloc(s->ctx, s->n_genes * sizeof *tmp);
    if (!staged)
        return HWNAS_ENOMEM;
    int rc = impl_of(s)->parse ? impl_of(s)->parse(s, text, staged)
                               : parse_generic(s, text, staged);
    if (rc == HWNAS_OK)
        memcpy(genes, staged, s->n_genes * sizeof *genes);
    if (staged != tmp)
        hwnas__free(s->ctx, staged);
    return rc;
}

/* ---- feature encodings (for predictors) -------------------------------- */

static int encode_onehot(const hwnas_space *s, const uint32_t *genes, double *out, size_t *n)
{
    size_t len = 0;
    for (size_t i = 0; i < s->n_genes; i++) {
        if (out)
            for (uint32_t v = 0; v < s->cardinality[i]; v++)
                out[len + v] = genes[i] == v;
        len += s->cardinality[i];
    }
    *n = len;
    return HWNAS_OK;
}

int hwnas_space_encode(const hwnas_space *s, const char *encoding, const uint32_t *genes,
                       double *out, size_t cap, size_t *n)
{
    if (!s || !n || (out && !genes))
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_encode: space, n and (with out) genes "
                                          "are required");
    *n = 0;
    const hwnas__space_impl *im = impl_of(s);
    int own;
    if (!encoding || !*encoding)
        own = im->encode && im->default_encoding;
    else if (strcmp(encoding, "onehot") == 0)
        own = 0;
    else if (im->encode && strcmp(encoding, im->encoding) == 0)
        own = 1;
    else
        return hwnas__error(HWNAS_ENOTFOUND, "%s has no encoding '%s' (it has: onehot%s%s)",
                            s->kind->name, encoding, im->encode ? ", " : "",
                            im->encode ? im->encoding : "");
    size_t need = 0;
    int rc = own ? im->encode(s, NULL, NULL, &need) : encode_onehot(s, NULL, NULL, &need);
    if (rc != HWNAS_OK || !out) {
        *n = need;
        return rc;
    }
    if (cap < need)
        return hwnas__error(HWNAS_EINVAL, "hwnas_space_encode: %s encoding of %s has %zu "
                                          "features, out has room for %zu",
                            own ? im->encoding : "onehot", s->kind->name, need, cap);
    rc = hwnas_space_check(s, genes);
    if (rc == HWNAS_OK)
        rc = own ? im->encode(s, genes, out, n) : encode_onehot(s, genes, out, n);
    return rc;
}
