#!/usr/bin/env bash
# tests/cli/geocode.sh MAPD — `mapd geocode`: the JSON fields of the
# contract, --limit, batch mode, reverse, and bad queries.
MAPD=$1
source "$(dirname "$0")/lib.sh"
FIX=$(dirname "$0")/../fixtures/secondcity
DB=$WORK/city.sqlite
"$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --db "$DB" >/dev/null
"$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$DB" >/dev/null 2>&1

# json_check FILE PYTHON-EXPRESSION: every line is JSON and the expression,
# over the list of objects `L`, is true.
json_check() {
    python3 -c "import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if ($2) else 1)" "$1"
}

"$MAPD" geocode "5 quater rue merciere ville-test" --db "$DB" >"$WORK/one"
check "one line for one answer" [ "$(wc -l <"$WORK/one")" -eq 1 ]
check "the contract's fields" json_check "$WORK/one" \
    "set(L[0]) >= {'query','label','lon','lat','score','type','address_id','neighbourhood'}"
check "a house number, with its source id and neighbourhood" json_check "$WORK/one" \
    "L[0]['type']=='housenumber' and L[0]['address_id']=='69385_0004_00005' and set(L[0]['neighbourhood'])=={'id','name'} and 0<=L[0]['score']<=1"

"$MAPD" geocode "rue merciere" --db "$DB" --limit 3 >"$WORK/three"
check "--limit 3 gives at most 3 lines" [ "$(wc -l <"$WORK/three")" -le 3 ]
check "a street without number is a street" json_check "$WORK/three" "L[0]['type']=='street' and L[0]['address_id'] is None"

"$MAPD" geocode "17 chemin des zorglubs imaginaires" --db "$DB" >"$WORK/none"
check "no acceptable match: one line of type none" json_check "$WORK/none" \
    "len(L)==1 and L[0]['type']=='none' and L[0]['neighbourhood'] is None"

{
    echo "5 quater rue merciere"
    echo ""
    printf '12 rue \xff\xfe\n'
    head -c 10240 /dev/zero | tr '\0' 'x'; echo
    echo ",;:!?"
    echo "Rue Mercière 5 quater 69005"
} >"$WORK/queries"
rc=0
"$MAPD" geocode --batch --db "$DB" <"$WORK/queries" >"$WORK/batch" || rc=$?
check "batch exits 0 whatever the lines hold" [ "$rc" -eq 0 ]
check "batch: one JSON line per query" json_check "$WORK/batch" "len(L)==6"
check "batch: good lines answered, bad ones say why" json_check "$WORK/batch" \
    "L[0]['type']=='housenumber' and L[1]['type']=='none' and 'UTF-8' in L[2]['error'] and '512' in L[3]['error'] and L[4]['type']=='none' and L[5]['address_id']==L[0]['address_id']"

rc=0
"$MAPD" geocode $'12 rue \xff' --db "$DB" >"$WORK/out" 2>"$WORK/err" || rc=$?
check "invalid UTF-8: exit 1, one line on stderr" [ "$rc" -eq 1 -a "$(wc -l <"$WORK/err")" -eq 1 ]

"$MAPD" geocode --reverse 4.855660,45.757129 --db "$DB" >"$WORK/rev"
check "reverse: the address at that point" json_check "$WORK/rev" "L[0]['address_id']=='69385_0004_00001'"
"$MAPD" geocode --reverse 0,0 --db "$DB" >"$WORK/rev0"
check "reverse far from everything: none" json_check "$WORK/rev0" "L[0]['type']=='none'"
rc=0; "$MAPD" geocode --reverse 400,1 --db "$DB" 2>/dev/null || rc=$?
check "reverse out of range: usage error" [ "$rc" -eq 2 ]
rc=0; "$MAPD" geocode "x" --db "$DB" --limit 0 2>/dev/null || rc=$?
check "--limit 0 is a usage error" [ "$rc" -eq 2 ]
rc=0; "$MAPD" geocode "x" --db "$WORK/absent.sqlite" 2>/dev/null || rc=$?
check "a missing database: exit 1" [ "$rc" -eq 1 ]
finish
