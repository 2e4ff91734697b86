/* The axmul part's cmocka executable: `test_axmul unit` or `test_axmul oom`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axmul_tests.h"

static char scratch[256];

const char *axmul_test_dir(void)
{
    if (!scratch[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/hwnas-axmul-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch))
            return NULL;
    }
    return scratch;
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : "unit";
    int rc;
    if (strcmp(suite, "unit") == 0)
        rc = run_families_tests() | run_metrics_tests() | run_files_tests() |
             run_registry_tests() | run_evoapprox_tests();
    else if (strcmp(suite, "oom") == 0)
        rc = run_oom_tests();
    else {
        fprintf(stderr, "usage: %s unit|oom\n", argv[0]);
        return 2;
    }
    if (scratch[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", scratch);
    }
    return rc;
}
