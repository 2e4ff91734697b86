/* The hardware cost per (edge, operation) from any per-node source the
 * library has: MACs or parameters (the IR's cost analysis), a latency
 * lookup table (a file, or this host profiled once), or the accelerator
 * model (energy or cycles per layer on a .hw). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dsearch_internal.h"
#include "hwnas/accel.h"
#include "hwnas/latency_lut.h"

static const char *const source_names[] = {"none", "macs", "params", "latency", "energy",
                                           "cycles"};

/* The LUT of c: its file, or dir/latency.lut, profiled from net on this
 * host the first time (kept, so a resumed run prices as the first). */
static int get_lut(hwnas_latency_lut **out, const hwnas_net *net, const hwnas__ds_config *c,
                   hwnas_context *ctx, const char *dir)
{
    char path[4200];
    if (c->lut[0])
        return hwnas_latency_lut_load(out, ctx, c->lut);
    snprintf(path, sizeof path, "%s/latency.lut", dir);
    struct stat st;
    if (stat(path, &st) == 0)
        return hwnas_latency_lut_load(out, ctx, path);
    if (!net)
        return hwnas__error(HWNAS_ENOTFOUND, "dsearch: %s is missing", path);
    int rc = hwnas_latency_lut_new(out, ctx);
    if (rc == HWNAS_OK)
        rc = hwnas_latency_lut_set_device(*out, "this host, profiled by hwnas dsearch");
    if (rc == HWNAS_OK)
        rc = hwnas_latency_lut_profile(*out, net, 3, 15);
    if (rc == HWNAS_OK)
        rc = hwnas_latency_lut_save(*out, path);
    if (rc != HWNAS_OK) {
        hwnas_latency_lut_free(*out);
        *out = NULL;
    }
    return rc;
}

static int get_accel(hwnas_accel_result **out, const hwnas_net *net, const hwnas__ds_config *c,
                     hwnas_context *ctx)
{
    if (!c->hardware[0])
        return hwnas__error(HWNAS_EINVAL, "dsearch: cost=%s needs hardware=FILE.hw (an "
                            "accelerator description)", source_names[c->cost]);
    hwnas_accel *a = NULL;
    int rc = hwnas_accel_load(&a, ctx, c->hardware, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_accel_run(out, a, net, c->accel_options[0] ? c->accel_options : NULL);
    hwnas_accel_free(a);
    return rc;
}

static int node_costs(double *node, const hwnas_net *net, const hwnas__ds_config *c,
                      hwnas_context *ctx, const char *dir, const hwnas__eng_mix *mix)
{
    size_t n = hwnas_net_node_count(net);
    for (size_t i = 0; i < n; i++)
        node[i] = c->cost == HWNAS__DS_COST_PARAMS ? (double)hwnas_net_node_params(net, i)
                                                   : (double)hwnas_net_node_macs(net, i);
    if (c->cost == HWNAS__DS_COST_LATENCY) {
        hwnas_latency_lut *lut = NULL;
        int rc = get_lut(&lut, net, c, ctx, dir);
        for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
            node[i] = 0;
            int32_t o = mix ? hwnas__mix_owner(mix, i) : -1;
            if (o < 0)
                continue;
            char *key = NULL;
            rc = hwnas_latency_lut_layer_key(&key, net, i);
            if (rc == HWNAS_OK && hwnas_latency_lut_get(&node[i], lut, key) != HWNAS_OK)
                rc = hwnas__error(HWNAS_ENOTFOUND, "dsearch: the latency table %s lacks "
                                  "operation %s of edge %d (layer key %s)",
                                  c->lut[0] ? c->lut : "latency.lut",
                                  hwnas__sn_op_name((uint32_t)(o % HWNAS__SN_OPS)),
                                  (int)(o / HWNAS__SN_OPS), key);
            hwnas_free(key);
        }
        hwnas_latency_lut_free(lut);
        return rc;
    }
    if (c->cost == HWNAS__DS_COST_ENERGY || c->cost == HWNAS__DS_COST_CYCLES) {
        hwnas_accel_result *res = NULL;
        int rc = get_accel(&res, net, c, ctx);
        for (size_t i = 0; i < n; i++)
            node[i] = 0;
        const char *metric = c->cost == HWNAS__DS_COST_ENERGY ? "energy_uj" : "cycles";
        for (size_t l = 0; rc == HWNAS_OK && l < hwnas_accel_result_layer_count(res); l++) {
            int64_t k = hwnas_accel_result_layer_node(res, l);
            if (k >= 0 && (size_t)k < n)
                rc = hwnas_accel_result_metric(&node[k], res, (int64_t)l, metric);
        }
        hwnas_accel_result_free(res);
        return rc;
    }
    return HWNAS_OK;
}

int hwnas__ds_cost_source(double *cost, const hwnas__ds_run *r, const hwnas__ds_config *c,
                          const char *dir)
{
    const hwnas_net *net = r->sn->full_net;
    size_t n = hwnas_net_node_count(net);
    double *node = hwnas__malloc(r->ctx, n * sizeof *node);
    if (!node)
        return HWNAS_ENOMEM;
    int rc = node_costs(node, net, c, r->ctx, dir, r->mix);
    for (size_t k = 0; k < HWNAS__DS_COEF; k++)
        cost[k] = 0;
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        int32_t o = hwnas__mix_owner(r->mix, i);
        if (o >= 0)
            cost[o] += node[i];
    }
    hwnas__free(r->ctx, node);
    /* every searchable operation that does arithmetic has a price: a
     * source pricing it at 0 lacks it (avg_pool has no MACs: not checked) */
    for (int e = 0; rc == HWNAS_OK && e < HWNAS__SN_EDGES; e++)
        for (int op = 2; op <= 3 && c->cost != HWNAS__DS_COST_NONE; op++)
            if (!(cost[e * HWNAS__SN_OPS + op] > 0) || !isfinite(cost[e * HWNAS__SN_OPS + op]))
                rc = hwnas__error(HWNAS_EINVAL, "dsearch: cost=%s gives operation %s of edge "
                                  "%d no cost (%g): the source lacks it",
                                  source_names[c->cost], hwnas__sn_op_name((uint32_t)op), e,
                                  cost[e * HWNAS__SN_OPS + op]);
    return rc;
}

int hwnas__ds_net_cost(double *out, const hwnas_net *net, const hwnas__ds_config *c,
                       hwnas_context *ctx, const char *dir)
{
    *out = 0;
    if (c->cost == HWNAS__DS_COST_PARAMS) {
        *out = (double)hwnas_net_params(net);
        return HWNAS_OK;
    }
    if (c->cost == HWNAS__DS_COST_LATENCY) {
        hwnas_latency_lut *lut = NULL;
        int rc = get_lut(&lut, NULL, c, ctx, dir);
        if (rc == HWNAS_OK)
            rc = hwnas_latency_lut_predict(out, lut, net, HWNAS_LATENCY_LUT_MISSING_NEAREST);
        hwnas_latency_lut_free(lut);
        return rc;
    }
    if (c->cost == HWNAS__DS_COST_ENERGY || c->cost == HWNAS__DS_COST_CYCLES) {
        hwnas_accel_result *res = NULL;
        int rc = get_accel(&res, net, c, ctx);
        if (rc == HWNAS_OK)
            rc = hwnas_accel_result_metric(out, res, -1,
                                           c->cost == HWNAS__DS_COST_ENERGY ? "energy_uj"
                                                                            : "cycles");
        hwnas_accel_result_free(res);
        return rc;
    }
    *out = (double)hwnas_net_macs(net);
    return HWNAS_OK;
}
