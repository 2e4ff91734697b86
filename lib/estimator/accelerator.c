/*
 * estimator:accelerator - a net mapped layer by layer onto a spatial array
 * (lib/accel): energy, latency, area and where the energy goes.
 *
 * The description comes from hardware=FILE or, when empty, the built-in
 * eyeriss-45nm-int8 (examples/hardware/eyeriss_45nm_int8.hw), or per
 * estimate from the candidate's hardware (hwnas_estimator_estimate_on,
 * under co-design). Mapped layers are cached by the description's content
 * hash and the layer's shape, so a search maps each distinct layer once
 * per distinct accelerator.
 */
#include <pthread.h>
#include <string.h>

#include "accel/accel_internal.h"
#include "estimator_internal.h"
#include "hwnas/axmul.h"

/* The accelerator model's shared rows, then the description to load. */
enum { OPT_HARDWARE = HWNAS__ACCEL_N_OPTIONS };

static const hwnas__option_spec accelerator_options[] = {
    HWNAS__ACCEL_OPTION_ROWS,
    {"hardware", HWNAS_OPTION_STRING, "", 0, 0, NULL,
     "hardware description file (doc/formats/hardware.md, version 1 or 2); empty = the "
     "built-in eyeriss-45nm-int8"},
};

const hwnas__kind hwnas__estimator_accelerator_kind = {
    "estimator:accelerator", accelerator_options, HWNAS_ARRAY_SIZE(accelerator_options),
    &hwnas__estimator_accelerator_impl,
};

/* The metrics, in this order: a subset of lib/accel's figures, then
 * power_mw (energy_uj / latency_ms). */
static const int figures[] = {
    HWNAS__FIG_ENERGY, HWNAS__FIG_LATENCY,   HWNAS__FIG_CYCLES,     HWNAS__FIG_EDP,
    HWNAS__FIG_AREA,   HWNAS__FIG_UTIL,      HWNAS__FIG_DRAM,       HWNAS__FIG_MAC_SHARE,
    HWNAS__FIG_ENERGY_MAC, HWNAS__FIG_ENERGY_MUL,
};

typedef struct accelerator_state {
    hwnas_accel *accel;
    hwnas__map_cache *cache;
    hwnas__mapper_opts mapper;
    int64_t batch;
    int fuse;
    hwnas_axmul_registry *reg; /* per-layer multipliers, guarded by lock */
    pthread_mutex_t lock;
    int lock_ready;
} accelerator_state;

static void accelerator_fini(hwnas_estimator *e)
{
    accelerator_state *st = e->state;
    if (!st)
        return;
    hwnas__map_cache_free(st->cache);
    hwnas_accel_free(st->accel);
    hwnas_axmul_registry_free(st->reg);
    if (st->lock_ready)
        pthread_mutex_destroy(&st->lock);
    hwnas__free(e->ctx, st);
    e->state = NULL;
}

static int accelerator_init(hwnas_estimator *e)
{
    accelerator_state *st = hwnas__calloc(e->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    e->state = st;
    if (pthread_mutex_init(&st->lock, NULL) != 0)
        return hwnas__error(HWNAS_ENOMEM, "estimator:accelerator: cannot create a mutex");
    st->lock_ready = 1;
    const char *path = hwnas__options_str(e->options, OPT_HARDWARE);
    const char *dir = hwnas__options_str(e->options, HWNAS__ACCEL_OPT_AXMUL_DIR);
    int rc;
    if (*path)
        rc = hwnas_accel_load(&st->accel, e->ctx, path, dir);
    else
        rc = hwnas_accel_parse(&st->accel, e->ctx, hwnas__accel_builtin("eyeriss-45nm-int8"),
                               "<built-in eyeriss-45nm-int8>", dir);
    if (rc == HWNAS_OK)
        rc = hwnas__map_cache_new(&st->cache, e->ctx);
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_registry_new(&st->reg, e->ctx);
    if (rc == HWNAS_OK && *dir)
        rc = hwnas_axmul_registry_load_dir(st->reg, dir, NULL);
    if (rc != HWNAS_OK)
        return rc;
    st->mapper.objective = (int)hwnas__options_int(e->options, HWNAS__ACCEL_OPT_OBJECTIVE);
    st->mapper.budget = hwnas__options_int(e->options, HWNAS__ACCEL_OPT_BUDGET);
    st->mapper.seed = (uint64_t)hwnas__options_int(e->options, HWNAS__ACCEL_OPT_SEED);
    st->batch = hwnas__options_int(e->options, HWNAS__ACCEL_OPT_BATCH);
    st->fuse = hwnas__options_int(e->options, HWNAS__ACCEL_OPT_FUSE) != 0;
    for (size_t k = 0; rc == HWNAS_OK && k < HWNAS_ARRAY_SIZE(figures); k++)
        rc = hwnas__estimator_add_metric(e, hwnas__figure_names[figures[k]],
                                         hwnas__figure_units[figures[k]]);
    /* Last: the average power of one inference, a co-design constraint. */
    if (rc == HWNAS_OK)
        rc = hwnas__estimator_add_metric(e, "power_mw", "mW");
    return rc;
}

static int estimate_on(hwnas_estimator *e, const hwnas_net *net, const hwnas_accel *a,
                       const char *key, uint64_t stream, double *values)
{
    (void)key;
    (void)stream;
    accelerator_state *st = e->state;
    size_t n = hwnas_net_node_count(net), layers = 0;
    hwnas__eval *ev = hwnas__malloc(e->ctx, (n ? n : 1) * sizeof *ev);
    int64_t *node = hwnas__malloc(e->ctx, (n ? n : 1) * sizeof *node);
    int rc = ev && node ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        hwnas__problem p;
        rc = hwnas__problem_from_node(&p, net, i, st->batch);
        if (rc == HWNAS_EUNSUPPORTED) {
            rc = HWNAS_OK;
            continue;
        }
        if (rc == HWNAS_OK) {
            pthread_mutex_lock(&st->lock);
            rc = hwnas__mul_power(&p.mul_power, a, st->reg, hwnas_net_node_multiplier(net, i));
            pthread_mutex_unlock(&st->lock);
        }
        if (rc == HWNAS_OK)
            rc = hwnas__map_cached(st->cache, a, &p, &st->mapper, &ev[layers]);
        if (rc != HWNAS_OK)
            rc = hwnas__error(rc, "estimator:accelerator: layer '%s' on %s: %s",
                              hwnas_net_node_name(net, i), a->name, hwnas_error_last());
        node[layers++] = (int64_t)i;
    }
    if (rc == HWNAS_OK && layers == 0)
        rc = hwnas__error(HWNAS_EUNSUPPORTED,
                          "estimator:accelerator: the net has no layer that multiplies "
                          "(conv, dwconv, linear)");
    hwnas__eval total;
    memset(&total, 0, sizeof total);
    if (rc == HWNAS_OK && st->fuse)
        hwnas__fuse_layers(a, net, node, ev, layers, st->batch);
    for (size_t k = 0; rc == HWNAS_OK && k < layers; k++)
        hwnas__eval_add(&total, &ev[k], a->n_levels);
    hwnas__free(e->ctx, ev);
    hwnas__free(e->ctx, node);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t k = 0; k < HWNAS_ARRAY_SIZE(figures); k++)
        values[k] = hwnas__eval_figure(&total, 1, figures[k], a->clock_mhz, a->mac_instances,
                                       hwnas_accel_area_mm2(a));
    double uj = values[0], ms = values[1]; /* figures[0], figures[1]: uJ / ms = mW */
    values[HWNAS_ARRAY_SIZE(figures)] = ms > 0 ? uj / ms : 0;
    return HWNAS_OK;
}

static int accelerator_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                                uint64_t stream, double *values)
{
    const accelerator_state *st = e->state;
    return estimate_on(e, net, st->accel, key, stream, values);
}

const hwnas__estimator_impl hwnas__estimator_accelerator_impl = {
    .init = accelerator_init,
    .fini = accelerator_fini,
    .estimate = accelerator_estimate,
    .estimate_on = estimate_on,
};
