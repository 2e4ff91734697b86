#!/usr/bin/env python3
"""Hypervolume against training spent, read from search journals.

  bench/prune/journal_hv.py BASELINE_DIR PRUNED_DIR [--images 4000] [--epochs 2]

For each search directory (journal.tsv of `hwnas search`, with or without
--prune), walks the evaluations in order and prints, after each batch of
16, the training spent so far (images x epochs: a full proxy training is
images x epochs, a pruned one stops at its curve's last epoch, cached and
screened candidates train nothing) and the hypervolume of the proxy front
(accuracy_q max, energy_uj min; failed, screened and pruned candidates
are never members) against one reference point for both runs. Then:
the training the pruned run needed to reach the baseline's final
hypervolume, as a fraction of the baseline's. Proxy figures only: the
refinement stage (the same for both jobs) is not part of it.
"""
import argparse
import math
import os


def read_journal(d):
    rows = []
    with open(os.path.join(d, "journal.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        names = head[2].split(",")
        for line in f:
            if not line.endswith("\n") or line.startswith("R\t"):
                continue
            f_ = line.rstrip("\n").split("\t")
            body = f_[:-1]  # the CRC last
            m = dict(zip(names, (float(x) for x in body[5].split(","))))
            pruned = len(body) >= 13 and body[11] == "1"
            curve = body[12] if len(body) >= 13 else ""
            rows.append({"metrics": m, "failed": body[6] == "1", "cached": body[9] == "1",
                         "pruned": pruned, "curve": curve})
    return rows


def spent(r, images, epochs):
    if r["cached"] or math.isnan(r["metrics"].get("accuracy", math.nan)) and not r["failed"]:
        return 0.0
    if r["curve"]:
        return float(r["curve"].split(",")[-1].split(":")[0]) * images
    return epochs * images


def hv2(points, ref):
    pts = sorted({(e, a) for a, e in points if a > ref[0] and e < ref[1]})
    hv, best = 0.0, ref[0]
    for e, a in pts:
        if a > best:
            hv += (a - best) * (ref[1] - e)
            best = a
    return hv


def usable(r):
    a, e = r["metrics"].get("accuracy_q", math.nan), r["metrics"].get("energy_uj", math.nan)
    return not r["failed"] and not r["pruned"] and not math.isnan(a) and not math.isnan(e) \
        and r["metrics"].get("params", 0) <= 100000


def trajectory(rows, ref, images, epochs, step):
    out, used, pts = [], 0.0, []
    for i, r in enumerate(rows):
        used += spent(r, images, epochs)
        if usable(r):
            pts.append((r["metrics"]["accuracy_q"], r["metrics"]["energy_uj"]))
        if (i + 1) % step == 0 or i + 1 == len(rows):
            out.append((i + 1, used, hv2(pts, ref)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("baseline")
    ap.add_argument("pruned")
    ap.add_argument("--images", type=int, default=4000)
    ap.add_argument("--epochs", type=float, default=2)
    ap.add_argument("--step", type=int, default=16)
    a = ap.parse_args()
    runs = {"baseline": read_journal(a.baseline), "pruned": read_journal(a.pruned)}
    emax = max(r["metrics"]["energy_uj"] for rows in runs.values() for r in rows if usable(r))
    ref = (10.0, emax * 1.1)
    print(f"reference point: accuracy_q {ref[0]:g} %, energy_uj {ref[1]:.4g} "
          "(largest feasible energy of both runs + 10%)")
    traj = {}
    for k, rows in runs.items():
        traj[k] = trajectory(rows, ref, a.images, a.epochs, a.step)
        npr = sum(r["pruned"] for r in rows)
        print(f"\n{k}: {len(rows)} candidates, {npr} pruned")
        print(f"{'evals':>6} {'images x epochs':>16} {'hypervolume':>12}")
        for n, used, hv in traj[k]:
            print(f"{n:>6} {used:>16.0f} {hv:>12.5g}")
    _, base_used, base_hv = traj["baseline"][-1]
    reach = next(((n, used) for n, used, hv in traj["pruned"] if hv >= base_hv), None)
    _, pr_used, pr_hv = traj["pruned"][-1]
    print(f"\nbaseline final: hypervolume {base_hv:.5g} after {base_used:.0f} images x epochs")
    print(f"pruned final:   hypervolume {pr_hv:.5g} after {pr_used:.0f} images x epochs "
          f"({pr_used / base_used:.2f} of the baseline's training)")
    if reach:
        print(f"pruned run reached the baseline's final hypervolume after {reach[0]} "
              f"evaluations and {reach[1]:.0f} images x epochs: {reach[1] / base_used:.2f} "
              f"of the baseline's training (criterion: <= 0.33)")
    else:
        print("pruned run did not reach the baseline's final hypervolume")


if __name__ == "__main__":
    main()
