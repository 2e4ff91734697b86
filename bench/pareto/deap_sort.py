#!/usr/bin/python3
"""Time DEAP's Pareto tools on the data bench_pareto times, and compare.

DEAP (Debian python3-deap; apt-get install -y python3-deap) is timed on:
  sort2d, sort3d  tools.sortNondominated on n uniform random points
                  (and tools.sortLogNondominated, DEAP's O(n log^(m-1) n)
                  Fortin et al. variant, as an extra column)
  hv2d, hv3d      deap.tools._hypervolume.hv.hypervolume (DEAP's C
                  extension, Fonseca et al.'s algorithm) on n points of
                  the unit sphere, reference 1.1

usage: deap_sort.py [--n N] [--repeats R] [--c-results FILE]

Without --c-results it prints DEAP's figures as "case n seconds result"
lines. With the output of bench_pareto in FILE it prints a side-by-side
table with the ratio DEAP / libhwnas, and checks that both found the same
kind of answer (front counts close, identical hypervolume formula).
"""
import argparse
import math
import random
import sys
import time


def timed(fn, repeats):
    best, out = math.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def uniform(rng, n, m):
    return [[rng.random() for _ in range(m)] for _ in range(n)]


def sphere(rng, n, m):
    pts = []
    for _ in range(n):
        v = [abs(rng.gauss(0.0, 1.0)) for _ in range(m)]
        s = math.sqrt(sum(x * x for x in v))
        pts.append([x / s for x in v])
    return pts


def run_deap(n, repeats, seed):
    from deap import base, creator, tools
    from deap.tools._hypervolume import hv

    rng = random.Random(seed)
    rows = []
    for m in (2, 3):
        name = "FitnessMin%d" % m
        if not hasattr(creator, name):
            creator.create(name, base.Fitness, weights=(-1.0,) * m)
            creator.create("Ind%d" % m, list, fitness=getattr(creator, name))
        ind_cls = getattr(creator, "Ind%d" % m)
        pop = []
        for p in uniform(rng, n, m):
            ind = ind_cls(p)
            ind.fitness.values = tuple(p)
            pop.append(ind)
        # sortNondominated is O(m n^2) in Python: one repeat is plenty.
        t, fronts = timed(lambda: tools.sortNondominated(pop, len(pop)), 1)
        t_log, fronts_log = timed(lambda: tools.sortLogNondominated(pop, len(pop)), repeats)
        rows.append(("sort%dd" % m, n, t, len(fronts), t_log, len(fronts_log)))
    for m in (2, 3):
        pts = sphere(rng, n, m)
        ref = [1.1] * m
        t, vol = timed(lambda: hv.hypervolume(pts, ref), repeats)
        rows.append(("hv%dd" % m, n, t, vol, None, None))
    return rows


def read_c(path):
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4:
                out[parts[0]] = (int(parts[1]), float(parts[2]), float(parts[3]))
    return out


def fmt_time(t):
    if t is None:
        return "-"
    return "%.3f ms" % (t * 1e3) if t < 1 else "%.2f s" % t


def fmt_ratio(r):
    return ("%.0fx" if r >= 100 else "%.1fx") % r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--c-results", help="output of bench_pareto to compare with")
    args = ap.parse_args()
    try:
        import deap  # noqa: F401
    except ImportError:
        sys.exit("deap_sort.py: DEAP is missing: apt-get install -y python3-deap "
                 "and run with /usr/bin/python3")
    rows = run_deap(args.n, args.repeats, args.seed)
    if not args.c_results:
        for case, n, t, res, _, _ in rows:
            print("%s %d %.9f %s" % (case, n, t, res))
        return 0
    c = read_c(args.c_results)
    print("%-7s %6s  %12s  %12s  %9s  %16s  %9s  %s" % (
        "case", "n", "libhwnas", "DEAP", "ratio", "DEAP log-sort", "ratio", "fronts/HV (hwnas | DEAP)"))
    worst = math.inf
    for case, n, t, res, t_log, res_log in rows:
        if case not in c:
            print("%-7s missing from %s" % (case, args.c_results))
            continue
        cn, ct, cres = c[case]
        ratio = t / ct if ct > 0 else math.inf
        if case.startswith("sort"):
            worst = min(worst, ratio)
            ratio_log = fmt_ratio(t_log / ct) if ct > 0 else "inf"
            what = "%d | %d" % (cres, res)
        else:
            ratio_log = "-"
            what = "%.6f | %.6f" % (cres, res)
        print("%-7s %6d  %12s  %12s  %9s  %16s  %9s  %s" % (
            case, n, fmt_time(ct), fmt_time(t), fmt_ratio(ratio), fmt_time(t_log), ratio_log, what))
    if worst < math.inf:
        print("sorting: libhwnas is %.0fx faster than DEAP's sortNondominated "
              "(goal >= 100x: %s)" % (worst, "met" if worst >= 100 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
