/* The data suite's groups, one per file, and shared helpers (util.c). */
#ifndef HWNAS_DATA_TESTS_H
#define HWNAS_DATA_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hwnas/hwnas.h>

int run_idx_tests(void);
int run_dataset_tests(void);
int run_sample_tests(void);
int run_fmnist_tests(void);
int run_oom_tests(void);

/* A fresh temporary directory (path in a static buffer) and its removal
 * with every file in it. */
const char *tmpdir_new(void);
void tmpdir_remove(const char *dir);

/* The bytes of an IDX file: magic (0, 0, type, rank), big-endian dims, then
 * `data_len` bytes of data copied as given (already big-endian). Returns a
 * malloc'ed buffer and its length in *len. */
uint8_t *idx_bytes(int type, size_t rank, const uint32_t *dims, const void *data,
                   size_t data_len, size_t *len);

/* Write bytes to dir/name (gzip-compressed if gzip); the full path goes to
 * path[512]. */
void write_file(char *path, const char *dir, const char *name, const void *data, size_t len,
                int gzip);

/* Write an IDX file of unsigned bytes. */
void write_idx_u8(char *path, const char *dir, const char *name, size_t rank,
                  const uint32_t *dims, const uint8_t *data, int gzip);

/* assert that message contains every one of the NULL-terminated strings. */
void assert_message_has(const char *first, ...);

#endif
