#!/usr/bin/env bash
# tests/cli/tiles.sh MAPD — `mapd tile` and GET /tiles/Z/X/Y.mvt, decoded by
# an independent reader (GDAL's MVT driver): layers, valid polygons, the shop
# count of each tile against a count made here from the data, bad addresses.
MAPD=$1
source "$(dirname "$0")/lib.sh"
SAMPLE=$(dirname "$0")/../../geodata/samples/paris
DB=$WORK/paris.sqlite
"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$DB" >/dev/null
"$MAPD" import shops "$SAMPLE/shops.geojson" --db "$DB" >/dev/null 2>&1
sqlite3 -cmd ".load mod_spatialite" "$DB" "SELECT X(geom), Y(geom) FROM shops" >"$WORK/shops.txt"

# shops_in Z X Y: the shops whose point, snapped to the tile grid, falls in
# the tile itself (not its buffer): the count a tile must account for.
shops_in() {
    python3 - "$1" "$2" "$3" "$WORK/shops.txt" <<'PY'
import math, sys
z, x, y = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def lround(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)
n = 0
for line in open(sys.argv[4]):
    lon, lat = map(float, line.split("|"))
    s = 4096 * 2 ** z
    px = lround((lon + 180) / 360 * s - x * 4096)
    py = lround((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * s - y * 4096)
    n += 0 <= px < 4096 and 0 <= py < 4096
print(n)
PY
}

# IN_TILE: an SQL condition holding a decoded feature to the tile itself.
# Opened as a lone file, GDAL's MVT driver gives tile coordinates (y down).
IN_TILE="ST_X(geometry) >= 0 AND ST_X(geometry) < 4096 AND ST_Y(geometry) >= 0 AND ST_Y(geometry) < 4096"

# Shops merge into clusters up to zoom 14: lone shops count one, clusters
# their point_count, and together they account for every shop of the tile.
for t in "12 2074 1409" "14 8298 5636" "16 33196 22546" "10 518 352" "15 16598 11273"; do
    set -- $t
    "$MAPD" tile "$1" "$2" "$3" --db "$DB" >"$WORK/t.mvt"
    want=$(shops_in "$1" "$2" "$3")
    count="count(*)"
    [ "$1" -le 14 ] && count="sum(CASE WHEN point_count IS NULL THEN 1 ELSE point_count END)"
    got=$(ogrinfo -ro -q -oo CLIP=NO -dialect SQLite -sql "SELECT $count AS n FROM shops WHERE $IN_TILE" "$WORK/t.mvt" 2>/dev/null | sed -nE 's/.*n \(Integer\) = ([0-9]+)/\1/p')
    if [ "$1" -le 14 ]; then
        clusters=$(ogrinfo -ro -q -oo CLIP=NO -dialect SQLite -sql "SELECT count(*) AS n FROM shops WHERE point_count > 1" "$WORK/t.mvt" 2>/dev/null | sed -nE 's/.*n \(Integer\) = ([0-9]+)/\1/p')
        check "tile $1/$2/$3: shops merge into clusters" [ "${clusters:-0}" -gt 0 ]
    else
        check "tile $1/$2/$3: no shop clusters above zoom 14" \
            bash -c "! ogrinfo -ro -q -al -oo CLIP=NO '$WORK/t.mvt' shops | grep -q point_count"
    fi
    check "tile $1/$2/$3: $want shops, as counted from the data" [ "${got:-0}" = "$want" ]
    valid=$(ogrinfo -ro -q -oo CLIP=NO -dialect SQLite -sql "SELECT count(*) AS n, sum(ST_IsValid(geometry)) AS v FROM neighbourhoods WHERE GeometryType(geometry) LIKE '%POLYGON%'" "$WORK/t.mvt" 2>/dev/null | sed -nE 's/.* (n|v) \(Integer\) = ([0-9]+)/\2/p' | tr '\n' ' ')
    set -- $valid
    check "tile: $1 neighbourhood polygons, all valid" [ "${1:-0}" -gt 0 -a "${1:-0}" = "${2:-x}" ]
done
"$MAPD" tile 14 8298 5636 --db "$DB" >"$WORK/t.mvt"
check "neighbourhoods carry id and name" \
    bash -c "ogrinfo -ro -q -al -oo CLIP=NO '$WORK/t.mvt' neighbourhoods | grep -q 'name (String) = '"
check "shops carry their status" \
    bash -c "ogrinfo -ro -q -al -oo CLIP=NO '$WORK/t.mvt' shops | grep -q 'status (String) = unknown'"
"$MAPD" tile 3 0 0 --db "$DB" >"$WORK/empty.mvt"
check "a tile far from the data is empty" [ ! -s "$WORK/empty.mvt" ]
for bad in "23 0 0" "2 4 0" "2 0 4" "-1 0 0" "a 0 0" "3 0x1 0" "99999999999 0 0"; do
    rc=0; "$MAPD" tile $bad --db "$DB" >/dev/null 2>&1 || rc=$?
    check "mapd tile $bad: usage error" [ "$rc" -eq 2 ]
done

"$MAPD" serve --db "$DB" --listen 127.0.0.1:0 >"$WORK/stdout" 2>/dev/null &
pid=$!
for _ in $(seq 1 100); do grep -q "serving http" "$WORK/stdout" 2>/dev/null && break; sleep 0.05; done
base=$(sed -nE 's/.*serving (http:\/\/[0-9.]+:[0-9]+)\/.*/\1/p' "$WORK/stdout")
code=$(curl -s -o "$WORK/h.mvt" -w '%{http_code} %{content_type}' "$base/tiles/14/8298/5636.mvt")
check "GET /tiles/14/8298/5636.mvt: 200 MVT" [ "$code" = "200 application/vnd.mapbox-vector-tile" ]
check "the HTTP tile equals mapd tile's" cmp -s "$WORK/h.mvt" "$WORK/t.mvt"
for bad in 23/0/0.mvt 2/4/0.mvt 14/8298/5636.png 14/8298.mvt -1/0/0.mvt 14/8298/5636.mvt/x a/b/c.mvt \
           "$(head -c 5000 /dev/zero | tr '\0' 1)/0/0.mvt"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/tiles/$bad")
    check "GET /tiles/${bad:0:20}: 4xx" [ "$code" -ge 400 -a "$code" -lt 500 ]
done
kill "$pid"; wait "$pid" || true
finish
