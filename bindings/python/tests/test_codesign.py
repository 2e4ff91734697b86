"""Co-design from Python: space:accelerator and a NET+accelerator space,
their halves, decode_accel, hashes over both halves, and estimates on the
candidate's hardware that agree with Accelerator.run."""
import pytest

import hwnas
from hwnas.accel import Accelerator
from hwnas.estimator import Estimator
from hwnas.net import Net
from hwnas.space import Space

SMALL = """hwnas-net 1
x = input(shape=3x16x16)
conv(out=8, k=3, pad=1)
relu
conv(out=16, k=3, s=2, pad=1)
relu
gap
linear(out=10)
"""
EYERISS = ("clock_mhz=200;pe_rows=12;pe_cols=14;data_bits=8;dataflow=row_stationary;"
           "global_buffer.words=131072;ifmap_spad.words=24;weights_spad.words=384;"
           "psum_spad.words=16;multiplier=exact")


@pytest.fixture
def ctx():
    c = hwnas.Context(threads=1)
    yield c
    c.close()


def test_accelerator_space(ctx):
    s = Space(ctx, "space:accelerator")
    assert s.has_accel
    assert s.accel_half is s and s.net_half is None
    assert s.gene_names[:3] == ["clock_mhz", "pe_rows", "pe_cols"]
    assert s.ordinal[4] is False and s.ordinal[1] is True  # dataflow, pe_rows
    g = s.parse(EYERISS)
    assert s.format(g) == EYERISS
    a = s.decode_accel(g)
    assert isinstance(a, Accelerator)
    assert a.mac_count == 168
    assert a.area_mm2 == pytest.approx(2.69388, abs=1e-3)
    assert s.hash(g) == a.hash
    with pytest.raises(hwnas.Unsupported):
        s.decode(g)
    with pytest.raises(hwnas.FormatError, match="not one of the template's values"):
        s.parse(EYERISS.replace("pe_rows=12", "pe_rows=13"))


def test_network_space_has_no_hardware(ctx):
    s = Space(ctx, "space:cell")
    assert not s.has_accel
    assert s.net_half is s and s.accel_half is None
    with pytest.raises(hwnas.Unsupported, match="no hardware half"):
        s.decode_accel([0] * 6)


def test_composite(ctx):
    s = Space(ctx, "space:cgp+accelerator", cols=4)
    net_half, hw = s.net_half, s.accel_half
    assert net_half.kind == "space:cgp" and hw.kind == "space:accelerator"
    assert len(s) == len(net_half) + len(hw)
    assert s.gene_names[len(net_half):] == ["hw." + n for n in hw.gene_names]
    rng = hwnas.Rng(ctx, seed=5)
    g = s.sample(rng)
    assert s.parse(s.format(g)) == g
    h = list(g)
    h[len(net_half) + 1] = (h[len(net_half) + 1] + 1) % 3  # other pe_rows
    assert s.hash(g) != s.hash(h)
    assert s.decode_accel(g).hash == hw.decode_accel(g[len(net_half):]).hash
    assert isinstance(s.decode(g), Net)
    with pytest.raises(hwnas.InvalidArgument, match="hw.template"):
        Space(ctx, "space:cgp+accelerator", "template=x.hwt")


def test_estimate_on_hardware(ctx):
    s = Space(ctx, "space:accelerator")
    g = s.parse(EYERISS)
    other = list(g)
    other[1] = 2  # 16 rows
    a, b = s.decode_accel(g), s.decode_accel(other)
    net = Net.parse(ctx, SMALL)
    est = Estimator(ctx, "accelerator", budget=200, seed=5)
    va = est.estimate(net, accel=a)
    vb = est.estimate(net, accel=b)
    assert va != vb
    assert est.estimate(net) == pytest.approx(va)  # the built-in Eyeriss is g
    run = b.run(net, budget=200, seed=5)
    for m in ("energy_uj", "latency_ms", "edp", "area_mm2"):
        assert vb[m] == pytest.approx(run.metric(m), rel=1e-9)
    cost = Estimator(ctx, "cost")
    assert cost.estimate(net, accel=b) == cost.estimate(net)
