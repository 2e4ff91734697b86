/*
 * space:cell - the NAS-Bench-201 cell space.
 *
 * A cell has 4 nodes; node j sums op(node i) over the edges i -> j, i < j.
 * The 6 genes are the edges in NAS-Bench-201's order (1<-0) (2<-0) (2<-1)
 * (3<-0) (3<-1) (3<-2), each one of 5 operations. The cell is stacked in
 * the benchmark's skeleton: stem conv 3x3 (C channels) + BN, three stages
 * of N cells with C, 2C, 4C channels, a residual reduction block between
 * stages, then BN, ReLU, global average pooling and a linear classifier.
 */
#include <stdlib.h>
#include <string.h>

#include "space_internal.h"

enum { OPT_CHANNELS, OPT_CELLS, OPT_CLASSES, OPT_IN_CHANNELS, OPT_IN_SIZE };

#define CELL_OPTION_ROWS                                                                      \
    [OPT_CHANNELS] = {"channels", HWNAS_OPTION_INT, "16", 1, 4096, NULL,                      \
                      "channels of the first stage (NAS-Bench-201: 16)"},                     \
    [OPT_CELLS] = {"cells", HWNAS_OPTION_INT, "5", 1, 64, NULL,                               \
                   "cells per stage (NAS-Bench-201: 5)"},                                     \
    [OPT_CLASSES] = {"classes", HWNAS_OPTION_INT, "10", 1, 100000, NULL,                      \
                     "outputs of the classifier"},                                            \
    [OPT_IN_CHANNELS] = {"input_channels", HWNAS_OPTION_INT, "3", 1, 4096, NULL,              \
                         "channels of the input image"},                                      \
    [OPT_IN_SIZE] = {"input_size", HWNAS_OPTION_INT, "32", 4, 4096, NULL,                     \
                     "height and width of the input image"},

static const hwnas__option_spec cell_options[] = {CELL_OPTION_ROWS};

const hwnas__kind hwnas__space_cell_kind = {
    "space:cell", cell_options, HWNAS_ARRAY_SIZE(cell_options), &hwnas__space_cell_impl,
};

/* The network half of space:cell+accelerator (composite.c): these options,
 * then the hardware's prefixed "hw.". */
static const hwnas__option_spec cell_accel_options[] = {
    CELL_OPTION_ROWS /* ends with a comma */
    HWNAS__SPACE_ACCEL_OPTION_ROWS("hw."),
};

const hwnas__kind hwnas__space_cell_accel_kind = {
    "space:cell+accelerator", cell_accel_options, HWNAS_ARRAY_SIZE(cell_accel_options),
    &hwnas__space_composite_impl,
};

enum { OP_NONE, OP_SKIP, OP_CONV1, OP_CONV3, OP_POOL, N_OPS };
static const char *const op_names[N_OPS] = {"none", "skip_connect", "nor_conv_1x1",
                                            "nor_conv_3x3", "avg_pool_3x3"};

/* Edge e joins node edge_from[e] to node edge_to[e]. */
static const int edge_to[6] = {1, 2, 2, 3, 3, 3};
static const int edge_from[6] = {0, 0, 1, 0, 1, 2};

static int cell_init(hwnas_space *s)
{
    int rc = hwnas__space_set_genes(s, 6);
    for (size_t e = 0; rc == HWNAS_OK && e < 6; e++)
        rc = hwnas__space_gene(s, e, N_OPS, 0, "edge_%d_%d", edge_to[e], edge_from[e]);
    return rc;
}

/* ---- the architecture string ----------------------------------------- */

static int cell_format(const hwnas_space *s, const uint32_t *g, hwnas__strbuf *sb)
{
    (void)s;
    for (int e = 0; e < 6; e++) {
        if (e == 1 || e == 3)
            hwnas__strbuf_puts(sb, "+");
        hwnas__strbuf_printf(sb, "|%s~%d", op_names[g[e]], edge_from[e]);
        if (e == 0 || e == 2 || e == 5)
            hwnas__strbuf_puts(sb, "|");
    }
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

static int expect(const char *text, const char **p, const char *what)
{
    size_t n = strlen(what);
    if (strncmp(*p, what, n) != 0)
        return hwnas__error(HWNAS_EFORMAT,
                            "cell \"%s\": expected '%s' at position %zu (an architecture like "
                            "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...~0|...~1|...~2|)",
                            text, what, (size_t)(*p - text) + 1);
    *p += n;
    return HWNAS_OK;
}

static int cell_parse(const hwnas_space *s, const char *text, uint32_t *g)
{
    (void)s;
    const char *p = text;
    for (int e = 0; e < 6; e++) {
        int rc = HWNAS_OK;
        if (e == 1 || e == 3)
            rc = expect(text, &p, "|+");
        if (rc == HWNAS_OK)
            rc = expect(text, &p, "|");
        if (rc != HWNAS_OK)
            return rc;
        int op = -1;
        for (int k = 0; k < N_OPS; k++) {
            size_t n = strlen(op_names[k]);
            if (strncmp(p, op_names[k], n) == 0 && p[n] == '~') {
                op = k;
                p += n;
                break;
            }
        }
        if (op < 0)
            return hwnas__error(HWNAS_EFORMAT,
                                "cell \"%s\": expected an operation (none, skip_connect, "
                                "nor_conv_1x1, nor_conv_3x3, avg_pool_3x3) at position %zu",
                                text, (size_t)(p - text) + 1);
        char from[4] = {'~', (char)('0' + edge_from[e]), 0, 0};
        rc = expect(text, &p, from);
        if (rc != HWNAS_OK)
            return rc;
        g[e] = (uint32_t)op;
    }
    int rc = expect(text, &p, "|");
    if (rc != HWNAS_OK)
        return rc;
    if (*p)
        return hwnas__error(HWNAS_EFORMAT, "cell \"%s\": unexpected text at position %zu", text,
                            (size_t)(p - text) + 1);
    return HWNAS_OK;
}

/* ---- isomorphism: NAS-Bench-201's unique string --------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The benchmark's isomorphism key (its to_unique_str with consider_zero):
 * node 0 is "0"; a term is "#" when its op is none or its source is
 * exactly "#", the source itself for skip_connect, "(source)@op"
 * otherwise; a node joins its sorted terms with '+'. Reproduced exactly,
 * quirks included (a node of several zero terms is "#+#", not "#"), so
 * that hashes group cells as the published tables do.
 */
int hwnas__cell_unique_string(const hwnas_context *ctx, const uint32_t *g, hwnas__strbuf *out)
{
    char *node[4] = {NULL, NULL, NULL, NULL};
    int rc = HWNAS_OK;
    node[0] = hwnas__strdup(ctx, "0");
    if (!node[0])
        return HWNAS_ENOMEM;
    for (int j = 1; j <= 3 && rc == HWNAS_OK; j++) {
        char *terms[3];
        int n = 0;
        hwnas__strbuf sb;
        hwnas__strbuf_init(&sb, ctx);
        for (int e = 0; e < 6 && rc == HWNAS_OK; e++) {
            if (edge_to[e] != j)
                continue;
            const char *src = node[edge_from[e]];
            hwnas__strbuf t;
            hwnas__strbuf_init(&t, ctx);
            if (g[e] == OP_NONE || strcmp(src, "#") == 0)
                hwnas__strbuf_puts(&t, "#");
            else if (g[e] == OP_SKIP)
                hwnas__strbuf_puts(&t, src);
            else
                hwnas__strbuf_printf(&t, "(%s)@%s", src, op_names[g[e]]);
            if (t.failed)
                rc = HWNAS_ENOMEM;
            terms[n++] = t.data;
        }
        if (rc == HWNAS_OK) {
            qsort(terms, (size_t)n, sizeof terms[0], cmp_str);
            for (int k = 0; k < n; k++) {
                if (k)
                    hwnas__strbuf_puts(&sb, "+");
                hwnas__strbuf_puts(&sb, terms[k]);
            }
            if (sb.failed)
                rc = HWNAS_ENOMEM;
        }
        for (int k = 0; k < n; k++)
            hwnas__free(ctx, terms[k]);
        node[j] = sb.data;
    }
    if (rc == HWNAS_OK)
        hwnas__strbuf_puts(out, node[3]);
    for (int j = 0; j < 4; j++)
        hwnas__free(ctx, node[j]);
    return rc == HWNAS_OK && out->failed ? HWNAS_ENOMEM : rc;
}

static int cell_hash(const hwnas_space *s, const uint32_t *g, uint64_t *out)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    int rc = hwnas__cell_unique_string(s->ctx, g, &sb);
    if (rc == HWNAS_OK)
        *out = hwnas__hash_bytes(sb.data, sb.len);
    hwnas__strbuf_release(&sb);
    return rc;
}

/* ---- decoding into the benchmark's network --------------------------- */

/* NAS-Bench-201's ReLUConvBN. */
static int64_t relu_conv_bn(hwnas__builder *b, int64_t input, int64_t c, int64_t k,
                            int64_t stride)
{
    int64_t x = hwnas__build_op(b, "relu", input, NULL);
    x = hwnas__build_conv(b, x, c, k, stride, 0);
    return hwnas__build_op(b, "bn", x, NULL);
}

static int64_t cell(hwnas__builder *b, const uint32_t *g, int64_t x, int64_t c)
{
    int64_t node[4] = {x, -1, -1, -1};
    int zero[4] = {0, 0, 0, 0};
    /* Nodes the output does not reach are left out, so that isomorphic
     * cells (one phenotype hash) decode to networks of equal cost. */
    int live[4] = {0, 0, 0, 1};
    for (int j = 2; j >= 0; j--)
        for (int e = 0; e < 6; e++)
            if (edge_from[e] == j && g[e] != OP_NONE && live[edge_to[e]])
                live[j] = 1;
    for (int j = 1; j <= 3; j++) {
        if (!live[j]) {
            zero[j] = 1;
            continue;
        }
        int64_t terms[3];
        size_t n = 0;
        for (int e = 0; e < 6; e++) {
            int i = edge_from[e];
            /* Zero inputs contribute nothing (the benchmark's Zero op). */
            if (edge_to[e] != j || g[e] == OP_NONE || zero[i])
                continue;
            switch (g[e]) {
            case OP_SKIP: terms[n++] = node[i]; break;
            case OP_CONV1: terms[n++] = relu_conv_bn(b, node[i], c, 1, 1); break;
            case OP_CONV3: terms[n++] = relu_conv_bn(b, node[i], c, 3, 1); break;
            default: terms[n++] = hwnas__build_op(b, "avgpool", node[i], "k=3,s=1,pad=1"); break;
            }
        }
        if (n == 0)
            zero[j] = 1;
        else
            node[j] = hwnas__build_add(b, terms, n);
    }
    /* A cell whose output node is disconnected outputs zeros, as in the
     * benchmark (where such cells reach chance accuracy). */
    return zero[3] ? hwnas__build_op(b, "zero", x, NULL) : node[3];
}

/* NAS-Bench-201's ResNetBasicblock with stride 2. */
static int64_t reduction(hwnas__builder *b, int64_t x, int64_t c)
{
    int64_t a = relu_conv_bn(b, x, c, 3, 2);
    a = relu_conv_bn(b, a, c, 3, 1);
    int64_t s = hwnas__build_op(b, "avgpool", x, "k=2,s=2");
    s = hwnas__build_conv(b, s, c, 1, 1, 0);
    int64_t t[2] = {a, s};
    return hwnas__build_add(b, t, 2);
}

static int cell_decode(const hwnas_space *s, const uint32_t *g, hwnas_net *net)
{
    const hwnas_options *o = s->options;
    int64_t c = hwnas__options_int(o, OPT_CHANNELS), n = hwnas__options_int(o, OPT_CELLS);
    int64_t size = hwnas__options_int(o, OPT_IN_SIZE);
    hwnas__builder b;
    hwnas__build_init(&b, net, 0, NULL);
    int64_t x = hwnas__build_input(&b, hwnas__options_int(o, OPT_IN_CHANNELS), size, size);
    x = hwnas__build_conv(&b, x, c, 3, 1, 0);
    x = hwnas__build_op(&b, "bn", x, NULL);
    for (int stage = 0; stage < 3; stage++) {
        if (stage > 0)
            x = reduction(&b, x, c << stage);
        for (int64_t k = 0; k < n; k++)
            x = cell(&b, g, x, c << stage);
    }
    x = hwnas__build_op(&b, "bn", x, NULL);
    x = hwnas__build_op(&b, "relu", x, NULL);
    x = hwnas__build_op(&b, "gap", x, NULL);
    hwnas__build_opf(&b, "linear", x, "out=%lld", (long long)hwnas__options_int(o, OPT_CLASSES));
    return hwnas__build_finish(&b, "space:cell");
}

/*
 * NAS-Bench-201's path encoding (White, Neiswanger and Savani, BANANAS):
 * the cell's input reaches its output along four paths (edges 3; 0,4;
 * 1,5; 0,2,5), each a sequence of 1 to 3 operations other than none; one
 * feature per possible sequence (4 + 16 + 64), 1 when some path has it.
 */
static int cell_encode(const hwnas_space *s, const uint32_t *g, double *out, size_t *n)
{
    (void)s;
    static const int paths[4][3] = {{3, -1, -1}, {0, 4, -1}, {1, 5, -1}, {0, 2, 5}};
    *n = 4 + 16 + 64;
    if (!out)
        return HWNAS_OK;
    for (size_t i = 0; i < *n; i++)
        out[i] = 0;
    for (int p = 0; p < 4; p++) {
        size_t index = 0, base = 0, width = 1;
        int len = 0, cut = 0;
        for (int k = 0; k < 3 && paths[p][k] >= 0; k++, len++) {
            uint32_t op = g[paths[p][k]];
            cut |= op == OP_NONE;
            index = index * 4 + (op == OP_NONE ? 0 : op - 1);
        }
        for (int l = 1; l < len; l++) {
            base += width * 4;
            width *= 4;
        }
        if (!cut)
            out[base + index] = 1;
    }
    return HWNAS_OK;
}

const hwnas__space_impl hwnas__space_cell_impl = {
    .encoding = "path",
    .default_encoding = 1,
    .encode = cell_encode,
    .init = cell_init,
    .decode = cell_decode,
    .hash = cell_hash,
    .format = cell_format,
    .parse = cell_parse,
};
