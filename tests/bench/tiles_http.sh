#!/usr/bin/env bash
# tests/bench/tiles_http.sh [BUILD_DIR] — cached vector tiles over HTTP:
# `mapd serve` against nginx serving the same bytes as static files, in one
# run.
#
#   mapd    GET /tiles/Z/X/Y.mvt from its tile cache (warmed first: every tile
#           of the list asked for once), as an anonymous visitor, gzip
#           accepted: the cached gzip body is sent as it is
#   nginx   the same gzip bodies, saved from mapd's answers, as static files
#           under a private configuration: sendfile on, keep-alive,
#           Content-Encoding: gzip added, worker_processes auto
#
# wrk -t2 -c32 -d10s on loopback, keep-alive, tests/bench/tiles_http.lua
# cycling over the tile list of tests/bench/tiles.sh (1,000 addresses at
# zooms 10 to 16). Both servers write an access log line per request to a
# file. Runs interleaved: nginx, mapd, nginx, mapd (ROUNDS pairs, default 2).
#
# Target: mapd at least 1.0x nginx's requests per second over the run (the
# mean of its rounds); the lowest round and the rounds below nginx are printed
# too. A benchmark, not a test: exits 0 whatever the figures, non-zero only
# when something fails to run. DURATION, THREADS, CONNECTIONS override wrk's
# -d, -t, -c. TILES_STORE=postgresql serves from the PostgreSQL store instead:
# a private PostgreSQL 15 (tests/pg/pg_private.sh) holding the same data.
NAME=tiles_http.sh
source "$(dirname "$0")/tiles_lib.sh"
bench_init "${1:-build}"
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}

need_packages wrk curl sqlite3 libsqlite3-mod-spatialite python3
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_packages nginx-light
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
build_db
make_tile_list "$OUT/tiles.txt"
awk '!seen[$0]++' "$OUT/tiles.txt" >"$OUT/tiles_distinct.txt"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ "${TILES_STORE:-}" = postgresql ]; then
    . "$(dirname "$0")/../pg/pg_private.sh"
    mkdir -p "$OUT/pgs" && chmod 755 "$OUT" "$OUT/pgs"
    pg_private_start "$OUT/pgs" >/dev/null || die "cannot start PostgreSQL"
    bench_at_exit 'pg_private_stop "$OUT/pgs"'
    DB=$PG_CONNINFO
    echo "the same data into PostgreSQL $(psql "$DB" -qAtX -c 'SHOW server_version')"
    build_db_into "$DB"
fi

# ---- mapd ----------------------------------------------------------------------------
"$MAPD" serve --db "$DB" --listen 127.0.0.1:0 >"$OUT/serve.out" 2>"$OUT/serve.log" &
SERVER_PID=$!
bench_at_exit 'kill -TERM $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null'
MAPD_ADDR=
for _ in $(seq 600); do
    MAPD_ADDR=$(sed -n '1s|^mapd: serving http://\([0-9.]*:[0-9]*\)/.*|\1|p' "$OUT/serve.out")
    [ -n "$MAPD_ADDR" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$MAPD_ADDR" ] || { cat "$OUT/serve.out" "$OUT/serve.log" >&2; die "mapd serve did not start"; }
echo "$(head -1 "$OUT/serve.out")"

# Warming the cache, and keeping the bodies for nginx: every tile once.
echo "asking mapd for the $(wc -l <"$OUT/tiles_distinct.txt") distinct tiles once (cache warm-up)"
mkdir -p "$OUT/static"
while read -r z x y; do
    mkdir -p "$OUT/static/tiles/$z/$x"
    code=$(curl -sS -H 'Accept-Encoding: gzip' -o "$OUT/static/tiles/$z/$x/$y.mvt" \
        -w '%{http_code}' "http://$MAPD_ADDR/tiles/$z/$x/$y.mvt")
    [ "$code" = 200 ] || die "GET /tiles/$z/$x/$y.mvt: HTTP $code"
done <"$OUT/tiles_distinct.txt"
curl -sS -D "$OUT/mapd.headers" -o /dev/null -H 'Accept-Encoding: gzip' \
    "http://$MAPD_ADDR/tiles/$(head -1 "$OUT/tiles.txt" | tr ' ' /).mvt"

# ---- nginx -----------------------------------------------------------------------------
NGINX_PORT=$(free_port)
mkdir -p "$OUT/nginx/tmp"
cat >"$OUT/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log $OUT/nginx/access.log;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path $OUT/nginx/tmp/body;
    proxy_temp_path $OUT/nginx/tmp/proxy;
    fastcgi_temp_path $OUT/nginx/tmp/fastcgi;
    uwsgi_temp_path $OUT/nginx/tmp/uwsgi;
    scgi_temp_path $OUT/nginx/tmp/scgi;
    types { }
    default_type application/vnd.mapbox-vector-tile;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $OUT/static;
        location /tiles/ {
            add_header Content-Encoding gzip;
            add_header Cache-Control "public, no-cache";
        }
    }
}
EOF
"$NGINX" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -g 'daemon off;' 2>"$OUT/nginx/stderr" &
NGINX_PID=$!
bench_at_exit 'kill -QUIT $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null'
NGINX_ADDR=127.0.0.1:$NGINX_PORT
for i in $(seq 100); do
    curl -fsS -o /dev/null "http://$NGINX_ADDR/tiles/$(head -1 "$OUT/tiles.txt" | tr ' ' /).mvt" \
        2>/dev/null && break
    [ "$i" = 100 ] && { cat "$OUT/nginx/stderr" "$OUT/nginx/error.log" >&2; die "nginx did not start"; }
    sleep 0.1
done
echo "nginx $("$NGINX" -v 2>&1 | sed 's|.*/||') on $NGINX_ADDR, $(grep -c ^processor /proc/cpuinfo) workers"
curl -sS -D "$OUT/nginx.headers" -o /dev/null -H 'Accept-Encoding: gzip' \
    "http://$NGINX_ADDR/tiles/$(head -1 "$OUT/tiles.txt" | tr ' ' /).mvt"

# The same bytes from both, for a sample of tiles.
same=0
while read -r z x y; do
    for a in "$MAPD_ADDR" "$NGINX_ADDR"; do
        curl -sS -H 'Accept-Encoding: gzip' -o "$OUT/cmp.${a##*:}" "http://$a/tiles/$z/$x/$y.mvt"
    done
    cmp -s "$OUT/cmp.${MAPD_ADDR##*:}" "$OUT/cmp.$NGINX_PORT" && same=$((same + 1))
done < <(awk 'NR % 10 == 1' "$OUT/tiles_distinct.txt")
echo "identical gzip bodies from both for $same of $(awk 'NR % 10 == 1' "$OUT/tiles_distinct.txt" | wc -l) tiles sampled;" \
     "gzip bytes per tile: median $(find "$OUT/static" -name '*.mvt' -printf '%s\n' | sort -n \
        | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
echo "response headers, mapd:"; tr -d '\r' <"$OUT/mapd.headers" | sed '/^$/d; s/^/    /'
echo "response headers, nginx:"; tr -d '\r' <"$OUT/nginx.headers" | sed '/^$/d; s/^/    /'

# ---- measurements ------------------------------------------------------------------------
run_wrk() {   # run_wrk NAME ADDR
    local cmd=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$HERE/tiles_http.lua"
               "http://$2" -- "$OUT/tiles.txt")
    WRK_CMD=$(quote "${cmd[@]}")
    echo
    echo "== $1"
    "${cmd[@]}" | tee "$OUT/$1.wrk"
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$OUT/$1.wrk"; }
pct() { awk -v p="$2%" '$1 == p { print $2 }' "$OUT/$1.wrk"; }
errors() {
    awk '/Non-2xx or 3xx responses:/ { n += $NF }
         /Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$OUT/$1.wrk"
}
for r in $(seq "$ROUNDS"); do
    run_wrk "nginx.$r" "$NGINX_ADDR"
    run_wrk "mapd.$r" "$MAPD_ADDR"
done

# ---- the table ---------------------------------------------------------------------------
echo
echo "cached tiles over HTTP, $(nproc) cores shared by wrk and the server, wrk -t$THREADS" \
     "-c$CONNECTIONS -d$DURATION, keep-alive, $(date -u +%Y-%m-%d)"
printf '  %-6s %12s %9s %9s %12s %9s %9s %8s\n' round "nginx req/s" p50 p99 "mapd req/s" p50 p99 ratio
lowest=
for r in $(seq "$ROUNDS"); do
    ratio=$(awk -v m="$(rps "mapd.$r")" -v n="$(rps "nginx.$r")" 'BEGIN { printf "%.2f", m / n }')
    printf '  %-6s %12s %9s %9s %12s %9s %9s %7sx\n' "$r" "$(rps "nginx.$r")" "$(pct "nginx.$r" 50)" \
        "$(pct "nginx.$r" 99)" "$(rps "mapd.$r")" "$(pct "mapd.$r" 50)" "$(pct "mapd.$r" 99)" "$ratio"
    lowest=$(awk -v a="${lowest:-$ratio}" -v b="$ratio" 'BEGIN { print (b < a) ? b : a }')
    for s in "nginx.$r" "mapd.$r"; do
        [ "$(errors "$s")" = 0 ] || echo "  WARNING: $s: $(errors "$s") non-2xx answers or socket errors"
    done
done
# The run: each server's requests/s over all its rounds (the mean of the
# rounds, all of the same length), and how many rounds fell below nginx's.
run_n=0 run_m=0 below=0
for r in $(seq "$ROUNDS"); do
    run_n=$(awk -v a="$run_n" -v b="$(rps "nginx.$r")" 'BEGIN { print a + b }')
    run_m=$(awk -v a="$run_m" -v b="$(rps "mapd.$r")" 'BEGIN { print a + b }')
    awk -v m="$(rps "mapd.$r")" -v n="$(rps "nginx.$r")" 'BEGIN { exit !(m < n) }' && below=$((below + 1))
done
run_ratio=$(awk -v m="$run_m" -v n="$run_n" 'BEGIN { printf "%.2f", m / n }')
printf '  %-6s %12.0f %9s %9s %12.0f %9s %9s %7sx\n' mean "$(awk -v a="$run_n" -v r="$ROUNDS" 'BEGIN { print a / r }')" \
    "" "" "$(awk -v a="$run_m" -v r="$ROUNDS" 'BEGIN { print a / r }')" "" "" "$run_ratio"
echo "target: mapd at least 1.0x nginx's requests/s in the same run: ${run_ratio}x over the run:" \
     "$(awk -v r="$run_ratio" 'BEGIN { print (r >= 1.0) ? "met" : "NOT met" }');" \
     "lowest round ${lowest}x, $below of $ROUNDS rounds below nginx"
echo "command (URL = http://ADDRESS of each server):"
echo "  ${WRK_CMD/http:\/\/$MAPD_ADDR/URL}"
