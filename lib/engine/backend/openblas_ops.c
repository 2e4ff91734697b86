/* The reference backend's pooling, batch-norm and activation kernels.
 * All run one task per chunk of samples; batch-norm's sums over the batch
 * are formed per chunk and added in chunk order, so results do not depend
 * on the thread count. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "openblas_internal.h"

/* Hot loops (engine_hot.h). */
#include "engine/engine_hot.h"

/* No floating-point traps are ever enabled here, so GCC may compute both
 * sides of a select (leaky_relu's alpha * x, elu's expm1) and vectorise
 * such loops; under its default -ftrapping-math it leaves them scalar.
 * The results are the same either way. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif

static inline void put(float *dst, float v, int acc)
{
    *dst = acc ? *dst + v : v;
}

/* ---- activations -------------------------------------------------------- */

static inline float sigm(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

/* expm1(x) for x <= 0, in operations that vectorise (libm's expm1f is one
 * call per element): x = k ln2 + r with |r| <= ln2 / 2, expm1(r) by its
 * Taylor series to r^7 (truncation under 2e-8 relative), then expm1(x) =
 * 2^k expm1(r) + (2^k - 1), exact in its second term and without
 * cancellation for k = 0. Within 3 ulp of the true value (a test checks
 * it against double precision); x below -87 gives -1 as expm1f does. */
static inline float expm1_neg(float x)
{
    float xc = x > -87.0f ? x : -87.0f; /* NaN too: it is given back at the end */
    xc = xc < 0.0f ? xc : 0.0f;
    float k = floorf(xc * 1.44269504f + 0.5f);
    float r = xc - k * 0.693145752f; /* ln2 in two parts: k times the first is exact */
    r = r - k * 1.42860677e-6f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r;
    union {
        int32_t i;
        float f;
    } two = {.i = ((int32_t)k + 127) * (1 << 23)};
    float v = two.f * p + (two.f - 1.0f);
    return x == x ? v : x;
}

/* The kinds with a multiply in their negative branch compute it for every
 * element: a conditional multiply may trap (GCC's default -ftrapping-math),
 * so GCC leaves such a loop scalar. */
HOT static void act_forward(const float *x, float *y, size_t n, int fn, float alpha)
{
    switch (fn) {
    case HWNAS_NET_ACT_RELU:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] > 0 ? x[k] : 0.0f;
        break;
    case HWNAS_NET_ACT_RELU6:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] > 0 ? (x[k] < 6 ? x[k] : 6.0f) : 0.0f;
        break;
    case HWNAS_NET_ACT_ELU:
        for (size_t k = 0; k < n; k++) {
            float v = alpha * expm1_neg(x[k]);
            y[k] = x[k] > 0 ? x[k] : v;
        }
        break;
    case HWNAS_NET_ACT_LEAKY_RELU:
    case HWNAS_NET_ACT_PRELU:
        for (size_t k = 0; k < n; k++) {
            float v = alpha * x[k];
            y[k] = x[k] > 0 ? x[k] : v;
        }
        break;
    case HWNAS_NET_ACT_SIGMOID:
        for (size_t k = 0; k < n; k++)
            y[k] = sigm(x[k]);
        break;
    case HWNAS_NET_ACT_SWISH:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] * sigm(x[k]);
        break;
    case HWNAS_NET_ACT_HARD_SWISH:
        for (size_t k = 0; k < n; k++) {
            float r = x[k] + 3.0f;
            r = r > 0 ? (r < 6 ? r : 6.0f) : 0.0f;
            y[k] = x[k] * r / 6.0f;
        }
        break;
    case HWNAS_NET_ACT_HARD_SIGMOID:
        for (size_t k = 0; k < n; k++) {
            float r = x[k] + 3.0f;
            y[k] = (r > 0 ? (r < 6 ? r : 6.0f) : 0.0f) / 6.0f;
        }
        break;
    default: /* tanh */
        for (size_t k = 0; k < n; k++)
            y[k] = tanhf(x[k]);
        break;
    }
}

/* f'(x) from x and y = f(x), for every kind but the ones act_backward
 * handles in their own loops. */
static inline float act_slope(float x, float y, int fn, float alpha)
{
    switch (fn) {
    case HWNAS_NET_ACT_ELU:
        return x > 0 ? 1.0f : y + alpha;
    case HWNAS_NET_ACT_SIGMOID:
        return y * (1.0f - y);
    case HWNAS_NET_ACT_SWISH: {
        float s = sigm(x);
        return s + x * s * (1.0f - s);
    }
    case HWNAS_NET_ACT_HARD_SWISH:
        return x < -3 ? 0.0f : (x > 3 ? 1.0f : (2.0f * x + 3.0f) / 6.0f);
    case HWNAS_NET_ACT_HARD_SIGMOID:
        return x > -3 && x < 3 ? 1.0f / 6.0f : 0.0f;
    default: /* tanh */
        return 1.0f - y * y;
    }
}

/* dx (+)= dy * f'(x); y = f(x). The common kinds get loops of their own
 * so that they vectorise. */
HOT static void act_backward(const float *x, const float *y, const float *dy, float *dx,
                             size_t n, int fn, float alpha, int acc)
{
    float lo = 0.0f, hi = fn == HWNAS_NET_ACT_RELU6 ? 6.0f : INFINITY;
    switch (fn) {
    case HWNAS_NET_ACT_RELU:
    case HWNAS_NET_ACT_RELU6:
        if (acc)
            for (size_t k = 0; k < n; k++)
                dx[k] += x[k] > lo && x[k] < hi ? dy[k] : 0.0f;
        else
            for (size_t k = 0; k < n; k++)
                dx[k] = x[k] > lo && x[k] < hi ? dy[k] : 0.0f;
        return;
    case HWNAS_NET_ACT_LEAKY_RELU:
    case HWNAS_NET_ACT_PRELU:
        if (acc)
            for (size_t k = 0; k < n; k++) {
                float v = alpha * dy[k];
                dx[k] += x[k] > 0 ? dy[k] : v;
            }
        else
            for (size_t k = 0; k < n; k++) {
                float v = alpha * dy[k];
                dx[k] = x[k] > 0 ? dy[k] : v;
            }
        return;
    case HWNAS_NET_ACT_ELU:
        if (acc)
            for (size_t k = 0; k < n; k++) {
                float v = dy[k] * (y[k] + alpha);
                dx[k] += x[k] > 0 ? dy[k] : v;
            }
        else
            for (size_t k = 0; k < n; k++) {
                float v = dy[k] * (y[k] + alpha);
                dx[k] = x[k] > 0 ? dy[k] : v;
            }
        return;
    default:
        for (size_t k = 0; k < n; k++)
            put(&dx[k], dy[k] * act_slope(x[k], y[k], fn, alpha), acc);
        return;
    }
}


/* ---- pooling ------------------------------------------------------------ */

typedef hwnas__be_pool pool_geom;

/* The window of output (oy, ox) clipped to the input: [y0, y1) x [x0, x1). */
static void window(const pool_geom *g, size_t oy, size_t ox, size_t *y0, size_t *y1, size_t *x0,
                   size_t *x1)
{
    size_t ys = oy * g->sh, xs = ox * g->sw;
    *y0 = ys > g->ph ? ys - g->ph : 0;
    *x0 = xs > g->pw ? xs - g->pw : 0;
    *y1 = ys + g->kh - g->ph < g->h ? ys + g->kh - g->ph : g->h;
    *x1 = xs + g->kw - g->pw < g->w ? xs + g->kw - g->pw : g->w;
}

HOT static void pool_sample(const pool_geom *g, const float *x, float *y, const float *dy,
                            float *dx)
{
    int is_max = g->max;
    for (size_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w;
        float *dxc = dx ? dx + c * g->h * g->w : NULL;
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++) {
                size_t y0, y1, x0, x1, o = (c * g->oh + oy) * g->ow + ox;
                window(g, oy, ox, &y0, &y1, &x0, &x1);
                if (is_max) {
                    size_t arg = y0 * g->w + x0;
                    for (size_t iy = y0; iy < y1; iy++)
                        for (size_t ix = x0; ix < x1; ix++)
                            if (xc[iy * g->w + ix] > xc[arg])
                                arg = iy * g->w + ix;
                    if (y)
                        y[o] = xc[arg];
                    else
                        dxc[arg] += dy[o];
                } else {
                    float cnt = (float)((y1 - y0) * (x1 - x0));
                    if (y) {
                        float s = 0;
                        for (size_t iy = y0; iy < y1; iy++)
                            for (size_t ix = x0; ix < x1; ix++)
                                s += xc[iy * g->w + ix];
                        y[o] = s / cnt;
                    } else {
                        float v = dy[o] / cnt;
                        for (size_t iy = y0; iy < y1; iy++)
                            for (size_t ix = x0; ix < x1; ix++)
                                dxc[iy * g->w + ix] += v;
                    }
                }
            }
    }
}

/* Max pooling with 2 x 2 windows at stride 2, no padding (every max pool
 * of the CGP space): each window's four values in pool_sample's order
 * with its comparisons, as selects over a row of outputs, so the same
 * maxima and the same first maximum for the gradient. */
static int max2(const pool_geom *g)
{
    return g->max && g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && !g->ph && !g->pw;
}

HOT static void max2_forward_sample(const pool_geom *g, const float *restrict x,
                                    float *restrict y)
{
    for (size_t c = 0; c < g->c; c++)
        for (size_t oy = 0; oy < g->oh; oy++) {
            const float *r0 = x + (c * g->h + 2 * oy) * g->w, *r1 = r0 + g->w;
            float *yr = y + (c * g->oh + oy) * g->ow;
            for (size_t ox = 0; ox < g->ow; ox++) {
                float m = r0[2 * ox], b = r0[2 * ox + 1], e = r1[2 * ox], f = r1[2 * ox + 1];
                m = b > m ? b : m;
                m = e > m ? e : m;
                yr[ox] = f > m ? f : m;
            }
        }
}

/* Its gradient: the window's value of dy to its first maximum, 0 to the
 * others; stored (set: the windows tile the whole input) or added. */
HOT static void max2_backward_sample(const pool_geom *g, const float *restrict x,
                                     const float *restrict dy, float *restrict dx, int set)
{
    for (size_t c = 0; c < g->c; c++)
        for (size_t oy = 0; oy < g->oh; oy++) {
            size_t i0 = (c * g->h + 2 * oy) * g->w;
            const float *r0 = x + i0, *r1 = r0 + g->w;
            float *d0 = dx + i0, *d1 = d0 + g->w;
            const float *gr = dy + (c * g->oh + oy) * g->ow;
            for (size_t ox = 0; ox < g->ow; ox++) {
                float a = r0[2 * ox], b = r0[2 * ox + 1], e = r1[2 * ox], f = r1[2 * ox + 1];
                int sb = b > a;
                float m = sb ? b : a;
                int se = e > m;
                m = se ? e : m;
                int sf = f > m;
                /* the winner: f, else e, else b, else a */
                float v = gr[ox], z = 0.0f;
                float vf = sf ? v : z, ve = !sf && se ? v : z;
                float vb = !sf && !se && sb ? v : z, va = !sf && !se && !sb ? v : z;
                if (set) {
                    d0[2 * ox] = va, d0[2 * ox + 1] = vb, d1[2 * ox] = ve, d1[2 * ox + 1] = vf;
                } else {
                    d0[2 * ox] += va, d0[2 * ox + 1] += vb;
                    d1[2 * ox] += ve, d1[2 * ox + 1] += vf;
                }
            }
        }
}

/* The output columns [*lo, *hi) whose window holds input column kx - pw +
 * ox * sw inside the input, for kernel column kx (rows alike). */
static inline void tap_range(size_t kx, size_t pad, size_t stride, size_t in, size_t out,
                             size_t *lo, size_t *hi)
{
    *lo = kx < pad ? (pad - kx + stride - 1) / stride : 0;
    *hi = in + pad > kx ? (in - 1 + pad - kx) / stride + 1 : 0;
    *hi = *hi < out ? *hi : out;
    *lo = *lo < *hi ? *lo : *hi;
}

/* Average pooling of one sample, vectorised over the output columns: the
 * additions of pool_sample in its order (window rows top to bottom,
 * columns left to right, from 0), each output's sum kept in y, so the
 * same bits. A window is whole rows of taps: for kernel column kx, the
 * outputs whose tap lies inside the row form one run. */
HOT static void avg_forward_sample(const pool_geom *g, const float *restrict x,
                                   float *restrict y)
{
    size_t sw = g->sw;
    for (size_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w;
        for (size_t oy = 0; oy < g->oh; oy++) {
            size_t y0, y1, x0, x1;
            window(g, oy, 0, &y0, &y1, &x0, &x1);
            float *yo = y + (c * g->oh + oy) * g->ow;
            for (size_t ox = 0; ox < g->ow; ox++)
                yo[ox] = 0.0f;
            for (size_t iy = y0; iy < y1; iy++) {
                const float *row = xc + iy * g->w;
                for (size_t kx = 0; kx < g->kw; kx++) {
                    size_t lo, hi;
                    tap_range(kx, g->pw, sw, g->w, g->ow, &lo, &hi);
                    size_t off = kx - g->pw; /* modulo 2^n: ox * sw + off is inside */
                    if (sw == 1)
                        for (size_t ox = lo; ox < hi; ox++)
                            yo[ox] += row[ox + off];
                    else
                        for (size_t ox = lo; ox < hi; ox++)
                            yo[ox] += row[ox * sw + off];
                }
            }
            for (size_t ox = 0; ox < g->ow; ox++) {
                window(g, oy, ox, &y0, &y1, &x0, &x1);
                yo[ox] /= (float)((y1 - y0) * (x1 - x0));
            }
        }
    }
}

/* Stride-1 average pooling on a zero-padded copy of the plane: outputs
 * are computed on an oh x (w + 2 pw) grid (the last kw - 1 columns of a
 * row junk), so each kernel tap is one long contiguous add. The padding
 * adds +0.0, which leaves every sum as it was (a sum from +0 is never
 * -0), so the results are pool_sample's bits, in its order. GRID_MAX
 * floats per buffer (on the stack); larger planes take the row loops. */
#define GRID_MAX 4096

static int avg_grid_fits(const pool_geom *g)
{
    size_t hp = g->h + 2 * g->ph, wp = g->w + 2 * g->pw;
    return g->sh == 1 && g->sw == 1 && g->ph < g->kh && g->pw < g->kw && hp >= g->kh &&
           wp >= g->kw && g->oh == hp - g->kh + 1 && g->ow == wp - g->kw + 1 &&
           hp * wp + g->kw <= GRID_MAX && g->oh * g->ow <= GRID_MAX &&
           (g->h + g->kh - 1) * (g->w + g->kw - 1) + g->kw <= GRID_MAX;
}

/* cnt[oy * ow + ox]: the window's size inside the input, as pool_sample's
 * divisor. */
static void avg_counts(const pool_geom *g, float *cnt)
{
    for (size_t oy = 0; oy < g->oh; oy++)
        for (size_t ox = 0; ox < g->ow; ox++) {
            size_t y0, y1, x0, x1;
            window(g, oy, ox, &y0, &y1, &x0, &x1);
            cnt[oy * g->ow + ox] = (float)((y1 - y0) * (x1 - x0));
        }
}

HOT static void avg_forward_grid(const pool_geom *g, const float *restrict x, float *restrict y,
                                 float *restrict pad, float *restrict acc,
                                 const float *restrict cnt)
{
    size_t wp = g->w + 2 * g->pw, n = g->oh * wp;
    for (size_t c = 0; c < g->c; c++) {
        const float *xc = x + c * g->h * g->w;
        for (size_t iy = 0; iy < g->h; iy++)
            memcpy(pad + (iy + g->ph) * wp + g->pw, xc + iy * g->w, g->w * sizeof *pad);
        for (size_t q = 0; q < n; q++)
            acc[q] = 0.0f;
        for (size_t ky = 0; ky < g->kh; ky++)
            for (size_t kx = 0; kx < g->kw; kx++) {
                const float *src = pad + ky * wp + kx;
                for (size_t q = 0; q < n; q++)
                    acc[q] += src[q];
            }
        float *yc = y + c * g->oh * g->ow;
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++)
                yc[oy * g->ow + ox] = acc[oy * wp + ox] / cnt[oy * g->ow + ox];
    }
}

/* The backward pass on grids: dx (h x (w + kw - 1), from dx's values or
 * 0) gets each kernel tap's share of the zero-padded dy / count as one
 * long add, taps bottom-right first, so an input gets its outputs' shares
 * in pool_sample's order (outputs row by row, left to right). Padding adds
 * +0.0: the same values as pool_sample (an input gradient of -0 may come
 * out +0). */
HOT static void avg_backward_grid(const pool_geom *g, const float *restrict dy,
                                  float *restrict dx, float *restrict vpad,
                                  float *restrict dacc, const float *restrict cnt)
{
    size_t a = g->kh - 1 - g->ph, b = g->kw - 1 - g->pw;
    size_t wv = g->w + g->kw - 1, n = g->h * wv;
    for (size_t c = 0; c < g->c; c++) {
        const float *dyc = dy + c * g->oh * g->ow;
        float *dxc = dx + c * g->h * g->w;
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++)
                vpad[(oy + a) * wv + ox + b] = dyc[oy * g->ow + ox] / cnt[oy * g->ow + ox];
        for (size_t iy = 0; iy < g->h; iy++)
            memcpy(dacc + iy * wv, dxc + iy * g->w, g->w * sizeof *dacc);
        /* tap (kh - 1 - i, kw - 1 - j): ascending loops, as in the
         * forward pass (written with descending ones, GCC swapped the
         * loops and left the adds scalar) */
        for (size_t i = 0; i < g->kh; i++)
            for (size_t j = 0; j < g->kw; j++) {
                const float *src = vpad + i * wv + j;
                for (size_t q = 0; q < n; q++)
                    dacc[q] += src[q];
            }
        for (size_t iy = 0; iy < g->h; iy++)
            memcpy(dxc + iy * g->w, dacc + iy * wv, g->w * sizeof *dacc);
    }
}

/* Its backward: dx += dy / count over each window, in pool_sample's order
 * for every input (outputs row by row, left to right): per output row,
 * kernel columns right to left (so for one input, outputs left to right),
 * over blocks of output columns taken left to right. */
#define AVG_BLOCK 256
HOT static void avg_backward_sample(const pool_geom *g, const float *restrict dy,
                                    float *restrict dx)
{
    size_t sw = g->sw;
    float v[AVG_BLOCK];
    for (size_t c = 0; c < g->c; c++) {
        float *dxc = dx + c * g->h * g->w;
        for (size_t oy = 0; oy < g->oh; oy++) {
            const float *dyo = dy + (c * g->oh + oy) * g->ow;
            for (size_t b = 0; b < g->ow; b += AVG_BLOCK) {
                size_t be = g->ow - b < AVG_BLOCK ? g->ow : b + AVG_BLOCK;
                size_t y0, y1, x0, x1;
                window(g, oy, 0, &y0, &y1, &x0, &x1);
                for (size_t ox = b; ox < be; ox++) {
                    window(g, oy, ox, &y0, &y1, &x0, &x1);
                    v[ox - b] = dyo[ox] / (float)((y1 - y0) * (x1 - x0));
                }
                for (size_t iy = y0; iy < y1; iy++) {
                    float *row = dxc + iy * g->w;
                    for (size_t kx = g->kw; kx-- > 0;) {
                        size_t lo, hi;
                        tap_range(kx, g->pw, sw, g->w, g->ow, &lo, &hi);
                        lo = lo > b ? lo : b;
                        hi = hi < be ? hi : be;
                        size_t off = kx - g->pw;
                        if (sw == 1)
                            for (size_t ox = lo; ox < hi; ox++)
                                row[ox + off] += v[ox - b];
                        else
                            for (size_t ox = lo; ox < hi; ox++)
                                row[ox * sw + off] += v[ox - b];
                    }
                }
            }
        }
    }
}


/* ---- batch-norm, one channel per task ------------------------------------ */

#define LANES 16

/* The LANES partial sums as two GCC/Clang vectors of 8 (lanes 0-7 and
 * 8-15): kept in registers, where arrays of LANES floats went through the
 * stack at every step (and 16-wide vectors too, on AVX2). The same lanes
 * and the same order of additions as the plain arrays of the fallback. */
#if defined(__GNUC__) || defined(__clang__)
typedef float lanes8 __attribute__((vector_size(8 * sizeof(float))));
typedef int32_t lanes8i __attribute__((vector_size(8 * sizeof(float))));
#define LANES_VEC 1
#define LANES_ZERO(v) lanes8 v##0 = {0}, v##1 = {0}
#define LANES_AT(v, l) ((l) < 8 ? v##0[(l)] : v##1[(l) - 8])
/* (memcpy: unaligned loads; a macro, since a function returning a vector
 * changes the ABI in the baseline clone) */
#define LANES_LOAD(v, p) memcpy(&(v), (p), sizeof(v))
#else
#define LANES_ZERO(v) float v[LANES] = {0}
#define LANES_AT(v, l) (v)[(l)]
#endif

/* lanes a[0..LANES) added in order */
#define LANES_TOTAL(t, a)                     \
    do {                                      \
        t = 0;                                \
        for (size_t l_ = 0; l_ < LANES; l_++) \
            t += LANES_AT(a, l_);             \
    } while (0)

/* lane l of the step at k: x[k + l] (for the scalar tail, lane 0) */
#ifdef LANES_VEC
#define LANES_ADD0(v, val) (v##0[0] += (val))
#else
#define LANES_ADD0(v, val) ((v)[0] += (val))
#endif

/* sum of x[0..n) and of (x - m)^2 in LANES fixed partial sums, added in a
 * fixed order: vectorises, and stays deterministic. */
static inline void lane_sums(const float *x, size_t n, float m, float *s1, float *s2)
{
    LANES_ZERO(a);
    LANES_ZERO(b);
    size_t k = 0;
    for (; k + LANES <= n; k += LANES) {
#ifdef LANES_VEC
        lanes8 v0, v1, d0, d1;
        LANES_LOAD(v0, x + k);
        LANES_LOAD(v1, x + k + 8);
        d0 = v0 - m, d1 = v1 - m;
        a0 += v0, a1 += v1;
        b0 += d0 * d0, b1 += d1 * d1;
#else
        for (size_t l = 0; l < LANES; l++) {
            float d = x[k + l] - m;
            a[l] += x[k + l];
            b[l] += d * d;
        }
#endif
    }
    for (; k < n; k++) {
        float d = x[k] - m;
        LANES_ADD0(a, x[k]);
        LANES_ADD0(b, d * d);
    }
    LANES_TOTAL(*s1, a);
    LANES_TOTAL(*s2, b);
}

/* sum of g and of g * (x - m) the same way, g = dy, or dy where 0 < y <
 * top (a fused relu / relu6 with output y) when y is not NULL */
static inline void lane_dot_any(const float *dy, const float *y, float top, const float *x,
                                size_t n, float m, float *s1, float *s2)
{
    LANES_ZERO(a);
    LANES_ZERO(b);
    size_t k = 0;
    for (; k + LANES <= n; k += LANES) {
#ifdef LANES_VEC
        lanes8 g0, g1, v0, v1;
        LANES_LOAD(g0, dy + k);
        LANES_LOAD(g1, dy + k + 8);
        if (y) {
            lanes8 y0, y1;
            LANES_LOAD(y0, y + k);
            LANES_LOAD(y1, y + k + 8);
            g0 = (lanes8)((lanes8i)g0 & ((y0 > 0.0f) & (y0 < top)));
            g1 = (lanes8)((lanes8i)g1 & ((y1 > 0.0f) & (y1 < top)));
        }
        LANES_LOAD(v0, x + k);
        LANES_LOAD(v1, x + k + 8);
        a0 += g0, a1 += g1;
        b0 += g0 * (v0 - m), b1 += g1 * (v1 - m);
#else
        for (size_t l = 0; l < LANES; l++) {
            float g = !y || (y[k + l] > 0 && y[k + l] < top) ? dy[k + l] : 0.0f;
            a[l] += g;
            b[l] += g * (x[k + l] - m);
        }
#endif
    }
    for (; k < n; k++) {
        float g = !y || (y[k] > 0 && y[k] < top) ? dy[k] : 0.0f;
        LANES_ADD0(a, g);
        LANES_ADD0(b, g * (x[k] - m));
    }
    LANES_TOTAL(*s1, a);
    LANES_TOTAL(*s2, b);
}

/* ---- batch-norm, chunk-major -------------------------------------------------
 *
 * One task per channel would read each channel as n planes of hw floats
 * that lie C * hw floats apart: a new memory stream every few KiB, which
 * costs more than the arithmetic once activations outgrow the cache (it
 * measured 9% slower than this on the reference CNN). Here every pass walks
 * whole samples (one task per chunk of the batch, contiguous memory): per
 * chunk, the per-channel sums (float lane sums per sample and plane, added
 * in double in sample order) go to the chunk's slot of r->partial; the
 * slots are added in chunk order (so the result does not depend on the
 * thread count) and a second pass per chunk applies the per-channel
 * coefficients. */

static double *bnc_slot(const hwnas__be_run *r, size_t ch)
{
    uintptr_t p = (uintptr_t)(r->partial + ch * r->partial_stride);
    return (double *)(void *)((p + 7) & ~(uintptr_t)7);
}

typedef struct bnc_task {
    const hwnas__be_run *r;
    const hwnas__be_bn *g;
    const float *x, *y, *dy, *coef;
    float *yw, *dx;
    int acc;
} bnc_task;

/* Sums per chunk: forward sum x and sum (x - shift)^2 (shift: coef, the
 * first sample's first value of each channel); backward sum dy and sum
 * dy (x - mean) (mean: coef), dy masked by a fused activation. */
HOT static int bnc_sums_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const bnc_task *t = data;
    const hwnas__be_bn *g = t->g;
    size_t lo, hi, hw = g->hw, C = g->c, sz = C * hw;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    double *d = bnc_slot(t->r, ch);
    memset(d, 0, 2 * C * sizeof *d);
    float top = g->act == HWNAS__BE_ACT_RELU6 ? 6.0f : INFINITY;
    for (size_t s = lo; s < hi; s++)
        for (size_t c = 0; c < C; c++) {
            size_t o = s * sz + c * hw;
            float a, b;
            if (!t->dy)
                lane_sums(t->x + o, hw, t->coef[c], &a, &b);
            else
                lane_dot_any(t->dy + o, g->act != HWNAS__BE_ACT_NONE ? t->y + o : NULL, top,
                             t->x + o, hw, t->coef[c], &a, &b);
            d[c] += a, d[C + c] += b;
        }
    return 0;
}

/* slot 0 = the sum of the chunks' slots, in chunk order */
static void bnc_merge(const hwnas__be_run *r, size_t C)
{
    double *d0 = bnc_slot(r, 0);
    for (size_t ch = 1; ch < hwnas__be_chunks(r->n); ch++) {
        const double *d = bnc_slot(r, ch);
        for (size_t k = 0; k < 2 * C; k++)
            d0[k] += d[k];
    }
}

/* y = act(a[c] x + b[c]); coef: a[C] then b[C] */
HOT static int bnc_apply_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const bnc_task *t = data;
    const hwnas__be_bn *g = t->g;
    size_t lo, hi, hw = g->hw, C = g->c, sz = C * hw;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    const float *A = t->coef, *B = A + C;
    float top = g->act == HWNAS__BE_ACT_RELU6 ? 6.0f : INFINITY;
    for (size_t s = lo; s < hi; s++)
        for (size_t c = 0; c < C; c++) {
            const float *xc = t->x + s * sz + c * hw;
            float *yc = t->yw + s * sz + c * hw, a = A[c], b = B[c];
            if (g->act != HWNAS__BE_ACT_NONE)
                for (size_t k = 0; k < hw; k++) {
                    float v = a * xc[k] + b;
                    v = v > 0 ? v : 0.0f;
                    yc[k] = v < top ? v : top;
                }
            else
                for (size_t k = 0; k < hw; k++)
                    yc[k] = a * xc[k] + b;
        }
    return 0;
}

/* dx (+)= k1 (g - k2 - (x - mean) k3), g = dy masked by a fused
 * activation; coef: k1[C], k2[C], k3[C], mean[C] */
HOT static int bnc_dx_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const bnc_task *t = data;
    const hwnas__be_bn *g = t->g;
    size_t lo, hi, hw = g->hw, C = g->c, sz = C * hw;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    const float *K1 = t->coef, *K2 = K1 + C, *K3 = K2 + C, *M = K3 + C;
    float top = g->act == HWNAS__BE_ACT_RELU6 ? 6.0f : INFINITY;
    int masked = g->act != HWNAS__BE_ACT_NONE;
    for (size_t s = lo; s < hi; s++)
        for (size_t c = 0; c < C; c++) {
            size_t o = s * sz + c * hw;
            const float *xc = t->x + o, *dc = t->dy + o, *yc = t->y + o;
            float *dxc = t->dx + o, k1 = K1[c], k2 = K2[c], k3 = K3[c], m = M[c];
            if (masked && t->acc)
                for (size_t k = 0; k < hw; k++)
                    dxc[k] += k1 * ((yc[k] > 0 && yc[k] < top ? dc[k] : 0.0f) - k2 -
                                    (xc[k] - m) * k3);
            else if (masked)
                for (size_t k = 0; k < hw; k++)
                    dxc[k] = k1 * ((yc[k] > 0 && yc[k] < top ? dc[k] : 0.0f) - k2 -
                                   (xc[k] - m) * k3);
            else if (t->acc)
                for (size_t k = 0; k < hw; k++)
                    dxc[k] += k1 * (dc[k] - k2 - (xc[k] - m) * k3);
            else
                for (size_t k = 0; k < hw; k++)
                    dxc[k] = k1 * (dc[k] - k2 - (xc[k] - m) * k3);
        }
    return 0;
}

/* Per-channel coefficients, once the slots are merged into slot 0: slot
 * 1's floats (it exists whatever the chunk count: r->partial holds
 * HWNAS__BE_MAX_CHUNKS slots). */
static float *bnc_coef(const hwnas__be_run *r)
{
    return r->partial + r->partial_stride;
}

static int bnc_forward(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x, float *y,
                       const float *gb, float *running, float *aux)
{
    size_t C = g->c, chunks = hwnas__be_chunks(r->n);
    const float *gamma = gb, *beta = gb + C;
    float *rmean = running, *rvar = running + C, *coef = bnc_coef(r);
    bnc_task t = {0};
    t.r = r, t.g = g, t.x = x, t.yw = y;
    int rc = HWNAS_OK;
    if (r->train) {
        /* shifted by the channel's first value for a stable variance;
         * kept in aux (slot 1 holds chunk 1's sums until the merge) */
        float *shift = aux;
        for (size_t c = 0; c < C; c++)
            shift[c] = x[c * g->hw];
        t.coef = shift;
        if ((rc = hwnas_parallel_for(r->ctx, chunks, bnc_sums_task, &t)) != HWNAS_OK)
            return rc;
        bnc_merge(r, C);
        const double *d = bnc_slot(r, 0);
        double m = (double)(r->n * g->hw), mo = g->momentum;
        for (size_t c = 0; c < C; c++) {
            double mean = d[c] / m, dm = mean - shift[c]; /* shift[c] = aux[c]: read first */
            double var = d[C + c] / m - dm * dm;
            var = var > 0 ? var : 0;
            double invstd = 1.0 / sqrt(var + g->eps);
            rmean[c] = (float)((1 - mo) * rmean[c] + mo * mean);
            rvar[c] = (float)((1 - mo) * rvar[c] + mo * (m > 1 ? var * m / (m - 1) : var));
            aux[c] = (float)mean, aux[C + c] = (float)invstd;
            coef[c] = (float)(gamma[c] * invstd);
            coef[C + c] = (float)(beta[c] - gamma[c] * invstd * mean);
        }
    } else {
        for (size_t c = 0; c < C; c++) {
            double mean = rmean[c], invstd = 1.0 / sqrt((double)rvar[c] + g->eps);
            coef[c] = (float)(gamma[c] * invstd);
            coef[C + c] = (float)(beta[c] - gamma[c] * invstd * mean);
        }
    }
    t.coef = coef;
    return hwnas_parallel_for(r->ctx, chunks, bnc_apply_task, &t);
}

static int bnc_backward(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x,
                        const float *y, const float *dy, const float *gb, const float *aux,
                        float *dx, int acc, float *dgb)
{
    size_t C = g->c, chunks = hwnas__be_chunks(r->n);
    float *coef = bnc_coef(r);
    bnc_task t = {0};
    t.r = r, t.g = g, t.x = x, t.y = y, t.dy = dy, t.dx = dx, t.acc = acc;
    t.coef = aux; /* the batch means */
    int rc = hwnas_parallel_for(r->ctx, chunks, bnc_sums_task, &t);
    if (rc != HWNAS_OK)
        return rc;
    bnc_merge(r, C);
    const double *d = bnc_slot(r, 0);
    double m = (double)(r->n * g->hw);
    for (size_t c = 0; c < C; c++) {
        float invstd = aux[C + c];
        double dg = d[C + c] * invstd;
        dgb[c] = (float)dg;
        dgb[C + c] = (float)d[c];
        coef[c] = gb[c] * invstd;
        coef[C + c] = (float)(d[c] / m);
        coef[2 * C + c] = (float)(dg / m) * invstd;
        coef[3 * C + c] = aux[c];
    }
    if (!dx)
        return HWNAS_OK;
    t.coef = coef;
    return hwnas_parallel_for(r->ctx, chunks, bnc_dx_task, &t);
}

int hwnas__ob_bn_forward(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x, float *y,
                         const float *gb, float *running, float *aux)
{
    if (r->partial_stride < HWNAS__BE_BN_PARTIAL(g->c))
        return hwnas__error(HWNAS_EINVAL, "batch-norm: partial slots of %zu floats, %zu needed",
                            r->partial_stride, HWNAS__BE_BN_PARTIAL(g->c));
    return bnc_forward(r, g, x, y, gb, running, aux);
}

int hwnas__ob_bn_backward(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x,
                          const float *y, const float *dy, const float *gb, const float *aux,
                          float *dx, int acc, float *dgb)
{
    if (r->partial_stride < HWNAS__BE_BN_PARTIAL(g->c))
        return hwnas__error(HWNAS_EINVAL, "batch-norm: partial slots of %zu floats, %zu needed",
                            r->partial_stride, HWNAS__BE_BN_PARTIAL(g->c));
    return bnc_backward(r, g, x, y, dy, gb, aux, dx, acc, dgb);
}

/* ---- entry points: pooling and activations, one task per chunk --------- */

typedef struct op_task {
    const hwnas__be_run *r;
    const hwnas__be_pool *pool;
    const hwnas__be_act *act;
    const float *x, *y, *dy, *slope;
    float *yw, *dx;
    int acc;
} op_task;

HOT static int pool_forward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const pool_geom *g = t->pool;
    size_t lo, hi, isz = g->c * g->h * g->w, sz = g->c * g->oh * g->ow;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    if (!g->max && avg_grid_fits(g)) {
        float pad[GRID_MAX], acc[GRID_MAX], cnt[GRID_MAX];
        memset(pad, 0, ((g->h + 2 * g->ph) * (g->w + 2 * g->pw) + g->kw) * sizeof *pad);
        avg_counts(g, cnt);
        for (size_t s = lo; s < hi; s++)
            avg_forward_grid(g, t->x + s * isz, t->yw + s * sz, pad, acc, cnt);
        return 0;
    }
    for (size_t s = lo; s < hi; s++)
        if (max2(g))
            max2_forward_sample(g, t->x + s * isz, t->yw + s * sz);
        else if (g->max)
            pool_sample(g, t->x + s * isz, t->yw + s * sz, NULL, NULL);
        else
            avg_forward_sample(g, t->x + s * isz, t->yw + s * sz);
    return 0;
}

HOT static int pool_backward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const pool_geom *g = t->pool;
    size_t lo, hi, isz = g->c * g->h * g->w, sz = g->c * g->oh * g->ow;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    /* 2 x 2 max windows over an even plane cover every input: stored */
    int set = !t->acc && max2(g) && g->h % 2 == 0 && g->w % 2 == 0;
    if (!t->acc && !set)
        memset(t->dx + lo * isz, 0, (hi - lo) * isz * sizeof *t->dx);
    if (!g->max && avg_grid_fits(g)) {
        float vpad[GRID_MAX], dacc[GRID_MAX], cnt[GRID_MAX];
        memset(vpad, 0, ((g->h + g->kh - 1) * (g->w + g->kw - 1) + g->kw) * sizeof *vpad);
        avg_counts(g, cnt);
        for (size_t s = lo; s < hi; s++)
            avg_backward_grid(g, t->dy + s * sz, t->dx + s * isz, vpad, dacc, cnt);
        return 0;
    }
    for (size_t s = lo; s < hi; s++)
        if (max2(g))
            max2_backward_sample(g, t->x + s * isz, t->dy + s * sz, t->dx + s * isz, set);
        else if (g->max)
            pool_sample(g, t->x + s * isz, NULL, t->dy + s * sz, t->dx + s * isz);
        else
            avg_backward_sample(g, t->dy + s * sz, t->dx + s * isz);
    return 0;
}

int hwnas__ob_pool_forward(const hwnas__be_run *r, const hwnas__be_pool *g, const float *x,
                           float *y)
{
    op_task t = {0};
    t.r = r, t.pool = g, t.x = x, t.yw = y;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), pool_forward_task, &t);
}

int hwnas__ob_pool_backward(const hwnas__be_run *r, const hwnas__be_pool *g, const float *x,
                            const float *dy, float *dx, int acc)
{
    op_task t = {0};
    t.r = r, t.pool = g, t.x = x, t.dy = dy, t.dx = dx, t.acc = acc;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), pool_backward_task, &t);
}

/* sum of dy x over x <= 0 (prelu's slope gradient) in LANES fixed lanes */
static inline float prelu_slope_sum(const float *x, const float *dy, size_t n)
{
    LANES_ZERO(a);
    size_t k = 0;
    for (; k + LANES <= n; k += LANES) {
#ifdef LANES_VEC
        lanes8 x0, x1, d0, d1;
        LANES_LOAD(x0, x + k);
        LANES_LOAD(x1, x + k + 8);
        LANES_LOAD(d0, dy + k);
        LANES_LOAD(d1, dy + k + 8);
        /* !(x > 0): NaN counts, as in the scalar form */
        a0 += (lanes8)((lanes8i)(d0 * x0) & ~(x0 > 0.0f));
        a1 += (lanes8)((lanes8i)(d1 * x1) & ~(x1 > 0.0f));
#else
        for (size_t l = 0; l < LANES; l++)
            a[l] += x[k + l] > 0 ? 0.0f : dy[k + l] * x[k + l];
#endif
    }
    for (; k < n; k++)
        LANES_ADD0(a, x[k] > 0 ? 0.0f : dy[k] * x[k]);
    float t;
    LANES_TOTAL(t, a);
    return t;
}

HOT static int act_forward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const hwnas__be_act *g = t->act;
    size_t lo, hi, hw = g->hw, sz = g->c * hw;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    for (size_t s = lo; s < hi; s++) {
        if (!t->slope) {
            act_forward(t->x + s * sz, t->yw + s * sz, sz, g->fn, g->alpha);
            continue;
        }
        for (size_t c = 0; c < g->c; c++)
            act_forward(t->x + s * sz + c * hw, t->yw + s * sz + c * hw, hw, g->fn, t->slope[c]);
    }
    return 0;
}

HOT static int act_backward_task(size_t ch, size_t worker, void *data)
{
    (void)worker;
    const op_task *t = data;
    const hwnas__be_act *g = t->act;
    size_t lo, hi, hw = g->hw, sz = g->c * hw;
    hwnas__be_chunk_range(t->r->n, ch, &lo, &hi);
    const float *x = t->x, *y = t->y, *dy = t->dy;
    float *dx = t->dx;
    int prelu = t->slope != NULL;
    float *ds = t->r->partial + ch * t->r->partial_stride;
    if (prelu)
        memset(ds, 0, g->c * sizeof *ds);
    for (size_t s = lo; s < hi; s++) {
        size_t o = s * sz;
        if (!prelu) {
            if (dx)
                act_backward(x + o, y + o, dy + o, dx + o, sz, g->fn, g->alpha, t->acc);
            continue;
        }
        for (size_t c = 0; c < g->c; c++) {
            size_t oc = o + c * hw;
            ds[c] += prelu_slope_sum(x + oc, dy + oc, hw);
            if (dx)
                act_backward(x + oc, y + oc, dy + oc, dx + oc, hw, g->fn, t->slope[c], t->acc);
        }
    }
    return 0;
}

int hwnas__ob_act_forward(const hwnas__be_run *r, const hwnas__be_act *g, const float *x,
                          float *y, const float *slope)
{
    op_task t = {0};
    t.r = r, t.act = g, t.x = x, t.yw = y, t.slope = slope;
    return hwnas_parallel_for(r->ctx, hwnas__be_chunks(r->n), act_forward_task, &t);
}

int hwnas__ob_act_backward(const hwnas__be_run *r, const hwnas__be_act *g, const float *x,
                           const float *y, const float *dy, const float *slope, float *dx,
                           int acc, float *dslope)
{
    op_task t = {0};
    t.r = r, t.act = g, t.x = x, t.y = y, t.dy = dy, t.slope = slope, t.dx = dx, t.acc = acc;
    size_t chunks = hwnas__be_chunks(r->n);
    int rc = hwnas_parallel_for(r->ctx, chunks, act_backward_task, &t);
    if (rc == HWNAS_OK && slope)
        hwnas__be_reduce_partials(dslope, r, g->c, chunks);
    return rc;
}
