/*
 * libhwnas net - the IR's layout, shared inside the library (estimators and
 * the engine read nodes directly). Not installed; not part of the ABI.
 */
#ifndef HWNAS_NET_INTERNAL_H
#define HWNAS_NET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "hwnas/net.h"

/* Largest channel count, spatial size and kernel the IR accepts; keeps every
 * cost product far below 2^64. */
#define HWNAS__NET_MAX_DIM 1048576
#define HWNAS__NET_MAX_NAME 128
#define HWNAS__NET_NO_NAME UINT32_MAX

/* Attributes of a node; which ones mean something depends on the kind. */
typedef struct hwnas__net_attrs {
    int32_t out;        /* conv/linear output channels or features; input C */
    int32_t kh, kw;     /* kernel (conv, pool) >= 1; input H, W for input */
    int32_t sh, sw;     /* stride >= 1 */
    int32_t ph, pw;     /* symmetric zero padding >= 0 */
    int32_t dh, dw;     /* dilation >= 1 (conv) */
    int32_t groups;     /* conv groups >= 1; dwconv: channel multiplier */
    int32_t bias;       /* 0 or 1 */
    int32_t bits;       /* 32 or 8 for multiplying nodes, else 0 */
    int32_t fn;         /* HWNAS_NET_ACT_* for act nodes */
    double alpha;       /* elu alpha, leaky_relu slope, dropout p */
} hwnas__net_attrs;

typedef struct hwnas__net_node {
    int32_t kind;            /* HWNAS_NET_* */
    int32_t rank;            /* 4 (N,C,H,W) or 2 (N,F) */
    int64_t c, h, w;         /* output shape, N = 1; rank 2: F = c, h = w = 1 */
    hwnas__net_attrs a;      /* attributes */
    uint32_t name;           /* offset of the name in net->arena */
    uint32_t mul;            /* offset of the multiplier name, or NO_NAME */
    uint32_t in_off, n_in;   /* inputs are net->inputs[in_off .. in_off+n_in) */
    uint32_t last_use;       /* index of the last consumer; itself if none */
    uint64_t macs, params;   /* cost of this node */
    uint64_t wbytes;         /* weight bytes at the node's bit width */
} hwnas__net_node;

struct hwnas_net {
    hwnas_context *ctx;       /* allocator owner */
    hwnas__net_node *nodes;   /* n used, cap allocated */
    size_t n, cap;
    uint32_t *inputs;         /* every node's input indices, n_inputs used */
    size_t n_inputs, cap_inputs;
    char *arena;              /* NUL-terminated names, arena_len used */
    size_t arena_len, arena_cap;
    uint32_t *table;          /* open-addressing name -> node+1 (0 = empty) */
    size_t table_cap;         /* power of two, > 2 * n, or 0 */
    uint64_t macs, params, wbytes, acts; /* running totals */
};

static inline const char *hwnas__net_str(const hwnas_net *net, uint32_t off)
{
    return net->arena + off;
}

/* The op name the spec writes for node nd (conv, relu, ...) (net.c). */
const char *hwnas__net_op_name(const hwnas__net_node *nd);
/* The activation (HWNAS_NET_ACT_*) whose spec name is s[0..n), or -1. */
int hwnas__net_act_find(const char *s, size_t n);

/* A node being added: its op and the attributes given so far. Filled by
 * hwnas__net_op_begin and hwnas__net_op_attr, then committed by
 * hwnas__net_op_finish (the builder and the parser share this path). */
typedef struct hwnas__net_pending {
    const void *op;          /* row of the op table */
    uint32_t set;            /* bit per attribute key given */
    int32_t v[32];           /* integer values by key */
    double f[32];            /* real values by key */
    int32_t shape[3];        /* input shape C, H, W */
    int32_t pad_same;        /* pad=same given */
    const char *mul;         /* multiplier name (not NUL-terminated) */
    size_t mul_len;
} hwnas__net_pending;

/* Start a node of op op[0..len). Errors (HWNAS_EINVAL, message prefixed by
 * where): unknown op, listing the ops. */
int hwnas__net_op_begin(hwnas__net_pending *p, const char *op, size_t len,
                        const char *where);

/* Set attribute key = value (slices). Errors: unknown key for the op (the
 * message lists the valid ones), bad value. */
int hwnas__net_op_attr(hwnas__net_pending *p, const char *key, size_t klen,
                       const char *val, size_t vlen, const char *where);

/* Parse "k=v,k=v" (',' or ';') into p. */
int hwnas__net_op_attrs(hwnas__net_pending *p, const char *text, const char *where);

/* Resolve defaults, infer shapes and append the node (or a block's nodes).
 * name NULL or name_len 0: automatic. inputs: n_inputs earlier indices; 0
 * inputs means the last node for single-input ops. On error the net is
 * unchanged. */
int hwnas__net_op_finish(int64_t *out, hwnas_net *net, const hwnas__net_pending *p,
                         const char *name, size_t name_len, const uint32_t *inputs,
                         size_t n_inputs, const char *where);

/* Index of the node named name[0..n), or -1. */
int64_t hwnas__net_find_slice(const hwnas_net *net, const char *name, size_t n);

/* Default attributes of an op (for the formatter's "omit defaults"). */
void hwnas__net_default_attrs(hwnas__net_attrs *a, int kind);

/* ---- the stage list of a staged CNN (net_stages.c) ------------------- */

#define HWNAS__NET_MAX_STAGES 32
#define HWNAS__NET_MAX_WIDTHS 32

/* What space:macro and supernet:ofa build between stem and head: per stage
 * base channels and the first block's stride, and the width multipliers a
 * stage's channels may be scaled by. */
typedef struct hwnas__net_stages {
    size_t n_stages;                          /* 1..HWNAS__NET_MAX_STAGES */
    int64_t channels[HWNAS__NET_MAX_STAGES];  /* base channels, 1..65536 */
    int64_t strides[HWNAS__NET_MAX_STAGES];   /* 1 or 2 */
    size_t n_widths;                          /* 1..HWNAS__NET_MAX_WIDTHS */
    double widths[HWNAS__NET_MAX_WIDTHS];     /* strictly ascending, 0.01..100 */
} hwnas__net_stages;

/* Parse the option texts channels, strides and widths (comma-separated
 * lists) into *st. Errors: HWNAS_EINVAL with a message that starts with
 * who and names the option and, for a bad number, its position (a list
 * that is empty, too long, out of range or not an integer; channels and
 * strides of different lengths; widths not strictly ascending); *st is
 * then not to be used. Thread-safe: touches only *st (and the thread's
 * error message). */
int hwnas__net_stages_parse(hwnas__net_stages *st, const char *who, const char *channels,
                            const char *strides, const char *widths);

#endif /* HWNAS_NET_INTERNAL_H */
