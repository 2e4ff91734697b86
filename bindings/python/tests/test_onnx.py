"""hwnas.onnx without PyTorch: every zoo net and a net with every operator
export, import back equal (with the same weights), and bad bytes raise
the specific error. With python3-onnx, our exports pass onnx.checker."""
import os
import re

import pytest

import hwnas

if not hwnas.onnx.available():
    pytest.skip("libhwnas was built without ONNX support", allow_module_level=True)


def source_root():
    root = os.environ.get("HWNAS_SOURCE_ROOT")
    if root:
        return root
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))


def every_op_text():
    """The every-operator net of tests/onnx/test_onnx.c."""
    with open(os.path.join(source_root(), "tests", "onnx", "test_onnx.c")) as f:
        src = f.read()
    body = re.search(r"every_op =\n(.*?);\n", src, re.S).group(1)
    return "".join(re.findall(r'"(.*?)"', body)).replace("\\n", "\n")


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=2)


def test_every_operator_round_trip(ctx, tmp_path):
    net = hwnas.Net.parse(ctx, every_op_text())
    assert hwnas.onnx.available()
    model = hwnas.Model(ctx, net, seed=4)
    data = hwnas.onnx.export(net, model)
    net2, model2 = hwnas.onnx.import_bytes(ctx, data, name="every.onnx")
    assert net2 == net and net2.format() == net.format()
    assert model2.save_bytes() == model.save_bytes()
    # files, and the architecture alone
    path = tmp_path / "arch.onnx"
    hwnas.onnx.save(net, path)
    net3, model3 = hwnas.onnx.load(ctx, path)
    assert net3 == net and model3 is None
    net4, model4 = hwnas.onnx.load(ctx, path, weights=False)
    assert net4 == net and model4 is None
    # the imported model computes as the original
    x = [((i * 37) % 101) / 50.0 - 1.0 for i in range(2 * 3 * 12 * 12)]
    _, p1 = model.predict(x, probabilities=True)
    _, p2 = model2.predict(x, probabilities=True)
    assert (p1 == p2).all() if hasattr(p1, "all") else p1 == p2


def test_zoo_round_trip(ctx):
    nets = os.path.join(source_root(), "examples", "nets")
    for name in sorted(os.listdir(nets)):
        if name.endswith(".net"):
            net = hwnas.Net.load(ctx, os.path.join(nets, name))
            data = hwnas.onnx.export(net)
            back, model = hwnas.onnx.import_bytes(ctx, data, name=name)
            assert back == net, name
            assert model is None
            assert hwnas.onnx.export(back) == data


def test_checker(ctx):
    onnx = pytest.importorskip("onnx", reason="python3-onnx is not installed")
    net = hwnas.Net.parse(ctx, every_op_text())
    model = hwnas.Model(ctx, net, seed=1)
    for m in (None, model):
        onnx.checker.check_model(onnx.load_from_string(hwnas.onnx.export(net, m)),
                                 full_check=True)


def test_bad_bytes(ctx):
    with pytest.raises(hwnas.FormatError, match="x.onnx: not an ONNX model"):
        hwnas.onnx.import_bytes(ctx, b"hello, world", name="x.onnx")
    with pytest.raises(hwnas.FormatError, match="no graph"):
        hwnas.onnx.import_bytes(ctx, b"", name="x.onnx")
    net = hwnas.Net.parse(ctx, "hwnas-net 1\nx = input(shape=1x6x6)\nact1 = relu\n")
    data = hwnas.onnx.export(net).replace(b"\"\x04Relu", b"\"\x04Selu")
    with pytest.raises(hwnas.Unsupported, match=r"node 'act1' \(Selu\)"):
        hwnas.onnx.import_bytes(ctx, data, name="x.onnx")
    with pytest.raises(hwnas.NotFound):
        hwnas.onnx.load(ctx, "/nonexistent/m.onnx")
    other = hwnas.Net.parse(ctx, "hwnas-net 1\nx = input(shape=1x6x6)\ngap\nlinear(out=2)\n")
    with pytest.raises(hwnas.InvalidArgument, match="another net"):
        hwnas.onnx.export(net, hwnas.Model(ctx, other))
