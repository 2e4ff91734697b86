/* xoshiro256** with SplitMix64-derived independent streams (doc/rng.md). */
#include <math.h>
#include <string.h>

#include "core_internal.h"

struct hwnas_rng {
    const hwnas_context *ctx; /* allocator */
    hwnas__rng r;             /* the generator */
};

/* SplitMix64's output function: a bijective 64-bit mixer. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t hwnas__splitmix64(uint64_t *state)
{
    *state += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(*state);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void hwnas__rng_seed(hwnas__rng *r, uint64_t seed, uint64_t stream)
{
    /* Both seed and stream are mixed before they meet, so neighbouring
     * seeds and neighbouring streams start far apart. */
    uint64_t x = mix64(seed) + mix64(stream ^ UINT64_C(0x6a09e667f3bcc909));
    for (int i = 0; i < 4; i++)
        r->s[i] = hwnas__splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
}

uint64_t hwnas__rng_u64(hwnas__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hwnas__rng_uniform(hwnas__rng *r)
{
    return (double)(hwnas__rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t hwnas__rng_below(hwnas__rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Lemire (2019): multiply-shift with rejection of the biased low part. */
    __extension__ typedef unsigned __int128 u128;
    u128 m = (u128)hwnas__rng_u64(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (u128)hwnas__rng_u64(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double hwnas__rng_normal(hwnas__rng *r)
{
    double u1 = 1.0 - hwnas__rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = hwnas__rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* ---- public wrappers ------------------------------------------------- */

int hwnas_rng_new(hwnas_rng **out, hwnas_context *ctx, uint64_t seed, uint64_t stream)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_rng_new: out is NULL");
    *out = NULL;
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_rng_new: ctx is NULL");
    hwnas_rng *rng = hwnas__malloc(ctx, sizeof *rng);
    if (!rng)
        return HWNAS_ENOMEM;
    rng->ctx = ctx;
    hwnas__rng_seed(&rng->r, seed, stream);
    *out = rng;
    return HWNAS_OK;
}

void hwnas_rng_free(hwnas_rng *rng)
{
    if (rng)
        hwnas__free(rng->ctx, rng);
}

void hwnas_rng_reseed(hwnas_rng *rng, uint64_t seed, uint64_t stream)
{
    hwnas__rng_seed(&rng->r, seed, stream);
}

uint64_t hwnas_rng_u64(hwnas_rng *rng) { return hwnas__rng_u64(&rng->r); }

double hwnas_rng_uniform(hwnas_rng *rng) { return hwnas__rng_uniform(&rng->r); }

uint64_t hwnas_rng_below(hwnas_rng *rng, uint64_t n) { return hwnas__rng_below(&rng->r, n); }

double hwnas_rng_normal(hwnas_rng *rng) { return hwnas__rng_normal(&rng->r); }

void hwnas_rng_save(const hwnas_rng *rng, uint8_t out[HWNAS_RNG_STATE_SIZE])
{
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++)
            out[i * 8 + b] = (uint8_t)(rng->r.s[i] >> (8 * b));
}

int hwnas_rng_load(hwnas_rng *rng, const uint8_t state[HWNAS_RNG_STATE_SIZE])
{
    uint64_t s[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 8; b++)
            s[i] |= (uint64_t)state[i * 8 + b] << (8 * b);
    if (!(s[0] | s[1] | s[2] | s[3]))
        return hwnas__error(HWNAS_EINVAL, "hwnas_rng_load: an all-zero state is not a xoshiro256** state");
    memcpy(rng->r.s, s, sizeof s);
    return HWNAS_OK;
}

/* For parts that take a public hwnas_rng and work on its state. */
hwnas__rng *hwnas__rng_state(hwnas_rng *rng) { return &rng->r; }

uint64_t hwnas__hash_bytes(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return mix64(h ^ len);
}
