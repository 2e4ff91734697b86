"""The accelerator model from Python: a description from tests/accel/data,
a small net mapped onto it, figures that agree with each other and with the
JSON, errors that name the file and line, and closed handles that raise."""
import math
import os

import pytest

import hwnas
from hwnas.accel import Accelerator, AccelResult, METRICS
from hwnas.net import Net

SMALL = """hwnas-net 1
x = input(shape=3x16x16)
c1 = conv(out=8, k=3, pad=1)
relu
p1 = maxpool(k=2, s=2)
dw = dwconv(k=3, pad=1)
pw = conv(out=16, k=1)
relu
flatten
fc = linear(out=10)
"""
MULTIPLYING = ("conv2d", "dwconv2d", "linear")
LEVELS = ["DRAM", "shared_glb", "ifmap_spad", "weights_spad", "psum_spad"]
BUDGET = 200  # mappings per layer: enough to map, quick to run


def source_root():
    root = os.environ.get("HWNAS_SOURCE_ROOT")
    if root:
        return root
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))


HW = os.path.join(source_root(), "tests", "accel", "data", "timeloop_eyeriss_32nm.hw")


def close_to(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1)


@pytest.fixture(scope="module")
def acc(ctx):
    return Accelerator.load(ctx, HW)


@pytest.fixture(scope="module")
def net(ctx):
    return Net.parse(ctx, SMALL, "small.net")


@pytest.fixture(scope="module")
def result(acc, net):
    return acc.run(net, budget=BUDGET)


def test_description(acc, ctx):
    assert acc.name == "timeloop-eyeriss-32nm"
    assert acc.levels == LEVELS
    assert acc.clock_mhz == 1000
    assert acc.mac_count == 168
    assert acc.area_mm2 > 0
    assert "timeloop-eyeriss-32nm" in repr(acc)
    # the text form parses back into the same model
    again = Accelerator.parse(ctx, acc.format(), name="again.hw")
    assert again.name == acc.name and again.levels == acc.levels
    assert again.mac_count == acc.mac_count
    assert close_to(again.area_mm2, acc.area_mm2) and again.clock_mhz == acc.clock_mhz
    assert again.format() == acc.format()


def test_layers_are_the_multiplying_nodes(result, net):
    want = [n for n in net if n.kind_name in MULTIPLYING]
    assert len(want) == 4
    assert len(result) == len(result.layers) == len(want)
    for layer, node in zip(result.layers, want):
        assert layer.node == node.index and layer.name == node.name
        assert layer.mapping and any(lv in layer.mapping for lv in LEVELS)
        assert result.metric("macs", layer) == node.macs
    assert result.metric("macs") == sum(n.macs for n in want)


def test_metrics_positive_and_consistent(result):
    for layer in [-1] + list(range(len(result))):
        m = result.metrics(layer)
        assert set(m) == set(METRICS)
        for k in ("energy_uj", "energy_mac_uj", "energy_mul_uj", "latency_ms", "cycles", "edp",
                  "utilisation", "dram_accesses", "macs", "mac_energy_share", "area_mm2"):
            assert m[k] > 0, (layer, k, m[k])
        assert m["utilisation"] <= 1 and m["mac_energy_share"] < 1
        assert m["energy_mul_uj"] <= m["energy_mac_uj"] <= m["energy_uj"]
        assert close_to(m["edp"], m["energy_uj"] * m["latency_ms"])
        assert close_to(m["mac_energy_share"], m["energy_mac_uj"] / m["energy_uj"])
        assert close_to(m["latency_ms"], m["cycles"] / 1000 / 1000)  # at 1000 MHz
        # the levels plus the MACs are the whole energy
        levels = sum(result.level_energy(lv, layer) for lv in range(len(LEVELS)))
        assert close_to(levels + m["energy_mac_uj"], m["energy_uj"])
    # the net is the sum of its layers
    for k in ("energy_uj", "cycles", "dram_accesses", "macs"):
        assert close_to(sum(result.metric(k, i) for i in range(len(result))), result.metric(k))
    assert result.energy_uj == result.metric("energy_uj")
    assert result.latency_ms == result.metric("latency_ms")


def test_levels_by_name_and_accesses(result):
    assert result.level("DRAM", None, "energy") == result.level_energy(0)
    assert result.level_energy("psum_spad", "c1") == result.level_energy(4, 0)
    assert result.level_energy("DRAM", result.layers[1]) == result.level_energy(0, 1)
    # every operand is read from DRAM at least once
    for op in ("weights", "inputs"):
        assert result.level("DRAM", op, "reads") > 0
    dram = sum(result.level(0, op, act) for op in ("weights", "inputs", "outputs")
               for act in ("reads", "fills", "updates"))
    assert close_to(dram, result.metric("dram_accesses"))
    with pytest.raises(KeyError, match="L9"):
        result.level_energy("L9")
    with pytest.raises(KeyError, match="nope"):
        result.metric("cycles", "nope")
    with pytest.raises(IndexError):
        result.level_energy(-1)
    with pytest.raises(hwnas.InvalidArgument, match="level 5 out of range"):
        result.level_energy(5)
    with pytest.raises(hwnas.InvalidArgument, match="out of range"):
        result.metric("cycles", len(result))
    with pytest.raises(hwnas.InvalidArgument, match="'bananas'"):
        result.level(0, "bananas", "reads")
    with pytest.raises(hwnas.InvalidArgument, match="'writes'"):
        result.level(0, "weights", "writes")
    with pytest.raises(hwnas.NotFound, match="energy_uj"):
        result.metric("joules")


def test_json(result):
    d = result.json()
    assert d["accelerator"] == "timeloop-eyeriss-32nm"
    assert d["clock_mhz"] == 1000 and d["macs_available"] == 168
    assert close_to(d["total"]["energy_uj"], result.metric("energy_uj"))
    assert close_to(d["total"]["cycles"], result.metric("cycles"))
    assert [lv["name"] for lv in d["total"]["levels"]] == LEVELS
    assert [ly["name"] for ly in d["layers"]] == [ly.name for ly in result.layers]
    for i, ly in enumerate(d["layers"]):
        assert ly["node"] == result.layers[i].node
        assert ly["mapping"] == result.layers[i].mapping
        assert close_to(ly["energy_uj"], result.metric("energy_uj", i))
        for j, lv in enumerate(ly["levels"]):
            assert close_to(lv["energy_uj"], result.level_energy(j, i))
            assert close_to(lv["reads"]["weights"], result.level(j, "weights", "reads", i))


def test_options(acc, net, result):
    # a string and keywords say the same; runs are deterministic
    same = acc.run(net, "budget=%d;seed=1" % BUDGET)
    assert same.energy_uj == result.energy_uj and same.cycles == result.cycles
    assert [ly.mapping for ly in same.layers] == [ly.mapping for ly in result.layers]
    # a batch of 2 does twice the MACs
    two = acc.run(net, budget=BUDGET, batch=2)
    assert two.metric("macs") == 2 * result.metric("macs")
    assert acc.run(net, objective="cycles", budget=BUDGET).cycles > 0
    with pytest.raises(hwnas.InvalidArgument, match="budget"):
        acc.run(net, budget="lots")
    with pytest.raises(hwnas.Error, match="objective"):
        acc.run(net, objective="speed")
    with pytest.raises(hwnas.Error, match="bogus"):
        acc.run(net, "bogus=1")


BAD = """hwnas-hw 2
name = bad
clock_mhz = 1000
[level DRAM]
bogus_key = 3
"""


def test_errors_name_the_file(ctx, tmp_path):
    with pytest.raises(hwnas.FormatError, match=r"bad\.hw:5: bogus_key"):
        Accelerator.parse(ctx, BAD, name="bad.hw")
    with pytest.raises(hwnas.FormatError, match=r"<string>:5"):
        Accelerator.parse(ctx, BAD)
    path = tmp_path / "broken.hw"
    path.write_text(BAD)
    with pytest.raises(hwnas.FormatError, match=r"broken\.hw:5"):
        Accelerator.load(ctx, path)
    missing = tmp_path / "missing.hw"
    with pytest.raises(hwnas.Error, match="missing.hw") as e:
        Accelerator.load(ctx, missing)
    assert isinstance(e.value, (hwnas.NotFound, hwnas.IOFailure))
    with pytest.raises(hwnas.VersionError):
        Accelerator.parse(ctx, "hwnas-hw 99\n", name="future.hw")
    # an unknown multiplier: NotFound, naming the file and the multiplier
    with pytest.raises(hwnas.NotFound, match=r"mul\.hw.*'nosuch'"):
        with open(HW) as f:
            text = f.read().replace("[mac]\n", "[mac]\nmultiplier = nosuch\n")
        Accelerator.parse(ctx, text, name="mul.hw")


def test_use_after_close_raises(ctx, net):
    acc = Accelerator.load(ctx, HW)
    res = acc.run(net, budget=BUDGET)
    energy = res.energy_uj
    acc.close()
    acc.close()  # twice is harmless
    for use in (lambda: acc.run(net), lambda: acc.levels, lambda: acc.name, acc.format,
                lambda: acc.area_mm2):
        with pytest.raises(ValueError, match="closed"):
            use()
    assert repr(acc) == "Accelerator(<closed>)"
    # a result does not need its description
    assert res.energy_uj == energy and res.levels == LEVELS
    assert res.json()["total"]["energy_uj"] > 0
    res.close()
    for use in (lambda: res.energy_uj, res.json, lambda: res.level_energy(0),
                lambda: res.metric("cycles", 0)):
        with pytest.raises(ValueError, match="closed"):
            use()
    assert repr(res) == "AccelResult(<closed>)"
    # a closed net cannot be run either
    with Accelerator.load(ctx, HW) as acc2:
        gone = Net.parse(ctx, SMALL)
        gone.close()
        with pytest.raises(ValueError, match="closed"):
            acc2.run(gone)
    assert acc2._ptr is None


def test_closing_the_context_closes_children():
    ctx = hwnas.Context(threads=1)
    acc = Accelerator.load(ctx, HW)
    res = acc.run(Net.parse(ctx, SMALL), budget=BUDGET)
    assert isinstance(res, AccelResult)
    ctx.close()
    with pytest.raises(ValueError, match="closed"):
        res.metric("energy_uj")
    with pytest.raises(ValueError, match="closed"):
        acc.levels
