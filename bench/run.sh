#!/usr/bin/env bash
# Times minhbach at national scale on deterministic data.
#
#   bench/run.sh W1|W2|W3 [RUNS] [--en]
#
# W1 = 10,000 households + 100,000 donations; W2 = 100,000 + 1,000,000;
# W3 = 500,000 + 5,000,000. Each figure is the median of RUNS runs (default
# 3) of: importing the donation statement into a fresh copy of the portal,
# `verify`, a cold `build` (the previous output moved aside, deleted at the
# end), appending one donation, and the `build` after it
# (files rewritten counted). Peak memory is the largest resident set seen.
# Each build's phase timings (`build -v`) are kept in BENCH_DIR as
# cold-phases.N and warm-phases.N.
# Pages are Vietnamese only unless --en. Unless BENCH_PEER=0, the same pages
# are then built as a Hugo site, cold, RUNS times (bench/peer.sh), and the row
# ends with Hugo's cold build and minhbach's time over Hugo's; the HTML page
# counts of both go to stderr; a Hugo run that fails (the OOM killer, at W3
# on 24 GiB) is reported in the row, which still ends. Hugo runs after
# minhbach's rebuilds. Prints a Markdown table row.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-W1}
runs=${2:-3}
english=${3:-}
case "$scale" in
  W1) households=10000; donations=100000 ;;
  W2) households=100000; donations=1000000 ;;
  W3) households=500000; donations=5000000 ;;
  *) echo "usage: bench/run.sh W1|W2|W3 [RUNS] [--en]" >&2; exit 2 ;;
esac

# BENCH_PROFILE=dev runs the debug build `cargo test` already made: CI's
# correctness run, which needs no release build of its own. Timings are taken
# with the default, release.
profile=${BENCH_PROFILE:-release}
cargo build --profile "$profile" --quiet --bin minhbach --example bench_data
target=${CARGO_TARGET_DIR:-$PWD/target}
dir=$profile; [ "$profile" = dev ] && dir=debug
bin=$target/$dir/minhbach
work=${BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT
export MINHBACH_TIME=2025-11-30T12:00:00Z

# A reused BENCH_DIR starts over (init refuses an existing portal). The
# last run's portal is moved aside and deleted at the end, not now: ext4
# skips inodes freed in the last minutes, and a W3 cold build right after
# deleting the last run's million files took 155 s instead of 103 s
# (BENCHMARKS.md).
stale="$work/stale.$$"
mkdir -p "$stale"
for old in base p keys old-public.*; do
  if [ -e "$work/$old" ]; then mv "$work/$old" "$stale/"; fi
done
"$target/$dir/examples/bench_data" "$work/data" "$households" "$donations" >/dev/null

# The base portal: keys, a fund, the households and their stages.
$bin init "$work/base" --key "$work/keys/admin.key" --origin bench.minhbach.example/ledger >/dev/null 2>&1
languages='["vi"]'; [ "$english" = "--en" ] && languages='["vi", "en"]'
sed -i "s/^languages = .*/languages = $languages/" "$work/base/config.toml"
(cd "$work/base" && $bin append --key ../keys/admin.key ../data/funds.jsonl >/dev/null)
(cd "$work/base" && $bin import households ../data/households.csv --key ../keys/admin.key >/dev/null)

. bench/lib.sh

: >"$work/import"; : >"$work/verify"; : >"$work/cold"; : >"$work/append"; : >"$work/warm"; : >"$work/rewritten"
for run in $(seq "$runs"); do
  rm -rf "$work/p"; cp -r "$work/base" "$work/p"
  (cd "$work/p" && measure "$work/import" $bin import donations ../data/donations.csv --fund cuu-tro --key ../keys/admin.key)
done
# The rest works on one imported portal, with stages and disbursements.
(cd "$work/p" && $bin append --key ../keys/admin.key ../data/progress.jsonl >/dev/null)
for run in $(seq "$runs"); do
  (cd "$work/p" && measure "$work/verify" $bin verify)
  cold_build "$run"
done
# The peer's project, from the cold build's output, before the appends
# below change it; Hugo is timed after the rebuilds.
[ "${BENCH_PEER:-1}" != 0 ] && bench/peer.sh prepare "$work" $english

for run in $(seq "$runs"); do rebuild_after_append "$run" cuu-tro; done

# Hugo's runs, after the rebuilds: its run (13 GB at W2) would push the
# portal out of the page cache before them.
peer=""
[ "${BENCH_PEER:-1}" != 0 ] && peer=$(bench/peer.sh time "$work" "$runs")
peer_columns=" not run | |"
case "$peer" in
  "") ;;
  failed*)
    read -r _ peer_kib peer_how <<<"$peer"
    peer_columns=" failed at $(( peer_kib / 1024 )) MiB ($peer_how) | — |" ;;
  *)
    read -r peer_seconds peer_kib peer_pages portal_pages peer_version <<<"$peer"
    echo "pages: minhbach $portal_pages HTML files, Hugo $peer_version $peer_pages" >&2 ;;
esac

rm -rf "$work"/old-public.* "$work"/stale.*

peak=$(cat "$work/import" "$work/verify" "$work/cold" "$work/append" "$work/warm" | awk '{print $2}' | sort -n | tail -1)
[ -n "${peer_seconds:-}" ] && peer_columns=" $peer_seconds s, $(( peer_kib / 1024 )) MiB | $(awk -v a="$(col "$work/cold" 1)" -v b="$peer_seconds" 'BEGIN {printf "%.2f", a / b}') × |"
echo "| $scale${english:+ (vi+en)}${BENCH_PROFILE:+ ($BENCH_PROFILE build)} | $(col "$work/import" 1) s | $(col "$work/verify" 1) s | $(col "$work/cold" 1) s, $(( $(col "$work/cold" 2) / 1024 )) MiB | $(col "$work/append" 1) s | $(col "$work/warm" 1) s, $(median <"$work/rewritten") files | $(( peak / 1024 )) MiB |$peer_columns"
