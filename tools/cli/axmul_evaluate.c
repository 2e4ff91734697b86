/* hwnas axmul evaluate FILE.net: train (or load) a net on Fashion-MNIST,
 * quantise it to int8 and measure its accuracy with every multiplier the
 * registry lists (built-in instances and imported ones), writing a CSV and
 * an SVG plot of accuracy against relative multiplier power with the
 * Pareto front (most accurate for the power) marked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Room for split="test";dir="..." with --data, every character escaped. */
#define DATA_OPTIONS_MAX 1200

typedef struct eval_row {
    const char *name;  /* borrowed from the registry */
    int is_signed;
    double acc;        /* accuracy_q in [0, 1] */
    double power, area, mae, mae_pct;
    int front;         /* on the Pareto front */
} eval_row;

static void eval_usage(FILE *f)
{
    fprintf(f,
            "usage: hwnas axmul [--dir DIR] evaluate FILE.net [--weights FILE] [--epochs N]\n"
            "                   [--train-subset N] [--test-subset N] [--data DIR]\n"
            "                   [--quant OPTIONS] [--csv FILE] [--svg FILE]\n"
            "Trains FILE.net on Fashion-MNIST (or loads --weights saved by hwnas train),\n"
            "quantises it to int8 and reports accuracy_q with the net's own multipliers and\n"
            "then with every listed multiplier in all layers, its relative power and MAE.\n"
            "Defaults: --epochs 2, --train-subset 0 (all), --test-subset 2000,\n"
            "--csv axmul_evaluate.csv, --svg axmul_evaluate.svg.\n");
}

static int cmp_power(const void *a, const void *b)
{
    const eval_row *x = *(eval_row *const *)a, *y = *(eval_row *const *)b;
    if (x->power != y->power)
        return x->power < y->power ? -1 : 1;
    return x->acc > y->acc ? -1 : x->acc < y->acc ? 1 : 0;
}

/* Mark the rows no other row beats in both accuracy (higher) and power
 * (lower); rows without a known power are left out. Returns them sorted by
 * power in order (n_front entries). */
static size_t mark_front(eval_row *rows, size_t n, eval_row **order)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(rows[i].power) && isfinite(rows[i].acc))
            order[m++] = &rows[i];
    qsort(order, m, sizeof *order, cmp_power);
    double best = -1;
    for (size_t i = 0; i < m; i++)
        if (order[i]->acc > best) {
            order[i]->front = 1;
            best = order[i]->acc;
        }
    return m;
}

static int write_svg(const char *path, eval_row **order, size_t m, const char *net,
                     double acc_fp32)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const double W = 720, H = 480, L = 70, R = 20, T = 40, B = 60;
    double x0 = 0, x1 = 1.0, y0 = 1.0, y1 = 0.0;
    for (size_t i = 0; i < m; i++) {
        x1 = order[i]->power > x1 ? order[i]->power : x1;
        y0 = order[i]->acc < y0 ? order[i]->acc : y0;
        y1 = order[i]->acc > y1 ? order[i]->acc : y1;
    }
    if (isfinite(acc_fp32))
        y1 = acc_fp32 > y1 ? acc_fp32 : y1;
    y0 = floor(y0 * 20) / 20, y1 = ceil(y1 * 20 + 1e-9) / 20;
    if (y1 <= y0)
        y1 = y0 + 0.05;
    x1 *= 1.05;
#define PX(v) (L + (v - x0) / (x1 - x0) * (W - L - R))
#define PY(v) (H - B - (v - y0) / (y1 - y0) * (H - T - B))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"15\">int8 accuracy against relative "
               "multiplier power: ", L);
    cli_xml_text(f, net, 0);
    fprintf(f, "</text>\n");
    for (int k = 0; k <= 5; k++) { /* grid and tick labels */
        double xv = x0 + (x1 - x0) * k / 5, yv = y0 + (y1 - y0) * k / 5;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                PX(xv), (double)T, PX(xv), H - B);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                (double)L, PY(yv), W - R, PY(yv));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.2f</text>\n", PX(xv),
                H - B + 16, xv);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f%%</text>\n", L - 6,
                PY(yv) + 4, 100 * yv);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">power relative to the "
               "exact multiplier</text>\n", (L + W - R) / 2, H - 18);
    fprintf(f, "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">"
               "accuracy_q</text>\n", (T + H - B) / 2);
    if (isfinite(acc_fp32))
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
                   "stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"#666\">fp32 "
                   "%.2f%%</text>\n",
                (double)L, PY(acc_fp32), W - R, PY(acc_fp32), L + 4, PY(acc_fp32) - 4,
                100 * acc_fp32);
    fprintf(f, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"");
    double last = NAN;
    for (size_t i = 0; i < m; i++) {
        if (!order[i]->front)
            continue;
        if (isfinite(last)) /* a step: the front holds until the next point */
            fprintf(f, "%.1f,%.1f ", PX(order[i]->power), PY(last));
        fprintf(f, "%.1f,%.1f ", PX(order[i]->power), PY(order[i]->acc));
        last = order[i]->acc;
    }
    fprintf(f, "\"/>\n");
    for (size_t i = 0; i < m; i++) {
        const eval_row *r = order[i];
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>", PX(r->power),
                PY(r->acc), r->front ? 5 : 3, r->front ? "#d62728" : "#1f77b4");
        cli_xml_text(f, r->name, 0);
        fprintf(f, ": %.2f%%, power %.3f</title></circle>\n", 100 * r->acc, r->power);
        if (r->front) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#d62728\">",
                    PX(r->power) + 6, PY(r->acc) + 12);
            cli_xml_text(f, r->name, 0);
            fprintf(f, "</text>\n");
        }
    }
    fprintf(f, "</svg>\n");
#undef PX
#undef PY
    return fclose(f) == 0 ? 0 : -1;
}

static int write_csv(const char *path, const eval_row *rows, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "multiplier,signed,accuracy_q,power,area,mae,mae_pct,pareto\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "\"%s\",%d,%.6f,%.6g,%.6g,%.6g,%.6g,%d\n", rows[i].name, rows[i].is_signed,
                rows[i].acc, rows[i].power, rows[i].area, rows[i].mae, rows[i].mae_pct,
                rows[i].front);
    return fclose(f) == 0 ? 0 : -1;
}

typedef struct eval_args {
    const char *net, *weights, *data, *quant, *csv, *svg;
    long epochs, train_subset, test_subset;
} eval_args;

static int parse_args(eval_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->epochs = 2, a->test_subset = 2000;
    a->csv = "axmul_evaluate.csv", a->svg = "axmul_evaluate.svg";
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int has = i + 1 < argc;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            eval_usage(stdout);
            return -1;
        } else if (strcmp(s, "--weights") == 0 && has) {
            a->weights = argv[++i];
        } else if (strcmp(s, "--data") == 0 && has) {
            a->data = argv[++i];
        } else if (strcmp(s, "--quant") == 0 && has) {
            a->quant = argv[++i];
        } else if (strcmp(s, "--csv") == 0 && has) {
            a->csv = argv[++i];
        } else if (strcmp(s, "--svg") == 0 && has) {
            a->svg = argv[++i];
        } else if ((strcmp(s, "--epochs") == 0 || strcmp(s, "--train-subset") == 0 ||
                    strcmp(s, "--test-subset") == 0) && has) {
            long long v;
            if (!cli_parse_int("axmul evaluate", s, argv[i + 1], strcmp(s, "--epochs") == 0,
                               strcmp(s, "--epochs") == 0 ? 100000 : 1000000000, &v))
                return 2;
            *(strcmp(s, "--epochs") == 0 ? &a->epochs
              : strcmp(s, "--train-subset") == 0 ? &a->train_subset
                                                  : &a->test_subset) = (long)v;
            i++;
        } else if (s[0] != '-' && !a->net) {
            a->net = s;
        } else {
            fprintf(stderr, "hwnas axmul evaluate: unexpected '%s'\n", s);
            return 2;
        }
    }
    if (!a->net) {
        eval_usage(stderr);
        return 2;
    }
    /* the data options are built in DATA_OPTIONS_MAX bytes: a cut path
     * would name another directory */
    if (a->data && strlen(a->data) > (DATA_OPTIONS_MAX - 32) / 2) {
        fprintf(stderr, "hwnas axmul evaluate: --data is longer than %d bytes\n",
                (DATA_OPTIONS_MAX - 32) / 2);
        return 2;
    }
    return 0;
}

/* Train and test sets, normalised with the whole training split's
 * statistics (as hwnas train does, so saved weights fit). */
static int load_data(hwnas_context *ctx, const eval_args *a, hwnas_dataset **train,
                     hwnas_dataset **test)
{
    char opts[DATA_OPTIONS_MAX];
    hwnas_dataset *all = NULL, *all_test = NULL;
    /* dir quoted: a ';' in the path cannot choose the split (each
     * character escaped at most once: parse_args bounded the length) */
    size_t used = 0;
    opts[0] = '\0';
    if (a->data)
        cli_options_put(opts, sizeof opts, &used, "dir", a->data);
    int rc = hwnas_dataset_load(&all, ctx, "fashion-mnist", opts);
    used = 0;
    cli_options_put(opts, sizeof opts, &used, "split", "test");
    if (a->data)
        cli_options_put(opts, sizeof opts, &used, "dir", a->data);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_load(&all_test, ctx, "fashion-mnist", opts);
    double mean[64], std[64];
    if (rc == HWNAS_OK && hwnas_dataset_channels(all) <= 64)
        rc = hwnas_dataset_stats(mean, std, all);
    if (rc == HWNAS_OK && a->train_subset > 0 &&
        (size_t)a->train_subset < hwnas_dataset_count(all))
        rc = hwnas_dataset_subset(train, all, (size_t)a->train_subset,
                                  HWNAS_DATASET_STRATIFIED, 1);
    else if (rc == HWNAS_OK)
        rc = hwnas_dataset_subset(train, all, hwnas_dataset_count(all), HWNAS_DATASET_FIRST, 0);
    if (rc == HWNAS_OK && a->test_subset > 0 &&
        (size_t)a->test_subset < hwnas_dataset_count(all_test))
        rc = hwnas_dataset_subset(test, all_test, (size_t)a->test_subset,
                                  HWNAS_DATASET_STRATIFIED, 2);
    else if (rc == HWNAS_OK)
        rc = hwnas_dataset_subset(test, all_test, hwnas_dataset_count(all_test),
                                  HWNAS_DATASET_FIRST, 0);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(*train, mean, std);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(*test, mean, std);
    hwnas_dataset_free(all);
    hwnas_dataset_free(all_test);
    return rc;
}

static int sweep(hwnas_context *ctx, hwnas_axmul_registry *reg, hwnas_quant *q,
                 const hwnas_dataset *test, const eval_args *a, double acc_fp32)
{
    (void)ctx;
    size_t n = hwnas_axmul_registry_count(reg);
    eval_row *rows = calloc(n ? n : 1, sizeof *rows);
    eval_row **order = calloc(n ? n : 1, sizeof *order);
    if (!rows || !order) {
        free(rows);
        free(order);
        fprintf(stderr, "hwnas axmul evaluate: out of memory\n");
        return CLI_FAIL;
    }
    printf("%-28s %6s %10s %8s %10s\n", "multiplier", "signed", "accuracy_q", "power",
           "mae");
    int rc = HWNAS_OK;
    size_t done = 0;
    for (size_t i = 0; i < n && rc == HWNAS_OK; i++) {
        const hwnas_axmul *m;
        eval_row *r = &rows[done];
        r->name = hwnas_axmul_registry_name(reg, i);
        rc = hwnas_axmul_registry_get(&m, reg, r->name);
        if (rc == HWNAS_OK)
            rc = hwnas_quant_set_multiplier(q, -1, m);
        if (rc == HWNAS_OK)
            rc = hwnas_quant_evaluate(&r->acc, NULL, q, test);
        if (rc != HWNAS_OK)
            break;
        r->is_signed = hwnas_axmul_is_signed(m);
        r->power = hwnas_axmul_power(m), r->area = hwnas_axmul_area(m);
        r->mae = hwnas_axmul_metric(m, HWNAS_AXMUL_MAE);
        r->mae_pct = hwnas_axmul_metric(m, HWNAS_AXMUL_MAE_PCT);
        printf("%-28s %6d %9.2f%% %8.3f %10.2f\n", r->name, r->is_signed, 100 * r->acc,
               r->power, r->mae);
        fflush(stdout);
        done++;
    }
    int status = CLI_OK;
    if (rc != HWNAS_OK) {
        status = cli_fail("axmul evaluate", rc);
    } else {
        size_t m = mark_front(rows, done, order);
        printf("Pareto front (accuracy_q against power):");
        for (size_t i = 0; i < m; i++)
            if (order[i]->front)
                printf(" %s", order[i]->name);
        printf("\n");
        if (write_csv(a->csv, rows, done) != 0) {
            fprintf(stderr, "hwnas axmul evaluate: cannot write %s\n", a->csv);
            status = CLI_FAIL;
        } else if (write_svg(a->svg, order, m, a->net, acc_fp32) != 0) {
            fprintf(stderr, "hwnas axmul evaluate: cannot write %s\n", a->svg);
            status = CLI_FAIL;
        } else {
            printf("wrote %s and %s\n", a->csv, a->svg);
        }
    }
    free(rows);
    free(order);
    return status;
}

int cli_axmul_evaluate(hwnas_context *ctx, hwnas_axmul_registry *reg, int argc, char **argv)
{
    eval_args a;
    int pr = parse_args(&a, argc, argv);
    if (pr != 0)
        return pr < 0 ? CLI_OK : CLI_USAGE;
    hwnas_net *net = NULL;
    hwnas_model *model = NULL;
    hwnas_dataset *train = NULL, *test = NULL;
    hwnas_quant *q = NULL;
    int status = CLI_OK;
    char net_path[4096];
    if (!(a.net = cli_data_file("axmul evaluate", CLI_DATA_NET, a.net, net_path,
                                sizeof net_path)))
        return CLI_FAIL;
    int rc = hwnas_net_load(&net, ctx, a.net);
    if (rc != HWNAS_OK) {
        status = cli_fail(a.net, rc);
        goto done;
    }
    if ((rc = load_data(ctx, &a, &train, &test)) != HWNAS_OK) {
        status = cli_fail("axmul evaluate: data", rc);
        goto done;
    }
    if ((rc = hwnas_model_new(&model, ctx, net, 1)) != HWNAS_OK) {
        status = cli_fail("axmul evaluate: model", rc);
        goto done;
    }
    if (a.weights) {
        rc = hwnas_model_load(model, a.weights);
    } else {
        char opts[64];
        snprintf(opts, sizeof opts, "epochs=%ld", a.epochs);
        fprintf(stderr, "training %s for %ld epochs on %zu samples...\n", a.net, a.epochs,
                hwnas_dataset_count(train));
        rc = hwnas_model_train(model, train, opts, NULL, NULL);
    }
    if (rc != HWNAS_OK) {
        status = cli_fail(a.weights ? a.weights : "axmul evaluate: training", rc);
        goto done;
    }
    double acc_fp32 = NAN, acc_q = NAN;
    rc = hwnas_model_evaluate(&acc_fp32, NULL, NULL, model, test, 0);
    if (rc == HWNAS_OK)
        rc = hwnas_quant_new(&q, model, reg, train, a.quant);
    if (rc == HWNAS_OK)
        rc = hwnas_quant_evaluate(&acc_q, NULL, q, test);
    if (rc != HWNAS_OK) {
        status = cli_fail("axmul evaluate", rc);
        goto done;
    }
    printf("%s: fp32 accuracy %.2f%%, accuracy_q %.2f%% with its own multipliers (%zu test "
           "samples)\n", a.net, 100 * acc_fp32, 100 * acc_q, hwnas_dataset_count(test));
    status = sweep(ctx, reg, q, test, &a, acc_fp32);
done:
    hwnas_quant_free(q);
    hwnas_model_free(model);
    hwnas_dataset_free(train);
    hwnas_dataset_free(test);
    hwnas_net_free(net);
    return status;
}

void cli_axmul_evaluate_usage(FILE *f) { eval_usage(f); }
