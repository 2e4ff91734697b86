/*
 * Predictor-guided batches (the search option guide; doc/predict.md): the
 * NSGANetV2 / BANANAS pattern for every strategy.
 *
 * Each batch, the strategy is asked for a pool of guide_pool candidates
 * instead of batch. One predictor per objective (predict.h) is fitted on
 * the archive's scored candidates (features: hwnas_space_encode in
 * guide_encoding; targets: the minimised objectives), and the pool is
 * ranked by the optimistic prediction, mean - guide_kappa * std (the
 * lower confidence bound of a minimised objective; UCB of a maximised
 * one): by non-dominated rank, then the first objective. Only the best
 * batch of them go on to be estimated.
 *
 * The strategy must hear of every candidate it handed out (a generational
 * strategy waits for its whole generation), so the rest of the pool is
 * told at once, before the chosen ones are estimated:
 *   - a candidate whose network the archive already holds: that record's
 *     objectives (a real result, not estimated again);
 *   - one that does not decode: failed, as it would be when estimated;
 *   - every other, with guide_rest=unevaluated (the default): that it was
 *     never evaluated (hwnas__strategy_tell_unevaluated: NSGA-II and
 *     (1+lambda) count it failed to complete their generation, aging
 *     evolution keeps it out of its population, REINFORCE learns nothing
 *     from it); with guide_rest=predicted: the predicted means, feasible,
 *     as if they were results.
 * Those tells exist for the strategy only: nothing of them is archived,
 * journaled, cached or counted against the budget, and the candidate
 * callback never sees them. A resumed search replays the same guided
 * batches, since the predictors are a function of the archive (and the
 * search's seed) alone.
 *
 * Deterministic at any thread count: fitting and ranking run on the
 * calling thread, in pool order.
 */
#include <math.h>
#include <string.h>

#include "hwnas/predict.h"
#include "search_internal.h"
#include "strategy/strategy_internal.h"

static const char *const guide_kinds[] = {"none", "mlp", "gbrt", "gp"};

int hwnas__guide_active(const hwnas_search *s)
{
    int64_t kind = hwnas__options_int(s->options, OPT_GUIDE);
    return kind > 0 && !s->nested &&
           s->n_rec >= (size_t)hwnas__options_int(s->options, OPT_GUIDE_MIN);
}

int hwnas__guide_check(const hwnas_search *s)
{
    if (hwnas__options_int(s->options, OPT_GUIDE) > 0 && s->nested)
        return hwnas__error(HWNAS_EUNSUPPORTED, "search: guide=%s does not work with "
                                                "codesign=nested (use codesign=joint)",
                            guide_kinds[hwnas__options_int(s->options, OPT_GUIDE)]);
    size_t d = 0;
    int rc = hwnas_space_encode(s->space, hwnas__options_str(s->options, OPT_GUIDE_ENCODING),
                                NULL, NULL, 0, &d);
    if (rc != HWNAS_OK)
        return hwnas__error(rc, "search: option guide_encoding: %s", hwnas_error_last());
    return HWNAS_OK;
}

/* The fitted predictors: one per objective, on the archive. */
typedef struct fitted {
    hwnas_predictor **p; /* n_obj */
    size_t d;            /* features */
} fitted;

static void fitted_free(const hwnas_search *s, fitted *f)
{
    for (size_t j = 0; f->p && j < s->n_obj; j++)
        hwnas_predictor_free(f->p[j]);
    hwnas__free(s->ctx, f->p);
}

/* Whether a record can teach the predictors: measured, complete (a pruned
 * candidate's figures are partial), every objective finite. */
static int teaches(const hwnas_search *s, const hwnas__record *r)
{
    int ok = !r->failed && !r->pruned && r->obj;
    for (size_t j = 0; ok && j < s->n_obj; j++)
        ok = isfinite(r->obj[j]) && r->obj[j] < 1e300;
    return ok;
}

/* Fit on the archive's scored, feasible-or-not (but measured) records.
 * *enough = 0 when there are fewer than 2 of them (then nothing is fitted). */
static int fit(hwnas_search *s, const char *encoding, fitted *f, int *enough)
{
    *enough = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->n_rec; i++) {
        n += teaches(s, &s->rec[i]);
    }
    if (n < 2)
        return HWNAS_OK;
    int rc = hwnas_space_encode(s->space, encoding, NULL, NULL, 0, &f->d);
    if (rc != HWNAS_OK)
        return rc;
    double *x = hwnas__malloc(s->ctx, n * f->d * sizeof *x);
    double *y = hwnas__malloc(s->ctx, n * s->n_obj * sizeof *y);
    f->p = hwnas__calloc(s->ctx, s->n_obj, sizeof *f->p);
    rc = x && y && f->p ? HWNAS_OK : HWNAS_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; rc == HWNAS_OK && i < s->n_rec; i++) {
        const hwnas__record *r = &s->rec[i];
        if (!teaches(s, r))
            continue;
        rc = hwnas_space_encode(s->space, encoding, r->genes, x + k * f->d, f->d, &f->d);
        for (size_t j = 0; j < s->n_obj; j++)
            y[j * n + k] = r->obj[j];
        k++;
    }
    /* Each batch's predictors draw from their own stream of the search's
     * seed, so a resumed search fits the same ones. */
    uint64_t seed = (uint64_t)hwnas__options_int(s->options, OPT_SEED);
    if (seed == 0)
        seed = hwnas_context_seed(s->ctx);
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_printf(&sb, "seed=%llu;%s",
                         (unsigned long long)(seed * 1000003u + s->n_rec) | 1u,
                         hwnas__options_str(s->options, OPT_GUIDE_OPTIONS));
    if (rc == HWNAS_OK && sb.failed)
        rc = HWNAS_ENOMEM;
    const char *kind = guide_kinds[hwnas__options_int(s->options, OPT_GUIDE)];
    for (size_t j = 0; rc == HWNAS_OK && j < s->n_obj; j++) {
        rc = hwnas_predictor_new(&f->p[j], s->ctx, kind, sb.data);
        if (rc != HWNAS_OK)
            rc = hwnas__error(rc, "search: guide_options: %s", hwnas_error_last());
        else
            rc = hwnas_predictor_fit(f->p[j], x, y + j * n, n, f->d);
    }
    hwnas__strbuf_release(&sb);
    hwnas__free(s->ctx, x);
    hwnas__free(s->ctx, y);
    if (rc == HWNAS_OK)
        *enough = 1;
    return rc;
}

/* What becomes of each pool member. */
enum { P_CANDIDATE, P_KNOWN, P_INVALID, P_CHOSEN };

typedef struct pool {
    uint32_t *genes;  /* np * n_genes */
    uint64_t *ids;
    uint64_t *hash;
    int *what;        /* P_* */
    int64_t *known;   /* archive index for P_KNOWN */
    double *mean;     /* np * n_obj: predicted, minimised */
    double *opt;      /* np * n_obj: optimistic */
    unsigned char *ok;
    size_t np;
} pool;

static void pool_free(const hwnas_context *ctx, pool *p)
{
    hwnas__free(ctx, p->genes);
    hwnas__free(ctx, p->ids);
    hwnas__free(ctx, p->hash);
    hwnas__free(ctx, p->what);
    hwnas__free(ctx, p->known);
    hwnas__free(ctx, p->mean);
    hwnas__free(ctx, p->opt);
    hwnas__free(ctx, p->ok);
}

static int pool_alloc(const hwnas_search *s, pool *p, size_t n)
{
    memset(p, 0, sizeof *p);
    p->genes = hwnas__malloc(s->ctx, n * s->n_genes * sizeof *p->genes);
    p->ids = hwnas__malloc(s->ctx, n * sizeof *p->ids);
    p->hash = hwnas__calloc(s->ctx, n, sizeof *p->hash);
    p->what = hwnas__calloc(s->ctx, n, sizeof *p->what);
    p->known = hwnas__calloc(s->ctx, n, sizeof *p->known);
    p->mean = hwnas__calloc(s->ctx, n * s->n_obj, sizeof *p->mean);
    p->opt = hwnas__calloc(s->ctx, n * s->n_obj, sizeof *p->opt);
    p->ok = hwnas__calloc(s->ctx, n, sizeof *p->ok);
    return p->genes && p->ids && p->hash && p->what && p->known && p->mean && p->opt && p->ok
               ? HWNAS_OK
               : HWNAS_ENOMEM;
}

/* Predict the pool's candidates (P_CANDIDATE) into mean and opt. */
static int predict_pool(const hwnas_search *s, const fitted *f, const char *encoding, pool *p)
{
    double kappa = hwnas__options_float(s->options, OPT_GUIDE_KAPPA);
    double *x = hwnas__malloc(s->ctx, (p->np * f->d + 1) * sizeof *x);
    double *mu = hwnas__malloc(s->ctx, (p->np + 1) * sizeof *mu);
    double *sd = hwnas__malloc(s->ctx, (p->np + 1) * sizeof *sd);
    int rc = x && mu && sd ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t i = 0; rc == HWNAS_OK && i < p->np; i++)
        rc = hwnas_space_encode(s->space, encoding, p->genes + i * s->n_genes, x + i * f->d,
                                f->d, &(size_t){0});
    for (size_t j = 0; rc == HWNAS_OK && j < s->n_obj; j++) {
        rc = hwnas_predictor_predict(f->p[j], x, p->np, mu, sd);
        for (size_t i = 0; rc == HWNAS_OK && i < p->np; i++) {
            p->mean[i * s->n_obj + j] = mu[i];
            p->opt[i * s->n_obj + j] = mu[i] - kappa * sd[i];
        }
    }
    hwnas__free(s->ctx, x);
    hwnas__free(s->ctx, mu);
    hwnas__free(s->ctx, sd);
    return rc;
}

/* Tell the strategy every pool member not chosen, as the file's comment
 * says: the ones outside the ranking first (pool order), then the ranked
 * ones from the worst to the best, so that an aging population (REA)
 * keeps the most promising of them longest. */
static int tell_rest(hwnas_search *s, const pool *p, const size_t *order, size_t count)
{
    size_t m = s->n_obj, n = 0, n_unev = 0;
    int predicted = hwnas__options_int(s->options, OPT_GUIDE_REST) == 1;
    double *obj = hwnas__calloc(s->ctx, p->np * m + 1, sizeof *obj);
    double *viol = hwnas__calloc(s->ctx, p->np + 1, sizeof *viol);
    int *failed = hwnas__calloc(s->ctx, p->np + 1, sizeof *failed);
    uint64_t *ids = hwnas__malloc(s->ctx, (p->np + 1) * sizeof *ids);
    uint64_t *unev = hwnas__malloc(s->ctx, (p->np + 1) * sizeof *unev);
    unsigned char *ranked = hwnas__calloc(s->ctx, p->np + 1, 1);
    int rc = obj && viol && failed && ids && unev && ranked ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t r = 0; rc == HWNAS_OK && r < count; r++)
        ranked[order[r]] = 1;
    for (size_t t = 0; rc == HWNAS_OK && t < p->np + count; t++) {
        size_t i = t < p->np ? t : order[count - 1 - (t - p->np)];
        if (p->what[i] == P_CHOSEN || (t < p->np && ranked[i]))
            continue;
        if (p->what[i] == P_CANDIDATE && !predicted) {
            unev[n_unev++] = p->ids[i];
            continue;
        }
        ids[n] = p->ids[i];
        if (p->what[i] == P_KNOWN) {
            const hwnas__record *r = &s->rec[p->known[i]];
            memcpy(obj + n * m, r->obj, m * sizeof *obj);
            viol[n] = r->violation;
        } else if (p->what[i] == P_INVALID) {
            failed[n] = 1;
        } else {
            memcpy(obj + n * m, p->mean + i * m, m * sizeof *obj);
        }
        n++;
    }
    if (rc == HWNAS_OK && n_unev)
        rc = hwnas__strategy_tell_unevaluated(s->strategy, n_unev, unev);
    if (rc == HWNAS_OK && n)
        rc = hwnas_strategy_tell(s->strategy, n, ids, obj, viol, failed);
    hwnas__free(s->ctx, obj);
    hwnas__free(s->ctx, viol);
    hwnas__free(s->ctx, failed);
    hwnas__free(s->ctx, ids);
    hwnas__free(s->ctx, unev);
    hwnas__free(s->ctx, ranked);
    return rc;
}

/* One pool: asked, ranked, the best (up to want) into genes/ids, the rest
 * told. *got may be 0 when every member was known or invalid. */
static int one_pool(hwnas_search *s, const fitted *f, const char *encoding, size_t want,
                    uint32_t *genes, uint64_t *ids, size_t *got)
{
    size_t size = (size_t)hwnas__options_int(s->options, OPT_GUIDE_POOL);
    if (size < want)
        size = want;
    pool p;
    int rc = pool_alloc(s, &p, size);
    if (rc == HWNAS_OK)
        rc = hwnas_strategy_ask(s->strategy, size, p.genes, p.ids, &p.np);
    if (rc == HWNAS_OK && p.np <= want) { /* nothing to choose among */
        memcpy(genes, p.genes, p.np * s->n_genes * sizeof *genes);
        memcpy(ids, p.ids, p.np * sizeof *ids);
        *got = p.np;
        pool_free(s->ctx, &p);
        return HWNAS_OK;
    }
    for (size_t i = 0; rc == HWNAS_OK && i < p.np; i++) {
        if (hwnas_space_hash(s->space, p.genes + i * s->n_genes, &p.hash[i]) != HWNAS_OK) {
            p.what[i] = P_INVALID;
            continue;
        }
        int64_t at = hwnas__cache_find(s, p.hash[i]);
        if (at >= 0 && s->rec[at].obj) {
            p.what[i] = P_KNOWN;
            p.known[i] = at;
        } else {
            p.ok[i] = 1;
        }
    }
    if (rc == HWNAS_OK)
        rc = predict_pool(s, f, encoding, &p);
    size_t *order = NULL, count = 0, front = 0;
    if (rc == HWNAS_OK)
        rc = hwnas__pareto_order(s->ctx, p.opt, p.ok, p.hash, p.np, s->n_obj, 1, &order, &count,
                                 &front);
    for (size_t r = 0; rc == HWNAS_OK && r < count && *got < want; r++) {
        size_t i = order[r];
        p.what[i] = P_CHOSEN;
        memcpy(genes + *got * s->n_genes, p.genes + i * s->n_genes,
               s->n_genes * sizeof *genes);
        ids[(*got)++] = p.ids[i];
    }
    if (rc == HWNAS_OK)
        rc = tell_rest(s, &p, order, count);
    hwnas__free(s->ctx, order);
    pool_free(s->ctx, &p);
    return rc;
}

/* Pools in a row that may hold nothing new before a plain batch is taken
 * (a strategy that keeps proposing what the archive knows). */
#define MAX_EMPTY_POOLS 8

int hwnas__guide_ask(hwnas_search *s, size_t want, uint32_t *genes, uint64_t *ids,
                     size_t *got)
{
    *got = 0;
    const char *encoding = hwnas__options_str(s->options, OPT_GUIDE_ENCODING);
    fitted f = {0};
    int enough = 0;
    int rc = fit(s, encoding, &f, &enough);
    for (int t = 0; rc == HWNAS_OK && enough && *got == 0 && t < MAX_EMPTY_POOLS; t++)
        rc = one_pool(s, &f, encoding, want, genes, ids, got);
    /* nothing to learn from yet, or nothing new proposed: a plain batch */
    if (rc == HWNAS_OK && *got == 0)
        rc = hwnas_strategy_ask(s->strategy, want, genes, ids, got);
    fitted_free(s, &f);
    return rc;
}
