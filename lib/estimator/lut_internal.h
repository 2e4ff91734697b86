/* libhwnas latency LUTs - shared between the table (latency_lut.c) and the
 * profiler (lut_build.c). Not installed. */
#ifndef HWNAS_LUT_INTERNAL_H
#define HWNAS_LUT_INTERNAL_H

#include "core/core_internal.h"
#include "hwnas/latency_lut.h"
#include "hwnas/net.h"

/* Add ms as one more measurement of key (running mean over occurrences). */
int hwnas__lut_add_sample(hwnas_latency_lut *lut, const char *key, double ms);

/* Record a net's residual (measured - sum of layers) and refit the
 * overhead as the median of all residuals. */
int hwnas__lut_add_residual(hwnas_latency_lut *lut, double ms);

/* The LUT's context (its allocator and threads). */
hwnas_context *hwnas__lut_context(const hwnas_latency_lut *lut);

/* The estimator:latency_lut kind (latency_lut.c). */
struct hwnas__estimator_impl;
extern const struct hwnas__estimator_impl hwnas__estimator_latency_lut_impl;

#endif
