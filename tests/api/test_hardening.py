#!/usr/bin/env python3
"""tests/api/test_hardening.py — what a hostile client tries at the HTTP
level, against a real `mapd serve` on 127.0.0.1: requests framed two ways
(smuggling), more query arguments than the server keeps, HEAD and 405 on
every route, the page's security headers and its Content-Security-Policy
(checked against our own hash of its inline scripts), the per-account login
limit, X-Forwarded-For believed only from --trusted-proxy, slow and idle
connections closed at the request deadline, the connection cap answered 503,
and the refusal to serve as root.

Usage: test_hardening.py MAPD SAMPLE_DIR
"""
import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client, Database, Server, Suite  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DB = Database(MAPD, "entraide-hardening.")
check = T.check


def raw(port, data, wait=3.0):
    """Sends data on a new connection; (everything received, closed by the
    server within wait)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    s.sendall(data)
    out, closed = b"", False
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return out, closed


def one_problem(out, status):
    """out is exactly one response with status and a problem+json body of
    its Content-Length, nothing after it."""
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 %d " % status):
        return False
    fields = dict(l.split(b":", 1) for l in lines[1:] if b":" in l)
    fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
    if fields.get(b"content-type") != b"application/problem+json":
        return False
    if int(fields.get(b"content-length", b"-1")) != len(body):
        return False
    try:
        return json.loads(body).get("status") == status
    except ValueError:
        return False


def framing(srv):
    post = b"POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    cases = {
        "two Content-Length headers": post + b"Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
        "two equal Content-Length headers": post + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        "Content-Length with Transfer-Encoding":
            post + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "Transfer-Encoding with a space before the colon":
            post + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "a Transfer-Encoding other than chunked": post + b"Transfer-Encoding: gzip, chunked\r\n\r\n",
        "Transfer-Encoding in HTTP/1.0":
            b"POST /api/session HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 without Host": b"GET /healthz HTTP/1.1\r\n\r\n",
        "two Host headers": b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "a control character in a value": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
        "a bare CR in a value": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
        "a name that is not a token": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n",
    }
    for name, data in cases.items():
        out, closed = raw(srv.port, data)
        check("framing: %s is one 400 problem+json, then closed" % name,
              one_problem(out, 400) and closed, out[:300])
    # The same server answers a well-framed request on a new connection.
    out, _ = raw(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("framing: a well-framed request is answered 200", out.startswith(b"HTTP/1.1 200"), out[:200])
    out, _ = raw(srv.port, b"POST /api/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
                           b"Content-Type: application/json\r\nConnection: close\r\n\r\n"
                           b"2\r\n{}\r\n0\r\n\r\n")
    check("framing: a chunked body alone is read (422: fields missing)",
          out.startswith(b"HTTP/1.1 422"), out[:200])


def query_args(srv):
    def get(n):
        q = "&".join("a%d=1" % i for i in range(n))
        return raw(srv.port, ("GET /healthz?%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                              % q).encode())[0]
    check("query: 64 arguments are read", get(64).startswith(b"HTTP/1.1 200"))
    for n in (65, 240, 1000, 2000):
        out = get(n)
        check("query: %d arguments are one 414 problem+json" % n, one_problem(out, 414), out[:200])
    # Every size of head up to past the buffer gets an answer (200 or 431),
    # outside libmicrohttpd 0.9.75's own band (docs/security.md).
    silent = []
    for size in range(1000, 15900, 700):
        out, _ = raw(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size
                     + b"\r\nConnection: close\r\n\r\n")
        if not (out.startswith(b"HTTP/1.1 200") or out.startswith(b"HTTP/1.1 431")):
            silent.append(size)
    for size in range(16200, 40000, 2000):
        out, _ = raw(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size
                     + b"\r\nConnection: close\r\n\r\n")
        if not out.startswith(b"HTTP/1.1 431"):
            silent.append(size)
    check("headers: every size from 1 KB to 40 KB is answered 200 or 431", not silent, silent)


def methods(srv, staff):
    st, spec, _ = staff.req("GET", "/api/openapi.json")
    paths = [p for p, ops in spec["paths"].items() if "get" in ops]
    bad = []
    for p in paths:
        url = re.sub(r"\{[^}]+\}", "1", p)
        if p == "/api/events":  # a stream: its GET does not end
            gs, gr = 200, staff.raw("HEAD", url)[2]
        else:
            gs, gbody, gr = staff.raw("GET", url)
        hs, hbody, hr = staff.raw("HEAD", url)
        if hs != gs or hbody != b"" or (hs == 200 and hr.getheader("Content-Type")
                                        != gr.getheader("Content-Type")):
            bad.append((p, gs, hs, len(hbody)))
    check("HEAD answers every GET route of the OpenAPI document as GET does, without a body "
          "(%d routes)" % len(paths), not bad and len(paths) > 30, bad)
    for method, url, allow in (("PUT", "/api/stats", "GET, HEAD"),
                               ("DELETE", "/api/posts", "GET, HEAD, POST"),
                               ("POST", "/api/posts/7", "GET, HEAD, PATCH"),
                               ("PATCH", "/tiles/1/0/0.mvt", "GET, HEAD"),
                               ("POST", "/ogc/collections/shops/items", "GET, HEAD")):
        st, body, r = staff.raw(method, url, data=b"{}")
        check("405 with Allow: %s %s" % (method, url),
              st == 405 and r.getheader("Allow") == allow, (st, r.getheader("Allow")))
    st, _, r = staff.raw("POST", "/no/such/page", data=b"{}")
    check("an unknown path with another method is 404, not 405", st == 404, st)


def inline_script_hashes(html):
    hashes = []
    for m in re.finditer(rb"<script([^>]*)>(.*?)</script", html, re.S):
        if re.search(rb"\ssrc\s*=", m.group(1)):
            continue
        hashes.append("'sha256-%s'" % base64.b64encode(hashlib.sha256(m.group(2)).digest()).decode())
    return hashes


def page_headers(srv, secure_srv):
    c = Client(srv, "visitor")
    st, html, r = c.raw("GET", "/", headers={"Accept-Encoding": "br, gzip"})
    csp = r.getheader("Content-Security-Policy") or ""
    c2 = Client(srv, "visitor2")
    _, identity, _ = c2.raw("GET", "/")
    hashes = inline_script_hashes(identity)
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    script = directives.get("script-src", "")
    check("page: a Content-Security-Policy with a hash of each inline script (%d)" % len(hashes),
          st == 200 and hashes and all(h in script.split() for h in hashes)
          and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, csp)
    check("page: frame-ancestors 'none', X-Frame-Options DENY, Referrer-Policy",
          directives.get("frame-ancestors") == "'none'" and r.getheader("X-Frame-Options") == "DENY"
          and r.getheader("Referrer-Policy") == "same-origin", dict(r.getheaders()))
    check("page: default-src and connect-src are our own origin",
          directives.get("default-src") == "'self'"
          and directives.get("connect-src", "").split()[0] == "'self'"
          and "*" not in csp, csp)
    check("no Strict-Transport-Security without --cookie-secure",
          r.getheader("Strict-Transport-Security") is None)
    st, _, r = c.raw("GET", "/healthz")
    check("the API sends no page policy", r.getheader("Content-Security-Policy") is None)
    s = Client(secure_srv, "tls visitor")
    for url in ("/", "/healthz", "/api/posts"):
        st, _, r = s.raw("GET", url)
        check("--cookie-secure: Strict-Transport-Security on %s" % url,
              (r.getheader("Strict-Transport-Security") or "").startswith("max-age="), st)


def account_limit():
    # Behind a trusted proxy (127.0.0.1 itself here), four client addresses
    # try one account: the account's budget, not the addresses', stops them.
    # The clients here are the proxy: they reach one process directly.
    srv = Server(DB, "--trusted-proxy", "127.0.0.1", "--auth-per-minute", "1000",
                 "--account-per-hour", "600", "--hash-threads", "1")
    one = srv.one()
    try:
        codes = []
        for i in range(14):
            c = Client(one, "guesser %d" % i)
            st, doc, _ = c.raw("POST", "/api/session",
                               body={"email": "Member@Example.org", "password": "guess %d" % i},
                               headers={"X-Forwarded-For": "203.0.113.%d" % (i % 4 + 1)})
            codes.append(st)
        check("account: 10 wrong passwords from 4 addresses are 401, then 429",
              codes[:10] == [401] * 10 and 429 in codes[10:], codes)
        other = Client(one, "other")
        st, _ = other.login("staff@example.org", "correct horse")
        check("account: another account logs in meanwhile", st == 200, st)
        time.sleep(6.5)   # --account-per-hour 600: one attempt every 6 s
        owner = Client(one, "owner")
        st, _ = owner.login("member@example.org", "member's password")
        check("account: the owner logs in once the next attempt is due", st == 200, st)
        codes = []
        for i in range(10):
            c = Client(one, "guesser again %d" % i)
            st, _, _ = c.raw("POST", "/api/session",
                             body={"email": "member@example.org", "password": "again %d" % i})
            codes.append(st)
        check("account: a successful login gives the account its ten attempts back",
              codes == [401] * 10, codes)
    finally:
        srv.stop()


def logins_from(srv, prefix, forwarded):
    """Five wrong logins, each on a new connection with the X-Forwarded-For
    forwarded(i): their statuses."""
    codes = []
    for i in range(5):
        c = Client(srv, "%s %d" % (prefix, i))
        st, _, _ = c.raw("POST", "/api/session", body={"email": "%s%d@example.org" % (prefix, i),
                                                       "password": "p"},
                         headers={"X-Forwarded-For": forwarded(i)})
        codes.append(st)
    return codes


def forwarded_for():
    # Without --trusted-proxy, X-Forwarded-For is the client's own words.
    srv = Server(DB, "--auth-per-minute", "3")
    try:
        codes = logins_from(srv, "spoofer", lambda i: "198.51.100.%d" % i)
        check("X-Forwarded-For from an untrusted peer is ignored: one bucket",
              codes[:3] == [401] * 3 and codes[3:] == [429, 429], codes)
    finally:
        srv.stop()
    srv = Server(DB, "--auth-per-minute", "3", "--trusted-proxy", "127.0.0.1")
    try:   # the clients are the proxy, reaching one process directly
        codes = logins_from(srv.one(), "proxied", lambda i: "10.9.9.9, 198.51.100.%d" % i)
        check("behind --trusted-proxy each forwarded client has its own bucket",
              codes == [401] * 5, codes)
    finally:
        srv.stop()
    with open(os.path.join(DB.work, "server.log")) as f:
        log = f.read()
    check("the access log names the forwarded client, not the proxy",
          re.search(r"^198\.51\.100\.4 POST /api/session 401 ", log, re.M) is not None)


def slow_clients():
    # One process's own deadlines and connection cap.
    server = Server(DB, "--request-timeout", "2", "--max-connections", "6")
    srv = server.one()
    try:
        # One header line a second: alive by libmicrohttpd's silence timeout,
        # closed by the request deadline.
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        closed_after = None
        for i in range(8):
            time.sleep(1)
            try:
                s.sendall(b"X-Slow-%d: 1\r\n" % i)
                s.settimeout(0.01)
                if s.recv(1) == b"":
                    closed_after = time.monotonic() - start
                    break
            except socket.timeout:
                continue
            except OSError:
                closed_after = time.monotonic() - start
                break
        s.close()
        check("slow: a head sent a line a second is cut at the 2 s deadline",
              closed_after is not None and closed_after < 4.5, closed_after)
        # A connection that says nothing.
        idle = socket.create_connection(("127.0.0.1", srv.port))
        idle.settimeout(6)
        t0 = time.monotonic()
        try:
            got = idle.recv(1)
        except OSError:
            got = b""
        check("slow: a silent connection is closed at the deadline",
              got == b"" and time.monotonic() - t0 < 4.5, time.monotonic() - t0)
        # The cap: six connections are served, the seventh hears 503.
        held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(6)]
        time.sleep(0.5)   # accepted by the server's threads, whichever
        out, closed = raw(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        check("cap: past --max-connections a request is one 503 problem+json, then closed",
              one_problem(out, 503) and closed, out[:200])
        for h in held:
            h.close()
        time.sleep(0.3)
        c = Client(srv, "after")
        st, _, _ = c.raw("GET", "/healthz")
        check("cap: served again once connections close", st == 200, st)
        # A keep-alive client that asks, waits under the deadline and asks again is served.
        c = Client(srv, "steady")
        ok = []
        for _ in range(3):
            ok.append(c.raw("GET", "/healthz")[0])
            time.sleep(1)
        check("slow: a keep-alive client within the deadline is served", ok == [200] * 3, ok)
    finally:
        server.stop()


def root():
    if os.geteuid() != 0:
        print("# not root: the refusal to serve as root is not exercised here")
        return
    env = dict(os.environ)
    env.pop("MAPD_ALLOW_ROOT", None)
    p = subprocess.run([MAPD, "serve", "--db", DB.path, "--listen", "127.0.0.1:0"], env=env,
                       capture_output=True, text=True, timeout=30)
    check("root: mapd serve refuses to run as root unless told (exit 2, says why)",
          p.returncode == 2 and "--allow-root" in p.stderr, (p.returncode, p.stderr))
    p = subprocess.Popen([MAPD, "serve", "--db", DB.path, "--listen", "127.0.0.1:0", "--allow-root"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    p.terminate()
    p.wait(timeout=15)
    check("root: --allow-root serves", "serving http://" in line, line)


def main():
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    DB.run("user", "add", "--db", DB.path, "--email", "staff@example.org", "--role", "staff",
           "--password-stdin", stdin="correct horse\n")
    DB.run("user", "add", "--db", DB.path, "--email", "member@example.org", "--role", "member",
           "--password-stdin", stdin="member's password\n")
    srv = Server(DB)
    secure = Server(DB, "--cookie-secure")
    try:
        staff = Client(srv, "staff", T)
        st, _ = staff.login("staff@example.org", "correct horse")
        check("staff logs in", st == 200, st)
        framing(srv.one())      # the HTTP parser of one process, not a balancer's
        query_args(srv.one())
        methods(srv, staff)
        page_headers(srv, secure)
    finally:
        rc = srv.stop()
        check("the server stops cleanly after all that", rc == 0, rc)
        secure.stop()
    account_limit()
    forwarded_for()
    slow_clients()
    root()
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
