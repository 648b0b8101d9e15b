# shellcheck shell=bash
# tests/bench/tiles_lib.sh — what the tile benchmarks share (sourced by
# tiles.sh, tiles_http.sh and tiles_pyramid.sh): finding mapd, installing
# the peers, the benchmark database, the list of tile addresses, a private
# PostgreSQL cluster, and the small statistics.
#
# The sourcing script sets NAME (its own name, for messages) and calls
# bench_init BUILD_DIR first. Everything lands in $OUT, a fresh temporary
# directory removed at exit with whatever bench_at_exit registered.

set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SAMPLE=$ROOT/geodata/samples/paris
PG_BIN=/usr/lib/postgresql/15/bin
TILE_SEED=20200317       # the tile list is the same from run to run
TILES_PER_ZOOM=${TILES_PER_ZOOM:-250}
TILE_ZOOMS="10 12 14 16"

die() { echo "$NAME: $*" >&2; exit 1; }

# ---- clean-up -----------------------------------------------------------------
AT_EXIT=()
bench_at_exit() { AT_EXIT+=("$1"); }
bench_cleanup() {
    local i
    for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${AT_EXIT[i]}" || true; done
    [ -n "${OUT:-}" ] && rm -rf "$OUT"
}

# bench_init BUILD_DIR — checks the build, makes $OUT, sets MAPD.
bench_init() {
    local build=${1:-build}
    case $build in /*) ;; *) [ -d "$build" ] || build=$ROOT/$build ;; esac
    [ -d "$build" ] || die "no build directory $build: run make build first"
    MAPD=$(cd "$build" && pwd)/bin/mapd
    [ -x "$MAPD" ] || die "$MAPD not found: run make build first"
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/entraide-$NAME.XXXXXX")
    chmod 755 "$OUT"   # the postgres and nginx users read below it
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# ---- packages -------------------------------------------------------------------
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo

# need_packages PKG... — installs those of the Debian packages not installed.
need_packages() {
    local missing=() p
    for p; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return 0
    echo "installing ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null \
        || { $SUDO apt-get update -q >/dev/null \
             && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                    --no-install-recommends "${missing[@]}" >/dev/null; } \
        || die "cannot install ${missing[*]}"
}

# ---- the database ---------------------------------------------------------------
# build_db — $OUT/bench.sqlite: the Paris sample and 100,000 posts, as
# tests/bench/api.sh builds it.
build_db() {
    DB=$OUT/bench.sqlite
    echo "building the database (Paris sample, 100,000 posts) in $OUT"
    build_db_into "$DB"
}

# build_db_into DB — the Paris sample and 100,000 seeded posts into DB (a file
# or a PostgreSQL connection string): the same data whatever the store.
build_db_into() {
    "$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$1" >/dev/null
    "$MAPD" import addresses "$SAMPLE/addresses.csv.gz" --db "$1" >/dev/null
    "$MAPD" import shops "$SAMPLE/shops.geojson" --db "$1" >/dev/null 2>&1
    "$MAPD" seed --db "$1" --posts 100000 >/dev/null
}

# make_tile_list FILE — TILES_PER_ZOOM tile addresses at each of TILE_ZOOMS,
# each the tile holding a post drawn at random (so tiles are drawn where the
# data is, weighted like the posts; the same tile may come more than once),
# shuffled together, one "Z X Y" a line. The same seed gives the same list.
make_tile_list() {
    sqlite3 -cmd ".load mod_spatialite" -separator ' ' "$DB" \
        "SELECT X(geom), Y(geom) FROM posts ORDER BY id" >"$OUT/post_points.txt"
    python3 - "$OUT/post_points.txt" "$TILE_SEED" "$TILES_PER_ZOOM" $TILE_ZOOMS >"$1" <<'PY'
import math, random, sys
points = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
rnd = random.Random(int(sys.argv[2]))
per_zoom = int(sys.argv[3])
tiles = []
for z in map(int, sys.argv[4:]):
    for lon, lat in rnd.sample(points, per_zoom):
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        r = math.radians(lat)
        y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
        tiles.append((z, x, y))
rnd.shuffle(tiles)
for t in tiles:
    print(*t)
PY
}

# export_layers FORMAT DEST — the features of mapd's staff tiles
# (`--viewer all`), with the properties its tiles give them, for the peers
# that read files: one layer each of neighbourhoods (polygons {id, name}),
# neighbourhood_labels (points {id, name, label}), addresses ({number with
# its rep word, street}), shops, needs (open and not expired now, or
# claimed; not hidden) and makers. FORMAT GeoJSON writes DEST/NAME.geojson,
# FORMAT GPKG the layers of one GeoPackage DEST. Booleans are 0 or 1.
export_layers() {
    local format=$1 dest=$2 now update='' name
    now=$(date +%s)
    local -a layers=(
        neighbourhoods "SELECT id, name, geom FROM neighbourhoods"
        neighbourhood_labels "SELECT id, name, 1 AS label,
            MakePoint(label_lon, label_lat, 4326) AS geom FROM neighbourhoods"
        addresses "SELECT number || CASE rep WHEN 'b' THEN 'bis' WHEN 't' THEN 'ter'
            WHEN 'q' THEN 'quater' ELSE rep END AS number, street, geom FROM addresses"
        shops "SELECT id, ifnull(name, '') AS name, ifnull(shop, '') AS shop, status,
            delivers, takeaway, gift_cards,
            (ifnull(confirmed_at, 0) <> 0 AND $now - confirmed_at <= 7 * 86400) AS confirmed,
            nullif(opening_hours, '') AS opening_hours, geom FROM shops"
        needs "SELECT id, kind, category, status, title,
            ifnull(neighbourhood_id, '') AS neighbourhood, geom FROM posts
            WHERE hidden = 0 AND (status = 'claimed' OR (status = 'open' AND expires_at > $now))"
        makers "SELECT k.member_id AS id, m.display_name, k.capacity_per_day, k.stock,
            ifnull((SELECT group_concat(value, ', ') FROM
                    (SELECT value FROM json_each(k.materials) LIMIT 10)), '') AS materials, k.geom
            FROM makers k JOIN members m ON m.id = k.member_id"
    )
    [ "$format" = GeoJSON ] && mkdir -p "$dest"
    for ((i = 0; i < ${#layers[@]}; i += 2)); do
        name=${layers[i]}
        if [ "$format" = GeoJSON ]; then
            ogr2ogr -f GeoJSON "$dest/$name.geojson" "$DB" -dialect SQLite -sql "${layers[i + 1]}" \
                -lco RFC7946=YES -lco COORDINATE_PRECISION=7
        else
            ogr2ogr -f "$format" "$dest" "$DB" -dialect SQLite -sql "${layers[i + 1]}" -nln "$name" \
                $update
            update=-update
        fi
    done
}

# ---- PostgreSQL + PostGIS -----------------------------------------------------------
# pg_start — a private cluster in $OUT/pg (unix socket in that directory
# only, no TCP), run as the postgres user when we are root; stopped and
# removed at exit. Sets PSQL (psql on database bench, stopping on errors) and
# PG_DSN (for ogr2ogr).
PG_USER=
pg_as() { if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }
pg_start() {
    need_packages postgresql-15 postgresql-15-postgis-3 postgresql-client-15
    [ "$(id -u)" = 0 ] && PG_USER=postgres
    mkdir -p "$OUT/pg"
    [ -n "$PG_USER" ] && chown "$PG_USER" "$OUT/pg"
    pg_as "$PG_BIN/initdb" -D "$OUT/pg/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
    # fsync off: the cluster is thrown away; JIT off and no parallel workers:
    # a tile is one short query on one core, as mapd draws it.
    pg_as "$PG_BIN/pg_ctl" -D "$OUT/pg/data" -l "$OUT/pg/log" -w -s \
        -o "-c listen_addresses='' -c unix_socket_directories='$OUT/pg' -c shared_buffers=512MB \
            -c work_mem=16MB -c fsync=off -c synchronous_commit=off -c jit=off \
            -c max_parallel_workers_per_gather=0" start \
        || { cat "$OUT/pg/log" >&2; die "PostgreSQL did not start"; }
    bench_at_exit 'pg_as "$PG_BIN/pg_ctl" -D "$OUT/pg/data" -m immediate -s stop'
    psql -h "$OUT/pg" -U postgres -q -c "CREATE DATABASE bench" postgres
    PSQL=(psql -h "$OUT/pg" -U postgres -d bench -q -v ON_ERROR_STOP=1 -X)
    PG_DSN="PG:host=$OUT/pg user=postgres dbname=bench"
    "${PSQL[@]}" -c "CREATE EXTENSION postgis"
    echo "PostgreSQL $("${PSQL[@]}" -At -c "SHOW server_version"), PostGIS $("${PSQL[@]}" -At -c "SELECT postgis_lib_version()"), socket in $OUT/pg"
}

# pg_load — copies the store's tables into EPSG:3857 with ogr2ogr, GiST
# indexes on every geometry, neighbourhoods' label points as a column, then
# ANALYZE.
pg_load() {
    local t layer fid
    for t in neighbourhoods: addresses:id shops:id posts:id makers:member_id; do
        layer=${t%%:*}; fid=${t#*:}
        ogr2ogr -f PostgreSQL "$PG_DSN" "$DB" "$layer" -nln "$layer" -t_srs EPSG:3857 \
            -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST ${fid:+-lco FID=$fid} -gt 65536
    done
    ogr2ogr -f PostgreSQL "$PG_DSN" "$DB" -nln members \
        -sql "SELECT id, display_name, neighbourhood_id FROM members"
    "${PSQL[@]}" <<'SQL'
ALTER TABLE neighbourhoods ADD COLUMN label geometry(Point, 3857);
UPDATE neighbourhoods SET label = ST_Transform(ST_SetSRID(ST_MakePoint(label_lon, label_lat), 4326), 3857);
CREATE INDEX members_id ON members (id);
VACUUM ANALYZE;
SQL
}

# ---- figures ------------------------------------------------------------------
# The shell-quoted words, for printing a command that can be copied.
quote() {
    local w out=
    for w; do
        if [[ $w =~ ^[A-Za-z0-9_./:=%+,@-]+$ ]]; then out+="$w "; else out+="'${w//\'/\'\\\'\'}' "; fi
    done
    printf '%s' "${out% }"
}

# peak_rss_mb FILE — the peak RSS in MB from /usr/bin/time -v's report.
peak_rss_mb() { awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
# wall_s FILE — the elapsed seconds from /usr/bin/time -v's report.
wall_s() {
    awk '/Elapsed \(wall clock\)/ { n = split($NF, p, ":"); s = 0
         for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$1"
}
