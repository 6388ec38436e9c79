#!/usr/bin/env bash
# Imports realistic bank statements (examples/bench_statements.rs) and
# scores the result: transfers lost or counted twice, donor names right.
#
#   bench/statements.sh W1|W2|W3|COUNT [--long]
#
# W1 = 100,000 transfers; W2 = 1,000,000; W3 = 5,000,000, in six statements
# of one fund's three accounts (one pair overlapping, re-issued). Prints the
# time and peak memory of each import, the reconciliation lines, the score,
# and a Markdown table row. `--long` adds what banks write after the
# sender's words (descriptions of about 120 characters).
# BENCH_BUILD=RUNS then times, on the imported portal, RUNS cold builds and
# RUNS rebuilds after appending one donation, as bench/run.sh does on the
# synthetic data (here the lookup indexes every word of the bank's text),
# and prints a second row.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
case "${1:-W1}" in
  W1) count=100000 ;;
  W2) count=1000000 ;;
  W3) count=5000000 ;;
  *[!0-9]*|'') echo "usage: bench/statements.sh W1|W2|W3|COUNT" >&2; exit 2 ;;
  *) count=$1 ;;
esac
cargo build --release --quiet --bin minhbach --example bench_statements
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/minhbach
gen=$target/release/examples/bench_statements
work=${BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT
export MINHBACH_TIME=2025-11-30T12:00:00Z
# The last run's portal is moved aside and deleted at the end, not now:
# a cold build minutes after a mass deletion waits on ext4 (bench/lib.sh).
stale="$work/stale.$$"
mkdir -p "$stale"
for old in p keys data old-public.*; do
  if [ -e "$work/$old" ]; then mv "$work/$old" "$stale/"; fi
done
"$gen" "$work/data" "$count" ${2:+"$2"}
$bin init "$work/p" --key "$work/keys/admin.key" --origin bench.minhbach.example/ledger >/dev/null 2>&1
(cd "$work/p" && $bin append --key ../keys/admin.key ../data/funds.jsonl >/dev/null)
total=0; peak=0
while read -r file account mapping; do
  (cd "$work/p" && /usr/bin/time -f "%e %M" -o "$work/time" \
    $bin import donations "../data/$file" --fund yagi --account "$account" \
      --map "../data/$mapping" --key ../keys/admin.key --report "../report-$file" >"$work/out")
  read -r seconds kb <"$work/time"
  grep ' read = ' "$work/out"
  grep 'different bank text' "$work/out" || true
  echo "  $file: $seconds s, $(( kb / 1024 )) MiB"
  total=$(echo "$total + $seconds" | bc); [ "$kb" -gt "$peak" ] && peak=$kb
  rm -f "$work/report-$file"
done <"$work/data/imports.txt"
"$gen" --score "$work/data" "$work/p"
echo "| $count transfers | $total s | $(( peak / 1024 )) MiB |"

if [ -n "${BENCH_BUILD:-}" ]; then
  : >"$work/cold"; : >"$work/append"; : >"$work/warm"; : >"$work/rewritten"
  for run in $(seq "$BENCH_BUILD"); do cold_build "$run"; done
  for run in $(seq "$BENCH_BUILD"); do rebuild_after_append "$run" yagi; done
  peak=$(cat "$work/cold" "$work/append" "$work/warm" | awk '{print $2}' | sort -n | tail -1)
  echo "| $count transfers${2:+ $2} | cold build $(col "$work/cold" 1) s, $(( $(col "$work/cold" 2) / 1024 )) MiB | append $(col "$work/append" 1) s | rebuild $(col "$work/warm" 1) s, $(median <"$work/rewritten") files | peak $(( peak / 1024 )) MiB |"
fi
rm -rf "$work"/old-public.* "$work"/stale.*
