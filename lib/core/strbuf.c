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

void hwnas__strbuf_puts(hwnas__strbuf *sb, const char *s)
{
    hwnas__strbuf_append(sb, s, strlen(s));
}

void hwnas__strbuf_vprintf(hwnas__strbuf *sb, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && strbuf_reserve(sb, (size_t)n) == 0) {
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, again);
        sb->len += (size_t)n;
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
