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
 * returns code so that callers can `return hwnas__error(...)`. The message
 * is formatted before it replaces the last one, so hwnas_error_last() may
 * be an argument (to put context in front of a reason), with no copy. */
int hwnas__error(int code, const char *fmt, ...) HWNAS_PRINTF(2, 3);
int hwnas__verror(int code, const char *fmt, va_list ap);
/* "file:line: " (col 0) or "file:line:col: " into out, for the front of a
 * message. A file name too long for size bytes keeps its end, after
 * "...": the line and column always survive. */
const char *hwnas__where(char *out, size_t size, const char *file, size_t line, size_t col);
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
/* v in decimal, without printf (genotypes are written gene by gene). */
void hwnas__strbuf_put_u64(hwnas__strbuf *sb, uint64_t v);
void hwnas__strbuf_printf(hwnas__strbuf *sb, const char *fmt, ...) HWNAS_PRINTF(2, 3);
void hwnas__strbuf_vprintf(hwnas__strbuf *sb, const char *fmt, va_list ap) HWNAS_PRINTF(2, 0);
/* Detach the text as an hwnas_free() buffer ("" if empty); NULL on ENOMEM. */
char *hwnas__strbuf_detach_buffer(hwnas__strbuf *sb);
void hwnas__strbuf_release(hwnas__strbuf *sb);
/* Append t as a JSON string, quotes included: valid UTF-8 whatever bytes t
 * holds (a path may hold any); a byte that is not UTF-8 becomes U+FFFD;
 * NULL is "". */
void hwnas__strbuf_json(hwnas__strbuf *sb, const char *t);

/* ---- little-endian byte streams for saved states (byte_stream.c) ----- */

typedef struct hwnas__writer {
    const hwnas_context *ctx; /* allocator */
    uint8_t *data;            /* len bytes written, cap allocated */
    size_t len, cap;
    int failed;               /* an allocation failed; later puts no-op */
} hwnas__writer;

void hwnas__writer_put(hwnas__writer *w, const void *p, size_t n);
void hwnas__writer_u8(hwnas__writer *w, uint8_t v);
void hwnas__writer_u32(hwnas__writer *w, uint32_t v);
void hwnas__writer_u64(hwnas__writer *w, uint64_t v);
void hwnas__writer_f64(hwnas__writer *w, double v);

typedef struct hwnas__reader {
    const uint8_t *data; /* len bytes; pos is the next one to read */
    size_t len, pos;
    int failed;          /* a read ran past the end or a check failed */
} hwnas__reader;

/* Each getter returns 0 (and sets failed) when the data runs out. */
uint8_t hwnas__reader_u8(hwnas__reader *r);
uint32_t hwnas__reader_u32(hwnas__reader *r);
uint64_t hwnas__reader_u64(hwnas__reader *r);
/* NaN is rejected (sets failed); infinities and DBL_MAX pass. */
double hwnas__reader_f64(hwnas__reader *r);
/* The next n bytes, borrowed from the data; NULL (and failed) if fewer. */
const uint8_t *hwnas__reader_take(hwnas__reader *r, size_t n);
/* A count of items of item_size bytes each, checked against what is left. */
size_t hwnas__reader_count(hwnas__reader *r, size_t item_size);
/* Mark the stream bad (a check of the caller's failed); returns 0. */
int hwnas__reader_fail(hwnas__reader *r);
/* A framed file's bytes: an 8-byte magic, fields, then the 8-byte
 * hwnas__hash_bytes of everything before it. Checks the magic (else "not
 * a libhwnas WHAT (bad magic)"), at least min_len bytes before the checksum
 * (else "truncated header") and the checksum; r then reads the fields,
 * from after the magic up to the checksum. Errors: HWNAS_EFORMAT naming
 * name. */
int hwnas__reader_framed(hwnas__reader *r, const uint8_t *b, size_t len, const char *magic,
                         size_t min_len, const char *what, const char *name);

/* ---- CSV tables (csv.c) --------------------------------------------- */

typedef struct hwnas__csv {
    size_t n_rows, n_cols;
    char **header;  /* n_cols owned names */
    char **cells;   /* n_rows * n_cols owned texts, row by row */
    size_t *line;   /* n_rows: the file line of each row, for messages */
} hwnas__csv;

/* Parse NUL-terminated text into t (a header row, then rows as wide).
 * name labels messages (file:line:column). Errors: HWNAS_EFORMAT,
 * HWNAS_ENOMEM; t is then empty. */
int hwnas__csv_parse(const hwnas_context *ctx, const char *text, const char *name,
                     hwnas__csv *t);
/* The same from a file (gzip read transparently, at most 2 GiB, no NUL
 * bytes). Errors as hwnas__csv_parse, and the file's. */
int hwnas__csv_load(const hwnas_context *ctx, const char *path, hwnas__csv *t);
void hwnas__csv_free(const hwnas_context *ctx, hwnas__csv *t);
/* The index of the header column called name, or -1. */
int64_t hwnas__csv_column(const hwnas__csv *t, const char *name);

/* ---- lists of names in messages (name_list.c) ---------------------- */

/* Error messages hold 1024 bytes (error.c). A list of valid names (kinds,
 * option keys, ops) that would not fit in its share is cut after a whole
 * name and says how many it leaves out, instead of stopping mid-name
 * wherever a buffer ends. No allocation: these lists are built on error
 * paths, out of memory included. */
typedef struct hwnas__name_list {
    char text[640]; /* names shown, separated; NUL-terminated */
    size_t len;     /* strlen(text) */
    size_t more;    /* names added but left out */
    const char *sep;
} hwnas__name_list;

void hwnas__name_list_init(hwnas__name_list *l, const char *sep);
void hwnas__name_list_add(hwnas__name_list *l, const char *name);
/* The same with printf formatting of one item. */
void hwnas__name_list_addf(hwnas__name_list *l, const char *fmt, ...) HWNAS_PRINTF(2, 3);
/* The list for a message: the names shown, then " ... and N more" when
 * some were left out. Borrowed from l. */
const char *hwnas__name_list_text(hwnas__name_list *l);

/* ---- logging -------------------------------------------------------- */

#define HWNAS_LOG(ctx, level, ...) hwnas_context_log((ctx), (level), __VA_ARGS__)

/* ---- options (options.c) -------------------------------------------- */

/* One row of a kind's option table. */
/* The type of an alias row: an option's old name, kept so that older
 * option texts (and journals) still read. Alias rows close a kind's table;
 * def names the option the alias stands for. Aliases are not listed
 * (hwnas_options_count stops before them) and never written. */
#define HWNAS__OPTION_ALIAS 100

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
/* The same for a constructor of one family ("space", "estimator"): a bare
 * name is first looked up in that family, so that a name two families
 * share (space:accelerator, estimator:accelerator) is not ambiguous there. */
const hwnas__kind *hwnas__kind_find_in(const hwnas_context *ctx, const char *family,
                                       const char *name);

/* An option set for kind, parsed from text (NULL = defaults). */
int hwnas__options_new_kind(hwnas_options **out, hwnas_context *ctx,
                            const hwnas__kind *kind, const char *text);

/* Fast typed access by index for parts that own the table (index must be
 * valid and of the right type; checked by assert only). */
int64_t hwnas__options_int(const hwnas_options *opts, size_t i);
double hwnas__options_float(const hwnas_options *opts, size_t i);
const char *hwnas__options_str(const hwnas_options *opts, size_t i);

/* A comma-separated list of numbers (spaces allowed around them), each in
 * [lo, hi] and, if integers, whole, into v[0..*n), at most cap of them.
 * Errors (HWNAS_EINVAL) name who ("space:macro"), the option key, its text
 * and the position of the first bad character. */
int hwnas__options_number_list(const char *who, const char *key, const char *text, double *v,
                               size_t cap, size_t *n, double lo, double hi, int integers);

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
