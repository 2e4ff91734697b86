/* hwnas estimate --hardware FILE.hw NET.net: the net mapped layer by layer
 * onto an accelerator (accel.h); a table, JSON, and an SVG chart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { MAPPING_MAX = 60, LEVELS_MAX = 16 };

/* 1234567 -> "1.23M"; exact below 10,000. */
static void si(char *buf, size_t size, double v)
{
    static const char *const units[] = {"", "K", "M", "G", "T", "P"};
    int u = 0;
    if (v < 10000) {
        snprintf(buf, size, "%.0f", v);
        return;
    }
    while (v >= 1000 && u < 5)
        v /= 1000, u++;
    snprintf(buf, size, "%.*f%s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
}

/* The mapping on one line without its empty levels ("ifmap_spad: |"), cut
 * to MAPPING_MAX characters with "...". */
static void short_mapping(char *buf, size_t size, const char *m)
{
    size_t j = 0;
    while (*m) {
        const char *end = strchr(m, '|');
        size_t len = end ? (size_t)(end - m) : strlen(m);
        while (len && strchr(" \t\n", *m))
            m++, len--;
        while (len && strchr(" \t\n", m[len - 1]))
            len--;
        if (len && m[len - 1] != ':' && j + len + 4 < size) {
            if (j)
                memcpy(buf + j, " | ", 3), j += 3;
            for (size_t k = 0; k < len; k++)
                buf[j++] = m[k] == '\n' || m[k] == '\t' ? ' ' : m[k];
        }
        m = end ? end + 1 : m + len;
    }
    buf[j] = 0;
    if (j > MAPPING_MAX)
        strcpy(buf + MAPPING_MAX - 3, "...");
}

typedef struct figures {
    double macs, cycles, util, energy, mac_energy, level[LEVELS_MAX];
} figures;

static int get_figures(figures *fg, const hwnas_accel_result *r, int64_t layer, size_t levels)
{
    static const char *const names[] = {"macs", "cycles", "utilisation", "energy_uj",
                                        "energy_mac_uj"};
    double *dst[] = {&fg->macs, &fg->cycles, &fg->util, &fg->energy, &fg->mac_energy};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        int rc = hwnas_accel_result_metric(dst[k], r, layer, names[k]);
        if (rc != HWNAS_OK)
            return rc;
    }
    for (size_t l = 0; l < levels; l++) {
        int rc = hwnas_accel_result_level(&fg->level[l], r, layer, l, NULL, "energy");
        if (rc != HWNAS_OK)
            return rc;
    }
    return HWNAS_OK;
}

/* Four significant digits, without an exponent up to 10^9. */
static void uj(char *buf, size_t size, double v)
{
    snprintf(buf, size, v >= 1e4 && v < 1e9 ? "%.0f" : "%.4g", v);
}

static void print_row(const figures *fg, const char *name, int wn, const char *mapping,
                      int wm, const int *wl, size_t levels)
{
    char macs[32], cycles[32], e[32];
    si(macs, sizeof macs, fg->macs);
    si(cycles, sizeof cycles, fg->cycles);
    uj(e, sizeof e, fg->energy);
    printf("%-*s  %9s  %-*s  %9s  %5.1f%%  %11s", wn, name, macs, wm, mapping, cycles,
           100 * fg->util, e);
    for (size_t l = 0; l < levels; l++) {
        uj(e, sizeof e, fg->level[l]);
        printf("  %*s", wl[l], e);
    }
    uj(e, sizeof e, fg->mac_energy);
    printf("  %9s\n", e);
}

static int print_table(const hwnas_accel *accel, const hwnas_accel_result *r,
                       const char *net_path, const char *hw_path)
{
    size_t n = hwnas_accel_result_layer_count(r), levels = hwnas_accel_level_count(accel);
    int wn = 5, wm = 7, wl[LEVELS_MAX];
    char map[256];
    if (levels > LEVELS_MAX) {
        fprintf(stderr, "hwnas estimate: %s has %zu levels; the table shows at most %d\n",
                hw_path, levels, LEVELS_MAX);
        return CLI_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        int l = (int)strlen(hwnas_accel_result_layer_name(r, i));
        wn = l > wn ? l : wn;
        short_mapping(map, sizeof map, hwnas_accel_result_layer_mapping(r, i));
        wm = (int)strlen(map) > wm ? (int)strlen(map) : wm;
    }
    printf("%s on %s (%s): %zu layers mapped, %lld MACs at %g MHz\n\n", net_path,
           hwnas_accel_name(accel), hw_path, n, (long long)hwnas_accel_mac_count(accel),
           hwnas_accel_clock_mhz(accel));
    printf("%-*s  %9s  %-*s  %9s  %6s  %11s", wn, "layer", "MACs", wm, "mapping", "cycles",
           "util", "energy_uJ");
    for (size_t l = 0; l < levels; l++) {
        const char *name = hwnas_accel_level_name(accel, l);
        wl[l] = (int)strlen(name) > 9 ? (int)strlen(name) : 9;
        printf("  %*s", wl[l], name);
    }
    printf("  %9s\n", "MAC");
    figures fg;
    for (size_t i = 0; i < n; i++) {
        int rc = get_figures(&fg, r, (int64_t)i, levels);
        if (rc != HWNAS_OK)
            return cli_fail("estimate", rc);
        short_mapping(map, sizeof map, hwnas_accel_result_layer_mapping(r, i));
        print_row(&fg, hwnas_accel_result_layer_name(r, i), wn, map, wm, wl, levels);
    }
    int rc = get_figures(&fg, r, -1, levels);
    if (rc != HWNAS_OK)
        return cli_fail("estimate", rc);
    print_row(&fg, "total", wn, "", wm, wl, levels);

    static const char *const totals[][2] = {
        {"energy_uj", "uJ"},   {"latency_ms", "ms"},         {"cycles", ""},
        {"utilisation", ""},   {"dram_accesses", "words"},   {"mac_energy_share", ""},
        {"area_mm2", "mm^2"},
    };
    printf("\ntotal\n");
    for (size_t k = 0; k < sizeof totals / sizeof totals[0]; k++) {
        double v;
        rc = hwnas_accel_result_metric(&v, r, -1, totals[k][0]);
        if (rc != HWNAS_OK)
            return cli_fail("estimate", rc);
        /* counts in full; the rest to 7 digits (the JSON has 10) */
        printf(k == 2 || k == 4 ? "  %-18s %.0f%s%s\n" : "  %-18s %.7g%s%s\n", totals[k][0], v,
               *totals[k][1] ? " " : "", totals[k][1]);
    }
    return CLI_OK;
}

/* "OPTIONS;axmul_dir="DIR"", or a copy of OPTIONS; NULL when out of memory. */
static char *run_options(const char *options, const char *axmul_dir)
{
    size_t size = strlen(options) + (axmul_dir ? 2 * strlen(axmul_dir) + 16 : 0) + 1;
    char *s = malloc(size), *p = s;
    if (!s)
        return NULL;
    p += sprintf(p, "%s", options);
    if (axmul_dir) {
        p += sprintf(p, "%saxmul_dir=\"", *options ? ";" : "");
        for (const char *c = axmul_dir; *c; c++) {
            if (*c == '"' || *c == '\\')
                *p++ = '\\';
            *p++ = *c;
        }
        strcpy(p, "\"");
    }
    return s;
}

int cli_estimate_accel(hwnas_context *ctx, const cli_estimate_args *a)
{
    hwnas_net *net = NULL;
    hwnas_accel *accel = NULL;
    hwnas_accel_result *result = NULL;
    char *options = NULL, *json = NULL;
    int status = CLI_FAIL, rc;
    if ((rc = cli_load_net(&net, ctx, a->net)) != HWNAS_OK) {
        status = cli_fail("estimate", rc);
        goto done;
    }
    rc = hwnas_accel_load(&accel, ctx, a->hardware, a->axmul_dir);
    if (rc != HWNAS_OK) {
        status = cli_fail("estimate", rc);
        goto done;
    }
    if (!(options = run_options(a->accel_options ? a->accel_options : "", a->axmul_dir))) {
        fprintf(stderr, "hwnas estimate: out of memory\n");
        goto done;
    }
    if ((rc = hwnas_accel_run(&result, accel, net, options)) != HWNAS_OK) {
        status = cli_fail("estimate", rc);
        goto done;
    }
    if (a->json) {
        if ((rc = hwnas_accel_result_json(result, &json)) != HWNAS_OK) {
            status = cli_fail("estimate", rc);
            goto done;
        }
        fputs(json, stdout);
        status = CLI_OK;
    } else {
        status = print_table(accel, result, a->net, a->hardware);
    }
    if (status == CLI_OK && a->svg) {
        char title[512];
        snprintf(title, sizeof title, "Energy by level: %s on %s", a->net,
                 hwnas_accel_name(accel));
        status = cli_accel_svg(a->svg, accel, result, title);
        if (status == CLI_OK && !a->json)
            printf("\nchart %s\n", a->svg);
    }
done:
    hwnas_free(json);
    free(options);
    hwnas_accel_result_free(result);
    hwnas_accel_free(accel);
    hwnas_net_free(net);
    return status;
}
