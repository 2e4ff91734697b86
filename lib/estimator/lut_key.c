/* Latency LUT layer keys: their text (format and parse), the key of a net's
 * node and of the layer the engine runs there, and the net's context class. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lut_internal.h"
#include "net/net_internal.h"

static void key_init(hwnas__lut_key *k)
{
    memset(k, 0, sizeof *k);
    k->kh = k->kw = k->sh = k->sw = k->ph = k->pw = k->dh = k->dw = -1;
    k->groups = k->bits = k->inputs = k->ctx = -1;
}

static void put_shape(hwnas__strbuf *sb, const char *name, int rank, const int64_t *d)
{
    if (rank == 2)
        hwnas__strbuf_printf(sb, " %s=%lld", name, (long long)d[0]);
    else
        hwnas__strbuf_printf(sb, " %s=%lldx%lldx%lld", name, (long long)d[0], (long long)d[1],
                             (long long)d[2]);
}

static void put_pair(hwnas__strbuf *sb, const char *name, int64_t a, int64_t b)
{
    if (a >= 0)
        hwnas__strbuf_printf(sb, " %s=%lldx%lld", name, (long long)a, (long long)b);
}

static void put_int(hwnas__strbuf *sb, const char *name, int64_t v)
{
    if (v >= 0)
        hwnas__strbuf_printf(sb, " %s=%lld", name, (long long)v);
}

void hwnas__lut_key_format(hwnas__strbuf *sb, const hwnas__lut_key *k)
{
    hwnas__strbuf_puts(sb, k->op);
    put_shape(sb, "in", k->in_rank, k->in);
    put_shape(sb, "out", k->out_rank, k->out);
    put_pair(sb, "k", k->kh, k->kw);
    put_pair(sb, "s", k->sh, k->sw);
    put_pair(sb, "p", k->ph, k->pw);
    put_pair(sb, "d", k->dh, k->dw);
    put_int(sb, "g", k->groups);
    put_int(sb, "bits", k->bits);
    if (k->mul[0])
        hwnas__strbuf_printf(sb, " mul=%s", k->mul);
    put_int(sb, "inputs", k->inputs);
    if (k->act[0])
        hwnas__strbuf_printf(sb, " act=%s", k->act);
    put_int(sb, "ctx", k->ctx);
}

/* Parse a decimal integer in [lo, hi] from s[0..n). */
int hwnas__lut_parse_int(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    if (n == 0 || n > 18)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* "A", "AxB" or "AxBxC" into d[]; returns the number of parts or 0. */
static int parse_dims(const char *s, size_t n, int64_t lo, int64_t *d, int max_parts)
{
    int parts = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == 'x') {
            if (parts == max_parts ||
                !hwnas__lut_parse_int(s + start, i - start, lo, INT32_MAX, &d[parts]))
                return 0;
            parts++;
            start = i + 1;
        }
    }
    return parts;
}

/* Op and act names: [a-z0-9_]. Multiplier names: every character the IR
 * takes in one ([A-Za-z0-9_.+:=,-], net_build.c), so that a built-in spec
 * such as drum:k=6 or bam:h=2,v=6 reads back. A field ends at a blank and
 * its name at the first '=', so neither '=' nor ',' needs quoting, and
 * files written before keep reading. */
static int valid_name_char(char c, int mul)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           (mul && ((c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '+' || c == ':' ||
                    c == '=' || c == ','));
}

/* Parse key text s[0..n) into k. where: "file:line: " or "" for messages. */
int hwnas__lut_key_parse(hwnas__lut_key *k, const char *s, size_t n, const char *where)
{
    key_init(k);
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t start = i;
    while (i < n && s[i] != ' ' && s[i] != '\t')
        i++;
    size_t oplen = i - start;
    if (oplen == 0)
        return hwnas__error(HWNAS_EINVAL, "%slayer key \"%.*s\" has no op", where, (int)n, s);
    for (size_t j = start; j < i; j++)
        if (!valid_name_char(s[j], 0) || oplen >= sizeof k->op)
            return hwnas__error(HWNAS_EINVAL, "%sbad op \"%.*s\" in layer key (want [a-z0-9_]+)",
                                where, (int)oplen, s + start);
    memcpy(k->op, s + start, oplen);
    k->op[oplen] = '\0';
    unsigned seen = 0;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= n)
            break;
        start = i;
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
        const char *f = s + start;
        size_t flen = i - start;
        const char *eq = memchr(f, '=', flen);
        if (!eq)
            return hwnas__error(HWNAS_EINVAL, "%sfield \"%.*s\" of a layer key is not name=value",
                                where, (int)flen, f);
        size_t nlen = (size_t)(eq - f);
        const char *v = eq + 1;
        size_t vlen = flen - nlen - 1;
        static const char *const names[] = {"in", "out", "k", "s", "p", "d",
                                            "g", "bits", "mul", "inputs", "act", "ctx"};
        size_t which = HWNAS_ARRAY_SIZE(names);
        for (size_t j = 0; j < HWNAS_ARRAY_SIZE(names); j++)
            if (strlen(names[j]) == nlen && memcmp(names[j], f, nlen) == 0)
                which = j;
        if (which == HWNAS_ARRAY_SIZE(names))
            return hwnas__error(HWNAS_EINVAL,
                                "%sunknown field \"%.*s\" in a layer key (fields: in, out, k, s, "
                                "p, d, g, bits, mul, inputs, act, ctx)",
                                where, (int)nlen, f);
        if (seen & (1u << which))
            return hwnas__error(HWNAS_EINVAL, "%sfield '%s' is given twice in a layer key", where,
                                names[which]);
        seen |= 1u << which;
        int64_t d[3] = {0, 0, 0};
        int ok = 1, parts;
        switch (which) {
        case 0:
        case 1:
            parts = parse_dims(v, vlen, 1, d, 3);
            ok = parts == 1 || parts == 3;
            if (ok) {
                int64_t *dst = which == 0 ? k->in : k->out;
                dst[0] = d[0];
                dst[1] = parts == 3 ? d[1] : 1;
                dst[2] = parts == 3 ? d[2] : 1;
                *(which == 0 ? &k->in_rank : &k->out_rank) = parts == 3 ? 4 : 2;
            }
            break;
        case 2:
        case 3:
        case 4:
        case 5:
            parts = parse_dims(v, vlen, which == 4 ? 0 : 1, d, 2);
            ok = parts >= 1;
            if (ok) {
                int64_t b = parts == 2 ? d[1] : d[0];
                if (which == 2) { k->kh = d[0]; k->kw = b; }
                if (which == 3) { k->sh = d[0]; k->sw = b; }
                if (which == 4) { k->ph = d[0]; k->pw = b; }
                if (which == 5) { k->dh = d[0]; k->dw = b; }
            }
            break;
        case 6:
            ok = hwnas__lut_parse_int(v, vlen, 1, INT32_MAX, &k->groups);
            break;
        case 7:
            ok = hwnas__lut_parse_int(v, vlen, 1, 64, &k->bits);
            break;
        case 8:
            ok = vlen > 0 && vlen < sizeof k->mul;
            for (size_t j = 0; ok && j < vlen; j++)
                ok = valid_name_char(v[j], 1);
            if (ok) {
                memcpy(k->mul, v, vlen);
                k->mul[vlen] = '\0';
            }
            break;
        case 9:
            ok = hwnas__lut_parse_int(v, vlen, 1, 65535, &k->inputs);
            break;
        case 11:
            ok = hwnas__lut_parse_int(v, vlen, 0, 255, &k->ctx);
            break;
        default:
            ok = vlen > 0 && vlen < sizeof k->act;
            for (size_t j = 0; ok && j < vlen; j++)
                ok = valid_name_char(v[j], 0);
            if (ok) {
                memcpy(k->act, v, vlen);
                k->act[vlen] = '\0';
            }
            break;
        }
        if (!ok)
            return hwnas__error(HWNAS_EINVAL, "%sbad value \"%.*s\" of field '%s' in a layer key",
                                where, (int)vlen, v, names[which]);
    }
    if (!(seen & 1u) || !(seen & 2u))
        return hwnas__error(HWNAS_EINVAL, "%slayer key \"%.*s\" needs in= and out=", where,
                            (int)n, s);
    return HWNAS_OK;
}

/* The key of node i of net. */
void hwnas__lut_key_of_node(hwnas__lut_key *k, const hwnas_net *net, size_t i)
{
    key_init(k);
    const char *op = hwnas_net_node_op(net, i);
    snprintf(k->op, sizeof k->op, "%s", op ? op : "?");
    int kind = hwnas_net_node_kind(net, i);
    int64_t d[4] = {1, 1, 1, 1};
    size_t n_in = hwnas_net_node_input_count(net, i);
    int64_t src = n_in > 0 ? hwnas_net_node_input(net, i, 0) : (int64_t)i;
    int r = hwnas_net_node_shape(net, (size_t)src, d);
    k->in_rank = r == 2 ? 2 : 4;
    k->in[0] = d[1];
    k->in[1] = r == 2 ? 1 : d[2];
    k->in[2] = r == 2 ? 1 : d[3];
    d[2] = d[3] = 1;
    r = hwnas_net_node_shape(net, i, d);
    k->out_rank = r == 2 ? 2 : 4;
    k->out[0] = d[1];
    k->out[1] = r == 2 ? 1 : d[2];
    k->out[2] = r == 2 ? 1 : d[3];
    int conv = kind == HWNAS_NET_CONV2D || kind == HWNAS_NET_DWCONV2D;
    int window = conv || kind == HWNAS_NET_MAXPOOL || kind == HWNAS_NET_AVGPOOL;
    if (window) {
        hwnas_net_node_attr(&k->kh, net, i, "kh");
        hwnas_net_node_attr(&k->kw, net, i, "kw");
        hwnas_net_node_attr(&k->sh, net, i, "sh");
        hwnas_net_node_attr(&k->sw, net, i, "sw");
        hwnas_net_node_attr(&k->ph, net, i, "ph");
        hwnas_net_node_attr(&k->pw, net, i, "pw");
    }
    if (conv) {
        hwnas_net_node_attr(&k->dh, net, i, "dh");
        hwnas_net_node_attr(&k->dw, net, i, "dw");
        hwnas_net_node_attr(&k->groups, net, i, "groups");
    }
    if (conv || kind == HWNAS_NET_LINEAR) {
        k->bits = hwnas_net_node_bits(net, i);
        const char *mul = hwnas_net_node_multiplier(net, i);
        snprintf(k->mul, sizeof k->mul, "%s", mul ? mul : "exact");
    }
    if (kind == HWNAS_NET_ADD || kind == HWNAS_NET_CONCAT || kind == HWNAS_NET_MUL)
        k->inputs = (int64_t)n_in;
}

/* The engine runs a batch-norm whose only consumer is a relu or relu6 of
 * one input as one kernel (lib/engine/engine.c, fuse_bn_act): the bn node
 * computes both, the activation node nothing. The layer that runs is then
 * the bn's key plus act=relu|relu6, and the activation has no layer of its
 * own. hwnas__lut_fused_act() gives, for node k, that activation's index if k is such
 * a bn, else -1; fused_into() says whether node j is such an activation.
 * tests/estimator checks this rule against the engine's. */
int64_t hwnas__lut_fused_act(const hwnas_net *net, size_t k)
{
    if (net->nodes[k].kind != HWNAS_NET_BATCHNORM)
        return -1;
    size_t uses = 0, user = 0;
    for (size_t j = k + 1; j < net->n; j++) {
        const hwnas__net_node *u = &net->nodes[j];
        for (uint32_t q = 0; q < u->n_in; q++)
            if (net->inputs[u->in_off + q] == k)
                uses++, user = j;
    }
    const hwnas__net_node *u = &net->nodes[user];
    if (uses == 1 && u->kind == HWNAS_NET_ACT && u->n_in == 1 &&
        (u->a.fn == HWNAS_NET_ACT_RELU || u->a.fn == HWNAS_NET_ACT_RELU6))
        return (int64_t)user;
    return -1;
}

static int fused_into(const hwnas_net *net, size_t j)
{
    const hwnas__net_node *u = &net->nodes[j];
    return u->kind == HWNAS_NET_ACT && u->n_in == 1 &&
           hwnas__lut_fused_act(net, net->inputs[u->in_off]) == (int64_t)j;
}

/* A layer's time depends on the net it runs in: in a net whose forward
 * pass is short, a memory-bound layer (bn, relu, add) finds what it writes
 * still in cache from the pass before and takes half the time it takes in
 * a long one, whose convolutions have streamed their im2col buffers and
 * weights through the caches in between (cell space on the build host:
 * bn 16x32x32 0.12-0.15 ns per element in nets of 0.3 ms, 0.37-0.45 in
 * nets of 4-6 ms). The variable that orders this best is the net's own
 * latency (better than its bytes of buffers and weights, which we tried).
 * Its context value is x = 2 log2(latency in us), 0 under 1 us; entries
 * record the class round(x) (half octaves) as ctx=. */
double hwnas__lut_ctx_x(double ms) { return ms > 1e-3 ? 2 * log2(ms * 1e3) : 0; }

int hwnas__lut_ctx_class(double ms)
{
    double x = hwnas__lut_ctx_x(ms);
    return x < 255 ? (int)lround(x) : 255;
}

/* The key of what the engine runs at node i (see hwnas__lut_fused_act); 0 when node i
 * runs inside another node's layer. */
int hwnas__lut_run_key_of_node(hwnas__lut_key *k, const hwnas_net *net, size_t i)
{
    if (fused_into(net, i))
        return 0;
    hwnas__lut_key_of_node(k, net, i);
    int64_t a = hwnas__lut_fused_act(net, i);
    if (a >= 0)
        snprintf(k->act, sizeof k->act, "%s", hwnas_net_node_op(net, (size_t)a));
    return 1;
}

int hwnas_latency_lut_layer_key(char **out, const hwnas_net *net, size_t i)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_layer_key: out is NULL");
    *out = NULL;
    if (!net || i >= hwnas_net_node_count(net))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_layer_key: NULL net or node %zu "
                            "out of range", i);
    hwnas__lut_key k;
    hwnas__lut_key_of_node(&k, net, i);
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, net->ctx);
    hwnas__lut_key_format(&sb, &k);
    *out = hwnas__strbuf_detach_buffer(&sb);
    return *out ? HWNAS_OK : HWNAS_ENOMEM;
}

int hwnas__lut_run_key(char **out, const hwnas_net *net, size_t i, int ctx)
{
    *out = NULL;
    hwnas__lut_key k;
    if (!hwnas__lut_run_key_of_node(&k, net, i))
        return HWNAS_OK;
    k.ctx = ctx;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, net->ctx);
    hwnas__lut_key_format(&sb, &k);
    *out = hwnas__strbuf_detach_buffer(&sb);
    return *out ? HWNAS_OK : HWNAS_ENOMEM;
}
