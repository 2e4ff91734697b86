"""Finding and loading libhwnas, and declaring the C signatures.

The library is looked up in this order:
1. the HWNAS_LIBRARY environment variable (a path to libhwnas.so.N);
2. pkg-config's libdir for the hwnas package;
3. the build tree of a source checkout (build/lib/ next to bindings/).
"""
import ctypes
import os
import subprocess

ABI_MAJOR = 0      # the SONAME this package speaks to
MIN_VERSION = 100  # 0.1.0: the oldest library with every symbol used here

_SONAME = "libhwnas.so.%d" % ABI_MAJOR


def _candidates():
    env = os.environ.get("HWNAS_LIBRARY")
    if env:
        yield env
        return
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", "hwnas"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        if libdir:
            yield os.path.join(libdir, _SONAME)
    except (OSError, subprocess.SubprocessError):
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
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


def _declare(name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


# version.h, error.h
_declare("hwnas_version_number", ctypes.c_uint)
_declare("hwnas_version_string", c_char_p)
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
    """Python text (or None) to a C string argument."""
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    return str(s).encode("utf-8")


def decode(b):
    return None if b is None else b.decode("utf-8")
