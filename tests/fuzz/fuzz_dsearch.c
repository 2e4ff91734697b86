/* Fuzz target for dsearch checkpoints (doc/dsearch.md): any bytes must
 * read or fail with HWNAS_EFORMAT / HWNAS_EVERSION / HWNAS_ENOMEM and a
 * message; a checkpoint that reads writes back to the same bytes. The
 * seed corpus holds a tiny search's checkpoint (inflated). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dsearch/dsearch_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx = NULL;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas__ds_config c;
    if (hwnas__ds_read_config(&c, ctx, NULL) != HWNAS_OK)
        __builtin_trap();
    hwnas__ds_run *r = NULL;
    int rc = hwnas__ds_from_bytes(&r, ctx, &c, data, size, NULL, "fuzz");
    if (rc == HWNAS_OK) {
        /* the options text sits after the magic and version */
        uint64_t tl = 0;
        memcpy(&tl, data + 12, 8);
        char text[4096] = "";
        if (tl < sizeof text) {
            memcpy(text, data + 20, tl);
            text[tl] = 0;
        }
        uint8_t *out = NULL;
        size_t len = 0;
        if (tl < sizeof text && strlen(text) == tl) {
            if (hwnas__ds_to_bytes(&out, &len, r, text) != HWNAS_OK || len != size ||
                memcmp(out, data, size) != 0)
                __builtin_trap();
        }
        hwnas__free(ctx, out);
    } else if ((rc != HWNAS_EFORMAT && rc != HWNAS_EVERSION && rc != HWNAS_ENOMEM) ||
               !hwnas_error_last()[0]) {
        __builtin_trap();
    }
    hwnas__ds_run_free(r);
    hwnas_context_free(ctx);
    return 0;
}
