#!/usr/bin/env python3
"""tests/bench/mixed_writes.py ADDR ACCOUNTS SECONDS RATE OUT [READY] — the writing
side of tests/bench/mixed_writes.sh: about RATE writes a second for SECONDS,
as several real members, then every acknowledged write read back.

ACCOUNTS (JSON): {"members": [{"email", "password"}, ...], "staff": {"email",
"password"}, "shops": [id, ...]}. One thread per member, each on its own
connections, writes on a fixed schedule (RATE / members a second; a thread
that falls more than a second behind drops the missed slots rather than
bursting), in a cycle of ten: four creations (POST /api/posts), two claims
of the previous member's open posts (POST /api/posts/{id}/claim), two
completions by the author of posts claimed from them (POST
/api/posts/{id}/done), two shop updates (PATCH /api/shops/{id}, as staff, on
shops of this thread's own: each shop's last acknowledged status is
well defined). A claim or completion with nothing to act on is a creation.

The sessions are opened first; then the file READY, when given, is created
and the clock starts. Afterwards, every acknowledged write is read back
through the API (a post's status as its author sees it, a shop's status),
and OUT (JSON) gets: per
kind of write the answers by status and the latencies' p50 and p99 (ms), the
5xx and socket failures, the writes acknowledged, those read back wrong
("lost"), and the acknowledged state of every post and shop, which
mixed_writes.sh checks again in the database once the server has stopped.
Only the standard library is used.
"""
import http.client
import json
import random
import sys
import threading
import time

IDLE_MAX = 5.0   # seconds: a connection idle longer is replaced (the server closes idle ones)
CYCLE = ("create", "claim", "create", "shop", "done", "create", "claim", "shop", "done", "create")
STATUSES = ("open", "closed", "delivery_only", "takeaway_only")


class Session:
    """One account on a keep-alive connection of its own; a request is sent
    once (a failure is status 0)."""

    def __init__(self, host, port, email, password):
        self.host, self.port = host, port
        self.conn, self.used = None, 0.0
        self.cookie = self.csrf = None
        st, doc = self.call("POST", "/api/session", {"email": email, "password": password})
        if st != 200:
            raise SystemExit("mixed_writes.py: login as %s: %s %s" % (email, st, doc))
        self.csrf = doc["csrf"]

    def call(self, method, path, body=None):
        h = {}
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if self.conn is not None and time.monotonic() - self.used > IDLE_MAX:
            self.conn.close()
            self.conn = None
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.used = time.monotonic()
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
            content = r.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = None
            return 0, None
        cookie = r.getheader("Set-Cookie")
        if cookie and not self.cookie:
            self.cookie = cookie.split(";")[0]
        try:
            doc = json.loads(content) if content[:1] in (b"{", b"[") else None
        except ValueError:
            doc = None
        return r.status, doc


class Book:
    """What every thread did and what was acknowledged, under one lock."""

    def __init__(self, n):
        self.lock = threading.Lock()
        self.answers = {}                     # kind -> {status: count}
        self.latency = {}                     # kind -> [ms]
        self.posts = {}                       # id -> (author index, acknowledged status)
        self.open = [[] for _ in range(n)]    # per author: acknowledged open posts
        self.claimed = [[] for _ in range(n)] # per author: posts claimed from them
        self.shops = {}                       # id -> acknowledged status

    def note(self, kind, st, ms):
        with self.lock:
            a = self.answers.setdefault(kind, {})
            a[st] = a.get(st, 0) + 1
            self.latency.setdefault(kind, []).append(ms)


def timed(book, kind, session, method, path, body=None):
    t = time.monotonic()
    st, doc = session.call(method, path, body)
    book.note(kind, st, (time.monotonic() - t) * 1000)
    return st, doc


def worker(i, n, me, staff, shops, book, start, seconds, rate, rnd):
    prev = (i - 1) % n
    step = n / rate
    next_at, k = start + i * step / n, 0   # the threads' slots interleaved
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            return
        if next_at > now:
            time.sleep(next_at - now)
        elif now - next_at > 1.0:
            next_at = now   # fallen behind: skip the missed slots
        next_at += step
        kind = CYCLE[k % len(CYCLE)]
        k += 1
        with book.lock:
            if kind == "claim":
                pid = book.open[prev].pop(0) if book.open[prev] else None
            elif kind == "done":
                pid = book.claimed[i].pop(0) if book.claimed[i] else None
            else:
                pid = None
        if kind in ("claim", "done") and pid is None:
            kind = "create"
        if kind == "create":
            st, doc = timed(book, kind, me, "POST", "/api/posts",
                            {"kind": rnd.choice(("request", "offer")),
                             "category": rnd.choice(("groceries", "errands", "pharmacy", "pets")),
                             "title": "Charge mixte %d-%d" % (i, k), "body": "Banc d'essai"})
            if st == 201:
                with book.lock:
                    book.posts[doc["id"]] = (i, "open")
                    book.open[i].append(doc["id"])
        elif kind == "claim":
            st, _ = timed(book, kind, me, "POST", "/api/posts/%d/claim" % pid)
            if st == 200:
                with book.lock:
                    book.posts[pid] = (prev, "claimed")
                    book.claimed[prev].append(pid)
        elif kind == "done":
            st, _ = timed(book, kind, me, "POST", "/api/posts/%d/done" % pid)
            if st == 200:
                with book.lock:
                    book.posts[pid] = (i, "done")
        else:
            sid, status = rnd.choice(shops), rnd.choice(STATUSES)
            st, _ = timed(book, "shop", staff, "PATCH", "/api/shops/%d" % sid, {"status": status})
            if st == 200:
                with book.lock:
                    book.shops[sid] = status


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(len(v) * p / 100))], 2)


def main():
    addr, accounts_file, seconds, rate, out = sys.argv[1:6]
    ready = sys.argv[6] if len(sys.argv) > 6 else None
    host, port = addr.split(":")
    seconds, rate = float(seconds), float(rate)
    with open(accounts_file) as f:
        accounts = json.load(f)
    n = len(accounts["members"])
    book = Book(n)
    # Logged in before the clock starts (each login costs a password hash).
    mine = [Session(host, int(port), m["email"], m["password"]) for m in accounts["members"]]
    staff = [Session(host, int(port), accounts["staff"]["email"], accounts["staff"]["password"])
             for _ in range(n)]
    if ready:
        open(ready, "w").close()
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i, n, mine[i], staff[i], accounts["shops"][i::n],
                                                     book, t0, seconds, rate, random.Random(i)))
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    took = time.monotonic() - t0
    stuck = sum(1 for t in threads if t.is_alive())

    # ---- every acknowledged write, read back through the API ----
    readers = [Session(host, int(port), m["email"], m["password"]) for m in accounts["members"]]
    lost = []
    with book.lock:
        posts, shops = dict(book.posts), dict(book.shops)
    for pid, (author, status) in posts.items():
        st, doc = readers[author].call("GET", "/api/posts/%d" % pid)
        got = doc["properties"]["status"] if st == 200 and doc else None
        if got != status:
            lost.append(["post", pid, status, got, st])
    anon = readers[0]
    for sid, status in shops.items():
        st, doc = anon.call("GET", "/api/shops/%d" % sid)
        got = doc["properties"]["status"] if st == 200 and doc else None
        if got != status:
            lost.append(["shop", sid, status, got, st])

    writes = sum(sum(a.values()) for a in book.answers.values())
    summary = {
        "seconds": round(took, 1),
        "threads_stuck": stuck,
        "writes": writes,
        "writes_per_s": round(writes / took, 1) if took else 0,
        "answers": {k: {str(s): c for s, c in sorted(a.items())} for k, a in book.answers.items()},
        "p50_ms": {k: pct(v, 50) for k, v in book.latency.items()},
        "p99_ms": {k: pct(v, 99) for k, v in book.latency.items()},
        "p50_all_ms": pct([x for v in book.latency.values() for x in v], 50),
        "p99_all_ms": pct([x for v in book.latency.values() for x in v], 99),
        "server_errors": sum(c for a in book.answers.values() for s, c in a.items() if s >= 500),
        "socket_errors": sum(a.get(0, 0) for a in book.answers.values()),
        "acknowledged": sum(c for a in book.answers.values() for s, c in a.items() if 200 <= s < 300),
        "lost_api": lost,
        "posts": {str(p): s for p, (_, s) in posts.items()},
        "shops": {str(s): v for s, v in shops.items()},
    }
    with open(out, "w") as f:
        json.dump(summary, f)


if __name__ == "__main__":
    main()
