#!/usr/bin/env python3
"""tests/api/test_stats.py MAPD SAMPLE_DIR — GET /api/stats against a real
`mapd serve` on 127.0.0.1 (ephemeral port), on a database built from the
sample with `mapd import` and `mapd seed`, plus posts made, claimed and
finished through the API.

What anonymous visitors and members get (open posts, shops by status, and
nothing that counts members); that staff figures equal SQL counts on the
database file; the medians, against posts whose times are set on the file
by another process (the server has no clock of its own to steer); CSV
tables that parse and agree with the JSON; and bad arguments (400).
Only the standard library is used.
"""
import csv
import io
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client as BaseClient, Database, Server as BaseServer, Suite  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DATA = Database(MAPD, "entraide-stats.")
DB = DATA.path
check, run, sql = T.check, DATA.run, DATA.sql
DAY = 86400
STATUS = ("open", "claimed", "done", "cancelled", "expired")
# the stored status as the API reads it (an open post past expiry is "expired")
SHOWN = "CASE WHEN status = 'open' AND expires_at <= ? THEN 'expired' ELSE status END"


class Client(BaseClient):
    def __init__(self, server, name):
        super().__init__(server, name, T)

    def register(self, email, address, name):
        return self.req("POST", "/api/members", {"email": email, "password": "correct horse",
                                                 "display_name": name, "address": address})

    def login(self, email, password="correct horse"):
        return super().login(email, password)


def address_in(nb, offset=0):
    n, street, pc = sql("SELECT number, street, postcode FROM addresses WHERE neighbourhood_id = ? "
                        "AND rep = '' ORDER BY id LIMIT 1 OFFSET ?", nb, offset)[0]
    return "%d %s %s" % (n, street, pc)


def day_text(t):
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def get_csv(cl, path, headers=None):
    st, body, r = cl.raw("GET", path, headers=headers)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline=""))) if st == 200 else None
    return st, rows, r


def sql_figures(since, until, now):
    """What the staff JSON must say of the posts created in [since, until)."""
    where = "created_at >= ? AND created_at < ? AND hidden = 0"
    cells = sql("SELECT date(created_at / 86400 * 86400, 'unixepoch'), neighbourhood_id, category, %s, "
                "count(*) FILTER (WHERE kind = 'request'), count(*) FILTER (WHERE kind = 'offer') FROM posts WHERE %s "
                "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4" % (SHOWN, where), now, since, until)
    return [list(c) for c in cells]


def staff_checks(staff, anon, member):
    now = int(time.time())
    st, doc, r = staff.req("GET", "/api/stats")
    check("staff: 200 with the staff figures",
          st == 200 and {"open_posts", "shops", "window", "needs", "times", "neighbourhoods"} <= set(doc), doc)
    check("staff: Cache-Control private, varying on the cookie",
          "private" in r.getheader("Cache-Control", "") and "Cookie" in r.getheader("Vary", ""),
          r.getheader("Cache-Control"))
    today = now - now % DAY
    check("the default window is the last 30 days, today included",
          doc["window"] == {"since": day_text(today - 29 * DAY), "until": day_text(today), "days": 30},
          doc["window"])
    since, until = today - 29 * DAY, today + DAY
    rows = sql_figures(since, until, now)
    check("needs.cells equal the SQL groups of the window's posts (%d cells)" % len(rows),
          len(rows) > 20 and doc["needs"]["cells"]["rows"] == rows,
          (doc["needs"]["cells"]["rows"][:3], rows[:3]))
    total = sql("SELECT count(*) FROM posts WHERE created_at >= ? AND created_at < ? AND hidden = 0",
                since, until)[0][0]
    check("needs.posts is the SQL count (%d)" % total,
          doc["needs"]["posts"] == total == doc["needs"]["requests"] + doc["needs"]["offers"] > 0)
    by_status = dict(sql("SELECT %s, count(*) FROM posts WHERE created_at >= ? AND created_at < ? "
                         "AND hidden = 0 GROUP BY 1" % SHOWN, now, since, until))
    check("needs.by_status equals SQL", doc["needs"]["by_status"] == {s: by_status.get(s, 0) for s in STATUS},
          (doc["needs"]["by_status"], by_status))
    by_cat = dict(sql("SELECT category, count(*) FROM posts WHERE created_at >= ? AND created_at < ? "
                      "AND hidden = 0 GROUP BY 1", since, until))
    check("needs.by_category equals SQL (every category, zeros included)",
          len(doc["needs"]["by_category"]) == 10
          and all(doc["needs"]["by_category"][c] == by_cat.get(c, 0) for c in doc["needs"]["by_category"]),
          (doc["needs"]["by_category"], by_cat))
    by_day = dict(sql("SELECT date(created_at, 'unixepoch'), count(*) FROM posts WHERE created_at >= ? "
                      "AND created_at < ? AND hidden = 0 GROUP BY 1", since, until))
    check("needs.by_day: every day of the window, each the SQL count",
          [d["day"] for d in doc["needs"]["by_day"]] == [day_text(since + i * DAY) for i in range(30)]
          and all(d["posts"] == by_day.get(d["day"], 0) for d in doc["needs"]["by_day"]), by_day)
    nbs = {n["id"]: n for n in doc["neighbourhoods"]}
    check("every neighbourhood is listed (%d)" % len(nbs),
          set(nbs) == {r[0] for r in sql("SELECT id FROM neighbourhoods")})
    members = dict(sql("SELECT neighbourhood_id, count(*) FROM members WHERE neighbourhood_id IS NOT NULL "
                       "GROUP BY 1"))
    check("verified members per neighbourhood equal SQL (%d accounts)" % sum(members.values()),
          sum(members.values()) > 0 and all(n["verified_members"] == members.get(i, 0) for i, n in nbs.items()))
    shops = {r[0]: r[1:] for r in sql(
        "SELECT neighbourhood_id, count(*), count(*) FILTER (WHERE confirmed_at IS NULL OR ? - confirmed_at > 604800) "
        "FROM shops WHERE neighbourhood_id IS NOT NULL GROUP BY 1", now)}
    check("shops and unconfirmed shops per neighbourhood equal SQL",
          all((n["shops"], n["shops_unconfirmed"]) == tuple(shops.get(i, (0, 0))) for i, n in nbs.items()),
          [(i, n["shops"], n["shops_unconfirmed"], shops.get(i)) for i, n in list(nbs.items())[:3]])
    per_nb = dict(sql("SELECT neighbourhood_id, count(*) FROM posts WHERE created_at >= ? AND created_at < ? "
                      "AND hidden = 0 GROUP BY 1", since, until))
    check("posts per neighbourhood equal SQL",
          all(n["posts"] == per_nb.get(i, 0) and sum(n["by_status"].values()) == n["posts"]
              for i, n in nbs.items()))
    sh = dict(sql("SELECT status, count(*) FROM shops GROUP BY 1"))
    unconf = sql("SELECT count(*) FROM shops WHERE confirmed_at IS NULL OR ? - confirmed_at > 604800", now)[0][0]
    check("shops by status and unconfirmed (%d) equal SQL" % unconf,
          doc["shops"]["by_status"] == sh and doc["shops"]["total"] == sum(sh.values())
          and doc["shops"]["unconfirmed"] == unconf
          and sum(doc["shops"]["unconfirmed_by_status"].values()) == unconf, doc["shops"])
    # the anonymous part is the same for everyone
    st, adoc, r = anon.req("GET", "/api/stats")
    check("the open posts and shops of staff are those anonymous visitors get",
          st == 200 and adoc["open_posts"] == doc["open_posts"]
          and adoc["shops"] == {"total": doc["shops"]["total"], "by_status": doc["shops"]["by_status"]})

    # CSV: the needs table (staff's default), parsed, agrees with the JSON
    st, rows, r = get_csv(staff, "/api/stats?format=csv")
    check("staff CSV: 200 text/csv, an attachment named by the window",
          st == 200 and r.getheader("Content-Type", "").startswith("text/csv")
          and "entraide-stats-needs-%s-%s.csv" % (day_text(since), day_text(today))
          in r.getheader("Content-Disposition", ""), r.getheader("Content-Disposition"))
    names = {n["id"]: n["name"] for n in doc["neighbourhoods"]}
    check("CSV needs header", rows and rows[0] == ["day", "neighbourhood_id", "neighbourhood", "category",
                                                   "status", "requests", "offers", "posts"], rows and rows[0])
    body = rows[1:]
    check("CSV needs: one row per JSON cell, the same values, the name beside the id",
          [[r[0], r[1], r[3], r[4], int(r[5]), int(r[6])] for r in body] == doc["needs"]["cells"]["rows"]
          and all(r[2] == names[r[1]] and int(r[7]) == int(r[5]) + int(r[6]) for r in body))
    check("CSV needs: the posts column sums to needs.posts",
          sum(int(r[7]) for r in body) == doc["needs"]["posts"])
    st, rows2, r = get_csv(staff, "/api/stats", headers={"Accept": "text/csv"})
    check("Accept: text/csv without format gives the same CSV", st == 200 and rows2 == rows)
    st, rows, _ = get_csv(staff, "/api/stats?format=csv&table=neighbourhoods")
    head = rows[0] if rows else []
    col = {k: i for i, k in enumerate(head)}
    check("CSV neighbourhoods: one row per neighbourhood, as in the JSON",
          st == 200 and len(rows) - 1 == len(nbs)
          and all(int(r[col["verified_members"]]) == nbs[r[0]]["verified_members"]
                  and int(r[col["posts"]]) == nbs[r[0]]["posts"]
                  and int(r[col["shops_unconfirmed"]]) == nbs[r[0]]["shops_unconfirmed"]
                  and sum(int(r[col[s]]) for s in STATUS) == nbs[r[0]]["posts"] for r in rows[1:]), head)
    st, rows, _ = get_csv(staff, "/api/stats?format=csv&table=shops")
    check("CSV shops (staff): status, shops, unconfirmed",
          st == 200 and rows[0] == ["status", "shops", "unconfirmed"]
          and {r[0]: int(r[1]) for r in rows[1:]} == sh
          and sum(int(r[2]) for r in rows[1:]) == unconf, rows)


def medians(staff, ma, mb, mc, md, a):
    """Posts of known times on a day of their own: the medians are checked
    against statistics.median of the same durations."""
    ids = []
    for i in range(7):
        st, doc, _ = ma.req("POST", "/api/posts", {"kind": "request", "category": "errands",
                                                   "title": "Mesure %d" % i})
        ids.append(doc["properties"]["id"])
    st, doc, _ = mc.req("POST", "/api/posts", {"kind": "offer", "category": "pets", "title": "Mesure B"})
    idb = doc["properties"]["id"]
    for pid in ids[:6]:
        mb.req("POST", "/api/posts/%d/claim" % pid)
    before = int(time.time())
    for pid in ids[:4]:
        st, _, _ = mb.req("POST", "/api/posts/%d/done" % pid)
    after = int(time.time())
    ma.req("POST", "/api/posts/%d/cancel" % ids[4])
    md.req("POST", "/api/posts/%d/claim" % idb)
    mc.req("POST", "/api/posts/%d/done" % idb)
    done_at = dict(sql("SELECT id, done_at FROM posts WHERE id IN (%s)" % ",".join("?" * len(ids)), *ids))
    check("marking done keeps the time (done_at), cancelling does not",
          all(before <= done_at[p] <= after for p in ids[:4])
          and done_at[ids[4]] is None and done_at[ids[5]] is None, done_at)

    # Their times, set on the file: a day 100 days back holds them alone.
    day = int(time.time()) // DAY * DAY - 100 * DAY
    to_claim = [600, 1800, 3600, 7200, 40, 90000]      # ids[0..5]; ids[6] never claimed
    to_done = [100, 300, 900, 86400]                   # ids[0..3]
    for i, pid in enumerate(ids):
        created = day + 3600 + i * 60
        claimed = created + to_claim[i] if i < 6 else None
        done = claimed + to_done[i] if i < 4 else None
        DATA.write("UPDATE posts SET created_at = ?, claimed_at = ?, done_at = ? WHERE id = ?",
                   created, claimed, done, pid)
    DATA.write("UPDATE posts SET created_at = ?, claimed_at = ?, done_at = ? WHERE id = ?",
               day + 7200, day + 7200 + 500, day + 7200 + 500 + 50, idb)
    q = "/api/stats?since=%s&until=%s" % (day_text(day), day_text(day))
    st, doc, _ = staff.req("GET", q)
    times = doc["times"] if st == 200 else {}
    want_claim = statistics.median(to_claim + [500])
    want_done = statistics.median(to_done + [50])
    check("median from posting to claiming: %s s over 7 posts (claimed, done and cancelled)" % want_claim,
          times.get("to_claim") == {"median_seconds": want_claim, "posts": 7}, times)
    check("median from claiming to done: %s s over the 5 posts done after a claim" % want_done,
          times.get("to_done") == {"median_seconds": want_done, "posts": 5}, times)
    nbs = {n["id"]: n for n in doc["neighbourhoods"]}
    check("per neighbourhood: A's medians are of A's posts (even counts: the mean of the middle two)",
          nbs[a]["to_claim"] == {"median_seconds": statistics.median(to_claim), "posts": 6}
          and nbs[a]["to_done"] == {"median_seconds": statistics.median(to_done), "posts": 4},
          (nbs[a]["to_claim"], nbs[a]["to_done"]))
    c_nb = sql("SELECT neighbourhood_id FROM posts WHERE id = ?", idb)[0][0]
    check("and C's of C's one post", nbs[c_nb]["to_claim"] == {"median_seconds": 500, "posts": 1}
          and nbs[c_nb]["to_done"] == {"median_seconds": 50, "posts": 1}, nbs[c_nb])
    check("the day's cells: 8 posts, 4 done, 1 cancelled, 1 claimed, 1 open; nothing else that day",
          doc["needs"]["posts"] == 8 and doc["needs"]["by_status"] == {"open": 1, "claimed": 1, "done": 5,
                                                                         "cancelled": 1, "expired": 0},
          doc["needs"]["by_status"])
    # A post hidden by moderation leaves every figure; an open one past its expiry reads "expired".
    staff.req("POST", "/api/posts/%d/hide" % ids[1])
    DATA.write("UPDATE posts SET expires_at = ? WHERE id = ?", int(time.time()) - 10, ids[6])
    st, doc, _ = staff.req("GET", q)
    check("a hidden post is left out, an expired one counted as expired",
          doc["needs"]["posts"] == 7 and doc["needs"]["by_status"]["expired"] == 1
          and doc["needs"]["by_status"]["open"] == 0 and doc["times"]["to_claim"]["posts"] == 6,
          (doc["needs"]["by_status"], doc["times"]))
    staff.req("POST", "/api/posts/%d/restore" % ids[1])


def bad_input(anon, staff):
    today = int(time.time()) // DAY * DAY
    for q, why in (("since=2026-02-30", "not a date"), ("since=2026-1-01", "one-digit month"),
                   ("until=yesterday", "a word"), ("since=2026-13-01", "month 13"),
                   ("since=1969-12-31", "before 1970"), ("since=2026-01-01T00:00:00Z", "a time"),
                   ("since=%s&until=%s" % (day_text(today), day_text(today - DAY)), "since after until"),
                   ("since=%s&until=%s" % (day_text(today - 366 * DAY), day_text(today)), "367 days"),
                   ("format=xml", "unknown format"), ("table=needs", "table without format=csv"),
                   ("format=csv&table=members", "unknown table"), ("limit=5", "unknown argument")):
        for cl in (anon, staff):
            st, doc, r = cl.req("GET", "/api/stats?" + q)
            check("%s: 400 problem+json (%s)" % (why, cl.name),
                  st == 400 and r.getheader("Content-Type") == "application/problem+json"
                  and doc.get("detail"), (st, doc))
    st, doc, _ = staff.req("GET", "/api/stats?since=%s&until=%s" % (day_text(today - 365 * DAY), day_text(today)))
    check("a window of 366 days is fine", st == 200 and doc["window"]["days"] == 366, doc.get("window"))
    st, doc, _ = staff.req("GET", "/api/stats?since=%s" % day_text(today - 6 * DAY))
    check("since alone: until is today", st == 200 and doc["window"]["days"] == 7, doc.get("window"))
    anon.lang = "fr-FR,fr;q=0.9"
    st, doc, _ = anon.req("GET", "/api/stats?since=2026-02-30")
    check("the refusal in French when asked", st == 400 and "AAAA-MM-JJ" in doc.get("detail", ""), doc)
    anon.lang = None


def main():
    run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB)
    run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB)
    run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", DB)
    run("seed", "--db", DB, "--posts", "400", "--seed", "3")
    run("user", "add", "--db", DB, "--email", "staff@example.org", "--role", "staff",
        "--password-stdin", stdin="correct horse\n")
    # shop confirmations of every age, far from the 7-day line
    now = int(time.time())
    DATA.write("UPDATE shops SET confirmed_at = ? - (id % 20) * 86400 - 3600 "
               "WHERE confirmed_at IS NOT NULL OR id % 3 = 0", now)
    a = sql("SELECT a FROM neighbourhood_contiguity GROUP BY a ORDER BY count(*) DESC, a LIMIT 1")[0][0]
    b = sql("SELECT b FROM neighbourhood_contiguity WHERE a = ? ORDER BY b LIMIT 1", a)[0][0]
    c = sql("SELECT id FROM neighbourhoods WHERE id NOT IN (SELECT b FROM neighbourhood_contiguity "
            "WHERE a = ?) AND id <> ? ORDER BY id LIMIT 1", a, a)[0][0]

    srv = BaseServer(DATA, "--auth-per-minute", "1000")
    anon = Client(srv, "anonymous")
    ma, mb, mc, md = Client(srv, "A"), Client(srv, "B"), Client(srv, "C"), Client(srv, "D")
    staff = Client(srv, "staff")
    for cl, email, addr in ((ma, "alice@example.org", address_in(a)), (mb, "bob@example.org", address_in(b)),
                            (mc, "carol@example.org", address_in(c, 2)),
                            (md, "dan@example.org", address_in(c, 4))):
        st, doc, _ = cl.register(email, addr, cl.name)
        check("register %s" % cl.name, st == 201, doc)
        cl.login(email)
    staff.login("staff@example.org")

    # ---- what everyone gets ----
    for cl in (anon, ma):
        st, doc, r = cl.req("GET", "/api/stats")
        check("%s: 200 with open_posts and shops only" % cl.name,
              st == 200 and set(doc) == {"open_posts", "shops"}
              and set(doc["shops"]) == {"total", "by_status"}, doc and list(doc))
        text = T.bodies[-1][1]
        check("%s: nothing that counts members or staff figures" % cl.name,
              not any(w in text for w in ("verified_members", "unconfirmed", "cells", "median", "neighbourhoods")))
        check("%s: no-store" % cl.name, r.getheader("Cache-Control") == "no-store")
        opens = {}
        for nb, cat, n in sql("SELECT neighbourhood_id, category, count(*) FROM posts WHERE status = 'open' "
                              "AND expires_at > ? AND hidden = 0 AND neighbourhood_id IS NOT NULL "
                              "GROUP BY 1, 2", int(time.time()) + 2):
            opens.setdefault(nb, {})[cat] = n
        check("%s: open_posts equal SQL (%d neighbourhoods)" % (cl.name, len(opens)),
              doc["open_posts"] == opens and opens)
        for table, want in (("needs", 401 if cl is anon else 403), ("neighbourhoods", 401 if cl is anon else 403)):
            st, _, _ = cl.req("GET", "/api/stats?format=csv&table=" + table)
            check("%s: the %s table is for staff (%d)" % (cl.name, table, want), st == want, st)
        st, rows, r = get_csv(cl, "/api/stats?format=csv")
        check("%s: CSV by default the open posts, summing to the JSON" % cl.name,
              st == 200 and rows[0] == ["neighbourhood_id", "category", "open_posts"]
              and sum(int(x[2]) for x in rows[1:]) == sum(sum(v.values()) for v in doc["open_posts"].values()),
              rows and rows[:2])
        st, rows, _ = get_csv(cl, "/api/stats?format=csv&table=shops")
        check("%s: CSV shops without the unconfirmed column" % cl.name,
              st == 200 and rows[0] == ["status", "shops"]
              and {x[0]: int(x[1]) for x in rows[1:]} == doc["shops"]["by_status"], rows)

    # The open posts are counted from the read model: the same bytes as SQL,
    # and a change shows at once, whichever process made it.
    twin = BaseServer(DATA, "--posts-model", "off")
    tw = Client(twin, "anonymous (SQL)")
    def same(label):
        a, b = anon.raw("GET", "/api/stats")[1], tw.raw("GET", "/api/stats")[1]
        check("the read model's counts are SQL's, byte for byte (%s)" % label, a == b and b"open_posts" in a,
              (a[:120], b[:120]))
    same("as seeded")
    st, p, _ = ma.req("POST", "/api/posts", {"kind": "request", "category": "pets", "title": "Chat"})
    DATA.write("UPDATE posts SET hidden = 1 WHERE id = (SELECT min(id) FROM posts WHERE status = 'open')")
    same("after a post by the API and a hidden one by another process")
    check("the SQL twin stops cleanly", twin.stop() == 0)

    # ---- staff ----
    staff_checks(staff, anon, ma)
    medians(staff, ma, mb, mc, md, a)
    bad_input(anon, staff)

    rc = srv.stop()
    check("the server stops cleanly", rc == 0, rc)
    rc = T.finish()
    subprocess.run(["rm", "-rf", DATA.work])
    return rc


if __name__ == "__main__":
    sys.exit(main())
