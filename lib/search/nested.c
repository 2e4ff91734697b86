/*
 * Nested co-design (doc/search.md): the outer strategy asks for network
 * genotypes only; for each one an inner search (codesign.c) finds the
 * network's best accelerator, and the archive records the pair - the full
 * composite genotype, so that the journal, the results and a resume all
 * carry the hardware. A network with no accelerator within the inner
 * limits is discarded before any estimator runs.
 */
#include <stdio.h>
#include <string.h>

#include "codesign.h"
#include "search_internal.h"

/* The search's estimator that prices hardware: the first with the metrics
 * the inner search reads. */
static hwnas_estimator *pricing_estimator(const hwnas_search *s)
{
    for (size_t e = 0; e < s->n_est; e++) {
        int all = 1;
        for (int k = 0; k < HWNAS__CS_POWER; k++)
            all &= hwnas_estimator_metric_index(s->est[e], hwnas__codesign_metric_names[k]) >= 0;
        if (all)
            return s->est[e];
    }
    return NULL;
}

int hwnas__nested_setup(hwnas_search *s)
{
    if (!s->nested || s->codesign)
        return HWNAS_OK;
    hwnas_estimator *est = pricing_estimator(s);
    if (!est)
        return hwnas__error(HWNAS_EINVAL, "search: codesign=nested prices each network's "
                            "accelerators with an estimator that gives edp, energy_uj, "
                            "latency_ms and area_mm2: add estimator:accelerator");
    /* The inner seed follows the search's unless codesign_options sets one
     * (a later key wins). */
    uint64_t seed = (uint64_t)hwnas__options_int(s->options, OPT_SEED);
    if (seed == 0)
        seed = hwnas_context_seed(s->ctx);
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_printf(&sb, "seed=%llu;%s", (unsigned long long)(seed ? seed : 1),
                         hwnas__options_str(s->options, OPT_CODESIGN_OPTIONS));
    int rc = sb.failed ? HWNAS_ENOMEM
                       : hwnas__codesign_new(&s->codesign, s->ctx, s->space, est, sb.data);
    hwnas__strbuf_release(&sb);
    return rc;
}

typedef struct batch {
    hwnas_search *s;
    const uint32_t *asked;
    const unsigned char *skip;
    uint32_t *full;
    char **why;
    int *rc;  /* per slot: an error that stops the batch */
} batch;

/* Why the network is discarded, from what the inner search saw. */
static char *reason(const hwnas_search *s, const hwnas__codesign_result *r)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    if (!r->found)
        hwnas__strbuf_printf(&sb, "nested co-design: none of the %zu accelerators the inner "
                             "search tried runs this network (%zu made no accelerator or "
                             "mapped no layer); discarded without estimation",
                             r->asked, r->failed);
    else
        hwnas__strbuf_printf(&sb, "nested co-design: no accelerator within the inner limits "
                             "(codesign_options) among %zu tried; the least violating has "
                             "area_mm2 %.4g, power_mw %.4g, latency_ms %.4g, edp %.4g, "
                             "energy_uj %.4g (violation %.4g); discarded without estimation",
                             r->asked, r->metric[HWNAS__CS_AREA], r->metric[HWNAS__CS_POWER],
                             r->metric[HWNAS__CS_LATENCY], r->metric[HWNAS__CS_EDP],
                             r->metric[HWNAS__CS_ENERGY], r->violation);
    if (!sb.failed)
        return sb.data;
    hwnas__strbuf_release(&sb);
    return NULL;
}

static int complete_task(size_t i, size_t worker, void *data)
{
    (void)worker;
    batch *b = data;
    hwnas_search *s = b->s;
    if (b->skip[i])
        return 0;
    const hwnas_space *net_half = hwnas_space_net_half(s->space);
    const uint32_t *g = b->asked + i * s->n_ask;
    uint32_t *full = b->full + i * s->n_genes;
    memcpy(full, g, s->n_ask * sizeof *full);
    memset(full + s->n_ask, 0, (s->n_genes - s->n_ask) * sizeof *full);
    hwnas_net *net = NULL;
    int rc = hwnas_net_new(&net, s->ctx);
    if (rc == HWNAS_OK)
        rc = hwnas_space_decode(net_half, g, net);
    if (rc != HWNAS_OK && rc != HWNAS_ENOMEM) {
        /* the record fails as any undecodable genotype does, at the estimate */
        hwnas_net_free(net);
        return 0;
    }
    hwnas__codesign_result r;
    if (rc == HWNAS_OK)
        rc = hwnas__codesign_best(s->codesign, net, full + s->n_ask, &r);
    hwnas_net_free(net);
    if (rc == HWNAS_OK && !r.feasible) {
        b->why[i] = reason(s, &r);
        if (!b->why[i])
            rc = HWNAS_ENOMEM;
    }
    if (rc != HWNAS_OK && rc != HWNAS_ENOMEM) /* the message is on this thread */
        b->why[i] = hwnas__strdup(s->ctx, hwnas_error_last());
    b->rc[i] = rc;
    return 0;
}

int hwnas__nested_complete(hwnas_search *s, const uint32_t *asked, const unsigned char *skip,
                           size_t n, uint32_t *full, char **why)
{
    int *rcs = hwnas__calloc(s->ctx, n + 1, sizeof *rcs);
    if (!rcs)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        why[i] = NULL;
    batch b = {s, asked, skip, full, why, rcs};
    int rc = hwnas_parallel_for(s->ctx, n, complete_task, &b);
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
        if (rcs[i] != HWNAS_OK)
            rc = why[i] ? hwnas__error(rcs[i], "%s", why[i]) : rcs[i];
    hwnas__free(s->ctx, rcs);
    if (rc != HWNAS_OK)
        for (size_t i = 0; i < n; i++) {
            hwnas__free(s->ctx, why[i]);
            why[i] = NULL;
        }
    return rc;
}
