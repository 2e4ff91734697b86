/* The search strategies' cmocka executable: `test_strategies unit` or `oom`. */
#include <stdio.h>
#include <string.h>

int run_strategy_tests(void);
int run_strategy_nb201_tests(void);
int run_strategy_oom_tests(void);

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0)
        return run_strategy_tests() | run_strategy_nb201_tests();
    if (strcmp(suite, "oom") == 0)
        return run_strategy_oom_tests();
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
