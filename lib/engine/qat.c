/* hwnas_quant_finetune: approximate-multiplier-aware fine-tuning
 * (quantisation-aware retraining). The forward pass is the int8 inference
 * itself (hwnas__quant_forward: the layers' product tables, the calibrated
 * input ranges, the batch-norms folded with their running statistics);
 * the backward pass is the straight-through estimator: the gradient of the
 * fp32 convolution taken at the fake-quantised operands (the dequantised
 * input and weight codes), chained through the fold to the raw weights and
 * the batch-norm's scale and shift. Every other node trains as usual. */
#include <math.h>
#include <string.h>

#include "hwnas/model.h"
#include "hwnas/options.h"
#include "int8_internal.h"
#include "model_internal.h"

enum {
    OPT_EPOCHS,
    OPT_BATCH,
    OPT_LR,
    OPT_MOMENTUM,
    OPT_WEIGHT_DECAY,
    OPT_SCHEDULE,
    OPT_LABEL_SMOOTHING,
    OPT_SEED,
    OPT_RECALIBRATE
};

static const hwnas__option_spec finetune_options[] = {
    [OPT_EPOCHS] = {"epochs", HWNAS_OPTION_INT, "1", 0, 100000, NULL,
                    "passes over the training set (0: only refresh the quant model)"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "128", 1, 65536, NULL, "samples per mini-batch"},
    [OPT_LR] = {"lr", HWNAS_OPTION_FLOAT, "0.01", 0, 1000, NULL, "peak learning rate"},
    [OPT_MOMENTUM] = {"momentum", HWNAS_OPTION_FLOAT, "0.9", 0, 1, NULL,
                      "SGD momentum (0 = none)"},
    [OPT_WEIGHT_DECAY] = {"weight_decay", HWNAS_OPTION_FLOAT, "0", 0, 1, NULL,
                          "L2 penalty added to every parameter's gradient"},
    [OPT_SCHEDULE] = {"schedule", HWNAS_OPTION_ENUM, "cosine", 0, 0, "constant|cosine",
                      "learning-rate schedule"},
    [OPT_LABEL_SMOOTHING] = {"label_smoothing", HWNAS_OPTION_FLOAT, "0", 0, 0.999, NULL,
                             "weight of the uniform distribution mixed into the targets"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of shuffling and dropout"},
    [OPT_RECALIBRATE] = {"recalibrate", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                         "calibrate the input ranges again on the training set afterwards "
                         "(false: keep the ranges the fine-tuning used)"},
};

const hwnas__kind hwnas__quant_finetune_kind = {
    "quant_finetune", finetune_options, HWNAS_ARRAY_SIZE(finetune_options), NULL,
};

typedef struct qat_cfg {
    int64_t epochs, batch, schedule, seed;
    double lr, momentum, weight_decay, smoothing;
    int recalibrate;
} qat_cfg;

/* Scratch of a fine-tuning run. */
typedef struct qat_run {
    hwnas_quant *q;
    hwnas__engine *e;   /* q->eng: its parameters are the ones trained */
    float *xhat;        /* batch * largest layer input: the fake-quantised input */
    float *dx;          /* the same: the layer's input gradient before the clip mask */
    float *wsave;       /* largest layer's weights: the raw ones while the fake-quantised
                           ones sit in the parameters */
    double *db;         /* largest cout: gradient of the folded bias */
} qat_run;

static int read_options(qat_cfg *c, hwnas_context *ctx, const char *text)
{
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &hwnas__quant_finetune_kind, text);
    if (rc != HWNAS_OK)
        return rc;
    c->epochs = hwnas__options_int(o, OPT_EPOCHS);
    c->batch = hwnas__options_int(o, OPT_BATCH);
    c->schedule = hwnas__options_int(o, OPT_SCHEDULE);
    c->seed = hwnas__options_int(o, OPT_SEED);
    c->recalibrate = hwnas__options_int(o, OPT_RECALIBRATE) != 0;
    c->lr = hwnas__options_float(o, OPT_LR);
    c->momentum = hwnas__options_float(o, OPT_MOMENTUM);
    c->weight_decay = hwnas__options_float(o, OPT_WEIGHT_DECAY);
    c->smoothing = hwnas__options_float(o, OPT_LABEL_SMOOTHING);
    hwnas_options_free(o);
    return HWNAS_OK;
}

/* model must be the net q was quantised from: same nodes, same parameter
 * layout. */
static int check_model(const hwnas_quant *q, const hwnas_model *model)
{
    const hwnas__engine *a = q->eng, *b = model->eng;
    int same = a->n == b->n && a->n_params == b->n_params && a->n_state == b->n_state;
    for (size_t i = 0; same && i < a->n; i++)
        same = a->nodes[i].kind == b->nodes[i].kind && a->nodes[i].p_off == b->nodes[i].p_off &&
               a->nodes[i].size == b->nodes[i].size;
    if (!same)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_finetune: the model's net (%zu nodes, "
                            "%zu parameters) is not the one the quant model was made from "
                            "(%zu nodes, %zu parameters)", b->n, b->n_params, a->n,
                            a->n_params);
    return HWNAS_OK;
}

/* The input codes of L as floats again: what the int8 layer computes with. */
static void fake_quant_input(float *xhat, const float *x, size_t n, const hwnas__qlayer *L)
{
    float s = L->in_scale, inv = 1.0f / s;
    uint8_t flip = L->lut->is_signed ? 0x80 : 0;
    float zf = (float)(L->in_zero_code ^ flip);
    for (size_t i = 0; i < n; i++) {
        float v = x[i] * inv + zf;
        v = v > 0.0f ? (v < 255.0f ? v : 255.0f) : 0.0f; /* NaN too: to 0 */
        xhat[i] = ((float)(int32_t)(v + 0.5f) - zf) * s;
    }
}

/* The weight codes of L as floats again, into w. */
static void fake_quant_weights(float *w, const hwnas__qlayer *L)
{
    int sgn = L->lut->is_signed;
    for (size_t c = 0; c < L->cout; c++)
        for (size_t k = 0; k < L->kg; k++) {
            uint8_t code = L->wq[c * L->kg + k];
            int32_t v = sgn ? (int32_t)(int8_t)code : (int32_t)code;
            w[c * L->kg + k] = (float)(v - L->wzero[c]) * L->wscale[c];
        }
}

/* Backward of quantised layer L (straight-through estimator). dact[node]
 * holds the gradient of the layer's output, which is the folded
 * batch-norm's output when there is one (the layer is its only input). */
static int layer_backward(qat_run *r, const hwnas__qlayer *L)
{
    hwnas__engine *e = r->e;
    const hwnas__eng_node *nd = &e->nodes[L->node];
    size_t in = nd->in[0], n = e->batch, in_size = e->nodes[in].size;
    size_t nw = L->cout * L->kg, p = L->p;
    float *params = e->params + nd->p_off, *grads = e->grads + nd->p_off;
    /* gradient of the (folded) bias, summed in a fixed order */
    const float *dy = e->dact[L->node];
    for (size_t c = 0; c < L->cout; c++)
        r->db[c] = 0;
    for (size_t s = 0; s < n; s++)
        for (size_t c = 0; c < L->cout; c++) {
            const float *d = dy + (s * L->cout + c) * p;
            double sum = 0;
            for (size_t o = 0; o < p; o++)
                sum += d[o];
            r->db[c] += sum;
        }
    /* the fp32 kernel's backward at the fake-quantised operands */
    fake_quant_input(r->xhat, e->act[in], n * in_size, L);
    memcpy(r->wsave, params, nw * sizeof *params);
    fake_quant_weights(params, L);
    int wants_dx = e->nodes[in].kind != HWNAS_NET_INPUT || e->need_input_grad;
    float *x = e->act[in], *dx = e->dact[in];
    uint8_t dinit = e->dinit[in];
    e->act[in] = r->xhat;
    e->dact[in] = r->dx;
    e->dinit[in] = 0;
    int rc = L->kind == HWNAS_NET_LINEAR ? hwnas__k_linear_backward(e, L->node)
                                         : hwnas__k_conv_backward(e, L->node);
    e->act[in] = x;
    e->dact[in] = dx;
    e->dinit[in] = wants_dx ? 1 : dinit;
    memcpy(params, r->wsave, nw * sizeof *params);
    if (rc != HWNAS_OK)
        return rc;
    if (wants_dx) {
        /* the input codes saturate outside the calibrated range: no
         * gradient flows there (the clip of the straight-through estimator) */
        float inv = 1.0f / L->in_scale;
        float zf = (float)(L->in_zero_code ^ (L->lut->is_signed ? 0x80 : 0));
        for (size_t k = 0; k < n * in_size; k++) {
            float v = x[k] * inv + zf;
            float g = v > -0.5f && v < 255.5f ? r->dx[k] : 0.0f;
            dx[k] = dinit ? dx[k] + g : g;
        }
    }
    if (!L->bn)
        return HWNAS_OK;
    /* w' = w a, b' = (b - mean) a + beta with a = gamma / sd */
    const hwnas__eng_node *bn = &e->nodes[L->bn];
    const float *gamma = e->params + bn->p_off;
    const float *mean = e->state + bn->s_off, *var = mean + bn->c;
    float *dgamma = e->grads + bn->p_off, *dbeta = dgamma + bn->c;
    for (size_t c = 0; c < L->cout; c++) {
        double sd = sqrt((double)var[c] + e->bn_eps), a = gamma[c] / sd;
        double b = nd->a.bias ? params[nw + c] : 0.0, dg = r->db[c] * (b - mean[c]);
        float *g = grads + c * L->kg;
        const float *w = params + c * L->kg;
        for (size_t k = 0; k < L->kg; k++) {
            dg += (double)g[k] * w[k];
            g[k] = (float)(g[k] * a);
        }
        if (nd->a.bias)
            grads[nw + c] = (float)(r->db[c] * a);
        dgamma[c] = (float)(dg / sd);
        dbeta[c] = (float)r->db[c];
    }
    return HWNAS_OK;
}

/* The quantised layers' own steps in the engine's backward walk: a layer
 * through its straight-through backward, a folded batch-norm passing its
 * gradient through, and the activation after a folded batch-norm on its
 * own (the engine would leave it to the batch-norm it was fused with). */
static int node_backward(void *ud, size_t k, int *rc)
{
    qat_run *r = ud;
    hwnas__engine *e = r->e;
    const hwnas_quant *q = r->q;
    const hwnas__eng_node *nd = &e->nodes[k];
    if (q->layer_of[k] >= 0) {
        *rc = layer_backward(r, &q->layers[q->layer_of[k]]);
    } else if (q->skip[k]) {
        int acc;
        float *dx = hwnas__k_dx(e, k, 0, &acc);
        for (size_t j = 0; j < e->batch * nd->size; j++)
            dx[j] = acc ? dx[j] + e->dact[k][j] : e->dact[k][j];
    } else if (nd->fused && q->skip[nd->in[0]]) {
        *rc = hwnas__k_backward(e, k);
    } else {
        return 0;
    }
    return 1;
}

static void load_all(hwnas_quant *q)
{
    for (size_t l = 0; l < q->n_layers; l++) {
        hwnas__quant_load_layer(q, &q->layers[l]);
        hwnas__qlayer_quantise_weights(&q->layers[l]);
    }
}

static int alloc_run(qat_run *r, hwnas_quant *q, size_t bs)
{
    size_t in = 1, nw = 1, cout = 1;
    for (size_t l = 0; l < q->n_layers; l++) {
        const hwnas__qlayer *L = &q->layers[l];
        size_t s = q->eng->nodes[q->eng->nodes[L->node].in[0]].size;
        in = s > in ? s : in;
        nw = L->cout * L->kg > nw ? L->cout * L->kg : nw;
        cout = L->cout > cout ? L->cout : cout;
    }
    r->q = q;
    r->e = q->eng;
    if (in > SIZE_MAX / bs / sizeof(float))
        return HWNAS_ENOMEM;
    r->xhat = hwnas__malloc(q->ctx, bs * in * sizeof *r->xhat);
    r->dx = hwnas__malloc(q->ctx, bs * in * sizeof *r->dx);
    r->wsave = hwnas__malloc(q->ctx, nw * sizeof *r->wsave);
    r->db = hwnas__malloc(q->ctx, cout * sizeof *r->db);
    return r->xhat && r->dx && r->wsave && r->db ? HWNAS_OK : HWNAS_ENOMEM;
}

static void free_run(qat_run *r, const hwnas_context *ctx)
{
    hwnas__free(ctx, r->xhat);
    hwnas__free(ctx, r->dx);
    hwnas__free(ctx, r->wsave);
    hwnas__free(ctx, r->db);
}

/* The passes of fine-tuning: q's int8 forward pass in training mode (the
 * layers' weights fake-quantised from the current parameters first), and
 * the straight-through backward pass. */
static int qat_forward(void *ud, const float *images, size_t n, uint64_t step)
{
    qat_run *r = ud;
    load_all(r->q);
    return hwnas__quant_forward(r->q, images, n, 1, step);
}

static int qat_backward(void *ud, const float *dlogits)
{
    qat_run *r = ud;
    return hwnas__engine_backward_walk(r->e, dlogits, node_backward, r);
}

/* The epochs of fine-tuning on q's engine. */
static int train(qat_run *r, hwnas_model *model, const hwnas_dataset *ds, const qat_cfg *c,
                 hwnas_model_progress_cb cb, void *user_data)
{
    hwnas__train_recipe recipe = {
        .epochs = c->epochs, .batch = c->batch, .schedule = c->schedule, .seed = c->seed,
        .lr = c->lr, .momentum = c->momentum, .weight_decay = c->weight_decay,
        .gamma = 1.0, .smoothing = c->smoothing,
    };
    hwnas__train_passes passes = {"hwnas_quant_finetune", qat_forward, qat_backward, r};
    return hwnas__train_epochs(model, r->e, ds, &recipe, &passes, NULL, cb, user_data);
}

int hwnas_quant_finetune(hwnas_quant *q, hwnas_model *model, const hwnas_dataset *train_set,
                         const char *options, hwnas_model_progress_cb cb, void *user_data)
{
    if (!q || !model || !train_set)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_finetune: q, model and train are "
                            "required");
    qat_cfg c;
    int rc = read_options(&c, q->ctx, options);
    if (rc == HWNAS_OK)
        rc = check_model(q, model);
    if (rc == HWNAS_OK)
        rc = hwnas__quant_check_shape(q, train_set, "hwnas_quant_finetune", 1);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__engine *e = q->eng;
    size_t n = hwnas_dataset_count(train_set);
    size_t bs = (size_t)c.batch < n ? (size_t)c.batch : n;
    qat_run r = {0};
    rc = hwnas__quant_reserve(q, bs > q->batch ? bs : q->batch);
    if (rc == HWNAS_OK)
        rc = alloc_run(&r, q, bs);
    if (rc != HWNAS_OK) {
        free_run(&r, q->ctx);
        return rc;
    }
    /* train q's copy, starting from the model's weights; the model gets
     * the result, partly trained on error as hwnas_model_train */
    memcpy(e->params, model->eng->params, e->n_params * sizeof *e->params);
    memcpy(e->state, model->eng->state, e->n_state * sizeof *e->state);
    rc = train(&r, model, train_set, &c, cb, user_data);
    free_run(&r, q->ctx);
    memcpy(model->eng->params, e->params, e->n_params * sizeof *e->params);
    memcpy(model->eng->state, e->state, e->n_state * sizeof *e->state);
    load_all(q);
    if (rc == HWNAS_OK && c.recalibrate)
        rc = hwnas__quant_calibrate(q, train_set);
    hwnas__quant_requantise(q);
    return rc;
}
