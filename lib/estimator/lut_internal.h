/* libhwnas latency LUTs - shared between the table (latency_lut.c) and the
 * profiler (lut_build.c). Not installed. */
#ifndef HWNAS_LUT_INTERNAL_H
#define HWNAS_LUT_INTERNAL_H

#include "core/core_internal.h"
#include "hwnas/latency_lut.h"
#include "hwnas/net.h"

/* Add ms as one more measurement of key; the entry's latency becomes the
 * median of its measurements (a value set or read before counts as one). */
int hwnas__lut_add_sample(hwnas_latency_lut *lut, const char *key, double ms);

/* The key of the layer the fp32 engine runs at node i of net: the node's
 * key, plus act=relu|relu6 for a batch-norm the engine fuses with its only
 * consumer, that activation, plus ctx=ctx when ctx >= 0. *out is NULL (and
 * HWNAS_OK) for such a fused activation, which runs inside its
 * batch-norm's layer; else the caller's (hwnas_free). Errors:
 * HWNAS_ENOMEM. */
int hwnas__lut_run_key(char **out, const hwnas_net *net, size_t i, int ctx);

/* The context class (ctx= in keys) of a net whose forward pass takes ms:
 * round(x), x = 2 log2(ms * 1000); and x itself, which prediction
 * interpolates in between the classes the LUT has for a layer. */
int hwnas__lut_ctx_class(double ms);
double hwnas__lut_ctx_x(double ms);

/* Record a net's residual (measured - sum of layers) and refit the
 * overhead as the median of all residuals. */
int hwnas__lut_add_residual(hwnas_latency_lut *lut, double ms);

/* The LUT's context (its allocator and threads). */
hwnas_context *hwnas__lut_context(const hwnas_latency_lut *lut);

/* The estimator:latency_lut kind (latency_lut.c). */
struct hwnas__estimator_impl;
extern const struct hwnas__estimator_impl hwnas__estimator_latency_lut_impl;

#endif
