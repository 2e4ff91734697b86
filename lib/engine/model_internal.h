/*
 * libhwnas engine - the model's layout, shared by model.c and weights.c
 * (and by the accuracy estimator). Not installed; not part of the ABI.
 */
#ifndef HWNAS_MODEL_INTERNAL_H
#define HWNAS_MODEL_INTERNAL_H

#include "engine_internal.h"
#include "hwnas/model.h"

struct hwnas_model {
    hwnas_context *ctx;       /* allocator owner */
    hwnas_net *net;           /* the model's own copy */
    hwnas__engine *eng;       /* compiled from net, owns the weights */
    double train_loss;        /* last epoch's mean loss, NaN before */
    double train_acc;         /* last epoch's accuracy, NaN before */
};

/* The option table of the "model" kind (register it in lib/kinds.c). */
extern const hwnas__kind hwnas__model_kind;

#endif /* HWNAS_MODEL_INTERNAL_H */
