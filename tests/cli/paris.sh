#!/usr/bin/env bash
# tests/cli/paris.sh MAPD — the bundled Paris sample: 80 quartiers, 158,048
# addresses less the reported rejects, 957 shop features, contiguity for all,
# consistent indexes, and an idempotent re-import.
MAPD=$1
source "$(dirname "$0")/lib.sh"
SAMPLE=$(dirname "$0")/../../geodata/samples/paris
DB=$WORK/paris.sqlite

"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$DB" >"$WORK/nb"
check "80 quartiers" grep -q "imported 80 neighbourhoods" "$WORK/nb"
"$MAPD" import addresses "$SAMPLE/addresses.csv.gz" --db "$DB" >"$WORK/addr"
cat "$WORK/addr"
read -r stored rejected < <(sed -E 's/imported ([0-9]+) addresses .* ([0-9]+) rejected.*/\1 \2/' "$WORK/addr")
check "158,048 addresses less the rejects" [ $((stored + rejected)) -eq 158048 ]
check "the table holds what was reported" [ "$(sqlite3 "$DB" "SELECT count(*) FROM addresses")" -eq "$stored" ]
outside=$(sqlite3 "$DB" "SELECT count(*) FROM addresses WHERE neighbourhood_id IS NULL")
check "nearly every address is in a quartier ($outside outside)" [ "$outside" -lt 100 ]
check "every quartier holds addresses" \
    [ "$(sqlite3 "$DB" "SELECT count(DISTINCT neighbourhood_id) FROM addresses")" -eq 80 ]
"$MAPD" import shops "$SAMPLE/shops.geojson" --db "$DB" >"$WORK/shops"
check "957 shop features read, the one repeated OSM id skipped" \
    grep -q "imported 956 shops .*957 read, 1 rejected" "$WORK/shops"
check "every quartier has at least two contiguous quartiers" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM neighbourhoods n WHERE (SELECT count(*) FROM neighbourhood_contiguity c WHERE c.a = n.id) < 2")" = 0 ]
check "contiguity is symmetric" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM neighbourhood_contiguity c WHERE NOT EXISTS (SELECT 1 FROM neighbourhood_contiguity d WHERE d.a = c.b AND d.b = c.a)")" = 0 ]
check "Saint-Germain-l'Auxerrois touches Halles" \
    [ "$(sqlite3 "$DB" "SELECT gap_m FROM neighbourhood_contiguity WHERE a = '7510101' AND b = '7510102'")" = 0.0 ]
for t in addresses neighbourhoods shops; do
    check "rtree of $t is consistent" [ "$(sqlite3 "$DB" "SELECT rtreecheck('idx_${t}_geom')")" = ok ]
    check "rtree of $t indexes every row" \
        [ "$(sqlite3 "$DB" "SELECT count(*) FROM idx_${t}_geom")" = "$(sqlite3 "$DB" "SELECT count(*) FROM $t")" ]
done
check "SpatiaLite sees a valid index" \
    [ "$(sqlite3 -cmd '.load mod_spatialite' "$DB" "SELECT CheckSpatialIndex('addresses', 'geom')" | tail -1)" = 1 ]
check "integrity" [ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ]
check "GDAL reads the addresses layer" \
    bash -c "ogrinfo -ro -so '$DB' addresses | grep -q 'Feature Count: $stored'"

before=$(db_digest "$DB")
"$MAPD" import addresses "$SAMPLE/addresses.csv.gz" --db "$DB" >/dev/null
"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$DB" >"$WORK/nb2"
"$MAPD" import shops "$SAMPLE/shops.geojson" --db "$DB" >/dev/null
after=$(db_digest "$DB")
# The audit log grows by two lines (neighbourhoods and shops: an unchanged
# address import is rolled back whole); nothing else may change.
check "re-import changes no data" \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM audit_log")" = 5 ]
check "re-import reassigns nothing" grep -q "0 records reassigned" "$WORK/nb2"
sqlite3 "$DB" "DELETE FROM audit_log WHERE id > 3"
check "re-import leaves the rows identical" [ "$before" = "$(db_digest "$DB")" ]
finish
