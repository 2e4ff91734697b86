/*
 * libhwnas strategy part - what the Pareto toolkit files share, and what
 * the strategies may reuse. Not installed; not part of the ABI.
 */
#ifndef HWNAS_PARETO_INTERNAL_H
#define HWNAS_PARETO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "hwnas/pareto.h"

/* ---- stable index sort (pareto_util.c) ------------------------------ */

/* Negative, zero or positive as index a sorts before, with or after b. */
typedef int (*hwnas__pareto_cmp)(uint32_t a, uint32_t b, const void *data);

/* Stable merge sort of idx[0..n) with cmp; tmp holds n scratch entries. */
void hwnas__pareto_sort_idx(uint32_t *idx, uint32_t *tmp, size_t n,
                            hwnas__pareto_cmp cmp, const void *data);

/* Compare points a and b of a row-major n x m array lexicographically. */
typedef struct hwnas__pareto_lex {
    const double *points; /* row-major, stride m */
    size_t m;             /* objectives, >= 1 */
} hwnas__pareto_lex;
int hwnas__pareto_cmp_lex(uint32_t a, uint32_t b, const void *data);

/* HWNAS_EINVAL naming `fn` and the first NaN (or, with finite != 0, the
 * first non-finite) value of a row-major n x m array; HWNAS_OK otherwise. */
int hwnas__pareto_check_values(const char *fn, const char *what, const double *v,
                               size_t n, size_t m, int finite);

/* ---- 2-D staircase in a treap (pareto_tree.c) ----------------------- */

/* A node of a staircase: a set of 2-D points (a, b) that do not weakly
 * dominate each other, ordered by a increasing (so b strictly decreasing).
 * Nodes live in one pool, index 0 is the empty tree; several trees may
 * share a pool. */
typedef struct hwnas__stair_node {
    double a, b;     /* the point; key a */
    uint32_t left;   /* subtree of smaller a, 0 if none */
    uint32_t right;  /* subtree of larger a, 0 if none */
    uint32_t prio;   /* heap priority: parent's >= child's */
} hwnas__stair_node;

/* Make pool[i] a lone node (a, b) with a deterministic priority. */
void hwnas__stair_init(hwnas__stair_node *pool, uint32_t i, double a, double b);
/* The node with the largest a' <= a in tree t, 0 if none. */
uint32_t hwnas__stair_pred_le(const hwnas__stair_node *pool, uint32_t t, double a);
/* 1 if some node of tree t weakly dominates (a, b): a' <= a and b' <= b. */
int hwnas__stair_covers(const hwnas__stair_node *pool, uint32_t t, double a, double b);
/* Split t into *l (a' < a) and *r (a' >= a). */
void hwnas__stair_split_a(hwnas__stair_node *pool, uint32_t t, double a, uint32_t *l,
                          uint32_t *r);
/* Split t into the prefix *l of nodes with b' >= b and the rest *r. */
void hwnas__stair_split_b(hwnas__stair_node *pool, uint32_t t, double b, uint32_t *l,
                          uint32_t *r);
/* Join l and r, every key of l smaller than every key of r. */
uint32_t hwnas__stair_merge(hwnas__stair_node *pool, uint32_t l, uint32_t r);
uint32_t hwnas__stair_min(const hwnas__stair_node *pool, uint32_t t);
uint32_t hwnas__stair_max(const hwnas__stair_node *pool, uint32_t t);
/* Insert node i, which no node of *t weakly dominates, dropping the nodes
 * it weakly dominates (they are detached, not freed: the pool owns them). */
void hwnas__stair_insert(hwnas__stair_node *pool, uint32_t *t, uint32_t i);

/* ---- sorting (pareto_rank.c) ---------------------------------------- */

enum {
    HWNAS__PARETO_RANK_AUTO = 0,    /* the fastest path for m */
    HWNAS__PARETO_RANK_GENERAL = 1  /* ENS-BS whatever m (for tests) */
};

/* hwnas_pareto_rank() with the algorithm chosen; arguments unchecked
 * except for allocation. */
int hwnas__pareto_rank_algo(uint32_t *out_rank, size_t *out_fronts,
                            hwnas_context *ctx, const double *points, size_t n,
                            size_t m, int algo);

#endif
