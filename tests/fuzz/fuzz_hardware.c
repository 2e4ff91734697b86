/* Fuzz target: hardware descriptions (versions 1 and 2). What parses must
 * format and parse again to the same text, and map a small net to finite,
 * non-negative figures or fail with a message. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwnas/hwnas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char net_text[] = "hwnas-net 1\nx = input(shape=3x6x6)\nconv(out=4, k=3, s=2)\n"
                               "relu\nflatten\nlinear(out=3)\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    char *text = malloc(size + 1);
    if (!text) {
        hwnas_context_free(ctx);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = 0;
    hwnas_accel *a = NULL, *again = NULL;
    hwnas_net *net = NULL;
    if (hwnas_accel_parse(&a, ctx, text, "fuzz", NULL) == HWNAS_OK) {
        char *f1 = NULL, *f2 = NULL;
        if (hwnas_accel_format(a, &f1) != HWNAS_OK ||
            hwnas_accel_parse(&again, ctx, f1, "again", NULL) != HWNAS_OK ||
            hwnas_accel_format(again, &f2) != HWNAS_OK || strcmp(f1, f2) != 0)
            abort();
        if (!(hwnas_accel_area_mm2(a) >= 0))
            abort();
        hwnas_accel_result *r = NULL;
        if (hwnas_net_parse(&net, ctx, net_text, "net") == HWNAS_OK &&
            hwnas_accel_run(&r, a, net, "budget=8") == HWNAS_OK) {
            static const char *const m[] = {"energy_uj", "cycles", "dram_accesses",
                                            "utilisation"};
            for (size_t k = 0; k < 4; k++) {
                double v = -1;
                if (hwnas_accel_result_metric(&v, r, -1, m[k]) != HWNAS_OK || !isfinite(v) ||
                    v < 0)
                    abort();
            }
        } else if (!*hwnas_error_last()) {
            abort();
        }
        hwnas_accel_result_free(r);
        hwnas_free(f1);
        hwnas_free(f2);
    }
    hwnas_net_free(net);
    hwnas_accel_free(again);
    hwnas_accel_free(a);
    free(text);
    hwnas_context_free(ctx);
    return 0;
}
