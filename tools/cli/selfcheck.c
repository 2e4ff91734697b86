/* hwnas selfcheck: exercise the build's core paths and say what it found. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int square_task(size_t i, size_t worker, void *data)
{
    (void)worker;
    ((uint64_t *)data)[i] = (uint64_t)i * i;
    return 0;
}

static int check(int ok, const char *what)
{
    printf("  %-44s %s\n", what, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

int cli_selfcheck(hwnas_context *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        cli_selfcheck_usage(stderr);
        return CLI_USAGE;
    }
    int failures = 0;
    printf("libhwnas %s, %zu worker thread(s)\n", hwnas_version_string(),
           hwnas_context_threads(ctx));
    failures += check(hwnas_version_number() == HWNAS_VERSION_NUMBER,
                      "library version matches headers");

    enum { N = 10000 };
    static uint64_t squares[N];
    int rc = hwnas_parallel_for(ctx, N, square_task, squares);
    int ok = rc == HWNAS_OK;
    for (size_t i = 0; ok && i < N; i++)
        ok = squares[i] == (uint64_t)i * i;
    failures += check(ok, "parallel-for over the thread pool");

    hwnas_rng *a = NULL, *b = NULL;
    ok = hwnas_rng_new(&a, ctx, 42, 7) == HWNAS_OK && hwnas_rng_new(&b, ctx, 42, 7) == HWNAS_OK;
    for (int i = 0; ok && i < 1000; i++)
        ok = hwnas_rng_u64(a) == hwnas_rng_u64(b);
    hwnas_rng_free(a);
    hwnas_rng_free(b);
    failures += check(ok, "random streams are reproducible");

    hwnas_options *opts = NULL;
    char *text = NULL;
    ok = hwnas_options_new(&opts, ctx, "context") == HWNAS_OK &&
         hwnas_options_parse(opts, "threads=3;log_level=info") == HWNAS_OK &&
         hwnas_options_format(opts, 1, &text) == HWNAS_OK &&
         strcmp(text, "threads=3;log_level=info") == 0 &&
         hwnas_options_set(opts, "no_such_key", "1") == HWNAS_EINVAL &&
         strstr(hwnas_error_last(), "no_such_key") != NULL;
    hwnas_free(text);
    hwnas_options_free(opts);
    failures += check(ok, "options parse, format and reject bad keys");

    printf("%s\n", failures ? "selfcheck FAILED" : "selfcheck passed");
    return failures ? CLI_FAIL : CLI_OK;
}

void cli_selfcheck_usage(FILE *f)
{
    fprintf(f, "usage: hwnas selfcheck\n\n"
               "Checks the library's version against the headers, the thread pool, the\n"
               "random streams and the options; exits 1 when one fails.\n");
}
