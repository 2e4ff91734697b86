"""Predictors from Python: fit/predict of every kind, rank correlations,
space encodings, estimator:predictor fed by observe, a guided search, and
the errors (no data yet, NaN targets, unknown encodings)."""
import math

import pytest

import hwnas
from hwnas.predict import Predictor, kendall, spearman
from hwnas.space import Space
from hwnas.search import Search
from hwnas.estimator import Estimator


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1, seed=3)


@pytest.fixture(scope="module")
def space(ctx):
    return Space(ctx, "space:cell")


def score(genes):
    """A synthetic accuracy of a cell genotype: a weight per op and edge."""
    w = [0, 1, 3, 5, 1.5]
    return 50 + sum(w[int(g)] * (1 + 0.1 * e) for e, g in enumerate(genes))


def data(ctx, space, n, seed, encoding=None):
    rng = hwnas.Rng(ctx, seed=seed)
    gs = [space.sample(rng) for _ in range(n)]
    return [space.encode(g, encoding) for g in gs], [score(g) for g in gs]


@pytest.mark.parametrize("kind", ["mlp", "gbrt", "gp"])
def test_fit_predict(ctx, space, kind):
    x, y = data(ctx, space, 200, 1, "onehot")
    xt, yt = data(ctx, space, 100, 2, "onehot")
    p = Predictor(ctx, kind, seed=4)
    assert p.kind == "predictor:" + kind
    assert p.dim == 0
    p.fit(x, y)
    assert p.dim == 30
    mean, std = p.predict(xt)
    assert len(mean) == len(std) == 100
    assert all(s >= 0 for s in std)
    assert kendall(mean, yt) > 0.6
    assert spearman(mean, yt) > 0.8
    # deterministic with the same seed
    q = Predictor(ctx, kind, "seed=4")
    q.fit(x, y)
    assert q.predict(xt) == (mean, std)
    assert "seed" in [o.name for o in p.options]


def test_errors(ctx, space):
    p = Predictor(ctx, "gp")
    x, y = data(ctx, space, 10, 5)
    with pytest.raises(hwnas.StateError, match="no data yet"):
        p.predict(x)
    y[4] = float("nan")
    with pytest.raises(hwnas.InvalidArgument, match="target of row 4"):
        p.fit(x, y)
    with pytest.raises(ValueError):
        p.fit(x, y[:3])
    with pytest.raises(hwnas.NotFound):
        Predictor(ctx, "svm")
    with pytest.raises(hwnas.InvalidArgument, match="kernel"):
        Predictor(ctx, "gp", kernel="cubic")
    with pytest.raises(hwnas.InvalidArgument, match="value 1 of a"):
        kendall([1, float("nan"), 3], [1, 2, 3])


def test_rank():
    assert kendall([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    assert spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)


def test_encode(ctx, space):
    g = [3] * 6
    v = space.encode(g)
    assert len(v) == space.encoding_size() == 84
    assert sum(v) == 3
    assert len(space.encode(g, "onehot")) == 30
    with pytest.raises(hwnas.NotFound, match="onehot, path"):
        space.encode(g, "adjacency")
    with pytest.raises(hwnas.InvalidArgument):
        space.encode([9] * 6)
    cgp = Space(ctx, "space:cgp", rows=1, cols=4, levels_back=4)
    assert cgp.encoding_size("active") == cgp.encoding_size("onehot")


def test_estimator_predictor(ctx, space):
    est = Estimator(ctx, "estimator:predictor", metric="accuracy", min_data=5, early="error",
                    predictor="gbrt")
    assert est.metrics == ["predicted_accuracy", "predicted_accuracy_std"]
    rng = hwnas.Rng(ctx, seed=9)
    net = space.decode(space.sample(rng))
    key = space.format(space.sample(rng))
    with pytest.raises(hwnas.StateError, match="min_data=5"):
        est.estimate(net, key)
    for _ in range(50):
        g = space.sample(rng)
        est.observe(space.format(g), {"accuracy": score(g), "macs": 1.0})
    with pytest.raises(hwnas.FormatError, match="bogus"):
        est.observe("|bogus~0|", {"accuracy": 1.0})
    got = est.estimate(net, key)
    assert math.isfinite(got["predicted_accuracy"])
    assert abs(got["predicted_accuracy"] - score(space.parse(key))) < 5


def test_guided_search(ctx, space):
    def run(guide):
        s = Search(ctx, "space:cell", "strategy:ea", objectives="accuracy:max", budget=40,
                   batch=5, seed=2, guide=guide, guide_min=10, guide_pool=50,
                   strategy_options="mode=regularized;population=10;sample=3")
        est = Estimator.custom(ctx, "score", "accuracy:%",
                               lambda net, key, stream: [score(space.parse(key))])
        s.add_estimator(est)
        s.run()
        return [c["key"] for c in s.candidates()]

    a, b = run("gp"), run("gp")
    assert len(a) == 40 and a == b
    assert run("none") != a
