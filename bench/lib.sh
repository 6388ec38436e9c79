# Shared by bench/run.sh, peer.sh and statements.sh: medians, timed steps, and
# the cold build and the rebuild after one append, timed the same way on
# either workload. Expects $work (the bench directory, portal in $work/p)
# and $bin (the minhbach binary).

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Runs a command under /usr/bin/time; appends "seconds kilobytes" to $1.
measure() {
  local out=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || {
    cat "$work/stderr" >&2; exit 1; }
  cat "$work/time" >>"$out"
}

# One cold build, timed into $work/cold: no previous output, no page
# fingerprints, no verified-state cache, no state of the last build (model
# cache, open data, lookup index). The old output is moved aside, not
# deleted: ext4 skips inodes freed in the last minute or more, so a build
# right after deleting 155,000 files spent half its time looking for free
# inodes (BENCHMARKS.md). A user's first build does not follow a mass
# deletion; the calling script deletes the old outputs at its end.
cold_build() {
  local run=$1
  [ -d "$work/p/public" ] && mv "$work/p/public" "$work/old-public.$run"
  rm -rf "$work"/p/.public.* "$work/p/.minhbach/cache"
  (cd "$work/p" && measure "$work/cold" $bin build -v)
  cp "$work/stderr" "$work/cold-phases.$run"
}

# Appends one bank donation to fund $2, then builds: timed into
# $work/append and $work/warm, the files written into $work/rewritten.
rebuild_after_append() {
  local run=$1 fund=$2
  echo "{\"kind\":\"donation\",\"fund\":\"$fund\",\"donor\":\"Người thứ $run\",\"amount\":100000,\"date\":\"2025-11-30\",\"channel\":\"bank\",\"ref\":\"BENCH$run\"}" \
    >"$work/one.jsonl"
  (cd "$work/p" && measure "$work/append" $bin append --key ../keys/admin.key ../one.jsonl)
  (cd "$work/p" && measure "$work/warm" $bin build -v)
  cp "$work/stderr" "$work/warm-phases.$run"
  grep -o '[0-9]* written' "$work/stderr" "$work/stdout" | grep -o '^[^ ]*$\|[0-9]*' | tail -1 >>"$work/rewritten"
}

# Column $2 (1: seconds, 2: kilobytes) of the timings in $1, median.
col() { awk "{print \$$2}" "$1" | median; }
