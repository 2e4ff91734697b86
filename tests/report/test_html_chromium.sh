#!/bin/sh
# hwnas report DIR --html rendered by headless Chromium (Debian's
# chromium): the DOM holds the front's rows, both plots and each member's
# layers, the page loads nothing (no URL in it, a Content-Security-Policy,
# no request in Chromium's log), and the screenshot shows the plots'
# colours. Skipped (exit 77) when chromium is not installed: tools/setup
# installs it as an optional test package.
# Usage: test_html_chromium.sh HWNAS_CLI
set -eu
hwnas=$1
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
    echo "SKIP: no chromium (apt-get install chromium, or tools/setup as root)"
    exit 77
fi
tmp=$(mktemp -d /tmp/hwnas-html-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A tiny search: cost and accelerator estimators, 32 evaluations.
"$hwnas" search --space cgp --estimator cost --estimator accelerator:budget=50 \
    --objectives "params:max,energy_uj:min" --budget 32 --batch 8 --seed 2 \
    --out "$tmp/run" > "$tmp/search.log" 2>&1 || { cat "$tmp/search.log"; fail "search"; }
"$hwnas" report "$tmp/run" --html -o "$tmp/page.html" > "$tmp/report.log" 2>&1 ||
    { cat "$tmp/report.log"; fail "report --html"; }
grep -q "^report: $tmp/page.html\$" "$tmp/report.log" || fail "no 'report:' line"
members=$(($(wc -l < "$tmp/run/front.csv") - 1))
[ "$members" -ge 2 ] || fail "front of $members"

# The file itself: no URL, no script, a policy that allows nothing else.
if grep -Eq 'https?://|<script| src=' "$tmp/page.html"; then fail "page names a URL or script"; fi
grep -q "Content-Security-Policy' content=\"default-src 'none'" "$tmp/page.html" ||
    fail "no Content-Security-Policy"

# Rendered: the DOM Chromium built, and a screenshot. Network requests are
# logged (--enable-logging --v=1 names every URL loaded); a CSP violation
# would be too.
chrome() {
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$tmp/profile" --host-resolver-rules="MAP * ~NOTFOUND" \
        --enable-logging=stderr --v=1 "$@" "file://$tmp/page.html"
}
chrome --dump-dom > "$tmp/dom.html" 2> "$tmp/chrome.log" || { tail -20 "$tmp/chrome.log"; fail "chromium --dump-dom"; }
chrome --screenshot="$tmp/shot.png" --window-size=1280,3000 > /dev/null 2>> "$tmp/chrome.log" ||
    fail "chromium --screenshot"
rows=$(grep -o '<tr class="member">' "$tmp/dom.html" | wc -l)
[ "$rows" -eq "$members" ] || fail "DOM: $rows front rows, front.csv has $members"
[ "$(grep -o '<svg ' "$tmp/dom.html" | wc -l)" -eq 2 ] || fail "DOM: not two SVGs"
grep -q 'class="plot front"' "$tmp/dom.html" || fail "DOM: no front plot"
grep -q 'class="plot hypervolume"' "$tmp/dom.html" || fail "DOM: no hypervolume plot"
[ "$(grep -o '<section class="member"' "$tmp/dom.html" | wc -l)" -eq "$members" ] ||
    fail "DOM: not one section per member"
grep -q '<tr class="layer">' "$tmp/dom.html" || fail "DOM: no layer rows"
grep -q '<tr class="level">' "$tmp/dom.html" || fail "DOM: no energy by level"
grep -q '<table id="settings">' "$tmp/dom.html" || fail "DOM: no settings"
if grep -Eiq 'Content Security Policy|Refused to (load|connect)' "$tmp/chrome.log"; then
    grep -Ei 'Content Security Policy|Refused to' "$tmp/chrome.log" >&2
    fail "the page tried to load something"
fi
if grep -Eo '(https?|ftp)://[^ "'"'"']*' "$tmp/chrome.log" | grep -v '^https\?://\(127\.0\.0\.1\|localhost\)' |
    grep -Ev 'chromium|google|gstatic|googleapis|chrome' | grep -q .; then
    grep -Eo '(https?|ftp)://[^ "'"'"']*' "$tmp/chrome.log" >&2
    fail "a URL was requested"
fi

# The screenshot: a PNG with the front's red markers and the hypervolume's
# blue line drawn (decoded with the standard library alone).
/usr/bin/python3 - "$tmp/shot.png" <<'PY' || fail "screenshot"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
        bpp = 3 if colour == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
red = blue = 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        red += abs(r - 0xcc) < 12 and abs(g - 0x22) < 12 and abs(bl - 0x22) < 12
        blue += abs(r - 0x22) < 12 and abs(g - 0x66) < 12 and abs(bl - 0xcc) < 12
    prev = line
print("screenshot %dx%d: %d front-red, %d line-blue pixels" % (w, h, red, blue))
assert red > 50, "no front markers drawn"
assert blue > 50, "no hypervolume line drawn"
PY
echo "ok: $members front rows, 2 plots, no request"
