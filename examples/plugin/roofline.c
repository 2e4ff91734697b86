/*
 * A libhwnas plugin: estimator:roofline, the latency of a net on a machine
 * described by two numbers, its peak arithmetic rate and its memory
 * bandwidth (the roofline model of Williams, Waterman and Patterson,
 * CACM 2009). Every layer takes max(flops / peak, bytes / bandwidth):
 *
 *   flops  2 per multiply-accumulate, 1 per output element of the others
 *   bytes  weights at the layer's bit width, plus input and output
 *          activations at 4 bytes (1 byte for an 8-bit layer)
 *
 * plus a fixed overhead per net. Metrics: latency_ms (ms) and intensity
 * (flop/B, the whole net's arithmetic intensity).
 *
 * Build: cc -shared -fPIC roofline.c $(pkg-config --cflags --libs hwnas)
 *        -o roofline.so
 * Use:   hwnas --plugin ./roofline.so estimate --estimator \
 *          'roofline:peak_gflops=50;bandwidth_gbs=10' net.net
 */
#include <stdlib.h>

#include <hwnas/hwnas.h>

typedef struct roofline {
    double peak;      /* flop per second */
    double bandwidth; /* byte per second */
    double overhead;  /* seconds per net */
} roofline;

static const hwnas_plugin_option options[] = {
    {sizeof(hwnas_plugin_option), "peak_gflops", HWNAS_OPTION_FLOAT, "100", 1e-6, 1e9, NULL,
     "peak arithmetic rate in GFLOP/s"},
    {sizeof(hwnas_plugin_option), "bandwidth_gbs", HWNAS_OPTION_FLOAT, "20", 1e-6, 1e9, NULL,
     "memory bandwidth in GB/s"},
    {sizeof(hwnas_plugin_option), "overhead_us", HWNAS_OPTION_FLOAT, "0", 0, 1e12, NULL,
     "fixed time per net in microseconds"},
};

static int create(void **out_state, hwnas_context *ctx, const hwnas_options *opts,
                  void *plugin_data)
{
    (void)ctx;
    (void)plugin_data;
    double peak, bw, overhead;
    if (hwnas_options_get_float(opts, "peak_gflops", &peak) != HWNAS_OK ||
        hwnas_options_get_float(opts, "bandwidth_gbs", &bw) != HWNAS_OK ||
        hwnas_options_get_float(opts, "overhead_us", &overhead) != HWNAS_OK)
        return 1;
    roofline *r = malloc(sizeof *r);
    if (!r) {
        hwnas_estimator_set_error("roofline: out of memory");
        return 1;
    }
    r->peak = peak * 1e9;
    r->bandwidth = bw * 1e9;
    r->overhead = overhead * 1e-6;
    *out_state = r;
    return 0;
}

static void destroy(void *state, void *plugin_data)
{
    (void)plugin_data;
    free(state);
}

static int estimate(void *state, const hwnas_net *net, const char *key, uint64_t stream,
                    double *values)
{
    (void)key;
    (void)stream;
    const roofline *r = state;
    size_t n = hwnas_net_node_count(net);
    if (n == 0) {
        hwnas_estimator_set_error("roofline: the net is empty");
        return 1;
    }
    double seconds = r->overhead, flops_total = 0, bytes_total = 0;
    for (size_t i = 0; i < n; i++) {
        double macs = (double)hwnas_net_node_macs(net, i);
        double out = (double)hwnas_net_node_activations(net, i);
        double in = 0;
        for (size_t j = 0; j < hwnas_net_node_input_count(net, i); j++)
            in += (double)hwnas_net_node_activations(net, (size_t)hwnas_net_node_input(net, i, j));
        double act_bytes = hwnas_net_node_bits(net, i) == 8 ? 1.0 : 4.0;
        double flops = macs > 0 ? 2 * macs : out;
        double bytes = (double)hwnas_net_node_weight_bytes(net, i) + act_bytes * (in + out);
        double tc = flops / r->peak, tm = bytes / r->bandwidth;
        seconds += tc > tm ? tc : tm;
        flops_total += flops;
        bytes_total += bytes;
    }
    values[0] = seconds * 1e3;
    values[1] = bytes_total > 0 ? flops_total / bytes_total : 0;
    return 0;
}

static const hwnas_plugin_estimator estimators[] = {
    {sizeof(hwnas_plugin_estimator), "roofline", "latency_ms:ms,intensity:flop/B", options,
     sizeof options / sizeof options[0], create, destroy, estimate},
};

static const hwnas_plugin plugin = {
    HWNAS_PLUGIN_ABI_VERSION,
    sizeof(hwnas_plugin),
    "roofline",
    "1.0",
    NULL,
    NULL,
    estimators,
    sizeof estimators / sizeof estimators[0],
};

HWNAS_PLUGIN_EXPORT const hwnas_plugin *hwnas_plugin_entry(void);

HWNAS_PLUGIN_EXPORT const hwnas_plugin *hwnas_plugin_entry(void) { return &plugin; }
