/*
 * estimator:sleepy, a plugin for the MPI tests and benchmark: it sleeps a
 * fixed time per candidate (an estimate bound by latency, like a remote
 * measurement or a queue), draws one number from the candidate's random
 * stream (so a candidate estimated on another rank with another stream
 * would show), and fails the candidates whose key hashes to 0 modulo
 * fail_mod (a worker's error, recorded like any failed estimate). With
 * busy_dir set, it leaves busy_dir/busy.PID while it estimates, so that a
 * test knows which process to kill mid-estimate.
 *
 * Metrics: draw (in [0, 1) from the stream), slept_ms.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hwnas/hwnas.h>

typedef struct sleepy {
    double ms;
    int64_t fail_mod;
    char busy[4096]; /* the busy file's path, "" when none */
} sleepy;

static const hwnas_plugin_option options[] = {
    {sizeof(hwnas_plugin_option), "ms", HWNAS_OPTION_FLOAT, "0", 0, 1e7, NULL,
     "milliseconds slept per candidate"},
    {sizeof(hwnas_plugin_option), "fail_mod", HWNAS_OPTION_INT, "0", 0, 1e9, NULL,
     "fail the candidates whose key hash is 0 modulo this (0: none)"},
    {sizeof(hwnas_plugin_option), "busy_dir", HWNAS_OPTION_STRING, "", 0, 0, NULL,
     "a directory for busy.PID while estimating (\"\": none)"},
};

static int create(void **out_state, hwnas_context *ctx, const hwnas_options *opts,
                  void *plugin_data)
{
    (void)ctx;
    (void)plugin_data;
    sleepy *s = calloc(1, sizeof *s);
    const char *dir = NULL;
    if (!s) {
        hwnas_estimator_set_error("sleepy: out of memory");
        return 1;
    }
    if (hwnas_options_get_float(opts, "ms", &s->ms) != HWNAS_OK ||
        hwnas_options_get_int(opts, "fail_mod", &s->fail_mod) != HWNAS_OK ||
        hwnas_options_get_string(opts, "busy_dir", &dir) != HWNAS_OK) {
        free(s);
        return 1;
    }
    if (*dir)
        snprintf(s->busy, sizeof s->busy, "%s/busy.%ld", dir, (long)getpid());
    *out_state = s;
    return 0;
}

static void destroy(void *state, void *plugin_data)
{
    (void)plugin_data;
    free(state);
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int estimate(void *state, const hwnas_net *net, const char *key, uint64_t stream,
                    double *values)
{
    (void)net;
    const sleepy *s = state;
    if (*s->busy) {
        FILE *f = fopen(s->busy, "w");
        if (f)
            fclose(f);
    }
    struct timespec ts = {(time_t)(s->ms / 1e3), (long)((s->ms - 1e3 * (double)(time_t)(s->ms / 1e3)) * 1e6)};
    nanosleep(&ts, NULL);
    if (*s->busy)
        unlink(s->busy);
    uint64_t h = 1469598103934665603ull;
    for (const char *k = key ? key : ""; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    if (s->fail_mod > 0 && h % (uint64_t)s->fail_mod == 0) {
        hwnas_estimator_set_error("sleepy: this candidate fails by design");
        return 1;
    }
    values[0] = (double)(mix(stream) >> 11) * 0x1p-53;
    values[1] = s->ms;
    return 0;
}

static const hwnas_plugin_estimator estimators[] = {
    {sizeof(hwnas_plugin_estimator), "sleepy", "draw:1,slept_ms:ms", options,
     sizeof options / sizeof options[0], create, destroy, estimate},
};

static const hwnas_plugin plugin = {
    HWNAS_PLUGIN_ABI_VERSION, sizeof(hwnas_plugin), "sleepy", "1.0", NULL, NULL,
    estimators, sizeof estimators / sizeof estimators[0],
};

HWNAS_PLUGIN_EXPORT const hwnas_plugin *hwnas_plugin_entry(void);

HWNAS_PLUGIN_EXPORT const hwnas_plugin *hwnas_plugin_entry(void) { return &plugin; }
