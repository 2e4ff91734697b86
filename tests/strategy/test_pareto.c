/* The Pareto toolkit against brute-force references and hand-worked values:
 * every fast path (2-D, 3-D, general sorting; 2-D, 3-D, WFG hypervolume) on
 * random and degenerate inputs (ties, duplicates, one point, collinear). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strategy_tests.h"
#include "strategy/pareto_internal.h"

static hwnas_context *ctx;

static int setup(void **state)
{
    (void)state;
    return hwnas_context_new(&ctx, "threads=1");
}

static int teardown(void **state)
{
    (void)state;
    hwnas_context_free(ctx);
    return 0;
}

/* ---- brute-force references ------------------------------------------ */

static int dominates(const double *a, const double *b, size_t m)
{
    int strict = 0;
    for (size_t j = 0; j < m; j++) {
        if (a[j] > b[j])
            return 0;
        strict |= a[j] < b[j];
    }
    return strict;
}

/* Constraint-domination (Deb): feasible beats infeasible, then smaller
 * violation, then Pareto dominance. viol may be NULL. */
static int cdominates(const double *p, const double *viol, size_t a, size_t b, size_t m)
{
    if (viol) {
        double va = viol[a] > 0 ? viol[a] : 0, vb = viol[b] > 0 ? viol[b] : 0;
        if (va > 0 || vb > 0)
            return va < vb;
    }
    return dominates(p + a * m, p + b * m, m);
}

/* Peel fronts: front k = the unranked points no unranked point dominates. */
static size_t naive_rank(const double *p, const double *viol, size_t n, size_t m,
                         uint32_t *rank)
{
    size_t done = 0, f = 0;
    uint32_t *cur = malloc((n ? n : 1) * sizeof *cur);
    for (size_t i = 0; i < n; i++)
        rank[i] = UINT32_MAX;
    while (done < n) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            if (rank[i] != UINT32_MAX)
                continue;
            int dom = 0;
            for (size_t j = 0; j < n && !dom; j++)
                dom = rank[j] == UINT32_MAX && cdominates(p, viol, j, i, m);
            if (!dom)
                cur[c++] = (uint32_t)i;
        }
        for (size_t k = 0; k < c; k++)
            rank[cur[k]] = (uint32_t)f;
        done += c;
        f++;
    }
    free(cur);
    return f;
}

/* Hypervolume by inclusion-exclusion over all subsets (n <= 16). */
static double hv_inclusion_exclusion(const double *p, size_t n, size_t m, const double *ref)
{
    double total = 0;
    for (uint32_t s = 1; s < (1u << n); s++) {
        double corner[8], vol = 1;
        int bits = 0;
        for (size_t j = 0; j < m; j++)
            corner[j] = -INFINITY;
        for (size_t i = 0; i < n; i++)
            if (s & (1u << i)) {
                bits++;
                for (size_t j = 0; j < m; j++)
                    corner[j] = fmax(corner[j], p[i * m + j]);
            }
        for (size_t j = 0; j < m; j++)
            vol *= fmax(ref[j] - corner[j], 0);
        total += (bits & 1) ? vol : -vol;
    }
    return total;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Hypervolume by covering the grid of all coordinates cell by cell. */
static double hv_grid(const double *p, size_t n, size_t m, const double *ref)
{
    double *axis[8];
    size_t len[8], cell[8] = {0};
    for (size_t j = 0; j < m; j++) {
        axis[j] = malloc((n + 1) * sizeof(double));
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
            if (p[i * m + j] < ref[j])
                axis[j][c++] = p[i * m + j];
        axis[j][c++] = ref[j];
        qsort(axis[j], c, sizeof(double), cmp_double);
        len[j] = c;
    }
    double total = 0;
    for (;;) {
        int ok = 1;
        for (size_t j = 0; j < m; j++)
            ok &= cell[j] + 1 < len[j];
        if (ok) {
            double vol = 1;
            for (size_t j = 0; j < m; j++)
                vol *= axis[j][cell[j] + 1] - axis[j][cell[j]];
            int covered = 0;
            for (size_t i = 0; i < n && !covered && vol > 0; i++) {
                covered = 1;
                for (size_t j = 0; j < m; j++)
                    covered &= p[i * m + j] <= axis[j][cell[j]] && p[i * m + j] < ref[j];
            }
            if (covered)
                total += vol;
        }
        size_t j = 0;
        while (j < m && ++cell[j] >= len[j])
            cell[j++] = 0;
        if (j == m)
            break;
    }
    for (size_t j = 0; j < m; j++)
        free(axis[j]);
    return total;
}

/* ---- random inputs ---------------------------------------------------- */

enum { GEN_UNIFORM, GEN_GRID, GEN_DUPLICATES, GEN_COLLINEAR, GEN_CHAIN, GEN_SAME, GEN_COUNT };

static void generate(double *p, size_t n, size_t m, int kind, hwnas__rng *r)
{
    for (size_t i = 0; i < n; i++) {
        double t = hwnas__rng_uniform(r);
        for (size_t j = 0; j < m; j++) {
            double v;
            switch (kind) {
            case GEN_GRID: v = (double)hwnas__rng_below(r, 4); break;
            case GEN_DUPLICATES:
                v = i > 0 && hwnas__rng_below(r, 2) ? p[(size_t)hwnas__rng_below(r, i) * m + j]
                                                    : hwnas__rng_uniform(r);
                break;
            case GEN_COLLINEAR: v = j == 0 ? t : (j == 1 ? 1 - t : 0.5); break; /* one front */
            case GEN_CHAIN: v = t * (double)(j + 1); break; /* a total order */
            case GEN_SAME: v = 0.25; break;
            default: v = hwnas__rng_uniform(r); break;
            }
            p[i * m + j] = v;
        }
        if (kind == GEN_DUPLICATES && i > 0 && hwnas__rng_below(r, 3) == 0)
            memcpy(p + i * m, p + hwnas__rng_below(r, i) * m, m * sizeof *p); /* whole row */
    }
}

/* ---- sorting ---------------------------------------------------------- */

static void test_rank_hand(void **state)
{
    (void)state;
    /* fronts: {a, b, c}, {d, e (= d)}, {f} */
    const double p[] = {1, 5,  2, 2,  5, 1,  3, 3,  3, 3,  4, 4};
    uint32_t rank[6];
    size_t fronts = 99;
    assert_int_equal(hwnas_pareto_rank(rank, &fronts, ctx, p, 6, 2), HWNAS_OK);
    const uint32_t want[] = {0, 0, 0, 1, 1, 2};
    assert_memory_equal(rank, want, sizeof want);
    assert_int_equal(fronts, 3);
    /* the same in 3-D with a third objective that changes nothing */
    const double q[] = {1, 5, 0,  2, 2, 0,  5, 1, 0,  3, 3, 0,  3, 3, 0,  4, 4, 0};
    assert_int_equal(hwnas_pareto_rank(rank, &fronts, ctx, q, 6, 3), HWNAS_OK);
    assert_memory_equal(rank, want, sizeof want);
    /* ... and one that splits the duplicates and reorders the last front */
    const double s[] = {1, 5, 0,  2, 2, 0,  5, 1, 0,  3, 3, 1,  3, 3, 0,  4, 4, -1};
    const uint32_t want_s[] = {0, 0, 0, 2, 1, 0};
    assert_int_equal(hwnas_pareto_rank(rank, &fronts, ctx, s, 6, 3), HWNAS_OK);
    assert_memory_equal(rank, want_s, sizeof want_s);
    assert_int_equal(fronts, 3);
    /* m = 1: fronts are the distinct values in order */
    const double v[] = {3, 1, 2, 1, 3};
    const uint32_t want_v[] = {2, 0, 1, 0, 2};
    uint32_t r5[5];
    assert_int_equal(hwnas_pareto_rank(r5, &fronts, ctx, v, 5, 1), HWNAS_OK);
    assert_memory_equal(r5, want_v, sizeof want_v);
    assert_int_equal(fronts, 3);
    /* n = 0 and n = 1 */
    assert_int_equal(hwnas_pareto_rank(NULL, &fronts, ctx, NULL, 0, 2), HWNAS_OK);
    assert_int_equal(fronts, 0);
    assert_int_equal(hwnas_pareto_rank(rank, &fronts, ctx, p, 1, 2), HWNAS_OK);
    assert_int_equal(rank[0], 0);
    assert_int_equal(fronts, 1);
}

static void check_rank_case(size_t n, size_t m, int kind, hwnas__rng *r, int with_viol)
{
    double *p = malloc((n ? n : 1) * m * sizeof *p), *viol = malloc((n ? n : 1) * sizeof *viol);
    uint32_t *want = malloc((n ? n : 1) * sizeof *want), *got = malloc((n ? n : 1) * sizeof *got);
    generate(p, n, m, kind, r);
    for (size_t i = 0; i < n; i++) {
        uint64_t c = hwnas__rng_below(r, 4);
        viol[i] = c == 0 ? 0 : c == 1 ? -1.0 : (double)hwnas__rng_below(r, 3) * 0.5;
    }
    size_t fw = naive_rank(p, with_viol ? viol : NULL, n, m, want), fg = 12345;
    if (with_viol) {
        assert_int_equal(hwnas_pareto_rank_constrained(got, &fg, ctx, p, viol, n, m), HWNAS_OK);
    } else {
        assert_int_equal(hwnas_pareto_rank(got, &fg, ctx, p, n, m), HWNAS_OK);
        if (n)
            assert_memory_equal(got, want, n * sizeof *got);
        assert_int_equal(fg, fw);
        fg = 12345;
        assert_int_equal(hwnas__pareto_rank_algo(got, &fg, ctx, p, n, m,
                                                 HWNAS__PARETO_RANK_GENERAL), HWNAS_OK);
    }
    if (n)
        assert_memory_equal(got, want, n * sizeof *got);
    assert_int_equal(fg, fw);
    free(p);
    free(viol);
    free(want);
    free(got);
}

static void test_rank_random(void **state)
{
    (void)state;
    hwnas__rng r;
    hwnas__rng_seed(&r, 7, 1);
    static const size_t sizes[] = {0, 1, 2, 3, 5, 17, 64, 300};
    for (size_t m = 1; m <= 5; m++)
        for (int kind = 0; kind < GEN_COUNT; kind++)
            for (size_t s = 0; s < HWNAS_ARRAY_SIZE(sizes); s++)
                for (int rep = 0; rep < 3; rep++)
                    check_rank_case(sizes[s], m, kind, &r, 0);
}

static void test_rank_constrained(void **state)
{
    (void)state;
    /* feasible a dominated by feasible b; infeasible c (0.5) and d (0.5)
     * share a front whatever their objectives; e (2) is last. */
    const double p[] = {2, 2,  1, 1,  0, 0,  9, 9,  -5, -5};
    const double v[] = {0, -3, 0.5, 0.5, 2};
    uint32_t rank[5];
    size_t fronts;
    assert_int_equal(hwnas_pareto_rank_constrained(rank, &fronts, ctx, p, v, 5, 2), HWNAS_OK);
    const uint32_t want[] = {1, 0, 2, 2, 3};
    assert_memory_equal(rank, want, sizeof want);
    assert_int_equal(fronts, 4);
    /* all infeasible */
    const double v2[] = {3, 1, 2, 1, 3};
    const uint32_t want2[] = {2, 0, 1, 0, 2};
    assert_int_equal(hwnas_pareto_rank_constrained(rank, &fronts, ctx, p, v2, 5, 2), HWNAS_OK);
    assert_memory_equal(rank, want2, sizeof want2);
    assert_int_equal(fronts, 3);
    /* NULL violations: plain sorting */
    assert_int_equal(hwnas_pareto_rank_constrained(rank, &fronts, ctx, p, NULL, 5, 2), HWNAS_OK);
    const uint32_t want3[] = {3, 2, 1, 4, 0};
    assert_memory_equal(rank, want3, sizeof want3);

    hwnas__rng r;
    hwnas__rng_seed(&r, 8, 1);
    for (size_t m = 1; m <= 4; m++)
        for (int kind = 0; kind < GEN_COUNT; kind++)
            for (size_t n = 0; n < 60; n += 7)
                check_rank_case(n, m, kind, &r, 1);
}

static void test_rank_large(void **state)
{
    (void)state;
    /* Many fronts and deep trees: the fast paths against ENS-BS. */
    hwnas__rng r;
    hwnas__rng_seed(&r, 9, 1);
    size_t n = 5000;
    double *p = malloc(n * 3 * sizeof *p);
    uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t m = 2; m <= 3; m++) {
        for (int kind = GEN_UNIFORM; kind <= GEN_DUPLICATES; kind++) {
            generate(p, n, m, kind, &r);
            size_t fa, fb;
            assert_int_equal(hwnas_pareto_rank(a, &fa, ctx, p, n, m), HWNAS_OK);
            assert_int_equal(hwnas__pareto_rank_algo(b, &fb, ctx, p, n, m,
                                                     HWNAS__PARETO_RANK_GENERAL), HWNAS_OK);
            assert_memory_equal(a, b, n * sizeof *a);
            assert_int_equal(fa, fb);
            assert_true(fa > (kind == GEN_GRID ? 3u : 20u));
        }
    }
    free(p);
    free(a);
    free(b);
}

static void test_rank_errors(void **state)
{
    (void)state;
    double p[] = {1, 2, NAN, 4};
    uint32_t rank[2];
    size_t fronts = 7;
    assert_int_equal(hwnas_pareto_rank(rank, &fronts, ctx, p, 2, 2), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "points[1][0] is NaN"));
    assert_int_equal(fronts, 0);
    assert_int_equal(hwnas_pareto_rank(rank, NULL, ctx, p, 1, 0), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "m (objectives)"));
    assert_int_equal(hwnas_pareto_rank(rank, NULL, NULL, p, 1, 2), HWNAS_EINVAL);
    assert_int_equal(hwnas_pareto_rank(NULL, NULL, ctx, p, 1, 2), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "out_rank"));
    double v[] = {0, NAN};
    assert_int_equal(hwnas_pareto_rank_constrained(rank, NULL, ctx, p, v, 1, 2), HWNAS_OK);
    assert_int_equal(hwnas_pareto_rank_constrained(rank, NULL, ctx, (double[]){1, 2, 3, 4},
                                                   v, 2, 2), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "violation[1][0]"));
    /* infinities sort fine */
    double q[] = {INFINITY, 0, 0, INFINITY, -INFINITY, -INFINITY};
    assert_int_equal(hwnas_pareto_rank(rank, &fronts, ctx, q, 2, 2), HWNAS_OK);
    assert_int_equal(fronts, 1);
    uint32_t r3[3];
    assert_int_equal(hwnas_pareto_rank(r3, &fronts, ctx, q, 3, 2), HWNAS_OK);
    assert_int_equal(r3[2], 0);
    assert_int_equal(r3[0], 1);
    assert_int_equal(fronts, 2);
}

static void test_dominance(void **state)
{
    (void)state;
    assert_int_equal(hwnas_pareto_dominance((double[]){1, 2}, (double[]){1, 3}, 2), 1);
    assert_int_equal(hwnas_pareto_dominance((double[]){1, 3}, (double[]){1, 2}, 2), -1);
    assert_int_equal(hwnas_pareto_dominance((double[]){1, 3}, (double[]){2, 2}, 2), 0);
    assert_int_equal(hwnas_pareto_dominance((double[]){1, 3}, (double[]){1, 3}, 2), 0);
    assert_int_equal(hwnas_pareto_dominance((double[]){1, NAN}, (double[]){2, 3}, 2), 0);
}

/* ---- crowding ---------------------------------------------------------- */

static void test_crowding(void **state)
{
    (void)state;
    /* one front on a line: interior points get 2/3 + 2/3 */
    const double p[] = {0, 3,  1, 2,  2, 1,  3, 0};
    double d[8];
    assert_int_equal(hwnas_pareto_crowding(d, ctx, p, 4, 2, NULL), HWNAS_OK);
    assert_true(isinf(d[0]) && isinf(d[3]));
    assert_true(fabs(d[1] - 4.0 / 3) < 1e-12 && fabs(d[2] - 4.0 / 3) < 1e-12);
    /* uneven spacing, and the third objective has zero range */
    const double q[] = {0, 10, 7,  1, 6, 7,  4, 2, 7,  10, 0, 7};
    assert_int_equal(hwnas_pareto_crowding(d, ctx, q, 4, 3, NULL), HWNAS_OK);
    assert_true(isinf(d[0]) && isinf(d[3]));
    assert_true(fabs(d[1] - (4.0 / 10 + 8.0 / 10)) < 1e-12);
    assert_true(fabs(d[2] - (9.0 / 10 + 6.0 / 10)) < 1e-12);
    /* per front with labels; a lone point and a pair are infinite; points
     * listed out of order */
    const double s[] = {3, 0,  9, 9,  0, 3,  5, 5,  2, 1,  1, 2,  6, 4};
    const uint32_t rank[] = {0, 2, 0, 1, 0, 0, 1};
    assert_int_equal(hwnas_pareto_crowding(d, ctx, s, 7, 2, rank), HWNAS_OK);
    assert_true(isinf(d[0]) && isinf(d[2]) && isinf(d[1]) && isinf(d[3]) && isinf(d[6]));
    assert_true(fabs(d[4] - 4.0 / 3) < 1e-12 && fabs(d[5] - 4.0 / 3) < 1e-12);
    /* all duplicates: only the boundary (first and last by index) are infinite */
    const double t[] = {1, 1,  1, 1,  1, 1};
    assert_int_equal(hwnas_pareto_crowding(d, ctx, t, 3, 2, NULL), HWNAS_OK);
    assert_true(isinf(d[0]) && d[1] == 0 && isinf(d[2]));
    /* infinite range: no NaN */
    const double u[] = {-INFINITY, 3,  0, 2,  1, 1,  INFINITY, 0};
    assert_int_equal(hwnas_pareto_crowding(d, ctx, u, 4, 2, NULL), HWNAS_OK);
    assert_true(fabs(d[1] - 2.0 / 3) < 1e-12 && fabs(d[2] - 2.0 / 3) < 1e-12);
    assert_int_equal(hwnas_pareto_crowding(d, ctx, (double[]){NAN}, 1, 1, NULL), HWNAS_EINVAL);
    assert_int_equal(hwnas_pareto_crowding(d, ctx, NULL, 0, 2, NULL), HWNAS_OK);
}

/* ---- hypervolume ------------------------------------------------------- */

static double hv(const double *p, size_t n, size_t m, const double *ref)
{
    double v = -1;
    assert_int_equal(hwnas_pareto_hypervolume(&v, ctx, p, n, m, ref), HWNAS_OK);
    return v;
}

static void test_hv_hand(void **state)
{
    (void)state;
    assert_true(hv((double[]){1, 2, 2, 1}, 2, 2, (double[]){3, 3}) == 3);
    assert_true(hv((double[]){0, 0, 0}, 1, 3, (double[]){1, 1, 1}) == 1);
    assert_true(hv((double[]){0.5, 0.5, 0.5, 0.5}, 1, 4, (double[]){1, 1, 1, 1}) == 0.0625);
    /* 3-D: two boxes 2x1x1 and 1x2x1 overlapping in 1x1x1, plus a point
     * that is dominated, one on the reference boundary, one outside */
    const double p[] = {0, 1, 1,  1, 0, 1,  1, 1, 1.5,  0, 0, 2,  5, -1, -1};
    assert_true(fabs(hv(p, 5, 3, (double[]){2, 2, 2}) - 3) < 1e-12);
    /* 1-D */
    assert_true(hv((double[]){3, 1, 2}, 3, 1, (double[]){4}) == 3);
    /* nothing inside */
    assert_true(hv((double[]){4, 0}, 1, 2, (double[]){4, 4}) == 0);
    assert_true(hv(NULL, 0, 5, (double[]){1, 1, 1, 1, 1}) == 0);
    /* 4-D: a simplex-like set, checked against both references */
    const double s[] = {1, 0, 0, 0,  0, 1, 0, 0,  0, 0, 1, 0,  0, 0, 0, 1};
    const double ref[] = {2, 2, 2, 2};
    double want = hv_inclusion_exclusion(s, 4, 4, ref);
    assert_true(fabs(want - hv_grid(s, 4, 4, ref)) < 1e-12);
    assert_true(fabs(hv(s, 4, 4, ref) - want) < 1e-12);
    assert_true(fabs(want - (4 * 8 - 6 * 4 + 4 * 2 - 1)) < 1e-12);
}

static void test_hv_random(void **state)
{
    (void)state;
    hwnas__rng r;
    hwnas__rng_seed(&r, 10, 1);
    static const double ref[] = {1.1, 1.2, 1.05, 1.3, 1.15, 1.0};
    double p[40 * 6];
    for (size_t m = 2; m <= 6; m++)
        for (int kind = 0; kind < GEN_COUNT; kind++)
            for (size_t n = 1; n <= 12; n += (m > 4 ? 3 : 1)) {
                generate(p, n, m, kind, &r);
                if (kind == GEN_GRID)
                    for (size_t i = 0; i < n * m; i++)
                        p[i] /= 3.0; /* some land exactly on ref = 1.0 */
                double want = hv_inclusion_exclusion(p, n, m, ref);
                double got = hv(p, n, m, ref);
                assert_true(fabs(got - want) <= 1e-9 * (1 + want));
                if (m <= 4)
                    assert_true(fabs(hv_grid(p, n, m, ref) - want) <= 1e-9 * (1 + want));
            }
    /* larger sets: against the grid */
    for (size_t m = 2; m <= 4; m++)
        for (int kind = 0; kind < GEN_COUNT; kind++) {
            size_t n = m == 4 ? 14 : 40;
            generate(p, n, m, kind, &r);
            double want = hv_grid(p, n, m, ref), got = hv(p, n, m, ref);
            assert_true(fabs(got - want) <= 1e-9 * (1 + want));
        }
}

static void test_hv_front(void **state)
{
    (void)state;
    /* A big 3-D front whose volume is known: the points (i, j, n-1-i-j) of
     * the integer plane i + j + k = n - 1. */
    size_t n = 30, c = 0;
    double *p = malloc(n * n * 3 * sizeof *p);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; i + j < n; j++) {
            p[c * 3] = (double)i;
            p[c * 3 + 1] = (double)j;
            p[c * 3 + 2] = (double)(n - 1 - i - j);
            c++;
        }
    /* With ref (n, n, n): cell (x, y, z) with integer corners is covered
     * iff x + y + z >= n - 1. Count them. */
    double want = 0;
    for (size_t x = 0; x < n; x++)
        for (size_t y = 0; y < n; y++)
            for (size_t z = 0; z < n; z++)
                want += x + y + z >= n - 1;
    double ref[] = {(double)n, (double)n, (double)n};
    assert_true(hv(p, c, 3, ref) == want);
    /* the same with a 4th objective that is constant */
    double *q = malloc(c * 4 * sizeof *q);
    for (size_t i = 0; i < c; i++) {
        memcpy(q + i * 4, p + i * 3, 3 * sizeof *q);
        q[i * 4 + 3] = 0.5;
    }
    double ref4[] = {(double)n, (double)n, (double)n, 2};
    assert_true(fabs(hv(q, c, 4, ref4) - 1.5 * want) < 1e-9 * want);
    free(p);
    free(q);
}

static void test_hv_errors(void **state)
{
    (void)state;
    double v;
    assert_int_equal(hwnas_pareto_hypervolume(&v, ctx, (double[]){1, INFINITY}, 1, 2,
                                              (double[]){2, 2}), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "points[0][1] is infinite"));
    assert_int_equal(hwnas_pareto_hypervolume(&v, ctx, (double[]){1, 1}, 1, 2,
                                              (double[]){2, NAN}), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "ref[0][1]"));
    assert_int_equal(hwnas_pareto_hypervolume(&v, ctx, (double[]){1, 1}, 1, 2, NULL),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_pareto_hypervolume(NULL, ctx, (double[]){1, 1}, 1, 2,
                                              (double[]){2, 2}), HWNAS_EINVAL);
    assert_int_equal(hwnas_pareto_hypervolume(&v, ctx, (double[]){1, 1}, 1, 0,
                                              (double[]){2, 2}), HWNAS_EINVAL);
}

/* ---- indicators --------------------------------------------------------- */

static void test_indicators(void **state)
{
    (void)state;
    const double ref[] = {0, 1,  1, 0};
    const double a[] = {0, 2,  2, 2,  1, 0};
    double v;
    /* nearest to (0,1): (0,2) at 1; to (1,0): (1,0) at 0 */
    assert_int_equal(hwnas_pareto_igd(&v, ctx, a, 3, ref, 2, 2), HWNAS_OK);
    assert_true(fabs(v - 0.5) < 1e-15);
    assert_int_equal(hwnas_pareto_igd_plus(&v, ctx, a, 3, ref, 2, 2), HWNAS_OK);
    assert_true(fabs(v - 0.5) < 1e-15);
    assert_int_equal(hwnas_pareto_epsilon_additive(&v, ctx, a, 3, ref, 2, 2), HWNAS_OK);
    assert_true(v == 1);
    /* IGD+ ignores the better side: (0.5, 0.5) vs (0, 1) costs 0.5, not 0.707 */
    const double b[] = {0.5, 0.5};
    assert_int_equal(hwnas_pareto_igd(&v, ctx, b, 1, ref, 2, 2), HWNAS_OK);
    assert_true(fabs(v - sqrt(0.5)) < 1e-15);
    assert_int_equal(hwnas_pareto_igd_plus(&v, ctx, b, 1, ref, 2, 2), HWNAS_OK);
    assert_true(fabs(v - 0.5) < 1e-15);
    assert_int_equal(hwnas_pareto_epsilon_additive(&v, ctx, b, 1, ref, 2, 2), HWNAS_OK);
    assert_true(v == 0.5);
    /* a set dominating the reference front: eps < 0, IGD+ = 0 */
    const double c[] = {-1, 0,  0, -1};
    assert_int_equal(hwnas_pareto_epsilon_additive(&v, ctx, c, 2, ref, 2, 2), HWNAS_OK);
    assert_true(v == -1);
    assert_int_equal(hwnas_pareto_igd_plus(&v, ctx, c, 2, ref, 2, 2), HWNAS_OK);
    assert_true(v == 0);
    /* the front itself */
    assert_int_equal(hwnas_pareto_igd(&v, ctx, ref, 2, ref, 2, 2), HWNAS_OK);
    assert_true(v == 0);
    assert_int_equal(hwnas_pareto_epsilon_additive(&v, ctx, ref, 2, ref, 2, 2), HWNAS_OK);
    assert_true(v == 0);
    /* errors */
    assert_int_equal(hwnas_pareto_igd(&v, ctx, a, 0, ref, 2, 2), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "n (points)"));
    assert_int_equal(hwnas_pareto_igd(&v, ctx, a, 3, ref, 2, 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_pareto_igd(&v, ctx, (double[]){NAN, 0}, 1, ref, 2, 2),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_pareto_igd(NULL, ctx, a, 3, ref, 2, 2), HWNAS_EINVAL);
    assert_int_equal(hwnas_pareto_epsilon_additive(&v, ctx, a, 3, NULL, 2, 2), HWNAS_EINVAL);
}

int run_pareto_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dominance),
        cmocka_unit_test(test_rank_hand),
        cmocka_unit_test(test_rank_random),
        cmocka_unit_test(test_rank_constrained),
        cmocka_unit_test(test_rank_large),
        cmocka_unit_test(test_rank_errors),
        cmocka_unit_test(test_crowding),
        cmocka_unit_test(test_hv_hand),
        cmocka_unit_test(test_hv_random),
        cmocka_unit_test(test_hv_front),
        cmocka_unit_test(test_hv_errors),
        cmocka_unit_test(test_indicators),
    };
    return cmocka_run_group_tests_name("pareto", tests, setup, teardown);
}
