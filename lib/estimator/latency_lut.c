/* Latency LUTs: layer keys, the table, its text format, prediction, and the
 * estimator:latency_lut kind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimator_internal.h"
#include "lut_internal.h"
#include "net/net_internal.h"

#define LUT_FORMAT_VERSION 1
#define LUT_MAX_FILE (64u << 20)

/* A layer key taken apart. Integer fields are -1 when absent. */
typedef struct lut_key {
    char op[24];         /* spec op name, [a-z0-9_]+ */
    int in_rank;         /* 4: in = C x H x W; 2: in = F (in[1] = in[2] = 1) */
    int64_t in[3];       /* input shape, each >= 1 */
    int out_rank;
    int64_t out[3];      /* output shape */
    int64_t kh, kw;      /* kernel, -1 = none */
    int64_t sh, sw;      /* stride */
    int64_t ph, pw;      /* padding */
    int64_t dh, dw;      /* dilation */
    int64_t groups;      /* conv groups */
    int64_t bits;        /* operand bit width of multiplying nodes */
    int64_t inputs;      /* number of inputs of add / concat / mul */
    char mul[64];        /* multiplier name, "" = none */
    char act[16];        /* bn: the activation run fused into it, "" = none */
    int64_t ctx;         /* the net's latency class (ctx_x), -1 = any */
} lut_key;

typedef struct lut_entry {
    char *text;     /* canonical key, owned */
    lut_key k;      /* text taken apart */
    double ms;      /* latency (median of the samples when profiled) */
    uint32_t count; /* samples behind ms (1 for entries read or set) */
    double *samples; /* profiled: the count samples, sorted; NULL otherwise */
    uint32_t cap_samples;
} lut_entry;

struct hwnas_latency_lut {
    hwnas_context *ctx;   /* allocator; outlives the LUT */
    lut_entry *entries;   /* n used, cap allocated, in insertion order */
    size_t n, cap;
    uint32_t *slots;      /* open addressing: entry index + 1, 0 = empty */
    size_t n_slots;       /* power of two > 2n, or 0 */
    double overhead;      /* ms added once per net */
    char *device;         /* owned, never NULL after creation */
    int has_ctx;          /* some entry has a ctx= field */
    double *residuals;    /* n_res profiled nets' residuals */
    size_t n_res, cap_res;
};

/* ---- keys ------------------------------------------------------------ */

static void key_init(lut_key *k)
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

static void key_format(hwnas__strbuf *sb, const lut_key *k)
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
static int parse_int(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out)
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
            if (parts == max_parts || !parse_int(s + start, i - start, lo, INT32_MAX, &d[parts]))
                return 0;
            parts++;
            start = i + 1;
        }
    }
    return parts;
}

static int valid_name_char(char c, int mul)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           (mul && ((c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '+' || c == ':'));
}

/* Parse key text s[0..n) into k. where: "file:line: " or "" for messages. */
static int key_parse(lut_key *k, const char *s, size_t n, const char *where)
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
            ok = parse_int(v, vlen, 1, INT32_MAX, &k->groups);
            break;
        case 7:
            ok = parse_int(v, vlen, 1, 64, &k->bits);
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
            ok = parse_int(v, vlen, 1, 65535, &k->inputs);
            break;
        case 11:
            ok = parse_int(v, vlen, 0, 255, &k->ctx);
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
static void key_of_node(lut_key *k, const hwnas_net *net, size_t i)
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
 * own. fused_act() gives, for node k, that activation's index if k is such
 * a bn, else -1; fused_into() says whether node j is such an activation.
 * tests/estimator checks this rule against the engine's. */
static int64_t fused_act(const hwnas_net *net, size_t k)
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
           fused_act(net, net->inputs[u->in_off]) == (int64_t)j;
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
static double ctx_x(double ms) { return ms > 1e-3 ? 2 * log2(ms * 1e3) : 0; }

int hwnas__lut_ctx_class(double ms)
{
    double x = ctx_x(ms);
    return x < 255 ? (int)lround(x) : 255;
}

double hwnas__lut_ctx_x(double ms) { return ctx_x(ms); }

/* The key of what the engine runs at node i (see fused_act); 0 when node i
 * runs inside another node's layer. */
static int run_key_of_node(lut_key *k, const hwnas_net *net, size_t i)
{
    if (fused_into(net, i))
        return 0;
    key_of_node(k, net, i);
    int64_t a = fused_act(net, i);
    if (a >= 0)
        snprintf(k->act, sizeof k->act, "%s", hwnas_net_node_op(net, (size_t)a));
    return 1;
}

/* Work of a layer, the variable latency is interpolated in. */
static double key_work(const lut_key *k)
{
    double out = (double)k->out[0] * (double)k->out[1] * (double)k->out[2];
    double in = (double)k->in[0] * (double)k->in[1] * (double)k->in[2];
    if (k->bits > 0 && k->kh > 0) {
        double g = k->groups > 0 ? (double)k->groups : 1.0;
        double cin_per_group = strcmp(k->op, "dwconv") == 0 ? 1.0 : (double)k->in[0] / g;
        return out * cin_per_group * (double)(k->kh * k->kw);
    }
    if (k->bits > 0)
        return in * (double)k->out[0];
    if (k->kh > 0) /* pools: every output reads a window */
        return in + out * (double)(k->kh * k->kw);
    return in * (double)(k->inputs > 0 ? k->inputs : 1) + out;
}

/* Looser kinship, for layers with no compatible entry at all. Tier 1: the
 * same op (any kernel, stride, padding, groups, inputs). Tier 2: both
 * memory-bound (no multiplier, no window: input, bn, activations, add,
 * mul, concat, dropout, flatten, gap, softmax, zero), whatever the op. */
static int key_kin(const lut_key *a, const lut_key *b, int tier)
{
    if (strcmp(a->mul, b->mul) != 0 || a->bits != b->bits || strcmp(a->act, b->act) != 0 ||
        a->ctx != b->ctx || a->in_rank != b->in_rank)
        return 0;
    if (tier == 1)
        return strcmp(a->op, b->op) == 0;
    return a->bits < 0 && a->kh < 0 && b->kh < 0;
}

/* Same op and discrete parameters: entries a missing layer may use. */
static int key_compatible(const lut_key *a, const lut_key *b)
{
    if (strcmp(a->op, b->op) != 0 || strcmp(a->mul, b->mul) != 0 || a->in_rank != b->in_rank ||
        a->out_rank != b->out_rank)
        return 0;
    if (a->kh != b->kh || a->kw != b->kw || a->sh != b->sh || a->sw != b->sw || a->ph != b->ph ||
        a->pw != b->pw || a->dh != b->dh || a->dw != b->dw || a->bits != b->bits ||
        a->inputs != b->inputs || strcmp(a->act, b->act) != 0 || a->ctx != b->ctx)
        return 0;
    /* groups: equal, or both depthwise (groups = input channels) */
    return a->groups == b->groups || (a->groups == a->in[0] && b->groups == b->in[0]);
}

static double key_distance(const lut_key *a, const lut_key *b)
{
    double s = 0;
    for (int j = 0; j < 3; j++) {
        s += fabs(log((double)a->in[j] / (double)b->in[j]));
        s += fabs(log((double)a->out[j] / (double)b->out[j]));
    }
    return s;
}

/* ---- the table ------------------------------------------------------- */

int hwnas_latency_lut_new(hwnas_latency_lut **out, hwnas_context *ctx)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_new: out is NULL");
    *out = NULL;
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_new: ctx is NULL");
    hwnas_latency_lut *lut = hwnas__calloc(ctx, 1, sizeof *lut);
    if (!lut)
        return HWNAS_ENOMEM;
    lut->ctx = ctx;
    lut->device = hwnas__strdup(ctx, "");
    if (!lut->device) {
        hwnas__free(ctx, lut);
        return HWNAS_ENOMEM;
    }
    *out = lut;
    return HWNAS_OK;
}

void hwnas_latency_lut_free(hwnas_latency_lut *lut)
{
    if (!lut)
        return;
    for (size_t i = 0; i < lut->n; i++) {
        hwnas__free(lut->ctx, lut->entries[i].text);
        hwnas__free(lut->ctx, lut->entries[i].samples);
    }
    hwnas__free(lut->ctx, lut->entries);
    hwnas__free(lut->ctx, lut->slots);
    hwnas__free(lut->ctx, lut->device);
    hwnas__free(lut->ctx, lut->residuals);
    hwnas__free(lut->ctx, lut);
}

hwnas_context *hwnas__lut_context(const hwnas_latency_lut *lut) { return lut->ctx; }

static int64_t find_text(const hwnas_latency_lut *lut, const char *text)
{
    if (lut->n_slots == 0)
        return -1;
    size_t mask = lut->n_slots - 1;
    for (size_t h = (size_t)hwnas__hash_bytes(text, strlen(text)) & mask;; h = (h + 1) & mask) {
        uint32_t s = lut->slots[h];
        if (s == 0)
            return -1;
        if (strcmp(lut->entries[s - 1].text, text) == 0)
            return (int64_t)(s - 1);
    }
}

static void slot_insert(uint32_t *slots, size_t n_slots, const char *text, uint32_t index)
{
    size_t mask = n_slots - 1;
    size_t h = (size_t)hwnas__hash_bytes(text, strlen(text)) & mask;
    while (slots[h] != 0)
        h = (h + 1) & mask;
    slots[h] = index + 1;
}

/* Insert or find key; *out_index gets its entry. New entries have ms 0,
 * count 0. */
static int entry_get(hwnas_latency_lut *lut, const lut_key *k, size_t *out_index)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    key_format(&sb, k);
    if (sb.failed) {
        hwnas__strbuf_release(&sb);
        return HWNAS_ENOMEM;
    }
    int64_t at = find_text(lut, sb.data);
    if (at >= 0) {
        hwnas__strbuf_release(&sb);
        *out_index = (size_t)at;
        return HWNAS_OK;
    }
    if (lut->n == lut->cap) {
        size_t cap = lut->cap ? 2 * lut->cap : 16;
        lut_entry *e = hwnas__realloc(lut->ctx, lut->entries, cap * sizeof *e);
        if (!e) {
            hwnas__strbuf_release(&sb);
            return HWNAS_ENOMEM;
        }
        lut->entries = e;
        lut->cap = cap;
    }
    if (2 * (lut->n + 1) >= lut->n_slots) {
        size_t n_slots = lut->n_slots ? 2 * lut->n_slots : 64;
        uint32_t *slots = hwnas__calloc(lut->ctx, n_slots, sizeof *slots);
        if (!slots) {
            hwnas__strbuf_release(&sb);
            return HWNAS_ENOMEM;
        }
        for (size_t i = 0; i < lut->n; i++)
            slot_insert(slots, n_slots, lut->entries[i].text, (uint32_t)i);
        hwnas__free(lut->ctx, lut->slots);
        lut->slots = slots;
        lut->n_slots = n_slots;
    }
    if (k->ctx >= 0)
        lut->has_ctx = 1;
    lut_entry *e = &lut->entries[lut->n];
    e->text = sb.data; /* the strbuf's buffer, NUL-terminated, on our allocator */
    e->k = *k;
    e->ms = 0;
    e->count = 0;
    e->samples = NULL;
    e->cap_samples = 0;
    slot_insert(lut->slots, lut->n_slots, e->text, (uint32_t)lut->n);
    *out_index = lut->n++;
    return HWNAS_OK;
}

int hwnas_latency_lut_set(hwnas_latency_lut *lut, const char *key, double ms)
{
    if (!lut || !key)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_set: lut and key are required");
    if (!isfinite(ms) || ms < 0)
        return hwnas__error(HWNAS_EINVAL, "latency LUT: latency %g ms of \"%s\" is not a finite "
                            "number >= 0", ms, key);
    lut_key k;
    int rc = key_parse(&k, key, strlen(key), "");
    size_t at;
    if (rc == HWNAS_OK)
        rc = entry_get(lut, &k, &at);
    if (rc != HWNAS_OK)
        return rc;
    lut_entry *e = &lut->entries[at];
    e->ms = ms;
    e->count = 1;
    hwnas__free(lut->ctx, e->samples);
    e->samples = NULL;
    e->cap_samples = 0;
    return HWNAS_OK;
}

int hwnas__lut_add_sample(hwnas_latency_lut *lut, const char *key, double ms)
{
    lut_key k;
    size_t at;
    int rc = key_parse(&k, key, strlen(key), "");
    if (rc == HWNAS_OK)
        rc = entry_get(lut, &k, &at);
    if (rc != HWNAS_OK)
        return rc;
    lut_entry *e = &lut->entries[at];
    /* a value set or read before counts as one sample */
    uint32_t have = e->samples ? e->count : (e->count ? 1 : 0);
    if (have + 1 > e->cap_samples) {
        uint32_t cap = e->cap_samples ? 2 * e->cap_samples : 8;
        double *v = hwnas__realloc(lut->ctx, e->samples, cap * sizeof *v);
        if (!v)
            return HWNAS_ENOMEM;
        if (!e->samples && have)
            v[0] = e->ms;
        e->samples = v;
        e->cap_samples = cap;
    }
    uint32_t j = have; /* insertion keeps them sorted */
    while (j > 0 && e->samples[j - 1] > ms) {
        e->samples[j] = e->samples[j - 1];
        j--;
    }
    e->samples[j] = ms;
    e->count = have + 1;
    uint32_t m = e->count / 2;
    e->ms = e->count % 2 ? e->samples[m] : 0.5 * (e->samples[m - 1] + e->samples[m]);
    return HWNAS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int hwnas__lut_add_residual(hwnas_latency_lut *lut, double ms)
{
    if (lut->n_res == lut->cap_res) {
        size_t cap = lut->cap_res ? 2 * lut->cap_res : 16;
        double *r = hwnas__realloc(lut->ctx, lut->residuals, 2 * cap * sizeof *r);
        if (!r)
            return HWNAS_ENOMEM;
        lut->residuals = r;
        lut->cap_res = cap;
    }
    lut->residuals[lut->n_res++] = ms;
    /* the second half of the array is scratch for the median */
    double *tmp = lut->residuals + lut->cap_res;
    memcpy(tmp, lut->residuals, lut->n_res * sizeof *tmp);
    qsort(tmp, lut->n_res, sizeof *tmp, cmp_double);
    size_t m = lut->n_res / 2;
    lut->overhead = lut->n_res % 2 ? tmp[m] : 0.5 * (tmp[m - 1] + tmp[m]);
    return HWNAS_OK;
}

size_t hwnas_latency_lut_count(const hwnas_latency_lut *lut) { return lut ? lut->n : 0; }

const char *hwnas_latency_lut_key(const hwnas_latency_lut *lut, size_t i)
{
    return lut && i < lut->n ? lut->entries[i].text : NULL;
}

double hwnas_latency_lut_value(const hwnas_latency_lut *lut, size_t i)
{
    return lut && i < lut->n ? lut->entries[i].ms : NAN;
}

int hwnas_latency_lut_get(double *out_ms, const hwnas_latency_lut *lut, const char *key)
{
    if (!out_ms || !lut || !key)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_get: NULL argument");
    lut_key k;
    int rc = key_parse(&k, key, strlen(key), "");
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    key_format(&sb, &k);
    if (sb.failed) {
        hwnas__strbuf_release(&sb);
        return HWNAS_ENOMEM;
    }
    int64_t at = find_text(lut, sb.data);
    if (at < 0)
        rc = hwnas__error(HWNAS_ENOTFOUND, "latency LUT has no entry for \"%s\"", sb.data);
    else
        *out_ms = lut->entries[at].ms;
    hwnas__strbuf_release(&sb);
    return rc;
}

double hwnas_latency_lut_overhead(const hwnas_latency_lut *lut) { return lut ? lut->overhead : 0; }

int hwnas_latency_lut_set_overhead(hwnas_latency_lut *lut, double ms)
{
    if (!lut || !isfinite(ms))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_set_overhead: NULL LUT or "
                            "overhead %g not finite", ms);
    lut->overhead = ms;
    return HWNAS_OK;
}

const char *hwnas_latency_lut_device(const hwnas_latency_lut *lut)
{
    return lut ? lut->device : "";
}

int hwnas_latency_lut_set_device(hwnas_latency_lut *lut, const char *device)
{
    if (!lut || !device || strpbrk(device, "\r\n"))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_set_device: NULL argument or a "
                            "device text with a line break");
    char *d = hwnas__strdup(lut->ctx, device);
    if (!d)
        return HWNAS_ENOMEM;
    hwnas__free(lut->ctx, lut->device);
    lut->device = d;
    return HWNAS_OK;
}

int hwnas_latency_lut_layer_key(char **out, const hwnas_net *net, size_t i)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_layer_key: out is NULL");
    *out = NULL;
    if (!net || i >= hwnas_net_node_count(net))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_layer_key: NULL net or node %zu "
                            "out of range", i);
    lut_key k;
    key_of_node(&k, net, i);
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, net->ctx);
    key_format(&sb, &k);
    *out = hwnas__strbuf_detach_buffer(&sb);
    return *out ? HWNAS_OK : HWNAS_ENOMEM;
}

/* ---- prediction ------------------------------------------------------ */

/* The latency of a layer the LUT lacks, from compatible entries. */
static int fallback(double *out, const hwnas_latency_lut *lut, const lut_key *k, int missing)
{
    const lut_entry *best = NULL, *below = NULL, *above = NULL;
    double best_d = INFINITY, w = key_work(k), wb = -INFINITY, wa = INFINITY;
    for (size_t i = 0; i < lut->n; i++) {
        const lut_entry *e = &lut->entries[i];
        if (!key_compatible(k, &e->k))
            continue;
        double d = key_distance(k, &e->k);
        if (d < best_d) {
            best_d = d;
            best = e;
        }
        double we = key_work(&e->k);
        if (we <= w && we > wb) {
            wb = we;
            below = e;
        }
        if (we >= w && we < wa) {
            wa = we;
            above = e;
        }
    }
    for (int tier = 1; !best && tier <= 2; tier++) {
        /* the kin closest in work, scaled to this layer's work */
        double bw = 0;
        for (size_t i = 0; i < lut->n; i++) {
            const lut_entry *e = &lut->entries[i];
            double we = key_work(&e->k);
            double d = fabs(log(we / w));
            if (key_kin(k, &e->k, tier) && we > 0 && d < best_d) {
                best_d = d;
                best = e;
                bw = we;
            }
        }
        if (best) {
            *out = missing == HWNAS_LATENCY_LUT_MISSING_NEAREST ? best->ms : best->ms * w / bw;
            return HWNAS_OK;
        }
    }
    if (!best)
        return HWNAS_ENOTFOUND;
    double wbest = key_work(&best->k);
    if (missing == HWNAS_LATENCY_LUT_MISSING_NEAREST)
        *out = best->ms;
    else if (missing == HWNAS_LATENCY_LUT_MISSING_SCALE)
        *out = wbest > 0 ? best->ms * w / wbest : best->ms;
    else if (below && above && wa > wb)
        *out = below->ms + (above->ms - below->ms) * (w - wb) / (wa - wb);
    else if (below && above)
        *out = 0.5 * (below->ms + above->ms);
    else {
        const lut_entry *e = below ? below : above;
        double we = below ? wb : wa;
        *out = we > 0 ? e->ms * w / we : e->ms;
    }
    return HWNAS_OK;
}

/* Exact look-up of k: 1 and *out when found, 0 when not, -1 out of memory.
 * text (if not NULL) gets the canonical key. */
static int lookup(double *out, const hwnas_latency_lut *lut, const lut_key *k, char *text,
                  size_t text_size)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    key_format(&sb, k);
    if (sb.failed) {
        hwnas__strbuf_release(&sb);
        return -1;
    }
    int64_t at = find_text(lut, sb.data);
    if (text)
        snprintf(text, text_size, "%s", sb.data);
    hwnas__strbuf_release(&sb);
    if (at < 0)
        return 0;
    *out = lut->entries[at].ms;
    return 1;
}

/* The latency of layer k (no ctx) in a net of context x (ctx_x), from
 * its entries with ctx=: linear in x between the nearest classes
 * below and above, the nearest one beyond either end. Returns as lookup. */
static int lookup_ctx(double *out, const hwnas_latency_lut *lut, const lut_key *k, double x)
{
    enum { REACH = 16 }; /* classes searched either side: 8 octaves */
    lut_key q = *k;
    int64_t b0 = (int64_t)floor(x);
    double below = 0, above = 0;
    int64_t wb = -1, wa = -1;
    for (int64_t b = b0; b >= 0 && b > b0 - REACH && wb < 0; b--) {
        q.ctx = b;
        int f = lookup(&below, lut, &q, NULL, 0);
        if (f < 0)
            return -1;
        if (f)
            wb = b;
    }
    for (int64_t b = b0 + 1; b <= b0 + REACH && wa < 0; b++) {
        q.ctx = b;
        int f = lookup(&above, lut, &q, NULL, 0);
        if (f < 0)
            return -1;
        if (f)
            wa = b;
    }
    if (wb >= 0 && wa >= 0)
        *out = below + (above - below) * (x - (double)wb) / (double)(wa - wb);
    else if (wb >= 0 || wa >= 0)
        *out = wb >= 0 ? below : above;
    else
        return 0;
    return 1;
}

/* The latency of what the engine runs at node i (run_key_of_node): *out 0
 * for an activation fused into its batch-norm. A fused bn's own entry
 * (act=...) comes first; a LUT without one (measured elsewhere, or by an
 * older builder) gives the bn's entry plus the activation's. Missing
 * entries fall back (missing modes) in the same order. x: the net's
 * context (ctx_x), whose ctx= entries come before all these; -1: none. */
static int node_latency(double *out, const hwnas_latency_lut *lut, const hwnas_net *net,
                        size_t i, double x, int missing, const char *file)
{
    char buf[512];
    lut_key k;
    *out = 0;
    if (!run_key_of_node(&k, net, i))
        return HWNAS_OK;
    int found = x >= 0 ? lookup_ctx(out, lut, &k, x) : 0;
    if (!found)
        found = lookup(out, lut, &k, buf, sizeof buf);
    if (found)
        return found < 0 ? HWNAS_ENOMEM : HWNAS_OK;
    lut_key bn, act;
    int fused = k.act[0] != '\0';
    double vb = 0, va = 0;
    if (fused) {
        key_of_node(&bn, net, i);
        key_of_node(&act, net, (size_t)fused_act(net, i));
        int fb = lookup(&vb, lut, &bn, NULL, 0), fa = lookup(&va, lut, &act, NULL, 0);
        if (fb < 0 || fa < 0)
            return HWNAS_ENOMEM;
        if (fb && fa) {
            *out = vb + va;
            return HWNAS_OK;
        }
    }
    if (missing != HWNAS_LATENCY_LUT_MISSING_ERROR) {
        if (fallback(out, lut, &k, missing) == HWNAS_OK)
            return HWNAS_OK;
        if (fused && fallback(&vb, lut, &bn, missing) == HWNAS_OK &&
            fallback(&va, lut, &act, missing) == HWNAS_OK) {
            *out = vb + va;
            return HWNAS_OK;
        }
    }
    return hwnas__error(HWNAS_ENOTFOUND, "latency LUT%s%s has no entry for layer '%s' "
                        "(key \"%s\")%s",
                        file ? " " : "", file ? file : "", hwnas_net_node_name(net, i), buf,
                        missing != HWNAS_LATENCY_LUT_MISSING_ERROR
                            ? " nor any entry to fall back on (same op, or for a memory-bound "
                              "op any memory-bound op)"
                            : "");
}

static int predict(double *out_ms, const hwnas_latency_lut *lut, const hwnas_net *net,
                   int missing, double overhead, const char *file)
{
    size_t n = hwnas_net_node_count(net);
    if (n == 0)
        return hwnas__error(HWNAS_EINVAL, "latency LUT: the net is empty");
    if (missing < HWNAS_LATENCY_LUT_MISSING_ERROR || missing > HWNAS_LATENCY_LUT_MISSING_SCALE)
        return hwnas__error(HWNAS_EINVAL, "latency LUT: missing mode %d is not 0, 1, 2 or 3",
                            missing);
    /* the plain prediction; with ctx= entries, it gives the net's context
     * and the prediction is made again from the entries of that context */
    double x = -1, sum = 0;
    for (int pass = 0; pass < 1 + lut->has_ctx; pass++) {
        sum = overhead;
        for (size_t i = 0; i < n; i++) {
            double v;
            int rc = node_latency(&v, lut, net, i, x, missing, file);
            if (rc != HWNAS_OK)
                return rc;
            sum += v;
        }
        x = ctx_x(sum);
    }
    *out_ms = sum;
    return HWNAS_OK;
}

int hwnas__lut_run_key(char **out, const hwnas_net *net, size_t i, int ctx)
{
    *out = NULL;
    lut_key k;
    if (!run_key_of_node(&k, net, i))
        return HWNAS_OK;
    k.ctx = ctx;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, net->ctx);
    key_format(&sb, &k);
    *out = hwnas__strbuf_detach_buffer(&sb);
    return *out ? HWNAS_OK : HWNAS_ENOMEM;
}

int hwnas_latency_lut_predict(double *out_ms, const hwnas_latency_lut *lut, const hwnas_net *net,
                              int missing)
{
    if (!out_ms || !lut || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_predict: NULL argument");
    return predict(out_ms, lut, net, missing, lut->overhead, NULL);
}

/* ---- the text format ------------------------------------------------- */

static int parse_number(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    if (*end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

static int parse_text(hwnas_latency_lut *lut, const char *text, size_t len, const char *name)
{
    int have_version = 0, have_unit = 0, have_values = 0;
    double scale = 1.0;
    size_t line_no = 0;
    char where[320];
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *s = text + pos;
        size_t n = end - pos;
        pos = end + 1;
        line_no++;
        trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        if (memchr(s, '\0', n))
            return hwnas__error(HWNAS_EFORMAT, "%s:%zu: NUL byte in a latency LUT", name,
                                line_no);
        snprintf(where, sizeof where, "%s:%zu: ", name, line_no);
        size_t wl = 0;
        while (wl < n && s[wl] != ' ' && s[wl] != '\t')
            wl++;
        const char *rest = s + wl;
        size_t rn = n - wl;
        trim(&rest, &rn);
        if (!have_version) {
            int64_t v;
            if (wl != 17 || memcmp(s, "hwnas-latency-lut", 17) != 0 ||
                !parse_int(rest, rn, 0, 1000000, &v))
                return hwnas__error(HWNAS_EFORMAT, "%snot a latency LUT: the first line must be "
                                    "'hwnas-latency-lut %d'", where, LUT_FORMAT_VERSION);
            if (v != LUT_FORMAT_VERSION)
                return hwnas__error(HWNAS_EVERSION, "%slatency LUT format version %lld; this "
                                    "libhwnas reads version %d", where, (long long)v,
                                    LUT_FORMAT_VERSION);
            have_version = 1;
            continue;
        }
        if (wl == 6 && memcmp(s, "device", 6) == 0) {
            char *d = hwnas__strndup(lut->ctx, rest, rn);
            if (!d)
                return HWNAS_ENOMEM;
            hwnas__free(lut->ctx, lut->device);
            lut->device = d;
        } else if (wl == 4 && memcmp(s, "meta", 4) == 0) {
            /* free-form provenance (engine, threads, date): kept by nobody */
        } else if (wl == 4 && memcmp(s, "unit", 4) == 0) {
            if (have_unit || have_values)
                return hwnas__error(HWNAS_EFORMAT, "%s'unit' must come once, before overhead "
                                    "and layer lines", where);
            if (rn == 2 && memcmp(rest, "ms", 2) == 0)
                scale = 1.0;
            else if (rn == 2 && memcmp(rest, "us", 2) == 0)
                scale = 1e-3;
            else if (rn == 1 && rest[0] == 's')
                scale = 1e3;
            else
                return hwnas__error(HWNAS_EFORMAT, "%sunit \"%.*s\" is not ms, us or s", where,
                                    (int)rn, rest);
            have_unit = 1;
        } else if (wl == 8 && memcmp(s, "overhead", 8) == 0) {
            double v;
            if (!parse_number(rest, rn, &v))
                return hwnas__error(HWNAS_EFORMAT, "%soverhead \"%.*s\" is not a number", where,
                                    (int)rn, rest);
            lut->overhead = v * scale;
            have_values = 1;
        } else if (wl == 5 && memcmp(s, "layer", 5) == 0) {
            const char *colon = NULL;
            for (size_t j = rn; j-- > 0;)
                if (rest[j] == ':' && (j == 0 || rest[j - 1] == ' ' || rest[j - 1] == '\t')) {
                    colon = rest + j;
                    break;
                }
            if (!colon)
                return hwnas__error(HWNAS_EFORMAT, "%sa layer line is 'layer KEY : LATENCY'",
                                    where);
            const char *num = colon + 1;
            size_t nn = rn - (size_t)(num - rest);
            trim(&num, &nn);
            double v;
            if (!parse_number(num, nn, &v) || v < 0)
                return hwnas__error(HWNAS_EFORMAT, "%slatency \"%.*s\" is not a number >= 0",
                                    where, (int)nn, num);
            lut_key k;
            int rc = key_parse(&k, rest, (size_t)(colon - rest), where);
            if (rc != HWNAS_OK)
                return rc == HWNAS_EINVAL ? hwnas__error(HWNAS_EFORMAT, "%s",
                                                         hwnas_error_last())
                                          : rc;
            size_t before = lut->n, at;
            rc = entry_get(lut, &k, &at);
            if (rc != HWNAS_OK)
                return rc;
            if (lut->n == before)
                return hwnas__error(HWNAS_EFORMAT, "%slayer \"%s\" is listed twice", where,
                                    lut->entries[at].text);
            lut->entries[at].ms = v * scale;
            lut->entries[at].count = 1;
            have_values = 1;
        } else {
            return hwnas__error(HWNAS_EFORMAT, "%sunknown line \"%.*s\" (lines: device, meta, "
                                "unit, overhead, layer)", where, (int)(wl > 40 ? 40 : wl), s);
        }
    }
    if (!have_version)
        return hwnas__error(HWNAS_EFORMAT, "%s: empty: not a latency LUT", name);
    return HWNAS_OK;
}

int hwnas_latency_lut_parse(hwnas_latency_lut **out, hwnas_context *ctx, const char *text,
                            size_t len, const char *name)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_parse: out is NULL");
    *out = NULL;
    if (!ctx || (!text && len))
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_parse: NULL argument");
    hwnas_latency_lut *lut;
    int rc = hwnas_latency_lut_new(&lut, ctx);
    if (rc != HWNAS_OK)
        return rc;
    rc = parse_text(lut, text ? text : "", len, name ? name : "<memory>");
    if (rc != HWNAS_OK) {
        hwnas_latency_lut_free(lut);
        return rc;
    }
    *out = lut;
    return HWNAS_OK;
}

int hwnas_latency_lut_load(hwnas_latency_lut **out, hwnas_context *ctx, const char *path)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_load: out is NULL");
    *out = NULL;
    if (!ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_load: ctx and path are required");
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(ctx, path, LUT_MAX_FILE, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas_latency_lut_parse(out, ctx, (const char *)buf, len, path);
    hwnas__free(ctx, buf);
    return rc;
}

static int format_text(const hwnas_latency_lut *lut, hwnas__strbuf *sb)
{
    size_t *order = hwnas__malloc(lut->ctx, (lut->n ? lut->n : 1) * sizeof *order);
    if (!order)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < lut->n; i++)
        order[i] = i;
    /* qsort has no user pointer: an insertion sort keeps this reentrant
     * (LUTs hold hundreds of entries, not millions) */
    for (size_t i = 1; i < lut->n; i++) {
        size_t v = order[i], j = i;
        while (j > 0 && strcmp(lut->entries[order[j - 1]].text, lut->entries[v].text) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    hwnas__strbuf_printf(sb, "hwnas-latency-lut %d\n# per-layer latencies; "
                         "doc/formats/latency-lut.md\n", LUT_FORMAT_VERSION);
    if (lut->device[0])
        hwnas__strbuf_printf(sb, "device %s\n", lut->device);
    hwnas__strbuf_printf(sb, "unit ms\noverhead %.9g\n", lut->overhead);
    for (size_t i = 0; i < lut->n; i++) {
        const lut_entry *e = &lut->entries[order[i]];
        hwnas__strbuf_printf(sb, "layer %s : %.9g\n", e->text, e->ms);
    }
    hwnas__free(lut->ctx, order);
    return sb->failed ? HWNAS_ENOMEM : HWNAS_OK;
}

int hwnas_latency_lut_format(const hwnas_latency_lut *lut, char **out)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_format: out is NULL");
    *out = NULL;
    if (!lut)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_format: lut is NULL");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    int rc = format_text(lut, &sb);
    if (rc == HWNAS_OK) {
        *out = hwnas__strbuf_detach_buffer(&sb);
        rc = *out ? HWNAS_OK : HWNAS_ENOMEM;
    }
    hwnas__strbuf_release(&sb);
    return rc;
}

int hwnas_latency_lut_save(const hwnas_latency_lut *lut, const char *path)
{
    if (!lut || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_save: lut and path are required");
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    int rc = format_text(lut, &sb);
    if (rc == HWNAS_OK) {
        size_t n = strlen(path);
        int gz = n > 3 && strcmp(path + n - 3, ".gz") == 0;
        rc = hwnas__file_write_atomic(lut->ctx, path, sb.data, sb.len, gz);
    }
    hwnas__strbuf_release(&sb);
    return rc;
}

/* ---- estimator:latency_lut ------------------------------------------- */

enum { OPT_LUT, OPT_MISSING, OPT_OVERHEAD };

static const hwnas__option_spec lut_options[] = {
    [OPT_LUT] = {"lut", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                 "latency LUT file (doc/formats/latency-lut.md; hwnas latency-lut build)"},
    [OPT_MISSING] = {"missing", HWNAS_OPTION_ENUM, "error", 0, 0,
                     "error|nearest|interpolate|scale",
                     "a layer not in the LUT: fail, take the nearest compatible entry, "
                     "interpolate in work between compatible entries, or scale the nearest "
                     "one in work"},
    [OPT_OVERHEAD] = {"overhead", HWNAS_OPTION_STRING, "file", 0, 0, NULL,
                      "per-net overhead in ms, or 'file' for the LUT's own"},
};

const hwnas__kind hwnas__estimator_latency_lut_kind = {
    "estimator:latency_lut", lut_options, HWNAS_ARRAY_SIZE(lut_options),
    &hwnas__estimator_latency_lut_impl,
};

typedef struct lut_state {
    hwnas_latency_lut *lut;
    int missing;
    double overhead;
    char *path;
} lut_state;

static void lut_fini(hwnas_estimator *e)
{
    lut_state *st = e->state;
    if (!st)
        return;
    hwnas_latency_lut_free(st->lut);
    hwnas__free(e->ctx, st->path);
    hwnas__free(e->ctx, st);
    e->state = NULL;
}

static int lut_init(hwnas_estimator *e)
{
    const char *path = hwnas__options_str(e->options, OPT_LUT);
    if (!path[0])
        return hwnas__error(HWNAS_EINVAL, "estimator:latency_lut needs lut=FILE (a latency LUT; "
                            "hwnas latency-lut build writes one)");
    const char *ov = hwnas__options_str(e->options, OPT_OVERHEAD);
    double overhead = 0;
    int from_file = strcmp(ov, "file") == 0;
    if (!from_file && !parse_number(ov, strlen(ov), &overhead))
        return hwnas__error(HWNAS_EINVAL, "estimator:latency_lut: overhead=\"%s\" is neither "
                            "'file' nor a number of ms", ov);
    lut_state *st = hwnas__calloc(e->ctx, 1, sizeof *st);
    if (!st)
        return HWNAS_ENOMEM;
    e->state = st;
    st->missing = (int)hwnas__options_int(e->options, OPT_MISSING);
    st->path = hwnas__strdup(e->ctx, path);
    if (!st->path)
        return HWNAS_ENOMEM;
    int rc = hwnas_latency_lut_load(&st->lut, e->ctx, path);
    if (rc != HWNAS_OK)
        return rc;
    st->overhead = from_file ? st->lut->overhead : overhead;
    return hwnas__estimator_add_metric(e, "latency_ms", "ms");
}

static int lut_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                        uint64_t stream, double *values)
{
    (void)key;
    (void)stream;
    const lut_state *st = e->state;
    return predict(&values[0], st->lut, net, st->missing, st->overhead, st->path);
}

const hwnas__estimator_impl hwnas__estimator_latency_lut_impl = {
    .init = lut_init,
    .fini = lut_fini,
    .estimate = lut_estimate,
};
