#!/usr/bin/env python3
# %% [markdown]
# # A hardware-aware search with a latency model written in Python
#
# libhwnas searches a space of networks with a strategy, asking estimators
# for the metrics its objectives name. Here the latency estimator is a
# plain Python function: a roofline model of a made-up accelerator. The
# accuracy comes from the NAS-Bench-201 table when it is at hand (--table,
# or $HWNAS_SHARED_DIR/data/benchmarks), and otherwise from a crude,
# clearly fake proxy so that the script still runs anywhere.
#
# Run it as a script (`python3 search_with_python_estimator.py --help`), or
# cell by cell in an editor that understands `# %%` markers.

# %%
import argparse
import math
import os
import sys
import tempfile

try:
    import hwnas
except ImportError:  # running from a source checkout
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "bindings", "python"))
    import hwnas

from hwnas.estimator import Estimator
from hwnas.search import Search

NB201_ACCURACY = "nb201_nats_tss_test_acc_200ep.csv"


def arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__ or "libhwnas search from Python")
    p.add_argument("--evaluations", type=int, default=60, help="search budget")
    p.add_argument("--strategy", default="strategy:nsga2",
                   help="strategy:random, strategy:ea, strategy:nsga2 or strategy:reinforce")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--table", default=None,
                   help="NAS-Bench-201 accuracy CSV (%s)" % NB201_ACCURACY)
    p.add_argument("--out", default=None, help="output directory (default: a temporary one)")
    return p.parse_args(argv)


# %% [markdown]
# ## The latency model
#
# Each node of the network takes the longer of its compute time (MACs at the
# accelerator's peak rate) and its memory time (weights plus output
# activations over the memory bandwidth); a fixed overhead is paid per
# layer. The estimator gets a read-only `hwnas.Net` and returns one value
# per metric it declared.

# %%
PEAK_GMACS = 64.0      # multiply-accumulates per nanosecond
BANDWIDTH_GBS = 12.8   # bytes per nanosecond
LAYER_OVERHEAD_US = 2.0


def roofline_latency(net, key, stream):
    """Latency (ms) and the share of layers bound by memory."""
    seconds, memory_bound, layers = 0.0, 0, 0
    for node in net:
        if node.kind_name == "input":
            continue
        compute = node.macs / (PEAK_GMACS * 1e9)
        memory = (node.weight_bytes + 4 * node.activations) / (BANDWIDTH_GBS * 1e9)
        seconds += max(compute, memory) + LAYER_OVERHEAD_US * 1e-6
        memory_bound += memory > compute
        layers += 1
    return {"latency_ms": seconds * 1e3, "memory_bound": memory_bound / max(layers, 1)}


# %% [markdown]
# ## Accuracy: the NAS-Bench-201 table, or a stand-in
#
# `estimator:table` looks each candidate's NAS-Bench-201 string up in the
# CSV. Without the table, the stand-in below scores a cell by how many of
# its edges are 3x3 convolutions: it is only there so that the example runs,
# not a predictor of anything.

# %%
def find_table(path):
    if path:
        return path
    shared = os.environ.get("HWNAS_SHARED_DIR")
    if shared:
        candidate = os.path.join(shared, "data", "benchmarks", NB201_ACCURACY)
        if os.path.exists(candidate):
            return candidate
    return None


def stand_in_accuracy(net, key, stream):
    convs = key.count("nor_conv_3x3") if key else 0
    nones = key.count("none") if key else 0
    return [60.0 + 5.0 * convs - 4.0 * nones + 0.5 * math.log1p(net.params)]


def accuracy_estimator(ctx, table):
    if table:
        return Estimator(ctx, "estimator:table", file=table, key="ArchitectureString",
                         metrics="CIFAR10TestAccuracy200Epochs:accuracy:%")
    return Estimator.custom(ctx, "stand_in_accuracy", "accuracy:%", stand_in_accuracy)


# %% [markdown]
# ## The search
#
# Two objectives, accuracy up and latency down, over the NAS-Bench-201 cell
# space. Every evaluation goes to a journal in the output directory, so a
# stopped search can be continued with `Search.resume(ctx, out)` (add the
# Python estimators again before `run()`).

# %%
def main(argv=None):
    args = arguments(argv)
    out = args.out or tempfile.mkdtemp(prefix="hwnas-search-")
    table = find_table(args.table)
    ctx = hwnas.Context(threads=args.threads, seed=args.seed)

    search = Search(ctx, "space:cell", args.strategy,
                    objectives="accuracy:max,latency_ms:min",
                    budget=args.evaluations, batch=10, out=out,
                    strategy_options={"population": 20} if args.strategy.endswith("nsga2")
                    else None)
    search.add_estimator("estimator:cost")
    search.add_estimator(accuracy_estimator(ctx, table))
    search.add_estimator(Estimator.custom(ctx, "roofline", "latency_ms:ms,memory_bound:1",
                                          roofline_latency))

    def progress(fraction):
        print("  %3.0f%% of the budget, %d candidates" % (100 * fraction, search.count))

    search.on_progress(progress)
    print("searching %s with %s, accuracy from %s"
          % (search.space, args.strategy, table or "the stand-in proxy"))
    search.run()

    # %% [markdown]
    # ## The Pareto front

    # %%
    front = search.front_candidates()
    print("\n%d candidates, %d on the front, hypervolume %.4g"
          % (search.count, len(front), search.hypervolume()))
    print("%8s %10s %8s  %s" % ("accuracy", "latency_ms", "MMACs", "cell"))
    for c in front:
        m = c["metrics"]
        print("%8.2f %10.4f %8.2f  %s" % (m["accuracy"], m["latency_ms"], m["macs"] / 1e6,
                                          c["key"]))
    search.write_results()
    print("\nresults in %s (archive.csv, front.csv, front.svg, front/*.net)" % out)
    return search, front


if __name__ == "__main__":
    main()
