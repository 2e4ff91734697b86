/* The core suite's groups, one per file; main.c picks them by suite name. */
#ifndef HWNAS_CORE_TESTS_H
#define HWNAS_CORE_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int run_error_context_tests(void);
int run_options_tests(void);
int run_rng_tests(void);
int run_parallel_tests(void);
int run_io_tests(void);
int run_byte_stream_tests(void);
int run_csv_tests(void);
int run_name_list_tests(void);
int run_oom_tests(void);

#endif
