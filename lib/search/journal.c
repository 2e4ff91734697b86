/*
 * The files that lose nothing (doc/formats/journal.md): the configuration
 * (search.conf), the journal of evaluations and refinements (journal.tsv)
 * and the strategy's snapshots (snapshot.bin), written and read back.
 * What a resume does with them is resume.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "search_internal.h"

#define JOURNAL_HEADER "hwnas-journal 1"
#define CONFIG_HEADER "hwnas-search 1"
#define SNAPSHOT_MAGIC "HWNASNAP"
#define SNAPSHOT_VERSION 1
/* The largest journal read: about a million candidates with their nets. */
#define JOURNAL_MAX ((size_t)1 << 30)

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
    int rc = hwnas__path_in(hwnas__search_out(s), "search.conf", path, sizeof path);
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
        rc = hwnas_options_new(&saved, s->ctx, "search"); /* a copy, by kind name */
    if (rc == HWNAS_OK)
        rc = hwnas_options_parse(saved, opts);
    hwnas_free(opts);
    opts = NULL;
    if (rc == HWNAS_OK)
        rc = hwnas_options_parse(saved, "salvage=false;read_only=false;start_over=false");
    if (rc == HWNAS_OK)
        rc = hwnas_options_format(saved, 0, &opts);
    /* The rows added since the format began (co-design, guide, prune) come last
     * and are left out while at their defaults, from the end back, so
     * that a search that uses none of them writes what it wrote before. */
    for (size_t i = N_SEARCH_OPTIONS; rc == HWNAS_OK && i-- > OPT_CODESIGN;) {
        if (strcmp(hwnas_options_value(saved, i), hwnas_options_default(saved, i)) != 0)
            break;
        char row[64];
        snprintf(row, sizeof row, ";%s=", hwnas_options_name(saved, i));
        char *at = NULL;
        for (char *p = strstr(opts, row); p; p = strstr(p + 1, row))
            at = p;
        if (!at)
            break;
        *at = 0;
    }
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
        rc = hwnas__path_in(hwnas__search_out(s), "journal.tsv", path, sizeof path);
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

/* End the record that starts at sb->data[from] with its CRC and newline. */
static void journal_crc(hwnas__strbuf *sb, size_t from)
{
    if (sb->failed)
        return;
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)sb->data + from, (uInt)(sb->len - from));
    hwnas__strbuf_printf(sb, "\t#%08x\n", crc);
}

int hwnas__journal_commit(hwnas_search *s, hwnas__strbuf *sb)
{
    int rc = HWNAS_OK;
    if (sb->failed)
        rc = HWNAS_ENOMEM;
    else if (sb->len && (hwnas__write_all(fileno(s->journal), sb->data, sb->len) != 0 ||
                         fsync(fileno(s->journal)) != 0))
        rc = hwnas__error(HWNAS_EIO, "cannot append to the journal in '%s': %s",
                          hwnas__search_out(s), strerror(errno));
    hwnas__strbuf_release(sb);
    return rc;
}

int hwnas__journal_format(hwnas_search *s, hwnas__strbuf *sb, const hwnas__record *r,
                          const hwnas_net *net)
{
    size_t from = sb->len;
    hwnas__strbuf_printf(sb, "%" PRIu64 "\t%" PRIu64 "\t%016" PRIx64 "\t", r->eval, r->id,
                         r->hash);
    for (size_t g = 0; g < s->n_genes; g++) {
        if (g)
            hwnas__strbuf_append(sb, ",", 1);
        hwnas__strbuf_put_u64(sb, r->genes[g]);
    }
    hwnas__strbuf_puts(sb, "\t");
    put_escaped(sb, r->key ? r->key : "");
    hwnas__strbuf_puts(sb, "\t");
    for (size_t m = 0; m < s->n_metrics; m++)
        hwnas__strbuf_printf(sb, "%s%.17g", m ? "," : "", r->metrics[m]);
    hwnas__strbuf_printf(sb, "\t%d\t", r->failed);
    put_escaped(sb, r->error ? r->error : "");
    hwnas__strbuf_printf(sb, "\t%.17g\t%d\t", r->seconds, r->cached);
    char *spec = NULL;
    if (net && hwnas_net_node_count(net) && hwnas_net_format(net, &spec) != HWNAS_OK)
        return HWNAS_ENOMEM;
    put_escaped(sb, spec ? spec : "");
    hwnas_free(spec);
    if (s->pruner || r->pruned || r->n_curve) {
        /* fields 12 and 13 (doc/formats/journal.md): pruned, curve */
        hwnas__strbuf_printf(sb, "\t%d\t", r->pruned);
        for (size_t k = 0; k < r->n_curve; k++)
            hwnas__strbuf_printf(sb, "%s%.17g:%.17g", k ? "," : "", r->curve[2 * k],
                                 r->curve[2 * k + 1]);
    }
    journal_crc(sb, from);
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

int hwnas__journal_append(hwnas_search *s, const hwnas__record *r, const hwnas_net *net)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    int rc = hwnas__journal_format(s, &sb, r, net);
    if (rc != HWNAS_OK) {
        hwnas__strbuf_release(&sb);
        return rc;
    }
    return hwnas__journal_commit(s, &sb);
}

/* A refinement: "R", the evaluation, the refine estimator's metrics in its
 * order, failed, error, seconds, CRC. */
int hwnas__journal_append_refined(hwnas_search *s, const hwnas__refined *x)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_printf(&sb, "R\t%" PRIu64 "\t", x->eval);
    size_t m = hwnas_estimator_metric_count(s->refine_est);
    for (size_t j = 0; j < m; j++)
        hwnas__strbuf_printf(&sb, "%s%.17g", j ? "," : "", x->values[j]);
    hwnas__strbuf_printf(&sb, "\t%d\t", x->failed);
    for (const char *t = x->error ? x->error : ""; *t; t++) /* one line: no tabs, newlines */
        hwnas__strbuf_append(&sb, *t == '\t' || *t == '\n' || *t == '\r' ? " " : t, 1);
    hwnas__strbuf_printf(&sb, "\t%.17g", x->seconds);
    journal_crc(&sb, 0);
    return hwnas__journal_commit(s, &sb);
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
    int rc = hwnas__path_in(hwnas__search_out(s), "snapshot.bin", path, sizeof path);
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

/* ---- reading back ------------------------------------------------------- */

void hwnas__config_free(const hwnas_context *ctx, hwnas__config *c)
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

int hwnas__config_read(const hwnas_context *ctx, const char *path, hwnas__config *c)
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
        hwnas__config_free(ctx, c);
    return rc;
}

/* Parse one journal line (without its newline) into r: 1 taken, 0 damaged
 * (why says what is wrong), -1 ENOMEM. */
/* Fields 12 and 13: the pruned flag and the curve "epoch:value,...":
 * 1 taken, 0 damaged (why says how), -1 ENOMEM (why empty). */
static int journal_curve(hwnas_search *s, const char *pruned, const char *curve,
                         hwnas__record *r, char *why, size_t why_size)
{
    why[0] = 0;
    if ((pruned[0] != '0' && pruned[0] != '1') || pruned[1]) {
        snprintf(why, why_size, "pruned flag '%.20s' is not 0 or 1", pruned);
        return 0;
    }
    r->pruned = pruned[0] == '1';
    size_t n = *curve ? 1 : 0;
    for (const char *c = curve; *c; c++)
        n += *c == ',';
    if (!n)
        return 1;
    r->curve = hwnas__malloc(s->ctx, 2 * n * sizeof *r->curve);
    if (!r->curve)
        return -1;
    const char *q = curve;
    for (size_t k = 0; k < n; k++) {
        char *end;
        double x = strtod(q, &end), y;
        int okx = end != q && *end == ':' && isfinite(x) && x > 0 &&
                  (k == 0 || x > r->curve[2 * k - 2]);
        q = end + 1;
        y = okx ? strtod(q, &end) : NAN;
        if (!okx || end == q || !isfinite(y) || (k + 1 < n ? *end != ',' : *end != 0)) {
            hwnas__free(s->ctx, r->curve);
            r->curve = NULL;
            snprintf(why, why_size, "curve point %zu of '%.60s': expected epoch:value with "
                     "finite numbers, epochs > 0 and increasing", k + 1, curve);
            return 0;
        }
        r->curve[2 * k] = x;
        r->curve[2 * k + 1] = y;
        q = end + 1;
    }
    r->n_curve = n;
    return 1;
}

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
    /* 11 fields, or 13 with the pruned mark and the learning curve */
    char *f[13];
    char *p = line;
    int nf = 0;
    for (int i = 0; i < 13; i++) {
        f[i] = p;
        nf = i + 1;
        char *t = memchr(p, '\t', (size_t)(hash - 1 - p));
        if (!t && i < 10) {
            snprintf(why, why_size, "%d fields where 11 were expected", i + 1);
            return 0;
        }
        if (!t)
            break;
        if (i == 12) {
            snprintf(why, why_size, "more than 13 fields");
            return 0;
        }
        *t = 0;
        p = t + 1;
    }
    if (nf == 12) {
        snprintf(why, why_size, "12 fields where 11 or 13 were expected");
        return 0;
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
    int curve_ok = nf == 13 ? journal_curve(s, f[11], f[12], r, why, why_size) : 1;
    if (curve_ok != 1)
        return curve_ok;
    if (bad)
        snprintf(why, why_size, "a bad escape sequence");
    return bad ? 0 : 1;
}

/* Parse one "R" line (without its newline) into s->refine_log: 1 taken,
 * 0 damaged, -1 ENOMEM. A search without refine keeps no log (the
 * records are checked and skipped). */
static int refined_line(hwnas_search *s, char *line, size_t len)
{
    if (len < 12 || line[len - 10] != '\t' || line[len - 9] != '#')
        return 0;
    uint32_t crc = (uint32_t)strtoul(line + len - 8, NULL, 16);
    if ((uint32_t)crc32(0L, (const Bytef *)line, (uInt)(len - 10)) != crc)
        return 0;
    line[len - 10] = 0;
    if (!s->refine_est)
        return 1;
    char *f[5], *p = line + 2;
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        char *t = strchr(p, '\t');
        if (i < 4) {
            if (!t)
                return 0;
            *t = 0;
            p = t + 1;
        }
    }
    hwnas__refined x = {0};
    size_t m = hwnas_estimator_metric_count(s->refine_est);
    char *end;
    x.eval = strtoull(f[0], &end, 10);
    if (end == f[0])
        return 0;
    x.values = hwnas__malloc(s->ctx, (m + 1) * sizeof *x.values);
    if (!x.values)
        return -1;
    char *q = f[1];
    for (size_t j = 0; j < m; j++) {
        x.values[j] = strtod(q, &end);
        if (end == q || (j + 1 < m && *end != ',')) {
            hwnas__free(s->ctx, x.values);
            return 0;
        }
        q = end + 1;
    }
    x.failed = atoi(f[2]) != 0;
    x.error = x.failed ? hwnas__strdup(s->ctx, f[3]) : NULL;
    x.seconds = strtod(f[4], NULL);
    hwnas__refined *log = hwnas__realloc(s->ctx, s->refine_log,
                                         (s->n_refine_log + 1) * sizeof *log);
    if (!log || (x.failed && !x.error)) {
        if (log)
            s->refine_log = log;
        hwnas__free(s->ctx, x.values);
        hwnas__free(s->ctx, x.error);
        return -1;
    }
    s->refine_log = log;
    s->refine_log[s->n_refine_log++] = x;
    return 1;
}

int hwnas__journal_read(hwnas_search *s, const char *path)
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
    size_t n_cols = 0, cols = 1;
    for (const char *c = names; *c; c++)
        cols += *c == ',';
    size_t *map = hwnas__malloc(s->ctx, cols * sizeof *map);
    if (!map) {
        hwnas__free(s->ctx, buf);
        return HWNAS_ENOMEM;
    }
    for (char *p = names; *p;) {
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
        if (llen > 2 && p[0] == 'R' && p[1] == '\t') { /* a refinement */
            ok = refined_line(s, p, llen);
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
        rc = hwnas__out_keep_aside(path, aside, sizeof aside);
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
    hwnas__free(s->ctx, map);
    hwnas__free(s->ctx, buf);
    return rc;
}

int hwnas__snapshot_read(hwnas_search *s, const char *path, size_t *covered)
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
        /* hwnas__error formats before it replaces the last message. */
        return hwnas__error(HWNAS_EFORMAT, "%s. The snapshot and the journal are left as they "
                                           "are; resume with salvage=true (--salvage) to set "
                                           "the snapshot aside and replay the journal",
                            hwnas_error_last());
    }
    /* Salvage: set the snapshot aside and replay the whole journal from the
     * strategy's start, which asks the same candidates again. */
    hwnas_context_log(s->ctx, HWNAS_LOG_WARN, "%s; the strategy restarts and replays the "
                      "journal (salvage)", hwnas_error_last());
    char aside[4200];
    rc = hwnas__out_keep_aside(path, aside, sizeof aside);
    if (rc == HWNAS_OK && unlink(path) != 0)
        rc = hwnas__error(HWNAS_EIO, "cannot set '%s' aside: %s", path, strerror(errno));
    return rc;
}
