#!/usr/bin/env bash
# tests/cli/export.sh MAPD — `mapd export`: every format in both CRSs read
# back by GDAL (feature count equal to the store's own count for the filter,
# CRS, field types), the filters, bad input refused with one line and no
# file, and nothing private in any file (names, emails, titles and bodies of
# needs, home points).
MAPD=$1
source "$(dirname "$0")/lib.sh"
SAMPLE=$(dirname "$0")/../../geodata/samples/paris
DB=$WORK/paris.sqlite
OUT=$WORK/files
mkdir -p "$OUT"
"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$DB" >/dev/null
"$MAPD" import addresses "$SAMPLE/addresses.csv.gz" --db "$DB" >/dev/null 2>&1
"$MAPD" import shops "$SAMPLE/shops.geojson" --db "$DB" >/dev/null 2>&1
"$MAPD" seed --db "$DB" --posts 3000 >/dev/null
# Private text to look for: a need's title and body, a member's name.
sqlite3 "$DB" "UPDATE posts SET title = 'Titre privé Zorglub', body = 'Code porte 48B21 Quintal'
               WHERE id = (SELECT min(id) FROM posts);
               UPDATE members SET display_name = 'Zéphyrine Vautrin' WHERE id = (SELECT min(author_id) FROM posts);
               UPDATE posts SET status = 'claimed', claimed_by = (SELECT min(id) FROM members), claimed_at = created_at
               WHERE id % 7 = 0;
               UPDATE posts SET expires_at = unixepoch() - 60 WHERE id % 11 = 0 AND status = 'open';"
q() { sqlite3 "$DB" "$1"; }
NOW=$(date +%s)

# ogrinfo's feature count of the file's only (or named) layer.
feature_count() { ogrinfo -ro -so -al "$@" 2>/dev/null | sed -n 's/^Feature Count: //p' | head -1; }

# ---- every format in both CRSs ----
NEEDS=$(q "SELECT count(*) FROM posts")
for fmt in gpkg geojson csv shp fgb kml xlsx; do
    for crs in EPSG:4326 EPSG:2154; do
        ext=$fmt; [ $fmt = shp ] && ext=shp.zip
        f=$OUT/needs-${crs#EPSG:}.$ext
        if [ $fmt = kml ] && [ $crs = EPSG:2154 ]; then
            expect_failure "kml in EPSG:2154 is refused" "$DB" -- "$MAPD" export --db "$DB" --layer needs --format kml --crs $crs --out "$f"
            check "no kml file left" [ ! -e "$f" ]
            continue
        fi
        "$MAPD" export --db "$DB" --layer needs --format $fmt --crs $crs --out "$f" >"$WORK/msg" 2>&1 \
            || { fail "$fmt $crs: export failed: $(cat "$WORK/msg")"; continue; }
        oo=(); [ $fmt = csv ] && oo=(-oo AUTODETECT_TYPE=YES)
        info=$(ogrinfo -ro -so -al "${oo[@]}" "$f" 2>&1)
        n=$(sed -n 's/^Feature Count: //p' <<<"$info" | head -1)
        check "$fmt $crs: $NEEDS features, as the store holds (got $n)" [ "$n" = "$NEEDS" ]
        case $fmt in
        csv|xlsx)
            # No CRS in the file: the coordinate columns say it.
            if [ $crs = EPSG:4326 ]; then cols="lon lat"; else cols="x y"; fi
            for c in $cols; do
                check "$fmt $crs: column $c is a number" grep -Eq "^$c: Real" <<<"$info"
            done
            # Coordinates in the right range: Paris is near 2.35 E, 48.86 N, or
            # x 652,000 m, y 6,862,000 m in Lambert-93.
            first=$(ogr2ogr -f CSV /vsistdout/ "${oo[@]}" "$f" 2>/dev/null | sed -n 2p | tr -d '"\r')
            x=$(awk -F, '{print $(NF-1)}' <<<"$first"); y=$(awk -F, '{print $NF}' <<<"$first")
            if [ $crs = EPSG:4326 ]; then
                check "$fmt $crs: lon $x lat $y in Paris" awk -v x="$x" -v y="$y" 'BEGIN{exit !(x>2.2 && x<2.5 && y>48.8 && y<48.95)}'
            else
                check "$fmt $crs: x $x y $y in Lambert-93 Paris" awk -v x="$x" -v y="$y" 'BEGIN{exit !(x>640000 && x<665000 && y>6855000 && y<6870000)}'
            fi
            ;;
        *)
            if [ $crs = EPSG:2154 ]; then
                check "$fmt $crs: CRS is Lambert-93" grep -q 'ID\["EPSG",2154\]' <<<"$info"
                check "$fmt $crs: extent in metres" grep -Eq '^Extent: \(6[0-9]{5}\.[0-9]+, 68[0-9]{5}\.[0-9]+\)' <<<"$info"
            else
                check "$fmt $crs: CRS is WGS 84" grep -Eq 'ID\["EPSG",4326\]|GEOGCRS\["WGS 84"' <<<"$info"
                check "$fmt $crs: extent in lon/lat order" grep -Eq '^Extent: \(2\.[0-9]+, 48\.[0-9]+\)' <<<"$info"
            fi
            ;;
        esac
        # Field types: dates are dates where the format has them.
        case $fmt in
        gpkg|fgb|xlsx|geojson)
            check "$fmt $crs: created_at is a DateTime" grep -q '^created_at: DateTime' <<<"$info"
            check "$fmt $crs: category is a String" grep -q '^category: String' <<<"$info" ;;
        csv)
            check "$fmt $crs: created_at reads as a DateTime" grep -q '^created_at: DateTime' <<<"$info" ;;
        shp|kml)
            check "$fmt $crs: created_at is ISO 8601 text" grep -q '^created_at: String' <<<"$info" ;;
        esac
        case $fmt in gpkg|fgb|shp)
            check "$fmt $crs: id is a 64-bit integer" grep -q '^id: Integer64' <<<"$info" ;;
        esac
    done
done
check "xlsx opened by GDAL's XLSX driver" grep -q "using driver \`XLSX'" <<<"$(ogrinfo -ro -so "$OUT/needs-4326.xlsx" 2>&1)"
zl=$(python3 -m zipfile -l "$OUT/needs-2154.shp.zip" | awk 'NR>1{print $1}' | sort | tr '\n' ' ')
check "the zip holds the Shapefile's parts and README.txt ($zl)" [ "$zl" = "README.txt needs.cpg needs.dbf needs.prj needs.shp needs.shx " ]
check "README.txt says the data is anonymised" grep -q "Anonymised export" <(python3 -c 'import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read("README.txt").decode())' "$OUT/needs-2154.shp.zip")
check "the GeoPackage says it is anonymised (gpkg_metadata)" grep -q "Anonymised export" <(sqlite3 "$OUT/needs-4326.gpkg" "SELECT metadata FROM gpkg_metadata")
check "the GeoPackage layer's description says it" grep -q "Anonymised export" <(sqlite3 "$OUT/needs-4326.gpkg" "SELECT description FROM gpkg_contents")

# ---- other layers ----
for layer in shops makers neighbourhoods; do
    case $layer in
    shops) want=$(q "SELECT count(*) FROM shops") ;;
    makers) want=$(q "SELECT count(*) FROM makers") ;;
    neighbourhoods) want=$(q "SELECT count(*) FROM neighbourhoods") ;;
    esac
    for fmt in gpkg csv; do
        f=$OUT/$layer.$fmt
        "$MAPD" export --db "$DB" --layer $layer --format $fmt --crs EPSG:2154 --out "$f" >/dev/null 2>&1
        check "$layer $fmt: $want features" [ "$(feature_count "$f")" = "$want" ]
    done
done
check "neighbourhoods csv: polygons as WKT" grep -q '^"\?MULTIPOLYGON' <(cut -c1-20 "$OUT/neighbourhoods.csv" | sed 1d | sed 's/^\xEF\xBB\xBF//')
check "neighbourhoods gpkg: multipolygons" grep -q "Geometry: Multi Polygon" <(ogrinfo -ro -so -al "$OUT/neighbourhoods.gpkg")

# ---- filters ----
NB=$(q "SELECT neighbourhood_id FROM posts GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
filter() {   # NAME WANT ARGS...: the gpkg export with ARGS has WANT features
    local name=$1 want=$2; shift 2
    rm -f "$OUT/f.gpkg"
    "$MAPD" export --db "$DB" --layer needs --format gpkg --out "$OUT/f.gpkg" "$@" >/dev/null 2>&1
    check "filter $name: $want features" [ "$(feature_count "$OUT/f.gpkg")" = "$want" ]
}
filter "category=groceries" "$(q "SELECT count(*) FROM posts WHERE category = 'groceries'")" --category groceries
filter "status=claimed" "$(q "SELECT count(*) FROM posts WHERE status = 'claimed'")" --status claimed
filter "status=expired" "$(q "SELECT count(*) FROM posts WHERE status = 'open' AND expires_at <= $NOW")" --status expired
filter "status=open (not expired)" "$(q "SELECT count(*) FROM posts WHERE status = 'open' AND expires_at > $NOW")" --status open
filter "neighbourhood=$NB" "$(q "SELECT count(*) FROM posts WHERE neighbourhood_id = '$NB'")" --neighbourhood "$NB"
DAY=$(q "SELECT date(created_at, 'unixepoch') FROM posts GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
filter "since=$DAY until=$DAY" "$(q "SELECT count(*) FROM posts WHERE date(created_at, 'unixepoch') = '$DAY'")" --since "$DAY" --until "$DAY"
T=$(q "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', created_at, 'unixepoch') FROM posts ORDER BY created_at LIMIT 1 OFFSET 1000")
filter "since=$T (RFC 3339)" "$(q "SELECT count(*) FROM posts WHERE created_at >= unixepoch('$T')")" --since "$T"
filter "until with an offset" "$(q "SELECT count(*) FROM posts WHERE created_at <= unixepoch('$T') - 3600")" --until "${T%Z}+01:00"
filter "category and neighbourhood" "$(q "SELECT count(*) FROM posts WHERE category = 'errands' AND neighbourhood_id = '$NB'")" --category errands --neighbourhood "$NB"

# ---- audit: the command line, once per export that succeeded ----
check "exports are audited as the command line" [ "$(q "SELECT count(*) FROM audit_log WHERE action = 'export' AND actor_id IS NOT NULL")" = 0 ]
last=$(q "SELECT target || ' ' || detail FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 1")
check "the audit detail has format, crs, filters and rows ($last)" grep -q '^needs {"format":"gpkg","crs":"EPSG:4326","rows":[0-9]*,"filters":{"neighbourhood":"'"$NB"'","category":"errands"' <<<"$last"

# ---- bad input: one line, non-zero, no file, no audit ----
audits=$(q "SELECT count(*) FROM audit_log")
refuse() {   # NAME FILE ARGS...
    local name=$1 f=$2 rc=0; shift 2
    "$MAPD" export --db "$DB" "$@" >"$WORK/o" 2>"$WORK/e" || rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l <"$WORK/e")" = 1 ] && [ ! -s "$WORK/o" ] && [ ! -e "$f" ]; then
        pass "$name: $(cat "$WORK/e")"
    else
        fail "$name: exit $rc, $(wc -l <"$WORK/e") lines, file $( [ -e "$f" ] && echo LEFT || echo absent)"
        cat "$WORK/e"
    fi
}
refuse "unknown format" "$OUT/x.gpx" --layer needs --format gpx --out "$OUT/x.gpx"
refuse "unknown layer" "$OUT/x.gpkg" --layer members --format gpkg --out "$OUT/x.gpkg"
refuse "unknown crs" "$OUT/x.gpkg" --layer needs --format gpkg --crs EPSG:3857 --out "$OUT/x.gpkg"
refuse "bad date" "$OUT/x.gpkg" --layer needs --format gpkg --since 2026-02-30 --out "$OUT/x.gpkg"
refuse "bad time" "$OUT/x.gpkg" --layer needs --format gpkg --until 2026-02-03T25:00:00Z --out "$OUT/x.gpkg"
refuse "since after until" "$OUT/x.gpkg" --layer needs --format gpkg --since 2026-03-02 --until 2026-03-01 --out "$OUT/x.gpkg"
refuse "unknown category" "$OUT/x.gpkg" --layer needs --format gpkg --category caviar --out "$OUT/x.gpkg"
refuse "unknown status" "$OUT/x.gpkg" --layer needs --format gpkg --status lost --out "$OUT/x.gpkg"
refuse "unknown neighbourhood" "$OUT/x.gpkg" --layer needs --format gpkg --neighbourhood 99999 --out "$OUT/x.gpkg"
refuse "dates on a layer without them" "$OUT/x.gpkg" --layer shops --format gpkg --since 2026-01-01 --out "$OUT/x.gpkg"
refuse "unwritable out path" "$OUT/nowhere/x.gpkg" --layer needs --format gpkg --out "$OUT/nowhere/x.gpkg"
refuse "unwritable out path (shp)" "$OUT/nowhere/x.zip" --layer needs --format shp --out "$OUT/nowhere/x.zip"
refuse "missing --out" "$OUT/x.gpkg" --layer needs --format gpkg
check "failed exports are not audited" [ "$(q "SELECT count(*) FROM audit_log")" = "$audits" ]
check "no temporary file left in the output directory" [ -z "$(ls -A "$OUT" | grep '^\.')" ]

# ---- privacy: every file, as text, against the private data ----
for f in "$OUT"/*; do
    [ -f "$f" ] || continue
    text=$WORK/text
    { ogr2ogr -f CSV /vsistdout/ -lco GEOMETRY=AS_XY "$f" 2>/dev/null || true; strings "$f"; } >"$text"
    case $f in *.zip) python3 -c 'import sys,zipfile
z=zipfile.ZipFile(sys.argv[1])
for n in z.namelist(): sys.stdout.write(z.read(n).decode("latin-1"))' "$f" >>"$text" ;; esac
    leaks=""
    for s in "Zorglub" "48B21" "Zéphyrine" "Vautrin" "@example" "$(q "SELECT title FROM posts WHERE id = 2")"; do
        grep -qF "$s" "$text" && leaks="$leaks [$s]"
    done
    check "no name, email, title or body in $(basename "$f")" [ -z "$leaks" ]
done
# Home points: no exported point within a metre of a member's home.
"$MAPD" export --db "$DB" --layer makers --format csv --out "$OUT/makers-4326.csv" >/dev/null
sqlite3 -csv "$DB" "SELECT home_lon, home_lat FROM members WHERE home_lon IS NOT NULL" >"$WORK/homes.csv"
near=$(python3 - "$WORK/homes.csv" "$OUT/needs-4326.csv" "$OUT/makers-4326.csv" <<'EOF'
import csv, sys
homes = {(round(float(a), 5), round(float(b), 5)) for a, b in csv.reader(open(sys.argv[1]))}
n = hits = 0
for path in sys.argv[2:]:
    rows = csv.DictReader(open(path, encoding="utf-8-sig"))
    for r in rows:
        n += 1
        p = (round(float(r["lon"]), 5), round(float(r["lat"]), 5))
        hits += p in homes
print(n, hits)
EOF
)
check "no exported point is a member's home (points, at a home: $near)" test "${near#* }" = 0 -a "${near% *}" -gt 3000
finish
