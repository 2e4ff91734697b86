/* Mixed edges of a differentiable search (DARTS, GDAS, FBNet,
 * ProxylessNAS): add nodes whose terms are weighted by coefficients the
 * caller sets per step, with d loss / d coefficient accumulated over the
 * batch. See engine_internal.h; the search itself is lib/dsearch. */
#include <string.h>

#include "engine_internal.h"

/* roles of a node */
enum { ROLE_PLAIN = 0, ROLE_MIXED = 1, ROLE_PRIVATE = 2 };

struct hwnas__eng_mix {
    hwnas__engine *e;
    size_t n_coef;
    float *w;          /* n_coef coefficients */
    double *dw;        /* n_coef gradients (accumulated) */
    uint8_t *keep;     /* n_coef: computed even at weight 0 (for its gradient) */
    int skip_zero;
    uint8_t *role;     /* per node */
    int32_t **coef;    /* per mixed node: n_in coefficient indices (-1: weight 1) */
    int32_t *owner;    /* per private node: its term's coefficient */
    double *partial;   /* MAX_CHUNKS * max_in partial sums of d loss / d w */
    size_t max_in;
};

int hwnas__mix_new(hwnas__eng_mix **out, hwnas__engine *e, size_t n_coef)
{
    *out = NULL;
    hwnas_context *ctx = e->ctx;
    hwnas__eng_mix *m = hwnas__calloc(ctx, 1, sizeof *m);
    if (!m)
        return HWNAS_ENOMEM;
    m->e = e;
    m->n_coef = n_coef;
    m->w = hwnas__calloc(ctx, n_coef ? n_coef : 1, sizeof *m->w);
    m->dw = hwnas__calloc(ctx, n_coef ? n_coef : 1, sizeof *m->dw);
    m->keep = hwnas__calloc(ctx, n_coef ? n_coef : 1, 1);
    m->role = hwnas__calloc(ctx, e->n, 1);
    m->coef = hwnas__calloc(ctx, e->n, sizeof *m->coef);
    m->owner = hwnas__calloc(ctx, e->n, sizeof *m->owner);
    if (!m->w || !m->dw || !m->keep || !m->role || !m->coef || !m->owner) {
        hwnas__mix_free(m);
        return HWNAS_ENOMEM;
    }
    for (size_t k = 0; k < n_coef; k++)
        m->w[k] = 1.0f;
    *out = m;
    return HWNAS_OK;
}

void hwnas__mix_free(hwnas__eng_mix *m)
{
    if (!m)
        return;
    const hwnas_context *ctx = m->e->ctx;
    for (size_t i = 0; m->coef && i < m->e->n; i++)
        hwnas__free(ctx, m->coef[i]);
    hwnas__free(ctx, m->coef);
    hwnas__free(ctx, m->w);
    hwnas__free(ctx, m->dw);
    hwnas__free(ctx, m->keep);
    hwnas__free(ctx, m->role);
    hwnas__free(ctx, m->owner);
    hwnas__free(ctx, m->partial);
    hwnas__free(ctx, m);
}

int hwnas__mix_set_node(hwnas__eng_mix *m, size_t node, const int32_t *coef)
{
    hwnas__engine *e = m->e;
    if (node >= e->n || e->nodes[node].kind != HWNAS_NET_ADD)
        return hwnas__error(HWNAS_EINVAL, "engine: node %zu is not an add node: it cannot be "
                            "a mixed edge", node);
    const hwnas__eng_node *nd = &e->nodes[node];
    for (size_t q = 0; q < nd->n_in; q++)
        if (coef[q] < -1 || coef[q] >= (int32_t)m->n_coef)
            return hwnas__error(HWNAS_EINVAL, "engine: node '%s': coefficient %d of input %zu "
                                "out of range (%zu coefficients)", nd->name, (int)coef[q], q,
                                m->n_coef);
    int32_t *c = hwnas__malloc(e->ctx, nd->n_in * sizeof *c);
    if (!c)
        return HWNAS_ENOMEM;
    memcpy(c, coef, nd->n_in * sizeof *c);
    hwnas__free(e->ctx, m->coef[node]);
    m->coef[node] = c;
    m->role[node] = ROLE_MIXED;
    if (nd->n_in > m->max_in)
        m->max_in = nd->n_in;
    return HWNAS_OK;
}

/* A node is private to a term when every use of it is that term's input
 * slot of a mixed node or a node private to the same term. Reverse
 * topological order settles consumers before producers. */
int hwnas__mix_seal(hwnas__eng_mix *m)
{
    hwnas__engine *e = m->e;
    enum { NONE = -2, UNSET = -3 };
    for (size_t k = e->n; k-- > 0;) {
        if (m->role[k] == ROLE_MIXED || e->nodes[k].kind == HWNAS_NET_INPUT)
            continue;
        int32_t owner = UNSET;
        for (size_t j = k + 1; j < e->n && owner != NONE; j++) {
            const hwnas__eng_node *u = &e->nodes[j];
            for (size_t q = 0; q < u->n_in && owner != NONE; q++) {
                if (u->in[q] != k)
                    continue;
                int32_t o = m->role[j] == ROLE_MIXED     ? m->coef[j][q]
                            : m->role[j] == ROLE_PRIVATE ? m->owner[j]
                                                         : NONE;
                if (o < 0)
                    o = NONE;
                owner = owner == UNSET || owner == o ? o : NONE;
            }
        }
        if (owner >= 0) {
            m->role[k] = ROLE_PRIVATE;
            m->owner[k] = owner;
        }
    }
    hwnas__free(e->ctx, m->partial);
    m->partial = hwnas__calloc(e->ctx, HWNAS__ENGINE_MAX_CHUNKS * (m->max_in + 1),
                               sizeof *m->partial);
    return m->partial ? HWNAS_OK : HWNAS_ENOMEM;
}

float *hwnas__mix_w(hwnas__eng_mix *m)
{
    return m->w;
}

double *hwnas__mix_dw(hwnas__eng_mix *m)
{
    return m->dw;
}

uint8_t *hwnas__mix_keep(hwnas__eng_mix *m)
{
    return m->keep;
}

void hwnas__mix_skip_zero(hwnas__eng_mix *m, int on)
{
    m->skip_zero = on;
}

/* The weight of input q of mixed node i, and whether its term is off. */
static float term_w(const hwnas__eng_mix *m, size_t i, size_t q)
{
    int32_t c = m->coef[i][q];
    return c < 0 ? 1.0f : m->w[c];
}

static int coef_off(const hwnas__eng_mix *m, int32_t c)
{
    return m->skip_zero && c >= 0 && m->w[c] == 0.0f && !m->keep[c];
}

static int term_off(const hwnas__eng_mix *m, size_t i, size_t q)
{
    return coef_off(m, m->coef[i][q]);
}

typedef struct mix_task {
    hwnas__engine *e;
    hwnas__eng_mix *m;
    size_t i;
    float *dx[64];
    int acc[64];
} mix_task;

static int mix_forward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const mix_task *t = data;
    const hwnas__engine *e = t->e;
    const hwnas__eng_node *nd = &e->nodes[t->i];
    size_t lo, hi, sz = nd->size;
    hwnas__engine_chunk_range(e->batch, ch, &lo, &hi);
    float *y = e->act[t->i] + lo * sz;
    size_t len = (hi - lo) * sz;
    memset(y, 0, len * sizeof *y);
    for (size_t q = 0; q < nd->n_in; q++) {
        if (term_off(t->m, t->i, q))
            continue;
        float w = term_w(t->m, t->i, q);
        const float *x = e->act[nd->in[q]] + lo * sz;
        for (size_t k = 0; k < len; k++)
            y[k] += w * x[k];
    }
    return 0;
}

static int mix_backward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const mix_task *t = data;
    const hwnas__engine *e = t->e;
    const hwnas__eng_node *nd = &e->nodes[t->i];
    size_t lo, hi, sz = nd->size;
    hwnas__engine_chunk_range(e->batch, ch, &lo, &hi);
    const float *dy = e->dact[t->i] + lo * sz;
    size_t len = (hi - lo) * sz;
    double *part = t->m->partial + ch * (t->m->max_in + 1);
    for (size_t q = 0; q < nd->n_in; q++) {
        part[q] = 0;
        if (term_off(t->m, t->i, q))
            continue;
        const float *x = e->act[nd->in[q]] + lo * sz;
        double s = 0;
        for (size_t k = 0; k < len; k++)
            s += (double)dy[k] * (double)x[k];
        part[q] = s;
        float w = term_w(t->m, t->i, q);
        float *dx = t->dx[q];
        if (!dx)
            continue;
        dx += lo * sz;
        if (t->acc[q])
            for (size_t k = 0; k < len; k++)
                dx[k] += w * dy[k];
        else
            for (size_t k = 0; k < len; k++)
                dx[k] = w * dy[k];
    }
    return 0;
}

int hwnas__mix_forward(hwnas__engine *e, size_t i, int *rc)
{
    hwnas__eng_mix *m = e->mix;
    *rc = HWNAS_OK;
    if (m->role[i] == ROLE_PRIVATE)
        return coef_off(m, m->owner[i]); /* skipped: an unchosen op */
    if (m->role[i] != ROLE_MIXED)
        return 0;
    if (e->nodes[i].n_in > 64) {
        *rc = hwnas__error(HWNAS_EUNSUPPORTED, "engine: mixed node '%s' has %zu inputs (at "
                           "most 64)", e->nodes[i].name, e->nodes[i].n_in);
        return 1;
    }
    mix_task t = {e, m, i, {0}, {0}};
    *rc = hwnas_parallel_for(e->ctx, hwnas__engine_chunks(e->batch), mix_forward_task, &t);
    return 1;
}

int hwnas__mix_backward(hwnas__engine *e, size_t i, int *rc)
{
    hwnas__eng_mix *m = e->mix;
    const hwnas__eng_node *nd = &e->nodes[i];
    *rc = HWNAS_OK;
    if (m->role[i] == ROLE_PRIVATE) {
        if (!coef_off(m, m->owner[i]))
            return 0;
        /* an op not run: its parameters get no gradient this step */
        memset(e->grads + nd->p_off, 0, nd->n_p * sizeof(float));
        return 1;
    }
    if (m->role[i] != ROLE_MIXED)
        return 0;
    mix_task t = {e, m, i, {0}, {0}};
    for (size_t q = 0; q < nd->n_in; q++)
        t.dx[q] = term_off(m, i, q) ? NULL : hwnas__k_dx(e, i, q, &t.acc[q]);
    size_t chunks = hwnas__engine_chunks(e->batch);
    *rc = hwnas_parallel_for(e->ctx, chunks, mix_backward_task, &t);
    if (*rc != HWNAS_OK)
        return 1;
    /* cross-sample sums in chunk order: the same at any thread count */
    for (size_t ch = 0; ch < chunks; ch++)
        for (size_t q = 0; q < nd->n_in; q++)
            if (m->coef[i][q] >= 0)
                m->dw[m->coef[i][q]] += m->partial[ch * (m->max_in + 1) + q];
    return 1;
}

int32_t hwnas__mix_owner(const hwnas__eng_mix *m, size_t i)
{
    return i < m->e->n && m->role[i] == ROLE_PRIVATE ? m->owner[i] : -1;
}
