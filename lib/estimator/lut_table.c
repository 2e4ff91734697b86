/* The latency LUT table: entries by canonical key (open addressing), set,
 * get and profiled samples, the per-net overhead and the device text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lut_internal.h"

int hwnas_latency_lut_new(hwnas_latency_lut **out, hwnas_context *ctx)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_new: out is NULL");
    *out = NULL;
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_new: ctx is NULL");
    hwnas_latency_lut *lut = hwnas__calloc(ctx, 1, sizeof *lut);
    if (!lut)
        return HWNAS_ENOMEM;
    lut->ctx = ctx;
    lut->device = hwnas__strdup(ctx, "");
    if (!lut->device) {
        hwnas__free(ctx, lut);
        return HWNAS_ENOMEM;
    }
    *out = lut;
    return HWNAS_OK;
}

void hwnas_latency_lut_free(hwnas_latency_lut *lut)
{
    if (!lut)
        return;
    for (size_t i = 0; i < lut->n; i++) {
        hwnas__free(lut->ctx, lut->entries[i].text);
        hwnas__free(lut->ctx, lut->entries[i].samples);
    }
    hwnas__free(lut->ctx, lut->entries);
    hwnas__free(lut->ctx, lut->slots);
    hwnas__free(lut->ctx, lut->device);
    hwnas__free(lut->ctx, lut->residuals);
    hwnas__free(lut->ctx, lut);
}

hwnas_context *hwnas__lut_context(const hwnas_latency_lut *lut) { return lut->ctx; }

int64_t hwnas__lut_find(const hwnas_latency_lut *lut, const char *text)
{
    if (lut->n_slots == 0)
        return -1;
    size_t mask = lut->n_slots - 1;
    for (size_t h = (size_t)hwnas__hash_bytes(text, strlen(text)) & mask;; h = (h + 1) & mask) {
        uint32_t s = lut->slots[h];
        if (s == 0)
            return -1;
        if (strcmp(lut->entries[s - 1].text, text) == 0)
            return (int64_t)(s - 1);
    }
}

static void slot_insert(uint32_t *slots, size_t n_slots, const char *text, uint32_t index)
{
    size_t mask = n_slots - 1;
    size_t h = (size_t)hwnas__hash_bytes(text, strlen(text)) & mask;
    while (slots[h] != 0)
        h = (h + 1) & mask;
    slots[h] = index + 1;
}

/* Insert or find key; *out_index gets its entry. New entries have ms 0,
 * count 0. */
int hwnas__lut_entry_get(hwnas_latency_lut *lut, const hwnas__lut_key *k, size_t *out_index)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    hwnas__lut_key_format(&sb, k);
    if (sb.failed) {
        hwnas__strbuf_release(&sb);
        return HWNAS_ENOMEM;
    }
    int64_t at = hwnas__lut_find(lut, sb.data);
    if (at >= 0) {
        hwnas__strbuf_release(&sb);
        *out_index = (size_t)at;
        return HWNAS_OK;
    }
    if (lut->n == lut->cap) {
        size_t cap = lut->cap ? 2 * lut->cap : 16;
        hwnas__lut_entry *e = hwnas__realloc(lut->ctx, lut->entries, cap * sizeof *e);
        if (!e) {
            hwnas__strbuf_release(&sb);
            return HWNAS_ENOMEM;
        }
        lut->entries = e;
        lut->cap = cap;
    }
    if (2 * (lut->n + 1) >= lut->n_slots) {
        size_t n_slots = lut->n_slots ? 2 * lut->n_slots : 64;
        uint32_t *slots = hwnas__calloc(lut->ctx, n_slots, sizeof *slots);
        if (!slots) {
            hwnas__strbuf_release(&sb);
            return HWNAS_ENOMEM;
        }
        for (size_t i = 0; i < lut->n; i++)
            slot_insert(slots, n_slots, lut->entries[i].text, (uint32_t)i);
        hwnas__free(lut->ctx, lut->slots);
        lut->slots = slots;
        lut->n_slots = n_slots;
    }
    if (k->ctx >= 0)
        lut->has_ctx = 1;
    hwnas__lut_entry *e = &lut->entries[lut->n];
    e->text = sb.data; /* the strbuf's buffer, NUL-terminated, on our allocator */
    e->k = *k;
    e->ms = 0;
    e->count = 0;
    e->samples = NULL;
    e->cap_samples = 0;
    slot_insert(lut->slots, lut->n_slots, e->text, (uint32_t)lut->n);
    *out_index = lut->n++;
    return HWNAS_OK;
}

int hwnas_latency_lut_set(hwnas_latency_lut *lut, const char *key, double ms)
{
    if (!lut || !key)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_set: lut and key are required");
    if (!(ms >= 0 && ms <= HWNAS__LUT_MAX_MS))
        return hwnas__error(HWNAS_EINVAL, "latency LUT: latency %g ms of \"%s\" is not a finite "
                            "number in 0..%g", ms, key, HWNAS__LUT_MAX_MS);
    hwnas__lut_key k;
    int rc = hwnas__lut_key_parse(&k, key, strlen(key), "");
    size_t at;
    if (rc == HWNAS_OK)
        rc = hwnas__lut_entry_get(lut, &k, &at);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__lut_entry *e = &lut->entries[at];
    e->ms = ms;
    e->count = 1;
    hwnas__free(lut->ctx, e->samples);
    e->samples = NULL;
    e->cap_samples = 0;
    return HWNAS_OK;
}

int hwnas__lut_add_sample(hwnas_latency_lut *lut, const char *key, double ms)
{
    if (!(ms >= 0 && ms <= HWNAS__LUT_MAX_MS))
        return hwnas__error(HWNAS_EINVAL, "latency LUT: measured %g ms of \"%s\" is not a "
                            "finite number in 0..%g", ms, key, HWNAS__LUT_MAX_MS);
    hwnas__lut_key k;
    size_t at;
    int rc = hwnas__lut_key_parse(&k, key, strlen(key), "");
    if (rc == HWNAS_OK)
        rc = hwnas__lut_entry_get(lut, &k, &at);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__lut_entry *e = &lut->entries[at];
    /* a value set or read before counts as one sample */
    uint32_t have = e->samples ? e->count : (e->count ? 1 : 0);
    if (have + 1 > e->cap_samples) {
        uint32_t cap = e->cap_samples ? 2 * e->cap_samples : 8;
        double *v = hwnas__realloc(lut->ctx, e->samples, cap * sizeof *v);
        if (!v)
            return HWNAS_ENOMEM;
        if (!e->samples && have)
            v[0] = e->ms;
        e->samples = v;
        e->cap_samples = cap;
    }
    uint32_t j = have; /* insertion keeps them sorted */
    while (j > 0 && e->samples[j - 1] > ms) {
        e->samples[j] = e->samples[j - 1];
        j--;
    }
    e->samples[j] = ms;
    e->count = have + 1;
    uint32_t m = e->count / 2;
    e->ms = e->count % 2 ? e->samples[m] : 0.5 * (e->samples[m - 1] + e->samples[m]);
    return HWNAS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int hwnas__lut_add_residual(hwnas_latency_lut *lut, double ms)
{
    if (lut->n_res == lut->cap_res) {
        size_t cap = lut->cap_res ? 2 * lut->cap_res : 16;
        double *r = hwnas__realloc(lut->ctx, lut->residuals, 2 * cap * sizeof *r);
        if (!r)
            return HWNAS_ENOMEM;
        lut->residuals = r;
        lut->cap_res = cap;
    }
    lut->residuals[lut->n_res++] = ms;
    /* the second half of the array is scratch for the median */
    double *tmp = lut->residuals + lut->cap_res;
    memcpy(tmp, lut->residuals, lut->n_res * sizeof *tmp);
    qsort(tmp, lut->n_res, sizeof *tmp, cmp_double);
    size_t m = lut->n_res / 2;
    lut->overhead = lut->n_res % 2 ? tmp[m] : 0.5 * (tmp[m - 1] + tmp[m]);
    return HWNAS_OK;
}

size_t hwnas_latency_lut_count(const hwnas_latency_lut *lut) { return lut ? lut->n : 0; }

const char *hwnas_latency_lut_key(const hwnas_latency_lut *lut, size_t i)
{
    return lut && i < lut->n ? lut->entries[i].text : NULL;
}

double hwnas_latency_lut_value(const hwnas_latency_lut *lut, size_t i)
{
    return lut && i < lut->n ? lut->entries[i].ms : NAN;
}

int hwnas_latency_lut_get(double *out_ms, const hwnas_latency_lut *lut, const char *key)
{
    if (!out_ms || !lut || !key)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_get: NULL argument");
    hwnas__lut_key k;
    int rc = hwnas__lut_key_parse(&k, key, strlen(key), "");
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    hwnas__lut_key_format(&sb, &k);
    if (sb.failed) {
        hwnas__strbuf_release(&sb);
        return HWNAS_ENOMEM;
    }
    int64_t at = hwnas__lut_find(lut, sb.data);
    if (at < 0)
        rc = hwnas__error(HWNAS_ENOTFOUND, "latency LUT has no entry for \"%s\"", sb.data);
    else
        *out_ms = lut->entries[at].ms;
    hwnas__strbuf_release(&sb);
    return rc;
}

double hwnas_latency_lut_overhead(const hwnas_latency_lut *lut) { return lut ? lut->overhead : 0; }

int hwnas_latency_lut_set_overhead(hwnas_latency_lut *lut, double ms)
{
    if (!lut || !(fabs(ms) <= HWNAS__LUT_MAX_MS))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_set_overhead: NULL LUT or "
                            "overhead %g not a finite number in -%g..%g", ms, HWNAS__LUT_MAX_MS,
                            HWNAS__LUT_MAX_MS);
    lut->overhead = ms;
    return HWNAS_OK;
}

const char *hwnas_latency_lut_device(const hwnas_latency_lut *lut)
{
    return lut ? lut->device : "";
}

int hwnas_latency_lut_set_device(hwnas_latency_lut *lut, const char *device)
{
    if (!lut || !device || strpbrk(device, "\r\n"))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_set_device: NULL argument or a "
                            "device text with a line break");
    char *d = hwnas__strdup(lut->ctx, device);
    if (!d)
        return HWNAS_ENOMEM;
    hwnas__free(lut->ctx, lut->device);
    lut->device = d;
    return HWNAS_OK;
}
