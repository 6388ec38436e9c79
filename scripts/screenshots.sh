#!/usr/bin/env bash
# The README's screenshots: the demo portal's home page and a household page
# with photos, at phone width (360 px), made with headless Chromium into
# docs/screenshots/. Needs `chromium` (Debian's package) and python3 (to
# serve the built site on 127.0.0.1 while Chromium looks at it).
#
#   scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=docs/screenshots
port=${PORT:-8763}
chromium=${CHROMIUM:-chromium}
scratch=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

cargo run --quiet --release -- build -o "$scratch/site" >/dev/null
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$scratch/site" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

# The first household page that shows photos.
page=$(grep -l '<picture>' "$scratch"/site/ho/*/index.html | sort | head -n 1)
household=$(basename "$(dirname "$page")")

shoot() { # PATH FILE HEIGHT
    "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$scratch/profile" --hide-scrollbars --virtual-time-budget=3000 \
        --window-size="360,$3" --screenshot="$out/$2" "http://127.0.0.1:$port$1" 2>/dev/null
    echo "$out/$2 (360×$3 px)"
}
mkdir -p "$out"
shoot / home.png 2600
shoot "/ho/$household/" household.png 2600
