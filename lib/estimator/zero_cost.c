/*
 * estimator:zero-cost - zero-cost proxies of the untrained candidate
 * (lib/engine/zero_cost.h, doc/zero-cost.md): grad_norm, snip, grasp,
 * synflow, jacob_cov, naswot, each a metric named after it, from one
 * minibatch at initialisation.
 *
 * The minibatch is drawn once (by seed) from the dataset's training split
 * and normalised with that split's statistics; every candidate is scored
 * on the same images, each initialised from its own stream exactly as
 * estimator:accuracy initialises it (same seed option, same stream, same
 * weights).
 */
#include <stdio.h>
#include <string.h>

#include "engine/zero_cost.h"
#include "estimator_internal.h"
#include "hwnas/data.h"

enum { OPT_PROXIES, OPT_BATCH, OPT_DATASET, OPT_DATA_OPTIONS, OPT_SEED };

static const hwnas__option_spec zero_cost_options[] = {
    [OPT_PROXIES] = {"proxies", HWNAS_OPTION_STRING,
                     "grad_norm,snip,grasp,synflow,jacob_cov,naswot", 0, 0, NULL,
                     "comma-separated proxies to report (metrics of the same names): "
                     "grad_norm, snip, grasp, synflow, jacob_cov, naswot, naswot_pwl (naswot "
                     "over relu6, leaky_relu and prelu codes too)"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "64", 2, 4096, NULL,
                   "samples in the one minibatch every proxy is computed on"},
    [OPT_DATASET] = {"dataset", HWNAS_OPTION_STRING, "fashion-mnist", 0, 0, NULL,
                     "dataset name for hwnas_dataset_load (fashion-mnist, idx)"},
    [OPT_DATA_OPTIONS] = {"data_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                          "options of the dataset loader, e.g. \"dir=/path\" (quote them)"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of the minibatch and, mixed with each candidate's stream, of its "
                  "initialisation (as estimator:accuracy's)"},
};

const hwnas__kind hwnas__estimator_zero_cost_kind = {
    "estimator:zero-cost", zero_cost_options, HWNAS_ARRAY_SIZE(zero_cost_options),
    &hwnas__estimator_zero_cost_impl,
};

typedef struct zc_state {
    float *images;   /* batch normalised samples */
    int32_t *labels; /* their labels */
    size_t batch;
    size_t sample_size; /* floats per image */
    unsigned which;  /* 1 << HWNAS__ZC_* */
    int order[HWNAS__ZC_COUNT]; /* metric m is proxy order[m] */
} zc_state;

static void zc_fini(hwnas_estimator *e)
{
    zc_state *st = e->state;
    if (!st)
        return;
    hwnas__free(e->ctx, st->images);
    hwnas__free(e->ctx, st->labels);
    hwnas__free(e->ctx, st);
    e->state = NULL;
}

/* proxies=a,b,c into st->which and st->order, as metrics in that order. */
static int parse_proxies(hwnas_estimator *e, zc_state *st)
{
    const char *p = hwnas__options_str(e->options, OPT_PROXIES);
    size_t count = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int k = 0; k < HWNAS__ZC_COUNT; k++)
            if (strlen(hwnas__zc_names[k]) == len && strncmp(p, hwnas__zc_names[k], len) == 0)
                found = k;
        if (found < 0)
            return hwnas__error(HWNAS_EINVAL, "estimator:zero-cost: proxies: unknown proxy "
                                "'%.*s'; known: grad_norm, snip, grasp, synflow, jacob_cov, "
                                "naswot, naswot_pwl", (int)len, p);
        if (st->which & (1u << found))
            return hwnas__error(HWNAS_EINVAL, "estimator:zero-cost: proxies: '%s' named twice",
                                hwnas__zc_names[found]);
        st->which |= 1u << found;
        st->order[count++] = found;
        int rc = hwnas__estimator_add_metric(e, hwnas__zc_names[found], "");
        if (rc != HWNAS_OK)
            return rc;
        p += len;
        if (*p == ',' && *++p == '\0')
            return hwnas__error(HWNAS_EINVAL, "estimator:zero-cost: proxies: a trailing ','");
    }
    if (count == 0)
        return hwnas__error(HWNAS_EINVAL, "estimator:zero-cost: proxies is empty; name at "
                            "least one of grad_norm, snip, grasp, synflow, jacob_cov, naswot, "
                            "naswot_pwl");
    return HWNAS_OK;
}

/* The seeded minibatch, normalised with the training split's statistics. */
static int load_batch(hwnas_estimator *e, zc_state *st)
{
    char opts[1024];
    const char *extra = hwnas__options_str(e->options, OPT_DATA_OPTIONS);
    const char *name = hwnas__options_str(e->options, OPT_DATASET);
    if ((size_t)snprintf(opts, sizeof opts, "split=train%s%s", *extra ? ";" : "", extra) >=
        sizeof opts)
        return hwnas__error(HWNAS_EINVAL, "estimator:zero-cost: data_options too long");
    hwnas_dataset *all = NULL, *sub = NULL;
    /* Only named datasets with splits take split=; idx files are one set. */
    int rc = hwnas_dataset_load(&all, e->ctx, name, strcmp(name, "idx") == 0 ? extra : opts);
    size_t n = st->batch;
    if (rc == HWNAS_OK && hwnas_dataset_count(all) < n)
        rc = hwnas__error(HWNAS_EINVAL, "estimator:zero-cost: batch=%zu but the dataset holds "
                          "%zu samples", n, hwnas_dataset_count(all));
    double mean[64], std[64];
    if (rc == HWNAS_OK && hwnas_dataset_channels(all) > 64)
        rc = hwnas__error(HWNAS_EUNSUPPORTED, "estimator:zero-cost: more than 64 channels");
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_stats(mean, std, all);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_subset(&sub, all, n, HWNAS_DATASET_RANDOM,
                                  (uint64_t)hwnas__options_int(e->options, OPT_SEED));
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(sub, mean, std);
    size_t *pos = NULL;
    if (rc == HWNAS_OK) {
        size_t sz = st->sample_size = hwnas_dataset_sample_size(sub);
        st->images = hwnas__malloc(e->ctx, n * sz * sizeof *st->images);
        st->labels = hwnas__malloc(e->ctx, n * sizeof *st->labels);
        pos = hwnas__malloc(e->ctx, n * sizeof *pos);
        if (!st->images || !st->labels || !pos)
            rc = HWNAS_ENOMEM;
    }
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
        pos[i] = i;
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_batch(st->images, st->labels, sub, pos, n);
    hwnas__free(e->ctx, pos);
    hwnas_dataset_free(sub);
    hwnas_dataset_free(all);
    return rc;
}

static int zc_init(hwnas_estimator *e)
{
    zc_state *st = hwnas__calloc(e->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    e->state = st;
    st->batch = (size_t)hwnas__options_int(e->options, OPT_BATCH);
    int rc = parse_proxies(e, st);
    if (rc == HWNAS_OK)
        rc = load_batch(e, st);
    return rc;
}

static int zc_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                       uint64_t stream, double *values)
{
    (void)key;
    const zc_state *st = e->state;
    /* the candidate's own seed, as estimator:accuracy derives it */
    uint64_t x = (uint64_t)hwnas__options_int(e->options, OPT_SEED) ^
                 (stream * UINT64_C(0x9e3779b97f4a7c15));
    uint64_t seed = hwnas__splitmix64(&x) >> 11;
    hwnas__engine *eng = NULL;
    double out[HWNAS__ZC_COUNT] = {0};
    int rc = hwnas__engine_new(&eng, e->ctx, net, seed);
    if (rc == HWNAS_OK && eng->nodes[eng->input].size != st->sample_size)
        rc = hwnas__error(HWNAS_EINVAL, "estimator:zero-cost: the net's input holds %zu values, "
                          "the dataset's samples %zu", eng->nodes[eng->input].size,
                          st->sample_size);
    if (rc == HWNAS_OK)
        rc = hwnas__engine_reserve(eng, st->batch);
    if (rc == HWNAS_OK)
        rc = hwnas__zero_cost(out, eng, st->images, st->labels, st->batch, st->which, seed);
    hwnas__engine_free(eng);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t m = 0; m < e->n_metrics; m++)
        values[m] = out[st->order[m]];
    return HWNAS_OK;
}

const hwnas__estimator_impl hwnas__estimator_zero_cost_impl = {
    .init = zc_init,
    .fini = zc_fini,
    .estimate = zc_estimate,
};
