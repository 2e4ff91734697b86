/*
 * The mapper: a search over the legal mappings of one layer.
 *
 * A layer with few ways to spread its factors over the slots (at most half
 * the budget) has them all tried, each with one loop order per level, and
 * the rest of the budget climbs from the best. Otherwise:
 * A candidate assigns every prime factor of every dimension to a slot (a
 * level's temporal loops, or its spatial loops along X or Y) allowed by
 * the dataflow constraints, and orders each level's temporal loops. The
 * search samples candidates that fill the array first (spatial slots take
 * factors greedily, in random order), repairs those whose tiles overflow a
 * level by moving factors outwards, then climbs from the best by moving
 * one factor or swapping two loops. The random stream is seeded from the
 * seed and the layer's shape, so a layer maps the same way whatever else
 * is mapped, in whatever order or thread.
 */
#include <math.h>
#include <string.h>

#include "accel_internal.h"

#define MAX_SLOTS (3 * HWNAS__MAX_LEVELS)
#define MAX_PRIMES 40

typedef struct slot {
    int level, kind;
    int64_t cap; /* fan-out for spatial slots; unbounded for temporal */
} slot;

typedef struct space {
    const hwnas_accel *a;
    const hwnas__problem *p;
    int n_slots;
    slot s[MAX_SLOTS];
    unsigned allowed[MAX_SLOTS]; /* dims allowed in the slot */
    int n_primes[HWNAS__NDIMS];
    int64_t primes[HWNAS__NDIMS][MAX_PRIMES];
} space;

typedef struct genome {
    int64_t f[HWNAS__NDIMS][MAX_SLOTS];
    int8_t order[HWNAS__MAX_LEVELS][HWNAS__NDIMS]; /* temporal order, outer first */
} genome;

static int factorize(int64_t n, int64_t *out)
{
    int k = 0;
    for (int64_t q = 2; q * q <= n && k < MAX_PRIMES; q++)
        while (n % q == 0 && k < MAX_PRIMES) {
            out[k++] = q;
            n /= q;
        }
    if (n > 1 && k < MAX_PRIMES)
        out[k++] = n;
    return k;
}

static int64_t slot_product(const genome *g, int s)
{
    int64_t v = 1;
    for (int d = 0; d < HWNAS__NDIMS; d++)
        v *= g->f[d][s];
    return v;
}

static void shuffle_ints(hwnas__rng *r, int *v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)hwnas__rng_below(r, (uint64_t)i + 1);
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* Temporal order of level l: the dataflow's fixed order first, then the
 * other dims in random order. */
static void random_order(const space *sp, hwnas__rng *r, genome *g, int l)
{
    const hwnas__level *lv = &sp->a->level[l];
    int used[HWNAS__NDIMS] = {0}, n = 0, rest[HWNAS__NDIMS], nr = 0;
    for (int k = 0; k < lv->order_len; k++) {
        g->order[l][n++] = (int8_t)lv->order[k];
        used[lv->order[k]] = 1;
    }
    for (int d = 0; d < HWNAS__NDIMS; d++)
        if (!used[d])
            rest[nr++] = d;
    shuffle_ints(r, rest, nr);
    /* a fixed order names the outer loops; the free ones go inside */
    for (int k = 0; k < nr; k++)
        g->order[l][n++] = (int8_t)rest[k];
}

static void to_mapping(const space *sp, const genome *g, hwnas__mapping *m)
{
    const hwnas_accel *a = sp->a;
    memset(m, 0, sizeof *m);
    for (int l = 0; l < a->n_levels; l++) {
        m->keeps[l] = a->level[l].keeps;
        for (int s = 0; s < sp->n_slots; s++) {
            if (sp->s[s].level != l || sp->s[s].kind != HWNAS__TEMPORAL)
                continue;
            for (int k = 0; k < HWNAS__NDIMS; k++) {
                int d = g->order[l][k];
                if (g->f[d][s] > 1)
                    m->loop[m->n++] = (hwnas__loop){(int8_t)d, HWNAS__TEMPORAL, (int8_t)l,
                                                    g->f[d][s]};
            }
        }
        for (int kind = HWNAS__SPATIAL_X; kind <= HWNAS__SPATIAL_Y; kind++)
            for (int s = 0; s < sp->n_slots; s++) {
                if (sp->s[s].level != l || sp->s[s].kind != kind)
                    continue;
                for (int d = 0; d < HWNAS__NDIMS; d++)
                    if (g->f[d][s] > 1)
                        m->loop[m->n++] = (hwnas__loop){(int8_t)d, (int8_t)kind, (int8_t)l,
                                                        g->f[d][s]};
            }
    }
}

/* Words level l needs for the tiles it keeps. */
static double level_need(const space *sp, const genome *g, int l)
{
    hwnas__problem tile = *sp->p;
    for (int d = 0; d < HWNAS__NDIMS; d++) {
        int64_t e = 1;
        for (int s = 0; s < sp->n_slots; s++)
            if (sp->s[s].level >= l)
                e *= g->f[d][s];
        tile.dim[d] = e;
    }
    double need = 0;
    for (int o = 0; o < HWNAS__NOPS; o++)
        if (sp->a->level[l].keeps & (1u << o))
            need += hwnas__problem_size(&tile, o);
    return need;
}

/* The nearest slot outside level l (temporal, level < l) that allows d;
 * -1 if none. */
static int outer_slot(const space *sp, int d, int l)
{
    int best = -1;
    for (int s = 0; s < sp->n_slots; s++)
        if (sp->s[s].kind == HWNAS__TEMPORAL && sp->s[s].level < l &&
            (sp->allowed[s] >> d & 1u) && (best < 0 || sp->s[s].level > sp->s[best].level))
            best = s;
    return best;
}

/* Move factors outwards until every level's tiles fit; 0 if impossible. */
static int repair(const space *sp, hwnas__rng *r, genome *g)
{
    for (int l = sp->a->n_levels - 1; l >= 1; l--) {
        const hwnas__level *lv = &sp->a->level[l];
        if (lv->words <= 0 || !lv->keeps)
            continue;
        for (int guard = 0; level_need(sp, g, l) > lv->words; guard++) {
            if (guard > 64 * MAX_PRIMES)
                return 0;
            /* candidates: a prime of some dim in a slot at level >= l that
             * can go to a slot outside l */
            int cand_s[MAX_SLOTS * HWNAS__NDIMS], cand_d[MAX_SLOTS * HWNAS__NDIMS], nc = 0;
            for (int s = 0; s < sp->n_slots; s++) {
                if (sp->s[s].level < l)
                    continue;
                for (int d = 0; d < HWNAS__NDIMS; d++)
                    if (g->f[d][s] > 1 && outer_slot(sp, d, l) >= 0) {
                        cand_s[nc] = s;
                        cand_d[nc++] = d;
                    }
            }
            if (nc == 0)
                return 0;
            int c = (int)hwnas__rng_below(r, (uint64_t)nc);
            int s = cand_s[c], d = cand_d[c], t = outer_slot(sp, d, l);
            int64_t q[MAX_PRIMES];
            int nq = factorize(g->f[d][s], q);
            int64_t pr = q[hwnas__rng_below(r, (uint64_t)nq)];
            g->f[d][s] /= pr;
            g->f[d][t] *= pr;
        }
    }
    return 1;
}

static void sample(const space *sp, hwnas__rng *r, genome *g)
{
    memset(g, 0, sizeof *g);
    for (int d = 0; d < HWNAS__NDIMS; d++)
        for (int s = 0; s < MAX_SLOTS; s++)
            g->f[d][s] = 1;
    int order[MAX_SLOTS];
    for (int s = 0; s < sp->n_slots; s++)
        order[s] = s;
    shuffle_ints(r, order, sp->n_slots);
    int64_t left[HWNAS__NDIMS][MAX_PRIMES];
    int nleft[HWNAS__NDIMS];
    for (int d = 0; d < HWNAS__NDIMS; d++) {
        nleft[d] = sp->n_primes[d];
        memcpy(left[d], sp->primes[d], sizeof left[d]);
        for (int i = nleft[d] - 1; i > 0; i--) {
            int j = (int)hwnas__rng_below(r, (uint64_t)i + 1);
            int64_t t = left[d][i];
            left[d][i] = left[d][j];
            left[d][j] = t;
        }
    }
    /* Spatial slots first, greedily: fill the array. */
    for (int k = 0; k < sp->n_slots; k++) {
        int s = order[k];
        if (sp->s[s].kind == HWNAS__TEMPORAL)
            continue;
        int dims[HWNAS__NDIMS], nd = 0;
        for (int d = 0; d < HWNAS__NDIMS; d++)
            if (sp->allowed[s] >> d & 1u)
                dims[nd++] = d;
        shuffle_ints(r, dims, nd);
        int64_t room = sp->s[s].cap;
        for (int i = 0; i < nd; i++) {
            int d = dims[i];
            for (int j = 0; j < nleft[d];) {
                if (left[d][j] <= room && hwnas__rng_below(r, 8) != 0) {
                    room /= left[d][j];
                    g->f[d][s] *= left[d][j];
                    left[d][j] = left[d][--nleft[d]];
                } else {
                    j++;
                }
            }
        }
    }
    /* The rest over the temporal slots that allow each dim. */
    for (int d = 0; d < HWNAS__NDIMS; d++) {
        int ts[MAX_SLOTS], nt = 0;
        for (int s = 0; s < sp->n_slots; s++)
            if (sp->s[s].kind == HWNAS__TEMPORAL && (sp->allowed[s] >> d & 1u))
                ts[nt++] = s;
        for (int j = 0; j < nleft[d]; j++)
            g->f[d][ts[hwnas__rng_below(r, (uint64_t)nt)]] *= left[d][j];
    }
    for (int l = 0; l < sp->a->n_levels; l++)
        random_order(sp, r, g, l);
}

/* A neighbour: one prime factor to another allowed slot, or two loops of a
 * level swapped. */
static void mutate(const space *sp, hwnas__rng *r, genome *g)
{
    if (hwnas__rng_below(r, 3) == 0) {
        int l = (int)hwnas__rng_below(r, (uint64_t)sp->a->n_levels);
        int n = HWNAS__NDIMS - sp->a->level[l].order_len;
        if (n >= 2) {
            int i = sp->a->level[l].order_len + (int)hwnas__rng_below(r, (uint64_t)n);
            int j = sp->a->level[l].order_len + (int)hwnas__rng_below(r, (uint64_t)n);
            int8_t t = g->order[l][i];
            g->order[l][i] = g->order[l][j];
            g->order[l][j] = t;
            return;
        }
    }
    for (int tries = 0; tries < 16; tries++) {
        int d = (int)hwnas__rng_below(r, HWNAS__NDIMS);
        if (sp->n_primes[d] == 0)
            continue;
        int s = (int)hwnas__rng_below(r, (uint64_t)sp->n_slots);
        int t = (int)hwnas__rng_below(r, (uint64_t)sp->n_slots);
        if (s == t || g->f[d][s] == 1 || !(sp->allowed[t] >> d & 1u))
            continue;
        int64_t q[MAX_PRIMES];
        int nq = factorize(g->f[d][s], q);
        int64_t pr = q[hwnas__rng_below(r, (uint64_t)nq)];
        if (sp->s[t].kind != HWNAS__TEMPORAL && slot_product(g, t) * pr > sp->s[t].cap)
            continue;
        g->f[d][s] /= pr;
        g->f[d][t] *= pr;
        return;
    }
}

static int build_space(space *sp, const hwnas_accel *a, const hwnas__problem *p)
{
    memset(sp, 0, sizeof *sp);
    sp->a = a;
    sp->p = p;
    for (int l = 0; l < a->n_levels; l++) {
        const hwnas__level *lv = &a->level[l];
        int64_t fx, fy;
        hwnas__accel_fanout(a, l, &fx, &fy);
        /* the outermost level may always iterate: the layer must go somewhere */
        sp->s[sp->n_slots] = (slot){l, HWNAS__TEMPORAL, INT64_MAX};
        sp->allowed[sp->n_slots++] = l == 0 ? (1u << HWNAS__NDIMS) - 1 : lv->temporal_dims;
        if (fx > 1 && lv->spatial_x) {
            sp->s[sp->n_slots] = (slot){l, HWNAS__SPATIAL_X, fx};
            sp->allowed[sp->n_slots++] = lv->spatial_x;
        }
        if (fy > 1 && lv->spatial_y) {
            sp->s[sp->n_slots] = (slot){l, HWNAS__SPATIAL_Y, fy};
            sp->allowed[sp->n_slots++] = lv->spatial_y;
        }
    }
    for (int d = 0; d < HWNAS__NDIMS; d++) {
        sp->n_primes[d] = factorize(p->dim[d], sp->primes[d]);
        int64_t prod = 1;
        for (int k = 0; k < sp->n_primes[d]; k++)
            prod *= sp->primes[d][k];
        if (prod != p->dim[d])
            return hwnas__error(HWNAS_EINVAL, "mapper: dimension %c = %lld has too many factors",
                                hwnas__dim_letters[d], (long long)p->dim[d]);
    }
    return HWNAS_OK;
}

/* ---- exhaustive search, for layers with few factorisations ---------- */

typedef struct prime_group {
    int d;      /* dimension */
    int64_t p;  /* prime */
    int e;      /* multiplicity */
} prime_group;

typedef struct exhaust {
    const space *sp;
    const hwnas__mapper_opts *o;
    int n_groups;
    prime_group grp[HWNAS__NDIMS * MAX_PRIMES];
    int slots[HWNAS__NDIMS][MAX_SLOTS]; /* slots that allow each dim */
    int n_slots[HWNAS__NDIMS];
    genome g;        /* the assignment being built; orders fixed */
    genome best;
    double best_obj;
    hwnas__mapping best_m;
    hwnas__eval best_ev;
    int64_t evaluated;
} exhaust;

static double binomial(int n, int k)
{
    double v = 1;
    for (int i = 1; i <= k; i++)
        v = v * (n - k + i) / i;
    return v;
}

/* Group each dimension's primes; the number of assignments to slots. */
static double exhaust_prepare(exhaust *x, const space *sp)
{
    x->n_groups = 0;
    double count = 1;
    for (int d = 0; d < HWNAS__NDIMS; d++) {
        x->n_slots[d] = 0;
        for (int s = 0; s < sp->n_slots; s++)
            if (sp->allowed[s] >> d & 1u)
                x->slots[d][x->n_slots[d]++] = s;
        for (int i = 0; i < sp->n_primes[d];) {
            int j = i;
            while (j < sp->n_primes[d] && sp->primes[d][j] == sp->primes[d][i])
                j++;
            x->grp[x->n_groups++] = (prime_group){d, sp->primes[d][i], j - i};
            count *= binomial(j - i + x->n_slots[d] - 1, x->n_slots[d] - 1);
            i = j;
        }
    }
    return count;
}

static void exhaust_leaf(exhaust *x)
{
    const space *sp = x->sp;
    hwnas__mapping m;
    hwnas__eval e;
    to_mapping(sp, &x->g, &m);
    if (hwnas__mapping_check(sp->a, sp->p, &m) != HWNAS_OK)
        return;
    hwnas__evaluate(sp->a, sp->p, &m, &e);
    x->evaluated++;
    double obj = hwnas__objective(&e, x->o->objective);
    if (obj < x->best_obj) {
        x->best_obj = obj;
        x->best = x->g;
        x->best_m = m;
        x->best_ev = e;
    }
}

/* Place copy c of group i's prime into a slot at index >= from (copies
 * are interchangeable: non-decreasing slot indices list each multiset
 * once); a spatial slot that would exceed its fan-out is pruned. */
static void exhaust_place(exhaust *x, int i, int c, int from)
{
    if (i == x->n_groups) {
        exhaust_leaf(x);
        return;
    }
    const prime_group *gr = &x->grp[i];
    if (c == gr->e) {
        exhaust_place(x, i + 1, 0, 0);
        return;
    }
    for (int k = from; k < x->n_slots[gr->d]; k++) {
        int s = x->slots[gr->d][k];
        if (x->sp->s[s].kind != HWNAS__TEMPORAL &&
            slot_product(&x->g, s) * gr->p > x->sp->s[s].cap)
            continue;
        x->g.f[gr->d][s] *= gr->p;
        exhaust_place(x, i, c + 1, k);
        x->g.f[gr->d][s] /= gr->p;
    }
}

static uint64_t problem_hash(const hwnas__problem *p)
{
    int64_t v[HWNAS__NDIMS + 4];
    memcpy(v, p->dim, sizeof p->dim);
    v[HWNAS__NDIMS] = p->sh;
    v[HWNAS__NDIMS + 1] = p->sw;
    v[HWNAS__NDIMS + 2] = p->dh;
    v[HWNAS__NDIMS + 3] = p->dw;
    return hwnas__hash_bytes(v, sizeof v);
}

int hwnas__map(const hwnas_accel *a, const hwnas__problem *p, const hwnas__mapper_opts *o,
               hwnas__mapping *best, hwnas__eval *ev)
{
    space sp;
    int rc = build_space(&sp, a, p);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__rng r;
    hwnas__rng_seed(&r, o->seed, problem_hash(p));
    genome g, gbest;
    hwnas__mapping m;
    hwnas__eval e;
    double best_obj = INFINITY;
    int64_t explore = o->budget / 3 + 1, start = 0;
    /* Few enough assignments of factors to slots: try them all (with one
     * loop order per level), then spend the rest on the climb. */
    exhaust *x = hwnas__calloc(a->ctx, 1, sizeof *x);
    if (!x)
        return HWNAS_ENOMEM;
    if (exhaust_prepare(x, &sp) * 2 <= (double)o->budget) {
        x->sp = &sp;
        x->o = o;
        x->best_obj = INFINITY;
        for (int d = 0; d < HWNAS__NDIMS; d++)
            for (int k = 0; k < MAX_SLOTS; k++)
                x->g.f[d][k] = 1;
        for (int l = 0; l < a->n_levels; l++)
            random_order(&sp, &r, &x->g, l);
        exhaust_place(x, 0, 0, 0);
        if (x->best_obj < INFINITY) {
            best_obj = x->best_obj;
            gbest = x->best;
            *best = x->best_m;
            *ev = x->best_ev;
            start = x->evaluated;
            explore = 0;
        }
    }
    hwnas__free(a->ctx, x);
    for (int64_t it = start; it < o->budget; it++) {
        if (it < explore || best_obj == INFINITY) {
            sample(&sp, &r, &g);
        } else {
            g = gbest;
            int steps = 1 + (int)hwnas__rng_below(&r, 3);
            for (int k = 0; k < steps; k++)
                mutate(&sp, &r, &g);
        }
        if (!repair(&sp, &r, &g))
            continue;
        to_mapping(&sp, &g, &m);
        hwnas__evaluate(a, p, &m, &e);
        double obj = hwnas__objective(&e, o->objective);
        /* candidates are legal by construction (factors are moved, never
         * made; sampling and moves respect the fan-out; repair the
         * capacity): the full check runs on the ones that win */
        if (obj < best_obj && hwnas__mapping_check(a, p, &m) == HWNAS_OK) {
            best_obj = obj;
            gbest = g;
            *best = m;
            *ev = e;
        }
    }
    if (best_obj == INFINITY) {
        /* say which level it does not fit: the smallest tile, everything outside */
        genome g0;
        memset(&g0, 0, sizeof g0);
        for (int d = 0; d < HWNAS__NDIMS; d++)
            for (int s = 0; s < MAX_SLOTS; s++)
                g0.f[d][s] = s == 0 ? p->dim[d] : 1;
        for (int l = a->n_levels - 1; l >= 1; l--) {
            double need = level_need(&sp, &g0, l);
            if (a->level[l].words > 0 && a->level[l].keeps && need > a->level[l].words)
                return hwnas__error(HWNAS_EINVAL,
                                    "no legal mapping: even its smallest tiles need %.0f words "
                                    "in level %s, which has %.0f",
                                    need, a->level[l].name, a->level[l].words);
        }
        return hwnas__error(HWNAS_EINVAL,
                            "no legal mapping found in %lld tries (the dataflow constraints "
                            "leave no place for some factor?)",
                            (long long)o->budget);
    }
    return HWNAS_OK;
}
