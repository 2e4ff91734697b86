#!/bin/sh
# hwnas --plugin FILE: the roofline plugin's kind in describe and search,
# and a clear failure for a file that is no plugin.
# Usage: test_plugin_cli.sh PATH_TO_HWNAS PATH_TO_ROOFLINE_SO
hwnas=$1
plugin=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0

expect() { # expect STATUS PATTERN -- ARGS...
    want=$1 pattern=$2
    shift 3
    out=$("$hwnas" "$@" 2>&1)
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: hwnas $* exited $got, expected $want"; echo "$out"
        failures=$((failures + 1)); return
    fi
    if ! printf '%s\n' "$out" | grep -q -- "$pattern"; then
        echo "FAIL: hwnas $* printed no '$pattern':"; echo "$out"
        failures=$((failures + 1))
    fi
}

expect 0 'estimator:roofline' -- --plugin "$plugin" describe
expect 0 'peak_gflops' -- --plugin "$plugin" describe estimator:roofline
expect 1 "unknown kind 'roofline'" -- describe roofline
expect 1 'no such file' -- --plugin "$dir/none.so" describe
echo "not a plugin" > "$dir/text.so"
expect 1 'cannot load' -- --plugin "$dir/text.so" describe
expect 2 "needs a value" -- --plugin
expect 0 'front' -- --plugin "$plugin" --seed 3 search --space cell --strategy random \
    --estimator 'roofline:peak_gflops=50;bandwidth_gbs=10' --estimator cost \
    --objectives 'latency_ms:min,params:min' --constraints '' --budget 6 --batch 3 \
    --time-limit 60 --out "$dir/run"
if ! grep -q latency_ms "$dir/run/archive.csv"; then
    echo "FAIL: archive.csv has no latency_ms column"; failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "plugin cli: all passed"
exit "$failures"
