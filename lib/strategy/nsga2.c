/*
 * strategy:nsga2 - NSGA-II (Deb, Pratap, Agarwal and Meyarivan, 2002).
 *
 * Generation 0 is `population` uniform samples. Every later generation is
 * `population` offspring made by binary tournament on (constrained rank,
 * crowding distance), crossover with probability `crossover` and
 * mutation; when all of them are told, parents and offspring are merged,
 * sorted into fronts under Deb's constraint-domination (feasible before
 * infeasible, smaller violation first, failed last) and the best
 * `population` survive, the last front cut by crowding distance.
 *
 * A generation's offspring are all made at once, when the previous one is
 * complete, so the random sequence, and so the search, does not depend on
 * how the host slices its asks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hwnas/pareto.h"
#include "strategy_internal.h"

enum { OPT_SEED, OPT_POP, OPT_CX, OPT_MUT, OPT_ETA_C, OPT_ETA_M, OPT_ORDINAL };

static const hwnas__option_spec nsga2_options[] = {
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "random seed; 0 = the context's seed"},
    [OPT_POP] = {"population", HWNAS_OPTION_INT, "50", 2, 1000000, NULL,
                 "population size, also the offspring per generation"},
    [OPT_CX] = {"crossover", HWNAS_OPTION_FLOAT, "0.9", 0, 1, NULL,
                "probability that a pair of parents is crossed"},
    [OPT_MUT] = {"mutation", HWNAS_OPTION_FLOAT, "0", 0, 1, NULL,
                 "probability that each gene mutates; 0 = 1 / number of genes"},
    [OPT_ETA_C] = {"eta_c", HWNAS_OPTION_FLOAT, "20", 0, 1000, NULL,
                   "distribution index of SBX on ordinal genes"},
    [OPT_ETA_M] = {"eta_m", HWNAS_OPTION_FLOAT, "20", 0, 1000, NULL,
                   "distribution index of polynomial mutation on ordinal genes"},
    [OPT_ORDINAL] = {"ordinal", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                     "treat every gene as ordinal (else only those the space flags)"},
};

const hwnas__kind hwnas__strategy_nsga2_kind = {
    "strategy:nsga2", nsga2_options, HWNAS_ARRAY_SIZE(nsga2_options),
    &hwnas__strategy_nsga2_impl,
};

/* A set of candidates with their results. */
typedef struct nsga {
    size_t P;             /* population size = offspring per generation */
    double pc, pm;        /* crossover probability; per-gene mutation rate */
    double eta_c, eta_m;  /* SBX and polynomial mutation indices */
    int all_ordinal;      /* option ordinal */
    int stage;            /* 0: nothing made yet; 1: a batch exists */
    uint64_t gen;         /* batches made so far minus one */
    size_t npop;          /* 0 before the first survival, then P */
    hwnas__group pop, pop2;      /* population, and the buffer survival fills */
    uint32_t *rank;       /* P constrained ranks of pop */
    double *crowd;        /* P crowding distances of pop */
    uint32_t *rank2;      /* buffer for survival */
    double *crowd2;
    hwnas__group bat;            /* the current batch of P candidates */
    size_t handed;        /* batch entries handed out (a prefix) */
    size_t n_told;        /* batch entries told */
    uint8_t *told;        /* P flags */
    uint32_t *spare;      /* n_genes: the unused second child of an odd batch */
} nsga;

static void nsga2_fini(hwnas_strategy *s)
{
    nsga *n = s->state;
    hwnas__group_free(s->ctx, &n->pop);
    hwnas__group_free(s->ctx, &n->pop2);
    hwnas__group_free(s->ctx, &n->bat);
    hwnas__free(s->ctx, n->rank);
    hwnas__free(s->ctx, n->crowd);
    hwnas__free(s->ctx, n->rank2);
    hwnas__free(s->ctx, n->crowd2);
    hwnas__free(s->ctx, n->told);
    hwnas__free(s->ctx, n->spare);
    hwnas__free(s->ctx, n);
}

static int nsga2_init(hwnas_strategy *s)
{
    nsga *n = hwnas__calloc(s->ctx, 1, sizeof *n);
    if (!n)
        return HWNAS_ENOMEM;
    s->state = n;
    n->P = (size_t)hwnas__options_int(s->options, OPT_POP);
    n->pc = hwnas__options_float(s->options, OPT_CX);
    n->pm = hwnas__options_float(s->options, OPT_MUT);
    if (n->pm == 0)
        n->pm = 1.0 / (double)s->n_genes;
    n->eta_c = hwnas__options_float(s->options, OPT_ETA_C);
    n->eta_m = hwnas__options_float(s->options, OPT_ETA_M);
    n->all_ordinal = (int)hwnas__options_int(s->options, OPT_ORDINAL);
    size_t P = n->P, ng = s->n_genes, m = s->n_obj;
    int rc = hwnas__group_alloc(s->ctx, &n->pop, P, ng, m);
    if (rc == HWNAS_OK)
        rc = hwnas__group_alloc(s->ctx, &n->pop2, P, ng, m);
    if (rc == HWNAS_OK)
        rc = hwnas__group_alloc(s->ctx, &n->bat, P, ng, m);
    if (rc != HWNAS_OK)
        return rc;
    n->rank = hwnas__calloc(s->ctx, P, sizeof *n->rank);
    n->crowd = hwnas__calloc(s->ctx, P, sizeof *n->crowd);
    n->rank2 = hwnas__calloc(s->ctx, P, sizeof *n->rank2);
    n->crowd2 = hwnas__calloc(s->ctx, P, sizeof *n->crowd2);
    n->told = hwnas__calloc(s->ctx, P, sizeof *n->told);
    n->spare = hwnas__calloc(s->ctx, ng, sizeof *n->spare);
    if (!n->rank || !n->crowd || !n->rank2 || !n->crowd2 || !n->told || !n->spare)
        return HWNAS_ENOMEM;
    return HWNAS_OK;
}

/* ---- survival ------------------------------------------------------------ */

typedef struct order_key {
    uint32_t rank;
    double crowd;
    size_t i;
} order_key;

static int cmp_key(const void *pa, const void *pb)
{
    const order_key *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->crowd != b->crowd)
        return a->crowd > b->crowd ? -1 : 1;
    return a->i < b->i ? -1 : (a->i > b->i);
}

/* Merge pop (npop) and the told batch, keep the best P in pop. */
static int survive(hwnas_strategy *s, nsga *n)
{
    size_t ng = s->n_genes, m = s->n_obj, N = n->npop + n->P;
    double *o = hwnas__malloc(s->ctx, N * m * sizeof *o);
    double *v = hwnas__malloc(s->ctx, N * sizeof *v);
    uint32_t *rank = hwnas__malloc(s->ctx, N * sizeof *rank);
    double *crowd = hwnas__malloc(s->ctx, N * sizeof *crowd);
    order_key *key = hwnas__malloc(s->ctx, N * sizeof *key);
    int rc = o && v && rank && crowd && key ? HWNAS_OK : HWNAS_ENOMEM;
    if (rc == HWNAS_OK) {
        memcpy(o, n->pop.o, n->npop * m * sizeof *o);
        memcpy(o + n->npop * m, n->bat.o, n->P * m * sizeof *o);
        memcpy(v, n->pop.v, n->npop * sizeof *v);
        memcpy(v + n->npop, n->bat.v, n->P * sizeof *v);
        rc = hwnas_pareto_rank_constrained(rank, NULL, s->ctx, o, v, N, m);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_pareto_crowding(crowd, s->ctx, o, N, m, rank);
    if (rc == HWNAS_OK) {
        for (size_t i = 0; i < N; i++)
            key[i] = (order_key){rank[i], crowd[i], i};
        qsort(key, N, sizeof *key, cmp_key);
        for (size_t k = 0; k < n->P; k++) {
            size_t i = key[k].i;
            const hwnas__group *src = i < n->npop ? &n->pop : &n->bat;
            size_t j = i < n->npop ? i : i - n->npop;
            memcpy(n->pop2.g + k * ng, src->g + j * ng, ng * sizeof *src->g);
            memcpy(n->pop2.o + k * m, src->o + j * m, m * sizeof *src->o);
            n->pop2.v[k] = src->v[j];
            n->pop2.f[k] = src->f[j];
            n->rank2[k] = rank[i];
            n->crowd2[k] = crowd[i];
        }
        hwnas__group t = n->pop;
        n->pop = n->pop2;
        n->pop2 = t;
        uint32_t *tr = n->rank;
        n->rank = n->rank2;
        n->rank2 = tr;
        double *tc = n->crowd;
        n->crowd = n->crowd2;
        n->crowd2 = tc;
        n->npop = n->P;
    }
    hwnas__free(s->ctx, o);
    hwnas__free(s->ctx, v);
    hwnas__free(s->ctx, rank);
    hwnas__free(s->ctx, crowd);
    hwnas__free(s->ctx, key);
    return rc;
}

/* ---- variation ----------------------------------------------------------- */

/* Binary tournament: lower rank wins, then larger crowding, then a coin. */
static size_t tournament(hwnas_strategy *s, const nsga *n)
{
    hwnas__rng *r = hwnas__strategy_rng(s);
    size_t a = (size_t)hwnas__rng_below(r, n->npop);
    size_t b = (size_t)hwnas__rng_below(r, n->npop - 1);
    if (b >= a)
        b++;
    if (n->rank[a] != n->rank[b])
        return n->rank[a] < n->rank[b] ? a : b;
    if (n->crowd[a] != n->crowd[b])
        return n->crowd[a] > n->crowd[b] ? a : b;
    return (hwnas__rng_u64(r) >> 63) ? a : b;
}

static int mutate(hwnas_strategy *s, const nsga *n, uint32_t *g)
{
    if (hwnas_space_has_operator(s->space, HWNAS_SPACE_OP_MUTATE))
        return hwnas_space_mutate(s->space, s->rng, g, g, n->pm);
    hwnas__strategy_polymut(s, g, n->pm, n->eta_m, n->all_ordinal);
    return HWNAS_OK;
}

static int make_offspring(hwnas_strategy *s, nsga *n)
{
    size_t ng = s->n_genes;
    int own_cx = hwnas_space_has_operator(s->space, HWNAS_SPACE_OP_CROSSOVER);
    for (size_t k = 0; k < n->P; k += 2) {
        const uint32_t *a = n->pop.g + tournament(s, n) * ng;
        const uint32_t *b = n->pop.g + tournament(s, n) * ng;
        uint32_t *c = n->bat.g + k * ng;
        uint32_t *d = k + 1 < n->P ? n->bat.g + (k + 1) * ng : n->spare;
        int rc = HWNAS_OK;
        if (hwnas__rng_uniform(hwnas__strategy_rng(s)) < n->pc) {
            if (own_cx)
                rc = hwnas_space_crossover(s->space, s->rng, a, b, c, d);
            else
                hwnas__strategy_sbx(s, a, b, c, d, n->eta_c, n->all_ordinal);
        } else {
            memcpy(c, a, ng * sizeof *c);
            memcpy(d, b, ng * sizeof *d);
        }
        if (rc == HWNAS_OK)
            rc = mutate(s, n, c);
        if (rc == HWNAS_OK)
            rc = mutate(s, n, d);
        if (rc != HWNAS_OK)
            return rc;
    }
    return HWNAS_OK;
}

/* Start the next batch: the initial sample, or survival and offspring. */
static int advance(hwnas_strategy *s, nsga *n)
{
    int rc = HWNAS_OK;
    if (n->stage == 0) {
        for (size_t k = 0; k < n->P && rc == HWNAS_OK; k++)
            rc = hwnas_space_sample(s->space, s->rng, n->bat.g + k * s->n_genes);
        if (rc != HWNAS_OK)
            return rc;
        n->stage = 1;
    } else {
        rc = survive(s, n);
        if (rc != HWNAS_OK)
            return rc;
        /* Survival is done: a failure below leaves a batch to remake. */
        n->gen++;
        rc = make_offspring(s, n);
        if (rc != HWNAS_OK) {
            for (size_t k = 0; k < n->P; k++)
                memcpy(n->bat.g + k * s->n_genes, n->pop.g + k * s->n_genes,
                       s->n_genes * sizeof *n->bat.g);
        }
    }
    n->handed = n->n_told = 0;
    memset(n->told, 0, n->P);
    return rc;
}

static int nsga2_ask(hwnas_strategy *s, size_t max, uint32_t *genes, uint64_t *tags,
                     size_t *count)
{
    nsga *n = s->state;
    if (n->stage == 0 || (n->handed == n->P && n->n_told == n->P)) {
        int rc = advance(s, n);
        if (rc != HWNAS_OK)
            return rc;
    }
    size_t k = 0;
    for (; k < max && n->handed < n->P; k++, n->handed++) {
        memcpy(genes + k * s->n_genes, n->bat.g + n->handed * s->n_genes,
               s->n_genes * sizeof *genes);
        tags[k] = n->handed;
    }
    *count = k;
    return HWNAS_OK;
}

static void nsga2_tell(hwnas_strategy *s, size_t cnt, const hwnas__strategy_result *r)
{
    nsga *n = s->state;
    size_t m = s->n_obj;
    for (size_t k = 0; k < cnt; k++) {
        size_t i = (size_t)r[k].tag;
        memcpy(n->bat.o + i * m, r[k].obj, m * sizeof *r[k].obj);
        n->bat.v[i] = r[k].violation;
        n->bat.f[i] = (uint8_t)r[k].failed;
        n->told[i] = 1;
        n->n_told++;
    }
}

/* ---- save / load --------------------------------------------------------- */

static int nsga2_save(const hwnas_strategy *s, hwnas__writer *w)
{
    const nsga *n = s->state;
    hwnas__writer_u8(w, (uint8_t)n->stage);
    hwnas__writer_u64(w, n->gen);
    hwnas__writer_u64(w, n->npop);
    hwnas__writer_u64(w, n->handed);
    hwnas__writer_u64(w, n->n_told);
    for (size_t i = 0; i < n->P; i++)
        hwnas__writer_u8(w, n->told[i]);
    hwnas__group_save(w, &n->pop, n->npop, s->n_genes, s->n_obj);
    for (size_t i = 0; i < n->npop; i++) {
        hwnas__writer_u32(w, n->rank[i]);
        hwnas__writer_f64(w, n->crowd[i]);
    }
    hwnas__group_save(w, &n->bat, n->stage ? n->P : 0, s->n_genes, s->n_obj);
    return HWNAS_OK;
}

static int nsga2_load(hwnas_strategy *s, hwnas__reader *r)
{
    nsga *n = s->state;
    n->stage = hwnas__reader_u8(r);
    n->gen = hwnas__reader_u64(r);
    uint64_t npop = hwnas__reader_u64(r), handed = hwnas__reader_u64(r),
             told = hwnas__reader_u64(r);
    if (r->failed || n->stage > 1 || (npop != 0 && npop != n->P) || handed > n->P ||
        told > handed || (n->stage == 0 && (handed || npop)))
        return hwnas__reader_fail(r);
    n->npop = (size_t)npop;
    n->handed = (size_t)handed;
    n->n_told = (size_t)told;
    size_t count = 0;
    for (size_t i = 0; i < n->P; i++) {
        n->told[i] = hwnas__reader_u8(r);
        if (n->told[i] > 1 || (n->told[i] && i >= n->handed))
            return hwnas__reader_fail(r);
        count += n->told[i];
    }
    if (count != n->n_told || !hwnas__group_load(s, r, &n->pop, n->npop))
        return hwnas__reader_fail(r);
    for (size_t i = 0; i < n->npop; i++) {
        n->rank[i] = hwnas__reader_u32(r);
        n->crowd[i] = hwnas__reader_f64(r);
    }
    if (!hwnas__group_load(s, r, &n->bat, n->stage ? n->P : 0))
        return hwnas__reader_fail(r);
    /* Every batch entry handed out and not told is pending, once. */
    if (s->n_pending != n->handed - n->n_told)
        return hwnas__reader_fail(r);
    for (size_t p = 0; p < s->n_pending; p++) {
        uint64_t t = s->pend_tag[p];
        if (t >= n->handed || n->told[t] == 2 || n->told[t] == 1 ||
            memcmp(s->pend_genes + p * s->n_genes, n->bat.g + t * s->n_genes,
                   s->n_genes * sizeof *n->bat.g) != 0)
            return hwnas__reader_fail(r);
        n->told[t] = 2; /* mark seen */
    }
    for (size_t p = 0; p < s->n_pending; p++)
        n->told[s->pend_tag[p]] = 0;
    return HWNAS_OK;
}

void hwnas__strategy_nsga2_population(const hwnas_strategy *s, const uint32_t **genes,
                                      const double **obj, size_t *n)
{
    *n = 0;
    *genes = NULL;
    *obj = NULL;
    if (!s || s->kind->impl != &hwnas__strategy_nsga2_impl)
        return;
    const nsga *ns = s->state;
    *n = ns->npop;
    *genes = ns->pop.g;
    *obj = ns->pop.o;
}

const hwnas__strategy_impl hwnas__strategy_nsga2_impl = {
    .max_objectives = 0,
    .init = nsga2_init,
    .fini = nsga2_fini,
    .ask = nsga2_ask,
    .tell = nsga2_tell,
    .save = nsga2_save,
    .load = nsga2_load,
};
