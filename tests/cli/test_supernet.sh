#!/bin/sh
# hwnas supernet: usage errors (status 2), bad files named (status 1), and,
# when Fashion-MNIST is installed, a tiny training, a checkpoint left
# behind refused without --resume and continued with it (the SIGKILL resume
# itself is tests/supernet's), and rating.
# Usage: test_supernet.sh PATH_TO_HWNAS
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

expect 2 'usage: hwnas supernet train|rate' -- supernet
expect 0 'usage: hwnas supernet rate' -- supernet train --help
expect 2 'usage: hwnas supernet train' -- supernet train --space cell
expect 2 "unexpected '--frob'" -- supernet train --frob
expect 2 'usage: hwnas supernet rate' -- supernet rate --weights x.snet
expect 1 'no supernet for space' -- supernet train --space accelerator --out "$dir/m.snet"
expect 1 'unknown option' -- supernet train --space cgp --out "$dir/m.snet" --options "bits=8"
expect 1 'unknown option' -- supernet train --space macro --out "$dir/m.snet" --options "blocks=2"
expect 2 'unknown option' -- supernet train --space cell --out "$dir/x.snet" --train-options "epoch=2"
expect 1 "$dir/none.snet" -- supernet rate --weights "$dir/none.snet" --random 1
printf 'not a supernet' > "$dir/bad.snet"
expect 1 'bad magic' -- supernet rate --weights "$dir/bad.snet" --random 1
expect 0 'supernet:nb201' -- describe supernet:nb201
expect 0 'checkpoint_every' -- describe supernet_train
expect 0 'sandwich' -- describe supernet_train
expect 0 'supernet:ofa' -- describe supernet:ofa
expect 0 'stem' -- describe supernet:cgp

if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    opts="channels=2;cells=1"
    train="--threads 2 supernet train --space cell --options $opts --epochs 2 --subset 64 --batch 16"
    # shellcheck disable=SC2086
    "$hwnas" $train --out "$dir/a.snet" > /dev/null 2>&1 || { echo "FAIL: training"; failures=$((failures + 1)); }
    # a checkpoint left behind (as a kill leaves one) is refused without --resume
    "$hwnas" $train --train-options "checkpoint_every=3" --out "$dir/b.snet" > /dev/null 2>&1
    cp "$dir/b.snet" "$dir/b.snet.ckpt" 2>/dev/null
    expect 1 'add --resume' -- $train --out "$dir/b.snet"
    expect 0 'resuming' -- $train --out "$dir/b.snet" --resume
    cmp -s "$dir/a.snet" "$dir/b.snet" || { echo "FAIL: resumed file differs"; failures=$((failures + 1)); }
    [ ! -f "$dir/b.snet.ckpt" ] || { echo "FAIL: checkpoint left"; failures=$((failures + 1)); }
    expect 0 '^"|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|",[0-9.]*,[0-9.]*,' -- \
        supernet rate --weights "$dir/a.snet" --calibration 32 --evaluation 50 \
        '|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|'
    # the macro space, sandwich rule and distillation, then two genotypes
    mopts="stem_channels=4;channels=4,8;strides=2,2;widths=0.5,1;max_blocks=2;head_channels=0"
    expect 0 "$dir/m.snet" -- --threads 2 supernet train --space macro --options "$mopts" \
        --epochs 1 --subset 64 --batch 16 --train-options "sandwich=1;distill=1" --out "$dir/m.snet"
    expect 0 '^"1,1,0,7,1,7,1,1,1,0,7,1,7,1",[0-9.]*,[0-9.]*,' -- supernet rate --weights "$dir/m.snet" \
        --calibration 32 --evaluation 50 1,1,0,7,1,7,1,1,1,0,7,1,7,1 0,0,0,8,0,8,0,0,0,0,2,0,2,0
    expect 1 'out of range' -- supernet rate --weights "$dir/m.snet" --evaluation 50 1,9,0
    # the CGP grid: train, then three random genotypes rated
    expect 0 "$dir/c.snet" -- --threads 2 supernet train --space cgp \
        --options "rows=1;cols=3;levels_back=3;stem=4" --epochs 1 --subset 64 --batch 16 \
        --out "$dir/c.snet"
    expect 0 '^"[0-9,]*",[0-9.]*,[0-9.]*,' -- supernet rate --weights "$dir/c.snet" \
        --calibration 32 --evaluation 50 --random 3 --seed 2
fi
[ "$failures" -eq 0 ] || exit 1
echo "ok"
