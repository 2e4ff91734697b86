"""Estimators (estimator.h): from a network to named metrics.

Built-in kinds: "estimator:cost" (analytic figures of the IR) and
"estimator:table" (a CSV benchmark table keyed by genotype string or row
index). Estimator.custom wraps a Python function.

    est = Estimator(ctx, "estimator:cost")
    est.estimate(net)            # {"macs": ..., "params": ..., ...}

    def latency(net, key, stream):
        return [net.macs / 1e9 * 3.1]
    lat = Estimator.custom(ctx, "roofline", "latency_ms:ms", latency)
"""
import ctypes
import threading

from . import _native
from ._native import lib, encode, decode, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Handle, Options, _options_text
from .errors import check, Stopped, StateError
from .accel import Accelerator
from .net import Net


class _Busy:
    """How many calls (from any thread) or runs are using an object now."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def enter(self):
        with self._lock:
            self.count += 1

    def leave(self):
        with self._lock:
            self.count -= 1

c_uint64, c_double, c_int64 = ctypes.c_uint64, ctypes.c_double, ctypes.c_int64

ESTIMATE_CB = ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_uint64, P(c_double), c_void_p)

_d = _native._declare
_d("hwnas_estimator_new", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_estimator_new_custom", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p, ESTIMATE_CB,
   c_void_p)
_d("hwnas_estimator_free", None, c_void_p)
_d("hwnas_estimator_kind", c_char_p, c_void_p)
_d("hwnas_estimator_options", c_void_p, c_void_p)
_d("hwnas_estimator_observe", c_int, c_void_p, c_char_p, c_size_t, P(c_char_p), P(c_double))
_d("hwnas_estimator_metric_count", c_size_t, c_void_p)
_d("hwnas_estimator_metric_name", c_char_p, c_void_p, c_size_t)
_d("hwnas_estimator_metric_unit", c_char_p, c_void_p, c_size_t)
_d("hwnas_estimator_metric_index", c_int64, c_void_p, c_char_p)
_d("hwnas_estimator_estimate", c_int, c_void_p, c_void_p, c_char_p, c_uint64, P(c_double))
_d("hwnas_estimator_estimate_on", c_int, c_void_p, c_void_p, c_void_p, c_char_p, c_uint64,
   P(c_double))
_d("hwnas_estimator_set_error", None, c_char_p)
_d("hwnas_estimator_interrupt", None)
_d("hwnas_estimator_interrupted", c_int)
_d("hwnas_estimator_current_accel", c_void_p)


class _AccelView(Accelerator):
    """The running estimate's accelerator, lent for the call: never freed
    here, and unusable (closed) once the call returns."""

    def close(self):
        self._ptr = None


def current_accel(ctx):
    """From inside a custom estimator's function: the accelerator the net
    is being estimated on (the candidate's hardware in a co-design search,
    or the one passed to Estimator.estimate(accel=...)), as a read-only
    Accelerator valid during the call; None when there is none."""
    ptr = lib.hwnas_estimator_current_accel()
    return _AccelView(ctx, c_void_p(ptr)) if ptr else None


def set_error(message):
    """From inside a custom estimator's function: the message a failing
    estimate reports (raising an exception does this for you)."""
    lib.hwnas_estimator_set_error(encode(message))


def interrupt():
    """From inside a custom estimator's function: the program is being
    interrupted and this estimate must not count. A search running it stops
    without keeping the candidate's batch, which the next run() (or a
    resume) estimates again. Raising KeyboardInterrupt or SystemExit in the
    function does this for you."""
    lib.hwnas_estimator_interrupt()


def interrupted():
    """Whether the last estimate that returned on this thread was
    interrupted."""
    return bool(lib.hwnas_estimator_interrupted())


def _metrics_text(metrics):
    """ "name:unit,..." from a string, a dict name -> unit, or a sequence
    of names or (name, unit) pairs (a bare name gets unit "1")."""
    if isinstance(metrics, str):
        return metrics
    if isinstance(metrics, dict):
        items = metrics.items()
    else:
        items = [(m, "1") if isinstance(m, str) else tuple(m) for m in metrics]
    return ",".join("%s:%s" % (name, unit) for name, unit in items)


class Estimator(Handle):
    """An estimator of a registered kind with options as "key=value;..."
    and/or keyword arguments:

        Estimator(ctx, "estimator:table", file="nb201.csv",
                  key="ArchitectureString", metrics="CIFAR10TestAccuracy200Epochs:acc:%")
    """

    def __init__(self, ctx, kind="estimator:cost", options=None, **kwargs):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._busy = _Busy()
        self._ptr = None
        self._cb = None
        self._fn = None
        ptr = c_void_p()
        check(lib.hwnas_estimator_new(ctypes.byref(ptr), ctx._ptr, encode(kind),
                                      encode(_options_text(options, kwargs) or None)))
        self._ptr = ptr
        self._init_metrics()

    @classmethod
    def custom(cls, ctx, name, metrics, fn):
        """An estimator that calls fn(net, key, stream) for each estimate.

        metrics: "name:unit,..." or a dict name -> unit or a list of names
        or (name, unit) pairs. fn gets a read-only Net (valid only during
        the call), the candidate's key string (or None) and its random
        stream, and returns one float per metric (a sequence in metric
        order, or a dict by name). If fn raises, estimate() raises
        hwnas.Stopped whose message carries the exception's text (and
        whose __cause__ is the exception).
        """
        self = cls.__new__(cls)
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._busy = _Busy()
        self._ptr = None
        self._fn = fn
        # The trampoline must not refer to self: an object holding a C
        # pointer in a reference cycle may be finalised after its context.
        failures = self._failures = threading.local()
        # A KeyboardInterrupt or SystemExit raised in fn, on whatever thread
        # the search ran it: the search that stops because of it re-raises it.
        interrupts = self._interrupts = []
        metric_names = []  # filled after creation; read by the trampoline
        busy = self._busy  # calls in progress, and searches running with it

        def trampoline(net_ptr, key, stream, values, user_data):
            view = None
            busy.enter()
            try:
                view = Net._borrow(ctx, net_ptr)
                out = fn(view, decode(key), stream)
                if isinstance(out, dict):
                    missing = [m for m in metric_names if m not in out]
                    if missing:
                        raise KeyError("result has no value for metric %s"
                                       % ", ".join(missing))
                    out = [out[m] for m in metric_names]
                else:
                    out = list(out)
                if len(out) != len(metric_names):
                    raise ValueError("returned %d values for %d metrics (%s)"
                                     % (len(out), len(metric_names), ", ".join(metric_names)))
                for i, v in enumerate(out):
                    values[i] = float(v)
                return 0
            except BaseException as e:  # must not unwind into C
                failures.exc = e
                text = "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__
                lib.hwnas_estimator_set_error(encode(text))
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    # Not this candidate's failure: the search drops the batch.
                    lib.hwnas_estimator_interrupt()
                    interrupts.append(e)
                return 1
            finally:
                busy.leave()
                if view is not None:
                    view._ptr = None  # the lent net is not ours after the call

        cb = ESTIMATE_CB(trampoline)
        ptr = c_void_p()
        check(lib.hwnas_estimator_new_custom(ctypes.byref(ptr), ctx._ptr, encode(name),
                                             encode(_metrics_text(metrics)), cb, None))
        self._ptr = ptr
        self._cb = cb  # alive as long as the estimator
        self._init_metrics()
        metric_names.extend(self._names)
        return self

    def _take_interrupt(self):
        """The first KeyboardInterrupt/SystemExit fn raised since the last
        call (others, from other threads, are the same interruption), or
        None."""
        pending = getattr(self, "_interrupts", None)
        if not pending:
            return None
        first = pending[0]
        del pending[:]
        return first

    def _init_metrics(self):
        n = lib.hwnas_estimator_metric_count(self._ptr)
        self._names = [decode(lib.hwnas_estimator_metric_name(self._ptr, i)) for i in range(n)]

    def _in_use(self):
        return self._busy.count > 0

    def close(self):
        """Free the estimator. Raises StateError while it is at work (from
        inside its own callback, or while a search that uses it runs)."""
        if self._ptr and self._in_use():
            raise StateError("cannot close an estimator while it is at work (from inside "
                             "its callback, or while a search that uses it runs)")
        if self._ptr:
            lib.hwnas_estimator_free(self._ptr)
            self._ptr = None
        self._cb = None


    @property
    def kind(self):
        """"estimator:cost", ..., or "custom:<name>"."""
        return decode(lib.hwnas_estimator_kind(self._ptr))

    @property
    def options(self):
        """The options (read-only view); None for a custom estimator."""
        p = lib.hwnas_estimator_options(self._ptr)
        if not p:
            return None
        return Options(self._ctx, None, _borrowed=p, _owner=self)

    @property
    def metrics(self):
        """Metric names, in order."""
        return list(self._names)

    @property
    def units(self):
        """Metric units, in order."""
        return [decode(lib.hwnas_estimator_metric_unit(self._ptr, i))
                for i in range(len(self._names))]

    def metric_index(self, name):
        """Index of a metric, or -1."""
        return lib.hwnas_estimator_metric_index(self._ptr, encode(name))

    def __len__(self):
        return len(self._names)

    def __repr__(self):
        return "Estimator(%r, metrics=%r)" % (self.kind, self._names)

    def estimate_values(self, net, key=None, stream=0, accel=None):
        """The metrics of net as a list in metric order; accel: the
        candidate's hardware (an hwnas.accel.Accelerator) or None."""
        n = len(self._names)
        values = (c_double * max(n, 1))()
        failures = getattr(self, "_failures", None)
        if failures is not None:
            failures.exc = None
        rc = lib.hwnas_estimator_estimate_on(self._ptr, net._live(),
                                             accel._live() if accel is not None else None,
                                             encode(key), int(stream), values)
        if rc < 0:
            cause = failures.exc if failures is not None else None
            if failures is not None:
                failures.exc = None
            if isinstance(cause, (KeyboardInterrupt, SystemExit)):
                self._take_interrupt()
                raise cause
            try:
                check(rc)
            except Stopped as e:
                if cause is not None:
                    raise e from cause
                raise
        return list(values[:n])

    def observe(self, key, metrics):
        """Tell the estimator a finished evaluation: the candidate's key
        (genotype string) and its metrics, a dict name -> value (NaN where
        unknown). estimator:predictor learns from it; other kinds ignore
        it. A key that is no genotype of the predictor's space raises
        hwnas.FormatError."""
        names = [encode(str(k)) for k in metrics]
        vals = [float(v) for v in metrics.values()]
        n = len(names)
        check(lib.hwnas_estimator_observe(self._ptr, encode(key), n,
                                          (c_char_p * max(n, 1))(*names),
                                          (c_double * max(n, 1))(*vals)))

    def estimate(self, net, key=None, stream=0, accel=None):
        """The metrics of net as a dict name -> value. key: the candidate's
        genotype string (estimator:table looks rows up by it); stream: its
        random stream; accel: the candidate's hardware (an
        hwnas.accel.Accelerator, e.g. from Space.decode_accel), which
        estimator:accelerator prices on instead of its own description and
        the other kinds ignore (Python custom estimators see the net only).
        A missing table row raises hwnas.NotFound; a failing custom
        function hwnas.Stopped."""
        return dict(zip(self._names, self.estimate_values(net, key, stream, accel)))
