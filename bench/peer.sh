#!/usr/bin/env bash
# The peer run of bench/run.sh: the same pages as a Hugo site, built cold.
#
#   bench/peer.sh WORK RUNS [--en]
#
# WORK is bench/run.sh's directory: WORK/p/public is the portal's cold build.
# examples/bench_peer.rs turns its open data into a Hugo project (WORK/hugo;
# not timed, as bench_data is not), then Hugo builds it RUNS times into a
# fresh directory (the previous output moved aside, as run.sh does for
# minhbach, and no resource cache). Prints one line on stdout:
#   "<median seconds> <median peak KiB> <Hugo's HTML files> <minhbach's HTML files> <hugo version>"
# or nothing when no hugo can be had (a message on stderr says why).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$1
runs=$2
english=${3:-}

if ! command -v hugo >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "peer: installing Debian's hugo" >&2
    (apt-get update && apt-get install -y hugo) >"$work/apt.log" 2>&1 || true
  fi
  if ! command -v hugo >/dev/null; then
    echo "peer: no hugo (apt-get install hugo, or BENCH_PEER=0 to skip); peer run skipped" >&2
    exit 0
  fi
fi

profile=${BENCH_PROFILE:-release}
cargo build --profile "$profile" --quiet --example bench_peer
target=${CARGO_TARGET_DIR:-$PWD/target}
[ "$profile" = dev ] && profile_dir=debug || profile_dir=$profile
"$target/$profile_dir/examples/bench_peer" "$work/p/public" "$work/hugo" $english >"$work/peer-pages"

: >"$work/peer-cold"
for run in $(seq "$runs"); do
  [ -d "$work/hugo/public" ] && mv "$work/hugo/public" "$work/old-hugo.$run"
  rm -rf "$work/hugo/resources"
  /usr/bin/time -f "%e %M" -o "$work/time" hugo --quiet --source "$work/hugo" --destination public \
    >"$work/peer-stdout" 2>"$work/peer-stderr" || { cat "$work/peer-stderr" >&2; exit 1; }
  cat "$work/time" >>"$work/peer-cold"
done
rm -rf "$work"/old-hugo.*

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
hugo_pages=$(find "$work/hugo/public" -name '*.html' | wc -l)
portal_pages=$(find "$work/p/public" -name '*.html' | wc -l)
expected=$(cat "$work/peer-pages")
[ "$hugo_pages" = "$expected" ] ||
  echo "peer: the generator expected $expected pages, Hugo wrote $hugo_pages" >&2
echo "$(awk '{print $1}' "$work/peer-cold" | median) $(awk '{print $2}' "$work/peer-cold" | median)" \
  "$hugo_pages $portal_pages $(hugo version | grep -o 'v[0-9.]*' | head -1)"
