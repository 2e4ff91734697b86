/* Profiling layers on this host for latency LUTs: the engine runs the net
 * at batch 1 and every node is timed inside the engine's own forward pass
 * (its per-node timer, hwnas__engine.node_ms), so each layer is timed in
 * context: the same code path, fusions and cache state as the end-to-end
 * run the LUT predicts. A net whose convolutions and linear layers are all
 * low-bit runs as it is deployed: int8 on the lookup GEMM with the
 * multipliers it names (hwnas_quant), the other nodes in fp32. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getcpu, pthread affinity */
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "engine/int8_internal.h"
#include "hwnas/model.h"
#include "lut_internal.h"

/* Pin the calling thread to the CPU it runs on; restore afterwards. */
typedef struct pin_state {
    int pinned;
#if defined(__linux__)
    cpu_set_t old;
#endif
} pin_state;

static void pin_begin(pin_state *p)
{
    p->pinned = 0;
#if defined(__linux__)
    int cpu = sched_getcpu();
    if (cpu < 0 || pthread_getaffinity_np(pthread_self(), sizeof p->old, &p->old) != 0)
        return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    p->pinned = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
#endif
}

static void pin_end(pin_state *p)
{
#if defined(__linux__)
    if (p->pinned)
        pthread_setaffinity_np(pthread_self(), sizeof p->old, &p->old);
#endif
    p->pinned = 0;
}

/* The clock (seconds) latencies are read on. With one thread every kernel
 * runs on the calling thread, and its CPU time is the latency on a core of
 * its own: on a shared machine it leaves out the time slices the OS gives
 * other processes, which wall time would add at random. With more threads,
 * wall time (the workers' time is not the caller's). */
static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef double (*clock_fn)(void);

static clock_fn pick_clock(hwnas_context *ctx)
{
    return hwnas_context_threads(ctx) <= 1 ? thread_cpu_seconds : hwnas__now_seconds;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The fastest of n pass readings. A pass is timed as a whole: whatever
 * else the machine does can only add to it (lines other processes evicted,
 * interrupts), so the fastest reading is the least disturbed one, and the
 * one that stays put while the load of a shared machine comes and goes
 * (cell space, load 9-10 on 2 cores: 95% of nets within +-10% three runs
 * in a row, against 67-87% with medians). Nodes keep medians (a sum of
 * per-node minima would undercut every real pass); they are scaled to the
 * fastest instrumented pass. */
static double fastest(const double *v, size_t n)
{
    double m = v[0];
    for (size_t i = 1; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* What runs the net: the fp32 engine, or a quantised model whose engine
 * (q->eng) holds the timer and the fp32 nodes. */
typedef struct runner {
    hwnas__engine *e; /* the engine whose nodes are timed */
    hwnas__engine *own;
    hwnas_model *model;
    hwnas_quant *q;
} runner;

static int run(runner *r, const float *x)
{
    return r->q ? hwnas__quant_forward(r->q, x, 1, 0, 0) : hwnas__engine_forward(r->e, x, 1, 0, 0);
}

static void runner_fini(runner *r)
{
    hwnas_quant_free(r->q);
    hwnas_model_free(r->model);
    hwnas__engine_free(r->own);
}

/* 1 when every convolution and linear layer of net has at most 8 bits:
 * the net is deployed in int8 (a net mixing 32-bit layers runs in fp32). */
static int int8_net(const hwnas_net *net)
{
    size_t layers = 0;
    for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
        int k = hwnas_net_node_kind(net, i);
        if (k != HWNAS_NET_CONV2D && k != HWNAS_NET_DWCONV2D && k != HWNAS_NET_LINEAR)
            continue;
        if (hwnas_net_node_bits(net, i) > 8)
            return 0;
        layers++;
    }
    return layers > 0;
}

/* The int8 runner: random weights (seed 1), activation ranges calibrated
 * on 4 random samples (latency depends on neither); shapes: an fp32
 * engine of the net, for its input and logits sizes. */
static int setup_int8(runner *r, hwnas_context *ctx, const hwnas_net *net,
                      const hwnas__engine *shapes)
{
    int rc = hwnas_model_new(&r->model, ctx, net, 1);
    if (rc != HWNAS_OK)
        return rc;
    const hwnas__eng_node *in = &shapes->nodes[shapes->input];
    enum { CALIB = 4 };
    float *img = hwnas__malloc(ctx, CALIB * in->size * sizeof *img);
    int32_t labels[CALIB] = {0};
    if (!img)
        return HWNAS_ENOMEM;
    hwnas__rng g;
    hwnas__rng_seed(&g, 1, 1);
    for (size_t j = 0; j < CALIB * in->size; j++)
        img[j] = (float)hwnas__rng_normal(&g);
    hwnas_dataset *calib = NULL;
    rc = hwnas_dataset_from_float(&calib, ctx, img, labels, CALIB, in->c, in->h, in->w,
                                  shapes->nodes[shapes->logits].size);
    hwnas__free(ctx, img);
    if (rc == HWNAS_OK)
        rc = hwnas_quant_new(&r->q, r->model, NULL, calib, "calib_batches=1");
    hwnas_dataset_free(calib);
    if (rc == HWNAS_OK)
        rc = hwnas__quant_reserve(r->q, 1);
    if (rc == HWNAS_OK)
        r->e = r->q->eng;
    return rc;
}

/* A runner for net with buffers for one sample and a random input. */
static int setup(runner *r, float **out_x, hwnas_context *ctx, const hwnas_net *net)
{
    memset(r, 0, sizeof *r);
    *out_x = NULL;
    int rc = hwnas__engine_new(&r->own, ctx, net, 1);
    if (rc == HWNAS_OK)
        rc = hwnas__engine_reserve(r->own, 1);
    size_t in_size = rc == HWNAS_OK ? r->own->nodes[r->own->input].size : 0;
    if (rc == HWNAS_OK && int8_net(net)) {
        rc = setup_int8(r, ctx, net, r->own);
        hwnas__engine_free(r->own);
        r->own = NULL;
    } else {
        r->e = r->own;
    }
    float *x = rc == HWNAS_OK ? hwnas__malloc(ctx, in_size * sizeof *x) : NULL;
    if (!x) {
        runner_fini(r);
        return rc != HWNAS_OK ? rc : HWNAS_ENOMEM;
    }
    hwnas__rng g;
    hwnas__rng_seed(&g, 1, 0);
    for (size_t j = 0; j < in_size; j++)
        x[j] = (float)hwnas__rng_normal(&g);
    *out_x = x;
    return HWNAS_OK;
}

/* Run the warm-up passes, and choose how many passes one reading of the
 * pass clock spans (*out_k): enough for about a quarter of a millisecond,
 * so that the clock's own cost (a system call for CPU time) stays small
 * against what it measures, even for nets of a few microseconds. */
static int warm_up(uint32_t *out_k, runner *e, const float *x, uint32_t warmup)
{
    int rc = HWNAS_OK;
    for (uint32_t r = 0; r < warmup && rc == HWNAS_OK; r++)
        rc = run(e, x);
    double t0 = hwnas__now_seconds();
    if (rc == HWNAS_OK)
        rc = run(e, x);
    double ms = (hwnas__now_seconds() - t0) * 1e3;
    double k = ms > 0 ? ceil(0.25 / ms) : 256;
    *out_k = k < 1 ? 1 : k > 256 ? 256 : (uint32_t)k;
    return rc;
}

/* One reading: k plain passes on now(); *out_ms per pass. */
static int plain_passes(double *out_ms, runner *e, const float *x, clock_fn now, uint32_t k)
{
    int rc = HWNAS_OK;
    double t0 = now();
    for (uint32_t j = 0; j < k && rc == HWNAS_OK; j++)
        rc = run(e, x);
    *out_ms = (now() - t0) * 1e3 / k;
    return rc;
}

/* Fastest whole-pass time of `repeats` readings after `warmup`; times[]
 * scratch. */
static int time_passes(double *out_ms, runner *e, const float *x, uint32_t warmup,
                       uint32_t repeats, double *times)
{
    clock_fn now = pick_clock(e->e->ctx);
    uint32_t k;
    int rc = warm_up(&k, e, x, warmup);
    for (uint32_t r = 0; r < repeats && rc == HWNAS_OK; r++)
        rc = plain_passes(&times[r], e, x, now, k);
    if (rc == HWNAS_OK)
        *out_ms = fastest(times, repeats);
    return rc;
}

int hwnas_latency_lut_measure(double *out_ms, hwnas_context *ctx, const hwnas_net *net,
                              uint32_t warmup, uint32_t repeats)
{
    if (!out_ms || !ctx || !net || repeats == 0)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_measure: NULL argument or 0 "
                            "repeats");
    runner r;
    float *x;
    int rc = setup(&r, &x, ctx, net);
    if (rc != HWNAS_OK)
        return rc;
    double *times = hwnas__malloc(ctx, repeats * sizeof *times);
    if (!times)
        rc = HWNAS_ENOMEM;
    pin_state pin;
    pin_begin(&pin);
    if (rc == HWNAS_OK)
        rc = time_passes(out_ms, &r, x, warmup, repeats, times);
    pin_end(&pin);
    hwnas__free(ctx, times);
    hwnas__free(ctx, x);
    runner_fini(&r);
    return rc;
}

/* What one read of now() costs in ms: a node timed by the engine's chained
 * timer pays one read, which is not the node's own time. */
static double read_cost_ms(clock_fn now, double *scratch, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        double t0 = now(), t = t0;
        for (int j = 0; j < 32; j++)
            t = now();
        scratch[k] = (t - t0) * 1e3 / 32;
    }
    return median(scratch, n);
}

/* Add ms as a sample of node i's layer, plain and for the net's latency
 * class ctx; *layers sums what was added. */
static int add_node(hwnas_latency_lut *lut, const hwnas_net *net, size_t i, int ctx, double ms,
                    double *layers)
{
    char *key;
    int rc = hwnas__lut_run_key(&key, net, i, -1);
    if (rc != HWNAS_OK || !key) /* !key: runs inside its batch-norm's layer */
        return rc;
    *layers += ms;
    rc = hwnas__lut_add_sample(lut, key, ms);
    hwnas_free(key);
    if (rc == HWNAS_OK)
        rc = hwnas__lut_run_key(&key, net, i, ctx);
    if (rc == HWNAS_OK) {
        rc = hwnas__lut_add_sample(lut, key, ms);
        hwnas_free(key);
    }
    return rc;
}

/* An instrumented pass slower than this times the fastest one was
 * disturbed (a time slice lost, an interrupt, a neighbour's burst): its
 * node times are left out of the medians. */
#define DISTURBED 1.25
/* Rounds of `repeats` passes at most: another round runs while fewer than
 * half the passes so far are undisturbed. */
#define MAX_ROUNDS 3

/* Number of the first n instrumented passes that are not disturbed. */
static size_t undisturbed(const double *instr, size_t n)
{
    double f = fastest(instr, n);
    size_t kept = 0;
    for (size_t r = 0; r < n; r++)
        kept += instr[r] <= DISTURBED * f;
    return kept;
}

/*
 * Node times from `passes` instrumented passes: node_t[r * n + i] is node
 * i's wall time in pass r (read on the monotonic clock: the thread's CPU
 * time costs a system call, a microsecond on some hosts, which would swamp
 * small layers), instr[r] pass r as a whole on the pass clock. Each node
 * gets its median over the undisturbed passes less the clock read its
 * interval holds, all scaled so that they sum to the fastest instrumented
 * pass less its reads (see fastest(): the nodes' shares of the least
 * disturbed pass). Results go to out[0..n) (0 where fused[i]: an
 * activation run inside its batch-norm); col: passes scratch.
 */
void hwnas__lut_node_times(double *out, const uint8_t *fused, size_t n, const double *node_t,
                           const double *instr, size_t passes, double read, double read_pass,
                           double *col)
{
    size_t n_run = 0;
    double f = fastest(instr, passes), sum = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = 0;
        if (fused[i])
            continue;
        n_run++;
        size_t m = 0;
        for (size_t r = 0; r < passes; r++)
            if (instr[r] <= DISTURBED * f)
                col[m++] = node_t[r * n + i];
        double ms = median(col, m) - read;
        out[i] = ms > 0 ? ms : 0;
        sum += out[i];
    }
    double target = f - (double)(n_run + 1) * read - read_pass;
    double scale = sum > 0 && target > 0 ? target / sum : 1;
    for (size_t i = 0; i < n; i++)
        out[i] *= scale;
}

int hwnas_latency_lut_profile(hwnas_latency_lut *lut, const hwnas_net *net, uint32_t warmup,
                              uint32_t repeats)
{
    if (!lut || !net || repeats == 0)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_profile: NULL argument or 0 "
                            "repeats");
    hwnas_context *ctx = hwnas__lut_context(lut);
    runner rn;
    float *x;
    int rc = setup(&rn, &x, ctx, net);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__engine *e = rn.e;
    clock_fn now = pick_clock(ctx);
    size_t n = e->n, cap = (size_t)repeats * MAX_ROUNDS, nc = cap < 16 ? 16 : cap;
    /* node_t[r * n + i]: node i in instrumented pass r; pass[r], instr[r]:
     * plain and instrumented pass r; ms[i]: node i's time; col: scratch */
    double *node_t = hwnas__malloc(ctx, (n * cap + n) * sizeof *node_t);
    double *pass = hwnas__malloc(ctx, 2 * cap * sizeof *pass);
    double *col = hwnas__malloc(ctx, nc * sizeof *col);
    if (!node_t || !pass || !col)
        rc = HWNAS_ENOMEM;
    double *ms = node_t ? node_t + n * cap : NULL;
    double *instr = pass ? pass + cap : NULL;
    pin_state pin;
    pin_begin(&pin);
    uint32_t k = 1;
    if (rc == HWNAS_OK)
        rc = warm_up(&k, &rn, x, warmup);
    /* plain and instrumented passes alternate, so that both see the same
     * machine (clock frequency, neighbours' load); on a busy machine, more
     * rounds until at least half the instrumented passes are undisturbed */
    size_t done = 0;
    for (int round = 0; round < MAX_ROUNDS && rc == HWNAS_OK; round++) {
        for (uint32_t j = 0; j < repeats && rc == HWNAS_OK; j++, done++) {
            rc = plain_passes(&pass[done], &rn, x, now, k);
            double *row = node_t + done * n;
            memset(row, 0, n * sizeof *row); /* fused nodes keep 0 */
            e->node_ms = row;
            e->node_clock = hwnas__now_seconds;
            double t0 = now();
            if (rc == HWNAS_OK)
                rc = run(&rn, x);
            instr[done] = (now() - t0) * 1e3;
            e->node_ms = NULL;
        }
        if (rc == HWNAS_OK && 2 * undisturbed(instr, done) >= done)
            break;
    }
    double read = rc == HWNAS_OK ? read_cost_ms(hwnas__now_seconds, col, 16) : 0;
    double read_pass = rc == HWNAS_OK ? read_cost_ms(now, col, 16) : 0;
    pin_end(&pin);
    double whole = rc == HWNAS_OK ? fastest(pass, done) : 0, layers = 0;
    uint8_t *fused = rc == HWNAS_OK ? hwnas__malloc(ctx, n) : NULL;
    if (rc == HWNAS_OK && !fused)
        rc = HWNAS_ENOMEM;
    for (size_t i = 0; i < n && rc == HWNAS_OK; i++)
        fused[i] = e->nodes[i].fused != 0;
    if (rc == HWNAS_OK)
        hwnas__lut_node_times(ms, fused, n, node_t, instr, done, read, read_pass, col);
    hwnas__free(ctx, fused);
    int ctx_class = hwnas__lut_ctx_class(whole);
    for (size_t i = 0; i < n && rc == HWNAS_OK; i++)
        rc = add_node(lut, net, i, ctx_class, ms[i], &layers);
    if (rc == HWNAS_OK)
        rc = hwnas__lut_add_residual(lut, whole - layers);
    hwnas__free(ctx, node_t);
    hwnas__free(ctx, pass);
    hwnas__free(ctx, col);
    hwnas__free(ctx, x);
    runner_fini(&rn);
    return rc;
}
