/* The oneDNN backend (meson feature onednn): convolutions through oneDNN's
 * JIT primitives; every other entry is the reference's.
 *
 * Determinism: oneDNN runs one chunk of samples at a time, single-
 * threaded, on the engine's own workers (the chunks of hwnas__be_chunks,
 * a function of the batch only), and the weight gradients of the chunks
 * are added in chunk order, as in the reference. Debian's libdnnl is built
 * on OpenMP: its thread count is the calling thread's OpenMP setting, so
 * every call into oneDNN (creating primitives, running them) runs with
 * omp_set_num_threads(1) on that thread and restores the setting after.
 *
 * Layouts: the engine's tensors are NCHW; each convolution takes the
 * layouts oneDNN prefers for its shape (blocked, nChw8c on AVX2) and
 * reorders at its edges: the input and the output gradient in, the
 * output and the input gradient out, weights once per call.
 *
 * Per layer, primitives are made for each chunk size met (a batch of n
 * has at most two), kept in a small cache with their per-worker buffers
 * and memory objects, so a training step of an already-seen batch size
 * allocates nothing. */
#include "backend.h"

#ifndef HWNAS_HAVE_ONEDNN

const hwnas__backend_ops *hwnas__backend_onednn(void)
{
    return NULL;
}

#else

#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>
#include <string.h>

#include "openblas_internal.h"

/* Chunk sizes a layer keeps primitives for at once. */
#define SIZES 6

struct hwnas__backend {
    hwnas_context *ctx;
    dnnl_engine_t eng;
    dnnl_stream_t *streams;      /* n_streams, one per worker */
    size_t n_streams;
    void (*omp_set)(int);        /* omp_set_num_threads (NULL: not OpenMP) */
    int (*omp_get)(void);        /* omp_get_max_threads */
};

/* A tensor in the engine's layout and, when oneDNN wants another, the
 * reorder to (or from) it. */
typedef struct dn_edge {
    dnnl_memory_desc_t plain;    /* NCHW / goihw as the engine keeps it */
    dnnl_memory_desc_t want;     /* what the primitive takes */
    dnnl_primitive_t reorder;    /* plain -> want (inputs) or want -> plain (outputs); NULL: same */
    size_t bytes;                /* of want, when it differs */
} dn_edge;

/* Per worker: buffers for the blocked tensors and memory objects. */
typedef struct dn_worker {
    dnnl_memory_t x, xb, y, yb;          /* forward src, dst */
    dnnl_memory_t dy, dyw, dyd;          /* diff dst: plain, for bwd-weights, for bwd-data */
    dnnl_memory_t xw;                    /* src for bwd-weights */
    dnnl_memory_t dw, dwb, db;           /* diff weights plain (a partial slot) / blocked; bias */
    dnnl_memory_t dx, dxb;               /* diff src plain / blocked */
    dnnl_memory_t wf, wd, bias;          /* weights for fwd, bwd-data; bias */
    dnnl_memory_t scr_f, scr_w, scr_d;   /* scratchpads */
    float *buf;                          /* all blocked buffers of this worker */
    float *wsum;                         /* weight gradients of a chunk's later pieces */
    void *xb_own, *xw_own;               /* this worker's buffers behind xb and xw */
    dnnl_memory_t wa;                    /* folded weights of the inference pass (or NULL) */
} dn_worker;

/* Primitives for chunks of mb samples. */
typedef struct dn_prims {
    size_t mb;                           /* 0: slot unused */
    dnnl_primitive_t fwd, bwd_w, bwd_d;
    dnnl_primitive_t fwd_aff;            /* inference with bias and activation (or NULL) */
    dn_edge x, y, dyw, xw, dw, dyd, dx;  /* edges of the primitives */
    size_t scr_f, scr_w, scr_d;          /* scratchpad bytes */
    dn_worker *wk;                       /* n_workers */
    size_t n_workers;
} dn_prims;

typedef struct dn_layer {
    hwnas__be_conv g;
    size_t sub;                          /* samples per primitive call (pieces of a chunk) */
    dn_prims p[SIZES];
    size_t next;                         /* slot to replace when all are used */
    dn_edge wf, wd;                      /* weights for fwd and bwd-data (per mb the same) */
    float *wf_buf, *wd_buf;              /* the reordered weights of this call */
    dnnl_memory_t w_plain, wf_mem, wd_mem; /* over the engine's weights, wf_buf, wd_buf */
    /* The blocked input of the last forward pass, kept for backward-
     * weights when both take the same layout (saves a reorder per
     * piece): xkeep_ps bytes per sample, batch_cap samples; valid for
     * input xkeep_x of xkeep_n samples (the engine's act buffer: a
     * backward pass with another input, as fine-tuning passes, reorders
     * its own). */
    char *xkeep;
    size_t xkeep_ps, xkeep_cap, xkeep_n;
    const float *xkeep_x;
    /* conv_forward_affine: the activation its primitives apply (-1: none
     * made yet, -2: refused), the folded weights (plain, then in the
     * primitive's layout) */
    int aff_act;
    dn_edge wa;
    float *aff_w, *wa_buf;
    dnnl_memory_t aff_plain, wa_mem;
    int have_bwd;                        /* wd describes the bwd-data weights */
} dn_layer;

/* ---- OpenMP: one thread for every call into oneDNN ------------------------ */

static int omp_one(const hwnas__backend *be)
{
    if (!be->omp_set)
        return 0;
    int old = be->omp_get();
    if (old != 1)
        be->omp_set(1);
    return old;
}

static void omp_restore(const hwnas__backend *be, int old)
{
    if (be->omp_set && old != 1 && old > 0)
        be->omp_set(old);
}

static int dn_fail(dnnl_status_t st, const char *what)
{
    if (st == dnnl_out_of_memory)
        return hwnas__error(HWNAS_ENOMEM, "onednn: %s: out of memory", what);
    if (st == dnnl_unimplemented)
        return hwnas__error(HWNAS_EUNSUPPORTED, "onednn: %s: no implementation", what);
    return hwnas__error(HWNAS_EINVAL, "onednn: %s failed (status %d)", what, (int)st);
}

#define DN(call, what)                              \
    do {                                            \
        dnnl_status_t st_ = (call);                 \
        if (st_ != dnnl_success) {                  \
            rc = dn_fail(st_, what);                \
            goto out;                               \
        }                                           \
    } while (0)

/* ---- the instance -------------------------------------------------------------- */

static void be_destroy(hwnas__backend *be)
{
    if (!be)
        return;
    for (size_t i = 0; i < be->n_streams; i++)
        dnnl_stream_destroy(be->streams[i]);
    hwnas__free(be->ctx, be->streams);
    if (be->eng)
        dnnl_engine_destroy(be->eng);
    hwnas__free(be->ctx, be);
}

static int be_create(hwnas__backend **out, hwnas_context *ctx)
{
    hwnas__backend *be = hwnas__calloc(ctx, 1, sizeof *be);
    if (!be)
        return HWNAS_ENOMEM;
    be->ctx = ctx;
    /* libdnnl pulls in its OpenMP runtime; find its thread setting there */
    void *set = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    void *get = dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    if (set && get) { /* object to function pointer, as POSIX allows */
        memcpy(&be->omp_set, &set, sizeof be->omp_set);
        memcpy(&be->omp_get, &get, sizeof be->omp_get);
    }
    int rc = HWNAS_OK;
    DN(dnnl_engine_create(&be->eng, dnnl_cpu, 0), "engine");
    *out = be;
    return HWNAS_OK;
out:
    be_destroy(be);
    return rc;
}

/* Streams for workers [0, n). */
static int be_streams(hwnas__backend *be, size_t n)
{
    if (n <= be->n_streams)
        return HWNAS_OK;
    dnnl_stream_t *s = hwnas__realloc(be->ctx, be->streams, n * sizeof *s);
    if (!s)
        return HWNAS_ENOMEM;
    be->streams = s;
    int rc = HWNAS_OK;
    while (be->n_streams < n) {
        DN(dnnl_stream_create(&s[be->n_streams], be->eng, dnnl_stream_default_flags), "stream");
        be->n_streams++;
    }
out:
    return rc;
}

/* ---- descriptors ------------------------------------------------------------- */

static void act_md(dnnl_memory_desc_t *md, size_t n, size_t c, size_t h, size_t w,
                   dnnl_format_tag_t tag)
{
    dnnl_dims_t d = {(dnnl_dim_t)n, (dnnl_dim_t)c, (dnnl_dim_t)h, (dnnl_dim_t)w};
    dnnl_memory_desc_init_by_tag(md, 4, d, dnnl_f32, tag);
}

static void wei_md(dnnl_memory_desc_t *md, const hwnas__be_conv *g, int any)
{
    size_t G = g->groups;
    if (G == 1) {
        dnnl_dims_t d = {(dnnl_dim_t)g->cout, (dnnl_dim_t)g->cin, (dnnl_dim_t)g->kh,
                         (dnnl_dim_t)g->kw};
        dnnl_memory_desc_init_by_tag(md, 4, d, dnnl_f32, any ? dnnl_format_tag_any : dnnl_oihw);
    } else {
        dnnl_dims_t d = {(dnnl_dim_t)G, (dnnl_dim_t)(g->cout / G), (dnnl_dim_t)(g->cin / G),
                         (dnnl_dim_t)g->kh, (dnnl_dim_t)g->kw};
        dnnl_memory_desc_init_by_tag(md, 5, d, dnnl_f32, any ? dnnl_format_tag_any : dnnl_goihw);
    }
}

/* Sets e->want from the primitive's query q and makes the reorder between
 * plain and want (to_want: plain -> want). */
static int edge_make(dn_edge *e, const hwnas__backend *be, const_dnnl_primitive_desc_t pd,
                     dnnl_query_t q, int to_want)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, q, 0);
    int rc = HWNAS_OK;
    dnnl_primitive_desc_t rpd = NULL;
    e->want = *md;
    e->reorder = NULL;
    e->bytes = 0;
    if (dnnl_memory_desc_equal(&e->plain, &e->want))
        return HWNAS_OK;
    e->bytes = dnnl_memory_desc_get_size(&e->want);
    if (to_want)
        DN(dnnl_reorder_primitive_desc_create(&rpd, &e->plain, be->eng, &e->want, be->eng, NULL),
           "reorder");
    else
        DN(dnnl_reorder_primitive_desc_create(&rpd, &e->want, be->eng, &e->plain, be->eng, NULL),
           "reorder");
    DN(dnnl_primitive_create(&e->reorder, rpd), "reorder");
out:
    if (rpd)
        dnnl_primitive_desc_destroy(rpd);
    return rc;
}

static void edge_free(dn_edge *e)
{
    if (e->reorder)
        dnnl_primitive_destroy(e->reorder);
    e->reorder = NULL;
}

static size_t pad64(size_t bytes)
{
    return (bytes + 63) / 64 * 64;
}

/* ---- per chunk size --------------------------------------------------------------- */

static void prims_free(const hwnas__backend *be, dn_prims *p)
{
    if (!p->mb)
        return;
    for (size_t w = 0; w < p->n_workers; w++) {
        dn_worker *k = &p->wk[w];
        dnnl_memory_t *m[] = {&k->x, &k->xb, &k->y, &k->yb, &k->dy, &k->dyw, &k->dyd,
                              &k->xw, &k->dw, &k->dwb, &k->db, &k->dx, &k->dxb, &k->wf,
                              &k->wd, &k->bias, &k->scr_f, &k->scr_w, &k->scr_d};
        for (size_t i = 0; i < sizeof m / sizeof *m; i++)
            if (*m[i])
                dnnl_memory_destroy(*m[i]);
        if (k->wa)
            dnnl_memory_destroy(k->wa);
        hwnas__free(be->ctx, k->buf);
    }
    hwnas__free(be->ctx, p->wk);
    dn_edge *e[] = {&p->x, &p->y, &p->dyw, &p->xw, &p->dw, &p->dyd, &p->dx};
    for (size_t i = 0; i < sizeof e / sizeof *e; i++)
        edge_free(e[i]);
    if (p->fwd)
        dnnl_primitive_destroy(p->fwd);
    if (p->fwd_aff)
        dnnl_primitive_destroy(p->fwd_aff);
    if (p->bwd_w)
        dnnl_primitive_destroy(p->bwd_w);
    if (p->bwd_d)
        dnnl_primitive_destroy(p->bwd_d);
    memset(p, 0, sizeof *p);
}

static int mem(dnnl_memory_t *out, const hwnas__backend *be, const dnnl_memory_desc_t *md,
               void *handle)
{
    int rc = HWNAS_OK;
    DN(dnnl_memory_create(out, md, be->eng, handle ? handle : DNNL_MEMORY_NONE), "memory");
out:
    return rc;
}

/* Memory objects and blocked buffers of every worker. */
static int prims_workers(const hwnas__backend *be, dn_layer *L, dn_prims *p, size_t workers)
{
    p->wk = hwnas__calloc(be->ctx, workers, sizeof *p->wk);
    if (!p->wk)
        return HWNAS_ENOMEM;
    p->n_workers = workers;
    dnnl_memory_desc_t bias_md;
    dnnl_dims_t bd = {(dnnl_dim_t)L->g.cout};
    dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_a);
    dnnl_memory_desc_t scr[3];
    size_t scr_b[3] = {p->scr_f, p->scr_w, p->scr_d};
    for (int i = 0; i < 3; i++) {
        dnnl_dims_t d = {(dnnl_dim_t)(scr_b[i] ? scr_b[i] : 1)};
        dnnl_memory_desc_init_by_tag(&scr[i], 1, d, dnnl_u8, dnnl_a);
    }
    size_t plain_dx = pad64(dnnl_memory_desc_get_size(&p->dx.plain));
    size_t sizes[] = {pad64(p->x.bytes), pad64(p->y.bytes), pad64(p->dyw.bytes),
                      pad64(p->xw.bytes), pad64(p->dw.bytes), pad64(p->dyd.bytes),
                      pad64(p->dx.bytes), plain_dx, pad64(scr_b[0]), pad64(scr_b[1]),
                      pad64(scr_b[2])};
    size_t total = 0, n_p = dnnl_memory_desc_get_size(&p->dw.plain) + L->g.cout * sizeof(float);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        total += sizes[i];
    total += pad64(n_p);
    int rc = HWNAS_OK;
    for (size_t w = 0; w < workers; w++) {
        dn_worker *k = &p->wk[w];
        k->buf = hwnas__malloc(be->ctx, total + 64);
        if (!k->buf)
            return HWNAS_ENOMEM;
        char *b = (char *)k->buf, *at[11];
        for (size_t i = 0; i < 11; i++)
            at[i] = b, b += sizes[i];
        k->wsum = (float *)b;
        k->xb_own = p->x.bytes ? at[0] : NULL;
        k->xw_own = p->xw.bytes ? at[3] : NULL;
        if ((rc = mem(&k->x, be, &p->x.plain, NULL)) || (rc = mem(&k->y, be, &p->y.plain, NULL)) ||
            (rc = mem(&k->dy, be, &p->dyw.plain, NULL)) ||
            (rc = mem(&k->dw, be, &p->dw.plain, NULL)) ||
            (rc = mem(&k->dx, be, &p->dx.plain, NULL)) ||
            (rc = mem(&k->wf, be, &L->wf.want, NULL)) || (rc = mem(&k->wd, be, &L->wd.want, NULL)) ||
            (rc = mem(&k->bias, be, &bias_md, NULL)) || (rc = mem(&k->db, be, &bias_md, NULL)) ||
            (rc = mem(&k->xb, be, &p->x.want, p->x.bytes ? at[0] : NULL)) ||
            (rc = mem(&k->yb, be, &p->y.want, p->y.bytes ? at[1] : NULL)) ||
            (rc = mem(&k->dyw, be, &p->dyw.want, p->dyw.bytes ? at[2] : NULL)) ||
            (rc = mem(&k->xw, be, &p->xw.want, p->xw.bytes ? at[3] : NULL)) ||
            (rc = mem(&k->dwb, be, &p->dw.want, p->dw.bytes ? at[4] : NULL)) ||
            (rc = mem(&k->dyd, be, &p->dyd.want, p->dyd.bytes ? at[5] : NULL)) ||
            (rc = mem(&k->dxb, be, &p->dx.want, p->dx.bytes ? at[6] : at[7])) ||
            (rc = mem(&k->scr_f, be, &scr[0], at[8])) || (rc = mem(&k->scr_w, be, &scr[1], at[9])) ||
            (rc = mem(&k->scr_d, be, &scr[2], at[10])))
            return rc;
    }
    return HWNAS_OK;
}

static int attr_user_scratchpad(dnnl_primitive_attr_t *attr)
{
    int rc = HWNAS_OK;
    DN(dnnl_primitive_attr_create(attr), "attr");
    DN(dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user), "attr");
out:
    return rc;
}

static size_t scratch_bytes(const_dnnl_primitive_desc_t pd)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

/* Primitives for chunks of mb samples (the calling thread limited to one
 * OpenMP thread by the caller). */
static int prims_make(const hwnas__backend *be, dn_layer *L, dn_prims *p, size_t mb,
                      size_t workers)
{
    const hwnas__be_conv *g = &L->g;
    int rc = HWNAS_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t fpd = NULL, wpd = NULL, dpd = NULL;
    dnnl_memory_desc_t x_any, y_any, w_any, b_md;
    act_md(&x_any, mb, g->cin, g->h, g->w, dnnl_format_tag_any);
    act_md(&y_any, mb, g->cout, g->oh, g->ow, dnnl_format_tag_any);
    wei_md(&w_any, g, 1);
    dnnl_dims_t bd = {(dnnl_dim_t)g->cout};
    dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_a);
    dnnl_dims_t st = {(dnnl_dim_t)g->sh, (dnnl_dim_t)g->sw};
    dnnl_dims_t dl = {(dnnl_dim_t)g->dh - 1, (dnnl_dim_t)g->dw - 1};
    dnnl_dims_t pad = {(dnnl_dim_t)g->ph, (dnnl_dim_t)g->pw};
    memset(p, 0, sizeof *p);
    p->mb = mb;
    act_md(&p->x.plain, mb, g->cin, g->h, g->w, dnnl_nchw);
    act_md(&p->y.plain, mb, g->cout, g->oh, g->ow, dnnl_nchw);
    p->dyw.plain = p->dyd.plain = p->y.plain;
    p->xw.plain = p->dx.plain = p->x.plain;
    wei_md(&p->dw.plain, g, 0);
    if ((rc = attr_user_scratchpad(&attr)))
        goto out;
    dnnl_convolution_desc_t cd;
    DN(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_training,
                                                  dnnl_convolution_direct, &x_any, &w_any,
                                                  g->bias ? &b_md : NULL, &y_any, st, dl, pad,
                                                  pad),
       "convolution forward");
    DN(dnnl_primitive_desc_create(&fpd, &cd, attr, be->eng, NULL), "convolution forward");
    DN(dnnl_dilated_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &x_any,
                                                           &w_any, g->bias ? &b_md : NULL,
                                                           &y_any, st, dl, pad, pad),
       "convolution backward-weights");
    DN(dnnl_primitive_desc_create(&wpd, &cd, attr, be->eng, fpd), "convolution backward-weights");
    DN(dnnl_dilated_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &x_any,
                                                        &w_any, &y_any, st, dl, pad, pad),
       "convolution backward-data");
    DN(dnnl_primitive_desc_create(&dpd, &cd, attr, be->eng, fpd), "convolution backward-data");
    if ((rc = edge_make(&p->x, be, fpd, dnnl_query_src_md, 1)) ||
        (rc = edge_make(&p->y, be, fpd, dnnl_query_dst_md, 0)) ||
        (rc = edge_make(&p->xw, be, wpd, dnnl_query_src_md, 1)) ||
        (rc = edge_make(&p->dyw, be, wpd, dnnl_query_diff_dst_md, 1)) ||
        (rc = edge_make(&p->dw, be, wpd, dnnl_query_diff_weights_md, 0)) ||
        (rc = edge_make(&p->dyd, be, dpd, dnnl_query_diff_dst_md, 1)) ||
        (rc = edge_make(&p->dx, be, dpd, dnnl_query_diff_src_md, 0)))
        goto out;
    /* the weights' layouts are the same for every chunk size: made once */
    if (!L->wf.reorder && !L->have_bwd) {
        wei_md(&L->wf.plain, g, 0);
        L->wd.plain = L->wf.plain;
        if ((rc = edge_make(&L->wf, be, fpd, dnnl_query_weights_md, 1)) ||
            (rc = edge_make(&L->wd, be, dpd, dnnl_query_weights_md, 1)))
            goto out;
        L->have_bwd = 1;
        size_t wb = dnnl_memory_desc_get_size(&L->wf.plain);
        L->wf_buf = hwnas__malloc(be->ctx, pad64(wb) + pad64(L->wf.bytes) + pad64(L->wd.bytes));
        if (!L->wf_buf) {
            rc = HWNAS_ENOMEM;
            goto out;
        }
        L->wd_buf = (float *)((char *)L->wf_buf + pad64(L->wf.bytes));
        if ((rc = mem(&L->w_plain, be, &L->wf.plain, NULL)) ||
            (rc = mem(&L->wf_mem, be, &L->wf.want, L->wf_buf)) ||
            (rc = mem(&L->wd_mem, be, &L->wd.want, L->wd_buf)))
            goto out;
    } else {
        const dnnl_memory_desc_t *a = dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);
        const dnnl_memory_desc_t *b = dnnl_primitive_desc_query_md(dpd, dnnl_query_weights_md, 0);
        if (!dnnl_memory_desc_equal(a, &L->wf.want) || !dnnl_memory_desc_equal(b, &L->wd.want)) {
            rc = hwnas__error(HWNAS_EUNSUPPORTED, "onednn: weight layouts differ between batch "
                              "sizes");
            goto out;
        }
    }
    p->scr_f = scratch_bytes(fpd), p->scr_w = scratch_bytes(wpd), p->scr_d = scratch_bytes(dpd);
    DN(dnnl_primitive_create(&p->fwd, fpd), "convolution forward");
    DN(dnnl_primitive_create(&p->bwd_w, wpd), "convolution backward-weights");
    DN(dnnl_primitive_create(&p->bwd_d, dpd), "convolution backward-data");
    rc = prims_workers(be, L, p, workers);
out:
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (fpd)
        dnnl_primitive_desc_destroy(fpd);
    if (wpd)
        dnnl_primitive_desc_destroy(wpd);
    if (dpd)
        dnnl_primitive_desc_destroy(dpd);
    if (rc != HWNAS_OK) {
        p->n_workers = p->wk ? p->n_workers : 0;
        if (!p->mb)
            p->mb = mb;
        prims_free(be, p);
    }
    return rc;
}

/* The slot of chunk size mb, made when missing. */
static int prims_get(dn_prims **out, hwnas__backend *be, dn_layer *L, size_t mb,
                     size_t workers)
{
    for (size_t i = 0; i < SIZES; i++)
        if (L->p[i].mb == mb && L->p[i].n_workers >= workers) {
            *out = &L->p[i];
            return HWNAS_OK;
        }
    size_t slot = SIZES;
    for (size_t i = 0; i < SIZES && slot == SIZES; i++)
        if (!L->p[i].mb)
            slot = i;
    if (slot == SIZES) {
        slot = L->next;
        L->next = (L->next + 1) % SIZES;
        prims_free(be, &L->p[slot]);
    }
    int rc = be_streams(be, workers);
    if (rc != HWNAS_OK)
        return rc;
    int old = omp_one(be);
    rc = prims_make(be, L, &L->p[slot], mb, workers);
    omp_restore(be, old);
    *out = &L->p[slot];
    return rc;
}

/* ---- layers ------------------------------------------------------------------- */

static void conv_free(hwnas__backend *be, void *layer)
{
    dn_layer *L = layer;
    if (!L)
        return;
    for (size_t i = 0; i < SIZES; i++)
        prims_free(be, &L->p[i]);
    edge_free(&L->wf);
    edge_free(&L->wd);
    dnnl_memory_t m[] = {L->w_plain, L->wf_mem, L->wd_mem};
    for (size_t i = 0; i < 3; i++)
        if (m[i])
            dnnl_memory_destroy(m[i]);
    hwnas__free(be->ctx, L->wf_buf);
    hwnas__free(be->ctx, L->xkeep);
    edge_free(&L->wa);
    if (L->aff_plain)
        dnnl_memory_destroy(L->aff_plain);
    if (L->wa_mem)
        dnnl_memory_destroy(L->wa_mem);
    hwnas__free(be->ctx, L->aff_w);
    hwnas__free(be->ctx, L);
}

/* The piece sizes of a batch of n: chunks of lo or hi samples, each cut
 * into pieces of L->sub and a rest. */
static size_t piece_sizes(size_t out[4], const dn_layer *L, size_t n)
{
    size_t nc = hwnas__be_chunks(n), c[2] = {n / nc, (n + nc - 1) / nc}, k = 0;
    for (int i = 0; i < 2; i++) {
        size_t v[2] = {c[i] < L->sub ? c[i] : L->sub, c[i] % L->sub};
        for (int j = 0; j < 2; j++) {
            int seen = v[j] == 0;
            for (size_t q = 0; q < k; q++)
                seen |= out[q] == v[j];
            if (!seen)
                out[k++] = v[j];
        }
    }
    return k;
}

/* Primitives for every piece size of a batch of n. */
static int prims_for_batch(hwnas__backend *be, dn_layer *L, size_t n, size_t workers)
{
    size_t sizes[4], k = piece_sizes(sizes, L, n);
    dn_prims *p;
    for (size_t i = 0; i < k; i++) {
        int rc = prims_get(&p, be, L, sizes[i], workers);
        if (rc != HWNAS_OK)
            return rc;
    }
    return HWNAS_OK;
}

static dn_prims *prims_find(dn_layer *L, size_t mb)
{
    for (size_t i = 0; i < SIZES; i++)
        if (L->p[i].mb == mb)
            return &L->p[i];
    return NULL;
}

/* Samples per primitive call: a piece's input and output near 1 MiB,
 * which bounds the blocked copies of large inputs (224 x 224) and left the
 * reference CNN's chunks of 8 whole (smaller pieces, 192 KiB, measured no
 * faster). A function of the shape only, so results stay the same at any
 * thread count. */
static size_t sub_of(const hwnas__be_conv *g)
{
    size_t per = (g->cin * g->h * g->w + g->cout * g->oh * g->ow) * sizeof(float);
    size_t sub = (1u << 20) / (per ? per : 1);
    return sub < 1 ? 1 : sub > 16 ? 16 : sub;
}

/* Layers whose backward pass the reference runs: dense convolutions of
 * fewer than 8 input channels (a network's first layer), where oneDNN's
 * backward-weights kernel on AVX2 measured 3x slower than im2col + sgemm
 * (fmnist_ref's conv1: 9.1 against 2.9 ms per batch of 128); depthwise
 * convolutions, whose backward pass oneDNN 2.6 on AVX2 runs through its
 * gemm fallback unless the kernel is 3x3 with stride 1 (CPU ms per batch
 * of 128, backward: 56 channels 28x28 5x5 541 against 134 for the
 * reference's phase-plane kernel; 3x3 stride 1 5.8 against 5.7); and
 * grouped convolutions with a stride, which take the same fallback. A
 * function of the shape only, so results stay the same at any thread
 * count. */
static int ref_backward(const hwnas__be_conv *g)
{
    return (g->groups == 1 && g->cin < 8) || (g->groups > 1 && g->groups == g->cin) ||
           (g->groups > 1 && (g->sh > 1 || g->sw > 1));
}

static int conv_new(void **out, hwnas__backend *be, const hwnas__be_conv *g, size_t batch_cap,
                    size_t workers)
{
    *out = NULL;
    /* Fewer than 8 output channels (or depthwise over fewer than 8): the
     * blocked layouts pad them to 8, and the padding plus the reorders
     * cost more than the reference's loops (a CGP net of 1-channel
     * convolutions inferred at 0.6x the reference). The reference runs
     * the layer. */
    if (g->cout < 8 || (g->groups > 1 && g->cin < 8))
        return HWNAS_EUNSUPPORTED;
    dn_layer *L = hwnas__calloc(be->ctx, 1, sizeof *L);
    if (!L)
        return HWNAS_ENOMEM;
    L->g = *g;
    L->sub = sub_of(g);
    L->aff_act = -1;
    int rc = prims_for_batch(be, L, batch_cap, workers);
    if (rc != HWNAS_OK) {
        conv_free(be, L);
        return rc;
    }
    const dn_prims *p = NULL;
    for (size_t i = 0; i < SIZES && !p; i++)
        p = L->p[i].mb ? &L->p[i] : NULL;
    /* the blocked input is kept for backward-weights only where oneDNN runs it */
    if (p && !ref_backward(g) && p->x.reorder && p->xw.reorder &&
        dnnl_memory_desc_equal(&p->x.want, &p->xw.want) && p->x.bytes % p->mb == 0) {
        L->xkeep_ps = p->x.bytes / p->mb;
        L->xkeep_cap = batch_cap;
        L->xkeep = hwnas__malloc(be->ctx, batch_cap * L->xkeep_ps);
        if (!L->xkeep) {
            conv_free(be, L);
            return HWNAS_ENOMEM;
        }
    }
    *out = L;
    return HWNAS_OK;
}

/* ---- running ------------------------------------------------------------------ */

typedef struct dn_task {
    hwnas__backend *be;
    dn_layer *L;
    const hwnas__be_run *r;
    const float *x, *w, *dy;
    float *y, *dx;
    int acc;
} dn_task;

static int exec(dnnl_primitive_t p, dnnl_stream_t s, int n, const dnnl_exec_arg_t *args)
{
    return dnnl_primitive_execute(p, s, n, args) == dnnl_success ? 0 : 1;
}

static int reorder(const dn_edge *e, dnnl_stream_t s, dnnl_memory_t from, dnnl_memory_t to)
{
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    return exec(e->reorder, s, 2, a);
}

/* Whether the pieces of p keep their blocked input in L->xkeep. */
static int keeps(const dn_layer *L, const dn_prims *p)
{
    return L->xkeep && p->x.reorder && p->xw.reorder &&
           dnnl_memory_desc_equal(&p->x.want, &p->xw.want) && p->x.bytes == p->mb * L->xkeep_ps;
}

/* Forward of samples [lo, hi) (one piece) on worker's buffers. */
static int fwd_piece(const dn_task *t, size_t lo, size_t hi, size_t worker)
{
    const hwnas__be_conv *g = &t->L->g;
    size_t in_sz = g->cin * g->h * g->w, out_sz = g->cout * g->oh * g->ow;
    dn_prims *p = prims_find(t->L, hi - lo);
    if (!p)
        return 1;
    dn_worker *k = &p->wk[worker];
    dnnl_stream_t s = t->be->streams[worker];
    int bad = 0;
    dnnl_memory_set_data_handle(k->x, (void *)(t->x + lo * in_sz));
    dnnl_memory_set_data_handle(k->y, t->y + lo * out_sz);
    dnnl_memory_set_data_handle(k->wf, t->L->wf.reorder ? (void *)t->L->wf_buf : (void *)t->w);
    dnnl_memory_set_data_handle(k->bias, (void *)(t->w + g->cout * (g->cin / g->groups) * g->kh *
                                                  g->kw));
    if (p->x.reorder) {
        int keep = t->r->train && keeps(t->L, p);
        dnnl_memory_set_data_handle(k->xb, keep ? t->L->xkeep + lo * t->L->xkeep_ps : k->xb_own);
        bad |= reorder(&p->x, s, k->x, k->xb);
    }
    dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, p->x.reorder ? k->xb : k->x},
                           {DNNL_ARG_WEIGHTS, k->wf},
                           {DNNL_ARG_DST, p->y.reorder ? k->yb : k->y},
                           {DNNL_ARG_SCRATCHPAD, k->scr_f},
                           {DNNL_ARG_BIAS, k->bias}};
    bad |= exec(p->fwd, s, g->bias ? 5 : 4, a);
    if (p->y.reorder)
        bad |= reorder(&p->y, s, k->yb, k->y);
    return bad;
}

/* Backward of samples [lo, hi) (one piece): weight gradients into dw (the
 * chunk's slot; first: overwrite, else add), the input gradient. */
static int bwd_piece(const dn_task *t, size_t lo, size_t hi, size_t worker, float *dw, int first)
{
    const hwnas__be_conv *g = &t->L->g;
    size_t in_sz = g->cin * g->h * g->w, out_sz = g->cout * g->oh * g->ow;
    size_t nw = g->cout * (g->cin / g->groups) * g->kh * g->kw, n_p = nw + (g->bias ? g->cout : 0);
    dn_prims *p = prims_find(t->L, hi - lo);
    if (!p)
        return 1;
    dn_worker *k = &p->wk[worker];
    dnnl_stream_t s = t->be->streams[worker];
    float *dwp = first ? dw : k->wsum;
    int bad = 0;
    dnnl_memory_set_data_handle(k->x, (void *)(t->x + lo * in_sz));
    dnnl_memory_set_data_handle(k->dy, (void *)(t->dy + lo * out_sz));
    dnnl_memory_set_data_handle(k->dw, dwp);
    dnnl_memory_set_data_handle(k->db, dwp + nw);
    if (p->xw.reorder) {
        const dn_layer *L = t->L;
        if (keeps(L, p) && L->xkeep_x == t->x && L->xkeep_n == t->r->n) {
            dnnl_memory_set_data_handle(k->xw, L->xkeep + lo * L->xkeep_ps);
        } else {
            dnnl_memory_set_data_handle(k->xw, k->xw_own);
            bad |= reorder(&p->xw, s, k->x, k->xw);
        }
    }
    if (p->dyw.reorder)
        bad |= reorder(&p->dyw, s, k->dy, k->dyw);
    dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, p->xw.reorder ? k->xw : k->x},
                           {DNNL_ARG_DIFF_DST, p->dyw.reorder ? k->dyw : k->dy},
                           {DNNL_ARG_DIFF_WEIGHTS, p->dw.reorder ? k->dwb : k->dw},
                           {DNNL_ARG_SCRATCHPAD, k->scr_w},
                           {DNNL_ARG_DIFF_BIAS, k->db}};
    bad |= exec(p->bwd_w, s, g->bias ? 5 : 4, a);
    if (p->dw.reorder)
        bad |= reorder(&p->dw, s, k->dwb, k->dw);
    if (!first)
        for (size_t i = 0; i < n_p; i++)
            dw[i] += dwp[i];
    if (!t->dx)
        return bad;
    dnnl_memory_t dyd = k->dy;
    if (p->dyd.reorder) {
        if (p->dyw.reorder && dnnl_memory_desc_equal(&p->dyd.want, &p->dyw.want)) {
            dyd = k->dyw;
        } else {
            bad |= reorder(&p->dyd, s, k->dy, k->dyd);
            dyd = k->dyd;
        }
    }
    float *dx = t->dx + lo * in_sz;
    /* accumulate: the gradient goes to a plain buffer first */
    int direct = !p->dx.reorder && !t->acc;
    dnnl_memory_set_data_handle(k->dx, dx);
    dnnl_memory_set_data_handle(k->wd, t->L->wd.reorder ? (void *)t->L->wd_buf : (void *)t->w);
    dnnl_exec_arg_t d[] = {{DNNL_ARG_DIFF_DST, dyd},
                           {DNNL_ARG_WEIGHTS, k->wd},
                           {DNNL_ARG_DIFF_SRC, direct ? k->dx : k->dxb},
                           {DNNL_ARG_SCRATCHPAD, k->scr_d}};
    bad |= exec(p->bwd_d, s, 4, d);
    if (p->dx.reorder && !t->acc) {
        bad |= reorder(&p->dx, s, k->dxb, k->dx);
    } else if (t->acc) {
        const float *src = NULL;
        void *h;
        dnnl_memory_get_data_handle(k->dxb, &h);
        if (p->dx.reorder) { /* to the plain spare buffer, then add */
            h = (char *)h + pad64(p->dx.bytes);
            dnnl_memory_set_data_handle(k->dx, h);
            bad |= reorder(&p->dx, s, k->dxb, k->dx);
        }
        src = h;
        for (size_t i = 0; i < (hi - lo) * in_sz; i++)
            dx[i] += src[i];
    }
    return bad;
}

static int fwd_task(size_t c, size_t worker, void *data)
{
    const dn_task *t = data;
    size_t lo, hi, sub = t->L->sub;
    hwnas__be_chunk_range(t->r->n, c, &lo, &hi);
    int old = omp_one(t->be), bad = 0;
    for (size_t s0 = lo; s0 < hi && !bad; s0 += sub)
        bad = fwd_piece(t, s0, hi - s0 < sub ? hi : s0 + sub, worker);
    omp_restore(t->be, old);
    return bad;
}

static int bwd_task(size_t c, size_t worker, void *data)
{
    const dn_task *t = data;
    size_t lo, hi, sub = t->L->sub;
    hwnas__be_chunk_range(t->r->n, c, &lo, &hi);
    float *dw = t->r->partial + c * t->r->partial_stride;
    int old = omp_one(t->be), bad = 0;
    for (size_t s0 = lo; s0 < hi && !bad; s0 += sub)
        bad = bwd_piece(t, s0, hi - s0 < sub ? hi : s0 + sub, worker, dw, s0 == lo);
    omp_restore(t->be, old);
    return bad;
}

/* The weights in the layouts the primitives take, once per call. */
static int weights(hwnas__backend *be, dn_layer *L, const float *w, int bwd)
{
    dnnl_stream_t s = be->streams[0];
    int old = omp_one(be), bad = 0;
    dn_edge *e = bwd ? &L->wd : &L->wf;
    if (e->reorder) {
        dnnl_memory_set_data_handle(L->w_plain, (void *)w);
        bad = reorder(e, s, L->w_plain, bwd ? L->wd_mem : L->wf_mem);
    }
    omp_restore(be, old);
    return bad ? hwnas__error(HWNAS_EINVAL, "onednn: reordering the weights failed") : HWNAS_OK;
}

static int conv_forward(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                        const hwnas__be_conv *g, const float *x, const float *w, float *y)
{
    (void)g;
    dn_task t = {0};
    t.be = be, t.L = layer, t.r = r, t.x = x, t.w = w, t.y = y;
    int rc = prims_for_batch(be, t.L, r->n, hwnas_context_threads(r->ctx));
    if (rc == HWNAS_OK)
        rc = weights(be, t.L, w, 0);
    t.L->xkeep_x = NULL;
    if (rc == HWNAS_OK)
        rc = hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), fwd_task, &t);
    if (rc == HWNAS_OK && r->train && t.L->xkeep && r->n <= t.L->xkeep_cap)
        t.L->xkeep_x = x, t.L->xkeep_n = r->n;
    return rc;
}

static int conv_backward(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                         const hwnas__be_conv *g, const float *x, const float *w, const float *dy,
                         float *dx, int acc, float *dwb)
{
    if (ref_backward(g)) /* the reference is faster there */
        return hwnas__ob_conv_backward(r, NULL, NULL, g, x, w, dy, dx, acc, dwb);
    dn_task t = {0};
    t.be = be, t.L = layer, t.r = r, t.x = x, t.w = w, t.dy = dy, t.dx = dx, t.acc = acc;
    int rc = prims_for_batch(be, t.L, r->n, hwnas_context_threads(r->ctx));
    if (rc == HWNAS_OK && dx)
        rc = weights(be, t.L, w, 1);
    size_t chunks = hwnas__be_chunks(r->n);
    if (rc == HWNAS_OK)
        rc = hwnas_parallel_for(r->ctx, chunks, bwd_task, &t);
    if (rc != HWNAS_OK)
        return rc;
    size_t n_p = g->cout * (g->cin / g->groups) * g->kh * g->kw + (g->bias ? g->cout : 0);
    hwnas__be_reduce_partials(dwb, r, n_p, chunks);
    return HWNAS_OK;
}

/* ---- inference: convolution + batch-norm + activation ------------------------ */

/* The inference primitive of piece size p->mb with a bias and act as a
 * post-op, taking the layouts of p's forward primitive (else
 * HWNAS_EUNSUPPORTED); the folded weights' layout is made once. */
static int aff_make(hwnas__backend *be, dn_layer *L, dn_prims *p, int act)
{
    const hwnas__be_conv *g = &L->g;
    int rc = HWNAS_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t x_any, y_any, w_any, b_md;
    act_md(&x_any, p->mb, g->cin, g->h, g->w, dnnl_format_tag_any);
    act_md(&y_any, p->mb, g->cout, g->oh, g->ow, dnnl_format_tag_any);
    wei_md(&w_any, g, 1);
    dnnl_dims_t bd = {(dnnl_dim_t)g->cout};
    dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_a);
    dnnl_dims_t st = {(dnnl_dim_t)g->sh, (dnnl_dim_t)g->sw};
    dnnl_dims_t dl = {(dnnl_dim_t)g->dh - 1, (dnnl_dim_t)g->dw - 1};
    dnnl_dims_t pad = {(dnnl_dim_t)g->ph, (dnnl_dim_t)g->pw};
    if ((rc = attr_user_scratchpad(&attr)))
        goto out;
    if (act != HWNAS__BE_ACT_NONE) {
        DN(dnnl_post_ops_create(&po), "post-ops");
        DN(dnnl_post_ops_append_eltwise(po, 1.0f, act == HWNAS__BE_ACT_RELU6 ? dnnl_eltwise_clip
                                                                             : dnnl_eltwise_relu,
                                        0.0f, act == HWNAS__BE_ACT_RELU6 ? 6.0f : 0.0f),
           "post-ops");
        DN(dnnl_primitive_attr_set_post_ops(attr, po), "post-ops");
    }
    dnnl_convolution_desc_t cd;
    DN(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                  dnnl_convolution_direct, &x_any, &w_any, &b_md,
                                                  &y_any, st, dl, pad, pad),
       "convolution inference");
    DN(dnnl_primitive_desc_create(&pd, &cd, attr, be->eng, NULL), "convolution inference");
    if (!dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0),
                                &p->x.want) ||
        !dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0),
                                &p->y.want) ||
        scratch_bytes(pd) > p->scr_f) {
        rc = HWNAS_EUNSUPPORTED;
        goto out;
    }
    if (!L->aff_w) { /* the folded weights: plain, and in the primitive's layout */
        wei_md(&L->wa.plain, g, 0);
        if ((rc = edge_make(&L->wa, be, pd, dnnl_query_weights_md, 1)))
            goto out;
        size_t wb = dnnl_memory_desc_get_size(&L->wa.plain);
        L->aff_w = hwnas__malloc(be->ctx, pad64(wb) + pad64(L->wa.bytes));
        if (!L->aff_w) {
            rc = HWNAS_ENOMEM;
            goto out;
        }
        L->wa_buf = (float *)((char *)L->aff_w + pad64(wb));
        if ((rc = mem(&L->aff_plain, be, &L->wa.plain, L->aff_w)) ||
            (rc = mem(&L->wa_mem, be, &L->wa.want, L->wa_buf)))
            goto out;
    } else if (!dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0),
                                       &L->wa.want)) {
        rc = HWNAS_EUNSUPPORTED;
        goto out;
    }
    for (size_t w = 0; w < p->n_workers; w++)
        if (!p->wk[w].wa &&
            (rc = mem(&p->wk[w].wa, be, &L->wa.want, L->wa.reorder ? (void *)L->wa_buf
                                                                   : (void *)L->aff_w)))
            goto out;
    DN(dnnl_primitive_create(&p->fwd_aff, pd), "convolution inference");
out:
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return rc;
}

typedef struct aff_task {
    dn_task t;
    const float *shift;
} aff_task;

static int aff_piece(const aff_task *a, size_t lo, size_t hi, size_t worker)
{
    const dn_task *t = &a->t;
    const hwnas__be_conv *g = &t->L->g;
    size_t in_sz = g->cin * g->h * g->w, out_sz = g->cout * g->oh * g->ow;
    dn_prims *p = prims_find(t->L, hi - lo);
    if (!p || !p->fwd_aff)
        return 1;
    dn_worker *k = &p->wk[worker];
    dnnl_stream_t s = t->be->streams[worker];
    int bad = 0;
    dnnl_memory_set_data_handle(k->x, (void *)(t->x + lo * in_sz));
    dnnl_memory_set_data_handle(k->y, t->y + lo * out_sz);
    dnnl_memory_set_data_handle(k->bias, (void *)a->shift);
    if (p->x.reorder) {
        dnnl_memory_set_data_handle(k->xb, k->xb_own);
        bad |= reorder(&p->x, s, k->x, k->xb);
    }
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, p->x.reorder ? k->xb : k->x},
                              {DNNL_ARG_WEIGHTS, k->wa},
                              {DNNL_ARG_DST, p->y.reorder ? k->yb : k->y},
                              {DNNL_ARG_SCRATCHPAD, k->scr_f},
                              {DNNL_ARG_BIAS, k->bias}};
    bad |= exec(p->fwd_aff, s, 5, args);
    if (p->y.reorder)
        bad |= reorder(&p->y, s, k->yb, k->y);
    return bad;
}

static int aff_task_run(size_t c, size_t worker, void *data)
{
    const aff_task *a = data;
    size_t lo, hi, sub = a->t.L->sub;
    hwnas__be_chunk_range(a->t.r->n, c, &lo, &hi);
    int old = omp_one(a->t.be), bad = 0;
    for (size_t s0 = lo; s0 < hi && !bad; s0 += sub)
        bad = aff_piece(a, s0, hi - s0 < sub ? hi : s0 + sub, worker);
    omp_restore(a->t.be, old);
    return bad;
}

static int conv_forward_affine(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                               const hwnas__be_conv *g, const float *x, const float *w,
                               const float *scale, const float *shift, int act, float *y)
{
    dn_layer *L = layer;
    if (L->aff_act == -2 || (L->aff_act >= 0 && L->aff_act != act))
        return HWNAS_EUNSUPPORTED; /* refused before; one activation per layer: the net's */
    int rc = prims_for_batch(be, L, r->n, hwnas_context_threads(r->ctx));
    size_t sizes[4], k = piece_sizes(sizes, L, r->n);
    int old = omp_one(be);
    for (size_t i = 0; i < k && rc == HWNAS_OK; i++) {
        dn_prims *p = prims_find(L, sizes[i]);
        if (p && !p->fwd_aff)
            rc = aff_make(be, L, p, act);
    }
    omp_restore(be, old);
    if (rc == HWNAS_EUNSUPPORTED)
        L->aff_act = -2; /* the engine runs them apart from now on */
    if (rc != HWNAS_OK)
        return rc;
    L->aff_act = act;
    /* fold the scale into the weights, then into the primitive's layout */
    size_t kg = (g->cin / g->groups) * g->kh * g->kw;
    for (size_t oc = 0; oc < g->cout; oc++)
        for (size_t j = 0; j < kg; j++)
            L->aff_w[oc * kg + j] = w[oc * kg + j] * scale[oc];
    if (L->wa.reorder) {
        old = omp_one(be);
        int bad = reorder(&L->wa, be->streams[0], L->aff_plain, L->wa_mem);
        omp_restore(be, old);
        if (bad)
            return hwnas__error(HWNAS_EINVAL, "onednn: reordering the weights failed");
    }
    aff_task a = {{0}, shift};
    a.t.be = be, a.t.L = L, a.t.r = r, a.t.x = x, a.t.w = w, a.t.y = y;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), aff_task_run, &a);
}

static size_t conv_scratch(const hwnas__be_conv *g, size_t batch_cap)
{
    return ref_backward(g) ? hwnas__ob_conv_scratch(g, batch_cap) : 1;
}

static const hwnas__backend_ops onednn_ops = {
    .name = "onednn",
    .create = be_create,
    .destroy = be_destroy,
    .conv_new = conv_new,
    .conv_free = conv_free,
    .conv_scratch = conv_scratch,
    .conv_forward = conv_forward,
    .conv_forward_affine = conv_forward_affine,
    .conv_backward = conv_backward,
};

const hwnas__backend_ops *hwnas__backend_onednn(void)
{
    return &onednn_ops;
}

#endif /* HWNAS_HAVE_ONEDNN */
