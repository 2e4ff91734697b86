/* A fixed pool of worker threads running one parallel loop at a time. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "core_internal.h"

struct hwnas__pool {
    const hwnas_context *ctx;  /* allocator */
    size_t n_threads;          /* workers including the caller, >= 2 */
    pthread_t *threads;        /* n_threads - 1 started workers */
    size_t started;            /* how many of threads[] are running */
    pthread_mutex_t lock;      /* guards generation, stop, active */
    pthread_cond_t wake;       /* a new loop or stop */
    pthread_cond_t done;       /* active reached 0 */
    pthread_mutex_t busy;      /* held while a loop runs: nested calls go serial */
    uint64_t generation;       /* bumped for each loop */
    int stop;                  /* workers exit */
    size_t active;             /* workers still inside the current loop */
    hwnas_task_fn task;        /* current loop */
    void *data;
    size_t n;
    atomic_size_t next;        /* next index to hand out */
    atomic_int result;         /* first non-zero task result */
};

typedef struct worker_arg {
    hwnas__pool *pool;
    size_t id;
} worker_arg;

size_t hwnas__cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static void run_loop(hwnas__pool *p, size_t worker)
{
    for (;;) {
        if (atomic_load_explicit(&p->result, memory_order_relaxed) != 0)
            return;
        size_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->n)
            return;
        int r = p->task(i, worker, p->data);
        if (r != 0) {
            int zero = 0;
            atomic_compare_exchange_strong(&p->result, &zero, r);
        }
    }
}

static void *worker_main(void *arg)
{
    hwnas__pool *p = ((worker_arg *)arg)->pool;
    size_t id = ((worker_arg *)arg)->id;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        run_loop(p, id);
        pthread_mutex_lock(&p->lock);
        if (--p->active == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Thread arguments live in one array after the thread ids; ids are fixed. */
static worker_arg *pool_args(hwnas__pool *p)
{
    return (worker_arg *)(void *)(p->threads + (p->n_threads - 1));
}

int hwnas__pool_new(hwnas__pool **out, const hwnas_context *ctx, size_t threads)
{
    *out = NULL;
    if (threads < 2)
        return hwnas__error(HWNAS_EINVAL, "a thread pool needs at least 2 threads");
    hwnas__pool *p = hwnas__calloc(ctx, 1, sizeof *p);
    if (!p)
        return HWNAS_ENOMEM;
    p->ctx = ctx;
    p->n_threads = threads;
    /* One block: thread ids, then their arguments (worker_arg is pointer-aligned). */
    p->threads = hwnas__malloc(ctx, (threads - 1) * (sizeof(pthread_t) + sizeof(worker_arg)));
    if (!p->threads) {
        hwnas__free(ctx, p);
        return HWNAS_ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->busy, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->result, 0);
    worker_arg *args = pool_args(p);
    for (size_t i = 0; i + 1 < threads; i++) {
        args[i].pool = p;
        args[i].id = i + 1;
        if (pthread_create(&p->threads[i], NULL, worker_main, &args[i]) != 0) {
            hwnas__pool_free(p);
            return hwnas__error(HWNAS_ENOMEM, "cannot start worker thread %zu of %zu",
                                i + 1, threads - 1);
        }
        p->started++;
    }
    *out = p;
    return HWNAS_OK;
}

void hwnas__pool_free(hwnas__pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->busy);
    pthread_mutex_destroy(&p->lock);
    hwnas__free(p->ctx, p->threads);
    hwnas__free(p->ctx, p);
}

int hwnas__pool_run(hwnas__pool *p, size_t n, hwnas_task_fn task, void *data)
{
    if (pthread_mutex_trylock(&p->busy) != 0) {
        /* A loop is running (we are nested in it, or another thread uses
         * the context): run this one on the calling thread. */
        for (size_t i = 0; i < n; i++) {
            int r = task(i, 0, data);
            if (r != 0)
                return r;
        }
        return 0;
    }
    pthread_mutex_lock(&p->lock);
    p->task = task;
    p->data = data;
    p->n = n;
    atomic_store(&p->next, 0);
    atomic_store(&p->result, 0);
    p->active = p->started;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);

    run_loop(p, 0);

    pthread_mutex_lock(&p->lock);
    while (p->active > 0)
        pthread_cond_wait(&p->done, &p->lock);
    int r = atomic_load(&p->result);
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&p->busy);
    return r;
}
