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

# Built with MPI: the installed libhwnas_mpi, its header and hwnas-mpi.pc
# build the MPI example with pkg-config alone, and it runs on 2 ranks.
mpc=$(find "$dest" -name hwnas-mpi.pc | head -1)
if [ -n "$mpc" ] && command -v mpirun >/dev/null; then
    # No sysroot here: hwnas-mpi requires the system's ompi-c, whose paths
    # must stay as they are; our own file gets the staged prefix instead.
    mkdir "$dest/pc"
    sed "s|^prefix=|prefix=$dest|" "$mpc" > "$dest/pc/hwnas-mpi.pc"
    cflags=$(PKG_CONFIG_PATH="$dest/pc" pkg-config --cflags hwnas-mpi)
    libs=$(PKG_CONFIG_PATH="$dest/pc" pkg-config --libs hwnas-mpi)
    cc $cflags "$src/examples/mpi/search_mpi.c" $libs -o "$dest/search_mpi" ||
        { echo "FAIL: examples/mpi does not build with pkg-config hwnas-mpi"; exit 1; }
    LD_LIBRARY_PATH="$libdir" ldd "$dest/search_mpi" | grep -q "$libdir/libhwnas_mpi.so.0" || {
        echo "FAIL: the MPI example did not link the installed libhwnas_mpi"; exit 1; }
    n=$(LD_LIBRARY_PATH="$libdir" mpirun --oversubscribe --allow-run-as-root -x LD_LIBRARY_PATH \
        -np 2 "$dest/search_mpi" 12 | wc -l)
    [ "$n" -eq 12 ] || { echo "FAIL: the installed MPI example printed $n candidates, not 12"; exit 1; }
    echo "installed libhwnas_mpi: hwnas-mpi.pc builds examples/mpi, 2 ranks OK"
fi
