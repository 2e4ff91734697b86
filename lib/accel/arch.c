/* Hardware descriptions: loading, the consistency check, text out, getters. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "accel_internal.h"
#include "hwnas/axmul.h"

const char hwnas__dim_letters[HWNAS__NDIMS + 1] = "RSPQCMNG";
const char *const hwnas__operand_names[HWNAS__NOPS] = {"weights", "inputs", "outputs"};

void hwnas__accel_fanout(const hwnas_accel *a, int l, int64_t *x, int64_t *y)
{
    const hwnas__level *p = &a->level[l];
    int64_t ci, cx;
    if (l + 1 < a->n_levels) {
        ci = a->level[l + 1].instances;
        cx = a->level[l + 1].mesh_x;
    } else {
        ci = a->mac_instances;
        cx = a->mac_mesh_x;
    }
    *x = cx / p->mesh_x;
    *y = (ci / cx) / (p->instances / p->mesh_x);
}

/* One mesh inside the next: instances and X extents divide. */
static int check_nesting(const hwnas_accel *a, const char *file, const char *inner_name,
                         int64_t pi, int64_t px, int64_t ci, int64_t cx, const char *outer_name)
{
    if (ci % pi != 0 || cx % px != 0 || (ci / cx) % (pi / px) != 0)
        return hwnas__error(HWNAS_EFORMAT,
                            "%s: %s (%lld instances, mesh_x %lld) does not divide evenly under "
                            "%s (%lld instances, mesh_x %lld): each instance of a level must "
                            "have the same whole number of children along X and along Y",
                            file, inner_name, (long long)ci, (long long)cx, outer_name,
                            (long long)pi, (long long)px);
    (void)a;
    return HWNAS_OK;
}

/* The content hash: of the canonical text, so that descriptions that
 * format alike (and so model alike) hash alike. */
static int set_hash(hwnas_accel *a)
{
    char *text = NULL;
    int rc = hwnas_accel_format(a, &text);
    if (rc != HWNAS_OK)
        return rc;
    a->hash = hwnas__hash_bytes(text, strlen(text));
    hwnas_free(text);
    return HWNAS_OK;
}

int64_t hwnas__accel_layer_mul(const hwnas_accel *a, const char *name)
{
    for (size_t k = 0; k < a->n_layer_muls; k++)
        if (strcmp(a->layer_muls[k], name) == 0)
            return (int64_t)k;
    return -1;
}

/* A multiplier's power and area relative to the exact one (*reg made on
 * first need, the caller frees it). */
static int look_up_multiplier(hwnas_accel *a, hwnas_axmul_registry **reg, const char *axmul_dir,
                              const char *file, size_t line, const char *name, double *power,
                              double *area)
{
    *power = *area = 1.0;
    if (strcmp(name, "exact") == 0)
        return HWNAS_OK;
    const hwnas_axmul *m = NULL;
    int rc = HWNAS_OK;
    if (!*reg) {
        rc = hwnas_axmul_registry_new(reg, a->ctx);
        if (rc == HWNAS_OK && axmul_dir && *axmul_dir)
            rc = hwnas_axmul_registry_load_dir(*reg, axmul_dir, NULL);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_registry_get(&m, *reg, name);
    if (rc != HWNAS_OK)
        return rc == HWNAS_ENOMEM ? rc
                                  : hwnas__error(rc, "%s:%zu: [mac]: multiplier: %s", file, line,
                                                 hwnas_error_last());
    *power = hwnas_axmul_power(m);
    *area = hwnas_axmul_area(m);
    if (isnan(*area))
        *area = *power;
    if (isnan(*power))
        return hwnas__error(HWNAS_EFORMAT,
                            "%s:%zu: [mac]: multiplier '%s' has no power figure (import it with "
                            "a params.csv, see doc/axmul.md)",
                            file, line, name);
    return HWNAS_OK;
}

int hwnas__accel_finish(hwnas_accel *a, const char *file, const char *axmul_dir,
                        int lookup_multiplier)
{
    if (a->clock_mhz <= 0)
        a->clock_mhz = 200;
    if (!a->name[0])
        snprintf(a->name, sizeof a->name, "accelerator");
    for (int l = 0; l < a->n_levels; l++) {
        hwnas__level *lv = &a->level[l];
        if (lv->mesh_x == 0)
            lv->mesh_x = lv->instances;
        if (lv->instances % lv->mesh_x != 0)
            return hwnas__error(HWNAS_EFORMAT,
                                "%s: [level %s]: mesh_x %lld does not divide instances %lld", file,
                                lv->name, (long long)lv->mesh_x, (long long)lv->instances);
        if (l == 0 && lv->keeps != HWNAS__KEEP_ALL)
            return hwnas__error(HWNAS_EFORMAT,
                                "%s: [level %s]: the outermost level is the backing store and "
                                "keeps weights, inputs and outputs",
                                file, lv->name);
        if (l > 0 && lv->keeps && lv->words < 1)
            return hwnas__error(HWNAS_EFORMAT,
                                "%s: [level %s]: words must be >= 1 (only the outermost level "
                                "may be unbounded, words = 0)",
                                file, lv->name);
        if (lv->words > 0 && lv->block > lv->words)
            return hwnas__error(HWNAS_EFORMAT, "%s: [level %s]: block %d is larger than words %g",
                                file, lv->name, lv->block, lv->words);
        if (l > 0) {
            const hwnas__level *pv = &a->level[l - 1];
            int rc = check_nesting(a, file, lv->name, pv->instances, pv->mesh_x, lv->instances,
                                   lv->mesh_x, pv->name);
            if (rc != HWNAS_OK)
                return rc;
        }
    }
    const hwnas__level *in = &a->level[a->n_levels - 1];
    if (a->mac_instances == 0)
        a->mac_instances = in->instances;
    if (a->mac_mesh_x == 0)
        a->mac_mesh_x = a->mac_instances == in->instances ? in->mesh_x : a->mac_instances;
    if (a->mac_instances % a->mac_mesh_x != 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: [mac]: mesh_x %lld does not divide instances %lld",
                            file, (long long)a->mac_mesh_x, (long long)a->mac_instances);
    int rc = check_nesting(a, file, "[mac]", in->instances, in->mesh_x, a->mac_instances,
                           a->mac_mesh_x, in->name);
    if (rc != HWNAS_OK)
        return rc;
    if (a->mul_bits == 0)
        a->mul_bits = 8;
    if (a->add_bits == 0)
        a->add_bits = 2 * a->mul_bits;
    if (!(a->mul_pj + a->add_pj > 0))
        return hwnas__error(HWNAS_EFORMAT,
                            "%s: [mac]: mul_pj and add_pj are both 0: give the energy of a "
                            "multiply and of an accumulate",
                            file);
    if (a->mul_area_share == 0 && a->mac_area_um2 > 0)
        a->mul_area_share = 0.6;
    /* The spatial loops of a level spread over its fan-out: a level with a
     * fan-out of 1 along an axis allows no spatial loop along it. */
    for (int l = 0; l < a->n_levels; l++) {
        int64_t fx, fy;
        hwnas__accel_fanout(a, l, &fx, &fy);
        if (fx == 1)
            a->level[l].spatial_x = 0;
        if (fy == 1)
            a->level[l].spatial_y = 0;
    }
    /* The multiplier every PE has; with layer multipliers, one of them
     * (the first when none is named), for layers that name none. */
    if (!a->multiplier[0])
        snprintf(a->multiplier, sizeof a->multiplier, "%s",
                 a->n_layer_muls ? a->layer_muls[0] : "exact");
    if (a->n_layer_muls && hwnas__accel_layer_mul(a, a->multiplier) < 0)
        return hwnas__error(HWNAS_EFORMAT, "%s:%zu: [mac]: multiplier '%s' is not one of "
                            "layer_multipliers", file, a->multiplier_line, a->multiplier);
    if (!lookup_multiplier)
        return set_hash(a);
    hwnas_axmul_registry *reg = NULL;
    rc = look_up_multiplier(a, &reg, axmul_dir, file, a->multiplier_line, a->multiplier,
                            &a->mul_power, &a->mul_area);
    for (size_t k = 0; rc == HWNAS_OK && k < a->n_layer_muls; k++)
        rc = look_up_multiplier(a, &reg, axmul_dir, file, a->layer_muls_line, a->layer_muls[k],
                                &a->layer_mul_power[k], &a->layer_mul_area[k]);
    hwnas_axmul_registry_free(reg);
    return rc == HWNAS_OK ? set_hash(a) : rc;
}

static int make(hwnas_accel **out, hwnas_context *ctx, const char *text, const char *name,
                const char *path, const char *axmul_dir)
{
    hwnas_accel *a = hwnas__calloc(ctx, 1, sizeof *a);
    if (!a)
        return HWNAS_ENOMEM;
    a->ctx = ctx;
    int rc = hwnas__accel_parse_text(a, text, name);
    if (rc == HWNAS_OK)
        rc = hwnas__accel_finish(a, name, axmul_dir, 1);
    if (rc == HWNAS_OK && path && !(a->path = hwnas__strdup(ctx, path)))
        rc = HWNAS_ENOMEM;
    if (rc == HWNAS_OK && axmul_dir && *axmul_dir &&
        !(a->axmul_dir = hwnas__strdup(ctx, axmul_dir)))
        rc = HWNAS_ENOMEM;
    if (rc != HWNAS_OK) {
        hwnas_accel_free(a);
        return rc;
    }
    *out = a;
    return HWNAS_OK;
}

int hwnas_accel_parse(hwnas_accel **out, hwnas_context *ctx, const char *text,
                      const char *name_for_errors, const char *axmul_dir)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_parse: out is NULL");
    *out = NULL;
    if (!ctx || !text)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_parse: ctx and text are required");
    return make(out, ctx, text, name_for_errors ? name_for_errors : "<string>", NULL,
                axmul_dir);
}

int hwnas_accel_load(hwnas_accel **out, hwnas_context *ctx, const char *path,
                     const char *axmul_dir)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_load: out is NULL");
    *out = NULL;
    if (!ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_load: ctx and path are required");
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, (size_t)1 << 20, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    if (memchr(buf, 0, len)) {
        hwnas__free(ctx, buf);
        return hwnas__error(HWNAS_EFORMAT, "%s: a NUL byte: not a text file", path);
    }
    rc = make(out, ctx, (const char *)buf, path, path, axmul_dir);
    hwnas__free(ctx, buf);
    return rc;
}

void hwnas_accel_free(hwnas_accel *a)
{
    if (!a)
        return;
    hwnas__free(a->ctx, a->path);
    hwnas__free(a->ctx, a->axmul_dir);
    hwnas__free(a->ctx, a);
}

static void put_dims(hwnas__strbuf *sb, const char *key, unsigned set)
{
    hwnas__strbuf_printf(sb, "%s = ", key);
    if (set == (1u << HWNAS__NDIMS) - 1) {
        hwnas__strbuf_puts(sb, "all\n");
        return;
    }
    if (!set)
        hwnas__strbuf_puts(sb, "none");
    for (int d = 0, first = 1; d < HWNAS__NDIMS; d++)
        if (set & (1u << d)) {
            hwnas__strbuf_printf(sb, "%s%c", first ? "" : " ", hwnas__dim_letters[d]);
            first = 0;
        }
    hwnas__strbuf_puts(sb, "\n");
}

int hwnas_accel_format(const hwnas_accel *a, char **out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_format: out is NULL");
    *out = NULL;
    if (!a)
        return hwnas__error(HWNAS_EINVAL, "hwnas_accel_format: accel is NULL");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, a->ctx);
    hwnas__strbuf_printf(&sb, "hwnas-hw 2\nname = %s\nclock_mhz = %.17g\n", a->name,
                         a->clock_mhz);
    if (a->dram_gbps > 0)
        hwnas__strbuf_printf(&sb, "dram_gbps = %.17g\n", a->dram_gbps);
    for (int l = 0; l < a->n_levels; l++) {
        const hwnas__level *lv = &a->level[l];
        hwnas__strbuf_printf(&sb,
                             "\n[level %s]\ninstances = %lld\nmesh_x = %lld\nwords = %.17g\n"
                             "word_bits = %d\nblock = %d\nkeeps =",
                             lv->name, (long long)lv->instances, (long long)lv->mesh_x,
                             lv->words, lv->word_bits, lv->block);
        if (!lv->keeps)
            hwnas__strbuf_puts(&sb, " none");
        for (int o = 0; o < HWNAS__NOPS; o++)
            if (lv->keeps & (1u << o))
                hwnas__strbuf_printf(&sb, " %s", hwnas__operand_names[o]);
        hwnas__strbuf_printf(&sb,
                             "\nread_pj = %.17g\nwrite_pj = %.17g\nupdate_pj = %.17g\n"
                             "leak_pj = %.17g\narea_um2 = %.17g\nread_bw = %.17g\nwrite_bw = %.17g\n"
                             "multicast = %d\n",
                             lv->read_pj, lv->write_pj, lv->update_pj, lv->leak_pj, lv->area_um2,
                             lv->read_bw, lv->write_bw, lv->multicast);
        put_dims(&sb, "temporal", lv->temporal_dims);
        put_dims(&sb, "spatial_x", lv->spatial_x);
        put_dims(&sb, "spatial_y", lv->spatial_y);
        if (lv->order_len) {
            hwnas__strbuf_puts(&sb, "order =");
            for (int k = 0; k < lv->order_len; k++)
                hwnas__strbuf_printf(&sb, " %c", hwnas__dim_letters[lv->order[k]]);
            hwnas__strbuf_puts(&sb, "\n");
        }
    }
    hwnas__strbuf_printf(&sb,
                         "\n[mac]\ninstances = %lld\nmesh_x = %lld\nmul_bits = %d\n"
                         "add_bits = %d\nmul_pj = %.17g\nadd_pj = %.17g\narea_um2 = %.17g\n"
                         "mul_area_share = %.17g\nmultiplier = %s\n",
                         (long long)a->mac_instances, (long long)a->mac_mesh_x, a->mul_bits,
                         a->add_bits, a->mul_pj, a->add_pj, a->mac_area_um2, a->mul_area_share,
                         a->multiplier);
    for (size_t k = 0; k < a->n_layer_muls; k++)
        hwnas__strbuf_printf(&sb, "%s%s", k ? " | " : "layer_multipliers = ", a->layer_muls[k]);
    if (a->n_layer_muls)
        hwnas__strbuf_puts(&sb, "\n");
    *out = hwnas__strbuf_detach_buffer(&sb);
    return *out ? HWNAS_OK : HWNAS_ENOMEM;
}

const char *hwnas_accel_name(const hwnas_accel *a) { return a ? a->name : NULL; }

size_t hwnas_accel_level_count(const hwnas_accel *a) { return a ? (size_t)a->n_levels : 0; }

const char *hwnas_accel_level_name(const hwnas_accel *a, size_t i)
{
    return a && i < (size_t)a->n_levels ? a->level[i].name : NULL;
}

double hwnas_accel_clock_mhz(const hwnas_accel *a) { return a ? a->clock_mhz : 0; }

uint64_t hwnas_accel_hash(const hwnas_accel *a) { return a ? a->hash : 0; }

int64_t hwnas_accel_mac_count(const hwnas_accel *a) { return a ? a->mac_instances : 0; }

double hwnas_accel_area_mm2(const hwnas_accel *a)
{
    if (!a)
        return 0;
    double um2 = 0;
    for (int l = 0; l < a->n_levels; l++)
        um2 += (double)a->level[l].instances * a->level[l].area_um2;
    /* with layer multipliers every PE has each of them */
    double mul_area = a->n_layer_muls ? 0 : a->mul_area;
    for (size_t k = 0; k < a->n_layer_muls; k++)
        mul_area += a->layer_mul_area[k];
    double mac = a->mac_area_um2 * (1 - a->mul_area_share + a->mul_area_share * mul_area);
    um2 += (double)a->mac_instances * mac;
    return um2 * 1e-6;
}
