/*
 * A worker rank: says HELLO with its search's shape, then estimates the
 * candidates rank 0 sends, one at a time, exactly as the local evaluator
 * would (hwnas__evaluate_one: same stream, screening and failure
 * record). The estimate runs on a thread of its own so that this thread,
 * the only one that calls MPI, can send heartbeats meanwhile.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "mpi_internal.h"

typedef struct task {
    hwnas_search *s;
    hwnas__job job;
    int rc;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} task;

static void *estimate_main(void *data)
{
    task *t = data;
    int rc = hwnas__evaluate_one(t->s, &t->job);
    pthread_mutex_lock(&t->lock);
    t->rc = rc;
    t->done = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Estimate job on a thread, beating every heartbeat seconds meanwhile. */
static int estimate_beating(hwnas_search *s, MPI_Comm comm, const hwnas__mpi_opts *o,
                            hwnas__job *job)
{
    task t;
    memset(&t, 0, sizeof t);
    t.s = s;
    t.job = *job;
    pthread_mutex_init(&t.lock, NULL);
    pthread_cond_init(&t.cond, NULL);
    pthread_t th;
    int rc = HWNAS_OK;
    if (pthread_create(&th, NULL, estimate_main, &t) != 0) {
        estimate_main(&t); /* no thread to be had: estimate here, without beats */
    } else {
        pthread_mutex_lock(&t.lock);
        while (!t.done) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            double ns = (double)until.tv_nsec + o->heartbeat * 1e9;
            until.tv_sec += (time_t)(ns / 1e9);
            until.tv_nsec = (long)(ns - (double)(time_t)(ns / 1e9) * 1e9);
            pthread_cond_timedwait(&t.cond, &t.lock, &until);
            if (t.done)
                break;
            pthread_mutex_unlock(&t.lock);
            int mrc = MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_BEAT, comm);
            pthread_mutex_lock(&t.lock);
            if (mrc != MPI_SUCCESS && rc == HWNAS_OK)
                rc = hwnas__mpi_fail(mrc, "sending a heartbeat");
        }
        pthread_mutex_unlock(&t.lock);
        pthread_join(th, NULL);
    }
    pthread_cond_destroy(&t.cond);
    pthread_mutex_destroy(&t.lock);
    *job = t.job;
    return rc != HWNAS_OK ? rc : t.rc;
}

static void put(unsigned char *b, size_t *at, const void *v, size_t n)
{
    memcpy(b + *at, v, n);
    *at += n;
}

/* The RESULT of one job: see mpi_internal.h. */
static int send_result(hwnas_search *s, MPI_Comm comm, uint64_t seq, const hwnas__job *job)
{
    const hwnas__record *r = job->rec;
    char *spec = NULL;
    if (job->net && hwnas_net_node_count(job->net) && hwnas_net_format(job->net, &spec) != HWNAS_OK)
        return HWNAS_ENOMEM;
    const char *err = r->failed && r->error ? r->error : "";
    uint32_t elen = (uint32_t)strlen(err), nlen = spec ? (uint32_t)strlen(spec) : 0;
    int32_t failed = r->failed;
    size_t len = 8 + 8 + 4 + 8 * s->n_metrics + 4 + elen + 4 + nlen, at = 0;
    unsigned char *b = hwnas__malloc(s->ctx, len);
    int rc = b ? HWNAS_OK : HWNAS_ENOMEM;
    if (b) {
        put(b, &at, &seq, 8);
        put(b, &at, &r->seconds, 8);
        put(b, &at, &failed, 4);
        put(b, &at, r->metrics, 8 * s->n_metrics);
        put(b, &at, &elen, 4);
        put(b, &at, err, elen);
        put(b, &at, &nlen, 4);
        put(b, &at, spec ? spec : "", nlen);
        int mrc = MPI_Send(b, (int)len, MPI_BYTE, 0, TAG_RESULT, comm);
        if (mrc != MPI_SUCCESS)
            rc = hwnas__mpi_fail(mrc, "sending a result");
    }
    hwnas__free(s->ctx, b);
    hwnas_free(spec);
    return rc;
}

/* One JOB message (seq, stream, genes) estimated and answered. */
static int serve_job(hwnas_search *s, MPI_Comm comm, const hwnas__mpi_opts *o,
                     const uint64_t *msg, uint32_t *genes)
{
    for (size_t g = 0; g < s->n_genes; g++)
        genes[g] = (uint32_t)msg[2 + g];
    hwnas__record rec;
    hwnas__job job;
    memset(&job, 0, sizeof job);
    job.rec = &rec;
    int rc = hwnas__record_new(s, &rec, genes, 0, msg[1]);
    if (rc == HWNAS_OK && !rec.failed)
        rc = estimate_beating(s, comm, o, &job);
    if (rc == HWNAS_OK && job.interrupted)
        rc = hwnas__record_fail(s, &rec, "estimation interrupted on a worker rank");
    if (rc == HWNAS_OK)
        rc = send_result(s, comm, msg[0], &job);
    hwnas__record_release(s->ctx, &rec);
    hwnas_net_free(job.net);
    return rc;
}

int hwnas__mpi_worker(hwnas_search *s, MPI_Comm comm, const hwnas__mpi_opts *o)
{
    /* The constraints, for screening, as start would resolve them. */
    int rc = s->obj ? HWNAS_OK : hwnas__search_resolve(s);
    char *hello = rc == HWNAS_OK ? hwnas__mpi_fingerprint(s) : NULL;
    if (rc == HWNAS_OK && !hello)
        rc = HWNAS_ENOMEM;
    /* A worker that cannot set up still says why, so rank 0 fails with it. */
    char why[512];
    if (rc != HWNAS_OK)
        snprintf(why, sizeof why, "error: %s", hwnas_error_last());
    const char *h = hello ? hello : why;
    int mrc = MPI_Send(h, (int)strlen(h), MPI_BYTE, 0, TAG_HELLO, comm);
    if (rc == HWNAS_OK && mrc != MPI_SUCCESS)
        rc = hwnas__mpi_fail(mrc, "saying hello to rank 0");
    hwnas__free(s->ctx, hello);
    uint64_t *msg = hwnas__malloc(s->ctx, (2 + s->n_genes) * sizeof *msg);
    uint32_t *genes = hwnas__malloc(s->ctx, (s->n_genes + 1) * sizeof *genes);
    if (rc == HWNAS_OK && (!msg || !genes))
        rc = HWNAS_ENOMEM;
    /* Even after an error the worker waits for STOP, so that rank 0 never
     * sends to a rank that left; it just answers no more jobs. */
    unsigned idle = 0;
    for (;;) {
        int flag = 0, count = 0;
        MPI_Status st;
        mrc = MPI_Iprobe(0, MPI_ANY_TAG, comm, &flag, &st);
        if (mrc != MPI_SUCCESS) {
            rc = hwnas__mpi_fail(mrc, "waiting for rank 0");
            break;
        }
        if (!flag) {
            hwnas__mpi_nap(&idle);
            continue;
        }
        idle = 0;
        MPI_Get_count(&st, MPI_BYTE, &count);
        if (st.MPI_TAG == TAG_STOP) {
            unsigned char was_lost = 0;
            MPI_Recv(&was_lost, count > 0 ? 1 : 0, MPI_BYTE, 0, TAG_STOP, comm,
                     MPI_STATUS_IGNORE);
            if (was_lost)
                hwnas__mpi_set_lost();
            MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_STOP, comm); /* stopped: rank 0 may go */
            break;
        }
        if (st.MPI_TAG != TAG_JOB || !msg || (size_t)count != (2 + s->n_genes) * 8) {
            /* Not ours, or of another shape: received and dropped. */
            unsigned char sink[64];
            if (count <= (int)sizeof sink)
                MPI_Recv(sink, count, MPI_BYTE, 0, st.MPI_TAG, comm, MPI_STATUS_IGNORE);
            else
                rc = hwnas__error(HWNAS_EIO, "mpi: a message of %d bytes with tag %d from "
                                             "rank 0, not a job of this search",
                                  count, st.MPI_TAG);
            if (rc != HWNAS_OK)
                break;
            continue;
        }
        MPI_Recv(msg, (int)(2 + s->n_genes), MPI_UINT64_T, 0, TAG_JOB, comm, MPI_STATUS_IGNORE);
        if (rc == HWNAS_OK)
            rc = serve_job(s, comm, o, msg, genes);
    }
    hwnas__free(s->ctx, msg);
    hwnas__free(s->ctx, genes);
    return rc;
}
