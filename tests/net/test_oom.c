/* Out-of-memory walks: fail allocation n = 0, 1, 2, ... until success.
 * Each failure must return HWNAS_ENOMEM and leak nothing. */
#include <string.h>

#include "net_tests.h"
#include "test_oom.h"

static const char text[] = "hwnas-net 1\n"
                           "x = input(shape=3x32x32)\n"
                           "conv(out=16, k=3, pad=1, mul=mul8u_1JFF, bits=8)\n"
                           "b1 = basic(out=16)\n"
                           "b2 = mbconv(out=24, s=2, se=0.25)\n"
                           "b3 = bottleneck(mid=8, s=2)\n"
                           "gap\n"
                           "linear(out=10)\n";

static int step_parse_format(hwnas_context *ctx, void *arg)
{
    (void)arg;
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

static int step_build(hwnas_context *ctx, void *arg)
{
    (void)arg;
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
    test_oom_walk("parse_format", step_parse_format, NULL);
}

static void test_oom_build(void **state)
{
    (void)state;
    test_oom_walk("build", step_build, NULL);
}

int run_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_parse_format),
        cmocka_unit_test(test_oom_build),
    };
    return cmocka_run_group_tests_name("net_oom", tests, NULL, NULL);
}
