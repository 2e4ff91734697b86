/* Strategies on the real NAS-Bench-201 table (skipped without ../shared). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <hwnas/hwnas.h>

#include "test_strategy_nb201.h"

int run_strategy_nb201_tests(void);

/* Best CIFAR-10 accuracy found in evals evaluations (objective -accuracy). */
static double search(hwnas_context *ctx, const hwnas_space *cell, const double *acc,
                     const char *kind, const char *opts, size_t evals)
{
    hwnas_strategy *s = NULL;
    assert_int_equal(hwnas_strategy_new(&s, ctx, kind, opts, cell, 1), HWNAS_OK);
    double best = 0;
    size_t done = 0;
    while (done < evals) {
        uint32_t g[10 * 6];
        uint64_t ids[10];
        double o[10];
        size_t n, want = evals - done < 10 ? evals - done : 10;
        assert_int_equal(hwnas_strategy_ask(s, want, g, ids, &n), HWNAS_OK);
        assert_true(n > 0);
        for (size_t k = 0; k < n; k++) {
            double a = acc[nb201_index(g + 6 * k)];
            o[k] = -a;
            best = a > best ? a : best;
        }
        assert_int_equal(hwnas_strategy_tell(s, n, ids, o, NULL, NULL), HWNAS_OK);
        done += n;
    }
    hwnas_strategy_free(s);
    return best;
}

static void test_rea_beats_random(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_space *cell = NULL;
    assert_int_equal(hwnas_space_new(&cell, ctx, "cell", NULL), HWNAS_OK);
    double *acc = malloc(NB201_N * sizeof *acc);
    int rc = nb201_load(cell, NULL, 0, acc);
    if (rc == -1) {
        free(acc);
        hwnas_space_free(cell);
        hwnas_context_free(ctx);
        skip(); /* nb201_nats_tss_test_acc_200ep.csv: HWNAS_SHARED_DIR unset or file absent */
    }
    assert_int_equal(rc, 0);
    double rs = 0, rea = 0;
    for (int seed = 1; seed <= 20; seed++) {
        char o[128];
        snprintf(o, sizeof o, "seed=%d;dedup=false", seed);
        rs += search(ctx, cell, acc, "random", o, 300) / 20;
        snprintf(o, sizeof o, "seed=%d;mode=regularized;population=20;sample=5", seed);
        rea += search(ctx, cell, acc, "ea", o, 300) / 20;
    }
    print_message("NB201 CIFAR-10, 300 evaluations, 20 seeds: random %.3f, REA %.3f\n", rs, rea);
    assert_true(rea > rs);
    free(acc);
    hwnas_space_free(cell);
    hwnas_context_free(ctx);
}

int run_strategy_nb201_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rea_beats_random),
    };
    return cmocka_run_group_tests_name("strategy-nb201", tests, NULL, NULL);
}
