/* Lists of names in messages (lib/core/name_list.c) and the messages that
 * use them: a list too long for a message is cut after a whole name and
 * says how many it leaves out (a fixed buffer once cut it mid-name). */
#include <stdio.h>
#include <string.h>

#include "core_tests.h"
#include "core/core_internal.h"
#include "hwnas/hwnas.h"

enum { N_LONG = 100 };
static char long_names[N_LONG][48];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < N_LONG; i++)
        snprintf(long_names[i], sizeof long_names[i], "family:a_rather_long_kind_name_%03d", i);
    return 0;
}

/* Every item of text (split at sep, up to "... and N more") is one of the
 * names; returns how many it shows. */
static int shown_whole(const char *text, const char *sep, int n_names, const char *prefix)
{
    int shown = 0;
    size_t sl = strlen(sep);
    const char *p = text;
    while (*p && strncmp(p, "... and ", 8) != 0) {
        const char *end = strstr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int found = 0;
        for (int i = 0; i < n_names && !found; i++) {
            char want[64];
            snprintf(want, sizeof want, "%s%s", prefix, long_names[i] + 7);
            found = strlen(want) == len && memcmp(want, p, len) == 0;
        }
        if (!found)
            fail_msg("'%.*s' is not a whole name in: %s", (int)len, p, text);
        shown++;
        p = end ? end + sl : p + len;
    }
    return shown;
}

static void test_list(void **state)
{
    (void)state;
    hwnas__name_list l;
    hwnas__name_list_init(&l, ", ");
    assert_string_equal(hwnas__name_list_text(&l), "");
    for (int i = 0; i < N_LONG; i++)
        hwnas__name_list_add(&l, long_names[i] + 7);
    const char *text = hwnas__name_list_text(&l);
    int shown = shown_whole(text, ", ", N_LONG, "");
    char tail[64];
    snprintf(tail, sizeof tail, ", ... and %d more", N_LONG - shown);
    assert_true(shown > 5 && shown < N_LONG);
    assert_non_null(strstr(text, tail));
    assert_true(strlen(text) < sizeof l.text);
    /* a short list is whole */
    hwnas__name_list_init(&l, " ");
    hwnas__name_list_add(&l, "a");
    hwnas__name_list_addf(&l, "%s=%d", "b", 2);
    assert_string_equal(hwnas__name_list_text(&l), "a b=2");
}

static void test_many_kinds(void **state)
{
    (void)state;
    static hwnas__kind kinds[N_LONG];
    static const hwnas__kind *ptrs[N_LONG];
    for (int i = 0; i < N_LONG; i++) {
        kinds[i] = (hwnas__kind){long_names[i], NULL, 0, NULL};
        ptrs[i] = &kinds[i];
    }
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    assert_int_equal(hwnas__context_add_kinds(ctx, ptrs, N_LONG, NULL, NULL), HWNAS_OK);
    assert_null(hwnas__kind_find(ctx, "no_such_kind"));
    const char *msg = hwnas_error_last();
    assert_non_null(strstr(msg, "(hwnas describe lists them all)"));
    assert_non_null(strstr(msg, " more"));
    assert_true(strlen(msg) < 1000);
    /* found by bare name still */
    assert_ptr_equal(hwnas__kind_find(ctx, "a_rather_long_kind_name_099"), &kinds[99]);
    hwnas_context_free(ctx);
}

static void test_many_keys(void **state)
{
    (void)state;
    static hwnas__option_spec specs[N_LONG];
    for (int i = 0; i < N_LONG; i++)
        specs[i] = (hwnas__option_spec){long_names[i] + 7, HWNAS_OPTION_INT, "0", 0, 1, NULL,
                                        "a key"};
    const hwnas__kind kind = {"family:many", specs, N_LONG, NULL};
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_options *o = NULL;
    /* the key closest to the last one: the suggestion looks at every key,
     * also those past what the list shows */
    assert_int_equal(hwnas__options_new_kind(&o, ctx, &kind, "a_rather_long_kind_name_99=1"),
                     HWNAS_EINVAL);
    const char *msg = hwnas_error_last();
    assert_non_null(strstr(msg, "did you mean 'a_rather_long_kind_name_099'?"));
    const char *list = strstr(msg, "valid keys: ");
    assert_non_null(list);
    int shown = shown_whole(list + 12, ", ", N_LONG, "");
    assert_true(shown > 5 && shown < N_LONG);
    assert_null(o);
    hwnas_context_free(ctx);
}

/* Positions in messages keep line and column whatever the file name's
 * length (a long one once pushed them out of a 320-byte prefix). */
static void test_where(void **state)
{
    (void)state;
    char out[64], file[1001];
    assert_string_equal(hwnas__where(out, sizeof out, "a.net", 3, 7), "a.net:3:7: ");
    assert_string_equal(hwnas__where(out, sizeof out, "a.lut", 12, 0), "a.lut:12: ");
    memset(file, 'd', 1000);
    memcpy(file + 990, "/tail.net", 10);
    hwnas__where(out, sizeof out, file, 2, 5);
    assert_int_equal(strlen(out), sizeof out - 1);
    assert_true(strncmp(out, "...", 3) == 0);
    assert_non_null(strstr(out, "/tail.net:2:5: "));
    /* through the parsers */
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_net *net;
    assert_int_equal(hwnas_net_parse(&net, ctx, "hwnas-net 1\nx = nope\n", file), HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "/tail.net:2:5: "));
    hwnas_latency_lut *lut;
    assert_int_equal(hwnas_latency_lut_parse(&lut, ctx, "hwnas-latency-lut 1\nfrob\n", 24, file),
                     HWNAS_EFORMAT);
    assert_non_null(strstr(hwnas_error_last(), "/tail.net:2: "));
    assert_non_null(strstr(hwnas_error_last(), "unknown line"));
    hwnas_context_free(ctx);
}

int run_name_list_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_many_kinds),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_where),
    };
    return cmocka_run_group_tests_name("core/name_list", tests, setup, NULL);
}
