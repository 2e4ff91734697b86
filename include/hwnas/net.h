/*
 * libhwnas - the network IR: a DAG of typed CNN nodes, its text spec, shape
 * inference and analytic cost.
 *
 * A net is a list of nodes in which every node's inputs come before it, so
 * node indices 0..count-1 are always a topological order, and the last node
 * is the net's output. Shapes are NCHW for one sample (N = 1); flatten and
 * linear produce rank-2 shapes (N, F). Shapes are inferred as each node is
 * added: a node that cannot work (channels that do not match an add, a
 * kernel larger than its padded input) is refused with an error naming it.
 *
 * Node kinds (HWNAS_NET_*) and the op names the text spec and the builder
 * use for them (doc/formats/net.md is the reference of every attribute):
 *   input      input(shape=CxHxW)
 *   conv2d     conv(out=, k|kh,kw=1, s|sh,sw=1, pad|ph,pw=0 or same,
 *                   d|dh,dw=1, groups=1, bias=1, mul=exact, bits=32)
 *   dwconv2d   dwconv(mult=1, k, s, pad, d, bias=1, mul, bits): groups = C
 *   maxpool    maxpool(k=, s=k, pad=0)        avgpool(k=, s=k, pad=0)
 *   gavgpool   gap
 *   batchnorm  bn
 *   act        relu relu6 elu(alpha=1) leaky_relu(slope=0.01) prelu sigmoid
 *              swish hard_swish hard_sigmoid tanh
 *   add        add(a, b, ...)        same shapes
 *   mul        mul(x, scale)         scale CxHxW or Cx1x1 (broadcast)
 *   concat     concat(a, b, ...)     along channels, same H and W
 *   dropout    dropout(p=0.5)        flatten        softmax
 *   zero       zero                  zeros shaped like its input (NAS-Bench-201's
 *                                    'none' edge when a cell's output is cut off)
 *   linear     linear(out=, bias=1, mul=exact, bits=32): flattens its input
 * Composite blocks expand into primitives (doc/net.md shows the expansions):
 *   basic(out=, s=1, mul, bits)                     ResNet basic block
 *   bottleneck(mid=, out=4*mid, s=1, groups=1, ...) ResNet v1.5 bottleneck
 *   mbconv(out=, expand=6, k=3, s=1, se=0, act=relu6, mul, bits)
 *
 * Every multiplying node (conv2d, dwconv2d, linear) names its multiplier
 * (default "exact", an hwnas_axmul name) and its operand bit width (32 =
 * float, 8 = int8).
 *
 * Thread rules: a net is not thread-safe while it is being built; a net
 * that is no longer modified may be read (queries, cost, format, hash) from
 * any number of threads at once.
 */
#ifndef HWNAS_NET_H
#define HWNAS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_net hwnas_net;
struct hwnas_context;

/* Node kinds. The numbers are part of the ABI. */
enum {
    HWNAS_NET_INPUT = 0,
    HWNAS_NET_CONV2D = 1,
    HWNAS_NET_DWCONV2D = 2,
    HWNAS_NET_MAXPOOL = 3,
    HWNAS_NET_AVGPOOL = 4,
    HWNAS_NET_GAVGPOOL = 5,
    HWNAS_NET_BATCHNORM = 6,
    HWNAS_NET_ACT = 7,
    HWNAS_NET_ADD = 8,
    HWNAS_NET_MUL = 9,
    HWNAS_NET_CONCAT = 10,
    HWNAS_NET_DROPOUT = 11,
    HWNAS_NET_FLATTEN = 12,
    HWNAS_NET_LINEAR = 13,
    HWNAS_NET_SOFTMAX = 14,
    HWNAS_NET_ZERO = 15
};

/* Activation functions of HWNAS_NET_ACT nodes (attribute "fn"). */
enum {
    HWNAS_NET_ACT_RELU = 0,
    HWNAS_NET_ACT_RELU6 = 1,
    HWNAS_NET_ACT_ELU = 2,
    HWNAS_NET_ACT_LEAKY_RELU = 3,
    HWNAS_NET_ACT_PRELU = 4,
    HWNAS_NET_ACT_SIGMOID = 5,
    HWNAS_NET_ACT_SWISH = 6,
    HWNAS_NET_ACT_HARD_SWISH = 7,
    HWNAS_NET_ACT_HARD_SIGMOID = 8,
    HWNAS_NET_ACT_TANH = 9
};

/* ---- creating and building ---------------------------------------- */

/*
 * An empty net. Errors: HWNAS_EINVAL (NULL out or ctx), HWNAS_ENOMEM.
 * *out is the caller's (hwnas_net_free) and NULL on error.
 */
HWNAS_API int hwnas_net_new(hwnas_net **out, struct hwnas_context *ctx);

/* Free a net. No-op on NULL. */
HWNAS_API void hwnas_net_free(hwnas_net *net);

/* A deep copy of net in the same context. Errors: HWNAS_EINVAL,
 * HWNAS_ENOMEM. *out is the caller's. */
HWNAS_API int hwnas_net_clone(hwnas_net **out, const hwnas_net *net);

/* Remove every node, keeping the memory for the next build (cheap reuse
 * when decoding many genotypes). */
HWNAS_API void hwnas_net_clear(hwnas_net *net);

/*
 * Append a node (or, for basic/bottleneck/mbconv, the primitive nodes of a
 * block) and infer its shape.
 *
 * out:      NULL or receives the index of the new node (of the block's
 *           output node for a block).
 * op:       an op name from the list above ("conv", "relu", "mbconv", ...).
 * name:     NULL or "" for an automatic name "_<index>"; otherwise
 *           [A-Za-z][A-Za-z0-9_.]* or _[A-Za-z0-9_.]* not of the form
 *           _<digits>, unique in the net. A block's inner nodes are named
 *           "<name>.<part>" (automatic when name is NULL).
 * inputs:   indices of earlier nodes; n_inputs = 0 means "the last node"
 *           for ops with one input. input takes none.
 * attrs:    NULL or "key=value" pairs separated by ',' or ';' (the
 *           attributes of the text spec, same spelling and defaults).
 *
 * Errors, the net unchanged: HWNAS_EINVAL (unknown op or attribute, bad
 * value, bad input index, duplicate or invalid name, a shape that does not
 * work: the message names the node and says why), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_net_add(int64_t *out, hwnas_net *net, const char *op,
                            const char *name, const int64_t *inputs,
                            size_t n_inputs, const char *attrs);

/*
 * Typed fast paths for decoders (no string parsing). input: c, h, w >= 1.
 * conv2d: out_channels, kernel kh x kw, stride, symmetric padding,
 * dilation, groups, bias 0/1; input < 0 means the last node. The node gets
 * multiplier "exact" and 32 bits (change with hwnas_net_set_multiplier).
 * Errors as hwnas_net_add().
 */
HWNAS_API int hwnas_net_add_input(int64_t *out, hwnas_net *net, const char *name,
                                  int64_t c, int64_t h, int64_t w);
HWNAS_API int hwnas_net_add_conv2d(int64_t *out, hwnas_net *net, const char *name,
                                   int64_t input, int64_t out_channels, int64_t kh,
                                   int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                                   int64_t pw, int64_t dh, int64_t dw, int64_t groups,
                                   int64_t bias);

/*
 * Set the multiplier name (NULL keeps it) and bit width (32 or 8; 0 keeps
 * it) of multiplying node i. Errors: HWNAS_EINVAL (i out of range, node
 * does not multiply, bad bits, empty or over-long name), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_net_set_multiplier(hwnas_net *net, size_t i,
                                       const char *multiplier, int32_t bits);

/* ---- text spec (doc/formats/net.md) --------------------------------- */

/*
 * Parse a net from NUL-terminated text. name_for_errors (NULL = "<string>")
 * prefixes error messages: "resnet.net:12:7: expected ')' ...".
 * Errors: HWNAS_EINVAL (NULL argument), HWNAS_EVERSION (header version not
 * 1), HWNAS_EFORMAT (syntax error, unknown op, attribute or name, a shape
 * that does not work: line, column and what was expected), HWNAS_ENOMEM.
 * *out is the caller's and NULL on error.
 */
HWNAS_API int hwnas_net_parse(hwnas_net **out, struct hwnas_context *ctx,
                              const char *text, const char *name_for_errors);

/* Read and parse a .net file (gzip read transparently). Errors as
 * hwnas_net_parse() plus HWNAS_ENOTFOUND and HWNAS_EIO naming the path. */
HWNAS_API int hwnas_net_load(hwnas_net **out, struct hwnas_context *ctx,
                             const char *path);

/*
 * The net as text in the spec; hwnas_net_parse() of it gives a net equal
 * to net (hwnas_net_equal). *out is the caller's (hwnas_free).
 * Errors: HWNAS_EINVAL, HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_net_format(const hwnas_net *net, char **out);

/* 1 if a and b have the same nodes (names, kinds, attributes, inputs,
 * multipliers, bit widths) in the same order, else 0. */
HWNAS_API int hwnas_net_equal(const hwnas_net *a, const hwnas_net *b);

/* A stable 64-bit hash of the net's structure: kinds, attributes, input
 * shape, inputs, multipliers and bit widths, but not node names. Equal nets
 * have equal hashes on every platform and version of this ABI major. */
HWNAS_API uint64_t hwnas_net_hash(const hwnas_net *net);

/* ---- queries -------------------------------------------------------- */
/* Node getters take an index i < hwnas_net_node_count(); out of range they
 * return the stated "none" value. Returned strings are borrowed: valid until
 * the net is modified or freed. */

HWNAS_API size_t hwnas_net_node_count(const hwnas_net *net);

/* Index of the node called name, or -1. */
HWNAS_API int64_t hwnas_net_find(const hwnas_net *net, const char *name);

/* Node name; NULL when out of range. */
HWNAS_API const char *hwnas_net_node_name(const hwnas_net *net, size_t i);

/* HWNAS_NET_* kind, or -1. */
HWNAS_API int hwnas_net_node_kind(const hwnas_net *net, size_t i);

/* The op name that writes the node in the spec ("conv", "relu", ...);
 * NULL when out of range. */
HWNAS_API const char *hwnas_net_node_op(const hwnas_net *net, size_t i);

/*
 * Integer attribute of node i by spec key: out, kh, kw, sh, sw, ph, pw, dh,
 * dw, groups, bias, bits, fn (HWNAS_NET_ACT_*). *out is set when the node
 * has the attribute. Errors: HWNAS_EINVAL (i out of range), HWNAS_ENOTFOUND
 * (the node has no such attribute).
 */
HWNAS_API int hwnas_net_node_attr(int64_t *out, const hwnas_net *net, size_t i,
                                  const char *key);

/* Real attribute: alpha (elu), slope (leaky_relu), p (dropout). Errors as
 * hwnas_net_node_attr(). */
HWNAS_API int hwnas_net_node_attr_float(double *out, const hwnas_net *net,
                                        size_t i, const char *key);

/* Number of inputs, and the index of input j (-1 when out of range). */
HWNAS_API size_t hwnas_net_node_input_count(const hwnas_net *net, size_t i);
HWNAS_API int64_t hwnas_net_node_input(const hwnas_net *net, size_t i, size_t j);

/* Output shape of node i into dims[4] (N, C, H, W) or dims[0..1] (N, F);
 * returns the rank (4 or 2), 0 when out of range. The input shapes of a
 * node are the output shapes of its inputs. */
HWNAS_API int hwnas_net_node_shape(const hwnas_net *net, size_t i, int64_t *dims);

/* Multiplier name and bit width of a multiplying node; NULL and 0 for the
 * other nodes. */
HWNAS_API const char *hwnas_net_node_multiplier(const hwnas_net *net, size_t i);
HWNAS_API int32_t hwnas_net_node_bits(const hwnas_net *net, size_t i);

/*
 * Per-node cost (0 when out of range):
 *   macs:        multiply-accumulates (conv, dwconv, linear; mul counts one
 *                per output element; others 0)
 *   params:      trainable parameters (weights and biases; batch-norm 2C;
 *                prelu C)
 *   weight_bytes: weights at the node's bit width, biases and other
 *                parameters at 4 bytes
 *   activations: output elements
 */
HWNAS_API uint64_t hwnas_net_node_macs(const hwnas_net *net, size_t i);
HWNAS_API uint64_t hwnas_net_node_params(const hwnas_net *net, size_t i);
HWNAS_API uint64_t hwnas_net_node_weight_bytes(const hwnas_net *net, size_t i);
HWNAS_API uint64_t hwnas_net_node_activations(const hwnas_net *net, size_t i);

/* Write a topological order (here always 0, 1, ..., count-1) into
 * order[0..cap); returns the node count (a smaller cap writes a prefix). */
HWNAS_API size_t hwnas_net_topo_order(const hwnas_net *net, size_t *order, size_t cap);

/* ---- whole-net cost (doc/net.md: the models) ------------------------ */

HWNAS_API uint64_t hwnas_net_macs(const hwnas_net *net);
HWNAS_API uint64_t hwnas_net_params(const hwnas_net *net);
HWNAS_API uint64_t hwnas_net_weight_bytes(const hwnas_net *net);
/* Sum of every node's output elements. */
HWNAS_API uint64_t hwnas_net_activations(const hwnas_net *net);
/* Largest number of activation elements alive at once when the nodes run
 * in index order: while node i runs, its inputs, its output and every
 * earlier output still needed by a later node are alive; an output dies
 * after its last consumer runs; the last node's output lives to the end. */
HWNAS_API uint64_t hwnas_net_peak_activations(const hwnas_net *net);
/* Memory accesses with no reuse: 4 per MAC (read input, weight, partial
 * sum; write partial sum). */
HWNAS_API uint64_t hwnas_net_memory_accesses(const hwnas_net *net);

/*
 * A cost metric by name, for estimators: "macs", "params", "weight_bytes",
 * "activations", "peak_activations", "memory_accesses", "nodes".
 * Errors: HWNAS_EINVAL (NULL), HWNAS_ENOTFOUND (unknown metric: the message
 * lists them).
 */
HWNAS_API int hwnas_net_cost(double *out, const hwnas_net *net, const char *metric);

HWNAS_END_DECLS

#endif /* HWNAS_NET_H */
