"""The network IR (net.h): build, parse, format, query and cost CNNs.

A Net is a list of nodes in topological order; the last node is the
output. Nets come from the text spec (Net.parse, Net.load), from the
builder (Net.add and its typed fast paths), or from a search space's
decoder (Space.decode). Node views (net[i], net["conv1"], iteration) read
one node's kind, attributes, inputs, shape and cost.

    net = Net(ctx)
    x = net.add_input(3, 32, 32)
    net.add("conv", inputs=[x], out=16, k=3, pad=1)
    net.add("relu")
    print(net.macs, net.format())
"""
import ctypes

from . import _native
from ._native import lib, encode, decode, take_string, c_int, c_char_p, c_void_p, c_size_t, P
from .errors import check, NotFound
from .core import Handle

c_int64, c_uint64, c_double, c_int32 = (ctypes.c_int64, ctypes.c_uint64, ctypes.c_double,
                                        ctypes.c_int32)

_d = _native._declare
_d("hwnas_net_new", c_int, P(c_void_p), c_void_p)
_d("hwnas_net_free", None, c_void_p)
_d("hwnas_net_clone", c_int, P(c_void_p), c_void_p)
_d("hwnas_net_clear", None, c_void_p)
_d("hwnas_net_add", c_int, P(c_int64), c_void_p, c_char_p, c_char_p, P(c_int64), c_size_t,
   c_char_p)
_d("hwnas_net_add_input", c_int, P(c_int64), c_void_p, c_char_p, c_int64, c_int64, c_int64)
_d("hwnas_net_add_conv2d", c_int, P(c_int64), c_void_p, c_char_p, c_int64, c_int64, c_int64,
   c_int64, c_int64, c_int64, c_int64, c_int64, c_int64, c_int64, c_int64, c_int64)
_d("hwnas_net_set_multiplier", c_int, c_void_p, c_size_t, c_char_p, c_int32)
_d("hwnas_net_parse", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_d("hwnas_net_load", c_int, P(c_void_p), c_void_p, c_char_p)
_d("hwnas_net_format", c_int, c_void_p, P(c_void_p))
_d("hwnas_net_equal", c_int, c_void_p, c_void_p)
_d("hwnas_net_hash", c_uint64, c_void_p)
_d("hwnas_net_node_count", c_size_t, c_void_p)
_d("hwnas_net_find", c_int64, c_void_p, c_char_p)
_d("hwnas_net_node_name", c_char_p, c_void_p, c_size_t)
_d("hwnas_net_node_kind", c_int, c_void_p, c_size_t)
_d("hwnas_net_node_op", c_char_p, c_void_p, c_size_t)
_d("hwnas_net_node_attr", c_int, P(c_int64), c_void_p, c_size_t, c_char_p)
_d("hwnas_net_node_attr_float", c_int, P(c_double), c_void_p, c_size_t, c_char_p)
_d("hwnas_net_node_input_count", c_size_t, c_void_p, c_size_t)
_d("hwnas_net_node_input", c_int64, c_void_p, c_size_t, c_size_t)
_d("hwnas_net_node_shape", c_int, c_void_p, c_size_t, P(c_int64))
_d("hwnas_net_node_multiplier", c_char_p, c_void_p, c_size_t)
_d("hwnas_net_node_bits", c_int32, c_void_p, c_size_t)
for _f in ("macs", "params", "weight_bytes", "activations"):
    _d("hwnas_net_node_" + _f, c_uint64, c_void_p, c_size_t)
_d("hwnas_net_topo_order", c_size_t, c_void_p, P(c_size_t), c_size_t)
for _f in ("macs", "params", "weight_bytes", "activations", "peak_activations",
           "memory_accesses"):
    _d("hwnas_net_" + _f, c_uint64, c_void_p)
_d("hwnas_net_cost", c_int, P(c_double), c_void_p, c_char_p)

# Node kinds (HWNAS_NET_*), ABI numbers.
INPUT, CONV2D, DWCONV2D, MAXPOOL, AVGPOOL, GAVGPOOL, BATCHNORM, ACT, ADD, MUL, CONCAT, \
    DROPOUT, FLATTEN, LINEAR, SOFTMAX, ZERO = range(16)
KIND_NAMES = ("input", "conv2d", "dwconv2d", "maxpool", "avgpool", "gavgpool", "batchnorm",
              "act", "add", "mul", "concat", "dropout", "flatten", "linear", "softmax", "zero")
# Activation functions (attribute "fn" of act nodes).
ACT_NAMES = ("relu", "relu6", "elu", "leaky_relu", "prelu", "sigmoid", "swish", "hard_swish",
             "hard_sigmoid", "tanh")

COST_METRICS = ("macs", "params", "weight_bytes", "activations", "peak_activations",
                "memory_accesses", "nodes")

_INT_ATTRS = ("out", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "groups", "bias", "bits",
              "fn")
_FLOAT_ATTRS = ("alpha", "slope", "p")


def _attr_text(attrs, kwargs):
    """Join an attribute string and keyword attributes as "k=v,k=v"."""
    parts = []
    if attrs:
        parts.append(attrs)
    for key, value in kwargs.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = 1 if value else 0
        elif isinstance(value, (tuple, list)):
            value = "x".join(str(int(v)) for v in value)
        parts.append("%s=%s" % (key, value))
    return ",".join(parts) or None


def _pair(v):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError("expected one value or a pair, got %r" % (v,))
        return int(v[0]), int(v[1])
    return int(v), int(v)


class Node:
    """A view of node `index` of a net (valid while the net lives; it
    reads the net's current state)."""

    __slots__ = ("net", "index")

    def __init__(self, net, index):
        self.net, self.index = net, index

    @property
    def _p(self):
        return self.net._live()

    @property
    def name(self):
        return decode(lib.hwnas_net_node_name(self._p, self.index))

    @property
    def kind(self):
        """The HWNAS_NET_* number (hwnas.net.CONV2D, ...)."""
        return lib.hwnas_net_node_kind(self._p, self.index)

    @property
    def kind_name(self):
        k = self.kind
        return KIND_NAMES[k] if 0 <= k < len(KIND_NAMES) else None

    @property
    def op(self):
        """The op name that writes the node in the spec ("conv", "relu")."""
        return decode(lib.hwnas_net_node_op(self._p, self.index))

    def attr(self, key):
        """An attribute by spec key: an int for out, kh, ..., bits, fn; a
        float for alpha, slope, p. Raises hwnas.NotFound when the node has
        no such attribute."""
        p, k = self._p, encode(key)
        if key in _FLOAT_ATTRS:
            v = c_double()
            check(lib.hwnas_net_node_attr_float(ctypes.byref(v), p, self.index, k))
            return v.value
        v = c_int64()
        check(lib.hwnas_net_node_attr(ctypes.byref(v), p, self.index, k))
        return v.value

    def get(self, key, default=None):
        """attr(key), or default when the node does not have it."""
        try:
            return self.attr(key)
        except NotFound:
            return default

    def attrs(self):
        """Every attribute the node has, as a dict."""
        out = {}
        for key in _INT_ATTRS + _FLOAT_ATTRS:
            v = self.get(key)
            if v is not None:
                out[key] = v
        return out

    @property
    def inputs(self):
        """Indices of the node's inputs."""
        p = self._p
        return [lib.hwnas_net_node_input(p, self.index, j)
                for j in range(lib.hwnas_net_node_input_count(p, self.index))]

    @property
    def shape(self):
        """Output shape: (N, C, H, W) or (N, F)."""
        dims = (c_int64 * 4)()
        rank = lib.hwnas_net_node_shape(self._p, self.index, dims)
        return tuple(dims[:rank])

    @property
    def multiplier(self):
        """Multiplier name of a multiplying node, None for the others."""
        return decode(lib.hwnas_net_node_multiplier(self._p, self.index))

    @property
    def bits(self):
        """Operand bit width of a multiplying node (32 or 8), 0 otherwise."""
        return lib.hwnas_net_node_bits(self._p, self.index)

    def set_multiplier(self, multiplier=None, bits=0):
        self.net.set_multiplier(self.index, multiplier, bits)

    @property
    def macs(self):
        return lib.hwnas_net_node_macs(self._p, self.index)

    @property
    def params(self):
        return lib.hwnas_net_node_params(self._p, self.index)

    @property
    def weight_bytes(self):
        return lib.hwnas_net_node_weight_bytes(self._p, self.index)

    @property
    def activations(self):
        return lib.hwnas_net_node_activations(self._p, self.index)

    def __repr__(self):
        return "Node(%d, %r, %s, shape=%r)" % (self.index, self.name, self.op, self.shape)


class Net(Handle):
    """A network (net.h). Net(ctx) is empty; build it with add(), or use
    Net.parse / Net.load. Nets compare equal (==) when hwnas_net_equal
    says so; hash() is the library's structural 64-bit hash (names
    ignored)."""

    def __init__(self, ctx, _ptr=None, _owned=True):
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr, self._owned = None, False
        if _ptr is None:
            ptr = c_void_p()
            check(lib.hwnas_net_new(ctypes.byref(ptr), ctx._ptr))
            _ptr = ptr
        self._ptr, self._owned = _ptr, _owned

    @classmethod
    def _borrow(cls, ctx, ptr):
        """A non-owning view of a net the library lends (callbacks)."""
        return cls(ctx, _ptr=c_void_p(ptr), _owned=False)

    @classmethod
    def parse(cls, ctx, text, name=None):
        """Parse the text spec; errors raise hwnas.FormatError with
        "name:line:column: ..." in the message."""
        ptr = c_void_p()
        check(lib.hwnas_net_parse(ctypes.byref(ptr), ctx._ptr, encode(text), encode(name)))
        return cls(ctx, _ptr=ptr)

    @classmethod
    def load(cls, ctx, path):
        """Read and parse a .net file (gzip read transparently)."""
        ptr = c_void_p()
        check(lib.hwnas_net_load(ctypes.byref(ptr), ctx._ptr, encode(str(path))))
        return cls(ctx, _ptr=ptr)

    def close(self):
        if self._owned and self._ptr:
            lib.hwnas_net_free(self._ptr)
        self._ptr = None


    def _live(self):
        if not self._ptr:
            raise ValueError("this net is closed (or was lent to a callback that returned)")
        return self._ptr

    def clone(self):
        """A deep copy in the same context."""
        ptr = c_void_p()
        check(lib.hwnas_net_clone(ctypes.byref(ptr), self._live()))
        return Net(self._ctx, _ptr=ptr)

    def clear(self):
        """Remove every node (keeps the memory for reuse)."""
        lib.hwnas_net_clear(self._live())

    def format(self):
        """The net as text in the spec."""
        out = c_void_p()
        check(lib.hwnas_net_format(self._live(), ctypes.byref(out)))
        return take_string(out)

    def __str__(self):
        return self.format()

    def __repr__(self):
        if not self._ptr:
            return "Net(<closed>)"
        return "Net(%d nodes, %.4g MMACs, %.4g M params)" % (len(self), self.macs / 1e6,
                                                             self.params / 1e6)

    def __eq__(self, other):
        if not isinstance(other, Net):
            return NotImplemented
        return bool(lib.hwnas_net_equal(self._live(), other._live()))

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    __hash__ = None  # nets are mutable; use hash() for the structural hash

    def hash(self):
        """The library's stable 64-bit structural hash (names ignored)."""
        return lib.hwnas_net_hash(self._live())

    # ---- building ----------------------------------------------------

    def _index(self, ref):
        if isinstance(ref, Node):
            return ref.index
        if isinstance(ref, str):
            i = lib.hwnas_net_find(self._live(), encode(ref))
            if i < 0:
                raise KeyError("no node called %r" % ref)
            return i
        return int(ref)

    def add(self, op, name=None, inputs=(), attrs=None, **kwargs):
        """Append a node (or a block's nodes) and return its index.

        op: an op name of the spec ("conv", "relu", "basic", ...); name:
        None for an automatic one; inputs: node indices, names or Node
        views (empty: the last node, for one-input ops); attrs: an
        attribute string "out=16,k=3" and/or keyword attributes
        (out=16, k=3, pad="same"; True/False give 1/0, a tuple of ints
        gives "AxBxC" as in shape=(3, 32, 32)).
        """
        idx = [self._index(r) for r in inputs]
        arr = (c_int64 * max(len(idx), 1))(*idx)
        out = c_int64()
        check(lib.hwnas_net_add(ctypes.byref(out), self._live(), encode(op), encode(name), arr,
                                len(idx), encode(_attr_text(attrs, kwargs))))
        return out.value

    def add_input(self, c, h=None, w=None, name=None):
        """An input node of shape c x h x w (or add_input((c, h, w)))."""
        if isinstance(c, (tuple, list)):
            c, h, w = c
        out = c_int64()
        check(lib.hwnas_net_add_input(ctypes.byref(out), self._live(), encode(name), int(c),
                                      int(h), int(w)))
        return out.value

    def add_conv2d(self, out_channels, kernel=1, stride=1, padding=0, dilation=1, groups=1,
                   bias=True, input=-1, name=None):
        """A conv2d node through the typed fast path. kernel, stride,
        padding and dilation are ints or (h, w) pairs; input: an index,
        name or Node (-1: the last node). Multiplier "exact", 32 bits."""
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        ph, pw = _pair(padding)
        dh, dw = _pair(dilation)
        src = -1 if input is None else self._index(input)
        out = c_int64()
        check(lib.hwnas_net_add_conv2d(ctypes.byref(out), self._live(), encode(name), src,
                                       int(out_channels), kh, kw, sh, sw, ph, pw, dh, dw,
                                       int(groups), 1 if bias else 0))
        return out.value

    def set_multiplier(self, node, multiplier=None, bits=0):
        """Set the multiplier name (None keeps it) and bit width (32 or 8;
        0 keeps it) of a multiplying node (index, name or Node)."""
        check(lib.hwnas_net_set_multiplier(self._live(), self._index(node), encode(multiplier),
                                           int(bits)))

    # ---- queries -----------------------------------------------------

    def __len__(self):
        return lib.hwnas_net_node_count(self._live())

    def find(self, name):
        """Index of the node called name, or -1."""
        return lib.hwnas_net_find(self._live(), encode(name))

    def node(self, ref):
        """The Node view of an index (negative counts from the end) or a
        name."""
        if isinstance(ref, str):
            return Node(self, self._index(ref))
        i = int(ref)
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("node %d of a net of %d nodes" % (int(ref), n))
        return Node(self, i)

    __getitem__ = node

    def __iter__(self):
        return (Node(self, i) for i in range(len(self)))

    def __contains__(self, name):
        return self.find(name) >= 0

    @property
    def nodes(self):
        return list(self)

    @property
    def output(self):
        """The output node (the last one)."""
        return self.node(-1)

    def topo_order(self):
        """A topological order of the node indices."""
        n = len(self)
        buf = (c_size_t * max(n, 1))()
        got = lib.hwnas_net_topo_order(self._live(), buf, n)
        return list(buf[:min(got, n)])

    # ---- cost --------------------------------------------------------

    @property
    def macs(self):
        """Multiply-accumulates of one inference."""
        return lib.hwnas_net_macs(self._live())

    @property
    def params(self):
        """Trainable parameters."""
        return lib.hwnas_net_params(self._live())

    @property
    def weight_bytes(self):
        """Bytes of weights at each node's bit width (other parameters 4)."""
        return lib.hwnas_net_weight_bytes(self._live())

    @property
    def activations(self):
        """Sum of every node's output elements."""
        return lib.hwnas_net_activations(self._live())

    @property
    def peak_activations(self):
        """Most activation elements alive at once, running in index order."""
        return lib.hwnas_net_peak_activations(self._live())

    @property
    def memory_accesses(self):
        """4 memory accesses per MAC (no reuse)."""
        return lib.hwnas_net_memory_accesses(self._live())

    def cost(self, metric=None):
        """A cost metric by name (see COST_METRICS) as a float; with no
        name, a dict of all of them."""
        if metric is None:
            return {m: self.cost(m) for m in COST_METRICS}
        v = c_double()
        check(lib.hwnas_net_cost(ctypes.byref(v), self._live(), encode(metric)))
        return v.value
