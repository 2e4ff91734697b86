/*
 * predictor:gbrt - gradient-boosted regression trees on the squared error
 * (Friedman 2001): each tree fits the residuals of the ones before it,
 * scaled by the learning rate, on a random subsample of the rows.
 *
 * Trees grow level by level. Every feature's rows are sorted once, at the
 * start; a level then scans each feature's order once, accumulating the
 * left sums of every open node at the same time, so a level costs
 * O(rows x features) whatever its width.
 */
#include <math.h>
#include <string.h>

#include "predict_internal.h"

enum { OPT_SEED, OPT_TREES, OPT_DEPTH, OPT_LR, OPT_MIN_LEAF, OPT_SUBSAMPLE };

static const hwnas__option_spec gbrt_options[] = {
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "random seed; 0 = the context's seed"},
    [OPT_TREES] = {"trees", HWNAS_OPTION_INT, "300", 1, 100000, NULL, "boosting rounds"},
    [OPT_DEPTH] = {"depth", HWNAS_OPTION_INT, "4", 1, 16, NULL, "depth of every tree"},
    [OPT_LR] = {"lr", HWNAS_OPTION_FLOAT, "0.05", 1e-6, 1, NULL,
                "shrinkage: the share of each tree's fit that is kept"},
    [OPT_MIN_LEAF] = {"min_leaf", HWNAS_OPTION_INT, "2", 1, 1000000, NULL,
                      "fewest rows a leaf may hold"},
    [OPT_SUBSAMPLE] = {"subsample", HWNAS_OPTION_FLOAT, "0.8", 0.01, 1, NULL,
                       "share of the rows each tree is fitted on (drawn without "
                       "replacement)"},
};

/* Node k of a tree: a split (feature >= 0: x[feature] < threshold goes to
 * child 2k + 1, else 2k + 2) or a leaf (feature < 0, value). Trees are
 * complete binary arrays of 2^(depth + 1) - 1 nodes. */
typedef struct node {
    int32_t feature;
    double threshold;
    double value;
} node;

typedef struct gbrt {
    size_t T, n_nodes; /* trees, nodes per tree */
    node *nodes;       /* T * n_nodes */
} gbrt;

static void gbrt_clear(hwnas_predictor *p)
{
    gbrt *g = p->model;
    hwnas__free(p->ctx, g->nodes);
    hwnas__free(p->ctx, g);
}

static double tree_value(const node *t, const double *x)
{
    size_t k = 0;
    while (t[k].feature >= 0)
        k = x[t[k].feature] < t[k].threshold ? 2 * k + 1 : 2 * k + 2;
    return t[k].value;
}

/* ord[0..n) = the rows by feature j, ties in row order: a bottom-up merge
 * sort (stable and O(n log n); qsort would need the matrix in a global). */
static void sort_rows(const double *x, size_t n, size_t d, size_t j, size_t *ord, size_t *tmp)
{
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    size_t *a = ord, *b = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, k = mid, o = lo;
            while (i < mid && k < hi)
                b[o++] = x[a[k] * d + j] < x[a[i] * d + j] ? a[k++] : a[i++];
            while (i < mid)
                b[o++] = a[i++];
            while (k < hi)
                b[o++] = a[k++];
        }
        size_t *t = a;
        a = b;
        b = t;
    }
    if (a != ord)
        memcpy(ord, a, n * sizeof *ord);
}

/* Per open node of a level: totals, the best split so far, and the left
 * running sums of the feature being scanned. */
typedef struct stat {
    double sum, cnt;           /* rows in the node (in the tree's sample) */
    double best_gain, best_thr;
    int32_t best_f;
    double lsum, lcnt, last;   /* scan state */
} stat;

typedef struct work {
    size_t *order;   /* d * n: rows sorted by each feature */
    double *resid;   /* n */
    double *pred;    /* n: the ensemble so far */
    int32_t *at;     /* n: node of each row, -1 when out of the sample or in a leaf */
    stat *st;        /* nodes of a tree */
} work;

/* One level: the best split of every open node over all features. */
static void scan_level(const double *x, size_t n, size_t d, const work *w, size_t first,
                       size_t count, size_t min_leaf)
{
    for (size_t k = first; k < first + count; k++) {
        w->st[k].best_gain = 1e-12; /* a split must reduce the error */
        w->st[k].best_f = -1;
    }
    for (size_t j = 0; j < d; j++) {
        for (size_t k = first; k < first + count; k++)
            w->st[k].lsum = w->st[k].lcnt = 0;
        const size_t *ord = w->order + j * n;
        for (size_t t = 0; t < n; t++) {
            size_t i = ord[t];
            int32_t k = w->at[i];
            if (k < (int32_t)first || (size_t)k >= first + count)
                continue;
            stat *s = &w->st[k];
            double v = x[i * d + j];
            if (s->lcnt >= (double)min_leaf && v > s->last &&
                s->cnt - s->lcnt >= (double)min_leaf) {
                double rs = s->sum - s->lsum, rc = s->cnt - s->lcnt;
                double gain = s->lsum * s->lsum / s->lcnt + rs * rs / rc - s->sum * s->sum / s->cnt;
                if (gain > s->best_gain) {
                    s->best_gain = gain;
                    s->best_f = (int32_t)j;
                    s->best_thr = 0.5 * (s->last + v);
                }
            }
            s->lsum += w->resid[i];
            s->lcnt += 1;
            s->last = v;
        }
    }
}

static void grow_tree(const double *x, size_t n, size_t d, work *w, node *tree, size_t depth,
                      size_t min_leaf, double lr)
{
    size_t n_nodes = ((size_t)1 << (depth + 1)) - 1;
    for (size_t k = 0; k < n_nodes; k++)
        tree[k] = (node){-1, 0, 0};
    for (size_t level = 0; level <= depth; level++) {
        size_t first = ((size_t)1 << level) - 1, count = (size_t)1 << level;
        for (size_t k = first; k < first + count; k++)
            w->st[k].sum = w->st[k].cnt = 0;
        for (size_t i = 0; i < n; i++)
            if (w->at[i] >= (int32_t)first) {
                w->st[w->at[i]].sum += w->resid[i];
                w->st[w->at[i]].cnt += 1;
            }
        if (level < depth)
            scan_level(x, n, d, w, first, count, min_leaf);
        for (size_t k = first; k < first + count; k++) {
            stat *s = &w->st[k];
            tree[k].value = s->cnt > 0 ? lr * s->sum / s->cnt : 0;
            if (level < depth && s->cnt > 0 && s->best_f >= 0) {
                tree[k].feature = s->best_f;
                tree[k].threshold = s->best_thr;
            }
        }
        /* Rows move down into the children of split nodes; the rest stop. */
        for (size_t i = 0; i < n; i++) {
            int32_t k = w->at[i];
            if (k < (int32_t)first)
                continue;
            if (tree[k].feature < 0)
                w->at[i] = -1;
            else
                w->at[i] = x[i * d + tree[k].feature] < tree[k].threshold ? 2 * k + 1 : 2 * k + 2;
        }
    }
}

static int gbrt_fit(hwnas_predictor *p, const double *x, const double *y, size_t n, size_t d)
{
    const hwnas_options *o = p->options;
    size_t T = (size_t)hwnas__options_int(o, OPT_TREES);
    size_t depth = (size_t)hwnas__options_int(o, OPT_DEPTH);
    size_t min_leaf = (size_t)hwnas__options_int(o, OPT_MIN_LEAF);
    double lr = hwnas__options_float(o, OPT_LR), sub = hwnas__options_float(o, OPT_SUBSAMPLE);
    size_t n_nodes = ((size_t)1 << (depth + 1)) - 1;
    gbrt *g = hwnas__calloc(p->ctx, 1, sizeof *g);
    if (!g)
        return HWNAS_ENOMEM;
    p->model = g;
    g->T = T;
    g->n_nodes = n_nodes;
    g->nodes = hwnas__malloc(p->ctx, T * n_nodes * sizeof *g->nodes);
    work w = {0};
    w.order = hwnas__malloc(p->ctx, d * n * sizeof *w.order);
    w.resid = hwnas__malloc(p->ctx, n * sizeof *w.resid);
    w.pred = hwnas__calloc(p->ctx, n, sizeof *w.pred);
    w.at = hwnas__malloc(p->ctx, n * sizeof *w.at);
    w.st = hwnas__malloc(p->ctx, n_nodes * sizeof *w.st);
    size_t *pick = hwnas__malloc(p->ctx, n * sizeof *pick);
    int rc = g->nodes && w.order && w.resid && w.pred && w.at && w.st && pick ? HWNAS_OK
                                                                               : HWNAS_ENOMEM;
    if (rc == HWNAS_OK) {
        for (size_t j = 0; j < d; j++)
            sort_rows(x, n, d, j, w.order + j * n, pick);
        hwnas__rng r;
        hwnas__rng_seed(&r, p->seed, 0x47425254 /* "GBRT" */);
        size_t m = (size_t)ceil(sub * (double)n);
        if (m < 2)
            m = n < 2 ? n : 2;
        for (size_t t = 0; t < T; t++) {
            for (size_t i = 0; i < n; i++) {
                w.resid[i] = y[i] - w.pred[i];
                w.at[i] = -1;
                pick[i] = i;
            }
            for (size_t i = 0; i < m; i++) { /* the first m of a shuffle */
                size_t j = i + (size_t)hwnas__rng_below(&r, n - i), tmp = pick[i];
                pick[i] = pick[j];
                pick[j] = tmp;
                w.at[pick[i]] = 0;
            }
            node *tree = g->nodes + t * n_nodes;
            grow_tree(x, n, d, &w, tree, depth, min_leaf, lr);
            for (size_t i = 0; i < n; i++)
                w.pred[i] += tree_value(tree, x + i * d);
        }
    }
    hwnas__free(p->ctx, w.order);
    hwnas__free(p->ctx, w.resid);
    hwnas__free(p->ctx, w.pred);
    hwnas__free(p->ctx, w.at);
    hwnas__free(p->ctx, w.st);
    hwnas__free(p->ctx, pick);
    return rc;
}

static int gbrt_predict(const hwnas_predictor *p, const double *x, size_t n, double *mean,
                        double *std)
{
    const gbrt *g = p->model;
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        for (size_t t = 0; t < g->T; t++)
            v += tree_value(g->nodes + t * g->n_nodes, x + i * p->d);
        mean[i] = v;
        std[i] = 0;
    }
    return HWNAS_OK;
}

static const hwnas__predictor_impl gbrt_impl = {gbrt_fit, gbrt_predict, gbrt_clear};

const hwnas__kind hwnas__predictor_gbrt_kind = {
    "predictor:gbrt", gbrt_options, HWNAS_ARRAY_SIZE(gbrt_options), &gbrt_impl,
};
