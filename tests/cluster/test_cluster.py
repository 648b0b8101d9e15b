"""tests/cluster/test_cluster.py — several machines, simulated on this one:
a PostgreSQL primary and its streaming standby (pg_basebackup, synchronous),
three `mapd serve` replicas sharing them, HAProxy in front with health
checks on /healthz. Every part is a real process of the test's own, on
Unix sockets and loopback ports, stopped at the end.

Checked, through HAProxy (round robin: consecutive requests land on
different replicas):
- a session opened on one replica serves on the others; a post created
  through one replica is in the others' lists and tiles within a second;
- the login rate limit is counted across replicas (the database's buckets);
- one replica killed (SIGKILL) in a write burst: every write acknowledged with
  2xx is in the database, and no more requests fail than that replica had in
  flight;
- the primary stopped and the standby promoted (pg_ctl promote): /healthz of
  a replica says 503 while no primary answers, the replicas reconnect by
  themselves (several hosts, target_session_attrs=read-write), writes resume
  within 10 s, and nothing acknowledged is lost.

Usage: test_cluster.py MAPD SAMPLE_DIR
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "api"))

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="entraide-cluster.", dir="/tmp")
os.chmod(WORK, 0o755)
PRIMARY, STANDBY = os.path.join(WORK, "p"), os.path.join(WORK, "s")
os.environ["ENTRAIDE_TEST_PG"] = PRIMARY   # the harness's databases go on the primary

import harness  # noqa: E402  (reads ENTRAIDE_TEST_PG)

PG_BIN = "/usr/lib/postgresql/15/bin"
AUTH_PER_MINUTE = 12   # logins and registrations per client address (all of ours: 127.0.0.1)
SH = os.path.join(HERE, "..", "pg", "pg_private.sh")
T = harness.Suite()


def as_pg(*cmd, **kw):
    """cmd as the cluster's owner (postgres when we are root)."""
    if os.getuid() == 0:
        cmd = ("runuser", "-u", "postgres", "--") + cmd
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def psql(host, db, sql):
    return subprocess.run(["psql", "-h", host, "-U", "postgres", "-d", db, "-qAtX", "-v",
                           "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def start_pair():
    subprocess.run(["bash", "-c", 'source "$0"; pg_private_start "$1"', SH, PRIMARY], check=True)
    os.makedirs(STANDBY)
    if os.getuid() == 0:
        subprocess.run(["chown", "postgres", STANDBY], check=True)
    # -c fast: a checkpoint at once, not one spread over minutes.
    as_pg(PG_BIN + "/pg_basebackup", "-h", PRIMARY, "-U", "postgres", "-D", STANDBY + "/data",
          "-R", "-X", "stream", "-c", "fast")
    as_pg(PG_BIN + "/pg_ctl", "-D", STANDBY + "/data", "-l", STANDBY + "/log", "-w", "-s", "-o",
          "-c listen_addresses='' -c unix_socket_directories='%s' -c port=5432" % STANDBY, "start")
    # Synchronous: a commit returns once the standby has it too, so a
    # promotion loses nothing. Set on the primary only, after the copy.
    psql(PRIMARY, "postgres", "ALTER SYSTEM SET synchronous_standby_names = '*'")
    psql(PRIMARY, "postgres", "SELECT pg_reload_conf()")
    for _ in range(100):
        if psql(PRIMARY, "postgres", "SELECT count(*) FROM pg_stat_replication "
                                     "WHERE state = 'streaming' AND sync_state = 'sync'") == "1":
            return
        time.sleep(0.1)
    raise SystemExit("the standby does not stream")


def stop_all():
    for d in (PRIMARY, STANDBY):
        if os.path.exists(os.path.join(d, "data", "postmaster.pid")):
            subprocess.run(["runuser", "-u", "postgres", "--"] * (os.getuid() == 0)
                           + [PG_BIN + "/pg_ctl", "-D", d + "/data", "-m", "immediate", "-s",
                              "stop"], capture_output=True)


def post(client, title):
    st, doc, _ = client.req("POST", "/api/posts", {"kind": "request", "category": "errands",
                                                   "title": title, "body": "cluster test"})
    return st, (doc or {}).get("id")


def main():
    start_pair()
    db = harness.Database(MAPD, "entraide-cluster-db.")
    _, emails = harness.seeded_city(db, SAMPLE, 30, "cluster", n=8)
    name = db.path.split("dbname=")[1].split()[0]
    db.path = ("host=%s,%s port=5432,5432 dbname=%s user=postgres "
               "target_session_attrs=read-write" % (PRIMARY, STANDBY, name))
    harness.REPLICAS = 3
    srv = harness.Server(db, "--auth-per-minute", str(AUTH_PER_MINUTE), "--threads", "2",
                         "--statement-timeout-ms", "1000")
    try:
        run(srv, emails, name)
    finally:
        srv.stop(signal.SIGTERM)
        stop_all()
    return T.finish()


def run(srv, emails, name):
    check = T.check
    # -- one session, three replicas --
    a = harness.Client(srv, "a")
    check("login through HAProxy", a.login(emails[0], "correct horse")[0] == 200)
    seen = [a.req("GET", "/api/me")[0] for _ in range(6)]
    check("the session serves on every replica", seen == [200] * 6, seen)
    st, pid = post(a, "Courses pour la voisine du 3e")
    check("a post created through one replica", st == 201, st)
    deadline, found = time.time() + 1.0, []
    while time.time() < deadline:
        found = []
        for _ in range(3):
            found.append(a.req("GET", "/api/posts/%s" % pid)[0])
        if found == [200] * 3:
            break
        time.sleep(0.05)
    check("the post is read on every replica within 1 s", found == [200] * 3, found)
    clients = []
    for e in emails[1:7]:
        c = harness.Client(srv, e)
        if c.login(e, "correct horse")[0] == 200:
            clients.append(c)
    check("six more members logged in", len(clients) == 6, len(clients))
    # -- the rate limit counts across replicas: 7 logins so far of the
    # address's 12 a minute (one more may have come back meanwhile); each
    # replica alone would still allow 12 --
    bad = harness.Client(srv, "bad")
    codes = [bad.req("POST", "/api/session", {"email": "nobody@example.org",
                                              "password": "wrong password"})[0]
             for _ in range(10)]
    n401 = codes.count(401)
    check("logins past the limit are refused whichever replica answers",
          n401 in (AUTH_PER_MINUTE - 7, AUTH_PER_MINUTE - 6)
          and codes == [401] * n401 + [429] * (10 - n401), codes)
    # -- a replica killed in a write burst --
    acked, failed, stop = [], [], threading.Event()

    def burst(c):
        i = 0
        while not stop.is_set():
            i += 1
            try:
                st, pid = post(c, "Rafale %s %d" % (c.name, i))
            except Exception as e:   # a connection cut by the kill
                st, pid = repr(e), None
            (acked if st == 201 else failed).append((st, pid))
    threads = [threading.Thread(target=burst, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    time.sleep(1.5)
    victim = srv.p.replicas[1]
    victim.kill()
    time.sleep(2.5)
    stop.set()
    for t in threads:
        t.join()
    ids = [p for _, p in acked]
    stored = set(int(r) for r in psql(PRIMARY, name, "SELECT id FROM posts WHERE id IN (%s)"
                                      % ",".join(str(i) for i in ids)).split()) if ids else set()
    check("writes went on through the kill", len(acked) > 50, len(acked))
    check("every acknowledged write is in the database", stored == set(ids),
          len(set(ids) - stored))
    check("no more failures than the killed replica had in flight",
          len(failed) <= len(clients), failed[:8])
    print("burst: %d acknowledged, %d failed" % (len(acked), len(failed)))
    # -- a slow database: a statement past its budget (1 s here) is cancelled
    # and answered 503 with Retry-After, and the worker serves on --
    locker = subprocess.Popen(["psql", "-h", PRIMARY, "-U", "postgres", "-d", name, "-qAtX", "-c",
                               "BEGIN; LOCK TABLE posts IN ACCESS EXCLUSIVE MODE; "
                               "SELECT pg_sleep(4); COMMIT"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    began = time.time()
    st, _, r = clients[0].req("POST", "/api/posts", {"kind": "offer", "category": "errands",
                                                    "title": "Pendant le verrou", "body": "x"})
    waited = time.time() - began
    check("a write stuck past its time budget is answered 503 with Retry-After",
          st == 503 and r.getheader("Retry-After") == "2" and waited < 3, (st, waited))
    locker.wait()
    check("writes succeed once the database is quick again", post(clients[0], "Après")[0] == 201)
    # -- the primary stopped, the standby promoted --
    w = clients[0]
    log, stop = [], threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            i += 1
            try:
                st, pid = post(w, "Bascule %d" % i)
            except Exception as e:
                st, pid = repr(e), None
            log.append((time.time(), st, pid))
            time.sleep(0.05)
    live = srv.replica_ports[0]
    t = threading.Thread(target=writer)
    t.start()
    time.sleep(1.0)
    as_pg(PG_BIN + "/pg_ctl", "-D", PRIMARY + "/data", "-m", "fast", "-s", "stop")
    t0 = time.time()   # the primary is down: no write can succeed until the promotion
    probe = harness.Server.__new__(harness.Server)
    probe.port = live
    h = harness.Client(probe, "probe").req("GET", "/healthz")[0]
    check("/healthz says not ready while no primary answers", h == 503, h)
    as_pg(PG_BIN + "/pg_ctl", "-D", STANDBY + "/data", "-w", "-s", "promote")
    deadline = time.time() + 15
    while time.time() < deadline and not any(ts > t0 and st == 201 for ts, st, _ in log):
        time.sleep(0.05)
    time.sleep(1.0)
    stop.set()
    t.join()
    resumed = [ts for ts, st, _ in log if ts > t0 and st == 201]
    took = resumed[0] - t0 if resumed else None
    print("failover: writes resumed %.2f s after the primary stopped (%d refused meanwhile)"
          % (took or -1, sum(1 for ts, st, _ in log if ts > t0 and st != 201)))
    check("writes resume within 10 s of the primary's stop", took is not None and took <= 10, took)
    ids = [p for _, st, p in log if st == 201]
    got = set(int(r) for r in psql(STANDBY, name, "SELECT id FROM posts WHERE id IN (%s)"
                                    % ",".join(str(i) for i in ids)).split()) if ids else set()
    check("nothing acknowledged is lost in the failover", got == set(ids), len(set(ids) - got))
    h = harness.Client(probe, "probe2").req("GET", "/healthz")[0]
    check("/healthz is ready again on the new primary", h == 200, h)


if __name__ == "__main__":
    sys.exit(main())
