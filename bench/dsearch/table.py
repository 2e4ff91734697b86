#!/usr/bin/python3
"""Print issue 26's table from bench/dsearch/run's directory: per method the
search's wall time, the derived cell, its accuracy with the supernet's
weights and trained from scratch (retrain=N of the run's options), its
NAS-Bench-201 CIFAR-10 accuracy; then RANDOM random cells trained from
scratch the same way (kept in OUT/random.csv with the command of each row,
resumable) with their mean and best, beside the published DARTS and GDAS
figures on NAS-Bench-201."""
import argparse
import csv
import os
import random
import sys

# NAS-Bench-201 paper (Dong & Yang, ICLR 2020), Table 5, CIFAR-10 test.
PUBLISHED = {"darts": "54.30 (DARTS-V1 and V2)", "gdas": "93.61 +- 0.09"}
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
FROM = [0, 0, 1, 0, 1, 2]


def arch(g):
    s = ""
    for e in range(6):
        s += ("|+" if e in (1, 3) else "") + "|%s~%d" % (OPS[g[e]], FROM[e])
    return s + "|"


def nb201_table(path):
    if not path or not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {r["ArchitectureString"]: float(r["CIFAR10TestAccuracy200Epochs"])
                for r in csv.DictReader(f)}


def opt(options, key, default):
    for kv in options.split(";"):
        if kv.startswith(key + "="):
            return kv.split("=", 1)[1]
    return default


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--methods", default="darts gdas")
    ap.add_argument("--random", type=int, default=5)
    ap.add_argument("--library", default=None)
    ap.add_argument("--options", default="channels=8;cells=1;retrain=3")
    ap.add_argument("--subset", type=int, default=6000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--nb201", default=None)
    a = ap.parse_args()
    nb = nb201_table(a.nb201)
    print("| method | search wall s (CPU s) | derived cell | supernet acc | retrained acc | "
          "NB201 CIFAR-10 | published NB201 CIFAR-10 |")
    print("|---|---|---|---|---|---|---|")
    for m in a.methods.split():
        front = os.path.join(a.out, m, "front.csv")
        if not os.path.exists(front):
            print("| %s | (not run) |||||" % m)
            continue
        wall = cpu = float("nan")
        tf = os.path.join(a.out, m + ".time")
        if os.path.exists(tf):
            w, u, s = open(tf).read().split()
            wall, cpu = float(w), float(u) + float(s)
        with open(front, newline="") as f:
            for r in csv.DictReader(f):
                print("| %s (lambda %s) | %.0f (%.0f) | `%s` | %.1f%% | %s | %s | %s |" % (
                    m, r["lambda"], wall, cpu, r["arch"], 100 * float(r["accuracy"]),
                    "%.1f%%" % (100 * float(r["retrain_accuracy"])) if r["retrain_accuracy"]
                    else "-", "%.2f" % nb[r["arch"]] if r["arch"] in nb else "-",
                    PUBLISHED.get(m, "-")))
    if a.random <= 0:
        return
    epochs = int(opt(a.options, "retrain", "3"))
    channels, cells = opt(a.options, "channels", "8"), opt(a.options, "cells", "1")
    rows = []
    path = os.path.join(a.out, "random.csv")
    if os.path.exists(path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    rng = random.Random(1)
    cells_g = [[rng.randrange(5) for _ in range(6)] for _ in range(a.random)]
    if len(rows) < a.random:
        if a.library:
            os.environ.setdefault("HWNAS_LIBRARY", a.library)
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings",
                                        "python"))
        import hwnas
        from hwnas.data import Dataset
        from hwnas.model import Model
        from hwnas.space import Space
        ctx = hwnas.Context(threads=1)
        full = Dataset.load(ctx, "fashion-mnist", split="train")
        train = full.subset(a.subset, mode="stratified", seed=1)
        test = Dataset.load(ctx, "fashion-mnist", split="test").subset(a.test, mode="stratified",
                                                                      seed=2)
        mean, std = train.stats()
        train.normalize(mean, std)
        test.normalize(mean, std)
        space = Space(ctx, "cell", "channels=%s;cells=%s;input_channels=1;input_size=28"
                      % (channels, cells))
        write_header = not os.path.exists(path)
        with open(path, "a", newline="") as f:
            w = csv.writer(f)
            if write_header:
                w.writerow(["arch", "accuracy", "nb201_cifar10", "command"])
            for g in cells_g[len(rows):]:
                model = Model(ctx, space.decode(g), seed=1)
                model.train(train, epochs=epochs, batch=64, lr=0.05, weight_decay=5e-4, seed=1)
                acc = model.evaluate(test)[0]
                cmd = ("table.py --out %s --random %d (cell %d of Random(1); %d epochs on %d "
                       "images, as retrain=)" % (a.out, a.random, len(rows), epochs, a.subset))
                w.writerow([arch(g), "%.4f" % acc, nb.get(arch(g), ""), cmd])
                f.flush()
                rows.append({"arch": arch(g), "accuracy": "%.4f" % acc})
    accs = [float(r["accuracy"]) for r in rows[:a.random]]
    nbs = [nb[r["arch"]] for r in rows[:a.random] if r["arch"] in nb]
    print("| random cells (%d) | - | mean / best | - | %.1f%% / %.1f%% | %s | - |" % (
        len(accs), 100 * sum(accs) / len(accs), 100 * max(accs),
        "%.2f / %.2f" % (sum(nbs) / len(nbs), max(nbs)) if nbs else "-"))


if __name__ == "__main__":
    main()
