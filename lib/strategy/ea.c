/*
 * strategy:ea - single-objective evolution, two modes.
 *
 * one_plus_lambda: the (1 + lambda) evolution strategy of Cartesian
 * Genetic Programming (Miller), as in CGP-CNN and EvoApproxNAS. Generation
 * 0 is 1 + lambda uniform samples, the best becomes the parent; then each
 * generation is lambda mutants of the parent, and the best of them
 * replaces the parent when it is at least as good (neutral drift: an equal
 * offspring wins, so the search drifts across plateaus).
 *
 * regularized: aging evolution (Real, Aggarwal, Huang and Le, 2019). The
 * first `population` candidates are uniform samples; once all of them are
 * told, each new candidate mutates the best of `sample` members drawn
 * uniformly with replacement, and each told candidate joins the population
 * while the oldest member leaves.
 *
 * Objectives become one number through the shared scalarisation
 * (scalarize.c): feasible results by value, then infeasible ones by
 * violation, then failed ones.
 */
#include <string.h>

#include "strategy_internal.h"

enum { OPT_SEED, OPT_MODE, OPT_LAMBDA, OPT_POP, OPT_SAMPLE, OPT_MUT, OPT_WEIGHTS, OPT_OBJ };
enum { MODE_OPL, MODE_REG };

static const hwnas__option_spec ea_options[] = {
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "random seed; 0 = the context's seed"},
    [OPT_MODE] = {"mode", HWNAS_OPTION_ENUM, "regularized", 0, 0, "one_plus_lambda|regularized",
                  "CGP-style (1+lambda) with neutral drift, or regularized (aging) evolution"},
    [OPT_LAMBDA] = {"lambda", HWNAS_OPTION_INT, "4", 1, 1000000, NULL,
                    "offspring per generation (one_plus_lambda)"},
    [OPT_POP] = {"population", HWNAS_OPTION_INT, "100", 1, 1000000, NULL,
                 "population size (regularized)"},
    [OPT_SAMPLE] = {"sample", HWNAS_OPTION_INT, "25", 1, 1000000, NULL,
                    "members drawn for each tournament (regularized)"},
    [OPT_MUT] = {"mutation", HWNAS_OPTION_FLOAT, "0", 0, 1, NULL,
                 "per-gene mutation probability; 0 = the space's default"},
    [OPT_WEIGHTS] = {"weights", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                     "comma-separated weights of the normalised objectives (empty: all 1)"},
    [OPT_OBJ] = {"objective", HWNAS_OPTION_INT, "-1", -1, 1000, NULL,
                 "optimise only this objective (0-based) under the constraints; -1: weighted "
                 "sum"},
};

const hwnas__kind hwnas__strategy_ea_kind = {
    "strategy:ea", ea_options, HWNAS_ARRAY_SIZE(ea_options), &hwnas__strategy_ea_impl,
};

/* n candidates with results. */
typedef struct ea {
    int mode;              /* MODE_* */
    size_t lambda;         /* one_plus_lambda: offspring per generation */
    size_t P, S;           /* regularized: population and sample sizes */
    double rate;           /* per-gene mutation rate, 0 = space default */
    hwnas__scalarizer z;   /* objectives to one number */
    /* one_plus_lambda */
    int stage;             /* 0: nothing made; 1: a batch exists */
    int have_parent;       /* parent holds a told candidate */
    hwnas__group parent;   /* one entry */
    hwnas__group bat;      /* 1 + lambda entries (lambda after generation 0) */
    size_t K;              /* entries of the current batch */
    size_t handed, n_told; /* prefix handed out; entries told */
    uint8_t *told;         /* 1 + lambda flags */
    /* regularized */
    hwnas__group pop;      /* ring of P members */
    size_t count, head;    /* members; index of the oldest */
    uint64_t made;         /* candidates handed out (tags) */
} ea;

static void group_set(hwnas__group *d, size_t i, const hwnas__group *s, size_t j, size_t ng,
                      size_t m)
{
    memcpy(d->g + i * ng, s->g + j * ng, ng * sizeof *d->g);
    memcpy(d->o + i * m, s->o + j * m, m * sizeof *d->o);
    d->v[i] = s->v[j];
    d->f[i] = s->f[j];
}

static void ea_fini(hwnas_strategy *s)
{
    ea *e = s->state;
    hwnas__scalarizer_fini(&e->z, s->ctx);
    hwnas__group_free(s->ctx, &e->parent);
    hwnas__group_free(s->ctx, &e->bat);
    hwnas__group_free(s->ctx, &e->pop);
    hwnas__free(s->ctx, e->told);
    hwnas__free(s->ctx, e);
}

static int ea_init(hwnas_strategy *s)
{
    ea *e = hwnas__calloc(s->ctx, 1, sizeof *e);
    if (!e)
        return HWNAS_ENOMEM;
    s->state = e;
    e->mode = (int)hwnas__options_int(s->options, OPT_MODE);
    e->lambda = (size_t)hwnas__options_int(s->options, OPT_LAMBDA);
    e->P = (size_t)hwnas__options_int(s->options, OPT_POP);
    e->S = (size_t)hwnas__options_int(s->options, OPT_SAMPLE);
    e->rate = hwnas__options_float(s->options, OPT_MUT);
    int rc = hwnas__scalarizer_init(&e->z, s);
    if (rc != HWNAS_OK)
        return rc;
    size_t ng = s->n_genes, m = s->n_obj;
    if (e->mode == MODE_OPL) {
        rc = hwnas__group_alloc(s->ctx, &e->parent, 1, ng, m);
        if (rc == HWNAS_OK)
            rc = hwnas__group_alloc(s->ctx, &e->bat, e->lambda + 1, ng, m);
        e->told = hwnas__calloc(s->ctx, e->lambda + 1, 1);
        if (rc == HWNAS_OK && !e->told)
            rc = HWNAS_ENOMEM;
    } else {
        rc = hwnas__group_alloc(s->ctx, &e->pop, e->P, ng, m);
    }
    return rc;
}

static int better_or_equal(const ea *e, const hwnas__group *a, size_t i, const hwnas__group *b,
                           size_t j, size_t m)
{
    return hwnas__scalarizer_compare(&e->z, a->o + i * m, a->v[i], a->f[i], b->o + j * m, b->v[j],
                                     b->f[j]) <= 0;
}

/* ---- one_plus_lambda ------------------------------------------------------- */

static int opl_advance(hwnas_strategy *s, ea *e)
{
    size_t ng = s->n_genes, m = s->n_obj;
    if (e->stage == 1) {
        size_t best = 0;
        for (size_t i = 1; i < e->K; i++)
            if (!better_or_equal(e, &e->bat, best, &e->bat, i, m))
                best = i;
        if (!e->have_parent || better_or_equal(e, &e->bat, best, &e->parent, 0, m))
            group_set(&e->parent, 0, &e->bat, best, ng, m);
        e->have_parent = 1;
    }
    e->K = e->have_parent ? e->lambda : e->lambda + 1;
    for (size_t i = 0; i < e->K; i++) {
        uint32_t *c = e->bat.g + i * ng;
        int rc = e->have_parent ? hwnas_space_mutate(s->space, s->rng, e->parent.g, c, e->rate)
                                : hwnas_space_sample(s->space, s->rng, c);
        if (rc != HWNAS_OK)
            return rc;
    }
    e->stage = 1;
    e->handed = e->n_told = 0;
    memset(e->told, 0, e->lambda + 1);
    return HWNAS_OK;
}

static int opl_ask(hwnas_strategy *s, ea *e, size_t max, uint32_t *genes, uint64_t *tags,
                   size_t *count)
{
    if (e->stage == 0 || (e->handed == e->K && e->n_told == e->K)) {
        int rc = opl_advance(s, e);
        if (rc != HWNAS_OK)
            return rc;
    }
    size_t k = 0;
    for (; k < max && e->handed < e->K; k++, e->handed++) {
        memcpy(genes + k * s->n_genes, e->bat.g + e->handed * s->n_genes,
               s->n_genes * sizeof *genes);
        tags[k] = e->handed;
    }
    *count = k;
    return HWNAS_OK;
}

/* ---- regularized ------------------------------------------------------------ */

static int reg_ask(hwnas_strategy *s, ea *e, size_t max, uint32_t *genes, uint64_t *tags,
                   size_t *count)
{
    size_t ng = s->n_genes, m = s->n_obj, k = 0;
    hwnas__rng *r = hwnas__strategy_rng(s);
    for (; k < max; k++) {
        uint32_t *c = genes + k * ng;
        int rc;
        if (e->made < e->P) {
            rc = hwnas_space_sample(s->space, s->rng, c);
        } else if (e->count < e->P) {
            break; /* the initial population is still being evaluated */
        } else {
            size_t best = (size_t)hwnas__rng_below(r, e->count);
            for (size_t t = 1; t < e->S; t++) {
                size_t j = (size_t)hwnas__rng_below(r, e->count);
                if (!better_or_equal(e, &e->pop, best, &e->pop, j, m))
                    best = j;
            }
            rc = hwnas_space_mutate(s->space, s->rng, e->pop.g + best * ng, c, e->rate);
        }
        if (rc != HWNAS_OK) {
            *count = k;
            return rc;
        }
        tags[k] = e->made++;
    }
    *count = k;
    return HWNAS_OK;
}

static int ea_ask(hwnas_strategy *s, size_t max, uint32_t *genes, uint64_t *tags, size_t *count)
{
    ea *e = s->state;
    return e->mode == MODE_OPL ? opl_ask(s, e, max, genes, tags, count)
                               : reg_ask(s, e, max, genes, tags, count);
}

static void ea_tell(hwnas_strategy *s, size_t n, const hwnas__strategy_result *r)
{
    ea *e = s->state;
    size_t ng = s->n_genes, m = s->n_obj;
    for (size_t k = 0; k < n; k++) {
        /* Never estimated: not a member of the population once it is full
         * (before, it fills its place as a failed one, so that the first
         * generation completes without a counter in the saved state). */
        if (r[k].unevaluated && e->mode == MODE_REG && e->count == e->P)
            continue;
        hwnas__scalarizer_observe(&e->z, r[k].obj, r[k].violation, r[k].failed);
        hwnas__group *g;
        size_t i;
        if (e->mode == MODE_OPL) {
            g = &e->bat;
            i = (size_t)r[k].tag;
            e->told[i] = 1;
            e->n_told++;
        } else {
            g = &e->pop;
            if (e->count < e->P) {
                i = (e->head + e->count++) % e->P;
            } else {
                i = e->head; /* the oldest dies */
                e->head = (e->head + 1) % e->P;
            }
            memcpy(g->g + i * ng, r[k].genes, ng * sizeof *g->g);
        }
        memcpy(g->o + i * m, r[k].obj, m * sizeof *g->o);
        g->v[i] = r[k].violation;
        g->f[i] = (uint8_t)r[k].failed;
    }
}

/* ---- save / load -------------------------------------------------------------- */

static int ea_save(const hwnas_strategy *s, hwnas__writer *w)
{
    const ea *e = s->state;
    size_t ng = s->n_genes, m = s->n_obj;
    hwnas__scalarizer_save(&e->z, w);
    if (e->mode == MODE_OPL) {
        hwnas__writer_u8(w, (uint8_t)e->stage);
        hwnas__writer_u8(w, (uint8_t)e->have_parent);
        hwnas__writer_u64(w, e->K);
        hwnas__writer_u64(w, e->handed);
        for (size_t i = 0; i < e->K; i++)
            hwnas__writer_u8(w, e->told[i]);
        hwnas__group_save(w, &e->parent, 1, ng, m);
        hwnas__group_save(w, &e->bat, e->K, ng, m);
    } else {
        hwnas__writer_u64(w, e->made);
        hwnas__writer_u64(w, e->count);
        hwnas__writer_u64(w, e->head);
        hwnas__group_save(w, &e->pop, e->count, ng, m);
    }
    return HWNAS_OK;
}

static int ea_load(hwnas_strategy *s, hwnas__reader *r)
{
    ea *e = s->state;
    if (!hwnas__scalarizer_load(&e->z, r))
        return hwnas__reader_fail(r);
    if (e->mode == MODE_OPL) {
        e->stage = hwnas__reader_u8(r);
        e->have_parent = hwnas__reader_u8(r);
        uint64_t K = hwnas__reader_u64(r), handed = hwnas__reader_u64(r);
        if (r->failed || e->stage > 1 || e->have_parent > 1 ||
            (e->stage == 0 && (K || e->have_parent)) ||
            (e->stage == 1 && K != (e->have_parent ? e->lambda : e->lambda + 1)) || handed > K)
            return hwnas__reader_fail(r);
        e->K = (size_t)K;
        e->handed = (size_t)handed;
        e->n_told = 0;
        for (size_t i = 0; i < e->K; i++) {
            e->told[i] = hwnas__reader_u8(r);
            if (e->told[i] > 1 || (e->told[i] && i >= e->handed))
                return hwnas__reader_fail(r);
            e->n_told += e->told[i];
        }
        if (!hwnas__group_load(s, r, &e->parent, 1) || !hwnas__group_load(s, r, &e->bat, e->K))
            return hwnas__reader_fail(r);
        if (s->n_pending != e->handed - e->n_told)
            return hwnas__reader_fail(r);
        for (size_t p = 0; p < s->n_pending; p++) {
            uint64_t t = s->pend_tag[p];
            if (t >= e->handed || e->told[t] ||
                memcmp(s->pend_genes + p * s->n_genes, e->bat.g + t * s->n_genes,
                       s->n_genes * sizeof *e->bat.g) != 0)
                return hwnas__reader_fail(r);
            e->told[t] = 2;
        }
        for (size_t p = 0; p < s->n_pending; p++)
            e->told[s->pend_tag[p]] = 0;
    } else {
        e->made = hwnas__reader_u64(r);
        uint64_t count = hwnas__reader_u64(r), head = hwnas__reader_u64(r);
        if (r->failed || count > e->P || (count < e->P && head != 0) || head >= e->P ||
            count > e->made)
            return hwnas__reader_fail(r);
        e->count = (size_t)count;
        e->head = (size_t)head;
        if (!hwnas__group_load(s, r, &e->pop, e->count))
            return hwnas__reader_fail(r);
        for (size_t p = 0; p < s->n_pending; p++)
            if (s->pend_tag[p] >= e->made)
                return hwnas__reader_fail(r);
    }
    return HWNAS_OK;
}

const hwnas__strategy_impl hwnas__strategy_ea_impl = {
    .max_objectives = 0,
    .init = ea_init,
    .fini = ea_fini,
    .ask = ea_ask,
    .tell = ea_tell,
    .save = ea_save,
    .load = ea_load,
};
