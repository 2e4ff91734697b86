#!/usr/bin/python3
"""Spearman rank correlation of each zero-cost proxy (and, as baselines,
params and MACs) with the accuracies measured so far: a markdown table with
the number of nets behind each column.

    bench/predict/zero_cost/spearman.py [--proxies CSV] [--accuracy CSV] [--short CSV]

A proxy that failed on a net (empty cell) ranks that net last, as a search
screening by it would. Ties get their average rank. Beside each rho, its
95 % bootstrap interval (1,000 resamples of the nets, seed 1).

With both truths, two more: the partial rank correlation with the 30-epoch
accuracy at a fixed parameter count (what a proxy tells a search that
already knows each net's size), and a last row, the 2-epoch accuracy
itself as a predictor of the 30-epoch one (the training a zero-cost proxy
would replace).
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


def partial(a, b, z):
    """Rank correlation of a and b with z held fixed (partial Spearman)."""
    ab, az, bz = spearman(a, b), spearman(a, z), spearman(b, z)
    d = (1 - az * az) * (1 - bz * bz)
    return (ab - az * bz) / math.sqrt(d) if d > 0 else float("nan")


def bootstrap(stat, *cols, draws=1000):
    """stat over the columns, and its 95 % interval over resampled nets."""
    rng = random.Random(1)
    rhos = []
    n = len(cols[0])
    for _ in range(draws):
        idx = [rng.randrange(n) for _ in range(n)]
        r = stat(*[[c[i] for i in idx] for c in cols])
        if not math.isnan(r):
            rhos.append(r)
    rhos.sort()
    if not rhos:
        return None
    return (stat(*cols), rhos[int(0.025 * len(rhos))], rhos[int(0.975 * len(rhos)) - 1])


def value(r, p):
    return float(r[p]) if r[p] != "" else -math.inf


def column(proxies, acc, key, fixed=None, rows_=PROXIES):
    """proxy -> (rho, low, high) over the nets in both, and that count; with
    fixed, the partial correlation at a fixed value of that column."""
    truth = {r["net"]: float(r[key]) for r in acc}
    nets = [r for r in proxies if r["net"] in truth]
    ys = [truth[r["net"]] for r in nets]
    out = {}
    for p in rows_:
        if len(nets) < 4 or p == fixed:
            out[p] = None
            continue
        xs = [value(r, p) for r in nets]
        if fixed:
            out[p] = bootstrap(partial, xs, ys, [value(r, fixed) for r in nets])
        else:
            out[p] = bootstrap(spearman, xs, ys)
    return out, len(nets)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxies", default=os.path.join(HERE, "proxies.csv"))
    ap.add_argument("--accuracy", default=os.path.join(HERE, "accuracy.csv"))
    ap.add_argument("--short", default=os.path.join(HERE, "short_accuracy.csv"))
    a = ap.parse_args()
    proxies = rows(a.proxies)
    acc = rows(a.accuracy)
    short = rows(a.short)
    names = list(PROXIES)
    if acc and short:
        # the 2-epoch accuracy as one more predictor of the 30-epoch one
        by_net = {r["net"]: r["accuracy"] for r in short}
        for r in proxies:
            r["2-epoch accuracy"] = by_net.get(r["net"], "")
        names.append("2-epoch accuracy")
    cols = []
    if acc:
        cols.append(("30-epoch test accuracy",) +
                    column(proxies, acc, "test_accuracy", rows_=names))
        cols.append(("the same, params held fixed",) +
                    column(proxies, acc, "test_accuracy", fixed="params", rows_=names))
    if short:
        cols.append(("2-epoch proxy accuracy",) + column(proxies, short, "accuracy"))
    print("| proxy | " + " | ".join("%s (%d nets)" % (t, n) for t, _, n in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for p in names:
        cells = ["%+.3f [%+.2f, %+.2f]" % c[p] if c.get(p) is not None else "-"
                 for _, c, _ in cols]
        print("| %s | %s |" % (p, " | ".join(cells)))


if __name__ == "__main__":
    main()
