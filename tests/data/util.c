/* Helpers shared by the data tests: temporary directories, IDX writers. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_tests.h"
#include "core/core_internal.h"

const char *tmpdir_new(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/hwnas-data-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

void tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

uint8_t *idx_bytes(int type, size_t rank, const uint32_t *dims, const void *data,
                   size_t data_len, size_t *len)
{
    *len = 4 + 4 * rank + data_len;
    uint8_t *b = malloc(*len + 1);
    assert_non_null(b);
    b[0] = 0;
    b[1] = 0;
    b[2] = (uint8_t)type;
    b[3] = (uint8_t)rank;
    for (size_t i = 0; i < rank; i++) {
        uint8_t *p = b + 4 + 4 * i;
        p[0] = (uint8_t)(dims[i] >> 24);
        p[1] = (uint8_t)(dims[i] >> 16);
        p[2] = (uint8_t)(dims[i] >> 8);
        p[3] = (uint8_t)dims[i];
    }
    if (data_len)
        memcpy(b + 4 + 4 * rank, data, data_len);
    return b;
}

void write_file(char *path, const char *dir, const char *name, const void *data, size_t len,
                int gzip)
{
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, NULL), HWNAS_OK);
    snprintf(path, 512, "%s/%s", dir, name);
    assert_int_equal(hwnas__file_write_atomic(ctx, path, data, len, gzip), HWNAS_OK);
    hwnas_context_free(ctx);
}

void write_idx_u8(char *path, const char *dir, const char *name, size_t rank,
                  const uint32_t *dims, const uint8_t *data, int gzip)
{
    size_t n = 1, len;
    for (size_t i = 0; i < rank; i++)
        n *= dims[i];
    uint8_t *b = idx_bytes(HWNAS_IDX_UBYTE, rank, dims, data, n, &len);
    write_file(path, dir, name, b, len, gzip);
    free(b);
}

void assert_message_has(const char *first, ...)
{
    const char *msg = hwnas_error_last();
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        if (!strstr(msg, s))
            fail_msg("error message \"%s\" lacks \"%s\"", msg, s);
    va_end(ap);
}
