/*
 * libhwnas engine - zero-cost proxies: scores of an untrained network from
 * one minibatch at initialisation (Abdelfattah et al., "Zero-Cost Proxies
 * for Lightweight NAS", ICLR 2021; Mellor et al., "Neural Architecture
 * Search without Training", ICML 2021). Not installed; not part of the ABI.
 * Definitions and their deviations from the papers: doc/zero-cost.md.
 *
 * "Weights" below are those of the convolution (dense and depthwise) and
 * linear nodes, without biases: the layers the papers' code scores.
 */
#ifndef HWNAS_ZERO_COST_H
#define HWNAS_ZERO_COST_H

#include <stddef.h>
#include <stdint.h>

#include "engine_internal.h"

enum {
    HWNAS__ZC_GRAD_NORM, /* sum over layers of ||dL/dW||_2 */
    HWNAS__ZC_SNIP,      /* sum |dL/dw * w| */
    HWNAS__ZC_GRASP,     /* -sum (H g) * w, H g by a central difference of gradients */
    HWNAS__ZC_SYNFLOW,   /* sum dR/dw * w, |weights|, batch-norm on running stats, input 1 */
    HWNAS__ZC_JACOB_COV, /* -sum log(l + k) + 1 / (l + k) over the input-gradient correlations */
    HWNAS__ZC_NASWOT,    /* log det of the Hamming kernel of the ReLU codes */
    HWNAS__ZC_NASWOT_PWL, /* the same over relu, relu6, leaky_relu and prelu codes */
    HWNAS__ZC_COUNT
};

/* The proxies' names, as metrics: "grad_norm", "snip", ..., "naswot_pwl". */
extern const char *const hwnas__zc_names[HWNAS__ZC_COUNT];

/* Compute the proxies whose bits (1u << HWNAS__ZC_*) are set in which, on
 * the minibatch x (n samples, n >= 2) with labels (class indices into the
 * logits), into out[HWNAS__ZC_*] (others left as they are). Training-mode
 * passes use dropout stream step. e keeps its parameters and running
 * statistics (they are restored after the absolute-value pass); it must
 * hold buffers for n samples (hwnas__engine_reserve). Same inputs, same
 * results at any thread count. Errors (the message names the proxy):
 * HWNAS_EINVAL (a label out of range; a proxy that is not finite; a
 * correlation or kernel matrix that is singular), HWNAS_ENOMEM, the
 * engine's. */
int hwnas__zero_cost(double *out, hwnas__engine *e, const float *x, const int32_t *labels,
                     size_t n, unsigned which, uint64_t step);

#endif /* HWNAS_ZERO_COST_H */
