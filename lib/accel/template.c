/*
 * Hardware templates (doc/formats/hardware-template.md): a version-2
 * description in which some parameters list their legal values
 * ("8 | 12 | 16"), plus named [dataflow NAME] constraint sets to choose
 * from. Each list is one gene of space:accelerator; an instance is the
 * description at one value of each, its energies and areas scaled from the
 * reference point the template's figures are written for.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel_internal.h"
#include "hwnas/axmul.h"

enum { SEC_TOP, SEC_LEVEL, SEC_MAC, SEC_DATAFLOW };

typedef struct tparser {
    hwnas__template *t;
    const char *file;
    size_t line;
    int section;
    int level;   /* the current [level] */
    int df;      /* the current [dataflow] */
    int have_mac;
    size_t dataflow_line; /* of the top key dataflow */
    size_t pe_line;       /* of pe_rows / pe_cols */
    int pe_given[2];
    double ref_given[3];  /* clock_mhz_ref, data_bits_ref, 0 */
} tparser;

static int tfail(const tparser *ps, const char *key, const char *fmt, ...) HWNAS_PRINTF(3, 4);
static int tfail(const tparser *ps, const char *key, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (key)
        return hwnas__error(HWNAS_EFORMAT, "%s:%zu: %s: %s", ps->file, ps->line, key, msg);
    return hwnas__error(HWNAS_EFORMAT, "%s:%zu: %s", ps->file, ps->line, msg);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = 0;
    return s;
}

/* Shortest text that reads back as x: whole numbers in full. */
static void shortest(char *buf, size_t size, double x)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, size, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* ---- values and lists ------------------------------------------------ */

/* One number in [lo, hi], whole if asked. */
static int number(const tparser *ps, const char *key, const char *v, double lo, double hi,
                  int whole, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x))
        return tfail(ps, key, "'%s' is not a number", v);
    if (whole && x != floor(x))
        return tfail(ps, key, "'%s' is not a whole number", v);
    if (x < lo || x > hi)
        return tfail(ps, key, "%s is out of range [%g, %g]", v, lo, hi);
    *out = x;
    return HWNAS_OK;
}

/* Split "a | b | c" in place into items[]; *n items, each trimmed and
 * non-empty. A value without '|' is one item. */
static int split_list(const tparser *ps, const char *key, char *v, char **items, size_t *n)
{
    *n = 0;
    for (char *p = v;;) {
        char *bar = strchr(p, '|');
        if (bar)
            *bar = 0;
        char *item = trim(p);
        if (!*item)
            return tfail(ps, key, "an empty value in a list (values are separated by '|')");
        if (*n == HWNAS__TP_MAX_VALUES)
            return tfail(ps, key, "more than %d values", HWNAS__TP_MAX_VALUES);
        items[(*n)++] = item;
        if (!bar)
            return HWNAS_OK;
        p = bar + 1;
    }
}

/* A parameter's numbers: strictly ascending. n == 1 gives a fixed value. */
static int number_list(const tparser *ps, const char *key, char **items, size_t n, double lo,
                       double hi, int whole, double *out)
{
    for (size_t k = 0; k < n; k++) {
        int rc = number(ps, key, items[k], lo, hi, whole, &out[k]);
        if (rc != HWNAS_OK)
            return rc;
        if (k > 0 && out[k] <= out[k - 1])
            return tfail(ps, key, "'%s' after '%s': list the values in ascending order, each "
                         "once", items[k], items[k - 1]);
    }
    return HWNAS_OK;
}

static int find_param(const hwnas__template *t, int what, int level)
{
    for (size_t i = 0; i < t->n_params; i++)
        if (t->param[i].what == what && t->param[i].level == level)
            return (int)i;
    return -1;
}

/* A new parameter (a gene) of n >= 2 values. */
static int add_param(tparser *ps, const char *key, int what, int level, const double *v,
                     size_t n, const char *gene_name)
{
    hwnas__template *t = ps->t;
    if (find_param(t, what, level) >= 0)
        return tfail(ps, key, "a second list of values for this key");
    if (t->n_params == HWNAS__TP_MAX_PARAMS)
        return tfail(ps, key, "more than %d parameters", HWNAS__TP_MAX_PARAMS);
    hwnas__tparam *p = &t->param[t->n_params++];
    memset(p, 0, sizeof *p);
    p->what = what;
    p->level = level;
    snprintf(p->name, sizeof p->name, "%s", gene_name);
    p->line = ps->line;
    p->n = n;
    for (size_t k = 0; k < n; k++)
        p->value[k] = v ? v[k] : (double)k;
    return HWNAS_OK;
}

static int valid_name(const char *v, const char *extra)
{
    size_t n = strlen(v);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr(extra, v[i]))
            return 0;
    return 1;
}

/* ---- sections -------------------------------------------------------- */

/* A key that takes a list of numbers: a gene when it lists two or more,
 * else the fixed value through *fixed. */
static int numeric_key(tparser *ps, const char *key, char *v, int what, int level,
                       const char *gene_name, double lo, double hi, int whole, double *fixed)
{
    char *items[HWNAS__TP_MAX_VALUES];
    double x[HWNAS__TP_MAX_VALUES];
    size_t n;
    int rc = split_list(ps, key, v, items, &n);
    if (rc == HWNAS_OK)
        rc = number_list(ps, key, items, n, lo, hi, whole, x);
    if (rc != HWNAS_OK)
        return rc;
    if (n == 1) {
        *fixed = x[0];
        return HWNAS_OK;
    }
    *fixed = x[0]; /* the reference, unless given */
    return add_param(ps, key, what, level, x, n, gene_name);
}

static int top_key(tparser *ps, const char *key, char *v)
{
    hwnas__template *t = ps->t;
    if (strcmp(key, "clock_mhz") == 0)
        return numeric_key(ps, key, v, HWNAS__TP_CLOCK, -1, "clock_mhz", 1e-6, 1e7, 0,
                           &t->base.clock_mhz);
    if (strcmp(key, "clock_mhz_ref") == 0)
        return number(ps, key, v, 1e-6, 1e7, 0, &ps->ref_given[0]);
    if (strcmp(key, "pe_rows") == 0 || strcmp(key, "pe_cols") == 0) {
        int cols = key[3] == 'c';
        ps->pe_given[cols] = 1;
        ps->pe_line = ps->line;
        return numeric_key(ps, key, v, cols ? HWNAS__TP_PE_COLS : HWNAS__TP_PE_ROWS, -1, key, 1,
                           4096, 1, cols ? &t->pe_cols : &t->pe_rows);
    }
    if (strcmp(key, "data_bits") == 0 || strcmp(key, "data_bits_ref") == 0) {
        char *items[HWNAS__TP_MAX_VALUES];
        double x[HWNAS__TP_MAX_VALUES];
        size_t n;
        int rc = split_list(ps, key, v, items, &n);
        if (rc == HWNAS_OK)
            rc = number_list(ps, key, items, n, 8, 16, 1, x);
        for (size_t k = 0; rc == HWNAS_OK && k < n; k++)
            if (x[k] != 8 && x[k] != 16)
                rc = tfail(ps, key, "%s: the data width is 8 or 16 bits", items[k]);
        if (rc != HWNAS_OK)
            return rc;
        if (key[9] == '_') { /* data_bits_ref */
            if (n != 1)
                return tfail(ps, key, "one value, the width the energies are written for");
            ps->ref_given[1] = x[0];
            return HWNAS_OK;
        }
        t->data_bits = x[0];
        return n == 1 ? HWNAS_OK
                      : add_param(ps, key, HWNAS__TP_DATA_BITS, -1, x, n, "data_bits");
    }
    if (strcmp(key, "dataflow") == 0) {
        char *items[HWNAS__TP_MAX_VALUES];
        size_t n;
        int rc = split_list(ps, key, v, items, &n);
        if (rc != HWNAS_OK)
            return rc;
        if (t->n_dataflows)
            return tfail(ps, key, "given twice");
        if (n > HWNAS__TP_MAX_DATAFLOWS)
            return tfail(ps, key, "more than %d dataflows", HWNAS__TP_MAX_DATAFLOWS);
        for (size_t k = 0; k < n; k++) {
            if (!valid_name(items[k], "_-") || strlen(items[k]) >= HWNAS__NAME_MAX)
                return tfail(ps, key, "'%s' is not a dataflow name ([A-Za-z0-9_-], 1 to 47 "
                             "characters)", items[k]);
            for (size_t j = 0; j < k; j++)
                if (strcmp(items[j], items[k]) == 0)
                    return tfail(ps, key, "'%s' is listed twice", items[k]);
            hwnas__dataflow *d = &t->dataflow_def[k];
            memset(d, 0, sizeof *d);
            snprintf(d->name, sizeof d->name, "%s", items[k]);
        }
        t->n_dataflows = n;
        t->dataflow = 0;
        ps->dataflow_line = ps->line;
        return n == 1 ? HWNAS_OK : add_param(ps, key, HWNAS__TP_DATAFLOW, -1, NULL, n, key);
    }
    if (strchr(v, '|'))
        return tfail(ps, key, "'%s': only clock_mhz, pe_rows, pe_cols, data_bits and dataflow "
                     "take a list of values in the top section", v);
    return hwnas__accel_set_key(0, &t->base, ps->file, ps->line, key, v);
}

static int level_key(tparser *ps, const char *key, char *v)
{
    hwnas__template *t = ps->t;
    int l = ps->level;
    hwnas__level *lv = &t->base.level[l];
    if (strcmp(key, "instances") == 0 && strcmp(v, "pe_array") == 0) {
        t->lv_pe[l] = 1;
        return HWNAS_OK;
    }
    if (strcmp(key, "word_bits") == 0 && (strcmp(v, "data") == 0 || strcmp(v, "psum") == 0)) {
        t->lv_width[l] = v[0] == 'd' ? HWNAS__WB_DATA : HWNAS__WB_PSUM;
        return HWNAS_OK;
    }
    if (strcmp(key, "words") == 0) {
        char gene[HWNAS__NAME_MAX + 8];
        snprintf(gene, sizeof gene, "%s.words", lv->name);
        return numeric_key(ps, key, v, HWNAS__TP_WORDS, l, gene, 1, 1e15, 1, &lv->words);
    }
    if (strcmp(key, "words_ref") == 0)
        return number(ps, key, v, 1, 1e15, 1, &t->lv_words_ref[l]);
    if (strcmp(key, "energy_exponent") == 0)
        return number(ps, key, v, 0, 2, 0, &t->lv_energy_exp[l]);
    if (strcmp(key, "area_exponent") == 0)
        return number(ps, key, v, 0, 2, 0, &t->lv_area_exp[l]);
    if (strchr(v, '|'))
        return tfail(ps, key, "'%s': only words takes a list of values in a [level] section",
                     v);
    return hwnas__accel_set_key(1, lv, ps->file, ps->line, key, v);
}

static int mac_key(tparser *ps, const char *key, char *v)
{
    hwnas__template *t = ps->t;
    if (strcmp(key, "instances") == 0 && strcmp(v, "pe_array") == 0) {
        t->mac_pe = 1;
        return HWNAS_OK;
    }
    if (strcmp(key, "mul_bits") == 0 && strcmp(v, "data") == 0) {
        t->mac_mul_width = HWNAS__WB_DATA;
        return HWNAS_OK;
    }
    if (strcmp(key, "add_bits") == 0 && strcmp(v, "psum") == 0) {
        t->mac_add_width = HWNAS__WB_PSUM;
        return HWNAS_OK;
    }
    if (strcmp(key, "multiplier_per") == 0) {
        if (strcmp(v, "layer") != 0 && strcmp(v, "accelerator") != 0)
            return tfail(ps, key, "'%s': expected accelerator (one multiplier gene for the "
                         "chip) or layer (each layer chooses among the listed ones)", v);
        t->mul_per_layer = strcmp(v, "layer") == 0;
        t->mul_per_line = ps->line;
        return HWNAS_OK;
    }
    if (strcmp(key, "multiplier") == 0) {
        char *items[HWNAS__TP_MAX_VALUES];
        size_t n;
        int rc = split_list(ps, key, v, items, &n);
        if (rc != HWNAS_OK)
            return rc;
        for (size_t k = 0; k < n; k++) {
            if (!valid_name(items[k], "_.+-:=,") || strlen(items[k]) >= sizeof t->muls[0])
                return tfail(ps, key, "'%s' is not a multiplier name (1 to 63 characters of "
                             "[A-Za-z0-9_.+-:=,])", items[k]);
            for (size_t j = 0; j < k; j++)
                if (strcmp(items[j], items[k]) == 0)
                    return tfail(ps, key, "'%s' is listed twice", items[k]);
            snprintf(t->muls[k], sizeof t->muls[k], "%s", items[k]);
        }
        t->n_muls = n;
        t->base.multiplier_line = ps->line;
        snprintf(t->base.multiplier, sizeof t->base.multiplier, "%s", items[0]);
        return n == 1 ? HWNAS_OK : add_param(ps, key, HWNAS__TP_MULTIPLIER, -1, NULL, n, key);
    }
    if (strchr(v, '|'))
        return tfail(ps, key, "'%s': only multiplier takes a list of values in [mac]", v);
    if (strcmp(key, "mul_bits") == 0)
        t->mac_mul_width = HWNAS__WB_FIXED;
    if (strcmp(key, "add_bits") == 0)
        t->mac_add_width = HWNAS__WB_FIXED;
    return hwnas__accel_set_key(2, &t->base, ps->file, ps->line, key, v);
}

static int dataflow_key(tparser *ps, const char *key, char *v)
{
    static const char *const keys[] = {"keeps", "temporal", "spatial_x", "spatial_y", "order",
                                       "multicast"};
    hwnas__template *t = ps->t;
    hwnas__dataflow *d = &t->dataflow_def[ps->df];
    const char *dot = strchr(key, '.');
    int l = -1;
    for (int k = 0; dot && k < t->base.n_levels; k++)
        if (strlen(t->base.level[k].name) == (size_t)(dot - key) &&
            strncmp(t->base.level[k].name, key, (size_t)(dot - key)) == 0)
            l = k;
    if (l < 0)
        return tfail(ps, key, "a dataflow's key is LEVEL.KEY with one of the levels above");
    for (unsigned k = 0; k < HWNAS_ARRAY_SIZE(keys); k++)
        if (strcmp(dot + 1, keys[k]) == 0) {
            if (!d->set[l])
                hwnas__level_defaults(&d->over[l]);
            d->set[l] |= 1u << k;
            return hwnas__accel_set_key(1, &d->over[l], ps->file, ps->line, dot + 1, v);
        }
    return tfail(ps, key, "a dataflow sets keeps, temporal, spatial_x, spatial_y, order or "
                 "multicast");
}

static int section(tparser *ps, char *s)
{
    hwnas__template *t = ps->t;
    char *close = strchr(s, ']');
    if (!close || close[1])
        return tfail(ps, NULL, "a section is '[level NAME]', '[mac]' or '[dataflow NAME]'");
    *close = 0;
    char *sec = trim(s + 1);
    if (strcmp(sec, "mac") == 0) {
        if (ps->have_mac)
            return tfail(ps, NULL, "a second [mac] section");
        if (ps->section == SEC_DATAFLOW)
            return tfail(ps, NULL, "[mac] comes before the [dataflow] sections");
        ps->have_mac = 1;
        ps->section = SEC_MAC;
        return HWNAS_OK;
    }
    if (strncmp(sec, "dataflow", 8) == 0 && (sec[8] == ' ' || sec[8] == '\t')) {
        char *name = trim(sec + 8);
        if (!ps->have_mac)
            return tfail(ps, NULL, "the [dataflow] sections come after [mac]");
        int found = -1;
        for (size_t k = 0; k < t->n_dataflows; k++)
            if (strcmp(t->dataflow_def[k].name, name) == 0)
                found = (int)k;
        if (found < 0)
            return tfail(ps, NULL, "dataflow '%s' is not listed by the top key dataflow", name);
        if (t->dataflow_def[found].line)
            return tfail(ps, NULL, "a second [dataflow %s] section", name);
        t->dataflow_def[found].line = ps->line;
        ps->df = found;
        ps->section = SEC_DATAFLOW;
        return HWNAS_OK;
    }
    if (strncmp(sec, "level", 5) != 0 || (sec[5] != ' ' && sec[5] != '\t'))
        return tfail(ps, NULL, "a section is '[level NAME]', '[mac]' or '[dataflow NAME]'");
    if (ps->have_mac)
        return tfail(ps, NULL, "levels come before [mac] (outermost first)");
    char *lname = trim(sec + 5);
    if (!valid_name(lname, "_-") || strlen(lname) >= HWNAS__NAME_MAX)
        return tfail(ps, NULL, "a level name is 1 to 47 characters of [A-Za-z0-9_-]");
    for (int l = 0; l < t->base.n_levels; l++)
        if (strcmp(t->base.level[l].name, lname) == 0)
            return tfail(ps, NULL, "two levels have this name");
    if (t->base.n_levels == HWNAS__MAX_LEVELS)
        return tfail(ps, NULL, "more than 8 storage levels");
    int l = t->base.n_levels++;
    hwnas__level_defaults(&t->base.level[l]);
    snprintf(t->base.level[l].name, sizeof t->base.level[l].name, "%s", lname);
    t->lv_energy_exp[l] = 0.5;
    t->lv_area_exp[l] = 1;
    ps->level = l;
    ps->section = SEC_LEVEL;
    return HWNAS_OK;
}

static int parse_lines(tparser *ps, const char *text)
{
    int header = 0;
    char buf[512];
    for (const char *p = text; *p;) {
        ps->line++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= sizeof buf)
            return tfail(ps, NULL, "line too long (at most 511 characters)");
        memcpy(buf, p, len);
        buf[len] = 0;
        p = eol ? eol + 1 : p + len;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        char *s = trim(buf);
        if (!*s)
            continue;
        if (!header) {
            if (strcmp(s, "hwnas-hwt 1") == 0) {
                header = 1;
                continue;
            }
            if (strncmp(s, "hwnas-hwt ", 10) == 0)
                return hwnas__error(HWNAS_EVERSION, "%s:%zu: expected the header 'hwnas-hwt "
                                    "1', found '%.60s' (this library reads version 1)",
                                    ps->file, ps->line, s);
            return tfail(ps, NULL, "expected the header 'hwnas-hwt 1', found '%.60s'%s", s,
                         strncmp(s, "hwnas-hw ", 9) == 0
                             ? " (a hardware description, not a template: give it to "
                               "estimator:accelerator's hardware option)"
                             : "");
        }
        int rc;
        if (*s == '[') {
            rc = section(ps, s);
        } else {
            char *eq = strchr(s, '=');
            if (!eq)
                return tfail(ps, NULL, "expected 'key = value' or a [section]");
            *eq = 0;
            char *key = trim(s), *v = trim(eq + 1);
            if (!*v)
                return tfail(ps, key, "the value is missing");
            switch (ps->section) {
            case SEC_TOP: rc = top_key(ps, key, v); break;
            case SEC_LEVEL: rc = level_key(ps, key, v); break;
            case SEC_MAC: rc = mac_key(ps, key, v); break;
            default: rc = dataflow_key(ps, key, v); break;
            }
        }
        if (rc != HWNAS_OK)
            return rc;
    }
    if (!header)
        return hwnas__error(HWNAS_EFORMAT, "%s: empty file (expected 'hwnas-hwt 1')", ps->file);
    return HWNAS_OK;
}

/* ---- after the lines: what the sections must agree on ---------------- */

static int check_whole(tparser *ps)
{
    hwnas__template *t = ps->t;
    const char *f = ps->file;
    if (t->base.n_levels == 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: no [level NAME] section: at least DRAM is "
                            "needed", f);
    if (!ps->have_mac)
        return hwnas__error(HWNAS_EFORMAT, "%s: no [mac] section", f);
    int uses_pe = t->mac_pe;
    for (int l = 0; l < t->base.n_levels; l++) {
        uses_pe |= t->lv_pe[l];
        if (t->lv_pe[l] && t->base.level[l].mesh_x)
            return hwnas__error(HWNAS_EFORMAT, "%s: [level %s]: mesh_x is pe_cols when "
                                "instances = pe_array: leave it out", f, t->base.level[l].name);
        if (t->lv_pe[l] && t->base.level[l].instances != 1)
            return hwnas__error(HWNAS_EFORMAT, "%s: [level %s]: instances is given twice", f,
                                t->base.level[l].name);
        int p = find_param(t, HWNAS__TP_WORDS, l);
        if (t->lv_words_ref[l] == 0)
            t->lv_words_ref[l] = p >= 0 ? t->param[p].value[0] : t->base.level[l].words;
    }
    if (uses_pe && !(ps->pe_given[0] && ps->pe_given[1]))
        return hwnas__error(HWNAS_EFORMAT, "%s: instances = pe_array needs pe_rows and pe_cols "
                            "in the top section", f);
    if (!uses_pe && (ps->pe_given[0] || ps->pe_given[1]))
        return hwnas__error(HWNAS_EFORMAT, "%s:%zu: pe_rows / pe_cols: no level (nor [mac]) "
                            "has instances = pe_array", f, ps->pe_line);
    if (!uses_pe)
        t->pe_rows = t->pe_cols = 0;
    if (t->mac_pe && t->base.mac_mesh_x)
        return hwnas__error(HWNAS_EFORMAT, "%s: [mac]: mesh_x is pe_cols when instances = "
                            "pe_array: leave it out", f);
    for (size_t k = 0; k < t->n_dataflows; k++)
        if (!t->dataflow_def[k].line)
            return hwnas__error(HWNAS_EFORMAT, "%s:%zu: dataflow: '%s' has no [dataflow %s] "
                                "section", f, ps->dataflow_line, t->dataflow_def[k].name,
                                t->dataflow_def[k].name);
    if (t->base.clock_mhz == 0)
        t->base.clock_mhz = 200;
    t->clock_ref = ps->ref_given[0] > 0 ? ps->ref_given[0] : t->base.clock_mhz;
    if (t->data_bits == 0)
        t->data_bits = 8;
    t->data_bits_ref = ps->ref_given[1] > 0 ? ps->ref_given[1] : 8;
    if (t->n_muls == 0) {
        t->n_muls = 1;
        snprintf(t->muls[0], sizeof t->muls[0], "exact");
        snprintf(t->base.multiplier, sizeof t->base.multiplier, "exact");
    }
    if (t->mul_per_layer) {
        /* the chip has every listed multiplier: no gene; each layer's comes
         * from the network */
        t->mul_per_layer = 0;
        int rc = hwnas__template_set_multiplier_per(t, 1);
        if (rc != HWNAS_OK)
            return hwnas__error(HWNAS_EFORMAT, "%s", hwnas_error_last());
    }
    return HWNAS_OK;
}

int hwnas__template_set_multiplier_per(hwnas__template *t, int per_layer)
{
    if (per_layer && t->n_muls > HWNAS__LAYER_MULS_MAX)
        return hwnas__error(HWNAS_EINVAL, "%s:%zu: multiplier: %zu multipliers with "
                            "multiplier_per = layer (at most %d)", t->path,
                            t->base.multiplier_line, t->n_muls, HWNAS__LAYER_MULS_MAX);
    if (per_layer && !t->mul_per_layer) {
        /* the multiplier's list is in [mac], after every other list: its
         * gene is the last */
        int p = find_param(t, HWNAS__TP_MULTIPLIER, -1);
        if (p >= 0) {
            t->mul_param = t->param[p];
            t->have_mul_param = 1;
            memmove(&t->param[p], &t->param[p + 1],
                    (t->n_params - (size_t)p - 1) * sizeof t->param[0]);
            t->n_params--;
        }
    } else if (!per_layer && t->mul_per_layer && t->have_mul_param) {
        t->param[t->n_params++] = t->mul_param;
        t->have_mul_param = 0;
    }
    t->mul_per_layer = per_layer;
    return HWNAS_OK;
}

/* Relative power and area of every listed multiplier, once. */
static int resolve_multipliers(hwnas__template *t)
{
    hwnas_axmul_registry *reg = NULL;
    int rc = HWNAS_OK;
    for (size_t k = 0; k < t->n_muls && rc == HWNAS_OK; k++) {
        t->mul_power[k] = t->mul_area[k] = 1;
        if (strcmp(t->muls[k], "exact") == 0)
            continue;
        if (!reg) {
            rc = hwnas_axmul_registry_new(&reg, t->ctx);
            if (rc == HWNAS_OK && t->axmul_dir)
                rc = hwnas_axmul_registry_load_dir(reg, t->axmul_dir, NULL);
            if (rc != HWNAS_OK)
                break;
        }
        const hwnas_axmul *m = NULL;
        rc = hwnas_axmul_registry_get(&m, reg, t->muls[k]);
        if (rc != HWNAS_OK) {
            if (rc != HWNAS_ENOMEM)
                rc = hwnas__error(rc, "%s:%zu: multiplier: %s", t->path,
                                  t->base.multiplier_line, hwnas_error_last());
            break;
        }
        t->mul_power[k] = hwnas_axmul_power(m);
        t->mul_area[k] = hwnas_axmul_area(m);
        if (isnan(t->mul_area[k]))
            t->mul_area[k] = t->mul_power[k];
        if (isnan(t->mul_power[k]))
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu: multiplier: '%s' has no power figure "
                              "(import it with a params.csv, see doc/axmul.md)", t->path,
                              t->base.multiplier_line, t->muls[k]);
    }
    hwnas_axmul_registry_free(reg);
    return rc;
}

/* Every value of every list against the other lists' first values: a
 * value that cannot make a consistent accelerator is named where it is. */
static int check_values(hwnas__template *t)
{
    uint32_t idx[HWNAS__TP_MAX_PARAMS] = {0};
    hwnas_accel *a = NULL;
    int rc = hwnas__template_instance(&a, t, idx); /* the first values */
    hwnas_accel_free(a);
    if (rc == HWNAS_EINVALID)
        return hwnas__error(HWNAS_EFORMAT, "%s", hwnas_error_last());
    for (size_t i = 0; rc == HWNAS_OK && i < t->n_params; i++) {
        for (size_t k = 1; rc == HWNAS_OK && k < t->param[i].n; k++) {
            idx[i] = (uint32_t)k;
            rc = hwnas__template_instance(&a, t, idx);
            hwnas_accel_free(a);
            if (rc == HWNAS_EINVALID) {
                char v[80];
                hwnas__template_value_text(t, i, k, v, sizeof v);
                return hwnas__error(HWNAS_EFORMAT, "%s:%zu: %s = %s: %s", t->path,
                                    t->param[i].line, t->param[i].name, v, hwnas_error_last());
            }
        }
        idx[i] = 0;
    }
    return rc;
}

void hwnas__template_free(hwnas__template *t)
{
    if (!t)
        return;
    hwnas__free(t->ctx, t->path);
    hwnas__free(t->ctx, t->axmul_dir);
    hwnas__free(t->ctx, t);
}

int hwnas__template_parse(hwnas__template **out, hwnas_context *ctx, const char *text,
                          const char *name, const char *axmul_dir)
{
    *out = NULL;
    hwnas__template *t = hwnas__calloc(ctx, 1, sizeof *t);
    if (!t)
        return HWNAS_ENOMEM;
    t->ctx = ctx;
    t->base.ctx = ctx;
    t->dataflow = -1;
    t->mac_mul_width = HWNAS__WB_DATA;
    t->mac_add_width = HWNAS__WB_PSUM;
    int rc = HWNAS_OK;
    if (!(t->path = hwnas__strdup(ctx, name)))
        rc = HWNAS_ENOMEM;
    if (rc == HWNAS_OK && axmul_dir && *axmul_dir && !(t->axmul_dir = hwnas__strdup(ctx, axmul_dir)))
        rc = HWNAS_ENOMEM;
    tparser ps;
    memset(&ps, 0, sizeof ps);
    ps.t = t;
    ps.file = name;
    ps.level = ps.df = -1;
    if (rc == HWNAS_OK)
        rc = parse_lines(&ps, text);
    if (rc == HWNAS_OK)
        rc = check_whole(&ps);
    if (rc == HWNAS_OK)
        rc = resolve_multipliers(t);
    if (rc == HWNAS_OK)
        rc = check_values(t);
    if (rc != HWNAS_OK) {
        hwnas__template_free(t);
        return rc;
    }
    *out = t;
    return HWNAS_OK;
}

int hwnas__template_load(hwnas__template **out, hwnas_context *ctx, const char *path,
                         const char *axmul_dir)
{
    *out = NULL;
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, (size_t)1 << 20, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    if (memchr(buf, 0, len))
        rc = hwnas__error(HWNAS_EFORMAT, "%s: a NUL byte: not a text file", path);
    else
        rc = hwnas__template_parse(out, ctx, (const char *)buf, path, axmul_dir);
    hwnas__free(ctx, buf);
    return rc;
}

/* ---- instances ------------------------------------------------------- */

void hwnas__template_value_text(const hwnas__template *t, size_t i, size_t k, char *buf,
                                size_t size)
{
    const hwnas__tparam *p = &t->param[i];
    if (p->what == HWNAS__TP_DATAFLOW)
        snprintf(buf, size, "%s", t->dataflow_def[k].name);
    else if (p->what == HWNAS__TP_MULTIPLIER)
        snprintf(buf, size, "%s", t->muls[k]);
    else
        shortest(buf, size, p->value[k]);
}

/* The chosen values of a point. */
typedef struct point {
    double clock, rows, cols, data_bits;
    int dataflow;
    size_t mul;
    double words[HWNAS__MAX_LEVELS]; /* 0 = not a parameter */
} point;

static void choose(const hwnas__template *t, const uint32_t *idx, point *pt)
{
    memset(pt, 0, sizeof *pt);
    pt->clock = t->base.clock_mhz;
    pt->rows = t->pe_rows;
    pt->cols = t->pe_cols;
    pt->data_bits = t->data_bits;
    pt->dataflow = t->dataflow;
    for (size_t i = 0; i < t->n_params; i++) {
        const hwnas__tparam *p = &t->param[i];
        double v = p->value[idx[i]];
        switch (p->what) {
        case HWNAS__TP_CLOCK: pt->clock = v; break;
        case HWNAS__TP_PE_ROWS: pt->rows = v; break;
        case HWNAS__TP_PE_COLS: pt->cols = v; break;
        case HWNAS__TP_DATA_BITS: pt->data_bits = v; break;
        case HWNAS__TP_DATAFLOW: pt->dataflow = (int)idx[i]; break;
        case HWNAS__TP_WORDS: pt->words[p->level] = v; break;
        default: pt->mul = idx[i]; break;
        }
    }
}

/* The index of "exact" among the listed multipliers, or 0: a chip with a
 * multiplier per layer computes layers that name none exactly when it can. */
static size_t default_layer_mul(const hwnas__template *t)
{
    for (size_t k = 0; k < t->n_muls; k++)
        if (strcmp(t->muls[k], "exact") == 0)
            return k;
    return 0;
}

const char *hwnas__template_multiplier(const hwnas__template *t, const uint32_t *idx)
{
    point pt;
    choose(t, idx, &pt);
    if (t->mul_per_layer)
        pt.mul = default_layer_mul(t);
    /* the approximate multipliers are 8 x 8-bit tables */
    return pt.data_bits == 8 ? t->muls[pt.mul] : "exact";
}

size_t hwnas__template_layer_multipliers(const hwnas__template *t, const uint32_t *idx,
                                         const char **names)
{
    if (!t->mul_per_layer)
        return 0;
    point pt;
    choose(t, idx, &pt);
    if (pt.data_bits != 8) {
        names[0] = "exact";
        return 1;
    }
    for (size_t k = 0; k < t->n_muls; k++)
        names[k] = t->muls[k];
    return t->n_muls;
}

/* A level at the point: dataflow, PE array, width and capacity, with its
 * energies and area scaled from the reference point. */
static void instance_level(const hwnas__template *t, const point *pt, int l, hwnas__level *lv)
{
    if (pt->dataflow >= 0) {
        const hwnas__dataflow *d = &t->dataflow_def[pt->dataflow];
        const hwnas__level *o = &d->over[l];
        unsigned s = d->set[l];
        if (s & HWNAS__DF_KEEPS)
            lv->keeps = o->keeps;
        if (s & HWNAS__DF_TEMPORAL)
            lv->temporal_dims = o->temporal_dims;
        if (s & HWNAS__DF_SPATIAL_X)
            lv->spatial_x = o->spatial_x;
        if (s & HWNAS__DF_SPATIAL_Y)
            lv->spatial_y = o->spatial_y;
        if (s & HWNAS__DF_ORDER) {
            memcpy(lv->order, o->order, sizeof lv->order);
            lv->order_len = o->order_len;
        }
        if (s & HWNAS__DF_MULTICAST)
            lv->multicast = o->multicast;
    }
    if (t->lv_pe[l]) {
        lv->instances = (int64_t)(pt->rows * pt->cols);
        lv->mesh_x = (int64_t)pt->cols;
    }
    /* width: an access moves bits, a word of a level holds bits */
    double fw = 1;
    if (t->lv_width[l] != HWNAS__WB_FIXED) {
        double k = t->lv_width[l] == HWNAS__WB_PSUM ? 2 : 1;
        lv->word_bits = (int)(k * pt->data_bits);
        fw = pt->data_bits / t->data_bits_ref;
    }
    double fe = 1, fa = 1;
    if (pt->words[l] > 0) {
        double r = pt->words[l] / t->lv_words_ref[l];
        lv->words = pt->words[l];
        fe = pow(r, t->lv_energy_exp[l]);
        fa = pow(r, t->lv_area_exp[l]);
    }
    lv->read_pj *= fe * fw;
    lv->write_pj *= fe * fw;
    lv->update_pj *= fe * fw;
    /* leakage goes with the transistors, per second: per cycle it falls
     * as the clock rises */
    lv->leak_pj *= fa * fw * t->clock_ref / pt->clock;
    lv->area_um2 *= fa * fw;
}

/* A scaled figure past what a description may hold (the point could not
 * be written and read back): an inconsistent point. */
static int too_large(const char *file, const char *where, const char *key, double v, double max)
{
    return hwnas__error(HWNAS_EFORMAT, "%s: %s: %s scales to %g at this point, above the %g a "
                        "description allows", file, where, key, v, max);
}

static int check_scaled(const hwnas_accel *a, const char *file)
{
    for (int l = 0; l < a->n_levels; l++) {
        const hwnas__level *lv = &a->level[l];
        const double pj[4] = {lv->read_pj, lv->write_pj, lv->update_pj, lv->leak_pj};
        static const char *const names[4] = {"read_pj", "write_pj", "update_pj", "leak_pj"};
        char where[HWNAS__NAME_MAX + 16];
        snprintf(where, sizeof where, "[level %s]", lv->name);
        for (int k = 0; k < 4; k++)
            if (!(pj[k] <= HWNAS__MAX_PJ))
                return too_large(file, where, names[k], pj[k], HWNAS__MAX_PJ);
        if (!(lv->area_um2 <= HWNAS__MAX_AREA_UM2))
            return too_large(file, where, "area_um2", lv->area_um2, HWNAS__MAX_AREA_UM2);
    }
    if (!(a->mul_pj <= HWNAS__MAX_PJ))
        return too_large(file, "[mac]", "mul_pj", a->mul_pj, HWNAS__MAX_PJ);
    if (!(a->add_pj <= HWNAS__MAX_PJ))
        return too_large(file, "[mac]", "add_pj", a->add_pj, HWNAS__MAX_PJ);
    if (!(a->mac_area_um2 <= HWNAS__MAX_AREA_UM2))
        return too_large(file, "[mac]", "area_um2", a->mac_area_um2, HWNAS__MAX_AREA_UM2);
    return HWNAS_OK;
}

int hwnas__template_instance(hwnas_accel **out, const hwnas__template *t, const uint32_t *idx)
{
    *out = NULL;
    hwnas_accel *a = hwnas__malloc(t->ctx, sizeof *a);
    if (!a)
        return HWNAS_ENOMEM;
    *a = t->base;
    a->ctx = t->ctx;
    a->path = NULL;
    a->axmul_dir = NULL;
    if (t->axmul_dir && !(a->axmul_dir = hwnas__strdup(t->ctx, t->axmul_dir))) {
        hwnas_accel_free(a);
        return HWNAS_ENOMEM;
    }
    point pt;
    choose(t, idx, &pt);
    a->clock_mhz = pt.clock;
    for (int l = 0; l < a->n_levels; l++)
        instance_level(t, &pt, l, &a->level[l]);
    if (t->mac_pe) {
        a->mac_instances = (int64_t)(pt.rows * pt.cols);
        a->mac_mesh_x = (int64_t)pt.cols;
    }
    /* a multiplier's energy and area grow with the square of its width, an
     * adder's linearly */
    double r = pt.data_bits / t->data_bits_ref, mul_f = 1, add_f = 1;
    if (t->mac_mul_width == HWNAS__WB_DATA) {
        a->mul_bits = (int)pt.data_bits;
        mul_f = r * r;
    }
    if (t->mac_add_width == HWNAS__WB_PSUM) {
        a->add_bits = (int)(2 * pt.data_bits);
        add_f = r;
    }
    a->mul_pj *= mul_f;
    a->add_pj *= add_f;
    if (a->mac_area_um2 > 0) {
        double share = a->mul_area_share > 0 ? a->mul_area_share : 0.6;
        double mul_a = a->mac_area_um2 * share * mul_f;
        double add_a = a->mac_area_um2 * (1 - share) * add_f;
        a->mac_area_um2 = mul_a + add_a;
        a->mul_area_share = mul_a / a->mac_area_um2;
    }
    const char *mul = hwnas__template_multiplier(t, idx);
    size_t m = t->mul_per_layer ? default_layer_mul(t) : pt.mul;
    snprintf(a->multiplier, sizeof a->multiplier, "%s", mul);
    a->mul_power = strcmp(mul, "exact") == 0 ? 1 : t->mul_power[m];
    a->mul_area = strcmp(mul, "exact") == 0 ? 1 : t->mul_area[m];
    a->n_layer_muls = 0;
    if (t->mul_per_layer && pt.data_bits == 8) {
        for (size_t k = 0; k < t->n_muls; k++) {
            snprintf(a->layer_muls[k], sizeof a->layer_muls[k], "%s", t->muls[k]);
            a->layer_mul_power[k] = t->mul_power[k];
            a->layer_mul_area[k] = t->mul_area[k];
        }
        a->n_layer_muls = t->n_muls;
        a->layer_muls_line = t->base.multiplier_line;
    }
    int rc = check_scaled(a, t->path);
    if (rc == HWNAS_OK)
        rc = hwnas__accel_finish(a, t->path, NULL, 0);
    if (rc == HWNAS_EFORMAT)
        rc = hwnas__error(HWNAS_EINVALID, "%s", hwnas_error_last());
    if (rc != HWNAS_OK) {
        hwnas_accel_free(a);
        return rc;
    }
    *out = a;
    return HWNAS_OK;
}
