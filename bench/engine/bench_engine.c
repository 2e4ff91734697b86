/* Training and inference throughput of the fp32 engine on the Fashion-MNIST
 * reference CNN (examples/nets/fmnist_ref.net) at batch 128, with 1 and 2
 * threads, and peak memory; optionally the test accuracy after E epochs of
 * the reference recipe (SGD momentum 0.9, lr 0.05, constant, no
 * augmentation).
 *
 * usage: bench_engine NET [--threads 1,2] [--batches 60] [--epochs E]
 *                     [--engine auto|openblas|onednn] [--infer N]
 *        bench_engine --emit cgp|cell SEED
 * Prints lines "key value" that bench/engine/run reads. --emit prints the
 * net of a random genotype (hwnas_rng seed SEED) of the default CGP space
 * or of the NAS-Bench-201 cell space at Fashion-MNIST size (1x28x28, 10
 * classes) in the text spec, for bench/engine/run to time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <hwnas/hwnas.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of the whole process: with one thread, the time it worked
 * whatever else the machine runs. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_engine: %s: %s\n", what, hwnas_error_last());
    exit(1);
}

/* The net of a random genotype of space kind (see --emit). */
static int emit(const char *kind, uint64_t seed)
{
    hwnas_context *ctx = NULL;
    hwnas_space *sp = NULL;
    hwnas_rng *rng = NULL;
    hwnas_net *net = NULL;
    char *text = NULL;
    const char *opts = strcmp(kind, "cell") == 0 ? "input_channels=1;input_size=28" : "";
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK ||
        hwnas_space_new(&sp, ctx, kind, opts) != HWNAS_OK ||
        hwnas_rng_new(&rng, ctx, seed, 0) != HWNAS_OK || hwnas_net_new(&net, ctx) != HWNAS_OK)
        die(kind);
    uint32_t genes[4096];
    if (hwnas_space_gene_count(sp) > 4096)
        die("too many genes");
    for (;;) { /* a genotype that decodes to a valid net */
        if (hwnas_space_sample(sp, rng, genes) != HWNAS_OK)
            die("sample");
        if (hwnas_space_decode(sp, genes, net) == HWNAS_OK)
            break;
    }
    if (hwnas_net_format(net, &text) != HWNAS_OK)
        die("format");
    fputs(text, stdout);
    hwnas_free(text);
    hwnas_net_free(net);
    hwnas_rng_free(rng);
    hwnas_space_free(sp);
    hwnas_context_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--emit") == 0)
        return emit(argv[2], strtoull(argv[3], NULL, 10));
    if (argc < 2) {
        fprintf(stderr, "usage: %s NET [--threads 1,2] [--batches N] [--epochs E]\n", argv[0]);
        return 2;
    }
    const char *threads = "1,2", *engine = "auto";
    int batches = 60, epochs = 0, infer = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = argv[i + 1];
        else if (strcmp(argv[i], "--batches") == 0)
            batches = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--epochs") == 0)
            epochs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--engine") == 0)
            engine = argv[i + 1];
        else if (strcmp(argv[i], "--infer") == 0) /* test images timed (0: all) */
            infer = atoi(argv[i + 1]);
    }
    hwnas_context *ctx = NULL;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK ||
        hwnas_context_set_option(ctx, "engine", engine) != HWNAS_OK)
        die("context");
    hwnas_dataset *train = NULL, *test = NULL, *sub = NULL;
    if (hwnas_dataset_load(&train, ctx, "fashion-mnist", NULL) != HWNAS_OK ||
        hwnas_dataset_load(&test, ctx, "fashion-mnist", "split=test") != HWNAS_OK)
        die("dataset");
    hwnas_net *net = NULL;
    if (hwnas_net_load(&net, ctx, argv[1]) != HWNAS_OK)
        die(argv[1]);
    if (hwnas_dataset_subset(&sub, train, (size_t)(batches + 5) * 128, HWNAS_DATASET_FIRST, 0))
        die("subset");
    if (infer > 0) {
        hwnas_dataset *part = NULL;
        if (hwnas_dataset_subset(&part, test, (size_t)infer, HWNAS_DATASET_FIRST, 0))
            die("subset");
        hwnas_dataset_free(test);
        test = part;
    }
    char list[64];
    snprintf(list, sizeof list, "%s", threads);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        if (hwnas_context_set_option(ctx, "threads", tok) != HWNAS_OK)
            die("threads");
        hwnas_model *m = NULL;
        if (hwnas_model_new(&m, ctx, net, 1) != HWNAS_OK)
            die("model");
        /* warm-up (buffers, thread pool), then the timed run */
        hwnas_dataset *warm = NULL;
        if (hwnas_dataset_subset(&warm, train, (batches < 10 ? 2 : 5) * 128,
                                 HWNAS_DATASET_FIRST, 0) ||
            hwnas_model_train(m, warm, "schedule=constant", NULL, NULL))
            die("warm-up");
        hwnas_dataset_free(warm);
        double t0 = now(), c0 = cpu_now();
        if (hwnas_model_train(m, sub, "schedule=constant", NULL, NULL) != HWNAS_OK)
            die("train");
        double t1 = now(), c1 = cpu_now();
        double acc;
        if (hwnas_model_evaluate(&acc, NULL, NULL, m, test, 128) != HWNAS_OK)
            die("evaluate");
        double t2 = now(), c2 = cpu_now();
        double nt = (double)hwnas_dataset_count(sub), ne = (double)hwnas_dataset_count(test);
        if (tok == list) /* once */
            printf("params %zu\n", hwnas_model_param_count(m));
        printf("train_images_per_s_%s %.0f\n", tok, nt / (t1 - t0));
        printf("infer_images_per_s_%s %.0f\n", tok, ne / (t2 - t1));
        if (strcmp(tok, "1") == 0) { /* per CPU second: fair on a shared machine */
            printf("train_images_per_cpu_s_1 %.0f\n", nt / (c1 - c0));
            printf("infer_images_per_cpu_s_1 %.0f\n", ne / (c2 - c1));
        }
        fflush(stdout);
        hwnas_model_free(m);
    }
    if (epochs > 0) {
        hwnas_model *m = NULL;
        if (hwnas_model_new(&m, ctx, net, 1) != HWNAS_OK)
            die("model");
        char opts[128];
        snprintf(opts, sizeof opts, "epochs=%d;batch=128;lr=0.05;momentum=0.9;schedule=constant",
                 epochs);
        double t0 = now();
        if (hwnas_model_train(m, train, opts, NULL, NULL) != HWNAS_OK)
            die("train");
        double t1 = now(), acc;
        if (hwnas_model_evaluate(&acc, NULL, NULL, m, test, 128) != HWNAS_OK)
            die("evaluate");
        printf("epochs %d\ntest_accuracy %.4f\nfull_train_seconds %.1f\n", epochs, acc, t1 - t0);
        hwnas_model_free(m);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_mib %.1f\n", (double)ru.ru_maxrss / 1024.0);
    hwnas_dataset_free(sub);
    hwnas_dataset_free(train);
    hwnas_dataset_free(test);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
    return 0;
}
