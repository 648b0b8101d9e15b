"""tests/tiles/generalise.py MAPD — the neighbourhoods of low-zoom tiles, drawn
from their outlines (tiles/outline.c), read back by an independent decoder
(GDAL's MVT driver) and held against the source polygons of the Paris
sample (80 quartiers), projected here with the Web Mercator formulas.

From zoom 4 to 9 Paris lies in one tile, which must hold:
  - every quartier, as one valid polygon feature;
  - fewer vertices than the source at every zoom, and more at each zoom
    than at the one before (the outline of a zoom is made for that zoom);
  - each quartier where its source is: the area one covers and the other
    does not is at most its perimeter times 1.5 tile units (Douglas-Peucker
    at half a unit, snapping at most 0.71);
  - no gap between neighbours and no overlap wider than a pixel: the holes
    of the union of the quartiers, and the overlap of any two, are empty
    once shrunk by half a pixel (4 units of a 512-pixel tile).
At zoom 0 the quartiers are smaller than a tile unit (6 km there): their
polygons are not drawn (docs/api.md says so), and every quartier keeps its
label point. The gap and overlap checks are shown to see a pixel's gap or
overlap when there is one (the quartiers of zoom 8 shrunk, then grown).

Run by /usr/bin/python3 (Debian's GDAL bindings).
"""
import json
import math
import os
import subprocess
import sys
import tempfile

from osgeo import gdal, ogr

gdal.UseExceptions()
MAPD = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "geodata", "samples", "paris", "neighbourhoods.geojson")
EXTENT, PIXEL = 4096, 4096 / 512

passes = fails = 0


def check(name, cond, detail=""):
    global passes, fails
    if cond:
        passes += 1
        print("ok -", name)
    else:
        fails += 1
        print("FAIL -", name, detail)


def world(lon, lat):
    lat = max(min(lat, 85.0511287798066), -85.0511287798066)
    phi = math.radians(lat)
    return (lon + 180) / 360, (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2


def source_polygons():
    """id -> the source geometry in world units (0..1), from the GeoJSON."""
    out = {}
    ds = ogr.Open(SAMPLE)
    layer = ds.GetLayer(0)
    for f in layer:
        g = f.GetGeometryRef().Clone()
        pts = []

        def walk(geom):
            if geom.GetGeometryCount():
                for i in range(geom.GetGeometryCount()):
                    walk(geom.GetGeometryRef(i))
            else:
                for i in range(geom.GetPointCount()):
                    x, y = world(geom.GetX(i), geom.GetY(i))
                    geom.SetPoint_2D(i, x, y)
        walk(g)
        out[str(f.GetField("id") if f.GetFieldIndex("id") >= 0 else f.GetFID())] = g
    return out


def in_tile(g, z, x, y):
    """A world-unit geometry in the tile units of z/x/y as GDAL's MVT driver
    gives them for a lone file: x right, y up from the tile's bottom."""
    s = EXTENT * 2 ** z
    h = g.Clone()

    def walk(geom):
        if geom.GetGeometryCount():
            for i in range(geom.GetGeometryCount()):
                walk(geom.GetGeometryRef(i))
        else:
            for i in range(geom.GetPointCount()):
                geom.SetPoint_2D(i, geom.GetX(i) * s - x * EXTENT,
                                 EXTENT - (geom.GetY(i) * s - y * EXTENT))
    walk(h)
    return h


def npoints(g):
    if g.GetGeometryCount():
        return sum(npoints(g.GetGeometryRef(i)) for i in range(g.GetGeometryCount()))
    return g.GetPointCount()


def decode(path):
    """(polygons: id -> geometry in tile units, label ids) of the tile's
    neighbourhoods layer, read as a lone file (see in_tile)."""
    polys, labels = {}, set()
    if os.path.getsize(path) == 0:
        return polys, labels
    ds = gdal.OpenEx(path, gdal.OF_VECTOR, open_options=["CLIP=NO"])
    layer = ds.GetLayerByName("neighbourhoods")
    for f in layer or []:
        g = f.GetGeometryRef()
        if g is None:
            continue
        if g.GetGeometryType() in (ogr.wkbPoint, ogr.wkbMultiPoint):
            if f.GetField("label"):
                labels.add(f.GetField("id"))
        else:
            fid = f.GetField("id")
            polys[fid] = polys[fid].Union(g) if fid in polys else g.Clone()
    return polys, labels


def union_of(geoms):
    out = None
    for g in geoms:
        out = g.Clone() if out is None else out.Union(g)
    return out


def wide_gaps(polys, whole):
    """Whether the quartiers leave a gap wider than a pixel inside whole (the
    union of the source quartiers, in tile units, kept a pixel away from its
    edge, where a generalised outline may lie a little inside): what they do
    not cover there, shrunk by half a pixel, is empty."""
    uncovered = whole.Buffer(-PIXEL).Difference(union_of(polys.values()))
    return not uncovered.IsEmpty() and not uncovered.Buffer(-PIXEL / 2).IsEmpty()


def wide_overlaps(polys):
    """The pairs of polys whose overlap is wider than a pixel."""
    ids = sorted(polys)
    out = []
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            ga, gb = polys[ids[a]], polys[ids[b]]
            if not ga.Intersects(gb):
                continue
            both = ga.Intersection(gb)
            if both is not None and not both.Buffer(-PIXEL / 2).IsEmpty():
                out.append((ids[a], ids[b], round(both.GetArea())))
    return out


def main():
    work = tempfile.mkdtemp(prefix="entraide-generalise.")
    db = os.path.join(work, "paris.sqlite")
    subprocess.run([MAPD, "import", "neighbourhoods", SAMPLE, "--db", db], check=True,
                   capture_output=True)
    src = source_polygons()
    check("the sample has 80 quartiers", len(src) == 80, len(src))
    minx = miny = 1e9
    maxx = maxy = -1e9
    for g in src.values():
        e = g.GetEnvelope()
        minx, maxx, miny, maxy = min(minx, e[0]), max(maxx, e[1]), min(miny, e[2]), max(maxy, e[3])

    before = None
    for z in range(4, 10):
        x, y = int(minx * 2 ** z), int(miny * 2 ** z)
        check("z%d: Paris lies in the one tile %d/%d/%d" % (z, z, x, y),
              (x, y) == (int(maxx * 2 ** z), int(maxy * 2 ** z)))
        path = os.path.join(work, "t%d.mvt" % z)
        with open(path, "wb") as out:
            subprocess.run([MAPD, "tile", str(z), str(x), str(y), "--db", db], check=True, stdout=out)
        polys, labels = decode(path)
        check("z%d: every quartier is drawn (%d of 80)" % (z, len(polys)), set(polys) == set(src),
              sorted(set(src) - set(polys))[:5])
        invalid = [i for i, g in polys.items() if not g.IsValid()]
        check("z%d: every polygon valid by GEOS" % z, not invalid, invalid[:5])
        more = [i for i, g in polys.items() if npoints(g) >= npoints(src[i])]
        check("z%d: every quartier has fewer vertices than its source" % z, not more, more[:5])
        total = sum(npoints(g) for g in polys.values())
        if before is not None:
            check("z%d: more vertices than at z%d (%d > %d)" % (z, z - 1, total, before), total > before)
        before = total
        off = []
        for i, g in polys.items():
            s = in_tile(src[i], z, x, y)
            slack = s.Boundary().Length() * 1.5 + 2
            apart = g.SymDifference(s).GetArea()
            if apart > slack:
                off.append((i, round(apart), round(slack)))
        check("z%d: every quartier within 1.5 units along its edge of the source (the area "
              "one covers and the other not)" % z, not off, off[:3])
        whole = union_of(in_tile(g, z, x, y) for g in src.values())
        check("z%d: no gap between quartiers wider than a pixel" % z, not wide_gaps(polys, whole))
        overlaps = wide_overlaps(polys)
        check("z%d: no overlap of two quartiers wider than a pixel" % z, not overlaps, overlaps[:5])
        if z == 8:
            shrunk = {i: g.Buffer(-PIXEL * 0.75) for i, g in polys.items()}
            check("z8: the gap check sees the gaps of quartiers shrunk by 3/4 of a pixel",
                  wide_gaps(shrunk, whole))
            grown = {i: g.Buffer(PIXEL * 0.75) for i, g in polys.items()}
            check("z8: the overlap check sees the overlaps of quartiers grown by 3/4 of a pixel",
                  len(wide_overlaps(grown)) > 0)

    # Smaller than a tile unit: no polygon, and every label point.
    z = 0
    x, y = int(minx * 2 ** z), int(miny * 2 ** z)
    path = os.path.join(work, "t%d.mvt" % z)
    with open(path, "wb") as out:
        subprocess.run([MAPD, "tile", str(z), str(x), str(y), "--db", db], check=True, stdout=out)
    polys, labels = decode(path)
    check("z0: the quartiers, smaller than a tile unit, are not drawn (%d drawn)" % len(polys),
          len(polys) == 0)
    check("z0: every quartier keeps its label point (%d of 80)" % len(labels),
          labels == set(src), sorted(set(src) - labels)[:5])

    subprocess.run(["rm", "-rf", work], check=False)
    print("%d passed, %d failed" % (passes, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
