#!/usr/bin/python3
"""The zero-cost proxies of the benchmark's networks (estimator:zero-cost,
one seeded Fashion-MNIST minibatch, each net initialised from its own
stream = its number), one CSV row per net with the seconds all seven (the issue's six and naswot_pwl) took
together (one estimator for all); each proxy also alone (one estimator
per proxy), so that a proxy failing on a net (naswot's kernel singular,
say) leaves that cell empty and its message in the error column while the
others stay.

    bench/predict/zero_cost/proxies.py [--nets DIR] [--out CSV] [--options OPTS] [--threads N]
"""
import argparse
import glob
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "bindings", "python"))
import hwnas  # noqa: E402

PROXIES = ["grad_norm", "snip", "grasp", "synflow", "jacob_cov", "naswot", "naswot_pwl"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nets", default=os.path.join(HERE, "nets"))
    ap.add_argument("--out", default=os.path.join(HERE, "proxies.csv"))
    ap.add_argument("--options", default="batch=64;seed=1")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    ctx = hwnas.Context(threads=a.threads, seed=1)
    t0 = time.time()
    est = hwnas.Estimator(ctx, "estimator:zero-cost",
                          a.options + ";proxies=" + ",".join(PROXIES))
    alone = {p: hwnas.Estimator(ctx, "estimator:zero-cost", a.options + ";proxies=" + p)
             for p in PROXIES}
    print("minibatch loaded in %.1f s" % (time.time() - t0), file=sys.stderr)
    rows = []
    for path in sorted(glob.glob(os.path.join(a.nets, "[0-9][0-9][0-9].net"))):
        name = os.path.basename(path)[:3]
        net = hwnas.Net.load(ctx, path)
        t = time.time()
        vals, errors = {}, []
        try:
            vals = est.estimate(net, stream=int(name))
        except hwnas.Error:
            pass
        secs = time.time() - t
        if not vals:
            for p in PROXIES:
                try:
                    vals.update(alone[p].estimate(net, stream=int(name)))
                except hwnas.Error as e:
                    errors.append(str(e))
        rows.append((name, net.params, net.macs, vals, secs, "; ".join(errors)))
        print(name, " ".join("%s=%.4g" % (k, v) for k, v in vals.items()), errors or "",
              "%.2fs" % secs, file=sys.stderr)
    with open(a.out, "w") as f:
        f.write("# made by: bench/predict/zero_cost/proxies.py --options '%s' --threads %d\n"
                % (a.options, a.threads))
        f.write("net,params,macs,%s,seconds,error\n" % ",".join(PROXIES))
        for name, params, macs, vals, secs, err in rows:
            f.write("%s,%d,%d,%s,%.3f,\"%s\"\n" % (
                name, params, macs, ",".join("%.17g" % vals[p] if p in vals else ""
                                             for p in PROXIES), secs, err.replace('"', "'")))


if __name__ == "__main__":
    main()
