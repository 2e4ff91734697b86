#!/bin/sh
# Train the benchmark's networks for 30 epochs on Fashion-MNIST (hwnas
# train's recipe: SGD lr 0.1 cosine, momentum 0.9, weight decay 5e-4, one
# warm-up epoch, batch 128, no augmentation, seed 1; all 60,000 training
# images, accuracy on the 10,000 test images) and append one row per
# network to CSV, with the command that made it. Resumable: networks
# already in CSV are skipped, so kill it and start it again at will.
# Each run's progress (epoch lines with images/s) goes to LOGS/NAME.log
# beside CSV.
#
#   bench/predict/zero_cost/train_nets.sh NETS_DIR CSV [HWNAS_BINARY] [EPOCHS] [THREADS]
#
# e.g. (what made bench/predict/zero_cost/accuracy.csv):
#   cp bench/predict/zero_cost/train_nets.sh /work/zc-run/  # edits cannot hit a running sh
#   nohup /work/zc-run/train_nets.sh bench/predict/zero_cost/nets \
#       /work/zc-run/accuracy.csv /work/zc-run/bin/hwnas 30 2 > /work/zc-run/train.log 2>&1 &
# with /work/zc-run/bin/hwnas and /work/zc-run/lib/libhwnas.so.0 copies of
# build/tools/hwnas and build/lib/libhwnas.so.0 (rebuilding cannot touch them).
set -eu
nets=$1
csv=$2
hwnas=${3:-build/tools/hwnas}
epochs=${4:-30}
threads=${5:-2}
logs=$(dirname "$csv")/logs
mkdir -p "$logs"
[ -f "$csv" ] || echo "net,epochs,test_accuracy,train_seconds,command" > "$csv"
for f in "$nets"/[0-9][0-9][0-9].net; do
    name=$(basename "$f" .net)
    if grep -q "^$name,$epochs," "$csv"; then
        continue
    fi
    cmd="$hwnas --threads $threads train $f --epochs $epochs --seed 1"
    start=$(date +%s)
    out=$($cmd 2>"$logs/$name.log") || { echo "$name: failed: $cmd" >&2; continue; }
    end=$(date +%s)
    acc=$(printf '%s\n' "$out" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p')
    [ -n "$acc" ] || { echo "$name: no accuracy in: $out" >&2; continue; }
    echo "$name,$epochs,$acc,$((end - start)),$cmd" >> "$csv"
    echo "$name: $acc% in $((end - start)) s" >&2
done
