/*
 * estimator:supernet - rate a candidate by its accuracy with the weights it
 * inherits from a trained supernet (include/hwnas/supernet.h).
 *
 * The candidate's key (the space's genotype string: a NAS-Bench-201
 * architecture for the cell space, the comma-separated genes for the
 * macro and CGP spaces; the choice vector sized by the supernet) names its
 * path; its net must be the path's net (the same
 * hash), so a space whose options differ from the supernet's is caught
 * instead of rated with the wrong weights. The training split is cut as
 * estimator:accuracy and `hwnas supernet train` cut it (val_fraction,
 * seed): batch-norm statistics are recalibrated on the first `calibration`
 * images of the training part, accuracy is measured on the first
 * `evaluation` images of the held-out part, both normalised as the
 * supernet was trained.
 *
 * Metrics: accuracy (%), train_loss (the path's cross-entropy on those
 * held-out images with the inherited weights: no candidate is trained) and
 * train_seconds (the seconds rating took). The last two carry
 * estimator:accuracy's names so that the search's refinement stage can
 * retrain the best candidates with it (refine_estimator=accuracy:...).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "estimator_internal.h"
#include "hwnas/data.h"
#include "hwnas/model.h"
#include "hwnas/supernet.h"

enum { OPT_WEIGHTS, OPT_DATASET, OPT_DATA_OPTIONS, OPT_CALIB, OPT_EVAL, OPT_VAL_FRACTION, OPT_SEED };

static const hwnas__option_spec supernet_options[] = {
    [OPT_WEIGHTS] = {"weights", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                     "supernet file (hwnas supernet train --out)"},
    [OPT_DATASET] = {"dataset", HWNAS_OPTION_STRING, "fashion-mnist", 0, 0, NULL,
                     "dataset name for hwnas_dataset_load (fashion-mnist, idx)"},
    [OPT_DATA_OPTIONS] = {"data_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                          "options of the dataset loader, e.g. \"dir=/path\" (quote them)"},
    [OPT_CALIB] = {"calibration", HWNAS_OPTION_INT, "512", 1, 1e9, NULL,
                   "training images that recalibrate each path's batch-norm statistics"},
    [OPT_EVAL] = {"evaluation", HWNAS_OPTION_INT, "1000", 0, 1e9, NULL,
                  "held-out images each path is measured on (0: all)"},
    [OPT_VAL_FRACTION] = {"val_fraction", HWNAS_OPTION_FLOAT, "0.1", 0.001, 0.9, NULL,
                          "share of the training split held out (as the supernet's training)"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of the split (as the supernet's training)"},
};

const hwnas__kind hwnas__estimator_supernet_kind = {
    "estimator:supernet", supernet_options, HWNAS_ARRAY_SIZE(supernet_options),
    &hwnas__estimator_supernet_impl,
};

typedef struct sn_state {
    hwnas_supernet *sn;
    hwnas_dataset *calib, *eval, *val; /* eval: val or a view of its first images */
} sn_state;

static void sn_fini(hwnas_estimator *e)
{
    sn_state *st = e->state;
    if (!st)
        return;
    hwnas_supernet_free(st->sn);
    hwnas_dataset_free(st->calib);
    if (st->eval != st->val)
        hwnas_dataset_free(st->eval);
    hwnas_dataset_free(st->val);
    hwnas__free(e->ctx, st);
    e->state = NULL;
}

static int sn_init(hwnas_estimator *e)
{
    const char *path = hwnas__options_str(e->options, OPT_WEIGHTS);
    if (!*path)
        return hwnas__error(HWNAS_EINVAL, "estimator:supernet: weights= (a supernet file made "
                            "by hwnas supernet train) is required");
    sn_state *st = hwnas__calloc(e->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    e->state = st;
    int rc = hwnas_supernet_load(&st->sn, e->ctx, path);
    char opts[1024];
    const char *extra = hwnas__options_str(e->options, OPT_DATA_OPTIONS);
    const char *name = hwnas__options_str(e->options, OPT_DATASET);
    if (rc == HWNAS_OK && (size_t)snprintf(opts, sizeof opts, "split=train%s%s",
                                           *extra ? ";" : "", extra) >= sizeof opts)
        rc = hwnas__error(HWNAS_EINVAL, "estimator:supernet: data_options too long");
    hwnas_dataset *all = NULL, *train = NULL, *val = NULL;
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_load(&all, e->ctx, name, strcmp(name, "idx") == 0 ? extra : opts);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_split(&train, &val, all,
                                 hwnas__options_float(e->options, OPT_VAL_FRACTION),
                                 HWNAS_DATASET_STRATIFIED,
                                 (uint64_t)hwnas__options_int(e->options, OPT_SEED));
    hwnas_dataset_free(all);
    st->calib = train;
    st->eval = st->val = val;
    double mean[64], std[64];
    if (rc == HWNAS_OK && hwnas_dataset_channels(train) > 64)
        rc = hwnas__error(HWNAS_EUNSUPPORTED, "estimator:supernet: more than 64 channels");
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_normalization(mean, std, st->sn);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(train, mean, std);
    if (rc == HWNAS_OK)
        rc = hwnas_dataset_normalize(val, mean, std);
    size_t n_eval = (size_t)hwnas__options_int(e->options, OPT_EVAL);
    if (rc == HWNAS_OK && n_eval && n_eval < hwnas_dataset_count(val))
        rc = hwnas_dataset_subset(&st->eval, val, n_eval, HWNAS_DATASET_FIRST, 0);
    if (rc == HWNAS_OK)
        rc = hwnas__estimator_add_metric(e, "accuracy", "%");
    /* The names estimator:accuracy gives beside accuracy, so that the
     * search's refinement stage (lib/search/refine.c: every refine metric
     * must be one of the search's) retrains the best with it. */
    if (rc == HWNAS_OK)
        rc = hwnas__estimator_add_metric(e, "train_loss", "");
    if (rc == HWNAS_OK)
        rc = hwnas__estimator_add_metric(e, "train_seconds", "s");
    return rc;
}

static int sn_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                       uint64_t stream, double *values)
{
    (void)stream; /* rating draws no random numbers */
    sn_state *st = e->state;
    if (!key)
        return hwnas__error(HWNAS_EINVAL, "estimator:supernet: the candidate has no key (the "
                            "space's genotype string names its path)");
    size_t nc = hwnas_supernet_choice_count(st->sn);
    uint32_t *g = hwnas__malloc(e->ctx, nc * sizeof *g);
    int rc = g ? hwnas_supernet_parse_key(g, st->sn, key) : HWNAS_ENOMEM;
    double t0 = hwnas__now_seconds(), acc = NAN, loss = NAN;
    hwnas_model *m = NULL;
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_subnet(&m, st->sn, g);
    hwnas__free(e->ctx, g);
    if (rc == HWNAS_OK && hwnas_net_hash(hwnas_model_net(m)) != hwnas_net_hash(net))
        rc = hwnas__error(HWNAS_EINVAL, "estimator:supernet: candidate %s is not the supernet's "
                          "path of that key: the space's options differ from the supernet's "
                          "(%s)", key, hwnas_supernet_options(st->sn));
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_calibrate(m, st->calib,
                                      (size_t)hwnas__options_int(e->options, OPT_CALIB), 128);
    if (rc == HWNAS_OK)
        rc = hwnas_model_evaluate(&acc, &loss, NULL, m, st->eval, 256);
    hwnas_model_free(m);
    if (rc == HWNAS_OK) {
        values[0] = 100.0 * acc;
        values[1] = loss;
        values[2] = hwnas__now_seconds() - t0;
    }
    return rc;
}

const hwnas__estimator_impl hwnas__estimator_supernet_impl = {
    .init = sn_init,
    .fini = sn_fini,
    .estimate = sn_estimate,
};
