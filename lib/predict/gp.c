/*
 * predictor:gp - exact Gaussian-process regression.
 *
 * k(x, x') = s2 * kappa(|x - x'| / ell), kappa RBF or Matern-5/2, plus
 * noise g * s2 on the diagonal. For a given length scale ell and noise
 * ratio g the signal variance that maximises the marginal likelihood has
 * a closed form, s2 = y' (K + g I)^-1 y / n, so the likelihood is
 * profiled over (ell, g) on a log grid around the median distance (every
 * point one Cholesky factorisation, dpotrf from OpenBLAS's LAPACK), then
 * refined by golden-section search in log ell at the best g. Targets are
 * standardised by the object, so the prior mean is 0.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "predict_internal.h"

/* LAPACK through OpenBLAS (it exports the Fortran symbols). */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info);

enum { OPT_SEED, OPT_KERNEL, OPT_LENGTH, OPT_NOISE, OPT_MAX_POINTS };
enum { K_RBF, K_MATERN };

static const hwnas__option_spec gp_options[] = {
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "random seed; 0 = the context's seed (the GP itself draws nothing)"},
    [OPT_KERNEL] = {"kernel", HWNAS_OPTION_ENUM, "matern52", 0, 0, "rbf|matern52",
                    "covariance of two feature vectors, by their Euclidean distance"},
    [OPT_LENGTH] = {"length_scale", HWNAS_OPTION_FLOAT, "0", 0, 1e12, NULL,
                    "fixed length scale; 0 = chosen by the marginal likelihood"},
    [OPT_NOISE] = {"noise", HWNAS_OPTION_FLOAT, "0", 0, 1e6, NULL,
                   "fixed noise-to-signal variance ratio; 0 = chosen by the marginal "
                   "likelihood"},
    [OPT_MAX_POINTS] = {"max_points", HWNAS_OPTION_INT, "4000", 2, 46000, NULL,
                        "most training rows (memory grows with their square)"},
};

typedef struct gp {
    int kernel;
    double ell, g, s2;  /* chosen length scale, noise ratio, signal variance */
    double log_ml;      /* the marginal likelihood reached */
    size_t n;
    double *x;          /* n * d training rows (copied) */
    double *chol;       /* n * n: the Cholesky factor of kappa + g I (column-major lower) */
    double *alpha;      /* n: (kappa + g I)^-1 y */
} gp;

static void gp_clear(hwnas_predictor *p)
{
    gp *m = p->model;
    hwnas__free(p->ctx, m->x);
    hwnas__free(p->ctx, m->chol);
    hwnas__free(p->ctx, m->alpha);
    hwnas__free(p->ctx, m);
}

static double kappa(int kernel, double r2, double ell)
{
    if (kernel == K_RBF)
        return exp(-0.5 * r2 / (ell * ell));
    double r = sqrt(5.0 * r2) / ell;
    return (1 + r + r * r / 3) * exp(-r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double dist2(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

/* Factor kappa(D) + g I into m->chol and solve for alpha; the profiled log
 * marginal likelihood into *out (-inf when not positive definite). */
static void evaluate(gp *m, const double *D, const double *y, double ell, double g,
                     double *out)
{
    size_t n = m->n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            m->chol[j * n + i] = kappa(m->kernel, D[j * n + i], ell) + (i == j ? g : 0);
    int N = (int)n, one = 1, info = 0;
    dpotrf_("L", &N, m->chol, &N, &info);
    *out = -INFINITY;
    if (info != 0)
        return;
    memcpy(m->alpha, y, n * sizeof *y);
    dpotrs_("L", &N, &one, m->chol, &N, m->alpha, &N, &info);
    if (info != 0)
        return;
    double quad = 0, logdet = 0;
    for (size_t i = 0; i < n; i++) {
        quad += y[i] * m->alpha[i];
        logdet += log(m->chol[i * n + i]);
    }
    double s2 = quad / (double)n;
    if (!(s2 > 0))
        return;
    *out = -0.5 * (double)n * log(s2) - logdet;
}

static int gp_fit(hwnas_predictor *p, const double *x, const double *y, size_t n, size_t d)
{
    const hwnas_options *o = p->options;
    size_t max_n = (size_t)hwnas__options_int(o, OPT_MAX_POINTS);
    if (n > max_n)
        return hwnas__error(HWNAS_EINVAL, "predictor:gp: %zu training rows, more than "
                                          "max_points=%zu",
                            n, max_n);
    gp *m = hwnas__calloc(p->ctx, 1, sizeof *m);
    if (!m)
        return HWNAS_ENOMEM;
    p->model = m;
    m->kernel = (int)hwnas__options_int(o, OPT_KERNEL);
    m->n = n;
    m->x = hwnas__malloc(p->ctx, n * d * sizeof *m->x);
    m->chol = hwnas__malloc(p->ctx, n * n * sizeof *m->chol);
    m->alpha = hwnas__malloc(p->ctx, n * sizeof *m->alpha);
    double *D = hwnas__malloc(p->ctx, n * n * sizeof *D);
    /* The grid's centre: the median distance among the first rows (a
     * sample keeps this cheap for large n). */
    size_t n_med = n < 300 ? n : 300;
    double *pos = hwnas__malloc(p->ctx, (n_med * (n_med - 1) / 2 + 1) * sizeof *pos);
    if (!m->x || !m->chol || !m->alpha || !D || !pos) {
        hwnas__free(p->ctx, D);
        hwnas__free(p->ctx, pos);
        return HWNAS_ENOMEM;
    }
    memcpy(m->x, x, n * d * sizeof *x);
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            D[j * n + i] = dist2(x + i * d, x + j * d, d);
            if (j < i && i < n_med && D[j * n + i] > 0)
                pos[n_pos++] = D[j * n + i];
        }
    double med = 1;
    if (n_pos) {
        qsort(pos, n_pos, sizeof *pos, cmp_double);
        med = sqrt(pos[n_pos / 2]);
    }
    hwnas__free(p->ctx, pos);
    double fix_ell = hwnas__options_float(o, OPT_LENGTH), fix_g = hwnas__options_float(o, OPT_NOISE);
    double best = -INFINITY, best_ell = fix_ell > 0 ? fix_ell : med, best_g = fix_g > 0 ? fix_g : 1e-2;
    /* Grid: ell = med * 2^(k/2), k = -4..4; g = 10^(-t/2), t = 0..6. */
    for (int ke = -4; ke <= 4; ke++) {
        double ell = fix_ell > 0 ? fix_ell : med * pow(2.0, ke / 2.0);
        for (int tg = 0; tg <= 6; tg++) {
            double g = fix_g > 0 ? fix_g : pow(10.0, -tg / 2.0), v;
            evaluate(m, D, y, ell, g, &v);
            if (v > best) {
                best = v;
                best_ell = ell;
                best_g = g;
            }
            if (fix_g > 0)
                break;
        }
        if (fix_ell > 0)
            break;
    }
    /* Golden section on log ell, within one grid step of the best. */
    if (fix_ell <= 0 && isfinite(best)) {
        const double phi = 0.6180339887498949;
        double a = log(best_ell) - 0.5 * log(2.0), b = log(best_ell) + 0.5 * log(2.0);
        double c = b - phi * (b - a), e = a + phi * (b - a), fc, fe;
        evaluate(m, D, y, exp(c), best_g, &fc);
        evaluate(m, D, y, exp(e), best_g, &fe);
        for (int it = 0; it < 12; it++) {
            if (fc > fe) {
                b = e, e = c, fe = fc;
                c = b - phi * (b - a);
                evaluate(m, D, y, exp(c), best_g, &fc);
            } else {
                a = c, c = e, fc = fe;
                e = a + phi * (b - a);
                evaluate(m, D, y, exp(e), best_g, &fe);
            }
        }
        double ell = exp(fc > fe ? c : e), v = fc > fe ? fc : fe;
        if (v > best) {
            best = v;
            best_ell = ell;
        }
    }
    if (!isfinite(best)) {
        hwnas__free(p->ctx, D);
        return hwnas__error(HWNAS_EINVAL, "predictor:gp: the covariance matrix is not positive "
                                          "definite at any length scale and noise tried "
                                          "(set noise larger)");
    }
    m->ell = best_ell;
    m->g = best_g;
    m->log_ml = best;
    evaluate(m, D, y, best_ell, best_g, &best);
    double quad = 0;
    for (size_t i = 0; i < n; i++)
        quad += y[i] * m->alpha[i];
    m->s2 = quad / (double)n;
    hwnas__free(p->ctx, D);
    return HWNAS_OK;
}

static int gp_predict(const hwnas_predictor *p, const double *x, size_t n, double *mean,
                      double *std)
{
    const gp *m = p->model;
    size_t N = m->n;
    double *k = hwnas__malloc(p->ctx, N * sizeof *k);
    if (!k)
        return HWNAS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        double mu = 0;
        for (size_t j = 0; j < N; j++) {
            k[j] = kappa(m->kernel, dist2(x + i * p->d, m->x + j * p->d, p->d), m->ell);
            mu += k[j] * m->alpha[j];
        }
        cblas_dtrsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)N, m->chol,
                    (int)N, k, 1);
        double vv = 0;
        for (size_t j = 0; j < N; j++)
            vv += k[j] * k[j];
        double var = m->s2 * (1 - vv);
        mean[i] = mu;
        std[i] = var > 0 ? sqrt(var) : 0;
    }
    hwnas__free(p->ctx, k);
    return HWNAS_OK;
}

static const hwnas__predictor_impl gp_impl = {gp_fit, gp_predict, gp_clear};

const hwnas__kind hwnas__predictor_gp_kind = {
    "predictor:gp", gp_options, HWNAS_ARRAY_SIZE(gp_options), &gp_impl,
};
