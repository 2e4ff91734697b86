/* The lookup GEMM on AVX-512 VBMI: a weight's table row (256 products of
 * 16 bits) is held in eight registers as 256 low bytes and 256 high bytes,
 * and 64 activation bytes at a time pick their products with two-table
 * byte permutes (vpermi2b reads 128 bytes with 7 index bits; the 8th bit
 * chooses between two of them). Low and high bytes of even and odd columns
 * are summed in 16-bit lanes for up to 256 weights, then widened into
 * int32: sum = low + 256 * high, exact. Signed tables store the high byte
 * with its top bit flipped (p + 32768 >= 0) and the bias is taken off at
 * the end, so both kinds share one kernel. Compiled for the target by
 * function attribute and only called where the CPU has VBMI. */
#include <string.h>

#include "int8_internal.h"

#if HWNAS__LUT_HAVE_VBMI
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))
/* Columns per block: two vectors of 64 activation bytes. */
#define VB 128

TARGET static inline __m512i lookup(__m512i a, __mmask64 top, __m512i t0, __m512i t1,
                                    __m512i t2, __m512i t3)
{
    return _mm512_mask_blend_epi8(top, _mm512_permutex2var_epi8(t0, a, t1),
                                  _mm512_permutex2var_epi8(t2, a, t3));
}

/* acc32[0..1] (words 0..15 and 16..31) += lo + 256 * hi, zero-extended. */
TARGET static inline void widen_add(__m512i *acc32, __m512i lo, __m512i hi)
{
    __m512i l0 = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(lo));
    __m512i l1 = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(lo, 1));
    __m512i h0 = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(hi));
    __m512i h1 = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(hi, 1));
    acc32[0] = _mm512_add_epi32(acc32[0], _mm512_add_epi32(l0, _mm512_slli_epi32(h0, 8)));
    acc32[1] = _mm512_add_epi32(acc32[1], _mm512_add_epi32(l1, _mm512_slli_epi32(h1, 8)));
}

TARGET static void block(int32_t *c, const uint8_t *w, const uint8_t *A, size_t lda,
                         size_t K, size_t len, const uint8_t *split, uint32_t bias)
{
    __mmask64 m0 = len >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << len) - 1);
    __mmask64 m1 = len <= 64 ? 0 : len >= 128 ? ~(__mmask64)0 : (((__mmask64)1 << (len - 64)) - 1);
    const __m512i low = _mm512_set1_epi16(0x00ff);
    /* [tile][even/odd][half]: int32 sums of column 64 tile + 2 (16 half + j) + parity */
    __m512i acc[2][2][2];
    for (int i = 0; i < 8; i++)
        (&acc[0][0][0])[i] = _mm512_setzero_si512();
    for (size_t k0 = 0; k0 < K; k0 += 256) {
        size_t k1 = K - k0 < 256 ? K : k0 + 256;
        __m512i le0 = _mm512_setzero_si512(), lo0 = le0, he0 = le0, ho0 = le0;
        __m512i le1 = le0, lo1 = le0, he1 = le0, ho1 = le0;
        for (size_t k = k0; k < k1; k++) {
            const uint8_t *t = split + (size_t)w[k] * 512;
            __m512i L0 = _mm512_loadu_si512(t), L1 = _mm512_loadu_si512(t + 64);
            __m512i L2 = _mm512_loadu_si512(t + 128), L3 = _mm512_loadu_si512(t + 192);
            __m512i H0 = _mm512_loadu_si512(t + 256), H1 = _mm512_loadu_si512(t + 320);
            __m512i H2 = _mm512_loadu_si512(t + 384), H3 = _mm512_loadu_si512(t + 448);
            const uint8_t *a = A + k * lda;
            __m512i a0 = _mm512_maskz_loadu_epi8(m0, a);
            __m512i a1 = _mm512_maskz_loadu_epi8(m1, a + 64);
            __mmask64 s0 = _mm512_movepi8_mask(a0), s1 = _mm512_movepi8_mask(a1);
            __m512i l = lookup(a0, s0, L0, L1, L2, L3), h = lookup(a0, s0, H0, H1, H2, H3);
            le0 = _mm512_add_epi16(le0, _mm512_and_si512(l, low));
            lo0 = _mm512_add_epi16(lo0, _mm512_srli_epi16(l, 8));
            he0 = _mm512_add_epi16(he0, _mm512_and_si512(h, low));
            ho0 = _mm512_add_epi16(ho0, _mm512_srli_epi16(h, 8));
            l = lookup(a1, s1, L0, L1, L2, L3), h = lookup(a1, s1, H0, H1, H2, H3);
            le1 = _mm512_add_epi16(le1, _mm512_and_si512(l, low));
            lo1 = _mm512_add_epi16(lo1, _mm512_srli_epi16(l, 8));
            he1 = _mm512_add_epi16(he1, _mm512_and_si512(h, low));
            ho1 = _mm512_add_epi16(ho1, _mm512_srli_epi16(h, 8));
        }
        widen_add(acc[0][0], le0, he0);
        widen_add(acc[0][1], lo0, ho0);
        widen_add(acc[1][0], le1, he1);
        widen_add(acc[1][1], lo1, ho1);
    }
    uint32_t sums[2][2][32];
    for (int t = 0; t < 2; t++)
        for (int p = 0; p < 2; p++) {
            _mm512_storeu_si512(sums[t][p], acc[t][p][0]);
            _mm512_storeu_si512(sums[t][p] + 16, acc[t][p][1]);
        }
    for (size_t n = 0; n < len; n++)
        c[n] = (int32_t)(sums[n >> 6][n & 1][(n & 63) >> 1] - bias);
}

void hwnas__lut_gemm_vbmi(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw,
                          const uint8_t *A, size_t lda, size_t M, size_t K, size_t n0,
                          size_t n1, const hwnas__lut *lut)
{
    uint32_t bias = lut->is_signed ? (uint32_t)(32768u * K) : 0;
    for (size_t b = n0; b < n1; b += VB) {
        size_t len = n1 - b < VB ? n1 - b : VB;
        for (size_t m = 0; m < M; m++)
            block(C + m * ldc + b, W + m * ldw, A + b, lda, K, len, lut->split, bias);
    }
}

#endif
