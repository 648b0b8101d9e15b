#!/usr/bin/env bash
# tests/bench/scale.sh [PRESET] [BUILD_DIR] — the service at the size of a
# country, on the synthetic France of tests/scale/make_france.py
# (make scale-data): PRESET france (26 million addresses, 50,176
# neighbourhoods; the default), 2m or small.
#
#   import      neighbourhoods then addresses, each under /usr/bin/time -v
#               (wall time, peak RSS), then the same addresses again (a
#               re-import must change nothing and say so)
#   posts       mapd seed --posts POSTS (1,000,000 unless set): live posts
#               spread like the addresses, and their members
#   geocoder    build/bin/geocode_bench: accuracy on sampled and invented
#               addresses, queries/s and p99 on one core, point in
#               neighbourhood lookups/s
#   start-up    mapd serve until /healthz answers, its RSS, and the sizes
#               each part reports in its log
#   API         tests/bench/api.sh on the same database (posts within 1 km
#               returning 50, creating posts), as two members registered in
#               the neighbourhood with the most live posts (scale_listers.py)
#   accounts    registrations and logins through the API, p50/p99
#   tiles       uncached tiles at zooms 6 to 16 (mapd tile --batch, the staff
#               view: every layer), the median of each zoom; the z0-z10 pyramid
#
# The database is kept (var/scale/PRESET/bench.sqlite) and rebuilt only with
# REBUILD=1: imports are measured when it is built. A benchmark, not a test:
# it prints the figures and the targets of docs/performance.md, exits non-zero
# only when something fails to run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PRESET=${1:-france}
BUILD=${2:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MAPD=$BUILD/bin/mapd
[ -x "$MAPD" ] || { echo "scale.sh: $MAPD not found: run make build first" >&2; exit 1; }
DATA=$ROOT/var/scale/$PRESET
case $PRESET in
    france) POSTS=${POSTS:-1000000} ;;
    2m) POSTS=${POSTS:-100000} ;;
    small) POSTS=${POSTS:-10000} ;;
    *) echo "scale.sh: PRESET is france, 2m or small" >&2; exit 2 ;;
esac
export MAPD_ALLOW_ROOT=1
DB=$DATA/bench.sqlite
LOG=$DATA/bench-logs
mkdir -p "$LOG"

section() { echo; echo "== $*"; }
peak_mb() { awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
wall_s() {
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
        for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s }' "$1"
}
le() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 <= t) ? "met" : "NOT met" }'; }
ge() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 >= t) ? "met" : "NOT met" }'; }
timed() {   # timed NAME COMMAND... — under /usr/bin/time -v, output in $LOG/NAME.*
    local name=$1; shift
    /usr/bin/time -v -o "$LOG/$name.time" "$@" >"$LOG/$name.out" 2>"$LOG/$name.err" \
        || { cat "$LOG/$name.err" "$LOG/$name.time" >&2; echo "scale.sh: $name failed" >&2; exit 1; }
}

echo "scale benchmark, preset $PRESET, $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GB," \
     "$(date -u +%Y-%m-%dT%H:%MZ), mapd $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"

# ---- the data ---------------------------------------------------------------
if [ ! -s "$DATA/addresses.csv.gz" ] || [ ! -s "$DATA/neighbourhoods.gpkg" ]; then
    section "generating the synthetic $PRESET (make scale-data PRESET=$PRESET)"
    /usr/bin/python3 "$ROOT/tests/scale/make_france.py" "$PRESET" "$DATA"
fi

# ---- import -------------------------------------------------------------------
if [ ! -s "$DB" ] || [ "${REBUILD:-0}" = 1 ]; then
    rm -f "$DB" "$DB-wal" "$DB-shm"
    section "import"
    timed import_nb "$MAPD" import neighbourhoods "$DATA/neighbourhoods.gpkg" --db "$DB"
    tail -1 "$LOG/import_nb.out"
    timed import_addr "$MAPD" import addresses "$DATA/addresses.csv.gz" --db "$DB"
    tail -2 "$LOG/import_addr.out"
    timed reimport_addr "$MAPD" import addresses "$DATA/addresses.csv.gz" --db "$DB"
    tail -2 "$LOG/reimport_addr.out"
    timed seed "$MAPD" seed --db "$DB" --posts "$POSTS"
    tail -1 "$LOG/seed.out"
    printf '  %-34s %9s s %8s MB peak   %s\n' "neighbourhoods" "$(wall_s "$LOG/import_nb.time")" \
        "$(peak_mb "$LOG/import_nb.time")" "target <= 60 s: $(le "$(wall_s "$LOG/import_nb.time")" 60)"
    printf '  %-34s %9s s %8s MB peak   %s\n' "addresses" "$(wall_s "$LOG/import_addr.time")" \
        "$(peak_mb "$LOG/import_addr.time")" \
        "target <= 360 s: $(le "$(wall_s "$LOG/import_addr.time")" 360), <= 4096 MB: $(le "$(peak_mb "$LOG/import_addr.time")" 4096)"
    printf '  %-34s %9s s %8s MB peak\n' "addresses again (no change)" "$(wall_s "$LOG/reimport_addr.time")" \
        "$(peak_mb "$LOG/reimport_addr.time")"
    printf '  %-34s %9s s %8s MB peak\n' "seed $POSTS posts" "$(wall_s "$LOG/seed.time")" \
        "$(peak_mb "$LOG/seed.time")"
    echo "  database: $(du -h "$DB" | cut -f1)"
else
    section "import: kept from an earlier run ($DB; REBUILD=1 builds it again)"
    for f in import_nb import_addr reimport_addr seed; do
        [ -s "$LOG/$f.time" ] && printf '  %-16s %9s s %8s MB peak\n' "$f" "$(wall_s "$LOG/$f.time")" "$(peak_mb "$LOG/$f.time")"
    done
fi
sqlite3 "$DB" "SELECT 'store: ' || (SELECT count(*) FROM addresses) || ' addresses, '
    || (SELECT count(*) FROM neighbourhoods) || ' neighbourhoods, '
    || (SELECT count(*) FROM posts) || ' posts, ' || (SELECT count(*) FROM members) || ' members'"

# ---- geocoder and point in neighbourhood -------------------------------------------
section "geocoder (one thread): $BUILD/bin/geocode_bench $DB"
"$BUILD/bin/geocode_bench" "$DB" | tee "$LOG/geocode_bench.out"

# ---- start-up and memory ----------------------------------------------------------
section "start-up: mapd serve until /healthz answers"
"$MAPD" serve --db "$DB" --listen 127.0.0.1:0 --no-web --auth-per-minute 100000 \
    >"$LOG/serve.out" 2>"$LOG/serve.log" &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null' EXIT
t0=$(date +%s.%N)
ADDR=
for _ in $(seq 1200); do
    ADDR=$(sed -n '1s|^mapd: serving http://\([0-9.]*:[0-9]*\)/.*|\1|p' "$LOG/serve.out")
    [ -n "$ADDR" ] && curl -fsS -o /dev/null "http://$ADDR/healthz" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG/serve.out" "$LOG/serve.log" >&2; exit 1; }
    sleep 0.05
done
ready=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status")
echo "  /healthz ready after $ready s (target <= 20 s: $(le "$ready" 20)); RSS $rss MB (target <= 6144 MB: $(le "$rss" 6144))"
grep -v '^127\.0\.0\.1' "$LOG/serve.log" | sed 's/^/  log: /' | head -20

# ---- the HTTP API -------------------------------------------------------------------
section "HTTP API on the same database (tests/bench/api.sh)"
read -r LISTER LISTER2 < <(/usr/bin/python3 "$HERE/scale_listers.py" "http://$ADDR" "$DB")
echo "  two members registered in the neighbourhood with the most live posts: $LISTER, $LISTER2"
API_DB=$DB API_EMAIL=$LISTER API_EMAIL2=$LISTER2 API_PASSWORD=scale-bench-password \
    "$HERE/api.sh" "$BUILD" | sed -n '/^HTTP API on/,$p'

# ---- accounts -------------------------------------------------------------------------
section "registration and login ($(sqlite3 "$DB" 'SELECT count(*) FROM members') members)"
/usr/bin/python3 "$HERE/scale_accounts.py" "http://$ADDR" "$DB" "${ACCOUNTS:-200}"

kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
trap - EXIT

# ---- tiles ------------------------------------------------------------------------------
section "uncached tiles, the staff view (every layer), mapd tile --batch"
/usr/bin/python3 - "$DB" "${TILES_PER_ZOOM:-100}" >"$LOG/tiles.txt" <<'EOF'
import math, random, sqlite3, struct, sys
db, per = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
top = con.execute("SELECT max(id) FROM addresses").fetchone()[0]
rng = random.Random(20200317)
for z in (6, 8, 10, 12, 14, 16):
    done = 0
    while done < per:
        row = con.execute("SELECT geom FROM addresses WHERE id >= ? LIMIT 1",
                          (rng.randint(1, top),)).fetchone()
        if not row:
            continue
        lon, lat = struct.unpack_from("<dd", row[0], 6)   # a SpatiaLite point's MBR
        n = 1 << z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        print(z, x, y)
        done += 1
EOF
"$MAPD" tile --batch --db "$DB" --viewer all <"$LOG/tiles.txt" >"$LOG/tiles.batch"
python3 - "$LOG/tiles.batch" <<'EOF'
import statistics, sys
by = {}
for line in open(sys.argv[1]):
    z, x, y, size, us = line.split()
    by.setdefault(int(z), []).append((int(us) / 1000, int(size)))
for z in sorted(by):
    t = sorted(v[0] for v in by[z])
    b = sorted(v[1] for v in by[z])
    med = statistics.median(t)
    print("  z%-3d median %8.1f ms   p90 %8.1f ms   max %8.1f ms   median %7d bytes   (%d tiles)"
          "   target median <= 50 ms: %s" % (z, med, t[int(len(t) * 0.9)], t[-1], statistics.median(b),
                                             len(t), "met" if med <= 50 else "NOT met"))
EOF

section "the z0-z10 pyramid of the country to files"
rm -rf "$LOG/pyramid"
timed pyramid "$MAPD" tile --pyramid --minzoom 0 --maxzoom 10 --viewer all --db "$DB" --out "$LOG/pyramid"
echo "  $(wall_s "$LOG/pyramid.time") s, $(peak_mb "$LOG/pyramid.time") MB peak (target <= 60 s:" \
     "$(le "$(wall_s "$LOG/pyramid.time")" 60)): $(tail -1 "$LOG/pyramid.out")"
rm -rf "$LOG/pyramid"
