#!/usr/bin/env python3
"""tests/api/test_tiles.py MAPD SAMPLE_DIR — the tileset over HTTP against a
real `mapd serve`: TileJSON, who sees which layers, feature counts against the
store (clusters adding up through point_count), ETag / 304 / gzip, the cache
dropping exactly the tiles of a change (made through the API or by another
process), the streets layer (a known street drawn between its houses, from
zoom 13, renamed by another process's import), and the size budget.

Expected counts are computed here from the database file with plain SQL and
the Web Mercator formula, independently of the server's code.
"""
import gzip
import json
import math
import os
import re
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import FEED_FLOOD, Client, Database, Server, Suite, decode_tile  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DEMO_PASSWORD = "entraide-demo"


def lround(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def tile_xy(lon, lat, z):
    """The tile holding (lon, lat) and the point's snapped position in it."""
    s = 4096 * 2 ** z
    px = (lon + 180) / 360 * s
    py = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * s
    tx, ty = int(px // 4096), int(py // 4096)
    return tx, ty, lround(px - tx * 4096), lround(py - ty * 4096)


def in_tile(lon, lat, z, x, y):
    s = 4096 * 2 ** z
    px = lround((lon + 180) / 360 * s - x * 4096)
    py = lround((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat)))
                 / math.pi) / 2 * s - y * 4096)
    return 0 <= px < 4096 and 0 <= py < 4096


def point_of(blob):
    """(lon, lat) of a SpatiaLite point BLOB, from its MBR header."""
    endian = "<" if blob[1] == 1 else ">"
    minx, miny = struct.unpack(endian + "dd", blob[6:22])
    return minx, miny


def visible(db, nb):
    return {nb} | {r[0] for r in db.sql("SELECT b FROM neighbourhood_contiguity WHERE a = ?", nb)}


def needs_of(db, nbs):
    """(id, lon, lat, neighbourhood) of the needs members of nbs see (all when None)."""
    now = int(time.time())
    rows = db.sql("SELECT id, geom, neighbourhood_id FROM posts WHERE hidden = 0 AND "
                  "(status = 'claimed' OR (status = 'open' AND expires_at > ?))", now)
    return [(i, *point_of(g), nb) for i, g, nb in rows if nbs is None or nb in nbs]


def counted(features):
    """Points of a layer in the tile itself: clusters count their point_count."""
    return sum(f.get("point_count", 1) for f in features
               if 0 <= f["_x"] < 4096 and 0 <= f["_y"] < 4096)


_LINE = re.compile(r"^  (MULTI)?LINESTRING \((.*)\)$")


def street_lines(data, work):
    """[(name, [[(x, y), ...], ...])] of the streets layer of an MVT, in tile
    coordinates with y down, decoded by GDAL's MVT driver (independently of
    mapd), which gives lines of an unplaced tile with y up."""
    path = os.path.join(work, "streets.mvt")
    with open(path, "wb") as f:
        f.write(data)
    out = subprocess.run(["ogrinfo", "-ro", "-q", "-oo", "CLIP=NO", path, "streets"],
                         capture_output=True, text=True).stdout
    lines, name = [], None
    for row in out.splitlines():
        if row.startswith("  name (String) = "):
            name = row.split(" = ", 1)[1]
        m = _LINE.match(row)
        if m:
            parts = re.findall(r"\(([^()]*)\)", m.group(2)) if m.group(1) else [m.group(2)]
            lines.append((name, [[(float(p.split()[0]), 4096 - float(p.split()[1]))
                                  for p in part.split(",")] for part in parts]))
    return lines


def seg_dist(p, a, b):
    """Distance from point p to segment ab."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    l2 = dx * dx + dy * dy
    u = 0 if l2 == 0 else max(0, min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2))
    return math.hypot(p[0] - a[0] - u * dx, p[1] - a[1] - u * dy)


def check_streets(db, anon):
    """The streets layer: a known street at z15 near its addresses, none
    below zoom 13, caps kept, and a renaming import by another process
    reaching the tile."""
    street, insee = "Rue de la Roquette", "75111"
    pts = db.sql("SELECT geom FROM addresses WHERE street = ? AND insee = ? ORDER BY number", street, insee)
    if not pts:  # another city's sample: its longest street
        street, insee = db.sql("SELECT street, insee FROM addresses GROUP BY insee, street "
                               "ORDER BY count(*) DESC LIMIT 1")[0]
        pts = db.sql("SELECT geom FROM addresses WHERE street = ? AND insee = ? ORDER BY number",
                     street, insee)
    lon, lat = point_of(pts[len(pts) // 2][0])
    x, y = tile_xy(lon, lat, 15)[:2]
    st, body, r = anon.raw("GET", "/tiles/15/%d/%d.mvt" % (x, y))
    lines = street_lines(body, db.work)
    mine = [parts for name, parts in lines if name == street]
    T.check("z15: the streets layer draws %s as lines" % street,
            st == 200 and mine and all(len(p) >= 2 for parts in mine for p in parts),
            sorted({n for n, _ in lines})[:10])
    T.check("z15: street lines are clipped to the tile and its buffer",
            lines and all(-65 <= v <= 4096 + 65 for _, parts in lines for p in parts for q in p for v in q))
    # Every address of the street in the tile lies within 25 m of its line
    # (a street is 10 to 30 m wide): 1 m is 1 / (circumference * cos(lat) /
    # 2^15 / 4096) tile units.
    per_m = 1 / (40075016.686 * math.cos(math.radians(lat)) / 2 ** 15 / 4096)
    segs = [(p[i], p[i + 1]) for parts in mine for p in parts for i in range(len(p) - 1)]
    near = far = 0
    for (g,) in pts:
        tx, ty, px, py = tile_xy(*point_of(g), 15)
        if (tx, ty) != (x, y) or not segs:
            continue
        d = min(seg_dist((px, py), a, b) for a, b in segs) / per_m
        near, far = (near + 1, far) if d <= 25 else (near, far + 1)
    T.check("z15: the line runs between the street's houses (%d of %d addresses within 25 m)"
            % (near, near + far), near > 10 and far <= near // 10)
    x, y = tile_xy(lon, lat, 12)[:2]
    T.check("z12: no streets layer (from zoom 13)",
            "streets" not in decode_tile(anon.raw("GET", "/tiles/12/%d/%d.mvt" % (x, y))[1], db.work))
    # The densest z13 tile of the data: within the default byte budget and
    # the feature cap.
    ext = db.sql("SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_neighbourhoods_geom")[0]
    x, y = tile_xy((ext[0] + ext[2]) / 2, (ext[1] + ext[3]) / 2, 13)[:2]
    sizes = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            st, body, _ = anon.raw("GET", "/tiles/13/%d/%d.mvt" % (x + dx, y + dy))
            sizes.append((st, len(body), len(street_lines(body, db.work))))
    T.check("z13: street tiles within 500 KB and 5000 lines", all(st == 200 and n <= 500 * 1024
                                                                  and k <= 5000 for st, n, k in sizes)
            and max(k for _, _, k in sizes) > 100, sizes)

    # Another process renames the street (an address import): the tile's
    # old drawing is dropped, the new name drawn.
    x, y = tile_xy(lon, lat, 15)[:2]
    path = "/tiles/15/%d/%d.mvt" % (x, y)
    st, _, r = anon.raw("GET", path)
    etag = r.getheader("ETag")
    rows = db.sql("SELECT source_id, number, rep, postcode, insee, city, geom FROM addresses "
                  "WHERE street = ? AND insee = ?", street, insee)
    csv = os.path.join(db.work, "renamed.csv")
    with open(csv, "w") as fh:
        fh.write("id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n")
        for sid, number, rep, cp, ins, city, g in rows:
            fh.write("%s;%d;%s;Rue Renommée;%s;%s;%s;%.7f;%.7f\n" % (sid, number, rep, cp, ins, city,
                                                                      *point_of(g)))
    out = db.run("import", "addresses", csv, "--db", db.path)
    st, body, r = anon.raw("GET", path, headers={"If-None-Match": etag})
    names = {n for n, _ in street_lines(body, db.work)}
    T.check("a street renamed by an address import reaches the tile (new ETag)",
            st == 200 and r.getheader("ETag") != etag and "Rue Renommée" in names
            and street not in names, (st, out, sorted(names)[:10]))


def main():
    db = Database(MAPD, "entraide-tiles.")
    db.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", db.path)
    db.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", db.path)
    db.run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", db.path)
    db.run("seed", "--db", db.path, "--posts", "3000")
    srv = Server(db, "--auth-per-minute", "1000")
    anon = Client(srv, "anonymous", T)
    member = Client(srv, "member", T)
    staff = Client(srv, "staff", T)
    shop = Client(srv, "shop", T)
    T.check("member logs in", member.login("benevole@entraide.example", DEMO_PASSWORD)[0] == 200)
    T.check("staff log in", staff.login("moderation@entraide.example", DEMO_PASSWORD)[0] == 200)
    T.check("shop owner logs in", shop.login("commerce@entraide.example", DEMO_PASSWORD)[0] == 200)
    st, me, _ = member.req("GET", "/api/me")
    nb = me["neighbourhood"]["id"]
    me_id = me["id"]
    seen = visible(db, nb)

    # ---- TileJSON ----
    st, tj, r = anon.req("GET", "/tiles.json")
    ext = db.sql("SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_neighbourhoods_geom")[0]
    T.check("tiles.json: TileJSON 3.0.0 with the tile URL of this host",
            st == 200 and tj["tilejson"] == "3.0.0"
            and tj["tiles"] == ["http://127.0.0.1:%d/tiles/{z}/{x}/{y}.mvt" % srv.port], tj)
    T.check("tiles.json: bounds and centre from the data",
            all(abs(a - b) < 1e-6 for a, b in zip(tj["bounds"], ext))
            and ext[0] < tj["center"][0] < ext[2] and ext[1] < tj["center"][1] < ext[3], tj.get("bounds"))
    T.check("tiles.json: six vector layers with fields, zooms 0 to 16",
            [l["id"] for l in tj["vector_layers"]]
            == ["neighbourhoods", "streets", "addresses", "shops", "needs", "makers"]
            and all(l["fields"] for l in tj["vector_layers"]) and tj["minzoom"] == 0 and tj["maxzoom"] == 16)
    T.check("tiles.json: streets from zoom 13, with their name",
            [(l["minzoom"], sorted(l["fields"])) for l in tj["vector_layers"] if l["id"] == "streets"]
            == [(13, ["name"])], tj["vector_layers"])

    # ---- a tile full of the member's visible needs ----
    mine = needs_of(db, seen)
    everything = needs_of(db, None)
    tiles14 = {}
    for _, lon, lat, _ in mine:
        tx, ty, _, _ = tile_xy(lon, lat, 14)
        tiles14[(tx, ty)] = tiles14.get((tx, ty), 0) + 1
    (x14, y14), _ = max(tiles14.items(), key=lambda kv: kv[1])
    lon0, lat0 = next((lon, lat) for _, lon, lat, _ in mine if tile_xy(lon, lat, 14)[:2] == (x14, y14))

    for z in (10, 12, 14, 16):
        x, y = tile_xy(lon0, lat0, z)[:2]
        path = "/tiles/%d/%d/%d.mvt" % (z, x, y)
        st, body, _ = anon.raw("GET", path)
        layers = decode_tile(body, db.work)
        T.check("z%d anonymous: neighbourhoods and shops, no needs, no makers" % z,
                st == 200 and "neighbourhoods" in layers and "needs" not in layers
                and "makers" not in layers, sorted(layers))
        st, body, _ = member.raw("GET", path)
        layers = decode_tile(body, db.work)
        want = sum(1 for _, lon, lat, _ in mine if in_tile(lon, lat, z, x, y))
        got = counted(layers.get("needs", []))
        T.check("z%d member: %d visible needs in the tile, accounted for by points and clusters"
                % (z, want), want > 0 and got == want, got)
        lone = [f for f in layers.get("needs", []) if "point_count" not in f]
        T.check("z%d member: every lone need is of a visible neighbourhood" % z,
                all(f["neighbourhood"] in seen for f in lone), [f["neighbourhood"] for f in lone][:5])
        clusters = [f for f in layers.get("needs", []) if "point_count" in f]
        T.check("z%d member: clusters count their categories" % z,
                all(f["point_count"] == sum(v for k, v in f.items() if k.startswith("count_"))
                    for f in clusters))
        st, body, _ = staff.raw("GET", path)
        want = sum(1 for _, lon, lat, _ in everything if in_tile(lon, lat, z, x, y))
        got = counted(decode_tile(body, db.work).get("needs", []))
        T.check("z%d staff: all %d needs of the tile" % (z, want), got == want, got)
    # The z10 tile of a maker the member may see, so that neither count can
    # pass on zero: the member becomes one (the seed's may all be elsewhere).
    st, doc, _ = member.req("PUT", "/api/makers/me", {"capacity_per_day": 10, "stock": 4, "materials": []})
    T.check("the member becomes a maker", st == 200, doc)
    makers = db.sql("SELECT k.geom, m.neighbourhood_id FROM makers k JOIN members m ON m.id = k.member_id")
    theirs = [point_of(g) for g, n in makers if n in seen]
    T.check("the member's area has makers", theirs, len(makers))
    x, y = tile_xy(*(theirs[0] if theirs else (lon0, lat0)), 10)[:2]
    for who, client, nbs in (("member", member, seen), ("staff", staff, None)):
        want = sum(1 for g, n in makers if (nbs is None or n in nbs) and in_tile(*point_of(g), 10, x, y))
        st, body, _ = client.raw("GET", "/tiles/10/%d/%d.mvt" % (x, y))
        got = counted(decode_tile(body, db.work).get("makers", []))
        T.check("z10 %s: the %d makers they may see" % (who, want), want > 0 and got == want, got)
    T.check("z16: address points for the basemap",
            len(decode_tile(anon.raw("GET", "/tiles/16/%d/%d.mvt" % tile_xy(lon0, lat0, 16)[:2])[1],
                            db.work).get("addresses", [])) > 0)

    # A distant member sees none of the needs the first one sees there.
    far = db.sql("SELECT id FROM neighbourhoods WHERE id NOT IN (%s) ORDER BY id LIMIT 1"
                 % ",".join("?" * len(seen)), *seen)[0][0]
    far_seen = visible(db, far)
    if not far_seen & seen:
        addr = db.sql("SELECT number, street, postcode FROM addresses WHERE neighbourhood_id = ? "
                      "AND rep = '' LIMIT 1", far)[0]
        db.run("user", "add", "--db", db.path, "--email", "far@example.org", "--role", "member",
               "--address", "%d %s %s" % addr, "--password-stdin", stdin="correct horse\n")
        distant = Client(srv, "distant", T)
        T.check("distant member logs in", distant.login("far@example.org", "correct horse")[0] == 200)
        st, body, _ = distant.raw("GET", "/tiles/14/%d/%d.mvt" % (x14, y14))
        lone = [f for f in decode_tile(body, db.work).get("needs", []) if "point_count" not in f]
        want = sum(1 for _, lon, lat, n in everything if n in far_seen and in_tile(lon, lat, 14, x14, y14))
        T.check("a distant member sees only the needs of their own area in that tile",
                counted(decode_tile(body, db.work).get("needs", [])) == want
                and all(f["neighbourhood"] in far_seen for f in lone))

    # ---- HTTP caching ----
    path14 = "/tiles/14/%d/%d.mvt" % (x14, y14)
    st, plain, r1 = member.raw("GET", path14)
    etag = r1.getheader("ETag")
    T.check("a tile has a strong ETag, no-cache, and varies by cookie",
            etag and etag.startswith('"') and not etag.startswith('W/')
            and r1.getheader("Cache-Control") == "private, no-cache"
            and "Cookie" in r1.getheader("Vary"), (etag, r1.getheader("Cache-Control")))
    st, _, r = anon.raw("GET", path14)
    T.check("an anonymous tile is public, no-cache", r.getheader("Cache-Control") == "public, no-cache")
    st, body, r = member.raw("GET", path14, headers={"If-None-Match": etag})
    T.check("If-None-Match with the ETag: 304, no body", st == 304 and body == b"")
    st, body, r = member.raw("GET", path14, headers={"If-None-Match": '"0000000000000000", ' + etag})
    T.check("If-None-Match listing the ETag among others: 304", st == 304)
    st, body, r = member.raw("GET", path14, headers={"Accept-Encoding": "gzip, deflate"})
    T.check("gzip when accepted, the same tile inflated",
            st == 200 and r.getheader("Content-Encoding") == "gzip" and gzip.decompress(body) == plain)
    st, body, r = member.raw("GET", path14, headers={"Accept-Encoding": "gzip;q=0, identity"})
    T.check("no gzip when refused with q=0", st == 200 and r.getheader("Content-Encoding") is None
            and body == plain)
    # A tile's first answer (drawn, then cached) and the later ones (from the
    # responses prepared with the cache entry) are the same, header for header.
    keys = ("Content-Type", "Content-Encoding", "Content-Length", "ETag", "Cache-Control", "Vary",
            "X-Content-Type-Options")
    fresh = "/tiles/15/%d/%d.mvt" % (2 * x14 + 1, 2 * y14 + 1)
    for who, client in (("anonymous", anon), ("member", member)):
        gz = [client.raw("GET", fresh, headers={"Accept-Encoding": "gzip"}) for _ in range(3)]
        T.check("%s: a new tile's first gzip answer and the next ones are identical" % who,
                all(a[0] == 200 and a[1] == gz[0][1] for a in gz)
                and all([a[2].getheader(k) for k in keys] == [gz[0][2].getheader(k) for k in keys]
                        for a in gz) and gz[0][2].getheader("Content-Encoding") == "gzip",
                [(a[0], [a[2].getheader(k) for k in keys]) for a in gz])
        tag = gz[0][2].getheader("ETag")
        nm = [client.raw("GET", fresh, headers={"If-None-Match": tag}) for _ in range(2)]
        T.check("%s: 304s from the prepared response carry the ETag and caching headers" % who,
                all(a[0] == 304 and a[1] == b"" and a[2].getheader("ETag") == tag
                    and a[2].getheader("Cache-Control") == gz[0][2].getheader("Cache-Control")
                    and a[2].getheader("Vary") == "Accept-Encoding, Cookie" for a in nm))
        st, body, r = client.raw("GET", fresh)
        T.check("%s: without gzip, the inflated bytes with the same ETag" % who,
                st == 200 and r.getheader("Content-Encoding") is None
                and gzip.decompress(gz[0][1]) == body and r.getheader("ETag") == tag)

    # ---- changes drop exactly their tiles ----
    st, doc, _ = member.req("POST", "/api/posts", {"kind": "request", "category": "pets",
                                                   "title": "Promener mon chien", "body": "Le matin"})
    T.check("member posts a request", st == 201, doc)
    pid = doc["id"]
    plon, plat = point_of(db.sql("SELECT geom FROM posts WHERE id = ?", pid)[0][0])
    for z in (4, 10, 14, 16):
        x, y = tile_xy(plon, plat, z)[:2]
        st, body, r = member.raw("GET", "/tiles/%d/%d/%d.mvt" % (z, x, y))
        etag16 = r.getheader("ETag")
        needs = decode_tile(body, db.work).get("needs", [])
        needs16 = needs
        want = sum(1 for _, lon, lat, _ in needs_of(db, seen) if in_tile(lon, lat, z, x, y))
        T.check("z%d: the new post is in the tile at once (%d needs)" % (z, want),
                counted(needs) == want and (z < 16 or any(f.get("id") == pid for f in needs)
                                            or any("point_count" in f for f in needs)))
    x, y = tile_xy(plon, plat, 16)[:2]
    far_path = "/tiles/16/%d/%d.mvt" % (x + 3, y + 3)
    st, _, r = member.raw("GET", far_path)
    far_etag = r.getheader("ETag")
    other = db.sql("SELECT id FROM posts WHERE author_id != ? AND status = 'open' AND neighbourhood_id = ? "
                   "ORDER BY id LIMIT 1", me_id, nb)[0][0]
    st, doc, _ = member.req("POST", "/api/posts/%d/report" % other, {"reason": "spam"})
    T.check("a member reports a post", st in (200, 201), doc)
    st, doc, _ = staff.req("GET", "/api/posts?reported=1&limit=100")
    T.check("staff list the reported posts (reported=1)",
            st == 200 and other in [f["id"] for f in doc["features"]]
            and all(f["properties"].get("reports", 0) > 0 for f in doc["features"]), doc)
    st, doc, _ = member.req("GET", "/api/posts?reported=1")
    T.check("reported=1 is for staff: 403", st == 403)
    st, doc, _ = staff.req("POST", "/api/posts/%d/hide" % pid, {"reason": "test"})
    T.check("staff hide the post", st == 200, doc)
    # The post may sit in a cluster, which shows no ids: the tile must count
    # one point fewer than before, as many as the store's visible needs there.
    st, body, _ = member.raw("GET", "/tiles/16/%d/%d.mvt" % (x, y))
    after = decode_tile(body, db.work).get("needs", [])
    want = sum(1 for _, lon, lat, _ in needs_of(db, seen) if in_tile(lon, lat, 16, x, y))
    T.check("the hidden post left its tile (no feature of its id, one point fewer, clusters counted)",
            all(f.get("id") != pid for f in after) and counted(after) == counted(needs16) - 1 == want,
            (counted(needs16), counted(after), want))
    st, body2, r = member.raw("GET", "/tiles/16/%d/%d.mvt" % (x, y), headers={"If-None-Match": etag16})
    T.check("the changed tile's old ETag gets the new tile, not a 304 (nor a stale prepared answer)",
            st == 200 and r.getheader("ETag") != etag16 and body2 == body)
    st, _, r = member.raw("GET", far_path, headers={"If-None-Match": far_etag})
    T.check("a tile away from the change is still the cached one (304)", st == 304)

    # A shop changed by the owner through the API, then by another process.
    sid, sgeom = db.sql("SELECT id, geom FROM shops WHERE owner_id IS NULL ORDER BY id LIMIT 1")[0]
    slon, slat = point_of(sgeom)
    spath = "/tiles/16/%d/%d.mvt" % tile_xy(slon, slat, 16)[:2]
    anon.raw("GET", spath)  # cached before the change
    st, doc, _ = shop.req("POST", "/api/shops/%d/claim" % sid)
    st, doc, _ = staff.req("POST", "/api/shop-claims/%d/approve" % doc["id"])
    T.check("staff approve the shop account's claim", st == 200 and doc["status"] == "approved", doc)
    st, doc, _ = shop.req("PATCH", "/api/shops/%d" % sid, {"status": "open", "delivers": True})
    T.check("the owner marks the shop open and delivering", st == 200, doc)
    st, doc, _ = shop.req("GET", "/api/shops?mine=1")
    T.check("the owner finds the shop among their own (mine=1)",
            st == 200 and sid in [f["id"] for f in doc["features"]]
            and all(f["properties"]["mine"] for f in doc["features"]), doc)
    st, doc, _ = anon.req("GET", "/api/shops?mine=1")
    T.check("mine=1 without a session: 401", st == 401)
    st, me, _ = member.req("GET", "/api/me")
    T.check("/api/me gives the CSRF token and the neighbourhood's centre",
            me["csrf"] == member.csrf and len(me["neighbourhood"]["center"]) == 2
            and ext[0] <= me["neighbourhood"]["center"][0] <= ext[2], me)
    st, body, _ = anon.raw("GET", spath)
    f = [f for f in decode_tile(body, db.work).get("shops", []) if f.get("id") == sid]
    T.check("the shop's tile shows it open, delivering, confirmed",
            f and f[0]["status"] == "open" and f[0]["delivers"] == 1 and f[0]["confirmed"] == 1, f)
    db.write("UPDATE shops SET status = 'closed' WHERE id = ?", sid)
    st, body, _ = anon.raw("GET", spath)
    f = [f for f in decode_tile(body, db.work).get("shops", []) if f.get("id") == sid]
    T.check("a change by another process reaches the tile", f and f[0]["status"] == "closed", f)
    # More changes of needs than the tile service keeps for its next request
    # (8,192), read by list requests alone: the next tile request reloads the
    # needs whole. Every visible need is hidden, then half come back.
    x, y = tile_xy(lon0, lat0, 12)[:2]
    path12 = "/tiles/12/%d/%d.mvt" % (x, y)
    staff.raw("GET", path12)
    for rnd in range(3):
        db.write("UPDATE posts SET hidden = 1")
        staff.req("GET", "/api/posts?limit=1")
        db.write("UPDATE posts SET hidden = 0" + (" WHERE id % 2 = 0" if rnd == 2 else ""))
        staff.req("GET", "/api/posts?limit=1")
    want = sum(1 for _, lon, lat, _ in needs_of(db, None) if in_tile(lon, lat, 12, x, y))
    got = counted(decode_tile(staff.raw("GET", path12)[1], db.work).get("needs", []))
    T.check("%d changes of needs seen by lists only reach the next tile (reload): %d needs"
            % (db.sql("SELECT count(*) FROM posts")[0][0] * 6, want),
            0 < want < len(everything) and got == want, (got, want))
    db.write("UPDATE posts SET hidden = 0")
    # The same, with the change feed pruned past the server's position (more
    # than the 100,000 changes it keeps): the server reloads, drops its tiles.
    db.write("UPDATE shops SET status = 'open' WHERE id = ?", sid)
    db.write(FEED_FLOOD % "shops")
    st, body, _ = anon.raw("GET", spath)
    f = [f for f in decode_tile(body, db.work).get("shops", []) if f.get("id") == sid]
    T.check("a change lost in a pruned feed still reaches the tile (reload)", f and f[0]["status"] == "open", f)

    # A neighbourhood re-imported by another process under a new name: the
    # server reloads its polygons and drops its tiles.
    nid, nname = db.sql("SELECT id, name FROM neighbourhoods WHERE id = ?", nb)[0]
    npath = "/tiles/14/%d/%d.mvt" % (x14, y14)
    def drawn(client):
        return {f["id"]: f for f in decode_tile(client.raw("GET", npath)[1], db.work)
                .get("neighbourhoods", []) if "label" not in f}
    before = drawn(anon)
    T.check("the member's neighbourhood is drawn in their busiest tile",
            nid in before and before[nid]["name"] == nname, sorted(before))
    with open(os.path.join(SAMPLE, "neighbourhoods.geojson")) as fh:
        fc = json.load(fh)
    for feat in fc["features"]:
        if str(feat["properties"]["id"]) == nid:
            feat["properties"]["name"] = "Quartier renommé"
    renamed = os.path.join(db.work, "renamed.geojson")
    with open(renamed, "w") as fh:
        json.dump(fc, fh)
    db.run("import", "neighbourhoods", renamed, "--db", db.path)
    after = drawn(anon)
    T.check("a re-imported neighbourhood's new name reaches the tile (polygons reloaded)",
            nid in after and after[nid]["name"] == "Quartier renommé", after.get(nid))
    T.check("the other neighbourhoods of the tile are drawn as before",
            {k: v for k, v in after.items() if k != nid} == {k: v for k, v in before.items() if k != nid})

    check_streets(db, anon)

    st, body, _ = anon.metrics()
    text = body.decode()
    hits = [l for l in text.splitlines() if l.startswith("mapd_tile_cache_hits_total ")]
    inval = [l for l in text.splitlines() if l.startswith("mapd_tile_cache_invalidations_total ")]
    T.check("metrics: cache hits and invalidations counted",
            hits and int(hits[0].split()[1]) > 0 and inval and int(inval[0].split()[1]) > 0, hits + inval)
    T.check("server stops cleanly", srv.stop() == 0)

    # ---- the size budget, and no cache ----
    srv = Server(db, "--tile-max-kb", "3", "--tile-cache-mb", "0", "--attribution", "Quartiers : test")
    st, tj, _ = Client(srv, "anonymous", T).req("GET", "/tiles.json")
    T.check("--attribution reaches the TileJSON", tj["attribution"] == "Quartiers : test", tj["attribution"])
    staff = Client(srv, "staff", T)
    staff.login("moderation@entraide.example", DEMO_PASSWORD)
    x, y = tile_xy(lon0, lat0, 12)[:2]
    st, body, _ = staff.raw("GET", "/tiles/12/%d/%d.mvt" % (x, y))
    layers = decode_tile(body, db.work)
    want = sum(1 for _, lon, lat, _ in needs_of(db, None) if in_tile(lon, lat, 12, x, y))
    T.check("a tile over a 3 KB budget is drawn with less detail, within it, nothing lost",
            st == 200 and 0 < len(body) <= 3 * 1024 and counted(layers.get("needs", [])) == want,
            (st, len(body), counted(layers.get("needs", [])), want))
    x, y = tile_xy(lon0, lat0, 14)[:2]
    st, body, _ = staff.raw("GET", "/tiles/14/%d/%d.mvt" % (x, y))
    T.check("a z14 tile, streets and all, over a 3 KB budget is drawn within it",
            st == 200 and 0 < len(body) <= 3 * 1024, (st, len(body)))
    x, y = tile_xy(lon0, lat0, 12)[:2]
    st, _, r = staff.raw("GET", "/tiles/12/%d/%d.mvt" % (x, y))
    st, body, _ = staff.metrics()
    T.check("--tile-cache-mb 0: no cache, tiles still served",
            st == 200 and "mapd_tile_cache_hits_total 0" in body.decode())
    T.check("server stops cleanly", srv.stop() == 0)

    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
