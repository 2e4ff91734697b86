/* Where a training step's time goes, node kind by node kind: the engine
 * (internal API) runs a net's forward (training) and backward passes at
 * one thread on random inputs and times every node with the thread's CPU
 * clock, so the figures hold on a busy machine. Prints, per kind and
 * shape, the CPU ms per batch forward and backward, summed over the nodes
 * of that kind and shape, largest first, then the totals.
 *
 * usage: bench_nodes NET [--engine auto|openblas|onednn] [--batch 128]
 *                        [--reps 5] [--infer]
 * --infer times an inference pass instead (node by node: the convolution
 * + batch-norm folding of inference is off while nodes are timed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine_internal.h"

static double cpu_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct walk {
    double *bwd_ms;
    size_t prev; /* node whose backward ran since the last call (SIZE_MAX: none) */
    double t;
} walk;

/* Called before each node's backward: the time since the last call was the
 * previous node's. */
static int tick(void *ud, size_t k, int *rc)
{
    walk *w = ud;
    double t = cpu_clock();
    if (w->prev != (size_t)-1)
        w->bwd_ms[w->prev] += (t - w->t) * 1e3;
    w->prev = k;
    w->t = cpu_clock();
    *rc = HWNAS_OK;
    return 0;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_nodes: %s: %s\n", what, hwnas_error_last());
    exit(1);
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case HWNAS_NET_CONV2D: return "conv";
    case HWNAS_NET_DWCONV2D: return "dwconv";
    case HWNAS_NET_BATCHNORM: return "bn";
    case HWNAS_NET_MAXPOOL: return "maxpool";
    case HWNAS_NET_AVGPOOL: return "avgpool";
    case HWNAS_NET_ADD: return "add";
    case HWNAS_NET_LINEAR: return "linear";
    case HWNAS_NET_INPUT: return "input";
    case HWNAS_NET_ACT: return "act";
    case HWNAS_NET_GAVGPOOL: return "gap";
    default: return "other";
    }
}

typedef struct row {
    char key[128];
    double f, b;
    int count;
} row;

static int by_total(const void *a, const void *b)
{
    const row *x = a, *y = b;
    double p = x->f + x->b, q = y->f + y->b;
    return p < q ? 1 : p > q ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s NET [--engine E] [--batch N] [--reps R] [--infer]\n",
                argv[0]);
        return 2;
    }
    const char *engine = "auto";
    size_t batch = 128;
    int reps = 5, infer = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--infer") == 0)
            infer = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--engine") == 0)
            engine = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0)
            batch = (size_t)atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[++i]);
    }
    hwnas_context *ctx = NULL;
    char opts[64];
    snprintf(opts, sizeof opts, "threads=1;engine=%s", engine);
    if (hwnas_context_new(&ctx, opts) != HWNAS_OK)
        die("context");
    hwnas_net *net = NULL;
    if (hwnas_net_load(&net, ctx, argv[1]) != HWNAS_OK)
        die(argv[1]);
    hwnas__engine *e = NULL;
    if (hwnas__engine_new(&e, ctx, net, 1) != HWNAS_OK ||
        hwnas__engine_reserve(e, batch) != HWNAS_OK)
        die("engine");
    size_t in = e->nodes[e->input].size, k = e->nodes[e->logits].size;
    float *x = malloc(batch * in * sizeof *x), *dz = malloc(batch * k * sizeof *dz);
    double *fwd = calloc(e->n, sizeof *fwd), *bwd = calloc(e->n, sizeof *bwd);
    double *once = calloc(e->n, sizeof *once);
    row *rows = calloc(e->n, sizeof *rows);
    if (!x || !dz || !fwd || !bwd || !once || !rows)
        die("memory");
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < batch * in; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    for (size_t i = 0; i < batch * k; i++)
        dz[i] = (float)((i % 7) - 3) * 1e-3f;
    e->node_clock = cpu_clock;
    double total0 = 0;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up, not counted */
        double t0 = cpu_clock();
        e->node_ms = once;
        memset(once, 0, e->n * sizeof *once);
        if (hwnas__engine_forward(e, x, batch, !infer, (uint64_t)r + 1) != HWNAS_OK)
            die("forward");
        e->node_ms = NULL;
        walk w = {bwd, (size_t)-1, 0};
        double *keep = NULL;
        if (r < 0) { /* warm-up: time into a scratch row */
            keep = w.bwd_ms;
            w.bwd_ms = calloc(e->n, sizeof *w.bwd_ms);
        }
        if (!infer && hwnas__engine_backward_walk(e, dz, tick, &w) != HWNAS_OK)
            die("backward");
        if (!infer && w.prev != (size_t)-1)
            w.bwd_ms[w.prev] += (cpu_clock() - w.t) * 1e3;
        if (r < 0) {
            free(w.bwd_ms);
            w.bwd_ms = keep;
            continue;
        }
        total0 += (cpu_clock() - t0) * 1e3;
        for (size_t i = 0; i < e->n; i++)
            fwd[i] += once[i];
    }
    size_t nr = 0;
    double tf = 0, tb = 0;
    for (size_t i = 0; i < e->n; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        char key[128];
        if (nd->kind == HWNAS_NET_CONV2D || nd->kind == HWNAS_NET_DWCONV2D) {
            const hwnas__eng_node *xi = &e->nodes[nd->in[0]];
            snprintf(key, sizeof key, "%s %zux%zux%zu->%zux%zux%zu k%dx%d s%d g%d %s",
                     kind_name(nd->kind), xi->c, xi->h, xi->w, nd->c, nd->h, nd->w, nd->a.kh,
                     nd->a.kw, nd->a.sh, nd->a.groups,
                     nd->ops ? nd->ops->name : "openblas");
        } else {
            snprintf(key, sizeof key, "%s %zux%zux%zu%s", kind_name(nd->kind), nd->c, nd->h,
                     nd->w, nd->fused_act ? " +act" : "");
        }
        size_t j = 0;
        while (j < nr && strcmp(rows[j].key, key) != 0)
            j++;
        if (j == nr)
            snprintf(rows[nr++].key, sizeof rows[0].key, "%s", key);
        rows[j].f += fwd[i] / reps, rows[j].b += bwd[i] / reps, rows[j].count++;
        tf += fwd[i] / reps, tb += bwd[i] / reps;
    }
    qsort(rows, nr, sizeof *rows, by_total);
    printf("engine=%s batch=%zu %s, CPU ms per batch (one thread), %d reps\n",
           e->be_ops->name, batch, infer ? "inference" : "training", reps);
    printf("%8s %8s %8s %4s  %s\n", "fwd", "bwd", "sum", "n", "node kind, shape, backend");
    for (size_t j = 0; j < nr; j++)
        printf("%8.2f %8.2f %8.2f %4d  %s\n", rows[j].f, rows[j].b, rows[j].f + rows[j].b,
               rows[j].count, rows[j].key);
    printf("%8.2f %8.2f %8.2f       total of nodes; whole pass %.2f\n", tf, tb, tf + tb,
           total0 / reps);
    free(rows);
    free(once);
    free(fwd);
    free(bwd);
    free(x);
    free(dz);
    hwnas__engine_free(e);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
    return 0;
}
