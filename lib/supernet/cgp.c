/*
 * The CGP supernet (kind supernet:cgp): space:cgp (lib/space/cgp.c, the
 * EvoApproxNAS function set on a rows x cols grid) with per-node choice
 * blocks. Every grid node holds the weights of every function it can take,
 * at the largest widths the space allows (cmax = max(128, the stem's or the
 * input's channels) channels in and out; 4 cmax inside an inverted
 * residual, whose expansion is at most 4):
 *
 *   sum          two 1x1 projections (one per operand, in net order)
 *   bn           a batch norm
 *   act          a PReLU (the other activations have no weights)
 *   dwconv       a 3x3 depthwise convolution with bias
 *   conv         a 3x3 convolution with bias and its PReLU
 *   basic        two 4x4 convolutions and the 1x1 projection, shared by
 *                the ResNet v1 and pre-activation variants; the batch
 *                norms of each variant are separate (they sit elsewhere)
 *   bottleneck   1x1, 5x5 and 1x1 convolutions at mid = cmax, their norms
 *   inverted     expansion 1x1 to 4 cmax, 5x5 depthwise, 1x1 projection
 *   dropout, maxpool: no weights
 *
 * and the fixed stem and head have theirs. A path (a genotype) is built
 * as space:cgp decodes it, call for call (same nodes, names and hash;
 * tests/supernet checks it against the space); each weighted node takes a
 * slice of the full node of its key (grid node, function, role): the
 * first output and input channels and the centre of the kernel, or its
 * top-left corner where the sizes differ by an odd number (2 of 3, 3 of
 * 4: an even kernel pads unevenly, there is no centre). A path's conv
 * without bias leaves the bias alone. So kernel sizes, channel counts,
 * expansion factors and bias genes share weights (as OFA's kernels and
 * widths do); inputs and strides have no weights of their own.
 *
 * The float supernet covers exact multipliers at 32 bits: every
 * multiplier gene has one value (a space:cgp with other multipliers, or
 * bits=8, decodes nets of another hash, which estimator:supernet refuses).
 * The choice vector is the space's genotype, inactive genes included (they
 * change nothing). Grids up to 256 nodes (the choice vector's bound).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"
#include "supernet_internal.h"

enum {
    OPT_ROWS, OPT_COLS, OPT_LEVELS_BACK, OPT_IN_CHANNELS, OPT_IN_SIZE, OPT_CLASSES,
    OPT_MIN_SIZE, OPT_STEM, OPT_SEED
};

/* space:cgp's options and defaults (less multipliers, bits and
 * mutate_active, which shape no float network), and seed. */
static const hwnas__option_spec cgp_options[] = {
    [OPT_ROWS] = {"rows", HWNAS_OPTION_INT, "2", 1, 64, NULL, "rows of the CGP grid"},
    [OPT_COLS] = {"cols", HWNAS_OPTION_INT, "10", 1, HWNAS__SN_CGP_MAX_NODES, NULL,
                  "columns of the CGP grid (rows*cols <= 256)"},
    [OPT_LEVELS_BACK] = {"levels_back", HWNAS_OPTION_INT, "5", 1, 4096, NULL,
                         "how many columns back a node may take its inputs from"},
    [OPT_IN_CHANNELS] = {"input_channels", HWNAS_OPTION_INT, "1", 1, HWNAS__SN_MAX_CHANNELS,
                         NULL, "channels of the input image"},
    [OPT_IN_SIZE] = {"input_size", HWNAS_OPTION_INT, "28", 1, 4096, NULL,
                     "height and width of the input image"},
    [OPT_CLASSES] = {"classes", HWNAS_OPTION_INT, "10", 1, 100000, NULL,
                     "outputs of the classifier"},
    [OPT_MIN_SIZE] = {"min_size", HWNAS_OPTION_INT, "1", 1, 4096, NULL,
                      "stride 2 is skipped where it would take the map below this size"},
    [OPT_STEM] = {"stem", HWNAS_OPTION_INT, "0", 0, 4096, NULL,
                  "channels of the fixed 3x3 conv-BN-ReLU stem (0: none)"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of the shared weights' initialisation"},
};

const hwnas__kind hwnas__supernet_cgp_kind = {
    "supernet:cgp", cgp_options, HWNAS_ARRAY_SIZE(cgp_options), NULL,
};

/* space:cgp's genes and functions (lib/space/cgp.c). */
enum { G_FN, G_IN0, G_IN1, G_KERNEL, G_CHANNELS, G_STRIDE, G_ACT, G_BIAS, G_PREACT,
       G_EXPAND, G_RATE, G_MUL, NG };
enum { F_SUM, F_BN, F_ACT, F_DWCONV, F_CONV, F_BASIC, F_BOTTLENECK, F_INVERTED, F_DROPOUT,
       F_MAXPOOL, N_FN };
static const uint32_t param_card[NG] = {
    [G_KERNEL] = 2, [G_CHANNELS] = 8, [G_STRIDE] = 2, [G_ACT] = 4, [G_BIAS] = 2,
    [G_PREACT] = 2, [G_EXPAND] = 7, [G_RATE] = 5, [G_MUL] = 1, /* exact only */
};
static const int64_t channel_values[8] = {32, 40, 48, 64, 80, 96, 112, 128};
static const int64_t kernel_conv[2] = {2, 3};
static const int64_t kernel_basic[2] = {3, 4};
static const int64_t kernel_block[2] = {3, 5};
static const char *const act_values[4] = {"relu", "elu", "leaky_relu", "prelu"};
#define ACT_PRELU 3

/* Roles of the weighted nodes of a function (and of the stem and head). */
enum { R_P0, R_P1, R_BN, R_PRELU, R_DW, R_CONV,
       R_C1, R_C2, R_C3, R_BN1, R_BN2, R_BN3, R_PROJ, R_PROJ_BN, R_PBN1, R_PBN2 };
/* inverted residual: expansion, depthwise, projection */
enum { R_EXP = R_C1, R_DWK = R_C2, R_PRJ = R_C3, R_EXP_BN = R_BN1, R_DW_BN = R_BN2,
       R_PRJ_BN = R_BN3 };

static uint32_t key_of(size_t node, uint32_t fn, uint32_t role)
{
    return (uint32_t)((node * 16 + fn) * 16 + role);
}

static int64_t in_range_levels(const hwnas__sn_cgp *c)
{
    return c->levels_back < c->cols ? c->levels_back : c->cols;
}

static size_t out_gene(const hwnas__sn_cgp *c) { return (size_t)(c->rows * c->cols) * NG; }

static int64_t source_of(const hwnas__sn_cgp *c, int64_t col, uint32_t v)
{
    int64_t lb = in_range_levels(c);
    if (col < lb)
        return (int64_t)v;
    return 1 + (col - lb) * c->rows + (int64_t)v;
}

static uint32_t input_card(const hwnas__sn_cgp *c, int64_t col)
{
    int64_t lb = in_range_levels(c);
    return (uint32_t)(col < lb ? 1 + c->rows * col : c->rows * lb);
}

size_t hwnas__sn_cgp_cards(const hwnas__sn_cgp *c, uint32_t *card)
{
    size_t n = 0, nodes = (size_t)(c->rows * c->cols);
    for (size_t k = 0; k < nodes; k++)
        for (int g = 0; g < NG; g++)
            card[n++] = g == G_FN                  ? N_FN
                        : g == G_IN0 || g == G_IN1 ? input_card(c, (int64_t)k / c->rows)
                                                   : param_card[g];
    card[n++] = (uint32_t)nodes; /* output */
    card[n++] = 1;               /* head.mul: exact */
    return n;
}

int64_t hwnas__sn_cgp_cmax(const hwnas__sn_cgp *c)
{
    int64_t x = c->stem > 0 ? c->stem : c->in_channels;
    return x > 128 ? x : 128;
}

/* ---- options ------------------------------------------------------------ */

int hwnas__sn_cgp_config(hwnas__sn_cgp *c, uint64_t *seed, hwnas_context *ctx,
                         const char *options)
{
    memset(c, 0, sizeof *c);
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &hwnas__supernet_cgp_kind, options);
    if (rc != HWNAS_OK)
        return rc;
    c->rows = hwnas__options_int(o, OPT_ROWS);
    c->cols = hwnas__options_int(o, OPT_COLS);
    c->levels_back = hwnas__options_int(o, OPT_LEVELS_BACK);
    c->in_channels = hwnas__options_int(o, OPT_IN_CHANNELS);
    c->in_size = hwnas__options_int(o, OPT_IN_SIZE);
    c->classes = hwnas__options_int(o, OPT_CLASSES);
    c->min_size = hwnas__options_int(o, OPT_MIN_SIZE);
    c->stem = hwnas__options_int(o, OPT_STEM);
    *seed = (uint64_t)hwnas__options_int(o, OPT_SEED);
    hwnas_options_free(o);
    if (c->rows * c->cols > HWNAS__SN_CGP_MAX_NODES)
        return hwnas__error(HWNAS_EINVAL, "supernet:cgp: rows*cols = %lld exceeds %d",
                            (long long)(c->rows * c->cols), HWNAS__SN_CGP_MAX_NODES);
    if (c->min_size > c->in_size)
        return hwnas__error(HWNAS_EINVAL, "supernet:cgp: min_size = %lld exceeds input_size = "
                            "%lld", (long long)c->min_size, (long long)c->in_size);
    return HWNAS_OK;
}

void hwnas__sn_cgp_text(char *buf, size_t size, const hwnas__sn_cgp *c, uint64_t seed)
{
    snprintf(buf, size,
             "rows=%lld;cols=%lld;levels_back=%lld;input_channels=%lld;input_size=%lld;"
             "classes=%lld;min_size=%lld;stem=%lld;seed=%llu",
             (long long)c->rows, (long long)c->cols, (long long)c->levels_back,
             (long long)c->in_channels, (long long)c->in_size, (long long)c->classes,
             (long long)c->min_size, (long long)c->stem, (unsigned long long)seed);
}

/* ---- building ----------------------------------------------------------- */

typedef struct builder {
    hwnas_net *net;
    int rc;
    const hwnas__sn_cgp *cfg;
    hwnas__sn_key **keys;
    size_t *n_keys, *cap;
} builder;

static void record(builder *b, int64_t node, uint32_t key)
{
    if (b->rc == HWNAS_OK)
        b->rc = hwnas__sn_key_push(b->net->ctx, b->keys, b->n_keys, b->cap, key, node);
}

/* The space's builder calls (lib/space/builder.c), with a key for the
 * nodes that hold weights. */
static int64_t op(builder *b, const char *name, int64_t x, const char *attrs)
{
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add(&out, b->net, name, NULL, &x, 1, attrs);
    return out;
}

static int64_t bn(builder *b, int64_t x, uint32_t key)
{
    int64_t out = op(b, "bn", x, NULL);
    record(b, out, key);
    return out;
}

static int64_t conv(builder *b, int64_t x, int64_t c, int64_t k, int64_t s, int64_t bias,
                    uint32_t key)
{
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add_conv2d(&out, b->net, NULL, x, c, k, k, s, s, k / 2, k / 2, 1, 1,
                                     1, bias);
    record(b, out, key);
    return out;
}

static int64_t dwconv(builder *b, int64_t x, int64_t k, int64_t s, int64_t bias, uint32_t key)
{
    char attrs[96];
    snprintf(attrs, sizeof attrs, "k=%lld,s=%lld,pad=%lld,bias=%lld", (long long)k,
             (long long)s, (long long)(k / 2), (long long)bias);
    int64_t out = op(b, "dwconv", x, attrs);
    record(b, out, key);
    return out;
}

/* An activation; a PReLU holds weights (key). */
static int64_t act(builder *b, int64_t x, uint32_t a, uint32_t key)
{
    int64_t out = op(b, act_values[a], x, NULL);
    if (a == ACT_PRELU)
        record(b, out, key);
    return out;
}

static int64_t add2(builder *b, int64_t x, int64_t y)
{
    int64_t out = -1, t[2] = {x, y};
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add(&out, b->net, "add", NULL, t, 2, NULL);
    return out;
}

static void shape(const builder *b, int64_t x, int64_t *c, int64_t *h)
{
    int64_t d[4] = {0, 0, 0, 0};
    if (b->rc == HWNAS_OK)
        hwnas_net_node_shape(b->net, (size_t)x, d);
    *c = d[1];
    *h = d[2];
}

static int64_t stride_for(const builder *b, int64_t x, uint32_t gene)
{
    int64_t c, h;
    shape(b, x, &c, &h);
    return gene == 1 && h >= 2 * b->cfg->min_size ? 2 : 1;
}

/* space:cgp's resize: the projection's conv and bn keys given. */
static int64_t resize(builder *b, int64_t x, int64_t c, int64_t h, int with_bn, uint32_t kconv,
                      uint32_t kbn)
{
    int64_t xc, xh;
    shape(b, x, &xc, &xh);
    if (b->rc != HWNAS_OK)
        return -1;
    if (xh > h) {
        int64_t s = xh / h, k = xh - (h - 1) * s;
        char attrs[64];
        snprintf(attrs, sizeof attrs, "k=%lld,s=%lld", (long long)k, (long long)s);
        x = op(b, "avgpool", x, attrs);
    }
    if (xc != c) {
        x = conv(b, x, c, 1, 1, 0, kconv);
        if (with_bn)
            x = bn(b, x, kbn);
    }
    return x;
}

/* space:cgp's merge; the roles of x's and y's projections. */
static int64_t merge(builder *b, int64_t x, int64_t y, int64_t c, int with_bn, uint32_t kx,
                     uint32_t kxbn, uint32_t ky, uint32_t kybn)
{
    int64_t xc, xh, yc, yh;
    shape(b, x, &xc, &xh);
    shape(b, y, &yc, &yh);
    int64_t h = xh < yh ? xh : yh;
    x = resize(b, x, c, h, with_bn, kx, kxbn);
    y = resize(b, y, c, h, with_bn, ky, kybn);
    return add2(b, x, y);
}

static int64_t fn_basic(builder *b, const uint32_t *ng, int64_t x, size_t node)
{
#define K(r) key_of(node, F_BASIC, (r))
    int64_t k = kernel_basic[ng[G_KERNEL]], c = channel_values[ng[G_CHANNELS]];
    int64_t s = stride_for(b, x, ng[G_STRIDE]), y = x;
    if (ng[G_PREACT]) {
        y = bn(b, y, K(R_PBN1));
        y = op(b, "relu", y, NULL);
        y = conv(b, y, c, k, s, 0, K(R_C1));
        y = bn(b, y, K(R_PBN2));
        y = op(b, "relu", y, NULL);
        y = conv(b, y, c, k, 1, 0, K(R_C2));
        /* y has c channels: only x is ever projected */
        return merge(b, x, y, c, 0, K(R_PROJ), 0, K(R_PROJ), 0);
    }
    y = conv(b, y, c, k, s, 0, K(R_C1));
    y = bn(b, y, K(R_BN1));
    y = op(b, "relu", y, NULL);
    y = conv(b, y, c, k, 1, 0, K(R_C2));
    y = bn(b, y, K(R_BN2));
    return op(b, "relu", merge(b, x, y, c, 1, K(R_PROJ), K(R_PROJ_BN), K(R_PROJ), K(R_PROJ_BN)),
              NULL);
#undef K
}

static int64_t fn_bottleneck(builder *b, const uint32_t *ng, int64_t x, size_t node)
{
#define K(r) key_of(node, F_BOTTLENECK, (r))
    int64_t c, h;
    shape(b, x, &c, &h);
    int64_t k = kernel_block[ng[G_KERNEL]], s = stride_for(b, x, ng[G_STRIDE]);
    int64_t num = 2 + ng[G_EXPAND], mid = (2 * c + num / 2) / num;
    mid = mid < 1 ? 1 : mid;
    int64_t y = conv(b, x, mid, 1, 1, 0, K(R_C1));
    y = bn(b, y, K(R_BN1));
    y = op(b, "relu", y, NULL);
    y = conv(b, y, mid, k, s, 0, K(R_C2));
    y = bn(b, y, K(R_BN2));
    y = op(b, "relu", y, NULL);
    y = conv(b, y, c, 1, 1, 0, K(R_C3));
    y = bn(b, y, K(R_BN3));
    /* x and y have c channels: the merge only pools */
    return op(b, "relu", merge(b, x, y, c, 1, K(R_PROJ), K(R_PROJ_BN), K(R_PROJ), K(R_PROJ_BN)),
              NULL);
#undef K
}

static int64_t fn_inverted(builder *b, const uint32_t *ng, int64_t x, size_t node)
{
#define K(r) key_of(node, F_INVERTED, (r))
    int64_t c, h;
    shape(b, x, &c, &h);
    int64_t k = kernel_block[ng[G_KERNEL]], s = stride_for(b, x, ng[G_STRIDE]);
    int64_t y = x;
    if (ng[G_EXPAND] > 0) {
        y = conv(b, y, (c * (2 + ng[G_EXPAND]) + 1) / 2, 1, 1, 0, K(R_EXP));
        y = bn(b, y, K(R_EXP_BN));
        y = op(b, "relu6", y, NULL);
    }
    y = dwconv(b, y, k, s, 0, K(R_DWK));
    y = bn(b, y, K(R_DW_BN));
    y = op(b, "relu6", y, NULL);
    y = conv(b, y, c, 1, 1, 0, K(R_PRJ));
    y = bn(b, y, K(R_PRJ_BN));
    return s == 1 ? add2(b, y, x) : y;
#undef K
}

static int64_t path_node(builder *b, const uint32_t *ng, int64_t x0, int64_t x1, size_t node)
{
    switch (ng[G_FN]) {
    case F_SUM: {
        int64_t c0, h0, c1, h1;
        shape(b, x0, &c0, &h0);
        shape(b, x1, &c1, &h1);
        int64_t c = c0 > c1 ? c0 : c1;
        uint32_t p0 = key_of(node, F_SUM, R_P0), p1 = key_of(node, F_SUM, R_P1);
        return x0 <= x1 ? merge(b, x0, x1, c, 0, p0, 0, p1, 0)
                        : merge(b, x1, x0, c, 0, p0, 0, p1, 0);
    }
    case F_BN:
        return bn(b, x0, key_of(node, F_BN, R_BN));
    case F_ACT:
        return act(b, x0, ng[G_ACT], key_of(node, F_ACT, R_PRELU));
    case F_DWCONV: {
        int64_t s = stride_for(b, x0, ng[G_STRIDE]);
        int64_t y = dwconv(b, x0, kernel_conv[ng[G_KERNEL]], s, ng[G_BIAS],
                           key_of(node, F_DWCONV, R_DW));
        return op(b, act_values[ng[G_ACT] & 1], y, NULL);
    }
    case F_CONV: {
        int64_t s = stride_for(b, x0, ng[G_STRIDE]);
        int64_t y = conv(b, x0, channel_values[ng[G_CHANNELS]], kernel_conv[ng[G_KERNEL]], s,
                         ng[G_BIAS], key_of(node, F_CONV, R_CONV));
        return act(b, y, ng[G_ACT], key_of(node, F_CONV, R_PRELU));
    }
    case F_BASIC:
        return fn_basic(b, ng, x0, node);
    case F_BOTTLENECK:
        return fn_bottleneck(b, ng, x0, node);
    case F_INVERTED:
        return fn_inverted(b, ng, x0, node);
    case F_DROPOUT: {
        char attrs[16];
        snprintf(attrs, sizeof attrs, "p=0.%u", (unsigned)ng[G_RATE] + 1);
        return op(b, "dropout", x0, attrs);
    }
    default:
        return stride_for(b, x0, 1) == 2 ? op(b, "maxpool", x0, "k=2,s=2") : x0;
    }
}

/* Node k's choice block in the full net: every function's largest weights
 * on x (cmax channels). Nothing consumes them: the full net is storage. */
static void full_node(builder *b, int64_t x, size_t k, int64_t cm)
{
#define K(f, r) key_of(k, (f), (r))
    conv(b, x, cm, 1, 1, 0, K(F_SUM, R_P0));
    conv(b, x, cm, 1, 1, 0, K(F_SUM, R_P1));
    bn(b, x, K(F_BN, R_BN));
    act(b, x, ACT_PRELU, K(F_ACT, R_PRELU));
    dwconv(b, x, 3, 1, 1, K(F_DWCONV, R_DW));
    act(b, conv(b, x, cm, 3, 1, 1, K(F_CONV, R_CONV)), ACT_PRELU, K(F_CONV, R_PRELU));
    /* basic: convolutions shared by both variants, each variant's norms */
    int64_t y = conv(b, x, cm, 4, 1, 0, K(F_BASIC, R_C1));
    y = bn(b, y, K(F_BASIC, R_BN1));
    y = conv(b, y, cm, 4, 1, 0, K(F_BASIC, R_C2));
    bn(b, y, K(F_BASIC, R_BN2));
    bn(b, y, K(F_BASIC, R_PBN2));
    bn(b, x, K(F_BASIC, R_PBN1));
    bn(b, conv(b, x, cm, 1, 1, 0, K(F_BASIC, R_PROJ)), K(F_BASIC, R_PROJ_BN));
    y = bn(b, conv(b, x, cm, 1, 1, 0, K(F_BOTTLENECK, R_C1)), K(F_BOTTLENECK, R_BN1));
    y = bn(b, conv(b, y, cm, 5, 1, 0, K(F_BOTTLENECK, R_C2)), K(F_BOTTLENECK, R_BN2));
    bn(b, conv(b, y, cm, 1, 1, 0, K(F_BOTTLENECK, R_C3)), K(F_BOTTLENECK, R_BN3));
    y = bn(b, conv(b, x, 4 * cm, 1, 1, 0, K(F_INVERTED, R_EXP)), K(F_INVERTED, R_EXP_BN));
    y = bn(b, dwconv(b, y, 5, 1, 0, K(F_INVERTED, R_DWK)), K(F_INVERTED, R_DW_BN));
    bn(b, conv(b, y, cm, 1, 1, 0, K(F_INVERTED, R_PRJ)), K(F_INVERTED, R_PRJ_BN));
#undef K
}

int hwnas__sn_cgp_build(hwnas_net *net, const hwnas__sn_cgp *cfg, const uint32_t *g,
                        hwnas__sn_key **keys, size_t *n_keys, size_t *cap)
{
    builder b = {net, HWNAS_OK, cfg, keys, n_keys, cap};
    *n_keys = 0;
    size_t nodes = (size_t)(cfg->rows * cfg->cols), stem = nodes, head = nodes + 1;
    int64_t cm = hwnas__sn_cgp_cmax(cfg), x = -1;
    if (!g) {
        /* storage: every block on one cmax-channel source, stem and head too */
        b.rc = hwnas_net_add_input(&x, net, "input", cm, 8, 8);
        if (cfg->stem > 0)
            bn(&b, conv(&b, x, cfg->stem, 3, 1, 0, key_of(stem, 0, R_CONV)),
               key_of(stem, 0, R_BN));
        for (size_t k = 0; k < nodes && b.rc == HWNAS_OK; k++)
            full_node(&b, x, k, cm);
        char attrs[32];
        snprintf(attrs, sizeof attrs, "out=%lld", (long long)cfg->classes);
        x = op(&b, "linear", op(&b, "gap", x, NULL), attrs);
        record(&b, x, key_of(head, 0, R_CONV));
        return b.rc;
    }
    /* a path: space:cgp's decoding (cgp_decode), call for call */
    uint8_t active[HWNAS__SN_CGP_MAX_NODES];
    int64_t where[HWNAS__SN_CGP_MAX_NODES + 1];
    memset(active, 0, nodes);
    active[g[out_gene(cfg)]] = 1;
    for (int64_t k = (int64_t)nodes - 1; k >= 0; k--) {
        if (!active[k])
            continue;
        const uint32_t *ng = g + k * NG;
        for (int j = 0; j < (ng[G_FN] == F_SUM ? 2 : 1); j++) {
            int64_t src = source_of(cfg, k / cfg->rows, ng[G_IN0 + j]);
            if (src > 0)
                active[src - 1] = 1;
        }
    }
    b.rc = hwnas_net_add_input(&x, net, "input", cfg->in_channels, cfg->in_size, cfg->in_size);
    where[0] = x;
    if (cfg->stem > 0) {
        int64_t y = conv(&b, where[0], cfg->stem, 3, 1, 0, key_of(stem, 0, R_CONV));
        y = bn(&b, y, key_of(stem, 0, R_BN));
        where[0] = op(&b, "relu", y, NULL);
    }
    for (size_t k = 0; k < nodes && b.rc == HWNAS_OK; k++) {
        if (!active[k])
            continue;
        const uint32_t *ng = g + k * NG;
        int64_t col = (int64_t)k / cfg->rows;
        int64_t x0 = where[source_of(cfg, col, ng[G_IN0])];
        int64_t x1 = where[source_of(cfg, col, ng[G_IN1])];
        where[1 + k] = path_node(&b, ng, x0, x1, k);
    }
    x = op(&b, "gap", where[1 + g[out_gene(cfg)]], NULL);
    char attrs[32];
    snprintf(attrs, sizeof attrs, "out=%lld", (long long)cfg->classes);
    x = op(&b, "linear", x, attrs);
    record(&b, x, key_of(head, 0, R_CONV));
    return b.rc;
}
