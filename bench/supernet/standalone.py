#!/usr/bin/env python3
"""Train the rated cells from scratch (issue 21, item 4): for every cell of
RATED (the CSV `hwnas supernet rate` printed), decode it with space:cell under
the supernet's options into a .net, train it with `hwnas train` on
Fashion-MNIST holding out the same 10% of the training split the supernet
estimator measures on (--validation 0.1, split seed 1), and append
arch,val_accuracy,seconds,command to CSV. Resumable: cells already in CSV
are skipped, so kill it and run it again at will; each row says the exact
command that made it.

  bench/supernet/standalone.py --hwnas build/tools/hwnas --rated rated.csv
      --csv standalone.csv [--options "channels=8;cells=2"] [--epochs 1]
      [--threads 2] [--limit N]
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hwnas", default="build/tools/hwnas")
    ap.add_argument("--rated", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--options", default="channels=8;cells=2")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="stop after this many new cells")
    a = ap.parse_args()
    if "HWNAS_LIBRARY" not in os.environ:
        build = os.path.dirname(os.path.dirname(os.path.abspath(a.hwnas)))
        os.environ["HWNAS_LIBRARY"] = os.path.join(build, "lib", "libhwnas.so.0")
    import hwnas
    ctx = hwnas.Context(threads=1)
    space = hwnas.Space(ctx, "cell", a.options + ";input_channels=1;input_size=28;classes=10")
    done = set()
    if os.path.exists(a.csv):
        with open(a.csv) as f:
            done = {r["arch"] for r in csv.DictReader(f)}
    with open(a.rated) as f:
        archs = [r["arch"] for r in csv.DictReader(f)]
    netdir = os.path.splitext(a.csv)[0] + "_nets"
    os.makedirs(netdir, exist_ok=True)
    new = 0
    for i, arch in enumerate(archs):
        if arch in done:
            continue
        if a.limit and new >= a.limit:
            break
        path = os.path.join(netdir, "cell%03d.net" % i)
        net = space.decode(space.parse(arch))
        with open(path, "w") as f:
            f.write(net.format())
        cmd = [a.hwnas, "--threads", str(a.threads), "train", path, "--epochs", str(a.epochs),
               "--validation", "0.1", "--seed", "1"]
        t0 = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True)
        secs = time.time() - t0
        m = re.search(r"validation accuracy ([0-9.]+)%", p.stdout)
        if p.returncode != 0 or not m:
            sys.stderr.write("cell %d failed:\n%s%s" % (i, p.stdout, p.stderr))
            return 1
        new_file = not os.path.exists(a.csv)
        with open(a.csv, "a", newline="") as f:
            w = csv.writer(f)
            if new_file:
                w.writerow(["arch", "val_accuracy", "seconds", "command"])
            w.writerow([arch, m.group(1), "%.1f" % secs, " ".join(cmd)])
        print("%d/%d %s %s%% %.0f s" % (i + 1, len(archs), arch, m.group(1), secs), flush=True)
        new += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
