#!/usr/bin/python3
"""Spearman rank correlation of each zero-cost proxy (and, as baselines,
params and MACs) with the accuracies measured so far: a markdown table with
the number of nets behind each column.

    bench/predict/zero_cost/spearman.py [--proxies CSV] [--accuracy CSV] [--short CSV]

A proxy that failed on a net (empty cell) ranks that net last, as a search
screening by it would. Ties get their average rank. Beside each rho, its
95 % bootstrap interval (1,000 resamples of the nets, seed 1).
"""
import argparse
import csv
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
PROXIES = ["grad_norm", "snip", "grasp", "synflow", "jacob_cov", "naswot", "naswot_pwl", "params",
           "macs"]


def rows(path):
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else float("nan")


def bootstrap(xs, ys, draws=1000):
    rng = random.Random(1)
    rhos = []
    for _ in range(draws):
        idx = [rng.randrange(len(xs)) for _ in xs]
        r = spearman([xs[i] for i in idx], [ys[i] for i in idx])
        if not math.isnan(r):
            rhos.append(r)
    rhos.sort()
    return rhos[int(0.025 * len(rhos))], rhos[int(0.975 * len(rhos)) - 1]


def column(proxies, acc, key):
    """proxy -> (rho, low, high) over the nets in both, and that count."""
    truth = {r["net"]: float(r[key]) for r in acc}
    nets = [r for r in proxies if r["net"] in truth]
    out = {}
    for p in PROXIES:
        xs = [float(r[p]) if r[p] != "" else -math.inf for r in nets]
        ys = [truth[r["net"]] for r in nets]
        out[p] = (spearman(xs, ys),) + bootstrap(xs, ys) if len(nets) >= 3 else None
    return out, len(nets)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxies", default=os.path.join(HERE, "proxies.csv"))
    ap.add_argument("--accuracy", default=os.path.join(HERE, "accuracy.csv"))
    ap.add_argument("--short", default=os.path.join(HERE, "short_accuracy.csv"))
    a = ap.parse_args()
    proxies = rows(a.proxies)
    cols = []
    acc = rows(a.accuracy)
    if acc:
        cols.append(("30-epoch test accuracy",) + column(proxies, acc, "test_accuracy"))
    short = rows(a.short)
    if short:
        cols.append(("2-epoch proxy accuracy",) + column(proxies, short, "accuracy"))
    print("| proxy | " + " | ".join("%s (%d nets)" % (t, n) for t, _, n in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for p in PROXIES:
        cells = ["%+.3f [%+.2f, %+.2f]" % c[p] if c[p] is not None else "n/a"
                 for _, c, _ in cols]
        print("| %s | %s |" % (p, " | ".join(cells)))


if __name__ == "__main__":
    main()
