#!/usr/bin/env python3
"""tests/api/test_concurrency.py MAPD SAMPLE_DIR — a real `mapd serve
--threads 4` under concurrent load for a bounded time, then checks that
nothing was lost.

The database is built by ENTRAIDE_CONCURRENCY_SETUP_MAPD when set (another
build of the same tree), else by MAPD. For SECONDS (20 unless
ENTRAIDE_CONCURRENCY_SECONDS says otherwise, and at most MAX_REQUESTS per
client):
  - readers, anonymous and members, ask for tiles and post lists;
  - writers, members, create posts, comment on them, claim them (another
    member of the same neighbourhood) and mark some done, through the API;
  - another process writes the database directly (plain sqlite3): shop
    statuses, and once, a third of the way through, a shop's status
    followed by more than 100,000 rows in the change feed, past the window
    the feed keeps, so the server's follower must reload its subscribers
    (mapd/feed.c) to see that status.
Then: no request got a 5xx or failed at the socket; every acknowledged write
is in the store, in the lists (open and claimed posts where they belong,
done ones gone) and in the tiles (each tile of a written post counts
exactly the visible needs the store holds there); the directly written shop
statuses reached /api/shops and the tiles; the server exits 0 on SIGTERM;
and its stderr holds no sanitizer report (a report in the server does not
fail a client, so the log is read: `make test` runs this test on a
ThreadSanitizer build with TSAN_OPTIONS=halt_on_error=1).
"""
import json
import math
import os
import random
import sqlite3
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Client, Database, FEED_FLOOD, Server, Suite, decode_tile,  # noqa: E402
                     seeded_city)

DEMO_PASSWORD = "entraide-demo"
MAX_REQUESTS = 20000        # per client: a bound on the work whatever the speed
FEED_WINDOW = 100000        # changes the store keeps (geodata/store/schema.c)
SHOP_STATUSES = ("open", "closed", "delivery_only", "takeaway_only")
SANITIZER_MARKS = ("ThreadSanitizer", "AddressSanitizer", "LeakSanitizer", "runtime error:")


def point_of(blob):
    """(lon, lat) of a SpatiaLite point BLOB, from its MBR header."""
    endian = "<" if blob[1] == 1 else ">"
    return struct.unpack(endian + "dd", blob[6:22])


def tile_xy(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def in_tile(lon, lat, z, x, y):
    """As the server snaps points: to the nearest of the tile's 4096 units."""
    s = 4096 * 2 ** z
    def lround(v):
        return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)
    px = lround((lon + 180) / 360 * s - x * 4096)
    py = lround((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat)))
                 / math.pi) / 2 * s - y * 4096)
    return 0 <= px < 4096 and 0 <= py < 4096


def counted(features):
    return sum(f.get("point_count", 1) for f in features
               if 0 <= f["_x"] < 4096 and 0 <= f["_y"] < 4096)


# ---- the other process: direct writes -------------------------------------------

def direct_shops(db):
    """The shops the other process writes: the first is the sentinel."""
    return [r[0] for r in db.sql("SELECT id FROM shops WHERE owner_id IS NULL ORDER BY id LIMIT 40")]


def direct_writer(path, seconds, out, sentinel, shops):
    """Runs in its own process: sets random statuses on shops until `seconds`
    have passed; a third of the way, in one transaction, sets the sentinel
    shop's status and floods the change feed past its window, so that the
    change is pruned in the commit that makes it visible: the server can
    only learn it by reloading. Writes the last committed status of every
    shop it touched, and the sentinel's, to out (JSON)."""
    rnd = random.Random(7)
    if os.path.exists(path):
        c = sqlite3.connect(path, timeout=30)
    else:   # a PostgreSQL connection string: psycopg2 (Debian's python3), whose
        import psycopg2   # connection commits as a context manager, as sqlite3's
        pg = psycopg2.connect(path)

        class Conn:   # the calls used below, on a cursor of pg
            def __enter__(self):
                return pg.__enter__()

            def __exit__(self, *exc):
                return pg.__exit__(*exc)

            def execute(self, sql, params=()):
                cur = pg.cursor()
                cur.execute(sql.replace("?", "%s"), params)
                return cur

            def close(self):
                pg.close()
        c = Conn()
    last = {}
    writes = 0
    start = time.monotonic()
    flooded = None
    while time.monotonic() - start < seconds:
        if flooded is None and time.monotonic() - start > seconds / 3:
            status = "takeaway_only"
            with c:
                c.execute("UPDATE shops SET status = ? WHERE id = ?", (status, sentinel))
                c.execute(FEED_FLOOD % "shops")   # FEED_WINDOW + 1000 entries, one statement
            flooded = {"id": sentinel, "status": status,
                       "seq": c.execute("SELECT max(seq) FROM changes").fetchone()[0]}
            continue
        sid, status = rnd.choice(shops), rnd.choice(SHOP_STATUSES)
        with c:
            c.execute("UPDATE shops SET status = ? WHERE id = ?", (status, sid))
        last[str(sid)] = status
        writes += 1
        time.sleep(0.02)
    c.close()
    with open(out, "w") as f:
        json.dump({"shops": last, "sentinel": flooded, "writes": writes}, f)


# ---- clients ---------------------------------------------------------------------

class Tally:
    """Statuses of every request, and what went wrong, across threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.statuses = {}
        self.failures = []

    def add(self, who, method, path, status, error=None):
        with self.lock:
            self.count += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if error or status >= 500:
                self.failures.append((who, method, path, status, error))


def call(tally, client, method, path, body=None, headers=None):
    """(status, JSON or None, bytes); a socket failure counts as status 0."""
    try:
        st, content, _ = client.raw(method, path, body, headers=headers)
    except Exception as e:  # noqa: BLE001 — any failure is a finding
        tally.add(client.name, method, path, 0, repr(e))
        return 0, None, b""
    tally.add(client.name, method, path, st)
    try:
        doc = json.loads(content) if content and content[:1] in (b"{", b"[") else None
    except ValueError:
        doc = None
    return st, doc, content


def reader(client, tally, deadline, points, hot, member, rnd):
    """Tiles around the members' homes and the hot tile (kept in the cache)
    and, for members, post lists."""
    n = 0
    while time.monotonic() < deadline and n < MAX_REQUESTS:
        lon, lat = rnd.choice(points)
        r = rnd.random()
        if r < 0.05:
            call(tally, client, "GET", hot)
        elif r < 0.6 or not member:
            z = rnd.choice((12, 13, 14, 15, 16))
            x, y = tile_xy(lon + rnd.uniform(-0.01, 0.01), lat + rnd.uniform(-0.01, 0.01), z)
            call(tally, client, "GET", "/tiles/%d/%d/%d.mvt" % (z, x, y),
                 headers={"Accept-Encoding": "gzip"} if rnd.random() < 0.7 else None)
        elif r < 0.8:
            call(tally, client, "GET", "/api/posts?near=%.6f,%.6f&radius=%d&limit=100"
                 % (lon, lat, rnd.choice((200, 1000, 3000))))
        else:
            call(tally, client, "GET", "/api/posts?bbox=%.5f,%.5f,%.5f,%.5f&status=%s&limit=50"
                 % (lon - 0.02, lat - 0.015, lon + 0.02, lat + 0.015, rnd.choice(("open", "claimed"))))
        n += 1


def writer(author, claimer, tally, deadline, acked, rnd, comments):
    """Creates posts, comments some, claims some, finishes some; acked[id] is
    the state the server last acknowledged (201 or 200); comments[id] the
    post of each acknowledged comment."""
    n = 0
    while time.monotonic() < deadline and n < MAX_REQUESTS:
        st, doc, _ = call(tally, author, "POST", "/api/posts",
                          {"kind": rnd.choice(("request", "offer")),
                           "category": rnd.choice(("errands", "pets", "pharmacy")),
                           "title": "Charge %d" % n, "body": "Test de charge"})
        n += 1
        if st != 201:
            if st not in (0,) and st < 500:
                tally.add(author.name, "POST", "/api/posts", st, "creation refused: %r" % doc)
            continue
        pid = doc.get("id") or doc["properties"]["id"]
        acked[pid] = "open"
        if rnd.random() < 0.5:
            st, doc, _ = call(tally, claimer, "POST", "/api/posts/%d/comments" % pid,
                              {"body": "Je peux aider, n°%d" % n})
            n += 1
            if st == 201:
                comments[doc["id"]] = pid
            elif st:
                tally.add(claimer.name, "POST", "comment", st, "comment refused: %r" % doc)
        if rnd.random() < 0.6:
            st, doc, _ = call(tally, claimer, "POST", "/api/posts/%d/claim" % pid)
            n += 1
            if st == 200:
                acked[pid] = "claimed"
                if rnd.random() < 0.5:
                    st, doc, _ = call(tally, author, "POST", "/api/posts/%d/done" % pid)
                    n += 1
                    if st == 200:
                        acked[pid] = "done"
                    elif st:
                        tally.add(author.name, "POST", "done", st, "done refused: %r" % doc)
            elif st:
                tally.add(claimer.name, "POST", "claim", st, "claim refused: %r" % doc)


# ---- the test --------------------------------------------------------------------

def sanitizer_reports(db):
    """The sanitizer report lines of the server's stderr, after printing the
    first report in full."""
    with open(os.path.join(db.work, "server.log")) as f:
        log = f.read()
    reports = [l for l in log.splitlines() if any(m in l for m in SANITIZER_MARKS)]
    if reports:
        i = log.find(reports[0])
        print(log[max(0, i - 200):i + 6000])
    return reports


def list_ids(client, bbox, status, counts=None):
    """Every post id of a bbox list with status, page after page; counts,
    when given, gets each post's comment count as listed."""
    ids, offset = {}, 0
    while True:
        st, doc, _ = client.req("GET", "/api/posts?bbox=%.5f,%.5f,%.5f,%.5f&status=%s&limit=100&offset=%d"
                                % (*bbox, status, offset))
        if st != 200:
            return None
        for f in doc["features"]:
            ids[f["id"]] = f["properties"]["status"]
            if counts is not None:
                counts[f["id"]] = f["properties"]["comments"]
        if "next_offset" not in doc:
            return ids
        offset = doc["next_offset"]


def main():
    mapd, sample = sys.argv[1], sys.argv[2]
    seconds = float(os.environ.get("ENTRAIDE_CONCURRENCY_SECONDS", "20"))
    # Under ThreadSanitizer, the reports from inside libraries we do not build
    # are suppressed (tsan.supp says which and why); TSAN_OPTIONS is otherwise
    # the caller's (make test: halt_on_error=1 second_deadlock_stack=1).
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tsan.supp")
    if "suppressions=" not in os.environ.get("TSAN_OPTIONS", ""):
        os.environ["TSAN_OPTIONS"] = (os.environ.get("TSAN_OPTIONS", "") + " suppressions=" + supp).strip()
    T = Suite()
    # The database may be built by another mapd of the same tree (make test:
    # the Release one): importing 158,000 addresses under ThreadSanitizer
    # takes minutes, and the server, not the import, is under test here.
    db = Database(os.environ.get("ENTRAIDE_CONCURRENCY_SETUP_MAPD") or mapd, "entraide-concurrency.")
    t0 = time.monotonic()
    nb, emails = seeded_city(db, sample, 400, "charge")
    T.check("four members added in one neighbourhood", len(emails) == 4, emails)
    print("# database ready in %.1f s (%s)" % (time.monotonic() - t0, db.mapd))
    db.mapd = mapd

    srv = Server(db, "--threads", "4", "--auth-per-minute", "100000", "--comments-per-minute", "0")
    tally = Tally()
    homes = [point_of(g) for (g,) in db.sql("SELECT geom FROM posts WHERE neighbourhood_id = ?", nb)]
    shops = direct_shops(db)
    homes += [point_of(db.sql("SELECT geom FROM shops WHERE id = ?", sid)[0][0]) for sid in shops]
    hot = "/tiles/16/%d/%d.mvt" % tile_xy(*homes[-len(shops)], 16)

    members = []
    for email, password in [(e, "correct horse") for e in emails] + [
            ("benevole@entraide.example", DEMO_PASSWORD), ("voisine@entraide.example", DEMO_PASSWORD)]:
        c = Client(srv, email)
        members.append(c)
        T.check("%s logs in" % email, c.login(email, password)[0] == 200)
    staff = Client(srv, "staff")
    T.check("staff log in", staff.login("moderation@entraide.example", DEMO_PASSWORD)[0] == 200)

    out = os.path.join(db.work, "direct.json")
    deadline = time.monotonic() + seconds
    python = sys.executable if os.path.exists(db.path) else "/usr/bin/python3"   # psycopg2's
    other = subprocess.Popen([python, os.path.abspath(__file__), "--direct", db.path,
                              str(seconds), out, ",".join(map(str, shops))])
    threads, acked, comments = [], [{} for _ in range(4)], {}
    for i in range(4):
        author, claimer = members[i], members[(i + 1) % 4]
        # Each writer has connections of its own for both roles.
        a, c = Client(srv, author.name), Client(srv, claimer.name)
        a.cookie, a.csrf, c.cookie, c.csrf = author.cookie, author.csrf, claimer.cookie, claimer.csrf
        threads.append(threading.Thread(target=writer, args=(a, c, tally, deadline, acked[i],
                                                             random.Random(i), comments)))
    for i in range(8):
        member = i % 2 == 1
        c = Client(srv, "reader%d" % i)
        if member:  # sessions of the demonstration members and of the writers
            src = members[(4 + i // 2) % len(members)]
            c.cookie, c.csrf = src.cookie, src.csrf
        threads.append(threading.Thread(target=reader, args=(c, tally, deadline, homes, hot, member,
                                                             random.Random(100 + i))))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    T.check("every client stopped by itself", not any(t.is_alive() for t in threads))
    T.check("the direct writer stopped by itself", other.wait(timeout=120) == 0)
    with open(out) as f:
        direct = json.load(f)
    print("# %d requests in %.0f s: %s; %d direct shop writes"
          % (tally.count, seconds, sorted(tally.statuses.items()), direct["writes"]))
    if srv.p.poll() is not None:  # e.g. ThreadSanitizer's halt_on_error
        T.check("the server is still running after the load", False, "exit %d" % srv.p.returncode)
        T.check("the server's stderr holds no sanitizer report", not sanitizer_reports(db))
        return T.finish()
    T.check("no request failed: no 5xx, no broken connection, no refused write",
            not tally.failures, tally.failures[:10])
    T.check("writes and reads were made", tally.statuses.get(201, 0) > 20
            and tally.statuses.get(200, 0) > 200, tally.statuses)

    # ---- every acknowledged write, in the store, the lists and the tiles ----
    everything = {}
    for a in acked:
        everything.update(a)
    states = {}
    for pid, status in db.sql("SELECT id, status FROM posts WHERE id IN (%s)"
                                      % ",".join("?" * len(everything)), *everything):
        states[pid] = status
    T.check("the store holds every acknowledged post in its acknowledged state (%d posts: %d open, "
            "%d claimed, %d done)" % (len(everything), *[list(everything.values()).count(s)
                                                         for s in ("open", "claimed", "done")]),
            all(states.get(pid) == s for pid, s in everything.items()),
            [(pid, s, states.get(pid)) for pid, s in everything.items() if states.get(pid) != s][:10])

    stored = dict(db.sql("SELECT id, post_id FROM comments WHERE id IN (%s)"
                         % ",".join("?" * len(comments)), *comments)) if comments else {}
    T.check("the store holds every acknowledged comment under its post (%d comments)" % len(comments),
            comments and stored == comments, len(stored))
    T.check("every post's comment count is its comments'",
            not db.sql("SELECT id FROM posts p WHERE comment_count != (SELECT count(*) FROM comments "
                       "WHERE post_id = p.id AND hidden = 0)"))

    ext = db.sql("SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_neighbourhoods_geom")[0]
    viewer = members[0]
    listed, listed_counts = {}, {}
    for status in ("open", "claimed", "done"):
        ids = list_ids(viewer, ext, status, listed_counts)
        T.check("the %s list pages through" % status, ids is not None)
        for pid, s in (ids or {}).items():
            if pid in everything:
                listed.setdefault(pid, []).append(s)
    T.check("every acknowledged post is in the list of its state, and only there",
            all(listed.get(pid) == [s] for pid, s in everything.items()),
            [(pid, s, listed.get(pid)) for pid, s in everything.items() if listed.get(pid) != [s]][:10])
    true_counts = dict(db.sql("SELECT id, comment_count FROM posts WHERE id IN (%s)"
                              % ",".join("?" * len(listed_counts)), *listed_counts))
    T.check("the lists show each post's comment count as stored (%d posts with comments)"
            % sum(1 for v in true_counts.values() if v),
            listed_counts == true_counts and any(true_counts.values()),
            [(p, c, true_counts.get(p)) for p, c in listed_counts.items() if true_counts.get(p) != c][:10])
    now = int(time.time())
    needs = [(point_of(g)) for (g,) in db.sql(
        "SELECT geom FROM posts WHERE hidden = 0 AND (status = 'claimed' OR "
        "(status = 'open' AND expires_at > ?))", now)]
    # The posts of an author share one public point: few tiles, each holding
    # hundreds of them, at zooms where they are clustered and where not.
    tiles = set()
    for (g,) in db.sql("SELECT geom FROM posts WHERE id IN (%s)" % ",".join("?" * len(everything)),
                       *everything):
        for z in (12, 14, 16):
            tiles.add((z, *tile_xy(*point_of(g), z)))
    tiles = sorted(tiles)[:60]
    wrong = []
    for z, x, y in tiles:
        st, body, _ = staff.raw("GET", "/tiles/%d/%d/%d.mvt" % (z, x, y))
        got = counted(decode_tile(body, db.work).get("needs", [])) if st == 200 else -1
        want = sum(1 for lon, lat in needs if in_tile(lon, lat, z, x, y))
        if got != want:
            wrong.append((z, x, y, got, want))
    T.check("the %d tiles (z12, z14, z16) of the written posts count exactly the store's visible "
            "needs" % len(tiles), tiles and not wrong, wrong[:10])

    # ---- the other process's writes, through the pruned feed ----
    sentinel = direct["sentinel"]
    T.check("the direct writer flooded the change feed past its window",
            sentinel and db.sql("SELECT min(seq) FROM changes")[0][0] > sentinel["seq"] - FEED_WINDOW - 1000
            and sentinel["seq"] > FEED_WINDOW, sentinel)
    expect = dict(direct["shops"])
    if sentinel:
        expect[str(sentinel["id"])] = sentinel["status"]
    bad_api, bad_tile = [], []
    anon = Client(srv, "anonymous")
    for sid, status in sorted(expect.items()):
        st, doc, _ = anon.req("GET", "/api/shops/%s" % sid)
        if st != 200 or doc["properties"]["status"] != status:
            bad_api.append((sid, status, st, doc and doc.get("properties", {}).get("status")))
        (g,) = db.sql("SELECT geom FROM shops WHERE id = ?", int(sid))[0]
        x, y = tile_xy(*point_of(g), 16)
        st, body, _ = anon.raw("GET", "/tiles/16/%d/%d.mvt" % (x, y))
        f = [f for f in decode_tile(body, db.work).get("shops", []) if str(f.get("id")) == sid]
        if not f or f[0]["status"] != status:
            bad_tile.append((sid, status, f[:1]))
    T.check("the %d shops written directly show their last status in /api/shops" % len(expect),
            expect and not bad_api, bad_api[:10])
    T.check("and in their tiles, the one written before the flood too (the follower reloaded)",
            not bad_tile, bad_tile[:10])

    T.check("the server exits 0 on SIGTERM", srv.stop() == 0)
    reports = sanitizer_reports(db)
    T.check("the server's stderr holds no sanitizer report", not reports, "\n".join(reports[:20]))
    return T.finish()


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--direct":
        ids = [int(v) for v in sys.argv[5].split(",")]
        direct_writer(sys.argv[2], float(sys.argv[3]), sys.argv[4], ids[0], ids[1:])
        sys.exit(0)
    sys.exit(main())
