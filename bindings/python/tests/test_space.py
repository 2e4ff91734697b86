"""Search spaces from Python, on space:cell (NAS-Bench-201)."""
import pytest

import hwnas
from hwnas.net import Net
from hwnas.space import Space

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
# Row 1 of NATS-Bench's topology table (93.66 % on CIFAR-10)
KNOWN = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|" \
        "skip_connect~2|"
KNOWN_GENES = [3, 3, 4, 1, 3, 1]


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1)


@pytest.fixture(scope="module")
def space(ctx):
    return Space(ctx, "space:cell")


def test_description(space):
    assert space.kind == "space:cell"
    assert space.gene_count == len(space) == 6
    assert space.cardinalities == [5] * 6
    assert space.gene_names == ["edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1",
                                "edge_3_2"]
    assert space.ordinal == [False] * 6
    assert space.size_log10 == pytest.approx(6 * 0.69897, abs=1e-4)  # 15625 genotypes
    opts = space.options.to_dict()
    assert opts["channels"] == 16 and opts["cells"] == 5 and opts["classes"] == 10
    assert not space.has_operator("mutate") and not space.has_operator("crossover")


def test_options_and_errors(ctx):
    s = Space(ctx, "space:cell", channels=8, classes=100)
    assert s.options["channels"] == 8
    assert s.decode([3] * 6)[-1].shape == (1, 100)
    s2 = Space(ctx, "cell", "cells=1")
    assert s2.options["cells"] == 1
    with pytest.raises(hwnas.NotFound):
        Space(ctx, "space:nosuch")
    with pytest.raises(hwnas.NotFound):
        Space(ctx, "estimator:cost")  # a kind, but not a space
    with pytest.raises(hwnas.InvalidArgument) as e:
        Space(ctx, "space:cell", channels=0)
    assert "channels" in str(e.value)


def test_format_parse_known_cell(space):
    assert space.format(KNOWN_GENES) == KNOWN
    assert space.parse(KNOWN) == KNOWN_GENES
    with pytest.raises(hwnas.FormatError) as e:
        space.parse("|nor_conv_3x3~0|+|conv~0|")
    assert "position" in str(e.value)
    with pytest.raises(ValueError):
        space.format([1, 2, 3])


def test_decode_macs(ctx, space):
    # NAS-Bench-201: the all-3x3 cell has 220.11 M FLOPs (MACs), 1.53 M params
    net = space.decode([3] * 6)
    assert isinstance(net, Net)
    assert net.macs == pytest.approx(220.11e6, rel=0.01)
    assert net.params == pytest.approx(1.53e6, rel=0.01)
    assert net.output.shape == (1, 10)
    # decoding into an existing net reuses it
    again = space.decode([1] * 6, net)
    assert again is net and net.macs < 220e6
    assert space.decode([1] * 6) == net


def test_hash_isomorphism(space):
    # node 2 is cut off when edge 3<-2 is none: its own in-edges do not matter
    a = [3, 1, 3, 3, 3, 0]
    b = [3, 4, 2, 3, 3, 0]
    assert space.format(a) != space.format(b)
    assert space.hash(a) == space.hash(b)
    # (the decoded nets still differ: like NAS-Bench-201, the decoder builds
    # the dead branch; only the phenotype hash identifies the class)
    c = [3, 1, 3, 3, 3, 1]  # node 2 now feeds the output
    assert space.hash(c) != space.hash(a)
    # distinct classes over a sample are at most the genotypes
    seen = {space.hash([i % 5, i // 5 % 5, 0, 1, 2, 3]) for i in range(25)}
    assert 1 < len(seen) <= 25


def test_sample_mutate_crossover(ctx, space):
    rng = hwnas.Rng(ctx, seed=42)
    counts = [[0] * 5 for _ in range(6)]
    for _ in range(1000):
        g = space.sample(rng)
        space.check(g)
        for i, v in enumerate(g):
            counts[i][v] += 1
    assert all(150 < c < 250 for row in counts for c in row)  # uniform: 200 +- ~4 sd
    r1, r2 = hwnas.Rng(ctx, seed=3), hwnas.Rng(ctx, seed=3)
    assert space.sample(r1) == space.sample(r2)
    parent = KNOWN_GENES
    changed = 0
    for _ in range(200):
        child = space.mutate(rng, parent)
        space.check(child)
        changed += sum(x != y for x, y in zip(parent, child))
    assert 100 < changed < 400  # one gene on average
    full = space.mutate(rng, parent, rate=1.0)
    assert all(x != y for x, y in zip(parent, full))
    a, b = [0] * 6, [4] * 6
    c, d = space.crossover(rng, a, b)
    assert all({x, y} == {0, 4} for x, y in zip(c, d))  # d is c's complement
    with pytest.raises(hwnas.InvalidArgument) as e:
        space.check([0, 0, 5, 0, 0, 0])
    assert "edge_2_1" in str(e.value)
    with pytest.raises(hwnas.InvalidArgument):
        space.decode([0, 0, 0, 0, 0, 9])


def test_numpy_genes(space):
    np = pytest.importorskip("numpy")
    g = np.array(KNOWN_GENES, dtype=np.int64)
    assert space.format(g) == KNOWN
    assert space.hash(g) == space.hash(KNOWN_GENES)
