"""Estimators from Python: cost on a zoo net, tables (a small CSV written
here and the real NAS-Bench-201 one), and custom Python functions."""
import gc
import os

import pytest

import hwnas
from hwnas.estimator import Estimator
from hwnas.net import Net
from hwnas.space import Space

KNOWN = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|" \
        "skip_connect~2|"


def source_root():
    root = os.environ.get("HWNAS_SOURCE_ROOT")
    if root:
        return root
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))


def bench(name):
    shared = os.environ.get("HWNAS_SHARED_DIR")
    path = os.path.join(shared, "data", "benchmarks", name) if shared else None
    if not path or not os.path.exists(path):
        pytest.skip("%s not found: set HWNAS_SHARED_DIR to the shared data directory" % name)
    return path


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1)


@pytest.fixture(scope="module")
def resnet18(ctx):
    return Net.load(ctx, os.path.join(source_root(), "examples", "nets", "resnet18.net"))


def test_cost(ctx, resnet18):
    est = Estimator(ctx, "estimator:cost")
    assert est.kind == "estimator:cost"
    assert set(est.metrics) >= {"macs", "params", "weight_bytes", "peak_activations",
                                "memory_accesses"}
    assert len(est.units) == len(est) and est.metric_index("macs") >= 0
    assert est.metric_index("nope") == -1
    v = est.estimate(resnet18)
    # He et al.: ResNet-18 has 1.8 G MACs and 11.7 M parameters
    assert v["macs"] == resnet18.macs and v["params"] == resnet18.params
    assert v["macs"] == pytest.approx(1.82e9, rel=0.02)
    assert v["params"] == pytest.approx(11.69e6, rel=0.01)
    assert est.estimate_values(resnet18) == [v[m] for m in est.metrics]
    assert est.options is not None
    with pytest.raises(hwnas.NotFound):
        Estimator(ctx, "estimator:nosuch")


def test_table_small_csv(ctx, tmp_path):
    space = Space(ctx, "space:cell")
    g1, g2 = [3] * 6, [1] * 6
    k1, k2 = space.format(g1), space.format(g2)
    p = tmp_path / "t.csv"
    p.write_text("arch,acc,lat\n\"%s\",91.5,3.25\n\"%s\",80,1.5\n" % (k1, k2))
    est = Estimator(ctx, "estimator:table", file=str(p), key="arch",
                    metrics="acc:accuracy:%,lat:latency_ms:ms")
    assert est.metrics == ["accuracy", "latency_ms"] and est.units == ["%", "ms"]
    assert est.options["key"] == "arch"
    assert est.estimate(space.decode(g1), k1) == {"accuracy": 91.5, "latency_ms": 3.25}
    assert est.estimate(space.decode(g2), key=k2) == {"accuracy": 80, "latency_ms": 1.5}
    with pytest.raises(hwnas.NotFound) as e:
        est.estimate(space.decode(g1), "|none~0|")
    assert "|none~0|" in str(e.value)
    # keyed by row number
    by_row = Estimator(ctx, "estimator:table", file=str(p))
    assert by_row.estimate(space.decode(g1), "1")["lat"] == 1.5
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,\"2\n")
    with pytest.raises(hwnas.FormatError) as e:
        Estimator(ctx, "estimator:table", file=str(bad))
    assert "bad.csv" in str(e.value)
    with pytest.raises(hwnas.NotFound):
        Estimator(ctx, "estimator:table", file=str(tmp_path / "none.csv"))


def test_table_nas_bench_201(ctx):
    acc = bench("nb201_nats_tss_test_acc_200ep.csv")
    lat = bench("nb201_latency_hwnasbench_cifar10_via_help.csv")
    space = Space(ctx, "space:cell")
    genes = space.parse(KNOWN)
    net = space.decode(genes)
    a = Estimator(ctx, "estimator:table", file=acc, key="ArchitectureString",
                  metrics="CIFAR10TestAccuracy200Epochs:acc:%")
    assert a.estimate(net, KNOWN)["acc"] == pytest.approx(93.66, abs=1e-9)
    # HW-NAS-Bench latency files are keyed by NAS-Bench-201's index: row 1
    b = Estimator(ctx, "estimator:table", file=lat, index_file=acc,
                  metrics="pixel3_latency_ms:pixel3:ms,eyeriss_latency_ms:eyeriss:ms")
    v = b.estimate(net, KNOWN)
    assert v["pixel3"] == pytest.approx(17.2381)
    assert v["eyeriss"] == pytest.approx(7.57778)


def test_custom_python_estimator(ctx, resnet18):
    seen = []

    def fn(net, key, stream):
        seen.append((key, stream, len(net)))
        return [net.macs / 1e9, net.params / 1e6]

    est = Estimator.custom(ctx, "mine", "gmacs:GMAC,mparams:M", fn)
    assert est.kind == "custom:mine" and est.options is None
    assert est.metrics == ["gmacs", "mparams"] and est.units == ["GMAC", "M"]
    v = est.estimate(resnet18, key="r18", stream=7)
    assert v["gmacs"] == pytest.approx(resnet18.macs / 1e9)
    assert v["mparams"] == pytest.approx(resnet18.params / 1e6)
    assert seen == [("r18", 7, len(resnet18))]
    est.estimate(resnet18)
    assert seen[-1][:2] == (None, 0)
    # the callback object stays alive with the estimator
    del fn
    gc.collect()
    assert est.estimate(resnet18)["gmacs"] > 1

    # a dict result, and metrics given as a list
    est2 = Estimator.custom(ctx, "d", ["a", ("b", "ms")],
                            lambda net, key, stream: {"b": 2.0, "a": 1.0})
    assert est2.units == ["1", "ms"]
    assert est2.estimate(resnet18) == {"a": 1.0, "b": 2.0}


def test_lent_net_dies_with_the_call(ctx, resnet18):
    kept = []
    est = Estimator.custom(ctx, "keep", "n:1", lambda net, k, s: kept.append(net) or [1])
    est.estimate(resnet18)
    with pytest.raises(ValueError):
        len(kept[0])


def test_raising_estimator(ctx, resnet18):
    def fn(net, key, stream):
        raise RuntimeError("no latency model for %d nodes" % len(net))

    est = Estimator.custom(ctx, "broken", "lat:ms", fn)
    with pytest.raises(hwnas.Stopped) as e:
        est.estimate(resnet18, key="cand7")
    msg = str(e.value)
    assert "no latency model for %d nodes" % len(resnet18) in msg
    assert "RuntimeError" in msg and "cand7" in msg and "custom:broken" in msg
    assert isinstance(e.value.__cause__, RuntimeError)
    assert e.value.code == hwnas.Stopped.code
    # wrong arity and NaN are failures too; the estimator stays usable
    wrong = Estimator.custom(ctx, "w", "a:1,b:1", lambda n, k, s: [1.0])
    with pytest.raises(hwnas.Stopped) as e:
        wrong.estimate(resnet18)
    assert "2 metrics" in str(e.value)
    nan = Estimator.custom(ctx, "nan", "a:1", lambda n, k, s: [float("nan")])
    with pytest.raises(hwnas.Stopped) as e:
        nan.estimate(resnet18)
    assert "NaN" in str(e.value)
    calls = []
    flaky = Estimator.custom(ctx, "flaky", "a:1",
                             lambda n, k, s: calls.append(1) or ([1.0] if len(calls) > 1
                                                                 else 1 / 0))
    with pytest.raises(hwnas.Stopped) as e:
        flaky.estimate(resnet18)
    assert "ZeroDivisionError" in str(e.value)
    assert flaky.estimate(resnet18) == {"a": 1.0}
    with pytest.raises(hwnas.InvalidArgument):
        Estimator.custom(ctx, "bad", "Bad Name", lambda n, k, s: [1])
