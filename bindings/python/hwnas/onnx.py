"""ONNX import and export (include/hwnas/onnx.h, doc/formats/onnx.md).

    net, model = hwnas.onnx.load(ctx, "model.onnx")   # model None: no weights
    hwnas.onnx.save(net, "out.onnx", model=model)
    data = hwnas.onnx.export(net, model)               # bytes
    net, model = hwnas.onnx.import_bytes(ctx, data)

available() is False for a library built with -Donnx=disabled; the other
functions then raise hwnas.Unsupported.
"""
import ctypes

from . import _native
from ._native import lib, encode, c_int, c_char_p, c_void_p, c_size_t, P
from .errors import check
from .model import Model
from .net import Net

_d = _native._declare
_d("hwnas_onnx_available", c_int)
_d("hwnas_onnx_import", c_int, P(c_void_p), P(c_void_p), c_void_p, c_void_p, c_size_t, c_char_p)
_d("hwnas_onnx_load", c_int, P(c_void_p), P(c_void_p), c_void_p, c_char_p)
_d("hwnas_onnx_export", c_int, P(c_void_p), P(c_size_t), c_void_p, c_void_p)
_d("hwnas_onnx_save", c_int, c_void_p, c_void_p, c_char_p)


def available():
    """True when this libhwnas reads and writes ONNX."""
    return bool(lib.hwnas_onnx_available())


def _wrap(ctx, net_ptr, model_ptr):
    net = Net(ctx, _ptr=net_ptr)
    model = None
    if model_ptr.value:
        model = Model.__new__(Model)
        model._ctx = ctx
        ctx._adopt(model)
        model._ptr = model_ptr
        model._input_shape = tuple(next(n.shape[1:] for n in net if n.kind_name == "input"))
    return net, model


def import_bytes(ctx, data, name=None, weights=True):
    """(net, model) from an ONNX file's bytes; model is None when weights
    is False or the file carries no weights. Errors: hwnas.FormatError,
    hwnas.Unsupported (an operator outside the subset, named)."""
    data = bytes(data)
    buf = (ctypes.c_char * max(len(data), 1)).from_buffer_copy(data or b"\0")
    net, model = c_void_p(), c_void_p()
    check(lib.hwnas_onnx_import(ctypes.byref(net), ctypes.byref(model) if weights else None,
                                ctx._ptr, buf, len(data), encode(name)))
    return _wrap(ctx, net, model)


def load(ctx, path, weights=True):
    """import_bytes() of the file at path."""
    net, model = c_void_p(), c_void_p()
    check(lib.hwnas_onnx_load(ctypes.byref(net), ctypes.byref(model) if weights else None,
                              ctx._ptr, encode(str(path))))
    return _wrap(ctx, net, model)


def export(net, model=None):
    """The ONNX bytes of net (with model's weights as initialisers, or the
    architecture alone when model is None)."""
    out, n = c_void_p(), c_size_t()
    check(lib.hwnas_onnx_export(ctypes.byref(out), ctypes.byref(n), net._live(),
                                model._live() if model is not None else None))
    try:
        return ctypes.string_at(out, n.value)
    finally:
        lib.hwnas_free(out)


def save(net, path, model=None):
    """export() written to path atomically."""
    check(lib.hwnas_onnx_save(net._live(), model._live() if model is not None else None,
                              encode(str(path))))
