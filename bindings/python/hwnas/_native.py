"""Finding and loading libhwnas, and declaring the C signatures.

Installed by `meson install`, the package knows where that install put the
library (hwnas/_install.py, written at configure time) and looks there
first: the library beside the package (the same relative path, so a staged
DESTDIR, a moved prefix or an unpacked Debian package finds its own copy),
then the configured libdir; then pkg-config's libdir for the hwnas
package; then the HWNAS_LIBRARY environment variable.

Anywhere else (this source tree, `pip install ./bindings/python`):
1. HWNAS_LIBRARY (a path to libhwnas.so.N, or to libhwnas_mpi.so.N, which
   carries the same API plus distributed search), and nothing else;
2. pkg-config's libdir for the hwnas package;
3. the build tree of a source checkout (build/lib/ next to bindings/).
When mpi4py is imported before hwnas and HWNAS_LIBRARY is not set,
libhwnas_mpi.so.N is looked for first in each directory (hwnas.mpi needs
it).
"""
import ctypes
import os
import subprocess
import sys

ABI_MAJOR = 0      # the SONAME this package speaks to
MIN_VERSION = 100  # 0.1.0: the oldest library with every symbol used here

_SONAME = "libhwnas.so.%d" % ABI_MAJOR


_MPI_SONAME = "libhwnas_mpi.so.%d" % ABI_MAJOR


def _installed():
    """(libdir relative to this package, configured libdir) of a `meson
    install`, or None."""
    try:
        from . import _install
    except ImportError:
        return None
    return _install.LIBDIR_FROM_PACKAGE, _install.LIBDIR


def _pkg_config_libdir():
    try:
        return subprocess.run(["pkg-config", "--variable=libdir", "hwnas"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _candidates():
    mpi = "mpi4py.MPI" in sys.modules  # an MPI program: the library that can use it
    here = os.path.dirname(os.path.abspath(__file__))

    def in_dir(d):
        if mpi:
            yield os.path.join(d, _MPI_SONAME)
        yield os.path.join(d, _SONAME)

    env = os.environ.get("HWNAS_LIBRARY")
    installed = _installed()
    if installed:
        relative, absolute = installed
        yield from in_dir(os.path.normpath(os.path.join(here, relative)))
        yield from in_dir(absolute)
        libdir = _pkg_config_libdir()
        if libdir:
            yield from in_dir(libdir)
        if env:
            yield env
        return
    if env:
        yield env
        return
    libdir = _pkg_config_libdir()
    if libdir:
        yield from in_dir(libdir)
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    if mpi:
        yield os.path.join(root, "build", "lib", "mpi", _MPI_SONAME)
    yield os.path.join(root, "build", "lib", _SONAME)


def _load():
    tried = []
    for path in _candidates():
        if os.path.exists(path):
            return ctypes.CDLL(path), path
        tried.append(path)
    raise ImportError("hwnas: cannot find %s (tried: %s); set HWNAS_LIBRARY to its path"
                      % (_SONAME, ", ".join(tried) or "nothing"))


lib, path = _load()

c_int, c_char_p, c_void_p, c_size_t = ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t
c_double, c_uint64, c_int64 = ctypes.c_double, ctypes.c_uint64, ctypes.c_int64
P = ctypes.POINTER

MALLOC_FN = ctypes.CFUNCTYPE(c_void_p, c_size_t, c_void_p)
REALLOC_FN = ctypes.CFUNCTYPE(c_void_p, c_void_p, c_size_t, c_void_p)
FREE_FN = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
LOG_CB = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)
TASK_FN = ctypes.CFUNCTYPE(c_int, c_size_t, c_size_t, c_void_p)


def _checked_int(base, lo, hi, what):
    """base with a from_param that refuses an integer outside [lo, hi]
    instead of wrapping it (-5 would become 2**64 - 5 as a size)."""
    def from_param(cls, value):
        if isinstance(value, int) and not lo <= value <= hi:
            raise ValueError("%d is out of range for %s (%d to %d)" % (value, what, lo, hi))
        return base.from_param(value)
    return type("checked_" + base.__name__, (base,), {"from_param": classmethod(from_param)})


def _checked_str_from_param(cls, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, bytes) and b"\0" in value:
        raise ValueError("a string passed to libhwnas holds a NUL character: %r" % value)
    return ctypes.c_char_p.from_param(value)


# Sizes stay below 2**63: nothing real is larger, and a wrapped negative
# number is far above it.
_CHECKED = {
    ctypes.c_size_t: _checked_int(ctypes.c_size_t, 0, 2**63 - 1, "a size"),
    ctypes.c_uint64: _checked_int(ctypes.c_uint64, 0, 2**64 - 1, "an unsigned 64-bit integer"),
    ctypes.c_int64: _checked_int(ctypes.c_int64, -2**63, 2**63 - 1, "a 64-bit integer"),
    ctypes.c_uint32: _checked_int(ctypes.c_uint32, 0, 2**32 - 1, "an unsigned 32-bit integer"),
    ctypes.c_int: _checked_int(ctypes.c_int, -2**31, 2**31 - 1, "an int"),
    ctypes.c_char_p: type("checked_c_char_p", (ctypes.c_char_p,),
                          {"from_param": classmethod(_checked_str_from_param)}),
}


def _declare(name, restype, *argtypes):
    """Declare a C function; its integer and string arguments are checked:
    out of range or holding a NUL, they raise ValueError (naming the
    function and argument) instead of wrapping or being cut short."""
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = [_CHECKED.get(t, t) for t in argtypes]
    if any(t in _CHECKED for t in argtypes):
        def call(*args, _fn=fn):
            try:
                return _fn(*args)
            except ctypes.ArgumentError as e:
                if "ValueError" not in str(e):
                    raise
                raise ValueError("%s: %s" % (name, str(e).replace("ValueError: ", ""))) from None
        call.__name__ = name
        setattr(lib, name, call)
    return fn


# version.h, error.h
_declare("hwnas_version_number", ctypes.c_uint)
_declare("hwnas_version_string", c_char_p)
_declare("hwnas_abi_version", ctypes.c_uint)
_declare("hwnas_build_features", c_char_p)
_declare("hwnas_error_str", c_char_p, c_int)
_declare("hwnas_error_last", c_char_p)
_declare("hwnas_error_last_code", c_int)
_declare("hwnas_error_clear", None)
# context.h
_declare("hwnas_context_new", c_int, P(c_void_p), c_char_p)
_declare("hwnas_context_new_custom", c_int, P(c_void_p), c_char_p, MALLOC_FN, REALLOC_FN,
         FREE_FN, c_void_p)
_declare("hwnas_context_free", None, c_void_p)
_declare("hwnas_context_set_option", c_int, c_void_p, c_char_p, c_char_p)
_declare("hwnas_context_options", c_void_p, c_void_p)
_declare("hwnas_context_threads", c_size_t, c_void_p)
_declare("hwnas_context_seed", c_uint64, c_void_p)
_declare("hwnas_context_set_log", None, c_void_p, LOG_CB, c_void_p)
# hwnas_context_log is variadic: pass the message through "%s".
_declare("hwnas_context_log", None, c_void_p, c_int, c_char_p, c_char_p)
_declare("hwnas_context_set_parallel_for", None, c_void_p, c_void_p, c_void_p)
_declare("hwnas_parallel_for", c_int, c_void_p, c_size_t, TASK_FN, c_void_p)
_declare("hwnas_free", None, c_void_p)
# options.h
_declare("hwnas_kind_count", c_size_t, c_void_p)
_declare("hwnas_kind_name", c_char_p, c_void_p, c_size_t)
_declare("hwnas_options_new", c_int, P(c_void_p), c_void_p, c_char_p)
_declare("hwnas_options_free", None, c_void_p)
_declare("hwnas_options_kind", c_char_p, c_void_p)
_declare("hwnas_options_count", c_size_t, c_void_p)
_declare("hwnas_options_index", c_int64, c_void_p, c_char_p)
for _f in ("name", "default", "range", "help", "value"):
    _declare("hwnas_options_" + _f, c_char_p, c_void_p, c_size_t)
_declare("hwnas_options_type", c_int, c_void_p, c_size_t)
_declare("hwnas_options_set", c_int, c_void_p, c_char_p, c_char_p)
_declare("hwnas_options_parse", c_int, c_void_p, c_char_p)
_declare("hwnas_options_reset", None, c_void_p)
_declare("hwnas_options_get_int", c_int, c_void_p, c_char_p, P(c_int64))
_declare("hwnas_options_get_float", c_int, c_void_p, c_char_p, P(c_double))
_declare("hwnas_options_get_bool", c_int, c_void_p, c_char_p, P(c_int))
_declare("hwnas_options_get_string", c_int, c_void_p, c_char_p, P(c_char_p))
_declare("hwnas_options_format", c_int, c_void_p, c_int, P(c_void_p))
# rng.h
_declare("hwnas_rng_new", c_int, P(c_void_p), c_void_p, c_uint64, c_uint64)
_declare("hwnas_rng_free", None, c_void_p)
_declare("hwnas_rng_reseed", None, c_void_p, c_uint64, c_uint64)
_declare("hwnas_rng_u64", c_uint64, c_void_p)
_declare("hwnas_rng_uniform", c_double, c_void_p)
_declare("hwnas_rng_below", c_uint64, c_void_p, c_uint64)
_declare("hwnas_rng_normal", c_double, c_void_p)
_declare("hwnas_rng_save", None, c_void_p, P(ctypes.c_uint8))
_declare("hwnas_rng_load", c_int, c_void_p, P(ctypes.c_uint8))

RNG_STATE_SIZE = 32


def take_string(ptr):
    """Copy a library-allocated C string into Python and release it."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.hwnas_free(ptr)


def encode(s):
    """Python text (or None) to a C string argument; a NUL inside raises
    ValueError (C would see the text cut short there)."""
    if s is None:
        return None
    b = s if isinstance(s, bytes) else str(s).encode("utf-8")
    if b"\0" in b:
        raise ValueError("a string passed to libhwnas holds a NUL character: %r" % s)
    return b


def decode(b):
    return None if b is None else b.decode("utf-8")
