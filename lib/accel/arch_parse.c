/*
 * Hardware description text, version 2 (doc/formats/hardware.md): the
 * header "hwnas-hw 2", top-level keys, then one [level NAME] section per
 * storage level from DRAM inwards and one [mac] section. Version 1 files
 * (the quick formula's parameters) become the equivalent three-level array.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel_internal.h"

enum { T_NUM, T_INT, T_BITS, T_DIMS, T_ORDER, T_KEEPS, T_BOOL, T_NAME, T_MULS };

typedef struct key_spec {
    const char *key;
    int type;
    size_t offset;
    double min, max; /* T_NUM / T_INT range, inclusive */
} key_spec;

#define LV(f) offsetof(hwnas__level, f)
static const key_spec level_keys[] = {
    {"instances", T_INT, LV(instances), 1, 1e9},
    {"mesh_x", T_INT, LV(mesh_x), 1, 1e9},
    {"words", T_NUM, LV(words), 0, 1e15},
    {"word_bits", T_BITS, LV(word_bits), 1, 64},
    {"block", T_BITS, LV(block), 1, 4096},
    {"keeps", T_KEEPS, LV(keeps), 0, 0},
    {"read_pj", T_NUM, LV(read_pj), 0, HWNAS__MAX_PJ},
    {"write_pj", T_NUM, LV(write_pj), 0, HWNAS__MAX_PJ},
    {"update_pj", T_NUM, LV(update_pj), 0, HWNAS__MAX_PJ},
    {"leak_pj", T_NUM, LV(leak_pj), 0, HWNAS__MAX_PJ},
    {"area_um2", T_NUM, LV(area_um2), 0, HWNAS__MAX_AREA_UM2},
    {"read_bw", T_NUM, LV(read_bw), 0, 1e9},
    {"write_bw", T_NUM, LV(write_bw), 0, 1e9},
    {"multicast", T_BOOL, LV(multicast), 0, 1},
    {"temporal", T_DIMS, LV(temporal_dims), 0, 0},
    {"spatial_x", T_DIMS, LV(spatial_x), 0, 0},
    {"spatial_y", T_DIMS, LV(spatial_y), 0, 0},
    {"order", T_ORDER, LV(order), 0, 0},
};
#undef LV

#define AC(f) offsetof(struct hwnas_accel, f)
static const key_spec top_keys[] = {
    {"name", T_NAME, AC(name), 0, 0},
    {"clock_mhz", T_NUM, AC(clock_mhz), 1e-6, 1e7},
    {"dram_gbps", T_NUM, AC(dram_gbps), 0, 1e9},
};
static const key_spec mac_keys[] = {
    {"instances", T_INT, AC(mac_instances), 1, 1e9},
    {"mesh_x", T_INT, AC(mac_mesh_x), 1, 1e9},
    {"mul_bits", T_BITS, AC(mul_bits), 1, 64},
    {"add_bits", T_BITS, AC(add_bits), 1, 128},
    {"mul_pj", T_NUM, AC(mul_pj), 0, HWNAS__MAX_PJ},
    {"add_pj", T_NUM, AC(add_pj), 0, HWNAS__MAX_PJ},
    {"area_um2", T_NUM, AC(mac_area_um2), 0, HWNAS__MAX_AREA_UM2},
    {"mul_area_share", T_NUM, AC(mul_area_share), 0, 1},
    {"multiplier", T_NAME, AC(multiplier), 0, 0},
    {"layer_multipliers", T_MULS, AC(layer_muls), 0, 0},
};
#undef AC

typedef struct parser {
    const char *file;
    size_t line;
} parser;

static int fail(const parser *ps, const char *key, const char *fmt, const char *what)
{
    if (key)
        return hwnas__error(HWNAS_EFORMAT, "%s:%zu: %s: %s", ps->file, ps->line, key,
                            what ? what : fmt);
    return hwnas__error(HWNAS_EFORMAT, "%s:%zu: %s", ps->file, ps->line, what ? what : fmt);
}

static int dim_of(char c)
{
    const char *p = strchr(hwnas__dim_letters, toupper((unsigned char)c));
    return p && c ? (int)(p - hwnas__dim_letters) : -1;
}

/* "R S P" / "R,S,P" / "all" / "none" into a bit set, or an order list. */
static int parse_dims(const parser *ps, const char *key, const char *v, unsigned *set,
                      int *order, int *order_len)
{
    char msg[160];
    *set = 0;
    if (order_len)
        *order_len = 0;
    if (!order && strcmp(v, "all") == 0) {
        *set = (1u << HWNAS__NDIMS) - 1;
        return HWNAS_OK;
    }
    if (strcmp(v, "none") == 0)
        return HWNAS_OK;
    for (const char *p = v; *p; p++) {
        if (*p == ' ' || *p == ',' || *p == '\t')
            continue;
        int d = dim_of(*p);
        if (d < 0 || (p[1] && p[1] != ' ' && p[1] != ',' && p[1] != '\t')) {
            snprintf(msg, sizeof msg, "'%s' is not a list of dimensions from %s (or all, none)",
                     v, hwnas__dim_letters);
            return fail(ps, key, NULL, msg);
        }
        if (*set & (1u << d)) {
            snprintf(msg, sizeof msg, "dimension %c is listed twice", hwnas__dim_letters[d]);
            return fail(ps, key, NULL, msg);
        }
        *set |= 1u << d;
        if (order)
            order[(*order_len)++] = d;
    }
    return HWNAS_OK;
}

static int parse_keeps(const parser *ps, const char *key, const char *v, unsigned *out)
{
    *out = 0;
    if (strcmp(v, "none") == 0)
        return HWNAS_OK;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " ,\t");
        int o = -1;
        for (int k = 0; k < HWNAS__NOPS; k++)
            if (strlen(hwnas__operand_names[k]) == n && strncmp(p, hwnas__operand_names[k], n) == 0)
                o = k;
        if (o < 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "'%.*s' is not an operand (weights, inputs, outputs)",
                     (int)(n > 40 ? 40 : n), p);
            return fail(ps, key, NULL, msg);
        }
        *out |= 1u << o;
        p += n;
    }
    return HWNAS_OK;
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("_.+-:=,", c));
}

/* "exact | drum:k=6 | trunc:t=2": the multipliers every PE has, a layer
 * computing with one of them. */
static int parse_layer_muls(const parser *ps, const char *key, struct hwnas_accel *a,
                            const char *v)
{
    char msg[200];
    size_t n = 0;
    for (const char *p = v;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = p;
        while (*e && *e != '|')
            e++;
        const char *end = e;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t len = (size_t)(end - p);
        if (len == 0 || len >= sizeof a->layer_muls[0]) {
            snprintf(msg, sizeof msg, "'%s': multiplier names of 1 to %zu characters separated "
                     "by '|' are expected", v, sizeof a->layer_muls[0] - 1);
            return fail(ps, key, NULL, msg);
        }
        for (size_t i = 0; i < len; i++)
            if (!is_name_char(p[i])) {
                snprintf(msg, sizeof msg, "'%.*s' has a character other than "
                         "[A-Za-z0-9_.+-:=,]", (int)len, p);
                return fail(ps, key, NULL, msg);
            }
        if (n == HWNAS__LAYER_MULS_MAX) {
            snprintf(msg, sizeof msg, "more than %d multipliers", HWNAS__LAYER_MULS_MAX);
            return fail(ps, key, NULL, msg);
        }
        memcpy(a->layer_muls[n], p, len);
        a->layer_muls[n][len] = 0;
        for (size_t j = 0; j < n; j++)
            if (strcmp(a->layer_muls[j], a->layer_muls[n]) == 0) {
                snprintf(msg, sizeof msg, "'%s' is listed twice", a->layer_muls[n]);
                return fail(ps, key, NULL, msg);
            }
        n++;
        if (!*e)
            break;
        p = e + 1;
    }
    a->n_layer_muls = n;
    return HWNAS_OK;
}

static int set_value(const parser *ps, const key_spec *k, void *base, const char *v)
{
    char *at = (char *)base + k->offset;
    char msg[200];
    switch (k->type) {
    case T_NUM:
    case T_INT:
    case T_BITS:
    case T_BOOL: {
        char *end;
        double x = strtod(v, &end);
        if (end == v || *end || !isfinite(x)) {
            snprintf(msg, sizeof msg, "'%s' is not a number", v);
            return fail(ps, k->key, NULL, msg);
        }
        if (k->type != T_NUM && x != floor(x)) {
            snprintf(msg, sizeof msg, "'%s' is not a whole number", v);
            return fail(ps, k->key, NULL, msg);
        }
        if (x < k->min || x > k->max) {
            snprintf(msg, sizeof msg, "%s is out of range [%g, %g]", v, k->min, k->max);
            return fail(ps, k->key, NULL, msg);
        }
        if (k->type == T_NUM)
            *(double *)(void *)at = x;
        else if (k->type == T_INT)
            *(int64_t *)(void *)at = (int64_t)x;
        else
            *(int *)(void *)at = (int)x;
        return HWNAS_OK;
    }
    case T_DIMS:
        return parse_dims(ps, k->key, v, (unsigned *)(void *)at, NULL, NULL);
    case T_ORDER: {
        hwnas__level *lv = (hwnas__level *)base;
        unsigned set;
        return parse_dims(ps, k->key, v, &set, lv->order, &lv->order_len);
    }
    case T_KEEPS:
        return parse_keeps(ps, k->key, v, (unsigned *)(void *)at);
    case T_MULS:
        return parse_layer_muls(ps, k->key, (struct hwnas_accel *)base, v);
    case T_NAME: {
        size_t cap = k->offset == offsetof(struct hwnas_accel, multiplier)
                         ? sizeof(((struct hwnas_accel *)0)->multiplier)
                         : HWNAS__NAME_MAX;
        size_t n = strlen(v);
        if (n == 0 || n >= cap) {
            snprintf(msg, sizeof msg, "a name of 1 to %zu characters is expected", cap - 1);
            return fail(ps, k->key, NULL, msg);
        }
        for (size_t i = 0; i < n; i++)
            if (!is_name_char(v[i])) {
                snprintf(msg, sizeof msg, "'%s' has a character other than [A-Za-z0-9_.+-:=,]",
                         v);
                return fail(ps, k->key, NULL, msg);
            }
        memcpy(at, v, n + 1);
        return HWNAS_OK;
    }
    }
    return fail(ps, k->key, NULL, "internal: unknown key type");
}

static int set_key(const parser *ps, const key_spec *table, size_t n, void *base,
                   const char *section, const char *key, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].key, key) == 0)
            return set_value(ps, &table[i], base, v);
    char msg[640];
    size_t len = 0;
    len += (size_t)snprintf(msg, sizeof msg, "unknown key in %s (valid: ", section);
    for (size_t i = 0; i < n && len < sizeof msg; i++)
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", i ? ", " : "",
                                table[i].key);
    if (len < sizeof msg)
        snprintf(msg + len, sizeof msg - len, ")");
    return fail(ps, key, NULL, msg);
}

void hwnas__level_defaults(hwnas__level *lv)
{
    memset(lv, 0, sizeof *lv);
    lv->instances = 1;
    lv->word_bits = 16;
    lv->block = 1;
    lv->keeps = HWNAS__KEEP_ALL;
    lv->multicast = 1;
    lv->temporal_dims = (1u << HWNAS__NDIMS) - 1;
}

/* Version 1: the quick formula's Eyeriss-like array (doc/formats/hardware.md
 * says how its keys become levels). */
static int from_v1(struct hwnas_accel *a, const char *text, const char *name)
{
    hwnas__hw_v1 v;
    int rc = hwnas__hw_v1_parse(text, name, &v);
    if (rc != HWNAS_OK)
        return rc;
    double word_pj = v.access_unit_pj * 8.0 / 32.0; /* 8-bit words */
    snprintf(a->name, sizeof a->name, "v1-eyeriss-like");
    a->clock_mhz = 200;
    a->n_levels = 3;
    const char *names[3] = {"DRAM", "global_buffer", "rf"};
    double norm[3] = {v.norm_dram, v.norm_gb, v.norm_rf};
    for (int l = 0; l < 3; l++) {
        hwnas__level *lv = &a->level[l];
        hwnas__level_defaults(lv);
        snprintf(lv->name, sizeof lv->name, "%s", names[l]);
        lv->word_bits = 8;
        lv->read_pj = lv->write_pj = lv->update_pj = word_pj * norm[l];
    }
    int64_t pes = (int64_t)v.pe_rows * (int64_t)v.pe_cols;
    a->level[1].words = v.gb_kib * 1024.0;
    a->level[1].spatial_x = (1u << HWNAS__D_M) | (1u << HWNAS__D_Q);
    a->level[1].spatial_y = (1u << HWNAS__D_R) | (1u << HWNAS__D_C) | (1u << HWNAS__D_P);
    a->level[2].instances = pes;
    a->level[2].mesh_x = (int64_t)v.pe_cols;
    a->level[2].words = v.rf_words;
    a->mac_instances = pes;
    a->mac_mesh_x = (int64_t)v.pe_cols;
    a->mul_bits = 8;
    a->add_bits = 32;
    a->mul_pj = v.mul_int8_pj;
    a->add_pj = v.add_int32_pj;
    snprintf(a->multiplier, sizeof a->multiplier, "exact");
    return HWNAS_OK;
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

int hwnas__accel_parse_text(struct hwnas_accel *a, const char *text, const char *name)
{
    parser ps = {name, 0};
    const char *p = text;
    int header = 0, section = 0; /* 0 top, 1 level, 2 mac */
    int have_mac = 0;
    a->n_levels = 0;
    char buf[512];
    while (*p) {
        ps.line++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= sizeof buf)
            return fail(&ps, NULL, NULL, "line too long (at most 511 characters)");
        memcpy(buf, p, len);
        buf[len] = 0;
        p = eol ? eol + 1 : p + len;
        if (memchr(buf, 0, len))
            return fail(&ps, NULL, NULL, "a NUL byte in the text");
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        char *s = trim(buf);
        if (!*s)
            continue;
        if (!header) {
            if (strcmp(s, "hwnas-hw 1") == 0)
                return from_v1(a, text, name);
            if (strcmp(s, "hwnas-hw 2") != 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "expected the header 'hwnas-hw 2', found '%.60s'", s);
                if (strncmp(s, "hwnas-hw ", 9) == 0)
                    return hwnas__error(HWNAS_EVERSION, "%s:%zu: %s (this library reads "
                                                        "versions 1 and 2)",
                                        name, ps.line, msg);
                return fail(&ps, NULL, NULL, msg);
            }
            header = 1;
            continue;
        }
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1])
                return fail(&ps, NULL, NULL, "a section is '[level NAME]' or '[mac]'");
            *close = 0;
            char *sec = trim(s + 1);
            if (strcmp(sec, "mac") == 0) {
                if (have_mac)
                    return fail(&ps, NULL, NULL, "a second [mac] section");
                have_mac = 1;
                section = 2;
                continue;
            }
            if (strncmp(sec, "level", 5) != 0 || (sec[5] != ' ' && sec[5] != '\t'))
                return fail(&ps, NULL, NULL, "a section is '[level NAME]' or '[mac]'");
            if (have_mac)
                return fail(&ps, NULL, NULL, "levels come before [mac] (outermost first)");
            char *lname = trim(sec + 5);
            size_t n = strlen(lname);
            if (n == 0 || n >= HWNAS__NAME_MAX)
                return fail(&ps, NULL, NULL, "a level name has 1 to 47 characters");
            for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)lname[i]) && lname[i] != '_' && lname[i] != '-')
                    return fail(&ps, NULL, NULL, "a level name is [A-Za-z0-9_-]+");
            for (int l = 0; l < a->n_levels; l++)
                if (strcmp(a->level[l].name, lname) == 0)
                    return fail(&ps, NULL, NULL, "two levels have this name");
            if (a->n_levels == HWNAS__MAX_LEVELS)
                return fail(&ps, NULL, NULL, "more than 8 storage levels");
            hwnas__level *lv = &a->level[a->n_levels++];
            hwnas__level_defaults(lv);
            memcpy(lv->name, lname, n + 1);
            section = 1;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            return fail(&ps, NULL, NULL, "expected 'key = value' or a [section]");
        *eq = 0;
        char *key = trim(s), *v = trim(eq + 1);
        if (!*v)
            return fail(&ps, key, NULL, "the value is missing");
        int rc;
        if (section == 0)
            rc = set_key(&ps, top_keys, HWNAS_ARRAY_SIZE(top_keys), a, "the top section", key,
                         v);
        else if (section == 1)
            rc = set_key(&ps, level_keys, HWNAS_ARRAY_SIZE(level_keys),
                         &a->level[a->n_levels - 1], "a [level] section", key, v);
        else
            rc = set_key(&ps, mac_keys, HWNAS_ARRAY_SIZE(mac_keys), a, "[mac]", key, v);
        if (rc == HWNAS_OK && section == 2 && strcmp(key, "multiplier") == 0)
            a->multiplier_line = ps.line;
        if (rc == HWNAS_OK && section == 2 && strcmp(key, "layer_multipliers") == 0)
            a->layer_muls_line = ps.line;
        if (rc != HWNAS_OK)
            return rc;
    }
    if (!header)
        return hwnas__error(HWNAS_EFORMAT, "%s: empty file (expected 'hwnas-hw 2')", name);
    if (a->n_levels == 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: no [level NAME] section: at least DRAM is needed",
                            name);
    if (!have_mac)
        return hwnas__error(HWNAS_EFORMAT, "%s: no [mac] section", name);
    return HWNAS_OK;
}

int hwnas__accel_set_key(int section, void *base, const char *file, size_t line,
                         const char *key, const char *value)
{
    parser ps = {file, line};
    if (section == 0)
        return set_key(&ps, top_keys, HWNAS_ARRAY_SIZE(top_keys), base, "the top section", key,
                       value);
    if (section == 1)
        return set_key(&ps, level_keys, HWNAS_ARRAY_SIZE(level_keys), base, "a [level] section",
                       key, value);
    return set_key(&ps, mac_keys, HWNAS_ARRAY_SIZE(mac_keys), base, "[mac]", key, value);
}
