/*
 * The inner search of nested co-design (codesign.h): for one network, an
 * in-memory ask/tell search over the hardware genes through the public
 * strategy API, each point priced by the accelerator estimator on that
 * network, the best feasible point kept, and the answer cached by the
 * network's hash.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "codesign.h"
#include "hwnas/accel.h"
#include "hwnas/strategy.h"

enum {
    OPT_STRATEGY, OPT_STRATEGY_OPTIONS, OPT_BUDGET, OPT_BATCH, OPT_OBJECTIVE, OPT_MAX_AREA,
    OPT_MAX_POWER, OPT_MAX_LATENCY, OPT_MAX_EDP, OPT_MAX_ENERGY, OPT_SEED, N_OPTIONS
};

static const hwnas__option_spec codesign_options[] = {
    [OPT_STRATEGY] = {"strategy", HWNAS_OPTION_STRING, "random", 0, 0, NULL,
                      "the inner search's strategy kind (random, ea, nsga2, reinforce)"},
    [OPT_STRATEGY_OPTIONS] = {"strategy_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                              "its options; its seed comes from seed and the network's hash"},
    [OPT_BUDGET] = {"budget", HWNAS_OPTION_INT, "64", 1, 1000000, NULL,
                    "accelerators the inner strategy proposes per network"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "8", 1, 4096, NULL,
                   "accelerators asked for at once"},
    [OPT_OBJECTIVE] = {"objective", HWNAS_OPTION_ENUM, "edp", 0, 0,
                       "edp|energy_uj|latency_ms|area_mm2|power_mw",
                       "what the best accelerator minimises (power_mw = energy_uj / "
                       "latency_ms)"},
    [OPT_MAX_AREA] = {"max_area_mm2", HWNAS_OPTION_FLOAT, "0", 0, 1e300, NULL,
                      "chip area limit in mm^2 (0: none)"},
    [OPT_MAX_POWER] = {"max_power_mw", HWNAS_OPTION_FLOAT, "0", 0, 1e300, NULL,
                       "average power limit in mW over one inference (0: none)"},
    [OPT_MAX_LATENCY] = {"max_latency_ms", HWNAS_OPTION_FLOAT, "0", 0, 1e300, NULL,
                         "latency limit in ms (0: none)"},
    [OPT_MAX_EDP] = {"max_edp", HWNAS_OPTION_FLOAT, "0", 0, 1e300, NULL,
                     "energy-delay product limit in uJ x ms (0: none)"},
    [OPT_MAX_ENERGY] = {"max_energy_uj", HWNAS_OPTION_FLOAT, "0", 0, 1e300, NULL,
                        "energy limit in uJ (0: none)"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of the inner searches (with each network's hash)"},
};

const hwnas__kind hwnas__codesign_kind = {
    "codesign", codesign_options, HWNAS_ARRAY_SIZE(codesign_options), NULL,
};

const char *const hwnas__codesign_metric_names[HWNAS__CS_N_METRICS] = {
    "edp", "energy_uj", "latency_ms", "area_mm2", "power_mw",
};

/* The objective enum's order is the metrics'. */
static const int limit_metric[] = {
    [OPT_MAX_AREA] = HWNAS__CS_AREA, [OPT_MAX_POWER] = HWNAS__CS_POWER,
    [OPT_MAX_LATENCY] = HWNAS__CS_LATENCY, [OPT_MAX_EDP] = HWNAS__CS_EDP,
    [OPT_MAX_ENERGY] = HWNAS__CS_ENERGY,
};

typedef struct cache_entry {
    uint64_t net;                /* the key: the network's hash */
    hwnas__codesign_result r;
    uint32_t *genes;             /* n_genes, owned */
} cache_entry;

struct hwnas__codesign {
    hwnas_context *ctx;
    const hwnas_space *hw;       /* the hardware space, borrowed */
    size_t n_genes;
    hwnas_estimator *est;        /* borrowed */
    hwnas_options *options;      /* owned */
    int64_t index[4];            /* est's edp, energy_uj, latency_ms, area_mm2 */
    size_t n_metrics;            /* of est */
    double limit[HWNAS__CS_N_METRICS]; /* 0 = none */
    pthread_mutex_t lock;        /* guards the cache */
    cache_entry *cache;          /* n_cache sorted by net */
    size_t n_cache, cap_cache;
};

void hwnas__codesign_free(hwnas__codesign *cs)
{
    if (!cs)
        return;
    for (size_t i = 0; i < cs->n_cache; i++)
        hwnas__free(cs->ctx, cs->cache[i].genes);
    hwnas__free(cs->ctx, cs->cache);
    pthread_mutex_destroy(&cs->lock);
    hwnas_options_free(cs->options);
    hwnas__free(cs->ctx, cs);
}

static int strategy_for(hwnas_strategy **out, const hwnas__codesign *cs, uint64_t seed)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, cs->ctx);
    /* a later key wins: the derived seed overrides one in the options */
    hwnas__strbuf_printf(&sb, "%s;seed=%llu", hwnas__options_str(cs->options,
                                                                  OPT_STRATEGY_OPTIONS),
                         (unsigned long long)seed);
    int rc = sb.failed ? HWNAS_ENOMEM
                       : hwnas_strategy_new(out, cs->ctx,
                                            hwnas__options_str(cs->options, OPT_STRATEGY),
                                            sb.data, cs->hw, 1);
    hwnas__strbuf_release(&sb);
    return rc;
}

int hwnas__codesign_new(hwnas__codesign **out, hwnas_context *ctx, const hwnas_space *space,
                        hwnas_estimator *est, const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "codesign: out is NULL");
    *out = NULL;
    if (!ctx || !space || !est)
        return hwnas__error(HWNAS_EINVAL, "codesign: ctx, space and estimator are required");
    const hwnas_space *hw = hwnas_space_accel_half(space);
    if (!hw)
        return hwnas__error(HWNAS_EINVAL, "codesign: %s has no hardware half to search (a "
                            "co-design space is space:accelerator or NET+accelerator)",
                            hwnas_space_kind(space));
    hwnas__codesign *cs = hwnas__calloc(ctx, 1, sizeof *cs);
    if (!cs)
        return HWNAS_ENOMEM;
    cs->ctx = ctx;
    cs->hw = hw;
    cs->n_genes = hwnas_space_gene_count(hw);
    cs->est = est;
    cs->n_metrics = hwnas_estimator_metric_count(est);
    if (pthread_mutex_init(&cs->lock, NULL) != 0) {
        hwnas__free(ctx, cs);
        return hwnas__error(HWNAS_ENOMEM, "codesign: cannot create a mutex");
    }
    int rc = hwnas__options_new_kind(&cs->options, ctx, &hwnas__codesign_kind, options);
    for (int k = 0; rc == HWNAS_OK && k < 4; k++) {
        cs->index[k] = hwnas_estimator_metric_index(est, hwnas__codesign_metric_names[k]);
        if (cs->index[k] < 0)
            rc = hwnas__error(HWNAS_EINVAL, "codesign: estimator %s has no metric %s (the "
                              "inner search prices with estimator:accelerator)",
                              hwnas_estimator_kind(est), hwnas__codesign_metric_names[k]);
    }
    for (int o = OPT_MAX_AREA; rc == HWNAS_OK && o <= OPT_MAX_ENERGY; o++)
        cs->limit[limit_metric[o]] = hwnas__options_float(cs->options, (size_t)o);
    /* a strategy that cannot be made fails here, not inside the search */
    hwnas_strategy *probe = NULL;
    if (rc == HWNAS_OK)
        rc = strategy_for(&probe, cs, 1);
    hwnas_strategy_free(probe);
    if (rc != HWNAS_OK) {
        hwnas__codesign_free(cs);
        return rc;
    }
    *out = cs;
    return HWNAS_OK;
}

const hwnas_space *hwnas__codesign_space(const hwnas__codesign *cs) { return cs ? cs->hw : NULL; }

/* ---- the cache ------------------------------------------------------- */

/* The position of net in the sorted cache (where it is or would go). */
static size_t cache_pos(const hwnas__codesign *cs, uint64_t net)
{
    size_t lo = 0, hi = cs->n_cache;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cs->cache[mid].net < net)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cache_get(hwnas__codesign *cs, uint64_t net, uint32_t *genes,
                     hwnas__codesign_result *out)
{
    pthread_mutex_lock(&cs->lock);
    size_t i = cache_pos(cs, net);
    int hit = i < cs->n_cache && cs->cache[i].net == net;
    if (hit) {
        *out = cs->cache[i].r;
        out->cached = 1;
        memcpy(genes, cs->cache[i].genes, cs->n_genes * sizeof *genes);
    }
    pthread_mutex_unlock(&cs->lock);
    return hit;
}

/* Remember a result; out of memory only skips caching (the result is
 * recomputed, the same, next time). */
static void cache_put(hwnas__codesign *cs, uint64_t net, const uint32_t *genes,
                      const hwnas__codesign_result *r)
{
    uint32_t *copy = hwnas__malloc(cs->ctx, (cs->n_genes ? cs->n_genes : 1) * sizeof *copy);
    if (!copy)
        return;
    memcpy(copy, genes, cs->n_genes * sizeof *copy);
    pthread_mutex_lock(&cs->lock);
    size_t i = cache_pos(cs, net);
    int have = i < cs->n_cache && cs->cache[i].net == net;
    if (!have && cs->n_cache == cs->cap_cache) {
        size_t cap = cs->cap_cache ? 2 * cs->cap_cache : 16;
        cache_entry *c = hwnas__realloc(cs->ctx, cs->cache, cap * sizeof *c);
        if (c) {
            cs->cache = c;
            cs->cap_cache = cap;
        }
    }
    if (!have && cs->n_cache < cs->cap_cache) {
        memmove(&cs->cache[i + 1], &cs->cache[i], (cs->n_cache - i) * sizeof *cs->cache);
        cs->cache[i].net = net;
        cs->cache[i].r = *r;
        cs->cache[i].genes = copy;
        cs->n_cache++;
        copy = NULL;
    }
    pthread_mutex_unlock(&cs->lock);
    hwnas__free(cs->ctx, copy);
}

size_t hwnas__codesign_cache_count(hwnas__codesign *cs)
{
    if (!cs)
        return 0;
    pthread_mutex_lock(&cs->lock);
    size_t n = cs->n_cache;
    pthread_mutex_unlock(&cs->lock);
    return n;
}

/* ---- one inner search ----------------------------------------------- */

/* A point seen in this search, by the hardware's content hash: strategies
 * propose the same accelerator again, and equal genes may make equal
 * hardware. */
typedef struct seen {
    uint64_t hw;
    int ok;
    double metric[HWNAS__CS_N_METRICS];
} seen;

typedef struct inner {
    hwnas__codesign *cs;
    const hwnas_net *net;
    double *values;  /* est's metric_count */
    seen *memo;      /* open addressing by hw, cap_memo slots (a power of two, more
                      * than twice the budget); ok = -1 marks an empty slot */
    size_t cap_memo;
} inner;

static seen *memo_slot(inner *in, uint64_t hw)
{
    size_t i = (size_t)hw & (in->cap_memo - 1);
    while (in->memo[i].ok != -1 && in->memo[i].hw != hw)
        i = (i + 1) & (in->cap_memo - 1);
    return &in->memo[i];
}

/* Price point g: ok = 0 when it makes no accelerator or does not map the
 * net (a failed candidate). Errors: HWNAS_ENOMEM only. */
static int price(inner *in, const uint32_t *g, seen *out, hwnas__codesign_result *r)
{
    hwnas__codesign *cs = in->cs;
    hwnas_accel *a = NULL;
    memset(out, 0, sizeof *out);
    int rc = hwnas_space_decode_accel(&a, cs->hw, g);
    if (rc == HWNAS_OK) {
        out->hw = hwnas_accel_hash(a);
        seen *slot = memo_slot(in, out->hw);
        if (slot->ok != -1) {
            *out = *slot;
            hwnas_accel_free(a);
            return HWNAS_OK;
        }
        rc = hwnas_estimator_estimate_on(cs->est, in->net, a, NULL, 0, in->values);
        hwnas_accel_free(a);
        r->evaluated++;
        if (rc == HWNAS_OK) {
            for (int k = 0; k < 4; k++)
                out->metric[k] = in->values[cs->index[k]];
            double e = out->metric[HWNAS__CS_ENERGY], t = out->metric[HWNAS__CS_LATENCY];
            out->metric[HWNAS__CS_POWER] = t > 0 ? e / t : 0;
            out->ok = 1;
            for (int k = 0; k < HWNAS__CS_N_METRICS; k++)
                out->ok &= isfinite(out->metric[k]);
        }
        *slot = *out;
    }
    if (rc == HWNAS_ENOMEM)
        return rc;
    return HWNAS_OK;
}

static double violation(const hwnas__codesign *cs, const double *m)
{
    double v = 0;
    for (int k = 0; k < HWNAS__CS_N_METRICS; k++)
        if (cs->limit[k] > 0 && m[k] > cs->limit[k])
            v += m[k] / cs->limit[k] - 1;
    return v;
}

/* Keep g as the answer if it beats the current one: any feasible point
 * beats an infeasible one, then the lower objective (or violation) wins;
 * ties keep the earlier point, so the answer does not depend on timing. */
static void consider(const hwnas__codesign *cs, const uint32_t *g, const seen *p, int obj,
                     uint32_t *genes, hwnas__codesign_result *r)
{
    double v = violation(cs, p->metric);
    int feasible = v == 0;
    int better = !r->found || (feasible && !r->feasible) ||
                 (feasible == r->feasible &&
                  (feasible ? p->metric[obj] < r->objective : v < r->violation));
    if (!better)
        return;
    r->found = 1;
    r->feasible = feasible;
    r->violation = v;
    r->objective = p->metric[obj];
    memcpy(r->metric, p->metric, sizeof r->metric);
    memcpy(genes, g, cs->n_genes * sizeof *genes);
}

static int run_inner(inner *in, hwnas_strategy *st, uint32_t *genes, hwnas__codesign_result *r)
{
    hwnas__codesign *cs = in->cs;
    size_t ng = cs->n_genes;
    size_t budget = (size_t)hwnas__options_int(cs->options, OPT_BUDGET);
    size_t batch = (size_t)hwnas__options_int(cs->options, OPT_BATCH);
    int obj = (int)hwnas__options_int(cs->options, OPT_OBJECTIVE);
    if (batch > budget)
        batch = budget;
    uint32_t *g = hwnas__malloc(cs->ctx, batch * (ng ? ng : 1) * sizeof *g);
    uint64_t *ids = hwnas__malloc(cs->ctx, batch * sizeof *ids);
    double *objs = hwnas__malloc(cs->ctx, batch * sizeof *objs);
    double *viol = hwnas__malloc(cs->ctx, batch * sizeof *viol);
    int *failed = hwnas__malloc(cs->ctx, batch * sizeof *failed);
    int rc = g && ids && objs && viol && failed ? HWNAS_OK : HWNAS_ENOMEM;
    int idle = 0;
    while (rc == HWNAS_OK && r->asked < budget) {
        size_t want = budget - r->asked < batch ? budget - r->asked : batch, count = 0;
        rc = hwnas_strategy_ask(st, want, g, ids, &count);
        if (rc != HWNAS_OK)
            break;
        if (count == 0) {
            /* nothing pending and nothing new: a small space is used up */
            if (++idle > 2)
                break;
            continue;
        }
        idle = 0;
        for (size_t k = 0; k < count && rc == HWNAS_OK; k++) {
            seen p;
            rc = price(in, g + k * ng, &p, r);
            r->asked++;
            failed[k] = !p.ok;
            objs[k] = p.ok ? p.metric[obj] : 0;
            viol[k] = p.ok ? violation(cs, p.metric) : 0;
            if (!p.ok)
                r->failed++;
            else
                consider(cs, g + k * ng, &p, obj, genes, r);
        }
        if (rc == HWNAS_OK)
            rc = hwnas_strategy_tell(st, count, ids, objs, viol, failed);
    }
    hwnas__free(cs->ctx, g);
    hwnas__free(cs->ctx, ids);
    hwnas__free(cs->ctx, objs);
    hwnas__free(cs->ctx, viol);
    hwnas__free(cs->ctx, failed);
    return rc;
}

int hwnas__codesign_best(hwnas__codesign *cs, const hwnas_net *net, uint32_t *genes,
                         hwnas__codesign_result *out)
{
    if (!cs || !net || !genes || !out)
        return hwnas__error(HWNAS_EINVAL, "codesign: cs, net, genes and out are required");
    memset(out, 0, sizeof *out);
    uint64_t nh = hwnas_net_hash(net);
    if (cache_get(cs, nh, genes, out))
        return HWNAS_OK;
    uint64_t key[2] = {(uint64_t)hwnas__options_int(cs->options, OPT_SEED), nh};
    uint64_t seed = (hwnas__hash_bytes(key, sizeof key) >> 1) | 1; /* 0 = the context's */
    hwnas_strategy *st = NULL;
    int rc = strategy_for(&st, cs, seed);
    size_t budget = (size_t)hwnas__options_int(cs->options, OPT_BUDGET);
    inner in = {cs, net, NULL, NULL, 0};
    if (rc == HWNAS_OK) {
        in.values = hwnas__malloc(cs->ctx, cs->n_metrics * sizeof *in.values);
        in.cap_memo = 4;
        while (in.cap_memo <= 2 * budget)
            in.cap_memo *= 2;
        in.memo = hwnas__malloc(cs->ctx, in.cap_memo * sizeof *in.memo);
        if (!in.values || !in.memo)
            rc = HWNAS_ENOMEM;
        for (size_t k = 0; rc == HWNAS_OK && k < in.cap_memo; k++)
            in.memo[k].ok = -1;
    }
    if (rc == HWNAS_OK)
        rc = run_inner(&in, st, genes, out);
    hwnas__free(cs->ctx, in.values);
    hwnas__free(cs->ctx, in.memo);
    hwnas_strategy_free(st);
    if (rc == HWNAS_OK)
        cache_put(cs, nh, genes, out);
    return rc;
}
