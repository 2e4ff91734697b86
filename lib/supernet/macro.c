/*
 * The macro supernet (kind supernet:ofa): space:macro with weight sharing
 * in the manner of Once-for-All. Each block slot of a stage holds its
 * largest blocks: a plain convolution of kernel 5, an inverted residual of
 * expansion 6 and kernel 5 with squeeze-excitation, and in a stage's first
 * slot the projection a skip needs when the shape changes; all at the
 * stage's largest width. The full net sums them per slot (a valid net whose
 * nodes have the largest shapes; it is where the weights are stored).
 *
 * A path is built node for node as space:macro decodes the same genotype
 * (lib/space/macro.c: the same calls in the same order, so the same names
 * and hash; tests/supernet checks it against the space). Each of its nodes
 * with weights takes a slice of the full node of the same key: the first
 * output and input channels (width, expansion, the previous stage's width),
 * the centre of the kernel (3 of 5). An expansion-1 block has no expansion
 * convolution; its depthwise layer takes the first input channels of the
 * expanded one. Depth is the first `blocks` slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"
#include "supernet_internal.h"

const char *const hwnas__sn_acts[4] = {"relu", "relu6", "swish", "hard_swish"};

enum {
    OPT_IN_CHANNELS, OPT_IN_SIZE, OPT_CLASSES, OPT_STEM_CHANNELS, OPT_STEM_STRIDE,
    OPT_CHANNELS, OPT_STRIDES, OPT_WIDTHS, OPT_DIVISOR, OPT_MIN_BLOCKS, OPT_MAX_BLOCKS,
    OPT_HEAD_CHANNELS, OPT_SE_RATIO, OPT_ACT, OPT_SEED
};

/* space:macro's options with its defaults (less multipliers), and seed. */
static const hwnas__option_spec macro_options[] = {
    [OPT_IN_CHANNELS] = {"input_channels", HWNAS_OPTION_INT, "3", 1, HWNAS__SN_MAX_CHANNELS,
                         NULL, "channels of the input image"},
    [OPT_IN_SIZE] = {"input_size", HWNAS_OPTION_INT, "32", 1, 4096, NULL,
                     "height and width of the input image"},
    [OPT_CLASSES] = {"classes", HWNAS_OPTION_INT, "10", 1, 100000, NULL,
                     "outputs of the classifier"},
    [OPT_STEM_CHANNELS] = {"stem_channels", HWNAS_OPTION_INT, "32", 1, 4096, NULL,
                           "channels of the stem convolution"},
    [OPT_STEM_STRIDE] = {"stem_stride", HWNAS_OPTION_INT, "1", 1, 2, NULL,
                         "stride of the stem convolution"},
    [OPT_CHANNELS] = {"channels", HWNAS_OPTION_STRING, "16,24,40,80,96,192,320", 0, 0, NULL,
                      "base channels of each stage, comma-separated (as space:macro)"},
    [OPT_STRIDES] = {"strides", HWNAS_OPTION_STRING, "1,2,2,2,1,2,1", 0, 0, NULL,
                     "stride (1 or 2) of each stage's first block (as space:macro)"},
    [OPT_WIDTHS] = {"widths", HWNAS_OPTION_STRING, "0.5,0.75,1,1.25", 0, 0, NULL,
                    "width multipliers, ascending (as space:macro)"},
    [OPT_DIVISOR] = {"divisor", HWNAS_OPTION_INT, "8", 1, 256, NULL,
                     "stage channels are rounded to a multiple of this"},
    [OPT_MIN_BLOCKS] = {"min_blocks", HWNAS_OPTION_INT, "1", 1, 64, NULL,
                        "fewest blocks in a stage"},
    [OPT_MAX_BLOCKS] = {"max_blocks", HWNAS_OPTION_INT, "4", 1, 64, NULL,
                        "most blocks in a stage"},
    [OPT_HEAD_CHANNELS] = {"head_channels", HWNAS_OPTION_INT, "1280", 0, 65536, NULL,
                           "channels of the head's 1x1 convolution (0: none)"},
    [OPT_SE_RATIO] = {"se_ratio", HWNAS_OPTION_FLOAT, "0.25", 0.01, 1, NULL,
                      "squeeze-and-excitation width relative to the block's input channels"},
    [OPT_ACT] = {"act", HWNAS_OPTION_ENUM, "relu6", 0, 0, "relu|relu6|swish|hard_swish",
                 "activation of every block"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of the shared weights' initialisation"},
};

const hwnas__kind hwnas__supernet_macro_kind = {
    "supernet:ofa", macro_options, HWNAS_ARRAY_SIZE(macro_options), NULL,
};

/* space:macro's operations and per-stage genes. */
enum { OP_CONV3, OP_CONV5, OP_IR1_K3, OP_IR1_K5, OP_IR3_K3, OP_IR3_K5, OP_IR6_K3, OP_IR6_K5,
       OP_SKIP, N_OPS };
enum { SG_BLOCKS, SG_WIDTH, SG_MUL, SG_HEAD };

/* Roles of weighted nodes within a slot. */
enum { R_CONV, R_CONV_BN, R_PROJ, R_PROJ_BN, R_EXP, R_EXP_BN, R_DW, R_DW_BN, R_SE_R, R_SE_E,
       R_PRJ, R_PRJ_BN, R_FC };

static size_t stage_genes(const hwnas__sn_macro *c)
{
    return SG_HEAD + 2 * (size_t)c->max_blocks;
}

size_t hwnas__sn_macro_cards(const hwnas__sn_macro *c, uint32_t *card)
{
    size_t n = 0;
    for (size_t i = 0; i < c->stages.n_stages; i++) {
        card[n++] = (uint32_t)(c->max_blocks - c->min_blocks + 1);
        card[n++] = (uint32_t)c->stages.n_widths;
        card[n++] = 1; /* the multiplier: exact only */
        for (int64_t b = 0; b < c->max_blocks; b++) {
            card[n++] = N_OPS;
            card[n++] = 2;
        }
    }
    return n;
}

void hwnas__sn_macro_extreme(const hwnas__sn_macro *c, int largest, uint32_t *g)
{
    size_t n = 0;
    for (size_t i = 0; i < c->stages.n_stages; i++) {
        g[n++] = largest ? (uint32_t)(c->max_blocks - c->min_blocks) : 0;
        g[n++] = largest ? (uint32_t)c->stages.n_widths - 1 : 0;
        g[n++] = 0;
        for (int64_t b = 0; b < c->max_blocks; b++) {
            g[n++] = largest ? OP_IR6_K5 : OP_IR1_K3;
            g[n++] = largest ? 1 : 0;
        }
    }
}

/* ---- options ------------------------------------------------------------ */

int hwnas__sn_macro_config(hwnas__sn_macro *c, uint64_t *seed, hwnas_context *ctx,
                           const char *options)
{
    memset(c, 0, sizeof *c);
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &hwnas__supernet_macro_kind, options);
    if (rc != HWNAS_OK)
        return rc;
    c->in_channels = hwnas__options_int(o, OPT_IN_CHANNELS);
    c->in_size = hwnas__options_int(o, OPT_IN_SIZE);
    c->classes = hwnas__options_int(o, OPT_CLASSES);
    c->stem_channels = hwnas__options_int(o, OPT_STEM_CHANNELS);
    c->stem_stride = hwnas__options_int(o, OPT_STEM_STRIDE);
    c->divisor = hwnas__options_int(o, OPT_DIVISOR);
    c->min_blocks = hwnas__options_int(o, OPT_MIN_BLOCKS);
    c->max_blocks = hwnas__options_int(o, OPT_MAX_BLOCKS);
    c->head_channels = hwnas__options_int(o, OPT_HEAD_CHANNELS);
    c->se_ratio = hwnas__options_float(o, OPT_SE_RATIO);
    c->act = (int)hwnas__options_int(o, OPT_ACT);
    *seed = (uint64_t)hwnas__options_int(o, OPT_SEED);
    rc = hwnas__net_stages_parse(&c->stages, "supernet:ofa", hwnas__options_str(o, OPT_CHANNELS),
                                 hwnas__options_str(o, OPT_STRIDES),
                                 hwnas__options_str(o, OPT_WIDTHS));
    if (rc == HWNAS_OK && c->min_blocks > c->max_blocks)
        rc = hwnas__error(HWNAS_EINVAL, "supernet:ofa: min_blocks = %lld exceeds max_blocks = "
                          "%lld", (long long)c->min_blocks, (long long)c->max_blocks);
    hwnas_options_free(o);
    return rc;
}

/* Shortest text that reads back as the same double. */
static void put_number(char *buf, size_t size, size_t *used, double x)
{
    char t[32];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, x);
        if (strtod(t, NULL) == x)
            break;
    }
    if (*used < size)
        *used += (size_t)snprintf(buf + *used, size - *used, "%s", t);
}

void hwnas__sn_macro_text(char *buf, size_t size, const hwnas__sn_macro *c, uint64_t seed)
{
    size_t u = 0;
#define PUT(...)                                                                              \
    do {                                                                                      \
        if (u < size)                                                                         \
            u += (size_t)snprintf(buf + u, size - u, __VA_ARGS__);                            \
    } while (0)
    PUT("input_channels=%lld;input_size=%lld;classes=%lld;stem_channels=%lld;stem_stride=%lld;"
        "channels=", (long long)c->in_channels, (long long)c->in_size, (long long)c->classes,
        (long long)c->stem_channels, (long long)c->stem_stride);
    for (size_t i = 0; i < c->stages.n_stages; i++)
        PUT("%s%lld", i ? "," : "", (long long)c->stages.channels[i]);
    PUT(";strides=");
    for (size_t i = 0; i < c->stages.n_stages; i++)
        PUT("%s%lld", i ? "," : "", (long long)c->stages.strides[i]);
    PUT(";widths=");
    for (size_t i = 0; i < c->stages.n_widths; i++) {
        if (i)
            PUT(",");
        put_number(buf, size, &u, c->stages.widths[i]);
    }
    PUT(";divisor=%lld;min_blocks=%lld;max_blocks=%lld;head_channels=%lld;se_ratio=",
        (long long)c->divisor, (long long)c->min_blocks, (long long)c->max_blocks,
        (long long)c->head_channels);
    put_number(buf, size, &u, c->se_ratio);
    PUT(";act=%s;seed=%llu", hwnas__sn_acts[c->act], (unsigned long long)seed);
#undef PUT
    if (size)
        buf[u < size ? u : size - 1] = '\0';
}

/* ---- building ----------------------------------------------------------- */

typedef struct builder {
    hwnas_net *net;
    int rc;
    const hwnas__sn_macro *cfg;
    const char *act;
    hwnas__sn_key **keys; /* grown as nodes with weights are added */
    size_t *n_keys, *cap;
} builder;

static uint32_t key_of(size_t stage, size_t slot, uint32_t role)
{
    return (uint32_t)((stage * 64 + slot) * 16 + role);
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

/* space:macro's conv_bn_act: the conv's and bn's keys are base and base+1. */
static int64_t conv_bn_act(builder *b, int64_t x, int64_t c, int64_t k, int64_t s,
                           const char *act, uint32_t key)
{
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add_conv2d(&out, b->net, NULL, x, c, k, k, s, s, k / 2, k / 2, 1, 1,
                                     1, 0);
    record(b, out, key);
    out = op1(b, "bn", out, NULL);
    record(b, out, key + 1);
    return act ? op1(b, act, out, NULL) : out;
}

/* An inverted residual (the IR's mbconv block, expanded into its nodes),
 * its weighted nodes keyed by their roles. */
static int64_t mbconv(builder *b, int64_t x, int64_t c, int64_t t, int64_t k, int64_t s, int se,
                      size_t stage, size_t slot)
{
    if (b->rc != HWNAS_OK)
        return -1;
    size_t first = hwnas_net_node_count(b->net);
    char attrs[160];
    snprintf(attrs, sizeof attrs, "out=%lld,expand=%lld,k=%lld,s=%lld,act=%s,se=%.17g",
             (long long)c, (long long)t, (long long)k, (long long)s, b->act,
             se ? b->cfg->se_ratio : 0.0);
    int64_t out = op1(b, "mbconv", x, attrs);
    if (b->rc != HWNAS_OK)
        return -1;
    /* the nodes the block made, in the IR's order (lib/net/net_build.c) */
    uint32_t convs[4], bns[3];
    size_t nc = 0, nb = 0, ic = 0, ib = 0;
    if (t != 1)
        convs[nc++] = R_EXP, bns[nb++] = R_EXP_BN;
    if (se)
        convs[nc++] = R_SE_R, convs[nc++] = R_SE_E;
    convs[nc++] = R_PRJ;
    bns[nb++] = R_DW_BN, bns[nb++] = R_PRJ_BN;
    size_t last = hwnas_net_node_count(b->net);
    for (size_t i = first; i < last; i++) {
        int kind = hwnas_net_node_kind(b->net, i);
        if (kind == HWNAS_NET_CONV2D && ic < nc)
            record(b, (int64_t)i, key_of(stage, slot, convs[ic++]));
        else if (kind == HWNAS_NET_BATCHNORM && ib < nb)
            record(b, (int64_t)i, key_of(stage, slot, bns[ib++]));
        else if (kind == HWNAS_NET_DWCONV2D)
            record(b, (int64_t)i, key_of(stage, slot, R_DW));
    }
    /* the IR's block layout is what the roles assume */
    if (b->rc == HWNAS_OK && (ic != nc || ib != nb))
        b->rc = hwnas__error(HWNAS_EINTERNAL, "supernet:ofa: the mbconv block has not the "
                             "layout the supernet expects");
    return out;
}

/* space:macro's block(): op at width c, stride s, input width cin. */
static int64_t block(builder *b, int64_t x, uint32_t op, uint32_t se, int64_t c, int64_t s,
                     int64_t cin, size_t stage, size_t slot)
{
    static const int64_t expand[] = {0, 0, 1, 1, 3, 3, 6, 6};
    switch (op) {
    case OP_SKIP:
        return s == 1 && cin == c
                   ? x
                   : conv_bn_act(b, x, c, 1, s, NULL, key_of(stage, slot, R_PROJ));
    case OP_CONV3:
    case OP_CONV5:
        return conv_bn_act(b, x, c, op == OP_CONV3 ? 3 : 5, s, b->act,
                           key_of(stage, slot, R_CONV));
    default:
        return mbconv(b, x, c, expand[op], (op - OP_IR1_K3) % 2 ? 5 : 3, s, se != 0, stage,
                      slot);
    }
}

/* One slot of the full net: every largest block on x, summed. */
static int64_t slot_full(builder *b, int64_t x, int64_t c, int64_t s, size_t stage, size_t slot)
{
    int64_t t[3];
    t[0] = conv_bn_act(b, x, c, 5, s, b->act, key_of(stage, slot, R_CONV));
    t[1] = mbconv(b, x, c, 6, 5, s, 1, stage, slot);
    t[2] = slot == 0 ? conv_bn_act(b, x, c, 1, s, NULL, key_of(stage, slot, R_PROJ)) : x;
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add(&out, b->net, "add", NULL, t, 3, NULL);
    return out;
}

/* MobileNet's rounding, as space:macro's make_divisible. */
static int64_t make_divisible(double v, int64_t d)
{
    int64_t r = (int64_t)(v + (double)d / 2) / d * d;
    if (r < d)
        r = d;
    if ((double)r < 0.9 * v)
        r += d;
    return r;
}

static int64_t stage_width(const hwnas__sn_macro *cfg, size_t i, uint32_t w)
{
    return make_divisible((double)cfg->stages.channels[i] * cfg->stages.widths[w], cfg->divisor);
}

int hwnas__sn_macro_build(hwnas_net *net, const hwnas__sn_macro *cfg, const uint32_t *g,
                          hwnas__sn_key **keys, size_t *n_keys, size_t *cap)
{
    builder b = {net, HWNAS_OK, cfg, hwnas__sn_acts[cfg->act], keys, n_keys, cap};
    *n_keys = 0;
    int64_t x = -1;
    b.rc = hwnas_net_add_input(&x, net, "input", cfg->in_channels, cfg->in_size, cfg->in_size);
    int64_t cin = cfg->stem_channels;
    x = conv_bn_act(&b, x, cin, 3, cfg->stem_stride, b.act, key_of(0, 0, R_CONV));
    size_t sgn = stage_genes(cfg);
    for (size_t i = 0; i < cfg->stages.n_stages && b.rc == HWNAS_OK; i++) {
        if (g) {
            const uint32_t *sg = g + i * sgn;
            int64_t c = stage_width(cfg, i, sg[SG_WIDTH]);
            int64_t n = cfg->min_blocks + sg[SG_BLOCKS];
            for (int64_t k = 0; k < n; k++) {
                x = block(&b, x, sg[SG_HEAD + 2 * k], sg[SG_HEAD + 2 * k + 1], c,
                          k == 0 ? cfg->stages.strides[i] : 1, cin, i + 1, (size_t)k);
                cin = c;
            }
            continue;
        }
        /* the widest of every width (the rounding need not be monotone) */
        int64_t c = 0;
        for (uint32_t w = 0; w < cfg->stages.n_widths; w++) {
            int64_t cw = stage_width(cfg, i, w);
            c = cw > c ? cw : c;
        }
        for (int64_t k = 0; k < cfg->max_blocks; k++)
            x = slot_full(&b, x, c, k == 0 ? cfg->stages.strides[i] : 1, i + 1, (size_t)k);
    }
    size_t head = cfg->stages.n_stages + 1;
    if (cfg->head_channels > 0)
        x = conv_bn_act(&b, x, cfg->head_channels, 1, 1, b.act, key_of(head, 0, R_CONV));
    x = op1(&b, "gap", x, NULL);
    char attrs[32];
    snprintf(attrs, sizeof attrs, "out=%lld", (long long)cfg->classes);
    x = op1(&b, "linear", x, attrs);
    record(&b, x, key_of(head, 0, R_FC));
    return b.rc;
}
