#!/bin/sh
# hwnas search under mpirun (tests/mpi): the archive of 3 ranks is the one
# of a single process (NSGA-II and regularized evolution, with candidates
# failing by design); a worker SIGKILLed mid-estimate is replaced and the
# search completes with the same archive; killing rank 0 (and so the job)
# leaves a journal that `mpirun ... hwnas search --resume DIR` continues to
# the same archive; with both workers killed, rank 0 finishes alone.
# Usage: check_mpi_cli.sh HWNAS MPIRUN SLEEPY_PLUGIN
set -u
hwnas=$1 mpirun=$2 plugin=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run="$mpirun --oversubscribe --allow-run-as-root"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# The archive without the timing column (seconds): what must not change.
strip() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") col = i }
             { n = split($0, f, ","); line = ""
               for (i = 1; i <= n; i++) if (i != col) line = line f[i] ","
               print line }' "$1/archive.csv"
}

common="--space cell --space-options channels=4;cells=1 --estimator cost --objectives macs:min,draw:max --seed 5"
for strat in "nsga2 population=8" "ea mode=regularized;population=8;sample=3"; do
    set -- $strat
    name=$1
    args="$common --strategy $1 --strategy-options $2 --budget 40 --batch 6"
    args="$args --estimator sleepy:fail_mod=5"
    "$hwnas" --plugin "$plugin" search $args --out "$dir/one-$name" > "$dir/one-$name.log" 2>&1 ||
        { fail "$name: one process failed"; cat "$dir/one-$name.log"; continue; }
    $run -np 3 "$hwnas" --plugin "$plugin" search $args --out "$dir/three-$name" \
        > "$dir/three-$name.log" 2>&1 ||
        { fail "$name: 3 ranks failed"; cat "$dir/three-$name.log"; continue; }
    strip "$dir/one-$name" > "$dir/one-$name.csv"
    strip "$dir/three-$name" > "$dir/three-$name.csv"
    rows=$(($(wc -l < "$dir/one-$name.csv") - 1))
    failed=$(grep -c "fails by design" "$dir/one-$name.csv")
    [ "$rows" -eq 40 ] || fail "$name: $rows candidates, 40 expected"
    [ "$failed" -gt 0 ] || fail "$name: no candidate failed by design"
    if cmp -s "$dir/one-$name.csv" "$dir/three-$name.csv"; then
        echo "ok: $name, 3 ranks = 1 process (40 candidates, $failed failed by design on workers)"
    else
        fail "$name: the 3-rank archive differs from the single-process one"
        diff "$dir/one-$name.csv" "$dir/three-$name.csv" | head -5
    fi
done

# A worker killed mid-estimate: its candidate goes to the other worker.
args="$common --strategy nsga2 --strategy-options population=8 --budget 24 --batch 4"
"$hwnas" --plugin "$plugin" search $args --estimator "sleepy:ms=150" --out "$dir/ref" \
    > "$dir/ref.log" 2>&1 || fail "reference run failed"
mkdir "$dir/busy"
$run --enable-recovery -np 3 "$hwnas" --plugin "$plugin" search $args \
    --estimator "sleepy:ms=150;busy_dir=$dir/busy" --mpi-options "heartbeat=0.1;timeout=1.5" \
    --out "$dir/kill" > "$dir/kill.log" 2>&1 &
job=$!
victim=
for _ in $(seq 1 200); do
    victim=$(ls "$dir/busy" 2>/dev/null | head -1 | sed 's/busy\.//')
    [ -n "$victim" ] && break
    sleep 0.05
done
if [ -z "$victim" ]; then
    fail "no worker ever estimated"
else
    kill -9 "$victim"
fi
wait $job
rc=$?
[ "$rc" -eq 0 ] || { fail "the search with a killed worker ended with $rc"; cat "$dir/kill.log"; }
grep -q "fell silent" "$dir/kill.log" || fail "rank 0 did not notice the killed worker"
strip "$dir/ref" > "$dir/ref.csv"
if [ -f "$dir/kill/archive.csv" ] && strip "$dir/kill" | cmp -s - "$dir/ref.csv"; then
    echo "ok: worker $victim killed mid-estimate, its candidate re-queued, same 24-candidate archive"
else
    fail "the archive with a killed worker differs from the reference"
fi

# Both workers killed: rank 0 estimates the rest itself.
rm -rf "$dir/busy" && mkdir "$dir/busy"
$run --enable-recovery -np 3 "$hwnas" --plugin "$plugin" search $args \
    --estimator "sleepy:ms=150;busy_dir=$dir/busy" --mpi-options "heartbeat=0.1;timeout=1.5" \
    --out "$dir/kill2" > "$dir/kill2.log" 2>&1 &
job=$!
killed=""
for _ in $(seq 1 300); do
    for f in $(ls "$dir/busy" 2>/dev/null); do
        pid=${f#busy.}
        case " $killed " in *" $pid "*) ;; *) kill -9 "$pid" 2>/dev/null && killed="$killed $pid" ;; esac
    done
    [ $(echo $killed | wc -w) -ge 2 ] && break
    sleep 0.05
done
wait $job
rc=$?
[ "$rc" -eq 0 ] || { fail "the search with both workers killed ended with $rc"; cat "$dir/kill2.log"; }
if [ -f "$dir/kill2/archive.csv" ] && strip "$dir/kill2" | cmp -s - "$dir/ref.csv"; then
    echo "ok: both workers ($killed ) killed, rank 0 finished alone, same 24-candidate archive"
else
    fail "the archive with both workers killed differs from the reference"
fi

# Everything killed (rank 0 by SIGKILL; mpirun then ends the job), resumed.
args="$common --strategy nsga2 --strategy-options population=8 --budget 40 --batch 4"
"$hwnas" --plugin "$plugin" search $args --estimator "sleepy:ms=40" --out "$dir/ref2" \
    > "$dir/ref2.log" 2>&1 || fail "reference run failed"
$run -np 3 "$hwnas" --plugin "$plugin" search $args --estimator "sleepy:ms=40" \
    --out "$dir/res" > "$dir/res.log" 2>&1 &
job=$!
lines=0
for _ in $(seq 1 400); do
    [ -f "$dir/res/journal.tsv" ] && lines=$(grep -c . "$dir/res/journal.tsv")
    [ "$lines" -ge 14 ] && break
    sleep 0.02
done
rank0=$(cat "$dir/res/hwnas.lock" 2>/dev/null | tr -dc 0-9)
[ -n "$rank0" ] && kill -9 "$rank0"
wait $job
n=$(grep -c . "$dir/res/journal.tsv")
[ "$n" -lt 40 ] || fail "the search ended before it was killed ($n journal lines)"
$run -np 3 "$hwnas" --plugin "$plugin" search --resume "$dir/res" > "$dir/res2.log" 2>&1 ||
    { fail "resume failed"; cat "$dir/res2.log"; }
strip "$dir/ref2" > "$dir/ref2.csv"
if [ -f "$dir/res/archive.csv" ] && strip "$dir/res" | cmp -s - "$dir/ref2.csv"; then
    echo "ok: killed after $n journal lines, resumed on 3 ranks, same 40-candidate archive"
else
    fail "the resumed archive differs from an uninterrupted run"
    strip "$dir/res" | diff - "$dir/ref2.csv" | head -5
fi

[ $fails -eq 0 ] && echo "5 passed, 0 failed" || echo "$fails failed"
[ $fails -eq 0 ]
