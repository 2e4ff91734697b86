"""Surrogate predictors (predict.h): regressors from feature vectors to a
number, with an uncertainty where the kind has one.

    space = Space(ctx, "space:cell")
    x = [space.encode(g) for g in genotypes]     # NAS-Bench-201 path encoding
    p = Predictor(ctx, "gp", kernel="matern52")
    p.fit(x, accuracies)
    mean, std = p.predict(x_new)
    kendall(mean, true_accuracies)

Rows go in as a list of equal-length sequences or a 2-D numpy array;
predictions come back as lists of floats.
"""
import ctypes

from . import _native
from ._native import lib, encode, decode, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Handle, Options, _options_text
from .errors import check

c_double = ctypes.c_double

_d = _native._declare
_d("hwnas_predictor_new", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_predictor_free", None, c_void_p)
_d("hwnas_predictor_kind", c_char_p, c_void_p)
_d("hwnas_predictor_options", c_void_p, c_void_p)
_d("hwnas_predictor_fit", c_int, c_void_p, P(c_double), P(c_double), c_size_t, c_size_t)
_d("hwnas_predictor_predict", c_int, c_void_p, P(c_double), c_size_t, P(c_double), P(c_double))
_d("hwnas_predictor_dim", c_size_t, c_void_p)
_d("hwnas_rank_kendall", c_int, P(c_double), P(c_double), c_size_t, P(c_double))
_d("hwnas_rank_spearman", c_int, P(c_double), P(c_double), c_size_t, P(c_double))


def _rows(x, d=None):
    """(flat C array, n, d) of rows x; every row d long."""
    rows = [[float(v) for v in r] for r in x]
    n = len(rows)
    if d is None:
        d = len(rows[0]) if rows else 0
    for i, r in enumerate(rows):
        if len(r) != d:
            raise ValueError("row %d has %d features, expected %d" % (i, len(r), d))
    flat = [v for r in rows for v in r]
    return (c_double * max(n * d, 1))(*flat), n, d


def _vector(v, name):
    v = [float(a) for a in v]
    return (c_double * max(len(v), 1))(*v), len(v)


class Predictor(Handle):
    """A predictor of kind "mlp", "gbrt" or "gp" ("predictor:gp" too), with
    options as "key=value;..." and/or keyword arguments (seed=1,
    kernel="rbf"). Unfitted until fit()."""

    def __init__(self, ctx, kind="gp", options=None, **kwargs):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = None
        ptr = c_void_p()
        check(lib.hwnas_predictor_new(ctypes.byref(ptr), ctx._ptr, encode(kind),
                                      encode(_options_text(options, kwargs) or None)))
        self._ptr = ptr

    def close(self):
        if self._ptr and self._ctx._ptr:
            lib.hwnas_predictor_free(self._ptr)
        self._ptr = None

    def _live(self):
        if not self._ptr:
            raise ValueError("this predictor is closed")
        return self._ptr

    @property
    def kind(self):
        return decode(lib.hwnas_predictor_kind(self._live()))

    @property
    def options(self):
        """The predictor's options (read-only view)."""
        return Options(self._ctx, None, _borrowed=lib.hwnas_predictor_options(self._live()),
                       _owner=self)

    @property
    def dim(self):
        """Features per row of the data it was fitted on; 0 when unfitted."""
        return lib.hwnas_predictor_dim(self._live())

    def __repr__(self):
        return "Predictor(%r, dim=%d)" % (self.kind, self.dim) if self._ptr else \
            "Predictor(<closed>)"

    def fit(self, x, y):
        """Fit on rows x (n rows of d features) and targets y (n values).
        A NaN or infinite value raises hwnas.InvalidArgument naming its row
        (and column); the predictor is then unfitted."""
        xs, n, d = _rows(x)
        ys, ny = _vector(y, "y")
        if ny != n:
            raise ValueError("fit: %d rows but %d targets" % (n, ny))
        check(lib.hwnas_predictor_fit(self._live(), xs, ys, n, d))

    def predict(self, x):
        """(mean, std) of rows x, lists of floats (std 0 where the kind has
        no uncertainty). Before fit: hwnas.StateError."""
        d = self.dim
        if d == 0:  # let the library say it (no data yet)
            d = len(x[0]) if len(x) else 1
        xs, n, d = _rows(x, d)
        mean = (c_double * max(n, 1))()
        std = (c_double * max(n, 1))()
        check(lib.hwnas_predictor_predict(self._live(), xs, n, mean, std))
        return list(mean[:n]), list(std[:n])


def _rank(fn, a, b):
    xa, n = _vector(a, "a")
    xb, nb = _vector(b, "b")
    if n != nb:
        raise ValueError("%d values against %d" % (n, nb))
    out = c_double()
    check(fn(xa, xb, n, ctypes.byref(out)))
    return out.value


def kendall(a, b):
    """Kendall's tau-b of two equal-length sequences."""
    return _rank(lib.hwnas_rank_kendall, a, b)


def spearman(a, b):
    """Spearman's rho (Pearson's correlation of the mid-ranks)."""
    return _rank(lib.hwnas_rank_spearman, a, b)
