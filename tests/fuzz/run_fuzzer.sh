#!/bin/sh
# Run a libFuzzer binary for a bounded time, seeded from the committed
# corpus; new inputs go to a scratch directory in the build tree, never into
# the source tree.
set -eu
fuzzer=$1 seeds=$2 scratch=$3 seconds=$4
mkdir -p "$scratch"
# libFuzzer exits 77 on a crash by default, which meson reads as "skipped".
exec "$fuzzer" -error_exitcode=1 -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "$scratch" "$seeds"
