/* space:cgp - genes, active nodes, decoding rules, mutation, hashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "space/space_internal.h"
#include "test_alloc.h"

/* In lib/space/cgp.c (to move to space_internal.h). */


/* Gene layout of a node (doc/spaces.md). */
enum { G_FN, G_IN0, G_IN1, G_KERNEL, G_CHANNELS, G_STRIDE, G_ACT, G_BIAS, G_PREACT,
       G_EXPAND, G_RATE, G_MUL, NG };
enum { F_SUM, F_BN, F_ACT, F_DWCONV, F_CONV, F_BASIC, F_BOTTLENECK, F_INVERTED, F_DROPOUT,
       F_MAXPOOL };

static hwnas_context *ctx;

static int setup(void **state)
{
    (void)state;
    return hwnas_context_new(&ctx, "threads=1");
}

static int teardown(void **state)
{
    (void)state;
    hwnas_context_free(ctx);
    return 0;
}

static hwnas_space *new_space(const char *options)
{
    hwnas_space *s = NULL;
    int rc = hwnas_space_new(&s, ctx, "cgp", options);
    if (rc != HWNAS_OK)
        fail_msg("hwnas_space_new(cgp, %s): %s", options, hwnas_error_last());
    return s;
}

static int64_t attr(const hwnas_net *net, size_t i, const char *key)
{
    int64_t v = -1;
    assert_int_equal(hwnas_net_node_attr(&v, net, i, key), HWNAS_OK);
    return v;
}

static int64_t size_of(const hwnas_net *net, size_t i)
{
    int64_t d[4];
    assert_int_equal(hwnas_net_node_shape(net, i, d), 4);
    return d[2];
}

static void test_genes(void **state)
{
    (void)state;
    hwnas_space *s = new_space(NULL);
    assert_string_equal(hwnas_space_kind(s), "space:cgp");
    /* 2 rows x 10 columns x 12 genes, the output and the head multiplier. */
    assert_int_equal(hwnas_space_gene_count(s), 2 * 10 * NG + 2);
    assert_string_equal(hwnas_space_gene_name(s, 0), "c0_r0.fn");
    assert_string_equal(hwnas_space_gene_name(s, NG + G_CHANNELS), "c0_r1.channels");
    assert_string_equal(hwnas_space_gene_name(s, 240), "output");
    assert_string_equal(hwnas_space_gene_name(s, 241), "head.mul");
    assert_int_equal(hwnas_space_gene_cardinality(s, G_FN), 10);
    assert_int_equal(hwnas_space_gene_cardinality(s, G_CHANNELS), 8);
    assert_int_equal(hwnas_space_gene_cardinality(s, G_EXPAND), 7);
    assert_int_equal(hwnas_space_gene_cardinality(s, G_MUL), 1);
    assert_int_equal(hwnas_space_gene_ordinal(s, G_CHANNELS), 1);
    assert_int_equal(hwnas_space_gene_ordinal(s, G_FN), 0);
    /* Column 0 sees only the input; column c < levels_back (5) the input
     * and 2c nodes; later columns the 2*5 nodes of the 5 columns back. */
    assert_int_equal(hwnas_space_gene_cardinality(s, G_IN0), 1);
    assert_int_equal(hwnas_space_gene_cardinality(s, 2 * NG + G_IN0), 3);
    assert_int_equal(hwnas_space_gene_cardinality(s, 8 * NG + G_IN1), 9);
    assert_int_equal(hwnas_space_gene_cardinality(s, 10 * NG + G_IN0), 10);
    assert_int_equal(hwnas_space_gene_cardinality(s, 19 * NG + G_IN0), 10);
    assert_int_equal(hwnas_space_gene_cardinality(s, 240), 20);
    assert_int_equal(hwnas_space_has_operator(s, HWNAS_SPACE_OP_MUTATE), 1);
    assert_int_equal(hwnas_space_has_operator(s, HWNAS_SPACE_OP_CROSSOVER), 0);
    hwnas_space_free(s);
}

static void test_option_errors(void **state)
{
    (void)state;
    hwnas_space *s = (hwnas_space *)0x1;
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp", "rows=64;cols=100"), HWNAS_EINVAL);
    assert_null(s);
    assert_non_null(strstr(hwnas_error_last(), "rows*cols"));
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp", "input_size=4;min_size=5"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "min_size"));
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp", "multipliers=exact,,a"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "empty name"));
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp", "multipliers=exact,exact"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "listed twice"));
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp", "multipliers=exact,bad name"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "'bad name'"));
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp", "levels=3"), HWNAS_EINVAL);
    /* levels_back beyond the grid means "any earlier column". */
    s = new_space("cols=3;levels_back=100");
    assert_int_equal(hwnas_space_gene_cardinality(s, 2 * 2 * NG + G_IN0), 5);
    hwnas_space_free(s);
}

/* Property: random genotypes decode (or are reported invalid), and every
 * decoded net ends in the head and keeps every map at least min_size. */
static void check_random_decodes(const char *options, int64_t classes, int64_t min_size)
{
    hwnas_space *s = new_space(options);
    size_t n = hwnas_space_gene_count(s);
    uint32_t *g = calloc(n, sizeof *g);
    hwnas_rng *rng;
    hwnas_net *net;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 7, 1), HWNAS_OK);
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    int ok = 0;
    for (int it = 0; it < 1500; it++) {
        assert_int_equal(hwnas_space_sample(s, rng, g), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, g), HWNAS_OK);
        int rc = hwnas_space_decode(s, g, net);
        if (rc == HWNAS_EINVALID) {
            assert_int_equal(hwnas_net_node_count(net), 0);
            continue;
        }
        assert_int_equal(rc, HWNAS_OK);
        ok++;
        size_t count = hwnas_net_node_count(net);
        assert_true(count >= 3);
        assert_int_equal(hwnas_net_node_kind(net, 0), HWNAS_NET_INPUT);
        assert_int_equal(hwnas_net_node_kind(net, count - 2), HWNAS_NET_GAVGPOOL);
        assert_int_equal(hwnas_net_node_kind(net, count - 1), HWNAS_NET_LINEAR);
        assert_int_equal(attr(net, count - 1, "out"), classes);
        for (size_t i = 0; i + 2 < count; i++)
            assert_true(size_of(net, i) >= min_size);
        uint64_t h;
        assert_int_equal(hwnas_space_hash(s, g, &h), HWNAS_OK);
        assert_true(h == hwnas_net_hash(net));
    }
    /* The rules leave nothing invalid in these grids. */
    assert_int_equal(ok, 1500);
    hwnas_net_free(net);
    hwnas_rng_free(rng);
    free(g);
    hwnas_space_free(s);
}

static void test_random_genotypes_decode(void **state)
{
    (void)state;
    check_random_decodes(NULL, 10, 1);
    check_random_decodes("rows=1;cols=30;levels_back=30;input_size=9;min_size=2;classes=3",
                         3, 2);
    check_random_decodes("rows=4;cols=6;levels_back=2;input_channels=3;input_size=1", 10, 1);
    check_random_decodes("rows=3;cols=8;levels_back=3;multipliers=exact,mul8s_1KV6,mul8s_1L2H",
                         10, 1);
}

/* node k of a rows x cols genotype */
static uint32_t *node(uint32_t *g, int k) { return g + k * NG; }

static void test_active_nodes(void **state)
{
    (void)state;
    /* One row, four columns, full levels back: node k may use the input
     * (value 0) or node j < k (value j + 1). */
    hwnas_space *s = new_space("rows=1;cols=4;levels_back=4");
    uint32_t g[4 * NG + 2];
    memset(g, 0, sizeof g);
    node(g, 0)[G_FN] = F_CONV, node(g, 0)[G_IN0] = 0, node(g, 0)[G_KERNEL] = 1;
    node(g, 1)[G_FN] = F_BN, node(g, 1)[G_IN0] = 1;
    node(g, 2)[G_FN] = F_SUM, node(g, 2)[G_IN0] = 1, node(g, 2)[G_IN1] = 0;
    node(g, 3)[G_FN] = F_ACT, node(g, 3)[G_IN0] = 3;
    g[4 * NG] = 2; /* output: node 2 */
    uint8_t active[4];
    assert_int_equal(hwnas__cgp_active_nodes(s, g, active), HWNAS_OK);
    uint8_t want[4] = {1, 0, 1, 0};
    assert_memory_equal(active, want, 4);

    /* input, conv 3x3 (32), relu, [input projected to 32 channels], add,
     * gap, linear */
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    const int kinds[] = {HWNAS_NET_INPUT, HWNAS_NET_CONV2D, HWNAS_NET_ACT, HWNAS_NET_CONV2D,
                         HWNAS_NET_ADD, HWNAS_NET_GAVGPOOL, HWNAS_NET_LINEAR};
    assert_int_equal(hwnas_net_node_count(net), 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(hwnas_net_node_kind(net, i), kinds[i]);
    assert_int_equal(attr(net, 1, "kh"), 3);
    assert_int_equal(attr(net, 1, "out"), 32);
    assert_int_equal(attr(net, 3, "kh"), 1);
    assert_int_equal(hwnas_net_node_input(net, 3, 0), 0);
    assert_int_equal(size_of(net, 4), 28);

    /* Output on node 3 activates the chain 3 <- 2 <- (0, input). */
    g[4 * NG] = 3;
    assert_int_equal(hwnas__cgp_active_nodes(s, g, active), HWNAS_OK);
    uint8_t want3[4] = {1, 0, 1, 1};
    assert_memory_equal(active, want3, 4);
    /* A non-summation node uses only in0. */
    node(g, 3)[G_IN0] = 3, node(g, 3)[G_FN] = F_BN, node(g, 1)[G_IN0] = 0;
    node(g, 2)[G_FN] = F_DROPOUT, node(g, 2)[G_IN0] = 2, node(g, 2)[G_IN1] = 1;
    assert_int_equal(hwnas__cgp_active_nodes(s, g, active), HWNAS_OK);
    uint8_t want4[4] = {0, 1, 1, 1};
    assert_memory_equal(active, want4, 4);
    hwnas_space_free(s);

    /* levels_back 1 on a 2 x 3 grid: column 2 sees column 1 only. */
    s = new_space("rows=2;cols=3;levels_back=1");
    uint32_t h[6 * NG + 2];
    memset(h, 0, sizeof h);
    node(h, 0)[G_FN] = F_CONV;                      /* c0 r0 <- input */
    node(h, 3)[G_FN] = F_ACT, node(h, 3)[G_IN0] = 0; /* c1 r1 <- c0 r0 */
    node(h, 4)[G_FN] = F_BN, node(h, 4)[G_IN0] = 1;  /* c2 r0 <- c1 r1 */
    h[6 * NG] = 4;
    uint8_t a6[6];
    assert_int_equal(hwnas__cgp_active_nodes(s, h, a6), HWNAS_OK);
    uint8_t want6[6] = {1, 0, 0, 1, 1, 0};
    assert_memory_equal(a6, want6, 6);
    assert_int_equal(hwnas_space_decode(s, h, net), HWNAS_OK);
    const int kinds6[] = {HWNAS_NET_INPUT, HWNAS_NET_CONV2D, HWNAS_NET_ACT, HWNAS_NET_ACT,
                          HWNAS_NET_BATCHNORM, HWNAS_NET_GAVGPOOL, HWNAS_NET_LINEAR};
    assert_int_equal(hwnas_net_node_count(net), 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(hwnas_net_node_kind(net, i), kinds6[i]);
    hwnas_net_free(net);
    hwnas_space_free(s);
}

static void test_shape_rules(void **state)
{
    (void)state;
    hwnas_space *s = new_space("rows=1;cols=3;levels_back=3;input_size=5;min_size=2");
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    uint32_t g[3 * NG + 2];
    memset(g, 0, sizeof g);
    /* conv 2x2 stride 1 pads 1: 5 -> 6; summed with the input (1 channel,
     * 5x5): the conv output is pooled 6 -> 5 (window 2, stride 1) and the
     * input projected to 32 channels. */
    node(g, 0)[G_FN] = F_CONV, node(g, 0)[G_KERNEL] = 0;
    node(g, 1)[G_FN] = F_SUM, node(g, 1)[G_IN0] = 1, node(g, 1)[G_IN1] = 0;
    g[3 * NG] = 1;
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_int_equal(size_of(net, 1), 6);
    /* input, conv, relu, input-projection, avgpool, add (operands in net
     * order: the input's projection first), gap, linear */
    assert_int_equal(hwnas_net_node_kind(net, 3), HWNAS_NET_CONV2D);
    assert_int_equal(hwnas_net_node_input(net, 3, 0), 0);
    assert_int_equal(hwnas_net_node_kind(net, 4), HWNAS_NET_AVGPOOL);
    assert_int_equal(attr(net, 4, "kh"), 2);
    assert_int_equal(attr(net, 4, "sh"), 1);
    assert_int_equal(hwnas_net_node_kind(net, 5), HWNAS_NET_ADD);
    assert_int_equal(size_of(net, 5), 5);
    uint64_t h1;
    assert_int_equal(hwnas_space_hash(s, g, &h1), HWNAS_OK);
    /* Swapping a summation's operands changes nothing. */
    node(g, 1)[G_IN0] = 0, node(g, 1)[G_IN1] = 1;
    uint64_t h2;
    assert_int_equal(hwnas_space_hash(s, g, &h2), HWNAS_OK);
    assert_true(h1 == h2);

    /* max pooling 5 -> 2, then a second one would go below min_size 2: it
     * is left out; a stride-2 conv there runs at stride 1. */
    memset(g, 0, sizeof g);
    node(g, 0)[G_FN] = F_MAXPOOL;
    node(g, 1)[G_FN] = F_MAXPOOL, node(g, 1)[G_IN0] = 1;
    node(g, 2)[G_FN] = F_CONV, node(g, 2)[G_IN0] = 2, node(g, 2)[G_STRIDE] = 1;
    node(g, 2)[G_KERNEL] = 1;
    g[3 * NG] = 2;
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    const int kinds[] = {HWNAS_NET_INPUT, HWNAS_NET_MAXPOOL, HWNAS_NET_CONV2D, HWNAS_NET_ACT,
                         HWNAS_NET_GAVGPOOL, HWNAS_NET_LINEAR};
    assert_int_equal(hwnas_net_node_count(net), 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(hwnas_net_node_kind(net, i), kinds[i]);
    assert_int_equal(size_of(net, 1), 2);
    assert_int_equal(attr(net, 2, "sh"), 1);
    assert_int_equal(size_of(net, 2), 2);

    /* Stride 2 on 5x5 ends at 3x3: ceil(5/2) for odd kernels, floor(5/2)+1
     * for 2x2 ones; a basic block with 4x4 kernels grows back to 4 in its
     * second conv (3 -> 4) and its shortcut is pooled 5 -> 4 to match. */
    for (uint32_t f = F_DWCONV; f <= F_INVERTED; f++)
        for (uint32_t k = 0; k < 2; k++)
            for (uint32_t pre = 0; pre < 2; pre++) {
                memset(g, 0, sizeof g);
                node(g, 0)[G_FN] = f, node(g, 0)[G_STRIDE] = 1, node(g, 0)[G_KERNEL] = k;
                node(g, 0)[G_PREACT] = pre, node(g, 0)[G_EXPAND] = 6;
                assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
                size_t n = hwnas_net_node_count(net);
                int64_t want = f == F_BASIC && k == 1 ? 4 : 3;
                assert_int_equal(size_of(net, n - 3), want);
            }
    hwnas_net_free(net);
    hwnas_space_free(s);
}

static void test_hash_ignores_inactive_genes(void **state)
{
    (void)state;
    hwnas_space *s = new_space("rows=2;cols=8;levels_back=3");
    size_t n = hwnas_space_gene_count(s), nodes = 16;
    uint32_t *g = calloc(n, sizeof *g), *m = calloc(n, sizeof *m);
    uint8_t active[16];
    hwnas_rng *rng;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 11, 0), HWNAS_OK);
    int differ = 0;
    for (int it = 0; it < 300; it++) {
        assert_int_equal(hwnas_space_sample(s, rng, g), HWNAS_OK);
        assert_int_equal(hwnas__cgp_active_nodes(s, g, active), HWNAS_OK);
        uint64_t h, hm;
        assert_int_equal(hwnas_space_hash(s, g, &h), HWNAS_OK);
        /* Redraw every gene of the inactive nodes, and in1 of the active
         * nodes that take one input. */
        assert_int_equal(hwnas_space_sample(s, rng, m), HWNAS_OK);
        for (size_t k = 0; k < nodes; k++)
            for (size_t j = 0; j < NG; j++) {
                size_t i = k * NG + j;
                if (!active[k] || (j == G_IN1 && g[k * NG + G_FN] != F_SUM))
                    g[i] = m[i];
            }
        assert_int_equal(hwnas_space_hash(s, g, &hm), HWNAS_OK);
        assert_true(h == hm);
        /* Changing the output's function gene changes the network. */
        size_t fn = g[n - 2] * NG + G_FN;
        g[fn] = (g[fn] + 1) % 10;
        assert_int_equal(hwnas_space_hash(s, g, &hm), HWNAS_OK);
        differ += h != hm;
    }
    /* (A few changes are neutral: maxpool/identity below min_size.) */
    assert_true(differ > 290);
    hwnas_rng_free(rng);
    free(g);
    free(m);
    hwnas_space_free(s);
}

static void test_mutation(void **state)
{
    (void)state;
    hwnas_space *s = new_space("rows=2;cols=6;levels_back=2;multipliers=exact,mul8s_1KV6");
    hwnas_space *plain = new_space("rows=2;cols=6;levels_back=2;mutate_active=false");
    size_t n = hwnas_space_gene_count(s);
    assert_int_equal(n, hwnas_space_gene_count(plain));
    uint32_t *p = calloc(n, sizeof *p), *c = calloc(n, sizeof *c);
    uint8_t active[12];
    hwnas_rng *rng;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 3, 0), HWNAS_OK);
    for (int it = 0; it < 2000; it++) {
        double rate = it % 3 == 0 ? 0.0 : it % 3 == 1 ? 0.02 : 0.3;
        assert_int_equal(hwnas_space_sample(s, rng, p), HWNAS_OK);
        assert_int_equal(hwnas_space_mutate(s, rng, p, c, rate), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, c), HWNAS_OK);
        assert_int_equal(hwnas__cgp_active_nodes(s, p, active), HWNAS_OK);
        /* Some changed gene belongs to an active node or to the head. */
        int changed = 0, changed_active = 0;
        for (size_t i = 0; i < n; i++)
            if (p[i] != c[i]) {
                changed++;
                changed_active |= i >= 12 * NG || active[i / NG];
            }
        assert_true(changed >= 1);
        assert_true(changed_active);
        /* In place works too. */
        memcpy(c, p, n * sizeof *p);
        assert_int_equal(hwnas_space_mutate(s, rng, c, c, rate), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, c), HWNAS_OK);
        /* Without mutate_active and rate 0: exactly one gene changes. */
        assert_int_equal(hwnas_space_sample(plain, rng, p), HWNAS_OK);
        assert_int_equal(hwnas_space_mutate(plain, rng, p, c, 0.0), HWNAS_OK);
        changed = 0;
        for (size_t i = 0; i < n; i++)
            changed += p[i] != c[i];
        assert_int_equal(changed, 1);
    }
    /* Same seed, same mutants. */
    uint32_t *c2 = calloc(n, sizeof *c2);
    hwnas_rng_reseed(rng, 5, 0);
    assert_int_equal(hwnas_space_mutate(s, rng, p, c, 0.0), HWNAS_OK);
    hwnas_rng_reseed(rng, 5, 0);
    assert_int_equal(hwnas_space_mutate(s, rng, p, c2, 0.0), HWNAS_OK);
    assert_memory_equal(c, c2, n * sizeof *c);
    assert_int_equal(hwnas_space_mutate(s, rng, p, c, 1.5), HWNAS_EINVAL);
    free(c2);
    hwnas_rng_free(rng);
    free(p);
    free(c);
    hwnas_space_free(plain);
    hwnas_space_free(s);
}

static void test_multipliers(void **state)
{
    (void)state;
    hwnas_space *s = new_space("rows=1;cols=2;levels_back=2;multipliers=exact, mul8s_1KV6 ");
    assert_int_equal(hwnas_space_gene_cardinality(s, G_MUL), 2);
    assert_int_equal(hwnas_space_gene_cardinality(s, 2 * NG + 1), 2);
    uint32_t g[2 * NG + 2];
    memset(g, 0, sizeof g);
    node(g, 0)[G_FN] = F_BASIC, node(g, 0)[G_MUL] = 1, node(g, 0)[G_CHANNELS] = 3;
    g[2 * NG] = 0;
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    size_t n = hwnas_net_node_count(net), convs = 0;
    for (size_t i = 1; i + 1 < n; i++)
        if (hwnas_net_node_kind(net, i) == HWNAS_NET_CONV2D) {
            assert_string_equal(hwnas_net_node_multiplier(net, i), "mul8s_1KV6");
            convs++;
        }
    assert_int_equal(convs, 3); /* two 3x3 convs and the 1 -> 64 projection */
    assert_string_equal(hwnas_net_node_multiplier(net, n - 1), "exact");
    uint64_t h0, h1;
    assert_int_equal(hwnas_space_hash(s, g, &h0), HWNAS_OK);
    g[2 * NG + 1] = 1; /* the head's multiplier */
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_string_equal(hwnas_net_node_multiplier(net, n - 1), "mul8s_1KV6");
    assert_int_equal(hwnas_space_hash(s, g, &h1), HWNAS_OK);
    assert_true(h0 != h1);
    hwnas_net_free(net);
    hwnas_space_free(s);
}

/* stem=N: a fixed conv 3x3 (N) - BN - ReLU between the input and the grid,
 * multiplying exactly even where every gene picks an approximate multiplier,
 * and an input-relative block then works on N channels. */
static void test_stem(void **state)
{
    (void)state;
    hwnas_space *s = new_space("rows=1;cols=2;levels_back=2;stem=24;bits=8;"
                               "multipliers=mul8s_1KV6");
    uint32_t g[2 * NG + 2];
    memset(g, 0, sizeof g);
    node(g, 0)[G_FN] = F_BOTTLENECK, node(g, 0)[G_EXPAND] = 0; /* mid = 24 */
    g[2 * NG] = 0; /* output: node 0 */
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_int_equal(hwnas_net_node_kind(net, 1), HWNAS_NET_CONV2D);
    assert_int_equal(attr(net, 1, "out"), 24);
    assert_int_equal(attr(net, 1, "kh"), 3);
    assert_int_equal(attr(net, 1, "sh"), 1);
    assert_string_equal(hwnas_net_node_multiplier(net, 1), "exact");
    assert_int_equal(hwnas_net_node_kind(net, 2), HWNAS_NET_BATCHNORM);
    assert_int_equal(hwnas_net_node_kind(net, 3), HWNAS_NET_ACT);
    /* the bottleneck's first 1x1 conv reads the stem: 24 -> 24 */
    assert_int_equal(hwnas_net_node_kind(net, 4), HWNAS_NET_CONV2D);
    assert_int_equal(attr(net, 4, "out"), 24);
    assert_string_equal(hwnas_net_node_multiplier(net, 4), "mul8s_1KV6");
    uint64_t h;
    assert_int_equal(hwnas_space_hash(s, g, &h), HWNAS_OK);
    assert_true(h == hwnas_net_hash(net));
    hwnas_net_free(net);
    hwnas_space_free(s);
    check_random_decodes("rows=1;cols=8;levels_back=3;stem=16", 10, 1);
}

static void test_format_parse(void **state)
{
    (void)state;
    hwnas_space *s = new_space("rows=2;cols=5;levels_back=2;multipliers=exact,mul8s_1KV6");
    size_t n = hwnas_space_gene_count(s);
    uint32_t *g = calloc(n, sizeof *g), *back = calloc(n, sizeof *back);
    hwnas_rng *rng;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 1, 0), HWNAS_OK);
    for (int it = 0; it < 200; it++) {
        assert_int_equal(hwnas_space_sample(s, rng, g), HWNAS_OK);
        char *text = NULL;
        assert_int_equal(hwnas_space_format(s, g, &text), HWNAS_OK);
        assert_int_equal(hwnas_space_parse(s, text, back), HWNAS_OK);
        assert_memory_equal(g, back, n * sizeof *g);
        hwnas_free(text);
    }
    /* Out of range for c0_r0.in0 (only the input). */
    char bad[1024] = "0,1";
    for (size_t i = 2; i < n; i++)
        strcat(bad, ",0");
    assert_int_equal(hwnas_space_parse(s, bad, back), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "c0_r0.in0"));
    assert_int_equal(hwnas_space_parse(s, "0,0", back), HWNAS_EFORMAT);
    hwnas_rng_free(rng);
    free(g);
    free(back);
    hwnas_space_free(s);
}

static void test_oom(void **state)
{
    (void)state;
    test_alloc t;
    hwnas_context *c = test_alloc_context(&t, "threads=1");
    long base = t.live;
    for (long n = 0;; n++) {
        test_alloc_fail_from(&t, n);
        hwnas_space *s = NULL;
        int rc = hwnas_space_new(&s, c, "cgp", "rows=2;cols=3;multipliers=exact,mul8s_1KV6");
        uint32_t g[6 * NG + 2];
        memset(g, 0, sizeof g);
        node(g, 0)[G_FN] = F_CONV, node(g, 0)[G_MUL] = 1;
        g[6 * NG] = 0;
        uint64_t h = 0;
        if (rc == HWNAS_OK)
            rc = hwnas_space_hash(s, g, &h);
        hwnas_rng *rng = NULL;
        if (rc == HWNAS_OK)
            rc = hwnas_rng_new(&rng, c, 1, 0);
        if (rc == HWNAS_OK)
            rc = hwnas_space_mutate(s, rng, g, g, 0.0);
        hwnas_rng_free(rng);
        hwnas_space_free(s);
        test_alloc_disarm(&t);
        assert_int_equal(t.live, base);
        if (rc == HWNAS_OK)
            break;
        assert_int_equal(rc, HWNAS_ENOMEM);
    }
    hwnas_context_free(c);
    assert_int_equal(t.live, 0);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("space/cgp/oom", tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genes),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_random_genotypes_decode),
        cmocka_unit_test(test_active_nodes),
        cmocka_unit_test(test_shape_rules),
        cmocka_unit_test(test_hash_ignores_inactive_genes),
        cmocka_unit_test(test_mutation),
        cmocka_unit_test(test_multipliers),
        cmocka_unit_test(test_stem),
        cmocka_unit_test(test_format_parse),
    };
    return cmocka_run_group_tests_name("space/cgp", tests, setup, teardown);
}
