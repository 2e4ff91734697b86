"""The search (search.h): space + strategy + estimators, run to a budget.

    s = Search(ctx, "space:cell", "strategy:nsga2",
               objectives="score:max,macs:min", evaluations=100,
               space_options="channels=8;cells=1",
               strategy_options={"population": 20})
    s.add_estimator("estimator:cost")
    s.add_estimator(Estimator.custom(ctx, "score", "score:%", my_score))
    s.on_progress(lambda fraction: print("%3.0f%%" % (100 * fraction)))
    s.run()
    for c in s.front_candidates():
        print(c["key"], c["metrics"])

With out= a directory, every evaluation is journaled and Search.resume()
continues a stopped or killed search to the archive an uninterrupted run
would have made. Custom (Python) estimators are not saved: add them again,
under the same name, after resuming.
"""
import ctypes
import math
import os
import weakref

from . import _native
from ._native import lib, encode, decode, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Options, _options_text
from .errors import check, Stopped, StateError
from .estimator import Estimator
from .space import Space
from .strategy import Strategy, ask_into

try:
    import numpy as _np
except ImportError:  # everything but metrics_array works without numpy
    _np = None

c_uint32, c_uint64, c_double = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_double

CANDIDATE_CB = ctypes.CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)
BATCH_CB = ctypes.CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)
PROGRESS_CB = ctypes.CFUNCTYPE(c_int, c_void_p, c_double, c_void_p)

_d = _native._declare
_d("hwnas_search_new", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p, c_char_p, c_char_p,
   c_char_p)
_d("hwnas_search_resume", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_search_free", None, c_void_p)
_d("hwnas_search_add_estimator", c_int, c_void_p, c_char_p, c_char_p)
_d("hwnas_search_add_estimator_object", c_int, c_void_p, c_void_p)
_d("hwnas_search_space", c_void_p, c_void_p)
_d("hwnas_search_strategy", c_void_p, c_void_p)
_d("hwnas_search_on_candidate", None, c_void_p, CANDIDATE_CB, c_void_p)
_d("hwnas_search_on_batch", None, c_void_p, BATCH_CB, c_void_p)
_d("hwnas_search_on_progress", None, c_void_p, PROGRESS_CB, c_void_p)
_d("hwnas_search_run", c_int, c_void_p)
_d("hwnas_search_stop", None, c_void_p)
_d("hwnas_search_ask", c_int, c_void_p, c_size_t, P(c_uint32), P(c_uint64), P(c_size_t))
_d("hwnas_search_tell", c_int, c_void_p, c_uint64, c_size_t, P(c_char_p), P(c_double),
   c_char_p)
_d("hwnas_search_count", c_size_t, c_void_p)
_d("hwnas_search_metric_count", c_size_t, c_void_p)
_d("hwnas_search_metric_name", c_char_p, c_void_p, c_size_t)
_d("hwnas_search_genes", P(c_uint32), c_void_p, c_size_t)
_d("hwnas_search_key", c_char_p, c_void_p, c_size_t)
_d("hwnas_search_hash", c_uint64, c_void_p, c_size_t)
_d("hwnas_search_metric", c_int, c_void_p, c_size_t, c_char_p, P(c_double))
_d("hwnas_search_error", c_char_p, c_void_p, c_size_t)
_d("hwnas_search_seconds", c_double, c_void_p, c_size_t)
_d("hwnas_search_cached", c_int, c_void_p, c_size_t)
_d("hwnas_search_refined", c_int, c_void_p, c_size_t)
_d("hwnas_search_pruned", c_int, c_void_p, c_size_t)
_d("hwnas_search_curve", c_size_t, c_void_p, c_size_t, P(c_double), P(c_double), c_size_t)
_d("hwnas_search_proxy_metric", c_int, c_void_p, c_size_t, c_char_p, P(c_double))
_d("hwnas_search_front", c_size_t, c_void_p, P(c_size_t), c_size_t)
_d("hwnas_search_hypervolume", c_int, c_void_p, P(c_double))
_d("hwnas_search_write_results", c_int, c_void_p, c_char_p)
_d("hwnas_search_plot_front", c_int, c_void_p, c_char_p, c_char_p, c_char_p)
_d("hwnas_search_write_report", c_int, c_void_p, c_char_p, c_char_p)


def plot_front(ctx, directory, x, y):
    """Draw directory/front.svg again from a results directory (its
    archive.csv and front.csv) as metric y over metric x: any two metric
    columns, e.g. plot_front(ctx, "out", "edp", "accuracy")."""
    check(lib.hwnas_search_plot_front(ctx._ptr, encode(str(directory)), encode(x), encode(y)))


def _opts(options, kwargs=None):
    """Options given as a string, a dict, or None (plus keywords)."""
    if isinstance(options, dict):
        merged = dict(options)
        merged.update(kwargs or {})
        return _options_text(None, merged) or None
    return _options_text(options, kwargs or {}) or None


def _unescape(field):
    out, k = [], 0
    while k < len(field):
        ch = field[k]
        if ch == "\\" and k + 1 < len(field):
            k += 1
            ch = {"t": "\t", "n": "\n", "r": "\r"}.get(field[k], field[k])
        out.append(ch)
        k += 1
    return "".join(out)


def _saved_options(directory):
    """The search options recorded in directory/search.conf (doc/formats/
    journal.md: "key<TAB>escaped value" lines)."""
    with open(os.path.join(str(directory), "search.conf"), encoding="utf-8") as f:
        for line in f:
            key, tab, value = line.rstrip("\n").partition("\t")
            if tab and key == "options":
                return _unescape(value)
    return None


class _SpaceView(Space):
    """The search's own space: usable as an hwnas.Space, freed by the
    search (the view keeps the search alive; closing the search closes
    it)."""

    def __init__(self, ctx, ptr, owner):
        self._ctx, self._ptr, self._owner = ctx, c_void_p(ptr), owner
        ctx._adopt(self)
        self._n = lib.hwnas_space_gene_count(self._ptr)

    def close(self):
        self._ptr = None


class _Settings(dict):
    """A search's options by name; an old name (evaluations, threads) reads
    as the option it stands for, as the library reads it."""

    def __init__(self, values, ctx):
        super().__init__(values)
        self._ctx = ctx

    def __missing__(self, key):
        if isinstance(key, str) and self._ctx._ptr:
            probe = Options(self._ctx, "search")
            try:
                i = lib.hwnas_options_index(probe._ptr, encode(key))
                if i >= 0:
                    return self[decode(lib.hwnas_options_name(probe._ptr, i))]
            finally:
                probe.close()
        raise KeyError(key)

    def copy(self):
        return _Settings(self, self._ctx)


class Search:
    """A search over a space and strategy of the given kinds ("space:cell",
    "strategy:nsga2"; prefixes optional). options (string, dict and/or
    keywords): objectives, constraints, budget (candidates to evaluate;
    evaluations is its old name), time_limit, batch,
    parallel (candidates estimated at once; the Context's threads size
    the pool they run on; threads is parallel's old name), seed, out, snapshot_every, hv_reference, screen, and the
    multi-fidelity stage refine, refine_estimator ("kind:options"),
    refine_by, and for a co-design space (NET+accelerator) codesign
    ("joint" or "nested") and codesign_options (the inner search's:
    strategy, budget, objective, max_area_mm2, ...; doc/search.md).
    space_options and strategy_options: a string or a dict.

    Callbacks (on_candidate, on_batch, on_progress) run on the thread
    calling run(); one that returns True or raises stops the run, which
    then raises hwnas.Stopped (the exception, if any, as its __cause__);
    the search can be run() again or resumed from its out directory.
    """

    def __init__(self, ctx, space="space:cell", strategy="strategy:random", options=None,
                 space_options=None, strategy_options=None, **kwargs):
        self._ptr = None
        text = _opts(options, kwargs)
        ptr = c_void_p()
        check(lib.hwnas_search_new(ctypes.byref(ptr), ctx._ptr, encode(space),
                                   encode(_opts(space_options)), encode(strategy),
                                   encode(_opts(strategy_options)), encode(text)))
        self._init(ctx, ptr, [text])

    def _init(self, ctx, ptr, option_texts):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = ptr
        self._estimators = []  # Estimator objects the search uses: kept alive
        self._callbacks = {}
        self._failure = None
        # Views of the search's own space and strategy point to the search
        # (keeping it alive), never the other way round: a Python object
        # holding a C pointer must not sit in a reference cycle, or the
        # garbage collector may finalise its context first.
        self._views = weakref.WeakSet()
        self._gene_count = lib.hwnas_space_gene_count(lib.hwnas_search_space(ptr))
        # The C search does not hand its options back: replay the texts it
        # was given (they were valid, or creation would have failed).
        settings = Options(ctx, "search")
        try:
            for t in option_texts:
                if t:
                    settings.parse(t)
            self._settings = _Settings(settings.to_dict(), ctx)
        finally:
            settings.close()
        self._objectives = []
        for item in self._settings["objectives"].replace(";", ",").split(","):
            item = item.strip()
            if item:
                name, _, direction = item.rpartition(":")
                self._objectives.append((name.strip(), direction.strip()))

    @classmethod
    def resume(cls, ctx, directory, options=None, **kwargs):
        """Continue the search saved in directory (its out option): same
        kinds and options (options/keywords may change some, e.g. a larger
        evaluations), the archive of its journal and the strategy state of
        its last snapshot. Built-in estimators come back by themselves;
        add custom ones again with add_estimator() before run().

        A damaged journal raises FormatError naming the file and line and
        changes nothing; salvage=True keeps its valid records (the original
        stays as journal.tsv.damaged.N). read_only=True writes nothing into
        the directory (a report). While this search is open, another one
        on the same directory raises StateError naming this process: close()
        it (or use it as a context manager) before reopening."""
        self = cls.__new__(cls)
        self._ptr = None
        text = _opts(options, kwargs)
        ptr = c_void_p()
        check(lib.hwnas_search_resume(ctypes.byref(ptr), ctx._ptr, encode(str(directory)),
                                      encode(text)))
        self._init(ctx, ptr, [_saved_options(directory), text])
        return self

    def _in_use(self):
        return getattr(self, "_running", False)

    def _not_running(self, what):
        if self._in_use():
            raise StateError("cannot %s this search from inside its own callback (it is "
                             "running; stop() it and return instead)" % what)

    def close(self):
        """Free the search (and release its directory). Raises StateError
        from inside the search's own callbacks."""
        self._not_running("close")
        if self._ptr:
            for view in list(self._views):
                view._ptr = None
            # A context the garbage collector finalised first (a callback
            # that refers to its search makes a cycle) has taken the
            # allocator: leave the memory then.
            if self._ctx._ptr:
                lib.hwnas_search_free(self._ptr)
            self._ptr = None

    def __del__(self):
        if getattr(self, "_ptr", None):
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _live(self):
        if not self._ptr:
            raise ValueError("this search is closed")
        return self._ptr

    # ---- set-up -----------------------------------------------------

    def add_estimator(self, estimator, options=None, **kwargs):
        """Add an estimator: a kind ("estimator:cost") with options (string,
        dict and/or keywords), owned by the search; or an hwnas.Estimator
        (Estimator.custom(...) for Python functions), kept alive by the
        search. Returns the metric names it adds."""
        if isinstance(estimator, Estimator):
            if options is not None or kwargs:
                raise TypeError("options go to Estimator(), not to add_estimator()")
            if not estimator._ptr:
                raise ValueError("this estimator is closed")
            before = self.metrics
            check(lib.hwnas_search_add_estimator_object(self._live(), estimator._ptr))
            self._estimators.append(estimator)
            return self.metrics[len(before):]
        before = self.metrics
        check(lib.hwnas_search_add_estimator(self._live(), encode(estimator),
                                             encode(_opts(options, kwargs))))
        return self.metrics[len(before):]

    @property
    def space(self):
        """The search's space (an hwnas.Space owned by the search)."""
        view = _SpaceView(self._ctx, lib.hwnas_search_space(self._live()), self)
        self._views.add(view)
        return view

    @property
    def strategy(self):
        """The search's strategy (an hwnas.Strategy owned by the search;
        the search asks and tells it: use it to read kind, options,
        pending and save())."""
        view = Strategy._borrow(self._ctx, lib.hwnas_search_strategy(self._live()),
                                self._gene_count, len(self._objectives), self)
        self._views.add(view)
        return view

    @property
    def options(self):
        """The search's options as a dict (read back from the text it was
        created or resumed with)."""
        return self._settings.copy()

    @property
    def objectives(self):
        """The objectives as (metric, "min" or "max") pairs, in order."""
        return list(self._objectives)

    # ---- callbacks --------------------------------------------------

    def _wrap(self, cbtype, fn, convert):
        if fn is None:
            return cbtype()
        wself = weakref.ref(self)  # no cycle through the callbacks

        def trampoline(_search, value, _ud):
            me = wself()
            if me is None or me._failure is not None:
                return 1
            try:
                return 1 if fn(*convert(me, value)) else 0
            except BaseException as e:  # must not unwind into C
                me._failure = e
                return 1
        return cbtype(trampoline)

    def on_candidate(self, fn):
        """fn(index, candidate) after each candidate enters the archive
        (candidate: the dict of candidate(index)); None removes it."""
        cb = self._wrap(CANDIDATE_CB, fn, lambda me, i: (i, me.candidate(i)))
        lib.hwnas_search_on_candidate(self._live(), cb, None)
        self._callbacks["candidate"] = cb

    def on_batch(self, fn):
        """fn(evaluations) after each batch is told to the strategy."""
        cb = self._wrap(BATCH_CB, fn, lambda me, n: (n,))
        lib.hwnas_search_on_batch(self._live(), cb, None)
        self._callbacks["batch"] = cb

    def on_progress(self, fn):
        """fn(fraction) after each batch: the fraction of the budget spent."""
        cb = self._wrap(PROGRESS_CB, fn, lambda me, f: (f,))
        lib.hwnas_search_on_progress(self._live(), cb, None)
        self._callbacks["progress"] = cb

    # ---- running ----------------------------------------------------

    def run(self):
        """Run until the budget is spent. Raises hwnas.Stopped when a
        callback or stop() ended it early (resumable), hwnas.StateError
        when no estimator is added or an objective names an unknown
        metric. Estimators run on worker threads (Python ones take the
        GIL for each call)."""
        self._run_with(lib.hwnas_search_run)

    def _run_with(self, call, *args):
        """run()'s bookkeeping around call(ptr, *args) (hwnas.mpi.run too)."""
        self._not_running("run")
        ptr = self._live()
        for est in self._estimators:
            if not est._ptr:
                raise StateError("an estimator added to this search was closed")
        self._failure = None
        self._running = True
        for est in self._estimators:  # not closed while the search uses them
            est._busy.enter()
        try:
            rc = call(ptr, *args)
        finally:
            self._running = False
            for est in self._estimators:
                est._busy.leave()
        cause, self._failure = self._failure, None
        for est in self._estimators:  # an interrupt in an estimator stopped it
            pending = est._take_interrupt()
            if rc != 0 and pending is not None and cause is None:
                cause = pending
        if rc != 0 and isinstance(cause, (KeyboardInterrupt, SystemExit)):
            # The search stopped cleanly (resumable); the interrupt goes on.
            raise cause
        try:
            check(rc)
        except Stopped as e:
            if cause is not None:
                raise e from cause
            raise

    def stop(self):
        """Ask a running search to stop after the current batch (any
        thread)."""
        if self._ptr:
            lib.hwnas_search_stop(self._ptr)

    def ask(self, max_count):
        """Candidates to evaluate elsewhere: (genes, ids) as
        Strategy.ask."""
        self._not_running("ask")
        return ask_into(lib.hwnas_search_ask, self._live(), max_count,
                        self._gene_count)

    def tell(self, id, metrics=None, error=None):
        """The result of candidate id: metrics a dict name -> value (every
        metric an objective or constraint needs), or error a text when it
        failed."""
        items = list((metrics or {}).items())
        n = len(items)
        names = (c_char_p * max(n, 1))(*[encode(k) for k, _ in items])
        values = (c_double * max(n, 1))(*[float(v) for _, v in items])
        self._not_running("tell")
        check(lib.hwnas_search_tell(self._live(), int(id), n, names, values, encode(error)))

    # ---- results ----------------------------------------------------

    def __len__(self):
        return lib.hwnas_search_count(self._live())

    @property
    def count(self):
        """Candidates in the archive."""
        return lib.hwnas_search_count(self._live())

    @property
    def metrics(self):
        """Names of every metric the estimators produce, in order."""
        p = self._live()
        return [decode(lib.hwnas_search_metric_name(p, i))
                for i in range(lib.hwnas_search_metric_count(p))]

    def _index(self, i):
        n = self.count
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("candidate %d of %d" % (i, n))
        return i

    def metric(self, i, name):
        """Metric name of candidate i (NaN when it failed)."""
        out = c_double()
        check(lib.hwnas_search_metric(self._live(), self._index(i), encode(name),
                                      ctypes.byref(out)))
        return out.value

    def refined(self, i):
        """1 when candidate i was re-estimated by the refine estimator
        (options refine, refine_estimator), -1 when that failed, else 0."""
        return lib.hwnas_search_refined(self._live(), self._index(i))

    def pruned(self, i):
        """True when candidate i's training was stopped early by the pruner
        (option prune): its metrics are partial, it is never on the front."""
        return bool(lib.hwnas_search_pruned(self._live(), self._index(i)))

    def curve(self, i):
        """Candidate i's learning curve under pruning: a list of (epoch,
        validation accuracy %) pairs, empty without one."""
        p, i = self._live(), self._index(i)
        n = lib.hwnas_search_curve(p, i, None, None, 0)
        if n == 0:
            return []
        ep, val = (c_double * n)(), (c_double * n)()
        lib.hwnas_search_curve(p, i, ep, val, n)
        return list(zip(ep, val))

    def proxy_metric(self, i, name):
        """Metric name of candidate i as the strategy was told it: the
        proxy figure of a refined candidate, else metric(i, name)."""
        out = c_double()
        check(lib.hwnas_search_proxy_metric(self._live(), self._index(i), encode(name),
                                            ctypes.byref(out)))
        return out.value

    def candidate(self, i, metrics=None):
        """Candidate i (negative counts from the end) as a dict: index,
        genes, key, hash, metrics (name -> value, NaN when failed), error
        (None when it succeeded), seconds, cached, refined, pruned, curve."""
        i = self._index(i)
        p = self._live()
        names = self.metrics if metrics is None else metrics
        g = lib.hwnas_search_genes(p, i)
        vals = {}
        out = c_double()
        for m in names:
            rc = lib.hwnas_search_metric(p, i, encode(m), ctypes.byref(out))
            vals[m] = out.value if rc == 0 else math.nan
        return {"index": i,
                "genes": list(g[:self._gene_count]) if g else None,
                "key": decode(lib.hwnas_search_key(p, i)),
                "hash": lib.hwnas_search_hash(p, i),
                "metrics": vals,
                "error": decode(lib.hwnas_search_error(p, i)),
                "seconds": lib.hwnas_search_seconds(p, i),
                "cached": bool(lib.hwnas_search_cached(p, i)),
                "refined": lib.hwnas_search_refined(p, i),
                "pruned": bool(lib.hwnas_search_pruned(p, i)),
                "curve": self.curve(i)}

    def candidates(self):
        """Every candidate of the archive, in evaluation order, as dicts."""
        names = self.metrics
        return [self.candidate(i, names) for i in range(self.count)]

    def __iter__(self):
        return iter(self.candidates())

    def metrics_array(self, names=None):
        """count x len(names) float64 numpy array of metrics (all metrics
        by default; NaN for failed candidates)."""
        if _np is None:
            raise ImportError("Search.metrics_array needs numpy")
        names = self.metrics if names is None else list(names)
        p = self._live()
        n = self.count
        a = _np.full((n, len(names)), _np.nan)
        out = c_double()
        for j, m in enumerate(names):
            key = encode(m)
            for i in range(n):
                check(lib.hwnas_search_metric(p, i, key, ctypes.byref(out)))
                a[i, j] = out.value
        return a

    def genes_array(self):
        """count x gene_count uint32 numpy array of the archive's genes."""
        if _np is None:
            raise ImportError("Search.genes_array needs numpy")
        p, n, k = self._live(), self.count, self._gene_count
        a = _np.zeros((n, k), dtype=_np.uint32)
        for i in range(n):
            g = lib.hwnas_search_genes(p, i)
            a[i] = g[:k]
        return a

    def front(self):
        """Archive indices of the Pareto front (feasible, non-dominated,
        one per phenotype; only refined candidates once any is refined),
        sorted by the first objective."""
        p = self._live()
        lib.hwnas_error_clear()
        cap = max(self.count, 1)
        buf = (c_size_t * cap)()
        n = lib.hwnas_search_front(p, buf, cap)
        if n == 0 and lib.hwnas_error_last_code() < 0:
            check(lib.hwnas_error_last_code())
        return list(buf[:min(n, cap)])

    def front_candidates(self):
        """The front's candidates as dicts."""
        names = self.metrics
        return [self.candidate(i, names) for i in self.front()]

    def hypervolume(self):
        """Hypervolume of the front against the hv_reference option (or
        the default reference), by the figures the strategy was told
        (proxy figures, before refinement); hwnas.StateError with no
        feasible candidate."""
        out = c_double()
        check(lib.hwnas_search_hypervolume(self._live(), ctypes.byref(out)))
        return out.value

    def write_results(self, directory=None):
        """Write archive.csv/json, front.csv/json, front/NNN.net and the
        SVG plots into directory (None: the out option)."""
        check(lib.hwnas_search_write_results(self._live(),
                                             encode(None if directory is None
                                                    else str(directory))))

    def write_report(self, path=None, directory=None):
        """Write one self-contained HTML page (no network fetches): the
        front, its plots, each member's layers, multipliers and
        energy/latency breakdown, and the settings. directory holds the
        results write_results wrote (None: the out option); path is the
        page (None: directory/report.html). Returns the page's path."""
        d = None if directory is None else str(directory)
        p = None if path is None else str(path)
        check(lib.hwnas_search_write_report(self._live(), encode(d), encode(p)))
        if p is not None:
            return p
        return os.path.join(d if d is not None else self.options["out"], "report.html")

    def __repr__(self):
        if not self._ptr:
            return "Search(<closed>)"
        return "Search(%d genes, %d candidates, metrics=%r)" % (self._gene_count, self.count,
                                                                self.metrics)
