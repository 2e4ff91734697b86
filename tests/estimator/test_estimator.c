/* Estimators: cost, table (on a small CSV and on the real benchmarks),
 * custom callbacks, errors and out-of-memory walks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "estimator/estimator_internal.h"
#include "test_alloc.h"

static hwnas_context *ctx;
static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hwnas-est-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return hwnas_context_new(&ctx, "threads=1");
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return -1;
    hwnas_context_free(ctx);
    return 0;
}

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static hwnas_net *small_net(void)
{
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_net_add_input(NULL, net, "x", 1, 8, 8), HWNAS_OK);
    /* conv 1->4, 3x3, pad 1: 4*9*64 = 2304 MACs, 36 + 4 params */
    assert_int_equal(hwnas_net_add_conv2d(NULL, net, "c", -1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
                     HWNAS_OK);
    return net;
}

static void test_cost(void **state)
{
    (void)state;
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "cost", NULL), HWNAS_OK);
    assert_string_equal(hwnas_estimator_kind(e), "estimator:cost");
    assert_int_equal(hwnas_estimator_metric_count(e), 6);
    assert_string_equal(hwnas_estimator_metric_name(e, 0), "macs");
    assert_string_equal(hwnas_estimator_metric_unit(e, 0), "MAC");
    assert_int_equal(hwnas_estimator_metric_index(e, "params"), 1);
    assert_int_equal(hwnas_estimator_metric_index(e, "nope"), -1);
    assert_null(hwnas_estimator_metric_name(e, 6));
    hwnas_net *net = small_net();
    double v[6];
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, v), HWNAS_OK);
    assert_true(v[0] == 2304.0);
    assert_true(v[1] == 40.0);
    assert_true(v[5] == 4 * 2304.0);
    assert_int_equal(hwnas_estimator_estimate(e, NULL, NULL, 0, v), HWNAS_EINVAL);
    hwnas_net_free(net);
    hwnas_estimator_free(e);
    hwnas_estimator_free(NULL);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "cell", NULL), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "not an estimator"));
}

static void test_table_small(void **state)
{
    (void)state;
    const char *path = write_file("t.csv", "arch,acc,lat_ms\n"
                                           "\"a,b\",91.5,3\r\n"
                                           "c,80,2.5\n"
                                           "\n"
                                           "d,70,1e-3\n");
    char opts[512];
    snprintf(opts, sizeof opts, "file=%s;key=arch", path);
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "table", opts), HWNAS_OK);
    assert_int_equal(hwnas_estimator_metric_count(e), 2);
    assert_string_equal(hwnas_estimator_metric_name(e, 0), "acc");
    assert_string_equal(hwnas_estimator_metric_name(e, 1), "lat_ms");
    hwnas_net *net = small_net();
    double v[2];
    assert_int_equal(hwnas_estimator_estimate(e, net, "a,b", 0, v), HWNAS_OK);
    assert_true(v[0] == 91.5 && v[1] == 3.0);
    assert_int_equal(hwnas_estimator_estimate(e, net, "d", 0, v), HWNAS_OK);
    assert_true(v[1] == 1e-3);
    assert_int_equal(hwnas_estimator_estimate(e, net, "zz", 0, v), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "no row for 'zz'"));
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, v), HWNAS_EINVAL);
    hwnas_estimator_free(e);

    /* Chosen metrics with units; rows by number when there is no key. */
    snprintf(opts, sizeof opts, "file=%s;metrics=lat_ms:latency_ms:ms", path);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "table", opts), HWNAS_OK);
    assert_int_equal(hwnas_estimator_metric_count(e), 1);
    assert_string_equal(hwnas_estimator_metric_unit(e, 0), "ms");
    assert_int_equal(hwnas_estimator_estimate(e, net, "1", 0, v), HWNAS_OK);
    assert_true(v[0] == 2.5);
    hwnas_estimator_free(e);
    hwnas_net_free(net);
}

/* Column names of any length become metric names whole (they were cut at
 * 127 characters: two long columns alike at the start became one name). */
static void test_table_long_columns(void **state)
{
    (void)state;
    char text[1024], col[2][301];
    for (int i = 0; i < 2; i++) {
        memset(col[i], 'C', 300);
        col[i][299] = (char)('0' + i);
        col[i][300] = '\0';
    }
    snprintf(text, sizeof text, "%s,%s\n1,2\n", col[0], col[1]);
    const char *path = write_file("long.csv", text);
    char opts[512];
    snprintf(opts, sizeof opts, "file=%s", path);
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "table", opts), HWNAS_OK);
    assert_int_equal(hwnas_estimator_metric_count(e), 2);
    for (int i = 0; i < 2; i++) {
        const char *name = hwnas_estimator_metric_name(e, (size_t)i);
        assert_int_equal(strlen(name), 300);
        assert_int_equal(name[299], '0' + i);
    }
    hwnas_estimator_free(e);
}

static void expect_table_error(const char *csv_text, const char *extra, int code,
                               const char *needle)
{
    const char *path = write_file("bad.csv", csv_text);
    char opts[512];
    snprintf(opts, sizeof opts, "file=%s;%s", path, extra);
    hwnas_estimator *e = (hwnas_estimator *)0x1;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "table", opts), code);
    assert_null(e);
    if (!strstr(hwnas_error_last(), needle))
        fail_msg("message \"%s\" lacks \"%s\"", hwnas_error_last(), needle);
}

static void test_table_errors(void **state)
{
    (void)state;
    expect_table_error("k,v\na,1\nb\n", "key=k", HWNAS_EFORMAT, "bad.csv:3: 1 fields");
    expect_table_error("k,v\na,1\nb,x\n", "key=k;metrics=v:v", HWNAS_EFORMAT,
                       "bad.csv:3: column 'v' = 'x' is not a number");
    /* non-finite figures are refused, found by the column as every number is */
    expect_table_error("k,v\na,1\nb,nan\n", "key=k", HWNAS_EFORMAT,
                       "bad.csv:3: column 'v' = 'nan' is not a finite number");
    expect_table_error("k,v\na,-inf\n", "key=k;metrics=v:v", HWNAS_EFORMAT,
                       "bad.csv:2: column 'v' = '-inf' is not a finite number");
    expect_table_error("k,v\na,1e999\n", "key=k", HWNAS_EFORMAT,
                       "bad.csv:2: column 'v' = '1e999' is not a finite number");
    expect_table_error("k,v\na,1,\n", "key=k", HWNAS_EFORMAT, "bad.csv:2:");
    expect_table_error("k,v\na,1\na,2\n", "key=k", HWNAS_EFORMAT, "key 'a' appears twice");
    expect_table_error("k,v\n\"a,1\n", "key=k", HWNAS_EFORMAT, "unterminated quoted field");
    expect_table_error("k,v\na,1\n", "key=kk", HWNAS_ENOTFOUND, "no key column 'kk'");
    expect_table_error("k,v\na,1\n", "key=k;metrics=w:w", HWNAS_ENOTFOUND, "no column 'w'");
    expect_table_error("k,v\na,1\n", "key=k;metrics=v", HWNAS_EINVAL, "column:metric");
    expect_table_error("", "", HWNAS_EFORMAT, "empty file");
    expect_table_error("k,s\na,x\n", "key=k", HWNAS_EFORMAT, "no numeric column");
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "table", NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "'file' is required"));
    assert_int_equal(hwnas_estimator_new(&e, ctx, "table", "file=/nonexistent/x.csv"),
                     HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "/nonexistent/x.csv"));
}

static const char *shared_file(const char *name, char *buf, size_t size)
{
    const char *dir = getenv("HWNAS_SHARED_DIR");
    snprintf(buf, size, "%s/data/benchmarks/%s", dir ? dir : "../shared", name);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

static void test_table_real_benchmarks(void **state)
{
    (void)state;
    char acc[512], lat[512];
    if (!shared_file("nb201_nats_tss_test_acc_200ep.csv", acc, sizeof acc) ||
        !shared_file("nb201_latency_hwnasbench_cifar10_via_help.csv", lat, sizeof lat)) {
        print_message("benchmark tables not found under HWNAS_SHARED_DIR: skipped\n");
        skip();
    }
    char opts[1200];
    snprintf(opts, sizeof opts,
             "file=%s;key=ArchitectureString;metrics=CIFAR10TestAccuracy200Epochs:accuracy:%%",
             acc);
    hwnas_estimator *a, *l;
    assert_int_equal(hwnas_estimator_new(&a, ctx, "table", opts), HWNAS_OK);
    snprintf(opts, sizeof opts,
             "file=%s;key=arch_idx;index_file=%s;metrics=eyeriss_latency_ms:latency_ms:ms,"
             "pixel3_latency_ms:pixel3_ms:ms",
             lat, acc);
    assert_int_equal(hwnas_estimator_new(&l, ctx, "table", opts), HWNAS_OK);
    hwnas_net *net = small_net();
    /* Row 0 of both files (the benchmark's arch 0). */
    const char *arch0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|"
                        "skip_connect~1|skip_connect~2|";
    double v[2];
    assert_int_equal(hwnas_estimator_estimate(a, net, arch0, 0, v), HWNAS_OK);
    assert_true(fabs(v[0] - 85.86333333333334) < 1e-9);
    assert_int_equal(hwnas_estimator_estimate(l, net, arch0, 0, v), HWNAS_OK);
    assert_true(fabs(v[0] - 3.645620000000001) < 1e-12);
    assert_true(fabs(v[1] - 3.6058499999999998) < 1e-12);
    /* The best CIFAR-10 cell of the table. */
    const char *best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
                       "nor_conv_3x3~1|nor_conv_3x3~2|";
    assert_int_equal(hwnas_estimator_estimate(a, net, best, 0, v), HWNAS_OK);
    assert_true(v[0] > 94.3 && v[0] < 94.4);
    hwnas_net_free(net);
    hwnas_estimator_free(a);
    hwnas_estimator_free(l);
}

typedef struct roofline {
    int calls;
    int fail;
} roofline;

static int roofline_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                       void *user_data)
{
    (void)key;
    roofline *r = user_data;
    r->calls++;
    if (r->fail == 1) {
        hwnas_estimator_set_error("net too large for the device");
        return 1;
    }
    if (r->fail == 2)
        return 7;
    values[0] = (double)hwnas_net_macs(net) / 1e6;
    values[1] = (double)stream;
    return 0;
}

static void test_custom(void **state)
{
    (void)state;
    roofline r = {0, 0};
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "roofline", "latency_ms:ms,stream",
                                                roofline_cb, &r),
                     HWNAS_OK);
    assert_string_equal(hwnas_estimator_kind(e), "custom:roofline");
    assert_null(hwnas_estimator_options(e));
    assert_int_equal(hwnas_estimator_metric_count(e), 2);
    assert_string_equal(hwnas_estimator_metric_unit(e, 0), "ms");
    assert_string_equal(hwnas_estimator_metric_unit(e, 1), "");
    hwnas_net *net = small_net();
    double v[2];
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 42, v), HWNAS_OK);
    assert_true(v[0] == 2304 / 1e6 && v[1] == 42.0);
    r.fail = 1;
    assert_int_equal(hwnas_estimator_estimate(e, net, "k1", 0, v), HWNAS_EUSER);
    assert_non_null(strstr(hwnas_error_last(), "custom:roofline failed for k1: net too large"));
    r.fail = 2;
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 0, v), HWNAS_EUSER);
    assert_non_null(strstr(hwnas_error_last(), "returned non-zero"));
    assert_int_equal(r.calls, 3);
    hwnas_net_free(net);
    hwnas_estimator_free(e);
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "x", "Bad-Name:ms", roofline_cb, &r),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "Bad-Name"));
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "x", "", roofline_cb, &r), HWNAS_EINVAL);
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "x", "a,a", roofline_cb, &r),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "listed twice"));
    assert_int_equal(hwnas_estimator_new_custom(&e, ctx, "x", "a", NULL, &r), HWNAS_EINVAL);
}


static hwnas_net *zoo(const char *name)
{
    const char *root = getenv("HWNAS_SOURCE_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/nets/%s", root ? root : ".", name);
    hwnas_net *net = NULL;
    if (hwnas_net_load(&net, ctx, path) != HWNAS_OK)
        fail_msg("%s: %s", path, hwnas_error_last());
    return net;
}

static void test_energy(void **state)
{
    (void)state;
    hwnas_net *alexnet = zoo("alexnet.net");
    hwnas_estimator *noreuse, *reuse;
    assert_int_equal(hwnas_estimator_new(&noreuse, ctx, "energy", "reuse=false"), HWNAS_OK);
    assert_int_equal(hwnas_estimator_new(&reuse, ctx, "energy", NULL), HWNAS_OK);
    assert_int_equal(hwnas_estimator_metric_index(reuse, "energy_uj"), 0);
    int64_t dram = hwnas_estimator_metric_index(reuse, "dram_accesses");
    double a[7], b[7];
    assert_int_equal(hwnas_estimator_estimate(noreuse, alexnet, NULL, 0, a), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(reuse, alexnet, NULL, 0, b), HWNAS_OK);
    /* No reuse: 4 DRAM accesses per MAC (2,896 M for AlexNet's 724 M MACs). */
    assert_true(a[dram] == 4.0 * (double)hwnas_net_macs(alexnet));
    assert_true(a[dram] > 2.85e9 && a[dram] < 2.95e9);
    /* With the default buffers: tens of millions, over an order of magnitude less. */
    assert_true(b[dram] > 1e7 && b[dram] < 2e8 && b[dram] * 20 < a[dram]);
    assert_true(b[0] < a[0]);
    assert_true(fabs(b[0] - b[1] - b[2]) < 1e-9 * b[0]);
    /* A cheaper multiplier on every layer cuts MAC energy at int8. */
    hwnas_net *cheap = zoo("fmnist_ref.net");
    hwnas_net *exact8 = zoo("fmnist_ref.net");
    for (size_t i = 0; i < hwnas_net_node_count(cheap); i++)
        if (hwnas_net_node_multiplier(cheap, i)) {
            assert_int_equal(hwnas_net_set_multiplier(cheap, i, "drum:k=4", 8), HWNAS_OK);
            assert_int_equal(hwnas_net_set_multiplier(exact8, i, NULL, 8), HWNAS_OK);
        }
    double c[7], d[7], f[7];
    hwnas_net *fp32 = zoo("fmnist_ref.net");
    assert_int_equal(hwnas_estimator_estimate(reuse, cheap, NULL, 0, c), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(reuse, exact8, NULL, 0, d), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(reuse, fp32, NULL, 0, f), HWNAS_OK);
    assert_true(c[1] < d[1] && d[1] < f[1]);
    assert_true(d[2] < f[2]); /* 8-bit words move less */
    assert_int_equal(hwnas_net_set_multiplier(cheap, 1, "no_such_multiplier", 8), HWNAS_OK);
    assert_int_not_equal(hwnas_estimator_estimate(reuse, cheap, NULL, 0, c), HWNAS_OK);
    assert_non_null(strstr(hwnas_error_last(), "node 1"));
    /* an imported table without figures has no energy, and one of absurd
     * power none that is finite: errors, not NaN or infinity */
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_new(&m, ctx, "drum:k=4"), HWNAS_OK);
    char path[300], opts[400];
    snprintf(path, sizeof path, "%s/nopower.bin", tmpdir);
    assert_int_equal(hwnas_axmul_save(m, path, "bin"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_set_name(m, "huge"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_set_cost(m, 1e308, 1), HWNAS_OK);
    snprintf(path, sizeof path, "%s/huge.axmul", tmpdir);
    assert_int_equal(hwnas_axmul_save(m, path, "text"), HWNAS_OK);
    hwnas_axmul_free(m);
    hwnas_estimator *imp = NULL;
    snprintf(opts, sizeof opts, "axmul_dir=\"%s\"", tmpdir);
    if (hwnas_estimator_new(&imp, ctx, "energy", opts) != HWNAS_OK)
        fail_msg("%s", hwnas_error_last());
    assert_int_equal(hwnas_net_set_multiplier(cheap, 1, "nopower", 8), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(imp, cheap, NULL, 0, c), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "multiplier 'nopower' has no known power"));
    assert_int_equal(hwnas_net_set_multiplier(cheap, 1, "huge", 8), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(imp, cheap, NULL, 0, c), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "overflows"));
    hwnas_estimator_free(imp);
    remove(path);
    snprintf(path, sizeof path, "%s/nopower.bin", tmpdir);
    remove(path);
    hwnas_net_free(alexnet);
    hwnas_net_free(cheap);
    hwnas_net_free(exact8);
    hwnas_net_free(fp32);
    hwnas_estimator_free(noreuse);
    hwnas_estimator_free(reuse);
}

static void test_hardware_files(void **state)
{
    (void)state;
    char opts[512];
    hwnas_estimator *e;
    const char *p = write_file("hw.txt", "# a smaller chip\nhwnas-hw 1\ngb_kib = 16\n"
                                         "norm_dram = 100  # cheaper DRAM\n");
    snprintf(opts, sizeof opts, "hardware=%s", p);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "energy", opts), HWNAS_OK);
    hwnas_estimator_free(e);
    struct {
        const char *text;
        int code;
        const char *needle;
    } bad[] = {
        {"hwnas-hw 2\n", HWNAS_EVERSION, "hw.txt:1: expected the header 'hwnas-hw 1'"},
        {"hello\n", HWNAS_EFORMAT, "hw.txt:1:"},
        {"hwnas-hw 1\ngb_kib 16\n", HWNAS_EFORMAT, "hw.txt:2: expected 'key = value'"},
        {"hwnas-hw 1\n\nwarp = 9\n", HWNAS_EFORMAT, "hw.txt:3: unknown key 'warp'"},
        {"hwnas-hw 1\nnorm_rf = -1\n", HWNAS_EFORMAT, "not a non-negative number"},
        {"hwnas-hw 1\npe_rows = 0\n", HWNAS_EFORMAT, "pe_rows"},
        {"", HWNAS_EFORMAT, "empty file"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        p = write_file("hw.txt", bad[i].text);
        snprintf(opts, sizeof opts, "hardware=%s", p);
        e = (hwnas_estimator *)0x1;
        assert_int_equal(hwnas_estimator_new(&e, ctx, "energy", opts), bad[i].code);
        assert_null(e);
        if (!strstr(hwnas_error_last(), bad[i].needle))
            fail_msg("\"%s\" lacks \"%s\"", hwnas_error_last(), bad[i].needle);
    }
}

static void test_accuracy_trains_for_real(void **state)
{
    (void)state;
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0) {
        print_message("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): "
                      "skipped\n");
        skip();
    }
    hwnas_estimator *e;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accuracy",
                                         "train_subset=2000;val_subset=500;epochs=1;batch=64"),
                     HWNAS_OK);
    assert_int_equal(hwnas_estimator_metric_count(e), 3);
    assert_int_equal(hwnas_estimator_metric_index(e, "test_accuracy"), -1);
    hwnas_net *net = zoo("fmnist_ref.net");
    double a[3], b[3], c[3];
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 7, a), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 7, b), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 8, c), HWNAS_OK);
    assert_true(a[0] > 25.0 && a[0] <= 100.0); /* well above chance (10%) */
    assert_true(a[0] == b[0] && a[1] == b[1]); /* the stream decides everything */
    assert_true(a[1] != c[1]);
    assert_true(a[2] > 0);
    hwnas_estimator_free(e);
    /* int8 accuracy with the net's multipliers, beside the fp32 accuracy. */
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accuracy",
                                         "train_subset=2000;val_subset=500;batch=64;quant=true"),
                     HWNAS_OK);
    assert_int_equal(hwnas_estimator_metric_index(e, "accuracy_q"), 3);
    double q[4];
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 7, q), HWNAS_OK);
    assert_true(q[0] == a[0]);
    assert_true(fabs(q[3] - q[0]) < 5.0);
    hwnas_estimator_free(e);
    /* accuracy_q after a fine-tuning epoch: the fp32 metrics are those
     * before it */
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accuracy",
                                         "train_subset=2000;val_subset=500;batch=64;quant=true;"
                                         "qat_epochs=1"),
                     HWNAS_OK);
    double f[4];
    assert_int_equal(hwnas_estimator_estimate(e, net, NULL, 7, f), HWNAS_OK);
    assert_true(f[0] == q[0] && f[1] == q[1]);
    print_message("accuracy %.2f, accuracy_q %.2f, after a fine-tuning epoch %.2f\n", f[0],
                  q[3], f[3]);
    assert_true(isfinite(f[3]) && f[3] > f[0] - 5.0); /* exact products: one more epoch */
    hwnas_estimator_free(e);
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accuracy", "qat_epochs=1"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "quant=true"));
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accuracy", "data_options=\"dir=/nonexistent\""),
                     HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "dataset-fashion-mnist"));
    hwnas_net_free(net);
}

/* A tiny IDX dataset (n images of 1x6x6, 4 classes) for the accuracy
 * estimator's out-of-memory walk; returns its data_options. */
static const char *tiny_idx(char *opts, size_t size)
{
    enum { N = 48, H = 6 };
    uint8_t img[16 + N * H * H], lab[8 + N];
    const uint8_t ih[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, H, 0, 0, 0, H};
    const uint8_t lh[8] = {0, 0, 8, 1, 0, 0, 0, N};
    memcpy(img, ih, 16);
    memcpy(lab, lh, 8);
    for (int s = 0; s < N; s++) {
        lab[8 + s] = (uint8_t)(s % 4);
        for (int k = 0; k < H * H; k++)
            img[16 + s * H * H + k] = (uint8_t)((k % 4 == s % 4 ? 200 : 20) + (s * 7 + k) % 30);
    }
    char ip[256], lp[256];
    snprintf(ip, sizeof ip, "%s/tiny-images.idx", tmpdir);
    snprintf(lp, sizeof lp, "%s/tiny-labels.idx", tmpdir);
    FILE *f = fopen(ip, "wb");
    assert_non_null(f);
    fwrite(img, 1, sizeof img, f);
    fclose(f);
    f = fopen(lp, "wb");
    assert_non_null(f);
    fwrite(lab, 1, sizeof lab, f);
    fclose(f);
    snprintf(opts, size,
             "dataset=idx;data_options=\"images=%s;labels=%s;classes=4\";val_fraction=0.25;"
             "batch=8;quant=true",
             ip, lp);
    return opts;
}

static void test_oom(void **state)
{
    (void)state;
    const char *path = write_file("oom.csv", "k,v,w\na,1,2\nb,3,4\nc,5,6\n");
    char opts[512];
    snprintf(opts, sizeof opts, "file=%s;key=k;index_file=;metrics=v:v:ms,w:w", path);
    test_alloc t;
    hwnas_context *c = test_alloc_context(&t, "threads=1");
    long base = t.live;
    char acc_opts[1024];
    tiny_idx(acc_opts, sizeof acc_opts);
    hwnas_net *tiny = NULL;
    assert_int_equal(hwnas_net_parse(&tiny, ctx,
                                     "hwnas-net 1\nx = input(shape=1x6x6)\nconv(out=4, k=3, "
                                     "pad=1)\nbn\nrelu\ngap\nlinear(out=4)\n",
                                     "tiny"),
                     HWNAS_OK);
    for (int which = 0; which < 5; which++) {
        for (long n = 0;; n++) {
            test_alloc_fail_from(&t, n);
            hwnas_estimator *e = NULL;
            roofline r = {0, 0};
            int rc = which == 0   ? hwnas_estimator_new(&e, c, "table", opts)
                     : which == 1 ? hwnas_estimator_new(&e, c, "cost", NULL)
                     : which == 2 ? hwnas_estimator_new(&e, c, "energy", NULL)
                     : which == 3 ? hwnas_estimator_new_custom(&e, c, "r", "a:ms,b:s",
                                                               roofline_cb, &r)
                                  : hwnas_estimator_new(&e, c, "accuracy", acc_opts);
            /* Training and int8 evaluation allocate too: walk them as well. */
            double v[4];
            if (rc == HWNAS_OK && which == 4)
                rc = hwnas_estimator_estimate(e, tiny, NULL, 1, v);
            hwnas_estimator_free(e);
            test_alloc_disarm(&t);
            assert_int_equal(t.live, base);
            if (rc == HWNAS_OK)
                break;
            assert_int_equal(rc, HWNAS_ENOMEM);
        }
    }
    hwnas_net_free(tiny);
    hwnas_context_free(c);
    assert_int_equal(t.live, 0);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("estimator/oom", tests, setup, teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_table_long_columns),
        cmocka_unit_test(test_table_small),
        cmocka_unit_test(test_table_errors),
        cmocka_unit_test(test_table_real_benchmarks),
        cmocka_unit_test(test_custom),
        cmocka_unit_test(test_energy),
        cmocka_unit_test(test_hardware_files),
        cmocka_unit_test(test_accuracy_trains_for_real),
    };
    return cmocka_run_group_tests_name("estimator", tests, setup, teardown);
}
