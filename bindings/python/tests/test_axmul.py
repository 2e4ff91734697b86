"""Approximate multipliers from Python: exact and DRUM metrics against
their closed forms, file round trips, the registry, and EvoApproxLib
tables against their published params.csv."""
import csv
import math
import os

import pytest

import hwnas
from hwnas import axmul
from hwnas.axmul import Axmul, Registry


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1)


def evo_dir():
    shared = os.environ.get("HWNAS_SHARED_DIR")
    d = os.path.join(shared, "axmul", "evoapprox-mul8u") if shared else None
    if not d or not os.path.exists(os.path.join(d, "params.csv")):
        pytest.skip("EvoApproxLib tables not found: set HWNAS_SHARED_DIR to a directory "
                    "holding axmul/evoapprox-mul8u")
    return d


def test_listings():
    names = axmul.metric_names()
    assert len(names) == axmul.METRIC_COUNT and names[axmul.MAE_PCT] == "mae_pct"
    assert axmul.metric_index("wce") == axmul.WCE and axmul.metric_index("nope") == -1
    fam = axmul.families()
    for f in ("exact", "trunc", "drum", "mitchell", "bam"):
        assert f in fam and fam[f]
    assert "drum:k=4" in axmul.builtins() and "exact" in axmul.builtins()


@pytest.mark.parametrize("spec", ["exact", "exact:signed=1", "drum:k=8", "trunc:t=0"])
def test_exact_multipliers_have_zero_error(ctx, spec):
    m = Axmul(ctx, spec)
    assert all(v == 0 for v in m.metrics().values()), m.metrics()
    if m.signed:
        assert m.product(-128, -128) == 16384 and m.product(-3, 7) == -21
        assert m(127, -128) == -16256
    else:
        assert m.product(255, 255) == 65025 and m(13, 17) == 221


def test_exact_power_and_name(ctx):
    m = Axmul(ctx)
    assert m.name == "exact" and not m.signed and m.source == "builtin"
    assert m.power == 1 and m.area == 1
    assert Axmul(ctx, "exact:signed=1").signed


def test_drum_closed_forms(ctx):
    prev = None
    for k in (3, 4, 5, 6):
        m = Axmul(ctx, "drum:k=%d" % k)
        assert m.name == "drum:k=%d" % k
        met = m.metrics()
        # each operand is off by at most 2^-(k-1) relatively, so the product
        # by at most (1 + 2^-(k-1))^2 - 1
        assert met["wcre"] == pytest.approx((1 + 2.0 ** (1 - k)) ** 2 - 1)
        assert met["wcre_pct"] == pytest.approx(100 * met["wcre"])
        assert met["mae_pct"] == pytest.approx(met["mae"] / 65536 * 100)
        assert met["ep"] * 100 == pytest.approx(met["ep_pct"])
        # DRUM is nearly unbiased: |bias| well below the mean absolute error
        assert 0 < abs(met["bias"]) < 0.5 * met["mae"]
        assert met["mse"] >= met["mae"] ** 2  # Jensen
        if prev is not None:
            assert met["mae"] < prev  # more bits, less error
        prev = met["mae"]
        # operands below 2^k are multiplied exactly
        lim = 1 << k
        assert all(m.product(a, b) == a * b for a in range(lim) for b in range(lim))
        assert m.power < 1 and m.area < 1
    with pytest.raises(hwnas.InvalidArgument) as e:
        Axmul(ctx, "drum:k=9")
    assert "k" in str(e.value)
    with pytest.raises(hwnas.NotFound):
        Axmul(ctx, "nosuchfamily")


def test_table_and_numpy(ctx):
    np = pytest.importorskip("numpy")
    m = Axmul(ctx, "trunc:t=2")
    t = m.table()
    assert t.shape == (256, 256) and t.dtype == np.int32
    a, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    assert np.array_equal(t, (a & ~3) * (b & ~3))
    t16 = m.table16()
    assert t16.dtype == np.uint16 and np.array_equal(t16, t.astype(np.uint16))
    assert np.array_equal(m.table16(by_weight=True), t16.T)
    # a Python-made table: the exact one with one entry off by 1
    mine = (a * b).astype(np.int32)
    mine[200, 100] += 1
    x = Axmul.from_table(ctx, "mine", mine)
    assert x.product(200, 100) == 20001 and x.metric("wce") == 1
    assert x.metric(axmul.EP) == pytest.approx(1 / 65536)
    assert math.isnan(x.power) and x.source == ""
    x.set_cost(0.9, 0.8)
    assert x.power == 0.9 and x.area == 0.8
    x.name = "mine2"
    x.source = "made in a test"
    assert x.name == "mine2" and x.source == "made in a test"
    with pytest.raises(hwnas.InvalidArgument):
        x.name = "bad name"
    with pytest.raises(hwnas.InvalidArgument):
        x.set_cost(-1, 1)
    mine[0, 0] = 70000
    with pytest.raises(hwnas.InvalidArgument):
        Axmul.from_table(ctx, "bad", mine)
    # signed: the exact table indexed by bytes
    s = a.astype(np.int8).astype(np.int32) * b.astype(np.int8).astype(np.int32)
    y = Axmul.from_table(ctx, "sexact", s, signed=True)
    assert y.signed and y.metric("mae") == 0 and y.product(-2, 3) == -6
    assert y.hash() == Axmul(ctx, "exact:signed=1").hash()
    assert np.array_equal(y.table16().view(np.int16), s.astype(np.int16))


def test_table_lists(ctx):
    flat = [a * b for a in range(256) for b in range(256)]
    m = Axmul.from_table(ctx, "flat", flat)
    assert m.hash() == Axmul(ctx).hash() and m.metric("mae") == 0
    with pytest.raises(ValueError):
        Axmul.from_table(ctx, "short", flat[:10])


def test_write_read_round_trip(ctx, tmp_path):
    m = Axmul(ctx, "bam:h=2,v=6")
    text = m.write()
    assert text.startswith("hwnas-axmul 1")
    back = Axmul.read(ctx, text.encode(), origin="mem")
    assert back.name == m.name and back.hash() == m.hash()
    assert back.metrics() == m.metrics() and back.power == m.power
    raw = m.write("bin")
    assert isinstance(raw, bytes) and len(raw) == axmul.BIN_SIZE
    b2 = Axmul.read(ctx, raw, "bin", origin="dir/bam26.bin")
    assert b2.name == "bam26" and b2.hash() == m.hash()
    for name in ("x.axmul", "x.axmul.gz", "x.bin", "x.bin.gz"):
        p = tmp_path / name
        m.save(str(p))
        got = Axmul.load(ctx, str(p))
        assert got.hash() == m.hash()
    with pytest.raises(hwnas.InvalidArgument):
        m.write("bin-signed")
    with pytest.raises(hwnas.FormatError):
        Axmul.read(ctx, raw[:-2], "bin", origin="short.bin")
    with pytest.raises(hwnas.NotFound):
        Axmul.load(ctx, str(tmp_path / "none.bin"))


def test_registry(ctx):
    r = Registry(ctx)
    names = r.names()
    assert names == axmul.builtins() and len(r) == len(names)
    d = r.get("drum:k=4")
    assert d.name == "drum:k=4" and d.hash() == Axmul(ctx, "drum:k=4").hash()
    assert "mitchell" in r and "nosuch" not in r
    m = Axmul.from_table(ctx, "mine", [a * b for a in range(256) for b in range(256)])
    r.add(m)
    assert r.names()[-1] == "mine" and r["mine"].hash() == m.hash()
    with pytest.raises(TypeError):
        m.set_cost(1, 1)  # the registry owns it now
    with pytest.raises(ValueError):
        r.add(m)
    dup = Axmul.from_table(ctx, "mine", [a * b for a in range(256) for b in range(256)])
    with pytest.raises(hwnas.InvalidArgument):
        r.add(dup)
    assert dup.name == "mine"  # still the caller's
    with pytest.raises(hwnas.NotFound):
        r.get("nosuch")


def test_evoapprox_table_reproduces_params_csv(ctx):
    d = evo_dir()
    with open(os.path.join(d, "params.csv")) as f:
        rows = {row["name"]: row for row in csv.DictReader(f)}
    row = rows["mul8u_12N4"]
    m = Axmul.load(ctx, os.path.join(d, "mul8u_12N4.bin"))
    assert m.name == "mul8u_12N4" and not m.signed
    # published with 2 significant digits: 0.43 % MAE, 2.15 % WCE, 87.31 % EP
    assert m.metric("mae_pct") == pytest.approx(float(row["mae_pct"]), abs=0.005)
    assert m.metric("wce_pct") == pytest.approx(float(row["wce_pct"]), abs=0.005)
    assert m.metric("ep_pct") == pytest.approx(float(row["ep_pct"]), abs=0.005)


def test_evoapprox_directory(ctx):
    d = evo_dir()
    with open(os.path.join(d, "params.csv")) as f:
        rows = list(csv.DictReader(f))
    r = Registry(ctx)
    n = r.load_dir(d)
    assert n == len([x for x in os.listdir(d) if x.endswith(".bin")]) and n >= 30
    checked = 0
    for row in rows:
        if not os.path.exists(os.path.join(d, row["name"] + ".bin")):
            continue
        m = r.get(row["name"])
        want = float(row["mae_pct"])
        # params.csv rounds to 2-3 significant digits
        assert m.metric("mae_pct") == pytest.approx(want, rel=0.03, abs=1e-4), row["name"]
        assert m.power >= 0 and m.area >= 0  # mul8u_199Z is a constant: 0 mW
        checked += 1
    assert checked >= 30
