#!/usr/bin/env python3
"""tests/api/test_logins.py MAPD SAMPLE_DIR — password checks run off the
request threads (mapd/pool.h, --hash-threads): against a real `mapd serve`
with two workers and one hashing thread, a flood of 150 concurrent
wrong-password logins queues behind the hashing thread, while ordinary
requests are answered meanwhile (each before the flood's last answer: an
order, not a timing); the queue is bounded (what finds it full gets 503 at
once, saying why, in French for a French reader); every login gets 401 or
503, never a session; and afterwards the right password logs in, a
registration (its password hashed by the same threads) works, and the
server stops cleanly.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client, Database, Server, Suite  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DB = Database(MAPD, "entraide-logins.")
check, sql = T.check, DB.sql
FLOOD = 150


def main():
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    DB.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB.path)
    DB.run("user", "add", "--db", DB.path, "--email", "staff@example.org", "--role", "staff",
           "--password-stdin", stdin="correct horse\n")
    srv = Server(DB, "--threads", "2", "--hash-threads", "1", "--auth-per-minute", "100000")
    one = srv.one()   # the threads and queue of one process (a replica's, behind a balancer)

    results, done_at = [], []
    lock = threading.Lock()
    start = threading.Barrier(FLOOD + 1)

    def wrong_login(i):
        cl = Client(one, "flood %d" % i)
        if i % 2:
            cl.lang = "fr"
        start.wait()
        # One account each (unknown ones cost the same hash): the per-account
        # limit, tested in test_hardening.py, stays out of this flood.
        st, doc, _ = cl.req("POST", "/api/session", {"email": "flood%d@example.org" % i, "password": "wrong %d" % i})
        with lock:
            results.append((st, doc, cl.lang, time.monotonic()))
            done_at.append(time.monotonic())

    threads = [threading.Thread(target=wrong_login, args=(i,)) for i in range(FLOOD)]
    for t in threads:
        t.start()
    start.wait()
    time.sleep(0.2)   # the flood is queued by now
    reader = Client(one, "reader")
    answered = []
    for _ in range(5):
        st, _, _ = reader.req("GET", "/api/stats")
        answered.append((st, time.monotonic()))
    for t in threads:
        t.join(timeout=300)
    check("every flooding login got an answer", len(results) == FLOOD, len(results))
    last_read = max(at for _, at in answered)
    checked = [at for st, _, _, at in results if st == 401]
    before = sum(1 for at in checked if at < last_read)
    check("ordinary requests were answered while the flood waited: before them, %d of the %d "
          "checked logins had been answered" % (before, len(checked)),
          all(st == 200 for st, _ in answered) and last_read < max(done_at)
          and checked and before < len(checked) / 2, [st for st, _ in answered])
    codes = sorted({st for st, _, _, _ in results})
    full = [doc for st, doc, _, _ in results if st == 503]
    check("each flooding login got 401 or 503, never a session (%s)" % codes,
          set(codes) <= {401, 503} and 401 in codes, codes)
    check("the queue is bounded: %d got 503 at once, saying why" % len(full),
          full and all(d and d.get("detail") in (
              "too many passwords are being checked; try again in a moment",
              "Trop de mots de passe sont en cours de vérification ; réessayez dans un instant.")
              for d in full), full[:2])
    check("no session was made", sql("SELECT count(*) FROM sessions")[0][0] == 0)

    staff = Client(srv, "staff")
    st, doc = staff.login("staff@example.org", "correct horse")
    check("after the flood the right password logs in", st == 200 and doc["role"] == "staff", doc)
    n, street, pc = sql("SELECT number, street, postcode FROM addresses WHERE neighbourhood_id IS NOT NULL "
                        "AND rep = '' ORDER BY id LIMIT 1")[0]
    new = Client(srv, "new")
    st, doc, _ = new.req("POST", "/api/members", {"email": "new@example.org", "password": "a good password",
                                                  "display_name": "Nouvelle", "address": "%d %s %s" % (n, street, pc)})
    check("a registration is hashed by the same threads and works", st == 201 and doc["neighbourhood"], doc)
    st, doc = new.login("new@example.org", "a good password")
    check("... and its password logs in", st == 200, doc)
    check("server stops cleanly", srv.stop() == 0)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
