/*
 * Nothing lost: the configuration, the journal of evaluations, snapshots
 * of the strategy, and resuming from them (doc/formats/journal.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "search_internal.h"

#define JOURNAL_HEADER "hwnas-journal 1"
#define CONFIG_HEADER "hwnas-search 1"
#define SNAPSHOT_MAGIC "HWNASNAP"
#define SNAPSHOT_VERSION 1
#define LOCK_NAME "hwnas.lock"
/* The largest journal read: about a million candidates with their nets. */
#define JOURNAL_MAX ((size_t)1 << 30)

static int path_in(const hwnas_search *s, const char *dir, const char *name, char *buf,
                   size_t size)
{
    (void)s;
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
        return hwnas__error(HWNAS_EINVAL, "search: path '%s/%s' is too long", dir, name);
    return HWNAS_OK;
}

/* Text fields are escaped so that a record is one line of tab-separated
 * fields: backslash, tab, newline and carriage return. */
static void put_escaped(hwnas__strbuf *sb, const char *t)
{
    for (; *t; t++) {
        switch (*t) {
        case '\\': hwnas__strbuf_puts(sb, "\\\\"); break;
        case '\t': hwnas__strbuf_puts(sb, "\\t"); break;
        case '\n': hwnas__strbuf_puts(sb, "\\n"); break;
        case '\r': hwnas__strbuf_puts(sb, "\\r"); break;
        default: hwnas__strbuf_append(sb, t, 1);
        }
    }
}

/* Unescape field [p, end) into a new string; NULL on ENOMEM or bad escape. */
static char *get_escaped(const hwnas_context *ctx, const char *p, const char *end, int *bad)
{
    char *out = hwnas__malloc(ctx, (size_t)(end - p) + 1), *o = out;
    if (!out)
        return NULL;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (p + 1 >= end) {
            *bad = 1;
            break;
        }
        char c = p[1];
        *o++ = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
        if (c != 't' && c != 'n' && c != 'r' && c != '\\')
            *bad = 1;
        p += 2;
    }
    *o = 0;
    return out;
}

/* ---- configuration --------------------------------------------------- */

int hwnas__config_write(hwnas_search *s)
{
    char path[4096];
    int rc = path_in(s, hwnas__search_out(s), "search.conf", path, sizeof path);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    /* Session-only options (salvage, read_only, start_over) are not part
     * of the search: a later resume must not inherit them. */
    char *opts = NULL;
    hwnas_options *saved = NULL;
    rc = hwnas_options_format(s->options, 0, &opts);
    if (rc == HWNAS_OK)
        rc = hwnas__options_new_kind(&saved, s->ctx, &hwnas__search_kind, opts);
    hwnas_free(opts);
    opts = NULL;
    if (rc == HWNAS_OK)
        rc = hwnas_options_parse(saved, "salvage=false;read_only=false;start_over=false");
    if (rc == HWNAS_OK)
        rc = hwnas_options_format(saved, 0, &opts);
    hwnas_options_free(saved);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf_puts(&sb, CONFIG_HEADER "\nspace\t");
    put_escaped(&sb, s->space_kind);
    hwnas__strbuf_puts(&sb, "\nspace_options\t");
    put_escaped(&sb, s->space_options);
    hwnas__strbuf_puts(&sb, "\nstrategy\t");
    put_escaped(&sb, s->strategy_kind);
    hwnas__strbuf_puts(&sb, "\nstrategy_options\t");
    put_escaped(&sb, s->strategy_options);
    hwnas__strbuf_puts(&sb, "\noptions\t");
    put_escaped(&sb, opts);
    hwnas_free(opts);
    for (size_t e = 0; e < s->n_est; e++) {
        hwnas__strbuf_puts(&sb, "\nestimator\t");
        put_escaped(&sb, hwnas_estimator_kind(s->est[e]));
        hwnas__strbuf_puts(&sb, "\t");
        const hwnas_options *eo = hwnas_estimator_options(s->est[e]);
        char *t = NULL;
        if (eo && hwnas_options_format(eo, 1, &t) != HWNAS_OK) {
            hwnas__strbuf_release(&sb);
            return HWNAS_ENOMEM;
        }
        put_escaped(&sb, t ? t : "");
        hwnas_free(t);
    }
    hwnas__strbuf_puts(&sb, "\n");
    if (sb.failed)
        return HWNAS_ENOMEM;
    rc = hwnas__file_write_atomic(s->ctx, path, sb.data, sb.len, 0);
    hwnas__strbuf_release(&sb);
    return rc;
}

/* ---- journal ---------------------------------------------------------- */

int hwnas__journal_open(hwnas_search *s)
{
    char path[4096];
    int rc = hwnas__config_write(s);
    if (rc == HWNAS_OK)
        rc = path_in(s, hwnas__search_out(s), "journal.tsv", path, sizeof path);
    if (rc != HWNAS_OK)
        return rc;
    FILE *f = fopen(path, "ab");
    if (!f)
        return hwnas__error(HWNAS_EIO, "cannot open the journal '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size == 0) {
        hwnas__strbuf sb;
        hwnas__strbuf_init(&sb, s->ctx);
        hwnas__strbuf_printf(&sb, JOURNAL_HEADER "\t%zu\t", s->n_genes);
        for (size_t m = 0; m < s->n_metrics; m++)
            hwnas__strbuf_printf(&sb, "%s%s", m ? "," : "", s->metric_names[m]);
        hwnas__strbuf_puts(&sb, "\n");
        rc = sb.failed ? HWNAS_ENOMEM : HWNAS_OK;
        if (rc == HWNAS_OK && (hwnas__write_all(fileno(f), sb.data, sb.len) != 0 ||
                               fsync(fileno(f)) != 0))
            rc = hwnas__error(HWNAS_EIO, "cannot write the journal '%s': %s", path,
                              strerror(errno));
        hwnas__strbuf_release(&sb);
        if (rc != HWNAS_OK) {
            fclose(f);
            return rc;
        }
    }
    s->journal = f;
    return HWNAS_OK;
}

int hwnas__journal_append(hwnas_search *s, const hwnas__record *r, const hwnas_net *net)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_printf(&sb, "%" PRIu64 "\t%" PRIu64 "\t%016" PRIx64 "\t", r->eval, r->id,
                         r->hash);
    for (size_t g = 0; g < s->n_genes; g++)
        hwnas__strbuf_printf(&sb, "%s%u", g ? "," : "", (unsigned)r->genes[g]);
    hwnas__strbuf_puts(&sb, "\t");
    put_escaped(&sb, r->key ? r->key : "");
    hwnas__strbuf_puts(&sb, "\t");
    for (size_t m = 0; m < s->n_metrics; m++)
        hwnas__strbuf_printf(&sb, "%s%.17g", m ? "," : "", r->metrics[m]);
    hwnas__strbuf_printf(&sb, "\t%d\t", r->failed);
    put_escaped(&sb, r->error ? r->error : "");
    hwnas__strbuf_printf(&sb, "\t%.17g\t%d\t", r->seconds, r->cached);
    char *spec = NULL;
    if (net && hwnas_net_node_count(net) && hwnas_net_format(net, &spec) != HWNAS_OK) {
        hwnas__strbuf_release(&sb);
        return HWNAS_ENOMEM;
    }
    put_escaped(&sb, spec ? spec : "");
    hwnas_free(spec);
    return hwnas__journal_seal(s, &sb);
}

/* End the record in sb with its CRC and append it in one write, flushed
 * and fsync'd: after a crash the journal ends with whole records, or with
 * one torn record that the CRC rejects. Releases sb. */
int hwnas__journal_seal(hwnas_search *s, hwnas__strbuf *sb)
{
    if (!sb->failed) {
        uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)sb->data, (uInt)sb->len);
        hwnas__strbuf_printf(sb, "\t#%08x\n", crc);
    }
    int rc = HWNAS_OK;
    if (sb->failed)
        rc = HWNAS_ENOMEM;
    else if (hwnas__write_all(fileno(s->journal), sb->data, sb->len) != 0 ||
             fsync(fileno(s->journal)) != 0)
        rc = hwnas__error(HWNAS_EIO, "cannot append to the journal in '%s': %s",
                          hwnas__search_out(s), strerror(errno));
    hwnas__strbuf_release(sb);
    return rc;
}

/* ---- snapshots -------------------------------------------------------- */

static void put_u64(hwnas__strbuf *sb, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    hwnas__strbuf_append(sb, (const char *)b, 8);
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int hwnas__snapshot_write(hwnas_search *s)
{
    char path[4096];
    int rc = path_in(s, hwnas__search_out(s), "snapshot.bin", path, sizeof path);
    if (rc != HWNAS_OK)
        return rc;
    uint8_t *state = NULL;
    size_t len = 0;
    rc = hwnas_strategy_save(s->strategy, &state, &len);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_append(&sb, SNAPSHOT_MAGIC, 8);
    put_u64(&sb, SNAPSHOT_VERSION);
    put_u64(&sb, s->n_rec);
    double elapsed = s->elapsed_before + (s->started_at > 0 ? hwnas__now_seconds() - s->started_at : 0);
    uint64_t bits;
    memcpy(&bits, &elapsed, 8);
    put_u64(&sb, bits);
    put_u64(&sb, len);
    hwnas__strbuf_append(&sb, (const char *)state, len);
    hwnas_free(state);
    if (sb.failed)
        return HWNAS_ENOMEM;
    put_u64(&sb, crc32(0L, (const Bytef *)sb.data, (uInt)sb.len));
    rc = sb.failed ? HWNAS_ENOMEM
                   : hwnas__file_write_atomic(s->ctx, path, sb.data, sb.len, 1);
    hwnas__strbuf_release(&sb);
    if (rc == HWNAS_OK)
        s->since_snapshot = 0;
    return rc;
}

/* ---- resume ----------------------------------------------------------- */

typedef struct config {
    char *space, *space_options, *strategy, *strategy_options, *options;
    char **est_kind, **est_options;
    size_t n_est;
} config;

static void config_free(const hwnas_context *ctx, config *c)
{
    hwnas__free(ctx, c->space);
    hwnas__free(ctx, c->space_options);
    hwnas__free(ctx, c->strategy);
    hwnas__free(ctx, c->strategy_options);
    hwnas__free(ctx, c->options);
    for (size_t i = 0; i < c->n_est; i++) {
        hwnas__free(ctx, c->est_kind[i]);
        hwnas__free(ctx, c->est_options[i]);
    }
    hwnas__free(ctx, c->est_kind);
    hwnas__free(ctx, c->est_options);
}

static int config_read(const hwnas_context *ctx, const char *path, config *c)
{
    memset(c, 0, sizeof *c);
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, (size_t)1 << 24, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    char *p = (char *)buf;
    size_t line = 1;
    if (strncmp(p, CONFIG_HEADER "\n", strlen(CONFIG_HEADER) + 1) != 0) {
        hwnas__free(ctx, buf);
        return hwnas__error(HWNAS_EFORMAT, "%s:1: expected '%s'", path, CONFIG_HEADER);
    }
    p += strlen(CONFIG_HEADER) + 1;
    while (rc == HWNAS_OK && *p) {
        line++;
        char *eol = strchr(p, '\n');
        if (!eol) {
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: truncated line", path, line);
            break;
        }
        char *tab = memchr(p, '\t', (size_t)(eol - p));
        if (!tab) {
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: expected 'key<TAB>value'", path, line);
            break;
        }
        int bad = 0;
        size_t klen = (size_t)(tab - p);
        char *v = NULL, *v2 = NULL;
        if (klen == 9 && strncmp(p, "estimator", 9) == 0) {
            char *tab2 = memchr(tab + 1, '\t', (size_t)(eol - tab - 1));
            v = get_escaped(ctx, tab + 1, tab2 ? tab2 : eol, &bad);
            v2 = get_escaped(ctx, tab2 ? tab2 + 1 : eol, eol, &bad);
            char **k = hwnas__realloc(ctx, c->est_kind, (c->n_est + 1) * sizeof *k);
            if (k)
                c->est_kind = k;
            char **o = k ? hwnas__realloc(ctx, c->est_options, (c->n_est + 1) * sizeof *o) : NULL;
            if (o)
                c->est_options = o;
            if (!v || !v2 || !k || !o) {
                hwnas__free(ctx, v);
                hwnas__free(ctx, v2);
                rc = HWNAS_ENOMEM;
                break;
            }
            c->est_kind[c->n_est] = v;
            c->est_options[c->n_est++] = v2;
        } else {
            v = get_escaped(ctx, tab + 1, eol, &bad);
            if (!v) {
                rc = HWNAS_ENOMEM;
                break;
            }
            char **slot = klen == 5 && !strncmp(p, "space", 5)              ? &c->space
                          : klen == 13 && !strncmp(p, "space_options", 13)  ? &c->space_options
                          : klen == 8 && !strncmp(p, "strategy", 8)         ? &c->strategy
                          : klen == 16 && !strncmp(p, "strategy_options", 16) ? &c->strategy_options
                          : klen == 7 && !strncmp(p, "options", 7)          ? &c->options
                                                                            : NULL;
            if (!slot) {
                hwnas__free(ctx, v);
                rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: unknown key '%.*s'", path, line,
                                  (int)klen, p);
                break;
            }
            hwnas__free(ctx, *slot);
            *slot = v;
        }
        if (bad)
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: bad escape sequence", path, line);
        p = eol + 1;
    }
    hwnas__free(ctx, buf);
    if (rc == HWNAS_OK && (!c->space || !c->strategy || !c->options))
        rc = hwnas__error(HWNAS_EFORMAT, "%s: space, strategy and options are required", path);
    if (rc != HWNAS_OK)
        config_free(ctx, c);
    return rc;
}

/* Parse one journal line (without its newline) into r: 1 taken, 0 damaged
 * (why says what is wrong), -1 ENOMEM. */
static int journal_line(hwnas_search *s, char *line, size_t len, const size_t *metric_map,
                        size_t n_cols, hwnas__record *r, char *why, size_t why_size)
{
    char *hash = NULL;
    for (char *q = line + len; q > line; q--)
        if (q[-1] == '\t' && q[0] == '#') {
            hash = q;
            break;
        }
    if (!hash || line + len - hash != 9) {
        snprintf(why, why_size, "no '<TAB>#' and 8-digit CRC at the end of the line");
        return 0;
    }
    char *end;
    uint32_t crc = (uint32_t)strtoul(hash + 1, &end, 16);
    uint32_t got = (uint32_t)crc32(0L, (const Bytef *)line, (uInt)(hash - 1 - line));
    if (end != line + len || got != crc) {
        snprintf(why, why_size, "CRC mismatch (the line says %.8s, its content gives %08x): "
                 "the record was changed",
                 hash + 1, (unsigned)got);
        return 0;
    }
    if (memchr(line, 0, len)) {
        snprintf(why, why_size, "a NUL byte inside the record");
        return 0;
    }
    char *f[11];
    char *p = line;
    for (int i = 0; i < 11; i++) {
        f[i] = p;
        char *t = memchr(p, '\t', (size_t)(hash - 1 - p));
        if (i < 10) {
            if (!t) {
                snprintf(why, why_size, "%d fields where 11 were expected", i + 1);
                return 0;
            }
            *t = 0;
            p = t + 1;
        } else if (t) {
            snprintf(why, why_size, "more than 11 fields");
            return 0;
        }
    }
    hash[-1] = 0;
    memset(r, 0, sizeof *r);
    int bad = 0;
    r->eval = strtoull(f[0], &end, 10);
    if (end == f[0] || *end) {
        snprintf(why, why_size, "evaluation index '%.20s' is not a number", f[0]);
        return 0;
    }
    r->id = strtoull(f[1], NULL, 10);
    r->hash = strtoull(f[2], NULL, 16);
    r->genes = hwnas__calloc(s->ctx, s->n_genes + 1, sizeof *r->genes);
    r->metrics = hwnas__malloc(s->ctx, (s->n_metrics + 1) * sizeof *r->metrics);
    r->key = get_escaped(s->ctx, f[4], f[4] + strlen(f[4]), &bad);
    if (!r->genes || !r->metrics || !r->key)
        return -1;
    char *q = f[3];
    for (size_t g = 0; g < s->n_genes; g++) {
        unsigned long v = strtoul(q, &end, 10);
        if (end == q || *q == '-' || v > UINT32_MAX || (g + 1 < s->n_genes && *end != ',') ||
            (g + 1 == s->n_genes && *end)) {
            snprintf(why, why_size, "genes '%.40s': expected %zu comma-separated integers", f[3],
                     s->n_genes);
            return 0;
        }
        r->genes[g] = (uint32_t)v;
        q = end + 1;
    }
    if (hwnas_space_check(s->space, r->genes) != HWNAS_OK) {
        snprintf(why, why_size, "genes outside the space: %.200s", hwnas_error_last());
        return 0;
    }
    for (size_t m = 0; m < s->n_metrics; m++)
        r->metrics[m] = NAN;
    q = f[5];
    for (size_t c = 0; c < n_cols; c++) {
        double v = strtod(q, &end);
        if (end == q || (c + 1 < n_cols && *end != ',') || (c + 1 == n_cols && *end)) {
            snprintf(why, why_size, "metrics '%.60s': expected %zu comma-separated numbers",
                     f[5], n_cols);
            return 0;
        }
        if (metric_map[c] < s->n_metrics)
            r->metrics[metric_map[c]] = v;
        q = end + 1;
    }
    if ((f[6][0] != '0' && f[6][0] != '1') || f[6][1]) {
        snprintf(why, why_size, "failed flag '%.20s' is not 0 or 1", f[6]);
        return 0;
    }
    r->failed = f[6][0] == '1';
    if (r->failed) {
        r->error = get_escaped(s->ctx, f[7], f[7] + strlen(f[7]), &bad);
        if (!r->error)
            return -1;
    }
    r->seconds = strtod(f[8], &end);
    if (end == f[8] || *end || !isfinite(r->seconds) || r->seconds < 0) {
        snprintf(why, why_size, "seconds '%.30s' is not a finite number >= 0", f[8]);
        return 0;
    }
    if ((f[9][0] != '0' && f[9][0] != '1') || f[9][1]) {
        snprintf(why, why_size, "cached flag '%.20s' is not 0 or 1", f[9]);
        return 0;
    }
    r->cached = f[9][0] == '1';
    if (bad)
        snprintf(why, why_size, "a bad escape sequence");
    return bad ? 0 : 1;
}

/* The first free NAME.damaged.N next to path, hard-linked to path's file:
 * the original keeps a name whatever happens next. */
static int keep_aside(hwnas_search *s, const char *path, char *kept, size_t size)
{
    for (unsigned n = 1; n < 1000; n++) {
        if ((size_t)snprintf(kept, size, "%s.damaged.%u", path, n) >= size)
            return hwnas__error(HWNAS_EINVAL, "search: path '%s' is too long", path);
        if (link(path, kept) == 0)
            return HWNAS_OK;
        if (errno != EEXIST)
            return hwnas__error(HWNAS_EIO, "cannot keep '%s' as '%s': %s", path, kept,
                                strerror(errno));
    }
    (void)s;
    return hwnas__error(HWNAS_EIO, "cannot keep '%s': %s.damaged.1 to .999 all exist", path,
                        path);
}

static int journal_read(hwnas_search *s, const char *path)
{
    int salvage = (int)hwnas__options_int(s->options, OPT_SALVAGE);
    int read_only = (int)hwnas__options_int(s->options, OPT_READ_ONLY);
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(s->ctx, path, JOURNAL_MAX, &buf, &len);
    if (rc == HWNAS_ENOTFOUND)
        return HWNAS_OK;
    if (rc != HWNAS_OK)
        return rc;
    char *text = (char *)buf;
    char *eol = memchr(text, '\n', len);
    size_t hlen = strlen(JOURNAL_HEADER);
    if (!eol && strncmp(text, JOURNAL_HEADER "\t", len < hlen + 1 ? len : hlen + 1) == 0) {
        /* A torn header: the crash came before the first record. */
        hwnas__free(s->ctx, buf);
        if (len)
            hwnas_context_log(s->ctx, HWNAS_LOG_WARN, "%s:1: the header is torn (%zu bytes "
                          "without a newline)%s", path, len,
                          hwnas__options_int(s->options, OPT_READ_ONLY) ? "; ignored"
                                                                         : "; cut off");
        if (!hwnas__options_int(s->options, OPT_READ_ONLY) && truncate(path, 0) != 0)
            return hwnas__error(HWNAS_EIO, "cannot cut the torn header off '%s': %s", path,
                                strerror(errno));
        return HWNAS_OK;
    }
    if (!eol || strncmp(text, JOURNAL_HEADER "\t", hlen + 1) != 0) {
        hwnas__free(s->ctx, buf);
        return hwnas__error(HWNAS_EFORMAT, "%s:1: expected '%s'", path, JOURNAL_HEADER);
    }
    char *gend;
    unsigned long long genes = strtoull(text + hlen + 1, &gend, 10);
    if (gend == text + hlen + 1 || *gend != '\t' || genes != s->n_genes) {
        hwnas__free(s->ctx, buf);
        return hwnas__error(HWNAS_EFORMAT, "%s:1: the journal's gene count is not this space's "
                                           "(%zu genes)",
                            path, s->n_genes);
    }
    /* Map the journal's metric columns onto this search's metrics. */
    *eol = 0;
    char *names = gend + 1;
    size_t n_cols = 0, map[256];
    for (char *p = names; *p;) {
        if (n_cols == 256) {
            hwnas__free(s->ctx, buf);
            return hwnas__error(HWNAS_EFORMAT, "%s:1: more than 256 metrics", path);
        }
        size_t l = strcspn(p, ",");
        size_t m = 0;
        while (m < s->n_metrics &&
               !(strlen(s->metric_names[m]) == l && !strncmp(s->metric_names[m], p, l)))
            m++;
        map[n_cols++] = m; /* == n_metrics: a metric no estimator gives now */
        p += l + (p[l] == ',');
    }
    *eol = '\n';
    /* With salvage, the records taken are copied to `kept` as they are. */
    hwnas__strbuf kept;
    hwnas__strbuf_init(&kept, s->ctx);
    hwnas__strbuf_append(&kept, text, (size_t)(eol + 1 - text));
    size_t line_no = 1, skipped = 0, torn = len;
    char *p = eol + 1;
    char why[320];
    while (rc == HWNAS_OK && (size_t)(p - text) < len) {
        line_no++;
        char *e = memchr(p, '\n', len - (size_t)(p - text));
        if (!e) { /* unterminated: the torn last record a crash leaves */
            torn = (size_t)(p - text);
            break;
        }
        size_t llen = (size_t)(e - p), kept_len = kept.len;
        if (salvage)
            hwnas__strbuf_append(&kept, p, llen + 1);
        int ok;
        why[0] = 0;
        if (llen > 2 && p[0] == 'R' && p[1] == '\t') { /* a refinement (refine.c) */
            ok = hwnas__refine_parse(s, p, llen);
            if (ok == 0)
                snprintf(why, sizeof why, "damaged refinement record");
        } else {
            hwnas__record r;
            memset(&r, 0, sizeof r);
            ok = journal_line(s, p, llen, map, n_cols, &r, why, sizeof why);
            if (ok == 1 && r.eval != s->n_replay) {
                snprintf(why, sizeof why,
                         "record of evaluation %" PRIu64 " where evaluation %zu was expected "
                         "(a duplicated, missing or reordered record)",
                         r.eval, s->n_replay);
                ok = 0;
            }
            hwnas__record *rep = ok == 1 ? hwnas__realloc(s->ctx, s->replay,
                                                           (s->n_replay + 1) * sizeof *rep)
                                         : NULL;
            if (ok == 1 && !rep)
                ok = -1;
            if (ok == 1) {
                s->replay = rep;
                s->replay[s->n_replay++] = r;
            } else {
                hwnas__record_release(s->ctx, &r);
            }
        }
        if (ok < 0) {
            rc = HWNAS_ENOMEM;
        } else if (ok == 0) {
            if (llen && p[llen - 1] == '\r')
                snprintf(why + strlen(why), sizeof why - strlen(why),
                         "; the line ends with a carriage return (CRLF line endings from an "
                         "editor?)");
            if (!salvage)
                rc = hwnas__error(HWNAS_EFORMAT,
                                  "%s:%zu: %s. The journal is left as it is: repair or remove "
                                  "that line, or resume with salvage=true (hwnas search "
                                  "--resume DIR --salvage), which keeps the valid records and "
                                  "moves the original aside",
                                  path, line_no, why);
            else {
                hwnas_context_log(s->ctx, HWNAS_LOG_WARN, "%s:%zu: %s; record skipped (salvage)",
                                  path, line_no, why);
                kept.len = kept_len;
                if (kept.data)
                    kept.data[kept_len] = 0;
                skipped++;
            }
        }
        p = e + 1;
    }
    if (rc == HWNAS_OK && kept.failed)
        rc = HWNAS_ENOMEM;
    if (rc == HWNAS_OK && salvage && (skipped || torn < len) && !read_only) {
        /* The original keeps a name; journal.tsv becomes its valid records. */
        char aside[4200];
        rc = keep_aside(s, path, aside, sizeof aside);
        if (rc == HWNAS_OK)
            rc = hwnas__file_write_atomic(s->ctx, path, kept.data, kept.len, 0);
        if (rc == HWNAS_OK)
            hwnas_context_log(s->ctx, HWNAS_LOG_WARN,
                              "%s: salvaged %zu records, skipped %zu damaged lines%s; the "
                              "original is kept as %s",
                              path, s->n_replay, skipped,
                              torn < len ? " and a torn last line" : "", aside);
    } else if (rc == HWNAS_OK && torn < len) {
        /* Only the unterminated last line is cut, so that new records
         * follow whole ones; a report (read_only) leaves even that. */
        hwnas_context_log(s->ctx, HWNAS_LOG_WARN,
                          "%s:%zu: the last record is torn (%zu bytes without a newline, as a "
                          "crash leaves it)%s",
                          path, line_no, len - torn, read_only ? "; ignored" : "; cut off");
        if (!read_only && truncate(path, (off_t)torn) != 0)
            rc = hwnas__error(HWNAS_EIO, "cannot cut the torn last record off '%s': %s", path,
                              strerror(errno));
    }
    hwnas__strbuf_release(&kept);
    hwnas__free(s->ctx, buf);
    return rc;
}

static int snapshot_read(hwnas_search *s, const char *path, size_t *covered)
{
    uint8_t *buf;
    size_t len;
    *covered = 0;
    int rc = hwnas__file_read(s->ctx, path, (size_t)1 << 30, &buf, &len);
    if (rc == HWNAS_ENOTFOUND)
        return HWNAS_OK;
    if (rc != HWNAS_OK)
        return rc;
    rc = HWNAS_OK;
    if (len < 48 || memcmp(buf, SNAPSHOT_MAGIC, 8) != 0)
        rc = hwnas__error(HWNAS_EFORMAT, "%s: not a search snapshot", path);
    else if (get_u64(buf + len - 8) != crc32(0L, buf, (uInt)(len - 8)))
        rc = hwnas__error(HWNAS_EFORMAT, "%s: checksum mismatch (damaged snapshot)", path);
    else if (get_u64(buf + 8) != SNAPSHOT_VERSION)
        rc = hwnas__error(HWNAS_EVERSION, "%s: snapshot version %" PRIu64 " (this library "
                                          "reads %d)",
                          path, get_u64(buf + 8), SNAPSHOT_VERSION);
    else if (get_u64(buf + 32) != len - 48)
        rc = hwnas__error(HWNAS_EFORMAT, "%s: strategy state length does not match", path);
    else if (get_u64(buf + 16) > s->n_replay)
        rc = hwnas__error(HWNAS_EFORMAT, "%s: covers %" PRIu64 " evaluations but the journal "
                                         "holds %zu",
                          path, get_u64(buf + 16), s->n_replay);
    if (rc == HWNAS_OK) {
        *covered = (size_t)get_u64(buf + 16);
        uint64_t bits = get_u64(buf + 24);
        memcpy(&s->elapsed_before, &bits, 8);
        rc = hwnas_strategy_load(s->strategy, buf + 40, len - 48);
        hwnas__free(s->ctx, buf);
        return rc;
    }
    hwnas__free(s->ctx, buf);
    if (rc != HWNAS_EFORMAT)
        return rc;
    if (!hwnas__options_int(s->options, OPT_SALVAGE) ||
        hwnas__options_int(s->options, OPT_READ_ONLY)) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", hwnas_error_last());
        return hwnas__error(HWNAS_EFORMAT, "%s. The snapshot and the journal are left as they "
                                           "are; resume with salvage=true (--salvage) to set "
                                           "the snapshot aside and replay the journal",
                            msg);
    }
    /* Salvage: set the snapshot aside and replay the whole journal from the
     * strategy's start, which asks the same candidates again. */
    hwnas_context_log(s->ctx, HWNAS_LOG_WARN, "%s; the strategy restarts and replays the "
                      "journal (salvage)", hwnas_error_last());
    char aside[4200];
    rc = keep_aside(s, path, aside, sizeof aside);
    if (rc == HWNAS_OK && unlink(path) != 0)
        rc = hwnas__error(HWNAS_EIO, "cannot set '%s' aside: %s", path, strerror(errno));
    return rc;
}

int hwnas__resume_load(hwnas_search *s)
{
    char path[4096];
    size_t covered = 0;
    int rc = path_in(s, s->resume_dir, "journal.tsv", path, sizeof path);
    if (rc == HWNAS_OK)
        rc = journal_read(s, path);
    if (rc == HWNAS_OK)
        rc = path_in(s, s->resume_dir, "snapshot.bin", path, sizeof path);
    if (rc == HWNAS_OK)
        rc = snapshot_read(s, path, &covered);
    /* What the snapshot covers is the archive; the strategy will ask the
     * rest again, and those answers come from the journal. */
    for (size_t i = 0; rc == HWNAS_OK && i < covered; i++) {
        hwnas__record *r = &s->replay[i];
        rc = hwnas__search_score(s, r);
        if (rc == HWNAS_OK && !r->failed && !r->cached && hwnas__cache_find(s, r->hash) < 0)
            rc = hwnas__cache_put(s, r->hash, (int64_t)s->n_rec);
        if (rc == HWNAS_OK)
            rc = hwnas__search_archive(s, r);
    }
    if (rc == HWNAS_OK) {
        if (covered) /* replay is NULL when the journal held no record */
            memmove(s->replay, s->replay + covered,
                    (s->n_replay - covered) * sizeof *s->replay);
        s->n_replay -= covered;
        hwnas__free(s->ctx, s->resume_dir);
        s->resume_dir = NULL;
    }
    /* Refinement follows the final snapshot: when the snapshot covers the
     * whole journal, the journaled refinements are those of this archive. */
    if (rc == HWNAS_OK && s->n_replay == 0 && s->n_refine_log)
        rc = hwnas__search_refine(s, 0);
    return rc;
}

int hwnas_search_resume(hwnas_search **out, hwnas_context *ctx, const char *dir,
                        const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_resume: out is NULL");
    *out = NULL;
    if (!ctx || !dir)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_resume: ctx and dir are required");
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/search.conf", dir) >= sizeof path)
        return hwnas__error(HWNAS_EINVAL, "search: directory name too long");
    config c;
    int rc = config_read(ctx, path, &c);
    if (rc == HWNAS_ENOTFOUND)
        return hwnas__error(HWNAS_ENOTFOUND, "no search to resume in '%s' (no search.conf)", dir);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf opts;
    hwnas__strbuf_init(&opts, ctx);
    hwnas__strbuf_printf(&opts, "%s;out=\"", c.options);
    for (const char *d = dir; *d; d++) {
        if (*d == '"' || *d == '\\')
            hwnas__strbuf_puts(&opts, "\\");
        hwnas__strbuf_append(&opts, d, 1);
    }
    hwnas__strbuf_printf(&opts, "\";%s", options ? options : "");
    hwnas_search *s = NULL;
    rc = opts.failed ? HWNAS_ENOMEM
                     : hwnas_search_new(&s, ctx, c.space, c.space_options, c.strategy,
                                        c.strategy_options, opts.data);
    hwnas__strbuf_release(&opts);
    for (size_t e = 0; rc == HWNAS_OK && e < c.n_est; e++)
        if (strncmp(c.est_kind[e], "custom:", 7) != 0)
            rc = hwnas_search_add_estimator(s, c.est_kind[e], c.est_options[e]);
    config_free(ctx, &c);
    if (rc == HWNAS_OK) {
        s->resume_dir = hwnas__strdup(ctx, dir);
        if (!s->resume_dir)
            rc = HWNAS_ENOMEM;
    }
    if (rc != HWNAS_OK) {
        hwnas_search_free(s);
        return rc;
    }
    *out = s;
    return HWNAS_OK;
}

/* ---- one search per directory ----------------------------------------- */

/* An exclusive flock on out/hwnas.lock for the search's life: the kernel
 * releases it when the process ends, however it ends. The file holds the
 * holder's PID for the message of the next one who tries. */
int hwnas__out_lock(hwnas_search *s)
{
    char path[4096];
    int rc = path_in(s, hwnas__search_out(s), LOCK_NAME, path, sizeof path);
    if (rc != HWNAS_OK)
        return rc;
    int read_only = (int)hwnas__options_int(s->options, OPT_READ_ONLY);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && read_only && (errno == EACCES || errno == EROFS || errno == EPERM))
        return HWNAS_OK; /* a report from a directory it may not write */
    if (fd < 0)
        return hwnas__error(HWNAS_EIO, "cannot open the lock file '%s': %s", path,
                            strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        close(fd);
        if (e == EWOULDBLOCK)
            return hwnas__error(HWNAS_ESTATE, "search: '%s' is in use by another search "
                                              "(process %s holds %s); wait for it to end or "
                                              "choose another directory",
                                hwnas__search_out(s), *pid ? pid : "unknown", path);
        return hwnas__error(HWNAS_EIO, "cannot lock '%s': %s", path, strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        if (!read_only) {
            int e = errno;
            close(fd);
            return hwnas__error(HWNAS_EIO, "cannot write the lock file '%s': %s", path,
                                strerror(e));
        }
    }
    s->lock_fd = fd;
    return HWNAS_OK;
}

void hwnas__out_unlock(hwnas_search *s)
{
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock; the file stays for the next one */
    s->lock_fd = -1;
}

/* The files of a search in its directory, in the order they are moved. */
static const char *const search_files[] = {
    "search.conf", "journal.tsv",  "snapshot.bin", "archive.csv",     "archive.json",
    "front.csv",   "front.json",   "front.svg",    "hypervolume.svg", "front",
};

/* Move the files of an earlier search into out/previous.N/. */
static int move_previous(hwnas_search *s, const char *out)
{
    char dir[4096], from[4096], to[4200];
    unsigned n = 1;
    for (;; n++) {
        if ((size_t)snprintf(dir, sizeof dir, "%s/previous.%u", out, n) >= sizeof dir)
            return hwnas__error(HWNAS_EINVAL, "search: path '%s' is too long", out);
        if (mkdir(dir, 0777) == 0)
            break;
        if (errno != EEXIST || n == 100000)
            return hwnas__error(HWNAS_EIO, "cannot create '%s': %s", dir, strerror(errno));
    }
    for (size_t i = 0; i < sizeof search_files / sizeof *search_files; i++) {
        snprintf(from, sizeof from, "%s/%s", out, search_files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, search_files[i]);
        if (rename(from, to) != 0 && errno != ENOENT)
            return hwnas__error(HWNAS_EIO, "cannot move '%s' to '%s': %s", from, to,
                                strerror(errno));
    }
    hwnas_context_log(s->ctx, HWNAS_LOG_INFO, "the earlier search in '%s' is now in '%s'", out,
                      dir);
    return HWNAS_OK;
}

/* Under the lock, before anything is written: temporary files a killed
 * writer left are removed, and a new search refuses a directory that holds
 * one (unless start_over moves it aside). */
int hwnas__out_prepare(hwnas_search *s)
{
    const char *out = hwnas__search_out(s);
    char path[4096];
    hwnas__remove_stale_temps(out);
    int rc = path_in(s, out, "front", path, sizeof path);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__remove_stale_temps(path);
    if (s->resume_dir)
        return HWNAS_OK;
    int held = 0;
    const char *which = "";
    for (size_t i = 1; i < 3 && !held; i++) { /* journal.tsv, snapshot.bin */
        struct stat st;
        path_in(s, out, search_files[i], path, sizeof path);
        held = lstat(path, &st) == 0 && st.st_size > 0;
        which = search_files[i];
    }
    if (!held)
        return HWNAS_OK;
    if (hwnas__options_int(s->options, OPT_START_OVER))
        return move_previous(s, out);
    return hwnas__error(HWNAS_ESTATE, "search: '%s' already holds a search (%s); resume it "
                                      "(hwnas search --resume %s), or start over with "
                                      "start_over=true (--start-over), which moves its files "
                                      "into %s/previous.N/",
                        out, which, out, out);
}
