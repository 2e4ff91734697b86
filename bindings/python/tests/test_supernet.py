"""Supernets from Python: a path taken out equals space:cell's network with
the same weights, training is deterministic and resumes from a
checkpoint, bad files raise, and estimator:supernet rates by key."""
import pytest

import hwnas
from hwnas.data import Dataset
from hwnas.net import Net
from hwnas.model import Model
from hwnas.space import Space
from hwnas.supernet import Supernet

np = pytest.importorskip("numpy")

OPTS = "channels=4;cells=1;classes=4;input_channels=1;input_size=8"


@pytest.fixture(scope="module")
def ctx():
    return hwnas.Context(threads=2)


def stripes(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n).astype(np.int32)
    x = rng.normal(0.0, 0.1, size=(n, 1, 8, 8)).astype(np.float32)
    for c in range(4):
        x[y == c, :, :, 2 * c:2 * c + 2] += 1.0
    return Dataset.from_numpy(ctx_holder[0], x, y, classes=4), x


ctx_holder = []


@pytest.fixture(scope="module")
def data(ctx):
    ctx_holder.append(ctx)
    return stripes(48, 1)


MACRO = ("input_channels=1;input_size=8;classes=4;stem_channels=4;channels=4,8;"
         "strides=1,2;widths=0.5,1;divisor=2;min_blocks=1;max_blocks=2;head_channels=8")


def check_path(ctx, sn, space, g, x):
    """The supernet's path of g is the space's own network and, with its
    weights copied in, predicts the same bits."""
    assert sn.parse_key(space.format(g)) == g
    sub = sn.subnet(g)
    net = space.decode(g)
    assert sub.net == net
    alone = Model(ctx, net, seed=99)
    alone.load_bytes(sub.save_bytes())
    _, pa = sub.predict(x[:4], probabilities=True)
    _, pb = alone.predict(x[:4], probabilities=True)
    assert np.array_equal(np.asarray(pa), np.asarray(pb))


def test_macro_path_equals_space_network(ctx, data):
    ds, x = data
    sn = Supernet(ctx, "macro", MACRO)
    space = Space(ctx, "macro", MACRO)
    assert sn.cardinalities == [2, 2, 1, 9, 2, 9, 2] * 2
    g = [1, 0, 0, 8, 0, 0, 0, 1, 1, 0, 3, 1, 8, 0]
    check_path(ctx, sn, space, g, x)
    # the sandwich rule with in-place distillation, then a rating
    sn.train(ds, "epochs=1;batch=16;sandwich=1;distill=1")
    acc = sn.rate(g, calib=ds, eval=ds, n_calib=32)
    assert 0.0 <= acc <= 1.0
    with pytest.raises(hwnas.FormatError):
        sn.parse_key("1,2,3")


def test_path_equals_space_network(ctx, data):
    ds, x = data
    sn = Supernet(ctx, "cell", OPTS)
    assert sn.cardinalities == [5] * 6
    space = Space(ctx, "cell", OPTS)
    check_path(ctx, sn, space, [3, 1, 0, 2, 4, 3], x)
    with pytest.raises(hwnas.FormatError):
        sn.parse_key("|bogus~0|")


def test_train_resume_and_rate(ctx, data, tmp_path):
    ds, _ = data
    opts = "epochs=2;batch=8;seed=3;checkpoint_every=5"
    a = Supernet(ctx, "cell", OPTS)
    a.train(ds, opts)
    assert a.steps == (12, 12)
    # stopped at step 7 (a checkpoint written as it stops), then resumed
    ck = tmp_path / "b.snet"
    b = Supernet(ctx, "cell", OPTS)
    with pytest.raises(hwnas.Stopped):
        b.train(ds, opts, checkpoint=ck,
                progress=lambda p: p["event"] == "batch" and p["epoch"] * p["batches"] +
                p["batch"] + 1 == 7)
    r = Supernet.load(ctx, ck)
    assert r.steps == (7, 12)
    with pytest.raises(hwnas.InvalidArgument, match="seed"):
        r.train(ds, "epochs=2;batch=8;seed=4")
    r.train(ds, opts, checkpoint=ck)
    pa, pb = tmp_path / "a.snet", tmp_path / "r.snet"
    a.save(pa)
    r.save(pb)
    assert pa.read_bytes() == pb.read_bytes()
    acc = r.rate([3, 3, 3, 3, 3, 3], calib=ds, eval=ds, n_calib=32)
    assert 0.0 <= acc <= 1.0
    bad = tmp_path / "bad.snet"
    bad.write_bytes(b"HWNASSNT" + b"\0" * 40)
    with pytest.raises(hwnas.FormatError):
        Supernet.load(ctx, bad)
    with pytest.raises(hwnas.NotFound):
        Supernet(ctx, "accelerator")


CGP = "rows=1;cols=4;levels_back=4;input_channels=1;input_size=8;classes=4;stem=4"


def test_cgp_path_equals_space_network(ctx, data):
    ds, x = data
    sn = Supernet(ctx, "cgp", CGP, seed=3)
    assert sn.space == "cgp"
    space = Space(ctx, "cgp", CGP)
    assert len(sn.cardinalities) == 4 * 12 + 2
    rng = np.random.default_rng(7)
    for _ in range(8):
        g = [int(rng.integers(0, c)) for c in sn.cardinalities]
        check_path(ctx, sn, space, g, x)
    sn.train(ds, "epochs=1;batch=16")
    acc = sn.rate(g, calib=ds, eval=ds, n_calib=32)
    assert 0.0 <= acc <= 1.0
    with pytest.raises(hwnas.InvalidArgument):
        sn.train(ds, "epochs=2;batch=16;sandwich=1")
