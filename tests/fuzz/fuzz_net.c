/* Fuzz target for the net text spec: parse arbitrary bytes; when they
 * parse, format the net, parse the text again and check the round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hwnas/hwnas.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hwnas_context *ctx;
    if (!ctx && hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    if (size > (1u << 20))
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    hwnas_net *net = NULL;
    if (hwnas_net_parse(&net, ctx, text, "fuzz.net") == HWNAS_OK) {
        char *out = NULL;
        if (hwnas_net_format(net, &out) != HWNAS_OK)
            abort();
        hwnas_net *back = NULL;
        if (hwnas_net_parse(&back, ctx, out, "formatted") != HWNAS_OK ||
            !hwnas_net_equal(net, back) || hwnas_net_hash(net) != hwnas_net_hash(back) ||
            hwnas_net_macs(net) != hwnas_net_macs(back))
            abort();
        (void)hwnas_net_peak_activations(net);
        hwnas_net_free(back);
        hwnas_free(out);
        hwnas_net_free(net);
    }
    free(text);
    return 0;
}
