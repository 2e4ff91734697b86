"""The accelerator model (accel.h): a net mapped layer by layer onto a
spatial array, with energy, cycles and area per memory level.

An Accelerator is a hardware description (doc/formats/hardware.md, a
"hwnas-hw 2" file, or a version 1 file of estimator:energy); run() maps
every multiplying layer of a net onto it and returns an AccelResult:

    acc = Accelerator.load(ctx, "eyeriss.hw")
    acc.levels                               # ["DRAM", "shared_glb", ...]
    res = acc.run(net, objective="edp", budget=2000, batch=4)
    res.energy_uj, res.latency_ms            # the whole net
    [(l.name, l.mapping) for l in res.layers]
    res.metric("cycles", layer=0)            # a figure of layer 0
    res.level("DRAM", "weights", "reads")    # scalar accesses at a level
    res.level_energy(0, layer="conv1")       # uJ spent at a level
    res.json()                               # everything, as a dict

A description is read-only once loaded: it may be shared by threads and
run() may be called concurrently on it. A result does not need its
description any more (it copies what it shows), only its context.
"""
import ctypes
import json as _json

from . import _native
from ._native import lib, encode, decode, take_string, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Handle, _options_text
from .errors import check

c_double, c_int64 = ctypes.c_double, ctypes.c_int64

_d = _native._declare
_d("hwnas_accel_load", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_accel_parse", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p, c_char_p)
_d("hwnas_accel_free", None, c_void_p)
_d("hwnas_accel_format", c_int, c_void_p, P(c_void_p))
_d("hwnas_accel_name", c_char_p, c_void_p)
_d("hwnas_accel_level_count", c_size_t, c_void_p)
_d("hwnas_accel_level_name", c_char_p, c_void_p, c_size_t)
_d("hwnas_accel_clock_mhz", c_double, c_void_p)
_d("hwnas_accel_mac_count", c_int64, c_void_p)
_d("hwnas_accel_area_mm2", c_double, c_void_p)
_d("hwnas_accel_hash", ctypes.c_uint64, c_void_p)
_d("hwnas_accel_run", c_int, P(c_void_p), c_void_p, c_void_p, c_char_p)
_d("hwnas_accel_result_free", None, c_void_p)
_d("hwnas_accel_result_layer_count", c_size_t, c_void_p)
_d("hwnas_accel_result_layer_node", c_int64, c_void_p, c_size_t)
_d("hwnas_accel_result_layer_name", c_char_p, c_void_p, c_size_t)
_d("hwnas_accel_result_layer_mapping", c_char_p, c_void_p, c_size_t)
_d("hwnas_accel_result_metric", c_int, P(c_double), c_void_p, c_int64, c_char_p)
_d("hwnas_accel_result_level", c_int, P(c_double), c_void_p, c_int64, c_size_t, c_char_p,
   c_char_p)
_d("hwnas_accel_result_json", c_int, c_void_p, P(c_void_p))
_d("hwnas_accel_result_level_count", c_size_t, c_void_p)
_d("hwnas_accel_result_level_name", c_char_p, c_void_p, c_size_t)

#: The figures hwnas_accel_result_metric knows, per layer and for the net.
METRICS = ("energy_uj", "energy_mac_uj", "energy_mul_uj", "latency_ms", "cycles", "edp",
           "utilisation", "dram_accesses", "macs", "mac_energy_share", "area_mm2")
OPERANDS = ("weights", "inputs", "outputs")
ACTIONS = ("reads", "fills", "updates")


def _dir(axmul_dir):
    return None if axmul_dir is None else encode(str(axmul_dir))


class Accelerator(Handle):
    """A hardware description. Make one with Accelerator.load (a file) or
    Accelerator.parse (text); close() frees it (results stay usable)."""

    def __init__(self, ctx, _ptr):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = _ptr

    @classmethod
    def load(cls, ctx, path, axmul_dir=None):
        """Read a description file (gzip read transparently). Multipliers
        that are not built in are looked up in axmul_dir. Errors name the
        file and line: hwnas.FormatError, hwnas.NotFound, hwnas.IOFailure,
        hwnas.VersionError."""
        ptr = c_void_p()
        check(lib.hwnas_accel_load(ctypes.byref(ptr), ctx._ptr, encode(str(path)),
                                   _dir(axmul_dir)))
        return cls(ctx, ptr)

    @classmethod
    def parse(cls, ctx, text, name=None, axmul_dir=None):
        """Parse description text (str or bytes); name prefixes error
        messages ("name:line: key: ...", default "<string>")."""
        ptr = c_void_p()
        check(lib.hwnas_accel_parse(ctypes.byref(ptr), ctx._ptr, encode(text), encode(name),
                                    _dir(axmul_dir)))
        return cls(ctx, ptr)

    def close(self):
        if self._ptr:
            if self._ctx._ptr:  # a context finalised first has taken the allocator
                lib.hwnas_accel_free(self._ptr)
            self._ptr = None

    def _live(self):
        if not self._ptr:
            raise ValueError("this accelerator is closed")
        return self._ptr

    def format(self):
        """The description as version-2 text (parsing it gives the same
        model)."""
        out = c_void_p()
        check(lib.hwnas_accel_format(self._live(), ctypes.byref(out)))
        return take_string(out)

    @property
    def name(self):
        return decode(lib.hwnas_accel_name(self._live()))

    @property
    def levels(self):
        """The storage levels' names, outermost (DRAM) first."""
        p = self._live()
        return [decode(lib.hwnas_accel_level_name(p, i))
                for i in range(lib.hwnas_accel_level_count(p))]

    @property
    def clock_mhz(self):
        return lib.hwnas_accel_clock_mhz(self._live())

    @property
    def mac_count(self):
        """The number of MAC units."""
        return lib.hwnas_accel_mac_count(self._live())

    @property
    def area_mm2(self):
        """Chip area: every level's instances and the MACs."""
        return lib.hwnas_accel_area_mm2(self._live())

    @property
    def hash(self):
        """Content hash: equal for descriptions that format alike."""
        return lib.hwnas_accel_hash(self._live())

    def run(self, net, options=None, **kwargs):
        """Map every multiplying layer of net (an hwnas.Net) and evaluate
        it. Options as "key=value;..." and/or keywords (hwnas describe
        accel): objective="energy"|"cycles"|"edp", budget, seed, batch,
        mappings (a file), axmul_dir. Returns an AccelResult."""
        out = c_void_p()
        check(lib.hwnas_accel_run(ctypes.byref(out), self._live(), net._live(),
                                  encode(_options_text(options, kwargs) or None)))
        return AccelResult(self._ctx, out)

    def __repr__(self):
        if not self._ptr:
            return "Accelerator(<closed>)"
        return "Accelerator(%r, %d levels, %d MACs, %g MHz, %.4g mm^2)" % (
            self.name, len(self.levels), self.mac_count, self.clock_mhz, self.area_mm2)


class AccelLayer:
    """One mapped layer of a result (a plain record, copied from it): its
    index in the result, the net's node index, the node's name and the
    mapping (doc/formats/mapping.md). Pass it, its index or its name as
    the layer of AccelResult.metric and .level."""

    __slots__ = ("index", "node", "name", "mapping")

    def __init__(self, index, node, name, mapping):
        self.index, self.node, self.name, self.mapping = index, node, name, mapping

    def __repr__(self):
        return "AccelLayer(%d, %r, node=%d)" % (self.index, self.name, self.node)


class AccelResult(Handle):
    """The figures of a net on an accelerator. Layers and levels may be
    given by index or by name; layer=-1 is the whole net."""

    def __init__(self, ctx, ptr):
        self._ctx = ctx  # the result's memory is the context's
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = ptr
        # the accelerator's levels, outermost first (the result keeps them)
        self.levels = [decode(lib.hwnas_accel_result_level_name(ptr, i))
                       for i in range(lib.hwnas_accel_result_level_count(ptr))]
        n = lib.hwnas_accel_result_layer_count(ptr)
        self.layers = [AccelLayer(i, lib.hwnas_accel_result_layer_node(ptr, i),
                                  decode(lib.hwnas_accel_result_layer_name(ptr, i)),
                                  decode(lib.hwnas_accel_result_layer_mapping(ptr, i)))
                       for i in range(n)]

    def close(self):
        if self._ptr:
            if self._ctx._ptr:
                lib.hwnas_accel_result_free(self._ptr)
            self._ptr = None

    def _live(self):
        if not self._ptr:
            raise ValueError("this accelerator result is closed")
        return self._ptr

    def __len__(self):
        return len(self.layers)

    def _layer(self, layer):
        if isinstance(layer, AccelLayer):
            return layer.index
        if isinstance(layer, str):
            for ly in self.layers:
                if ly.name == layer:
                    return ly.index
            raise KeyError("no mapped layer called %r (layers: %s)"
                           % (layer, ", ".join(ly.name for ly in self.layers)))
        return int(layer)  # the library checks the range

    def _level(self, level):
        if isinstance(level, str):
            try:
                return self.levels.index(level)
            except ValueError:
                raise KeyError("no level called %r (levels: %s)"
                               % (level, ", ".join(self.levels))) from None
        level = int(level)
        if level < 0:  # size_t in C: say so here rather than wrap around
            raise IndexError("level %d of %d" % (level, len(self.levels)))
        return level

    def metric(self, name, layer=-1):
        """A figure (METRICS) of a layer, or of the net for layer=-1.
        An unknown name raises hwnas.NotFound listing the valid ones."""
        out = c_double()
        check(lib.hwnas_accel_result_metric(ctypes.byref(out), self._live(), self._layer(layer),
                                            encode(name)))
        return out.value

    def metrics(self, layer=-1):
        """Every figure of a layer (or the net) as a dict."""
        return {m: self.metric(m, layer) for m in METRICS}

    def level(self, level, operand, action, layer=-1):
        """At one level (index or name): the scalar accesses, over all
        instances, of operand ("weights", "inputs", "outputs") by action
        ("reads", "fills", "updates"); or with action "energy" the level's
        energy in uJ (operand is then ignored)."""
        out = c_double()
        check(lib.hwnas_accel_result_level(ctypes.byref(out), self._live(), self._layer(layer),
                                           self._level(level), encode(operand), encode(action)))
        return out.value

    def level_energy(self, level, layer=-1):
        """The energy in uJ spent at a level (index or name)."""
        return self.level(level, None, "energy", layer)

    def json(self):
        """hwnas_accel_result_json's document, parsed."""
        out = c_void_p()
        check(lib.hwnas_accel_result_json(self._live(), ctypes.byref(out)))
        return _json.loads(take_string(out))

    @property
    def energy_uj(self):
        """The net's energy in uJ (levels plus MACs)."""
        return self.metric("energy_uj")

    @property
    def latency_ms(self):
        return self.metric("latency_ms")

    @property
    def cycles(self):
        return self.metric("cycles")

    def __repr__(self):
        if not self._ptr:
            return "AccelResult(<closed>)"
        return "AccelResult(%d layers, %.6g uJ, %.6g ms)" % (len(self.layers), self.energy_uj,
                                                             self.latency_ms)


__all__ = ["Accelerator", "AccelResult", "AccelLayer", "METRICS", "OPERANDS", "ACTIONS"]
