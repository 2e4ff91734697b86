"""estimator:zero-cost against the same proxies computed by PyTorch (in
double precision, with autograd's double backward for grasp) on the same
weights (the engine's initial ones, exported through the weights format)
and the same minibatch; and the estimator's options, metrics and errors."""
import math
import os
import struct
import sys

import pytest

import hwnas

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
nn = torch.nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "bench",
                                "engine"))
from torch_net import SpecNet  # noqa: E402

# conv-bn-relu, a grouped conv with a bias, a depthwise conv, maxpool, a
# residual add, global pooling and a linear classifier
NET = """hwnas-net 1
x = input(shape=1x8x8)
c1 = conv(out=6, k=3, pad=1, bias=0)
b1 = bn
r1 = relu
c2 = conv(out=6, k=3, pad=1, groups=2)
r2 = relu(c2)
s = add(r1, r2)
d = dwconv(s, k=3, pad=1, bias=0)
b2 = bn
r3 = relu
p = maxpool(k=2)
g = gap
fc = linear(out=4)
"""
N_SAMPLES, BATCH, SEED = 40, 16, 3
MASK = (1 << 64) - 1


def candidate_seed(seed, stream):
    """estimator:accuracy's (and zero-cost's) per-candidate seed."""
    x = (seed ^ (stream * 0x9E3779B97F4A7C15)) & MASK
    x = (x + 0x9E3779B97F4A7C15) & MASK
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return (z ^ (z >> 31)) >> 11


def weights_arrays(blob):
    """(params, state) of a weights file (doc/formats/weights.md)."""
    nt, npar, nst = struct.unpack_from("<QQQ", blob, 24)
    off = 48 + 24 * nt
    p = np.frombuffer(blob, dtype="<f4", count=npar, offset=off).astype(np.float64)
    s = np.frombuffer(blob, dtype="<f4", count=nst, offset=off + 4 * npar).astype(np.float64)
    return p, s


def load_into(tnet, p, s):
    """hwnas's flat order: per node, weight then bias (bn: gamma, beta;
    state: running mean, var)."""
    po = so = 0
    with torch.no_grad():
        for name, op, _ins, _at in tnet.nodes:
            key = name.replace(".", "__")
            if key not in tnet.layers:
                continue
            m = tnet.layers[key]
            tensors = [t for t in (getattr(m, "weight", None), getattr(m, "bias", None))
                       if t is not None]
            for t in tensors:
                t.copy_(torch.from_numpy(p[po:po + t.numel()]).reshape(t.shape))
                po += t.numel()
            if isinstance(m, nn.BatchNorm2d):
                for t in (m.running_mean, m.running_var):
                    t.copy_(torch.from_numpy(s[so:so + t.numel()]))
                    so += t.numel()
    assert po == len(p) and so == len(s)


def scored(tnet):
    return [m for m in tnet.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def torch_proxies(tnet, x, y, fresh):
    """fresh(): tnet back to its initial weights and running statistics
    (which the training-mode passes move)."""
    out = {}
    ws = [m.weight for m in scored(tnet)]
    tnet.train()
    loss = nn.functional.cross_entropy(tnet(x), y)
    g = torch.autograd.grad(loss, ws)
    out["grad_norm"] = sum(gi.norm().item() for gi in g)
    out["snip"] = sum((gi * w).abs().sum().item() for gi, w in zip(g, ws))
    # grasp: H g by double backward (Abdelfattah et al.'s code)
    loss = nn.functional.cross_entropy(tnet(x), y)
    gf = torch.autograd.grad(loss, ws, create_graph=True)
    z = sum((a * b.detach()).sum() for a, b in zip(gf, g))
    hg = torch.autograd.grad(z, ws)
    out["grasp"] = -sum((h * w).sum().item() for h, w in zip(hg, ws))
    # jacob_cov
    xi = x.clone().requires_grad_(True)
    tnet(xi).backward(torch.ones(x.shape[0], 4, dtype=x.dtype))
    jac = xi.grad.reshape(x.shape[0], -1).numpy()
    v = np.linalg.eigvalsh(np.corrcoef(jac))
    out["jacob_cov"] = -float(np.sum(np.log(v + 1e-5) + 1.0 / (v + 1e-5)))
    # naswot: Mellor et al.'s hooks on the ReLUs
    K = np.zeros((x.shape[0], x.shape[0]))

    def hook(_m, inp, _out):
        c = (inp[0].detach().reshape(x.shape[0], -1) > 0).double().numpy()
        K[:] += c @ c.T + (1 - c) @ (1 - c).T
    hs = [m.register_forward_hook(hook) for m in tnet.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        tnet(x)
    for h in hs:
        h.remove()
    out["naswot"] = float(np.linalg.slogdet(K)[1])
    # synflow: |parameters and statistics|, batch-norm on running statistics
    fresh()
    with torch.no_grad():
        for t in list(tnet.parameters()) + list(tnet.buffers()):
            if t.is_floating_point():
                t.abs_()
    tnet.eval()
    tnet.zero_grad()
    tnet(torch.ones((1,) + tuple(x.shape[1:]), dtype=x.dtype)).sum().backward()
    out["synflow"] = sum((m.weight.grad * m.weight).sum().item() for m in scored(tnet))
    return out


def write_idx(path, images, labels):
    with open(path + "-images", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", *images.shape) + images.tobytes())
    with open(path + "-labels", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", len(labels)) + labels.tobytes())


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(N_SAMPLES, 8, 8), dtype=np.uint8)
    labels = (np.arange(N_SAMPLES) % 4).astype(np.uint8)
    base = str(tmp_path / "set")
    write_idx(base, images, labels)
    return base


def options(base, extra=""):
    return ('dataset=idx;data_options="images=%s-images;labels=%s-labels";batch=%d;seed=%d%s'
            % (base, base, BATCH, SEED, extra))


@pytest.mark.parametrize("threads", [1, 2])
def test_against_pytorch(data, threads):
    ctx = hwnas.Context(threads=threads)
    est = hwnas.Estimator(ctx, "estimator:zero-cost", options(data))
    assert est.metrics == ["grad_norm", "snip", "grasp", "synflow", "jacob_cov", "naswot"]
    net = hwnas.Net.parse(ctx, NET)
    stream = 7
    got = est.estimate(net, stream=stream)
    # the same minibatch, drawn and normalised as the estimator does
    ds = hwnas.Dataset.load(ctx, "idx", images=data + "-images", labels=data + "-labels")
    mean, std = ds.stats()
    sub = ds.subset(BATCH, "random", seed=SEED)
    sub.normalize(mean, std)
    x, y = sub.batch(list(range(BATCH)))
    # the same initial weights: the candidate's seed, through the weights format
    model = hwnas.Model(ctx, net, seed=candidate_seed(SEED, stream))
    p, s = weights_arrays(model.save_bytes())
    tnet = SpecNet(net.format()).double()
    load_into(tnet, p, s)
    want = torch_proxies(tnet, torch.from_numpy(np.asarray(x, dtype=np.float64)),
                         torch.from_numpy(np.asarray(y, dtype=np.int64)),
                         lambda: load_into(tnet, p, s))
    # float32 engine against float64 torch; grasp by a finite difference
    rtol = {"grad_norm": 1e-4, "snip": 1e-4, "synflow": 1e-4, "jacob_cov": 1e-4,
            "naswot": 1e-9, "grasp": 1e-3}
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=rtol[k]), (k, got[k], v)
    # a second estimate: the same figures; another stream: other weights
    assert est.estimate(net, stream=stream) == got
    assert est.estimate(net, stream=stream + 1)["snip"] != got["snip"]


def test_options_and_errors(data):
    ctx = hwnas.Context(threads=1)
    est = hwnas.Estimator(ctx, "estimator:zero-cost", options(data, ";proxies=naswot,snip"))
    assert est.metrics == ["naswot", "snip"]
    net = hwnas.Net.parse(ctx, NET)
    both = est.estimate(net)
    assert set(both) == {"naswot", "snip"} and all(math.isfinite(v) for v in both.values())
    for bad, words in (("proxies=snip,foo", "unknown proxy 'foo'"),
                       ("proxies=snip,snip", "named twice"),
                       ("proxies=snip,", "trailing"),
                       ("proxies=", "empty"),
                       ("batch=1", "batch"),
                       ("batch=41", "holds 40 samples")):
        with pytest.raises(hwnas.InvalidArgument) as e:
            hwnas.Estimator(ctx, "estimator:zero-cost", options(data, ";" + bad))
        assert words in str(e.value)
    # naswot_pwl: naswot over relu6, leaky_relu and prelu codes too (NET has ReLUs only)
    est2 = hwnas.Estimator(ctx, "estimator:zero-cost", options(data, ";proxies=naswot,naswot_pwl"))
    both = est2.estimate(net)
    assert both["naswot"] == both["naswot_pwl"]
    six = NET.replace("r3 = relu", "r3 = relu6")
    both = est2.estimate(hwnas.Net.parse(ctx, six))
    assert both["naswot_pwl"] > both["naswot"]  # more units, the kernel's diagonal grows
    # a net without ReLUs has no naswot: a per-candidate error that says why
    plain = hwnas.Net.parse(ctx, "hwnas-net 1\nx = input(shape=1x8x8)\nfc = linear(out=4)\n")
    with pytest.raises(hwnas.InvalidArgument) as e:
        est.estimate(plain)
    assert "ReLU" in str(e.value)
    # a net for other images
    other = hwnas.Net.parse(ctx, "hwnas-net 1\nx = input(shape=1x9x9)\nr = relu\n"
                                 "fc = linear(out=4)\n")
    with pytest.raises(hwnas.InvalidArgument) as e:
        est.estimate(other)
    assert "input holds 81" in str(e.value)


def run_search(data, threads):
    """A random search over a small CGP space ranked by zero-cost proxies."""
    ctx = hwnas.Context(threads=threads, seed=4)
    s = hwnas.Search(ctx, "space:cgp", "strategy:random",
                     space_options="rows=1;cols=4;levels_back=2;stem=8;input_size=8;classes=4",
                     objectives="naswot_pwl:max,params:min", evaluations=8, batch=4)
    s.add_estimator("estimator:zero-cost", options(data, ";proxies=synflow,naswot_pwl"))
    s.add_estimator("estimator:cost")
    s.run()
    out = []
    for c in s.candidates():
        m = c["metrics"]
        out.append((c["key"], c["error"], *(None if math.isnan(m[k]) else m[k]
                                             for k in ("synflow", "naswot_pwl"))))
    return out, len(s.front())


def test_search_ranks_by_proxies(data):
    a, front = run_search(data, 1)
    assert len(a) == 8 and front >= 1
    scored = [r for r in a if not r[1]]
    assert scored and all(math.isfinite(r[2]) and math.isfinite(r[3]) for r in scored)
    assert all(r[2] is None for r in a if r[1])
    # every failure is a net the proxies cannot score, and says which proxy
    assert all("naswot" in r[1] or "synflow" in r[1] or "jacob" in r[1] for r in a if r[1])
    # same seed, same archive at any thread count
    b, _ = run_search(data, 2)
    assert a == b
