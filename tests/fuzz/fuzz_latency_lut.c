/* Fuzz target: the latency LUT text reader, then formatting and re-reading
 * what it accepted (which must give the same text), and predicting a small
 * net from it in every missing mode (prediction once overflowed on
 * entries of 1e308: the seeds hold such values). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwnas/hwnas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Layers whose keys the seeds (corpus/latency_lut) name. */
static const char *net_text = "hwnas-net 1\n"
                              "x = input(shape=1x28x28)\n"
                              "c = conv(out=16, k=3, pad=1, bits=8)\n"
                              "p = maxpool(k=2)\n"
                              "b = bn\n"
                              "r = relu\n"
                              "z = zero\n"
                              "f = flatten\n"
                              "fc = linear(out=10)\n";

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
        hwnas_net *net;
        if (hwnas_net_parse(&net, ctx, net_text, NULL) == HWNAS_OK) {
            for (int missing = 0; missing <= 3; missing++) {
                double ms;
                if (hwnas_latency_lut_predict(&ms, lut, net, missing) == HWNAS_OK &&
                    !(ms == ms && ms - ms == 0)) /* finite, without libm */
                    abort();
            }
            hwnas_net_free(net);
        }
        hwnas_free(a);
        hwnas_free(b);
        hwnas_latency_lut_free(again);
        hwnas_latency_lut_free(lut);
    }
    hwnas_context_free(ctx);
    return 0;
}
