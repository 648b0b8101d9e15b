#!/usr/bin/env bash
# tests/cli/kill.sh MAPD — an import killed halfway (SIGKILL, no chance to
# clean up) leaves the previous data intact and the database usable.
MAPD=$1
source "$(dirname "$0")/lib.sh"
FIX=$(dirname "$0")/../fixtures/secondcity
DB=$WORK/city.sqlite

"$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --db "$DB" >/dev/null
"$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$DB" >/dev/null
before=$(db_digest "$DB")

# Two million rows: far more than can be imported before the kill.
awk 'BEGIN { print "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat";
             for (i = 0; i < 2000000; i++)
               printf "big_%07d;%d;;Rue %d;69001;69381;Ville-Test;%.6f;%.6f\n", i, i % 300 + 1, i % 977,
                      4.821 + (i % 5003) * 0.0000119, 45.741 + (i % 4001) * 0.0000089 }' >"$WORK/big.csv"

"$MAPD" import addresses "$WORK/big.csv" --db "$DB" >/dev/null 2>&1 &
pid=$!
# Kill once the import has written a good part of its transaction to the WAL.
# (up to a minute: the sanitizer build on a loaded machine writes slowly)
for _ in $(seq 1 1200); do
    size=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
    [ "$size" -gt 20000000 ] && break
    sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
check "the import was killed mid-way (WAL had $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) bytes)" \
    [ "$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)" -gt 20000000 ]
check "previous data intact" [ "$before" = "$(db_digest "$DB")" ]
check "integrity" [ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ]
check "rtree consistent" [ "$(sqlite3 "$DB" "SELECT rtreecheck('idx_addresses_geom')")" = ok ]
"$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$DB" >"$WORK/out"
check "the database takes the next import" grep -q "imported 6010 addresses" "$WORK/out"
finish
