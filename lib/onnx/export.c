/* hwnas_onnx_export: one ONNX node per IR node (doc/formats/onnx.md). The
 * IR op, multiplier and bit width ride in each node's doc_string so that
 * an import gives back the same net; the weights are initialisers when a
 * model is given, graph inputs (architecture only) otherwise. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/model_internal.h"
#include "hwnas/onnx.h"
#include "hwnas/version.h"
#include "net/net_internal.h"
#include "onnx_internal.h"

typedef struct ex {
    const hwnas_context *ctx;
    const hwnas_net *net;
    const hwnas__engine *e; /* NULL: no weights */
    hwnas__pbw nodes, inits, inputs;
    char nm[4][1100];       /* names being built (see name()) */
    int too_long;
} ex;

/* slot's buffer gets "<base><suffix>". */
static const char *name(ex *x, int slot, const char *base, const char *suffix)
{
    if ((size_t)snprintf(x->nm[slot], sizeof x->nm[slot], "%s%s", base, suffix) >=
        sizeof x->nm[slot])
        x->too_long = 1;
    return x->nm[slot];
}

static void write_dims(hwnas__pbw *w, const int64_t *dims, int rank)
{
    for (int k = 0; k < rank; k++)
        hwnas__pbw_int(w, ONNX_TENSOR_DIMS, dims[k]);
}

/* A float initialiser. */
static void init_floats(ex *x, const char *nm, const int64_t *dims, int rank, const float *v,
                        size_t n)
{
    hwnas__pbw *w = &x->inits;
    size_t m = hwnas__pbw_begin(w);
    write_dims(w, dims, rank);
    hwnas__pbw_int(w, ONNX_TENSOR_DATA_TYPE, ONNX_DT_FLOAT);
    hwnas__pbw_str(w, ONNX_TENSOR_NAME, nm);
    hwnas__pbw_tag(w, ONNX_TENSOR_RAW_DATA, PB_LEN);
    hwnas__pbw_varint(w, 4 * (uint64_t)n);
    for (size_t k = 0; k < n; k++) {
        uint32_t u;
        memcpy(&u, &v[k], 4);
        uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        hwnas__pbw_raw(w, b, 4);
    }
    hwnas__pbw_end(w, m, ONNX_GRAPH_INITIALIZER);
}

static void init_scalar(ex *x, const char *nm, float v)
{
    init_floats(x, nm, NULL, 0, &v, 1);
}

/* ValueInfoProto of a float tensor; dims < 0 are the symbolic batch "N". */
static void value_info(hwnas__pbw *w, uint32_t field, const char *nm, const int64_t *dims,
                       int rank)
{
    size_t m = hwnas__pbw_begin(w);
    hwnas__pbw_str(w, ONNX_VI_NAME, nm);
    size_t t = hwnas__pbw_begin(w);
    size_t tt = hwnas__pbw_begin(w);
    hwnas__pbw_int(w, ONNX_TT_ELEM_TYPE, ONNX_DT_FLOAT);
    size_t sh = hwnas__pbw_begin(w);
    for (int k = 0; k < rank; k++) {
        size_t d = hwnas__pbw_begin(w);
        if (dims[k] < 0)
            hwnas__pbw_str(w, ONNX_DIM_PARAM, "N");
        else
            hwnas__pbw_int(w, ONNX_DIM_VALUE, dims[k]);
        hwnas__pbw_end(w, d, ONNX_SHAPE_DIM);
    }
    hwnas__pbw_end(w, sh, ONNX_TT_SHAPE);
    hwnas__pbw_end(w, tt, ONNX_TYPE_TENSOR);
    hwnas__pbw_end(w, t, ONNX_VI_TYPE);
    hwnas__pbw_end(w, m, field);
}

/* A learned tensor of IR node i: an initialiser from the model's params
 * (or state) at off, or a graph input with its shape when there is no
 * model. */
static void learned(ex *x, const char *nm, const int64_t *dims, int rank, size_t off, int state)
{
    size_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= (size_t)dims[k];
    if (x->e)
        init_floats(x, nm, dims, rank, (state ? x->e->state : x->e->params) + off, n);
    else
        value_info(&x->inputs, ONNX_GRAPH_INPUT, nm, dims, rank);
}

/* ---- nodes ------------------------------------------------------------ */

static size_t node_begin(ex *x, const char *op, const char *nm, const char *doc)
{
    size_t m = hwnas__pbw_begin(&x->nodes);
    hwnas__pbw_str(&x->nodes, ONNX_NODE_NAME, nm);
    hwnas__pbw_str(&x->nodes, ONNX_NODE_OP_TYPE, op);
    if (doc && *doc)
        hwnas__pbw_str(&x->nodes, ONNX_NODE_DOC, doc);
    return m;
}

static void node_in(ex *x, const char *v)
{
    hwnas__pbw_str(&x->nodes, ONNX_NODE_INPUT, v);
}

static void node_out(ex *x, const char *v)
{
    hwnas__pbw_str(&x->nodes, ONNX_NODE_OUTPUT, v);
}

static void node_end(ex *x, size_t m)
{
    hwnas__pbw_end(&x->nodes, m, ONNX_GRAPH_NODE);
}

static void attr_int(ex *x, const char *nm, int64_t v)
{
    hwnas__pbw *w = &x->nodes;
    size_t m = hwnas__pbw_begin(w);
    hwnas__pbw_str(w, ONNX_ATTR_NAME, nm);
    hwnas__pbw_int(w, ONNX_ATTR_I, v);
    hwnas__pbw_int(w, ONNX_ATTR_TYPE, ONNX_AT_INT);
    hwnas__pbw_end(w, m, ONNX_NODE_ATTRIBUTE);
}

static void attr_float(ex *x, const char *nm, float v)
{
    hwnas__pbw *w = &x->nodes;
    size_t m = hwnas__pbw_begin(w);
    hwnas__pbw_str(w, ONNX_ATTR_NAME, nm);
    hwnas__pbw_float(w, ONNX_ATTR_F, v);
    hwnas__pbw_int(w, ONNX_ATTR_TYPE, ONNX_AT_FLOAT);
    hwnas__pbw_end(w, m, ONNX_NODE_ATTRIBUTE);
}

static void attr_ints2(ex *x, const char *nm, int64_t a, int64_t b, int four)
{
    hwnas__pbw *w = &x->nodes;
    size_t m = hwnas__pbw_begin(w);
    hwnas__pbw_str(w, ONNX_ATTR_NAME, nm);
    for (int k = 0; k < (four ? 2 : 1); k++) {
        hwnas__pbw_int(w, ONNX_ATTR_INTS, a);
        hwnas__pbw_int(w, ONNX_ATTR_INTS, b);
    }
    hwnas__pbw_int(w, ONNX_ATTR_TYPE, ONNX_AT_INTS);
    hwnas__pbw_end(w, m, ONNX_NODE_ATTRIBUTE);
}

/* kernel_shape, strides, pads (and dilations) of a conv or pool. */
static void window_attrs(ex *x, const hwnas__net_attrs *a, int dil)
{
    attr_ints2(x, "kernel_shape", a->kh, a->kw, 0);
    attr_ints2(x, "strides", a->sh, a->sw, 0);
    attr_ints2(x, "pads", a->ph, a->pw, 1);
    if (dil)
        attr_ints2(x, "dilations", a->dh, a->dw, 0);
}

/* The doc_string that carries what ONNX cannot: the IR op, multiplier and
 * bit width. */
static const char *doc_of(ex *x, const hwnas__net_node *nd)
{
    const char *op = hwnas__net_op_name(nd);
    const char *mul = hwnas_net_node_multiplier(x->net, (size_t)(nd - x->net->nodes));
    if (mul)
        snprintf(x->nm[3], sizeof x->nm[3], "hwnas:op=%s;mul=%s;bits=%d", op, mul,
                 (int)nd->a.bits);
    else
        snprintf(x->nm[3], sizeof x->nm[3], "hwnas:op=%s", op);
    return x->nm[3];
}

/* QuantizeLinear -> DequantizeLinear on weight tensor w ([out][k...], n
 * values): symmetric int8 per output channel, scale max|w| / 127 (1/127
 * for a channel of zeros, or when there are no weights). Returns the
 * dequantised value's name (slot 2). */
static const char *qdq_weight(ex *x, const char *base, const char *w, int64_t out,
                              const float *v, size_t n)
{
    size_t per = out > 0 ? n / (size_t)out : 0;
    float *scale = hwnas__malloc(x->ctx, (size_t)out * sizeof *scale);
    if (!scale) {
        x->nodes.failed = 1;
        return "";
    }
    for (int64_t o = 0; o < out; o++) {
        float mx = 0;
        for (size_t k = 0; v && k < per; k++)
            mx = fmaxf(mx, fabsf(v[(size_t)o * per + k]));
        scale[o] = mx > 0 ? mx / 127.0f : 1.0f / 127.0f;
    }
    init_floats(x, name(x, 1, base, ".weight_scale"), &out, 1, scale, (size_t)out);
    hwnas__free(x->ctx, scale);
    /* zero points: int8 zeros */
    hwnas__pbw *iw = &x->inits;
    size_t m = hwnas__pbw_begin(iw);
    write_dims(iw, &out, 1);
    hwnas__pbw_int(iw, ONNX_TENSOR_DATA_TYPE, ONNX_DT_INT8);
    hwnas__pbw_str(iw, ONNX_TENSOR_NAME, name(x, 1, base, ".weight_zero_point"));
    hwnas__pbw_tag(iw, ONNX_TENSOR_RAW_DATA, PB_LEN);
    hwnas__pbw_varint(iw, (uint64_t)out);
    for (int64_t o = 0; o < out; o++)
        hwnas__pbw_raw(iw, "", 1);
    hwnas__pbw_end(iw, m, ONNX_GRAPH_INITIALIZER);

    size_t q = node_begin(x, "QuantizeLinear", name(x, 2, base, ".weight_quantize"),
                          "hwnas:implicit");
    node_in(x, w);
    node_in(x, name(x, 1, base, ".weight_scale"));
    node_in(x, name(x, 1, base, ".weight_zero_point"));
    node_out(x, name(x, 2, base, ".weight_q"));
    attr_int(x, "axis", 0);
    node_end(x, q);
    size_t d = node_begin(x, "DequantizeLinear", name(x, 2, base, ".weight_dequantize"),
                          "hwnas:implicit");
    node_in(x, name(x, 2, base, ".weight_q"));
    node_in(x, name(x, 1, base, ".weight_scale"));
    node_in(x, name(x, 1, base, ".weight_zero_point"));
    node_out(x, name(x, 2, base, ".weight_dq"));
    attr_int(x, "axis", 0);
    node_end(x, d);
    return x->nm[2];
}

static const char *in_name(ex *x, const hwnas__net_node *nd, size_t j)
{
    return hwnas__net_str(x->net, x->net->nodes[x->net->inputs[nd->in_off + j]].name);
}

/* conv2d, dwconv2d and linear: weights (maybe through QDQ), bias. */
static void layer(ex *x, size_t i, const hwnas__net_node *nd, const char *nm)
{
    const hwnas__net_node *src = &x->net->nodes[x->net->inputs[nd->in_off]];
    int lin = nd->kind == HWNAS_NET_LINEAR;
    int64_t dims[4];
    int rank;
    if (lin) {
        dims[0] = nd->c;
        dims[1] = src->c * src->h * src->w;
        rank = 2;
    } else {
        int dw = nd->kind == HWNAS_NET_DWCONV2D;
        dims[0] = nd->c;
        dims[1] = dw ? 1 : src->c / nd->a.groups;
        dims[2] = nd->a.kh;
        dims[3] = nd->a.kw;
        rank = 4;
    }
    size_t nw = (size_t)(dims[0] * dims[1] * (rank == 4 ? dims[2] * dims[3] : 1));
    size_t off = x->e ? x->e->nodes[i].p_off : 0;
    const char *wname = name(x, 0, nm, ".weight");
    learned(x, wname, dims, rank, off, 0);
    if (nd->a.bits == 8)
        wname = qdq_weight(x, nm, wname, dims[0], x->e ? x->e->params + off : NULL, nw);
    char wbuf[1100];
    snprintf(wbuf, sizeof wbuf, "%s", wname);
    if (nd->a.bias)
        learned(x, name(x, 1, nm, ".bias"), dims, 1, off + nw, 0);
    const char *xin = in_name(x, nd, 0);
    char fbuf[1100];
    if (lin && src->rank == 4) { /* Gemm takes (N, F): flatten in front */
        snprintf(fbuf, sizeof fbuf, "%s", name(x, 2, nm, ".flatten"));
        size_t f = node_begin(x, "Flatten", fbuf, "hwnas:implicit");
        node_in(x, xin);
        node_out(x, fbuf);
        attr_int(x, "axis", 1);
        node_end(x, f);
        xin = fbuf;
    }
    size_t m = node_begin(x, lin ? "Gemm" : "Conv", nm, doc_of(x, nd));
    node_in(x, xin);
    node_in(x, wbuf);
    if (nd->a.bias)
        node_in(x, name(x, 1, nm, ".bias"));
    node_out(x, nm);
    if (lin) {
        attr_int(x, "transB", 1);
    } else {
        window_attrs(x, &nd->a, 1);
        attr_int(x, "group", nd->kind == HWNAS_NET_DWCONV2D ? src->c : nd->a.groups);
    }
    node_end(x, m);
}

static int activation(ex *x, size_t i, const hwnas__net_node *nd, const char *nm)
{
    const char *xin = in_name(x, nd, 0);
    const char *doc = doc_of(x, nd);
    static const char *const ops[] = {"Relu", "Clip", "Elu", "LeakyRelu", "PRelu", "Sigmoid",
                                      "Mul", "HardSwish", "HardSigmoid", "Tanh"};
    if (nd->a.fn < 0 || nd->a.fn > HWNAS_NET_ACT_TANH)
        return hwnas__error(HWNAS_EINTERNAL, "onnx export: node '%s': activation %d", nm,
                            (int)nd->a.fn);
    char sig[1100];
    if (nd->a.fn == HWNAS_NET_ACT_SWISH) { /* x * Sigmoid(x) */
        snprintf(sig, sizeof sig, "%s", name(x, 2, nm, ".sigmoid"));
        size_t s = node_begin(x, "Sigmoid", sig, "hwnas:implicit");
        node_in(x, xin);
        node_out(x, sig);
        node_end(x, s);
    }
    if (nd->a.fn == HWNAS_NET_ACT_RELU6) {
        init_scalar(x, name(x, 0, nm, ".min"), 0.0f);
        init_scalar(x, name(x, 1, nm, ".max"), 6.0f);
    }
    if (nd->a.fn == HWNAS_NET_ACT_PRELU) {
        int64_t dims[3] = {nd->c, 1, 1};
        learned(x, name(x, 0, nm, ".slope"), dims, nd->rank == 4 ? 3 : 1,
                x->e ? x->e->nodes[i].p_off : 0, 0);
    }
    size_t m = node_begin(x, ops[nd->a.fn], nm, doc);
    node_in(x, xin);
    if (nd->a.fn == HWNAS_NET_ACT_SWISH)
        node_in(x, sig);
    if (nd->a.fn == HWNAS_NET_ACT_RELU6) {
        node_in(x, x->nm[0]);
        node_in(x, x->nm[1]);
    }
    if (nd->a.fn == HWNAS_NET_ACT_PRELU)
        node_in(x, x->nm[0]);
    node_out(x, nm);
    if (nd->a.fn == HWNAS_NET_ACT_ELU || nd->a.fn == HWNAS_NET_ACT_LEAKY_RELU)
        attr_float(x, "alpha", (float)nd->a.alpha);
    if (nd->a.fn == HWNAS_NET_ACT_HARD_SIGMOID) {
        attr_float(x, "alpha", 1.0f / 6.0f);
        attr_float(x, "beta", 0.5f);
    }
    node_end(x, m);
    return HWNAS_OK;
}

static int one_node(ex *x, size_t i)
{
    const hwnas__net_node *nd = &x->net->nodes[i];
    const char *nm = hwnas__net_str(x->net, nd->name);
    size_t m;
    switch (nd->kind) {
    case HWNAS_NET_INPUT: {
        int64_t dims[4] = {-1, nd->c, nd->h, nd->w};
        value_info(&x->inputs, ONNX_GRAPH_INPUT, nm, dims, 4);
        return HWNAS_OK;
    }
    case HWNAS_NET_CONV2D:
    case HWNAS_NET_DWCONV2D:
    case HWNAS_NET_LINEAR:
        layer(x, i, nd, nm);
        return HWNAS_OK;
    case HWNAS_NET_MAXPOOL:
    case HWNAS_NET_AVGPOOL:
        m = node_begin(x, nd->kind == HWNAS_NET_MAXPOOL ? "MaxPool" : "AveragePool", nm,
                       doc_of(x, nd));
        node_in(x, in_name(x, nd, 0));
        node_out(x, nm);
        window_attrs(x, &nd->a, 0);
        if (nd->kind == HWNAS_NET_AVGPOOL)
            attr_int(x, "count_include_pad", 0);
        node_end(x, m);
        return HWNAS_OK;
    case HWNAS_NET_BATCHNORM: {
        int64_t c = nd->c;
        size_t po = x->e ? x->e->nodes[i].p_off : 0, so = x->e ? x->e->nodes[i].s_off : 0;
        char b[4][1100];
        static const char *const suf[4] = {".weight", ".bias", ".running_mean", ".running_var"};
        for (int k = 0; k < 4; k++) {
            snprintf(b[k], sizeof b[k], "%s", name(x, 0, nm, suf[k]));
            learned(x, b[k], &c, 1, (k < 2 ? po : so) + (size_t)(k % 2) * (size_t)c, k >= 2);
        }
        m = node_begin(x, "BatchNormalization", nm, doc_of(x, nd));
        node_in(x, in_name(x, nd, 0));
        for (int k = 0; k < 4; k++)
            node_in(x, b[k]);
        node_out(x, nm);
        attr_float(x, "epsilon", 1e-5f);
        attr_float(x, "momentum", 0.9f);
        node_end(x, m);
        return HWNAS_OK;
    }
    case HWNAS_NET_ACT:
        return activation(x, i, nd, nm);
    case HWNAS_NET_DROPOUT:
        init_scalar(x, name(x, 0, nm, ".ratio"), (float)nd->a.alpha);
        m = node_begin(x, "Dropout", nm, doc_of(x, nd));
        node_in(x, in_name(x, nd, 0));
        node_in(x, x->nm[0]);
        node_out(x, nm);
        node_end(x, m);
        return HWNAS_OK;
    case HWNAS_NET_ZERO:
        init_scalar(x, name(x, 0, nm, ".zero"), 0.0f);
        m = node_begin(x, "Mul", nm, doc_of(x, nd));
        node_in(x, in_name(x, nd, 0));
        node_in(x, x->nm[0]);
        node_out(x, nm);
        node_end(x, m);
        return HWNAS_OK;
    case HWNAS_NET_SOFTMAX:
        if (nd->rank != 2)
            return hwnas__error(HWNAS_EUNSUPPORTED, "onnx export: softmax '%s' on a rank-%d "
                                "tensor: ONNX Softmax here takes (N, F) only", nm,
                                (int)nd->rank);
        /* fall through */
    case HWNAS_NET_GAVGPOOL:
    case HWNAS_NET_ADD:
    case HWNAS_NET_MUL:
    case HWNAS_NET_CONCAT:
    case HWNAS_NET_FLATTEN: {
        const char *op = nd->kind == HWNAS_NET_SOFTMAX    ? "Softmax"
                         : nd->kind == HWNAS_NET_GAVGPOOL ? "GlobalAveragePool"
                         : nd->kind == HWNAS_NET_ADD      ? (nd->n_in == 2 ? "Add" : "Sum")
                         : nd->kind == HWNAS_NET_MUL      ? "Mul"
                         : nd->kind == HWNAS_NET_CONCAT   ? "Concat"
                                                          : "Flatten";
        m = node_begin(x, op, nm, doc_of(x, nd));
        for (uint32_t j = 0; j < nd->n_in; j++)
            node_in(x, in_name(x, nd, j));
        node_out(x, nm);
        if (nd->kind == HWNAS_NET_SOFTMAX || nd->kind == HWNAS_NET_CONCAT ||
            nd->kind == HWNAS_NET_FLATTEN)
            attr_int(x, "axis", 1);
        node_end(x, m);
        return HWNAS_OK;
    }
    default:
        return hwnas__error(HWNAS_EUNSUPPORTED, "onnx export: node '%s': kind %d has no ONNX "
                            "operator", nm, (int)nd->kind);
    }
}

int hwnas_onnx_export(uint8_t **out, size_t *out_len, const hwnas_net *net,
                      const hwnas_model *model)
{
    if (!out || !out_len || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_onnx_export: NULL argument");
    *out = NULL;
    *out_len = 0;
    if (model && !hwnas_net_equal(model->net, net))
        return hwnas__error(HWNAS_EINVAL, "hwnas_onnx_export: the model is of another net");
    size_t n_input = 0;
    for (size_t i = 0; i < net->n; i++)
        n_input += net->nodes[i].kind == HWNAS_NET_INPUT;
    if (n_input != 1 || net->nodes[0].kind != HWNAS_NET_INPUT)
        return hwnas__error(HWNAS_EUNSUPPORTED, "hwnas_onnx_export: the net has %zu input "
                            "nodes; ONNX export needs exactly one, first", n_input);
    ex *x = hwnas__calloc(net->ctx, 1, sizeof *x);
    if (!x)
        return HWNAS_ENOMEM;
    x->ctx = net->ctx;
    x->net = net;
    x->e = model ? model->eng : NULL;
    x->nodes.ctx = x->inits.ctx = x->inputs.ctx = net->ctx;
    int rc = HWNAS_OK;
    for (size_t i = 0; rc == HWNAS_OK && i < net->n; i++)
        rc = one_node(x, i);
    hwnas__pbw w = {net->ctx, NULL, 0, 0, 0};
    if (rc == HWNAS_OK) {
        hwnas__pbw_int(&w, ONNX_MODEL_IR_VERSION, HWNAS__ONNX_IR_VERSION);
        hwnas__pbw_str(&w, ONNX_MODEL_PRODUCER, "libhwnas");
        hwnas__pbw_str(&w, ONNX_MODEL_PRODUCER_VERSION, HWNAS_VERSION_STRING);
        size_t o = hwnas__pbw_begin(&w);
        hwnas__pbw_str(&w, ONNX_OPSET_DOMAIN, "");
        hwnas__pbw_int(&w, ONNX_OPSET_VERSION, HWNAS__ONNX_OPSET);
        hwnas__pbw_end(&w, o, ONNX_MODEL_OPSET);
        size_t g = hwnas__pbw_begin(&w);
        hwnas__pbw_raw(&w, x->nodes.data, x->nodes.len);
        hwnas__pbw_str(&w, ONNX_GRAPH_NAME, "hwnas");
        hwnas__pbw_raw(&w, x->inits.data, x->inits.len);
        hwnas__pbw_raw(&w, x->inputs.data, x->inputs.len);
        const hwnas__net_node *last = &net->nodes[net->n - 1];
        int64_t dims[4] = {-1, last->c, last->h, last->w};
        value_info(&w, ONNX_GRAPH_OUTPUT, hwnas__net_str(net, last->name), dims, last->rank);
        hwnas__pbw_end(&w, g, ONNX_MODEL_GRAPH);
        if (x->too_long)
            rc = hwnas__error(HWNAS_EINVAL, "hwnas_onnx_export: a node name is too long");
        else if (w.failed || x->nodes.failed || x->inits.failed || x->inputs.failed)
            rc = hwnas__enomem();
    }
    if (rc == HWNAS_OK) {
        *out = hwnas__buffer_alloc(net->ctx, w.len ? w.len : 1);
        if (!*out)
            rc = HWNAS_ENOMEM;
        else {
            memcpy(*out, w.data, w.len);
            *out_len = w.len;
        }
    }
    hwnas__free(net->ctx, w.data);
    hwnas__free(net->ctx, x->nodes.data);
    hwnas__free(net->ctx, x->inits.data);
    hwnas__free(net->ctx, x->inputs.data);
    hwnas__free(net->ctx, x);
    return rc;
}

int hwnas_onnx_save(const hwnas_net *net, const hwnas_model *model, const char *path)
{
    if (!net || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_onnx_save: net and path are required");
    uint8_t *buf;
    size_t len;
    int rc = hwnas_onnx_export(&buf, &len, net, model);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas__file_write_atomic(net->ctx, path, buf, len, 0);
    hwnas_free(buf);
    return rc;
}

int hwnas_onnx_available(void)
{
    return 1;
}
