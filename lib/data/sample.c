/* Choosing samples: subsets, splits, per-epoch shuffles, all from explicit
 * random streams so that a seed always gives the same choice. */
#include <math.h>
#include <string.h>

#include "data_internal.h"

void hwnas__data_rng(hwnas__rng *r, uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
    /* Fold (purpose, a) into the seed with SplitMix64 steps, then use b as
     * the stream: distinct tuples give unrelated streams. */
    uint64_t st = seed ^ (purpose * 0x9E3779B97F4A7C15u);
    uint64_t k = hwnas__splitmix64(&st);
    st = k ^ a;
    k = hwnas__splitmix64(&st);
    hwnas__rng_seed(r, k, b);
}

/* Mark `want` of the positions 0..count-1 of ds in chosen[] (zeroed by the
 * caller), uniformly at random or stratified by class. */
static int choose(uint8_t *chosen, const hwnas_dataset *ds, size_t want, int stratified,
                  uint64_t seed, uint64_t purpose)
{
    hwnas_context *ctx = ds->ctx;
    size_t n = ds->count;
    size_t *tmp = hwnas__malloc(ctx, n * sizeof *tmp);
    if (!tmp)
        return HWNAS_ENOMEM;
    hwnas__rng r;
    if (!stratified) {
        /* A partial Fisher-Yates shuffle: the first `want` are the choice. */
        for (size_t i = 0; i < n; i++)
            tmp[i] = i;
        hwnas__data_rng(&r, seed, purpose, 0, 0);
        for (size_t i = 0; i < want; i++) {
            size_t j = i + (size_t)hwnas__rng_below(&r, n - i);
            size_t t = tmp[i];
            tmp[i] = tmp[j];
            tmp[j] = t;
            chosen[tmp[i]] = 1;
        }
        hwnas__free(ctx, tmp);
        return HWNAS_OK;
    }
    size_t k = ds->store->classes;
    /* Per class: count, first slot in tmp (positions grouped by class),
     * quota and remainder of the proportional share. */
    size_t *cnt = hwnas__calloc(ctx, 4 * k, sizeof *cnt);
    if (!cnt) {
        hwnas__free(ctx, tmp);
        return HWNAS_ENOMEM;
    }
    size_t *start = cnt + k, *quota = cnt + 2 * k, *rem = cnt + 3 * k;
    for (size_t i = 0; i < n; i++)
        cnt[hwnas_dataset_label(ds, i)]++;
    size_t given = 0;
    for (size_t c = 0, s = 0; c < k; c++) {
        start[c] = s;
        s += cnt[c];
        /* want * cnt[c] fits: both are <= n < 2^32 (checked by callers). */
        quota[c] = (size_t)((uint64_t)want * cnt[c] / n);
        rem[c] = (size_t)((uint64_t)want * cnt[c] % n);
        given += quota[c];
    }
    /* Largest remainders get the samples left over; ties go to the lower
     * class. At most k rounds, each O(k): fine for the class counts of
     * image datasets. */
    while (given < want) {
        size_t best = k;
        for (size_t c = 0; c < k; c++)
            if (quota[c] < cnt[c] && (best == k || rem[c] > rem[best]))
                best = c;
        quota[best]++;
        rem[best] = 0;
        given++;
    }
    size_t *next = hwnas__calloc(ctx, k, sizeof *next);
    if (!next) {
        hwnas__free(ctx, cnt);
        hwnas__free(ctx, tmp);
        return HWNAS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)hwnas_dataset_label(ds, i);
        tmp[start[c] + next[c]++] = i;
    }
    for (size_t c = 0; c < k; c++) {
        size_t *p = tmp + start[c];
        hwnas__data_rng(&r, seed, purpose, 1, c);
        for (size_t i = 0; i < quota[c]; i++) {
            size_t j = i + (size_t)hwnas__rng_below(&r, cnt[c] - i);
            size_t t = p[i];
            p[i] = p[j];
            p[j] = t;
            chosen[p[i]] = 1;
        }
    }
    hwnas__free(ctx, next);
    hwnas__free(ctx, cnt);
    hwnas__free(ctx, tmp);
    return HWNAS_OK;
}

/* Store indices of the positions whose chosen[] equals `which`. */
static size_t *collect(const hwnas_dataset *ds, const uint8_t *chosen, uint8_t which, size_t m)
{
    size_t *pos = hwnas__malloc(ds->ctx, m * sizeof *pos);
    if (!pos)
        return NULL;
    for (size_t i = 0, j = 0; i < ds->count; i++)
        if (chosen[i] == which)
            pos[j++] = hwnas__data_index(ds, i);
    return pos;
}

static int check_mode(int mode, int allow_first, const char *fn)
{
    if ((mode == HWNAS_DATASET_FIRST && allow_first) || mode == HWNAS_DATASET_RANDOM ||
        mode == HWNAS_DATASET_STRATIFIED)
        return HWNAS_OK;
    return hwnas__error(HWNAS_EINVAL, "%s: unknown mode %d (valid: %sRANDOM=1, STRATIFIED=2)",
                        fn, mode, allow_first ? "FIRST=0, " : "");
}

int hwnas_dataset_subset(hwnas_dataset **out, const hwnas_dataset *ds, size_t n, int mode,
                         uint64_t seed)
{
    const char *fn = "hwnas_dataset_subset";
    if (out)
        *out = NULL;
    if (!out || !ds)
        return hwnas__error(HWNAS_EINVAL, "%s: NULL %s", fn, !out ? "out" : "ds");
    int rc = check_mode(mode, 1, fn);
    if (rc != HWNAS_OK)
        return rc;
    if (n == 0 || n > ds->count)
        return hwnas__error(HWNAS_EINVAL, "%s: n = %zu is not in [1, %zu]", fn, n, ds->count);
    if (ds->count > UINT32_MAX)
        return hwnas__error(HWNAS_EUNSUPPORTED, "%s: more than 2^32 samples", fn);
    if (mode == HWNAS_DATASET_FIRST) {
        size_t *pos = hwnas__malloc(ds->ctx, n * sizeof *pos);
        if (!pos)
            return HWNAS_ENOMEM;
        for (size_t i = 0; i < n; i++)
            pos[i] = hwnas__data_index(ds, i);
        return hwnas__data_view(out, ds, pos, n);
    }
    uint8_t *chosen = hwnas__calloc(ds->ctx, ds->count, 1);
    if (!chosen)
        return HWNAS_ENOMEM;
    rc = choose(chosen, ds, n, mode == HWNAS_DATASET_STRATIFIED, seed,
                HWNAS__DATA_STREAM_SUBSET);
    size_t *pos = rc == HWNAS_OK ? collect(ds, chosen, 1, n) : NULL;
    hwnas__free(ds->ctx, chosen);
    if (!pos)
        return rc != HWNAS_OK ? rc : HWNAS_ENOMEM;
    return hwnas__data_view(out, ds, pos, n);
}

int hwnas_dataset_select(hwnas_dataset **out, const hwnas_dataset *ds, const size_t *positions,
                         size_t n)
{
    const char *fn = "hwnas_dataset_select";
    if (out)
        *out = NULL;
    if (!out || !ds || !positions)
        return hwnas__error(HWNAS_EINVAL, "%s: NULL %s", fn,
                            !out ? "out" : !ds ? "ds" : "positions");
    if (n == 0)
        return hwnas__error(HWNAS_EINVAL, "%s: n = 0 (a dataset needs a sample)", fn);
    for (size_t i = 0; i < n; i++)
        if (positions[i] >= ds->count)
            return hwnas__error(HWNAS_EINVAL, "%s: positions[%zu] = %zu is not below %zu", fn,
                                i, positions[i], ds->count);
    if (n > SIZE_MAX / sizeof(size_t))
        return hwnas__error(HWNAS_EINVAL, "%s: n = %zu overflows memory", fn, n);
    size_t *pos = hwnas__malloc(ds->ctx, n * sizeof *pos);
    if (!pos)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        pos[i] = hwnas__data_index(ds, positions[i]);
    return hwnas__data_view(out, ds, pos, n);
}

int hwnas_dataset_split(hwnas_dataset **out_train, hwnas_dataset **out_val,
                        const hwnas_dataset *ds, double val_fraction, int mode, uint64_t seed)
{
    const char *fn = "hwnas_dataset_split";
    if (out_train)
        *out_train = NULL;
    if (out_val)
        *out_val = NULL;
    if (!out_train || !out_val || !ds)
        return hwnas__error(HWNAS_EINVAL, "%s: NULL %s", fn,
                            !out_train ? "out_train" : !out_val ? "out_val" : "ds");
    int rc = check_mode(mode, 0, fn);
    if (rc != HWNAS_OK)
        return rc;
    if (!(val_fraction > 0 && val_fraction < 1))
        return hwnas__error(HWNAS_EINVAL, "%s: val_fraction %g is not in (0, 1)", fn,
                            val_fraction);
    if (ds->count > UINT32_MAX)
        return hwnas__error(HWNAS_EUNSUPPORTED, "%s: more than 2^32 samples", fn);
    size_t n_val = (size_t)floor((double)ds->count * val_fraction + 0.5);
    if (n_val == 0 || n_val >= ds->count)
        return hwnas__error(HWNAS_EINVAL,
                            "%s: val_fraction %g of %zu samples leaves %zu for validation and "
                            "%zu for training; both need at least one",
                            fn, val_fraction, ds->count, n_val, ds->count - n_val);
    size_t n_train = ds->count - n_val;
    uint8_t *chosen = hwnas__calloc(ds->ctx, ds->count, 1);
    if (!chosen)
        return HWNAS_ENOMEM;
    rc = choose(chosen, ds, n_val, mode == HWNAS_DATASET_STRATIFIED, seed,
                HWNAS__DATA_STREAM_SPLIT);
    size_t *pv = rc == HWNAS_OK ? collect(ds, chosen, 1, n_val) : NULL;
    size_t *pt = pv ? collect(ds, chosen, 0, n_train) : NULL;
    hwnas__free(ds->ctx, chosen);
    if (!pt) {
        hwnas__free(ds->ctx, pv);
        return rc != HWNAS_OK ? rc : HWNAS_ENOMEM;
    }
    hwnas_dataset *train, *val;
    rc = hwnas__data_view(&train, ds, pt, n_train);
    if (rc != HWNAS_OK) {
        hwnas__free(ds->ctx, pv);
        return rc;
    }
    rc = hwnas__data_view(&val, ds, pv, n_val);
    if (rc != HWNAS_OK) {
        hwnas_dataset_free(train);
        return rc;
    }
    *out_train = train;
    *out_val = val;
    return HWNAS_OK;
}

int hwnas_dataset_shuffle(size_t *out_order, const hwnas_dataset *ds, uint64_t seed,
                          uint64_t epoch)
{
    if (!out_order || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dataset_shuffle: NULL %s",
                            !out_order ? "out_order" : "ds");
    size_t n = ds->count;
    for (size_t i = 0; i < n; i++)
        out_order[i] = i;
    hwnas__rng r;
    hwnas__data_rng(&r, seed, HWNAS__DATA_STREAM_SHUFFLE, 0, epoch);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)hwnas__rng_below(&r, (uint64_t)i + 1);
        size_t t = out_order[i];
        out_order[i] = out_order[j];
        out_order[j] = t;
    }
    return HWNAS_OK;
}
