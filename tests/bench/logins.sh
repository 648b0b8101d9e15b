#!/usr/bin/env bash
# tests/bench/logins.sh [BUILD_DIR] — does a login flood slow the other
# routes? wrk on a read route (a member's 50 posts within 1 km, from the
# read model) without a flood, then while 60 client addresses (127.0.0.2 to
# 127.0.0.61) each send wrong-password logins, one after the other, as fast
# as the server answers; p50, p99 and the ratio of the p99s, and how many
# logins were checked (401) or turned away at once (503: the hashing queue
# full) meanwhile.
#
# The server runs with its defaults but --auth-per-minute 100000 (so that
# the per-address limit does not hide the flood). Password checks run on
# --hash-threads threads (half the cores by default), off the request
# threads (mapd/pool.h). A benchmark, not a test: exits 0 whatever the
# figures. DURATION, THREADS, CONNECTIONS override wrk's -d, -t, -c (10s, 2, 32).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/serve_lib.sh"
bench_init logins "${1:-build}"
FLOOD_PID=
cleanup() {
    [ -n "$FLOOD_PID" ] && kill "$FLOOD_PID" 2>/dev/null || true
    bench_cleanup
}
trap cleanup EXIT

bench_database 100000
bench_serve "$MAPD" "$DB" "$OUT" --auth-per-minute 100000
bench_login "$BASE" benevole@entraide.example entraide-demo "$OUT"
read -r LON LAT < <(sqlite3 -separator ' ' "$DB" \
    "SELECT home_lon, home_lat FROM members WHERE email = 'benevole@entraide.example'")
LIST="$BASE/api/posts?near=$LON,$LAT&radius=1000&limit=50"
load() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: $COOKIE" "$LIST" >"$OUT/$1.wrk"; }

load calm
python3 - "$ADDR" "$OUT/flood.counts" <<'PY' &
import http.client, json, signal, sys, threading
host, port = sys.argv[1].split(":")
out = sys.argv[2]
counts, lock, stop = {}, threading.Lock(), threading.Event()
def flood(i):
    c = http.client.HTTPConnection(host, int(port), timeout=60, source_address=("127.0.0.%d" % (2 + i), 0))
    # an account each: one account alone is soon refused cheaply (429) by the
    # per-account limit; many accounts keep every attempt a password hash
    body = json.dumps({"email": "flood%d@entraide.example" % i, "password": "not %d" % i})
    while not stop.is_set():
        try:
            c.request("POST", "/api/session", body, {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            st = r.status
        except (OSError, http.client.HTTPException):
            c = http.client.HTTPConnection(host, int(port), timeout=60, source_address=("127.0.0.%d" % (2 + i), 0))
            st = 0
        with lock:
            counts[st] = counts.get(st, 0) + 1
def done(*_):
    stop.set()
signal.signal(signal.SIGTERM, done)
threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(60)]
for t in threads:
    t.start()
stop.wait()
with open(out, "w") as f:
    json.dump(counts, f)
PY
FLOOD_PID=$!
sleep 1
load flood
kill -TERM "$FLOOD_PID"; wait "$FLOOD_PID" 2>/dev/null || true; FLOOD_PID=
sleep 1
load after

ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v } else { sub(/s$/, "", v); print v * 1000 } }'; }
echo
echo "a member's 50 posts within 1 km, with and without a login flood from 60 addresses," \
     "$(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
printf '  %-26s %10s %10s %10s\n' phase "req/s" p50 p99
for phase in calm flood after; do
    printf '  %-26s %10s %10s %10s\n' "$phase" "$(wrk_rps "$OUT/$phase.wrk")" \
        "$(wrk_pct "$OUT/$phase.wrk" 50)" "$(wrk_pct "$OUT/$phase.wrk" 99)"
done
b=$(ms "$(wrk_pct "$OUT/calm.wrk" 99)"); d=$(ms "$(wrk_pct "$OUT/flood.wrk" 99)")
echo "  p99 during the flood / calm = $(awk -v d="$d" -v b="$b" 'BEGIN { printf "%.2f", d / b }')"
echo "  the flood's logins by answer (401 checked, 503 turned away at once): $(cat "$OUT/flood.counts")"
