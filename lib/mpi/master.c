/*
 * Rank 0: the search runs as in one process (hwnas_search_run), with a
 * remote evaluator in its evaluator hook. A batch is dealt out one
 * candidate per idle worker; a worker that answers gets the next one at
 * once, so no worker idles while the batch has candidates left. Results
 * land in the batch's own slots, so the order the strategy and the journal
 * see is the evaluation order, wherever and whenever a candidate finished.
 */
#include <math.h>
#include <string.h>

#include "message.h"
#include "mpi_internal.h"

typedef struct peer {
    int ready;        /* HELLO received and its search matches */
    int dead;         /* timed out: never used again, its messages ignored */
    int64_t job;      /* index of the job it estimates, -1 when idle */
    hwnas__job *cur;  /* that job */
    uint64_t seq;     /* sequence number of that job */
    double heard;     /* wall clock of its last message (or of its job) */
    uint64_t *out;    /* the JOB message in flight (2 + n_genes) */
    MPI_Request req;  /* its send, MPI_REQUEST_NULL when none */
    int bye;          /* answered STOP */
} peer;

typedef struct master {
    hwnas_search *s;
    MPI_Comm comm;
    const hwnas__mpi_opts *o;
    int size;          /* ranks in comm; peers 1..size-1 */
    peer *p;           /* size of them, p[0] unused */
    char *fingerprint; /* rank 0's search shape */
    unsigned char *buf;
    size_t cap;
    uint64_t next_seq;
    double since;      /* session start: a worker that never says HELLO is dead after timeout */
    /* schedule=async: jobs started, not yet sent (oldest first), and the
     * one finished job a poll delivered */
    hwnas__job **queue;
    size_t n_queue, cap_queue;
    hwnas__job *finished;
} master;

/* Job states inside one batch. */
enum { QUEUED, RUNNING, DONE };

static int grow(master *m, size_t need)
{
    if (need <= m->cap)
        return HWNAS_OK;
    unsigned char *b = hwnas__realloc(m->s->ctx, m->buf, need);
    if (!b)
        return HWNAS_ENOMEM;
    m->buf = b;
    m->cap = need;
    return HWNAS_OK;
}

static int live_workers(const master *m)
{
    int n = 0;
    for (int r = 1; r < m->size; r++)
        n += !m->p[r].dead;
    return n;
}

static void declare_dead(master *m, int r, const char *why)
{
    m->p[r].dead = 1;
    hwnas__mpi_set_lost();
    HWNAS_LOG(m->s->ctx, HWNAS_LOG_WARN, "mpi: rank %d %s; it gets no more candidates", r, why);
}

static int send_job(master *m, int r, hwnas__job *job, size_t index)
{
    peer *p = &m->p[r];
    if (p->req != MPI_REQUEST_NULL) { /* the previous JOB: received, since r answered it */
        int rc = MPI_Wait(&p->req, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return hwnas__mpi_fail(rc, "waiting for a job's send");
    }
    size_t ng = m->s->n_genes;
    p->seq = m->next_seq++;
    p->out[0] = p->seq;
    p->out[1] = job->rec->stream; /* the worker's record: its estimates' stream */
    for (size_t g = 0; g < ng; g++)
        p->out[2 + g] = job->rec->genes[g];
    int rc = MPI_Isend(p->out, (int)(2 + ng), MPI_UINT64_T, r, TAG_JOB, m->comm, &p->req);
    if (rc != MPI_SUCCESS)
        return hwnas__mpi_fail(rc, "sending a candidate");
    p->job = (int64_t)index;
    p->cur = job;
    p->heard = hwnas__now_seconds();
    return HWNAS_OK;
}

/* A RESULT into its job; a malformed one is rank 0's error (a worker of
 * another build). */
static int take_result(master *m, int r, const unsigned char *b, size_t len, hwnas__job *jobs,
                       unsigned char *state)
{
    hwnas_search *s = m->s;
    peer *p = &m->p[r];
    hwnas__mpi_result res;
    int rc = hwnas__mpi_result_parse(b, len, s->n_metrics, r, &res);
    if (rc != HWNAS_OK)
        return rc;
    if (p->dead || p->job < 0 || res.seq != p->seq)
        return HWNAS_OK; /* a late answer for a candidate given to another rank */
    (void)jobs;
    hwnas__job *job = p->cur;
    hwnas__record *rec = job->rec;
    rec->seconds = res.seconds;
    memcpy(rec->metrics, res.metrics, 8 * s->n_metrics);
    if (res.failed) {
        char *msg = hwnas__malloc(s->ctx, res.error_len + 1);
        if (!msg)
            return HWNAS_ENOMEM;
        memcpy(msg, res.error, res.error_len);
        msg[res.error_len] = 0;
        rc = hwnas__record_fail(s, rec, msg);
        hwnas__free(s->ctx, msg);
        for (size_t k = 0; k < s->n_metrics; k++)
            rec->metrics[k] = NAN;
    }
    if (rc == HWNAS_OK && res.net_len && s->journal) { /* the net is only journaled */
        char *spec = hwnas__malloc(s->ctx, res.net_len + 1);
        if (!spec)
            return HWNAS_ENOMEM;
        memcpy(spec, res.net, res.net_len);
        spec[res.net_len] = 0;
        char where[64];
        snprintf(where, sizeof where, "net of evaluation %llu from rank %d",
                 (unsigned long long)rec->eval, r);
        rc = hwnas_net_parse(&job->net, s->ctx, spec, where);
        hwnas__free(s->ctx, spec);
    }
    if (rc == HWNAS_OK) {
        if (state)
            state[p->job] = DONE;
        else
            m->finished = job;
        p->job = -1;
        p->cur = NULL;
    }
    return rc;
}

static int take_hello(master *m, int r, const unsigned char *b, size_t len)
{
    peer *p = &m->p[r];
    if (strlen(m->fingerprint) == len && memcmp(m->fingerprint, b, len) == 0) {
        p->ready = 1;
        return HWNAS_OK;
    }
    return hwnas__error(HWNAS_EINVAL, "mpi: rank %d built another search than rank 0: it has "
                                      "'%.*s', rank 0 has '%s'",
                        r, (int)(len > 400 ? 400 : len), (const char *)b, m->fingerprint);
}

/* One message, if any has arrived: *got says whether one did. */
static int poll_one(master *m, hwnas__job *jobs, unsigned char *state, int *got)
{
    int flag = 0;
    MPI_Status st;
    int rc = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag, &st);
    if (rc != MPI_SUCCESS)
        return hwnas__mpi_fail(rc, "polling the workers");
    *got = flag;
    if (!flag)
        return HWNAS_OK;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    int src = st.MPI_SOURCE, tag = st.MPI_TAG;
    if (grow(m, (size_t)count + 1) != HWNAS_OK)
        return HWNAS_ENOMEM;
    rc = MPI_Recv(m->buf, count, MPI_BYTE, src, tag, m->comm, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS)
        return hwnas__mpi_fail(rc, "receiving from a worker");
    if (src <= 0 || src >= m->size || m->p[src].dead)
        return HWNAS_OK;
    m->p[src].heard = hwnas__now_seconds();
    if (tag == TAG_HELLO)
        return take_hello(m, src, m->buf, (size_t)count);
    if (tag == TAG_RESULT && (jobs || m->queue))
        return take_result(m, src, m->buf, (size_t)count, jobs, state);
    return HWNAS_OK; /* BEAT, or a RESULT between batches (a late one) */
}

/* schedule=async: a dead worker's job goes back to the front of the queue
 * (it was started before every queued one). Never fails: the queue has
 * room for every job in flight (reserved by async_start). */
static void requeue(master *m, hwnas__job *job)
{
    memmove(m->queue + 1, m->queue, m->n_queue * sizeof *m->queue);
    m->queue[0] = job;
    m->n_queue++;
}

/* Silent workers are dead; their candidates go back to the queue. */
static void check_timeouts(master *m, unsigned char *state)
{
    double now = hwnas__now_seconds();
    for (int r = 1; r < m->size; r++) {
        peer *p = &m->p[r];
        if (p->dead)
            continue;
        if (p->job >= 0 && now - p->heard > m->o->timeout) {
            if (state)
                state[p->job] = QUEUED;
            else
                requeue(m, p->cur);
            declare_dead(m, r, "fell silent while estimating");
            p->job = -1;
            p->cur = NULL;
        } else if (!p->ready && now - m->since > m->o->timeout) {
            declare_dead(m, r, "never said hello");
        }
    }
}

static int evaluate_remote(void *data, hwnas_search *s, hwnas__job *jobs, size_t n)
{
    master *m = data;
    unsigned char *state = hwnas__calloc(s->ctx, n + 1, 1);
    if (!state)
        return HWNAS_ENOMEM;
    int rc = HWNAS_OK;
    size_t done = 0, cursor = 0;
    unsigned idle = 0;
    double checked = hwnas__now_seconds();
    while (rc == HWNAS_OK) {
        done = 0;
        for (size_t i = 0; i < n; i++)
            done += state[i] == DONE;
        if (done == n)
            break;
        /* Idle ready workers take the queued jobs in evaluation order. */
        for (int r = 1; rc == HWNAS_OK && r < m->size; r++) {
            peer *p = &m->p[r];
            if (p->dead || !p->ready || p->job >= 0)
                continue;
            while (cursor < n && state[cursor] != QUEUED)
                cursor++;
            if (cursor == n)
                break;
            state[cursor] = RUNNING;
            rc = send_job(m, r, &jobs[cursor], cursor);
        }
        if (rc != HWNAS_OK)
            break;
        if (live_workers(m) == 0) {
            /* Nobody left: rank 0 estimates the rest itself. */
            for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
                if (state[i] == QUEUED) {
                    rc = hwnas__evaluate_one(s, &jobs[i]);
                    state[i] = DONE;
                }
            continue;
        }
        int got = 0;
        rc = poll_one(m, jobs, state, &got);
        if (rc != HWNAS_OK)
            break;
        /* Timeouts are checked when nothing came, and at least every
         * 0.1 s: other workers' messages must not hide a dead one. */
        double now = hwnas__now_seconds();
        if (!got || now - checked > 0.1) {
            check_timeouts(m, state);
            checked = now;
        }
        if (got)
            idle = 0;
        else
            hwnas__mpi_nap(&idle);
        cursor = 0; /* a re-queued job may sit before the cursor */
    }
    hwnas__free(s->ctx, state);
    return rc;
}

/* ---- schedule=async (lib/search/async.c) --------------------------------- */

static size_t async_width(void *data, hwnas_search *s)
{
    (void)s;
    master *m = data;
    return m->size > 1 ? (size_t)(m->size - 1) : 1;
}

static int async_start(void *data, hwnas_search *s, hwnas__job *job)
{
    master *m = data;
    size_t need = async_width(m, s) + m->n_queue + 1;
    if (need > m->cap_queue) {
        hwnas__job **q = hwnas__realloc(s->ctx, m->queue, need * sizeof *q);
        if (!q)
            return HWNAS_ENOMEM;
        m->queue = q;
        m->cap_queue = need;
    }
    m->queue[m->n_queue++] = job;
    return HWNAS_OK;
}

/* The next finished job: queued ones go to idle workers oldest first, and
 * whichever answers first is returned (with no worker left, rank 0
 * estimates the oldest itself). */
static int async_next(void *data, hwnas_search *s, hwnas__job **done)
{
    master *m = data;
    *done = NULL;
    m->finished = NULL;
    unsigned idle = 0;
    double checked = hwnas__now_seconds();
    int rc = HWNAS_OK;
    while (rc == HWNAS_OK && !m->finished) {
        for (int r = 1; rc == HWNAS_OK && r < m->size && m->n_queue; r++) {
            peer *p = &m->p[r];
            if (p->dead || !p->ready || p->job >= 0)
                continue;
            hwnas__job *job = m->queue[0];
            memmove(m->queue, m->queue + 1, --m->n_queue * sizeof *m->queue);
            rc = send_job(m, r, job, 0);
        }
        if (rc != HWNAS_OK)
            break;
        if (live_workers(m) == 0) {
            if (!m->n_queue)
                return hwnas__error(HWNAS_EINTERNAL, "mpi: nothing in flight to wait for");
            hwnas__job *job = m->queue[0];
            memmove(m->queue, m->queue + 1, --m->n_queue * sizeof *m->queue);
            rc = hwnas__evaluate_one(s, job);
            m->finished = job;
            break;
        }
        int got = 0;
        rc = poll_one(m, NULL, NULL, &got);
        if (rc != HWNAS_OK)
            break;
        double now = hwnas__now_seconds();
        if (!got || now - checked > 0.1) {
            check_timeouts(m, NULL);
            checked = now;
        }
        if (got)
            idle = 0;
        else
            hwnas__mpi_nap(&idle);
    }
    *done = m->finished;
    return rc;
}

/* STOP to every worker, then whatever they still send is received and
 * dropped until every live one says it stopped (a late result too large to
 * go without a matching receive would otherwise hold its worker forever).
 * A rank taken for dead is told too but not waited for; a live one that
 * does not answer within timeout is left. */
static void stop_workers(master *m)
{
    int waiting = 0;
    static unsigned char lost_flag[2] = {0, 1}; /* static: the sends are never waited for */
    int any_dead = 0;
    for (int r = 1; r < m->size; r++)
        any_dead |= m->p[r].dead;
    for (int r = 1; r < m->size; r++) {
        MPI_Request q;
        if (MPI_Isend(&lost_flag[any_dead], 1, MPI_BYTE, r, TAG_STOP, m->comm, &q) ==
            MPI_SUCCESS)
            MPI_Request_free(&q);
        waiting += !m->p[r].dead;
    }
    double until = hwnas__now_seconds() + m->o->timeout;
    unsigned idle = 0;
    while (waiting > 0 && hwnas__now_seconds() < until) {
        int flag = 0, count = 0;
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag, &st) != MPI_SUCCESS)
            break;
        if (!flag) {
            hwnas__mpi_nap(&idle);
            continue;
        }
        MPI_Get_count(&st, MPI_BYTE, &count);
        if (grow(m, (size_t)count + 1) != HWNAS_OK ||
            MPI_Recv(m->buf, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, m->comm,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS)
            break;
        peer *p = st.MPI_SOURCE > 0 && st.MPI_SOURCE < m->size ? &m->p[st.MPI_SOURCE] : NULL;
        if (p && st.MPI_TAG == TAG_STOP && !p->bye) {
            p->bye = 1;
            waiting -= !p->dead;
        }
    }
    for (int r = 1; r < m->size; r++) {
        peer *p = &m->p[r];
        if (p->req == MPI_REQUEST_NULL)
            continue;
        if (p->bye) /* it received its last job long ago */
            MPI_Wait(&p->req, MPI_STATUS_IGNORE);
        else
            MPI_Request_free(&p->req);
    }
}

int hwnas__mpi_master(hwnas_search *s, MPI_Comm comm, const hwnas__mpi_opts *o)
{
    master m;
    memset(&m, 0, sizeof m);
    m.s = s;
    m.comm = comm;
    m.o = o;
    m.since = hwnas__now_seconds();
    MPI_Comm_size(comm, &m.size);
    m.p = hwnas__calloc(s->ctx, (size_t)m.size, sizeof *m.p);
    m.fingerprint = hwnas__mpi_fingerprint(s);
    int rc = m.p && m.fingerprint ? HWNAS_OK : HWNAS_ENOMEM;
    for (int r = 1; rc == HWNAS_OK && r < m.size; r++) {
        m.p[r].job = -1;
        m.p[r].req = MPI_REQUEST_NULL;
        m.p[r].out = hwnas__malloc(s->ctx, (2 + s->n_genes) * sizeof *m.p[r].out);
        if (!m.p[r].out)
            rc = HWNAS_ENOMEM;
    }
    if (rc == HWNAS_OK) {
        hwnas__evaluator saved = s->evaluator;
        s->evaluator.evaluate = evaluate_remote;
        s->evaluator.data = &m;
        s->evaluator.start = async_start;
        s->evaluator.next = async_next;
        s->evaluator.width = async_width;
        rc = hwnas_search_run(s);
        s->evaluator = saved;
    }
    if (m.p) {
        /* stop_workers drains late HELLOs, beats and answers; the run's
         * message is kept across it. */
        char saved[1024];
        snprintf(saved, sizeof saved, "%s", hwnas_error_last());
        stop_workers(&m);
        if (rc != HWNAS_OK)
            hwnas__error(rc, "%s", saved);
        for (int r = 1; r < m.size; r++)
            hwnas__free(s->ctx, m.p[r].out);
    }
    hwnas__free(s->ctx, m.p);
    hwnas__free(s->ctx, m.fingerprint);
    hwnas__free(s->ctx, m.buf);
    hwnas__free(s->ctx, m.queue);
    return rc;
}
