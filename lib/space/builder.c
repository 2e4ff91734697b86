/* The network builder every space decodes with (space_internal.h): adding
 * layers one after another, keeping the first failure, so that a decoder
 * reads as the sequence of layers it makes and checks for errors once. */
#include <string.h>

#include "net/net_internal.h"
#include "space_internal.h"

void hwnas__build_init(hwnas__builder *b, hwnas_net *net, int32_t bits, const void *state)
{
    b->net = net;
    b->rc = HWNAS_OK;
    b->bits = bits;
    b->state = state;
}

int64_t hwnas__build_input(hwnas__builder *b, int64_t c, int64_t h, int64_t w)
{
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add_input(&out, b->net, "input", c, h, w);
    return out;
}

int64_t hwnas__build_op(hwnas__builder *b, const char *op, int64_t x, const char *attrs)
{
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add(&out, b->net, op, NULL, x >= 0 ? &x : NULL, x >= 0 ? 1 : 0, attrs);
    return out;
}

int64_t hwnas__build_opf(hwnas__builder *b, const char *op, int64_t x, const char *fmt, ...)
{
    if (b->rc != HWNAS_OK)
        return -1;
    /* attributes of any length: a fixed buffer would cut them silently */
    hwnas__strbuf attrs;
    hwnas__strbuf_init(&attrs, b->net->ctx);
    va_list ap;
    va_start(ap, fmt);
    hwnas__strbuf_vprintf(&attrs, fmt, ap);
    va_end(ap);
    int64_t out = -1;
    if (attrs.failed)
        b->rc = HWNAS_ENOMEM;
    else
        out = hwnas__build_op(b, op, x, attrs.data ? attrs.data : "");
    hwnas__strbuf_release(&attrs);
    return out;
}

int64_t hwnas__build_conv(hwnas__builder *b, int64_t x, int64_t c, int64_t k, int64_t s,
                          int64_t bias)
{
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add_conv2d(&out, b->net, NULL, x, c, k, k, s, s, k / 2, k / 2, 1, 1,
                                     1, bias);
    return out;
}

int64_t hwnas__build_dwconv(hwnas__builder *b, int64_t x, int64_t k, int64_t s, int64_t bias)
{
    return hwnas__build_opf(b, "dwconv", x, "k=%lld,s=%lld,pad=%lld,bias=%lld", (long long)k,
                            (long long)s, (long long)(k / 2), (long long)bias);
}

int64_t hwnas__build_add(hwnas__builder *b, const int64_t *terms, size_t n)
{
    if (n == 1)
        return terms[0];
    int64_t out = -1;
    if (b->rc == HWNAS_OK)
        b->rc = hwnas_net_add(&out, b->net, "add", NULL, terms, n, NULL);
    return out;
}

void hwnas__build_shape(const hwnas__builder *b, int64_t x, int64_t *c, int64_t *h)
{
    int64_t d[4] = {0, 0, 0, 0};
    if (b->rc == HWNAS_OK)
        hwnas_net_node_shape(b->net, (size_t)x, d);
    *c = d[1];
    *h = d[2];
}

void hwnas__build_multiplier(hwnas__builder *b, size_t first, const char *mul)
{
    /* exact at the width nodes are made with (32 bits) is what they hold
     * already: leaving them alone keeps their text and hash the plain ones */
    if (b->rc != HWNAS_OK || (strcmp(mul, "exact") == 0 && (b->bits == 0 || b->bits == 32)))
        return;
    size_t n = hwnas_net_node_count(b->net);
    for (size_t i = first; i < n && b->rc == HWNAS_OK; i++) {
        int kind = hwnas_net_node_kind(b->net, i);
        if (kind == HWNAS_NET_CONV2D || kind == HWNAS_NET_DWCONV2D || kind == HWNAS_NET_LINEAR)
            b->rc = hwnas_net_set_multiplier(b->net, i, mul, b->bits);
    }
}

int hwnas__build_finish(const hwnas__builder *b, const char *kind)
{
    /* what the IR refuses is a genotype the space cannot build, not a bad
     * argument of the caller's */
    if (b->rc == HWNAS_EINVAL || b->rc == HWNAS_EFORMAT)
        return hwnas__error(HWNAS_EINVALID, "%s: %s", kind, hwnas_error_last());
    return b->rc;
}
