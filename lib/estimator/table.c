/*
 * estimator:table - metrics looked up in a CSV benchmark table.
 *
 * Rows are found by the candidate's key (its genotype string): either
 * directly in a key column, or through an index table (index_file) whose
 * row number is the benchmark's index, as HW-NAS-Bench's latency files are
 * keyed by NAS-Bench-201's arch_idx.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimator_internal.h"

enum { OPT_FILE, OPT_KEY, OPT_METRICS, OPT_INDEX_FILE, OPT_INDEX_COLUMN };

static const hwnas__option_spec table_options[] = {
    [OPT_FILE] = {"file", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                  "CSV file with a header row (gzip is read transparently)"},
    [OPT_KEY] = {"key", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                 "column holding each row's key; empty: the row number (0-based)"},
    [OPT_METRICS] = {"metrics", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                     "column:metric[:unit],... to report; empty: every numeric column"},
    [OPT_INDEX_FILE] = {"index_file", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                        "CSV mapping keys to row indices: its row i holds the key of index i"},
    [OPT_INDEX_COLUMN] = {"index_column", HWNAS_OPTION_STRING, "ArchitectureString", 0, 0, NULL,
                          "column of index_file holding the keys"},
};

const hwnas__kind hwnas__estimator_table_kind = {
    "estimator:table", table_options, HWNAS_ARRAY_SIZE(table_options),
    &hwnas__estimator_table_impl,
};

/* 1: a finite number in *out; -1: a number, but NaN, infinite or beyond
 * a double (a benchmark's "nan" or "inf" is not a measurement); 0: text. */
static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end)
        return 0;
    if (!isfinite(x) || (errno == ERANGE && x != 0))
        return -1;
    *out = x == 0 ? 0.0 : x; /* an underflow (1e-400) is 0 */
    return 1;
}

/* ---- the lookup table ------------------------------------------------ */

typedef struct table_state {
    size_t n_rows;
    double *values;     /* n_rows * n_metrics */
    char **keys;        /* n_rows owned keys */
    size_t mask;        /* slots - 1 (power of two) */
    int64_t *slots;     /* row index or -1 */
} table_state;

static const char *opt(const hwnas_estimator *e, int i)
{
    return hwnas__options_str(e->options, (size_t)i);
}

static void table_fini(hwnas_estimator *e)
{
    table_state *s = e->state;
    if (!s)
        return;
    for (size_t i = 0; s->keys && i < s->n_rows; i++)
        hwnas__free(e->ctx, s->keys[i]);
    hwnas__free(e->ctx, s->keys);
    hwnas__free(e->ctx, s->values);
    hwnas__free(e->ctx, s->slots);
    hwnas__free(e->ctx, s);
    e->state = NULL;
}

static int64_t table_find(const table_state *s, const char *key)
{
    uint64_t h = hwnas__hash_bytes(key, strlen(key));
    for (size_t k = (size_t)h & s->mask;; k = (k + 1) & s->mask) {
        int64_t r = s->slots[k];
        if (r < 0)
            return -1;
        if (strcmp(s->keys[r], key) == 0)
            return r;
    }
}

/* Metric columns: from the metrics option, or every numeric column. */
static int choose_metrics(hwnas_estimator *e, const hwnas__csv *t, int64_t key_col,
                          int64_t **cols)
{
    const char *spec = opt(e, OPT_METRICS);
    const char *file = opt(e, OPT_FILE);
    *cols = hwnas__calloc(e->ctx, t->n_cols ? t->n_cols : 1, sizeof **cols);
    if (!*cols)
        return HWNAS_ENOMEM;
    if (!*spec) {
        for (size_t c = 0; c < t->n_cols; c++) {
            if ((int64_t)c == key_col)
                continue;
            double x;
            int numeric = t->n_rows > 0;
            for (size_t r = 0; r < t->n_rows && numeric; r++)
                numeric = parse_number(t->cells[r * t->n_cols + c], &x) != 0;
            if (!numeric)
                continue;
            /* the header's whole length: two long headers alike at the
             * start stay two metrics */
            hwnas__strbuf name;
            hwnas__strbuf_init(&name, e->ctx);
            for (const char *p = t->header[c]; *p; p++) {
                char ch = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
                hwnas__strbuf_append(&name, &ch, 1);
            }
            if (name.failed || name.len == 0) {
                int failed = name.failed;
                hwnas__strbuf_release(&name);
                if (failed)
                    return HWNAS_ENOMEM;
                continue;
            }
            (*cols)[e->n_metrics] = (int64_t)c;
            int rc = hwnas__estimator_add_metric(e, name.data, "");
            hwnas__strbuf_release(&name);
            if (rc != HWNAS_OK)
                return rc;
        }
        if (e->n_metrics == 0)
            return hwnas__error(HWNAS_EFORMAT, "%s: no numeric column to report", file);
        return HWNAS_OK;
    }
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[256];
        if (len >= sizeof item)
            return hwnas__error(HWNAS_EINVAL, "estimator:table: metrics item too long in \"%s\"",
                                spec);
        memcpy(item, p, len);
        item[len] = 0;
        char *metric = strchr(item, ':');
        char *unit = metric ? strchr(metric + 1, ':') : NULL;
        if (!metric || metric == item || !metric[1])
            return hwnas__error(HWNAS_EINVAL,
                                "estimator:table: metrics item \"%s\" is not column:metric[:unit]",
                                item);
        *metric++ = 0;
        if (unit)
            *unit++ = 0;
        int64_t c = hwnas__csv_column(t, item);
        if (c < 0)
            return hwnas__error(HWNAS_ENOTFOUND, "%s: no column '%s' (metrics option)", file,
                                item);
        if (e->n_metrics >= t->n_cols)
            return hwnas__error(HWNAS_EINVAL, "estimator:table: more metrics than columns");
        (*cols)[e->n_metrics] = c;
        int rc = hwnas__estimator_add_metric(e, metric, unit ? unit : "");
        if (rc != HWNAS_OK)
            return rc;
        p = end ? end + 1 : p + len;
    }
    if (e->n_metrics == 0)
        return hwnas__error(HWNAS_EINVAL, "estimator:table: the metrics option lists nothing");
    return HWNAS_OK;
}

/* The key of each data row: its key column, its row number, or the key
 * that the index table gives for that number. */
static int row_keys(hwnas_estimator *e, const hwnas__csv *t, int64_t key_col,
                    const hwnas__csv *index, int64_t index_col, table_state *s)
{
    const char *file = opt(e, OPT_FILE);
    for (size_t r = 0; r < t->n_rows; r++) {
        char num[32];
        const char *k;
        if (key_col >= 0)
            k = t->cells[r * t->n_cols + (size_t)key_col];
        else {
            snprintf(num, sizeof num, "%zu", r);
            k = num;
        }
        if (index) {
            char *end;
            errno = 0;
            unsigned long long i = strtoull(k, &end, 10);
            if (end == k || *end || errno || i >= index->n_rows)
                return hwnas__error(HWNAS_EFORMAT,
                                    "%s:%zu: key '%s' is not a row index of %s (0..%zu)", file,
                                    t->line[r], k, opt(e, OPT_INDEX_FILE),
                                    index->n_rows ? index->n_rows - 1 : 0);
            k = index->cells[i * index->n_cols + (size_t)index_col];
        }
        s->keys[r] = hwnas__strdup(e->ctx, k);
        if (!s->keys[r])
            return HWNAS_ENOMEM;
    }
    return HWNAS_OK;
}

static int table_build(hwnas_estimator *e, hwnas__csv *t, hwnas__csv *index)
{
    const char *file = opt(e, OPT_FILE);
    int64_t key_col = -1, index_col = -1;
    if (*opt(e, OPT_KEY)) {
        key_col = hwnas__csv_column(t, opt(e, OPT_KEY));
        if (key_col < 0)
            return hwnas__error(HWNAS_ENOTFOUND, "%s: no key column '%s'", file,
                                opt(e, OPT_KEY));
    }
    if (index) {
        index_col = hwnas__csv_column(index, opt(e, OPT_INDEX_COLUMN));
        if (index_col < 0)
            return hwnas__error(HWNAS_ENOTFOUND, "%s: no column '%s' (index_column)",
                                opt(e, OPT_INDEX_FILE), opt(e, OPT_INDEX_COLUMN));
    }
    int64_t *cols = NULL;
    int rc = choose_metrics(e, t, key_col, &cols);
    table_state *s = rc == HWNAS_OK ? hwnas__calloc(e->ctx, 1, sizeof *s) : NULL;
    if (rc == HWNAS_OK && !s)
        rc = HWNAS_ENOMEM;
    if (rc == HWNAS_OK) {
        e->state = s;
        s->n_rows = t->n_rows;
        size_t slots = 16;
        while (slots < 2 * t->n_rows)
            slots *= 2;
        s->mask = slots - 1;
        s->values = hwnas__calloc(e->ctx, t->n_rows * e->n_metrics + 1, sizeof *s->values);
        s->keys = hwnas__calloc(e->ctx, t->n_rows + 1, sizeof *s->keys);
        s->slots = hwnas__malloc(e->ctx, slots * sizeof *s->slots);
        if (!s->values || !s->keys || !s->slots)
            rc = HWNAS_ENOMEM;
        else
            memset(s->slots, 0xff, slots * sizeof *s->slots);
    }
    for (size_t r = 0; rc == HWNAS_OK && r < t->n_rows; r++)
        for (size_t m = 0; rc == HWNAS_OK && m < e->n_metrics; m++) {
            const char *cell = t->cells[r * t->n_cols + (size_t)cols[m]];
            int got = parse_number(cell, &s->values[r * e->n_metrics + m]);
            if (got != 1)
                rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: column '%s' = '%s' is not a %snumber",
                                  file, t->line[r], t->header[cols[m]], cell,
                                  got < 0 ? "finite " : "");
        }
    if (rc == HWNAS_OK)
        rc = row_keys(e, t, key_col, index, index_col, s);
    for (size_t r = 0; rc == HWNAS_OK && r < t->n_rows; r++) {
        if (table_find(s, s->keys[r]) >= 0) {
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: key '%s' appears twice", file, t->line[r],
                              s->keys[r]);
            break;
        }
        uint64_t h = hwnas__hash_bytes(s->keys[r], strlen(s->keys[r]));
        size_t k = (size_t)h & s->mask;
        while (s->slots[k] >= 0)
            k = (k + 1) & s->mask;
        s->slots[k] = (int64_t)r;
    }
    hwnas__free(e->ctx, cols);
    return rc;
}

static int table_init(hwnas_estimator *e)
{
    const char *file = opt(e, OPT_FILE);
    if (!*file)
        return hwnas__error(HWNAS_EINVAL, "estimator:table: option 'file' is required");
    hwnas__csv t, index;
    memset(&index, 0, sizeof index);
    int rc = hwnas__csv_load(e->ctx, file, &t);
    if (rc != HWNAS_OK)
        return rc;
    int have_index = *opt(e, OPT_INDEX_FILE) != '\0';
    if (have_index)
        rc = hwnas__csv_load(e->ctx, opt(e, OPT_INDEX_FILE), &index);
    if (rc == HWNAS_OK)
        rc = table_build(e, &t, have_index ? &index : NULL);
    hwnas__csv_free(e->ctx, &t);
    if (have_index)
        hwnas__csv_free(e->ctx, &index);
    return rc;
}

static int table_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                          uint64_t stream, double *values)
{
    (void)net;
    (void)stream;
    const table_state *s = e->state;
    if (!key)
        return hwnas__error(HWNAS_EINVAL,
                            "estimator:table: this candidate has no key (genotype string) to "
                            "look up");
    int64_t r = table_find(s, key);
    if (r < 0)
        return hwnas__error(HWNAS_ENOTFOUND, "estimator:table: no row for '%s' in %s", key,
                            opt(e, OPT_FILE));
    memcpy(values, s->values + (size_t)r * e->n_metrics, e->n_metrics * sizeof *values);
    return HWNAS_OK;
}

const hwnas__estimator_impl hwnas__estimator_table_impl = {
    .init = table_init,
    .fini = table_fini,
    .estimate = table_estimate,
};
