"""Approximate 8x8-bit multipliers (axmul.h).

An Axmul is one multiplier held as its 256 x 256 product table, with its
error metrics (computed exhaustively), relative power and area, and a
content hash. Built-in families are created from a spec ("drum:k=4");
tables come from files (EvoApproxLib / tf-approximate .bin, our text
format) or from Python. A Registry resolves names as a net's nodes use
them: imported multipliers first, then built-in specs.

    m = Axmul(ctx, "drum:k=4")
    m.metrics()["mae_pct"], m.product(200, 100), m.table()   # numpy (256, 256)
"""
import ctypes

from . import _native
from ._native import lib, encode, decode, c_int, c_char_p, c_void_p, c_size_t, P
from .errors import check, Error

try:
    import numpy as _np
except ImportError:  # tables come back as lists without numpy
    _np = None

c_int32, c_uint16, c_uint64, c_double = (ctypes.c_int32, ctypes.c_uint16, ctypes.c_uint64,
                                         ctypes.c_double)

TABLE_SIZE = 65536
BIN_SIZE = 131072

MAE, WCE, MRE, WCRE, EP, BIAS, MSE, MAE_PCT, WCE_PCT, MRE_PCT, WCRE_PCT, EP_PCT, BIAS_PCT, \
    MSE_PCT = range(14)
METRIC_COUNT = 14

_d = _native._declare
_d("hwnas_axmul_new", c_int, P(c_void_p), c_void_p, c_char_p)
_d("hwnas_axmul_new_table", c_int, P(c_void_p), c_void_p, c_char_p, P(c_int32), c_int32)
_d("hwnas_axmul_load", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_axmul_read", c_int, P(c_void_p), c_void_p, c_void_p, c_size_t, c_char_p, c_char_p)
_d("hwnas_axmul_free", None, c_void_p)
_d("hwnas_axmul_write", c_int, c_void_p, c_char_p, P(c_void_p), P(c_size_t))
_d("hwnas_axmul_save", c_int, c_void_p, c_char_p, c_char_p)
_d("hwnas_axmul_name", c_char_p, c_void_p)
_d("hwnas_axmul_is_signed", c_int32, c_void_p)
_d("hwnas_axmul_source", c_char_p, c_void_p)
_d("hwnas_axmul_hash", c_uint64, c_void_p)
_d("hwnas_axmul_power", c_double, c_void_p)
_d("hwnas_axmul_area", c_double, c_void_p)
_d("hwnas_axmul_metric", c_double, c_void_p, c_int32)
_d("hwnas_axmul_metric_name", c_char_p, c_int32)
_d("hwnas_axmul_metric_index", c_int32, c_char_p)
_d("hwnas_axmul_product", c_int32, c_void_p, c_int32, c_int32)
_d("hwnas_axmul_table", c_void_p, c_void_p)
_d("hwnas_axmul_table16", c_void_p, c_void_p)
_d("hwnas_axmul_table16_by_weight", c_void_p, c_void_p)
_d("hwnas_axmul_set_cost", c_int, c_void_p, c_double, c_double)
_d("hwnas_axmul_set_name", c_int, c_void_p, c_char_p)
_d("hwnas_axmul_set_source", c_int, c_void_p, c_char_p)
_d("hwnas_axmul_family_count", c_size_t)
_d("hwnas_axmul_family_name", c_char_p, c_size_t)
_d("hwnas_axmul_family_help", c_char_p, c_size_t)
_d("hwnas_axmul_builtin_count", c_size_t)
_d("hwnas_axmul_builtin_name", c_char_p, c_size_t)
_d("hwnas_axmul_registry_new", c_int, P(c_void_p), c_void_p)
_d("hwnas_axmul_registry_free", None, c_void_p)
_d("hwnas_axmul_registry_add", c_int, c_void_p, c_void_p)
_d("hwnas_axmul_registry_load_dir", c_int, c_void_p, c_char_p, P(c_size_t))
_d("hwnas_axmul_registry_count", c_size_t, c_void_p)
_d("hwnas_axmul_registry_name", c_char_p, c_void_p, c_size_t)
_d("hwnas_axmul_registry_get", c_int, P(c_void_p), c_void_p, c_char_p)


def metric_names():
    """The names of the error metrics, in HWNAS_AXMUL_* order."""
    return [decode(lib.hwnas_axmul_metric_name(i)) for i in range(METRIC_COUNT)]


def metric_index(name):
    """The index of a metric name, or -1."""
    return lib.hwnas_axmul_metric_index(encode(name))


def families():
    """The built-in families as a dict name -> one-line help."""
    return {decode(lib.hwnas_axmul_family_name(i)): decode(lib.hwnas_axmul_family_help(i))
            for i in range(lib.hwnas_axmul_family_count())}


def builtins():
    """A fixed list of representative built-in specs ("drum:k=4", ...)."""
    return [decode(lib.hwnas_axmul_builtin_name(i))
            for i in range(lib.hwnas_axmul_builtin_count())]


def _table_arg(table):
    """65,536 C int32 entries (a*256 + b) from a 256x256 or flat table."""
    if _np is not None and isinstance(table, _np.ndarray):
        a = _np.asarray(table)
        if a.size != TABLE_SIZE:
            raise ValueError("a product table has %d entries, got %d" % (TABLE_SIZE, a.size))
        if a.size and (a.min() < -2**31 or a.max() >= 2**31):
            raise ValueError("a table entry does not fit int32")
        a = _np.ascontiguousarray(a.reshape(-1), dtype=_np.int32)
        return a.ctypes.data_as(P(c_int32)), a
    flat = []
    for row in table:
        if isinstance(row, (list, tuple)):
            flat.extend(int(v) for v in row)
        else:
            flat.append(int(row))
    if len(flat) != TABLE_SIZE:
        raise ValueError("a product table has %d entries, got %d" % (TABLE_SIZE, len(flat)))
    buf = (c_int32 * TABLE_SIZE)(*flat)
    return buf, buf


class Axmul:
    """One 8x8-bit multiplier (axmul.h).

    Axmul(ctx, spec) builds a built-in ("exact", "drum:k=4", "bam:h=2,v=6",
    "trunc:t=2,signed=1"); Axmul.from_table, Axmul.load and Axmul.read
    make the others. Multipliers taken from a Registry are borrowed: they
    live as long as the registry.
    """

    def __init__(self, ctx, spec="exact", _ptr=None, _owner=None):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr, self._owner = None, _owner
        if _ptr is None:
            ptr = c_void_p()
            check(lib.hwnas_axmul_new(ctypes.byref(ptr), ctx._ptr, encode(spec)))
            _ptr = ptr
        self._ptr = _ptr

    @classmethod
    def from_table(cls, ctx, name, table, signed=False):
        """A multiplier from 65,536 products (256x256 array or nested
        lists, or a flat sequence; entry [a][b] = approx(a * b), with
        signed operands indexed by their byte a & 255)."""
        arg, _keep = _table_arg(table)
        ptr = c_void_p()
        check(lib.hwnas_axmul_new_table(ctypes.byref(ptr), ctx._ptr, encode(name), arg,
                                        1 if signed else 0))
        return cls(ctx, _ptr=ptr)

    @classmethod
    def load(cls, ctx, path, format=None):
        """Read a file: format "bin", "bin-signed", "text" or None (auto)."""
        ptr = c_void_p()
        check(lib.hwnas_axmul_load(ctypes.byref(ptr), ctx._ptr, encode(str(path)),
                                   encode(format)))
        return cls(ctx, _ptr=ptr)

    @classmethod
    def read(cls, ctx, data, format=None, origin=None):
        """Like load() from bytes in memory; origin names the data."""
        data = bytes(data)
        ptr = c_void_p()
        check(lib.hwnas_axmul_read(ctypes.byref(ptr), ctx._ptr, data, len(data), encode(format),
                                   encode(origin)))
        return cls(ctx, _ptr=ptr)

    def close(self):
        if self._ptr and self._owner is None:
            lib.hwnas_axmul_free(self._ptr)
        self._ptr = None

    def __del__(self):
        self.close()

    def _live(self):
        if not self._ptr:
            raise ValueError("this multiplier is closed")
        return self._ptr

    # ---- writing ----------------------------------------------------

    def write(self, format=None):
        """The multiplier serialised: bytes ("bin", "bin-signed") or str
        ("text", the default)."""
        out, n = c_void_p(), c_size_t()
        check(lib.hwnas_axmul_write(self._live(), encode(format), ctypes.byref(out),
                                    ctypes.byref(n)))
        try:
            data = ctypes.string_at(out, n.value)
        finally:
            lib.hwnas_free(out)
        if format in (None, "auto", "text"):
            return data.decode("utf-8")
        return data

    def save(self, path, format=None):
        """Write to path atomically (format None: by the extension; .gz
        compresses)."""
        check(lib.hwnas_axmul_save(self._live(), encode(str(path)), encode(format)))

    # ---- properties -------------------------------------------------

    @property
    def name(self):
        return decode(lib.hwnas_axmul_name(self._live()))

    @name.setter
    def name(self, value):
        self._mutable()
        check(lib.hwnas_axmul_set_name(self._live(), encode(value)))

    @property
    def signed(self):
        return bool(lib.hwnas_axmul_is_signed(self._live()))

    @property
    def source(self):
        return decode(lib.hwnas_axmul_source(self._live()))

    @source.setter
    def source(self, value):
        self._mutable()
        check(lib.hwnas_axmul_set_source(self._live(), encode(value)))

    def hash(self):
        """64-bit content hash (table and signedness; not the name)."""
        return lib.hwnas_axmul_hash(self._live())

    @property
    def power(self):
        """Power relative to the exact multiplier (NaN when unknown)."""
        return lib.hwnas_axmul_power(self._live())

    @property
    def area(self):
        """Area relative to the exact multiplier (NaN when unknown)."""
        return lib.hwnas_axmul_area(self._live())

    def set_cost(self, power, area):
        """Set relative power and area (>= 0, or NaN for unknown)."""
        self._mutable()
        check(lib.hwnas_axmul_set_cost(self._live(), float(power), float(area)))

    def _mutable(self):
        if self._owner is not None:
            raise TypeError("this multiplier belongs to a registry and is read-only")

    def metric(self, metric):
        """One error metric by name ("mae_pct") or index (MAE_PCT)."""
        if isinstance(metric, str):
            i = lib.hwnas_axmul_metric_index(encode(metric))
            if i < 0:
                raise KeyError("no axmul metric %r (metrics: %s)"
                               % (metric, ", ".join(metric_names())))
            metric = i
        return lib.hwnas_axmul_metric(self._live(), int(metric))

    def metrics(self):
        """Every error metric as a dict name -> value."""
        p = self._live()
        return {decode(lib.hwnas_axmul_metric_name(i)): lib.hwnas_axmul_metric(p, i)
                for i in range(METRIC_COUNT)}

    def product(self, a, b):
        """approx(a * b): a, b in 0..255 (unsigned) or -128..127 (signed)."""
        return lib.hwnas_axmul_product(self._live(), int(a), int(b))

    def __call__(self, a, b):
        return self.product(a, b)

    def _copy_table(self, fn, ctype, dtype):
        ptr = fn(self._live())
        arr = ctypes.cast(ptr, P(ctype * TABLE_SIZE)).contents
        if _np is not None:
            return _np.ctypeslib.as_array(arr).reshape(256, 256).astype(dtype, copy=True)
        return list(arr)

    def table(self):
        """The products as int32, [a, b] = approx(a * b): a (256, 256)
        numpy array (signed operands indexed by their byte), or a flat
        list of 65,536 entries a*256 + b without numpy."""
        return self._copy_table(lib.hwnas_axmul_table, c_int32, "int32")

    def table16(self, by_weight=False):
        """The products as 16-bit patterns (uint16; view as int16 for a
        signed multiplier); by_weight=True gives the transpose, [b, a]."""
        fn = lib.hwnas_axmul_table16_by_weight if by_weight else lib.hwnas_axmul_table16
        return self._copy_table(fn, c_uint16, "uint16")

    def __repr__(self):
        if not self._ptr:
            return "Axmul(<closed>)"
        return "Axmul(%r, mae_pct=%.4g, power=%.3g)" % (self.name, self.metric(MAE_PCT),
                                                        self.power)


class Registry:
    """Resolves multiplier names: imported multipliers, then built-in
    specs. Listing: the built-in instances, then the imported ones."""

    def __init__(self, ctx):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = None
        ptr = c_void_p()
        check(lib.hwnas_axmul_registry_new(ctypes.byref(ptr), ctx._ptr))
        self._ptr = ptr

    def close(self):
        """Free the registry and every multiplier it holds (views taken from
        it must not be used afterwards)."""
        if self._ptr:
            lib.hwnas_axmul_registry_free(self._ptr)
            self._ptr = None

    def __del__(self):
        self.close()

    def add(self, m):
        """Import m; the registry takes it over (m becomes a read-only view
        that lives as long as the registry)."""
        if m._owner is not None:
            raise ValueError("%r already belongs to a registry" % m.name)
        check(lib.hwnas_axmul_registry_add(self._ptr, m._live()))
        m._owner = self

    def load_dir(self, path):
        """Import every *.axmul(.gz) and *.bin(.gz) of a directory (with
        params.csv's power and area when present); returns the count."""
        n = c_size_t()
        check(lib.hwnas_axmul_registry_load_dir(self._ptr, encode(str(path)), ctypes.byref(n)))
        return n.value

    def __len__(self):
        return lib.hwnas_axmul_registry_count(self._ptr)

    def names(self):
        return [decode(lib.hwnas_axmul_registry_name(self._ptr, i)) for i in range(len(self))]

    def __iter__(self):
        return iter(self.names())

    def get(self, name):
        """The multiplier called name (an imported one or a built-in spec),
        borrowed from the registry."""
        out = c_void_p()
        check(lib.hwnas_axmul_registry_get(ctypes.byref(out), self._ptr, encode(name)))
        return Axmul(self._ctx, _ptr=out, _owner=self)

    __getitem__ = get

    def __contains__(self, name):
        try:
            self.get(name)
            return True
        except Error:
            return False
