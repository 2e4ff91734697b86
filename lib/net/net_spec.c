/* The text spec of nets (doc/formats/net.md): parser, formatter, loader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define SPEC_VERSION 1
#define SPEC_MAGIC "hwnas-net"
#define MAX_FILE (64u << 20)
#define MAX_INPUTS 64

/* ---- parser ----------------------------------------------------------- */

typedef struct parser {
    const char *file;   /* name for errors */
    const char *s;      /* current position */
    const char *line;   /* start of the current line */
    size_t lineno;      /* 1-based */
    char where[320];    /* "file:line:col: " for the position being reported */
} parser;

static const char *at(parser *ps, const char *pos)
{
    return hwnas__where(ps->where, sizeof ps->where, ps->file, ps->lineno,
                        (size_t)(pos - ps->line) + 1);
}

/* Describe the text at pos for "found ..." in messages. */
static void found(const char *pos, char *buf, size_t size)
{
    if (*pos == '\0' || *pos == '\n' || *pos == '\r' || *pos == '#') {
        snprintf(buf, size, "end of line");
        return;
    }
    size_t n = 0;
    while (pos[n] && pos[n] != '\n' && pos[n] != '\r' && n < 16)
        n++;
    snprintf(buf, size, "'%.*s'", (int)n, pos);
}

static int syntax(parser *ps, const char *pos, const char *expected)
{
    char f[40];
    found(pos, f, sizeof f);
    return hwnas__error(HWNAS_EFORMAT, "%sexpected %s, found %s", at(ps, pos), expected, f);
}

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static int is_value(char c)
{
    return c && !strchr(" \t,()#=\n\r", c);
}

static void skip_ws(parser *ps)
{
    while (*ps->s == ' ' || *ps->s == '\t')
        ps->s++;
}

/* At end of line (after blanks and a comment)? */
static int at_eol(parser *ps)
{
    skip_ws(ps);
    return *ps->s == '\0' || *ps->s == '\n' || *ps->s == '\r' || *ps->s == '#';
}

static void next_line(parser *ps)
{
    while (*ps->s && *ps->s != '\n')
        ps->s++;
    if (*ps->s == '\n') {
        ps->s++;
        ps->lineno++;
        ps->line = ps->s;
    }
}

static size_t ident(parser *ps)
{
    const char *b = ps->s;
    if (!is_ident_start(*ps->s))
        return 0;
    while (is_ident(*ps->s))
        ps->s++;
    return (size_t)(ps->s - b);
}

/* Turn a builder error (HWNAS_EINVAL) into a format error, same message. */
static int as_format(int rc)
{
    if (rc != HWNAS_EINVAL)
        return rc;
    return hwnas__error(HWNAS_EFORMAT, "%s", hwnas_error_last());
}

static int parse_header(parser *ps)
{
    while (at_eol(ps)) {
        if (!*ps->s)
            return syntax(ps, ps->s, "the header line '" SPEC_MAGIC " 1'");
        next_line(ps);
    }
    const char *b = ps->s;
    size_t n = strlen(SPEC_MAGIC);
    if (strncmp(ps->s, SPEC_MAGIC, n) != 0 || (ps->s[n] != ' ' && ps->s[n] != '\t'))
        return syntax(ps, b, "the header line '" SPEC_MAGIC " 1'");
    ps->s += n;
    skip_ws(ps);
    const char *v = ps->s;
    long version = 0;
    while (*ps->s >= '0' && *ps->s <= '9' && version < 1000000)
        version = version * 10 + (*ps->s++ - '0');
    if (ps->s == v)
        return syntax(ps, v, "a format version number");
    if (version != SPEC_VERSION)
        return hwnas__error(HWNAS_EVERSION, "%snet spec version %ld is not supported; expected "
                            "%d", at(ps, v), version, SPEC_VERSION);
    if (!at_eol(ps))
        return syntax(ps, ps->s, "end of line after the header");
    next_line(ps);
    return HWNAS_OK;
}

static int parse_statement(parser *ps, hwnas_net *net)
{
    const char *start = ps->s;
    size_t len = ident(ps);
    if (!len)
        return syntax(ps, start, "a node name or an op");
    const char *name = NULL, *op = start;
    size_t name_len = 0, op_len = len;
    skip_ws(ps);
    if (*ps->s == '=') {
        name = start, name_len = len;
        ps->s++;
        skip_ws(ps);
        op = ps->s;
        op_len = ident(ps);
        if (!op_len)
            return syntax(ps, op, "an op after '='");
    }
    hwnas__net_pending p;
    int rc = hwnas__net_op_begin(&p, op, op_len, at(ps, op));
    if (rc != HWNAS_OK)
        return as_format(rc);
    uint32_t inputs[MAX_INPUTS];
    size_t n_in = 0;
    skip_ws(ps);
    if (*ps->s == '(') {
        ps->s++;
        skip_ws(ps);
        if (*ps->s == ')') {
            ps->s++;
        } else {
            for (;;) {
                skip_ws(ps);
                const char *k = ps->s;
                size_t klen = ident(ps);
                if (!klen)
                    return syntax(ps, k, "an input name or key=value");
                skip_ws(ps);
                if (*ps->s == '=') {
                    ps->s++;
                    skip_ws(ps);
                    const char *v = ps->s;
                    size_t vlen;
                    if (*v == '"') { /* a quoted value: multiplier names with '=' or ',' */
                        const char *end = strchr(v + 1, '"');
                        const char *eol = strchr(v + 1, '\n');
                        if (!end || (eol && eol < end))
                            return syntax(ps, v, "a closing '\"'");
                        v++;
                        vlen = (size_t)(end - v);
                        ps->s = end + 1;
                    } else {
                        while (is_value(*ps->s))
                            ps->s++;
                        vlen = (size_t)(ps->s - v);
                    }
                    if (vlen == 0)
                        return syntax(ps, v, "a value");
                    rc = hwnas__net_op_attr(&p, k, klen, v, vlen, at(ps, k));
                    if (rc != HWNAS_OK)
                        return as_format(rc);
                } else {
                    int64_t idx = hwnas__net_find_slice(net, k, klen);
                    if (idx < 0)
                        return hwnas__error(HWNAS_EFORMAT, "%sunknown node '%.*s' (a node is "
                                            "defined before it is used)", at(ps, k),
                                            (int)(klen > 64 ? 64 : klen), k);
                    if (n_in == MAX_INPUTS)
                        return hwnas__error(HWNAS_EFORMAT, "%smore than %d inputs", at(ps, k),
                                            MAX_INPUTS);
                    inputs[n_in++] = (uint32_t)idx;
                }
                skip_ws(ps);
                if (*ps->s == ',') {
                    ps->s++;
                    continue;
                }
                if (*ps->s == ')') {
                    ps->s++;
                    break;
                }
                return syntax(ps, ps->s, "',' or ')'");
            }
        }
    }
    if (!at_eol(ps))
        return syntax(ps, ps->s, "'(' or end of line");
    rc = hwnas__net_op_finish(NULL, net, &p, name, name_len, inputs, n_in,
                              at(ps, name ? name : op));
    return as_format(rc);
}

int hwnas_net_parse(hwnas_net **out, hwnas_context *ctx, const char *text,
                    const char *name_for_errors)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !text)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_parse: NULL argument");
    parser ps = {name_for_errors ? name_for_errors : "<string>", text, text, 1, ""};
    hwnas_net *net;
    int rc = hwnas_net_new(&net, ctx);
    if (rc != HWNAS_OK)
        return rc;
    rc = parse_header(&ps);
    while (rc == HWNAS_OK && *ps.s) {
        if (!at_eol(&ps))
            rc = parse_statement(&ps, net);
        next_line(&ps);
    }
    if (rc == HWNAS_OK && net->n == 0)
        rc = hwnas__error(HWNAS_EFORMAT, "%s:%zu:1: expected at least one node, found end of "
                          "file", ps.file, ps.lineno);
    if (rc != HWNAS_OK) {
        hwnas_net_free(net);
        return rc;
    }
    *out = net;
    return HWNAS_OK;
}

int hwnas_net_load(hwnas_net **out, hwnas_context *ctx, const char *path)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_load: NULL argument");
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, MAX_FILE, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    if (strlen((const char *)buf) != len)
        rc = hwnas__error(HWNAS_EFORMAT, "%s: contains a NUL byte at offset %zu", path,
                          strlen((const char *)buf));
    else
        rc = hwnas_net_parse(out, ctx, (const char *)buf, path);
    hwnas__free(ctx, buf);
    return rc;
}

/* ---- formatter -------------------------------------------------------- */

typedef struct args {
    hwnas__strbuf *sb;
    int n; /* arguments written so far */
} args;

static void arg_begin(args *a)
{
    hwnas__strbuf_puts(a->sb, a->n++ ? ", " : "(");
}

static void arg_int(args *a, const char *key, int64_t v)
{
    arg_begin(a);
    hwnas__strbuf_printf(a->sb, "%s=%lld", key, (long long)v);
}

static void arg_real(args *a, const char *key, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    arg_begin(a);
    hwnas__strbuf_printf(a->sb, "%s=%s", key, buf);
}

/* k=, or kh= and kw=, leaving out the default */
static void arg_pair(args *a, const char *both, const char *kh, const char *kw, int32_t h,
                     int32_t w, int32_t defh, int32_t defw)
{
    if (h == defh && w == defw)
        return;
    if (h == w) {
        arg_int(a, both, h);
    } else {
        arg_int(a, kh, h);
        arg_int(a, kw, w);
    }
}

static void format_node(const hwnas_net *net, size_t i, hwnas__strbuf *sb)
{
    const hwnas__net_node *nd = &net->nodes[i];
    const hwnas__net_attrs *ap = &nd->a;
    const char *name = hwnas__net_str(net, nd->name);
    char autoname[24];
    snprintf(autoname, sizeof autoname, "_%zu", i);
    if (strcmp(name, autoname) != 0)
        hwnas__strbuf_printf(sb, "%s = ", name);
    hwnas__strbuf_puts(sb, hwnas__net_op_name(nd));
    args a = {sb, 0};
    const uint32_t *in = nd->n_in ? net->inputs + nd->in_off : NULL;
    if (in && !(nd->n_in == 1 && in[0] + 1 == i))
        for (uint32_t j = 0; j < nd->n_in; j++) {
            arg_begin(&a);
            hwnas__strbuf_puts(sb, hwnas__net_str(net, net->nodes[in[j]].name));
        }
    int k = nd->kind;
    switch (k) {
    case HWNAS_NET_INPUT:
        arg_begin(&a);
        hwnas__strbuf_printf(sb, "shape=%dx%dx%d", ap->out, ap->kh, ap->kw);
        break;
    case HWNAS_NET_CONV2D:
    case HWNAS_NET_DWCONV2D:
    case HWNAS_NET_MAXPOOL:
    case HWNAS_NET_AVGPOOL: {
        int conv = k == HWNAS_NET_CONV2D || k == HWNAS_NET_DWCONV2D;
        if (k == HWNAS_NET_CONV2D)
            arg_int(&a, "out", ap->out);
        if (k == HWNAS_NET_DWCONV2D && ap->out != ap->groups)
            arg_int(&a, "mult", ap->out / ap->groups);
        if (conv)
            arg_pair(&a, "k", "kh", "kw", ap->kh, ap->kw, 1, 1);
        else if (ap->kh == ap->kw)
            arg_int(&a, "k", ap->kh);
        else
            arg_int(&a, "kh", ap->kh), arg_int(&a, "kw", ap->kw);
        arg_pair(&a, "s", "sh", "sw", ap->sh, ap->sw, conv ? 1 : ap->kh, conv ? 1 : ap->kw);
        arg_pair(&a, "pad", "ph", "pw", ap->ph, ap->pw, 0, 0);
        if (conv)
            arg_pair(&a, "d", "dh", "dw", ap->dh, ap->dw, 1, 1);
        if (k == HWNAS_NET_CONV2D && ap->groups != 1)
            arg_int(&a, "groups", ap->groups);
        break;
    }
    case HWNAS_NET_ACT:
        if (ap->fn == HWNAS_NET_ACT_ELU && ap->alpha != 1.0)
            arg_real(&a, "alpha", ap->alpha);
        if (ap->fn == HWNAS_NET_ACT_LEAKY_RELU && ap->alpha != 0.01)
            arg_real(&a, "slope", ap->alpha);
        break;
    case HWNAS_NET_DROPOUT:
        if (ap->alpha != 0.5)
            arg_real(&a, "p", ap->alpha);
        break;
    case HWNAS_NET_LINEAR:
        arg_int(&a, "out", ap->out);
        break;
    default:
        break;
    }
    if (k == HWNAS_NET_CONV2D || k == HWNAS_NET_DWCONV2D || k == HWNAS_NET_LINEAR) {
        if (!ap->bias)
            arg_int(&a, "bias", 0);
        if (nd->mul != HWNAS__NET_NO_NAME) {
            arg_begin(&a);
            const char *mul = hwnas__net_str(net, nd->mul);
            /* drum:k=4 or bam:h=2,v=6 would not read back bare. */
            hwnas__strbuf_printf(sb, strpbrk(mul, "=,") ? "mul=\"%s\"" : "mul=%s", mul);
        }
        if (ap->bits != 32)
            arg_int(&a, "bits", ap->bits);
    }
    hwnas__strbuf_puts(sb, a.n ? ")\n" : "\n");
}

int hwnas_net_format(const hwnas_net *net, char **out)
{
    if (out)
        *out = NULL;
    if (!net || !out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_net_format: NULL argument");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, net->ctx);
    hwnas__strbuf_printf(&sb, SPEC_MAGIC " %d\n", SPEC_VERSION);
    for (size_t i = 0; i < net->n; i++)
        format_node(net, i, &sb);
    char *s = hwnas__strbuf_detach_buffer(&sb);
    hwnas__strbuf_release(&sb);
    if (!s)
        return hwnas__enomem();
    *out = s;
    return HWNAS_OK;
}
