#!/usr/bin/env bash
# tests/cli/errors.sh MAPD — every bad input to `mapd import` gives exit 1,
# one line on stderr, and leaves the database as it was.
MAPD=$1
source "$(dirname "$0")/lib.sh"
FIX=$(dirname "$0")/../fixtures/secondcity

DB=$WORK/city.sqlite
"$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --db "$DB" >/dev/null
"$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$DB" >/dev/null
"$MAPD" import shops "$FIX/commerces.geojson" --db "$DB" >/dev/null

: >"$WORK/empty.geojson"
: >"$WORK/empty.csv"
printf 'just some words, not vector data\n' >"$WORK/words.geojson"
head -c 4096 /dev/urandom >"$WORK/noise.gpkg"
printf 'name;street;town\nA;B;C\n' >"$WORK/wrong.csv"
printf 'id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n' >"$WORK/header-only.csv"
printf 'id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\nq;1;;R;1;1;V;east;north\n' >"$WORK/all-bad.csv"
head -c 3000 "$FIX/adresses.csv.gz" >"$WORK/truncated.csv.gz"
cat >"$WORK/noname.geojson" <<'JSON'
{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"1","surface":12.5},
 "geometry":{"type":"Polygon","coordinates":[[[4.8,45.7],[4.9,45.7],[4.9,45.8],[4.8,45.7]]]}}]}
JSON
cat >"$WORK/points.geojson" <<'JSON'
{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"P"},
 "geometry":{"type":"Point","coordinates":[4.8,45.7]}}]}
JSON

expect_failure "empty neighbourhood file" "$DB" -- "$MAPD" import neighbourhoods "$WORK/empty.geojson" --db "$DB"
expect_failure "empty address file" "$DB" -- "$MAPD" import addresses "$WORK/empty.csv" --db "$DB"
expect_failure "empty shop file" "$DB" -- "$MAPD" import shops "$WORK/empty.geojson" --db "$DB"
expect_failure "text is not vector data" "$DB" -- "$MAPD" import neighbourhoods "$WORK/words.geojson" --db "$DB"
expect_failure "noise is not vector data" "$DB" -- "$MAPD" import shops "$WORK/noise.gpkg" --db "$DB"
expect_failure "CSV with the wrong columns" "$DB" -- "$MAPD" import addresses "$WORK/wrong.csv" --db "$DB"
expect_failure "CSV with a header only" "$DB" -- "$MAPD" import addresses "$WORK/header-only.csv" --db "$DB"
expect_failure "CSV with no usable row" "$DB" -- "$MAPD" import addresses "$WORK/all-bad.csv" --db "$DB"
expect_failure "truncated gzip" "$DB" -- "$MAPD" import addresses "$WORK/truncated.csv.gz" --db "$DB"
expect_failure "polygons with no usable name field" "$DB" -- "$MAPD" import neighbourhoods "$WORK/noname.geojson" --db "$DB"
expect_failure "a name field that does not exist" "$DB" -- "$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --name-field nom_inconnu --db "$DB"
expect_failure "points given as neighbourhoods" "$DB" -- "$MAPD" import neighbourhoods "$WORK/points.geojson" --db "$DB"
expect_failure "a missing file" "$DB" -- "$MAPD" import addresses "$WORK/absent.csv" --db "$DB"
expect_failure "database in a missing directory" "$WORK/nowhere/x.sqlite" -- "$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$WORK/nowhere/x.sqlite"
expect_failure "database path is a directory" "$WORK" -- "$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$WORK"
expect_failure "database where nothing can be written" "/sys/kernel/entraide.sqlite" -- "$MAPD" import addresses "$FIX/adresses.csv.gz" --db /sys/kernel/entraide.sqlite
expect_failure "database file that is not a database" "$WORK/words.geojson" -- "$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$WORK/words.geojson"

# Usage errors exit 2.
rc=0; "$MAPD" import addresses 2>/dev/null || rc=$?
check "missing arguments exit 2" [ "$rc" -eq 2 ]
rc=0; "$MAPD" import streets "$WORK/empty.csv" --db "$DB" 2>/dev/null || rc=$?
check "unknown kind exits 2" [ "$rc" -eq 2 ]
rc=0; "$MAPD" frobnicate 2>/dev/null || rc=$?
check "unknown command exits 2" [ "$rc" -eq 2 ]
rc=0; "$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --db "$DB" --gap-m -3 2>/dev/null || rc=$?
check "negative gap exits 2" [ "$rc" -eq 2 ]

# Bad rows are skipped, counted, and named by line; the rest is imported.
printf 'id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\nk1;1;;Rue Test;69001;69381;Ville;4.83;45.76\nk2;x;;Rue Test;69001;69381;Ville;4.83;45.76\nk3;3;;Rue Test;69001;69381;Ville;4.83;91\n' >"$WORK/mixed.csv"
"$MAPD" import addresses "$WORK/mixed.csv" --db "$DB" >"$WORK/out" 2>"$WORK/err"
check "mixed file: summary" grep -q "imported 1 addresses.*3 read, 2 rejected" "$WORK/out"
check "mixed file: line 3 named" grep -q "line 3: unparseable house number 'x'" "$WORK/err"
check "mixed file: line 4 named" grep -q "line 4: coordinates out of range" "$WORK/err"

finish
