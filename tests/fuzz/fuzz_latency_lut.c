/* Fuzz target: the latency LUT text reader, then formatting and re-reading
 * what it accepted (which must give the same text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwnas/hwnas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas_latency_lut *lut;
    if (hwnas_latency_lut_parse(&lut, ctx, (const char *)data, size, "fuzz") == HWNAS_OK) {
        char *a = NULL, *b = NULL;
        hwnas_latency_lut *again = NULL;
        if (hwnas_latency_lut_format(lut, &a) == HWNAS_OK &&
            hwnas_latency_lut_parse(&again, ctx, a, strlen(a), "again") == HWNAS_OK &&
            hwnas_latency_lut_format(again, &b) == HWNAS_OK && strcmp(a, b) != 0)
            abort();
        hwnas_free(a);
        hwnas_free(b);
        hwnas_latency_lut_free(again);
        hwnas_latency_lut_free(lut);
    }
    hwnas_context_free(ctx);
    return 0;
}
