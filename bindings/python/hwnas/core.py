"""The context, named options and random streams."""
import ctypes
import sys
import weakref

from . import _native
from ._native import lib, encode, decode, take_string
from .errors import check, Stopped, StateError

LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG = 0, 1, 2, 3

TYPE_NAMES = {0: "int", 1: "float", 2: "bool", 3: "enum", 4: "string"}


def _options_text(options, kwargs):
    """Merge an option string and keyword arguments into one string."""
    parts = []
    if options:
        parts.append(options)
    for key, value in kwargs.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        text = str(value).replace("\\", "\\\\").replace('"', '\\"')
        parts.append('%s="%s"' % (key, text))
    return ";".join(parts)


class Handle:
    """Base of the classes that own a C object: close() frees it (each
    class defines close); garbage collection and `with` blocks call it."""

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class OptionInfo:
    """What a kind says about one of its options."""

    __slots__ = ("name", "type", "default", "range", "help", "value")

    def __init__(self, name, type_, default, range_, help_, value):
        self.name, self.type, self.default = name, type_, default
        self.range, self.help, self.value = range_, help_, value

    def __repr__(self):
        return "OptionInfo(%r, %s, default=%r, range=%r)" % (self.name, self.type,
                                                             self.default, self.range)


class Options:
    """A set of named options of one kind (see options.h).

    Options(ctx, "context") gives the kind's options at their defaults;
    set(), parse(), get() and format() work as in C. Iterating yields
    OptionInfo records; opts["key"] reads a typed value.
    """

    def __init__(self, ctx, kind, options=None, _borrowed=None, _owner=None):
        self._ptr, self._owned = None, False
        self._ctx = ctx
        ctx._adopt(self)  # freed before the context, whatever the GC order
        if _borrowed is not None:
            self._ptr, self._owned, self._owner = _borrowed, False, _owner
            return
        ptr = ctypes.c_void_p()
        check(lib.hwnas_options_new(ctypes.byref(ptr), ctx._ptr, encode(kind)))
        self._ptr, self._owned, self._owner = ptr, True, None
        if options:
            self.parse(options)

    def close(self):
        if self._owned and self._ptr:
            lib.hwnas_options_free(self._ptr)
        self._ptr = None

    def __del__(self):
        self.close()

    @property
    def kind(self):
        return decode(lib.hwnas_options_kind(self._ptr))

    def __len__(self):
        return lib.hwnas_options_count(self._ptr)

    def info(self, i):
        p = self._ptr
        return OptionInfo(decode(lib.hwnas_options_name(p, i)),
                          TYPE_NAMES.get(lib.hwnas_options_type(p, i), "?"),
                          decode(lib.hwnas_options_default(p, i)),
                          decode(lib.hwnas_options_range(p, i)),
                          decode(lib.hwnas_options_help(p, i)),
                          decode(lib.hwnas_options_value(p, i)))

    def __iter__(self):
        return (self.info(i) for i in range(len(self)))

    def keys(self):
        return [o.name for o in self]

    def __contains__(self, key):
        return lib.hwnas_options_index(self._ptr, encode(key)) >= 0

    def _writable(self):
        if not self._owned:
            raise TypeError("these options belong to their object; set them through it")

    def set(self, key, value):
        self._writable()
        if isinstance(value, bool):
            value = "true" if value else "false"
        check(lib.hwnas_options_set(self._ptr, encode(key), encode(str(value))))

    def parse(self, text):
        self._writable()
        check(lib.hwnas_options_parse(self._ptr, encode(text)))

    def reset(self):
        self._writable()
        lib.hwnas_options_reset(self._ptr)

    def __getitem__(self, key):
        i = lib.hwnas_options_index(self._ptr, encode(key))
        if i < 0:
            # let the library produce its message listing the valid keys
            check(lib.hwnas_options_get_string(self._ptr, encode(key), None))
        t = lib.hwnas_options_type(self._ptr, i)
        k = encode(key)
        if t == 0:
            v = ctypes.c_int64()
            check(lib.hwnas_options_get_int(self._ptr, k, ctypes.byref(v)))
            return v.value
        if t == 1:
            v = ctypes.c_double()
            check(lib.hwnas_options_get_float(self._ptr, k, ctypes.byref(v)))
            return v.value
        if t == 2:
            v = ctypes.c_int()
            check(lib.hwnas_options_get_bool(self._ptr, k, ctypes.byref(v)))
            return bool(v.value)
        v = ctypes.c_char_p()
        check(lib.hwnas_options_get_string(self._ptr, k, ctypes.byref(v)))
        return decode(v.value)

    def __setitem__(self, key, value):
        self.set(key, value)

    def format(self, only_changed=False):
        out = ctypes.c_void_p()
        check(lib.hwnas_options_format(self._ptr, 1 if only_changed else 0, ctypes.byref(out)))
        return take_string(out)

    def to_dict(self):
        return {k: self[k] for k in self.keys()}

    def __repr__(self):
        return "Options(%r, %r)" % (self.kind, self.format())


class Context:
    """A libhwnas context (context.h): allocator, log, threads, seed.

    Context("threads=2;seed=1") or Context(threads=2, seed=1); both may be
    combined. log: a callable (level, message) receiving library messages;
    it may be called from worker threads.
    """

    def __init__(self, options=None, *, log=None, **kwargs):
        self._ptr = None
        self._log_cb = None
        self._children = {}  # id -> weakref of objects made in this context
        ptr = ctypes.c_void_p()
        check(lib.hwnas_context_new(ctypes.byref(ptr), encode(_options_text(options, kwargs))))
        self._ptr = ptr
        if log is not None:
            self.set_log(log)

    def _adopt(self, obj):
        """Remember an object made in this context, so that closing the
        context closes it first (the garbage collector may finalise the two
        in any order at exit)."""
        key = id(obj)
        children = self._children
        children[key] = weakref.ref(obj, lambda _r, k=key, d=children: d.pop(k, None))

    def close(self):
        """Free the context now, closing every object created in it first.
        Raises StateError (and frees nothing) while one of them is at work:
        a search running, an estimator estimating (say, from inside their
        callbacks)."""
        if self._ptr:
            for ref in list(self._children.values()):
                child = ref()
                if child is not None and getattr(child, "_ptr", None) and \
                        getattr(child, "_in_use", lambda: False)():
                    raise StateError("cannot close the context while a %s made in it is at "
                                     "work (from inside its callback?)" % type(child).__name__)
            for ref in list(self._children.values()):
                child = ref()
                if child is not None and getattr(child, "_ptr", None):
                    child.close()
            lib.hwnas_context_free(self._ptr)
            self._ptr = None

    def __del__(self):
        # At interpreter exit objects are finalised in no particular order:
        # an object made in this context may still be freed after it, so
        # leave the memory to the exiting process.
        if sys.is_finalizing():
            return
        # A child whose weak reference is dead but still registered died in
        # the same garbage collection as this context (a reference cycle):
        # the collector may finalise it after us, so leave the memory.
        if any(ref() is None for ref in self._children.values()):
            return
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def threads(self):
        return lib.hwnas_context_threads(self._ptr)

    @property
    def seed(self):
        return lib.hwnas_context_seed(self._ptr)

    def set_option(self, key, value):
        if isinstance(value, bool):
            value = "true" if value else "false"
        check(lib.hwnas_context_set_option(self._ptr, encode(key), encode(str(value))))

    @property
    def options(self):
        """The context's own options (read-only view)."""
        return Options(self, None, _borrowed=lib.hwnas_context_options(self._ptr), _owner=self)

    def load_plugin(self, path):
        """Load a plugin .so into this context (plugin.h); returns the kinds it added."""
        from .plugin import load_plugin
        return load_plugin(self, path)

    def kinds(self):
        """Names of every kind registered in this context."""
        return [decode(lib.hwnas_kind_name(self._ptr, i))
                for i in range(lib.hwnas_kind_count(self._ptr))]

    def describe(self, kind):
        """The options of a kind as a list of OptionInfo."""
        opts = Options(self, kind)
        try:
            return list(opts)
        finally:
            opts.close()

    def set_log(self, fn):
        """Send library messages to fn(level, message); None restores stderr."""
        if fn is None:
            lib.hwnas_context_set_log(self._ptr, _native.LOG_CB(), None)
            self._log_cb = None
            return

        def trampoline(level, message, user_data):
            try:
                fn(level, message.decode("utf-8", "replace"))
            except Exception:  # a log callback must not unwind into C
                pass

        cb = _native.LOG_CB(trampoline)
        lib.hwnas_context_set_log(self._ptr, cb, None)
        self._log_cb = cb  # kept alive as long as the context

    def log(self, level, message):
        lib.hwnas_context_log(self._ptr, level, b"%s", encode(message))

    def parallel_for(self, n, fn):
        """Call fn(index, worker) for index in range(n) on the context's
        threads. An exception in fn stops the loop and is re-raised."""
        errors = []

        def task(index, worker, user_data):
            if errors:
                return 1
            try:
                fn(index, worker)
                return 0
            except BaseException as e:  # re-raised below, in the caller
                errors.append(e)
                return 1

        cb = _native.TASK_FN(task)
        rc = lib.hwnas_parallel_for(self._ptr, n, cb, None)
        if errors:
            raise errors[0]
        check(rc)


class Rng:
    """Stream `stream` of seed `seed` (rng.h): xoshiro256** seeded through
    SplitMix64; the same (seed, stream) gives the same numbers everywhere."""

    def __init__(self, ctx, seed=0, stream=0):
        self._ctx = ctx  # keeps the allocator alive
        ctx._adopt(self)  # freed before the context, whatever the GC order
        self._ptr = None
        ptr = ctypes.c_void_p()
        check(lib.hwnas_rng_new(ctypes.byref(ptr), ctx._ptr, seed, stream))
        self._ptr = ptr

    def close(self):
        if self._ptr:
            lib.hwnas_rng_free(self._ptr)
            self._ptr = None

    def __del__(self):
        self.close()

    def _live(self):
        if not self._ptr:
            raise StateError("this Rng is closed (or its context was)")
        return self._ptr

    def reseed(self, seed, stream=0):
        lib.hwnas_rng_reseed(self._live(), seed, stream)

    def u64(self):
        return lib.hwnas_rng_u64(self._live())

    def uniform(self):
        return lib.hwnas_rng_uniform(self._live())

    def below(self, n):
        return lib.hwnas_rng_below(self._live(), n)

    def normal(self):
        return lib.hwnas_rng_normal(self._live())

    def save(self):
        buf = (ctypes.c_uint8 * _native.RNG_STATE_SIZE)()
        lib.hwnas_rng_save(self._live(), buf)
        return bytes(buf)

    def load(self, state):
        if len(state) != _native.RNG_STATE_SIZE:
            raise ValueError("an rng state is %d bytes, got %d" % (_native.RNG_STATE_SIZE,
                                                                   len(state)))
        buf = (ctypes.c_uint8 * _native.RNG_STATE_SIZE).from_buffer_copy(state)
        check(lib.hwnas_rng_load(self._live(), buf))
