/*
 * space:macro - a whole network as a chain of choices, in the style of
 * ProxylessNAS and MnasNet.
 *
 * Fixed stem (conv 3x3, BN, activation) and head (conv 1x1 to
 * head_channels, BN, activation, global average pooling, linear). In
 * between, the stages listed by the channels and strides options; per
 * stage a number of blocks, a width multiplier and a multiplier; per block
 * slot an operation and a squeeze-and-excitation flag. Block slots past
 * the stage's block count are inactive. The first block of a stage applies
 * its stride and width; a skip there becomes a projection (1x1 conv with
 * the stage's stride, then BN) whenever the shape changes, so stages of
 * skips still give valid networks. doc/spaces.md has the details.
 */
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"
#include "space_internal.h"

/* In lib/space/cgp.c. */



enum {
    OPT_IN_CHANNELS, OPT_IN_SIZE, OPT_CLASSES, OPT_STEM_CHANNELS, OPT_STEM_STRIDE,
    OPT_CHANNELS, OPT_STRIDES, OPT_WIDTHS, OPT_DIVISOR, OPT_MIN_BLOCKS, OPT_MAX_BLOCKS,
    OPT_HEAD_CHANNELS, OPT_SE_RATIO, OPT_ACT, OPT_MULTIPLIERS
};

#define MACRO_OPTION_ROWS                                                                     \
    [OPT_IN_CHANNELS] = {"input_channels", HWNAS_OPTION_INT, "3", 1, 4096, NULL,              \
                         "channels of the input image"},                                      \
    [OPT_IN_SIZE] = {"input_size", HWNAS_OPTION_INT, "32", 1, 4096, NULL,                     \
                     "height and width of the input image"},                                  \
    [OPT_CLASSES] = {"classes", HWNAS_OPTION_INT, "10", 1, 100000, NULL,                      \
                     "outputs of the classifier"},                                            \
    [OPT_STEM_CHANNELS] = {"stem_channels", HWNAS_OPTION_INT, "32", 1, 4096, NULL,            \
                           "channels of the stem convolution"},                               \
    [OPT_STEM_STRIDE] = {"stem_stride", HWNAS_OPTION_INT, "1", 1, 2, NULL,                    \
                         "stride of the stem convolution (ImageNet: 2)"},                     \
    [OPT_CHANNELS] = {"channels", HWNAS_OPTION_STRING, "16,24,40,80,96,192,320", 0, 0, NULL,  \
                      "base channels of each stage, comma-separated (one stage each)"},       \
    [OPT_STRIDES] = {"strides", HWNAS_OPTION_STRING, "1,2,2,2,1,2,1", 0, 0, NULL,             \
                     "stride (1 or 2) of each stage's first block, comma-separated"},         \
    [OPT_WIDTHS] = {"widths", HWNAS_OPTION_STRING, "0.5,0.75,1,1.25", 0, 0, NULL,             \
                    "width multipliers a stage's width gene chooses from, ascending"},        \
    [OPT_DIVISOR] = {"divisor", HWNAS_OPTION_INT, "8", 1, 256, NULL,                          \
                     "stage channels are rounded to a multiple of this"},                     \
    [OPT_MIN_BLOCKS] = {"min_blocks", HWNAS_OPTION_INT, "1", 1, 64, NULL,                     \
                        "fewest blocks in a stage"},                                          \
    [OPT_MAX_BLOCKS] = {"max_blocks", HWNAS_OPTION_INT, "4", 1, 64, NULL,                     \
                        "most blocks in a stage"},                                            \
    [OPT_HEAD_CHANNELS] = {"head_channels", HWNAS_OPTION_INT, "1280", 0, 65536, NULL,         \
                           "channels of the head's 1x1 convolution (0: none)"},               \
    [OPT_SE_RATIO] = {"se_ratio", HWNAS_OPTION_FLOAT, "0.25", 0.01, 1, NULL,                  \
                      "squeeze-and-excitation width relative to the block's input channels"}, \
    [OPT_ACT] = {"act", HWNAS_OPTION_ENUM, "relu6", 0, 0, "relu|relu6|swish|hard_swish",      \
                 "activation of every block"},                                                \
    [OPT_MULTIPLIERS] = {"multipliers", HWNAS_OPTION_STRING, "exact", 0, 0, NULL,             \
                         "multiplier names a stage's multiplier gene chooses from"},

static const hwnas__option_spec macro_options[] = {MACRO_OPTION_ROWS};

enum { OP_CONV3, OP_CONV5, OP_IR1_K3, OP_IR1_K5, OP_IR3_K3, OP_IR3_K5, OP_IR6_K3, OP_IR6_K5,
       OP_SKIP, N_OPS };

/* Per stage: blocks, width, mul, then op and se for each block slot. */
enum { SG_BLOCKS, SG_WIDTH, SG_MUL, SG_HEAD };

typedef struct macro_state {
    hwnas__net_stages stages;               /* channels, strides, widths */
    int64_t min_blocks, max_blocks;         /* 1 <= min <= max */
    size_t stage_genes;                     /* SG_HEAD + 2 * max_blocks */
    const char *act;                        /* name of an act op */
    double se_ratio;                        /* in (0, 1] */
    char **muls;                            /* n_muls names, owned */
    size_t n_muls;
} macro_state;

static void macro_fini(hwnas_space *s)
{
    macro_state *st = s->state;
    if (!st)
        return;
    hwnas__space_multipliers_free(s->ctx, st->muls, st->n_muls);
    hwnas__free(s->ctx, st);
    s->state = NULL;
}

static int macro_init(hwnas_space *s)
{
    const hwnas_options *o = s->options;
    macro_state *st = hwnas__calloc(s->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    s->state = st;
    int rc = hwnas__net_stages_parse(&st->stages, "space:macro",
                                     hwnas__options_str(o, OPT_CHANNELS),
                                     hwnas__options_str(o, OPT_STRIDES),
                                     hwnas__options_str(o, OPT_WIDTHS));
    st->min_blocks = hwnas__options_int(o, OPT_MIN_BLOCKS);
    st->max_blocks = hwnas__options_int(o, OPT_MAX_BLOCKS);
    static const char *const acts[] = {"relu", "relu6", "swish", "hard_swish"};
    st->act = acts[hwnas__options_int(o, OPT_ACT)];
    st->se_ratio = hwnas__options_float(o, OPT_SE_RATIO);
    if (rc == HWNAS_OK && st->min_blocks > st->max_blocks)
        rc = hwnas__error(HWNAS_EINVAL, "space:macro: min_blocks = %lld exceeds max_blocks = "
                          "%lld", (long long)st->min_blocks, (long long)st->max_blocks);
    if (rc == HWNAS_OK)
        rc = hwnas__space_multipliers(&st->muls, &st->n_muls, s->ctx, "space:macro",
                                      hwnas__options_str(o, OPT_MULTIPLIERS));
    st->stage_genes = SG_HEAD + 2 * (size_t)st->max_blocks;
    if (rc == HWNAS_OK)
        rc = hwnas__space_set_genes(s, st->stages.n_stages * st->stage_genes);
    for (size_t i = 0; rc == HWNAS_OK && i < st->stages.n_stages; i++) {
        size_t g = i * st->stage_genes;
        rc = hwnas__space_gene(s, g + SG_BLOCKS,
                               (uint32_t)(st->max_blocks - st->min_blocks + 1), 1,
                               "s%zu.blocks", i);
        if (rc == HWNAS_OK)
            rc = hwnas__space_gene(s, g + SG_WIDTH, (uint32_t)st->stages.n_widths, 1,
                                   "s%zu.width", i);
        if (rc == HWNAS_OK)
            rc = hwnas__space_gene(s, g + SG_MUL, (uint32_t)st->n_muls, 0, "s%zu.mul", i);
        for (int64_t b = 0; rc == HWNAS_OK && b < st->max_blocks; b++) {
            rc = hwnas__space_gene(s, g + SG_HEAD + 2 * (size_t)b, N_OPS, 0, "s%zu.b%lld.op", i,
                                   (long long)b);
            if (rc == HWNAS_OK)
                rc = hwnas__space_gene(s, g + SG_HEAD + 2 * (size_t)b + 1, 2, 0,
                                       "s%zu.b%lld.se", i, (long long)b);
        }
    }
    return rc;
}

/* ---- decoding ---------------------------------------------------------- */

static int64_t conv_bn_act(hwnas__builder *b, int64_t x, int64_t c, int64_t k, int64_t s,
                           const char *act)
{
    int64_t out = hwnas__build_conv(b, x, c, k, s, 0);
    out = hwnas__build_op(b, "bn", out, NULL);
    return act ? hwnas__build_op(b, act, out, NULL) : out;
}

/* MobileNet's rounding: the nearest multiple of d, at least d, and never
 * more than 10% below v. */
static int64_t make_divisible(double v, int64_t d)
{
    int64_t r = (int64_t)(v + (double)d / 2) / d * d;
    if (r < d)
        r = d;
    if ((double)r < 0.9 * v)
        r += d;
    return r;
}

static int64_t block(hwnas__builder *b, const macro_state *st, int64_t x, uint32_t op, uint32_t se,
                     int64_t c, int64_t s, int64_t cin)
{
    static const int64_t expand[] = {0, 0, 1, 1, 3, 3, 6, 6};
    switch (op) {
    case OP_SKIP:
        /* Identity where the shape is kept, else a projection. */
        return s == 1 && cin == c ? x : conv_bn_act(b, x, c, 1, s, NULL);
    case OP_CONV3:
    case OP_CONV5:
        return conv_bn_act(b, x, c, op == OP_CONV3 ? 3 : 5, s, st->act);
    default: {
        return hwnas__build_opf(b, "mbconv", x, "out=%lld,expand=%lld,k=%d,s=%lld,act=%s,se=%.17g",
                                (long long)c, (long long)expand[op],
                                (op - OP_IR1_K3) % 2 ? 5 : 3, (long long)s, st->act,
                                se ? st->se_ratio : 0.0);
    }
    }
}

static int macro_decode(const hwnas_space *s, const uint32_t *g, hwnas_net *net)
{
    const macro_state *st = s->state;
    const hwnas_options *o = s->options;
    hwnas__builder b;
    hwnas__build_init(&b, net, 0, st);
    int64_t size = hwnas__options_int(o, OPT_IN_SIZE);
    int64_t x = hwnas__build_input(&b, hwnas__options_int(o, OPT_IN_CHANNELS), size, size);
    int64_t cin = hwnas__options_int(o, OPT_STEM_CHANNELS);
    x = conv_bn_act(&b, x, cin, 3, hwnas__options_int(o, OPT_STEM_STRIDE), st->act);
    for (size_t i = 0; i < st->stages.n_stages && b.rc == HWNAS_OK; i++) {
        const uint32_t *sg = g + i * st->stage_genes;
        int64_t c = make_divisible((double)st->stages.channels[i] * st->stages.widths[sg[SG_WIDTH]],
                                   hwnas__options_int(o, OPT_DIVISOR));
        int64_t n = st->min_blocks + sg[SG_BLOCKS];
        size_t first = hwnas_net_node_count(net);
        for (int64_t k = 0; k < n; k++) {
            x = block(&b, st, x, sg[SG_HEAD + 2 * k], sg[SG_HEAD + 2 * k + 1], c,
                      k == 0 ? st->stages.strides[i] : 1, cin);
            cin = c;
        }
        hwnas__build_multiplier(&b, first, st->muls[sg[SG_MUL]]);
    }
    int64_t head = hwnas__options_int(o, OPT_HEAD_CHANNELS);
    if (head > 0)
        x = conv_bn_act(&b, x, head, 1, 1, st->act);
    x = hwnas__build_op(&b, "gap", x, NULL);
    hwnas__build_opf(&b, "linear", x, "out=%lld", (long long)hwnas__options_int(o, OPT_CLASSES));
    return hwnas__build_finish(&b, "space:macro");
}

static const hwnas__space_impl macro_impl = {
    .init = macro_init,
    .fini = macro_fini,
    .decode = macro_decode,
};

const hwnas__kind hwnas__space_macro_kind = {
    "space:macro", macro_options, HWNAS_ARRAY_SIZE(macro_options), &macro_impl,
};

/* The network half of space:macro+accelerator (composite.c): these options,
 * then the hardware's prefixed "hw.". */
static const hwnas__option_spec macro_accel_options[] = {
    MACRO_OPTION_ROWS /* ends with a comma */
    HWNAS__SPACE_ACCEL_OPTION_ROWS("hw."),
};

const hwnas__kind hwnas__space_macro_accel_kind = {
    "space:macro+accelerator", macro_accel_options, HWNAS_ARRAY_SIZE(macro_accel_options),
    &hwnas__space_composite_impl,
};
