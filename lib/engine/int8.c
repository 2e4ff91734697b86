/* hwnas_quant: a trained model quantised after training, its convolutions
 * and linear layers run in int8 on the lookup GEMM with the multipliers the
 * net names, the other nodes in fp32 on the engine's kernels. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hwnas/data.h"
#include "hwnas/options.h"
#include "int8_internal.h"
#include "model_internal.h"

enum { OPT_CALIB_BATCHES, OPT_BATCH, OPT_WEIGHTS, OPT_FOLD_BN };
enum { WEIGHTS_AUTO = 0, WEIGHTS_TENSOR = 1, WEIGHTS_CHANNEL = 2 };

static const hwnas__option_spec quant_options[] = {
    [OPT_CALIB_BATCHES] = {"calib_batches", HWNAS_OPTION_INT, "4", 1, 1e6, NULL,
                           "batches of the calibration set that set the activation ranges"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "256", 1, 65536, NULL,
                   "samples per batch for calibration and evaluation"},
    [OPT_WEIGHTS] = {"weights", HWNAS_OPTION_ENUM, "auto", 0, 0, "auto|tensor|channel",
                     "weight scales per tensor or per output channel (auto: tensor for "
                     "unsigned, channel for signed multipliers)"},
    [OPT_FOLD_BN] = {"fold_bn", HWNAS_OPTION_BOOL, "true", 0, 0, NULL,
                     "fold batch-norm into the convolution it follows"},
};

const hwnas__kind hwnas__quant_kind = {"quant", quant_options, HWNAS_ARRAY_SIZE(quant_options),
                                       NULL};

void hwnas__quant_set_path(hwnas_quant *q, int path)
{
    q->path = path;
}

/* ---- multipliers ------------------------------------------------------- */

static int find_lut(hwnas__lut **out, hwnas_quant *q, const hwnas_axmul *m)
{
    uint64_t h = hwnas_axmul_hash(m);
    for (size_t i = 0; i < q->n_luts; i++)
        if (q->luts[i]->hash == h && strcmp(q->luts[i]->name, hwnas_axmul_name(m)) == 0) {
            *out = q->luts[i];
            return HWNAS_OK;
        }
    hwnas__lut **grown = hwnas__realloc(q->ctx, q->luts, (q->n_luts + 1) * sizeof *grown);
    if (!grown)
        return HWNAS_ENOMEM;
    q->luts = grown;
    hwnas__lut *lut = hwnas__calloc(q->ctx, 1, sizeof *lut);
    if (!lut)
        return HWNAS_ENOMEM;
    int rc = hwnas__lut_init(lut, q->ctx, m);
    if (rc != HWNAS_OK) {
        hwnas__free(q->ctx, lut);
        return rc;
    }
    q->luts[q->n_luts++] = lut;
    *out = lut;
    return HWNAS_OK;
}

/* Free the tables no layer uses any more. */
static void drop_unused_luts(hwnas_quant *q)
{
    size_t kept = 0;
    for (size_t i = 0; i < q->n_luts; i++) {
        int used = 0;
        for (size_t l = 0; l < q->n_layers && !used; l++)
            used = q->layers[l].lut == q->luts[i];
        if (used) {
            q->luts[kept++] = q->luts[i];
        } else {
            hwnas__lut_fini(q->luts[i], q->ctx);
            hwnas__free(q->ctx, q->luts[i]);
        }
    }
    q->n_luts = kept;
}

static void apply_lut(hwnas_quant *q, hwnas__qlayer *L, const hwnas__lut *lut)
{
    L->lut = lut;
    L->per_channel = q->weights_mode == WEIGHTS_CHANNEL ||
                     (q->weights_mode == WEIGHTS_AUTO && lut->is_signed);
    hwnas__qlayer_set_input_range(L, L->in_min, L->in_max);
    hwnas__qlayer_quantise_weights(L);
}

void hwnas__quant_requantise(hwnas_quant *q)
{
    for (size_t l = 0; l < q->n_layers; l++)
        apply_lut(q, &q->layers[l], q->layers[l].lut);
}

/* ---- freeing and scratch ----------------------------------------------- */

static void free_scratch(hwnas_quant *q)
{
    for (size_t w = 0; q->ws && w < q->n_workers; w++) {
        hwnas__free(q->ctx, q->ws[w].xs);
        hwnas__free(q->ctx, q->ws[w].col);
        hwnas__free(q->ctx, q->ws[w].acc);
        hwnas__free(q->ctx, q->ws[w].colsum);
    }
    hwnas__free(q->ctx, q->ws);
    hwnas__free(q->ctx, q->xq);
    hwnas__free(q->ctx, q->at);
    hwnas__free(q->ctx, q->lacc);
    hwnas__free(q->ctx, q->lout);
    hwnas__free(q->ctx, q->lcolsum);
    q->ws = NULL;
    q->xq = q->at = NULL;
    q->lacc = q->lout = q->lcolsum = NULL;
    q->cap = q->n_workers = 0;
}

void hwnas_quant_free(hwnas_quant *q)
{
    if (!q)
        return;
    free_scratch(q);
    for (size_t l = 0; q->layers && l < q->n_layers; l++) {
        hwnas__free(q->ctx, q->layers[l].wf);
        hwnas__free(q->ctx, q->layers[l].bias);
        hwnas__free(q->ctx, q->layers[l].wq);
        hwnas__free(q->ctx, q->layers[l].wsum);
        hwnas__free(q->ctx, q->layers[l].wzero);
        hwnas__free(q->ctx, q->layers[l].wscale);
    }
    for (size_t i = 0; i < q->n_luts; i++) {
        hwnas__lut_fini(q->luts[i], q->ctx);
        hwnas__free(q->ctx, q->luts[i]);
    }
    hwnas__free(q->ctx, q->luts);
    hwnas__free(q->ctx, q->layers);
    hwnas__free(q->ctx, q->layer_of);
    hwnas__free(q->ctx, q->skip);
    hwnas__engine_free(q->eng);
    hwnas_net_free(q->net);
    hwnas__free(q->ctx, q);
}

int hwnas__quant_reserve(hwnas_quant *q, size_t n)
{
    size_t workers = hwnas_context_threads(q->ctx);
    if (n <= q->cap && workers <= q->n_workers)
        return hwnas__engine_reserve(q->eng, n);
    free_scratch(q);
    size_t xs = 1, col = 1, acc = 1, p = 1, lf = 1, lm = 1;
    for (size_t l = 0; l < q->n_layers; l++) {
        const hwnas__qlayer *L = &q->layers[l];
        if (L->kind == HWNAS_NET_LINEAR) {
            lf = L->kg > lf ? L->kg : lf;
            lm = L->cout > lm ? L->cout : lm;
            continue;
        }
        size_t in = L->cin * L->h * L->w;
        xs = in > xs ? in : xs;
        col = L->kg * L->p > col ? L->kg * L->p : col;
        acc = L->cout * L->p > acc ? L->cout * L->p : acc;
        p = L->p > p ? L->p : p;
    }
    const hwnas_context *ctx = q->ctx;
    q->ws = hwnas__calloc(ctx, workers, sizeof *q->ws);
    if (!q->ws)
        return HWNAS_ENOMEM;
    q->n_workers = workers;
    for (size_t w = 0; w < workers; w++) {
        hwnas__quant_scratch *s = &q->ws[w];
        s->xs = hwnas__malloc(ctx, xs);
        s->col = hwnas__malloc(ctx, col);
        s->acc = hwnas__malloc(ctx, acc * sizeof *s->acc);
        s->colsum = hwnas__malloc(ctx, p * sizeof *s->colsum);
        if (!s->xs || !s->col || !s->acc || !s->colsum)
            goto fail;
    }
    if (lf > SIZE_MAX / n / sizeof(int32_t) || lm > SIZE_MAX / n / sizeof(int32_t))
        goto fail;
    q->xq = hwnas__malloc(ctx, n * lf);
    q->at = hwnas__malloc(ctx, n * lf);
    q->lacc = hwnas__malloc(ctx, n * lm * sizeof *q->lacc);
    q->lout = hwnas__malloc(ctx, n * lm * sizeof *q->lout);
    q->lcolsum = hwnas__malloc(ctx, n * sizeof *q->lcolsum);
    if (!q->xq || !q->at || !q->lacc || !q->lout || !q->lcolsum)
        goto fail;
    q->cap = n;
    return hwnas__engine_reserve(q->eng, n);
fail:
    free_scratch(q);
    return hwnas__enomem();
}

/* ---- building ---------------------------------------------------------- */

static int64_t only_consumer(const hwnas__engine *e, size_t i)
{
    int64_t found = -1;
    for (size_t j = i + 1; j < e->n; j++)
        for (size_t k = 0; k < e->nodes[j].n_in; k++)
            if (e->nodes[j].in[k] == i) {
                if (found >= 0)
                    return -1;
                found = (int64_t)j;
            }
    return found;
}

void hwnas__quant_load_layer(hwnas_quant *q, hwnas__qlayer *L)
{
    const hwnas__engine *e = q->eng;
    const hwnas__eng_node *nd = &e->nodes[L->node];
    size_t nw = L->cout * L->kg;
    const float *p = e->params + nd->p_off;
    memcpy(L->wf, p, nw * sizeof *L->wf);
    if (nd->a.bias)
        memcpy(L->bias, p + nw, L->cout * sizeof *L->bias);
    if (!L->bn)
        return;
    const hwnas__eng_node *bn = &e->nodes[L->bn];
    const float *gamma = e->params + bn->p_off, *beta = gamma + bn->c;
    const float *mean = e->state + bn->s_off, *var = mean + bn->c;
    for (size_t c = 0; c < L->cout; c++) {
        double a = gamma[c] / sqrt((double)var[c] + e->bn_eps);
        for (size_t k = 0; k < L->kg; k++)
            L->wf[c * L->kg + k] = (float)(L->wf[c * L->kg + k] * a);
        L->bias[c] = (float)(((nd->a.bias ? L->bias[c] : 0.0f) - mean[c]) * a + beta[c]);
    }
}

/* Geometry, fp32 weights (with a following batch-norm folded in when
 * fold) of node i. */
static int make_layer(hwnas_quant *q, hwnas__qlayer *L, size_t i, int fold)
{
    hwnas__engine *e = q->eng;
    const hwnas__eng_node *nd = &e->nodes[i], *x = &e->nodes[nd->in[0]];
    L->node = i;
    L->kind = nd->kind;
    L->cout = nd->c;
    if (nd->kind == HWNAS_NET_LINEAR) {
        L->cin = x->size, L->h = L->w = 1;
        L->oh = L->ow = L->p = 1;
        L->groups = 1, L->cin_g = L->cin, L->cout_g = L->cout;
        L->kh = L->kw = L->sh = L->sw = L->dh = L->dw = 1;
        L->ph = L->pw = 0;
    } else {
        L->cin = x->c, L->h = x->h, L->w = x->w;
        L->oh = nd->h, L->ow = nd->w, L->p = nd->h * nd->w;
        L->groups = (size_t)nd->a.groups;
        L->cin_g = L->cin / L->groups, L->cout_g = L->cout / L->groups;
        L->kh = (size_t)nd->a.kh, L->kw = (size_t)nd->a.kw;
        L->sh = (size_t)nd->a.sh, L->sw = (size_t)nd->a.sw;
        L->ph = (size_t)nd->a.ph, L->pw = (size_t)nd->a.pw;
        L->dh = (size_t)nd->a.dh, L->dw = (size_t)nd->a.dw;
    }
    L->kg = L->cin_g * L->kh * L->kw;
    if (L->kg > HWNAS__LUT_MAX_K)
        return hwnas__error(HWNAS_EUNSUPPORTED, "quant: node '%s': %zu products per output; "
                            "int8 layers sum at most %d", nd->name, L->kg, HWNAS__LUT_MAX_K);
    size_t nw = L->cout * L->kg;
    L->wf = hwnas__malloc(q->ctx, nw * sizeof *L->wf);
    L->bias = hwnas__calloc(q->ctx, L->cout, sizeof *L->bias);
    L->wq = hwnas__malloc(q->ctx, nw);
    L->wsum = hwnas__malloc(q->ctx, L->cout * sizeof *L->wsum);
    L->wzero = hwnas__malloc(q->ctx, L->cout * sizeof *L->wzero);
    L->wscale = hwnas__malloc(q->ctx, L->cout * sizeof *L->wscale);
    if (!L->wf || !L->bias || !L->wq || !L->wsum || !L->wzero || !L->wscale)
        return HWNAS_ENOMEM;
    int64_t j = nd->kind == HWNAS_NET_LINEAR || !fold ? -1 : only_consumer(e, i);
    L->bn = 0;
    if (j >= 0 && e->nodes[j].kind == HWNAS_NET_BATCHNORM && i != e->logits) {
        q->skip[j] = 1;
        L->bn = (size_t)j;
        L->bn_name = e->nodes[j].name;
    }
    hwnas__quant_load_layer(q, L);
    return HWNAS_OK;
}

int hwnas__quant_check_shape(const hwnas_quant *q, const hwnas_dataset *ds, const char *fn,
                             int classes)
{
    const hwnas__engine *e = q->eng;
    const hwnas__eng_node *in = &e->nodes[e->input];
    size_t c = hwnas_dataset_channels(ds), h = hwnas_dataset_height(ds),
           w = hwnas_dataset_width(ds);
    if (c != in->c || h != in->h || w != in->w)
        return hwnas__error(HWNAS_EINVAL, "%s: the dataset's samples are %zux%zux%zu but the "
                            "net's input '%s' is %zux%zux%zu", fn, c, h, w, in->name, in->c,
                            in->h, in->w);
    if (classes && hwnas_dataset_classes(ds) > e->nodes[e->logits].size)
        return hwnas__error(HWNAS_EINVAL, "%s: the dataset has %zu classes but the net's output "
                            "'%s' gives %zu", fn, hwnas_dataset_classes(ds),
                            e->nodes[e->logits].name, e->nodes[e->logits].size);
    if (hwnas_dataset_count(ds) == 0)
        return hwnas__error(HWNAS_EINVAL, "%s: the dataset is empty", fn);
    return HWNAS_OK;
}

/* Input ranges of every layer from fp32 passes over the first batches. */
int hwnas__quant_calibrate(hwnas_quant *q, const hwnas_dataset *calib)
{
    size_t batches = q->calib_batches;
    hwnas__engine *e = q->eng;
    size_t total = hwnas_dataset_count(calib), bs = q->batch;
    if (total > batches * bs)
        total = batches * bs;
    size_t n_first = bs < total ? bs : total;
    int rc = hwnas__engine_reserve(e, n_first);
    if (rc != HWNAS_OK)
        return rc;
    size_t ss = hwnas_dataset_sample_size(calib);
    size_t *pos = hwnas__malloc(q->ctx, n_first * sizeof *pos);
    float *images = hwnas__malloc(q->ctx, n_first * ss * sizeof *images);
    int32_t *labels = hwnas__malloc(q->ctx, n_first * sizeof *labels);
    float *lo = hwnas__calloc(q->ctx, q->n_layers + 1, sizeof *lo);
    float *hi = hwnas__calloc(q->ctx, q->n_layers + 1, sizeof *hi);
    if (!pos || !images || !labels || !lo || !hi) {
        rc = HWNAS_ENOMEM;
        goto done;
    }
    for (size_t first = 0; first < total; first += bs) {
        size_t nb = total - first < bs ? total - first : bs;
        for (size_t k = 0; k < nb; k++)
            pos[k] = first + k;
        rc = hwnas_dataset_batch(images, labels, calib, pos, nb);
        if (rc == HWNAS_OK)
            rc = hwnas__engine_forward(e, images, nb, 0, 0);
        if (rc != HWNAS_OK)
            goto done;
        for (size_t l = 0; l < q->n_layers; l++) {
            size_t in = e->nodes[q->layers[l].node].in[0];
            const float *x = e->act[in];
            size_t cnt = nb * e->nodes[in].size;
            float a = lo[l], b = hi[l];
            for (size_t k = 0; k < cnt; k++) {
                a = x[k] < a ? x[k] : a;
                b = x[k] > b ? x[k] : b;
            }
            lo[l] = a, hi[l] = b;
        }
    }
    for (size_t l = 0; l < q->n_layers; l++)
        q->layers[l].in_min = lo[l], q->layers[l].in_max = hi[l];
done:
    hwnas__free(q->ctx, pos);
    hwnas__free(q->ctx, images);
    hwnas__free(q->ctx, labels);
    hwnas__free(q->ctx, lo);
    hwnas__free(q->ctx, hi);
    return rc;
}

static int build(hwnas_quant *q, const hwnas_model *model, hwnas_axmul_registry *reg,
                 const hwnas_dataset *calib, int fold)
{
    int rc = hwnas_net_clone(&q->net, model->net);
    if (rc == HWNAS_OK)
        rc = hwnas__engine_new(&q->eng, q->ctx, q->net, 0);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__engine *e = q->eng;
    memcpy(e->params, model->eng->params, e->n_params * sizeof *e->params);
    memcpy(e->state, model->eng->state, e->n_state * sizeof *e->state);
    rc = hwnas__quant_check_shape(q, calib, "hwnas_quant_new", 0);
    if (rc != HWNAS_OK)
        return rc;
    q->layer_of = hwnas__malloc(q->ctx, e->n * sizeof *q->layer_of);
    q->skip = hwnas__calloc(q->ctx, e->n, 1);
    q->layers = hwnas__calloc(q->ctx, e->n, sizeof *q->layers);
    if (!q->layer_of || !q->skip || !q->layers)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < e->n; i++) {
        int k = e->nodes[i].kind;
        q->layer_of[i] = -1;
        if (k != HWNAS_NET_CONV2D && k != HWNAS_NET_DWCONV2D && k != HWNAS_NET_LINEAR)
            continue;
        hwnas__qlayer *L = &q->layers[q->n_layers++];
        q->layer_of[i] = (int32_t)(q->n_layers - 1);
        const char *mname = hwnas_net_node_multiplier(q->net, i);
        const hwnas_axmul *m = NULL;
        rc = hwnas_axmul_registry_get(&m, reg, mname);
        if (rc != HWNAS_OK) {
            /* hwnas__error formats before it replaces the last message */
            return hwnas__error(rc, "quant: node '%s' names multiplier '%s': %s",
                                e->nodes[i].name, mname, hwnas_error_last());
        }
        hwnas__lut *lut;
        if ((rc = find_lut(&lut, q, m)) != HWNAS_OK)
            return rc;
        L->lut = lut;
        if ((rc = make_layer(q, L, i, fold)) != HWNAS_OK)
            return rc;
    }
    rc = hwnas__quant_calibrate(q, calib);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__quant_requantise(q);
    return HWNAS_OK;
}

int hwnas_quant_new(hwnas_quant **out, const hwnas_model *model, hwnas_axmul_registry *reg,
                    const hwnas_dataset *calib, const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_new: out is NULL");
    *out = NULL;
    if (!model || !calib)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_new: model and calib are required");
    hwnas_context *ctx = model->ctx;
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &hwnas__quant_kind, options);
    if (rc != HWNAS_OK)
        return rc;
    hwnas_quant *q = hwnas__calloc(ctx, 1, sizeof *q);
    if (!q) {
        hwnas_options_free(o);
        return HWNAS_ENOMEM;
    }
    q->ctx = ctx;
    q->batch = (size_t)hwnas__options_int(o, OPT_BATCH);
    q->weights_mode = (int)hwnas__options_int(o, OPT_WEIGHTS);
    int fold = (int)hwnas__options_int(o, OPT_FOLD_BN);
    q->calib_batches = (size_t)hwnas__options_int(o, OPT_CALIB_BATCHES);
    hwnas_options_free(o);
    q->path = HWNAS__LUT_AUTO;
    hwnas_axmul_registry *own = NULL;
    if (!reg) {
        rc = hwnas_axmul_registry_new(&own, ctx);
        reg = own;
    }
    if (rc == HWNAS_OK)
        rc = build(q, model, reg, calib, fold);
    hwnas_axmul_registry_free(own);
    if (rc != HWNAS_OK) {
        hwnas_quant_free(q);
        return rc;
    }
    *out = q;
    return HWNAS_OK;
}

/* ---- queries and changes ------------------------------------------------- */

size_t hwnas_quant_layer_count(const hwnas_quant *q)
{
    return q ? q->n_layers : 0;
}

int64_t hwnas_quant_layer_node(const hwnas_quant *q, size_t i)
{
    return q && i < q->n_layers ? (int64_t)q->layers[i].node : -1;
}

const char *hwnas_quant_layer_multiplier(const hwnas_quant *q, size_t i)
{
    return q && i < q->n_layers ? q->layers[i].lut->name : NULL;
}

int hwnas_quant_layer_range(double *out_min, double *out_max, const hwnas_quant *q, size_t i)
{
    if (!out_min || !out_max || !q)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_layer_range: NULL argument");
    if (i >= q->n_layers)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_layer_range: layer %zu of %zu", i,
                            q->n_layers);
    *out_min = q->layers[i].in_min;
    *out_max = q->layers[i].in_max;
    return HWNAS_OK;
}

int hwnas_quant_set_multiplier(hwnas_quant *q, int64_t i, const hwnas_axmul *m)
{
    if (!q || !m)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_set_multiplier: q and m are required");
    if (i < -1 || (i >= 0 && (uint64_t)i >= q->n_layers))
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_set_multiplier: layer %lld; the model "
                            "has %zu quantised layers (-1 = all)", (long long)i, q->n_layers);
    hwnas__lut *lut;
    int rc = find_lut(&lut, q, m);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t l = 0; l < q->n_layers; l++)
        if (i < 0 || (size_t)i == l)
            apply_lut(q, &q->layers[l], lut);
    drop_unused_luts(q);
    return HWNAS_OK;
}

/* ---- running --------------------------------------------------------------- */

typedef struct conv_task {
    hwnas_quant *q;
    const hwnas__qlayer *L;
    const float *x;  /* input activations of the batch */
    float *y;        /* output activations */
    size_t in_size, out_size;
} conv_task;

static int conv_task_run(size_t s, size_t worker, void *data)
{
    const conv_task *t = data;
    hwnas__quant_scratch *w = &t->q->ws[worker];
    const hwnas__qlayer *L = t->L;
    hwnas__qlayer_quantise_input(w->xs, t->x + s * t->in_size, t->in_size, L);
    hwnas__qlayer_conv_sample(w->acc, L, w->xs, w->col, w->colsum, t->q->path);
    for (size_t co = 0; co < L->cout; co++)
        hwnas__qlayer_dequant(t->y + s * t->out_size + co * L->p, w->acc + co * L->p, L->p, co,
                              L);
    return 0;
}

static int run_layer(hwnas_quant *q, const hwnas__qlayer *L, size_t n)
{
    hwnas__engine *e = q->eng;
    const hwnas__eng_node *nd = &e->nodes[L->node];
    size_t in = nd->in[0];
    if (L->kind != HWNAS_NET_LINEAR) {
        conv_task t = {q, L, e->act[in], e->act[L->node], e->nodes[in].size, nd->size};
        return hwnas_parallel_for(q->ctx, n, conv_task_run, &t);
    }
    size_t F = L->kg, M = L->cout;
    hwnas__qlayer_quantise_input(q->xq, e->act[in], n * F, L);
    int rc = hwnas__qlayer_linear(q->ctx, q->lout, L, q->xq, n, q->at, q->lacc, q->lcolsum,
                                  q->path);
    if (rc != HWNAS_OK)
        return rc;
    float *y = e->act[L->node];
    for (size_t s = 0; s < n; s++)
        for (size_t m = 0; m < M; m++)
            hwnas__qlayer_dequant(y + s * M + m, q->lout + s * M + m, 1, m, L);
    return HWNAS_OK;
}

int hwnas__quant_forward(hwnas_quant *q, const float *x, size_t n, int train, uint64_t step)
{
    hwnas__engine *e = q->eng;
    e->batch = n;
    e->train = train;
    e->step = step;
    /* the latency profiler's per-node timer, as in hwnas__engine_forward */
    double t_prev = e->node_ms ? e->node_clock() : 0;
    for (size_t i = 0; i < e->n; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        int rc;
        if (nd->kind == HWNAS_NET_INPUT) {
            memcpy(e->act[i], x, n * nd->size * sizeof(float));
            rc = HWNAS_OK;
        } else if (q->layer_of[i] >= 0) {
            rc = run_layer(q, &q->layers[q->layer_of[i]], n);
        } else if (q->skip[i]) {
            memcpy(e->act[i], e->act[nd->in[0]], n * nd->size * sizeof(float));
            rc = HWNAS_OK;
        } else if (nd->fused && !q->skip[nd->in[0]]) {
            /* The engine runs this relu inside its batch-norm, which wrote
             * our output already; only a folded (skipped) batch-norm leaves
             * the activation to run here. */
            rc = HWNAS_OK;
        } else {
            rc = hwnas__k_forward(e, i);
        }
        if (rc != HWNAS_OK) {
            return hwnas__error(rc, "quant: node '%s' failed: %s", nd->name, hwnas_error_last());
        }
        if (e->node_ms) {
            /* A relu the fp32 engine fuses into its batch-norm is one layer
             * for the LUT (keyed on the batch-norm): when a folded
             * batch-norm leaves it to run here, its time goes there too. */
            double t = e->node_clock();
            e->node_ms[nd->fused ? nd->in[0] : i] += (t - t_prev) * 1e3;
            t_prev = t;
        }
    }
    return HWNAS_OK;
}

static size_t argmax(const float *z, size_t k)
{
    size_t arg = 0;
    for (size_t j = 1; j < k; j++)
        if (z[j] > z[arg])
            arg = j;
    return arg;
}

int hwnas_quant_predict(float *out_scores, int32_t *out_labels, hwnas_quant *q,
                        const float *images, size_t n)
{
    if (!q || !images || n == 0 || (!out_scores && !out_labels))
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_predict: q, images, n > 0 and an output "
                            "are required");
    hwnas__engine *e = q->eng;
    size_t bs = n < q->batch ? n : q->batch;
    int rc = hwnas__quant_reserve(q, bs);
    if (rc != HWNAS_OK)
        return rc;
    size_t ss = e->nodes[e->input].size, k = e->nodes[e->output].size;
    size_t kl = e->nodes[e->logits].size;
    for (size_t lo = 0; lo < n; lo += bs) {
        size_t nb = n - lo < bs ? n - lo : bs;
        if ((rc = hwnas__quant_forward(q, images + lo * ss, nb, 0, 0)) != HWNAS_OK)
            return rc;
        if (out_scores)
            memcpy(out_scores + lo * k, e->act[e->output], nb * k * sizeof *out_scores);
        for (size_t s = 0; out_labels && s < nb; s++)
            out_labels[lo + s] = (int32_t)argmax(e->act[e->logits] + s * kl, kl);
    }
    return HWNAS_OK;
}

static int quant_infer(void *ud, const float *images, size_t n)
{
    return hwnas__quant_forward(ud, images, n, 0, 0);
}

int hwnas_quant_evaluate(double *out_accuracy, int64_t *out_confusion, hwnas_quant *q,
                         const hwnas_dataset *ds)
{
    if (!out_accuracy || !q || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_evaluate: out_accuracy, q and ds are "
                            "required");
    int rc = hwnas__quant_check_shape(q, ds, "hwnas_quant_evaluate", 1);
    if (rc != HWNAS_OK)
        return rc;
    size_t n = hwnas_dataset_count(ds), bs = n < q->batch ? n : q->batch;
    if ((rc = hwnas__quant_reserve(q, bs)) != HWNAS_OK)
        return rc;
    return hwnas__evaluate_batches(out_accuracy, NULL, out_confusion, q->ctx, q->eng, ds, bs,
                                   quant_infer, q);
}

int hwnas_quant_accuracy(double *out_accuracy, const hwnas_model *model,
                         hwnas_axmul_registry *reg, const hwnas_dataset *calib,
                         const hwnas_dataset *ds, const char *options)
{
    if (!out_accuracy || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_quant_accuracy: out_accuracy and ds are "
                            "required");
    hwnas_quant *q = NULL;
    int rc = hwnas_quant_new(&q, model, reg, calib, options);
    if (rc == HWNAS_OK)
        rc = hwnas_quant_evaluate(out_accuracy, NULL, q, ds);
    hwnas_quant_free(q);
    return rc;
}
