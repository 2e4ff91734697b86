/* The net part's cmocka executable: `test_net unit` or `test_net oom`. */
#include <stdio.h>
#include <string.h>

#include "net_tests.h"

hwnas_net *parse_ok(hwnas_context *ctx, const char *text)
{
    hwnas_net *net = NULL;
    int rc = hwnas_net_parse(&net, ctx, text, "t.net");
    if (rc != HWNAS_OK)
        fail_msg("parse failed (%d): %s", rc, hwnas_error_last());
    return net;
}

const char *parse_fail(hwnas_context *ctx, const char *text, int code)
{
    hwnas_net *net = (hwnas_net *)0x1;
    int rc = hwnas_net_parse(&net, ctx, text, "t.net");
    if (rc != code)
        fail_msg("expected %d, got %d (%s) for:\n%s", code, rc, hwnas_error_last(), text);
    assert_null(net);
    return hwnas_error_last();
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0)
        return run_build_tests() | run_spec_tests() | run_zoo_tests() | run_stages_tests();
    if (strcmp(suite, "oom") == 0)
        return run_oom_tests();
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
