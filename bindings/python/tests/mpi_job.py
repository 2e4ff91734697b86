"""Run by test_mpi.py under mpirun -np 3: hwnas.mpi.run with a Python
estimator gives rank 0 the archive of a single-process run; the workers
did the estimating. Prints "mpi ok N" on rank 0."""
import os
import sys

from mpi4py import MPI  # before hwnas: the package then loads libhwnas_mpi

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import hwnas  # noqa: E402
import hwnas.mpi  # noqa: E402

calls = []


def score(net, key, stream):
    calls.append(key)
    if net.hash % 5 == 0:
        raise ValueError("fails by design")
    return {"score": net.params * 1e-4 + (stream % 1000) * 1e-6}


def make(ctx):
    s = hwnas.Search(ctx, "space:cell", "strategy:nsga2", budget=24, batch=6,
                     objectives="score:max,macs:min", space_options="channels=4;cells=1",
                     strategy_options="population=6")
    s.add_estimator("estimator:cost")
    s.add_estimator(hwnas.Estimator.custom(ctx, "score", "score:1", score))
    return s


def archive(s):
    return [(c["key"], sorted((k, repr(v)) for k, v in c["metrics"].items()), c["error"])
            for c in s.candidates()]


ctx = hwnas.Context(threads=1, seed=11)
assert hwnas.mpi.available(), hwnas.library_path
s = make(ctx)
hwnas.mpi.run(s, heartbeat=0.2, timeout=20)
worker_calls = MPI.COMM_WORLD.reduce(len(calls), op=MPI.SUM, root=0)
if hwnas.mpi.rank() == 0:
    assert calls == [], "rank 0 estimated %d candidates" % len(calls)
    local = make(ctx)
    local.run()
    assert archive(s) == archive(local), "the 3-rank archive differs"
    assert len(calls) == worker_calls, (len(calls), worker_calls)
    assert any(c["error"] for c in s.candidates()), "no candidate failed by design"
    print("mpi ok %d" % len(s.candidates()))
else:
    assert len(s.candidates()) == 0
# Over a split communicator (ranks 0-1 together, rank 2 alone): the same.
half = MPI.COMM_WORLD.Split(0 if hwnas.mpi.rank() < 2 else 1, hwnas.mpi.rank())
s2 = make(ctx)
hwnas.mpi.run(s2, comm=half)
if half.Get_rank() == 0:
    local2 = make(ctx)
    local2.run()
    assert archive(s2) == archive(local2), "the split-communicator archive differs"
half.Free()
MPI.COMM_WORLD.Barrier()

assert hwnas.mpi.finalize() is False  # no rank was lost: MPI is finalised
assert MPI.Is_finalized()
