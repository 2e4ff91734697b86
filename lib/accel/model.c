/*
 * The counting model: from a mapping to reads, fills and updates per level
 * and operand, then energy and cycles.
 *
 * A level's tile of an operand is the footprint of every loop at that level
 * and below (a box in the operand's index space; inputs' rows and columns
 * are sliding windows of P with R and Q with S). Over the loops above the
 * level the tile moves: each time loop j advances, the loops inside it wrap,
 * and the tile shifts by a fixed offset per dimension, so the new data the
 * level must receive is the tile minus its overlap with the previous one.
 * Summing (times each loop advances) x (new data) over the loops above
 * gives the fills; the reads of a level are what its children receive,
 * counted once per distinct word when the network multicasts; outputs flow
 * back up as updates, and a partial sum is read back from the parent each
 * time it returns except the first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "accel_internal.h"

/* Operand dimensions: 5 axes per operand, built from problem dimensions. */
enum { AX_MAX = 5 };

typedef struct nest {
    const hwnas__problem *p;
    const hwnas__mapping *m;
    double step[HWNAS__MAX_LOOPS]; /* product of inner bounds on the same dim */
    /* per level l: extents of the loops at l and below (the tile), and of
     * the tile with every temporal loop above it (what one instance sees) */
    double tile[HWNAS__MAX_LEVELS + 1][HWNAS__NDIMS];
    double life[HWNAS__MAX_LEVELS + 1][HWNAS__NDIMS];
    double inst[HWNAS__MAX_LEVELS + 1]; /* instances in use: spatial loops above */
} nest;

/* Fill the tables of n for an architecture of L levels. */
static void nest_tables(nest *n, int L)
{
    const hwnas__mapping *m = n->m;
    double e[HWNAS__NDIMS], above_t[HWNAS__NDIMS];
    for (int d = 0; d < HWNAS__NDIMS; d++)
        e[d] = above_t[d] = 1;
    /* tiles from the inside out; step[k]: product of the bounds inside k */
    int k = m->n - 1;
    for (int l = L; l >= 0; l--) {
        for (; k >= 0 && m->loop[k].level >= l; k--) {
            n->step[k] = e[m->loop[k].dim];
            e[m->loop[k].dim] *= (double)m->loop[k].bound;
        }
        memcpy(n->tile[l], e, sizeof e);
    }
    /* instances and lifetimes from the outside in */
    double inst = 1;
    k = 0;
    for (int l = 0; l <= L; l++) {
        for (; k < m->n && m->loop[k].level < l; k++) {
            if (m->loop[k].kind == HWNAS__TEMPORAL)
                above_t[m->loop[k].dim] *= (double)m->loop[k].bound;
            else
                inst *= (double)m->loop[k].bound;
        }
        n->inst[l] = inst;
        for (int d = 0; d < HWNAS__NDIMS; d++)
            n->life[l][d] = n->tile[l][d] * above_t[d];
    }
}

/* Operand o's axes from problem extents (or offsets): extents, and how a
 * shift of the problem indices moves each axis. */
static int axes_extent(const nest *n, int o, const double *e, double *ax)
{
    const hwnas__problem *p = n->p;
    switch (o) {
    case HWNAS__OP_W:
        ax[0] = e[HWNAS__D_G];
        ax[1] = e[HWNAS__D_M];
        ax[2] = e[HWNAS__D_C];
        ax[3] = e[HWNAS__D_R];
        ax[4] = e[HWNAS__D_S];
        return 5;
    case HWNAS__OP_I:
        ax[0] = e[HWNAS__D_N];
        ax[1] = e[HWNAS__D_G];
        ax[2] = e[HWNAS__D_C];
        ax[3] = (e[HWNAS__D_P] - 1) * (double)p->sh + (e[HWNAS__D_R] - 1) * (double)p->dh + 1;
        ax[4] = (e[HWNAS__D_Q] - 1) * (double)p->sw + (e[HWNAS__D_S] - 1) * (double)p->dw + 1;
        return 5;
    default:
        ax[0] = e[HWNAS__D_N];
        ax[1] = e[HWNAS__D_G];
        ax[2] = e[HWNAS__D_M];
        ax[3] = e[HWNAS__D_P];
        ax[4] = e[HWNAS__D_Q];
        return 5;
    }
}

static void axes_shift(const nest *n, int o, const double *s, double *ax)
{
    const hwnas__problem *p = n->p;
    switch (o) {
    case HWNAS__OP_W:
        ax[0] = s[HWNAS__D_G];
        ax[1] = s[HWNAS__D_M];
        ax[2] = s[HWNAS__D_C];
        ax[3] = s[HWNAS__D_R];
        ax[4] = s[HWNAS__D_S];
        break;
    case HWNAS__OP_I:
        ax[0] = s[HWNAS__D_N];
        ax[1] = s[HWNAS__D_G];
        ax[2] = s[HWNAS__D_C];
        ax[3] = s[HWNAS__D_P] * (double)p->sh + s[HWNAS__D_R] * (double)p->dh;
        ax[4] = s[HWNAS__D_Q] * (double)p->sw + s[HWNAS__D_S] * (double)p->dw;
        break;
    default:
        ax[0] = s[HWNAS__D_N];
        ax[1] = s[HWNAS__D_G];
        ax[2] = s[HWNAS__D_M];
        ax[3] = s[HWNAS__D_P];
        ax[4] = s[HWNAS__D_Q];
        break;
    }
}

static double volume(const double *ax)
{
    double v = 1;
    for (int i = 0; i < AX_MAX; i++)
        v *= ax[i];
    return v;
}

/* Words one instance of level l receives in all: its first tile, then at
 * each advance of a temporal loop above l (the loops inside it wrap) the
 * part of the tile that changed. As Timeloop counts it, a sliding window
 * shares its halo with the previous tile only when the advancing loop is
 * the innermost temporal loop above the level; after a wrap the tile is
 * fetched whole. */
static double received(const nest *n, int o, int l, const double *ext)
{
    const hwnas__mapping *m = n->m;
    double vol = volume(ext), total = vol;
    /* walk the temporal loops above l from the inside out, keeping how far
     * the loops inside the current one have moved when they wrap */
    double wrap[HWNAS__NDIMS] = {0};
    int innermost = 1;
    int idx[HWNAS__MAX_LOOPS], nt = 0;
    for (int j = 0; j < m->n && m->loop[j].level < l; j++)
        if (m->loop[j].kind == HWNAS__TEMPORAL)
            idx[nt++] = j;
    /* count of advances of loop t: (b_t - 1) x the product of bounds outside */
    double outer[HWNAS__MAX_LOOPS];
    double prod = 1;
    for (int t = 0; t < nt; t++) {
        outer[t] = prod;
        prod *= (double)m->loop[idx[t]].bound;
    }
    for (int t = nt - 1; t >= 0; t--) {
        const hwnas__loop *lj = &m->loop[idx[t]];
        double s[HWNAS__NDIMS];
        for (int d = 0; d < HWNAS__NDIMS; d++)
            s[d] = -wrap[d];
        s[lj->dim] += n->step[idx[t]];
        double ax[AX_MAX], over = 1;
        int moved = 0;
        axes_shift(n, o, s, ax);
        for (int a = 0; a < AX_MAX; a++) {
            double ov = ext[a] - fabs(ax[a]);
            over *= ov > 0 ? ov : 0;
            moved |= ax[a] != 0;
        }
        /* a loop that does not index o leaves the tile where it is */
        if (moved)
            total += (double)(lj->bound - 1) * outer[t] * (innermost ? vol - over : vol);
        innermost = 0;
        wrap[lj->dim] += (double)(lj->bound - 1) * n->step[idx[t]];
    }
    return total;
}

/* Product of the spatial loops between level l (inclusive) and level c
 * (exclusive) over dimensions that do not index operand o: children that
 * share data (multicast) or reduce partial sums (outputs) on a network
 * that can (a level's multicast setting covers both). */
static double shared_factor(const hwnas_accel *a, const hwnas__mapping *m, int o, int l,
                            int c)
{
    double f = 1;
    for (int k = 0; k < m->n; k++) {
        const hwnas__loop *lp = &m->loop[k];
        if (lp->kind != HWNAS__TEMPORAL && lp->level >= l && lp->level < c &&
            a->level[lp->level].multicast && !hwnas__dim_relevant(o, lp->dim))
            f *= (double)lp->bound;
    }
    return f;
}

double hwnas__objective(const hwnas__eval *ev, int objective)
{
    switch (objective) {
    case HWNAS__OBJ_CYCLES:
        return ev->cycles + ev->energy_pj * 1e-12; /* ties broken by energy */
    case HWNAS__OBJ_EDP:
        return ev->cycles * ev->energy_pj;
    default:
        return ev->energy_pj + ev->cycles * 1e-12;
    }
}

void hwnas__evaluate(const hwnas_accel *a, const hwnas__problem *p, const hwnas__mapping *m,
                     hwnas__eval *out)
{
    nest n;
    n.p = p;
    n.m = m;
    nest_tables(&n, a->n_levels);
    memset(out, 0, sizeof *out);
    double temporal = 1, spatial = 1;
    for (int k = 0; k < m->n; k++) {
        if (m->loop[k].kind == HWNAS__TEMPORAL)
            temporal *= (double)m->loop[k].bound;
        else
            spatial *= (double)m->loop[k].bound;
    }
    out->macs = (double)p->macs;
    out->mac_units = spatial;
    out->compute_cycles = temporal;
    out->utilisation = spatial / (double)a->mac_instances;
    int L = a->n_levels;
    for (int o = 0; o < HWNAS__NOPS; o++) {
        int prev = -1;         /* the nearest level above that keeps o */
        double prev_part = 0;  /* its partition (outputs), per instance */
        for (int l = 0; l <= L; l++) {
            int is_mac = l == L;
            if (!is_mac && !(m->keeps[l] & (1u << o)))
                continue;
            double inst, recv;
            if (is_mac) {
                /* no storage: every compute takes its operands anew */
                inst = spatial;
                recv = temporal;
            } else {
                double ext[AX_MAX];
                axes_extent(&n, o, n.tile[l], ext);
                inst = n.inst[l];
                recv = received(&n, o, l, ext);
                out->level[l].tile[o] = volume(ext);
                out->level[l].instances = inst;
            }
            double part = 0;
            if (!is_mac && o == HWNAS__OP_O) {
                double lax[AX_MAX];
                axes_extent(&n, o, n.life[l], lax);
                part = volume(lax);
            }
            if (!is_mac && l > 0) /* the backing store is never filled */
                out->level[l].fills[o] = inst * (recv - part);
            if (prev >= 0) {
                double f = shared_factor(a, m, o, prev, l);
                if (o != HWNAS__OP_O) {
                    /* one read feeds every child that needs the same data */
                    out->level[prev].reads[o] += inst * recv / f;
                } else {
                    /* children's partial sums reduce on the way up; every
                     * update but the first of each output reads it first */
                    double pinst = n.inst[prev];
                    double up = inst * recv / f;
                    out->level[prev].updates[o] += up;
                    out->level[prev].reads[o] += up - pinst * prev_part;
                }
            }
            if (!is_mac) {
                prev = l;
                prev_part = part;
            }
        }
    }
    /* Energy: per scalar access, an action moves a block of words. */
    double cycles = temporal;
    for (int l = 0; l < L; l++) {
        const hwnas__level *lv = &a->level[l];
        hwnas__level_stats *st = &out->level[l];
        double r = 0, w = 0, u = 0;
        for (int o = 0; o < HWNAS__NOPS; o++) {
            r += st->reads[o];
            w += st->fills[o];
            u += st->updates[o];
        }
        st->energy_pj = (r * lv->read_pj + w * lv->write_pj + u * lv->update_pj) / lv->block;
        double inst = st->instances > 0 ? st->instances : 1;
        double c = 0;
        double rbw = lv->read_bw, wbw = lv->write_bw;
        if (l == 0 && a->dram_gbps > 0) {
            double words_per_cycle =
                a->dram_gbps * 1e9 / (a->clock_mhz * 1e6) / ((double)lv->word_bits / 8.0);
            rbw = wbw = words_per_cycle;
        }
        if (rbw > 0 && r / inst / rbw > c)
            c = r / inst / rbw;
        if (wbw > 0 && (w + u) / inst / wbw > c)
            c = (w + u) / inst / wbw;
        st->cycles = c;
        if (c > cycles)
            cycles = c;
    }
    out->cycles = cycles;
    /* Leakage of the instances in use, over the layer's cycles (Accelergy
     * and Timeloop leave the MACs' out). */
    for (int l = 0; l < L; l++) {
        hwnas__level_stats *st = &out->level[l];
        st->energy_pj += a->level[l].leak_pj * cycles * n.inst[l];
        out->energy_pj += st->energy_pj;
    }
    out->mul_energy_pj = out->macs * a->mul_pj * p->mul_power;
    out->mac_energy_pj = out->mul_energy_pj + out->macs * a->add_pj;
    out->energy_pj += out->mac_energy_pj;
}

void hwnas__eval_add(hwnas__eval *t, const hwnas__eval *e, int n_levels)
{
    for (int l = 0; l < n_levels; l++) {
        for (int o = 0; o < HWNAS__NOPS; o++) {
            t->level[l].reads[o] += e->level[l].reads[o];
            t->level[l].fills[o] += e->level[l].fills[o];
            t->level[l].updates[o] += e->level[l].updates[o];
        }
        t->level[l].energy_pj += e->level[l].energy_pj;
        t->level[l].cycles += e->level[l].cycles;
    }
    t->macs += e->macs;
    t->mac_units += e->mac_units * e->compute_cycles; /* MAC-cycles busy */
    t->compute_cycles += e->compute_cycles;
    t->cycles += e->cycles;
    t->mac_energy_pj += e->mac_energy_pj;
    t->mul_energy_pj += e->mul_energy_pj;
    t->energy_pj += e->energy_pj;
}

const char *const hwnas__figure_names[HWNAS__N_FIGURES] = {
    "energy_uj", "energy_mac_uj", "energy_mul_uj", "latency_ms",       "cycles",   "edp",
    "utilisation", "dram_accesses", "macs",     "mac_energy_share", "area_mm2",
};
const char *const hwnas__figure_units[HWNAS__N_FIGURES] = {
    "uJ", "uJ", "uJ", "ms", "cycles", "uJ*ms", "ratio", "words", "MACs", "ratio", "mm2",
};

double hwnas__eval_figure(const hwnas__eval *e, int whole, int k, double clock_mhz,
                          int64_t mac_instances, double area_mm2)
{
    double ms = e->cycles / (clock_mhz * 1e3);
    switch (k) {
    case HWNAS__FIG_ENERGY: return e->energy_pj * 1e-6;
    case HWNAS__FIG_ENERGY_MAC: return e->mac_energy_pj * 1e-6;
    case HWNAS__FIG_ENERGY_MUL: return e->mul_energy_pj * 1e-6;
    case HWNAS__FIG_LATENCY: return ms;
    case HWNAS__FIG_CYCLES: return e->cycles;
    case HWNAS__FIG_EDP: return e->energy_pj * 1e-6 * ms;
    case HWNAS__FIG_UTIL: {
        double busy = whole ? e->mac_units : e->mac_units * e->compute_cycles;
        return e->cycles > 0 ? busy / ((double)mac_instances * e->cycles) : 0;
    }
    case HWNAS__FIG_DRAM: {
        double w = 0;
        for (int o = 0; o < HWNAS__NOPS; o++)
            w += e->level[0].reads[o] + e->level[0].fills[o] + e->level[0].updates[o];
        return w;
    }
    case HWNAS__FIG_MACS: return e->macs;
    case HWNAS__FIG_MAC_SHARE: return e->energy_pj > 0 ? e->mac_energy_pj / e->energy_pj : 0;
    default: return area_mm2;
    }
}

void hwnas__eval_reprice(hwnas__eval *ev, const hwnas_accel *a, const hwnas__problem *p)
{
    double mul = ev->macs * a->mul_pj * p->mul_power;
    ev->energy_pj += mul - ev->mul_energy_pj;
    ev->mac_energy_pj += mul - ev->mul_energy_pj;
    ev->mul_energy_pj = mul;
}
