/* The strategy part's cmocka executable: `test_strategy unit` or `oom`. */
#include <stdio.h>
#include <string.h>

#include "strategy_tests.h"

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0)
        return run_pareto_tests();
    if (strcmp(suite, "oom") == 0)
        return run_pareto_oom_tests();
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
