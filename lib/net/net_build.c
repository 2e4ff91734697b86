/* Building nets: the op table, attributes, shape inference, node cost and
 * the expansion of composite blocks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

/* Attribute keys; their bit in hwnas__net_pending.set and index in v/f. */
enum {
    K_OUT, K_K, K_KH, K_KW, K_S, K_SH, K_SW, K_PAD, K_PH, K_PW, K_D, K_DH, K_DW,
    K_GROUPS, K_BIAS, K_MUL, K_BITS, K_SHAPE, K_ALPHA, K_SLOPE, K_P, K_MULT, K_MID,
    K_EXPAND, K_SE, K_ACT, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "out", "k", "kh", "kw", "s", "sh", "sw", "pad", "ph", "pw", "d", "dh", "dw",
    "groups", "bias", "mul", "bits", "shape", "alpha", "slope", "p", "mult", "mid",
    "expand", "se", "act"};

#define B(k) (1u << (k))
#define CONV_KEYS                                                                    \
    (B(K_K) | B(K_KH) | B(K_KW) | B(K_S) | B(K_SH) | B(K_SW) | B(K_PAD) | B(K_PH) |  \
     B(K_PW) | B(K_D) | B(K_DH) | B(K_DW) | B(K_BIAS) | B(K_MUL) | B(K_BITS))
#define POOL_KEYS                                                                    \
    (B(K_K) | B(K_KH) | B(K_KW) | B(K_S) | B(K_SH) | B(K_SW) | B(K_PAD) | B(K_PH) | B(K_PW))
#define MULT_KEYS (B(K_MUL) | B(K_BITS))

enum { BLOCK_NONE, BLOCK_BASIC, BLOCK_BOTTLENECK, BLOCK_MBCONV };

typedef struct op_desc {
    const char *name;  /* spelling in the spec and the builder */
    int kind;          /* HWNAS_NET_* (block output kind for blocks) */
    int fn;            /* HWNAS_NET_ACT_* for activations, else -1 */
    int min_in, max_in;/* input count; max_in 0 = no limit (n-ary) */
    uint32_t keys;     /* attribute keys accepted */
    uint32_t required; /* attribute keys that must be given */
    int block;         /* BLOCK_* */
} op_desc;

#define ACT(nm, f, extra) {nm, HWNAS_NET_ACT, f, 1, 1, extra, 0, BLOCK_NONE}
static const op_desc ops[] = {
    {"input", HWNAS_NET_INPUT, -1, 0, 0, B(K_SHAPE), B(K_SHAPE), BLOCK_NONE},
    {"conv", HWNAS_NET_CONV2D, -1, 1, 1, CONV_KEYS | B(K_OUT) | B(K_GROUPS), B(K_OUT), BLOCK_NONE},
    {"dwconv", HWNAS_NET_DWCONV2D, -1, 1, 1, CONV_KEYS | B(K_MULT), 0, BLOCK_NONE},
    {"maxpool", HWNAS_NET_MAXPOOL, -1, 1, 1, POOL_KEYS, 0, BLOCK_NONE},
    {"avgpool", HWNAS_NET_AVGPOOL, -1, 1, 1, POOL_KEYS, 0, BLOCK_NONE},
    {"gap", HWNAS_NET_GAVGPOOL, -1, 1, 1, 0, 0, BLOCK_NONE},
    {"bn", HWNAS_NET_BATCHNORM, -1, 1, 1, 0, 0, BLOCK_NONE},
    ACT("relu", HWNAS_NET_ACT_RELU, 0),
    ACT("relu6", HWNAS_NET_ACT_RELU6, 0),
    ACT("elu", HWNAS_NET_ACT_ELU, B(K_ALPHA)),
    ACT("leaky_relu", HWNAS_NET_ACT_LEAKY_RELU, B(K_SLOPE)),
    ACT("prelu", HWNAS_NET_ACT_PRELU, 0),
    ACT("sigmoid", HWNAS_NET_ACT_SIGMOID, 0),
    ACT("swish", HWNAS_NET_ACT_SWISH, 0),
    ACT("hard_swish", HWNAS_NET_ACT_HARD_SWISH, 0),
    ACT("hard_sigmoid", HWNAS_NET_ACT_HARD_SIGMOID, 0),
    ACT("tanh", HWNAS_NET_ACT_TANH, 0),
    {"add", HWNAS_NET_ADD, -1, 2, 0, 0, 0, BLOCK_NONE},
    {"mul", HWNAS_NET_MUL, -1, 2, 2, 0, 0, BLOCK_NONE},
    {"concat", HWNAS_NET_CONCAT, -1, 2, 0, 0, 0, BLOCK_NONE},
    {"dropout", HWNAS_NET_DROPOUT, -1, 1, 1, B(K_P), 0, BLOCK_NONE},
    {"flatten", HWNAS_NET_FLATTEN, -1, 1, 1, 0, 0, BLOCK_NONE},
    {"linear", HWNAS_NET_LINEAR, -1, 1, 1, B(K_OUT) | B(K_BIAS) | MULT_KEYS, B(K_OUT), BLOCK_NONE},
    {"softmax", HWNAS_NET_SOFTMAX, -1, 1, 1, 0, 0, BLOCK_NONE},
    {"zero", HWNAS_NET_ZERO, -1, 1, 1, 0, 0, BLOCK_NONE},
    {"basic", HWNAS_NET_ACT, -1, 1, 1, B(K_OUT) | B(K_S) | MULT_KEYS, B(K_OUT), BLOCK_BASIC},
    {"bottleneck", HWNAS_NET_ACT, -1, 1, 1,
     B(K_MID) | B(K_OUT) | B(K_S) | B(K_GROUPS) | MULT_KEYS, B(K_MID), BLOCK_BOTTLENECK},
    {"mbconv", HWNAS_NET_BATCHNORM, -1, 1, 1,
     B(K_OUT) | B(K_EXPAND) | B(K_K) | B(K_S) | B(K_SE) | B(K_ACT) | MULT_KEYS, B(K_OUT),
     BLOCK_MBCONV},
};

void hwnas__net_default_attrs(hwnas__net_attrs *a, int kind)
{
    memset(a, 0, sizeof *a);
    a->kh = a->kw = a->sh = a->sw = a->dh = a->dw = a->groups = 1;
    a->bias = 1;
    if (kind == HWNAS_NET_CONV2D || kind == HWNAS_NET_DWCONV2D || kind == HWNAS_NET_LINEAR)
        a->bits = 32;
}

/* ---- attributes ------------------------------------------------------ */

static int slice_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

int hwnas__net_op_begin(hwnas__net_pending *p, const char *op, size_t len,
                        const char *where)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(ops); i++)
        if (slice_eq(op, len, ops[i].name)) {
            p->op = &ops[i];
            return HWNAS_OK;
        }
    hwnas__name_list list;
    hwnas__name_list_init(&list, " ");
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(ops); i++)
        hwnas__name_list_add(&list, ops[i].name);
    return hwnas__error(HWNAS_EINVAL, "%sunknown op '%.*s'; expected one of: %s", where,
                        (int)(len > 64 ? 64 : len), op, hwnas__name_list_text(&list));
}

static int parse_int(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 12)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_real(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.eE+-", buf[i]))
            return -1;
    char *end;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int valid_mul_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-' || c == '+' || c == ':' || c == '=' || c == ',';
}

int hwnas__net_op_attr(hwnas__net_pending *p, const char *key, size_t klen,
                       const char *val, size_t vlen, const char *where)
{
    const op_desc *op = p->op;
    int k = -1;
    for (int i = 0; i < K_COUNT; i++)
        if (slice_eq(key, klen, key_names[i]))
            k = i;
    if (k < 0 || !(op->keys & B(k))) {
        hwnas__name_list list;
        hwnas__name_list_init(&list, " ");
        for (int i = 0; i < K_COUNT; i++)
            if (op->keys & B(i))
                hwnas__name_list_add(&list, key_names[i]);
        return hwnas__error(HWNAS_EINVAL, "%sunknown attribute '%.*s' for %s; expected %s%s",
                            where, (int)(klen > 64 ? 64 : klen), key, op->name,
                            list.len ? "one of: " : "no attributes", hwnas__name_list_text(&list));
    }
    if (p->set & B(k))
        return hwnas__error(HWNAS_EINVAL, "%sattribute '%s' given twice", where, key_names[k]);
    int vshow = (int)(vlen > 64 ? 64 : vlen);
    int64_t iv;
    double dv;
    switch (k) {
    case K_MUL:
        if (vlen == 0 || vlen > HWNAS__NET_MAX_NAME)
            return hwnas__error(HWNAS_EINVAL, "%smul: expected a multiplier name of 1 to %d "
                                "characters", where, HWNAS__NET_MAX_NAME);
        for (size_t i = 0; i < vlen; i++)
            if (!valid_mul_char(val[i]))
                return hwnas__error(HWNAS_EINVAL, "%smul: bad character in '%.*s'; expected "
                                    "letters, digits and _ . - + : = ,", where, vshow, val);
        p->mul = val;
        p->mul_len = vlen;
        break;
    case K_SHAPE: {
        const char *s = val, *end = val + vlen;
        for (int d = 0; d < 3; d++) {
            const char *x = s;
            while (x < end && *x != 'x')
                x++;
            if (parse_int(s, (size_t)(x - s), &iv) != 0 || iv < 1 || iv > HWNAS__NET_MAX_DIM ||
                (d < 2) != (x < end))
                return hwnas__error(HWNAS_EINVAL, "%sshape: expected CxHxW with each in "
                                    "[1, %d], found '%.*s'", where, HWNAS__NET_MAX_DIM, vshow, val);
            p->shape[d] = (int32_t)iv;
            s = x + 1;
        }
        break;
    }
    case K_ALPHA: case K_SLOPE: case K_P: case K_SE:
        if (parse_real(val, vlen, &dv) != 0)
            return hwnas__error(HWNAS_EINVAL, "%s%s: expected a number, found '%.*s'", where,
                                key_names[k], vshow, val);
        if ((k == K_P && (dv < 0 || dv >= 1)) || (k == K_SE && (dv < 0 || dv > 1)) ||
            fabs(dv) > 1e6)
            return hwnas__error(HWNAS_EINVAL, "%s%s: %.*s out of range %s", where, key_names[k],
                                vshow, val, k == K_P ? "[0, 1)" : k == K_SE ? "[0, 1]"
                                : "[-1e6, 1e6]");
        p->f[k] = dv == 0 ? 0.0 : dv; /* no negative zero */
        break;
    case K_ACT: {
        int fn = hwnas__net_act_find(val, vlen);
        if (fn < 0 || fn == HWNAS_NET_ACT_PRELU || fn == HWNAS_NET_ACT_ELU ||
            fn == HWNAS_NET_ACT_LEAKY_RELU)
            return hwnas__error(HWNAS_EINVAL, "%sact: expected relu, relu6, sigmoid, swish, "
                                "hard_swish, hard_sigmoid or tanh, found '%.*s'", where, vshow, val);
        p->v[k] = fn;
        break;
    }
    default:
        if (k == K_PAD && slice_eq(val, vlen, "same")) {
            p->pad_same = 1;
            break;
        }
        if (parse_int(val, vlen, &iv) != 0)
            return hwnas__error(HWNAS_EINVAL, "%s%s: expected a non-negative integer%s, found "
                                "'%.*s'", where, key_names[k], k == K_PAD ? " or 'same'" : "",
                                vshow, val);
        {
            int64_t lo = 1, hi = HWNAS__NET_MAX_DIM;
            if (k == K_PAD || k == K_PH || k == K_PW)
                lo = 0;
            if (k == K_BIAS)
                lo = 0, hi = 1;
            if (k == K_BITS && iv != 8 && iv != 32)
                return hwnas__error(HWNAS_EINVAL, "%sbits: expected 8 or 32, found '%.*s'",
                                    where, vshow, val);
            if (iv < lo || iv > hi)
                return hwnas__error(HWNAS_EINVAL, "%s%s: %lld out of range [%lld, %lld]", where,
                                    key_names[k], (long long)iv, (long long)lo, (long long)hi);
        }
        p->v[k] = (int32_t)iv;
        break;
    }
    p->set |= B(k);
    return HWNAS_OK;
}

int hwnas__net_op_attrs(hwnas__net_pending *p, const char *text, const char *where)
{
    if (!text)
        return HWNAS_OK;
    const char *s = text;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',' || *s == ';')
            s++;
        if (!*s)
            break;
        const char *k = s;
        while (*s && *s != '=' && *s != ',' && *s != ';' && *s != ' ' && *s != '\t')
            s++;
        const char *ke = s;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s != '=')
            return hwnas__error(HWNAS_EINVAL, "%sexpected '=' after attribute '%.*s' at "
                                "offset %zu", where, (int)(ke - k > 64 ? 64 : ke - k), k,
                                (size_t)(s - text));
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        const char *v = s;
        while (*s && *s != ',' && *s != ';' && *s != ' ' && *s != '\t')
            s++;
        int rc = hwnas__net_op_attr(p, k, (size_t)(ke - k), v, (size_t)(s - v), where);
        if (rc != HWNAS_OK)
            return rc;
    }
    return HWNAS_OK;
}

/* ---- storage ---------------------------------------------------------- */

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

int64_t hwnas_net_find(const hwnas_net *net, const char *name)
{
    if (!net || !name || !net->table_cap)
        return -1;
    size_t n = strlen(name);
    size_t mask = net->table_cap - 1;
    for (size_t j = name_hash(name, n) & mask;; j = (j + 1) & mask) {
        uint32_t e = net->table[j];
        if (!e)
            return -1;
        if (strcmp(hwnas__net_str(net, net->nodes[e - 1].name), name) == 0)
            return (int64_t)(e - 1);
    }
}

int64_t hwnas__net_find_slice(const hwnas_net *net, const char *name, size_t n)
{
    if (!net->table_cap)
        return -1;
    size_t mask = net->table_cap - 1;
    for (size_t j = name_hash(name, n) & mask;; j = (j + 1) & mask) {
        uint32_t e = net->table[j];
        if (!e)
            return -1;
        const char *s = hwnas__net_str(net, net->nodes[e - 1].name);
        if (strncmp(s, name, n) == 0 && s[n] == '\0')
            return (int64_t)(e - 1);
    }
}

static void table_insert(hwnas_net *net, size_t idx)
{
    const char *s = hwnas__net_str(net, net->nodes[idx].name);
    size_t mask = net->table_cap - 1;
    size_t j = name_hash(s, strlen(s)) & mask;
    while (net->table[j])
        j = (j + 1) & mask;
    net->table[j] = (uint32_t)idx + 1;
}

/* Make room for `nodes` more nodes, `inputs` more inputs and `chars` more
 * arena bytes; nothing visible changes. */
static int reserve(hwnas_net *net, size_t nodes, size_t inputs, size_t chars)
{
    const hwnas_context *ctx = net->ctx;
    if (net->n + nodes > UINT32_MAX / 4 || net->arena_len + chars > UINT32_MAX / 2)
        return hwnas__error(HWNAS_EINVAL, "net too large");
    if (net->n + nodes > net->cap) {
        size_t cap = net->cap ? net->cap * 2 : 32;
        while (cap < net->n + nodes)
            cap *= 2;
        void *p = hwnas__realloc(ctx, net->nodes, cap * sizeof *net->nodes);
        if (!p)
            return HWNAS_ENOMEM;
        net->nodes = p;
        net->cap = cap;
    }
    if (net->n_inputs + inputs > net->cap_inputs) {
        size_t cap = net->cap_inputs ? net->cap_inputs * 2 : 64;
        while (cap < net->n_inputs + inputs)
            cap *= 2;
        void *p = hwnas__realloc(ctx, net->inputs, cap * sizeof *net->inputs);
        if (!p)
            return HWNAS_ENOMEM;
        net->inputs = p;
        net->cap_inputs = cap;
    }
    if (net->arena_len + chars > net->arena_cap) {
        size_t cap = net->arena_cap ? net->arena_cap * 2 : 512;
        while (cap < net->arena_len + chars)
            cap *= 2;
        void *p = hwnas__realloc(ctx, net->arena, cap);
        if (!p)
            return HWNAS_ENOMEM;
        net->arena = p;
        net->arena_cap = cap;
    }
    if (2 * (net->n + nodes) >= net->table_cap) {
        size_t cap = net->table_cap ? net->table_cap : 64;
        while (2 * (net->n + nodes) >= cap)
            cap *= 2;
        uint32_t *t = hwnas__calloc(ctx, cap, sizeof *t);
        if (!t)
            return HWNAS_ENOMEM;
        hwnas__free(ctx, net->table);
        net->table = t;
        net->table_cap = cap;
        for (size_t i = 0; i < net->n; i++)
            table_insert(net, i);
    }
    return HWNAS_OK;
}

/* Rebuild everything derived after dropping nodes n_keep.. (a block that
 * failed half-way). */
static void truncate_to(hwnas_net *net, size_t n_keep, size_t inputs_keep, size_t arena_keep)
{
    net->n = n_keep;
    net->n_inputs = inputs_keep;
    net->arena_len = arena_keep;
    net->macs = net->params = net->wbytes = net->acts = 0;
    if (net->table)
        memset(net->table, 0, net->table_cap * sizeof *net->table);
    for (size_t i = 0; i < net->n; i++) {
        hwnas__net_node *nd = &net->nodes[i];
        nd->last_use = (uint32_t)i;
        for (uint32_t j = 0; j < nd->n_in; j++)
            net->nodes[net->inputs[nd->in_off + j]].last_use = (uint32_t)i;
        net->macs += nd->macs;
        net->params += nd->params;
        net->wbytes += nd->wbytes;
        net->acts += (uint64_t)nd->c * (uint64_t)nd->h * (uint64_t)nd->w;
        table_insert(net, i);
    }
}

/* ---- names ------------------------------------------------------------ */

static int is_auto_name(const char *s, size_t n)
{
    if (n < 2 || s[0] != '_')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int check_name(const hwnas_net *net, const char *s, size_t n, const char *where)
{
    int ok = n > 0 && n <= HWNAS__NET_MAX_NAME &&
             ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_');
    for (size_t i = 1; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.';
    int show = (int)(n > 64 ? 64 : n);
    if (!ok)
        return hwnas__error(HWNAS_EINVAL, "%sbad node name '%.*s': expected a letter or '_' then "
                            "letters, digits, '_' or '.', at most %d characters", where, show, s,
                            HWNAS__NET_MAX_NAME);
    if (is_auto_name(s, n))
        return hwnas__error(HWNAS_EINVAL, "%snode name '%.*s' is reserved (_<digits> names the "
                            "node at that index)", where, show, s);
    if (hwnas__net_find_slice(net, s, n) >= 0)
        return hwnas__error(HWNAS_EINVAL, "%sduplicate node name '%.*s'", where, show, s);
    return HWNAS_OK;
}

/* ---- shape inference and cost ---------------------------------------- */

typedef struct node_spec {
    int kind;
    hwnas__net_attrs a;
    int32_t shape[3];      /* input nodes */
    const char *mul;       /* NULL = exact */
    size_t mul_len;
} node_spec;

/* Bounds that keep every count of a node and of the whole net, and the
 * products made from them (weight bytes = 4 x weights, memory accesses =
 * 4 x MACs), inside uint64_t and exact as int64_t. */
#define ELEM_LIMIT 1099511627776.0 /* 2^40 output elements of a node */
#define COST_LIMIT 1152921504606846976.0 /* 2^60 MACs or parameters, node and net */
#define ACTS_LIMIT 4611686018427387904.0 /* 2^62 activations of the net */

/* Fill nd's shape and cost from its inputs; error text names the node. */
static int infer(const hwnas_net *net, hwnas__net_node *nd, const uint32_t *in, size_t n_in,
                 const char *nodename, const char *where)
{
    const hwnas__net_attrs *a = &nd->a;
    const char *op = hwnas__net_op_name(nd);
/* The reason first, then the node in front of it: hwnas__error formats
 * before it replaces the last message, so no buffer of ours cuts it. */
#define FAIL(...)                                                                        \
    do {                                                                                 \
        hwnas__error(HWNAS_EINVAL, __VA_ARGS__);                                         \
        return hwnas__error(HWNAS_EINVAL, "%snode '%s' (%s): %s", where, nodename, op,   \
                            hwnas_error_last());                                         \
    } while (0)
    const hwnas__net_node *x = n_in ? &net->nodes[in[0]] : NULL;
    double macs = 0, wcount = 0, other = 0;
    nd->rank = 4;
    switch (nd->kind) {
    case HWNAS_NET_INPUT:
        nd->c = a->out, nd->h = a->kh, nd->w = a->kw;
        break;
    case HWNAS_NET_CONV2D:
    case HWNAS_NET_DWCONV2D:
    case HWNAS_NET_MAXPOOL:
    case HWNAS_NET_AVGPOOL: {
        if (x->rank != 4)
            FAIL("expected a CxHxW input, got %lld features", (long long)x->c);
        int conv = nd->kind == HWNAS_NET_CONV2D || nd->kind == HWNAS_NET_DWCONV2D;
        int64_t ekh = (int64_t)a->dh * (a->kh - 1) + 1, ekw = (int64_t)a->dw * (a->kw - 1) + 1;
        if (ekh > x->h + 2 * a->ph || ekw > x->w + 2 * a->pw)
            FAIL("kernel %lldx%lld larger than padded input %lldx%lld", (long long)ekh,
                 (long long)ekw, (long long)(x->h + 2 * a->ph), (long long)(x->w + 2 * a->pw));
        if (!conv && (2 * a->ph > a->kh || 2 * a->pw > a->kw))
            FAIL("padding %dx%d more than half the kernel %dx%d", a->ph, a->pw, a->kh, a->kw);
        nd->h = (x->h + 2 * a->ph - ekh) / a->sh + 1;
        nd->w = (x->w + 2 * a->pw - ekw) / a->sw + 1;
        nd->c = x->c;
        if (conv) {
            if (nd->kind == HWNAS_NET_DWCONV2D) {
                /* groups was given as the channel multiplier */
                if ((double)x->c * nd->a.groups > HWNAS__NET_MAX_DIM)
                    FAIL("%lld channels times multiplier %d exceeds %d", (long long)x->c,
                         nd->a.groups, HWNAS__NET_MAX_DIM);
                nd->a.out = (int32_t)(x->c * nd->a.groups);
                nd->a.groups = (int32_t)x->c;
            }
            if (x->c % a->groups || a->out % a->groups)
                FAIL("%lld input and %d output channels are not divisible by groups=%d",
                     (long long)x->c, a->out, a->groups);
            nd->c = a->out;
            double per = (double)(x->c / a->groups) * a->kh * a->kw;
            macs = (double)nd->c * nd->h * nd->w * per;
            wcount = (double)a->out * per;
            other = a->bias ? a->out : 0;
        }
        break;
    }
    case HWNAS_NET_GAVGPOOL:
        if (x->rank != 4)
            FAIL("expected a CxHxW input, got %lld features", (long long)x->c);
        nd->c = x->c, nd->h = nd->w = 1;
        break;
    case HWNAS_NET_BATCHNORM:
    case HWNAS_NET_ACT:
    case HWNAS_NET_DROPOUT:
    case HWNAS_NET_SOFTMAX:
    case HWNAS_NET_ZERO:
        nd->rank = x->rank, nd->c = x->c, nd->h = x->h, nd->w = x->w;
        if (nd->kind == HWNAS_NET_BATCHNORM)
            other = 2.0 * (double)x->c;
        if (nd->kind == HWNAS_NET_ACT && a->fn == HWNAS_NET_ACT_PRELU)
            other = (double)x->c;
        break;
    case HWNAS_NET_ADD:
    case HWNAS_NET_MUL:
    case HWNAS_NET_CONCAT: {
        nd->rank = x->rank, nd->c = x->c, nd->h = x->h, nd->w = x->w;
        for (size_t j = 1; j < n_in; j++) {
            const hwnas__net_node *y = &net->nodes[in[j]];
            const char *yname = hwnas__net_str(net, y->name);
            if (nd->kind == HWNAS_NET_CONCAT) {
                if (y->rank != x->rank || y->h != x->h || y->w != x->w)
                    FAIL("input '%s' is %lldx%lld, expected %lldx%lld like the first input",
                         yname, (long long)y->h, (long long)y->w, (long long)x->h,
                         (long long)x->w);
                nd->c += y->c;
            } else if (nd->kind == HWNAS_NET_MUL) {
                if (y->rank != x->rank || y->c != x->c ||
                    !((y->h == x->h && y->w == x->w) || (y->h == 1 && y->w == 1)))
                    FAIL("scale '%s' is %lldx%lldx%lld, expected %lldx%lldx%lld or %lldx1x1",
                         yname, (long long)y->c, (long long)y->h, (long long)y->w,
                         (long long)x->c, (long long)x->h, (long long)x->w, (long long)x->c);
            } else if (y->rank != x->rank || y->c != x->c || y->h != x->h || y->w != x->w) {
                FAIL("input '%s' is %lldx%lldx%lld, expected %lldx%lldx%lld like the first "
                     "input", yname, (long long)y->c, (long long)y->h, (long long)y->w,
                     (long long)x->c, (long long)x->h, (long long)x->w);
            }
        }
        if (nd->kind == HWNAS_NET_MUL)
            macs = (double)nd->c * nd->h * nd->w;
        break;
    }
    case HWNAS_NET_FLATTEN:
        nd->rank = 2, nd->c = x->c * x->h * x->w, nd->h = nd->w = 1;
        break;
    case HWNAS_NET_LINEAR: {
        double f = (double)x->c * x->h * x->w;
        nd->rank = 2, nd->c = a->out, nd->h = nd->w = 1;
        macs = wcount = f * a->out;
        other = a->bias ? a->out : 0;
        break;
    }
    default:
        return hwnas__error(HWNAS_EINTERNAL, "%snode '%s': unknown kind %d", where, nodename,
                            nd->kind);
    }
    if ((double)nd->c * nd->h * nd->w > ELEM_LIMIT || macs > COST_LIMIT ||
        wcount + other > COST_LIMIT)
        FAIL("output %lldx%lldx%lld too large", (long long)nd->c, (long long)nd->h,
             (long long)nd->w);
    /* the net's totals too: a sum of nodes within their limits can wrap */
    if ((double)net->macs + macs > COST_LIMIT || (double)net->params + wcount + other > COST_LIMIT ||
        (double)net->acts + (double)nd->c * nd->h * nd->w > ACTS_LIMIT)
        FAIL("the net's total MACs, parameters or activations would exceed 2^60 (MACs, "
             "parameters) or 2^62 (activations)");
#undef FAIL
    nd->macs = (uint64_t)macs;
    nd->params = (uint64_t)(wcount + other);
    /* bits is 8 or 32: bytes per weight first, so that 2^60 weights fit */
    nd->wbytes = (uint64_t)wcount * (uint64_t)((nd->a.bits ? nd->a.bits : 32) / 8) +
                 (uint64_t)other * 4;
    return HWNAS_OK;
}

/* Append one primitive node. On error the net is unchanged. */
static int append(int64_t *out, hwnas_net *net, const node_spec *sp, const char *name,
                  size_t name_len, const uint32_t *in, size_t n_in, const char *where)
{
    char autoname[24];
    if (name && name_len) {
        int rc = check_name(net, name, name_len, where);
        if (rc != HWNAS_OK)
            return rc;
    } else {
        name_len = (size_t)snprintf(autoname, sizeof autoname, "_%zu", net->n);
        name = autoname;
    }
    for (size_t j = 0; j < n_in; j++)
        if (in[j] >= net->n)
            return hwnas__error(HWNAS_EINVAL, "%snode '%.*s': input %u does not exist yet "
                                "(%zu nodes)", where, (int)name_len, name, in[j], net->n);
    size_t mul_len = sp->mul ? sp->mul_len : 0;
    if (mul_len && slice_eq(sp->mul, mul_len, "exact"))
        mul_len = 0;
    int rc = reserve(net, 1, n_in, name_len + 1 + (mul_len ? mul_len + 1 : 0));
    if (rc != HWNAS_OK)
        return rc;
    hwnas__net_node *nd = &net->nodes[net->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = sp->kind;
    nd->a = sp->a;
    if (sp->kind == HWNAS_NET_INPUT)
        nd->a.out = sp->shape[0], nd->a.kh = sp->shape[1], nd->a.kw = sp->shape[2];
    /* the name goes into the arena only once the node is valid, but infer's
     * messages need it now */
    char namebuf[HWNAS__NET_MAX_NAME + 1];
    memcpy(namebuf, name, name_len);
    namebuf[name_len] = '\0';
    rc = infer(net, nd, in, n_in, namebuf, where);
    if (rc != HWNAS_OK)
        return rc;
    nd->name = (uint32_t)net->arena_len;
    memcpy(net->arena + net->arena_len, namebuf, name_len + 1);
    net->arena_len += name_len + 1;
    nd->mul = HWNAS__NET_NO_NAME;
    if (mul_len) {
        nd->mul = (uint32_t)net->arena_len;
        memcpy(net->arena + net->arena_len, sp->mul, mul_len);
        net->arena[net->arena_len + mul_len] = '\0';
        net->arena_len += mul_len + 1;
    }
    nd->in_off = (uint32_t)net->n_inputs;
    nd->n_in = (uint32_t)n_in;
    nd->last_use = (uint32_t)net->n;
    for (size_t j = 0; j < n_in; j++) {
        net->inputs[net->n_inputs++] = in[j];
        net->nodes[in[j]].last_use = (uint32_t)net->n;
    }
    net->macs += nd->macs;
    net->params += nd->params;
    net->wbytes += nd->wbytes;
    net->acts += (uint64_t)nd->c * (uint64_t)nd->h * (uint64_t)nd->w;
    table_insert(net, net->n);
    if (out)
        *out = (int64_t)net->n;
    net->n++;
    return HWNAS_OK;
}

/* ---- resolving an op -------------------------------------------------- */

static int32_t get(const hwnas__net_pending *p, int k, int32_t def)
{
    return (p->set & B(k)) ? p->v[k] : def;
}

static void resolve_window(const hwnas__net_pending *p, hwnas__net_attrs *a, int pool)
{
    a->kh = get(p, K_KH, get(p, K_K, 1));
    a->kw = get(p, K_KW, get(p, K_K, 1));
    a->sh = get(p, K_SH, get(p, K_S, pool ? a->kh : 1));
    a->sw = get(p, K_SW, get(p, K_S, pool ? a->kw : 1));
    a->dh = get(p, K_DH, get(p, K_D, 1));
    a->dw = get(p, K_DW, get(p, K_D, 1));
    if (p->pad_same) {
        a->ph = a->dh * (a->kh - 1) / 2;
        a->pw = a->dw * (a->kw - 1) / 2;
    } else {
        a->ph = get(p, K_PH, get(p, K_PAD, 0));
        a->pw = get(p, K_PW, get(p, K_PAD, 0));
    }
}

static void spec_init(node_spec *sp, int kind)
{
    memset(sp, 0, sizeof *sp);
    sp->kind = kind;
    hwnas__net_default_attrs(&sp->a, kind);
}

/* Blocks build their parts through this: a named part or an automatic one. */
typedef struct block_ctx {
    hwnas_net *net;
    const char *name;      /* block name or NULL */
    size_t name_len;
    const char *where;
    const char *mul;       /* multiplier for every multiplying part */
    size_t mul_len;
    int32_t bits;
} block_ctx;

static int part(block_ctx *b, uint32_t *out, node_spec *sp, const char *suffix,
                const uint32_t *in, size_t n_in)
{
    char buf[HWNAS__NET_MAX_NAME + 32];
    const char *nm = NULL;
    size_t len = 0;
    if (sp->kind == HWNAS_NET_CONV2D || sp->kind == HWNAS_NET_DWCONV2D ||
        sp->kind == HWNAS_NET_LINEAR) {
        sp->mul = b->mul, sp->mul_len = b->mul_len, sp->a.bits = b->bits;
    }
    if (b->name && suffix) {
        int n = snprintf(buf, sizeof buf, "%.*s.%s", (int)b->name_len, b->name, suffix);
        nm = buf, len = (size_t)n;
    } else if (b->name) {
        nm = b->name, len = b->name_len;
    }
    int64_t idx;
    int rc = append(&idx, b->net, sp, nm, len, in, n_in, b->where);
    *out = (uint32_t)idx;
    return rc;
}

static int conv_part(block_ctx *b, uint32_t *io, const char *suffix, int dw, int32_t out,
                     int32_t k, int32_t s, int32_t groups, int32_t bias)
{
    node_spec sp;
    spec_init(&sp, dw ? HWNAS_NET_DWCONV2D : HWNAS_NET_CONV2D);
    sp.a.out = out, sp.a.kh = sp.a.kw = k, sp.a.sh = sp.a.sw = s;
    sp.a.ph = sp.a.pw = (k - 1) / 2, sp.a.groups = groups, sp.a.bias = bias;
    uint32_t in = *io;
    return part(b, io, &sp, suffix, &in, 1);
}

static int simple_part(block_ctx *b, uint32_t *io, const char *suffix, int kind, int fn)
{
    node_spec sp;
    spec_init(&sp, kind);
    sp.a.fn = fn;
    uint32_t in = *io;
    return part(b, io, &sp, suffix, &in, 1);
}

/* The end of a ResNet block whose main path ends at y: the shortcut from x
 * (a 1x1 conv and batch-norm where the stride or width changes), the add
 * and the ReLU. */
static int residual_tail(block_ctx *b, uint32_t x, uint32_t y, int32_t c, int32_t s,
                         uint32_t *out)
{
    uint32_t sc = x;
    int rc;
    if (s != 1 || b->net->nodes[x].c != c) {
        if ((rc = conv_part(b, &sc, "down", 0, c, 1, s, 1, 0)) ||
            (rc = simple_part(b, &sc, "down_bn", HWNAS_NET_BATCHNORM, 0)))
            return rc;
    }
    node_spec sp;
    spec_init(&sp, HWNAS_NET_ADD);
    uint32_t pair[2] = {y, sc};
    if ((rc = part(b, &y, &sp, "add", pair, 2)))
        return rc;
    return (rc = simple_part(b, &y, NULL, HWNAS_NET_ACT, HWNAS_NET_ACT_RELU)) ? rc
                                                                               : (*out = y, 0);
}

static int block_basic(block_ctx *b, uint32_t x, const hwnas__net_pending *p, uint32_t *out)
{
    int32_t c = get(p, K_OUT, 0), s = get(p, K_S, 1);
    uint32_t y = x;
    int rc;
    if ((rc = conv_part(b, &y, "conv1", 0, c, 3, s, 1, 0)) ||
        (rc = simple_part(b, &y, "bn1", HWNAS_NET_BATCHNORM, 0)) ||
        (rc = simple_part(b, &y, "relu1", HWNAS_NET_ACT, HWNAS_NET_ACT_RELU)) ||
        (rc = conv_part(b, &y, "conv2", 0, c, 3, 1, 1, 0)) ||
        (rc = simple_part(b, &y, "bn2", HWNAS_NET_BATCHNORM, 0)))
        return rc;
    return residual_tail(b, x, y, c, s, out);
}

static int block_bottleneck(block_ctx *b, uint32_t x, const hwnas__net_pending *p, uint32_t *out)
{
    int32_t mid = get(p, K_MID, 0), s = get(p, K_S, 1), g = get(p, K_GROUPS, 1);
    int64_t c = get(p, K_OUT, 0) ? get(p, K_OUT, 0) : 4 * (int64_t)mid;
    if (c > HWNAS__NET_MAX_DIM)
        return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (bottleneck): out=4*mid=%lld exceeds %d",
                            b->where, (int)b->name_len, b->name ? b->name : "", (long long)c,
                            HWNAS__NET_MAX_DIM);
    uint32_t y = x;
    int rc;
    if ((rc = conv_part(b, &y, "conv1", 0, mid, 1, 1, 1, 0)) ||
        (rc = simple_part(b, &y, "bn1", HWNAS_NET_BATCHNORM, 0)) ||
        (rc = simple_part(b, &y, "relu1", HWNAS_NET_ACT, HWNAS_NET_ACT_RELU)) ||
        (rc = conv_part(b, &y, "conv2", 0, mid, 3, s, g, 0)) ||
        (rc = simple_part(b, &y, "bn2", HWNAS_NET_BATCHNORM, 0)) ||
        (rc = simple_part(b, &y, "relu2", HWNAS_NET_ACT, HWNAS_NET_ACT_RELU)) ||
        (rc = conv_part(b, &y, "conv3", 0, (int32_t)c, 1, 1, 1, 0)) ||
        (rc = simple_part(b, &y, "bn3", HWNAS_NET_BATCHNORM, 0)))
        return rc;
    return residual_tail(b, x, y, (int32_t)c, s, out);
}

static int block_mbconv(block_ctx *b, uint32_t x, const hwnas__net_pending *p, uint32_t *out)
{
    int32_t c = get(p, K_OUT, 0), t = get(p, K_EXPAND, 6), k = get(p, K_K, 3);
    int32_t s = get(p, K_S, 1), act = get(p, K_ACT, HWNAS_NET_ACT_RELU6);
    double se = (p->set & B(K_SE)) ? p->f[K_SE] : 0;
    int64_t cin = b->net->nodes[x].c;
    uint32_t y = x;
    int rc;
    if (t != 1) {
        if ((double)cin * t > HWNAS__NET_MAX_DIM)
            return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (mbconv): %lld channels times "
                                "expand=%d exceeds %d", b->where, (int)b->name_len,
                                b->name ? b->name : "", (long long)cin, t, HWNAS__NET_MAX_DIM);
        if ((rc = conv_part(b, &y, "expand", 0, (int32_t)(cin * t), 1, 1, 1, 0)) ||
            (rc = simple_part(b, &y, "expand_bn", HWNAS_NET_BATCHNORM, 0)) ||
            (rc = simple_part(b, &y, "expand_act", HWNAS_NET_ACT, act)))
            return rc;
    }
    if ((rc = conv_part(b, &y, "dw", 1, 1, k, s, 1, 0)) ||
        (rc = simple_part(b, &y, "dw_bn", HWNAS_NET_BATCHNORM, 0)) ||
        (rc = simple_part(b, &y, "dw_act", HWNAS_NET_ACT, act)))
        return rc;
    if (se > 0) {
        int32_t hidden = (int32_t)(cin * se);
        hidden = hidden < 1 ? 1 : hidden;
        uint32_t g = y;
        int64_t ce = b->net->nodes[y].c;
        if ((rc = simple_part(b, &g, "se_pool", HWNAS_NET_GAVGPOOL, 0)) ||
            (rc = conv_part(b, &g, "se_reduce", 0, hidden, 1, 1, 1, 1)) ||
            (rc = simple_part(b, &g, "se_act", HWNAS_NET_ACT, act)) ||
            (rc = conv_part(b, &g, "se_expand", 0, (int32_t)ce, 1, 1, 1, 1)) ||
            (rc = simple_part(b, &g, "se_gate", HWNAS_NET_ACT, HWNAS_NET_ACT_SIGMOID)))
            return rc;
        node_spec sp;
        spec_init(&sp, HWNAS_NET_MUL);
        uint32_t pair[2] = {y, g};
        if ((rc = part(b, &y, &sp, "se_scale", pair, 2)))
            return rc;
    }
    int res = s == 1 && cin == c;
    if ((rc = conv_part(b, &y, "project", 0, c, 1, 1, 1, 0)))
        return rc;
    if (res) {
        if ((rc = simple_part(b, &y, "project_bn", HWNAS_NET_BATCHNORM, 0)))
            return rc;
        node_spec sp;
        spec_init(&sp, HWNAS_NET_ADD);
        uint32_t pair[2] = {y, x};
        if ((rc = part(b, &y, &sp, NULL, pair, 2)))
            return rc;
    } else if ((rc = simple_part(b, &y, NULL, HWNAS_NET_BATCHNORM, 0))) {
        return rc;
    }
    *out = y;
    return HWNAS_OK;
}

int hwnas__net_op_finish(int64_t *out, hwnas_net *net, const hwnas__net_pending *p,
                         const char *name, size_t name_len, const uint32_t *inputs,
                         size_t n_inputs, const char *where)
{
    const op_desc *op = p->op;
    int show = (int)(name_len > 64 ? 64 : name_len);
    const char *shown = name_len ? name : "(unnamed)";
    if (!name_len)
        show = 9;
    uint32_t missing = op->required & ~p->set;
    for (int k = 0; missing && k < K_COUNT; k++)
        if (missing & B(k))
            return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (%s): missing attribute '%s'",
                                where, show, shown, op->name, key_names[k]);
    uint32_t last;
    if (n_inputs == 0 && op->min_in == 1) {
        if (net->n == 0)
            return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (%s): no input (the net is empty; "
                                "start with input)", where, show, shown, op->name);
        last = (uint32_t)(net->n - 1);
        inputs = &last;
        n_inputs = 1;
    }
    if (n_inputs < (size_t)op->min_in || (op->max_in && n_inputs > (size_t)op->max_in)) {
        if (op->max_in == op->min_in)
            return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (%s): expected %d input%s, got %zu",
                                where, show, shown, op->name, op->min_in,
                                op->min_in == 1 ? "" : "s", n_inputs);
        return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (%s): expected at least %d inputs, got "
                            "%zu", where, show, shown, op->name, op->min_in, n_inputs);
    }
    if (op->block == BLOCK_NONE) {
        node_spec sp;
        spec_init(&sp, op->kind);
        hwnas__net_attrs *a = &sp.a;
        switch (op->kind) {
        case HWNAS_NET_INPUT:
            memcpy(sp.shape, p->shape, sizeof sp.shape);
            break;
        case HWNAS_NET_CONV2D:
        case HWNAS_NET_DWCONV2D:
            resolve_window(p, a, 0);
            a->out = get(p, K_OUT, 0);
            a->groups = op->kind == HWNAS_NET_DWCONV2D ? get(p, K_MULT, 1) : get(p, K_GROUPS, 1);
            /* fall through */
        case HWNAS_NET_LINEAR:
            a->out = op->kind == HWNAS_NET_LINEAR ? get(p, K_OUT, 0) : a->out;
            a->bias = get(p, K_BIAS, 1);
            a->bits = get(p, K_BITS, 32);
            sp.mul = p->mul, sp.mul_len = p->mul_len;
            break;
        case HWNAS_NET_MAXPOOL:
        case HWNAS_NET_AVGPOOL:
            if (!(p->set & (B(K_K) | B(K_KH) | B(K_KW))))
                return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (%s): missing attribute 'k'",
                                    where, show, shown, op->name);
            resolve_window(p, a, 1);
            break;
        case HWNAS_NET_ACT:
            a->fn = op->fn;
            if (op->fn == HWNAS_NET_ACT_ELU)
                a->alpha = (p->set & B(K_ALPHA)) ? p->f[K_ALPHA] : 1.0;
            if (op->fn == HWNAS_NET_ACT_LEAKY_RELU)
                a->alpha = (p->set & B(K_SLOPE)) ? p->f[K_SLOPE] : 0.01;
            break;
        case HWNAS_NET_DROPOUT:
            a->alpha = (p->set & B(K_P)) ? p->f[K_P] : 0.5;
            break;
        default:
            break;
        }
        return append(out, net, &sp, name, name_len, inputs, n_inputs, where);
    }
    if (inputs[0] >= net->n)
        return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (%s): input %u does not exist yet",
                            where, show, shown, op->name, inputs[0]);
    if (net->nodes[inputs[0]].rank != 4)
        return hwnas__error(HWNAS_EINVAL, "%snode '%.*s' (%s): expected a CxHxW input", where,
                            show, shown, op->name);
    if (name_len) {
        int rc = check_name(net, name, name_len, where);
        if (rc != HWNAS_OK)
            return rc;
    }
    block_ctx b = {net, name_len ? name : NULL, name_len, where, p->mul, p->mul_len,
                   get(p, K_BITS, 32)};
    size_t n0 = net->n, i0 = net->n_inputs, a0 = net->arena_len;
    uint32_t y = 0;
    int rc = op->block == BLOCK_BASIC        ? block_basic(&b, inputs[0], p, &y)
             : op->block == BLOCK_BOTTLENECK ? block_bottleneck(&b, inputs[0], p, &y)
                                             : block_mbconv(&b, inputs[0], p, &y);
    if (rc != HWNAS_OK) {
        truncate_to(net, n0, i0, a0);
        return rc;
    }
    if (out)
        *out = y;
    return HWNAS_OK;
}

/* ---- public builder -------------------------------------------------- */

int hwnas_net_add(int64_t *out, hwnas_net *net, const char *op, const char *name,
                  const int64_t *inputs, size_t n_inputs, const char *attrs)
{
    if (!net || !op || (n_inputs && !inputs))
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_add: NULL argument");
    uint32_t in[64];
    if (n_inputs > HWNAS_ARRAY_SIZE(in))
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_add: %zu inputs, at most %zu", n_inputs,
                            HWNAS_ARRAY_SIZE(in));
    for (size_t j = 0; j < n_inputs; j++) {
        if (inputs[j] < 0 || (uint64_t)inputs[j] >= net->n)
            return hwnas__error(HWNAS_EINVAL, "hwnas_net_add: op %s: input %zu is %lld, expected "
                                "an existing node index in [0, %zu)", op, j,
                                (long long)inputs[j], net->n);
        in[j] = (uint32_t)inputs[j];
    }
    hwnas__net_pending p;
    int rc = hwnas__net_op_begin(&p, op, strlen(op), "");
    if (rc == HWNAS_OK)
        rc = hwnas__net_op_attrs(&p, attrs, "");
    if (rc == HWNAS_OK)
        rc = hwnas__net_op_finish(out, net, &p, name, name ? strlen(name) : 0, in, n_inputs, "");
    return rc;
}

int hwnas_net_add_input(int64_t *out, hwnas_net *net, const char *name, int64_t c, int64_t h,
                        int64_t w)
{
    if (!net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_add_input: NULL net");
    if (c < 1 || h < 1 || w < 1 || c > HWNAS__NET_MAX_DIM || h > HWNAS__NET_MAX_DIM ||
        w > HWNAS__NET_MAX_DIM)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_add_input: shape %lldx%lldx%lld: each "
                            "dimension must be in [1, %d]", (long long)c, (long long)h,
                            (long long)w, HWNAS__NET_MAX_DIM);
    node_spec sp;
    spec_init(&sp, HWNAS_NET_INPUT);
    sp.shape[0] = (int32_t)c, sp.shape[1] = (int32_t)h, sp.shape[2] = (int32_t)w;
    return append(out, net, &sp, name, name ? strlen(name) : 0, NULL, 0, "");
}

int hwnas_net_add_conv2d(int64_t *out, hwnas_net *net, const char *name, int64_t input,
                         int64_t out_channels, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                         int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t groups,
                         int64_t bias)
{
    if (!net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_add_conv2d: NULL net");
    const int64_t v[] = {out_channels, kh, kw, sh, sw, dh, dw, groups};
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(v); i++)
        if (v[i] < 1 || v[i] > HWNAS__NET_MAX_DIM)
            return hwnas__error(HWNAS_EINVAL, "hwnas_net_add_conv2d: argument %zu is %lld, "
                                "expected [1, %d]", i + 5, (long long)v[i], HWNAS__NET_MAX_DIM);
    if (ph < 0 || pw < 0 || ph > HWNAS__NET_MAX_DIM || pw > HWNAS__NET_MAX_DIM ||
        (bias != 0 && bias != 1))
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_add_conv2d: bad padding %lldx%lld or bias "
                            "%lld", (long long)ph, (long long)pw, (long long)bias);
    if (input < 0) {
        if (net->n == 0)
            return hwnas__error(HWNAS_EINVAL, "hwnas_net_add_conv2d: the net is empty");
        input = (int64_t)net->n - 1;
    }
    if ((uint64_t)input >= net->n)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_add_conv2d: input %lld does not exist",
                            (long long)input);
    node_spec sp;
    spec_init(&sp, HWNAS_NET_CONV2D);
    sp.a.out = (int32_t)out_channels, sp.a.kh = (int32_t)kh, sp.a.kw = (int32_t)kw;
    sp.a.sh = (int32_t)sh, sp.a.sw = (int32_t)sw, sp.a.ph = (int32_t)ph, sp.a.pw = (int32_t)pw;
    sp.a.dh = (int32_t)dh, sp.a.dw = (int32_t)dw, sp.a.groups = (int32_t)groups;
    sp.a.bias = (int32_t)bias;
    uint32_t in = (uint32_t)input;
    return append(out, net, &sp, name, name ? strlen(name) : 0, &in, 1, "");
}

int hwnas_net_set_multiplier(hwnas_net *net, size_t i, const char *multiplier, int32_t bits)
{
    if (!net || i >= net->n)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_set_multiplier: node %zu out of range", i);
    hwnas__net_node *nd = &net->nodes[i];
    const char *nm = hwnas__net_str(net, nd->name);
    if (nd->kind != HWNAS_NET_CONV2D && nd->kind != HWNAS_NET_DWCONV2D &&
        nd->kind != HWNAS_NET_LINEAR)
        return hwnas__error(HWNAS_EINVAL, "node '%s' (%s) has no multiplier", nm,
                            hwnas__net_op_name(nd));
    if (bits != 0 && bits != 8 && bits != 32)
        return hwnas__error(HWNAS_EINVAL, "node '%s': bits %d, expected 8 or 32", nm, (int)bits);
    if (multiplier) {
        size_t len = strlen(multiplier);
        hwnas__net_pending p;
        hwnas__net_op_begin(&p, "conv", 4, "");
        char where[HWNAS__NET_MAX_NAME + 16];
        snprintf(where, sizeof where, "node '%s': ", nm);
        int rc = hwnas__net_op_attr(&p, "mul", 3, multiplier, len, where);
        if (rc != HWNAS_OK)
            return rc;
        if (strcmp(multiplier, "exact") == 0) {
            nd->mul = HWNAS__NET_NO_NAME;
        } else {
            rc = reserve(net, 0, 0, len + 1);
            if (rc != HWNAS_OK)
                return rc;
            nd->mul = (uint32_t)net->arena_len;
            memcpy(net->arena + net->arena_len, multiplier, len + 1);
            net->arena_len += len + 1;
        }
    }
    if (bits) {
        uint64_t other = nd->a.bias ? (uint64_t)nd->a.out : 0;
        uint64_t wcount = nd->params - other;
        net->wbytes -= nd->wbytes;
        nd->a.bits = bits;
        nd->wbytes = wcount * (uint64_t)(bits / 8) + other * 4;
        net->wbytes += nd->wbytes;
    }
    return HWNAS_OK;
}
