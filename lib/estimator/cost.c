/* estimator:cost - the IR's analytic figures as metrics. */
#include "estimator_internal.h"

static const struct {
    const char *name, *unit;
} cost_metrics[] = {
    {"macs", "MAC"},
    {"params", "parameters"},
    {"weight_bytes", "B"},
    {"activations", "elements"},
    {"peak_activations", "elements"},
    {"memory_accesses", "accesses"},
};

const hwnas__kind hwnas__estimator_cost_kind = {
    "estimator:cost", NULL, 0, &hwnas__estimator_cost_impl,
};

static int cost_init(hwnas_estimator *e)
{
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(cost_metrics); i++) {
        int rc = hwnas__estimator_add_metric(e, cost_metrics[i].name, cost_metrics[i].unit);
        if (rc != HWNAS_OK)
            return rc;
    }
    return HWNAS_OK;
}

static int cost_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                         uint64_t stream, double *values)
{
    (void)e;
    (void)key;
    (void)stream;
    if (hwnas_net_node_count(net) == 0)
        return hwnas__error(HWNAS_EINVAL, "estimator:cost: the net is empty");
    values[0] = (double)hwnas_net_macs(net);
    values[1] = (double)hwnas_net_params(net);
    values[2] = (double)hwnas_net_weight_bytes(net);
    values[3] = (double)hwnas_net_activations(net);
    values[4] = (double)hwnas_net_peak_activations(net);
    values[5] = (double)hwnas_net_memory_accesses(net);
    return HWNAS_OK;
}

const hwnas__estimator_impl hwnas__estimator_cost_impl = {
    .init = cost_init,
    .estimate = cost_estimate,
};
