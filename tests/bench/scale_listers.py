#!/usr/bin/python3
"""
tests/bench/scale_listers.py BASE DB — two members for the HTTP API benchmark
at the size of a country (tests/bench/scale.sh): they register through the API
of a running `mapd serve` at two addresses of the neighbourhood that holds the
most live posts, so that "posts within 1 km returning 50" is measured where
there are 50 to return, as it would be for a member of a town rather than of
a hamlet. Prints their e-mail addresses on one line; the password is
scale-bench-password. A rerun registers new ones.
"""
import http.client
import json
import random
import sqlite3
import sys
import time
import urllib.parse

base, db = sys.argv[1], sys.argv[2]
url = urllib.parse.urlparse(base)
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
nb = con.execute("SELECT neighbourhood_id FROM posts WHERE status = 'open' AND hidden = 0 "
                 "AND neighbourhood_id IS NOT NULL GROUP BY neighbourhood_id "
                 "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
rows = con.execute("SELECT number, rep, street, postcode, city FROM addresses "
                   "WHERE neighbourhood_id = ? ORDER BY id LIMIT 200", (nb,)).fetchall()
con.close()
rng = random.Random(int(time.time()))
tag = "%x" % rng.getrandbits(32)
emails = []
for k, (number, rep, street, postcode, city) in enumerate(rng.sample(rows, 2)):
    email = "scale-lister-%s-%d@example.org" % (tag, k)
    body = {"email": email, "password": "scale-bench-password", "display_name": "Lister",
            "address": "%d%s %s, %s %s" % (number, rep, street, postcode, city)}
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("POST", "/api/members", json.dumps(body).encode(), {"Content-Type": "application/json"})
    r = conn.getresponse()
    answer = r.read()
    if r.status != 201:
        sys.exit("scale_listers.py: registering %s refused: %d %s" % (body["address"], r.status, answer[:200]))
    emails.append(email)
print(" ".join(emails))
