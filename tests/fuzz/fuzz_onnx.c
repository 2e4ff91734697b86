/* Fuzz target for ONNX files (hwnas_onnx_import): any bytes must import or
 * fail with HWNAS_EFORMAT / HWNAS_EUNSUPPORTED and a message naming the
 * file; never a crash or a leak. What imports must export and import back
 * to an equal net with the same weights. Seeds in corpus/onnx/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hwnas/hwnas.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx = NULL;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas_net *net = NULL;
    hwnas_model *m = NULL;
    int rc = hwnas_onnx_import(&net, &m, ctx, data, size, "fuzz.onnx");
    if (rc == HWNAS_OK) {
        uint8_t *out = NULL;
        size_t len = 0;
        hwnas_net *back = NULL;
        hwnas_model *mback = NULL;
        if (hwnas_onnx_export(&out, &len, net, m) != HWNAS_OK ||
            hwnas_onnx_import(&back, &mback, ctx, out, len, "again.onnx") != HWNAS_OK ||
            !hwnas_net_equal(back, net) || (m == NULL) != (mback == NULL))
            __builtin_trap();
        if (m) {
            uint8_t *w1 = NULL, *w2 = NULL;
            size_t l1 = 0, l2 = 0;
            if (hwnas_model_save_buffer(&w1, &l1, m) != HWNAS_OK ||
                hwnas_model_save_buffer(&w2, &l2, mback) != HWNAS_OK || l1 != l2 ||
                memcmp(w1, w2, l1) != 0)
                __builtin_trap();
            hwnas_free(w1);
            hwnas_free(w2);
        }
        hwnas_free(out);
        hwnas_model_free(mback);
        hwnas_net_free(back);
    } else if ((rc != HWNAS_EFORMAT && rc != HWNAS_EUNSUPPORTED) ||
               !strstr(hwnas_error_last(), "fuzz.onnx")) {
        __builtin_trap();
    }
    hwnas_model_free(m);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
    return 0;
}
