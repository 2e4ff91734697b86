"""Latency look-up tables (latency_lut.h): per-layer latencies.

A LatencyLut maps layer keys ("conv in=16x32x32 out=32x16x16 k=3x3 ...",
doc/formats/latency-lut.md) to latencies in ms; a net's predicted latency
is the sum of its layers' entries plus a per-net overhead.

    lut = LatencyLut.load(ctx, "phone.lut")
    lut.predict(net)                     # ms
    lut.predict(net, missing="nearest")
    lut["relu in=16x32x32 out=16x32x32"] = 0.005
    lut.profile(net, warmup=3, repeats=15)   # measure this host's layers
    layer_key(net, 3)                     # the key of node 3

Building (set, profile, load) is not thread-safe; reading is.
"""
import ctypes

from . import _native
from ._native import lib, encode, decode, take_string, c_int, c_char_p, c_void_p, c_size_t, P
from .errors import check, NotFound, ENOTFOUND
from .core import Handle

c_double, c_uint32 = ctypes.c_double, ctypes.c_uint32

MISSING_ERROR, MISSING_NEAREST, MISSING_INTERPOLATE, MISSING_SCALE = 0, 1, 2, 3
_MISSING = {"error": MISSING_ERROR, "nearest": MISSING_NEAREST,
            "interpolate": MISSING_INTERPOLATE, "scale": MISSING_SCALE}

_d = _native._declare
_d("hwnas_latency_lut_new", c_int, P(c_void_p), c_void_p)
_d("hwnas_latency_lut_free", None, c_void_p)
_d("hwnas_latency_lut_load", c_int, P(c_void_p), c_void_p, c_char_p)
_d("hwnas_latency_lut_parse", c_int, P(c_void_p), c_void_p, c_char_p, c_size_t, c_char_p)
_d("hwnas_latency_lut_format", c_int, c_void_p, P(c_void_p))
_d("hwnas_latency_lut_save", c_int, c_void_p, c_char_p)
_d("hwnas_latency_lut_count", c_size_t, c_void_p)
_d("hwnas_latency_lut_key", c_char_p, c_void_p, c_size_t)
_d("hwnas_latency_lut_value", c_double, c_void_p, c_size_t)
_d("hwnas_latency_lut_set", c_int, c_void_p, c_char_p, c_double)
_d("hwnas_latency_lut_get", c_int, P(c_double), c_void_p, c_char_p)
_d("hwnas_latency_lut_overhead", c_double, c_void_p)
_d("hwnas_latency_lut_set_overhead", c_int, c_void_p, c_double)
_d("hwnas_latency_lut_device", c_char_p, c_void_p)
_d("hwnas_latency_lut_set_device", c_int, c_void_p, c_char_p)
_d("hwnas_latency_lut_layer_key", c_int, P(c_void_p), c_void_p, c_size_t)
_d("hwnas_latency_lut_predict", c_int, P(c_double), c_void_p, c_void_p, c_int)
_d("hwnas_latency_lut_profile", c_int, c_void_p, c_void_p, c_uint32, c_uint32)
_d("hwnas_latency_lut_measure", c_int, P(c_double), c_void_p, c_void_p, c_uint32, c_uint32)
_d("hwnas_latency_model_new", c_int, P(c_void_p), c_void_p, c_void_p, c_char_p)
_d("hwnas_latency_model_free", None, c_void_p)
_d("hwnas_latency_model_add", c_int, c_void_p, c_void_p, c_double)
_d("hwnas_latency_model_add_features", c_int, c_void_p, P(c_double), c_double)
_d("hwnas_latency_model_count", c_size_t, c_void_p)
_d("hwnas_latency_model_fit", c_int, c_void_p)
_d("hwnas_latency_model_predict", c_int, P(c_double), c_void_p, c_void_p)
_d("hwnas_latency_model_predict_features", c_int, P(c_double), c_void_p, P(c_double))
_d("hwnas_latency_model_features", c_int, P(c_double), c_void_p, c_void_p)
_d("hwnas_latency_model_format", c_int, c_void_p, P(c_void_p))
_d("hwnas_latency_model_save", c_int, c_void_p, c_char_p)
_d("hwnas_latency_model_load", c_int, P(c_void_p), c_void_p, c_char_p)
_d("hwnas_latency_model_parse", c_int, P(c_void_p), c_void_p, c_char_p, c_size_t, c_char_p)

#: Features per net of a latency model (format version 1).
MODEL_FEATURES = 23


def _missing(missing):
    if isinstance(missing, str):
        try:
            return _MISSING[missing]
        except KeyError:
            raise ValueError("missing must be one of %s, got %r"
                             % ("|".join(_MISSING), missing)) from None
    return int(missing)


def layer_key(net, i):
    """The canonical LUT key of node i of net (an hwnas.Net)."""
    out = c_void_p()
    check(lib.hwnas_latency_lut_layer_key(ctypes.byref(out), net._live(), int(i)))
    return take_string(out)


def layer_keys(net):
    """The keys of every node of net, in node order."""
    return [layer_key(net, i) for i in range(len(net))]


def measure(ctx, net, warmup=3, repeats=15):
    """net's end-to-end latency in ms on this host (fp32 engine, batch 1,
    ctx's threads): the median of `repeats` passes after `warmup`."""
    out = c_double()
    check(lib.hwnas_latency_lut_measure(ctypes.byref(out), ctx._ptr, net._live(), int(warmup),
                                        int(repeats)))
    return out.value


class LatencyLut(Handle):
    """A latency LUT. LatencyLut(ctx) is empty (overhead 0); load() and
    parse() read the file format. Works as a mapping key -> ms: len(),
    iteration over keys, lut[key], lut[key] = ms, `key in lut`."""

    def __init__(self, ctx, _ptr=None):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = None
        if _ptr is None:
            ptr = c_void_p()
            check(lib.hwnas_latency_lut_new(ctypes.byref(ptr), ctx._ptr))
            _ptr = ptr
        self._ptr = _ptr

    @classmethod
    def load(cls, ctx, path):
        """Read a LUT file (gzip read transparently)."""
        ptr = c_void_p()
        check(lib.hwnas_latency_lut_load(ctypes.byref(ptr), ctx._ptr, encode(str(path))))
        return cls(ctx, _ptr=ptr)

    @classmethod
    def parse(cls, ctx, text, name=None):
        """Parse LUT text (str or bytes); name is used in error messages
        ("name:line: ...")."""
        data = encode(text)
        ptr = c_void_p()
        check(lib.hwnas_latency_lut_parse(ctypes.byref(ptr), ctx._ptr, data, len(data),
                                          encode(name)))
        return cls(ctx, _ptr=ptr)

    def close(self):
        if self._ptr:
            if self._ctx._ptr:  # a context finalised first has taken the allocator
                lib.hwnas_latency_lut_free(self._ptr)
            self._ptr = None


    def _live(self):
        if not self._ptr:
            raise ValueError("this latency LUT is closed")
        return self._ptr

    # ---- text -------------------------------------------------------

    def format(self):
        """The LUT in the file format, entries sorted by key."""
        out = c_void_p()
        check(lib.hwnas_latency_lut_format(self._live(), ctypes.byref(out)))
        return take_string(out)

    def __str__(self):
        return self.format()

    def save(self, path):
        """Write atomically (gzip when path ends in .gz)."""
        check(lib.hwnas_latency_lut_save(self._live(), encode(str(path))))

    # ---- entries ----------------------------------------------------

    def __len__(self):
        return lib.hwnas_latency_lut_count(self._live())

    def key(self, i):
        """Entry i's canonical key (in the order added or read)."""
        if not 0 <= i < len(self):
            raise IndexError("entry %d of %d" % (i, len(self)))
        return decode(lib.hwnas_latency_lut_key(self._ptr, i))

    def value(self, i):
        """Entry i's latency in ms."""
        if not 0 <= i < len(self):
            raise IndexError("entry %d of %d" % (i, len(self)))
        return lib.hwnas_latency_lut_value(self._ptr, i)

    def keys(self):
        return [self.key(i) for i in range(len(self))]

    def items(self):
        return [(self.key(i), self.value(i)) for i in range(len(self))]

    def to_dict(self):
        return dict(self.items())

    def __iter__(self):
        return iter(self.keys())

    def set(self, key, ms):
        """Set the latency (ms, finite, >= 0) of a layer key (fields in any
        order; stored canonically), replacing an equal key."""
        check(lib.hwnas_latency_lut_set(self._live(), encode(key), float(ms)))

    def get(self, key, default=None):
        """The latency of key, or default when the LUT has no such entry
        (a malformed key raises hwnas.InvalidArgument)."""
        try:
            return self[key]
        except NotFound:
            return default

    def __getitem__(self, key):
        """The latency of key; hwnas.NotFound (a LookupError) when absent,
        its message giving the canonical key."""
        out = c_double()
        check(lib.hwnas_latency_lut_get(ctypes.byref(out), self._live(), encode(key)))
        return out.value

    __setitem__ = set

    def __contains__(self, key):
        out = c_double()
        rc = lib.hwnas_latency_lut_get(ctypes.byref(out), self._live(), encode(key))
        if rc == ENOTFOUND:
            return False
        check(rc)
        return True

    @property
    def overhead(self):
        """The per-net term in ms (may be negative: it is fitted)."""
        return lib.hwnas_latency_lut_overhead(self._live())

    @overhead.setter
    def overhead(self, ms):
        check(lib.hwnas_latency_lut_set_overhead(self._live(), float(ms)))

    @property
    def device(self):
        """The device line ("" when none)."""
        return decode(lib.hwnas_latency_lut_device(self._live()))

    @device.setter
    def device(self, text):
        check(lib.hwnas_latency_lut_set_device(self._live(), encode(text)))

    # ---- nets -------------------------------------------------------

    def predict(self, net, missing="error"):
        """net's predicted latency in ms: its layers' entries plus the
        overhead. missing: "error" (hwnas.NotFound naming the node and its
        key), "nearest", "interpolate" or "scale" (or MISSING_*)."""
        out = c_double()
        check(lib.hwnas_latency_lut_predict(ctypes.byref(out), self._live(), net._live(),
                                            _missing(missing)))
        return out.value

    def profile(self, net, warmup=3, repeats=15):
        """Measure every layer of net on this host and add them; the overhead
        is refitted. Returns self."""
        check(lib.hwnas_latency_lut_profile(self._live(), net._live(), int(warmup),
                                            int(repeats)))
        return self

    def __repr__(self):
        if not self._ptr:
            return "LatencyLut(<closed>)"
        dev = self.device
        return "LatencyLut(%d entries, overhead=%.4g ms%s)" % (
            len(self), self.overhead, (", device=%r" % dev) if dev else "")


class LatencyModel(Handle):
    """A learned latency model (latency_lut.h, doc/formats/latency-model.md):
    a regression from features of a net (MACs, parameters, activations,
    layer counts per kind, optionally a LUT's sum) to its measured latency.

        m = LatencyModel(ctx, lut=None, options="predictor=gbrt")
        m.add(net, 3.2)            # a net measured anywhere, in ms
        m.fit()
        m.predict(other)           # ms
        m.save("phone.model")      # estimator:latency_model reads it

    lut (a LatencyLut or None) is copied; options as the C options string
    ("predictor=gbrt|mlp|gp|none;base=linear|none;ridge=auto;missing=...")
    or keyword arguments. fit/add need the model to themselves; a fitted
    model predicts from many threads."""

    def __init__(self, ctx, lut=None, options=None, _ptr=None, **kwargs):
        self._ctx = ctx
        ctx._adopt(self)
        self._ptr = None
        if _ptr is None:
            parts = [options] if options else []
            for k, v in kwargs.items():
                v = str(v)
                if ";" in v:
                    v = '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
                parts.append("%s=%s" % (k, v))
            ptr = c_void_p()
            check(lib.hwnas_latency_model_new(ctypes.byref(ptr), ctx._ptr,
                                              lut._live() if lut is not None else None,
                                              encode(";".join(parts))))
            _ptr = ptr
        self._ptr = _ptr

    @classmethod
    def load(cls, ctx, path):
        """Read a model file (gzip read transparently); it is fitted when it
        holds two nets or more."""
        ptr = c_void_p()
        check(lib.hwnas_latency_model_load(ctypes.byref(ptr), ctx._ptr, encode(str(path))))
        return cls(ctx, _ptr=ptr)

    @classmethod
    def parse(cls, ctx, text, name=None):
        """Parse model text (str or bytes); name is used in error messages."""
        data = encode(text)
        ptr = c_void_p()
        check(lib.hwnas_latency_model_parse(ctypes.byref(ptr), ctx._ptr, data, len(data),
                                            encode(name)))
        return cls(ctx, _ptr=ptr)

    def close(self):
        if self._ptr:
            if self._ctx._ptr:
                lib.hwnas_latency_model_free(self._ptr)
            self._ptr = None

    def _live(self):
        if not self._ptr:
            raise ValueError("this latency model is closed")
        return self._ptr

    def __len__(self):
        """Measured nets added (or read)."""
        return lib.hwnas_latency_model_count(self._live())

    @staticmethod
    def _vector(f):
        f = [float(v) for v in f]
        if len(f) != MODEL_FEATURES:
            raise ValueError("a feature vector has %d numbers, got %d" % (MODEL_FEATURES, len(f)))
        return (c_double * MODEL_FEATURES)(*f)

    def add(self, net, ms):
        """Add a measured net (an hwnas.Net, or a feature vector of
        MODEL_FEATURES numbers) with its latency in ms (> 0). Returns self."""
        if isinstance(net, (list, tuple)):
            check(lib.hwnas_latency_model_add_features(self._live(), self._vector(net),
                                                       float(ms)))
        else:
            check(lib.hwnas_latency_model_add(self._live(), net._live(), float(ms)))
        return self

    def fit(self):
        """Fit on every net added (two or more; hwnas.StateError otherwise).
        Returns self."""
        check(lib.hwnas_latency_model_fit(self._live()))
        return self

    def predict(self, net):
        """The predicted latency in ms of an hwnas.Net or a feature vector;
        a list of them gives a list."""
        if isinstance(net, list) and net and not isinstance(net[0], (int, float)):
            return [self.predict(n) for n in net]
        out = c_double()
        if isinstance(net, (list, tuple)):
            check(lib.hwnas_latency_model_predict_features(ctypes.byref(out), self._live(),
                                                           self._vector(net)))
        else:
            check(lib.hwnas_latency_model_predict(ctypes.byref(out), self._live(), net._live()))
        return out.value

    def features(self, net):
        """net's feature vector (doc/formats/latency-model.md names them)."""
        out = (c_double * MODEL_FEATURES)()
        check(lib.hwnas_latency_model_features(out, self._live(), net._live()))
        return list(out)

    def format(self):
        """The model in the file format."""
        out = c_void_p()
        check(lib.hwnas_latency_model_format(self._live(), ctypes.byref(out)))
        return take_string(out)

    def __str__(self):
        return self.format()

    def save(self, path):
        """Write atomically (gzip when path ends in .gz)."""
        check(lib.hwnas_latency_model_save(self._live(), encode(str(path))))

    def __repr__(self):
        if not self._ptr:
            return "LatencyModel(<closed>)"
        return "LatencyModel(%d nets)" % len(self)


__all__ = ["LatencyLut", "LatencyModel", "layer_key", "layer_keys", "measure", "MISSING_ERROR",
           "MISSING_NEAREST", "MISSING_INTERPOLATE", "MISSING_SCALE", "MODEL_FEATURES"]
