/* The stage list of space:macro and supernet:ofa (hwnas__net_stages_parse). */
#include <string.h>

#include "net/net_internal.h"
#include "net_tests.h"

static void test_stages_values(void **state)
{
    (void)state;
    hwnas__net_stages st;
    memset(&st, 0xa5, sizeof st);
    assert_int_equal(hwnas__net_stages_parse(&st, "space:x", "16, 24,65536", "1,2 ,1",
                                             "0.5,0.75,1,100"),
                     HWNAS_OK);
    assert_int_equal(st.n_stages, 3);
    assert_true(st.channels[0] == 16 && st.channels[1] == 24 && st.channels[2] == 65536);
    assert_true(st.strides[0] == 1 && st.strides[1] == 2 && st.strides[2] == 1);
    assert_int_equal(st.n_widths, 4);
    assert_true(st.widths[0] == 0.5 && st.widths[1] == 0.75 && st.widths[2] == 1 &&
                st.widths[3] == 100);

    /* the most stages there is room for, then one more */
    char ch[128] = "", sd[128] = ""; /* 33 entries of two characters */
    for (int i = 0; i < HWNAS__NET_MAX_STAGES; i++) {
        strcat(ch, i ? ",8" : "8");
        strcat(sd, i ? ",2" : "2");
    }
    assert_int_equal(hwnas__net_stages_parse(&st, "space:x", ch, sd, "1"), HWNAS_OK);
    assert_int_equal(st.n_stages, HWNAS__NET_MAX_STAGES);
    assert_true(st.strides[HWNAS__NET_MAX_STAGES - 1] == 2);
    strcat(ch, ",8");
    strcat(sd, ",2");
    assert_int_equal(hwnas__net_stages_parse(&st, "space:x", ch, sd, "1"), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "space:x: option channels"));
    assert_non_null(strstr(hwnas_error_last(), "more than 32 entries"));
}

static void test_stages_errors(void **state)
{
    (void)state;
    static const struct {
        const char *channels, *strides, *widths, *words;
    } bad[] = {
        {"", "1", "1", "option channels = '': expected an integer in [1, 65536] at position 1"},
        {"16,0", "1,1", "1", "option channels = '16,0': expected an integer"},
        {"16.5", "1", "1", "option channels = '16.5': expected an integer"},
        {"65537", "1", "1", "option channels = '65537'"},
        {"16,x", "1,1", "1", "option channels = '16,x': expected an integer in [1, 65536] at "
                             "position 4"},
        {"16", "3", "1", "option strides = '3': expected an integer in [1, 2] at position 1"},
        {"16", "1;1", "1", "option strides = '1;1': expected ',' at position 2"},
        {"16,32", "1", "1", "options channels and strides list 2 and 1 stages; they must match"},
        {"16", "1,2", "1", "options channels and strides list 1 and 2 stages"},
        {"16", "1", "0", "option widths = '0': expected a number in [0.01, 100] at position 1"},
        {"16", "1", "1,0.5", "option widths = '1,0.5' must be strictly ascending"},
        {"16", "1", "1,1", "option widths = '1,1' must be strictly ascending"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hwnas__net_stages st;
        assert_int_equal(hwnas__net_stages_parse(&st, "supernet:y", bad[i].channels,
                                                 bad[i].strides, bad[i].widths),
                         HWNAS_EINVAL);
        const char *msg = hwnas_error_last();
        if (strncmp(msg, "supernet:y: ", 12) != 0 || !strstr(msg, bad[i].words))
            fail_msg("channels '%s' strides '%s' widths '%s': %s", bad[i].channels,
                     bad[i].strides, bad[i].widths, msg);
    }
}

int run_stages_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_values),
        cmocka_unit_test(test_stages_errors),
    };
    return cmocka_run_group_tests_name("net_stages", tests, NULL, NULL);
}
