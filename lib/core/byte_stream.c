/* Little-endian byte streams for saved states (core_internal.h): a growing
 * writer and a bounds-checked reader, both sticky on failure so that a
 * saver or loader checks once at the end. */
#include <math.h>
#include <string.h>

#include "core_internal.h"

void hwnas__writer_put(hwnas__writer *w, const void *p, size_t n)
{
    if (w->failed || n == 0)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *d = hwnas__realloc(w->ctx, w->data, cap);
        if (!d) {
            w->failed = 1;
            return;
        }
        w->data = d;
        w->cap = cap;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

void hwnas__writer_u8(hwnas__writer *w, uint8_t v) { hwnas__writer_put(w, &v, 1); }

void hwnas__writer_u32(hwnas__writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    hwnas__writer_put(w, b, 4);
}

void hwnas__writer_u64(hwnas__writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    hwnas__writer_put(w, b, 8);
}

void hwnas__writer_f64(hwnas__writer *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    hwnas__writer_u64(w, u);
}

int hwnas__reader_fail(hwnas__reader *r)
{
    r->failed = 1;
    return 0;
}

int hwnas__reader_framed(hwnas__reader *r, const uint8_t *b, size_t len, const char *magic,
                         size_t min_len, const char *what, const char *name)
{
    *r = (hwnas__reader){b, len, 0, 0};
    if (len < 8 || memcmp(b, magic, 8) != 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: not a libhwnas %s (bad magic)", name, what);
    if (len < min_len + 8)
        return hwnas__error(HWNAS_EFORMAT, "%s: truncated header", name);
    r->pos = len - 8;
    if (hwnas__hash_bytes(b, len - 8) != hwnas__reader_u64(r))
        return hwnas__error(HWNAS_EFORMAT, "%s: checksum mismatch: the file is truncated or "
                            "corrupted", name);
    r->pos = 8;
    r->len = len - 8;
    return HWNAS_OK;
}

const uint8_t *hwnas__reader_take(hwnas__reader *r, size_t n)
{
    if (r->failed || r->len - r->pos < n) {
        r->failed = 1;
        return NULL;
    }
    const uint8_t *p = r->data + r->pos;
    r->pos += n;
    return p;
}

uint8_t hwnas__reader_u8(hwnas__reader *r)
{
    const uint8_t *p = hwnas__reader_take(r, 1);
    return p ? p[0] : 0;
}

uint32_t hwnas__reader_u32(hwnas__reader *r)
{
    const uint8_t *p = hwnas__reader_take(r, 4);
    uint32_t v = 0;
    for (int i = 0; p && i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

uint64_t hwnas__reader_u64(hwnas__reader *r)
{
    const uint8_t *p = hwnas__reader_take(r, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

double hwnas__reader_f64(hwnas__reader *r)
{
    uint64_t u = hwnas__reader_u64(r);
    double v;
    memcpy(&v, &u, 8);
    if (isnan(v)) {
        r->failed = 1;
        return 0;
    }
    return v;
}

size_t hwnas__reader_count(hwnas__reader *r, size_t item_size)
{
    uint64_t n = hwnas__reader_u64(r);
    if (r->failed)
        return 0;
    if (item_size && n > (uint64_t)(r->len - r->pos) / item_size) {
        r->failed = 1;
        return 0;
    }
    return (size_t)n;
}
