/*
 * libhwnas engine - the reference backend ("openblas"): its entries, for
 * the table in backend.c and for backends that reuse some of them. Not
 * installed; not part of the ABI.
 */
#ifndef HWNAS_ENGINE_OPENBLAS_INTERNAL_H
#define HWNAS_ENGINE_OPENBLAS_INTERNAL_H

#include "backend.h"

/* openblas_conv.c */
size_t hwnas__ob_conv_scratch(const hwnas__be_conv *g, size_t batch_cap);
int hwnas__ob_conv_forward(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                           const hwnas__be_conv *g, const float *x, const float *w, float *y);
int hwnas__ob_conv_backward(const hwnas__be_run *r, hwnas__backend *be, void *layer,
                            const hwnas__be_conv *g, const float *x, const float *w,
                            const float *dy, float *dx, int acc, float *dwb);
int hwnas__ob_linear_forward(const hwnas__be_run *r, size_t f, size_t out, const float *x,
                             const float *w, const float *b, float *y);
int hwnas__ob_linear_backward(const hwnas__be_run *r, size_t f, size_t out, const float *x,
                              const float *w, const float *dy, float *dx, int acc, float *dw,
                              float *db);

/* openblas_ops.c */
int hwnas__ob_pool_forward(const hwnas__be_run *r, const hwnas__be_pool *g, const float *x,
                           float *y);
int hwnas__ob_pool_backward(const hwnas__be_run *r, const hwnas__be_pool *g, const float *x,
                            const float *dy, float *dx, int acc);
int hwnas__ob_bn_forward(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x, float *y,
                         const float *gb, float *running, float *aux);
int hwnas__ob_bn_backward(const hwnas__be_run *r, const hwnas__be_bn *g, const float *x,
                          const float *y, const float *dy, const float *gb, const float *aux,
                          float *dx, int acc, float *dgb);
int hwnas__ob_act_forward(const hwnas__be_run *r, const hwnas__be_act *g, const float *x,
                          float *y, const float *slope);
int hwnas__ob_act_backward(const hwnas__be_run *r, const hwnas__be_act *g, const float *x,
                           const float *y, const float *dy, const float *slope, float *dx,
                           int acc, float *dslope);

#endif /* HWNAS_ENGINE_OPENBLAS_INTERNAL_H */
