#!/usr/bin/env bash
# tests/bench/geocode.sh [BUILD_DIR] — geocoder speed, memory and accuracy,
# and point-in-neighbourhood speed, on the bundled Paris sample.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-$ROOT/build}
SAMPLE=$ROOT/geodata/samples/paris
OUT=$(mktemp -d /tmp/entraide-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
"$BUILD/bin/mapd" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$OUT/paris.sqlite" >/dev/null
"$BUILD/bin/mapd" import addresses "$SAMPLE/addresses.csv.gz" --db "$OUT/paris.sqlite" >/dev/null
echo "command: $BUILD/bin/geocode_bench paris.sqlite ($(nproc) cores)"
"$BUILD/bin/geocode_bench" "$OUT/paris.sqlite"
