#!/bin/sh
# Stands for the MPI tests in a build without MPI: says why, and is skipped.
echo "skipped: built without MPI (meson feature 'mpi' needs libopenmpi-dev and openmpi-bin)"
exit 77
