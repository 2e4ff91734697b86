/* Named, typed options: tables per kind, "key=value;..." parsing, listing. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

typedef struct option_value {
    int64_t i;  /* int, bool (0/1), enum (index) */
    double f;   /* float; also int as double */
    char *text; /* canonical text of the value, owned */
} option_value;

struct hwnas_options {
    const hwnas_context *ctx;  /* allocator */
    const hwnas__kind *kind;   /* the table; static or the plugin's */
    size_t n;                  /* rows before the first alias: the options proper */
    option_value *values;      /* n current values */
    char **ranges;             /* n range descriptions, owned */
};

static const char *const type_names[] = {"integer", "number", "boolean", "choice", "string"};

/* ---- value parsing --------------------------------------------------- */

static int enum_index(const char *choices, const char *value, size_t *out)
{
    size_t vlen = strlen(value), idx = 0;
    const char *p = choices;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vlen && memcmp(p, value, n) == 0) {
            *out = idx;
            return 1;
        }
        if (!bar)
            return 0;
        p = bar + 1;
        idx++;
    }
}

static int parse_bool(const char *s, int64_t *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = 1;
            return 1;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = 0;
            return 1;
        }
    }
    return 0;
}

/* Shortest "%.*g" text that reads back as exactly x. */
static void format_double(char *buf, size_t size, double x)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

static void format_int_bound(char *buf, size_t size, double x)
{
    if (x >= 9223372036854775807.0)
        snprintf(buf, size, "9223372036854775807");
    else if (x <= -9223372036854775807.0)
        snprintf(buf, size, "-9223372036854775808");
    else
        snprintf(buf, size, "%lld", (long long)x);
}

/* Parse value for spec into v (v->text allocated). Errors name kind/key. */
static int value_parse(const hwnas_options *o, const hwnas__option_spec *spec,
                       const char *value, option_value *v)
{
    const char *kind = o->kind->name;
    char buf[64];
    memset(v, 0, sizeof *v);
    switch (spec->type) {
    case HWNAS_OPTION_INT: {
        char *end;
        errno = 0;
        long long x = strtoll(value, &end, 10);
        if (end == value || *end != '\0')
            return hwnas__error(HWNAS_EINVAL, "option '%s' of %s expects an integer, got '%s'",
                                spec->name, kind, value);
        if (errno == ERANGE || (double)x < spec->min || (double)x > spec->max) {
            char lo[32], hi[32];
            format_int_bound(lo, sizeof lo, spec->min);
            format_int_bound(hi, sizeof hi, spec->max);
            return hwnas__error(HWNAS_EINVAL, "option '%s' of %s = %s is out of range [%s, %s]",
                                spec->name, kind, value, lo, hi);
        }
        v->i = x;
        v->f = (double)x;
        snprintf(buf, sizeof buf, "%lld", x);
        break;
    }
    case HWNAS_OPTION_FLOAT: {
        char *end;
        double x = strtod(value, &end);
        if (end == value || *end != '\0' || !isfinite(x))
            return hwnas__error(HWNAS_EINVAL,
                                "option '%s' of %s expects a finite number, got '%s'",
                                spec->name, kind, value);
        if (x < spec->min || x > spec->max) {
            char lo[32], hi[32];
            format_double(lo, sizeof lo, spec->min);
            format_double(hi, sizeof hi, spec->max);
            return hwnas__error(HWNAS_EINVAL, "option '%s' of %s = %s is out of range [%s, %s]",
                                spec->name, kind, value, lo, hi);
        }
        v->f = x == 0 ? 0.0 : x; /* one spelling for -0 */
        format_double(buf, sizeof buf, v->f);
        break;
    }
    case HWNAS_OPTION_BOOL:
        if (!parse_bool(value, &v->i))
            return hwnas__error(HWNAS_EINVAL,
                                "option '%s' of %s expects a boolean (true/false, 1/0, yes/no, "
                                "on/off), got '%s'",
                                spec->name, kind, value);
        v->f = (double)v->i;
        snprintf(buf, sizeof buf, "%s", v->i ? "true" : "false");
        break;
    case HWNAS_OPTION_ENUM: {
        size_t idx;
        if (!enum_index(spec->choices, value, &idx))
            return hwnas__error(HWNAS_EINVAL, "option '%s' of %s = '%s' is not one of %s",
                                spec->name, kind, value, spec->choices);
        v->i = (int64_t)idx;
        v->f = (double)idx;
        v->text = hwnas__strdup(o->ctx, value);
        return v->text ? HWNAS_OK : HWNAS_ENOMEM;
    }
    case HWNAS_OPTION_STRING:
        v->text = hwnas__strdup(o->ctx, value);
        return v->text ? HWNAS_OK : HWNAS_ENOMEM;
    default:
        return hwnas__error(HWNAS_EINTERNAL, "option '%s' of %s has unknown type %d", spec->name,
                            kind, spec->type);
    }
    v->text = hwnas__strdup(o->ctx, buf);
    return v->text ? HWNAS_OK : HWNAS_ENOMEM;
}

/* ---- keys ------------------------------------------------------------ */

static int64_t find_row(const hwnas__kind *kind, size_t n, const char *key, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = kind->options[i].name;
        if (strlen(name) == len && memcmp(name, key, len) == 0)
            return (int64_t)i;
    }
    return -1;
}

/* The option key names: an old name (an alias row) is its new name's. */
static int64_t find_key(const hwnas_options *o, const char *key, size_t len)
{
    int64_t i = find_row(o->kind, o->kind->n_options, key, len);
    if (i >= 0 && (size_t)i >= o->n) {
        const char *target = o->kind->options[i].def;
        i = find_row(o->kind, o->n, target, strlen(target));
    }
    return i;
}

/* Levenshtein distance, capped: for "did you mean" hints on short keys. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 64;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    return row[lb];
}

static int unknown_key(const hwnas_options *o, const char *key)
{
    /* a plugin kind may have more keys than a message holds */
    hwnas__name_list list;
    hwnas__name_list_init(&list, ", ");
    const char *best = NULL;
    size_t best_d = 3; /* suggest only close matches */
    for (size_t i = 0; i < o->n; i++) {
        const char *name = o->kind->options[i].name;
        hwnas__name_list_add(&list, name);
        size_t d = edit_distance(key, name);
        if (d < best_d) {
            best_d = d;
            best = name;
        }
    }
    if (o->n == 0)
        return hwnas__error(HWNAS_EINVAL, "unknown option '%s': %s takes no options", key,
                            o->kind->name);
    if (best)
        return hwnas__error(HWNAS_EINVAL,
                            "unknown option '%s' for %s (did you mean '%s'?); valid keys: %s",
                            key, o->kind->name, best, hwnas__name_list_text(&list));
    return hwnas__error(HWNAS_EINVAL, "unknown option '%s' for %s; valid keys: %s", key,
                        o->kind->name, hwnas__name_list_text(&list));
}

/* ---- lifetime -------------------------------------------------------- */

static void values_release(const hwnas_options *o, option_value *values)
{
    if (!values)
        return;
    for (size_t i = 0; i < o->n; i++)
        hwnas__free(o->ctx, values[i].text);
}

void hwnas_options_free(hwnas_options *o)
{
    if (!o)
        return;
    values_release(o, o->values);
    hwnas__free(o->ctx, o->values);
    if (o->ranges)
        for (size_t i = 0; i < o->n; i++)
            hwnas__free(o->ctx, o->ranges[i]);
    hwnas__free(o->ctx, o->ranges);
    hwnas__free(o->ctx, o);
}

static char *make_range(const hwnas_options *o, const hwnas__option_spec *s)
{
    char buf[96], lo[32], hi[32];
    switch (s->type) {
    case HWNAS_OPTION_INT:
        format_int_bound(lo, sizeof lo, s->min);
        format_int_bound(hi, sizeof hi, s->max);
        snprintf(buf, sizeof buf, "[%s, %s]", lo, hi);
        return hwnas__strdup(o->ctx, buf);
    case HWNAS_OPTION_FLOAT:
        format_double(lo, sizeof lo, s->min);
        format_double(hi, sizeof hi, s->max);
        snprintf(buf, sizeof buf, "[%s, %s]", lo, hi);
        return hwnas__strdup(o->ctx, buf);
    case HWNAS_OPTION_BOOL:
        return hwnas__strdup(o->ctx, "true|false");
    case HWNAS_OPTION_ENUM:
        return hwnas__strdup(o->ctx, s->choices);
    default:
        return hwnas__strdup(o->ctx, "");
    }
}

int hwnas__options_new_kind(hwnas_options **out, hwnas_context *ctx, const hwnas__kind *kind,
                            const char *text)
{
    *out = NULL;
    hwnas_options *o = hwnas__calloc(ctx, 1, sizeof *o);
    if (!o)
        return HWNAS_ENOMEM;
    o->ctx = ctx;
    o->kind = kind;
    /* Alias rows (old names) close the table, each naming a row above. */
    size_t n = kind->n_options;
    while (n > 0 && kind->options[n - 1].type == HWNAS__OPTION_ALIAS)
        n--;
    for (size_t i = 0; i < kind->n_options; i++) {
        const hwnas__option_spec *s = &kind->options[i];
        int alias = s->type == HWNAS__OPTION_ALIAS;
        if (alias != (i >= n) || (alias && (!s->def || find_row(kind, n, s->def,
                                                                 strlen(s->def)) < 0))) {
            hwnas__free(ctx, o);
            return hwnas__error(HWNAS_EINTERNAL, "option '%s' of %s: an alias must follow "
                                "the options and name one of them", s->name, kind->name);
        }
    }
    o->n = n;
    o->values = hwnas__calloc(ctx, n, sizeof *o->values);
    o->ranges = hwnas__calloc(ctx, n, sizeof *o->ranges);
    if (!o->values || !o->ranges) {
        hwnas_options_free(o);
        return HWNAS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const hwnas__option_spec *s = &kind->options[i];
        /* A plugin's table is not ours: a NaN or inverted range would let
         * every value through (and a NaN bound was converted to an
         * integer for its text). */
        if ((s->type == HWNAS_OPTION_INT || s->type == HWNAS_OPTION_FLOAT) &&
            !(s->min <= s->max)) {
            hwnas_options_free(o);
            return hwnas__error(HWNAS_EINTERNAL, "option '%s' of %s has the range [%g, %g]: "
                                "expected numbers with min <= max", s->name, kind->name,
                                s->min, s->max);
        }
        int rc = value_parse(o, s, s->def, &o->values[i]);
        if (rc != HWNAS_OK) {
            hwnas_options_free(o);
            return rc == HWNAS_ENOMEM ? rc
                                      : hwnas__error(HWNAS_EINTERNAL,
                                                     "default of option '%s' of %s is invalid",
                                                     s->name, kind->name);
        }
        o->ranges[i] = make_range(o, s);
        if (!o->ranges[i]) {
            hwnas_options_free(o);
            return HWNAS_ENOMEM;
        }
    }
    int rc = hwnas_options_parse(o, text);
    if (rc != HWNAS_OK) {
        hwnas_options_free(o);
        return rc;
    }
    *out = o;
    return HWNAS_OK;
}

int hwnas_options_new(hwnas_options **out, hwnas_context *ctx, const char *kind)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_options_new: out is NULL");
    *out = NULL;
    if (!ctx || !kind)
        return hwnas__error(HWNAS_EINVAL, "hwnas_options_new: ctx and kind are required");
    const hwnas__kind *k = hwnas__kind_find(ctx, kind);
    if (!k)
        return HWNAS_ENOTFOUND;
    return hwnas__options_new_kind(out, ctx, k, NULL);
}

/* ---- queries --------------------------------------------------------- */

const char *hwnas_options_kind(const hwnas_options *o) { return o ? o->kind->name : NULL; }

size_t hwnas_options_count(const hwnas_options *o) { return o ? o->n : 0; }

int64_t hwnas_options_index(const hwnas_options *o, const char *key)
{
    return o && key ? find_key(o, key, strlen(key)) : -1;
}

#define SPEC_OR(o, i, field, fallback) \
    ((o) && (i) < (o)->n ? (o)->kind->options[i].field : (fallback))

const char *hwnas_options_name(const hwnas_options *o, size_t i) { return SPEC_OR(o, i, name, NULL); }
int hwnas_options_type(const hwnas_options *o, size_t i) { return SPEC_OR(o, i, type, -1); }
const char *hwnas_options_default(const hwnas_options *o, size_t i) { return SPEC_OR(o, i, def, NULL); }
const char *hwnas_options_help(const hwnas_options *o, size_t i) { return SPEC_OR(o, i, help, NULL); }

const char *hwnas_options_range(const hwnas_options *o, size_t i)
{
    return o && i < o->n ? o->ranges[i] : NULL;
}

const char *hwnas_options_value(const hwnas_options *o, size_t i)
{
    return o && i < o->n ? o->values[i].text : NULL;
}

int64_t hwnas__options_int(const hwnas_options *o, size_t i) { return o->values[i].i; }
double hwnas__options_float(const hwnas_options *o, size_t i) { return o->values[i].f; }
const char *hwnas__options_str(const hwnas_options *o, size_t i) { return o->values[i].text; }

/* ---- setting --------------------------------------------------------- */

int hwnas_options_set(hwnas_options *o, const char *key, const char *value)
{
    if (!o || !key || !value)
        return hwnas__error(HWNAS_EINVAL, "hwnas_options_set: options, key and value are required");
    int64_t i = find_key(o, key, strlen(key));
    if (i < 0)
        return unknown_key(o, key);
    option_value v;
    int rc = value_parse(o, &o->kind->options[i], value, &v);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__free(o->ctx, o->values[i].text);
    o->values[i] = v;
    return HWNAS_OK;
}

void hwnas_options_reset(hwnas_options *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++) {
        option_value v;
        /* Defaults were validated at creation; only ENOMEM can fail here,
         * and then the current value simply stays. */
        if (value_parse(o, &o->kind->options[i], o->kind->options[i].def, &v) == HWNAS_OK) {
            hwnas__free(o->ctx, o->values[i].text);
            o->values[i] = v;
        }
    }
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Scan one value starting at *pp: bare text up to ';' (trimmed), or a quoted
 * string. Appends the unescaped value to sb. */
static int scan_value(const char *text, const char **pp, hwnas__strbuf *sb)
{
    const char *p = *pp;
    while (is_space(*p))
        p++;
    if (*p == '"' || *p == '\'') {
        char q = *p++;
        const char *start = p - 1;
        while (*p && *p != q) {
            if (*p == '\\' && p[1])
                p++;
            hwnas__strbuf_append(sb, p, 1);
            p++;
        }
        if (*p != q)
            return hwnas__error(HWNAS_EINVAL,
                                "options \"%s\": unterminated quote opened at position %zu",
                                text, (size_t)(start - text) + 1);
        p++;
        while (is_space(*p))
            p++;
        if (*p && *p != ';')
            return hwnas__error(HWNAS_EINVAL,
                                "options \"%s\": expected ';' after the quoted value at "
                                "position %zu, got '%c'",
                                text, (size_t)(p - text) + 1, *p);
    } else {
        const char *start = p, *end = p;
        while (*p && *p != ';')
            p++;
        end = p;
        while (end > start && is_space(end[-1]))
            end--;
        hwnas__strbuf_append(sb, start, (size_t)(end - start));
        if (!sb->data)
            hwnas__strbuf_append(sb, "", 0);
    }
    *pp = p;
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

int hwnas_options_parse(hwnas_options *o, const char *text)
{
    if (!o)
        return hwnas__error(HWNAS_EINVAL, "hwnas_options_parse: options is NULL");
    if (!text)
        return HWNAS_OK;
    size_t n = o->n;
    /* Stage every value first so that an error changes nothing. */
    option_value *staged = n ? hwnas__calloc(o->ctx, n, sizeof *staged) : NULL;
    if (n && !staged)
        return HWNAS_ENOMEM;
    int rc = HWNAS_OK;
    const char *p = text;
    while (*p && rc == HWNAS_OK) {
        while (is_space(*p) || *p == ';')
            p++;
        if (!*p)
            break;
        const char *key = p;
        while (*p && *p != '=' && *p != ';')
            p++;
        const char *key_end = p;
        while (key_end > key && is_space(key_end[-1]))
            key_end--;
        if (*p != '=') {
            rc = hwnas__error(HWNAS_EINVAL,
                              "options \"%s\": expected key=value at position %zu, got '%.*s'",
                              text, (size_t)(key - text) + 1, (int)(p - key), key);
            break;
        }
        if (key_end == key) {
            rc = hwnas__error(HWNAS_EINVAL, "options \"%s\": empty key at position %zu", text,
                              (size_t)(key - text) + 1);
            break;
        }
        p++; /* '=' */
        hwnas__strbuf value;
        hwnas__strbuf_init(&value, o->ctx);
        rc = scan_value(text, &p, &value);
        if (rc == HWNAS_OK) {
            int64_t i = find_key(o, key, (size_t)(key_end - key));
            if (i < 0) {
                char *k = hwnas__strndup(o->ctx, key, (size_t)(key_end - key));
                rc = k ? unknown_key(o, k) : HWNAS_ENOMEM;
                hwnas__free(o->ctx, k);
            } else {
                option_value v;
                rc = value_parse(o, &o->kind->options[i], value.data ? value.data : "", &v);
                if (rc == HWNAS_OK) {
                    hwnas__free(o->ctx, staged[i].text); /* a repeated key: last wins */
                    staged[i] = v;
                }
            }
        }
        hwnas__strbuf_release(&value);
    }
    for (size_t i = 0; i < n; i++) {
        if (!staged[i].text)
            continue;
        if (rc == HWNAS_OK) {
            hwnas__free(o->ctx, o->values[i].text);
            o->values[i] = staged[i];
        } else {
            hwnas__free(o->ctx, staged[i].text);
        }
    }
    hwnas__free(o->ctx, staged);
    return rc;
}

/* ---- typed getters --------------------------------------------------- */

static int getter_index(const hwnas_options *o, const char *key, const char *fn, int64_t *idx)
{
    if (!o || !key)
        return hwnas__error(HWNAS_EINVAL, "%s: options and key are required", fn);
    *idx = find_key(o, key, strlen(key));
    if (*idx < 0)
        return unknown_key(o, key);
    return HWNAS_OK;
}

static int wrong_type(const hwnas_options *o, int64_t i, const char *wanted)
{
    const hwnas__option_spec *s = &o->kind->options[i];
    return hwnas__error(HWNAS_EINVAL, "option '%s' of %s is a %s, not a %s", s->name,
                        o->kind->name, type_names[s->type], wanted);
}

int hwnas_options_get_int(const hwnas_options *o, const char *key, int64_t *out)
{
    int64_t i = -1;
    int rc = getter_index(o, key, "hwnas_options_get_int", &i);
    if (rc != HWNAS_OK)
        return rc;
    int t = o->kind->options[i].type;
    if (t != HWNAS_OPTION_INT && t != HWNAS_OPTION_BOOL && t != HWNAS_OPTION_ENUM)
        return wrong_type(o, i, "integer");
    if (out)
        *out = o->values[i].i;
    return HWNAS_OK;
}

int hwnas_options_get_float(const hwnas_options *o, const char *key, double *out)
{
    int64_t i = -1;
    int rc = getter_index(o, key, "hwnas_options_get_float", &i);
    if (rc != HWNAS_OK)
        return rc;
    int t = o->kind->options[i].type;
    if (t != HWNAS_OPTION_FLOAT && t != HWNAS_OPTION_INT)
        return wrong_type(o, i, "number");
    if (out)
        *out = o->values[i].f;
    return HWNAS_OK;
}

int hwnas_options_get_bool(const hwnas_options *o, const char *key, int *out)
{
    int64_t i = -1;
    int rc = getter_index(o, key, "hwnas_options_get_bool", &i);
    if (rc != HWNAS_OK)
        return rc;
    if (o->kind->options[i].type != HWNAS_OPTION_BOOL)
        return wrong_type(o, i, "boolean");
    if (out)
        *out = (int)o->values[i].i;
    return HWNAS_OK;
}

int hwnas_options_get_string(const hwnas_options *o, const char *key, const char **out)
{
    int64_t i = -1;
    int rc = getter_index(o, key, "hwnas_options_get_string", &i);
    if (rc != HWNAS_OK)
        return rc;
    if (out)
        *out = o->values[i].text;
    return HWNAS_OK;
}

/* ---- formatting ------------------------------------------------------ */

static int needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    if (is_space(s[0]) || is_space(s[strlen(s) - 1]) || s[0] == '"' || s[0] == '\'')
        return 1;
    return strchr(s, ';') != NULL;
}

int hwnas_options_format(const hwnas_options *o, int only_changed, char **out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_options_format: out is NULL");
    *out = NULL;
    if (!o)
        return hwnas__error(HWNAS_EINVAL, "hwnas_options_format: options is NULL");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, o->ctx);
    int first = 1;
    for (size_t i = 0; i < o->n; i++) {
        const hwnas__option_spec *s = &o->kind->options[i];
        const char *v = o->values[i].text;
        if (only_changed) {
            option_value d;
            if (value_parse(o, s, s->def, &d) != HWNAS_OK) {
                hwnas__strbuf_release(&sb);
                return HWNAS_ENOMEM;
            }
            int same = strcmp(d.text, v) == 0;
            hwnas__free(o->ctx, d.text);
            if (same)
                continue;
        }
        hwnas__strbuf_printf(&sb, "%s%s=", first ? "" : ";", s->name);
        first = 0;
        if (needs_quotes(v)) {
            hwnas__strbuf_puts(&sb, "\"");
            for (const char *c = v; *c; c++) {
                if (*c == '"' || *c == '\\')
                    hwnas__strbuf_puts(&sb, "\\");
                hwnas__strbuf_append(&sb, c, 1);
            }
            hwnas__strbuf_puts(&sb, "\"");
        } else {
            hwnas__strbuf_puts(&sb, v);
        }
    }
    *out = hwnas__strbuf_detach_buffer(&sb);
    return *out ? HWNAS_OK : HWNAS_ENOMEM;
}

int hwnas__options_number_list(const char *who, const char *key, const char *text, double *v,
                               size_t cap, size_t *n, double lo, double hi, int integers)
{
    const char *p = text;
    *n = 0;
    for (;;) {
        char *end;
        while (*p == ' ')
            p++;
        double x = strtod(p, &end);
        if (end == p || !(x >= lo && x <= hi) || (integers && x != floor(x)))
            return hwnas__error(HWNAS_EINVAL, "%s: option %s = '%s': expected %s in [%g, %g] "
                                "at position %zu", who, key, text,
                                integers ? "an integer" : "a number", lo, hi,
                                (size_t)(p - text) + 1);
        if (*n == cap)
            return hwnas__error(HWNAS_EINVAL, "%s: option %s = '%s': more than %zu entries",
                                who, key, text, cap);
        v[(*n)++] = x;
        p = end;
        while (*p == ' ')
            p++;
        if (!*p)
            return HWNAS_OK;
        if (*p != ',')
            return hwnas__error(HWNAS_EINVAL, "%s: option %s = '%s': expected ',' at position "
                                "%zu", who, key, text, (size_t)(p - text) + 1);
        p++;
    }
}
