/* hwnas_model: a net with weights, trained with SGD on a dataset. */
#include <math.h>
#include <string.h>

#include "engine_internal.h"
#include "hwnas/data.h"
#include "hwnas/model.h"
#include "model_internal.h"

static const hwnas__option_spec model_options[] = {
    {"epochs", HWNAS_OPTION_INT, "1", 1, 100000, NULL, "passes over the training set"},
    {"batch", HWNAS_OPTION_INT, "128", 1, 65536, NULL, "samples per mini-batch"},
    {"lr", HWNAS_OPTION_FLOAT, "0.05", 0, 1000, NULL, "peak learning rate"},
    {"momentum", HWNAS_OPTION_FLOAT, "0.9", 0, 1, NULL, "SGD momentum (0 = none)"},
    {"nesterov", HWNAS_OPTION_BOOL, "0", 0, 0, NULL, "Nesterov momentum"},
    {"weight_decay", HWNAS_OPTION_FLOAT, "0", 0, 1, NULL,
     "L2 penalty added to every parameter's gradient"},
    {"schedule", HWNAS_OPTION_ENUM, "cosine", 0, 0, "constant|cosine|step",
     "learning-rate schedule after warm-up"},
    {"warmup", HWNAS_OPTION_FLOAT, "0", 0, 100000, NULL,
     "epochs of linear learning-rate warm-up (fractions allowed)"},
    {"step_epochs", HWNAS_OPTION_INT, "30", 1, 100000, NULL,
     "step schedule: epochs between learning-rate drops"},
    {"gamma", HWNAS_OPTION_FLOAT, "0.1", 0, 1, NULL, "step schedule: factor of each drop"},
    {"label_smoothing", HWNAS_OPTION_FLOAT, "0", 0, 0.999, NULL,
     "weight of the uniform distribution mixed into the targets"},
    {"augment", HWNAS_OPTION_BOOL, "0", 0, 0, NULL,
     "random crops (crop_pad) and left-right flips (flip)"},
    {"crop_pad", HWNAS_OPTION_INT, "4", 0, 64, NULL, "augment: zero padding before cropping"},
    {"flip", HWNAS_OPTION_FLOAT, "0.5", 0, 1, NULL, "augment: probability of a flip"},
    {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
     "seed of shuffling, augmentation and dropout (and of init)"},
    {"init", HWNAS_OPTION_ENUM, "keep", 0, 0, "keep|he|uniform",
     "before training, keep the weights or re-initialise them from seed: convolution and "
     "linear weights He-normal (biases 0) or U(+-1/sqrt(fan_in)) (biases too, PyTorch's "
     "default)"},
};

const hwnas__kind hwnas__model_kind = {
    "model", model_options, HWNAS_ARRAY_SIZE(model_options), NULL,
};

int hwnas_model_new(hwnas_model **out, hwnas_context *ctx, const hwnas_net *net, uint64_t seed)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_new: out is NULL");
    *out = NULL;
    if (!ctx || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_new: ctx and net are required");
    hwnas_model *m = hwnas__calloc(ctx, 1, sizeof *m);
    if (!m)
        return HWNAS_ENOMEM;
    m->ctx = ctx;
    m->train_loss = m->train_acc = NAN;
    int rc = hwnas_net_clone(&m->net, net);
    if (rc == HWNAS_OK)
        rc = hwnas__engine_new(&m->eng, ctx, m->net, seed);
    if (rc == HWNAS_OK) /* callers read only the logits and output: share buffers */
        m->eng->share = 1;
    if (rc != HWNAS_OK) {
        hwnas_model_free(m);
        return rc;
    }
    *out = m;
    return HWNAS_OK;
}

void hwnas_model_free(hwnas_model *model)
{
    if (!model)
        return;
    hwnas__engine_free(model->eng);
    hwnas_net_free(model->net);
    hwnas__free(model->ctx, model);
}

const hwnas_net *hwnas_model_net(const hwnas_model *model)
{
    return model ? model->net : NULL;
}

size_t hwnas_model_param_count(const hwnas_model *model)
{
    return model ? model->eng->n_params : 0;
}

size_t hwnas_model_classes(const hwnas_model *model)
{
    return model ? model->eng->nodes[model->eng->logits].size : 0;
}

double hwnas_model_train_loss(const hwnas_model *model)
{
    return model ? model->train_loss : NAN;
}

double hwnas_model_train_accuracy(const hwnas_model *model)
{
    return model ? model->train_acc : NAN;
}

/* ds fits the model: same sample shape, classes within the outputs. */
static int check_dataset(const hwnas_model *m, const hwnas_dataset *ds, const char *fn)
{
    const hwnas__eng_node *in = &m->eng->nodes[m->eng->input];
    size_t c = hwnas_dataset_channels(ds), h = hwnas_dataset_height(ds),
           w = hwnas_dataset_width(ds);
    if (c != in->c || h != in->h || w != in->w)
        return hwnas__error(HWNAS_EINVAL, "%s: the dataset's samples are %zux%zux%zu but the "
                            "net's input '%s' is %zux%zux%zu", fn, c, h, w, in->name, in->c,
                            in->h, in->w);
    size_t classes = hwnas_model_classes(m);
    if (hwnas_dataset_classes(ds) > classes)
        return hwnas__error(HWNAS_EINVAL, "%s: the dataset has %zu classes but the net's output "
                            "'%s' gives %zu", fn, hwnas_dataset_classes(ds),
                            m->eng->nodes[m->eng->logits].name, classes);
    if (hwnas_dataset_count(ds) == 0)
        return hwnas__error(HWNAS_EINVAL, "%s: the dataset is empty", fn);
    return HWNAS_OK;
}

/* The "model" options read into a recipe and the init choice (0 keep, 1
 * he, 2 uniform). */
static int read_options(hwnas__train_recipe *r, int64_t *init, hwnas_context *ctx,
                        const char *text)
{
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &hwnas__model_kind, text);
    if (rc != HWNAS_OK)
        return rc;
    int64_t nesterov = 0;
    hwnas_options_get_int(o, "epochs", &r->epochs);
    hwnas_options_get_int(o, "batch", &r->batch);
    hwnas_options_get_int(o, "schedule", &r->schedule);
    hwnas_options_get_int(o, "step_epochs", &r->step_epochs);
    hwnas_options_get_int(o, "augment", &r->augment);
    hwnas_options_get_int(o, "crop_pad", &r->crop_pad);
    hwnas_options_get_int(o, "seed", &r->seed);
    hwnas_options_get_int(o, "init", init);
    hwnas_options_get_int(o, "nesterov", &nesterov);
    hwnas_options_get_float(o, "lr", &r->lr);
    hwnas_options_get_float(o, "momentum", &r->momentum);
    hwnas_options_get_float(o, "weight_decay", &r->weight_decay);
    hwnas_options_get_float(o, "warmup", &r->warmup);
    hwnas_options_get_float(o, "gamma", &r->gamma);
    hwnas_options_get_float(o, "label_smoothing", &r->smoothing);
    hwnas_options_get_float(o, "flip", &r->flip);
    r->nesterov = nesterov != 0;
    hwnas_options_free(o);
    return HWNAS_OK;
}

int hwnas__train_epochs(hwnas_model *model, hwnas__engine *e, const hwnas_dataset *ds,
                        const hwnas__train_recipe *r, const hwnas__train_passes *p,
                        const hwnas__train_resume *resume, hwnas_model_progress_cb cb,
                        void *user_data)
{
    const hwnas_context *ctx = model->ctx;
    size_t n = hwnas_dataset_count(ds), bs = (size_t)r->batch < n ? (size_t)r->batch : n;
    size_t ss = hwnas_dataset_sample_size(ds), classes = e->nodes[e->logits].size;
    size_t batches = (n + bs - 1) / bs;
    size_t *order = hwnas__malloc(ctx, n * sizeof *order);
    float *images = hwnas__malloc(ctx, bs * ss * sizeof *images);
    int32_t *labels = hwnas__malloc(ctx, bs * sizeof *labels);
    float *dlogits = hwnas__malloc(ctx, bs * classes * sizeof *dlogits);
    float *velocity = hwnas__calloc(ctx, e->n_params ? e->n_params : 1, sizeof *velocity);
    int rc = HWNAS_OK;
    if (!order || !images || !labels || !dlogits || !velocity) {
        rc = HWNAS_ENOMEM;
        goto done;
    }
    e->seed = (uint64_t)r->seed;
    uint64_t total = (uint64_t)r->epochs * batches;
    uint64_t warmup = (uint64_t)llround(r->warmup * (double)batches);
    uint64_t step_every = (uint64_t)r->step_epochs * batches;
    if (resume && resume->velocity)
        memcpy(velocity, resume->velocity, e->n_params * sizeof *velocity);
    for (int64_t ep = resume ? resume->start : 0; ep < r->epochs; ep++) {
        hwnas_dataset_shuffle(order, ds, (uint64_t)r->seed, (uint64_t)ep);
        double loss_sum = 0, lr = r->lr;
        size_t correct_sum = 0;
        for (size_t b = 0; b < batches; b++) {
            size_t lo = b * bs, nb = n - lo < bs ? n - lo : bs;
            uint64_t step = (uint64_t)ep * batches + b;
            rc = r->augment ? hwnas_dataset_batch_augment(images, labels, ds, order + lo, nb,
                                                          (size_t)r->crop_pad, r->flip,
                                                          (uint64_t)r->seed, (uint64_t)ep)
                            : hwnas_dataset_batch(images, labels, ds, order + lo, nb);
            if (rc == HWNAS_OK)
                rc = p->forward(p->ud, images, nb, step);
            if (rc != HWNAS_OK)
                goto done;
            double loss;
            size_t correct;
            hwnas__engine_loss(&loss, &correct, dlogits, e, labels, r->smoothing);
            if (!isfinite(loss)) {
                rc = hwnas__error(HWNAS_EINVAL, "%s: the loss diverged (%g) at epoch %lld "
                                  "batch %zu; lower lr=%g", p->who, loss, (long long)ep, b,
                                  r->lr);
                goto done;
            }
            rc = p->backward(p->ud, dlogits);
            if (rc != HWNAS_OK)
                goto done;
            lr = hwnas__lr_at(r->lr, (int)r->schedule, step, total, warmup, step_every, r->gamma);
            hwnas__sgd_step(e->params, velocity, e->grads, e->n_params, lr, r->momentum,
                            r->weight_decay, r->nesterov);
            loss_sum += loss * (double)nb;
            correct_sum += correct;
            if (cb && cb(HWNAS_MODEL_EVENT_BATCH, ep, r->epochs, (int64_t)b, (int64_t)batches,
                         loss, (double)correct / (double)nb, lr, user_data) != 0) {
                rc = hwnas__error(HWNAS_EUSER, "%s: the progress callback stopped at epoch "
                                  "%lld batch %zu", p->who, (long long)ep, b);
                goto done;
            }
        }
        model->train_loss = loss_sum / (double)n;
        model->train_acc = (double)correct_sum / (double)n;
        if (resume && resume->save &&
            (rc = resume->save(resume->ud, ep + 1, velocity)) != HWNAS_OK)
            goto done;
        if (cb && cb(HWNAS_MODEL_EVENT_EPOCH, ep, r->epochs, (int64_t)batches, (int64_t)batches,
                     model->train_loss, model->train_acc, lr, user_data) != 0) {
            rc = hwnas__error(HWNAS_EUSER, "%s: the progress callback stopped after epoch %lld",
                              p->who, (long long)ep);
            goto done;
        }
    }
done:
    hwnas__free(ctx, order);
    hwnas__free(ctx, images);
    hwnas__free(ctx, labels);
    hwnas__free(ctx, dlogits);
    hwnas__free(ctx, velocity);
    return rc;
}

static int engine_forward(void *ud, const float *images, size_t n, uint64_t step)
{
    return hwnas__engine_forward(ud, images, n, 1, step);
}

static int engine_backward(void *ud, const float *dlogits)
{
    return hwnas__engine_backward(ud, dlogits);
}

int hwnas_model_train(hwnas_model *model, const hwnas_dataset *ds, const char *options,
                      hwnas_model_progress_cb cb, void *user_data)
{
    if (!model || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_train: model and ds are required");
    return hwnas__model_train_from(model, ds, options, NULL, cb, user_data);
}

int hwnas__model_train_from(hwnas_model *model, const hwnas_dataset *ds, const char *options,
                            hwnas__train_start *start, hwnas_model_progress_cb cb,
                            void *user_data)
{
    const char *who = start ? "hwnas_model_train_checkpoint" : "hwnas_model_train";
    hwnas__train_recipe r;
    int64_t init = 0;
    int rc = read_options(&r, &init, model->ctx, options);
    if (rc == HWNAS_OK)
        rc = check_dataset(model, ds, who);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__engine *e = model->eng;
    size_t n = hwnas_dataset_count(ds);
    rc = hwnas__engine_reserve(e, (size_t)r.batch < n ? (size_t)r.batch : n);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__train_resume resume = {0}, *rs = NULL;
    if (start) { /* read or begin the checkpoint; it may say the run is over */
        int over = 0;
        rc = start->begin(start->ud, &resume, &over, &r, init, ds);
        if (rc != HWNAS_OK || over)
            return rc;
        rs = &resume;
    }
    if (init != 0 && (!rs || rs->start == 0)) /* 1 he, 2 uniform */
        hwnas__engine_init_params(e, (uint64_t)r.seed,
                                  init == 2 ? HWNAS__INIT_UNIFORM : HWNAS__INIT_HE);
    hwnas__train_passes passes = {who, engine_forward, engine_backward, e};
    return hwnas__train_epochs(model, e, ds, &r, &passes, rs, cb, user_data);
}

/* Batch size for inference: the caller's, else a fixed 256. Not the size
 * the buffers happen to hold from training: the batch decides how samples
 * are chunked, and so the last bits of the results, which must not depend
 * on what the model did before. */
static size_t infer_batch(const hwnas__engine *e, size_t want, size_t n)
{
    (void)e;
    size_t b = want ? want : 256;
    return b < n ? b : n;
}

int hwnas__evaluate_batches(double *out_accuracy, double *out_loss, int64_t *out_confusion,
                            const hwnas_context *ctx, hwnas__engine *e, const hwnas_dataset *ds,
                            size_t bs, int (*forward)(void *ud, const float *images, size_t n),
                            void *ud)
{
    size_t n = hwnas_dataset_count(ds), ss = hwnas_dataset_sample_size(ds);
    size_t classes = e->nodes[e->logits].size;
    size_t *pos = hwnas__malloc(ctx, bs * sizeof *pos);
    float *images = hwnas__malloc(ctx, bs * ss * sizeof *images);
    int32_t *labels = hwnas__malloc(ctx, bs * sizeof *labels);
    int rc = HWNAS_OK;
    if (!pos || !images || !labels) {
        rc = HWNAS_ENOMEM;
        goto done;
    }
    if (out_confusion)
        memset(out_confusion, 0, classes * classes * sizeof *out_confusion);
    double loss_sum = 0;
    size_t correct_sum = 0;
    for (size_t lo = 0; lo < n; lo += bs) {
        size_t nb = n - lo < bs ? n - lo : bs;
        for (size_t k = 0; k < nb; k++)
            pos[k] = lo + k;
        rc = hwnas_dataset_batch(images, labels, ds, pos, nb);
        if (rc == HWNAS_OK)
            rc = forward(ud, images, nb);
        if (rc != HWNAS_OK)
            goto done;
        double loss;
        size_t correct;
        hwnas__engine_loss(&loss, &correct, NULL, e, labels, 0.0);
        loss_sum += loss * (double)nb;
        correct_sum += correct;
        if (out_confusion) {
            const float *z = e->act[e->logits];
            for (size_t s = 0; s < nb; s++) {
                size_t arg = 0;
                for (size_t j = 1; j < classes; j++)
                    if (z[s * classes + j] > z[s * classes + arg])
                        arg = j;
                out_confusion[(size_t)labels[s] * classes + arg]++;
            }
        }
    }
    if (out_accuracy)
        *out_accuracy = (double)correct_sum / (double)n;
    if (out_loss)
        *out_loss = loss_sum / (double)n;
done:
    hwnas__free(ctx, pos);
    hwnas__free(ctx, images);
    hwnas__free(ctx, labels);
    return rc;
}

static int engine_infer(void *ud, const float *images, size_t n)
{
    return hwnas__engine_forward(ud, images, n, 0, 0);
}

int hwnas_model_evaluate(double *out_accuracy, double *out_loss, int64_t *out_confusion,
                         hwnas_model *model, const hwnas_dataset *ds, size_t batch)
{
    if (!model || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_evaluate: model and ds are required");
    int rc = check_dataset(model, ds, "hwnas_model_evaluate");
    if (rc != HWNAS_OK)
        return rc;
    hwnas__engine *e = model->eng;
    size_t bs = infer_batch(e, batch, hwnas_dataset_count(ds));
    rc = hwnas__engine_reserve(e, bs);
    if (rc != HWNAS_OK)
        return rc;
    return hwnas__evaluate_batches(out_accuracy, out_loss, out_confusion, model->ctx, e, ds, bs,
                                   engine_infer, e);
}

int hwnas_model_predict(float *out_probs, int32_t *out_labels, hwnas_model *model,
                        const float *images, size_t n)
{
    if (!model || !images || n == 0 || (!out_probs && !out_labels))
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_predict: model, images, n > 0 and an "
                            "output are required");
    hwnas__engine *e = model->eng;
    size_t ss = e->nodes[e->input].size, classes = hwnas_model_classes(model);
    size_t bs = infer_batch(e, 0, n);
    int rc = hwnas__engine_reserve(e, bs);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t lo = 0; lo < n; lo += bs) {
        size_t nb = n - lo < bs ? n - lo : bs;
        rc = hwnas__engine_forward(e, images + lo * ss, nb, 0, 0);
        if (rc != HWNAS_OK)
            return rc;
        const float *z = e->act[e->logits];
        for (size_t s = 0; s < nb; s++) {
            const float *zs = z + s * classes;
            size_t arg = 0;
            for (size_t j = 1; j < classes; j++)
                if (zs[j] > zs[arg])
                    arg = j;
            if (out_labels)
                out_labels[lo + s] = (int32_t)arg;
            if (out_probs) {
                float *p = out_probs + (lo + s) * classes;
                double sum = 0;
                for (size_t j = 0; j < classes; j++)
                    sum += p[j] = expf(zs[j] - zs[arg]);
                for (size_t j = 0; j < classes; j++)
                    p[j] = (float)(p[j] / sum);
            }
        }
    }
    return HWNAS_OK;
}
