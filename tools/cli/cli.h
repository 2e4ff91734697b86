/* The hwnas command line: shared declarations of its subcommands. */
#ifndef HWNAS_CLI_H
#define HWNAS_CLI_H

#include <stdio.h>

#include <hwnas/hwnas.h>

/* Exit statuses: 0 success, 1 the work failed, 2 usage error. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Global settings parsed before the subcommand. */
typedef struct cli_globals {
    const char *context_options; /* "threads=2;seed=1" built from flags */
} cli_globals;

/* A command of main.c's table. usage prints its whole help text: it is
 * what `hwnas help NAME`, `hwnas NAME --help` and its manual page say
 * (help.c), and what the command prints after a usage error. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(hwnas_context *ctx, int argc, char **argv); /* NULL: later release */
    void (*usage)(FILE *f);
} cli_command;

/* help.c: "hwnas NAME: summary", a blank line, then c's usage text. */
void cli_help_command(FILE *f, const cli_command *c);
/* The manual page (roff) of the command called name among cmds[n], or
 * of hwnas(1) for NULL (main_usage, then every command); a CLI_* status. */
int cli_help_man(FILE *f, const cli_command *cmds, size_t n, const char *name,
                 void (*main_usage)(FILE *));

int cli_describe(hwnas_context *ctx, int argc, char **argv);
int cli_estimate(hwnas_context *ctx, int argc, char **argv);
int cli_axmul(hwnas_context *ctx, int argc, char **argv);
int cli_axmul_evaluate(hwnas_context *ctx, hwnas_axmul_registry *reg, int argc, char **argv);
int cli_search(hwnas_context *ctx, int argc, char **argv);
int cli_report(hwnas_context *ctx, int argc, char **argv);
int cli_train(hwnas_context *ctx, int argc, char **argv);
int cli_supernet(hwnas_context *ctx, int argc, char **argv);
int cli_dsearch(hwnas_context *ctx, int argc, char **argv);
int cli_selfcheck(hwnas_context *ctx, int argc, char **argv);
int cli_latency_lut(hwnas_context *ctx, int argc, char **argv);
/* Each command's help text (see cli_command). */
void cli_describe_usage(FILE *f);
void cli_estimate_usage(FILE *f);
void cli_axmul_usage(FILE *f);
void cli_axmul_evaluate_usage(FILE *f);
void cli_search_usage(FILE *f);
void cli_report_usage(FILE *f);
void cli_train_usage(FILE *f);
void cli_selfcheck_usage(FILE *f);
void cli_latency_lut_usage(FILE *f);
void cli_import_usage(FILE *f);
void cli_supernet_usage(FILE *f);
void cli_dsearch_usage(FILE *f);
void cli_export_usage(FILE *f);
int cli_import(hwnas_context *ctx, int argc, char **argv);
int cli_export(hwnas_context *ctx, int argc, char **argv);
/* Load a net from a .net file, or from a .onnx file (its architecture). onnx.c */
int cli_load_net(hwnas_net **out, hwnas_context *ctx, const char *path);

/* hwnas estimate's arguments. */
typedef struct cli_estimate_args {
    const char *net;           /* the .net (or .onnx) file */
    const char *hardware;      /* --hardware FILE.hw, NULL: the analytic cost only */
    const char *accel_options; /* --accel-options, hwnas_accel_run's options or NULL */
    const char *axmul_dir;     /* --axmul-dir, imported multipliers or NULL */
    const char *svg;           /* --svg OUT.svg or NULL */
    int json;                  /* --json */
} cli_estimate_args;

/* estimate --hardware: the table (or JSON) and the chart; a CLI_* status. */
int cli_estimate_accel(hwnas_context *ctx, const cli_estimate_args *a);

/* Write the stacked bar chart of result's energy by level per layer to
 * path atomically (a temporary file beside it, then rename). Prints what
 * went wrong; returns CLI_OK or CLI_FAIL. */
int cli_accel_svg(const char *path, const hwnas_accel *accel, const hwnas_accel_result *result,
                  const char *title);


/* Write s as a JSON string (quotes included) to f: '"', '\\' and control
 * characters escaped, every byte that is not part of well-formed UTF-8
 * written as \ufffd, so the output is valid UTF-8 JSON whatever s holds.
 * Every command that prints JSON writes its strings through this. */
void cli_json_string(FILE *f, const char *s);
/* s as XML character data or attribute text (escaped, not quoted): bytes
 * that are not UTF-8 become U+FFFD, control characters are dropped; cut
 * after max characters with "..." (max 0: whole). escape.c */
void cli_xml_text(FILE *f, const char *s, size_t max);

/* A whole number in [lo, hi] from all of s (no blanks, no trailing text,
 * nothing beyond long long): 1 and *out; else 0 after "hwnas CMD: OPT
 * needs a whole number from LO to HI, not 'S'" on stderr. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long long lo, long long hi,
                  long long *out);

/* A finite number from all of s in [lo, hi] (or above lo with open_low,
 * below hi with open_high): 1 and *out; else 0 after a message naming cmd,
 * opt, the range and s on stderr. */
int cli_parse_real(const char *cmd, const char *opt, const char *s, double lo, double hi,
                   int open_low, int open_high, double *out);

/* Append [;]key="value" to the option text buf[size] at *used, value
 * quoted and escaped so that no ';' or quote in it sets other options;
 * 0, or -1 when it does not fit (then buf is as before). */
int cli_options_put(char *buf, size_t size, size_t *used, const char *key, const char *value);

/* mpi.c: hwnas under mpirun when built with libhwnas_mpi, else one
 * process. cli_mpi_init initialises MPI only when a launcher started us;
 * cli_mpi_finalize(status) ends it (aborting the job when rank 0 fails
 * before its search ran, so the workers do not wait) and returns status. */
void cli_mpi_init(int *argc, char ***argv);
int cli_mpi_finalize(int status);
int cli_mpi_rank(void); /* 0 in one process */
int cli_mpi_size(void); /* 1 in one process */
/* hwnas_search_run, or hwnas_search_run_mpi over every rank. */
int cli_search_run(hwnas_search *s, const char *mpi_options);
extern int cli_mpi_ran; /* cli_search_run was called */
/* --resume on a worker rank: rank 0's DIR/search.conf copied into a fresh
 * temporary directory local[size] (collective): 1 when the worker is to
 * resume from local, 0 (rank 0, one process, or rank 0 has none), -1 on
 * failure (said on stderr). cli_mpi_unshare_conf removes it. */
int cli_mpi_share_conf(const char *dir, char *local, size_t size);
void cli_mpi_unshare_conf(const char *local);

/* datafile.c: the file a .net or .hw argument names. An existing file
 * or a path with '/' is arg itself; a bare NAME is also a zoo name, the
 * first file of NAME, NAME.EXT in the current directory, then
 * DIR/SUB/NAME[.EXT] for each DIR of $HWNAS_DATA_PATH (':'-separated),
 * then the installed share/hwnas/SUB (beside the binary, then the
 * configured prefix), SUB being nets (.net) or hardware (.hw). Returns
 * arg or buf[size]; NULL when nothing is found, after a message naming
 * cmd and every place looked at on stderr. */
typedef enum { CLI_DATA_NET, CLI_DATA_HARDWARE } cli_data_kind;
const char *cli_data_file(const char *cmd, cli_data_kind kind, const char *arg, char *buf,
                          size_t size);

/* Print "hwnas: <what>: <hwnas_error_last()>" to stderr; returns CLI_FAIL. */
int cli_fail(const char *what, int code);

#endif
