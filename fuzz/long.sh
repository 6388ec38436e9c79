#!/usr/bin/env bash
# Long fuzzing runs, recorded in RELIABILITY.md (not run in CI; see ci.sh).
#   fuzz/long.sh TARGET SECONDS
# New inputs go to fuzz/corpus-new/TARGET (git-ignored); merge them into the
# committed corpus with `fuzz/long.sh --merge TARGET`. Runs under nice so
# other work on the machine keeps its cores.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
# The import targets write each input to a file: on a busy disk they spent
# most of their time waiting (12 s of CPU in 146 s), so temporary files go to
# memory when the machine has /dev/shm.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi

source ./targets.sh

if [ "${1:-}" = --merge ]; then
    target=$2
    rm -rf "corpus-min/$target" && mkdir -p "corpus-min/$target" "corpus-new/$target"
    # A set cover of the features, edges only (no hit counts): a committed
    # corpus of a few hundred KB in all, not the thousands of files a long
    # run keeps.
    # shellcheck disable=SC2046
    "$BIN/$target" -set_cover_merge=1 -use_counters=0 $(options "$target") \
        "corpus-min/$target" "corpus/$target" "corpus-new/$target"
    # Past findings stay whatever the cover says: CI replays them.
    find "corpus/$target" -name 'regress*' -exec cp {} "corpus-min/$target/" \;
    rm -rf "corpus/$target" && mv "corpus-min/$target" "corpus/$target"
    rm -rf "corpus-new/$target"
    exit
fi

target=$1
seconds=$2
mkdir -p "corpus-new/$target" artifacts/"$target"
# shellcheck disable=SC2046
nice -n 19 "$BIN/$target" "corpus-new/$target" "corpus/$target" \
    -max_total_time="$seconds" $(options "$target") \
    -artifact_prefix=artifacts/"$target"/ -print_final_stats=1
