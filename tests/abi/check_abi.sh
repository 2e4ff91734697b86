#!/bin/sh
# The ABI gate: compare libhwnas.so with the committed abidw baseline.
# abidiff's exit status is a bit field: 1 tool error, 2 usage error,
# 4 ABI change, 8 incompatible change. Additions (4 alone) pass and ask for
# a new baseline; 8 fails unless the SONAME was bumped with a new baseline.
# Usage: check_abi.sh SOURCE_ROOT LIBHWNAS_SO
set -u
root=$1 lib=$2
baseline="$root/tests/abi/libhwnas.abi"
if ! command -v abidiff >/dev/null 2>&1; then
    echo "abidiff not found: install abigail-tools"; exit 77
fi
if [ ! -f "$baseline" ]; then
    echo "no baseline $baseline: run tools/update-abi"; exit 1
fi
current=$(mktemp)
trap 'rm -f "$current"' EXIT
abidw --no-corpus-path --headers-dir "$root/include/hwnas" --out-file "$current" "$lib" || exit 1
soname_now=$(sed -n 's/.*soname=.\([^"'"'"']*\).*/\1/p' "$current" | head -1)
soname_base=$(sed -n 's/.*soname=.\([^"'"'"']*\).*/\1/p' "$baseline" | head -1)
if [ "$soname_now" != "$soname_base" ]; then
    echo "SONAME changed ($soname_base -> $soname_now) but the baseline was not regenerated:"
    echo "run tools/update-abi in the same commit"; exit 1
fi
# Changes to what exists (signatures, types, removals) versus additions.
abidiff --no-added-syms --headers-dir1 "$root/include/hwnas" --headers-dir2 "$root/include/hwnas" \
    "$baseline" "$current"
rc=$?
abidiff --headers-dir1 "$root/include/hwnas" --headers-dir2 "$root/include/hwnas" \
    "$baseline" "$current" > /dev/null
rc_all=$?
if [ $((rc & 3)) -ne 0 ] || [ $((rc_all & 3)) -ne 0 ]; then
    echo "abidiff failed to run (status $rc/$rc_all)"; exit 1
fi
# libabigail flags only some breaks as incompatible (8); a changed parameter
# list is reported as a plain change (4). For a C ABI both break callers.
if [ $((rc & 12)) -ne 0 ]; then
    echo "ABI BREAK against $baseline ($soname_base): an existing function or type changed."
    echo "Undo it (add a _v2 instead), or bump abi_major in meson.build and run"
    echo "tools/update-abi in the same commit."
    exit 1
fi
if [ $((rc_all & 4)) -ne 0 ]; then
    echo "compatible ABI change (additions): refresh the baseline with tools/update-abi when releasing"
fi
echo "ABI of $soname_now is compatible with the baseline"
exit 0
