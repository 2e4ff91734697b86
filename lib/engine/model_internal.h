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

/* A run resumed and checkpointed (hwnas_model_train_checkpoint): the epoch
 * loop starts at epoch `start` with the momentum buffers `velocity` (NULL:
 * zeros) and calls save after each epoch, before the progress callback
 * hears of it; a save error ends the run with that error. */
typedef struct hwnas__train_resume {
    int64_t start;
    const float *velocity;
    int (*save)(void *ud, int64_t epochs_done, const float *velocity);
    void *ud;
} hwnas__train_resume;

/* The epoch loop of hwnas_model_train and hwnas_quant_finetune: shuffle,
 * batch (with augmentation), forward, loss, backward, SGD on e's
 * parameters under the recipe's schedule, progress callbacks; the last
 * epoch's loss and accuracy go to model. Every epoch and step is a
 * function of the recipe's seed and its own number, so a run resumed at an
 * epoch (resume, may be NULL) gives the bits of an uninterrupted one. e
 * must hold room for a batch of min(batch, count) samples. Errors:
 * HWNAS_EINVAL (diverged), HWNAS_EUSER (cb stopped it), HWNAS_ENOMEM, a
 * pass's or the save's error. */
int hwnas__train_epochs(hwnas_model *model, hwnas__engine *e, const hwnas_dataset *ds,
                        const hwnas__train_recipe *r, const hwnas__train_passes *p,
                        const hwnas__train_resume *resume, hwnas_model_progress_cb cb,
                        void *user_data);

/* How a checkpointed run starts: begin reads the checkpoint (or finds
 * none) once the options and dataset are checked and the engine reserved,
 * filling resume (start 0 and no velocity for a fresh run) and setting
 * *over when the checkpoint holds the finished run (its weights are then
 * the model's). */
typedef struct hwnas__train_start {
    int (*begin)(void *ud, hwnas__train_resume *resume, int *over,
                 const hwnas__train_recipe *r, int64_t init, const hwnas_dataset *ds);
    void *ud;
} hwnas__train_start;

/* hwnas_model_train, and with start hwnas_model_train_checkpoint. */
int hwnas__model_train_from(hwnas_model *model, const hwnas_dataset *ds, const char *options,
                            hwnas__train_start *start, hwnas_model_progress_cb cb,
                            void *user_data);

/* ---- training checkpoints (train_checkpoint.c, doc/formats/train-checkpoint.md) */

typedef struct hwnas__tck {
    uint64_t net_hash;        /* hwnas_net_hash of the model's net */
    uint64_t count, sample_size, data_hash; /* the dataset (data_hash in the .c) */
    hwnas__train_recipe r;
    int64_t init;
    int64_t done;             /* epochs finished, 1 .. r.epochs */
    double loss, acc;         /* of epoch done - 1 */
    const uint8_t *weights;   /* an embedded weights file, borrowed from the bytes */
    size_t weights_len;
    float *velocity;          /* n_params momentum buffers, owned (hwnas__tck_release) */
    size_t n_params;
} hwnas__tck;

/* Parse a checkpoint's (uncompressed) bytes; name labels messages. The
 * weights stay in b. Errors: HWNAS_EFORMAT, HWNAS_EVERSION, HWNAS_ENOMEM. */
int hwnas__tck_from_bytes(hwnas__tck *t, const hwnas_context *ctx, const uint8_t *b,
                          size_t len, const char *name);
/* Its bytes (hwnas__free them). Errors: HWNAS_ENOMEM. */
int hwnas__tck_to_bytes(uint8_t **out, size_t *len, const hwnas_context *ctx,
                        const hwnas__tck *t);
void hwnas__tck_release(const hwnas_context *ctx, hwnas__tck *t);

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
