"""tests/api/pg_query.py — one SQL statement of an API test on the
PostgreSQL store, for harness.py's Database when the tests run against
PostgreSQL (ENTRAIDE_TEST_PG). Run by Debian's /usr/bin/python3 (psycopg2):

    /usr/bin/python3 pg_query.py CONNINFO < {"sql": ..., "params": [...], "write": bool}

prints {"rows": [[...], ...]}. The tests' SQL is SQLite's: `?` placeholders,
and a few SpatiaLite or SQLite idioms, which are rewritten below into the
PostGIS or PostgreSQL query that asks the same thing. Values come back as
SQLite would give them: a point geometry as SpatiaLite's BLOB (the tests read
its header), other geometries as WKB, bytea as bytes ({"b": hex} in JSON).
"""
import json
import re
import struct
import sys

import psycopg2

# (pattern, replacement): the same question in PostgreSQL's words.
REWRITES = [
    (r"SELECT min\(xmin\), min\(ymin\), max\(xmax\), max\(ymax\) FROM idx_(\w+)_geom",
     r"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
     r"FROM (SELECT ST_Extent(geom) AS e FROM \1) AS x"),
    (r"\bMbrMinX\(", "ST_XMin("), (r"\bMbrMinY\(", "ST_YMin("),
    (r"\bMbrMaxX\(", "ST_XMax("), (r"\bMbrMaxY\(", "ST_YMax("),
    (r"(?<![\w.])X\(", "ST_X("), (r"(?<![\w.])Y\(", "ST_Y("),
    (r"\bgroup_concat\((\w+)\)", r"string_agg(CAST(\1 AS text), ',' ORDER BY id)"),
    (r"\bdate\(([^()]*(?:\([^()]*\))?[^()]*), 'unixepoch'\)",
     r"to_char(to_timestamp(\1) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
]


def spatialite_point(x, y, srid):
    """SpatiaLite's BLOB of POINT(x y): what MakePoint() gives."""
    return (b"\x00\x01" + struct.pack("<i4d", srid, x, y, x, y) + b"\x7c"
            + struct.pack("<i2d", 1, x, y) + b"\xfe")


def geometry(hexwkb):
    """A PostGIS geometry (hex EWKB) as SQLite's store would give it."""
    raw = bytes.fromhex(hexwkb)
    order = "<" if raw[0] == 1 else ">"
    (kind,) = struct.unpack(order + "I", raw[1:5])
    off, srid = 5, 0
    if kind & 0x20000000:
        (srid,) = struct.unpack(order + "i", raw[5:9])
        off = 9
    if kind & 0xFFFF == 1:
        x, y = struct.unpack(order + "2d", raw[off:off + 16])
        return spatialite_point(x, y, srid)
    # other geometries: plain WKB (the type without its SRID flag)
    return raw[:1] + struct.pack(order + "I", kind & ~0x20000000) + raw[off:]


def integrity(cur):
    """PRAGMA integrity_check's answer for PostgreSQL: every B-tree index of
    the store checked with amcheck (an error says which is broken)."""
    cur.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
    cur.execute("SELECT c.oid::regclass FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = 'public'")
    for (idx,) in cur.fetchall():
        cur.execute("SELECT bt_index_check(%s::regclass, true)", (idx,))
    return [["ok"]]


def value(v, is_geometry):
    if v is None:
        return None
    if is_geometry:
        return {"b": geometry(v).hex()}
    if isinstance(v, (bytes, memoryview)):
        return {"b": bytes(v).hex()}
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float, str)):
        return v
    return float(v)   # numeric


def main():
    req = json.load(sys.stdin)
    conn = psycopg2.connect(sys.argv[1])
    cur = conn.cursor()
    if req["sql"].strip().upper() == "PRAGMA INTEGRITY_CHECK":
        rows = integrity(cur)
    else:
        cur.execute("SELECT 'geometry'::regtype::oid")
        geom_oid = cur.fetchone()[0]
        sql = req["sql"]
        for pat, rep in REWRITES:
            sql = re.sub(pat, rep, sql)
        sql = re.sub(r"\?\d*", "%s", sql.replace("%", "%%"))
        cur.execute(sql, [psycopg2.Binary(bytes.fromhex(p["b"])) if isinstance(p, dict) else p
                          for p in req["params"]])
        rows = []
        if cur.description:
            geo = [d.type_code == geom_oid for d in cur.description]
            rows = [[value(v, g) for v, g in zip(r, geo)] for r in cur.fetchall()]
    conn.commit()
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
