/*
 * Layer fusion: a layer's output that the next multiplying layer reads can
 * stay in the outermost on-chip level instead of going to DRAM and back.
 *
 * For a producer layer whose only consumer chain (activations, batch-norm,
 * pooling, dropout, flatten: one input each) ends in the next multiplying
 * layer, and when the producer's output and the consumer's input fit
 * together in that level: the producer's last write of each output to DRAM
 * and the consumer's first read of each input from DRAM (and its fill of
 * the on-chip level) go away, with their energy. Refetches beyond the
 * first still come from DRAM (the mapping was chosen for a level holding
 * tiles, not whole tensors), and cycles are left as they are: the saving
 * is a lower bound.
 */
#include "accel_internal.h"

/* The on-chip level that keeps inputs and outputs, nearest DRAM; -1. */
static int chip_level(const hwnas_accel *a)
{
    unsigned io = (1u << HWNAS__OP_I) | (1u << HWNAS__OP_O);
    for (int l = 1; l < a->n_levels; l++)
        if ((a->level[l].keeps & io) == io)
            return l;
    return -1;
}

static int passes_through(int kind)
{
    return kind == HWNAS_NET_ACT || kind == HWNAS_NET_BATCHNORM || kind == HWNAS_NET_MAXPOOL ||
           kind == HWNAS_NET_AVGPOOL || kind == HWNAS_NET_GAVGPOOL ||
           kind == HWNAS_NET_DROPOUT || kind == HWNAS_NET_FLATTEN;
}

/* Number of nodes that read node i. */
static size_t consumers(const hwnas_net *net, size_t i)
{
    size_t c = 0, n = hwnas_net_node_count(net);
    for (size_t k = i + 1; k < n; k++)
        for (size_t j = 0; j < hwnas_net_node_input_count(net, k); j++)
            c += hwnas_net_node_input(net, k, j) == (int64_t)i;
    return c;
}

void hwnas__fuse_layers(const hwnas_accel *a, const hwnas_net *net, const int64_t *node,
                        hwnas__eval *ev, size_t n, int64_t batch)
{
    int f = chip_level(a);
    if (f < 0)
        return;
    const hwnas__level *dram = &a->level[0], *chip = &a->level[f];
    for (size_t k = 1; k < n; k++) {
        /* walk back from the consumer's input to a multiplying node */
        int64_t at = hwnas_net_node_input(net, (size_t)node[k], 0);
        while (at >= 0 && passes_through(hwnas_net_node_kind(net, (size_t)at)) &&
               consumers(net, (size_t)at) == 1)
            at = hwnas_net_node_input(net, (size_t)at, 0);
        if (at != node[k - 1] || consumers(net, (size_t)at) != 1)
            continue;
        int64_t in_node = hwnas_net_node_input(net, (size_t)node[k], 0);
        double out = (double)hwnas_net_node_activations(net, (size_t)at) * (double)batch;
        double in = (double)hwnas_net_node_activations(net, (size_t)in_node) * (double)batch;
        if (chip->words > 0 && out + in > chip->words)
            continue;
        hwnas__eval *p = &ev[k - 1], *c = &ev[k];
        double w = p->level[0].updates[HWNAS__OP_O] < out ? p->level[0].updates[HWNAS__OP_O] : out;
        double r = c->level[0].reads[HWNAS__OP_I] < in ? c->level[0].reads[HWNAS__OP_I] : in;
        double fl = c->level[f].fills[HWNAS__OP_I] < r ? c->level[f].fills[HWNAS__OP_I] : r;
        double pe = w * dram->update_pj / dram->block;
        double ce = r * dram->read_pj / dram->block + fl * chip->write_pj / chip->block;
        p->level[0].updates[HWNAS__OP_O] -= w;
        p->level[0].energy_pj -= pe;
        p->energy_pj -= pe;
        c->level[0].reads[HWNAS__OP_I] -= r;
        c->level[f].fills[HWNAS__OP_I] -= fl;
        c->level[0].energy_pj -= r * dram->read_pj / dram->block;
        c->level[f].energy_pj -= fl * chip->write_pj / chip->block;
        c->energy_pj -= ce;
    }
}
