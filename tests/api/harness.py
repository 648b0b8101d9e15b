"""tests/api/harness.py — what the API tests share: a real `mapd serve` on
127.0.0.1 (ephemeral port) over a database of the test's own, keep-alive
clients with a session cookie and CSRF token, checks that count, and a
decoder of vector tiles through GDAL's MVT driver (ogrinfo).

Only the standard library and gdal-bin are used.
"""
import atexit
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import tempfile


class Suite:
    """Counts checks; every response body is kept, as text, for privacy
    sweeps: (label, text) in bodies."""

    def __init__(self):
        self.passes, self.fails = 0, 0
        self.bodies = []

    def check(self, name, cond, detail=""):
        if cond:
            self.passes += 1
            print("ok -", name)
        else:
            self.fails += 1
            print("FAIL -", name, detail)

    def finish(self):
        print("%d passed, %d failed" % (self.passes, self.fails))
        return 1 if self.fails else 0


# The socket directory of a private PostgreSQL (tests/pg/pg_private.sh) when
# the tests run against the PostgreSQL store; unset for SpatiaLite.
PG_DIR = os.environ.get("ENTRAIDE_TEST_PG")
_PG_QUERY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pg_query.py")


# 101,000 entries of one layer into the change feed, in one statement that
# both engines run: more than the feed keeps, so its oldest are pruned.
FEED_FLOOD = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 101000) "
              "INSERT INTO changes(layer, ref_id) SELECT '%s', 0 FROM n")


class Database:
    """A database of the test's own, filled with `mapd` commands: a file in
    a fresh directory, or with ENTRAIDE_TEST_PG a fresh database (with
    PostGIS) on that PostgreSQL, named by its connection string in path."""

    def __init__(self, mapd, prefix):
        self.mapd = mapd
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.path = os.path.join(self.work, "test.sqlite")
        if PG_DIR:
            name = "t_" + os.path.basename(self.work).replace(".", "_").replace("-", "_").lower()
            for db, stmt in (("postgres", "CREATE DATABASE %s" % name),
                             (name, "CREATE EXTENSION postgis")):
                subprocess.run(["psql", "-h", PG_DIR, "-U", "postgres", "-d", db, "-qAtX",
                                "-v", "ON_ERROR_STOP=1", "-c", stmt], check=True,
                               capture_output=True)
            self.path = "host=%s dbname=%s user=postgres" % (PG_DIR, name)

    def run(self, *args, stdin=None):
        return subprocess.run([self.mapd, *args], input=stdin, capture_output=True, text=True,
                              check=True).stdout

    def _pg(self, query, params, write):
        out = subprocess.run(["/usr/bin/python3", _PG_QUERY, self.path], capture_output=True,
                             text=True, check=True,
                             input=json.dumps({"sql": query,
                                               "params": [{"b": p.hex()} if isinstance(p, bytes)
                                                          else p for p in params],
                                               "write": write})).stdout
        return [tuple(bytes.fromhex(v["b"]) if isinstance(v, dict) else v for v in row)
                for row in json.loads(out)["rows"]]

    def sql(self, query, *params):
        if PG_DIR:
            return self._pg(query, params, False)
        with sqlite3.connect("file:%s?mode=ro" % self.path, uri=True) as c:
            return c.execute(query, params).fetchall()

    def write(self, query, *params):
        """A write by another process than the server (plain SQLite, or psycopg2)."""
        if PG_DIR:
            self._pg(query, params, True)
            return
        with sqlite3.connect(self.path) as c:
            c.execute(query, params)


# With ENTRAIDE_TEST_REPLICAS=N (2 or more, and a PostgreSQL store), a
# "server" is N `mapd serve` replicas behind HAProxy (round robin, health
# checks on /healthz): the tests talk to HAProxy, so consecutive requests of
# one client land on different replicas. HAProxy is set up as
# docs/operations.md deploys it: it adds X-Forwarded-For, the replicas trust
# it (--trusted-proxy), and a client's export requests stay on one replica.
# What is each process's own (its HTTP parser, connection caps, threads,
# the address it listens at) the tests ask of one replica (Server.one), and
# /metrics is summed over the replicas (Client.metrics).
REPLICAS = int(os.environ.get("ENTRAIDE_TEST_REPLICAS", "0") or 0)

_HAPROXY_CFG = """global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    retries 2
    option redispatch
    option forwardfor
    source %(source)s
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1
frontend entraide
    bind 127.0.0.1:%(port)d
    acl exports path_beg /api/export
    use_backend mapd_exports if exports
    default_backend mapd
backend mapd
    balance roundrobin
%(servers)s
# A background export lives on the replica that made it: a client's
# export requests stay on one replica (docs/operations.md).
backend mapd_exports
    balance roundrobin
    stick-table type ip size 100k expire 1h
    stick on src
%(servers)s
"""


# The address HAProxy connects to the replicas from: none of the tests'
# clients' (127.0.0.1, and 127.0.0.2-5 for test_events' streams).
BALANCER_SOURCE = "127.0.0.9"


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Group:
    """The processes of a cluster as one: what tests do to a server's
    process (kill, wait, poll, send_signal) is done to every replica; HAProxy
    stops with them."""

    def __init__(self, replicas, proxy):
        self.replicas, self.proxy = replicas, proxy
        self.pid = replicas[0].pid
        self.returncode = None

    def send_signal(self, sig):
        for p in self.replicas:
            if p.poll() is None:
                p.send_signal(sig)

    def kill(self):
        """The whole service killed: the balancer first, so that clients see
        their connections cut (as a single server's do), not its 503s."""
        if self.proxy.poll() is None:
            self.proxy.kill()
        self.send_signal(signal.SIGKILL)

    def poll(self):
        codes = [p.poll() for p in self.replicas]
        if any(c is not None for c in codes):
            self.returncode = next(c for c in codes if c is not None)
            return self.returncode
        return None

    def wait(self, timeout=None):
        codes = [p.wait(timeout=timeout) for p in self.replicas]
        if self.proxy.poll() is None:
            self.proxy.terminate()
            self.proxy.wait(timeout=10)
        self.returncode = next((c for c in codes if c != 0), 0)
        return self.returncode


class Server:
    def __init__(self, db, *extra):
        self.db = db
        self.log = open(os.path.join(db.work, "server.log"), "a")
        atexit.register(self._reap)   # a test that dies leaves no server behind
        if REPLICAS >= 2:
            self._cluster(extra)
            return
        self.p = subprocess.Popen([db.mapd, "serve", "--db", db.path, "--listen", "127.0.0.1:0",
                                   *extra], stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.p.stdout.readline()
        self.port = int(line.split("http://127.0.0.1:")[1].split("/")[0])

    def _reap(self):
        p = getattr(self, "p", None)
        if p is not None and (isinstance(p, _Group) or p.poll() is None):
            p.kill()   # a group kills what of it still runs
            p.wait()

    def _cluster(self, extra):
        import time
        replicas, ports = [], []
        # As docs/operations.md deploys them: the replicas trust the
        # balancer (its own source address here), which adds
        # X-Forwarded-For and passes the clients' Host on. A test that names
        # a proxy of its own reaches one replica through it (Server.one).
        if "--trusted-proxy" not in extra:
            extra = ("--trusted-proxy", BALANCER_SOURCE) + tuple(extra)
        for _ in range(REPLICAS):
            p = subprocess.Popen([self.db.mapd, "serve", "--db", self.db.path, "--listen",
                                  "127.0.0.1:0", *extra], stdout=subprocess.PIPE,
                                 stderr=self.log, text=True)
            line = p.stdout.readline()
            replicas.append(p)
            ports.append(int(line.split("http://127.0.0.1:")[1].split("/")[0]))
        self.replica_ports = ports
        self.port = _free_port()
        cfg = os.path.join(self.db.work, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(_HAPROXY_CFG % {"port": self.port, "source": BALANCER_SOURCE, "servers": "\n".join(
                "    server r%d 127.0.0.1:%d check" % (i, port) for i, port in enumerate(ports))})
        proxy = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=self.log, stderr=self.log)
        self.p = _Group(replicas, proxy)
        for _ in range(100):  # until HAProxy answers and has found the replicas up
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)

    def one(self):
        """The server as one process: itself, or in a cluster its first
        replica reached directly — for what is each process's own (its HTTP
        parser, caps, threads and queues, the listen address it names)."""
        return _One(self, self.replica_ports[0]) if REPLICAS >= 2 else self

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        rc = self.p.wait(timeout=15)
        if rc != 0:  # show why: the server's last words, without the access log
            with open(os.path.join(self.db.work, "server.log")) as f:
                print("".join(l for l in f.readlines()[-400:] if not l.startswith("127.0.0.1"))[-3000:])
        return rc


class _One:
    """One replica of a cluster, as a server of its own (Server.one)."""

    def __init__(self, server, port):
        self.db, self.port = server.db, port


def _summed_metrics(texts):
    """Prometheus texts of several replicas as one: each series' samples
    summed (what `sum by` the series gives), comments of the first kept."""
    order, total = [], {}
    for i, text in enumerate(texts):
        for line in text.splitlines():
            if not line or line.startswith("#"):
                if i == 0:
                    order.append((line, None))
                continue
            series, value = line.rsplit(" ", 1)
            if series not in total:
                order.append((series, True))
                total[series] = 0.0
            total[series] += float(value)
    return "\n".join(k if v is None else "%s %s" % (k, ("%d" % total[k]) if total[k].is_integer()
                                                    else repr(total[k])) for k, v in order) + "\n"


class Client:
    """One actor: a keep-alive connection, its session cookie and CSRF token."""

    def __init__(self, server, name, suite=None):
        self.server, self.name, self.suite = server, name, suite
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.cookie = None
        self.csrf = None
        self.lang = None    # the Accept-Language header, when set

    def raw(self, method, path, body=None, headers=None, csrf=True, data=None,
            ctype="application/json", label=None):
        """(status, bytes, response) without decoding. body is sent as JSON,
        data (bytes) as it is with Content-Type ctype; label names the
        response among the suite's bodies."""
        h = dict(headers or {})
        if self.lang and "Accept-Language" not in h:
            h["Accept-Language"] = self.lang
        if self.cookie:
            h["Cookie"] = self.cookie
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        if data is None and body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h["Content-Type"] = ctype
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
        content = r.read()
        if self.suite is not None:
            self.suite.bodies.append((label or "%s %s %s" % (self.name, method, path),
                                      content.decode("utf-8", "replace")))
        cookie = r.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";")[0]
        return r.status, content, r

    def req(self, method, path, body=None, csrf=True, raw=None, ctype="application/json",
            label=None):
        """(status, JSON document or None, response); raw: a body sent as it is."""
        st, content, r = self.raw(method, path, body, csrf=csrf, data=raw, ctype=ctype,
                                  label=label)
        try:
            doc = json.loads(content) if content else None
        except ValueError:
            doc = None
        return st, doc, r

    def metrics(self):
        """(status, bytes, response) of GET /metrics for the whole service:
        the server's, or in a cluster every replica's scraped and summed, as
        a monitoring system sums them (docs/scaling.md)."""
        if REPLICAS < 2 or not hasattr(self.server, "replica_ports"):
            return self.raw("GET", "/metrics")
        texts, last = [], None
        for port in self.server.replica_ports:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/metrics", headers={"Cookie": self.cookie} if self.cookie else {})
            last = c.getresponse()
            texts.append(last.read().decode())
            c.close()
            if last.status != 200:
                return last.status, texts[-1].encode(), last
        body = _summed_metrics(texts).encode()
        if self.suite is not None:
            self.suite.bodies.append(("%s GET /metrics" % self.name, body.decode()))
        return 200, body, last

    def login(self, email, password):
        st, doc, _ = self.req("POST", "/api/session", {"email": email, "password": password})
        if st == 200:
            self.csrf = doc["csrf"]
        return st, doc


def addresses_in(db, nb, n, offset=0):
    """n typed addresses ("12 Rue X 75011") of neighbourhood nb, from the data."""
    rows = db.sql("SELECT number, street, postcode FROM addresses WHERE neighbourhood_id = ? "
                  "AND rep = '' ORDER BY id LIMIT ? OFFSET ?", nb, n, offset)
    return ["%d %s %s" % r for r in rows]


def registered(client, email, address, name, password="correct horse"):
    """client, registered at address through the API and logged in."""
    st, doc, _ = client.req("POST", "/api/members", {"email": email, "password": password,
                                                     "display_name": name, "address": address})
    assert st == 201, (st, doc)
    client.login(email, password)
    return client


def seeded_city(db, sample, posts, prefix, n=4):
    """The sample city imported into db (neighbourhoods, addresses, shops) and
    seeded with posts, then n more members living in the neighbourhood of the
    seeded benevole@ (authors and claimers), added as PREFIX0@example.org…:
    (nb, their emails). Addresses that do not verify alone are skipped."""
    db.run("import", "neighbourhoods", os.path.join(sample, "neighbourhoods.geojson"), "--db", db.path)
    db.run("import", "addresses", os.path.join(sample, "addresses.csv.gz"), "--db", db.path)
    db.run("import", "shops", os.path.join(sample, "shops.geojson"), "--db", db.path)
    db.run("seed", "--db", db.path, "--posts", str(posts))
    nb = db.sql("SELECT neighbourhood_id FROM members WHERE email = 'benevole@entraide.example'")[0][0]
    emails = []
    for number, street, postcode in db.sql("SELECT number, street, postcode FROM addresses WHERE "
                                           "neighbourhood_id = ? AND rep = '' ORDER BY id LIMIT 40", nb):
        email = "%s%d@example.org" % (prefix, len(emails))
        try:
            db.run("user", "add", "--db", db.path, "--email", email, "--role", "member",
                   "--address", "%s %s %s" % (number, street, postcode), "--password-stdin",
                   stdin="correct horse\n")
        except subprocess.CalledProcessError:
            continue
        emails.append(email)
        if len(emails) == n:
            break
    return nb, emails


_FEATURE = re.compile(r"^OGRFeature\((\w+)\):(\d+)$")
_FIELD = re.compile(r"^  (\w+) \(([\w()]+)\) = (.*)$")
_POINT = re.compile(r"^  POINT \(([-\d.e]+) ([-\d.e]+)\)$")


def decode_tile(data, work):
    """{layer: [properties + {"_x", "_y"} for points]} of an MVT, in tile
    coordinates (y down), decoded by GDAL's MVT driver."""
    path = os.path.join(work, "decode.mvt")
    with open(path, "wb") as f:
        f.write(data)
    layers = {}
    if not data:
        return layers
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-q", "-oo", "CLIP=NO", path],
                         capture_output=True, text=True, check=True).stdout
    cur = None
    for line in out.splitlines():
        m = _FEATURE.match(line)
        if m:
            cur = {}
            layers.setdefault(m.group(1), []).append(cur)
            continue
        if cur is None:
            continue
        m = _FIELD.match(line)
        if m and m.group(3) != "(null)":
            name, kind, value = m.groups()
            cur[name] = int(value) if kind.startswith("Integer") else \
                float(value) if kind == "Real" else value
            continue
        m = _POINT.match(line)
        if m:
            cur["_x"], cur["_y"] = float(m.group(1)), float(m.group(2))
    return layers
