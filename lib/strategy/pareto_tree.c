/* Pareto toolkit: a 2-D staircase kept in a treap (a balanced binary search
 * tree whose shape is fixed by hashed priorities, so it is deterministic).
 * Non-dominated sorting in 3-D and the 3-D hypervolume sweep both keep the
 * minimal points of a 2-D projection here. Expected O(log n) per call. */
#include "pareto_internal.h"

void hwnas__stair_init(hwnas__stair_node *pool, uint32_t i, double a, double b)
{
    uint64_t h = (uint64_t)i * UINT64_C(0x9E3779B97F4A7C15);
    h ^= h >> 31;
    h *= UINT64_C(0xBF58476D1CE4E5B9);
    h ^= h >> 29;
    pool[i].a = a;
    pool[i].b = b;
    pool[i].left = pool[i].right = 0;
    pool[i].prio = (uint32_t)(h >> 32);
}

uint32_t hwnas__stair_pred_le(const hwnas__stair_node *pool, uint32_t t, double a)
{
    uint32_t best = 0;
    while (t) {
        if (pool[t].a <= a) {
            best = t;
            t = pool[t].right;
        } else {
            t = pool[t].left;
        }
    }
    return best;
}

int hwnas__stair_covers(const hwnas__stair_node *pool, uint32_t t, double a, double b)
{
    /* Among the nodes with a' <= a the last has the smallest b'. */
    uint32_t p = hwnas__stair_pred_le(pool, t, a);
    return p != 0 && pool[p].b <= b;
}

void hwnas__stair_split_a(hwnas__stair_node *pool, uint32_t t, double a, uint32_t *l,
                          uint32_t *r)
{
    if (!t) {
        *l = *r = 0;
    } else if (pool[t].a < a) {
        hwnas__stair_split_a(pool, pool[t].right, a, &pool[t].right, r);
        *l = t;
    } else {
        hwnas__stair_split_a(pool, pool[t].left, a, l, &pool[t].left);
        *r = t;
    }
}

void hwnas__stair_split_b(hwnas__stair_node *pool, uint32_t t, double b, uint32_t *l,
                          uint32_t *r)
{
    /* b' decreases along the order, so {b' >= b} is a prefix. */
    if (!t) {
        *l = *r = 0;
    } else if (pool[t].b >= b) {
        hwnas__stair_split_b(pool, pool[t].right, b, &pool[t].right, r);
        *l = t;
    } else {
        hwnas__stair_split_b(pool, pool[t].left, b, l, &pool[t].left);
        *r = t;
    }
}

uint32_t hwnas__stair_merge(hwnas__stair_node *pool, uint32_t l, uint32_t r)
{
    if (!l)
        return r;
    if (!r)
        return l;
    if (pool[l].prio >= pool[r].prio) {
        pool[l].right = hwnas__stair_merge(pool, pool[l].right, r);
        return l;
    }
    pool[r].left = hwnas__stair_merge(pool, l, pool[r].left);
    return r;
}

uint32_t hwnas__stair_min(const hwnas__stair_node *pool, uint32_t t)
{
    if (t)
        while (pool[t].left)
            t = pool[t].left;
    return t;
}

uint32_t hwnas__stair_max(const hwnas__stair_node *pool, uint32_t t)
{
    if (t)
        while (pool[t].right)
            t = pool[t].right;
    return t;
}

void hwnas__stair_insert(hwnas__stair_node *pool, uint32_t *t, uint32_t i)
{
    uint32_t l, r, dropped;
    hwnas__stair_split_a(pool, *t, pool[i].a, &l, &r);
    hwnas__stair_split_b(pool, r, pool[i].b, &dropped, &r);
    (void)dropped;
    *t = hwnas__stair_merge(pool, hwnas__stair_merge(pool, l, i), r);
}
