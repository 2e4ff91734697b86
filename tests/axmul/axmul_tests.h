/* The axmul suite's groups, one per file; main.c picks them by suite name. */
#ifndef HWNAS_AXMUL_TESTS_H
#define HWNAS_AXMUL_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int run_families_tests(void);
int run_metrics_tests(void);
int run_files_tests(void);
int run_registry_tests(void);
int run_evoapprox_tests(void);
int run_oom_tests(void);

/* A scratch directory for the test run (created once, under TMPDIR). */
const char *axmul_test_dir(void);

#endif
