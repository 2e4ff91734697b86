/* A build configured with -Donnx=disabled: the ONNX functions exist (the
 * ABI does not depend on the configuration) and say that they are not
 * built. */
#include "core/core_internal.h"
#include "hwnas/onnx.h"

static int absent(const char *who)
{
    return hwnas__error(HWNAS_EUNSUPPORTED, "%s: this libhwnas was built without ONNX support "
                        "(meson -Donnx=disabled)", who);
}

int hwnas_onnx_available(void)
{
    return 0;
}

int hwnas_onnx_import(struct hwnas_net **out_net, struct hwnas_model **out_model,
                      hwnas_context *ctx, const void *data, size_t len, const char *name)
{
    if (out_net)
        *out_net = NULL;
    if (out_model)
        *out_model = NULL;
    return absent("hwnas_onnx_import");
}

int hwnas_onnx_load(struct hwnas_net **out_net, struct hwnas_model **out_model,
                    hwnas_context *ctx, const char *path)
{
    if (out_net)
        *out_net = NULL;
    if (out_model)
        *out_model = NULL;
    return absent("hwnas_onnx_load");
}

int hwnas_onnx_export(uint8_t **out, size_t *out_len, const struct hwnas_net *net,
                      const struct hwnas_model *model)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    return absent("hwnas_onnx_export");
}

int hwnas_onnx_save(const struct hwnas_net *net, const struct hwnas_model *model,
                    const char *path)
{
    return absent("hwnas_onnx_save");
}
