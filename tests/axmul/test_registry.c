/* The registry: built-in names, imported multipliers, directory imports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "axmul_tests.h"
#include <hwnas/hwnas.h>

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

static void test_builtin_lookup(void **state)
{
    (void)state;
    hwnas_axmul_registry *reg = NULL;
    assert_int_equal(hwnas_axmul_registry_new(&reg, ctx), HWNAS_OK);
    size_t nb = hwnas_axmul_builtin_count();
    assert_int_equal(hwnas_axmul_registry_count(reg), nb);
    for (size_t i = 0; i < nb; i++)
        assert_string_equal(hwnas_axmul_registry_name(reg, i), hwnas_axmul_builtin_name(i));
    assert_null(hwnas_axmul_registry_name(reg, nb));
    const hwnas_axmul *a = NULL, *b = NULL;
    assert_int_equal(hwnas_axmul_registry_get(&a, reg, "drum:k=4"), HWNAS_OK);
    assert_string_equal(hwnas_axmul_name(a), "drum:k=4");
    assert_int_equal(hwnas_axmul_registry_get(&b, reg, "drum"), HWNAS_OK);
    assert_ptr_equal(a, b); /* another spelling of the same instance */
    assert_int_equal(hwnas_axmul_registry_get(&b, reg, "drum:k=4"), HWNAS_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(hwnas_axmul_registry_get(&b, reg, "nope"), HWNAS_ENOTFOUND);
    assert_null(b);
    assert_non_null(strstr(hwnas_error_last(), "'nope'"));
    assert_int_equal(hwnas_axmul_registry_get(&b, reg, "drum:k=99"), HWNAS_EINVAL);
    hwnas_axmul_registry_free(reg);
    hwnas_axmul_registry_free(NULL);
}

static void test_add(void **state)
{
    (void)state;
    hwnas_axmul_registry *reg = NULL;
    assert_int_equal(hwnas_axmul_registry_new(&reg, ctx), HWNAS_OK);
    hwnas_axmul *m = NULL, *dup = NULL, *res = NULL;
    assert_int_equal(hwnas_axmul_new(&m, ctx, "roba"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_new(&dup, ctx, "roba"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_new(&res, ctx, "mitchell"), HWNAS_OK);
    /* Built-in names are reserved. */
    assert_int_equal(hwnas_axmul_registry_add(reg, res), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "reserved"));
    hwnas_axmul_free(res);
    assert_int_equal(hwnas_axmul_set_name(m, "my_roba"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_registry_add(reg, m), HWNAS_OK);
    assert_int_equal(hwnas_axmul_set_name(dup, "my_roba"), HWNAS_OK);
    assert_int_equal(hwnas_axmul_registry_add(reg, dup), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "already registered"));
    hwnas_axmul_free(dup);
    size_t n = hwnas_axmul_registry_count(reg);
    assert_int_equal(n, hwnas_axmul_builtin_count() + 1);
    assert_string_equal(hwnas_axmul_registry_name(reg, n - 1), "my_roba");
    const hwnas_axmul *got = NULL;
    assert_int_equal(hwnas_axmul_registry_get(&got, reg, "my_roba"), HWNAS_OK);
    assert_ptr_equal(got, m);
    hwnas_axmul_registry_free(reg); /* frees m */
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void save(const char *spec, const char *name, const char *dir, const char *file)
{
    hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_new(&m, ctx, spec), HWNAS_OK);
    if (name)
        assert_int_equal(hwnas_axmul_set_name(m, name), HWNAS_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    assert_int_equal(hwnas_axmul_save(m, path, NULL), HWNAS_OK);
    hwnas_axmul_free(m);
}

static void test_load_dir(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/store", axmul_test_dir());
    assert_int_equal(mkdir(dir, 0755), 0);
    save("kulkarni", "kul", dir, "kul.axmul");
    save("exact", NULL, dir, "ref.bin");
    save("drum:k=3", NULL, dir, "d3.bin.gz");
    write_file(dir, "README", "not a table\n");
    /* A FIFO named like a table is skipped, not read (it would block). */
    char fifo[500];
    snprintf(fifo, sizeof fifo, "%s/blocking.bin", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    write_file(dir, "params.csv",
               "name,power_mw,area_um2,mae_pct\nref,0.400,800.0,0\nd3,0.100,200.0,3\n"
               "kul,0.3,300,1\nother,1,1,1\n");
    hwnas_axmul_registry *reg = NULL;
    assert_int_equal(hwnas_axmul_registry_new(&reg, ctx), HWNAS_OK);
    size_t count = 0;
    if (hwnas_axmul_registry_load_dir(reg, dir, &count) != HWNAS_OK)
        fail_msg("%s", hwnas_error_last());
    assert_int_equal(count, 3);
    size_t nb = hwnas_axmul_builtin_count();
    assert_string_equal(hwnas_axmul_registry_name(reg, nb), "d3");
    assert_string_equal(hwnas_axmul_registry_name(reg, nb + 1), "kul");
    assert_string_equal(hwnas_axmul_registry_name(reg, nb + 2), "ref");
    const hwnas_axmul *m = NULL;
    assert_int_equal(hwnas_axmul_registry_get(&m, reg, "d3"), HWNAS_OK);
    assert_true(fabs(hwnas_axmul_power(m) - 0.25) < 1e-12);
    assert_true(fabs(hwnas_axmul_area(m) - 0.25) < 1e-12);
    assert_int_equal(hwnas_axmul_registry_get(&m, reg, "ref"), HWNAS_OK);
    assert_true(hwnas_axmul_power(m) == 1.0);
    /* A text file keeps its own metadata: params.csv is for binary tables. */
    assert_int_equal(hwnas_axmul_registry_get(&m, reg, "kul"), HWNAS_OK);
    assert_true(hwnas_axmul_power(m) == 0.75);
    /* Loading again: every name is taken, nothing is added. */
    assert_int_equal(hwnas_axmul_registry_load_dir(reg, dir, &count), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "already registered"));
    assert_int_equal(count, 0);
    assert_int_equal(hwnas_axmul_registry_count(reg), nb + 3);
    hwnas_axmul_registry_free(reg);

    /* A broken params.csv names its line; a broken table its file. */
    assert_int_equal(hwnas_axmul_registry_new(&reg, ctx), HWNAS_OK);
    write_file(dir, "params.csv", "name,power_mw,area_um2\nref,0.4,800\nd3,abc,1\n");
    assert_int_equal(hwnas_axmul_registry_load_dir(reg, dir, NULL), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "params.csv:3:"));
    /* figures relative to a reference of almost nothing are not finite */
    write_file(dir, "params.csv", "name,power_mw,area_um2\nref,1e-310,800\nd3,1e300,1\n");
    assert_int_equal(hwnas_axmul_registry_load_dir(reg, dir, NULL), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "params.csv:3: power_mw 1e+300"));
    assert_non_null(strstr(hwnas_error_last(), "of 'd3' relative to the exact"));
    write_file(dir, "params.csv", "name,power_mw,area_um2\nref,inf,800\nd3,nan,1\n");
    assert_int_equal(hwnas_axmul_registry_load_dir(reg, dir, NULL), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "params.csv:2:"));
    write_file(dir, "params.csv", "name,power\nref,0.4\n");
    assert_int_equal(hwnas_axmul_registry_load_dir(reg, dir, NULL), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "params.csv:1:"));
    remove(strcat(strcat(strcpy((char[512]){0}, dir), "/"), "params.csv"));
    write_file(dir, "zz.bin", "short");
    assert_int_equal(hwnas_axmul_registry_load_dir(reg, dir, NULL), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "zz.bin"));
    assert_int_equal(hwnas_axmul_registry_count(reg), nb);
    remove(strcat(strcat(strcpy((char[512]){0}, dir), "/"), "zz.bin"));
    save("exact", NULL, dir, "d3.bin"); /* d3.bin and d3.bin.gz: one name twice */
    assert_int_equal(hwnas_axmul_registry_load_dir(reg, dir, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "'d3' also comes from"));
    assert_int_equal(hwnas_axmul_registry_count(reg), nb);
    char missing[512];
    snprintf(missing, sizeof missing, "%s/none", dir);
    assert_int_equal(hwnas_axmul_registry_load_dir(reg, missing, NULL), HWNAS_ENOTFOUND);
    hwnas_axmul_registry_free(reg);
}

int run_registry_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_lookup),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_load_dir),
    };
    return cmocka_run_group_tests_name("axmul registry", tests, setup, teardown);
}
