/* The estimator:latency_lut kind: a LUT file read at init, latency_ms per net. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lut_internal.h"
#include "estimator_internal.h"

enum { OPT_LUT, OPT_MISSING, OPT_OVERHEAD };

static const hwnas__option_spec lut_options[] = {
    [OPT_LUT] = {"lut", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                 "latency LUT file (doc/formats/latency-lut.md; hwnas latency-lut build)"},
    [OPT_MISSING] = {"missing", HWNAS_OPTION_ENUM, "error", 0, 0,
                     "error|nearest|interpolate|scale",
                     "a layer not in the LUT: fail, take the nearest compatible entry, "
                     "interpolate in work between compatible entries, or scale the nearest "
                     "one in work"},
    [OPT_OVERHEAD] = {"overhead", HWNAS_OPTION_STRING, "file", 0, 0, NULL,
                      "per-net overhead in ms, or 'file' for the LUT's own"},
};

const hwnas__kind hwnas__estimator_latency_lut_kind = {
    "estimator:latency_lut", lut_options, HWNAS_ARRAY_SIZE(lut_options),
    &hwnas__estimator_latency_lut_impl,
};

typedef struct lut_state {
    hwnas_latency_lut *lut;
    int missing;
    double overhead;
    char *path;
} lut_state;

static void lut_fini(hwnas_estimator *e)
{
    lut_state *st = e->state;
    if (!st)
        return;
    hwnas_latency_lut_free(st->lut);
    hwnas__free(e->ctx, st->path);
    hwnas__free(e->ctx, st);
    e->state = NULL;
}

static int lut_init(hwnas_estimator *e)
{
    const char *path = hwnas__options_str(e->options, OPT_LUT);
    if (!path[0])
        return hwnas__error(HWNAS_EINVAL, "estimator:latency_lut needs lut=FILE (a latency LUT; "
                            "hwnas latency-lut build writes one)");
    const char *ov = hwnas__options_str(e->options, OPT_OVERHEAD);
    double overhead = 0;
    int from_file = strcmp(ov, "file") == 0;
    if (!from_file && !hwnas__lut_parse_number(ov, strlen(ov), &overhead))
        return hwnas__error(HWNAS_EINVAL, "estimator:latency_lut: overhead=\"%s\" is neither "
                            "'file' nor a number of ms", ov);
    if (!(fabs(overhead) <= HWNAS__LUT_MAX_MS))
        return hwnas__error(HWNAS_EINVAL, "estimator:latency_lut: overhead=\"%s\" is out of "
                            "range (-%g to %g ms)", ov, HWNAS__LUT_MAX_MS, HWNAS__LUT_MAX_MS);
    lut_state *st = hwnas__calloc(e->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    e->state = st;
    st->missing = (int)hwnas__options_int(e->options, OPT_MISSING);
    st->path = hwnas__strdup(e->ctx, path);
    if (!st->path)
        return HWNAS_ENOMEM;
    int rc = hwnas_latency_lut_load(&st->lut, e->ctx, path);
    if (rc != HWNAS_OK)
        return rc;
    st->overhead = from_file ? st->lut->overhead : overhead;
    return hwnas__estimator_add_metric(e, "latency_ms", "ms");
}

static int lut_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                        uint64_t stream, double *values)
{
    (void)key;
    (void)stream;
    const lut_state *st = e->state;
    return hwnas__lut_predict(&values[0], st->lut, net, st->missing, st->overhead, st->path);
}

const hwnas__estimator_impl hwnas__estimator_latency_lut_impl = {
    .init = lut_init,
    .fini = lut_fini,
    .estimate = lut_estimate,
};
