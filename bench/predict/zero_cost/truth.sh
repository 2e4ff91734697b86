#!/bin/sh
# The 30-epoch ground truth across sessions. Every process ends when a
# session stops and the next one starts on a fresh checkout, so the run's
# state lives in the repository between sessions: accuracy.csv, the logs of
# finished nets, and for each net under way its log and its training
# checkpoint (logs/NAME.tck, a few tens of KiB; a net goes on from its last
# finished epoch with the bits of an uninterrupted run).
#
#   bench/predict/zero_cost/truth.sh start [BUILD_DIR]
#       copy the committed state into the work directory, copy the build's
#       hwnas (and libhwnas_mpi) to WORK/zc-REV (REV: the commit that
#       built it, named in each row's command), and start two copies of
#       train_nets.sh (SHARD=claim: each takes the next net nobody has,
#       nets under way first; one thread each, nice 19), detached.
#   bench/predict/zero_cost/truth.sh save
#       copy the work directory's rows, finished logs and the checkpoints
#       of nets under way back into the repository (dropping the
#       checkpoints of nets now finished) and regenerate doc/zero-cost.md's
#       table with spearman.py. Commit the result; the shards keep running.
#   bench/predict/zero_cost/truth.sh stop | status
#       status: nets done, the last log line of each net under way, and
#       the CPU hours left by step_ms.csv.
#
# WORK defaults to the directory above the repository; the run's data is
# WORK/zc-truth (accuracy.csv, logs/).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=${WORK:-$(dirname "$root")}
data=$work/zc-truth
logs=$here/logs

done_nets() { sed -n 's/^\([0-9][0-9][0-9]\),30,.*/\1/p' "$1"; }

case ${1:-} in
start)
    build=${2:-$root/build}
    [ -x "$build/tools/hwnas" ] || { echo "truth.sh: no $build/tools/hwnas; build first" >&2; exit 1; }
    if pgrep -f "$data/accuracy.csv" >/dev/null; then
        echo "truth.sh: already running (truth.sh stop first)" >&2
        exit 1
    fi
    rev=$(git -C "$root" rev-parse --short HEAD)
    bin=$work/zc-$rev
    mkdir -p "$bin/tools" "$bin/lib/mpi" "$data/logs"
    # copies, so that rebuilding or editing cannot touch a running shard
    cp "$build/tools/hwnas" "$bin/tools/"
    cp "$build/lib/mpi/libhwnas_mpi.so.0" "$bin/lib/mpi/"
    cp "$here/train_nets.sh" "$bin/"
    # the committed state, unless the work directory is further along
    if [ ! -f "$data/accuracy.csv" ] ||
        [ "$(done_nets "$here/accuracy.csv" | wc -l)" -gt "$(done_nets "$data/accuracy.csv" | wc -l)" ]; then
        cp "$here/accuracy.csv" "$data/accuracy.csv"
    fi
    for f in "$logs"/*; do
        [ -e "$data/logs/$(basename "$f")" ] || cp "$f" "$data/logs/"
    done
    # claims of copies that a stop killed (none runs now)
    for c in "$data"/logs/*.claim; do
        if [ -d "$c" ]; then rmdir "$c"; fi
    done
    cd "$root"
    for k in 0 1; do
        SHARD=claim setsid nohup nice -n 19 "$bin/train_nets.sh" bench/predict/zero_cost/nets \
            "$data/accuracy.csv" "$bin/tools/hwnas" 30 1 > "$bin/train-$k.log" 2>&1 &
    done
    echo "truth.sh: two shards started with $bin/tools/hwnas; state in $data"
    ;;
save)
    [ -f "$data/accuracy.csv" ] || { echo "truth.sh: no $data/accuracy.csv" >&2; exit 1; }
    for n in $(done_nets "$here/accuracy.csv"); do
        grep -q "^$n,30," "$data/accuracy.csv" ||
            { echo "truth.sh: $data/accuracy.csv lacks net $n of the committed one" >&2; exit 1; }
    done
    cp "$data/accuracy.csv" "$here/accuracy.csv"
    finished=$(done_nets "$data/accuracy.csv")
    for n in $finished; do
        cp "$data/logs/$n.log" "$logs/"
        rm -f "$logs/$n.tck"
    done
    running=""
    for f in "$data"/logs/*.tck; do
        [ -e "$f" ] || continue
        n=$(basename "$f" .tck)
        case " $(echo $finished) " in *" $n "*) continue ;; esac
        # written by rename after every epoch, so a copy is always whole
        cp "$f" "$data/logs/$n.log" "$logs/"
        running="$running $n"
    done
    table=$(mktemp)
    /usr/bin/python3 "$here/spearman.py" > "$table"
    # the table runs from its heading row to the first blank line
    /usr/bin/python3 - "$root/doc/zero-cost.md" "$table" <<'EOF'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read().strip().splitlines()
lines = open(doc).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("| proxy | 30-epoch"))
end = lines.index("", start)
lines[start:end] = [l for l in table if l.startswith("|")]
open(doc, "w").write("\n".join(lines))
EOF
    rm -f "$table"
    echo "truth.sh: $(echo $finished | wc -w) of 60 nets done; under way:${running:- none}"
    ;;
stop)
    pkill -f "train_nets.sh bench/predict/zero_cost/nets $data/accuracy.csv" || true
    pkill -f -- "--checkpoint $data/logs/" || true
    ;;
status)
    echo "$(done_nets "$data/accuracy.csv" | wc -w) of 60 nets done"
    # the nets claimed and not done: under way (or left by a stop)
    for f in "$data"/logs/*.claim; do
        [ -e "$f" ] || continue
        n=$(basename "$f" .claim)
        grep -q "^$n,30," "$data/accuracy.csv" && continue
        line=$(tail -n 1 "$data/logs/$n.log" 2>/dev/null || true)
        echo "$n: ${line:-no epoch finished yet}"
    done
    # CPU hours left by step_ms.csv (ms a step of 128 images, 469 steps an
    # epoch), less the epochs the logs of nets under way hold
    for n in $(sed -n 's/^\([0-9][0-9][0-9]\),[0-9.]*$/\1/p' "$here/step_ms.csv"); do
        grep -q "^$n,30," "$data/accuracy.csv" && continue
        e=0
        if [ -f "$data/logs/$n.log" ]; then
            e=$(sed -n 's|^epoch \([0-9]*\)/30:.*|\1|p' "$data/logs/$n.log" | tail -n 1)
        fi
        echo "$n ${e:-0}"
    done | awk -v csv="$here/step_ms.csv" '
        BEGIN { FS = ","; while ((getline l < csv) > 0) { split(l, f, ","); ms[f[1]] = f[2] }
                FS = " " }
        { h += ms[$1] * 469 * (30 - $2) / 3.6e6; n++ }
        END { printf "%d nets left, %.1f CPU hours by step_ms.csv\n", n, h }'
    ;;
*)
    echo "usage: truth.sh start [BUILD_DIR] | save | stop | status" >&2
    exit 2
    ;;
esac
