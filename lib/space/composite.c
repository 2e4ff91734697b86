/*
 * Co-design spaces "space:NET+accelerator": a network space and
 * space:accelerator side by side, one generic implementation for every
 * network kind. The kind's option table is the network kind's, then the
 * hardware's prefixed "hw." (each network kind file declares its
 * composite, since a table must be one array); the genotype is the
 * network's genes, then the hardware's, named "hw.NAME". Each operator
 * works per half with the half's own operators, so a strategy sees one
 * plain genotype and every strategy works unchanged.
 */
#include <string.h>

#include "accel/accel_internal.h"
#include "space_internal.h"

extern const hwnas__kind hwnas__space_accelerator_kind;

#define HW_PREFIX "hw."

/* The network kind of "space:NET+accelerator". */
static const hwnas__kind *net_kind_of(const hwnas_space *s)
{
    const char *name = s->kind->name;
    const char *plus = strchr(name, '+');
    char net[64];
    size_t n = plus ? (size_t)(plus - name) : 0;
    if (n == 0 || n >= sizeof net)
        return NULL;
    memcpy(net, name, n);
    net[n] = 0;
    return hwnas__kind_find(s->ctx, net);
}

/* A half's option set from the composite's rows [first, first + n), their
 * names past skip characters (the "hw." prefix). */
static int half_options(hwnas_options **out, const hwnas_space *s, const hwnas__kind *k,
                        size_t first, size_t n, size_t skip)
{
    int rc = hwnas__options_new_kind(out, s->ctx, k, NULL);
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
        rc = hwnas_options_set(*out, s->kind->options[first + i].name + skip,
                               hwnas_options_value(s->options, first + i));
    if (rc != HWNAS_OK) {
        hwnas_options_free(*out);
        *out = NULL;
    }
    return rc;
}

/* A template with a multiplier per layer (multiplier_per = layer): the
 * network half's multiplier genes choose each layer's among the template's
 * multipliers. Its multipliers option, left at its default, becomes that
 * list; one the user gives may name only multipliers the chip has. */
static int layer_multipliers(hwnas_space *s, const hwnas__kind *nk, hwnas_options *no)
{
    const hwnas__template *t = hwnas__space_accel_template(s->accel_half);
    if (!t->mul_per_layer)
        return HWNAS_OK;
    int64_t opt = hwnas_options_index(no, "multipliers");
    if (opt < 0)
        return hwnas__error(HWNAS_EINVAL, "%s: template %s:%zu gives each layer its multiplier "
                            "(multiplier_per = layer) but %s has no multiplier genes: use "
                            "multiplier_per = accelerator, or a network space with a "
                            "multipliers option (space:cgp, space:macro)",
                            s->kind->name, t->path, t->mul_per_line, nk->name);
    const char *given = hwnas_options_value(no, (size_t)opt);
    if (strcmp(given, hwnas_options_default(no, (size_t)opt)) == 0) {
        hwnas__strbuf sb;
        hwnas__strbuf_init(&sb, s->ctx);
        for (size_t k = 0; k < t->n_muls; k++) {
            if (strchr(t->muls[k], ',')) {
                hwnas__strbuf_release(&sb);
                return hwnas__error(HWNAS_EINVAL, "%s: template %s: multiplier '%s' has a ',' "
                                    "and cannot be a network's multiplier gene value",
                                    s->kind->name, t->path, t->muls[k]);
            }
            hwnas__strbuf_printf(&sb, "%s%s", k ? "," : "", t->muls[k]);
        }
        if (sb.failed) {
            hwnas__strbuf_release(&sb);
            return HWNAS_ENOMEM;
        }
        int rc = hwnas_options_set(no, "multipliers", sb.data);
        hwnas__strbuf_release(&sb);
        return rc;
    }
    for (const char *p = given; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && p[0] == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        size_t k = 0;
        while (k < t->n_muls && !(strlen(t->muls[k]) == n && strncmp(t->muls[k], p, n) == 0))
            k++;
        if (k == t->n_muls)
            return hwnas__error(HWNAS_EINVAL, "%s: option multipliers: '%.*s' is not one of "
                                "the multipliers of template %s (multiplier_per = layer)",
                                s->kind->name, (int)n, p, t->path);
        if (!e)
            break;
        p = e + 1;
    }
    return HWNAS_OK;
}

static int composite_init(hwnas_space *s)
{
    const hwnas__kind *nk = net_kind_of(s);
    const hwnas__kind *hk = &hwnas__space_accelerator_kind;
    if (!nk || nk->n_options + hk->n_options != s->kind->n_options)
        return hwnas__error(HWNAS_EINTERNAL, "%s: its option table is not the network kind's "
                            "and the hardware's", s->kind->name);
    /* the hardware first: its template may decide the network's multipliers */
    hwnas_options *no = NULL, *ho = NULL;
    int rc = half_options(&ho, s, hk, nk->n_options, hk->n_options, strlen(HW_PREFIX));
    if (rc == HWNAS_OK)
        rc = hwnas__space_new_opts(&s->accel_half, s->ctx, hk, ho);
    if (rc == HWNAS_OK)
        rc = half_options(&no, s, nk, 0, nk->n_options, 0);
    if (rc == HWNAS_OK)
        rc = layer_multipliers(s, nk, no);
    if (rc != HWNAS_OK)
        hwnas_options_free(no);
    else
        rc = hwnas__space_new_opts(&s->net_half, s->ctx, nk, no);
    if (rc != HWNAS_OK)
        return rc;
    size_t nn = s->net_half->n_genes, nh = s->accel_half->n_genes;
    rc = hwnas__space_set_genes(s, nn + nh);
    for (size_t i = 0; rc == HWNAS_OK && i < nn; i++)
        rc = hwnas__space_gene(s, i, s->net_half->cardinality[i], s->net_half->ordinal[i], "%s",
                               s->net_half->gene_names[i]);
    for (size_t i = 0; rc == HWNAS_OK && i < nh; i++)
        rc = hwnas__space_gene(s, nn + i, s->accel_half->cardinality[i],
                               s->accel_half->ordinal[i], HW_PREFIX "%s",
                               s->accel_half->gene_names[i]);
    return rc;
}

/* The hardware's genes inside a composite genotype. */
static const uint32_t *hw_genes(const hwnas_space *s, const uint32_t *g)
{
    return g + s->net_half->n_genes;
}

static int composite_decode(const hwnas_space *s, const uint32_t *g, hwnas_net *net)
{
    int rc = hwnas_space_decode(s->net_half, g, net);
    if (rc != HWNAS_OK)
        return rc;
    const hwnas__template *t = hwnas__space_accel_template(s->accel_half);
    size_t n = hwnas_net_node_count(net);
    if (t->mul_per_layer) {
        /* each layer keeps the network's choice, which the template's list
         * bounds; a 16-bit chip has only the exact multiplier */
        const char *names[HWNAS__LAYER_MULS_MAX];
        size_t k = hwnas__template_layer_multipliers(t, hw_genes(s, g), names);
        if (k != 1 || strcmp(names[0], "exact") != 0)
            return HWNAS_OK;
        for (size_t i = 0; i < n && rc == HWNAS_OK; i++) {
            const char *m = hwnas_net_node_multiplier(net, i);
            if (m && strcmp(m, "exact") != 0)
                rc = hwnas_net_set_multiplier(net, i, "exact", 0);
        }
        return rc;
    }
    /* the chip's multiplier is what every multiplying layer computes with */
    const char *mul = hwnas__space_accel_multiplier(s->accel_half, hw_genes(s, g));
    if (strcmp(mul, "exact") == 0)
        return HWNAS_OK;
    for (size_t i = 0; i < n && rc == HWNAS_OK; i++) {
        int kind = hwnas_net_node_kind(net, i);
        if (kind == HWNAS_NET_CONV2D || kind == HWNAS_NET_DWCONV2D || kind == HWNAS_NET_LINEAR)
            rc = hwnas_net_set_multiplier(net, i, mul, 8);
    }
    if (rc == HWNAS_EINVAL || rc == HWNAS_EFORMAT)
        rc = hwnas__error(HWNAS_EINVALID, "%s: multiplier '%s': %s", s->kind->name, mul,
                          hwnas_error_last());
    return rc;
}

static int composite_decode_accel(const hwnas_space *s, const uint32_t *g, hwnas_accel **out)
{
    return hwnas_space_decode_accel(out, s->accel_half, hw_genes(s, g));
}

static int composite_hash(const hwnas_space *s, const uint32_t *g, uint64_t *out)
{
    uint64_t h[2];
    int rc = hwnas_space_hash(s->net_half, g, &h[0]);
    if (rc == HWNAS_OK)
        rc = hwnas_space_hash(s->accel_half, hw_genes(s, g), &h[1]);
    if (rc == HWNAS_OK)
        *out = hwnas__hash_bytes(h, sizeof h);
    return rc;
}

#define SEP " @ "

static int composite_format(const hwnas_space *s, const uint32_t *g, hwnas__strbuf *sb)
{
    char *net = NULL, *hw = NULL;
    int rc = hwnas_space_format(s->net_half, g, &net);
    if (rc == HWNAS_OK)
        rc = hwnas_space_format(s->accel_half, hw_genes(s, g), &hw);
    if (rc == HWNAS_OK)
        hwnas__strbuf_printf(sb, "%s" SEP "%s", net, hw);
    hwnas_free(net);
    hwnas_free(hw);
    if (rc == HWNAS_OK && sb->failed)
        rc = HWNAS_ENOMEM;
    return rc;
}

static int composite_parse(const hwnas_space *s, const char *text, uint32_t *g)
{
    /* the last separator: a network's string never holds one, but a
     * custom format might */
    const char *sep = NULL;
    for (const char *p = strstr(text, SEP); p; p = strstr(p + 1, SEP))
        sep = p;
    if (!sep)
        return hwnas__error(HWNAS_EFORMAT, "%s: genotype \"%s\": expected the network's "
                            "genotype, \"" SEP "\", then the hardware's", s->kind->name, text);
    char *net = hwnas__strndup(s->ctx, text, (size_t)(sep - text));
    if (!net)
        return HWNAS_ENOMEM;
    int rc = hwnas_space_parse(s->net_half, net, g);
    hwnas__free(s->ctx, net);
    if (rc == HWNAS_OK)
        rc = hwnas_space_parse(s->accel_half, sep + strlen(SEP), g + s->net_half->n_genes);
    return rc;
}

static int composite_sample(const hwnas_space *s, hwnas__rng *r, uint32_t *g)
{
    int rc = hwnas__space_sample_r(s->net_half, r, g);
    if (rc == HWNAS_OK)
        rc = hwnas__space_sample_r(s->accel_half, r, g + s->net_half->n_genes);
    return rc;
}

static int has_choice(const hwnas_space *h)
{
    for (size_t i = 0; i < h->n_genes; i++)
        if (h->cardinality[i] > 1)
            return 1;
    return 0;
}

/* At the default rate one half mutates, either with probability 1/2 (a
 * child then differs from its parent in the network or in the hardware,
 * as with one gene on average); at a given rate both halves do. */
static int composite_mutate(const hwnas_space *s, hwnas__rng *r, const uint32_t *parent,
                            uint32_t *child, double rate)
{
    size_t nn = s->net_half->n_genes;
    if (child != parent)
        memcpy(child, parent, s->n_genes * sizeof *child);
    int net = has_choice(s->net_half), hw = has_choice(s->accel_half);
    if (rate == 0 && net && hw) {
        if (hwnas__rng_u64(r) >> 63)
            net = 0;
        else
            hw = 0;
    }
    int rc = HWNAS_OK;
    if (net)
        rc = hwnas__space_mutate_r(s->net_half, r, child, child, rate);
    if (rc == HWNAS_OK && hw)
        rc = hwnas__space_mutate_r(s->accel_half, r, child + nn, child + nn, rate);
    return rc;
}

static int composite_crossover(const hwnas_space *s, hwnas__rng *r, const uint32_t *a,
                               const uint32_t *b, uint32_t *c, uint32_t *d)
{
    size_t nn = s->net_half->n_genes;
    int rc = hwnas__space_crossover_r(s->net_half, r, a, b, c, d);
    if (rc == HWNAS_OK)
        rc = hwnas__space_crossover_r(s->accel_half, r, a + nn, b + nn, c ? c + nn : NULL,
                                      d ? d + nn : NULL);
    return rc;
}

/* The composite brings an operator where a half does: otherwise the
 * strategies' own (ordinal) operators over the whole genotype are the
 * better choice. */
static int composite_has_operator(const hwnas_space *s, int op)
{
    return hwnas_space_has_operator(s->net_half, op) ||
           hwnas_space_has_operator(s->accel_half, op);
}

const hwnas__space_impl hwnas__space_composite_impl = {
    .init = composite_init,
    .decode = composite_decode,
    .hash = composite_hash,
    .format = composite_format,
    .parse = composite_parse,
    .sample = composite_sample,
    .mutate = composite_mutate,
    .crossover = composite_crossover,
    .decode_accel = composite_decode_accel,
    .has_operator = composite_has_operator,
};
