/* Out-of-memory walks: fail allocation n = 0, 1, 2, ... until success.
 * Each failure must return HWNAS_ENOMEM, leak nothing and leave the
 * context usable. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "axmul_tests.h"
#include "test_oom.h"

static int step_new(hwnas_context *ctx, void *arg)
{
    hwnas_axmul *m = NULL;
    int rc = hwnas_axmul_new(&m, ctx, arg);
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_set_name(m, "renamed");
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_set_source(m, "elsewhere");
    hwnas_axmul_free(m);
    return rc;
}

static int step_table_and_files(hwnas_context *ctx, void *arg)
{
    (void)arg;
    static int32_t table[HWNAS_AXMUL_TABLE_SIZE];
    for (int i = 0; i < HWNAS_AXMUL_TABLE_SIZE; i++)
        table[i] = (i >> 8) * (i & 255) / 2;
    hwnas_axmul *m = NULL, *r = NULL, *b = NULL;
    void *text = NULL, *bin = NULL;
    size_t tlen = 0, blen = 0;
    int rc = hwnas_axmul_new_table(&m, ctx, "half", table, 0);
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_write(m, "text", &text, &tlen);
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_write(m, "bin", &bin, &blen);
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_read(&r, ctx, text, tlen, NULL, "t");
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_read(&b, ctx, bin, blen, NULL, "b.bin");
    if (rc == HWNAS_OK && hwnas_axmul_hash(r) != hwnas_axmul_hash(b))
        rc = HWNAS_EINTERNAL;
    hwnas_free(text);
    hwnas_free(bin);
    hwnas_axmul_free(m);
    hwnas_axmul_free(r);
    hwnas_axmul_free(b);
    return rc;
}

static int step_registry(hwnas_context *ctx, void *arg)
{
    hwnas_axmul_registry *reg = NULL;
    hwnas_axmul *m = NULL;
    const hwnas_axmul *got = NULL;
    int rc = hwnas_axmul_registry_new(&reg, ctx);
    if (rc == HWNAS_OK && arg)
        rc = hwnas_axmul_registry_load_dir(reg, arg, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_registry_get(&got, reg, "drum:k=5");
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_registry_get(&got, reg, "drum");
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_new(&m, ctx, "kulkarni");
    if (rc == HWNAS_OK)
        rc = hwnas_axmul_set_name(m, "kul2");
    if (rc == HWNAS_OK) {
        rc = hwnas_axmul_registry_add(reg, m);
        if (rc == HWNAS_OK)
            m = NULL;
    }
    hwnas_axmul_free(m);
    hwnas_axmul_registry_free(reg);
    return rc;
}

static void test_oom_new(void **state)
{
    (void)state;
    test_oom_walk("new exact", step_new, "exact");
    test_oom_walk("new drum", step_new, "drum:k=3,signed=1");
}

static void test_oom_files(void **state)
{
    (void)state;
    test_oom_walk("table and files", step_table_and_files, NULL);
}

static void test_oom_registry(void **state)
{
    (void)state;
    test_oom_walk("registry", step_registry, NULL);
    /* A directory with a text table, a binary one and params.csv. */
    static char dir[400];
    snprintf(dir, sizeof dir, "%s/oomdir", axmul_test_dir());
    assert_int_equal(mkdir(dir, 0755), 0);
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_axmul *m = NULL;
    char path[512];
    assert_int_equal(hwnas_axmul_new(&m, ctx, "exact"), HWNAS_OK);
    snprintf(path, sizeof path, "%s/ex.bin", dir);
    assert_int_equal(hwnas_axmul_save(m, path, NULL), HWNAS_OK);
    assert_int_equal(hwnas_axmul_set_name(m, "ex_text"), HWNAS_OK);
    snprintf(path, sizeof path, "%s/ex.axmul", dir);
    assert_int_equal(hwnas_axmul_save(m, path, NULL), HWNAS_OK);
    hwnas_axmul_free(m);
    hwnas_context_free(ctx);
    snprintf(path, sizeof path, "%s/params.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("name,power_mw,area_um2\nex,0.391,709.6\n", f);
    fclose(f);
    test_oom_walk("registry with directory", step_registry, dir);
}

int run_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_new),
        cmocka_unit_test(test_oom_files),
        cmocka_unit_test(test_oom_registry),
    };
    return cmocka_run_group_tests_name("axmul oom", tests, NULL, NULL);
}
