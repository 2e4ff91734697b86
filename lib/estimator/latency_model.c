/*
 * Learned latency models (latency_lut.h, issue 20): features of a net ->
 * log latency, by a ridge regression and a predict.h regressor on what it
 * leaves. The text format is doc/formats/latency-model.md.
 *
 * A saved model keeps its rows (features and measured latency), not the
 * fitted parameters: fitting is deterministic and takes milliseconds on
 * the few hundred or thousand nets a model learns from, so a loaded model
 * refits itself and predicts exactly as the one saved, whatever regressor
 * it uses, with no second format for each regressor's internals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lut_internal.h"
#include "estimator_internal.h"
#include "hwnas/predict.h"

#define MODEL_FORMAT_VERSION 1
#define MODEL_MAX_FILE (256u << 20)
#define D HWNAS_LATENCY_MODEL_FEATURES

enum { OPT_PREDICTOR, OPT_PREDICTOR_OPTIONS, OPT_BASE, OPT_RIDGE, OPT_MISSING };

static const hwnas__option_spec model_options[] = {
    [OPT_PREDICTOR] = {"predictor", HWNAS_OPTION_ENUM, "gbrt", 0, 0, "gbrt|mlp|gp|none",
                       "the regressor of what the linear part leaves (predict.h), or none"},
    [OPT_PREDICTOR_OPTIONS] = {"predictor_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                               "its options (hwnas describe predictor:KIND)"},
    [OPT_BASE] = {"base", HWNAS_OPTION_ENUM, "linear", 0, 0, "linear|none",
                  "a ridge regression on the standardised features first (it extrapolates, "
                  "as trees cannot)"},
    [OPT_RIDGE] = {"ridge", HWNAS_OPTION_STRING, "auto", 0, 0, NULL,
                   "the ridge penalty per example (>= 0), or auto: the one of 1e-6, 1e-4, "
                   "1e-3, 0.01, 0.1 and 1 with the least leave-one-out error"},
    [OPT_MISSING] = {"missing", HWNAS_OPTION_ENUM, "interpolate", 0, 0,
                     "error|nearest|interpolate|scale",
                     "a layer the model's LUT lacks (as estimator:latency_lut)"},
};

/* Only an option table: models are made by hwnas_latency_model_new, not by
 * kind name. */
static const hwnas__kind model_kind = {
    "latency_model", model_options, HWNAS_ARRAY_SIZE(model_options), NULL,
};

static const char *const predictor_kinds[] = {"gbrt", "mlp", "gp", "none"};

struct hwnas_latency_model {
    hwnas_context *ctx;       /* allocator; outlives the model */
    hwnas_options *options;   /* owned */
    hwnas_latency_lut *lut;   /* owned copy, or NULL */
    double *x;                /* n rows of D features */
    double *ms;               /* n measured latencies, > 0 */
    size_t n, cap;
    int fitted;               /* the fields below hold a fit of all n rows */
    double mean[D], scale[D]; /* standardisation; scale 0 = constant feature */
    double w[D], w0;          /* ridge weights on standardised features, intercept */
    double ridge;             /* the ridge option, -1 = auto */
    hwnas_predictor *p;       /* owned; NULL with predictor=none */
};

static int lut_copy(hwnas_latency_lut **out, hwnas_context *ctx, const hwnas_latency_lut *lut)
{
    char *text;
    int rc = hwnas_latency_lut_format(lut, &text);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas_latency_lut_parse(out, ctx, text, strlen(text), "<model's LUT>");
    hwnas_free(text);
    return rc;
}

static int model_create(hwnas_latency_model **out, hwnas_context *ctx, const char *options)
{
    hwnas_latency_model *m = hwnas__calloc(ctx, 1, sizeof *m);
    if (!m)
        return HWNAS_ENOMEM;
    m->ctx = ctx;
    int rc = hwnas__options_new_kind(&m->options, ctx, &model_kind, options);
    if (rc == HWNAS_OK) {
        const char *r = hwnas__options_str(m->options, OPT_RIDGE);
        m->ridge = -1;
        if (strcmp(r, "auto") != 0 &&
            (!hwnas__lut_parse_number(r, strlen(r), &m->ridge) || !(m->ridge >= 0) ||
             m->ridge > 1e6))
            rc = hwnas__error(HWNAS_EINVAL, "latency model: option ridge: \"%s\" is neither "
                              "auto nor a number in [0, 1e6]", r);
    }
    if (rc == HWNAS_OK && hwnas__options_int(m->options, OPT_PREDICTOR) != 3) {
        rc = hwnas_predictor_new(&m->p, ctx,
                                 predictor_kinds[hwnas__options_int(m->options, OPT_PREDICTOR)],
                                 hwnas__options_str(m->options, OPT_PREDICTOR_OPTIONS));
        if (rc != HWNAS_OK && rc != HWNAS_ENOMEM)
            rc = hwnas__error(rc, "latency model: option predictor_options: %s",
                              hwnas_error_last());
    }
    if (rc != HWNAS_OK) {
        hwnas_latency_model_free(m);
        return rc;
    }
    *out = m;
    return HWNAS_OK;
}

int hwnas_latency_model_new(hwnas_latency_model **out, hwnas_context *ctx,
                            const hwnas_latency_lut *lut, const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_new: out is NULL");
    *out = NULL;
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_new: ctx is NULL");
    hwnas_latency_model *m;
    int rc = model_create(&m, ctx, options);
    if (rc == HWNAS_OK && lut) {
        rc = lut_copy(&m->lut, ctx, lut);
        if (rc != HWNAS_OK)
            hwnas_latency_model_free(m);
    }
    if (rc == HWNAS_OK)
        *out = m;
    return rc;
}

void hwnas_latency_model_free(hwnas_latency_model *m)
{
    if (!m)
        return;
    hwnas_predictor_free(m->p);
    hwnas_latency_lut_free(m->lut);
    hwnas_options_free(m->options);
    hwnas__free(m->ctx, m->x);
    hwnas__free(m->ctx, m->ms);
    hwnas__free(m->ctx, m);
}

size_t hwnas_latency_model_count(const hwnas_latency_model *m)
{
    return m ? m->n : 0;
}

/* ---- features --------------------------------------------------------- */

/* The feature rows, in the order doc/formats/latency-model.md lists them. */
enum {
    F_MACS, F_PARAMS, F_ACTS, F_MEM, F_NODES,
    F_N_CONV, F_N_CONV1, F_N_DW, F_N_LINEAR, F_N_POOL, F_N_BN, F_N_ACT, F_N_MERGE, F_N_OTHER,
    F_MACS_CONV, F_MACS_CONV1, F_MACS_DW, F_MACS_LINEAR, F_ELEMWISE,
    F_N_FUSED, F_N_LOWBIT, F_N_APPROX, F_LUT
};

static int net_features(double *f, const hwnas_latency_model *m, const hwnas_net *net)
{
    size_t nn = hwnas_net_node_count(net);
    if (nn < 2)
        return hwnas__error(HWNAS_EINVAL, "latency model: the net has no layer");
    double macs_conv = 0, macs_conv1 = 0, macs_dw = 0, macs_linear = 0, elem = 0;
    memset(f, 0, D * sizeof *f);
    for (size_t i = 0; i < nn; i++) {
        int kind = hwnas_net_node_kind(net, i);
        double macs = (double)hwnas_net_node_macs(net, i);
        double acts = (double)hwnas_net_node_activations(net, i);
        if (kind == HWNAS_NET_INPUT)
            continue;
        f[F_NODES] += 1;
        int64_t kh = 1, kw = 1, groups = 1;
        switch (kind) {
        case HWNAS_NET_CONV2D:
            hwnas_net_node_attr(&kh, net, i, "kh");
            hwnas_net_node_attr(&kw, net, i, "kw");
            hwnas_net_node_attr(&groups, net, i, "groups");
            if (groups > 1) {
                f[F_N_DW] += 1;
                macs_dw += macs;
            } else if (kh * kw == 1) {
                f[F_N_CONV1] += 1;
                macs_conv1 += macs;
            } else {
                f[F_N_CONV] += 1;
                macs_conv += macs;
            }
            break;
        case HWNAS_NET_DWCONV2D:
            f[F_N_DW] += 1;
            macs_dw += macs;
            break;
        case HWNAS_NET_LINEAR:
            f[F_N_LINEAR] += 1;
            macs_linear += macs;
            break;
        case HWNAS_NET_MAXPOOL:
        case HWNAS_NET_AVGPOOL:
        case HWNAS_NET_GAVGPOOL:
            f[F_N_POOL] += 1;
            elem += acts;
            break;
        case HWNAS_NET_BATCHNORM:
            f[F_N_BN] += 1;
            elem += acts;
            if (hwnas__lut_fused_act(net, i) >= 0)
                f[F_N_FUSED] += 1;
            break;
        case HWNAS_NET_ACT:
            f[F_N_ACT] += 1;
            elem += acts;
            break;
        case HWNAS_NET_ADD:
        case HWNAS_NET_MUL:
        case HWNAS_NET_CONCAT:
            f[F_N_MERGE] += 1;
            elem += acts * (double)hwnas_net_node_input_count(net, i);
            break;
        default:
            f[F_N_OTHER] += 1;
            break;
        }
        int32_t bits = hwnas_net_node_bits(net, i);
        const char *mul = hwnas_net_node_multiplier(net, i);
        if (bits > 0 && bits < 32)
            f[F_N_LOWBIT] += 1;
        if (mul && mul[0] && strcmp(mul, "exact") != 0 && strcmp(mul, "none") != 0)
            f[F_N_APPROX] += 1;
    }
    f[F_MACS] = log1p((double)hwnas_net_macs(net));
    f[F_PARAMS] = log1p((double)hwnas_net_params(net));
    f[F_ACTS] = log1p((double)hwnas_net_activations(net));
    f[F_MEM] = log1p((double)hwnas_net_memory_accesses(net));
    f[F_MACS_CONV] = log1p(macs_conv);
    f[F_MACS_CONV1] = log1p(macs_conv1);
    f[F_MACS_DW] = log1p(macs_dw);
    f[F_MACS_LINEAR] = log1p(macs_linear);
    f[F_ELEMWISE] = log1p(elem);
    if (m->lut) {
        double sum;
        int rc = hwnas__lut_predict(&sum, m->lut, net,
                                    (int)hwnas__options_int(m->options, OPT_MISSING),
                                    m->lut->overhead, "of the latency model");
        if (rc != HWNAS_OK)
            return rc;
        if (!(sum > 0))
            return hwnas__error(HWNAS_EINVAL, "latency model: the LUT predicts %g ms for this "
                                "net; a model corrects positive sums only", sum);
        f[F_LUT] = log(sum);
    }
    return HWNAS_OK;
}

int hwnas_latency_model_features(double *out, const hwnas_latency_model *m,
                                 const hwnas_net *net)
{
    if (!out || !m || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_features: NULL argument");
    return net_features(out, m, net);
}

static int add_row(hwnas_latency_model *m, const double *f, double ms)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        double *x = hwnas__realloc(m->ctx, m->x, cap * D * sizeof *x);
        if (!x)
            return HWNAS_ENOMEM;
        m->x = x;
        double *y = hwnas__realloc(m->ctx, m->ms, cap * sizeof *y);
        if (!y)
            return HWNAS_ENOMEM;
        m->ms = y;
        m->cap = cap;
    }
    memcpy(m->x + m->n * D, f, D * sizeof *f);
    m->ms[m->n++] = ms;
    m->fitted = 0;
    return HWNAS_OK;
}

static int check_ms(double ms, const char *fn)
{
    if (!(ms > 0) || !(ms <= HWNAS__LUT_MAX_MS))
        return hwnas__error(HWNAS_EINVAL, "%s: latency %g ms is not in (0, %g]", fn, ms,
                            HWNAS__LUT_MAX_MS);
    return HWNAS_OK;
}

static int check_features(const hwnas_latency_model *m, const double *f, const char *fn)
{
    for (size_t j = 0; j < D; j++)
        if (!(fabs(f[j]) <= HWNAS__LUT_MAX_MS))
            return hwnas__error(HWNAS_EINVAL, "%s: feature %zu is %g (finite, magnitude at "
                                "most %g)", fn, j, f[j], HWNAS__LUT_MAX_MS);
    if (!m->lut && f[F_LUT] != 0)
        return hwnas__error(HWNAS_EINVAL, "%s: feature %d (the LUT's log latency) is %g but "
                            "the model has no LUT (0 expected)", fn, F_LUT, f[F_LUT]);
    return HWNAS_OK;
}

int hwnas_latency_model_add_features(hwnas_latency_model *m, const double *f, double ms)
{
    static const char fn[] = "hwnas_latency_model_add_features";
    if (!m || !f)
        return hwnas__error(HWNAS_EINVAL, "%s: NULL argument", fn);
    int rc = check_ms(ms, fn);
    if (rc == HWNAS_OK)
        rc = check_features(m, f, fn);
    return rc == HWNAS_OK ? add_row(m, f, ms) : rc;
}

int hwnas_latency_model_add(hwnas_latency_model *m, const hwnas_net *net, double ms)
{
    if (!m || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_add: NULL argument");
    int rc = check_ms(ms, "hwnas_latency_model_add");
    if (rc != HWNAS_OK)
        return rc;
    double f[D];
    rc = net_features(f, m, net);
    return rc == HWNAS_OK ? add_row(m, f, ms) : rc;
}

/* ---- fitting ------------------------------------------------------------ */

/* What is learnt: log latency, relative to the LUT's sum when there is one. */
static double target(const hwnas_latency_model *m, const double *f, double ms)
{
    return log(ms) - (m->lut ? f[F_LUT] : 0.0);
}

static double linear_part(const hwnas_latency_model *m, const double *f)
{
    double s = m->w0;
    for (size_t j = 0; j < D; j++)
        if (m->scale[j] > 0)
            s += m->w[j] * (f[j] - m->mean[j]) / m->scale[j];
    return s;
}

/* Solve A w = b (A symmetric positive definite, k x k) by Cholesky in place. */
static int cholesky_solve(double *a, double *b, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        double s = a[j * k + j];
        for (size_t l = 0; l < j; l++)
            s -= a[j * k + l] * a[j * k + l];
        if (!(s > 0))
            return -1;
        a[j * k + j] = sqrt(s);
        for (size_t i = j + 1; i < k; i++) {
            double t = a[i * k + j];
            for (size_t l = 0; l < j; l++)
                t -= a[i * k + l] * a[j * k + l];
            a[i * k + j] = t / a[j * k + j];
        }
    }
    for (size_t i = 0; i < k; i++) {
        double t = b[i];
        for (size_t l = 0; l < i; l++)
            t -= a[i * k + l] * b[l];
        b[i] = t / a[i * k + i];
    }
    for (size_t i = k; i-- > 0;) {
        double t = b[i];
        for (size_t l = i + 1; l < k; l++)
            t -= a[l * k + i] * b[l];
        b[i] = t / a[i * k + i];
    }
    return 0;
}

static void standardise(const hwnas_latency_model *m, const double *f, double *z)
{
    for (size_t j = 0; j < D; j++)
        z[j] = m->scale[j] > 0 ? (f[j] - m->mean[j]) / m->scale[j] : 0;
}

/* The ridge regression of t[n] on the standardised features (D x D normal
 * equations: a few hundred flops per row). */
static void fit_linear(hwnas_latency_model *m, const double *t)
{
    size_t n = m->n;
    double tm = 0;
    for (size_t i = 0; i < n; i++)
        tm += t[i];
    tm /= (double)n;
    m->w0 = tm;
    memset(m->w, 0, sizeof m->w);
    for (size_t j = 0; j < D; j++) {
        double mu = 0, var = 0;
        for (size_t i = 0; i < n; i++)
            mu += m->x[i * D + j];
        mu /= (double)n;
        for (size_t i = 0; i < n; i++)
            var += (m->x[i * D + j] - mu) * (m->x[i * D + j] - mu);
        m->mean[j] = mu;
        m->scale[j] = var > 1e-12 * (double)n ? sqrt(var / (double)n) : 0;
    }
    if (hwnas__options_int(m->options, OPT_BASE) != 0)
        return;
    double g[D * D], b[D];
    memset(g, 0, sizeof g);
    memset(b, 0, sizeof b);
    for (size_t i = 0; i < n; i++) {
        double z[D];
        standardise(m, m->x + i * D, z);
        for (size_t j = 0; j < D; j++) {
            b[j] += z[j] * (t[i] - tm);
            for (size_t l = 0; l <= j; l++)
                g[j * D + l] += z[j] * z[l];
        }
    }
    for (size_t j = 0; j < D; j++)
        for (size_t l = 0; l < j; l++)
            g[l * D + j] = g[j * D + l];
    static const double grid[] = {1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1};
    size_t n_grid = m->ridge >= 0 ? 1 : sizeof grid / sizeof *grid;
    double best = INFINITY;
    for (size_t q = 0; q < n_grid; q++) {
        /* a small floor keeps the system definite at ridge=0 (collinear counts) */
        double lambda = ((m->ridge >= 0 ? m->ridge : grid[q]) + 1e-9) * (double)n;
        double a[D * D], w[D];
        memcpy(a, g, sizeof a);
        memcpy(w, b, sizeof w);
        for (size_t j = 0; j < D; j++)
            a[j * D + j] += m->scale[j] > 0 ? lambda : 1.0;
        if (cholesky_solve(a, w, D) != 0)
            continue;
        /* leave-one-out error in closed form: residual / (1 - leverage),
         * the leverage z' (G + lambda I)^-1 z + 1/n (a holds the factor) */
        double loo = 0;
        for (size_t i = 0; i < n && n_grid > 1; i++) {
            double z[D], y = tm, h = 1.0 / (double)n;
            standardise(m, m->x + i * D, z);
            for (size_t j = 0; j < D; j++)
                y += w[j] * z[j];
            for (size_t j = 0; j < D; j++) { /* forward substitution: L u = z */
                double u = z[j];
                for (size_t l = 0; l < j; l++)
                    u -= a[j * D + l] * z[l];
                z[j] = u / a[j * D + j];
                h += z[j] * z[j];
            }
            double r = (t[i] - y) / fmax(1 - h, 1e-6);
            loo += r * r;
        }
        if (loo < best) {
            best = loo;
            memcpy(m->w, w, sizeof w);
        }
    }
}

int hwnas_latency_model_fit(hwnas_latency_model *m)
{
    if (!m)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_fit: model is NULL");
    m->fitted = 0;
    if (m->n < 2)
        return hwnas__error(HWNAS_ESTATE, "hwnas_latency_model_fit: %zu measured net%s; a "
                            "model needs 2 or more", m->n, m->n == 1 ? "" : "s");
    double *t = hwnas__malloc(m->ctx, m->n * sizeof *t);
    if (!t)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        t[i] = target(m, m->x + i * D, m->ms[i]);
    fit_linear(m, t);
    for (size_t i = 0; i < m->n; i++)
        t[i] -= linear_part(m, m->x + i * D);
    int rc = m->p ? hwnas_predictor_fit(m->p, m->x, t, m->n, D) : HWNAS_OK;
    hwnas__free(m->ctx, t);
    m->fitted = rc == HWNAS_OK;
    return rc;
}

static int predict_row(double *out_ms, const hwnas_latency_model *m, const double *f);

int hwnas_latency_model_predict(double *out_ms, const hwnas_latency_model *m,
                                const hwnas_net *net)
{
    if (!out_ms || !m || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_predict: NULL argument");
    if (!m->fitted)
        return hwnas__error(HWNAS_ESTATE, "hwnas_latency_model_predict: the model is not "
                            "fitted (hwnas_latency_model_fit)");
    double f[D];
    int rc = net_features(f, m, net);
    return rc == HWNAS_OK ? predict_row(out_ms, m, f) : rc;
}

int hwnas_latency_model_predict_features(double *out_ms, const hwnas_latency_model *m,
                                         const double *f)
{
    static const char fn[] = "hwnas_latency_model_predict_features";
    if (!out_ms || !m || !f)
        return hwnas__error(HWNAS_EINVAL, "%s: NULL argument", fn);
    if (!m->fitted)
        return hwnas__error(HWNAS_ESTATE, "%s: the model is not fitted "
                            "(hwnas_latency_model_fit)", fn);
    int rc = check_features(m, f, fn);
    return rc == HWNAS_OK ? predict_row(out_ms, m, f) : rc;
}

static int predict_row(double *out_ms, const hwnas_latency_model *m, const double *f)
{
    int rc;
    double r = 0;
    if (m->p && (rc = hwnas_predictor_predict(m->p, f, 1, &r, NULL)) != HWNAS_OK)
        return rc;
    double lg = linear_part(m, f) + r + (m->lut ? f[F_LUT] : 0.0);
    /* a net far outside the data must not overflow into inf */
    if (lg > log(HWNAS__LUT_MAX_MS))
        lg = log(HWNAS__LUT_MAX_MS);
    if (lg < -40) /* nor underflow to 0 */
        lg = -40;
    *out_ms = exp(lg);
    return HWNAS_OK;
}

/* ---- the text format ------------------------------------------------------ */

static int format_text(const hwnas_latency_model *m, hwnas__strbuf *sb)
{
    char *opts = NULL;
    int rc = hwnas_options_format(m->options, 0, &opts);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf_printf(sb, "hwnas-latency-model %d\n# a learned latency model; "
                         "doc/formats/latency-model.md\noptions %s\nfeatures %d\n",
                         MODEL_FORMAT_VERSION, opts, D);
    hwnas_free(opts);
    for (size_t i = 0; i < m->n; i++) {
        hwnas__strbuf_printf(sb, "net %.17g", m->ms[i]);
        for (size_t j = 0; j < D; j++)
            hwnas__strbuf_printf(sb, " %.17g", m->x[i * D + j]);
        hwnas__strbuf_puts(sb, "\n");
    }
    if (m->lut) {
        char *lut;
        rc = hwnas_latency_lut_format(m->lut, &lut);
        if (rc != HWNAS_OK)
            return rc;
        hwnas__strbuf_printf(sb, "lut-begin\n%slut-end\n", lut);
        hwnas_free(lut);
    }
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

int hwnas_latency_model_format(const hwnas_latency_model *m, char **out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_format: out is NULL");
    *out = NULL;
    if (!m)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_format: model is NULL");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, m->ctx);
    int rc = format_text(m, &sb);
    if (rc == HWNAS_OK) {
        *out = hwnas__strbuf_detach_buffer(&sb);
        rc = *out ? HWNAS_OK : HWNAS_ENOMEM;
    }
    hwnas__strbuf_release(&sb);
    return rc;
}

int hwnas_latency_model_save(const hwnas_latency_model *m, const char *path)
{
    if (!m || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_save: model and path are "
                            "required");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, m->ctx);
    int rc = format_text(m, &sb);
    if (rc == HWNAS_OK) {
        size_t n = strlen(path);
        int gz = n > 3 && strcmp(path + n - 3, ".gz") == 0;
        rc = hwnas__file_write_atomic(m->ctx, path, sb.data, sb.len, gz);
    }
    hwnas__strbuf_release(&sb);
    return rc;
}

/* One line of text[pos..len): its start, length (trimmed) and the next pos. */
static size_t next_line(const char *text, size_t len, size_t pos, const char **s, size_t *n)
{
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - text) : len;
    *s = text + pos;
    *n = end - pos;
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
    return nl ? end + 1 : len;
}

static int starts(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n >= w && memcmp(s, word, w) == 0 && (n == w || s[w] == ' ' || s[w] == '\t');
}

/* A "net MS F..." line into ms and f[D]. */
static int parse_row(const char *s, size_t n, const char *where, double *ms, double *f)
{
    size_t pos = 3, k = 0;
    double v[D + 1];
    while (pos < n) {
        while (pos < n && (s[pos] == ' ' || s[pos] == '\t'))
            pos++;
        if (pos == n)
            break;
        size_t b = pos;
        while (pos < n && s[pos] != ' ' && s[pos] != '\t')
            pos++;
        if (k == D + 1)
            return hwnas__error(HWNAS_EFORMAT, "%sa net line has more than %d numbers (the "
                                "latency and %d features)", where, D + 1, D);
        if (!hwnas__lut_parse_number(s + b, pos - b, &v[k]))
            return hwnas__error(HWNAS_EFORMAT, "%snumber %zu \"%.*s\" is not a finite number",
                                where, k + 1, (int)(pos - b > 40 ? 40 : pos - b), s + b);
        if (fabs(v[k]) > HWNAS__LUT_MAX_MS)
            return hwnas__error(HWNAS_EFORMAT, "%snumber %zu (%g) is out of range (magnitude "
                                "at most %g)", where, k + 1, v[k], HWNAS__LUT_MAX_MS);
        k++;
    }
    if (k != D + 1)
        return hwnas__error(HWNAS_EFORMAT, "%sa net line has %zu numbers; it needs %d (the "
                            "latency in ms and %d features)", where, k, D + 1, D);
    if (!(v[0] > 0))
        return hwnas__error(HWNAS_EFORMAT, "%slatency %g is not > 0", where, v[0]);
    *ms = v[0];
    memcpy(f, v + 1, D * sizeof *f);
    return HWNAS_OK;
}

static int parse_text(hwnas_latency_model **out, hwnas_context *ctx, const char *text,
                      size_t len, const char *name)
{
    hwnas_latency_model *m = NULL;
    int have_version = 0, have_features = 0, rc = HWNAS_OK;
    size_t line_no = 0;
    char where[320];
    for (size_t pos = 0; pos < len && rc == HWNAS_OK;) {
        const char *s;
        size_t n;
        pos = next_line(text, len, pos, &s, &n);
        line_no++;
        if (n == 0 || s[0] == '#')
            continue;
        hwnas__where(where, sizeof where, name, line_no, 0);
        if (memchr(s, '\0', n)) {
            rc = hwnas__error(HWNAS_EFORMAT, "%sNUL byte in a latency model", where);
        } else if (!have_version) {
            int64_t v;
            const char *r = s + 19;
            size_t rn = n > 19 ? n - 19 : 0;
            while (rn && (*r == ' ' || *r == '\t')) {
                r++;
                rn--;
            }
            if (!starts(s, n, "hwnas-latency-model") ||
                !hwnas__lut_parse_int(r, rn, 0, 1000000, &v))
                rc = hwnas__error(HWNAS_EFORMAT, "%snot a latency model: the first line must "
                                  "be 'hwnas-latency-model %d'", where, MODEL_FORMAT_VERSION);
            else if (v != MODEL_FORMAT_VERSION)
                rc = hwnas__error(HWNAS_EVERSION, "%slatency model format version %lld; this "
                                  "libhwnas reads version %d", where, (long long)v,
                                  MODEL_FORMAT_VERSION);
            have_version = 1;
        } else if (!m) {
            if (!starts(s, n, "options")) {
                rc = hwnas__error(HWNAS_EFORMAT, "%sthe 'options' line must follow the "
                                  "version line", where);
            } else {
                char *o = hwnas__strndup(ctx, s + 7, n - 7);
                rc = o ? model_create(&m, ctx, o) : HWNAS_ENOMEM;
                hwnas__free(ctx, o);
                if (rc != HWNAS_OK && rc != HWNAS_ENOMEM)
                    rc = hwnas__error(HWNAS_EFORMAT, "%s%s", where, hwnas_error_last());
            }
        } else if (starts(s, n, "features")) {
            int64_t d;
            const char *r = s + 8;
            size_t rn = n - 8;
            while (rn && (*r == ' ' || *r == '\t')) {
                r++;
                rn--;
            }
            if (have_features || m->n)
                rc = hwnas__error(HWNAS_EFORMAT, "%s'features' must come once, before the "
                                  "net lines", where);
            else if (!hwnas__lut_parse_int(r, rn, 0, 1000000, &d) || d != D)
                rc = hwnas__error(HWNAS_EFORMAT, "%s'features %.*s': format version %d has "
                                  "%d features", where, (int)(rn > 20 ? 20 : rn), r,
                                  MODEL_FORMAT_VERSION, D);
            have_features = 1;
        } else if (starts(s, n, "net")) {
            double ms = 0, f[D];
            if (!have_features)
                rc = hwnas__error(HWNAS_EFORMAT, "%sa net line before the 'features' line",
                                  where);
            else if ((rc = parse_row(s, n, where, &ms, f)) == HWNAS_OK)
                rc = add_row(m, f, ms);
        } else if (n == 9 && memcmp(s, "lut-begin", 9) == 0) {
            size_t begin = pos, end = pos, first = line_no + 1;
            int closed = 0;
            while (pos < len) {
                const char *t;
                size_t tn;
                end = pos;
                pos = next_line(text, len, pos, &t, &tn);
                line_no++;
                if (tn == 7 && memcmp(t, "lut-end", 7) == 0) {
                    closed = 1;
                    break;
                }
            }
            if (m->lut)
                rc = hwnas__error(HWNAS_EFORMAT, "%sa second LUT", where);
            else if (!closed)
                rc = hwnas__error(HWNAS_EFORMAT, "%s'lut-begin' without 'lut-end'", where);
            else {
                char lname[400];
                snprintf(lname, sizeof lname, "%s (its LUT, from line %zu)", name, first);
                rc = hwnas_latency_lut_parse(&m->lut, ctx, text + begin, end - begin, lname);
            }
        } else {
            rc = hwnas__error(HWNAS_EFORMAT, "%sunknown line \"%.*s\" (lines: options, "
                              "features, net, lut-begin ... lut-end)", where,
                              (int)(n > 40 ? 40 : n), s);
        }
    }
    if (rc == HWNAS_OK && !m)
        rc = hwnas__error(HWNAS_EFORMAT, "%s: %s", name,
                          have_version ? "no 'options' line" : "empty: not a latency model");
    /* the LUT feature of every row is its LUT's: a row with one and a model
     * without (or back) would be fitted on numbers it cannot reproduce */
    for (size_t i = 0; rc == HWNAS_OK && i < m->n; i++)
        if (!m->lut && m->x[i * D + F_LUT] != 0)
            rc = hwnas__error(HWNAS_EFORMAT, "%s: net %zu has a LUT feature (%g) but the model "
                              "has no LUT", name, i + 1, m->x[i * D + F_LUT]);
    if (rc == HWNAS_OK && m->n >= 2) {
        rc = hwnas_latency_model_fit(m);
        if (rc != HWNAS_OK && rc != HWNAS_ENOMEM)
            rc = hwnas__error(HWNAS_EFORMAT, "%s: cannot fit its nets: %s", name,
                              hwnas_error_last());
    }
    if (rc != HWNAS_OK) {
        hwnas_latency_model_free(m);
        return rc;
    }
    *out = m;
    return HWNAS_OK;
}

int hwnas_latency_model_parse(hwnas_latency_model **out, hwnas_context *ctx, const char *text,
                              size_t len, const char *name)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_parse: out is NULL");
    *out = NULL;
    if (!ctx || (!text && len))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_parse: NULL argument");
    return parse_text(out, ctx, text ? text : "", len, name ? name : "<memory>");
}

int hwnas_latency_model_load(hwnas_latency_model **out, hwnas_context *ctx, const char *path)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_load: out is NULL");
    *out = NULL;
    if (!ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_model_load: ctx and path are "
                            "required");
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, MODEL_MAX_FILE, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas_latency_model_parse(out, ctx, (const char *)buf, len, path);
    hwnas__free(ctx, buf);
    return rc;
}

/* ---- estimator:latency_model ---------------------------------------------- */

enum { OPT_MODEL };

static const hwnas__option_spec estimator_options[] = {
    [OPT_MODEL] = {"model", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                   "latency model file (doc/formats/latency-model.md; hwnas latency-lut fit)"},
};

static int est_init(hwnas_estimator *e)
{
    const char *path = hwnas__options_str(e->options, OPT_MODEL);
    if (!path[0])
        return hwnas__error(HWNAS_EINVAL, "estimator:latency_model needs model=FILE (a latency "
                            "model; hwnas latency-lut fit writes one)");
    hwnas_latency_model *m;
    int rc = hwnas_latency_model_load(&m, e->ctx, path);
    if (rc != HWNAS_OK)
        return rc;
    e->state = m;
    if (!m->fitted)
        return hwnas__error(HWNAS_EINVAL, "estimator:latency_model: %s holds %zu measured "
                            "net%s; it needs 2 or more to predict", path, m->n,
                            m->n == 1 ? "" : "s");
    return hwnas__estimator_add_metric(e, "latency_ms", "ms");
}

static void est_fini(hwnas_estimator *e)
{
    hwnas_latency_model_free(e->state);
    e->state = NULL;
}

static int est_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                        uint64_t stream, double *values)
{
    (void)key;
    (void)stream;
    return hwnas_latency_model_predict(&values[0], e->state, net);
}

static const hwnas__estimator_impl est_impl = {
    .init = est_init,
    .fini = est_fini,
    .estimate = est_estimate,
};

const hwnas__kind hwnas__estimator_latency_model_kind = {
    "estimator:latency_model", estimator_options, HWNAS_ARRAY_SIZE(estimator_options),
    &est_impl,
};
