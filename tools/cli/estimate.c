/* hwnas estimate FILE.net [--json]: per-node and total cost of a net; with
 * --hardware, the accelerator model's figures (estimate_accel.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* 1234567 -> "1.23M"; exact below 10,000. */
static void human(char *buf, size_t size, uint64_t v)
{
    static const char *const units[] = {"", "K", "M", "G", "T", "P"};
    double d = (double)v;
    int u = 0;
    if (v < 10000) {
        snprintf(buf, size, "%llu", (unsigned long long)v);
        return;
    }
    while (d >= 1000 && u < 5)
        d /= 1000, u++;
    snprintf(buf, size, "%.*f%s", d < 10 ? 2 : d < 100 ? 1 : 0, d, units[u]);
}

static void bytes(char *buf, size_t size, uint64_t v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double d = (double)v;
    int u = 0;
    while (d >= 1024 && u < 4)
        d /= 1024, u++;
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", d, units[u]);
}

static void shape(char *buf, size_t size, const hwnas_net *net, size_t i)
{
    int64_t d[4];
    if (hwnas_net_node_shape(net, i, d) == 2)
        snprintf(buf, size, "%lld", (long long)d[1]);
    else
        snprintf(buf, size, "%lldx%lldx%lld", (long long)d[1], (long long)d[2], (long long)d[3]);
}

static void print_json(const hwnas_net *net, const char *path)
{
    size_t n = hwnas_net_node_count(net);
    printf("{\"file\": ");
    cli_json_string(stdout, path);
    printf(", \"nodes\": [");
    for (size_t i = 0; i < n; i++) {
        int64_t d[4];
        int rank = hwnas_net_node_shape(net, i, d);
        printf("%s\n  {\"index\": %zu, \"name\": ", i ? "," : "", i);
        cli_json_string(stdout, hwnas_net_node_name(net, i));
        printf(", \"op\": ");
        cli_json_string(stdout, hwnas_net_node_op(net, i));
        printf(", \"inputs\": [");
        for (size_t j = 0; j < hwnas_net_node_input_count(net, i); j++)
            printf("%s%lld", j ? ", " : "", (long long)hwnas_net_node_input(net, i, j));
        printf("], \"shape\": [");
        for (int k = 0; k < rank; k++)
            printf("%s%lld", k ? ", " : "", (long long)d[k]);
        printf("]");
        const char *mul = hwnas_net_node_multiplier(net, i);
        if (mul) {
            printf(", \"multiplier\": ");
            cli_json_string(stdout, mul);
            printf(", \"bits\": %d", (int)hwnas_net_node_bits(net, i));
        }
        printf(", \"macs\": %llu, \"params\": %llu, \"weight_bytes\": %llu, \"activations\": %llu}",
               (unsigned long long)hwnas_net_node_macs(net, i),
               (unsigned long long)hwnas_net_node_params(net, i),
               (unsigned long long)hwnas_net_node_weight_bytes(net, i),
               (unsigned long long)hwnas_net_node_activations(net, i));
    }
    printf("],\n \"total\": {\"nodes\": %zu, \"macs\": %llu, \"params\": %llu, "
           "\"weight_bytes\": %llu, \"activations\": %llu, \"peak_activations\": %llu, "
           "\"memory_accesses\": %llu, \"hash\": \"%016llx\"}}\n",
           n, (unsigned long long)hwnas_net_macs(net), (unsigned long long)hwnas_net_params(net),
           (unsigned long long)hwnas_net_weight_bytes(net),
           (unsigned long long)hwnas_net_activations(net),
           (unsigned long long)hwnas_net_peak_activations(net),
           (unsigned long long)hwnas_net_memory_accesses(net),
           (unsigned long long)hwnas_net_hash(net));
}

static void print_table(const hwnas_net *net, const char *path)
{
    size_t n = hwnas_net_node_count(net), wn = 4, wo = 2;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(hwnas_net_node_name(net, i));
        wn = l > wn ? l : wn;
        size_t o = strlen(hwnas_net_node_op(net, i));
        wo = o > wo ? o : wo;
    }
    printf("%s: %zu nodes\n\n", path, n);
    printf("%-*s  %-*s  %-14s  %9s  %9s  %10s  %9s  %s\n", (int)wn, "node", (int)wo, "op",
           "output", "MACs", "params", "weights", "acts", "multiplier");
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    for (size_t i = 0; i < n; i++) {
        shape(b1, sizeof b1, net, i);
        human(b2, sizeof b2, hwnas_net_node_macs(net, i));
        human(b3, sizeof b3, hwnas_net_node_params(net, i));
        bytes(b4, sizeof b4, hwnas_net_node_weight_bytes(net, i));
        human(b5, sizeof b5, hwnas_net_node_activations(net, i));
        const char *mul = hwnas_net_node_multiplier(net, i);
        printf("%-*s  %-*s  %-14s  %9s  %9s  %10s  %9s", (int)wn, hwnas_net_node_name(net, i),
               (int)wo, hwnas_net_node_op(net, i), b1, b2, b3, b4, b5);
        if (mul)
            printf("  %s/%d", mul, (int)hwnas_net_node_bits(net, i));
        putchar('\n');
    }
    printf("\ntotal\n");
    human(b1, sizeof b1, hwnas_net_macs(net));
    human(b2, sizeof b2, hwnas_net_params(net));
    bytes(b3, sizeof b3, hwnas_net_weight_bytes(net));
    printf("  %-22s %s (%llu)\n", "MACs", b1, (unsigned long long)hwnas_net_macs(net));
    printf("  %-22s %s (%llu)\n", "parameters", b2, (unsigned long long)hwnas_net_params(net));
    printf("  %-22s %s\n", "weights", b3);
    human(b1, sizeof b1, hwnas_net_activations(net));
    printf("  %-22s %s elements\n", "activations", b1);
    uint64_t peak = hwnas_net_peak_activations(net);
    human(b1, sizeof b1, peak);
    bytes(b2, sizeof b2, peak * 4);
    printf("  %-22s %s elements (%s at fp32)\n", "peak activations", b1, b2);
    human(b1, sizeof b1, hwnas_net_memory_accesses(net));
    printf("  %-22s %s (4 per MAC)\n", "memory accesses", b1);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hwnas estimate NET.net|MODEL.onnx [--json]\n"
            "       hwnas estimate --hardware FILE.hw NET.net [--json] [--svg OUT.svg]\n"
            "                      [--accel-options \"objective=edp;budget=2000;batch=4\"]\n"
            "                      [--axmul-dir DIR]\n\n"
            "Without --hardware: every node's MACs, parameters, weights and activations, and\n"
            "the net's totals. With it: each multiplying layer mapped onto the accelerator\n"
            "the file describes (doc/formats/hardware.md): its mapping, cycles, utilisation\n"
            "and energy by memory level, then the net's energy, latency, DRAM accesses and\n"
            "area. NET.net and FILE.hw may be names from the model zoo and the shipped\n"
            "hardware (hwnas estimate resnet50 --hardware eyeriss; where they are looked\n"
            "for: hwnas --help).\n\n"
            "  --json                 print JSON instead of the table\n"
            "  --hardware FILE.hw     the accelerator's hardware description\n"
            "  --accel-options OPTS   the mapper's options (hwnas describe accel lists them):\n"
            "                         objective=energy|cycles|edp, budget, seed, batch,\n"
            "                         mappings=FILE\n"
            "  --axmul-dir DIR        imported multiplier tables the description or the net\n"
            "                         names (default: built-in multipliers only)\n"
            "  --svg OUT.svg          also write a stacked bar chart of each layer's energy\n"
            "                         by level (default: none)\n");
}

int cli_estimate(hwnas_context *ctx, int argc, char **argv)
{
    cli_estimate_args a = {0};
    int bad = 0;
    for (int i = 0; i < argc && !bad; i++) {
        const char *s = argv[i];
        const char **value = strcmp(s, "--hardware") == 0        ? &a.hardware
                             : strcmp(s, "--svg") == 0           ? &a.svg
                             : strcmp(s, "--accel-options") == 0 ? &a.accel_options
                             : strcmp(s, "--axmul-dir") == 0     ? &a.axmul_dir
                                                                 : NULL;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(s, "--json") == 0) {
            a.json = 1;
        } else if (value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hwnas estimate: option '%s' needs a value\n", s);
                bad = 1;
            } else {
                *value = argv[++i];
            }
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "hwnas estimate: unknown option '%s'\n", s);
            bad = 1;
        } else if (a.net) {
            fprintf(stderr, "hwnas estimate: unexpected '%s' (one net at a time)\n", s);
            bad = 1;
        } else {
            a.net = s;
        }
    }
    if (!bad && !a.hardware && (a.svg || a.accel_options || a.axmul_dir)) {
        fprintf(stderr, "hwnas estimate: --svg, --accel-options and --axmul-dir need "
                        "--hardware\n");
        bad = 1;
    }
    if (!a.net || bad) {
        usage(stderr);
        return CLI_USAGE;
    }
    char net_path[4096], hw_path[4096];
    if (!(a.net = cli_data_file("estimate", CLI_DATA_NET, a.net, net_path, sizeof net_path)) ||
        (a.hardware && !(a.hardware = cli_data_file("estimate", CLI_DATA_HARDWARE, a.hardware,
                                                    hw_path, sizeof hw_path))))
        return CLI_FAIL;
    if (a.hardware)
        return cli_estimate_accel(ctx, &a);
    hwnas_net *net;
    int rc = cli_load_net(&net, ctx, a.net);
    if (rc != HWNAS_OK)
        return cli_fail("estimate", rc);
    if (a.json)
        print_json(net, a.net);
    else
        print_table(net, a.net);
    hwnas_net_free(net);
    return CLI_OK;
}

void cli_estimate_usage(FILE *f) { usage(f); }
