/* Fuzz target: hardware templates (doc/formats/hardware-template.md). What
 * parses gives a space whose every genotype at the first values, at the
 * last values and at a few values in between either decodes to a
 * description that formats and parses back to the same hash, or fails with
 * HWNAS_EINVALID and a message; what does not parse fails with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accel/accel_internal.h"
#include "hwnas/hwnas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_point(const hwnas__template *t, const uint32_t *idx)
{
    hwnas_accel *a = NULL, *again = NULL;
    int rc = hwnas__template_instance(&a, t, idx);
    if (rc != HWNAS_OK) {
        if ((rc != HWNAS_EINVALID && rc != HWNAS_ENOMEM) || !*hwnas_error_last())
            abort();
        return;
    }
    char *text = NULL;
    if (hwnas_accel_format(a, &text) != HWNAS_OK ||
        hwnas_accel_parse(&again, t->ctx, text, "again", t->axmul_dir) != HWNAS_OK ||
        hwnas_accel_hash(again) != hwnas_accel_hash(a) || !(hwnas_accel_area_mm2(a) >= 0))
        abort();
    hwnas_free(text);
    hwnas_accel_free(again);
    hwnas_accel_free(a);
}

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
    hwnas__template *t = NULL;
    int rc = hwnas__template_parse(&t, ctx, text, "fuzz", NULL);
    if (rc == HWNAS_OK) {
        uint32_t idx[HWNAS__TP_MAX_PARAMS];
        for (uint32_t step = 0; step < 4; step++) {
            for (size_t i = 0; i < t->n_params; i++) {
                uint32_t n = (uint32_t)t->param[i].n;
                idx[i] = step == 0 ? 0 : step == 1 ? n - 1 : (uint32_t)(i * 7 + step) % n;
            }
            check_point(t, idx);
        }
    } else if (!*hwnas_error_last()) {
        abort();
    }
    hwnas__template_free(t);
    free(text);
    hwnas_context_free(ctx);
    return 0;
}
