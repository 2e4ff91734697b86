"""int8 inference with approximate multipliers (quant.h).

A Quant is a post-training quantised copy of a trained hwnas.Model: every
convolution, depthwise convolution and linear layer computes with 8-bit
operands, each 8x8 product read from the table of the multiplier its net
node names (resolved in an hwnas.AxmulRegistry); everything else runs in
fp32. doc/int8.md describes the scheme.

    q = Quant(model, calib_set, calib_batches=2)
    acc, confusion = q.evaluate(test_set)
    q.set_multiplier("drum:k=4")           # every layer
    q.set_multiplier(Axmul(ctx, "bam:h=2,v=6"), layer=0)
    labels = q.predict(images)
    q.finetune(model, train_set, epochs=1)  # multiplier-aware fine-tuning
    quant_accuracy(model, calib_set, test_set)

A Quant holds copies of the weights and tables it needs: the model and
registry may be closed afterwards. One call at a time (not thread-safe).
"""
import ctypes

from . import _native
from ._native import lib, encode, decode, c_int, c_char_p, c_void_p, c_size_t, P
from .axmul import Axmul, Registry
from .core import Handle, _options_text
from .errors import check
from .model import Model, PROGRESS_CB, _progress_cb, _raise_stopped

try:
    import numpy as _np
except ImportError:  # everything works without numpy, on lists
    _np = None

c_int32, c_int64, c_double, c_float = ctypes.c_int32, ctypes.c_int64, ctypes.c_double, \
    ctypes.c_float

_d = _native._declare
_d("hwnas_quant_new", c_int, P(c_void_p), c_void_p, c_void_p, c_void_p, c_char_p)
_d("hwnas_quant_free", None, c_void_p)
_d("hwnas_quant_layer_count", c_size_t, c_void_p)
_d("hwnas_quant_layer_node", c_int64, c_void_p, c_size_t)
_d("hwnas_quant_layer_multiplier", c_char_p, c_void_p, c_size_t)
_d("hwnas_quant_layer_range", c_int, P(c_double), P(c_double), c_void_p, c_size_t)
_d("hwnas_quant_set_multiplier", c_int, c_void_p, c_int64, c_void_p)
_d("hwnas_quant_predict", c_int, c_void_p, c_void_p, c_void_p, c_void_p, c_size_t)
_d("hwnas_quant_evaluate", c_int, P(c_double), c_void_p, c_void_p, c_void_p)
_d("hwnas_quant_accuracy", c_int, P(c_double), c_void_p, c_void_p, c_void_p, c_void_p,
   c_char_p)
_d("hwnas_quant_finetune", c_int, c_void_p, c_void_p, c_void_p, c_char_p, PROGRESS_CB,
   c_void_p)


def _opts(options, kwargs):
    return encode(_options_text(options, kwargs) or None)


def _reg(reg):
    if reg is None:
        return None
    if not isinstance(reg, Registry):
        raise TypeError("reg must be an hwnas.AxmulRegistry, not %s" % type(reg).__name__)
    return reg._ptr


class QuantLayer:
    """One quantised layer: its index, net node index, multiplier name and
    calibrated input range (min, max)."""

    __slots__ = ("index", "node", "multiplier", "range")

    def __init__(self, index, node, multiplier, range_):
        self.index, self.node, self.multiplier, self.range = index, node, multiplier, range_

    def __repr__(self):
        return "QuantLayer(%d, node=%d, multiplier=%r, range=(%.4g, %.4g))" % (
            self.index, self.node, self.multiplier, self.range[0], self.range[1])


class Quant(Handle):
    """model (a trained hwnas.Model) quantised to int8, activation ranges
    calibrated on calib (an hwnas.Dataset in the model's input shape).
    Options of the kind "quant" as a string and/or keywords:
    calib_batches, batch, weights (auto|tensor|channel), fold_bn.
    reg: an hwnas.AxmulRegistry resolving the multipliers the net names
    (None: the built-in families)."""

    def __init__(self, model, calib, options=None, *, reg=None, **kwargs):
        ctx = model._ctx
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = None
        self._input_shape, self._classes = model.input_shape, model.classes
        ptr = c_void_p()
        check(lib.hwnas_quant_new(ctypes.byref(ptr), model._live(), _reg(reg), calib._ptr,
                                  _opts(options, kwargs)))
        self._ptr = ptr

    def close(self):
        if self._ptr:
            if self._ctx._ptr:  # a context finalised first has taken the allocator
                lib.hwnas_quant_free(self._ptr)
            self._ptr = None


    def _live(self):
        if not self._ptr:
            raise ValueError("this quant model is closed")
        return self._ptr

    @property
    def classes(self):
        return self._classes

    @property
    def input_shape(self):
        """(C, H, W) of one input image."""
        return self._input_shape

    # ---- layers -----------------------------------------------------

    def __len__(self):
        """Number of quantised layers."""
        return lib.hwnas_quant_layer_count(self._live())

    def layer(self, i):
        """Quantised layer i as a QuantLayer."""
        p = self._live()
        n = lib.hwnas_quant_layer_count(p)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("quantised layer %d of %d" % (i, n))
        lo, hi = c_double(), c_double()
        check(lib.hwnas_quant_layer_range(ctypes.byref(lo), ctypes.byref(hi), p, i))
        return QuantLayer(i, lib.hwnas_quant_layer_node(p, i),
                          decode(lib.hwnas_quant_layer_multiplier(p, i)), (lo.value, hi.value))

    def layers(self):
        """Every quantised layer, in order, as QuantLayer records."""
        return [self.layer(i) for i in range(len(self))]

    def multipliers(self):
        """The multiplier name of every quantised layer."""
        p = self._live()
        return [decode(lib.hwnas_quant_layer_multiplier(p, i)) for i in range(len(self))]

    def set_multiplier(self, multiplier, layer=None):
        """Make quantised layer `layer` (None or -1: every layer) compute
        with multiplier: an hwnas.Axmul (copied) or a built-in spec such as
        "drum:k=4". Weights are requantised when the signedness changes."""
        p = self._live()
        if isinstance(multiplier, Axmul):
            m, tmp = multiplier, None
        else:
            m = tmp = Axmul(self._ctx, str(multiplier))
        try:
            i = -1 if layer is None else int(layer)
            check(lib.hwnas_quant_set_multiplier(p, i, m._live()))
        finally:
            if tmp is not None:
                tmp.close()
        return self

    # ---- inference --------------------------------------------------

    def predict(self, images, scores=False):
        """Classify images through the int8 path (N,C,H,W floats, N,H,W for
        one channel, one C,H,W image, or a flat sequence). Returns the
        labels (int32 array or list); with scores=True, (labels, scores)
        where scores is N x classes: the net's last node's output."""
        data, n, _keep = Model._images(self, images)
        if n == 0:
            raise ValueError("no images")
        k = self._classes
        labels = (c_int32 * n)()
        out = (c_float * (n * k))() if scores else None
        check(lib.hwnas_quant_predict(ctypes.addressof(out) if out is not None else None,
                                      labels, self._live(), data, n))
        if _np is not None:
            y = _np.ctypeslib.as_array(labels).copy()
            s = _np.ctypeslib.as_array(out).reshape(n, k).copy() if scores else None
        else:
            y = list(labels)
            s = [list(out[r * k:(r + 1) * k]) for r in range(n)] if scores else None
        return (y, s) if scores else y

    def evaluate(self, dataset):
        """(accuracy, confusion) of the int8 path on an hwnas.Dataset;
        confusion[label][prediction] counts samples (classes x classes int64
        numpy array, a list of lists without numpy)."""
        k = self._classes
        acc = c_double()
        conf = (c_int64 * max(k * k, 1))()
        check(lib.hwnas_quant_evaluate(ctypes.byref(acc), conf, self._live(), dataset._ptr))
        if _np is not None:
            matrix = _np.ctypeslib.as_array(conf)[:k * k].reshape(k, k).copy()
        else:
            matrix = [list(conf[r * k:(r + 1) * k]) for r in range(k)]
        return acc.value, matrix

    # ---- fine-tuning --------------------------------------------------

    def finetune(self, model, dataset, options=None, progress=None, **kwargs):
        """Approximate-multiplier-aware fine-tuning of model (the trained
        hwnas.Model this Quant was made from) on an hwnas.Dataset: the
        forward pass is this Quant's int8 inference, the backward pass the
        straight-through estimator (doc/int8.md). Options of the kind
        "quant_finetune" ("key=value;..." and/or keywords): epochs, batch,
        lr, momentum, weight_decay, schedule, label_smoothing, seed,
        recalibrate. Afterwards model holds the fine-tuned fp32 weights and
        this Quant computes with them. progress: as for Model.train (loss
        and accuracy of the int8 forward pass); returning True stops it
        with hwnas.Stopped. Returns (loss, accuracy) of the last epoch."""
        cb, failure = _progress_cb(progress)
        if not isinstance(model, Model):
            raise TypeError("model must be an hwnas.Model, not %s" % type(model).__name__)
        rc = lib.hwnas_quant_finetune(self._live(), model._live(), dataset._ptr,
                                      _opts(options, kwargs), cb, None)
        _raise_stopped(rc, failure[0])
        return model.train_loss, model.train_accuracy

    def __repr__(self):
        if not self._ptr:
            return "Quant(<closed>)"
        return "Quant(%d int8 layers: %s)" % (len(self), ", ".join(sorted(set(self.multipliers()))))


def quant_accuracy(model, calib, dataset, options=None, *, reg=None, **kwargs):
    """accuracy_q in one call: quantise model with the multipliers its net
    names (calibrated on calib; options and reg as for Quant), evaluate on
    dataset, free. Returns the accuracy."""
    acc = c_double()
    check(lib.hwnas_quant_accuracy(ctypes.byref(acc), model._live(), _reg(reg), calib._ptr,
                                   dataset._ptr, _opts(options, kwargs)))
    return acc.value


__all__ = ["Quant", "QuantLayer", "quant_accuracy"]
