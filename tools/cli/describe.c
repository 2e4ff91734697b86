/* hwnas describe KIND: list a kind's options; with no KIND, the kinds. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const type_names[] = {"int", "float", "bool", "enum", "string"};

int cli_describe(hwnas_context *ctx, int argc, char **argv)
{
    if (argc == 0) {
        printf("kinds:\n");
        for (size_t i = 0; i < hwnas_kind_count(ctx); i++)
            printf("  %s\n", hwnas_kind_name(ctx, i));
        return CLI_OK;
    }
    if (argc > 1) {
        cli_describe_usage(stderr);
        return CLI_USAGE;
    }
    hwnas_options *opts;
    int rc = hwnas_options_new(&opts, ctx, argv[0]);
    if (rc != HWNAS_OK)
        return cli_fail("describe", rc);
    size_t n = hwnas_options_count(opts);
    printf("%s: %zu option%s\n", hwnas_options_kind(opts), n, n == 1 ? "" : "s");
    size_t w = 4;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(hwnas_options_name(opts, i));
        w = l > w ? l : w;
    }
    for (size_t i = 0; i < n; i++) {
        int t = hwnas_options_type(opts, i);
        const char *range = hwnas_options_range(opts, i);
        printf("  %-*s %-6s default %s%s%s\n      %s\n", (int)w, hwnas_options_name(opts, i),
               t >= 0 && t <= 4 ? type_names[t] : "?", hwnas_options_default(opts, i),
               *range ? ", " : "", range, hwnas_options_help(opts, i));
    }
    hwnas_options_free(opts);
    return CLI_OK;
}

void cli_describe_usage(FILE *f)
{
    fprintf(f, "usage: hwnas describe [KIND]\n\n"
               "Without KIND: every kind this build (and its --plugin files) knows. With it:\n"
               "KIND's options, each with its type, default, range and help line; the same\n"
               "names work in option strings from C, Python and the command line.\n");
}
