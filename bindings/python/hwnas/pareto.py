"""The Pareto toolkit (pareto.h): sorting, crowding, hypervolume, indicators.

Points are n rows of m objectives, all minimised: a list of sequences or a
numpy array. Results come back as numpy arrays when numpy is installed,
lists otherwise.
"""
import ctypes

from . import _native
from ._native import lib, c_int, c_size_t, c_void_p, P
from .errors import check

try:
    import numpy as _np
except ImportError:  # the toolkit works without numpy
    _np = None

c_double, c_uint32 = ctypes.c_double, ctypes.c_uint32

_native._declare("hwnas_pareto_dominance", c_int, P(c_double), P(c_double), c_size_t)
_native._declare("hwnas_pareto_rank", c_int, P(c_uint32), P(c_size_t), c_void_p, P(c_double),
                 c_size_t, c_size_t)
_native._declare("hwnas_pareto_rank_constrained", c_int, P(c_uint32), P(c_size_t), c_void_p,
                 P(c_double), P(c_double), c_size_t, c_size_t)
_native._declare("hwnas_pareto_crowding", c_int, P(c_double), c_void_p, P(c_double), c_size_t,
                 c_size_t, P(c_uint32))
_native._declare("hwnas_pareto_hypervolume", c_int, P(c_double), c_void_p, P(c_double),
                 c_size_t, c_size_t, P(c_double))
for _name in ("igd", "igd_plus", "epsilon_additive"):
    _native._declare("hwnas_pareto_" + _name, c_int, P(c_double), c_void_p, P(c_double),
                     c_size_t, P(c_double), c_size_t, c_size_t)


def _matrix(points):
    """Row-major C doubles, n, m from a list of rows or a 2-D array."""
    if _np is not None and isinstance(points, _np.ndarray):
        a = _np.ascontiguousarray(points, dtype=_np.float64)
        if a.ndim != 2:
            raise ValueError("points must be 2-D (n rows of m objectives)")
        n, m = a.shape
        return a.ctypes.data_as(P(c_double)), n, m, a
    rows = [list(map(float, r)) for r in points]
    n = len(rows)
    m = len(rows[0]) if n else 0
    if any(len(r) != m for r in rows):
        raise ValueError("every point needs the same number of objectives")
    buf = (c_double * max(n * m, 1))(*[v for r in rows for v in r])
    return buf, n, m, buf


def _vector(values, ctype):
    values = list(values)
    return (ctype * max(len(values), 1))(*values)


def _out(buf, n, kind):
    if _np is not None:
        return _np.ctypeslib.as_array(buf, shape=(n,)).astype(kind).copy() if n else \
            _np.zeros(0, dtype=kind)
    return list(buf[:n])


def dominance(a, b):
    """1 if a dominates b, -1 if b dominates a, 0 otherwise."""
    if len(a) != len(b):
        raise ValueError("points of different dimension")
    return lib.hwnas_pareto_dominance(_vector(a, c_double), _vector(b, c_double), len(a))


def rank(ctx, points, violations=None):
    """Non-dominated sorting: (front index of every point, number of fronts).
    With violations (one per point, <= 0 feasible), Deb's constraint
    domination applies."""
    data, n, m, _keep = _matrix(points)
    out = (c_uint32 * max(n, 1))()
    fronts = c_size_t()
    if violations is None:
        check(lib.hwnas_pareto_rank(out, ctypes.byref(fronts), ctx._ptr, data, n, m))
    else:
        v = list(violations)
        if len(v) != n:
            raise ValueError("one violation per point")
        check(lib.hwnas_pareto_rank_constrained(out, ctypes.byref(fronts), ctx._ptr, data,
                                                _vector(v, c_double), n, m))
    return _out(out, n, "int64" if _np is None else _np.int64), fronts.value


def crowding(ctx, points, ranks=None):
    """Deb's crowding distance within each front (ranks None: one front)."""
    data, n, m, _keep = _matrix(points)
    out = (c_double * max(n, 1))()
    r = None if ranks is None else _vector([int(x) for x in ranks], c_uint32)
    check(lib.hwnas_pareto_crowding(out, ctx._ptr, data, n, m, r))
    return _out(out, n, "float64" if _np is None else _np.float64)


def hypervolume(ctx, points, ref):
    """Exact hypervolume dominated by points and bounded by ref."""
    data, n, m, _keep = _matrix(points)
    if n and len(ref) != m:
        raise ValueError("ref needs %d coordinates" % m)
    out = c_double()
    check(lib.hwnas_pareto_hypervolume(ctypes.byref(out), ctx._ptr, data, n, len(ref),
                                       _vector(ref, c_double)))
    return out.value


def _indicator(name, ctx, points, reference):
    data, n, m, _k1 = _matrix(points)
    rdata, nr, mr, _k2 = _matrix(reference)
    if m != mr:
        raise ValueError("points and reference differ in dimension")
    out = c_double()
    check(getattr(lib, "hwnas_pareto_" + name)(ctypes.byref(out), ctx._ptr, data, n, rdata,
                                               nr, m))
    return out.value


def igd(ctx, points, reference):
    """Inverted generational distance of points to the reference front."""
    return _indicator("igd", ctx, points, reference)


def igd_plus(ctx, points, reference):
    """IGD+ (Ishibuchi et al.): weakly Pareto-compliant IGD."""
    return _indicator("igd_plus", ctx, points, reference)


def epsilon_additive(ctx, points, reference):
    """Additive epsilon indicator of points against the reference front."""
    return _indicator("epsilon_additive", ctx, points, reference)
