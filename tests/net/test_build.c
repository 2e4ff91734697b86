/* Building nets through the C API: shapes, cost, errors, queries, hash. */
#include <string.h>

#include "net_tests.h"

static hwnas_context *new_ctx(void)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    return ctx;
}

static void expect_shape(const hwnas_net *net, int64_t i, int64_t c, int64_t h, int64_t w)
{
    int64_t d[4];
    assert_int_equal(hwnas_net_node_shape(net, (size_t)i, d), 4);
    if (d[0] != 1 || d[1] != c || d[2] != h || d[3] != w)
        fail_msg("node %lld: %lldx%lldx%lld, expected %lldx%lldx%lld", (long long)i,
                 (long long)d[1], (long long)d[2], (long long)d[3], (long long)c, (long long)h,
                 (long long)w);
}

static void test_conv_shapes_and_cost(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    int64_t x, c, d, p, g;
    assert_int_equal(hwnas_net_add_input(&x, net, "x", 3, 32, 30), HWNAS_OK);
    assert_int_equal(x, 0);
    assert_int_equal(hwnas_net_add(&c, net, "conv", "c", NULL, 0, "out=8, k=3; s=2,pad=1"),
                     HWNAS_OK);
    expect_shape(net, c, 8, 16, 15);
    assert_int_equal(hwnas_net_node_macs(net, (size_t)c), 8 * 16 * 15 * 3 * 9);
    assert_int_equal(hwnas_net_node_params(net, (size_t)c), 8 * 27 + 8);
    assert_int_equal(hwnas_net_node_weight_bytes(net, (size_t)c), (8 * 27 + 8) * 4);
    /* dilation 2, asymmetric kernel, groups, no bias; the typed path */
    assert_int_equal(hwnas_net_add_conv2d(&g, net, "g", c, 4, 3, 1, 1, 1, 2, 0, 2, 1, 2, 0),
                     HWNAS_OK);
    expect_shape(net, g, 4, 16, 15);
    assert_int_equal(hwnas_net_node_params(net, (size_t)g), 4 * 4 * 3);
    /* depthwise with multiplier 2 */
    assert_int_equal(hwnas_net_add(&d, net, "dwconv", "d", &c, 1, "k=3,pad=same,mult=2,bias=0"),
                     HWNAS_OK);
    expect_shape(net, d, 16, 16, 15);
    assert_int_equal(hwnas_net_node_macs(net, (size_t)d), 16 * 16 * 15 * 9);
    int64_t v;
    assert_int_equal(hwnas_net_node_attr(&v, net, (size_t)d, "groups"), HWNAS_OK);
    assert_int_equal(v, 8);
    /* pooling strides default to the kernel; floor division */
    assert_int_equal(hwnas_net_add(&p, net, "maxpool", NULL, NULL, 0, "k=3"), HWNAS_OK);
    expect_shape(net, p, 16, 5, 5);
    assert_string_equal(hwnas_net_node_name(net, (size_t)p), "_4");
    assert_int_equal(hwnas_net_find(net, "_4"), p);
    assert_int_equal(hwnas_net_node_kind(net, (size_t)p), HWNAS_NET_MAXPOOL);
    assert_null(hwnas_net_node_multiplier(net, (size_t)p));
    assert_string_equal(hwnas_net_node_multiplier(net, (size_t)c), "exact");
    assert_int_equal(hwnas_net_node_bits(net, (size_t)c), 32);
    /* flatten + linear: rank 2 */
    int64_t f, l;
    assert_int_equal(hwnas_net_add(&f, net, "flatten", NULL, NULL, 0, NULL), HWNAS_OK);
    assert_int_equal(hwnas_net_add(&l, net, "linear", "fc", NULL, 0, "out=10"), HWNAS_OK);
    int64_t dims[4];
    assert_int_equal(hwnas_net_node_shape(net, (size_t)f, dims), 2);
    assert_int_equal(dims[1], 16 * 25);
    assert_int_equal(hwnas_net_node_macs(net, (size_t)l), 400 * 10);
    assert_int_equal(hwnas_net_macs(net), 8 * 16 * 15 * 27 + 4 * 16 * 15 * 12 +
                                              16 * 16 * 15 * 9 + 4000);
    assert_int_equal(hwnas_net_memory_accesses(net), 4 * hwnas_net_macs(net));
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void test_errors_name_the_node(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_net_add(NULL, net, "relu", NULL, NULL, 0, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "empty"));
    int64_t x, a, b;
    assert_int_equal(hwnas_net_add(&x, net, "input", "x", NULL, 0, "shape=3x8x8"), HWNAS_OK);
    assert_int_equal(hwnas_net_add(&a, net, "conv", "a", NULL, 0, "out=4,k=3,pad=1"), HWNAS_OK);
    assert_int_equal(hwnas_net_add(&b, net, "conv", "b", &x, 1, "out=5,k=3,pad=1"), HWNAS_OK);
    int64_t ab[2] = {a, b};
    size_t n = hwnas_net_node_count(net);
    assert_int_equal(hwnas_net_add(NULL, net, "add", "sum", ab, 2, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "node 'sum' (add)"));
    assert_non_null(strstr(hwnas_error_last(), "'b'"));
    assert_int_equal(hwnas_net_add(NULL, net, "conv", "big", NULL, 0, "out=4,k=11"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "node 'big' (conv): kernel 11x11 larger"));
    assert_int_equal(hwnas_net_add(NULL, net, "conv", "grp", NULL, 0, "out=4,groups=2"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "grp"));
    assert_int_equal(hwnas_net_add(NULL, net, "conv", "c", NULL, 0, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "missing attribute 'out'"));
    assert_int_equal(hwnas_net_add(NULL, net, "conv", "c", NULL, 0, "out=4,kernel=3"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "unknown attribute 'kernel' for conv"));
    assert_non_null(strstr(hwnas_error_last(), "groups"));
    assert_int_equal(hwnas_net_add(NULL, net, "conv", "c", NULL, 0, "out=4,bits=16"),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_net_add(NULL, net, "convv", "c", NULL, 0, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "unknown op 'convv'"));
    assert_int_equal(hwnas_net_add(NULL, net, "relu", "a", NULL, 0, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "duplicate node name 'a'"));
    assert_int_equal(hwnas_net_add(NULL, net, "relu", "_7", NULL, 0, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_net_add(NULL, net, "relu", "9x", NULL, 0, NULL), HWNAS_EINVAL);
    int64_t bad = 99;
    assert_int_equal(hwnas_net_add(NULL, net, "relu", NULL, &bad, 1, NULL), HWNAS_EINVAL);
    /* a block whose third part collides with an existing name rolls back */
    assert_int_equal(hwnas_net_add(NULL, net, "relu", "blk.conv2", NULL, 0, NULL), HWNAS_OK);
    n = hwnas_net_node_count(net);
    uint64_t macs = hwnas_net_macs(net), h = hwnas_net_hash(net);
    assert_int_equal(hwnas_net_add(NULL, net, "basic", "blk", &x, 1, "out=3"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "blk.conv2"));
    assert_int_equal(hwnas_net_node_count(net), n);
    assert_int_equal(hwnas_net_macs(net), macs);
    assert_true(hwnas_net_hash(net) == h);
    assert_int_equal(hwnas_net_find(net, "blk.conv1"), -1);
    assert_int_equal(hwnas_net_add(NULL, net, "basic", "blk2", &x, 1, "out=3"), HWNAS_OK);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void test_blocks(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    int64_t x, m, bt;
    assert_int_equal(hwnas_net_add_input(&x, net, "x", 16, 8, 8), HWNAS_OK);
    /* expand 16 -> 64, dw 3x3, SE 16*0.25 = 4 hidden, project 64 -> 16, residual */
    assert_int_equal(hwnas_net_add(&m, net, "mbconv", "m", NULL, 0,
                                   "out=16,expand=4,se=0.25,act=swish,mul=m8,bits=8"),
                     HWNAS_OK);
    expect_shape(net, m, 16, 8, 8);
    assert_int_equal(hwnas_net_node_kind(net, (size_t)m), HWNAS_NET_ADD);
    int64_t se = hwnas_net_find(net, "m.se_scale");
    assert_true(se > 0);
    assert_int_equal(hwnas_net_node_kind(net, (size_t)se), HWNAS_NET_MUL);
    assert_int_equal(hwnas_net_node_macs(net, (size_t)se), 64 * 64);
    int64_t red = hwnas_net_find(net, "m.se_reduce");
    expect_shape(net, red, 4, 1, 1);
    assert_string_equal(hwnas_net_node_multiplier(net, (size_t)red), "m8");
    assert_int_equal(hwnas_net_node_bits(net, (size_t)red), 8);
    uint64_t params = 16 * 64 + 128 + 64 * 9 + 128 + (64 * 4 + 4) + (4 * 64 + 64) + 64 * 16 + 32;
    assert_int_equal(hwnas_net_params(net), params);
    /* bottleneck with stride: 16 -> mid 8 -> 32, projection shortcut */
    assert_int_equal(hwnas_net_add(&bt, net, "bottleneck", "b", NULL, 0, "mid=8,s=2"), HWNAS_OK);
    expect_shape(net, bt, 32, 4, 4);
    expect_shape(net, hwnas_net_find(net, "b.down"), 32, 4, 4);
    int64_t fn;
    assert_int_equal(hwnas_net_node_attr(&fn, net, (size_t)bt, "fn"), HWNAS_OK);
    assert_int_equal(fn, HWNAS_NET_ACT_RELU);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void test_peak_and_topo(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_net *net = parse_ok(ctx, "hwnas-net 1\n"
                                   "x = input(shape=1x4x4)\n"
                                   "a = conv(out=2)\n"
                                   "r = relu\n"
                                   "add(a, r)\n");
    /* input 16; conv 32 (input dies after); relu 32 with a alive; add 32 */
    assert_int_equal(hwnas_net_peak_activations(net), 96);
    assert_int_equal(hwnas_net_activations(net), 16 + 32 + 32 + 32);
    size_t order[8];
    assert_int_equal(hwnas_net_topo_order(net, order, 8), 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(order[i], i);
    assert_int_equal(hwnas_net_node_input_count(net, 3), 2);
    assert_int_equal(hwnas_net_node_input(net, 3, 0), 1);
    assert_int_equal(hwnas_net_node_input(net, 3, 1), 2);
    assert_int_equal(hwnas_net_node_input(net, 3, 2), -1);
    double v;
    assert_int_equal(hwnas_net_cost(&v, net, "peak_activations"), HWNAS_OK);
    assert_true(v == 96);
    assert_int_equal(hwnas_net_cost(&v, net, "flops"), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "macs"));
    /* a dead-end branch dies at once */
    hwnas_net *n2 = parse_ok(ctx, "hwnas-net 1\nx = input(shape=1x4x4)\nrelu(x)\nsigmoid(x)\n");
    assert_int_equal(hwnas_net_peak_activations(n2), 32);
    hwnas_net_free(n2);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void test_hash_and_multiplier(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_net *a = parse_ok(ctx, "hwnas-net 1\nx = input(shape=3x8x8)\nc = conv(out=4, k=3)\n"
                                 "relu\n");
    hwnas_net *b = parse_ok(ctx, "hwnas-net 1\nin = input(shape=3x8x8)\nconv(out=4, k=3)\n"
                                 "act = relu\n");
    assert_false(hwnas_net_equal(a, b));           /* names differ */
    assert_true(hwnas_net_hash(a) == hwnas_net_hash(b)); /* structure does not */
    uint64_t wb = hwnas_net_weight_bytes(a);
    assert_int_equal(wb, (4 * 27 + 4) * 4);
    assert_int_equal(hwnas_net_set_multiplier(a, 1, "mul8u_1JFF", 8), HWNAS_OK);
    assert_int_equal(hwnas_net_weight_bytes(a), 4 * 27 + 4 * 4);
    assert_string_equal(hwnas_net_node_multiplier(a, 1), "mul8u_1JFF");
    assert_true(hwnas_net_hash(a) != hwnas_net_hash(b));
    assert_int_equal(hwnas_net_set_multiplier(a, 2, "x", 8), HWNAS_EINVAL);
    assert_int_equal(hwnas_net_set_multiplier(a, 1, "bad name", 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_net_set_multiplier(a, 1, NULL, 16), HWNAS_EINVAL);
    assert_int_equal(hwnas_net_set_multiplier(a, 1, "exact", 32), HWNAS_OK);
    assert_true(hwnas_net_hash(a) == hwnas_net_hash(b));
    hwnas_net *c;
    assert_int_equal(hwnas_net_clone(&c, a), HWNAS_OK);
    assert_true(hwnas_net_equal(a, c));
    assert_int_equal(hwnas_net_add(NULL, c, "softmax", "sm", NULL, 0, NULL), HWNAS_OK);
    assert_int_equal(hwnas_net_find(c, "sm"), 3);
    assert_int_equal(hwnas_net_find(a, "sm"), -1);
    hwnas_net_clear(c);
    assert_int_equal(hwnas_net_node_count(c), 0);
    assert_int_equal(hwnas_net_find(c, "x"), -1);
    assert_int_equal(hwnas_net_macs(c), 0);
    hwnas_net_free(c);
    /* attribute queries */
    int64_t v;
    double f;
    assert_int_equal(hwnas_net_node_attr(&v, a, 1, "kh"), HWNAS_OK);
    assert_int_equal(v, 3);
    assert_int_equal(hwnas_net_node_attr(&v, a, 2, "kh"), HWNAS_ENOTFOUND);
    assert_int_equal(hwnas_net_node_attr(&v, a, 9, "kh"), HWNAS_EINVAL);
    assert_int_equal(hwnas_net_node_attr_float(&f, a, 2, "p"), HWNAS_ENOTFOUND);
    assert_null(hwnas_net_node_name(a, 3));
    assert_int_equal(hwnas_net_node_kind(a, 3), -1);
    hwnas_net_free(a);
    hwnas_net_free(b);
    hwnas_net_free(NULL);
    hwnas_context_free(ctx);
}

int run_build_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_shapes_and_cost),
        cmocka_unit_test(test_errors_name_the_node),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_peak_and_topo),
        cmocka_unit_test(test_hash_and_multiplier),
    };
    return cmocka_run_group_tests_name("net_build", tests, NULL, NULL);
}
