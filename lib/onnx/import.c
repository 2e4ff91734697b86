/* hwnas_onnx_import: an ONNX ModelProto to a net and, when it carries
 * them, its weights (doc/formats/onnx.md). The reader keeps views into the
 * caller's bytes and checks every length and count before using it; each
 * error names the file and the field or node. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model_internal.h"
#include "hwnas/onnx.h"
#include "net/net_internal.h"
#include "onnx_internal.h"

#define MAX_RANK 8
#define MAX_NODES 1000000

typedef struct str {
    const uint8_t *p;
    size_t n;
} str;

/* A tensor: an initialiser, a Constant's value, or a graph input other
 * than the data (a weight of an architecture-only file: data NULL). */
typedef struct tensor {
    str name;
    int dt;                   /* ONNX_DT_* */
    int rank;
    int64_t dims[MAX_RANK];
    size_t count;             /* product of dims */
    hwnas__pb msg;            /* the TensorProto; msg.p == NULL: no data */
} tensor;

typedef struct node {
    hwnas__pb msg;            /* the NodeProto */
    str name, op, domain, doc;
    size_t in_off, n_in, out_off, n_out; /* into im->strs */
    size_t offset;            /* of the node in the file */
} node;

enum { V_NONE = 0, V_NODE, V_TENSOR, V_SIGMOID };

/* A value: what an ONNX name stands for. */
typedef struct val {
    str name;
    int kind;                 /* V_*; V_NONE: used, not (yet) defined */
    int64_t idx;              /* V_NODE: IR node; V_TENSOR: tensor; V_SIGMOID: IR node of x */
    size_t onnx_node;         /* V_SIGMOID: the Sigmoid (made when not a swish) */
    int q8;                   /* came through QuantizeLinear / DequantizeLinear */
    uint32_t uses;            /* as a node input or graph output */
} val;

/* Where a node's weights come from, to fill the model once the net is
 * built. */
typedef struct wref {
    int64_t node;             /* IR node */
    int64_t t[4];             /* tensors (-1: none) */
    int transpose;            /* Gemm with transB = 0: B is [in][out] */
    float bn_eps;             /* batch-norm epsilon */
} wref;

typedef struct im {
    hwnas_context *ctx;
    const char *file;
    const uint8_t *base;
    tensor *t;
    size_t n_t, cap_t;
    node *nodes;
    size_t n_nodes, cap_nodes;
    str *strs;
    size_t n_strs, cap_strs;
    val *map;                 /* open addressing, cap_map a power of two */
    size_t cap_map;
    wref *w;
    size_t n_w, cap_w;
    str data_input;           /* the graph input that is the data */
    hwnas__pb data_type;      /* its TypeProto */
    str output;
    hwnas__pb output_type;
    int has_output_type;
    int weights_present, weights_missing;
    hwnas_net *net;
    char nbuf[3 * 128];
} im;

static int grow(im *m, void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = hwnas__realloc(m->ctx, *arr, c * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

static int eq(str s, const char *c)
{
    size_t n = strlen(c);
    return s.n == n && memcmp(s.p, c, n) == 0;
}

/* s shown in a message: at most 200 bytes, unprintable bytes as '?'. */
static const char *show(im *m, str s, int slot)
{
    char *b = m->nbuf + slot * 128;
    size_t n = s.n < 120 ? s.n : 120;
    for (size_t k = 0; k < n; k++)
        b[k] = s.p[k] >= 32 && s.p[k] < 127 ? (char)s.p[k] : '?';
    b[n] = 0;
    return b;
}

static int malformed(im *m, const char *what, size_t off)
{
    return hwnas__error(HWNAS_EFORMAT, "%s: malformed protobuf in %s at byte %zu", m->file,
                        what, off);
}

/* Node errors: "<file>: node 'NAME' (OpType): ..." */
static int node_error(im *m, int code, const node *nd, const char *fmt, ...) HWNAS_PRINTF(4, 5);
static int node_error(im *m, int code, const node *nd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hwnas__error(code, "%s: node '%s' (%s): %s", m->file, show(m, nd->name, 0),
                        show(m, nd->op, 1), msg);
}

/* ---- the value map ------------------------------------------------------ */

static uint64_t hash_str(str s)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < s.n; k++)
        h = (h ^ s.p[k]) * 1099511628211ull;
    return h;
}

/* The value named s, created (V_NONE) when create is set; NULL when
 * absent. The map is sized for every name up front, so it never fills. */
static val *lookup(im *m, str s, int create)
{
    size_t mask = m->cap_map - 1;
    for (size_t k = hash_str(s) & mask;; k = (k + 1) & mask) {
        val *v = &m->map[k];
        if (!v->name.p) {
            if (!create)
                return NULL;
            v->name = s;
            return v;
        }
        if (v->name.n == s.n && memcmp(v->name.p, s.p, s.n) == 0)
            return v;
    }
}

/* ---- parsing ------------------------------------------------------------ */

static int add_str(im *m, str s)
{
    if (grow(m, (void **)&m->strs, &m->cap_strs, m->n_strs, sizeof *m->strs))
        return HWNAS_ENOMEM;
    m->strs[m->n_strs++] = s;
    return HWNAS_OK;
}

static int parse_node(im *m, const hwnas__pb *g, const hwnas__pb_field *f)
{
    if (m->n_nodes >= MAX_NODES)
        return hwnas__error(HWNAS_EFORMAT, "%s: more than %d nodes", m->file, MAX_NODES);
    if (grow(m, (void **)&m->nodes, &m->cap_nodes, m->n_nodes, sizeof *m->nodes))
        return HWNAS_ENOMEM;
    node *nd = &m->nodes[m->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->msg = hwnas__pb_sub(g, f);
    nd->offset = f->offset;
    /* inputs then outputs, each in order: two passes over the fields */
    for (int pass = 0; pass < 2; pass++) {
        hwnas__pb p = nd->msg;
        hwnas__pb_field x;
        int r;
        if (pass == 0)
            nd->in_off = m->n_strs;
        else
            nd->out_off = m->n_strs;
        while ((r = hwnas__pb_next(&p, &x)) == 1) {
            str s = {x.data, x.len};
            if (x.wire != PB_LEN)
                continue;
            if (x.num == (pass ? ONNX_NODE_OUTPUT : ONNX_NODE_INPUT)) {
                if (add_str(m, s))
                    return HWNAS_ENOMEM;
                if (pass)
                    nd->n_out++;
                else
                    nd->n_in++;
            } else if (pass == 0) {
                if (x.num == ONNX_NODE_NAME)
                    nd->name = s;
                else if (x.num == ONNX_NODE_OP_TYPE)
                    nd->op = s;
                else if (x.num == ONNX_NODE_DOMAIN)
                    nd->domain = s;
                else if (x.num == ONNX_NODE_DOC)
                    nd->doc = s;
            }
        }
        if (r < 0)
            return malformed(m, "a NodeProto", nd->offset);
    }
    if (!nd->name.n && nd->n_out)
        nd->name = m->strs[nd->out_off];
    if (!nd->op.n)
        return hwnas__error(HWNAS_EFORMAT, "%s: node '%s' (byte %zu) has no op_type", m->file,
                            show(m, nd->name, 0), nd->offset);
    m->n_nodes++;
    return HWNAS_OK;
}

/* The shape of a TypeProto (tensor type) into dims (-1: symbolic). */
static int type_shape(im *m, hwnas__pb t, int64_t *dims, int *rank, int *elem, const char *what)
{
    hwnas__pb_field f;
    int r;
    *rank = -1;
    *elem = 0;
    while ((r = hwnas__pb_next(&t, &f)) == 1) {
        if (f.num != ONNX_TYPE_TENSOR || f.wire != PB_LEN)
            continue;
        hwnas__pb tt = hwnas__pb_sub(&t, &f);
        hwnas__pb_field g;
        while ((r = hwnas__pb_next(&tt, &g)) == 1) {
            if (g.num == ONNX_TT_ELEM_TYPE && g.wire == PB_VARINT)
                *elem = (int)g.v;
            if (g.num != ONNX_TT_SHAPE || g.wire != PB_LEN)
                continue;
            hwnas__pb sh = hwnas__pb_sub(&tt, &g);
            hwnas__pb_field d;
            *rank = 0;
            while ((r = hwnas__pb_next(&sh, &d)) == 1) {
                if (d.num != ONNX_SHAPE_DIM || d.wire != PB_LEN)
                    continue;
                if (*rank >= MAX_RANK)
                    return hwnas__error(HWNAS_EFORMAT, "%s: %s has more than %d dimensions",
                                        m->file, what, MAX_RANK);
                int64_t v = -1;
                hwnas__pb dm = hwnas__pb_sub(&sh, &d);
                hwnas__pb_field e;
                while ((r = hwnas__pb_next(&dm, &e)) == 1)
                    if (e.num == ONNX_DIM_VALUE && e.wire == PB_VARINT)
                        v = (int64_t)e.v;
                if (r < 0)
                    return malformed(m, what, d.offset);
                dims[(*rank)++] = v;
            }
            if (r < 0)
                return malformed(m, what, g.offset);
        }
        if (r < 0)
            return malformed(m, what, f.offset);
    }
    return r < 0 ? malformed(m, what, 0) : HWNAS_OK;
}

/* A TensorProto's name, type and shape (the data stays in place). */
static int parse_tensor(im *m, hwnas__pb msg, size_t offset, tensor *t)
{
    memset(t, 0, sizeof *t);
    t->msg = msg;
    t->count = 1;
    hwnas__pb p = msg;
    hwnas__pb_field f;
    int r;
    while ((r = hwnas__pb_next(&p, &f)) == 1) {
        if (f.num == ONNX_TENSOR_NAME && f.wire == PB_LEN) {
            t->name = (str){f.data, f.len};
        } else if (f.num == ONNX_TENSOR_DATA_TYPE && f.wire == PB_VARINT) {
            t->dt = (int)f.v;
        } else if (f.num == ONNX_TENSOR_DATA_LOCATION && f.wire == PB_VARINT && f.v != 0) {
            return hwnas__error(HWNAS_EUNSUPPORTED, "%s: tensor '%s' keeps its data in an "
                                "external file, which is not supported", m->file,
                                show(m, t->name, 0));
        } else if (f.num == ONNX_TENSOR_DIMS) {
            /* packed or one per field */
            const uint8_t *q = f.data, *end = f.data ? f.data + f.len : NULL;
            uint64_t v = f.v;
            for (;;) {
                if (f.wire == PB_LEN) {
                    if (q >= end)
                        break;
                    if (hwnas__pb_varint(&q, end, &v) != 0)
                        return malformed(m, "a tensor's dims", f.offset);
                } else if (f.wire != PB_VARINT) {
                    return malformed(m, "a tensor's dims", f.offset);
                }
                if (t->rank >= MAX_RANK)
                    return hwnas__error(HWNAS_EFORMAT, "%s: tensor at byte %zu has more than "
                                        "%d dimensions", m->file, offset, MAX_RANK);
                if ((int64_t)v < 0 || v > ((uint64_t)1 << 40) ||
                    (v && t->count > (((size_t)1 << 40) / v)))
                    return hwnas__error(HWNAS_EFORMAT, "%s: tensor at byte %zu: dimension "
                                        "%lld out of range", m->file, offset, (long long)v);
                t->dims[t->rank++] = (int64_t)v;
                t->count *= (size_t)v;
                if (f.wire != PB_LEN)
                    break;
            }
        }
    }
    if (r < 0)
        return malformed(m, "a TensorProto", offset);
    return HWNAS_OK;
}

static int add_tensor(im *m, const tensor *t, int64_t *out)
{
    if (grow(m, (void **)&m->t, &m->cap_t, m->n_t, sizeof *m->t))
        return HWNAS_ENOMEM;
    m->t[m->n_t] = *t;
    *out = (int64_t)m->n_t++;
    return HWNAS_OK;
}

static int parse_graph(im *m, hwnas__pb g)
{
    hwnas__pb p = g;
    hwnas__pb_field f;
    int r, rc;
    while ((r = hwnas__pb_next(&p, &f)) == 1) {
        if (f.wire != PB_LEN)
            continue;
        if (f.num == ONNX_GRAPH_NODE) {
            if ((rc = parse_node(m, &p, &f)) != HWNAS_OK)
                return rc;
        } else if (f.num == ONNX_GRAPH_INITIALIZER) {
            tensor t;
            int64_t k;
            if ((rc = parse_tensor(m, hwnas__pb_sub(&p, &f), f.offset, &t)) != HWNAS_OK ||
                (rc = add_tensor(m, &t, &k)) != HWNAS_OK)
                return rc;
        } else if (f.num == ONNX_GRAPH_SPARSE_INITIALIZER) {
            return hwnas__error(HWNAS_EUNSUPPORTED, "%s: sparse initialisers are not "
                                "supported", m->file);
        } else if (f.num == ONNX_GRAPH_INPUT || f.num == ONNX_GRAPH_OUTPUT) {
            hwnas__pb vi = hwnas__pb_sub(&p, &f), q = vi;
            hwnas__pb_field x;
            str name = {NULL, 0};
            hwnas__pb type = {NULL, NULL, m->base};
            while ((r = hwnas__pb_next(&q, &x)) == 1) {
                if (x.num == ONNX_VI_NAME && x.wire == PB_LEN)
                    name = (str){x.data, x.len};
                else if (x.num == ONNX_VI_TYPE && x.wire == PB_LEN)
                    type = hwnas__pb_sub(&q, &x);
            }
            if (r < 0)
                return malformed(m, "a ValueInfoProto", f.offset);
            if (!name.n)
                return hwnas__error(HWNAS_EFORMAT, "%s: a graph %s at byte %zu has no name",
                                    m->file, f.num == ONNX_GRAPH_INPUT ? "input" : "output",
                                    f.offset);
            if (f.num == ONNX_GRAPH_OUTPUT) {
                if (m->output.p)
                    return hwnas__error(HWNAS_EUNSUPPORTED, "%s: the graph has more than one "
                                        "output ('%s', '%s')", m->file, show(m, m->output, 0),
                                        show(m, name, 1));
                m->output = name;
                m->output_type = type;
                m->has_output_type = type.p != NULL;
                continue;
            }
            /* graph inputs: kept as tensors without data; the data input
             * is told apart once the initialisers are known */
            tensor t;
            memset(&t, 0, sizeof t);
            t.name = name;
            t.dt = -1; /* a graph input: no data */
            int elem;
            if ((rc = type_shape(m, type, t.dims, &t.rank, &elem, "a graph input")) != HWNAS_OK)
                return rc;
            int64_t k;
            if ((rc = add_tensor(m, &t, &k)) != HWNAS_OK)
                return rc;
        }
    }
    if (r < 0)
        return malformed(m, "the GraphProto", f.offset);
    if (!m->output.p)
        return hwnas__error(HWNAS_EFORMAT, "%s: the graph has no output", m->file);
    return HWNAS_OK;
}

/* ---- attributes ------------------------------------------------------- */

/* The AttributeProto called name of nd into *a; 0 found, 1 absent. */
static int attr_find(im *m, const node *nd, const char *name, hwnas__pb *a)
{
    hwnas__pb p = nd->msg;
    hwnas__pb_field f;
    int r;
    while ((r = hwnas__pb_next(&p, &f)) == 1) {
        if (f.num != ONNX_NODE_ATTRIBUTE || f.wire != PB_LEN)
            continue;
        hwnas__pb q = hwnas__pb_sub(&p, &f), s = q;
        hwnas__pb_field x;
        while ((r = hwnas__pb_next(&s, &x)) == 1)
            if (x.num == ONNX_ATTR_NAME && x.wire == PB_LEN && eq((str){x.data, x.len}, name)) {
                *a = q;
                return 0;
            }
        if (r < 0)
            return -1;
    }
    return r < 0 ? -1 : 1;
}

/* Integers of an attribute (i, or ints packed or not) into out[0..cap):
 * the count, or -1 when the attribute is there but holds no integer, -2
 * malformed. Absent: 0 and *absent set. */
static int attr_ints(im *m, const node *nd, const char *name, int64_t *out, int cap, int *absent)
{
    hwnas__pb a;
    int r = attr_find(m, nd, name, &a);
    *absent = r == 1;
    if (r)
        return r < 0 ? -2 : 0;
    hwnas__pb_field f;
    int n = 0, any = 0;
    while ((r = hwnas__pb_next(&a, &f)) == 1) {
        if (f.num == ONNX_ATTR_I && f.wire == PB_VARINT) {
            any = 1;
            if (n < cap)
                out[n] = (int64_t)f.v;
            n++;
        } else if (f.num == ONNX_ATTR_INTS && (f.wire == PB_VARINT || f.wire == PB_LEN)) {
            any = 1;
            const uint8_t *q = f.data, *end = f.data ? f.data + f.len : NULL;
            uint64_t v = f.v;
            do {
                if (f.wire == PB_LEN) {
                    if (q >= end)
                        break;
                    if (hwnas__pb_varint(&q, end, &v) != 0)
                        return -2;
                }
                if (n < cap)
                    out[n] = (int64_t)v;
                n++;
            } while (f.wire == PB_LEN);
        }
    }
    if (r < 0)
        return -2;
    return any ? n : -1;
}

/* One integer attribute with a default; errors name the node. */
static int attr_int(im *m, const node *nd, const char *name, int64_t dflt, int64_t *out)
{
    int absent;
    int64_t v[1];
    int n = attr_ints(m, nd, name, v, 1, &absent);
    if (absent) {
        *out = dflt;
        return HWNAS_OK;
    }
    if (n == -2)
        return malformed(m, "an AttributeProto", nd->offset);
    if (n != 1)
        return node_error(m, HWNAS_EFORMAT, nd, "attribute '%s' is not one integer", name);
    *out = v[0];
    return HWNAS_OK;
}

/* A pair of integer attribute values (kernel_shape, strides, dilations),
 * or four for pads (begin h, begin w, end h, end w). */
static int attr_n(im *m, const node *nd, const char *name, int want, int64_t dflt, int64_t *out)
{
    int absent;
    int n = attr_ints(m, nd, name, out, want, &absent);
    if (absent) {
        for (int k = 0; k < want; k++)
            out[k] = dflt;
        return HWNAS_OK;
    }
    if (n == -2)
        return malformed(m, "an AttributeProto", nd->offset);
    if (n != want)
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "attribute '%s' has %d values; the IR "
                          "takes %d (2-D only)", name, n, want);
    for (int k = 0; k < want; k++)
        if (out[k] < 0 || out[k] > 1 << 20)
            return node_error(m, HWNAS_EFORMAT, nd, "attribute '%s' value %lld is out of range",
                              name, (long long)out[k]);
    return HWNAS_OK;
}

static int attr_float(im *m, const node *nd, const char *name, float dflt, float *out)
{
    hwnas__pb a;
    int r = attr_find(m, nd, name, &a);
    *out = dflt;
    if (r == 1)
        return HWNAS_OK;
    if (r < 0)
        return malformed(m, "an AttributeProto", nd->offset);
    hwnas__pb_field f;
    int any = 0;
    while ((r = hwnas__pb_next(&a, &f)) == 1)
        if (f.num == ONNX_ATTR_F && f.wire == PB_FIXED32) {
            uint32_t u = (uint32_t)f.v;
            memcpy(out, &u, 4);
            any = 1;
        }
    if (r < 0)
        return malformed(m, "an AttributeProto", nd->offset);
    if (!any || !isfinite(*out))
        return node_error(m, HWNAS_EFORMAT, nd, "attribute '%s' is not a finite float", name);
    return HWNAS_OK;
}

/* A string attribute; 1 when absent. */
static int attr_str(im *m, const node *nd, const char *name, str *out)
{
    hwnas__pb a;
    int r = attr_find(m, nd, name, &a);
    if (r)
        return r;
    hwnas__pb_field f;
    while ((r = hwnas__pb_next(&a, &f)) == 1)
        if (f.num == ONNX_ATTR_S && f.wire == PB_LEN)
            *out = (str){f.data, f.len};
    return r < 0 ? -1 : 0;
}

/* ---- tensor data ------------------------------------------------------ */

/* Tensor t's values as floats into out[0..t->count). */
static int tensor_floats(im *m, const tensor *t, float *out)
{
    if (!t->msg.p)
        return hwnas__error(HWNAS_EFORMAT, "%s: tensor '%s' has no data", m->file,
                            show(m, t->name, 0));
    if (t->dt != ONNX_DT_FLOAT && t->dt != ONNX_DT_DOUBLE)
        return hwnas__error(HWNAS_EUNSUPPORTED, "%s: tensor '%s' has data type %d; weights "
                            "must be float (1) or double (11)", m->file, show(m, t->name, 0),
                            t->dt);
    size_t es = t->dt == ONNX_DT_FLOAT ? 4 : 8, got = 0;
    hwnas__pb p = t->msg;
    hwnas__pb_field f;
    int r;
    uint32_t want_field = t->dt == ONNX_DT_FLOAT ? ONNX_TENSOR_FLOAT_DATA : ONNX_TENSOR_DOUBLE_DATA;
    int want_wire = es == 4 ? PB_FIXED32 : PB_FIXED64;
    while ((r = hwnas__pb_next(&p, &f)) == 1) {
        if ((f.num == ONNX_TENSOR_RAW_DATA || f.num == want_field) && f.wire == PB_LEN) {
            if (f.len % es || f.len / es > t->count - got)
                return hwnas__error(HWNAS_EFORMAT, "%s: tensor '%s': %zu data bytes for %zu "
                                    "values of %zu bytes", m->file, show(m, t->name, 0), f.len,
                                    t->count, es);
            for (size_t k = 0; k < f.len / es; k++) {
                uint64_t u = 0;
                for (size_t b = 0; b < es; b++)
                    u |= (uint64_t)f.data[k * es + b] << (8 * b);
                if (es == 4) {
                    uint32_t u32 = (uint32_t)u;
                    memcpy(&out[got++], &u32, 4);
                } else {
                    double d;
                    memcpy(&d, &u, 8);
                    out[got++] = (float)d;
                }
            }
        } else if (f.num == want_field && f.wire == want_wire) {
            if (got >= t->count)
                return hwnas__error(HWNAS_EFORMAT, "%s: tensor '%s' has more values than its "
                                    "shape", m->file, show(m, t->name, 0));
            if (es == 4) {
                uint32_t u32 = (uint32_t)f.v;
                memcpy(&out[got++], &u32, 4);
            } else {
                double d;
                memcpy(&d, &f.v, 8);
                out[got++] = (float)d;
            }
        }
    }
    if (r < 0)
        return malformed(m, "a TensorProto", 0);
    if (got != t->count)
        return hwnas__error(HWNAS_EFORMAT, "%s: tensor '%s' has %zu values; its shape says %zu",
                            m->file, show(m, t->name, 0), got, t->count);
    for (size_t k = 0; k < got; k++)
        if (!isfinite(out[k]))
            return hwnas__error(HWNAS_EFORMAT, "%s: tensor '%s': value %zu is not finite",
                                m->file, show(m, t->name, 0), k);
    return HWNAS_OK;
}

/* A scalar float constant (one value). */
static int scalar(im *m, const node *nd, const val *v, float *out)
{
    if (!v || v->kind != V_TENSOR || m->t[v->idx].count != 1 || !m->t[v->idx].msg.p)
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "expects a constant scalar input");
    return tensor_floats(m, &m->t[v->idx], out);
}

/* int64 values of a constant (Reshape's shape) into out[0..cap). */
static int tensor_int64s(im *m, const node *nd, const tensor *t, int64_t *out, size_t cap)
{
    if (!t->msg.p || t->dt != ONNX_DT_INT64 || t->count > cap)
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "expects a constant int64 input of at "
                          "most %zu values", cap);
    size_t got = 0;
    hwnas__pb p = t->msg;
    hwnas__pb_field f;
    int r;
    while ((r = hwnas__pb_next(&p, &f)) == 1) {
        if (f.num == ONNX_TENSOR_RAW_DATA && f.wire == PB_LEN) {
            if (f.len != 8 * t->count)
                return node_error(m, HWNAS_EFORMAT, nd, "int64 tensor with %zu raw bytes", f.len);
            for (size_t k = 0; k < t->count; k++) {
                uint64_t u = 0;
                for (int b = 0; b < 8; b++)
                    u |= (uint64_t)f.data[8 * k + b] << (8 * b);
                out[got++] = (int64_t)u;
            }
        } else if (f.num == ONNX_TENSOR_INT64_DATA) {
            const uint8_t *q = f.data, *end = f.data ? f.data + f.len : NULL;
            uint64_t v = f.v;
            do {
                if (f.wire == PB_LEN) {
                    if (q >= end)
                        break;
                    if (hwnas__pb_varint(&q, end, &v) != 0)
                        return malformed(m, "a TensorProto", nd->offset);
                } else if (f.wire != PB_VARINT) {
                    break;
                }
                if (got >= t->count)
                    return node_error(m, HWNAS_EFORMAT, nd, "int64 tensor longer than its shape");
                out[got++] = (int64_t)v;
            } while (f.wire == PB_LEN);
        }
    }
    if (r < 0)
        return malformed(m, "a TensorProto", nd->offset);
    if (got != t->count)
        return node_error(m, HWNAS_EFORMAT, nd, "int64 tensor with %zu of %zu values", got,
                          t->count);
    return HWNAS_OK;
}

/* ---- building the net ------------------------------------------------- */

static str in_at(const im *m, const node *nd, size_t j)
{
    return j < nd->n_in ? m->strs[nd->in_off + j] : (str){NULL, 0};
}

static str out_at(const im *m, const node *nd, size_t j)
{
    return j < nd->n_out ? m->strs[nd->out_off + j] : (str){NULL, 0};
}

/* Input j of nd as an IR node (a sigmoid kept for a swish is made now). */
static int in_node(im *m, const node *nd, size_t j, int64_t *out, int *q8);

/* The IR name for an ONNX name: '/' becomes '.', other characters the IR
 * does not take '_', a leading one that may not start a name gets an 'n'
 * in front, and a clash a suffix. NULL: let the IR name it. */
static const char *ir_name(im *m, str s, char *buf, size_t size)
{
    if (!s.n)
        return NULL;
    size_t k = 0, n = 0;
    while (k < s.n && s.p[k] == '/')
        k++;
    int digits_only = s.n - k > 1 && s.p[k] == '_';
    for (size_t j = k + (digits_only ? 1 : 0); j < s.n; j++)
        digits_only &= s.p[j] >= '0' && s.p[j] <= '9';
    if (digits_only) { /* an automatic name: the same index keeps it */
        char want[32];
        snprintf(want, sizeof want, "_%zu", hwnas_net_node_count(m->net));
        if (eq(s, want))
            return NULL;
    }
    int lead_ok = k < s.n && ((s.p[k] >= 'A' && s.p[k] <= 'Z') || (s.p[k] >= 'a' && s.p[k] <= 'z') ||
                              (s.p[k] == '_' && !digits_only));
    if (!lead_ok)
        buf[n++] = 'n';
    for (; k < s.n && n + 12 < size && n < 110; k++) { /* names are at most 128 */
        uint8_t c = s.p[k];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.';
        buf[n++] = c == '/' ? '.' : ok ? (char)c : '_';
    }
    buf[n] = 0;
    if (n == 1 && buf[0] == '_')
        buf[n++] = 'n', buf[n] = 0;
    for (int suffix = 2; hwnas_net_find(m->net, buf) >= 0 && suffix < 1000000; suffix++)
        snprintf(buf + n, size - n, "_%d", suffix);
    return buf;
}

/* Append an IR node for ONNX node nd; rc of hwnas_net_add with the
 * message naming the ONNX node. */
static int add(im *m, const node *nd, int64_t *out, const char *op, const int64_t *in,
               size_t n_in, const char *attrs)
{
    char buf[256];
    const char *name = ir_name(m, nd->name, buf, sizeof buf);
    int rc = hwnas_net_add(out, m->net, op, name, in, n_in, attrs);
    if (rc == HWNAS_EINVAL)
        return node_error(m, HWNAS_EFORMAT, nd, "%s", hwnas_error_last());
    return rc;
}

static int define(im *m, const node *nd, size_t j, int kind, int64_t idx, int q8)
{
    str o = out_at(m, nd, j);
    val *v = lookup(m, o, 1);
    if (v->kind != V_NONE)
        return node_error(m, HWNAS_EFORMAT, nd, "output '%s' is defined twice", show(m, o, 2));
    v->kind = kind;
    v->idx = idx;
    v->q8 = q8;
    return HWNAS_OK;
}

/* A single-output node's other outputs must be unused (MaxPool's indices,
 * Dropout's mask, BatchNormalization's training outputs). */
static int only_first_output(im *m, const node *nd)
{
    for (size_t j = 1; j < nd->n_out; j++) {
        str o = out_at(m, nd, j);
        val *v = o.n ? lookup(m, o, 0) : NULL;
        if (v && v->uses)
            return node_error(m, HWNAS_EUNSUPPORTED, nd, "output %zu ('%s') is used; only the "
                              "first output is supported", j, show(m, o, 2));
    }
    return HWNAS_OK;
}

/* A tensor input (weights), or -1 when absent (optional). */
static int tensor_in(im *m, const node *nd, size_t j, int64_t *t, int *q8, int optional)
{
    str s = in_at(m, nd, j);
    *t = -1;
    if (!s.n) {
        if (optional)
            return HWNAS_OK;
        return node_error(m, HWNAS_EFORMAT, nd, "input %zu is missing", j);
    }
    val *v = lookup(m, s, 0);
    if (!v || v->kind != V_TENSOR)
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "input %zu ('%s') must be an initialiser "
                          "(a weight), not a computed value", j, show(m, s, 2));
    *t = v->idx;
    if (q8)
        *q8 |= v->q8;
    const tensor *x = &m->t[*t];
    /* every value takes at least 4 bytes of the file: a shape that claims
     * more than the bytes can hold is refused before anything is sized
     * by it */
    if (x->msg.p && x->count > (size_t)(x->msg.end - x->msg.p) / 4)
        return node_error(m, HWNAS_EFORMAT, nd, "tensor '%s' claims %zu values in %zu bytes",
                          show(m, x->name, 2), x->count, (size_t)(x->msg.end - x->msg.p));
    if (x->msg.p)
        m->weights_present = 1;
    else
        m->weights_missing = 1;
    return HWNAS_OK;
}

static int check_dims(im *m, const node *nd, int64_t t, const int64_t *want, int rank,
                      const char *what)
{
    const tensor *x = &m->t[t];
    int ok = x->rank == rank;
    for (int k = 0; ok && k < rank; k++)
        ok = x->dims[k] == want[k];
    /* a rank-1 per-channel tensor may come as [C, 1, 1] (PRelu) */
    if (!ok && rank == 1 && x->rank == 3 && x->dims[0] == want[0] && x->dims[1] == 1 &&
        x->dims[2] == 1)
        ok = 1;
    if (!ok) {
        char got[160] = "";
        for (int k = 0; k < x->rank && strlen(got) < 120; k++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", k ? "x" : "",
                     (long long)x->dims[k]);
        char exp[160] = "";
        for (int k = 0; k < rank; k++)
            snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s%lld", k ? "x" : "",
                     (long long)want[k]);
        return node_error(m, HWNAS_EFORMAT, nd, "%s '%s' has shape %s; expected %s", what,
                          show(m, x->name, 2), *got ? got : "(scalar)", exp);
    }
    return HWNAS_OK;
}

static int add_wref(im *m, int64_t node_idx, int64_t t0, int64_t t1, int64_t t2, int64_t t3,
                    int transpose, float eps)
{
    if (grow(m, (void **)&m->w, &m->cap_w, m->n_w, sizeof *m->w))
        return HWNAS_ENOMEM;
    m->w[m->n_w++] = (wref){node_idx, {t0, t1, t2, t3}, transpose, eps};
    return HWNAS_OK;
}

/* The hwnas: key=value pairs of a node's doc_string: value of key into
 * out, 1 when found. */
static int doc_get(const node *nd, const char *key, char *out, size_t size)
{
    if (nd->doc.n < 6 || memcmp(nd->doc.p, "hwnas:", 6) != 0)
        return 0;
    size_t kl = strlen(key);
    const uint8_t *p = nd->doc.p + 6, *end = nd->doc.p + nd->doc.n;
    while (p < end) {
        const uint8_t *e = memchr(p, ';', (size_t)(end - p));
        if (!e)
            e = end;
        if ((size_t)(e - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t n = (size_t)(e - p) - kl - 1;
            if (n >= size)
                return 0;
            memcpy(out, p + kl + 1, n);
            out[n] = 0;
            return 1;
        }
        p = e + 1;
    }
    return 0;
}

static int is_implicit(const node *nd)
{
    return eq(nd->doc, "hwnas:implicit");
}

/* The multiplier attributes of a layer ("" or ",mul=NAME,bits=8"). */
static void mul_attrs(const node *nd, int q8, char *out, size_t size)
{
    char mul[80], bits[8];
    int has_mul = doc_get(nd, "mul", mul, sizeof mul);
    int n = 0;
    out[0] = 0;
    if (has_mul && strcmp(mul, "exact") != 0)
        n = snprintf(out, size, ",mul=%s", mul);
    if (q8 || (doc_get(nd, "bits", bits, sizeof bits) && strcmp(bits, "8") == 0))
        snprintf(out + n, size - (size_t)n, ",bits=8");
}

/* The shortest decimal that reads back as f (so 0.01f is "0.01"). */
static void float_text(char *out, size_t size, float f)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(out, size, "%.*g", prec, (double)f);
        if ((float)strtod(out, NULL) == f)
            return;
    }
}

static int do_conv(im *m, const node *nd, int64_t x, int q8)
{
    int64_t w, b, k[2], s[2], d[2], pads[4], group;
    int rc;
    if ((rc = tensor_in(m, nd, 1, &w, &q8, 0)) || (rc = tensor_in(m, nd, 2, &b, NULL, 1)))
        return rc;
    const tensor *wt = &m->t[w];
    if (wt->rank != 4)
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "weights of rank %d: only 2-D "
                          "convolutions (rank-4 weights) are supported", wt->rank);
    if ((rc = attr_n(m, nd, "kernel_shape", 2, 0, k)) || (rc = attr_n(m, nd, "strides", 2, 1, s)) ||
        (rc = attr_n(m, nd, "dilations", 2, 1, d)) || (rc = attr_n(m, nd, "pads", 4, 0, pads)) ||
        (rc = attr_int(m, nd, "group", 1, &group)))
        return rc;
    if (!k[0] && !k[1])
        k[0] = wt->dims[2], k[1] = wt->dims[3];
    if (k[0] != wt->dims[2] || k[1] != wt->dims[3])
        return node_error(m, HWNAS_EFORMAT, nd, "kernel_shape %lldx%lld differs from the "
                          "weights' %lldx%lld", (long long)k[0], (long long)k[1],
                          (long long)wt->dims[2], (long long)wt->dims[3]);
    str ap = {NULL, 0};
    if (attr_str(m, nd, "auto_pad", &ap) < 0)
        return malformed(m, "an AttributeProto", nd->offset);
    if (ap.n && !eq(ap, "NOTSET") && !eq(ap, "VALID"))
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "auto_pad %s is not supported (give "
                          "explicit pads)", show(m, ap, 2));
    if (pads[0] != pads[2] || pads[1] != pads[3])
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "asymmetric pads [%lld, %lld, %lld, %lld] "
                          "are not supported", (long long)pads[0], (long long)pads[1],
                          (long long)pads[2], (long long)pads[3]);
    int64_t dims[4];
    hwnas_net_node_shape(m->net, (size_t)x, dims);
    int64_t c = dims[1], mo = wt->dims[0];
    if (group < 1 || c % group || mo % group || wt->dims[1] != c / group)
        return node_error(m, HWNAS_EFORMAT, nd, "group %lld, weights %lldx%lld for %lld input "
                          "channels do not fit", (long long)group, (long long)mo,
                          (long long)wt->dims[1], (long long)c);
    char op[16] = "", mul[120], attrs[400];
    doc_get(nd, "op", op, sizeof op);
    mul_attrs(nd, q8, mul, sizeof mul);
    int dw = group == c && c > 1 && strcmp(op, "conv") != 0;
    if (strcmp(op, "dwconv") == 0 && group == c)
        dw = 1;
    if (dw)
        snprintf(attrs, sizeof attrs, "mult=%lld", (long long)(mo / c));
    else
        snprintf(attrs, sizeof attrs, "out=%lld,groups=%lld", (long long)mo, (long long)group);
    snprintf(attrs + strlen(attrs), sizeof attrs - strlen(attrs),
             ",kh=%lld,kw=%lld,sh=%lld,sw=%lld,ph=%lld,pw=%lld,dh=%lld,dw=%lld,bias=%d%s",
             (long long)k[0], (long long)k[1], (long long)s[0], (long long)s[1],
             (long long)pads[0], (long long)pads[1], (long long)d[0], (long long)d[1], b >= 0,
             mul);
    if (b >= 0 && (rc = check_dims(m, nd, b, &mo, 1, "bias")))
        return rc;
    int64_t out;
    if ((rc = add(m, nd, &out, dw ? "dwconv" : "conv", &x, 1, attrs)) ||
        (rc = add_wref(m, out, w, b, -1, -1, 0, 0)))
        return rc;
    return define(m, nd, 0, V_NODE, out, 0);
}

static int do_gemm(im *m, const node *nd, int64_t x, int q8)
{
    int64_t w, b, ta, tb, dims[4];
    float alpha, beta;
    int rc;
    if ((rc = tensor_in(m, nd, 1, &w, &q8, 0)) || (rc = tensor_in(m, nd, 2, &b, NULL, 1)) ||
        (rc = attr_int(m, nd, "transA", 0, &ta)) || (rc = attr_int(m, nd, "transB", 0, &tb)) ||
        (rc = attr_float(m, nd, "alpha", 1, &alpha)) || (rc = attr_float(m, nd, "beta", 1, &beta)))
        return rc;
    if (ta || alpha != 1 || (b >= 0 && beta != 1))
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "only transA = 0, alpha = 1 and beta = 1 "
                          "are supported");
    const tensor *wt = &m->t[w];
    int rank = hwnas_net_node_shape(m->net, (size_t)x, dims);
    int64_t in = rank == 4 ? dims[1] * dims[2] * dims[3] : dims[1];
    if (wt->rank != 2)
        return node_error(m, HWNAS_EFORMAT, nd, "B has rank %d; expected 2", wt->rank);
    int64_t outf = tb ? wt->dims[0] : wt->dims[1];
    int64_t want[2] = {tb ? outf : in, tb ? in : outf};
    if ((rc = check_dims(m, nd, w, want, 2, "B")))
        return rc;
    if (b >= 0) {
        int64_t bd[2] = {1, outf};
        const tensor *bt = &m->t[b];
        if (!(bt->rank == 2 && bt->dims[0] == 1 && bt->dims[1] == outf) &&
            (rc = check_dims(m, nd, b, bd + 1, 1, "C")))
            return rc;
    }
    char mul[120], attrs[200];
    mul_attrs(nd, q8, mul, sizeof mul);
    snprintf(attrs, sizeof attrs, "out=%lld,bias=%d%s", (long long)outf, b >= 0, mul);
    int64_t out;
    if ((rc = add(m, nd, &out, "linear", &x, 1, attrs)) ||
        (rc = add_wref(m, out, w, b, -1, -1, !tb, 0)))
        return rc;
    return define(m, nd, 0, V_NODE, out, 0);
}

static int do_pool(im *m, const node *nd, int64_t x, int max)
{
    int64_t k[2], s[2], d[2], pads[4], ceil_mode, cip, so;
    int rc;
    if ((rc = attr_n(m, nd, "kernel_shape", 2, 0, k)) || (rc = attr_n(m, nd, "strides", 2, 1, s)) ||
        (rc = attr_n(m, nd, "dilations", 2, 1, d)) || (rc = attr_n(m, nd, "pads", 4, 0, pads)) ||
        (rc = attr_int(m, nd, "ceil_mode", 0, &ceil_mode)) ||
        (rc = attr_int(m, nd, "count_include_pad", 0, &cip)) ||
        (rc = attr_int(m, nd, "storage_order", 0, &so)) || (rc = only_first_output(m, nd)))
        return rc;
    str ap = {NULL, 0};
    if (attr_str(m, nd, "auto_pad", &ap) < 0)
        return malformed(m, "an AttributeProto", nd->offset);
    if (ap.n && !eq(ap, "NOTSET") && !eq(ap, "VALID"))
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "auto_pad %s is not supported",
                          show(m, ap, 2));
    if (ceil_mode || d[0] != 1 || d[1] != 1 || so)
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "ceil_mode, dilations and storage_order "
                          "other than the defaults are not supported");
    if (pads[0] != pads[2] || pads[1] != pads[3])
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "asymmetric pads are not supported");
    if (!max && cip && (pads[0] || pads[1]))
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "count_include_pad = 1 with padding is "
                          "not supported (the IR averages over the window inside the input)");
    if (k[0] < 1 || k[1] < 1)
        return node_error(m, HWNAS_EFORMAT, nd, "kernel_shape is missing");
    char attrs[200];
    snprintf(attrs, sizeof attrs, "kh=%lld,kw=%lld,sh=%lld,sw=%lld,ph=%lld,pw=%lld",
             (long long)k[0], (long long)k[1], (long long)s[0], (long long)s[1],
             (long long)pads[0], (long long)pads[1]);
    int64_t out;
    if ((rc = add(m, nd, &out, max ? "maxpool" : "avgpool", &x, 1, attrs)))
        return rc;
    return define(m, nd, 0, V_NODE, out, 0);
}

static int do_bn(im *m, const node *nd, int64_t x)
{
    int64_t t[4], dims[4], tm;
    float eps;
    int rc;
    for (int k = 0; k < 4; k++)
        if ((rc = tensor_in(m, nd, (size_t)k + 1, &t[k], NULL, 0)))
            return rc;
    if ((rc = attr_float(m, nd, "epsilon", 1e-5f, &eps)) ||
        (rc = attr_int(m, nd, "training_mode", 0, &tm)) || (rc = only_first_output(m, nd)))
        return rc;
    if (tm || eps < 0)
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "training_mode = 1 or a negative epsilon");
    hwnas_net_node_shape(m->net, (size_t)x, dims);
    for (int k = 0; k < 4; k++)
        if ((rc = check_dims(m, nd, t[k], &dims[1], 1, "parameter")))
            return rc;
    int64_t out;
    if ((rc = add(m, nd, &out, "bn", &x, 1, NULL)) ||
        (rc = add_wref(m, out, t[0], t[1], t[2], t[3], 0, eps)))
        return rc;
    return define(m, nd, 0, V_NODE, out, 0);
}

/* Activations with no parameter: op is the IR's name. */
static int do_simple(im *m, const node *nd, const char *op, const int64_t *in, size_t n,
                     const char *attrs)
{
    int64_t out;
    int rc = add(m, nd, &out, op, in, n, attrs);
    if (rc)
        return rc;
    return define(m, nd, 0, V_NODE, out, 0);
}

/* A Sigmoid kept for a swish that is not one after all: made now. */
static int materialize_sigmoid(im *m, val *v)
{
    const node *sg = &m->nodes[v->onnx_node];
    char buf[256];
    int64_t x = v->idx, o;
    int rc = hwnas_net_add(&o, m->net, "sigmoid", ir_name(m, sg->name, buf, sizeof buf), &x, 1,
                           NULL);
    if (rc)
        return rc == HWNAS_EINVAL ? node_error(m, HWNAS_EFORMAT, sg, "%s", hwnas_error_last()) : rc;
    v->kind = V_NODE;
    v->idx = o;
    return HWNAS_OK;
}

static int in_node(im *m, const node *nd, size_t j, int64_t *out, int *q8)
{
    str s = in_at(m, nd, j);
    val *v = s.n ? lookup(m, s, 0) : NULL;
    if (!v || v->kind == V_NONE)
        return node_error(m, HWNAS_EFORMAT, nd, "input %zu ('%s') is not defined before the "
                          "node", j, show(m, s, 2));
    if (v->kind == V_TENSOR)
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "input %zu ('%s') is a constant; the IR "
                          "takes computed values here", j, show(m, s, 2));
    if (v->kind == V_SIGMOID) { /* not a swish after all */
        int rc = materialize_sigmoid(m, v);
        if (rc)
            return rc;
    }
    *out = v->idx;
    if (q8)
        *q8 |= v->q8;
    return HWNAS_OK;
}

/* Output j aliases input i (Identity, Q/DQ, an implicit Flatten). */
static int alias(im *m, const node *nd, int q8)
{
    str s = in_at(m, nd, 0);
    val *v = s.n ? lookup(m, s, 0) : NULL;
    if (!v || v->kind == V_NONE)
        return node_error(m, HWNAS_EFORMAT, nd, "input 0 ('%s') is not defined before the node",
                          show(m, s, 2));
    if (!nd->n_out)
        return node_error(m, HWNAS_EFORMAT, nd, "no output");
    val *o = lookup(m, out_at(m, nd, 0), 1);
    if (o->kind != V_NONE)
        return node_error(m, HWNAS_EFORMAT, nd, "output defined twice");
    o->kind = v->kind;
    o->idx = v->idx;
    o->onnx_node = v->onnx_node;
    o->q8 = v->q8 | q8;
    return HWNAS_OK;
}

static int one(im *m, size_t i)
{
    const node *nd = &m->nodes[i];
    int rc;
    if (nd->domain.n && !eq(nd->domain, "ai.onnx"))
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "operator domain '%s' is not supported",
                          show(m, nd->domain, 2));
    if (!nd->n_out)
        return node_error(m, HWNAS_EFORMAT, nd, "the node has no output");
    if (eq(nd->op, "Constant")) {
        hwnas__pb a;
        int r = attr_find(m, nd, "value", &a);
        if (r < 0)
            return malformed(m, "an AttributeProto", nd->offset);
        hwnas__pb_field f;
        int found = 0;
        tensor t;
        for (int got; r == 0 && (got = hwnas__pb_next(&a, &f)) != 0;) {
            if (got < 0)
                return malformed(m, "an AttributeProto", nd->offset);
            if (f.num == ONNX_ATTR_T && f.wire == PB_LEN) {
                if ((rc = parse_tensor(m, hwnas__pb_sub(&a, &f), f.offset, &t)))
                    return rc;
                found = 1;
            }
        }
        if (!found)
            return node_error(m, HWNAS_EUNSUPPORTED, nd, "only a Constant with a 'value' "
                              "tensor is supported");
        t.name = out_at(m, nd, 0);
        int64_t k;
        if ((rc = add_tensor(m, &t, &k)))
            return rc;
        return define(m, nd, 0, V_TENSOR, k, 0);
    }
    int q = eq(nd->op, "QuantizeLinear"), dq = eq(nd->op, "DequantizeLinear");
    if (q || dq || eq(nd->op, "Identity") || (eq(nd->op, "Flatten") && is_implicit(nd))) {
        str s = in_at(m, nd, 0);
        val *v = s.n ? lookup(m, s, 0) : NULL;
        if (dq && v && v->kind == V_TENSOR && !v->q8)
            return node_error(m, HWNAS_EUNSUPPORTED, nd, "dequantises a stored integer tensor; "
                              "store the float weights behind QuantizeLinear -> "
                              "DequantizeLinear");
        return alias(m, nd, q || dq);
    }
    if (eq(nd->op, "Pad")) { /* torch writes a Pad of zeros in front of some pools */
        int64_t pads[16] = {0};
        size_t np = 0;
        str p = in_at(m, nd, 1);
        val *v = p.n ? lookup(m, p, 0) : NULL;
        if (v && v->kind == V_TENSOR) {
            if ((rc = tensor_int64s(m, nd, &m->t[v->idx], pads, 16)))
                return rc;
            np = m->t[v->idx].count;
        } else if (!p.n) {
            int absent, n = attr_ints(m, nd, "pads", pads, 16, &absent);
            if (n < 0)
                return node_error(m, HWNAS_EFORMAT, nd, "attribute 'pads' is malformed");
            np = (size_t)n > 16 ? 16 : (size_t)n;
        } else {
            return node_error(m, HWNAS_EUNSUPPORTED, nd, "only constant pads are supported");
        }
        for (size_t k = 0; k < np; k++)
            if (pads[k])
                return node_error(m, HWNAS_EUNSUPPORTED, nd, "non-zero padding: the IR has no "
                                  "pad operator (pad inside the next Conv or pool instead)");
        return alias(m, nd, 0);
    }
    int64_t x;
    int q8 = 0;
    if ((rc = in_node(m, nd, 0, &x, &q8)))
        return rc;
    int64_t dims[4];
    int rank = hwnas_net_node_shape(m->net, (size_t)x, dims);
    if (eq(nd->op, "Conv"))
        return do_conv(m, nd, x, q8);
    if (eq(nd->op, "Gemm"))
        return do_gemm(m, nd, x, q8);
    if (eq(nd->op, "MaxPool") || eq(nd->op, "AveragePool"))
        return do_pool(m, nd, x, eq(nd->op, "MaxPool"));
    if (eq(nd->op, "GlobalAveragePool"))
        return do_simple(m, nd, "gap", &x, 1, NULL);
    if (eq(nd->op, "BatchNormalization"))
        return do_bn(m, nd, x);
    if (eq(nd->op, "Relu"))
        return do_simple(m, nd, "relu", &x, 1, NULL);
    if (eq(nd->op, "Tanh"))
        return do_simple(m, nd, "tanh", &x, 1, NULL);
    if (eq(nd->op, "HardSwish"))
        return do_simple(m, nd, "hard_swish", &x, 1, NULL);
    if (eq(nd->op, "Sigmoid")) {
        str o = out_at(m, nd, 0);
        val *v = lookup(m, o, 1);
        if (v->kind != V_NONE)
            return node_error(m, HWNAS_EFORMAT, nd, "output defined twice");
        /* x * Sigmoid(x) is a swish: wait for the Mul */
        v->kind = V_SIGMOID;
        v->idx = x;
        v->onnx_node = i;
        return v->uses == 1 ? HWNAS_OK : materialize_sigmoid(m, v);
    }
    if (eq(nd->op, "Clip")) {
        float lo = -INFINITY, hi = INFINITY;
        if (nd->n_in > 1) {
            str a = in_at(m, nd, 1), b = in_at(m, nd, 2);
            if (a.n && (rc = scalar(m, nd, lookup(m, a, 0), &lo)))
                return rc;
            if (b.n && (rc = scalar(m, nd, lookup(m, b, 0), &hi)))
                return rc;
        } else if ((rc = attr_float(m, nd, "min", -INFINITY, &lo)) ||
                   (rc = attr_float(m, nd, "max", INFINITY, &hi))) {
            return rc;
        }
        if (lo == 0 && hi == 6)
            return do_simple(m, nd, "relu6", &x, 1, NULL);
        if (lo == 0 && isinf(hi))
            return do_simple(m, nd, "relu", &x, 1, NULL);
        return node_error(m, HWNAS_EUNSUPPORTED, nd, "Clip(%g, %g): only Clip(0, 6) (relu6) is "
                          "supported", (double)lo, (double)hi);
    }
    if (eq(nd->op, "Elu") || eq(nd->op, "LeakyRelu")) {
        int elu = eq(nd->op, "Elu");
        float a;
        if ((rc = attr_float(m, nd, "alpha", elu ? 1.0f : 0.01f, &a)))
            return rc;
        char attrs[64], num[40];
        float_text(num, sizeof num, a);
        snprintf(attrs, sizeof attrs, "%s=%s", elu ? "alpha" : "slope", num);
        return do_simple(m, nd, elu ? "elu" : "leaky_relu", &x, 1, attrs);
    }
    if (eq(nd->op, "HardSigmoid")) {
        float a, b;
        if ((rc = attr_float(m, nd, "alpha", 0.2f, &a)) ||
            (rc = attr_float(m, nd, "beta", 0.5f, &b)))
            return rc;
        if (fabsf(a - 1.0f / 6.0f) > 1e-6f || fabsf(b - 0.5f) > 1e-6f)
            return node_error(m, HWNAS_EUNSUPPORTED, nd, "HardSigmoid(alpha %g, beta %g): only "
                              "alpha 1/6, beta 0.5 is supported", (double)a, (double)b);
        return do_simple(m, nd, "hard_sigmoid", &x, 1, NULL);
    }
    if (eq(nd->op, "PRelu")) {
        int64_t s, out;
        if ((rc = tensor_in(m, nd, 1, &s, NULL, 0)))
            return rc;
        if (m->t[s].count != 1 && (rc = check_dims(m, nd, s, &dims[1], 1, "slope")))
            return rc;
        if ((rc = add(m, nd, &out, "prelu", &x, 1, NULL)) ||
            (rc = add_wref(m, out, s, -1, -1, -1, 0, 0)))
            return rc;
        return define(m, nd, 0, V_NODE, out, 0);
    }
    if (eq(nd->op, "Softmax")) {
        int64_t axis;
        if ((rc = attr_int(m, nd, "axis", rank == 2 ? 1 : -1, &axis)))
            return rc;
        if (rank != 2 || (axis != 1 && axis != -1))
            return node_error(m, HWNAS_EUNSUPPORTED, nd, "Softmax on rank %d, axis %lld: only "
                              "(N, F) along axis 1 is supported", rank, (long long)axis);
        return do_simple(m, nd, "softmax", &x, 1, NULL);
    }
    if (eq(nd->op, "Flatten") || eq(nd->op, "Reshape")) {
        int64_t axis = 1;
        if (eq(nd->op, "Flatten")) {
            if ((rc = attr_int(m, nd, "axis", 1, &axis)))
                return rc;
        } else {
            int64_t shape[2];
            str s = in_at(m, nd, 1);
            val *v = s.n ? lookup(m, s, 0) : NULL;
            if (!v || v->kind != V_TENSOR)
                return node_error(m, HWNAS_EUNSUPPORTED, nd, "only a constant shape is "
                                  "supported");
            if ((rc = tensor_int64s(m, nd, &m->t[v->idx], shape, 2)))
                return rc;
            int64_t f = rank == 4 ? dims[1] * dims[2] * dims[3] : dims[1];
            if (m->t[v->idx].count != 2 || !(shape[0] == 1 || shape[0] == -1 || shape[0] == 0) ||
                !(shape[1] == -1 || shape[1] == f))
                return node_error(m, HWNAS_EUNSUPPORTED, nd, "only a Reshape to (N, -1) (a "
                                  "flatten) is supported");
        }
        if (axis != 1)
            return node_error(m, HWNAS_EUNSUPPORTED, nd, "Flatten axis %lld: only 1",
                              (long long)axis);
        return do_simple(m, nd, "flatten", &x, 1, NULL);
    }
    if (eq(nd->op, "Dropout")) {
        float p = 0.5f;
        if (nd->n_in > 1 && in_at(m, nd, 1).n) {
            if ((rc = scalar(m, nd, lookup(m, in_at(m, nd, 1), 0), &p)))
                return rc;
        } else if ((rc = attr_float(m, nd, "ratio", 0.5f, &p))) {
            return rc;
        }
        if ((rc = only_first_output(m, nd)))
            return rc;
        char attrs[64], num[40];
        float_text(num, sizeof num, p);
        snprintf(attrs, sizeof attrs, "p=%s", num);
        return do_simple(m, nd, "dropout", &x, 1, attrs);
    }
    if (eq(nd->op, "Mul")) {
        str b = in_at(m, nd, 1);
        val *vb = b.n ? lookup(m, b, 0) : NULL;
        val *va = lookup(m, in_at(m, nd, 0), 0);
        if (vb && vb->kind == V_TENSOR) { /* x * 0: the IR's zero */
            float z;
            if ((rc = scalar(m, nd, vb, &z)))
                return rc;
            if (z != 0)
                return node_error(m, HWNAS_EUNSUPPORTED, nd, "Mul by the constant %g: only 0 "
                                  "(the IR's zero) is supported", (double)z);
            return do_simple(m, nd, "zero", &x, 1, NULL);
        }
        /* swish: one input the Sigmoid of the other, kept for this Mul */
        for (int k = 0; k < 2; k++) {
            val *s = k ? va : vb, *o = k ? vb : va;
            if (s && o && s->kind == V_SIGMOID && s->uses == 1 && o->kind == V_NODE &&
                o->idx == s->idx)
                return do_simple(m, nd, "swish", &s->idx, 1, NULL);
        }
        int64_t in[2];
        if ((rc = in_node(m, nd, 0, &in[0], NULL)) || (rc = in_node(m, nd, 1, &in[1], NULL)))
            return rc;
        return do_simple(m, nd, "mul", in, 2, NULL);
    }
    if (eq(nd->op, "Add") || eq(nd->op, "Sum") || eq(nd->op, "Concat")) {
        int cat = eq(nd->op, "Concat");
        if (cat) {
            int64_t axis;
            if ((rc = attr_int(m, nd, "axis", 1, &axis)))
                return rc;
            if (axis != 1 && !(rank == 4 && axis == -3) && !(rank == 2 && axis == -1))
                return node_error(m, HWNAS_EUNSUPPORTED, nd, "Concat axis %lld: only the "
                                  "channel axis 1", (long long)axis);
        }
        if (eq(nd->op, "Add") && nd->n_in != 2)
            return node_error(m, HWNAS_EFORMAT, nd, "Add takes 2 inputs, not %zu", nd->n_in);
        if (nd->n_in > 4096)
            return node_error(m, HWNAS_EUNSUPPORTED, nd, "%zu inputs", nd->n_in);
        int64_t *in = hwnas__malloc(m->ctx, nd->n_in * sizeof *in);
        if (!in)
            return HWNAS_ENOMEM;
        rc = HWNAS_OK;
        for (size_t j = 0; rc == HWNAS_OK && j < nd->n_in; j++)
            rc = in_node(m, nd, j, &in[j], NULL);
        if (rc == HWNAS_OK)
            rc = do_simple(m, nd, cat ? "concat" : "add", in, nd->n_in, NULL);
        hwnas__free(m->ctx, in);
        return rc;
    }
    return node_error(m, HWNAS_EUNSUPPORTED, nd, "operator %s is not supported (doc/formats/"
                      "onnx.md lists the subset)", show(m, nd->op, 2));
}

/* ---- weights ---------------------------------------------------------- */

static int fill_weights(im *m, hwnas_model *model)
{
    hwnas__engine *e = model->eng;
    float *tmp = NULL;
    size_t tmp_n = 0;
    int rc = HWNAS_OK;
    for (size_t k = 0; rc == HWNAS_OK && k < m->n_w; k++) {
        const wref *w = &m->w[k];
        const hwnas__eng_node *en = &e->nodes[w->node];
        float *p = e->params + en->p_off;
        for (int j = 0; rc == HWNAS_OK && j < 4 && w->t[j] >= 0; j++) {
            const tensor *t = &m->t[w->t[j]];
            if (t->count > tmp_n) {
                float *q = hwnas__realloc(m->ctx, tmp, t->count * sizeof *q);
                if (!q) {
                    rc = HWNAS_ENOMEM;
                    break;
                }
                tmp = q;
                tmp_n = t->count;
            }
            if ((rc = tensor_floats(m, t, tmp)))
                break;
            switch (en->kind) {
            case HWNAS_NET_CONV2D:
            case HWNAS_NET_DWCONV2D:
            case HWNAS_NET_LINEAR:
                if (j == 0 && w->transpose) { /* B [in][out] -> [out][in] */
                    size_t in = (size_t)t->dims[0], out = (size_t)t->dims[1];
                    for (size_t o = 0; o < out; o++)
                        for (size_t i = 0; i < in; i++)
                            p[o * in + i] = tmp[i * out + o];
                } else {
                    memcpy(p + (j ? en->n_p - t->count : 0), tmp, t->count * sizeof *tmp);
                }
                break;
            case HWNAS_NET_BATCHNORM: {
                size_t c = en->n_p / 2;
                float *dst = j < 2 ? p + (size_t)j * c : e->state + en->s_off + (size_t)(j - 2) * c;
                for (size_t i = 0; i < c; i++) {
                    dst[i] = tmp[i];
                    if (j == 3) { /* the engine's epsilon is 1e-5: move the rest into var */
                        dst[i] += w->bn_eps - e->bn_eps;
                        if (!(dst[i] >= 0))
                            rc = hwnas__error(HWNAS_EFORMAT, "%s: batch-norm '%s': running "
                                              "variance of channel %zu is negative (%g)",
                                              m->file, en->name, i, (double)tmp[i]);
                    }
                }
                break;
            }
            default: /* prelu: C slopes, or one for every channel */
                for (size_t i = 0; i < en->n_p; i++)
                    p[i] = tmp[t->count == 1 ? 0 : i];
                break;
            }
        }
    }
    hwnas__free(m->ctx, tmp);
    return rc;
}

/* ---- the whole ---------------------------------------------------------- */

static int build(im *m)
{
    int rc;
    /* the map: every name of the graph fits at under half load */
    size_t names = m->n_strs + m->n_t + 2, cap = 64;
    while (cap < 2 * names)
        cap *= 2;
    m->map = hwnas__calloc(m->ctx, cap, sizeof *m->map);
    if (!m->map)
        return HWNAS_ENOMEM;
    m->cap_map = cap;
    for (size_t k = 0; k < m->n_strs; k++)
        if (m->strs[k].n)
            lookup(m, m->strs[k], 1);
    lookup(m, m->output, 1)->uses++;
    for (size_t i = 0; i < m->n_nodes; i++)
        for (size_t j = 0; j < m->nodes[i].n_in; j++) {
            str s = in_at(m, &m->nodes[i], j);
            if (s.n)
                lookup(m, s, 1)->uses++;
        }
    /* initialisers first; a graph input of the same name is that
     * initialiser (older files list them among the inputs) */
    for (size_t k = 0; k < m->n_t; k++) {
        if (m->t[k].dt < 0)
            continue;
        val *v = lookup(m, m->t[k].name, 1);
        if (v->kind != V_NONE)
            return hwnas__error(HWNAS_EFORMAT, "%s: initialiser '%s' is defined twice",
                                m->file, show(m, m->t[k].name, 0));
        v->kind = V_TENSOR;
        v->idx = (int64_t)k;
    }
    int64_t data = -1;
    for (size_t k = 0; k < m->n_t; k++) {
        if (m->t[k].dt >= 0)
            continue;
        val *v = lookup(m, m->t[k].name, 1);
        if (v->kind == V_TENSOR)
            continue;
        m->t[k].count = 1;
        for (int r = 0; r < m->t[k].rank; r++)
            m->t[k].count *= (size_t)(m->t[k].dims[r] > 0 ? m->t[k].dims[r] : 0);
        if (data < 0) { /* the first input that is not an initialiser */
            data = (int64_t)k;
            continue;
        }
        v->kind = V_TENSOR; /* a weight given as an input: no data */
        v->idx = (int64_t)k;
        m->t[k].msg.p = NULL;
        m->t[k].dt = ONNX_DT_FLOAT;
    }
    if (data < 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: the graph has no data input", m->file);
    const tensor *in = &m->t[data];
    if (in->rank != 4 || in->dims[1] < 1 || in->dims[2] < 1 || in->dims[3] < 1)
        return hwnas__error(HWNAS_EUNSUPPORTED, "%s: graph input '%s' must have a known shape "
                            "(N, C, H, W)", m->file, show(m, in->name, 0));
    char buf[256], attrs[96];
    node fake = {.name = in->name, .op = {(const uint8_t *)"input", 5}};
    snprintf(attrs, sizeof attrs, "shape=%lldx%lldx%lld", (long long)in->dims[1],
             (long long)in->dims[2], (long long)in->dims[3]);
    int64_t x;
    rc = hwnas_net_add(&x, m->net, "input", ir_name(m, in->name, buf, sizeof buf), NULL, 0, attrs);
    if (rc)
        return rc == HWNAS_EINVAL ? node_error(m, HWNAS_EFORMAT, &fake, "%s", hwnas_error_last())
                                  : rc;
    val *v = lookup(m, in->name, 1);
    v->kind = V_NODE;
    v->idx = x;
    for (size_t i = 0; i < m->n_nodes; i++)
        if ((rc = one(m, i)) != HWNAS_OK)
            return rc;
    /* the output: the last IR node */
    v = lookup(m, m->output, 0);
    if (!v || v->kind == V_NONE || v->kind == V_TENSOR)
        return hwnas__error(HWNAS_EFORMAT, "%s: graph output '%s' is not computed by any node",
                            m->file, show(m, m->output, 0));
    if (v->kind == V_SIGMOID && (rc = materialize_sigmoid(m, v)))
        return rc;
    int64_t o = v->idx;
    if ((size_t)o + 1 != hwnas_net_node_count(m->net))
        return hwnas__error(HWNAS_EUNSUPPORTED, "%s: graph output '%s' is not the last node's "
                            "output (nodes after it compute nothing the output needs)",
                            m->file, show(m, m->output, 0));
    if (m->has_output_type) {
        int64_t want[MAX_RANK], dims[4];
        int rank, elem;
        if ((rc = type_shape(m, m->output_type, want, &rank, &elem, "the graph output")))
            return rc;
        int r = hwnas_net_node_shape(m->net, (size_t)o, dims);
        for (int k = 1; rank > 0 && k < rank; k++)
            if (rank != r || (want[k] >= 0 && want[k] != dims[k]))
                return hwnas__error(HWNAS_EFORMAT, "%s: graph output '%s': the file declares "
                                    "a shape that differs from the one the nodes compute",
                                    m->file, show(m, m->output, 0));
    }
    return HWNAS_OK;
}

static int import(im *m, const uint8_t *data, size_t len)
{
    hwnas__pb p = {data, data + len, data};
    hwnas__pb_field f;
    int r, have_graph = 0;
    hwnas__pb graph = p;
    while ((r = hwnas__pb_next(&p, &f)) == 1)
        if (f.num == ONNX_MODEL_GRAPH && f.wire == PB_LEN) {
            graph = hwnas__pb_sub(&p, &f);
            have_graph = 1;
        }
    if (r < 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: not an ONNX model (malformed protobuf at byte "
                            "%zu)", m->file, f.offset);
    if (!have_graph)
        return hwnas__error(HWNAS_EFORMAT, "%s: not an ONNX model (no graph field)", m->file);
    int rc = parse_graph(m, graph);
    if (rc == HWNAS_OK)
        rc = hwnas_net_new(&m->net, m->ctx);
    if (rc == HWNAS_OK)
        rc = build(m);
    return rc;
}

int hwnas_onnx_import(hwnas_net **out_net, hwnas_model **out_model, hwnas_context *ctx,
                      const void *data, size_t len, const char *name)
{
    if (out_net)
        *out_net = NULL;
    if (out_model)
        *out_model = NULL;
    if (!out_net || !ctx || (!data && len))
        return hwnas__error(HWNAS_EINVAL, "hwnas_onnx_import: NULL argument");
    im *m = hwnas__calloc(ctx, 1, sizeof *m);
    if (!m)
        return HWNAS_ENOMEM;
    m->ctx = ctx;
    m->file = name ? name : "<memory>";
    m->base = data;
    int rc = import(m, data ? data : (const uint8_t *)"", len);
    hwnas_model *model = NULL;
    if (rc == HWNAS_OK && out_model && m->weights_present) {
        if (m->weights_missing)
            rc = hwnas__error(HWNAS_EFORMAT, "%s: some weights are initialisers and others "
                              "graph inputs: the file carries only part of the weights",
                              m->file);
        else if (hwnas_net_params(m->net) > len + ((size_t)1 << 20))
            /* only a PReLU's single slope spreads over channels */
            rc = hwnas__error(HWNAS_EFORMAT, "%s: the net has %llu parameters, more than "
                              "%zu bytes of weights can give", m->file,
                              (unsigned long long)hwnas_net_params(m->net), len);
        else if ((rc = hwnas_model_new(&model, ctx, m->net, 1)) == HWNAS_OK)
            rc = fill_weights(m, model);
    }
    if (rc == HWNAS_OK) {
        *out_net = m->net;
        if (out_model)
            *out_model = model;
    } else {
        hwnas_net_free(m->net);
        hwnas_model_free(model);
    }
    hwnas__free(ctx, m->t);
    hwnas__free(ctx, m->nodes);
    hwnas__free(ctx, m->strs);
    hwnas__free(ctx, m->map);
    hwnas__free(ctx, m->w);
    hwnas__free(ctx, m);
    return rc;
}

int hwnas_onnx_load(hwnas_net **out_net, hwnas_model **out_model, hwnas_context *ctx,
                    const char *path)
{
    if (out_net)
        *out_net = NULL;
    if (out_model)
        *out_model = NULL;
    if (!out_net || !ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_onnx_load: NULL argument");
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, (size_t)1 << 32, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas_onnx_import(out_net, out_model, ctx, buf, len, path);
    hwnas__free(ctx, buf);
    return rc;
}
