/* Out-of-memory walks: fail allocation n = 0, 1, 2, ... until success.
 * Each failure must return HWNAS_ENOMEM and leak nothing. */
#include <string.h>

#include "net_tests.h"
#include "test_alloc.h"

typedef int (*oom_step)(hwnas_context *ctx);

static void walk(const char *name, oom_step step)
{
    test_alloc t;
    hwnas_context *ctx = test_alloc_context(&t, "threads=1");
    assert_non_null(ctx);
    long baseline = t.live;
    for (long n = 0;; n++) {
        assert_true(n < 100000);
        test_alloc_fail_from(&t, n);
        int rc = step(ctx);
        test_alloc_disarm(&t);
        if (rc != HWNAS_OK && rc != HWNAS_ENOMEM)
            fail_msg("%s: step %ld returned %d (%s)", name, n, rc, hwnas_error_last());
        assert_int_equal(t.live, baseline);
        if (rc == HWNAS_OK)
            break;
    }
    hwnas_context_free(ctx);
    assert_int_equal(t.live, 0);
}

static const char text[] = "hwnas-net 1\n"
                           "x = input(shape=3x32x32)\n"
                           "conv(out=16, k=3, pad=1, mul=mul8u_1JFF, bits=8)\n"
                           "b1 = basic(out=16)\n"
                           "b2 = mbconv(out=24, s=2, se=0.25)\n"
                           "b3 = bottleneck(mid=8, s=2)\n"
                           "gap\n"
                           "linear(out=10)\n";

static int step_parse_format(hwnas_context *ctx)
{
    hwnas_net *net = NULL, *copy = NULL;
    char *s = NULL;
    int rc = hwnas_net_parse(&net, ctx, text, "oom.net");
    if (rc == HWNAS_OK)
        rc = hwnas_net_format(net, &s);
    if (rc == HWNAS_OK)
        rc = hwnas_net_clone(&copy, net);
    if (rc == HWNAS_OK)
        rc = hwnas_net_set_multiplier(copy, 1, "other", 8);
    hwnas_free(s);
    hwnas_net_free(copy);
    hwnas_net_free(net);
    return rc;
}

static int step_build(hwnas_context *ctx)
{
    hwnas_net *net = NULL;
    int rc = hwnas_net_new(&net, ctx);
    if (rc == HWNAS_OK)
        rc = hwnas_net_add_input(NULL, net, NULL, 3, 16, 16);
    for (int i = 0; rc == HWNAS_OK && i < 40; i++)
        rc = hwnas_net_add_conv2d(NULL, net, NULL, -1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0);
    if (rc == HWNAS_OK)
        rc = hwnas_net_add(NULL, net, "basic", "blk", NULL, 0, "out=8, s=2, mul=m");
    hwnas_net_free(net);
    return rc;
}

static void test_oom_parse_format(void **state)
{
    (void)state;
    walk("parse_format", step_parse_format);
}

static void test_oom_build(void **state)
{
    (void)state;
    walk("build", step_build);
}

int run_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_parse_format),
        cmocka_unit_test(test_oom_build),
    };
    return cmocka_run_group_tests_name("net_oom", tests, NULL, NULL);
}
