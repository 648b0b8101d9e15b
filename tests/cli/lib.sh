# tests/cli/lib.sh — helpers shared by the command-line and API test scripts.
# Usage: source it after setting MAPD (the binary under test).
set -euo pipefail

WORK=$(mktemp -d /tmp/entraide-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
PASSES=0

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# check NAME CONDITION...: passes when the command succeeds.
check() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# A digest of everything an import may write: the rows of the data tables
# and the audit log. Unchanged digest = nothing changed.
db_digest() {
    local db=$1
    [ -f "$db" ] || { echo absent; return; }
    { sqlite3 "$db" 2>&1 || true; } <<<"" >/dev/null
    sqlite3 "$db" 2>&1 "SELECT * FROM neighbourhoods ORDER BY id;
                   SELECT * FROM neighbourhood_contiguity ORDER BY a, b;
                   SELECT id, source_id, number, rep, street, postcode, city, neighbourhood_id, hex(geom) FROM addresses ORDER BY id;
                   SELECT * FROM shops ORDER BY id;
                   SELECT count(*) FROM audit_log;" | sha1sum | cut -d' ' -f1 || true
}

# expect_failure NAME DB -- COMMAND...: the command must exit 1, print exactly
# one line on stderr and nothing on stdout, and leave DB unchanged.
expect_failure() {
    local name=$1 db=$2; shift 3
    local before after rc=0
    before=$(db_digest "$db")
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    after=$(db_digest "$db")
    local lines; lines=$(wc -l <"$WORK/err")
    if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && [ ! -s "$WORK/out" ] && [ "$before" = "$after" ]; then
        pass "$name: $(cat "$WORK/err")"
    else
        fail "$name: exit $rc, $lines stderr lines, stdout $(wc -c <"$WORK/out") bytes, db $( [ "$before" = "$after" ] && echo unchanged || echo CHANGED)"
        sed 's/^/    /' "$WORK/err" "$WORK/out"
    fi
}

finish() {
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}
