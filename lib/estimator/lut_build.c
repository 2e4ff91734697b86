/* Profiling layers on this host for latency LUTs: the fp32 engine runs the
 * net at batch 1 and every node's kernel is timed in place, inside a real
 * forward pass, so caches hold what they would hold in deployment. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getcpu, pthread affinity */
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "engine/engine_internal.h"
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

static int run_node(hwnas__engine *e, size_t i, const float *x)
{
    switch (e->nodes[i].kind) {
    case HWNAS_NET_INPUT:
        memcpy(e->act[i], x, e->nodes[i].size * sizeof(float));
        return HWNAS_OK;
    case HWNAS_NET_CONV2D:
    case HWNAS_NET_DWCONV2D:
        return hwnas__k_conv_forward(e, i);
    case HWNAS_NET_LINEAR:
        return hwnas__k_linear_forward(e, i);
    default:
        return hwnas__k_forward(e, i);
    }
}

/* An engine for net with buffers for one sample and a random input. */
static int setup(hwnas__engine **out_e, float **out_x, hwnas_context *ctx, const hwnas_net *net)
{
    *out_e = NULL;
    *out_x = NULL;
    hwnas__engine *e;
    int rc = hwnas__engine_new(&e, ctx, net, 1);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas__engine_reserve(e, 1);
    float *x = rc == HWNAS_OK ? hwnas__malloc(ctx, e->nodes[e->input].size * sizeof *x) : NULL;
    if (!x) {
        hwnas__engine_free(e);
        return rc != HWNAS_OK ? rc : HWNAS_ENOMEM;
    }
    hwnas__rng r;
    hwnas__rng_seed(&r, 1, 0);
    for (size_t j = 0; j < e->nodes[e->input].size; j++)
        x[j] = (float)hwnas__rng_normal(&r);
    *out_e = e;
    *out_x = x;
    return HWNAS_OK;
}

/* Median whole-pass time over `repeats` after `warmup`; times[] scratch. */
static int time_passes(double *out_ms, hwnas__engine *e, const float *x, uint32_t warmup,
                       uint32_t repeats, double *times)
{
    for (uint32_t r = 0; r < warmup; r++) {
        int rc = hwnas__engine_forward(e, x, 1, 0, 0);
        if (rc != HWNAS_OK)
            return rc;
    }
    for (uint32_t r = 0; r < repeats; r++) {
        double t0 = hwnas__now_seconds();
        int rc = hwnas__engine_forward(e, x, 1, 0, 0);
        if (rc != HWNAS_OK)
            return rc;
        times[r] = (hwnas__now_seconds() - t0) * 1e3;
    }
    *out_ms = median(times, repeats);
    return HWNAS_OK;
}

int hwnas_latency_lut_measure(double *out_ms, hwnas_context *ctx, const hwnas_net *net,
                              uint32_t warmup, uint32_t repeats)
{
    if (!out_ms || !ctx || !net || repeats == 0)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_measure: NULL argument or 0 "
                            "repeats");
    hwnas__engine *e;
    float *x;
    int rc = setup(&e, &x, ctx, net);
    if (rc != HWNAS_OK)
        return rc;
    double *times = hwnas__malloc(ctx, repeats * sizeof *times);
    if (!times)
        rc = HWNAS_ENOMEM;
    pin_state pin;
    pin_begin(&pin);
    if (rc == HWNAS_OK)
        rc = time_passes(out_ms, e, x, warmup, repeats, times);
    pin_end(&pin);
    hwnas__free(ctx, times);
    hwnas__free(ctx, x);
    hwnas__engine_free(e);
    return rc;
}

int hwnas_latency_lut_profile(hwnas_latency_lut *lut, const hwnas_net *net, uint32_t warmup,
                              uint32_t repeats)
{
    if (!lut || !net || repeats == 0)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_profile: NULL argument or 0 "
                            "repeats");
    hwnas_context *ctx = hwnas__lut_context(lut);
    hwnas__engine *e;
    float *x;
    int rc = setup(&e, &x, ctx, net);
    if (rc != HWNAS_OK)
        return rc;
    size_t n = e->n;
    /* node_t[i * repeats + r]: node i in instrumented pass r */
    double *node_t = hwnas__malloc(ctx, n * repeats * sizeof *node_t);
    double *times = hwnas__malloc(ctx, repeats * sizeof *times);
    if (!node_t || !times)
        rc = HWNAS_ENOMEM;
    pin_state pin;
    pin_begin(&pin);
    double whole = 0;
    if (rc == HWNAS_OK)
        rc = time_passes(&whole, e, x, warmup, repeats, times);
    if (rc == HWNAS_OK) {
        e->batch = 1;
        e->train = 0;
        e->step = 0;
        for (uint32_t r = 0; r < repeats && rc == HWNAS_OK; r++) {
            double t0 = hwnas__now_seconds();
            for (size_t i = 0; i < n && rc == HWNAS_OK; i++) {
                rc = run_node(e, i, x);
                double t1 = hwnas__now_seconds();
                node_t[i * repeats + r] = (t1 - t0) * 1e3;
                t0 = t1;
            }
        }
    }
    pin_end(&pin);
    double layers = 0;
    for (size_t i = 0; i < n && rc == HWNAS_OK; i++) {
        double ms = median(node_t + i * repeats, repeats);
        layers += ms;
        char *key;
        rc = hwnas_latency_lut_layer_key(&key, net, i);
        if (rc == HWNAS_OK) {
            rc = hwnas__lut_add_sample(lut, key, ms);
            hwnas_free(key);
        }
    }
    if (rc == HWNAS_OK)
        rc = hwnas__lut_add_residual(lut, whole - layers);
    hwnas__free(ctx, node_t);
    hwnas__free(ctx, times);
    hwnas__free(ctx, x);
    hwnas__engine_free(e);
    return rc;
}
