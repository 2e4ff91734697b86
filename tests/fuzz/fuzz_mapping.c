/* Fuzz target: the one-line mapping text, on the built-in Eyeriss-like
 * array and a small convolution. What parses formats and parses again to
 * the same loops; what passes the check evaluates to finite, non-negative
 * counts. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        return 0;
    hwnas_accel *a = NULL;
    hwnas_net *net = NULL;
    char *text = malloc(size + 1);
    if (!text || hwnas_accel_parse(&a, ctx, hwnas__accel_builtin("eyeriss-45nm-int8"), "builtin",
                                   NULL) != HWNAS_OK ||
        hwnas_net_parse(&net, ctx,
                        "hwnas-net 1\nx = input(shape=8x12x12)\nc = conv(out=16, k=3, s=1)\n",
                        "net") != HWNAS_OK)
        goto done;
    memcpy(text, data, size);
    text[size] = 0;
    hwnas__problem p;
    hwnas__mapping m, m2;
    if (hwnas__problem_from_node(&p, net, 1, 2) != HWNAS_OK)
        abort();
    if (hwnas__mapping_parse(&m, a, text, "fuzz") != HWNAS_OK)
        goto done;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, ctx);
    hwnas__mapping_format(a, &m, &sb);
    if (sb.failed || hwnas__mapping_parse(&m2, a, sb.data, "again") != HWNAS_OK ||
        m2.n != m.n || memcmp(m2.keeps, m.keeps, sizeof m.keeps) != 0)
        abort();
    for (int k = 0; k < m.n; k++)
        if (m2.loop[k].dim != m.loop[k].dim || m2.loop[k].kind != m.loop[k].kind ||
            m2.loop[k].level != m.loop[k].level || m2.loop[k].bound != m.loop[k].bound)
            abort();
    hwnas__strbuf_release(&sb);
    if (hwnas__mapping_check(a, &p, &m) == HWNAS_OK) {
        hwnas__eval ev;
        hwnas__evaluate(a, &p, &m, &ev);
        if (!isfinite(ev.energy_pj) || ev.energy_pj <= 0 || !(ev.cycles >= 1))
            abort();
        for (int l = 0; l < a->n_levels; l++)
            for (int o = 0; o < HWNAS__NOPS; o++)
                if (!(ev.level[l].reads[o] >= 0) || !(ev.level[l].fills[o] >= 0) ||
                    !(ev.level[l].updates[o] >= 0))
                    abort();
    }
done:
    free(text);
    hwnas_net_free(net);
    hwnas_accel_free(a);
    hwnas_context_free(ctx);
    return 0;
}
