/*
 * predictor:mlp - an ensemble of small dense networks (ReLU hidden layers,
 * one linear output), trained by Adam on the mean squared error.
 *
 * Trained here with cblas rather than by lib/engine: DESIGN.md has predict
 * depend on core only, and these networks are a few thousand weights on
 * feature vectors, far from the engine's image layers. Each member draws
 * its initial weights and minibatch order from its own random stream of
 * the seed, so results are the same at any thread count (OpenBLAS splits
 * a product by rows and columns, never along the summed dimension).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "predict_internal.h"

enum { OPT_SEED, OPT_HIDDEN, OPT_LAYERS, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_DECAY, OPT_ENSEMBLE };

static const hwnas__option_spec mlp_options[] = {
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "random seed; 0 = the context's seed"},
    [OPT_HIDDEN] = {"hidden", HWNAS_OPTION_INT, "32", 1, 4096, NULL,
                    "units of every hidden layer"},
    [OPT_LAYERS] = {"layers", HWNAS_OPTION_INT, "2", 1, 64, NULL, "hidden layers"},
    [OPT_EPOCHS] = {"epochs", HWNAS_OPTION_INT, "200", 1, 1000000, NULL,
                    "passes over the data"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "32", 1, 1000000, NULL, "minibatch size"},
    [OPT_LR] = {"lr", HWNAS_OPTION_FLOAT, "0.003", 1e-8, 10, NULL, "Adam's learning rate"},
    [OPT_DECAY] = {"weight_decay", HWNAS_OPTION_FLOAT, "0.0001", 0, 10, NULL,
                   "L2 penalty on the weights"},
    [OPT_ENSEMBLE] = {"ensemble", HWNAS_OPTION_INT, "3", 1, 100, NULL,
                      "networks trained from different seeds; their spread is the std"},
};

/* One network: layer l maps dim[l] -> dim[l + 1]; its weights (dim[l] x
 * dim[l + 1], row-major) then biases start at off[l] in w. */
typedef struct net {
    double *w;        /* all parameters */
    double *m, *v;    /* Adam's moments, as w */
} net;

typedef struct mlp {
    size_t L;          /* layers with weights: hidden + 1 */
    size_t *dim;       /* L + 1 widths: d, hidden..., 1 */
    size_t *off;       /* L offsets into w */
    size_t n_w;        /* parameters per network */
    size_t E;          /* networks */
    net *nets;         /* E */
} mlp;

static void mlp_clear(hwnas_predictor *p)
{
    mlp *m = p->model;
    for (size_t e = 0; m->nets && e < m->E; e++) {
        hwnas__free(p->ctx, m->nets[e].w);
        hwnas__free(p->ctx, m->nets[e].m);
        hwnas__free(p->ctx, m->nets[e].v);
    }
    hwnas__free(p->ctx, m->nets);
    hwnas__free(p->ctx, m->dim);
    hwnas__free(p->ctx, m->off);
    hwnas__free(p->ctx, m);
}

/* Activations of rows x[B * d] through every layer into act (act[l] holds
 * B x dim[l]; act[0] is x itself). ReLU after all but the last layer. */
static void forward(const mlp *m, const double *w, const double *x, size_t B, double **act)
{
    act[0] = (double *)x;
    for (size_t l = 0; l < m->L; l++) {
        size_t a = m->dim[l], b = m->dim[l + 1];
        const double *W = w + m->off[l], *bias = W + a * b;
        double *z = act[l + 1];
        for (size_t i = 0; i < B; i++)
            memcpy(z + i * b, bias, b * sizeof *z);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)b, (int)a, 1.0,
                    act[l], (int)a, W, (int)b, 1.0, z, (int)b);
        if (l + 1 < m->L)
            for (size_t i = 0; i < B * b; i++)
                z[i] = z[i] > 0 ? z[i] : 0;
    }
}

/* Scratch of one training run: activations and their gradients. */
typedef struct scratch {
    double **act, **grad; /* L + 1 each, B x dim[l] */
    double *g;            /* gradient of every parameter */
    double *xb, *yb;      /* the minibatch */
    size_t *order;        /* the epoch's row order */
} scratch;

static void train_step(const mlp *m, net *nt, scratch *s, size_t B, double lr, double decay,
                       uint64_t t)
{
    forward(m, nt->w, s->xb, B, s->act);
    double *out = s->act[m->L], *dz = s->grad[m->L];
    for (size_t i = 0; i < B; i++)
        dz[i] = 2.0 * (out[i] - s->yb[i]) / (double)B;
    for (size_t l = m->L; l-- > 0;) {
        size_t a = m->dim[l], b = m->dim[l + 1];
        const double *W = nt->w + m->off[l];
        double *gW = s->g + m->off[l], *gb = gW + a * b;
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)a, (int)b, (int)B, 1.0,
                    s->act[l], (int)a, s->grad[l + 1], (int)b, 0.0, gW, (int)b);
        for (size_t k = 0; k < a * b; k++)
            gW[k] += decay * W[k];
        for (size_t j = 0; j < b; j++) {
            double sum = 0;
            for (size_t i = 0; i < B; i++)
                sum += s->grad[l + 1][i * b + j];
            gb[j] = sum;
        }
        if (l == 0)
            break;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)a, (int)b, 1.0,
                    s->grad[l + 1], (int)b, W, (int)b, 0.0, s->grad[l], (int)a);
        for (size_t k = 0; k < B * a; k++)
            if (s->act[l][k] <= 0)
                s->grad[l][k] = 0;
    }
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double c1 = 1 - pow(b1, (double)t), c2 = 1 - pow(b2, (double)t);
    for (size_t k = 0; k < m->n_w; k++) {
        nt->m[k] = b1 * nt->m[k] + (1 - b1) * s->g[k];
        nt->v[k] = b2 * nt->v[k] + (1 - b2) * s->g[k] * s->g[k];
        nt->w[k] -= lr * (nt->m[k] / c1) / (sqrt(nt->v[k] / c2) + eps);
    }
}

static void scratch_free(const hwnas_context *ctx, scratch *s, size_t L)
{
    for (size_t l = 0; l <= L; l++) {
        if (s->act && l > 0)
            hwnas__free(ctx, s->act[l]);
        if (s->grad)
            hwnas__free(ctx, s->grad[l]);
    }
    hwnas__free(ctx, s->act);
    hwnas__free(ctx, s->grad);
    hwnas__free(ctx, s->g);
    hwnas__free(ctx, s->xb);
    hwnas__free(ctx, s->yb);
    hwnas__free(ctx, s->order);
}

static int scratch_alloc(const hwnas_context *ctx, scratch *s, const mlp *m, size_t B, size_t n)
{
    memset(s, 0, sizeof *s);
    s->act = hwnas__calloc(ctx, m->L + 1, sizeof *s->act);
    s->grad = hwnas__calloc(ctx, m->L + 1, sizeof *s->grad);
    s->g = hwnas__malloc(ctx, m->n_w * sizeof *s->g);
    s->xb = hwnas__malloc(ctx, B * m->dim[0] * sizeof *s->xb);
    s->yb = hwnas__malloc(ctx, B * sizeof *s->yb);
    s->order = hwnas__malloc(ctx, n * sizeof *s->order);
    if (!s->act || !s->grad || !s->g || !s->xb || !s->yb || !s->order)
        return HWNAS_ENOMEM;
    for (size_t l = 0; l <= m->L; l++) {
        s->grad[l] = hwnas__malloc(ctx, B * m->dim[l] * sizeof **s->grad);
        if (l > 0)
            s->act[l] = hwnas__malloc(ctx, B * m->dim[l] * sizeof **s->act);
        if (!s->grad[l] || (l > 0 && !s->act[l]))
            return HWNAS_ENOMEM;
    }
    return HWNAS_OK;
}

/* He-uniform weights, zero biases, from the member's own stream. */
static void init_weights(const mlp *m, net *nt, hwnas__rng *r)
{
    memset(nt->w, 0, m->n_w * sizeof *nt->w);
    memset(nt->m, 0, m->n_w * sizeof *nt->m);
    memset(nt->v, 0, m->n_w * sizeof *nt->v);
    for (size_t l = 0; l < m->L; l++) {
        size_t a = m->dim[l], b = m->dim[l + 1];
        double lim = sqrt(6.0 / (double)a);
        for (size_t k = 0; k < a * b; k++)
            nt->w[m->off[l] + k] = lim * (2 * hwnas__rng_uniform(r) - 1);
    }
}

static int mlp_fit(hwnas_predictor *p, const double *x, const double *y, size_t n, size_t d)
{
    const hwnas_options *o = p->options;
    size_t H = (size_t)hwnas__options_int(o, OPT_HIDDEN);
    size_t hidden = (size_t)hwnas__options_int(o, OPT_LAYERS);
    size_t epochs = (size_t)hwnas__options_int(o, OPT_EPOCHS);
    size_t B = (size_t)hwnas__options_int(o, OPT_BATCH);
    double lr = hwnas__options_float(o, OPT_LR), decay = hwnas__options_float(o, OPT_DECAY);
    if (B > n)
        B = n;
    mlp *m = hwnas__calloc(p->ctx, 1, sizeof *m);
    if (!m)
        return HWNAS_ENOMEM;
    p->model = m;
    m->L = hidden + 1;
    m->E = (size_t)hwnas__options_int(o, OPT_ENSEMBLE);
    m->dim = hwnas__malloc(p->ctx, (m->L + 1) * sizeof *m->dim);
    m->off = hwnas__malloc(p->ctx, m->L * sizeof *m->off);
    m->nets = hwnas__calloc(p->ctx, m->E, sizeof *m->nets);
    if (!m->dim || !m->off || !m->nets)
        return HWNAS_ENOMEM;
    m->dim[0] = d;
    for (size_t l = 1; l < m->L; l++)
        m->dim[l] = H;
    m->dim[m->L] = 1;
    for (size_t l = 0; l < m->L; l++) {
        m->off[l] = m->n_w;
        m->n_w += (m->dim[l] + 1) * m->dim[l + 1];
    }
    for (size_t e = 0; e < m->E; e++) {
        net *nt = &m->nets[e];
        nt->w = hwnas__malloc(p->ctx, m->n_w * sizeof *nt->w);
        nt->m = hwnas__malloc(p->ctx, m->n_w * sizeof *nt->m);
        nt->v = hwnas__malloc(p->ctx, m->n_w * sizeof *nt->v);
        if (!nt->w || !nt->m || !nt->v)
            return HWNAS_ENOMEM;
    }
    scratch s;
    int rc = scratch_alloc(p->ctx, &s, m, B, n);
    for (size_t e = 0; rc == HWNAS_OK && e < m->E; e++) {
        net *nt = &m->nets[e];
        hwnas__rng r;
        hwnas__rng_seed(&r, p->seed, 0x4d4c50 /* "MLP" */ + e);
        init_weights(m, nt, &r);
        for (size_t i = 0; i < n; i++)
            s.order[i] = i;
        uint64_t t = 0;
        for (size_t ep = 0; ep < epochs; ep++) {
            for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
                size_t j = (size_t)hwnas__rng_below(&r, i), tmp = s.order[i - 1];
                s.order[i - 1] = s.order[j];
                s.order[j] = tmp;
            }
            /* Whole minibatches only (a last short one would weigh its
             * rows more); the order changes every epoch. */
            for (size_t start = 0; start + B <= n; start += B) {
                for (size_t i = 0; i < B; i++) {
                    memcpy(s.xb + i * d, x + s.order[start + i] * d, d * sizeof *x);
                    s.yb[i] = y[s.order[start + i]];
                }
                train_step(m, nt, &s, B, lr, decay, ++t);
            }
        }
    }
    scratch_free(p->ctx, &s, m->L);
    return rc;
}

/* Rows are predicted in chunks, so memory stays small for any n. */
#define CHUNK 256

static int mlp_predict(const hwnas_predictor *p, const double *x, size_t n, double *mean,
                       double *std)
{
    const mlp *m = p->model;
    double **act = hwnas__calloc(p->ctx, m->L + 1, sizeof *act);
    int rc = act ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t l = 1; rc == HWNAS_OK && l <= m->L; l++)
        if (!(act[l] = hwnas__malloc(p->ctx, CHUNK * m->dim[l] * sizeof **act)))
            rc = HWNAS_ENOMEM;
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
        mean[i] = std[i] = 0;
    for (size_t start = 0; rc == HWNAS_OK && start < n; start += CHUNK) {
        size_t B = n - start < CHUNK ? n - start : CHUNK;
        for (size_t e = 0; e < m->E; e++) {
            forward(m, m->nets[e].w, x + start * p->d, B, act);
            for (size_t i = 0; i < B; i++) {
                double v = act[m->L][i];
                mean[start + i] += v;
                std[start + i] += v * v;
            }
        }
    }
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++) {
        double mu = mean[i] / (double)m->E, var = std[i] / (double)m->E - mu * mu;
        mean[i] = mu;
        std[i] = var > 0 ? sqrt(var) : 0;
    }
    for (size_t l = 1; act && l <= m->L; l++)
        hwnas__free(p->ctx, act[l]);
    hwnas__free(p->ctx, act);
    return rc;
}

static const hwnas__predictor_impl mlp_impl = {mlp_fit, mlp_predict, mlp_clear};

const hwnas__kind hwnas__predictor_mlp_kind = {
    "predictor:mlp", mlp_options, HWNAS_ARRAY_SIZE(mlp_options), &mlp_impl,
};
