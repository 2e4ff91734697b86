/* libhwnas_mpi - reading a worker's RESULT message (layout in
 * mpi_internal.h). No MPI here: the fuzz target links it alone. */
#ifndef HWNAS_MPI_MESSAGE_H
#define HWNAS_MPI_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hwnas__mpi_result {
    uint64_t seq;                 /* the job's sequence number */
    double seconds;               /* estimation time */
    int failed;                   /* 0 or 1 */
    const unsigned char *metrics; /* n_metrics doubles, unaligned: read with memcpy */
    const char *error;            /* error_len bytes, not NUL-terminated */
    size_t error_len;
    const char *net;              /* net_len bytes of net spec, not NUL-terminated */
    size_t net_len;
} hwnas__mpi_result;

/* Split the len bytes at b into *out (pointers into b). HWNAS_EIO naming
 * the sending rank when the message is short, long, or its lengths or
 * failed flag are out of range. */
int hwnas__mpi_result_parse(const unsigned char *b, size_t len, size_t n_metrics, int rank,
                            hwnas__mpi_result *out);

#endif
