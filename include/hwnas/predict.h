/*
 * libhwnas - surrogate predictors: regressors from feature vectors to one
 * number (a metric such as accuracy), with an uncertainty where the kind
 * has one.
 *
 * A search uses them to rank candidates before spending evaluations on
 * them (the search option guide, doc/predict.md) and through the
 * estimator kind "predictor"; they are usable on their own too:
 *
 *     hwnas_predictor_new(&p, ctx, "gp", "kernel=matern52");
 *     hwnas_predictor_fit(p, x, y, n, d);       x: n rows of d features
 *     hwnas_predictor_predict(p, xt, m, mean, std);
 *     hwnas_rank_kendall(mean, yt, m, &tau);
 *
 * Feature vectors of genotypes come from hwnas_space_encode (space.h).
 *
 * Kinds (hwnas describe KIND lists each one's options):
 *   predictor:mlp   an ensemble of small dense networks (ReLU, Adam, mean
 *                   squared error) trained in lib/predict with cblas - not
 *                   through the training engine, so that predict depends on
 *                   core only; std is the spread of the ensemble (0 with
 *                   ensemble=1)
 *   predictor:gbrt  gradient-boosted regression trees (least squares,
 *                   shrinkage, row subsampling); std is 0
 *   predictor:gp    an exact Gaussian process (RBF or Matern-5/2 kernel on
 *                   the Euclidean distance, Cholesky factorisation by
 *                   LAPACK's dpotrf from OpenBLAS), its length scale and
 *                   noise chosen by the marginal likelihood; std is the
 *                   posterior standard deviation of the latent function
 * Targets are standardised inside every kind, so their scale does not
 * matter.
 *
 * Determinism: with the same options (seed among them) and the same data,
 * fit and predict give the same numbers, bit for bit, whatever the number
 * of threads.
 *
 * Thread rules: fit needs the predictor to itself; once fitted, predict
 * and the getters may run from many threads at once.
 */
#ifndef HWNAS_PREDICT_H
#define HWNAS_PREDICT_H

#include <stddef.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_predictor hwnas_predictor;
struct hwnas_context;
struct hwnas_options;

/*
 * Create an unfitted predictor of kind ("mlp", "gbrt", "gp", or
 * "predictor:mlp" ...) with options "key=value;...". Errors: HWNAS_EINVAL
 * (NULL argument, bad option: the message names it and lists the valid
 * keys), HWNAS_ENOTFOUND (unknown kind, or a kind that is not a
 * predictor), HWNAS_ENOMEM. *out is the caller's (hwnas_predictor_free),
 * NULL on error.
 */
HWNAS_API int hwnas_predictor_new(hwnas_predictor **out, struct hwnas_context *ctx,
                                  const char *kind, const char *options);

/* Free a predictor. No-op on NULL. */
HWNAS_API void hwnas_predictor_free(hwnas_predictor *predictor);

/* The kind ("predictor:gp") and options (borrowed; NULL for NULL). */
HWNAS_API const char *hwnas_predictor_kind(const hwnas_predictor *predictor);
HWNAS_API const struct hwnas_options *hwnas_predictor_options(const hwnas_predictor *predictor);

/*
 * Fit on n examples: x[n * d] row by row, targets y[n]. A fitted
 * predictor is fitted again from scratch (nothing of the earlier data is
 * kept). Errors: HWNAS_EINVAL (NULL argument, n < 2, d == 0, a feature or
 * target that is NaN or infinite: the message names the row and column);
 * HWNAS_ENOMEM. On error the predictor is left unfitted. x and y are not
 * kept.
 */
HWNAS_API int hwnas_predictor_fit(hwnas_predictor *predictor, const double *x, const double *y,
                                  size_t n, size_t d);

/*
 * Predict n rows x[n * d] (d as at fit) into mean[n] and, when std is not
 * NULL, std[n] (the kind's uncertainty, 0 where it has none). Errors:
 * HWNAS_ESTATE (not fitted yet), HWNAS_EINVAL (NULL argument, a NaN or
 * infinite feature: the message names the row and column; mean and std
 * are then unspecified). Thread-safe on a fitted predictor.
 */
HWNAS_API int hwnas_predictor_predict(const hwnas_predictor *predictor, const double *x,
                                      size_t n, double *mean, double *std);

/* Features per row of the data it was fitted on; 0 when not fitted. */
HWNAS_API size_t hwnas_predictor_dim(const hwnas_predictor *predictor);

/*
 * Rank correlations of a[n] and b[n]: Kendall's tau-b (ties counted as in
 * tau-b) and Spearman's rho (Pearson's correlation of the mid-ranks), in
 * [-1, 1]; 0 when either side is constant. Both take O(n^2) time and no
 * memory (meant for judging predictors on up to some 10^4 points).
 * Errors: HWNAS_EINVAL (NULL argument, n < 2, a NaN: the message names
 * the index). Thread-safe.
 */
HWNAS_API int hwnas_rank_kendall(const double *a, const double *b, size_t n, double *out);
HWNAS_API int hwnas_rank_spearman(const double *a, const double *b, size_t n, double *out);

HWNAS_END_DECLS

#endif /* HWNAS_PREDICT_H */
