/*
 * space:accelerator - accelerators as genotypes: one gene per parameter
 * that a hardware template lists values for (doc/formats/hardware-
 * template.md), in the template's order; gene value k is the k-th listed
 * value, ordinal for numbers (PE rows and columns, capacities, data width,
 * clock), categorical for the dataflow and the multiplier. A genotype
 * decodes to a description (hwnas_space_decode_accel), not to a network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel_internal.h"
#include "space_internal.h"

enum { OPT_TEMPLATE, OPT_AXMUL_DIR, OPT_MULTIPLIER_PER };

static const hwnas__option_spec accel_space_options[] = {
    HWNAS__SPACE_ACCEL_OPTION_ROWS(""),
};

typedef struct accel_space {
    hwnas__template *t; /* owned; its n_params are the genes */
} accel_space;

static void accel_fini(hwnas_space *s)
{
    accel_space *st = s->state;
    if (!st)
        return;
    hwnas__template_free(st->t);
    hwnas__free(s->ctx, st);
    s->state = NULL;
}

static int accel_init(hwnas_space *s)
{
    accel_space *st = hwnas__calloc(s->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    s->state = st;
    const char *path = hwnas__options_str(s->options, OPT_TEMPLATE);
    const char *dir = hwnas__options_str(s->options, OPT_AXMUL_DIR);
    int rc = *path ? hwnas__template_load(&st->t, s->ctx, path, dir)
                   : hwnas__template_parse(&st->t, s->ctx,
                                           hwnas__accel_builtin("eyeriss-45nm-space"),
                                           "<built-in eyeriss-45nm-space>", dir);
    if (rc != HWNAS_OK)
        return rc;
    const char *per = hwnas__options_str(s->options, OPT_MULTIPLIER_PER);
    if (strcmp(per, "template") != 0)
        rc = hwnas__template_set_multiplier_per(st->t, strcmp(per, "layer") == 0);
    if (rc != HWNAS_OK)
        return rc;
    const hwnas__template *t = st->t;
    if (t->n_params == 0)
        return hwnas__error(HWNAS_EINVAL, "space:accelerator: template %s lists no values to "
                            "choose from (a list is 'key = a | b'); a fixed accelerator is "
                            "estimator:accelerator's hardware option",
                            t->path);
    rc = hwnas__space_set_genes(s, t->n_params);
    for (size_t i = 0; rc == HWNAS_OK && i < t->n_params; i++) {
        int what = t->param[i].what;
        int ordinal = what != HWNAS__TP_DATAFLOW && what != HWNAS__TP_MULTIPLIER;
        rc = hwnas__space_gene(s, i, (uint32_t)t->param[i].n, ordinal, "%s",
                               t->param[i].name);
    }
    return rc;
}

const hwnas__template *hwnas__space_accel_template(const hwnas_space *s)
{
    const accel_space *st = s->state;
    return st->t;
}

const char *hwnas__space_accel_multiplier(const hwnas_space *s, const uint32_t *genes)
{
    const accel_space *st = s->state;
    return hwnas__template_multiplier(st->t, genes);
}

static int accel_decode(const hwnas_space *s, const uint32_t *genes, hwnas_net *net)
{
    (void)genes;
    (void)net;
    return hwnas__error(HWNAS_EUNSUPPORTED,
                        "%s: a candidate is an accelerator, not a network: decode it with "
                        "hwnas_space_decode_accel (or search a network space + accelerator, "
                        "such as space:cgp+accelerator)",
                        s->kind->name);
}

static int accel_decode_accel(const hwnas_space *s, const uint32_t *genes, hwnas_accel **out)
{
    const accel_space *st = s->state;
    int rc = hwnas__template_instance(out, st->t, genes);
    if (rc == HWNAS_EINVALID) {
        hwnas__strbuf sb;
        hwnas__strbuf_init(&sb, s->ctx);
        for (size_t i = 0; i < s->n_genes; i++) {
            char v[80];
            hwnas__template_value_text(st->t, i, genes[i], v, sizeof v);
            hwnas__strbuf_printf(&sb, "%s%s=%s", i ? ";" : "", s->gene_names[i], v);
        }
        rc = hwnas__error(HWNAS_EINVALID, "space:accelerator: %s: %s",
                          sb.failed ? "(this genotype)" : sb.data, hwnas_error_last());
        hwnas__strbuf_release(&sb);
    }
    return rc;
}

static int accel_hash(const hwnas_space *s, const uint32_t *genes, uint64_t *out)
{
    hwnas_accel *a = NULL;
    int rc = accel_decode_accel(s, genes, &a);
    if (rc == HWNAS_OK)
        *out = hwnas_accel_hash(a);
    hwnas_accel_free(a);
    return rc;
}

/* "pe_rows=12;pe_cols=14;...;multiplier=exact": ';' never occurs in a
 * value (multiplier names may hold ',' and '='). */
static int accel_format(const hwnas_space *s, const uint32_t *genes, hwnas__strbuf *sb)
{
    const accel_space *st = s->state;
    for (size_t i = 0; i < s->n_genes; i++) {
        char v[80];
        hwnas__template_value_text(st->t, i, genes[i], v, sizeof v);
        hwnas__strbuf_printf(sb, "%s%s=%s", i ? ";" : "", s->gene_names[i], v);
    }
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

/* The index of value text v of gene i, or -1. Numbers compare as numbers. */
static int64_t value_index(const hwnas_space *s, size_t i, const char *v, size_t len)
{
    const accel_space *st = s->state;
    const hwnas__tparam *p = &st->t->param[i];
    char buf[80];
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, v, len);
    buf[len] = 0;
    int numeric = p->what != HWNAS__TP_DATAFLOW && p->what != HWNAS__TP_MULTIPLIER;
    char *end;
    double x = numeric ? strtod(buf, &end) : 0;
    if (numeric && (end == buf || *end))
        return -1;
    for (size_t k = 0; k < p->n; k++) {
        char text[80];
        hwnas__template_value_text(st->t, i, k, text, sizeof text);
        if (numeric ? p->value[k] == x : strcmp(text, buf) == 0)
            return (int64_t)k;
    }
    return -1;
}

static int accel_parse(const hwnas_space *s, const char *text, uint32_t *genes)
{
    const char *p = text;
    for (size_t i = 0; i < s->n_genes; i++) {
        const char *name = s->gene_names[i];
        size_t nlen = strlen(name);
        if (strncmp(p, name, nlen) != 0 || p[nlen] != '=')
            return hwnas__error(HWNAS_EFORMAT, "space:accelerator: genotype \"%s\": expected "
                                "'%s=' at position %zu", text, name, (size_t)(p - text) + 1);
        const char *v = p + nlen + 1;
        size_t len = strcspn(v, ";");
        int64_t k = value_index(s, i, v, len);
        if (k < 0) {
            char list[512];
            size_t used = 0;
            list[0] = 0;
            const accel_space *st = s->state;
            for (size_t j = 0; j < s->cardinality[i] && used + 80 < sizeof list; j++) {
                char t[80];
                hwnas__template_value_text(st->t, i, j, t, sizeof t);
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? " | " : "",
                                         t);
            }
            return hwnas__error(HWNAS_EFORMAT, "space:accelerator: genotype \"%s\": %s = "
                                "'%.*s' is not one of the template's values (%s)", text, name,
                                (int)(len > 64 ? 64 : len), v, list);
        }
        genes[i] = (uint32_t)k;
        p = v + len;
        if (i + 1 < s->n_genes) {
            if (*p != ';')
                return hwnas__error(HWNAS_EFORMAT, "space:accelerator: genotype \"%s\": "
                                    "expected ';' at position %zu", text,
                                    (size_t)(p - text) + 1);
            p++;
        }
    }
    if (*p)
        return hwnas__error(HWNAS_EFORMAT, "space:accelerator: genotype \"%s\": unexpected "
                            "text at position %zu (the space has %zu genes)", text,
                            (size_t)(p - text) + 1, s->n_genes);
    return HWNAS_OK;
}

static const hwnas__space_impl accel_space_impl = {
    .init = accel_init,
    .fini = accel_fini,
    .decode = accel_decode,
    .hash = accel_hash,
    .format = accel_format,
    .parse = accel_parse,
    .decode_accel = accel_decode_accel,
};

const hwnas__kind hwnas__space_accelerator_kind = {
    "space:accelerator", accel_space_options, HWNAS_ARRAY_SIZE(accel_space_options),
    &accel_space_impl,
};
