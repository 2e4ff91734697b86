"""ONNX against PyTorch: the zoo's reference CNN, ResNet-18 and MobileNetV2
built in PyTorch (twins of examples/nets/*.net), exported by
torch.onnx.export, imported by hwnas.onnx: the same structure as the zoo
net (MACs and parameters), the same logits as PyTorch on 100 inputs (max
abs diff 1e-4), and our own export of them passes onnx.checker and imports
back to the same net and weights.

Skipped, saying why, when python3-torch or python3-onnx is missing.
"""
import gzip
import os

import pytest

import hwnas

torch = pytest.importorskip("torch", reason="python3-torch is not installed")
onnx = pytest.importorskip("onnx", reason="python3-onnx is not installed")
np = pytest.importorskip("numpy", reason="python3-numpy is not installed")
nn = torch.nn
F = torch.nn.functional

if not hwnas.onnx.available():
    pytest.skip("libhwnas was built without ONNX support", allow_module_level=True)

FMNIST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
N = 100
TOL = 1e-4


def source_root():
    root = os.environ.get("HWNAS_SOURCE_ROOT")
    if root:
        return root
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))


# ---- the twins ---------------------------------------------------------

def fmnist_ref():
    def block(cin, cout, s):
        return [nn.Conv2d(cin, cout, 3, s, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*block(1, 16, 1), *block(16, 32, 2), *block(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


class Basic(nn.Module):
    def __init__(self, cin, cout, s):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, s, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if s != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, s, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for cout, s in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [Basic(cin, cout, s), Basic(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, 1000)

    def logits(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = F.adaptive_avg_pool2d(self.layers(x), 1)
        return self.fc(torch.flatten(x, 1))

    def forward(self, x):
        return F.softmax(self.logits(x), 1)


class MBConv(nn.Module):
    def __init__(self, cin, cout, t, s):
        super().__init__()
        mid = cin * t
        layers = []
        if t != 1:
            layers += [nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6()]
        layers += [nn.Conv2d(mid, mid, 3, s, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
                   nn.ReLU6(), nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.res = s == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.res else y


class MobileNetV2(nn.Module):
    # (out, expand, stride) of the zoo's blocks 0..16
    BLOCKS = [(16, 1, 1), (24, 6, 2), (24, 6, 1), (32, 6, 2), (32, 6, 1), (32, 6, 1),
              (64, 6, 2), (64, 6, 1), (64, 6, 1), (64, 6, 1), (96, 6, 1), (96, 6, 1),
              (96, 6, 1), (160, 6, 2), (160, 6, 1), (160, 6, 1), (320, 6, 1)]

    def __init__(self):
        super().__init__()
        layers, cin = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()], 32
        for out, t, s in self.BLOCKS:
            layers.append(MBConv(cin, out, t, s))
            cin = out
        layers += [nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(1280, 1000)

    def logits(self, x):
        x = torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1)
        return self.fc(self.drop(x))

    def forward(self, x):
        return F.softmax(self.logits(x), 1)


def settle(model, shape, seed):
    """Random weights, and batch-norm scales, shifts and running statistics
    that keep the activations near unit scale (a few batches in training
    mode with a cumulative average), then inference mode."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.2, 0.2, generator=g)
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn((8,) + shape, generator=g))
    model.eval()
    return model


def inputs(shape, seed):
    """N inputs: Fashion-MNIST test images (standardised) for the 1x28x28
    net when the data set is installed, else normal noise."""
    if shape == (1, 28, 28) and os.path.exists(FMNIST):
        with gzip.open(FMNIST, "rb") as f:
            raw = f.read()
        x = np.frombuffer(raw, dtype=np.uint8, offset=16)[:N * 784].astype(np.float32) / 255
        x = (x - 0.2860) / 0.3530
        return x.reshape(N, 1, 28, 28)
    return np.random.default_rng(seed).standard_normal((N,) + shape).astype(np.float32)


def centred_log(p):
    lp = np.log(p.astype(np.float64))
    return lp - lp.mean(axis=1, keepdims=True)


class Operators(nn.Module):
    """Not a zoo net: the operators the zoo's nets do not use (PReLU, SiLU,
    ReLU6 as Clip, HardSwish, depthwise, average pooling, dropout)."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(1, 4, 3, padding=1)
        self.p = nn.PReLU()
        self.bn = nn.BatchNorm2d(4)
        self.d = nn.Conv2d(4, 8, 3, groups=4, padding=1)
        self.e = nn.Conv2d(8, 8, (1, 3), stride=(1, 2), padding=(0, 1), groups=2)
        self.fc = nn.Linear(8 * 7 * 3, 10)
        self.dr = nn.Dropout(0.3)

    def logits(self, x):
        x = F.relu6(self.p(self.bn(self.c(x))))
        x = x * torch.sigmoid(x)
        x = F.hardswish(self.d(x))
        x = F.leaky_relu(F.elu(self.e(x), 0.5), 0.02)
        x = F.avg_pool2d(F.max_pool2d(x, 2), 2)
        return self.fc(self.dr(torch.flatten(x, 1)))

    def forward(self, x):
        return F.softmax(self.logits(x), 1)


CASES = [("operators", Operators, (1, 28, 28)),
         ("fmnist_ref", fmnist_ref, (1, 28, 28)),
         ("resnet18", ResNet18, (3, 224, 224)),
         ("mobilenet_v2", MobileNetV2, (3, 224, 224))]


@pytest.mark.parametrize("zoo,make,shape", CASES, ids=[c[0] for c in CASES])
def test_torch_export_imports_with_the_same_logits(tmp_path, zoo, make, shape):
    torch.manual_seed(7)
    tm = settle(make(), shape, 11)
    path = str(tmp_path / (zoo + ".onnx"))
    torch.onnx.export(tm, torch.zeros((1,) + shape), path, opset_version=14,
                      input_names=["x"], output_names=["y"],
                      training=torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    ctx = hwnas.Context(threads=2)
    net, model = hwnas.onnx.load(ctx, path)
    assert model is not None
    # the same architecture as the zoo's net
    if zoo != "operators":
        ref = hwnas.Net.load(ctx, os.path.join(source_root(), "examples", "nets", zoo + ".net"))
        assert net.macs == ref.macs
        assert net.params == ref.params

    x = inputs(shape, 3)
    with torch.no_grad():
        t_logits = (tm.logits if hasattr(tm, "logits") else tm)(torch.from_numpy(x)).double().numpy()
    probs = np.concatenate([model.predict(x[i:i + 10], probabilities=True)[1]
                            for i in range(0, N, 10)])
    # softmax(logits) determines the logits up to a constant per sample:
    # compare both with their mean taken off
    ours = centred_log(probs)
    theirs = t_logits - t_logits.mean(axis=1, keepdims=True)
    diff = float(np.abs(ours - theirs).max())
    print("%s: max |logit difference| over %d inputs = %.3g" % (zoo, N, diff))
    assert diff <= TOL

    # our export: valid ONNX, and it imports back to the same net and weights
    data = hwnas.onnx.export(net, model)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    net2, model2 = hwnas.onnx.import_bytes(ctx, data, name=zoo + ".onnx")
    assert net2 == net
    assert net2.format() == net.format()
    assert model2.save_bytes() == model.save_bytes()
    assert hwnas.onnx.export(net2, model2) == data
