/* How long loading Fashion-MNIST takes: gunzip + IDX checks + conversion
 * to float, for the training set (60,000 images) and the test set, plus
 * the cost of copying shuffled mini-batches out (with and without
 * augmentation). Prints the best and median of several runs.
 *
 * Usage: bench_data [runs] [dir]   (defaults: 5, /usr/share/datasets/fashion-mnist)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hwnas/hwnas.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *t, int runs, double items, const char *unit)
{
    qsort(t, (size_t)runs, sizeof *t, cmp);
    printf("%-34s best %8.1f ms  median %8.1f ms  (%.0f %s/s)\n", what, t[0] * 1e3,
           t[runs / 2] * 1e3, items / t[0], unit);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    if (runs < 1 || runs > 100)
        runs = 5;
    hwnas_context *ctx = NULL;
    if (hwnas_context_new(&ctx, NULL) != HWNAS_OK)
        return 1;
    double *t = calloc((size_t)runs, sizeof *t);
    char opts[4200], path[4200];
    hwnas_dataset *ds = NULL;

    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    for (int r = 0; r < runs; r++) {
        hwnas_idx *idx = NULL;
        double t0 = now();
        if (hwnas_idx_read(&idx, ctx, path) != HWNAS_OK) {
            fprintf(stderr, "bench_data: %s\n", hwnas_error_last());
            return 1;
        }
        t[r] = now() - t0;
        hwnas_idx_free(idx);
    }
    report("idx_read train images (gunzip)", t, runs, 60000, "images");

    const char *splits[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        snprintf(opts, sizeof opts, "split=%s;dir=%s", splits[s], dir);
        for (int r = 0; r < runs; r++) {
            double t0 = now();
            if (hwnas_dataset_load(&ds, ctx, "fashion-mnist", opts) != HWNAS_OK) {
                fprintf(stderr, "bench_data: %s\n", hwnas_error_last());
                return 1;
            }
            t[r] = now() - t0;
            if (s == 1 || r + 1 < runs) {
                hwnas_dataset_free(ds);
                ds = NULL;
            }
        }
        char what[64];
        snprintf(what, sizeof what, "dataset_load fashion-mnist %s", splits[s]);
        report(what, t, runs, s == 0 ? 60000 : 10000, "images");
        if (s == 0)
            break; /* keep the training set for the batch figures */
    }
    /* ds is the training set here. */
    size_t n = hwnas_dataset_count(ds), bs = 128, ss = hwnas_dataset_sample_size(ds);
    size_t *order = malloc(n * sizeof *order);
    float *img = malloc(bs * ss * sizeof *img);
    int32_t *lab = malloc(bs * sizeof *lab);
    double mean, sd;
    hwnas_dataset_stats(&mean, &sd, ds);
    hwnas_dataset_normalize(ds, &mean, &sd);
    for (int aug = 0; aug < 2; aug++) {
        for (int r = 0; r < runs; r++) {
            double t0 = now();
            hwnas_dataset_shuffle(order, ds, 1, (uint64_t)r);
            for (size_t b = 0; b + bs <= n; b += bs) {
                int rc = aug ? hwnas_dataset_batch_augment(img, lab, ds, order + b, bs, 2, 0.5, 1,
                                                           (uint64_t)r)
                             : hwnas_dataset_batch(img, lab, ds, order + b, bs);
                if (rc != HWNAS_OK)
                    return 1;
            }
            t[r] = now() - t0;
        }
        report(aug ? "epoch of batches 128, crop+flip" : "epoch of batches 128, normalised", t,
               runs, (double)n, "images");
    }
    free(order);
    free(img);
    free(lab);
    hwnas_dataset_free(ds);
    /* The test split, for completeness. */
    snprintf(opts, sizeof opts, "split=test;dir=%s", dir);
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        if (hwnas_dataset_load(&ds, ctx, "fashion-mnist", opts) != HWNAS_OK)
            return 1;
        t[r] = now() - t0;
        hwnas_dataset_free(ds);
    }
    report("dataset_load fashion-mnist test", t, runs, 10000, "images");
    free(t);
    hwnas_context_free(ctx);
    return 0;
}
