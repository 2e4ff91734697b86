/* Named options: parsing, types, ranges, errors, formatting, kinds. */
#include <math.h>
#include <string.h>

#include "core_tests.h"
#include "core/core_internal.h"

static const hwnas__option_spec demo_specs[] = {
    {"population", HWNAS_OPTION_INT, "40", 2, 100000, NULL, "individuals per generation"},
    {"crossover", HWNAS_OPTION_FLOAT, "0.9", 0, 1, NULL, "crossover probability"},
    {"ordinal", HWNAS_OPTION_BOOL, "false", 0, 0, NULL, "treat genes as ordered"},
    {"schedule", HWNAS_OPTION_ENUM, "cosine", 0, 0, "constant|step|cosine", "learning-rate schedule"},
    {"constraints", HWNAS_OPTION_STRING, "", 0, 0, NULL, "metric bounds"},
};
static const hwnas__kind demo_kind = {"strategy:demo", demo_specs, 5, NULL};

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

static hwnas_options *demo(const char *text)
{
    hwnas_options *o = NULL;
    assert_int_equal(hwnas__options_new_kind(&o, ctx, &demo_kind, text), HWNAS_OK);
    return o;
}

static void test_defaults_and_listing(void **state)
{
    (void)state;
    hwnas_options *o = demo(NULL);
    assert_int_equal(hwnas_options_count(o), 5);
    assert_string_equal(hwnas_options_kind(o), "strategy:demo");
    assert_string_equal(hwnas_options_name(o, 0), "population");
    assert_int_equal(hwnas_options_type(o, 1), HWNAS_OPTION_FLOAT);
    assert_string_equal(hwnas_options_default(o, 3), "cosine");
    assert_string_equal(hwnas_options_range(o, 0), "[2, 100000]");
    assert_string_equal(hwnas_options_range(o, 1), "[0, 1]");
    assert_string_equal(hwnas_options_range(o, 2), "true|false");
    assert_string_equal(hwnas_options_range(o, 3), "constant|step|cosine");
    assert_string_equal(hwnas_options_range(o, 4), "");
    assert_string_equal(hwnas_options_help(o, 2), "treat genes as ordered");
    assert_string_equal(hwnas_options_value(o, 2), "false");
    assert_null(hwnas_options_name(o, 5));
    assert_int_equal(hwnas_options_type(o, 5), -1);
    assert_null(hwnas_options_value(o, 99));
    assert_int_equal(hwnas_options_index(o, "schedule"), 3);
    assert_int_equal(hwnas_options_index(o, "nope"), -1);
    hwnas_options_free(o);
}

static void test_parse_types(void **state)
{
    (void)state;
    hwnas_options *o = demo(" population = 64 ;crossover=0.25;;ordinal=yes;schedule=step;"
                            "constraints=\"latency_ms<=5;params<=100000\";");
    int64_t i;
    double f;
    int b;
    const char *s;
    assert_int_equal(hwnas_options_get_int(o, "population", &i), HWNAS_OK);
    assert_int_equal(i, 64);
    assert_int_equal(hwnas_options_get_float(o, "crossover", &f), HWNAS_OK);
    assert_true(f == 0.25);
    assert_int_equal(hwnas_options_get_float(o, "population", &f), HWNAS_OK);
    assert_true(f == 64.0);
    assert_int_equal(hwnas_options_get_bool(o, "ordinal", &b), HWNAS_OK);
    assert_int_equal(b, 1);
    assert_int_equal(hwnas_options_get_int(o, "schedule", &i), HWNAS_OK);
    assert_int_equal(i, 1);
    assert_int_equal(hwnas_options_get_string(o, "schedule", &s), HWNAS_OK);
    assert_string_equal(s, "step");
    assert_int_equal(hwnas_options_get_string(o, "constraints", &s), HWNAS_OK);
    assert_string_equal(s, "latency_ms<=5;params<=100000");
    /* Wrong-type reads fail and say why, without touching the output. */
    i = 7;
    assert_int_equal(hwnas_options_get_int(o, "crossover", &i), HWNAS_EINVAL);
    assert_int_equal(i, 7);
    assert_non_null(strstr(hwnas_error_last(), "'crossover'"));
    assert_int_equal(hwnas_options_get_bool(o, "population", &b), HWNAS_EINVAL);
    assert_int_equal(hwnas_options_get_float(o, "ordinal", &f), HWNAS_EINVAL);
    assert_int_equal(hwnas_options_get_int(o, "missing", &i), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "valid keys: population, crossover"));
    hwnas_options_free(o);
}

static void test_bool_spellings(void **state)
{
    (void)state;
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    hwnas_options *o = demo(NULL);
    int b;
    for (int k = 0; k < 4; k++) {
        assert_int_equal(hwnas_options_set(o, "ordinal", yes[k]), HWNAS_OK);
        hwnas_options_get_bool(o, "ordinal", &b);
        assert_int_equal(b, 1);
        assert_int_equal(hwnas_options_set(o, "ordinal", no[k]), HWNAS_OK);
        hwnas_options_get_bool(o, "ordinal", &b);
        assert_int_equal(b, 0);
    }
    assert_int_equal(hwnas_options_set(o, "ordinal", "maybe"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "boolean"));
    hwnas_options_free(o);
}

static void test_errors_name_the_input(void **state)
{
    (void)state;
    hwnas_options *o = demo(NULL);
    assert_int_equal(hwnas_options_set(o, "population", "1"), HWNAS_EINVAL);
    assert_string_equal(hwnas_error_last(),
                        "option 'population' of strategy:demo = 1 is out of range [2, 100000]");
    assert_int_equal(hwnas_options_set(o, "population", "4x"), HWNAS_EINVAL);
    assert_string_equal(hwnas_error_last(),
                        "option 'population' of strategy:demo expects an integer, got '4x'");
    assert_int_equal(hwnas_options_set(o, "population", "99999999999999999999999"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "out of range"));
    assert_int_equal(hwnas_options_set(o, "crossover", "1.5"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "[0, 1]"));
    assert_int_equal(hwnas_options_set(o, "crossover", "nan"), HWNAS_EINVAL);
    assert_string_equal(hwnas_error_last(),
                        "option 'crossover' of strategy:demo expects a finite number, got 'nan'");
    static const char *const bad_floats[] = {"-nan", "inf", "-Infinity", "1e400", "0.5x",
                                             "0.5 0.1", "--1", "."};
    for (size_t i = 0; i < sizeof bad_floats / sizeof *bad_floats; i++) {
        assert_int_equal(hwnas_options_set(o, "crossover", bad_floats[i]), HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "option 'crossover' of strategy:demo"));
    }
    static const char *const bad_ints[] = {"1e3", "0x10", "5.0", "9223372036854775808",
                                           "-9223372036854775809", "12abc", "", "-"};
    for (size_t i = 0; i < sizeof bad_ints / sizeof *bad_ints; i++) {
        assert_int_equal(hwnas_options_set(o, "population", bad_ints[i]), HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "option 'population' of strategy:demo"));
    }
    assert_int_equal(hwnas_options_set(o, "crossover", ""), HWNAS_EINVAL);
    assert_int_equal(hwnas_options_set(o, "schedule", "linear"), HWNAS_EINVAL);
    assert_string_equal(hwnas_error_last(),
                        "option 'schedule' of strategy:demo = 'linear' is not one of "
                        "constant|step|cosine");
    assert_int_equal(hwnas_options_set(o, "crosover", "0.5"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "did you mean 'crossover'"));
    assert_int_equal(hwnas_options_set(o, "zzzzzzzzzz", "0.5"), HWNAS_EINVAL);
    assert_null(strstr(hwnas_error_last(), "did you mean"));
    assert_int_equal(hwnas_options_set(NULL, "a", "b"), HWNAS_EINVAL);
    assert_int_equal(hwnas_options_set(o, NULL, "b"), HWNAS_EINVAL);
    /* Nothing above changed a value. */
    assert_string_equal(hwnas_options_value(o, 0), "40");
    assert_string_equal(hwnas_options_value(o, 1), "0.9");
    hwnas_options_free(o);
}

/* A kind's table with a NaN or inverted range is refused when options
 * are made (a plugin's table comes from outside). */
static void test_bad_ranges(void **state)
{
    (void)state;
    static const hwnas__option_spec nan_spec[] = {
        {"n", HWNAS_OPTION_INT, "1", NAN, 10, NULL, "an int"},
    };
    static const hwnas__option_spec inverted[] = {
        {"x", HWNAS_OPTION_FLOAT, "1", 2, 1, NULL, "a float"},
    };
    static const hwnas__kind k1 = {"plugin:nan", nan_spec, 1, NULL};
    static const hwnas__kind k2 = {"plugin:inverted", inverted, 1, NULL};
    hwnas_options *o = (hwnas_options *)0x1;
    assert_int_equal(hwnas__options_new_kind(&o, ctx, &k1, NULL), HWNAS_EINTERNAL);
    assert_null(o);
    assert_non_null(strstr(hwnas_error_last(), "option 'n' of plugin:nan has the range [nan"));
    assert_int_equal(hwnas__options_new_kind(&o, ctx, &k2, NULL), HWNAS_EINTERNAL);
    assert_non_null(strstr(hwnas_error_last(), "[2, 1]"));
}

/* An old name (alias row) reads as the option it stands for, is neither
 * listed nor written, and a table whose alias is misplaced or names no
 * option is refused (issue 25, item 5). */
static void test_alias_rows(void **state)
{
    (void)state;
    static const hwnas__option_spec renamed[] = {
        {"parallel", HWNAS_OPTION_INT, "0", 0, 64, NULL, "candidates at once"},
        {"seed", HWNAS_OPTION_INT, "0", 0, 1e9, NULL, "a seed"},
        {"threads", HWNAS__OPTION_ALIAS, "parallel", 0, 0, NULL, "old name of parallel"},
    };
    static const hwnas__option_spec misplaced[] = {
        {"threads", HWNAS__OPTION_ALIAS, "parallel", 0, 0, NULL, "old name"},
        {"parallel", HWNAS_OPTION_INT, "0", 0, 64, NULL, "candidates at once"},
    };
    static const hwnas__option_spec dangling[] = {
        {"parallel", HWNAS_OPTION_INT, "0", 0, 64, NULL, "candidates at once"},
        {"threads", HWNAS__OPTION_ALIAS, "workers", 0, 0, NULL, "old name"},
    };
    static const hwnas__kind k = {"test:renamed", renamed, 3, NULL};
    static const hwnas__kind k_mis = {"test:misplaced", misplaced, 2, NULL};
    static const hwnas__kind k_dang = {"test:dangling", dangling, 2, NULL};

    hwnas_options *o = NULL;
    assert_int_equal(hwnas__options_new_kind(&o, ctx, &k, "threads=3;seed=2"), HWNAS_OK);
    assert_int_equal(hwnas_options_count(o), 2);
    assert_string_equal(hwnas_options_value(o, 0), "3");
    assert_int_equal(hwnas_options_index(o, "threads"), 0);
    assert_int_equal(hwnas_options_set(o, "threads", "5"), HWNAS_OK);
    int64_t v = 0;
    assert_int_equal(hwnas_options_get_int(o, "parallel", &v), HWNAS_OK);
    assert_int_equal(v, 5);
    assert_int_equal(hwnas_options_get_int(o, "threads", &v), HWNAS_OK);
    assert_int_equal(v, 5);
    assert_int_equal(hwnas_options_set(o, "threads", "65"), HWNAS_EINVAL); /* range of parallel */
    assert_non_null(strstr(hwnas_error_last(), "parallel"));
    char *text = NULL;
    assert_int_equal(hwnas_options_format(o, 0, &text), HWNAS_OK);
    assert_string_equal(text, "parallel=5;seed=2");
    hwnas_free(text);
    assert_int_equal(hwnas_options_set(o, "thread", "1"), HWNAS_EINVAL);
    assert_null(strstr(hwnas_error_last(), "threads,")); /* aliases are not offered */
    hwnas_options_free(o);

    o = (hwnas_options *)0x1;
    assert_int_equal(hwnas__options_new_kind(&o, ctx, &k_mis, NULL), HWNAS_EINTERNAL);
    assert_null(o);
    assert_non_null(strstr(hwnas_error_last(), "option 'threads' of test:misplaced"));
    assert_int_equal(hwnas__options_new_kind(&o, ctx, &k_dang, NULL), HWNAS_EINTERNAL);
    assert_non_null(strstr(hwnas_error_last(), "an alias must follow"));
}

static void test_parse_syntax_errors_are_atomic(void **state)
{
    (void)state;
    hwnas_options *o = demo(NULL);
    assert_int_equal(hwnas_options_parse(o, "population=50;crossover"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "expected key=value at position 15"));
    assert_int_equal(hwnas_options_parse(o, "population=50;=3"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "empty key"));
    assert_int_equal(hwnas_options_parse(o, "population=50;constraints=\"a;b"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "unterminated quote"));
    assert_int_equal(hwnas_options_parse(o, "constraints='x' y;population=50"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "expected ';'"));
    assert_int_equal(hwnas_options_parse(o, "population=50;schedule=bogus"), HWNAS_EINVAL);
    assert_string_equal(hwnas_options_value(o, 0), "40"); /* all or nothing */
    assert_int_equal(hwnas_options_parse(o, "population=50;population=60"), HWNAS_OK);
    assert_string_equal(hwnas_options_value(o, 0), "60"); /* last wins */
    assert_int_equal(hwnas_options_parse(o, NULL), HWNAS_OK);
    assert_int_equal(hwnas_options_parse(o, " ; ;"), HWNAS_OK);
    assert_int_equal(hwnas_options_parse(NULL, "a=b"), HWNAS_EINVAL);
    hwnas_options_free(o);
}

static void test_quotes_and_escapes(void **state)
{
    (void)state;
    hwnas_options *o = demo("constraints='he said \"hi\"; ok'");
    assert_string_equal(hwnas_options_value(o, 4), "he said \"hi\"; ok");
    assert_int_equal(hwnas_options_parse(o, "constraints=\"a\\\"b\\\\c\""), HWNAS_OK);
    assert_string_equal(hwnas_options_value(o, 4), "a\"b\\c");
    assert_int_equal(hwnas_options_parse(o, "constraints=  spaced out  "), HWNAS_OK);
    assert_string_equal(hwnas_options_value(o, 4), "spaced out");
    assert_int_equal(hwnas_options_parse(o, "constraints=\"  kept  \""), HWNAS_OK);
    assert_string_equal(hwnas_options_value(o, 4), "  kept  ");
    assert_int_equal(hwnas_options_parse(o, "constraints=a=b=c"), HWNAS_OK);
    assert_string_equal(hwnas_options_value(o, 4), "a=b=c");
    hwnas_options_free(o);
}

static void test_format_round_trip(void **state)
{
    (void)state;
    hwnas_options *o = demo("crossover=0.1;constraints=\"x<=1; y>=\\\"2\\\"\";ordinal=on");
    char *all = NULL, *changed = NULL;
    assert_int_equal(hwnas_options_format(o, 0, &all), HWNAS_OK);
    assert_string_equal(all, "population=40;crossover=0.1;ordinal=true;schedule=cosine;"
                             "constraints=\"x<=1; y>=\\\"2\\\"\"");
    assert_int_equal(hwnas_options_format(o, 1, &changed), HWNAS_OK);
    assert_string_equal(changed, "crossover=0.1;ordinal=true;constraints=\"x<=1; y>=\\\"2\\\"\"");
    hwnas_options *p = demo(all);
    for (size_t i = 0; i < hwnas_options_count(o); i++)
        assert_string_equal(hwnas_options_value(o, i), hwnas_options_value(p, i));
    hwnas_options_reset(p);
    char *none = NULL;
    assert_int_equal(hwnas_options_format(p, 1, &none), HWNAS_OK);
    assert_string_equal(none, "");
    /* The empty string default must be quoted to survive a round trip. */
    char *defaults = NULL;
    assert_int_equal(hwnas_options_format(p, 0, &defaults), HWNAS_OK);
    assert_non_null(strstr(defaults, "constraints=\"\""));
    hwnas_free(all);
    hwnas_free(changed);
    hwnas_free(none);
    hwnas_free(defaults);
    hwnas_options_free(o);
    hwnas_options_free(p);
}

static void test_float_canonical(void **state)
{
    (void)state;
    hwnas_options *o = demo("crossover=1e-1");
    assert_string_equal(hwnas_options_value(o, 1), "0.1");
    assert_int_equal(hwnas_options_set(o, "crossover", "-0"), HWNAS_OK);
    assert_string_equal(hwnas_options_value(o, 1), "0");
    assert_int_equal(hwnas_options_set(o, "crossover", "0.3333333333333333"), HWNAS_OK);
    double f;
    hwnas_options_get_float(o, "crossover", &f);
    assert_true(f == 0.3333333333333333);
    hwnas_options_free(o);
}

static void test_kinds(void **state)
{
    (void)state;
    assert_true(hwnas_kind_count(ctx) >= 1);
    int found = 0;
    for (size_t i = 0; i < hwnas_kind_count(ctx); i++)
        found |= strcmp(hwnas_kind_name(ctx, i), "context") == 0;
    assert_true(found);
    assert_null(hwnas_kind_name(ctx, hwnas_kind_count(ctx)));
    hwnas_options *o = NULL;
    assert_int_equal(hwnas_options_new(&o, ctx, "context"), HWNAS_OK);
    assert_int_equal(hwnas_options_count(o), 4);
    assert_string_equal(hwnas_options_range(o, 2), "error|warn|info|debug");
    assert_string_equal(hwnas_options_range(o, 1), "[0, 9223372036854775807]");
    assert_int_equal(hwnas_options_set(o, "seed", "9223372036854775807"), HWNAS_OK);
    hwnas_options_free(o);
    assert_int_equal(hwnas_options_new(&o, ctx, "no:such"), HWNAS_ENOTFOUND);
    assert_null(o);
    assert_non_null(strstr(hwnas_error_last(), "unknown kind 'no:such'; kinds: context"));
    assert_int_equal(hwnas_options_new(NULL, ctx, "context"), HWNAS_EINVAL);
    assert_int_equal(hwnas_options_new(&o, NULL, "context"), HWNAS_EINVAL);
    hwnas_options_free(NULL);
}

/* The number lists of list-valued options (space:macro's channels, the
 * OFA supernet's widths): values, spaces, and errors that name who, the
 * key, the text and the position of the first bad character. */
static void test_number_list(void **state)
{
    (void)state;
    double v[3];
    size_t n = 99;
    assert_int_equal(hwnas__options_number_list("k", "w", " 0.5, 1 ,2", v, 3, &n, 0, 2, 0),
                     HWNAS_OK);
    assert_int_equal(n, 3);
    assert_true(v[0] == 0.5 && v[1] == 1 && v[2] == 2);
    assert_int_equal(hwnas__options_number_list("k", "c", "16", v, 3, &n, 1, 64, 1), HWNAS_OK);
    assert_int_equal(n, 1);
    assert_true(v[0] == 16);
    static const struct {
        const char *text, *words;
        int integers;
    } bad[] = {
        {"", "expected a number in [0, 2] at position 1", 0},
        {"1,,2", "at position 3", 0},
        {"1,3", "option w = '1,3': expected a number in [0, 2] at position 3", 0},
        {"1.5", "expected an integer", 1},
        {"1;2", "expected ',' at position 2", 0},
        {"1,", "at position 3", 0},
        {"nan", "at position 1", 0},
        {"0,1,2,1", "more than 3 entries", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(hwnas__options_number_list("space:x", "w", bad[i].text, v, 3, &n, 0, 2,
                                                    bad[i].integers),
                         HWNAS_EINVAL);
        assert_non_null(strstr(hwnas_error_last(), "space:x: option w"));
        if (!strstr(hwnas_error_last(), bad[i].words))
            fail_msg("'%s': %s", bad[i].text, hwnas_error_last());
    }
}

int run_options_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_listing),
        cmocka_unit_test(test_parse_types),
        cmocka_unit_test(test_bool_spellings),
        cmocka_unit_test(test_errors_name_the_input),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_alias_rows),
        cmocka_unit_test(test_parse_syntax_errors_are_atomic),
        cmocka_unit_test(test_quotes_and_escapes),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_float_canonical),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_number_list),
    };
    return cmocka_run_group_tests_name("core/options", tests, setup, teardown);
}
