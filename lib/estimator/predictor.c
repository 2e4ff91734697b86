/*
 * estimator:predictor - a surrogate of one metric that learns online.
 *
 * It keeps the feature vector (hwnas_space_encode of the key, parsed in
 * its own space) and value of every finished evaluation it is told of
 * (hwnas_estimator_observe: a search tells each of its estimators about
 * every candidate it archives), and predicts the metric of new candidates
 * as predicted_<metric> with its uncertainty predicted_<metric>_std. The
 * predictor is fitted again, lazily, by the first estimate after new
 * observations (under a lock: estimates run concurrently). Before it has
 * min_data observations an estimate reports NaN (early=nan: the search
 * keeps the candidate, so the data keeps coming) or fails, for that
 * candidate only, with a message saying how many it has (early=error).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "estimator_internal.h"
#include "hwnas/predict.h"
#include "hwnas/space.h"

enum { OPT_METRIC, OPT_PREDICTOR, OPT_PREDICTOR_OPTIONS, OPT_SPACE, OPT_SPACE_OPTIONS,
       OPT_ENCODING, OPT_MIN_DATA, OPT_EARLY };

static const hwnas__option_spec predictor_options[] = {
    [OPT_METRIC] = {"metric", HWNAS_OPTION_STRING, "accuracy", 0, 0, NULL,
                    "the metric learnt from observations; reported as predicted_METRIC and "
                    "predicted_METRIC_std"},
    [OPT_PREDICTOR] = {"predictor", HWNAS_OPTION_ENUM, "gp", 0, 0, "mlp|gbrt|gp",
                       "the regressor (predict.h)"},
    [OPT_PREDICTOR_OPTIONS] = {"predictor_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                               "its options (hwnas describe predictor:KIND)"},
    [OPT_SPACE] = {"space", HWNAS_OPTION_STRING, "cell", 0, 0, NULL,
                   "the network space whose genotype strings the keys are (under co-design: "
                   "the network half's kind)"},
    [OPT_SPACE_OPTIONS] = {"space_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                           "that space's options, as the search's"},
    [OPT_ENCODING] = {"encoding", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                      "features (hwnas_space_encode); empty = the space's default"},
    [OPT_MIN_DATA] = {"min_data", HWNAS_OPTION_INT, "10", 2, 1e9, NULL,
                      "observations needed before it predicts"},
    [OPT_EARLY] = {"early", HWNAS_OPTION_ENUM, "nan", 0, 0, "nan|error",
                   "before min_data observations: report NaN (unknown: a search keeps the "
                   "candidate, and goes on learning) or fail that candidate's estimate"},
};

const hwnas__kind hwnas__estimator_predictor_kind = {
    "estimator:predictor", predictor_options, HWNAS_ARRAY_SIZE(predictor_options),
    &hwnas__estimator_predictor_impl,
};

typedef struct pred_state {
    hwnas_space *space;        /* owned */
    const char *encoding;      /* borrowed from the options */
    size_t d;                  /* features */
    uint32_t *genes;           /* scratch for observe (single-threaded) */
    double *x, *y;             /* n observations */
    size_t n, cap;
    pthread_mutex_t lock;      /* guards fitting and fitted_n */
    hwnas_predictor *p;        /* owned */
    size_t fitted_n;           /* observations the predictor was fitted on */
    size_t min_data;
    const char *metric;        /* borrowed from the options */
} pred_state;

static void pred_fini(hwnas_estimator *e)
{
    pred_state *st = e->state;
    if (!st)
        return;
    pthread_mutex_destroy(&st->lock);
    hwnas_predictor_free(st->p);
    hwnas_space_free(st->space);
    hwnas__free(e->ctx, st->genes);
    hwnas__free(e->ctx, st->x);
    hwnas__free(e->ctx, st->y);
    hwnas__free(e->ctx, st);
    e->state = NULL;
}

static int pred_init(hwnas_estimator *e)
{
    const char *metric = hwnas__options_str(e->options, OPT_METRIC);
    size_t len = strlen(metric);
    if (len == 0 || len > 100 || strspn(metric, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
        return hwnas__error(HWNAS_EINVAL, "estimator:predictor: option metric: '%s' is not a "
                                          "metric name ([a-z0-9_]+)",
                            metric);
    pred_state *st = hwnas__calloc(e->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        hwnas__free(e->ctx, st);
        return hwnas__error(HWNAS_ENOMEM, "estimator:predictor: cannot create a lock");
    }
    e->state = st;
    st->metric = metric;
    st->encoding = hwnas__options_str(e->options, OPT_ENCODING);
    st->min_data = (size_t)hwnas__options_int(e->options, OPT_MIN_DATA);
    int rc = hwnas_space_new(&st->space, e->ctx, hwnas__options_str(e->options, OPT_SPACE),
                             hwnas__options_str(e->options, OPT_SPACE_OPTIONS));
    if (rc == HWNAS_OK)
        rc = hwnas_space_encode(st->space, st->encoding, NULL, NULL, 0, &st->d);
    if (rc == HWNAS_OK) {
        static const char *const kinds[] = {"mlp", "gbrt", "gp"};
        rc = hwnas_predictor_new(&st->p, e->ctx,
                                 kinds[hwnas__options_int(e->options, OPT_PREDICTOR)],
                                 hwnas__options_str(e->options, OPT_PREDICTOR_OPTIONS));
    }
    if (rc != HWNAS_OK)
        return hwnas__error(rc, "estimator:predictor: %s", hwnas_error_last());
    st->genes = hwnas__malloc(e->ctx, hwnas_space_gene_count(st->space) * sizeof *st->genes);
    if (!st->genes)
        return HWNAS_ENOMEM;
    char name[128];
    snprintf(name, sizeof name, "predicted_%s", metric);
    rc = hwnas__estimator_add_metric(e, name, "");
    snprintf(name, sizeof name, "predicted_%s_std", metric);
    if (rc == HWNAS_OK)
        rc = hwnas__estimator_add_metric(e, name, "");
    return rc;
}

/* The network half of a co-design key ("net @ hw"), into buf. */
static const char *net_key(const char *key, char *buf, size_t size)
{
    const char *at = strstr(key, " @ ");
    if (!at)
        return key;
    size_t n = (size_t)(at - key) < size - 1 ? (size_t)(at - key) : size - 1;
    memcpy(buf, key, n);
    buf[n] = 0;
    return buf;
}

/* Features of key into x[d]. */
static int features(const hwnas_estimator *e, pred_state *st, uint32_t *genes, const char *key,
                    double *x)
{
    char buf[4096];
    int rc = hwnas_space_parse(st->space, net_key(key, buf, sizeof buf), genes);
    if (rc != HWNAS_OK)
        return hwnas__error(HWNAS_EFORMAT, "estimator:predictor: '%s' is no genotype of %s: %s",
                            key, hwnas_space_kind(st->space), hwnas_error_last());
    size_t n;
    (void)e;
    return hwnas_space_encode(st->space, st->encoding, genes, x, st->d, &n);
}

static int pred_observe(hwnas_estimator *e, const char *key, size_t n, const char *const *names,
                        const double *values)
{
    pred_state *st = e->state;
    size_t m = 0;
    while (m < n && strcmp(names[m], st->metric) != 0)
        m++;
    if (m == n || !isfinite(values[m]))
        return HWNAS_OK; /* nothing to learn from this one */
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        double *x = hwnas__realloc(e->ctx, st->x, cap * st->d * sizeof *x);
        if (!x)
            return HWNAS_ENOMEM;
        st->x = x;
        double *y = hwnas__realloc(e->ctx, st->y, cap * sizeof *y);
        if (!y)
            return HWNAS_ENOMEM;
        st->y = y;
        st->cap = cap;
    }
    int rc = features(e, st, st->genes, key, st->x + st->n * st->d);
    if (rc != HWNAS_OK)
        return rc;
    st->y[st->n++] = values[m];
    return HWNAS_OK;
}

static int pred_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                         uint64_t stream, double *values)
{
    (void)net;
    (void)stream;
    pred_state *st = e->state;
    if (!key)
        return hwnas__error(HWNAS_EINVAL, "estimator:predictor: this candidate has no key "
                                          "(genotype string) to predict from");
    size_t ng = hwnas_space_gene_count(st->space);
    uint32_t *genes = hwnas__malloc(e->ctx, ng * sizeof *genes);
    double *x = hwnas__malloc(e->ctx, st->d * sizeof *x);
    int rc = genes && x ? HWNAS_OK : HWNAS_ENOMEM;
    if (rc == HWNAS_OK)
        rc = features(e, st, genes, key, x);
    if (rc == HWNAS_OK) {
        pthread_mutex_lock(&st->lock);
        if (st->n < st->min_data && hwnas__options_int(e->options, OPT_EARLY) == 0)
            rc = 1; /* unknown yet */
        else if (st->n < st->min_data)
            rc = hwnas__error(HWNAS_ESTATE, "estimator:predictor: %zu finished evaluations of "
                                            "'%s' so far, it predicts from min_data=%zu on",
                              st->n, st->metric, st->min_data);
        else if (st->fitted_n != st->n) {
            rc = hwnas_predictor_fit(st->p, st->x, st->y, st->n, st->d);
            st->fitted_n = rc == HWNAS_OK ? st->n : 0;
        }
        pthread_mutex_unlock(&st->lock);
    }
    if (rc == 1) {
        values[0] = values[1] = NAN;
        rc = HWNAS_OK;
    } else if (rc == HWNAS_OK) {
        rc = hwnas_predictor_predict(st->p, x, 1, &values[0], &values[1]);
    }
    hwnas__free(e->ctx, genes);
    hwnas__free(e->ctx, x);
    return rc;
}

const hwnas__estimator_impl hwnas__estimator_predictor_impl = {
    .init = pred_init,
    .fini = pred_fini,
    .estimate = pred_estimate,
    .observe = pred_observe,
};
