#!/usr/bin/env bash
# tests/bench/import_addresses.sh [MAPD] — address import speed against
# ogr2ogr, measured side by side in one run (median of RUNS runs each).
#
#   mapd import addresses      BAN CSV -> SpatiaLite, with neighbourhood
#                              assignment, R*Tree and indexes
#   ogr2ogr -f SQLite -dsco SPATIALITE=YES
#                              the same CSV -> SpatiaLite with its R*Tree,
#                              no neighbourhood assignment
#
# Targets: mapd at most 2 s, and at least 3x faster than ogr2ogr.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MAPD=${1:-$ROOT/build/bin/mapd}
SAMPLE=$ROOT/geodata/samples/paris
RUNS=${RUNS:-5}
OUT=$(mktemp -d /tmp/entraide-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

gzip -dc "$SAMPLE/addresses.csv.gz" >"$OUT/addresses.csv"
rows=$(($(wc -l <"$OUT/addresses.csv") - 1))
"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$OUT/base.sqlite" >/dev/null

seconds() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

run_mapd() {
    rm -f "$OUT"/m.sqlite*
    cp "$OUT/base.sqlite" "$OUT/m.sqlite"
    seconds "$MAPD" import addresses "$1" --db "$OUT/m.sqlite"
}
run_ogr() {
    rm -f "$OUT"/o.sqlite*
    seconds ogr2ogr -f SQLite -dsco SPATIALITE=YES "$OUT/o.sqlite" "$OUT/addresses.csv" \
        -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 -nln addresses
}

echo "address import, $rows rows, median of $RUNS runs, $(nproc) cores"
m=(); g=(); o=()
for _ in $(seq "$RUNS"); do   # interleaved, so both see the same machine
    m+=("$(run_mapd "$OUT/addresses.csv")")
    g+=("$(run_mapd "$SAMPLE/addresses.csv.gz")")
    o+=("$(run_ogr)")
done
mapd_s=$(printf '%s\n' "${m[@]}" | median)
mapd_gz_s=$(printf '%s\n' "${g[@]}" | median)
ogr_s=$(printf '%s\n' "${o[@]}" | median)
check=$(sqlite3 "$OUT/m.sqlite" "SELECT count(*), count(neighbourhood_id) FROM addresses")
ogr_rows=$(sqlite3 "$OUT/o.sqlite" "SELECT count(*) FROM addresses")

printf '  mapd import addresses (.csv)     %6.2f s   (%s rows, %s in a neighbourhood)\n' \
    "$mapd_s" "${check%|*}" "${check#*|}"
printf '  mapd import addresses (.csv.gz)  %6.2f s\n' "$mapd_gz_s"
printf '  ogr2ogr -f SQLite SPATIALITE=YES %6.2f s   (%s rows, no neighbourhoods)\n' "$ogr_s" "$ogr_rows"
awk -v m="$mapd_s" -v o="$ogr_s" 'BEGIN {
    r = o / m
    printf "  ratio ogr2ogr / mapd             %6.2fx   (target >= 3x: %s)\n", r, (r >= 3) ? "met" : "NOT met"
    printf "  mapd at most 2 s                 %s\n", (m <= 2) ? "met" : "NOT met" }'
