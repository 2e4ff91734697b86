"""int8 inference from Python: a model trained briefly on a small separable
numpy set, quantised with the exact multiplier, agrees with fp32; crude
multipliers change the results; layers, ranges and errors."""
import pytest

import hwnas
from hwnas.axmul import Axmul, Registry
from hwnas.data import Dataset
from hwnas.model import Model
from hwnas.net import Net
from hwnas.quant import Quant, quant_accuracy

np = pytest.importorskip("numpy")

TINY = """hwnas-net 1
x = input(shape=1x6x6)
conv(out=4, k=3, pad=1)
relu
flatten
fc = linear(out=2)
"""


def two_blobs(n, seed):
    """Class 0: the left half bright; class 1: the right half bright."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n).astype(np.int32)
    x = rng.normal(0.0, 0.1, size=(n, 1, 6, 6)).astype(np.float32)
    x[y == 0, :, :, :3] += 1.0
    x[y == 1, :, :, 3:] += 1.0
    return x, y


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=2)


@pytest.fixture(scope="module")
def trained(ctx):
    x, y = two_blobs(256, 1)
    xt, yt = two_blobs(100, 2)
    train = Dataset.from_numpy(ctx, x, y, classes=2)
    test = Dataset.from_numpy(ctx, xt, yt, classes=2)
    model = Model(ctx, Net.parse(ctx, TINY), seed=3)
    model.train(train, epochs=3, batch=32, lr=0.1)
    return model, train, test, xt, yt


def test_exact_agrees_with_fp32(ctx, trained):
    model, train, test, xt, yt = trained
    fp32 = model.predict(xt)
    q = Quant(model, train, calib_batches=1, batch=64)
    assert q.classes == 2 and q.input_shape == (1, 6, 6)
    labels = q.predict(xt)
    assert labels.dtype == np.int32 and labels.shape == (100,)
    assert (labels == fp32).mean() >= 0.95
    acc, confusion = q.evaluate(test)
    assert acc >= 0.9
    assert confusion.shape == (2, 2) and confusion.dtype == np.int64
    assert confusion.sum() == 100 and confusion.trace() == round(acc * 100)
    assert (labels == yt).mean() == pytest.approx(acc)
    labels2, scores = q.predict(xt, scores=True)
    assert (labels2 == labels).all()
    assert scores.shape == (100, 2) and scores.dtype == np.float32
    assert (scores.argmax(axis=1) == labels).all()
    assert q.predict(xt[0]).tolist() == [labels[0]]  # one C,H,W image
    assert q.predict(xt[:3, 0]).tolist() == labels[:3].tolist()  # N,H,W
    assert q.predict(list(xt[:2].ravel())).tolist() == labels[:2].tolist()
    # the one-call form gives the same accuracy
    assert quant_accuracy(model, train, test, "calib_batches=1;batch=64") == acc


def test_layers(ctx, trained):
    model, train, _, _, _ = trained
    q = Quant(model, train)
    layers = q.layers()
    net = model.net
    assert [layer.node for layer in layers] == [1, 4]  # the conv and the linear
    assert [net.node(layer.node).kind_name for layer in layers] == ["conv2d", "linear"]
    assert q.multipliers() == ["exact", "exact"] and len(q) == 2
    lo, hi = layers[0].range
    assert lo <= 0.0 <= hi and hi > 0.5  # the inputs reach about 1.3
    assert layers[1].range[0] <= 0.0  # relu output: from 0
    assert q.layer(-1).node == 4
    with pytest.raises(IndexError):
        q.layer(2)
    assert "exact" in repr(layers[0]) and "2 int8 layers" in repr(q)


def test_set_multiplier(ctx, trained):
    model, train, test, xt, _ = trained
    q = Quant(model, train)
    exact_scores = q.predict(xt, scores=True)[1]
    exact_acc = q.evaluate(test)[0]
    # a multiplier that keeps only the top bits of each product
    crude = Axmul(ctx, "trunc:t=6")
    assert q.set_multiplier(crude, layer=0) is q
    assert q.multipliers() == [crude.name, "exact"]
    crude_scores = q.predict(xt, scores=True)[1]
    assert not np.allclose(crude_scores, exact_scores)
    # a table that always answers 0: every layer's output is its bias
    zero = Axmul.from_table(ctx, "zero", np.zeros((256, 256), dtype=np.int32))
    q.set_multiplier(zero)
    assert q.multipliers() == ["zero", "zero"]
    zero_scores = q.predict(xt, scores=True)[1]
    assert np.allclose(zero_scores, zero_scores[0])  # the same for every image
    assert q.evaluate(test)[0] < exact_acc
    crude.close()
    zero.close()  # copied: q keeps working
    q.set_multiplier("exact")  # a built-in spec
    assert q.multipliers() == ["exact", "exact"]
    assert np.allclose(q.predict(xt, scores=True)[1], exact_scores)
    # signedness change: the weights are quantised again
    q.set_multiplier("trunc:t=0,signed=1")
    assert q.evaluate(test)[0] >= 0.9


def test_net_multipliers_and_registry(ctx, trained):
    _, train, test, xt, _ = trained
    net = Net.parse(ctx, TINY)
    net.set_multiplier(1, "mine", bits=8)
    model = Model(ctx, net, seed=3)
    model.train(train, epochs=2, batch=32, lr=0.1)
    with pytest.raises(hwnas.NotFound) as e:
        Quant(model, train)
    assert "mine" in str(e.value)
    with pytest.raises(hwnas.NotFound):
        quant_accuracy(model, train, test)
    with pytest.raises(TypeError):
        Quant(model, train, reg="mine")
    reg = Registry(ctx)
    exact_table = np.outer(np.arange(256), np.arange(256)).astype(np.int32)
    reg.add(Axmul.from_table(ctx, "mine", exact_table))
    q = Quant(model, train, reg=reg)
    assert q.multipliers() == ["mine", "exact"]
    acc = quant_accuracy(model, train, test, reg=reg)
    reg.close()  # q has its own copies
    assert q.evaluate(test)[0] == acc
    mine_scores = q.predict(xt, scores=True)[1]
    q.set_multiplier("exact", layer=0)  # the same products under another name
    assert q.multipliers() == ["exact", "exact"]
    assert (q.predict(xt, scores=True)[1] == mine_scores).all()


def test_errors(ctx, trained):
    model, train, _, _, _ = trained
    with pytest.raises(hwnas.InvalidArgument) as e:
        Quant(model, train, weights="sometimes")
    assert "weights" in str(e.value)
    with pytest.raises(hwnas.InvalidArgument):
        Quant(model, train, "nosuchoption=1")
    wrong = Dataset.from_numpy(ctx, np.zeros((4, 1, 5, 5), dtype=np.float32),
                               np.zeros(4, dtype=np.int32), classes=2)
    with pytest.raises(hwnas.InvalidArgument):
        Quant(model, wrong)
    q = Quant(model, train)
    with pytest.raises(hwnas.InvalidArgument):
        q.evaluate(wrong)
    with pytest.raises(hwnas.InvalidArgument):
        q.set_multiplier("exact", layer=5)
    with pytest.raises(hwnas.NotFound) as e:
        q.set_multiplier("nosuchfamily:k=1")
    assert "nosuchfamily" in str(e.value)
    with pytest.raises(ValueError):
        q.predict(np.zeros((2, 1, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError):
        q.predict(np.zeros((0, 1, 6, 6), dtype=np.float32))
    q.close()
    q.close()
    with pytest.raises(ValueError):
        q.layers()


def test_finetune(ctx, trained):
    model, train, test, xt, _ = trained
    # a copy of the trained model: fine-tuning changes the one it gets
    m = Model(ctx, model.net, seed=3)
    m.train(train, epochs=3, batch=32, lr=0.1)
    q = Quant(m, train)
    q.set_multiplier("trunc:t=5")
    before = q.evaluate(test)[0]
    # lr=0: one batch of everything, whose loss is the int8 inference loss
    seen = []
    loss, acc = q.finetune(m, train, epochs=1, batch=256, lr=0,
                           progress=lambda p: seen.append(p))
    assert [p["event"] for p in seen] == ["batch", "epoch"]
    assert seen[0]["loss"] == pytest.approx(loss)
    x, y = two_blobs(256, 1)  # the training set
    _, scores = q.predict(x, scores=True)
    z = scores.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    ce = -(z[np.arange(256), y] - np.log(np.exp(z).sum(axis=1)))
    assert loss == pytest.approx(ce.mean(), rel=1e-9)
    assert q.evaluate(test)[0] == before  # nothing changed
    loss2, _ = q.finetune(m, train, "epochs=3;lr=0.02", batch=32, seed=4)
    assert loss2 < loss
    assert q.evaluate(test)[0] >= before
    assert q.multipliers() == ["trunc:t=5", "trunc:t=5"]
    with pytest.raises(hwnas.Stopped):
        q.finetune(m, train, epochs=1, progress=lambda p: True)
    with pytest.raises(hwnas.InvalidArgument) as e:
        q.finetune(m, train, epochs=-1)
    assert "epochs" in str(e.value)
    with pytest.raises(TypeError):
        q.finetune("model", train)
    other = Model(ctx, Net.parse(ctx, TINY.replace("out=4", "out=3")), seed=1)
    with pytest.raises(hwnas.InvalidArgument):
        q.finetune(other, train)
