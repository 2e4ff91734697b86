/* The strategy suite's groups, one per file; main.c picks them by suite. */
#ifndef HWNAS_STRATEGY_TESTS_H
#define HWNAS_STRATEGY_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int run_pareto_tests(void);
int run_pareto_oom_tests(void);

#endif
