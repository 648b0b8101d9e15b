#!/usr/bin/env bash
# tests/scale/test_small.sh MAPD SCALE_ACCURACY — the synthetic France at its
# small preset (about 250,000 addresses in 321 communes, 480 neighbourhoods),
# end to end: generated twice (the same content), imported, imported again
# (nothing changes, and the import says so), geocoded with the accuracy
# floors, drawn as tiles (read back by GDAL's MVT driver), and served. The
# national preset is the benchmark tests/bench/scale.sh.
MAPD=$1
ACCURACY=$2
source "$(dirname "$0")/../cli/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
export MAPD_ALLOW_ROOT=1
DB=$WORK/small.sqlite

# ---- the data ----
/usr/bin/python3 "$HERE/make_france.py" small "$WORK/a" >"$WORK/gen-a.out"
/usr/bin/python3 "$HERE/make_france.py" small "$WORK/b" >"$WORK/gen-b.out"
cat "$WORK/gen-a.out"
check "the generator is deterministic (same counts and checksums twice)" \
    diff <(sed 1s/' in [0-9]* s$'// "$WORK/gen-a.out") <(sed 1s/' in [0-9]* s$'// "$WORK/gen-b.out")
read -r n_nb n_addr < <(sed -n 's/.*, \([0-9]*\) neighbourhoods, \([0-9]*\) addresses.*/\1 \2/p' "$WORK/gen-a.out")
check "about 500 neighbourhoods and 200,000 addresses ($n_nb, $n_addr)" \
    [ "$n_nb" -ge 400 -a "$n_nb" -le 600 -a "$n_addr" -ge 150000 -a "$n_addr" -le 350000 ]
check "street names repeat across communes, as in France" \
    [ "$(zcat "$WORK/a/addresses.csv.gz" | awk -F';' 'NR > 1 && $4 == "Rue de la République" { c[$6] = 1 }
         END { print length(c) }')" -ge 10 ]
check "suffixes are spelt as BAN does (b) and as BANO does (bis)" \
    bash -c "zcat '$WORK/a/addresses.csv.gz' | awk -F';' '\$3 == \"b\" { b = 1 } \$3 == \"bis\" { bis = 1 } END { exit !(b && bis) }'"

# ---- import ----
"$MAPD" import neighbourhoods "$WORK/a/neighbourhoods.gpkg" --db "$DB" >"$WORK/nb.out" 2>"$WORK/nb.err"
cat "$WORK/nb.out"

# A disk that fills up during the address import: the import fails, says
# why, and leaves the database as it was (a tmpfs of the test's own, which
# needs root; elsewhere this part is skipped and says so).
mkdir -p "$WORK/small-disk"
if mount -t tmpfs -o size=24m tmpfs "$WORK/small-disk" 2>/dev/null; then
    cp "$DB" "$WORK/small-disk/full.sqlite"
    before=$(db_digest "$WORK/small-disk/full.sqlite")
    rc=0
    "$MAPD" import addresses "$WORK/a/addresses.csv.gz" --db "$WORK/small-disk/full.sqlite" \
        >"$WORK/full.out" 2>"$WORK/full.err" || rc=$?
    cat "$WORK/full.err"
    check "an import that fills the disk fails (exit 1)" [ "$rc" = 1 ]
    check "and says the disk is full, and that nothing was changed" \
        grep -qi "full.*nothing was changed" "$WORK/full.err"
    check "the database is as it was" [ "$before" = "$(db_digest "$WORK/small-disk/full.sqlite")" ]
    check "and intact" [ "$(sqlite3 "$WORK/small-disk/full.sqlite" 'PRAGMA integrity_check')" = ok ]
    umount "$WORK/small-disk"
else
    echo "# skipped: the disk-full import (mounting a tmpfs needs root)"
fi
check "every neighbourhood imported, none repaired" grep -q "imported $n_nb neighbourhoods.* 0 rejected.* 0 repaired" "$WORK/nb.out"
pairs=$(sed -n 's/.* \([0-9]*\) contiguous pairs.*/\1/p' "$WORK/nb.out")
check "the polygons tile: each touches about 8 others ($pairs pairs)" \
    [ "$pairs" -ge $((n_nb * 7 / 2)) -a "$pairs" -le $((n_nb * 4)) ]
"$MAPD" import addresses "$WORK/a/addresses.csv.gz" --db "$DB" >"$WORK/addr.out" 2>"$WORK/addr.err"
cat "$WORK/addr.out"
check "every address imported" grep -q "imported $n_addr addresses.* 0 rejected.* $n_addr new or changed" "$WORK/addr.out"
check "the streets' first lines, their R*Tree built in bulk: consistent and complete" \
    [ "$(sqlite3 "$DB" "SELECT rtreecheck('idx_streets_geom') || ' ' || ((SELECT count(*) FROM idx_streets_geom)
                        = (SELECT count(*) FROM streets WHERE geom IS NOT NULL)) || ' ' || (SELECT count(*) > 1000 FROM streets)")" = "ok 1 1" ]
before=$(db_digest "$DB")
"$MAPD" import addresses "$WORK/a/addresses.csv.gz" --db "$DB" >"$WORK/again.out" 2>"$WORK/again.err"
cat "$WORK/again.out"
check "a second import of the same file says nothing changed" grep -q "^nothing changed" "$WORK/again.out"
check "and changes nothing, not even the audit log" [ "$before" = "$(db_digest "$DB")" ]

# ---- geocoding: the accuracy floors ----
check "the geocoder's accuracy floors hold over the country's repeated street names" "$ACCURACY" "$DB"
line=$(zcat "$WORK/a/addresses.csv.gz" | sed -n 1000p)
IFS=';' read -r id num rep street cp insee city lon lat <<<"$line"
"$MAPD" geocode "$num$rep $street $cp $city" --db "$DB" >"$WORK/one.json"
check "a clean address finds its own id ($id)" grep -q "\"address_id\":\"$id\"" "$WORK/one.json"

# ---- the geocoder's index file ----
check "the import wrote the geocoder's index beside the database" [ -s "$DB.geocoder" ]
check "and said so" grep -q "^geocoder index built" "$WORK/addr.out"
check "the unchanged import left it as it was" bash -c "! grep -q '^geocoder index built' '$WORK/again.out'"
{ echo "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat"
  echo "${insee}_new001;9997;;$street;$cp;$insee;$city;$lon;$lat"; } | gzip >"$WORK/one.csv.gz"
"$MAPD" import addresses "$WORK/one.csv.gz" --db "$DB" >"$WORK/one.out" 2>&1
check "an import that adds an address builds the index again" grep -q "^geocoder index built" "$WORK/one.out"
"$MAPD" geocode "9997 $street $cp $city" --db "$DB" >"$WORK/new.json"
check "and the new address is found through it" grep -q "\"address_id\":\"${insee}_new001\"" "$WORK/new.json"
head -c 4096 /dev/urandom >"$DB.geocoder"
"$MAPD" geocode "9997 $street $cp $city" --db "$DB" >"$WORK/again.json"
check "an index file that is not one is built again, not used" \
    grep -q "\"address_id\":\"${insee}_new001\"" "$WORK/again.json"
check "and replaced" [ "$(stat -c %s "$DB.geocoder")" -gt 4096 ]

# ---- tiles, read back by GDAL ----
tile_of() {   # tile_of Z LON LAT -> "Z X Y"
    awk -v z="$1" -v lon="$2" -v lat="$3" 'BEGIN { n = 2 ^ z; pi = atan2(0, -1); r = lat * pi / 180
        printf "%d %d %d", z, int((lon + 180) / 360 * n), int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / pi) / 2 * n) }'
}
for z in 8 12 16; do
    read -r tz tx ty <<<"$(tile_of $z "$lon" "$lat")"
    "$MAPD" tile "$tz" "$tx" "$ty" --db "$DB" --viewer all >"$WORK/t$z.mvt"
    ogrinfo -ro -so -al "$WORK/t$z.mvt" >"$WORK/t$z.txt" 2>&1 || true
    check "the tile $tz/$tx/$ty holding that address draws its neighbourhood" \
        grep -q "^Layer name: neighbourhoods" "$WORK/t$z.txt"
done
check "at z16 the address points are drawn" grep -q "^Layer name: addresses" "$WORK/t16.txt"

# ---- serving ----
"$MAPD" serve --db "$DB" --listen 127.0.0.1:0 --no-web >"$WORK/serve.out" 2>"$WORK/serve.log" &
pid=$!
addr=
for _ in $(seq 300); do
    addr=$(sed -n '1s|^mapd: serving http://\([0-9.]*:[0-9]*\)/.*|\1|p' "$WORK/serve.out")
    [ -n "$addr" ] && break
    sleep 0.1
done
check "mapd serve starts on the country's store" [ -n "$addr" ]
if [ -n "$addr" ]; then
    check "/healthz answers" curl -fsS -o /dev/null "http://$addr/healthz"
    check "the server mapped the geocoder's index instead of building it" \
        grep -q "geocoder of .* addresses mapped from its index file" "$WORK/serve.log"
    q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$num$rep $street $cp $city")
    curl -fsS "http://$addr/api/geocode?q=$q" >"$WORK/api.json"
    check "GET /api/geocode finds it too, in its neighbourhood" \
        python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))[0]; sys.exit(not (r["address_id"] == sys.argv[2] and r["neighbourhood"]))' \
        "$WORK/api.json" "$id"
fi
kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
finish
