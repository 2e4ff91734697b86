/* hwnas train FILE.net: train a network on Fashion-MNIST and report its
 * test accuracy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* hwnas train's recipe where flags say nothing (doc/results.md): lr 0.1,
 * weight decay 5e-4, a one-epoch warm-up from 10 epochs on, and crops of
 * RECIPE_CROP_PAD pixels when augmenting: chosen on held-out training
 * images (--validation), 4-pixel crops are too strong for 28x28 images. */
#define RECIPE "lr=0.1;weight_decay=5e-4;crop_pad=" RECIPE_CROP_PAD
#define RECIPE_CROP_PAD "1"

typedef struct train_progress {
    int tty;
    double start, epoch_start;
    size_t samples, batch;
    const char *checkpoint; /* NULL: none */
    int64_t first;          /* the first epoch this process trains; -1 before any */
} train_progress;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int on_progress(int event, int64_t epoch, int64_t epochs, int64_t batch, int64_t batches,
                       double loss, double accuracy, double lr, void *user_data)
{
    train_progress *p = user_data;
    double t = now();
    if (p->first < 0) {
        p->first = epoch;
        if (epoch > 0 && p->checkpoint)
            fprintf(stderr, "resuming from %s after epoch %lld of %lld\n", p->checkpoint,
                    (long long)epoch, (long long)epochs);
    }
    if (event == HWNAS_MODEL_EVENT_BATCH) {
        if (!p->tty || (batch % 20 != 0 && batch + 1 != batches))
            return 0;
        /* the rate of this process's epochs (a resumed run started later) */
        double done = (double)epoch + (double)(batch + 1) / (double)batches;
        double rate = (double)(batch + 1) * (double)p->batch / (t - p->epoch_start + 1e-9);
        double eta = (t - p->start) / (done - (double)p->first) * ((double)epochs - done);
        fprintf(stderr,
                "\repoch %lld/%lld  batch %lld/%lld  loss %.4f  acc %5.1f%%  lr %.4f  %6.0f "
                "img/s  ETA %dm%02ds ",
                (long long)epoch + 1, (long long)epochs, (long long)batch + 1, (long long)batches,
                loss, 100 * accuracy, lr, rate, (int)(eta / 60), (int)fmod(eta, 60));
        return 0;
    }
    double rate = (double)p->samples / (t - p->epoch_start + 1e-9);
    if (p->tty)
        fputc('\n', stderr);
    fprintf(stderr, "epoch %lld/%lld: loss %.4f, train accuracy %.2f%%, %.0f images/s\n",
            (long long)epoch + 1, (long long)epochs, loss, 100 * accuracy, rate);
    p->epoch_start = t;
    return 0;
}

/* --finetune-q: int8 accuracy with the multipliers the net names, before
 * and after multiplier-aware fine-tuning (the model keeps the result). */
static int finetune_q(hwnas_context *ctx, hwnas_model *model, const hwnas_dataset *train,
                      const hwnas_dataset *test, const hwnas_dataset *val, long long epochs,
                      long long batch, long long seed, const char *axmul_dir)
{
    hwnas_axmul_registry *reg = NULL;
    hwnas_quant *q = NULL;
    int rc = HWNAS_OK;
    if (axmul_dir) {
        rc = hwnas_axmul_registry_new(&reg, ctx);
        if (rc == HWNAS_OK)
            rc = hwnas_axmul_registry_load_dir(reg, axmul_dir, NULL);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_quant_new(&q, model, reg, train, NULL);
    double before = NAN, after = NAN;
    if (rc == HWNAS_OK)
        rc = hwnas_quant_evaluate(&before, NULL, q, test);
    if (rc == HWNAS_OK) {
        printf("int8 test accuracy %.2f%% with the multipliers", 100 * before);
        for (size_t l = 0; l < hwnas_quant_layer_count(q); l++)
            printf("%s %s", l ? "," : "", hwnas_quant_layer_multiplier(q, l));
        printf("\n");
        char opts[128];
        snprintf(opts, sizeof opts, "epochs=%lld;batch=%lld;seed=%lld", epochs,
                 batch > 0 ? batch : 128, seed);
        train_progress p = {isatty(2), now(), now(), hwnas_dataset_count(train),
                            (size_t)(batch > 0 ? batch : 128), NULL, -1};
        fprintf(stderr, "fine-tuning through the int8 path (straight-through estimator)\n");
        rc = hwnas_quant_finetune(q, model, train, opts, on_progress, &p);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_quant_evaluate(&after, NULL, q, test);
    if (rc == HWNAS_OK)
        printf("int8 test accuracy %.2f%% after %lld epoch(s) of fine-tuning (%+.2f points)\n",
               100 * after, epochs, 100 * (after - before));
    if (rc == HWNAS_OK && val && (rc = hwnas_quant_evaluate(&after, NULL, q, val)) == HWNAS_OK)
        printf("int8 validation accuracy %.2f%% after fine-tuning\n", 100 * after);
    hwnas_quant_free(q);
    hwnas_axmul_registry_free(reg);
    return rc;
}

int cli_train(hwnas_context *ctx, int argc, char **argv)
{
    const char *file = NULL, *save = NULL, *data_dir = NULL, *axmul_dir = NULL;
    const char *checkpoint = NULL;
    long long finetune = 0;
    double validation = 0; /* share of the training images held out */
    char options[1024] = RECIPE;
    size_t used = strlen(options);
    long long batch = 128, seed = 1, epochs = 1;
    int warmup_given = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        static const char *const model_flags[] = {
            "--epochs", "--batch",           "--lr",   "--momentum", "--weight-decay", "--schedule",
            "--warmup", "--label-smoothing", "--seed", "--init",     "--crop-pad",     "--flip"};
        int known = 0;
        for (size_t f = 0; f < sizeof model_flags / sizeof *model_flags; f++)
            if (strcmp(a, model_flags[f]) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "hwnas train: %s needs a value\n", a);
                    return CLI_USAGE;
                }
                char key[32];
                snprintf(key, sizeof key, "%s", a + 2);
                for (char *c = key; *c; c++)
                    if (*c == '-')
                        *c = '_';
                if (cli_options_put(options, sizeof options, &used, key, argv[++i]) != 0) {
                    fprintf(stderr, "hwnas train: the model options are longer than %zu bytes "
                            "(at %s)\n", sizeof options - 1, a);
                    return CLI_USAGE;
                }
                warmup_given |= strcmp(key, "warmup") == 0;
                known = 1;
            }
        if (known)
            continue;
        if (strcmp(a, "--augment") == 0) {
            if (cli_options_put(options, sizeof options, &used, "augment", "1") != 0) {
                fprintf(stderr, "hwnas train: the model options are longer than %zu bytes "
                        "(at --augment)\n", sizeof options - 1);
                return CLI_USAGE;
            }
        } else if ((strcmp(a, "--save") == 0 || strcmp(a, "--data") == 0) && i + 1 < argc)
            *(a[2] == 's' ? &save : &data_dir) = argv[++i];
        else if (strcmp(a, "--axmul-dir") == 0 && i + 1 < argc)
            axmul_dir = argv[++i];
        else if (strcmp(a, "--checkpoint") == 0 && i + 1 < argc)
            checkpoint = argv[++i];
        else if (strcmp(a, "--validation") == 0 && i + 1 < argc) {
            if (!cli_parse_real("train", a, argv[++i], 0, 1, 1, 1, &validation))
                return CLI_USAGE;
        } else if (strcmp(a, "--finetune-q") == 0 && i + 1 < argc) {
            if (!cli_parse_int("train", a, argv[++i], 1, 100000, &finetune))
                return CLI_USAGE;
        }
        else if (a[0] != '-' && !file)
            file = a;
        else {
            fprintf(stderr, "hwnas train: unexpected '%s'\n", a);
            cli_train_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: hwnas train FILE.net [options] (hwnas train --help)\n");
        return CLI_USAGE;
    }
    if (!warmup_given && epochs >= 10 && cli_options_put(options, sizeof options, &used, "warmup",
                                                     "1") != 0) {
        fprintf(stderr, "hwnas train: the model options are longer than %zu bytes\n",
                sizeof options - 1);
        return CLI_USAGE;
    }
    /* Every model option checked now, before minutes of loading, with
     * the numbers the run and fine-tuning take from it. */
    {
        hwnas_options *o = NULL;
        int64_t v[3];
        int orc = hwnas_options_new(&o, ctx, "model");
        if (orc == HWNAS_OK)
            orc = hwnas_options_parse(o, options);
        if (orc == HWNAS_OK)
            orc = hwnas_options_get_int(o, "batch", &v[0]);
        if (orc == HWNAS_OK)
            orc = hwnas_options_get_int(o, "seed", &v[1]);
        if (orc == HWNAS_OK)
            orc = hwnas_options_get_int(o, "epochs", &v[2]);
        hwnas_options_free(o);
        if (orc != HWNAS_OK) {
            cli_fail("train", orc);
            return CLI_USAGE;
        }
        batch = v[0], seed = v[1], epochs = v[2];
    }
    /* the dataset's options: split and dir (quoted: a ';' in the path
     * cannot choose the split) */
    char dopts[2][1200];
    for (int k = 0; k < 2; k++) {
        size_t du = 0;
        dopts[k][0] = '\0';
        if (cli_options_put(dopts[k], sizeof dopts[k], &du, "split", k ? "test" : "train") != 0 ||
            (data_dir && cli_options_put(dopts[k], sizeof dopts[k], &du, "dir", data_dir) != 0)) {
            fprintf(stderr, "hwnas train: --data is longer than %zu bytes\n",
                    sizeof dopts[k] - 30);
            return CLI_USAGE;
        }
    }
    hwnas_net *net = NULL;
    hwnas_dataset *train = NULL, *test = NULL, *val = NULL;
    hwnas_model *model = NULL;
    char net_path[4096];
    if (!(file = cli_data_file("train", CLI_DATA_NET, file, net_path, sizeof net_path)))
        return CLI_FAIL;
    int rc = hwnas_net_load(&net, ctx, file);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_load(&train, ctx, "fashion-mnist", dopts[0]);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_load(&test, ctx, "fashion-mnist", dopts[1]);
    double mean[8], std[8];
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_stats(mean, std, train);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(train, mean, std);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(test, mean, std);
    /* --validation: hold out a stratified share of the training images,
     * always the same ones (split seed 1, whatever --seed), so that
     * recipes can be compared without looking at the test set. */
    if (rc == HWNAS_OK && validation > 0) {
        hwnas_dataset *part = NULL;
        rc = hwnas_dataset_split(&part, &val, train, validation, HWNAS_DATASET_STRATIFIED, 1);
        if (rc == HWNAS_OK) {
            hwnas_dataset_free(train);
            train = part;
        }
    }
    if (rc == HWNAS_OK)
        rc = hwnas_model_new(&model, ctx, net, (uint64_t)(seed > 0 ? seed : 1));
    int status = CLI_OK;
    if (rc == HWNAS_OK) {
        printf("%s: %zu parameters, %llu MACs; training on %zu Fashion-MNIST images with "
               "%zu thread(s)\n",
               file, hwnas_model_param_count(model), (unsigned long long)hwnas_net_macs(net),
               hwnas_dataset_count(train), hwnas_context_threads(ctx));
        train_progress p = {isatty(2), now(), now(), hwnas_dataset_count(train),
                            (size_t)(batch > 0 ? batch : 128), checkpoint, -1};
        rc = checkpoint ? hwnas_model_train_checkpoint(model, train, options, checkpoint,
                                                       on_progress, &p)
                        : hwnas_model_train(model, train, options, on_progress, &p);
        if (rc == HWNAS_OK && checkpoint && p.first < 0)
            fprintf(stderr, "%s holds the finished run: its weights, no training\n",
                    checkpoint);
    }
    double acc = NAN, loss = NAN;
    if (rc == HWNAS_OK)
        rc = hwnas_model_evaluate(&acc, &loss, NULL, model, test, 256);
    if (rc == HWNAS_OK) {
        printf("test accuracy %.2f%% (loss %.4f) on %zu images\n", 100 * acc, loss,
               hwnas_dataset_count(test));
        if (val && (rc = hwnas_model_evaluate(&acc, &loss, NULL, model, val, 256)) == HWNAS_OK)
            printf("validation accuracy %.2f%% (loss %.4f) on %zu held-out training images\n",
                   100 * acc, loss, hwnas_dataset_count(val));
        if (rc == HWNAS_OK && finetune > 0)
            rc = finetune_q(ctx, model, train, test, val, finetune, batch, seed, axmul_dir);
        if (rc == HWNAS_OK && save) {
            rc = hwnas_model_save(model, save);
            if (rc == HWNAS_OK)
                printf("weights saved to %s\n", save);
        }
    }
    if (rc != HWNAS_OK)
        status = cli_fail("train", rc);
    hwnas_model_free(model);
    hwnas_dataset_free(train);
    hwnas_dataset_free(test);
    hwnas_dataset_free(val);
    hwnas_net_free(net);
    return status;
}

void cli_train_usage(FILE *f)
{
    fprintf(f, "usage: hwnas train FILE.net [--epochs N] [--batch N] [--lr X] [--momentum X]\n"
               "       [--weight-decay X] [--schedule cosine|step|constant] [--warmup EPOCHS]\n"
               "       [--label-smoothing X] [--augment] [--seed N] [--crop-pad N] [--flip P]\n"
               "       [--init he|uniform] [--data DIR] [--save WEIGHTS] [--finetune-q EPOCHS]\n"
               "       [--axmul-dir DIR] [--validation FRACTION] [--checkpoint FILE]\n"
               "--checkpoint: the run's state is saved there after every epoch; run the\n"
               "          same command again to resume a stopped run from it\n"
               "defaults: --epochs 1 --batch 128 --lr 0.1 --momentum 0.9 --weight-decay 5e-4\n"
               "          --schedule cosine --warmup 1 (from 10 epochs on) --crop-pad "
               RECIPE_CROP_PAD "\n          --flip 0.5 --seed 1 --init keep\n");
}
