#!/usr/bin/env python3
"""tests/api/test_static.py MAPD BUILT_WEB_DIR SAMPLE_DIR — the static file
server (mapd/static_files.c) against a real `mapd serve` on 127.0.0.1.

First on a web root made here, in a temporary directory, holding each case:
content negotiation of precompressed siblings (q-values, br preferred, a
stale sibling ignored), Vary, strong ETags and If-None-Match / 304 (before
If-Modified-Since), immutable caching only under /assets/, byte ranges on
the identity representation (If-Range), and the refusals: dotfiles, a
symlink leading out of the root, a symlinked directory leading out of it, a
FIFO (answered at once, the workers still free). Then on the web map as
web/build.mjs built it (BUILT_WEB_DIR, the `web` target): the page and every
file it names served compressed with the right headers.
"""
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, Database, Server, Suite  # noqa: E402

MAPD, BUILT, SAMPLE = sys.argv[1], sys.argv[2], sys.argv[3]
T = Suite()

JS = ("/* a module of the test web root */\n" + "export const words = %r;\n" % ("entraide " * 200)).encode()
PAGE = ("<!doctype html><title>test</title>" + "<p>voisins</p>" * 100).encode()


def write(path, data, mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def make_root():
    """A web root with one file per case, and a directory outside it."""
    base = tempfile.mkdtemp(prefix="entraide-static.")
    root, outside = os.path.join(base, "root"), os.path.join(base, "outside")
    t0 = 1_700_000_000 * 10**9
    write(os.path.join(root, "index.html"), PAGE, t0)
    write(os.path.join(root, "index.html.gz"), gzip.compress(PAGE, 9), t0 + 1)
    write(os.path.join(root, "app.js"), JS, t0)
    write(os.path.join(root, "app.js.gz"), gzip.compress(JS, 9), t0 + 5)
    # Not real brotli (the standard library has none): the server never reads
    # what it sends, and the exact bytes show which file was sent.
    write(os.path.join(root, "app.js.br"), b"BROTLI-SIBLING-OF-app.js", t0 + 5)
    write(os.path.join(root, "plain.css"), b"body{color:#222}" * 20, t0)          # no sibling
    write(os.path.join(root, "stale.json"), b'{"edited":true}' * 20, t0 + 10**9)  # edited after
    write(os.path.join(root, "stale.json.gz"), gzip.compress(b'{"edited":false}' * 20), t0)
    write(os.path.join(root, "stale.json.br"), b"OLD", t0)
    write(os.path.join(root, "image.png"), b"\x89PNG\r\n\x1a\n" + bytes(300), t0)
    write(os.path.join(root, "image.png.gz"), b"never sent", t0 + 5)
    write(os.path.join(root, "assets", "main-ABCD1234.js"), JS, t0)
    write(os.path.join(root, "assets", "main-ABCD1234.js.gz"), gzip.compress(JS, 9), t0 + 5)
    write(os.path.join(root, "sub", "index.html"), b"<p>sub</p>", t0)
    write(os.path.join(root, "sub", "file.txt"), b"inside, through a symlinked directory", t0)
    # Dotfiles and files under dot-directories.
    write(os.path.join(root, ".env"), b"SECRET=1", t0)
    write(os.path.join(root, ".git", "config"), b"[core]", t0)
    write(os.path.join(root, "node_modules", ".package-lock.json"), b"{}", t0)
    write(os.path.join(root, "node_modules", "lib", "index.js"), b"export default 1;\n", t0)
    write(os.path.join(root, ".well-known", "security.txt"), b"Contact: x", t0)
    # Symlinks: out of the root (file, directory), inside it (directory, file).
    write(os.path.join(outside, "secret.txt"), b"outside the web root", t0)
    os.symlink(os.path.join(outside, "secret.txt"), os.path.join(root, "leak.txt"))
    os.symlink(outside, os.path.join(root, "out"))
    os.symlink(os.path.join(root, "sub"), os.path.join(root, "alias"))
    os.symlink(os.path.join(root, "app.js"), os.path.join(root, "same.js"))
    # FIFOs: as a file, and as the .br sibling of a real file.
    os.mkfifo(os.path.join(root, "pipe.js"))
    write(os.path.join(root, "fifo-sib.js"), JS, t0)
    os.mkfifo(os.path.join(root, "fifo-sib.js.br"))
    return root


def stop(srv):
    """Stops srv; a server that does not stop in 15 s (a worker stuck on a
    FIFO) is killed, and the check fails."""
    try:
        rc = srv.stop()
    except subprocess.TimeoutExpired:
        srv.p.send_signal(signal.SIGKILL)
        srv.p.wait(timeout=15)
        rc = "did not stop in 15 s: killed"
    T.check("server stops cleanly", rc == 0, rc)


def get(c, path, **headers):
    headers = {k: v if v is not None else "" for k, v in headers.items()}  # a header missing before
    st, body, r = c.raw("GET", path, headers=headers)
    return st, body, r


def h(r, name):
    return r.getheader(name)


def negotiation(c):
    st, body, r = get(c, "/app.js")
    T.check("no Accept-Encoding: the file itself, with Vary and a strong ETag",
            st == 200 and body == JS and h(r, "Content-Encoding") is None
            and h(r, "Vary") == "Accept-Encoding" and re.fullmatch(r'"[0-9a-f-]+"', h(r, "ETag") or "")
            and h(r, "Content-Type") == "text/javascript; charset=utf-8",
            (st, r.getheaders()))
    identity_etag = h(r, "ETag")
    st, body, r = get(c, "/app.js", **{"Accept-Encoding": "gzip"})
    T.check("gzip accepted: the .gz sibling, the original's type, its own ETag",
            st == 200 and h(r, "Content-Encoding") == "gzip" and gzip.decompress(body) == JS
            and h(r, "Content-Type") == "text/javascript; charset=utf-8"
            and h(r, "ETag").endswith('-gz"') and h(r, "ETag") != identity_etag
            and h(r, "Vary") == "Accept-Encoding", (st, r.getheaders()))
    cases = [
        ("gzip, deflate, br", "br"),
        ("br", "br"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0", None),
        ("gzip;q=0, br;q=0", None),
        ("BR;Q=0.0, *;q=0.5", "gzip"),
        ("*", "br"),
        ("*;q=0", None),
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("gzip;q=0.5, br;q=0.5", "br"),
        ("br;q=0.001", "br"),
        ("br;q=2, gzip", "gzip"),       # malformed q: that entry weighs nothing
        ("x-gzip", "gzip"),
        ("identity", None),
        ("deflate", None),
        ("brotli, gzipped", None),      # names are matched whole
    ]
    for ae, want in cases:
        st, body, r = get(c, "/app.js", **{"Accept-Encoding": ae})
        got = h(r, "Content-Encoding")
        expect_body = {"br": b"BROTLI-SIBLING-OF-app.js", None: JS}.get(want)
        ok = st == 200 and got == want and (want == "gzip" and gzip.decompress(body) == JS
                                            or body == expect_body)
        T.check("Accept-Encoding %r -> %s" % (ae, want or "identity"), ok, (st, got))
    st, body, r = get(c, "/plain.css", **{"Accept-Encoding": "br, gzip"})
    T.check("no sibling: the file itself, still with Vary",
            st == 200 and h(r, "Content-Encoding") is None and h(r, "Vary") == "Accept-Encoding"
            and body == b"body{color:#222}" * 20, (st, r.getheaders()))
    st, body, r = get(c, "/stale.json", **{"Accept-Encoding": "br, gzip"})
    T.check("siblings older than their original (an edited config.json) are ignored",
            st == 200 and h(r, "Content-Encoding") is None and body == b'{"edited":true}' * 20,
            (st, h(r, "Content-Encoding"), body[:40]))
    st, body, r = get(c, "/image.png", **{"Accept-Encoding": "gzip"})
    T.check("an image is not negotiated: no Vary, no .gz sent",
            st == 200 and h(r, "Vary") is None and h(r, "Content-Encoding") is None
            and body.startswith(b"\x89PNG"), (st, r.getheaders()))
    st, body, r = get(c, "/", **{"Accept-Encoding": "gzip"})
    T.check("/ is index.html, negotiated too",
            st == 200 and h(r, "Content-Encoding") == "gzip" and gzip.decompress(body) == PAGE
            and h(r, "Content-Type") == "text/html; charset=utf-8")
    c.conn.request("HEAD", "/app.js", headers={"Accept-Encoding": "gzip"})
    r = c.conn.getresponse()
    body = r.read()
    T.check("HEAD: the headers of GET, no body",
            r.status == 200 and body == b"" and h(r, "Content-Encoding") == "gzip"
            and int(h(r, "Content-Length")) == len(gzip.compress(JS, 9)), r.getheaders())


def revalidation(c):
    st, _, r = get(c, "/app.js", **{"Accept-Encoding": "br"})
    etag_br, modified = h(r, "ETag") or "", h(r, "Last-Modified")
    st, body, r = get(c, "/app.js", **{"Accept-Encoding": "br", "If-None-Match": etag_br})
    T.check("If-None-Match with the ETag: 304, no body, the ETag, Vary and Cache-Control again",
            st == 304 and body == b"" and h(r, "ETag") == etag_br and h(r, "Vary") == "Accept-Encoding"
            and h(r, "Cache-Control") == "no-cache", (st, r.getheaders()))
    st, _, _ = get(c, "/app.js", **{"Accept-Encoding": "br", "If-None-Match": "W/" + etag_br})
    T.check("a weak W/ form matches too (weak comparison)", st == 304, st)
    st, _, _ = get(c, "/app.js", **{"Accept-Encoding": "br", "If-None-Match": '"other", %s' % etag_br})
    T.check("an ETag among others matches", st == 304, st)
    st, _, _ = get(c, "/app.js", **{"If-None-Match": "*"})
    T.check("If-None-Match: * matches an existing file", st == 304, st)
    st, body, _ = get(c, "/app.js", **{"If-None-Match": etag_br})
    T.check("the br ETag does not validate the identity representation", st == 200 and body == JS, st)
    st, _, r = get(c, "/app.js", **{"Accept-Encoding": "br", "If-None-Match": '"stale"',
                                    "If-Modified-Since": modified})
    T.check("If-None-Match takes precedence over If-Modified-Since", st == 200, st)
    st, _, _ = get(c, "/app.js", **{"Accept-Encoding": "br", "If-Modified-Since": modified})
    T.check("If-Modified-Since alone, equal to Last-Modified: 304", st == 304, st)
    # A changed file gets a new ETag.
    st, _, r = get(c, "/plain.css")
    before = h(r, "ETag")
    path = os.path.join(ROOT, "plain.css")
    os.utime(path, ns=(os.stat(path).st_mtime_ns + 1, os.stat(path).st_mtime_ns + 1))
    st, _, r = get(c, "/plain.css", **{"If-None-Match": before})
    T.check("a file touched since: new ETag, sent again", st == 200 and h(r, "ETag") != before,
            (st, before, h(r, "ETag")))


def caching(c):
    st, _, r = get(c, "/assets/main-ABCD1234.js", **{"Accept-Encoding": "gzip"})
    T.check("/assets/ (content-hashed names): public, a year, immutable",
            st == 200 and h(r, "Cache-Control") == "public, max-age=31536000, immutable"
            and h(r, "Content-Encoding") == "gzip", (st, r.getheaders()))
    etag = h(r, "ETag")
    st, _, r = get(c, "/assets/main-ABCD1234.js", **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    T.check("... and its 304 says so too",
            st == 304 and h(r, "Cache-Control") == "public, max-age=31536000, immutable", st)
    for p in ["/", "/app.js", "/sub/", "/image.png"]:
        st, _, r = get(c, p)
        T.check("%s is revalidated (no-cache)" % p, st == 200 and h(r, "Cache-Control") == "no-cache",
                (st, h(r, "Cache-Control")))


def ranges(c):
    st, body, r = get(c, "/app.js", **{"Range": "bytes=10-19", "Accept-Encoding": "br, gzip"})
    T.check("a byte range is a slice of the identity representation, never compressed",
            st == 206 and body == JS[10:20] and h(r, "Content-Encoding") is None
            and h(r, "Content-Range") == "bytes 10-19/%d" % len(JS), (st, r.getheaders()))
    identity = h(r, "ETag")
    st, body, r = get(c, "/app.js", **{"Range": "bytes=-5"})
    T.check("a suffix range", st == 206 and body == JS[-5:], st)
    st, body, r = get(c, "/app.js", **{"Range": "bytes=10-19", "If-Range": identity})
    T.check("If-Range with the current ETag: the range", st == 206 and body == JS[10:20], st)
    st, body, r = get(c, "/app.js", **{"Range": "bytes=10-19", "If-Range": '"changed"'})
    T.check("If-Range with another ETag: the whole file", st == 200 and body == JS, st)
    st, body, r = get(c, "/app.js", **{"Range": "bytes=%d-" % (len(JS) + 10)})
    T.check("an unsatisfiable range: 416 with the size",
            st == 416 and h(r, "Content-Range") == "bytes */%d" % len(JS), (st, r.getheaders()))


def refusals(c):
    for p in ["/.env", "/.git/config", "/node_modules/.package-lock.json", "/.well-known/security.txt",
              "/%2eenv", "/sub/../.env", "/./app.js"]:
        st, body, r = get(c, p)
        T.check("dotfile %s: 404 problem+json" % p,
                st == 404 and h(r, "Content-Type") == "application/problem+json", st)
    st, body, _ = get(c, "/node_modules/lib/index.js")
    T.check("a plain file under node_modules is still served (the development page needs them)",
            st == 200 and body == b"export default 1;\n", st)
    st, body, _ = get(c, "/leak.txt")
    T.check("a symlink leading out of the root: 404", st == 404 and b"outside" not in body, st)
    st, body, _ = get(c, "/out/secret.txt")
    T.check("a file through a symlinked directory leading out of the root: 404",
            st == 404 and b"outside" not in body, st)
    st, body, _ = get(c, "/alias/file.txt")
    T.check("a symlinked directory that stays inside the root works",
            st == 200 and body == b"inside, through a symlinked directory", st)
    st, _, _ = get(c, "/same.js")
    T.check("a symlink as the file itself is refused, even inside (O_NOFOLLOW)", st == 404, st)
    st, _, _ = get(c, "/sub")
    T.check("a directory without its slash: 404", st == 404, st)
    st, body, _ = get(c, "/sub/")
    T.check("a directory with its slash: its index.html", st == 200 and body == b"<p>sub</p>", st)


def fifos(srv):
    """Each request on a fresh connection, with a 5 s timeout: a worker stuck
    in open() on a FIFO would make these time out, and with --threads 2
    four of them would leave no worker for the last request."""
    for i in range(4):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        t0 = time.monotonic()
        try:
            conn.request("GET", "/pipe.js")
            r = conn.getresponse()
            r.read()
            st = r.status
        except OSError as e:
            st = repr(e)
        T.check("a FIFO (request %d): 404 at once (%.0f ms)" % (i + 1, (time.monotonic() - t0) * 1000),
                st == 404 and time.monotonic() - t0 < 2, st)
        conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("GET", "/fifo-sib.js", headers={"Accept-Encoding": "br"})
    r = conn.getresponse()
    body = r.read()
    T.check("a FIFO as the .br sibling is passed over: the file itself",
            r.status == 200 and body == JS and r.getheader("Content-Encoding") is None, r.status)
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    r.read()
    T.check("after the FIFOs the workers still answer", r.status == 200, r.status)
    conn.close()


def built_site(db):
    """The web map as the `web` target built it."""
    T.check("the built web map exists (%s)" % BUILT, os.path.isfile(os.path.join(BUILT, "index.html")))
    if not os.path.isfile(os.path.join(BUILT, "index.html")):
        return
    srv = Server(db, "--web", BUILT)
    try:
        built_checks(srv)
    finally:
        stop(srv)


def built_checks(srv):
    c = Client(srv, "browser")
    ae = {"Accept-Encoding": "gzip, deflate, br"}
    st, body, r = get(c, "/", **ae)
    with open(os.path.join(BUILT, "index.html.br"), "rb") as f:
        T.check("the page: its .br, text/html, Vary, revalidated",
                st == 200 and h(r, "Content-Encoding") == "br" and body == f.read()
                and h(r, "Content-Type") == "text/html; charset=utf-8"
                and h(r, "Vary") == "Accept-Encoding" and h(r, "Cache-Control") == "no-cache", r.getheaders())
    st, body, r = get(c, "/", **{"Accept-Encoding": "gzip"})
    page = gzip.decompress(body).decode()
    with open(os.path.join(BUILT, "index.html"), encoding="utf-8") as f:
        T.check("its .gz is the page", page == f.read())
    T.check("the page has no importmap, nothing from node_modules/, js/ or css/",
            "importmap" not in page and not re.search(r'(src|href)="(\./)?(node_modules|js|css)/', page))
    named = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', page)
    assets = sorted(set(u for u in named if u.startswith("assets/")))
    T.check("the page names its script, its modulepreload and its stylesheets under assets/",
            any(u.endswith(".css") for u in assets) and any(re.match(r"assets/main-\w+\.js$", u) for u in assets)
            and all(u.startswith("assets/") or u in ("favicon.svg",) for u in named), named)
    T.check("boot.js is in the page, a classic script run in <head> before the modules",
            re.search(r"<head>.*<script data-preload>\(function\(\)\{.*entraideBoot.*</script>.*"
                      r"<script type=\"module\".*</head>", page, re.S) is not None)
    for u in assets:
        st, body, r = get(c, "/" + u, **ae)
        ok = (st == 200 and h(r, "Content-Encoding") == "br"
              and h(r, "Cache-Control") == "public, max-age=31536000, immutable"
              and h(r, "Vary") == "Accept-Encoding")
        with open(os.path.join(BUILT, u + ".br"), "rb") as f:
            ok = ok and body == f.read()
        T.check("/%s: brotli, immutable" % u, ok, (st, r.getheaders()))
    # MapLibre starts its worker from a file next to its module: the chunk
    # holding MapLibre names it by its hashed name, and it is served.
    names = set()
    for f in sorted(os.listdir(os.path.join(BUILT, "assets"))):
        if not f.endswith(".js"):
            continue
        st, body, r = get(c, "/assets/" + f, **{"Accept-Encoding": "gzip"})
        text = gzip.decompress(body).decode() if h(r, "Content-Encoding") == "gzip" else body.decode()
        names.update(re.findall(r"maplibre-gl-worker-[A-Z0-9]{8}\.mjs", text))
    T.check("the bundle names MapLibre's worker by one hashed name", len(names) == 1, names)
    for worker in names:
        st, body, r = get(c, "/assets/" + worker, **{"Accept-Encoding": "gzip"})
        T.check("the worker is served: gzip, JavaScript, immutable",
                st == 200 and h(r, "Content-Encoding") == "gzip" and len(gzip.decompress(body)) > 100000
                and h(r, "Content-Type") == "text/javascript; charset=utf-8"
                and "immutable" in h(r, "Cache-Control"), (st, r.getheaders()))
    for p in ["/i18n/fr.json", "/i18n/en.json", "/config.json", "/favicon.svg", "/guide.html"]:
        st, body, r = get(c, p, **{"Accept-Encoding": "gzip"})
        data = gzip.decompress(body) if h(r, "Content-Encoding") == "gzip" else body
        with open(os.path.join(BUILT, p[1:]), "rb") as f:
            T.check("%s: at its path, revalidated" % p,
                    st == 200 and data == f.read() and h(r, "Cache-Control") == "no-cache", st)
    st, _, _ = get(c, "/js/main.js")
    T.check("the sources are not in the built site", st == 404, st)
    # The service worker: at the top (its scope is the site), revalidated so a
    # new build is seen, and keeping exactly the page and what it names.
    st, body, r = get(c, "/sw.js", **{"Accept-Encoding": "gzip"})
    sw = gzip.decompress(body).decode() if h(r, "Content-Encoding") == "gzip" else body.decode()
    T.check("/sw.js: JavaScript, revalidated",
            st == 200 and h(r, "Content-Type") == "text/javascript; charset=utf-8"
            and h(r, "Cache-Control") == "no-cache", (st, r.getheaders()))
    m = re.search(r'PRECACHE=(\[[^\]]*\])', sw)
    shell = json.loads(m.group(1)) if m else []
    T.check("the worker keeps the page, every file it names, both languages and config.json",
            set(shell) == set(["index.html", "config.json", "i18n/fr.json", "i18n/en.json"] + named), shell)
    T.check("the bundle registers the worker by its name", any(
        '"sw.js"' in open(os.path.join(BUILT, u), encoding="utf-8").read()
        for u in assets if re.match(r"assets/main-\w+\.js$", u)))


ROOT = None


def main():
    global ROOT
    db = Database(MAPD, "entraide-static-db.")
    db.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", db.path)
    ROOT = make_root()
    try:
        run(db)
    finally:
        shutil.rmtree(os.path.dirname(ROOT), ignore_errors=True)
    return T.finish()


def run(db):
    srv = Server(db, "--web", ROOT, "--threads", "2")
    try:
        c = Client(srv, "client")
        negotiation(c)
        revalidation(c)
        caching(c)
        ranges(c)
        refusals(c)
        fifos(srv)
    finally:
        stop(srv)
    built_site(db)


if __name__ == "__main__":
    sys.exit(main())
