/*
 * libhwnas - ONNX import and export: a net (and a model's weights) to and
 * from an ONNX ModelProto (doc/formats/onnx.md lists the operator subset).
 *
 * The library reads and writes the protobuf wire format itself (no ONNX or
 * protobuf library). A build configured with -Donnx=disabled keeps these
 * functions, and they fail with HWNAS_EUNSUPPORTED; hwnas_onnx_available()
 * says which build this is.
 *
 * Import maps ONNX operators onto the IR's node kinds: Conv (group 1 or
 * grouped, or depthwise), Gemm / MatMul (linear), MaxPool, AveragePool,
 * GlobalAveragePool, BatchNormalization, Relu, Clip(0, 6), Elu, LeakyRelu,
 * PRelu, Sigmoid, x * Sigmoid(x) (swish), HardSwish, HardSigmoid, Tanh,
 * Add, Sum, Mul, Concat, Flatten, Reshape to (N, -1), Softmax, Dropout,
 * Identity and Constant; a QuantizeLinear -> DequantizeLinear pair (QDQ)
 * on a layer's weights or input marks that layer as 8-bit. Any other
 * operator, or an attribute the IR cannot express (asymmetric padding,
 * ceil_mode, ...), is an HWNAS_EUNSUPPORTED error naming the node and its
 * op type.
 *
 * Thread rules: the functions keep no state; the nets and models passed
 * follow their own rules (a net or model may be exported from several
 * threads at once when nobody modifies it).
 */
#ifndef HWNAS_ONNX_H
#define HWNAS_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

struct hwnas_context;
struct hwnas_net;
struct hwnas_model;

/* 1 when this build reads and writes ONNX, 0 when it was configured with
 * -Donnx=disabled. */
HWNAS_API int hwnas_onnx_available(void);

/*
 * Import an ONNX model from its serialised bytes.
 *
 * out_net:   receives the net (the caller's, hwnas_net_free).
 * out_model: NULL, or receives a model of that net holding the file's
 *            weights (the caller's, hwnas_model_free), or NULL when the
 *            file carries no weights at all (an architecture exported
 *            without them: every weight is a graph input).
 * name:      used in error messages (NULL = "<memory>").
 *
 * The graph must have one input of shape (N, C, H, W) and one output, the
 * output of its last operator. Node names become IR names (characters the
 * IR does not allow become '_'; a clash gets a suffix).
 *
 * Errors, the outputs NULL: HWNAS_EINVAL (NULL argument), HWNAS_EFORMAT
 * (not a protobuf ModelProto, a truncated or malformed field, a missing
 * tensor, a shape the IR refuses or that differs from the file's: the
 * message names the file, the field or node), HWNAS_EUNSUPPORTED (an
 * operator or attribute outside the subset: the message names the node
 * and its op type; a build without ONNX), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_onnx_import(struct hwnas_net **out_net, struct hwnas_model **out_model,
                                struct hwnas_context *ctx, const void *data, size_t len,
                                const char *name);

/* hwnas_onnx_import() of the file at path (gzip read transparently).
 * Errors as hwnas_onnx_import() plus HWNAS_ENOTFOUND and HWNAS_EIO naming
 * the path. */
HWNAS_API int hwnas_onnx_load(struct hwnas_net **out_net, struct hwnas_model **out_model,
                              struct hwnas_context *ctx, const char *path);

/*
 * Export net as an ONNX model (IR version 7, opset 14) in memory.
 *
 * model: NULL, or a model of a net equal to net (hwnas_net_equal) whose
 *        weights become initialisers; without it the weights are graph
 *        inputs with their shapes, so the file describes the architecture.
 * Every IR node becomes one ONNX node named as the IR node (swish becomes
 * Sigmoid and Mul, a linear on a rank-4 input gets a Flatten in front); an
 * 8-bit layer gets QuantizeLinear -> DequantizeLinear on its weights
 * (symmetric int8 per output channel); the multiplier and the IR op go in
 * the node's doc_string, so that importing the file gives back an equal net
 * and the same weights.
 *
 * *out (the caller's, hwnas_free) gets *out_len bytes. Errors:
 * HWNAS_EINVAL (NULL argument, a model of another net), HWNAS_EUNSUPPORTED
 * (a net with other than one input node; a build without ONNX),
 * HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_onnx_export(uint8_t **out, size_t *out_len, const struct hwnas_net *net,
                                const struct hwnas_model *model);

/* hwnas_onnx_export() written to path atomically (not compressed).
 * Errors as hwnas_onnx_export() plus HWNAS_EIO naming the path. */
HWNAS_API int hwnas_onnx_save(const struct hwnas_net *net, const struct hwnas_model *model,
                              const char *path);

HWNAS_END_DECLS

#endif /* HWNAS_ONNX_H */
