#!/usr/bin/python3
"""
tests/scale/make_france.py — a synthetic France, built from the bundled samples.

    /usr/bin/python3 tests/scale/make_france.py PRESET OUTDIR   (make scale-data)

PRESET is france (about 26 million addresses, 50,176 neighbourhoods), 2m
(about 2 million) or small (about 200,000 addresses, 500 neighbourhoods).
Writes OUTDIR/addresses.csv.gz (BAN columns, ';'-separated) and
OUTDIR/neighbourhoods.gpkg (layer "neighbourhoods": code, nom, commune),
then prints the counts and a checksum of each file's content. Deterministic:
the same preset gives the same content on any machine (the checksums are of
the uncompressed CSV text and of the features, not of the files' bytes, which
carry zlib's and GDAL's own choices).

The country. A grid of 224 x 224 cells covers the rectangle of mainland
France's extent (lon -4.8 to 8.2, lat 42.3 to 51.1): cells of about 4.4 km,
the size of a rural IRIS. The grid's nodes are jittered, and every edge
between two nodes is a jittered line of 16 segments computed from the edge
alone (its jitter tapered towards its ends, so that every polygon is valid),
so two neighbouring cells share their edge exactly: the polygons tile the
rectangle without gap or overlap, each touching its 8 neighbours (4 by an
edge, 4 by a corner). The rectangle, not France's outline: the sea corners
are covered too.

Communes. Cells are taken 2 x 2; a block is one town of 4 neighbourhoods
(1 in 4), two communes of 2 (1 in 4) or four one-neighbourhood villages
(1 in 2): about 34,500 communes, as in France. Each has a distinct name
(three lists of parts, combined without repeat), an INSEE code and a
postcode of its department (a 10 x 10 grid over the country, numbered as
the mainland's 94 departments; the 6 left over reuse codes in the same
department ranges without clash, since a department's postcodes and INSEE
codes are drawn without repeat).

Addresses. Every commune is given a size (lognormal, towns about 12 times a
village; scaled so that the country holds 26 million) and copies that many
addresses of a template: a run of consecutive addresses of the Paris sample
(or, for 1 village in 5, of the second test city) along a Hilbert curve, so
a spatially compact district with its real streets, numbers and suffixes.
The run is moved (in metres) to a random point of the commune's cells, and
shrunk if it would not fit. Street names thus repeat across thousands of
communes, as "Rue de la République" does. One commune in 4 spells suffixes
as BANO does (bis, ter, quater); a house number repeated within a commune
under one street name is left out. Each address gets the commune's name,
INSEE code and postcode, and the id INSEE_NNNNNN; the file lists the communes
in the order of their INSEE codes, as the BAN's files do.

Presets are windows of the same country: small and 2m are the communes of a
block of cells of the national grid, with the same addresses.
"""
import gzip
import hashlib
import math
import os
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PARIS = os.path.join(ROOT, "geodata/samples/paris/addresses.csv.gz")
SECOND = os.path.join(ROOT, "tests/fixtures/secondcity/adresses.csv.gz")

W, E, S, N = -4.8, 8.2, 42.3, 51.1
COLS = ROWS = 224
SEGMENTS = 16                      # segments of each cell edge
NATIONAL_ADDRESSES = 26_000_000
# (first column, first row, columns, rows) of the grid; even, so that no
# commune is cut.
PRESETS = {
    "france": (0, 0, COLS, ROWS),
    "2m": (80, 100, 62, 62),
    "small": (100, 110, 24, 20),
}

PART_A = ["Beau", "Mont", "Val", "Ro", "Char", "Ville", "Bel", "Fon", "Mar", "Cha",
          "Bour", "Ver", "Sau", "Lan", "Cour", "Pont", "Roche", "Bois", "Cler", "Plou",
          "Ker", "Pra", "Vil", "Ar", "Bra", "Cas", "Tré", "Gour", "Lou", "Sain"]
PART_B = ["mont", "ville", "court", "val", "y", "ac", "an", "ieu", "ay", "euil",
          "ons", "anges", "igny", "ois", "ière", "ault", "elles", "ans", "etz", "oux"]
PART_C = ["", "-sur-Loire", "-sur-Marne", "-le-Château", "-en-Bray", "-la-Forêt",
          "-les-Bains", "-sur-Mer", "-le-Vieux", "-en-Vexin", "-d'Azergues", "-sous-Bois",
          "-la-Rivière", "-le-Haut", "-de-Provence", "-aux-Bois", "-sur-Seine", "-lès-Nancy",
          "-en-Forez", "-la-Vallée", "-sur-Saône", "-le-Bas", "-les-Vignes", "-du-Lac",
          "-en-Argonne", "-sur-Allier", "-la-Montagne", "-le-Pont", "-des-Prés", "-sur-Lot",
          "-en-Auge", "-les-Dunes", "-sur-Vienne", "-la-Chapelle", "-de-Bretagne",
          "-sur-Garonne", "-les-Pins", "-en-Brie", "-sur-Cher", "-le-Moutier", "-d'Oc",
          "-sur-Oise", "-les-Roches", "-en-Velay", "-sur-Dordogne", "-le-Grand",
          "-la-Petite", "-sous-Roche", "-de-Gascogne", "-sur-Aisne", "-en-Bresse",
          "-sur-Isère", "-les-Étangs", "-du-Bois", "-sur-Yonne", "-en-Savoie",
          "-sur-Meuse", "-les-Sources", "-en-Provence", "-de-Lorraine"]
QUARTERS = ["Centre", "Gare", "Les Tilleuls", "Le Moulin"]
DEPTS = [d for d in range(1, 96) if d != 20]          # 94 mainland codes


def mix(*xs):
    """A 64-bit hash of integers, the generator's only source of chance."""
    h = 0x9E3779B97F4A7C15
    for x in xs:
        h ^= (x & 0xFFFFFFFFFFFFFFFF) + 0x9E3779B97F4A7C15 + ((h << 6) & 0xFFFFFFFFFFFFFFFF) + (h >> 2)
        h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h


def uniform(*xs):
    return (mix(*xs) >> 11) / float(1 << 53)


# ---- the grid ----

def node(i, j):
    """The jittered corner (i, j) of the grid; border nodes stay on the border."""
    dx, dy = (E - W) / COLS, (N - S) / ROWS
    jx = 0.0 if i in (0, COLS) else (uniform(1, i, j) - 0.5) * 0.3 * dx
    jy = 0.0 if j in (0, ROWS) else (uniform(2, i, j) - 0.5) * 0.3 * dy
    return (W + i * dx + jx, S + j * dy + jy)


def edge(a, b):
    """The line from node a to node b, as the same points for both cells
    that share it (computed in one direction, reversed for the other)."""
    if a > b:
        return edge(b, a)[::-1]
    (x0, y0), (x1, y1) = node(*a), node(*b)
    border = (a[0] == b[0] and a[0] in (0, COLS)) or (a[1] == b[1] and a[1] in (0, ROWS))
    pts = [(x0, y0)]
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    for k in range(1, SEGMENTS):
        t = k / SEGMENTS
        # Tapered towards the ends, so that no two edges of a corner cross.
        off = 0.0 if border else ((uniform(3, a[0], a[1], b[0], b[1], k) - 0.5) * 0.08 * length
                                  * math.sin(math.pi * t))
        pts.append((x0 + t * (x1 - x0) + off * nx, y0 + t * (y1 - y0) + off * ny))
    pts.append((x1, y1))
    return pts


def cell_ring(i, j):
    corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1), (i, j)]
    ring = []
    for a, b in zip(corners, corners[1:]):
        ring.extend(edge(a, b)[:-1])
    ring.append(ring[0])
    return ring


# ---- communes ----

class Commune:
    __slots__ = ("index", "cells", "name", "insee", "postcode", "size", "bano", "template")


def communes_of_country():
    """Every commune of the national grid, in a fixed order, with its size."""
    communes = []
    for bj in range(0, ROWS, 2):
        for bi in range(0, COLS, 2):
            kind = mix(4, bi, bj) % 4
            block = [(bi, bj), (bi + 1, bj), (bi, bj + 1), (bi + 1, bj + 1)]
            if kind == 0:
                groups = [block]
            elif kind == 1:
                groups = ([block[0:2], block[2:4]] if mix(5, bi, bj) & 1
                          else [[block[0], block[2]], [block[1], block[3]]])
            else:
                groups = [[c] for c in block]
            for cells in groups:
                c = Commune()
                c.index = len(communes)
                c.cells = cells
                communes.append(c)
    # Names: a permutation of the 36,000 combinations of the three parts.
    n_names = len(PART_A) * len(PART_B) * len(PART_C)
    assert len(communes) <= n_names
    step = 7919                                         # prime to n_names
    for c in communes:
        k = (c.index * step + 1234) % n_names
        a, b, rest = k % len(PART_A), (k // len(PART_A)) % len(PART_B), k // (len(PART_A) * len(PART_B))
        c.name = PART_A[a] + PART_B[b] + PART_C[rest]
    # Codes: department from the position; INSEE and postcode without repeat.
    seq = {}
    for c in communes:
        i, j = c.cells[0]
        d = (j * 10 // ROWS) * 10 + (i * 10 // COLS)
        code = DEPTS[d % len(DEPTS)]
        n = seq.get(code, 0)
        seq[code] = n + 1
        assert n < 1000, "too many communes in department %02d" % code
        c.insee = "%02d%03d" % (code, n + 1)
        c.postcode = "%02d%03d" % (code, (n * 37 + 100) % 1000)
    # Sizes: lognormal around a village, towns bigger; scaled to the country.
    raw = []
    for c in communes:
        u1, u2 = max(uniform(6, c.index), 1e-12), uniform(7, c.index)
        z = math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
        weight = math.exp(0.8 * z) * (12.0 if len(c.cells) == 4 else 2.0 if len(c.cells) == 2 else 1.0)
        raw.append(weight)
    scale = NATIONAL_ADDRESSES / sum(raw)
    for c, w in zip(communes, raw):
        c.size = max(20, int(round(w * scale)))
        c.template = 1 if (len(c.cells) == 1 and mix(8, c.index) % 5 == 0 and c.size <= 5000) else 0
        c.bano = mix(9, c.index) % 4 == 0
    return communes


# ---- templates ----

def hilbert_order(x, y, bits=16):
    """Indices sorting the points (x, y in [0, 1]) along a Hilbert curve."""
    n = 1 << bits
    xi = np.clip((x * (n - 1)).astype(np.int64), 0, n - 1)
    yi = np.clip((y * (n - 1)).astype(np.int64), 0, n - 1)
    d = np.zeros_like(xi)
    s = n >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, n - 1 - xi, xi)
        swap_y = np.where(flip & rx, n - 1 - yi, yi)
        xi, yi = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return np.argsort(d, kind="stable")


class Template:
    """The addresses of a sample, along a Hilbert curve, in metres from their centre."""

    def __init__(self, path, keep_town=None):
        rows = []
        with gzip.open(path, "rt", encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split(";")
            col = {name: k for k, name in enumerate(header)}
            for line in f:
                v = line.rstrip("\n").split(";")
                if len(v) != len(header):
                    continue
                try:
                    lon, lat = float(v[col["lon"]]), float(v[col["lat"]])
                    int(v[col["numero"]])
                except ValueError:
                    continue
                if keep_town and v[col["nom_commune"]] != keep_town:
                    continue
                rows.append((v[col["numero"]], v[col["rep"]], v[col["nom_voie"]], lon, lat))
        lon = np.array([r[3] for r in rows])
        lat = np.array([r[4] for r in rows])
        lat0 = float(lat.mean())
        x = (lon - lon.mean()) * 111_320.0 * math.cos(math.radians(lat0))
        y = (lat - lat0) * 110_574.0
        order = hilbert_order((x - x.min()) / np.ptp(x), (y - y.min()) / np.ptp(y))
        self.x, self.y = x[order], y[order]
        self.number = [rows[k][0] for k in order]
        self.rep = [rows[k][1] for k in order]
        self.street = [rows[k][2] for k in order]
        self.n = len(rows)


BANO = {"b": "bis", "t": "ter", "q": "quater"}


def commune_lines(c, tpl):
    """The CSV lines of commune c's addresses, copied from template tpl."""
    n = min(c.size, tpl.n)
    start = mix(10, c.index) % (tpl.n - n + 1)
    sl = slice(start, start + n)
    x, y = tpl.x[sl], tpl.y[sl]
    cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
    # The commune's cells, in metres around their centre, at its latitude.
    corners = [node(i + di, j + dj) for (i, j) in c.cells for di in (0, 1) for dj in (0, 1)]
    lon0 = (min(p[0] for p in corners) + max(p[0] for p in corners)) / 2
    lat0 = (min(p[1] for p in corners) + max(p[1] for p in corners)) / 2
    mx = 111_320.0 * math.cos(math.radians(lat0))
    my = 110_574.0
    half_w = (max(p[0] for p in corners) - min(p[0] for p in corners)) / 2 * mx
    half_h = (max(p[1] for p in corners) - min(p[1] for p in corners)) / 2 * my
    # Inside the cells' jittered edges: keep to 70 % of the box.
    ext_w, ext_h = max(np.ptp(x) / 2, 1.0), max(np.ptp(y) / 2, 1.0)
    shrink = min(1.0, 0.7 * half_w / ext_w, 0.7 * half_h / ext_h)
    room_w, room_h = 0.7 * half_w - ext_w * shrink, 0.7 * half_h - ext_h * shrink
    ox = (uniform(11, c.index) * 2 - 1) * max(room_w, 0)
    oy = (uniform(12, c.index) * 2 - 1) * max(room_h, 0)
    lon = lon0 + ((x - cx) * shrink + ox) / mx
    lat = lat0 + ((y - cy) * shrink + oy) / my
    seen = set()
    lines = []
    k = 0
    tail = ";%s;%s;%s;" % (c.postcode, c.insee, c.name)
    for t in range(n):
        i = start + t
        rep = tpl.rep[i]
        key = (tpl.street[i], tpl.number[i], rep)
        if key in seen:
            continue
        seen.add(key)
        if c.bano and rep in BANO:
            rep = BANO[rep]
        k += 1
        lines.append("%s_%06d;%s;%s;%s%s%.6f;%.6f\n" % (c.insee, k, tpl.number[i], rep, tpl.street[i],
                                                    tail, lon[t], lat[t]))
    return lines


def in_window(c, window):
    i0, j0, nc, nr = window
    i, j = c.cells[0]
    return i0 <= i < i0 + nc and j0 <= j < j0 + nr


def write_addresses(path, communes, templates):
    digest = hashlib.sha256()
    count = 0
    tmp = path + ".tmp"
    started = time.time()
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as out:
        head = "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n".encode()
        out.write(head)
        digest.update(head)
        # Communes in the order of their INSEE codes, as the BAN's files are.
        for k, c in enumerate(sorted(communes, key=lambda c: c.insee)):
            data = "".join(commune_lines(c, templates[c.template])).encode("utf-8")
            out.write(data)
            digest.update(data)
            count += data.count(b"\n")
            if sys.stderr.isatty() and k % 500 == 0:
                sys.stderr.write("\raddresses: %d communes of %d, %d addresses, %.0f s"
                                 % (k, len(communes), count, time.time() - started))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    os.replace(tmp, path)
    return count, digest.hexdigest()


def write_neighbourhoods(path, communes, window):
    from osgeo import gdal, ogr, osr
    gdal.UseExceptions()
    gdal.SetConfigOption("OGR_CURRENT_DATE", "2020-03-17T00:00:00Z")
    tmp = path + ".tmp.gpkg"
    if os.path.exists(tmp):
        os.remove(tmp)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(tmp)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    layer = ds.CreateLayer("neighbourhoods", srs, ogr.wkbPolygon)
    for field in ("code", "nom", "commune"):
        layer.CreateField(ogr.FieldDefn(field, ogr.OFTString))
    digest = hashlib.sha256()
    count = 0
    layer.StartTransaction()
    for c in communes:
        if not in_window(c, window):
            continue
        for q, (i, j) in enumerate(c.cells):
            if len(c.cells) == 1:
                code, name = c.insee + "0000", c.name
            else:
                code, name = "%s%04d" % (c.insee, q + 1), "%s %s" % (c.name, QUARTERS[q])
            ring = cell_ring(i, j)
            f = ogr.Feature(layer.GetLayerDefn())
            f.SetField("code", code)
            f.SetField("nom", name)
            f.SetField("commune", c.name)
            wkt = "POLYGON((" + ",".join("%.7f %.7f" % p for p in ring) + "))"
            f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
            layer.CreateFeature(f)
            digest.update(("%s;%s;%s\n" % (code, name, wkt)).encode("utf-8"))
            count += 1
    layer.CommitTransaction()
    ds = None
    os.replace(tmp, path)
    return count, digest.hexdigest()


def main(argv):
    if len(argv) != 3 or argv[1] not in PRESETS:
        sys.stderr.write("usage: make_france.py france|2m|small OUTDIR\n")
        return 2
    preset, outdir = argv[1], argv[2]
    window = PRESETS[preset]
    os.makedirs(outdir, exist_ok=True)
    t0 = time.time()
    communes = [c for c in communes_of_country() if in_window(c, window)]
    templates = [Template(PARIS), Template(SECOND, keep_town="Ville-Test")]
    n_nb, nb_sum = write_neighbourhoods(os.path.join(outdir, "neighbourhoods.gpkg"), communes, window)
    n_addr, addr_sum = write_addresses(os.path.join(outdir, "addresses.csv.gz"), communes, templates)
    print("preset %s: %d communes, %d neighbourhoods, %d addresses in %.0f s"
          % (preset, len(communes), n_nb, n_addr, time.time() - t0))
    print("addresses.csv.gz content sha256 %s" % addr_sum)
    print("neighbourhoods.gpkg content sha256 %s" % nb_sum)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
