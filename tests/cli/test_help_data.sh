#!/bin/sh
# One help text per command, three ways to read it (hwnas help CMD, hwnas
# CMD --help, its manual page), the build's man pages, bash completion, and
# zoo names (a .net or .hw argument found by name) with the places looked
# at when nothing is found.
# Usage: test_help_data.sh PATH_TO_HWNAS SOURCE_ROOT BUILD_TOOLS_DIR COMMANDS...
set -u
hwnas=$1 src=$2 mandir=$3
shift 3
hwnas=$(cd "$(dirname "$hwnas")" && pwd)/$(basename "$hwnas")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0 pass=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { pass=$((pass + 1)); }

# The program's commands are the list meson builds man pages for.
listed=$("$hwnas" --help | sed -n '/^commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' | tr '\n' ' ')
[ "$listed" = "$* " ] && ok || fail "hwnas --help lists '$listed', tools/meson.build hwnas_commands '$* '"

for c in "$@"; do
    a=$("$hwnas" help "$c" 2>&1) || fail "hwnas help $c exited $?"
    b=$("$hwnas" "$c" --help 2>&1) || fail "hwnas $c --help exited $?"
    [ "$a" = "$b" ] && ok || fail "hwnas help $c and hwnas $c --help differ"
    printf '%s\n' "$a" | grep -q "^usage: hwnas $c" && ok || fail "hwnas help $c has no usage line: $a"
    # the page says what the help says: every option of one is in the other
    page="$mandir/hwnas-$c.1"
    [ -s "$page" ] || { fail "no manual page $page"; continue; }
    "$hwnas" help --man "$c" | cmp -s - "$page" && ok || fail "$page is not hwnas help --man $c"
    for opt in $(printf '%s\n' "$a" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        roff=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
        grep -q -- "$roff" "$page" || fail "$page lacks $opt"
    done
    if command -v man >/dev/null; then
        txt=$(MANWIDTH=100 man -l "$page" 2>&1)
        printf '%s\n' "$txt" | grep -q "hwnas-$c - " && ok || fail "man -l $page: $txt"
    fi
done
"$hwnas" help --man | cmp -s - "$mandir/hwnas.1" && ok || fail "hwnas.1 is not hwnas help --man"
for c in "$@"; do
    grep -q "^\.BR hwnas\\\\-$c (1)" "$mandir/hwnas.1" && ok || fail "hwnas.1 does not refer to hwnas-$c(1)"
done
out=$("$hwnas" help --man nope 2>&1); [ $? -eq 2 ] && printf '%s' "$out" | grep -q "unknown command 'nope'" &&
    ok || fail "help --man nope: $out"
# --help anywhere among a command's arguments, before any work
out=$("$hwnas" search --space cell --help 2>&1) && printf '%s' "$out" | grep -q -- '--codesign' &&
    ok || fail "search --space cell --help: $out"
out=$("$hwnas" axmul evaluate --help 2>&1) && printf '%s' "$out" | grep -q -- '--train-subset' &&
    ok || fail "axmul evaluate --help: $out"

# Zoo names: the current directory, then HWNAS_DATA_PATH, then share/hwnas.
cd "$work"
out=$("$hwnas" estimate resnet20 2>&1); st=$?
[ $st -eq 1 ] && ok || fail "estimate resnet20 with no zoo exited $st"
for where in "./resnet20.net" "(HWNAS_DATA_PATH is not set)" "/share/hwnas/nets/resnet20.net"; do
    printf '%s\n' "$out" | grep -qF -- "$where" && ok || fail "the not-found message lacks '$where': $out"
done
printf '%s\n' "$out" | grep -q "no file or network zoo name 'resnet20'" && ok || fail "$out"
mkdir -p d1/nets d2/nets d2/hardware
HWNAS_DATA_PATH="$work/d1:$work/d2:$src/examples" "$hwnas" estimate resnet20 > a.txt 2>&1 &&
    "$hwnas" estimate "$src/examples/nets/resnet20.net" > b.txt 2>&1 &&
    grep -q 'MACs' a.txt && [ "$(grep -v resnet20 a.txt)" = "$(grep -v resnet20 b.txt)" ] &&
    ok || fail "estimate resnet20 from HWNAS_DATA_PATH: $(cat a.txt)"
# order: a file here wins over the path, an earlier path entry over a later one
# (three nets told apart by their MACs: 3, 5 and 7 output channels)
tiny() { printf 'hwnas-net 1\nx = input(shape=1x8x8)\nconv(out=%s, k=3)\n' "$1"; }
tiny 3 > d2/nets/tiny.net
HWNAS_DATA_PATH="$work/d1:$work/d2" "$hwnas" estimate tiny.net --json | grep -q '"macs": *972\b' &&
    ok || fail "tiny.net not found in the second HWNAS_DATA_PATH entry"
tiny 5 > d1/nets/tiny.net
HWNAS_DATA_PATH="$work/d1:$work/d2" "$hwnas" estimate tiny --json | grep -q '"macs": *1620\b' &&
    ok || fail "the first HWNAS_DATA_PATH entry does not win"
tiny 7 > tiny.net
HWNAS_DATA_PATH="$work/d1:$work/d2" "$hwnas" estimate tiny --json | grep -q '"macs": *2268\b' &&
    ok || fail "a file in the current directory does not win"
# hardware names too, and a missing one names the hardware directories
HWNAS_DATA_PATH="$src/examples" "$hwnas" estimate resnet20 --hardware eyeriss > c.txt 2>&1 &&
    "$hwnas" estimate "$src/examples/nets/resnet20.net" --hardware "$src/examples/hardware/eyeriss.hw" > e.txt 2>&1 &&
    grep -q 'energy' c.txt && [ "$(grep -v 'resnet20\|eyeriss' c.txt)" = "$(grep -v 'resnet20\|eyeriss' e.txt)" ] &&
    ok || fail "estimate resnet20 --hardware eyeriss by name: $(cat c.txt)"
out=$(HWNAS_DATA_PATH="$work/d2" "$hwnas" estimate tiny --hardware nosuchhw 2>&1); st=$?
[ $st -eq 1 ] && printf '%s\n' "$out" | grep -qF "$work/d2/hardware/nosuchhw.hw" &&
    printf '%s\n' "$out" | grep -q "no file or hardware zoo name 'nosuchhw'" && ok ||
    fail "a missing hardware name: $st $out"
# a path is never searched: the library names it
out=$("$hwnas" estimate sub/resnet20.net 2>&1); st=$?
[ $st -eq 1 ] && printf '%s\n' "$out" | grep -q "sub/resnet20.net" &&
    ! printf '%s\n' "$out" | grep -q "looked for" && ok || fail "a path was searched: $out"
# every command that takes a .net: train, axmul evaluate, latency-lut build
for args in "train nosuchnet" "axmul evaluate nosuchnet" "latency-lut build --net nosuchnet --out x.lut"; do
    out=$(HWNAS_AXMUL_DIR="$work/ax" "$hwnas" $args 2>&1)
    printf '%s\n' "$out" | grep -q "zoo name 'nosuchnet'; looked for" && ok || fail "hwnas $args: $out"
done

# Bash completion: commands, a command's options, kind names, zoo names.
comp=$src/tools/completion/hwnas
if command -v bash >/dev/null; then
    complete_words() { # LINE: what completing the last word of LINE offers
        PATH="$(dirname "$hwnas"):$PATH" HWNAS_DATA_PATH="$src/examples" bash -c '
            . "$1"; shift
            COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hwnas
            printf "%s\n" "${COMPREPLY[@]}"' sh "$comp" "$@"
    }
    [ "$(complete_words hwnas es)" = estimate ] && ok || fail "completing 'hwnas es': $(complete_words hwnas es)"
    complete_words hwnas search --cod | grep -qx -- --codesign && ok || fail "completing search --cod"
    complete_words hwnas search --space ce | grep -qx cell && ok || fail "completing --space ce: $(complete_words hwnas search --space ce)"
    complete_words hwnas search --strategy ns | grep -qx nsga2 && ok || fail "completing --strategy ns"
    complete_words hwnas describe stra | grep -qx strategy:random && ok || fail "completing describe stra"
    complete_words hwnas estimate resn | grep -qx resnet50 && ok || fail "completing estimate resn"
    complete_words hwnas estimate x --hardware eye | grep -qx eyeriss && ok || fail "completing --hardware eye"
    complete_words hwnas --threads 2 sel | grep -qx selfcheck && ok || fail "completing after a global option"
fi

echo "help, man pages, completion, zoo names: $pass passed, $failures failed"
[ $failures -eq 0 ]
