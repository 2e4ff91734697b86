/*
 * libhwnas - seedable random numbers with independent streams.
 *
 * Algorithm: xoshiro256** (Blackman and Vigna, 2018), period 2^256 - 1.
 * Stream k of seed s starts from a state filled by SplitMix64 run over
 * a key made from s and k (see doc/rng.md), so that streams of one seed
 * are statistically independent and a candidate drawing from "its" stream
 * (keyed, e.g., by its evaluation number) gets the same numbers whatever the
 * number of threads or the order of evaluation.
 *
 * The sequence for a given (seed, stream) is part of the library's
 * contract: it does not change between versions of the same ABI major.
 *
 * An hwnas_rng is not thread-safe: give each thread or task its own.
 */
#ifndef HWNAS_RNG_H
#define HWNAS_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_rng hwnas_rng;
struct hwnas_context;

/* Size in bytes of a serialised generator state (hwnas_rng_save). */
#define HWNAS_RNG_STATE_SIZE 32

/*
 * Create stream `stream` of seed `seed`. Errors: HWNAS_EINVAL (NULL out or
 * ctx), HWNAS_ENOMEM. The result is the caller's (hwnas_rng_free).
 */
HWNAS_API int hwnas_rng_new(hwnas_rng **out, struct hwnas_context *ctx,
                            uint64_t seed, uint64_t stream);

/* Free a generator. No-op on NULL. */
HWNAS_API void hwnas_rng_free(hwnas_rng *rng);

/* Restart rng as stream `stream` of `seed`, as if newly created. */
HWNAS_API void hwnas_rng_reseed(hwnas_rng *rng, uint64_t seed, uint64_t stream);

/* The next 64 random bits. */
HWNAS_API uint64_t hwnas_rng_u64(hwnas_rng *rng);

/* A uniform double in [0, 1) with 53 random bits. */
HWNAS_API double hwnas_rng_uniform(hwnas_rng *rng);

/* A uniform integer in [0, n), without modulo bias (Lemire's method);
 * 0 when n is 0. */
HWNAS_API uint64_t hwnas_rng_below(hwnas_rng *rng, uint64_t n);

/* A standard normal deviate (Box-Muller; uses two uniforms per pair and
 * keeps no cached spare, so the state alone determines the sequence). */
HWNAS_API double hwnas_rng_normal(hwnas_rng *rng);

/* Write the state to out[HWNAS_RNG_STATE_SIZE] (little-endian), so that a
 * checkpoint can resume the exact sequence. */
HWNAS_API void hwnas_rng_save(const hwnas_rng *rng,
                              uint8_t out[HWNAS_RNG_STATE_SIZE]);

/* Restore a state written by hwnas_rng_save(). Errors: HWNAS_EINVAL when the
 * state is all zero (impossible for xoshiro256**); rng is unchanged then. */
HWNAS_API int hwnas_rng_load(hwnas_rng *rng,
                             const uint8_t state[HWNAS_RNG_STATE_SIZE]);

HWNAS_END_DECLS

#endif /* HWNAS_RNG_H */
