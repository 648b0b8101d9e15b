#!/usr/bin/env bash
# tests/bench/mixed_writes.sh [BUILD_DIR] — reads under a steady stream of
# writes: for DURATION (60s unless set), five wrk runs at once against one
# `mapd serve`, while a second process (mixed_writes.py) makes about RATE
# (100) writes a second as several real members; then every acknowledged
# write is read back, through the API and, once the server has stopped, in
# the database.
#
#   tiles         GET /tiles/{z}/{x}/{y}.mvt, z12 to z16 around the writers'
#                 homes, as a member (their needs layer changes under the writes)
#   lists         GET /api/posts?near=LON,LAT&radius=1000&limit=50, as a member
#   geocode       GET /api/geocode?q=ADDRESS, 500 addresses of the sample
#   ogc needs     GET /ogc/collections/needs/items?bbox=…&limit=100, as staff
#   ogc shops     GET /ogc/collections/shops/items?bbox=…&limit=100, anonymous
#   writes        creations, claims, completions (POST /api/posts, …/claim,
#                 …/done) as MEMBERS members, and shop updates (PATCH
#                 /api/shops/{id}) as staff
#
# The table gives per route requests/s, p50 and p99, and the answers that
# matter: 5xx (must be 0) and, for the writes, the acknowledged ones read
# back wrong (lost: must be 0). A benchmark, not a test: exits 0 whatever
# the figures, non-zero only when something fails to run. DURATION, RATE,
# MEMBERS (10) and CONNECTIONS (per route, 4) override the defaults, and
# SERVE_ARGS adds arguments to mapd serve (e.g. "--threads 8"); every part
# stops by itself (wrk -d, the writer's clock, timeouts).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/serve_lib.sh"
DURATION=${DURATION:-60s}
RATE=${RATE:-100}
MEMBERS=${MEMBERS:-10}
PER_ROUTE=${CONNECTIONS:-4}
bench_init mixed_writes "${1:-build}"
# As root (a container, a benchmark machine), mapd serve must be told.
[ "$(id -u)" != 0 ] || export MAPD_ALLOW_ROOT=1
trap bench_cleanup EXIT
STAFF=moderation@entraide.example
PASSWORD=entraide-demo
case $DURATION in     # the writer's clock, in seconds, from wrk's -d
    *[0-9]s) SECONDS_RUN=${DURATION%s} ;;
    *[0-9]m) SECONDS_RUN=$(( ${DURATION%m} * 60 )) ;;
    *[0-9]) SECONDS_RUN=$DURATION; DURATION=${DURATION}s ;;
    *) echo "mixed_writes.sh: DURATION is seconds or minutes, e.g. 60s or 2m" >&2; exit 1 ;;
esac

# ---- the database: the sample, 20,000 seeded posts, MEMBERS writers ----
bench_database 20000
NB=$(sqlite3 "$DB" "SELECT neighbourhood_id FROM members WHERE email = 'benevole@entraide.example'")
python3 - "$MAPD" "$DB" "$NB" "$MEMBERS" "$OUT" <<'PY'
import json, sqlite3, subprocess, sys
mapd, db, nb, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
c = sqlite3.connect(db)
members = []
for number, street, postcode in c.execute(
        "SELECT number, street, postcode FROM addresses WHERE neighbourhood_id = ? AND rep = '' "
        "ORDER BY id LIMIT 200", (nb,)).fetchall():
    email = "mixte%d@example.org" % len(members)
    r = subprocess.run([mapd, "user", "add", "--db", db, "--email", email, "--role", "member",
                        "--address", "%s %s %s" % (number, street, postcode), "--password-stdin"],
                       input="correct horse\n", capture_output=True, text=True)
    if r.returncode == 0:
        members.append({"email": email, "password": "correct horse"})
    if len(members) == n:
        break
if len(members) < n:
    sys.exit("mixed_writes.sh: only %d members could be added" % len(members))
shops = [s for (s,) in c.execute("SELECT id FROM shops ORDER BY id LIMIT 120")]
with open(out + "/accounts.json", "w") as f:
    json.dump({"members": members, "staff": {"email": "moderation@entraide.example",
                                            "password": "entraide-demo"}, "shops": shops}, f)
PY

# ---- the paths each wrk walks ----
python3 - "$DB" "$NB" "$OUT" <<'PY'
import math, random, sqlite3, sys
from urllib.parse import quote
db, nb, out = sys.argv[1], sys.argv[2], sys.argv[3]
c = sqlite3.connect(db)
rnd = random.Random(1)
homes = c.execute("SELECT home_lon, home_lat FROM members WHERE neighbourhood_id = ? "
                  "AND home_lon IS NOT NULL", (nb,)).fetchall()
homes += c.execute("SELECT home_lon, home_lat FROM members WHERE home_lon IS NOT NULL "
                   "ORDER BY id LIMIT 200").fetchall()
def tile(lon, lat, z):
    n = 2 ** z
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)
tiles = set()
while len(tiles) < 400:
    lon, lat = rnd.choice(homes)
    z = rnd.choice((12, 13, 14, 15, 16))
    tiles.add((z, *tile(lon + rnd.uniform(-0.01, 0.01), lat + rnd.uniform(-0.01, 0.01), z)))
with open(out + "/tiles.paths", "w") as f:
    for z, x, y in sorted(tiles, key=lambda t: rnd.random()):
        f.write("/tiles/%d/%d/%d.mvt\n" % (z, x, y))
with open(out + "/lists.paths", "w") as f:
    for lon, lat in rnd.sample(homes, min(300, len(homes))):
        f.write("/api/posts?near=%.6f,%.6f&radius=1000&limit=50\n" % (lon, lat))
with open(out + "/geocode.paths", "w") as f:
    for number, rep, street, postcode in c.execute(
            "SELECT number, rep, street, postcode FROM addresses ORDER BY random() LIMIT 500"):
        f.write("/api/geocode?q=%s\n" % quote("%s%s %s %s" % (number, (" " + rep) if rep else "",
                                                              street, postcode)))
def boxes(collection):
    rows = []
    for lon, lat in rnd.sample(homes, min(200, len(homes))):
        d = rnd.choice((0.005, 0.01, 0.02))
        rows.append("/ogc/collections/%s/items?bbox=%.5f,%.5f,%.5f,%.5f&limit=100"
                    % (collection, lon - d, lat - d * 0.66, lon + d, lat + d * 0.66))
    return rows
with open(out + "/ogc_needs.paths", "w") as f:
    f.write("\n".join(boxes("needs")) + "\n")
with open(out + "/ogc_shops.paths", "w") as f:
    f.write("\n".join(boxes("shops")) + "\n")
PY

# ---- the server, on a free port; the sessions of the readers ----
# shellcheck disable=SC2086 # SERVE_ARGS: words for mapd serve, e.g. "--threads 8"
bench_serve "$MAPD" "$DB" "$OUT" --auth-per-minute 100000 ${SERVE_ARGS:-}
head -1 "$OUT/serve.out"
bench_login "$BASE" "$STAFF" "$PASSWORD" "$OUT"
STAFF_COOKIE=$COOKIE
bench_login "$BASE" benevole@entraide.example "$PASSWORD" "$OUT"
MEMBER_COOKIE=$COOKIE
for r in tiles lists geocode ogc_needs ogc_shops; do
    cookie=
    case $r in tiles|lists) cookie=$MEMBER_COOKIE ;; ogc_needs) cookie=$STAFF_COOKIE ;; esac
    first=$(head -1 "$OUT/$r.paths")
    st=$(curl -s -o /dev/null -w '%{http_code}' ${cookie:+-H "Cookie: $cookie"} "$BASE$first")
    [ "$st" = 200 ] || { echo "mixed_writes.sh: GET $first answers $st" >&2; exit 1; }
done

# ---- the run: five wrk and the writer at once ----
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# The writer logs its members in first; the readers start once it is ready.
timeout $((SECONDS_RUN + 300)) python3 "$HERE/mixed_writes.py" "$ADDR" "$OUT/accounts.json" \
    "$SECONDS_RUN" "$RATE" "$OUT/writes.json" "$OUT/writer.ready" &
WRITER=$!
for _ in $(seq 600); do
    [ -e "$OUT/writer.ready" ] && break
    kill -0 "$WRITER" 2>/dev/null || break
    sleep 0.1
done
[ -e "$OUT/writer.ready" ] || { echo "mixed_writes.sh: the writer did not get ready" >&2; exit 1; }
echo "running for $DURATION: 5 routes x wrk -t1 -c$PER_ROUTE, and $RATE writes/s as $MEMBERS members"
declare -A COOKIES=([tiles]=$MEMBER_COOKIE [lists]=$MEMBER_COOKIE [ogc_needs]=$STAFF_COOKIE)
PIDS=()
COMMANDS=()
for r in tiles lists geocode ogc_needs ogc_shops; do
    cmd=(wrk -t1 -c"$PER_ROUTE" -d"$DURATION" --timeout 10s --latency -s "$HERE/mixed_writes.lua")
    [ -z "${COOKIES[$r]:-}" ] || cmd+=(-H "Cookie: ${COOKIES[$r]}")
    cmd+=("$BASE" -- "$OUT/$r.paths")
    COMMANDS+=("$(printf '%q ' "${cmd[@]}" | sed 's/entraide_session=[^ ]*/entraide_session=…/')")
    timeout $((SECONDS_RUN + 60)) "${cmd[@]}" >"$OUT/$r.wrk" 2>&1 &
    PIDS+=($!)
done
for p in "${PIDS[@]}"; do wait "$p" || echo "WARNING: a wrk run exited $?"; done
wait "$WRITER" || { echo "mixed_writes.sh: the writer failed" >&2; exit 1; }

# ---- the server stops; every acknowledged write, in the database ----
bench_stop
LOST_DB=$(python3 - "$DB" "$OUT/writes.json" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
w = json.load(open(sys.argv[2]))
lost = 0
for pid, status in w["posts"].items():
    row = c.execute("SELECT status FROM posts WHERE id = ?", (int(pid),)).fetchone()
    lost += (not row or row[0] != status)
for sid, status in w["shops"].items():
    row = c.execute("SELECT status FROM shops WHERE id = ?", (int(sid),)).fetchone()
    lost += (not row or row[0] != status)
print(lost)
PY
)

# ---- the table ----
field() { sed -n "s/^mixed:.* $2=\([^ ]*\).*/\1/p" "$OUT/$1.wrk"; }
jq_() { python3 -c 'import json, sys; w = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$OUT/writes.json" "$1"; }
echo
echo "mixed load on $ADDR ($(sed -n 's/.*(\([0-9]* threads\).*/\1/p' "$OUT/serve.out" | head -1)), $(nproc) cores" \
     "shared by mapd, wrk and the writer; $DURATION; load average before: $LOAD_BEFORE"
echo "database: Paris sample + mapd seed --posts 20000, on $(stat -f -c %T "$OUT") ($OUT)"
printf '  %-12s %9s %9s %9s %9s %6s %7s %7s\n' route "req/s" p50 p99 requests 5xx "other" sockerr
TOTAL_5XX=0
for r in tiles lists geocode ogc_needs ogc_shops; do
    printf '  %-12s %9s %9s %9s %9s %6s %7s %7s\n' "${r/_/ }" "$(wrk_rps "$OUT/$r.wrk")" \
        "$(wrk_pct "$OUT/$r.wrk" 50)" "$(wrk_pct "$OUT/$r.wrk" 99)" "$(field "$r" requests)" \
        "$(field "$r" 5xx)" "$(field "$r" other)" "$(field "$r" socket_errors)"
    TOTAL_5XX=$((TOTAL_5XX + $(field "$r" 5xx)))
done
for k in create claim "done" shop; do
    printf '  %-12s %9s %8sms %8sms %9s %6s %7s %7s\n' "write $k" "-" "$(jq_ "w['p50_ms'].get('$k')")" \
        "$(jq_ "w['p99_ms'].get('$k')")" "$(jq_ "sum(w['answers'].get('$k', {}).values())")" \
        "$(jq_ "sum(c for s, c in w['answers'].get('$k', {}).items() if int(s) >= 500)")" \
        "$(jq_ "sum(c for s, c in w['answers'].get('$k', {}).items() if 0 < int(s) < 200 or 300 <= int(s) < 500)")" \
        "$(jq_ "w['answers'].get('$k', {}).get('0', 0)")"
done
WRITE_5XX=$(jq_ "w['server_errors']")
LOST_API=$(jq_ "len(w['lost_api'])")
echo "  writes: $(jq_ "w['writes']") in $(jq_ "w['seconds']") s ($(jq_ "w['writes_per_s']")/s), p50 $(jq_ "w['p50_all_ms']") ms," \
     "p99 $(jq_ "w['p99_all_ms']") ms; answers $(jq_ "w['answers']")"
echo "  5xx: $((TOTAL_5XX + WRITE_5XX)) (reads $TOTAL_5XX, writes $WRITE_5XX) — must be 0"
echo "  lost writes: $LOST_API of $(jq_ "w['acknowledged']") acknowledged read back wrong through the API," \
     "$LOST_DB in the database after the server stopped — must be 0"
[ "$LOST_API" = 0 ] || echo "  WARNING: read back wrong: $(jq_ "w['lost_api'][:10]")"
echo "wrk commands (sessions elided):"
printf '  %s\n' "${COMMANDS[@]}"
echo "writer: python3 tests/bench/mixed_writes.py $ADDR accounts.json $SECONDS_RUN $RATE writes.json"
