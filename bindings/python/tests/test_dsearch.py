"""Differentiable search from Python: a DARTS/GDAS run writes its results
directory, the cost term lowers the derived cost, the same seed gives the
same front, a stopped search resumes, and bad options raise."""
import os

import pytest

import hwnas
from hwnas.data import Dataset

np = pytest.importorskip("numpy")

SMALL = "channels=4;cells=1;batch=8;a_lr=0.05;evaluation=0;calibration=32"


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=2)


@pytest.fixture(scope="module")
def data(ctx):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, size=64).astype(np.int32)
    x = rng.normal(0.0, 0.1, size=(64, 1, 8, 8)).astype(np.float32)
    for c in range(4):
        x[y == c, :, :, 2 * c:2 * c + 2] += 1.0
    return Dataset.from_numpy(ctx, x, y, classes=4)


def test_run_and_front(ctx, data, tmp_path):
    front = hwnas.dsearch.run(ctx, data, tmp_path / "a", options=SMALL, method="darts",
                              cost="macs", lam=[0, 5], epochs=3)
    assert [r["lambda"] for r in front] == [0.0, 5.0]
    for r in front:
        assert r["arch"].startswith("|") and 0.0 <= r["accuracy"] <= 1.0
        assert os.path.exists(tmp_path / "a" / r["net"])
        net = hwnas.Net.load(ctx, str(tmp_path / "a" / r["net"]))
        assert net.macs == r["macs"]
    # the cost term: lambda 5 ends with a lower expected cost than lambda 0
    def last_cost(i):
        with open(tmp_path / "a" / ("lambda-%d" % i) / "epochs.csv") as f:
            return float(f.read().strip().splitlines()[-1].split(",")[-1])
    assert last_cost(1) < last_cost(0)
    # run() draws the plots: a point per lambda, a line per edge and operation
    svg = (tmp_path / "a" / "front.svg").read_text()
    assert svg.count("<title>lambda ") == 2
    assert (tmp_path / "a" / "lambda-0" / "alpha.svg").read_text().count("class='op'") == 30
    (tmp_path / "a" / "front.svg").unlink()
    hwnas.dsearch.write_plots(ctx, tmp_path / "a")
    assert (tmp_path / "a" / "front.svg").read_text() == svg
    with pytest.raises(hwnas.Error, match="front.csv"):
        hwnas.dsearch.write_plots(ctx, tmp_path / "nothing-here")
    traj = hwnas.dsearch.trajectory(tmp_path / "a" / "lambda-0")
    assert len(traj) == 3 * 30
    for ep in (1, 2, 3):
        for e in range(6):
            s = sum(r["prob"] for r in traj if r["epoch"] == ep and r["edge"] == e)
            assert abs(s - 1) < 1e-6
    # same seed, same front (here at one thread)
    again = hwnas.dsearch.run(hwnas.Context(threads=1), data, tmp_path / "b", options=SMALL,
                              method="darts", cost="macs", lam=[0, 5], epochs=3)
    assert again == front


def test_stop_and_resume(ctx, data, tmp_path):
    seen = []

    def stop_at_3(p):
        seen.append(p)
        return p["event"] == "batch" and p["epoch"] * p["batches"] + p["batch"] + 1 == 3

    with pytest.raises(hwnas.Stopped):
        hwnas.dsearch.run(ctx, data, tmp_path / "s", options=SMALL, method="gdas", epochs=2,
                          progress=stop_at_3)
    assert os.path.exists(tmp_path / "s" / "lambda-0" / "checkpoint.dsn")
    resumed = hwnas.dsearch.run(ctx, data, tmp_path / "s", options=SMALL, method="gdas",
                                epochs=2)
    whole = hwnas.dsearch.run(ctx, data, tmp_path / "w", options=SMALL, method="gdas", epochs=2)
    assert resumed == [dict(r, net=r["net"]) for r in whole]
    with open(tmp_path / "s" / "lambda-0" / "alpha.csv") as a, \
            open(tmp_path / "w" / "lambda-0" / "alpha.csv") as b:
        assert a.read() == b.read()


def test_check_options(ctx):
    hwnas.dsearch.check_options(ctx, "method=gdas;cost=params", lam=[0, 1])
    with pytest.raises(hwnas.InvalidArgument) as e:
        hwnas.dsearch.check_options(ctx, "form=target")
    assert "target" in str(e.value)
    with pytest.raises(hwnas.InvalidArgument):
        hwnas.dsearch.check_options(ctx, lam="1,x")


def test_bad_options(ctx, data, tmp_path):
    with pytest.raises(hwnas.Error) as e:
        hwnas.dsearch.run(ctx, data, tmp_path / "x", method="enas")
    assert "method" in str(e.value)
    with pytest.raises(hwnas.Error) as e:
        hwnas.dsearch.run(ctx, data, tmp_path / "x", options="lambda=1,x")
    assert "lambda" in str(e.value)
