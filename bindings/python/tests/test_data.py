"""Datasets from Python: real Fashion-MNIST when installed, and numpy-made
data checked value by value."""
import gzip
import os
import struct

import pytest

import hwnas
from hwnas.data import Dataset, Idx, IDX_UBYTE, IDX_FLOAT

FMNIST = "/usr/share/datasets/fashion-mnist"


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=2)


def need_fmnist():
    if not os.path.exists(os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz")):
        pytest.skip("Fashion-MNIST is not installed at %s (apt-get install "
                    "dataset-fashion-mnist)" % FMNIST)


def idx_bytes(type_code, fmt, dims, values):
    head = bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return head + b"".join(struct.pack(">" + fmt, v) for v in values)


# ---- IDX ------------------------------------------------------------------

def test_idx_parse_in_memory(ctx, tmp_path):
    data = idx_bytes(IDX_FLOAT, "f", [2, 3], [0.5, -1.0, 2.0, 3.25, 0.0, 7.0])
    a = Idx.parse(ctx, data, name="mem")
    assert a.type == IDX_FLOAT and a.dtype == "float32"
    assert a.rank == 2 and a.shape == (2, 3) and a.size == 6 and len(a) == 2
    assert list(a.values()) == [0.5, -1.0, 2.0, 3.25, 0.0, 7.0]
    assert list(a.values(2, 2)) == [2.0, 3.25]
    with pytest.raises(hwnas.InvalidArgument):
        a.values(5, 2)
    # the same bytes gzipped in a file
    p = tmp_path / "a.idx.gz"
    p.write_bytes(gzip.compress(data))
    b = Idx.read(ctx, str(p))
    assert b.shape == (2, 3) and list(b.values()) == list(a.values())
    with pytest.raises(hwnas.FormatError) as e:
        Idx.parse(ctx, data[:-1], name="short.idx")
    assert "short.idx" in str(e.value)
    with pytest.raises(hwnas.NotFound):
        Idx.read(ctx, str(tmp_path / "missing.idx"))


def test_idx_numpy(ctx):
    np = pytest.importorskip("numpy")
    data = idx_bytes(IDX_UBYTE, "B", [2, 2, 2], [1, 2, 3, 4, 250, 251, 252, 253])
    a = Idx.parse(ctx, data).to_numpy()
    assert a.dtype == np.uint8 and a.shape == (2, 2, 2)
    assert a[1, 1, 1] == 253 and a[0, 1, 0] == 3


def test_idx_fashion_mnist_labels(ctx):
    need_fmnist()
    a = Idx.read(ctx, os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz"))
    assert a.type == IDX_UBYTE and a.shape == (10000,)
    # the first test labels: ankle boot, pullover, trouser, trouser, shirt
    assert list(a.values(0, 5)) == [9, 2, 1, 1, 6]


# ---- Fashion-MNIST ---------------------------------------------------------

def test_fashion_mnist(ctx):
    need_fmnist()
    test = Dataset.load(ctx, "fashion-mnist", split="test")
    assert len(test) == 10000 and test.shape == (1, 28, 28) and test.classes == 10
    assert test.sample_size == 784
    assert list(test.histogram()) == [1000] * 10
    assert [test.label(i) for i in range(5)] == [9, 2, 1, 1, 6]
    mean, std = test.stats()
    # Fashion-MNIST's test set: mean 0.2868, std 0.3524 (values in [0, 1])
    assert abs(mean[0] - 0.2868) < 1e-3 and abs(std[0] - 0.3524) < 1e-3
    train, val = test.split(0.1, mode="stratified", seed=7)
    assert len(train) == 9000 and len(val) == 1000
    assert list(val.histogram()) == [100] * 10
    x, y = val.batch(range(4))
    assert len(y) == 4
    train.normalize(mean, std)
    m2, s2 = train.stats()  # stats ignore the normalisation
    assert abs(m2[0] - mean[0]) < 0.01
    np = pytest.importorskip("numpy")
    xa, ya = train.batch(np.arange(2000))
    assert xa.shape == (2000, 1, 28, 28) and xa.dtype == np.float32
    assert abs(float(xa.mean())) < 0.05 and abs(float(xa.std()) - 1) < 0.05
    raw, _ = test.batch([0])
    assert raw.min() >= 0 and raw.max() <= 1


def test_load_errors(ctx, tmp_path):
    with pytest.raises(hwnas.NotFound):
        Dataset.load(ctx, "no-such-dataset")
    with pytest.raises(hwnas.NotFound) as e:
        Dataset.load(ctx, "fashion-mnist", dir=str(tmp_path))
    assert "dataset-fashion-mnist" in str(e.value) or str(tmp_path) in str(e.value)
    with pytest.raises(hwnas.InvalidArgument):
        Dataset.load(ctx, "fashion-mnist", split="validation")


def test_idx_dataset_from_files(ctx, tmp_path):
    imgs = idx_bytes(IDX_UBYTE, "B", [3, 2, 2], list(range(12)))
    labs = idx_bytes(IDX_UBYTE, "B", [3], [2, 0, 1])
    (tmp_path / "i.idx").write_bytes(imgs)
    (tmp_path / "l.idx").write_bytes(labs)
    d = Dataset.load(ctx, "idx", images=str(tmp_path / "i.idx"),
                     labels=str(tmp_path / "l.idx"), scale=1)
    assert len(d) == 3 and d.shape == (1, 2, 2) and d.classes == 3
    x, y = d.batch([2, 0])
    assert list(y) == [1, 2]
    flat = [float(v) for v in (x.ravel() if hasattr(x, "ravel") else x)]
    assert flat == [8, 9, 10, 11, 0, 1, 2, 3]


# ---- numpy-made data -------------------------------------------------------

@pytest.fixture
def np():
    return pytest.importorskip("numpy")


def make(np, n=60, c=2, h=4, w=5, classes=3):
    rs = np.random.RandomState(0)
    x = rs.randn(n, c, h, w).astype(np.float32)
    y = (np.arange(n) % classes).astype(np.int64)
    return x, y


def test_from_float_round_trip(ctx, np):
    x, y = make(np)
    d = Dataset.from_numpy(ctx, x, y)
    assert len(d) == 60 and d.shape == (2, 4, 5) and d.classes == 3
    xb, yb = d.to_numpy()
    assert np.array_equal(xb, x) and np.array_equal(yb, y)
    assert np.array_equal(d.labels(), y)
    assert list(d.histogram()) == [20, 20, 20]
    mean, std = d.stats()
    assert np.allclose(mean, x.mean(axis=(0, 2, 3)), atol=1e-6)
    assert np.allclose(std, x.std(axis=(0, 2, 3)), atol=1e-5)
    d.normalize(mean, std)
    xn, _ = d.batch(np.arange(60))
    assert np.allclose(xn, (x - mean[None, :, None, None]) / std[None, :, None, None],
                       atol=1e-5)
    d.normalize()
    assert np.array_equal(d.batch([5])[0][0], x[5])
    with pytest.raises(hwnas.InvalidArgument):
        d.normalize([0, 0], [1, 0])  # std 0
    with pytest.raises(ValueError):
        d.normalize([0], [1])


def test_from_u8(ctx, np):
    x = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10  # N,H,W
    d = Dataset.from_numpy(ctx, x, np.array([1, 0]), scale=0.5)
    assert d.shape == (1, 3, 3) and d.classes == 2
    xb, yb = d.batch([0, 1])
    assert np.allclose(xb[:, 0], x * 0.5) and list(yb) == [1, 0]
    # default scale 1/255
    d2 = Dataset.from_numpy(ctx, x, np.array([1, 0]))
    assert np.allclose(d2.batch([1])[0][0, 0], x[1] / 255.0, atol=1e-6)
    # labels beyond a byte go through the float path
    d3 = Dataset.from_numpy(ctx, x, np.array([300, 0]))
    assert d3.classes == 301 and d3.label(0) == 300


def test_from_numpy_errors(ctx, np):
    x, y = make(np)
    with pytest.raises(hwnas.InvalidArgument):
        Dataset.from_numpy(ctx, x, y, classes=2)  # label 2 >= classes
    bad = x.copy()
    bad[3, 1, 2, 0] = np.nan
    with pytest.raises(hwnas.InvalidArgument):
        Dataset.from_numpy(ctx, bad, y)
    with pytest.raises(ValueError):
        Dataset.from_numpy(ctx, x, y[:5])
    with pytest.raises(ValueError):
        Dataset.from_numpy(ctx, x[0, 0], y[:4])


def test_views(ctx, np):
    x, y = make(np)
    d = Dataset.from_numpy(ctx, x, y)
    first = d.subset(10)
    assert np.array_equal(first.labels(), y[:10])
    r1 = d.subset(30, "random", seed=3)
    r2 = d.subset(30, "random", seed=3)
    assert np.array_equal(r1.to_numpy()[0], r2.to_numpy()[0])
    s = d.subset(30, "stratified", seed=1)
    assert list(s.histogram()) == [10, 10, 10]
    sel = d.select([5, 5, 0])
    xs, ys = sel.to_numpy()
    assert np.array_equal(xs, x[[5, 5, 0]]) and list(ys) == [y[5], y[5], y[0]]
    with pytest.raises(hwnas.InvalidArgument):
        d.select([60])
    with pytest.raises(ValueError):
        d.subset(5, "sideways")
    tr, va = d.split(0.25, mode="random", seed=9)
    assert len(tr) == 45 and len(va) == 15
    both = np.concatenate([tr.to_numpy()[0], va.to_numpy()[0]])
    # a partition: every sample exactly once
    assert sorted(map(bytes, both)) == sorted(map(bytes, x))
    # views outlive their parent
    del d
    assert len(sel) == 3 and np.array_equal(sel.batch([2])[0][0], x[0])
    with pytest.raises(hwnas.InvalidArgument):
        tr.split(1.5)


def test_shuffle_and_augment(ctx, np):
    x, y = make(np, n=20, c=1, h=6, w=6)
    d = Dataset.from_numpy(ctx, x, y)
    o = d.shuffle(seed=1, epoch=0)
    assert sorted(o) == list(range(20))
    assert np.array_equal(o, d.shuffle(seed=1, epoch=0))
    assert not np.array_equal(o, d.shuffle(seed=1, epoch=1))
    plain = d.batch(o)
    same = d.batch_augment(o, pad=0, flip_prob=0.0, seed=5)
    assert np.array_equal(plain[0], same[0]) and np.array_equal(plain[1], same[1])
    flipped, _ = d.batch_augment(np.arange(20), flip_prob=1.0)
    assert np.array_equal(flipped, x[:, :, :, ::-1])
    a1, _ = d.batch_augment([3, 4], pad=2, flip_prob=0.5, seed=8, epoch=2)
    a2, _ = d.batch_augment([4], pad=2, flip_prob=0.5, seed=8, epoch=2)
    assert np.array_equal(a1[1], a2[0])  # per-sample streams
    with pytest.raises(hwnas.InvalidArgument):
        d.batch_augment([0], flip_prob=2.0)
    assert d.batch([])[0].shape == (0, 1, 6, 6)


def test_without_numpy_lists(ctx, monkeypatch):
    import hwnas.data as hd
    monkeypatch.setattr(hd, "_np", None)
    data = idx_bytes(IDX_UBYTE, "B", [2, 1, 2], [0, 255, 51, 102])
    lab = idx_bytes(IDX_UBYTE, "B", [2], [1, 0])
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        open(os.path.join(t, "i"), "wb").write(data)
        open(os.path.join(t, "l"), "wb").write(lab)
        d = Dataset.load(ctx, "idx", images=os.path.join(t, "i"), labels=os.path.join(t, "l"))
    x, y = d.batch([1, 0])
    assert y == [0, 1]
    assert [round(v, 4) for v in x] == [0.2, 0.4, 0.0, 1.0]
    assert d.shuffle(seed=1) in ([0, 1], [1, 0])
    m, s = d.stats()
    assert isinstance(m, list) and len(m) == 1
    with pytest.raises(ImportError):
        Dataset.from_numpy(ctx, [], [])
