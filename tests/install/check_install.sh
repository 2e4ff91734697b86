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

# The data, manuals and completion: the zoo and hardware under
# share/hwnas, which the installed hwnas finds by name from anywhere (here
# from an empty directory, beside its own binary: the prefix is staged);
# a manual page per command plus hwnas(1) and libhwnas(3); completion.
share=$(find "$dest" -type d -path '*/share/hwnas' | head -1)
[ -n "$share" ] || { echo "FAIL: no share/hwnas installed"; exit 1; }
for d in nets hardware; do
    for f in "$src/examples/$d"/*; do
        cmp -s "$f" "$share/$d/$(basename "$f")" || { echo "FAIL: $share/$d/$(basename "$f") not installed"; exit 1; }
    done
done
bin=$(find "$dest" -path '*/bin/hwnas' | head -1)
mkdir "$dest/empty"
out=$(cd "$dest/empty" && env -u HWNAS_DATA_PATH LD_LIBRARY_PATH="$libdir" "$bin" estimate resnet50 --hardware eyeriss) ||
    { echo "FAIL: the installed hwnas does not find resnet50 and eyeriss by name"; exit 1; }
echo "$out" | grep -q "energy" || { echo "FAIL: estimate resnet50 --hardware eyeriss printed: $out"; exit 1; }
man=$(dirname "$share")/man
for c in $(LD_LIBRARY_PATH="$libdir" "$bin" --help | sed -n '/^commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p'); do
    [ -s "$man/man1/hwnas-$c.1" ] || { echo "FAIL: no manual page hwnas-$c.1"; exit 1; }
done
[ -s "$man/man1/hwnas.1" ] && [ -s "$man/man3/libhwnas.3" ] || { echo "FAIL: hwnas.1 or libhwnas.3 missing"; exit 1; }
comp=$(find "$dest" -path '*/bash-completion/completions/hwnas' | head -1)
[ -n "$comp" ] && bash -n "$comp" || { echo "FAIL: no bash completion installed"; exit 1; }
echo "installed data (zoo, hardware, found by name), $(ls "$man/man1" | wc -l) manual pages in man1, libhwnas.3, completion OK"

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
