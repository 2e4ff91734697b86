/* Search spaces: the generic API and space:cell against NAS-Bench-201. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "space/space_internal.h"
#include "test_alloc.h"

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

static void test_cell_genes(void **state)
{
    (void)state;
    hwnas_space *s = NULL;
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", NULL), HWNAS_OK);
    assert_string_equal(hwnas_space_kind(s), "space:cell");
    assert_int_equal(hwnas_space_gene_count(s), 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(hwnas_space_gene_cardinality(s, i), 5);
        assert_int_equal(hwnas_space_gene_ordinal(s, i), 0);
    }
    assert_string_equal(hwnas_space_gene_name(s, 0), "edge_1_0");
    assert_string_equal(hwnas_space_gene_name(s, 5), "edge_3_2");
    assert_null(hwnas_space_gene_name(s, 6));
    assert_int_equal(hwnas_space_gene_cardinality(s, 6), 0);
    assert_true(hwnas_space_size_log10(s) > 4.19 && hwnas_space_size_log10(s) < 4.20);
    int64_t channels;
    assert_int_equal(hwnas_options_get_int(hwnas_space_options(s), "channels", &channels),
                     HWNAS_OK);
    assert_int_equal(channels, 16);
    hwnas_space_free(s);
    hwnas_space_free(NULL);
}

static void test_new_errors(void **state)
{
    (void)state;
    hwnas_space *s = (hwnas_space *)0x1;
    assert_int_equal(hwnas_space_new(&s, ctx, "nope", NULL), HWNAS_ENOTFOUND);
    assert_null(s);
    assert_int_equal(hwnas_space_new(&s, ctx, "context", NULL), HWNAS_ENOTFOUND);
    assert_non_null(strstr(hwnas_error_last(), "not a space"));
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", "chanels=8"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "did you mean 'channels'"));
    assert_int_equal(hwnas_space_new(NULL, ctx, "cell", NULL), HWNAS_EINVAL);
}

static void test_cell_string_round_trip(void **state)
{
    (void)state;
    hwnas_space *s;
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", NULL), HWNAS_OK);
    const char *arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
                       "nor_conv_3x3~1|skip_connect~2|";
    uint32_t g[6];
    assert_int_equal(hwnas_space_parse(s, arch, g), HWNAS_OK);
    uint32_t want[6] = {3, 3, 4, 1, 3, 1};
    assert_memory_equal(g, want, sizeof want);
    char *text = NULL;
    assert_int_equal(hwnas_space_format(s, g, &text), HWNAS_OK);
    assert_string_equal(text, arch);
    hwnas_free(text);
    /* Errors name the position and leave genes alone. */
    uint32_t keep[6] = {0, 1, 2, 3, 4, 0};
    memcpy(g, keep, sizeof g);
    assert_int_equal(hwnas_space_parse(s, "|nor_conv_5x5~0|+", g), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "position 2"));
    assert_int_equal(hwnas_space_parse(s, "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", g),
                     HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "'~0'"));
    assert_int_equal(hwnas_space_parse(s, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|x", g),
                     HWNAS_EFORMAT);
    assert_memory_equal(g, keep, sizeof keep);
    hwnas_space_free(s);
}

static void test_generic_operators(void **state)
{
    (void)state;
    hwnas_space *s;
    hwnas_rng *rng;
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", NULL), HWNAS_OK);
    assert_int_equal(hwnas_rng_new(&rng, ctx, 1, 0), HWNAS_OK);
    assert_int_equal(hwnas_space_has_operator(s, HWNAS_SPACE_OP_MUTATE), 0);
    long counts[6][5];
    memset(counts, 0, sizeof counts);
    uint32_t g[6], c[6], d[6];
    for (int k = 0; k < 10000; k++) {
        assert_int_equal(hwnas_space_sample(s, rng, g), HWNAS_OK);
        for (int i = 0; i < 6; i++)
            counts[i][g[i]]++;
        assert_int_equal(hwnas_space_mutate(s, rng, g, c, 0), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, c), HWNAS_OK);
        assert_memory_not_equal(g, c, sizeof g); /* a mutant always differs */
        assert_int_equal(hwnas_space_crossover(s, rng, g, c, d, NULL), HWNAS_OK);
        for (int i = 0; i < 6; i++)
            assert_true(d[i] == g[i] || d[i] == c[i]);
    }
    for (int i = 0; i < 6; i++)
        for (int v = 0; v < 5; v++)
            assert_true(counts[i][v] > 1800 && counts[i][v] < 2200); /* uniform: 2000 +- 5 sd */
    /* Rate 1 changes every gene. */
    assert_int_equal(hwnas_space_mutate(s, rng, g, c, 1.0), HWNAS_OK);
    for (int i = 0; i < 6; i++)
        assert_int_not_equal(g[i], c[i]);
    /* In-place mutation works. */
    memcpy(c, g, sizeof g);
    assert_int_equal(hwnas_space_mutate(s, rng, c, c, 0), HWNAS_OK);
    assert_memory_not_equal(g, c, sizeof g);
    uint32_t bad[6] = {0, 0, 5, 0, 0, 0};
    assert_int_equal(hwnas_space_mutate(s, rng, bad, c, 0), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "gene 2 (edge_2_1) = 5"));
    assert_int_equal(hwnas_space_mutate(s, rng, g, c, 1.5), HWNAS_EINVAL);
    hwnas_rng_free(rng);
    hwnas_space_free(s);
}

/* Read the NAS-Bench-201 table: arch strings and UniqueString keys. */
typedef struct nb201 {
    char arch[15625][160];
    char unique[15625][400];
} nb201;

static nb201 *load_nb201(void)
{
    const char *shared = getenv("HWNAS_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/data/benchmarks/nb201_nats_tss_test_acc_200ep.csv",
             shared ? shared : "../shared");
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    nb201 *t = calloc(1, sizeof *t);
    char line[1024];
    if (!t || !fgets(line, sizeof line, f)) {
        fclose(f);
        free(t);
        return NULL;
    }
    for (int i = 0; i < 15625 && fgets(line, sizeof line, f); i++) {
        line[strcspn(line, "\r\n")] = 0;
        char *field[5];
        char *p = line;
        for (int k = 0; k < 5; k++) {
            field[k] = p;
            p = strchr(p, ',');
            if (p && k < 4)
                *p++ = 0;
        }
        snprintf(t->arch[i], sizeof t->arch[i], "%s", field[3]);
        snprintf(t->unique[i], sizeof t->unique[i], "%s", field[4]);
    }
    fclose(f);
    return t;
}

static void test_cell_against_nas_bench_201(void **state)
{
    (void)state;
    nb201 *t = load_nb201();
    if (!t) {
        print_message("NAS-Bench-201 table not found under HWNAS_SHARED_DIR: skipped\n");
        skip();
    }
    hwnas_space *s;
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", NULL), HWNAS_OK);
    static uint64_t hash[15625];
    static int seen[15625];
    for (int i = 0; i < 15625; i++) {
        uint32_t g[6];
        assert_int_equal(hwnas_space_parse(s, t->arch[i], g), HWNAS_OK);
        /* The index is the benchmark's shuffled one: every genotype appears once. */
        int code = 0;
        for (int e = 0; e < 6; e++)
            code = code * 5 + (int)g[e];
        assert_int_equal(seen[code], 0);
        seen[code] = 1;
        char *text;
        assert_int_equal(hwnas_space_format(s, g, &text), HWNAS_OK);
        assert_string_equal(text, t->arch[i]);
        hwnas_free(text);
        hwnas__strbuf u;
        hwnas__strbuf_init(&u, ctx);
        assert_int_equal(hwnas__cell_unique_string(ctx, g, &u), HWNAS_OK);
        assert_string_equal(u.data, t->unique[i]);
        hwnas__strbuf_release(&u);
        assert_int_equal(hwnas_space_hash(s, g, &hash[i]), HWNAS_OK);
    }
    /* Hashes group the cells exactly as the UniqueString column does. */
    long classes = 0;
    for (int i = 0; i < 15625; i++) {
        int first = 1;
        for (int j = 0; j < i && first; j++)
            if (strcmp(t->unique[i], t->unique[j]) == 0) {
                first = 0;
                assert_true(hash[i] == hash[j]);
            }
        classes += first;
    }
    assert_int_equal(classes, 6466);
    /* Distinct keys never share a hash. */
    for (int i = 0; i < 15625; i++)
        for (int j = 0; j < i; j++)
            if (hash[i] == hash[j])
                assert_string_equal(t->unique[i], t->unique[j]);
    hwnas_space_free(s);
    free(t);
}

static void test_cell_decode(void **state)
{
    (void)state;
    hwnas_space *s;
    hwnas_net *net;
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", NULL), HWNAS_OK);
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    /* The largest cell: NAS-Bench-201 reports 220.11 M FLOPs (MACs) and
     * 1.532 M parameters for CIFAR-10. */
    uint32_t all_conv3[6] = {3, 3, 3, 3, 3, 3};
    assert_int_equal(hwnas_space_decode(s, all_conv3, net), HWNAS_OK);
    double macs = (double)hwnas_net_macs(net), params = (double)hwnas_net_params(net);
    assert_true(macs > 220.11e6 * 0.99 && macs < 220.11e6 * 1.01);
    assert_true(params > 1.532e6 * 0.99 && params < 1.532e6 * 1.01);
    /* The smallest: all skips and pools, only stem, reductions, classifier. */
    uint32_t no_conv[6] = {1, 4, 1, 0, 4, 1};
    assert_int_equal(hwnas_space_decode(s, no_conv, net), HWNAS_OK);
    assert_true(hwnas_net_macs(net) < macs / 5);
    /* Every genotype decodes; the output is always the classifier. */
    uint32_t g[6];
    for (int code = 0; code < 15625; code++) {
        int c = code;
        for (int e = 5; e >= 0; e--, c /= 5)
            g[e] = (uint32_t)(c % 5);
        assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
        size_t n = hwnas_net_node_count(net);
        assert_int_equal(hwnas_net_node_kind(net, n - 1), HWNAS_NET_LINEAR);
        int64_t dims[4];
        assert_int_equal(hwnas_net_node_shape(net, n - 1, dims), 2);
        assert_int_equal(dims[1], 10);
    }
    uint32_t bad[6] = {9, 0, 0, 0, 0, 0};
    assert_int_equal(hwnas_space_decode(s, bad, net), HWNAS_EINVAL);
    assert_int_equal(hwnas_net_node_count(net), 0);
    hwnas_net_free(net);
    hwnas_space_free(s);
}

/* The spaces' shared builder (lib/space/builder.c): layers in sequence,
 * the first failure kept, attributes of any length, multipliers. */
static void test_builder(void **state)
{
    (void)state;
    hwnas_net *net;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    hwnas__builder b;
    hwnas__build_init(&b, net, 8, NULL);
    int64_t x = hwnas__build_input(&b, 3, 8, 8);
    int64_t c = hwnas__build_conv(&b, x, 4, 3, 2, 0);
    int64_t t[2] = {c, hwnas__build_dwconv(&b, c, 3, 1, 1)};
    assert_int_equal(hwnas__build_add(&b, t, 1), c);
    int64_t a = hwnas__build_add(&b, t, 2);
    int64_t ch, h;
    hwnas__build_shape(&b, a, &ch, &h);
    assert_true(ch == 4 && h == 4);
    /* attributes 3,000 characters long arrive whole: the stride after
     * the blanks is read (a fixed buffer would have cut it off: stride 1) */
    int64_t d = hwnas__build_opf(&b, "avgpool", a, "k=2,%3000s s=2", "");
    int64_t sh = 0;
    assert_int_equal(hwnas_net_node_attr(&sh, net, (size_t)d, "sh"), HWNAS_OK);
    assert_int_equal(sh, 2);
    /* and a bad one at the end is an error */
    assert_int_equal(hwnas__build_opf(&b, "avgpool", d, "k=1,%3000s bogus=1", ""), -1);
    assert_int_equal(b.rc, HWNAS_EINVAL);
    assert_int_equal(hwnas__build_finish(&b, "space:test"), HWNAS_EINVALID);
    assert_non_null(strstr(hwnas_error_last(), "space:test: "));
    /* after a failure, nothing more is added */
    size_t n = hwnas_net_node_count(net);
    assert_int_equal(hwnas__build_op(&b, "relu", d, NULL), -1);
    assert_int_equal(hwnas_net_node_count(net), n);
    /* multipliers: exact at 8 bits is set, exact at 32 bits left as made */
    b.rc = HWNAS_OK;
    hwnas__build_multiplier(&b, 0, "exact");
    assert_int_equal(b.rc, HWNAS_OK);
    assert_int_equal(hwnas_net_node_bits(net, (size_t)c), 8);
    b.bits = 32;
    int64_t c2 = hwnas__build_conv(&b, d, 2, 1, 1, 0);
    hwnas__build_multiplier(&b, (size_t)c2, "exact");
    assert_int_equal(hwnas_net_node_bits(net, (size_t)c2), 32);
    assert_int_equal(hwnas__build_finish(&b, "space:test"), HWNAS_OK);
    hwnas_net_free(net);

    /* gene names of any length are kept whole (they were cut at 63) */
    hwnas_space *s;
    assert_int_equal(hwnas_space_new(&s, ctx, "cell", NULL), HWNAS_OK);
    char longname[201];
    memset(longname, 'g', 200);
    longname[200] = '\0';
    hwnas__free(ctx, s->gene_names[0]);
    assert_int_equal(hwnas__space_gene(s, 0, 5, 0, "%s.%d", longname, 7), HWNAS_OK);
    assert_int_equal(strlen(hwnas_space_gene_name(s, 0)), 202);
    assert_string_equal(hwnas_space_gene_name(s, 0) + 200, ".7");
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
        int rc = hwnas_space_new(&s, c, "cell", "channels=8");
        uint64_t h = 0;
        uint32_t g[6] = {3, 1, 2, 0, 4, 3};
        if (rc == HWNAS_OK)
            rc = hwnas_space_hash(s, g, &h);
        char *text = NULL;
        if (rc == HWNAS_OK)
            rc = hwnas_space_format(s, g, &text);
        hwnas_free(text);
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
        return cmocka_run_group_tests_name("space/oom", tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_genes),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_cell_string_round_trip),
        cmocka_unit_test(test_generic_operators),
        cmocka_unit_test(test_cell_against_nas_bench_201),
        cmocka_unit_test(test_cell_decode),
        cmocka_unit_test(test_builder),
    };
    return cmocka_run_group_tests_name("space", tests, setup, teardown);
}
