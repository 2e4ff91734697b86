"""Plugins from Python: loading the example roofline plugin (built by
meson as a shared module under the build tree) into a context and using
its estimator kind by name; the loader's errors."""
import os

import pytest

import hwnas
from hwnas.estimator import Estimator
from hwnas.net import Net
from hwnas.plugin import load_plugin

TINY = """hwnas-net 1
x = input(shape=1x6x6)
conv(out=4, k=3, pad=1)
relu
flatten
fc = linear(out=2)
"""


def plugin_dir():
    """Where meson puts the plugins: next to the library's build tree
    (…/build/lib/libhwnas.so.0 -> …/build/tests/plugin/), or
    HWNAS_PLUGIN_DIR."""
    env = os.environ.get("HWNAS_PLUGIN_DIR")
    if env:
        return env
    build = os.path.dirname(os.path.dirname(os.path.abspath(hwnas.library_path)))
    for sub in (("tests", "plugin"), ("examples", "plugin")):
        d = os.path.join(build, *sub)
        if os.path.exists(os.path.join(d, "roofline.so")):
            return d
    return os.path.join(build, "tests", "plugin")


def plugin(name):
    path = os.path.join(plugin_dir(), name + ".so")
    if not os.path.exists(path):
        pytest.skip("the plugin %s is not built (meson builds it under build/tests/plugin/)"
                    % path)
    return path


def roofline(net, peak_gflops=100.0, bandwidth_gbs=20.0, overhead_us=0.0):
    """What examples/plugin/roofline.c computes, from the net's numbers."""
    seconds, flops_total, bytes_total = overhead_us * 1e-6, 0.0, 0.0
    nodes = list(net)
    for node in nodes:
        out = node.activations
        inp = sum(nodes[j].activations for j in node.inputs)
        act = 1.0 if node.bits == 8 else 4.0
        flops = 2 * node.macs if node.macs > 0 else out
        nbytes = node.weight_bytes + act * (inp + out)
        seconds += max(flops / (peak_gflops * 1e9), nbytes / (bandwidth_gbs * 1e9))
        flops_total += flops
        bytes_total += nbytes
    return seconds * 1e3, flops_total / bytes_total


def test_load_and_estimate():
    path = plugin("roofline")
    ctx = hwnas.Context(threads=1)
    assert "estimator:roofline" not in ctx.kinds()
    with pytest.raises(hwnas.NotFound):
        Estimator(ctx, "estimator:roofline")
    added = load_plugin(ctx, path)
    assert added == ["estimator:roofline"]
    assert "estimator:roofline" in ctx.kinds()
    described = {o.name: o for o in ctx.describe("estimator:roofline")}
    assert set(described) == {"peak_gflops", "bandwidth_gbs", "overhead_us"}
    assert described["peak_gflops"].type == "float"
    net = Net.parse(ctx, TINY)
    est = Estimator(ctx, "estimator:roofline", peak_gflops=50, bandwidth_gbs=10)
    assert est.metrics == ["latency_ms", "intensity"]
    got = est.estimate(net)
    ms, intensity = roofline(net, 50.0, 10.0)
    assert got["latency_ms"] == pytest.approx(ms, rel=1e-9)
    assert got["intensity"] == pytest.approx(intensity, rel=1e-9)
    slow = Estimator(ctx, "estimator:roofline", "overhead_us=1000")
    assert slow.estimate(net)["latency_ms"] == pytest.approx(roofline(net)[0] + 1.0)
    with pytest.raises(hwnas.InvalidArgument):
        Estimator(ctx, "estimator:roofline", peak_gflops=-1)  # out of range
    with pytest.raises(hwnas.Stopped) as e:  # the plugin's own message
        est.estimate(Net(ctx))
    assert "empty" in str(e.value)
    # the same file twice: its kind is taken
    with pytest.raises(hwnas.InvalidArgument) as e:
        load_plugin(ctx, path)
    assert "roofline" in str(e.value)
    est.close()
    slow.close()
    ctx.close()


def test_per_context():
    path = plugin("roofline")
    a, b = hwnas.Context(threads=1), hwnas.Context(threads=1)
    load_plugin(a, path)
    assert "estimator:roofline" in a.kinds()
    assert "estimator:roofline" not in b.kinds()
    a.close()
    load_plugin(b, path)  # another context loads it afresh
    assert Estimator(b, "estimator:roofline").estimate(Net.parse(b, TINY))["latency_ms"] > 0


def test_errors(tmp_path):
    ctx = hwnas.Context(threads=1)
    missing = tmp_path / "nothere.so"
    with pytest.raises(hwnas.NotFound) as e:
        load_plugin(ctx, missing)
    assert "nothere.so" in str(e.value)
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"this is not an ELF file\n")
    with pytest.raises(hwnas.FormatError) as e:
        load_plugin(ctx, junk)
    assert "junk.so" in str(e.value)
    kinds = ctx.kinds()
    for name, error in (("bad1", hwnas.VersionError), ("bad2", hwnas.VersionError),
                        ("bad3", hwnas.Stopped), ("bad4", hwnas.NotFound),
                        ("bad5", hwnas.InvalidArgument), ("bad7", hwnas.InvalidArgument)):
        path = plugin(name)
        with pytest.raises(error) as e:
            load_plugin(ctx, path)
        assert name + ".so" in str(e.value)
    assert ctx.kinds() == kinds  # nothing registered on error
    ctx.close()
    with pytest.raises(ValueError):
        load_plugin(ctx, plugin("roofline"))
