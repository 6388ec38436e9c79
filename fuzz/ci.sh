#!/usr/bin/env bash
# CI: build every fuzz target and run each over its saved corpus (every saved
# input is replayed first), then on new inputs for a few seconds. A crash, a
# hang over 10 s or 2 GB of memory fails the run; the input is left in
# fuzz/artifacts/<target>/. Long runs are recorded in RELIABILITY.md (see
# long.sh), not run here.
#   fuzz/ci.sh [SECONDS per target, default 15]
set -euo pipefail
cd "$(dirname "$0")"
# cargo-fuzz passes nightly-only flags (-Zsanitizer, sancov); the stable
# toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
seconds=${1:-15}

source ./targets.sh

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
# No sanitizer: the parsers are safe Rust, and what is looked for (panics,
# overflows: debug assertions and overflow checks are on in Cargo.toml, hangs,
# memory growth) needs none.
cargo fuzz build --sanitizer none --release

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $TARGETS; do
    mkdir -p "$scratch/$target" "artifacts/$target"
    echo "fuzz: $target, $(find "corpus/$target" -type f | wc -l) saved inputs + ${seconds} s"
    # New inputs go to the scratch folder, so CI leaves the tree as it was.
    # shellcheck disable=SC2046
    "$BIN/$target" "$scratch/$target" "corpus/$target" -max_total_time="$seconds" \
        $(options "$target") -artifact_prefix="artifacts/$target/" 2>"$scratch/$target.log" ||
        {
            tail -n 40 "$scratch/$target.log"
            echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
            exit 1
        }
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$scratch/$target.log" || true
done
