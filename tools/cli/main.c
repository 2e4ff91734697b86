/* hwnas - the command-line front end of libhwnas. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "cli.h"

typedef cli_command command;

static const command commands[] = {
    {"search", "run a hardware-aware architecture search (the main job)", cli_search, cli_search_usage},
    {"report", "reprint a search's front, regenerate its files and plots (--html: one page)", cli_report, cli_report_usage},
    {"estimate", "print the cost, latency and energy of a network", cli_estimate, cli_estimate_usage},
    {"import", "read an ONNX model into a .net (and weights)", cli_import, cli_import_usage},
    {"export", "write a .net (and weights) as an ONNX model", cli_export, cli_export_usage},
    {"train", "train a network on Fashion-MNIST and report its test accuracy", cli_train, cli_train_usage},
    {"supernet", "train a weight-sharing supernet (train) and rate cells with it (rate)",
     cli_supernet, cli_supernet_usage},
    {"dsearch", "differentiable search (DARTS, GDAS) of the cell space with a hardware cost",
     cli_dsearch, cli_dsearch_usage},
    {"axmul", "list, show, import and export approximate multipliers", cli_axmul, cli_axmul_usage},
    {"latency-lut", "build and validate per-layer latency tables", cli_latency_lut, cli_latency_lut_usage},
    {"describe", "list the options of a kind (hwnas describe context)", cli_describe, cli_describe_usage},
    {"selfcheck", "check that this build of libhwnas works", cli_selfcheck, cli_selfcheck_usage},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hwnas [--threads N] [--seed N] [--engine auto|openblas|onednn] [--log-level LEVEL]\n"
            "             [--plugin FILE]... COMMAND [ARGS]\n"
            "       hwnas --version | help [COMMAND] | COMMAND --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].run ? "" : " (not in this version)");
    fprintf(f, "\nA NET.net or FILE.hw argument may be a name from the model zoo or the shipped\n"
               "hardware (hwnas estimate resnet50 --hardware eyeriss): NAME or NAME.net (.hw) in\n"
               "the current directory, then in DIR/nets (DIR/hardware) for each DIR of\n"
               "$HWNAS_DATA_PATH (':'-separated), then in the installed share/hwnas.\n");
}

int cli_fail(const char *what, int code)
{
    const char *msg = hwnas_error_last();
    fprintf(stderr, "hwnas: %s: %s\n", what, *msg ? msg : hwnas_error_str(code));
    return CLI_FAIL;
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Global flags become context options, so that their checking and error
 * messages are the library's. */
static int append_option(char *buf, size_t size, const char *key, const char *value)
{
    size_t used = strlen(buf);
    int n = snprintf(buf + used, size - used, "%s%s=\"", used ? ";" : "", key);
    if (n < 0 || (size_t)n >= size - used)
        return 0;
    used += (size_t)n;
    for (; *value; value++) { /* escaped: a value cannot end its quotes */
        if (used + 3 >= size)
            return 0;
        if (*value == '"' || *value == '\\')
            buf[used++] = '\\';
        buf[used++] = *value;
    }
    if (used + 2 >= size)
        return 0;
    buf[used++] = '"';
    buf[used] = 0;
    return 1;
}

static int run(int argc, char **argv);

/* Whatever the command, output that did not reach stdout (a full disk, a
 * closed pipe or descriptor) is a failure, said on stderr. */
int main(int argc, char **argv)
{
    /* A closed standard descriptor would be handed out by the next open()
     * (the journal, a lock file) and printf would then write into it. */
    int closed[3];
    for (int fd = 0; fd < 3; fd++) {
        closed[fd] = fcntl(fd, F_GETFD) < 0 && errno == EBADF;
        if (closed[fd] && open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
            return CLI_FAIL;
    }
    if (closed[1]) {
        fprintf(stderr, "hwnas: standard output is closed\n");
        return CLI_FAIL;
    }
    cli_mpi_init(&argc, &argv);
    int status = cli_mpi_finalize(run(argc, argv));
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = errno;
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        fprintf(stderr, "hwnas: cannot write the output: %s\n", e ? strerror(e) : "write error");
        return status == CLI_OK ? CLI_FAIL : status;
    }
    return status;
}

static int run(int argc, char **argv)
{
    char ctx_options[512] = "";
    const char *plugins[16];
    size_t n_plugins = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0) {
            printf("hwnas %s (libhwnas %s, ABI %u: libhwnas.so.%u)\nfeatures: %s\n",
                   HWNAS_VERSION_STRING, hwnas_version_string(), hwnas_abi_version(),
                   hwnas_abi_version(), hwnas_build_features());
            return CLI_OK;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        }
        if (strcmp(a, "--plugin") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hwnas: option '%s' needs a value\n", a);
                usage(stderr);
                return CLI_USAGE;
            }
            if (n_plugins == sizeof plugins / sizeof plugins[0]) {
                fprintf(stderr, "hwnas: at most %zu plugins\n", n_plugins);
                return CLI_USAGE;
            }
            plugins[n_plugins++] = argv[++i];
            continue;
        }
        const char *key = strcmp(a, "--threads") == 0     ? "threads"
                          : strcmp(a, "--seed") == 0      ? "seed"
                          : strcmp(a, "--log-level") == 0 ? "log_level"
                          : strcmp(a, "--engine") == 0    ? "engine"
                                                          : NULL;
        if (!key) {
            fprintf(stderr, "hwnas: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "hwnas: option '%s' needs a value\n", a);
            usage(stderr);
            return CLI_USAGE;
        }
        if (!append_option(ctx_options, sizeof ctx_options, key, argv[++i])) {
            fprintf(stderr, "hwnas: option values too long\n");
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        /* hidden: --man [COMMAND], the manual page the build installs */
        if (i + 1 < argc && strcmp(argv[i + 1], "--man") == 0 && i + 3 >= argc)
            return cli_help_man(stdout, commands, sizeof commands / sizeof commands[0],
                                i + 2 < argc ? argv[i + 2] : NULL, usage);
        if (i + 2 < argc) {
            usage(stderr);
            return CLI_USAGE;
        }
        if (i + 1 < argc) {
            const command *c = find_command(argv[i + 1]);
            if (!c) {
                fprintf(stderr, "hwnas: unknown command '%s'\n", argv[i + 1]);
                usage(stderr);
                return CLI_USAGE;
            }
            cli_help_command(stdout, c);
            return CLI_OK;
        }
        usage(stdout);
        return CLI_OK;
    }
    const command *cmd = find_command(name);
    if (!cmd) {
        fprintf(stderr, "hwnas: unknown command '%s'\n", name);
        usage(stderr);
        return CLI_USAGE;
    }
    for (int k = i + 1; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            cli_help_command(stdout, cmd);
            return CLI_OK;
        }
    if (!cmd->run) {
        fprintf(stderr, "hwnas %s: not available in libhwnas %s yet\n", cmd->name,
                hwnas_version_string());
        return CLI_FAIL;
    }
    if (hwnas_version_number() != HWNAS_VERSION_NUMBER) {
        fprintf(stderr, "hwnas: built with libhwnas %s but running with %s\n",
                HWNAS_VERSION_STRING, hwnas_version_string());
        return CLI_FAIL;
    }
    hwnas_context *ctx;
    int rc = hwnas_context_new(&ctx, ctx_options);
    if (rc != HWNAS_OK) {
        cli_fail("bad global option", rc);
        return CLI_USAGE;
    }
    for (size_t p = 0; p < n_plugins; p++) {
        /* A bare name is a file in the current directory when there is one
         * (as a user means it); otherwise the dynamic linker looks it up
         * in its search path (LD_LIBRARY_PATH, ...), as dlopen does. */
        char local[4096];
        const char *path = plugins[p];
        if (!strchr(path, '/') && access(path, F_OK) == 0 &&
            (size_t)snprintf(local, sizeof local, "./%s", path) < sizeof local)
            path = local;
        rc = hwnas_context_load_plugin(ctx, path);
        if (rc != HWNAS_OK) {
            cli_fail("plugin", rc);
            hwnas_context_free(ctx);
            return CLI_FAIL;
        }
    }
    int status = cmd->run(ctx, argc - i - 1, argv + i + 1);
    hwnas_context_free(ctx);
    return status;
}
