/* A growable string on the context's allocator. */
#include <stdio.h>
#include <string.h>

#include "core_internal.h"

void hwnas__strbuf_init(hwnas__strbuf *sb, const hwnas_context *ctx)
{
    memset(sb, 0, sizeof *sb);
    sb->ctx = ctx;
}

static int strbuf_reserve(hwnas__strbuf *sb, size_t extra)
{
    if (sb->failed)
        return -1;
    if (sb->len + extra + 1 <= sb->cap)
        return 0;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1)
        cap *= 2;
    char *p = hwnas__realloc(sb->ctx, sb->data, cap);
    if (!p) {
        sb->failed = 1;
        return -1;
    }
    sb->data = p;
    sb->cap = cap;
    return 0;
}

void hwnas__strbuf_append(hwnas__strbuf *sb, const char *s, size_t n)
{
    if (strbuf_reserve(sb, n) != 0)
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void hwnas__strbuf_put_u64(hwnas__strbuf *sb, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof digits - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    hwnas__strbuf_append(sb, digits + sizeof digits - n, n);
}

void hwnas__strbuf_puts(hwnas__strbuf *sb, const char *s)
{
    hwnas__strbuf_append(sb, s, strlen(s));
}

/* One formatting pass when the text fits the room left (the common case:
 * a number, a name), a second only to grow. printf is not cheap here: a
 * process that loads libquadmath (OpenBLAS's gfortran runtime does) has a
 * printf modifier registered, which sends every call through glibc's slow
 * positional path. */
void hwnas__strbuf_vprintf(hwnas__strbuf *sb, const char *fmt, va_list ap)
{
    if (strbuf_reserve(sb, 32) != 0)
        return;
    va_list again;
    va_copy(again, ap);
    size_t room = sb->cap - sb->len;
    int n = vsnprintf(sb->data + sb->len, room, fmt, ap);
    if (n >= 0 && (size_t)n < room) {
        sb->len += (size_t)n;
    } else if (n >= 0 && strbuf_reserve(sb, (size_t)n) == 0) {
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, again);
        sb->len += (size_t)n;
    } else if (sb->data) {
        sb->data[sb->len] = '\0'; /* a failed pass may have left text past len */
    }
    va_end(again);
}

void hwnas__strbuf_printf(hwnas__strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hwnas__strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

char *hwnas__strbuf_detach_buffer(hwnas__strbuf *sb)
{
    char *out = NULL;
    if (!sb->failed)
        out = hwnas__buffer_strdup(sb->ctx, sb->data ? sb->data : "");
    hwnas__strbuf_release(sb);
    return out;
}

void hwnas__strbuf_release(hwnas__strbuf *sb)
{
    hwnas__free(sb->ctx, sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one
 * (a stray continuation byte, an overlong form, a surrogate, > U+10FFFF). */
static size_t utf8_length(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                            : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || (n == 2 && c < 0xc2))
        return n == 1 ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || c > 0xf4 || (c == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

/* A JSON string: valid UTF-8 whatever bytes t holds (a path in an error
 * message may hold any); a byte that is not UTF-8 becomes U+FFFD. */
void hwnas__strbuf_json(hwnas__strbuf *sb, const char *t)
{
    hwnas__strbuf_puts(sb, "\"");
    while (t && *t) {
        unsigned char c = (unsigned char)*t;
        size_t n = utf8_length((const unsigned char *)t);
        if (c == '"' || c == '\\')
            hwnas__strbuf_printf(sb, "\\%c", c);
        else if (c < 0x20)
            hwnas__strbuf_printf(sb, "\\u%04x", c);
        else if (n == 0)
            hwnas__strbuf_puts(sb, "\\ufffd");
        else
            hwnas__strbuf_append(sb, t, n);
        t += n ? n : 1;
    }
    hwnas__strbuf_puts(sb, "\"");
}
