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


def test_multiplier_per_layer(ctx):
    """hw.multiplier_per=layer: no multiplier gene on the chip; each layer's
    multiplier from the network's genes, the chip carrying every listed one."""
    per_chip = Space(ctx, "space:accelerator")
    per_layer = Space(ctx, "space:accelerator", multiplier_per="layer")
    assert "multiplier" in per_chip.gene_names
    assert "multiplier" not in per_layer.gene_names
    assert len(per_layer) == len(per_chip) - 1
    s = Space(ctx, "space:cgp+accelerator", cols=6, **{"hw.multiplier_per": "layer"})
    rng = hwnas.Rng(ctx, seed=3)
    seen = set()
    for _ in range(40):
        g = s.sample(rng)
        a = s.decode_accel(g)
        if "layer_multipliers" not in a.format():
            continue  # a 16-bit chip: exact only
        try:
            net = s.decode(g)
        except hwnas.InvalidCandidate:
            continue
        seen.update(n.multiplier for n in net.nodes if n.multiplier)
        assert a.run(net).metric("energy_uj") > 0
    assert seen <= {"exact", "drum:k=6", "drum:k=4", "trunc:t=2", "mitchell"}
    assert len(seen) >= 2
    with pytest.raises(hwnas.InvalidArgument, match="multiplier_per = layer"):
        Space(ctx, "space:cell+accelerator", **{"hw.multiplier_per": "layer"})


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


# ---- co-search: joint and nested searches over a NET+accelerator space ----

from hwnas.estimator import current_accel  # noqa: E402
from hwnas.search import Search, plot_front  # noqa: E402

CGP = "rows=1;cols=4;levels_back=2;stem=8;bits=8"


def co_search(ctx, tmp_path, mode, **extra):
    s = Search(ctx, "space:cgp+accelerator", "strategy:nsga2",
               space_options=CGP, strategy_options={"population": 6},
               objectives="params:max,edp:min", evaluations=12, batch=6, seed=4,
               constraints="area_mm2<=3", codesign=mode, out=str(tmp_path / mode), **extra)
    s.add_estimator("estimator:cost")
    s.add_estimator("estimator:accelerator")
    s.run()
    return s


def test_joint_co_search(ctx, tmp_path):
    s = co_search(ctx, tmp_path, "joint")
    space = s.space
    areas = set()
    for c in s.candidates():
        assert " @ " in c["key"]
        if c["error"] is None:
            a = space.decode_accel(c["genes"])
            assert c["metrics"]["area_mm2"] == pytest.approx(a.area_mm2)
            areas.add(round(c["metrics"]["area_mm2"], 6))
            m = c["metrics"]
            assert m["power_mw"] == pytest.approx(m["energy_uj"] / m["latency_ms"])
    assert len(areas) > 1
    s.write_results()
    header = (tmp_path / "joint" / "archive.csv").read_text().splitlines()[0]
    assert header.endswith(",network,hardware")
    assert (tmp_path / "joint" / "front" / "000.hw").read_text().count("hwnas-hw 2") == 1
    plot_front(ctx, tmp_path / "joint", "area_mm2", "edp")
    assert "area [area_mm2] (mm\u00b2)" in (tmp_path / "joint" / "front.svg").read_text(
        encoding="utf-8")
    s.close()


def test_nested_co_search_and_resume(ctx, tmp_path):
    inner = "strategy=random;budget=6;max_area_mm2=1.6"
    s = co_search(ctx, tmp_path, "nested", codesign_options=inner)
    want = [(c["key"], c["error"]) for c in s.candidates()]
    discarded = [e for _, e in want if e and e.startswith("nested co-design")]
    kept = [c for c in s.candidates() if c["error"] is None]
    assert kept and all(c["metrics"]["area_mm2"] <= 1.6 for c in kept)
    assert len(discarded) + len(kept) == len(want)
    with pytest.raises(hwnas.errors.Unsupported):
        s.ask(1)  # the inner searches run inside run()
    s.close()
    # A finished nested search resumes to more budget from its journal.
    r = Search.resume(ctx, tmp_path / "nested", evaluations=18)
    r.run()
    got = [(c["key"], c["error"]) for c in r.candidates()]
    assert got[:len(want)] == want and len(got) == 18
    r.close()


def test_current_accel_in_custom_estimator(ctx):
    seen = []

    def probe(net, key, stream):
        a = current_accel(ctx)
        seen.append((key, None if a is None else a.area_mm2))
        return [1.0]

    s = Search(ctx, "space:cell+accelerator", "strategy:random",
               space_options="channels=4;cells=1", objectives="probe:min,edp:min",
               evaluations=3)
    s.add_estimator(Estimator.custom(ctx, "probe", "probe", probe))
    s.add_estimator("estimator:accelerator")
    s.run()
    assert len(seen) == 3
    for key, area in seen:
        assert key.startswith("|") and " @ " not in key  # the network half's string
        assert area is not None and area > 0
    assert current_accel(ctx) is None  # outside an estimate
    s.close()
