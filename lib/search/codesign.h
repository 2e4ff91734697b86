/*
 * libhwnas search - the inner search of nested co-design (issue 16): for
 * one network, the best accelerator of a hardware space under constraints,
 * found by any strategy over the hardware genes with its own budget.
 * Not installed; not part of the ABI.
 *
 * The result depends only on the options, the hardware space, the
 * estimator's setting and the network's hash: the inner strategy's seed is
 * derived from (seed, hwnas_net_hash(net)) and the candidates are
 * evaluated in the order asked. A resumed search therefore gets exactly
 * what an uninterrupted one got without journaling inner searches; results
 * are also cached by network hash for the life of the object.
 *
 * Typical use from the search loop, per network the outer strategy gives:
 *
 *     hwnas__codesign_best(cs, net, hw_genes, &r);
 *     if (!r.feasible) -> discard the network without training it
 *     else hwnas_space_decode_accel(&accel, hw_space, hw_genes)
 *          and estimate the net on it (hwnas_estimator_estimate_on)
 */
#ifndef HWNAS_SEARCH_CODESIGN_H
#define HWNAS_SEARCH_CODESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "hwnas/estimator.h"
#include "hwnas/net.h"
#include "hwnas/space.h"

/* The options' kind: "codesign" (hwnas describe codesign). */
extern const hwnas__kind hwnas__codesign_kind;

typedef struct hwnas__codesign hwnas__codesign;

/* The metrics the inner search reads, in this order. power_mw is the
 * average power of one inference: energy_uj / latency_ms. */
enum {
    HWNAS__CS_EDP,
    HWNAS__CS_ENERGY,
    HWNAS__CS_LATENCY,
    HWNAS__CS_AREA,
    HWNAS__CS_POWER,
    HWNAS__CS_N_METRICS
};
extern const char *const hwnas__codesign_metric_names[HWNAS__CS_N_METRICS];

typedef struct hwnas__codesign_result {
    int feasible;          /* 1: genes is the best accelerator within the constraints */
    int found;             /* 1: genes is some accelerator the net maps onto (feasible or
                            * the least violating); 0: none could be built or mapped */
    double metric[HWNAS__CS_N_METRICS]; /* of genes, when found */
    double objective;      /* metric[objective option] of genes, when found */
    double violation;      /* of genes: 0 when feasible, else the sum over the violated
                            * constraints of value / limit - 1 */
    size_t asked;          /* hardware points the strategy proposed */
    size_t evaluated;      /* distinct points estimated */
    size_t failed;         /* points that made no accelerator or did not map the net */
    int cached;            /* 1: this result came from the cache */
} hwnas__codesign_result;

/*
 * An inner search over space's hardware half (hwnas_space_accel_half: a
 * space:accelerator, or a composite's), pricing with est (borrowed, must
 * outlive cs; it needs the metrics energy_uj, latency_ms, edp and
 * area_mm2: estimator:accelerator), options "key=value;..." of the kind
 * codesign (strategy, strategy_options, budget, batch, objective, the
 * max_* constraints, seed). Errors: HWNAS_EINVAL (a space without hardware,
 * an estimator without those metrics, a bad option, an unknown strategy
 * kind: checked here by creating one), HWNAS_ENOMEM.
 */
int hwnas__codesign_new(hwnas__codesign **out, hwnas_context *ctx, const hwnas_space *space,
                        hwnas_estimator *est, const char *options);
void hwnas__codesign_free(hwnas__codesign *cs);

/* The hardware space the genes belong to (borrowed). */
const hwnas_space *hwnas__codesign_space(const hwnas__codesign *cs);

/*
 * The best accelerator for net: its genes (of the hardware space) into
 * genes[gene_count] when out->found, and what the search saw in *out.
 * "None feasible" is not an error: out->feasible is 0 (and the network
 * should be discarded). Thread-safe: several threads may run inner
 * searches on one cs at once (for different or equal nets).
 * Errors: HWNAS_EINVAL (NULL argument), HWNAS_ENOMEM; errors of the inner
 * strategy. Estimates that fail count as failed points, not errors.
 */
int hwnas__codesign_best(hwnas__codesign *cs, const hwnas_net *net, uint32_t *genes,
                         hwnas__codesign_result *out);

/* Networks in the cache. */
size_t hwnas__codesign_cache_count(hwnas__codesign *cs);

#endif /* HWNAS_SEARCH_CODESIGN_H */
