#!/bin/sh
# Train the benchmark's networks for 30 epochs on Fashion-MNIST (hwnas
# train's recipe: SGD lr 0.1 cosine, momentum 0.9, weight decay 5e-4, one
# warm-up epoch, batch 128, no augmentation, seed 1; all 60,000 training
# images, accuracy on the 10,000 test images) and append one row per
# network to CSV, with the command that made it. Resumable: networks
# already in CSV are skipped, so kill it and start it again at will.
# Each run's progress (epoch lines with images/s) goes to LOGS/NAME.log
# beside CSV, its checkpoint to LOGS/NAME.tck (kept after the run). A net
# resumed from its checkpoint records the wall time of its last part.
#
#   bench/predict/zero_cost/train_nets.sh NETS_DIR CSV [HWNAS_BINARY] [EPOCHS] [THREADS]
#
# SHARD=K/N in the environment trains only the networks whose number is K
# modulo N, so N copies (one thread each, one per core) share the list;
# they append to the same CSV (one short write per row). SHARD=claim
# shares it by claims instead: each copy takes the next net that no other
# has claimed (LOGS/NAME.claim, made by an atomic mkdir), nets with a
# checkpoint first, so no copy idles while another still has a queue.
# Claims outlive a killed copy: remove them (truth.sh start does) before
# starting copies again.
#
# How bench/predict/zero_cost/accuracy.csv is being made, across sessions:
# truth.sh (start, save). The binary's directory in each row's command says
# which commit built it: zc-run2 b8ce538, zc-run3 608df37, zc-run4 1fa4fe9,
# zc-run5 3191c87, then zc-REV; the engine's speed-ups between them change
# the last bits of a run, not the recipe.
set -eu
nets=$1
csv=$2
hwnas=${3:-build/tools/hwnas}
epochs=${4:-30}
threads=${5:-2}
logs=$(dirname "$csv")/logs
mkdir -p "$logs"
[ -f "$csv" ] || echo "net,epochs,test_accuracy,train_seconds,command" > "$csv"
shard=${SHARD:-0/1}
# nets under way (a checkpoint) first, then the costliest first as
# step_ms.csv beside NETS_DIR lists them (a long net started last would
# leave the other core idle at the end), then the rest in order; a net
# listed twice runs once (its row, or its claim, is there the second time)
order=$(dirname "$nets")/step_ms.csv
list=$(for f in "$nets"/[0-9][0-9][0-9].net; do
    if [ -f "$logs/$(basename "$f" .net).tck" ]; then echo "$f"; fi
done
if [ -f "$order" ]; then
    for n in $(sed -n 's/^\([0-9][0-9][0-9]\),.*/\1/p' "$order"); do
        if [ -f "$nets/$n.net" ]; then echo "$nets/$n.net"; fi
    done
fi
for f in "$nets"/[0-9][0-9][0-9].net; do echo "$f"; done)
for f in $list; do
    name=$(basename "$f" .net)
    if grep -q "^$name,$epochs," "$csv"; then
        continue
    fi
    if [ "$shard" = claim ]; then
        mkdir "$logs/$name.claim" 2>/dev/null || continue
    else
        [ $(($(expr "$name" + 0) % ${shard#*/})) -eq "${shard%/*}" ] || continue
    fi
    # the run's state after every epoch (hwnas train --checkpoint): a
    # killed run, started again, goes on from its last finished epoch with
    # the bits of an uninterrupted one; the log gets each part appended
    cmd="$hwnas --threads $threads train $f --epochs $epochs --seed 1 --checkpoint $logs/$name.tck"
    start=$(date +%s)
    out=$($cmd 2>>"$logs/$name.log") || { echo "$name: failed: $cmd" >&2; continue; }
    end=$(date +%s)
    acc=$(printf '%s\n' "$out" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p')
    [ -n "$acc" ] || { echo "$name: no accuracy in: $out" >&2; continue; }
    echo "$name,$epochs,$acc,$((end - start)),$cmd" >> "$csv"
    echo "$name: $acc% in $((end - start)) s" >&2
done
