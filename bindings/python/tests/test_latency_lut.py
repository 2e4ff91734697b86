"""Latency LUTs from Python: text round trips, set/get, keys of a net's
layers, predictions as sums, missing-layer policies and error messages.
Nothing here asserts a timing: profile() and measure() are only checked
for the shape of what they produce."""
import math

import pytest

import hwnas
from hwnas.latency_lut import (LatencyLut, layer_key, layer_keys, measure, MISSING_NEAREST)
from hwnas.net import Net

TINY = """hwnas-net 1
x = input(shape=1x6x6)
conv(out=4, k=3, pad=1)
relu
flatten
fc = linear(out=2)
"""

KEYS = ["input in=1x6x6 out=1x6x6",
        "conv in=1x6x6 out=4x6x6 k=3x3 s=1x1 p=1x1 d=1x1 g=1 bits=32 mul=exact",
        "relu in=4x6x6 out=4x6x6",
        "flatten in=4x6x6 out=144",
        "linear in=144 out=2 bits=32 mul=exact"]

LUT_TEXT = """hwnas-latency-lut 1
# a comment
device test box, made up numbers
meta anything
unit us
overhead 40
layer relu in=16x32x32 out=16x32x32 : 5
layer conv in=3x32x32 out=16x32x32 k=3x3 s=1x1 p=1x1 d=1x1 g=1 bits=32 mul=exact : 137.5
"""


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1)


@pytest.fixture
def net(ctx):
    return Net.parse(ctx, TINY)


def test_layer_keys(net):
    assert layer_keys(net) == KEYS
    assert layer_key(net, 2) == KEYS[2]
    with pytest.raises(hwnas.InvalidArgument):
        layer_key(net, len(net))


def test_empty_and_set_get(ctx):
    lut = LatencyLut(ctx)
    assert len(lut) == 0 and lut.overhead == 0.0 and lut.device == ""
    assert list(lut) == [] and lut.to_dict() == {}
    # fields in any order and k=3 for 3x3: stored canonically
    lut.set("conv g=1 out=4x6x6 in=1x6x6 k=3 s=1x1 p=1x1 d=1x1 bits=32 mul=exact", 0.25)
    assert lut.keys() == [KEYS[1]]
    assert lut[KEYS[1]] == 0.25 and lut.value(0) == 0.25 and lut.key(0) == KEYS[1]
    lut[KEYS[1]] = 0.5  # replaces
    assert len(lut) == 1 and lut[KEYS[1]] == 0.5
    lut["relu in=4x6x6 out=4x6x6"] = 0.0
    assert lut.items() == [(KEYS[1], 0.5), (KEYS[2], 0.0)]
    assert KEYS[2] in lut and KEYS[0] not in lut
    assert lut.get(KEYS[0]) is None and lut.get(KEYS[0], 7.0) == 7.0
    with pytest.raises(hwnas.NotFound) as e:
        lut[KEYS[0]]
    assert KEYS[0] in str(e.value)  # the canonical key
    with pytest.raises(IndexError):
        lut.key(2)
    lut.overhead = -0.125
    assert lut.overhead == -0.125
    lut.device = "my board"
    assert lut.device == "my board"
    assert "2 entries" in repr(lut) and "my board" in repr(lut)


def test_bad_values(ctx):
    lut = LatencyLut(ctx)
    with pytest.raises(hwnas.InvalidArgument):
        lut["relu in=4x6x6 out=4x6x6"] = -1.0
    with pytest.raises(hwnas.InvalidArgument):
        lut["relu in=4x6x6 out=4x6x6"] = math.nan
    with pytest.raises(hwnas.InvalidArgument) as e:
        lut["relu in=4x6x6"] = 1.0  # no out=
    assert "out" in str(e.value)
    with pytest.raises(hwnas.InvalidArgument):
        lut.overhead = math.inf
    with pytest.raises(hwnas.InvalidArgument):
        lut.device = "two\nlines"
    assert len(lut) == 0


def test_parse_format_round_trip(ctx, tmp_path):
    lut = LatencyLut.parse(ctx, LUT_TEXT, name="mem.lut")
    assert len(lut) == 2
    assert lut.device == "test box, made up numbers"
    assert lut.overhead == pytest.approx(0.04)  # us -> ms
    assert lut["relu in=16x32x32 out=16x32x32"] == pytest.approx(0.005)
    assert lut.keys()[0].startswith("relu")  # file order
    text = lut.format()
    assert text.startswith("hwnas-latency-lut 1\n") and "unit ms" in text
    layers = [ln for ln in text.splitlines() if ln.startswith("layer ")]
    assert layers == sorted(layers) and len(layers) == 2  # sorted by key
    again = LatencyLut.parse(ctx, text.encode())  # bytes work too
    assert again.to_dict() == lut.to_dict()
    assert again.overhead == lut.overhead and again.device == lut.device
    assert again.format() == text
    for name in ("a.lut", "a.lut.gz"):
        path = tmp_path / name
        lut.save(path)
        back = LatencyLut.load(ctx, path)
        assert back.format() == text
    assert (tmp_path / "a.lut").read_text() == text
    assert (tmp_path / "a.lut.gz").read_bytes()[:2] == b"\x1f\x8b"


def test_parse_errors_name_lines(ctx, tmp_path):
    with pytest.raises(hwnas.FormatError) as e:
        LatencyLut.parse(ctx, "hwnas-latency-lut 1\nunit ms\nlayer relu in=4x6x6 : 1\n",
                         name="bad.lut")
    assert "bad.lut:3" in str(e.value)
    with pytest.raises(hwnas.FormatError) as e:
        LatencyLut.parse(ctx, "hwnas-latency-lut 1\n\n# c\nlayer relu in=1 out=1 : -2\n",
                         name="neg.lut")
    assert "neg.lut:4" in str(e.value)
    with pytest.raises(hwnas.FormatError):
        LatencyLut.parse(ctx, "not a lut\n")
    with pytest.raises(hwnas.VersionError):
        LatencyLut.parse(ctx, "hwnas-latency-lut 99\n")
    with pytest.raises(hwnas.NotFound) as e:
        LatencyLut.load(ctx, tmp_path / "missing.lut")
    assert "missing.lut" in str(e.value)
    bad = tmp_path / "bad.lut"
    bad.write_text("hwnas-latency-lut 1\noverhead x\n")
    with pytest.raises(hwnas.FormatError) as e:
        LatencyLut.load(ctx, bad)
    assert "bad.lut:2" in str(e.value)


def test_predict_sums(ctx, net):
    lut = LatencyLut(ctx)
    for i, key in enumerate(KEYS):
        lut[key] = 0.5 * (i + 1)
    assert lut.predict(net) == pytest.approx(0.5 * (1 + 2 + 3 + 4 + 5))
    lut.overhead = 0.25
    assert lut.predict(net) == pytest.approx(7.5 + 0.25)
    lut.overhead = -1.0  # fitted overheads may be negative
    assert lut.predict(net) == pytest.approx(6.5)


def test_predict_missing(ctx, net):
    lut = LatencyLut(ctx)
    for key in KEYS:
        if not key.startswith("conv"):
            lut[key] = 1.0
    with pytest.raises(hwnas.NotFound) as e:
        lut.predict(net)
    assert KEYS[1] in str(e.value)  # names the layer's key
    with pytest.raises(hwnas.NotFound):
        lut.predict(net, missing="nearest")  # no conv entry at all to fall back on
    # a compatible conv entry of another size: nearest takes its latency,
    # interpolate scales it with the work (beyond the only entry)
    lut["conv in=1x12x12 out=4x12x12 k=3x3 s=1x1 p=1x1 d=1x1 g=1 bits=32 mul=exact"] = 4.0
    assert lut.predict(net, missing="nearest") == pytest.approx(4 + 4.0)
    assert lut.predict(net, missing=MISSING_NEAREST) == pytest.approx(8.0)
    assert lut.predict(net, missing="interpolate") == pytest.approx(4 + 1.0)  # 4x fewer MACs
    assert lut.predict(net, missing="scale") == pytest.approx(4 + 1.0)  # the nearest, scaled
    with pytest.raises(ValueError):
        lut.predict(net, missing="guess")
    with pytest.raises(hwnas.InvalidArgument):
        lut.predict(net, missing=7)
    with pytest.raises(hwnas.InvalidArgument):
        lut.predict(Net(ctx))  # empty net


def test_profile_and_measure_shape(ctx, net):
    lut = LatencyLut(ctx)
    assert lut.profile(net, warmup=1, repeats=3) is lut
    # every layer plain, and again with the net's latency class (ctx=N)
    plain = [k for k in lut.keys() if " ctx=" not in k]
    assert sorted(plain) == sorted(KEYS)
    cls = {k.split(" ctx=")[1] for k in lut.keys() if " ctx=" in k}
    assert len(cls) == 1
    c = cls.pop()
    assert sorted(lut.keys()) == sorted(KEYS + [k + " ctx=" + c for k in KEYS])
    assert all(v >= 0 and math.isfinite(v) for v in lut.to_dict().values())
    assert math.isfinite(lut.overhead)
    assert math.isfinite(lut.predict(net))
    assert LatencyLut.parse(ctx, lut.format()).keys() == sorted(lut.keys())
    with pytest.raises(hwnas.InvalidArgument):
        lut.profile(net, repeats=0)
    ms = measure(ctx, net, warmup=0, repeats=2)
    assert ms >= 0 and math.isfinite(ms)
    with pytest.raises(hwnas.InvalidArgument):
        measure(ctx, net, repeats=0)


def test_profile_int8_net(ctx):
    """A net of low-bit layers is timed on the int8 kernels with the
    multipliers it names: an unknown one is an error naming it."""
    text = """hwnas-net 1
x = input(shape=1x6x6)
conv(out=4, k=3, pad=1, bits=8, mul="drum:k=4")
relu
flatten
fc = linear(out=2, bits=8, mul="%s")
"""
    lut = LatencyLut(ctx).profile(Net.parse(ctx, text % "mitchell"), warmup=0, repeats=2)
    assert "conv in=1x6x6 out=4x6x6 k=3x3 s=1x1 p=1x1 d=1x1 g=1 bits=8 mul=drum:k=4" in lut.keys()
    assert "linear in=144 out=2 bits=8 mul=mitchell" in lut.keys()
    with pytest.raises(hwnas.Error, match="nosuch"):
        lut.profile(Net.parse(ctx, text % "nosuch:k=2"), warmup=0, repeats=1)
    with pytest.raises(hwnas.Error, match="nosuch"):
        measure(ctx, Net.parse(ctx, text % "nosuch:k=2"), warmup=0, repeats=1)


def test_close(ctx):
    lut = LatencyLut(ctx)
    lut.close()
    lut.close()
    with pytest.raises(ValueError):
        len(lut)
    with LatencyLut(ctx) as other:
        other["relu in=1 out=1"] = 1.0
    assert other._ptr is None
