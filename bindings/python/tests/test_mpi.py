"""hwnas.mpi: without libhwnas_mpi it says what to load; with it (built
with MPI, mpi4py and mpirun present) a 3-rank run of mpi_job.py gives the
single-process archive, a Python estimator running on the workers."""
import os
import shutil
import subprocess
import sys

import pytest

import hwnas
import hwnas.mpi

HERE = os.path.dirname(os.path.abspath(__file__))


def _mpi_library():
    """libhwnas_mpi beside the library under test (the build tree's)."""
    lib_dir = os.path.dirname(hwnas.library_path)
    path = os.path.join(lib_dir, "mpi", "libhwnas_mpi.so.0")
    return path if os.path.exists(path) else None


def test_plain_library_says_what_to_load():
    if hwnas.mpi.available():
        pytest.skip("the package loaded libhwnas_mpi itself")
    with pytest.raises(hwnas.StateError, match="libhwnas_mpi"):
        hwnas.mpi.rank()
    with pytest.raises(hwnas.StateError, match="mpi4py"):
        hwnas.mpi.run(None)


def test_three_ranks_same_archive():
    mpi_lib = _mpi_library()
    if mpi_lib is None:
        pytest.skip("built without MPI (no libhwnas_mpi)")
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        pytest.skip("no mpirun (openmpi-bin)")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("no mpi4py (python3-mpi4py)")
    env = dict(os.environ, HWNAS_LIBRARY=mpi_lib)
    r = subprocess.run([mpirun, "--oversubscribe", "--allow-run-as-root", "-np", "3",
                        sys.executable, os.path.join(HERE, "mpi_job.py")],
                       env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "mpi ok 24" in r.stdout, r.stdout + r.stderr
