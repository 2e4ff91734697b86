/*
 * strategy:reinforce - REINFORCE (Williams, 1992) as used for NAS by Zoph
 * and Le (2017).
 *
 * The policy draws one categorical choice per gene: either factorised
 * (independent logits per gene) or an LSTM controller that reads the
 * embedding of the previous choice and emits each gene's logits from its
 * hidden state. Each told result updates the policy by Adam ascent on
 *
 *     (R - b) * log pi(genes) + entropy * H(pi)
 *
 * where R = -(scalarised objective, normalised by the running min/max;
 * infeasible and failed results rank below every feasible one) and b is an
 * exponential moving average of past rewards.
 */
#include <math.h>
#include <string.h>

#include "strategy_internal.h"

enum { OPT_SEED, OPT_CTRL, OPT_LR, OPT_BASELINE, OPT_ENTROPY, OPT_HIDDEN, OPT_WEIGHTS, OPT_OBJ };
enum { CTRL_FACTORISED, CTRL_LSTM };

static const hwnas__option_spec reinforce_options[] = {
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "random seed; 0 = the context's seed"},
    [OPT_CTRL] = {"controller", HWNAS_OPTION_ENUM, "factorised", 0, 0, "factorised|lstm",
                  "independent logits per gene, or an LSTM over the genes (Zoph and Le)"},
    [OPT_LR] = {"lr", HWNAS_OPTION_FLOAT, "0.05", 1e-9, 10, NULL, "Adam learning rate"},
    [OPT_BASELINE] = {"baseline", HWNAS_OPTION_FLOAT, "0.9", 0, 1, NULL,
                      "decay of the moving-average reward baseline"},
    [OPT_ENTROPY] = {"entropy", HWNAS_OPTION_FLOAT, "0.0001", 0, 100, NULL,
                     "weight of the policy entropy bonus"},
    [OPT_HIDDEN] = {"hidden", HWNAS_OPTION_INT, "32", 1, 1024, NULL,
                    "LSTM hidden and embedding size"},
    [OPT_WEIGHTS] = {"weights", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                     "comma-separated weights of the normalised objectives (empty: all 1)"},
    [OPT_OBJ] = {"objective", HWNAS_OPTION_INT, "-1", -1, 1000, NULL,
                 "optimise only this objective (0-based) under the constraints; -1: weighted "
                 "sum"},
};

const hwnas__kind hwnas__strategy_reinforce_kind = {
    "strategy:reinforce", reinforce_options, HWNAS_ARRAY_SIZE(reinforce_options),
    &hwnas__strategy_reinforce_impl,
};

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8

typedef struct rf {
    int ctrl;              /* CTRL_* */
    double lr, decay, beta; /* Adam rate, baseline decay, entropy weight */
    size_t H;              /* LSTM size */
    hwnas__scalarizer z;   /* objectives to one number */
    size_t n_par;          /* parameters */
    double *par;           /* n_par parameters */
    double *m1, *m2;       /* Adam moments */
    double *grad;          /* n_par, scratch */
    uint64_t steps;        /* Adam steps taken */
    double baseline;       /* moving average of rewards */
    uint64_t n_rewards;    /* rewards seen */
    uint64_t made;         /* candidates handed out */
    size_t *off;           /* n_genes + 1: logits offset of each gene */
    size_t max_card;       /* largest cardinality */
    double *prob;          /* max_card, scratch */
    /* LSTM layout (offsets into par) and scratch */
    size_t o_wx, o_wh, o_b, o_start, o_emb, o_out, o_outb;
    double *act;           /* per step: x, h, c, gates (i f g o), tanh(c) */
    double *dh, *dc, *tmp; /* backprop scratch */
} rf;

/* ---- shared helpers ------------------------------------------------------- */

static void softmax(const double *z, size_t n, double *p)
{
    double mx = z[0];
    for (size_t k = 1; k < n; k++)
        mx = z[k] > mx ? z[k] : mx;
    double s = 0;
    for (size_t k = 0; k < n; k++)
        s += p[k] = exp(z[k] - mx);
    for (size_t k = 0; k < n; k++)
        p[k] /= s;
}

static uint32_t draw(hwnas__rng *r, const double *p, size_t n)
{
    double u = hwnas__rng_uniform(r), c = 0;
    for (size_t k = 0; k + 1 < n; k++) {
        c += p[k];
        if (u < c)
            return (uint32_t)k;
    }
    return (uint32_t)(n - 1);
}

/* Gradient wrt logits of adv * log p[a] + beta * H(p), added to g. */
static void logit_grad(const double *p, size_t n, uint32_t a, double adv, double beta, double *g)
{
    double H = 0;
    for (size_t k = 0; k < n; k++)
        if (p[k] > 0)
            H -= p[k] * log(p[k]);
    for (size_t k = 0; k < n; k++) {
        double lp = p[k] > 0 ? log(p[k]) : 0;
        g[k] += adv * ((k == a) - p[k]) - beta * p[k] * (lp + H);
    }
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

/* ---- LSTM controller --------------------------------------------------------- */

/* Per step t the activations: x[H] h[H] c[H] i f g o [4H] tc[H] = 8H. */
#define ACT(e, t) ((e)->act + (t) * 8 * (e)->H)

/* One step: from input x and previous (h, c) (NULL = zeros), fill step t. */
static void lstm_step(const rf *e, size_t t, const double *x, const double *hp, const double *cp)
{
    size_t H = e->H;
    double *a = ACT(e, t), *h = a + H, *c = a + 2 * H, *gt = a + 3 * H, *tc = a + 7 * H;
    memcpy(a, x, H * sizeof *a);
    const double *wx = e->par + e->o_wx, *wh = e->par + e->o_wh, *b = e->par + e->o_b;
    for (size_t r = 0; r < 4 * H; r++) {
        double s = b[r];
        for (size_t k = 0; k < H; k++)
            s += wx[r * H + k] * x[k] + (hp ? wh[r * H + k] * hp[k] : 0);
        gt[r] = r >= 2 * H && r < 3 * H ? tanh(s) : sigm(s);
    }
    for (size_t k = 0; k < H; k++) {
        c[k] = gt[H + k] * (cp ? cp[k] : 0) + gt[k] * gt[2 * H + k];
        tc[k] = tanh(c[k]);
        h[k] = gt[3 * H + k] * tc[k];
    }
}

/* Logits of gene i from hidden h into z. */
static void lstm_logits(const rf *e, size_t i, const double *h, double *z)
{
    size_t H = e->H, n = e->off[i + 1] - e->off[i];
    const double *w = e->par + e->o_out + e->off[i] * H, *b = e->par + e->o_outb + e->off[i];
    for (size_t k = 0; k < n; k++) {
        double s = b[k];
        for (size_t j = 0; j < H; j++)
            s += w[k * H + j] * h[j];
        z[k] = s;
    }
}

/* Run the controller over genes, sampling them (sample != 0) or forcing the
 * given ones, keeping every step's activations. */
static void lstm_forward(const hwnas_strategy *s, rf *e, uint32_t *genes, int sample,
                         hwnas__rng *r)
{
    size_t H = e->H;
    for (size_t i = 0; i < s->n_genes; i++) {
        const double *x = i == 0 ? e->par + e->o_start
                                 : e->par + e->o_emb + (e->off[i - 1] + genes[i - 1]) * H;
        lstm_step(e, i, x, i ? ACT(e, i - 1) + H : NULL, i ? ACT(e, i - 1) + 2 * H : NULL);
        size_t n = e->off[i + 1] - e->off[i];
        lstm_logits(e, i, ACT(e, i) + H, e->tmp);
        softmax(e->tmp, n, e->prob);
        if (sample)
            genes[i] = draw(r, e->prob, n);
    }
}

/* Backpropagation through time of adv * log pi(genes) + beta * H into grad. */
static void lstm_backward(const hwnas_strategy *s, rf *e, const uint32_t *genes, double adv)
{
    size_t H = e->H, G = s->n_genes;
    double *g = e->grad, *dh = e->dh, *dc = e->dc;
    memset(dh, 0, H * sizeof *dh);
    memset(dc, 0, H * sizeof *dc);
    double *dz = e->tmp + e->max_card, *dgate = dz + e->max_card, *dx = dgate + 4 * H;
    for (size_t t = G; t-- > 0;) {
        double *a = ACT(e, t), *x = a, *h = a + H, *gt = a + 3 * H, *tc = a + 7 * H;
        size_t n = e->off[t + 1] - e->off[t];
        lstm_logits(e, t, h, e->tmp);
        softmax(e->tmp, n, e->prob);
        memset(dz, 0, n * sizeof *dz);
        logit_grad(e->prob, n, genes[t], adv, e->beta, dz);
        /* Output head: z = W h + b. */
        double *gw = g + e->o_out + e->off[t] * H, *gb = g + e->o_outb + e->off[t];
        const double *w = e->par + e->o_out + e->off[t] * H;
        for (size_t k = 0; k < n; k++) {
            gb[k] += dz[k];
            for (size_t j = 0; j < H; j++) {
                gw[k * H + j] += dz[k] * h[j];
                dh[j] += dz[k] * w[k * H + j];
            }
        }
        const double *cp = t ? ACT(e, t - 1) + 2 * H : NULL;
        const double *hp = t ? ACT(e, t - 1) + H : NULL;
        for (size_t k = 0; k < H; k++) {
            double i_ = gt[k], f_ = gt[H + k], g_ = gt[2 * H + k], o_ = gt[3 * H + k];
            double dct = dc[k] + dh[k] * o_ * (1 - tc[k] * tc[k]);
            dgate[3 * H + k] = dh[k] * tc[k] * o_ * (1 - o_);
            dgate[k] = dct * g_ * i_ * (1 - i_);
            dgate[2 * H + k] = dct * i_ * (1 - g_ * g_);
            dgate[H + k] = dct * (cp ? cp[k] : 0) * f_ * (1 - f_);
            dc[k] = dct * f_;
        }
        const double *wx = e->par + e->o_wx, *wh = e->par + e->o_wh;
        memset(dx, 0, H * sizeof *dx);
        memset(dh, 0, H * sizeof *dh);
        for (size_t r = 0; r < 4 * H; r++) {
            double d = dgate[r];
            g[e->o_b + r] += d;
            for (size_t k = 0; k < H; k++) {
                g[e->o_wx + r * H + k] += d * x[k];
                dx[k] += d * wx[r * H + k];
                if (hp) {
                    g[e->o_wh + r * H + k] += d * hp[k];
                    dh[k] += d * wh[r * H + k];
                }
            }
        }
        size_t xo = t == 0 ? e->o_start : e->o_emb + (e->off[t - 1] + genes[t - 1]) * H;
        for (size_t k = 0; k < H; k++)
            g[xo + k] += dx[k];
    }
}

/* ---- life cycle --------------------------------------------------------------- */

static void rf_fini(hwnas_strategy *s)
{
    rf *e = s->state;
    hwnas__scalarizer_fini(&e->z, s->ctx);
    hwnas__free(s->ctx, e->par);
    hwnas__free(s->ctx, e->m1);
    hwnas__free(s->ctx, e->m2);
    hwnas__free(s->ctx, e->grad);
    hwnas__free(s->ctx, e->off);
    hwnas__free(s->ctx, e->prob);
    hwnas__free(s->ctx, e->act);
    hwnas__free(s->ctx, e->dh);
    hwnas__free(s->ctx, e->dc);
    hwnas__free(s->ctx, e->tmp);
    hwnas__free(s->ctx, e);
}

static int rf_init(hwnas_strategy *s)
{
    rf *e = hwnas__calloc(s->ctx, 1, sizeof *e);
    if (!e)
        return HWNAS_ENOMEM;
    s->state = e;
    e->ctrl = (int)hwnas__options_int(s->options, OPT_CTRL);
    e->lr = hwnas__options_float(s->options, OPT_LR);
    e->decay = hwnas__options_float(s->options, OPT_BASELINE);
    e->beta = hwnas__options_float(s->options, OPT_ENTROPY);
    e->H = (size_t)hwnas__options_int(s->options, OPT_HIDDEN);
    int rc = hwnas__scalarizer_init(&e->z, s);
    if (rc != HWNAS_OK)
        return rc;
    size_t G = s->n_genes, H = e->H;
    e->off = hwnas__malloc(s->ctx, (G + 1) * sizeof *e->off);
    if (!e->off)
        return HWNAS_ENOMEM;
    e->off[0] = 0;
    for (size_t i = 0; i < G; i++) {
        size_t c = hwnas_space_gene_cardinality(s->space, i);
        e->off[i + 1] = e->off[i] + c;
        e->max_card = c > e->max_card ? c : e->max_card;
    }
    size_t L = e->off[G];
    if (e->ctrl == CTRL_FACTORISED) {
        e->n_par = L;
    } else {
        if (L > ((size_t)1 << 24) / H)
            return hwnas__error(HWNAS_EINVAL,
                                "%s: controller=lstm: the space has too many choices (%zu)",
                                s->kind->name, L);
        e->o_wx = 0;
        e->o_wh = e->o_wx + 4 * H * H;
        e->o_b = e->o_wh + 4 * H * H;
        e->o_start = e->o_b + 4 * H;
        e->o_emb = e->o_start + H;
        e->o_out = e->o_emb + L * H;
        e->o_outb = e->o_out + L * H;
        e->n_par = e->o_outb + L;
        e->act = hwnas__calloc(s->ctx, G * 8 * H, sizeof *e->act);
        e->dh = hwnas__calloc(s->ctx, H, sizeof *e->dh);
        e->dc = hwnas__calloc(s->ctx, H, sizeof *e->dc);
        if (!e->act || !e->dh || !e->dc)
            return HWNAS_ENOMEM;
    }
    e->par = hwnas__calloc(s->ctx, e->n_par, sizeof *e->par);
    e->m1 = hwnas__calloc(s->ctx, e->n_par, sizeof *e->m1);
    e->m2 = hwnas__calloc(s->ctx, e->n_par, sizeof *e->m2);
    e->grad = hwnas__calloc(s->ctx, e->n_par, sizeof *e->grad);
    e->prob = hwnas__calloc(s->ctx, e->max_card, sizeof *e->prob);
    e->tmp = hwnas__calloc(s->ctx, 2 * e->max_card + 5 * H, sizeof *e->tmp);
    if (!e->par || !e->m1 || !e->m2 || !e->grad || !e->prob || !e->tmp)
        return HWNAS_ENOMEM;
    if (e->ctrl == CTRL_LSTM) {
        /* Uniform in [-0.1, 0.1] as in Zoph and Le; output logits start at 0
         * biases so the first policy is close to uniform. */
        hwnas__rng r;
        hwnas__rng_seed(&r, s->seed, 0x4c53544dULL /* "LSTM" */);
        for (size_t k = 0; k < e->o_outb; k++)
            e->par[k] = 0.2 * hwnas__rng_uniform(&r) - 0.1;
    }
    return HWNAS_OK;
}

static int rf_ask(hwnas_strategy *s, size_t max, uint32_t *genes, uint64_t *tags, size_t *count)
{
    rf *e = s->state;
    hwnas__rng *r = hwnas__strategy_rng(s);
    for (size_t k = 0; k < max; k++) {
        uint32_t *g = genes + k * s->n_genes;
        if (e->ctrl == CTRL_FACTORISED) {
            for (size_t i = 0; i < s->n_genes; i++) {
                size_t n = e->off[i + 1] - e->off[i];
                softmax(e->par + e->off[i], n, e->prob);
                g[i] = draw(r, e->prob, n);
            }
        } else {
            lstm_forward(s, e, g, 1, r);
        }
        tags[k] = e->made++;
    }
    *count = max;
    return HWNAS_OK;
}

static void rf_tell(hwnas_strategy *s, size_t n, const hwnas__strategy_result *res)
{
    rf *e = s->state;
    for (size_t k = 0; k < n; k++) {
        if (res[k].unevaluated)
            continue; /* never estimated: no reward to learn from */
        hwnas__scalarizer_observe(&e->z, res[k].obj, res[k].violation, res[k].failed);
        double R = -hwnas__scalarizer_penalised(&e->z, res[k].obj, res[k].violation,
                                                res[k].failed);
        if (e->n_rewards++ == 0)
            e->baseline = R;
        double adv = R - e->baseline;
        e->baseline = e->decay * e->baseline + (1 - e->decay) * R;
        memset(e->grad, 0, e->n_par * sizeof *e->grad);
        const uint32_t *g = res[k].genes;
        if (e->ctrl == CTRL_FACTORISED) {
            for (size_t i = 0; i < s->n_genes; i++) {
                size_t c = e->off[i + 1] - e->off[i];
                softmax(e->par + e->off[i], c, e->prob);
                logit_grad(e->prob, c, g[i], adv, e->beta, e->grad + e->off[i]);
            }
        } else {
            lstm_forward(s, e, (uint32_t *)g, 0, NULL);
            lstm_backward(s, e, g, adv);
        }
        /* Adam, ascending. */
        e->steps++;
        double c1 = 1 - pow(ADAM_B1, (double)e->steps), c2 = 1 - pow(ADAM_B2, (double)e->steps);
        for (size_t p = 0; p < e->n_par; p++) {
            double d = e->grad[p];
            e->m1[p] = ADAM_B1 * e->m1[p] + (1 - ADAM_B1) * d;
            e->m2[p] = ADAM_B2 * e->m2[p] + (1 - ADAM_B2) * d * d;
            e->par[p] += e->lr * (e->m1[p] / c1) / (sqrt(e->m2[p] / c2) + ADAM_EPS);
        }
    }
}

static int rf_save(const hwnas_strategy *s, hwnas__writer *w)
{
    const rf *e = s->state;
    hwnas__scalarizer_save(&e->z, w);
    hwnas__writer_u64(w, e->steps);
    hwnas__writer_u64(w, e->n_rewards);
    hwnas__writer_u64(w, e->made);
    hwnas__writer_f64(w, e->baseline);
    for (size_t p = 0; p < e->n_par; p++) {
        hwnas__writer_f64(w, e->par[p]);
        hwnas__writer_f64(w, e->m1[p]);
        hwnas__writer_f64(w, e->m2[p]);
    }
    return HWNAS_OK;
}

static int rf_load(hwnas_strategy *s, hwnas__reader *r)
{
    rf *e = s->state;
    if (!hwnas__scalarizer_load(&e->z, r))
        return hwnas__reader_fail(r);
    e->steps = hwnas__reader_u64(r);
    e->n_rewards = hwnas__reader_u64(r);
    e->made = hwnas__reader_u64(r);
    e->baseline = hwnas__reader_f64(r);
    if (!isfinite(e->baseline))
        return hwnas__reader_fail(r);
    for (size_t p = 0; p < e->n_par && !r->failed; p++) {
        e->par[p] = hwnas__reader_f64(r);
        e->m1[p] = hwnas__reader_f64(r);
        e->m2[p] = hwnas__reader_f64(r);
        /* Parameters must stay finite, the second moment non-negative. */
        if (!isfinite(e->par[p]) || !isfinite(e->m1[p]) || !isfinite(e->m2[p]) || e->m2[p] < 0 ||
            fabs(e->par[p]) > 1e6)
            return hwnas__reader_fail(r);
    }
    for (size_t p = 0; p < s->n_pending; p++)
        if (s->pend_tag[p] >= e->made)
            return hwnas__reader_fail(r);
    return HWNAS_OK;
}

const hwnas__strategy_impl hwnas__strategy_reinforce_impl = {
    .max_objectives = 0,
    .init = rf_init,
    .fini = rf_fini,
    .ask = rf_ask,
    .tell = rf_tell,
    .save = rf_save,
    .load = rf_load,
};
