/*
 * Fuzz target: loading a saved strategy state. The first byte picks the
 * strategy (kind and options); the rest is the state, whose trailing
 * checksum is recomputed so that mutated inputs reach the parser. Loading
 * must succeed or fail with HWNAS_EFORMAT / HWNAS_EVERSION (never crash or
 * leak); a loaded state must then work: ask, tell and save again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strategy/strategy_internal.h"

static const char *const cases[][2] = {
    {"random", "seed=3"},
    {"nsga2", "seed=3;population=6"},
    {"ea", "seed=3;mode=one_plus_lambda;lambda=3"},
    {"ea", "seed=3;mode=regularized;population=5;sample=2"},
    {"reinforce", "seed=3"},
    {"reinforce", "seed=3;controller=lstm;hidden=4"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t c = data[0] % N_CASES;
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        abort();
    hwnas_space *cell;
    hwnas_strategy *s;
    if (hwnas_space_new(&cell, ctx, "cell", NULL) != HWNAS_OK ||
        hwnas_strategy_new(&s, ctx, cases[c][0], cases[c][1], cell, 2) != HWNAS_OK)
        abort();
    uint8_t *state = malloc(size);
    if (!state)
        abort();
    memcpy(state, data + 1, size - 1);
    hwnas__strategy_fix_checksum(state, size - 1);
    int rc = hwnas_strategy_load(s, state, size - 1);
    if (rc == HWNAS_OK) {
        for (int round = 0; round < 4; round++) {
            uint32_t g[5 * 6];
            uint64_t ids[5];
            double o[5 * 2];
            size_t n;
            if (hwnas_strategy_ask(s, 5, g, ids, &n) != HWNAS_OK)
                abort();
            for (size_t k = 0; k < n; k++) {
                if (hwnas_space_check(cell, g + 6 * k) != HWNAS_OK)
                    abort();
                o[2 * k] = g[6 * k];
                o[2 * k + 1] = -(double)g[6 * k + 1];
            }
            if (hwnas_strategy_tell(s, n, ids, o, NULL, NULL) != HWNAS_OK)
                abort();
        }
        uint8_t *out;
        size_t len;
        if (hwnas_strategy_save(s, &out, &len) != HWNAS_OK)
            abort();
        hwnas_free(out);
    } else if ((rc != HWNAS_EFORMAT && rc != HWNAS_EVERSION) || hwnas_error_last()[0] == '\0') {
        abort();
    }
    free(state);
    hwnas_strategy_free(s);
    hwnas_space_free(cell);
    hwnas_context_free(ctx);
    return 0;
}
