#!/bin/sh
# The Python package as a user gets it, with no source tree on the path:
# 1. `meson install` (into a DESTDIR) puts it in the site directory, and it
#    loads the library installed with it, not the build tree's, without
#    HWNAS_LIBRARY or pkg-config;
# 2. `pip install ./bindings/python` (offline, Debian's setuptools) into a
#    --prefix, loading the staged library through pkg-config, then
#    through HWNAS_LIBRARY.
# Usage: check_python.sh BUILD_DIR SOURCE_ROOT PYTHON INSTALLED(true|false) VERSION
set -eu
build=$1 src=$2 python=$3 installed=$4 version=$5
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet

# PYTHON -I SITE CODE...: run CODE isolated (no PYTHONPATH, no user site,
# not the current directory) from /, with only SITE added to sys.path.
run_py() {
    site=$1; shift
    (cd / && env -i PATH=/usr/bin:/bin ${HWNAS_LIBRARY:+HWNAS_LIBRARY=$HWNAS_LIBRARY} \
        ${PKG_CONFIG_PATH:+PKG_CONFIG_PATH=$PKG_CONFIG_PATH} "$python" -I -c "
import sys
sys.path.insert(0, sys.argv[1])
import hwnas
src = sys.argv[2]
assert not any(p.startswith(src) for p in sys.path if p), sys.path
assert hwnas.__file__.startswith(sys.argv[1]), hwnas.__file__
net = hwnas.Net.load(hwnas.Context(), sys.argv[3])
print(hwnas.library_path, hwnas.version, hwnas.abi_version, net.macs)
" "$site" "$src" "$@")
}
zoo_net=$(find "$dest" -path '*/share/hwnas/nets/resnet20.net' | head -1)
[ -n "$zoo_net" ] || { echo "FAIL: share/hwnas/nets/resnet20.net not installed"; exit 1; }
libdir=$(dirname "$(find "$dest" -name 'libhwnas.so.0' | head -1)")

if [ "$installed" = true ]; then
    init=$(find "$dest" -path '*/hwnas/__init__.py' | head -1)
    [ -n "$init" ] || { echo "FAIL: meson install put no hwnas/__init__.py under $dest"; exit 1; }
    [ -f "$(dirname "$init")/_install.py" ] || { echo "FAIL: no hwnas/_install.py"; exit 1; }
    site=$(dirname "$(dirname "$init")")
    out=$(run_py "$site" "$zoo_net")
    echo "meson install: $out"
    set -- $out
    [ "$1" = "$libdir/libhwnas.so.0" ] || { echo "FAIL: loaded $1, not the installed $libdir/libhwnas.so.0"; exit 1; }
    [ "$2" = "$version" ] && [ "$3" = 0 ] && [ "$4" = 40813184 ] || { echo "FAIL: $out"; exit 1; }
else
    echo "meson install: built with -Dpython=disabled, no package to check"
    find "$dest" -path '*/hwnas/__init__.py' | grep -q . && {
        echo "FAIL: -Dpython=disabled still installed the package"; exit 1; }
fi

# pip, from a copy (pip builds in the tree it is given).
if ! "$python" -c 'import setuptools, wheel' 2>/dev/null || ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "pip: SKIPPED, $python lacks pip, setuptools or wheel (apt-get install python3-pip python3-setuptools python3-wheel)"
    exit 0
fi
grep -q "^version = \"$version\"$" "$src/bindings/python/pyproject.toml" ||
    { echo "FAIL: bindings/python/pyproject.toml's version is not the project's $version"; exit 1; }
cp -r "$src/bindings/python" "$dest/pysrc"
rm -rf "$dest/pysrc/tests" "$dest/pysrc/build" "$dest/pysrc/"*.egg-info
(cd "$dest" && "$python" -m pip install -q --no-index --no-build-isolation --no-warn-script-location \
    --root-user-action=ignore --prefix "$dest/pip" ./pysrc) || { echo "FAIL: pip install"; exit 1; }
init=$(find "$dest/pip" -path '*/hwnas/__init__.py' | head -1)
[ -n "$init" ] || { echo "FAIL: pip installed no hwnas/__init__.py"; exit 1; }
[ ! -f "$(dirname "$init")/_install.py" ] || { echo "FAIL: pip installed a meson _install.py"; exit 1; }
site=$(dirname "$(dirname "$init")")
# pkg-config: the staged hwnas.pc with its prefix moved under DESTDIR
mkdir "$dest/pc"
sed "s|^prefix=|prefix=$dest|" "$libdir/pkgconfig/hwnas.pc" > "$dest/pc/hwnas.pc"
out=$(PKG_CONFIG_PATH="$dest/pc" run_py "$site" "$zoo_net")
echo "pip + pkg-config: $out"
[ "${out%% *}" = "$libdir/libhwnas.so.0" ] || { echo "FAIL: pip's package loaded ${out%% *} through pkg-config"; exit 1; }
out=$(HWNAS_LIBRARY="$libdir/libhwnas.so.0" run_py "$site" "$zoo_net")
echo "pip + HWNAS_LIBRARY: $out"
[ "${out%% *}" = "$libdir/libhwnas.so.0" ] || { echo "FAIL: pip's package loaded ${out%% *} with HWNAS_LIBRARY"; exit 1; }
# nothing at all: a clear error naming what was tried
if out=$(run_py "$site" "$zoo_net" 2>&1); then
    case $out in "$libdir"*) echo "FAIL: found the staged library with nothing pointing at it"; exit 1;; esac
else
    echo "$out" | grep -q "HWNAS_LIBRARY" || { echo "FAIL: no hint at HWNAS_LIBRARY: $out"; exit 1; }
fi
echo "Python package: meson install and pip install both import and load the installed library"
