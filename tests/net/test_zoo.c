/* The model zoo in examples/nets: cost against published figures, shapes,
 * round trips. The zoo is found through HWNAS_SOURCE_ROOT. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_tests.h"

typedef struct zoo_entry {
    const char *file;
    double macs, params; /* published figures */
    double tol;          /* relative tolerance */
    const char *source;
} zoo_entry;

static const zoo_entry zoo[] = {
    /* LeNet-5 in the common form (full C3, no trainable pooling): computed
     * exactly by hand from the layer sizes, see the file's comment. */
    {"lenet5.net", 416520, 61706, 0, "hand count"},
    {"alexnet.net", 0.724e9, 61.0e6, 0.02, "Krizhevsky 2012 / issue"},
    {"vgg16.net", 15.5e9, 138e6, 0.02, "Simonyan 2015"},
    {"resnet18.net", 1.8e9, 11.7e6, 0.02, "He 2016 / torchvision"},
    {"resnet50.net", 4.1e9, 25.6e6, 0.02, "torchvision (v1.5)"},
    {"mobilenet_v1.net", 569e6, 4.2e6, 0.02, "Howard 2017"},
    /* The paper rounds to 3.4 M; the reference implementations (torchvision,
     * Keras trainable) have 3,504,872 parameters. */
    {"mobilenet_v2.net", 0.300e9, 3504872, 0.02, "Sandler 2018 / torchvision"},
    {"resnet20.net", 41e6, 0.27e6, 0.02, "He 2016"},
    /* the reference CNN: computed exactly */
    {"fmnist_ref.net", 112896 + 903168 + 903168 + 640, 144 + 32 + 4608 + 64 + 18432 + 128 + 650,
     0, "hand count"},
};

static char *zoo_path(const char *file)
{
    const char *root = getenv("HWNAS_SOURCE_ROOT");
    if (!root)
        return NULL;
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/examples/nets/%s", root, file);
    return buf;
}

static void check_close(const char *what, const char *file, double got, double want, double tol)
{
    double rel = fabs(got - want) / want;
    if (rel > tol)
        fail_msg("%s: %s %.0f, published %.0f (%.2f%% off, tolerance %.0f%%)", file, what, got,
                 want, rel * 100, tol * 100);
}

static void test_zoo_costs(void **state)
{
    (void)state;
    if (!getenv("HWNAS_SOURCE_ROOT"))
        skip();
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    for (size_t i = 0; i < sizeof zoo / sizeof zoo[0]; i++) {
        hwnas_net *net;
        int rc = hwnas_net_load(&net, ctx, zoo_path(zoo[i].file));
        if (rc != HWNAS_OK)
            fail_msg("%s: %s", zoo[i].file, hwnas_error_last());
        printf("# %-18s %14llu MACs %12llu params %6zu nodes\n", zoo[i].file,
               (unsigned long long)hwnas_net_macs(net), (unsigned long long)hwnas_net_params(net),
               hwnas_net_node_count(net));
        check_close("MACs", zoo[i].file, (double)hwnas_net_macs(net), zoo[i].macs, zoo[i].tol);
        check_close("params", zoo[i].file, (double)hwnas_net_params(net), zoo[i].params,
                    zoo[i].tol);
        /* round trip: the formatted text parses back to an equal net */
        char *text;
        assert_int_equal(hwnas_net_format(net, &text), HWNAS_OK);
        hwnas_net *back = parse_ok(ctx, text);
        assert_true(hwnas_net_equal(net, back));
        assert_true(hwnas_net_hash(net) == hwnas_net_hash(back));
        assert_true(hwnas_net_macs(back) == hwnas_net_macs(net));
        char *text2;
        assert_int_equal(hwnas_net_format(back, &text2), HWNAS_OK);
        assert_string_equal(text, text2);
        hwnas_free(text);
        hwnas_free(text2);
        hwnas_net_free(back);
        hwnas_net_free(net);
    }
    hwnas_context_free(ctx);
}

/* Output shapes that every implementation of these nets agrees on. */
static void test_zoo_shapes(void **state)
{
    (void)state;
    if (!getenv("HWNAS_SOURCE_ROOT"))
        skip();
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    static const struct {
        const char *file, *node;
        int64_t c, h, w;
    } want[] = {
        {"alexnet.net", "conv1", 96, 55, 55},
        {"alexnet.net", "pool5", 256, 6, 6},
        {"vgg16.net", "pool5", 512, 7, 7},
        {"resnet18.net", "pool", 64, 56, 56},
        {"resnet18.net", "layer4.1", 512, 7, 7},
        {"resnet50.net", "layer4.2", 2048, 7, 7},
        {"resnet50.net", "layer2.0.conv2", 128, 28, 28},
        {"mobilenet_v1.net", "pw13", 1024, 7, 7},
        {"mobilenet_v2.net", "block16", 320, 7, 7},
        {"resnet20.net", "stage3.2", 64, 8, 8},
        {"fmnist_ref.net", "conv2", 32, 14, 14},
        {"fmnist_ref.net", "conv3", 64, 7, 7},
        {"lenet5.net", "c5", 120, 1, 1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        hwnas_net *net;
        assert_int_equal(hwnas_net_load(&net, ctx, zoo_path(want[i].file)), HWNAS_OK);
        int64_t idx = hwnas_net_find(net, want[i].node);
        if (idx < 0)
            fail_msg("%s: no node %s", want[i].file, want[i].node);
        int64_t d[4];
        assert_int_equal(hwnas_net_node_shape(net, (size_t)idx, d), 4);
        if (d[1] != want[i].c || d[2] != want[i].h || d[3] != want[i].w)
            fail_msg("%s: %s is %lldx%lldx%lld, expected %lldx%lldx%lld", want[i].file,
                     want[i].node, (long long)d[1], (long long)d[2], (long long)d[3],
                     (long long)want[i].c, (long long)want[i].h, (long long)want[i].w);
        hwnas_net_free(net);
    }
    hwnas_context_free(ctx);
}

int run_zoo_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zoo_costs),
        cmocka_unit_test(test_zoo_shapes),
    };
    return cmocka_run_group_tests_name("net_zoo", tests, NULL, NULL);
}
