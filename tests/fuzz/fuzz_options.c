/*
 * Fuzz target: the named-option parser. Any input must parse or fail with
 * HWNAS_EINVAL (never crash or leak); a successful parse must format to a
 * string that parses back to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

static const hwnas__option_spec specs[] = {
    {"n", HWNAS_OPTION_INT, "1", -1000, 1000, NULL, "an int"},
    {"x", HWNAS_OPTION_FLOAT, "0.5", -1e300, 1e300, NULL, "a float"},
    {"b", HWNAS_OPTION_BOOL, "false", 0, 0, NULL, "a bool"},
    {"e", HWNAS_OPTION_ENUM, "a", 0, 0, "a|bb|ccc", "an enum"},
    {"s", HWNAS_OPTION_STRING, "", 0, 0, NULL, "a string"},
};
static const hwnas__kind kind = {"fuzz:options", specs, 5, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        abort();
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &kind, text);
    if (rc == HWNAS_OK) {
        char *fmt = NULL;
        if (hwnas_options_format(o, 0, &fmt) != HWNAS_OK)
            abort();
        hwnas_options *p = NULL;
        if (hwnas__options_new_kind(&p, ctx, &kind, fmt) != HWNAS_OK)
            abort();
        for (size_t i = 0; i < hwnas_options_count(o); i++)
            if (strcmp(hwnas_options_value(o, i), hwnas_options_value(p, i)) != 0)
                abort();
        hwnas_free(fmt);
        hwnas_options_free(p);
        hwnas_options_free(o);
    } else if (rc != HWNAS_EINVAL || hwnas_error_last()[0] == '\0') {
        abort();
    }
    free(text);
    hwnas_context_free(ctx);
    return 0;
}
