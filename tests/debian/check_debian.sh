#!/bin/sh
# The Debian packages: build them with dpkg-buildpackage (nocheck: the
# suites run elsewhere), check each one's files and dependencies, unpack
# them into a temporary root, then run the command, the Python package and
# a C program built against them from there.
# The package build is kept in WORK_DIR and reused (ninja rebuilds what
# changed), unless debian/rules or meson_options.txt changed.
# Usage: check_debian.sh SOURCE_ROOT WORK_DIR VERSION
set -eu
src=$1 work=$2 version=$3
for t in dpkg-buildpackage dpkg-deb dh dh_python3; do
    command -v $t >/dev/null || {
        echo "SKIP: $t is missing (apt-get install dpkg-dev debhelper dh-python; tools/test installs them)"
        exit 77; }
done
for p in meson ninja-build pkg-config libopenblas-dev zlib1g-dev python3 bash-completion; do
    dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q "install ok installed" || {
        echo "SKIP: build dependency $p is not installed"; exit 77; }
done
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
tree=$work/hwnas-$version

# The source, copied with its timestamps; the previous package build kept.
key=$(cat "$src/debian/rules" "$src/meson_options.txt" | md5sum | cut -d' ' -f1)
[ -f "$work/key" ] && [ "$(cat "$work/key")" = "$key" ] || rm -rf "$work"
mkdir -p "$tree"
find "$tree" -mindepth 1 -maxdepth 1 ! -name 'obj-*' -exec rm -rf {} +
(cd "$src" && tar cf - --exclude=./build --exclude='./build-*' --exclude=./.git \
    --exclude='./obj-*' --exclude='*/__pycache__' .) | (cd "$tree" && tar xpf -)
# what a dpkg-buildpackage in the source tree left (dh would skip steps)
(cd "$tree/debian" && rm -rf .debhelper tmp files ./*.substvars ./*.debhelper* debhelper-build-stamp \
    libhwnas0.symbols libhwnas0 libhwnas-dev python3-hwnas hwnas)
echo "$key" > "$work/key"
rm -f "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes
start=$(date +%s)
(cd "$tree" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" dpkg-buildpackage -us -uc -b -nc) \
    > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; echo "FAIL: dpkg-buildpackage"; exit 1; }
echo "dpkg-buildpackage -b: $(($(date +%s) - start)) s"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
files() { dpkg-deb -c "$work/$1_${version}_$arch.deb" | awk '{print $6}' | sed 's|^\./|/|'; }
has() { # PACKAGE PATH...: each PATH is in PACKAGE
    p=$1; shift
    for f in "$@"; do files "$p" | grep -qx -- "$f" || fail "$p lacks $f"; done
}
hasnt() { # PACKAGE PATTERN: no file of PACKAGE matches PATTERN
    files "$1" | grep -q -- "$2" && fail "$1 holds $(files "$1" | grep -- "$2" | head -1)"
    return 0
}
depends() { dpkg-deb -f "$work/$1_${version}_$arch.deb" Depends; }

for p in libhwnas0 libhwnas-dev python3-hwnas hwnas; do
    [ -f "$work/${p}_${version}_$arch.deb" ] || { fail "no ${p}_${version}_$arch.deb"; continue; }
    echo "$p: $(files "$p" | grep -vc '/$') files; Depends: $(depends "$p")"
done
[ $failures -eq 0 ] || exit 1
lib=/usr/lib/$multi
has libhwnas0 "$lib/libhwnas.so.0" "$lib/libhwnas.so.$version"
hasnt libhwnas0 'include\|\.a$\|libhwnas\.so$\|/bin/\|python'
has libhwnas-dev /usr/include/hwnas/hwnas.h /usr/include/hwnas/version.h "$lib/libhwnas.so" \
    "$lib/libhwnas.a" "$lib/pkgconfig/hwnas.pc" /usr/share/man/man3/libhwnas.3.gz
hasnt libhwnas-dev 'libhwnas\.so\.0\|/bin/'
has python3-hwnas /usr/lib/python3/dist-packages/hwnas/__init__.py \
    /usr/lib/python3/dist-packages/hwnas/_native.py /usr/lib/python3/dist-packages/hwnas/_install.py
hasnt python3-hwnas '\.so'
has hwnas /usr/bin/hwnas /usr/share/man/man1/hwnas.1.gz /usr/share/man/man1/hwnas-search.1.gz \
    /usr/share/man/man1/hwnas-estimate.1.gz /usr/share/bash-completion/completions/hwnas \
    /usr/share/hwnas/nets/resnet50.net /usr/share/hwnas/hardware/eyeriss.hw
hasnt hwnas "$lib"
# every model zoo net and hardware description
for f in "$src"/examples/nets/*.net "$src"/examples/hardware/*; do
    d=$(basename "$(dirname "$f")")
    has hwnas "/usr/share/hwnas/$d/$(basename "$f")"
done
# dependencies: the library on its own libraries, the rest on it
depends libhwnas0 | grep -q 'libopenblas0' || fail "libhwnas0 does not depend on OpenBLAS: $(depends libhwnas0)"
depends libhwnas0 | grep -q 'zlib1g' || fail "libhwnas0 does not depend on zlib1g"
depends libhwnas-dev | grep -q "libhwnas0 (= $version)" || fail "libhwnas-dev: $(depends libhwnas-dev)"
depends libhwnas-dev | grep -q 'libopenblas-dev' || fail "libhwnas-dev lacks libopenblas-dev (hwnas.pc requires it)"
depends python3-hwnas | grep -q "libhwnas0 (= $version)" || fail "python3-hwnas: $(depends python3-hwnas)"
depends python3-hwnas | grep -q 'python3' || fail "python3-hwnas does not depend on python3"
depends hwnas | grep -q "libhwnas0 (>= $version)" || fail "hwnas: $(depends hwnas)"
# the symbols file: every exported symbol, from the ABI baseline and map
dpkg-deb -e "$work/libhwnas0_${version}_$arch.deb" "$root/control"
syms=$(grep -c '^ hwnas_' "$root/control/symbols" || true)
want=$(grep -c '^    hwnas_' "$src/lib/hwnas.map")
[ "$syms" -eq "$want" ] || fail "libhwnas0's symbols file lists $syms symbols, lib/hwnas.map $want"
grep -q "^ hwnas_context_new@HWNAS_0.1 0.1.0" "$root/control/symbols" || fail "symbols: no hwnas_context_new"

# Unpacked into a temporary root, nothing installed system-wide.
for p in libhwnas0 libhwnas-dev python3-hwnas hwnas; do
    dpkg-deb -x "$work/${p}_${version}_$arch.deb" "$root/fs"
done
fs=$root/fs
export LD_LIBRARY_PATH="$fs$lib"
out=$("$fs/usr/bin/hwnas" --version) || fail "hwnas --version: $out"
echo "$out" | grep -q "^features: onednn=no;mpi=no;onnx=yes" || fail "the packages' features: $out"
out=$(cd "$root" && env -u HWNAS_DATA_PATH "$fs/usr/bin/hwnas" estimate resnet50 --hardware eyeriss 2>&1) &&
    echo "$out" | grep -q energy || fail "unpacked hwnas estimate resnet50 --hardware eyeriss: $out"
ldd "$fs/usr/bin/hwnas" | grep -q "$fs$lib/libhwnas.so.0" || fail "hwnas did not load the unpacked library"
out=$(cd / && env -i PATH=/usr/bin:/bin python3 -I -c "
import sys; sys.path.insert(0, sys.argv[1])
import hwnas
print(hwnas.library_path, hwnas.version, hwnas.build_features)" "$fs/usr/lib/python3/dist-packages") &&
    [ "${out%% *}" = "$fs$lib/libhwnas.so.0" ] || fail "python3-hwnas: $out"
# a C program, with pkg-config alone, against the unpacked -dev package
PKG_CONFIG_SYSROOT_DIR="$fs" PKG_CONFIG_PATH="$fs$lib/pkgconfig" \
    make -s -C "$src/examples/pkgconfig" OUT="$root" >/dev/null || fail "examples/pkgconfig does not build"
out=$("$root/hello" 2>&1) && echo "$out" | grep -q "332833500" || fail "the C program: $out"
ldd "$root/hello" | grep -q "$fs$lib/libhwnas.so.0" || fail "the C program did not link the unpacked library"
[ $failures -eq 0 ] || exit 1
echo "Debian packages: files, dependencies, symbols, and the unpacked command, Python package and C program OK"
