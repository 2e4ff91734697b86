"""The search from Python: runs with the cost estimator and a Python
estimator, the front and hypervolume checked against the archive,
callbacks that stop, resume to the archive of an uninterrupted run,
ask/tell from outside, failures and errors."""
import math
import os
import threading

import pytest

import hwnas
from hwnas import pareto
from hwnas.estimator import Estimator
from hwnas.search import Search

OBJ = "score:max,macs:min"
SPACE = "channels=4;cells=1"


def score(net, key, stream):
    """A made-up accuracy that grows with MACs, plus a per-net wiggle."""
    return [50.0 + 40.0 * (1.0 - math.exp(-net.macs / 5e6)) + (net.hash() % 100) / 50.0]


# Contexts given a Python estimator stay alive to the end of the tests: an
# Estimator.custom sits in a reference cycle (its trampoline), and the
# collector may otherwise finalise such a context before the estimator.
_KEEP = []


def make(ctx, strategy="strategy:nsga2", fn=score, **options):
    _KEEP.append(ctx)
    strategy_options = {"strategy:nsga2": "population=6",
                        "strategy:ea": "mode=regularized;population=8;sample=3"}.get(strategy)
    options.setdefault("objectives", OBJ)
    s = Search(ctx, "space:cell", strategy, space_options=SPACE,
               strategy_options=strategy_options, **options)
    s.add_estimator("estimator:cost")
    s.add_estimator(Estimator.custom(ctx, "score", "score:%", fn))
    return s


def archive(s):
    """The archive as comparable tuples (seconds left out)."""
    out = []
    for c in s.candidates():
        m = tuple(None if math.isnan(v) else v for v in c["metrics"].values())
        out.append((c["key"], tuple(c["genes"]), c["hash"], m, c["error"], c["cached"]))
    return out


def run_to_archive(strategy, seed, threads=2, **options):
    ctx = hwnas.Context(threads=threads, seed=seed)
    s = make(ctx, strategy, **options)
    s.run()
    return archive(s)


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=2, seed=3)


def test_run_front_hypervolume(ctx, tmp_path):
    s = make(ctx, "strategy:random", evaluations=40, batch=5,
             hv_reference="40,3000000")
    assert s.objectives == [("score", "max"), ("macs", "min")]
    assert s.options["evaluations"] == 40 and s.options["budget"] == 40  # the old name reads
    assert s.space.kind == "space:cell" and s.space.gene_count == 6
    assert s.strategy.kind == "strategy:random"
    s.run()
    assert s.count == len(s) == 40
    assert s.metrics == ["macs", "params", "weight_bytes", "activations", "peak_activations",
                         "memory_accesses", "score"]
    cands = s.candidates()
    assert [c["index"] for c in cands] == list(range(40))
    for c in cands:
        assert s.space.parse(c["key"]) == c["genes"]
        assert s.space.hash(c["genes"]) == c["hash"]
        assert c["error"] is None and c["seconds"] >= 0
        net = s.space.decode(c["genes"])
        assert c["metrics"]["macs"] == net.macs
        assert c["metrics"]["score"] == pytest.approx(score(net, None, 0)[0])
    assert s.candidate(-1) == cands[-1]
    assert s.metric(3, "params") == cands[3]["metrics"]["params"]
    with pytest.raises(hwnas.NotFound):
        s.metric(0, "nope")
    with pytest.raises(IndexError):
        s.candidate(40)

    # the front: non-dominated in (score max, macs min), and complete
    front = s.front()
    assert 1 <= len(front) <= 40
    pts = [(c["metrics"]["score"], c["metrics"]["macs"]) for c in cands]

    def dominates(a, b):
        return a[0] >= b[0] and a[1] <= b[1] and a != b

    for f in front:
        assert not any(dominates(p, pts[f]) for p in pts)
    front_hashes = {cands[f]["hash"] for f in front}
    for i, p in enumerate(pts):
        if cands[i]["hash"] not in front_hashes:
            assert any(dominates(pts[f], p) or pts[f] == p for f in front)
    macs = [pts[f][1] for f in front]
    assert macs == sorted(macs, reverse=True)  # sorted by the first objective, score:max
    assert [c["index"] for c in s.front_candidates()] == front

    # the hypervolume is that of the front, maximised objectives negated
    hv = s.hypervolume()
    want = pareto.hypervolume(ctx, [(-pts[f][0], pts[f][1]) for f in front], [-40, 3e6])
    assert hv == pytest.approx(want, rel=1e-12) and hv > 0

    np = pytest.importorskip("numpy")
    a = s.metrics_array()
    assert a.shape == (40, 7)
    assert (a[:, 6] == [c["metrics"]["score"] for c in cands]).all()
    assert (s.metrics_array(["macs"])[:, 0] == [c["metrics"]["macs"] for c in cands]).all()
    g = s.genes_array()
    assert g.shape == (40, 6) and g.dtype == np.uint32
    assert g.tolist() == [c["genes"] for c in cands]

    out = tmp_path / "results"
    s.write_results(out)
    for name in ("archive.csv", "archive.json", "front.csv", "front.json", "front.svg",
                 "front/000.net"):
        assert os.path.getsize(out / name) > 0
    with pytest.raises(hwnas.InvalidArgument):
        s.write_results()  # no out option, no directory

    # the plots are well-formed SVG (every name escaped), with a title
    import xml.etree.ElementTree as ET
    for name in ("front.svg", "hypervolume.svg"):
        root = ET.parse(out / name).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert any(t and t.startswith("results: space") for t in texts)

    # the HTML page: one row per front member, both plots, nothing fetched
    page = s.write_report(tmp_path / "r.html", out)
    html = open(page, encoding="utf-8").read()
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<tr class='member'>") == len(front)
    assert html.count("<svg ") == 2 and "Content-Security-Policy" in html
    assert "http://" not in html and "https://" not in html
    assert s.write_report(directory=out) == os.path.join(str(out), "report.html")
    assert os.path.getsize(out / "report.html") > 0
    with pytest.raises(hwnas.NotFound, match="archive.csv"):
        s.write_report(tmp_path / "x.html", tmp_path)
    assert not os.path.exists(tmp_path / "x.html")


def test_same_archive_at_any_thread_count():
    # the Python estimator runs on the search's worker threads
    want = run_to_archive("strategy:ea", 7, threads=1, evaluations=24, batch=4)
    got = run_to_archive("strategy:ea", 7, threads=4, evaluations=24, batch=4)
    assert got == want


def test_callbacks(ctx):
    s = make(ctx, "strategy:nsga2", evaluations=18, batch=6)
    seen, batches, fractions = [], [], []
    s.on_candidate(lambda i, c: seen.append((i, c["key"])))
    s.on_batch(batches.append)
    s.on_progress(fractions.append)
    s.run()
    assert [i for i, _ in seen] == list(range(18))
    assert [k for _, k in seen] == [c["key"] for c in s.candidates()]
    assert batches == [6, 12, 18]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    # removing a callback
    s.on_candidate(None)


def test_stop_and_resume_matches_uninterrupted(tmp_path):
    want = run_to_archive("strategy:nsga2", 11, evaluations=36, batch=6)
    out = tmp_path / "stopped"
    ctx = hwnas.Context(threads=2, seed=11)
    s = make(ctx, "strategy:nsga2", evaluations=36, batch=6, snapshot_every=5, out=str(out))
    s.on_candidate(lambda i, c: i + 1 == 15)  # True stops at the end of that batch
    with pytest.raises(hwnas.Stopped):
        s.run()
    assert s.count == 18
    s.close()

    r = Search.resume(ctx, out)
    assert r.objectives == [("score", "max"), ("macs", "min")]
    with pytest.raises(hwnas.StateError):
        r.run()  # the Python estimator is not saved: it must be added again
    r.add_estimator(Estimator.custom(ctx, "score", "score:%", score))
    r.run()
    assert archive(r) == want
    r.write_results()
    assert os.path.getsize(out / "front.json") > 0
    # one search per directory: a second one is refused while r holds it
    with pytest.raises(hwnas.StateError, match="in use by another search"):
        Search.resume(ctx, out)
    r.close()

    # resuming with a larger budget continues the same run
    more = Search.resume(ctx, out, evaluations=42)
    assert more.options["evaluations"] == 42
    more.add_estimator(Estimator.custom(ctx, "score", "score:%", score))
    more.run()
    assert more.count == 42 and archive(more)[:36] == want


def test_raising_callback_and_stop(ctx):
    s = make(ctx, "strategy:random", evaluations=20, batch=4)

    def boom(fraction):
        raise KeyError("no more")

    s.on_progress(boom)
    with pytest.raises(hwnas.Stopped) as e:
        s.run()
    assert isinstance(e.value.__cause__, KeyError)
    assert s.count == 4

    # stop() from another thread, here from within a batch callback
    s.on_progress(None)
    def stop_from_a_thread(evaluations):
        t = threading.Thread(target=s.stop)
        t.start()
        t.join()
        return None  # not a request to stop: stop() is

    s.on_batch(stop_from_a_thread)
    with pytest.raises(hwnas.Stopped) as e:
        s.run()
    assert e.value.__cause__ is None
    assert s.count == 8
    s.on_batch(None)
    s.run()
    assert s.count == 20


def test_failing_python_estimator(ctx):
    def flaky(net, key, stream):
        if net.hash() % 3 == 0:
            raise RuntimeError("no score for this one")
        return score(net, key, stream)

    s = make(ctx, "strategy:random", fn=flaky, evaluations=30, batch=5)
    s.run()
    cands = s.candidates()
    failed = [c for c in cands if c["error"] is not None]
    assert failed and len(failed) < 30
    for c in failed:
        assert "no score for this one" in c["error"]
        assert math.isnan(c["metrics"]["score"])
        assert c["index"] not in s.front()
    assert all(not math.isnan(c["metrics"]["score"]) for c in cands if c["error"] is None)


def test_ask_tell_from_python(ctx):
    s = Search(ctx, "space:cell", "strategy:ea", objectives=OBJ, evaluations=20, batch=4,
               space_options={"channels": 4, "cells": 1},
               strategy_options={"mode": "regularized", "population": 8, "sample": 3})
    # the estimators name the metrics; here the host evaluates, not them
    s.add_estimator("estimator:cost")

    _KEEP.append(ctx)

    def not_here(net, key, stream):
        raise AssertionError("the search must not estimate in ask/tell mode")

    assert s.add_estimator(Estimator.custom(ctx, "score", "score:%", not_here)) == ["score"]
    space = s.space
    told = 0
    while s.count < 20:
        genes, ids = s.ask(4)
        assert 0 < len(ids) <= 4
        for g, i in reversed(list(zip(genes, ids))):  # out of order
            net = space.decode(g)
            if told == 5:
                s.tell(i, error="the cluster lost it")
            else:
                s.tell(i, {"macs": net.macs, "score": score(net, None, 0)[0]})
            told += 1
    assert s.count == 20
    cands = s.candidates()
    assert sum(1 for c in cands if c["error"] == "the cluster lost it") == 1
    assert s.metrics[0] == "macs" and s.metrics[-1] == "score"
    assert all(c["metrics"]["params"] != c["metrics"]["params"] for c in cands)  # not told
    assert len(s.front()) > 0 and s.hypervolume() > 0
    with pytest.raises(hwnas.InvalidArgument):
        s.tell(999999, {"macs": 1, "score": 2})
    genes, ids = s.ask(1)
    with pytest.raises(hwnas.InvalidArgument) as e:
        s.tell(ids[0], {"macs": 1})  # score missing
    assert "score" in str(e.value)


def test_errors(ctx):
    with pytest.raises(hwnas.NotFound):
        Search(ctx, "space:nosuch", "strategy:random", objectives=OBJ)
    with pytest.raises(hwnas.NotFound):
        Search(ctx, "space:cell", "strategy:nosuch", objectives=OBJ)
    with pytest.raises(hwnas.InvalidArgument):
        Search(ctx, "space:cell", "strategy:random", objectives="")
    with pytest.raises(hwnas.InvalidArgument):
        Search(ctx, "space:cell", "strategy:random", nosuch=1)
    s = Search(ctx, "space:cell", "strategy:random", objectives=OBJ, evaluations=4,
               space_options=SPACE)
    with pytest.raises(hwnas.StateError):
        s.run()  # no estimator
    s.add_estimator("estimator:cost")
    with pytest.raises(hwnas.InvalidArgument):
        s.add_estimator("estimator:cost")  # its metrics are there already
    with pytest.raises(hwnas.StateError) as e:
        s.run()  # score: no estimator makes it
    assert "score" in str(e.value)
    est = Estimator.custom(ctx, "score", "score:%", score)
    s.add_estimator(est)
    _KEEP.append(ctx)
    s.run()
    with pytest.raises(hwnas.StateError):
        s.add_estimator(Estimator.custom(ctx, "late", "late:1", score))
    with pytest.raises(hwnas.NotFound):
        Search.resume(ctx, "/nonexistent/search")
    s.close()
    s.close()
    with pytest.raises(ValueError):
        s.run()


def test_front_empty_and_hypervolume_error(ctx):
    s = Search(ctx, "space:cell", "strategy:random", objectives="macs:min",
               constraints="macs<=1", evaluations=6, space_options=SPACE)
    s.add_estimator("estimator:cost")
    s.run()
    assert s.front() == []
    with pytest.raises(hwnas.StateError):
        s.hypervolume()


def cost_search(ctx):
    s = Search(ctx, "space:cell", "strategy:random", objectives="macs:min",
               evaluations=4, batch=2, space_options=SPACE)
    s.add_estimator("estimator:cost")
    return s


def test_no_reference_cycles_and_gc_order():
    import gc
    import weakref
    from hwnas.space import Space
    from hwnas.strategy import Strategy
    gc.collect()
    gc.disable()
    try:
        ctx = hwnas.Context(threads=1)
        s = cost_search(ctx)
        s.on_candidate(lambda i, c: False)
        s.on_batch(lambda n: False)
        space, strategy = s.space, s.strategy
        s.run()
        alive = weakref.ref(s)
        del s
        assert alive() is not None  # the views keep their search
        assert space.gene_count == 6 and strategy.pending == 0
        del space, strategy
        assert alive() is None  # freed by reference counting alone: no cycle
        st = Strategy(ctx, "random", Space(ctx, "space:cell"), 1)
        alive = weakref.ref(st)
        del st
        assert alive() is None
    finally:
        gc.enable()
    # A cycle made by the caller (a callback that refers to its search):
    # whatever order the collector finalises the search and its context
    # in, nothing is freed twice or after the context (checked under
    # AddressSanitizer).
    for _ in range(3):
        ctx = hwnas.Context(threads=1)
        s = cost_search(ctx)
        s.on_progress(lambda f, s=s: s.count < 0)
        s.run()
        del s, ctx
        gc.collect()


def test_closed_search_views():
    ctx = hwnas.Context(threads=1)
    s = cost_search(ctx)
    space, strategy = s.space, s.strategy
    s.close()
    assert space._ptr is None and space.gene_count == 6
    with pytest.raises(ValueError):
        strategy.ask(1)
    with pytest.raises(ValueError):
        s.space


def test_refine_from_python(tmp_path):
    """refine=K re-estimates the K best candidates after the budget; the
    front is chosen among them (here cost refines cost: same figures)."""
    ctx = hwnas.Context(threads=2, seed=4)
    s = make(ctx, evaluations=20, batch=5, refine=4, refine_estimator="cost",
             out=str(tmp_path / "refined"))
    s.run()
    flags = [s.refined(i) for i in range(s.count)]
    assert flags.count(1) == 4 and set(flags) <= {0, 1}
    assert all(s.refined(i) == 1 for i in s.front())
    for i in range(s.count):
        assert s.proxy_metric(i, "macs") == s.metric(i, "macs")
        assert s.candidate(i)["refined"] == flags[i]
    with pytest.raises(hwnas.Error):
        s.proxy_metric(0, "nope")
    with pytest.raises(IndexError):
        s.refined(s.count)
    # Reopened (read-only, as a report), the refinements come back from the
    # journal, which stays as it is.
    s_front = s.front()
    s.close()
    journal = (tmp_path / "refined" / "journal.tsv").read_bytes()
    again = Search.resume(ctx, str(tmp_path / "refined"), read_only=True)
    again.add_estimator(Estimator.custom(ctx, "score", "score:%", score))
    again.ask(0)
    assert [again.refined(i) for i in range(again.count)] == flags
    assert again.front() == s_front
    again.close()
    assert (tmp_path / "refined" / "journal.tsv").read_bytes() == journal


def test_damaged_journal_and_salvage(tmp_path):
    """Issue 24: damage is an error that changes nothing; salvage keeps the
    valid records and the original; a fresh search refuses the directory."""
    want = run_to_archive("strategy:nsga2", 11, evaluations=24, batch=6)
    out = tmp_path / "damaged"
    ctx = hwnas.Context(threads=2, seed=11)
    s = make(ctx, "strategy:nsga2", evaluations=24, batch=6, out=str(out))
    s.on_candidate(lambda i, c: i + 1 == 12)
    with pytest.raises(hwnas.Stopped):
        s.run()
    s.close()
    fresh = make(ctx, "strategy:nsga2", evaluations=24, batch=6, out=str(out))
    with pytest.raises(hwnas.StateError, match="already holds a search"):
        fresh.run()
    fresh.close()
    journal = out / "journal.tsv"
    lines = journal.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b"\t0\t", b"\t1\t", 1)  # a changed record
    damaged = b"\n".join(lines)
    journal.write_bytes(damaged)
    r = Search.resume(ctx, out)
    r.add_estimator(Estimator.custom(ctx, "score", "score:%", score))
    with pytest.raises(hwnas.FormatError, match=r"journal\.tsv:5: CRC mismatch"):
        r.run()
    r.close()
    assert journal.read_bytes() == damaged
    r = Search.resume(ctx, out, salvage=True)
    r.add_estimator(Estimator.custom(ctx, "score", "score:%", score))
    r.run()
    assert archive(r) == want
    r.close()
    assert (out / "journal.tsv.damaged.1").read_bytes() == damaged


def test_callbacks_cannot_crash_the_interpreter(tmp_path):
    """Issue 24, item 6: closing or re-entering from inside a callback
    raises; a closed context's Rng raises; sizes and strings are checked;
    KeyboardInterrupt in a callback stops the search resumably and goes on."""
    ctx = hwnas.Context(threads=1, seed=4)
    s = make(ctx, "strategy:random", evaluations=8, batch=2)
    seen = []

    def reenter(i, c):
        for what, call in (("run", s.run), ("close", s.close), ("ask", lambda: s.ask(1)),
                           ("context", ctx.close)):
            with pytest.raises(hwnas.StateError):
                call()
            seen.append(what)
        return False
    s.on_candidate(reenter)
    s.run()
    assert s.count == 8 and len(seen) == 4 * 8
    s.close()

    # an estimator closed from inside its own estimate, or while its search runs
    box = {}

    def closing(net, key, stream):
        with pytest.raises(hwnas.StateError):
            box["est"].close()
        return [1.0]
    est = box["est"] = Estimator.custom(ctx, "score", "score:%", closing)
    s = Search(ctx, "space:cell", "strategy:random", space_options=SPACE,
               objectives="score:max", evaluations=2, batch=1)
    s.add_estimator(est)
    s.on_candidate(lambda i, c: est.close())  # raises inside: the search stops
    with pytest.raises(hwnas.Stopped) as info:
        s.run()
    assert isinstance(info.value.__cause__, hwnas.StateError)
    s.close()
    est.close()

    # an Rng whose context was closed raises instead of using freed memory
    c2 = hwnas.Context(threads=1)
    rng = hwnas.Rng(c2, seed=1)
    c2.close()
    with pytest.raises(hwnas.StateError):
        rng.u64()

    # sizes and integers out of range, strings with NUL
    with pytest.raises(ValueError, match="out of range"):
        hwnas.Rng(ctx, seed=-5)
    r = hwnas.Rng(ctx, seed=1)
    with pytest.raises(ValueError, match="out of range"):
        r.below(-5)
    with pytest.raises(ValueError, match="NUL"):
        hwnas.Context(threads=1, log_level="warn\0")
    with pytest.raises(ValueError, match="NUL"):
        Search(ctx, "space:cell\0x", "strategy:random")
    s = make(ctx, "strategy:random", evaluations=8, batch=2)
    with pytest.raises(ValueError):
        s.ask(-5)
    with pytest.raises(ValueError):
        s.ask(2**64 + 3)  # would wrap to 3
    s.close()

    # KeyboardInterrupt in a callback: stopped cleanly, resumable, re-raised
    out = tmp_path / "interrupted"
    want = run_to_archive("strategy:random", 4, threads=1, evaluations=8, batch=2)
    s = make(ctx, "strategy:random", evaluations=8, batch=2, out=str(out))

    def interrupt(i, c):
        if i == 3:
            raise KeyboardInterrupt
    s.on_candidate(interrupt)
    with pytest.raises(KeyboardInterrupt):
        s.run()
    s.close()
    r = Search.resume(ctx, out)
    r.add_estimator(Estimator.custom(ctx, "score", "score:%", score))
    r.run()
    assert archive(r) == want
    r.close()


def test_interrupt_in_an_estimator_drops_its_batch(tmp_path):
    """Issue 24, item 6: KeyboardInterrupt raised in a Python estimator
    stops the search without recording a failed candidate: its batch is
    dropped and estimated again by the next run() or a resume, so the
    archive is the uninterrupted run's; the interrupt goes on."""
    want = run_to_archive("strategy:nsga2", 6, threads=1, evaluations=12, batch=4)
    for resume in (False, True):
        ctx = hwnas.Context(threads=1, seed=6)
        calls = [0]

        def flaky(net, key, stream):
            calls[0] += 1
            if calls[0] == 6:  # in the second batch
                raise KeyboardInterrupt
            return score(net, key, stream)
        out = tmp_path / ("resumed" if resume else "same")
        s = make(ctx, "strategy:nsga2", fn=flaky, evaluations=12, batch=4, out=str(out))
        with pytest.raises(KeyboardInterrupt):
            s.run()
        assert s.count == 4  # the first batch; nothing of the second is recorded
        assert all(c["error"] is None for c in s.candidates())
        if resume:
            s.close()
            s = Search.resume(ctx, out)
            s.add_estimator(Estimator.custom(ctx, "score", "score:%", flaky))
        s.run()
        assert archive(s) == want
        s.close()

    # a direct estimate re-raises the interrupt itself, and says so
    ctx = hwnas.Context(threads=1)
    _KEEP.append(ctx)

    def stop(net, key, stream):
        raise KeyboardInterrupt
    est = Estimator.custom(ctx, "score", "score:%", stop)
    net = hwnas.Net.parse(ctx, "hwnas-net 1\nx = input(shape=1x8x8)\nflatten\n"
                               "linear(out=2)\n")
    with pytest.raises(KeyboardInterrupt):
        est.estimate(net)
    assert hwnas.estimator.interrupted()


FMNIST = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def test_pruning_options_and_curves(tmp_path):
    """prune=asha through the options string: bad keys are errors naming
    them; a real (tiny) training run marks pruned candidates, gives each
    its learning curve, and keeps pruned ones off the front."""
    ctx = hwnas.Context(threads=2, seed=6)
    with pytest.raises(hwnas.Error, match="etta"):
        Search(ctx, "space:cell", "strategy:random", space_options=SPACE,
               objectives="accuracy:max,macs:min", prune="asha", prune_options="etta=2")
    if not os.path.exists(FMNIST):
        pytest.skip("Fashion-MNIST not installed")
    s = Search(ctx, "space:cell", "strategy:random",
               space_options=SPACE + ";input_channels=1;input_size=28",
               objectives="accuracy:max,macs:min", budget=8, batch=4, prune="asha",
               prune_options="resource=epochs;min_resource=0.5;eta=2")
    s.add_estimator("estimator:cost")
    s.add_estimator("estimator:accuracy",
                    "train_subset=200;val_subset=100;epochs=2;batch=25")
    s.run()
    pruned = [s.pruned(i) for i in range(s.count)]
    assert any(pruned) and not all(pruned)
    for i in range(s.count):
        c = s.candidate(i)
        assert c["pruned"] == pruned[i]
        epochs = [e for e, _ in c["curve"]]
        assert epochs == sorted(epochs) and epochs[0] == 0.5
        if pruned[i]:
            assert epochs[-1] < 2 and c["metrics"]["accuracy"] == c["curve"][-1][1]
        else:
            assert epochs[-1] == 2
    assert s.front() and not any(pruned[i] for i in s.front())
