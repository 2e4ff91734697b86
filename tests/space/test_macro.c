/* space:macro - genes, stage rules, skips, SE, multipliers, hashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "space/space_internal.h"
#include "test_alloc.h"

/* Per stage: blocks, width, mul, then (op, se) per block slot. */
enum { SG_BLOCKS, SG_WIDTH, SG_MUL, SG_HEAD };
enum { OP_CONV3, OP_CONV5, OP_IR1_K3, OP_IR1_K5, OP_IR3_K3, OP_IR3_K5, OP_IR6_K3, OP_IR6_K5,
       OP_SKIP };

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
    int rc = hwnas_space_new(&s, ctx, "macro", options);
    if (rc != HWNAS_OK)
        fail_msg("hwnas_space_new(macro, %s): %s", options, hwnas_error_last());
    return s;
}

static size_t count_kind(const hwnas_net *net, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < hwnas_net_node_count(net); i++)
        n += hwnas_net_node_kind(net, i) == kind;
    return n;
}

static int64_t dim(const hwnas_net *net, size_t i, int d)
{
    int64_t v[4];
    assert_int_equal(hwnas_net_node_shape(net, i, v), 4);
    return v[d];
}

static void test_genes(void **state)
{
    (void)state;
    hwnas_space *s = new_space(NULL);
    assert_string_equal(hwnas_space_kind(s), "space:macro");
    /* 7 stages x (blocks, width, mul + 4 x (op, se)). */
    assert_int_equal(hwnas_space_gene_count(s), 7 * 11);
    assert_string_equal(hwnas_space_gene_name(s, 0), "s0.blocks");
    assert_string_equal(hwnas_space_gene_name(s, 1), "s0.width");
    assert_string_equal(hwnas_space_gene_name(s, 2), "s0.mul");
    assert_string_equal(hwnas_space_gene_name(s, 3), "s0.b0.op");
    assert_string_equal(hwnas_space_gene_name(s, 4), "s0.b0.se");
    assert_string_equal(hwnas_space_gene_name(s, 11 + 9), "s1.b3.op");
    assert_int_equal(hwnas_space_gene_cardinality(s, 0), 4);
    assert_int_equal(hwnas_space_gene_ordinal(s, 0), 1);
    assert_int_equal(hwnas_space_gene_cardinality(s, 1), 4);
    assert_int_equal(hwnas_space_gene_ordinal(s, 1), 1);
    assert_int_equal(hwnas_space_gene_cardinality(s, 2), 1);
    assert_int_equal(hwnas_space_gene_cardinality(s, 3), 9);
    assert_int_equal(hwnas_space_gene_ordinal(s, 3), 0);
    assert_int_equal(hwnas_space_gene_cardinality(s, 4), 2);
    assert_int_equal(hwnas_space_has_operator(s, HWNAS_SPACE_OP_MUTATE), 0);
    hwnas_space_free(s);
    s = new_space("channels=16,32;strides=1,2;min_blocks=2;max_blocks=3;widths=1;"
                  "multipliers=exact,mul8s_1KV6");
    assert_int_equal(hwnas_space_gene_count(s), 2 * 9);
    assert_int_equal(hwnas_space_gene_cardinality(s, 0), 2);
    assert_int_equal(hwnas_space_gene_cardinality(s, 1), 1);
    assert_int_equal(hwnas_space_gene_cardinality(s, 2), 2);
    hwnas_space_free(s);
}

static void test_option_errors(void **state)
{
    (void)state;
    hwnas_space *s = (hwnas_space *)0x1;
    assert_int_equal(hwnas_space_new(&s, ctx, "macro", "channels=16,32;strides=1"),
                     HWNAS_EINVAL);
    assert_null(s);
    assert_non_null(strstr(hwnas_error_last(), "must match"));
    assert_int_equal(hwnas_space_new(&s, ctx, "macro", "channels=16;strides=3"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "strides"));
    assert_int_equal(hwnas_space_new(&s, ctx, "macro", "channels=16,x;strides=1,1"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "position 4"));
    assert_int_equal(hwnas_space_new(&s, ctx, "macro", "channels=16.5;strides=1"), HWNAS_EINVAL);
    assert_int_equal(hwnas_space_new(&s, ctx, "macro", "widths=1,0.5"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "ascending"));
    assert_int_equal(hwnas_space_new(&s, ctx, "macro", "min_blocks=3;max_blocks=2"),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_space_new(&s, ctx, "macro", "multipliers=exact,"), HWNAS_EINVAL);
    assert_int_equal(hwnas_space_new(&s, ctx, "macro", "act=elu"), HWNAS_EINVAL);
}

static void check_random_decodes(const char *options, int64_t classes)
{
    hwnas_space *s = new_space(options);
    size_t n = hwnas_space_gene_count(s);
    uint32_t *g = calloc(n, sizeof *g), *c = calloc(n, sizeof *c);
    hwnas_rng *rng;
    hwnas_net *net;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 9, 2), HWNAS_OK);
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    for (int it = 0; it < 500; it++) {
        assert_int_equal(hwnas_space_sample(s, rng, g), HWNAS_OK);
        assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
        size_t count = hwnas_net_node_count(net);
        assert_int_equal(hwnas_net_node_kind(net, 0), HWNAS_NET_INPUT);
        assert_int_equal(hwnas_net_node_kind(net, count - 1), HWNAS_NET_LINEAR);
        int64_t out;
        assert_int_equal(hwnas_net_node_attr(&out, net, count - 1, "out"), HWNAS_OK);
        assert_int_equal(out, classes);
        uint64_t h;
        assert_int_equal(hwnas_space_hash(s, g, &h), HWNAS_OK);
        assert_true(h == hwnas_net_hash(net));
        assert_int_equal(hwnas_space_mutate(s, rng, g, c, 0), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, c), HWNAS_OK);
    }
    hwnas_net_free(net);
    hwnas_rng_free(rng);
    free(g);
    free(c);
    hwnas_space_free(s);
}

static void test_random_genotypes_decode(void **state)
{
    (void)state;
    check_random_decodes(NULL, 10);
    check_random_decodes("input_channels=1;input_size=28;classes=7;head_channels=0;act=swish", 7);
    /* More stride-2 stages than the input has pixels for: still valid. */
    check_random_decodes("input_size=4;channels=8,8,8,8,8,8;strides=2,2,2,2,2,2;"
                         "multipliers=exact,mul8s_1KV6;stem_stride=2", 10);
}

/* Stage i's gene block. */
static uint32_t *stage(uint32_t *g, size_t i) { return g + i * 11; }

static void test_stage_rules(void **state)
{
    (void)state;
    hwnas_space *s = new_space(NULL);
    uint32_t g[77];
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    /* All conv 3x3, one block, width 1.0: the stage widths are the base
     * channels and 32x32 halves at the four stride-2 stages. */
    memset(g, 0, sizeof g);
    for (size_t i = 0; i < 7; i++)
        stage(g, i)[SG_WIDTH] = 2;
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    /* input, stem (conv, bn, relu6), 7 x (conv, bn, relu6), head (conv,
     * bn, relu6), gap, linear */
    assert_int_equal(hwnas_net_node_count(net), 1 + 3 + 21 + 3 + 2);
    const int64_t widths[7] = {16, 24, 40, 80, 96, 192, 320}, sizes[7] = {32, 16, 8, 4, 4, 2, 2};
    for (size_t i = 0; i < 7; i++) {
        size_t conv = 4 + 3 * i;
        assert_int_equal(hwnas_net_node_kind(net, conv), HWNAS_NET_CONV2D);
        assert_int_equal(dim(net, conv, 1), widths[i]);
        assert_int_equal(dim(net, conv, 2), sizes[i]);
    }
    assert_int_equal(dim(net, 25, 1), 1280);
    /* Width 0.5 rounds to multiples of 8 (16*0.5 = 8, 24*0.5 = 12 -> 16,
     * 40*0.5 = 20 -> 24). */
    for (size_t i = 0; i < 7; i++)
        stage(g, i)[SG_WIDTH] = 0;
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_int_equal(dim(net, 4, 1), 8);
    assert_int_equal(dim(net, 7, 1), 16);
    assert_int_equal(dim(net, 10, 1), 24);

    /* All skips: every stage changes stride or width (the stem's 32 ->
     * 16, ..., 80 -> 96 at stride 1), so each stage is one projection
     * (conv 1x1 with the stage's stride, BN) and its other skips vanish. */
    memset(g, 0, sizeof g);
    for (size_t i = 0; i < 7; i++) {
        stage(g, i)[SG_WIDTH] = 2;
        stage(g, i)[SG_BLOCKS] = 3;
        for (size_t b = 0; b < 4; b++)
            stage(g, i)[SG_HEAD + 2 * b] = OP_SKIP;
    }
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_int_equal(hwnas_net_node_count(net), 1 + 3 + 7 * 2 + 3 + 2);
    assert_int_equal(count_kind(net, HWNAS_NET_CONV2D), 1 + 7 + 1);
    for (size_t i = 0; i < 7; i++) {
        size_t conv = 4 + 2 * i;
        assert_int_equal(dim(net, conv, 1), widths[i]);
        assert_int_equal(dim(net, conv, 2), sizes[i]);
        int64_t k;
        assert_int_equal(hwnas_net_node_attr(&k, net, conv, "kh"), HWNAS_OK);
        assert_int_equal(k, 1);
    }
    hwnas_net_free(net);
    hwnas_space_free(s);

    /* A skip that keeps the shape is no node at all. */
    s = new_space("channels=32,32;strides=1,1;widths=1;head_channels=0");
    uint32_t h[22];
    memset(h, 0, sizeof h);
    h[SG_HEAD] = OP_SKIP; /* stage 0: 32 -> 32 at stride 1 */
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(s, h, net), HWNAS_OK);
    /* input, stem x3, (skip), stage 1 conv3 x3, gap, linear */
    assert_int_equal(hwnas_net_node_count(net), 1 + 3 + 3 + 2);
    hwnas_net_free(net);
    hwnas_space_free(s);
}

static void test_inactive_genes_and_se(void **state)
{
    (void)state;
    hwnas_space *s = new_space(NULL);
    uint32_t g[77];
    memset(g, 0, sizeof g);
    for (size_t i = 0; i < 7; i++)
        stage(g, i)[SG_BLOCKS] = 1; /* two blocks */
    uint64_t h0, h1;
    assert_int_equal(hwnas_space_hash(s, g, &h0), HWNAS_OK);
    /* Block slots 2 and 3 are inactive; SE of a conv block means nothing. */
    for (size_t i = 0; i < 7; i++) {
        stage(g, i)[SG_HEAD + 4] = OP_IR6_K5;
        stage(g, i)[SG_HEAD + 7] = 1;
        stage(g, i)[SG_HEAD + 1] = 1;
    }
    assert_int_equal(hwnas_space_hash(s, g, &h1), HWNAS_OK);
    assert_true(h0 == h1);
    /* A third block changes the network. */
    stage(g, 3)[SG_BLOCKS] = 2;
    assert_int_equal(hwnas_space_hash(s, g, &h1), HWNAS_OK);
    assert_true(h0 != h1);

    /* Inverted residual with SE: a gating mul node; without: none. */
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    memset(g, 0, sizeof g);
    stage(g, 0)[SG_HEAD] = OP_IR6_K5;
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_int_equal(count_kind(net, HWNAS_NET_MUL), 0);
    assert_int_equal(count_kind(net, HWNAS_NET_DWCONV2D), 1);
    size_t n0 = hwnas_net_node_count(net);
    stage(g, 0)[SG_HEAD + 1] = 1;
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_int_equal(count_kind(net, HWNAS_NET_MUL), 1);
    assert_true(hwnas_net_node_count(net) > n0);
    /* Expansion 1 has no expansion conv: conv count falls by one. */
    size_t convs6 = count_kind(net, HWNAS_NET_CONV2D);
    stage(g, 0)[SG_HEAD] = OP_IR1_K5;
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_int_equal(count_kind(net, HWNAS_NET_CONV2D), convs6 - 1);
    hwnas_net_free(net);
    hwnas_space_free(s);
}

static void test_stage_multiplier(void **state)
{
    (void)state;
    hwnas_space *s = new_space("channels=16,24;strides=1,2;multipliers=exact,mul8s_1KV6");
    uint32_t g[22];
    memset(g, 0, sizeof g);
    g[11 + SG_MUL] = 1; /* stage 1 */
    g[11 + SG_HEAD] = OP_IR3_K3;
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    size_t n = hwnas_net_node_count(net), approx = 0;
    for (size_t i = 0; i < n; i++) {
        const char *m = hwnas_net_node_multiplier(net, i);
        if (m && strcmp(m, "mul8s_1KV6") == 0)
            approx++;
    }
    /* expand, dw, project of stage 1; stem, stage 0, head, linear exact */
    assert_int_equal(approx, 3);
    assert_string_equal(hwnas_net_node_multiplier(net, 1), "exact");
    assert_string_equal(hwnas_net_node_multiplier(net, n - 1), "exact");
    hwnas_net_free(net);
    hwnas_space_free(s);
}

static void test_format_parse(void **state)
{
    (void)state;
    hwnas_space *s = new_space(NULL);
    uint32_t g[77], back[77];
    hwnas_rng *rng;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 4, 0), HWNAS_OK);
    for (int it = 0; it < 100; it++) {
        assert_int_equal(hwnas_space_sample(s, rng, g), HWNAS_OK);
        char *text = NULL;
        assert_int_equal(hwnas_space_format(s, g, &text), HWNAS_OK);
        assert_int_equal(hwnas_space_parse(s, text, back), HWNAS_OK);
        assert_memory_equal(g, back, sizeof g);
        hwnas_free(text);
    }
    assert_int_equal(hwnas_space_parse(s, "4", back), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "s0.blocks"));
    hwnas_rng_free(rng);
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
        int rc = hwnas_space_new(&s, c, "macro",
                                 "channels=16,24;strides=1,2;multipliers=exact,mul8s_1KV6");
        uint32_t g[22];
        memset(g, 0, sizeof g);
        g[SG_MUL] = 1, g[SG_HEAD] = OP_IR6_K3, g[SG_HEAD + 1] = 1;
        uint64_t h = 0;
        if (rc == HWNAS_OK)
            rc = hwnas_space_hash(s, g, &h);
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
        return cmocka_run_group_tests_name("space/macro/oom", tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genes),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_random_genotypes_decode),
        cmocka_unit_test(test_stage_rules),
        cmocka_unit_test(test_inactive_genes_and_se),
        cmocka_unit_test(test_stage_multiplier),
        cmocka_unit_test(test_format_parse),
    };
    return cmocka_run_group_tests_name("space/macro", tests, setup, teardown);
}
