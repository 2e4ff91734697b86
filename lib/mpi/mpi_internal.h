/* libhwnas_mpi - the protocol between rank 0 and the workers. Not installed.
 *
 *   worker -> 0  HELLO   the worker's search fingerprint (text)
 *   0 -> worker  JOB     uint64: sequence number, evaluation (random stream),
 *                        then the genes (n_genes)
 *   worker -> 0  BEAT    empty, every heartbeat seconds while estimating
 *   worker -> 0  RESULT  bytes: uint64 sequence, double seconds, int32
 *                        failed, double metrics[n_metrics], uint32 length +
 *                        error text, uint32 length + net spec text
 *   0 -> worker  STOP    one byte: the search is over; 1 when a rank was lost
 *   worker -> 0  STOP    empty: stopped (rank 0 drains what came before it)
 *
 * Rank 0 never blocks on one worker: it polls with MPI_Iprobe, so a dead
 * worker costs it a timeout, not a hang.
 */
#ifndef HWNAS_MPI_INTERNAL_H
#define HWNAS_MPI_INTERNAL_H

#include <mpi.h>

#include "hwnas/mpi.h"
#include "search/search_internal.h"

enum { TAG_HELLO = 7101, TAG_JOB, TAG_BEAT, TAG_RESULT, TAG_STOP };

typedef struct hwnas__mpi_opts {
    double heartbeat; /* seconds between a busy worker's BEATs */
    double timeout;   /* seconds of silence before a busy worker is dead */
} hwnas__mpi_opts;

/* The search's shape, which rank 0 and a worker must share (owned text,
 * hwnas__free): space, genes, metrics, constraints, screening. */
char *hwnas__mpi_fingerprint(hwnas_search *s);

/* An MPI return code as an HWNAS_EIO error naming what was done. */
int hwnas__mpi_fail(int mpi_rc, const char *what);

/* Sleep a little while polling: grows from 20 us to 1 ms as idle rounds
 * go by (*idle counts them), so that an oversubscribed machine's cores go
 * to the estimators, not to spinning. */
void hwnas__mpi_nap(unsigned *idle);

/* A rank of this MPI job was lost (taken for dead by rank 0, or rank 0
 * said so in STOP): MPI_Finalize would wait for it (hwnas_mpi_finalize).
 * Process-wide, as MPI's own state is. */
void hwnas__mpi_set_lost(void);

/* master.c: rank 0 runs the search with the remote evaluator. */
int hwnas__mpi_master(hwnas_search *s, MPI_Comm comm, const hwnas__mpi_opts *o);

/* worker.c: a worker serves rank 0 until STOP. */
int hwnas__mpi_worker(hwnas_search *s, MPI_Comm comm, const hwnas__mpi_opts *o);

#endif
