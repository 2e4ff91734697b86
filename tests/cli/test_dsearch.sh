#!/bin/sh
# hwnas dsearch: usage errors (status 2), bad options and checkpoints named
# (status 1), and, when Fashion-MNIST is installed, a tiny search whose
# results directory holds the derived net and the cost table, resumed (the
# same command again) to the same front.
# Usage: test_dsearch.sh PATH_TO_HWNAS
hwnas=$1
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

expect 2 'usage: hwnas dsearch' -- dsearch
expect 0 'usage: hwnas dsearch' -- dsearch --help
expect 2 "unexpected '--frob'" -- dsearch --out "$dir/x" --frob
expect 2 'only the cell space' -- dsearch --out "$dir/x" --space macro
expect 2 'method' -- dsearch --out "$dir/x" --method enas
expect 2 'lambda' -- dsearch --out "$dir/x" --lambda 1,x
expect 0 'skip_cap' -- describe dsearch

if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    run="--threads 2 dsearch --epochs 1 --subset 64 --test 40 --batch 16 --lambda 0,1 --options channels=2;cells=1;calibration=16"
    # shellcheck disable=SC2086
    expect 0 'lambda,arch,accuracy' -- $run --out "$dir/a"
    [ -s "$dir/a/lambda-1/derived.net" ] || { echo "FAIL: no derived net"; failures=$((failures + 1)); }
    grep -q '^5,nor_conv_3x3,' "$dir/a/cost.csv" || { echo "FAIL: cost table"; failures=$((failures + 1)); }
    # the plots: the front (one point per lambda) and each run's trajectory (6 edges x 5 ops)
    [ "$(grep -c "class='member'\|class='candidate'" "$dir/a/front.svg")" -eq 2 ] ||
        { echo "FAIL: front.svg"; failures=$((failures + 1)); }
    [ "$(grep -c "class='op'" "$dir/a/lambda-1/alpha.svg")" -eq 30 ] ||
        { echo "FAIL: alpha.svg"; failures=$((failures + 1)); }
    cp "$dir/a/front.csv" "$dir/front.first"
    # shellcheck disable=SC2086
    expect 0 'lambda,arch,accuracy' -- $run --out "$dir/a"
    cmp -s "$dir/a/front.csv" "$dir/front.first" || { echo "FAIL: resumed front differs"; failures=$((failures + 1)); }
    printf 'not a checkpoint' > "$dir/a/lambda-0/checkpoint.dsn"
    # shellcheck disable=SC2086
    expect 1 'checkpoint.dsn' -- $run --out "$dir/a"
fi
[ "$failures" -eq 0 ] || exit 1
echo "ok"
