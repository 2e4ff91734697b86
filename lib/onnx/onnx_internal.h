/*
 * libhwnas onnx - the protobuf wire format (pb.c) shared by the reader
 * (import.c) and the writer (export.c). Not installed; not part of the ABI.
 */
#ifndef HWNAS_ONNX_INTERNAL_H
#define HWNAS_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"

/* Wire types. */
enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

/* A message being read: the bytes [p, end) of a buffer starting at base
 * (for offsets in messages). */
typedef struct hwnas__pb {
    const uint8_t *p, *end, *base;
} hwnas__pb;

/* One field. For PB_LEN, data/len are the payload; otherwise v is the
 * value (fixed32/64 as their bits). */
typedef struct hwnas__pb_field {
    uint32_t num;
    int wire;
    uint64_t v;
    const uint8_t *data;
    size_t len;
    size_t offset; /* of the field's tag from base */
} hwnas__pb_field;

/* The next field of m into f: 1 got one, 0 at the end, -1 malformed (a
 * truncated varint or payload, a field number 0, wire types 3, 4, 6, 7). */
int hwnas__pb_next(hwnas__pb *m, hwnas__pb_field *f);
/* A sub-message reader of f's payload. */
hwnas__pb hwnas__pb_sub(const hwnas__pb *parent, const hwnas__pb_field *f);
/* Read a varint from [*p, end): 0 ok, -1 truncated or longer than 10 bytes. */
int hwnas__pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* A growable output buffer; a failed append sets failed and later ones do
 * nothing. */
typedef struct hwnas__pbw {
    const hwnas_context *ctx;
    uint8_t *data;
    size_t len, cap;
    int failed;
} hwnas__pbw;

void hwnas__pbw_raw(hwnas__pbw *w, const void *b, size_t n);
void hwnas__pbw_varint(hwnas__pbw *w, uint64_t v);
void hwnas__pbw_tag(hwnas__pbw *w, uint32_t num, int wire);
void hwnas__pbw_int(hwnas__pbw *w, uint32_t num, int64_t v);       /* varint field */
void hwnas__pbw_float(hwnas__pbw *w, uint32_t num, float v);       /* fixed32 field */
void hwnas__pbw_bytes(hwnas__pbw *w, uint32_t num, const void *b, size_t n);
void hwnas__pbw_str(hwnas__pbw *w, uint32_t num, const char *s);
/* A length-delimited sub-message: begin returns a mark for end, which
 * writes the field's tag and length in front of what was appended since. */
size_t hwnas__pbw_begin(hwnas__pbw *w);
void hwnas__pbw_end(hwnas__pbw *w, size_t mark, uint32_t num);

/* ONNX field numbers (onnx.proto3). */
enum {
    ONNX_MODEL_IR_VERSION = 1, ONNX_MODEL_PRODUCER = 2, ONNX_MODEL_PRODUCER_VERSION = 3,
    ONNX_MODEL_DOC = 6, ONNX_MODEL_GRAPH = 7, ONNX_MODEL_OPSET = 8,
    ONNX_OPSET_DOMAIN = 1, ONNX_OPSET_VERSION = 2,
    ONNX_GRAPH_NODE = 1, ONNX_GRAPH_NAME = 2, ONNX_GRAPH_INITIALIZER = 5,
    ONNX_GRAPH_INPUT = 11, ONNX_GRAPH_OUTPUT = 12, ONNX_GRAPH_VALUE_INFO = 13,
    ONNX_GRAPH_SPARSE_INITIALIZER = 15,
    ONNX_NODE_INPUT = 1, ONNX_NODE_OUTPUT = 2, ONNX_NODE_NAME = 3, ONNX_NODE_OP_TYPE = 4,
    ONNX_NODE_ATTRIBUTE = 5, ONNX_NODE_DOC = 6, ONNX_NODE_DOMAIN = 7,
    ONNX_ATTR_NAME = 1, ONNX_ATTR_F = 2, ONNX_ATTR_I = 3, ONNX_ATTR_S = 4, ONNX_ATTR_T = 5,
    ONNX_ATTR_G = 6, ONNX_ATTR_FLOATS = 7, ONNX_ATTR_INTS = 8, ONNX_ATTR_TYPE = 20,
    ONNX_TENSOR_DIMS = 1, ONNX_TENSOR_DATA_TYPE = 2, ONNX_TENSOR_FLOAT_DATA = 4,
    ONNX_TENSOR_INT32_DATA = 5, ONNX_TENSOR_INT64_DATA = 7, ONNX_TENSOR_NAME = 8,
    ONNX_TENSOR_RAW_DATA = 9, ONNX_TENSOR_DOUBLE_DATA = 10, ONNX_TENSOR_EXTERNAL = 13,
    ONNX_TENSOR_DATA_LOCATION = 14,
    ONNX_VI_NAME = 1, ONNX_VI_TYPE = 2,
    ONNX_TYPE_TENSOR = 1, ONNX_TT_ELEM_TYPE = 1, ONNX_TT_SHAPE = 2,
    ONNX_SHAPE_DIM = 1, ONNX_DIM_VALUE = 1, ONNX_DIM_PARAM = 2
};

/* AttributeProto.type and TensorProto.DataType values used here. */
enum { ONNX_AT_FLOAT = 1, ONNX_AT_INT = 2, ONNX_AT_STRING = 3, ONNX_AT_TENSOR = 4,
       ONNX_AT_FLOATS = 6, ONNX_AT_INTS = 7 };
enum { ONNX_DT_FLOAT = 1, ONNX_DT_UINT8 = 2, ONNX_DT_INT8 = 3, ONNX_DT_INT32 = 6,
       ONNX_DT_INT64 = 7, ONNX_DT_DOUBLE = 11 };

/* The opset and IR version written. */
#define HWNAS__ONNX_OPSET 14
#define HWNAS__ONNX_IR_VERSION 7

#endif /* HWNAS_ONNX_INTERNAL_H */
