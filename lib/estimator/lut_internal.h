/* libhwnas latency LUTs - shared between the files of the LUT: keys
 * (lut_key.c), the table (lut_table.c), prediction (lut_predict.c), the text
 * format (lut_text.c), the estimator kind (lut_estimator.c) and the profiler
 * (lut_build.c). Not installed. */
#ifndef HWNAS_LUT_INTERNAL_H
#define HWNAS_LUT_INTERNAL_H

#include "core/core_internal.h"
#include "hwnas/latency_lut.h"
#include "hwnas/net.h"
#include "net/net_internal.h"

/* A layer key taken apart. Integer fields are -1 when absent. */
typedef struct hwnas__lut_key {
    char op[24];         /* spec op name, [a-z0-9_]+ */
    int in_rank;         /* 4: in = C x H x W; 2: in = F (in[1] = in[2] = 1) */
    int64_t in[3];       /* input shape, each >= 1 */
    int out_rank;
    int64_t out[3];      /* output shape */
    int64_t kh, kw;      /* kernel, -1 = none */
    int64_t sh, sw;      /* stride */
    int64_t ph, pw;      /* padding */
    int64_t dh, dw;      /* dilation */
    int64_t groups;      /* conv groups */
    int64_t bits;        /* operand bit width of multiplying nodes */
    int64_t inputs;      /* number of inputs of add / concat / mul */
    char mul[HWNAS__NET_MAX_NAME + 1]; /* multiplier name, "" = none: as long as
                                        * the IR allows, so no two share a key */
    char act[16];        /* bn: the activation run fused into it, "" = none */
    int64_t ctx;         /* the net's latency class (hwnas__lut_ctx_x), -1 = any */
} hwnas__lut_key;

typedef struct hwnas__lut_entry {
    char *text;     /* canonical key, owned */
    hwnas__lut_key k;      /* text taken apart */
    double ms;      /* latency (median of the samples when profiled) */
    uint32_t count; /* samples behind ms (1 for entries read or set) */
    double *samples; /* profiled: the count samples, sorted; NULL otherwise */
    uint32_t cap_samples;
} hwnas__lut_entry;

struct hwnas_latency_lut {
    hwnas_context *ctx;   /* allocator; outlives the LUT */
    hwnas__lut_entry *entries;   /* n used, cap allocated, in insertion order */
    size_t n, cap;
    uint32_t *slots;      /* open addressing: entry index + 1, 0 = empty */
    size_t n_slots;       /* power of two > 2n, or 0 */
    double overhead;      /* ms added once per net */
    char *device;         /* owned, never NULL after creation */
    int has_ctx;          /* some entry has a ctx= field */
    double *residuals;    /* n_res profiled nets' residuals */
    size_t n_res, cap_res;
};

/* The largest latency, in ms, a layer entry or the overhead (either sign)
 * may hold: 1e9 ms is 11.6 days, beyond any layer, and keeps every sum,
 * scaling and context class of a prediction finite (a LUT with entries of
 * 1e308 once overflowed to infinity and into an integer conversion). */
#define HWNAS__LUT_MAX_MS 1e9

/* ---- keys (lut_key.c) ---- */

/* Append the canonical text of k to sb (sb->failed on out of memory). */
void hwnas__lut_key_format(hwnas__strbuf *sb, const hwnas__lut_key *k);

/* Parse key text s[0..n) into k. where: "file:line: " or "" for messages.
 * Errors: HWNAS_EINVAL naming the field at fault. */
int hwnas__lut_key_parse(hwnas__lut_key *k, const char *s, size_t n, const char *where);

/* Parse a decimal integer in [lo, hi] from s[0..n): 1 and *out, or 0. */
int hwnas__lut_parse_int(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out);

/* The key of node i of net. */
void hwnas__lut_key_of_node(hwnas__lut_key *k, const hwnas_net *net, size_t i);

/* For a batch-norm node k whose only consumer is a relu or relu6 the engine
 * fuses into it: that activation's index; else -1. */
int64_t hwnas__lut_fused_act(const hwnas_net *net, size_t k);

/* The key of what the engine runs at node i (the bn's key plus act= for a
 * fused batch-norm); 0 when node i runs inside another node's layer. */
int hwnas__lut_run_key_of_node(hwnas__lut_key *k, const hwnas_net *net, size_t i);

/* ---- the table (lut_table.c) ---- */

/* The index of the entry whose canonical key is text, or -1. */
int64_t hwnas__lut_find(const hwnas_latency_lut *lut, const char *text);

/* Insert or find key k; *out_index gets its entry. New entries have ms 0,
 * count 0. Errors: HWNAS_ENOMEM. */
int hwnas__lut_entry_get(hwnas_latency_lut *lut, const hwnas__lut_key *k, size_t *out_index);

/* ---- prediction (lut_predict.c) ---- */

/* The latency of net from lut in ms: its layers (missing: a
 * HWNAS_LATENCY_LUT_MISSING_* mode) plus overhead. file (or NULL) names
 * the LUT in messages. Errors: HWNAS_EINVAL, HWNAS_ENOTFOUND, HWNAS_ENOMEM. */
int hwnas__lut_predict(double *out_ms, const hwnas_latency_lut *lut, const hwnas_net *net,
                       int missing, double overhead, const char *file);

/* ---- the text format (lut_text.c) ---- */

/* A finite number from s[0..n): 1 and *out, or 0. */
int hwnas__lut_parse_number(const char *s, size_t n, double *out);

/* Add ms as one more measurement of key; the entry's latency becomes the
 * median of its measurements (a value set or read before counts as one). */
int hwnas__lut_add_sample(hwnas_latency_lut *lut, const char *key, double ms);

/* The key of the layer the fp32 engine runs at node i of net: the node's
 * key, plus act=relu|relu6 for a batch-norm the engine fuses with its only
 * consumer, that activation, plus ctx=ctx when ctx >= 0. *out is NULL (and
 * HWNAS_OK) for such a fused activation, which runs inside its
 * batch-norm's layer; else the caller's (hwnas_free). Errors:
 * HWNAS_ENOMEM. */
int hwnas__lut_run_key(char **out, const hwnas_net *net, size_t i, int ctx);

/* The context class (ctx= in keys) of a net whose forward pass takes ms:
 * round(x), x = 2 log2(ms * 1000); and x itself, which prediction
 * interpolates in between the classes the LUT has for a layer. */
int hwnas__lut_ctx_class(double ms);
double hwnas__lut_ctx_x(double ms);

/* Record a net's residual (measured - sum of layers) and refit the
 * overhead as the median of all residuals. */
int hwnas__lut_add_residual(hwnas_latency_lut *lut, double ms);

/* The profiler's node times (lut_build.c): node_t[r * n + i] is node i's
 * time in instrumented pass r of `passes`, instr[r] the pass as a whole.
 * A pass slower than 1.25x the fastest is disturbed and left out; each
 * node gets the median of the others less `read` (one clock read), and
 * all are scaled to sum to the fastest pass less its reads (n + 1 reads
 * and read_pass). out[i] is 0 where fused[i]. col: passes scratch. */
void hwnas__lut_node_times(double *out, const uint8_t *fused, size_t n, const double *node_t,
                           const double *instr, size_t passes, double read, double read_pass,
                           double *col);

/* The LUT's context (its allocator and threads). */
hwnas_context *hwnas__lut_context(const hwnas_latency_lut *lut);

/* The estimator:latency_lut kind (lut_estimator.c). */
struct hwnas__estimator_impl;
extern const struct hwnas__estimator_impl hwnas__estimator_latency_lut_impl;

#endif
