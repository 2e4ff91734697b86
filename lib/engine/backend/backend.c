/* The backends' table of the reference ("openblas"), the choice of a
 * backend by the context's engine option, and what backends share. */
#include <string.h>

#include "openblas_internal.h"

const hwnas__backend_ops hwnas__backend_openblas = {
    .name = "openblas",
    .conv_scratch = hwnas__ob_conv_scratch,
    .conv_forward = hwnas__ob_conv_forward,
    .conv_backward = hwnas__ob_conv_backward,
    .linear_forward = hwnas__ob_linear_forward,
    .linear_backward = hwnas__ob_linear_backward,
    .pool_forward = hwnas__ob_pool_forward,
    .pool_backward = hwnas__ob_pool_backward,
    .bn_forward = hwnas__ob_bn_forward,
    .bn_backward = hwnas__ob_bn_backward,
    .act_forward = hwnas__ob_act_forward,
    .act_backward = hwnas__ob_act_backward,
};

void hwnas__be_reduce_partials(float *grads, const hwnas__be_run *r, size_t n, size_t chunks)
{
    memcpy(grads, r->partial, n * sizeof(float));
    for (size_t c = 1; c < chunks; c++) {
        const float *p = r->partial + c * r->partial_stride;
        for (size_t k = 0; k < n; k++)
            grads[k] += p[k];
    }
}

/* The values of the context option engine, in its enum's order. */
enum { ENGINE_AUTO = 0, ENGINE_OPENBLAS = 1, ENGINE_ONEDNN = 2 };

int hwnas__backend_pick(const hwnas__backend_ops **out, const hwnas_context *ctx)
{
    int64_t v = ENGINE_AUTO;
    if (hwnas_options_get_int(hwnas_context_options(ctx), "engine", &v) != HWNAS_OK)
        v = ENGINE_AUTO;
    const hwnas__backend_ops *dnnl = hwnas__backend_onednn();
    *out = &hwnas__backend_openblas;
    if (v == ENGINE_ONEDNN && !dnnl)
        return hwnas__error(HWNAS_EUNSUPPORTED, "engine: engine=onednn, but this libhwnas was "
                            "built without oneDNN (meson feature onednn; Debian libdnnl-dev)");
    if (v == ENGINE_ONEDNN || (v == ENGINE_AUTO && dnnl))
        *out = dnnl;
    return HWNAS_OK;
}
