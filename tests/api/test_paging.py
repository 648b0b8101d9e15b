#!/usr/bin/env python3
"""tests/api/test_paging.py MAPD SAMPLE_DIR — no list of the API is cut short
without saying so, against a real `mapd serve` on 127.0.0.1.

The sample city is imported and seeded, then grown past every old cap with
plain SQL (the sqlite3 shell with mod_spatialite, as another process would
write): 620 makers, 620 orders each way, 10,250 posts of one member at one
point, 10,150 groups, 1,200 more shops, 250 shop claims, 250 reset links,
250 reports of one post. For each list, a client that follows the cursors
(next_after / next_before, and for GeoJSON the rel "next" link) must get
every item that SQL says it may see exactly once, in the list's order; every
page that holds fewer than exist must say so ("more"); the last must not.
Items added while a client pages (through the API or SQL) never make it read
an item twice nor skip one. The posts lists are also compared, byte for
byte, with a server answering them through SQL (--posts-model off). Bad
cursors (a word, a negative number, one past any integer), an offset past
its ceiling and an offset with a cursor are each a 400 problem that names
what to use.
"""
import os
import re
import subprocess
import sys
import traceback
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PG_DIR, Client as BaseClient, Database, Server, Suite  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DB = Database(MAPD, "entraide-paging.")
check, sql = T.check, DB.sql
DEMO = "entraide-demo"       # the password of the seeded demonstration accounts
BAD_CURSORS = ["abc", "-1", "99999999999999999999999", "1.5", "", "0x10"]


class Client(BaseClient):
    def __init__(self, server, name):
        super().__init__(server, name, T)

    def get(self, path):
        st, doc, r = self.req("GET", path)
        assert st == 200, (self.name, path, st, doc)
        return doc


def _pgify(s):
    """This test's SpatiaLite SQL as PostGIS's, for a PostgreSQL store."""
    s = re.sub(r"(?<![\w.])X\(", "ST_X(", s)
    s = re.sub(r"(?<![\w.])Y\(", "ST_Y(", s)
    s = re.sub(r"MakePoint\(([^()]*(?:\([^()]*\)[^()]*)*), 4326\)", r"ST_SetSRID(ST_MakePoint(\1), 4326)", s)
    s = s.replace("randomblob(32)", "decode(md5(random()::text) || md5(random()::text), 'hex')")
    s = s.replace("posts_fts MATCH 'pain'", "fts @@ to_tsquery('simple', 'pain')")
    s = re.sub(r"JOIN idx_shops_geom i ON i.pkid = s.id WHERE i.xmin <= ([\d.]+) AND i.xmax >= ([\d.]+) "
                r"AND i.ymin <= ([\d.]+) AND i.ymax >= ([\d.]+)",
                r"WHERE s.geom && ST_MakeEnvelope(\2, \4, \1, \3, 4326)", s)
    return s


def _psql(script, sep="|"):
    return subprocess.run(["psql", "-h", PG_DIR, "-U", "postgres", "-qAtX", "-v", "ON_ERROR_STOP=1",
                           "-F", sep, "-d", re.search(r"dbname=(\S+)", DB.path).group(1)],
                          input=_pgify(script), capture_output=True, text=True, check=True).stdout


def spatial_sql(script):
    if PG_DIR:
        _psql(script)
        return
    return _spatial_sql(script)


def spatial_rows(query):
    if PG_DIR:
        return [line.split("|") for line in _psql(query + ";").splitlines() if line]
    return _spatial_rows(query)


def _spatial_sql(script):
    """script run by the sqlite3 shell with mod_spatialite loaded: a write by
    another process, spatial triggers and all."""
    subprocess.run(["sqlite3", "-bail", DB.path], input=".timeout 20000\n.load mod_spatialite\n" + script,
                   capture_output=True, text=True, check=True)


def _spatial_rows(query):
    """The rows of query (text fields) read by the sqlite3 shell with
    mod_spatialite: for the SQL functions plain sqlite3 lacks."""
    out = subprocess.run(["sqlite3", "-bail", "-separator", "|", DB.path],
                         input=".timeout 20000\n.load mod_spatialite\n" + query + ";\n",
                         capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def problem(r, doc, status, *words):
    """r answered status as problem+json whose detail holds every word."""
    return (r.status == status and (r.getheader("Content-Type") or "").startswith("application/problem+json")
            and isinstance(doc, dict) and all(w in (doc.get("detail") or "") for w in words))


def follow(client, path, key, cursor, link=False, during=None):
    """Reads a list from path to its end through its cursor: (ids in the
    order read, pages, wrong) where wrong lists the pages that broke the
    promise (more without a next cursor or link, a next cursor that is not
    the last item's id, a full page that said nothing). during(page) runs
    after each page (concurrent writes)."""
    ids, pages, wrong = [], 0, []
    base = urllib.parse.urlsplit(path).path
    while True:
        doc = client.get(path)
        pages += 1
        got = [it["id"] for it in doc[key]]
        ids += got
        more = doc.get("more")
        if not isinstance(more, bool):
            wrong.append((path, "no more flag"))
            break
        nxt = doc.get("next_" + cursor)
        if more:
            if not got or nxt != got[-1]:
                wrong.append((path, "next_%s %r is not the last id %r" % (cursor, nxt, got[-1:])))
                break
            if link:
                links = [l for l in doc.get("links", []) if l.get("rel") == "next"]
                if len(links) != 1 or not links[0]["href"].startswith("?"):
                    wrong.append((path, "no next link", doc.get("links")))
                    break
                q = urllib.parse.parse_qs(links[0]["href"][1:], keep_blank_values=True)
                if q.get(cursor) != [str(nxt)] or "offset" in q:
                    wrong.append((path, "the next link does not carry the cursor", links[0]["href"]))
                    break
                path = base + links[0]["href"]
            else:
                q = [(k, v) for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query,
                                                               keep_blank_values=True) if k != cursor]
                path = base + "?" + urllib.parse.urlencode(q + [(cursor, str(nxt))])
        else:
            if nxt is not None or (link and doc.get("links")):
                wrong.append((path, "a last page with a next cursor"))
            break
        if during:
            during(pages)
        if pages > 5000:
            wrong.append((path, "endless"))
            break
    return ids, pages, wrong


def once(label, ids, expected, order=None):
    """Checks that ids holds each of expected exactly once (and, with
    order, in that order); other ids (added meanwhile) may come too."""
    dup = len(ids) - len(set(ids))
    missing = set(expected) - set(ids)
    check("%s: %d items, each of the %d expected once (no duplicate, none missing)"
          % (label, len(ids), len(expected)), dup == 0 and not missing,
          "dup %d, missing %s" % (dup, sorted(missing)[:5]))
    if order is not None:
        check("%s: in the list's order" % label, ids == order, (ids[:5], order[:5]))


def bad_cursors(client, path, name):
    """Each bad value of cursor name is a 400 problem naming it."""
    wrong = []
    for v in BAD_CURSORS:
        sep = "&" if "?" in path else "?"
        st, doc, r = client.req("GET", "%s%s%s=%s" % (path, sep, name, v))
        if not problem(r, doc, 400, name):
            wrong.append((v, st, doc))
    check("%s: %d bad %s values, each a 400 problem naming it" % (path, len(BAD_CURSORS), name),
          not wrong, wrong[:3])


def build():
    """The city, seeded, then past every cap. Returns the facts the checks use."""
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    DB.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB.path)
    DB.run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", DB.path)
    DB.run("seed", "--db", DB.path, "--posts", "300")
    ben = sql("SELECT id, neighbourhood_id FROM members WHERE email = 'benevole@entraide.example'")[0]
    # A first server: the member's first post (at their public point) and maker profile.
    srv = Server(DB, "--auth-per-minute", "1000")
    b = Client(srv, "benevole")
    b.login("benevole@entraide.example", DEMO)
    st, doc, _ = b.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                              "title": "Besoin de pain 0"})
    assert st == 201, (st, doc)
    p0 = doc["properties"]["id"]
    st, doc, _ = b.req("PUT", "/api/makers/me", {"capacity_per_day": 10, "stock": 5})
    assert st == 200, (st, doc)
    srv.stop()
    me, nb = ben
    spatial_sql("""
BEGIN;
CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10250) INSERT INTO n SELECT i FROM c;
CREATE TEMP TABLE homes AS SELECT row_number() OVER (ORDER BY id) AS k, id, X(geom) AS lon, Y(geom) AS lat
  FROM addresses WHERE neighbourhood_id = '{nb}' LIMIT 620;
INSERT INTO members(email, password_hash, display_name, role, address_id, address_text, home_lon, home_lat,
                    neighbourhood_id)
  SELECT 'page-' || k || '@example.invalid', '!', 'Voisin ' || k, 'member', id, 'adresse ' || k, lon, lat, '{nb}'
  FROM homes;
INSERT INTO makers(member_id, capacity_per_day, stock, geom)
  SELECT m.id, 5, 5, MakePoint(m.home_lon, m.home_lat, 4326) FROM members m
  WHERE m.email LIKE 'page-%@example.invalid';
INSERT INTO maker_orders(maker_id, requester_id, quantity, note)
  SELECT {me}, id, 1, 'pour ' || id FROM members WHERE email LIKE 'page-%@example.invalid';
INSERT INTO maker_orders(maker_id, requester_id, quantity)
  SELECT id, {me}, 2 FROM members WHERE email LIKE 'page-%@example.invalid';
INSERT INTO posts(author_id, kind, category, title, body, neighbourhood_id, expires_at, geom)
  SELECT p.author_id, 'request', 'groceries', 'Besoin de pain ' || n.i, '', p.neighbourhood_id, p.expires_at,
         p.geom FROM posts p, n WHERE p.id = {p0};
INSERT INTO post_reports(post_id, reporter_id, reason)
  SELECT {p0}, id, 'raison ' || id FROM members WHERE email LIKE 'page-%@example.invalid' ORDER BY id LIMIT 250;
INSERT INTO groups(name, category, neighbourhood_id, creator_id, member_count, created_at)
  SELECT 'Groupe ' || i, 'other', '{nb}', {me}, i % 7, unixepoch() FROM n WHERE i <= 10150;
INSERT INTO shops(source_id, name, shop, status, neighbourhood_id, geom)
  SELECT 'test/' || i, 'Boutique ' || i, 'bakery', 'open', '{nb}',
         MakePoint(2.30 + (i % 40) * 0.001, 48.80 + (i / 40) * 0.001, 4326) FROM n WHERE i <= 1200;
INSERT INTO shop_claims(shop_id, member_id, note, created_at)
  SELECT s.id, m.id, 'appelez-moi', unixepoch() FROM
    (SELECT id, row_number() OVER (ORDER BY id) AS k FROM shops WHERE source_id LIKE 'test/%') s
    JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM members
          WHERE email LIKE 'page-%@example.invalid') m ON m.k = s.k WHERE s.k <= 250;
INSERT INTO password_resets(member_id, token_hash, token, created_at, expires_at)
  SELECT id, randomblob(32), 'jeton-' || id, unixepoch(), unixepoch() + 86400 FROM members
  WHERE email LIKE 'page-%@example.invalid' ORDER BY id LIMIT 250;
COMMIT;
""".format(nb=nb, me=me, p0=p0))
    return {"me": me, "nb": nb, "p0": p0}


def audience(nb):
    return [nb] + [r[0] for r in sql("SELECT b FROM neighbourhood_contiguity WHERE a = ?", nb)]


def in_list(col, values):
    return "%s IN (%s)" % (col, ",".join("'%s'" % v.replace("'", "''") for v in values))


def makers_and_orders(f, b, staff, other):
    aud = audience(f["nb"])
    # ---- makers ----
    expected = [r[0] for r in sql("SELECT k.member_id FROM makers k JOIN members m ON m.id = k.member_id "
                                  "WHERE " + in_list("m.neighbourhood_id", aud) + " ORDER BY 1")]
    check("more makers than the old cap of 500 are seen by one member", len(expected) > 500, len(expected))
    first = b.get("/api/makers")
    check("/api/makers: the first page holds 500 and says more, with next_after and a next link",
          len(first["features"]) == 500 and first["more"] is True and first["numberReturned"] == 500
          and first["next_after"] == first["features"][-1]["id"] and first["links"][0]["rel"] == "next", 
          {k: v for k, v in first.items() if k != "features"})
    added = []

    def add_maker(page):   # a new maker (a new member, a larger id) while the client pages
        if page == 1:
            spatial_sql("INSERT INTO members(email, password_hash, display_name, neighbourhood_id, home_lon, "
                        "home_lat) SELECT 'late@example.invalid', '!', 'Tardif', neighbourhood_id, home_lon, "
                        "home_lat FROM members WHERE id = %d;"
                        "INSERT INTO makers(member_id, geom) SELECT id, MakePoint(home_lon, home_lat, 4326) "
                        "FROM members WHERE email = 'late@example.invalid';" % f["me"])
            added.append(sql("SELECT id FROM members WHERE email = 'late@example.invalid'")[0][0])
    ids, pages, wrong = follow(b, "/api/makers", "features", "after", link=True, during=add_maker)
    check("/api/makers: pages keep their promise", not wrong, wrong[:2])
    once("/api/makers followed by after=", ids, expected, order=expected + added)
    ids, pages, wrong = follow(b, "/api/makers?limit=7", "features", "after", link=True)
    once("/api/makers?limit=7 (%d pages)" % pages, ids, expected + added, order=expected + added)
    box = tuple(float(v) for v in spatial_rows("SELECT min(X(geom)) - 0.001, min(Y(geom)) - 0.001, "
                                               "max(X(geom)) + 0.001, max(Y(geom)) + 0.001 FROM makers")[0])
    ids, pages, wrong = follow(staff, "/api/makers?bbox=%.6f,%.6f,%.6f,%.6f&limit=100" % box, "features",
                               "after", link=True)
    check("/api/makers?bbox=… (staff): pages keep their promise", not wrong, wrong[:2])
    once("/api/makers?bbox=… (staff, %d pages)" % pages, ids,
         [r[0] for r in sql("SELECT member_id FROM makers ORDER BY 1")])
    bad_cursors(b, "/api/makers", "after")
    st, doc, r = b.req("GET", "/api/makers?limit=501")
    check("/api/makers?limit=501: 400 naming limit", problem(r, doc, 400, "limit"), doc)
    st, doc, r = b.req("GET", "/api/makers?afterr=3")
    check("/api/makers?afterr=3 (a typo): 400 naming it", problem(r, doc, 400, "afterr"), doc)

    # ---- orders: those placed, and the book ----
    for as_, who, col in (("requester", "placed", "requester_id"), ("maker", "book", "maker_id")):
        expected = [r[0] for r in sql("SELECT id FROM maker_orders WHERE %s = ? ORDER BY id DESC" % col,
                                      f["me"])]
        path = "/api/orders" if as_ == "requester" else "/api/orders?as=maker"
        first = b.get(path)
        check("%s: %d orders; the first page holds 500 and says more" % (path, len(expected)),
              len(expected) > 500 and len(first["orders"]) == 500 and first["more"] is True, len(first["orders"]))
        late = []

        def add_order(page, col=col, late=late):   # newer orders never come into older pages
            if page == 1:
                maker, req = (f["me"], other) if col == "maker_id" else (other, f["me"])
                spatial_sql("INSERT INTO maker_orders(maker_id, requester_id, quantity) VALUES (%d, %d, 3);"
                            % (maker, req))
                late.append(sql("SELECT max(id) FROM maker_orders")[0][0])
        ids, pages, wrong = follow(b, path, "orders", "before", during=add_order)
        check("%s: pages keep their promise" % path, not wrong, wrong[:2])
        once("%s followed by before= (the %s)" % (path, who), ids, expected, order=expected)
        ids, pages, wrong = follow(b, path + ("&" if "?" in path else "?") + "limit=33", "orders", "before")
        once("%s, limit=33 (%d pages)" % (path, pages), ids, late + expected, order=late + expected)
    me = b.get("/api/makers/me")["properties"]
    book = [r[0] for r in sql("SELECT id FROM maker_orders WHERE maker_id = ? ORDER BY id DESC", f["me"])]
    check("/api/makers/me: the first 500 of the book, orders_more and orders_next_before",
          [o["id"] for o in me["orders"]] == book[:500] and me["orders_more"] is True
          and me["orders_next_before"] == book[499], (len(me["orders"]), me.get("orders_more")))
    rest = b.get("/api/orders?as=maker&before=%d" % me["orders_next_before"])
    check("… and /api/orders?as=maker&before= goes on from there",
          [o["id"] for o in rest["orders"]] == book[500:1000], len(rest["orders"]))
    bad_cursors(b, "/api/orders", "before")
    st, doc, r = b.req("GET", "/api/orders?as=cook")
    check("/api/orders?as=cook: 400", problem(r, doc, 400, "as"), doc)


def posts(f, b, b_sql, staff, lon, lat):
    aud = audience(f["nb"])
    now_filter = "status = 'open' AND expires_at > unixepoch() AND hidden = 0"
    mine = [r[0] for r in sql("SELECT id FROM posts WHERE author_id = ? AND " + now_filter
                              + " ORDER BY id DESC", f["me"])]
    seen = [r[0] for r in sql("SELECT id FROM posts WHERE " + now_filter + " AND "
                              + in_list("neighbourhood_id", aud) + " ORDER BY id DESC")]
    check("one member has more than 10,000 posts open", len(mine) > 10000, len(mine))
    # Newest first, by before=: mine, the audience's, a box, keywords (SQL path).
    new_ids = []

    def new_post(page):
        if page in (3, 50):
            st, doc, _ = b.req("POST", "/api/posts", {"kind": "offer", "category": "pets",
                                                      "title": "Promenade %d" % page})
            new_ids.append(doc["properties"]["id"])
    ids, pages, wrong = follow(b, "/api/posts?mine=1&limit=100", "features", "before", link=True,
                               during=new_post)
    check("/api/posts?mine=1: pages keep their promise (%d pages)" % pages, not wrong, wrong[:2])
    once("/api/posts?mine=1 followed by before=", ids, mine, order=mine)
    check("posts created while paging newest first come in no later page", not set(new_ids) & set(ids),
          new_ids)
    ids, pages, wrong = follow(b, "/api/posts?limit=100", "features", "before", link=True)
    check("/api/posts (the audience's): pages keep their promise", not wrong, wrong[:2])
    once("/api/posts followed by before= (%d pages)" % pages, ids, new_ids[::-1] + seen,
         order=new_ids[::-1] + seen)
    box = (lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02)
    in_box = [int(r[0]) for r in spatial_rows(
        "SELECT id FROM posts WHERE " + now_filter + " AND " + in_list("neighbourhood_id", aud)
        + " AND X(geom) BETWEEN %.6f AND %.6f AND Y(geom) BETWEEN %.6f AND %.6f ORDER BY id DESC"
        % (box[0], box[2], box[1], box[3]))]
    ids, pages, wrong = follow(b, "/api/posts?bbox=%.6f,%.6f,%.6f,%.6f&limit=100" % box, "features",
                               "before", link=True)
    check("/api/posts?bbox=…: pages keep their promise (%d pages)" % pages, not wrong, wrong[:2])
    check("the box holds more than 10,000 posts", len(in_box) > 10000, len(in_box))
    once("/api/posts?bbox=… followed by before=", ids, in_box, order=in_box)
    ids, pages, wrong = follow(b, "/api/posts?q=pain&limit=100", "features", "before", link=True)
    pain = [int(r[0]) for r in spatial_rows(
        "SELECT id FROM posts WHERE " + now_filter + " AND " + in_list("neighbourhood_id", aud)
        + " AND id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'pain') ORDER BY id DESC")]
    check("/api/posts?q=pain: pages keep their promise", not wrong, wrong[:2])
    once("/api/posts?q=pain followed by before= (%d pages)" % pages, ids, pain, order=pain)

    # Nearest first, by after=: 10,251 posts at one point (a tie broken by id).
    late = []

    def near_post(page):
        if page in (2, 60):
            st, doc, _ = b.req("POST", "/api/posts", {"kind": "offer", "category": "pets",
                                                      "title": "Tardive %d" % page})
            late.append(doc["properties"]["id"])
    near = "/api/posts?near=%.6f,%.6f&radius=20000&limit=100" % (lon, lat)
    ids, pages, wrong = follow(b, near, "features", "after", link=True, during=near_post)
    check("%s: pages keep their promise (%d pages)" % (near, pages), not wrong, wrong[:2])
    once("near, followed by after=", ids, seen + new_ids)
    check("near: the posts added meanwhile at the same point, with larger ids, come after the others there",
          all(ids.count(i) == 1 and ids.index(i) > ids.index(mine[0]) for i in late), (late, len(ids)))
    doc = b.get(near + "&offset=10000")
    off = [x["id"] for x in doc["features"]]
    check("near: offset=10000 still answers, as the cursor's pages do", off and off == ids[10000:10000 + len(off)]
          or (not off and len(ids) <= 10000), (off[:3], ids[10000:10003]))
    doc = b.get(near + "&offset=9950")
    check("near: the page at offset 9,950 says more and where to go on, but no next_offset past 10,000",
          "next_offset" not in doc and doc["more"] is True and doc["next_after"] == doc["features"][-1]["id"],
          {k: v for k, v in doc.items() if k != "features"})
    # The same pages through SQL, byte for byte.
    diffs = []
    pages_to_compare = [near, near + "&after=%d" % ids[99], near + "&after=%d" % ids[10049],
                        near.replace("limit=100", "limit=3") + "&after=%d" % ids[5000],
                        "/api/posts?mine=1&limit=100&before=%d" % mine[10010],
                        "/api/posts?bbox=%.6f,%.6f,%.6f,%.6f&limit=50&before=%d" % (box + (mine[200],)),
                        "/api/posts?limit=2&before=%d" % mine[-1]]
    for q in pages_to_compare:
        a = b.raw("GET", q)
        c = b_sql.raw("GET", q)
        if (a[0], a[1]) != (c[0], c[1]):
            diffs.append((q, a[0], c[0], a[1][-300:], c[1][-300:]))
    check("cursor pages: the read model and SQL give the same bytes (%d pages)" % len(pages_to_compare),
          not diffs, diffs[:2])

    # Bad cursors and offsets.
    bad_cursors(b, "/api/posts", "before")
    bad_cursors(b, near, "after")
    for path, words in (("/api/posts?offset=10001", ("10000", "before=ID")),
                        (near + "&offset=10001", ("10000", "after=ID")),
                        ("/api/posts?offset=99999999999999999999999", ("before=ID",)),
                        ("/api/posts?offset=100&before=%d" % mine[0], ("offset", "before")),
                        (near + "&offset=100&after=%d" % mine[0], ("offset", "after")),
                        ("/api/posts?after=%d" % mine[0], ("before=ID",)),
                        (near + "&before=%d" % mine[0], ("after=ID",)),
                        (near + "&after=987654321", ("after",))):
        st, doc, r = b.req("GET", path)
        check("%s: a 400 problem naming %s" % (path, ", ".join(words)), problem(r, doc, 400, *words), (st, doc))
    unseen = sql("SELECT id FROM posts WHERE NOT " + in_list("neighbourhood_id", aud) + " ORDER BY id LIMIT 1")
    check("a post outside the member's neighbourhoods exists", len(unseen) == 1)
    st, doc, r = b.req("GET", near + "&after=%d" % unseen[0][0])
    check("near: after= naming a post the viewer cannot see is a 400 (it would tell how far it lies)",
          problem(r, doc, 400, "after"), (st, doc))
    st, doc, r = staff.req("GET", near + "&after=%d" % unseen[0][0])
    check("… which staff, who see it, may use", st == 200, st)
    return mine


def others(f, b, staff, shop, anon):
    # ---- shops: by after=, numberMatched unchanged ----
    total = sql("SELECT count(*) FROM shops")[0][0]
    first = anon.get("/api/shops?limit=1000")
    check("/api/shops?limit=1000: %d shops; the first page says numberMatched, more and next_after" % total,
          first["numberMatched"] == total and first["numberReturned"] == 1000 and first["more"] is True
          and first["next_after"] == first["features"][-1]["id"], {k: v for k, v in first.items() if k != "features"})
    ids, pages, wrong = follow(anon, "/api/shops?limit=1000", "features", "after", link=True)
    check("/api/shops: pages keep their promise", not wrong, wrong[:2])
    once("/api/shops followed by after= (%d pages)" % pages, ids,
         [r[0] for r in sql("SELECT id FROM shops ORDER BY id")],
         order=[r[0] for r in sql("SELECT id FROM shops ORDER BY id")])
    doc = anon.get("/api/shops?limit=1000&offset=%d" % (total - 5))
    check("/api/shops by offset: the last page says no more", doc["numberReturned"] == 5 and doc["more"] is False,
          {k: v for k, v in doc.items() if k != "features"})
    ids, pages, wrong = follow(anon, "/api/shops?bbox=2.2995,48.7995,2.3405,48.8305&status=open&limit=250",
                               "features", "after", link=True)
    expected = [int(r[0]) for r in spatial_rows(
        "SELECT s.id FROM shops s JOIN idx_shops_geom i ON i.pkid = s.id WHERE i.xmin <= 2.3405 "
        "AND i.xmax >= 2.2995 AND i.ymin <= 48.8305 AND i.ymax >= 48.7995 AND s.status = 'open' ORDER BY 1")]
    check("/api/shops?bbox=…&status=open: pages keep their promise", not wrong, wrong[:2])
    once("/api/shops?bbox=…&status=open (%d pages)" % pages, ids, expected, order=expected)
    bad_cursors(anon, "/api/shops", "after")
    for path, words in (("/api/shops?offset=100001", ("100000", "after=ID")),
                        ("/api/shops?offset=5&after=7", ("offset", "after"))):
        st, doc, r = anon.req("GET", path)
        check("%s: a 400 problem naming %s" % (path, ", ".join(words)), problem(r, doc, 400, *words), (st, doc))

    # ---- groups: after= (by id) past offset 10,000 ----
    aud = audience(f["nb"])
    expected = [r[0] for r in sql("SELECT id FROM groups WHERE " + in_list("neighbourhood_id", aud)
                                  + " ORDER BY id")]
    check("more than 10,000 groups are seen by one member", len(expected) > 10000, len(expected))
    ids, pages, wrong = follow(b, "/api/groups?after=0&limit=100", "groups", "after")
    check("/api/groups?after=: pages keep their promise (%d pages)" % pages, not wrong, wrong[:2])
    once("/api/groups followed by after=", ids, expected, order=expected)
    doc = b.get("/api/groups?limit=100&offset=9800")
    check("/api/groups by size: next_offset while within 10,000", doc["more"] and doc["next_offset"] == 9900, doc.get("next_offset"))
    doc = b.get("/api/groups?limit=100&offset=9950")
    check("… and past it, more without a next_offset", doc["more"] and "next_offset" not in doc,
          {k: v for k, v in doc.items() if k != "groups"})
    for path, words in (("/api/groups?offset=10001", ("10000", "after=ID")),
                        ("/api/groups?offset=1&after=0", ("offset", "after"))):
        st, doc, r = b.req("GET", path)
        check("%s: a 400 problem naming %s" % (path, ", ".join(words)), problem(r, doc, 400, *words), (st, doc))
    bad_cursors(b, "/api/groups", "after")

    # ---- staff lists: claims, reset links, a post's reports ----
    for path, key, cursor, expected in (
            ("/api/shop-claims", "claims", "before",
             [r[0] for r in sql("SELECT id FROM shop_claims WHERE status = 'pending' ORDER BY id DESC")]),
            ("/api/password-resets", "resets", "before",
             [r[0] for r in sql("SELECT r.id FROM password_resets r JOIN members m ON m.id = r.member_id "
                                "WHERE r.token IS NOT NULL AND r.expires_at > unixepoch() "
                                "AND m.role IN ('member', 'shop') ORDER BY r.id DESC")]),
            ("/api/posts/%d/reports" % f["p0"], "reports", "after",
             [r[0] for r in sql("SELECT id FROM post_reports WHERE post_id = ? ORDER BY id", f["p0"])])):
        first = staff.get(path)
        check("%s: %d items; the first page holds 200 and says more" % (path, len(expected)),
              len(expected) > 200 and len(first[key]) == 200 and first["more"] is True, len(first[key]))
        ids, pages, wrong = follow(staff, path, key, cursor)
        check("%s: pages keep their promise" % path, not wrong, wrong[:2])
        once("%s followed by %s=" % (path, cursor), ids, expected, order=expected)
        bad_cursors(staff, path, cursor)
    for path in ("/api/shop-claims?limit=7", "/api/password-resets?limit=7"):
        ids, pages, wrong = follow(staff, path, "claims" if "claims" in path else "resets", "before")
        check("%s: %d pages of 7, each item once" % (path, pages), not wrong and len(ids) == len(set(ids)) > 200,
              (wrong[:1], len(ids)))
    mine_claims = shop.get("/api/shop-claims")
    check("a shop account's own claims: a list that says it holds all", mine_claims["more"] is False, mine_claims)

    # ---- OGC API: an offset past its ceiling is refused, not capped ----
    st, doc, r = anon.req("GET", "/ogc/collections/shops/items?offset=100000001")
    check("OGC items, offset past 100,000,000: a 400 problem", problem(r, doc, 400, "offset"), (st, doc))
    doc = anon.get("/ogc/collections/shops/items?limit=1000&offset=1000")
    check("OGC items: numberMatched, numberReturned and a next link tell what a page leaves out",
          doc["numberMatched"] == total and doc["numberReturned"] == 1000
          and any(l["rel"] == "next" for l in doc["links"]), {k: v for k, v in doc.items() if k != "features"})


def feed(f, b):
    """The Atom feed, followed through its rel="next" links (RFC 5005)."""
    st, doc, _ = b.req("POST", "/api/feeds")
    url = urllib.parse.urlsplit(doc["url"])
    path = url.path + "?" + url.query
    aud = audience(f["nb"])
    expected = [r[0] for r in sql("SELECT id FROM posts WHERE status = 'open' AND expires_at > unixepoch() "
                                  "AND hidden = 0 AND " + in_list("neighbourhood_id", aud) + " ORDER BY id DESC")]
    ns = {"a": "http://www.w3.org/2005/Atom"}
    ids, pages, wrong = [], 0, []
    while path and pages < 1000:
        st, body, r = b.raw("GET", path)
        pages += 1
        root = ET.fromstring(body)
        got = [int(e.find("a:id", ns).text.rsplit("=", 1)[1]) for e in root.findall("a:entry", ns)]
        ids += got
        nxt = [l.get("href") for l in root.findall("a:link", ns) if l.get("rel") == "next"]
        kids = list(root)
        at_next = [i for i, c in enumerate(kids) if c.tag == "{%s}link" % ns["a"] and c.get("rel") == "next"]
        at_entry = [i for i, c in enumerate(kids) if c.tag == "{%s}entry" % ns["a"]]
        if at_next and at_entry and at_next[0] > at_entry[0]:
            wrong.append("a link after an entry")
        if len(got) == 50 and not nxt and len(ids) < len(expected):
            wrong.append("a full page without a next link at %d" % len(ids))
        path = None
        if nxt:
            u = urllib.parse.urlsplit(nxt[0])
            path = u.path + "?" + u.query
    check("the Atom feed: %d pages, each full one with a rel=next link before its entries" % pages, not wrong,
          wrong[:2])
    once("the Atom feed followed by rel=next", ids, expected, order=expected)
    bad_cursors(b, path or (url.path + "?" + url.query), "before")


def main():
    f = build()
    srv = Server(DB, "--auth-per-minute", "1000")
    sql_srv = Server(DB, "--auth-per-minute", "1000", "--posts-model", "off")
    try:
        b = Client(srv, "benevole")
        b.login("benevole@entraide.example", DEMO)
        b_sql = Client(sql_srv, "benevole (SQL)")
        b_sql.cookie, b_sql.csrf = b.cookie, b.csrf
        staff = Client(srv, "staff")
        staff.login("moderation@entraide.example", DEMO)
        shop = Client(srv, "shop")
        shop.login("commerce@entraide.example", DEMO)
        anon = Client(srv, "anonymous")
        other = sql("SELECT id FROM members WHERE email = 'page-1@example.invalid'")[0][0]
        lon, lat = b.get("/api/posts/%d" % f["p0"])["geometry"]["coordinates"]
        for name, run, args in (("makers and orders", makers_and_orders, (f, b, staff, other)),
                                ("posts", posts, (f, b, b_sql, staff, lon, lat)),
                                ("shops, groups, staff lists, OGC", others, (f, b, staff, shop, anon)),
                                ("the Atom feed", feed, (f, b))):
            try:
                run(*args)
            except Exception:   # a broken answer is a failed check, and the other lists still run
                check("%s: the checks ran to their end" % name, False, traceback.format_exc()[-1500:])
    finally:
        rc = srv.stop()
        rc2 = sql_srv.stop()
    check("the servers stop cleanly", rc == 0 and rc2 == 0, (rc, rc2))
    sys.exit(T.finish())


if __name__ == "__main__":
    main()
