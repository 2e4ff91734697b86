"""libhwnas from Python: hardware-aware neural architecture search.

A ctypes package over libhwnas.so: no compilation needed. Installed by
`meson install`, it loads the library installed with it; from a source
tree or a pip install, HWNAS_LIBRARY chooses the library, otherwise
pkg-config's and the source tree's build/ are searched (hwnas._native). The library's version is checked at
import: its ABI major must match and it must be at least this package's.
"""
from . import _native
from .errors import (Error, InvalidArgument, OutOfMemory, IOFailure, FormatError, NotFound,
                     Stopped, StateError, VersionError, Unsupported, InvalidCandidate,
                     InternalError, error_str)
from .core import (Context, Options, OptionInfo, Rng, LOG_ERROR, LOG_WARN, LOG_INFO,
                   LOG_DEBUG)

version_number = _native.lib.hwnas_version_number()
version = _native.lib.hwnas_version_string().decode("ascii")
library_path = _native.path
abi_version = _native.lib.hwnas_abi_version()
# {"onednn": bool, "mpi": bool, "onnx": bool, ...}: this build's optional
# features, from hwnas_build_features() ("onednn=yes;mpi=no;...").
build_features = {k: v == "yes" for k, v in
                  (f.split("=", 1) for f in
                   _native.lib.hwnas_build_features().decode("ascii").split(";") if f)}

if version_number // 10000 != _native.ABI_MAJOR or version_number < _native.MIN_VERSION:
    raise ImportError("hwnas: %s is libhwnas %s; this package needs %d.x, at least %d.%d.%d"
                      % (library_path, version, _native.ABI_MAJOR,
                         _native.MIN_VERSION // 10000, _native.MIN_VERSION // 100 % 100,
                         _native.MIN_VERSION % 100))

from . import pareto, net, data, axmul, space, estimator  # noqa: E402 (after the check)
from . import model, strategy, search  # noqa: E402
from . import latency_lut, plugin, quant, accel, mpi, predict, onnx, supernet, dsearch  # noqa: E402
from .net import Net, Node  # noqa: E402
from .data import Idx, Dataset  # noqa: E402
from .axmul import Axmul, Registry as AxmulRegistry  # noqa: E402
from .space import Space  # noqa: E402
from .estimator import Estimator  # noqa: E402
from .model import Model  # noqa: E402
from .strategy import Strategy  # noqa: E402
from .search import Search  # noqa: E402
from .latency_lut import LatencyLut, LatencyModel  # noqa: E402
from .plugin import load_plugin  # noqa: E402
from .quant import Quant, quant_accuracy  # noqa: E402
from .accel import Accelerator, AccelResult  # noqa: E402
from .predict import Predictor  # noqa: E402
from .supernet import Supernet  # noqa: E402

__version__ = version
__all__ = ["LatencyModel", "Model", "Strategy", "Search", "model", "strategy", "search",
           "LatencyLut", "Quant", "quant_accuracy", "load_plugin", "latency_lut", "plugin",
           "quant", "Accelerator", "AccelResult", "accel", "Predictor", "predict", "onnx", "Supernet", "supernet", "dsearch",
           "Net", "Node", "Idx", "Dataset", "Axmul", "AxmulRegistry", "Space", "Estimator",
           "pareto", "net", "data", "axmul", "space", "estimator",
           "Context", "Options", "OptionInfo", "Rng", "Error", "InvalidArgument",
           "OutOfMemory", "IOFailure", "FormatError", "NotFound", "Stopped", "StateError",
           "VersionError", "Unsupported", "InvalidCandidate", "InternalError", "error_str",
           "version", "version_number", "library_path", "abi_version", "build_features"]
