/* strategy:random - uniform sampling, de-duplicated by phenotype hash. */
#include <string.h>

#include "strategy_internal.h"

enum { OPT_SEED, OPT_DEDUP, OPT_RETRIES };

static const hwnas__option_spec random_options[] = {
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "random seed; 0 = the context's seed"},
    [OPT_DEDUP] = {"dedup", HWNAS_OPTION_BOOL, "true", 0, 0, NULL,
                   "never hand out two genotypes of the same phenotype hash (while possible)"},
    [OPT_RETRIES] = {"retries", HWNAS_OPTION_INT, "100", 1, 1000000, NULL,
                     "draws per candidate before a duplicate is accepted (space nearly "
                     "exhausted)"},
};

const hwnas__kind hwnas__strategy_random_kind = {
    "strategy:random", random_options, HWNAS_ARRAY_SIZE(random_options),
    &hwnas__strategy_random_impl,
};

typedef struct rnd {
    int dedup;        /* option dedup */
    int64_t retries;  /* option retries */
    uint64_t *slots;  /* open-addressing set of hashes; 0 = empty */
    size_t cap, used; /* cap a power of two, used < cap / 2 */
    uint64_t asked;   /* candidates handed out */
    uint64_t dups;    /* duplicates handed out after retries ran out */
} rnd;

static uint64_t nonzero(uint64_t h) { return h ? h : 1; }

static int set_has(const rnd *r, uint64_t h)
{
    if (!r->cap)
        return 0;
    for (size_t i = (size_t)h & (r->cap - 1);; i = (i + 1) & (r->cap - 1)) {
        if (r->slots[i] == h)
            return 1;
        if (r->slots[i] == 0)
            return 0;
    }
}

static void set_put_nogrow(rnd *r, uint64_t h)
{
    size_t i = (size_t)h & (r->cap - 1);
    while (r->slots[i] != 0 && r->slots[i] != h)
        i = (i + 1) & (r->cap - 1);
    if (r->slots[i] == 0) {
        r->slots[i] = h;
        r->used++;
    }
}

static int set_reserve(const hwnas_context *ctx, rnd *r, size_t n)
{
    if (2 * (r->used + n) < r->cap)
        return HWNAS_OK;
    size_t cap = r->cap ? r->cap : 64;
    while (2 * (r->used + n) >= cap)
        cap *= 2;
    uint64_t *old = r->slots;
    size_t ocap = r->cap;
    r->slots = hwnas__calloc(ctx, cap, sizeof *r->slots);
    if (!r->slots) {
        r->slots = old;
        return HWNAS_ENOMEM;
    }
    r->cap = cap;
    r->used = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i])
            set_put_nogrow(r, old[i]);
    hwnas__free(ctx, old);
    return HWNAS_OK;
}

static int random_init(hwnas_strategy *s)
{
    rnd *r = hwnas__calloc(s->ctx, 1, sizeof *r);
    if (!r)
        return HWNAS_ENOMEM;
    r->dedup = (int)hwnas__options_int(s->options, OPT_DEDUP);
    r->retries = hwnas__options_int(s->options, OPT_RETRIES);
    s->state = r;
    return HWNAS_OK;
}

static void random_fini(hwnas_strategy *s)
{
    rnd *r = s->state;
    hwnas__free(s->ctx, r->slots);
    hwnas__free(s->ctx, r);
}

/* The phenotype hash, or the genotype's own hash when it decodes to no
 * network (it will fail evaluation; distinct genotypes stay distinct). */
static int pheno_hash(const hwnas_strategy *s, const uint32_t *g, uint64_t *h)
{
    int rc = hwnas_space_hash(s->space, g, h);
    if (rc == HWNAS_EINVALID) {
        *h = hwnas__hash_bytes(g, s->n_genes * sizeof *g) ^ UINT64_C(0x9e3779b97f4a7c15);
        rc = HWNAS_OK;
    }
    *h = nonzero(*h);
    return rc;
}

static int random_ask(hwnas_strategy *s, size_t max, uint32_t *genes, uint64_t *tags,
                      size_t *count)
{
    rnd *r = s->state;
    for (size_t k = 0; k < max; k++) {
        uint32_t *g = genes + k * s->n_genes;
        uint64_t h = 0;
        if (r->dedup && set_reserve(s->ctx, r, 1) != HWNAS_OK) {
            *count = k;
            return HWNAS_ENOMEM;
        }
        for (int64_t tries = 0;; tries++) {
            int rc = hwnas_space_sample(s->space, s->rng, g);
            if (rc == HWNAS_OK && r->dedup)
                rc = pheno_hash(s, g, &h);
            if (rc != HWNAS_OK) {
                *count = k;
                return rc;
            }
            if (!r->dedup || !set_has(r, h))
                break;
            if (tries + 1 >= r->retries) {
                r->dups++;
                break;
            }
        }
        if (r->dedup)
            set_put_nogrow(r, h);
        tags[k] = r->asked++;
    }
    *count = max;
    return HWNAS_OK;
}

static void random_tell(hwnas_strategy *s, size_t n, const hwnas__strategy_result *res)
{
    (void)s;
    (void)n;
    (void)res;
}

static int random_save(const hwnas_strategy *s, hwnas__writer *w)
{
    const rnd *r = s->state;
    hwnas__writer_u64(w, r->asked);
    hwnas__writer_u64(w, r->dups);
    hwnas__writer_u64(w, r->used);
    for (size_t i = 0; i < r->cap; i++)
        if (r->slots[i])
            hwnas__writer_u64(w, r->slots[i]);
    return HWNAS_OK;
}

static int random_load(hwnas_strategy *s, hwnas__reader *rd)
{
    rnd *r = s->state;
    r->asked = hwnas__reader_u64(rd);
    r->dups = hwnas__reader_u64(rd);
    size_t n = hwnas__reader_count(rd, 8);
    if (rd->failed)
        return HWNAS_OK;
    if (!r->dedup && n > 0)
        return hwnas__reader_fail(rd);
    int rc = set_reserve(s->ctx, r, n);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = hwnas__reader_u64(rd);
        if (h == 0 || set_has(r, h))
            return hwnas__reader_fail(rd);
        set_put_nogrow(r, h);
    }
    for (size_t p = 0; p < s->n_pending; p++)
        if (s->pend_tag[p] >= r->asked)
            return hwnas__reader_fail(rd);
    return HWNAS_OK;
}

const hwnas__strategy_impl hwnas__strategy_random_impl = {
    .max_objectives = 0,
    .init = random_init,
    .fini = random_fini,
    .ask = random_ask,
    .tell = random_tell,
    .save = random_save,
    .load = random_load,
};
