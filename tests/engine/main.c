/* The engine part's cmocka executable: `test_engine unit`, `test_engine
 * backend`, `test_engine memplan` or `test_engine oom`. */
#include <stdio.h>
#include <string.h>

#include "engine_tests.h"

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0)
        return run_grad_tests() | run_model_tests();
    if (strcmp(suite, "backend") == 0)
        return run_backend_tests();
    if (strcmp(suite, "memplan") == 0)
        return run_memplan_tests();
    if (strcmp(suite, "oom") == 0)
        return run_oom_tests();
    fprintf(stderr, "usage: %s unit|backend|memplan|oom\n", argv[0]);
    return 2;
}
