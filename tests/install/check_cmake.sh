#!/bin/sh
# Build examples/cmake (find_package(PkgConfig), pkg_check_modules with an
# imported target) against a staged install, run it on a network of the
# installed zoo, and check it linked the installed library and reports
# what the installed hwnas --version reports.
# Usage: check_cmake.sh BUILD_DIR SOURCE_ROOT
set -eu
build=$1 src=$2
command -v cmake >/dev/null || {
    echo "SKIP: cmake is not installed (apt-get install cmake; tools/test installs it)"; exit 77; }
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
pc=$(find "$dest" -name hwnas.pc | head -1)
libdir=$(dirname "$(dirname "$pc")")
# hwnas.pc with its prefix moved under DESTDIR (a sysroot would also move
# OpenBLAS's system paths, which stay where they are)
mkdir "$dest/pc"
sed "s|^prefix=|prefix=$dest|" "$pc" > "$dest/pc/hwnas.pc"
PKG_CONFIG_PATH="$dest/pc" cmake -S "$src/examples/cmake" -B "$dest/cmake-build" >"$dest/cmake.log" 2>&1 ||
    { cat "$dest/cmake.log"; echo "FAIL: cmake could not configure examples/cmake"; exit 1; }
cmake --build "$dest/cmake-build" >"$dest/build.log" 2>&1 ||
    { cat "$dest/build.log"; echo "FAIL: examples/cmake does not build"; exit 1; }
prog=$dest/cmake-build/features
LD_LIBRARY_PATH="$libdir" ldd "$prog" | grep -q "$libdir/libhwnas.so.0" ||
    { echo "FAIL: examples/cmake did not link the installed libhwnas"; exit 1; }
net=$(find "$dest" -path '*/share/hwnas/nets/resnet20.net')
out=$(LD_LIBRARY_PATH="$libdir" "$prog" "$net")
echo "$out"
echo "$out" | grep -q "resnet20.net: 40813184 MACs, 272474 parameters" || { echo "FAIL: wrong output"; exit 1; }
bin=$(find "$dest" -path '*/bin/hwnas')
want=$(LD_LIBRARY_PATH="$libdir" "$bin" --version | sed -n 's/^features: //p')
echo "$out" | grep -qx "features: $want" || { echo "FAIL: features differ from hwnas --version's '$want'"; exit 1; }
echo "examples/cmake builds with CMake and pkg-config against the installed copy"
