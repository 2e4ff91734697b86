/*
 * Timing of the search spaces: sample + decode + phenotype hash of 10,000
 * genotypes per space on one core. Goal: under 1 s per space.
 *
 * usage: bench_space [count] [space ...]   (default 10000 cell macro cgp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hwnas/hwnas.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run(hwnas_context *ctx, const char *kind, long count)
{
    hwnas_space *s = NULL;
    hwnas_rng *rng = NULL;
    hwnas_net *net = NULL;
    uint32_t *g = NULL;
    int rc = hwnas_space_new(&s, ctx, kind, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_rng_new(&rng, ctx, 1, 0);
    if (rc == HWNAS_OK)
        rc = hwnas_net_new(&net, ctx);
    if (rc == HWNAS_OK && !(g = calloc(hwnas_space_gene_count(s), sizeof *g)))
        rc = HWNAS_ENOMEM;
    long invalid = 0;
    uint64_t mix = 0, nodes = 0;
    double t0 = now();
    for (long i = 0; rc == HWNAS_OK && i < count; i++) {
        uint64_t h = 0;
        rc = hwnas_space_sample(s, rng, g);
        if (rc == HWNAS_OK)
            rc = hwnas_space_decode(s, g, net);
        if (rc == HWNAS_OK)
            rc = hwnas_space_hash(s, g, &h);
        if (rc == HWNAS_EINVALID) {
            invalid++;
            rc = HWNAS_OK;
        }
        nodes += hwnas_net_node_count(net);
        mix ^= h;
    }
    double dt = now() - t0;
    if (rc == HWNAS_OK)
        printf("%-12s %6ld genotypes  %8.3f s  %7.1f us each  %5.1f nodes/net  %ld invalid  "
               "(xor of hashes %016llx)\n",
               kind, count, dt, 1e6 * dt / (double)count, (double)nodes / (double)count,
               invalid, (unsigned long long)mix);
    else
        fprintf(stderr, "%s: %s\n", kind, hwnas_error_last());
    free(g);
    hwnas_net_free(net);
    hwnas_rng_free(rng);
    hwnas_space_free(s);
    return rc;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 10000;
    hwnas_context *ctx = NULL;
    if (count < 1 || hwnas_context_new(&ctx, "threads=1") != HWNAS_OK) {
        fprintf(stderr, "usage: bench_space [count >= 1] [space ...]\n");
        return 2;
    }
    static const char *const all[] = {"cell", "macro", "cgp"};
    int rc = 0;
    if (argc > 2)
        for (int i = 2; i < argc; i++)
            rc |= run(ctx, argv[i], count) != HWNAS_OK;
    else
        for (size_t i = 0; i < 3; i++)
            rc |= run(ctx, all[i], count) != HWNAS_OK;
    hwnas_context_free(ctx);
    return rc;
}
