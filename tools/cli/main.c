/* hwnas - the command-line front end of libhwnas. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(hwnas_context *ctx, int argc, char **argv); /* NULL: later release */
} command;

static const command commands[] = {
    {"search", "run a hardware-aware architecture search (the main job)", cli_search},
    {"report", "reprint a search's front and regenerate its files and plots", cli_report},
    {"estimate", "print the cost, latency and energy of a network", cli_estimate},
    {"train", "train a network on Fashion-MNIST and report its test accuracy", cli_train},
    {"axmul", "list, show, import and export approximate multipliers", cli_axmul},
    {"latency-lut", "build and validate per-layer latency tables", cli_latency_lut},
    {"describe", "list the options of a kind (hwnas describe context)", cli_describe},
    {"selfcheck", "check that this build of libhwnas works", cli_selfcheck},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hwnas [--threads N] [--seed N] [--log-level LEVEL] [--plugin FILE]... COMMAND [ARGS]\n"
            "       hwnas --version | help [COMMAND]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].run ? "" : " (not in this version)");
}

int cli_fail(const char *what, int code)
{
    const char *msg = hwnas_error_last();
    fprintf(stderr, "hwnas: %s: %s\n", what, *msg ? msg : hwnas_error_str(code));
    return CLI_FAIL;
}

int cli_flush_stdout(const char *cmd)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return CLI_OK;
    fprintf(stderr, "hwnas %s: cannot write the output: %s\n", cmd,
            errno ? strerror(errno) : "write error");
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
    int n = snprintf(buf + used, size - used, "%s%s=\"%s\"", used ? ";" : "", key, value);
    return n > 0 && (size_t)n < size - used;
}

int main(int argc, char **argv)
{
    char ctx_options[512] = "";
    const char *plugins[16];
    size_t n_plugins = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0) {
            printf("hwnas %s (libhwnas %s)\n", HWNAS_VERSION_STRING, hwnas_version_string());
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
        if (i + 1 < argc) {
            const command *c = find_command(argv[i + 1]);
            if (!c) {
                fprintf(stderr, "hwnas: unknown command '%s'\n", argv[i + 1]);
                usage(stderr);
                return CLI_USAGE;
            }
            printf("hwnas %s: %s\n", c->name, c->summary);
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
        rc = hwnas_context_load_plugin(ctx, plugins[p]);
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
