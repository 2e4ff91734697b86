/* Time parse + shape inference + cost of ResNet-50 and of building a
 * decoded-genotype-sized net through the builder. Prints the figures.
 * Usage: bench_net [FILE.net] (default: the zoo's resnet50.net). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hwnas/hwnas.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : HWNAS_SOURCE_ROOT "/examples/nets/resnet50.net";
    char *text = slurp(path);
    if (!text) {
        fprintf(stderr, "bench_net: cannot read %s\n", path);
        return 1;
    }
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 1;
    volatile uint64_t sink = 0;
    int reps = 0;
    double t0 = now(), t;
    do {
        hwnas_net *net;
        if (hwnas_net_parse(&net, ctx, text, path) != HWNAS_OK) {
            fprintf(stderr, "bench_net: %s\n", hwnas_error_last());
            return 1;
        }
        sink += hwnas_net_macs(net) + hwnas_net_params(net) + hwnas_net_weight_bytes(net) +
                hwnas_net_peak_activations(net) + hwnas_net_memory_accesses(net);
        hwnas_net_free(net);
        reps++;
        t = now() - t0;
    } while (t < 1.0);
    printf("parse + shapes + cost of %s: %.1f us per net (%d runs; goal < 1000 us)\n", path,
           1e6 * t / reps, reps);

    /* a decoder's path: one reused net, typed adds, 20 conv/bn/relu triples */
    hwnas_net *net;
    if (hwnas_net_new(&net, ctx) != HWNAS_OK)
        return 1;
    reps = 0;
    t0 = now();
    do {
        hwnas_net_clear(net);
        hwnas_net_add_input(NULL, net, NULL, 3, 32, 32);
        for (int i = 0; i < 20; i++) {
            hwnas_net_add_conv2d(NULL, net, NULL, -1, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0);
            hwnas_net_add(NULL, net, "bn", NULL, NULL, 0, NULL);
            hwnas_net_add(NULL, net, "relu", NULL, NULL, 0, NULL);
        }
        hwnas_net_add(NULL, net, "gap", NULL, NULL, 0, NULL);
        hwnas_net_add(NULL, net, "linear", NULL, NULL, 0, "out=10");
        sink += hwnas_net_macs(net) + hwnas_net_hash(net);
        reps++;
        t = now() - t0;
    } while (t < 0.5);
    printf("build + hash of a 63-node net through the builder: %.2f us per net\n",
           1e6 * t / reps);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
    free(text);
    return sink == 42 ? 2 : 0;
}
