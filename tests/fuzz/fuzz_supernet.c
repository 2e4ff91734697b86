/* Fuzz target for supernet files (doc/formats/supernet.md): any bytes must
 * read (and then write back to the same bytes; a version 1 file writes as
 * version 2, which reads back to the same) or fail with HWNAS_EFORMAT /
 * HWNAS_EVERSION and a message; never a crash or a leak. The seed corpus
 * holds tiny cell and macro supernets before and after training, and the
 * first 4 KiB of a one-node CGP supernet (its options, normalisation and
 * the head of its weights: a whole one is 5 MB). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supernet/supernet_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx = NULL;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas_supernet *sn = NULL;
    int rc = hwnas__sn_from_bytes(&sn, ctx, data, size, "fuzz");
    if (rc == HWNAS_OK) {
        uint8_t *out = NULL;
        size_t len = 0;
        if (hwnas__sn_to_bytes(&out, &len, sn) != HWNAS_OK)
            __builtin_trap();
        if (data[8] != 1 && (len != size || memcmp(out, data, size) != 0))
            __builtin_trap();
        if (data[8] == 1) {
            hwnas_supernet *again = NULL;
            uint8_t *out2 = NULL;
            size_t len2 = 0;
            if (hwnas__sn_from_bytes(&again, ctx, out, len, "fuzz") != HWNAS_OK ||
                hwnas__sn_to_bytes(&out2, &len2, again) != HWNAS_OK || len2 != len ||
                memcmp(out2, out, len) != 0)
                __builtin_trap();
            hwnas__free(ctx, out2);
            hwnas_supernet_free(again);
        }
        hwnas__free(ctx, out);
    } else if ((rc != HWNAS_EFORMAT && rc != HWNAS_EVERSION && rc != HWNAS_ENOMEM) ||
               !hwnas_error_last()[0]) {
        __builtin_trap();
    }
    hwnas_supernet_free(sn);
    hwnas_context_free(ctx);
    return 0;
}
