/* The reference backend's convolution and linear kernels: im2col + sgemm
 * for dense and grouped convolution (several samples per sgemm), a direct
 * kernel on phase planes for depthwise convolution (one input channel per
 * group), sgemm for linear layers.
 *
 * Parallel work is cut into chunks of samples (hwnas__be_chunks) or fixed
 * blocks of rows; partial weight gradients are summed per chunk and
 * reduced in chunk order, so results do not depend on the thread count. */
#include <cblas.h>
#include <string.h>

#include "openblas_internal.h"

/* Hot loops (engine_hot.h). */
#include "engine/engine_hot.h"

/* Most floats of an im2col block: sub-batches of samples are sized so that
 * the column matrix stays in the L2 cache. */
#define COL_TARGET 65536

typedef struct conv_geom {
    size_t cin, h, w;          /* input of one sample */
    size_t cout, oh, ow, p;    /* output, p = oh * ow */
    size_t groups, cin_g, cout_g;
    size_t kh, kw, sh, sw, ph, pw, dh, dw;
    size_t kg;                 /* cin_g * kh * kw: weights per output channel */
    size_t sub;                /* samples per sgemm */
    int direct;                /* one input channel per group: direct kernel */
    /* phase layout (see phase_planes): the padded input of a sample is cut
     * into sh x sw planes of hq x wq by the phase of its rows and columns;
     * every column row is then one contiguous run of l = oh * wq floats of
     * a plane, and outputs are computed on an oh x wq grid whose columns
     * ow .. wq-1 are junk and dropped. */
    int phase;
    size_t hq, wq, l;
    size_t plane_size;         /* floats of one sample's planes, with slack */
    /* direct backward: dy of an output channel on the oh x wq grid sits at
     * qlead in a slot of qslot floats, zeros around it, so that every tap
     * reads its shifted copy without leaving the slot */
    size_t qlead, qslot;
} conv_geom;

static void geom(conv_geom *g, const hwnas__be_conv *s)
{
    g->cin = s->cin, g->h = s->h, g->w = s->w;
    g->cout = s->cout, g->oh = s->oh, g->ow = s->ow, g->p = s->oh * s->ow;
    g->groups = s->groups;
    g->cin_g = g->cin / g->groups, g->cout_g = g->cout / g->groups;
    g->kh = s->kh, g->kw = s->kw;
    g->sh = s->sh, g->sw = s->sw;
    g->ph = s->ph, g->pw = s->pw;
    g->dh = s->dh, g->dw = s->dw;
    g->kg = g->cin_g * g->kh * g->kw;
    g->direct = g->cin_g == 1 && g->groups > 1;
    size_t hp = g->h + 2 * g->ph, wp = g->w + 2 * g->pw;
    g->hq = (hp + g->sh - 1) / g->sh, g->wq = (wp + g->sw - 1) / g->sw;
    g->l = g->oh * g->wq;
    /* worth it while the junk columns cost less than a third more work */
    g->phase = !g->direct && 3 * g->l <= 4 * g->p;
    g->plane_size = g->cin_g * g->sh * g->sw * g->hq * g->wq + g->wq + g->kw * g->dw;
    g->qlead = (g->kh - 1) * g->dh / g->sh * g->wq + (g->kw - 1) * g->dw / g->sw;
    g->qslot = g->qlead + g->hq * g->wq;
    size_t per = g->kg * (g->phase ? g->l : g->p);
    size_t sub = COL_TARGET / (per + 1);
    g->sub = sub < 1 ? 1 : sub;
}

/* The direct kernel's tap table at the start of a worker's scratch: for
 * each tap, its offset in the planes (phase_off) and the index of its
 * plane; stored as size_t in the floats (allocated storage). */
static size_t direct_taps_floats(const conv_geom *g)
{
    return (2 * g->kh * g->kw * sizeof(size_t) + sizeof(float) - 1) / sizeof(float);
}

size_t hwnas__ob_conv_scratch(const hwnas__be_conv *shape, size_t batch_cap)
{
    conv_geom g;
    geom(&g, shape);
    if (g.direct) /* tap table, planes, planes of dx (forward: the output grid), dy slots */
        return direct_taps_floats(&g) + 2 * g.plane_size + g.cout_g * g.qslot;
    size_t mc = hwnas__be_max_chunk(batch_cap);
    size_t s = g.sub < mc ? g.sub : mc;
    if (g.phase)
        return (g.kg + g.cout_g) * s * g.l + g.plane_size;
    return (g.kg + g.cout_g) * s * g.p;
}

/* ---- phase layout ------------------------------------------------------ */

/* Planes of one sample's group x (cin_g channels): pl[((c * sh + a) * sw +
 * b) * hq * wq + i * wq + j] = x padded at row i * sh + a, column j * sw + b
 * (0 in the padding and beyond the padded input); then zero slack. */
HOT static void phase_planes(float *pl, const float *x, const conv_geom *g)
{
    size_t hw = g->hq * g->wq;
    for (size_t c = 0; c < g->cin_g; c++) {
        const float *xc = x + c * g->h * g->w;
        for (size_t a = 0; a < g->sh; a++)
            for (size_t b = 0; b < g->sw; b++) {
                float *p = pl + ((c * g->sh + a) * g->sw + b) * hw;
                /* columns j with j * sw + b - pw in [0, w) */
                size_t jlo = b >= g->pw ? 0 : (g->pw - b + g->sw - 1) / g->sw;
                size_t jhi = g->w + g->pw > b ? (g->w + g->pw - b - 1) / g->sw + 1 : 0;
                jhi = jhi < g->wq ? jhi : g->wq;
                jlo = jlo < jhi ? jlo : jhi;
                for (size_t i = 0; i < g->hq; i++) {
                    float *r = p + i * g->wq;
                    size_t iy = i * g->sh + a;
                    if (iy < g->ph || iy - g->ph >= g->h) {
                        memset(r, 0, g->wq * sizeof *r);
                        continue;
                    }
                    const float *xr = xc + (iy - g->ph) * g->w;
                    for (size_t j = 0; j < jlo; j++)
                        r[j] = 0;
                    if (g->sw == 1) {
                        memcpy(r + jlo, xr + jlo + b - g->pw, (jhi - jlo) * sizeof *r);
                    } else if (g->sw == 2) { /* a constant stride: vectorises */
                        const float *xb = xr + (2 * jlo + b - g->pw);
                        for (size_t j = 0; j < jhi - jlo; j++)
                            r[jlo + j] = xb[2 * j];
                    } else {
                        for (size_t j = jlo; j < jhi; j++)
                            r[j] = xr[j * g->sw + b - g->pw];
                    }
                    for (size_t j = jhi; j < g->wq; j++)
                        r[j] = 0;
                }
            }
    }
    size_t used = g->cin_g * g->sh * g->sw * hw;
    memset(pl + used, 0, (g->plane_size - used) * sizeof *pl);
}

/* Offset in the planes of the column row of (c, ky, kx). */
static inline size_t phase_off(const conv_geom *g, size_t c, size_t ky, size_t kx)
{
    size_t oy = ky * g->dh, ox = kx * g->dw;
    size_t a = oy % g->sh, b = ox % g->sw;
    return ((c * g->sh + a) * g->sw + b) * g->hq * g->wq + (oy / g->sh) * g->wq + ox / g->sw;
}

/* Column rows of one sample from its planes: col[k * ld .. + l). */
HOT static void phase_im2col(float *col, size_t ld, const float *pl, const conv_geom *g)
{
    for (size_t c = 0; c < g->cin_g; c++)
        for (size_t ky = 0; ky < g->kh; ky++)
            for (size_t kx = 0; kx < g->kw; kx++)
                memcpy(col + ((c * g->kh + ky) * g->kw + kx) * ld, pl + phase_off(g, c, ky, kx),
                       g->l * sizeof *col);
}

/* dx (+)= dpl at every real input position of the sample's group. */
HOT static void phase_scatter(float *dx, int acc, const float *dpl, const conv_geom *g)
{
    size_t hw = g->hq * g->wq;
    for (size_t c = 0; c < g->cin_g; c++) {
        float *dc = dx + c * g->h * g->w;
        for (size_t iy = 0; iy < g->h; iy++) {
            size_t py = iy + g->ph, a = py % g->sh, i = py / g->sh;
            float *dr = dc + iy * g->w;
            for (size_t b = 0; b < g->sw; b++) {
                const float *p = dpl + ((c * g->sh + a) * g->sw + b) * hw + i * g->wq;
                /* columns ix = j * sw + b - pw in [0, w) */
                size_t j0 = b >= g->pw ? 0 : (g->pw - b + g->sw - 1) / g->sw;
                size_t ix = j0 * g->sw + b - g->pw;
                if (acc) {
                    for (size_t j = j0; ix < g->w; j++, ix += g->sw)
                        dr[ix] += p[j];
                } else {
                    for (size_t j = j0; ix < g->w; j++, ix += g->sw)
                        dr[ix] = p[j];
                }
            }
        }
    }
}

/* The adjoint of phase_im2col: dpl = sum of the column rows at their
 * offsets (dpl zeroed here), then dx (+)= dpl. */
HOT static void phase_col2im(float *dx, int acc, float *dpl, const float *col, size_t ld,
                             const conv_geom *g)
{
    memset(dpl, 0, g->plane_size * sizeof *dpl);
    for (size_t c = 0; c < g->cin_g; c++)
        for (size_t ky = 0; ky < g->kh; ky++)
            for (size_t kx = 0; kx < g->kw; kx++) {
                float *d = dpl + phase_off(g, c, ky, kx);
                const float *r = col + ((c * g->kh + ky) * g->kw + kx) * ld;
                for (size_t o = 0; o < g->l; o++)
                    d[o] += r[o];
            }
    phase_scatter(dx, acc, dpl, g);
}

/* Range of output positions o (of n) whose input o * s - p + k lies in
 * [0, len). */
static void valid_range(size_t *lo, size_t *hi, size_t n, size_t s, size_t p, size_t k,
                        size_t len)
{
    /* o * s + k >= p  and  o * s + k < len + p */
    size_t a = k >= p ? 0 : (p - k + s - 1) / s;
    size_t b = len + p > k ? (len + p - k - 1) / s + 1 : 0;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
    if (*hi < *lo)
        *hi = *lo;
}

/* Columns of one sample's group: col[(c*kh+ky)*kw+kx][o], row stride ld. */
HOT static void im2col(float *col, size_t ld, const float *x, const conv_geom *g)
{
    for (size_t c = 0; c < g->cin_g; c++) {
        const float *xc = x + c * g->h * g->w;
        for (size_t ky = 0; ky < g->kh; ky++) {
            size_t ylo, yhi;
            valid_range(&ylo, &yhi, g->oh, g->sh, g->ph, ky * g->dh, g->h);
            for (size_t kx = 0; kx < g->kw; kx++) {
                float *row = col + ((c * g->kh + ky) * g->kw + kx) * ld;
                size_t xlo, xhi;
                valid_range(&xlo, &xhi, g->ow, g->sw, g->pw, kx * g->dw, g->w);
                for (size_t oy = 0; oy < g->oh; oy++) {
                    float *r = row + oy * g->ow;
                    if (oy < ylo || oy >= yhi) {
                        memset(r, 0, g->ow * sizeof *r);
                        continue;
                    }
                    const float *xr = xc + (oy * g->sh + ky * g->dh - g->ph) * g->w;
                    size_t off = kx * g->dw; /* ix = ox * sw + off - pw */
                    for (size_t ox = 0; ox < xlo; ox++)
                        r[ox] = 0;
                    if (g->sw == 1) {
                        for (size_t ox = xlo; ox < xhi; ox++)
                            r[ox] = xr[ox + off - g->pw];
                    } else {
                        for (size_t ox = xlo; ox < xhi; ox++)
                            r[ox] = xr[ox * g->sw + off - g->pw];
                    }
                    for (size_t ox = xhi; ox < g->ow; ox++)
                        r[ox] = 0;
                }
            }
        }
    }
}

/* The adjoint of im2col: add the columns back into dx. */
HOT static void col2im(float *dx, const float *col, size_t ld, const conv_geom *g)
{
    for (size_t c = 0; c < g->cin_g; c++) {
        float *dc = dx + c * g->h * g->w;
        for (size_t ky = 0; ky < g->kh; ky++) {
            size_t ylo, yhi;
            valid_range(&ylo, &yhi, g->oh, g->sh, g->ph, ky * g->dh, g->h);
            for (size_t kx = 0; kx < g->kw; kx++) {
                const float *row = col + ((c * g->kh + ky) * g->kw + kx) * ld;
                size_t xlo, xhi;
                valid_range(&xlo, &xhi, g->ow, g->sw, g->pw, kx * g->dw, g->w);
                for (size_t oy = ylo; oy < yhi; oy++) {
                    const float *r = row + oy * g->ow;
                    float *dr = dc + (oy * g->sh + ky * g->dh - g->ph) * g->w;
                    size_t off = kx * g->dw;
                    if (g->sw == 1) {
                        for (size_t ox = xlo; ox < xhi; ox++)
                            dr[ox + off - g->pw] += r[ox];
                    } else {
                        for (size_t ox = xlo; ox < xhi; ox++)
                            dr[ox * g->sw + off - g->pw] += r[ox];
                    }
                }
            }
        }
    }
}

typedef struct conv_task {
    const hwnas__be_run *r;
    conv_geom g;
    const float *x, *wt, *bias;
    float *y;
    const float *dy;
    float *dx;                /* NULL: no input gradient wanted */
    int acc;                  /* add into dx rather than overwrite */
} conv_task;

/* ---- direct kernel: one input channel per group --------------------- */

/* On the phase planes of its input channel (phase_planes, with cin_g = 1)
 * every tap of a depthwise filter reads one contiguous run of l floats,
 * the outputs on the oh x wq grid (junk columns ow .. wq-1), so each tap
 * is one vector loop: an axpy forward and for dx, a dot product for dw.
 * Scratch of a worker (direct_scratch, set up once per task): the tap
 * table, the planes, the planes of dx (forward: the output grid), and the
 * dy slots of the backward pass with their zero margins. */
typedef struct direct_scratch {
    const size_t *off, *plane; /* per tap: offset in the planes, its plane */
    float *pl, *dpl, *q;
} direct_scratch;

static void direct_setup(direct_scratch *d, const conv_geom *g, float *scratch, int backward)
{
    size_t kk = g->kh * g->kw, hw = g->hq * g->wq;
    size_t *off = (size_t *)(void *)scratch, *plane = off + kk;
    for (size_t ky = 0; ky < g->kh; ky++)
        for (size_t kx = 0; kx < g->kw; kx++) {
            size_t k = ky * g->kw + kx;
            off[k] = phase_off(g, 0, ky, kx);
            plane[k] = off[k] / hw;
        }
    d->off = off, d->plane = plane;
    d->pl = scratch + direct_taps_floats(g);
    d->dpl = d->pl + g->plane_size;
    d->q = d->dpl + g->plane_size;
    if (backward) /* only the real outputs are written into the slots */
        memset(d->q, 0, g->cout_g * g->qslot * sizeof *d->q);
}

/* sum a[i] * b[i] over i < n: 16 lanes, then a fixed tree, so the same
 * bits on every run (the order depends on n only). */
static inline float dot_lanes(const float *restrict a, const float *restrict b, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++)
            acc[j] += a[i + j] * b[i + j];
    for (size_t j = 0; i + j < n; j++)
        acc[j] += a[i + j] * b[i + j];
    for (size_t j = 0; j < 8; j++)
        acc[j] += acc[j + 8];
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

HOT static void direct_forward_sample(const conv_task *t, const float *x, float *y,
                                      const direct_scratch *d)
{
    const conv_geom *g = &t->g;
    size_t mult = g->cout_g, kk = g->kh * g->kw;
    float *pl = d->pl, *restrict q = d->dpl; /* q: one output grid, oh x wq */
    for (size_t c = 0; c < g->cin; c++) {
        phase_planes(pl, x + c * g->h * g->w, g);
        for (size_t m = 0; m < mult; m++) {
            size_t oc = c * mult + m;
            const float *wc = t->wt + oc * kk;
            float b = t->bias ? t->bias[oc] : 0.0f;
            for (size_t i = 0; i < g->l; i++)
                q[i] = b;
            for (size_t k = 0; k < kk; k++) {
                const float *restrict r = pl + d->off[k];
                float wv = wc[k];
                for (size_t i = 0; i < g->l; i++)
                    q[i] += wv * r[i];
            }
            float *yc = y + oc * g->p;
            for (size_t oy = 0; oy < g->oh; oy++)
                memcpy(yc + oy * g->ow, q + oy * g->wq, g->ow * sizeof *yc);
        }
    }
}

/* dw, db (this chunk's partial slots) and dx (+)= of one sample.
 *
 * dw of a tap is the dot product of its run of the planes with dy on the
 * grid. dx is gathered rather than scattered: each position of a plane of
 * dx sums w * dy over the taps of that plane, reading dy shifted by the
 * tap's offset (a scatter would load what the previous tap had just
 * stored one float off, which stalls store forwarding). */
HOT static void direct_backward_sample(const conv_task *t, const float *x, const float *dy,
                                       float *dx, float *dw, float *db, const direct_scratch *d)
{
    const conv_geom *g = &t->g;
    size_t mult = g->cout_g, kk = g->kh * g->kw, hw = g->hq * g->wq, planes = g->sh * g->sw;
    const size_t *off = d->off, *plane = d->plane;
    float *pl = d->pl, *restrict dpl = d->dpl, *q = d->q; /* q: mult slots of qslot */
    for (size_t c = 0; c < g->cin; c++) {
        phase_planes(pl, x + c * g->h * g->w, g);
        for (size_t m = 0; m < mult; m++) {
            size_t oc = c * mult + m;
            const float *dyc = dy + oc * g->p;
            float *qm = q + m * g->qslot + g->qlead;
            for (size_t oy = 0; oy < g->oh; oy++)
                memcpy(qm + oy * g->wq, dyc + oy * g->ow, g->ow * sizeof *qm);
            if (db) {
                float s = 0;
                for (size_t o = 0; o < g->p; o++)
                    s += dyc[o];
                db[oc] += s;
            }
            for (size_t k = 0; k < kk; k++)
                dw[oc * kk + k] += dot_lanes(pl + off[k], qm, g->l);
        }
        if (!dx)
            continue;
        memset(dpl, 0, planes * hw * sizeof *dpl);
        for (size_t m = 0; m < mult; m++) {
            const float *wc = t->wt + (c * mult + m) * kk;
            const float *qm = q + m * g->qslot + g->qlead;
            for (size_t k = 0; k < kk; k++) {
                size_t a = plane[k];
                float *restrict da = dpl + a * hw, wv = wc[k];
                const float *restrict r = qm - (off[k] - a * hw);
                for (size_t i = 0; i < hw; i++)
                    da[i] += wv * r[i];
            }
        }
        phase_scatter(dx + c * g->h * g->w, t->acc, dpl, g);
    }
}

/* ---- phase-layout convolution ---------------------------------------- */

/* Samples [lo, hi) through sgemm on phase columns; pl: plane scratch. */
HOT static void phase_forward(const conv_task *t, float *col, float *pl, size_t lo, size_t hi)
{
    const conv_geom *g = &t->g;
    size_t in_sz = g->cin * g->h * g->w, out_sz = g->cout * g->p;
    for (size_t s0 = lo; s0 < hi; s0 += g->sub) {
        size_t ns = hi - s0 < g->sub ? hi - s0 : g->sub, ld = ns * g->l;
        float *ybuf = col + g->kg * ld;
        for (size_t grp = 0; grp < g->groups; grp++) {
            size_t goff = grp * g->cin_g * g->h * g->w;
            for (size_t k = 0; k < ns; k++) {
                phase_planes(pl, t->x + (s0 + k) * in_sz + goff, g);
                phase_im2col(col + k * g->l, ld, pl, g);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g->cout_g, (int)ld,
                        (int)g->kg, 1.0f, t->wt + grp * g->cout_g * g->kg, (int)g->kg, col,
                        (int)ld, 0.0f, ybuf, (int)ld);
            for (size_t k = 0; k < ns; k++)
                for (size_t co = 0; co < g->cout_g; co++) {
                    size_t oc = grp * g->cout_g + co;
                    float *dst = t->y + (s0 + k) * out_sz + oc * g->p;
                    const float *src = ybuf + co * ld + k * g->l;
                    float b = t->bias ? t->bias[oc] : 0.0f;
                    for (size_t oy = 0; oy < g->oh; oy++)
                        for (size_t ox = 0; ox < g->ow; ox++)
                            dst[oy * g->ow + ox] = src[oy * g->wq + ox] + b;
                }
        }
    }
}

/* One group's GEMMs of a backward pass over ld columns (the im2col of x in
 * col, dy in ybuf): dw += dy col^T, db += dy's row sums, then, when dx is
 * wanted, col = W^T dy for the caller to fold back into dx. Returns
 * whether it did that last step. */
static int group_gemms(const conv_task *t, size_t grp, const float *ybuf, float *col, size_t ld,
                       float *dw, float *db)
{
    const conv_geom *g = &t->g;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)g->cout_g, (int)g->kg, (int)ld,
                1.0f, ybuf, (int)ld, col, (int)ld, 1.0f, dw + grp * g->cout_g * g->kg,
                (int)g->kg);
    if (db)
        for (size_t co = 0; co < g->cout_g; co++) {
            const float *r = ybuf + co * ld;
            float s = 0;
            for (size_t o = 0; o < ld; o++)
                s += r[o];
            db[grp * g->cout_g + co] += s;
        }
    if (!t->dx)
        return 0;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)g->kg, (int)ld, (int)g->cout_g,
                1.0f, t->wt + grp * g->cout_g * g->kg, (int)g->kg, ybuf, (int)ld, 0.0f, col,
                (int)ld);
    return 1;
}

/* Gradients of samples [lo, hi): dw, db (partial slots) and dx. */
HOT static void phase_backward(const conv_task *t, float *col, float *pl, size_t lo, size_t hi,
                               float *dw, float *db)
{
    const conv_geom *g = &t->g;
    size_t in_sz = g->cin * g->h * g->w, out_sz = g->cout * g->p;
    for (size_t s0 = lo; s0 < hi; s0 += g->sub) {
        size_t ns = hi - s0 < g->sub ? hi - s0 : g->sub, ld = ns * g->l;
        float *ybuf = col + g->kg * ld;
        for (size_t grp = 0; grp < g->groups; grp++) {
            size_t goff = grp * g->cin_g * g->h * g->w;
            for (size_t k = 0; k < ns; k++) {
                phase_planes(pl, t->x + (s0 + k) * in_sz + goff, g);
                phase_im2col(col + k * g->l, ld, pl, g);
                for (size_t co = 0; co < g->cout_g; co++) {
                    const float *src = t->dy + (s0 + k) * out_sz + (grp * g->cout_g + co) * g->p;
                    float *dst = ybuf + co * ld + k * g->l;
                    for (size_t oy = 0; oy < g->oh; oy++) {
                        memcpy(dst + oy * g->wq, src + oy * g->ow, g->ow * sizeof *dst);
                        memset(dst + oy * g->wq + g->ow, 0, (g->wq - g->ow) * sizeof *dst);
                    }
                }
            }
            if (!group_gemms(t, grp, ybuf, col, ld, dw, db))
                continue;
            for (size_t k = 0; k < ns; k++)
                phase_col2im(t->dx + (s0 + k) * in_sz + goff, t->acc, pl, col + k * g->l, ld, g);
        }
    }
}

/* ---- forward -------------------------------------------------------- */

HOT static int conv_forward_task(size_t c, size_t worker, void *data)
{
    const conv_task *t = data;
    const conv_geom *g = &t->g;
    size_t lo, hi, in_sz = g->cin * g->h * g->w, out_sz = g->cout * g->p;
    hwnas__be_chunk_range(t->r->n, c, &lo, &hi);
    float *col = t->r->scratch[worker];
    if (g->direct) {
        direct_scratch d;
        direct_setup(&d, g, col, 0);
        for (size_t s = lo; s < hi; s++)
            direct_forward_sample(t, t->x + s * in_sz, t->y + s * out_sz, &d);
        return 0;
    }
    if (g->phase) {
        phase_forward(t, col, col + t->r->scratch_size - g->plane_size, lo, hi);
        return 0;
    }
    for (size_t s0 = lo; s0 < hi; s0 += g->sub) {
        size_t ns = hi - s0 < g->sub ? hi - s0 : g->sub, ld = ns * g->p;
        float *ybuf = col + g->kg * ld;
        for (size_t grp = 0; grp < g->groups; grp++) {
            for (size_t k = 0; k < ns; k++)
                im2col(col + k * g->p, ld,
                       t->x + (s0 + k) * in_sz + grp * g->cin_g * g->h * g->w, g);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g->cout_g, (int)ld,
                        (int)g->kg, 1.0f, t->wt + grp * g->cout_g * g->kg, (int)g->kg, col,
                        (int)ld, 0.0f, ybuf, (int)ld);
            for (size_t k = 0; k < ns; k++)
                for (size_t co = 0; co < g->cout_g; co++) {
                    size_t oc = grp * g->cout_g + co;
                    float *dst = t->y + (s0 + k) * out_sz + oc * g->p;
                    const float *src = ybuf + co * ld + k * g->p;
                    float b = t->bias ? t->bias[oc] : 0.0f;
                    for (size_t o = 0; o < g->p; o++)
                        dst[o] = src[o] + b;
                }
        }
    }
    return 0;
}

int hwnas__ob_conv_forward(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                          const hwnas__be_conv *shape, const float *x, const float *w, float *y)
{
    (void)be, (void)layer;
    conv_task t = {0};
    t.r = r;
    geom(&t.g, shape);
    t.x = x;
    t.y = y;
    t.wt = w;
    t.bias = shape->bias ? t.wt + t.g.cout * t.g.kg : NULL;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), conv_forward_task, &t);
}

/* ---- backward ------------------------------------------------------- */

HOT static int conv_backward_task(size_t c, size_t worker, void *data)
{
    const conv_task *t = data;
    const conv_geom *g = &t->g;
    size_t lo, hi, in_sz = g->cin * g->h * g->w, out_sz = g->cout * g->p;
    hwnas__be_chunk_range(t->r->n, c, &lo, &hi);
    size_t nw = g->cout * g->kg, n_p = nw + (t->bias ? g->cout : 0);
    float *dw = t->r->partial + c * t->r->partial_stride;
    float *db = t->bias ? dw + nw : NULL;
    memset(dw, 0, n_p * sizeof *dw);
    if (g->phase) {
        float *col = t->r->scratch[worker];
        phase_backward(t, col, col + t->r->scratch_size - g->plane_size, lo, hi, dw, db);
        return 0;
    }
    if (g->direct) { /* writes or adds every element of dx itself */
        direct_scratch d;
        direct_setup(&d, g, t->r->scratch[worker], 1);
        for (size_t s = lo; s < hi; s++)
            direct_backward_sample(t, t->x + s * in_sz, t->dy + s * out_sz,
                                   t->dx ? t->dx + s * in_sz : NULL, dw, db, &d);
        return 0;
    }
    if (t->dx && !t->acc)
        memset(t->dx + lo * in_sz, 0, (hi - lo) * in_sz * sizeof(float));
    float *col = t->r->scratch[worker];
    for (size_t s0 = lo; s0 < hi; s0 += g->sub) {
        size_t ns = hi - s0 < g->sub ? hi - s0 : g->sub, ld = ns * g->p;
        float *ybuf = col + g->kg * ld;
        for (size_t grp = 0; grp < g->groups; grp++) {
            size_t goff = grp * g->cin_g * g->h * g->w;
            for (size_t k = 0; k < ns; k++) {
                im2col(col + k * g->p, ld, t->x + (s0 + k) * in_sz + goff, g);
                for (size_t co = 0; co < g->cout_g; co++)
                    memcpy(ybuf + co * ld + k * g->p,
                           t->dy + (s0 + k) * out_sz + (grp * g->cout_g + co) * g->p,
                           g->p * sizeof(float));
            }
            if (!group_gemms(t, grp, ybuf, col, ld, dw, db))
                continue;
            for (size_t k = 0; k < ns; k++)
                col2im(t->dx + (s0 + k) * in_sz + goff, col + k * g->p, ld, g);
        }
    }
    return 0;
}

int hwnas__ob_conv_backward(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                           const hwnas__be_conv *shape, const float *x, const float *w,
                           const float *dy, float *dx, int acc, float *dwb)
{
    (void)be, (void)layer;
    conv_task t = {0};
    t.r = r;
    geom(&t.g, shape);
    t.x = x;
    t.dy = dy;
    t.wt = w;
    t.bias = shape->bias ? t.wt + t.g.cout * t.g.kg : NULL;
    t.dx = dx;
    t.acc = acc;
    size_t chunks = hwnas__be_chunks(r->n);
    int rc = hwnas_parallel_for(r->ctx, chunks, conv_backward_task, &t);
    if (rc != HWNAS_OK)
        return rc;
    size_t n_p = t.g.cout * t.g.kg + (shape->bias ? t.g.cout : 0);
    hwnas__be_reduce_partials(dwb, r, n_p, chunks);
    return HWNAS_OK;
}

/* ---- linear --------------------------------------------------------- */

typedef struct linear_task {
    const hwnas__be_run *r;
    size_t f, out;            /* input features, outputs */
    const float *x, *wt, *bias, *dy;
    float *y, *dx, *dw, *db;
    int acc;
    size_t chunks, blocks;    /* sample chunks; row blocks of dW */
} linear_task;

static int linear_forward_task(size_t c, size_t worker, void *data)
{
    (void)worker;
    const linear_task *t = data;
    size_t lo, hi;
    hwnas__be_chunk_range(t->r->n, c, &lo, &hi);
    float *y = t->y + lo * t->out;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(hi - lo), (int)t->out,
                (int)t->f, 1.0f, t->x + lo * t->f, (int)t->f, t->wt, (int)t->f, 0.0f, y,
                (int)t->out);
    if (t->bias)
        for (size_t s = 0; s < hi - lo; s++)
            for (size_t o = 0; o < t->out; o++)
                y[s * t->out + o] += t->bias[o];
    return 0;
}

int hwnas__ob_linear_forward(const hwnas__be_run *r, size_t f, size_t out, const float *x,
                            const float *w, const float *b, float *y)
{
    linear_task t = {0};
    t.r = r;
    t.f = f, t.out = out;
    t.x = x, t.y = y;
    t.wt = w;
    t.bias = b;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), linear_forward_task, &t);
}

/* Tasks [0, chunks): dx of a chunk of samples; [chunks, chunks + blocks):
 * dW (and db) of a block of output rows, summed over the whole batch. */
static int linear_backward_task(size_t k, size_t worker, void *data)
{
    (void)worker;
    const linear_task *t = data;
    size_t n = t->r->n;
    if (k < t->chunks) {
        size_t lo, hi;
        hwnas__be_chunk_range(n, k, &lo, &hi);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(hi - lo), (int)t->f,
                    (int)t->out, 1.0f, t->dy + lo * t->out, (int)t->out, t->wt, (int)t->f,
                    t->acc ? 1.0f : 0.0f, t->dx + lo * t->f, (int)t->f);
        return 0;
    }
    size_t b = k - t->chunks;
    size_t r0 = b * t->out / t->blocks, r1 = (b + 1) * t->out / t->blocks;
    if (r1 == r0)
        return 0;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(r1 - r0), (int)t->f, (int)n,
                1.0f, t->dy + r0, (int)t->out, t->x, (int)t->f, 0.0f, t->dw + r0 * t->f,
                (int)t->f);
    if (t->db)
        for (size_t o = r0; o < r1; o++) {
            float s = 0;
            for (size_t j = 0; j < n; j++)
                s += t->dy[j * t->out + o];
            t->db[o] = s;
        }
    return 0;
}

int hwnas__ob_linear_backward(const hwnas__be_run *r, size_t f, size_t out, const float *x,
                             const float *w, const float *dy, float *dx, int acc, float *dw,
                             float *db)
{
    linear_task t = {0};
    t.r = r;
    t.f = f, t.out = out;
    t.x = x, t.dy = dy;
    t.wt = w;
    t.bias = db ? w + out * f : NULL;
    t.dw = dw;
    t.db = db;
    t.dx = dx;
    t.acc = acc;
    t.chunks = t.dx ? hwnas__be_chunks(r->n) : 0;
    t.blocks = t.out < HWNAS__BE_MAX_CHUNKS ? t.out : HWNAS__BE_MAX_CHUNKS;
    return hwnas_parallel_for(r->ctx, t.chunks + t.blocks, linear_backward_task, &t);
}
