/*
 * The smallest libhwnas program: create a context from an option string,
 * list its options, and run a parallel loop. Builds with nothing but
 * `pkg-config --cflags --libs hwnas` (see the Makefile).
 */
#include <stdio.h>

#include <hwnas/hwnas.h>

static int square(size_t i, size_t worker, void *user_data)
{
    (void)worker;
    ((double *)user_data)[i] = (double)i * (double)i;
    return 0;
}

int main(int argc, char **argv)
{
    hwnas_context *ctx;
    int rc = hwnas_context_new(&ctx, argc > 1 ? argv[1] : "threads=2;seed=1");
    if (rc != HWNAS_OK) {
        fprintf(stderr, "hello: %s\n", hwnas_error_last());
        return 1;
    }
    printf("libhwnas %s with %zu thread(s)\n", hwnas_version_string(), hwnas_context_threads(ctx));

    const hwnas_options *opts = hwnas_context_options(ctx);
    for (size_t i = 0; i < hwnas_options_count(opts); i++)
        printf("  %s = %s\n", hwnas_options_name(opts, i), hwnas_options_value(opts, i));

    double squares[1000];
    rc = hwnas_parallel_for(ctx, 1000, square, squares);
    double sum = 0;
    for (size_t i = 0; i < 1000; i++)
        sum += squares[i];
    printf("sum of squares below 1000: %.0f\n", sum);
    hwnas_context_free(ctx);
    return rc == HWNAS_OK && sum == 332833500.0 ? 0 : 1;
}
