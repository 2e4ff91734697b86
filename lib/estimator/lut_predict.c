/* Latency prediction from a LUT: exact look-up, the net's context class,
 * fused batch-norm layers, and the fallbacks for layers the LUT lacks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lut_internal.h"

/* Work of a layer, the variable latency is interpolated in. */
static double key_work(const hwnas__lut_key *k)
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
 * same op (any kernel, stride, padding, groups, inputs). Tier 2: the same
 * op and bits with another multiplier (a lookup-GEMM layer reads its
 * product table the same way whichever multiplier filled it). Tier 3: a
 * layer with a multiplier (conv, dwconv, linear) at the same bits, any
 * op or multiplier. Tier 4: both memory-bound (no multiplier, no window:
 * input, bn, activations, add, mul, concat, dropout, flatten, gap,
 * softmax, zero), whatever the op. Each is scaled in work by the caller. */
#define KIN_TIERS 4
static int key_kin(const hwnas__lut_key *a, const hwnas__lut_key *b, int tier)
{
    if (strcmp(a->act, b->act) != 0 || a->ctx != b->ctx || a->in_rank != b->in_rank ||
        a->bits != b->bits)
        return 0;
    int same_mul = strcmp(a->mul, b->mul) == 0, same_op = strcmp(a->op, b->op) == 0;
    switch (tier) {
    case 1:
        return same_mul && same_op;
    case 2:
        return same_op && a->bits > 0;
    case 3:
        return a->bits > 0;
    default:
        return same_mul && a->bits < 0 && a->kh < 0 && b->kh < 0;
    }
}

/* Same op and discrete parameters: entries a missing layer may use. */
static int key_compatible(const hwnas__lut_key *a, const hwnas__lut_key *b)
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

static double key_distance(const hwnas__lut_key *a, const hwnas__lut_key *b)
{
    double s = 0;
    for (int j = 0; j < 3; j++) {
        s += fabs(log((double)a->in[j] / (double)b->in[j]));
        s += fabs(log((double)a->out[j] / (double)b->out[j]));
    }
    return s;
}

/* The latency of a layer the LUT lacks, from compatible entries. */
static int fallback(double *out, const hwnas_latency_lut *lut, const hwnas__lut_key *k, int missing)
{
    const hwnas__lut_entry *best = NULL, *below = NULL, *above = NULL;
    double best_d = INFINITY, w = key_work(k), wb = -INFINITY, wa = INFINITY;
    for (size_t i = 0; i < lut->n; i++) {
        const hwnas__lut_entry *e = &lut->entries[i];
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
    for (int tier = 1; !best && tier <= KIN_TIERS; tier++) {
        /* the kin closest in work, scaled to this layer's work */
        double bw = 0;
        for (size_t i = 0; i < lut->n; i++) {
            const hwnas__lut_entry *e = &lut->entries[i];
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
        const hwnas__lut_entry *e = below ? below : above;
        double we = below ? wb : wa;
        *out = we > 0 ? e->ms * w / we : e->ms;
    }
    return HWNAS_OK;
}

/* Exact look-up of k: 1 and *out when found, 0 when not, -1 out of memory. */
static int lookup(double *out, const hwnas_latency_lut *lut, const hwnas__lut_key *k)
{
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, lut->ctx);
    hwnas__lut_key_format(&sb, k);
    if (sb.failed) {
        hwnas__strbuf_release(&sb);
        return -1;
    }
    int64_t at = hwnas__lut_find(lut, sb.data);
    hwnas__strbuf_release(&sb);
    if (at < 0)
        return 0;
    *out = lut->entries[at].ms;
    return 1;
}

/* The latency of layer k (no ctx) in a net of context x (hwnas__lut_ctx_x), from
 * its entries with ctx=: linear in x between the nearest classes
 * below and above, the nearest one beyond either end. Returns as lookup. */
static int lookup_ctx(double *out, const hwnas_latency_lut *lut, const hwnas__lut_key *k, double x)
{
    enum { REACH = 16 }; /* classes searched either side: 8 octaves */
    hwnas__lut_key q = *k;
    /* classes are 0..255: from x = 512 on, none is in reach either way,
     * and the clamp keeps a huge x from overflowing the conversion */
    int64_t b0 = (int64_t)floor(x < 512 ? x : 512);
    double below = 0, above = 0;
    int64_t wb = -1, wa = -1;
    for (int64_t b = b0; b >= 0 && b > b0 - REACH && wb < 0; b--) {
        q.ctx = b;
        int f = lookup(&below, lut, &q);
        if (f < 0)
            return -1;
        if (f)
            wb = b;
    }
    for (int64_t b = b0 + 1; b <= b0 + REACH && wa < 0; b++) {
        q.ctx = b;
        int f = lookup(&above, lut, &q);
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

/* The latency of what the engine runs at node i (hwnas__lut_run_key_of_node): *out 0
 * for an activation fused into its batch-norm. A fused bn's own entry
 * (act=...) comes first; a LUT without one (measured elsewhere, or by an
 * older builder) gives the bn's entry plus the activation's. Missing
 * entries fall back (missing modes) in the same order. x: the net's
 * context (hwnas__lut_ctx_x), whose ctx= entries come before all these; -1: none. */
static int node_latency(double *out, const hwnas_latency_lut *lut, const hwnas_net *net,
                        size_t i, double x, int missing, const char *file)
{
    hwnas__lut_key k;
    *out = 0;
    if (!hwnas__lut_run_key_of_node(&k, net, i))
        return HWNAS_OK;
    int found = x >= 0 ? lookup_ctx(out, lut, &k, x) : 0;
    if (!found)
        found = lookup(out, lut, &k);
    if (found)
        return found < 0 ? HWNAS_ENOMEM : HWNAS_OK;
    hwnas__lut_key bn, act;
    int fused = k.act[0] != '\0';
    double vb = 0, va = 0;
    if (fused) {
        hwnas__lut_key_of_node(&bn, net, i);
        hwnas__lut_key_of_node(&act, net, (size_t)hwnas__lut_fused_act(net, i));
        int fb = lookup(&vb, lut, &bn), fa = lookup(&va, lut, &act);
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
    hwnas__strbuf key;
    hwnas__strbuf_init(&key, lut->ctx);
    hwnas__lut_key_format(&key, &k);
    if (key.failed) {
        hwnas__strbuf_release(&key);
        return HWNAS_ENOMEM;
    }
    int rc = hwnas__error(HWNAS_ENOTFOUND, "latency LUT%s%s has no entry for layer '%s' "
                          "(key \"%s\")%s",
                          file ? " " : "", file ? file : "", hwnas_net_node_name(net, i), key.data,
                          missing != HWNAS_LATENCY_LUT_MISSING_ERROR
                              ? " nor any entry to fall back on (same op, a layer with a "
                                "multiplier at the same bits, or for a memory-bound op any "
                                "memory-bound op)"
                              : "");
    hwnas__strbuf_release(&key);
    return rc;
}

int hwnas__lut_predict(double *out_ms, const hwnas_latency_lut *lut, const hwnas_net *net,
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
        /* entries are bounded (HWNAS__LUT_MAX_MS), but scaling one in work
         * for a layer of a vastly larger size has no bound */
        if (!isfinite(sum))
            return hwnas__error(HWNAS_EINVAL, "latency LUT%s%s: the predicted latency of the net "
                                "is not finite", file ? " " : "", file ? file : "");
        x = hwnas__lut_ctx_x(sum);
    }
    *out_ms = sum;
    return HWNAS_OK;
}

int hwnas_latency_lut_predict(double *out_ms, const hwnas_latency_lut *lut, const hwnas_net *net,
                              int missing)
{
    if (!out_ms || !lut || !net)
        return hwnas__error(HWNAS_EINVAL, "hwnas_latency_lut_predict: NULL argument");
    return hwnas__lut_predict(out_ms, lut, net, missing, lut->overhead, NULL);
}
