/* Zero-cost proxies through the engine's passes (zero_cost.h). Every sum
 * here runs serially in double over the engine's own (thread-count
 * independent) buffers, so the scores do not depend on the thread count. */
#include <math.h>
#include <string.h>

#include "zero_cost.h"

const char *const hwnas__zc_names[HWNAS__ZC_COUNT] = {
    "grad_norm", "snip", "grasp", "synflow", "jacob_cov", "naswot", "naswot_pwl"};

/* The weights of node k (no bias), or 0 for nodes the proxies skip. */
static size_t layer_weights(const hwnas__engine *e, size_t k)
{
    const hwnas__eng_node *nd = &e->nodes[k];
    if (nd->kind != HWNAS_NET_CONV2D && nd->kind != HWNAS_NET_DWCONV2D &&
        nd->kind != HWNAS_NET_LINEAR)
        return 0;
    return nd->n_p - (nd->a.bias ? nd->c : 0);
}

static int not_finite(const char *proxy, double v)
{
    return hwnas__error(HWNAS_EINVAL, "zero-cost: %s is not finite (%g)", proxy, v);
}

/* Training-mode forward and backward of the mean cross-entropy of labels;
 * the gradients are left in e->grads. */
static int loss_pass(hwnas__engine *e, const float *x, const int32_t *labels, size_t n,
                     uint64_t step, float *dlogits)
{
    int rc = hwnas__engine_forward(e, x, n, 1, step);
    if (rc != HWNAS_OK)
        return rc;
    double loss;
    size_t correct;
    hwnas__engine_loss(&loss, &correct, dlogits, e, labels, 0.0);
    if (!isfinite(loss))
        return not_finite("the minibatch loss", loss);
    return hwnas__engine_backward(e, dlogits);
}

/* ---- naswot: Hamming kernel of the ReLU codes ---------------------------- */

/* log det of the symmetric n x n matrix a (overwritten by its Cholesky
 * factor); HWNAS_EINVAL when it is not positive definite to double
 * precision (a pivot below tol). With inv_trace, also the trace of its
 * inverse (the squared Frobenius norm of L^-1). */
static int chol_logdet(double *out, double *inv_trace, double *a, size_t n, double tol,
                       const char *what, const hwnas_context *ctx)
{
    double logdet = 0;
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > tol))
            return hwnas__error(HWNAS_EINVAL, "zero-cost: %s is singular (pivot %zu of %zu is "
                                "%g)", what, j + 1, n, d);
        double l = sqrt(d);
        a[j * n + j] = l;
        logdet += 2 * log(l);
        for (size_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (size_t k = 0; k < j; k++)
                s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / l;
        }
    }
    *out = logdet;
    if (!inv_trace)
        return HWNAS_OK;
    /* trace(A^-1) = sum over columns of ||L^-1 e_c||^2, by forward substitution */
    double *v = hwnas__malloc(ctx, n * sizeof *v);
    if (!v)
        return HWNAS_ENOMEM;
    double tr = 0;
    for (size_t c = 0; c < n; c++) {
        for (size_t i = 0; i < n; i++) {
            double s = i == c ? 1.0 : 0.0;
            for (size_t k = c; k < i; k++)
                s -= a[i * n + k] * v[k];
            v[i] = i < c ? 0.0 : s / a[i * n + i];
            if (i >= c)
                tr += v[i] * v[i];
        }
    }
    hwnas__free(ctx, v);
    *inv_trace = tr;
    return HWNAS_OK;
}

/* ReLU, or with pwl any activation whose output is positive exactly where
 * its input is (the piecewise-linear ones: relu6, leaky_relu, prelu - a
 * prelu starts at slope 0.25) */
static int coded(const hwnas__eng_node *nd, int pwl)
{
    if (nd->kind != HWNAS_NET_ACT)
        return 0;
    int fn = nd->a.fn;
    return fn == HWNAS_NET_ACT_RELU ||
           (pwl && (fn == HWNAS_NET_ACT_RELU6 || fn == HWNAS_NET_ACT_LEAKY_RELU ||
                    fn == HWNAS_NET_ACT_PRELU));
}

/* Mellor et al.: K[i][j] = number of ReLU units on which samples i and j
 * agree (active or not), over every ReLU of the last forward pass; the
 * score is log |K|. pwl: over every piecewise-linear activation. */
static int naswot(double *out, const hwnas__engine *e, size_t n, int pwl)
{
    const hwnas_context *ctx = e->ctx;
    size_t units = 0;
    for (size_t k = 0; k < e->n; k++)
        if (coded(&e->nodes[k], pwl))
            units += e->nodes[k].size;
    if (units == 0)
        return hwnas__error(HWNAS_EINVAL, "zero-cost: %s needs %s activations; the net has "
                            "none", pwl ? "naswot_pwl" : "naswot",
                            pwl ? "piecewise-linear (relu, relu6, leaky_relu, prelu)" : "ReLU");
    size_t words = (units + 63) / 64;
    uint64_t *code = hwnas__calloc(ctx, n * words, sizeof *code);
    double *K = hwnas__malloc(ctx, n * n * sizeof *K);
    int rc = HWNAS_ENOMEM;
    if (!code || !K)
        goto done;
    size_t bit = 0;
    for (size_t k = 0; k < e->n; k++) {
        const hwnas__eng_node *nd = &e->nodes[k];
        if (!coded(nd, pwl))
            continue;
        for (size_t s = 0; s < n; s++) {
            const float *y = e->act[k] + s * nd->size;
            uint64_t *c = code + s * words;
            for (size_t u = 0; u < nd->size; u++)
                if (y[u] > 0)
                    c[(bit + u) / 64] |= UINT64_C(1) << ((bit + u) % 64);
        }
        bit += nd->size;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            size_t differ = 0;
            for (size_t w = 0; w < words; w++)
                differ += (size_t)__builtin_popcountll(code[i * words + w] ^ code[j * words + w]);
            K[i * n + j] = K[j * n + i] = (double)(units - differ);
        }
    /* K is an integer Gram matrix: a pivot below n * units * 1e-12 is 0 */
    rc = chol_logdet(out, NULL, K, n, 1e-12 * (double)units * (double)n,
                     "naswot's Hamming kernel (two samples' ReLU codes too alike)", ctx);
done:
    hwnas__free(ctx, code);
    hwnas__free(ctx, K);
    return rc;
}

/* ---- jacob_cov: correlations of the input gradients ---------------------- */

/* The gradient of the sum of the logits w.r.t. each sample's input, its
 * n x n correlation matrix C (np.corrcoef of the rows) and
 * -sum_i log(l_i + k) + 1 / (l_i + k) over C's eigenvalues l_i with
 * k = 1e-5, computed as -(log det(C + kI) + trace((C + kI)^-1)). */
static int jacob_cov(double *out, hwnas__engine *e, const float *x, size_t n, uint64_t step,
                     float *dlogits)
{
    const hwnas_context *ctx = e->ctx;
    size_t in_size = e->nodes[e->input].size, k_size = e->nodes[e->logits].size;
    int rc = hwnas__engine_forward(e, x, n, 1, step);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t i = 0; i < n * k_size; i++)
        dlogits[i] = 1.0f;
    e->need_input_grad = 1;
    rc = hwnas__engine_backward(e, dlogits);
    e->need_input_grad = 0;
    if (rc != HWNAS_OK)
        return rc;
    /* no consumer wrote it: a net whose output ignores its input */
    const float *J = e->dinit[e->input] ? e->dact[e->input] : NULL;
    if (!J)
        return hwnas__error(HWNAS_EINVAL, "zero-cost: jacob_cov: the output does not depend "
                            "on the input");
    double *z = hwnas__malloc(ctx, n * in_size * sizeof *z);
    double *C = hwnas__malloc(ctx, n * n * sizeof *C);
    rc = HWNAS_ENOMEM;
    if (!z || !C)
        goto done;
    for (size_t s = 0; s < n; s++) {
        const float *j = J + s * in_size;
        double m = 0, ss = 0;
        for (size_t q = 0; q < in_size; q++)
            m += j[q];
        m /= (double)in_size;
        for (size_t q = 0; q < in_size; q++) {
            z[s * in_size + q] = j[q] - m;
            ss += (j[q] - m) * (j[q] - m);
        }
        if (!(ss > 0) || !isfinite(ss)) {
            rc = hwnas__error(HWNAS_EINVAL, "zero-cost: jacob_cov: sample %zu's input gradient "
                              "is %s", s, isfinite(ss) ? "constant" : "not finite");
            goto done;
        }
        double inv = 1.0 / sqrt(ss);
        for (size_t q = 0; q < in_size; q++)
            z[s * in_size + q] *= inv;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double d = 0;
            for (size_t q = 0; q < in_size; q++)
                d += z[i * in_size + q] * z[j * in_size + q];
            C[i * n + j] = C[j * n + i] = d + (i == j ? 1e-5 : 0.0);
        }
    double logdet, tr;
    rc = chol_logdet(&logdet, &tr, C, n, 0, "jacob_cov's correlation matrix", ctx);
    if (rc == HWNAS_OK)
        *out = -(logdet + tr);
done:
    hwnas__free(ctx, z);
    hwnas__free(ctx, C);
    return rc;
}

/* ---- synflow: absolute weights, an all-ones input, R = sum of logits ----- */

/* The backward of the nodes whose training-mode kernels do not fit an
 * inference pass: batch-norm on running statistics (an affine map, then
 * its fused activation's mask) and dropout (the identity). */
static int synflow_node(void *ud, size_t k, int *rc)
{
    hwnas__engine *e = ud;
    const hwnas__eng_node *nd = &e->nodes[k];
    size_t n = e->batch;
    int acc;
    *rc = HWNAS_OK;
    if (nd->kind == HWNAS_NET_DROPOUT) {
        float *dx = hwnas__k_dx(e, k, 0, &acc);
        for (size_t i = 0; dx && i < n * nd->size; i++)
            dx[i] = (acc ? dx[i] : 0.0f) + e->dact[k][i];
        return 1;
    }
    if (nd->kind != HWNAS_NET_BATCHNORM)
        return 0;
    size_t o = nd->fused_act ? nd->fused_act : k, hw = nd->h * nd->w;
    int fn = nd->fused_act ? e->nodes[o].a.fn : -1;
    const float *y = e->act[o], *dy = e->dact[o], *gamma = e->params + nd->p_off;
    const float *rvar = e->state + nd->s_off + nd->c;
    float *dx = hwnas__k_dx(e, k, 0, &acc);
    if (dx)
        for (size_t s = 0; s < n; s++)
            for (size_t c = 0; c < nd->c; c++) {
                float a = (float)(gamma[c] / sqrt((double)rvar[c] + e->bn_eps));
                size_t b = (s * nd->c + c) * hw;
                for (size_t q = 0; q < hw; q++) {
                    float v = y[b + q];
                    int pass = fn < 0 || (v > 0 && (fn != HWNAS_NET_ACT_RELU6 || v < 6));
                    float g = pass ? a * dy[b + q] : 0.0f;
                    dx[b + q] = acc ? dx[b + q] + g : g;
                }
            }
    memset(e->grads + nd->p_off, 0, nd->n_p * sizeof(float));
    return 1;
}

static int synflow(double *out, hwnas__engine *e, float *dlogits)
{
    size_t in_size = e->nodes[e->input].size, k_size = e->nodes[e->logits].size;
    float *ones = hwnas__malloc(e->ctx, in_size * sizeof *ones);
    if (!ones)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < in_size; i++)
        ones[i] = 1.0f;
    for (size_t i = 0; i < e->n_params; i++)
        e->params[i] = fabsf(e->params[i]);
    for (size_t i = 0; i < e->n_state; i++)
        e->state[i] = fabsf(e->state[i]);
    int rc = hwnas__engine_forward(e, ones, 1, 0, 0);
    hwnas__free(e->ctx, ones);
    if (rc != HWNAS_OK)
        return rc;
    for (size_t i = 0; i < k_size; i++)
        dlogits[i] = 1.0f;
    rc = hwnas__engine_backward_walk(e, dlogits, synflow_node, e);
    if (rc != HWNAS_OK)
        return rc;
    double sum = 0;
    for (size_t k = 0; k < e->n; k++) {
        size_t nw = layer_weights(e, k);
        const float *w = e->params + e->nodes[k].p_off, *g = e->grads + e->nodes[k].p_off;
        for (size_t i = 0; i < nw; i++)
            sum += (double)g[i] * w[i];
    }
    *out = sum;
    return isfinite(sum) ? HWNAS_OK
                         : hwnas__error(HWNAS_EINVAL, "zero-cost: synflow overflows single "
                                        "precision (%g): the net is too deep for it", sum);
}

/* ---- the driver ------------------------------------------------------------ */

/* grasp's Hessian-gradient product H g = (grad(w + h g) - grad(w - h g)) /
 * 2h over the weights (the same minibatch and dropout masks), with h such
 * that the step h g is 1e-4 of the weights' norm. Against PyTorch's double
 * backward this step was within 1e-4 (relative), where 1e-3 and 1e-5 were
 * off by 0.5-20% and 0.1-0.3%: larger steps flip ReLUs and max-pool
 * choices, smaller ones drown in single-precision rounding. */
static int grasp(double *out, hwnas__engine *e, const float *x, const int32_t *labels, size_t n,
                 uint64_t step, float *dlogits, const float *w0, const float *g0, float *gp)
{
    double wn = 0, gn = 0;
    for (size_t k = 0; k < e->n; k++) {
        size_t off = e->nodes[k].p_off, nw = layer_weights(e, k);
        for (size_t i = 0; i < nw; i++)
            wn += (double)w0[off + i] * w0[off + i], gn += (double)g0[off + i] * g0[off + i];
    }
    if (!(gn > 0)) {
        *out = 0; /* no gradient reaches the weights: H g = 0 */
        return HWNAS_OK;
    }
    double h = 1e-4 * sqrt(wn / gn);
    for (int side = 0; side < 2; side++) {
        double sh = side ? -h : h;
        for (size_t k = 0; k < e->n; k++) {
            size_t off = e->nodes[k].p_off, nw = layer_weights(e, k);
            for (size_t i = 0; i < nw; i++)
                e->params[off + i] = (float)(w0[off + i] + sh * g0[off + i]);
        }
        int rc = loss_pass(e, x, labels, n, step, dlogits);
        memcpy(e->params, w0, e->n_params * sizeof *w0);
        if (rc != HWNAS_OK)
            return rc;
        if (side == 0)
            memcpy(gp, e->grads, e->n_params * sizeof *gp);
    }
    double sum = 0;
    for (size_t k = 0; k < e->n; k++) {
        size_t off = e->nodes[k].p_off, nw = layer_weights(e, k);
        for (size_t i = 0; i < nw; i++) {
            double hg = ((double)gp[off + i] - e->grads[off + i]) / (2 * h);
            sum -= hg * w0[off + i];
        }
    }
    *out = sum;
    return HWNAS_OK;
}

int hwnas__zero_cost(double *out, hwnas__engine *e, const float *x, const int32_t *labels,
                     size_t n, unsigned which, uint64_t step)
{
    if (n < 2 || n > e->batch_cap)
        return hwnas__error(HWNAS_EINVAL, "zero-cost: a minibatch of %zu samples (at least 2, "
                            "buffers for %zu)", n, e->batch_cap);
    size_t classes = e->nodes[e->logits].size;
    for (size_t s = 0; s < n; s++)
        if (labels[s] < 0 || (size_t)labels[s] >= classes)
            return hwnas__error(HWNAS_EINVAL, "zero-cost: label %ld of sample %zu is not one of "
                                "the net's %zu classes", (long)labels[s], s, classes);
    const hwnas_context *ctx = e->ctx;
    float *dlogits = hwnas__malloc(ctx, n * classes * sizeof *dlogits);
    float *w0 = hwnas__malloc(ctx, (e->n_params + 1) * sizeof *w0);
    float *g0 = hwnas__malloc(ctx, (e->n_params + 1) * sizeof *g0);
    float *gp = hwnas__malloc(ctx, (e->n_params + 1) * sizeof *gp);
    float *s0 = hwnas__malloc(ctx, (e->n_state + 1) * sizeof *s0);
    int rc = HWNAS_ENOMEM;
    if (!dlogits || !w0 || !g0 || !gp || !s0)
        goto done;
    memcpy(w0, e->params, e->n_params * sizeof *w0);
    memcpy(s0, e->state, e->n_state * sizeof *s0);
    rc = HWNAS_OK;
    unsigned grad_based = (1u << HWNAS__ZC_GRAD_NORM) | (1u << HWNAS__ZC_SNIP) |
                          (1u << HWNAS__ZC_GRASP) | (1u << HWNAS__ZC_NASWOT) |
                          (1u << HWNAS__ZC_NASWOT_PWL);
    if (which & grad_based) {
        rc = loss_pass(e, x, labels, n, step, dlogits);
        if (rc == HWNAS_OK && (which & (1u << HWNAS__ZC_NASWOT)))
            rc = naswot(&out[HWNAS__ZC_NASWOT], e, n, 0);
        if (rc == HWNAS_OK && (which & (1u << HWNAS__ZC_NASWOT_PWL)))
            rc = naswot(&out[HWNAS__ZC_NASWOT_PWL], e, n, 1);
        if (rc != HWNAS_OK)
            goto done;
        double norm = 0, snip = 0;
        for (size_t k = 0; k < e->n; k++) {
            size_t off = e->nodes[k].p_off, nw = layer_weights(e, k);
            double sq = 0;
            for (size_t i = 0; i < nw; i++) {
                double g = e->grads[off + i];
                sq += g * g;
                snip += fabs(g * w0[off + i]);
            }
            norm += sqrt(sq);
        }
        if (which & (1u << HWNAS__ZC_GRAD_NORM))
            out[HWNAS__ZC_GRAD_NORM] = norm;
        if (which & (1u << HWNAS__ZC_SNIP))
            out[HWNAS__ZC_SNIP] = snip;
        memcpy(g0, e->grads, e->n_params * sizeof *g0);
        if (which & (1u << HWNAS__ZC_GRASP))
            rc = grasp(&out[HWNAS__ZC_GRASP], e, x, labels, n, step, dlogits, w0, g0, gp);
    }
    if (rc == HWNAS_OK && (which & (1u << HWNAS__ZC_JACOB_COV)))
        rc = jacob_cov(&out[HWNAS__ZC_JACOB_COV], e, x, n, step, dlogits);
    /* synflow's batch-norm runs on the initial running statistics, which
     * the training passes moved */
    memcpy(e->params, w0, e->n_params * sizeof *w0);
    memcpy(e->state, s0, e->n_state * sizeof *s0);
    if (rc == HWNAS_OK && (which & (1u << HWNAS__ZC_SYNFLOW)))
        rc = synflow(&out[HWNAS__ZC_SYNFLOW], e, dlogits);
    /* the engine as it came: weights and running statistics (the training
     * passes moved the latter) */
    memcpy(e->params, w0, e->n_params * sizeof *w0);
    memcpy(e->state, s0, e->n_state * sizeof *s0);
    for (int p = 0; rc == HWNAS_OK && p < HWNAS__ZC_COUNT; p++)
        if ((which & (1u << p)) && !isfinite(out[p]))
            rc = not_finite(hwnas__zc_names[p], out[p]);
done:
    hwnas__free(ctx, dlogits);
    hwnas__free(ctx, w0);
    hwnas__free(ctx, g0);
    hwnas__free(ctx, gp);
    hwnas__free(ctx, s0);
    return rc;
}
