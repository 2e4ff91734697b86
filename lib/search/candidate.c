/*
 * What one archived genotype is, for the files that estimate, refine or
 * write it: its net, and under co-design its hardware and the key the
 * estimators see (the network half's genotype string, so that a table
 * keyed by network genotypes - NAS-Bench-201 - answers for composites).
 */
#include "hwnas/accel.h"
#include "search_internal.h"

void hwnas__candidate_init(hwnas__candidate *c)
{
    c->net = NULL;
    c->accel = NULL;
    c->key = NULL;
    c->own_key = NULL;
}

void hwnas__candidate_release(hwnas__candidate *c)
{
    hwnas_net_free(c->net);
    hwnas_accel_free(c->accel);
    hwnas_free(c->own_key);
    hwnas__candidate_init(c);
}

int hwnas__candidate_decode(const hwnas_search *s, const hwnas__record *r, int want_net,
                            hwnas__candidate *c)
{
    hwnas__candidate_init(c);
    c->key = r->key;
    int rc = HWNAS_OK;
    if (want_net) {
        rc = hwnas_net_new(&c->net, s->ctx);
        if (rc == HWNAS_OK)
            rc = hwnas_space_decode(s->space, r->genes, c->net);
    }
    if (rc == HWNAS_OK && hwnas_space_has_accel(s->space)) {
        const hwnas_space *net_half = hwnas_space_net_half(s->space);
        rc = hwnas_space_decode_accel(&c->accel, s->space, r->genes);
        if (rc == HWNAS_OK && net_half)
            rc = hwnas_space_format(net_half, r->genes, &c->own_key);
        if (rc == HWNAS_OK && c->own_key)
            c->key = c->own_key;
    }
    return rc;
}

int hwnas__candidate_halves(const hwnas_search *s, const uint32_t *genes, char **net,
                            char **hw)
{
    *net = *hw = NULL;
    const hwnas_space *n = hwnas_space_net_half(s->space), *h = hwnas_space_accel_half(s->space);
    int rc = n ? hwnas_space_format(n, genes, net) : HWNAS_OK;
    if (rc == HWNAS_OK && h)
        rc = hwnas_space_format(h, genes + (n ? hwnas_space_gene_count(n) : 0), hw);
    if (rc != HWNAS_OK) {
        hwnas_free(*net);
        hwnas_free(*hw);
        *net = *hw = NULL;
    }
    return rc;
}
