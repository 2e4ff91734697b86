/*
 * The archive: every candidate's record in evaluation order, its scoring
 * (objectives and constraint violation), failure records, the evaluation
 * cache by phenotype hash, and the public getters of one candidate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

int hwnas__record_fail(const hwnas_search *s, hwnas__record *r, const char *why)
{
    r->failed = 1;
    hwnas__free(s->ctx, r->error);
    r->error = hwnas__strdup(s->ctx, why && *why ? why : "unknown error");
    return r->error ? HWNAS_OK : HWNAS_ENOMEM;
}

/* Why a candidate fails when an objective is not finite (the name whole;
 * NULL on ENOMEM). */
char *hwnas__not_finite(const hwnas_context *ctx, const char *objective, double v)
{
    hwnas__strbuf why;
    hwnas__strbuf_init(&why, ctx);
    hwnas__strbuf_printf(&why, "objective %s is not finite (%g)", objective, v);
    if (!why.failed)
        return why.data;
    hwnas__strbuf_release(&why);
    return NULL;
}

void hwnas__record_release(const hwnas_context *ctx, hwnas__record *r)
{
    hwnas__free(ctx, r->genes);
    hwnas__free(ctx, r->key);
    hwnas__free(ctx, r->metrics);
    hwnas__free(ctx, r->obj);
    hwnas__free(ctx, r->error);
    hwnas__free(ctx, r->proxy);
    hwnas__free(ctx, r->proxy_obj);
    hwnas__free(ctx, r->refine_error);
    hwnas__free(ctx, r->curve);
    memset(r, 0, sizeof *r);
}

/* A record for genes: its genotype string and phenotype hash, metrics NaN.
 * A genotype the space cannot hash is a failed record, not an error. */
int hwnas__record_new(hwnas_search *s, hwnas__record *r, const uint32_t *genes, uint64_t id,
                      uint64_t eval)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->eval = eval;
    r->stream = eval;
    r->genes = hwnas__malloc(s->ctx, s->n_genes * sizeof *r->genes);
    r->metrics = hwnas__malloc(s->ctx, (s->n_metrics ? s->n_metrics : 1) * sizeof *r->metrics);
    if (!r->genes || !r->metrics)
        return HWNAS_ENOMEM;
    memcpy(r->genes, genes, s->n_genes * sizeof *genes);
    for (size_t m = 0; m < s->n_metrics; m++)
        r->metrics[m] = NAN;
    int rc = hwnas_space_format(s->space, genes, &r->key);
    if (rc == HWNAS_OK) {
        /* hwnas_space_format returns an hwnas_free() buffer: keep our own copy. */
        char *k = hwnas__strdup(s->ctx, r->key);
        hwnas_free(r->key);
        r->key = k;
        if (!k)
            return HWNAS_ENOMEM;
        rc = hwnas_space_hash(s->space, genes, &r->hash);
        if (rc == HWNAS_EINVALID)
            return hwnas__record_fail(s, r, hwnas_error_last());
    }
    return rc;
}

/* Objectives (minimised) and total relative constraint violation. A
 * metric that is NaN violates its constraint (1e300) unless a measured
 * metric already does: screening leaves the later estimators' metrics NaN.
 * The objectives of an infeasible candidate do not rank it (constraint
 * domination orders by violation), so a NaN one is told as 1e300. */
int hwnas__search_score(hwnas_search *s, hwnas__record *r)
{
    if (r->failed)
        return HWNAS_OK;
    r->violation = 0;
    int unmeasured = 0;
    for (size_t k = 0; k < s->n_con; k++) {
        double v = r->metrics[s->con[k].metric], b = s->con[k].bound;
        double over = s->con[k].upper ? v - b : b - v;
        if (isnan(over))
            unmeasured = 1;
        else if (over > 0)
            r->violation += isfinite(over) ? over / (fabs(b) > 1e-12 ? fabs(b) : 1.0) : 1e300;
    }
    if (unmeasured && !(r->violation > 0))
        r->violation = 1e300;
    r->obj = hwnas__malloc(s->ctx, (s->n_obj ? s->n_obj : 1) * sizeof *r->obj);
    if (!r->obj)
        return HWNAS_ENOMEM;
    for (size_t k = 0; k < s->n_obj; k++) {
        double v = r->metrics[s->obj[k].metric];
        if (isnan(v) && r->pruned && r->n_curve)
            v = r->curve[2 * r->n_curve - 1]; /* not measured when pruned (accuracy_q):
                                               * its curve stands for it, as at the rungs */
        if (isnan(v) && r->violation > 0) {
            r->obj[k] = 1e300;
            continue;
        }
        if (!isfinite(v)) {
            hwnas__free(s->ctx, r->obj);
            r->obj = NULL;
            char *why = hwnas__not_finite(s->ctx, s->obj[k].name, v);
            int rc = why ? hwnas__record_fail(s, r, why) : HWNAS_ENOMEM;
            hwnas__free(s->ctx, why);
            return rc;
        }
        r->obj[k] = s->obj[k].sign * v;
    }
    return HWNAS_OK;
}

/* Append r as the next evaluation; the archive takes what r owns. */
int hwnas__search_archive(hwnas_search *s, hwnas__record *r)
{
    if (s->n_rec == s->cap_rec) {
        size_t cap = s->cap_rec ? s->cap_rec * 2 : 64;
        hwnas__record *rec = hwnas__realloc(s->ctx, s->rec, cap * sizeof *rec);
        if (!rec)
            return HWNAS_ENOMEM;
        s->rec = rec;
        s->cap_rec = cap;
    }
    /* Estimators that learn (estimator:predictor) hear of every complete
     * result (a pruned candidate's figures are partial). */
    for (size_t i = 0; !r->failed && !r->pruned && i < s->n_est; i++) {
        int rc = hwnas_estimator_observe(s->est[i], r->key, s->n_metrics,
                                         (const char *const *)s->metric_names, r->metrics);
        if (rc != HWNAS_OK)
            return rc;
    }
    r->eval = s->n_rec;
    s->rec[s->n_rec++] = *r;
    memset(r, 0, sizeof *r);
    return HWNAS_OK;
}

/* The archive, the journal records waiting to be replayed, the cache. */
void hwnas__archive_release(hwnas_search *s)
{
    for (size_t i = 0; i < s->n_rec; i++)
        hwnas__record_release(s->ctx, &s->rec[i]);
    for (size_t i = 0; i < s->n_replay; i++)
        hwnas__record_release(s->ctx, &s->replay[i]);
    hwnas__free(s->ctx, s->rec);
    hwnas__free(s->ctx, s->replay);
    hwnas__free(s->ctx, s->cache_keys);
    hwnas__free(s->ctx, s->cache_vals);
    s->rec = s->replay = NULL;
    s->n_rec = s->n_replay = 0;
    s->cache_keys = NULL;
    s->cache_vals = NULL;
}

/* ---- the evaluation cache: phenotype hash -> first successful record -- */

int hwnas__cache_init(hwnas_search *s)
{
    s->cache_mask = 255;
    s->cache_keys = hwnas__calloc(s->ctx, s->cache_mask + 1, sizeof *s->cache_keys);
    s->cache_vals = hwnas__malloc(s->ctx, (s->cache_mask + 1) * sizeof *s->cache_vals);
    if (!s->cache_keys || !s->cache_vals)
        return HWNAS_ENOMEM;
    memset(s->cache_vals, 0xff, (s->cache_mask + 1) * sizeof *s->cache_vals);
    return HWNAS_OK;
}

int64_t hwnas__cache_find(const hwnas_search *s, uint64_t hash)
{
    uint64_t key = hash ? hash : 1; /* 0 marks an empty slot */
    for (size_t k = (size_t)key & s->cache_mask;; k = (k + 1) & s->cache_mask) {
        if (s->cache_keys[k] == 0)
            return -1;
        if (s->cache_keys[k] == key)
            return s->cache_vals[k];
    }
}

int hwnas__cache_put(hwnas_search *s, uint64_t hash, int64_t index)
{
    if (2 * (s->cache_used + 1) > s->cache_mask + 1) {
        size_t slots = (s->cache_mask + 1) * 2;
        uint64_t *keys = hwnas__calloc(s->ctx, slots, sizeof *keys);
        int64_t *vals = hwnas__malloc(s->ctx, slots * sizeof *vals);
        if (!keys || !vals) {
            hwnas__free(s->ctx, keys);
            hwnas__free(s->ctx, vals);
            return HWNAS_ENOMEM;
        }
        for (size_t k = 0; k <= s->cache_mask; k++) {
            if (!s->cache_keys[k])
                continue;
            size_t j = (size_t)s->cache_keys[k] & (slots - 1);
            while (keys[j])
                j = (j + 1) & (slots - 1);
            keys[j] = s->cache_keys[k];
            vals[j] = s->cache_vals[k];
        }
        hwnas__free(s->ctx, s->cache_keys);
        hwnas__free(s->ctx, s->cache_vals);
        s->cache_keys = keys;
        s->cache_vals = vals;
        s->cache_mask = slots - 1;
    }
    uint64_t key = hash ? hash : 1;
    size_t k = (size_t)key & s->cache_mask;
    while (s->cache_keys[k] && s->cache_keys[k] != key)
        k = (k + 1) & s->cache_mask;
    if (!s->cache_keys[k])
        s->cache_used++;
    s->cache_keys[k] = key;
    s->cache_vals[k] = index;
    return HWNAS_OK;
}

/* ---- one candidate, for the host ---------------------------------------- */

int64_t hwnas__metric_index(const hwnas_search *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n_metrics; i++)
        if (strlen(s->metric_names[i]) == len && memcmp(s->metric_names[i], name, len) == 0)
            return (int64_t)i;
    return -1;
}

size_t hwnas_search_count(const hwnas_search *s) { return s ? s->n_rec : 0; }

const uint32_t *hwnas_search_genes(const hwnas_search *s, size_t i)
{
    return s && i < s->n_rec ? s->rec[i].genes : NULL;
}

const char *hwnas_search_key(const hwnas_search *s, size_t i)
{
    return s && i < s->n_rec ? s->rec[i].key : NULL;
}

uint64_t hwnas_search_hash(const hwnas_search *s, size_t i)
{
    return s && i < s->n_rec ? s->rec[i].hash : 0;
}

int hwnas_search_metric(const hwnas_search *s, size_t i, const char *name, double *out)
{
    if (!s || !name || !out || i >= s->n_rec)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_metric: bad search, index or name");
    int64_t m = hwnas__metric_index(s, name, strlen(name));
    if (m < 0)
        return hwnas__error(HWNAS_ENOTFOUND, "search: no metric '%s'", name);
    *out = s->rec[i].metrics[m];
    return HWNAS_OK;
}

const char *hwnas_search_error(const hwnas_search *s, size_t i)
{
    return s && i < s->n_rec ? s->rec[i].error : NULL;
}

double hwnas_search_seconds(const hwnas_search *s, size_t i)
{
    return s && i < s->n_rec ? s->rec[i].seconds : 0.0;
}

int hwnas_search_cached(const hwnas_search *s, size_t i)
{
    return s && i < s->n_rec ? s->rec[i].cached : 0;
}

int hwnas_search_refined(const hwnas_search *s, size_t i)
{
    return s && i < s->n_rec ? s->rec[i].refined : 0;
}

int hwnas_search_proxy_metric(const hwnas_search *s, size_t i, const char *name, double *out)
{
    if (!s || !name || !out || i >= s->n_rec)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_proxy_metric: search, name and out are "
                                          "required and i below the count");
    int64_t m = hwnas__metric_index(s, name, strlen(name));
    if (m < 0)
        return hwnas__error(HWNAS_ENOTFOUND, "search: no metric '%s'", name);
    const hwnas__record *r = &s->rec[i];
    *out = r->proxy ? r->proxy[m] : r->metrics[m];
    return HWNAS_OK;
}
