#!/usr/bin/env bash
# tests/tiles/decode_tiles.sh MAPD — every tile mapd makes, decoded by two
# independent readers: @mapbox/vector-tile (tests/tiles/js/check_tiles.mjs)
# and GDAL's MVT driver (ogrinfo). A fresh database of the bundled sample
# (neighbourhoods, addresses, shops, 2000 seeded posts) is drawn at a spread
# of addresses: z0, z5 and z10 over the data, 3x3 blocks at z12, z14 and z16
# around its centre and tiles at its corners, deeper zooms inside it, and
# tiles far away that must be empty. The checks are generic: whatever layers
# a tile holds are checked.
MAPD=$1
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SAMPLE=$HERE/../../geodata/samples/paris
WORK=$(mktemp -d /tmp/entraide-decode.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

for tool in node ogrinfo sqlite3 python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL - $tool is not installed: run make deps"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
if [ ! -d "$HERE/js/node_modules/@mapbox/vector-tile" ]; then
    echo "FAIL - the npm decoders are not installed in tests/tiles/js: run make deps"
    echo "0 passed, 1 failed"
    exit 1
fi
# The tile buffer of the tileset, as mapd draws it.
BUFFER=$(sed -nE 's/^#define MAPD_TILE_BUFFER +([0-9]+).*/\1/p' "$HERE/../../mapd/tile_render.h")
[ -n "$BUFFER" ] || { echo "FAIL - MAPD_TILE_BUFFER not found in mapd/tile_render.h"; exit 1; }

DB=$WORK/sample.sqlite
"$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$DB" >/dev/null
"$MAPD" import addresses "$SAMPLE/addresses.csv.gz" --db "$DB" >/dev/null
"$MAPD" import shops "$SAMPLE/shops.geojson" --db "$DB" >/dev/null 2>&1
"$MAPD" seed --db "$DB" --posts 2000 >/dev/null

# The data's extent, then the tile list: "KIND Z X Y" lines, KIND being
# data (must hold features), empty (must be empty) or any.
bbox=$(sqlite3 -cmd ".load mod_spatialite" "$DB" \
    "SELECT MbrMinX(e), MbrMinY(e), MbrMaxX(e), MbrMaxY(e) FROM (SELECT Extent(geom) AS e FROM neighbourhoods)")
python3 - "$bbox" >"$WORK/tiles.txt" <<'PY'
import math, sys
w, s, e, n = map(float, sys.argv[1].split("|"))
def tile(lon, lat, z):
    k = 2 ** z
    x = int((lon + 180) / 360 * k)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * k)
    return min(max(x, 0), k - 1), min(max(y, 0), k - 1)
cx, cy = (w + e) / 2, (s + n) / 2
out = set()
for z in (0, 5, 10):
    out.add(("data", z) + tile(cx, cy, z))
for z in (12, 14, 16):
    x, y = tile(cx, cy, z)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            out.add(("data" if dx == dy == 0 else "any", z, x + dx, y + dy))
    for lon, lat in ((w, s), (w, n), (e, s), (e, n)):
        out.add(("any", z) + tile(lon, lat, z))
for z in (18, 20, 22):
    out.add(("data", z) + tile(cx, cy, z))
# far away: the opposite side of the world, the poles, the antimeridian
for z in (3, 10, 14, 16):
    k = 2 ** z
    x, y = tile(cx, cy, z)
    out.add(("empty", z, (x + k // 2) % k, y))
    out.add(("empty", z, 0, 0))
    out.add(("empty", z, k - 1, k - 1))
for t in sorted(out, key=lambda t: (t[1], t[2], t[3])):
    print(*t)
PY

# Drawn for an anonymous visitor, and also for the staff view (every layer,
# needs and makers included) when this mapd has one.
viewers=anonymous
if "$MAPD" tile 0 0 0 --db "$DB" --viewer all >/dev/null 2>&1; then
    viewers="anonymous all"
fi
mkdir "$WORK/tiles"
for v in $viewers; do
    while read -r kind z x y; do
        if [ "$v" = anonymous ]; then
            "$MAPD" tile "$z" "$x" "$y" --db "$DB" >"$WORK/tiles/$kind-$z-$x-$y.mvt"
        else
            "$MAPD" tile "$z" "$x" "$y" --db "$DB" --viewer "$v" >"$WORK/tiles/$kind-$z-$x-$y@$v.mvt"
        fi
    done <"$WORK/tiles.txt"
done
echo "# $(wc -l <"$WORK/tiles.txt") tiles drawn by mapd for each viewer: $viewers"

node "$HERE/js/check_tiles.mjs" --buffer "$BUFFER" "$WORK/tiles"
