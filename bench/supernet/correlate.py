#!/usr/bin/env python3
"""Kendall tau-b and Spearman rho between the supernet's ratings (RATED, from
`hwnas supernet rate`) and stand-alone accuracies (STANDALONE, from
bench/supernet/standalone.py), over the cells both hold; prints the table.

  bench/supernet/correlate.py rated.csv standalone.csv [NB201_TABLE]

NB201_TABLE (../shared/data/benchmarks/nb201_nats_tss_test_acc_200ep.csv)
adds a transfer row: the same cells' CIFAR-10 test accuracy after 200
epochs (NATS-Bench), against the supernet's Fashion-MNIST rating - not the
issue's figure (another dataset), a sanity check of the ranking.

Published one-shot figures on NAS-Bench-201 for comparison: Dong and Yang
(NAS-Bench-201, ICLR 2020) and Yu et al. (Evaluating the search phase of
NAS, ICLR 2020) report weak rank correlations for weight sharing; Zhang et
al. (Deeper insights into weight sharing, 2020) and Zela et al. (NAS-Bench-
1Shot1, ICLR 2020) report Kendall tau around 0.5 or below for SPOS-style
supernets. Quote the figures from those papers when comparing, not these
comments.
"""
import csv
import math
import os
import sys


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0 + 1
        i = j + 1
    return r


def pearson(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else float("nan")


def kendall_tau_b(a, b):
    conc = disc = ta = tb = 0
    n = len(a)
    for i in range(n):
        for j in range(i + 1, n):
            da, db = a[i] - a[j], b[i] - b[j]
            if da == 0 and db == 0:
                continue
            if da == 0:
                ta += 1
            elif db == 0:
                tb += 1
            elif (da > 0) == (db > 0):
                conc += 1
            else:
                disc += 1
    den = math.sqrt((conc + disc + ta) * (conc + disc + tb))
    return (conc - disc) / den if den else float("nan")


def row(label, sn, other):
    common = [k for k in sn if k in other]
    if len(common) < 3:
        print("| %s | %d cells with both figures | | | | |" % (label, len(common)))
        return
    a = [sn[k] for k in common]
    b = [other[k] for k in common]
    print("| %s | %d | %.3f | %.3f | %.2f%% | %.2f%% |"
          % (label, len(common), kendall_tau_b(a, b), pearson(ranks(a), ranks(b)),
             sum(a) / len(a), sum(b) / len(b)))


def main():
    rated, alone = sys.argv[1], sys.argv[2]
    with open(rated) as f:
        sn = {r["arch"]: float(r["accuracy"]) for r in csv.DictReader(f)}
    print("| against | cells | Kendall tau-b | Spearman rho | supernet acc (mean) | "
          "other acc (mean) |")
    print("|---|---|---|---|---|---|")
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            nb = {r["ArchitectureString"]: float(r["CIFAR10TestAccuracy200Epochs"])
                  for r in csv.DictReader(f)}
        row("NB201 CIFAR-10 test (transfer)", sn, nb)
    if not os.path.exists(alone):
        print("| Fashion-MNIST stand-alone | none yet (%s): run bench/supernet/standalone.py | "
              "| | | |" % alone)
    else:
        with open(alone) as f:
            st = {r["arch"]: float(r["val_accuracy"]) for r in csv.DictReader(f)}
        row("Fashion-MNIST stand-alone", sn, st)
        if len(sys.argv) > 3:
            # the stand-alone figures against the benchmark: how much of the
            # ranking a short from-scratch training keeps (first column:
            # stand-alone accuracy, not the supernet's)
            row("stand-alone vs NB201 CIFAR-10 (reference, no supernet)", st, nb)
    print("rated cells: %d, supernet accuracy min %.2f%% / mean %.2f%% / max %.2f%%"
          % (len(sn), min(sn.values()), sum(sn.values()) / len(sn), max(sn.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
