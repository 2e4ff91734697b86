/*
 * A table estimator file giving every NAS-Bench-201 cell genotype (of
 * space:cell with channels=4;cells=1) a score "s2" unlike the proxy's: the
 * refine estimator of the search and report tests (header-only).
 * Include <cmocka.h> (with its prerequisites) before this header.
 */
#ifndef HWNAS_TEST_REFINE_TABLE_H
#define HWNAS_TEST_REFINE_TABLE_H

#include <stdio.h>

#include "hwnas/hwnas.h"

static inline void test_write_refine_table(hwnas_context *ctx, const char *path)
{
    hwnas_space *sp;
    assert_int_equal(hwnas_space_new(&sp, ctx, "cell", "channels=4;cells=1"), HWNAS_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("key,s2\n", f);
    for (uint32_t code = 0; code < 15625; code++) {
        uint32_t g[6];
        for (uint32_t k = 0, c = code; k < 6; k++, c /= 5)
            g[k] = c % 5;
        char *key;
        assert_int_equal(hwnas_space_format(sp, g, &key), HWNAS_OK);
        fprintf(f, "\"%s\",%u\n", key, 60 + (code * 7919u) % 37u);
        hwnas_free(key);
    }
    fclose(f);
    hwnas_space_free(sp);
}

#endif
