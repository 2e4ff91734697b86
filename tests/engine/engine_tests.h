/* The engine part's cmocka groups. */
#ifndef HWNAS_ENGINE_TESTS_H
#define HWNAS_ENGINE_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

int run_grad_tests(void);
int run_model_tests(void);
int run_oom_tests(void);
int run_backend_tests(void);
int run_memplan_tests(void);

#endif
