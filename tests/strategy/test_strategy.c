/* Search strategies: ask/tell, reproducibility, resume, constraints, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strategy/strategy_internal.h"
#include "test_alloc.h"
#include "test_strategy_space.h"

int run_strategy_tests(void);
int run_strategy_oom_tests(void);

/* ---- a deterministic problem -------------------------------------------- */

enum { PROB_PLAIN = 0, PROB_CONSTRAINED = 1, PROB_FAILING = 2 };

/* ZDT1 on genes scaled to [0, 1]; m = 1 uses f1 + f2. Constrained: x0 < 0.5
 * is infeasible by 0.5 - x0. Failing: genotypes whose gene sum is 0 mod 7
 * fail. */
static void evaluate(const hwnas_space *sp, const uint32_t *g, size_t m, int flags, double *o,
                     double *v, int *failed)
{
    size_t n = hwnas_space_gene_count(sp);
    double x[64];
    uint64_t sum = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        uint32_t c = hwnas_space_gene_cardinality(sp, i);
        x[i] = c > 1 ? (double)g[i] / (double)(c - 1) : 0;
        sum += g[i];
    }
    double gg = 0;
    for (size_t i = 1; i < n && i < 64; i++)
        gg += x[i];
    gg = 1 + 9 * gg / (double)(n > 1 ? n - 1 : 1);
    double f1 = x[0], f2 = gg * (1 - sqrt(f1 / gg));
    if (m == 1) {
        o[0] = f1 + f2;
    } else {
        o[0] = f1;
        o[1] = f2;
        for (size_t j = 2; j < m; j++)
            o[j] = x[j % n];
    }
    *v = (flags & PROB_CONSTRAINED) && x[0] < 0.5 ? 0.5 - x[0] : 0;
    *failed = (flags & PROB_FAILING) && sum % 7 == 0;
}

typedef struct record {
    uint32_t *genes; /* every genotype asked, in order */
    uint64_t *ids;
    size_t n, cap;
} record;

static void record_add(record *r, const uint32_t *g, uint64_t id, size_t ng)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->genes = realloc(r->genes, r->cap * ng * sizeof *r->genes);
        r->ids = realloc(r->ids, r->cap * sizeof *r->ids);
        assert_non_null(r->genes);
        assert_non_null(r->ids);
    }
    memcpy(r->genes + r->n * ng, g, ng * sizeof *g);
    r->ids[r->n++] = id;
}

static void record_free(record *r)
{
    free(r->genes);
    free(r->ids);
    memset(r, 0, sizeof *r);
}

/*
 * Run kind on sp for evals evaluations, asking batch at a time (batch 0:
 * cycle through 1, 2, 3, ...). When save_at >= 0, after the ask of that
 * round (with its candidates pending) the strategy is saved, freed, a new
 * one created and loaded, and the run goes on with it.
 */
static void run(hwnas_context *ctx, const char *kind, const char *opts, const hwnas_space *sp,
                size_t m, int flags, size_t evals, size_t batch, int save_at, record *rec)
{
    hwnas_strategy *s = NULL;
    assert_int_equal(hwnas_strategy_new(&s, ctx, kind, opts, sp, m), HWNAS_OK);
    size_t ng = hwnas_space_gene_count(sp);
    uint32_t *g = malloc(64 * ng * sizeof *g);
    uint64_t ids[64];
    double o[64 * 4], v[64];
    int f[64];
    size_t done = 0;
    for (int round = 0; done < evals; round++) {
        size_t want = batch ? batch : (size_t)(round % 5) + 1;
        if (want > evals - done)
            want = evals - done;
        size_t n = 0;
        assert_int_equal(hwnas_strategy_ask(s, want, g, ids, &n), HWNAS_OK);
        assert_true(n > 0);
        assert_int_equal(hwnas_strategy_pending(s), n);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(hwnas_space_check(sp, g + k * ng), HWNAS_OK);
            record_add(rec, g + k * ng, ids[k], ng);
            evaluate(sp, g + k * ng, m, flags, o + k * m, v + k, f + k);
        }
        if (round == save_at) {
            uint8_t *buf = NULL;
            size_t len = 0;
            assert_int_equal(hwnas_strategy_save(s, &buf, &len), HWNAS_OK);
            hwnas_strategy_free(s);
            assert_int_equal(hwnas_strategy_new(&s, ctx, kind, opts, sp, m), HWNAS_OK);
            assert_int_equal(hwnas_strategy_load(s, buf, len), HWNAS_OK);
            assert_int_equal(hwnas_strategy_pending(s), n);
            /* Saving the loaded state gives the same bytes. */
            uint8_t *buf2 = NULL;
            size_t len2 = 0;
            assert_int_equal(hwnas_strategy_save(s, &buf2, &len2), HWNAS_OK);
            if (strcmp(kind, "random") != 0) {
                assert_int_equal(len, len2);
                assert_memory_equal(buf, buf2, len);
            }
            hwnas_free(buf);
            hwnas_free(buf2);
        }
        /* Tell in reverse order: order within a tell must not matter to
         * the framework's bookkeeping. */
        for (size_t k = n; k-- > 0;)
            assert_int_equal(hwnas_strategy_tell(s, 1, ids + k, o + k * m, v + k, f + k),
                             HWNAS_OK);
        assert_int_equal(hwnas_strategy_pending(s), 0);
        done += n;
    }
    free(g);
    hwnas_strategy_free(s);
}

typedef struct kcase {
    const char *kind, *opts;
    size_t m;
} kcase;

static const kcase cases[] = {
    {"random", "seed=3", 2},
    {"random", "seed=3;dedup=false", 1},
    {"nsga2", "seed=3;population=10", 2},
    {"nsga2", "seed=3;population=7;ordinal=true;crossover=0.7", 3},
    {"ea", "seed=3;mode=one_plus_lambda;lambda=4", 2},
    {"ea", "seed=3;mode=regularized;population=12;sample=4", 1},
    {"reinforce", "seed=3", 2},
    {"reinforce", "seed=3;controller=lstm;hidden=8", 1},
};

static hwnas_context *new_ctx(void)
{
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=11"), HWNAS_OK);
    return ctx;
}

static void test_reproducible_and_resumable(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *cell = NULL, *ord = NULL;
    assert_int_equal(hwnas_space_new(&cell, ctx, "cell", NULL), HWNAS_OK);
    assert_int_equal(ordinal_space_new(&ord, ctx, "genes=5;levels=1000"), HWNAS_OK);
    const hwnas_space *spaces[2] = {cell, ord};
    for (size_t c = 0; c < HWNAS_ARRAY_SIZE(cases); c++) {
        for (int sp = 0; sp < 2; sp++) {
            for (int flags = 0; flags < 4; flags += 3) {
                size_t ng = hwnas_space_gene_count(spaces[sp]);
                record a = {0}, b = {0}, d = {0};
                run(ctx, cases[c].kind, cases[c].opts, spaces[sp], cases[c].m, flags, 150, 0, -1,
                    &a);
                run(ctx, cases[c].kind, cases[c].opts, spaces[sp], cases[c].m, flags, 150, 0, -1,
                    &b);
                assert_int_equal(a.n, b.n);
                assert_memory_equal(a.genes, b.genes, a.n * ng * sizeof *a.genes);
                assert_memory_equal(a.ids, b.ids, a.n * sizeof *a.ids);
                /* Save and load at several points, pending candidates included. */
                for (int at = 3; at < 40; at += 17) {
                    record r = {0};
                    run(ctx, cases[c].kind, cases[c].opts, spaces[sp], cases[c].m, flags, 150, 0,
                        at, &r);
                    assert_int_equal(a.n, r.n);
                    assert_memory_equal(a.genes, r.genes, a.n * ng * sizeof *a.genes);
                    assert_memory_equal(a.ids, r.ids, a.n * sizeof *a.ids);
                    record_free(&r);
                }
                /* Another seed, another sequence. */
                char opts[128];
                snprintf(opts, sizeof opts, "%s;seed=4", cases[c].opts);
                run(ctx, cases[c].kind, opts, spaces[sp], cases[c].m, flags, 150, 0, -1, &d);
                assert_true(memcmp(a.genes, d.genes, a.n * ng * sizeof *a.genes) != 0);
                record_free(&a);
                record_free(&b);
                record_free(&d);
            }
        }
    }
    hwnas_space_free(cell);
    hwnas_space_free(ord);
    hwnas_context_free(ctx);
}

/* Generation-based kinds make a whole generation at once: how the host
 * slices its asks does not change the search. */
static void test_batch_independent(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *ord = NULL;
    assert_int_equal(ordinal_space_new(&ord, ctx, "genes=4;levels=100"), HWNAS_OK);
    const kcase gen_cases[] = {{"nsga2", "population=9", 2},
                               {"ea", "mode=one_plus_lambda;lambda=5", 1},
                               {"random", "", 1}};
    for (size_t c = 0; c < HWNAS_ARRAY_SIZE(gen_cases); c++) {
        record a = {0}, b = {0};
        run(ctx, gen_cases[c].kind, gen_cases[c].opts, ord, gen_cases[c].m, 0, 120, 1, -1, &a);
        run(ctx, gen_cases[c].kind, gen_cases[c].opts, ord, gen_cases[c].m, 0, 120, 0, -1, &b);
        assert_int_equal(a.n, b.n);
        assert_memory_equal(a.genes, b.genes, a.n * 4 * sizeof *a.genes);
        record_free(&a);
        record_free(&b);
    }
    hwnas_space_free(ord);
    hwnas_context_free(ctx);
}

static void test_new_errors(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *cell = NULL;
    assert_int_equal(hwnas_space_new(&cell, ctx, "cell", NULL), HWNAS_OK);
    hwnas_strategy *s = (hwnas_strategy *)&s;
    assert_int_equal(hwnas_strategy_new(&s, ctx, "nsga3", NULL, cell, 2), HWNAS_ENOTFOUND);
    assert_null(s);
    assert_int_equal(hwnas_strategy_new(&s, ctx, "cell", NULL, cell, 2), HWNAS_ENOTFOUND);
    assert_int_equal(hwnas_strategy_new(&s, ctx, "nsga2", "population=1", cell, 2),
                     HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "population"));
    assert_int_equal(hwnas_strategy_new(&s, ctx, "nsga2", "popsize=4", cell, 2), HWNAS_EINVAL);
    assert_int_equal(hwnas_strategy_new(&s, ctx, "nsga2", NULL, cell, 0), HWNAS_EINVAL);
    assert_int_equal(hwnas_strategy_new(&s, ctx, "nsga2", NULL, NULL, 2), HWNAS_EINVAL);
    assert_int_equal(hwnas_strategy_new(NULL, ctx, "nsga2", NULL, cell, 2), HWNAS_EINVAL);
    assert_int_equal(hwnas_strategy_new(&s, ctx, "ea", "weights=1,x", cell, 2), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "weights"));
    assert_int_equal(hwnas_strategy_new(&s, ctx, "ea", "weights=1,2,3", cell, 2), HWNAS_EINVAL);
    assert_int_equal(hwnas_strategy_new(&s, ctx, "reinforce", "objective=2", cell, 2),
                     HWNAS_EINVAL);
    assert_int_equal(hwnas_strategy_new(&s, ctx, "strategy:ea", "weights=1, 0.5", cell, 2),
                     HWNAS_OK);
    assert_string_equal(hwnas_strategy_kind(s), "strategy:ea");
    const char *mode = NULL;
    assert_int_equal(hwnas_options_get_string(hwnas_strategy_options(s), "mode", &mode), HWNAS_OK);
    assert_string_equal(mode, "regularized");
    hwnas_strategy_free(s);
    hwnas_strategy_free(NULL);
    hwnas_space_free(cell);
    hwnas_context_free(ctx);
}

static void test_tell_errors(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *cell = NULL;
    assert_int_equal(hwnas_space_new(&cell, ctx, "cell", NULL), HWNAS_OK);
    hwnas_strategy *s = NULL;
    assert_int_equal(hwnas_strategy_new(&s, ctx, "nsga2", "population=4", cell, 2), HWNAS_OK);
    uint32_t g[4 * 6];
    uint64_t ids[4];
    size_t n;
    assert_int_equal(hwnas_strategy_ask(s, 3, g, ids, &n), HWNAS_OK);
    assert_int_equal(n, 3);
    double o[6] = {1, 2, 3, 4, 5, 6};
    uint64_t bad[2] = {ids[0], 999};
    assert_int_equal(hwnas_strategy_tell(s, 2, bad, o, NULL, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "999"));
    assert_int_equal(hwnas_strategy_pending(s), 3);
    uint64_t twice[2] = {ids[1], ids[1]};
    assert_int_equal(hwnas_strategy_tell(s, 2, twice, o, NULL, NULL), HWNAS_EINVAL);
    double nan_o[2] = {NAN, 1};
    assert_int_equal(hwnas_strategy_tell(s, 1, ids, nan_o, NULL, NULL), HWNAS_EINVAL);
    int failed = 1;
    assert_int_equal(hwnas_strategy_tell(s, 1, ids, nan_o, NULL, &failed), HWNAS_OK);
    assert_int_equal(hwnas_strategy_tell(s, 1, ids, o, NULL, NULL), HWNAS_EINVAL);
    assert_non_null(strstr(hwnas_error_last(), "not pending"));
    assert_int_equal(hwnas_strategy_pending(s), 2);
    assert_int_equal(hwnas_strategy_tell(s, 2, ids + 1, o, NULL, NULL), HWNAS_OK);
    /* The generation has one more candidate; then it waits. */
    assert_int_equal(hwnas_strategy_ask(s, 4, g, ids, &n), HWNAS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hwnas_strategy_ask(s, 4, g, ids, &n), HWNAS_OK);
    assert_int_equal(n, 0);
    assert_int_equal(hwnas_strategy_ask(s, 4, NULL, ids, &n), HWNAS_EINVAL);
    uint64_t zero = 0;
    assert_int_equal(hwnas_strategy_tell(s, 1, &zero, o, NULL, NULL), HWNAS_EINVAL);
    hwnas_strategy_free(s);
    hwnas_space_free(cell);
    hwnas_context_free(ctx);
}

/* Random search hands out each phenotype once while it can. */
static void test_random_dedup(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *cell = NULL, *tiny = NULL;
    assert_int_equal(hwnas_space_new(&cell, ctx, "cell", NULL), HWNAS_OK);
    hwnas_strategy *s = NULL;
    assert_int_equal(hwnas_strategy_new(&s, ctx, "random", "retries=1000", cell, 1), HWNAS_OK);
    size_t N = 3000;
    uint32_t *g = malloc(N * 6 * sizeof *g);
    uint64_t *ids = malloc(N * sizeof *ids), *h = malloc(N * sizeof *h);
    size_t n;
    assert_int_equal(hwnas_strategy_ask(s, N, g, ids, &n), HWNAS_OK);
    assert_int_equal(n, N);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(hwnas_space_hash(cell, g + i * 6, &h[i]), HWNAS_OK);
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            assert_true(h[i] != h[j]);
    hwnas_strategy_free(s);
    /* A space of 9 genotypes: 9 distinct, then duplicates after retries. */
    assert_int_equal(ordinal_space_new(&tiny, ctx, "genes=2;levels=3"), HWNAS_OK);
    assert_int_equal(hwnas_strategy_new(&s, ctx, "random", "retries=50", tiny, 1), HWNAS_OK);
    assert_int_equal(hwnas_strategy_ask(s, 9, g, ids, &n), HWNAS_OK);
    assert_int_equal(n, 9);
    int seen[9] = {0};
    for (size_t i = 0; i < 9; i++)
        seen[g[2 * i] * 3 + g[2 * i + 1]]++;
    for (int i = 0; i < 9; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(hwnas_strategy_ask(s, 5, g, ids, &n), HWNAS_OK);
    assert_int_equal(n, 5);
    hwnas_strategy_free(s);
    free(g);
    free(ids);
    free(h);
    hwnas_space_free(tiny);
    hwnas_space_free(cell);
    hwnas_context_free(ctx);
}

/* Drive s for evals evaluations, then return the last full batch asked. */
static void drive(hwnas_strategy *s, const hwnas_space *sp, size_t m, int flags, size_t evals,
                  double *best_f, double *feasible_share)
{
    size_t ng = hwnas_space_gene_count(sp);
    uint32_t *g = malloc(16 * ng * sizeof *g);
    uint64_t ids[16];
    double o[16 * 3], v[16];
    int f[16];
    size_t done = 0, feas = 0, last = 0;
    *best_f = INFINITY;
    while (done < evals) {
        size_t n;
        assert_int_equal(hwnas_strategy_ask(s, 16, g, ids, &n), HWNAS_OK);
        assert_true(n > 0);
        for (size_t k = 0; k < n; k++) {
            evaluate(sp, g + k * ng, m, flags, o + k * m, v + k, f + k);
            if (!f[k] && v[k] == 0 && o[k * m] < *best_f && m == 1)
                *best_f = o[k * m];
            if (done + k >= evals - evals / 5) {
                last++;
                feas += !f[k] && v[k] == 0;
            }
        }
        assert_int_equal(hwnas_strategy_tell(s, n, ids, o, v, f), HWNAS_OK);
        done += n;
    }
    *feasible_share = last ? (double)feas / (double)last : 0;
    free(g);
}

/* Deb's constraint domination drives NSGA-II into the feasible region and
 * away from failures; the single-objective kinds do the same by tiers. */
static void test_constraints(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *ord = NULL;
    assert_int_equal(ordinal_space_new(&ord, ctx, "genes=6;levels=1000"), HWNAS_OK);
    const kcase cc[] = {{"nsga2", "population=20", 2},
                        {"ea", "mode=regularized;population=20;sample=5", 1},
                        {"ea", "mode=one_plus_lambda;lambda=4", 1},
                        {"reinforce", "lr=0.1", 1}};
    for (size_t c = 0; c < HWNAS_ARRAY_SIZE(cc); c++) {
        hwnas_strategy *s = NULL;
        assert_int_equal(hwnas_strategy_new(&s, ctx, cc[c].kind, cc[c].opts, ord, cc[c].m),
                         HWNAS_OK);
        double best, share;
        drive(s, ord, cc[c].m, PROB_CONSTRAINED | PROB_FAILING, 2000, &best, &share);
        print_message("%s %s: feasible share of the last fifth %.3f\n", cc[c].kind, cc[c].opts,
                      share);
        /* Uniform sampling gives 0.43 (feasible half the time, failing 1/7
         * of it); mutants of good parents still fail 1/7 of the time. */
        assert_true(share > (strcmp(cc[c].kind, "nsga2") == 0 ? 0.8 : 0.6));
        hwnas_strategy_free(s);
    }
    hwnas_space_free(ord);
    hwnas_context_free(ctx);
}

/* Each optimiser improves on uniform sampling on a smooth problem. */
static void test_progress(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *ord = NULL;
    assert_int_equal(ordinal_space_new(&ord, ctx, "genes=10;levels=64"), HWNAS_OK);
    double best_rand = 0;
    const kcase cc[] = {{"random", "", 1},
                        {"ea", "mode=regularized;population=20;sample=5", 1},
                        {"ea", "mode=one_plus_lambda;lambda=4;mutation=0.1", 1},
                        {"reinforce", "lr=0.1", 1},
                        {"reinforce", "controller=lstm;lr=0.01;hidden=16", 1}};
    for (size_t c = 0; c < HWNAS_ARRAY_SIZE(cc); c++) {
        hwnas_strategy *s = NULL;
        assert_int_equal(hwnas_strategy_new(&s, ctx, cc[c].kind, cc[c].opts, ord, 1), HWNAS_OK);
        double best, share;
        drive(s, ord, 1, 0, 1500, &best, &share);
        if (c == 0)
            best_rand = best;
        else
            assert_true(best < best_rand);
        hwnas_strategy_free(s);
    }
    /* NSGA-II on ZDT1 (10 ordinal genes): the front nears f2 = 1 - sqrt(f1). */
    hwnas_space *z = NULL;
    assert_int_equal(ordinal_space_new(&z, ctx, "genes=10;levels=65536"), HWNAS_OK);
    hwnas_strategy *s = NULL;
    assert_int_equal(hwnas_strategy_new(&s, ctx, "nsga2", "population=40", z, 2), HWNAS_OK);
    double best, share;
    drive(s, z, 2, 0, 40 * 60, &best, &share);
    /* The next generation's parents are the population: ask for it whole
     * and check its distance to the true front. */
    uint32_t *g = malloc(40 * 10 * sizeof *g);
    uint64_t ids[40];
    size_t n;
    assert_int_equal(hwnas_strategy_ask(s, 40, g, ids, &n), HWNAS_OK);
    assert_int_equal(n, 40);
    double gap = 0;
    for (size_t k = 0; k < n; k++) {
        double o[2], v;
        int f;
        evaluate(z, g + k * 10, 2, 0, o, &v, &f);
        gap += o[1] - (1 - sqrt(o[0]));
    }
    assert_true(gap / 40 < 0.5);
    free(g);
    hwnas_strategy_free(s);
    hwnas_space_free(z);
    hwnas_space_free(ord);
    hwnas_context_free(ctx);
}

static void test_load_errors(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *cell = NULL, *ord = NULL;
    assert_int_equal(hwnas_space_new(&cell, ctx, "cell", NULL), HWNAS_OK);
    assert_int_equal(ordinal_space_new(&ord, ctx, "genes=6;levels=5"), HWNAS_OK);
    for (size_t c = 0; c < HWNAS_ARRAY_SIZE(cases); c++) {
        hwnas_strategy *s = NULL, *t = NULL;
        assert_int_equal(hwnas_strategy_new(&s, ctx, cases[c].kind, cases[c].opts, cell, cases[c].m),
                         HWNAS_OK);
        double best, share;
        drive(s, cell, cases[c].m, PROB_FAILING, 37, &best, &share);
        uint32_t g[3 * 6];
        uint64_t ids[3];
        size_t n;
        assert_int_equal(hwnas_strategy_ask(s, 3, g, ids, &n), HWNAS_OK);
        uint8_t *buf, *ref;
        size_t len, rlen;
        assert_int_equal(hwnas_strategy_save(s, &buf, &len), HWNAS_OK);
        assert_int_equal(hwnas_strategy_new(&t, ctx, cases[c].kind, cases[c].opts, cell, cases[c].m),
                         HWNAS_OK);
        assert_int_equal(hwnas_strategy_save(t, &ref, &rlen), HWNAS_OK);
        /* Every truncation and a flipped bit in every byte: EFORMAT, and t unchanged. */
        for (size_t l = 0; l < len; l++)
            assert_int_equal(hwnas_strategy_load(t, buf, l), HWNAS_EFORMAT);
        for (size_t i = 0; i < len; i += 1 + len / 300) {
            buf[i] ^= 0x10;
            assert_int_equal(hwnas_strategy_load(t, buf, len), HWNAS_EFORMAT);
            buf[i] ^= 0x10;
        }
        /* A checksum does not hide a wrong structure from the parser. */
        uint8_t *copy = malloc(len);
        for (size_t i = 12; i < len - 8; i += 1 + len / 200) {
            memcpy(copy, buf, len);
            copy[i] ^= 0xff;
            hwnas__strategy_fix_checksum(copy, len);
            int rc = hwnas_strategy_load(t, copy, len);
            assert_true(rc == HWNAS_OK || rc == HWNAS_EFORMAT);
            if (rc == HWNAS_OK) { /* harmless change: t must still work */
                double o[3 * 3] = {0};
                uint32_t gg[4 * 6];
                uint64_t ii[4];
                size_t nn;
                assert_int_equal(hwnas_strategy_ask(t, 4, gg, ii, &nn), HWNAS_OK);
                assert_int_equal(hwnas_strategy_load(t, ref, rlen), HWNAS_OK);
                (void)o;
            }
        }
        /* The version field. */
        memcpy(copy, buf, len);
        copy[8] = 2;
        hwnas__strategy_fix_checksum(copy, len);
        assert_int_equal(hwnas_strategy_load(t, copy, len), HWNAS_EVERSION);
        free(copy);
        uint8_t *now;
        size_t nlen;
        assert_int_equal(hwnas_strategy_save(t, &now, &nlen), HWNAS_OK);
        assert_int_equal(nlen, rlen);
        assert_memory_equal(now, ref, rlen);
        hwnas_free(now);
        /* Other options, space or objective count. */
        hwnas_strategy *u = NULL;
        char opts[128];
        snprintf(opts, sizeof opts, "%s;seed=99", cases[c].opts);
        assert_int_equal(hwnas_strategy_new(&u, ctx, cases[c].kind, opts, cell, cases[c].m),
                         HWNAS_OK);
        assert_int_equal(hwnas_strategy_load(u, buf, len), HWNAS_EFORMAT);
        hwnas_strategy_free(u);
        assert_int_equal(hwnas_strategy_new(&u, ctx, cases[c].kind, cases[c].opts, ord, cases[c].m),
                         HWNAS_OK);
        assert_int_equal(hwnas_strategy_load(u, buf, len), HWNAS_EFORMAT);
        hwnas_strategy_free(u);
        assert_int_equal(hwnas_strategy_new(&u, ctx, cases[c].kind, cases[c].opts, cell, cases[c].m + 1),
                         HWNAS_OK);
        assert_int_equal(hwnas_strategy_load(u, buf, len), HWNAS_EFORMAT);
        hwnas_strategy_free(u);
        const char *other = strcmp(cases[c].kind, "random") ? "random" : "nsga2";
        assert_int_equal(hwnas_strategy_new(&u, ctx, other, NULL, cell, cases[c].m), HWNAS_OK);
        assert_int_equal(hwnas_strategy_load(u, buf, len), HWNAS_EFORMAT);
        assert_non_null(strstr(hwnas_error_last(), "kind"));
        hwnas_strategy_free(u);
        assert_int_equal(hwnas_strategy_load(t, buf, len), HWNAS_OK);
        assert_int_equal(hwnas_strategy_pending(t), n);
        hwnas_free(buf);
        hwnas_free(ref);
        hwnas_strategy_free(s);
        hwnas_strategy_free(t);
    }
    hwnas_space_free(cell);
    hwnas_space_free(ord);
    hwnas_context_free(ctx);
}

/* A saved population holds finite objectives only (tell() keeps them so):
 * an infinite one in a state, checksum made right, is refused. */
static void test_load_nonfinite_objectives(void **state)
{
    (void)state;
    hwnas_context *ctx = new_ctx();
    hwnas_space *cell = NULL;
    assert_int_equal(hwnas_space_new(&cell, ctx, "cell", NULL), HWNAS_OK);
    static const char *const kinds[] = {"ea", "nsga2"};
    for (size_t k = 0; k < 2; k++) {
        hwnas_strategy *s = NULL;
        assert_int_equal(hwnas_strategy_new(&s, ctx, kinds[k], "population=4;seed=3", cell, 1),
                         HWNAS_OK);
        uint32_t g[4 * 6];
        uint64_t ids[4];
        size_t n;
        assert_int_equal(hwnas_strategy_ask(s, 4, g, ids, &n), HWNAS_OK);
        double o[4] = {1234.5, 1234.5, 1234.5, 1234.5};
        assert_int_equal(hwnas_strategy_tell(s, n, ids, o, NULL, NULL), HWNAS_OK);
        uint8_t *buf;
        size_t len, hits = 0;
        assert_int_equal(hwnas_strategy_save(s, &buf, &len), HWNAS_OK);
        uint8_t pattern[8];
        memcpy(pattern, &o[0], 8);
        for (size_t i = 0; i + 8 <= len; i++) {
            if (memcmp(buf + i, pattern, 8) != 0)
                continue;
            for (int v = 0; v < 2; v++) {
                double bad = v ? NAN : INFINITY;
                memcpy(buf + i, &bad, 8);
                hwnas__strategy_fix_checksum(buf, len);
                assert_int_equal(hwnas_strategy_load(s, buf, len), HWNAS_EFORMAT);
            }
            memcpy(buf + i, pattern, 8);
            hits++;
        }
        assert_true(hits > 0);
        hwnas__strategy_fix_checksum(buf, len);
        assert_int_equal(hwnas_strategy_load(s, buf, len), HWNAS_OK);
        hwnas_free(buf);
        hwnas_strategy_free(s);
    }
    hwnas_space_free(cell);
    hwnas_context_free(ctx);
}

int run_strategy_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_tell_errors),
        cmocka_unit_test(test_reproducible_and_resumable),
        cmocka_unit_test(test_batch_independent),
        cmocka_unit_test(test_random_dedup),
        cmocka_unit_test(test_constraints),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_nonfinite_objectives),
    };
    return cmocka_run_group_tests_name("strategy", tests, NULL, NULL);
}

/* ---- out of memory -------------------------------------------------------- */

static void test_oom(void **state)
{
    (void)state;
    for (size_t c = 0; c < HWNAS_ARRAY_SIZE(cases); c++) {
        test_alloc ta;
        hwnas_context *ctx = test_alloc_context(&ta, "threads=1");
        assert_non_null(ctx);
        hwnas_space *cell = NULL;
        assert_int_equal(hwnas_space_new(&cell, ctx, "cell", NULL), HWNAS_OK);
        long base = ta.live;
        hwnas_strategy *s = NULL;
        for (long k = 0;; k++) {
            test_alloc_fail_from(&ta, k);
            int rc = hwnas_strategy_new(&s, ctx, cases[c].kind, cases[c].opts, cell, cases[c].m);
            test_alloc_disarm(&ta);
            if (rc == HWNAS_OK)
                break;
            assert_int_equal(rc, HWNAS_ENOMEM);
            assert_null(s);
            assert_int_equal(ta.live, base);
        }
        double best, share;
        drive(s, cell, cases[c].m, PROB_FAILING, 40, &best, &share);
        uint8_t *buf;
        size_t len;
        for (long k = 0;; k++) {
            test_alloc_fail_from(&ta, k);
            int rc = hwnas_strategy_save(s, &buf, &len);
            test_alloc_disarm(&ta);
            if (rc == HWNAS_OK)
                break;
            assert_int_equal(rc, HWNAS_ENOMEM);
        }
        long live = ta.live;
        for (long k = 0;; k++) {
            test_alloc_fail_from(&ta, k);
            int rc = hwnas_strategy_load(s, buf, len);
            test_alloc_disarm(&ta);
            if (rc == HWNAS_OK)
                break;
            assert_int_equal(rc, HWNAS_ENOMEM);
            assert_int_equal(ta.live, live);
        }
        /* Ask and tell under failing allocations never corrupt the state. */
        for (long k = 0; k < 8; k++) {
            uint32_t g[2 * 6];
            uint64_t ids[2];
            double o[2 * 3], v[2];
            int f[2];
            size_t n = 0;
            test_alloc_fail_from(&ta, k);
            int rc = hwnas_strategy_ask(s, 2, g, ids, &n);
            test_alloc_disarm(&ta);
            assert_true(rc == HWNAS_OK || rc == HWNAS_ENOMEM);
            for (size_t i = 0; i < n; i++)
                evaluate(cell, g + i * 6, cases[c].m, 0, o + i * cases[c].m, v + i, f + i);
            test_alloc_fail_from(&ta, k);
            rc = hwnas_strategy_tell(s, n, ids, o, v, f);
            test_alloc_disarm(&ta);
            assert_true(rc == HWNAS_OK || rc == HWNAS_ENOMEM);
            if (rc != HWNAS_OK)
                assert_int_equal(hwnas_strategy_tell(s, n, ids, o, v, f), HWNAS_OK);
        }
        drive(s, cell, cases[c].m, PROB_FAILING, 40, &best, &share);
        hwnas_free(buf);
        hwnas_strategy_free(s);
        hwnas_space_free(cell);
        hwnas_context_free(ctx);
        assert_int_equal(ta.live, 0);
    }
}

int run_strategy_oom_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests_name("strategy-oom", tests, NULL, NULL);
}
