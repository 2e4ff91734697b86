#!/bin/sh
# libhwnas_mpi exports libhwnas's public symbols with their versions (so a
# plugin linked against libhwnas.so.0 binds to it) plus exactly the
# HWNAS_MPI_API functions of include/hwnas/mpi.h in node HWNAS_MPI_0.1.
# Usage: check_mpi_symbols.sh LIBHWNAS_SO LIBHWNAS_MPI_SO MPI_H
set -eu
lib=$1 mpilib=$2 header=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort > "$tmp/core"
nm -D --defined-only "$mpilib" | awk '$2 == "T" { print $3 }' | grep -v '@@HWNAS_MPI_' | sort > "$tmp/mpi-core"
nm -D --defined-only "$mpilib" | awk '$2 == "T" { print $3 }' | sed -n 's/@@HWNAS_MPI_0\.1$//p' | sort > "$tmp/mpi-own"
sed -n 's/^HWNAS_MPI_API [^(]*\b\(hwnas_[a-z0-9_]*\)(.*/\1/p' "$header" | sort > "$tmp/declared"
status=0
cmp -s "$tmp/core" "$tmp/mpi-core" || { echo "FAIL: libhwnas_mpi's public symbols differ from libhwnas's:"; diff "$tmp/core" "$tmp/mpi-core" | head; status=1; }
cmp -s "$tmp/declared" "$tmp/mpi-own" || { echo "FAIL: HWNAS_MPI_0.1 differs from mpi.h:"; diff "$tmp/declared" "$tmp/mpi-own"; status=1; }
[ -s "$tmp/declared" ] || { echo "FAIL: no HWNAS_MPI_API declaration found in $header"; status=1; }
[ $status -eq 0 ] && echo "libhwnas_mpi: $(wc -l < "$tmp/core") public symbols as libhwnas's, $(wc -l < "$tmp/declared") of its own (HWNAS_MPI_0.1)"
exit $status
