/*
 * A scratch directory for a cmocka test program (header-only): made in
 * setup, removed with everything in it in teardown (kept when the
 * environment sets HWNAS_KEEP_TMP, to look at after a failure);
 * test_tmpdir_write puts a text file there and returns its path (valid
 * until the next call).
 * Include <cmocka.h> (with its prerequisites) before this header.
 */
#ifndef HWNAS_TEST_TMPDIR_H
#define HWNAS_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char test_tmpdir[64];

/* mkdtemp under /tmp with the given prefix; 0 on success. */
static inline int test_tmpdir_make(const char *prefix)
{
    snprintf(test_tmpdir, sizeof test_tmpdir, "/tmp/%s-XXXXXX", prefix);
    return mkdtemp(test_tmpdir) ? 0 : -1;
}

static inline int test_tmpdir_remove(void)
{
    if (getenv("HWNAS_KEEP_TMP"))
        return 0;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static inline const char *test_tmpdir_write(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

#endif
