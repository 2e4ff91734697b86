/*
 * libhwnas - distributed search over MPI (optional library libhwnas_mpi).
 *
 * Not part of libhwnas.so and not included by hwnas.h: a host that wants
 * MPI includes this header and links libhwnas_mpi (pkg-config hwnas-mpi),
 * which carries the whole public API of libhwnas as well, so that such a
 * host links that one library only. libhwnas itself never links MPI.
 *
 * The model (doc/distributed.md): every rank builds the same search (the
 * same calls, options and estimators, including custom estimator objects;
 * the out option on rank 0 only, since a search locks its directory) and
 * calls hwnas_search_run_mpi. Rank 0 runs the search as
 * hwnas_search_run does: it owns the strategy, the journal, snapshots and
 * results. The other ranks only decode and estimate the candidates rank 0
 * sends them and send back metrics, errors, timings and the decoded net;
 * each candidate keeps its evaluation number as its random stream, so the
 * archive is the one of a single process with the same seed and options,
 * at any number of ranks.
 *
 * Faults: a worker is expected to answer or send a heartbeat every
 * `heartbeat` seconds while it estimates; one silent for `timeout` seconds
 * is taken as dead, never used again, and its candidate goes to another
 * rank (rank 0 estimates itself when no worker is left). With Open MPI 4
 * the job survives a killed worker only under `mpirun --enable-recovery`;
 * without it mpirun ends every rank, and the journal resumes the search
 * (hwnas_search_resume, `hwnas search --resume DIR`).
 */
#ifndef HWNAS_MPI_H
#define HWNAS_MPI_H

#include <mpi.h>

#include "hwnas/search.h"

#if defined(_WIN32)
#define HWNAS_MPI_API
#elif defined(HWNAS_BUILDING)
#define HWNAS_MPI_API __attribute__((visibility("default")))
#else
#define HWNAS_MPI_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Run search over the ranks of comm, collectively: every rank of comm
 * calls it with its own copy of the same search. On rank 0 it returns what
 * hwnas_search_run would (the archive, journal and results are there); on
 * the other ranks it returns HWNAS_OK once rank 0 has finished, the search
 * left unstarted (its archive empty). With a single rank it is
 * hwnas_search_run.
 *
 * options ("key=value;..."; NULL for defaults; an unknown key or a value
 * out of range is HWNAS_EINVAL naming the valid ones): heartbeat (seconds between a busy worker's signs of life,
 * default 1), timeout (seconds of silence before rank 0 takes a worker for
 * dead, default 30; keep it several heartbeats).
 *
 * MPI must be initialised (MPI_Init or MPI_Init_thread; only the calling
 * thread makes MPI calls, so MPI_THREAD_FUNNELED is enough); the error
 * handler of comm is set to MPI_ERRORS_RETURN for the call's duration and
 * restored. A worker estimates one candidate at a time; the estimators use
 * the context's threads inside it.
 *
 * Errors: HWNAS_EINVAL (NULL search, bad options, a worker whose search
 * differs from rank 0's: the message names the rank and what differs);
 * HWNAS_EIO (an MPI call failed, with MPI's message); on rank 0, the
 * errors of hwnas_search_run. A candidate that fails on a worker is
 * recorded as failed with the worker's message, as in one process.
 * Thread-safety: as hwnas_search_run; one call per comm at a time.
 */
HWNAS_MPI_API int hwnas_search_run_mpi(hwnas_search *search, MPI_Comm comm,
                                       const char *options);

/*
 * hwnas_search_run_mpi over MPI_COMM_WORLD, for hosts that cannot name an
 * MPI_Comm (Python through ctypes). Initialises MPI (MPI_THREAD_FUNNELED)
 * when nobody has, and then leaves it initialised: MPI_Finalize is the
 * host's (mpi4py does it at exit). Errors as hwnas_search_run_mpi.
 */
HWNAS_MPI_API int hwnas_search_run_mpi_world(hwnas_search *search, const char *options);

/*
 * The rank of the calling process in MPI_COMM_WORLD (0 when MPI is not
 * initialised) and the number of ranks (1 then): a host decides from them
 * which rank prints and writes. Never fails; thread-safe.
 */
HWNAS_MPI_API int hwnas_mpi_world_rank(void);
HWNAS_MPI_API int hwnas_mpi_world_size(void);

/*
 * MPI_Finalize, unless a rank of this job was lost while this process ran
 * hwnas_search_run_mpi (taken for dead by rank 0, which tells the workers
 * when it stops them): Open MPI 4.1's MPI_Finalize may then wait forever
 * for the dead rank, so it is skipped and the process should just exit
 * (mpirun --enable-recovery accepts that). Returns 0 when MPI is finalised
 * (or was not initialised, or already finalised), 1 when it was skipped.
 * Never fails; call it once, from the thread that initialised MPI.
 */
HWNAS_MPI_API int hwnas_mpi_finalize(void);

#ifdef __cplusplus
}
#endif

#endif
