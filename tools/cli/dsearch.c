/* hwnas dsearch: differentiable architecture search (DARTS, GDAS) over the
 * cell space on Fashion-MNIST, with a hardware cost in the loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct progress {
    int tty;
    double start;
} progress;

static int on_progress(int event, int64_t epoch, int64_t epochs, int64_t batch, int64_t batches,
                       double loss, double accuracy, double lr, void *user_data)
{
    progress *p = user_data;
    if (event == HWNAS_MODEL_EVENT_BATCH) {
        if (!p->tty || (batch % 5 != 0 && batch + 1 != batches))
            return 0;
        double total = (double)epochs * (double)batches;
        double step = (double)(epoch * batches + batch + 1);
        int bar = (int)(30.0 * step / total);
        fprintf(stderr, "\r[%.*s%*s] epoch %lld/%lld step %.0f/%.0f loss %.3f acc %5.1f%% lr %.4f ",
                bar, "==============================", 30 - bar, "", (long long)epoch + 1,
                (long long)epochs, step, total, loss, 100 * accuracy, lr);
        return 0;
    }
    if (p->tty)
        fputc('\n', stderr);
    fprintf(stderr, "epoch %lld/%lld: weights' loss %.4f, accuracy %.2f%% (%.0f s)\n",
            (long long)epoch + 1, (long long)epochs, loss, 100 * accuracy, now() - p->start);
    return 0;
}

/* Fashion-MNIST's training split (subset > 0: that many, stratified) and
 * its test split, both normalised with the training images' statistics. */
static int load(hwnas_dataset **train, hwnas_dataset **test, hwnas_context *ctx, const char *dir,
                long long subset, long long test_n)
{
    char o1[1200], o2[1200];
    size_t u1 = 0, u2 = 0;
    o1[0] = o2[0] = '\0';
    if (cli_options_put(o1, sizeof o1, &u1, "split", "train") != 0 ||
        cli_options_put(o2, sizeof o2, &u2, "split", "test") != 0 ||
        (dir && (cli_options_put(o1, sizeof o1, &u1, "dir", dir) != 0 ||
                 cli_options_put(o2, sizeof o2, &u2, "dir", dir) != 0)))
        return hwnas_dataset_load(train, ctx, "fashion-mnist", "dir=/a/path/that/is/too/long");
    hwnas_dataset *all = NULL, *tall = NULL;
    *train = *test = NULL;
    int rc = hwnas_dataset_load(&all, ctx, "fashion-mnist", o1);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_load(&tall, ctx, "fashion-mnist", o2);
    if (rc == HWNAS_OK && subset > 0 && (size_t)subset < hwnas_dataset_count(all))
        rc = hwnas_dataset_subset(train, all, (size_t)subset, HWNAS_DATASET_STRATIFIED, 1);
    else if (rc == HWNAS_OK)
        rc = hwnas_dataset_subset(train, all, hwnas_dataset_count(all), HWNAS_DATASET_STRATIFIED,
                                  1);
    if (rc == HWNAS_OK && test_n > 0 && (size_t)test_n < hwnas_dataset_count(tall))
        rc = hwnas_dataset_subset(test, tall, (size_t)test_n, HWNAS_DATASET_STRATIFIED, 2);
    else if (rc == HWNAS_OK)
        rc = hwnas_dataset_subset(test, tall, hwnas_dataset_count(tall), HWNAS_DATASET_STRATIFIED,
                                  2);
    double mean[8], std[8];
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_stats(mean, std, *train);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(*train, mean, std);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(*test, mean, std);
    hwnas_dataset_free(all);
    hwnas_dataset_free(tall);
    if (rc != HWNAS_OK) {
        hwnas_dataset_free(*train);
        hwnas_dataset_free(*test);
        *train = *test = NULL;
    }
    return rc;
}

static int usage(FILE *f, const char *bad)
{
    fprintf(f,
            "%s%s%susage: hwnas dsearch --out DIR [--space cell] [--method darts|gdas]\n"
            "         [--cost none|macs|params] [--lambda L[,L...]] [--epochs N] [--batch N]\n"
            "         [--seed N] [--subset N] [--test N] [--data DIR] [--options OPTS]\n"
            "  differentiable search over the NAS-Bench-201 cell space on Fashion-MNIST:\n"
            "  one run per lambda into DIR/lambda-<i>/ (alpha.csv and alpha.svg, epochs.csv,\n"
            "  derived.net), DIR/cost.csv (the cost per edge and operation) and DIR/front.csv\n"
            "  (plotted in DIR/front.svg), printed at the\n"
            "  end. Run the same command again to resume after a kill. --options: hwnas\n"
            "  describe dsearch (channels, cells, skip_cap, retrain, a_lr, ...). --subset:\n"
            "  training images (0: all 60000; default 6000), --test: test images rating the\n"
            "  derived nets (default 2000).\n",
            bad ? "hwnas dsearch: unexpected '" : "", bad ? bad : "", bad ? "'\n" : "");
    return CLI_USAGE;
}

void cli_dsearch_usage(FILE *f)
{
    usage(f, NULL);
}

static void cat(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    printf("# %s\n", path);
    while (fgets(line, sizeof line, f))
        fputs(line, stdout);
    fclose(f);
}

int cli_dsearch(hwnas_context *ctx, int argc, char **argv)
{
    const char *out = NULL, *data = NULL, *space = "cell", *extra_opts = "";
    char opts[2048] = "";
    size_t used = 0;
    long long subset = 6000, test_n = 2000;
    static const char *const flags[][2] = {{"--method", "method"}, {"--cost", "cost"},
                                           {"--lambda", "lambda"}, {"--epochs", "epochs"},
                                           {"--batch", "batch"}, {"--seed", "seed"}};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, NULL);
            return CLI_OK;
        }
        int known = 0;
        for (size_t k = 0; k < sizeof flags / sizeof flags[0] && !known; k++)
            if (strcmp(a, flags[k][0]) == 0 && i + 1 < argc) {
                if (cli_options_put(opts, sizeof opts, &used, flags[k][1], argv[++i]) != 0)
                    return usage(stderr, a);
                known = 1;
            }
        if (known)
            continue;
        if (strcmp(a, "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(a, "--space") == 0 && i + 1 < argc)
            space = argv[++i];
        else if (strcmp(a, "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(a, "--options") == 0 && i + 1 < argc)
            extra_opts = argv[++i];
        else if (strcmp(a, "--subset") == 0 && i + 1 < argc) {
            if (!cli_parse_int("dsearch", a, argv[++i], 0, 1000000000, &subset))
                return CLI_USAGE;
        } else if (strcmp(a, "--test") == 0 && i + 1 < argc) {
            if (!cli_parse_int("dsearch", a, argv[++i], 0, 1000000000, &test_n))
                return CLI_USAGE;
        } else
            return usage(stderr, a);
    }
    if (!out)
        return usage(stderr, NULL);
    if (strcmp(space, "cell") != 0) {
        fprintf(stderr, "hwnas dsearch: --space %s: only the cell space (NAS-Bench-201) has a "
                "differentiable supernet; use --space cell\n", space);
        return CLI_USAGE;
    }
    char all[4096];
    snprintf(all, sizeof all, "%s%s%s", extra_opts, *extra_opts && *opts ? ";" : "", opts);
    /* every option checked before the dataset loads */
    int rc = hwnas_dsearch_check_options(ctx, all);
    if (rc != HWNAS_OK) {
        cli_fail("dsearch", rc);
        return CLI_USAGE;
    }
    hwnas_dataset *train = NULL, *test = NULL;
    rc = load(&train, &test, ctx, data, subset, test_n);
    if (rc == HWNAS_OK) {
        fprintf(stderr, "dsearch (%s) on %zu Fashion-MNIST images (derived nets rated on %zu "
                "test images) with %zu thread(s) into %s\n", all, hwnas_dataset_count(train),
                hwnas_dataset_count(test), hwnas_context_threads(ctx), out);
        progress p = {isatty(2), now()};
        rc = hwnas_dsearch_run(ctx, train, test, all, out, on_progress, &p);
        if (rc == HWNAS_OK)
            rc = hwnas_dsearch_write_plots(ctx, out);
        if (rc == HWNAS_OK)
            fprintf(stderr, "done in %.0f s; plots %s/front.svg and %s/lambda-*/alpha.svg\n",
                    now() - p.start, out, out);
    }
    hwnas_dataset_free(train);
    hwnas_dataset_free(test);
    if (rc != HWNAS_OK)
        return cli_fail("dsearch", rc);
    cat(out, "cost.csv");
    cat(out, "front.csv");
    return CLI_OK;
}
