/*
 * libhwnas - the Pareto toolkit: non-dominated sorting, crowding distance,
 * hypervolume and quality indicators.
 *
 * Usable on its own, without a search or a strategy. Conventions shared by
 * every function here:
 *
 * - Every objective is MINIMISED. Negate an objective to maximise it.
 * - A set of n points in m objectives is a row-major array of n * m doubles:
 *   objective j of point i is points[i * m + j].
 * - Point a dominates point b when a[j] <= b[j] for every j and a[j] < b[j]
 *   for at least one j. Equal points do not dominate each other.
 * - Results go into arrays the caller provides; the context only supplies
 *   the allocator for temporary memory, which is released before return.
 * - NaN coordinates are rejected with HWNAS_EINVAL (the message names the
 *   point and objective). Infinities are accepted by the sorting and
 *   crowding functions, not by the hypervolume or the indicators.
 * - On error the output arrays may have been partly written.
 *
 * Thread-safety: every function is reentrant. The same context may be used
 * by several threads at once (its allocator must then be thread-safe).
 * Results are deterministic: the same input gives the same output, bit for
 * bit, on every run.
 *
 * Algorithms and their costs are described per function and in
 * doc/pareto.md.
 */
#ifndef HWNAS_PARETO_H
#define HWNAS_PARETO_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

struct hwnas_context;

/*
 * Compare two points a and b of m objectives (m >= 1; both arrays of m
 * doubles). Returns 1 if a dominates b, -1 if b dominates a, 0 otherwise
 * (incomparable or equal). Cannot fail; NaN compares as incomparable.
 */
HWNAS_API int hwnas_pareto_dominance(const double *a, const double *b, size_t m);

/*
 * Non-dominated sorting: out_rank[i] receives the front of point i, 0 for
 * the non-dominated points, 1 for those dominated only by front 0, and so
 * on (Deb's fronts). Equal points always share a front. *out_fronts
 * receives the number of fronts (0 when n is 0). out_fronts may be NULL.
 *
 * Algorithm: points are sorted lexicographically, duplicates merged, then
 * each point is placed by binary search over the fronts built so far.
 * m = 1 and m = 2: O(n log n). m = 3: each front keeps its 2-D staircase in
 * a balanced tree (treap), O(n log n log F) for F fronts. m >= 4: the same
 * binary search with a linear scan of each front (ENS-BS), O(m n^2) in the
 * worst case and O(n) memory.
 *
 * Errors: HWNAS_EINVAL (NULL ctx, points or out_rank with n > 0, m == 0,
 * n >= 2^32, a NaN coordinate), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_pareto_rank(uint32_t *out_rank, size_t *out_fronts,
                                struct hwnas_context *ctx, const double *points,
                                size_t n, size_t m);

/*
 * Non-dominated sorting under Deb's constraint-domination: violation[i] is
 * the total constraint violation of point i (<= 0 means feasible; it is
 * treated as 0). A feasible point beats every infeasible one; of two
 * infeasible points the smaller violation wins; two feasible points compare
 * by Pareto dominance. So the feasible points get the fronts that
 * hwnas_pareto_rank() gives them, and the infeasible ones the following
 * fronts, one per distinct violation value in increasing order (equal
 * violations share a front, whatever their objectives). violation may be
 * NULL: then this is hwnas_pareto_rank().
 *
 * Errors: those of hwnas_pareto_rank(), and HWNAS_EINVAL for a NaN
 * violation.
 */
HWNAS_API int hwnas_pareto_rank_constrained(uint32_t *out_rank, size_t *out_fronts,
                                            struct hwnas_context *ctx,
                                            const double *points,
                                            const double *violation, size_t n,
                                            size_t m);

/*
 * Crowding distance (Deb et al., NSGA-II). rank may be NULL, in which case
 * all n points form one front; otherwise the distance of each point is
 * computed among the points of its own front (rank[i] as written by
 * hwnas_pareto_rank(), any uint32 labels work). Within a front, for each
 * objective the points are ordered by that objective (ties by index); the
 * first and last get +INFINITY, each other point adds
 * (next - previous) / (max - min) of that objective. An objective whose
 * range in the front is zero adds nothing to the interior points (its
 * first and last still get +INFINITY), so a front of one or two points is
 * all +INFINITY. An objective whose range is infinite (infinite
 * coordinates) also adds nothing to interior points, so no NaN comes out.
 *
 * Cost: O(m n log n). Errors: HWNAS_EINVAL (NULL ctx, points or
 * out_distance with n > 0, m == 0, n >= 2^32, NaN), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_pareto_crowding(double *out_distance, struct hwnas_context *ctx,
                                    const double *points, size_t n, size_t m,
                                    const uint32_t *rank);

/*
 * Exact hypervolume: the Lebesgue measure of the region dominated by the
 * points and bounded by the reference point ref (m doubles), i.e. of the
 * union of the boxes [p, ref]. A point contributes only if it is strictly
 * better than ref in every objective; others are ignored. Duplicates and
 * dominated points are allowed.
 *
 * Algorithms: m = 1: ref - min. m = 2: sort and sweep, O(n log n).
 * m = 3: the sweep of Beume et al. (2009) over the third objective with the
 * 2-D staircase in a treap, O(n log n). m >= 4: WFG (While, Bradstreet and
 * Barone, 2012): exclusive contributions over limit sets, sliced along the
 * last objective down to the 3-D sweep; exponential in m in the worst case.
 *
 * Errors: HWNAS_EINVAL (NULL out, ctx, ref or points with n > 0, m == 0,
 * n >= 2^32, a coordinate or ref value that is not finite), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_pareto_hypervolume(double *out, struct hwnas_context *ctx,
                                       const double *points, size_t n, size_t m,
                                       const double *ref);

/*
 * Inverted generational distance: the mean, over the n_ref points of the
 * reference front, of the Euclidean distance to the nearest of the n
 * points of the approximation.
 *
 * Cost: O(n n_ref m). Errors: HWNAS_EINVAL (NULL out or ctx, NULL arrays
 * with a non-zero count, n == 0, n_ref == 0, m == 0, non-finite values).
 * Never allocates.
 */
HWNAS_API int hwnas_pareto_igd(double *out, struct hwnas_context *ctx,
                               const double *points, size_t n,
                               const double *reference, size_t n_ref, size_t m);

/*
 * IGD+ (Ishibuchi et al., 2015): like hwnas_pareto_igd() but the distance
 * from reference point r to approximation point a counts only where a is
 * worse: sqrt(sum_j max(a[j] - r[j], 0)^2). Weakly Pareto-compliant.
 * Same cost and errors as hwnas_pareto_igd().
 */
HWNAS_API int hwnas_pareto_igd_plus(double *out, struct hwnas_context *ctx,
                                    const double *points, size_t n,
                                    const double *reference, size_t n_ref,
                                    size_t m);

/*
 * Additive epsilon indicator I_eps+(A, R) (Zitzler et al., 2003): the
 * smallest eps such that every reference point r is weakly dominated by
 * some approximation point a shifted by -eps, i.e.
 * max over r of min over a of max over j of (a[j] - r[j]). It is <= 0 when
 * A weakly dominates R. Same cost and errors as hwnas_pareto_igd().
 */
HWNAS_API int hwnas_pareto_epsilon_additive(double *out, struct hwnas_context *ctx,
                                            const double *points, size_t n,
                                            const double *reference,
                                            size_t n_ref, size_t m);

HWNAS_END_DECLS

#endif /* HWNAS_PARETO_H */
