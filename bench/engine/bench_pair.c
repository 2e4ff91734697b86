/* Candidate-level parallelism on a 2-core machine (issue 18, item 3):
 * two candidates trained at once, each on its own context with one thread
 * (two host threads), against one after the other on a context with two
 * threads. Both ways give the same weights (determinism: checked here by
 * a hash of each candidate's weights file).
 *
 * usage: bench_pair NET1 NET2 [--batches 20] [--engine auto] [--reps 3]
 * Prints, per way, the wall-clock seconds for both candidates (best of
 * reps), the images/s trained in all and the process's CPU seconds (best
 * of reps), and the machine's load average. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hwnas/hwnas.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of the whole process: on a shared machine, the work each way
 * costs whatever else runs (wall time then measures the neighbours too). */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_pair: %s: %s\n", what, hwnas_error_last());
    exit(1);
}

typedef struct job {
    hwnas_context *ctx;        /* the job's own (threads=1) or shared (threads=2) */
    const hwnas_net *net;
    const hwnas_dataset *ds;
    uint64_t hash;             /* of the trained weights */
} job;

static uint64_t fnv(const uint8_t *b, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static void *train(void *arg)
{
    job *j = arg;
    hwnas_model *m = NULL;
    if (hwnas_model_new(&m, j->ctx, j->net, 1) != HWNAS_OK ||
        hwnas_model_train(m, j->ds, "epochs=1;batch=128;lr=0.05;schedule=constant", NULL,
                          NULL) != HWNAS_OK)
        die("train");
    uint8_t *buf = NULL;
    size_t len = 0;
    if (hwnas_model_save_buffer(&buf, &len, m) != HWNAS_OK)
        die("save");
    j->hash = fnv(buf, len);
    hwnas_free(buf);
    hwnas_model_free(m);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s NET1 NET2 [--batches 20] [--engine auto] [--reps 3]\n",
                argv[0]);
        return 2;
    }
    int batches = 20, reps = 3;
    const char *engine = "auto";
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--batches") == 0)
            batches = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--engine") == 0)
            engine = argv[i + 1];
        else if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
    }
    char o1[64], o2[64];
    snprintf(o1, sizeof o1, "threads=1;engine=%s", engine);
    snprintf(o2, sizeof o2, "threads=2;engine=%s", engine);
    hwnas_context *c1a = NULL, *c1b = NULL, *c2 = NULL;
    if (hwnas_context_new(&c1a, o1) || hwnas_context_new(&c1b, o1) || hwnas_context_new(&c2, o2))
        die("context");
    hwnas_dataset *all = NULL, *ds = NULL;
    hwnas_net *n1 = NULL, *n2 = NULL;
    if (hwnas_dataset_load(&all, c2, "fashion-mnist", NULL) != HWNAS_OK ||
        hwnas_dataset_subset(&ds, all, (size_t)batches * 128, HWNAS_DATASET_FIRST, 0) ||
        hwnas_net_load(&n1, c2, argv[1]) != HWNAS_OK || hwnas_net_load(&n2, c2, argv[2]) != HWNAS_OK)
        die("inputs");
    double best_seq = 1e30, best_par = 1e30, cpu_seq = 1e30, cpu_par = 1e30;
    uint64_t seq_hash[2] = {0, 0}, par_hash[2] = {0, 0};
    for (int r = 0; r < reps; r++) {
        /* one after the other, two threads each */
        job a = {c2, n1, ds, 0}, b = {c2, n2, ds, 0};
        double t0 = now(), c0 = cpu_now();
        train(&a);
        train(&b);
        double t = now() - t0, c = cpu_now() - c0;
        best_seq = t < best_seq ? t : best_seq;
        cpu_seq = c < cpu_seq ? c : cpu_seq;
        seq_hash[0] = a.hash, seq_hash[1] = b.hash;
        /* both at once, one thread each */
        job pa = {c1a, n1, ds, 0}, pb = {c1b, n2, ds, 0};
        pthread_t th;
        t0 = now(), c0 = cpu_now();
        if (pthread_create(&th, NULL, train, &pa) != 0)
            die("thread");
        train(&pb);
        pthread_join(th, NULL);
        t = now() - t0, c = cpu_now() - c0;
        best_par = t < best_par ? t : best_par;
        cpu_par = c < cpu_par ? c : cpu_par;
        par_hash[0] = pa.hash, par_hash[1] = pb.hash;
    }
    double imgs = 2.0 * (double)hwnas_dataset_count(ds);
    printf("engine %s, %d batches of 128 per candidate, best of %d\n", engine, batches, reps);
    printf("one at a time, 2 threads each:  %.3f s  %.0f images/s  %.3f CPU s\n", best_seq,
           imgs / best_seq, cpu_seq);
    printf("both at once, 1 thread each:    %.3f s  %.0f images/s  %.3f CPU s\n", best_par,
           imgs / best_par, cpu_par);
    printf("speed-up of candidate parallelism: %.2fx wall, %.2fx CPU\n", best_seq / best_par,
           cpu_seq / cpu_par);
    double load[1] = {0};
    if (getloadavg(load, 1) == 1)
        printf("load average (1 min) at the end: %.2f\n", load[0]);
    printf("same weights both ways: %s\n",
           seq_hash[0] == par_hash[0] && seq_hash[1] == par_hash[1] ? "yes" : "NO");
    hwnas_net_free(n1);
    hwnas_net_free(n2);
    hwnas_dataset_free(ds);
    hwnas_dataset_free(all);
    hwnas_context_free(c1a);
    hwnas_context_free(c1b);
    hwnas_context_free(c2);
    return 0;
}
