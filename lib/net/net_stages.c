/*
 * libhwnas net - the stage list of a staged CNN, as its options write it.
 * space:macro and supernet:ofa build the same skeleton (stem, stages of
 * blocks, head) from the same three options; the list is parsed here, once,
 * so the two agree on its limits and its errors.
 */
#include "net_internal.h"

int hwnas__net_stages_parse(hwnas__net_stages *st, const char *who, const char *channels,
                            const char *strides, const char *widths)
{
    double v[HWNAS__NET_MAX_STAGES];
    size_t n = 0, m = 0;
    int rc = hwnas__options_number_list(who, "channels", channels, v, HWNAS__NET_MAX_STAGES, &n,
                                        1, 65536, 1);
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
        st->channels[i] = (int64_t)v[i];
    if (rc == HWNAS_OK)
        rc = hwnas__options_number_list(who, "strides", strides, v, HWNAS__NET_MAX_STAGES, &m, 1,
                                        2, 1);
    for (size_t i = 0; rc == HWNAS_OK && i < m; i++)
        st->strides[i] = (int64_t)v[i];
    if (rc == HWNAS_OK && m != n)
        rc = hwnas__error(HWNAS_EINVAL, "%s: options channels and strides list %zu and %zu "
                          "stages; they must match", who, n, m);
    st->n_stages = n;
    if (rc == HWNAS_OK)
        rc = hwnas__options_number_list(who, "widths", widths, st->widths, HWNAS__NET_MAX_WIDTHS,
                                        &st->n_widths, 0.01, 100, 0);
    for (size_t i = 1; rc == HWNAS_OK && i < st->n_widths; i++)
        if (st->widths[i] <= st->widths[i - 1])
            rc = hwnas__error(HWNAS_EINVAL, "%s: option widths = '%s' must be strictly "
                              "ascending", who, widths);
    return rc;
}
