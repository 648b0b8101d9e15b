#!/bin/bash
# tests/pg/test_pg_errors.sh MAPD SAMPLE_DIR — bad input on the PostgreSQL
# store: a connection string that does not parse, a server that does not
# answer, a database without PostGIS, a schema newer than the program. Each
# gets a one-line reason and exit code 1, nothing is written, and no message
# shows the connection's password.
set -u
MAPD=${1:?MAPD}
SAMPLE=${2:?SAMPLE_DIR}
. "$(dirname "$0")/pg_private.sh"
WORK=$(mktemp -d /tmp/entraide-pgerr.XXXXXX)
pg_private_test_work
pg_private_start "$WORK/pg" >/dev/null || exit 1
PSQL=(psql -h "$WORK/pg" -U postgres -qAtX -v ON_ERROR_STOP=1)
fails=0
check() {   # NAME CONDITION-STATUS
    if [ "$2" = 0 ]; then echo "ok - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi
}
# refused CMD... — runs mapd; true when it exits 1 with one line on stderr
# and nothing on stdout. The line is kept in $WORK/err.
refused() {
    "$MAPD" "$@" >"$WORK/out" 2>"$WORK/err"
    local rc=$?
    [ "$rc" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && [ ! -s "$WORK/out" ]
}
NB=$SAMPLE/neighbourhoods.geojson

refused import neighbourhoods "$NB" --db "postgresql://u:s3cr3t@/x?host=%zz%"
check "a connection string that does not parse is refused" $?
grep -q "not a valid PostgreSQL connection string" "$WORK/err" && ! grep -q s3cr3t "$WORK/err"
check "  it says so, without the password ($(cat "$WORK/err"))" $?

refused import neighbourhoods "$NB" --db "postgresql://u:s3cr3t@127.0.0.1:1/entraide?connect_timeout=2"
check "a server that does not answer is refused" $?
grep -q "cannot connect to the PostgreSQL database entraide on 127.0.0.1:1" "$WORK/err" \
    && ! grep -q s3cr3t "$WORK/err"
check "  it says where, without the password ($(cat "$WORK/err"))" $?

"${PSQL[@]}" -d postgres -c "CREATE DATABASE plain"
refused import neighbourhoods "$NB" --db "host=$WORK/pg dbname=plain user=postgres"
check "a database without PostGIS is refused" $?
grep -q "has no PostGIS" "$WORK/err"
check "  it says what to do ($(cat "$WORK/err"))" $?
[ "$("${PSQL[@]}" -d plain -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n
                                ON n.oid = c.relnamespace WHERE n.nspname = 'public'")" = 0 ]
check "  and nothing was written there" $?

DB="host=$WORK/pg dbname=entraide user=postgres"
"$MAPD" import neighbourhoods "$NB" --db "$DB" >/dev/null
check "a database with PostGIS takes an import" $?
"${PSQL[@]}" -d entraide -c "UPDATE geodata_schema SET version = version + 1"
before=$("${PSQL[@]}" -d entraide -c "SELECT count(*) FROM neighbourhoods; SELECT max(seq) FROM changes")
refused import neighbourhoods "$NB" --db "$DB"
check "a schema newer than the program is refused by an import" $?
grep -q "newer than this program" "$WORK/err"
check "  it says so ($(cat "$WORK/err"))" $?
refused serve --db "$DB" --listen 127.0.0.1:0
check "  and by serve" $?
after=$("${PSQL[@]}" -d entraide -c "SELECT count(*) FROM neighbourhoods; SELECT max(seq) FROM changes")
[ "$before" = "$after" ]
check "  nothing was written" $?

echo "$fails failed"
[ "$fails" = 0 ]
