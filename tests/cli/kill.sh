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

# A million rows: the import writes them at its commit (its page cache holds
# them), a good 100 MB, so there is time to kill it halfway through.
awk 'BEGIN { print "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat";
             for (i = 0; i < 1000000; i++)
               printf "big_%07d;%d;;Rue %d;69001;69381;Ville-Test;%.6f;%.6f\n", i, i % 300 + 1, i % 977,
                      4.821 + (i % 5003) * 0.0000119, 45.741 + (i % 4001) * 0.0000089 }' >"$WORK/big.csv"

# killed_import WHAT FILE BYTES: starts the big import, kills it once FILE
# has grown BYTES past its size at the start, then checks the store.
killed_import() {
    local what=$1 file=$2 grow=$3 start size
    start=$(stat -c %s "$file" 2>/dev/null || echo 0)
    "$MAPD" import addresses "$WORK/big.csv" --db "$DB" >/dev/null 2>&1 &
    local pid=$!
    # (up to a minute: the sanitizer build on a loaded machine writes slowly)
    for _ in $(seq 1 6000); do
        size=$(stat -c %s "$file" 2>/dev/null || echo 0)
        [ "$size" -gt $((start + grow)) ] && break
        sleep 0.01
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check "$what: the import was killed mid-way ($file grew by $((size - start)) bytes)" \
        [ "$size" -gt $((start + grow)) ]
    check "$what: previous data intact" [ "$before" = "$(db_digest "$DB")" ]
    check "$what: integrity" [ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ]
    check "$what: rtree consistent" [ "$(sqlite3 "$DB" "SELECT rtreecheck('idx_addresses_geom')")" = ok ]
}

# The store open elsewhere too (a serving mapd): the import writes to the
# WAL; killed once a good part of its transaction is there.
exec 3> >(sqlite3 "$DB" >/dev/null)
echo "SELECT count(*) FROM addresses;" >&3
sleep 0.5
killed_import "store shared" "$DB-wal" 20000000
exec 3>&-

# The store alone: the import writes with the rollback journal, its pages in
# place in the database file at the commit; killed while they are written,
# the journal left behind rolls the file back.
killed_import "store alone" "$DB" 20000000
check "no journal left once opened" [ ! -e "$DB-journal" ]

"$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$DB" >"$WORK/out"
check "the database takes the next import" grep -q "imported 6010 addresses" "$WORK/out"
check "the store is in WAL mode again" [ "$(sqlite3 "$DB" "PRAGMA journal_mode")" = wal ]
finish
