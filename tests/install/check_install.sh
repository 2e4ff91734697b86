#!/bin/sh
# Install into a temporary prefix with `meson install --destdir`, then build
# and run examples/pkgconfig against the installed copy with pkg-config
# only, and check what was installed (SONAME, static library, headers).
# Usage: check_install.sh BUILD_DIR SOURCE_ROOT
set -eu
build=$1 src=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
pc=$(find "$dest" -name hwnas.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no hwnas.pc installed"; exit 1; }
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
so=$(find "$libdir" -maxdepth 1 -name 'libhwnas.so.*.*.*' | head -1)
soname=$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libhwnas.so.0" ] || { echo "FAIL: SONAME is '$soname'"; exit 1; }
[ -f "$libdir/libhwnas.a" ] || { echo "FAIL: no static library"; exit 1; }
[ -f "$(dirname "$libdir")/../include/hwnas/hwnas.h" ] || \
  find "$dest" -path '*include/hwnas/hwnas.h' | grep -q . || { echo "FAIL: headers missing"; exit 1; }
PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$dest" \
  make -s -C "$src/examples/pkgconfig" OUT="$dest"
out=$(LD_LIBRARY_PATH="$libdir" "$dest/hello")
echo "$out"
echo "$out" | grep -q "sum of squares below 1000: 332833500" || { echo "FAIL: wrong output"; exit 1; }
# The program must have picked the installed library, not the build tree's.
LD_LIBRARY_PATH="$libdir" ldd "$dest/hello" | grep -q "$libdir/libhwnas.so.0" || {
  echo "FAIL: the example did not link the installed libhwnas"; exit 1; }
echo "installed copy: SONAME $soname, static library, headers, pkg-config example OK"
