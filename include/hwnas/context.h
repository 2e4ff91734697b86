/*
 * libhwnas - the context: allocator, log, threads, seed, parallel-for.
 *
 * Every libhwnas object is created inside a context and allocates through
 * the context's allocator. There is no global state: two contexts in one
 * process are fully independent.
 *
 * Thread rules: configure a context (set_log, set_parallel_for, options)
 * from one thread before sharing it. Once configured, a context may be used
 * read-only by any number of threads at once: creating objects in it,
 * hwnas_parallel_for, logging and allocating are thread-safe.
 */
#ifndef HWNAS_CONTEXT_H
#define HWNAS_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "options.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_context hwnas_context;

/* Allocator functions. They behave like malloc/realloc/free; user_data is
 * what was given to hwnas_context_new_custom(). They must be thread-safe if
 * the context is used from several threads. */
typedef void *(*hwnas_malloc_fn)(size_t size, void *user_data);
typedef void *(*hwnas_realloc_fn)(void *ptr, size_t size, void *user_data);
typedef void (*hwnas_free_fn)(void *ptr, void *user_data);

/* Log levels, most severe first. A message is passed on when its level is
 * at most the context's log_level. */
enum {
    HWNAS_LOG_ERROR = 0,
    HWNAS_LOG_WARN = 1,
    HWNAS_LOG_INFO = 2,
    HWNAS_LOG_DEBUG = 3
};

/* Receives log messages (one line, no trailing newline). It may be called
 * from the library's worker threads, concurrently: make it thread-safe.
 * Logging cannot be stopped by a callback, hence no return value. */
typedef void (*hwnas_log_cb)(int level, const char *message, void *user_data);

/* One iteration of a parallel loop: index in [0, n), worker in
 * [0, hwnas_context_threads()) identifies the thread (for per-thread
 * scratch). Return 0 to go on, non-zero to stop the loop with HWNAS_EUSER. */
typedef int (*hwnas_task_fn)(size_t index, size_t worker, void *user_data);

/* A host-supplied parallel-for: run task(i, worker, task_data) for every i in
 * [0, n) in any order and on any threads, wait for all, and return 0 or the
 * first non-zero task result. worker must be < the context's thread count
 * and no two concurrently running tasks may share a worker id. */
typedef int (*hwnas_parallel_for_fn)(size_t n, hwnas_task_fn task,
                                     void *task_data, void *user_data);

/*
 * Create a context with the C library's allocator.
 *
 * options: NULL or "key=value;key=value" with the keys listed by
 * `hwnas describe context`: threads (0 = one per online CPU), seed,
 * log_level (error|warn|info|debug). Logging goes to stderr by default.
 *
 * On success *out is the caller's, released with hwnas_context_free().
 * Errors: HWNAS_EINVAL (NULL out, bad option: the message names the key and
 * lists the valid keys or the range), HWNAS_ENOMEM. *out is NULL on error.
 */
HWNAS_API int hwnas_context_new(hwnas_context **out, const char *options);

/*
 * Like hwnas_context_new() but every allocation of the context and of the
 * objects created in it goes through the given functions (all three
 * required). user_data is passed to them and never freed by the library.
 */
HWNAS_API int hwnas_context_new_custom(hwnas_context **out, const char *options,
                                       hwnas_malloc_fn malloc_fn,
                                       hwnas_realloc_fn realloc_fn,
                                       hwnas_free_fn free_fn, void *user_data);

/* Free a context and its thread pool. Every object created in it must have
 * been freed first. No-op on NULL. */
HWNAS_API void hwnas_context_free(hwnas_context *ctx);

/*
 * Set one option by name, e.g. ("threads", "2"). Same keys and errors as
 * hwnas_context_new(); on error the context is unchanged. Not thread-safe:
 * call before sharing the context.
 */
HWNAS_API int hwnas_context_set_option(hwnas_context *ctx, const char *key,
                                       const char *value);

/* The context's options (borrowed, read-only: valid until the context is
 * freed; change values with hwnas_context_set_option()). */
HWNAS_API const hwnas_options *hwnas_context_options(const hwnas_context *ctx);

/* Number of worker threads parallel work uses (>= 1; threads=0 resolved). */
HWNAS_API size_t hwnas_context_threads(const hwnas_context *ctx);

/* The context's seed, the root of every random stream derived from it. */
HWNAS_API uint64_t hwnas_context_seed(const hwnas_context *ctx);

/* Install a log callback (NULL restores the default: stderr). */
HWNAS_API void hwnas_context_set_log(hwnas_context *ctx, hwnas_log_cb cb,
                                     void *user_data);

/* Send a message through the context's log (printf-style). Thread-safe. */
HWNAS_API void hwnas_context_log(const hwnas_context *ctx, int level,
                                 const char *format, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Install the host's own parallel-for (NULL restores the built-in thread
 * pool). The library then never starts threads of its own. */
HWNAS_API void hwnas_context_set_parallel_for(hwnas_context *ctx,
                                              hwnas_parallel_for_fn fn,
                                              void *user_data);

/*
 * Run task(i, worker, user_data) for i in [0, n) on the context's threads
 * (or the host's parallel-for) and wait for all. Results must not depend on
 * the order: give each index its own output slot and random stream.
 * Nested calls from inside a task run serially on the calling worker.
 *
 * Returns HWNAS_OK, HWNAS_EUSER if a task returned non-zero (the remaining
 * indices may or may not run), or HWNAS_ENOMEM if threads could not start.
 * Thread-safe.
 */
HWNAS_API int hwnas_parallel_for(hwnas_context *ctx, size_t n,
                                 hwnas_task_fn task, void *user_data);

/* Release a buffer that a libhwnas function returned as the caller's
 * (strings, byte blobs). No-op on NULL. Thread-safe. */
HWNAS_API void hwnas_free(void *ptr);

HWNAS_END_DECLS

#endif /* HWNAS_CONTEXT_H */
