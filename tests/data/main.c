/* The data part's cmocka executable: `test_data unit` or `test_data oom`. */
#include <stdio.h>
#include <string.h>

#include "data_tests.h"

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    if (strcmp(suite, "unit") == 0)
        return run_idx_tests() | run_dataset_tests() | run_sample_tests() | run_fmnist_tests();
    if (strcmp(suite, "oom") == 0)
        return run_oom_tests();
    fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
    return 2;
}
