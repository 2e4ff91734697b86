/*
 * space:cgp - Cartesian genetic programming over CNN building blocks, in
 * the manner of EvoApproxNAS (Pinos, Mrazek, Sekanina 2021/2022).
 *
 * A grid of rows x cols nodes. Every node has the same 12 genes: its
 * function, two inputs and ten parameters (a function uses the ones it
 * needs). Input genes of column c address the network input and the nodes
 * of the levels_back columns before c (Miller's rule: the input is
 * reachable only while c < levels_back). An output gene picks any node,
 * whose result feeds the fixed head: global average pooling and a linear
 * layer to `classes`; an optional fixed stem (conv-BN-ReLU) sits between
 * the input and the grid. Only the nodes reachable from the output (the
 * active nodes) are decoded, in grid order, so genotypes that differ in
 * inactive genes decode to the same net and share a phenotype hash.
 *
 * Shapes never fail: convolutions pad floor(k/2) on every side (odd
 * kernels keep the size, even ones add one row and column at stride 1); a
 * stride-2 node whose input is smaller than 2*min_size runs at stride 1;
 * summations and residual shortcuts meet at the smaller spatial size of
 * their operands (average pooling with a window that maps H onto h
 * exactly) and at a common channel count (1x1 projection convolution).
 * doc/spaces.md has the full rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "space_internal.h"

enum {
    OPT_ROWS, OPT_COLS, OPT_LEVELS_BACK, OPT_IN_CHANNELS, OPT_IN_SIZE, OPT_CLASSES,
    OPT_MULTIPLIERS, OPT_MIN_SIZE, OPT_MUTATE_ACTIVE, OPT_BITS, OPT_STEM
};

#define CGP_OPTION_ROWS                                                                       \
    [OPT_ROWS] = {"rows", HWNAS_OPTION_INT, "2", 1, 64, NULL, "rows of the CGP grid"},        \
    [OPT_COLS] = {"cols", HWNAS_OPTION_INT, "10", 1, 4096, NULL,                              \
                  "columns of the CGP grid (rows*cols <= 4096)"},                             \
    [OPT_LEVELS_BACK] = {"levels_back", HWNAS_OPTION_INT, "5", 1, 4096, NULL,                 \
                         "how many columns back a node may take its inputs from"},            \
    [OPT_IN_CHANNELS] = {"input_channels", HWNAS_OPTION_INT, "1", 1, 4096, NULL,              \
                         "channels of the input image (Fashion-MNIST: 1)"},                   \
    [OPT_IN_SIZE] = {"input_size", HWNAS_OPTION_INT, "28", 1, 4096, NULL,                     \
                     "height and width of the input image (Fashion-MNIST: 28)"},              \
    [OPT_CLASSES] = {"classes", HWNAS_OPTION_INT, "10", 1, 100000, NULL,                      \
                     "outputs of the classifier"},                                            \
    [OPT_MULTIPLIERS] = {"multipliers", HWNAS_OPTION_STRING, "exact", 0, 0, NULL,             \
                         "multiplier names a multiplier gene chooses from, comma-separated"}, \
    [OPT_MIN_SIZE] = {"min_size", HWNAS_OPTION_INT, "1", 1, 4096, NULL,                       \
                      "stride 2 is skipped where it would take the map below this size"},     \
    [OPT_MUTATE_ACTIVE] = {"mutate_active", HWNAS_OPTION_BOOL, "true", 0, 0, NULL,            \
                           "mutation repeats until a gene that shapes the network changes"},  \
    [OPT_BITS] = {"bits", HWNAS_OPTION_ENUM, "32", 0, 0, "32|8",                              \
                  "operand width of every multiplying node (8: int8, as approximate "         \
                  "multipliers compute)"},                                                    \
    [OPT_STEM] = {"stem", HWNAS_OPTION_INT, "0", 0, 4096, NULL,                               \
                  "channels of a fixed 3x3 conv-BN-ReLU stem between the input and the grid " \
                  "(0: none)"},

static const hwnas__option_spec cgp_options[] = {CGP_OPTION_ROWS};

/* ---- genes ------------------------------------------------------------ */

enum { G_FN, G_IN0, G_IN1, G_KERNEL, G_CHANNELS, G_STRIDE, G_ACT, G_BIAS, G_PREACT,
       G_EXPAND, G_RATE, G_MUL, NG };

static const char *const gene_suffix[NG] = {"fn", "in0", "in1", "kernel", "channels",
                                            "stride", "act", "bias", "preact", "expand",
                                            "rate", "mul"};

enum { F_SUM, F_BN, F_ACT, F_DWCONV, F_CONV, F_BASIC, F_BOTTLENECK, F_INVERTED, F_DROPOUT,
       F_MAXPOOL, N_FN };

#define U(g) (1u << (g))
/* The parameter genes each function reads. */
static const uint32_t fn_uses[N_FN] = {
    [F_SUM] = U(G_MUL),
    [F_BN] = 0,
    [F_ACT] = U(G_ACT),
    [F_DWCONV] = U(G_KERNEL) | U(G_STRIDE) | U(G_ACT) | U(G_BIAS) | U(G_MUL),
    [F_CONV] = U(G_KERNEL) | U(G_CHANNELS) | U(G_STRIDE) | U(G_ACT) | U(G_BIAS) | U(G_MUL),
    [F_BASIC] = U(G_KERNEL) | U(G_CHANNELS) | U(G_STRIDE) | U(G_PREACT) | U(G_MUL),
    [F_BOTTLENECK] = U(G_KERNEL) | U(G_EXPAND) | U(G_STRIDE) | U(G_MUL),
    [F_INVERTED] = U(G_KERNEL) | U(G_EXPAND) | U(G_STRIDE) | U(G_MUL),
    [F_DROPOUT] = U(G_RATE),
    [F_MAXPOOL] = 0,
};

static const uint32_t param_card[NG] = {
    [G_KERNEL] = 2, [G_CHANNELS] = 8, [G_STRIDE] = 2, [G_ACT] = 4, [G_BIAS] = 2,
    [G_PREACT] = 2, [G_EXPAND] = 7, [G_RATE] = 5,
};

static const int64_t channel_values[8] = {32, 40, 48, 64, 80, 96, 112, 128};
static const int64_t kernel_conv[2] = {2, 3};  /* conv2d, depthwise_conv2d */
static const int64_t kernel_basic[2] = {3, 4}; /* basic_residual */
static const int64_t kernel_block[2] = {3, 5}; /* bottleneck, inverted */
static const char *const act_values[4] = {"relu", "elu", "leaky_relu", "prelu"};

typedef struct cgp_state {
    int64_t rows, cols, levels_back; /* levels_back <= cols */
    int64_t n_nodes;                 /* rows * cols, <= CGP_MAX_NODES */
    int64_t in_channels, in_size, classes, min_size, stem;
    int mutate_active;
    char **muls;                     /* n_muls multiplier names, owned */
    size_t n_muls;                   /* >= 1 */
} cgp_state;

#define CGP_MAX_NODES 4096

static size_t out_gene(const cgp_state *st) { return (size_t)st->n_nodes * NG; }

/* Global source index of input gene value v of a node in column col:
 * 0 is the network input, 1 + k is node k. */
static int64_t source_of(const cgp_state *st, int64_t col, uint32_t v)
{
    if (col < st->levels_back)
        return (int64_t)v;
    return 1 + (col - st->levels_back) * st->rows + (int64_t)v;
}

static uint32_t input_card(const cgp_state *st, int64_t col)
{
    if (col < st->levels_back)
        return (uint32_t)(1 + st->rows * col);
    return (uint32_t)(st->rows * st->levels_back);
}

/* ---- the multiplier list (shared with space:macro) --------------------- */

void hwnas__space_multipliers_free(hwnas_context *ctx, char **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        hwnas__free(ctx, list[i]);
    hwnas__free(ctx, list);
}

/* Does the net IR take name as a multiplier? (It checks the spelling.) */
static int check_multiplier(hwnas_context *ctx, const char *kind, const char *name)
{
    hwnas_net *net;
    int64_t x;
    int rc = hwnas_net_new(&net, ctx);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas_net_add_input(&x, net, NULL, 1, 1, 1);
    if (rc == HWNAS_OK)
        rc = hwnas_net_add_conv2d(&x, net, NULL, x, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0);
    if (rc == HWNAS_OK)
        rc = hwnas_net_set_multiplier(net, (size_t)x, name, 0);
    hwnas_net_free(net);
    if (rc == HWNAS_EINVAL) {
        /* hwnas__error formats before it replaces the last message */
        return hwnas__error(HWNAS_EINVAL, "%s: option multipliers: '%s' is not a multiplier "
                            "name: %s", kind, name, hwnas_error_last());
    }
    return rc;
}

/*
 * Split "exact,drum:k=4,bam:h=2,v=6" into names. Names are separated by
 * commas; a piece with '=' but no ':' continues the previous name, so
 * family specs with several parameters keep their commas.
 */
int hwnas__space_multipliers(char ***out, size_t *n, hwnas_context *ctx, const char *kind,
                             const char *text)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    char **list = hwnas__calloc(ctx, cap, sizeof *list);
    if (!list)
        return HWNAS_ENOMEM;
    size_t count = 0;
    int rc = HWNAS_OK;
    const char *p = text;
    while (rc == HWNAS_OK) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        size_t len = (size_t)(t - p);
        int cont = len && count && memchr(p, '=', len) && !memchr(p, ':', len);
        if (len == 0) {
            rc = hwnas__error(HWNAS_EINVAL, "%s: option multipliers = '%s': empty name at "
                              "position %zu (expected names like exact,drum:k=4)", kind, text,
                              (size_t)(p - text) + 1);
        } else if (cont) {
            size_t old = strlen(list[count - 1]);
            char *joined = hwnas__realloc(ctx, list[count - 1], old + 1 + len + 1);
            if (!joined) {
                rc = HWNAS_ENOMEM;
            } else {
                joined[old] = ',';
                memcpy(joined + old + 1, p, len);
                joined[old + 1 + len] = 0;
                list[count - 1] = joined;
            }
        } else {
            list[count] = hwnas__strndup(ctx, p, len);
            rc = list[count] ? HWNAS_OK : HWNAS_ENOMEM;
            count += rc == HWNAS_OK;
        }
        if (!*e)
            break;
        p = e + 1;
    }
    for (size_t i = 0; rc == HWNAS_OK && i < count; i++) {
        for (size_t j = 0; rc == HWNAS_OK && j < i; j++)
            if (strcmp(list[i], list[j]) == 0)
                rc = hwnas__error(HWNAS_EINVAL, "%s: option multipliers: '%s' is listed twice",
                                  kind, list[i]);
        if (rc == HWNAS_OK)
            rc = check_multiplier(ctx, kind, list[i]);
    }
    if (rc != HWNAS_OK) {
        hwnas__space_multipliers_free(ctx, list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return HWNAS_OK;
}

/* ---- creation ---------------------------------------------------------- */

static void cgp_fini(hwnas_space *s)
{
    cgp_state *st = s->state;
    if (!st)
        return;
    hwnas__space_multipliers_free(s->ctx, st->muls, st->n_muls);
    hwnas__free(s->ctx, st);
    s->state = NULL;
}

static int cgp_init(hwnas_space *s)
{
    const hwnas_options *o = s->options;
    cgp_state *st = hwnas__calloc(s->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    s->state = st;
    st->rows = hwnas__options_int(o, OPT_ROWS);
    st->cols = hwnas__options_int(o, OPT_COLS);
    st->levels_back = hwnas__options_int(o, OPT_LEVELS_BACK);
    if (st->levels_back > st->cols)
        st->levels_back = st->cols;
    st->n_nodes = st->rows * st->cols;
    st->in_channels = hwnas__options_int(o, OPT_IN_CHANNELS);
    st->in_size = hwnas__options_int(o, OPT_IN_SIZE);
    st->classes = hwnas__options_int(o, OPT_CLASSES);
    st->min_size = hwnas__options_int(o, OPT_MIN_SIZE);
    st->stem = hwnas__options_int(o, OPT_STEM);
    st->mutate_active = hwnas__options_int(o, OPT_MUTATE_ACTIVE) != 0;
    if (st->n_nodes > CGP_MAX_NODES)
        return hwnas__error(HWNAS_EINVAL, "space:cgp: rows*cols = %lld exceeds %d",
                            (long long)st->n_nodes, CGP_MAX_NODES);
    if (st->min_size > st->in_size)
        return hwnas__error(HWNAS_EINVAL, "space:cgp: min_size = %lld exceeds input_size = %lld",
                            (long long)st->min_size, (long long)st->in_size);
    int rc = hwnas__space_multipliers(&st->muls, &st->n_muls, s->ctx, "space:cgp",
                                      hwnas__options_str(o, OPT_MULTIPLIERS));
    if (rc == HWNAS_OK)
        rc = hwnas__space_set_genes(s, out_gene(st) + 2);
    for (int64_t k = 0; rc == HWNAS_OK && k < st->n_nodes; k++) {
        int64_t col = k / st->rows, row = k % st->rows;
        for (int g = 0; rc == HWNAS_OK && g < NG; g++) {
            uint32_t card = g == G_FN ? N_FN
                            : g == G_IN0 || g == G_IN1 ? input_card(st, col)
                            : g == G_MUL ? (uint32_t)st->n_muls
                                         : param_card[g];
            int ordinal = g == G_KERNEL || g == G_CHANNELS || g == G_STRIDE || g == G_EXPAND ||
                          g == G_RATE;
            rc = hwnas__space_gene(s, (size_t)k * NG + (size_t)g, card, ordinal, "c%lld_r%lld.%s",
                                   (long long)col, (long long)row, gene_suffix[g]);
        }
    }
    if (rc == HWNAS_OK)
        rc = hwnas__space_gene(s, out_gene(st), (uint32_t)st->n_nodes, 0, "output");
    if (rc == HWNAS_OK)
        rc = hwnas__space_gene(s, out_gene(st) + 1, (uint32_t)st->n_muls, 0, "head.mul");
    return rc;
}

/* ---- active nodes and genes ------------------------------------------- */

static void mark_active(const cgp_state *st, const uint32_t *g, uint8_t *active)
{
    memset(active, 0, (size_t)st->n_nodes);
    active[g[out_gene(st)]] = 1;
    for (int64_t k = st->n_nodes - 1; k >= 0; k--) {
        if (!active[k])
            continue;
        const uint32_t *ng = g + k * NG;
        int arity = ng[G_FN] == F_SUM ? 2 : 1;
        for (int j = 0; j < arity; j++) {
            int64_t src = source_of(st, k / st->rows, ng[G_IN0 + j]);
            if (src > 0)
                active[src - 1] = 1;
        }
    }
}

int hwnas__cgp_active_nodes(const hwnas_space *s, const uint32_t *genes, uint8_t *active)
{
    if (!s || !genes || !active || strcmp(s->kind->name, "space:cgp") != 0)
        return hwnas__error(HWNAS_EINVAL, "hwnas__cgp_active_nodes: a space:cgp is required");
    int rc = hwnas_space_check(s, genes);
    if (rc == HWNAS_OK)
        mark_active(s->state, genes, active);
    return rc;
}

/* used[i] = 1 for the genes that shape the decoded network. */
static void mark_used_genes(const cgp_state *st, const uint32_t *g, const uint8_t *active,
                            uint8_t *used)
{
    memset(used, 0, out_gene(st) + 2);
    for (int64_t k = 0; k < st->n_nodes; k++) {
        if (!active[k])
            continue;
        uint8_t *u = used + k * NG;
        uint32_t f = g[k * NG + G_FN];
        u[G_FN] = u[G_IN0] = 1;
        u[G_IN1] = f == F_SUM;
        for (int p = G_KERNEL; p < NG; p++)
            u[p] = (fn_uses[f] >> p) & 1u;
    }
    used[out_gene(st)] = used[out_gene(st) + 1] = 1;
}

/* ---- mutation ---------------------------------------------------------- */

static void point_change(const hwnas_space *s, hwnas__rng *r, uint32_t *child, size_t i)
{
    uint32_t v = (uint32_t)hwnas__rng_below(r, s->cardinality[i] - 1);
    child[i] = v >= child[i] ? v + 1 : v;
}

/*
 * Point mutation. rate 0: change one gene; with mutate_active, keep
 * changing random genes until one that shapes the parent's network has
 * changed (Goldman and Punch's "single active" mutation). rate > 0: each
 * gene changes with probability rate, then, if no gene (or with
 * mutate_active no active gene) changed, as for rate 0.
 */
static int cgp_mutate(const hwnas_space *s, hwnas__rng *r, const uint32_t *parent,
                      uint32_t *child, double rate)
{
    const cgp_state *st = s->state;
    uint8_t active[CGP_MAX_NODES];
    uint8_t *used = hwnas__malloc(s->ctx, s->n_genes);
    if (!used)
        return HWNAS_ENOMEM;
    mark_active(st, parent, active);
    mark_used_genes(st, parent, active, used);
    if (child != parent)
        memcpy(child, parent, s->n_genes * sizeof *child);
    int done = 0;
    if (rate > 0) {
        int changed = 0, changed_used = 0;
        for (size_t i = 0; i < s->n_genes; i++) {
            if (s->cardinality[i] < 2 || hwnas__rng_uniform(r) >= rate)
                continue;
            point_change(s, r, child, i);
            changed = 1;
            changed_used |= used[i];
        }
        done = st->mutate_active ? changed_used : changed;
    }
    /* The output node's function gene (10 values) is always used, so
     * this loop ends. */
    while (!done) {
        size_t i = (size_t)hwnas__rng_below(r, s->n_genes);
        if (s->cardinality[i] < 2)
            continue;
        point_change(s, r, child, i);
        done = !st->mutate_active || used[i];
    }
    hwnas__free(s->ctx, used);
    return HWNAS_OK;
}

/* ---- decoding ---------------------------------------------------------- */

/* A stride-2 node runs at stride 1 where it would go below min_size. */
static int64_t stride_for(const hwnas__builder *b, int64_t x, uint32_t gene)
{
    const cgp_state *st = b->state;
    int64_t c, h;
    hwnas__build_shape(b, x, &c, &h);
    return gene == 1 && h >= 2 * st->min_size ? 2 : 1;
}

/* Bring x to c channels and h x h (h <= its size): average pooling with
 * stride floor(H/h) and window H - (h-1)*stride, then a 1x1 convolution
 * (and batch norm when bn) if the channels differ. */
static int64_t resize(hwnas__builder *b, int64_t x, int64_t c, int64_t h, int bn)
{
    int64_t xc, xh;
    hwnas__build_shape(b, x, &xc, &xh);
    if (b->rc != HWNAS_OK)
        return -1;
    if (xh > h) {
        int64_t s = xh / h, k = xh - (h - 1) * s;
        x = hwnas__build_opf(b, "avgpool", x, "k=%lld,s=%lld", (long long)k, (long long)s);
    }
    if (xc != c) {
        x = hwnas__build_conv(b, x, c, 1, 1, 0);
        if (bn)
            x = hwnas__build_op(b, "bn", x, NULL);
    }
    return x;
}

/* x + y at the smaller spatial size of the two and c channels. */
static int64_t merge(hwnas__builder *b, int64_t x, int64_t y, int64_t c, int bn)
{
    int64_t xc, xh, yc, yh;
    hwnas__build_shape(b, x, &xc, &xh);
    hwnas__build_shape(b, y, &yc, &yh);
    int64_t h = xh < yh ? xh : yh;
    x = resize(b, x, c, h, bn);
    y = resize(b, y, c, h, bn);
    int64_t pair[2] = {x, y};
    return hwnas__build_add(b, pair, 2);
}

static int64_t fn_basic(hwnas__builder *b, const uint32_t *ng, int64_t x)
{
    int64_t k = kernel_basic[ng[G_KERNEL]], c = channel_values[ng[G_CHANNELS]];
    int64_t s = stride_for(b, x, ng[G_STRIDE]), y = x;
    if (ng[G_PREACT]) {
        /* ResNet v2: BN-ReLU-conv twice, plain projection shortcut. */
        y = hwnas__build_op(b, "bn", y, NULL);
        y = hwnas__build_op(b, "relu", y, NULL);
        y = hwnas__build_conv(b, y, c, k, s, 0);
        y = hwnas__build_op(b, "bn", y, NULL);
        y = hwnas__build_op(b, "relu", y, NULL);
        y = hwnas__build_conv(b, y, c, k, 1, 0);
        return merge(b, x, y, c, 0);
    }
    /* ResNet v1: conv-BN-ReLU-conv-BN, projection with BN, ReLU after. */
    y = hwnas__build_conv(b, y, c, k, s, 0);
    y = hwnas__build_op(b, "bn", y, NULL);
    y = hwnas__build_op(b, "relu", y, NULL);
    y = hwnas__build_conv(b, y, c, k, 1, 0);
    y = hwnas__build_op(b, "bn", y, NULL);
    return hwnas__build_op(b, "relu", merge(b, x, y, c, 1), NULL);
}

/* Expansion factor 1.0 + 0.5*e as a ratio (2 + e) / 2. */
static int64_t fn_bottleneck(hwnas__builder *b, const uint32_t *ng, int64_t x)
{
    int64_t c, h;
    hwnas__build_shape(b, x, &c, &h);
    int64_t k = kernel_block[ng[G_KERNEL]], s = stride_for(b, x, ng[G_STRIDE]);
    int64_t num = 2 + ng[G_EXPAND], mid = (2 * c + num / 2) / num;
    mid = mid < 1 ? 1 : mid;
    int64_t y = hwnas__build_conv(b, x, mid, 1, 1, 0);
    y = hwnas__build_op(b, "bn", y, NULL);
    y = hwnas__build_op(b, "relu", y, NULL);
    y = hwnas__build_conv(b, y, mid, k, s, 0);
    y = hwnas__build_op(b, "bn", y, NULL);
    y = hwnas__build_op(b, "relu", y, NULL);
    y = hwnas__build_conv(b, y, c, 1, 1, 0);
    y = hwnas__build_op(b, "bn", y, NULL);
    return hwnas__build_op(b, "relu", merge(b, x, y, c, 1), NULL);
}

static int64_t fn_inverted(hwnas__builder *b, const uint32_t *ng, int64_t x)
{
    int64_t c, h;
    hwnas__build_shape(b, x, &c, &h);
    int64_t k = kernel_block[ng[G_KERNEL]], s = stride_for(b, x, ng[G_STRIDE]);
    int64_t y = x;
    if (ng[G_EXPAND] > 0) {
        y = hwnas__build_conv(b, y, (c * (2 + ng[G_EXPAND]) + 1) / 2, 1, 1, 0);
        y = hwnas__build_op(b, "bn", y, NULL);
        y = hwnas__build_op(b, "relu6", y, NULL);
    }
    y = hwnas__build_dwconv(b, y, k, s, 0);
    y = hwnas__build_op(b, "bn", y, NULL);
    y = hwnas__build_op(b, "relu6", y, NULL);
    y = hwnas__build_conv(b, y, c, 1, 1, 0);
    y = hwnas__build_op(b, "bn", y, NULL);
    /* MobileNetV2: a residual only where the shape is kept. */
    if (s == 1) {
        int64_t pair[2] = {y, x};
        y = hwnas__build_add(b, pair, 2);
    }
    return y;
}

static int64_t build_node(hwnas__builder *b, const uint32_t *ng, int64_t x0, int64_t x1)
{
    switch (ng[G_FN]) {
    case F_SUM: {
        int64_t c0, h0, c1, h1;
        hwnas__build_shape(b, x0, &c0, &h0);
        hwnas__build_shape(b, x1, &c1, &h1);
        /* Operands in net order, so that in0/in1 swapped decode alike. */
        return x0 <= x1 ? merge(b, x0, x1, c0 > c1 ? c0 : c1, 0)
                        : merge(b, x1, x0, c0 > c1 ? c0 : c1, 0);
    }
    case F_BN:
        return hwnas__build_op(b, "bn", x0, NULL);
    case F_ACT:
        return hwnas__build_op(b, act_values[ng[G_ACT]], x0, NULL);
    case F_DWCONV: {
        int64_t s = stride_for(b, x0, ng[G_STRIDE]);
        int64_t y = hwnas__build_dwconv(b, x0, kernel_conv[ng[G_KERNEL]], s, ng[G_BIAS]);
        return hwnas__build_op(b, act_values[ng[G_ACT] & 1], y, NULL);
    }
    case F_CONV: {
        int64_t s = stride_for(b, x0, ng[G_STRIDE]);
        int64_t y = hwnas__build_conv(b, x0, channel_values[ng[G_CHANNELS]],
                                      kernel_conv[ng[G_KERNEL]], s, ng[G_BIAS]);
        return hwnas__build_op(b, act_values[ng[G_ACT]], y, NULL);
    }
    case F_BASIC:
        return fn_basic(b, ng, x0);
    case F_BOTTLENECK:
        return fn_bottleneck(b, ng, x0);
    case F_INVERTED:
        return fn_inverted(b, ng, x0);
    case F_DROPOUT: {
        return hwnas__build_opf(b, "dropout", x0, "p=0.%u", (unsigned)ng[G_RATE] + 1);
    }
    default: /* F_MAXPOOL: 2x2 stride 2, or nothing where that is below min_size */
        return stride_for(b, x0, 1) == 2 ? hwnas__build_op(b, "maxpool", x0, "k=2,s=2") : x0;
    }
}

static int cgp_decode(const hwnas_space *s, const uint32_t *g, hwnas_net *net)
{
    const cgp_state *st = s->state;
    uint8_t active[CGP_MAX_NODES];
    int64_t where[CGP_MAX_NODES + 1]; /* net index of each global source */
    mark_active(st, g, active);
    hwnas__builder b;
    hwnas__build_init(&b, net, hwnas__options_int(s->options, OPT_BITS) == 1 ? 8 : 32, st);
    where[0] = hwnas__build_input(&b, st->in_channels, st->in_size, st->in_size);
    if (st->stem > 0) {
        /* Every node then sees stem channels: the blocks whose width is
         * relative to their input (bottleneck, inverted, depthwise) are not
         * stuck at the input's one or three channels. The stem multiplies
         * exactly: it is shared by every genotype, a gene would not choose. */
        size_t first = hwnas_net_node_count(net);
        int64_t y = hwnas__build_conv(&b, where[0], st->stem, 3, 1, 0);
        y = hwnas__build_op(&b, "bn", y, NULL);
        where[0] = hwnas__build_op(&b, "relu", y, NULL);
        hwnas__build_multiplier(&b, first, "exact");
    }
    for (int64_t k = 0; k < st->n_nodes && b.rc == HWNAS_OK; k++) {
        if (!active[k])
            continue;
        const uint32_t *ng = g + k * NG;
        int64_t col = k / st->rows;
        int64_t x0 = where[source_of(st, col, ng[G_IN0])];
        int64_t x1 = where[source_of(st, col, ng[G_IN1])];
        size_t first = hwnas_net_node_count(net);
        where[1 + k] = build_node(&b, ng, x0, x1);
        hwnas__build_multiplier(&b, first, st->muls[ng[G_MUL]]);
    }
    int64_t x = hwnas__build_op(&b, "gap", where[1 + g[out_gene(st)]], NULL);
    size_t first = hwnas_net_node_count(net);
    hwnas__build_opf(&b, "linear", x, "out=%lld", (long long)st->classes);
    hwnas__build_multiplier(&b, first, st->muls[g[out_gene(st) + 1]]);
    return hwnas__build_finish(&b, "space:cgp");
}

/* One-hot of the genes that shape the network, zeros for the others: so
 * that a predictor sees phenotypes, not inactive genes. */
static int cgp_encode(const hwnas_space *s, const uint32_t *g, double *out, size_t *n)
{
    size_t len = 0;
    for (size_t i = 0; i < s->n_genes; i++)
        len += s->cardinality[i];
    *n = len;
    if (!out)
        return HWNAS_OK;
    const cgp_state *st = s->state;
    uint8_t active[CGP_MAX_NODES];
    uint8_t *used = hwnas__malloc(s->ctx, s->n_genes);
    if (!used)
        return HWNAS_ENOMEM;
    mark_active(st, g, active);
    mark_used_genes(st, g, active, used);
    len = 0;
    for (size_t i = 0; i < s->n_genes; i++) {
        for (uint32_t v = 0; v < s->cardinality[i]; v++)
            out[len + v] = used[i] && g[i] == v;
        len += s->cardinality[i];
    }
    hwnas__free(s->ctx, used);
    return HWNAS_OK;
}

static const hwnas__space_impl cgp_impl = {
    .encoding = "active",
    .default_encoding = 1,
    .encode = cgp_encode,
    .init = cgp_init,
    .fini = cgp_fini,
    .decode = cgp_decode,
    .mutate = cgp_mutate,
};

const hwnas__kind hwnas__space_cgp_kind = {
    "space:cgp", cgp_options, HWNAS_ARRAY_SIZE(cgp_options), &cgp_impl,
};

/* The network half of space:cgp+accelerator (composite.c): these options,
 * then the hardware's prefixed "hw.". */
static const hwnas__option_spec cgp_accel_options[] = {
    CGP_OPTION_ROWS /* ends with a comma */
    HWNAS__SPACE_ACCEL_OPTION_ROWS("hw."),
};

const hwnas__kind hwnas__space_cgp_accel_kind = {
    "space:cgp+accelerator", cgp_accel_options, HWNAS_ARRAY_SIZE(cgp_accel_options),
    &hwnas__space_composite_impl,
};
