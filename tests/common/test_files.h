/*
 * Reading a whole file in a test (header-only): test_slurp returns its
 * bytes NUL-terminated (malloc'd, the caller frees) and their count in
 * *len when len is not NULL, or NULL (*len 0) when the file cannot be
 * opened. Reads
 * to the end, so pipes and files still being written work too.
 * Include <cmocka.h> (with its prerequisites) before this header.
 */
#ifndef HWNAS_TEST_FILES_H
#define HWNAS_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

static inline char *test_slurp(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    for (size_t r; (r = fread(b + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (n + 1 == cap) {
            b = realloc(b, cap *= 2);
            assert_non_null(b);
        }
    }
    fclose(f);
    b[n] = 0;
    if (len)
        *len = n;
    return b;
}

#endif
