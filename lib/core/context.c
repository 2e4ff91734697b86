/* The context: allocator, log, options, threads; and buffers for callers. */
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_internal.h"

enum { OPT_THREADS, OPT_SEED, OPT_LOG_LEVEL, OPT_ENGINE };

static const hwnas__option_spec context_options[] = {
    [OPT_THREADS] = {"threads", HWNAS_OPTION_INT, "0", 0, 4096, NULL,
                     "worker threads for parallel work; 0 = one per online CPU"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "root seed of every random stream"},
    [OPT_LOG_LEVEL] = {"log_level", HWNAS_OPTION_ENUM, "warn", 0, 0,
                       "error|warn|info|debug", "most verbose level that is logged"},
    /* read by lib/engine (engine/backend/backend.c), in this order */
    [OPT_ENGINE] = {"engine", HWNAS_OPTION_ENUM, "auto", 0, 0, "auto|openblas|onednn",
                    "fp32 engine backend: auto = the fastest built in (onednn when "
                    "there), openblas = the reference"},
};

const hwnas__kind hwnas__context_kind = {
    "context", context_options, HWNAS_ARRAY_SIZE(context_options), NULL,
};

struct hwnas_context {
    hwnas_malloc_fn malloc_fn;   /* never NULL */
    hwnas_realloc_fn realloc_fn; /* never NULL */
    hwnas_free_fn free_fn;       /* never NULL */
    void *alloc_data;            /* the host's, never freed here */
    hwnas_log_cb log_cb;         /* NULL = stderr */
    void *log_data;
    hwnas_options *options;      /* the context kind's values */
    size_t threads;              /* resolved worker count, >= 1 */
    uint64_t seed;
    int log_level;               /* HWNAS_LOG_* */
    hwnas_parallel_for_fn pfor;  /* host's parallel-for or NULL */
    void *pfor_data;
    pthread_mutex_t pool_lock;   /* guards lazy creation of pool */
    hwnas__pool *pool;           /* NULL until the first parallel loop */
    struct ctx_kinds *extra;     /* n_extra registrations of plugin kinds */
    size_t n_extra;
};

/* One registration of plugin kinds (hwnas__context_add_kinds). */
struct ctx_kinds {
    const hwnas__kind *const *kinds; /* n borrowed kinds */
    size_t n;
    void (*release)(void *data);     /* called at hwnas_context_free, or NULL */
    void *data;
};

static void *std_malloc(size_t size, void *ud) { (void)ud; return malloc(size); }
static void *std_realloc(void *p, size_t size, void *ud) { (void)ud; return realloc(p, size); }
static void std_free(void *p, void *ud) { (void)ud; free(p); }

/* ---- allocation ------------------------------------------------------ */

void *hwnas__malloc(const hwnas_context *ctx, size_t size)
{
    void *p = ctx->malloc_fn(size ? size : 1, ctx->alloc_data);
    if (!p)
        hwnas__enomem();
    return p;
}

void *hwnas__calloc(const hwnas_context *ctx, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        hwnas__enomem();
        return NULL;
    }
    void *p = hwnas__malloc(ctx, n * size);
    if (p)
        memset(p, 0, n * size > 0 ? n * size : 1);
    return p;
}

void *hwnas__realloc(const hwnas_context *ctx, void *ptr, size_t size)
{
    void *p = ctx->realloc_fn(ptr, size ? size : 1, ctx->alloc_data);
    if (!p)
        hwnas__enomem();
    return p;
}

void hwnas__free(const hwnas_context *ctx, void *ptr)
{
    if (ptr)
        ctx->free_fn(ptr, ctx->alloc_data);
}

char *hwnas__strndup(const hwnas_context *ctx, const char *s, size_t n)
{
    char *p = hwnas__malloc(ctx, n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *hwnas__strdup(const hwnas_context *ctx, const char *s)
{
    return hwnas__strndup(ctx, s, strlen(s));
}

/* Buffers handed to callers carry their allocator, so that hwnas_free()
 * needs no context argument. The header keeps the data max-aligned. */
typedef union buffer_header {
    struct {
        hwnas_free_fn free_fn;
        void *alloc_data;
    } a;
    max_align_t align;
} buffer_header;

void *hwnas__buffer_alloc(const hwnas_context *ctx, size_t size)
{
    if (size > SIZE_MAX - sizeof(buffer_header)) {
        hwnas__enomem();
        return NULL;
    }
    buffer_header *h = hwnas__malloc(ctx, sizeof *h + size);
    if (!h)
        return NULL;
    h->a.free_fn = ctx->free_fn;
    h->a.alloc_data = ctx->alloc_data;
    return h + 1;
}

char *hwnas__buffer_strdup(const hwnas_context *ctx, const char *s)
{
    size_t n = strlen(s);
    char *p = hwnas__buffer_alloc(ctx, n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

void hwnas_free(void *ptr)
{
    if (!ptr)
        return;
    buffer_header *h = (buffer_header *)ptr - 1;
    h->a.free_fn(h, h->a.alloc_data);
}

/* ---- options --------------------------------------------------------- */

/* Copy the option values into the fields the library reads on hot paths. */
static void context_apply(hwnas_context *ctx)
{
    int64_t threads = hwnas__options_int(ctx->options, OPT_THREADS);
    ctx->threads = threads > 0 ? (size_t)threads : hwnas__cpu_count();
    ctx->seed = (uint64_t)hwnas__options_int(ctx->options, OPT_SEED);
    ctx->log_level = (int)hwnas__options_int(ctx->options, OPT_LOG_LEVEL);
}

int hwnas_context_new_custom(hwnas_context **out, const char *options,
                             hwnas_malloc_fn malloc_fn, hwnas_realloc_fn realloc_fn,
                             hwnas_free_fn free_fn, void *user_data)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_context_new: out is NULL");
    *out = NULL;
    if (!malloc_fn || !realloc_fn || !free_fn)
        return hwnas__error(HWNAS_EINVAL,
                            "hwnas_context_new_custom: malloc, realloc and free are all required");
    hwnas_context *ctx = malloc_fn(sizeof *ctx, user_data);
    if (!ctx)
        return hwnas__enomem();
    memset(ctx, 0, sizeof *ctx);
    ctx->malloc_fn = malloc_fn;
    ctx->realloc_fn = realloc_fn;
    ctx->free_fn = free_fn;
    ctx->alloc_data = user_data;
    if (pthread_mutex_init(&ctx->pool_lock, NULL) != 0) {
        free_fn(ctx, user_data);
        return hwnas__error(HWNAS_ENOMEM, "hwnas_context_new: cannot create a mutex");
    }
    int rc = hwnas__options_new_kind(&ctx->options, ctx, &hwnas__context_kind, options);
    if (rc != HWNAS_OK) {
        pthread_mutex_destroy(&ctx->pool_lock);
        free_fn(ctx, user_data);
        return rc;
    }
    context_apply(ctx);
    *out = ctx;
    return HWNAS_OK;
}

int hwnas_context_new(hwnas_context **out, const char *options)
{
    return hwnas_context_new_custom(out, options, std_malloc, std_realloc, std_free, NULL);
}

void hwnas_context_free(hwnas_context *ctx)
{
    if (!ctx)
        return;
    hwnas__pool_free(ctx->pool);
    for (size_t i = ctx->n_extra; i-- > 0;)
        if (ctx->extra[i].release)
            ctx->extra[i].release(ctx->extra[i].data);
    hwnas__free(ctx, ctx->extra);
    hwnas_options_free(ctx->options);
    pthread_mutex_destroy(&ctx->pool_lock);
    ctx->free_fn(ctx, ctx->alloc_data);
}

int hwnas_context_set_option(hwnas_context *ctx, const char *key, const char *value)
{
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_context_set_option: ctx is NULL");
    int rc = hwnas_options_set(ctx->options, key, value);
    if (rc != HWNAS_OK)
        return rc;
    size_t old_threads = ctx->threads;
    context_apply(ctx);
    if (ctx->threads != old_threads && ctx->pool) {
        /* The next parallel loop starts a pool of the new size. */
        hwnas__pool_free(ctx->pool);
        ctx->pool = NULL;
    }
    return HWNAS_OK;
}

const hwnas_options *hwnas_context_options(const hwnas_context *ctx)
{
    return ctx ? ctx->options : NULL;
}

size_t hwnas_context_threads(const hwnas_context *ctx) { return ctx ? ctx->threads : 1; }

uint64_t hwnas_context_seed(const hwnas_context *ctx) { return ctx ? ctx->seed : 0; }

/* ---- plugin kinds ---------------------------------------------------- */

size_t hwnas__context_extra_count(const hwnas_context *ctx)
{
    size_t n = 0;
    for (size_t i = 0; ctx && i < ctx->n_extra; i++)
        n += ctx->extra[i].n;
    return n;
}

const hwnas__kind *hwnas__context_extra_kind(const hwnas_context *ctx, size_t i)
{
    for (size_t r = 0; ctx && r < ctx->n_extra; r++) {
        if (i < ctx->extra[r].n)
            return ctx->extra[r].kinds[i];
        i -= ctx->extra[r].n;
    }
    return NULL;
}

static int kind_taken(const hwnas_context *ctx, const char *name)
{
    for (size_t i = 0; i < hwnas__builtin_kind_count; i++)
        if (strcmp(hwnas__builtin_kinds[i]->name, name) == 0)
            return 1;
    for (size_t i = 0, n = hwnas__context_extra_count(ctx); i < n; i++)
        if (strcmp(hwnas__context_extra_kind(ctx, i)->name, name) == 0)
            return 1;
    return 0;
}

int hwnas__context_add_kinds(hwnas_context *ctx, const hwnas__kind *const *kinds, size_t n,
                             void (*release)(void *data), void *data)
{
    for (size_t i = 0; i < n; i++) {
        int dup = kind_taken(ctx, kinds[i]->name);
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(kinds[j]->name, kinds[i]->name) == 0;
        if (dup)
            return hwnas__error(HWNAS_EINVAL, "kind '%s' is already registered", kinds[i]->name);
    }
    struct ctx_kinds *x = hwnas__realloc(ctx, ctx->extra, (ctx->n_extra + 1) * sizeof *x);
    if (!x)
        return HWNAS_ENOMEM;
    ctx->extra = x;
    x[ctx->n_extra++] = (struct ctx_kinds){kinds, n, release, data};
    return HWNAS_OK;
}

/* ---- log ------------------------------------------------------------- */

void hwnas_context_set_log(hwnas_context *ctx, hwnas_log_cb cb, void *user_data)
{
    if (!ctx)
        return;
    ctx->log_cb = cb;
    ctx->log_data = user_data;
}

void hwnas_context_log(const hwnas_context *ctx, int level, const char *format, ...)
{
    if (!ctx || !format || level > ctx->log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, format);
    vsnprintf(msg, sizeof msg, format, ap);
    va_end(ap);
    if (ctx->log_cb) {
        ctx->log_cb(level, msg, ctx->log_data);
        return;
    }
    static const char *const names[] = {"error", "warning", "info", "debug"};
    const char *name = level >= 0 && level <= HWNAS_LOG_DEBUG ? names[level] : "log";
    fprintf(stderr, "hwnas: %s: %s\n", name, msg);
}

/* ---- parallel-for ---------------------------------------------------- */

void hwnas_context_set_parallel_for(hwnas_context *ctx, hwnas_parallel_for_fn fn,
                                    void *user_data)
{
    if (!ctx)
        return;
    ctx->pfor = fn;
    ctx->pfor_data = user_data;
}

static int run_serial(size_t n, hwnas_task_fn task, void *user_data)
{
    for (size_t i = 0; i < n; i++) {
        int r = task(i, 0, user_data);
        if (r != 0)
            return r;
    }
    return 0;
}

int hwnas_parallel_for(hwnas_context *ctx, size_t n, hwnas_task_fn task, void *user_data)
{
    if (!ctx || !task)
        return hwnas__error(HWNAS_EINVAL, "hwnas_parallel_for: ctx and task are required");
    int r;
    if (ctx->pfor) {
        r = ctx->pfor(n, task, user_data, ctx->pfor_data);
    } else if (ctx->threads <= 1 || n <= 1) {
        r = run_serial(n, task, user_data);
    } else {
        pthread_mutex_lock(&ctx->pool_lock);
        if (!ctx->pool && hwnas__pool_new(&ctx->pool, ctx, ctx->threads) != HWNAS_OK)
            hwnas_context_log(ctx, HWNAS_LOG_WARN,
                              "cannot start %zu threads (%s); running serially",
                              ctx->threads, hwnas_error_last());
        hwnas__pool *pool = ctx->pool;
        pthread_mutex_unlock(&ctx->pool_lock);
        r = pool ? hwnas__pool_run(pool, n, task, user_data) : run_serial(n, task, user_data);
    }
    if (r != 0)
        return hwnas__error(HWNAS_EUSER, "parallel loop stopped: a task returned %d", r);
    return HWNAS_OK;
}

double hwnas__now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
