#!/bin/sh
# The MPI example on 3 ranks gives the same archive as one process.
# Usage: check_mpi.sh SEARCH_MPI MPIRUN
set -eu
prog=$1 mpirun=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$mpirun" -np 1 --allow-run-as-root --oversubscribe "$prog" --single 30 > "$dir/single"
"$mpirun" -np 3 --allow-run-as-root --oversubscribe "$prog" 30 > "$dir/mpi"
[ "$(wc -l < "$dir/single")" -eq 30 ] || { echo "FAIL: expected 30 candidates"; exit 1; }
if ! cmp -s "$dir/single" "$dir/mpi"; then
    echo "FAIL: the 3-rank archive differs from the single-process one"
    diff "$dir/single" "$dir/mpi" | head
    exit 1
fi
echo "3 ranks and 1 process give the same 30-candidate archive"
