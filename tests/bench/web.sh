#!/usr/bin/env bash
# tests/bench/web.sh [BUILD_DIR] — the web map's two figures, measured in
# headless Chromium by the browser tests' own runner: the first render with
# data (navigation start to the map's first idle with features drawn), against
# its 2 s target, and the app's own JavaScript minified (excluding MapLibre),
# against 60 KB. Run it on a quiet machine: the render is CPU-bound
# (software WebGL). A benchmark: it prints the figures and exits non-zero
# only when the run itself fails or a figure misses its target.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MAPD=$BUILD/bin/mapd
[ -x "$MAPD" ] || { echo "web.sh: $MAPD not found: run make build first" >&2; exit 1; }
exec node "$ROOT/tests/e2e/run.mjs" "$MAPD" "$ROOT" --budget-ms 2000
