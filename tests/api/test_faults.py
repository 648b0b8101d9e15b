#!/usr/bin/env python3
"""tests/api/test_faults.py MAPD SAMPLE_DIR — faults a running service meets:
a full disk, and a backup taken while members write.

1. Disk full. The database is copied onto a small tmpfs of the test's own
   (`mount -t tmpfs`: the test runs as root; where mounting is refused it says
   why, runs part 2 all the same, and exits 77, which ctest reports as
   skipped), a real `mapd serve` runs on it, and a filler file leaves 6 MiB
   free (more than the WAL reaches before its first checkpoint, so that both
   the WAL's growth and checkpoints meet the full disk). Members then write at
   once — posts (through the group-commit writer, several creations held in
   one batch), claims, done, private messages, staff shop updates — while a
   reader lists posts, opens posts (which counts a view: a write), reads
   shops, tiles, geocodes, OGC items and /healthz, until the disk is full and
   stays so. Checked: every write got 2xx or a 507 problem+json saying the
   disk is full (French for a French reader), never a 500, never a hang or a
   dropped connection; every read got 200, disk full or not; every
   acknowledged write is in the database in its acknowledged state, and no
   write answered 507 is there, not even in part; PRAGMA integrity_check is
   ok; a login and a registration get 507 and store nothing; `mapd backup`
   onto the full disk fails saying so and leaves no file; the server logged
   the full disk; and once the filler is deleted, writes of every kind
   succeed again on the same server, which then stops cleanly.
2. Backup under writes. On the database on disk, `mapd backup` runs while
   members keep creating, claiming and finishing posts. Checked: the backup
   succeeds while writes go on (some acknowledged during it), the file
   opens, PRAGMA integrity_check is ok, every post acknowledged before the
   backup started is in it in its acknowledged state (or a later one), and
   `mapd serve --db BACKUP` starts and answers /healthz.

Only the standard library is used.
"""
import gc
import http.client
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client, Database, Server, Suite, seeded_city  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
SKIP = 77
DEMO_PASSWORD = "entraide-demo"
FREE_LEFT = 6 << 20          # bytes left free on the tmpfs when the writes start: past one checkpoint
FULL_FOR = 4.0               # seconds the disk stays full, writes going on, before space returns
FILL_DEADLINE = 120.0        # seconds at most to fill the disk
BACKUP_TIMEOUT = 120         # seconds at most for `mapd backup`
DISK_FULL_DETAIL = "the server's disk is full: this change was not saved; try again later"
DISK_FULL_DETAIL_FR = ("Le disque du serveur est plein : cette modification n’a pas été "
                       "enregistrée ; réessayez plus tard.")
SHOP_STATUSES = ("open", "closed", "delivery_only", "takeaway_only")

T = Suite()
check = T.check
WORKDIRS = []                # removed when every check passed, kept for reading otherwise
# Mounting a tmpfs needs root; so the servers of this test run as root, as in
# a container, which mapd serve refuses unless told.
os.environ.setdefault("MAPD_ALLOW_ROOT", "1")


# ---- HTTP without retries --------------------------------------------------------

class Actor:
    """A member, staff or reader with a keep-alive connection of its own. A
    request is sent once: a socket failure or a timeout is recorded as status
    0 (harness.Client would send it again, hiding a dropped connection)."""

    def __init__(self, server, name, cookie=None, csrf=None, lang=None):
        self.server, self.name = server, name
        self.cookie, self.csrf, self.lang = cookie, csrf, lang
        self.conn, self.used = None, 0.0

    def clone(self):
        """The same person on a connection of its own (one per thread)."""
        return Actor(self.server, self.name, self.cookie, self.csrf, self.lang)

    @classmethod
    def logged_in(cls, server, email, password, lang=None):
        c = Client(server, email)
        st, doc = c.login(email, password)
        check("%s logs in" % email, st == 200, (st, doc))
        return cls(server, email, c.cookie, c.csrf, lang)

    def call(self, method, path, body=None):
        """(status, JSON or None, response headers dict); status 0 when the
        connection failed, with the reason in the headers' "error"."""
        h = {}
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        if self.lang:
            h["Accept-Language"] = self.lang
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if self.conn is not None and time.monotonic() - self.used > 5:
            self.conn.close()   # idle: the server may have closed it (not a fault)
            self.conn = None
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        self.used = time.monotonic()
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
            content = r.read()
        except (http.client.HTTPException, OSError) as e:
            self.conn.close()
            self.conn = None   # the next request opens a new connection
            return 0, None, {"error": repr(e)}
        headers = {k.lower(): v for k, v in r.getheaders()}
        try:
            doc = json.loads(content) if content[:1] in (b"{", b"[") else None
        except ValueError:
            doc = None
        return r.status, doc, headers


class Tally:
    """Every answer, by kind of request, across threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = {}        # (kind, status) -> count
        self.bad = []             # (who, method, path, status, what) not allowed
        self.full = []            # (who, doc, headers, lang) of each 507

    def add(self, who, kind, method, path, st, doc, headers, allowed, lang=None):
        with self.lock:
            self.statuses[(kind, st)] = self.statuses.get((kind, st), 0) + 1
            if st == 507:
                self.full.append((who, doc, headers, lang))
            if st not in allowed:
                self.bad.append((who, method, path, st, doc or headers.get("error")))

    def count(self, kind=None, status=None):
        with self.lock:
            return sum(n for (k, s), n in self.statuses.items()
                       if (kind is None or k == kind) and (status is None or s == status))


def write(tally, actor, kind, method, path, body=None, ok=(200, 201)):
    st, doc, h = actor.call(method, path, body)
    tally.add(actor.name, kind, method, path, st, doc, h, set(ok) | {507}, actor.lang)
    return st, doc


def read(tally, actor, kind, path):
    st, doc, h = actor.call("GET", path)
    tally.add(actor.name, kind, "GET", path, st, doc, h, {200})
    return st, doc


# ---- the database -----------------------------------------------------------------

def build_database():
    """The sample imported and seeded on disk, with four more members of the
    neighbourhood of benevole@ (authors and claimers): (db, emails, nb)."""
    db = Database(MAPD, "entraide-faults.")
    WORKDIRS.append(db.work)
    nb, emails = seeded_city(db, SAMPLE, 200, "plein")
    check("four members added in one neighbourhood", len(emails) == 4, emails)
    return db, emails, nb


def integrity(path):
    with closing(sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)) as c:
        return c.execute("PRAGMA integrity_check").fetchall()


def free_bytes(path):
    s = os.statvfs(path)
    return s.f_bavail * s.f_frsize


# ---- 1. disk full -----------------------------------------------------------------

class Workload:
    """Writers and a reader against one server until stop is set. What was
    acknowledged, and what was refused with 507, is kept for the checks."""

    def __init__(self, srv, members, staff, shops, homes, tally, tag):
        self.srv, self.members, self.staff, self.shops, self.homes = srv, members, staff, shops, homes
        self.tally, self.tag = tally, tag
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.posts = {}          # title -> (id, acknowledged state) of each 201 creation
        self.refused_titles = [] # titles of creations answered 507
        self.claimable = []      # (id, author index, title) of acknowledged open posts
        self.claims = []         # (id, author index, claimer index) of acknowledged claims
        self.messages = {}       # body -> post id, acknowledged
        self.refused_messages = []
        self.shop_status = {}    # shop id -> status last acknowledged

    def author(self, i, rnd):
        """Creates posts as member i, as fast as answers come back."""
        actor, n = self.members[i].clone(), 0
        while not self.stop.is_set():
            title = "%s %d-%d" % (self.tag, i, n)
            n += 1
            st, doc = write(self.tally, actor, "create", "POST", "/api/posts",
                            {"kind": rnd.choice(("request", "offer")),
                             "category": rnd.choice(("errands", "pets", "pharmacy")),
                             "title": title, "body": "Disque plein ? " * rnd.randint(1, 40)},
                            ok=(201,))
            with self.lock:
                if st == 201:
                    pid = doc["id"]
                    self.posts[title] = (pid, "open")
                    self.claimable.append((pid, i, title))
                elif st == 507:
                    self.refused_titles.append(title)

    def helper(self, rnd):
        """Claims posts (the next member of the neighbourhood), writes in
        their private thread, marks some done."""
        n = 0
        members = [m.clone() for m in self.members]
        while not self.stop.is_set():
            with self.lock:
                job = self.claimable.pop(0) if self.claimable else None
            if not job:
                time.sleep(0.01)
                continue
            pid, a, title = job
            c = (a + 1) % len(self.members)
            st, _ = write(self.tally, members[c], "claim", "POST", "/api/posts/%d/claim" % pid)
            if st != 200:
                continue
            with self.lock:
                self.posts[title] = (pid, "claimed")
                self.claims.append((pid, a, c))
            for who in (c, a):
                body = "%s message %d" % (self.tag, n)
                n += 1
                st, _ = write(self.tally, members[who], "message", "POST",
                              "/api/posts/%d/messages" % pid, {"body": body}, ok=(201,))
                with self.lock:
                    if st == 201:
                        self.messages[body] = pid
                    elif st == 507:
                        self.refused_messages.append(body)
            if rnd.random() < 0.5:
                st, _ = write(self.tally, members[a], "done", "POST", "/api/posts/%d/done" % pid)
                if st == 200:
                    with self.lock:
                        self.posts[title] = (pid, "done")

    def shopkeeper(self, rnd):
        """Staff confirm and change shops' statuses, one request at a time."""
        staff = self.staff.clone()
        while not self.stop.is_set():
            sid, status = rnd.choice(self.shops), rnd.choice(SHOP_STATUSES)
            st, _ = write(self.tally, staff, "shop", "PATCH", "/api/shops/%d" % sid,
                          {"status": status})
            if st == 200:
                with self.lock:
                    self.shop_status[sid] = status
            time.sleep(0.005)

    def reader(self, actor, rnd):
        """Reads of every kind, member's and anonymous, none of which may fail."""
        anon, actor = Actor(self.srv, "anonymous"), actor.clone()
        while not self.stop.is_set():
            lon, lat = rnd.choice(self.homes)
            read(self.tally, actor, "list", "/api/posts?near=%.6f,%.6f&radius=1500&limit=50" % (lon, lat))
            with self.lock:
                seen = [p for p, _ in list(self.posts.values())[-50:]]
            if seen:   # another member's post: the read counts a view
                read(self.tally, actor, "post", "/api/posts/%d" % rnd.choice(seen))
            read(self.tally, anon, "shop", "/api/shops/%d" % rnd.choice(self.shops))
            read(self.tally, anon, "tile", "/tiles/14/8299/5636.mvt")
            read(self.tally, anon, "geocode", "/api/geocode?q=10+rue+de+rivoli+paris")
            read(self.tally, anon, "ogc", "/ogc/collections/shops/items?limit=20")
            read(self.tally, anon, "healthz", "/healthz")
            time.sleep(0.01)

    def run_threads(self, reader_actor):
        threads = [threading.Thread(target=self.author, args=(i, random.Random(i)))
                   for i in range(len(self.members))]
        threads.append(threading.Thread(target=self.helper, args=(random.Random(10),)))
        threads.append(threading.Thread(target=self.shopkeeper, args=(random.Random(11),)))
        threads.append(threading.Thread(target=self.reader, args=(reader_actor, random.Random(12))))
        for t in threads:
            t.start()
        return threads


def check_writes(db_path, w, what, shops=True):
    """Every acknowledged write in the store in its acknowledged state, and
    no write answered 507 in it."""
    with closing(sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30)) as c:
        rows = dict((t, (i, s)) for t, i, s in c.execute(
            "SELECT title, id, status FROM posts WHERE title LIKE ?", (w.tag + " %",)))
        msgs = dict(c.execute("SELECT body, post_id FROM post_messages WHERE body LIKE ?",
                              (w.tag + " message %",)))
        claimed = dict((i, by) for i, by in c.execute(
            "SELECT id, claimed_by FROM posts WHERE title LIKE ? AND claimed_by IS NOT NULL",
            (w.tag + " %",)))
        member_ids = dict(c.execute("SELECT email, id FROM members"))
        stored = dict(c.execute("SELECT id, status FROM shops WHERE id IN (%s)"
                               % ",".join(str(s) for s in w.shops)))
    acked = {t: v for t, v in w.posts.items()}
    check("%s: every acknowledged post is in the store in its acknowledged state (%d posts: %d "
          "open, %d claimed, %d done)" % (what, len(acked), *[
              sum(1 for _, s in acked.values() if s == k) for k in ("open", "claimed", "done")]),
          acked and all(rows.get(t) == v for t, v in acked.items()),
          [(t, v, rows.get(t)) for t, v in acked.items() if rows.get(t) != v][:10])
    check("%s: no creation answered 507 is in the store (%d refused)" % (what, len(w.refused_titles)),
          not [t for t in w.refused_titles if t in rows], [t for t in w.refused_titles if t in rows][:10])
    check("%s: the store holds no post that was not acknowledged" % what,
          set(rows) <= set(acked), sorted(set(rows) - set(acked))[:10])
    wrong_claims = [(pid, c, claimed.get(pid)) for pid, a, c in w.claims
                    if claimed.get(pid) != member_ids[w.members[c].name]]
    check("%s: every acknowledged claim is in the store, by its claimer (%d claims)"
          % (what, len(w.claims)), not wrong_claims, wrong_claims[:10])
    check("%s: every acknowledged private message is in the store, under its post (%d messages), "
          "and none answered 507 (%d refused)" % (what, len(w.messages), len(w.refused_messages)),
          all(msgs.get(b) == p for b, p in w.messages.items())
          and not [b for b in w.refused_messages if b in msgs],
          ([b for b, p in w.messages.items() if msgs.get(b) != p][:5],
           [b for b in w.refused_messages if b in msgs][:5]))
    if not shops:
        return
    wrong_shops = [(s, st, stored.get(s)) for s, st in w.shop_status.items() if stored.get(s) != st]
    check("%s: every shop holds the status last acknowledged (%d shops), not one answered 507"
          % (what, len(w.shop_status)), w.shop_status and not wrong_shops, wrong_shops[:10])


def disk_full(disk_db, emails, nb, work):
    mnt = os.path.join(work, "tmpfs")
    os.mkdir(mnt)
    size = os.path.getsize(disk_db.path) + (24 << 20)
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700" % size, "entraide-faults",
                            mnt], capture_output=True, text=True)
        refused = (r.stderr or r.stdout).strip() if r.returncode else None
    except OSError as e:   # no mount command
        refused = str(e)
    if refused is not None:
        print("# SKIP: the full-disk part needs a tmpfs of its own, and mounting one was refused "
              "(%s): %s" % ("not root" if os.geteuid() != 0 else "root, but refused", refused))
        return SKIP
    srv = None
    try:
        # The database on the tmpfs; the server's log (db.work) stays on disk.
        db = Database(MAPD, "entraide-faults-full.")
        WORKDIRS.append(db.work)
        db.path = os.path.join(mnt, "full.sqlite")
        with closing(sqlite3.connect(disk_db.path)) as src, closing(sqlite3.connect(db.path)) as dst:
            src.backup(dst)   # the WAL's last commits included
        srv = Server(db, "--threads", "4", "--auth-per-minute", "100000", "--comments-per-minute", "0")
        server_pid = srv.p.pid
        members = [Actor.logged_in(srv, e, "correct horse", lang="fr" if i == 1 else None)
                   for i, e in enumerate(emails)]
        staff = Actor.logged_in(srv, "moderation@entraide.example", DEMO_PASSWORD)
        reader_actor = Actor.logged_in(srv, "benevole@entraide.example", DEMO_PASSWORD)
        shops = [s for (s,) in db.sql("SELECT id FROM shops ORDER BY id LIMIT 30")]
        homes = db.sql("SELECT home_lon, home_lat FROM members WHERE neighbourhood_id = ?", nb)

        # The filler takes all but FREE_LEFT of the space; deleting it gives the space back.
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            left = free_bytes(mnt) - FREE_LEFT
            while left > 0:
                n = min(left, 1 << 20)
                f.write(b"\0" * n)
                left -= n
        print("# tmpfs of %d MiB, database %.1f MiB, %d KiB left free"
              % (size >> 20, os.path.getsize(db.path) / 2**20, free_bytes(mnt) >> 10))

        tally = Tally()
        w = Workload(srv, members, staff, shops, homes, tally, "plein")
        start = time.monotonic()
        threads = w.run_threads(reader_actor)
        first_full = None
        while time.monotonic() - start < FILL_DEADLINE:
            time.sleep(0.1)
            if first_full is None and tally.count("create", 507):
                first_full = time.monotonic()
            if first_full and time.monotonic() - first_full > FULL_FOR:
                break
        # Still full: an integrity check while the server holds the file.
        ok_while_full = integrity(db.path)
        sizes = [os.path.getsize(p) / 2**20 if os.path.exists(p) else 0
                 for p in (db.path, db.path + "-wal")]
        w.stop.set()
        for t in threads:
            t.join(timeout=60)
        check("every client stopped by itself", not any(t.is_alive() for t in threads))
        print("# disk full after %.1f s; %d KiB free; database %.1f MiB, WAL %.1f MiB; answers: %s" % (
            (first_full or time.monotonic()) - start, free_bytes(mnt) >> 10, *sizes,
            sorted(tally.statuses.items())))
        check("the disk filled: creations answered 507 (%d) after some 201 (%d)"
              % (tally.count("create", 507), tally.count("create", 201)),
              first_full and tally.count("create", 201) > 0)
        check("claims, messages, shop updates met the full disk too (507: %d claims, %d messages, "
              "%d shop updates)" % (tally.count("claim", 507), tally.count("message", 507),
                                    tally.count("shop", 507)),
              tally.count("shop", 507) > 0 and tally.count("claim", 507) + tally.count("message", 507) > 0)
        check("every write got 2xx or 507, every read 200: no 500, no hang, no dropped connection",
              not tally.bad, tally.bad[:10])
        reads = sum(n for (k, s), n in tally.statuses.items()
                    if k in ("list", "post", "shop", "tile", "geocode", "ogc", "healthz"))
        check("reads went on while the disk was full (%d reads)" % reads, reads > 0
              and all(tally.count(k, 200) for k in ("list", "post", "shop", "tile", "geocode", "ogc",
                                                     "healthz")))
        bad_docs = [(who, doc, h.get("content-type")) for who, doc, h, lang in tally.full
                    if h.get("content-type") != "application/problem+json" or not doc
                    or doc.get("status") != 507
                    or doc.get("detail") != (DISK_FULL_DETAIL_FR if lang == "fr" else DISK_FULL_DETAIL)]
        check("each 507 is a problem+json saying the disk is full (%d, %d in French)"
              % (len(tally.full), sum(1 for *_, lang in tally.full if lang == "fr")),
              tally.full and not bad_docs and any(lang == "fr" for *_, lang in tally.full), bad_docs[:3])
        check("PRAGMA integrity_check is ok while the disk is full", ok_while_full == [("ok",)],
              ok_while_full[:5])
        check_writes(db.path, w, "disk full")

        # Logging in and registering write too (a session, a member).
        probe = Actor(srv, "login")
        st, doc, h = probe.call("POST", "/api/session", {"email": emails[2], "password": "correct horse"})
        check("a login while the disk is full gets 507 (its session cannot be stored)",
              st == 507 and h.get("content-type") == "application/problem+json", (st, doc))
        addr = db.sql("SELECT number, street, postcode FROM addresses WHERE neighbourhood_id = ? "
                      "AND rep = '' ORDER BY id DESC LIMIT 1", nb)[0]
        st, doc, h = Actor(srv, "new").call("POST", "/api/members", {
            "email": "nouveau@example.org", "password": "correct horse battery",
            "display_name": "Nouveau", "address": "%s %s %s" % addr})
        check("a registration while the disk is full gets 507, and no member is stored",
              st == 507 and h.get("content-type") == "application/problem+json"
              and not db.sql("SELECT id FROM members WHERE email = 'nouveau@example.org'"), (st, doc))

        # A backup onto the full disk fails, says so, and leaves nothing behind.
        copy = os.path.join(mnt, "copy.sqlite")
        r = subprocess.run([MAPD, "backup", "--db", disk_db.path, "--out", copy], capture_output=True,
                           text=True, timeout=BACKUP_TIMEOUT)
        check("mapd backup onto the full disk fails saying the disk is full, leaving no file",
              r.returncode != 0 and "full" in r.stderr and not os.path.exists(copy)
              and not os.path.exists(copy + "-journal"), (r.returncode, r.stderr.strip()))

        # ---- space returns: the same server writes again ----
        os.unlink(filler)
        print("# filler deleted: %d MiB free" % (free_bytes(mnt) >> 20))
        after = Tally()
        w2 = Workload(srv, members, staff, shops, homes, after, "retour")
        w2.shop_status = w.shop_status   # the same shops: the last acknowledged status counts
        author = members[0]
        st, doc = write(after, author, "create", "POST", "/api/posts",
                        {"kind": "request", "category": "errands", "title": "retour 0-0", "body": "De la place"},
                        ok=(201,))
        check("after space returns, a creation is answered 201", st == 201, (st, doc))
        if st == 201:
            w2.posts["retour 0-0"] = (doc["id"], "open")
            st, doc = write(after, members[1], "claim", "POST", "/api/posts/%d/claim" % doc["id"])
            check("... a claim 200", st == 200, (st, doc))
            if st == 200:
                pid = w2.posts["retour 0-0"][0]
                w2.posts["retour 0-0"] = (pid, "claimed")
                w2.claims.append((pid, 0, 1))
                st, doc = write(after, members[1], "message", "POST", "/api/posts/%d/messages" % pid,
                                {"body": "retour message 0"}, ok=(201,))
                check("... a private message 201", st == 201, (st, doc))
                if st == 201:
                    w2.messages["retour message 0"] = pid
        st, doc = write(after, staff, "shop", "PATCH", "/api/shops/%d" % shops[0], {"status": "open"})
        check("... a shop update 200", st == 200, (st, doc))
        if st == 200:
            w2.shop_status[shops[0]] = "open"
        # then a burst of every kind, as before the disk filled
        threads = w2.run_threads(reader_actor)
        time.sleep(3)
        w2.stop.set()
        for t in threads:
            t.join(timeout=60)
        print("# after space returned: %s" % sorted(after.statuses.items()))
        check("after space returns, every write of a burst is acknowledged (%d creations) and "
              "every read 200, without restarting the server"
              % after.count("create", 201),
              not after.bad and not after.full and after.count("create", 201) > 10
              and srv.p.poll() is None and srv.p.pid == server_pid, (after.bad[:5], len(after.full)))
        with open(os.path.join(db.work, "server.log")) as f:
            log = f.read()
        check("the server logged the full disk (%d lines)" % log.count("disk full"),
              "disk full: " in log and "database or disk is full" in log)
        check("the server stops cleanly", srv.stop() == 0)
        srv = None
        check_writes(db.path, w, "the disk-full writes, after the server stopped", shops=False)
        check_writes(db.path, w2, "after space returned (shops: both phases)")
        res = integrity(db.path)
        check("PRAGMA integrity_check is ok after the server stopped", res == [("ok",)], res[:5])
    finally:
        if srv is not None and srv.p.poll() is None:
            srv.p.kill()
            srv.p.wait()
        gc.collect()   # closes SQLite connections still held in reference cycles
        r = subprocess.run(["umount", mnt], capture_output=True, text=True)
        if r.returncode:
            print("# umount %s: %s; detached instead" % (mnt, r.stderr.strip()))
            subprocess.run(["umount", "-l", mnt], check=False)
    return 0


# ---- 2. backup under writes --------------------------------------------------------

def backup_under_writes(db, emails, nb):
    srv = Server(db, "--threads", "4", "--auth-per-minute", "100000")
    members = [Actor.logged_in(srv, e, "correct horse") for e in emails]
    tally = Tally()
    w = Workload(srv, members, None, [], [], tally, "sauvegarde")
    threads = [threading.Thread(target=w.author, args=(i, random.Random(20 + i))) for i in range(2)]
    threads.append(threading.Thread(target=w.helper, args=(random.Random(30),)))
    for t in threads:
        t.start()
    time.sleep(1.5)
    with w.lock:   # what was acknowledged before the backup started
        before = dict(w.posts)
    out = os.path.join(db.work, "backup.sqlite")
    t0 = time.monotonic()
    n0 = tally.count("create", 201) + tally.count("claim", 200)
    try:
        r = subprocess.run([MAPD, "backup", "--db", db.path, "--out", out], capture_output=True,
                           text=True, timeout=BACKUP_TIMEOUT)
        rc, why = r.returncode, (r.stderr or r.stdout).strip()
    except subprocess.TimeoutExpired:
        rc, why = -1, "no answer in %d s" % BACKUP_TIMEOUT
    took = time.monotonic() - t0
    during = tally.count("create", 201) + tally.count("claim", 200) - n0
    w.stop.set()
    for t in threads:
        t.join(timeout=60)
    print("# backup in %.2f s, %d writes acknowledged meanwhile; answers: %s"
          % (took, during, sorted(tally.statuses.items())))
    check("mapd backup succeeds while members write", rc == 0, why)
    check("writes were acknowledged while the backup ran (%d)" % during, during > 0)
    check("no write failed during the backup", not tally.bad and not tally.full, tally.bad[:5])
    check("the server stops cleanly", srv.stop() == 0)
    if rc != 0:
        return
    res = integrity(out)
    check("the backup opens and PRAGMA integrity_check is ok", res == [("ok",)], res[:5])
    with closing(sqlite3.connect("file:%s?mode=ro" % out, uri=True)) as c:
        rows = dict((t, (i, s)) for t, i, s in c.execute(
            "SELECT title, id, status FROM posts WHERE title LIKE 'sauvegarde %'"))
    later = {"open": ("open", "claimed", "done"), "claimed": ("claimed", "done"), "done": ("done",)}
    missing = [(t, v, rows.get(t)) for t, v in before.items()
               if t not in rows or rows[t][0] != v[0] or rows[t][1] not in later[v[1]]]
    check("every post acknowledged before the backup started is in it (%d posts; %d in all)"
          % (len(before), len(rows)), before and not missing, missing[:10])
    bdb = Database(MAPD, "entraide-faults-backup.")
    WORKDIRS.append(bdb.work)
    shutil.copyfile(out, bdb.path)
    bsrv = Server(bdb)
    st, _ = Actor(bsrv, "probe").call("GET", "/healthz")[:2]
    check("mapd serve --db BACKUP starts and answers /healthz", st == 200, st)
    check("... and stops cleanly", bsrv.stop() == 0)


def main():
    t0 = time.monotonic()
    db, emails, nb = build_database()
    print("# database ready in %.1f s: %s" % (time.monotonic() - t0, db.path))
    skipped = disk_full(db, emails, nb, db.work) == SKIP
    backup_under_writes(db, emails, nb)   # needs no mount: run either way
    rc = T.finish()
    if not rc:
        for d in WORKDIRS:
            shutil.rmtree(d, ignore_errors=True)
    return SKIP if skipped and not rc else rc


if __name__ == "__main__":
    sys.exit(main())
