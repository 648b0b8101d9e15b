#!/bin/bash
# tests/pg/test_import_pg.sh MAPD SAMPLE_DIR — the PostgreSQL imports give
# what the SQLite imports give. On PostgreSQL `mapd import addresses` stages
# each batch with COPY and writes it with one UPDATE and one INSERT, and the
# streets derived from the addresses are staged and written the same way
# (import_addresses.c: store_batch_pg; streets.c: rebuild_pending_pg); on
# SQLite both go row by row. The two must give the same rows, the same ids
# and the same report counts.
#
# Paris (neighbourhoods, addresses, shops) is imported into a SQLite file and
# into a fresh database of a private PostgreSQL 15 (pg_private.sh); then a
# modified copy of the addresses (streets renamed, numbers moved, a street
# name holding a backslash and a tab, ids met twice in the file, new ids) is
# imported into both; then the same file again. After each: the same report
# (timings left out), the same addresses and the same streets, ids included
# (row dumps compared byte for byte; psql and sqlite3 print these
# coordinates alike, so no rounding is needed). Last, broken files on
# PostgreSQL: a truncated gzip is refused in one line and changes nothing,
# though batches were written before its end was found missing. A row whose
# text is not UTF-8 is rejected by its line on both engines.
#
# An id met twice with different values is written twice, the later row
# winning, so re-importing that file reports those ids as changed again (on
# both engines, as row by row); "nothing changed" is checked on the same file
# without the earlier rows of those ids, which is what the store holds.
set -eu
MAPD=${1:?MAPD}
SAMPLE=${2:?SAMPLE_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../cli/lib.sh"
source "$HERE/pg_private.sh"
pg_private_test_work
# A PostgreSQL store keeps its geocoder index in $TMPDIR (geodata_pg_cache_path):
# here, so that it goes with the rest.
export TMPDIR=$WORK

die() { echo "FAIL - $*"; echo "$PASSES passed, $((FAILS + 1)) failed"; exit 1; }

LITE=$WORK/store.sqlite
lite() { sqlite3 -bail -batch -cmd ".load mod_spatialite" "$LITE" "$@"; }
pg_private_start "$WORK/pg" >/dev/null || die "no private PostgreSQL"
pg() { psql -X -q -At -F'|' -v ON_ERROR_STOP=1 "$PG_CONNINFO" "$@"; }

# import_both KIND FILE NAME WHAT: imports FILE into both stores; each one's
# output, timings removed (" in 1.23 s", the streets note's ", 0.33 s)", the
# "rows loaded in" note), is in $WORK/NAME.lite and $WORK/NAME.pg, and the
# two must be the same (a check named after WHAT).
untimed() { sed -E -e '/^  rows loaded in /d' -e 's/ in [0-9.]+ s//' -e 's/, [0-9.]+ s\)$/)/'; }
import_both() {
    local kind=$1 file=$2 name=$3 engine db
    for engine in lite pg; do
        db=$LITE; [ "$engine" = pg ] && db=$PG_CONNINFO
        "$MAPD" import "$kind" "$file" --db "$db" >"$WORK/out" 2>"$WORK/err" \
            || { cat "$WORK/err"; die "mapd import $kind $file on $engine"; }
        cat "$WORK/out" "$WORK/err" | untimed >"$WORK/$name.$engine"
    done
    same "$4: the same report on both: $(head -n 1 "$WORK/$name.pg")" \
        "$WORK/$name.lite" "$WORK/$name.pg"
}
# changed NAME: the "N new or changed" of an import's report, 0 for "nothing changed".
changed() {
    local n; n=$(sed -n 's/^imported .*, \([0-9]*\) new or changed$/\1/p' "$WORK/$1")
    if [ -n "$n" ]; then echo "$n"; elif grep -q '^nothing changed' "$WORK/$1"; then echo 0; else echo "?"; fi
}

# same WHAT A B: passes when the two files are byte-identical, else shows the
# first lines that differ.
same() {
    if cmp -s "$2" "$3"; then
        pass "$1 ($(wc -l <"$2") lines)"
    else
        fail "$1 (< $(basename "$2"), > $(basename "$3"))"
        diff "$2" "$3" >"$WORK/diff" || true
        head -n 12 "$WORK/diff" | cut -c1-180 | sed 's/^/    /'
        echo "    ... $(grep -c '^[<>]' "$WORK/diff") lines differ"
    fi
}

# dump NAME: the addresses and streets of both stores, ids included, in
# $WORK/NAME.{addresses,streets}.{lite,pg}.
ADDRESSES="SELECT id, source_id, number, rep, street, postcode, insee, city,
                  coalesce(neighbourhood_id, ''), ST_X(geom), ST_Y(geom) FROM addresses ORDER BY id"
dump_pg() {
    pg -c "$ADDRESSES" >"$WORK/$1.addresses.pg"
    pg -c "SELECT id, insee, name, part, upper(encode(ST_AsBinary(geom), 'hex')) FROM streets
           ORDER BY id" >"$WORK/$1.streets.pg"
}
dump() {
    lite "$ADDRESSES" >"$WORK/$1.addresses.lite"
    lite "SELECT id, insee, name, part, hex(ST_AsBinary(geom)) FROM streets ORDER BY id" \
        >"$WORK/$1.streets.lite"
    dump_pg "$1"
}
# The change feed and the streets' ids on PostgreSQL.
pg_feed() { pg -c "SELECT count(*) || ' changes, last ' || coalesce(max(seq), 0) FROM changes" \
               -c "SELECT 'streets up to id ' || coalesce(max(id), 0) FROM streets" | paste -sd' '; }

# ---- 1. Paris on both ------------------------------------------------------------
import_both neighbourhoods "$SAMPLE/neighbourhoods.geojson" neighbourhoods "neighbourhoods"
import_both addresses "$SAMPLE/addresses.csv.gz" addresses "addresses"
import_both shops "$SAMPLE/shops.geojson" shops "shops"

# ---- 2, 3. the same addresses and streets ------------------------------------------
dump first
[ -s "$WORK/first.streets.pg" ] || die "no streets derived on PostgreSQL"
same "the same addresses, ids included" "$WORK/first.addresses.lite" "$WORK/first.addresses.pg"
same "the same streets, ids included" "$WORK/first.streets.lite" "$WORK/first.streets.pg"

# ---- 4. a modified file ------------------------------------------------------------
# Data row n of the sample: every 1000th's street gets " Prolongée", every
# 1500th's number +2; the rows of one street are renamed to a name holding a
# backslash and a tab (COPY's escapes; in a ';' file a tab is an ordinary
# byte); row 20 comes again after row 60 (in the same batch of the PostgreSQL
# path) and row 7 again at the end (in another), each with another street;
# after every row n with n % 20000 = 500, a new id (number +1000, 10 m east).
# held.csv is the same without the earlier rows of the ids met twice: what
# the store holds after the import (for check 5). mod.expect gets the number
# of rows that must change, the ids met twice, the rows renamed.
MOD=$WORK/mod.csv
gzip -dc "$SAMPLE/addresses.csv.gz" | LC_ALL=C awk -v held="$WORK/held.csv" -v expect="$WORK/mod.expect" '
    function out(line, kept) { print line; if (kept) print line > held }
    function with_street(line, street,   f, i, s) {
        split(line, f, ";"); f[4] = street; s = f[1]
        for (i = 2; i <= NF; i++) s = s ";" f[i]
        return s
    }
    BEGIN { FS = OFS = ";" }
    NR == 1 { out($0, 1); next }
    { n = NR - 1; orig = $0 }
    n == 7 { far = $0; far_id = $1 }
    n == 20 { near = $0; near_id = $1 }
    n % 1000 == 0 { $4 = $4 " Prolongée" }
    n % 1500 == 0 { $2 = $2 + 2 }
    $4 == "Rue Sainte-Opportune" { $4 = "Rue Sainte-Opportune \\ Sud\tEst"; renamed++ }
    { out($0, n != 7 && n != 20); changed += ($0 != orig) }
    n == 60 { out(with_street(near, "Rue du Doublon Proche"), 1); changed++ }
    n % 20000 == 500 { $1 = $1 "_n"; $2 = $2 + 1000; $8 = sprintf("%.6f", $8 + 0.0001); out($0, 1); changed++ }
    END {
        out(with_street(far, "Rue du Doublon Lointain"), 1); changed++
        print changed " " near_id " " far_id " " renamed + 0 > expect
    }' >"$MOD"
read -r EXPECTED NEAR_ID FAR_ID RENAMED <"$WORK/mod.expect"
[ "$RENAMED" -gt 0 ] || die "the sample has no 'Rue Sainte-Opportune' to rename"
[ "$EXPECTED" -gt 0 ] || die "the modified file changes no row"

import_both addresses "$MOD" modified "the modified file"
check "  $(changed modified.pg) new or changed on both: the $EXPECTED rows the file changes" \
    [ "$(changed modified.lite) $(changed modified.pg)" = "$EXPECTED $EXPECTED" ]
dump modified
same "the same addresses, ids included" "$WORK/modified.addresses.lite" "$WORK/modified.addresses.pg"
same "the same streets, ids included" "$WORK/modified.streets.lite" "$WORK/modified.streets.pg"
# Whether what differs above is the ids alone.
lite "SELECT source_id, number, rep, street, postcode, insee, city, coalesce(neighbourhood_id, ''),
             ST_X(geom), ST_Y(geom) FROM addresses ORDER BY source_id" >"$WORK/byname.addresses.lite"
pg -c "SELECT source_id, number, rep, street, postcode, insee, city, coalesce(neighbourhood_id, ''),
              ST_X(geom), ST_Y(geom) FROM addresses ORDER BY source_id" >"$WORK/byname.addresses.pg"
same "  the same addresses by source id, ids left out" \
    "$WORK/byname.addresses.lite" "$WORK/byname.addresses.pg"
lite "SELECT insee, name, part, hex(ST_AsBinary(geom)) FROM streets ORDER BY insee, name, part" \
    >"$WORK/byname.streets.lite"
pg -c "SELECT insee, name, part, upper(encode(ST_AsBinary(geom), 'hex')) FROM streets
       ORDER BY insee, name, part" >"$WORK/byname.streets.pg"
same "  the same streets by commune, name and part, ids left out" \
    "$WORK/byname.streets.lite" "$WORK/byname.streets.pg"
LATER="Rue du Doublon Proche/Rue du Doublon Lointain"
LATER_SQL="SELECT street FROM addresses WHERE source_id IN ('$NEAR_ID', '$FAR_ID')
           ORDER BY source_id = '$FAR_ID'"
check "the ids met twice keep their later rows on both ($LATER)" \
    [ "$(lite "$LATER_SQL" | paste -sd/) $(pg -c "$LATER_SQL" | paste -sd/)" = "$LATER $LATER" ]
BSTAB="'Rue Sainte-Opportune \ Sud' || char(9) || 'Est'"
BSTAB_SQL="SELECT (SELECT count(*) FROM addresses WHERE street = $BSTAB) || ' addresses, '
                  || (SELECT count(*) FROM streets WHERE name = $BSTAB) || ' line'"
check "the street with a backslash and a tab is stored as written on both: $(lite "$BSTAB_SQL")" \
    [ "$(lite "$BSTAB_SQL") / $(pg -c "${BSTAB_SQL//char(9)/chr(9)}")" \
      = "$RENAMED addresses, 1 line / $RENAMED addresses, 1 line" ]

# ---- 5. the same file again ----------------------------------------------------------
FEED=$(pg_feed)
import_both addresses "$MOD" again "the modified file again"
check "  $(changed again.pg) new or changed on both: the 2 ids met twice, written twice each" \
    [ "$(changed again.lite) $(changed again.pg)" = "4 4" ]
dump again
for f in addresses streets; do
    same "  SQLite's $f as before" "$WORK/modified.$f.lite" "$WORK/again.$f.lite"
    same "  PostgreSQL's $f as before" "$WORK/modified.$f.pg" "$WORK/again.$f.pg"
done
check "  PostgreSQL's change feed and streets' ids as before ($(pg_feed))" [ "$(pg_feed)" = "$FEED" ]

# What the store holds: the modified file without the earlier rows of the ids met twice.
import_both addresses "$WORK/held.csv" held "the file of what is held"
check "  nothing changed on both" [ "$(changed held.lite) $(changed held.pg)" = "0 0" ]
dump_pg held
same "  PostgreSQL's addresses as before" "$WORK/modified.addresses.pg" "$WORK/held.addresses.pg"
same "  PostgreSQL's streets as before" "$WORK/modified.streets.pg" "$WORK/held.streets.pg"
check "  PostgreSQL's change feed and streets' ids as before ($(pg_feed))" [ "$(pg_feed)" = "$FEED" ]

# ---- 6. broken files on PostgreSQL ------------------------------------------------------
# refused FILE: `mapd import addresses FILE` on PostgreSQL exits 1 with one
# line on stderr (kept in $WORK/err) and nothing on stdout, and the store's
# addresses, streets and change feed are as they were.
refused() {
    local rc=0
    "$MAPD" import addresses "$1" --db "$PG_CONNINFO" >"$WORK/out" 2>"$WORK/err" || rc=$?
    dump_pg refused
    [ "$rc" = 1 ] && [ "$(wc -l <"$WORK/err")" = 1 ] && [ ! -s "$WORK/out" ] \
        && cmp -s "$WORK/modified.addresses.pg" "$WORK/refused.addresses.pg" \
        && cmp -s "$WORK/modified.streets.pg" "$WORK/refused.streets.pg" && [ "$(pg_feed)" = "$FEED" ]
}
# The sample's rows before the cut differ from the store's (the modified
# file's): batches are written before the end of the file is found missing.
GZ=$SAMPLE/addresses.csv.gz
head -c $(($(stat -c %s "$GZ") / 2)) "$GZ" >"$WORK/truncated.csv.gz"
check "a truncated gzip is refused, changing nothing" refused "$WORK/truncated.csv.gz"
check "  it says so ($(cat "$WORK/err"))" grep -q "truncated compressed data" "$WORK/err"

# ---- 7. a row that is not UTF-8 -------------------------------------------------------
# The sample's first 8000 rows, the 6000th's street ending in the byte 0xff:
# that row is rejected on both engines, named by its line; the others load.
gzip -dc "$GZ" | LC_ALL=C awk -F';' -v OFS=';' 'NR <= 8001 { if (NR == 6001) $4 = $4 " \377"; print }' \
    >"$WORK/latin1.csv"
import_both addresses "$WORK/latin1.csv" latin1 "a street that is not UTF-8"
check "  the row is rejected alone" grep -q ", 1 rejected," "$WORK/latin1.pg"
check "  ... named by its line" grep -q "line 6001: a field is not UTF-8 text" "$WORK/latin1.pg"
dump latin1
same "  then the same addresses, ids included" "$WORK/latin1.addresses.lite" "$WORK/latin1.addresses.pg"
same "  and the same streets" "$WORK/latin1.streets.lite" "$WORK/latin1.streets.pg"

finish
