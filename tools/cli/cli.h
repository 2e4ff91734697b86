/* The hwnas command line: shared declarations of its subcommands. */
#ifndef HWNAS_CLI_H
#define HWNAS_CLI_H

#include <hwnas/hwnas.h>

/* Exit statuses: 0 success, 1 the work failed, 2 usage error. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Global settings parsed before the subcommand. */
typedef struct cli_globals {
    const char *context_options; /* "threads=2;seed=1" built from flags */
} cli_globals;

int cli_describe(hwnas_context *ctx, int argc, char **argv);
int cli_estimate(hwnas_context *ctx, int argc, char **argv);
int cli_axmul(hwnas_context *ctx, int argc, char **argv);
int cli_axmul_evaluate(hwnas_context *ctx, hwnas_axmul_registry *reg, int argc, char **argv);
int cli_search(hwnas_context *ctx, int argc, char **argv);
int cli_report(hwnas_context *ctx, int argc, char **argv);
int cli_train(hwnas_context *ctx, int argc, char **argv);
int cli_selfcheck(hwnas_context *ctx, int argc, char **argv);
int cli_latency_lut(hwnas_context *ctx, int argc, char **argv);

/* Print "hwnas: <what>: <hwnas_error_last()>" to stderr; returns CLI_FAIL. */
int cli_fail(const char *what, int code);

#endif
