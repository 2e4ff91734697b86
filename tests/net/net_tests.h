/* The net suite's groups, one per file; main.c picks them by suite name. */
#ifndef HWNAS_NET_TESTS_H
#define HWNAS_NET_TESTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hwnas/hwnas.h>

int run_build_tests(void);
int run_spec_tests(void);
int run_zoo_tests(void);
int run_stages_tests(void);
int run_oom_tests(void);

/* Parse text or fail the test with the library's message. */
hwnas_net *parse_ok(hwnas_context *ctx, const char *text);
/* Parse text expecting failure code; returns the message. */
const char *parse_fail(hwnas_context *ctx, const char *text, int code);

#endif
