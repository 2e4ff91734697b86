/*
 * The NAS-Bench-201 CIFAR-10 table for strategy tests and benchmarks
 * (header-only): reads nb201_nats_tss_test_acc_200ep.csv from
 * $HWNAS_SHARED_DIR/data/benchmarks (or a given directory) and maps every
 * space:cell genotype, through hwnas_space_parse of the ArchitectureString
 * column, to its test accuracy.
 */
#ifndef HWNAS_TEST_STRATEGY_NB201_H
#define HWNAS_TEST_STRATEGY_NB201_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwnas/hwnas.h>

#define NB201_N 15625

/* Index of a cell genotype: base-5 number of its six genes. */
static inline size_t nb201_index(const uint32_t *g)
{
    size_t k = 0;
    for (int i = 0; i < 6; i++)
        k = k * 5 + g[i];
    return k;
}

/* Fill acc[NB201_N] (column col: 0 CIFAR-10, 1 CIFAR-100, 2 ImageNet16-120).
 * Returns 0 on success, -1 when the file is absent, -2 when it is bad. */
static inline int nb201_load(const hwnas_space *cell, const char *shared_dir, int col,
                             double *acc)
{
    char path[4096];
    const char *dir = shared_dir ? shared_dir : getenv("HWNAS_SHARED_DIR");
    if (!dir)
        return -1;
    snprintf(path, sizeof path, "%s/data/benchmarks/nb201_nats_tss_test_acc_200ep.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    int rc = fgets(line, sizeof line, f) ? 0 : -2;
    size_t rows = 0;
    for (size_t i = 0; i < NB201_N; i++)
        acc[i] = -1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        char *field[5];
        char *p = line;
        int nf = 0;
        for (; nf < 5 && p; nf++) {
            field[nf] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        uint32_t g[6];
        if (nf < 4 || hwnas_space_parse(cell, field[3], g) != HWNAS_OK) {
            rc = -2;
            break;
        }
        acc[nb201_index(g)] = strtod(field[col], NULL);
        rows++;
    }
    fclose(f);
    if (rc == 0 && rows != NB201_N)
        rc = -2;
    for (size_t i = 0; rc == 0 && i < NB201_N; i++)
        if (acc[i] < 0)
            rc = -2;
    return rc;
}

#endif
