"""Differentiable architecture search (dsearch.h): DARTS and GDAS over the
NAS-Bench-201 cell space with a hardware cost in the loss.

    front = hwnas.dsearch.run(ctx, train_set, "out/", eval=test_set,
                              method="gdas", cost="macs", lam=[0, 0.5, 2],
                              epochs=10, channels=8, cells=1)
    for row in front:            # dicts from out/front.csv
        print(row["lambda"], row["arch"], row["accuracy"], row["macs"])

Each lambda's run writes out/lambda-<i>/ (alpha.csv, epochs.csv,
derived.net, checkpoint.dsn, alpha.svg), out/front.svg beside front.csv;
calling run() again with the same arguments
resumes a killed search. Options: `hwnas describe dsearch`.
"""
import csv
import os

from . import _native
from ._native import lib, encode, c_int, c_char_p, c_void_p
from .core import _options_text
from .model import PROGRESS_CB, _progress_cb, _raise_stopped

_d = _native._declare
_d("hwnas_dsearch_run", c_int, c_void_p, c_void_p, c_void_p, c_char_p, c_char_p, PROGRESS_CB,
   c_void_p)
_d("hwnas_dsearch_check_options", c_int, c_void_p, c_char_p)
_d("hwnas_dsearch_write_plots", c_int, c_void_p, c_char_p)
from .errors import check  # noqa: E402


def check_options(ctx, options=None, lam=None, **kwargs):
    """Raise (hwnas.InvalidArgument naming the key) unless the options of
    kind "dsearch" are valid; runs nothing."""
    _put_lambda(kwargs, lam)
    check(lib.hwnas_dsearch_check_options(ctx._ptr, encode(_options_text(options, kwargs) or None)))


def _put_lambda(kwargs, lam):
    """lam (a number, a list of numbers, or the option's text) as the
    lambda option."""
    if lam is None:
        return
    if isinstance(lam, str):
        kwargs["lambda"] = lam
    else:
        vals = lam if isinstance(lam, (list, tuple)) else [lam]
        kwargs["lambda"] = ",".join(repr(float(v)) for v in vals)


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run(ctx, train, out_dir, eval=None, options=None, progress=None, lam=None, **kwargs):
    """Run the search (options of kind "dsearch" as a string and/or
    keywords; lam: a number or a list of lambda values) on train (normalised
    by the caller), rating the derived nets on eval (None: half of train).
    Returns the rows of out_dir/front.csv as dicts (lambda, arch, accuracy,
    retrain_accuracy, macs, params, cost in the cost source's unit,
    pareto, net). progress: as
    Model.train's (a True return stops the search after a checkpoint)."""
    _put_lambda(kwargs, lam)
    cb, failure = _progress_cb(progress)
    rc = lib.hwnas_dsearch_run(ctx._ptr, train._ptr, eval._ptr if eval is not None else None,
                               encode(_options_text(options, kwargs) or None),
                               encode(str(out_dir)), cb, None)
    _raise_stopped(rc, failure[0])
    write_plots(ctx, out_dir)
    rows = _csv(os.path.join(str(out_dir), "front.csv"))
    for r in rows:
        r["lambda"] = float(r["lambda"])
        r["accuracy"] = float(r["accuracy"])
        r["retrain_accuracy"] = float(r["retrain_accuracy"]) if r["retrain_accuracy"] else None
        r["macs"], r["params"], r["pareto"] = int(r["macs"]), int(r["params"]), r["pareto"] == "1"
        r["cost"] = float(r["cost"])
    return rows


def write_plots(ctx, out_dir):
    """Draw out_dir/front.svg (accuracy over cost of each lambda's derived
    net) and out_dir/lambda-<i>/alpha.svg (operation probabilities per edge
    over the epochs) from what run() wrote; run() calls it itself."""
    check(lib.hwnas_dsearch_write_plots(ctx._ptr, encode(str(out_dir))))


def trajectory(run_dir):
    """The rows of a run's alpha.csv (epoch, edge, op, alpha, prob)."""
    rows = _csv(os.path.join(str(run_dir), "alpha.csv"))
    for r in rows:
        r["epoch"], r["edge"] = int(r["epoch"]), int(r["edge"])
        r["alpha"], r["prob"] = float(r["alpha"]), float(r["prob"])
    return rows
