/* Quantised layers: quantisation of weights and inputs, int8 convolution
 * and linear layers on the lookup GEMM with exact zero-point corrections,
 * and dequantisation. */
#include <math.h>
#include <string.h>

#include "int8_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

static int32_t clamp_i(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static int32_t value_of(uint8_t code, int is_signed)
{
    return is_signed ? (int32_t)(int8_t)code : (int32_t)code;
}

/* Asymmetric unsigned parameters of [lo, hi] (TF's nudged zero point). */
static void asym_params(float *scale, int32_t *zero, float lo, float hi)
{
    lo = lo < 0 ? lo : 0;
    hi = hi > 0 ? hi : 0;
    float s = (hi - lo) / 255.0f;
    /* hi - lo of two finite floats may overflow (a range of -3e38 to
     * 3e38): then in double, so that -lo / s stays at most 255 (with s = 1
     * it was out of any integer's range) */
    if (!isfinite(s))
        s = (float)(((double)hi - (double)lo) / 255.0);
    if (!(s > 0) || !isfinite(s))
        s = 1.0f;
    *scale = s;
    *zero = clamp_i((int32_t)lrintf(-lo / s), 0, 255);
}

void hwnas__qlayer_set_input_range(hwnas__qlayer *L, float lo, float hi)
{
    L->in_min = lo < 0 ? lo : 0;
    L->in_max = hi > 0 ? hi : 0;
    int32_t z;
    asym_params(&L->in_scale, &z, L->in_min, L->in_max);
    if (L->lut->is_signed) {
        L->in_zero = z - 128;
        L->in_zero_code = (uint8_t)(z ^ 0x80);
    } else {
        L->in_zero = z;
        L->in_zero_code = (uint8_t)z;
    }
}

void hwnas__qlayer_quantise_input(uint8_t *q, const float *x, size_t n, const hwnas__qlayer *L)
{
    float inv = 1.0f / L->in_scale;
    uint8_t flip = L->lut->is_signed ? 0x80 : 0;
    float zf = (float)(L->in_zero_code ^ flip);
    for (size_t i = 0; i < n; i++) {
        float v = x[i] * inv + zf;
        /* NaN (an activation that overflowed) becomes 0: converting it to
         * an integer is undefined */
        v = v > 0.0f ? (v < 255.0f ? v : 255.0f) : 0.0f;
        /* v >= 0: truncation of v + 0.5 rounds half up */
        q[i] = (uint8_t)((uint8_t)(int32_t)(v + 0.5f) ^ flip);
    }
}

static void quantise_rows(hwnas__qlayer *L, size_t c0, size_t c1)
{
    size_t kg = L->kg;
    const float *w = L->wf + c0 * kg;
    float lo = 0, hi = 0, amax = 0;
    for (size_t j = 0; j < (c1 - c0) * kg; j++) {
        lo = w[j] < lo ? w[j] : lo;
        hi = w[j] > hi ? w[j] : hi;
    }
    amax = -lo > hi ? -lo : hi;
    float s;
    int32_t z;
    if (L->lut->is_signed) {
        s = amax / 127.0f;
        if (!(s > 0) || !isfinite(s))
            s = 1.0f;
        z = 0;
    } else {
        asym_params(&s, &z, lo, hi);
    }
    float inv = 1.0f / s;
    for (size_t c = c0; c < c1; c++) {
        int32_t sum = 0;
        for (size_t k = 0; k < kg; k++) {
            int32_t v = (int32_t)lrintf(L->wf[c * kg + k] * inv) + z;
            v = L->lut->is_signed ? clamp_i(v, -127, 127) : clamp_i(v, 0, 255);
            L->wq[c * kg + k] = (uint8_t)v;
            sum += v;
        }
        L->wsum[c] = sum;
        L->wzero[c] = z;
        L->wscale[c] = s;
    }
}

void hwnas__qlayer_quantise_weights(hwnas__qlayer *L)
{
    if (L->per_channel) {
        for (size_t c = 0; c < L->cout; c++)
            quantise_rows(L, c, c + 1);
    } else {
        quantise_rows(L, 0, L->cout);
    }
}

/* Columns of one group of one sample: col[(c * kh + ky) * kw + kx][o]. */
static void im2col_u8(uint8_t *col, const uint8_t *x, const hwnas__qlayer *L, uint8_t pad)
{
    size_t p = L->p;
    for (size_t c = 0; c < L->cin_g; c++) {
        const uint8_t *xc = x + c * L->h * L->w;
        for (size_t ky = 0; ky < L->kh; ky++)
            for (size_t kx = 0; kx < L->kw; kx++) {
                uint8_t *row = col + ((c * L->kh + ky) * L->kw + kx) * p;
                for (size_t oy = 0; oy < L->oh; oy++) {
                    uint8_t *r = row + oy * L->ow;
                    ptrdiff_t iy = (ptrdiff_t)(oy * L->sh + ky * L->dh) - (ptrdiff_t)L->ph;
                    if (iy < 0 || iy >= (ptrdiff_t)L->h) {
                        memset(r, pad, L->ow);
                        continue;
                    }
                    const uint8_t *xr = xc + (size_t)iy * L->w;
                    for (size_t ox = 0; ox < L->ow; ox++) {
                        ptrdiff_t ix =
                            (ptrdiff_t)(ox * L->sw + kx * L->dw) - (ptrdiff_t)L->pw;
                        r[ox] = ix < 0 || ix >= (ptrdiff_t)L->w ? pad : xr[ix];
                    }
                }
            }
    }
}

static int32_t corrected(int32_t acc, int64_t za, int64_t wsum, int64_t zw, int64_t asum,
                         int64_t K)
{
    int64_t v = (int64_t)acc - za * wsum - zw * asum + K * za * zw;
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

void hwnas__qlayer_conv_sample(int32_t *out, const hwnas__qlayer *L, const uint8_t *xq,
                               uint8_t *col, int32_t *colsum, int path)
{
    size_t p = L->p, kg = L->kg;
    int sgn = L->lut->is_signed;
    for (size_t g = 0; g < L->groups; g++) {
        im2col_u8(col, xq + g * L->cin_g * L->h * L->w, L, L->in_zero_code);
        for (size_t o = 0; o < p; o++)
            colsum[o] = 0;
        for (size_t k = 0; k < kg; k++) {
            const uint8_t *r = col + k * p;
            if (sgn)
                for (size_t o = 0; o < p; o++)
                    colsum[o] += (int8_t)r[o];
            else
                for (size_t o = 0; o < p; o++)
                    colsum[o] += r[o];
        }
        int32_t *y = out + g * L->cout_g * p;
        hwnas__lut_gemm(y, p, L->wq + g * L->cout_g * kg, kg, col, p, L->cout_g, kg, p, L->lut,
                        path);
        for (size_t m = 0; m < L->cout_g; m++) {
            size_t co = g * L->cout_g + m;
            for (size_t o = 0; o < p; o++)
                y[m * p + o] = corrected(y[m * p + o], L->in_zero, L->wsum[co], L->wzero[co],
                                         colsum[o], (int64_t)kg);
        }
    }
}

int hwnas__qlayer_linear(hwnas_context *ctx, int32_t *out, const hwnas__qlayer *L,
                         const uint8_t *xq, size_t n, uint8_t *at, int32_t *acc,
                         int32_t *colsum, int path)
{
    size_t F = L->kg, M = L->cout;
    int sgn = L->lut->is_signed;
    for (size_t s = 0; s < n; s++) {
        int32_t sum = 0;
        for (size_t k = 0; k < F; k++) {
            at[k * n + s] = xq[s * F + k];
            sum += value_of(xq[s * F + k], sgn);
        }
        colsum[s] = sum;
    }
    int rc = hwnas__lut_gemm_mt(ctx, acc, n, L->wq, F, at, n, M, F, n, L->lut, path);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t s = 0; s < n; s++)
        for (size_t m = 0; m < M; m++)
            out[s * M + m] = corrected(acc[m * n + s], L->in_zero, L->wsum[m], L->wzero[m],
                                       colsum[s], (int64_t)F);
    return HWNAS_OK;
}

void hwnas__qlayer_dequant(float *y, const int32_t *acc, size_t count, size_t co,
                           const hwnas__qlayer *L)
{
    float s = L->in_scale * L->wscale[co], b = L->bias[co];
    for (size_t j = 0; j < count; j++)
        y[j] = (float)acc[j] * s + b;
}
