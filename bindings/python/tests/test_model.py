"""Models from Python: training, evaluation, prediction and weights on a
small separable numpy set, and the reference CNN on a Fashion-MNIST
subset when it is installed."""
import os

import pytest

import hwnas
from hwnas.data import Dataset
from hwnas.model import Model
from hwnas.net import Net

np = pytest.importorskip("numpy")

FMNIST = "/usr/share/datasets/fashion-mnist"

TINY = """hwnas-net 1
x = input(shape=1x6x6)
conv(out=4, k=3, pad=1)
relu
flatten
fc = linear(out=2)
"""


def source_root():
    root = os.environ.get("HWNAS_SOURCE_ROOT")
    if root:
        return root
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=2)


def two_blobs(n, seed):
    """Class 0: the left half bright; class 1: the right half bright."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n).astype(np.int32)
    x = rng.normal(0.0, 0.1, size=(n, 1, 6, 6)).astype(np.float32)
    x[y == 0, :, :, :3] += 1.0
    x[y == 1, :, :, 3:] += 1.0
    return x, y


@pytest.fixture(scope="module")
def blobs(ctx):
    x, y = two_blobs(256, 1)
    xt, yt = two_blobs(100, 2)
    return (Dataset.from_numpy(ctx, x, y, classes=2), Dataset.from_numpy(ctx, xt, yt, classes=2),
            xt, yt)


def test_describe(ctx):
    net = Net.parse(ctx, TINY)
    m = Model(ctx, net, seed=1)
    assert m.classes == 2
    # conv 4*1*9 + 4 biases, linear 144*2 + 2
    assert m.param_count == net.params == 4 * 9 + 4 + 144 * 2 + 2
    assert m.input_shape == (1, 6, 6)
    assert m.net == net and m.net is not net
    net.clear()  # the model has its own copy
    assert len(m.net) == 5
    assert np.isnan(m.train_loss) and np.isnan(m.train_accuracy)
    assert "2 classes" in repr(m)


def test_train_evaluate_predict(ctx, blobs):
    train, test, xt, yt = blobs
    m = Model(ctx, Net.parse(ctx, TINY), seed=3)
    acc0, _, _ = m.evaluate(test)
    events = []
    loss, acc = m.train(train, epochs=3, batch=32, lr=0.1, progress=events.append)
    assert acc == m.train_accuracy and loss == m.train_loss
    batches = [e for e in events if e["event"] == "batch"]
    epochs = [e for e in events if e["event"] == "epoch"]
    assert len(batches) == 3 * 8 and [e["epoch"] for e in epochs] == [0, 1, 2]
    assert all(e["epochs"] == 3 and e["batches"] == 8 for e in batches)
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert epochs[-1]["loss"] == pytest.approx(loss)
    accuracy, test_loss, confusion = m.evaluate(test, batch=16)
    assert accuracy >= 0.95 and accuracy >= acc0
    assert confusion.shape == (2, 2) and confusion.dtype == np.int64
    assert confusion.sum() == 100
    assert confusion.trace() == round(accuracy * 100)
    assert (confusion.sum(axis=1) == np.bincount(yt, minlength=2)).all()
    assert test_loss > 0
    labels = m.predict(xt)
    assert labels.dtype == np.int32 and labels.shape == (100,)
    assert (labels == yt).mean() == pytest.approx(accuracy)
    labels2, probs = m.predict(xt[:, 0], probabilities=True)  # N,H,W works for 1 channel
    assert (labels2 == labels).all()
    assert probs.shape == (100, 2) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert (probs.argmax(axis=1) == labels).all()
    assert m.predict(xt[0]).tolist() == [labels[0]]  # one C,H,W image
    assert m.predict(list(xt[:2].ravel())).tolist() == labels[:2].tolist()
    with pytest.raises(ValueError):
        m.predict(np.zeros((3, 1, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError):
        m.predict(np.zeros((0, 1, 6, 6), dtype=np.float32))


def test_deterministic(ctx, blobs):
    train = blobs[0]
    a = Model(ctx, Net.parse(ctx, TINY), seed=5)
    b = Model(hwnas.Context(threads=1), Net.parse(ctx, TINY), seed=5)
    b_train = Dataset.from_numpy(b._ctx, *two_blobs(256, 1), classes=2)
    a.train(train, "epochs=1;batch=16", seed=2)
    b.train(b_train, epochs=1, batch=16, seed=2)
    assert a.save_bytes() == b.save_bytes()
    c = Model(ctx, Net.parse(ctx, TINY), seed=6)
    assert c.save_bytes() != Model(ctx, Net.parse(ctx, TINY), seed=5).save_bytes()


def test_progress_stops(ctx, blobs):
    train = blobs[0]
    m = Model(ctx, Net.parse(ctx, TINY), seed=1)
    seen = []

    def stop_at_third(p):
        seen.append(p)
        return len(seen) == 3

    with pytest.raises(hwnas.Stopped):
        m.train(train, epochs=2, batch=32, progress=stop_at_third)
    assert len(seen) == 3

    def boom(p):
        raise RuntimeError("enough")

    with pytest.raises(hwnas.Stopped) as e:
        m.train(train, epochs=1, progress=boom)
    assert isinstance(e.value.__cause__, RuntimeError)
    assert str(e.value.__cause__) == "enough"


def test_save_load(ctx, blobs, tmp_path):
    train, test, xt, _ = blobs
    m = Model(ctx, Net.parse(ctx, TINY), seed=1)
    m.train(train, epochs=2, batch=32)
    want = m.evaluate(test)
    path = tmp_path / "tiny.weights.gz"
    m.save(path)
    fresh = Model(ctx, Net.parse(ctx, TINY), seed=9)
    assert fresh.evaluate(test)[1] != want[1]
    fresh.load(path)
    got = fresh.evaluate(test)
    # Same weights; the loss may differ in the last bits because a model's
    # inference plan depends on the batch size of its first forward pass
    # (here the training batch for m, the test set for fresh).
    assert got[0] == want[0] and (got[2] == want[2]).all()
    assert got[1] == pytest.approx(want[1], rel=1e-5)
    assert fresh.save_bytes() == m.save_bytes()
    blob = m.save_bytes()
    other = Model(ctx, Net.parse(ctx, TINY), seed=7)
    other.load_bytes(blob)
    assert other.save_bytes() == blob
    assert (other.predict(xt) == m.predict(xt)).all()
    # all or nothing: a truncated blob leaves the model as it was
    with pytest.raises(hwnas.FormatError) as e:
        other.load_bytes(blob[:len(blob) // 2], name="half")
    assert "half" in str(e.value)
    assert other.save_bytes() == blob
    # weights of another net are refused
    wide = Net.parse(ctx, TINY.replace("out=4", "out=5"))
    with pytest.raises(hwnas.FormatError):
        Model(ctx, wide, seed=1).load(path)
    with pytest.raises(hwnas.NotFound):
        m.load(tmp_path / "missing.gz")


def test_errors(ctx, blobs):
    train = blobs[0]
    m = Model(ctx, Net.parse(ctx, TINY), seed=1)
    with pytest.raises(hwnas.InvalidArgument) as e:
        m.train(train, epochs=0)
    assert "epochs" in str(e.value)
    with pytest.raises(hwnas.InvalidArgument):
        m.train(train, "nosuchoption=1")
    wrong = Dataset.from_numpy(ctx, np.zeros((4, 1, 5, 5), dtype=np.float32),
                               np.zeros(4, dtype=np.int32), classes=2)
    with pytest.raises(hwnas.InvalidArgument):
        m.evaluate(wrong)
    m.close()
    m.close()
    with pytest.raises(ValueError):
        m.predict(np.zeros((1, 1, 6, 6), dtype=np.float32))


def test_fashion_mnist_reference_cnn(ctx):
    if not os.path.isdir(FMNIST):
        pytest.skip("Fashion-MNIST is not installed at %s" % FMNIST)
    train = Dataset.load(ctx, "fashion-mnist", split="train").subset(2000, "stratified", seed=1)
    test = Dataset.load(ctx, "fashion-mnist", split="test").subset(1000, "first")
    net = Net.load(ctx, os.path.join(source_root(), "examples", "nets", "fmnist_ref.net"))
    m = Model(ctx, net, seed=1)
    assert m.classes == 10 and m.input_shape == (1, 28, 28)
    assert m.param_count == net.params
    m.train(train, epochs=2, batch=64, lr=0.05, schedule="constant")
    accuracy, loss, confusion = m.evaluate(test)
    assert accuracy > 0.5  # chance is 0.1
    assert confusion.shape == (10, 10) and confusion.sum() == 1000
    x, y = test.batch(range(50))
    assert ((m.predict(x) == y).mean()) > 0.4


def test_train_checkpoint(ctx, blobs, tmp_path):
    train, _, _, _ = blobs
    net = Net.parse(ctx, TINY)
    opts = dict(epochs=3, batch=32, lr=0.1, seed=5)
    ref = Model(ctx, net, seed=1)
    ref.train(train, **opts)
    ck = tmp_path / "run.tck"
    # stopped after epoch 0, then resumed by a model of other weights
    a = Model(ctx, net, seed=1)
    with pytest.raises(hwnas.Stopped):
        a.train(train, checkpoint=ck, progress=lambda p: p["event"] == "epoch", **opts)
    assert ck.exists()
    b = Model(ctx, net, seed=2)
    events = []
    b.train(train, checkpoint=str(ck), progress=events.append, **opts)
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]
    assert b.save_bytes() == ref.save_bytes()
    assert b.train_loss == ref.train_loss
    # finished: returns at once with the run's weights
    c = Model(ctx, net, seed=3)
    events = []
    c.train(train, checkpoint=ck, progress=events.append, **opts)
    assert events == [] and c.save_bytes() == ref.save_bytes()
    # another recipe is refused by name, the file left as it was
    before = ck.read_bytes()
    with pytest.raises(hwnas.InvalidArgument, match="lr=0.1"):
        c.train(train, checkpoint=ck, **dict(opts, lr=0.05))
    assert ck.read_bytes() == before
    ck.write_bytes(b"not a checkpoint")
    with pytest.raises(hwnas.FormatError, match="run.tck"):
        c.train(train, checkpoint=ck, **opts)
