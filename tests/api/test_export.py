#!/usr/bin/env python3
"""tests/api/test_export.py MAPD SAMPLE_DIR — staff exports, background
export jobs and the audit log against a real `mapd serve` on 127.0.0.1
(ephemeral port), on a database built from the sample with `mapd import`
and `mapd seed`.

Who may export (401, 403); a direct download that GDAL's ogrinfo opens with
as many features as the database holds; a background job polled until done
and downloaded; the audit line of every export that succeeded and none for
those refused or failed (the server's export directory removed under it);
paging through /api/audit; bad input (400 saying what); files removed on
expiry and at shutdown; nothing private in the files. Only the standard
library and gdal-bin are used.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Client as BaseClient, Database, Server as BaseServer, Suite  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
DATA = Database(MAPD, "entraide-export.")
DB, WORK = DATA.path, DATA.work
check, run, sql = T.check, DATA.run, DATA.sql
# The server's private directory for exports is made under TMPDIR.
TMP = os.path.join(WORK, "tmp")
os.makedirs(TMP)
os.environ["TMPDIR"] = TMP
PASSWORD = "entraide-demo"   # the seeded demonstration accounts'


class Client(BaseClient):
    def __init__(self, server, name):
        super().__init__(server, name, T)


def Server(*extra):
    return BaseServer(DATA, *extra)


def export_dirs():
    return [os.path.join(TMP, d) for d in os.listdir(TMP) if d.startswith("mapd-exports.")]


def save(content, name):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(content)
    return path


def feature_count(path):
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", path], capture_output=True, text=True).stdout
    m = re.search(r"^Feature Count: (\d+)$", out, re.M)
    return int(m.group(1)) if m else None, out


def as_text(path):
    """Everything a file says, as text: its features through GDAL and its bytes."""
    out = subprocess.run(["ogr2ogr", "-f", "CSV", "/vsistdout/", path], capture_output=True).stdout
    raw = open(path, "rb").read()
    if zipfile.is_zipfile(path):
        z = zipfile.ZipFile(path)
        raw += b"".join(z.read(n) for n in z.namelist())
    return (out + raw).decode("utf-8", "replace")


def audit_exports():
    return sql("SELECT id, actor_id, target, detail FROM audit_log WHERE action = 'export' ORDER BY id")


def wait_job(cl, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, doc, _ = cl.req("GET", "/api/exports/%d" % job_id)
        if st != 200 or doc["status"] in ("done", "failed"):
            return st, doc
        time.sleep(0.2)
    return st, doc


def main():
    run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", DB)
    run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", DB)
    run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", DB)
    run("seed", "--db", DB, "--posts", "3000")
    # Something private to look for in the files: a need's title and body,
    # its author's name.
    DATA.write("UPDATE posts SET title = 'Titre Zorglub', body = 'Digicode 48B21' "
               "WHERE id = (SELECT min(id) FROM posts)")
    DATA.write("UPDATE members SET display_name = 'Zéphyrine Vautrin' "
               "WHERE id = (SELECT author_id FROM posts ORDER BY id LIMIT 1)")
    n_needs = sql("SELECT count(*) FROM posts")[0][0]
    staff_id = sql("SELECT id FROM members WHERE email = 'moderation@entraide.example'")[0][0]

    srv = Server()
    anon, member, staff = Client(srv, "anon"), Client(srv, "member"), Client(srv, "staff")
    check("member logs in", member.login("benevole@entraide.example", PASSWORD)[0] == 200)
    check("staff logs in", staff.login("moderation@entraide.example", PASSWORD)[0] == 200)

    # ---- who may ----
    for path in ("/api/export?layer=needs&format=gpkg", "/api/exports", "/api/exports/1",
                 "/api/exports/1/file", "/api/audit"):
        st, doc, r = anon.req("GET", path)
        check("anonymous %s: 401 problem+json" % path, st == 401 and
              r.getheader("Content-Type") == "application/problem+json", doc)
        st, doc, _ = member.req("GET", path)
        check("member %s: 403" % path, st == 403, doc)
    check("refused requests are not audited", audit_exports() == [])

    # ---- a direct download ----
    st, body, r = staff.raw("GET", "/api/export?layer=needs&format=gpkg&crs=EPSG:2154")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    check("direct export: 200 with a GeoPackage", st == 200 and
          r.getheader("Content-Type") == "application/geopackage+sqlite3", r.getheader("Content-Type"))
    check("direct export: named as an attachment",
          r.getheader("Content-Disposition") == 'attachment; filename="entraide-needs-%s.gpkg"' % today,
          r.getheader("Content-Disposition"))
    check("direct export: Cache-Control no-store", r.getheader("Cache-Control") == "no-store")
    gpkg = save(body, "direct.gpkg")
    n, info = feature_count(gpkg)
    check("ogrinfo opens it: %s needs, as the database holds" % n, n == n_needs, info[-500:])
    check("it is in Lambert-93", 'ID["EPSG",2154]' in info)
    rows = audit_exports()
    check("the export is audited once, by the staff member",
          len(rows) == 1 and rows[0][1] == staff_id and rows[0][2] == "needs", rows)
    detail = json.loads(rows[0][3]) if rows else {}
    check("its detail: format, crs, rows, filters", detail.get("format") == "gpkg" and
          detail.get("crs") == "EPSG:2154" and detail.get("rows") == n_needs and
          "filters" in detail, detail)
    check("nothing is left in the export directory after a direct download",
          all(os.listdir(d) == [] for d in export_dirs()) and len(export_dirs()) == 1, export_dirs())

    # Filters, and a zipped Shapefile.
    nb = sql("SELECT neighbourhood_id FROM posts GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]
    want = sql("SELECT count(*) FROM posts WHERE neighbourhood_id = ? AND category = 'groceries'", nb)[0][0]
    st, body, r = staff.raw("GET", "/api/export?layer=needs&format=shp&neighbourhood=%s&category=groceries" % nb)
    shp = save(body, "filtered.shp.zip")
    n, _ = feature_count(shp)
    check("filtered Shapefile: 200, zipped, %s features as in the database (%d)" % (n, want),
          st == 200 and r.getheader("Content-Type") == "application/zip" and n == want)
    names = sorted(zipfile.ZipFile(shp).namelist()) if st == 200 else []
    check("the zip holds the Shapefile's parts and README.txt", names ==
          ["README.txt", "needs.cpg", "needs.dbf", "needs.prj", "needs.shp", "needs.shx"], names)
    st, body, r = staff.raw("GET", "/api/export?layer=neighbourhoods&format=geojson")
    n, _ = feature_count(save(body, "nb.geojson"))
    check("neighbourhoods as GeoJSON: every one", st == 200 and
          r.getheader("Content-Type") == "application/geo+json" and
          n == sql("SELECT count(*) FROM neighbourhoods")[0][0], n)

    # ---- a background job ----
    st, doc, r = staff.req("GET", "/api/export?layer=needs&format=xlsx&status=open&background=1")
    want = sql("SELECT count(*) FROM posts WHERE status = 'open' AND expires_at > ?", int(time.time()))[0][0]
    job = doc.get("id") if st == 202 else None
    check("background=1: 202 with the job", st == 202 and
          {"id", "status", "layer", "format", "rows_total", "rows_done", "created_at"} <= set(doc) and
          doc["status"] in ("queued", "running", "done") and doc["rows_total"] == want, doc)
    check("... and Location: /api/exports/{id}", r.getheader("Location") == "/api/exports/%s" % job,
          r.getheader("Location"))
    st, doc = wait_job(staff, job)
    check("the job is done, every row written", st == 200 and doc["status"] == "done" and
          doc["rows_done"] == doc["rows_total"] == want and doc["file"] == "/api/exports/%d/file" % job
          and doc["bytes"] > 0 and doc["filename"] == "entraide-needs-%s.xlsx" % today, doc)
    st, body, r = staff.raw("GET", doc.get("file", "/api/exports/%d/file" % job))
    xlsx = save(body, "job.xlsx")
    n, info = feature_count(xlsx)
    check("its file: an XLSX GDAL's XLSX driver reads, %s rows" % n, st == 200 and n == want and
          "using driver `XLSX'" in info and len(body) == doc.get("bytes"), info[:300])
    check("... sent as an attachment", r.getheader("Content-Disposition") ==
          'attachment; filename="entraide-needs-%s.xlsx"' % today)
    st, doc2, _ = staff.req("GET", "/api/export?layer=makers&format=fgb&background=1")
    st, _ = wait_job(staff, doc2["id"])
    st, lst, _ = staff.req("GET", "/api/exports")
    ids = [j["id"] for j in lst["exports"]] if st == 200 else []
    check("the list: the jobs kept, newest first", ids == [doc2["id"], job], lst)
    rows = audit_exports()
    check("every export that succeeded is audited, by the staff member", [r_[2] for r_ in rows] ==
          ["needs", "needs", "neighbourhoods", "needs", "makers"] and all(r_[1] == staff_id for r_ in rows), rows)

    # ---- bad input ----
    before = len(audit_exports())
    bad = {
        "layer=members&format=gpkg": "unknown layer",
        "layer=needs&format=gpx": "unknown format",
        "layer=needs&format=gpkg&crs=EPSG:3857": "crs is",
        "layer=needs&format=kml&crs=EPSG:2154": "always in EPSG:4326",
        "layer=needs&format=gpkg&category=caviar": "unknown category",
        "layer=needs&format=gpkg&status=lost": "unknown status",
        "layer=needs&format=gpkg&neighbourhood=99999": "unknown neighbourhood",
        "layer=needs&format=gpkg&since=2026-02-30": "since is a date",
        "layer=needs&format=gpkg&until=yesterday": "until is a date",
        "layer=needs&format=gpkg&since=2026-03-02&until=2026-03-01": "since must not be after until",
        "layer=shops&format=gpkg&since=2026-03-01": "no creation date",
        "layer=needs&format=gpkg&colour=red": "unknown parameter 'colour'",
        "layer=needs&format=gpkg&background=yes": "background is 0 or 1",
        "format=gpkg": "give layer",
    }
    for q, phrase in bad.items():
        st, doc, r = staff.req("GET", "/api/export?" + q)
        check("bad export %s: 400 saying %r" % (q, phrase), st == 400 and
              r.getheader("Content-Type") == "application/problem+json" and phrase in doc.get("detail", ""), doc)
    staff.lang = "fr"
    st, doc, _ = staff.req("GET", "/api/export?layer=needs&format=gpx")
    check("a refusal in French", st == 400 and doc["detail"].startswith("Format inconnu"), doc)
    staff.lang = None
    check("refused exports are not audited", len(audit_exports()) == before)
    st, doc, _ = staff.req("GET", "/api/exports/999")
    check("an unknown job: 404", st == 404, doc)

    # ---- the audit log ----
    all_ids = [r_[0] for r_ in sql("SELECT id FROM audit_log ORDER BY id DESC")]
    st, doc, _ = staff.req("GET", "/api/audit")
    check("audit: newest first, 50 by default", st == 200 and
          [e["id"] for e in doc["entries"]] == all_ids[:50], doc and doc.get("entries", [])[:2])
    e = doc["entries"][0] if st == 200 else {}
    check("an export entry: actor, action, target, detail", e.get("action") == "export" and
          e.get("actor") == {"id": staff_id, "display_name": "Modération (démo)"} and
          e.get("target") == "makers" and json.loads(e.get("detail") or "{}").get("format") == "fgb", e)
    seen, before_id, pages = [], None, 0
    while pages < 100:
        st, doc, _ = staff.req("GET", "/api/audit?limit=3" + ("&before=%d" % before_id if before_id else ""))
        if st != 200:
            break
        seen += [x["id"] for x in doc["entries"]]
        pages += 1
        before_id = doc["next_before"]
        if before_id is None:
            break
    check("paging with next_before visits every entry once, in order (%d pages)" % pages, seen == all_ids)
    cli = [x for x in staff.req("GET", "/api/audit?limit=500")[1]["entries"] if x["actor"] is None]
    check("entries of the command line have actor null",
          len(cli) == sql("SELECT count(*) FROM audit_log WHERE actor_id IS NULL")[0][0] and len(cli) > 0)
    for q in ("limit=0", "limit=501", "before=0", "before=x", "page=2"):
        st, doc, _ = staff.req("GET", "/api/audit?" + q)
        check("audit %s: 400" % q, st == 400, doc)

    # ---- privacy ----
    homes = {(round(a, 5), round(b, 5)) for a, b in
             sql("SELECT home_lon, home_lat FROM members WHERE home_lon IS NOT NULL")}
    st, body, _ = staff.raw("GET", "/api/export?layer=needs&format=csv")
    lines = body.decode("utf-8-sig").splitlines()
    head = lines[0].split(",") if lines else []
    pts = [(round(float(l.split(",")[head.index("lon")]), 5), round(float(l.split(",")[head.index("lat")]), 5))
           for l in lines[1:]] if "lon" in head else []
    check("csv: %d points, none at a member's home" % len(pts), len(pts) == n_needs and not (set(pts) & homes))
    for path in (gpkg, shp, xlsx, save(body, "needs.csv")):
        text = as_text(path)
        leaks = [s for s in ("Zorglub", "48B21", "Zéphyrine", "Vautrin", "@example", "@entraide") if s in text]
        check("nothing private in %s" % os.path.basename(path), not leaks, leaks)

    # ---- shutdown removes the files ----
    dirs = export_dirs()
    check("finished jobs' files are in the private directory",
          len(dirs) == 1 and len(os.listdir(dirs[0])) == 2 and oct(os.stat(dirs[0]).st_mode & 0o777) == "0o700",
          dirs and os.listdir(dirs[0]))
    check("the server stops cleanly", srv.stop() == 0)
    check("at shutdown the directory and its files are gone", export_dirs() == [], export_dirs())

    # ---- expiry, and failures leave neither file nor audit ----
    srv = Server("--export-keep", "2")
    staff = Client(srv, "staff")
    staff.login("moderation@entraide.example", PASSWORD)
    st, doc, _ = staff.req("GET", "/api/export?layer=shops&format=csv&background=1")
    st, doc = wait_job(staff, doc["id"])
    check("a job with --export-keep 2 is done", doc.get("status") == "done", doc)
    time.sleep(3)
    st, doc2, _ = staff.req("GET", "/api/exports/%d" % doc["id"])
    check("past its time the job is gone (404) and its file removed", st == 404 and
          all(os.listdir(d) == [] for d in export_dirs()), doc2)
    before = len(audit_exports())
    for d in export_dirs():
        shutil.rmtree(d)   # writing now fails
    st, doc, _ = staff.req("GET", "/api/export?layer=needs&format=gpkg")
    check("an export that cannot be written: an error, not a file", st >= 500 and st != 200, doc)
    st, doc, _ = staff.req("GET", "/api/export?layer=needs&format=geojson&background=1")
    st, doc = wait_job(staff, doc["id"])
    check("a background job that cannot write fails, saying why", doc.get("status") == "failed" and
          doc.get("error") and "file" not in doc, doc)
    st, doc, _ = staff.req("GET", "/api/exports/%d/file" % doc["id"])
    check("a failed job has no file: 409", st == 409, doc)
    check("failed exports are not audited", len(audit_exports()) == before)
    check("the server stops cleanly", srv.stop() == 0)
    return T.finish()


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
