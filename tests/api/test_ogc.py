#!/usr/bin/env python3
"""tests/api/test_ogc.py MAPD SAMPLE_DIR — OGC API – Features (Parts 1 and 2)
under /ogc against a real `mapd serve`: a local re-implementation of what
OGC's executable test suite (ets-ogcapi-features10, and Part 2's CRS rules)
checks, plus this service's own rules (who sees what, privacy, bounds).

Expected results come from the database file itself (plain SQL, the point
read from SpatiaLite's BLOB header) and, for Lambert-93, from GDAL's
`gdaltransform` CLI — never from the server's own code. The OpenAPI
document is validated by @seriousme/openapi-schema-validator
(tests/api/package.json) when its node_modules are installed.
"""
import json
import os
import re
import struct
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, Database, Server, Suite  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
check = T.check
PASSWORD = "entraide-demo"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG2154 = "http://www.opengis.net/def/crs/EPSG/0/2154"
HERE = os.path.dirname(os.path.abspath(__file__))


def Q(text):
    return urllib.parse.quote(text, safe="")


def point_of(blob):
    endian = "<" if blob[1] == 1 else ">"
    minx, miny = struct.unpack(endian + "dd", blob[6:22])
    return minx, miny


def get(client, url, headers=None):
    """(status, doc or None, response) for an absolute or /ogc path."""
    path = url.split("://", 1)[1].split("/", 1)[1] if "://" in url else url
    st, body, r = client.raw("GET", "/" + path.lstrip("/"), headers=headers)
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    return st, doc, r


def is_problem(st, doc, r, status=400):
    return (st == status and (r.getheader("Content-Type") or "").startswith("application/problem+json")
            and doc and doc.get("detail"))


def rels(doc):
    return {l["rel"]: l for l in doc.get("links", [])}


def all_pages(client, url, limit):
    """Every feature, following next links; (features, pages, numberMatched)."""
    feats, pages, matched = [], 0, None
    url = url + ("&" if "?" in url else "?") + "limit=%d" % limit
    while url and pages < 1000:
        st, doc, _ = get(client, url)
        if st != 200:
            return None, pages, matched
        pages += 1
        matched = doc["numberMatched"]
        check_count = doc["numberReturned"] == len(doc["features"])
        if not check_count:
            return None, pages, matched
        feats += doc["features"]
        url = rels(doc).get("next", {}).get("href")
    return feats, pages, matched


def gdaltransform(points, src="EPSG:4326", dst="EPSG:2154"):
    """Points (lon, lat) moved by GDAL's CLI (lon/lat order in, -s_srs given
    with traditional GIS order)."""
    text = "".join("%r %r\n" % p for p in points)
    out = subprocess.run(["gdaltransform", "-s_srs", src, "-t_srs", dst, "-output_xy"],
                         input=text, capture_output=True, text=True, check=True).stdout
    return [tuple(map(float, l.split()[:2])) for l in out.splitlines() if l.strip()]


def check_landing(anon, base):
    for path in ("/ogc", "/ogc/"):
        st, doc, r = get(anon, path)
        links = rels(doc or {})
        check("landing %s: 200 JSON" % path, st == 200 and r.getheader("Content-Type") == "application/json")
        check("landing links self, service-desc, conformance, data (absolute, one base URL)",
              all(k in links for k in ("self", "service-desc", "conformance", "data"))
              and all(l["href"].startswith(base) for l in doc["links"]), links)
        check("service-desc is OpenAPI 3.0 JSON",
              links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0")
        check("conformance and data links are JSON", links["conformance"]["type"] == "application/json"
              and links["data"]["type"] == "application/json")
    st, doc, _ = get(anon, "/ogc/conformance")
    want = {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"}
    check("conformance: Part 1 core, geojson, oas30 and Part 2 crs", st == 200 and want <= set(doc["conformsTo"]))
    st, doc, r = get(anon, "/ogc/conformance?foo=1")
    check("an unknown parameter on /ogc/conformance: 400 problem", is_problem(st, doc, r))


def check_openapi(anon, db):
    st, doc, r = get(anon, "/ogc/api")
    check("/ogc/api: OpenAPI 3.0 media type", st == 200 and r.getheader("Content-Type")
          == "application/vnd.oai.openapi+json;version=3.0")
    check("/ogc/api: openapi 3.0.x", doc["openapi"].startswith("3.0."))
    limit = doc["components"]["parameters"]["limit"]["schema"]
    check("limit declared as integer with minimum 1, maximum 10000, default 10",
          limit == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}, limit)
    for c in ("shops", "neighbourhoods", "needs", "makers"):
        check("the document has the items of %s" % c, "/collections/%s/items" % c in doc["paths"]
              and "/collections/%s/items/{featureId}" % c in doc["paths"])
    names = [p.get("name") or p.get("$ref", "").split("/")[-1]
             for p in doc["paths"]["/collections/needs/items"]["get"]["parameters"]]
    check("needs items declare datetime and their queryables",
          {"datetime", "category", "status", "neighbourhood", "bbox", "crs", "bbox-crs"} <= set(names), names)
    validator = os.path.join(HERE, "node_modules", "@seriousme", "openapi-schema-validator")
    if os.path.isdir(validator):
        path = os.path.join(db.work, "ogc_openapi.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        script = ("import {Validator} from '@seriousme/openapi-schema-validator';"
                  "const v = new Validator(); const r = await v.validate(process.argv[1]);"
                  "console.log(JSON.stringify(r)); process.exit(r.valid ? 0 : 1);")
        p = subprocess.run(["node", "--input-type=module", "-e", script, path], cwd=HERE,
                           capture_output=True, text=True)
        check("/ogc/api is valid OpenAPI 3.0 (@seriousme/openapi-schema-validator)", p.returncode == 0,
              p.stdout[-2000:] + p.stderr[-1000:])
    else:
        check("the OpenAPI validator is installed (npm ci in tests/api)", False, validator)


def check_collections(anon, member, staff, db, base):
    st, doc, r = get(anon, "/ogc/collections")
    ids = [c["id"] for c in doc["collections"]]
    check("anonymous: shops and neighbourhoods listed, needs and makers not",
          st == 200 and set(ids) == {"shops", "neighbourhoods"}, ids)
    check("/ogc/collections links self", rels(doc)["self"]["href"] == base + "/collections")
    st, doc, _ = get(member, "/ogc/collections")
    check("a member: all four collections", {c["id"] for c in doc["collections"]}
          == {"shops", "neighbourhoods", "needs", "makers"})
    nb_box = db.sql("SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)), "
                    "max(MbrMaxY(geom)) FROM neighbourhoods")[0] if False else None
    for c in doc["collections"]:
        links = rels(c)
        ext = c["extent"]["spatial"]
        box = ext["bbox"][0]
        check("%s: links self and items (application/geo+json)" % c["id"],
              links["self"]["href"] == "%s/collections/%s" % (base, c["id"])
              and links["items"]["type"] == "application/geo+json"
              and links["items"]["href"] == "%s/collections/%s/items" % (base, c["id"]))
        check("%s: CRS84 extent, minimums first, around Paris" % c["id"],
              ext.get("crs", CRS84) == CRS84 and len(box) == 4 and box[0] <= box[2] and box[1] <= box[3]
              and -180 <= box[0] <= 180 and -90 <= box[1] <= 90 and 2 < box[0] < 3 and 48 < box[1] < 49, box)
        check("%s: crs lists CRS84, EPSG:4326 and EPSG:2154; storageCrs CRS84" % c["id"],
              {CRS84, EPSG4326, EPSG2154} <= set(c["crs"]) and c["storageCrs"] == CRS84)
        st1, one, _ = get(member, "/ogc/collections/" + c["id"])
        check("/ogc/collections/%s: the same description" % c["id"], st1 == 200 and one["id"] == c["id"]
              and one["extent"] == c["extent"])
    st, doc, r = get(anon, "/ogc/collections/nothing")
    check("an unknown collection: 404 problem", is_problem(st, doc, r, 404))
    st, doc, r = get(anon, "/ogc/collections/nothing/items")
    check("items of an unknown collection: 404 problem", is_problem(st, doc, r, 404))
    for c in ("needs", "makers"):
        st, doc, r = get(anon, "/ogc/collections/%s/items" % c)
        check("anonymous %s items: 401 problem" % c, is_problem(st, doc, r, 401))
    st, doc, r = get(anon, "/ogc/collections/shops/queryables")
    check("queryables: a JSON Schema (application/schema+json) of category, status, neighbourhood",
          st == 200 and r.getheader("Content-Type") == "application/schema+json"
          and set(doc["properties"]) == {"category", "status", "neighbourhood"}
          and doc["type"] == "object" and "$schema" in doc, doc)
    st, doc, _ = get(staff, "/ogc/collections/needs/queryables")
    check("needs queryables: category, status, neighbourhood with their values",
          st == 200 and "expired" in doc["properties"]["status"]["enum"]
          and "groceries" in doc["properties"]["category"]["enum"], doc)


def check_items(anon, db, base):
    n_shops = db.sql("SELECT count(*) FROM shops")[0][0]
    st, doc, r = get(anon, "/ogc/collections/shops/items")
    check("shops items: 200 application/geo+json", st == 200
          and r.getheader("Content-Type") == "application/geo+json")
    check("default limit 10; numberReturned, numberMatched (== the store's count)",
          len(doc["features"]) == 10 and doc["numberReturned"] == 10 and doc["numberMatched"] == n_shops,
          (doc.get("numberMatched"), n_shops))
    check("timeStamp is RFC 3339", re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", doc["timeStamp"]))
    links = rels(doc)
    check("items link self and next (geo+json, absolute)", links["self"]["type"] == "application/geo+json"
          and links["next"]["href"].startswith(base + "/collections/shops/items?"))
    check("Content-Crs is CRS84 by default", r.getheader("Content-Crs") == "<%s>" % CRS84)
    check("Cache-Control public for shops", (r.getheader("Cache-Control") or "").startswith("public"))
    f = doc["features"][0]
    check("a feature: type, id, Point geometry, properties without private fields",
          f["type"] == "Feature" and f["geometry"]["type"] == "Point" and "name" in f["properties"]
          and "owner_id" not in f["properties"], f)
    etag = r.getheader("ETag")
    st, _, r = anon.raw("GET", "/ogc/collections/shops/items", headers={"If-None-Match": etag})
    check("strong ETag and If-None-Match: 304", etag and not etag.startswith("W/") and st == 304)

    feats, pages, matched = all_pages(anon, "/ogc/collections/shops/items", 100)
    ids = [x["id"] for x in feats or []]
    sql_ids = [i for (i,) in db.sql("SELECT id FROM shops ORDER BY id")]
    check("paging: next links reach every shop once, sum == numberMatched (%d pages)" % pages,
          ids == sql_ids and len(ids) == matched)
    st, doc, _ = get(anon, "/ogc/collections/shops/items?limit=20000")
    check("limit 20000 is capped at 10000: every shop in one page",
          st == 200 and doc["numberReturned"] == n_shops and "next" not in rels(doc))
    st, doc, _ = get(anon, "/ogc/collections/shops/items?limit=5&offset=10")
    check("offset: a prev link", st == 200 and "prev" in rels(doc) and [x["id"] for x in doc["features"]]
          == sql_ids[10:15])
    for bad in ("abc", "-1", "0", "1.5", "", "10x"):
        st, doc, r = get(anon, "/ogc/collections/shops/items?limit=" + urllib.parse.quote(bad))
        check("limit=%r: 400 problem" % bad, is_problem(st, doc, r), (st, doc))
    for q, why in (("foo=1", "unknown parameter"), ("f=xml", "unknown format"),
                   ("limit=1&limit=2", "repeated parameter"), ("datetime=2020-01-01T00:00:00Z", "datetime on shops"),
                   ("status=nope", "unknown status value")):
        st, doc, r = get(anon, "/ogc/collections/shops/items?" + q)
        check("%s: 400 problem" % why, is_problem(st, doc, r), (st, doc))
    st, doc, _ = get(anon, "/ogc/collections/shops/items?f=json&limit=1")
    check("f=json is accepted", st == 200)

    # bbox: the same ids as the store's own box query on the file
    rows = db.sql("SELECT id, geom FROM shops ORDER BY id")
    pts = {i: point_of(g) for i, g in rows}
    box = (2.29, 48.83, 2.39, 48.88)
    want = [i for i, (x, y) in pts.items() if box[0] <= x <= box[2] and box[1] <= y <= box[3]]
    feats, _, matched = all_pages(anon, "/ogc/collections/shops/items?bbox=%g,%g,%g,%g" % box, 1000)
    check("bbox: the ids of the store's box query (%d shops)" % len(want),
          [x["id"] for x in feats] == want and matched == len(want))
    st, doc, _ = get(anon, "/ogc/collections/shops/items?limit=1000&bbox=%g,%g,0,%g,%g,100" % box)
    check("bbox of 6 numbers (heights ignored)", st == 200 and doc["numberMatched"] == len(want))
    for b, why in (("2.39,48.83,2.29,48.88", "west > east"), ("2.29,48.88,2.39,48.83", "south > north"),
                   ("1,2,3", "3 numbers"), ("1,2,3,4,5", "5 numbers"), ("a,b,c,d", "not numbers"),
                   ("-200,48,2,49", "longitude out of range"), ("2,-95,3,49", "latitude out of range")):
        st, doc, r = get(anon, "/ogc/collections/shops/items?bbox=" + b)
        check("bbox %s: 400 problem" % why, is_problem(st, doc, r), (st, doc))
    return pts, want, box


def check_single(anon, db):
    sid = db.sql("SELECT min(id) FROM shops")[0][0]
    st, doc, r = get(anon, "/ogc/collections/shops/items/%d" % sid)
    check("a single shop: Feature, links self and collection, geo+json",
          st == 200 and doc["type"] == "Feature" and doc["id"] == sid
          and {"self", "collection"} <= set(rels(doc)) and r.getheader("Content-Type") == "application/geo+json")
    check("a single feature carries Content-Crs", r.getheader("Content-Crs") == "<%s>" % CRS84)
    for fid in ("999999999", "abc", "0", "01"):
        st, doc, r = get(anon, "/ogc/collections/shops/items/" + fid)
        check("feature %r: 404 problem" % fid, is_problem(st, doc, r, 404), (st, doc))
    nb = db.sql("SELECT id, name FROM neighbourhoods ORDER BY id LIMIT 1")[0]
    st, doc, _ = get(anon, "/ogc/collections/neighbourhoods/items/" + nb[0])
    check("a neighbourhood by its text id: a MultiPolygon with its name",
          st == 200 and doc["id"] == nb[0] and doc["geometry"]["type"] == "MultiPolygon"
          and doc["properties"]["name"] == nb[1])
    st, doc, r = get(anon, "/ogc/collections/shops/items/%d?limit=1" % sid)
    check("limit on a single feature: 400", is_problem(st, doc, r))


def check_crs(anon, db, pts, want, box):
    sid = min(pts)
    st, doc, r = get(anon, "/ogc/collections/shops/items/%d?crs=%s" % (sid, Q(EPSG2154)))
    lx, ly = gdaltransform([pts[sid]])[0]
    x, y = doc["geometry"]["coordinates"] if st == 200 else (0, 0)
    check("crs EPSG:2154: Lambert-93 as gdaltransform gives it (within 1 mm)",
          abs(x - lx) < 0.001 and abs(y - ly) < 0.001, ((x, y), (lx, ly)))
    check("crs EPSG:2154: Content-Crs names it", r.getheader("Content-Crs") == "<%s>" % EPSG2154)
    st, doc, r = get(anon, "/ogc/collections/shops/items/%d?crs=%s" % (sid, Q(EPSG4326)))
    lat, lon = doc["geometry"]["coordinates"]
    check("crs EPSG:4326: lat, lon axis order", abs(lat - pts[sid][1]) < 1e-8 and abs(lon - pts[sid][0]) < 1e-8
          and r.getheader("Content-Crs") == "<%s>" % EPSG4326)
    st, doc, r = get(anon, "/ogc/collections/shops/items?limit=3&crs=" + Q(CRS84))
    check("crs CRS84 named: lon, lat", st == 200 and r.getheader("Content-Crs") == "<%s>" % CRS84)
    for q in ("crs=EPSG:3857", "crs=" + urllib.parse.quote("http://www.opengis.net/def/crs/EPSG/0/3857", safe=""),
              "bbox-crs=EPSG:27572&bbox=1,2,3,4"):
        st, doc, r = get(anon, "/ogc/collections/shops/items?" + q)
        check("an unsupported CRS (%s): 400 problem" % q, is_problem(st, doc, r), (st, doc))
    # bbox-crs EPSG:4326: lat, lon order, the same features
    q = "bbox=%g,%g,%g,%g&bbox-crs=%s&limit=1000" % (box[1], box[0], box[3], box[2], Q(EPSG4326))
    st, doc, _ = get(anon, "/ogc/collections/shops/items?" + q)
    check("bbox-crs EPSG:4326 (lat, lon): the same shops", st == 200 and [f["id"] for f in doc["features"]] == want)
    # bbox-crs EPSG:2154: every shop whose Lambert-93 point is in the box comes back
    ids = sorted(pts)
    l93 = dict(zip(ids, gdaltransform([pts[i] for i in ids])))
    lbox = (648000.0, 6858000.0, 654000.0, 6864000.0)
    inside = {i for i, (x, y) in l93.items() if lbox[0] <= x <= lbox[2] and lbox[1] <= y <= lbox[3]}
    q = "bbox=%.1f,%.1f,%.1f,%.1f&bbox-crs=%s&crs=%s&limit=10000" % (lbox + (Q(EPSG2154),
                                                                   Q(EPSG2154)))
    st, doc, _ = get(anon, "/ogc/collections/shops/items?" + q)
    got = {f["id"] for f in doc["features"]} if st == 200 else set()
    near = all(lbox[0] - 200 <= f["geometry"]["coordinates"][0] <= lbox[2] + 200
               and lbox[1] - 200 <= f["geometry"]["coordinates"][1] <= lbox[3] + 200 for f in doc["features"])
    check("bbox-crs EPSG:2154: every shop in the Lambert-93 box (%d), none far outside" % len(inside),
          inside and inside <= got and near, (len(inside), len(got)))
    st, doc, r = get(anon, "/ogc/collections/shops/items?bbox=0,0,10,10&bbox-crs=" + Q(EPSG2154))
    check("bbox out of EPSG:2154's range: 400 problem", is_problem(st, doc, r))
    st, doc, _ = get(anon, "/ogc/collections/neighbourhoods/items?limit=1&crs=" + Q(EPSG2154))
    x, y = doc["features"][0]["geometry"]["coordinates"][0][0][0]
    check("neighbourhood polygons in Lambert-93 metres", 600000 < x < 700000 and 6800000 < y < 6900000, (x, y))


def check_needs(anon, member, staff, db, member_nb):
    now = int(time.time())
    visible = {member_nb} | {b for (b,) in db.sql("SELECT b FROM neighbourhood_contiguity WHERE a = ?", member_nb)}
    # one hidden post, one expired open post, one with a long body, written by another process
    open_ids = [i for (i,) in db.sql("SELECT id FROM posts WHERE status = 'open' AND neighbourhood_id = ? "
                                     "ORDER BY id LIMIT 2", member_nb)]
    db.write("UPDATE posts SET hidden = 1 WHERE id = ?", open_ids[0])
    db.write("UPDATE posts SET expires_at = ? WHERE id = ?", now - 60, open_ids[1])
    rows = db.sql("SELECT id, neighbourhood_id, hidden FROM posts ORDER BY id")
    want_member = [i for i, nb, h in rows if nb in visible and not h]
    feats, pages, matched = all_pages(member, "/ogc/collections/needs/items", 500)
    got = [f["id"] for f in feats or []]
    check("a member's needs: those of their and the contiguous neighbourhoods, no hidden one (%d)" % len(want_member),
          got == want_member and matched == len(want_member))
    st, doc, r = get(member, "/ogc/collections/needs/items/%d" % open_ids[1])
    check("an open need past expiry reads expired", st == 200 and doc["properties"]["status"] == "expired")
    check("Cache-Control private, no-store for needs", "private" in (r.getheader("Cache-Control") or "")
          and "no-store" in r.getheader("Cache-Control"))
    st, doc, r = get(member, "/ogc/collections/needs/items/%d" % open_ids[0])
    check("a hidden need: 404 for a member", st == 404)
    st, doc, _ = get(staff, "/ogc/collections/needs/items/%d" % open_ids[0])
    check("staff see a hidden need", st == 200 and doc["properties"]["hidden"] is True)
    total = db.sql("SELECT count(*) FROM posts")[0][0]
    st, doc, _ = get(staff, "/ogc/collections/needs/items?limit=1")
    check("staff: every need (%d)" % total, st == 200 and doc["numberMatched"] == total)
    st, doc, _ = get(staff, "/ogc/collections/needs/items?status=expired&limit=1000")
    exp = db.sql("SELECT count(*) FROM posts WHERE status = 'open' AND expires_at <= ?", int(time.time()))[0][0]
    check("status=expired (%d)" % exp, st == 200 and doc["numberMatched"] == exp
          and all(f["properties"]["status"] == "expired" for f in doc["features"]))
    cat = "groceries"
    n = db.sql("SELECT count(*) FROM posts WHERE category = ? AND neighbourhood_id = ?", cat, member_nb)[0][0]
    st, doc, _ = get(staff, "/ogc/collections/needs/items?category=%s&neighbourhood=%s" % (cat, member_nb))
    check("category and neighbourhood filters (%d)" % n, st == 200 and doc["numberMatched"] == n)
    # datetime: created_at, both ends included, open ends with ..
    times = sorted(t for (t,) in db.sql("SELECT created_at FROM posts"))
    mid = times[len(times) // 2]
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mid))
    for dt, cond in ((iso + "/..", lambda t: t >= mid), ("../" + iso, lambda t: t <= mid),
                     (iso, lambda t: t == mid), ("%s/%s" % (iso, iso), lambda t: t == mid)):
        n = sum(1 for t in times if cond(t))
        st, doc, _ = get(staff, "/ogc/collections/needs/items?limit=1&datetime=" + urllib.parse.quote(dt))
        check("datetime %s: %d needs" % (dt, n), st == 200 and doc["numberMatched"] == n, (st, doc and doc.get("numberMatched")))
    for dt in ("yesterday", "2020-13-01T00:00:00Z", "2020-01-01T00:00:00", "2021-01-01T00:00:00Z/2020-01-01T00:00:00Z",
               "/", "2020-01-01/2020-02-01/2020-03-01"):
        st, doc, r = get(staff, "/ogc/collections/needs/items?datetime=" + urllib.parse.quote(dt))
        check("datetime %r: 400 problem" % dt, is_problem(st, doc, r), (st, doc))
    # the needs' coarse points: the posts' own public points
    geoms = dict(db.sql("SELECT id, geom FROM posts"))
    f = feats[0]
    px, py = point_of(geoms[f["id"]])
    fx, fy = f["geometry"]["coordinates"]
    check("a need is at its post's public point (within 1e-7 degree)", abs(fx - px) < 1e-7 and abs(fy - py) < 1e-7)
    st, doc, _ = get(member, "/ogc/collections/makers/items?limit=1000")
    makers = db.sql("SELECT k.member_id FROM makers k JOIN members m ON m.id = k.member_id "
                    "WHERE m.neighbourhood_id IN (%s) ORDER BY 1" % ",".join("?" * len(visible)), *visible)
    check("a member's makers: those of their area, public fields only",
          st == 200 and [f["id"] for f in doc["features"]] == [i for (i,) in makers]
          and all(set(f["properties"]) <= {"display_name", "capacity_per_day", "stock", "materials",
                                           "materials_post", "neighbourhood"} for f in doc["features"]))


def check_cache(anon, db):
    sid = db.sql("SELECT min(id) FROM shops")[0][0]
    url = "/ogc/collections/shops/items?limit=1"
    get(anon, url)
    st, doc, _ = get(anon, url)
    before = doc["features"][0]["properties"]["status"]
    new = "closed" if before != "closed" else "open"
    db.write("UPDATE shops SET status = ? WHERE id = ?", new, sid)
    st, doc, _ = get(anon, url)
    check("a kept page follows a change made by another process", doc["features"][0]["properties"]["status"] == new)


def privacy_sweep(db):
    emails = [e for (e,) in db.sql("SELECT email FROM members")]
    addresses = [a for (a,) in db.sql("SELECT address_text FROM members WHERE address_text IS NOT NULL")]
    bodies = [b for (b,) in db.sql("SELECT body FROM posts WHERE length(body) > 25")]
    homes = db.sql("SELECT home_lon, home_lat FROM members WHERE home_lon IS NOT NULL")
    authors = [n for (n,) in db.sql("SELECT DISTINCT m.display_name FROM posts p JOIN members m ON m.id = p.author_id "
                                    "WHERE m.id NOT IN (SELECT member_id FROM makers) AND length(m.display_name) > 5")]
    ogc = [(label, text) for label, text in T.bodies if "/ogc" in label]
    leaks = []
    for label, text in ogc:
        for e in emails:
            if e in text:
                leaks.append((label, "email"))
        for a in addresses:
            if a and a in text:
                leaks.append((label, "address"))
        for b in bodies[:400]:
            if json.dumps(b)[1:-1] in text:
                leaks.append((label, "body"))
        for n in authors[:200]:
            if json.dumps(n)[1:-1] in text:
                leaks.append((label, "author name"))
        for lon, lat in homes[:400]:
            if repr(lon) in text and repr(lat) in text:
                leaks.append((label, "home point"))
    check("privacy sweep over %d /ogc responses: no email, address, body, author name or home" % len(ogc),
          not leaks and len(ogc) > 50, leaks[:5])


def main():
    db = Database(MAPD, "entraide-ogc.")
    db.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", db.path)
    db.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", db.path)
    db.run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", db.path)
    db.run("seed", "--db", db.path, "--posts", "3000")
    srv = Server(db)
    base = "http://127.0.0.1:%d/ogc" % srv.port
    try:
        anon, member, staff = Client(srv, "anon", T), Client(srv, "member", T), Client(srv, "staff", T)
        check("member logs in", member.login("benevole@entraide.example", PASSWORD)[0] == 200)
        check("staff log in", staff.login("moderation@entraide.example", PASSWORD)[0] == 200)
        member_nb = db.sql("SELECT neighbourhood_id FROM members WHERE email = 'benevole@entraide.example'")[0][0]
        check_landing(anon, base)
        check_openapi(anon, db)
        check_collections(anon, member, staff, db, base)
        pts, want, box = check_items(anon, db, base)
        check_single(anon, db)
        check_crs(anon, db, pts, want, box)
        check_needs(anon, member, staff, db, member_nb)
        check_cache(anon, db)
        privacy_sweep(db)
    finally:
        check("server stops cleanly", srv.stop() == 0)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
