#!/usr/bin/env bash
# tests/bench/export.sh [MAPD] — `mapd export` of 100,000 needs to a
# GeoPackage against ogr2ogr copying the same rows and columns out of the
# same store (-sql), measured side by side in one run (median of RUNS runs,
# interleaved so both see the same machine).
#
# Targets: mapd at most 3 s, and at most 1.2x ogr2ogr's time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MAPD=${1:-$ROOT/build/bin/mapd}
SAMPLE=$ROOT/geodata/samples/paris
RUNS=${RUNS:-3}
POSTS=${POSTS:-100000}
OUT=$(mktemp -d /tmp/entraide-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
DB=$OUT/store.sqlite

"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$DB" >/dev/null
"$MAPD" import addresses "$SAMPLE/addresses.csv.gz" --db "$DB" >/dev/null 2>&1
"$MAPD" seed --db "$DB" --posts "$POSTS" >/dev/null
rows=$(sqlite3 "$DB" "SELECT count(*) FROM posts")
NOW=$(date +%s)

seconds() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The columns of the needs layer as `mapd export` writes them (features.c).
SQL="SELECT id, kind, category,
       CASE WHEN status = 'open' AND expires_at <= $NOW THEN 'expired' ELSE status END AS status,
       neighbourhood_id AS neighbourhood,
       strftime('%Y-%m-%dT%H:%M:%SZ', created_at, 'unixepoch') AS created_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', updated_at, 'unixepoch') AS updated_at,
       strftime('%Y-%m-%dT%H:%M:%SZ', expires_at, 'unixepoch') AS expires_at,
       hidden, geom FROM posts ORDER BY id"

run_mapd() {
    rm -f "$OUT/m.gpkg"
    seconds "$MAPD" export --db "$DB" --layer needs --format gpkg --out "$OUT/m.gpkg"
}
run_ogr() {
    rm -f "$OUT/o.gpkg"
    seconds ogr2ogr -f GPKG "$OUT/o.gpkg" "$DB" -sql "$SQL" -nln needs
}

echo "export of $rows needs to GeoPackage, median of $RUNS runs, $(nproc) cores"
m=(); o=()
for _ in $(seq "$RUNS"); do
    m+=("$(run_mapd)")
    o+=("$(run_ogr)")
done
mapd_s=$(printf '%s\n' "${m[@]}" | median)
ogr_s=$(printf '%s\n' "${o[@]}" | median)
count() { ogrinfo -ro -so -al "$1" | sed -n 's/^Feature Count: //p'; }
printf '  mapd export --format gpkg        %6.2f s   (%s features, %s bytes)\n' "$mapd_s" \
    "$(count "$OUT/m.gpkg")" "$(stat -c %s "$OUT/m.gpkg")"
printf '  ogr2ogr -f GPKG -sql             %6.2f s   (%s features, %s bytes)\n' "$ogr_s" \
    "$(count "$OUT/o.gpkg")" "$(stat -c %s "$OUT/o.gpkg")"
awk -v m="$mapd_s" -v o="$ogr_s" 'BEGIN {
    r = m / o
    printf "  ratio mapd / ogr2ogr             %6.2fx   (target <= 1.2x: %s)\n", r, (r <= 1.2) ? "met" : "NOT met"
    printf "  mapd at most 3 s                 %s\n", (m <= 3) ? "met" : "NOT met" }'
