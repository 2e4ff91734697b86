/*
 * Fuzz target: rank 0's reader of a worker's RESULT message
 * (lib/mpi/message.c). The first byte picks the number of metrics (0-7),
 * the rest is the message. Any input parses with every pointer and length
 * inside the message, or fails with a message; never reads past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "mpi/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n_metrics = data[0] % 8;
    /* A copy of exactly the message's size, so that ASan sees any overread. */
    size_t len = size - 1;
    unsigned char *b = malloc(len ? len : 1);
    if (!b)
        return 0;
    memcpy(b, data + 1, len);
    hwnas__mpi_result r;
    if (hwnas__mpi_result_parse(b, len, n_metrics, 1, &r) == HWNAS_OK) {
        const unsigned char *end = b + len;
        if (r.failed != 0 && r.failed != 1)
            abort();
        if (r.metrics + 8 * n_metrics > end || (const unsigned char *)r.error + r.error_len > end ||
            (const unsigned char *)r.net + r.net_len != end)
            abort();
        double sum = 0, v;
        for (size_t m = 0; m < n_metrics; m++) {
            memcpy(&v, r.metrics + 8 * m, 8);
            sum += v;
        }
        volatile size_t touch = r.error_len ? (unsigned char)r.error[r.error_len - 1] : 0;
        touch += r.net_len ? (unsigned char)r.net[r.net_len - 1] : 0;
        (void)touch;
        (void)sum;
    } else if (strstr(hwnas_error_last(), "rank 1") == NULL && strstr(hwnas_error_last(), "metrics") == NULL) {
        abort(); /* the message names the rank */
    }
    free(b);
    return 0;
}
