#!/usr/bin/env python3
"""tests/api/test_alerts.py MAPD SAMPLE_DIR — alerts by email against a real
`mapd serve` on 127.0.0.1 and a real SMTP server of the test's own
(smtp_sink.py), on a database built from the sample: subscriptions and
their bad input, who gets which alert (the area, the neighbourhoods one
sees, never one's own post), the mails themselves (recipient, French
subject, List-Unsubscribe and its one-click POST, links), a relay that is
down then back (retry), refused deliveries pausing a subscription, a
restart alerting nothing twice, digests, quiet hours, test alerts, and a
privacy sweep over every mail and response.

Neighbourhoods are chosen from the data: A has the most contiguous
neighbours, B is contiguous to A, C is neither A nor next to it.
"""
import datetime
import json
import math
import os
import re
import struct
import subprocess
import sys
import time
import urllib.parse
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client as BaseClient, Database, Server, Suite  # noqa: E402
from smtp_sink import Sink  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DB = Database(MAPD, "entraide-alerts.")
check, sql = T.check, DB.sql
PASSWORD = "correct horse"
PUBLIC = "http://entraide.test"
PARIS = ZoneInfo("Europe/Paris")
TITLE = "Courses pour une personne âgée"


class Client(BaseClient):
    def __init__(self, server, name):
        super().__init__(server, name, T)

    def move_to(self, server):
        """The same session, on a restarted server."""
        self.server = server
        self.conn.close()
        self.conn = __import__("http.client").client.HTTPConnection("127.0.0.1", server.port,
                                                                    timeout=30)


def member(srv, email, address, name):
    cl = Client(srv, name)
    st, doc, _ = cl.req("POST", "/api/members", {"email": email, "password": PASSWORD,
                                                 "display_name": name, "address": address})
    assert st == 201, (st, doc)
    cl.login(email, PASSWORD)
    cl.email = email
    return cl


def wait_for(cond, seconds=15, step=0.1):
    end = time.time() + seconds
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def public_point(lon, lat):
    """geodata_public_point (posts.c): the centre of the ~200 m cell."""
    dlat = 200.0 / 110574.0
    clat = (math.floor(lat / dlat) + 0.5) * dlat
    dlon = 200.0 / (111320.0 * max(math.cos(clat * math.pi / 180.0), 0.01))
    return (math.floor(lon / dlon) + 0.5) * dlon, clat


def blob_point(blob):
    """The point of a SpatiaLite geometry BLOB, from its header's MBR."""
    order = "<" if blob[1] == 1 else ">"
    minx, miny = struct.unpack(order + "dd", blob[6:22])
    return minx, miny


def address_rows(nb):
    rows = sql("SELECT a.number, a.street, a.postcode, a.geom FROM addresses a "
               "WHERE a.neighbourhood_id = ? AND a.rep = '' ORDER BY a.id", nb)
    return [r[:3] + blob_point(r[3]) for r in rows]


def subject(m):
    return str(m["msg"]["Subject"])


def body(m):
    return m["msg"].get_body(preferencelist=("plain",)).get_content()


def deliveries(cl, **q):
    st, doc, _ = cl.req("GET", "/api/deliveries" + ("?" + urllib.parse.urlencode(q) if q else ""))
    assert st == 200, (st, doc)
    return doc


def local_minutes(t):
    d = datetime.datetime.fromtimestamp(t, PARIS)
    return d.hour * 60 + d.minute


def next_local(t, minute):
    """The first instant at or after t whose Paris time is minute."""
    d = datetime.datetime.fromtimestamp(t, PARIS)
    for day in range(3):
        c = (d + datetime.timedelta(days=day)).replace(hour=minute // 60, minute=minute % 60,
                                                         second=0, microsecond=0)
        c = datetime.datetime(c.year, c.month, c.day, c.hour, c.minute, tzinfo=PARIS)
        if c.timestamp() >= t:
            return int(c.timestamp())


def main():
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    DB.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB.path)
    DB.run("user", "add", "--db", DB.path, "--email", "staff@example.org", "--role", "staff",
           "--password-stdin", stdin=PASSWORD + "\n")
    a = sql("SELECT a FROM neighbourhood_contiguity GROUP BY a ORDER BY count(*) DESC, a LIMIT 1")[0][0]
    near_a = {a} | {r[0] for r in sql("SELECT b FROM neighbourhood_contiguity WHERE a = ?", a)}
    b = sql("SELECT b FROM neighbourhood_contiguity WHERE a = ? ORDER BY b LIMIT 1", a)[0][0]
    c = sql("SELECT id FROM neighbourhoods WHERE id NOT IN (%s) ORDER BY id LIMIT 1"
            % ",".join("?" * len(near_a)), *near_a)[0][0]
    name_a = sql("SELECT name FROM neighbourhoods WHERE id = ?", a)[0][0]
    label_a = sql("SELECT label_lon, label_lat FROM neighbourhoods WHERE id = ?", a)[0]
    label_c = sql("SELECT label_lon, label_lat FROM neighbourhoods WHERE id = ?", c)[0]
    # The author lives by A's label point (inside A); a member of A far from
    # them; a member of B; one of C.
    rows_a = address_rows(a)
    rows_a.sort(key=lambda r: (r[3] - label_a[0]) ** 2 + (r[4] - label_a[1]) ** 2)
    author_row, near_row, far_row = rows_a[0], rows_a[5], rows_a[-1]
    fmt = lambda r: "%d %s %s" % r[:3]  # noqa: E731

    # ---- bad options: a usage error (exit 2) with the reason ----
    for args, word in ((["--smtp-url", "ftp://relay.test"], "--smtp-url"),
                       (["--smtp-url", "smtp://127.0.0.1:25"], "go together"),
                       (["--smtp-from", "alertes@entraide.test"], "go together"),
                       (["--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "pas une adresse"], "--smtp-from"),
                       (["--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "a@b.test\r\nBcc: x@y.test"],
                        "--smtp-from"),
                       (["--public-url", "entraide.test"], "--public-url"),
                       (["--alerts-interval-s", "0"], "--alerts-interval-s"),
                       (["--alerts-digest-at", "18h"], "--alerts-digest-at"),
                       (["--alerts-backoff", "60,,300"], "--alerts-backoff"),
                       (["--alerts-backoff", "1,2,3,4,5,6,7,8,9"], "--alerts-backoff")):
        p = subprocess.run([MAPD, "serve", "--db", DB.path, "--listen", "127.0.0.1:0", *args],
                           capture_output=True, text=True, timeout=30)
        check("serve %s: exit 2 naming %s" % (" ".join(args).replace("\r\n", " "), word),
              p.returncode == 2 and word in p.stderr and len(p.stderr.strip().splitlines()) == 1,
              (p.returncode, p.stderr))

    # ---- without a relay: subscriptions work, alerts wait ----
    srv = Server(DB, "--auth-per-minute", "1000", "--alerts-interval-s", "1",
                 "--public-url", PUBLIC + "/")
    author = member(srv, "author@example.org", fmt(author_row), "Autrice A")
    vol_a = member(srv, "vol.a@example.org", fmt(near_row), "Voisin A")
    vol_far = member(srv, "vol.far@example.org", fmt(far_row), "Voisine lointaine A")
    vol_b = member(srv, "vol.b@example.org", fmt(address_rows(b)[3]), "Voisin B")
    vol_c = member(srv, "vol.c@example.org", fmt(address_rows(c)[3]), "Voisine C")
    vol_d = member(srv, "vol.d@example.org", fmt(rows_a[8]), "Voisin digest")
    vol_q = member(srv, "vol.q@example.org", fmt(rows_a[9]), "Voisine nocturne")
    anon = Client(srv, "anonymous")
    staff = Client(srv, "staff")
    staff.login("staff@example.org", PASSWORD)
    people = [author, vol_a, vol_far, vol_b, vol_c, vol_d, vol_q]

    sub = {"kinds": ["request"], "categories": ["groceries"], "radius_m": 5000, "mode": "immediate",
           "quiet_hours": None}
    st, doc, _ = anon.req("POST", "/api/subscriptions", sub)
    check("anonymous: 401", st == 401, st)
    st, doc, _ = vol_a.req("POST", "/api/subscriptions", sub, csrf=False)
    check("no CSRF token: 403", st == 403, st)
    st, doc, _ = staff.req("POST", "/api/subscriptions", sub)
    check("an account without a verified home: 403", st == 403 and "verified home" in doc["detail"],
          (st, doc))
    pp = public_point(author_row[3], author_row[4])
    box = lambda lon, lat, d: {"type": "Polygon", "coordinates": [[  # noqa: E731
        [lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]]}
    bowtie = {"type": "Polygon", "coordinates": [[[pp[0], pp[1]], [pp[0] + 0.001, pp[1] + 0.001],
                                                  [pp[0] + 0.001, pp[1]], [pp[0], pp[1] + 0.001],
                                                  [pp[0], pp[1]]]]}
    many = [[pp[0] + 0.0005 * math.cos(2 * math.pi * i / 250), pp[1] + 0.0005 * math.sin(2 * math.pi * i / 250)]
            for i in range(250)]
    bad = [
        (dict(sub, radius_m=-5), "a negative radius", "radius_m"),
        (dict(sub, radius_m=10 ** 9), "a huge radius", "radius_m"),
        (dict(sub, radius_m=20), "a radius under 50 m", "radius_m"),
        (dict(sub, radius_m="500"), "a radius as a string", "radius_m"),
        (dict(sub, polygon=box(pp[0], pp[1], 0.0005)), "both radius and polygon", "not both"),
        ({k: v for k, v in sub.items() if k != "radius_m"}, "neither radius nor polygon", "neither"),
        (dict({k: v for k, v in sub.items() if k != "radius_m"}, polygon=bowtie), "a self-crossing polygon",
         "not a valid polygon"),
        (dict({k: v for k, v in sub.items() if k != "radius_m"}, polygon=box(label_c[0], label_c[1], 0.001)),
         "a polygon outside the visible neighbourhoods", "neighbourhood"),
        (dict({k: v for k, v in sub.items() if k != "radius_m"},
              polygon={"type": "Polygon", "coordinates": [many + [many[0]]]}), "a polygon of 251 positions",
         "positions"),
        (dict({k: v for k, v in sub.items() if k != "radius_m"},
              polygon={"type": "Point", "coordinates": [pp[0], pp[1]]}), "a Point for a polygon", "Polygon"),
        (dict({k: v for k, v in sub.items() if k != "radius_m"},
              polygon={"type": "Polygon", "coordinates": []}), "an empty polygon", "polygon"),
        (dict({k: v for k, v in sub.items() if k != "radius_m"},
              polygon={"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}), "a polygon of two points",
         "polygon"),
        (dict(sub, kinds=["demand"]), "an unknown kind", "unknown kind"),
        (dict(sub, kinds=[]), "no kind", "kinds"),
        (dict(sub, categories=["groceries", "gardening"]), "an unknown category", "unknown category"),
        (dict(sub, categories="groceries"), "categories as a string", "categories"),
        (dict(sub, mode="weekly"), "a bad mode", "mode"),
        (dict(sub, quiet_hours={"start": "25:00", "end": "07:00"}), "quiet hours at 25:00", "quiet_hours"),
        (dict(sub, quiet_hours={"start": "22:00"}), "quiet hours without an end", "quiet_hours"),
        (dict(sub, quiet_hours={"start": "22:00", "end": "22:00"}), "empty quiet hours", "differ"),
        (dict(sub, quiet_hours="22:00-07:00"), "quiet hours as a string", "quiet_hours"),
    ]
    for body_, why, word in bad:
        st, doc, r = vol_a.req("POST", "/api/subscriptions", body_)
        check("create with %s: 422 saying why" % why,
              st == 422 and r.getheader("Content-Type") == "application/problem+json"
              and word in doc.get("detail", ""), (st, doc))
    fr = Client(srv, "vol_a (fr)")
    fr.cookie, fr.csrf, fr.lang = vol_a.cookie, vol_a.csrf, "fr"
    st, doc, _ = fr.req("POST", "/api/subscriptions", dict(sub, radius_m=9000))
    check("... in French for a French reader", st == 422 and doc["detail"].startswith("Le rayon"), doc)
    st, doc, _ = vol_a.req("POST", "/api/subscriptions", raw=b'{"kinds": ["request"', ctype="application/json")
    check("malformed JSON: 400", st == 400, st)
    check("nothing was written by the refused creations", sql("SELECT count(*) FROM subscriptions")[0][0] == 0)

    st, s_a, _ = vol_a.req("POST", "/api/subscriptions", sub)
    check("vol_a subscribes: 201, radius 5 km, requests of groceries",
          st == 201 and s_a["radius_m"] == 5000 and s_a["kinds"] == ["request"]
          and s_a["categories"] == ["groceries"] and s_a["polygon"] is None and not s_a["paused"], s_a)
    st, s_far, _ = vol_far.req("POST", "/api/subscriptions", {"radius_m": 50})
    check("vol_far subscribes with 50 m (kinds default to both, all categories)",
          st == 201 and s_far["kinds"] == ["request", "offer"] and s_far["categories"] == []
          and s_far["mode"] == "immediate", s_far)
    poly = box(pp[0], pp[1], 0.0006)
    st, s_b, _ = vol_b.req("POST", "/api/subscriptions", {"polygon": poly, "kinds": ["request", "offer"]})
    check("vol_b (of B) subscribes with a polygon in A, contiguous to B: 201, the polygon kept",
          st == 201 and s_b["radius_m"] is None and s_b["polygon"]["type"] == "Polygon"
          and len(s_b["polygon"]["coordinates"][0]) == 5, (st, s_b))
    st, s_c, _ = vol_c.req("POST", "/api/subscriptions", {"radius_m": 5000})
    check("vol_c (of C, not next to A) subscribes with 5 km", st == 201, (st, s_c))
    st, s_self, _ = author.req("POST", "/api/subscriptions", {"radius_m": 5000})
    check("the author subscribes too", st == 201, (st, s_self))
    st, s_d, _ = vol_d.req("POST", "/api/subscriptions", {"radius_m": 3000, "mode": "digest"})
    check("vol_d subscribes to a daily digest", st == 201 and s_d["mode"] == "digest", s_d)
    now = time.time()
    m0 = local_minutes(now)
    qs, qe = (m0 - 60) % 1440, (m0 + 60) % 1440
    hhmm = lambda m: "%02d:%02d" % (m // 60, m % 60)  # noqa: E731
    st, s_q, _ = vol_q.req("POST", "/api/subscriptions", {"radius_m": 3000,
                                                          "quiet_hours": {"start": hhmm(qs), "end": hhmm(qe)}})
    check("vol_q subscribes with quiet hours around now",
          st == 201 and s_q["quiet_hours"] == {"start": hhmm(qs), "end": hhmm(qe)}, s_q)
    st, doc, _ = vol_a.req("GET", "/api/subscriptions")
    check("GET /api/subscriptions: the member's own, and mail is not configured",
          st == 200 and [x["id"] for x in doc["subscriptions"]] == [s_a["id"]]
          and doc["mail"]["configured"] is False, doc)
    st, doc, _ = vol_a.req("POST", "/api/subscriptions/test")
    check("a test alert without a relay: 503 saying mail is not configured",
          st == 503 and "not configured" in doc["detail"], (st, doc))
    st, doc, _ = vol_b.req("DELETE", "/api/subscriptions/%d" % s_a["id"])
    check("deleting another member's subscription: 404", st == 404, (st, doc))
    for i in range(10):
        vol_b.req("POST", "/api/subscriptions", {"radius_m": 100 + i})
    st, doc, _ = vol_b.req("POST", "/api/subscriptions", {"radius_m": 300})
    check("at most 10 subscriptions a member: 409", st == 409, (st, doc))
    extra = [x["id"] for x in vol_b.req("GET", "/api/subscriptions")[1]["subscriptions"] if x["id"] != s_b["id"]]
    for i in extra:
        vol_b.req("DELETE", "/api/subscriptions/%d" % i)
    check("vol_b deletes its extra ones: 204 each, one left",
          len(vol_b.req("GET", "/api/subscriptions")[1]["subscriptions"]) == 1)

    st, p1, _ = author.req("POST", "/api/posts", {"kind": "request", "category": "groceries", "title": TITLE,
                                                  "body": "Du lait et du pain, au 3e étage."})
    check("the author posts a request", st == 201, (st, p1))
    check("the match waits for no relay: deliveries pending for vol_a, vol_b, vol_d (item), vol_q",
          wait_for(lambda: {r[0] for r in sql("SELECT member_id FROM alert_deliveries WHERE post_id = ?",
                                               p1["id"])} == {vol_a_id(vol_a), vol_b_id(vol_b), vol_d_id(vol_d),
                                                               vol_q_id(vol_q)}, 10),
          sql("SELECT member_id, type, status FROM alert_deliveries"))
    assert srv.stop() == 0

    # ---- with a relay ----
    sink = Sink()
    smtp = ["--smtp-url", "smtp://127.0.0.1:%d" % sink.port, "--smtp-from", "Entraide <alertes@entraide.test>",
            "--public-url", PUBLIC + "/", "--alerts-interval-s", "1", "--alerts-backoff", "1,2,60",
            "--auth-per-minute", "1000"]
    srv = Server(DB, *smtp)
    for cl in people + [anon, staff, fr]:
        cl.move_to(srv)
    got = wait_for(lambda: len(sink.to(vol_a.email)) >= 1 and len(sink.to(vol_b.email)) >= 1)
    check("the waiting alerts go out once a relay is configured", got,
          [(m["rcpts"], subject(m)) for m in sink.messages])
    m = sink.to(vol_a.email)[0]
    check("one envelope recipient: the subscriber", m["rcpts"] == ["<vol.a@example.org>"]
          and m["from"] == "<alertes@entraide.test>", m["rcpts"])
    check("To and From headers", m["msg"]["To"] == "vol.a@example.org"
          and m["msg"]["From"] == "Entraide <alertes@entraide.test>", (m["msg"]["To"], m["msg"]["From"]))
    check("a French subject", subject(m) == "Entraide : une demande près de chez vous — " + TITLE, subject(m))
    unsub = str(m["msg"]["List-Unsubscribe"]).strip()
    check("List-Unsubscribe: <%s/api/unsubscribe?token=...>" % PUBLIC,
          re.fullmatch(r"<%s/api/unsubscribe\?token=%d\.[A-Za-z0-9_-]{43}>" % (re.escape(PUBLIC), s_a["id"]),
                       unsub or ""), unsub)
    check("List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058)",
          m["msg"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click")
    check("Message-ID and Date", re.fullmatch(r"<[0-9a-f]+\.\d+\.alert@entraide\.test>", m["msg"]["Message-ID"] or "")
          and m["msg"]["Date"] is not None and abs(m["msg"]["Date"].datetime.timestamp() - time.time()) < 120,
          (m["msg"]["Message-ID"], m["msg"]["Date"]))
    check("text/plain, UTF-8, quoted-printable",
          m["msg"].get_content_type() == "text/plain" and m["msg"].get_content_charset() == "utf-8"
          and m["msg"]["Content-Transfer-Encoding"] == "quoted-printable"
          and max(len(l) for l in m["raw"].partition(b"\r\n\r\n")[2].split(b"\r\n")) <= 76
          and max(len(l) for l in m["raw"].partition(b"\r\n\r\n")[0].split(b"\r\n")) <= 998,
          (m["msg"]["Content-Type"], m["msg"]["Content-Transfer-Encoding"],
           max(len(l) for l in m["raw"].partition(b"\r\n\r\n")[2].split(b"\r\n"))))
    text = body(m)
    check("the body: title, kind and category in French, neighbourhood, a rounded distance, the link",
          TITLE in text and "Demande · Courses" in text and ("Quartier : %s" % name_a) in text
          and re.search(r"à environ \d+(00 m|,\d km)", text)
          and ("%s/#post=%d" % (PUBLIC, p1["id"])) in text, text)
    check("the body does not carry the post's text (what the map shows only)", "3e étage" not in text, text)
    mb = sink.to(vol_b.email)
    check("vol_b gets it through the polygon", len(mb) == 1 and subject(mb[0]).endswith(TITLE), len(mb))
    q_row = sql("SELECT status, next_attempt_at, created_at FROM alert_deliveries WHERE member_id = ? "
                "AND post_id = ?", vol_q_id(vol_q), p1["id"])
    check("quiet hours: vol_q's alert waits until their end (Paris time)",
          q_row and q_row[0][0] == "pending" and q_row[0][1] == next_local(q_row[0][2], qe)
          and not sink.to(vol_q.email), (q_row, q_row and next_local(q_row[0][2], qe)))
    d_row = sql("SELECT type, status, next_attempt_at, created_at FROM alert_deliveries WHERE member_id = ? "
                "AND post_id = ?", vol_d_id(vol_d), p1["id"])
    check("digest: vol_d's item waits for 18:00 Paris time",
          d_row and d_row[0][:2] == ("item", "pending") and d_row[0][2] == next_local(d_row[0][3], 18 * 60)
          and not sink.to(vol_d.email), d_row)

    # ---- who gets nothing ----
    st, p2, _ = author.req("POST", "/api/posts", {"kind": "offer", "category": "pets", "title": "Je promène les chiens",
                                                  "body": ""})
    check("an offer about pets", st == 201, (st, p2))
    wait_for(lambda: len(sink.to(vol_b.email)) >= 2)
    time.sleep(2.5)
    check("vol_b (polygon, both kinds) gets the offer too", len(sink.to(vol_b.email)) == 2
          and subject(sink.to(vol_b.email)[1]) == "Entraide : une offre près de chez vous — Je promène les chiens",
          [subject(x) for x in sink.to(vol_b.email)])
    check("vol_a (requests of groceries only) does not get the offer about pets", len(sink.to(vol_a.email)) == 1)
    check("vol_far, outside their 50 m radius, gets nothing", not sink.to(vol_far.email)
          and not sql("SELECT 1 FROM alert_deliveries WHERE member_id = ?", vol_id(vol_far)))
    check("vol_c, whose 5 km reach A but who does not see A, gets nothing", not sink.to(vol_c.email)
          and not sql("SELECT 1 FROM alert_deliveries WHERE member_id = ?", vol_id(vol_c)))
    check("the author never gets their own posts", not sink.to(author.email)
          and not sql("SELECT 1 FROM alert_deliveries WHERE member_id = ?", vol_id(author)))

    # ---- the delivery log ----
    doc = deliveries(vol_a)
    check("GET /api/deliveries: sent, with the post's id and title, mail configured",
          doc["mail"]["configured"] is True and len(doc["deliveries"]) == 1
          and doc["deliveries"][0]["status"] == "sent" and doc["deliveries"][0]["post"] == {"id": p1["id"], "title": TITLE}
          and doc["deliveries"][0]["sent_at"] and doc["deliveries"][0]["attempts"] == 1, doc)
    st, doc, _ = anon.req("GET", "/api/deliveries")
    check("the delivery log needs a session: 401", st == 401, st)
    for q, why in (("limit=0", "limit 0"), ("limit=101", "limit 101"), ("before=x", "before not a number"),
                   ("page=2", "an unknown parameter")):
        st, doc, _ = vol_a.req("GET", "/api/deliveries?" + q)
        check("deliveries with %s: 400" % why, st == 400, (st, doc))

    # ---- test alert ----
    st, doc, _ = vol_far.req("POST", "/api/subscriptions/test")
    check("a test alert: 202, pending", st == 202 and doc["status"] == "pending", (st, doc))
    got = wait_for(lambda: sink.to(vol_far.email), 10)
    check("... it arrives at once, without an unsubscribe link",
          got and subject(got[0]) == "Entraide : alerte de test" and got[0]["msg"]["List-Unsubscribe"] is None,
          got and subject(got[0]))
    check("... and is logged as sent", wait_for(lambda: deliveries(vol_far)["deliveries"][0]["status"] == "sent", 5))
    st, doc, _ = vol_far.req("POST", "/api/subscriptions/test")
    check("a second test alert within a minute: 429", st == 429, (st, doc))

    # ---- unsubscribing ----
    link = str(sink.to(vol_b.email)[0]["msg"]["List-Unsubscribe"]).strip()[1:-1]
    path = link[len(PUBLIC):]
    token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["token"][0]
    st, page, r = anon.raw("GET", path)
    check("the link opens a confirmation page without a session",
          st == 200 and r.getheader("Content-Type").startswith("text/html")
          and b'method="post"' in page and token.encode() in page, (st, page[:200]))
    sid, mac = token.split(".")
    forged = [("%d.%s" % (s_a["id"], mac), "another subscription's id with this MAC"),
              (sid + "." + mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB"), "an altered MAC"),
              (sid + "." + mac[:20], "a cut MAC"), (sid, "no MAC"), ("x" + token, "garbage")]
    for tok, why in forged:
        for method in ("GET", "POST"):
            st, doc, r = anon.req(method, "/api/unsubscribe?token=" + urllib.parse.quote(tok),
                                  raw=b"List-Unsubscribe=One-Click" if method == "POST" else None,
                                  ctype="application/x-www-form-urlencoded")
            check("%s with %s: 403 problem+json" % (method, why),
                  st == 403 and r.getheader("Content-Type") == "application/problem+json", (st, doc))
    st, doc, _ = anon.req("GET", "/api/unsubscribe")
    check("no token: 400", st == 400, st)
    check("vol_b's subscription is still there", sql("SELECT count(*) FROM subscriptions WHERE id = ?", s_b["id"])[0][0] == 1)
    st, page, r = anon.raw("POST", path, data=b"List-Unsubscribe=One-Click",
                           ctype="application/x-www-form-urlencoded")
    check("the one-click POST, without a session: 200", st == 200, (st, page[:200]))
    st, doc, _ = vol_b.req("GET", "/api/subscriptions")
    check("... the subscription is gone", st == 200 and doc["subscriptions"] == [], doc)
    st, doc, _ = anon.req("POST", path, raw=b"List-Unsubscribe=One-Click", ctype="application/x-www-form-urlencoded")
    st2, doc2, _ = anon.req("GET", path, raw=None)
    check("posting it again: still 200 (already unsubscribed)", st == 200, st)
    doc = deliveries(vol_b)
    check("vol_b's log stays, unlinked from the deleted subscription",
          len(doc["deliveries"]) == 2 and all(d["subscription_id"] is None for d in doc["deliveries"]), doc)

    # ---- a relay that is down, then back ----
    sink.stop()
    st, p3, _ = author.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                                  "title": "Pain et lait pour lundi", "body": ""})
    retrying = wait_for(lambda: [d for d in deliveries(vol_a)["deliveries"]
                                 if d["post"] and d["post"]["id"] == p3["id"] and d["status"] == "retrying"], 10)
    check("the relay is down: the delivery is logged as failing and retried",
          retrying and retrying[0]["attempts"] >= 1 and "could not be reached" in retrying[0]["last_error"]
          and retrying[0]["next_attempt_at"], retrying)
    sink.start()
    got = wait_for(lambda: [m for m in sink.to(vol_a.email) if "Pain et lait" in subject(m)], 15)
    check("... and delivered once it is back", len(got) == 1, len(got or []))
    d = [d for d in deliveries(vol_a)["deliveries"] if d["post"] and d["post"]["id"] == p3["id"]]
    check("... the log says sent after 2 or more attempts",
          d and d[0]["status"] == "sent" and d[0]["attempts"] >= 2 and d[0]["last_error"] is None, d)

    # ---- restarting mid-run alerts nothing twice ----
    st, p4, _ = author.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                                  "title": "Une course urgente", "body": ""})
    assert srv.stop() == 0
    srv = Server(DB, *smtp)
    for cl in people + [anon, staff, fr]:
        cl.move_to(srv)
    wait_for(lambda: [m for m in sink.to(vol_a.email) if "course urgente" in subject(m)], 10)
    assert srv.stop() == 0
    srv = Server(DB, *smtp)
    for cl in people + [anon, staff, fr]:
        cl.move_to(srv)
    time.sleep(3)
    pairs = [(m["rcpts"][0], subject(m)) for m in sink.messages]
    check("after two restarts, every alert went out exactly once",
          len(pairs) == len(set(pairs)) and ("<vol.a@example.org>", "Entraide : une demande près de chez vous — "
                                             "Une course urgente") in pairs, pairs)
    check("the store holds one delivery per subscription and post",
          sql("SELECT count(*) FROM (SELECT subscription_id, post_id FROM alert_deliveries WHERE post_id IS NOT NULL "
              "AND subscription_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) AS d")[0][0] == 0)

    # ---- the digest ----
    st, p5, _ = author.req("POST", "/api/posts", {"kind": "offer", "category": "materials",
                                                  "title": "Je prête une perceuse", "body": ""})
    wait_for(lambda: sql("SELECT 1 FROM alert_deliveries WHERE member_id = ? AND post_id = ?", vol_d_id(vol_d), p5["id"]))
    DB.write("UPDATE alert_deliveries SET next_attempt_at = 0 WHERE member_id = ? AND type = 'item'", vol_d_id(vol_d))
    got = wait_for(lambda: sink.to(vol_d.email), 10)
    items = [r[0] for r in sql("SELECT post_id FROM alert_deliveries WHERE member_id = ? AND type = 'item'",
                               vol_d_id(vol_d))]
    n_items = len(items)
    check("at the digest's hour, one mail lists every waiting item",
          got and len(got) == 1 and subject(got[0]) == "Entraide : %d annonces près de chez vous" % n_items
          and TITLE in body(got[0]) and "Je prête une perceuse" in body(got[0])
          and all(("/#post=%d" % i) in body(got[0]) for i in items), got and (subject(got[0]), body(got[0])))
    check("... the digest and its items are logged as sent",
          wait_for(lambda: all(d["status"] == "sent" for d in deliveries(vol_d)["deliveries"]), 5)
          and [d["type"] for d in deliveries(vol_d)["deliveries"]].count("digest") == 1, deliveries(vol_d))

    # ---- refused deliveries pause a subscription ----
    sink.mode = "permanent"
    for i in range(3):
        st, p, _ = author.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                                     "title": "Course refusée %d" % i, "body": ""})
        wait_for(lambda: sql("SELECT 1 FROM alert_deliveries WHERE member_id = ? AND post_id = ? "
                             "AND status = 'failed'", vol_id(vol_a), p["id"]), 10)
    st, doc, _ = vol_a.req("GET", "/api/subscriptions")
    s = doc["subscriptions"][0]
    check("three refusals (550) in a row pause the subscription, and GET /api/subscriptions says why",
          s["paused"] and s["paused_at"] and "550" in s["paused_reason"] and s["consecutive_failures"] == 3, s)
    failed = [d for d in deliveries(vol_a)["deliveries"] if d["status"] == "failed"]
    check("... each refusal is logged as failed at once, with the relay's code",
          len(failed) == 3 and all("refused" in d["last_error"] and "550" in d["last_error"]
                                   and d["attempts"] == 1 for d in failed), failed)
    sink.mode = "ok"
    st, p6, _ = author.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                                  "title": "Pendant la pause", "body": ""})
    time.sleep(2.5)
    check("a paused subscription alerts nothing",
          not sql("SELECT 1 FROM alert_deliveries WHERE member_id = ? AND post_id = ?", vol_id(vol_a), p6["id"])
          and not [m for m in sink.to(vol_a.email) if "Pendant la pause" in subject(m)])
    st, doc, _ = vol_a.req("POST", "/api/subscriptions/%d/resume" % s["id"])
    check("resuming: 200, active again, failures forgotten",
          st == 200 and not doc["paused"] and doc["paused_reason"] is None and doc["consecutive_failures"] == 0, doc)
    st, p7, _ = author.req("POST", "/api/posts", {"kind": "request", "category": "groceries",
                                                  "title": "Après la pause", "body": ""})
    got = wait_for(lambda: [m for m in sink.to(vol_a.email) if "Après la pause" in subject(m)], 10)
    check("... the next post is alerted, not those of the pause", got and not
          [m for m in sink.to(vol_a.email) if "Pendant la pause" in subject(m)])
    st, doc, _ = vol_a.req("DELETE", "/api/subscriptions/%d" % s["id"])
    check("vol_a deletes their subscription: 204", st == 204, st)
    st, doc, _ = vol_a.req("DELETE", "/api/subscriptions/%d" % s["id"])
    check("... again: 404", st == 404, st)

    st, text_, _ = anon.metrics()
    sent_now = re.search(rb'mapd_alerts_total\{outcome="sent"\} (\d+)', text_)
    failed_now = re.search(rb'mapd_alerts_total\{outcome="failed"\} (\d+)', text_)
    check("/metrics counts the mails of this server's run: sent, and the 3 refused as failed",
          sent_now and int(sent_now.group(1)) >= 1 and failed_now and int(failed_now.group(1)) == 3,
          (sent_now and sent_now.group(0), failed_now and failed_now.group(0)))

    # ---- the OpenAPI document still validates ----
    st, doc, _ = anon.req("GET", "/api/openapi.json")
    paths = doc.get("paths", {})
    check("OpenAPI documents the alert routes",
          all(p in paths for p in ("/api/subscriptions", "/api/subscriptions/{id}", "/api/subscriptions/test",
                                   "/api/subscriptions/{id}/resume", "/api/deliveries", "/api/unsubscribe")))
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isdir(os.path.join(here, "node_modules", "@seriousme", "openapi-schema-validator")):
        path_ = os.path.join(DB.work, "openapi.json")
        with open(path_, "w") as f:
            json.dump(doc, f)
        script = ("import {Validator} from '@seriousme/openapi-schema-validator';"
                  "const v = new Validator(); const r = await v.validate(process.argv[1]);"
                  "console.log(JSON.stringify(r)); process.exit(r.valid ? 0 : 1);")
        p = subprocess.run(["node", "--input-type=module", "-e", script, path_], cwd=here,
                           capture_output=True, text=True)
        check("/api/openapi.json is valid OpenAPI 3.0", p.returncode == 0, p.stdout[-2000:] + p.stderr[-1000:])

    # ---- privacy sweep ----
    secrets = []
    for r in sql("SELECT email, address_text, home_lon, home_lat FROM members WHERE home_lon IS NOT NULL"):
        secrets.append(("address", r[1]))
        for prec in (4, 5, 6):
            secrets.append(("home point", "%.*f" % (prec, r[2])))
            secrets.append(("home point", "%.*f" % (prec, r[3])))
    leaks = []
    for m in sink.messages:
        text = m["raw"].decode("utf-8", "replace") + "\n" + body(m) + "\n" + subject(m)
        for what, s in secrets:
            if s and s in text:
                leaks.append((what, s, m["rcpts"]))
        for other in sql("SELECT email FROM members"):
            if "<%s>" % other[0] not in m["rcpts"] and other[0] in text:
                leaks.append(("another member's email", other[0], m["rcpts"]))
    for label, text in T.bodies:
        for what, s in secrets:
            if what == "address" and s and s in text:
                leaks.append((what, s, label))
    check("privacy sweep: no address, home point or other member's email in %d mails and %d responses"
          % (len(sink.messages), len(T.bodies)), not leaks, leaks[:5])

    rc = srv.stop()
    check("the server stops cleanly (SIGTERM, exit 0)", rc == 0, rc)
    sink.stop()
    with open(os.path.join(DB.work, "server.log")) as f:
        log = [l for l in f if not l.startswith("127.0.0.1")]
    check("the server's log names no member's email", not any("@example.org" in l for l in log),
          [l for l in log if "@example.org" in l][:3])
    return T.finish()


def vol_id(cl):
    return sql("SELECT id FROM members WHERE email = ?", cl.email)[0][0]


vol_a_id = vol_b_id = vol_d_id = vol_q_id = vol_id

if __name__ == "__main__":
    sys.exit(main())
