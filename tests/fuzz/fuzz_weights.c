/* Fuzz target for weights files (hwnas_model_load_buffer): any bytes must
 * load (and then save back to the same bytes) or fail with HWNAS_EFORMAT /
 * HWNAS_EVERSION and a message; never a crash or a leak. The net is fixed:
 * the seed corpus holds weights saved from it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hwnas/hwnas.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *spec = "hwnas-net 1\nx = input(shape=1x4x4)\nconv(out=2, k=3, pad=1)\nbn\n"
                          "prelu\ngap\nlinear(out=3)\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx = NULL;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas_net *net = NULL;
    hwnas_model *m = NULL;
    if (hwnas_net_parse(&net, ctx, spec, "fuzz") != HWNAS_OK ||
        hwnas_model_new(&m, ctx, net, 1) != HWNAS_OK)
        __builtin_trap();
    int rc = hwnas_model_load_buffer(m, data, size, "fuzz");
    if (rc == HWNAS_OK) {
        uint8_t *out = NULL;
        size_t len = 0;
        if (hwnas_model_save_buffer(&out, &len, m) != HWNAS_OK || len != size ||
            memcmp(out, data, size) != 0)
            __builtin_trap();
        hwnas_free(out);
    } else if ((rc != HWNAS_EFORMAT && rc != HWNAS_EVERSION) || !hwnas_error_last()[0]) {
        __builtin_trap();
    }
    hwnas_model_free(m);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
    return 0;
}
