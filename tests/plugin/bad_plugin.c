/* Plugins that are wrong in one way each, chosen by -DBAD=n (meson builds
 * one shared object per n), for the loader's error tests:
 *   1 ABI version 99     2 table too small      3 init fails
 *   4 no entry symbol    5 bad kind name        6 invalid option default
 *   7 kind name taken    8 good, but estimates fail for nets over 3 nodes */
#include <hwnas/hwnas.h>

static int estimate(void *state, const hwnas_net *net, const char *key, uint64_t stream,
                    double *values)
{
    (void)state;
    (void)key;
    (void)stream;
    if (BAD == 8 && hwnas_net_node_count(net) > 3) {
        hwnas_estimator_set_error("too many nodes for flaky");
        return 1;
    }
    values[0] = (double)hwnas_net_node_count(net);
    return 0;
}

static int init(void **out, hwnas_context *ctx)
{
    (void)ctx;
    *out = 0;
    if (BAD == 3) {
        hwnas_estimator_set_error("no licence for this host");
        return 7;
    }
    return 0;
}

static const hwnas_plugin_option options[] = {
    {sizeof(hwnas_plugin_option), "scale", HWNAS_OPTION_FLOAT, BAD == 6 ? "abc" : "1", 0, 10,
     0, "a scale"},
};

static const hwnas_plugin_estimator estimators[] = {
    {sizeof(hwnas_plugin_estimator),
     BAD == 5 ? "Bad-Name" : BAD == 7 ? "cost" : BAD == 8 ? "flaky" : "bad", "nodes:nodes",
     options, 1, 0, 0, estimate},
};

static const hwnas_plugin plugin = {
    BAD == 1 ? 99 : HWNAS_PLUGIN_ABI_VERSION,
    BAD == 2 ? 8 : sizeof(hwnas_plugin),
    "bad",
    "0",
    init,
    0,
    estimators,
    1,
};

#if BAD == 4
HWNAS_PLUGIN_EXPORT const hwnas_plugin *hwnas_plugin_entry_misspelt(void);
HWNAS_PLUGIN_EXPORT const hwnas_plugin *hwnas_plugin_entry_misspelt(void) { return &plugin; }
#else
HWNAS_PLUGIN_EXPORT const hwnas_plugin *hwnas_plugin_entry(void);
HWNAS_PLUGIN_EXPORT const hwnas_plugin *hwnas_plugin_entry(void) { return &plugin; }
#endif
