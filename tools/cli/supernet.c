/* hwnas supernet train|rate: one-shot NAS - train a supernet of a space
 * with single-path sampling, then rate candidates with its weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

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
    uint64_t first; /* steps done before this run (a resume) */
} progress;

static int on_progress(int event, int64_t epoch, int64_t epochs, int64_t batch, int64_t batches,
                       double loss, double accuracy, double lr, void *user_data)
{
    progress *p = user_data;
    double t = now();
    uint64_t step = (uint64_t)epoch * (uint64_t)batches + (uint64_t)batch + 1;
    if (event == HWNAS_MODEL_EVENT_BATCH) {
        if (!p->tty || (batch % 10 != 0 && batch + 1 != batches))
            return 0;
        double total = (double)epochs * (double)batches;
        double rate = (double)(step - p->first) / (t - p->start + 1e-9);
        double eta = (total - (double)step) / (rate + 1e-12);
        int bar = (int)(30.0 * (double)step / total);
        fprintf(stderr, "\r[%.*s%*s] epoch %lld/%lld step %llu/%.0f loss %.3f acc %5.1f%% lr %.4f "
                "ETA %dm%02ds ", bar, "==============================", 30 - bar, "",
                (long long)epoch + 1, (long long)epochs, (unsigned long long)step, total, loss,
                100 * accuracy, lr, (int)(eta / 60), (int)fmod(eta, 60));
        return 0;
    }
    if (p->tty)
        fputc('\n', stderr);
    fprintf(stderr, "epoch %lld/%lld: loss %.4f, accuracy of the sampled paths %.2f%% (%.0f s)\n",
            (long long)epoch + 1, (long long)epochs, loss, 100 * accuracy, t - p->start);
    return 0;
}

/* The training part of Fashion-MNIST's training split as estimator:supernet
 * cuts it (stratified, val_fraction, seed), normalised with its own
 * statistics (into mean, std); subset > 0 keeps that many of its images. */
static int load_train(hwnas_dataset **out, double *mean, double *std, hwnas_context *ctx,
                      const char *dir, double val_fraction, uint64_t split_seed, long long subset)
{
    char dopts[1200];
    size_t du = 0;
    dopts[0] = '\0';
    if (cli_options_put(dopts, sizeof dopts, &du, "split", "train") != 0 ||
        (dir && cli_options_put(dopts, sizeof dopts, &du, "dir", dir) != 0))
        return hwnas_dataset_load(out, ctx, "fashion-mnist", "dir=/a/path/that/is/too/long");
    hwnas_dataset *all = NULL, *train = NULL, *val = NULL;
    int rc = hwnas_dataset_load(&all, ctx, "fashion-mnist", dopts);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_split(&train, &val, all, val_fraction, HWNAS_DATASET_STRATIFIED,
                                 split_seed);
    hwnas_dataset_free(all);
    hwnas_dataset_free(val);
    if (rc == HWNAS_OK && subset > 0 && (size_t)subset < hwnas_dataset_count(train)) {
        hwnas_dataset *sub = NULL;
        rc = hwnas_dataset_subset(&sub, train, (size_t)subset, HWNAS_DATASET_STRATIFIED,
                                  split_seed + 1);
        if (rc == HWNAS_OK) {
            hwnas_dataset_free(train);
            train = sub;
        }
    }
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_stats(mean, std, train);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(train, mean, std);
    if (rc != HWNAS_OK) {
        hwnas_dataset_free(train);
        return rc;
    }
    *out = train;
    return HWNAS_OK;
}

static int usage_train(FILE *f, const char *bad)
{
    fprintf(f,
            "%s%s%susage: hwnas supernet train --space cell|macro|cgp --out FILE\n"
            "         [--options SUPERNET_OPTS] [--train-options OPTS] [--epochs N] [--batch N]\n"
            "         [--lr X] [--seed N] [--subset N] [--val-fraction X] [--data DIR] [--resume]\n"
            "  --options: hwnas describe supernet:nb201 (cell), supernet:ofa (macro) or\n"
            "  supernet:cgp (cgp);\n"
            "  input_channels=1;input_size=28 for Fashion-MNIST are set first.\n"
            "  --train-options: hwnas describe supernet_train (sandwich, distill: macro).\n"
            "  Checkpoints go to FILE.ckpt; --resume continues from it after a kill.\n",
            bad ? "hwnas supernet train: unexpected '" : "", bad ? bad : "", bad ? "'\n" : "");
    return CLI_USAGE;
}

static int cmd_train(hwnas_context *ctx, int argc, char **argv)
{
    const char *space = NULL, *out = NULL, *data = NULL, *sn_opts = "", *tr_opts = "";
    char extra[512] = "";
    size_t used = 0;
    int resume = 0;
    long long subset = 0;
    double val_fraction = 0.1;
    static const char *const flags[][2] = {{"--epochs", "epochs"}, {"--batch", "batch"},
                                           {"--lr", "lr"}, {"--seed", "seed"}};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int known = 0;
        for (size_t k = 0; k < 4 && !known; k++)
            if (strcmp(a, flags[k][0]) == 0 && i + 1 < argc) {
                if (cli_options_put(extra, sizeof extra, &used, flags[k][1], argv[++i]) != 0)
                    return usage_train(stderr, a);
                known = 1;
            }
        if (known)
            continue;
        if (strcmp(a, "--space") == 0 && i + 1 < argc)
            space = argv[++i];
        else if (strcmp(a, "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(a, "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(a, "--options") == 0 && i + 1 < argc)
            sn_opts = argv[++i];
        else if (strcmp(a, "--train-options") == 0 && i + 1 < argc)
            tr_opts = argv[++i];
        else if (strcmp(a, "--resume") == 0)
            resume = 1;
        else if (strcmp(a, "--subset") == 0 && i + 1 < argc) {
            if (!cli_parse_int("supernet train", a, argv[++i], 0, 1000000000, &subset))
                return CLI_USAGE;
        } else if (strcmp(a, "--val-fraction") == 0 && i + 1 < argc) {
            if (!cli_parse_real("supernet train", a, argv[++i], 0, 1, 1, 1, &val_fraction))
                return CLI_USAGE;
        } else
            return usage_train(stderr, a);
    }
    if (!space || !out)
        return usage_train(stderr, NULL);
    char sopts[1024], topts[1024], ckpt[4096];
    snprintf(sopts, sizeof sopts, "input_channels=1;input_size=28;classes=10%s%s",
             *sn_opts ? ";" : "", sn_opts);
    snprintf(topts, sizeof topts, "%s%s%s", tr_opts, *tr_opts && *extra ? ";" : "", extra);
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", out);
    hwnas_supernet *sn = NULL;
    int rc;
    if (access(ckpt, F_OK) == 0 && !resume) {
        fprintf(stderr, "hwnas supernet train: %s exists (a stopped training): add --resume to "
                "continue it, or remove it\n", ckpt);
        return CLI_FAIL;
    }
    if (resume && access(ckpt, F_OK) == 0) {
        rc = hwnas_supernet_load(&sn, ctx, ckpt);
        if (rc == HWNAS_OK)
            fprintf(stderr, "resuming %s at step %llu of %llu\n", ckpt,
                    (unsigned long long)hwnas_supernet_steps_done(sn),
                    (unsigned long long)hwnas_supernet_steps_total(sn));
    } else {
        rc = hwnas_supernet_new(&sn, ctx, space, sopts);
    }
    if (rc != HWNAS_OK)
        return cli_fail("supernet train", rc);
    /* every training option checked before the dataset loads */
    hwnas_options *o = NULL;
    rc = hwnas_options_new(&o, ctx, "supernet_train");
    if (rc == HWNAS_OK)
        rc = hwnas_options_parse(o, topts);
    hwnas_options_free(o);
    if (rc != HWNAS_OK) {
        hwnas_supernet_free(sn);
        cli_fail("supernet train", rc);
        return CLI_USAGE;
    }
#ifdef __GLIBC__
    /* Each step compiles its path's model, whose activation buffers are
     * large: kept in the heap instead of fresh mmaps, they are not faulted
     * in again every step (system time fell from 45% to 15% of the CPU time
     * of a training; the weights are the same). */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    hwnas_dataset *train = NULL;
    double mean[8], std[8];
    rc = load_train(&train, mean, std, ctx, data, val_fraction, 1, subset);
    if (rc == HWNAS_OK) {
        fprintf(stderr, "supernet %s (%s): %zu shared parameters; training on %zu Fashion-MNIST "
                "images with %zu thread(s)\n", hwnas_supernet_space(sn), hwnas_supernet_options(sn),
                hwnas_supernet_param_count(sn), hwnas_dataset_count(train),
                hwnas_context_threads(ctx));
        fprintf(stderr, "training options: %s\n", *topts ? topts : "(defaults: SPOS)");
        progress p = {isatty(2), now(), hwnas_supernet_steps_done(sn)};
        rc = hwnas_supernet_train(sn, train, mean, std, topts, ckpt, on_progress, &p);
        if (rc == HWNAS_OK)
            fprintf(stderr, "trained %llu steps in %.0f s\n",
                    (unsigned long long)(hwnas_supernet_steps_done(sn) - p.first),
                    now() - p.start);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_save(sn, out);
    if (rc == HWNAS_OK)
        remove(ckpt);
    hwnas_dataset_free(train);
    hwnas_supernet_free(sn);
    if (rc != HWNAS_OK)
        return cli_fail("supernet train", rc);
    printf("%s\n", out);
    return CLI_OK;
}

static int usage_rate(FILE *f, const char *bad)
{
    fprintf(f,
            "%s%s%susage: hwnas supernet rate --weights FILE [--calibration N] [--evaluation N]\n"
            "         [--data DIR] [--random N --seed S] [ARCH...]\n"
            "  rates genotypes of the supernet's space (NAS-Bench-201 architecture strings,\n"
            "  space:macro's or space:cgp's comma-separated genes) or N random ones with the\n"
            "  supernet's weights through estimator:supernet; prints CSV arch,accuracy,loss,seconds\n"
            "  (held-out accuracy %% and cross-entropy, seconds of rating)\n",
            bad ? "hwnas supernet rate: unexpected '" : "", bad ? bad : "", bad ? "'\n" : "");
    return CLI_USAGE;
}

static int cmd_rate(hwnas_context *ctx, int argc, char **argv)
{
    const char *weights = NULL, *data = NULL, *calib = "512", *eval = "1000";
    long long random = 0, seed = 1;
    int n_arch = 0;
    char **arch = calloc((size_t)argc + 1, sizeof *arch);
    if (!arch)
        return CLI_FAIL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--weights") == 0 && i + 1 < argc)
            weights = argv[++i];
        else if (strcmp(a, "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(a, "--calibration") == 0 && i + 1 < argc)
            calib = argv[++i];
        else if (strcmp(a, "--evaluation") == 0 && i + 1 < argc)
            eval = argv[++i];
        else if (strcmp(a, "--random") == 0 && i + 1 < argc) {
            if (!cli_parse_int("supernet rate", a, argv[++i], 1, 1000000, &random))
                return free(arch), CLI_USAGE;
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (!cli_parse_int("supernet rate", a, argv[++i], 0, 1LL << 53, &seed))
                return free(arch), CLI_USAGE;
        } else if (a[0] == '|' || (a[0] >= '0' && a[0] <= '9'))
            arch[n_arch++] = argv[i];
        else
            return free(arch), usage_rate(stderr, a);
    }
    if (!weights || (!n_arch && !random))
        return free(arch), usage_rate(stderr, NULL);
    char opts[4096];
    size_t used = 0;
    opts[0] = '\0';
    if (cli_options_put(opts, sizeof opts, &used, "weights", weights) != 0 ||
        cli_options_put(opts, sizeof opts, &used, "calibration", calib) != 0 ||
        cli_options_put(opts, sizeof opts, &used, "evaluation", eval) != 0)
        return free(arch), usage_rate(stderr, NULL);
    if (data) {
        char d[1200];
        size_t du = 0;
        d[0] = '\0';
        if (cli_options_put(d, sizeof d, &du, "dir", data) != 0 ||
            cli_options_put(opts, sizeof opts, &used, "data_options", d) != 0)
            return free(arch), usage_rate(stderr, NULL);
    }
    hwnas_estimator *est = NULL;
    hwnas_supernet *sn = NULL;
    hwnas_space *space = NULL;
    hwnas_net *net = NULL;
    hwnas_rng *rng = NULL;
    int rc = hwnas_supernet_load(&sn, ctx, weights);
    char sopts[2048];
    if (rc == HWNAS_OK) {
        /* the space of the supernet's options, less its weights' seed */
        snprintf(sopts, sizeof sopts, "%s", hwnas_supernet_options(sn));
        char *s = strstr(sopts, ";seed=");
        if (s)
            *s = '\0';
        rc = hwnas_space_new(&space, ctx, hwnas_supernet_space(sn), sopts);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_new(&est, ctx, "supernet", opts);
    if (rc == HWNAS_OK)
        rc = hwnas_net_new(&net, ctx);
    if (rc == HWNAS_OK)
        rc = hwnas_rng_new(&rng, ctx, (uint64_t)seed, 0);
    if (rc == HWNAS_OK)
        printf("arch,accuracy,loss,seconds\n");
    uint32_t *g = sn ? calloc(hwnas_supernet_choice_count(sn) + 1, sizeof *g) : NULL;
    if (rc == HWNAS_OK && !g)
        rc = HWNAS_ENOMEM;
    for (long long k = 0; rc == HWNAS_OK && k < n_arch + random; k++) {
        char *text = NULL;
        if (k < n_arch)
            rc = hwnas_space_parse(space, arch[k], g);
        else
            rc = hwnas_space_sample(space, rng, g);
        if (rc == HWNAS_OK)
            rc = hwnas_space_format(space, g, &text);
        if (rc == HWNAS_OK)
            rc = hwnas_space_decode(space, g, net);
        double v[16]; /* the estimator's metrics: accuracy, loss, seconds */
        if (rc == HWNAS_OK && hwnas_estimator_metric_count(est) > 16)
            rc = HWNAS_EINTERNAL;
        if (rc == HWNAS_OK)
            rc = hwnas_estimator_estimate(est, net, text, (uint64_t)k, v);
        if (rc == HWNAS_OK) {
            printf("\"%s\",%.2f,%.4f,%.3f\n", text, v[0], v[1], v[2]);
            fflush(stdout);
        }
        hwnas_free(text);
    }
    free(g);
    hwnas_rng_free(rng);
    hwnas_net_free(net);
    hwnas_estimator_free(est);
    hwnas_space_free(space);
    hwnas_supernet_free(sn);
    free(arch);
    return rc == HWNAS_OK ? CLI_OK : cli_fail("supernet rate", rc);
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

void cli_supernet_usage(FILE *f)
{
    usage_train(f, NULL);
    usage_rate(f, NULL);
}

int cli_supernet(hwnas_context *ctx, int argc, char **argv)
{
    if (wants_help(argc, argv)) { /* the usage on stdout, status 0 */
        cli_supernet_usage(stdout);
        return CLI_OK;
    }
    if (argc >= 1 && strcmp(argv[0], "train") == 0)
        return cmd_train(ctx, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "rate") == 0)
        return cmd_rate(ctx, argc - 1, argv + 1);
    fprintf(stderr, "usage: hwnas supernet train|rate ... (hwnas supernet train --help)\n");
    return CLI_USAGE;
}
