"""Models (model.h): a net with fp32 weights, trained on the CPU.

    net = Net.load(ctx, "examples/nets/fmnist_ref.net")
    model = Model(ctx, net, seed=1)
    model.train(train_set, epochs=2, lr=0.05,
                progress=lambda p: print(p["epoch"], p["loss"]))
    acc, loss, confusion = model.evaluate(test_set)
    labels = model.predict(images)                 # N,C,H,W float32
    model.save("fmnist.weights.gz")

Images go in as numpy arrays (float32, N,C,H,W; N,H,W for one channel)
or flat sequences of floats; results come back as numpy arrays when numpy
is installed, lists otherwise.
"""
import ctypes
import os

from . import _native
from ._native import lib, encode, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Handle, _options_text
from .errors import check, Stopped
from .net import Net

try:
    import numpy as _np
except ImportError:  # everything works without numpy, on lists
    _np = None

c_int32, c_int64, c_uint8, c_uint64, c_double, c_float = (ctypes.c_int32, ctypes.c_int64,
                                                          ctypes.c_uint8, ctypes.c_uint64,
                                                          ctypes.c_double, ctypes.c_float)

EVENT_BATCH, EVENT_EPOCH = 0, 1
_EVENTS = {EVENT_BATCH: "batch", EVENT_EPOCH: "epoch"}

PROGRESS_CB = ctypes.CFUNCTYPE(c_int, c_int, c_int64, c_int64, c_int64, c_int64, c_double,
                               c_double, c_double, c_void_p)


def _progress_cb(progress):
    """(C callback, failure) for a Python progress callable (or None): the
    callback passes a dict to progress and stops the run when it returns
    True or raises; failure[0] then holds the exception, for
    _raise_stopped."""
    failure = [None]
    if progress is None:
        return PROGRESS_CB(), failure

    def trampoline(event, epoch, epochs, batch, batches, loss, accuracy, lr, _ud):
        try:
            stop = progress({"event": _EVENTS.get(event, event), "epoch": epoch,
                             "epochs": epochs, "batch": batch, "batches": batches,
                             "loss": loss, "accuracy": accuracy, "lr": lr})
            return 1 if stop else 0
        except BaseException as e:  # must not unwind into C
            failure[0] = e
            return 1
    return PROGRESS_CB(trampoline), failure

_d = _native._declare
_d("hwnas_model_new", c_int, P(c_void_p), c_void_p, c_void_p, c_uint64)
_d("hwnas_model_free", None, c_void_p)
_d("hwnas_model_net", c_void_p, c_void_p)
_d("hwnas_model_param_count", c_size_t, c_void_p)
_d("hwnas_model_classes", c_size_t, c_void_p)
_d("hwnas_model_train", c_int, c_void_p, c_void_p, c_char_p, PROGRESS_CB, c_void_p)
_d("hwnas_model_train_checkpoint", c_int, c_void_p, c_void_p, c_char_p, c_char_p, PROGRESS_CB,
   c_void_p)
_d("hwnas_model_train_loss", c_double, c_void_p)
_d("hwnas_model_train_accuracy", c_double, c_void_p)
_d("hwnas_model_evaluate", c_int, P(c_double), P(c_double), c_void_p, c_void_p, c_void_p,
   c_size_t)
_d("hwnas_model_predict", c_int, c_void_p, c_void_p, c_void_p, c_void_p, c_size_t)
_d("hwnas_model_save", c_int, c_void_p, c_char_p)
_d("hwnas_model_load", c_int, c_void_p, c_char_p)
_d("hwnas_model_save_buffer", c_int, P(c_void_p), P(c_size_t), c_void_p)
_d("hwnas_model_load_buffer", c_int, c_void_p, c_void_p, c_size_t, c_char_p)


def _raise_stopped(rc, cause):
    """check(rc), chaining a callback's exception to the Stopped error."""
    try:
        check(rc)
    except Stopped as e:
        if cause is not None:
            raise e from cause
        raise


class Model(Handle):
    """A model of net with weights initialised from seed (He-normal
    convolution and linear weights, zero biases). The net is copied."""

    def __init__(self, ctx, net, seed=1):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = None
        ptr = c_void_p()
        check(lib.hwnas_model_new(ctypes.byref(ptr), ctx._ptr, net._live(), int(seed)))
        self._ptr = ptr
        n = self.net
        try:  # the engine accepts exactly one input node
            shapes = [tuple(node.shape[1:]) for node in n if node.kind_name == "input"]
            self._input_shape = shapes[0] if len(shapes) == 1 and len(shapes[0]) == 3 else None
        finally:
            n.close()

    def close(self):
        if self._ptr:
            # A context the garbage collector finalised first (a reference
            # cycle) has taken the allocator: leave the memory then.
            if self._ctx._ptr:
                lib.hwnas_model_free(self._ptr)
            self._ptr = None


    def _live(self):
        if not self._ptr:
            raise ValueError("this model is closed")
        return self._ptr

    # ---- description ------------------------------------------------

    @property
    def net(self):
        """A copy of the model's net (an hwnas.Net of its own)."""
        ptr = c_void_p()
        check(lib.hwnas_net_clone(ctypes.byref(ptr), lib.hwnas_model_net(self._live())))
        return Net(self._ctx, _ptr=ptr)

    @property
    def param_count(self):
        """Trainable parameters."""
        return lib.hwnas_model_param_count(self._live())

    @property
    def classes(self):
        """Number of classes the model scores."""
        return lib.hwnas_model_classes(self._live())

    @property
    def input_shape(self):
        """(C, H, W) of one input image."""
        return self._input_shape

    @property
    def train_loss(self):
        """Mean loss of the last epoch of the last train() (NaN before)."""
        return lib.hwnas_model_train_loss(self._live())

    @property
    def train_accuracy(self):
        """Accuracy of the last epoch of the last train() (NaN before)."""
        return lib.hwnas_model_train_accuracy(self._live())

    def __repr__(self):
        if not self._ptr:
            return "Model(<closed>)"
        return "Model(%d params, %d classes)" % (self.param_count, self.classes)

    # ---- training and inference --------------------------------------

    def train(self, dataset, options=None, progress=None, checkpoint=None, **kwargs):
        """Train on an hwnas.Dataset with the "model" options ("key=value;
        ..." and/or keywords: epochs, batch, lr, momentum, nesterov,
        weight_decay, schedule, warmup, step_epochs, gamma, label_smoothing,
        augment, crop_pad, flip, seed, init).

        progress: a callable receiving a dict (event "batch" or "epoch",
        epoch, epochs, batch, batches, loss, accuracy, lr) after every
        mini-batch and every epoch; returning True stops training, as does
        raising, and train() then raises hwnas.Stopped (with the exception
        as its __cause__). Returns (loss, accuracy) of the last epoch.

        checkpoint: a file path; the run's state is saved there after every
        epoch, and a run stopped or killed resumes from it when train() is
        called again with the same net, options and dataset, ending with the
        same weights as an uninterrupted run (a finished run's file returns
        at once). Another run's file raises hwnas.InvalidArgument naming
        what differs; a corrupt one hwnas.FormatError.
        """
        cb, failure = _progress_cb(progress)
        text = encode(_options_text(options, kwargs) or None)
        if checkpoint is None:
            rc = lib.hwnas_model_train(self._live(), dataset._ptr, text, cb, None)
        else:
            rc = lib.hwnas_model_train_checkpoint(self._live(), dataset._ptr, text,
                                                  encode(os.fspath(checkpoint)), cb, None)
        _raise_stopped(rc, failure[0])
        return self.train_loss, self.train_accuracy

    def evaluate(self, dataset, batch=0):
        """(accuracy, loss, confusion) on an hwnas.Dataset in inference
        mode. confusion[true][predicted] counts samples: a classes x classes
        int64 numpy array (a list of lists without numpy)."""
        k = self.classes
        acc, loss = c_double(), c_double()
        conf = (c_int64 * max(k * k, 1))()
        check(lib.hwnas_model_evaluate(ctypes.byref(acc), ctypes.byref(loss), conf,
                                       self._live(), dataset._ptr, int(batch)))
        if _np is not None:
            matrix = _np.ctypeslib.as_array(conf)[:k * k].reshape(k, k).copy()
        else:
            matrix = [list(conf[r * k:(r + 1) * k]) for r in range(k)]
        return acc.value, loss.value, matrix

    def _images(self, images):
        """A C float buffer, the image count and the object holding the
        memory, from images."""
        shape = self._input_shape
        if shape is None:
            raise ValueError("the model's input shape is unknown")
        size = shape[0] * shape[1] * shape[2]
        if _np is not None and not isinstance(images, (list, tuple)):
            x = _np.asarray(images)
            if x.dtype == _np.uint8:
                raise ValueError("images must be floats (scale uint8 pixels first)")
            if x.ndim == 3 and shape[0] == 1 and x.shape[1:] == shape[1:]:
                x = x[:, None, :, :]  # N,H,W of one channel
            elif tuple(x.shape) == shape:
                x = x[None]  # one image
            elif x.ndim == 1 and x.size % size == 0:
                x = x.reshape((-1,) + shape)  # flat
            if x.ndim != 4 or tuple(x.shape[1:]) != shape:
                raise ValueError("images of shape %r; the model takes N x %s"
                                 % (x.shape, "x".join(map(str, shape))))
            x = _np.ascontiguousarray(x, dtype=_np.float32)
            return x.ctypes.data, x.shape[0], x
        flat = [float(v) for v in images]
        if len(flat) % size:
            raise ValueError("%d floats are not whole images of %d floats" % (len(flat), size))
        buf = (c_float * max(len(flat), 1))(*flat)
        return ctypes.addressof(buf), len(flat) // size, buf

    def predict(self, images, probabilities=False):
        """Classify images (N,C,H,W floats, N,H,W for one channel, one
        C,H,W image, or a flat sequence of floats). Returns the labels
        (int32 array or list); with probabilities=True, (labels, probs)
        where probs is N x classes softmax output."""
        data, n, _keep = self._images(images)
        if n == 0:
            raise ValueError("no images")
        k = self.classes
        labels = (c_int32 * n)()
        probs = (c_float * (n * k))() if probabilities else None
        check(lib.hwnas_model_predict(ctypes.addressof(probs) if probs is not None else None,
                                      labels, self._live(), data, n))
        if _np is not None:
            y = _np.ctypeslib.as_array(labels).copy()
            p = _np.ctypeslib.as_array(probs).reshape(n, k).copy() if probabilities else None
        else:
            y = list(labels)
            p = [list(probs[r * k:(r + 1) * k]) for r in range(n)] if probabilities else None
        return (y, p) if probabilities else y

    # ---- weights ----------------------------------------------------

    def save(self, path):
        """Write the weights to path (gzip, atomically)."""
        check(lib.hwnas_model_save(self._live(), encode(str(path))))

    def load(self, path):
        """Read weights saved from a model of the same net (all or
        nothing: hwnas.FormatError leaves the model unchanged)."""
        check(lib.hwnas_model_load(self._live(), encode(str(path))))

    def save_bytes(self):
        """The weights file's uncompressed bytes."""
        out, n = c_void_p(), c_size_t()
        check(lib.hwnas_model_save_buffer(ctypes.byref(out), ctypes.byref(n), self._live()))
        try:
            return ctypes.string_at(out, n.value)
        finally:
            lib.hwnas_free(out)

    def load_bytes(self, data, name=None):
        """Load weights from bytes written by save_bytes()."""
        data = bytes(data)
        check(lib.hwnas_model_load_buffer(self._live(), data, len(data), encode(name)))
