#!/usr/bin/env python3
"""Train the rated cells from scratch (issue 21, item 4): for every cell of
RATED (the CSV `hwnas supernet rate` printed), decode it with space:cell (or
--space macro, cgp: those spaces' genotypes) under the supernet's options
and train it on Fashion-MNIST with the library's engine, then measure it
on the held-out images estimator:supernet measures on (the training split
cut 90/10, stratified, seed 1; the first --evaluation images of the 10%),
and append
arch,val_accuracy,train_images,epochs,seconds,command to CSV.

Resumable: cells already in CSV are skipped, so kill it and run it again at
will. Each row's command reproduces that row alone (--only ARCH).

  bench/supernet/standalone.py --rated rated.csv --csv standalone.csv
      [--space cell|macro|cgp] [--options "channels=8;cells=2"] [--subset 20000] [--epochs 2]
      [--evaluation 1000] [--threads 2] [--limit N] [--only ARCH]
      [--library build/lib/libhwnas.so.0]

The recipe (SGD, lr 0.1 cosine - 0.01 for a net whose loss diverges at
0.1 -, momentum 0.9, weight decay 5e-4, batch 128, seed 1) is `hwnas train`'s; --subset and --epochs make it a budget that fits
60 cells on a shared machine - say which when quoting the figures.
"""
import argparse
import csv
import os
import shlex
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rated")
    ap.add_argument("--csv", required=True)
    ap.add_argument("--space", default="cell", choices=["cell", "macro", "cgp"])
    ap.add_argument("--options", default="channels=8;cells=2")
    ap.add_argument("--subset", type=int, default=20000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--evaluation", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="stop after this many new cells")
    ap.add_argument("--only", help="train this one architecture string")
    ap.add_argument("--library", default=os.path.join(HERE, "..", "..", "build", "lib",
                                                      "libhwnas.so.0"))
    a = ap.parse_args()
    if not a.only and not a.rated:
        ap.error("give --rated CSV or --only ARCH")
    os.environ.setdefault("HWNAS_LIBRARY", os.path.abspath(a.library))
    import hwnas
    from hwnas.data import Dataset
    from hwnas.model import Model
    ctx = hwnas.Context(threads=a.threads)
    space = hwnas.Space(ctx, a.space, a.options + ";input_channels=1;input_size=28;classes=10")
    done = set()
    if os.path.exists(a.csv):
        with open(a.csv) as f:
            done = {r["arch"] for r in csv.DictReader(f)}
    if a.only:
        archs = [a.only]
    else:
        with open(a.rated) as f:
            archs = [r["arch"] for r in csv.DictReader(f)]
    todo = [x for x in archs if x not in done]
    if a.limit:
        todo = todo[:a.limit]
    if not todo:
        print("nothing to do: %d cells in %s" % (len(done), a.csv))
        return 0
    # the split estimator:supernet and hwnas supernet train make
    train, val = Dataset.load(ctx, "fashion-mnist", split="train").split(0.1, "stratified", 1)
    if a.subset and a.subset < len(train):
        train = train.subset(a.subset, "stratified", 2)
    mean, std = train.stats()
    train.normalize(mean, std)
    val.normalize(mean, std)
    if a.evaluation and a.evaluation < len(val):
        val = val.subset(a.evaluation, "first")
    base = [sys.executable, os.path.abspath(__file__), "--csv", a.csv, "--space", a.space,
            "--options", a.options,
            "--subset", str(a.subset), "--epochs", str(a.epochs), "--evaluation",
            str(a.evaluation), "--threads", str(a.threads)]
    for k, arch in enumerate(todo):
        net = space.decode(space.parse(arch))
        t0 = time.time()
        # a net whose loss diverges at lr 0.1 (deep CGP chains without
        # batch norm) is trained again from its initialisation at 0.01
        for lr in (0.1, 0.01):
            m = Model(ctx, net, seed=1)
            try:
                m.train(train, epochs=a.epochs, batch=128, lr=lr, momentum=0.9,
                        weight_decay=5e-4, seed=1)
                break
            except hwnas.InvalidArgument as e:
                if "diverged" not in str(e) or lr != 0.1:
                    raise
                print("%s: diverged at lr 0.1, again at 0.01" % arch, flush=True)
                m.close()
        acc = m.evaluate(val)[0]
        secs = time.time() - t0
        new_file = not os.path.exists(a.csv)
        with open(a.csv, "a", newline="") as f:
            w = csv.writer(f)
            if new_file:
                w.writerow(["arch", "val_accuracy", "train_images", "epochs", "seconds",
                            "command"])
            w.writerow([arch, "%.2f" % (100 * acc), len(train), a.epochs, "%.1f" % secs,
                        " ".join(shlex.quote(x) for x in base + ["--only", arch])])
        print("%d/%d %s %.2f%% %.0f s" % (k + 1, len(todo), arch, 100 * acc, secs), flush=True)
        m.close()
        net.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
