#include "net_tests.h"
static void test_placeholder(void **state) { (void)state; }
int run_spec_tests(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_placeholder)};
    return cmocka_run_group_tests_name("net_spec", tests, NULL, NULL);
}
