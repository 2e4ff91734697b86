"""Learned latency models from Python: fit and predict a known law, feature
vectors, the LUT feature, the text round trip, errors, and the estimator
kind latency_model. Latencies are synthetic: nothing is timed."""
import math

import pytest

import hwnas
from hwnas.latency_lut import LatencyLut, LatencyModel, MODEL_FEATURES, layer_keys
from hwnas.net import Net


def family(ctx, width, depth, k=3):
    lines = ["hwnas-net 1", "x = input(shape=3x16x16)"]
    for i in range(depth):
        lines += ["conv(out=%d, k=%d, pad=%d, bias=0)" % (width * (i + 1), k, k // 2),
                  "bn", "relu"]
    lines += ["gap", "linear(out=10)"]
    return Net.parse(ctx, "\n".join(lines) + "\n")


def law(net):
    """The synthetic device: a power law of MACs and a cost per node."""
    return 0.002 * net.macs ** 0.8 * math.exp(0.05 * len(net))


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=1)


def nets(ctx, widths):
    return [family(ctx, w, d, k) for w in widths for d in (1, 2, 3) for k in (1, 3)]


def test_fit_predict_unseen(ctx):
    train = nets(ctx, range(2, 33, 4))
    test = nets(ctx, range(4, 33, 8))
    for options in ("predictor=gbrt", "predictor=mlp", "predictor=none"):
        m = LatencyModel(ctx, options=options)
        for n in train:
            m.add(n, law(n))
        assert len(m) == len(train)
        m.fit()
        worst = max(abs(m.predict(n) - law(n)) / law(n) for n in test)
        assert worst < 0.01, (options, worst)
        assert m.predict(test) == [m.predict(n) for n in test]


def test_feature_vectors(ctx):
    a = LatencyModel(ctx, predictor="gbrt", predictor_options="trees=50;depth=3")
    b = LatencyModel(ctx, predictor="gbrt", predictor_options="trees=50;depth=3")
    for n in nets(ctx, (2, 8, 14, 20)):
        a.add(n, law(n))
        f = a.features(n)
        assert len(f) == MODEL_FEATURES and f[22] == 0.0
        b.add(f, law(n))
    a.fit()
    b.fit()
    n = family(ctx, 11, 2)
    assert a.predict(n) == b.predict(a.features(n))
    with pytest.raises(ValueError):
        b.predict([1.0, 2.0])
    with pytest.raises(hwnas.InvalidArgument, match="no LUT"):
        b.add([1.0] * MODEL_FEATURES, 1.0)


def test_lut_ratio(ctx):
    lut = LatencyLut(ctx)
    train = nets(ctx, range(2, 33, 6))
    for n in train:
        for key in layer_keys(n):
            lut[key] = 0.001 * (1 + len(key) % 7)
    m = LatencyModel(ctx, lut=lut, options="predictor=none")
    lut.close()  # the model has its own copy
    for n in train:
        m.add(n, 1.7 * math.exp(m.features(n)[22]))
    m.fit()
    for n in train[:5]:
        assert m.predict(n) == pytest.approx(1.7 * math.exp(m.features(n)[22]), rel=1e-9)
    back = LatencyModel.parse(ctx, m.format(), name="m.model")
    assert "lut-begin" in back.format()
    assert back.predict(train[3]) == m.predict(train[3])


def test_round_trip_and_estimator(ctx, tmp_path):
    m = LatencyModel(ctx)
    for n in nets(ctx, range(2, 33, 6)):
        m.add(n, law(n))
    m.fit()
    path = tmp_path / "host.model.gz"
    m.save(path)
    back = LatencyModel.load(ctx, path)
    assert back.format() == m.format()
    n = family(ctx, 9, 2)
    assert back.predict(n) == m.predict(n)
    est = hwnas.Estimator(ctx, "latency_model", model=str(path))
    assert est.metrics == ["latency_ms"]
    assert est.estimate(n)["latency_ms"] == m.predict(n)


def test_errors(ctx):
    with pytest.raises(hwnas.InvalidArgument, match="gbrt|mlp|gp|none"):
        LatencyModel(ctx, predictor="forest")
    m = LatencyModel(ctx)
    n = family(ctx, 4, 1)
    with pytest.raises(hwnas.StateError):
        m.predict(n)
    with pytest.raises(hwnas.InvalidArgument):
        m.add(n, 0.0)
    m.add(n, 1.0)
    with pytest.raises(hwnas.StateError, match="1 measured net;"):
        m.fit()
    with pytest.raises(hwnas.FormatError, match="m.model:2: the 'options' line"):
        LatencyModel.parse(ctx, "hwnas-latency-model 1\nfeatures 23\n", name="m.model")
    with pytest.raises(hwnas.VersionError):
        LatencyModel.parse(ctx, "hwnas-latency-model 9\n")
