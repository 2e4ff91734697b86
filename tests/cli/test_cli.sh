#!/bin/sh
# The command line: version, help, describe, selfcheck, and exit status 2
# with usage for unknown commands and options.
# Usage: test_cli.sh PATH_TO_HWNAS SOURCE_ROOT
hwnas=$1
src=$2
hwnas_abs=$(cd "$(dirname "$hwnas")" && pwd)/$(basename "$hwnas")
export HWNAS_AXMUL_DIR=$(mktemp -d)
trap 'rm -rf "$HWNAS_AXMUL_DIR"' EXIT
failures=0
pass=0

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
        failures=$((failures + 1)); return
    fi
    pass=$((pass + 1))
}

check() { # check DESCRIPTION COMMAND...: a shell condition that must hold
    what=$1; shift
    if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

expect 0 '^hwnas 0\.1\.0 (libhwnas 0\.1\.0, ABI 0: libhwnas\.so\.0)$' -- --version
expect 0 '^features: onednn=\(yes\|no\);mpi=\(yes\|no\);onnx=\(yes\|no\)$' -- --version
expect 0 'usage: hwnas' -- --help
expect 0 'describe' -- help
expect 0 'hwnas search: ' -- help search
expect 2 "unknown command 'frobnicate'" -- frobnicate
expect 2 'usage: hwnas' -- frobnicate
expect 2 "unknown option '--frob'" -- --frob describe
expect 2 'needs a value' -- --threads
expect 2 "expects an integer, got 'many'" -- --threads many describe
expect 2 "'engine' of context = 'bogus' is not one of auto|openblas|onednn" -- --engine bogus describe
expect 0 'kinds:' -- --engine openblas describe
expect 2 'usage: hwnas' --
expect 2 "unknown command 'nope'" -- help nope
expect 0 'threads' -- describe context
expect 0 'log_level .*enum.*default warn, error|warn|info|debug' -- describe context
expect 0 'context' -- describe
expect 1 "unknown kind 'nope'" -- describe nope
expect 0 'min_resource' -- describe prune
expect 2 'none|asha|hyperband|curve' -- search --prune sometimes --budget 1
expect 1 'etta' -- search --prune asha --prune-options "etta=2" --budget 1
expect 2 'usage: hwnas describe' -- describe a b
expect 0 'selfcheck passed' -- --threads 2 selfcheck
expect 0 'selfcheck passed' -- --threads 1 --seed 5 selfcheck

# estimate: the reference CNN's totals, JSON, and errors naming the file
expect 0 '1.92M (1919872)' -- estimate "$src/examples/nets/fmnist_ref.net"
expect 0 '"macs": *1919872' -- estimate --json "$src/examples/nets/fmnist_ref.net"
expect 1 'nope.net' -- estimate "$src/nope.net"
# JSON is valid UTF-8 whatever bytes a path holds (issue 24, item 7): bytes
# 0xff 0xfe, a quote, a backslash and a control character in the name
odd=$HWNAS_AXMUL_DIR/$(printf 'a\377\376"b\\\001\342\202\254')
cp "$src/examples/nets/fmnist_ref.net" "$odd.net"
if command -v python3 >/dev/null; then
    json_ok() { # json_ok ARGS...: the command's stdout is strict UTF-8 JSON
        "$hwnas" "$@" | python3 -c '
import json, sys
d = json.loads(sys.stdin.buffer.read().decode("utf-8", "strict"))
assert d["file"].endswith("a\ufffd\ufffd\"b\\\x01\u20ac.net"), repr(d["file"])'
    }
    check "estimate --json of a path with bytes that are not UTF-8 is valid JSON" \
        json_ok estimate --json "$odd.net"
    svg_ok() { # svg_ok: the chart of that path is strict UTF-8 XML naming it
        "$hwnas" estimate --hardware "$src/examples/hardware/eyeriss_45nm_int8.hw" "$odd.net" \
            --svg "$HWNAS_AXMUL_DIR/odd.svg" >/dev/null &&
        python3 - "$HWNAS_AXMUL_DIR/odd.svg" <<'EOF'
import sys, xml.etree.ElementTree as ET
data = open(sys.argv[1], "rb").read()
data.decode("utf-8", "strict")
title = "".join(ET.fromstring(data).itertext())
assert "a\ufffd\ufffd\"b\\\u20ac.net" in title, title[:300]
EOF
    }
    check "the SVG chart of a path with bytes that are not UTF-8 is valid XML" svg_ok
fi
# axmul: list built-ins, show one, export and import a table
expect 0 'drum:k=4' -- axmul list
expect 0 'wcre *0.265625' -- axmul show drum:k=4
expect 0 '' -- axmul export drum:k=4 "$HWNAS_AXMUL_DIR/d4.bin"
expect 0 '' -- axmul import "$HWNAS_AXMUL_DIR/d4.bin" --name mydrum
expect 0 'mydrum' -- axmul list
expect 1 'no-such-mul' -- axmul show no-such-mul
# long arguments are taken whole or refused, never cut (a cut path or
# option text would name something else)
long=$(printf '%03000d' 0)
expect 2 'path is longer than 1023 bytes' -- axmul --dir "/tmp/$long" list
expect 2 '\-\-data is longer than' -- axmul evaluate "$src/examples/nets/fmnist_ref.net" --data "/tmp/$long"
expect 2 'model options are longer than 1023 bytes (at --lr)' -- train "$src/examples/nets/fmnist_ref.net" --lr "$long"
expect 2 '\-\-data is longer than' -- train "$src/examples/nets/fmnist_ref.net" --data "/tmp/$long"

# ONNX: export, import, estimate of a .onnx, weights both ways, errors
# (a build with -Donnx=disabled says so instead)
odir=$HWNAS_AXMUL_DIR/onnx
mkdir -p "$odir"
have_onnx=1
if "$hwnas" export "$src/examples/nets/lenet5.net" -o "$odir/probe.onnx" 2>&1 |
    grep -q 'built without ONNX support'; then
    have_onnx=0
    expect 1 'built without ONNX support' -- import "$odir/probe.onnx" -o "$odir/p.net"
fi
if [ "$have_onnx" = 1 ]; then
expect 0 'architecture only' -- export "$src/examples/nets/fmnist_ref.net" -o "$odir/ref.onnx"
expect 0 '1.92M (1919872)' -- estimate "$odir/ref.onnx"
expect 0 'mapping\|energy' -- estimate --hardware "$src/examples/hardware/eyeriss_45nm_int8.hw" \
    "$odir/ref.onnx"
expect 0 "ref.onnx: 12 nodes" -- import "$odir/ref.onnx" -o "$odir/ref.net"
expect 0 'architecture only' -- export "$odir/ref.net" -o "$odir/ref2.onnx"
check "export, import, export gives the same bytes" cmp -s "$odir/ref.onnx" "$odir/ref2.onnx"
expect 1 'carries no weights' -- import "$odir/ref.onnx" -o "$odir/x.net" --weights "$odir/x.bin"
torch_onnx=$src/tests/fuzz/corpus/onnx/torch_small.onnx
expect 0 "and $odir/t.bin" -- import "$torch_onnx" -o "$odir/t.net" --weights "$odir/t.bin"
expect 0 'with weights' -- export "$odir/t.net" --weights "$odir/t.bin" -o "$odir/t.onnx"
expect 0 "and $odir/t2.bin" -- import "$odir/t.onnx" -o "$odir/t2.net" --weights "$odir/t2.bin"
check "weights survive import, export, import" cmp -s "$odir/t.bin" "$odir/t2.bin"
printf 'not protobuf' > "$odir/bad.onnx"
expect 1 "bad.onnx: not an ONNX model" -- import "$odir/bad.onnx" -o "$odir/b.net"
expect 1 "bad.onnx: not an ONNX model" -- estimate "$odir/bad.onnx"
expect 2 'usage: hwnas import' -- import "$odir/ref.onnx"
expect 2 'usage: hwnas export' -- export
expect 0 'usage: hwnas export' -- export --help
fi

# search: a small run on the cell space with the cost estimator, then report
sdir=$HWNAS_AXMUL_DIR/search
expect 0 'Pareto front' -- --threads 2 search --space cell --space-options "channels=4;cells=1" \
    --strategy ea --estimator cost --objectives macs:min,params:max --budget 12 --batch 4 \
    --time-limit 0 --out "$sdir"
expect 0 'front.csv' -- report "$sdir"
# every front member's .net has its ONNX twin beside it, and no other
onnx_beside() {
    ls "$1"/front/*.net >/dev/null 2>&1 || return 1
    for n in "$1"/front/*.net; do [ -s "${n%.net}.onnx" ] || return 1; done
    for o in "$1"/front/*.onnx; do [ -e "${o%.onnx}.net" ] || return 1; done
}
[ "$have_onnx" = 0 ] ||
    check "every front member has front/NNN.onnx beside front/NNN.net" onnx_beside "$sdir"
expect 0 'resuming' -- search --resume "$sdir" --budget 16
# refine a finished search afterwards: the front comes from the refined candidates
expect 0 'of the 3 candidates refined' -- search --resume "$sdir" --refine 3 \
    --refine-estimator cost --refine-by first
expect 0 'of the 3 candidates refined' -- report "$sdir"
# the HTML page (tests/report renders it in Chromium; here: the file)
expect 0 "^report: $sdir/report.html\$" -- report "$sdir" --html
front_rows() { [ "$(grep -o "<tr class='member'>" "$1/report.html" | wc -l)" -eq \
    "$(($(wc -l < "$1/front.csv") - 1))" ] && ! grep -Eq 'https?://' "$1/report.html"; }
check "report.html has one row per front member and no URL" front_rows "$sdir"
expect 0 "^report: $sdir/r.html\$" -- report "$sdir" --html -o "$sdir/r.html"
check "report --html -o FILE writes FILE" test -s "$sdir/r.html"
expect 2 'usage: hwnas report DIR' -- report "$sdir" -o "$sdir/r.html"
expect 2 'usage: hwnas report DIR' -- report "$sdir" --html -o
# the progress line's figures are the best so far: they never get worse,
# even for a metric that is not an objective (energy_uj here)
pdir=$HWNAS_AXMUL_DIR/progress
expect 0 'best so far: energy_uj' -- search --space cgp --estimator cost --estimator \
    accelerator:budget=50 --objectives params:max,macs:min --budget 48 --batch 8 --seed 4 \
    --time-limit 0 --out "$pdir"
never_worse() {
    "$hwnas" report "$pdir" > /dev/null 2>&1 || return 1
    "$hwnas" search --resume "$pdir" --budget 96 2>&1 >/dev/null |
        awk '/^evaluated / { for (i = 1; i <= NF; i++) if ($i == "energy_uj") {
                 v = $(i + 1) + 0; n++; if (n > 1 && v > last) bad = 1; last = v } }
             END { exit !(n >= 5 && !bad) }'
}
check "the progress line's best energy_uj never rises" never_worse
expect 1 'refine_estimator' -- search --space cell --estimator cost --objectives macs:min \
    --budget 2 --refine 2 --out "$sdir/y"
expect 1 "no search to resume" -- report "$sdir/nothing"
expect 2 "unknown option '--spaec'" -- search --spaec cell
expect 2 "'schedule' of search = 'soon' is not one of batch|async" -- search --schedule soon --budget 1
expect 1 "metric 'accuracy_q'" -- search --space cell --estimator cost --budget 2 --out "$sdir/x"
# a results directory is never lost (issue 24): one search per directory,
# report never writes, damage is an error naming file and line, salvage
# keeps the original, --out "" is refused, a failed output is a failure
expect 2 'needs a directory name' -- search --out ""
expect 1 "already holds a search" -- search --space cell --space-options "channels=4;cells=1" \
    --strategy ea --estimator cost --objectives macs:min --budget 2 --out "$sdir"
expect 0 'Pareto front' -- --threads 1 search --space cell --space-options "channels=4;cells=1" \
    --strategy ea --estimator cost --objectives macs:min,params:max --budget 12 --batch 4 \
    --time-limit 0 --out "$sdir/again"
cp "$sdir/again/journal.tsv" "$HWNAS_AXMUL_DIR/first.tsv"
expect 0 'Pareto front' -- --threads 1 search --space cell --space-options "channels=4;cells=1" \
    --strategy random --estimator cost --objectives macs:min --budget 4 --time-limit 0 \
    --out "$sdir/again" --start-over
check "--start-over keeps the old journal in previous.1/" \
    cmp -s "$sdir/again/previous.1/journal.tsv" "$HWNAS_AXMUL_DIR/first.tsv"
# damage in the middle: report and resume refuse and leave it; salvage keeps it aside
d=$sdir/damaged
mkdir -p "$d" && cp "$sdir/again/previous.1/search.conf" "$sdir/again/previous.1/journal.tsv" \
    "$sdir/again/previous.1/snapshot.bin" "$d/"
sed -i '4s/\t0\t/\t1\t/' "$d/journal.tsv"
cp "$d/journal.tsv" "$HWNAS_AXMUL_DIR/damaged.tsv"
expect 1 'journal.tsv:4: CRC mismatch' -- report "$d"
expect 1 'journal.tsv:4: CRC mismatch' -- search --resume "$d"
check "report and resume leave a damaged journal as it is" \
    cmp -s "$d/journal.tsv" "$HWNAS_AXMUL_DIR/damaged.tsv"
expect 0 'Pareto front' -- search --resume "$d" --salvage
check "salvage keeps the damaged original" \
    cmp -s "$d/journal.tsv.damaged.1" "$HWNAS_AXMUL_DIR/damaged.tsv"
expect 2 'with --resume' -- search --salvage --out "$sdir/z"
# report writes no journal, snapshot or configuration
sum_before=$(cat "$sdir/journal.tsv" "$sdir/snapshot.bin" "$sdir/search.conf" | cksum)
expect 0 'front.csv' -- report "$sdir"
check "report leaves journal, snapshot and search.conf as they are" \
    [ "$sum_before" = "$(cat "$sdir/journal.tsv" "$sdir/snapshot.bin" "$sdir/search.conf" | cksum)" ]
# a search in which every candidate failed says so and fails
printf 'key,macs\nnothing,1\n' > "$HWNAS_AXMUL_DIR/none.csv"
expect 1 'every one of the 3 candidates failed' -- --threads 1 search --space cell \
    --space-options "channels=4;cells=1" --strategy random \
    --estimator "table:file=$HWNAS_AXMUL_DIR/none.csv;key=key" --objectives macs:min \
    --budget 3 --batch 3 --time-limit 0 --out "$sdir/allfail"
# a quote in --out cannot set other options (here: the budget)
expect 0 'Pareto front' -- --threads 1 search --space cell --space-options "channels=4;cells=1" \
    --strategy random --estimator cost --objectives macs:min --budget 3 --time-limit 0 \
    --out "$sdir/q\";evaluations=\"5"
check "a quoted --out does not change the budget" \
    [ "$(grep -c '^[0-9]' "$sdir/q\";evaluations=\"5/journal.tsv")" -eq 3 ]
# values reach the options API whole: on a resume too, a value holding ';',
# '=' and a quote is the option's exact value, or an error naming it
expect 2 "expects an integer, got '16;refine=3'" -- search --resume "$sdir" --budget '16;refine=3'
expect 2 "time_limit' of search expects a finite number, got '5\";evaluations=\"99'" -- \
    search --resume "$sdir" --time-limit '5";evaluations="99'
expect 1 'unterminated quote' -- search --resume "$sdir" --refine 1 \
    --refine-estimator 'cost:a="b;c=d'
# options said once: a resume keeps its configuration; --nets 0 builds nothing
expect 2 'cannot be changed on --resume' -- search --resume "$sdir" --space macro
expect 2 "\-\-nets needs a whole number from 1 to 100000, not '0'" -- latency-lut build \
    --nets 0 --out "$sdir/x.lut"
# --plugin with a bare name: the file in the current directory
if [ -f "$PWD/tests/plugin/roofline.so" ]; then
    ( cd tests/plugin && expect_in_dir=1 "$hwnas_abs" --plugin roofline.so describe roofline \
        >/dev/null 2>&1 ) && pass=$((pass + 1)) ||
        { echo "FAIL: --plugin roofline.so from its directory"; failures=$((failures + 1)); }
fi
# output that does not reach stdout is a failure
full_out() { "$hwnas" "$@" > /dev/full 2>&1; echo "$?"; }
check "a full stdout fails (axmul list > /dev/full)" [ "$(full_out axmul list)" -eq 1 ]
check "a full stdout fails (estimate --json > /dev/full)" \
    [ "$(full_out estimate --json "$src/examples/nets/fmnist_ref.net")" -eq 1 ]
closed_out() { "$hwnas" "$@" >&- 2>/dev/null; echo "$?"; }
check "a closed stdout fails" [ "$(closed_out --version)" -eq 1 ]
check "axmul export to /dev/stdout writes into the pipe" \
    [ "$("$hwnas" axmul export drum:k=4 /dev/stdout | wc -c)" -gt 1000 ]

# train: errors name the file
expect 1 'nope.net' -- train "$src/nope.net"
expect 2 'usage: hwnas train' -- train
# numbers on the command line: whole text, in range, errors naming the option
expect 2 "\-\-finetune-q needs a whole number from 1 to 100000, not 'none'" -- train x.net \
    --finetune-q none
expect 2 "\-\-validation needs a finite number in (0, 1), not '1.5'" -- train x.net \
    --validation 1.5
expect 2 "\-\-validation needs a finite number in (0, 1), not 'nan'" -- train x.net \
    --validation nan
expect 2 "option 'batch' of model = -1 is out of range" -- train x.net --batch -1
expect 2 "option 'seed' of model expects an integer, got 'abc'" -- train x.net --seed abc
expect 2 "option 'epochs' of model expects an integer, got '1e3'" -- train x.net --epochs 1e3
expect 2 "option 'lr' of model expects a finite number, got 'inf'" -- train x.net --lr inf
# a ';' in a value is part of the value, never another option
expect 2 "option 'lr' of model expects a finite number, got '0.1;epochs=5'" -- train x.net \
    --lr "0.1;epochs=5"
expect 2 "option 'threads' of context = -1 is out of range" -- --threads -1 describe context
expect 2 "option 'seed' of context expects an integer, got 'abc'" -- --seed abc describe context
expect 2 "option 'budget' of search expects an integer, got '1e99'" -- search \
    --budget 1e99 --out "$HWNAS_AXMUL_DIR/b"
expect 2 "\-\-warmup needs a whole number from 0 to 100000, not '-1'" -- latency-lut build \
    --warmup -1 --out "$HWNAS_AXMUL_DIR/x.lut"
expect 2 "\-\-seed needs a whole number from 0 to 2147483647, not '99999999999'" -- \
    latency-lut validate --lut x.lut --seed 99999999999
expect 2 "\-\-train-subset needs a whole number from 0 to 1000000000, not ''" -- axmul \
    evaluate x.net --train-subset ""
expect 2 "\-\-epochs needs a whole number from 1 to 100000, not '2.5'" -- axmul evaluate \
    x.net --epochs 2.5
expect 2 "\-\-power-mw needs a finite number in \[0, 1e+09\], not 'inf'" -- axmul import \
    x.bin --power-mw inf
expect 2 "\-\-area needs a finite number in \[0, 1e+09\], not '-1'" -- axmul import x.bin \
    --area -1

# latency-lut: build a LUT from a few small nets, validate it on others
lut=$HWNAS_AXMUL_DIR/cell.lut
expect 0 'layers from 3 nets' -- --threads 1 latency-lut build --space "cell:channels=4;cells=1" \
    --nets 3 --repeats 2 --warmup 1 --out "$lut"
expect 0 'kendall_tau' -- --threads 1 latency-lut validate --lut "$lut" \
    --space "cell:channels=4;cells=1" --nets 3 --repeats 2 --warmup 1 --missing nearest \
    --svg "$HWNAS_AXMUL_DIR/lut.svg"
expect 0 'within_10pct' -- --threads 1 latency-lut validate --lut "$lut" \
    --space "cell:channels=4;cells=1" --nets 3 --repeats 2 --warmup 0 --missing interpolate \
    --unseen 1
expect 1 'nope.lut' -- latency-lut validate --lut "$HWNAS_AXMUL_DIR/nope.lut"
# latency-lut fit: a learned model from nets measured here (with the LUT's sums), or from
# a CSV of genotypes and latencies measured anywhere; validate checks a model as a LUT
model=$HWNAS_AXMUL_DIR/cell.model
expect 0 "fitted on 3 nets (with the LUT's sums)" -- --threads 1 latency-lut fit --lut "$lut" \
    --space "cell:channels=4;cells=1" --nets 3 --repeats 2 --warmup 1 --out "$model" \
    --options 'predictor=gbrt;predictor_options="trees=20;depth=2"'
expect 0 'kendall_tau' -- --threads 1 latency-lut validate --model "$model" \
    --space "cell:channels=4;cells=1" --nets 3 --repeats 2 --warmup 0
printf 'genotype,latency_ms\n%s,1.5\n"%s",2.5\n%s,4\n' \
    '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|' \
    '|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|' \
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|' \
    > "$HWNAS_AXMUL_DIR/lat.csv"
expect 0 'fitted on 3 nets$' -- latency-lut fit --space cell --csv "$HWNAS_AXMUL_DIR/lat.csv" \
    --out "$model"
printf 'genotype,latency_ms\n|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|,x\n' \
    > "$HWNAS_AXMUL_DIR/bad.csv"
expect 1 'bad.csv:2: expected GENOTYPE,LATENCY_MS' -- latency-lut fit --space cell \
    --csv "$HWNAS_AXMUL_DIR/bad.csv" --out "$model"
# build --all-layers: sample until every held-out net's layers are in the LUT
expect 0 'all layers: profiled [0-9]* of [0-9]* sampled nets.*held-out coverage 100.0% of 20 nets; stopped: every held-out net is covered' \
    -- --threads 1 latency-lut build --space "cell:channels=4;cells=1" --all-layers \
    --holdout 20 --repeats 1 --warmup 0 --out "$HWNAS_AXMUL_DIR/all.lut"
expect 2 'all-layers needs exactly one --space' -- latency-lut build --all-layers --space cell \
    --space cgp --out "$HWNAS_AXMUL_DIR/all.lut"
expect 2 'one of --lut and --model' -- latency-lut validate --lut "$lut" --model "$model"
expect 2 'latency-lut fit' -- latency-lut fit --csv x.csv --space cell --space macro --out "$model"
# axmul evaluate: every multiplier on a briefly trained net (needs Fashion-MNIST)
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    expect 0 'Pareto front (accuracy_q against power)' -- --threads 2 axmul evaluate \
        "$src/examples/nets/fmnist_ref.net" --epochs 1 --train-subset 500 --test-subset 200 \
        --csv "$HWNAS_AXMUL_DIR/ev.csv" --svg "$HWNAS_AXMUL_DIR/ev.svg"
    grep -q '^"drum:k=4",0,' "$HWNAS_AXMUL_DIR/ev.csv" && pass=$((pass + 1)) ||
        { echo "FAIL: evaluate wrote no drum:k=4 row"; failures=$((failures + 1)); }
    # train: a linear classifier, one epoch, 10% of the training images held out
    printf 'hwnas-net 1\nx = input(shape=1x28x28)\nflatten\nlinear(out=10)\n' \
        > "$HWNAS_AXMUL_DIR/linear.net"
    expect 0 'validation accuracy .* on 6000 held-out training images' -- --threads 1 train \
        "$HWNAS_AXMUL_DIR/linear.net" --validation 0.1 --augment --crop-pad 2 --flip 0.25
    # train --checkpoint: a rerun of a finished run says so and reports the
    # same accuracy from the checkpoint; another recipe is refused by name
    ck="$HWNAS_AXMUL_DIR/linear.tck"
    a=$("$hwnas" --threads 1 train "$HWNAS_AXMUL_DIR/linear.net" --epochs 2 --checkpoint "$ck" |
        grep '^test accuracy')
    b=$("$hwnas" --threads 1 train "$HWNAS_AXMUL_DIR/linear.net" --epochs 2 --checkpoint "$ck" \
        2>"$HWNAS_AXMUL_DIR/rerun.err" | grep '^test accuracy')
    [ -n "$a" ] && [ "$a" = "$b" ] &&
        grep -q 'linear.tck holds the finished run' "$HWNAS_AXMUL_DIR/rerun.err" &&
        pass=$((pass + 1)) ||
        { echo "FAIL: train --checkpoint rerun: '$a' then '$b'"; cat "$HWNAS_AXMUL_DIR/rerun.err"
          failures=$((failures + 1)); }
    expect 1 "linear.tck: the checkpoint's run has lr=0.10000000000000001, this one 0.050" -- \
        --threads 1 train "$HWNAS_AXMUL_DIR/linear.net" --epochs 2 --lr 0.05 --checkpoint "$ck"
    # search --prune: the progress line counts the pruned candidates
    expect 0 'evaluated 8/8 ([0-9]* pruned)' -- --threads 2 search --space cell \
        --space-options "channels=4;cells=1;input_channels=1;input_size=28" \
        --strategy random --estimator cost \
        --estimator "accuracy:train_subset=200;val_subset=100;epochs=2;batch=25" \
        --objectives accuracy:max,macs:min --budget 8 --batch 4 --prune asha \
        --prune-options "resource=epochs;min_resource=0.5;eta=2" \
        --out "$HWNAS_AXMUL_DIR/pruned"
    head -1 "$HWNAS_AXMUL_DIR/pruned/archive.csv" | grep -q ',pruned,curve$' &&
        pass=$((pass + 1)) || { echo "FAIL: archive.csv lacks pruned,curve"; failures=$((failures + 1)); }
else
    echo "Fashion-MNIST not installed: axmul evaluate, train and search --prune not tested"
fi

echo "$pass passed, $failures failed"
[ "$failures" -eq 0 ]
