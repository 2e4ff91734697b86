"""Distributed search over MPI (include/hwnas/mpi.h): libhwnas_mpi with mpi4py.

Every rank of `mpirun -np N python3 job.py` runs the same script and
builds the same Search (the same options and estimators, Python ones
included); run(search) makes rank 0 run it (strategy, journal, results)
while the other ranks decode and estimate the candidates it sends them.
The archive is the one a single process makes with the same seed.

    from mpi4py import MPI     # first: the package then loads libhwnas_mpi
    import hwnas, hwnas.mpi
    ctx = hwnas.Context(threads=1, seed=7)
    out = "runs/a" if hwnas.mpi.rank() == 0 else ""   # rank 0 owns the directory
    s = hwnas.Search(ctx, "space:cell", "strategy:nsga2", budget=200, batch=16,
                     objectives="score:max,macs:min", out=out)
    s.add_estimator("estimator:cost"); s.add_estimator(my_estimator)
    hwnas.mpi.run(s, heartbeat=1, timeout=30)
    if hwnas.mpi.rank() == 0:
        print(s.front_candidates())

The package must have loaded libhwnas_mpi.so (import mpi4py.MPI before
hwnas, or set HWNAS_LIBRARY to it); available() says whether it did.
"""
import ctypes

from ._native import lib, _declare, encode, c_int, c_void_p, c_char_p
from .errors import StateError
from .search import _opts

_HAVE = hasattr(lib, "hwnas_search_run_mpi_world")
if _HAVE:
    _declare("hwnas_search_run_mpi_world", c_int, c_void_p, c_char_p)
    _declare("hwnas_search_run_mpi", c_int, c_void_p, c_void_p, c_char_p)
    _declare("hwnas_mpi_world_rank", c_int)
    _declare("hwnas_mpi_world_size", c_int)
    _declare("hwnas_mpi_finalize", c_int)


def available():
    """Whether the loaded library is libhwnas_mpi (has distributed search)."""
    return _HAVE


def _need():
    if not _HAVE:
        raise StateError("hwnas.mpi: the loaded library (%s) is not libhwnas_mpi; import "
                         "mpi4py.MPI before hwnas, or set HWNAS_LIBRARY to "
                         "libhwnas_mpi.so.0" % _library_path())


def _library_path():
    from . import _native
    return _native.path


def rank():
    """This process's rank in MPI_COMM_WORLD (0 before MPI is initialised)."""
    _need()
    return lib.hwnas_mpi_world_rank()


def size():
    """The number of ranks in MPI_COMM_WORLD (1 before MPI is initialised)."""
    _need()
    return lib.hwnas_mpi_world_size()


def finalize():
    """MPI_Finalize, unless a rank was lost during run(): Open MPI 4.1
    would then wait forever for it. Returns True when it was skipped; the
    process should then leave with os._exit() so that mpi4py does not try
    to finalise at exit."""
    _need()
    return lib.hwnas_mpi_finalize() == 1


def run(search, comm=None, options=None, **kwargs):
    """Run search over the ranks of comm (an mpi4py communicator; None:
    COMM_WORLD), collectively: every rank calls it with its own copy of the
    same search. On rank 0 it is search.run() with the estimates made on
    the other ranks; elsewhere it returns when rank 0 is done, the search's
    archive empty. options/keywords: heartbeat (seconds between a busy
    worker's signs of life, 1), timeout (seconds of silence before a worker
    is taken for dead and its candidate given to another rank, 30).
    Raises as Search.run(); InvalidArgument for bad options or a rank whose
    search differs from rank 0's (naming it). A communicator other than
    COMM_WORLD needs Open MPI (whose MPI_Comm is a pointer)."""
    _need()
    text = encode(_opts(options, kwargs))
    if comm is None:
        search._run_with(lib.hwnas_search_run_mpi_world, text)
        return
    from mpi4py import MPI
    if comm == MPI.COMM_WORLD:
        search._run_with(lib.hwnas_search_run_mpi_world, text)
        return
    search._run_with(lib.hwnas_search_run_mpi, ctypes.c_void_p(MPI._handleof(comm)), text)
