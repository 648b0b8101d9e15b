#!/usr/bin/env bash
# tests/bench/api.sh [BUILD_DIR] — HTTP load on the JSON API of `mapd serve`,
# measured with wrk over loopback (keep-alive, fixed duration), on a database
# built from the Paris sample and seeded with 100,000 posts.
#
#   posts within 1 km returning 50   GET /api/posts?near=LON,LAT&radius=1000&limit=50
#                                    as benevole@entraide.example, around her home
#   creating posts                   POST /api/posts (JSON, cookie, X-CSRF-Token),
#                                    checked afterwards against the database
#   both at once                     half the connections each: voisine@ lists
#                                    around her home while benevole@ creates
#                                    posts (the read model follows the writes)
#   /healthz                         for reference: the server's floor
#
# Targets: posts within 1 km >= 10,000 req/s; creating posts >= 2,000/s
# sustained, every acknowledged write fsynced (WAL, synchronous=FULL; posts
# that arrive together share one transaction and one fsync: group commit).
# A benchmark, not a test: exits 0 whatever the figures, non-zero only when
# something fails to run. DURATION, THREADS and CONNECTIONS override wrk's
# -d, -t and -c (10s, 2, 32). API_DB names a database seeded by `mapd seed`
# to use instead (tests/bench/scale.sh does so): it is kept, with the posts
# the run creates; API_EMAIL, API_EMAIL2 and API_PASSWORD name the two
# members there (tests/bench/scale_listers.py registers them).
# API_STORE=postgresql runs the same on the PostgreSQL store: a private
# PostgreSQL 15 (tests/pg/pg_private.sh) in the run's directory, durable
# (fsync, synchronous_commit on), the database built as above.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/serve_lib.sh"
bench_init api "${1:-build}"
EMAIL=${API_EMAIL:-benevole@entraide.example}
EMAIL2=${API_EMAIL2:-voisine@entraide.example}     # lists while the first writes
PASSWORD=${API_PASSWORD:-entraide-demo}
trap bench_cleanup EXIT

# ---- the database ----
# dbq SQL — one query of the store, fields separated by spaces.
dbq() {
    if [ "${API_STORE:-}" = postgresql ]; then psql "$DB" -qAtX -F ' ' -c "$1"
    else sqlite3 -separator ' ' "$DB" "$1"; fi
}
if [ "${API_STORE:-}" = postgresql ]; then
    . "$HERE/../pg/pg_private.sh"
    mkdir -p "$OUT/pg" && chmod 755 "$OUT" "$OUT/pg"
    pg_private_start "$OUT/pg" >/dev/null
    trap 'bench_stop; pg_private_stop "$OUT/pg"; rm -rf "$OUT"' EXIT
    DB=$PG_CONNINFO
    bench_database 100000
    DB_WHAT="Paris sample + mapd seed --posts 100000, on PostgreSQL $(psql "$DB" -qAtX -c 'SHOW server_version')"
elif [ -n "${API_DB:-}" ]; then
    DB=$API_DB
    DB_WHAT="$(basename "$(dirname "$DB")")/$(basename "$DB"), $(sqlite3 "$DB" 'SELECT count(*) FROM posts') posts"
else
    bench_database 100000
    DB_WHAT="Paris sample + mapd seed --posts 100000"
fi

# ---- the server, on a free port ----
bench_serve "$MAPD" "$DB" "$OUT" --auth-per-minute 100000
echo "$(head -1 "$OUT/serve.out")"
MODEL=$(sed -n 's/^mapd: \([0-9]* posts in memory.*\)/\1/p' "$OUT/serve.log" | head -1)
echo "read model: ${MODEL:-none}"

json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# ---- logging in ----
bench_login "$BASE" "$EMAIL" "$PASSWORD" "$OUT"
NB=$(curl -fsS -H "Cookie: $COOKIE" "$BASE/api/me" \
    | json '"%s %s" % (d["neighbourhood"]["id"], d["neighbourhood"]["name"]) if d.get("neighbourhood") else "none"')
read -r LON LAT < <(dbq "SELECT home_lon, home_lat FROM members WHERE email = '$EMAIL'")
[ -n "$LON" ] && [ -n "$LAT" ] || { echo "api.sh: $EMAIL has no home" >&2; exit 1; }
echo "logged in as $EMAIL (neighbourhood $NB), home $LON,$LAT"

POSTS_PATH="/api/posts?near=$LON,$LAT&radius=1000&limit=50"
read -r RETURNED MATCHED < <(curl -fsS -H "Cookie: $COOKIE" "$BASE$POSTS_PATH" \
    | json '"%s %s" % (d["numberReturned"], d["more"])')
[ -n "${MATCHED:-}" ] || { echo "api.sh: GET $POSTS_PATH gave no FeatureCollection" >&2; exit 1; }
echo "GET $POSTS_PATH: numberReturned $RETURNED, more follow: $MATCHED"
[ "$RETURNED" -ge 50 ] || echo "WARNING: fewer than 50 posts within 1 km ($RETURNED): the measurement is of a smaller answer"

# The second member, who lists posts around her home while the first writes.
curl -fsS -D "$OUT/login2.headers" -o /dev/null -H 'Content-Type: application/json' \
    --data "{\"email\":\"$EMAIL2\",\"password\":\"$PASSWORD\"}" "$BASE/api/session"
COOKIE2=$(tr -d '\r' <"$OUT/login2.headers" \
    | sed -n 's/^[Ss]et-[Cc]ookie: *\(entraide_session=[^;]*\).*/\1/p' | head -1)
read -r LON2 LAT2 < <(dbq "SELECT home_lon, home_lat FROM members WHERE email = '$EMAIL2'")
[ -n "$COOKIE2" ] && [ -n "$LON2" ] || { echo "api.sh: cannot log in as $EMAIL2" >&2; exit 1; }
POSTS_PATH2="/api/posts?near=$LON2,$LAT2&radius=1000&limit=50"

# ---- measurements ----
# run_wrk NAME ARGS... — runs wrk, keeps its output in $OUT/NAME.wrk, prints
# the command and the output.
COMMANDS=()
quote() {   # the words, shell-quoted where needed, for copying
    local w out=
    for w; do
        if [[ $w =~ ^[A-Za-z0-9_./:=%+,-]+$ ]]; then out+="$w "; else out+="'${w//\'/\'\\\'\'}' "; fi
    done
    printf '%s' "${out% }"
}
run_wrk() {
    local name=$1; shift
    local cmd=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
    COMMANDS+=("$(quote "${cmd[@]}")")
    echo
    echo "== $name"
    echo "\$ ${COMMANDS[-1]}"
    "${cmd[@]}" | tee "$OUT/$name.wrk"
}
rps() { wrk_rps "$OUT/$1.wrk"; }
# run_wrk_pair NAME1 NAME2 — two wrk runs at once, half the connections
# each; ARGS1 and ARGS2 (arrays) are their arguments.
run_wrk_pair() {
    local half=$(( (CONNECTIONS + 1) / 2 ))
    local c1=(wrk -t1 -c"$half" -d"$DURATION" --latency "${ARGS1[@]}")
    local c2=(wrk -t1 -c"$half" -d"$DURATION" --latency "${ARGS2[@]}")
    COMMANDS+=("$(quote "${c1[@]}") & $(quote "${c2[@]}")")
    echo
    echo "== $1 and $2 at once"
    echo "\$ ${COMMANDS[-1]}"
    "${c1[@]}" >"$OUT/$1.wrk" &
    local pid=$!
    "${c2[@]}" >"$OUT/$2.wrk"
    wait "$pid"
    cat "$OUT/$1.wrk" "$OUT/$2.wrk"
}
pct() { wrk_pct "$OUT/$1.wrk" "$2"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' "$OUT/$1.wrk"; }
sockerr() { awk '/Socket errors:/ { gsub(",", ""); n = $4 + $6 + $8 + $10 } END { print n + 0 }' "$OUT/$1.wrk"; }

run_wrk healthz "$BASE/healthz"
run_wrk near -H "Cookie: $COOKIE" "$BASE$POSTS_PATH"

before=$(dbq "SELECT count(*) FROM posts WHERE title = 'bench'")
run_wrk create -s "$HERE/api_post.lua" -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" "$BASE/api/posts"
# Requests in flight when wrk stopped may still commit: wait until the count settles.
created=-1
for _ in $(seq 50); do
    sleep 0.2
    n=$(( $(dbq "SELECT count(*) FROM posts WHERE title = 'bench'") - before ))
    [ "$n" = "$created" ] && break
    created=$n
done
summary=$(grep '^api_post:' "$OUT/create.wrk") \
    || { echo "api.sh: the wrk script printed no summary" >&2; exit 1; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$summary"; }
acked=$(field 2xx)
refused=$(field non2xx)

ARGS1=(-H "Cookie: $COOKIE2" "$BASE$POSTS_PATH2")
ARGS2=(-s "$HERE/api_post.lua" -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" "$BASE/api/posts")
run_wrk_pair mixnear mixcreate

# ---- the table ----
echo
echo "HTTP API on $ADDR, $(nproc) cores (wrk and mapd share them), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, keep-alive"
if [ "${API_STORE:-}" = postgresql ]; then
    echo "database: $DB_WHAT, on $(stat -f -c %T "$OUT/pg") (local socket)"
else
    echo "database: $DB_WHAT, on $(stat -f -c %T "$DB") ($DB)"
fi
printf '  %-34s %10s %10s %10s   %s\n' measurement "req/s" p50 p99 target
printf '  %-34s %10s %10s %10s   %s\n' "posts within 1 km returning $RETURNED" "$(rps near)" \
    "$(pct near 50)" "$(pct near 99)" ">= 10,000 req/s: $(met "$(rps near)" 10000)"
printf '  %-34s %10s %10s %10s   %s\n' "creating posts" "$(rps create)" \
    "$(pct create 50)" "$(pct create 99)" ">= 2,000/s sustained: $(met "$(rps create)" 2000)"
printf '  %-34s %10s %10s %10s   %s\n' "GET /healthz (reference)" "$(rps healthz)" \
    "$(pct healthz 50)" "$(pct healthz 99)" "-"
printf '  %-34s %10s %10s %10s   %s\n' "both at once: lists" "$(rps mixnear)" \
    "$(pct mixnear 50)" "$(pct mixnear 99)" "-"
printf '  %-34s %10s %10s %10s   %s\n' "both at once: creating posts" "$(rps mixcreate)" \
    "$(pct mixcreate 50)" "$(pct mixcreate 99)" "-"
if [ "${API_STORE:-}" = postgresql ]; then
    echo "  durability: synchronous_commit=$(dbq 'SHOW synchronous_commit'), fsync=$(dbq 'SHOW fsync'): a 201" \
         "leaves only after the commit holding its post is flushed; posts arriving together share it (group commit)"
else
    echo "  durability: WAL ($(sqlite3 "$DB" 'PRAGMA journal_mode')) with synchronous=FULL: a 201 leaves only" \
         "after the commit holding its post is fsynced; posts arriving together share that commit (group commit)"
fi
echo "  read model: ${MODEL:-none}"
for m in near healthz mixnear; do
    if [ "$(non2xx $m)" != 0 ] || [ "$(sockerr $m)" != 0 ]; then
        echo "  WARNING: $m: $(non2xx $m) non-2xx responses, $(sockerr $m) socket errors"
    fi
done
echo "  creating posts: wrk got $acked 2xx answers ($refused other: $(field statuses)," \
     "$(field socket_errors) socket errors); the database holds $created new 'bench' posts"
if [ "$created" = "$acked" ]; then
    echo "  creating posts: posts created match the 2xx answers"
elif [ "$created" -gt "$acked" ] && [ "$created" -le $((acked + CONNECTIONS)) ]; then
    echo "  creating posts: $((created - acked)) more created than acknowledged to wrk:" \
         "requests in flight when wrk stopped (at most one per connection)"
else
    echo "  WARNING: creating posts: $created created for $acked acknowledged: they do not match"
fi
echo "wrk commands:"
printf '  %s\n' "${COMMANDS[@]}"
