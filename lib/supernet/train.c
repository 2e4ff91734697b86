/* Single-path uniform sampling (SPOS) training of a supernet, with
 * checkpoints a killed run resumes from. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/model_internal.h"
#include "hwnas/data.h"
#include "supernet_internal.h"

enum { OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_MOMENTUM, OPT_NESTEROV, OPT_WD, OPT_SEED, OPT_EVERY,
       OPT_SANDWICH, OPT_DISTILL };

static const hwnas__option_spec train_options[] = {
    [OPT_EPOCHS] = {"epochs", HWNAS_OPTION_INT, "10", 1, 100000, NULL,
                    "passes over the training set"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "64", 1, 65536, NULL, "samples per mini-batch"},
    [OPT_LR] = {"lr", HWNAS_OPTION_FLOAT, "0.05", 0, 1000, NULL,
                "peak learning rate (cosine schedule to 0)"},
    [OPT_MOMENTUM] = {"momentum", HWNAS_OPTION_FLOAT, "0.9", 0, 1, NULL, "SGD momentum"},
    [OPT_NESTEROV] = {"nesterov", HWNAS_OPTION_BOOL, "0", 0, 0, NULL, "Nesterov momentum"},
    [OPT_WD] = {"weight_decay", HWNAS_OPTION_FLOAT, "5e-4", 0, 1, NULL,
                "L2 penalty on the trained path's parameters"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of the data order and of the path sampling"},
    [OPT_EVERY] = {"checkpoint_every", HWNAS_OPTION_INT, "200", 1, 1e12, NULL,
                   "steps between checkpoints (and one at the end)"},
    [OPT_SANDWICH] = {"sandwich", HWNAS_OPTION_INT, "0", 0, 64, NULL,
                      "0 trains one uniform path per step (SPOS); n >= 1 (macro) the "
                      "largest, the smallest and n uniform paths, (cell) the all-conv3x3 cell "
                      "and n uniform paths, one update (sandwich rule)"},
    [OPT_DISTILL] = {"distill", HWNAS_OPTION_BOOL, "0", 0, 0, NULL,
                     "with sandwich: the other paths learn the largest's outputs (in-place "
                     "distillation)"},
};

const hwnas__kind hwnas__supernet_train_kind = {
    "supernet_train", train_options, HWNAS_ARRAY_SIZE(train_options), NULL,
};

void hwnas__sn_recipe_text(char *buf, size_t size, const hwnas__sn_recipe *r)
{
    snprintf(buf, size,
             "epochs=%lld;batch=%lld;lr=%.17g;momentum=%.17g;nesterov=%d;weight_decay=%.17g;"
             "seed=%lld;sandwich=%lld;distill=%d",
             (long long)r->epochs, (long long)r->batch, r->lr, r->momentum, (int)r->nesterov,
             r->weight_decay, (long long)r->seed, (long long)r->sandwich, (int)r->distill);
}

static int read_recipe(hwnas__sn_recipe *r, hwnas_context *ctx, const char *text)
{
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &hwnas__supernet_train_kind, text);
    if (rc != HWNAS_OK)
        return rc;
    r->epochs = hwnas__options_int(o, OPT_EPOCHS);
    r->batch = hwnas__options_int(o, OPT_BATCH);
    r->lr = hwnas__options_float(o, OPT_LR);
    r->momentum = hwnas__options_float(o, OPT_MOMENTUM);
    r->nesterov = hwnas__options_int(o, OPT_NESTEROV);
    r->weight_decay = hwnas__options_float(o, OPT_WD);
    r->seed = hwnas__options_int(o, OPT_SEED);
    r->checkpoint_every = hwnas__options_int(o, OPT_EVERY);
    r->sandwich = hwnas__options_int(o, OPT_SANDWICH);
    r->distill = hwnas__options_int(o, OPT_DISTILL);
    hwnas_options_free(o);
    if (r->distill && !r->sandwich)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: distill=1 needs sandwich >= 1 "
                            "(the largest path is the teacher)");
    return HWNAS_OK;
}

/* A resumed training must go on as it began: the first option that
 * differs is an error. */
static int same_recipe(const hwnas__sn_recipe *a, const hwnas__sn_recipe *b)
{
    const char *key = a->epochs != b->epochs               ? "epochs"
                      : a->batch != b->batch               ? "batch"
                      : a->lr != b->lr                     ? "lr"
                      : a->momentum != b->momentum         ? "momentum"
                      : a->nesterov != b->nesterov         ? "nesterov"
                      : a->weight_decay != b->weight_decay ? "weight_decay"
                      : a->seed != b->seed                 ? "seed"
                      : a->sandwich != b->sandwich         ? "sandwich"
                      : a->distill != b->distill           ? "distill"
                                                           : NULL;
    if (!key)
        return HWNAS_OK;
    char was[512];
    hwnas__sn_recipe_text(was, sizeof was, a);
    return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: option %s differs from the "
                        "training being resumed (%s)", key, was);
}

/* The path of step: every edge's operation uniform, from (seed, step). */
void hwnas__sn_sample_path(uint32_t *g, uint64_t seed, uint64_t step)
{
    hwnas__rng r;
    hwnas__rng_seed(&r, seed ^ UINT64_C(0x53504f53), step);
    for (size_t e = 0; e < HWNAS__SN_EDGES; e++)
        g[e] = (uint32_t)hwnas__rng_below(&r, HWNAS__SN_OPS);
}

void hwnas__sn_sample(const hwnas_supernet *sn, uint32_t *g, uint64_t seed, uint64_t step,
                      uint32_t k)
{
    hwnas__rng r;
    hwnas__rng_seed(&r, seed ^ UINT64_C(0x53504f53) ^ ((uint64_t)k << 40), step);
    for (size_t e = 0; e < sn->n_choices; e++)
        g[e] = (uint32_t)hwnas__rng_below(&r, sn->card[e]);
}

/* Input shape and classes of sn's networks. */
typedef struct shape { int64_t in_channels, in_size, classes; } shape;

static shape shape_of(const hwnas_supernet *sn)
{
    if (sn->space == HWNAS__SN_MACRO)
        return (shape){sn->mcfg.in_channels, sn->mcfg.in_size, sn->mcfg.classes};
    if (sn->space == HWNAS__SN_CGP)
        return (shape){sn->ccfg.in_channels, sn->ccfg.in_size, sn->ccfg.classes};
    return (shape){sn->cfg.in_channels, sn->cfg.in_size, sn->cfg.classes};
}

static int check_dataset(const hwnas_supernet *sn, const hwnas_dataset *ds)
{
    shape sh = shape_of(sn);
    const shape *c = &sh;
    if (hwnas_dataset_channels(ds) != (size_t)c->in_channels ||
        hwnas_dataset_height(ds) != (size_t)c->in_size ||
        hwnas_dataset_width(ds) != (size_t)c->in_size)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: the dataset's samples are "
                            "%zux%zux%zu but the supernet takes %lldx%lldx%lld (its options "
                            "input_channels and input_size)",
                            hwnas_dataset_channels(ds), hwnas_dataset_height(ds),
                            hwnas_dataset_width(ds), (long long)c->in_channels,
                            (long long)c->in_size, (long long)c->in_size);
    if (hwnas_dataset_classes(ds) > (size_t)c->classes)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: the dataset has %zu classes, "
                            "the supernet's classifier %lld", hwnas_dataset_classes(ds),
                            (long long)c->classes);
    if (hwnas_dataset_count(ds) == 0)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: the dataset is empty");
    return HWNAS_OK;
}

/* Start or resume: the recipe, the dataset size and normalisation must be
 * those of the training under way. */
static int begin(hwnas_supernet *sn, const hwnas__sn_recipe *r, size_t n, const double *mean,
                 const double *std)
{
    size_t bs = (size_t)r->batch < n ? (size_t)r->batch : n;
    uint64_t total = (uint64_t)r->epochs * ((n + bs - 1) / bs);
    if (sn->trained) {
        int rc = same_recipe(&sn->recipe, r);
        if (rc == HWNAS_OK && sn->n_samples != n)
            rc = hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: the dataset has %zu samples; "
                              "the training being resumed had %llu", n,
                              (unsigned long long)sn->n_samples);
        for (size_t c = 0; rc == HWNAS_OK && mean && std && c < sn->n_norm; c++)
            if (mean[c] != sn->mean[c] || std[c] != sn->std[c])
                rc = hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: the normalisation of "
                                  "channel %zu differs from the training being resumed", c);
        sn->recipe.checkpoint_every = r->checkpoint_every;
        return rc;
    }
    sn->velocity = hwnas__calloc(sn->ctx, sn->full->eng->n_params ? sn->full->eng->n_params : 1,
                                 sizeof *sn->velocity);
    if (!sn->velocity)
        return HWNAS_ENOMEM;
    sn->recipe = *r;
    sn->n_samples = n;
    sn->total = total;
    sn->step = 0;
    for (size_t c = 0; c < sn->n_norm; c++) {
        sn->mean[c] = mean ? mean[c] : 0;
        sn->std[c] = std ? std[c] : 1;
    }
    sn->trained = 1;
    return HWNAS_OK;
}

/* Per-training buffers of the steps. */
typedef struct step_bufs {
    float *dlogits;   /* batch * classes */
    float *teacher;   /* batch * classes: the largest path's probabilities (distill) */
    float *acc;       /* n_params of the full net: summed gradients of the step's paths */
    uint8_t *touched; /* n_params: some path of the step has that parameter */
} step_bufs;

/* Softmax cross-entropy of the logits against the teacher's probabilities
 * (in-place distillation): mean loss, and its gradient into dlogits. */
static double soft_loss(float *dlogits, const float *logits, const float *teacher, size_t nb,
                        size_t classes)
{
    double total = 0;
    for (size_t s = 0; s < nb; s++) {
        const float *z = logits + s * classes;
        double mx = z[0], sum = 0;
        for (size_t c = 1; c < classes; c++)
            mx = z[c] > mx ? z[c] : mx;
        for (size_t c = 0; c < classes; c++)
            sum += exp(z[c] - mx);
        double lse = mx + log(sum);
        for (size_t c = 0; c < classes; c++) {
            double p = exp(z[c] - lse), t = teacher[s * classes + c];
            total -= t * (z[c] - lse);
            dlogits[s * classes + c] = (float)((p - t) / (double)nb);
        }
    }
    return total / (double)nb;
}

/* Train path g on the batch: forward, loss, backward, and its gradients
 * summed into the full net's slots. role 0: the labels' loss; 1: the
 * labels', and its probabilities become the teacher; 2: the teacher's
 * (in-place distillation). */
static int train_path(hwnas_supernet *sn, const uint32_t *g, const float *images,
                      const int32_t *labels, size_t nb, step_bufs *bb, int role, double *loss,
                      size_t *correct)
{
    const hwnas__sn_recipe *r = &sn->recipe;
    size_t classes = (size_t)shape_of(sn).classes;
    hwnas_model *m = NULL;
    uint32_t *pidx = NULL, *sidx = NULL;
    int rc = hwnas__sn_path_slices(&m, sn, g, NULL, &pidx, &sidx);
    hwnas__engine *pe = m ? m->eng : NULL;
    if (rc == HWNAS_OK)
        rc = hwnas__engine_reserve(pe, nb);
    if (rc == HWNAS_OK) {
        pe->seed = (uint64_t)r->seed;
        rc = hwnas__engine_forward(pe, images, nb, 1, sn->step);
    }
    if (rc == HWNAS_OK) {
        hwnas__engine_loss(loss, correct, bb->dlogits, pe, labels, 0);
        const float *z = pe->act[pe->logits];
        if (role == 2)
            *loss = soft_loss(bb->dlogits, z, bb->teacher, nb, classes);
        if (role == 1)
            for (size_t s = 0; s < nb; s++) {
                double mx = z[s * classes], sum = 0;
                for (size_t c = 1; c < classes; c++)
                    mx = z[s * classes + c] > mx ? z[s * classes + c] : mx;
                for (size_t c = 0; c < classes; c++)
                    sum += exp(z[s * classes + c] - mx);
                for (size_t c = 0; c < classes; c++)
                    bb->teacher[s * classes + c] = (float)(exp(z[s * classes + c] - mx) / sum);
            }
        if (!isfinite(*loss))
            rc = hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: the loss diverged (%g) at "
                              "step %llu; lower lr=%g", *loss, (unsigned long long)sn->step,
                              r->lr);
    }
    if (rc == HWNAS_OK)
        rc = hwnas__engine_backward(pe, bb->dlogits);
    hwnas__engine *fe = sn->full->eng;
    for (size_t k = 0; rc == HWNAS_OK && k < pe->n_params; k++)
        if (pidx[k] != UINT32_MAX) {
            bb->acc[pidx[k]] += pe->grads[k];
            bb->touched[pidx[k]] = 1;
        }
    /* running statistics carry no meaning across paths (recalibrated
     * before rating); the path's are kept as PyTorch's would be */
    for (size_t k = 0; rc == HWNAS_OK && k < pe->n_state; k++)
        if (sidx[k] != UINT32_MAX)
            fe->state[sidx[k]] = pe->state[k];
    hwnas__free(sn->ctx, pidx);
    hwnas__free(sn->ctx, sidx);
    hwnas_model_free(m);
    return rc;
}

/* One step on the batch: SPOS's one uniform path, or the sandwich rule's
 * largest, smallest and `sandwich` uniform paths; then one SGD update of
 * every parameter some path used (the others are untouched, as PyTorch's
 * SGD skips parameters without gradients). loss and correct are the first
 * path's. */
static int train_step(hwnas_supernet *sn, const float *images, const int32_t *labels, size_t nb,
                      step_bufs *bb, double lr, double *loss, size_t *correct)
{
    const hwnas__sn_recipe *r = &sn->recipe;
    hwnas__engine *fe = sn->full->eng;
    size_t np = fe->n_params;
    memset(bb->acc, 0, np * sizeof *bb->acc);
    memset(bb->touched, 0, np);
    uint32_t g[HWNAS__SN_MAX_CHOICES];
    /* the cell space's sandwich has no smallest path: the all-none cell
     * is a zero network without weights, and training the all-skip one
     * every step would favour the parameter-free cells further */
    size_t fixed = !r->sandwich ? 0 : sn->space == HWNAS__SN_MACRO ? 2 : 1;
    size_t n_paths = r->sandwich ? fixed + (size_t)r->sandwich : 1;
    int rc = HWNAS_OK;
    for (size_t j = 0; rc == HWNAS_OK && j < n_paths; j++) {
        int role = 0;
        if (j < fixed) {
            if (sn->space == HWNAS__SN_MACRO)
                hwnas__sn_macro_extreme(&sn->mcfg, j == 0, g);
            else
                for (size_t e = 0; e < HWNAS__SN_EDGES; e++)
                    g[e] = 3; /* nor_conv_3x3: the largest cell */
            role = j == 0 && r->distill ? 1 : 0;
        } else {
            hwnas__sn_sample(sn, g, (uint64_t)r->seed, sn->step,
                             (uint32_t)(r->sandwich ? j - fixed : 0));
        }
        if (r->distill && j > 0)
            role = 2;
        double l = 0;
        size_t c = 0;
        rc = train_path(sn, g, images, labels, nb, bb, role, &l, &c);
        if (j == 0)
            *loss = l, *correct = c;
    }
    /* SGD over the runs of used parameters */
    for (size_t k = 0; rc == HWNAS_OK && k < np;) {
        if (!bb->touched[k]) {
            k++;
            continue;
        }
        size_t e = k;
        while (e < np && bb->touched[e])
            e++;
        hwnas__sgd_step(fe->params + k, sn->velocity + k, bb->acc + k, e - k, lr, r->momentum,
                        r->weight_decay, (int)r->nesterov);
        k = e;
    }
    return rc;
}

int hwnas_supernet_train(hwnas_supernet *sn, const hwnas_dataset *ds, const double *mean,
                         const double *std, const char *options, const char *checkpoint,
                         hwnas_model_progress_cb cb, void *user_data)
{
    if (!sn || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: sn and ds are required");
    hwnas__sn_recipe r;
    int rc = read_recipe(&r, sn->ctx, options);
    if (rc == HWNAS_OK && sn->space == HWNAS__SN_CGP && r.sandwich)
        rc = hwnas__error(HWNAS_EINVAL, "hwnas_supernet_train: sandwich and distill are for the "
                          "macro and cell spaces (a CGP grid has no largest network)");
    if (rc == HWNAS_OK)
        rc = check_dataset(sn, ds);
    size_t n = hwnas_dataset_count(ds);
    if (rc == HWNAS_OK)
        rc = begin(sn, &r, n, mean, std);
    if (rc != HWNAS_OK || sn->step >= sn->total)
        return rc;
    hwnas_context *ctx = sn->ctx;
    size_t bs = (size_t)r.batch < n ? (size_t)r.batch : n, batches = (n + bs - 1) / bs;
    size_t ss = hwnas_dataset_sample_size(ds), classes = (size_t)shape_of(sn).classes;
    size_t np = sn->full->eng->n_params ? sn->full->eng->n_params : 1;
    size_t *order = hwnas__malloc(ctx, n * sizeof *order);
    float *images = hwnas__malloc(ctx, bs * ss * sizeof *images);
    int32_t *labels = hwnas__malloc(ctx, bs * sizeof *labels);
    step_bufs bb = {hwnas__malloc(ctx, bs * classes * sizeof(float)),
                    hwnas__malloc(ctx, bs * classes * sizeof(float)),
                    hwnas__malloc(ctx, np * sizeof(float)), hwnas__malloc(ctx, np)};
    if (!order || !images || !labels || !bb.dlogits || !bb.teacher || !bb.acc || !bb.touched)
        rc = HWNAS_ENOMEM;
    double loss_sum = 0;
    size_t correct_sum = 0, seen = 0;
    int64_t shuffled = -1;
    while (rc == HWNAS_OK && sn->step < sn->total) {
        uint64_t ep = sn->step / batches, b = sn->step % batches;
        if ((int64_t)ep != shuffled) {
            hwnas_dataset_shuffle(order, ds, (uint64_t)r.seed, ep);
            shuffled = (int64_t)ep;
        }
        size_t lo = b * bs, nb = n - lo < bs ? n - lo : bs;
        double lr = hwnas__lr_at(r.lr, 1, sn->step, sn->total, 0, 0, 0), loss = 0;
        size_t correct = 0;
        rc = hwnas_dataset_batch(images, labels, ds, order + lo, nb);
        if (rc == HWNAS_OK)
            rc = train_step(sn, images, labels, nb, &bb, lr, &loss, &correct);
        if (rc != HWNAS_OK)
            break;
        sn->step++;
        loss_sum += loss * (double)nb, correct_sum += correct, seen += nb;
        int stop = cb && cb(HWNAS_MODEL_EVENT_BATCH, (int64_t)ep, r.epochs, (int64_t)b,
                            (int64_t)batches, loss, (double)correct / (double)nb, lr,
                            user_data) != 0;
        if (!stop && b + 1 == batches && cb) {
            stop = cb(HWNAS_MODEL_EVENT_EPOCH, (int64_t)ep, r.epochs, (int64_t)batches,
                      (int64_t)batches, loss_sum / (double)seen,
                      (double)correct_sum / (double)seen, lr, user_data) != 0;
            loss_sum = 0, correct_sum = 0, seen = 0;
        }
        if (checkpoint && (stop || sn->step % (uint64_t)r.checkpoint_every == 0 ||
                           sn->step == sn->total))
            rc = hwnas_supernet_save(sn, checkpoint);
        if (rc == HWNAS_OK && stop)
            rc = hwnas__error(HWNAS_EUSER, "hwnas_supernet_train: the progress callback stopped "
                              "at step %llu", (unsigned long long)sn->step);
    }
    hwnas__free(ctx, order);
    hwnas__free(ctx, images);
    hwnas__free(ctx, labels);
    hwnas__free(ctx, bb.dlogits);
    hwnas__free(ctx, bb.teacher);
    hwnas__free(ctx, bb.acc);
    hwnas__free(ctx, bb.touched);
    return rc;
}
