/* Fuzz target for training checkpoints (doc/formats/train-checkpoint.md):
 * any bytes must parse (and then write back to the same bytes) or fail
 * with HWNAS_EFORMAT / HWNAS_EVERSION / HWNAS_ENOMEM and a message; never a
 * crash or a leak. The embedded weights file is the weights target's; here
 * it is carried through as bytes. The seed corpus holds a checkpoint of a
 * small net after one epoch of three, and the same cut short. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/model_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx = NULL;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas__tck t;
    int rc = hwnas__tck_from_bytes(&t, ctx, data, size, "fuzz");
    if (rc == HWNAS_OK) {
        uint8_t *out = NULL;
        size_t len = 0;
        if (hwnas__tck_to_bytes(&out, &len, ctx, &t) != HWNAS_OK || len != size ||
            memcmp(out, data, size) != 0)
            __builtin_trap();
        hwnas__free(ctx, out);
        hwnas__tck_release(ctx, &t);
    } else if ((rc != HWNAS_EFORMAT && rc != HWNAS_EVERSION && rc != HWNAS_ENOMEM) ||
               !hwnas_error_last()[0]) {
        __builtin_trap();
    }
    hwnas_context_free(ctx);
    return 0;
}
