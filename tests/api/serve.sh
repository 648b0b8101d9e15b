#!/usr/bin/env bash
# tests/api/serve.sh MAPD WEBDIR — a real `mapd serve` on 127.0.0.1 with an
# ephemeral port: health, the web page, problem+json errors, path traversal,
# request bodies, a clean stop on SIGTERM, and the access log written in
# batches (within the flush interval, every line kept at a clean stop).
MAPD=$1
WEB=$2
source "$(dirname "$0")/../cli/lib.sh"
FIX=$(dirname "$0")/../fixtures/secondcity
DB=$WORK/city.sqlite
"$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --db "$DB" >/dev/null

# start_server NAME ARGS... — mapd serve with ARGS, stdout in $WORK/NAME.out
# and stderr (the access log) in $WORK/NAME.log; sets pid and base (its URL).
start_server() {
    local name=$1
    shift
    "$MAPD" serve --db "$DB" --listen 127.0.0.1:0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
    pid=$!
    for _ in $(seq 1 100); do
        grep -q "serving http" "$WORK/$name.out" 2>/dev/null && break
        sleep 0.05
    done
    base=$(sed -nE 's/.*serving (http:\/\/[0-9.]+:[0-9]+)\/.*/\1/p' "$WORK/$name.out")
}

start_server main --web "$WEB"
check "server announced its address ($base)" [ -n "$base" ]

status() { curl -s -o "$WORK/body" -w '%{http_code} %{content_type}' "$@"; }

check "GET /healthz" [ "$(status "$base/healthz")" = "200 application/json" ]
check "health body" grep -q '"status":"ok"' "$WORK/body"
check "GET / serves the page" [ "$(status "$base/")" = "200 text/html; charset=utf-8" ]
check "page body" grep -q "<title>Entraide" "$WORK/body"
check "unknown path is a problem+json 404" [ "$(status "$base/nothing-here")" = "404 application/problem+json" ]
check "problem has status and detail" grep -q '"status":404' "$WORK/body"
check "path traversal is refused" [ "$(status --path-as-is "$base/../../etc/passwd" | cut -d' ' -f1)" = 404 ]
check "encoded traversal is refused" [ "$(status --path-as-is "$base/%2e%2e/%2e%2e/etc/passwd" | cut -d' ' -f1)" = 404 ]
check "wrong method is 405" [ "$(status -X DELETE "$base/healthz" | cut -d' ' -f1)" = 405 ]
head -c 10485760 /dev/zero | tr '\0' 'a' >"$WORK/big"
check "a 10 MB body is 413, not read into memory" \
    [ "$(status -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/big" "$base/api/members" | cut -d' ' -f1)" = 413 ]
check "a huge URL is refused, not a crash" \
    [ "$(status "$base/$(head -c 20000 /dev/zero | tr '\0' a)" | cut -d' ' -f1)" -ge 400 ]
check "keep-alive: two requests, one connection" \
    bash -c "curl -sv '$base/healthz' '$base/healthz' 2>&1 | grep -q 'Re-using existing connection'"
# The access log is written in batches, at least every 100 ms by default:
# an idle server's last line must still show up well within a second.
logged() {   # logged FILE PATTERN COUNT: FILE holds COUNT lines matching PATTERN within 1 s
    for _ in $(seq 1 20); do
        [ "$(grep -c -- "$2" "$1")" -ge "$3" ] && return 0
        sleep 0.05
    done
    return 1
}
check "one access-log line per request, no query strings, within the flush interval" \
    bash -c "$(declare -f logged); curl -s '$base/healthz?q=12+rue+secrete' >/dev/null;
             logged '$WORK/main.log' '/healthz 200' 1 && ! grep -q secrete '$WORK/main.log'"
check "access-log line format" \
    grep -qE '^127\.0\.0\.1 GET /healthz 200 [0-9]+ [0-9]+\.[0-9]ms$' "$WORK/main.log"

kill -TERM "$pid"
rc=0
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid" || rc=$?
check "SIGTERM stops the server with exit 0" [ "$rc" -eq 0 ]
check "the database is closed cleanly (no WAL left)" [ ! -s "$DB-wal" ]
# Ten requests reached a handler (the huge URL is refused by libmicrohttpd
# itself, before any handler, within its header memory).
check "all 10 handled requests of the run are in the access log" \
    [ "$(grep '^127\.0\.0\.1 ' "$WORK/main.log" | grep -vc ' 414 ')" -eq 10 ]

# A long flush interval: lines wait in the buffer, and a clean stop writes
# them all, none lost, none cut.
start_server buffered --log-flush-ms 10000
for i in $(seq 1 200); do echo "url = \"$base/healthz?n=$i\""; echo "output = \"/dev/null\""; done >"$WORK/urls"
curl -s -K "$WORK/urls"
sleep 0.3
check "--log-flush-ms 10000 keeps the lines buffered for now" \
    [ "$(grep -c '/healthz 200' "$WORK/buffered.log")" -eq 0 ]
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM with lines buffered: exit 0" [ "$rc" -eq 0 ]
check "the clean stop wrote all 200 lines, whole" \
    [ "$(grep -cE '^127\.0\.0\.1 GET /healthz 200 [0-9]+ [0-9]+\.[0-9]ms$' "$WORK/buffered.log")" -eq 200 ]

# --log-flush-ms 0: each line is written as its request completes.
start_server unbuffered --log-flush-ms 0
check "--log-flush-ms 0 writes the line at once" \
    bash -c "$(declare -f logged); curl -s '$base/healthz' >/dev/null; logged '$WORK/unbuffered.log' '/healthz 200' 1"
kill -TERM "$pid"
wait "$pid" || true
check "--log-flush-ms rejects a value out of range" \
    bash -c "! '$MAPD' serve --db '$DB' --log-flush-ms 10001 2>/dev/null"
finish
