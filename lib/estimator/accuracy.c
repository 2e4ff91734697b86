/*
 * estimator:accuracy - train the candidate for real and measure it.
 *
 * The training split of the dataset is cut (once, by seed) into a training
 * part and a validation part; each candidate is initialised and trained on
 * the training part with its own random stream and measured on the
 * validation part. The test split is touched only when test=true, and only
 * to report test_accuracy: a search never sees test data otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "estimator_internal.h"
#include "hwnas/data.h"
#include "hwnas/model.h"
#include "hwnas/quant.h"
#include "hwnas/axmul.h"

enum {
    OPT_DATASET, OPT_DATA_OPTIONS, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_MOMENTUM, OPT_SCHEDULE,
    OPT_WEIGHT_DECAY, OPT_LABEL_SMOOTHING, OPT_AUGMENT, OPT_TRAIN_SUBSET, OPT_VAL_FRACTION,
    OPT_VAL_SUBSET, OPT_SEED, OPT_TEST, OPT_QUANT, OPT_AXMUL_DIR, OPT_QAT_EPOCHS, OPT_QAT_LR,
    OPT_CURVE_VAL_SUBSET
};

static const hwnas__option_spec accuracy_options[] = {
    [OPT_DATASET] = {"dataset", HWNAS_OPTION_STRING, "fashion-mnist", 0, 0, NULL,
                     "dataset name for hwnas_dataset_load (fashion-mnist, idx)"},
    [OPT_DATA_OPTIONS] = {"data_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                          "options of the dataset loader, e.g. \"dir=/path\" (quote them)"},
    [OPT_EPOCHS] = {"epochs", HWNAS_OPTION_INT, "1", 1, 100000, NULL, "training epochs"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "128", 1, 65536, NULL, "mini-batch size"},
    [OPT_LR] = {"lr", HWNAS_OPTION_FLOAT, "0.05", 0, 1000, NULL, "peak learning rate"},
    [OPT_MOMENTUM] = {"momentum", HWNAS_OPTION_FLOAT, "0.9", 0, 1, NULL, "SGD momentum"},
    [OPT_SCHEDULE] = {"schedule", HWNAS_OPTION_ENUM, "cosine", 0, 0, "constant|cosine|step",
                      "learning-rate schedule"},
    [OPT_WEIGHT_DECAY] = {"weight_decay", HWNAS_OPTION_FLOAT, "0", 0, 1, NULL,
                          "L2 weight decay"},
    [OPT_LABEL_SMOOTHING] = {"label_smoothing", HWNAS_OPTION_FLOAT, "0", 0, 0.999, NULL,
                             "label smoothing"},
    [OPT_AUGMENT] = {"augment", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                     "random crops and flips while training"},
    [OPT_TRAIN_SUBSET] = {"train_subset", HWNAS_OPTION_INT, "0", 0, 1e9, NULL,
                          "train on this many samples (stratified); 0 = the whole training part"},
    [OPT_VAL_FRACTION] = {"val_fraction", HWNAS_OPTION_FLOAT, "0.1", 0.001, 0.9, NULL,
                          "share of the training split held out for validation"},
    [OPT_VAL_SUBSET] = {"val_subset", HWNAS_OPTION_INT, "0", 0, 1e9, NULL,
                        "validate on this many samples (stratified); 0 = all held out"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of the split and, mixed with each candidate's stream, of training"},
    [OPT_TEST] = {"test", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                  "also report test_accuracy on the test split (never for searching)"},
    [OPT_QUANT] = {"quant", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                   "also report accuracy_q: int8 accuracy with the multipliers the net names"},
    [OPT_AXMUL_DIR] = {"axmul_dir", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                       "directory of imported multipliers for accuracy_q"},
    [OPT_QAT_EPOCHS] = {"qat_epochs", HWNAS_OPTION_INT, "0", 0, 100000, NULL,
                        "epochs of multiplier-aware fine-tuning (hwnas_quant_finetune) "
                        "before accuracy_q is measured (needs quant=true)"},
    [OPT_QAT_LR] = {"qat_lr", HWNAS_OPTION_FLOAT, "0.01", 0, 1000, NULL,
                    "peak learning rate of that fine-tuning"},
    [OPT_CURVE_VAL_SUBSET] = {"curve_val_subset", HWNAS_OPTION_INT, "500", 0, 1e9, NULL,
                              "learning-curve reports before the last epoch (pruning) validate "
                              "on this many of the validation samples (stratified); 0 = all"},
};

const hwnas__kind hwnas__estimator_accuracy_kind = {
    "estimator:accuracy", accuracy_options, HWNAS_ARRAY_SIZE(accuracy_options),
    &hwnas__estimator_accuracy_impl,
};

typedef struct accuracy_state {
    hwnas_dataset *train; /* normalised with the training part's statistics */
    hwnas_dataset *val;
    hwnas_dataset *val_curve; /* the curve's reports before the end: val or a subset of it */
    hwnas_dataset *test;  /* NULL unless test=true */
    char train_options[512];
} accuracy_state;

static int64_t opt_int(const hwnas_estimator *e, int i)
{
    return hwnas__options_int(e->options, (size_t)i);
}

static void accuracy_fini(hwnas_estimator *e)
{
    accuracy_state *st = e->state;
    if (!st)
        return;
    hwnas_dataset_free(st->train);
    if (st->val_curve != st->val)
        hwnas_dataset_free(st->val_curve);
    hwnas_dataset_free(st->val);
    hwnas_dataset_free(st->test);
    hwnas__free(e->ctx, st);
    e->state = NULL;
}

static int load_split(hwnas_estimator *e, const char *split, hwnas_dataset **out)
{
    char opts[1024];
    const char *extra = hwnas__options_str(e->options, OPT_DATA_OPTIONS);
    if ((size_t)snprintf(opts, sizeof opts, "split=%s%s%s", split, *extra ? ";" : "", extra) >=
        sizeof opts)
        return hwnas__error(HWNAS_EINVAL, "estimator:accuracy: data_options too long");
    const char *name = hwnas__options_str(e->options, OPT_DATASET);
    /* Only named datasets with splits take split=; idx files are one set. */
    return hwnas_dataset_load(out, e->ctx, name, strcmp(name, "idx") == 0 ? extra : opts);
}

static int accuracy_init(hwnas_estimator *e)
{
    if (opt_int(e, OPT_QAT_EPOCHS) && !hwnas__options_int(e->options, OPT_QUANT))
        return hwnas__error(HWNAS_EINVAL, "estimator:accuracy: qat_epochs=%lld fine-tunes for "
                            "accuracy_q, which needs quant=true",
                            (long long)opt_int(e, OPT_QAT_EPOCHS));
    accuracy_state *st = hwnas__calloc(e->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    e->state = st;
    uint64_t seed = (uint64_t)opt_int(e, OPT_SEED);
    hwnas_dataset *all = NULL, *train = NULL, *val = NULL;
    int rc = load_split(e, "train", &all);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_split(&train, &val, all,
                                 hwnas__options_float(e->options, OPT_VAL_FRACTION),
                                 HWNAS_DATASET_STRATIFIED, seed);
    hwnas_dataset_free(all);
    size_t n_train = (size_t)opt_int(e, OPT_TRAIN_SUBSET), n_val = (size_t)opt_int(e, OPT_VAL_SUBSET);
    if (rc == HWNAS_OK && n_train && n_train < hwnas_dataset_count(train)) {
        hwnas_dataset *sub;
        rc = hwnas_dataset_subset(&sub, train, n_train, HWNAS_DATASET_STRATIFIED, seed + 1);
        if (rc == HWNAS_OK) {
            hwnas_dataset_free(train);
            train = sub;
        }
    }
    if (rc == HWNAS_OK && n_val && n_val < hwnas_dataset_count(val)) {
        hwnas_dataset *sub;
        rc = hwnas_dataset_subset(&sub, val, n_val, HWNAS_DATASET_STRATIFIED, seed + 2);
        if (rc == HWNAS_OK) {
            hwnas_dataset_free(val);
            val = sub;
        }
    }
    st->train = train;
    st->val = val;
    st->val_curve = val;
    if (rc == HWNAS_OK && hwnas__options_int(e->options, OPT_TEST))
        rc = load_split(e, "test", &st->test);
    /* Normalise every part with the training part's statistics. */
    double mean[64], std[64];
    if (rc == HWNAS_OK && hwnas_dataset_channels(train) > 64)
        rc = hwnas__error(HWNAS_EUNSUPPORTED, "estimator:accuracy: more than 64 channels");
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_stats(mean, std, train);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(train, mean, std);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(val, mean, std);
    /* A rung ranks candidates against each other at one position: a few
     * hundred images rank them well enough, and the validation would
     * otherwise cost as much as the training a pruned candidate gets. */
    size_t n_curve = (size_t)opt_int(e, OPT_CURVE_VAL_SUBSET);
    if (rc == HWNAS_OK && n_curve && n_curve < hwnas_dataset_count(val))
        rc = hwnas_dataset_subset(&st->val_curve, val, n_curve, HWNAS_DATASET_STRATIFIED,
                                  seed + 3);
    if (!st->val_curve)
        st->val_curve = val;
    if (rc == HWNAS_OK && st->test)
        rc = hwnas_dataset_normalize(st->test, mean, std);
    if (rc == HWNAS_OK) {
        static const char *const schedules[] = {"constant", "cosine", "step"};
        snprintf(st->train_options, sizeof st->train_options,
                 "epochs=%lld;batch=%lld;lr=%.17g;momentum=%.17g;schedule=%s;weight_decay=%.17g;"
                 "label_smoothing=%.17g;augment=%d",
                 (long long)opt_int(e, OPT_EPOCHS), (long long)opt_int(e, OPT_BATCH),
                 hwnas__options_float(e->options, OPT_LR),
                 hwnas__options_float(e->options, OPT_MOMENTUM),
                 schedules[opt_int(e, OPT_SCHEDULE)],
                 hwnas__options_float(e->options, OPT_WEIGHT_DECAY),
                 hwnas__options_float(e->options, OPT_LABEL_SMOOTHING),
                 (int)opt_int(e, OPT_AUGMENT));
        rc = hwnas__estimator_add_metric(e, "accuracy", "%");
    }
    if (rc == HWNAS_OK)
        rc = hwnas__estimator_add_metric(e, "train_loss", "");
    if (rc == HWNAS_OK)
        rc = hwnas__estimator_add_metric(e, "train_seconds", "s");
    if (rc == HWNAS_OK && st->test)
        rc = hwnas__estimator_add_metric(e, "test_accuracy", "%");
    if (rc == HWNAS_OK && hwnas__options_int(e->options, OPT_QUANT))
        rc = hwnas__estimator_add_metric(e, "accuracy_q", "%");
    return rc;
}

/* The learning-curve watch armed for this thread's next estimate. */
static _Thread_local hwnas__curve_watch *armed_watch;

void hwnas__curve_watch_set(hwnas__curve_watch *w)
{
    armed_watch = w;
}

double hwnas__estimator_curve_epochs(const hwnas_estimator *e)
{
    if (!e || e->impl != &hwnas__estimator_accuracy_impl)
        return 0;
    return (double)opt_int(e, OPT_EPOCHS);
}

/* A watched training: validation after each asked position. */
typedef struct watching {
    hwnas__curve_watch *w;
    hwnas_model *m;
    const hwnas_dataset *val;       /* at the end of training */
    const hwnas_dataset *val_curve; /* before it */
    double epochs;
    size_t next;        /* the next position to report */
    int rc;             /* an error of evaluate or report (< 0), else 0 */
    uint64_t last_step; /* the step the last report was made after (0: none) */
    double last_acc;
} watching;

static int watch_progress(int event, int64_t epoch, int64_t epochs, int64_t batch,
                          int64_t batches, double loss, double accuracy, double lr, void *data)
{
    (void)epochs, (void)loss, (void)accuracy, (void)lr;
    watching *v = data;
    if (event != HWNAS_MODEL_EVENT_BATCH)
        return 0;
    uint64_t step = (uint64_t)epoch * (uint64_t)batches + (uint64_t)batch + 1;
    while (v->next < v->w->n_at) {
        /* Position at[k] is reached after round(at[k] * batches) steps (at least one). */
        double want = v->w->at[v->next] * (double)batches;
        uint64_t target = want < 1 ? 1 : (uint64_t)llround(want);
        if (step < target)
            return 0;
        double acc = NAN, vloss;
        if (v->last_step != step) {
            const hwnas_dataset *on =
                v->w->at[v->next] >= v->epochs - 1e-9 ? v->val : v->val_curve;
            int rc = hwnas_model_evaluate(&acc, &vloss, NULL, v->m, on, 256);
            if (rc != HWNAS_OK) {
                v->rc = rc;
                return 1;
            }
            v->last_step = step;
            v->last_acc = 100.0 * acc;
        }
        int r = v->w->report(v->w->data, v->next, v->last_acc);
        if (r < 0) {
            v->rc = r;
            return 1;
        }
        if (r > 0) {
            v->w->stopped = 1;
            v->w->stopped_at = v->next;
            return 1;
        }
        v->next++;
    }
    return 0;
}

static int accuracy_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                             uint64_t stream, double *values)
{
    (void)key;
    accuracy_state *st = e->state;
    hwnas__curve_watch *w = armed_watch;
    armed_watch = NULL; /* this estimate's: an estimate inside a callback must not see it */
    /* The candidate's own seed: the same whatever thread or order. */
    uint64_t x = (uint64_t)opt_int(e, OPT_SEED) ^ (stream * UINT64_C(0x9e3779b97f4a7c15));
    uint64_t seed = hwnas__splitmix64(&x) >> 11; /* within the seed option's range */
    hwnas_model *m = NULL;
    int rc = hwnas_model_new(&m, e->ctx, net, seed);
    char opts[600];
    snprintf(opts, sizeof opts, "%s;seed=%llu", st->train_options, (unsigned long long)seed);
    watching v = {w, m, st->val, st->val_curve, (double)opt_int(e, OPT_EPOCHS), 0, 0, 0, NAN};
    if (w)
        w->stopped = 0;
    double t0 = hwnas__now_seconds();
    if (rc == HWNAS_OK)
        rc = hwnas_model_train(m, st->train, opts, w ? watch_progress : NULL, &v);
    if (rc == HWNAS_EUSER && v.rc < 0)
        rc = v.rc; /* evaluate's or report's error, still set */
    else if (rc == HWNAS_EUSER && w && w->stopped)
        rc = HWNAS_OK; /* pruned: measured as trained so far */
    double seconds = hwnas__now_seconds() - t0;
    double acc = NAN, loss = NAN;
    if (rc == HWNAS_OK && v.last_step && w && (w->stopped || v.next == w->n_at) &&
        w->at[w->n_at - 1] >= (double)opt_int(e, OPT_EPOCHS) - 1e-9) {
        acc = v.last_acc / 100.0; /* the last report was made on this very model */
    } else if (rc == HWNAS_OK && w && w->stopped) {
        acc = v.last_acc / 100.0;
    } else if (rc == HWNAS_OK) {
        rc = hwnas_model_evaluate(&acc, &loss, NULL, m, st->val, 256);
    }
    if (rc == HWNAS_OK) {
        values[0] = 100.0 * acc;
        values[1] = hwnas_model_train_loss(m);
        values[2] = seconds;
        if (!isfinite(values[1]) && !(w && w->stopped))
            rc = hwnas__error(HWNAS_EUNSUPPORTED, "estimator:accuracy: training diverged "
                                                  "(loss %g)",
                              values[1]);
    }
    /* A pruned candidate's figures are partial and it is never ranked by
     * them again: its test and int8 accuracies are not worth measuring
     * (NaN; the search ranks it by its curve). */
    int pruned = w && w->stopped;
    if (rc == HWNAS_OK && pruned) {
        for (size_t i = 3; i < hwnas_estimator_metric_count(e); i++)
            values[i] = NAN;
    }
    if (rc == HWNAS_OK && st->test && !pruned) {
        rc = hwnas_model_evaluate(&acc, &loss, NULL, m, st->test, 256);
        values[3] = 100.0 * acc;
    }
    if (rc == HWNAS_OK && hwnas__options_int(e->options, OPT_QUANT) && !pruned) {
        /* A registry per call: registries create built-ins on first use and
         * are not thread-safe, while estimates run in parallel. */
        hwnas_axmul_registry *reg = NULL;
        const char *dir = hwnas__options_str(e->options, OPT_AXMUL_DIR);
        if (*dir) {
            rc = hwnas_axmul_registry_new(&reg, e->ctx);
            if (rc == HWNAS_OK)
                rc = hwnas_axmul_registry_load_dir(reg, dir, NULL);
        }
        double aq = NAN;
        hwnas_quant *q = NULL;
        if (rc == HWNAS_OK)
            rc = hwnas_quant_new(&q, m, reg, st->train, NULL);
        if (rc == HWNAS_OK && opt_int(e, OPT_QAT_EPOCHS) > 0) {
            /* after the fp32 metrics: fine-tuning changes m */
            snprintf(opts, sizeof opts, "epochs=%lld;batch=%lld;lr=%.17g;momentum=%.17g;"
                     "seed=%llu", (long long)opt_int(e, OPT_QAT_EPOCHS),
                     (long long)opt_int(e, OPT_BATCH),
                     hwnas__options_float(e->options, OPT_QAT_LR),
                     hwnas__options_float(e->options, OPT_MOMENTUM), (unsigned long long)seed);
            rc = hwnas_quant_finetune(q, m, st->train, opts, NULL, NULL);
        }
        if (rc == HWNAS_OK)
            rc = hwnas_quant_evaluate(&aq, NULL, q, st->val);
        hwnas_quant_free(q);
        hwnas_axmul_registry_free(reg);
        values[st->test ? 4 : 3] = 100.0 * aq;
    }
    hwnas_model_free(m);
    return rc;
}

const hwnas__estimator_impl hwnas__estimator_accuracy_impl = {
    .init = accuracy_init,
    .fini = accuracy_fini,
    .estimate = accuracy_estimate,
};
