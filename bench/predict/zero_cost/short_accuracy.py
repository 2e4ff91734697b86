#!/usr/bin/python3
"""A cheaper ground truth beside the 30-epoch one: each benchmark net's
validation accuracy under the default search's own proxy training
(estimator:accuracy as tools/cli/search.c's DEFAULT_ACCURACY, without
quant: 4,000 training images, 2 epochs, batch 32, lr 0.1, 2,000
validation images), initialised from stream = its number, exactly as
estimator:zero-cost initialises it. Resumable: appends one row per net to
CSV and skips nets already there.

    bench/predict/zero_cost/short_accuracy.py [--nets DIR] [--out CSV] [--threads N]
"""
import argparse
import glob
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "bindings", "python"))
import hwnas  # noqa: E402

OPTIONS = "train_subset=4000;val_subset=2000;epochs=2;batch=32;lr=0.1;seed=1"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nets", default=os.path.join(HERE, "nets"))
    ap.add_argument("--out", default=os.path.join(HERE, "short_accuracy.csv"))
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    done = set()
    if os.path.exists(a.out):
        with open(a.out) as f:
            done = {line.split(",")[0] for line in f if line[:1].isdigit()}
    else:
        with open(a.out, "w") as f:
            f.write("# made by: bench/predict/zero_cost/short_accuracy.py --threads %d "
                    "(estimator:accuracy %s)\n" % (a.threads, OPTIONS))
            f.write("net,accuracy,train_seconds\n")
    ctx = hwnas.Context(threads=a.threads, seed=1)
    est = hwnas.Estimator(ctx, "estimator:accuracy", OPTIONS)
    for path in sorted(glob.glob(os.path.join(a.nets, "[0-9][0-9][0-9].net"))):
        name = os.path.basename(path)[:3]
        if name in done:
            continue
        net = hwnas.Net.load(ctx, path)
        t = time.time()
        m = est.estimate(net, stream=int(name))
        with open(a.out, "a") as f:
            f.write("%s,%.2f,%.1f\n" % (name, m["accuracy"], m["train_seconds"]))
        print(name, "%.2f%%" % m["accuracy"], "%.0fs" % (time.time() - t), file=sys.stderr,
              flush=True)


if __name__ == "__main__":
    main()
