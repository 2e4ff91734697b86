"""The Pareto toolkit from Python, against hand-computed values and a
brute-force reference written here."""
import math
import random

import pytest

import hwnas
from hwnas import pareto


def brute_ranks(points):
    ranks = [None] * len(points)
    left = set(range(len(points)))
    front = 0
    while left:
        now = [i for i in left
               if not any(pareto.dominance(points[j], points[i]) == 1 for j in left)]
        for i in now:
            ranks[i] = front
        left -= set(now)
        front += 1
    return ranks


def test_dominance():
    assert pareto.dominance([1, 2], [2, 3]) == 1
    assert pareto.dominance([2, 3], [1, 2]) == -1
    assert pareto.dominance([1, 3], [2, 2]) == 0
    assert pareto.dominance([1, 1], [1, 1]) == 0


def test_rank_matches_brute_force():
    ctx = hwnas.Context(threads=1)
    rnd = random.Random(5)
    for m in (2, 3, 4):
        pts = [[rnd.randint(0, 6) for _ in range(m)] for _ in range(120)]
        r, fronts = pareto.rank(ctx, pts)
        want = brute_ranks(pts)
        assert list(r) == want
        assert fronts == max(want) + 1


def test_rank_constrained_and_errors():
    ctx = hwnas.Context()
    pts = [[0, 0], [1, 1], [2, 2]]
    r, _ = pareto.rank(ctx, pts, violations=[5.0, 0.0, 0.0])
    assert list(r) == [2, 0, 1]  # the infeasible point is last despite dominating
    with pytest.raises(hwnas.InvalidArgument, match="NaN|nan"):
        pareto.rank(ctx, [[0.0, float("nan")]])


def test_crowding_and_hypervolume():
    ctx = hwnas.Context()
    front = [[0, 4], [1, 2], [2, 1], [4, 0]]
    d = pareto.crowding(ctx, front)
    assert math.isinf(d[0]) and math.isinf(d[3])
    assert d[1] == pytest.approx(2 / 4 + 3 / 4)
    # the union of the boxes [x, 5] x [y, 5]
    assert pareto.hypervolume(ctx, front, [5, 5]) == pytest.approx(1 * 1 + 1 * 3 + 2 * 4 + 1 * 5)
    assert pareto.hypervolume(ctx, [[1, 1, 1]], [2, 3, 4]) == pytest.approx(1 * 2 * 3)


def test_indicators():
    ctx = hwnas.Context()
    ref = [[0, 1], [1, 0]]
    assert pareto.igd(ctx, ref, ref) == 0.0
    assert pareto.igd(ctx, [[1, 1]], ref) == pytest.approx(1.0)
    assert pareto.epsilon_additive(ctx, [[0.5, 1.5], [1.5, 0.5]], ref) == pytest.approx(0.5)
    assert pareto.igd_plus(ctx, [[1, 1]], ref) == pytest.approx(1.0)


def test_numpy_arrays():
    np = pytest.importorskip("numpy")
    ctx = hwnas.Context()
    pts = np.random.default_rng(1).random((500, 3))
    r, fronts = pareto.rank(ctx, pts)
    assert isinstance(r, np.ndarray) and r.shape == (500,)
    assert list(r) == list(pareto.rank(ctx, pts.tolist())[0])
    hv = pareto.hypervolume(ctx, pts[r == 0], [1, 1, 1])
    assert 0 < hv < 1
