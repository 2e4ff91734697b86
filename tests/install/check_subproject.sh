#!/bin/sh
# Build examples/meson-subproject with this source tree as its subproject.
# Usage: check_subproject.sh SOURCE_ROOT
set -eu
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/examples/meson-subproject" "$work/host"
cp -r "$src/examples/pkgconfig" "$work/pkgconfig"
mkdir "$work/host/subprojects"
ln -s "$src" "$work/host/subprojects/hwnas"
meson setup "$work/build" "$work/host" >/dev/null
ninja -C "$work/build" >/dev/null
"$work/build/host" | grep -q "sum of squares below 1000: 332833500"
echo "libhwnas builds and links as a meson subproject"
