/*
 * Fuzz target: the multiplier text-format reader: any input must load or fail with HWNAS_EFORMAT or HWNAS_EVERSION
 * (never crash or leak). A table that loads must write back and reload to the
 * same content hash.
 */
#include <stdint.h>
#include <stdlib.h>

#include <hwnas/hwnas.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        abort();
    hwnas_axmul *m = NULL;
    int rc = hwnas_axmul_read(&m, ctx, data, size, "text", "fuzz.bin");
    if (rc == HWNAS_OK) {
        const char *formats[2] = {"text", hwnas_axmul_is_signed(m) ? "bin-signed" : "bin"};
        for (int i = 0; i < 2; i++) {
            void *out = NULL;
            size_t len = 0;
            hwnas_axmul *r = NULL;
            if (hwnas_axmul_write(m, formats[i], &out, &len) != HWNAS_OK ||
                hwnas_axmul_read(&r, ctx, out, len, formats[i], "again") != HWNAS_OK ||
                hwnas_axmul_hash(r) != hwnas_axmul_hash(m))
                abort();
            hwnas_axmul_free(r);
            hwnas_free(out);
        }
        hwnas_axmul_free(m);
    } else if (rc != HWNAS_EFORMAT && rc != HWNAS_EVERSION) {
        abort();
    }
    hwnas_context_free(ctx);
    return 0;
}
