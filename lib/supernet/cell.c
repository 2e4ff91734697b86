/*
 * The NAS-Bench-201 cell supernet (kind supernet:nb201): the cell space
 * with every operation on every edge.
 *
 * A path is built node for node as space:cell decodes the same genotype
 * (lib/space/cell.c: the same calls in the same order, so the same
 * automatic names and the same hash - the supernet tests check it against
 * the space itself); the full net is that skeleton with every operation of
 * every edge summed. Each node with weights gets a key (block, edge,
 * operation, part) that does not depend on the path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"
#include "supernet_internal.h"

enum { OP_NONE, OP_SKIP, OP_CONV1, OP_CONV3, OP_POOL };
static const char *const op_names[HWNAS__SN_OPS] = {"none", "skip_connect", "nor_conv_1x1",
                                                    "nor_conv_3x3", "avg_pool_3x3"};
static const int edge_to[HWNAS__SN_EDGES] = {1, 2, 2, 3, 3, 3};
static const int edge_from[HWNAS__SN_EDGES] = {0, 0, 1, 0, 1, 2};

#define NO_EDGE 6

typedef struct builder {
    hwnas_net *net;
    int rc;
    uint32_t block;       /* the skeleton block being built */
    hwnas__sn_key **keys; /* grown as nodes with weights are added */
    size_t *n_keys, *cap;
} builder;

static uint32_t key_of(uint32_t block, uint32_t edge, uint32_t op, uint32_t part)
{
    return ((block * 8 + edge) * 8 + op) * 8 + part;
}

static void record(builder *b, int64_t node, uint32_t key)
{
    if (b->rc == HWNAS_OK)
        b->rc = hwnas__sn_key_push(b->net->ctx, b->keys, b->n_keys, b->cap, key, node);
}

static int64_t op1(builder *b, const char *op, int64_t x, const char *attrs)
{
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add(&out, b->net, op, NULL, x >= 0 ? &x : NULL, x >= 0 ? 1 : 0,
                              attrs);
    return out;
}

static int64_t bn(builder *b, int64_t x, uint32_t key)
{
    int64_t out = op1(b, "bn", x, NULL);
    record(b, out, key);
    return out;
}

static int64_t conv(builder *b, int64_t x, int64_t c, int64_t k, int64_t s, uint32_t key)
{
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add_conv2d(&out, b->net, NULL, x, c, k, k, s, s, k / 2, k / 2, 1, 1,
                                     1, 0);
    record(b, out, key);
    return out;
}

static int64_t add(builder *b, const int64_t *terms, size_t n)
{
    if (n == 1)
        return terms[0];
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add(&out, b->net, "add", NULL, terms, n, NULL);
    return out;
}

/* NAS-Bench-201's ReLUConvBN; parts p (conv) and p + 1 (bn) of key. */
static int64_t relu_conv_bn(builder *b, int64_t x, int64_t c, int64_t k, int64_t s,
                            uint32_t edge, uint32_t op, uint32_t part)
{
    x = op1(b, "relu", x, NULL);
    x = conv(b, x, c, k, s, key_of(b->block, edge, op, part));
    return bn(b, x, key_of(b->block, edge, op, part + 1));
}

static int64_t edge_op(builder *b, int64_t x, int64_t c, uint32_t e, uint32_t op)
{
    switch (op) {
    case OP_SKIP: return x;
    case OP_CONV1: return relu_conv_bn(b, x, c, 1, 1, e, op, 0);
    case OP_CONV3: return relu_conv_bn(b, x, c, 3, 1, e, op, 0);
    default: return op1(b, "avgpool", x, "k=3,s=1,pad=1");
    }
}

/* One cell on path g, as space:cell's cell() (dead nodes left out, zero
 * inputs contribute nothing, a disconnected output is a zero node). */
static int64_t cell_path(builder *b, const uint32_t *g, int64_t x, int64_t c)
{
    int64_t node[4] = {x, -1, -1, -1};
    int zero[4] = {0, 0, 0, 0}, live[4] = {0, 0, 0, 1};
    for (int j = 2; j >= 0; j--)
        for (int e = 0; e < HWNAS__SN_EDGES; e++)
            if (edge_from[e] == j && g[e] != OP_NONE && live[edge_to[e]])
                live[j] = 1;
    for (int j = 1; j <= 3; j++) {
        if (!live[j]) {
            zero[j] = 1;
            continue;
        }
        int64_t terms[3];
        size_t n = 0;
        for (int e = 0; e < HWNAS__SN_EDGES; e++) {
            int i = edge_from[e];
            if (edge_to[e] != j || g[e] == OP_NONE || zero[i])
                continue;
            terms[n++] = edge_op(b, node[i], c, (uint32_t)e, g[e]);
        }
        if (n == 0)
            zero[j] = 1;
        else
            node[j] = add(b, terms, n);
    }
    return zero[3] ? op1(b, "zero", x, NULL) : node[3];
}

/* One cell of the full net: node j sums every operation but none of every
 * edge into it (none adds nothing; a path's none is the term left out). */
static int64_t cell_full(builder *b, int64_t x, int64_t c)
{
    int64_t node[4] = {x, -1, -1, -1};
    for (int j = 1; j <= 3; j++) {
        int64_t terms[3 * (HWNAS__SN_OPS - 1)];
        size_t n = 0;
        for (int e = 0; e < HWNAS__SN_EDGES; e++)
            if (edge_to[e] == j)
                for (uint32_t op = OP_SKIP; op < HWNAS__SN_OPS; op++)
                    terms[n++] = edge_op(b, node[edge_from[e]], c, (uint32_t)e, op);
        node[j] = add(b, terms, n);
    }
    return node[3];
}

/* NAS-Bench-201's ResNetBasicblock with stride 2. */
static int64_t reduction(builder *b, int64_t x, int64_t c)
{
    int64_t a = relu_conv_bn(b, x, c, 3, 2, NO_EDGE, 0, 0);
    a = relu_conv_bn(b, a, c, 3, 1, NO_EDGE, 0, 2);
    int64_t s = op1(b, "avgpool", x, "k=2,s=2");
    s = conv(b, s, c, 1, 1, key_of(b->block, NO_EDGE, 0, 4));
    int64_t t[2] = {a, s};
    return add(b, t, 2);
}

int hwnas__sn_cell_build(hwnas_net *net, const hwnas__sn_cell *cfg, const uint32_t *choices,
                         hwnas__sn_key **keys, size_t *n_keys, size_t *cap)
{
    builder b = {net, HWNAS_OK, 0, keys, n_keys, cap};
    *n_keys = 0;
    int64_t c = cfg->channels, size = cfg->in_size;
    int64_t x = -1;
    b.rc = hwnas_net_add_input(&x, net, "input", cfg->in_channels, size, size);
    x = conv(&b, x, c, 3, 1, key_of(0, NO_EDGE, 0, 0));
    x = bn(&b, x, key_of(0, NO_EDGE, 0, 1));
    for (int stage = 0; stage < 3; stage++) {
        if (stage > 0) {
            b.block++;
            x = reduction(&b, x, c << stage);
        }
        for (int64_t k = 0; k < cfg->cells; k++) {
            b.block++;
            x = choices ? cell_path(&b, choices, x, c << stage) : cell_full(&b, x, c << stage);
        }
    }
    b.block++;
    x = bn(&b, x, key_of(b.block, NO_EDGE, 0, 0));
    x = op1(&b, "relu", x, NULL);
    x = op1(&b, "gap", x, NULL);
    char attrs[32];
    snprintf(attrs, sizeof attrs, "out=%lld", (long long)cfg->classes);
    x = op1(&b, "linear", x, attrs);
    record(&b, x, key_of(b.block, NO_EDGE, 0, 1));
    return b.rc;
}

static int expect(const char *text, const char **p, const char *what)
{
    size_t n = strlen(what);
    if (strncmp(*p, what, n) != 0)
        return hwnas__error(HWNAS_EFORMAT,
                            "cell \"%s\": expected '%s' at position %zu (a NAS-Bench-201 "
                            "architecture like |nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|)",
                            text, what, (size_t)(*p - text) + 1);
    *p += n;
    return HWNAS_OK;
}

int hwnas__sn_cell_parse(uint32_t *out, const char *text)
{
    const char *p = text;
    for (int e = 0; e < HWNAS__SN_EDGES; e++) {
        int rc = (e == 1 || e == 3) ? expect(text, &p, "|+") : HWNAS_OK;
        if (rc == HWNAS_OK)
            rc = expect(text, &p, "|");
        if (rc != HWNAS_OK)
            return rc;
        int op = -1;
        for (int k = 0; k < HWNAS__SN_OPS && op < 0; k++) {
            size_t n = strlen(op_names[k]);
            if (strncmp(p, op_names[k], n) == 0 && p[n] == '~') {
                op = k;
                p += n;
            }
        }
        if (op < 0)
            return hwnas__error(HWNAS_EFORMAT,
                                "cell \"%s\": expected an operation (none, skip_connect, "
                                "nor_conv_1x1, nor_conv_3x3, avg_pool_3x3) at position %zu",
                                text, (size_t)(p - text) + 1);
        char from[3] = {'~', (char)('0' + edge_from[e]), 0};
        rc = expect(text, &p, from);
        if (rc != HWNAS_OK)
            return rc;
        out[e] = (uint32_t)op;
    }
    int rc = expect(text, &p, "|");
    if (rc == HWNAS_OK && *p)
        rc = hwnas__error(HWNAS_EFORMAT, "cell \"%s\": unexpected text at position %zu", text,
                          (size_t)(p - text) + 1);
    return rc;
}

/* The full net's cell sums (cell_full's add nodes: 4, 8 and 12 terms for
 * cell nodes 1, 2, 3; the reductions' adds have 2) in net order, with the
 * (edge, operation) of each term: cell_full adds, for every edge into the
 * node in edge order, the operations skip_connect .. avg_pool_3x3. */
size_t hwnas__sn_mixed_sums(const hwnas_supernet *sn, size_t *nodes,
                            int32_t (*coef)[HWNAS__SN_MAX_TERMS], size_t cap)
{
    const hwnas_net *net = sn->full_net;
    size_t found = 0;
    for (size_t i = 0; i < net->n; i++) {
        const hwnas__net_node *nd = &net->nodes[i];
        int j = (int)(found % 3) + 1;
        if (nd->kind != HWNAS_NET_ADD || nd->n_in != (size_t)(4 * j))
            continue;
        if (found < cap) {
            nodes[found] = i;
            size_t q = 0;
            for (int e = 0; e < HWNAS__SN_EDGES; e++)
                if (edge_to[e] == j)
                    for (int op = OP_SKIP; op < HWNAS__SN_OPS; op++)
                        coef[found][q++] = e * HWNAS__SN_OPS + op;
        }
        found++;
    }
    return found;
}

const char *hwnas__sn_op_name(uint32_t op)
{
    return op < HWNAS__SN_OPS ? op_names[op] : "?";
}

void hwnas__sn_cell_format(char *buf, size_t size, const uint32_t *g)
{
    size_t u = 0;
    for (int e = 0; e < HWNAS__SN_EDGES && u < size; e++) {
        int n = snprintf(buf + u, size - u, "%s|%s~%d", e == 1 || e == 3 ? "|+" : "",
                         op_names[g[e] < HWNAS__SN_OPS ? g[e] : 0], edge_from[e]);
        u += n > 0 ? (size_t)n : 0;
    }
    if (u < size)
        snprintf(buf + u, size - u, "|");
}
