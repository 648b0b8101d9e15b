#!/usr/bin/env python3
"""tests/api/test_feeds.py MAPD SAMPLE_DIR — a member's private Atom feed
against a real `mapd serve` on 127.0.0.1: making its address, reading it
with a feed reader's parser (the standard library's XML parser, the Atom and
GeoRSS namespaces), what it holds (the needs its member may see, nothing
from a distant neighbourhood, no address or home), revoking and replacing
the address, bad tokens, and the privacy sweep.
"""
import os
import sys
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client as BaseClient, Database, Server, Suite, addresses_in, registered  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DB = Database(MAPD, "entraide-feeds.")
check, sql = T.check, DB.sql
PASSWORD = "correct horse"
NS = {"a": "http://www.w3.org/2005/Atom", "georss": "http://www.georss.org/georss"}


class Client(BaseClient):
    def __init__(self, server, name):
        super().__init__(server, name, T)


def member(srv, email, address, name):
    return registered(Client(srv, name), email, address, name, PASSWORD)


def address_in(nb, offset=0):
    return addresses_in(DB, nb, 1, offset)[0]


def main():
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    DB.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB.path)
    a = sql("SELECT a FROM neighbourhood_contiguity GROUP BY a ORDER BY count(*) DESC, a LIMIT 1")[0][0]
    b = sql("SELECT b FROM neighbourhood_contiguity WHERE a = ? ORDER BY b LIMIT 1", a)[0][0]
    near = {a} | {r[0] for r in sql("SELECT b FROM neighbourhood_contiguity WHERE a = ?", a)}
    c = sql("SELECT id FROM neighbourhoods WHERE id NOT IN (%s) ORDER BY id LIMIT 1"
            % ",".join("?" * len(near)), *near)[0][0]
    srv = Server(DB, "--auth-per-minute", "1000")
    ma = member(srv, "a@example.org", address_in(a), "Alice")
    mb = member(srv, "b@example.org", address_in(b), "Bob")
    mc = member(srv, "c@example.org", address_in(c), "Chloé")
    anon = Client(srv, "anonymous")
    titles = {}
    for cl, title in ((mb, "Courses <urgentes> & pain"), (mc, "Loin d'ici"), (ma, "Arroser les plantes")):
        st, p, _ = cl.req("POST", "/api/posts", {"kind": "request", "category": "errands", "title": title,
                                                 "body": "Merci d'avance \"vraiment\""})
        titles[title] = p["id"]

    # ---- the address ----
    st, doc, _ = anon.req("POST", "/api/feeds")
    check("anonymous: no feed (401)", st == 401, st)
    st, doc, _ = ma.req("GET", "/api/feeds")
    check("a member without a feed: inactive", st == 200 and doc == {"active": False, "created_at": None}, doc)
    st, doc, _ = ma.req("POST", "/api/feeds", csrf=False)
    check("making one needs the CSRF token (403)", st == 403, st)
    st, made, _ = ma.req("POST", "/api/feeds")
    url = made["url"]
    check("POST /api/feeds: 201 with the address, on this server", st == 201
          and url.startswith("http://127.0.0.1:%d/feeds/needs.atom?token=" % srv.port), made)
    st, doc, _ = ma.req("GET", "/api/feeds")
    check("... then active, and the address is not shown again", doc["active"] and "url" not in doc, doc)
    check("the store keeps the token's hash only",
          sql("SELECT count(*) FROM feed_tokens WHERE token_hash = ?", url.split("token=")[1].encode())[0][0] == 0)
    path = urlsplit(url).path + "?" + urlsplit(url).query

    # ---- reading it, without a session ----
    reader = Client(srv, "feed reader")
    st, body, r = reader.raw("GET", path)
    check("the feed: 200, application/atom+xml", st == 200
          and r.getheader("Content-Type") == "application/atom+xml; charset=utf-8", (st, r.getheader("Content-Type")))
    root = ET.fromstring(body)
    check("it parses as an Atom feed", root.tag == "{http://www.w3.org/2005/Atom}feed"
          and root.find("a:title", NS) is not None and root.find("a:updated", NS) is not None)
    entries = root.findall("a:entry", NS)
    got = {e.find("a:title", NS).text: e for e in entries}
    check("it holds the needs of the member's own and contiguous neighbourhoods, escaped right",
          "Courses <urgentes> & pain" in got and "Arroser les plantes" in got, sorted(got))
    check("not the need of a distant neighbourhood", "Loin d'ici" not in got, sorted(got))
    e = got.get("Courses <urgentes> & pain")
    pt = e.find("georss:point", NS).text.split() if e is not None else []
    check("an entry: its link to the map, author's display name, summary, public point",
          e is not None and e.find("a:link", NS).get("href").endswith("/#post=%d" % titles["Courses <urgentes> & pain"])
          and e.find("a:author/a:name", NS).text == "Bob"
          and e.find("a:summary", NS).text == "Merci d'avance \"vraiment\"" and len(pt) == 2, body[:400])
    homes = sql("SELECT home_lon, home_lat FROM members WHERE home_lon IS NOT NULL")
    near_home = [(x, y) for y, x in (map(float, en.find("georss:point", NS).text.split()) for en in entries)
                 for lon, lat in homes if abs(x - lon) < 2e-5 and abs(y - lat) < 2e-5]
    check("no entry is at a member's home (public points only)", not near_home, near_home)

    # ---- replacing and revoking ----
    st, made2, _ = ma.req("POST", "/api/feeds")
    st, _, _ = reader.raw("GET", path)
    check("a new address revokes the old one (404)", st == 404, st)
    path2 = urlsplit(made2["url"]).path + "?" + urlsplit(made2["url"]).query
    st, _, _ = reader.raw("GET", path2)
    check("... and the new one works", st == 200, st)
    st, doc, _ = ma.req("DELETE", "/api/feeds")
    check("DELETE /api/feeds: revoked", st == 200 and doc == {"revoked": True}, doc)
    st, _, _ = reader.raw("GET", path2)
    check("a revoked address: 404", st == 404, st)
    st, doc, _ = ma.req("DELETE", "/api/feeds")
    check("revoking again: 404", st == 404, st)
    check("making and revoking are audited",
          sql("SELECT count(*) FROM audit_log WHERE action IN ('new feed token', 'revoke feed token')")[0][0] == 3)

    # ---- bad tokens ----
    for q, why in (("", "no token"), ("?token=abc", "a short token"), ("?token=" + "A" * 43, "an unknown token"),
                   ("?token=%s&x=1" % ("A" * 43), "an unknown argument")):
        st, doc, _ = reader.req("GET", "/feeds/needs.atom" + q)
        check("the feed with %s: 4xx problem" % why, st in (400, 404) and doc and doc.get("type"), (st, doc))

    # ---- privacy ----
    needles = ["@example.org"] + [address_in(x) for x in (a, b, c)]
    own = ("POST /api/session", "POST /api/members")
    leaks = [(label, n) for label, body in T.bodies for n in needles
             if n in body and not label.endswith(own)]
    check("privacy sweep: no email or address in any response", not leaks, leaks[:5])
    check("server stops cleanly", srv.stop() == 0)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
