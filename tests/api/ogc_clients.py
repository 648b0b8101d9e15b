#!/usr/bin/python3
"""tests/api/ogc_clients.py MAPD SAMPLE_DIR — real GIS clients read /ogc:
GDAL's OAPIF driver (ogrinfo, ogr2ogr to GeoPackage), OWSLib's OGC API
Features client, and QGIS 3.22 headless (OAPIF layers, and /tiles.json as a
vector tile layer). Run with Debian's /usr/bin/python3: the osgeo, owslib
and qgis bindings exist only there.

Members-only collections are read as staff with the session cookie: GDAL
through GDAL_HTTP_COOKIE, OWSLib through a Cookie header, QGIS through a
request preprocessor of its network access manager.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, Database, Server, Suite  # noqa: E402

MAPD, SAMPLE = sys.argv[1], sys.argv[2]
T = Suite()
check = T.check


def run(*args, env=None):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, p.stdout + p.stderr


def gdal_checks(db, url, cookie):
    rc, out = run("ogrinfo", "-ro", "OAPIF:" + url)
    check("ogrinfo lists the public collections", rc == 0 and "shops" in out and "neighbourhoods" in out
          and "needs" not in out, out[-800:])
    rc, out = run("ogrinfo", "-ro", "-so", "OAPIF:" + url, "shops")
    check("ogrinfo shows the shops' fields", rc == 0 and all(f in out for f in
          ("name: String", "category: String", "status: String", "delivers: Integer(Boolean)",
           "confirmed_at: DateTime")), out[-1500:])
    gpkg = os.path.join(db.work, "shops.gpkg")
    rc, out = run("ogr2ogr", "-f", "GPKG", gpkg, "OAPIF:" + url, "shops")
    n = db.sql("SELECT count(*) FROM shops")[0][0]
    copied = sqlite3.connect(gpkg).execute("SELECT count(*) FROM shops").fetchone()[0] if rc == 0 else -1
    check("ogr2ogr copies every shop into a GeoPackage (%d)" % n, copied == n, (copied, out[-800:]))
    env = dict(os.environ, GDAL_HTTP_COOKIE=cookie)
    rc, out = run("ogrinfo", "-ro", "-so", "OAPIF:" + url, "needs", env=env)
    total = db.sql("SELECT count(*) FROM posts")[0][0]
    check("ogrinfo as staff (GDAL_HTTP_COOKIE) reads the needs: %d" % total,
          rc == 0 and "Feature Count: %d" % total in out, out[-800:])


def owslib_checks(db, url, cookie):
    from owslib.ogcapi.features import Features
    api = Features(url)
    ids = [c["id"] for c in api.collections()["collections"]]
    check("OWSLib lists the public collections", set(ids) == {"shops", "neighbourhoods"}, ids)
    staff = Features(url, headers={"Cookie": cookie})
    ids = [c["id"] for c in staff.collections()["collections"]]
    check("OWSLib as staff lists the needs too", "needs" in ids, ids)
    seen, offset = [], 0
    while True:
        page = staff.collection_items("needs", limit=500, offset=offset)
        seen += [f["id"] for f in page["features"]]
        if not any(l["rel"] == "next" for l in page["links"]):
            break
        offset += 500
    want = [i for (i,) in db.sql("SELECT id FROM posts ORDER BY id")]
    check("OWSLib pages through every need as staff (%d)" % len(want), seen == want, (len(seen), len(want)))


def qgis_checks(db, url, base, cookie):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from qgis.core import (QgsApplication, QgsNetworkAccessManager, QgsVectorLayer,
                           QgsVectorTileLayer)
    app = QgsApplication([], False)
    app.initQgis()
    # No exitQgis(): QGIS 3.22 may crash tearing down its providers; the
    # process ends with os._exit once the results are printed (main).
    if True:
        for name, n_sql, fields in (
                ("shops", "SELECT count(*) FROM shops", {"name", "category", "status", "delivers"}),
                ("neighbourhoods", "SELECT count(*) FROM neighbourhoods", {"name", "area_m2"})):
            layer = QgsVectorLayer("url='%s' typename='%s'" % (url, name), name, "OAPIF")
            feats = list(layer.getFeatures()) if layer.isValid() else []
            n = db.sql(n_sql)[0][0]
            check("QGIS opens %s as an OAPIF layer and reads every feature (%d)" % (name, n),
                  layer.isValid() and len(feats) == n and fields <= set(layer.fields().names()),
                  (layer.isValid(), len(feats), layer.fields().names()))

        def add_cookie(request):
            if request.url().toString().startswith(base):
                request.setRawHeader(b"Cookie", cookie.encode())
        preprocessor = None
        if hasattr(QgsNetworkAccessManager, "setRequestPreprocessor"):
            preprocessor = QgsNetworkAccessManager.setRequestPreprocessor(add_cookie)
            layer = QgsVectorLayer("url='%s' typename='needs'" % url, "needs", "OAPIF")
            feats = list(layer.getFeatures()) if layer.isValid() else []
            total = db.sql("SELECT count(*) FROM posts")[0][0]
            check("QGIS as staff (cookie through a request preprocessor) reads every need (%d)" % total,
                  layer.isValid() and len(feats) == total
                  and {"category", "status", "title"} <= set(layer.fields().names()),
                  (layer.isValid(), len(feats)))
            QgsNetworkAccessManager.removeRequestPreprocessor(preprocessor)
        else:
            check("QGIS can send the session cookie (no request preprocessor in this QGIS)", False)
        vt = QgsVectorTileLayer("type=xyz&url=%s/tiles/{z}/{x}/{y}.mvt&zmin=0&zmax=16" % base, "tiles")
        check("QGIS opens the tiles of /tiles.json as a vector tile layer", vt.isValid())


def main():
    db = Database(MAPD, "entraide-ogc-clients.")
    db.run("import", "neighbourhoods", os.path.join(SAMPLE, "neighbourhoods.geojson"), "--db", db.path)
    db.run("import", "addresses", os.path.join(SAMPLE, "addresses.csv.gz"), "--db", db.path)
    db.run("import", "shops", os.path.join(SAMPLE, "shops.geojson"), "--db", db.path)
    db.run("seed", "--db", db.path, "--posts", "1200")
    srv = Server(db)
    base = "http://127.0.0.1:%d" % srv.port
    url = base + "/ogc"
    try:
        staff = Client(srv, "staff")
        check("staff log in", staff.login("moderation@entraide.example", "entraide-demo")[0] == 200)
        gdal_checks(db, url, staff.cookie)
        owslib_checks(db, url, staff.cookie)
        qgis_checks(db, url, base, staff.cookie)
    finally:
        check("server stops cleanly", srv.stop() == 0)
    return T.finish()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
