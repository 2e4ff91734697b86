#!/usr/bin/env python3
"""Pruning against today's default job (issue 17, items 4-5).

Runs `hwnas search` twice with the default job's settings - once as it is
(prune=none), once with a pruner - and prints, for each: candidates,
pruned, training images x epochs (proxy and refinement), wall and CPU
time, and the hypervolume of the final (refined) front against one
reference point shared by both runs. Then the two criteria of the issue:
the pruned job's hypervolume reached with at most a third of the training
epochs, or a higher hypervolume in (about) the same time.

  bench/prune/compare.py [--hwnas build/tools/hwnas] [--budget 48]
                         [--pruned-budget 144] [--refine 6] [--prune hyperband]
                         [--prune-options ""] [--out /tmp/hwnas-prune-bench]
                         [--seed N] [--threads 2] [--side-by-side]

--side-by-side runs the two searches at once, each on --threads (give 1):
both then see the same machine, which keeps the wall-time criterion fair
on a shared host. A search's result does not depend on its thread count,
so the fronts are those of the two-thread default job; only times differ.

The default job's proxy estimator trains on 4000 images for 2 epochs and
its refine estimator on 20000 for 4 (tools/cli/search.c); the budgets are
lower than the job's 160 so that both runs fit a shared machine: say so
when quoting the figures.
"""
import argparse
import csv
import os
import subprocess
import sys
import time

PROXY_IMAGES, PROXY_EPOCHS = 4000, 2
REFINE_IMAGES, REFINE_EPOCHS = 20000, 4


def command(a, out, budget, extra):
    cmd = [a.hwnas, "--threads", str(a.threads), "search", "--out", out, "--budget", str(budget),
           "--time-limit", "0", "--refine", str(a.refine), "--start-over"] + extra
    if a.seed is not None:
        cmd += ["--seed", str(a.seed)]
    return cmd


def run_all(cmds):
    """Runs the commands one after another, or all at once; returns (wall, cpu) each."""
    res = []
    for cmd in cmds:
        print("$", " ".join(cmd), flush=True)
    procs = []
    for cmd in cmds:
        t0 = time.monotonic()
        # stderr to a file, not a pipe: a full pipe would stall a search we are not reading
        log = open(cmd[cmd.index("--out") + 1] + ".log", "w+")
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        p.log = log
        if len(cmds) > 1 and not SIDE_BY_SIDE:
            res.append(wait_one(cmd, p, t0))
        else:
            procs.append((cmd, p, t0))
    # whichever ends first is reaped first, so each wall time stops at its own end
    done = {}
    while len(done) < len(procs):
        pid, status, ru = os.wait4(-1, 0)
        done[pid] = (time.monotonic(), status, ru)
    for cmd, p, t0 in procs:
        res.append(reap(cmd, p, t0, *done[p.pid]))
    return res


def wait_one(cmd, p, t0):
    _, status, ru = os.wait4(p.pid, 0)
    return reap(cmd, p, t0, time.monotonic(), status, ru)


def reap(cmd, p, t0, t1, status, ru):
    # os.wait4 gives each child's own rusage, so side-by-side runs are timed apart
    wall = t1 - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.log.seek(0)
    err = p.log.read()
    p.log.close()
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{err[-2000:]}")
    lines = [l for l in err.splitlines() if l.startswith("evaluated")]
    if lines:
        print("  last progress line:", lines[-1], flush=True)
    return wall, ru.ru_utime + ru.ru_stime


SIDE_BY_SIDE = False


def read_archive(out):
    with open(os.path.join(out, "archive.csv"), newline="") as f:
        return list(csv.DictReader(f))


def epochs_of(rows):
    """Training images x epochs spent: proxy (by each curve's end when pruned) + refinement."""
    proxy = refine = 0.0
    for r in rows:
        if r["cached"] == "1" or r.get("accuracy", "") == "" and r["error"] == "":
            continue  # a copy, or screened out before training
        curve = r.get("curve", "")
        if curve:
            proxy += float(curve.split(";")[-1].split(":")[0]) * PROXY_IMAGES
        elif r["error"] == "":
            proxy += PROXY_EPOCHS * PROXY_IMAGES
        if r.get("refined") in ("1", "-1"):
            refine += REFINE_EPOCHS * REFINE_IMAGES
    return proxy, refine


def front_points(rows):
    """The final front's (accuracy_q, energy_uj) - as front.csv lists it."""
    return [(float(r["accuracy_q"]), float(r["energy_uj"])) for r in rows]


def hv2(points, ref):
    """2-D hypervolume, accuracy maximised and energy minimised, against ref."""
    pts = sorted({(e, a) for a, e in points if a > ref[0] and e < ref[1]})
    hv, best = 0.0, ref[0]
    # by energy ascending, each point adds the strip above the best accuracy so far
    for e, a in pts:
        if a > best:
            hv += (a - best) * (ref[1] - e)
            best = a
    return hv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hwnas", default="build/tools/hwnas")
    ap.add_argument("--budget", type=int, default=48)
    ap.add_argument("--pruned-budget", type=int, default=144)
    ap.add_argument("--refine", type=int, default=6)
    ap.add_argument("--prune", default="hyperband")
    ap.add_argument("--prune-options", default="")
    ap.add_argument("--out", default="/tmp/hwnas-prune-bench")
    ap.add_argument("--skip-baseline", action="store_true", help="reuse OUT/none")
    ap.add_argument("--seed", type=int, default=None, help="search seed (default: the job's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--side-by-side", action="store_true",
                    help="run both searches at once (give --threads 1)")
    a = ap.parse_args()
    global SIDE_BY_SIDE
    SIDE_BY_SIDE = a.side_by_side
    os.makedirs(a.out, exist_ok=True)
    base, pruned = os.path.join(a.out, "none"), os.path.join(a.out, a.prune)
    timing = {}
    extra = ["--prune", a.prune] + (["--prune-options", a.prune_options] if a.prune_options else [])
    jobs = [] if a.skip_baseline else [("none", command(a, base, a.budget, []))]
    jobs.append((a.prune, command(a, pruned, a.pruned_budget, extra)))
    for (k, _), t in zip(jobs, run_all([c for _, c in jobs])):
        timing[k] = t
    rows = {"none": read_archive(base), a.prune: read_archive(pruned)}
    fronts = {}
    for k, d in (("none", base), (a.prune, pruned)):
        with open(os.path.join(d, "front.csv"), newline="") as f:
            fronts[k] = front_points(list(csv.DictReader(f)))
    # One reference for both: chance accuracy, and the largest front energy plus a tenth.
    emax = max(e for pts in fronts.values() for _, e in pts)
    ref = (10.0, emax * 1.1)
    print(f"\nreference point: accuracy_q {ref[0]:g} %, energy_uj {ref[1]:.4g}")
    print(f"{'job':>10} {'cands':>6} {'pruned':>6} {'proxy img-ep':>13} {'refine img-ep':>13}"
          f" {'wall s':>7} {'cpu s':>7} {'front':>5} {'hypervolume':>11}")
    res = {}
    for k in rows:
        proxy, refine = epochs_of(rows[k])
        n = len(rows[k])
        npr = sum(1 for r in rows[k] if r.get("pruned") == "1")
        wall, cpu = timing.get(k, (float("nan"), float("nan")))
        hv = hv2(fronts[k], ref)
        res[k] = (proxy + refine, wall, hv)
        print(f"{k:>10} {n:>6} {npr:>6} {proxy:>13.4g} {refine:>13.4g} {wall:>7.0f} {cpu:>7.0f}"
              f" {len(fronts[k]):>5} {hv:>11.5g}")
    (e0, w0, h0), (e1, w1, h1) = res["none"], res[a.prune]
    print(f"\ncriterion 1 (same hypervolume, <= 1/3 of the epochs): epochs ratio "
          f"{e1 / e0:.3f}, hypervolume {h1:.5g} vs {h0:.5g}: "
          f"{'met' if h1 >= h0 and e1 <= e0 / 3 else 'not met'}")
    print(f"criterion 2 (higher hypervolume in the same wall time): wall ratio "
          f"{w1 / w0 if w0 == w0 else float('nan'):.3f}, hypervolume {h1:.5g} vs {h0:.5g}: "
          f"{'met' if h1 > h0 and w1 <= w0 * 1.05 else 'not met'}")


if __name__ == "__main__":
    main()
