#!/usr/bin/env bash
# tests/cli/second_city.sh MAPD — a city other than Paris, in other formats
# and projections, imports with no code change: neighbourhoods as GeoJSON,
# GeoPackage in Lambert-93 (EPSG:2154) and Shapefile in Web Mercator, with
# field names of its own; BANO-style addresses (bis/ter/quater) in .csv.gz.
MAPD=$1
source "$(dirname "$0")/lib.sh"
FIX=$(dirname "$0")/../fixtures/secondcity

ogr2ogr -f GPKG -t_srs EPSG:2154 "$WORK/quartiers.gpkg" "$FIX/quartiers.geojson"
ogr2ogr -f "ESRI Shapefile" -t_srs EPSG:3857 "$WORK/quartiers.shp" "$FIX/quartiers.geojson"

for src in "$FIX/quartiers.geojson" "$WORK/quartiers.gpkg" "$WORK/quartiers.shp"; do
    fmt=${src##*.}
    DB=$WORK/city-$fmt.sqlite
    "$MAPD" import neighbourhoods "$src" --db "$DB" >"$WORK/out"
    check "$fmt: 20 quartiers imported" grep -q "imported 20 neighbourhoods" "$WORK/out"
    "$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$DB" >"$WORK/out" 2>"$WORK/err"
    check "$fmt: addresses imported, bad rows reported" \
        grep -q "imported 6010 addresses .*6013 read, 3 rejected, 10 outside" "$WORK/out"
    check "$fmt: bad rows named by line" grep -q "line 6012: unparseable house number 'douze'" "$WORK/err"
    "$MAPD" import shops "$FIX/commerces.geojson" --db "$DB" >"$WORK/out"
    check "$fmt: shops imported" grep -q "imported 60 shops" "$WORK/out"
    check "$fmt: ids and names from code_quartier and nom" \
        [ "$(sqlite3 "$DB" "SELECT name FROM neighbourhoods WHERE id = 'VT03'")" = "Quartier Saint-Éloi" ]
    check "$fmt: every quartier has at least two contiguous quartiers" \
        [ "$(sqlite3 "$DB" "SELECT count(*) FROM neighbourhoods n WHERE (SELECT count(*) FROM neighbourhood_contiguity c WHERE c.a = n.id) < 2")" = 0 ]
    check "$fmt: suffixes in one spelling" \
        [ "$(sqlite3 "$DB" "SELECT group_concat(DISTINCT rep) FROM (SELECT rep FROM addresses ORDER BY rep)")" = ",b,q,t" ]
    sqlite3 "$DB" "SELECT source_id, neighbourhood_id FROM addresses ORDER BY source_id" >"$WORK/assign-$fmt"
    sqlite3 "$DB" "SELECT a, b FROM neighbourhood_contiguity ORDER BY a, b" >"$WORK/contig-$fmt"
    check "$fmt: rtree consistent" [ "$(sqlite3 "$DB" "SELECT rtreecheck('idx_addresses_geom')")" = ok ]
done
# The three formats, in three projections, give the same city.
check "GeoPackage/Lambert-93 assigns like GeoJSON" cmp -s "$WORK/assign-geojson" "$WORK/assign-gpkg"
check "Shapefile/Web Mercator assigns like GeoJSON" cmp -s "$WORK/assign-geojson" "$WORK/assign-shp"
check "contiguity is the same in every format" cmp -s "$WORK/contig-geojson" "$WORK/contig-gpkg"
check "corner quartier VT01 has 3 contiguous (right, above, diagonal)" \
    [ "$(sqlite3 "$WORK/city-gpkg.sqlite" "SELECT count(*) FROM neighbourhood_contiguity WHERE a = 'VT01'")" -ge 2 ]
finish
