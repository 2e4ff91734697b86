/* A multiplying layer of the IR as a loop nest over R S P Q C M N G. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "accel_internal.h"
#include "hwnas/axmul.h"
#include "hwnas/net.h"

/* Which dimensions index which operand: weights[G][M][C][R][S],
 * inputs[N][G][C][P*sh+R*dh][Q*sw+S*dw], outputs[N][G][M][P][Q]. */
static const unsigned relevant[HWNAS__NOPS] = {
    [HWNAS__OP_W] = (1u << HWNAS__D_R) | (1u << HWNAS__D_S) | (1u << HWNAS__D_C) |
                    (1u << HWNAS__D_M) | (1u << HWNAS__D_G),
    [HWNAS__OP_I] = (1u << HWNAS__D_R) | (1u << HWNAS__D_S) | (1u << HWNAS__D_P) |
                    (1u << HWNAS__D_Q) | (1u << HWNAS__D_C) | (1u << HWNAS__D_N) |
                    (1u << HWNAS__D_G),
    [HWNAS__OP_O] = (1u << HWNAS__D_P) | (1u << HWNAS__D_Q) | (1u << HWNAS__D_M) |
                    (1u << HWNAS__D_N) | (1u << HWNAS__D_G),
};

int hwnas__dim_relevant(int o, int d) { return (relevant[o] >> d) & 1u; }

static int64_t attr(const hwnas_net *net, size_t i, const char *key, int64_t def)
{
    int64_t v = def;
    if (hwnas_net_node_attr(&v, net, i, key) != HWNAS_OK)
        v = def;
    return v;
}

int hwnas__problem_from_node(hwnas__problem *out, const hwnas_net *net, size_t i,
                             int64_t batch)
{
    int kind = hwnas_net_node_kind(net, i);
    if (kind != HWNAS_NET_CONV2D && kind != HWNAS_NET_DWCONV2D && kind != HWNAS_NET_LINEAR)
        return HWNAS_EUNSUPPORTED;
    int64_t od[4] = {0, 0, 0, 0}, id[4] = {0, 0, 0, 0};
    int orank = hwnas_net_node_shape(net, i, od);
    int64_t in = hwnas_net_node_input(net, i, 0);
    int irank = in >= 0 ? hwnas_net_node_shape(net, (size_t)in, id) : 0;
    hwnas__problem p;
    for (int d = 0; d < HWNAS__NDIMS; d++)
        p.dim[d] = 1;
    p.sh = p.sw = p.dh = p.dw = 1;
    p.mul_power = 1;
    p.dim[HWNAS__D_N] = batch;
    if (kind == HWNAS_NET_LINEAR) {
        int64_t features = 1;
        for (int k = 1; k < irank; k++)
            features *= id[k];
        p.dim[HWNAS__D_C] = features;
        p.dim[HWNAS__D_M] = od[1];
    } else {
        int64_t g = attr(net, i, "groups", 1);
        if (g < 1 || orank != 4 || irank != 4)
            return hwnas__error(HWNAS_EINVAL, "layer '%s': unexpected shape",
                                hwnas_net_node_name(net, i));
        p.dim[HWNAS__D_G] = g;
        p.dim[HWNAS__D_C] = id[1] / g;
        p.dim[HWNAS__D_M] = od[1] / g;
        p.dim[HWNAS__D_R] = attr(net, i, "kh", 1);
        p.dim[HWNAS__D_S] = attr(net, i, "kw", 1);
        p.dim[HWNAS__D_P] = od[2];
        p.dim[HWNAS__D_Q] = od[3];
        p.sh = attr(net, i, "sh", 1);
        p.sw = attr(net, i, "sw", 1);
        p.dh = attr(net, i, "dh", 1);
        p.dw = attr(net, i, "dw", 1);
    }
    p.macs = 1;
    for (int d = 0; d < HWNAS__NDIMS; d++) {
        if (p.dim[d] < 1)
            return hwnas__error(HWNAS_EINVAL, "layer '%s': dimension %c is %lld",
                                hwnas_net_node_name(net, i), hwnas__dim_letters[d],
                                (long long)p.dim[d]);
        p.macs *= p.dim[d];
    }
    *out = p;
    return HWNAS_OK;
}

double hwnas__problem_size(const hwnas__problem *p, int o)
{
    const int64_t *d = p->dim;
    double ng = (double)d[HWNAS__D_N] * (double)d[HWNAS__D_G];
    switch (o) {
    case HWNAS__OP_W:
        return (double)d[HWNAS__D_G] * (double)d[HWNAS__D_M] * (double)d[HWNAS__D_C] *
               (double)d[HWNAS__D_R] * (double)d[HWNAS__D_S];
    case HWNAS__OP_I: {
        double h = (double)(d[HWNAS__D_P] - 1) * (double)p->sh +
                   (double)(d[HWNAS__D_R] - 1) * (double)p->dh + 1;
        double w = (double)(d[HWNAS__D_Q] - 1) * (double)p->sw +
                   (double)(d[HWNAS__D_S] - 1) * (double)p->dw + 1;
        return ng * (double)d[HWNAS__D_C] * h * w;
    }
    default:
        return ng * (double)d[HWNAS__D_M] * (double)d[HWNAS__D_P] * (double)d[HWNAS__D_Q];
    }
}

int hwnas__mul_power(double *out, const hwnas_accel *a, hwnas_axmul_registry *reg,
                     const char *mul)
{
    *out = a->mul_power;
    if (a->n_layer_muls) {
        int64_t k = hwnas__accel_layer_mul(a, mul ? mul : "exact");
        if (k >= 0) {
            *out = a->layer_mul_power[k];
            return HWNAS_OK;
        }
        if (!mul || strcmp(mul, "exact") == 0)
            return HWNAS_OK;
        char have[HWNAS__LAYER_MULS_MAX * 66] = "";
        size_t len = 0;
        for (size_t j = 0; j < a->n_layer_muls && len < sizeof have; j++)
            len += (size_t)snprintf(have + len, sizeof have - len, "%s%s", j ? " | " : "",
                                    a->layer_muls[j]);
        return hwnas__error(HWNAS_EINVALID, "multiplier '%s' is not on %s (its layer "
                            "multipliers: %s)", mul, a->name, have);
    }
    /* the chip's own multiplier (a co-design candidate's layers compute
     * with it) needs no look-up */
    if (!mul || strcmp(mul, "exact") == 0 || strcmp(mul, a->multiplier) == 0)
        return HWNAS_OK;
    const hwnas_axmul *m = NULL;
    int rc = hwnas_axmul_registry_get(&m, reg, mul);
    if (rc != HWNAS_OK)
        return rc;
    double pw = hwnas_axmul_power(m);
    if (!isfinite(pw) || pw < 0)
        return hwnas__error(HWNAS_EINVAL, "multiplier '%s' has no power figure (import it with "
                                          "a params.csv, doc/axmul.md)",
                            mul);
    *out = pw;
    return HWNAS_OK;
}
