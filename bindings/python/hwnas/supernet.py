"""Supernets (supernet.h): weight sharing for one-shot NAS.

    sn = Supernet(ctx, "cell", channels=8, cells=2, input_channels=1,
                  input_size=28)
    sn.train(train_set, epochs=4, batch=64, checkpoint="cell.snet.ckpt",
             mean=mean, std=std)
    sn.save("cell.snet")
    choices = sn.parse_key("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|")
    model = sn.subnet(choices)          # an hwnas.Model with inherited weights
    Supernet.calibrate(model, train_set, n=512)
    acc = sn.rate(choices, calib=train_set, n_calib=512, eval=val_set)

A path is a choice vector: for "cell", one operation per edge (6 entries in
0..4: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3), which
is space:cell's genotype; for "macro", space:macro's genotype (per stage:
blocks, width, multiplier - exact only -, then op and se of each slot);
for "cgp", space:cgp's genotype (12 genes per grid node, then the output
node and the head's multiplier; every multiplier gene has one value:
exact, 32 bits), whose comma-separated text parse_key reads.
"""
import ctypes

from . import _native
from ._native import lib, encode, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Handle, _options_text
from .errors import check
from .model import Model, PROGRESS_CB, _progress_cb, _raise_stopped

c_uint32, c_uint64, c_double = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_double

_d = _native._declare
_d("hwnas_supernet_new", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_supernet_free", None, c_void_p)
_d("hwnas_supernet_load", c_int, P(c_void_p), c_void_p, c_char_p)
_d("hwnas_supernet_save", c_int, c_void_p, c_char_p)
_d("hwnas_supernet_space", c_char_p, c_void_p)
_d("hwnas_supernet_options", c_char_p, c_void_p)
_d("hwnas_supernet_choice_count", c_size_t, c_void_p)
_d("hwnas_supernet_choice_cardinality", c_uint32, c_void_p, c_size_t)
_d("hwnas_supernet_steps_done", c_uint64, c_void_p)
_d("hwnas_supernet_steps_total", c_uint64, c_void_p)
_d("hwnas_supernet_param_count", c_size_t, c_void_p)
_d("hwnas_supernet_normalization", c_int, P(c_double), P(c_double), c_void_p)
_d("hwnas_supernet_parse_key", c_int, P(c_uint32), c_void_p, c_char_p)
_d("hwnas_supernet_subnet", c_int, P(c_void_p), c_void_p, P(c_uint32))
_d("hwnas_supernet_calibrate", c_int, c_void_p, c_void_p, c_size_t, c_size_t)
_d("hwnas_supernet_rate", c_int, P(c_double), c_void_p, P(c_uint32), c_void_p, c_size_t,
   c_void_p, c_size_t)
_d("hwnas_supernet_train", c_int, c_void_p, c_void_p, P(c_double), P(c_double), c_char_p,
   c_char_p, PROGRESS_CB, c_void_p)


class Supernet(Handle):
    """A supernet of space "cell" with the options of supernet:nb201
    (channels, cells, classes, input_channels, input_size, seed), or of
    space "macro" with those of supernet:ofa (space:macro's, less
    multipliers, and seed), or of space "cgp" with those of supernet:cgp
    (space:cgp's grid, input, classes, min_size and stem, and seed), as a
    string and/or keywords."""

    def __init__(self, ctx, space="cell", options=None, _ptr=None, **kwargs):
        self._ctx = ctx
        ctx._adopt(self)
        self._ptr = None
        if _ptr is None:
            ptr = c_void_p()
            check(lib.hwnas_supernet_new(ctypes.byref(ptr), ctx._ptr, encode(space),
                                         encode(_options_text(options, kwargs) or None)))
            _ptr = ptr
        self._ptr = _ptr

    @classmethod
    def load(cls, ctx, path):
        """Read a supernet file (a finished training or a checkpoint)."""
        ptr = c_void_p()
        check(lib.hwnas_supernet_load(ctypes.byref(ptr), ctx._ptr, encode(str(path))))
        return cls(ctx, _ptr=ptr)

    def close(self):
        if self._ptr:
            if self._ctx._ptr:
                lib.hwnas_supernet_free(self._ptr)
            self._ptr = None

    def _live(self):
        if not self._ptr:
            raise ValueError("this supernet is closed")
        return self._ptr

    def save(self, path):
        """Write the supernet (weights and training state) atomically."""
        check(lib.hwnas_supernet_save(self._live(), encode(str(path))))

    @property
    def space(self):
        return lib.hwnas_supernet_space(self._live()).decode()

    @property
    def options(self):
        """The construction options as text."""
        return lib.hwnas_supernet_options(self._live()).decode()

    @property
    def cardinalities(self):
        """Choices of each entry of a choice vector."""
        p = self._live()
        return [lib.hwnas_supernet_choice_cardinality(p, i)
                for i in range(lib.hwnas_supernet_choice_count(p))]

    @property
    def steps(self):
        """(done, planned) training steps."""
        p = self._live()
        return lib.hwnas_supernet_steps_done(p), lib.hwnas_supernet_steps_total(p)

    @property
    def param_count(self):
        return lib.hwnas_supernet_param_count(self._live())

    def normalization(self, channels):
        """(mean, std) lists of the inputs it was trained with."""
        mean, std = (c_double * channels)(), (c_double * channels)()
        check(lib.hwnas_supernet_normalization(mean, std, self._live()))
        return list(mean), list(std)

    def _choices(self, choices):
        n = lib.hwnas_supernet_choice_count(self._live())
        if len(choices) != n:
            raise ValueError("a choice vector has %d entries, not %d" % (n, len(choices)))
        return (c_uint32 * n)(*[int(c) for c in choices])

    def parse_key(self, key):
        """The choice vector of a candidate's key (a NAS-Bench-201 string,
        or space:macro's comma-separated genes)."""
        n = lib.hwnas_supernet_choice_count(self._live())
        out = (c_uint32 * n)()
        check(lib.hwnas_supernet_parse_key(out, self._live(), encode(key)))
        return list(out)

    def subnet(self, choices):
        """The path's stand-alone hwnas.Model with the shared weights."""
        ptr = c_void_p()
        check(lib.hwnas_supernet_subnet(ctypes.byref(ptr), self._live(), self._choices(choices)))
        m = Model.__new__(Model)
        m._ctx = self._ctx
        self._ctx._adopt(m)
        m._ptr = ptr
        n = m.net
        try:  # as Model(): the one input node's (C, H, W)
            shapes = [tuple(node.shape[1:]) for node in n if node.kind_name == "input"]
            m._input_shape = shapes[0] if len(shapes) == 1 and len(shapes[0]) == 3 else None
        finally:
            n.close()
        return m

    @staticmethod
    def calibrate(model, dataset, n=0, batch=0):
        """Recalibrate model's batch-norm statistics on the first n samples."""
        check(lib.hwnas_supernet_calibrate(model._live(), dataset._ptr, int(n), int(batch)))

    def rate(self, choices, calib, eval, n_calib=512, n_eval=0):
        """Accuracy in [0, 1] of the path with inherited weights."""
        acc = c_double()
        check(lib.hwnas_supernet_rate(ctypes.byref(acc), self._live(), self._choices(choices),
                                      calib._ptr, int(n_calib), eval._ptr, int(n_eval)))
        return acc.value

    def train(self, dataset, options=None, checkpoint=None, mean=None, std=None,
              progress=None, **kwargs):
        """SPOS training with the supernet_train options (epochs, batch, lr,
        momentum, nesterov, weight_decay, seed, checkpoint_every; for the
        macro space sandwich and distill); progress
        as Model.train's. A supernet loaded from its checkpoint resumes."""
        cb, failure = _progress_cb(progress)
        m = s = None
        if mean is not None:
            m = (c_double * len(mean))(*mean)
            s = (c_double * len(std))(*std)
        rc = lib.hwnas_supernet_train(self._live(), dataset._ptr, m, s,
                                      encode(_options_text(options, kwargs) or None),
                                      encode(str(checkpoint)) if checkpoint else None, cb, None)
        _raise_stopped(rc, failure[0])

    def __repr__(self):
        if not self._ptr:
            return "Supernet(<closed>)"
        return "Supernet(%s: %s)" % (self.space, self.options)
