/* A whole net on an accelerator: every multiplying layer mapped (or given
 * a mapping) and evaluated; totals; the result's getters and JSON. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "accel_internal.h"
#include "hwnas/axmul.h"
#include "hwnas/net.h"

/* The shared rows (accel_internal.h), then what only a net-level run has. */
enum { OPT_MAPPINGS = HWNAS__ACCEL_N_OPTIONS };

static const hwnas__option_spec accel_options[] = {
    HWNAS__ACCEL_OPTION_ROWS,
    {"mappings", HWNAS_OPTION_STRING, "", 0, 0, NULL,
     "file of explicit mappings by layer name (doc/formats/mapping.md); other layers are "
     "mapped"},
};

const hwnas__kind hwnas__accel_kind = {
    "accel", accel_options, HWNAS_ARRAY_SIZE(accel_options), NULL,
};

typedef struct mapped_layer {
    int64_t node;
    char *name;    /* owned */
    char *mapping; /* owned, text */
    hwnas__problem p;
    hwnas__eval ev;
} mapped_layer;

struct hwnas_accel_result {
    hwnas_context *ctx;
    char name[HWNAS__NAME_MAX]; /* the accelerator's (the result outlives it) */
    int n_levels;
    char level_names[HWNAS__MAX_LEVELS][HWNAS__NAME_MAX];
    double clock_mhz, area_mm2;
    int64_t mac_instances;
    size_t n;
    mapped_layer *layers;
    hwnas__eval total; /* sums over layers */
};

void hwnas_accel_result_free(hwnas_accel_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        hwnas__free(r->ctx, r->layers[i].name);
        hwnas__free(r->ctx, r->layers[i].mapping);
    }
    hwnas__free(r->ctx, r->layers);
    hwnas__free(r->ctx, r);
}

/* Explicit mappings: "layer NAME: <mapping>" lines after "hwnas-mapping 1". */
static const char *find_given(const char *text, const char *name, size_t *len, size_t *line)
{
    size_t nlen = strlen(name);
    *line = 0;
    for (const char *p = text; p && *p;) {
        ++*line;
        const char *eol = strchr(p, '\n');
        const char *s = p;
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncmp(s, "layer ", 6) == 0) {
            s += 6;
            while (*s == ' ')
                s++;
            if (strncmp(s, name, nlen) == 0 && (s[nlen] == ':' || s[nlen] == ' ')) {
                const char *c = strchr(s, ':');
                if (c && (!eol || c < eol)) {
                    *len = (size_t)((eol ? eol : c + strlen(c)) - (c + 1));
                    return c + 1;
                }
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

/* Check the mappings file's lines: header, then layer lines or comments. */
static int check_given(const char *text, const char *path)
{
    size_t line = 0;
    int header = 0;
    for (const char *p = text; p && *p;) {
        line++;
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *s = p;
        while (s < p + n && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++;
        if (s < p + n && *s != '#') {
            if (!header) {
                if (strncmp(s, "hwnas-mapping 1", 15) != 0)
                    return hwnas__error(HWNAS_EFORMAT,
                                        "%s:%zu: expected the header 'hwnas-mapping 1'", path,
                                        line);
                header = 1;
            } else if (strncmp(s, "layer ", 6) != 0 || !memchr(s, ':', n - (size_t)(s - p))) {
                return hwnas__error(HWNAS_EFORMAT,
                                    "%s:%zu: expected 'layer NAME: LEVEL: loops | ...'", path,
                                    line);
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    if (!header)
        return hwnas__error(HWNAS_EFORMAT, "%s: empty (expected 'hwnas-mapping 1')", path);
    return HWNAS_OK;
}

static int run_layers(hwnas_accel_result *r, const hwnas_accel *a, const hwnas_net *net,
                      const hwnas_options *o, const char *given_text, const char *given_path)
{
    hwnas__mapper_opts mo = {(int)hwnas__options_int(o, HWNAS__ACCEL_OPT_OBJECTIVE),
                             hwnas__options_int(o, HWNAS__ACCEL_OPT_BUDGET),
                             (uint64_t)hwnas__options_int(o, HWNAS__ACCEL_OPT_SEED)};
    int64_t batch = hwnas__options_int(o, HWNAS__ACCEL_OPT_BATCH);
    const char *axmul_dir = hwnas__options_str(o, HWNAS__ACCEL_OPT_AXMUL_DIR);
    if (!*axmul_dir && a->axmul_dir)
        axmul_dir = a->axmul_dir;
    hwnas_axmul_registry *reg = NULL;
    size_t count = hwnas_net_node_count(net);
    int rc = HWNAS_OK;
    hwnas__strbuf sb;
    for (size_t i = 0; i < count && rc == HWNAS_OK; i++) {
        hwnas__problem p;
        rc = hwnas__problem_from_node(&p, net, i, batch);
        if (rc == HWNAS_EUNSUPPORTED) {
            rc = HWNAS_OK;
            continue;
        }
        if (rc != HWNAS_OK)
            break;
        const char *name = hwnas_net_node_name(net, i);
        const char *mul = hwnas_net_node_multiplier(net, i);
        if (mul && strcmp(mul, "exact") != 0 && !reg) {
            rc = hwnas_axmul_registry_new(&reg, a->ctx);
            if (rc == HWNAS_OK && *axmul_dir)
                rc = hwnas_axmul_registry_load_dir(reg, axmul_dir, NULL);
        }
        if (rc == HWNAS_OK)
            rc = hwnas__mul_power(&p.mul_power, a, reg, mul);
        if (rc != HWNAS_OK) {
            rc = hwnas__error(rc, "layer '%s': %s", name, hwnas_error_last());
            break;
        }
        mapped_layer *ly = &r->layers[r->n];
        ly->node = (int64_t)i;
        ly->p = p;
        hwnas__mapping m;
        size_t glen = 0;
        size_t gline = 0;
        const char *g = given_text ? find_given(given_text, name, &glen, &gline) : NULL;
        if (g) {
            char *copy = hwnas__strndup(r->ctx, g, glen);
            if (!copy) {
                rc = HWNAS_ENOMEM;
                break;
            }
            rc = hwnas__mapping_parse(&m, a, copy, given_path);
            hwnas__free(r->ctx, copy);
            if (rc == HWNAS_OK)
                rc = hwnas__mapping_check(a, &p, &m);
            if (rc != HWNAS_OK) {
                rc = hwnas__error(rc, "%s:%zu: layer '%s': %s", given_path, gline, name,
                                  hwnas_error_last());
                break;
            }
            hwnas__evaluate(a, &p, &m, &ly->ev);
        } else {
            hwnas__problem exact = p;
            exact.mul_power = 1;
            rc = hwnas__map(a, &exact, &mo, &m, &ly->ev);
            if (rc != HWNAS_OK) {
                rc = hwnas__error(rc, "layer '%s' on %s: %s", name, a->name, hwnas_error_last());
                break;
            }
            hwnas__eval_reprice(&ly->ev, a, &p);
        }
        hwnas__strbuf_init(&sb, r->ctx);
        hwnas__mapping_format(a, &m, &sb);
        ly->name = hwnas__strdup(r->ctx, name);
        ly->mapping = sb.failed ? NULL : sb.data;
        if (!ly->mapping)
            hwnas__strbuf_release(&sb);
        r->n++;
        if (!ly->name || !ly->mapping) {
            rc = hwnas__enomem();
            break;
        }
    }
    if (rc == HWNAS_OK && hwnas__options_int(o, HWNAS__ACCEL_OPT_FUSE) && r->n > 1) {
        int64_t *node = hwnas__malloc(r->ctx, r->n * sizeof *node);
        hwnas__eval *ev = hwnas__malloc(r->ctx, r->n * sizeof *ev);
        if (node && ev) {
            for (size_t i = 0; i < r->n; i++) {
                node[i] = r->layers[i].node;
                ev[i] = r->layers[i].ev;
            }
            hwnas__fuse_layers(a, net, node, ev, r->n, batch);
            for (size_t i = 0; i < r->n; i++)
                r->layers[i].ev = ev[i];
        } else {
            rc = HWNAS_ENOMEM;
        }
        hwnas__free(r->ctx, node);
        hwnas__free(r->ctx, ev);
    }
    for (size_t i = 0; rc == HWNAS_OK && i < r->n; i++)
        hwnas__eval_add(&r->total, &r->layers[i].ev, a->n_levels);
    hwnas_axmul_registry_free(reg);
    return rc;
}

int hwnas_accel_run(hwnas_accel_result **out, const hwnas_accel *a, const hwnas_net *net,
                    const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_run: out is NULL");
    *out = NULL;
    if (!a || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_run: accel and net are required");
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, a->ctx, &hwnas__accel_kind, options);
    if (rc != HWNAS_OK)
        return rc;
    uint8_t *given = NULL;
    size_t glen = 0;
    const char *gpath = hwnas__options_str(o, OPT_MAPPINGS);
    if (*gpath) {
        rc = hwnas__file_read(a->ctx, gpath, (size_t)1 << 22, &given, &glen);
        if (rc == HWNAS_OK && memchr(given, 0, glen))
            rc = hwnas__error(HWNAS_EFORMAT, "%s: a NUL byte: not a text file", gpath);
        if (rc == HWNAS_OK)
            rc = check_given((const char *)given, gpath);
    }
    hwnas_accel_result *r = NULL;
    if (rc == HWNAS_OK && !(r = hwnas__calloc(a->ctx, 1, sizeof *r)))
        rc = HWNAS_ENOMEM;
    size_t count = hwnas_net_node_count(net);
    if (rc == HWNAS_OK) {
        r->ctx = a->ctx;
        memcpy(r->name, a->name, sizeof r->name);
        r->n_levels = a->n_levels;
        for (int l = 0; l < a->n_levels; l++)
            memcpy(r->level_names[l], a->level[l].name, HWNAS__NAME_MAX);
        r->clock_mhz = a->clock_mhz;
        r->area_mm2 = hwnas_accel_area_mm2(a);
        r->mac_instances = a->mac_instances;
        r->layers = hwnas__calloc(a->ctx, count ? count : 1, sizeof *r->layers);
        if (!r->layers)
            rc = HWNAS_ENOMEM;
    }
    if (rc == HWNAS_OK)
        rc = run_layers(r, a, net, o, (const char *)given, gpath);
    hwnas__free(a->ctx, given);
    hwnas_options_free(o);
    if (rc != HWNAS_OK) {
        hwnas_accel_result_free(r);
        return rc;
    }
    *out = r;
    return HWNAS_OK;
}

size_t hwnas_accel_result_layer_count(const hwnas_accel_result *r) { return r ? r->n : 0; }

size_t hwnas_accel_result_level_count(const hwnas_accel_result *r)
{
    return r ? (size_t)r->n_levels : 0;
}

const char *hwnas_accel_result_level_name(const hwnas_accel_result *r, size_t i)
{
    return r && i < (size_t)r->n_levels ? r->level_names[i] : NULL;
}

int64_t hwnas_accel_result_layer_node(const hwnas_accel_result *r, size_t i)
{
    return r && i < r->n ? r->layers[i].node : -1;
}

const char *hwnas_accel_result_layer_name(const hwnas_accel_result *r, size_t i)
{
    return r && i < r->n ? r->layers[i].name : NULL;
}

const char *hwnas_accel_result_layer_mapping(const hwnas_accel_result *r, size_t i)
{
    return r && i < r->n ? r->layers[i].mapping : NULL;
}

static double metric_of(const hwnas_accel_result *r, const hwnas__eval *e, int whole, int k)
{
    return hwnas__eval_figure(e, whole, k, r->clock_mhz, r->mac_instances, r->area_mm2);
}

static int pick(const hwnas_accel_result *r, int64_t layer, const hwnas__eval **e,
                const char *fn)
{
    if (!r)
        return hwnas__error(HWNAS_EINVAL, "%s: result is NULL", fn);
    if (layer == -1) {
        *e = &r->total;
        return HWNAS_OK;
    }
    if (layer < 0 || (uint64_t)layer >= r->n)
        return hwnas__error(HWNAS_EINVAL, "%s: layer %lld out of range (%zu layers, -1 = net)",
                            fn, (long long)layer, r->n);
    *e = &r->layers[layer].ev;
    return HWNAS_OK;
}

int hwnas_accel_result_metric(double *out, const hwnas_accel_result *r, int64_t layer,
                              const char *metric)
{
    const hwnas__eval *e;
    if (!out || !metric)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_result_metric: NULL argument");
    int rc = pick(r, layer, &e, "hwnas_accel_result_metric");
    if (rc != HWNAS_OK)
        return rc;
    for (int k = 0; k < HWNAS__N_FIGURES; k++)
        if (strcmp(metric, hwnas__figure_names[k]) == 0) {
            *out = metric_of(r, e, layer == -1, k);
            return HWNAS_OK;
        }
    return hwnas__error(HWNAS_ENOTFOUND,
                        "unknown accelerator figure '%s' (energy_uj, energy_mac_uj, "
                        "energy_mul_uj, latency_ms, cycles, edp, utilisation, dram_accesses, "
                        "macs, mac_energy_share, area_mm2)",
                        metric);
}

int hwnas_accel_result_level(double *out, const hwnas_accel_result *r, int64_t layer,
                             size_t level, const char *operand, const char *action)
{
    const hwnas__eval *e;
    if (!out || !action)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_result_level: NULL argument");
    int rc = pick(r, layer, &e, "hwnas_accel_result_level");
    if (rc != HWNAS_OK)
        return rc;
    if (level >= (size_t)r->n_levels)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_result_level: level %zu out of range (%d)",
                            level, r->n_levels);
    const hwnas__level_stats *st = &e->level[level];
    if (strcmp(action, "energy") == 0) {
        *out = st->energy_pj * 1e-6;
        return HWNAS_OK;
    }
    int o = -1;
    for (int k = 0; operand && k < HWNAS__NOPS; k++)
        if (strcmp(operand, hwnas__operand_names[k]) == 0)
            o = k;
    if (o < 0)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_result_level: operand '%s' is not "
                                          "weights, inputs or outputs",
                            operand ? operand : "(null)");
    if (strcmp(action, "reads") == 0)
        *out = st->reads[o];
    else if (strcmp(action, "fills") == 0)
        *out = st->fills[o];
    else if (strcmp(action, "updates") == 0)
        *out = st->updates[o];
    else
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_result_level: action '%s' is not energy, "
                                          "reads, fills or updates",
                            action);
    return HWNAS_OK;
}

static void json_eval(hwnas__strbuf *sb, const hwnas_accel_result *r, const hwnas__eval *e,
                      int whole)
{
    for (int k = 0; k < HWNAS__N_FIGURES; k++)
        hwnas__strbuf_printf(sb, "\"%s\": %.17g, ", hwnas__figure_names[k],
                             metric_of(r, e, whole, k));
    hwnas__strbuf_puts(sb, "\"levels\": [");
    for (int l = 0; l < r->n_levels; l++) {
        const hwnas__level_stats *st = &e->level[l];
        hwnas__strbuf_printf(sb, "%s{\"name\": ", l ? ", " : "");
        hwnas__strbuf_json(sb, r->level_names[l]);
        hwnas__strbuf_printf(sb, ", \"energy_uj\": %.17g", st->energy_pj * 1e-6);
        static const char *const act[3] = {"reads", "fills", "updates"};
        for (int k = 0; k < 3; k++) {
            const double *v = k == 0 ? st->reads : k == 1 ? st->fills : st->updates;
            hwnas__strbuf_printf(sb, ", \"%s\": {\"weights\": %.17g, \"inputs\": %.17g, "
                                     "\"outputs\": %.17g}",
                                 act[k], v[0], v[1], v[2]);
        }
        hwnas__strbuf_puts(sb, "}");
    }
    hwnas__strbuf_puts(sb, "]");
}

int hwnas_accel_result_json(const hwnas_accel_result *r, char **out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_result_json: out is NULL");
    *out = NULL;
    if (!r)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_result_json: result is NULL");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, r->ctx);
    hwnas__strbuf_puts(&sb, "{\"accelerator\": ");
    hwnas__strbuf_json(&sb, r->name);
    hwnas__strbuf_printf(&sb, ", \"clock_mhz\": %.17g, \"macs_available\": %lld, \"total\": {",
                         r->clock_mhz, (long long)r->mac_instances);
    json_eval(&sb, r, &r->total, 1);
    hwnas__strbuf_puts(&sb, "}, \"layers\": [");
    for (size_t i = 0; i < r->n; i++) {
        const mapped_layer *ly = &r->layers[i];
        hwnas__strbuf_printf(&sb, "%s{\"name\": ", i ? ", " : "");
        hwnas__strbuf_json(&sb, ly->name);
        hwnas__strbuf_printf(&sb, ", \"node\": %lld, \"mapping\": ", (long long)ly->node);
        hwnas__strbuf_json(&sb, ly->mapping);
        hwnas__strbuf_puts(&sb, ", ");
        json_eval(&sb, r, &ly->ev, 0);
        hwnas__strbuf_puts(&sb, "}");
    }
    hwnas__strbuf_puts(&sb, "]}\n");
    *out = hwnas__strbuf_detach_buffer(&sb);
    return *out ? HWNAS_OK : HWNAS_ENOMEM;
}
