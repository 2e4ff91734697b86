/* Reading a worker's RESULT message: every length checked against the
 * bytes received, since a worker of another build (or a damaged message)
 * must make rank 0 fail with a message, not read past the buffer. */
#include <string.h>

#include "core/core_internal.h"
#include "message.h"

static uint32_t get_u32(const unsigned char *b)
{
    uint32_t v;
    memcpy(&v, b, sizeof v);
    return v;
}

int hwnas__mpi_result_parse(const unsigned char *b, size_t len, size_t n_metrics, int rank,
                            hwnas__mpi_result *out)
{
    memset(out, 0, sizeof *out);
    if (n_metrics > (SIZE_MAX - 64) / 8)
        return hwnas__error(HWNAS_EIO, "mpi: %zu metrics is too many", n_metrics);
    size_t fixed = 8 + 8 + 4 + 8 * n_metrics + 4;
    if (!b || len < fixed)
        return hwnas__error(HWNAS_EIO, "mpi: a result of %zu bytes from rank %d (at least %zu "
                                       "expected)", len, rank, fixed);
    int32_t failed;
    memcpy(&out->seq, b, 8);
    memcpy(&out->seconds, b + 8, 8);
    memcpy(&failed, b + 16, 4);
    if (failed != 0 && failed != 1)
        return hwnas__error(HWNAS_EIO, "mpi: a result from rank %d with failed=%d", rank,
                            (int)failed);
    out->failed = failed;
    out->metrics = b + 20;
    size_t at = 20 + 8 * n_metrics;
    out->error_len = get_u32(b + at);
    at += 4;
    if (out->error_len > len - at || len - at - out->error_len < 4)
        return hwnas__error(HWNAS_EIO, "mpi: a truncated result from rank %d (error text of "
                                       "%zu bytes)", rank, out->error_len);
    out->error = (const char *)b + at;
    at += out->error_len;
    out->net_len = get_u32(b + at);
    at += 4;
    if (out->net_len != len - at)
        return hwnas__error(HWNAS_EIO, "mpi: a result from rank %d of %zu bytes with a net of "
                                       "%zu bytes where %zu remain", rank, len, out->net_len,
                            len - at);
    out->net = (const char *)b + at;
    return HWNAS_OK;
}
