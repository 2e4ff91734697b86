/* The protobuf wire format, the part ONNX files use: varints, fixed 32/64
 * bit values and length-delimited payloads. Reading never trusts a length:
 * every one is checked against the bytes left. */
#include <string.h>

#include "onnx_internal.h"

int hwnas__pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        if (shift == 63 && b > 1)
            return -1; /* more than 64 bits */
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

int hwnas__pb_next(hwnas__pb *m, hwnas__pb_field *f)
{
    if (m->p >= m->end)
        return 0;
    f->offset = (size_t)(m->p - m->base);
    uint64_t tag;
    if (hwnas__pb_varint(&m->p, m->end, &tag) != 0 || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
        return -1;
    f->num = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    f->data = NULL;
    f->len = 0;
    f->v = 0;
    switch (f->wire) {
    case PB_VARINT:
        return hwnas__pb_varint(&m->p, m->end, &f->v) == 0 ? 1 : -1;
    case PB_FIXED64:
    case PB_FIXED32: {
        size_t n = f->wire == PB_FIXED64 ? 8 : 4;
        if ((size_t)(m->end - m->p) < n)
            return -1;
        for (size_t i = 0; i < n; i++)
            f->v |= (uint64_t)m->p[i] << (8 * i);
        m->p += n;
        return 1;
    }
    case PB_LEN: {
        uint64_t n;
        if (hwnas__pb_varint(&m->p, m->end, &n) != 0 || n > (uint64_t)(m->end - m->p))
            return -1;
        f->data = m->p;
        f->len = (size_t)n;
        m->p += n;
        return 1;
    }
    default:
        return -1;
    }
}

hwnas__pb hwnas__pb_sub(const hwnas__pb *parent, const hwnas__pb_field *f)
{
    hwnas__pb s = {f->data, f->data + f->len, parent->base};
    return s;
}

/* ---- writing ---------------------------------------------------------- */

static int reserve(hwnas__pbw *w, size_t n)
{
    if (w->failed)
        return 0;
    if (w->cap - w->len >= n)
        return 1;
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    uint8_t *d = hwnas__realloc(w->ctx, w->data, cap);
    if (!d) {
        w->failed = 1;
        return 0;
    }
    w->data = d;
    w->cap = cap;
    return 1;
}

void hwnas__pbw_raw(hwnas__pbw *w, const void *b, size_t n)
{
    if (n && reserve(w, n)) {
        memcpy(w->data + w->len, b, n);
        w->len += n;
    }
}

static size_t varint_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

void hwnas__pbw_varint(hwnas__pbw *w, uint64_t v)
{
    uint8_t b[10];
    hwnas__pbw_raw(w, b, varint_encode(b, v));
}

void hwnas__pbw_tag(hwnas__pbw *w, uint32_t num, int wire)
{
    hwnas__pbw_varint(w, (uint64_t)num << 3 | (uint64_t)wire);
}

void hwnas__pbw_int(hwnas__pbw *w, uint32_t num, int64_t v)
{
    hwnas__pbw_tag(w, num, PB_VARINT);
    hwnas__pbw_varint(w, (uint64_t)v);
}

void hwnas__pbw_float(hwnas__pbw *w, uint32_t num, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    hwnas__pbw_tag(w, num, PB_FIXED32);
    hwnas__pbw_raw(w, b, 4);
}

void hwnas__pbw_bytes(hwnas__pbw *w, uint32_t num, const void *b, size_t n)
{
    hwnas__pbw_tag(w, num, PB_LEN);
    hwnas__pbw_varint(w, n);
    hwnas__pbw_raw(w, b, n);
}

void hwnas__pbw_str(hwnas__pbw *w, uint32_t num, const char *s)
{
    hwnas__pbw_bytes(w, num, s, strlen(s));
}

size_t hwnas__pbw_begin(hwnas__pbw *w)
{
    return w->len;
}

void hwnas__pbw_end(hwnas__pbw *w, size_t mark, uint32_t num)
{
    if (w->failed)
        return;
    uint8_t head[16];
    size_t n = varint_encode(head, (uint64_t)num << 3 | PB_LEN);
    n += varint_encode(head + n, w->len - mark);
    if (!reserve(w, n))
        return;
    memmove(w->data + mark + n, w->data + mark, w->len - mark);
    memcpy(w->data + mark, head, n);
    w->len += n;
}
