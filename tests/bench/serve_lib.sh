# tests/bench/serve_lib.sh — what the HTTP benchmarks share (sourced, not run):
# their setting up, a database of the Paris sample, a `mapd serve` on a free
# loopback port, a login, and reading wrk's output.
#
#   bench_init NAME [BUILD_DIR]              sets ROOT, BUILD (default build), MAPD,
#                                            SAMPLE, DURATION/THREADS/CONNECTIONS
#                                            (10s, 2, 32 unless set), OUT (a fresh
#                                            directory, removed by bench_cleanup) and
#                                            DB; installs wrk when missing; exits 1
#                                            without a built mapd
#   bench_database POSTS                     imports the sample into DB, seeds POSTS
#   bench_cleanup                            stops the server, removes OUT
#   bench_serve MAPD DB OUT [SERVE_ARGS...]  starts the server; sets SERVER_PID,
#                                            ADDR (host:port) and BASE (http://ADDR)
#                                            once /healthz answers; exits 1 with the
#                                            server's log when it does not start
#   bench_stop                               stops it (SIGTERM), if running
#   bench_login BASE EMAIL PASSWORD OUT      logs in; sets COOKIE and CSRF
#   wrk_rps FILE, wrk_pct FILE P             requests/s and latency percentile P of
#                                            a `wrk --latency` output
#   met VALUE TARGET                         "met" or "NOT met"

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bench_init() {
    local name=$1
    ROOT=$(cd "$BENCH_LIB/../.." && pwd)
    BUILD=${2:-build}
    case $BUILD in /*) ;; *) [ -d "$BUILD" ] || BUILD=$ROOT/$BUILD ;; esac
    [ -d "$BUILD" ] || { echo "$name.sh: no build directory $BUILD: run make build first" >&2; exit 1; }
    BUILD=$(cd "$BUILD" && pwd)
    MAPD=$BUILD/bin/mapd
    SAMPLE=$ROOT/geodata/samples/paris
    DURATION=${DURATION:-10s}
    THREADS=${THREADS:-2}
    CONNECTIONS=${CONNECTIONS:-32}
    [ -x "$MAPD" ] || { echo "$name.sh: $MAPD not found: run make build first" >&2; exit 1; }
    if ! command -v wrk >/dev/null; then
        local sudo=
        [ "$(id -u)" = 0 ] || sudo=sudo
        echo "installing wrk"
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk \
            || { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
    fi
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/entraide-$name-bench.XXXXXX")
    DB=$OUT/$name.sqlite
}

bench_database() {
    echo "building the database (Paris sample, $1 posts) in $OUT"
    "$MAPD" import neighbourhoods "$SAMPLE/neighbourhoods.geojson" --db "$DB" >/dev/null
    "$MAPD" import addresses "$SAMPLE/addresses.csv.gz" --db "$DB" >/dev/null
    "$MAPD" import shops "$SAMPLE/shops.geojson" --db "$DB" >/dev/null
    "$MAPD" seed --db "$DB" --posts "$1" >/dev/null
}

bench_cleanup() {
    bench_stop
    rm -rf "$OUT"
}

bench_serve() {
    local mapd=$1 db=$2 out=$3
    shift 3
    "$mapd" serve --db "$db" --listen 127.0.0.1:0 "$@" >"$out/serve.out" 2>"$out/serve.log" &
    SERVER_PID=$!
    ADDR=
    for _ in $(seq 600); do
        ADDR=$(sed -n '1s|^mapd: serving http://\([0-9.]*:[0-9]*\)/.*|\1|p' "$out/serve.out")
        [ -n "$ADDR" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$ADDR" ]; then
        echo "mapd serve did not start:" >&2
        cat "$out/serve.out" "$out/serve.log" >&2
        exit 1
    fi
    BASE=http://$ADDR
    for i in $(seq 100); do
        curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$BASE/healthz does not answer" >&2
    tail "$out/serve.log" >&2
    exit 1
}

bench_stop() {
    if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}

bench_login() {
    local base=$1 email=$2 password=$3 out=$4
    curl -fsS -D "$out/login.headers" -o "$out/login.json" -H 'Content-Type: application/json' \
        --data "{\"email\":\"$email\",\"password\":\"$password\"}" "$base/api/session"
    COOKIE=$(tr -d '\r' <"$out/login.headers" \
        | sed -n 's/^[Ss]et-[Cc]ookie: *\(entraide_session=[^;]*\).*/\1/p' | head -1)
    CSRF=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["csrf"])' <"$out/login.json")
    [ -n "$COOKIE" ] && [ -n "$CSRF" ] || { echo "login as $email gave no cookie or CSRF token" >&2; exit 1; }
}

wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
wrk_pct() { awk -v p="$2%" '$1 == p { print $2 }' "$1"; }
met() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 >= t) ? "met" : "NOT met" }'; }
