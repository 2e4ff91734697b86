/* Fuzz target: the latency model text reader (which fits what it reads),
 * then formatting and re-reading what it accepted (which must give the
 * same text and, refitted, the same prediction, bit for bit), and
 * predicting a small net (a finite latency > 0). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hwnas/hwnas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *net_text = "hwnas-net 1\n"
                              "x = input(shape=1x28x28)\n"
                              "c = conv(out=16, k=3, pad=1)\n"
                              "b = bn\n"
                              "r = relu\n"
                              "p = maxpool(k=2)\n"
                              "f = flatten\n"
                              "fc = linear(out=10)\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas_latency_model *m;
    if (hwnas_latency_model_parse(&m, ctx, (const char *)data, size, "fuzz") == HWNAS_OK) {
        char *a = NULL, *b = NULL;
        hwnas_latency_model *again = NULL;
        if (hwnas_latency_model_format(m, &a) == HWNAS_OK &&
            hwnas_latency_model_parse(&again, ctx, a, strlen(a), "again") == HWNAS_OK &&
            hwnas_latency_model_format(again, &b) == HWNAS_OK && strcmp(a, b) != 0)
            abort();
        hwnas_net *net;
        if (hwnas_latency_model_count(m) >= 2 &&
            hwnas_net_parse(&net, ctx, net_text, NULL) == HWNAS_OK) {
            double x, y;
            if (hwnas_latency_model_predict(&x, m, net) == HWNAS_OK) {
                if (!(x > 0 && x - x == 0)) /* finite, without libm */
                    abort();
                if (again && (hwnas_latency_model_predict(&y, again, net) != HWNAS_OK || x != y))
                    abort();
            }
            hwnas_net_free(net);
        }
        hwnas_free(a);
        hwnas_free(b);
        hwnas_latency_model_free(again);
        hwnas_latency_model_free(m);
    }
    hwnas_context_free(ctx);
    return 0;
}
