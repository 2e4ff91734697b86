/*
 * libhwnas engine - int8 inference with approximate multipliers: the
 * lookup GEMM kernels (lut_gemm*.c) and the quantised layers (int8*.c).
 * Not installed; not part of the ABI. See doc/int8.md.
 *
 * Operand codes: every 8-bit operand is a byte. For an unsigned multiplier
 * its value is the byte (0..255); for a signed one the byte is the two's
 * complement of an int8 value (-128..127). Table row w (the weight) holds
 * the product of every activation byte a with w, as the multiplier's table
 * says: hwnas_axmul_table16_by_weight()[w * 256 + a].
 */
#ifndef HWNAS_INT8_INTERNAL_H
#define HWNAS_INT8_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine_internal.h"
#include "hwnas/axmul.h"
#include "hwnas/data.h"
#include "hwnas/quant.h"

/* Largest K (products summed into one int32) of a lookup GEMM: 32768
 * products of at most 65535 stay below 2^31. */
#define HWNAS__LUT_MAX_K 32768

/* Kernel paths. Every path gives bit-identical results. */
enum {
    HWNAS__LUT_AUTO = 0,   /* the fastest the CPU has */
    HWNAS__LUT_SCALAR = 1, /* portable, weight-stationary */
    HWNAS__LUT_VBMI = 2,   /* AVX-512 VBMI byte permutes, table row in registers */
    HWNAS__LUT_PATHS = 3
};

/* A multiplier prepared for the kernels (owns copies of its tables). */
typedef struct hwnas__lut {
    uint16_t *by_weight;  /* 65536: product pattern of (a, w) at w * 256 + a */
    uint8_t *split;       /* 131072: row w is 512 bytes, low bytes of the 256
                             products then high bytes (xor 0x80 when signed,
                             so every product is read as p + 32768 >= 0) */
    int is_signed;        /* products are int16 patterns, operands int8 bytes */
    uint64_t hash;        /* hwnas_axmul_hash of the source */
    char name[64];        /* hwnas_axmul_name of the source */
} hwnas__lut;

/* Prepare m. Errors: HWNAS_ENOMEM. */
int hwnas__lut_init(hwnas__lut *lut, const hwnas_context *ctx, const hwnas_axmul *m);
void hwnas__lut_fini(hwnas__lut *lut, const hwnas_context *ctx);

/* 1 when path can run on this CPU (SCALAR always; AUTO always). */
int hwnas__lut_path_available(int path);
/* The path AUTO resolves to. */
int hwnas__lut_path_best(void);
const char *hwnas__lut_path_name(int path);

/*
 * C[m * ldc + n] = sum over k < K of P(W[m * ldw + k], A[k * lda + n]) for
 * m < M, n < N, where P(w, a) is the table's product (signed or unsigned
 * value). K <= HWNAS__LUT_MAX_K. Single-threaded. path: HWNAS__LUT_*; an
 * unavailable path falls back to SCALAR.
 */
void hwnas__lut_gemm(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw, const uint8_t *A,
                     size_t lda, size_t M, size_t K, size_t N, const hwnas__lut *lut, int path);

/* The same cut into column blocks run on the context's threads
 * (hwnas_parallel_for). Errors: those of hwnas_parallel_for. */
int hwnas__lut_gemm_mt(hwnas_context *ctx, int32_t *C, size_t ldc, const uint8_t *W,
                       size_t ldw, const uint8_t *A, size_t lda, size_t M, size_t K, size_t N,
                       const hwnas__lut *lut, int path);

/* Kernels behind the dispatch (columns [n0, n1) only). */
void hwnas__lut_gemm_scalar(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw,
                            const uint8_t *A, size_t lda, size_t M, size_t K, size_t n0,
                            size_t n1, const hwnas__lut *lut);

/* The VBMI kernel (lut_gemm_avx512.c) exists only where the compiler can
 * target it; elsewhere the dispatch never names it, so nothing stands in
 * for it. Where it exists it runs only on CPUs with VBMI. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HWNAS__LUT_HAVE_VBMI 1
void hwnas__lut_gemm_vbmi(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw,
                          const uint8_t *A, size_t lda, size_t M, size_t K, size_t n0,
                          size_t n1, const hwnas__lut *lut);
#else
#define HWNAS__LUT_HAVE_VBMI 0
#endif

/* Exact unsigned 8-bit GEMM with the same layout (C = W * A), for
 * comparison in benchmarks and tests. */
void hwnas__int8_gemm_exact(int32_t *C, size_t ldc, const uint8_t *W, size_t ldw,
                            const uint8_t *A, size_t lda, size_t M, size_t K, size_t N);

/* ---- quantised layers (int8_layer.c) ---------------------------------- */

/* One quantised conv2d / dwconv2d / linear node. A linear layer is a 1x1
 * convolution of a 1x1 image with F channels, run over the batch at once. */
typedef struct hwnas__qlayer {
    size_t node;               /* index in the net */
    int kind;                  /* HWNAS_NET_CONV2D, _DWCONV2D or _LINEAR */
    size_t cin, h, w;          /* input of one sample (linear: F, 1, 1) */
    size_t cout, oh, ow, p;    /* output, p = oh * ow */
    size_t groups, cin_g, cout_g;
    size_t kh, kw, sh, sw, ph, pw, dh, dw;
    size_t kg;                 /* cin_g * kh * kw = K of the GEMM */
    float *wf;                 /* cout * kg fp32 weights (BN folded in) */
    float *bias;               /* cout fp32 biases (BN folded in; 0 without) */
    uint8_t *wq;               /* cout * kg weight codes */
    int32_t *wsum;             /* cout: sum of the weight values of a row */
    int32_t *wzero;            /* cout: weight zero point (value domain) */
    float *wscale;             /* cout: weight scale */
    float in_min, in_max;      /* calibrated input range (contains 0) */
    float in_scale;            /* input scale */
    int32_t in_zero;           /* input zero point, value domain */
    uint8_t in_zero_code;      /* its byte (the padding byte) */
    const hwnas__lut *lut;     /* the multiplier, owned by the quant model */
    int per_channel;           /* weights quantised per output channel */
    const char *bn_name;       /* the folded batch-norm node's name, or NULL */
    size_t bn;                 /* the folded batch-norm node, 0 = none (node 0 is never
                                  a batch-norm: it has no input) */
} hwnas__qlayer;

/* Input quantisation parameters from [in_min, in_max] and the lut's
 * signedness (asymmetric, TF's nudging: zero is exactly representable). */
void hwnas__qlayer_set_input_range(hwnas__qlayer *L, float lo, float hi);

/* Quantise the fp32 weights for L->lut (per tensor or per channel;
 * asymmetric unsigned for unsigned multipliers, symmetric signed for signed
 * ones) and fill wq, wsum, wzero, wscale. */
void hwnas__qlayer_quantise_weights(hwnas__qlayer *L);

/* Quantise n floats to L's input codes. */
void hwnas__qlayer_quantise_input(uint8_t *q, const float *x, size_t n, const hwnas__qlayer *L);

/*
 * The int32 result of one sample of a convolution, zero points corrected:
 * out[co * p + o] = sum_k P(w, a) - za * sum_k w - zw * sum_k a + K za zw
 * over the group's K weights and input codes (padding reads the input zero
 * point). xq: the sample's cin * h * w input codes. col: kg * p bytes of
 * scratch; colsum: p int32 of scratch.
 */
void hwnas__qlayer_conv_sample(int32_t *out, const hwnas__qlayer *L, const uint8_t *xq,
                               uint8_t *col, int32_t *colsum, int path);

/* The same for a linear layer over n samples: xq n * F codes (sample-major),
 * out n * cout (sample-major). at: F * n bytes of scratch; acc: cout * n
 * int32 of scratch; colsum: n int32. Threads: hwnas__lut_gemm_mt. */
int hwnas__qlayer_linear(hwnas_context *ctx, int32_t *out, const hwnas__qlayer *L,
                         const uint8_t *xq, size_t n, uint8_t *at, int32_t *acc,
                         int32_t *colsum, int path);

/* Dequantise: y = in_scale * wscale[co] * acc + bias[co] for count values of
 * output channel co. */
void hwnas__qlayer_dequant(float *y, const int32_t *acc, size_t count, size_t co,
                           const hwnas__qlayer *L);

/* ---- quant models (int8.c), shared with fine-tuning (qat.c) ------------ */

/* Scratch of one worker for convolutions. */
typedef struct hwnas__quant_scratch {
    uint8_t *xs;      /* one sample's input codes */
    uint8_t *col;     /* kg * p column bytes */
    int32_t *acc;     /* cout * p accumulators */
    int32_t *colsum;  /* p column sums */
} hwnas__quant_scratch;

struct hwnas_quant {
    hwnas_context *ctx;       /* allocator owner */
    hwnas_net *net;           /* own copy of the model's net */
    hwnas__engine *eng;       /* fp32 engine holding a copy of the weights */
    hwnas__qlayer *layers;    /* n_layers quantised nodes, in net order */
    size_t n_layers;
    int32_t *layer_of;        /* per node: its layer, or -1 */
    uint8_t *skip;            /* per node: 1 = batch-norm folded (copies its input) */
    hwnas__lut **luts;        /* n_luts distinct multipliers in use */
    size_t n_luts;
    size_t batch;             /* samples per forward pass */
    size_t calib_batches;     /* batches of a calibration set that set the ranges */
    int weights_mode;         /* WEIGHTS_* of int8.c */
    int path;                 /* HWNAS__LUT_* */
    /* scratch for up to cap samples */
    size_t cap, n_workers;
    hwnas__quant_scratch *ws; /* n_workers */
    uint8_t *xq, *at;         /* linear: cap * F codes and their transpose */
    int32_t *lacc, *lout, *lcolsum;
};

/* Buffers (the engine's too) for passes of up to n samples. Errors:
 * HWNAS_ENOMEM. */
int hwnas__quant_reserve(hwnas_quant *q, size_t n);

/* One int8 pass of n samples (n within what hwnas__quant_reserve made);
 * the result is in q->eng's act. train: the fp32 nodes run as in training
 * (dropout, batch statistics of batch-norms not folded), the quantised
 * layers as in inference either way. */
int hwnas__quant_forward(hwnas_quant *q, const float *x, size_t n, int train, uint64_t step);

/* L's fp32 weights and biases from q->eng's parameters, with its folded
 * batch-norm's (running statistics) folded in. */
void hwnas__quant_load_layer(hwnas_quant *q, hwnas__qlayer *L);

/* Every layer's input range (in_min, in_max) from fp32 passes over the
 * first calib_batches * batch samples of ds. Errors: HWNAS_ENOMEM, the
 * engine's. */
int hwnas__quant_calibrate(hwnas_quant *q, const hwnas_dataset *ds);

/* Every layer's input parameters and weight codes from its range and wf. */
void hwnas__quant_requantise(hwnas_quant *q);

/* ds fits q (sample shape; classes when classes != 0; not empty); fn names
 * the caller in the message. Errors: HWNAS_EINVAL. */
int hwnas__quant_check_shape(const hwnas_quant *q, const hwnas_dataset *ds, const char *fn,
                             int classes);

/* The option tables of the "quant" and "quant_finetune" kinds (registered
 * in lib/kinds.c). */
extern const hwnas__kind hwnas__quant_finetune_kind;
extern const hwnas__kind hwnas__quant_kind;

/* The kernel path quant models use (HWNAS__LUT_AUTO unless a test chose). */
void hwnas__quant_set_path(hwnas_quant *q, int path);

#endif /* HWNAS_INT8_INTERNAL_H */
