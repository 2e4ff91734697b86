/* The IDX file format of MNIST: a 4-byte magic (0, 0, type, rank), rank
 * big-endian uint32 dimensions, then the elements, big-endian, row-major.
 * See doc/formats/idx.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data_internal.h"

/* The most read from a pipe or device, whose header cannot be read ahead:
 * more than Fashion-MNIST's largest file (47 MB). */
#define IDX_STREAM_MAX ((size_t)128 << 20)

static size_t type_bytes(int type)
{
    switch (type) {
    case HWNAS_IDX_UBYTE:
    case HWNAS_IDX_SBYTE:
        return 1;
    case HWNAS_IDX_SHORT:
        return 2;
    case HWNAS_IDX_INT:
    case HWNAS_IDX_FLOAT:
        return 4;
    case HWNAS_IDX_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Rewrite n big-endian elements of `bytes` each from src to host order at
 * dst (dst <= src, possibly overlapping: each element is read before it is
 * written, going forward). */
static void to_host(uint8_t *dst, const uint8_t *src, size_t n, size_t bytes)
{
    for (size_t i = 0; i < n; i++, src += bytes, dst += bytes) {
        uint8_t t[8];
        for (size_t k = 0; k < bytes; k++)
            t[k] = src[k];
        if (bytes == 2) {
            uint16_t v = (uint16_t)(t[0] << 8 | t[1]);
            memcpy(dst, &v, 2);
        } else if (bytes == 4) {
            uint32_t v = be32(t);
            memcpy(dst, &v, 4);
        } else {
            uint64_t v = (uint64_t)be32(t) << 32 | be32(t + 4);
            memcpy(dst, &v, 8);
        }
    }
}

static int fail(hwnas_context *ctx, uint8_t *buf, int code, const char *fmt, ...)
    HWNAS_PRINTF(4, 5);

static int fail(hwnas_context *ctx, uint8_t *buf, int code, const char *fmt, ...)
{
    hwnas__free(ctx, buf);
    va_list ap;
    va_start(ap, fmt);
    int rc = hwnas__verror(code, fmt, ap);
    va_end(ap);
    return rc;
}

/* The size check, with a message that says items when it can. */
static int size_error(hwnas_context *ctx, uint8_t *buf, const char *name, size_t items,
                      size_t item_bytes, size_t have)
{
    if (item_bytes > 0 && have % item_bytes == 0)
        return fail(ctx, buf, HWNAS_EFORMAT, "%s: header says %zu items but the file holds %zu",
                    name, items, have / item_bytes);
    return fail(ctx, buf, HWNAS_EFORMAT,
                "%s: header says %zu items of %zu bytes (%zu bytes of data) but the file holds "
                "%zu bytes of data",
                name, items, item_bytes, items * item_bytes, have);
}

int hwnas__data_idx_from_buffer(hwnas_idx **out, hwnas_context *ctx, uint8_t *buf, size_t len,
                                const char *name)
{
    *out = NULL;
    if (len < 4)
        return fail(ctx, buf, HWNAS_EFORMAT,
                    "%s: %zu bytes is too short for an IDX file (the magic number alone is 4)",
                    name, len);
    if (buf[0] == 0x1f && buf[1] == 0x8b)
        return fail(ctx, buf, HWNAS_EFORMAT,
                    "%s: gzip data where IDX data was expected (read the file with "
                    "hwnas_idx_read, which inflates it)",
                    name);
    int type = buf[2];
    size_t eb = type_bytes(type);
    if (buf[0] != 0 || buf[1] != 0 || eb == 0)
        return fail(ctx, buf, HWNAS_EFORMAT,
                    "%s: not an IDX file: magic number 0x%08x; expected 0x0000TTRR with type "
                    "TT one of 08 (ubyte), 09 (sbyte), 0B (short), 0C (int), 0D (float), "
                    "0E (double) and RR the number of dimensions",
                    name, (unsigned)be32(buf));
    size_t rank = buf[3];
    if (rank == 0)
        return fail(ctx, buf, HWNAS_EFORMAT,
                    "%s: magic number 0x%08x declares 0 dimensions (at least 1 needed)", name,
                    (unsigned)be32(buf));
    size_t header = 4 + 4 * rank;
    if (len < header)
        return fail(ctx, buf, HWNAS_EFORMAT,
                    "%s: header declares %zu dimensions (%zu header bytes) but the file ends "
                    "after %zu bytes",
                    name, rank, header, len);
    hwnas_idx *idx = hwnas__malloc(ctx, sizeof *idx + rank * sizeof idx->dims[0]);
    if (!idx) {
        hwnas__free(ctx, buf);
        return HWNAS_ENOMEM;
    }
    idx->rank = rank;
    /* Bytes of one item (all dimensions but the first); 0 if one is 0. */
    size_t item = eb;
    for (size_t i = 0; i < rank; i++) {
        idx->dims[i] = be32(buf + 4 + 4 * i);
        if (i > 0) {
            size_t d = idx->dims[i];
            if (d != 0 && item > SIZE_MAX / d) {
                hwnas__free(ctx, idx);
                return fail(ctx, buf, HWNAS_EFORMAT,
                            "%s: dimensions overflow the address space (dimension %zu is %zu)",
                            name, i, d);
            }
            item *= idx->dims[i];
        }
    }
    size_t items = idx->dims[0];
    size_t have = len - header;
    if (item != 0 && items > SIZE_MAX / item) {
        hwnas__free(ctx, idx);
        return fail(ctx, buf, HWNAS_EFORMAT,
                    "%s: header says %zu items of %zu bytes, more than the address space", name,
                    items, item);
    }
    if (items * item != have) {
        hwnas__free(ctx, idx);
        return size_error(ctx, buf, name, items, item, have);
    }
    idx->ctx = ctx;
    idx->type = type;
    idx->elem_bytes = eb;
    idx->size = have / eb;
    idx->buf = buf;
    if (eb == 1) {
        idx->data = buf + header;
    } else {
        /* Move to the start of the (malloc-aligned) block so that every
         * element is aligned, converting to host order on the way. */
        to_host(buf, buf + header, idx->size, eb);
        idx->data = buf;
    }
    *out = idx;
    return HWNAS_OK;
}

int hwnas_idx_read(hwnas_idx **out, hwnas_context *ctx, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_idx_read: NULL %s",
                            !out ? "out" : !ctx ? "ctx" : "path");
    /* Read no more than the header declares: /dev/zero or an endless
     * stream ends in an error, not in gigabytes of memory. */
    uint8_t head[4 + 4 * 255];
    size_t hlen = 0;
    /* A pipe or device is read once (and opening a FIFO twice would race
     * its writer): no peeking, a fixed bound. stat opens nothing. */
    struct stat st;
    int stream = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
    int fd = stream ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    gzFile gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (fd >= 0 && !gz)
        close(fd);
    if (gz) {
        int r = gzread(gz, head, 4);
        hlen = r > 0 ? (size_t)r : 0;
        if (hlen == 4 && head[3] > 0) {
            r = gzread(gz, head + 4, 4u * head[3]);
            hlen += r > 0 ? (size_t)r : 0;
        }
        gzclose(gz);
    }
    size_t max_len = stream ? IDX_STREAM_MAX : (size_t)64 << 10; /* 64 KiB: a bad header */
    int magic_ok = hlen >= 4 && head[0] == 0 && head[1] == 0 && type_bytes(head[2]) && head[3];
    if (fd >= 0 && magic_ok && hlen == 4 + 4 * (size_t)head[3]) {
        size_t total = type_bytes(head[2]);
        for (size_t i = 0; i < head[3] && total; i++) {
            uint32_t d = (uint32_t)head[4 + 4 * i] << 24 | (uint32_t)head[5 + 4 * i] << 16 |
                         (uint32_t)head[6 + 4 * i] << 8 | head[7 + 4 * i];
            total = d && total > (SIZE_MAX >> 1) / d ? 0 : total * d;
        }
        /* Slack for gzip's own bytes (a compressed file can be larger than
         * its content); the parser then checks the exact size. */
        if (total && total < SIZE_MAX / 2 - 65536)
            max_len = hlen + total + total / 256 + 65536;
    } else if (fd >= 0 && !magic_ok) {
        /* A bad header: say so from what was read. */
        uint8_t *copy = hwnas__malloc(ctx, hlen ? hlen : 1);
        if (!copy)
            return HWNAS_ENOMEM;
        memcpy(copy, head, hlen);
        return hwnas__data_idx_from_buffer(out, ctx, copy, hlen, path);
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = hwnas__file_read(ctx, path, max_len, &buf, &len);
    if (rc == HWNAS_EFORMAT && stream && strstr(hwnas_error_last(), "larger than"))
        return hwnas__error(HWNAS_EFORMAT, "%s: a pipe or device larger than %zu bytes, the most "
                                           "read from one",
                            path, max_len);
    if (rc == HWNAS_EFORMAT && strstr(hwnas_error_last(), "larger than"))
        return hwnas__error(HWNAS_EFORMAT, "%s: much more data than its header declares (read "
                                           "stopped at %zu bytes)",
                            path, max_len);
    if (rc != HWNAS_OK)
        return rc;
    return hwnas__data_idx_from_buffer(out, ctx, buf, len, path);
}

int hwnas_idx_parse(hwnas_idx **out, hwnas_context *ctx, const void *data, size_t size,
                    const char *name)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || (!data && size > 0))
        return hwnas__error(HWNAS_EINVAL, "hwnas_idx_parse: NULL %s",
                            !out ? "out" : !ctx ? "ctx" : "data");
    uint8_t *buf = hwnas__malloc(ctx, size ? size : 1);
    if (!buf)
        return HWNAS_ENOMEM;
    if (size)
        memcpy(buf, data, size);
    return hwnas__data_idx_from_buffer(out, ctx, buf, size, name ? name : "<memory>");
}

void hwnas_idx_free(hwnas_idx *idx)
{
    if (!idx)
        return;
    hwnas__free(idx->ctx, idx->buf);
    hwnas__free(idx->ctx, idx);
}

int hwnas_idx_type(const hwnas_idx *idx) { return idx ? idx->type : 0; }
size_t hwnas_idx_rank(const hwnas_idx *idx) { return idx ? idx->rank : 0; }
size_t hwnas_idx_dim(const hwnas_idx *idx, size_t i)
{
    return idx && i < idx->rank ? idx->dims[i] : 0;
}
size_t hwnas_idx_size(const hwnas_idx *idx) { return idx ? idx->size : 0; }
const void *hwnas_idx_data(const hwnas_idx *idx) { return idx ? idx->data : NULL; }

int hwnas_idx_get_double(double *out, const hwnas_idx *idx, size_t first, size_t n)
{
    if (!out || !idx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_idx_get_double: NULL %s", !out ? "out" : "idx");
    if (first > idx->size || n > idx->size - first)
        return hwnas__error(HWNAS_EINVAL,
                            "hwnas_idx_get_double: elements [%zu, %zu + %zu) are beyond the "
                            "array's %zu",
                            first, first, n, idx->size);
    const void *d = idx->data;
    for (size_t i = 0; i < n; i++) {
        size_t k = first + i;
        switch (idx->type) {
        case HWNAS_IDX_UBYTE: out[i] = ((const uint8_t *)d)[k]; break;
        case HWNAS_IDX_SBYTE: out[i] = ((const int8_t *)d)[k]; break;
        case HWNAS_IDX_SHORT: out[i] = ((const int16_t *)d)[k]; break;
        case HWNAS_IDX_INT: out[i] = ((const int32_t *)d)[k]; break;
        case HWNAS_IDX_FLOAT: out[i] = ((const float *)d)[k]; break;
        default: out[i] = ((const double *)d)[k]; break;
        }
    }
    return HWNAS_OK;
}
