#!/usr/bin/env bash
# tests/cli/backup.sh MAPD — `mapd backup`: a consistent copy of a database
# in use, with clear failures and nothing left behind when it cannot be made.
MAPD=$1
source "$(dirname "$0")/lib.sh"
FIX=$(dirname "$0")/../fixtures/secondcity
DB=$WORK/city.sqlite
"$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --db "$DB" >/dev/null
"$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$DB" >/dev/null 2>&1
"$MAPD" seed --db "$DB" --posts 2000 >/dev/null

# A reader holds a transaction open while the backup runs.
sqlite3 "$DB" "BEGIN; SELECT count(*) FROM posts; SELECT 1 FROM posts LIMIT 1;" >/dev/null &
"$MAPD" backup --db "$DB" --out "$WORK/copy.sqlite" >"$WORK/out"
wait
check "backup reports the copy" grep -q "backed up" "$WORK/out"
check "the copy holds the same posts" \
    [ "$(sqlite3 "$WORK/copy.sqlite" "SELECT count(*), sum(id) FROM posts")" = "$(sqlite3 "$DB" "SELECT count(*), sum(id) FROM posts")" ]
check "the copy is intact" [ "$(sqlite3 "$WORK/copy.sqlite" "PRAGMA integrity_check")" = ok ]
check "the copy opens as a store" "$MAPD" stats --db "$WORK/copy.sqlite"
expect_failure "backup onto an existing file" "$WORK/copy.sqlite" -- "$MAPD" backup --db "$DB" --out "$WORK/copy.sqlite"
expect_failure "backup into a missing directory" "$DB" -- "$MAPD" backup --db "$DB" --out "$WORK/nowhere/copy.sqlite"
check "no file left behind" [ ! -e "$WORK/nowhere/copy.sqlite" ]
expect_failure "backup of a missing database" "$DB" -- "$MAPD" backup --db "$WORK/absent.sqlite" --out "$WORK/c2.sqlite"
check "no copy of a missing database" [ ! -e "$WORK/c2.sqlite" ]
finish
