/*
 * bench/latency (issue 20, item 4, real devices): the learned latency
 * model (hwnas_latency_model, latency_lut.h) on HW-NAS-Bench's latencies
 * of all 15,625 NAS-Bench-201 cells (CIFAR-10 input) on Eyeriss (ASIC,
 * simulated), an FPGA (simulated), a Pixel 3 and a Raspberry Pi 4
 * (measured) - devices we cannot profile ourselves.
 *
 * For each seed the cells are shuffled; the model is fitted on the first
 * N (N = 20, 100, 1000) and tested on all the others (15,605 .. 14,625
 * cells): Spearman's rho and Kendall's tau of predicted against true
 * latency, the share of cells predicted within +-10% and the MAPE, mean
 * (and standard deviation of rho) over seeds. The features are the
 * model's own, from the net each architecture string decodes to in
 * space:cell (C=16, N=5: NAS-Bench-201's skeleton); no LUT (these devices
 * have none).
 *
 * usage: bench_latency_devices SHARED_DIR [SEEDS [MODELS]]
 *   SHARED_DIR holds data/benchmarks/ (../shared); SEEDS default 5;
 *   MODELS a list of latency model option strings separated by '|'
 *   (default: predictor=none | predictor=gbrt | predictor=mlp | gp).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwnas/hwnas.h"

#define N_CELLS 15625
#define N_DEV 4
#define NF HWNAS_LATENCY_MODEL_FEATURES
static const size_t sizes[] = {20, 100, 1000};
enum { N_SIZES = sizeof sizes / sizeof *sizes };
static const char *const dev_names[N_DEV] = {"eyeriss", "fpga", "pixel3", "raspi4"};

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "bench_latency_devices: %s: %s\n", what, hwnas_error_last());
    exit(1);
}

static FILE *open_csv(const char *dir, const char *name, char *line, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data/benchmarks/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_latency_devices: cannot open %s (skipped: no benchmark data)\n",
                path);
        exit(77);
    }
    if (!fgets(line, (int)size, f))
        exit(1);
    return f;
}

/*
 * The net a device ran for cell genes g. NAS-Bench-201's PyTorch code
 * computes every edge, also those whose source or target the output does
 * not reach (space:cell leaves them out, so that isomorphic cells decode
 * to one net): NET_FULL, as the simulated Eyeriss and FPGA saw it. The
 * phones and the Raspberry Pi ran a TFLite conversion, which folds what
 * only depends on zeros into constants and drops what the output does not
 * use (a cell whose output is zero leaves no layer at all: 566 cells run
 * under 2 ms on the Pixel 3, some in 3 us): NET_FOLDED. A none edge adds
 * nothing; a node without any input is zero.
 */
enum { NET_FULL, NET_FOLDED, NET_SPACE, N_NETS };
static const char *const net_names[N_NETS] = {"full", "folded", "space:cell"};
static const int edge_from[6] = {0, 0, 1, 0, 1, 2}, edge_to[6] = {1, 2, 2, 3, 3, 3};

#define MAX_NODES 512
typedef struct gnode {
    char op[64];   /* op and attributes, "conv(out=16, k=3, ...)" without inputs */
    int in[3], n_in;
    int zero;      /* the value is all zeros / a constant */
    int live;      /* the output depends on it */
} gnode;
typedef struct graph {
    gnode n[MAX_NODES];
    int count;
} graph;

static int gadd(graph *gr, const char *op, const int *in, int n_in)
{
    if (gr->count == MAX_NODES)
        die("graph too large");
    gnode *x = &gr->n[gr->count];
    snprintf(x->op, sizeof x->op, "%s", op);
    x->n_in = n_in;
    x->zero = n_in > 0 && strcmp(op, "input") != 0;
    for (int i = 0; i < n_in; i++) {
        x->in[i] = in[i];
        x->zero &= gr->n[in[i]].zero; /* constants fold */
    }
    if (strncmp(op, "zero", 4) == 0)
        x->zero = 1;
    x->live = 0;
    return gr->count++;
}

static int g1(graph *gr, const char *op, int in)
{
    return gadd(gr, op, &in, 1);
}

static int relu_conv_bn(graph *gr, int in, int c, int k, int s)
{
    char op[64];
    snprintf(op, sizeof op, "conv(out=%d, k=%d, s=%d, pad=%d, bias=0)", c, k, s, k / 2);
    return g1(gr, "bn", g1(gr, op, g1(gr, "relu", in)));
}

static int sum(graph *gr, const int *t, int n, int mode, int fallback)
{
    int live[3], m = 0;
    for (int i = 0; i < n; i++)
        if (mode == NET_FULL || !gr->n[t[i]].zero)
            live[m++] = t[i];
    if (m == 0)
        return n ? t[0] : g1(gr, "zero", fallback);
    return m == 1 ? live[0] : gadd(gr, "add", live, m);
}

static char *benchmark_net(const uint32_t *g, int mode)
{
    static graph gr;
    gr.count = 0;
    int x = gadd(&gr, "input(shape=3x32x32)", NULL, 0);
    x = g1(&gr, "bn", g1(&gr, "conv(out=16, k=3, pad=1, bias=0)", x));
    for (int stage = 0; stage < 3; stage++) {
        int c = 16 << stage;
        char op[64];
        if (stage > 0) {
            int t[2];
            t[0] = relu_conv_bn(&gr, relu_conv_bn(&gr, x, c, 3, 2), c, 3, 1);
            snprintf(op, sizeof op, "conv(out=%d, k=1, bias=0)", c);
            t[1] = g1(&gr, op, g1(&gr, "avgpool(k=2, s=2)", x));
            x = sum(&gr, t, 2, mode, x);
        }
        for (int k = 0; k < 5; k++) {
            int node[4] = {x, -1, -1, -1};
            for (int j = 1; j <= 3; j++) {
                int t[3], n = 0;
                for (int e = 0; e < 6; e++) {
                    if (edge_to[e] != j || g[e] == 0)
                        continue;
                    int in = node[edge_from[e]];
                    t[n++] = g[e] == 1   ? in
                             : g[e] == 4 ? g1(&gr, "avgpool(k=3, s=1, pad=1)", in)
                                         : relu_conv_bn(&gr, in, c, g[e] == 2 ? 1 : 3, 1);
                }
                node[j] = sum(&gr, t, n, mode, x);
            }
            x = node[3];
        }
    }
    x = g1(&gr, "linear(out=10)", g1(&gr, "gap", g1(&gr, "relu", g1(&gr, "bn", x))));
    /* what the output uses */
    gr.n[x].live = 1;
    for (int i = gr.count; i-- > 0;)
        if (gr.n[i].live && !(mode == NET_FOLDED && gr.n[i].zero))
            for (int j = 0; j < gr.n[i].n_in; j++)
                gr.n[gr.n[i].in[j]].live = 1;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        die("open_memstream");
    fprintf(f, "hwnas-net 1\nn0 = input(shape=3x32x32)\n");
    int any = 0;
    for (int i = 1; i < gr.count; i++) {
        const gnode *v = &gr.n[i];
        if (mode == NET_FOLDED && (!v->live || v->zero))
            continue;
        const char *paren = strchr(v->op, '(');
        int oplen = paren ? (int)(paren - v->op) : (int)strlen(v->op);
        fprintf(f, "n%d = %.*s(", i, oplen, v->op);
        for (int j = 0; j < v->n_in; j++)
            fprintf(f, "%sn%d", j ? ", " : "", v->in[j]);
        if (paren)
            fprintf(f, ", %.*s", (int)strlen(paren) - 2, paren + 1);
        fprintf(f, ")\n");
        any = 1;
    }
    if (!any) /* everything folded: the output is a constant */
        fprintf(f, "zero(n0)\n");
    fclose(f);
    return text;
}

/* Features of every cell (its architecture string's benchmark net). */
static void load_features(hwnas_context *ctx, const char *dir, double *feat[N_NETS])
{
    hwnas_space *space;
    hwnas_latency_model *m;
    hwnas_net *net;
    if (hwnas_space_new(&space, ctx, "cell", NULL) || hwnas_net_new(&net, ctx) ||
        hwnas_latency_model_new(&m, ctx, NULL, "predictor=none"))
        die("setup");
    char line[4096];
    FILE *f = open_csv(dir, "nb201_nats_tss_test_acc_200ep.csv", line, sizeof line);
    uint32_t genes[6];
    for (size_t n = 0; n < N_CELLS; n++) {
        if (!fgets(line, sizeof line, f))
            die("nb201 table too short");
        char *c = line;
        for (int k = 0; k < 3 && c; k++)
            c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
        char *end = c ? strchr(c, ',') : NULL;
        if (!end)
            die("nb201 table row");
        *end = 0;
        if (hwnas_space_parse(space, c, genes))
            die(c);
        for (int mode = 0; mode < N_NETS; mode++) {
            hwnas_net *full = NULL;
            if (mode == NET_SPACE) {
                if (hwnas_space_decode(space, genes, net))
                    die(c);
            } else {
                char *spec = benchmark_net(genes, mode);
                if (hwnas_net_parse(&full, ctx, spec, c))
                    die(spec);
                free(spec);
            }
            if (hwnas_latency_model_features(feat[mode] + n * NF, m, full ? full : net))
                die(c);
            hwnas_net_free(full);
        }
    }
    fclose(f);
    hwnas_latency_model_free(m);
    hwnas_net_free(net);
    hwnas_space_free(space);
}

static void load_latency(const char *dir, double *lat)
{
    char line[4096];
    FILE *f = open_csv(dir, "nb201_latency_hwnasbench_cifar10_via_help.csv", line, sizeof line);
    for (size_t n = 0; n < N_CELLS; n++) {
        if (!fgets(line, sizeof line, f))
            die("latency table too short");
        char *c = line;
        long idx = strtol(c, &c, 10);
        if (idx != (long)n)
            die("latency table out of order");
        for (int d = 0; d < N_DEV; d++) {
            if (*c != ',')
                die("latency table row");
            lat[d * N_CELLS + n] = strtod(c + 1, &c);
        }
    }
    fclose(f);
}

static void shuffle(size_t *perm, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        size_t j = (size_t)(s % (i + 1));
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* Mid-ranks of v[n] into r[n] (idx: scratch). */
static const double *sort_key;
static int by_key(const void *a, const void *b)
{
    double x = sort_key[*(const size_t *)a], y = sort_key[*(const size_t *)b];
    return (x > y) - (x < y);
}

static void midranks(const double *v, size_t n, size_t *idx, double *r)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    sort_key = v;
    qsort(idx, n, sizeof *idx, by_key);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]])
            j++;
        for (size_t k = i; k <= j; k++)
            r[idx[k]] = 0.5 * (double)(i + j) + 1;
        i = j + 1;
    }
}

/* Spearman's rho (Pearson's of the mid-ranks) in O(n log n): the
 * library's hwnas_rank_spearman is O(n^2), meant for fewer points. */
static double spearman(const double *a, const double *b, size_t n, size_t *idx, double *ra,
                       double *rb)
{
    midranks(a, n, idx, ra);
    midranks(b, n, idx, rb);
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += ra[i];
        mb += rb[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

static size_t split(char *buf, const char *sep, const char **out, size_t max)
{
    size_t n = 0;
    for (char *t = strtok(buf, sep); t && n < max; t = strtok(NULL, sep))
        out[n++] = t;
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_latency_devices SHARED_DIR [SEEDS [MODELS [NETS "
                "[DEVICES]]]]\n");
        return 2;
    }
    int seeds = argc > 2 ? atoi(argv[2]) : 3;
    char models_buf[4096], nets_buf[256], devs_buf[256];
    snprintf(models_buf, sizeof models_buf, "%s",
             argc > 3 && argv[3][0] ? argv[3] : "predictor=none|predictor=gbrt|predictor=mlp");
    snprintf(nets_buf, sizeof nets_buf, "%s",
             argc > 4 && argv[4][0] ? argv[4] : "full,folded,space:cell");
    snprintf(devs_buf, sizeof devs_buf, "%s",
             argc > 5 && argv[5][0] ? argv[5] : "eyeriss,fpga,pixel3,raspi4");
    const char *models[16], *nets[N_NETS], *devs[N_DEV];
    size_t n_models = split(models_buf, "|", models, 16);
    size_t n_nets = split(nets_buf, ",", nets, N_NETS);
    size_t n_devs = split(devs_buf, ",", devs, N_DEV);
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1"))
        die("context");
    double *feat[N_NETS];
    for (int k = 0; k < N_NETS; k++)
        if (!(feat[k] = malloc(sizeof *feat[k] * N_CELLS * NF)))
            return 1;
    double *lat = malloc(sizeof *lat * N_CELLS * N_DEV);
    size_t *perm = malloc(sizeof *perm * N_CELLS), *idx = malloc(sizeof *idx * N_CELLS);
    double *pred = malloc(sizeof *pred * N_CELLS), *truth = malloc(sizeof *truth * N_CELLS);
    double *ra = malloc(sizeof *ra * N_CELLS), *rb = malloc(sizeof *rb * N_CELLS);
    if (!lat || !perm || !idx || !pred || !truth || !ra || !rb)
        return 1;
    load_features(ctx, argv[1], feat);
    load_latency(argv[1], lat);
    printf("HW-NAS-Bench latencies (CIFAR-10, 15,625 NAS-Bench-201 cells): the learned latency "
           "model fitted on N cells, tested on the other 15,625-N; mean over %d seeds "
           "(sd: of rho)\n", seeds);
    printf("net: the net whose features the model sees - full: every edge computed (PyTorch); "
           "folded: constants folded and unused layers dropped (TFLite); space:cell: the "
           "space's decode (cells' dead nodes left out)\n");
    printf("%-8s %-11s %-16s %5s  %7s %6s  %8s %7s\n", "device", "net", "model", "N", "rho",
           "sd", "in+-10%", "MAPE");
    for (size_t di = 0; di < n_devs; di++) {
        int d = 0;
        while (d < N_DEV && strcmp(dev_names[d], devs[di]) != 0)
            d++;
        if (d == N_DEV)
            die(devs[di]);
        for (size_t ni = 0; ni < n_nets; ni++) {
            int net = 0;
            while (net < N_NETS && strcmp(net_names[net], nets[ni]) != 0)
                net++;
            if (net == N_NETS)
                die(nets[ni]);
            const double *fe = feat[net];
            for (size_t mi = 0; mi < n_models; mi++)
                for (size_t si = 0; si < N_SIZES; si++) {
                    double rho_s = 0, rho_ss = 0, within_s = 0, mape_s = 0;
                    for (int seed = 0; seed < seeds; seed++) {
                        shuffle(perm, N_CELLS, (uint64_t)seed + 1);
                        hwnas_latency_model *m;
                        if (hwnas_latency_model_new(&m, ctx, NULL, models[mi]))
                            die(models[mi]);
                        size_t n = sizes[si];
                        for (size_t i = 0; i < n; i++)
                            if (hwnas_latency_model_add_features(m, fe + perm[i] * NF,
                                                                 lat[d * N_CELLS + perm[i]]))
                                die("add");
                        if (hwnas_latency_model_fit(m))
                            die("fit");
                        size_t nt = 0;
                        double within = 0, mape = 0;
                        for (size_t i = n; i < N_CELLS; i++, nt++) {
                            if (hwnas_latency_model_predict_features(&pred[nt], m,
                                                                     fe + perm[i] * NF))
                                die("predict");
                            truth[nt] = lat[d * N_CELLS + perm[i]];
                            double e = fabs(pred[nt] - truth[nt]) / truth[nt];
                            within += e <= 0.10;
                            mape += e;
                        }
                        double rho = spearman(pred, truth, nt, idx, ra, rb);
                        rho_s += rho;
                        rho_ss += rho * rho;
                        within_s += within / (double)nt;
                        mape_s += mape / (double)nt;
                        hwnas_latency_model_free(m);
                    }
                    double k = seeds;
                    double sd = sqrt(fmax(0, rho_ss / k - (rho_s / k) * (rho_s / k)));
                    const char *mname = strncmp(models[mi], "predictor=", 10) == 0
                                            ? models[mi] + 10 : models[mi];
                    printf("%-8s %-11s %-16s %5zu  %7.4f %6.4f  %7.1f%% %6.1f%%\n",
                           dev_names[d], net_names[net], mname, sizes[si], rho_s / k, sd,
                           100 * within_s / k, 100 * mape_s / k);
                    fflush(stdout);
                }
        }
    }
    for (int k = 0; k < N_NETS; k++)
        free(feat[k]);
    free(lat);
    free(perm);
    free(idx);
    free(pred);
    free(truth);
    free(ra);
    free(rb);
    hwnas_context_free(ctx);
    return 0;
}
