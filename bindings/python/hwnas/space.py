"""Search spaces (space.h): genotypes and how they become networks.

A genotype is a list of genes, gene i in range(cardinalities[i]). Genotypes
go in as any sequence of ints (a list, a tuple, a numpy array) and come
back as lists.

    space = Space(ctx, "space:cell")
    g = space.sample(Rng(ctx, seed=1))
    space.format(g)          # "|nor_conv_3x3~0|+|...|"
    net = space.decode(g)    # an hwnas.net.Net

Co-design spaces ("space:accelerator", "space:cgp+accelerator", ...) have
a hardware half: space.decode_accel(g) gives an hwnas.accel.Accelerator,
space.net_half / space.accel_half the halves (doc/formats/hardware-
template.md, include/hwnas/space.h).
"""
import ctypes

from . import _native
from ._native import lib, encode, decode, take_string, c_int, c_char_p, c_void_p, c_size_t, P
from .core import Handle, Options, _options_text
from .errors import check
from .net import Net
from .accel import Accelerator

c_uint32, c_uint64, c_double = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_double

_d = _native._declare
_d("hwnas_space_new", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_space_free", None, c_void_p)
_d("hwnas_space_kind", c_char_p, c_void_p)
_d("hwnas_space_options", c_void_p, c_void_p)
_d("hwnas_space_gene_count", c_size_t, c_void_p)
_d("hwnas_space_gene_cardinality", c_uint32, c_void_p, c_size_t)
_d("hwnas_space_gene_name", c_char_p, c_void_p, c_size_t)
_d("hwnas_space_gene_ordinal", c_int, c_void_p, c_size_t)
_d("hwnas_space_size_log10", c_double, c_void_p)
_d("hwnas_space_check", c_int, c_void_p, P(c_uint32))
_d("hwnas_space_sample", c_int, c_void_p, c_void_p, P(c_uint32))
_d("hwnas_space_mutate", c_int, c_void_p, c_void_p, P(c_uint32), P(c_uint32), c_double)
_d("hwnas_space_crossover", c_int, c_void_p, c_void_p, P(c_uint32), P(c_uint32), P(c_uint32),
   P(c_uint32))
_d("hwnas_space_has_operator", c_int, c_void_p, c_int)
_d("hwnas_space_decode", c_int, c_void_p, P(c_uint32), c_void_p)
_d("hwnas_space_hash", c_int, c_void_p, P(c_uint32), P(c_uint64))
_d("hwnas_space_format", c_int, c_void_p, P(c_uint32), P(c_void_p))
_d("hwnas_space_parse", c_int, c_void_p, c_char_p, P(c_uint32))
_d("hwnas_space_has_accel", c_int, c_void_p)
_d("hwnas_space_decode_accel", c_int, P(c_void_p), c_void_p, P(c_uint32))
_d("hwnas_space_net_half", c_void_p, c_void_p)
_d("hwnas_space_accel_half", c_void_p, c_void_p)
_d("hwnas_space_encode", c_int, c_void_p, c_char_p, P(c_uint32), P(c_double), c_size_t,
   P(c_size_t))

OP_MUTATE, OP_CROSSOVER = 0, 1
_OPS = {"mutate": OP_MUTATE, "crossover": OP_CROSSOVER}


class Space(Handle):
    """A search space of a registered kind ("space:cell") with options as
    "key=value;..." and/or keyword arguments (Space(ctx, "space:cell",
    channels=16, cells=5))."""

    def __init__(self, ctx, kind="space:cell", options=None, **kwargs):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = None
        ptr = c_void_p()
        check(lib.hwnas_space_new(ctypes.byref(ptr), ctx._ptr, encode(kind),
                                  encode(_options_text(options, kwargs) or None)))
        self._ptr = ptr
        self._n = lib.hwnas_space_gene_count(ptr)

    def close(self):
        if self._ptr:
            if not getattr(self, "_parent", None):
                lib.hwnas_space_free(self._ptr)
            self._ptr = None

    @classmethod
    def _borrowed(cls, parent, ptr):
        """A half of parent: valid while parent is; never freed itself."""
        if not ptr:
            return None
        if ptr == (parent._ptr.value if isinstance(parent._ptr, c_void_p) else parent._ptr):
            return parent
        half = cls.__new__(cls)
        half._ctx = parent._ctx
        half._parent = parent  # keeps the owner alive
        half._ptr = c_void_p(ptr)
        half._n = lib.hwnas_space_gene_count(half._ptr)
        return half


    def _genes(self, genes, name="genes"):
        """A C uint32 array from a genotype of gene_count ints."""
        g = [int(v) for v in genes]
        if len(g) != self._n:
            raise ValueError("%s: %d genes, the space has %d" % (name, len(g), self._n))
        if any(v < 0 or v > 0xFFFFFFFF for v in g):
            raise ValueError("%s: a gene outside 0..2^32-1" % name)
        return (c_uint32 * max(self._n, 1))(*g)

    def _buf(self):
        return (c_uint32 * max(self._n, 1))()

    def _list(self, buf):
        return list(buf[:self._n])

    # ---- features for predictors ------------------------------------

    def encoding_size(self, encoding=None):
        """Features of the encoding (None: the space's default)."""
        n = c_size_t()
        check(lib.hwnas_space_encode(self._ptr, encode(encoding), None, None, 0,
                                     ctypes.byref(n)))
        return n.value

    def encode(self, genes, encoding=None):
        """The feature vector of a genotype, a list of floats: encoding
        "onehot" (every space), "path" (space:cell, NAS-Bench-201's path
        encoding), "active" (space:cgp); None: the space's default.
        hwnas.NotFound for an encoding the space lacks."""
        n = self.encoding_size(encoding)
        out = (c_double * max(n, 1))()
        got = c_size_t()
        check(lib.hwnas_space_encode(self._ptr, encode(encoding), self._genes(genes), out, n,
                                     ctypes.byref(got)))
        return list(out[:got.value])

    # ---- description ------------------------------------------------

    @property
    def kind(self):
        return decode(lib.hwnas_space_kind(self._ptr))

    @property
    def options(self):
        """The space's options (read-only view)."""
        return Options(self._ctx, None, _borrowed=lib.hwnas_space_options(self._ptr),
                       _owner=self)

    @property
    def gene_count(self):
        return self._n

    def __len__(self):
        return self._n

    @property
    def cardinalities(self):
        return [lib.hwnas_space_gene_cardinality(self._ptr, i) for i in range(self._n)]

    @property
    def gene_names(self):
        return [decode(lib.hwnas_space_gene_name(self._ptr, i)) for i in range(self._n)]

    @property
    def ordinal(self):
        """Per gene: True when its values are ordered (a width, a count)."""
        return [lib.hwnas_space_gene_ordinal(self._ptr, i) == 1 for i in range(self._n)]

    @property
    def size_log10(self):
        """log10 of the number of genotypes."""
        return lib.hwnas_space_size_log10(self._ptr)

    def has_operator(self, op):
        """True when the space brings its own "mutate" or "crossover"."""
        return bool(lib.hwnas_space_has_operator(self._ptr, _OPS.get(op, op)))

    def __repr__(self):
        return "Space(%r, %d genes, 10^%.2f genotypes)" % (self.kind, self._n, self.size_log10)

    # ---- operators --------------------------------------------------

    def check(self, genes):
        """Raise hwnas.InvalidArgument naming the first gene out of range."""
        check(lib.hwnas_space_check(self._ptr, self._genes(genes)))

    def sample(self, rng):
        """A random genotype drawn from rng (an hwnas.Rng)."""
        out = self._buf()
        check(lib.hwnas_space_sample(self._ptr, rng._ptr, out))
        return self._list(out)

    def mutate(self, rng, parent, rate=0.0):
        """A mutant of parent (rate: per-gene probability, 0 = the space's
        default of one gene on average)."""
        out = self._buf()
        check(lib.hwnas_space_mutate(self._ptr, rng._ptr, self._genes(parent, "parent"), out,
                                     float(rate)))
        return self._list(out)

    def crossover(self, rng, a, b):
        """Two children (c, d) of parents a and b."""
        c, d = self._buf(), self._buf()
        check(lib.hwnas_space_crossover(self._ptr, rng._ptr, self._genes(a, "a"),
                                        self._genes(b, "b"), c, d))
        return self._list(c), self._list(d)

    # ---- phenotypes -------------------------------------------------

    def decode(self, genes, net=None):
        """The network of genes: into net (cleared and rebuilt; its memory
        reused) or a new Net. A genotype that describes no valid network
        raises hwnas.InvalidCandidate."""
        g = self._genes(genes)
        if net is None:
            net = Net(self._ctx)
        check(lib.hwnas_space_decode(self._ptr, g, net._live()))
        return net

    @property
    def has_accel(self):
        """True for a space with a hardware half (space:accelerator and
        the NET+accelerator co-design spaces)."""
        return bool(lib.hwnas_space_has_accel(self._ptr))

    @property
    def net_half(self):
        """The space of the network genes (the first ones): itself for a
        network space, None for space:accelerator."""
        return Space._borrowed(self, lib.hwnas_space_net_half(self._ptr))

    @property
    def accel_half(self):
        """The space of the hardware genes (the last ones): itself for
        space:accelerator, None for a network space."""
        return Space._borrowed(self, lib.hwnas_space_accel_half(self._ptr))

    def decode_accel(self, genes):
        """The accelerator of genes (an hwnas.accel.Accelerator, the
        caller's). A space without hardware raises hwnas.Unsupported; values
        that make no consistent accelerator hwnas.InvalidCandidate."""
        ptr = c_void_p()
        check(lib.hwnas_space_decode_accel(ctypes.byref(ptr), self._ptr, self._genes(genes)))
        return Accelerator(self._ctx, ptr)

    def hash(self, genes):
        """The phenotype hash: equal for genotypes that decode to the same
        network."""
        out = c_uint64()
        check(lib.hwnas_space_hash(self._ptr, self._genes(genes), ctypes.byref(out)))
        return out.value

    def format(self, genes):
        """The genotype as text (for space:cell the NAS-Bench-201 string)."""
        out = c_void_p()
        check(lib.hwnas_space_format(self._ptr, self._genes(genes), ctypes.byref(out)))
        return take_string(out)

    def parse(self, text):
        """The genotype of a string written by format(); hwnas.FormatError
        names the position at fault."""
        out = self._buf()
        check(lib.hwnas_space_parse(self._ptr, encode(text), out))
        return self._list(out)
