"""Datasets (data.h): IDX files, in-memory sets, splits, batches,
augmentation.

Images are float32 in N,C,H,W order with int32 labels. Batches, orders and
statistics come back as numpy arrays when numpy is installed (lists
otherwise); Dataset.from_numpy needs numpy.

    train = Dataset.load(ctx, "fashion-mnist", split="train")
    tr, val = train.split(0.1, seed=1)
    mean, std = tr.stats()
    for d in (tr, val):
        d.normalize(mean, std)
    x, y = tr.batch(tr.shuffle(seed=1, epoch=0)[:128])
"""
import ctypes

from . import _native
from ._native import lib, encode, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Handle, _options_text
from .errors import check

try:
    import numpy as _np
except ImportError:  # everything but from_numpy works without numpy
    _np = None

c_int32, c_uint8, c_uint64, c_double, c_float = (ctypes.c_int32, ctypes.c_uint8,
                                                 ctypes.c_uint64, ctypes.c_double,
                                                 ctypes.c_float)

_d = _native._declare
_d("hwnas_idx_read", c_int, P(c_void_p), c_void_p, c_char_p)
_d("hwnas_idx_parse", c_int, P(c_void_p), c_void_p, c_void_p, c_size_t, c_char_p)
_d("hwnas_idx_free", None, c_void_p)
_d("hwnas_idx_type", c_int, c_void_p)
_d("hwnas_idx_rank", c_size_t, c_void_p)
_d("hwnas_idx_dim", c_size_t, c_void_p, c_size_t)
_d("hwnas_idx_size", c_size_t, c_void_p)
_d("hwnas_idx_data", c_void_p, c_void_p)
_d("hwnas_idx_get_double", c_int, P(c_double), c_void_p, c_size_t, c_size_t)
_d("hwnas_dataset_load", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_dataset_from_float", c_int, P(c_void_p), c_void_p, c_void_p, c_void_p, c_size_t,
   c_size_t, c_size_t, c_size_t, c_size_t)
_d("hwnas_dataset_from_u8", c_int, P(c_void_p), c_void_p, c_void_p, c_void_p, c_size_t,
   c_size_t, c_size_t, c_size_t, c_double, c_size_t)
_d("hwnas_dataset_free", None, c_void_p)
for _f in ("count", "channels", "height", "width", "sample_size", "classes"):
    _d("hwnas_dataset_" + _f, c_size_t, c_void_p)
_d("hwnas_dataset_label", c_int32, c_void_p, c_size_t)
_d("hwnas_dataset_histogram", c_int, P(c_size_t), c_void_p)
_d("hwnas_dataset_subset", c_int, P(c_void_p), c_void_p, c_size_t, c_int, c_uint64)
_d("hwnas_dataset_select", c_int, P(c_void_p), c_void_p, P(c_size_t), c_size_t)
_d("hwnas_dataset_split", c_int, P(c_void_p), P(c_void_p), c_void_p, c_double, c_int,
   c_uint64)
_d("hwnas_dataset_stats", c_int, P(c_double), P(c_double), c_void_p)
_d("hwnas_dataset_normalize", c_int, c_void_p, P(c_double), P(c_double))
_d("hwnas_dataset_shuffle", c_int, P(c_size_t), c_void_p, c_uint64, c_uint64)
_d("hwnas_dataset_batch", c_int, c_void_p, c_void_p, c_void_p, P(c_size_t), c_size_t)
_d("hwnas_dataset_batch_augment", c_int, c_void_p, c_void_p, c_void_p, P(c_size_t), c_size_t,
   c_size_t, c_double, c_uint64, c_uint64)

# IDX element types (the third byte of the magic number).
IDX_UBYTE, IDX_SBYTE, IDX_SHORT, IDX_INT, IDX_FLOAT, IDX_DOUBLE = (0x08, 0x09, 0x0B, 0x0C,
                                                                    0x0D, 0x0E)
_IDX_CTYPES = {IDX_UBYTE: ctypes.c_uint8, IDX_SBYTE: ctypes.c_int8, IDX_SHORT: ctypes.c_int16,
               IDX_INT: ctypes.c_int32, IDX_FLOAT: ctypes.c_float, IDX_DOUBLE: ctypes.c_double}
_IDX_DTYPES = {IDX_UBYTE: "uint8", IDX_SBYTE: "int8", IDX_SHORT: "int16", IDX_INT: "int32",
               IDX_FLOAT: "float32", IDX_DOUBLE: "float64"}

# Ways of choosing samples.
FIRST, RANDOM, STRATIFIED = 0, 1, 2
_MODES = {"first": FIRST, "random": RANDOM, "stratified": STRATIFIED}


def _mode(mode):
    if isinstance(mode, str):
        try:
            return _MODES[mode]
        except KeyError:
            raise ValueError("mode must be one of %s, got %r" % (", ".join(_MODES), mode))
    return int(mode)


def _positions(positions):
    """A C size_t array and its length from a sequence of positions."""
    if _np is not None and isinstance(positions, _np.ndarray):
        if positions.ndim != 1:
            raise ValueError("positions must be 1-D")
        if positions.size and positions.min() < 0:
            raise ValueError("positions must be >= 0")
        a = _np.ascontiguousarray(positions, dtype=_np.uintp)
        return a.ctypes.data_as(P(c_size_t)), a.size, a
    pos = [int(p) for p in positions]
    if any(p < 0 for p in pos):
        raise ValueError("positions must be >= 0")
    buf = (c_size_t * max(len(pos), 1))(*pos)
    return buf, len(pos), buf


def _array(buf, n, dtype):
    if _np is not None:
        return _np.ctypeslib.as_array(buf)[:n].astype(dtype, copy=True)
    return list(buf[:n])


class Idx:
    """An IDX array (MNIST's file format): Idx.read(ctx, path) or
    Idx.parse(ctx, data). shape, type, and to_numpy() / values()."""

    def __init__(self, ctx, _ptr):
        self._ctx, self._ptr = ctx, _ptr
        ctx._adopt(self)  # freed before the context, whatever the GC order

    @classmethod
    def read(cls, ctx, path):
        """Read an IDX file (plain or gzip)."""
        ptr = c_void_p()
        check(lib.hwnas_idx_read(ctypes.byref(ptr), ctx._ptr, encode(str(path))))
        return cls(ctx, ptr)

    @classmethod
    def parse(cls, ctx, data, name=None):
        """Parse IDX bytes held in memory (not compressed)."""
        data = bytes(data)
        ptr = c_void_p()
        check(lib.hwnas_idx_parse(ctypes.byref(ptr), ctx._ptr, data, len(data), encode(name)))
        return cls(ctx, ptr)

    def close(self):
        if self._ptr:
            lib.hwnas_idx_free(self._ptr)
            self._ptr = None

    def __del__(self):
        self.close()

    @property
    def type(self):
        """The IDX element type (IDX_UBYTE, ...)."""
        return lib.hwnas_idx_type(self._ptr)

    @property
    def dtype(self):
        """The element type as a numpy dtype name ("uint8", ...)."""
        return _IDX_DTYPES[self.type]

    @property
    def rank(self):
        return lib.hwnas_idx_rank(self._ptr)

    @property
    def shape(self):
        return tuple(lib.hwnas_idx_dim(self._ptr, i) for i in range(self.rank))

    @property
    def size(self):
        """Total number of elements."""
        return lib.hwnas_idx_size(self._ptr)

    def __len__(self):
        return lib.hwnas_idx_dim(self._ptr, 0)

    def _raw(self):
        n = self.size
        ct = _IDX_CTYPES[self.type]
        return ctypes.cast(lib.hwnas_idx_data(self._ptr), P(ct * n)).contents

    def to_numpy(self):
        """A copy of the elements as a numpy array of the file's shape and
        element type."""
        if _np is None:
            raise ImportError("Idx.to_numpy needs numpy")
        if self.size == 0:
            return _np.zeros(self.shape, dtype=self.dtype)
        return _np.ctypeslib.as_array(self._raw()).reshape(self.shape).copy()

    def values(self, first=0, n=None):
        """n elements from element first, converted to float (a numpy
        float64 array, or a list)."""
        if n is None:
            n = self.size - first
        buf = (c_double * max(n, 1))()
        check(lib.hwnas_idx_get_double(buf, self._ptr, first, n))
        return _array(buf, n, "float64")

    def __repr__(self):
        return "Idx(%s, shape=%r)" % (self.dtype, self.shape)


class Dataset(Handle):
    """A list of images (float32, C x H x W) with int32 labels (data.h).

    Dataset.load(ctx, "fashion-mnist", split="test"), Dataset.load(ctx,
    "idx", images=..., labels=...), or Dataset.from_numpy(ctx, x, y).
    Subsets and splits are views sharing the samples; each has its own
    normalisation. Everything random takes an explicit seed.
    """

    def __init__(self, ctx, _ptr):
        self._ctx, self._ptr = ctx, _ptr
        ctx._adopt(self)  # freed before the context, whatever the GC order

    @classmethod
    def load(cls, ctx, name="fashion-mnist", options=None, **kwargs):
        """Load a named dataset; options as "key=value;..." and/or keyword
        arguments (split="test", dir=..., scale=...)."""
        ptr = c_void_p()
        check(lib.hwnas_dataset_load(ctypes.byref(ptr), ctx._ptr, encode(name),
                                     encode(_options_text(options, kwargs) or None)))
        return cls(ctx, ptr)

    @classmethod
    def from_numpy(cls, ctx, images, labels, classes=0, scale=1.0 / 255):
        """A dataset copied from numpy arrays.

        images: N,C,H,W (or N,H,W for one channel); uint8 values are
        multiplied by scale (default 1/255), anything else is converted
        to float32 as is. labels: N integers in [0, classes); classes=0
        means the largest label + 1.
        """
        if _np is None:
            raise ImportError("Dataset.from_numpy needs numpy")
        x = _np.asarray(images)
        y = _np.asarray(labels)
        if x.ndim == 3:
            x = x[:, None, :, :]
        if x.ndim != 4:
            raise ValueError("images must be N,C,H,W or N,H,W, got shape %r" % (x.shape,))
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise ValueError("labels must be 1-D with one label per image (%d), got shape %r"
                             % (x.shape[0], y.shape))
        if y.size and not _np.issubdtype(y.dtype, _np.integer):
            raise ValueError("labels must be integers, got %s" % y.dtype)
        n, c, h, w = x.shape
        ptr = c_void_p()
        if x.dtype == _np.uint8 and (y.size == 0 or (y.min() >= 0 and y.max() <= 255)):
            xa = _np.ascontiguousarray(x)
            ya = _np.ascontiguousarray(y, dtype=_np.uint8)
            check(lib.hwnas_dataset_from_u8(ctypes.byref(ptr), ctx._ptr, xa.ctypes.data,
                                            ya.ctypes.data, n, c, h, w, float(scale),
                                            int(classes)))
        else:
            if x.dtype == _np.uint8:
                x = x.astype(_np.float32) * _np.float32(scale)
            xa = _np.ascontiguousarray(x, dtype=_np.float32)
            if y.size and (y.min() < -2**31 or y.max() >= 2**31):
                raise ValueError("a label does not fit int32")
            ya = _np.ascontiguousarray(y, dtype=_np.int32)
            check(lib.hwnas_dataset_from_float(ctypes.byref(ptr), ctx._ptr, xa.ctypes.data,
                                               ya.ctypes.data, n, c, h, w, int(classes)))
        return cls(ctx, ptr)

    def close(self):
        """Free this dataset (its views stay valid)."""
        if self._ptr:
            lib.hwnas_dataset_free(self._ptr)
            self._ptr = None


    # ---- shape ------------------------------------------------------

    def __len__(self):
        return lib.hwnas_dataset_count(self._ptr)

    @property
    def count(self):
        return lib.hwnas_dataset_count(self._ptr)

    @property
    def channels(self):
        return lib.hwnas_dataset_channels(self._ptr)

    @property
    def height(self):
        return lib.hwnas_dataset_height(self._ptr)

    @property
    def width(self):
        return lib.hwnas_dataset_width(self._ptr)

    @property
    def shape(self):
        """One image's shape (C, H, W)."""
        return (self.channels, self.height, self.width)

    @property
    def sample_size(self):
        """Floats per image."""
        return lib.hwnas_dataset_sample_size(self._ptr)

    @property
    def classes(self):
        return lib.hwnas_dataset_classes(self._ptr)

    def label(self, i):
        """Label of sample i (IndexError out of range)."""
        if not 0 <= i < len(self):
            raise IndexError("sample %d of %d" % (i, len(self)))
        return lib.hwnas_dataset_label(self._ptr, i)

    def labels(self):
        """Every label, in order."""
        _, y = self.batch(range(len(self)), images=False)
        return y

    def histogram(self):
        """Number of samples of each class."""
        k = self.classes
        buf = (c_size_t * max(k, 1))()
        check(lib.hwnas_dataset_histogram(buf, self._ptr))
        return _array(buf, k, "int64")

    def __repr__(self):
        return "Dataset(%d samples, %dx%dx%d, %d classes)" % ((len(self),) + self.shape
                                                              + (self.classes,))

    # ---- views ------------------------------------------------------

    def subset(self, n, mode="first", seed=0):
        """A view of n samples: "first", "random" or "stratified" (the
        chosen samples keep their order)."""
        ptr = c_void_p()
        check(lib.hwnas_dataset_subset(ctypes.byref(ptr), self._ptr, int(n), _mode(mode),
                                       int(seed)))
        return Dataset(self._ctx, ptr)

    def select(self, positions):
        """A view of the samples at positions, in that order."""
        buf, n, _keep = _positions(positions)
        ptr = c_void_p()
        check(lib.hwnas_dataset_select(ctypes.byref(ptr), self._ptr, buf, n))
        return Dataset(self._ctx, ptr)

    def split(self, val_fraction, mode="stratified", seed=0):
        """(train, validation) views; round(count * val_fraction) samples
        go to validation. mode: "random" or "stratified"."""
        a, b = c_void_p(), c_void_p()
        check(lib.hwnas_dataset_split(ctypes.byref(a), ctypes.byref(b), self._ptr,
                                      float(val_fraction), _mode(mode), int(seed)))
        return Dataset(self._ctx, a), Dataset(self._ctx, b)

    # ---- normalisation ----------------------------------------------

    def stats(self):
        """(mean, std) per channel of the stored values (ignoring any
        normalisation set on this dataset)."""
        c = self.channels
        m, s = (c_double * max(c, 1))(), (c_double * max(c, 1))()
        check(lib.hwnas_dataset_stats(m, s, self._ptr))
        return _array(m, c, "float64"), _array(s, c, "float64")

    def normalize(self, mean=None, std=None):
        """Deliver (x - mean[c]) / std[c]; mean=std=None removes it. Not
        thread-safe with other calls on this dataset."""
        if mean is None and std is None:
            check(lib.hwnas_dataset_normalize(self._ptr, None, None))
            return
        if mean is None or std is None:
            raise ValueError("give both mean and std, or neither")
        c = self.channels
        mean, std = [float(v) for v in mean], [float(v) for v in std]
        if len(mean) != c or len(std) != c:
            raise ValueError("mean and std need %d values each" % c)
        check(lib.hwnas_dataset_normalize(self._ptr, (c_double * c)(*mean),
                                          (c_double * c)(*std)))

    # ---- epochs and batches -----------------------------------------

    def shuffle(self, seed=0, epoch=0):
        """A permutation of range(count) for one training epoch."""
        n = len(self)
        buf = (c_size_t * max(n, 1))()
        check(lib.hwnas_dataset_shuffle(buf, self._ptr, int(seed), int(epoch)))
        return _array(buf, n, "int64")

    def _out(self, n, images, labels):
        if _np is not None:
            x = _np.empty((n,) + self.shape, dtype=_np.float32) if images else None
            y = _np.empty(n, dtype=_np.int32) if labels else None
            xp = x.ctypes.data if x is not None and n else None
            yp = y.ctypes.data if y is not None and n else None
            return x, y, xp, yp
        x = (c_float * max(n * self.sample_size, 1))() if images else None
        y = (c_int32 * max(n, 1))() if labels else None
        return x, y, (ctypes.addressof(x) if x is not None else None), \
            (ctypes.addressof(y) if y is not None else None)

    def _finish(self, x, y, n):
        if _np is None:
            if x is not None:
                x = list(x[:n * self.sample_size])
            if y is not None:
                y = list(y[:n])
        return x, y

    def batch(self, positions, images=True, labels=True):
        """(images, labels) of the samples at positions: a float32 array
        N,C,H,W (normalised if this dataset is) and an int32 array (flat
        lists without numpy). images=False or labels=False skips one
        (None in its place)."""
        buf, n, _keep = _positions(positions)
        x, y, xp, yp = self._out(n, images, labels)
        if n:
            check(lib.hwnas_dataset_batch(xp, yp, self._ptr, buf, n))
        return self._finish(x, y, n)

    def batch_augment(self, positions, pad=0, flip_prob=0.0, seed=0, epoch=0):
        """batch() with random crops (pad zeros each side, crop back) and
        left-right flips with probability flip_prob, drawn per sample from
        (seed, epoch, position)."""
        buf, n, _keep = _positions(positions)
        x, y, xp, yp = self._out(n, True, True)
        if n:
            check(lib.hwnas_dataset_batch_augment(xp, yp, self._ptr, buf, n, int(pad),
                                                  float(flip_prob), int(seed), int(epoch)))
        return self._finish(x, y, n)

    def to_numpy(self):
        """All images and labels: batch(range(count))."""
        return self.batch(range(len(self)))
