#!/usr/bin/env python3
"""tests/api/test_strict.py MAPD SAMPLE_DIR — strict reading of what clients
send, against a real `mapd serve` on 127.0.0.1 (ephemeral port) over a
database built from the sample:

- numbers in query strings go through one strict reader: hexadecimal, blanks
  around, a '+' sign, an exponent where an integer is wanted, inf, nan or
  nothing at all are each a 400 problem+json naming the parameter, on every
  route that reads a number (and well-formed numbers still pass);
- a NUL byte (%00) in any query parameter, and invalid UTF-8 in any of them
  (the free-text ones among them: the geocoder's, the posts' and the
  comments' q), are a 400 with one message, in French for a French reader;
- a JSON body is taken with Content-Type application/json exactly (any case,
  with parameters such as charset=utf-8) and refused with 415 otherwise;
- /tiles.json builds its tile URLs from --public-url when there is one, else
  from the Host header when it names the port the connection came in on,
  else from the address the server listens at, with its real port (never a
  port written in the code), and those URLs answer;
- a post hidden by staff leaves its author's own list (mine=1), from the
  in-memory read model and from SQL alike, while the author still reads it
  by id; restored, it is back;
- GET /api/me gives the session's CSRF token again (what the web page takes
  when its storage lost it), and that token is accepted.
Only the standard library is used.
"""
import http.client
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client, Database, Server, Suite, addresses_in, registered  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DB = Database(MAPD, "entraide-strict.")
check, sql = T.check, DB.sql


def problem(r, doc, status, *words):
    """r answered status as problem+json whose detail holds every word."""
    return (r.status == status and (r.getheader("Content-Type") or "").startswith("application/problem+json")
            and isinstance(doc, dict) and all(w in (doc.get("detail") or "") for w in words))


def raw_http(port, request):
    """Sends request (bytes, a whole HTTP/1.0 request) on a socket of its
    own: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


# ---- 1. numbers in query strings ----

# Values that are not an integer as this API reads one (%2B is a '+': a bare
# '+' in a query string is a blank, which is refused too).
BAD_INTEGERS = ["0x10", "%201", "1%20", "%2B1", "+1", "1e3", "1.0", "inf", "nan", "", "-", "1,2",
                "%091", "0b1", "1_000", "%EF%BC%91"]
# ... and values that are not a real (coordinates and metres may carry a
# fraction and an exponent).
BAD_REALS = ["0x10", "%202.35", "2.35%20", "%2B2.35", "inf", "-inf", "nan", "", "2.", ".5", "1e",
             "1e999", "2,35", "0x1p1", "%EF%BC%92"]


def numbers(srv, a, staff, post, nb_point):
    lon, lat = nb_point
    ints = [  # (who, path with {} for the value, the parameter's name)
        (a, "/api/posts?limit={}", "limit"),
        (a, "/api/posts?offset={}", "offset"),
        (a, "/api/posts?group={}", "group"),
        (a, "/api/geocode?q=rue&limit={}", "limit"),
        (a, "/api/shops?limit={}", "limit"),
        (a, "/api/shops?offset={}", "offset"),
        (a, "/api/groups?limit={}", "limit"),
        (a, "/api/groups?offset={}", "offset"),
        (a, "/api/comments?q=pain&limit={}", "limit"),
        (staff, "/api/comments?q=pain&before={}", "before"),
        (a, "/api/posts/%d/comments?after={}" % post, "after"),
        (staff, "/api/audit?limit={}", "limit"),
        (staff, "/api/audit?before={}", "before"),
        (a, "/api/deliveries?limit={}", "limit"),
        (a, "/api/deliveries?before={}", "before"),
        (a, "/ogc/collections/shops/items?limit={}", "limit"),
        (a, "/ogc/collections/shops/items?offset={}", "offset"),
    ]
    reals = [
        (a, "/api/posts?near={}," + "%.5f" % lat, "near"),
        (a, "/api/posts?near=%.5f,{}" % lon, "near"),
        (a, "/api/posts?near=%.5f,%.5f&radius={}" % (lon, lat), "radius"),
        (a, "/api/posts?bbox={},%.4f,%.4f,%.4f" % (lat - 0.01, lon + 0.01, lat + 0.01), "bbox"),
        (a, "/api/posts?bbox=%.4f,%.4f,%.4f,{}" % (lon - 0.01, lat - 0.01, lon + 0.01), "bbox"),
        (a, "/api/shops?bbox={},%.4f,%.4f,%.4f" % (lat - 0.01, lon + 0.01, lat + 0.01), "bbox"),
        (a, "/api/makers?bbox={},%.4f,%.4f,%.4f" % (lat - 0.01, lon + 0.01, lat + 0.01), "bbox"),
        (a, "/api/groups?near={},%.5f" % lat, "near"),
        (a, "/ogc/collections/shops/items?bbox={},%.4f,%.4f,%.4f" % (lat - 0.01, lon + 0.01, lat + 0.01),
         "bbox"),
    ]
    for values, routes in ((BAD_INTEGERS, ints), (BAD_REALS, reals)):
        for who, path, name in routes:
            wrong = []
            for v in values:
                st, doc, r = who.req("GET", path.format(v))
                if not problem(r, doc, 400, name):
                    wrong.append((v, st, doc.get("detail") if isinstance(doc, dict) else str(doc)[:60]))
            check("%s: %d malformed values, each a 400 problem naming %s" % (path.format("…"), len(values), name),
                  not wrong, wrong[:4])
    # The live stream: read up to the status only (a stream, wrongly opened, never ends).
    wrong = []
    for v in BAD_INTEGERS:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.request("GET", "/api/events?last_event_id=" + v, headers={"Cookie": a.cookie})
        r = conn.getresponse()
        doc = json.loads(r.read()) if r.status != 200 else None
        conn.close()
        if not problem(r, doc, 400, "Last-Event-ID"):
            wrong.append((v, r.status))
    check("/api/events?last_event_id=…: %d malformed values, each a 400 problem" % len(BAD_INTEGERS),
          not wrong, wrong[:4])
    # Well-formed numbers still pass, an exponent and a fraction where a real is read.
    good = [
        (a, "/api/posts?limit=5&offset=0"), (a, "/api/posts?limit=05"),
        (a, "/api/geocode?q=rue&limit=3"), (a, "/api/shops?limit=10&offset=10"),
        (a, "/api/posts?near=%.5f,%.5f&radius=1e3" % (lon, lat)),
        (a, "/api/posts?near=%.5f,%.5f&radius=1500.5" % (lon, lat)),
        (a, "/api/posts?near=%.5fE0,%.5f" % (lon, lat)),
        (a, "/api/posts?bbox=%.4f,%.4f,%.4f,%.4f" % (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)),
        (a, "/api/groups?near=%.5f,%.5f&limit=2" % (lon, lat)),
        (a, "/ogc/collections/shops/items?limit=2&offset=1&bbox=%.4f,%.4f,%.4f,%.4f"
         % (lon - 0.1, lat - 0.1, lon + 0.1, lat + 0.1)),
        (a, "/ogc/collections/shops/items?limit=99999999999999999999999"),   # OGC: above the cap is the cap
        (staff, "/api/audit?limit=3&before=9999999999"),
    ]
    bad = [(p, who.req("GET", p)[0]) for who, p in good]
    check("well-formed numbers pass (%d requests)" % len(good), all(st == 200 for _, st in bad),
          [x for x in bad if x[1] != 200])
    st, doc, r = a.req("GET", "/api/posts?limit=101")
    check("a number out of range says the range", problem(r, doc, 400, "limit is an integer from 1 to 100"),
          doc)
    st, doc, r = a.req("GET", "/api/posts?limit=99999999999999999999999")
    check("an integer beyond long's range: 400, not wrapped", problem(r, doc, 400, "limit"), doc)
    a.lang = "fr"
    st, doc, r = a.req("GET", "/api/posts?limit=0x10")
    a.lang = None
    check("said in French for a French reader (%s)" % (doc.get("detail") if isinstance(doc, dict) else st),
          problem(r, doc, 400, "limit est un nombre entier de 1 à 100"), doc)
    for bad_flag in ("mine=2", "mine=true", "mine=", "hidden=01", "reported=yes"):
        st, doc, r = a.req("GET", "/api/posts?" + bad_flag)
        check("a flag is 1 or 0: %s is a 400 naming it" % bad_flag,
              problem(r, doc, 400, bad_flag.split("=")[0] + " is 1 or 0"), doc)
    for bad_flag in ("reported=yes", "reported=2", "reported="):
        st, doc, r = a.req("GET", "/api/comments?q=pain&" + bad_flag)
        check("comment search: a flag is 1 or 0: %s is a 400 naming it" % bad_flag,
              problem(r, doc, 400, "reported is 1 or 0"), doc)
    st, doc, r = a.req("GET", "/api/comments?q=pain&reported=0")
    check("comment search: reported=0 is no filter (200)", st == 200, doc)
    # Tile addresses are numbers in the path: the same strictness.
    for path in ("/tiles/0x1/0/0.mvt", "/tiles/%2B1/0/0.mvt", "/tiles/1/%200/0.mvt", "/tiles/1/0/1e0.mvt",
                 "/tiles/-0/0/0.mvt", "/tiles//0/0.mvt"):
        st, doc, r = a.req("GET", path)
        check("tile %s: 400 problem+json" % path, problem(r, doc, 400, "a tile is /tiles/Z/X/Y.mvt"), doc)
    st, _, _ = a.req("GET", "/tiles/0/0/0.mvt")
    check("a tile well written: 200", st == 200, st)


# ---- 2. NUL bytes and UTF-8 in query strings ----

def text_args(a, staff, post):
    nul = [
        "/api/geocode?q=10%20rue%00de%20Paris", "/api/posts?q=pain%00", "/api/comments?q=%00",
        "/api/posts?limit=5%00", "/api/posts?category=pets%00x", "/api/shops?status=open%00",
        "/ogc/collections/shops/items?limit=1%00", "/api/stats?since=2020-01-01%00",
        "/api/posts/%d?x=%%00" % post, "/tiles.json?v=%00", "/?q=%00",
    ]
    for path in nul:
        name = path.split("?")[1].split("=")[0]
        st, doc, r = a.req("GET", path)
        check("NUL in %s: 400 naming %s" % (path, name),
              problem(r, doc, 400, "the query parameter '%s' holds a NUL byte (%%00)" % name), doc)
    invalid = [  # invalid UTF-8 of every kind, in every free-text parameter and others
        "/api/geocode?q=caf%E9", "/api/geocode?q=%C3%28", "/api/geocode?autocomplete=1&q=7%20rue%20%FF",
        "/api/posts?q=%ED%A0%80", "/api/posts?q=%C0%AF", "/api/posts?q=%F4%90%80%80",
        "/api/posts?q=%E2%82", "/api/comments?q=pain%80", "/api/shops?status=%FE",
        "/api/groups?category=%F8%88%80%80%80", "/ogc/collections/needs/items?status=%C3",
    ]
    for path in invalid:
        name = path.split("?")[1].split("&")[-1].split("=")[0]
        st, doc, r = a.req("GET", path)
        check("invalid UTF-8 in %s: 400 naming %s" % (path, name),
              problem(r, doc, 400, "the query parameter '%s' is not valid UTF-8" % name), doc)
    st, doc, r = a.req("GET", "/api/posts?%FF=1")
    check("a parameter's name in invalid UTF-8: 400, the name not echoed",
          problem(r, doc, 400, "a query parameter's name is not valid UTF-8"), doc)
    st, doc, r = a.req("GET", "/api/posts?x%00y=1")
    check("a NUL in a parameter's name: 400", problem(r, doc, 400, "a query parameter's name holds a NUL byte"), doc)
    a.lang = "fr"
    st, doc, r = a.req("GET", "/api/geocode?q=%FF")
    a.lang = None
    check("said in French for a French reader (%s)" % (doc.get("detail") if isinstance(doc, dict) else st),
          problem(r, doc, 400, "Le paramètre « q » n’est pas en UTF-8 valide."), doc)
    ok = ["/api/geocode?q=10%20all%C3%A9e%20des%20%C3%A9rables", "/api/posts?q=%C3%A9t%C3%A9",
          "/api/comments?q=caf%C3%A9", "/api/posts?q=%F0%9F%8D%9E%20pain"]
    sts = [(p, a.req("GET", p)[0]) for p in ok]
    check("valid UTF-8 (accents, 4-byte characters) passes", all(st == 200 for _, st in sts), sts)


# ---- 3. Content-Type of JSON bodies ----

def content_types(a, post):
    body = json.dumps({"title": "Courses du jeudi"}).encode()
    accepted = ["application/json", "application/json; charset=utf-8", "Application/JSON",
                "application/json;charset=UTF-8", 'application/json; charset="utf-8"',
                "application/json ; charset=utf-8", "application/json; foo=bar"]
    refused = ["application/jsonx", "application/json-seq", "text/json", "application/jsonp",
               "application/json; charset=latin1", "application/json garbage", "application/json;",
               "application/json; charset", "application/xml", "text/plain", "application/x-www-form-urlencoded",
               "application/*", ""]
    for ct in accepted:
        st, doc, r = a.req("PATCH", "/api/posts/%d" % post, raw=body, ctype=ct)
        check("Content-Type %r accepted" % ct, st == 200, (st, doc))
    for ct in refused:
        st, doc, r = a.req("PATCH", "/api/posts/%d" % post, raw=body, ctype=ct)
        check("Content-Type %r refused: 415 problem+json" % ct,
              problem(r, doc, 415, "send the body as application/json"), (st, doc))
    # No Content-Type at all.
    h = {"Cookie": a.cookie, "X-CSRF-Token": a.csrf}
    conn = http.client.HTTPConnection("127.0.0.1", a.server.port, timeout=30)
    conn.request("PATCH", "/api/posts/%d" % post, body=body, headers=h)
    r = conn.getresponse()
    doc = json.loads(r.read() or b"null")
    conn.close()
    check("no Content-Type: 415 problem+json", problem(r, doc, 415, "application/json"), doc)
    # A body-less POST that may carry a body: same rule when it does.
    st, doc, r = a.req("POST", "/api/posts/%d/report" % post, raw=b'{"reason":"x"}', ctype="text/json")
    check("the optional body of a report: 415 with text/json", problem(r, doc, 415), doc)


# ---- 4. /tiles.json's URLs ----

def tilejson(srv, public_srv):
    port = srv.port
    c = Client(srv, "tiles", T)

    def tiles_url(host=None):
        h = {"Host": host} if host is not None else {}
        st, content, _ = c.raw("GET", "/tiles.json", headers=h)
        return json.loads(content)["tiles"][0] if st == 200 else st

    own = "http://127.0.0.1:%d/tiles/{z}/{x}/{y}.mvt" % port
    check("the listen address with its real port (--listen 127.0.0.1:0 gave %d)" % port, tiles_url() == own,
          tiles_url())
    check("Host localhost:%d, ours: kept (the page's origin)" % port,
          tiles_url("localhost:%d" % port) == "http://localhost:%d/tiles/{z}/{x}/{y}.mvt" % port)
    for host in ("evil.example", "evil.example:1", "127.0.0.1:8080" if port != 8080 else "127.0.0.1:8081",
                 "127.0.0.1", "a_b:%d" % port, "[::1:%d" % port, "x:%d:%d" % (port, port), ":%d" % port):
        check("Host %r is not ours: the listen address instead" % host, tiles_url(host) == own, tiles_url(host))
    st, head, body = raw_http(port, b"GET /tiles.json HTTP/1.0\r\n\r\n")
    check("no Host at all (HTTP/1.0): the listen address",
          st == 200 and json.loads(body)["tiles"][0] == own, (st, body[:200]))
    # The URL answers: a tile and the OGC landing page's links on the same base.
    url = tiles_url().replace("{z}/{x}/{y}", "0/0/0")
    tc = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tc.request("GET", url.split(str(port), 1)[1])
    r = tc.getresponse()
    r.read()
    check("the tile URL answers 200 (%s)" % url, url.startswith("http://127.0.0.1:%d/" % port) and r.status == 200)
    st, content, _ = c.raw("GET", "/ogc", headers={"Host": "evil.example"})
    links = [l["href"] for l in json.loads(content)["links"]]
    check("OGC API links take the same base", links and all(h.startswith("http://127.0.0.1:%d/" % port) for h in links),
          links[:3])

    pc = Client(public_srv, "public", T)
    for host in (None, "127.0.0.1:%d" % public_srv.port, "evil.example"):
        st, content, _ = pc.raw("GET", "/tiles.json", headers={"Host": host} if host else {})
        got = json.loads(content)["tiles"][0] if st == 200 else st
        check("--public-url https://entraide.example.org/ names the tiles whatever the Host (%s)" % host,
              got == "https://entraide.example.org/tiles/{z}/{x}/{y}.mvt", got)


# ---- 5. a hidden post and its author's list ----

def hidden_mine(srv, sql_srv, a, staff):
    posts = []
    for title in ("Arroser les tomates du balcon", "Garder le chat une semaine"):
        st, doc, _ = a.req("POST", "/api/posts", {"kind": "request", "category": "pets", "title": title})
        posts.append(doc["properties"]["id"])
    hidden, kept = posts
    st, doc, _ = staff.req("POST", "/api/posts/%d/hide" % hidden)
    check("staff hide one of the author's posts", st == 200 and doc["properties"]["hidden"] is True, doc)
    twin = Client(sql_srv, "author (SQL)", T)
    twin.cookie, twin.csrf = a.cookie, a.csrf    # sessions live in the database

    # (list, whether the other post is in it): the model answers the open
    # and claimed lists without keywords, SQL the others (and all of the twin's).
    lists = [("/api/posts?mine=1", True), ("/api/posts?mine=1&limit=100", True),
             ("/api/posts?mine=1&status=any&limit=100", True), ("/api/posts?mine=1&status=open&category=pets", True),
             ("/api/posts?mine=1&q=chat", True), ("/api/posts?mine=1&q=tomates", False),
             ("/api/posts?mine=1&hidden=1&status=any", True)]
    for path, listed in lists:
        for who, where in ((a, "read model"), (twin, "SQL")):
            st, doc, _ = who.req("GET", path)
            ids = [f["id"] for f in doc["features"]] if st == 200 else st
            check("%s (%s): the hidden post is not listed" % (path, where),
                  isinstance(ids, list) and hidden not in ids and (kept in ids) == listed, ids)
    lists = [p for p, _ in lists]
    same = [p for p in lists if a.raw("GET", p)[1] != twin.raw("GET", p)[1]]
    check("the read model and SQL give the same bytes for the author's lists", not same, same)
    st, doc, _ = a.req("GET", "/api/posts/%d" % hidden)
    check("the author still reads it by id, marked hidden", st == 200 and doc["properties"]["hidden"] is True,
          (st, doc))
    st, doc, _ = staff.req("GET", "/api/posts?status=any&hidden=1&limit=100")
    check("staff list it with hidden=1", hidden in [f["id"] for f in doc["features"]])
    st, doc, _ = staff.req("POST", "/api/posts/%d/restore" % hidden)
    for who, where in ((a, "read model"), (twin, "SQL")):
        st, doc, _ = who.req("GET", "/api/posts?mine=1&limit=100")
        check("restored, it is back in the author's list (%s)" % where,
              hidden in [f["id"] for f in doc["features"]], doc)


# ---- 6. the CSRF token from /api/me ----

def me_token(srv, email):
    c = Client(srv, "me", T)
    st, doc = c.login(email, "correct horse")
    token = c.csrf
    st, me, _ = c.req("GET", "/api/me")
    check("GET /api/me gives the session's CSRF token", st == 200 and me.get("csrf") == token and token, me)
    c.csrf = None
    st, doc, _ = c.req("PATCH", "/api/me", {"display_name": "Renée"})
    check("a change without the token: 403", st == 403, doc)
    c.csrf = me["csrf"]
    st, doc, _ = c.req("PATCH", "/api/me", {"display_name": "Renée"})
    check("the token /api/me gave is accepted", st == 200, doc)


def main():
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    DB.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB.path)
    DB.run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", DB.path)
    DB.run("user", "add", "--db", DB.path, "--email", "staff@example.org", "--role", "staff",
           "--password-stdin", stdin="correct horse\n")
    srv = Server(DB, "--auth-per-minute", "100000")
    sql_srv = Server(DB, "--auth-per-minute", "100000", "--posts-model", "off")
    public_srv = Server(DB, "--public-url", "https://entraide.example.org/")
    try:
        nb = sql("SELECT neighbourhood_id FROM addresses WHERE neighbourhood_id IS NOT NULL "
                 "GROUP BY neighbourhood_id ORDER BY count(*) DESC LIMIT 1")[0][0]
        homes = addresses_in(DB, nb, 2)
        a = registered(Client(srv, "author", T), "rose@example.org", homes[0], "Rose")
        registered(Client(srv, "other", T), "renee@example.org", homes[1], "Renée")
        staff = Client(srv, "staff", T)
        staff.login("staff@example.org", "correct horse")
        st, doc, _ = a.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                                  "title": "Pain et lait", "body": "Pour jeudi"})
        post = doc["properties"]["id"]
        point = doc["geometry"]["coordinates"]

        numbers(srv, a, staff, post, point)
        text_args(a, staff, post)
        content_types(a, post)
        tilejson(srv.one(), public_srv)   # the address one process listens at
        hidden_mine(srv, sql_srv, a, staff)
        me_token(srv, "renee@example.org")
    finally:
        rcs = [s.stop() for s in (srv, sql_srv, public_srv)]
    check("the servers stop cleanly", rcs == [0, 0, 0], rcs)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
