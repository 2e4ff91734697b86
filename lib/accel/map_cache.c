/*
 * A cache of mapped layers, keyed by the hardware (its content hash) and
 * the layer's shape and strides. A search decodes thousands of networks
 * built from a few dozen distinct layers; mapping each once makes the
 * accelerator estimator cost next to nothing after the first candidates.
 * Under co-design every candidate may bring its own hardware: the hash in
 * the key keeps their mappings apart, and the table is emptied when it
 * reaches MAX_ENTRIES so that it stays bounded.
 * Mapping runs outside the lock: two threads that miss on the same layer
 * both map it and get the same result (the mapper is deterministic).
 */
#include <pthread.h>
#include <string.h>

#include "accel_internal.h"

/* About 1.1 kB an entry: at most ~36 MB. */
#define MAX_ENTRIES ((size_t)1 << 15)

typedef struct entry {
    uint64_t hw;      /* the key: the hardware's content hash, */
    hwnas__problem p; /* and the layer (p.macs unused) */
    hwnas__eval ev;
    int used;
} entry;

struct hwnas__map_cache {
    hwnas_context *ctx;
    pthread_mutex_t lock;
    size_t cap;   /* a power of two */
    size_t count;
    entry *slots;
};

int hwnas__map_cache_new(hwnas__map_cache **out, hwnas_context *ctx)
{
    hwnas__map_cache *c = hwnas__calloc(ctx, 1, sizeof *c);
    if (!c)
        return HWNAS_ENOMEM;
    c->ctx = ctx;
    c->cap = 64;
    c->slots = hwnas__calloc(ctx, c->cap, sizeof *c->slots);
    if (!c->slots) {
        hwnas__free(ctx, c);
        return HWNAS_ENOMEM;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        hwnas__free(ctx, c->slots);
        hwnas__free(ctx, c);
        return hwnas__error(HWNAS_ENOMEM, "accelerator: cannot create a mutex");
    }
    *out = c;
    return HWNAS_OK;
}

void hwnas__map_cache_free(hwnas__map_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    hwnas__free(c->ctx, c->slots);
    hwnas__free(c->ctx, c);
}

static uint64_t key_hash(uint64_t hw, const hwnas__problem *p)
{
    struct {
        int64_t dim[HWNAS__NDIMS], s[4];
        uint64_t hw;
    } k;
    memset(&k, 0, sizeof k);
    k.hw = hw;
    memcpy(k.dim, p->dim, sizeof k.dim);
    k.s[0] = p->sh;
    k.s[1] = p->sw;
    k.s[2] = p->dh;
    k.s[3] = p->dw;
    return hwnas__hash_bytes(&k, sizeof k);
}

static int same(const entry *e, uint64_t hw, const hwnas__problem *b)
{
    const hwnas__problem *a = &e->p;
    return e->hw == hw && memcmp(a->dim, b->dim, sizeof a->dim) == 0 && a->sh == b->sh && a->sw == b->sw &&
           a->dh == b->dh && a->dw == b->dw;
}

/* The slot of p, or the empty slot where it goes. Lock held. */
static entry *find(hwnas__map_cache *c, uint64_t hw, const hwnas__problem *p)
{
    size_t i = (size_t)key_hash(hw, p) & (c->cap - 1);
    while (c->slots[i].used && !same(&c->slots[i], hw, p))
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

static int grow(hwnas__map_cache *c)
{
    entry *old = c->slots;
    size_t old_cap = c->cap;
    entry *slots = hwnas__calloc(c->ctx, old_cap * 2, sizeof *slots);
    if (!slots)
        return HWNAS_ENOMEM;
    c->slots = slots;
    c->cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].used)
            *find(c, old[i].hw, &old[i].p) = old[i];
    hwnas__free(c->ctx, old);
    return HWNAS_OK;
}

/* The multiplier changes the MAC energy only, the same for every mapping:
 * layers are mapped at the exact multiplier's power and priced with their
 * own after (under objective=edp the MAC energy is a constant term). */
static int map_exact(const hwnas_accel *a, const hwnas__problem *p,
                     const hwnas__mapper_opts *o, hwnas__eval *ev)
{
    hwnas__problem q = *p;
    hwnas__mapping m;
    q.mul_power = 1;
    return hwnas__map(a, &q, o, &m, ev);
}

int hwnas__map_cached(hwnas__map_cache *c, const hwnas_accel *a, const hwnas__problem *p,
                      const hwnas__mapper_opts *o, hwnas__eval *ev)
{
    if (!c) {
        int rc = map_exact(a, p, o, ev);
        if (rc == HWNAS_OK)
            hwnas__eval_reprice(ev, a, p);
        return rc;
    }
    pthread_mutex_lock(&c->lock);
    entry *e = find(c, a->hash, p);
    int hit = e->used;
    if (hit)
        *ev = e->ev;
    pthread_mutex_unlock(&c->lock);
    if (hit) {
        hwnas__eval_reprice(ev, a, p);
        return HWNAS_OK;
    }
    int rc = map_exact(a, p, o, ev);
    if (rc != HWNAS_OK)
        return rc;
    pthread_mutex_lock(&c->lock);
    if (c->count >= MAX_ENTRIES) {
        memset(c->slots, 0, c->cap * sizeof *c->slots);
        c->count = 0;
    }
    /* keep the table at most half full; a failed grow only skips caching */
    if ((c->count + 1) * 2 <= c->cap || grow(c) == HWNAS_OK) {
        e = find(c, a->hash, p);
        if (!e->used) {
            e->hw = a->hash;
            e->p = *p;
            e->ev = *ev;
            e->used = 1;
            c->count++;
        }
    }
    pthread_mutex_unlock(&c->lock);
    hwnas__eval_reprice(ev, a, p);
    return HWNAS_OK;
}
