/* The latency LUT text format (doc/formats/latency-lut.md): reading,
 * loading, formatting and saving. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lut_internal.h"

#define LUT_FORMAT_VERSION 1
#define LUT_MAX_FILE (64u << 20)

int hwnas__lut_parse_number(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    if (*end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

static int parse_text(hwnas_latency_lut *lut, const char *text, size_t len, const char *name)
{
    int have_version = 0, have_unit = 0, have_values = 0;
    double scale = 1.0;
    size_t line_no = 0;
    char where[320];
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *s = text + pos;
        size_t n = end - pos;
        pos = end + 1;
        line_no++;
        trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        if (memchr(s, '\0', n))
            return hwnas__error(HWNAS_EFORMAT, "%s:%zu: NUL byte in a latency LUT", name,
                                line_no);
        hwnas__where(where, sizeof where, name, line_no, 0);
        size_t wl = 0;
        while (wl < n && s[wl] != ' ' && s[wl] != '\t')
            wl++;
        const char *rest = s + wl;
        size_t rn = n - wl;
        trim(&rest, &rn);
        if (!have_version) {
            int64_t v;
            if (wl != 17 || memcmp(s, "hwnas-latency-lut", 17) != 0 ||
                !hwnas__lut_parse_int(rest, rn, 0, 1000000, &v))
                return hwnas__error(HWNAS_EFORMAT, "%snot a latency LUT: the first line must be "
                                    "'hwnas-latency-lut %d'", where, LUT_FORMAT_VERSION);
            if (v != LUT_FORMAT_VERSION)
                return hwnas__error(HWNAS_EVERSION, "%slatency LUT format version %lld; this "
                                    "libhwnas reads version %d", where, (long long)v,
                                    LUT_FORMAT_VERSION);
            have_version = 1;
            continue;
        }
        if (wl == 6 && memcmp(s, "device", 6) == 0) {
            char *d = hwnas__strndup(lut->ctx, rest, rn);
            if (!d)
                return HWNAS_ENOMEM;
            hwnas__free(lut->ctx, lut->device);
            lut->device = d;
        } else if (wl == 4 && memcmp(s, "meta", 4) == 0) {
            /* free-form provenance (engine, threads, date): kept by nobody */
        } else if (wl == 4 && memcmp(s, "unit", 4) == 0) {
            if (have_unit || have_values)
                return hwnas__error(HWNAS_EFORMAT, "%s'unit' must come once, before overhead "
                                    "and layer lines", where);
            if (rn == 2 && memcmp(rest, "ms", 2) == 0)
                scale = 1.0;
            else if (rn == 2 && memcmp(rest, "us", 2) == 0)
                scale = 1e-3;
            else if (rn == 1 && rest[0] == 's')
                scale = 1e3;
            else
                return hwnas__error(HWNAS_EFORMAT, "%sunit \"%.*s\" is not ms, us or s", where,
                                    (int)rn, rest);
            have_unit = 1;
        } else if (wl == 8 && memcmp(s, "overhead", 8) == 0) {
            double v;
            if (!hwnas__lut_parse_number(rest, rn, &v))
                return hwnas__error(HWNAS_EFORMAT, "%soverhead \"%.*s\" is not a number", where,
                                    (int)rn, rest);
            if (!(fabs(v * scale) <= HWNAS__LUT_MAX_MS))
                return hwnas__error(HWNAS_EFORMAT, "%soverhead \"%.*s\" is out of range "
                                    "(-%g to %g ms)", where, (int)rn, rest, HWNAS__LUT_MAX_MS,
                                    HWNAS__LUT_MAX_MS);
            lut->overhead = v * scale;
            have_values = 1;
        } else if (wl == 5 && memcmp(s, "layer", 5) == 0) {
            const char *colon = NULL;
            for (size_t j = rn; j-- > 0;)
                if (rest[j] == ':' && (j == 0 || rest[j - 1] == ' ' || rest[j - 1] == '\t')) {
                    colon = rest + j;
                    break;
                }
            if (!colon)
                return hwnas__error(HWNAS_EFORMAT, "%sa layer line is 'layer KEY : LATENCY'",
                                    where);
            const char *num = colon + 1;
            size_t nn = rn - (size_t)(num - rest);
            trim(&num, &nn);
            double v;
            if (!hwnas__lut_parse_number(num, nn, &v) || v < 0)
                return hwnas__error(HWNAS_EFORMAT, "%slatency \"%.*s\" is not a number >= 0",
                                    where, (int)nn, num);
            if (!(v * scale <= HWNAS__LUT_MAX_MS))
                return hwnas__error(HWNAS_EFORMAT, "%slatency \"%.*s\" is out of range (0 to "
                                    "%g ms)", where, (int)nn, num, HWNAS__LUT_MAX_MS);
            hwnas__lut_key k;
            int rc = hwnas__lut_key_parse(&k, rest, (size_t)(colon - rest), where);
            if (rc != HWNAS_OK)
                return rc == HWNAS_EINVAL ? hwnas__error(HWNAS_EFORMAT, "%s",
                                                         hwnas_error_last())
                                          : rc;
            size_t before = lut->n, at;
            rc = hwnas__lut_entry_get(lut, &k, &at);
            if (rc != HWNAS_OK)
                return rc;
            if (lut->n == before)
                return hwnas__error(HWNAS_EFORMAT, "%slayer \"%s\" is listed twice", where,
                                    lut->entries[at].text);
            lut->entries[at].ms = v * scale;
            lut->entries[at].count = 1;
            have_values = 1;
        } else {
            return hwnas__error(HWNAS_EFORMAT, "%sunknown line \"%.*s\" (lines: device, meta, "
                                "unit, overhead, layer)", where, (int)(wl > 40 ? 40 : wl), s);
        }
    }
    if (!have_version)
        return hwnas__error(HWNAS_EFORMAT, "%s: empty: not a latency LUT", name);
    return HWNAS_OK;
}

int hwnas_latency_lut_parse(hwnas_latency_lut **out, hwnas_context *ctx, const char *text,
                            size_t len, const char *name)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_parse: out is NULL");
    *out = NULL;
    if (!ctx || (!text && len))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_parse: NULL argument");
    hwnas_latency_lut *lut;
    int rc = hwnas_latency_lut_new(&lut, ctx);
    if (rc != HWNAS_OK)
        return rc;
    rc = parse_text(lut, text ? text : "", len, name ? name : "<memory>");
    if (rc != HWNAS_OK) {
        hwnas_latency_lut_free(lut);
        return rc;
    }
    *out = lut;
    return HWNAS_OK;
}

int hwnas_latency_lut_load(hwnas_latency_lut **out, hwnas_context *ctx, const char *path)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_load: out is NULL");
    *out = NULL;
    if (!ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_load: ctx and path are required");
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, LUT_MAX_FILE, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas_latency_lut_parse(out, ctx, (const char *)buf, len, path);
    hwnas__free(ctx, buf);
    return rc;
}

static int format_text(const hwnas_latency_lut *lut, hwnas__strbuf *sb)
{
    size_t *order = hwnas__malloc(lut->ctx, (lut->n ? lut->n : 1) * sizeof *order);
    if (!order)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < lut->n; i++)
        order[i] = i;
    /* qsort has no user pointer: an insertion sort keeps this reentrant
     * (LUTs hold hundreds of entries, not millions) */
    for (size_t i = 1; i < lut->n; i++) {
        size_t v = order[i], j = i;
        while (j > 0 && strcmp(lut->entries[order[j - 1]].text, lut->entries[v].text) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    hwnas__strbuf_printf(sb, "hwnas-latency-lut %d\n# per-layer latencies; "
                         "doc/formats/latency-lut.md\n", LUT_FORMAT_VERSION);
    if (lut->device[0])
        hwnas__strbuf_printf(sb, "device %s\n", lut->device);
    hwnas__strbuf_printf(sb, "unit ms\noverhead %.9g\n", lut->overhead);
    for (size_t i = 0; i < lut->n; i++) {
        const hwnas__lut_entry *e = &lut->entries[order[i]];
        hwnas__strbuf_printf(sb, "layer %s : %.9g\n", e->text, e->ms);
    }
    hwnas__free(lut->ctx, order);
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

int hwnas_latency_lut_format(const hwnas_latency_lut *lut, char **out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_format: out is NULL");
    *out = NULL;
    if (!lut)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_format: lut is NULL");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    int rc = format_text(lut, &sb);
    if (rc == HWNAS_OK) {
        *out = hwnas__strbuf_detach_buffer(&sb);
        rc = *out ? HWNAS_OK : HWNAS_ENOMEM;
    }
    hwnas__strbuf_release(&sb);
    return rc;
}

int hwnas_latency_lut_save(const hwnas_latency_lut *lut, const char *path)
{
    if (!lut || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_save: lut and path are required");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    int rc = format_text(lut, &sb);
    if (rc == HWNAS_OK) {
        size_t n = strlen(path);
        int gz = n > 3 && strcmp(path + n - 3, ".gz") == 0;
        rc = hwnas__file_write_atomic(lut->ctx, path, sb.data, sb.len, gz);
    }
    hwnas__strbuf_release(&sb);
    return rc;
}
