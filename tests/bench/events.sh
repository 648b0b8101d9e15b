#!/usr/bin/env bash
# tests/bench/events.sh [BUILD_DIR] — do open live streams (GET /api/events)
# slow the ordinary requests? The same wrk load on a member's list of posts
# (GET /api/posts?near=..., 50 within 1 km) and on her account (GET /api/me),
# first with no stream open, then with STREAMS (500) idle streams held open
# by another process, then with none again; p50 and p99 of each, and the
# ratio of the p99s with and without.
#
# The streams come from ten loopback addresses (127.0.0.2 to 127.0.0.11):
# libmicrohttpd allows 256 connections per address. The server runs with
# --events-per-address 1000 and --events-heartbeat 10 (the default), so
# the streams get their heartbeats during the load. A benchmark, not a
# test: exits 0 whatever the figures, non-zero only when something fails to
# run. DURATION, THREADS, CONNECTIONS override wrk's -d, -t, -c (10s, 2, 32).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/serve_lib.sh"
bench_init events "${1:-build}"
STREAMS=${STREAMS:-500}
HOLDER_PID=
cleanup() {
    [ -n "$HOLDER_PID" ] && kill "$HOLDER_PID" 2>/dev/null || true
    bench_cleanup
}
trap cleanup EXIT

bench_database 100000

bench_serve "$MAPD" "$DB" "$OUT" --events-per-address 1000 --events-max 2000

bench_login "$BASE" benevole@entraide.example entraide-demo "$OUT"
read -r LON LAT < <(sqlite3 -separator ' ' "$DB" \
    "SELECT home_lon, home_lat FROM members WHERE email = 'benevole@entraide.example'")
LIST="$BASE/api/posts?near=$LON,$LAT&radius=1000&limit=50"

run() {   # run NAME: the two loads, one after the other
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: $COOKIE" "$LIST" >"$OUT/$1.list"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Cookie: $COOKIE" "$BASE/api/me" >"$OUT/$1.me"
}
streams() { curl -fsS "$BASE/metrics" | sed -n 's/^mapd_event_streams //p'; }

run before
echo "opening $STREAMS idle streams"
python3 - "$ADDR" "$STREAMS" "$OUT/holder.ready" <<'PY' &
import signal, socket, sys, time
host, port = sys.argv[1].split(":")
n, ready = int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection((host, int(port)), source_address=("127.0.0.%d" % (2 + i % 10), 0))
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    socks.append(s)
for s in socks:            # each has its answer's head and ": connected"
    s.settimeout(10)
    got = b""
    while b"connected" not in got:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("events.sh: a stream did not open: %r" % got[:200])
        got += chunk
open(ready, "w").close()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:                # read the heartbeats, as a browser would
    for s in socks:
        s.settimeout(0)
        try:
            s.recv(65536)
        except BlockingIOError:
            pass
    time.sleep(1)
PY
HOLDER_PID=$!
for _ in $(seq 300); do [ -f "$OUT/holder.ready" ] && break; kill -0 "$HOLDER_PID" || exit 1; sleep 0.1; done
[ -f "$OUT/holder.ready" ] || { echo "events.sh: the streams did not open" >&2; exit 1; }
OPEN=$(streams)
run during
kill "$HOLDER_PID"; wait "$HOLDER_PID" 2>/dev/null || true; HOLDER_PID=
sleep 12   # closed streams are noticed at their next heartbeat
run after

rps() { wrk_rps "$1"; }
pct() { wrk_pct "$1" "$2"; }
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v } else { sub(/s$/, "", v); print v * 1000 } }'; }
echo
echo "ordinary requests with and without $STREAMS idle live streams ($OPEN open during the load," \
     "$(streams) after), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
printf '  %-34s %-8s %10s %10s %10s\n' route streams "req/s" p50 p99
for r in list me; do
    name=$([ $r = list ] && echo "a member's 50 posts within 1 km" || echo "her account (GET /api/me)")
    for phase in before during after; do
        printf '  %-34s %-8s %10s %10s %10s\n' "$name" \
            "$([ $phase = during ] && echo "$STREAMS" || echo "0 ($phase)")" \
            "$(rps "$OUT/$phase.$r")" "$(pct "$OUT/$phase.$r" 50)" "$(pct "$OUT/$phase.$r" 99)"
    done
    b=$(ms "$(pct "$OUT/before.$r" 99)"); d=$(ms "$(pct "$OUT/during.$r" 99)")
    echo "  $name: p99 with the streams / without = $(awk -v d="$d" -v b="$b" 'BEGIN { printf "%.2f", d / b }')"
done
