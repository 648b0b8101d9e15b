#!/usr/bin/env bash
# tests/api/serve.sh MAPD WEBDIR — a real `mapd serve` on 127.0.0.1 with an
# ephemeral port: health, the web page, problem+json errors, path traversal,
# request bodies, and a clean stop on SIGTERM.
MAPD=$1
WEB=$2
source "$(dirname "$0")/../cli/lib.sh"
FIX=$(dirname "$0")/../fixtures/secondcity
DB=$WORK/city.sqlite
"$MAPD" import neighbourhoods "$FIX/quartiers.geojson" --db "$DB" >/dev/null

"$MAPD" serve --db "$DB" --listen 127.0.0.1:0 --web "$WEB" >"$WORK/stdout" 2>"$WORK/log" &
pid=$!
for _ in $(seq 1 100); do
    grep -q "serving http" "$WORK/stdout" 2>/dev/null && break
    sleep 0.05
done
base=$(sed -nE 's/.*serving (http:\/\/[0-9.]+:[0-9]+)\/.*/\1/p' "$WORK/stdout")
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
check "one access-log line per request, no query strings" \
    bash -c "curl -s '$base/healthz?q=12+rue+secrete' >/dev/null; sleep 0.2; ! grep -q secrete '$WORK/log' && grep -q '/healthz 200' '$WORK/log'"

kill -TERM "$pid"
rc=0
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid" || rc=$?
check "SIGTERM stops the server with exit 0" [ "$rc" -eq 0 ]
check "the database is closed cleanly (no WAL left)" [ ! -s "$DB-wal" ]
finish
