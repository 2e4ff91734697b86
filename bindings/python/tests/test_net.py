"""The network IR from Python: the zoo's published figures, the text spec
round trip, parse errors, the builder and node queries."""
import glob
import os

import pytest

import hwnas
from hwnas import net as hnet
from hwnas.net import Net


def nets_dir():
    root = os.environ.get("HWNAS_SOURCE_ROOT")
    if not root:
        here = os.path.dirname(os.path.abspath(__file__))
        root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    return os.path.join(root, "examples", "nets")


ZOO = sorted(glob.glob(os.path.join(nets_dir(), "*.net")))


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1)


def test_zoo_present():
    assert len(ZOO) >= 5, "examples/nets not found from %s" % nets_dir()


def test_alexnet_published_figures(ctx):
    n = Net.load(ctx, os.path.join(nets_dir(), "alexnet.net"))
    # Krizhevsky et al.: 0.724 G MACs, 61.0 M parameters.
    assert abs(n.macs - 0.724e9) / 0.724e9 < 0.02
    assert abs(n.params - 61.0e6) / 61.0e6 < 0.02
    assert n.cost("macs") == n.macs
    assert n.cost("params") == n.params
    assert n.cost("nodes") == len(n)
    assert n.memory_accesses == 4 * n.macs
    assert n.weight_bytes > 4 * n.params - 1e6  # float weights: ~4 bytes each
    assert n.output.shape == (1, 1000)
    assert n["conv1"].shape == (1, 96, 55, 55)
    assert sum(node.macs for node in n) == n.macs
    assert sum(node.params for node in n) == n.params
    assert sum(node.activations for node in n) == n.activations
    assert 0 < n.peak_activations <= n.activations
    assert set(n.cost()) == set(hnet.COST_METRICS)
    with pytest.raises(hwnas.NotFound) as e:
        n.cost("flops")
    assert "macs" in str(e.value)  # the message lists the metrics


@pytest.mark.parametrize("path", ZOO, ids=[os.path.basename(p) for p in ZOO])
def test_round_trip(ctx, path):
    a = Net.load(ctx, path)
    text = a.format()
    b = Net.parse(ctx, text, name="formatted")
    assert a == b
    assert not (a != b)
    assert a.hash() == b.hash()
    assert b.format() == text
    c = a.clone()
    assert c == a and c.macs == a.macs
    assert a.topo_order() == list(range(len(a)))
    assert a.macs > 0 and a.params > 0


def test_parse_error_has_line_and_column(ctx):
    text = "hwnas-net 1\nx = input(shape=3x32x32)\nconv(out=, k=3)\n"
    with pytest.raises(hwnas.FormatError) as e:
        Net.parse(ctx, text, name="bad.net")
    assert "bad.net:3:" in str(e.value)
    assert e.value.code == hwnas.FormatError.code
    with pytest.raises(hwnas.FormatError) as e:
        Net.parse(ctx, "hwnas-net 1\nx = input(shape=3x32x32)\nfoo(k=1)\n")
    assert "<string>:3:" in str(e.value)
    with pytest.raises(hwnas.VersionError):
        Net.parse(ctx, "hwnas-net 2\n")
    with pytest.raises(hwnas.NotFound):
        Net.load(ctx, "/nonexistent/x.net")


def test_builder_and_queries(ctx):
    n = Net(ctx)
    assert len(n) == 0
    x = n.add_input(3, 32, 32, name="x")
    c1 = n.add("conv", name="c1", inputs=[x], out=16, k=3, pad=1, bias=False)
    n.add("bn")
    r = n.add("relu", name="r")
    c2 = n.add_conv2d(16, kernel=3, padding=1, input="r", name="c2")
    s = n.add("add", inputs=["r", c2])
    n.add("elu", attrs="alpha=0.5")
    n.add("gap")
    fc = n.add("linear", out=10)
    assert (x, c1, r, c2, s, fc) == (0, 1, 3, 4, 5, 8)
    assert len(n) == 9 and "c2" in n and n.find("zz") == -1
    conv = n["c1"]
    assert conv.kind == hnet.CONV2D and conv.kind_name == "conv2d" and conv.op == "conv"
    assert conv.attr("out") == 16 and conv.attr("kh") == 3 and conv.attr("bias") == 0
    assert conv.inputs == [0]
    assert conv.shape == (1, 16, 32, 32)
    assert conv.macs == 16 * 32 * 32 * 3 * 3 * 3
    assert conv.params == 16 * 3 * 3 * 3
    assert conv.multiplier == "exact" and conv.bits == 32
    assert n[s].inputs == [3, 4]
    assert n[6].kind == hnet.ACT and n[6].attr("fn") == hnet.ACT_NAMES.index("elu")
    assert n[6].attr("alpha") == 0.5
    assert n[6].get("out") is None
    with pytest.raises(hwnas.NotFound):
        n[6].attr("out")
    assert n[-1].shape == (1, 10) and n.output.index == fc
    assert n[2].multiplier is None and n[2].bits == 0
    with pytest.raises(IndexError):
        n[99]
    with pytest.raises(KeyError):
        n.add("relu", inputs=["nope"])

    before = n.format()
    with pytest.raises(hwnas.InvalidArgument):
        n.add("add", inputs=[0, 1])  # 3 vs 16 channels
    assert n.format() == before  # refused: the net is unchanged
    with pytest.raises(hwnas.InvalidArgument):
        n.add("conv", name="c1", out=4)  # duplicate name
    with pytest.raises(hwnas.InvalidArgument):
        n.add("nosuchop")

    h = n.hash()
    n.set_multiplier("c2", "mitchell", 8)
    assert n["c2"].multiplier == "mitchell" and n["c2"].bits == 8
    assert n.hash() != h
    with pytest.raises(hwnas.InvalidArgument):
        n.set_multiplier("r", "mitchell", 8)  # relu does not multiply
    with pytest.raises(hwnas.InvalidArgument):
        n.set_multiplier("c2", None, 12)

    m = Net.parse(ctx, n.format())
    assert m == n
    n.clear()
    assert len(n) == 0 and m != n


def test_hash_ignores_names(ctx):
    a = Net.parse(ctx, "hwnas-net 1\nx = input(shape=1x8x8)\nc = conv(out=4, k=3)\n")
    b = Net.parse(ctx, "hwnas-net 1\ny = input(shape=1x8x8)\nd = conv(out=4, k=3)\n")
    c = Net.parse(ctx, "hwnas-net 1\ny = input(shape=1x8x8)\nd = conv(out=5, k=3)\n")
    assert a != b  # names differ
    assert a.hash() == b.hash()
    assert a.hash() != c.hash()


def test_blocks_and_shapes(ctx):
    n = Net(ctx)
    n.add("input", shape=(3, 32, 32))
    n.add("conv", out=16, k=3, pad="same")
    out = n.add("basic", name="b", out=32, s=2)
    assert n[out].shape == (1, 32, 16, 16)
    assert any(node.name.startswith("b.") for node in n)


def test_closed_net(ctx):
    n = Net(ctx)
    n.close()
    n.close()
    with pytest.raises(ValueError):
        len(n)
