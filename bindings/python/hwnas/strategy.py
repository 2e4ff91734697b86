"""Search strategies (strategy.h): ask for genotypes, tell their objectives.

    space = Space(ctx, "space:cell")
    st = Strategy(ctx, "strategy:nsga2", space, 2, population=20, seed=1)
    genes, ids = st.ask(20)
    st.tell(ids, [objectives(g) for g in genes])   # minimised

Genotypes come back as a count x gene_count uint32 numpy array (a list of
lists without numpy); ids as a list of ints. Objectives go in as a list of
rows or a 2-D array, one row per id, every objective minimised.
"""
import ctypes

from . import _native
from ._native import lib, encode, decode, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Handle, Options, _options_text
from .errors import check

try:
    import numpy as _np
except ImportError:  # everything works on lists without numpy
    _np = None

c_uint32, c_uint64, c_uint8, c_double = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_uint8, \
    ctypes.c_double

_d = _native._declare
_d("hwnas_strategy_new", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p, c_void_p, c_size_t)
_d("hwnas_strategy_free", None, c_void_p)
_d("hwnas_strategy_kind", c_char_p, c_void_p)
_d("hwnas_strategy_options", c_void_p, c_void_p)
_d("hwnas_strategy_ask", c_int, c_void_p, c_size_t, P(c_uint32), P(c_uint64), P(c_size_t))
_d("hwnas_strategy_tell", c_int, c_void_p, c_size_t, P(c_uint64), P(c_double), P(c_double),
   P(c_int))
_d("hwnas_strategy_pending", c_size_t, c_void_p)
_d("hwnas_strategy_save", c_int, c_void_p, P(c_void_p), P(c_size_t))
_d("hwnas_strategy_load", c_int, c_void_p, c_void_p, c_size_t)


def ask_into(fn, handle, max_count, gene_count):
    """Run an ask function fn(handle, max, genes, ids, &count) and return
    (genes, ids): shared by Strategy.ask and Search.ask."""
    max_count = int(max_count)
    if max_count < 0:
        raise ValueError("max must be >= 0")
    if max_count * max(gene_count, 1) > 2**28:  # arrays of this size are made here
        raise ValueError("max %d is out of range: at most %d candidates at once"
                         % (max_count, 2**28 // max(gene_count, 1)))
    genes = (c_uint32 * max(max_count * gene_count, 1))()
    ids = (c_uint64 * max(max_count, 1))()
    count = c_size_t()
    check(fn(handle, max_count, genes, ids, ctypes.byref(count)))
    n = count.value
    if _np is not None:
        g = _np.ctypeslib.as_array(genes)[:n * gene_count].reshape(n, gene_count).copy()
    else:
        g = [list(genes[k * gene_count:(k + 1) * gene_count]) for k in range(n)]
    return g, [int(v) for v in ids[:n]]


def _ids(ids):
    ids = [int(i) for i in ids]
    if any(i < 0 or i >= 2**64 for i in ids):
        raise ValueError("ids are unsigned 64-bit")
    return ids


class Strategy(Handle):
    """A strategy of kind ("strategy:random", "strategy:ea",
    "strategy:nsga2", "strategy:reinforce"; the prefix may be left out)
    proposing genotypes of space (an hwnas.Space, kept alive by the
    strategy) for n_objectives minimised objectives. Options as
    "key=value;..." and/or keyword arguments (seed=1, population=20)."""

    def __init__(self, ctx, kind, space, n_objectives, options=None, **kwargs):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = None
        self._owned = True
        self._space = space  # the space must outlive the strategy
        ptr = c_void_p()
        check(lib.hwnas_strategy_new(ctypes.byref(ptr), ctx._ptr, encode(kind),
                                     encode(_options_text(options, kwargs) or None),
                                     space._ptr, int(n_objectives)))
        self._ptr = ptr
        self._n_obj = int(n_objectives)
        self._genes_n = space.gene_count

    @classmethod
    def _borrow(cls, ctx, ptr, gene_count, n_objectives, owner):
        """A non-owning view of a strategy that belongs to owner (a search)."""
        self = cls.__new__(cls)
        self._ctx, self._ptr, self._owned = ctx, c_void_p(ptr), False
        self._space, self._owner = None, owner
        self._n_obj, self._genes_n = n_objectives, gene_count
        ctx._adopt(self)
        return self

    def close(self):
        # A context the garbage collector finalised first (a reference
        # cycle) has taken the allocator: leave the memory then.
        if self._ptr and self._owned and self._ctx._ptr:
            lib.hwnas_strategy_free(self._ptr)
        self._ptr = None


    def _live(self):
        if not self._ptr:
            raise ValueError("this strategy is closed")
        return self._ptr

    @property
    def kind(self):
        return decode(lib.hwnas_strategy_kind(self._live()))

    @property
    def options(self):
        """The strategy's options (read-only view)."""
        return Options(self._ctx, None, _borrowed=lib.hwnas_strategy_options(self._live()),
                       _owner=self)

    @property
    def n_objectives(self):
        return self._n_obj

    @property
    def gene_count(self):
        return self._genes_n

    @property
    def pending(self):
        """Candidates asked for and not yet told."""
        return lib.hwnas_strategy_pending(self._live())

    def __repr__(self):
        if not self._ptr:
            return "Strategy(<closed>)"
        return "Strategy(%r, %d objectives, %d pending)" % (self.kind, self._n_obj,
                                                            self.pending)

    def ask(self, max_count):
        """Up to max_count candidates: (genes, ids). Fewer, or none, when
        the strategy waits for results it handed out."""
        return ask_into(lib.hwnas_strategy_ask, self._live(), max_count, self._genes_n)

    def tell(self, ids, objectives, violations=None, failed=None):
        """Results of candidates by id (any order, any grouping):
        objectives one row of n_objectives minimised values per id;
        violations one value per id (0 = feasible, larger = worse) or None;
        failed one bool per id (could not be evaluated; its objectives are
        ignored) or None. All or nothing: on error nothing is told."""
        ids = _ids(ids)
        n, m = len(ids), self._n_obj
        if _np is not None and isinstance(objectives, _np.ndarray):
            rows = objectives.reshape(n, m) if objectives.size == n * m else None
            if rows is None:
                raise ValueError("objectives: %d values for %d ids x %d objectives"
                                 % (objectives.size, n, m))
            flat = [float(v) for v in rows.ravel()]
        else:
            rows = [list(r) if hasattr(r, "__len__") else [r] for r in objectives]
            if len(rows) != n or any(len(r) != m for r in rows):
                raise ValueError("objectives: need %d rows of %d values" % (n, m))
            flat = [float(v) for r in rows for v in r]
        obj = (c_double * max(n * m, 1))(*flat)
        viol = None
        if violations is not None:
            v = [float(x) for x in violations]
            if len(v) != n:
                raise ValueError("violations: need %d values" % n)
            viol = (c_double * max(n, 1))(*v)
        fail = None
        if failed is not None:
            f = [1 if x else 0 for x in failed]
            if len(f) != n:
                raise ValueError("failed: need %d values" % n)
            fail = (c_int * max(n, 1))(*f)
        check(lib.hwnas_strategy_tell(self._live(), n, (c_uint64 * max(n, 1))(*ids), obj, viol,
                                      fail))

    def save(self):
        """The whole state (pending candidates, population, generator) as
        bytes."""
        out, n = c_void_p(), c_size_t()
        check(lib.hwnas_strategy_save(self._live(), ctypes.byref(out), ctypes.byref(n)))
        try:
            return ctypes.string_at(out, n.value)
        finally:
            lib.hwnas_free(out)

    def load(self, state):
        """Replace the state by one from save() of a strategy with the same
        kind, options, space and objective count (hwnas.FormatError
        otherwise; the strategy is then unchanged)."""
        state = bytes(state)
        check(lib.hwnas_strategy_load(self._live(), state, len(state)))
