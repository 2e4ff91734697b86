/*
 * Nothing lost: the configuration, the journal of evaluations, snapshots
 * of the strategy, and resuming from them (doc/formats/journal.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "search_internal.h"

#define JOURNAL_HEADER "hwnas-journal 1"
#define CONFIG_HEADER "hwnas-search 1"
#define SNAPSHOT_MAGIC "HWNASNAP"
#define SNAPSHOT_VERSION 1

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
    char *opts = NULL;
    rc = hwnas_options_format(s->options, 0, &opts);
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
    if (ftell(f) == 0) {
        fprintf(f, JOURNAL_HEADER "\t%zu\t", s->n_genes);
        for (size_t m = 0; m < s->n_metrics; m++)
            fprintf(f, "%s%s", m ? "," : "", s->metric_names[m]);
        fputc('\n', f);
        if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
            fclose(f);
            return hwnas__error(HWNAS_EIO, "cannot write the journal '%s': %s", path,
                                strerror(errno));
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
    else if (fwrite(sb->data, 1, sb->len, s->journal) != sb->len || fflush(s->journal) != 0 ||
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

/* Parse one journal line (without its newline) into r; 0 if it is damaged. */
static int journal_line(hwnas_search *s, char *line, size_t len, const size_t *metric_map,
                        size_t n_cols, hwnas__record *r)
{
    char *hash = NULL;
    for (char *q = line + len; q > line; q--)
        if (q[-1] == '\t' && q[0] == '#') {
            hash = q;
            break;
        }
    if (!hash || line + len - hash != 9)
        return 0;
    uint32_t crc = (uint32_t)strtoul(hash + 1, NULL, 16);
    if ((uint32_t)crc32(0L, (const Bytef *)line, (uInt)(hash - 1 - line)) != crc)
        return 0;
    char *f[11];
    char *p = line;
    for (int i = 0; i < 11; i++) {
        f[i] = p;
        char *t = memchr(p, '\t', (size_t)(hash - 1 - p));
        if (i < 10) {
            if (!t)
                return 0;
            *t = 0;
            p = t + 1;
        }
    }
    hash[-1] = 0;
    memset(r, 0, sizeof *r);
    int bad = 0;
    r->eval = strtoull(f[0], NULL, 10);
    r->id = strtoull(f[1], NULL, 10);
    r->hash = strtoull(f[2], NULL, 16);
    r->genes = hwnas__calloc(s->ctx, s->n_genes + 1, sizeof *r->genes);
    r->metrics = hwnas__malloc(s->ctx, (s->n_metrics + 1) * sizeof *r->metrics);
    r->key = get_escaped(s->ctx, f[4], f[4] + strlen(f[4]), &bad);
    if (!r->genes || !r->metrics || !r->key)
        return -1;
    char *q = f[3];
    for (size_t g = 0; g < s->n_genes; g++) {
        char *end;
        r->genes[g] = (uint32_t)strtoul(q, &end, 10);
        if (end == q || (g + 1 < s->n_genes && *end != ','))
            return 0;
        q = end + 1;
    }
    if (hwnas_space_check(s->space, r->genes) != HWNAS_OK)
        return 0;
    for (size_t m = 0; m < s->n_metrics; m++)
        r->metrics[m] = NAN;
    q = f[5];
    for (size_t c = 0; c < n_cols; c++) {
        char *end;
        double v = strtod(q, &end);
        if (end == q)
            return 0;
        if (metric_map[c] < s->n_metrics)
            r->metrics[metric_map[c]] = v;
        q = *end == ',' ? end + 1 : end;
    }
    r->failed = atoi(f[6]) != 0;
    if (r->failed) {
        r->error = get_escaped(s->ctx, f[7], f[7] + strlen(f[7]), &bad);
        if (!r->error)
            return -1;
    }
    r->seconds = strtod(f[8], NULL);
    r->cached = atoi(f[9]) != 0;
    return bad ? 0 : 1;
}

static int journal_read(hwnas_search *s, const char *path)
{
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(s->ctx, path, 0, &buf, &len);
    if (rc == HWNAS_ENOTFOUND)
        return HWNAS_OK;
    if (rc != HWNAS_OK)
        return rc;
    char *text = (char *)buf;
    char *eol = memchr(text, '\n', len);
    size_t hlen = strlen(JOURNAL_HEADER);
    if (!eol || strncmp(text, JOURNAL_HEADER "\t", hlen + 1) != 0) {
        hwnas__free(s->ctx, buf);
        return hwnas__error(HWNAS_EFORMAT, "%s:1: expected '%s'", path, JOURNAL_HEADER);
    }
    /* Map the journal's metric columns onto this search's metrics. */
    *eol = 0;
    char *names = strchr(text + hlen + 1, '\t');
    size_t n_cols = 0, map[256];
    for (char *p = names ? names + 1 : eol; *p && n_cols < 256;) {
        size_t l = strcspn(p, ",");
        size_t m = 0;
        while (m < s->n_metrics &&
               !(strlen(s->metric_names[m]) == l && !strncmp(s->metric_names[m], p, l)))
            m++;
        map[n_cols++] = m; /* == n_metrics: a metric no estimator gives now */
        p += l + (p[l] == ',');
    }
    size_t good = (size_t)(eol + 1 - text), line_no = 1;
    char *p = eol + 1;
    while ((size_t)(p - text) < len) {
        line_no++;
        char *e = memchr(p, '\n', len - (size_t)(p - text));
        if (e && e - p > 2 && p[0] == 'R' && p[1] == '\t') { /* a refinement (refine.c) */
            int taken = hwnas__refine_parse(s, p, (size_t)(e - p));
            if (taken < 0) {
                hwnas__free(s->ctx, buf);
                return HWNAS_ENOMEM;
            }
            if (taken) {
                p = e + 1;
                good = (size_t)(p - text);
                continue;
            }
            e = NULL; /* damaged: dropped with the rest below */
        }
        hwnas__record r;
        memset(&r, 0, sizeof r);
        int ok = e ? journal_line(s, p, (size_t)(e - p), map, n_cols, &r) : 0;
        if (ok < 0) {
            hwnas__record_release(s->ctx, &r);
            hwnas__free(s->ctx, buf);
            return HWNAS_ENOMEM;
        }
        if (ok == 0 || r.eval != s->n_replay) {
            hwnas__record_release(s->ctx, &r);
            hwnas_context_log(s->ctx, HWNAS_LOG_WARN,
                              "%s:%zu: damaged or truncated record; it and the %zu bytes after "
                              "it are dropped",
                              path, line_no, len - (size_t)(p - text));
            break;
        }
        hwnas__record *rep = hwnas__realloc(s->ctx, s->replay, (s->n_replay + 1) * sizeof *rep);
        if (!rep) {
            hwnas__record_release(s->ctx, &r);
            hwnas__free(s->ctx, buf);
            return HWNAS_ENOMEM;
        }
        s->replay = rep;
        s->replay[s->n_replay++] = r;
        p = e + 1;
        good = (size_t)(p - text);
    }
    hwnas__free(s->ctx, buf);
    /* Cut the damaged tail off so that new records follow whole ones. */
    if (good < len && truncate(path, (off_t)good) != 0)
        return hwnas__error(HWNAS_EIO, "cannot truncate the damaged journal '%s': %s", path,
                            strerror(errno));
    return HWNAS_OK;
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
    if (rc == HWNAS_OK) {
        *covered = (size_t)get_u64(buf + 16);
        uint64_t bits = get_u64(buf + 24);
        memcpy(&s->elapsed_before, &bits, 8);
        if (*covered > s->n_replay)
            rc = hwnas__error(HWNAS_EFORMAT, "%s: covers %zu evaluations but the journal holds "
                                             "%zu",
                              path, *covered, s->n_replay);
        else
            rc = hwnas_strategy_load(s->strategy, buf + 40, len - 48);
    }
    hwnas__free(s->ctx, buf);
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
