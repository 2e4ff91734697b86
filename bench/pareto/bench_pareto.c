/*
 * Times the Pareto toolkit: non-dominated sorting of n uniformly random
 * points in 2 and 3 objectives, and the hypervolume of a 2-D and a 3-D
 * front of n points (on the unit sphere, all mutually non-dominated, with
 * reference point 1.1 in every objective).
 *
 * usage: bench_pareto [n [repeats [seed]]]   (defaults 10000 5 1)
 *
 * Prints one line per case, "case n best_seconds result", where result is
 * the number of fronts or the hypervolume, for bench/pareto/run to read.
 */
#include <math.h>
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

static void uniform(hwnas_rng *r, double *p, size_t n, size_t m)
{
    for (size_t i = 0; i < n * m; i++)
        p[i] = hwnas_rng_uniform(r);
}

/* Points on the positive orthant of the unit sphere: one front. */
static void sphere(hwnas_rng *r, double *p, size_t n, size_t m)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < m; j++) {
            p[i * m + j] = fabs(hwnas_rng_normal(r));
            s += p[i * m + j] * p[i * m + j];
        }
        for (size_t j = 0; j < m; j++)
            p[i * m + j] /= sqrt(s);
    }
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "bench_pareto: %s: %s (%s)\n", what, hwnas_error_str(rc),
            hwnas_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    if (n == 0 || repeats < 1) {
        fprintf(stderr, "usage: %s [n [repeats [seed]]]\n", argv[0]);
        return 2;
    }
    hwnas_context *ctx = NULL;
    hwnas_rng *r = NULL;
    int rc = hwnas_context_new(&ctx, "threads=1");
    if (rc == HWNAS_OK)
        rc = hwnas_rng_new(&r, ctx, seed, 0);
    if (rc != HWNAS_OK)
        return fail("setup", rc);
    double *p = malloc(n * 3 * sizeof *p);
    uint32_t *rank = malloc(n * sizeof *rank);
    if (!p || !rank)
        return fail("malloc", HWNAS_ENOMEM);
    static const double ref[] = {1.1, 1.1, 1.1};

    for (size_t m = 2; m <= 3; m++) {
        double best = INFINITY;
        size_t fronts = 0;
        for (int k = 0; k < repeats; k++) {
            uniform(r, p, n, m); /* fresh data each time, outside the timing */
            double t = now();
            rc = hwnas_pareto_rank(rank, &fronts, ctx, p, n, m);
            t = now() - t;
            if (rc != HWNAS_OK)
                return fail("hwnas_pareto_rank", rc);
            best = fmin(best, t);
        }
        printf("sort%zud %zu %.9f %zu\n", m, n, best, fronts);
    }
    for (size_t m = 2; m <= 3; m++) {
        double best = INFINITY, vol = 0;
        for (int k = 0; k < repeats; k++) {
            sphere(r, p, n, m);
            double t = now();
            rc = hwnas_pareto_hypervolume(&vol, ctx, p, n, m, ref);
            t = now() - t;
            if (rc != HWNAS_OK)
                return fail("hwnas_pareto_hypervolume", rc);
            best = fmin(best, t);
        }
        printf("hv%zud %zu %.9f %.6f\n", m, n, best, vol);
    }
    free(p);
    free(rank);
    hwnas_rng_free(r);
    hwnas_context_free(ctx);
    return 0;
}
