#!/usr/bin/env bash
# tests/cli/tile_batch.sh MAPD — `mapd tile --batch` and `mapd tile --pyramid`
# on a small city: the output lines and the files written agree with
# `mapd tile Z X Y`, viewers change what is drawn, and bad input (a bad line,
# a bad zoom range, a missing --out, an unknown viewer, a pyramid too large)
# is refused with exit 2 and one line, before any work.
MAPD=$1
source "$(dirname "$0")/lib.sh"
FIX=$(dirname "$0")/../fixtures/secondcity
DB=$WORK/city.sqlite
"$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --db "$DB" >/dev/null
"$MAPD" import addresses "$FIX/adresses.csv.gz" --db "$DB" >/dev/null 2>&1
"$MAPD" import shops "$FIX/commerces.geojson" --db "$DB" >/dev/null
"$MAPD" seed --db "$DB" --posts 300 >/dev/null

# The city (lon 4.82 to 4.88, lat 45.74 to 45.78) lies in tile 10/525/365.
cat >"$WORK/tiles.txt" <<'EOF'
# a comment, then a blank line

10 525 365
14 8412 5844
  16	33650	23377  
3 0 0
14 8412 5844
EOF
rc=0
"$MAPD" tile --batch --db "$DB" --out "$WORK/out" <"$WORK/tiles.txt" >"$WORK/lines" 2>"$WORK/err" || rc=$?
check "--batch: exit 0, nothing on stderr" [ "$rc" = 0 -a ! -s "$WORK/err" ]
check "--batch: one line per tile, comments and blank lines skipped" [ "$(wc -l <"$WORK/lines")" = 5 ]
check "--batch: lines are Z X Y BYTES MICROSECONDS" \
    bash -c "! grep -Evq '^[0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+$' '$WORK/lines'"
check "--batch: tiles in the order read" \
    [ "$(cut -d' ' -f1-3 "$WORK/lines" | tr '\n' ,)" = "10 525 365,14 8412 5844,16 33650 23377,3 0 0,14 8412 5844," ]
while read -r z x y bytes _; do
    "$MAPD" tile "$z" "$x" "$y" --db "$DB" >"$WORK/one.mvt"
    check "--batch: $z/$x/$y.mvt written, $bytes bytes as printed" \
        [ -f "$WORK/out/$z/$x/$y.mvt" -a "$(stat -c %s "$WORK/out/$z/$x/$y.mvt")" = "$bytes" ]
    check "--batch: $z/$x/$y is the tile of mapd tile $z $x $y" cmp -s "$WORK/one.mvt" "$WORK/out/$z/$x/$y.mvt"
done < <(sort -u "$WORK/lines" | awk '!seen[$1 FS $2 FS $3]++')
check "--batch: the empty tile 3/0/0 is an empty file" [ -f "$WORK/out/3/0/0.mvt" -a ! -s "$WORK/out/3/0/0.mvt" ]
check "--batch: the city tile is not empty" [ -s "$WORK/out/10/525/365.mvt" ]
"$MAPD" tile --batch --db "$DB" <"$WORK/tiles.txt" >"$WORK/lines2"
check "--batch without --out: the same sizes" \
    [ "$(cut -d' ' -f1-4 "$WORK/lines")" = "$(cut -d' ' -f1-4 "$WORK/lines2")" ]

# Viewers: anonymous tiles have no needs or makers; staff see them all, a
# member of a neighbourhood those of the neighbourhoods it sees.
needs_count() {
    ogrinfo -ro -q -oo CLIP=NO -dialect SQLite \
        -sql "SELECT sum(CASE WHEN point_count IS NULL THEN 1 ELSE point_count END) AS n FROM needs" \
        "$1" 2>/dev/null | sed -nE 's/.*n \(Integer\) = ([0-9]+)/\1/p'
}
echo "10 525 365" | "$MAPD" tile --batch --db "$DB" --viewer all --out "$WORK/all" >/dev/null
echo "10 525 365" | "$MAPD" tile --batch --db "$DB" --viewer VT01 --out "$WORK/vt01" >/dev/null
check "anonymous: no needs, no makers" \
    bash -c "! ogrinfo -ro -q '$WORK/out/10/525/365.mvt' 2>/dev/null | grep -qE 'needs|makers'"
check "--viewer all: a needs layer" bash -c "ogrinfo -ro -q '$WORK/all/10/525/365.mvt' 2>/dev/null | grep -q needs"
live=$(sqlite3 "$DB" "SELECT count(*) FROM posts WHERE hidden = 0 AND (status = 'claimed' OR (status = 'open' AND expires_at > unixepoch()))")
all=$(needs_count "$WORK/all/10/525/365.mvt")
check "--viewer all: the needs layer counts every live post ($live)" [ "${all:-0}" = "$live" ]
member=$(needs_count "$WORK/vt01/10/525/365.mvt")
check "--viewer VT01: some needs, fewer than staff see (${member:-0} of $all)" \
    [ "${member:-0}" -gt 0 -a "${member:-0}" -lt "${all:-0}" ]

# ---- the pyramid ---------------------------------------------------------------------------
rc=0
"$MAPD" tile --pyramid --minzoom 10 --maxzoom 15 --db "$DB" --out "$WORK/pyr" >"$WORK/summary" 2>"$WORK/err" || rc=$?
check "--pyramid: exit 0, no progress bar when stderr is not a terminal" [ "$rc" = 0 -a ! -s "$WORK/err" ]
check "--pyramid: one summary line" grep -Eq '^pyramid: zooms 10 to 15, [0-9]+ tiles drawn, [0-9]+ written \([0-9]+ empty skipped\), [0-9]+ bytes, [0-9.]+ s$' "$WORK/summary"
written=$(sed -nE 's/.* ([0-9]+) written .*/\1/p' "$WORK/summary")
bytes=$(sed -nE 's/.*, ([0-9]+) bytes,.*/\1/p' "$WORK/summary")
check "--pyramid: as many files as written ($written)" [ "$(find "$WORK/pyr" -type f | wc -l)" = "$written" ]
check "--pyramid: as many bytes as the summary says" \
    [ "$(find "$WORK/pyr" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')" = "$bytes" ]
check "--pyramid: no empty file" [ -z "$(find "$WORK/pyr" -type f -empty)" ]
check "--pyramid: zooms 10 to 15 only" [ "$(ls "$WORK/pyr" | sort -n | tr '\n' ' ')" = "10 11 12 13 14 15 " ]
check "--pyramid: the city's tile at zoom 10 is there" cmp -s "$WORK/pyr/10/525/365.mvt" "$WORK/out/10/525/365.mvt"
check "--pyramid: tiles inside the city's box only (x 8411 to 8414 at zoom 14)" \
    [ "$(ls "$WORK/pyr/14" | sort -n | sed -n '1p;$p' | tr '\n' ' ')" = "8411 8414 " ]

# ---- bad input -------------------------------------------------------------------------------
# usage_error NAME STDIN -- COMMAND...: exit 2, one line on stderr, nothing on stdout.
usage_error() {
    local name=$1 input=$2 rc=0; shift 3
    "$@" <<<"$input" >"$WORK/out.txt" 2>"$WORK/err" || rc=$?
    if [ "$rc" = 2 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && [ ! -s "$WORK/out.txt" ]; then
        pass "$name: $(cat "$WORK/err")"
    else
        fail "$name: exit $rc, $(wc -l <"$WORK/err") stderr lines, $(wc -c <"$WORK/out.txt") stdout bytes"
        sed 's/^/    /' "$WORK/err"
    fi
}
for bad in "10 525" "10 525 365 7" "10 x 365" "23 0 0" "2 4 0" "-1 0 0" "10 525 365.5" "10,525,365"; do
    usage_error "--batch line '$bad'" "$bad" -- "$MAPD" tile --batch --db "$DB"
done
check "--batch: the error names the line" \
    bash -c "printf '10 525 365\n\nnonsense\n' | '$MAPD' tile --batch --db '$DB' 2>&1 >/dev/null | grep -q 'line 3'"
rc=0; printf '10 525 365\n3 9 0\n' | "$MAPD" tile --batch --db "$DB" >"$WORK/out.txt" 2>/dev/null || rc=$?
check "--batch: tiles before a bad line are printed, then exit 2" [ "$rc" = 2 -a "$(wc -l <"$WORK/out.txt")" = 1 ]
usage_error "--batch: a line too long" "$(head -c 400 /dev/zero | tr '\0' 1)" -- "$MAPD" tile --batch --db "$DB"
usage_error "--batch with a tile address too" "" -- "$MAPD" tile --batch 1 2 3 --db "$DB"
usage_error "--batch and --pyramid together" "" -- "$MAPD" tile --batch --pyramid --db "$DB"
usage_error "--batch with --minzoom" "" -- "$MAPD" tile --batch --minzoom 3 --db "$DB"
usage_error "--viewer naming no neighbourhood" "10 525 365" -- "$MAPD" tile --batch --viewer nowhere --db "$DB"
usage_error "an unknown option" "" -- "$MAPD" tile --batch --db "$DB" --colour red
usage_error "--pyramid without --out" "" -- "$MAPD" tile --pyramid --minzoom 0 --maxzoom 3 --db "$DB"
usage_error "--pyramid without --maxzoom" "" -- "$MAPD" tile --pyramid --minzoom 0 --out "$WORK/p" --db "$DB"
for range in "5 4" "0 19" "-1 3" "a 3" "0 3x" "0 99999999999"; do
    set -- $range
    usage_error "--pyramid --minzoom $1 --maxzoom $2" "" -- \
        "$MAPD" tile --pyramid --minzoom "$1" --maxzoom "$2" --out "$WORK/p" --db "$DB"
done
check "refused pyramids created no directory" [ ! -e "$WORK/p" ]

# A neighbourhood over much of Europe: zoom 18 would be hundreds of millions of tiles.
cat >"$WORK/big.geojson" <<'EOF'
{"type": "FeatureCollection", "features": [{"type": "Feature",
 "properties": {"id": "EU", "name": "Europe"},
 "geometry": {"type": "Polygon", "coordinates": [[[-10, 35], [20, 35], [20, 60], [-10, 60], [-10, 35]]]}}]}
EOF
"$MAPD" import neighbourhoods "$WORK/big.geojson" --db "$WORK/big.sqlite" >/dev/null
usage_error "--pyramid over 5 million tiles" "" -- \
    "$MAPD" tile --pyramid --minzoom 0 --maxzoom 18 --out "$WORK/big" --db "$WORK/big.sqlite"
check "the refusal says how many tiles" bash -c "grep -q 'more than 5000000' '$WORK/err'"
check "the refused pyramid wrote nothing" [ ! -e "$WORK/big" ]
finish
