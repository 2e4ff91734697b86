#!/usr/bin/python3
"""Draw the benchmark's networks: N random genotypes of the default job's
CGP space (tools/cli/search.c: DEFAULT_SPACE_OPTIONS), kept only when they
meet the default job's constraint params<=100000 (the default search
screens larger ones out before training them), written as OUT/NNN.net plus
OUT/genes.csv. Same seed, same networks.

    bench/predict/zero_cost/sample_nets.py [--count 60] [--seed 1] [--out DIR]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "bindings", "python"))
import hwnas  # noqa: E402

SPACE = ("rows=1;cols=8;levels_back=3;stem=16;bits=8;"
         "multipliers=exact,drum:k=6,drum:k=4,trunc:t=2,mitchell")
MAX_PARAMS = 100000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(HERE, "nets"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    ctx = hwnas.Context(threads=1, seed=a.seed)
    space = hwnas.Space(ctx, "space:cgp", SPACE)
    rng = hwnas.Rng(ctx, seed=a.seed, stream=17)
    seen, rows, drawn = set(), [], 0
    while len(rows) < a.count:
        drawn += 1
        genes = space.sample(rng)
        net = space.decode(genes)
        h = net.hash()
        if h in seen or net.params > MAX_PARAMS:
            continue
        seen.add(h)
        name = "%03d" % len(rows)
        with open(os.path.join(a.out, name + ".net"), "w") as f:
            f.write(net.format())
        rows.append((name, net.params, net.macs, " ".join(map(str, genes))))
    with open(os.path.join(a.out, "genes.csv"), "w") as f:
        f.write("net,params,macs,genes\n")
        for r in rows:
            f.write("%s,%d,%d,%s\n" % r)
    print("%d networks (of %d drawn) in %s" % (len(rows), drawn, a.out))


if __name__ == "__main__":
    main()
