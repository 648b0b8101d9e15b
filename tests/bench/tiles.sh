#!/usr/bin/env bash
# tests/bench/tiles.sh [BUILD_DIR] — vector tiles built on request, side by
# side in one run:
#
#   mapd         `mapd tile --batch --viewer all` (the staff view: every layer)
#   PostGIS      ST_AsMVT(ST_AsMVTGeom(...)) in one SQL statement per tile
#                drawing the same five layers the same way
#                (tests/bench/tiles_postgis.sql says how), on the same data
#                copied into a private PostgreSQL 15 + PostGIS 3 cluster
#   Node         geojson-vt + vt-pbf over the same features as GeoJSON
#                (tests/bench/node/tiles_node.mjs; no clustering)
#
# Data: the Paris sample plus 100,000 posts (mapd seed). Tiles: 250 addresses
# at each of zooms 10, 12, 14, 16 (tiles_lib.sh: make_tile_list), the same
# list for all. Each tile's time is measured inside the process that draws
# it: mapd around mapd_tile_render() (monotonic clock), PostGIS around the
# function call inside a PL/pgSQL loop (clock_timestamp(), server-side: no
# client round trip), Node around getTile + encoding (hrtime).
#
# Order: a warm-up pass of mapd and PostGIS over the whole list (not
# reported), then ROUNDS rounds (default 2) of mapd, PostGIS, Node in turn.
# Node draws only the distinct tiles of the list, each once: geojson-vt keeps
# every tile it cuts, so a repeat measures its memory, and its zoom 10 tiles
# (100,000 points each, unclustered) take seconds.
#
# Target: mapd's median per-tile time at least 5x below PostGIS's at every
# zoom. A benchmark, not a test: exits 0 whatever the figures, non-zero only
# when something fails to run. TILES_PER_ZOOM and ROUNDS override the
# defaults; NODE=0 leaves Node out.
NAME=tiles.sh
source "$(dirname "$0")/tiles_lib.sh"
bench_init "${1:-build}"
ROUNDS=${ROUNDS:-2}
NODE=${NODE:-1}

need_packages gdal-bin sqlite3 libsqlite3-mod-spatialite python3
[ "$NODE" = 0 ] || command -v npm >/dev/null || need_packages nodejs npm
build_db
make_tile_list "$OUT/tiles.txt"
echo "tile list: $(wc -l <"$OUT/tiles.txt") addresses ($TILES_PER_ZOOM at each of zooms $TILE_ZOOMS)," \
     "$(sort -u "$OUT/tiles.txt" | wc -l) distinct"

# ---- PostGIS -----------------------------------------------------------------------
pg_start
echo "loading the tables into PostGIS (ogr2ogr -f PostgreSQL, EPSG:3857, GiST)"
pg_load
"${PSQL[@]}" -f "$HERE/tiles_postgis.sql"
awk '{ print NR, $1, $2, $3 }' "$OUT/tiles.txt" >"$OUT/tiles_seq.txt"
"${PSQL[@]}" -c "CREATE TABLE bench_tiles (seq integer PRIMARY KEY, z integer, x integer, y integer)" \
    -c "\\copy bench_tiles FROM '$OUT/tiles_seq.txt' WITH (DELIMITER ' ')"

# ---- Node ----------------------------------------------------------------------------
if [ "$NODE" != 0 ]; then
    echo "installing geojson-vt and vt-pbf (npm ci in tests/bench/node)"
    (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "exporting the layers as GeoJSON"
    export_layers GeoJSON "$OUT/geojson"
    awk '!seen[$0]++' "$OUT/tiles.txt" >"$OUT/tiles_distinct.txt"
fi

# ---- the same layers? ------------------------------------------------------------------
# Three distinct tiles per zoom, drawn by both; feature counts per layer read
# back by GDAL's MVT driver.
awk '!seen[$0]++ && n[$1]++ < 3' "$OUT/tiles.txt" | sort -n >"$OUT/check.txt"
mkdir -p "$OUT/check/pg"
"$MAPD" tile --batch --db "$DB" --viewer all --out "$OUT/check/mapd" <"$OUT/check.txt" >/dev/null
while read -r z x y; do
    "${PSQL[@]}" -At -c "SELECT encode(bench_tile($z, $x, $y, $(date +%s)), 'hex')" \
        | xxd -r -p >"$OUT/check/pg/$z-$x-$y.mvt"
done <"$OUT/check.txt"
layer_counts() {
    [ -s "$1" ] || return 0
    ogrinfo -ro -al -so -oo CLIP=NO "$1" 2>/dev/null \
        | awk '/^Layer name:/ { l = $3 } /^Feature Count:/ { printf "%s=%s ", l, $3 }'
}
echo
echo "features per layer, mapd | PostGIS (GDAL's MVT driver), 3 tiles per zoom:"
same=0 total=0
while read -r z x y; do
    a=$(layer_counts "$OUT/check/mapd/$z/$x/$y.mvt")
    b=$(layer_counts "$OUT/check/pg/$z-$x-$y.mvt")
    printf '  %-16s %s| %s\n' "$z/$x/$y" "$a" "$b"
    total=$((total + 1)); [ "$a" = "$b" ] && same=$((same + 1))
done <"$OUT/check.txt"
echo "  identical counts in $same of $total tiles (clusters may differ by a point at a cell edge:" \
     "see tiles_postgis.sql)"

# ---- measurements ---------------------------------------------------------------------
MAPD_CMD=("$MAPD" tile --batch --db "$DB" --viewer all)
run_mapd() { "${MAPD_CMD[@]}" <"$OUT/tiles.txt" >"$1"; }
run_pg() {
    "${PSQL[@]}" -c "SELECT bench_run($1, $(date +%s))" >/dev/null
    "${PSQL[@]}" -c "\\copy (SELECT t.z, t.x, t.y, b.bytes, round(b.us) FROM bench_timings b
        JOIN bench_tiles t USING (seq) WHERE b.round = $1 ORDER BY seq) TO '$2' WITH (DELIMITER ' ')"
}
run_node() {
    node --max-old-space-size=8192 "$HERE/node/tiles_node.mjs" "$OUT/geojson" \
        "$OUT/tiles_distinct.txt" >"$1"
}

echo
echo "warm-up: mapd and PostGIS over the list once (not reported)"
run_mapd /dev/null
run_pg 0 /dev/null
for r in $(seq "$ROUNDS"); do
    echo "round $r of $ROUNDS: mapd"
    run_mapd "$OUT/mapd.$r"
    echo "round $r of $ROUNDS: PostGIS"
    run_pg "$r" "$OUT/pg.$r"
    if [ "$NODE" != 0 ]; then
        echo "round $r of $ROUNDS: Node ($(wc -l <"$OUT/tiles_distinct.txt") distinct tiles)"
        run_node "$OUT/node.$r"
    fi
done

# ---- the table --------------------------------------------------------------------------
echo
echo "tiles built on request, $(nproc) cores shared (one process at a time), $(date -u +%Y-%m-%d)"
python3 - "$OUT" "$ROUNDS" "$NODE" <<'PY'
import os, statistics, sys
out, rounds, node = sys.argv[1], int(sys.argv[2]), sys.argv[3] != "0"

def read(path):
    rows = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        rows.setdefault(int(f[0]), []).append((int(f[3]), float(f[4])))
    return rows

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]

worst = {}
for r in range(1, rounds + 1):
    m, g = read(f"{out}/mapd.{r}"), read(f"{out}/pg.{r}")
    n = read(f"{out}/node.{r}") if node else {}
    header = open(f"{out}/node.{r}").readline().split() if node else []
    print(f"round {r}: median and p90 per tile, microseconds; ratio = PostGIS median / mapd median")
    print(f"  {'zoom':>4} {'tiles':>5} {'mapd med':>9} {'p90':>8} {'PostGIS med':>11} {'p90':>8}"
          f" {'ratio':>7}   {'bytes mapd':>10} {'PostGIS':>8}" + (f"   {'Node med':>9} {'p90':>9} {'bytes':>9} {'tiles':>5}" if node else ""))
    for z in sorted(m):
        mt = [t for _, t in m[z]]; gt = [t for _, t in g[z]]
        ratio = statistics.median(gt) / max(statistics.median(mt), 1)
        worst[z] = min(worst.get(z, ratio), ratio)
        line = (f"  {z:>4} {len(mt):>5} {statistics.median(mt):>9.0f} {pct(mt, 90):>8.0f}"
                f" {statistics.median(gt):>11.0f} {pct(gt, 90):>8.0f} {ratio:>6.1f}x"
                f"   {statistics.median([b for b, _ in m[z]]):>10.0f} {statistics.median([b for b, _ in g[z]]):>8.0f}")
        if node and z in n:
            nt = [t for _, t in n[z]]
            line += (f"   {statistics.median(nt):>9.0f} {pct(nt, 90):>9.0f}"
                     f" {statistics.median([b for b, _ in n[z]]):>9.0f} {len(nt):>5}")
        print(line)
    if header:
        print(f"  Node: indexes built in {header[2]} ms, RSS {header[4]} MB; distinct tiles only, each cut once")
print("target: mapd's median at least 5x faster than PostGIS at every zoom")
for z in sorted(worst):
    print(f"  zoom {z}: lowest ratio over the rounds {worst[z]:.1f}x: {'met' if worst[z] >= 5 else 'NOT met'}")
PY
echo "commands:"
echo "  $(quote "${MAPD_CMD[@]}") < tiles.txt"
echo "  psql: SELECT bench_run(ROUND, NOW)   -- tests/bench/tiles_postgis.sql"
[ "$NODE" = 0 ] || echo "  node --max-old-space-size=8192 tests/bench/node/tiles_node.mjs GEOJSON_DIR tiles_distinct.txt"
