#!/usr/bin/env python3
"""tests/api/test_proxy.py — `mapd serve --trusted-proxy` behind a real nginx
(Debian's), configured as docs/operations.md says, both on 127.0.0.1:

- what libmicrohttpd 0.9.75 would accept ambiguously (a folded header line, a
  Content-Length that is not a number or is negative, a space before a
  header's colon) is refused by nginx and never reaches mapd, and a head with
  bare-LF line ends reaches mapd rewritten with CRLF (docs/security.md);
- the Host the proxy passes on starts /tiles.json's URLs;
- the client's own X-Forwarded-For is not believed: the proxy appends the
  address it saw, and that is the address mapd logs.

Usage: test_proxy.py MAPD SAMPLE_DIR
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BALANCER_SOURCE, Database, Server, Suite  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DB = Database(MAPD, "entraide-proxy.")
check = T.check


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def send(port, data, wait=3.0, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
    s.settimeout(wait)
    s.sendall(data)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    s.close()
    return out


def start_nginx(upstream):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    conf = os.path.join(DB.work, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off;
pid %(w)s/nginx.pid;
error_log %(w)s/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %(w)s;
  proxy_temp_path %(w)s;
  fastcgi_temp_path %(w)s;
  uwsgi_temp_path %(w)s;
  scgi_temp_path %(w)s;
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      proxy_pass http://127.0.0.1:%(up)d;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
    }
  }
}
""" % {"w": DB.work, "port": port, "up": upstream})
    p = subprocess.Popen([nginx, "-c", conf, "-e", os.path.join(DB.work, "nginx-error.log")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start")


def log_lines():
    """The access log's lines, but a balancer's health checks (harness.py)."""
    with open(os.path.join(DB.work, "server.log")) as f:
        return [l for l in f if re.match(r"^[\d.:a-f-]+ \S+ \S+ \d+ ", l)
                and not l.startswith(BALANCER_SOURCE + " GET /healthz ")]


def main():
    DB.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB.path)
    srv = Server(DB, "--trusted-proxy", "127.0.0.1", "--log-flush-ms", "0")
    mapd = srv.one()   # nginx in front of one process (a replica, behind a balancer)
    nginx, port = start_nginx(mapd.port)
    try:
        before = len(log_lines())
        for name, raw in (
                ("a folded header line", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"),
                ("a Content-Length that is not a number",
                 b"POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
                ("a negative Content-Length",
                 b"POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
                ("a space before a header's colon",
                 b"POST /api/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n")):
            out = send(port, raw)
            check("behind nginx, %s is refused by the proxy (400)" % name,
                  out.startswith(b"HTTP/1.1 400"), out[:80])
        time.sleep(0.3)
        check("none of them reached mapd", len(log_lines()) == before, log_lines()[before:])

        out = send(port, b"GET /healthz HTTP/1.1\nHost: x\nConnection: close\n\n")
        check("a head with bare-LF line ends reaches mapd rewritten, and is answered 200",
              out.startswith(b"HTTP/1.1 200") and b'"status":"ok"' in out, out[:120])

        out = send(port, b"GET /tiles.json HTTP/1.1\r\nHost: entraide.example\r\nConnection: close\r\n\r\n")
        check("/tiles.json through the proxy: URLs start with the Host the proxy passes on",
              b'"http://entraide.example/tiles/{z}/{x}/{y}.mvt"' in out, out[-300:])
        # From 127.0.0.2, another loopback address than the proxy's.
        out = send(mapd.port, b"GET /tiles.json HTTP/1.1\r\nHost: entraide.example\r\nConnection: close\r\n\r\n",
                   source="127.0.0.2")
        check("/tiles.json straight to mapd from another address, its Host naming another port: not echoed",
              b"entraide.example" not in out and b"/tiles/{z}/{x}/{y}.mvt" in out, out[-300:])

        time.sleep(0.3)   # the lines of the requests above are written
        mark = len(log_lines())
        out = send(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n"
                         b"Connection: close\r\n\r\n")
        time.sleep(0.3)
        new = log_lines()[mark:]
        check("a client's own X-Forwarded-For is not believed: mapd logs the address the proxy saw",
              out.startswith(b"HTTP/1.1 200") and len(new) == 1 and new[0].startswith("127.0.0.1 GET /healthz 200"),
              new)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=15)
        check("mapd stops cleanly", srv.stop() == 0)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
