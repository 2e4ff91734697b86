/* The net object: life cycle, queries, equality, hash and whole-net cost. */
#include <string.h>

#include "net_internal.h"

/* ---- op names: the spec's spelling of every kind and activation ---- */

/* Indexed by HWNAS_NET_ACT_* */
static const char *const act_names[] = {"relu", "relu6", "elu", "leaky_relu", "prelu",
                                        "sigmoid", "swish", "hard_swish", "hard_sigmoid",
                                        "tanh"};
/* Indexed by HWNAS_NET_* kinds; "act" stands for the activation's own name */
static const char *const kind_ops[] = {"input", "conv", "dwconv", "maxpool", "avgpool", "gap",
                                       "bn", "act", "add", "mul", "concat", "dropout",
                                       "flatten", "linear", "softmax", "zero"};

const char *hwnas__net_op_name(const hwnas__net_node *nd)
{
    if (nd->kind == HWNAS_NET_ACT)
        return act_names[nd->a.fn];
    return kind_ops[nd->kind];
}

int hwnas__net_act_find(const char *s, size_t n)
{
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(act_names); i++)
        if (strlen(act_names[i]) == n && memcmp(s, act_names[i], n) == 0)
            return (int)i;
    return -1;
}

int hwnas_net_new(hwnas_net **out, hwnas_context *ctx)
{
    if (out)
        *out = NULL;
    if (!out || !ctx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_new: NULL %s", out ? "ctx" : "out");
    hwnas_net *net = hwnas__calloc(ctx, 1, sizeof *net);
    if (!net)
        return HWNAS_ENOMEM;
    net->ctx = ctx;
    *out = net;
    return HWNAS_OK;
}

void hwnas_net_free(hwnas_net *net)
{
    if (!net)
        return;
    const hwnas_context *ctx = net->ctx;
    hwnas__free(ctx, net->nodes);
    hwnas__free(ctx, net->inputs);
    hwnas__free(ctx, net->arena);
    hwnas__free(ctx, net->table);
    hwnas__free(ctx, net);
}

void hwnas_net_clear(hwnas_net *net)
{
    if (!net)
        return;
    net->n = net->n_inputs = net->arena_len = 0;
    net->macs = net->params = net->wbytes = net->acts = 0;
    if (net->table)
        memset(net->table, 0, net->table_cap * sizeof *net->table);
}

static void *dup_array(const hwnas_context *ctx, const void *src, size_t bytes, int *failed)
{
    if (!bytes)
        return NULL;
    void *p = hwnas__malloc(ctx, bytes);
    if (!p) {
        *failed = 1;
        return NULL;
    }
    memcpy(p, src, bytes);
    return p;
}

int hwnas_net_clone(hwnas_net **out, const hwnas_net *net)
{
    if (out)
        *out = NULL;
    if (!out || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_clone: NULL argument");
    hwnas_net *c;
    int rc = hwnas_net_new(&c, net->ctx);
    if (rc != HWNAS_OK)
        return rc;
    int failed = 0;
    *c = *net;
    c->nodes = dup_array(net->ctx, net->nodes, net->n * sizeof *net->nodes, &failed);
    c->inputs = dup_array(net->ctx, net->inputs, net->n_inputs * sizeof *net->inputs, &failed);
    c->arena = dup_array(net->ctx, net->arena, net->arena_len, &failed);
    c->table = dup_array(net->ctx, net->table, net->table_cap * sizeof *net->table, &failed);
    c->cap = net->n;
    c->cap_inputs = net->n_inputs;
    c->arena_cap = net->arena_len;
    if (!c->table)
        c->table_cap = 0;
    if (failed) {
        hwnas_net_free(c);
        return HWNAS_ENOMEM;
    }
    *out = c;
    return HWNAS_OK;
}

/* ---- queries ---------------------------------------------------------- */

size_t hwnas_net_node_count(const hwnas_net *net) { return net ? net->n : 0; }

static const hwnas__net_node *node_at(const hwnas_net *net, size_t i)
{
    return net && i < net->n ? &net->nodes[i] : NULL;
}

const char *hwnas_net_node_name(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd ? hwnas__net_str(net, nd->name) : NULL;
}

int hwnas_net_node_kind(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd ? nd->kind : -1;
}

const char *hwnas_net_node_op(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd ? hwnas__net_op_name(nd) : NULL;
}

static int is_mult(int kind)
{
    return kind == HWNAS_NET_CONV2D || kind == HWNAS_NET_DWCONV2D || kind == HWNAS_NET_LINEAR;
}

static int has_window(int kind)
{
    return kind == HWNAS_NET_CONV2D || kind == HWNAS_NET_DWCONV2D ||
           kind == HWNAS_NET_MAXPOOL || kind == HWNAS_NET_AVGPOOL;
}

int hwnas_net_node_attr(int64_t *out, const hwnas_net *net, size_t i, const char *key)
{
    const hwnas__net_node *nd = node_at(net, i);
    if (!nd || !out || !key)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_node_attr: node %zu out of range or NULL "
                            "argument", i);
    const hwnas__net_attrs *a = &nd->a;
    int k = nd->kind, conv = k == HWNAS_NET_CONV2D || k == HWNAS_NET_DWCONV2D;
    struct { const char *key; int ok; int32_t v; } t[] = {
        {"out", conv || k == HWNAS_NET_LINEAR, a->out},
        {"kh", has_window(k), a->kh}, {"kw", has_window(k), a->kw},
        {"sh", has_window(k), a->sh}, {"sw", has_window(k), a->sw},
        {"ph", has_window(k), a->ph}, {"pw", has_window(k), a->pw},
        {"dh", conv, a->dh}, {"dw", conv, a->dw}, {"groups", conv, a->groups},
        {"bias", is_mult(k), a->bias}, {"bits", is_mult(k), a->bits},
        {"fn", k == HWNAS_NET_ACT, a->fn},
    };
    for (size_t j = 0; j < HWNAS_ARRAY_SIZE(t); j++)
        if (strcmp(key, t[j].key) == 0) {
            if (!t[j].ok)
                break;
            *out = t[j].v;
            return HWNAS_OK;
        }
    return hwnas__error(HWNAS_ENOTFOUND, "node '%s' (%s) has no integer attribute '%s'",
                        hwnas__net_str(net, nd->name), hwnas__net_op_name(nd), key);
}

int hwnas_net_node_attr_float(double *out, const hwnas_net *net, size_t i, const char *key)
{
    const hwnas__net_node *nd = node_at(net, i);
    if (!nd || !out || !key)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_node_attr_float: node %zu out of range or "
                            "NULL argument", i);
    int ok = (strcmp(key, "alpha") == 0 && nd->kind == HWNAS_NET_ACT &&
              nd->a.fn == HWNAS_NET_ACT_ELU) ||
             (strcmp(key, "slope") == 0 && nd->kind == HWNAS_NET_ACT &&
              nd->a.fn == HWNAS_NET_ACT_LEAKY_RELU) ||
             (strcmp(key, "p") == 0 && nd->kind == HWNAS_NET_DROPOUT);
    if (!ok)
        return hwnas__error(HWNAS_ENOTFOUND, "node '%s' (%s) has no real attribute '%s'",
                            hwnas__net_str(net, nd->name), hwnas__net_op_name(nd), key);
    *out = nd->a.alpha;
    return HWNAS_OK;
}

size_t hwnas_net_node_input_count(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd ? nd->n_in : 0;
}

int64_t hwnas_net_node_input(const hwnas_net *net, size_t i, size_t j)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd && j < nd->n_in ? (int64_t)net->inputs[nd->in_off + j] : -1;
}

int hwnas_net_node_shape(const hwnas_net *net, size_t i, int64_t *dims)
{
    const hwnas__net_node *nd = node_at(net, i);
    if (!nd || !dims)
        return 0;
    dims[0] = 1;
    dims[1] = nd->c;
    if (nd->rank == 2)
        return 2;
    dims[2] = nd->h;
    dims[3] = nd->w;
    return 4;
}

const char *hwnas_net_node_multiplier(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    if (!nd || !is_mult(nd->kind))
        return NULL;
    return nd->mul == HWNAS__NET_NO_NAME ? "exact" : hwnas__net_str(net, nd->mul);
}

int32_t hwnas_net_node_bits(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd && is_mult(nd->kind) ? nd->a.bits : 0;
}

uint64_t hwnas_net_node_macs(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd ? nd->macs : 0;
}

uint64_t hwnas_net_node_params(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd ? nd->params : 0;
}

uint64_t hwnas_net_node_weight_bytes(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd ? nd->wbytes : 0;
}

uint64_t hwnas_net_node_activations(const hwnas_net *net, size_t i)
{
    const hwnas__net_node *nd = node_at(net, i);
    return nd ? (uint64_t)nd->c * (uint64_t)nd->h * (uint64_t)nd->w : 0;
}

size_t hwnas_net_topo_order(const hwnas_net *net, size_t *order, size_t cap)
{
    size_t n = hwnas_net_node_count(net);
    for (size_t i = 0; order && i < n && i < cap; i++)
        order[i] = i;
    return n;
}

/* ---- equality and hash ------------------------------------------------ */

static int attrs_equal(const hwnas__net_attrs *x, const hwnas__net_attrs *y)
{
    return x->out == y->out && x->kh == y->kh && x->kw == y->kw && x->sh == y->sh &&
           x->sw == y->sw && x->ph == y->ph && x->pw == y->pw && x->dh == y->dh &&
           x->dw == y->dw && x->groups == y->groups && x->bias == y->bias &&
           x->bits == y->bits && x->fn == y->fn && x->alpha == y->alpha;
}

int hwnas_net_equal(const hwnas_net *a, const hwnas_net *b)
{
    if (!a || !b)
        return a == b;
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const hwnas__net_node *x = &a->nodes[i], *y = &b->nodes[i];
        if (x->kind != y->kind || x->n_in != y->n_in || !attrs_equal(&x->a, &y->a) ||
            strcmp(hwnas__net_str(a, x->name), hwnas__net_str(b, y->name)) != 0)
            return 0;
        const char *mx = hwnas_net_node_multiplier(a, i), *my = hwnas_net_node_multiplier(b, i);
        if ((mx || my) && (!mx || !my || strcmp(mx, my) != 0))
            return 0;
        for (uint32_t j = 0; j < x->n_in; j++)
            if (a->inputs[x->in_off + j] != b->inputs[y->in_off + j])
                return 0;
    }
    return 1;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    if (d == 0)
        d = 0; /* +0 and -0 hash alike */
    memcpy(&u, &d, sizeof u);
    return u;
}

uint64_t hwnas_net_hash(const hwnas_net *net)
{
    uint64_t h = 0x68776e61735f6e65ULL;
    if (!net)
        return h;
    h = mix(h, net->n);
    for (size_t i = 0; i < net->n; i++) {
        const hwnas__net_node *nd = &net->nodes[i];
        const hwnas__net_attrs *a = &nd->a;
        const int32_t v[] = {nd->kind, a->out, a->kh, a->kw, a->sh, a->sw, a->ph, a->pw,
                             a->dh, a->dw, a->groups, a->bias, a->bits, a->fn};
        for (size_t j = 0; j < HWNAS_ARRAY_SIZE(v); j++)
            h = mix(h, (uint64_t)(uint32_t)v[j]);
        h = mix(h, double_bits(a->alpha));
        h = mix(h, nd->n_in);
        for (uint32_t j = 0; j < nd->n_in; j++)
            h = mix(h, net->inputs[nd->in_off + j]);
        if (nd->mul != HWNAS__NET_NO_NAME)
            for (const unsigned char *s = (const unsigned char *)hwnas__net_str(net, nd->mul);
                 *s; s++)
                h = mix(h, *s);
    }
    return h;
}

/* ---- whole-net cost --------------------------------------------------- */

uint64_t hwnas_net_macs(const hwnas_net *net) { return net ? net->macs : 0; }
uint64_t hwnas_net_params(const hwnas_net *net) { return net ? net->params : 0; }
uint64_t hwnas_net_weight_bytes(const hwnas_net *net) { return net ? net->wbytes : 0; }
uint64_t hwnas_net_activations(const hwnas_net *net) { return net ? net->acts : 0; }
uint64_t hwnas_net_memory_accesses(const hwnas_net *net) { return net ? 4 * net->macs : 0; }

uint64_t hwnas_net_peak_activations(const hwnas_net *net)
{
    if (!net)
        return 0;
    uint64_t live = 0, peak = 0;
    for (size_t i = 0; i < net->n; i++) {
        const hwnas__net_node *nd = &net->nodes[i];
        live += (uint64_t)nd->c * (uint64_t)nd->h * (uint64_t)nd->w;
        if (live > peak)
            peak = live;
        for (uint32_t j = 0; j < nd->n_in; j++) {
            uint32_t x = net->inputs[nd->in_off + j];
            int seen = 0;
            for (uint32_t k = 0; k < j; k++)
                seen |= net->inputs[nd->in_off + k] == x;
            const hwnas__net_node *in = &net->nodes[x];
            if (!seen && in->last_use == i)
                live -= (uint64_t)in->c * (uint64_t)in->h * (uint64_t)in->w;
        }
        /* an output nobody reads dies at once, unless it is the net's output */
        if (nd->last_use == i && i + 1 < net->n)
            live -= (uint64_t)nd->c * (uint64_t)nd->h * (uint64_t)nd->w;
    }
    return peak;
}

int hwnas_net_cost(double *out, const hwnas_net *net, const char *metric)
{
    if (!out || !net || !metric)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_cost: NULL argument");
    static const char *const names[] = {"macs", "params", "weight_bytes", "activations",
                                        "peak_activations", "memory_accesses", "nodes"};
    const double v[] = {(double)net->macs, (double)net->params, (double)net->wbytes,
                        (double)net->acts, 0, (double)(4 * net->macs), (double)net->n};
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(names); i++)
        if (strcmp(metric, names[i]) == 0) {
            *out = i == 4 ? (double)hwnas_net_peak_activations(net) : v[i];
            return HWNAS_OK;
        }
    return hwnas__error(HWNAS_ENOTFOUND, "unknown net cost metric '%s'; expected one of: macs "
                        "params weight_bytes activations peak_activations memory_accesses nodes",
                        metric);
}
