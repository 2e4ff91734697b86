#!/bin/sh
# hwnas estimate --hardware: the per-layer table with the levels' names, the
# JSON (parsed, its total agreeing with the table), the SVG chart (parsed,
# one bar group per layer), and errors naming the file and line.
# Usage: test_estimate_accel.sh PATH_TO_HWNAS SOURCE_ROOT
hwnas=$1
src=$2
hw=$src/tests/accel/data/timeloop_eyeriss_32nm.hw
net=$src/examples/nets/alexnet.net
levels="DRAM shared_glb ifmap_spad weights_spad psum_spad"
if ! command -v python3 >/dev/null; then
    echo "no python3: skipped"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { pass=$((pass + 1)); }

expect() { # expect STATUS PATTERN -- ARGS...
    want=$1 pattern=$2
    shift 3
    out=$("$hwnas" "$@" 2>&1)
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "hwnas $* exited $got, expected $want"; echo "$out"; return
    fi
    if ! printf '%s\n' "$out" | grep -q -- "$pattern"; then
        fail "hwnas $* printed no '$pattern':"; echo "$out"; return
    fi
    ok
}

# the table: a header with every level's name, one row per multiplying layer, totals
if "$hwnas" estimate --hardware "$hw" "$net" > "$tmp/table.txt" 2> "$tmp/err.txt"; then
    header=$(grep '^layer ' "$tmp/table.txt")
    for l in $levels MAC cycles util energy_uJ mapping; do
        printf '%s\n' "$header" | grep -q " $l\( \|$\)" && ok || fail "table header has no $l: $header"
    done
    for l in conv1 conv2 conv3 conv4 conv5 fc6 fc7 fc8; do
        grep -q "^$l  .*DRAM: \|^$l  .*shared_glb: " "$tmp/table.txt" && ok ||
            fail "no row with a mapping for $l"
    done
    for k in energy_uj latency_ms cycles utilisation dram_accesses mac_energy_share area_mm2; do
        grep -q "^  $k  *[0-9]" "$tmp/table.txt" && ok || fail "no total $k"
    done
else
    fail "estimate --hardware exited non-zero"; cat "$tmp/err.txt"
fi

# JSON: it parses, and its figures are the table's
if "$hwnas" estimate --hardware "$hw" "$net" --json > "$tmp/out.json" 2> "$tmp/err.txt"; then
    python3 - "$tmp/out.json" "$tmp/table.txt" <<'EOF' && ok || fail "JSON does not match the table"
import json, sys
d = json.load(open(sys.argv[1]))
table = open(sys.argv[2]).read().splitlines()
tot = {l.split()[0]: float(l.split()[1]) for l in table if l.startswith("  ")}
t = d["total"]
for k in ("energy_uj", "latency_ms", "cycles", "dram_accesses", "area_mm2"):
    assert abs(t[k] - tot[k]) <= 1e-6 * abs(t[k]), (k, t[k], tot[k])
assert [l["name"] for l in d["layers"]] == ["conv%d" % i for i in range(1, 6)] + ["fc6", "fc7", "fc8"]
assert [lv["name"] for lv in t["levels"]] == "DRAM shared_glb ifmap_spad weights_spad psum_spad".split()
e = sum(lv["energy_uj"] for lv in t["levels"]) + t["energy_mac_uj"]
assert abs(e - t["energy_uj"]) <= 1e-6 * t["energy_uj"], (e, t["energy_uj"])
assert t["energy_uj"] > 0 and t["cycles"] > 0
EOF
else
    fail "estimate --json exited non-zero"; cat "$tmp/err.txt"
fi

# SVG: well-formed, one bar group per layer with one segment per level plus
# the MACs', the legend names the levels, and no temporary file is left
mkdir "$tmp/svg"
if "$hwnas" estimate --hardware "$hw" "$net" --json --svg "$tmp/svg/e.svg" > /dev/null; then
    python3 - "$tmp/svg/e.svg" "$tmp/out.json" <<'EOF' && ok || fail "SVG chart is wrong"
import json, sys
import xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
layers = json.load(open(sys.argv[2]))["layers"]
assert root.tag == ns + "svg", root.tag
bars = [g for g in root.iter(ns + "g") if g.get("class") == "bar"]
assert len(bars) == len(layers) == 8, (len(bars), len(layers))
for g, layer in zip(bars, layers):
    assert g.find(ns + "title").text.startswith(layer["name"] + ":"), layer["name"]
    assert len(g.findall(ns + "rect")) == 6
    widths = [float(r.get("width")) for r in g.findall(ns + "rect")]
    assert all(w >= 0 for w in widths) and sum(widths) > 0
texts = [t.text or "" for t in root.iter(ns + "text")]
for name in "DRAM shared_glb ifmap_spad weights_spad psum_spad MAC".split():
    assert name in texts, name
assert any("(uJ)" in t for t in texts), "no axis label with the unit"
EOF
    [ "$(ls "$tmp/svg")" = e.svg ] && ok || fail "temporary files left: $(ls "$tmp/svg")"
else
    fail "estimate --svg exited non-zero"
fi
expect 0 'chart .*/e2.svg' -- estimate --hardware "$hw" "$net" --svg "$tmp/svg/e2.svg" \
    --accel-options "objective=edp;budget=50;batch=4"

# errors: the file and line at fault, non-zero exit
printf 'hwnas-hw 2\nname = bad\nclock_mhz = 1000\n[level DRAM]\nbogus_key = 3\n' > "$tmp/bad.hw"
expect 1 'bad.hw:5: bogus_key' -- estimate --hardware "$tmp/bad.hw" "$net"
expect 1 'nope.hw' -- estimate --hardware "$tmp/nope.hw" "$net"
expect 1 'nope.net' -- estimate --hardware "$hw" "$tmp/nope.net"
expect 1 "option 'budget'" -- estimate --hardware "$hw" "$net" --accel-options "budget=lots"
expect 1 "cannot write .*nodir/x.svg" -- estimate --hardware "$hw" "$net" --svg "$tmp/nodir/x.svg"
expect 2 'need --hardware' -- estimate "$net" --svg "$tmp/x.svg"
expect 2 "option '--hardware' needs a value" -- estimate "$net" --hardware
expect 2 'usage: hwnas estimate' -- estimate --hardware "$hw"
expect 0 '--accel-options' -- estimate --help
# a full disk: the output's write error is an error
if [ -w /dev/full ]; then
    for args in "--hardware $hw $net" "--hardware $hw $net --json" "$net"; do
        # shellcheck disable=SC2086
        err=$("$hwnas" estimate $args 2>&1 > /dev/full)
        [ $? -eq 1 ] && printf '%s' "$err" | grep -q 'cannot write the output' && ok ||
            fail "estimate $args > /dev/full: $err"
    done
fi

echo "$pass passed, $failures failed"
[ "$failures" -eq 0 ]
