#!/usr/bin/env python3
"""tests/api/test_events.py MAPD SAMPLE_DIR — the live stream, GET /api/events,
against a real `mapd serve` on 127.0.0.1: Server-Sent Events read off the
socket by each kind of viewer, who gets which event, ids and resuming with
Last-Event-ID (from the ring in memory, from the store's feed, and past
what the feed keeps), heartbeats, caps per address and in total, streams
that hold no worker, bad input, and a clean stop with streams open.

Neighbourhoods are chosen from the data: A has the most contiguous
neighbours, B is contiguous to A, C is neither A nor next to it.
"""
import json
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FEED_FLOOD, Client as BaseClient, Database, Server, Suite, addresses_in, registered  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
# The database may be built by another build of the same tree
# (ENTRAIDE_CONCURRENCY_SETUP_MAPD, as test_concurrency.py: a ThreadSanitizer
# build reports GDAL's own locking during imports); the server is MAPD.
DB = Database(os.environ.get("ENTRAIDE_CONCURRENCY_SETUP_MAPD") or MAPD, "entraide-events.")
check, sql = T.check, DB.sql
PASSWORD = "correct horse"


class Client(BaseClient):
    def __init__(self, server, name):
        super().__init__(server, name, T)


class Stream:
    """One EventSource-like reader of /api/events over a raw socket (HTTP/1.0,
    so the body is the stream itself), from a given source address."""

    def __init__(self, port, cookie=None, last_id=None, query="", source="127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(source, 0))
        head = "GET /api/events%s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" % query
        if cookie:
            head += "Cookie: %s\r\n" % cookie
        if last_id is not None:
            head += "Last-Event-ID: %s\r\n" % last_id
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        header, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in
                        (l.split(":", 1) for l in lines[1:] if ":" in l)}
        self.closed = False
        self.blocks = []      # every block read: {"comment": [...], "id", "event", "data"}
        T.bodies.append(("stream " + query, ""))  # the privacy sweep reads self.text below

    def read(self, seconds):
        """Reads for up to `seconds` (less once the server ends the body);
        returns the new blocks."""
        end = time.monotonic() + seconds
        self.sock.settimeout(0.1)
        while time.monotonic() < end and not self.closed:
            try:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.closed = True
                self.buf += chunk
            except socket.timeout:
                pass
        new = []
        while b"\n\n" in self.buf:
            raw, _, self.buf = self.buf.partition(b"\n\n")
            text = raw.decode()
            T.bodies.append(("stream", text))
            block = {"comment": []}
            for line in text.split("\n"):
                if line.startswith(":"):
                    block["comment"].append(line[1:].strip())
                elif ":" in line:
                    k, _, v = line.partition(":")
                    block[k] = v[1:] if v.startswith(" ") else v
            if "data" in block:
                block["json"] = json.loads(block["data"])
            new.append(block)
        self.blocks += new
        return new

    def events(self, seconds, kind=None):
        return [b for b in self.read(seconds) if "event" in b and (kind is None or b["event"] == kind)]

    def close(self):
        self.sock.close()


def member(srv, email, address, name):
    return registered(Client(srv, name), email, address, name, PASSWORD)


def address_in(nb, offset=0):
    return addresses_in(DB, nb, 1, offset)[0]


def read_all(streams, seconds):
    """What each stream of streams (name: Stream) gets in the same `seconds`,
    read side by side."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(streams)) as pool:
        reads = {name: pool.submit(s.read, seconds) for name, s in streams.items()}
        return {name: r.result() for name, r in reads.items()}


def post_events(blocks, pid):
    return [b["json"]["action"] for b in blocks if b.get("event") == "post"
            and b["json"]["post"].get("id") == pid]
def main():
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    DB.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB.path)
    DB.run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", DB.path)
    a = sql("SELECT a FROM neighbourhood_contiguity GROUP BY a ORDER BY count(*) DESC, a LIMIT 1")[0][0]
    b = sql("SELECT b FROM neighbourhood_contiguity WHERE a = ? ORDER BY b LIMIT 1", a)[0][0]
    near = {a} | {r[0] for r in sql("SELECT b FROM neighbourhood_contiguity WHERE a = ?", a)}
    c = sql("SELECT id FROM neighbourhoods WHERE id NOT IN (%s) ORDER BY id LIMIT 1"
            % ",".join("?" * len(near)), *near)[0][0]
    DB.run("user", "add", "--db", DB.path, "--email", "staff@example.org", "--role", "staff",
           "--password-stdin", stdin=PASSWORD + "\n")
    DB.mapd = MAPD
    srv = Server(DB, "--auth-per-minute", "1000", "--events-heartbeat", "1", "--threads", "2")
    ma = member(srv, "a@example.org", address_in(a), "Alice")
    md = member(srv, "d@example.org", address_in(a, 1), "Dana")
    mb = member(srv, "b@example.org", address_in(b), "Bob")
    mc = member(srv, "c@example.org", address_in(c), "Chloé")
    staff = Client(srv, "staff")
    staff.login("staff@example.org", PASSWORD)

    # ---- opening ----
    t0 = time.monotonic()
    anon = Stream(srv.port)
    first = anon.read(0.5)
    check("a stream opens at once with 200 and ': connected'", anon.status == 200 and first
          and first[0]["comment"] == ["connected"] and time.monotonic() - t0 < 2, first[:2])
    check("headers: text/event-stream, not cached, not buffered by a proxy",
          anon.headers.get("content-type", "").startswith("text/event-stream")
          and anon.headers.get("cache-control") == "no-store"
          and anon.headers.get("x-accel-buffering") == "no", anon.headers)
    sa, sb, sc, sd = (Stream(srv.port, cl.cookie) for cl in (ma, mb, mc, md))
    sstaff = Stream(srv.port, staff.cookie)
    streams = [anon, sa, sb, sc, sd, sstaff]
    for s in streams:
        s.read(0.2)
    hb = anon.read(2.5)
    check("an idle stream gets a heartbeat comment (--events-heartbeat 1)",
          any("heartbeat" in blk["comment"] for blk in hb), hb)

    # ---- who gets what ----
    st, p, _ = ma.req("POST", "/api/posts", {"kind": "request", "category": "errands",
                                             "title": "Poster une lettre"})
    pid = p["id"]
    got = read_all(dict(zip("anon A B C D staff".split(), streams)), 1.5)
    seq = sql("SELECT max(seq) FROM changes WHERE layer = 'needs' AND ref_id = ?", pid)[0][0]
    ev_b = [blk for blk in got["B"] if blk.get("event") == "post"]
    check("a member of a contiguous neighbourhood gets the new post, with the feed's id",
          ev_b and ev_b[0]["json"]["action"] == "created" and ev_b[0]["json"]["post"]["id"] == pid
          and ev_b[0]["id"] == str(seq), ev_b)
    check("so do its author and staff",
          post_events(got["A"], pid) == ["created"] and post_events(got["staff"], pid) == ["created"],
          (got["A"], got["staff"]))
    check("a distant member and an anonymous visitor do not",
          not post_events(got["C"], pid) and not post_events(got["anon"], pid), (got["C"], got["anon"]))

    st, _, _ = mb.req("POST", "/api/posts/%d/claim" % pid)
    st, _, _ = mb.req("POST", "/api/posts/%d/comments" % pid, {"body": "J'y vais à midi"})
    got = read_all(dict(zip("anon A B C D staff".split(), streams)), 1.5)
    check("the claim reaches the author and the neighbours", post_events(got["A"], pid) == ["claimed"]
          and post_events(got["D"], pid) == ["claimed"], got["A"])
    com = [blk["json"] for blk in got["A"] if blk.get("event") == "comment"]
    check("a new comment is a comment event with the post's new count",
          com == [{"post_id": pid, "comments": 1}], com)
    check("the distant member gets neither",
          not post_events(got["C"], pid) and not [x for x in got["C"] if x.get("event") == "comment"])
    check("the claim's address never reaches a stream",
          all(address_in(a) not in blk.get("data", "") for s in streams for blk in s.blocks))

    shop = sql("SELECT min(id) FROM shops")[0][0]   # another process changes a shop
    DB.write("UPDATE shops SET status = 'closed' WHERE id = ?", shop)
    got = read_all(dict(zip("anon A B C D staff".split(), streams)), 1.5)
    check("a shop changed by another process reaches every stream, anonymous ones too",
          all([x["json"]["shop"]["id"] for x in got[n] if x.get("event") == "shop"] == [shop]
              for n in got), {n: [x.get("event") for x in got[n]] for n in got})

    staff.req("POST", "/api/posts/%d/hide" % pid)
    got = read_all(dict(zip("anon A B C D staff".split(), streams)), 1.5)
    check("a hidden post: 'removed' to the neighbours", post_events(got["D"], pid) == ["removed"]
          and "title" not in json.dumps([x["json"] for x in got["D"] if x.get("event") == "post"]),
          got["D"])
    check("... its author and staff still get it", post_events(got["A"], pid) == ["claimed"]
          and post_events(got["staff"], pid) == ["claimed"], (got["A"], got["staff"]))
    staff.req("POST", "/api/posts/%d/restore" % pid)

    # ---- resuming ----
    last = [blk["id"] for blk in sb.blocks if "id" in blk][-1]
    sb.close()
    missed = [ma.req("POST", "/api/posts", {"kind": "offer", "category": "pets",
                                            "title": "Promener un chien %d" % i})[1]["id"] for i in range(3)]
    sb = Stream(srv.port, mb.cookie, last_id=last)
    streams[2] = sb
    again = [blk["json"]["post"]["id"] for blk in sb.events(1.5, "post")
             if blk["json"]["action"] == "created"]
    check("a reconnection with Last-Event-ID gets what it missed, once, in order", again == missed,
          (again, missed))
    sq = Stream(srv.port, mb.cookie, query="?last_event_id=%s" % last)
    again = [blk["json"]["post"]["id"] for blk in sq.events(1.5, "post") if blk["json"]["action"] == "created"]
    check("... or with ?last_event_id=", again == missed, again)
    sq.close()

    # Older than the events kept in memory (1,024): replayed from the store.
    mark = sql("SELECT max(seq) FROM changes")[0][0]
    # every shop, twice, by another process: more changes than the ring holds
    DB.write("UPDATE shops SET status = 'open'")
    DB.write("UPDATE shops SET status = 'closed'")
    for s in streams:
        s.read(0.1)
    time.sleep(1.5)
    changed = sql("SELECT count(*) FROM changes WHERE seq > ? AND layer = 'shops'", mark)[0][0]
    old = Stream(srv.port, None, last_id=mark)
    shops_seen = old.events(4, "shop")
    check("a Last-Event-ID older than the ring is replayed from the store's feed (%d shop events)"
          % changed, changed > 1024 and len(shops_seen) == changed
          and len({x["id"] for x in shops_seen}) == changed, (len(shops_seen), changed))
    old.close()

    # Older than the feed keeps (its last 100,000 changes): reset.
    DB.write(FEED_FLOOD % "makers")
    stale = Stream(srv.port, mb.cookie, last_id=1)
    resets = stale.events(2, "reset")
    check("a Last-Event-ID older than the feed keeps gets one 'reset' event", len(resets) == 1, resets)
    stale.close()

    # ---- bad input ----
    for hdr, why in (("abc", "letters"), ("-5", "a negative number"), ("99999999999999999999", "too big")):
        bad = Stream(srv.port, last_id=hdr)
        check("Last-Event-ID with %s: 400" % why, bad.status == 400, bad.status)
        bad.close()
    bad = Stream(srv.port, query="?colour=red")
    check("an unknown argument: 400", bad.status == 400, bad.status)
    bad.close()

    # ---- streams hold no worker (two threads, twenty streams) ----
    # What one process does with its own threads: asked of it directly.
    one = srv.one()
    idle = [Stream(one.port, source="127.0.0.%d" % (2 + i % 4)) for i in range(20)]
    t0 = time.monotonic()
    codes = [Client(one, "x").req("GET", "/healthz")[0] for _ in range(20)]
    check("with 20 idle streams on 2 worker threads, other requests are answered at once",
          codes == [200] * 20 and time.monotonic() - t0 < 5, (codes, time.monotonic() - t0))
    st, body, _ = Client(one, "m").raw("GET", "/metrics")
    gauge = [l for l in body.decode().splitlines() if l.startswith("mapd_event_streams ")]
    check("/metrics counts the open streams", gauge and int(gauge[0].split()[1]) >= 20, gauge)
    for s in idle:
        s.close()

    # ---- a clean stop with streams open ----
    t0 = time.monotonic()
    rc = srv.stop()
    for s in (anon, sa, sb, sc, sd, sstaff):
        s.read(1)
    check("SIGTERM with streams open: the server exits 0 at once and the streams end",
          rc == 0 and time.monotonic() - t0 < 8 and all(s.closed for s in (anon, sa, sc, sd, sstaff)),
          (rc, time.monotonic() - t0))

    # ---- caps ----
    # Each process's own (behind a balancer, each replica's: docs/scaling.md).
    srv = Server(DB, "--events-max", "4", "--events-per-address", "2", "--events-heartbeat", "1")
    port = srv.one().port
    s1, s2 = Stream(port), Stream(port)
    s3 = Stream(port)
    check("a third stream from one address (--events-per-address 2): 429", s3.status == 429, s3.status)
    s4, s5 = Stream(port, source="127.0.0.2"), Stream(port, source="127.0.0.3")
    s6 = Stream(port, source="127.0.0.4")
    check("streams from other addresses, up to --events-max 4; then 503",
          (s1.status, s2.status, s4.status, s5.status, s6.status) == (200, 200, 200, 200, 503),
          (s1.status, s2.status, s4.status, s5.status, s6.status))
    s1.close()
    time.sleep(2.5)  # a suspended stream's end is seen at its next heartbeat (1 s here)
    s7 = Stream(port, source="127.0.0.4")
    check("a closed stream frees its place by its next heartbeat", s7.status == 200, s7.status)
    check("server stops cleanly (caps)", srv.stop() == 0)
    srv = Server(DB, "--events-max", "0")
    off = Stream(srv.port)
    check("--events-max 0: no live stream (503)", off.status == 503, off.status)
    check("server stops cleanly (no stream)", srv.stop() == 0)

    # ---- privacy ----
    needles = ["@example.org"] + [address_in(x, i) for x, i in ((a, 0), (a, 1), (b, 0), (c, 0))]
    homes = sql("SELECT home_lon, home_lat FROM members WHERE home_lon IS NOT NULL")
    own = ("POST /api/session", "POST /api/members")
    leaks = [(label, n) for label, body in T.bodies for n in needles
             if n in body and not label.endswith(own)]
    for label, body in T.bodies:   # any coordinate pair within 2 m of a home
        for x, y in re.findall(r"\[(-?\d+\.\d+),(-?\d+\.\d+)\]", body):
            if any(abs(float(x) - lon) < 2e-5 and abs(float(y) - lat) < 2e-5 for lon, lat in homes):
                leaks.append((label, (x, y)))
    check("privacy sweep: no email, address or home point in any event or response", not leaks, leaks[:5])
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
