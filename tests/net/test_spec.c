/* The text spec: syntax, defaults, round trips and error positions. */
#include <stdio.h>
#include <string.h>

#include "net_tests.h"

static hwnas_context *new_ctx(void)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    return ctx;
}

/* Every op with non-default attributes: the formatter must write them all. */
static const char every_op[] =
    "hwnas-net 1\n"
    "x = input(shape=3x17x19)\n"
    "c1 = conv(out=8, kh=3, kw=5, sh=1, sw=2, ph=1, pw=2, dh=2, dw=1, bias=0, mul=mul8s_1KV6, "
    "bits=8)\n"
    "dw = dwconv(mult=2, k=3, pad=1, mul=lut:a.b)\n"
    "bn\n"
    "elu(alpha=0.5)\n"
    "leaky_relu(slope=0.2)\n"
    "prelu\n"
    "relu6\n"
    "swish\n"
    "hard_swish\n"
    "hard_sigmoid\n"
    "tanh\n"
    "g = conv(out=16, groups=4, s=2, pad=1, k=3)\n"
    "mp = maxpool(dw, kh=3, kw=2, s=1)\n"
    "ap = avgpool(dw, k=2, s=1, pad=1)\n"
    "gate = gap(dw)\n"
    "sig = sigmoid\n"
    "sc = mul(dw, sig)\n"
    "cat = concat(sc, dw)\n"
    "dropout(p=0.25)\n"
    "flatten\n"
    "linear(out=10, bias=0, bits=8)\n"
    "softmax\n";

static void test_every_op_round_trip(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_net *net = parse_ok(ctx, every_op);
    assert_int_equal(hwnas_net_node_count(net), 23);
    int64_t v;
    double f;
    int64_t c1 = hwnas_net_find(net, "c1");
    assert_int_equal(hwnas_net_node_attr(&v, net, (size_t)c1, "kw"), HWNAS_OK);
    assert_int_equal(v, 5);
    assert_int_equal(hwnas_net_node_bits(net, (size_t)c1), 8);
    assert_string_equal(hwnas_net_node_multiplier(net, (size_t)c1), "mul8s_1KV6");
    assert_int_equal(hwnas_net_node_attr_float(&f, net, 5, "slope"), HWNAS_OK);
    assert_true(f == 0.2);
    assert_string_equal(hwnas_net_node_op(net, 5), "leaky_relu");
    char *text;
    assert_int_equal(hwnas_net_format(net, &text), HWNAS_OK);
    hwnas_net *back = parse_ok(ctx, text);
    assert_true(hwnas_net_equal(net, back));
    char *text2;
    assert_int_equal(hwnas_net_format(back, &text2), HWNAS_OK);
    assert_string_equal(text, text2);
    /* the formatter leaves out defaults and the implicit input */
    assert_non_null(strstr(text, "\nbn\n"));
    assert_non_null(strstr(text, "mp = maxpool(dw, kh=3, kw=2, s=1)\n"));
    assert_non_null(strstr(text, "\ndropout(p=0.25)\n"));
    hwnas_free(text);
    hwnas_free(text2);
    hwnas_net_free(back);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void test_syntax_forms(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    /* comments, blank lines, leading comments, CRLF, spaces, empty parens */
    hwnas_net *net = parse_ok(ctx, "# a net\n\n  hwnas-net   1   # header\r\n"
                                   "x=input( shape = 1x8x8 )\r\n"
                                   "\t# indented comment\n"
                                   "a = conv ( out=2 , k = 3 , pad = same )  # same\n"
                                   "relu()\n"
                                   "sum = add(a, _2)\n");
    assert_int_equal(hwnas_net_node_count(net), 4);
    int64_t d[4];
    hwnas_net_node_shape(net, 3, d);
    assert_int_equal(d[2], 8);
    assert_int_equal(hwnas_net_node_input(net, 3, 1), 2);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void expect_msg(const char *msg, const char *want)
{
    if (!strstr(msg, want))
        fail_msg("message '%s' lacks '%s'", msg, want);
}

static void test_errors(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    expect_msg(parse_fail(ctx, "", HWNAS_EFORMAT), "t.net:1:1: expected the header line");
    expect_msg(parse_fail(ctx, "x = input(shape=1x2x2)\n", HWNAS_EFORMAT), "t.net:1:1:");
    expect_msg(parse_fail(ctx, "hwnas-net 2\n", HWNAS_EVERSION), "t.net:1:11: net spec version 2");
    expect_msg(parse_fail(ctx, "hwnas-net 1\n", HWNAS_EFORMAT), "expected at least one node");
    expect_msg(parse_fail(ctx, "hwnas-net 1\n\nx = inptu(shape=1x2x2)\n", HWNAS_EFORMAT),
               "t.net:3:5: unknown op 'inptu'; expected one of: input conv");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2)\n", HWNAS_EFORMAT),
               "t.net:2:11: shape: expected CxHxW");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2\n", HWNAS_EFORMAT),
               "t.net:2:22: expected ',' or ')', found end of line");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2) y\n", HWNAS_EFORMAT),
               "t.net:2:24: expected '(' or end of line, found 'y'");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\nadd(x, y)\n", HWNAS_EFORMAT),
               "t.net:3:8: unknown node 'y'");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\nconv(out=)\n",
                          HWNAS_EFORMAT),
               "t.net:3:10: expected a value");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\nconv(out=-1)\n",
                          HWNAS_EFORMAT),
               "t.net:3:6: out: expected a non-negative integer");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\nc = conv(out=3, k=5)\n",
                          HWNAS_EFORMAT),
               "t.net:3:1: node 'c' (conv): kernel 5x5 larger than padded input 2x2");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\nx = relu\n", HWNAS_EFORMAT),
               "t.net:3:1: duplicate node name 'x'");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\n= relu\n", HWNAS_EFORMAT),
               "t.net:3:1: expected a node name or an op");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\nrelu(k=1)\n", HWNAS_EFORMAT),
               "unknown attribute 'k' for relu; expected no attributes");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\nconv(out=1, k=1, k=2)\n",
                          HWNAS_EFORMAT),
               "t.net:3:18: attribute 'k' given twice");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nrelu\n", HWNAS_EFORMAT), "no input");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\nadd(x)\n", HWNAS_EFORMAT),
               "expected at least 2 inputs, got 1");
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1x2x2)\ndropout(p=1.5)\n",
                          HWNAS_EFORMAT),
               "p: 1.5 out of range [0, 1)");
    hwnas_net *net = (hwnas_net *)0x1;
    assert_int_equal(hwnas_net_parse(&net, ctx, NULL, NULL), HWNAS_EINVAL);
    assert_null(net);
    assert_int_equal(hwnas_net_load(&net, ctx, "/nonexistent/x.net"), HWNAS_ENOTFOUND);
    expect_msg(hwnas_error_last(), "/nonexistent/x.net");
    hwnas_context_free(ctx);
}

/* Multiplier names with '=' or ',' (built-in specs) are quoted, and the
 * quoted form reads back; zero round-trips too. */
static void test_quoted_multipliers(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_net *n = NULL, *m = NULL;
    assert_int_equal(hwnas_net_parse(&n, ctx,
                                     "hwnas-net 1\nx = input(shape=1x8x8)\n"
                                     "conv(out=4, k=3, mul=\"bam:h=2,v=6\", bits=8)\n"
                                     "conv(out=4, k=3, mul=\"drum:k=4\")\nzero\n",
                                     "q.net"),
                     HWNAS_OK);
    assert_string_equal(hwnas_net_node_multiplier(n, 1), "bam:h=2,v=6");
    assert_string_equal(hwnas_net_node_multiplier(n, 2), "drum:k=4");
    assert_int_equal(hwnas_net_node_kind(n, 3), HWNAS_NET_ZERO);
    char *text = NULL;
    assert_int_equal(hwnas_net_format(n, &text), HWNAS_OK);
    assert_non_null(strstr(text, "mul=\"drum:k=4\""));
    assert_int_equal(hwnas_net_parse(&m, ctx, text, "again"), HWNAS_OK);
    assert_true(hwnas_net_equal(n, m));
    hwnas_free(text);
    hwnas_net_free(m);
    assert_int_equal(hwnas_net_parse(&m, ctx,
                                     "hwnas-net 1\nx = input(shape=1x8x8)\n"
                                     "conv(out=4, k=3, mul=\"open)\n",
                                     "bad.net"),
                     HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "bad.net:3:"));
    assert_non_null(strstr(hwnas_error_last(), "closing"));
    hwnas_net_free(n);
    hwnas_context_free(ctx);
}

/* Counts near the limits: a node's weight bytes and the net's totals stay
 * exact (issue 24, item 5: they used to wrap around 2^64). */
static void test_cost_limits(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    const char *big = "hwnas-net 1\nx = input(shape=1048576x1x524288)\n"
                      "c = conv(x, out=1048576, kh=1, kw=524288)\n";
    hwnas_net *n = parse_ok(ctx, big);
    uint64_t w = (uint64_t)1 << 59; /* 2^20 x 2^20 x 2^19 weights */
    assert_true(hwnas_net_params(n) == w + 1048576);
    assert_true(hwnas_net_weight_bytes(n) == 4 * w + 4 * 1048576);
    assert_true(hwnas_net_memory_accesses(n) == 4 * hwnas_net_macs(n));
    hwnas_net_free(n);
    char text[512];
    /* two such nodes: 2^60 + 2^21 parameters */
    snprintf(text, sizeof text, "%sc2 = conv(x, out=1048576, kh=1, kw=524288)\n", big);
    expect_msg(parse_fail(ctx, text, HWNAS_EFORMAT), "t.net:4:1: node 'c2' (conv): the net's "
               "total MACs, parameters or activations would exceed 2^60");
    /* one node beyond 2^60 MACs (3 x 2^59) */
    expect_msg(parse_fail(ctx, "hwnas-net 1\nx = input(shape=1048576x1x524288)\n"
                          "c = conv(x, out=1048576, kh=3, ph=1, kw=524288)\n", HWNAS_EFORMAT),
               "too large");
    hwnas_context_free(ctx);
}

int run_spec_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_round_trip),
        cmocka_unit_test(test_syntax_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_quoted_multipliers),
        cmocka_unit_test(test_cost_limits),
    };
    return cmocka_run_group_tests_name("net_spec", tests, NULL, NULL);
}
