/*
 * libhwnas core - what the other parts of the library share.
 * Not installed; not part of the ABI.
 */
#ifndef HWNAS_CORE_INTERNAL_H
#define HWNAS_CORE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hwnas/context.h"
#include "hwnas/error.h"
#include "hwnas/options.h"
#include "hwnas/rng.h"

#if defined(__GNUC__) || defined(__clang__)
#define HWNAS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define HWNAS_UNUSED __attribute__((unused))
#else
#define HWNAS_PRINTF(f, a)
#define HWNAS_UNUSED
#endif

/* ---- errors (error.c) ---------------------------------------------- */

/* Record code and a printf-style message as the calling thread's last error;
 * returns code so that callers can `return hwnas__error(...)`. */
int hwnas__error(int code, const char *fmt, ...) HWNAS_PRINTF(2, 3);
int hwnas__verror(int code, const char *fmt, va_list ap);
/* Record the standard out-of-memory error. */
int hwnas__enomem(void);

/* ---- memory (context.c) -------------------------------------------- */

/* Allocate through ctx's allocator; on failure they return NULL and record
 * HWNAS_ENOMEM as the last error. hwnas__free(ctx, NULL) is a no-op. */
void *hwnas__malloc(const hwnas_context *ctx, size_t size);
void *hwnas__calloc(const hwnas_context *ctx, size_t n, size_t size);
void *hwnas__realloc(const hwnas_context *ctx, void *ptr, size_t size);
void hwnas__free(const hwnas_context *ctx, void *ptr);
char *hwnas__strdup(const hwnas_context *ctx, const char *s);
char *hwnas__strndup(const hwnas_context *ctx, const char *s, size_t n);

/* A buffer handed to the caller, to be released with hwnas_free(): it
 * remembers its allocator in a small header in front of the data. */
void *hwnas__buffer_alloc(const hwnas_context *ctx, size_t size);
char *hwnas__buffer_strdup(const hwnas_context *ctx, const char *s);

/* ---- growable string (strbuf.c) ----------------------------------- */

typedef struct hwnas__strbuf {
    const hwnas_context *ctx; /* allocator owner */
    char *data;               /* NUL-terminated; NULL until the first append */
    size_t len;               /* strlen(data) */
    size_t cap;               /* bytes allocated at data */
    int failed;               /* an append failed (ENOMEM); later appends no-op */
} hwnas__strbuf;

void hwnas__strbuf_init(hwnas__strbuf *sb, const hwnas_context *ctx);
void hwnas__strbuf_append(hwnas__strbuf *sb, const char *s, size_t n);
void hwnas__strbuf_puts(hwnas__strbuf *sb, const char *s);
void hwnas__strbuf_printf(hwnas__strbuf *sb, const char *fmt, ...) HWNAS_PRINTF(2, 3);
/* Detach the text as an hwnas_free() buffer ("" if empty); NULL on ENOMEM. */
char *hwnas__strbuf_detach_buffer(hwnas__strbuf *sb);
void hwnas__strbuf_release(hwnas__strbuf *sb);

/* ---- logging -------------------------------------------------------- */

#define HWNAS_LOG(ctx, level, ...) hwnas_context_log((ctx), (level), __VA_ARGS__)

/* ---- options (options.c) -------------------------------------------- */

/* One row of a kind's option table. */
typedef struct hwnas__option_spec {
    const char *name;    /* key: [a-z0-9_]+, unique within the kind */
    int type;            /* HWNAS_OPTION_* */
    const char *def;     /* default as text; must parse as type */
    double min, max;     /* inclusive range for int/float; ignored otherwise */
    const char *choices; /* enum names "a|b|c"; NULL for other types */
    const char *help;    /* one line, no trailing period */
} hwnas__option_spec;

/* A kind of object that takes options: "context", "space:cgp", ... */
typedef struct hwnas__kind {
    const char *name;                  /* "family:name" or "context" */
    const hwnas__option_spec *options; /* table of n_options rows */
    size_t n_options;
    const void *impl;                  /* the part's vtable; NULL for context */
} hwnas__kind;

/* The built-in kinds of every part, in lib/kinds.c (the library's glue, so
 * that core does not depend on the parts above it). */
extern const hwnas__kind *const hwnas__builtin_kinds[];
extern const size_t hwnas__builtin_kind_count;

/* Kinds a plugin brings (lib/estimator/plugin.c), registered in ctx after
 * the built-in ones. kinds[0..n) are borrowed until hwnas_context_free(),
 * which calls release(data) (when not NULL) for every registration, the
 * last first, before it frees the context. Errors: HWNAS_EINVAL (a name
 * already taken: the message names it), HWNAS_ENOMEM; release is not
 * called on error. Not thread-safe (configuration of the context). */
int hwnas__context_add_kinds(hwnas_context *ctx, const hwnas__kind *const *kinds, size_t n,
                             void (*release)(void *data), void *data);
/* Number of kinds added to ctx, and the i-th of them. */
size_t hwnas__context_extra_count(const hwnas_context *ctx);
const hwnas__kind *hwnas__context_extra_kind(const hwnas_context *ctx, size_t i);

/* The kind named name, exact "family:name" or a unique bare name; NULL
 * (with the last error set to ENOTFOUND, listing the kinds) otherwise. */
const hwnas__kind *hwnas__kind_find(const hwnas_context *ctx, const char *name);

/* An option set for kind, parsed from text (NULL = defaults). */
int hwnas__options_new_kind(hwnas_options **out, hwnas_context *ctx,
                            const hwnas__kind *kind, const char *text);

/* Fast typed access by index for parts that own the table (index must be
 * valid and of the right type; checked by assert only). */
int64_t hwnas__options_int(const hwnas_options *opts, size_t i);
double hwnas__options_float(const hwnas_options *opts, size_t i);
const char *hwnas__options_str(const hwnas_options *opts, size_t i);

/* ---- random numbers (rng.c) ---------------------------------------- */

/* The generator's state by value, for parts that embed one. */
typedef struct hwnas__rng {
    uint64_t s[4]; /* xoshiro256** state, never all zero */
} hwnas__rng;

void hwnas__rng_seed(hwnas__rng *r, uint64_t seed, uint64_t stream);
uint64_t hwnas__rng_u64(hwnas__rng *r);
double hwnas__rng_uniform(hwnas__rng *r);
uint64_t hwnas__rng_below(hwnas__rng *r, uint64_t n);
double hwnas__rng_normal(hwnas__rng *r);
uint64_t hwnas__splitmix64(uint64_t *state);
/* The generator inside a public hwnas_rng. */
hwnas__rng *hwnas__rng_state(hwnas_rng *rng);
/* 64-bit FNV-1a over bytes, finished with SplitMix64's mixer: stable across
 * platforms and versions, for content hashes of canonical forms. */
uint64_t hwnas__hash_bytes(const void *data, size_t len);

/* ---- thread pool (thread_pool.c) ------------------------------------ */

typedef struct hwnas__pool hwnas__pool;

int hwnas__pool_new(hwnas__pool **out, const hwnas_context *ctx, size_t threads);
void hwnas__pool_free(hwnas__pool *pool);
/* Run task over [0, n) on the pool's threads plus the caller. If the pool
 * is already running a loop (nested or concurrent call), run serially. */
int hwnas__pool_run(hwnas__pool *pool, size_t n, hwnas_task_fn task, void *data);
size_t hwnas__cpu_count(void);

/* ---- files (io.c) --------------------------------------------------- */

/* Read a whole file; gzip data (magic 1f 8b) is inflated transparently.
 * *out (ctx allocator, free with hwnas__free) gets one extra NUL byte past
 * *len so text can be parsed in place. Errors name the path:
 * HWNAS_ENOTFOUND, HWNAS_EIO, HWNAS_EFORMAT (corrupt gzip), HWNAS_ENOMEM.
 * max_len bounds the (inflated) size; 0 means no bound. */
int hwnas__file_read(const hwnas_context *ctx, const char *path, size_t max_len,
                     uint8_t **out, size_t *len);

/* Write data to path atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync of the directory. gzip != 0 compresses
 * with zlib's gzip format. On error path is untouched and no temporary is
 * left behind. A symbolic link is written through (its final target is
 * replaced, the link stays); a path that exists and is not a regular file
 * (a FIFO, a terminal, /dev/stdout) is written directly, without a
 * temporary. */
int hwnas__file_write_atomic(const hwnas_context *ctx, const char *path,
                             const void *data, size_t len, int gzip);

/* write(2) all n bytes, retrying on EINTR and short writes; 0 or -1 with
 * errno set. */
int hwnas__write_all(int fd, const void *data, size_t n);

/* Remove the temporary files hwnas__file_write_atomic leaves when its
 * process is killed ("NAME.tmp.XXXXXX") from directory dir; returns how
 * many were removed. Only call it where no other writer can be at work
 * (the search holds its directory's lock). */
size_t hwnas__remove_stale_temps(const char *dir);

/* ---- misc ---------------------------------------------------------- */

/* Monotonic wall clock in seconds (context.c). */
double hwnas__now_seconds(void);

#define HWNAS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* HWNAS_CORE_INTERNAL_H */
