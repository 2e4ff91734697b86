"""Strategies from Python: ask/tell loops of every kind on space:cell with
a Python objective, failures and violations, exact resume through
save/load, and errors."""
import pytest

import hwnas
from hwnas.space import Space
from hwnas.strategy import Strategy

KINDS = [("strategy:random", {}),
         ("strategy:ea", {"mode": "regularized", "population": 8, "sample": 3}),
         ("strategy:ea", {"mode": "one_plus_lambda", "lambda": 4}),
         ("strategy:nsga2", {"population": 8}),
         ("strategy:reinforce", {}),
         ("strategy:reinforce", {"controller": "lstm", "hidden": 8})]


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1, seed=5)


@pytest.fixture(scope="module")
def space(ctx):
    return Space(ctx, "space:cell", channels=4, cells=1)


def objectives(genes):
    """Two conflicting minimised objectives of a cell genotype: how far
    from all-conv-3x3 (op 3), and how many non-zero ops (a cost)."""
    g = [int(v) for v in genes]
    return [float(sum(abs(v - 3) for v in g)), float(sum(1 for v in g if v != 0))]


def drive(st, rounds, batch=8, record=None, fail=None):
    """ask/tell rounds; returns the told (ids, genes, objectives)."""
    told = []
    for _ in range(rounds):
        genes, ids = st.ask(batch)
        assert len(genes) == len(ids) and len(ids) <= batch
        assert st.pending >= len(ids)
        if not ids:
            continue
        objs = [objectives(g) for g in genes]
        failed = [bool(fail and fail(i)) for i in ids]
        st.tell(ids, objs, failed=failed)
        for i, g, o in zip(ids, genes, objs):
            told.append((i, [int(v) for v in g], o))
        if record is not None:
            record.append((list(ids), [[int(v) for v in g] for g in genes]))
    return told


@pytest.mark.parametrize("kind,opts", KINDS)
def test_ask_tell(ctx, space, kind, opts):
    st = Strategy(ctx, kind, space, 2, seed=3, **opts)
    assert st.kind == kind and st.n_objectives == 2 and st.gene_count == 6
    for key, value in opts.items():
        assert str(st.options[key]) == str(value)
    assert st.options["seed"] == 3
    told = drive(st, 10)
    assert len(told) >= 40
    ids = [t[0] for t in told]
    assert len(set(ids)) == len(ids)
    assert st.pending == 0
    cards = space.cardinalities
    for _, g, _ in told:
        assert all(0 <= v < c for v, c in zip(g, cards))
        space.check(g)
    assert "pending" in repr(st)


def test_random_deduplicates(ctx, space):
    st = Strategy(ctx, "random", space, 1, seed=1)
    genes, ids = st.ask(50)
    assert len(ids) == 50
    hashes = {space.hash(g) for g in genes}
    assert len(hashes) == 50


def test_weighted_ea_improves(ctx, space):
    # one objective: distance to the all-conv-3x3 genotype
    st = Strategy(ctx, "ea", space, 1, mode="regularized", population=10, sample=4, seed=2)
    best = []
    for _ in range(40):
        genes, ids = st.ask(5)
        objs = [[objectives(g)[0]] for g in genes]
        st.tell(ids, objs)
        best.append(min(o[0] for o in objs))
    assert min(best[-10:]) <= min(best[:2])
    assert min(best) <= 2


def test_nsga2_violations_and_numpy(ctx, space):
    np = pytest.importorskip("numpy")
    st = Strategy(ctx, "nsga2", space, 2, population=6, seed=4)
    genes, ids = st.ask(6)
    assert isinstance(genes, np.ndarray) and genes.shape == (6, 6) and genes.dtype == np.uint32
    objs = np.array([objectives(g) for g in genes])
    st.tell(ids, objs, violations=[0, 0, 1.5, 0, 0, 2])
    assert st.pending == 0
    genes, ids = st.ask(6)
    assert len(ids) == 6


def test_failed_candidates(ctx, space):
    st = Strategy(ctx, "nsga2", space, 2, population=4, seed=4)
    genes, ids = st.ask(4)
    nan = float("nan")
    # a failed candidate's objectives are ignored, even when not finite
    st.tell(ids, [[nan, nan]] + [objectives(g) for g in genes[1:]],
            failed=[True, False, False, False])
    assert st.pending == 0
    genes, ids = st.ask(4)
    with pytest.raises(hwnas.InvalidArgument) as e:
        st.tell(ids[:1], [[nan, 1.0]])
    assert str(ids[0]) in str(e.value)
    assert st.pending == 4  # nothing told on error


@pytest.mark.parametrize("kind,opts", KINDS)
def test_save_load_resumes_exactly(ctx, space, kind, opts):
    fail = (lambda i: i % 7 == 3)
    a = Strategy(ctx, kind, space, 2, seed=9, **opts)
    drive(a, 4, fail=fail)
    genes, ids = a.ask(3)  # pending candidates travel in the state too
    state = a.save()
    assert isinstance(state, bytes) and len(state) > 0
    a.tell(ids, [objectives(g) for g in genes])
    want = []
    drive(a, 6, record=want, fail=fail)

    b = Strategy(ctx, kind, space, 2, seed=9, **opts)
    b.load(state)
    assert b.pending == len(ids)
    b.tell(ids, [objectives(g) for g in genes])
    got = []
    drive(b, 6, record=got, fail=fail)
    assert got == want
    assert a.save() == b.save()


def test_errors(ctx, space):
    with pytest.raises(hwnas.NotFound):
        Strategy(ctx, "strategy:nosuch", space, 1)
    with pytest.raises(hwnas.InvalidArgument):
        Strategy(ctx, "random", space, 0)
    with pytest.raises(hwnas.InvalidArgument) as e:
        Strategy(ctx, "nsga2", space, 2, population=1)
    assert "population" in str(e.value)
    st = Strategy(ctx, "random", space, 2, seed=1)
    genes, ids = st.ask(2)
    with pytest.raises(hwnas.InvalidArgument) as e:
        st.tell([123456], [[1, 2]])
    assert "123456" in str(e.value)
    with pytest.raises(ValueError):
        st.tell(ids, [[1, 2]])  # one row for two ids
    with pytest.raises(ValueError):
        st.tell(ids, [[1], [2]])  # one objective of two
    st.tell(ids, [[1, 2], [3, 4]])
    with pytest.raises(hwnas.InvalidArgument):
        st.tell(ids[:1], [[1, 2]])  # already told
    state = st.save()
    with pytest.raises(hwnas.FormatError):
        st.load(state[:len(state) // 2])
    with pytest.raises(hwnas.FormatError):
        st.load(b"not a state at all")
    other = Strategy(ctx, "nsga2", space, 2, seed=1)
    with pytest.raises(hwnas.FormatError):
        other.load(state)
    st.close()
    st.close()
    with pytest.raises(ValueError):
        st.ask(1)
