/* Strategies: creation by kind, ask/tell bookkeeping, save and load. */
#include <math.h>
#include <string.h>

#include "strategy_internal.h"

#define STATE_MAGIC "HWNSTRAT"
#define STATE_VERSION 1u
/* Most candidates handed out by one ask (count may be less than max). */
#define ASK_LIMIT ((size_t)1 << 20)

static const hwnas__strategy_impl *impl_of(const hwnas_strategy *s)
{
    return (const hwnas__strategy_impl *)s->kind->impl;
}

/* ---- options ----------------------------------------------------------- */

int64_t hwnas__strategy_opt_int(const hwnas_strategy *s, const char *key)
{
    int64_t v = 0;
    hwnas_options_get_int(s->options, key, &v);
    return v;
}

double hwnas__strategy_opt_float(const hwnas_strategy *s, const char *key)
{
    double v = 0;
    hwnas_options_get_float(s->options, key, &v);
    return v;
}

const char *hwnas__strategy_opt_str(const hwnas_strategy *s, const char *key)
{
    const char *v = "";
    hwnas_options_get_string(s->options, key, &v);
    return v;
}

hwnas__rng *hwnas__strategy_rng(hwnas_strategy *s) { return hwnas__rng_state(s->rng); }

/* ---- life cycle -------------------------------------------------------- */

/* Everything but the options: so that load can build a fresh state and
 * swap it in, keeping the options object the caller may hold. */
static void release_state(hwnas_strategy *s)
{
    if (s->state && impl_of(s)->fini)
        impl_of(s)->fini(s);
    s->state = NULL;
    hwnas_rng_free(s->rng);
    s->rng = NULL;
    hwnas__free(s->ctx, s->pend_id);
    hwnas__free(s->ctx, s->pend_tag);
    hwnas__free(s->ctx, s->pend_genes);
    s->pend_id = s->pend_tag = NULL;
    s->pend_genes = NULL;
    s->n_pending = s->cap_pending = 0;
}

void hwnas_strategy_free(hwnas_strategy *s)
{
    if (!s)
        return;
    release_state(s);
    hwnas_options_free(s->options);
    hwnas__free(s->ctx, s);
}

/* Set up the RNG and the kind's state of a strategy whose fixed fields
 * (ctx, kind, options, space, sizes, seed) are set. */
static int init_state(hwnas_strategy *s)
{
    int rc = hwnas_rng_new(&s->rng, s->ctx, s->seed, 0x5354524154ULL /* "STRAT" */);
    if (rc != HWNAS_OK)
        return rc;
    s->next_id = 1;
    return impl_of(s)->init(s);
}

int hwnas_strategy_new(hwnas_strategy **out, hwnas_context *ctx, const char *kind,
                       const char *options, const hwnas_space *space, size_t n_objectives)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_strategy_new: out is NULL");
    *out = NULL;
    if (!ctx || !kind || !space)
        return hwnas__error(HWNAS_EINVAL, "hwnas_strategy_new: ctx, kind and space are required");
    const hwnas__kind *k = hwnas__kind_find_in(ctx, "strategy", kind);
    if (!k)
        return HWNAS_ENOTFOUND;
    if (strncmp(k->name, "strategy:", 9) != 0 || !k->impl)
        return hwnas__error(HWNAS_ENOTFOUND, "'%s' is a %s, not a strategy", kind, k->name);
    const hwnas__strategy_impl *impl = k->impl;
    if (n_objectives == 0 || (impl->max_objectives && n_objectives > impl->max_objectives))
        return hwnas__error(HWNAS_EINVAL, "%s: %zu objectives (it takes 1 to %zu)", k->name,
                            n_objectives, impl->max_objectives ? impl->max_objectives : 1000);
    if (hwnas_space_gene_count(space) == 0)
        return hwnas__error(HWNAS_EINVAL, "%s: the space %s has no genes", k->name,
                            hwnas_space_kind(space));
    hwnas_strategy *s = hwnas__calloc(ctx, 1, sizeof *s);
    if (!s)
        return HWNAS_ENOMEM;
    s->ctx = ctx;
    s->kind = k;
    s->space = space;
    s->n_genes = hwnas_space_gene_count(space);
    s->n_obj = n_objectives;
    int rc = hwnas__options_new_kind(&s->options, ctx, k, options);
    if (rc != HWNAS_OK) {
        hwnas__free(ctx, s);
        return rc;
    }
    int64_t seed = hwnas__strategy_opt_int(s, "seed");
    s->seed = seed ? (uint64_t)seed : hwnas_context_seed(ctx);
    rc = init_state(s);
    if (rc != HWNAS_OK) {
        hwnas_strategy_free(s);
        return rc;
    }
    *out = s;
    return HWNAS_OK;
}

const char *hwnas_strategy_kind(const hwnas_strategy *s) { return s ? s->kind->name : NULL; }

const hwnas_options *hwnas_strategy_options(const hwnas_strategy *s)
{
    return s ? s->options : NULL;
}

size_t hwnas_strategy_pending(const hwnas_strategy *s) { return s ? s->n_pending : 0; }

/* ---- ask / tell -------------------------------------------------------- */

static int reserve_pending(hwnas_strategy *s, size_t need)
{
    if (need <= s->cap_pending)
        return HWNAS_OK;
    size_t cap = s->cap_pending ? s->cap_pending : 16;
    while (cap < need)
        cap *= 2;
    uint64_t *id = hwnas__realloc(s->ctx, s->pend_id, cap * sizeof *id);
    if (!id)
        return HWNAS_ENOMEM;
    s->pend_id = id;
    uint64_t *tag = hwnas__realloc(s->ctx, s->pend_tag, cap * sizeof *tag);
    if (!tag)
        return HWNAS_ENOMEM;
    s->pend_tag = tag;
    uint32_t *g = hwnas__realloc(s->ctx, s->pend_genes, cap * s->n_genes * sizeof *g);
    if (!g)
        return HWNAS_ENOMEM;
    s->pend_genes = g;
    s->cap_pending = cap;
    return HWNAS_OK;
}

int hwnas_strategy_ask(hwnas_strategy *s, size_t max, uint32_t *genes, uint64_t *ids,
                       size_t *count)
{
    if (!count)
        return hwnas__error(HWNAS_EINVAL, "hwnas_strategy_ask: count is NULL");
    *count = 0;
    if (!s || (max > 0 && (!genes || !ids)))
        return hwnas__error(HWNAS_EINVAL, "hwnas_strategy_ask: strategy, genes and ids are required");
    if (max == 0)
        return HWNAS_OK;
    if (max > ASK_LIMIT)
        max = ASK_LIMIT;
    int rc = reserve_pending(s, s->n_pending + max);
    if (rc != HWNAS_OK)
        return rc;
    size_t n = 0;
    rc = impl_of(s)->ask(s, max, genes, s->pend_tag + s->n_pending, &n);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t k = 0; k < n; k++) {
        size_t p = s->n_pending + k;
        s->pend_id[p] = ids[k] = s->next_id++;
        memcpy(s->pend_genes + p * s->n_genes, genes + k * s->n_genes,
               s->n_genes * sizeof *genes);
    }
    s->n_pending += n;
    *count = n;
    return HWNAS_OK;
}

/* Index of id among the pending ones (sorted), or SIZE_MAX. */
static size_t find_pending(const hwnas_strategy *s, uint64_t id)
{
    size_t lo = 0, hi = s->n_pending;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->pend_id[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_pending && s->pend_id[lo] == id ? lo : SIZE_MAX;
}

static int tell(hwnas_strategy *s, size_t count, const uint64_t *ids, const double *objectives,
                const double *violations, const int *failed, int unevaluated)
{
    if (!s || (count > 0 && (!ids || (!objectives && !unevaluated))))
        return hwnas__error(HWNAS_EINVAL, "hwnas_strategy_tell: strategy, ids and objectives are required");
    if (count == 0)
        return HWNAS_OK;
    size_t m = s->n_obj;
    size_t *where = hwnas__malloc(s->ctx, count * sizeof *where);
    hwnas__strategy_result *res = hwnas__malloc(s->ctx, count * sizeof *res);
    double *failed_obj = hwnas__malloc(s->ctx, m * sizeof *failed_obj);
    int rc = where && res && failed_obj ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t j = 0; rc == HWNAS_OK && j < m; j++)
        failed_obj[j] = DBL_MAX;
    /* Check everything before anything is told. */
    for (size_t k = 0; rc == HWNAS_OK && k < count; k++) {
        size_t p = find_pending(s, ids[k]);
        if (p == SIZE_MAX) {
            rc = hwnas__error(HWNAS_EINVAL,
                              "%s: tell: id %llu (entry %zu) is not pending (unknown or already "
                              "told)",
                              s->kind->name, (unsigned long long)ids[k], k);
            break;
        }
        for (size_t q = 0; q < k; q++)
            if (where[q] == p) {
                rc = hwnas__error(HWNAS_EINVAL, "%s: tell: id %llu appears twice (entries %zu and %zu)",
                                  s->kind->name, (unsigned long long)ids[k], q, k);
                break;
            }
        if (rc != HWNAS_OK)
            break;
        where[k] = p;
        int f = unevaluated || (failed && failed[k]);
        double v = violations ? violations[k] : 0.0;
        if (!f && isnan(v)) {
            rc = hwnas__error(HWNAS_EINVAL, "%s: tell: id %llu has a NaN violation",
                              s->kind->name, (unsigned long long)ids[k]);
            break;
        }
        for (size_t j = 0; !f && j < m; j++)
            if (!isfinite(objectives[k * m + j])) {
                rc = hwnas__error(HWNAS_EINVAL,
                                  "%s: tell: id %llu has a non-finite objective %zu (%g); mark "
                                  "it failed instead",
                                  s->kind->name, (unsigned long long)ids[k], j,
                                  objectives[k * m + j]);
                break;
            }
        res[k].tag = s->pend_tag[p];
        res[k].genes = s->pend_genes + p * s->n_genes;
        res[k].failed = f;
        res[k].unevaluated = unevaluated;
        res[k].obj = f ? failed_obj : objectives + k * m;
        res[k].violation = f ? DBL_MAX : (v > 0 ? (v > DBL_MAX ? DBL_MAX : v) : 0.0);
    }
    if (rc == HWNAS_OK) {
        impl_of(s)->tell(s, count, res);
        /* Drop the told candidates, keeping the ids sorted. */
        for (size_t k = 0; k < count; k++)
            s->pend_id[where[k]] = 0;
        size_t o = 0;
        for (size_t p = 0; p < s->n_pending; p++) {
            if (s->pend_id[p] == 0)
                continue;
            if (o != p) {
                s->pend_id[o] = s->pend_id[p];
                s->pend_tag[o] = s->pend_tag[p];
                memmove(s->pend_genes + o * s->n_genes, s->pend_genes + p * s->n_genes,
                        s->n_genes * sizeof *s->pend_genes);
            }
            o++;
        }
        s->n_pending = o;
    }
    hwnas__free(s->ctx, where);
    hwnas__free(s->ctx, res);
    hwnas__free(s->ctx, failed_obj);
    return rc;
}

int hwnas_strategy_tell(hwnas_strategy *s, size_t count, const uint64_t *ids,
                        const double *objectives, const double *violations, const int *failed)
{
    return tell(s, count, ids, objectives, violations, failed, 0);
}

int hwnas__strategy_tell_unevaluated(hwnas_strategy *s, size_t count, const uint64_t *ids)
{
    return tell(s, count, ids, NULL, NULL, NULL, 1);
}

/* ---- save / load ------------------------------------------------------- */

/* What must match between a saved state and the strategy loading it: the
 * options (canonical text), objective count and the space's genes. */
static int fingerprint(const hwnas_strategy *s, uint64_t *out)
{
    char *opts = NULL;
    int rc = hwnas_options_format(s->options, 0, &opts);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__writer w = {.ctx = s->ctx};
    hwnas__writer_put(&w, opts, strlen(opts));
    hwnas_free(opts);
    hwnas__writer_u64(&w, s->n_obj);
    hwnas__writer_put(&w, hwnas_space_kind(s->space), strlen(hwnas_space_kind(s->space)));
    for (size_t i = 0; i < s->n_genes; i++) {
        hwnas__writer_u32(&w, hwnas_space_gene_cardinality(s->space, i));
        hwnas__writer_u8(&w, (uint8_t)hwnas_space_gene_ordinal(s->space, i));
    }
    if (w.failed) {
        hwnas__free(s->ctx, w.data);
        return HWNAS_ENOMEM;
    }
    *out = hwnas__hash_bytes(w.data, w.len);
    hwnas__free(s->ctx, w.data);
    return HWNAS_OK;
}

void hwnas__strategy_fix_checksum(uint8_t *data, size_t len)
{
    if (len < 8)
        return;
    uint64_t h = hwnas__hash_bytes(data, len - 8);
    for (int i = 0; i < 8; i++)
        data[len - 8 + (size_t)i] = (uint8_t)(h >> (8 * i));
}

int hwnas_strategy_save(const hwnas_strategy *s, uint8_t **out, size_t *len)
{
    if (!out || !len)
        return hwnas__error(HWNAS_EINVAL, "hwnas_strategy_save: out and len are required");
    *out = NULL;
    *len = 0;
    if (!s)
        return hwnas__error(HWNAS_EINVAL, "hwnas_strategy_save: strategy is NULL");
    uint64_t fp;
    int rc = fingerprint(s, &fp);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__writer w = {.ctx = s->ctx};
    hwnas__writer_put(&w, STATE_MAGIC, 8);
    hwnas__writer_u32(&w, STATE_VERSION);
    uint32_t kl = (uint32_t)strlen(s->kind->name);
    hwnas__writer_u32(&w, kl);
    hwnas__writer_put(&w, s->kind->name, kl);
    hwnas__writer_u64(&w, fp);
    hwnas__writer_u32(&w, (uint32_t)s->n_genes);
    hwnas__writer_u32(&w, (uint32_t)s->n_obj);
    uint8_t rng[HWNAS_RNG_STATE_SIZE];
    hwnas_rng_save(s->rng, rng);
    hwnas__writer_put(&w, rng, sizeof rng);
    hwnas__writer_u64(&w, s->next_id);
    hwnas__writer_u64(&w, s->n_pending);
    for (size_t p = 0; p < s->n_pending; p++) {
        hwnas__writer_u64(&w, s->pend_id[p]);
        hwnas__writer_u64(&w, s->pend_tag[p]);
        for (size_t i = 0; i < s->n_genes; i++)
            hwnas__writer_u32(&w, s->pend_genes[p * s->n_genes + i]);
    }
    size_t at = w.len;
    hwnas__writer_u64(&w, 0); /* length of the kind's part, patched below */
    rc = impl_of(s)->save(s, &w);
    if (rc == HWNAS_OK && !w.failed) {
        uint64_t kl64 = w.len - at - 8;
        for (int i = 0; i < 8; i++)
            w.data[at + (size_t)i] = (uint8_t)(kl64 >> (8 * i));
        hwnas__writer_u64(&w, 0); /* checksum */
    }
    if (rc == HWNAS_OK && w.failed)
        rc = HWNAS_ENOMEM;
    if (rc == HWNAS_OK) {
        hwnas__strategy_fix_checksum(w.data, w.len);
        *out = hwnas__buffer_alloc(s->ctx, w.len);
        if (*out) {
            memcpy(*out, w.data, w.len);
            *len = w.len;
        } else {
            rc = HWNAS_ENOMEM;
        }
    }
    hwnas__free(s->ctx, w.data);
    if (rc == HWNAS_ENOMEM)
        return hwnas__enomem();
    return rc;
}

static int bad(const hwnas_strategy *s, const char *what, size_t pos)
{
    return hwnas__error(HWNAS_EFORMAT, "%s: saved state: %s (byte %zu)", s->kind->name, what, pos);
}

/* Read the framework's part into t (fresh RNG and no pending yet). */
static int load_core(hwnas_strategy *t, hwnas__reader *r, uint64_t fp)
{
    const uint8_t *magic = hwnas__reader_take(r, 8);
    if (!magic || memcmp(magic, STATE_MAGIC, 8) != 0)
        return bad(t, "not a strategy state (bad magic)", 0);
    uint32_t version = hwnas__reader_u32(r);
    if (r->failed)
        return bad(t, "truncated header", r->pos);
    if (version != STATE_VERSION)
        return hwnas__error(HWNAS_EVERSION,
                            "%s: saved state has format version %u; this library reads %u",
                            t->kind->name, (unsigned)version, STATE_VERSION);
    uint32_t kl = hwnas__reader_u32(r);
    const uint8_t *kname = hwnas__reader_take(r, kl);
    if (!kname)
        return bad(t, "truncated kind name", r->pos);
    if (kl != strlen(t->kind->name) || memcmp(kname, t->kind->name, kl) != 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: saved state is of kind '%.*s'", t->kind->name,
                            (int)(kl > 64 ? 64 : kl), (const char *)kname);
    uint64_t sfp = hwnas__reader_u64(r);
    uint32_t ng = hwnas__reader_u32(r), no = hwnas__reader_u32(r);
    if (r->failed)
        return bad(t, "truncated header", r->pos);
    if (ng != t->n_genes || no != t->n_obj || sfp != fp)
        return hwnas__error(HWNAS_EFORMAT,
                            "%s: saved state is for another space, objective count or options "
                            "(%u genes, %u objectives; this strategy: %zu genes, %zu objectives)",
                            t->kind->name, (unsigned)ng, (unsigned)no, t->n_genes, t->n_obj);
    const uint8_t *rng = hwnas__reader_take(r, HWNAS_RNG_STATE_SIZE);
    if (!rng || hwnas_rng_load(t->rng, rng) != HWNAS_OK)
        return bad(t, "bad random generator state", r->pos);
    t->next_id = hwnas__reader_u64(r);
    if (t->next_id == 0 || t->next_id > (UINT64_C(1) << 62))
        return bad(t, "next candidate id out of range", r->pos);
    size_t np = hwnas__reader_count(r, 16 + 4 * t->n_genes);
    if (r->failed)
        return bad(t, "truncated pending list", r->pos);
    int rc = reserve_pending(t, np);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t p = 0; p < np; p++) {
        t->pend_id[p] = hwnas__reader_u64(r);
        t->pend_tag[p] = hwnas__reader_u64(r);
        uint32_t *g = t->pend_genes + p * t->n_genes;
        for (size_t i = 0; i < t->n_genes; i++)
            g[i] = hwnas__reader_u32(r);
        if (r->failed)
            return bad(t, "truncated pending candidate", r->pos);
        if (t->pend_id[p] == 0 || t->pend_id[p] >= t->next_id ||
            (p > 0 && t->pend_id[p] <= t->pend_id[p - 1]))
            return bad(t, "pending ids out of order", r->pos);
        for (size_t i = 0; i < t->n_genes; i++)
            if (g[i] >= hwnas_space_gene_cardinality(t->space, i))
                return bad(t, "pending genotype out of the space", r->pos);
        t->n_pending = p + 1;
    }
    return HWNAS_OK;
}

int hwnas_strategy_load(hwnas_strategy *s, const uint8_t *data, size_t len)
{
    if (!s || (!data && len > 0))
        return hwnas__error(HWNAS_EINVAL, "hwnas_strategy_load: strategy and data are required");
    if (len < 8 + 4 + 8)
        return bad(s, "truncated", len);
    uint64_t sum = 0;
    for (int i = 0; i < 8; i++)
        sum |= (uint64_t)data[len - 8 + (size_t)i] << (8 * i);
    if (memcmp(data, STATE_MAGIC, 8) != 0)
        return bad(s, "not a strategy state (bad magic)", 0);
    if (sum != hwnas__hash_bytes(data, len - 8))
        return bad(s, "checksum mismatch: the data is truncated or corrupted", len - 8);
    uint64_t fp;
    int rc = fingerprint(s, &fp);
    if (rc != HWNAS_OK)
        return rc;
    /* Build the new state beside the old one; swap only on success. */
    hwnas_strategy t = *s;
    t.rng = NULL;
    t.state = NULL;
    t.pend_id = t.pend_tag = NULL;
    t.pend_genes = NULL;
    t.n_pending = t.cap_pending = 0;
    rc = init_state(&t);
    hwnas__reader r = {.data = data, .len = len - 8};
    if (rc == HWNAS_OK)
        rc = load_core(&t, &r, fp);
    if (rc == HWNAS_OK) {
        size_t klen = hwnas__reader_count(&r, 1);
        if (r.failed || klen != r.len - r.pos)
            rc = bad(s, "kind state length does not match", r.pos);
    }
    if (rc == HWNAS_OK) {
        rc = impl_of(s)->load(&t, &r);
        if (rc == HWNAS_OK && (r.failed || r.pos != r.len))
            rc = bad(s, r.failed ? "kind state truncated or inconsistent" : "trailing bytes", r.pos);
    }
    if (rc != HWNAS_OK) {
        release_state(&t);
        return rc;
    }
    release_state(s);
    *s = t;
    return HWNAS_OK;
}

/* ---- variation helpers --------------------------------------------------- */

int hwnas__strategy_gene_ordinal(const hwnas_strategy *s, size_t i, int all_ordinal)
{
    return all_ordinal || hwnas_space_gene_ordinal(s->space, i) == 1;
}

static uint32_t round_gene(double x, uint32_t card)
{
    double hi = (double)(card - 1);
    x = x < 0 ? 0 : (x > hi ? hi : x);
    return (uint32_t)floor(x + 0.5);
}

void hwnas__strategy_sbx(hwnas_strategy *s, const uint32_t *a, const uint32_t *b, uint32_t *c,
                         uint32_t *d, double eta, int all_ordinal)
{
    hwnas__rng *r = hwnas__strategy_rng(s);
    for (size_t i = 0; i < s->n_genes; i++) {
        uint32_t card = hwnas_space_gene_cardinality(s->space, i);
        uint32_t x1 = a[i], x2 = b[i];
        int change = hwnas__rng_uniform(r) <= 0.5;
        if (!hwnas__strategy_gene_ordinal(s, i, all_ordinal) || card < 2) {
            c[i] = change ? x2 : x1;
            d[i] = change ? x1 : x2;
            continue;
        }
        if (!change || x1 == x2) {
            c[i] = x1;
            d[i] = x2;
            continue;
        }
        /* Bounded SBX on the real line [0, card - 1]. */
        double lo = 0, up = (double)(card - 1);
        double y1 = x1 < x2 ? x1 : x2, y2 = x1 < x2 ? x2 : x1;
        double u = hwnas__rng_uniform(r);
        double beta = 1.0 + 2.0 * (y1 - lo) / (y2 - y1);
        double alpha = 2.0 - pow(beta, -(eta + 1.0));
        double bq = u <= 1.0 / alpha ? pow(u * alpha, 1.0 / (eta + 1.0))
                                     : pow(1.0 / (2.0 - u * alpha), 1.0 / (eta + 1.0));
        double c1 = 0.5 * (y1 + y2 - bq * (y2 - y1));
        beta = 1.0 + 2.0 * (up - y2) / (y2 - y1);
        alpha = 2.0 - pow(beta, -(eta + 1.0));
        bq = u <= 1.0 / alpha ? pow(u * alpha, 1.0 / (eta + 1.0))
                              : pow(1.0 / (2.0 - u * alpha), 1.0 / (eta + 1.0));
        double c2 = 0.5 * (y1 + y2 + bq * (y2 - y1));
        if (hwnas__rng_uniform(r) <= 0.5) {
            double t = c1;
            c1 = c2;
            c2 = t;
        }
        c[i] = round_gene(c1, card);
        d[i] = round_gene(c2, card);
    }
}

void hwnas__strategy_polymut(hwnas_strategy *s, uint32_t *g, double rate, double eta,
                             int all_ordinal)
{
    hwnas__rng *r = hwnas__strategy_rng(s);
    for (size_t i = 0; i < s->n_genes; i++) {
        uint32_t card = hwnas_space_gene_cardinality(s->space, i);
        if (card < 2 || hwnas__rng_uniform(r) >= rate)
            continue;
        if (!hwnas__strategy_gene_ordinal(s, i, all_ordinal)) {
            uint32_t v = (uint32_t)hwnas__rng_below(r, card - 1);
            g[i] = v >= g[i] ? v + 1 : v;
            continue;
        }
        /* Deb's polynomial mutation, bounded version, on [0, card - 1]. */
        double lo = 0, up = (double)(card - 1), x = g[i];
        double d1 = (x - lo) / (up - lo), d2 = (up - x) / (up - lo);
        double u = hwnas__rng_uniform(r), p = 1.0 / (eta + 1.0), dq;
        if (u < 0.5) {
            double v = 2.0 * u + (1.0 - 2.0 * u) * pow(1.0 - d1, eta + 1.0);
            dq = pow(v, p) - 1.0;
        } else {
            double v = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * pow(1.0 - d2, eta + 1.0);
            dq = 1.0 - pow(v, p);
        }
        g[i] = round_gene(x + dq * (up - lo), card);
    }
}

/* ---- groups of candidates (ea.c, nsga2.c) ------------------------------- */

int hwnas__group_alloc(const hwnas_context *ctx, hwnas__group *g, size_t n, size_t ng, size_t m)
{
    g->g = hwnas__calloc(ctx, n * ng, sizeof *g->g);
    g->o = hwnas__calloc(ctx, n * m, sizeof *g->o);
    g->v = hwnas__calloc(ctx, n, sizeof *g->v);
    g->f = hwnas__calloc(ctx, n, sizeof *g->f);
    return g->g && g->o && g->v && g->f ? HWNAS_OK : HWNAS_ENOMEM;
}

void hwnas__group_free(const hwnas_context *ctx, hwnas__group *g)
{
    hwnas__free(ctx, g->g);
    hwnas__free(ctx, g->o);
    hwnas__free(ctx, g->v);
    hwnas__free(ctx, g->f);
}

void hwnas__group_save(hwnas__writer *w, const hwnas__group *g, size_t n, size_t ng, size_t m)
{
    for (size_t i = 0; i < n * ng; i++)
        hwnas__writer_u32(w, g->g[i]);
    for (size_t i = 0; i < n * m; i++)
        hwnas__writer_f64(w, g->o[i]);
    for (size_t i = 0; i < n; i++) {
        hwnas__writer_f64(w, g->v[i]);
        hwnas__writer_u8(w, g->f[i]);
    }
}

int hwnas__group_load(const hwnas_strategy *s, hwnas__reader *r, hwnas__group *g, size_t n)
{
    size_t ng = s->n_genes, m = s->n_obj;
    for (size_t i = 0; i < n * ng; i++) {
        g->g[i] = hwnas__reader_u32(r);
        if (g->g[i] >= hwnas_space_gene_cardinality(s->space, i % ng))
            return hwnas__reader_fail(r);
    }
    /* tell() keeps objectives and violations finite (a failed candidate
     * holds DBL_MAX), so a saved state holds nothing else */
    for (size_t i = 0; i < n * m; i++) {
        g->o[i] = hwnas__reader_f64(r);
        if (!isfinite(g->o[i]))
            return hwnas__reader_fail(r);
    }
    for (size_t i = 0; i < n; i++) {
        g->v[i] = hwnas__reader_f64(r);
        g->f[i] = hwnas__reader_u8(r);
        if (g->f[i] > 1 || !(g->v[i] >= 0) || !isfinite(g->v[i]))
            return hwnas__reader_fail(r);
    }
    return !r->failed;
}
