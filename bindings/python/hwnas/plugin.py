"""Plugins (plugin.h): kinds brought by a shared object at run time.

    load_plugin(ctx, "build/tests/plugin/roofline.so")
    Estimator(ctx, "estimator:roofline", peak_gflops=50)

A plugin's kinds are registered in one context and used by name like
built-in kinds from then on. The shared object stays loaded until the
context is freed. Writing a plugin is C work: doc/plugins.md.
"""
import os

from . import _native
from ._native import lib, encode, c_int, c_char_p, c_void_p
from .errors import check

ABI_VERSION = 1  # HWNAS_PLUGIN_ABI_VERSION of the header these bindings follow

_native._declare("hwnas_context_load_plugin", c_int, c_void_p, c_char_p)


def load_plugin(ctx, path):
    """Load the plugin at path (a name with a '/' is a path; others go
    through the dynamic loader's search path) into ctx and register its
    kinds. Errors name the file: hwnas.NotFound (no file or no entry
    symbol), hwnas.FormatError (not a loadable object), hwnas.VersionError,
    hwnas.InvalidArgument (a malformed table or a kind name already taken,
    e.g. loading the same plugin twice), hwnas.Stopped (its init()
    failed). Not thread-safe: load plugins before sharing the context.
    Returns the kinds it added."""
    if not ctx._ptr:
        raise ValueError("this context is closed")
    before = set(ctx.kinds())
    check(lib.hwnas_context_load_plugin(ctx._ptr, encode(os.fspath(path))))
    return [k for k in ctx.kinds() if k not in before]


__all__ = ["load_plugin", "ABI_VERSION"]
