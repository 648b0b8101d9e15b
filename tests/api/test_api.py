#!/usr/bin/env python3
"""tests/api/test_api.py MAPD SAMPLE_DIR — the JSON API against a real
`mapd serve` on 127.0.0.1 (ephemeral port), on a database built from the
sample: the authorisation matrix, the privacy sweep, bad input, sessions,
rate limits, metrics, and acknowledged writes surviving a kill.

Actors are chosen from the data, not hard-coded: a member of quartier A, of
a quartier contiguous to A, of a distant quartier, a shop owner, and staff.
Only the standard library is used.
"""
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FEED_FLOOD, Client as BaseClient, Database, Server as BaseServer, Suite, decode_tile  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DATA = Database(MAPD, "entraide-api.")
WORK, DB = DATA.work, DATA.path
BODIES = T.bodies    # (label, text) of every response, for the privacy sweep
check, run, sql = T.check, DATA.run, DATA.sql


def Server(*extra):
    return BaseServer(DATA, *extra)


class Client(BaseClient):
    """An actor of this suite: its responses join the privacy sweep."""

    def __init__(self, server, name):
        super().__init__(server, name, T)

    def register(self, email, address, name):
        return self.req("POST", "/api/members", {"email": email, "password": "correct horse",
                                                 "display_name": name, "address": address})

    def login(self, email, password="correct horse"):
        return super().login(email, password)


def address_in(nb, offset=0):
    """A typed address of the neighbourhood nb, from the data."""
    rows = sql("SELECT number, rep, street, postcode FROM addresses WHERE neighbourhood_id = ? "
               "AND rep = '' ORDER BY id LIMIT 1 OFFSET ?", nb, offset)
    n, rep, street, pc = rows[0]
    return "%d %s %s" % (n, street, pc)


def raw(cl, path):
    """GET path as cl: the status and the body's exact text."""
    st, _, _ = cl.req("GET", path)
    return st, BODIES[-1][1]


def feature_ids(cl, path):
    st, doc, _ = cl.req("GET", path)
    return [f["id"] for f in doc["features"]] if st == 200 else None


def read_model(srv, actors, a_home, c_point):
    """Lists answered from the in-memory read model: the same bytes as the SQL
    path for every viewer, and every committed change reflected at once,
    whichever process made it; expiry without a write."""
    ma, mb, mc, staff = actors["A"], actors["B"], actors["C"], actors["staff"]
    # States worth comparing: open and claimed posts, a hidden one, reports,
    # views, posts of several authors and neighbourhoods.
    st, doc, _ = ma.req("POST", "/api/posts", {"kind": "request", "category": "errands",
                                               "title": "Poster une lettre", "body": "Avant midi"})
    p1 = doc["properties"]["id"]
    st, doc, _ = ma.req("POST", "/api/posts", {"kind": "offer", "category": "pets",
                                               "title": "Promener un chien"})
    p2 = doc["properties"]["id"]
    st, doc, _ = mb.req("POST", "/api/posts", {"kind": "request", "category": "pharmacy",
                                               "title": "Ordonnance à retirer"})
    p3 = doc["properties"]["id"]
    mb.req("POST", "/api/posts/%d/claim" % p1, label="CLAIM")
    mb.req("GET", "/api/posts/%d" % p2)
    mb.req("POST", "/api/posts/%d/report" % p2, {"reason": "doublon"})
    staff.req("POST", "/api/posts/%d/hide" % p3)

    sql_srv = Server("--auth-per-minute", "1000", "--posts-model", "off")
    twins = {}
    for name, cl in actors.items():
        twin = Client(sql_srv, name + " (SQL)")
        twin.cookie, twin.csrf = cl.cookie, cl.csrf  # sessions live in the database
        twins[name] = twin
    queries = []
    for plon, plat in (a_home, c_point, (a_home[0] + 0.004, a_home[1] - 0.003)):
        for extra in ("", "&limit=1", "&limit=2&offset=1", "&radius=20000&limit=100",
                      "&radius=300", "&category=errands", "&kind=offer", "&status=claimed",
                      "&mine=1", "&hidden=1", "&radius=5000&limit=3&offset=2&kind=request",
                      "&limit=100&offset=10000"):
            queries.append("/api/posts?near=%.6f,%.6f%s" % (plon, plat, extra))
        queries.append("/api/posts?bbox=%.6f,%.6f,%.6f,%.6f" % (plon - 0.2, plat - 0.1, plon + 0.2, plat + 0.1))
        queries.append("/api/posts?bbox=%.6f,%.6f,%.6f,%.6f&limit=1&offset=1&hidden=1"
                       % (plon - 0.3, plat - 0.2, plon + 0.3, plat + 0.2))
    queries += ["/api/posts", "/api/posts?limit=2", "/api/posts?limit=1&offset=2", "/api/posts?mine=1",
                "/api/posts?status=claimed", "/api/posts?hidden=1", "/api/posts?category=pets&kind=offer",
                "/api/posts?mine=1&hidden=1&limit=100", "/api/posts?near=179.9,89.9&radius=20000"]

    def compare(label):
        diffs, n = [], 0
        for name, cl in actors.items():
            for q in queries:
                a, b = raw(cl, q), raw(twins[name], q)
                n += 1
                if a != b:
                    diffs.append((name, q, a[0], b[0], a[1][:200], b[1][:200]))
        check("read model and SQL give the same bytes (%s): %d lists" % (label, n), not diffs, diffs[:3])

    compare("after claims, views, reports, hiding")

    # A change by this server shows at once in its lists.
    near_a = "/api/posts?near=%.6f,%.6f&radius=5000&limit=100" % a_home
    ma.req("PATCH", "/api/posts/%d" % p2, {"title": "Promener deux chiens"})
    st, doc, _ = mb.req("GET", near_a)
    titles = {f["id"]: f["properties"]["title"] for f in doc["features"]}
    check("an edit shows in the next list", titles.get(p2) == "Promener deux chiens", titles.get(p2))
    check("a claimed post leaves the open list", p1 not in titles)
    st, doc, _ = mb.req("GET", near_a + "&status=claimed")
    mine = [f["properties"]["claimed_by_me"] for f in doc["features"] if f["id"] == p1]
    check("and is among the claimed, claimed by its claimer", mine == [True], mine)
    check("a hidden post is listed for nobody but staff asking for it",
          p3 not in feature_ids(mb, near_a) and p3 not in feature_ids(staff, near_a)
          and p3 in feature_ids(staff, near_a + "&hidden=1"))
    staff.req("POST", "/api/posts/%d/restore" % p3)
    check("restored, it is listed again", p3 in feature_ids(ma, near_a))
    ma.req("POST", "/api/posts/%d/cancel" % p2)
    check("a cancelled post leaves the list", p2 not in feature_ids(mb, near_a))

    # Changes made by other processes: a second server, a direct SQL write
    # (as a staff tool would), `mapd seed`.
    st, doc, _ = twins["A"].req("POST", "/api/posts", {"kind": "offer", "category": "company",
                                                       "title": "Posté ailleurs"})
    p4 = doc["properties"]["id"] if st == 201 else None
    check("a post created through another server shows in this one's list",
          p4 is not None and p4 in feature_ids(mb, near_a))
    twins["A"].req("PATCH", "/api/posts/%d" % p4, {"body": "modifié ailleurs"})
    st, doc, _ = mb.req("GET", near_a)
    bodies = [f["properties"]["body"] for f in doc["features"] if f["id"] == p4]
    check("an edit through another server shows at once", bodies == ["modifié ailleurs"], bodies)
    DATA.write("UPDATE posts SET title = 'Renommé en SQL' WHERE id = ?", p4)
    st, doc, _ = mb.req("GET", near_a)
    titles = [f["properties"]["title"] for f in doc["features"] if f["id"] == p4]
    check("a direct SQL update by another process shows at once", titles == ["Renommé en SQL"], titles)
    compare("after changes by other processes")

    # Expiry needs no write: the list compares expires_at with the time of
    # the request.
    DATA.write("UPDATE posts SET expires_at = ? WHERE id = ?", int(time.time()) + 2, p4)
    check("a post about to expire is still listed", p4 in feature_ids(mb, near_a))
    time.sleep(3)
    check("once expired it is not, without any write", p4 not in feature_ids(mb, near_a))
    check("it is among the expired ones", p4 in feature_ids(mb, near_a + "&status=expired"))
    compare("after an expiry")

    # A feed pruned past the model's position: the model reloads.
    DATA.write("UPDATE posts SET title = 'Après la purge' WHERE id = ?", p3)
    DATA.write(FEED_FLOOD % "shops")
    st, doc, _ = mb.req("GET", near_a)
    titles = [f["properties"]["title"] for f in doc["features"] if f["id"] == p3]
    check("after the change feed was pruned past it, the model reloads", titles == ["Après la purge"], titles)
    compare("after a reload")

    def after_sweep():
        """Seeding from the command line while the servers run: after the
        privacy sweep, whose needles would then include the seeded members'
        random homes, which may match other coordinates by chance."""
        before = sql("SELECT max(id) FROM posts")[0][0]
        run("seed", "--db", DB, "--posts", "300", "--seed", "5")
        newest = sql("SELECT max(id) FROM posts")[0][0]
        st, doc, _ = staff.req("GET", "/api/posts?limit=1")
        check("posts seeded by another process are listed",
              newest > before and doc["features"][0]["id"] == newest, (before, newest, doc["features"][:1]))
        compare("after seeding")
        check("the second server stops cleanly", sql_srv.stop() == 0)
    return after_sweep


def maker_moves(srv, staff, a, b):
    """A maker who moves home is published at the new home's cell, not the
    old one: /api/makers, the makers layer of the tiles and /ogc (the tile
    and the OGC page are read before the move too, so kept copies must
    follow)."""
    def cell(email):
        # The centre of the home's ~200 m cell, as geodata_public_point does.
        lon, lat = sql("SELECT home_lon, home_lat FROM members WHERE email = ?", email)[0]
        dlat = 200.0 / 110574.0
        clat = (math.floor(lat / dlat) + 0.5) * dlat
        dlon = 200.0 / (111320.0 * max(math.cos(math.radians(clat)), 0.01))
        return ((math.floor(lon / dlon) + 0.5) * dlon, clat)

    def at_z16(lon, lat):
        # The z16 tile holding the point, and the point in it (extent 4096).
        s = 4096 * 2 ** 16
        px = (lon + 180) / 360 * s
        py = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * s
        return int(px // 4096), int(py // 4096), px % 4096, py % 4096

    def in_tile(pt):
        # Where the maker "Gael" is drawn in the tile of pt: [(x, y)].
        x, y, _, _ = at_z16(*pt)
        st, body, _ = staff.raw("GET", "/tiles/16/%d/%d.mvt" % (x, y))
        return [(f["_x"], f["_y"]) for f in decode_tile(body, WORK).get("makers", [])
                if f.get("display_name") == "Gael"] if st == 200 else None

    def near(points, pt):
        _, _, px, py = at_z16(*pt)   # GDAL's y goes up the tile
        return any(abs(x - px) <= 1.5 and abs(y - (4096 - py)) <= 1.5 for x, y in points)

    def api_point():
        st, doc, _ = staff.req("GET", "/api/makers")
        return [tuple(f["geometry"]["coordinates"]) for f in doc.get("features", [])
                if f["properties"].get("display_name") == "Gael"]

    def ogc_point(fid):
        st, doc, _ = staff.req("GET", "/ogc/collections/makers/items/%d" % fid)
        return tuple(doc["geometry"]["coordinates"]) if st == 200 else None

    def ogc_page():
        st, doc, _ = staff.req("GET", "/ogc/collections/makers/items?limit=1000")
        return [tuple(f["geometry"]["coordinates"]) for f in doc.get("features", [])
                if f["properties"].get("display_name") == "Gael"]

    def same(p, q):
        return p is not None and q is not None and abs(p[0] - q[0]) < 1e-5 and abs(p[1] - q[1]) < 1e-5

    mf = Client(srv, "G")
    st, doc, _ = mf.register("gael.maker@example.org", address_in(a, 7), "Gael")
    fid = doc.get("id", 0)
    mf.login("gael.maker@example.org")
    st, doc, _ = mf.req("PUT", "/api/makers/me", {"capacity_per_day": 5, "stock": 3, "materials": []})
    check("G, in A, becomes a maker", st == 200, doc)
    old = cell("gael.maker@example.org")
    tile_before, page_before = in_tile(old), ogc_page()
    check("the maker is published at the cell of their home (API, tile, OGC)",
          [same(p, old) for p in api_point()] == [True] and near(tile_before or [], old)
          and same(ogc_point(fid), old) and [same(p, old) for p in page_before] == [True],
          (api_point(), tile_before, ogc_point(fid), old))
    # A home in B whose cell is not the old one.
    for k in range(10, 40):
        st, doc, _ = mf.req("PATCH", "/api/me", {"address": address_in(b, k), "password": "correct horse"})
        if st != 200 or cell("gael.maker@example.org") != old:
            break
    new = cell("gael.maker@example.org")
    check("G moves to B, another cell", st == 200 and doc["neighbourhood"]["id"] == b and new != old, doc)
    check("/api/makers: the new cell, not the old one",
          [same(p, new) for p in api_point()] == [True], (api_point(), new, old))
    tile_new, tile_old = in_tile(new), in_tile(old)
    check("the makers tile: the new cell, and nothing left at the old one",
          near(tile_new or [], new) and tile_old is not None and not near(tile_old, old),
          (tile_new, tile_old, new, old))
    page = ogc_page()
    check("/ogc makers: the new cell, in the feature and in the page (kept copies follow)",
          same(ogc_point(fid), new) and [same(p, new) for p in page] == [True], (ogc_point(fid), page, new))


def main():
    run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB)
    run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB)
    run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", DB)

    # Quartier A has most contiguous neighbours; B is contiguous to A; C is
    # neither A nor contiguous to A nor to any of A's neighbours.
    a = sql("SELECT a FROM neighbourhood_contiguity GROUP BY a ORDER BY count(*) DESC, a LIMIT 1")[0][0]
    b = sql("SELECT b FROM neighbourhood_contiguity WHERE a = ? ORDER BY b LIMIT 1", a)[0][0]
    near = {a} | {r[0] for r in sql("SELECT b FROM neighbourhood_contiguity WHERE a = ?", a)}
    near2 = near | {r[0] for r in sql("SELECT b FROM neighbourhood_contiguity WHERE a IN (%s)"
                                      % ",".join("?" * len(near)), *near)}
    c = sql("SELECT id FROM neighbourhoods WHERE id NOT IN (%s) ORDER BY id LIMIT 1"
            % ",".join("?" * len(near2)), *near2)[0][0]
    run("user", "add", "--db", DB, "--email", "staff@example.org", "--role", "staff",
        "--password-stdin", stdin="correct horse\n")
    run("user", "add", "--db", DB, "--email", "shop@example.org", "--role", "shop",
        "--address", address_in(c, 3), "--password-stdin", stdin="correct horse\n")

    srv = Server("--auth-per-minute", "1000")
    anon = Client(srv, "anonymous")
    ma, mb, mc = Client(srv, "A"), Client(srv, "B"), Client(srv, "C")
    md = Client(srv, "D")
    shop, staff = Client(srv, "shop"), Client(srv, "staff")

    # ---- registration ----
    st, doc, _ = ma.register("alice@example.org", address_in(a), "Alice")
    check("register in A: 201 with the neighbourhood", st == 201 and doc["neighbourhood"]["id"] == a, doc)
    st, doc, _ = mb.register("bob@example.org", address_in(b), "Bob")
    check("register in B (contiguous to A)", st == 201 and doc["neighbourhood"]["id"] == b, doc)
    st, doc, _ = mc.register("carol@example.org", address_in(c), "Carol")
    check("register in C (distant)", st == 201 and doc["neighbourhood"]["id"] == c, doc)
    st, doc, _ = md.register("dan@example.org", address_in(a, 2), "Dan")
    check("register a second member in A", st == 201 and doc["neighbourhood"]["id"] == a, doc)
    members_before = sql("SELECT count(*) FROM members")[0][0]
    st, doc, _ = anon.register("dave@example.org", "12 Rue des Licornes Introuvables 75011", "Dave")
    check("unknown address: 422 not_found", st == 422 and doc.get("reason") == "not_found", doc)
    outside = sql("SELECT number, street, postcode FROM addresses WHERE neighbourhood_id IS NULL "
                  "AND rep = '' LIMIT 1")
    if outside:
        st, doc, _ = anon.register("erin@example.org", "%d %s %s" % outside[0], "Erin")
        check("address outside every neighbourhood: 422 outside",
              st == 422 and doc.get("reason") == "outside", doc)
    st, doc, _ = anon.register("alice@example.org", address_in(a, 1), "Alice again")
    check("taken email: 409", st == 409, doc)
    check("nothing stored for refused registrations", sql("SELECT count(*) FROM members")[0][0] == members_before)
    # An address in a town the base does not hold must never verify here, even
    # when one of its streets is named after that town; and the form must not
    # be offered such a street instead.
    for i, addr in enumerate(("12 rue de Paris 93100 Montreuil", "3 rue de la Paix 94300 Vincennes",
                              "10 rue de la paix boulogne")):
        st, doc, _ = anon.register("elsewhere%d@example.org" % i, addr, "Elsewhere")
        check("another town (%s): 422 not_covered, no candidates" % addr,
              st == 422 and doc.get("reason") == "not_covered" and not doc.get("candidates")
              and doc.get("detail"), doc)
    check("nothing stored for another town", sql("SELECT count(*) FROM members")[0][0] == members_before)
    st, doc, _ = anon.register("blank@example.org", "   ", "Blank")
    check("a blank address: 422 naming the field, in the geocoder's words",
          st == 422 and doc.get("detail") == "'address': the query is empty" and "reason" not in doc, doc)

    # ---- sessions ----
    for cl, email in ((ma, "alice@example.org"), (mb, "bob@example.org"), (mc, "carol@example.org"),
                      (md, "dan@example.org"), (shop, "shop@example.org"), (staff, "staff@example.org")):
        st, doc = cl.login(email)
        check("login %s" % cl.name, st == 200 and doc["csrf"], doc)
    check("session cookie is HttpOnly and SameSite=Lax",
          "HttpOnly" in ma.req("POST", "/api/session", {"email": "alice@example.org",
                                                        "password": "correct horse"})[2].getheader("Set-Cookie", "")
          and "SameSite=Lax" in ma.req("POST", "/api/session", {"email": "alice@example.org",
                                                                "password": "correct horse"})[2].getheader("Set-Cookie", ""))
    ma.login("alice@example.org")
    st, doc, _ = anon.req("POST", "/api/session", {"email": "alice@example.org", "password": "wrong!!!"})
    check("wrong password: 401", st == 401)
    st, doc, _ = anon.req("POST", "/api/session", {"email": "nobody@example.org", "password": "whatever1"})
    check("unknown email: 401, the same answer", st == 401 and doc["detail"] == "wrong email or password")
    check("session tokens are stored hashed", all(len(r[0]) == 32 for r in sql("SELECT token_hash FROM sessions")))
    cookie = ma.cookie.split("=", 1)[1]
    check("the cookie token is not in the database",
          not any(cookie.encode() in (r[0] or b"") for r in sql("SELECT token_hash FROM sessions")))
    st, doc, _ = ma.req("GET", "/api/me")
    check("me: visible neighbourhoods are A and its contiguous ones",
          st == 200 and set(doc["visible_neighbourhoods"]) == near, doc)
    # The home area: the centre of the ~200 m cell holding the home, as
    # geodata_public_point computes it (the point A's posts are published at).
    hlon, hlat = sql("SELECT home_lon, home_lat FROM members WHERE email = 'alice@example.org'")[0]
    dlat = 200.0 / 110574.0
    clat = (math.floor(hlat / dlat) + 0.5) * dlat
    dlon = 200.0 / (111320.0 * max(math.cos(math.radians(clat)), 0.01))
    cell = [(math.floor(hlon / dlon) + 0.5) * dlon, clat]
    area = doc.get("home_area")
    check("me: home_area is the centre of the home's ~200 m cell, not the home",
          isinstance(area, list) and len(area) == 2 and all(abs(a - b) < 1e-8 for a, b in zip(area, cell))
          and (abs(area[0] - hlon) > 1e-7 or abs(area[1] - hlat) > 1e-7), (area, cell, (hlon, hlat)))
    st, doc, _ = staff.req("GET", "/api/me")
    check("me: no home_area for an account without a home", st == 200 and "home_area" not in doc
          and doc["neighbourhood"] is None, doc)

    # ---- posts ----
    st, doc, _ = ma.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                               "title": "Courses de solidarité", "body": "Pain, lait"})
    check("A posts a request: 201 GeoJSON", st == 201 and doc["type"] == "Feature", doc)
    check("A's post is published at A's home_area", st == 201 and all(
        abs(x - y) < 1e-6 for x, y in zip(doc["geometry"]["coordinates"], area)), (doc.get("geometry"), area))
    pa = doc["properties"]["id"]
    st, doc, _ = ma.req("POST", "/api/posts", {"kind": "offer", "category": "company",
                                               "title": "Un coup de fil ?", "expires_in_days": 3})
    pa2 = doc["properties"]["id"]
    st, doc, _ = mc.req("POST", "/api/posts", {"kind": "request", "category": "pharmacy",
                                               "title": "Médicaments"})
    pc = doc["properties"]["id"]
    lon, lat = doc["geometry"]["coordinates"]
    st, doc, _ = ma.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                               "title": "x"}, csrf=False)
    check("a state change without X-CSRF-Token: 403", st == 403)

    def visible(cl, pid):
        st, doc, _ = cl.req("GET", "/api/posts/%d" % pid)
        return st

    matrix = [  # (actor, post, expected status of GET /api/posts/{id})
        (anon, pa, 401), (ma, pa, 200), (mb, pa, 200), (mc, pa, 404), (shop, pa, 404), (staff, pa, 200),
        (anon, pc, 401), (ma, pc, 404), (mc, pc, 200), (staff, pc, 200),
    ]
    for cl, pid, want in matrix:
        got = visible(cl, pid)
        check("GET post %d as %s: %d" % (pid, cl.name, want), got == want, got)
    st, doc, _ = anon.req("GET", "/api/posts?near=%f,%f&radius=2000" % (lon, lat))
    check("anonymous list: 401", st == 401)
    pt = sql("SELECT X(geom), Y(geom) FROM posts WHERE id = ?", pa) if False else None
    st, doc, _ = mb.req("GET", "/api/posts?bbox=%f,%f,%f,%f" % (lon - 0.4, lat - 0.2, lon + 0.4, lat + 0.2))
    ids = {f["properties"]["id"] for f in doc["features"]}
    check("B lists A's posts, not C's", st == 200 and pa in ids and pc not in ids, ids)
    st, doc, _ = mc.req("GET", "/api/posts?bbox=%f,%f,%f,%f" % (lon - 0.4, lat - 0.2, lon + 0.4, lat + 0.2))
    ids = {f["properties"]["id"] for f in doc["features"]}
    check("C lists C's posts, not A's", st == 200 and pc in ids and pa not in ids, ids)
    st, doc, _ = staff.req("GET", "/api/posts?bbox=%f,%f,%f,%f" % (lon - 0.4, lat - 0.2, lon + 0.4, lat + 0.2))
    ids = {f["properties"]["id"] for f in doc["features"]}
    check("staff list everything", pa in ids and pc in ids, ids)
    st, doc, _ = mb.req("GET", "/api/posts?q=solidarite")
    check("keyword search ignores accents", st == 200 and [f["id"] for f in doc["features"]] == [pa], doc)
    st, doc, _ = mb.req("GET", "/api/posts?q=SOLIDARIT%C3%89&category=groceries&kind=request")
    check("keyword search ignores case, with filters", st == 200 and doc["numberReturned"] == 1)
    st, doc, _ = mb.req("GET", "/api/posts?category=pets")
    check("a category filter", st == 200 and doc["numberReturned"] == 0)
    a_home = sql("SELECT home_lon, home_lat FROM members WHERE email = 'alice@example.org'")[0]
    st, doc, _ = mb.req("GET", "/api/posts?near=%f,%f&radius=1000&limit=1" % a_home)
    check("near: paged, with distance_m and a next page",
          st == 200 and doc["numberReturned"] == 1 and doc["more"] is True and doc["next_offset"] == 1
          and "distance_m" in doc["features"][0]["properties"], doc)
    st, doc2, _ = mb.req("GET", "/api/posts?near=%f,%f&radius=1000&limit=1&offset=1" % a_home)
    check("near: the next page is farther or as far",
          st == 200 and doc2["features"][0]["properties"]["distance_m"] >= doc["features"][0]["properties"]["distance_m"])

    # views: once per member, shown to the author only
    mb.req("GET", "/api/posts/%d" % pa)
    staff.req("GET", "/api/posts/%d" % pa)
    st, doc, _ = ma.req("GET", "/api/posts/%d" % pa)
    check("the author sees the view count (B twice and staff once: 2)", doc["properties"].get("views") == 2, doc)
    st, doc, _ = mb.req("GET", "/api/posts/%d" % pa)
    check("others do not see the view count", "views" not in doc["properties"])

    # edit, claim, done, cancel
    st, doc, _ = mb.req("PATCH", "/api/posts/%d" % pa, {"title": "volé"})
    check("B may not edit A's post: 403", st == 403)
    st, doc, _ = ma.req("PATCH", "/api/posts/%d" % pa, {"body": "Pain, lait, oeufs"})
    check("A edits an open post", st == 200 and doc["properties"]["body"] == "Pain, lait, oeufs")
    st, doc, _ = ma.req("POST", "/api/posts/%d/claim" % pa)
    check("one cannot claim one's own post: 403", st == 403)
    st, doc, _ = mc.req("POST", "/api/posts/%d/claim" % pa)
    check("C cannot claim what C cannot see: 404", st == 404)
    claimed = len(BODIES)
    st, doc, _ = mb.req("POST", "/api/posts/%d/claim" % pa, label="CLAIM")
    a_address = sql("SELECT address_text FROM members WHERE email = 'alice@example.org'")[0][0]
    check("B claims A's request and alone gets the address",
          st == 200 and doc["properties"]["address"] == a_address and doc["properties"]["status"] == "claimed", doc)
    st, doc, _ = md.req("POST", "/api/posts/%d/claim" % pa)
    check("a second claim by someone else: 409", st == 409, doc)
    st, doc, _ = staff.req("POST", "/api/posts/%d/claim" % pa2)
    check("staff see every post but claim none: 403", st == 403, doc)
    st, doc, _ = shop.req("POST", "/api/posts/%d/claim" % pc)
    check("shop accounts do not claim needs: 403", st == 403, doc)
    st, doc, _ = ma.req("GET", "/api/posts/%d" % pa)
    check("the author does not get the address back", "address" not in doc["properties"])
    st, doc, _ = ma.req("PATCH", "/api/posts/%d" % pa, {"title": "trop tard"})
    check("no edit once claimed: 409", st == 409)

    # ---- the help loop: the two reach each other, nobody else reads them ----
    st, doc, _ = ma.req("GET", "/api/posts/%d" % pa)
    check("the author sees who claimed (a display name only)",
          doc["properties"].get("claimed_by") == {"display_name": "Bob"}, doc["properties"])
    st, doc, _ = mb.req("GET", "/api/posts/%d" % pa)
    check("the claimer is not told claimed_by", "claimed_by" not in doc["properties"], doc["properties"])
    secret_b, secret_a = "Liste: pain, lait. SECRET-B-%d" % pa, "Merci, 18 h ? SECRET-A-%d" % pa
    st, doc, _ = mb.req("POST", "/api/posts/%d/messages" % pa, {"body": "  " + secret_b + "\n"})
    check("the claimer writes to the author: 201, trimmed, with the writer's name",
          st == 201 and doc["body"] == secret_b and doc["author"] == {"display_name": "Bob"}
          and doc["mine"] is True and doc["post_id"] == pa, doc)
    first_id = doc["id"] if st == 201 else 0
    st, doc, _ = ma.req("POST", "/api/posts/%d/messages" % pa, {"body": secret_a})
    check("the author answers", st == 201 and doc["author"] == {"display_name": "Alice"}, doc)
    st, doc, _ = ma.req("GET", "/api/posts/%d/messages" % pa)
    check("the author reads the thread, oldest first, with whom",
          st == 200 and [m["body"] for m in doc["messages"]] == [secret_b, secret_a]
          and [m["mine"] for m in doc["messages"]] == [False, True]
          and doc["with"] == {"display_name": "Bob"} and doc["more"] is False, doc)
    st, doc, _ = mb.req("GET", "/api/posts/%d/messages?after=%d" % (pa, first_id))
    check("the claimer reads what came after a message",
          st == 200 and [m["body"] for m in doc["messages"]] == [secret_a]
          and doc["with"] == {"display_name": "Alice"}, doc)
    st, doc, _ = md.req("GET", "/api/posts/%d/messages" % pa)
    check("a neighbour who sees the post does not read its conversation: 403", st == 403, doc)
    st, doc, _ = md.req("POST", "/api/posts/%d/messages" % pa, {"body": "je m'incruste"})
    check("nor writes in it: 403", st == 403, doc)
    st, doc, _ = mc.req("GET", "/api/posts/%d/messages" % pa)
    check("a distant member, who does not see the post: 404", st == 404, doc)
    st, doc, _ = staff.req("GET", "/api/posts/%d/messages" % pa)
    check("staff do not read an unreported post's conversation: 403", st == 403, doc)
    st, doc, _ = anon.req("GET", "/api/posts/%d/messages" % pa)
    check("anonymous: 401", st == 401, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/messages" % pa, {"body": "   "})
    check("an empty message: 422", st == 422, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/messages" % pa, {"body": "x" * 2001})
    check("a message over 2000 bytes: 422", st == 422, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/messages" % pa, {"text": "wrong field"})
    check("no body field: 422", st == 422, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/messages" % pa, raw=b"{not json")
    check("malformed JSON: 400", st == 400, doc)
    st, doc, _ = mb.req("GET", "/api/posts/%d/messages?after=-1" % pa)
    check("a negative after: 400", st == 400, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/messages" % pa, {"body": "sans jeton"}, csrf=False)
    check("a message without the CSRF token: 403", st == 403, doc)
    check("the messages are stored once each",
          sql("SELECT count(*) FROM post_messages WHERE post_id = ?", pa)[0][0] == 2)
    st, doc, _ = ma.req("GET", "/api/posts/%d/messages" % pa2)
    check("no conversation before a claim: 409", st == 409, doc)
    st, doc, _ = staff.req("POST", "/api/posts/%d/done" % pa)
    check("staff cannot mark someone's post done: 403", st == 403)
    st, doc, _ = mb.req("POST", "/api/posts/%d/release" % pa2)
    check("releasing a post one has not claimed: 409 (it is open)", st == 409, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/done" % pa)
    check("the claimer marks it done", st == 200 and doc["properties"]["status"] == "done")
    st, doc, _ = ma.req("GET", "/api/posts/%d/messages" % pa)
    check("the thread stays readable once done", st == 200 and len(doc["messages"]) == 2, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/release" % pa)
    check("a done post cannot be handed back: 409", st == 409, doc)

    # ---- handing a post back ----
    st, doc, _ = ma.req("POST", "/api/posts", {"kind": "request", "category": "errands",
                                              "title": "Poster un colis", "body": ""})
    pr = doc["id"] if st == 201 else 0
    st, doc, _ = mb.req("POST", "/api/posts/%d/claim" % pr, label="CLAIM")
    check("B claims a second request", st == 200 and doc["properties"]["status"] == "claimed", doc)
    mb.req("POST", "/api/posts/%d/messages" % pr, {"body": "SECRET-RELEASE-%d" % pr})
    st, doc, _ = md.req("POST", "/api/posts/%d/release" % pr)
    check("only the claimer hands it back: 403", st == 403, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/release" % pr, csrf=False)
    check("handing back without the CSRF token: 403", st == 403, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/release" % pr)
    check("the claimer hands it back: open again, no address",
          st == 200 and doc["properties"]["status"] == "open" and "address" not in doc["properties"]
          and doc["properties"]["claimed_by_me"] is False, doc)
    check("the hand-back is audited",
          sql("SELECT count(*) FROM audit_log WHERE action = 'release post'")[0][0] == 1)
    st, doc, _ = ma.req("GET", "/api/posts/%d" % pr)
    check("the author sees it open, claimed by nobody",
          doc["properties"]["status"] == "open" and "claimed_by" not in doc["properties"], doc["properties"])
    st, doc, _ = mb.req("GET", "/api/posts/%d/messages" % pr)
    check("the former claimer no longer reads the conversation: 403", st == 403, doc)
    st, doc, _ = md.req("POST", "/api/posts/%d/claim" % pr, label="CLAIM")
    check("someone else can claim it now", st == 200 and doc["properties"]["status"] == "claimed", doc)
    st, doc, _ = md.req("GET", "/api/posts/%d/messages" % pr)
    check("the new claimer starts a new conversation (the old one is not theirs)",
          st == 200 and doc["messages"] == [] and doc["with"] == {"display_name": "Alice"}, doc)
    st, doc, _ = ma.req("POST", "/api/posts/%d/report" % pr, {"reason": "test"})
    st, doc, _ = staff.req("GET", "/api/posts/%d/messages" % pr)
    check("staff read a reported post's conversations, every claim's",
          st == 200 and [m["body"] for m in doc["messages"]] == ["SECRET-RELEASE-%d" % pr], doc)
    st, doc, _ = staff.req("POST", "/api/posts/%d/messages" % pr, {"body": "staff"})
    check("staff never write in it: 403", st == 403, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/cancel" % pa2)
    check("only the author cancels: 403", st == 403)
    st, doc, _ = ma.req("POST", "/api/posts/%d/cancel" % pa2)
    check("the author cancels", st == 200 and doc["properties"]["status"] == "cancelled")
    st, doc, _ = ma.req("POST", "/api/posts/%d/cancel" % pa2)
    check("cancelling twice: 409", st == 409)

    # moderation
    st, doc, _ = ma.req("POST", "/api/posts", {"kind": "offer", "category": "other", "title": "Spam spam"})
    ps = doc["properties"]["id"]
    st, doc, _ = mb.req("POST", "/api/posts/%d/report" % ps, {"reason": "spam"})
    check("a member reports a post", st == 201)
    st, doc, _ = mb.req("POST", "/api/posts/%d/report" % ps, {"reason": "spam, really"})
    check("reporting again counts once", st == 201
          and sql("SELECT count(*) FROM post_reports WHERE post_id = ?", ps)[0][0] == 1)
    st, doc, _ = mb.req("POST", "/api/posts/%d/hide" % ps)
    check("members cannot hide: 403", st == 403)
    st, doc, _ = staff.req("POST", "/api/posts/%d/hide" % ps)
    check("staff hide", st == 200 and doc["properties"]["hidden"] is True and doc["properties"]["reports"] == 1)
    check("B no longer sees it", visible(mb, ps) == 404)
    check("its author still does", visible(ma, ps) == 200)
    st, doc, _ = ma.req("GET", "/api/posts?mine=1&status=any&limit=100")
    check("but no longer lists it among their own (only staff list hidden posts)",
          st == 200 and ps not in [f["id"] for f in doc["features"]])
    check("the audit log has it", sql("SELECT count(*) FROM audit_log WHERE action = 'hide post'")[0][0] == 1)
    st, doc, _ = staff.req("POST", "/api/posts/%d/restore" % ps)
    check("staff restore", st == 200 and visible(mb, ps) == 200)
    st, doc, _ = staff.req("GET", "/api/posts/%d/reports" % ps)
    check("staff read the reporters' reasons, with who reported",
          st == 200 and doc["reports"] and doc["reports"][0]["reason"] == "spam, really"
          and doc["reports"][0]["reporter"] == {"display_name": "Bob"} and "created_at" in doc["reports"][0], doc)
    st, doc, _ = mb.req("GET", "/api/posts/%d/reports" % ps)
    check("members do not read reports: 403", st == 403, doc)
    st, doc, _ = ma.req("DELETE", "/api/posts/%d/reports" % ps)
    check("nor dismiss them, not even the author: 403", st == 403, doc)
    st, doc, _ = staff.req("DELETE", "/api/posts/%d/reports" % ps, csrf=False)
    check("dismissing without the CSRF token: 403", st == 403, doc)
    st, doc, _ = staff.req("DELETE", "/api/posts/%d/reports" % ps)
    check("staff dismiss the reports of a post found fine", st == 200 and doc["dismissed"] == 1, doc)
    st, doc, _ = staff.req("GET", "/api/posts?reported=1&status=any&limit=100")
    check("it leaves the moderation queue", ps not in [f["id"] for f in doc["features"]], doc)
    check("the dismissal is audited",
          sql("SELECT count(*) FROM audit_log WHERE action = 'dismiss reports'")[0][0] == 1)
    st, doc, _ = staff.req("GET", "/api/posts/987654321/reports")
    check("reports of an unknown post: 404", st == 404, doc)
    st, doc, _ = mb.req("POST", "/api/posts/%d/report" % ps, {"reason": "x" * 501})
    check("a reason over 500 bytes: 422", st == 422, doc)

    # anonymous counts
    st, doc, _ = anon.req("GET", "/api/stats")
    check("anonymous get counts per neighbourhood and category only",
          st == 200 and doc["open_posts"].get(c, {}).get("pharmacy") == 1
          and "title" not in json.dumps(doc), doc)

    # ---- shops ----
    st, doc, _ = anon.req("GET", "/api/shops?bbox=%f,%f,%f,%f" % (lon - 0.4, lat - 0.2, lon + 0.4, lat + 0.2))
    check("shops are public", st == 200 and doc["numberMatched"] > 0 and doc["features"], st)
    sid = doc["features"][0]["properties"]["id"]
    check("an imported shop starts unknown and unconfirmed",
          doc["features"][0]["properties"]["status"] == "unknown"
          and doc["features"][0]["properties"]["confirmed"] is False)
    st, _, _ = ma.req("POST", "/api/shops/%d/claim" % sid)
    check("a member without the shop role cannot claim a shop: 403", st == 403)
    st, doc, _ = staff.req("POST", "/api/shops/%d/claim" % sid)
    check("staff never own shops: 403", st == 403)
    st, doc, _ = anon.req("POST", "/api/shops/%d/claim" % sid)
    check("nor does anybody logged out: 401", st == 401)
    # Owning an imported shop waits for staff.
    st, claim, _ = shop.req("POST", "/api/shops/%d/claim" % sid, {"note": "Appelez la boutique, demandez Ana"})
    check("the shop account's claim is filed, pending: 202",
          st == 202 and claim["status"] == "pending" and claim["shop"]["id"] == sid
          and "claimant" not in claim, claim)
    st, again, _ = shop.req("POST", "/api/shops/%d/claim" % sid, {"note": "Ou passez le matin"})
    check("claiming again keeps the one pending claim, with the new note",
          st == 202 and again["id"] == claim["id"] and again["note"] == "Ou passez le matin", again)
    st, doc, _ = anon.req("GET", "/api/shops/%d" % sid)
    check("while pending, the shop has no owner", doc["properties"]["owned"] is False, doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"status": "open"})
    check("nor can the claimant change its status yet: 403", st == 403, doc)
    st, doc, _ = shop.req("GET", "/api/shop-claims")
    check("the shop account sees its own claim, pending",
          st == 200 and [c["id"] for c in doc["claims"]] == [claim["id"]] and doc["claims"][0]["status"] == "pending", doc)
    st, doc, _ = ma.req("GET", "/api/shop-claims")
    check("a member cannot list shop claims: 403", st == 403)
    st, doc, _ = staff.req("GET", "/api/shop-claims")
    mine = [c for c in doc.get("claims", []) if c["id"] == claim["id"]]
    check("staff see the pending claim with who filed it, to check it",
          st == 200 and mine and mine[0]["claimant"]["email"] == "shop@example.org"
          and mine[0]["note"] == "Ou passez le matin" and mine[0]["shop"]["name"] is not None, doc)
    st, doc, _ = shop.req("POST", "/api/shop-claims/%d/approve" % claim["id"])
    check("the claimant cannot approve their own claim: 403", st == 403)
    st, doc, _ = staff.req("POST", "/api/shop-claims/%d/approve" % claim["id"], csrf=False)
    check("approving without the CSRF token: 403", st == 403)
    st, doc, _ = staff.req("POST", "/api/shop-claims/999999/approve")
    check("an unknown claim: 404", st == 404)
    st, doc, _ = staff.req("POST", "/api/shop-claims/%d/approve" % claim["id"])
    check("staff approve it", st == 200 and doc["status"] == "approved" and doc["decided_at"], doc)
    st, doc, _ = shop.req("GET", "/api/shops/%d" % sid)
    check("the shop is now the account's", doc["properties"]["mine"] is True, doc)
    st, doc, _ = staff.req("POST", "/api/shop-claims/%d/reject" % claim["id"])
    check("a decided claim cannot be decided again: 409", st == 409, doc)
    st, doc, _ = shop.req("POST", "/api/shops/%d/claim" % sid)
    check("claiming one's own shop again: 200, nothing filed", st == 200 and doc["mine"] is True, doc)
    sid2 = sql("SELECT id FROM shops WHERE owner_id IS NULL AND id != ? ORDER BY id LIMIT 1", sid)[0][0]
    st, c2, _ = shop.req("POST", "/api/shops/%d/claim" % sid2)
    st, doc, _ = staff.req("POST", "/api/shop-claims/%d/reject" % c2["id"])
    check("staff turn down another claim", st == 200 and doc["status"] == "rejected", doc)
    st, doc, _ = anon.req("GET", "/api/shops/%d" % sid2)
    check("and that shop still has no owner", doc["properties"]["owned"] is False, doc)
    st, doc, _ = shop.req("GET", "/api/shop-claims")
    check("the account sees both decisions",
          {c["id"]: c["status"] for c in doc["claims"]} == {claim["id"]: "approved", c2["id"]: "rejected"}, doc)
    st, doc, _ = shop.req("POST", "/api/shops/%d/claim" % sid2, {"note": "x" * 501})
    check("a note over 500 bytes: 422", st == 422, doc)
    check("filing, approving and turning down are audited",
          sql("SELECT count(*) FROM audit_log WHERE action IN ('claim shop', 'approve shop claim', "
              "'reject shop claim')")[0][0] == 5)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"status": "open", "delivers": True,
                                                           "opening_hours": "Mo-Sa 08:00-20:00; Su off"})
    check("the owner marks it open and delivering, confirmed now",
          st == 200 and doc["properties"]["status"] == "open" and doc["properties"]["delivers"] is True
          and doc["properties"]["confirmed"] is True, doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"opening_hours": "Lu-Sa 8h-20h et puis voilà"})
    check("bad opening_hours: 422 saying where", st == 422 and "opening_hours" in doc["detail"], doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"opening_hours": "du lundi au samedi de 9h à 19h"})
    check("hours written in French are stored as OSM opening_hours",
          st == 200 and doc["properties"]["opening_hours"] == "Mo-Sa 09:00-19:00", doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"opening_hours": "Mon–Sat 9am–7pm, Sun closed"})
    check("and in English", st == 200 and doc["properties"]["opening_hours"] == "Mo-Sa 09:00-19:00; Su off", doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"opening_hours": "Mo-Sa 08:00-20:00; Su off"})
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"status": "sometimes"})
    check("unknown shop status: 422", st == 422)
    st, doc, _ = mb.req("PATCH", "/api/shops/%d" % sid, {"status": "closed"})
    check("a member cannot change a shop: 403", st == 403)
    # A status and its services never contradict each other.
    for body in ({"status": "closed", "takeaway": True}, {"status": "delivery_only", "takeaway": True},
                 {"status": "takeaway_only", "delivers": True}, {"status": "delivery_only", "delivers": False}):
        st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, body)
        check("a contradiction is refused: %s" % body, st == 422 and "a shop that is" in doc["detail"], doc)
    st, doc, _ = anon.req("GET", "/api/shops/%d" % sid)
    check("and nothing changed", doc["properties"]["status"] == "open" and doc["properties"]["delivers"] is True, doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"status": "delivery_only"})
    check("delivery only, services unsaid: delivers, no takeaway",
          st == 200 and doc["properties"]["delivers"] is True and doc["properties"]["takeaway"] is False, doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"status": "closed"})
    check("closed: neither delivery nor takeaway",
          st == 200 and doc["properties"]["delivers"] is False and doc["properties"]["takeaway"] is False, doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"status": "open", "delivers": True})
    check("open again, delivering", st == 200 and doc["properties"]["delivers"] is True, doc)
    st, doc, _ = anon.req("GET", "/api/shops/%d" % sid)
    check("anyone reads the new status", st == 200 and doc["properties"]["status"] == "open"
          and doc["properties"]["opening_hours"] == "Mo-Sa 08:00-20:00; Su off")
    st, doc, _ = shop.req("POST", "/api/shops", {"name": "Épicerie du coin", "shop": "convenience",
                                                 "address": address_in(c, 7)})
    check("a shop owner creates a shop at a real address", st == 201 and doc["properties"]["mine"], doc)
    st, doc, _ = shop.req("POST", "/api/shops", {"name": "Nulle part", "shop": "bakery",
                                                 "address": "1 rue qui n'existe pas du tout 75011"})
    check("a shop at an unknown address: 422 with the reason",
          st == 422 and doc.get("reason") in ("not_found", "uncertain") and doc.get("detail"), doc)
    st, doc, _ = shop.req("POST", "/api/shops", {"name": "Ailleurs", "shop": "bakery",
                                                 "address": "12 rue de Paris 93100 Montreuil"})
    check("a shop in another town: 422 not_covered", st == 422 and doc.get("reason") == "not_covered", doc)
    if outside:
        st, doc, _ = shop.req("POST", "/api/shops", {"name": "Hors quartier", "shop": "bakery",
                                                     "address": "%d %s %s" % outside[0]})
        check("a shop outside every neighbourhood is accepted", st == 201, doc)

    # ---- mask makers ----
    st, doc, _ = mb.req("PUT", "/api/makers/me", {"capacity_per_day": 20, "stock": 35,
                                                  "materials": ["tissu", "élastique"]})
    check("B becomes a mask maker", st == 200 and doc["properties"]["materials"] == ["tissu", "élastique"], doc)
    mpost = doc["properties"]["materials_post"]
    st, doc, _ = ma.req("GET", "/api/posts/%d" % mpost)
    check("the materials show up as a need in B's area",
          st == 200 and doc["properties"]["category"] == "materials" and "élastique" in doc["properties"]["body"], doc)
    st, doc, _ = ma.req("GET", "/api/makers")
    check("A sees the maker B (contiguous)", st == 200 and any(f["id"] == doc["features"][0]["id"] for f in doc["features"])
          and any(f["properties"]["display_name"] == "Bob" for f in doc["features"]), doc)
    st, doc, _ = mc.req("GET", "/api/makers")
    check("C does not see B", st == 200 and not any(f["properties"]["display_name"] == "Bob" for f in doc["features"]))
    bob_id = sql("SELECT id FROM members WHERE email = 'bob@example.org'")[0][0]
    st, doc, _ = mc.req("POST", "/api/makers/%d/orders" % bob_id, {"quantity": 5})
    check("C cannot order from a maker C cannot see: 404", st == 404)
    st, doc, _ = ma.req("POST", "/api/makers/%d/orders" % bob_id, {"quantity": 0})
    check("quantity 0: 422", st == 422)
    st, doc, _ = ma.req("POST", "/api/makers/%d/orders" % bob_id, {"quantity": 10, "note": "pour l'école"})
    check("A orders 10 masks from B", st == 201 and doc["status"] == "pending", doc)
    oid = doc["id"]
    st, doc, _ = mb.req("POST", "/api/makers/%d/orders" % bob_id, {"quantity": 1})
    check("a maker cannot order from themselves: 403", st == 403)
    st, doc, _ = mb.req("GET", "/api/makers/me")
    check("B sees the order in the book", st == 200 and [o["id"] for o in doc["properties"]["orders"]] == [oid])
    st, doc, _ = ma.req("POST", "/api/orders/%d/status" % oid, {"status": "accepted"})
    check("the requester cannot accept: 403", st == 403)
    st, doc, _ = mb.req("POST", "/api/orders/%d/status" % oid, {"status": "delivered"})
    check("pending cannot jump to delivered: 409", st == 409)
    st, doc, _ = mb.req("GET", "/api/makers/me")
    check("a pending order carries no address", "delivery_address" not in doc["properties"]["orders"][0], doc)
    for step in ("accepted", "ready", "delivered"):
        st, doc, _ = mb.req("POST", "/api/orders/%d/status" % oid, {"status": step}, label="DELIVERY")
        check("the maker moves the order to %s, with the address to deliver to" % step,
              st == 200 and doc["status"] == step and doc.get("delivery_address") == a_address, doc)
    st, doc, _ = mb.req("GET", "/api/makers/me", label="DELIVERY")
    check("delivering 10 masks takes them from the stock (35 -> 25)",
          st == 200 and doc["properties"]["stock"] == 25, doc.get("properties"))
    check("the maker's book gives the accepted order's address",
          doc["properties"]["orders"][0].get("delivery_address") == a_address, doc["properties"]["orders"])
    st, doc, _ = ma.req("GET", "/api/orders")
    check("A sees A's own order (without an address: it is A's)",
          st == 200 and [o["id"] for o in doc["orders"]] == [oid] and "delivery_address" not in doc["orders"][0])
    st, doc, _ = mc.req("GET", "/api/orders")
    check("C sees none of it", st == 200 and doc["orders"] == [])
    st, doc, _ = mc.req("POST", "/api/orders/%d/status" % oid, {"status": "declined"})
    check("C cannot touch the order: 404", st == 404)
    st, doc, _ = mb.req("PUT", "/api/makers/me", {"capacity_per_day": 20, "stock": 35, "materials": []})
    st, doc, _ = mb.req("GET", "/api/posts/%d" % mpost)
    check("no materials needed: the materials post is cancelled", doc["properties"]["status"] == "cancelled")

    # ---- bad input: the right 4xx, nothing changed ----
    def counts():
        return sql("SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM posts), "
                   "(SELECT group_concat(status) FROM posts), (SELECT count(*) FROM post_reports)")[0]
    before = counts()
    bad = [
        ("malformed JSON", "POST", "/api/posts", b'{"kind": "request",', "application/json", 400),
        ("not an object", "POST", "/api/posts", b'[1,2]', "application/json", 400),
        ("wrong type", "POST", "/api/posts", json.dumps({"kind": 3, "category": "pets", "title": "t"}).encode(), "application/json", 422),
        ("missing field", "POST", "/api/posts", json.dumps({"kind": "offer", "category": "pets"}).encode(), "application/json", 422),
        ("unknown category", "POST", "/api/posts", json.dumps({"kind": "offer", "category": "weapons", "title": "t"}).encode(), "application/json", 422),
        ("title too long", "POST", "/api/posts", json.dumps({"kind": "offer", "category": "pets", "title": "x" * 201}).encode(), "application/json", 422),
        ("bad expiry", "POST", "/api/posts", json.dumps({"kind": "offer", "category": "pets", "title": "t", "expires_in_days": 365}).encode(), "application/json", 422),
        ("invalid UTF-8", "POST", "/api/posts", b'{"kind":"offer","category":"pets","title":"\xff\xfe"}', "application/json", 400),
        ("control characters", "POST", "/api/posts", json.dumps({"kind": "offer", "category": "pets", "title": "a\u0007b"}).encode(), "application/json", 422),
        ("a NUL in a string", "POST", "/api/posts", json.dumps({"kind": "offer", "category": "pets", "title": "a\u0000b"}).encode(), "application/json", 400),
        ("wrong content type", "POST", "/api/posts", b'kind=offer', "application/x-www-form-urlencoded", 415),
        ("10 MB body", "POST", "/api/posts", b"x" * (10 * 1024 * 1024), "application/json", 413),
        ("unknown post", "GET", "/api/posts/987654321", None, None, 404),
        ("unknown post claim", "POST", "/api/posts/987654321/claim", None, None, 404),
        ("non-numeric id", "GET", "/api/posts/abc", None, None, 404),
        ("huge id", "GET", "/api/posts/99999999999999999999999", None, None, 404),
        ("bad near", "GET", "/api/posts?near=abc", None, None, 400),
        ("radius too large", "GET", "/api/posts?near=2.35,48.85&radius=1e9", None, None, 400),
        ("radius without near", "GET", "/api/posts?radius=10", None, None, 400),
        ("bbox too large", "GET", "/api/posts?bbox=-10,40,10,50", None, None, 400),
        ("bbox inverted", "GET", "/api/posts?bbox=3,49,2,48", None, None, 400),
        ("limit too large", "GET", "/api/posts?limit=100000", None, None, 400),
        ("unknown status", "GET", "/api/posts?status=deleted", None, None, 400),
        ("keywords of punctuation only", "GET", "/api/posts?q=%22%27%29%28*", None, None, 400),
        ("unknown route", "GET", "/api/nothing", None, None, 404),
        ("unknown route, POST", "POST", "/api/nothing", b"{}", "application/json", 404),
        ("post id 0", "POST", "/api/posts/0/claim", None, None, 404),
        ("wrong method", "PUT", "/api/posts", b"{}", "application/json", 405),
    ]
    for name, method, path, raw, ctype, want in bad:
        st, doc, r = mb.req(method, path, raw=raw, ctype=ctype or "application/json")
        ok = st == want and (r.getheader("Content-Type") or "").startswith("application/problem+json")
        check("bad input, %s: %d problem+json" % (name, want), ok, (st, doc))
    sneaky = "'; DROP TABLE posts; -- \" OR 1=1"
    st, doc, _ = mb.req("POST", "/api/posts", {"kind": "offer", "category": "other", "title": sneaky})
    check("SQL-looking text is stored as text", st == 201 and doc["properties"]["title"] == sneaky)
    st, doc, _ = mb.req("GET", "/api/posts?q=" + "DROP%20TABLE%27%22%20OR")
    check("SQL-looking keywords are only words", st == 200)
    after = counts()
    check("bad input changed nothing (one post more: the SQL-looking one)",
          after[0] == before[0] and after[1] == before[1] + 1 and after[3] == before[3], (before, after))

    # ---- metrics, OpenAPI ----
    st, _, r = anon.metrics()
    text = BODIES[-1][1]
    check("metrics by method, route and status, with histograms",
          st == 200 and 'mapd_http_requests_total{method="POST",route="/api/posts/{id}/claim",status="409"}' in text
          and "mapd_http_request_duration_seconds_bucket" in text)
    series = [l.rsplit(" ", 1)[0] for l in text.splitlines() if l and not l.startswith("#")]
    check("no metric series twice", len(series) == len(set(series)))
    st, doc, _ = anon.req("GET", "/api/geocode?q=%s" % "zorglubs%20imaginaires%20xq")
    check("geocode with no match: one none object, as the command line",
          st == 200 and len(doc) == 1 and doc[0]["type"] == "none")
    check("the none object: not verified, not_found",
          doc[0].get("verified") is False and doc[0].get("reason") == "not_found", doc)
    st, doc, _ = anon.req("GET", "/api/geocode?q=" + quote("12 rue de Paris 93100 Montreuil"))
    check("another town: the first object does not verify and says not_covered",
          st == 200 and doc[0]["verified"] is False and doc[0]["reason"] == "not_covered"
          and (doc[0]["type"] != "none" or doc[0]["label"] is None), doc[:1])
    st, doc, _ = anon.req("GET", "/api/geocode?q=%s&limit=3" % "12%20rue%20de%20la%20Roquette%2075011%20Paris")
    fields = {"query", "label", "lon", "lat", "score", "type", "address_id", "neighbourhood",
              "housenumber", "street", "postcode", "city", "approximate", "verified", "reason"}
    check("geocode objects carry every field of the contract",
          st == 200 and doc and all(fields <= set(o) for o in doc), doc)
    check("a clean Paris address verifies on its first object",
          st == 200 and doc[0]["verified"] is True and doc[0]["reason"] == "verified"
          and doc[0]["housenumber"] == "12" and doc[0]["street"] == "Rue de la Roquette"
          and doc[0]["postcode"] == "75011" and doc[0]["approximate"] is False, doc)
    check("later objects: not verified, not_best",
          all(o["verified"] is False and o["reason"] == "not_best" for o in doc[1:]), doc)
    agree = []
    for q in ("3 rue saint", "10 rue de la paix", "2 rue neuve", "12 rue de la roquette"):
        one = anon.req("GET", "/api/geocode?limit=1&q=" + quote(q))[1][0]
        five = anon.req("GET", "/api/geocode?limit=5&q=" + quote(q))[1][0]
        agree.append((one["verified"], one["reason"]) == (five["verified"], five["reason"]))
    check("limit=1 judges the query as registration does (rivals beyond the first counted)", all(agree), agree)
    suffixed = sql("SELECT number, street, postcode FROM addresses WHERE rep = 'b' "
                   "AND neighbourhood_id IS NOT NULL LIMIT 1")
    if suffixed:
        n_, street_, pc_ = suffixed[0]
        st, doc, _ = anon.req("GET", "/api/geocode?limit=1&q=" + quote("%d bis %s %s" % (n_, street_, pc_)))
        check("a suffixed house number is written with its word (bis)",
              st == 200 and doc[0]["housenumber"] == "%d bis" % n_, doc)
    for q, why in (("", "the query is empty"), ("a" * 513, "the query is longer than 512 bytes"),
                   ("12%01rue", "the query holds control characters"),
                   ("12%00rue", "the query parameter 'q' holds a NUL byte (%00)"),
                   ("12%FFrue", "the query parameter 'q' is not valid UTF-8")):
        st, doc, r = anon.req("GET", "/api/geocode?q=" + q)
        check("geocode q=%s: 400 '%s'" % (q[:12], why),
              st == 400 and doc.get("detail") == why
              and r.getheader("Content-Type") == "application/problem+json", doc)
    st, doc, _ = anon.req("GET", "/api/geocode")
    check("geocode without q: 400", st == 400 and "q" in doc.get("detail", ""), doc)
    for v in ("2", "yes", "", "01"):
        st, doc, _ = anon.req("GET", "/api/geocode?q=rue&autocomplete=" + v)
        check("geocode autocomplete=%r: 400 saying 0 or 1" % v,
              st == 400 and doc.get("detail") == "autocomplete is 0 or 1", doc)
    st, doc, _ = anon.req("GET", "/api/geocode?q=12%20rue%20de%20la%20Roquette%2075011&autocomplete=0")
    check("geocode autocomplete=0 is the plain geocoder", st == 200 and doc[0]["verified"] is True, doc)
    st, doc, _ = anon.req("GET", "/api/geocode?q=7%20rue%20montorg&autocomplete=1")
    check("autocomplete: '7 rue montorg' suggests 7 Rue Montorgueil first",
          st == 200 and (doc[0]["label"] or "").startswith("7 Rue Montorgueil"), doc[:2])
    st, doc, _ = anon.req("GET", "/api/openapi.json")
    check("OpenAPI document", st == 200 and doc["openapi"].startswith("3.0"))
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isdir(os.path.join(here, "node_modules", "@seriousme", "openapi-schema-validator")):
        path = os.path.join(WORK, "openapi.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        script = ("import {Validator} from '@seriousme/openapi-schema-validator';"
                  "const v = new Validator(); const r = await v.validate(process.argv[1]);"
                  "console.log(JSON.stringify(r)); process.exit(r.valid ? 0 : 1);")
        p = subprocess.run(["node", "--input-type=module", "-e", script, path], cwd=here,
                           capture_output=True, text=True)
        check("/api/openapi.json is valid OpenAPI 3.0 (@seriousme/openapi-schema-validator)",
              p.returncode == 0, p.stdout[-2000:] + p.stderr[-1000:])
    import re
    server_c = open(os.path.join(os.path.dirname(__file__), "..", "..", "mapd", "server.c")).read()
    # /ogc is documented by its own OpenAPI document, /ogc/api (tests/api/test_ogc.py).
    # Path parameters compare by position ({id}, {member}, a final * of the
    # table); the catch-alls outside /api (static files, tiles) are not API.
    routes = {(m.lower(), re.sub(r"\{[^}]*\}", "{}", p.replace("*", "{}")))
              for m, p in re.findall(r'\{ "(GET|POST|PATCH|PUT|DELETE)", "(/[^"*]*\*?)"', server_c)
              if not p.startswith("/ogc") and ("*" not in p or p.startswith("/api/"))}
    documented = {(m, re.sub(r"\{[^}]*\}", "{}", p)) for p, ops in doc["paths"].items() for m in ops
                  if m in ("get", "post", "patch", "put", "delete")}
    check("the OpenAPI document describes exactly the routes (%d)" % len(routes), routes == documented,
          (routes ^ documented))

    read_model_seeding = read_model(srv, {"A": ma, "B": mb, "C": mc, "D": md, "shop": shop,
                                          "staff": staff}, a_home, (lon, lat))

    # ---- logout ----
    st, _, _ = mb.req("DELETE", "/api/session", csrf=False)
    check("logout needs the CSRF token: 403", st == 403)
    st, _, r = mb.req("DELETE", "/api/session")
    check("logout: 204 and the cookie cleared", st == 204 and "Max-Age=0" in (r.getheader("Set-Cookie") or "")
          and r.getheader("Cache-Control") == "no-store")
    st, _, _ = mb.req("GET", "/api/me")
    check("after logout: 401", st == 401)

    # ---- one's own account ----
    me_ = Client(srv, "E")
    st, doc, _ = me_.register("erwan@example.org", address_in(a, 4), "Erwan")
    check("E registers in A", st == 201 and doc["neighbourhood"]["id"] == a, doc)
    erwan_id = doc.get("id", 0)
    me_.login("erwan@example.org")
    st, doc, _ = me_.req("PATCH", "/api/me", {"display_name": "Erwan L."})
    check("a member changes their display name", st == 200 and doc["display_name"] == "Erwan L.", doc)
    st, doc, _ = me_.req("PATCH", "/api/me", {})
    check("a change of nothing: 422", st == 422, doc)
    st, doc, _ = me_.req("PATCH", "/api/me", {"display_name": ""})
    check("an empty display name: 422", st == 422, doc)
    st, doc, _ = me_.req("PATCH", "/api/me", {"new_password": "another secret"})
    check("a new password without the current one: 403", st == 403, doc)
    st, doc, _ = me_.req("PATCH", "/api/me", {"new_password": "another secret", "password": "wrong wrong"})
    check("with a wrong current password: 403", st == 403, doc)
    st, doc, _ = me_.req("PATCH", "/api/me", {"new_password": "short", "password": "correct horse"})
    check("a new password under 8 characters: 422", st == 422, doc)
    st, doc, _ = me_.req("PATCH", "/api/me", {"new_password": "another secret", "password": "correct horse"},
                         csrf=False)
    check("without the CSRF token: 403", st == 403, doc)
    st, doc, _ = me_.req("PATCH", "/api/me", {"new_password": "another secret", "password": "correct horse"})
    check("the password changes", st == 200, doc)
    probe = Client(srv, "E-probe")
    check("the old password no longer logs in", probe.login("erwan@example.org", "correct horse")[0] == 401)
    check("the new one does", probe.login("erwan@example.org", "another secret")[0] == 200)
    st, doc, _ = me_.req("PATCH", "/api/me", {"address": "12 rue de Paris 93100 Montreuil",
                                             "password": "another secret"})
    check("a new home in a town not covered: 422 not_covered",
          st == 422 and doc.get("reason") == "not_covered" and "candidates" not in doc, doc)
    st, doc, _ = me_.req("PATCH", "/api/me", {"address": address_in(b, 5), "password": "another secret"})
    check("a new home, verified: the neighbourhood follows (and no address in the answer)",
          st == 200 and doc["neighbourhood"]["id"] == b and "address" not in json.dumps(doc), doc)
    st, doc, _ = me_.req("GET", "/api/me")
    check("/api/me says so", doc["neighbourhood"]["id"] == b and doc["display_name"] == "Erwan L.", doc)
    st, doc, _ = me_.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                               "title": "Courses d'Erwan", "body": ""})
    pe = doc["id"] if st == 201 else 0
    st, doc, _ = me_.req("DELETE", "/api/me", {})
    check("deleting without the password: 422", st == 422, doc)
    st, doc, _ = me_.req("DELETE", "/api/me", {"password": "correct horse"})
    check("deleting with a wrong password: 403", st == 403, doc)
    st, doc, _ = staff.req("DELETE", "/api/me", {"password": "correct horse"})
    check("staff accounts are not deleted this way: 403", st == 403, doc)
    st, _, r = me_.req("DELETE", "/api/me", {"password": "another secret"})
    check("a member deletes their account: 204, the cookie cleared",
          st == 204 and "Max-Age=0" in (r.getheader("Set-Cookie") or ""), st)
    st, _, _ = probe.req("GET", "/api/me")
    check("every session of the account is over", st == 401)
    check("the account no longer logs in", probe.login("erwan@example.org", "another secret")[0] == 401)
    row = sql("SELECT email, display_name, password_hash, address_text, home_lon FROM members "
              "WHERE email LIKE 'deleted-%@deleted.invalid'")
    check("its email, name, password and home are gone", len(row) == 1 and row[0][2] == ""
          and row[0][3] is None and row[0][4] is None and "Erwan" not in row[0][1], row)
    check("its open request is cancelled (nobody can help it now)",
          sql("SELECT status FROM posts WHERE id = ?", pe)[0][0] == "cancelled")
    check("the deletion is audited", sql("SELECT count(*) FROM audit_log WHERE action = 'delete account'")[0][0] == 1)
    st, doc, _ = anon.register("erwan@example.org", address_in(a, 6), "Erwan again")
    check("the email can register again", st == 201, doc)

    # ---- a maker moves home ----
    maker_moves(srv, staff, a, b)

    # ---- in French: what people read of the server's refusals ----
    english = re.compile(r"\b(the|is|are|must|only|cannot|no such|this|wrong|first|already|log in|"
                         r"not|has|one's|someone|claimed|give|send)\b", re.I)
    fr = Client(srv, "FR")
    fr.lang = "fr-FR,fr;q=0.9,en;q=0.5"
    said = []
    def french(what, st, doc, want_status):
        said.append((what, doc.get("detail") if doc else None))
        check("in French: %s (%d)" % (what, want_status),
              st == want_status and doc and doc.get("detail") and not english.search(doc["detail"])
              and not english.search(doc.get("title", "")), (st, doc))
    st, doc, _ = fr.req("POST", "/api/session", {"email": "alice@example.org", "password": "wrong wrong"})
    french("a wrong password", st, doc, 401)
    check("the English words are kept for an English client",
          ma.req("POST", "/api/session", {"email": "alice@example.org", "password": "wrong wrong"})[1]["detail"]
          == "wrong email or password")
    st, doc, _ = fr.register("zoe@example.org", address_in(a, 8), "Zoé")
    check("a French member registers", st == 201, doc)
    anon_fr = Client(srv, "FR anonymous")
    anon_fr.lang = "fr"
    st, doc, _ = anon_fr.register("zoe@example.org", address_in(a, 8), "Zoé")
    french("a taken email", st, doc, 409)
    st, doc, _ = anon_fr.req("POST", "/api/members", {"email": "yann@example.org", "password": "court",
                                                      "display_name": "Yann", "address": address_in(a, 8)})
    french("a short password", st, doc, 422)
    st, doc, _ = anon_fr.register("yann@example.org", "12 Rue des Licornes Introuvables 75011", "Yann")
    french("an unknown address (reason %s)" % (doc or {}).get("reason"), st, doc, 422)
    check("the reason code stays a code", doc.get("reason") == "not_found", doc)
    st, doc, _ = anon_fr.register("yann@example.org", "   ", "Yann")
    french("a blank address", st, doc, 422)
    st, doc, _ = anon_fr.req("POST", "/api/posts", {"kind": "request", "category": "errands", "title": "x"})
    french("posting logged out", st, doc, 401)
    fr.login("zoe@example.org")
    st, doc, _ = fr.req("POST", "/api/posts", {"kind": "request", "category": "errands"})
    french("a post without a title", st, doc, 422)
    st, doc, _ = fr.req("POST", "/api/posts", {"kind": "request", "category": "weather", "title": "x"})
    french("an unknown category", st, doc, 422)
    st, doc, _ = fr.req("POST", "/api/posts", raw=b"{not json")
    french("a body that is not JSON", st, doc, 400)
    st, doc, _ = fr.req("POST", "/api/posts", {"kind": "request", "category": "errands", "title": "x"}, csrf=False)
    french("no CSRF token", st, doc, 403)
    st, doc, _ = fr.req("GET", "/api/posts/99999999")
    french("a post that does not exist", st, doc, 404)
    st, doc, _ = ma.req("POST", "/api/posts", {"kind": "request", "category": "errands", "title": "Un pain"})
    fp = doc["properties"]["id"]
    md.req("POST", "/api/posts/%d/claim" % fp, label="CLAIM")
    st, doc, _ = fr.req("POST", "/api/posts/%d/claim" % fp)
    french("a claim too late", st, doc, 409)
    check("the status inside the sentence is French too", "prise en charge" in (doc or {}).get("detail", ""), doc)
    st, doc, _ = fr.req("PATCH", "/api/posts/%d" % fp, {"title": "Deux pains"})
    french("editing someone else's post", st, doc, 403)
    st, doc, _ = fr.req("GET", "/api/posts?bbox=1,2,3")
    french("a malformed bbox", st, doc, 400)
    st, doc, _ = fr.req("PATCH", "/api/shops/%d" % sid, {"status": "open"})
    french("changing a shop one does not own", st, doc, 403)
    st, doc, _ = fr.req("GET", "/api/password-resets")
    french("a staff page", st, doc, 403)
    for lang, want in (("de, en;q=0.8", "en"), ("fr;q=0, en", "en"), ("en;q=0.5, fr;q=0.9", "fr"), ("FR-ca", "fr")):
        fr.lang = lang
        st, doc, _ = fr.req("GET", "/api/posts/99999999")
        check("Accept-Language %r answers in %s" % (lang, want),
              (doc["detail"] == "no such post") == (want == "en"), doc)
    fr.lang = "fr"
    print("# in French: " + " | ".join("%s: %s" % w for w in said[:6]))

    # ---- a forgotten password ----
    mf = Client(srv, "F")
    st, doc, _ = mf.register("fanny@example.org", address_in(b, 5), "Fanny")
    check("F registers in B", st == 201, doc)
    mf.login("fanny@example.org")
    st, doc, _ = anon.req("POST", "/api/password-resets", {"email": "fanny@example.org"})
    st2, doc2, _ = anon.req("POST", "/api/password-resets", {"email": "nobody@example.org"})
    check("a reset is asked for: 202, the same answer for an unknown email",
          st == 202 and st2 == 202 and doc == doc2, (doc, doc2))
    check("only the real account gets a link", sql("SELECT count(*) FROM password_resets")[0][0] == 1)
    anon.req("POST", "/api/password-resets", {"email": "staff@example.org"})
    st, doc, _ = staff.req("GET", "/api/password-resets")
    check("staff never read a staff account's link (it sets a password)",
          st == 200 and [r["member"]["email"] for r in doc["resets"]] == ["fanny@example.org"], doc)
    DATA.write("DELETE FROM password_resets WHERE member_id = (SELECT id FROM members WHERE email = ?)", "staff@example.org")
    st, doc, _ = mf.req("GET", "/api/password-resets")
    check("a member cannot read reset links: 403", st == 403)
    st, doc, _ = anon.req("GET", "/api/password-resets")
    check("nor can anybody logged out: 401", st == 401)
    st, doc, _ = staff.req("GET", "/api/password-resets")
    links = [r["link"] for r in doc.get("resets", []) if r["member"]["email"] == "fanny@example.org"]
    check("staff read Fanny's link to pass it on, as a URL fragment",
          st == 200 and len(links) == 1 and links[0].startswith("/#reset=") and len(doc["resets"]) == 1, doc)
    old_token = links[0].split("=", 1)[1] if links else ""
    anon.req("POST", "/api/password-resets", {"email": "FANNY@example.org"})
    st, doc, _ = staff.req("GET", "/api/password-resets")
    links = [r["link"] for r in doc.get("resets", []) if r["member"]["email"] == "fanny@example.org"]
    token = links[0].split("=", 1)[1] if links else ""
    check("asking again replaces the link (one live link per account)",
          len(links) == 1 and token and token != old_token
          and sql("SELECT count(*) FROM password_resets")[0][0] == 1, doc)
    check("the store keeps the link's hash as its key, not only the secret",
          sql("SELECT length(token_hash) FROM password_resets")[0][0] == 32)
    st, doc, _ = anon.req("POST", "/api/password-resets/complete", {"token": old_token, "new_password": "new horse 1"})
    check("the replaced link no longer works: 404", st == 404, doc)
    st, doc, _ = anon.req("POST", "/api/password-resets/complete", {"token": token, "new_password": "short"})
    check("a short new password: 422, the link still good", st == 422 and "8 characters" in doc["detail"], doc)
    st, doc, _ = anon.req("POST", "/api/password-resets/complete", {"token": token})
    check("no new password: 422", st == 422, doc)
    st, doc, _ = anon.req("POST", "/api/password-resets/complete", {"token": "x" * 300, "new_password": "new horse 1"})
    check("an oversized token: 422, not a crash", st == 422, doc)
    st, doc, _ = mf.req("GET", "/api/me")
    check("Fanny is still logged in before the reset", st == 200)
    st, doc, _ = anon.req("POST", "/api/password-resets/complete", {"token": token, "new_password": "new horse 1"})
    check("the link sets the new password", st == 200 and doc["display_name"] == "Fanny", doc)
    st, doc, _ = mf.req("GET", "/api/me")
    check("every session of Fanny's ended", st == 401)
    check("the old password no longer logs in", mf.login("fanny@example.org")[0] == 401)
    st, doc = mf.login("fanny@example.org", "new horse 1")
    check("the new one does", st == 200, doc)
    st, doc, _ = anon.req("POST", "/api/password-resets/complete", {"token": token, "new_password": "new horse 2"})
    check("a link works once: 404 the second time", st == 404, doc)
    st, doc, _ = staff.req("GET", "/api/password-resets")
    check("and it leaves the staff's list", st == 200 and doc["resets"] == [], doc)
    check("the reset is audited", sql("SELECT count(*) FROM audit_log WHERE action = 'password reset'")[0][0] == 1)
    st, doc, _ = anon.req("POST", "/api/password-resets", {"email": "deleted-%d@deleted.invalid" % erwan_id})
    check("a deleted account gets no link", st == 202 and sql("SELECT count(*) FROM password_resets")[0][0] == 0)

    # ---- privacy sweep ----
    homes = sql("SELECT email, home_lon, home_lat, address_text FROM members WHERE home_lon IS NOT NULL")
    leaks = []
    for label, body in BODIES:
        if body.startswith("{") and '"links"' in body:
            # A list's next link repeats the request's own query (near=LON,LAT as the
            # client sent it): what the client said is not a leak; the rest is swept.
            doc = json.loads(body)
            doc.pop("links", None)
            body = json.dumps(doc, ensure_ascii=False)
        for email, hlon, hlat, addr in homes:
            for needle in ("%.5f" % hlon, "%.5f" % hlat, addr):
                if needle and needle in body and not (label in ("CLAIM", "DELIVERY") and needle == addr):
                    leaks.append((label, email, needle))
    check("privacy sweep: no home coordinates or address in %d responses but the claim and the "
          "delivery of an accepted order" % len(BODIES),
          not leaks, leaks[:5])
    check("the claim response is the one that carries it", any(l == "CLAIM" and a_address in b for l, b in BODIES))
    # A conversation reaches its two people only (staff: a reported post's).
    talk = [(l, n) for l, b in BODIES for n in ("SECRET-A-", "SECRET-B-", "SECRET-RELEASE-")
            if n in b and not (l.startswith("A ") or l.startswith("B ")
                               or (n == "SECRET-RELEASE-" and l.startswith("staff ")))]
    check("privacy sweep: a post's conversation reaches nobody but its author and claimer", not talk, talk[:5])
    read_model_seeding()

    check("SIGTERM: exit 0", srv.stop() == 0)

    # ---- rate limits ----
    srv = Server("--auth-per-minute", "3")
    cl = Client(srv, "hammer")
    codes = [cl.req("POST", "/api/session", {"email": "x@example.org", "password": "12345678"})[0] for _ in range(5)]
    check("login attempts past the limit: 429", codes[:3] == [401] * 3 and codes[3:] == [429, 429], codes)
    srv.stop()

    # ---- durability: acknowledged posts survive a kill -9 mid-burst ----
    srv = Server("--auth-per-minute", "1000")
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst(email):
        cl = Client(srv, email)
        cl.login(email)
        for i in range(2000):
            if stop.is_set():
                return
            try:
                st, doc, _ = cl.req("POST", "/api/posts", {"kind": "offer", "category": "other",
                                                           "title": "burst %d" % i})
            except Exception:
                return
            if st == 201:
                with lock:
                    acked.append(doc["properties"]["id"])
    threads = [threading.Thread(target=burst, args=(e,)) for e in ("alice@example.org", "carol@example.org")]
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while len(acked) < 200 and time.time() < deadline:
        time.sleep(0.01)
    srv.p.kill()
    stop.set()
    for t in threads:
        t.join()
    srv.p.wait()
    stored = {r[0] for r in sql("SELECT id FROM posts WHERE title LIKE 'burst %'")}
    check("killed mid-burst: all %d acknowledged posts are stored" % len(acked),
          len(acked) >= 200 and set(acked) <= stored, (len(acked), len(set(acked) - stored)))
    check("the database is intact after the kill", sql("PRAGMA integrity_check")[0][0] == "ok")

    # The same with eight clients at once, so that the group-commit writer
    # puts several posts in each transaction; one client is staff, without a
    # home, whose posts are refused one by one inside those batches.
    srv = Server("--auth-per-minute", "1000")
    acked, refused, other = [], [], []
    stop.clear()

    def burst8(cl, n):
        email = cl.name
        for i in range(3000):
            if stop.is_set():
                return
            try:
                st, doc, _ = cl.req("POST", "/api/posts", {"kind": "offer", "category": "other",
                                                           "title": "group %d %d" % (n, i)})
            except Exception:
                return
            with lock:
                (acked.append(doc["properties"]["id"]) if st == 201
                 else refused.append(email) if st == 403 else other.append(st))
    emails = ["alice@example.org", "carol@example.org", "dan@example.org"] * 2 + ["shop@example.org",
                                                                                  "staff@example.org"]
    # Everyone logs in first: a login still under way when the burst is killed
    # would leave that client without a single request.
    clients = [Client(srv, e) for e in emails]
    for cl in clients:
        cl.login(cl.name)
    threads = [threading.Thread(target=burst8, args=(cl, n)) for n, cl in enumerate(clients)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while len(acked) < 600 and time.time() < deadline:
        time.sleep(0.01)
    srv.p.kill()
    stop.set()
    for t in threads:
        t.join()
    srv.p.wait()
    stored = {r[0] for r in sql("SELECT id FROM posts WHERE title LIKE 'group %'")}
    check("eight clients, killed mid-burst: all %d acknowledged posts are stored" % len(acked),
          len(acked) >= 600 and set(acked) <= stored, (len(acked), len(set(acked) - stored)))
    check("posts refused inside batches (no home) are refused alone",
          refused and set(refused) == {"staff@example.org"} and not other
          and not sql("SELECT count(*) FROM posts p JOIN members m ON m.id = p.author_id "
                      "WHERE m.email = 'staff@example.org'")[0][0], (len(refused), other[:5]))
    check("the database is intact after that kill", sql("PRAGMA integrity_check")[0][0] == "ok")

    rc = T.finish()
    subprocess.run(["rm", "-rf", WORK])
    return rc


if __name__ == "__main__":
    sys.exit(main())
