#!/usr/bin/env bash
# tests/bench/groups.sh [BUILD_DIR] — HTTP load on a thematic group's page and
# on comments, measured with wrk over loopback (keep-alive, fixed duration),
# on a database built from the Paris sample, seeded with 20,000 posts, and
# one active group of 10 members holding 200 posts and 2,000 comments
# (ten under each post), all made through the API.
#
#   the group                   GET /api/groups/ID
#   the group's posts           GET /api/posts?group=ID&limit=50 (open ones: all)
#   a post's comments           GET /api/posts/PID/comments (ten comments)
#   adding a comment            POST /api/posts/PID/comments, checked
#                               afterwards against the database
#
# Targets: a group page (each of the three reads) >= 5,000 req/s; adding a
# comment >= 2,000/s, every acknowledged comment fsynced (WAL,
# synchronous=FULL). The server runs with --comments-per-minute 0: the
# per-member limit would stop one member's load (it is checked by
# tests/api/test_groups.py). A benchmark, not a test: exits 0 whatever the
# figures, non-zero only when something fails to run. DURATION, THREADS and
# CONNECTIONS override wrk's -d, -t and -c (10s, 2, 32).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/serve_lib.sh"
bench_init groups "${1:-build}"
trap bench_cleanup EXIT

bench_database 20000

bench_serve "$MAPD" "$DB" "$OUT" --auth-per-minute 100000 --comments-per-minute 0

# ---- the group, its members, posts and comments, through the API ----
python3 - "$BASE" "$DB" "$OUT/setup.env" <<'PY'
import http.client, json, sqlite3, sys
base, db, out = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = base[len("http://"):].split(":")
sql = sqlite3.connect(db)

class Member:
    def __init__(self):
        self.c = http.client.HTTPConnection(host, int(port))
        self.cookie = self.csrf = None
    def req(self, method, path, body=None):
        h = {"Content-Type": "application/json"}
        if self.cookie:
            h["Cookie"], h["X-CSRF-Token"] = self.cookie, self.csrf
        self.c.request(method, path, json.dumps(body) if body is not None else None, h)
        r = self.c.getresponse()
        data = r.read()
        if r.getheader("Set-Cookie"):
            self.cookie = r.getheader("Set-Cookie").split(";")[0]
        if r.status >= 300:
            sys.exit("groups.sh: %s %s: %d %s" % (method, path, r.status, data[:200]))
        return json.loads(data) if data else None

creator = Member()
creator.csrf = creator.req("POST", "/api/session", {"email": "benevole@entraide.example",
                                                    "password": "entraide-demo"})["csrf"]
nb = creator.req("GET", "/api/me")["neighbourhood"]["id"]
group = creator.req("POST", "/api/groups", {"name": "Compost de la rue", "category": "environment",
                                            "description": "Un bac pour les épluchures."})["id"]
rows = sql.execute("SELECT number, street, postcode FROM addresses WHERE neighbourhood_id = ? "
                   "AND rep = '' ORDER BY id LIMIT 9", (nb,)).fetchall()
members = [creator]
for i, (n, street, pc) in enumerate(rows):
    m = Member()
    m.req("POST", "/api/members", {"email": "bench%d@example.org" % i, "password": "bench-password",
                                   "display_name": "Voisin %d" % i,
                                   "address": "%d %s %s" % (n, street, pc)})
    m.csrf = m.req("POST", "/api/session", {"email": "bench%d@example.org" % i,
                                            "password": "bench-password"})["csrf"]
    m.req("POST", "/api/groups/%d/members" % group)
    members.append(m)
status = creator.req("GET", "/api/groups/%d" % group)
assert status["status"] == "active" and status["member_count"] == 10, status
posts = []
for i in range(200):
    author = members[i % 10]
    posts.append(author.req("POST", "/api/posts", {"kind": "offer", "category": "other",
                 "title": "Épluchures n°%d" % i, "group": group})["id"])
for i in range(2000):
    members[(i + 1) % 10].req("POST", "/api/posts/%d/comments" % posts[i % 200],
                              {"body": "Je passe déposer un seau, n°%d" % i})
with open(out, "w") as f:
    f.write("GROUP=%d\nPOST=%d\nCOOKIE='%s'\nCSRF='%s'\n" % (group, posts[0], creator.cookie, creator.csrf))
PY
# shellcheck disable=SC1090
. "$OUT/setup.env"
echo "group $GROUP: $(sqlite3 "$DB" "SELECT member_count FROM groups WHERE id = $GROUP") members," \
     "$(sqlite3 "$DB" "SELECT count(*) FROM posts WHERE group_id = $GROUP") posts," \
     "$(sqlite3 "$DB" "SELECT count(*) FROM comments c JOIN posts p ON p.id = c.post_id WHERE p.group_id = $GROUP") comments"

COMMANDS=()
run_wrk() {
    local name=$1; shift
    local cmd=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
    COMMANDS+=("${cmd[*]}")
    echo
    echo "== $name"
    "${cmd[@]}" | tee "$OUT/$name.wrk"
}
rps() { wrk_rps "$OUT/$1.wrk"; }
pct() { wrk_pct "$OUT/$1.wrk" "$2"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' "$OUT/$1.wrk"; }

run_wrk group -H "Cookie: $COOKIE" "$BASE/api/groups/$GROUP"
run_wrk posts -H "Cookie: $COOKIE" "$BASE/api/posts?group=$GROUP&limit=50"
run_wrk comments -H "Cookie: $COOKIE" "$BASE/api/posts/$POST/comments"
before=$(sqlite3 "$DB" "SELECT count(*) FROM comments")
WRK_BODY='{"body":"bench"}' run_wrk add -s "$HERE/api_post.lua" -H "Cookie: $COOKIE" \
    -H "X-CSRF-Token: $CSRF" "$BASE/api/posts/$POST/comments"
sleep 1
added=$(( $(sqlite3 "$DB" "SELECT count(*) FROM comments") - before ))
acked=$(sed -n 's/^api_post: .* 2xx=\([0-9]*\).*/\1/p' "$OUT/add.wrk")

echo
echo "groups and comments on $ADDR, $(nproc) cores (wrk and mapd share them), wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
printf '  %-40s %10s %10s %10s   %s\n' measurement "req/s" p50 p99 target
for m in "group:the group (GET /api/groups/ID)" "posts:the group's posts (50 of 200)" \
         "comments:a post's comments (10)"; do
    n=${m%%:*}
    printf '  %-40s %10s %10s %10s   %s\n' "${m#*:}" "$(rps "$n")" "$(pct "$n" 50)" "$(pct "$n" 99)" \
        ">= 5,000 req/s: $(met "$(rps "$n")" 5000) (non-2xx: $(non2xx "$n"))"
done
printf '  %-40s %10s %10s %10s   %s\n' "adding a comment" "$(rps add)" "$(pct add 50)" "$(pct add 99)" \
    ">= 2,000/s fsynced: $(met "$(rps add)" 2000)"
echo "  adding a comment: wrk got $acked 2xx answers; the database holds $added new comments"
echo "  durability: WAL ($(sqlite3 "$DB" 'PRAGMA journal_mode')) with synchronous=FULL; a 201 leaves after its commit"
printf '  %s\n' "${COMMANDS[@]}"
