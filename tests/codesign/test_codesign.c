/*
 * Co-design (issue 16, first half): hardware templates and their errors,
 * space:accelerator, the NET+accelerator composites, estimates on a
 * candidate's hardware, and the inner search of nested co-design; with
 * out-of-memory walks.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "accel/accel_internal.h"
#include "hwnas/hwnas.h"
#include "search/codesign.h"
#include "test_oom.h"
#include "test_files.h"
#include "test_tmpdir.h"

static hwnas_context *ctx;
static char root[512];

/* The Eyeriss-like point of the built-in template: eyeriss_45nm_int8.hw. */
static const char eyeriss_point[] =
    "clock_mhz=200;pe_rows=12;pe_cols=14;data_bits=8;dataflow=row_stationary;"
    "global_buffer.words=131072;ifmap_spad.words=24;weights_spad.words=384;"
    "psum_spad.words=16;multiplier=exact";

static const char small_net[] = "hwnas-net 1\nx = input(shape=3x16x16)\n"
                                "conv(out=8, k=3, pad=1)\nrelu\n"
                                "conv(out=16, k=3, s=2, pad=1)\nrelu\n"
                                "gap\nlinear(out=10)\n";

/* A small template: two lists (the PE array's columns and the buffer). */
static const char tiny_template[] = "hwnas-hwt 1\n"
                                    "name = tiny\n"
                                    "pe_rows = 4\n"
                                    "pe_cols = 2 | 4\n"
                                    "[level DRAM]\n"
                                    "word_bits = data\n"
                                    "read_pj = 100\nwrite_pj = 100\nupdate_pj = 100\n"
                                    "[level buffer]\n"
                                    "words = 256 | 1024\n"
                                    "word_bits = data\n"
                                    "read_pj = 2\nwrite_pj = 2\nupdate_pj = 2\n"
                                    "area_um2 = 1000\n"
                                    "spatial_x = M\nspatial_y = C\n"
                                    "[level rf]\n"
                                    "instances = pe_array\n"
                                    "words = 16\n"
                                    "word_bits = psum\n"
                                    "read_pj = 0.1\nwrite_pj = 0.1\nupdate_pj = 0.1\n"
                                    "[mac]\n"
                                    "mul_pj = 0.2\nadd_pj = 0.05\narea_um2 = 300\n";

static int setup(void **state)
{
    (void)state;
    const char *r = getenv("HWNAS_SOURCE_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    if (test_tmpdir_make("hwnas-codesign") != 0)
        return -1;
    return hwnas_context_new(&ctx, "threads=1");
}

static int teardown(void **state)
{
    (void)state;
    hwnas_context_free(ctx);
    return test_tmpdir_remove();
}

static hwnas_space *space(const char *kind, const char *options)
{
    hwnas_space *s = NULL;
    int rc = hwnas_space_new(&s, ctx, kind, options);
    if (rc != HWNAS_OK)
        fail_msg("%s: %s", kind, hwnas_error_last());
    return s;
}

static hwnas_net *net_of(const char *text)
{
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, text, "test"), HWNAS_OK);
    return net;
}

static char *slurp(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *buf = test_slurp(path, NULL);
    assert_non_null(buf);
    return buf;
}

static double figure(const hwnas_accel_result *r, const char *name)
{
    double v = NAN;
    assert_int_equal(hwnas_accel_result_metric(&v, r, -1, name), HWNAS_OK);
    return v;
}

/* ---- templates ------------------------------------------------------- */

static void test_builtin_template_is_the_example(void **state)
{
    (void)state;
    char *text = slurp("examples/hardware/eyeriss_space.hwt");
    assert_string_equal(hwnas__accel_builtin("eyeriss-45nm-space"), text);
    free(text);
}

/* The Eyeriss-like point is eyeriss_45nm_int8.hw, key for key. */
static void test_eyeriss_point(void **state)
{
    (void)state;
    hwnas_space *s = space("space:accelerator", NULL);
    uint32_t g[16];
    assert_int_equal(hwnas_space_parse(s, eyeriss_point, g), HWNAS_OK);
    hwnas_accel *a = NULL, *ref = NULL;
    assert_int_equal(hwnas_space_decode_accel(&a, s, g), HWNAS_OK);
    assert_int_equal(hwnas_accel_parse(&ref, ctx, hwnas__accel_builtin("eyeriss-45nm-int8"),
                                       "ref", NULL),
                     HWNAS_OK);
    char *ta = NULL, *tr = NULL;
    assert_int_equal(hwnas_accel_format(a, &ta), HWNAS_OK);
    assert_int_equal(hwnas_accel_format(ref, &tr), HWNAS_OK);
    /* the same text but for the name */
    const char *ba = strchr(ta, '\n') + 1, *br = strchr(tr, '\n') + 1;
    ba = strchr(ba, '\n') + 1;
    br = strchr(br, '\n') + 1;
    assert_string_equal(ba, br);
    assert_string_equal(hwnas_accel_name(a), "eyeriss-45nm-space");
    assert_float_equal(hwnas_accel_area_mm2(a), hwnas_accel_area_mm2(ref), 1e-12);
    /* the genotype string round-trips */
    char *f = NULL;
    assert_int_equal(hwnas_space_format(s, g, &f), HWNAS_OK);
    assert_string_equal(f, eyeriss_point);
    hwnas_free(f);
    hwnas_free(ta);
    hwnas_free(tr);
    hwnas_accel_free(a);
    hwnas_accel_free(ref);
    hwnas_space_free(s);
}

/* Values scale the reference point's figures as the format page says. */
static void test_scaling(void **state)
{
    (void)state;
    hwnas_space *s = space("space:accelerator", NULL);
    uint32_t g[16], h[16];
    assert_int_equal(hwnas_space_parse(s, eyeriss_point, g), HWNAS_OK);
    hwnas_accel *a = NULL, *b = NULL;
    assert_int_equal(hwnas_space_decode_accel(&a, s, g), HWNAS_OK);
    /* 16-bit data: multiplies x4, adds x2, every access x2 */
    memcpy(h, g, sizeof h);
    h[3] = 1;
    assert_int_equal(hwnas_space_decode_accel(&b, s, h), HWNAS_OK);
    assert_int_equal(b->mul_bits, 16);
    assert_int_equal(b->add_bits, 32);
    assert_int_equal(b->level[4].word_bits, 32); /* psum_spad */
    assert_float_equal(b->mul_pj, 4 * a->mul_pj, 1e-12);
    assert_float_equal(b->add_pj, 2 * a->add_pj, 1e-12);
    assert_float_equal(b->level[0].read_pj, 2 * a->level[0].read_pj, 1e-9);
    assert_float_equal(b->level[1].area_um2, 2 * a->level[1].area_um2, 1e-6);
    assert_true(hwnas_accel_area_mm2(b) > hwnas_accel_area_mm2(a));
    hwnas_accel_free(b);
    /* a buffer twice as large: sqrt(2) per access, twice the area */
    memcpy(h, g, sizeof h);
    h[5] = 3; /* global_buffer.words = 262144 */
    assert_int_equal(hwnas_space_decode_accel(&b, s, h), HWNAS_OK);
    assert_float_equal(b->level[1].words, 262144, 0);
    assert_float_equal(b->level[1].read_pj, sqrt(2) * a->level[1].read_pj, 1e-9);
    assert_float_equal(b->level[1].area_um2, 2 * a->level[1].area_um2, 1e-6);
    hwnas_accel_free(b);
    /* a 16 x 16 array, at twice the clock: leakage per cycle halves */
    memcpy(h, g, sizeof h);
    h[0] = 2;
    h[1] = 2;
    h[2] = 2;
    assert_int_equal(hwnas_space_decode_accel(&b, s, h), HWNAS_OK);
    assert_int_equal(hwnas_accel_mac_count(b), 256);
    assert_int_equal(b->level[2].instances, 256);
    assert_int_equal(b->level[2].mesh_x, 16);
    assert_float_equal(hwnas_accel_clock_mhz(b), 400, 0);
    assert_float_equal(b->level[3].leak_pj, a->level[3].leak_pj / 2, 1e-15);
    hwnas_accel_free(b);
    /* an approximate multiplier at 8 bits; at 16 bits the exact one */
    memcpy(h, g, sizeof h);
    h[9] = 2; /* drum:k=4 */
    assert_int_equal(hwnas_space_decode_accel(&b, s, h), HWNAS_OK);
    assert_string_equal(b->multiplier, "drum:k=4");
    assert_float_equal(b->mul_power, 0.5, 1e-9);
    assert_true(hwnas_accel_area_mm2(b) < hwnas_accel_area_mm2(a));
    hwnas_accel_free(b);
    h[3] = 1;
    assert_int_equal(hwnas_space_decode_accel(&b, s, h), HWNAS_OK);
    assert_string_equal(b->multiplier, "exact");
    hwnas_accel_free(b);
    hwnas_accel_free(a);
    hwnas_space_free(s);
}

static void expect_template_error(const char *text, int code, const char *needle)
{
    hwnas__template *t = NULL;
    int rc = hwnas__template_parse(&t, ctx, text, "bad.hwt", NULL);
    if (rc != code || !strstr(hwnas_error_last(), needle))
        fail_msg("expected %d with \"%s\", got %d: %s\n--- template:\n%s", code, needle, rc,
                 hwnas_error_last(), text);
    assert_null(t);
}

static void test_template_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *needle;
        int code;
    } cases[] = {
        {"", "empty file", HWNAS_EFORMAT},
        {"hwnas-hw 2\n", "a hardware description, not a template", HWNAS_EFORMAT},
        {"hwnas-hwt 2\n", "bad.hwt:1: expected the header 'hwnas-hwt 1'", HWNAS_EVERSION},
        {"hwnas-hwt 1\npe_rows = 8 | 0\n", "bad.hwt:2: pe_rows: 0 is out of range [1, 4096]",
         HWNAS_EFORMAT},
        {"hwnas-hwt 1\npe_cols = 8 | 12.5\n", "bad.hwt:2: pe_cols: '12.5' is not a whole",
         HWNAS_EFORMAT},
        {"hwnas-hwt 1\nclock_mhz = 200 | nan\n", "bad.hwt:2: clock_mhz: 'nan' is not a number",
         HWNAS_EFORMAT},
        {"hwnas-hwt 1\nclock_mhz = inf\n", "'inf' is not a number", HWNAS_EFORMAT},
        {"hwnas-hwt 1\nclock_mhz = 200 | 100\n", "ascending order", HWNAS_EFORMAT},
        {"hwnas-hwt 1\nclock_mhz = 200 || 300\n", "an empty value", HWNAS_EFORMAT},
        {"hwnas-hwt 1\ndata_bits = 8 | 12\n", "12: the data width is 8 or 16", HWNAS_EFORMAT},
        {"hwnas-hwt 1\ndram_gbps = 1 | 2\n", "bad.hwt:2: dram_gbps: '1 | 2': only clock_mhz",
         HWNAS_EFORMAT},
        {"hwnas-hwt 1\nbogus = 1\n", "bad.hwt:2: bogus: unknown key in the top section",
         HWNAS_EFORMAT},
        /* a point whose scaled figures a description could not hold (fuzzed) */
        {"hwnas-hwt 1\ndata_bits = 8 | 16\n[level DRAM]\nword_bits = data\nread_pj = 6e8\n"
         "[mac]\nmul_pj = 1\n",
         "bad.hwt:2: data_bits = 16: bad.hwt: [level DRAM]: read_pj scales to 1.2e+09",
         HWNAS_EFORMAT},
        {"hwnas-hwt 1\n[level DRAM]\nread_pj = 1 | 2\n",
         "bad.hwt:3: read_pj: '1 | 2': only words takes a list", HWNAS_EFORMAT},
        {"hwnas-hwt 1\n[level DRAM]\nread_pj = -1\n", "bad.hwt:3: read_pj: -1 is out of range",
         HWNAS_EFORMAT},
        {"hwnas-hwt 1\n[level DRAM]\nread_pj = 1\n[level buf]\nwords = 1e20 | 1e21\n",
         "bad.hwt:5: words: 1e20 is out of range", HWNAS_EFORMAT},
        {"hwnas-hwt 1\ndataflow = a | b\n[level DRAM]\nread_pj = 1\n[mac]\nmul_pj = 1\n"
         "[dataflow a]\nDRAM.temporal = all\n",
         "bad.hwt:2: dataflow: 'b' has no [dataflow b] section", HWNAS_EFORMAT},
        {"hwnas-hwt 1\ndataflow = a | b\n[level DRAM]\nread_pj = 1\n[mac]\nmul_pj = 1\n"
         "[dataflow c]\n",
         "bad.hwt:7: dataflow 'c' is not listed", HWNAS_EFORMAT},
        {"hwnas-hwt 1\ndataflow = a | a\n", "'a' is listed twice", HWNAS_EFORMAT},
        {"hwnas-hwt 1\ndataflow = a | b\n[level DRAM]\nread_pj = 1\n[mac]\nmul_pj = 1\n"
         "[dataflow a]\nnope.temporal = C\n",
         "bad.hwt:8: nope.temporal: a dataflow's key is LEVEL.KEY", HWNAS_EFORMAT},
        {"hwnas-hwt 1\ndataflow = a | b\n[level DRAM]\nread_pj = 1\n[mac]\nmul_pj = 1\n"
         "[dataflow a]\nDRAM.words = 3\n",
         "a dataflow sets keeps, temporal", HWNAS_EFORMAT},
        {"hwnas-hwt 1\ndataflow = a | b\n[level DRAM]\nread_pj = 1\n[mac]\nmul_pj = 1\n"
         "[dataflow a]\nDRAM.temporal = X\n",
         "bad.hwt:8: temporal: 'X' is not a list of dimensions", HWNAS_EFORMAT},
        {"hwnas-hwt 1\n[level DRAM]\nread_pj = 1\n[mac]\nmul_pj = 1\n"
         "multiplier = exact | nosuch:k=1\n",
         "bad.hwt:6: multiplier:", HWNAS_ENOTFOUND},
        {"hwnas-hwt 1\n[level DRAM]\nread_pj = 1\n[level rf]\ninstances = pe_array\n"
         "words = 4\n[mac]\nmul_pj = 1\n",
         "instances = pe_array needs pe_rows and pe_cols", HWNAS_EFORMAT},
        {"hwnas-hwt 1\npe_rows = 2 | 4\npe_cols = 2\n[level DRAM]\nread_pj = 1\n[mac]\n"
         "mul_pj = 1\n",
         "no level (nor [mac]) has instances = pe_array", HWNAS_EFORMAT},
        /* a listed value that makes an inconsistent accelerator, named */
        {"hwnas-hwt 1\n[level DRAM]\nread_pj = 1\n[level buf]\nblock = 8\n"
         "words = 16 | 4\n[mac]\nmul_pj = 1\n",
         "ascending", HWNAS_EFORMAT},
        {"hwnas-hwt 1\n[level DRAM]\nread_pj = 1\n[level buf]\nblock = 8\n"
         "words = 4 | 16\n[mac]\nmul_pj = 1\n",
         "bad.hwt: [level buf]: block 8 is larger than words 4", HWNAS_EFORMAT},
        {"hwnas-hwt 1\npe_rows = 3\npe_cols = 2 | 3\n[level DRAM]\nread_pj = 1\n[level g]\n"
         "instances = 2\nwords = 8\n[level rf]\ninstances = pe_array\nwords = 4\n[mac]\n"
         "mul_pj = 1\n",
         "bad.hwt:3: pe_cols = 3: bad.hwt: rf (9 instances, mesh_x 3) does not divide evenly",
         HWNAS_EFORMAT},
        {"hwnas-hwt 1\n[level DRAM]\nread_pj = 1\n", "no [mac] section", HWNAS_EFORMAT},
        {"hwnas-hwt 1\n[mac]\nmul_pj = 1\n[level DRAM]\n", "levels come before [mac]",
         HWNAS_EFORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_template_error(cases[i].text, cases[i].code, cases[i].needle);
    /* the message names the listed value that fails */
    expect_template_error("hwnas-hwt 1\n[level DRAM]\nread_pj = 1\n[level buf]\nblock = 8\n"
                          "words = 8 | 16\n[mac]\nmul_pj = 1\nmul_bits = 8\nadd_bits = 16\n"
                          "mul_pj = 0\nadd_pj = 0\n",
                          HWNAS_EFORMAT, "mul_pj and add_pj are both 0");
    /* a space needs a list to choose from; a file that is not there */
    hwnas_space *s = NULL;
    const char *fixed = test_tmpdir_write("fixed.hwt", "hwnas-hwt 1\n[level DRAM]\nread_pj = "
                                                       "1\n[mac]\nmul_pj = 1\n");
    char opts[600];
    snprintf(opts, sizeof opts, "template=%s", fixed);
    assert_int_equal(hwnas_space_new(&s, ctx, "space:accelerator", opts), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "lists no values to choose from"));
    assert_int_equal(hwnas_space_new(&s, ctx, "space:accelerator", "template=/nonexistent.hwt"),
                     HWNAS_ENOTFOUND);
    assert_null(s);
}

/* ---- space:accelerator ------------------------------------------------- */

static void test_accel_space(void **state)
{
    (void)state;
    hwnas_space *s = space("accelerator", NULL);
    static const char *const names[] = {"clock_mhz", "pe_rows", "pe_cols", "data_bits",
                                        "dataflow", "global_buffer.words", "ifmap_spad.words",
                                        "weights_spad.words", "psum_spad.words", "multiplier"};
    static const uint32_t card[] = {3, 3, 3, 2, 3, 4, 3, 3, 3, 5};
    assert_int_equal(hwnas_space_gene_count(s), 10);
    for (size_t i = 0; i < 10; i++) {
        assert_string_equal(hwnas_space_gene_name(s, i), names[i]);
        assert_int_equal(hwnas_space_gene_cardinality(s, i), card[i]);
        assert_int_equal(hwnas_space_gene_ordinal(s, i), i != 4 && i != 9);
    }
    assert_int_equal(hwnas_space_has_accel(s), 1);
    assert_ptr_equal(hwnas_space_accel_half(s), s);
    assert_null(hwnas_space_net_half(s));
    /* no network to decode */
    uint32_t g[10] = {0};
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_EUNSUPPORTED);
    assert_non_null(strstr(hwnas_error_last(), "hwnas_space_decode_accel"));
    hwnas_net_free(net);
    /* a network space has no hardware */
    hwnas_space *c = space("cell", NULL);
    hwnas_accel *a = (hwnas_accel *)0x1;
    assert_int_equal(hwnas_space_has_accel(c), 0);
    assert_ptr_equal(hwnas_space_net_half(c), c);
    assert_null(hwnas_space_accel_half(c));
    assert_int_equal(hwnas_space_decode_accel(&a, c, g), HWNAS_EUNSUPPORTED);
    assert_null(a);
    assert_non_null(strstr(hwnas_error_last(), "space:cell has no hardware half"));
    assert_int_equal(hwnas_space_has_accel(NULL), 0);
    assert_int_equal(hwnas_space_decode_accel(&a, NULL, g), HWNAS_EINVAL);
    g[0] = 3;
    assert_int_equal(hwnas_space_decode_accel(&a, s, g), HWNAS_EINVAL);
    /* parse errors name what is wrong */
    assert_int_equal(hwnas_space_parse(s, "clock_mhz=300", g), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "clock_mhz = '300' is not one of the template's "
                                               "values (100 | 200 | 400)"));
    assert_int_equal(hwnas_space_parse(s, "pe_rows=12", g), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "expected 'clock_mhz='"));
    hwnas_space_free(c);
    hwnas_space_free(s);
}

/* Every value of every gene (the others at the Eyeriss point) decodes to a
 * description that formats, parses back to the same and runs a net. */
static void test_every_value_decodes(void **state)
{
    (void)state;
    hwnas_space *s = space("space:accelerator", NULL);
    uint32_t base[16], g[16];
    assert_int_equal(hwnas_space_parse(s, eyeriss_point, base), HWNAS_OK);
    hwnas_net *net = net_of(small_net);
    size_t n = hwnas_space_gene_count(s);
    for (size_t i = 0; i < n; i++) {
        uint64_t hashes[8];
        for (uint32_t k = 0; k < hwnas_space_gene_cardinality(s, i); k++) {
            memcpy(g, base, sizeof g);
            g[i] = k;
            hwnas_accel *a = NULL, *again = NULL;
            if (hwnas_space_decode_accel(&a, s, g) != HWNAS_OK)
                fail_msg("gene %zu = %u: %s", i, k, hwnas_error_last());
            char *text = NULL;
            assert_int_equal(hwnas_accel_format(a, &text), HWNAS_OK);
            assert_int_equal(hwnas_accel_parse(&again, ctx, text, "again", NULL), HWNAS_OK);
            assert_true(hwnas_accel_hash(again) == hwnas_accel_hash(a));
            hwnas_accel_result *r = NULL;
            if (hwnas_accel_run(&r, a, net, "budget=60") != HWNAS_OK)
                fail_msg("gene %zu = %u: %s", i, k, hwnas_error_last());
            assert_true(figure(r, "energy_uj") > 0 && isfinite(figure(r, "energy_uj")));
            assert_true(figure(r, "latency_ms") > 0);
            uint64_t h = 0;
            assert_int_equal(hwnas_space_hash(s, g, &h), HWNAS_OK);
            assert_true(h == hwnas_accel_hash(a));
            hashes[k] = h;
            for (uint32_t j = 0; j < k; j++)
                assert_true(hashes[j] != h);
            hwnas_accel_result_free(r);
            hwnas_free(text);
            hwnas_accel_free(again);
            hwnas_accel_free(a);
        }
    }
    hwnas_net_free(net);
    hwnas_space_free(s);
}

/* ---- composites -------------------------------------------------------- */

static void check_operators(hwnas_space *s)
{
    size_t n = hwnas_space_gene_count(s);
    const hwnas_space *net_half = hwnas_space_net_half(s);
    size_t nn = hwnas_space_gene_count(net_half);
    hwnas_rng *rng = NULL;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 7, 0), HWNAS_OK);
    uint32_t *a = calloc(n, 4), *b = calloc(n, 4), *c = calloc(n, 4), *d = calloc(n, 4);
    int net_only = 0, hw_only = 0;
    for (int it = 0; it < 100; it++) {
        assert_int_equal(hwnas_space_sample(s, rng, a), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, a), HWNAS_OK);
        assert_int_equal(hwnas_space_sample(s, rng, b), HWNAS_OK);
        assert_int_equal(hwnas_space_mutate(s, rng, a, c, 0), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, c), HWNAS_OK);
        int dn = memcmp(a, c, nn * 4) != 0, dh = memcmp(a + nn, c + nn, (n - nn) * 4) != 0;
        assert_true(dn != dh || (!dn && !dh)); /* one half at the default rate */
        net_only += dn;
        hw_only += dh;
        assert_int_equal(hwnas_space_mutate(s, rng, a, c, 0.3), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, c), HWNAS_OK);
        assert_int_equal(hwnas_space_crossover(s, rng, a, b, c, d), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, c), HWNAS_OK);
        assert_int_equal(hwnas_space_check(s, d), HWNAS_OK);
        for (size_t i = nn; i < n; i++) /* the hardware half crosses uniformly */
            assert_true((c[i] == a[i] && d[i] == b[i]) || (c[i] == b[i] && d[i] == a[i]));
        /* genotype strings round-trip */
        char *text = NULL;
        assert_int_equal(hwnas_space_format(s, a, &text), HWNAS_OK);
        assert_non_null(strstr(text, " @ clock_mhz="));
        assert_int_equal(hwnas_space_parse(s, text, d), HWNAS_OK);
        assert_memory_equal(a, d, n * 4);
        hwnas_free(text);
    }
    assert_true(net_only > 20 && hw_only > 20);
    free(a);
    free(b);
    free(c);
    free(d);
    hwnas_rng_free(rng);
}

static void test_composites(void **state)
{
    (void)state;
    static const char *const kinds[] = {"space:cell+accelerator", "space:cgp+accelerator",
                                        "space:macro+accelerator"};
    for (size_t k = 0; k < 3; k++) {
        hwnas_space *s = space(kinds[k], NULL);
        const hwnas_space *nh = hwnas_space_net_half(s), *hh = hwnas_space_accel_half(s);
        assert_non_null(nh);
        assert_non_null(hh);
        assert_int_equal(hwnas_space_has_accel(s), 1);
        assert_int_equal(hwnas_space_has_accel(nh), 0);
        size_t nn = hwnas_space_gene_count(nh), n = hwnas_space_gene_count(s);
        assert_int_equal(n, nn + hwnas_space_gene_count(hh));
        /* gene names distinct; the hardware's prefixed */
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(hwnas_space_gene_cardinality(s, i),
                             i < nn ? hwnas_space_gene_cardinality(nh, i)
                                    : hwnas_space_gene_cardinality(hh, i - nn));
            if (i >= nn) {
                char want[128];
                snprintf(want, sizeof want, "hw.%s", hwnas_space_gene_name(hh, i - nn));
                assert_string_equal(hwnas_space_gene_name(s, i), want);
            }
            for (size_t j = 0; j < i; j++)
                assert_string_not_equal(hwnas_space_gene_name(s, i),
                                        hwnas_space_gene_name(s, j));
        }
        /* its options: the network's, then the hardware's */
        hwnas_options *o = NULL;
        assert_int_equal(hwnas_options_new(&o, ctx, kinds[k]), HWNAS_OK);
        assert_true(hwnas_options_index(o, "hw.template") >= 0);
        assert_true(hwnas_options_index(o, "hw.axmul_dir") >= 0);
        assert_true(hwnas_options_index(o, "hw.multiplier_per") >= 0);
        assert_int_equal(hwnas_options_count(o),
                         hwnas_options_count(hwnas_space_options(nh)) + 3);
        hwnas_options_free(o);
        assert_int_equal(hwnas_space_has_operator(s, HWNAS_SPACE_OP_MUTATE),
                         hwnas_space_has_operator(nh, HWNAS_SPACE_OP_MUTATE));
        check_operators(s);
        hwnas_space_free(s);
    }
    /* options reach each half; a key of neither is an error that lists them */
    char opts[700];
    const char *tpl = test_tmpdir_write("tiny.hwt", tiny_template);
    snprintf(opts, sizeof opts, "cols=4;hw.template=%s", tpl);
    hwnas_space *s = space("cgp+accelerator", opts);
    assert_int_equal(hwnas_space_gene_count(hwnas_space_accel_half(s)), 2);
    assert_string_equal(hwnas_space_gene_name(s, hwnas_space_gene_count(s) - 1),
                        "hw.buffer.words");
    int64_t cols = 0;
    assert_int_equal(
        hwnas_options_get_int(hwnas_space_options(hwnas_space_net_half(s)), "cols", &cols),
        HWNAS_OK);
    assert_int_equal(cols, 4);
    hwnas_space_free(s);
    s = NULL;
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp+accelerator", "template=x.hwt"),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "hw.template"));
    assert_int_equal(hwnas_space_new(&s, ctx, "cgp+accelerator", "hw.template=/nonexistent"),
                     HWNAS_ENOTFOUND);
}

/* Hashes cover both halves; decode applies the chip's multiplier. */
static void test_composite_hash_and_decode(void **state)
{
    (void)state;
    hwnas_space *s = space("space:cell+accelerator", "cells=1;channels=8");
    const hwnas_space *hh = hwnas_space_accel_half(s);
    size_t nn = hwnas_space_gene_count(hwnas_space_net_half(s));
    uint32_t g[32] = {0}, h[32];
    for (size_t i = 0; i < nn; i++)
        g[i] = 3; /* every edge nor_conv_3x3 */
    assert_int_equal(hwnas_space_parse(hh, eyeriss_point, g + nn), HWNAS_OK);
    memcpy(h, g, sizeof h);
    h[nn + 1] = 2; /* pe_rows 16: the same net, other hardware */
    uint64_t hg, hh1, hg2;
    assert_int_equal(hwnas_space_hash(s, g, &hg), HWNAS_OK);
    assert_int_equal(hwnas_space_hash(s, h, &hh1), HWNAS_OK);
    assert_int_equal(hwnas_space_hash(s, g, &hg2), HWNAS_OK);
    assert_true(hg != hh1);
    assert_true(hg == hg2);
    /* other net, same hardware */
    h[nn + 1] = g[nn + 1];
    h[0] = 1;
    assert_int_equal(hwnas_space_hash(s, h, &hh1), HWNAS_OK);
    assert_true(hg != hh1);
    /* decode: exact hardware leaves the net as the network space makes it */
    hwnas_net *net = NULL, *plain = NULL;
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    assert_int_equal(hwnas_net_new(&plain, ctx), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    assert_int_equal(hwnas_space_decode(hwnas_space_net_half(s), g, plain), HWNAS_OK);
    assert_true(hwnas_net_hash(net) == hwnas_net_hash(plain));
    /* an approximate multiplier: every multiplying layer at 8 bits with it */
    g[nn + 9] = 2; /* drum:k=4 */
    assert_int_equal(hwnas_space_decode(s, g, net), HWNAS_OK);
    size_t muls = 0;
    for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
        int kind = hwnas_net_node_kind(net, i);
        if (kind == HWNAS_NET_CONV2D || kind == HWNAS_NET_DWCONV2D ||
            kind == HWNAS_NET_LINEAR) {
            assert_string_equal(hwnas_net_node_multiplier(net, i), "drum:k=4");
            assert_int_equal(hwnas_net_node_bits(net, i), 8);
            muls++;
        }
    }
    assert_true(muls > 3);
    hwnas_accel *a = NULL, *b = NULL;
    assert_int_equal(hwnas_space_decode_accel(&a, s, g), HWNAS_OK);
    assert_int_equal(hwnas_space_decode_accel(&b, hh, g + nn), HWNAS_OK);
    assert_true(hwnas_accel_hash(a) == hwnas_accel_hash(b));
    hwnas_accel_free(a);
    hwnas_accel_free(b);
    hwnas_net_free(net);
    hwnas_net_free(plain);
    hwnas_space_free(s);
}

/* ---- a multiplier per layer ------------------------------------------ */

static double relative(const char *name, int area)
{
    hwnas_axmul_registry *reg = NULL;
    const hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_registry_new(&reg, ctx), HWNAS_OK);
    assert_int_equal(hwnas_axmul_registry_get(&m, reg, name), HWNAS_OK);
    double v = area ? hwnas_axmul_area(m) : hwnas_axmul_power(m);
    if (area && isnan(v))
        v = hwnas_axmul_power(m);
    hwnas_axmul_registry_free(reg);
    return v;
}

/* A description's layer_multipliers: every PE has each of them (area),
 * each layer is priced with its own, one the chip lacks is an invalid
 * candidate naming what it has, and the text round-trips. */
static void test_layer_multipliers_description(void **state)
{
    (void)state;
    char *base = slurp("examples/hardware/eyeriss_45nm_int8.hw");
    size_t len = strlen(base);
    char *text = malloc(len + 128);
    snprintf(text, len + 128, "%slayer_multipliers = exact | drum:k=4 | trunc:t=2\n", base);
    hwnas_accel *one = NULL, *set = NULL, *again = NULL;
    assert_int_equal(hwnas_accel_parse(&one, ctx, base, "one.hw", NULL), HWNAS_OK);
    assert_int_equal(hwnas_accel_parse(&set, ctx, text, "set.hw", NULL), HWNAS_OK);
    /* area: the multiplier part of each MAC is the three multipliers' */
    double mul_um2 = 417 * 0.75 * 1e-6 * (double)hwnas_accel_mac_count(one);
    double extra = mul_um2 * (relative("drum:k=4", 1) + relative("trunc:t=2", 1));
    assert_true(fabs(hwnas_accel_area_mm2(set) - hwnas_accel_area_mm2(one) - extra) <
                1e-9 * hwnas_accel_area_mm2(one));
    char *fmt = NULL;
    assert_int_equal(hwnas_accel_format(set, &fmt), HWNAS_OK);
    assert_non_null(strstr(fmt, "layer_multipliers = exact | drum:k=4 | trunc:t=2\n"));
    assert_int_equal(hwnas_accel_parse(&again, ctx, fmt, "again.hw", NULL), HWNAS_OK);
    assert_true(hwnas_accel_hash(again) == hwnas_accel_hash(set));
    assert_true(hwnas_accel_hash(one) != hwnas_accel_hash(set));
    hwnas_free(fmt);
    hwnas_accel_free(again);
    again = NULL;

    /* each layer with its own: conv1 drum:k=4, conv2 trunc:t=2, linear exact */
    hwnas_net *net = net_of(small_net);
    size_t convs = 0;
    for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
        if (hwnas_net_node_kind(net, i) != HWNAS_NET_CONV2D)
            continue;
        assert_int_equal(hwnas_net_set_multiplier(net, i, convs ? "trunc:t=2" : "drum:k=4", 8),
                         HWNAS_OK);
        convs++;
    }
    hwnas_accel_result *r = NULL, *e = NULL;
    assert_int_equal(hwnas_accel_run(&r, set, net, NULL), HWNAS_OK);
    hwnas_net *exact = net_of(small_net);
    assert_int_equal(hwnas_accel_run(&e, set, exact, NULL), HWNAS_OK);
    double want = 0;
    for (size_t l = 0; l < hwnas_accel_result_layer_count(r); l++) {
        double got = NAN, ref = NAN;
        assert_int_equal(hwnas_accel_result_metric(&got, r, (int64_t)l, "energy_mul_uj"),
                         HWNAS_OK);
        assert_int_equal(hwnas_accel_result_metric(&ref, e, (int64_t)l, "energy_mul_uj"),
                         HWNAS_OK);
        const char *mul = hwnas_net_node_multiplier(net, (size_t)hwnas_accel_result_layer_node(r, l));
        double p = strcmp(mul, "exact") == 0 ? 1 : relative(mul, 0);
        assert_true(fabs(got - ref * p) <= 1e-12 + 1e-9 * ref);
        want += ref * p;
    }
    assert_true(fabs(figure(r, "energy_mul_uj") - want) <= 1e-9 * want);
    assert_true(figure(r, "energy_mul_uj") < figure(e, "energy_mul_uj"));
    hwnas_accel_result_free(r);
    hwnas_accel_result_free(e);

    /* a multiplier the chip does not have */
    assert_int_equal(hwnas_net_set_multiplier(net, 1, "mitchell", 8), HWNAS_OK);
    r = NULL;
    assert_int_equal(hwnas_accel_run(&r, set, net, NULL), HWNAS_EINVALID);
    assert_null(r);
    assert_non_null(strstr(hwnas_error_last(), "'mitchell' is not on"));
    assert_non_null(strstr(hwnas_error_last(), "exact | drum:k=4 | trunc:t=2"));

    /* errors in the text, each naming the file and what is wrong */
    static const struct {
        const char *list, *file, *needle;
    } bad[] = {
        {"exact | exact", "twice.hw", "'exact' is listed twice"},
        {"exact ||", "empty.hw", "names of 1 to 63 characters"},
        {"drum:k=4 | trunc:t=2", "own.hw", "multiplier 'exact' is not one of"},
        {"exact | nosuch:k=1", "unknown.hw", "nosuch"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(text, len + 128, "%slayer_multipliers = %s\n", base, bad[k].list);
        assert_int_not_equal(hwnas_accel_parse(&again, ctx, text, bad[k].file, NULL), HWNAS_OK);
        assert_null(again);
        assert_non_null(strstr(hwnas_error_last(), bad[k].file));
        assert_non_null(strstr(hwnas_error_last(), bad[k].needle));
    }

    hwnas_net_free(net);
    hwnas_net_free(exact);
    hwnas_accel_free(one);
    hwnas_accel_free(set);
    hwnas_accel_free(again);
    free(text);
    free(base);
}

/* multiplier_per = layer in a template: no multiplier gene; the network
 * half's multiplier genes choose among the template's list. */
static void test_layer_multipliers_template(void **state)
{
    (void)state;
    char tpl[4096];
    snprintf(tpl, sizeof tpl, "%s%s", tiny_template,
             "multiplier = exact | drum:k=4 | trunc:t=2\nmultiplier_per = layer\n");
    char path[1024];
    snprintf(path, sizeof path, "%s", test_tmpdir_write("per_layer.hwt", tpl));
    char opts[1200];
    snprintf(opts, sizeof opts, "template=%s", path);
    hwnas_space *hw = space("space:accelerator", opts);
    assert_int_equal(hwnas_space_gene_count(hw), 2); /* pe_cols, buffer words */
    uint32_t g0[2] = {0, 0};
    hwnas_accel *a = NULL;
    assert_int_equal(hwnas_space_decode_accel(&a, hw, g0), HWNAS_OK);
    char *fmt = NULL;
    assert_int_equal(hwnas_accel_format(a, &fmt), HWNAS_OK);
    assert_non_null(strstr(fmt, "layer_multipliers = exact | drum:k=4 | trunc:t=2\n"));
    assert_non_null(strstr(fmt, "multiplier = exact\n"));
    hwnas_free(fmt);
    hwnas_accel_free(a);
    hwnas_space_free(hw);

    /* with the CGP space: its multiplier genes take the template's list */
    snprintf(opts, sizeof opts, "hw.template=%s;rows=1;cols=6", path);
    hwnas_space *s = space("space:cgp+accelerator", opts);
    const hwnas_space *net_half = hwnas_space_net_half(s);
    size_t nn = hwnas_space_gene_count(net_half);
    assert_int_equal(hwnas_space_gene_count(s), nn + 2);
    hwnas_rng *rng = NULL;
    assert_int_equal(hwnas_rng_new(&rng, ctx, 7, 0), HWNAS_OK);
    uint32_t g[256];
    int mixed = 0, approx = 0;
    for (int k = 0; k < 60; k++) {
        assert_int_equal(hwnas_space_sample(s, rng, g), HWNAS_OK);
        hwnas_net *net = NULL;
        assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
        int rc = hwnas_space_decode(s, g, net);
        if (rc == HWNAS_EINVALID) {
            hwnas_net_free(net);
            continue;
        }
        assert_int_equal(rc, HWNAS_OK);
        const char *first = NULL;
        int differ = 0;
        for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
            int kind = hwnas_net_node_kind(net, i);
            if (kind != HWNAS_NET_CONV2D && kind != HWNAS_NET_DWCONV2D &&
                kind != HWNAS_NET_LINEAR)
                continue;
            const char *m = hwnas_net_node_multiplier(net, i);
            assert_true(strcmp(m, "exact") == 0 || strcmp(m, "drum:k=4") == 0 ||
                        strcmp(m, "trunc:t=2") == 0);
            approx += strcmp(m, "exact") != 0;
            if (first && strcmp(first, m) != 0)
                differ = 1;
            first = m;
        }
        mixed += differ;
        /* and the chip prices it */
        hwnas_accel *chip = NULL;
        hwnas_accel_result *r = NULL;
        assert_int_equal(hwnas_space_decode_accel(&chip, s, g), HWNAS_OK);
        assert_int_equal(hwnas_accel_run(&r, chip, net, NULL), HWNAS_OK);
        hwnas_accel_result_free(r);
        hwnas_accel_free(chip);
        hwnas_net_free(net);
    }
    assert_true(mixed > 0);
    assert_true(approx > 0);
    hwnas_space_free(s);

    /* a 16-bit chip has only the exact multiplier: its layers compute exactly */
    char *eyeriss = slurp("examples/hardware/eyeriss_space.hwt");
    const char *list = "multiplier = exact | drum:k=6 | drum:k=4 | trunc:t=2 | mitchell\n";
    char *at = strstr(eyeriss, list);
    assert_non_null(at);
    snprintf(tpl, sizeof tpl, "%.*s%smultiplier_per = layer\n%s", (int)(at - eyeriss), eyeriss,
             list, at + strlen(list));
    free(eyeriss);
    const char *wide_path = test_tmpdir_write("eyeriss_per_layer.hwt", tpl);
    snprintf(opts, sizeof opts, "hw.template=%s;rows=1;cols=6", wide_path);
    s = space("space:cgp+accelerator", opts);
    nn = hwnas_space_gene_count(hwnas_space_net_half(s));
    const hwnas_space *hh = hwnas_space_accel_half(s);
    size_t bits_gene = 0;
    while (strcmp(hwnas_space_gene_name(hh, bits_gene), "data_bits") != 0)
        bits_gene++;
    int wide = 0, narrow_approx = 0;
    for (int k = 0; k < 80; k++) {
        assert_int_equal(hwnas_space_sample(s, rng, g), HWNAS_OK);
        hwnas_net *net = NULL;
        assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
        if (hwnas_space_decode(s, g, net) != HWNAS_OK) {
            hwnas_net_free(net);
            continue;
        }
        int bits16 = g[nn + bits_gene] == 1;
        wide += bits16;
        for (size_t i = 0; i < hwnas_net_node_count(net); i++) {
            const char *m = hwnas_net_node_multiplier(net, i);
            if (!m || strcmp(m, "exact") == 0)
                continue;
            assert_false(bits16);
            narrow_approx++;
        }
        hwnas_net_free(net);
    }
    assert_true(wide > 0);
    assert_true(narrow_approx > 0);
    hwnas_space_free(s);
    hwnas_rng_free(rng);

    /* the space option overrides the template's setting, both ways */
    hwnas_space *per_chip = space("space:accelerator", NULL);
    hwnas_space *per_layer = space("space:accelerator", "multiplier_per=layer");
    assert_int_equal(hwnas_space_gene_count(per_layer) + 1, hwnas_space_gene_count(per_chip));
    snprintf(opts, sizeof opts, "template=%s;multiplier_per=accelerator", wide_path);
    hwnas_space *back = space("space:accelerator", opts);
    assert_int_equal(hwnas_space_gene_count(back), hwnas_space_gene_count(per_chip));
    for (size_t i = 0; i < hwnas_space_gene_count(back); i++)
        assert_string_equal(hwnas_space_gene_name(back, i), hwnas_space_gene_name(per_chip, i));
    hwnas_space_free(per_chip);
    hwnas_space_free(per_layer);
    hwnas_space_free(back);
    s = space("space:macro+accelerator", "hw.multiplier_per=layer");
    hwnas_space_free(s);

    /* a network multiplier the chip lacks; a space without multiplier genes */
    hwnas_space *bad = NULL;
    snprintf(opts, sizeof opts, "hw.template=%s;multipliers=exact,mitchell", path);
    assert_int_equal(hwnas_space_new(&bad, ctx, "space:cgp+accelerator", opts), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "'mitchell' is not one of the multipliers"));
    snprintf(opts, sizeof opts, "hw.template=%s;multipliers=drum:k=4", path);
    assert_int_equal(hwnas_space_new(&bad, ctx, "space:cgp+accelerator", opts), HWNAS_OK);
    hwnas_space_free(bad);
    snprintf(opts, sizeof opts, "hw.template=%s;cells=1", path);
    assert_int_equal(hwnas_space_new(&bad, ctx, "space:cell+accelerator", opts), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "multiplier_per = layer"));
    assert_non_null(strstr(hwnas_error_last(), "space:cell"));

    /* the key's own errors */
    snprintf(tpl, sizeof tpl, "%s%s", tiny_template, "multiplier_per = node\n");
    hwnas__template *t = NULL;
    assert_int_equal(hwnas__template_parse(&t, ctx, tpl, "bad.hwt", NULL), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "bad.hwt:"));
    assert_non_null(strstr(hwnas_error_last(), "'node'"));
}

/* Every strategy runs on a composite unchanged. */
static void test_strategies_on_composite(void **state)
{
    (void)state;
    hwnas_space *s = space("space:macro+accelerator", "channels=16,24;strides=1,2");
    static const char *const kinds[] = {"random", "ea", "nsga2", "reinforce"};
    size_t n = hwnas_space_gene_count(s);
    uint32_t *g = calloc(8 * n, 4);
    uint64_t ids[8];
    for (size_t k = 0; k < 4; k++) {
        hwnas_strategy *st = NULL;
        if (hwnas_strategy_new(&st, ctx, kinds[k], "seed=3", s, 2) != HWNAS_OK)
            fail_msg("%s: %s", kinds[k], hwnas_error_last());
        for (int round = 0; round < 6; round++) {
            size_t count = 0;
            assert_int_equal(hwnas_strategy_ask(st, 8, g, ids, &count), HWNAS_OK);
            double obj[16];
            for (size_t i = 0; i < count; i++) {
                assert_int_equal(hwnas_space_check(s, g + i * n), HWNAS_OK);
                obj[2 * i] = (double)g[i * n + n - 1];
                obj[2 * i + 1] = (double)g[i * n];
            }
            assert_int_equal(hwnas_strategy_tell(st, count, ids, obj, NULL, NULL), HWNAS_OK);
        }
        hwnas_strategy_free(st);
    }
    free(g);
    hwnas_space_free(s);
}

/* ---- estimates on the candidate's hardware ------------------------------ */

static int custom_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                     void *user_data)
{
    (void)net;
    (void)key;
    (void)stream;
    (void)user_data;
    const hwnas_accel *a = hwnas_estimator_current_accel();
    values[0] = a ? (double)hwnas_accel_mac_count(a) : -1;
    return 0;
}

static void test_estimate_on(void **state)
{
    (void)state;
    hwnas_space *s = space("space:accelerator", NULL);
    uint32_t g[16], h[16];
    assert_int_equal(hwnas_space_parse(s, eyeriss_point, g), HWNAS_OK);
    memcpy(h, g, sizeof h);
    h[1] = 2; /* 16 x 14 */
    h[4] = 2; /* output-stationary */
    hwnas_accel *a = NULL, *b = NULL;
    assert_int_equal(hwnas_space_decode_accel(&a, s, g), HWNAS_OK);
    assert_int_equal(hwnas_space_decode_accel(&b, s, h), HWNAS_OK);
    hwnas_net *net = net_of(small_net);
    hwnas_estimator *e = NULL;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accelerator", "budget=200;seed=5"),
                     HWNAS_OK);
    size_t n = hwnas_estimator_metric_count(e);
    double va[16], vb[16], v0[16], again[16];
    assert_int_equal(hwnas_estimator_estimate_on(e, net, a, NULL, 0, va), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate_on(e, net, b, NULL, 0, vb), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate_on(e, net, a, NULL, 0, again), HWNAS_OK);
    assert_memory_equal(va, again, n * sizeof va[0]); /* the caches stayed apart */
    /* NULL is the estimator's own description (here the same Eyeriss) */
    assert_int_equal(hwnas_estimator_estimate_on(e, net, NULL, NULL, 0, v0), HWNAS_OK);
    static const char *const names[] = {"energy_uj", "latency_ms", "edp", "area_mm2",
                                        "cycles", "utilisation"};
    int differ = 0;
    for (size_t k = 0; k < 6; k++) {
        int64_t i = hwnas_estimator_metric_index(e, names[k]);
        assert_true(i >= 0);
        assert_float_equal(v0[i], va[i], 1e-12 * fabs(va[i]));
        differ += va[i] != vb[i];
        /* the figures of hwnas_accel_run on the same hardware */
        const hwnas_accel *on[2] = {a, b};
        const double *vals[2] = {va, vb};
        for (int w = 0; w < 2; w++) {
            hwnas_accel_result *r = NULL;
            assert_int_equal(hwnas_accel_run(&r, on[w], net, "budget=200;seed=5"), HWNAS_OK);
            assert_float_equal(vals[w][i], figure(r, names[k]), 1e-9 * fabs(vals[w][i]));
            hwnas_accel_result_free(r);
        }
    }
    assert_true(differ >= 4);
    /* the other kinds ignore the hardware */
    hwnas_estimator *cost = NULL;
    assert_int_equal(hwnas_estimator_new(&cost, ctx, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate(cost, net, NULL, 0, va), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate_on(cost, net, b, NULL, 0, vb), HWNAS_OK);
    assert_memory_equal(va, vb, hwnas_estimator_metric_count(cost) * sizeof va[0]);
    /* custom callbacks may ask for it */
    hwnas_estimator *cu = NULL;
    assert_int_equal(hwnas_estimator_new_custom(&cu, ctx, "macs", "pes:count", custom_cb, NULL),
                     HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate_on(cu, net, b, NULL, 0, va), HWNAS_OK);
    assert_float_equal(va[0], 224, 0);
    assert_int_equal(hwnas_estimator_estimate(cu, net, NULL, 0, va), HWNAS_OK);
    assert_float_equal(va[0], -1, 0);
    assert_null(hwnas_estimator_current_accel());
    assert_int_equal(hwnas_estimator_estimate_on(NULL, net, a, NULL, 0, va), HWNAS_EINVAL);
    hwnas_estimator_free(cu);
    hwnas_estimator_free(cost);
    hwnas_estimator_free(e);
    hwnas_net_free(net);
    hwnas_accel_free(a);
    hwnas_accel_free(b);
    hwnas_space_free(s);
}

/* ---- the inner search ---------------------------------------------------- */

static hwnas__codesign *codesign(hwnas_space *s, hwnas_estimator *e, const char *options)
{
    hwnas__codesign *cs = NULL;
    if (hwnas__codesign_new(&cs, ctx, s, e, options) != HWNAS_OK)
        fail_msg("%s: %s", options, hwnas_error_last());
    return cs;
}

static void test_inner_search(void **state)
{
    (void)state;
    hwnas_space *s = space("space:cgp+accelerator", NULL);
    const hwnas_space *hw = hwnas_space_accel_half(s);
    hwnas_estimator *e = NULL;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accelerator", "budget=60"), HWNAS_OK);
    hwnas_net *net = net_of(small_net);
    hwnas__codesign *cs = codesign(s, e, "budget=24;seed=9");
    assert_ptr_equal(hwnas__codesign_space(cs), hw);
    uint32_t g[16], g2[16];
    hwnas__codesign_result r, r2;
    assert_int_equal(hwnas__codesign_best(cs, net, g, &r), HWNAS_OK);
    assert_true(r.found && r.feasible);
    assert_int_equal(r.cached, 0);
    assert_int_equal(r.asked, 24);
    assert_true(r.evaluated >= 1 && r.evaluated <= 24);
    assert_int_equal(hwnas_space_check(hw, g), HWNAS_OK);
    /* its figures are the estimator's on the decoded hardware */
    hwnas_accel *a = NULL;
    double v[16];
    assert_int_equal(hwnas_space_decode_accel(&a, hw, g), HWNAS_OK);
    assert_int_equal(hwnas_estimator_estimate_on(e, net, a, NULL, 0, v), HWNAS_OK);
    assert_float_equal(r.metric[HWNAS__CS_EDP], v[hwnas_estimator_metric_index(e, "edp")], 0);
    assert_float_equal(r.objective, r.metric[HWNAS__CS_EDP], 0);
    assert_float_equal(r.metric[HWNAS__CS_AREA], hwnas_accel_area_mm2(a), 1e-12);
    assert_float_equal(r.metric[HWNAS__CS_POWER],
                       r.metric[HWNAS__CS_ENERGY] / r.metric[HWNAS__CS_LATENCY], 1e-12);
    hwnas_accel_free(a);
    /* cached by the net's hash; a new search object gives the same answer */
    assert_int_equal(hwnas__codesign_best(cs, net, g2, &r2), HWNAS_OK);
    assert_int_equal(r2.cached, 1);
    assert_memory_equal(g, g2, hwnas_space_gene_count(hw) * 4);
    assert_int_equal(hwnas__codesign_cache_count(cs), 1);
    hwnas__codesign_free(cs);
    hwnas_estimator *e2 = NULL;
    assert_int_equal(hwnas_estimator_new(&e2, ctx, "accelerator", "budget=60"), HWNAS_OK);
    cs = codesign(s, e2, "budget=24;seed=9");
    memset(g2, 0xff, sizeof g2);
    assert_int_equal(hwnas__codesign_best(cs, net, g2, &r2), HWNAS_OK);
    assert_int_equal(r2.cached, 0);
    assert_memory_equal(g, g2, hwnas_space_gene_count(hw) * 4);
    assert_float_equal(r.objective, r2.objective, 0);
    hwnas__codesign_free(cs);
    hwnas_estimator_free(e2);
    /* another seed searches elsewhere, deterministically too */
    cs = codesign(s, e, "budget=24;seed=10;objective=energy_uj");
    assert_int_equal(hwnas__codesign_best(cs, net, g2, &r2), HWNAS_OK);
    assert_true(r2.feasible);
    assert_float_equal(r2.objective, r2.metric[HWNAS__CS_ENERGY], 0);
    hwnas__codesign_free(cs);
    /* constraints: an area no accelerator has; a latency only some meet */
    cs = codesign(s, e, "budget=16;max_area_mm2=0.001");
    assert_int_equal(hwnas__codesign_best(cs, net, g2, &r2), HWNAS_OK);
    assert_true(r2.found && !r2.feasible && r2.violation > 0);
    hwnas__codesign_free(cs);
    char opts[200];
    snprintf(opts, sizeof opts, "budget=24;seed=9;max_area_mm2=%.17g",
             r.metric[HWNAS__CS_AREA] * 0.999);
    cs = codesign(s, e, opts);
    assert_int_equal(hwnas__codesign_best(cs, net, g2, &r2), HWNAS_OK);
    if (r2.feasible)
        assert_true(r2.metric[HWNAS__CS_AREA] < r.metric[HWNAS__CS_AREA]);
    hwnas__codesign_free(cs);
    /* every strategy kind as the inner one */
    static const char *const kinds[] = {"ea", "nsga2", "reinforce"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(opts, sizeof opts, "budget=20;batch=4;strategy=%s%s", kinds[k],
                 k == 1 ? ";strategy_options=population=4" : "");
        cs = codesign(s, e, opts);
        if (hwnas__codesign_best(cs, net, g2, &r2) != HWNAS_OK)
            fail_msg("%s: %s", kinds[k], hwnas_error_last());
        assert_true(r2.feasible);
        assert_int_equal(r2.asked, 20);
        hwnas__codesign_free(cs);
    }
    /* errors */
    hwnas__codesign *bad = (hwnas__codesign *)0x1;
    hwnas_estimator *cost = NULL;
    assert_int_equal(hwnas_estimator_new(&cost, ctx, "cost", NULL), HWNAS_OK);
    assert_int_equal(hwnas__codesign_new(&bad, ctx, s, cost, NULL), HWNAS_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(hwnas_error_last(), "has no metric"));
    hwnas_space *cgp = space("cgp", NULL);
    assert_int_equal(hwnas__codesign_new(&bad, ctx, cgp, e, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "no hardware half"));
    assert_int_equal(hwnas__codesign_new(&bad, ctx, s, e, "strategy=nope"), HWNAS_ENOTFOUND);
    assert_int_equal(hwnas__codesign_new(&bad, ctx, s, e, "budget=0"), HWNAS_EINVAL);
    hwnas_space_free(cgp);
    hwnas_estimator_free(cost);
    hwnas_net_free(net);
    hwnas_estimator_free(e);
    hwnas_space_free(s);
}

/* Two threads at once on one object get what one thread gets. */
typedef struct job {
    hwnas__codesign *cs;
    const hwnas_net *net;
    uint32_t g[16];
    hwnas__codesign_result r;
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    j->rc = hwnas__codesign_best(j->cs, j->net, j->g, &j->r);
    return NULL;
}

static void test_inner_search_threads(void **state)
{
    (void)state;
    hwnas_space *s = space("space:accelerator", NULL);
    hwnas_estimator *e = NULL;
    assert_int_equal(hwnas_estimator_new(&e, ctx, "accelerator", "budget=40"), HWNAS_OK);
    hwnas_net *n1 = net_of(small_net);
    hwnas_net *n2 = net_of("hwnas-net 1\nx = input(shape=1x12x12)\nconv(out=6, k=5)\nrelu\n"
                           "flatten\nlinear(out=4)\n");
    hwnas__codesign *cs = codesign(s, e, "budget=12");
    job jobs[2] = {{cs, n1, {0}, {0}, 0}, {cs, n2, {0}, {0}, 0}};
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&t[k], NULL, run_job, &jobs[k]), 0);
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_join(t[k], NULL), 0);
    hwnas__codesign_free(cs);
    cs = codesign(s, e, "budget=12");
    for (int k = 0; k < 2; k++) {
        uint32_t g[16];
        hwnas__codesign_result r;
        assert_int_equal(jobs[k].rc, HWNAS_OK);
        assert_int_equal(hwnas__codesign_best(cs, jobs[k].net, g, &r), HWNAS_OK);
        assert_memory_equal(g, jobs[k].g, 10 * 4);
        assert_float_equal(r.objective, jobs[k].r.objective, 0);
    }
    hwnas__codesign_free(cs);
    hwnas_net_free(n1);
    hwnas_net_free(n2);
    hwnas_estimator_free(e);
    hwnas_space_free(s);
}

/* ---- out of memory ---------------------------------------------------- */

static hwnas_net *oom_net;

static int oom_space(hwnas_context *c, void *arg)
{
    const char *kind = arg;
    hwnas_space *s = NULL;
    hwnas_accel *a = NULL;
    hwnas_net *net = NULL;
    char *text = NULL;
    uint32_t g[400] = {0};
    int rc = hwnas_space_new(&s, c, kind, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_space_decode_accel(&a, s, g);
    if (rc == HWNAS_OK)
        rc = hwnas_space_format(s, g, &text);
    if (rc == HWNAS_OK)
        rc = hwnas_space_parse(s, text, g);
    if (rc == HWNAS_OK && hwnas_space_net_half(s)) {
        rc = hwnas_net_new(&net, c);
        if (rc == HWNAS_OK) {
            g[hwnas_space_gene_count(s) - 1] = 2; /* an approximate multiplier */
            rc = hwnas_space_decode(s, g, net);
        }
    }
    uint64_t h;
    if (rc == HWNAS_OK)
        rc = hwnas_space_hash(s, g, &h);
    hwnas_free(text);
    hwnas_net_free(net);
    hwnas_accel_free(a);
    hwnas_space_free(s);
    return rc;
}

static int oom_estimate_on(hwnas_context *c, void *arg)
{
    (void)arg;
    hwnas_space *s = NULL;
    hwnas_accel *a = NULL;
    hwnas_estimator *e = NULL;
    double v[16];
    uint32_t g[16] = {0};
    int rc = hwnas_space_new(&s, c, "accelerator", NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_space_decode_accel(&a, s, g);
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_new(&e, c, "accelerator", "budget=20");
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_estimate_on(e, oom_net, a, NULL, 0, v);
    hwnas_estimator_free(e);
    hwnas_accel_free(a);
    hwnas_space_free(s);
    return rc;
}

static int oom_codesign(hwnas_context *c, void *arg)
{
    (void)arg;
    hwnas_space *s = NULL;
    hwnas_estimator *e = NULL;
    hwnas__codesign *cs = NULL;
    uint32_t g[16];
    hwnas__codesign_result r;
    int rc = hwnas_space_new(&s, c, "accelerator", NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_new(&e, c, "accelerator", "budget=10");
    if (rc == HWNAS_OK)
        rc = hwnas__codesign_new(&cs, c, s, e, "budget=3;strategy=ea");
    if (rc == HWNAS_OK)
        rc = hwnas__codesign_best(cs, oom_net, g, &r);
    hwnas__codesign_free(cs);
    hwnas_estimator_free(e);
    hwnas_space_free(s);
    return rc;
}

static void test_oom(void **state)
{
    (void)state;
    oom_net = net_of("hwnas-net 1\nx = input(shape=3x8x8)\nconv(out=4, k=3, pad=1)\nrelu\n"
                     "flatten\nlinear(out=4)\n");
    test_oom_walk("space:accelerator", oom_space, (void *)"space:accelerator");
    test_oom_walk("space:cell+accelerator", oom_space, (void *)"space:cell+accelerator");
    test_oom_walk("estimate_on", oom_estimate_on, NULL);
    test_oom_walk("codesign", oom_codesign, NULL);
    hwnas_net_free(oom_net);
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "oom") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
        return cmocka_run_group_tests_name("codesign/oom", tests, setup, teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_template_is_the_example),
        cmocka_unit_test(test_eyeriss_point),
        cmocka_unit_test(test_scaling),
        cmocka_unit_test(test_template_errors),
        cmocka_unit_test(test_accel_space),
        cmocka_unit_test(test_every_value_decodes),
        cmocka_unit_test(test_composites),
        cmocka_unit_test(test_composite_hash_and_decode),
        cmocka_unit_test(test_layer_multipliers_description),
        cmocka_unit_test(test_layer_multipliers_template),
        cmocka_unit_test(test_strategies_on_composite),
        cmocka_unit_test(test_estimate_on),
        cmocka_unit_test(test_inner_search),
        cmocka_unit_test(test_inner_search_threads),
    };
    return cmocka_run_group_tests_name("codesign", tests, setup, teardown);
}
