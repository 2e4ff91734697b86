/*
 * estimator:energy - an analytic energy model of an accelerator.
 *
 * Energy = MAC energy (multiply at the layer's bit width, scaled by its
 * multiplier's relative power, plus the accumulate) + memory energy
 * (accesses at each level of the hierarchy times that level's cost).
 * Access counts come from a reuse/tiling model of a row-stationary
 * array (doc/energy.md), or, with reuse=false, from the no-reuse model:
 * every MAC reads an input, a weight and a partial sum from DRAM and
 * writes the partial sum back (4 DRAM accesses per MAC).
 */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel_internal.h"
#include "estimator_internal.h"
#include "hwnas/axmul.h"

enum { OPT_HARDWARE, OPT_REUSE, OPT_AXMUL_DIR };

static const hwnas__option_spec energy_options[] = {
    [OPT_HARDWARE] = {"hardware", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                      "hardware description file (doc/formats/hardware.md); empty = the "
                      "45 nm Eyeriss-like defaults"},
    [OPT_REUSE] = {"reuse", HWNAS_OPTION_BOOL, "true", 0, 0, NULL,
                   "model on-chip reuse; false = every operand from DRAM (4 accesses/MAC)"},
    [OPT_AXMUL_DIR] = {"axmul_dir", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                       "directory of imported multiplier tables (names not built in)"},
};

const hwnas__kind hwnas__estimator_energy_kind = {
    "estimator:energy", energy_options, HWNAS_ARRAY_SIZE(energy_options),
    &hwnas__estimator_energy_impl,
};

typedef hwnas__hw_v1 hardware;

typedef struct energy_state {
    hardware hw;
    hwnas_axmul_registry *reg; /* multiplier lookups, guarded by lock */
    pthread_mutex_t lock;
    int lock_ready;
} energy_state;

enum { M_TOTAL, M_MAC, M_MEM, M_DRAM, M_GB, M_ARRAY, M_RF, N_METRICS };
static const char *const metric_names[N_METRICS][2] = {
    {"energy_uj", "uJ"},      {"energy_mac_uj", "uJ"},     {"energy_memory_uj", "uJ"},
    {"dram_accesses", "words"}, {"gb_accesses", "words"}, {"array_accesses", "words"},
    {"rf_accesses", "words"},
};

static void energy_fini(hwnas_estimator *e)
{
    energy_state *st = e->state;
    if (!st)
        return;
    hwnas_axmul_registry_free(st->reg);
    if (st->lock_ready)
        pthread_mutex_destroy(&st->lock);
    hwnas__free(e->ctx, st);
    e->state = NULL;
}

static int energy_init(hwnas_estimator *e)
{
    energy_state *st = hwnas__calloc(e->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    e->state = st;
    st->hw = hwnas__hw_v1_defaults;
    if (pthread_mutex_init(&st->lock, NULL) != 0)
        return hwnas__error(HWNAS_ENOMEM, "estimator:energy: cannot create a mutex");
    st->lock_ready = 1;
    int rc = HWNAS_OK;
    const char *path = hwnas__options_str(e->options, OPT_HARDWARE);
    if (*path) {
        uint8_t *buf;
        size_t len;
        rc = hwnas__file_read(e->ctx, path, (size_t)1 << 20, &buf, &len);
        if (rc == HWNAS_OK) {
            rc = hwnas__hw_v1_parse((const char *)buf, path, &st->hw);
            hwnas__free(e->ctx, buf);
        }
    }
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_registry_new(&st->reg, e->ctx);
    const char *dir = hwnas__options_str(e->options, OPT_AXMUL_DIR);
    if (rc == HWNAS_OK && *dir)
        rc = hwnas_axmul_registry_load_dir(st->reg, dir, NULL);
    for (int m = 0; rc == HWNAS_OK && m < N_METRICS; m++)
        rc = hwnas__estimator_add_metric(e, metric_names[m][0], metric_names[m][1]);
    return rc;
}

static double ceil_div(double a, double b) { return ceil(a / (b > 0 ? b : 1)); }

static int energy_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                           uint64_t stream, double *values)
{
    (void)key;
    (void)stream;
    energy_state *st = e->state;
    const hardware *hw = &st->hw;
    int reuse = hwnas__options_int(e->options, OPT_REUSE) != 0;
    double mac_pj = 0, dram = 0, gb = 0, array = 0, rf = 0;
    double mem_pj = 0;
    size_t n = hwnas_net_node_count(net);
    if (n == 0)
        return hwnas__error(HWNAS_EINVAL, "estimator:energy: the net is empty");
    for (size_t i = 0; i < n; i++) {
        double macs = (double)hwnas_net_node_macs(net, i);
        int kind = hwnas_net_node_kind(net, i);
        int multiplies = kind == HWNAS_NET_CONV2D || kind == HWNAS_NET_DWCONV2D ||
                         kind == HWNAS_NET_LINEAR;
        if (macs <= 0 || !multiplies)
            continue;
        int bits = hwnas_net_node_bits(net, i);
        const char *mul = hwnas_net_node_multiplier(net, i);
        double power = 1.0;
        if (mul && strcmp(mul, "exact") != 0) {
            const hwnas_axmul *m = NULL;
            pthread_mutex_lock(&st->lock);
            int rc = hwnas_axmul_registry_get(&m, st->reg, mul);
            if (rc == HWNAS_OK)
                power = hwnas_axmul_power(m);
            pthread_mutex_unlock(&st->lock);
            if (rc != HWNAS_OK)
                return hwnas__error(rc, "estimator:energy: node %zu ('%s'): %s", i,
                                    hwnas_net_node_name(net, i), hwnas_error_last());
            /* an imported table without figures: its energy is unknown,
             * not NaN (which no objective can order) */
            if (isnan(power))
                return hwnas__error(HWNAS_EINVAL, "estimator:energy: node %zu ('%s'): "
                                    "multiplier '%s' has no known power (give it: hwnas axmul "
                                    "import --power, a 'power' line, or params.csv)",
                                    i, hwnas_net_node_name(net, i), mul);
        }
        double mul_pj = bits <= 8 ? hw->mul_int8_pj * power : hw->mul_fp32_pj * power;
        double add_pj = bits <= 8 ? hw->add_int32_pj : hw->add_fp32_pj;
        mac_pj += macs * (mul_pj + add_pj);
        /* Operand counts of the layer. */
        double w = (double)hwnas_net_node_weight_bytes(net, i) * 8.0 / (bits > 0 ? bits : 32);
        double out = (double)hwnas_net_node_activations(net, i);
        int64_t in_node = hwnas_net_node_input(net, i, 0);
        double in = in_node >= 0 ? (double)hwnas_net_node_activations(net, (size_t)in_node) : 0;
        double word = (bits > 0 ? bits : 32) / 32.0;
        double l_dram, l_gb, l_array, l_rf;
        if (!reuse) {
            l_dram = 4.0 * macs;
            l_gb = l_array = l_rf = 0;
        } else {
            int64_t kh = 1, kw = 1;
            hwnas_net_node_attr(&kh, net, i, "kh");
            hwnas_net_node_attr(&kw, net, i, "kw");
            int64_t dims[4] = {0, 0, 0, 0};
            int rank = hwnas_net_node_shape(net, i, dims);
            double cout = (double)dims[1], spatial = rank == 4 ? (double)(dims[2] * dims[3]) : 1;
            double reduce = macs / (out > 0 ? out : 1); /* MACs per output: Cin/g * kh * kw */
            /* Global buffer holds weights and a working set of activations
             * (half each); weights that do not fit are split into chunks,
             * and the inputs stream once per chunk. */
            double gb_words = hw->gb_kib * 1024.0 / (4.0 * word);
            double chunks = ceil_div(w, gb_words / 2);
            l_dram = w + in * chunks + out;
            l_gb = in * ceil_div(cout, hw->pe_cols) + w * ceil_div(spatial, hw->pe_rows) +
                   2.0 * out * ceil_div(reduce, hw->rf_words);
            l_array = l_gb + out * (double)kh;
            l_rf = 4.0 * macs;
        }
        dram += l_dram;
        gb += l_gb;
        array += l_array;
        rf += l_rf;
        mem_pj += word * hw->access_unit_pj *
                  (l_dram * hw->norm_dram + l_gb * hw->norm_gb + l_array * hw->norm_array +
                   l_rf * hw->norm_rf);
    }
    /* finite figures on finite inputs, but a multiplier's power of 1e300
     * times 2^60 MACs is not */
    if (!isfinite(mac_pj + mem_pj))
        return hwnas__error(HWNAS_EINVAL, "estimator:energy: the energy of this net overflows "
                            "(%g pJ in MACs, %g pJ in memory): a multiplier's power or the "
                            "hardware's figures are out of scale", mac_pj, mem_pj);
    values[M_MAC] = mac_pj * 1e-6;
    values[M_MEM] = mem_pj * 1e-6;
    values[M_TOTAL] = values[M_MAC] + values[M_MEM];
    values[M_DRAM] = dram;
    values[M_GB] = gb;
    values[M_ARRAY] = array;
    values[M_RF] = rf;
    return HWNAS_OK;
}

const hwnas__estimator_impl hwnas__estimator_energy_impl = {
    .init = energy_init,
    .fini = energy_fini,
    .estimate = energy_estimate,
};
