/*
 * Hardware description version 1: the quick formula's parameters
 * (doc/formats/hardware.md). estimator:energy prices with them; the
 * accelerator model turns them into a three-level array.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>

#include "accel_internal.h"

const hwnas__hw_v1 hwnas__hw_v1_defaults = {
    0.2, 0.03, 0.1, 3.7, 0.9, 3.2, 1, 2, 6, 200, 12, 14, 108, 224,
};

static const struct {
    const char *key;
    size_t offset;
} hw_keys[] = {
#define K(name) {#name, offsetof(hwnas__hw_v1, name)}
    K(mul_int8_pj), K(add_int8_pj), K(add_int32_pj), K(mul_fp32_pj), K(add_fp32_pj),
    K(access_unit_pj), K(norm_rf), K(norm_array), K(norm_gb), K(norm_dram), K(pe_rows),
    K(pe_cols), K(gb_kib), K(rf_words),
#undef K
};

/* Parse "hwnas-hw 1" then "key = value" lines; '#' starts a comment. */
int hwnas__hw_v1_parse(const char *text, const char *name, hwnas__hw_v1 *out)
{
    hwnas__hw_v1 hw = hwnas__hw_v1_defaults;
    const char *p = text;
    size_t line = 0;
    int header = 0;
    while (*p) {
        line++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char buf[256];
        if (len >= sizeof buf)
            return hwnas__error(HWNAS_EFORMAT, "%s:%zu: line too long", name, line);
        memcpy(buf, p, len);
        buf[len] = 0;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        char *s = buf;
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        char *end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = 0;
        p = eol ? eol + 1 : p + len;
        if (!*s)
            continue;
        if (!header) {
            if (strcmp(s, "hwnas-hw 1") != 0)
                return hwnas__error(strncmp(s, "hwnas-hw ", 9) == 0 ? HWNAS_EVERSION
                                                                     : HWNAS_EFORMAT,
                                    "%s:%zu: expected the header 'hwnas-hw 1', found '%s'", name,
                                    line, s);
            header = 1;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            return hwnas__error(HWNAS_EFORMAT, "%s:%zu: expected 'key = value'", name, line);
        char *kend = eq;
        while (kend > s && (kend[-1] == ' ' || kend[-1] == '\t'))
            kend--;
        *kend = 0;
        char *v = eq + 1, *vend;
        double x = strtod(v, &vend);
        while (*vend == ' ' || *vend == '\t')
            vend++;
        if (vend == v || *vend || !isfinite(x) || x < 0)
            return hwnas__error(HWNAS_EFORMAT, "%s:%zu: %s = '%s' is not a non-negative number",
                                name, line, s, v);
        size_t k = 0;
        while (k < HWNAS_ARRAY_SIZE(hw_keys) && strcmp(hw_keys[k].key, s) != 0)
            k++;
        if (k == HWNAS_ARRAY_SIZE(hw_keys))
            return hwnas__error(HWNAS_EFORMAT, "%s:%zu: unknown key '%s' (doc/formats/hardware.md "
                                               "lists them)",
                                name, line, s);
        *(double *)(void *)((char *)&hw + hw_keys[k].offset) = x;
    }
    if (!header)
        return hwnas__error(HWNAS_EFORMAT, "%s: empty file (expected 'hwnas-hw 1')", name);
    /* Whole counts in a range where products stay exact integers. */
    const double counts[3] = {hw.pe_rows, hw.pe_cols, hw.rf_words};
    for (int i = 0; i < 3; i++)
        if (counts[i] < 1 || counts[i] > 1e6 || counts[i] != floor(counts[i]))
            return hwnas__error(HWNAS_EFORMAT, "%s: pe_rows, pe_cols and rf_words must be whole "
                                               "numbers in [1, 1e6]",
                                name);
    if (hw.gb_kib <= 0 || hw.gb_kib > 1e9)
        return hwnas__error(HWNAS_EFORMAT, "%s: gb_kib must be in (0, 1e9]", name);
    *out = hw;
    return HWNAS_OK;
}
