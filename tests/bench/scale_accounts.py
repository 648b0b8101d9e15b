#!/usr/bin/python3
"""
tests/bench/scale_accounts.py BASE DB N — registrations and logins through
the API of a running `mapd serve` (run by tests/bench/scale.sh).

N new members register at addresses drawn from DB (inside a neighbourhood,
as a person would type them), then each logs in; CLIENTS clients at once
(1 unless set: the latency of one person's request), each on its own
keep-alive connection. Prints p50, p99 and the slowest of each,
against the target p99 <= 300 ms. The accounts are left in the database,
named scale-bench-*; a rerun uses new names.
"""
import http.client
import json
import os
import random
import sqlite3
import sys
import threading
import time
import urllib.parse

base, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urllib.parse.urlparse(base)
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
top = con.execute("SELECT max(id) FROM addresses").fetchone()[0]
rng = random.Random(int(time.time()))
tag = "%x" % rng.getrandbits(32)
people = []
while len(people) < n:
    row = con.execute("SELECT number, rep, street, postcode, city FROM addresses "
                      "WHERE id >= ? AND neighbourhood_id IS NOT NULL LIMIT 1",
                      (rng.randint(1, top),)).fetchone()
    if row:
        number, rep, street, postcode, city = row
        people.append(("scale-bench-%s-%d@example.org" % (tag, len(people)),
                       "%d%s %s, %s %s" % (number, rep, street, postcode, city)))
con.close()

lock = threading.Lock()
times = {"register": [], "login": []}
errors = []


def client(mine):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for email, address in mine:
        for what, path, body, want in (
                ("register", "/api/members",
                 {"email": email, "password": "scale-bench-password", "display_name": "Bench",
                  "address": address}, 201),
                ("login", "/api/session", {"email": email, "password": "scale-bench-password"}, 200)):
            data = json.dumps(body).encode()
            t = time.perf_counter()
            conn.request("POST", path, data, {"Content-Type": "application/json"})
            r = conn.getresponse()
            answer = r.read()
            dt = time.perf_counter() - t
            with lock:
                if r.status == want:
                    times[what].append(dt)
                else:
                    errors.append("%s %s: %d %s" % (what, address, r.status, answer[:200]))
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            if r.status != want:
                break


clients = int(os.environ.get("CLIENTS", "1"))
threads = [threading.Thread(target=client, args=(people[k::clients],)) for k in range(clients)]
t0 = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.time() - t0
for what, v in times.items():
    v.sort()
    if not v:
        print("  %-9s none succeeded" % what)
        continue
    p99 = v[min(len(v) - 1, int(len(v) * 0.99))] * 1e3
    print("  %-9s %4d   p50 %6.1f ms   p99 %6.1f ms   max %6.1f ms   target p99 <= 300 ms: %s"
          % (what, len(v), v[len(v) // 2] * 1e3, p99, v[-1] * 1e3, "met" if p99 <= 300 else "NOT met"))
print("  %d client(s) at once, %.1f s in all; %d refused" % (clients, wall, len(errors)))
for e in errors[:5]:
    print("  refused: " + e)
