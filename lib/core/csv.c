/* CSV tables (core_internal.h): RFC 4180 fields (quoted, with doubled
 * quotes; CRLF or LF), a header row, blank lines skipped, every row as
 * wide as the header; errors name file, line and column. */
#include <string.h>

#include "core_internal.h"

void hwnas__csv_free(const hwnas_context *ctx, hwnas__csv *t)
{
    for (size_t i = 0; t->header && i < t->n_cols; i++)
        hwnas__free(ctx, t->header[i]);
    for (size_t i = 0; t->cells && i < t->n_rows * t->n_cols; i++)
        hwnas__free(ctx, t->cells[i]);
    hwnas__free(ctx, t->header);
    hwnas__free(ctx, t->cells);
    hwnas__free(ctx, t->line);
    memset(t, 0, sizeof *t);
}

/* Read one field at *p (quoted or bare); *p ends on ',' '\n' or NUL. */
static int csv_field(const hwnas_context *ctx, const char *name, size_t line, const char *bol,
                     const char **pp, char **out)
{
    const char *p = *pp;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    if (*p == '"') {
        p++;
        for (;;) {
            if (!*p) {
                hwnas__strbuf_release(&sb);
                return hwnas__error(HWNAS_EFORMAT, "%s:%zu:%zu: unterminated quoted field", name,
                                    line, (size_t)(*pp - bol) + 1);
            }
            if (*p == '"') {
                if (p[1] != '"')
                    break;
                p++;
            }
            hwnas__strbuf_append(&sb, p, 1);
            p++;
        }
        p++;
        if (*p && *p != ',' && *p != '\n' && *p != '\r') {
            hwnas__strbuf_release(&sb);
            return hwnas__error(HWNAS_EFORMAT, "%s:%zu:%zu: expected ',' after a quoted field",
                                name, line, (size_t)(p - bol) + 1);
        }
    } else {
        const char *start = p;
        while (*p && *p != ',' && *p != '\n' && *p != '\r')
            p++;
        hwnas__strbuf_append(&sb, start, (size_t)(p - start));
    }
    if (*p == '\r')
        p++;
    if (!sb.data)
        hwnas__strbuf_append(&sb, "", 0);
    if (sb.failed) {
        hwnas__strbuf_release(&sb); /* what the earlier appends hold */
        return HWNAS_ENOMEM;
    }
    *out = sb.data;
    *pp = p;
    return HWNAS_OK;
}

int hwnas__csv_parse(const hwnas_context *ctx, const char *text, const char *name, hwnas__csv *t)
{
    memset(t, 0, sizeof *t);
    const char *p = text;
    size_t line = 1, cap_rows = 0;
    char **fields = NULL;
    size_t n_fields = 0, cap_fields = 0;
    int rc = HWNAS_OK;
    while (*p && rc == HWNAS_OK) {
        const char *bol = p;
        if (*p == '\n') { /* blank lines are skipped */
            p++;
            line++;
            continue;
        }
        n_fields = 0;
        for (;;) {
            if (n_fields == cap_fields) {
                size_t nc = cap_fields ? cap_fields * 2 : 16;
                char **nf = hwnas__realloc(ctx, fields, nc * sizeof *nf);
                if (!nf) {
                    rc = HWNAS_ENOMEM;
                    break;
                }
                fields = nf;
                cap_fields = nc;
            }
            rc = csv_field(ctx, name, line, bol, &p, &fields[n_fields]);
            if (rc != HWNAS_OK)
                break;
            n_fields++;
            if (*p != ',')
                break;
            p++;
        }
        if (rc == HWNAS_OK && *p && *p != '\n')
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: unexpected character", name, line);
        if (rc == HWNAS_OK && !t->header) {
            t->n_cols = n_fields;
            t->header = fields;
            fields = NULL;
            cap_fields = n_fields = 0;
        } else if (rc == HWNAS_OK) {
            if (n_fields != t->n_cols) {
                rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: %zu fields, but the header has %zu",
                                  name, line, n_fields, t->n_cols);
            } else {
                if (t->n_rows == cap_rows) {
                    size_t nr = cap_rows ? cap_rows * 2 : 1024;
                    char **nc = hwnas__realloc(ctx, t->cells, nr * t->n_cols * sizeof *nc);
                    if (nc)
                        t->cells = nc;
                    size_t *nl = nc ? hwnas__realloc(ctx, t->line, nr * sizeof *nl) : NULL;
                    if (nl)
                        t->line = nl;
                    if (!nc || !nl)
                        rc = HWNAS_ENOMEM;
                    else
                        cap_rows = nr;
                }
                if (rc == HWNAS_OK) {
                    memcpy(t->cells + t->n_rows * t->n_cols, fields, n_fields * sizeof *fields);
                    t->line[t->n_rows++] = line;
                    n_fields = 0; /* now owned by t */
                }
            }
        }
        for (size_t i = 0; i < n_fields; i++)
            hwnas__free(ctx, fields[i]);
        n_fields = 0;
        if (*p == '\n') {
            p++;
            line++;
        }
    }
    hwnas__free(ctx, fields);
    if (rc == HWNAS_OK && !t->header)
        rc = hwnas__error(HWNAS_EFORMAT, "%s: empty file (a header row is required)", name);
    if (rc != HWNAS_OK)
        hwnas__csv_free(ctx, t);
    return rc;
}

int hwnas__csv_load(const hwnas_context *ctx, const char *path, hwnas__csv *t)
{
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, (size_t)1 << 31, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    if (memchr(buf, 0, len))
        rc = hwnas__error(HWNAS_EFORMAT, "%s: binary data (a NUL byte) in a CSV file", path);
    else
        rc = hwnas__csv_parse(ctx, (const char *)buf, path, t);
    hwnas__free(ctx, buf);
    return rc;
}

int64_t hwnas__csv_column(const hwnas__csv *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->header[i], name) == 0)
            return (int64_t)i;
    return -1;
}
