/*
 * libhwnas engine - the model's layout, shared by model.c and weights.c
 * (and by the accuracy estimator). Not installed; not part of the ABI.
 */
#ifndef HWNAS_MODEL_INTERNAL_H
#define HWNAS_MODEL_INTERNAL_H

#include "engine_internal.h"
#include "hwnas/data.h"
#include "hwnas/model.h"

struct hwnas_model {
    hwnas_context *ctx;       /* allocator owner */
    hwnas_net *net;           /* the model's own copy */
    hwnas__engine *eng;       /* compiled from net, owns the weights */
    double train_loss;        /* last epoch's mean loss, NaN before */
    double train_acc;         /* last epoch's accuracy, NaN before */
};

/* A training run's recipe (the options of hwnas_model_train; fine-tuning
 * uses a subset). */
typedef struct hwnas__train_recipe {
    int64_t epochs, batch, schedule, step_epochs, augment, crop_pad, seed;
    double lr, momentum, weight_decay, warmup, gamma, smoothing, flip;
    int nesterov;
} hwnas__train_recipe;

/* The passes a training run drives: forward a batch in training mode
 * (leaving the logits in e), then backward from the loss gradient (leaving
 * the gradients in e->grads). who names the public function in messages. */
typedef struct hwnas__train_passes {
    const char *who;
    int (*forward)(void *ud, const float *images, size_t n, uint64_t step);
    int (*backward)(void *ud, const float *dlogits);
    void *ud;
} hwnas__train_passes;

/* The epoch loop of hwnas_model_train and hwnas_quant_finetune: shuffle,
 * batch (with augmentation), forward, loss, backward, SGD on e's
 * parameters under the recipe's schedule, progress callbacks; the last
 * epoch's loss and accuracy go to model. e must hold room for a batch of
 * min(batch, count) samples. Errors: HWNAS_EINVAL (diverged),
 * HWNAS_EUSER (cb stopped it), HWNAS_ENOMEM, a pass's error. */
int hwnas__train_epochs(hwnas_model *model, hwnas__engine *e, const hwnas_dataset *ds,
                        const hwnas__train_recipe *r, const hwnas__train_passes *p,
                        hwnas_model_progress_cb cb, void *user_data);

/* The inference loop of hwnas_model_evaluate and hwnas_quant_evaluate: ds
 * in order, in batches of bs (e holds room for them), through forward
 * (inference mode, leaving the logits in e); accuracy (top-1), mean
 * cross-entropy and the classes x classes confusion counts, each output
 * optional (NULL). Errors: HWNAS_ENOMEM, forward's. */
int hwnas__evaluate_batches(double *out_accuracy, double *out_loss, int64_t *out_confusion,
                            const hwnas_context *ctx, hwnas__engine *e, const hwnas_dataset *ds,
                            size_t bs, int (*forward)(void *ud, const float *images, size_t n),
                            void *ud);

/* The option table of the "model" kind (register it in lib/kinds.c). */
extern const hwnas__kind hwnas__model_kind;

#endif /* HWNAS_MODEL_INTERNAL_H */
