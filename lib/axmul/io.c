/* Product-table files: the tf-approximate / EvoApproxLib binary layout and
 * our text layout with metadata (doc/formats/axmul.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axmul_internal.h"

#define TEXT_MAGIC "hwnas-axmul"
#define TEXT_VERSION 1
/* Bound on a text file: 65,536 values with generous spacing and comments. */
#define TEXT_MAX_BYTES (64u << 20)

void hwnas__axmul_name_from_path(char *out, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    static const char *const exts[] = {".gz", ".bin", ".axmul"};
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < HWNAS_ARRAY_SIZE(exts); i++) {
            size_t l = strlen(exts[i]);
            if (n > l && memcmp(base + n - l, exts[i], l) == 0) {
                n -= l;
                again = 1;
            }
        }
    }
    /* A longer name keeps its start and ends in '-' and a hash of the
     * whole: cut at 63, two long names alike at the start were one name. */
    size_t keep = n;
    if (n > HWNAS__AXMUL_NAME_MAX)
        keep = HWNAS__AXMUL_NAME_MAX - 9;
    for (size_t i = 0; i < keep; i++) {
        char c = base[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '+' || c == '-';
        out[i] = ok ? c : '_';
    }
    if (keep < n) {
        uint32_t h = 2166136261u; /* FNV-1a of the name's bytes */
        for (size_t i = 0; i < n; i++)
            h = (h ^ (uint8_t)base[i]) * 16777619u;
        snprintf(out + keep, 10, "-%08x", (unsigned)h);
        n = HWNAS__AXMUL_NAME_MAX;
    }
    out[n] = 0;
    if (n == 0)
        strcpy(out, "table");
}

/* ---- binary ------------------------------------------------------------ */

static int read_bin(hwnas_axmul **out, const hwnas_context *ctx, const uint8_t *data,
                    size_t size, int is_signed, const char *origin)
{
    if (size != HWNAS_AXMUL_BIN_SIZE)
        return hwnas__error(HWNAS_EFORMAT,
                            "%s: %zu bytes; a binary multiplier table has exactly %d bytes "
                            "(65,536 little-endian 16-bit products)",
                            origin, size, HWNAS_AXMUL_BIN_SIZE);
    int32_t *table = hwnas__malloc(ctx, HWNAS_AXMUL_TABLE_SIZE * sizeof *table);
    if (!table)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < HWNAS_AXMUL_TABLE_SIZE; i++) {
        uint16_t v = (uint16_t)(data[2 * i] | (data[2 * i + 1] << 8));
        table[i] = is_signed ? (int32_t)(int16_t)v : (int32_t)v;
    }
    char name[HWNAS__AXMUL_NAME_MAX + 1];
    hwnas__axmul_name_from_path(name, origin);
    char source[HWNAS__AXMUL_SOURCE_MAX + 1];
    snprintf(source, sizeof source, "%s", origin);
    int rc = hwnas__axmul_create(out, ctx, name, table, is_signed,
                                 hwnas__axmul_source_ok(source) ? source : "");
    hwnas__free(ctx, table);
    return rc;
}

/* ---- text reading ------------------------------------------------------ */

typedef struct reader {
    const char *p, *end; /* unread input */
    const char *line;    /* start of the current line */
    size_t len;          /* its length without the line break (and '\r') */
    long lineno;         /* 1-based number of the current line */
    const char *origin;  /* for messages */
} reader;

/* Advance to the next line; 0 at end of input. */
static int next_line(reader *r)
{
    if (r->p >= r->end)
        return 0;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *stop = nl ? nl : r->end;
    r->line = r->p;
    r->len = (size_t)(stop - r->p);
    if (r->len && r->line[r->len - 1] == '\r')
        r->len--;
    r->p = nl ? nl + 1 : r->end;
    r->lineno++;
    return 1;
}

static int blank_or_comment(const reader *r)
{
    size_t i = 0;
    while (i < r->len && (r->line[i] == ' ' || r->line[i] == '\t'))
        i++;
    return i == r->len || r->line[i] == '#';
}

/* Next line that is neither blank nor a comment; 0 at end of input. */
static int next_content(reader *r)
{
    while (next_line(r))
        if (!blank_or_comment(r))
            return 1;
    return 0;
}

static int fmt_error(const reader *r, size_t col, const char *fmt, ...) HWNAS_PRINTF(3, 4);

static int fmt_error(const reader *r, size_t col, const char *fmt, ...)
{
    /* the reason first, then the position in front of it (hwnas__error
     * formats before it replaces the last message: nothing cuts it) */
    va_list ap;
    va_start(ap, fmt);
    hwnas__verror(HWNAS_EFORMAT, fmt, ap);
    va_end(ap);
    if (col)
        return hwnas__error(HWNAS_EFORMAT, "%s:%ld:%zu: %s", r->origin, r->lineno, col,
                            hwnas_error_last());
    return hwnas__error(HWNAS_EFORMAT, "%s:%ld: %s", r->origin, r->lineno, hwnas_error_last());
}

/* Printable excerpt of a line for messages. */
static void excerpt(char *out, size_t size, const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < size; i++)
        out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (len > n && n + 4 <= size) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = 0;
}

/* The line trimmed of surrounding blanks, as [*s, *s + *n). */
static void trimmed(const reader *r, const char **s, size_t *n)
{
    const char *a = r->line, *b = r->line + r->len;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    *s = a;
    *n = (size_t)(b - a);
}

static int parse_cost(const reader *r, const char *v, size_t n, size_t col, const char *key,
                      double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return fmt_error(r, col, "%s: expected a number >= 0 or 'nan'", key);
    memcpy(buf, v, n);
    buf[n] = 0;
    if (strcmp(buf, "nan") == 0) {
        *out = NAN;
        return HWNAS_OK;
    }
    char *endp;
    double d = strtod(buf, &endp);
    if (*endp || endp == buf || !isfinite(d) || d < 0 || buf[0] == 'n' || buf[0] == 'N')
        return fmt_error(r, col, "%s: '%s' is not a number >= 0 or 'nan'", key, buf);
    *out = d;
    return HWNAS_OK;
}

typedef struct text_meta {
    char name[HWNAS__AXMUL_NAME_MAX + 1];
    char source[HWNAS__AXMUL_SOURCE_MAX + 1];
    int is_signed; /* -1 until given */
    double power, area;
    unsigned seen; /* bit per key */
} text_meta;

static const char *const meta_keys[] = {"name", "signed", "power", "area", "source"};

static int read_meta_line(const reader *r, text_meta *m)
{
    const char *s;
    size_t n;
    trimmed(r, &s, &n);
    size_t col0 = (size_t)(s - r->line) + 1;
    size_t klen = 0;
    while (klen < n && s[klen] != ' ' && s[klen] != '\t')
        klen++;
    const char *v = s + klen;
    size_t vn = n - klen;
    while (vn && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    size_t vcol = (size_t)(v - r->line) + 1;
    int key = -1;
    for (int i = 0; i < (int)HWNAS_ARRAY_SIZE(meta_keys); i++)
        if (strlen(meta_keys[i]) == klen && memcmp(meta_keys[i], s, klen) == 0)
            key = i;
    if (key < 0) {
        char ex[40];
        excerpt(ex, sizeof ex, s, klen);
        return fmt_error(r, col0,
                         "unknown key '%s'; expected name, signed, power, area, source or table",
                         ex);
    }
    if (m->seen & (1u << key))
        return fmt_error(r, col0, "key '%s' given twice", meta_keys[key]);
    m->seen |= 1u << key;
    switch (key) {
    case 0:
        if (vn == 0 || vn > HWNAS__AXMUL_NAME_MAX)
            return fmt_error(r, vcol, "name: 1 to %d characters expected", HWNAS__AXMUL_NAME_MAX);
        memcpy(m->name, v, vn);
        m->name[vn] = 0;
        if (!hwnas__axmul_name_ok(m->name)) {
            char ex[80];
            excerpt(ex, sizeof ex, v, vn);
            return fmt_error(r, vcol, "bad name '%s': characters A-Z a-z 0-9 _ . + : = , - only",
                             ex);
        }
        return HWNAS_OK;
    case 1:
        if (vn != 1 || (v[0] != '0' && v[0] != '1'))
            return fmt_error(r, vcol, "signed: expected 0 or 1");
        m->is_signed = v[0] - '0';
        return HWNAS_OK;
    case 2:
        return parse_cost(r, v, vn, vcol, "power", &m->power);
    case 3:
        return parse_cost(r, v, vn, vcol, "area", &m->area);
    default:
        if (vn > HWNAS__AXMUL_SOURCE_MAX)
            return fmt_error(r, vcol, "source longer than %d bytes", HWNAS__AXMUL_SOURCE_MAX);
        memcpy(m->source, v, vn);
        m->source[vn] = 0;
        if (!hwnas__axmul_source_ok(m->source))
            return fmt_error(r, vcol, "source contains control characters");
        return HWNAS_OK;
    }
}

/* One table row: exactly 256 integers in [lo, hi]. */
static int read_row(const reader *r, int32_t *row, int a, int32_t lo, int32_t hi, int is_signed)
{
    const char *s = r->line, *e = r->line + r->len;
    for (int b = 0; b < 256; b++) {
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        size_t col = (size_t)(s - r->line) + 1;
        if (s == e)
            return fmt_error(r, col, "row %d has %d values; 256 expected", a, b);
        int neg = 0;
        if (*s == '-') {
            neg = 1;
            s++;
        }
        int64_t v = 0;
        int digits = 0;
        while (s < e && *s >= '0' && *s <= '9' && digits < 12) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        if (!digits || (s < e && *s != ' ' && *s != '\t')) {
            const char *t = s;
            while (t < e && *t != ' ' && *t != '\t')
                t++;
            char ex[40];
            const char *start = r->line + col - 1;
            excerpt(ex, sizeof ex, start, (size_t)(t - start));
            return fmt_error(r, col, "'%s' is not an integer", ex);
        }
        if (neg)
            v = -v;
        if (v < lo || v > hi) {
            int oa = is_signed ? (int8_t)(uint8_t)a : a, ob = is_signed ? (int8_t)(uint8_t)b : b;
            return fmt_error(r, col,
                             "product %lld for a=%d, b=%d is impossible for a%s multiplier "
                             "(%ld..%ld)",
                             (long long)v, oa, ob, is_signed ? " signed" : "n unsigned",
                             (long)lo, (long)hi);
        }
        row[b] = (int32_t)v;
    }
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    if (s < e && *s != '#')
        return fmt_error(r, (size_t)(s - r->line) + 1, "row %d has more than 256 values", a);
    return HWNAS_OK;
}

static int read_text(hwnas_axmul **out, const hwnas_context *ctx, const char *data,
                     size_t size, const char *origin)
{
    reader r = {data, data + size, data, 0, 0, origin};
    if (!next_content(&r))
        return hwnas__error(HWNAS_EFORMAT, "%s: empty; expected '%s %d'", origin, TEXT_MAGIC,
                            TEXT_VERSION);
    {
        const char *s;
        size_t n;
        trimmed(&r, &s, &n);
        size_t ml = strlen(TEXT_MAGIC);
        if (n <= ml || memcmp(s, TEXT_MAGIC, ml) != 0 || (s[ml] != ' ' && s[ml] != '\t'))
            return fmt_error(&r, 1, "bad header; expected '%s %d'", TEXT_MAGIC, TEXT_VERSION);
        const char *v = s + ml, *vend = s + n;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        long ver = 0;
        int ok = vend - v >= 1 && vend - v <= 6;
        for (const char *q = v; ok && q < vend; q++) {
            ok = *q >= '0' && *q <= '9';
            ver = ver * 10 + (*q - '0');
        }
        if (!ok)
            return fmt_error(&r, (size_t)(v - r.line) + 1, "bad version; expected '%s %d'",
                             TEXT_MAGIC, TEXT_VERSION);
        if (ver != TEXT_VERSION)
            return hwnas__error(HWNAS_EVERSION,
                                "%s:%ld: version %ld of the multiplier text format; this "
                                "library reads version %d",
                                origin, r.lineno, ver, TEXT_VERSION);
    }
    text_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.is_signed = -1;
    meta.power = NAN;
    meta.area = NAN;
    for (;;) {
        if (!next_content(&r))
            return hwnas__error(HWNAS_EFORMAT, "%s:%ld: end of file before 'table'", origin,
                                r.lineno);
        const char *s;
        size_t n;
        trimmed(&r, &s, &n);
        if (n == 5 && memcmp(s, "table", 5) == 0)
            break;
        int rc = read_meta_line(&r, &meta);
        if (rc != HWNAS_OK)
            return rc;
    }
    if (!(meta.seen & 1u))
        return fmt_error(&r, 0, "'name' must come before 'table'");
    if (meta.is_signed < 0)
        return fmt_error(&r, 0, "'signed' must come before 'table'");
    int32_t lo = meta.is_signed ? -32768 : 0, hi = meta.is_signed ? 32767 : 65535;
    int32_t *table = hwnas__malloc(ctx, HWNAS_AXMUL_TABLE_SIZE * sizeof *table);
    if (!table)
        return HWNAS_ENOMEM;
    int rc = HWNAS_OK;
    for (int a = 0; a < 256 && rc == HWNAS_OK; a++) {
        if (!next_content(&r))
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%ld: end of file after %d of 256 table rows",
                              origin, r.lineno, a);
        else
            rc = read_row(&r, table + a * 256, a, lo, hi, meta.is_signed);
    }
    if (rc == HWNAS_OK) {
        const char *s;
        size_t n;
        if (!next_content(&r)) {
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%ld: 'end' expected after the 256 table rows",
                              origin, r.lineno);
        } else {
            trimmed(&r, &s, &n);
            if (n != 3 || memcmp(s, "end", 3) != 0)
                rc = fmt_error(&r, (size_t)(s - r.line) + 1,
                               "'end' expected after the 256 table rows");
            else if (next_content(&r))
                rc = fmt_error(&r, 0, "text after 'end'");
        }
    }
    const char *src = (meta.seen & (1u << 4)) ? meta.source : origin;
    if (rc == HWNAS_OK)
        rc = hwnas__axmul_create(out, ctx, meta.name, table, meta.is_signed,
                                 hwnas__axmul_source_ok(src) ? src : "");
    hwnas__free(ctx, table);
    if (rc == HWNAS_OK) {
        (*out)->power = meta.power;
        (*out)->area = meta.area;
    }
    return rc;
}

/* Whether the first line that is neither blank nor a comment starts with
 * the text magic. */
static int looks_like_text(const char *data, size_t size)
{
    reader r = {data, data + size, data, 0, 0, ""};
    if (!next_content(&r))
        return 0;
    const char *s;
    size_t n;
    trimmed(&r, &s, &n);
    return n >= strlen(TEXT_MAGIC) && memcmp(s, TEXT_MAGIC, strlen(TEXT_MAGIC)) == 0;
}

enum { FMT_AUTO, FMT_BIN, FMT_BIN_SIGNED, FMT_TEXT };

static int parse_format(const char *format, int *out)
{
    if (!format || strcmp(format, "auto") == 0)
        *out = FMT_AUTO;
    else if (strcmp(format, "bin") == 0)
        *out = FMT_BIN;
    else if (strcmp(format, "bin-signed") == 0)
        *out = FMT_BIN_SIGNED;
    else if (strcmp(format, "text") == 0)
        *out = FMT_TEXT;
    else
        return hwnas__error(HWNAS_EINVAL,
                            "unknown multiplier format '%s'; formats: auto, bin, bin-signed, text",
                            format);
    return HWNAS_OK;
}

static int read_any(hwnas_axmul **out, const hwnas_context *ctx, const void *data, size_t size,
                    int fmt, const char *origin)
{
    if (fmt == FMT_AUTO) {
        if (looks_like_text(data, size))
            fmt = FMT_TEXT;
        else if (size == HWNAS_AXMUL_BIN_SIZE)
            fmt = FMT_BIN;
        else
            return hwnas__error(HWNAS_EFORMAT,
                                "%s: neither a multiplier text file (first line '%s %d') nor a "
                                "binary table (%d bytes, this has %zu)",
                                origin, TEXT_MAGIC, TEXT_VERSION, HWNAS_AXMUL_BIN_SIZE, size);
    }
    if (fmt == FMT_TEXT)
        return read_text(out, ctx, data, size, origin);
    return read_bin(out, ctx, data, size, fmt == FMT_BIN_SIGNED, origin);
}

int hwnas_axmul_read(hwnas_axmul **out, hwnas_context *ctx, const void *data, size_t size,
                     const char *format, const char *origin)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || (!data && size))
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_read: NULL argument");
    int fmt;
    int rc = parse_format(format, &fmt);
    if (rc != HWNAS_OK)
        return rc;
    return read_any(out, ctx, data ? data : "", size, fmt, origin ? origin : "memory");
}

int hwnas_axmul_load(hwnas_axmul **out, hwnas_context *ctx, const char *path,
                     const char *format)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_load: NULL argument");
    int fmt;
    int rc = parse_format(format, &fmt);
    if (rc != HWNAS_OK)
        return rc;
    uint8_t *data = NULL;
    size_t len = 0;
    rc = hwnas__file_read(ctx, path, TEXT_MAX_BYTES, &data, &len);
    if (rc != HWNAS_OK)
        return rc;
    rc = read_any(out, ctx, data, len, fmt, path);
    hwnas__free(ctx, data);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

static char *put_int(char *p, int32_t v)
{
    char tmp[12];
    int n = 0;
    uint32_t u = v < 0 ? (uint32_t)(-(int64_t)v) : (uint32_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static void put_cost(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "nan");
    else
        snprintf(buf, size, "%.17g", v);
}

int hwnas_axmul_write(const hwnas_axmul *m, const char *format, void **out, size_t *out_len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!m || !out || !out_len)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_write: NULL argument");
    int fmt;
    int rc = parse_format(format, &fmt);
    if (rc != HWNAS_OK)
        return rc;
    if (fmt == FMT_AUTO)
        fmt = FMT_TEXT;
    if ((fmt == FMT_BIN && m->is_signed) || (fmt == FMT_BIN_SIGNED && !m->is_signed))
        return hwnas__error(HWNAS_EINVAL, "multiplier '%s' is %s: write it as '%s', not '%s'",
                            m->name, m->is_signed ? "signed" : "unsigned",
                            m->is_signed ? "bin-signed" : "bin", format);
    if (fmt != FMT_TEXT) {
        uint8_t *b = hwnas__buffer_alloc(m->ctx, HWNAS_AXMUL_BIN_SIZE);
        if (!b)
            return HWNAS_ENOMEM;
        for (size_t i = 0; i < HWNAS_AXMUL_TABLE_SIZE; i++) {
            b[2 * i] = (uint8_t)(m->table16[i] & 0xff);
            b[2 * i + 1] = (uint8_t)(m->table16[i] >> 8);
        }
        *out = b;
        *out_len = HWNAS_AXMUL_BIN_SIZE;
        return HWNAS_OK;
    }
    char power[32], area[32];
    put_cost(power, sizeof power, m->power);
    put_cost(area, sizeof area, m->area);
    char head[HWNAS__AXMUL_SOURCE_MAX + 512];
    int hn = snprintf(head, sizeof head,
                      "%s %d\n# 8x8-bit multiplier product table: row a (activation), "
                      "column b (weight), see doc/formats/axmul.md\n"
                      "name %s\nsigned %d\npower %s\narea %s\nsource %s\ntable\n",
                      TEXT_MAGIC, TEXT_VERSION, m->name, (int)m->is_signed, power, area,
                      m->source);
    if (hn < 0 || (size_t)hn >= sizeof head)
        return hwnas__error(HWNAS_EINTERNAL, "multiplier '%s': text header too long", m->name);
    /* At most "-32768 " per value, a newline per row, "end\n" and a NUL. */
    size_t cap = (size_t)hn + HWNAS_AXMUL_TABLE_SIZE * 7 + 256 + 8;
    char *buf = hwnas__buffer_alloc(m->ctx, cap);
    if (!buf)
        return HWNAS_ENOMEM;
    memcpy(buf, head, (size_t)hn);
    char *p = buf + hn;
    for (size_t a = 0; a < 256; a++) {
        for (size_t b = 0; b < 256; b++) {
            if (b)
                *p++ = ' ';
            p = put_int(p, m->table[a * 256 + b]);
        }
        *p++ = '\n';
    }
    memcpy(p, "end\n", 5);
    p += 4;
    *out = buf;
    *out_len = (size_t)(p - buf);
    return HWNAS_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int hwnas_axmul_save(const hwnas_axmul *m, const char *path, const char *format)
{
    if (!m || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_save: NULL argument");
    int fmt;
    int rc = parse_format(format, &fmt);
    if (rc != HWNAS_OK)
        return rc;
    int gz = ends_with(path, ".gz");
    if (fmt == FMT_AUTO) {
        if (ends_with(path, ".bin") || ends_with(path, ".bin.gz"))
            format = m->is_signed ? "bin-signed" : "bin";
        else
            format = "text";
    }
    void *data = NULL;
    size_t len = 0;
    rc = hwnas_axmul_write(m, format, &data, &len);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas__file_write_atomic(m->ctx, path, data, len, gz);
    hwnas_free(data);
    return rc;
}
