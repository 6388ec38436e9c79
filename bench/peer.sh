#!/usr/bin/env bash
# The peer run of bench/run.sh: the same pages as a Hugo site, built cold.
#
#   bench/peer.sh prepare WORK [--en]
#   bench/peer.sh time WORK RUNS
#
# WORK is bench/run.sh's directory. `prepare` turns the portal's cold build
# (WORK/p/public, its open data) into a Hugo project with
# examples/bench_peer.rs (WORK/hugo; not timed, as bench_data is not),
# installing Debian's hugo if there is none. `time` then has Hugo build it
# RUNS times into a fresh directory (the previous output moved aside, as
# run.sh does for minhbach, and no resource cache). run.sh prepares right
# after its cold builds, before its appends change the output, and times
# after its rebuilds, so Hugo's run (13 GB at W2) does not push the portal
# out of the page cache before them. `time` prints one line on stdout:
#   "<median seconds> <median peak KiB> <Hugo's HTML files> <minhbach's HTML files> <hugo version>"
# or, when a Hugo run fails (at W3 the kernel's OOM killer stops it on a
# 24 GiB machine):
#   "failed <peak KiB> <how it ended>"
# and nothing when there is no Hugo project (a message on stderr says why).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1
work=$2
. bench/lib.sh

prepare() {
  local english=${1:-}
  rm -f "$work/peer-pages" "$work/portal-pages"
  if ! command -v hugo >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "peer: installing Debian's hugo" >&2
      (apt-get update && apt-get install -y hugo) >"$work/apt.log" 2>&1 || true
    fi
    if ! command -v hugo >/dev/null; then
      echo "peer: no hugo (apt-get install hugo, or BENCH_PEER=0 to skip); peer run skipped" >&2
      return 0
    fi
  fi
  local profile=${BENCH_PROFILE:-release} profile_dir
  cargo build --profile "$profile" --quiet --example bench_peer
  local target=${CARGO_TARGET_DIR:-$PWD/target}
  [ "$profile" = dev ] && profile_dir=debug || profile_dir=$profile
  rm -rf "$work/hugo"
  "$target/$profile_dir/examples/bench_peer" "$work/p/public" "$work/hugo" $english >"$work/peer-pages"
  # What `time` counts against: the portal's pages as the peer was made.
  find "$work/p/public" -name '*.html' | wc -l >"$work/portal-pages"
}

time_runs() {
  local runs=$1 run status
  [ -f "$work/peer-pages" ] || return 0
  : >"$work/peer-cold"
  for run in $(seq "$runs"); do
    [ -d "$work/hugo/public" ] && mv "$work/hugo/public" "$work/old-hugo.$run"
    rm -rf "$work/hugo/resources"
    status=0
    /usr/bin/time -f "%e %M" -o "$work/time" hugo --quiet --source "$work/hugo" --destination public \
      >"$work/peer-stdout" 2>"$work/peer-stderr" || status=$?
    if [ "$status" != 0 ]; then
      # GNU time's first line says how the command ended; the second is
      # its figures (the peak is what it reached before it ended).
      local how peak
      how=$(head -1 "$work/time")
      peak=$(tail -1 "$work/time" | awk '{print $2}')
      [ "$status" = 137 ] && how="$how (SIGKILL: the OOM killer, if the kernel log says so)"
      echo "peer: Hugo run $run failed: $how, at $(( peak / 1024 )) MiB" >&2
      cat "$work/peer-stderr" >&2
      rm -rf "$work"/old-hugo.* "$work/hugo/public"
      echo "failed $peak $how"
      return 0
    fi
    cat "$work/time" >>"$work/peer-cold"
  done
  rm -rf "$work"/old-hugo.*

  local hugo_pages expected
  hugo_pages=$(find "$work/hugo/public" -name '*.html' | wc -l)
  expected=$(cat "$work/peer-pages")
  [ "$hugo_pages" = "$expected" ] ||
    echo "peer: the generator expected $expected pages, Hugo wrote $hugo_pages" >&2
  echo "$(col "$work/peer-cold" 1) $(col "$work/peer-cold" 2)" \
    "$hugo_pages $(cat "$work/portal-pages") $(hugo version | grep -o 'v[0-9.]*' | head -1)"
}

case "$mode" in
  prepare) prepare "${3:-}" ;;
  time) time_runs "$3" ;;
  *) echo "usage: bench/peer.sh prepare WORK [--en] | time WORK RUNS" >&2; exit 2 ;;
esac
