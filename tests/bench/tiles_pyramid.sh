#!/usr/bin/env bash
# tests/bench/tiles_pyramid.sh [BUILD_DIR] — a whole tile pyramid written to
# files, side by side in one run:
#
#   mapd      mapd tile --pyramid --minzoom 0 --maxzoom MAXZOOM --viewer all
#             every tile over the neighbourhoods' box, the empty ones skipped;
#             all five layers as mapd serves them to staff (clusters, label
#             points, addresses from zoom 16)
#   ogr2ogr   ogr2ogr -f MVT -dsco MINZOOM=0 -dsco MAXZOOM=MAXZOOM over the
#             same features exported from the database beforehand (one
#             GeoPackage, six source layers written as the same five MVT
#             layers: neighbourhood_labels join neighbourhoods; addresses at
#             zoom 16 only), with mapd's buffer (64) and uncompressed tiles
#
# What ogr2ogr does differently: it does not cluster. Every shop, need and
# maker is a feature of its tile at every zoom; a tile over its MAX_SIZE
# (500,000 bytes, mapd's budget too) or MAX_FEATURES (200,000) is written
# with reduced precision or features left out. It writes every feature into
# a temporary SQLite database, one row per zoom level, then encodes the
# tiles; it only writes tiles that hold features.
#
# /usr/bin/time -v gives each run's wall time and peak RSS. Runs interleaved:
# mapd, ogr2ogr, mapd, ogr2ogr (ROUNDS pairs, default 2).
#
# Target: mapd at least 5x faster than ogr2ogr. A benchmark, not a test:
# exits 0 whatever the figures. MAXZOOM (default 16) lowers both pyramids'
# top zoom.
NAME=tiles_pyramid.sh
source "$(dirname "$0")/tiles_lib.sh"
bench_init "${1:-build}"
ROUNDS=${ROUNDS:-2}
MAXZOOM=${MAXZOOM:-16}

need_packages gdal-bin time sqlite3 libsqlite3-mod-spatialite
build_db
echo "exporting the layers for ogr2ogr (GeoPackage)"
export_layers GPKG "$OUT/layers.gpkg"
cat >"$OUT/conf.json" <<'EOF'
{
  "neighbourhoods": { "target_name": "neighbourhoods" },
  "neighbourhood_labels": { "target_name": "neighbourhoods" },
  "addresses": { "minzoom": 16, "maxzoom": 16 }
}
EOF

MAPD_CMD=("$MAPD" tile --pyramid --minzoom 0 --maxzoom "$MAXZOOM" --viewer all --db "$DB" --out)
OGR_CMD=(ogr2ogr -f MVT -dsco MINZOOM=0 -dsco MAXZOOM="$MAXZOOM" -dsco CONF="$OUT/conf.json"
         -dsco BUFFER=64 -dsco COMPRESS=NO -dsco TILE_EXTENSION=mvt)
run() {   # run NAME COMMAND... — the command under /usr/bin/time -v
    local name=$1; shift
    rm -rf "${OUT:?}/$name"
    /usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" \
        || { cat "$OUT/$name.err" "$OUT/$name.time" >&2; die "$name failed"; }
    printf '  %-10s %8s s  %6s MB peak RSS  %5s CPU\n' "$name" "$(wall_s "$OUT/$name.time")" \
        "$(peak_rss_mb "$OUT/$name.time")" "$(awk -F': ' '/Percent of CPU/ { print $2 }' "$OUT/$name.time")"
}
for r in $(seq "$ROUNDS"); do
    echo "round $r of $ROUNDS"
    run "mapd.$r" "${MAPD_CMD[@]}" "$OUT/mapd.$r"
    run "ogr2ogr.$r" "${OGR_CMD[@]}" "$OUT/ogr2ogr.$r" "$OUT/layers.gpkg"
done

tiles_of() { find "$OUT/$1" -name '*.mvt' -size +0 | wc -l; }
bytes_of() { find "$OUT/$1" -name '*.mvt' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
echo
echo "tile pyramid z0-z$MAXZOOM to files, $(nproc) cores shared, $(date -u +%Y-%m-%d)"
printf '  %-6s %10s %10s %8s %8s   %10s %10s %8s %8s %8s\n' round "mapd s" "peak MB" tiles MB \
    "ogr2ogr s" "peak MB" tiles MB ratio
lowest=
for r in $(seq "$ROUNDS"); do
    m=$(wall_s "$OUT/mapd.$r.time"); o=$(wall_s "$OUT/ogr2ogr.$r.time")
    ratio=$(awk -v m="$m" -v o="$o" 'BEGIN { printf "%.1f", o / (m > 0 ? m : 0.01) }')
    printf '  %-6s %10s %10s %8s %8.1f   %10s %10s %8s %8.1f %7sx\n' "$r" "$m" \
        "$(peak_rss_mb "$OUT/mapd.$r.time")" "$(tiles_of "mapd.$r")" \
        "$(awk -v b="$(bytes_of "mapd.$r")" 'BEGIN { print b / 1e6 }')" "$o" \
        "$(peak_rss_mb "$OUT/ogr2ogr.$r.time")" "$(tiles_of "ogr2ogr.$r")" \
        "$(awk -v b="$(bytes_of "ogr2ogr.$r")" 'BEGIN { print b / 1e6 }')" "$ratio"
    lowest=$(awk -v a="${lowest:-$ratio}" -v b="$ratio" 'BEGIN { print (b < a) ? b : a }')
done
echo "  mapd's own summary (last round): $(cat "$OUT/mapd.$ROUNDS.out")"
echo "target: mapd at least 5x faster than ogr2ogr: lowest ratio ${lowest}x:" \
     "$(awk -v r="$lowest" 'BEGIN { print (r >= 5) ? "met" : "NOT met" }')"
echo "commands:"
echo "  $(quote "${MAPD_CMD[@]}") OUT_DIR"
echo "  $(quote "${OGR_CMD[@]}") OUT_DIR layers.gpkg"
