#!/usr/bin/env bash
# Bytes a lookup moves, measured in headless Chromium against a built site.
#
#   tests/browser/lookup_bytes.sh SITE_DIR QUERY...
#
# Serves SITE_DIR on 127.0.0.1 (python3 http.server), opens
# /tra-cuu/?q=QUERY for each query and prints the page's own counts: index
# bytes fetched by the search (`data-bytes` of #results: manifest,
# dictionary shards, postings chunks, records) and bytes fetched by the
# automatic proofs (`data-proof-bytes`: checkpoint, keys, tiles, entry
# bundles), with the number of results and the status line. Python's server
# ignores byte ranges, so every proof here fetches its whole entry bundle;
# tests/browser/lookup_timing.mjs serves ranges, as static hosts do, and
# times each query on an emulated phone connection.
set -euo pipefail
site=$1; shift
port=${PORT:-8799}
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
printf '| query | results | search bytes | proof bytes | status |\n|---|---|---|---|---|\n'
for query in "$@"; do
  profile=$(mktemp -d)
  encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$query")
  dom=$(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --virtual-time-budget=60000 --dump-dom \
    "http://127.0.0.1:$port/tra-cuu/?q=$encoded" 2>/dev/null)
  rm -rf "$profile"
  bytes=$(grep -o 'data-bytes="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || echo '-')
  proof=$(grep -o 'data-proof-bytes="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || echo '-')
  results=$(grep -o '<li class="donation"' <<<"$dom" | wc -l || true)
  status=$(grep -o '<p id="lookup-status"[^>]*>[^<]*' <<<"$dom" | sed 's/.*>//' || true)
  printf '| `%s` | %s | %s | %s | %s |\n' "$query" "$results" "$bytes" "$proof" "$status"
done
