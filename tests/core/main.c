/* The core part's cmocka executable: `test_core unit` or `test_core oom`. */
#include <stdio.h>
#include <string.h>

#include "core_tests.h"

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0)
        return run_error_context_tests() | run_options_tests() | run_rng_tests() |
               run_parallel_tests() | run_io_tests() | run_byte_stream_tests() |
               run_csv_tests() | run_name_list_tests();
    if (strcmp(suite, "oom") == 0)
        return run_oom_tests();
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
