/*
 * geodata/domain/nbindex.c — point-in-neighbourhood lookups (see nbindex.h).
 *
 * The exact path. The polygons are read once from the store (in id order)
 * and kept as GEOS prepared geometries; an STR-packed R-tree over their
 * envelopes gives the candidates for a point, and the first candidate in id
 * order that GEOSPreparedIntersects the point is the answer. GEOS decides a
 * point by the parity of the crossings of a ray with every segment of every
 * ring of the (multi)polygon, holes included, and a point on a segment is
 * in: a point on a shared border goes to the lower position.
 *
 * The grid (geodata_nbindex_accelerate) gives the same answers with plain
 * arithmetic, most of them with one or two memory reads.
 *
 *   Cells. A uniform grid covers the polygons' extent plus one cell all
 *   round (a point off the grid is in no polygon). Its size follows from the
 *   polygons' number and extent: about CELLS_PER_POLYGON cells for a polygon
 *   of average size, square on the ground, at most MAX_CELLS, and cells no
 *   smaller than 1e-7 of the largest coordinate (so that the rounding of the
 *   cell arithmetic stays far below the margins below). A cell that no
 *   segment comes near (within MARGIN of a cell side) holds the answer for
 *   all of it: the lowest polygon containing its centre, or -1.
 *
 *   Mixed cells. A cell that segments come near points to a record: the
 *   lowest polygon that contains the whole cell and has no segment in it
 *   (the base); the positions of the polygons that have segments in it
 *   (at most 64); a reference point R with the set of those polygons that
 *   contain it (a 64-bit mask); and their segments near the cell, as runs of
 *   consecutive ring vertices in double precision, each run tagged with its
 *   polygon and, for a border two polygons share, the other one too: the
 *   shared segments are stored once. R lies on the cell's horizontal centre
 *   line, at least REF_TOL of a cell side from every segment of the cell. A
 *   polygon contains a point Q of the cell iff it contains R and the segment
 *   R-Q properly crosses an even number of its segments, or the reverse: a
 *   lookup toggles the mask at each crossing, and answers the lowest of the
 *   base and the polygons left in the mask.
 *
 *   Exactness. A crossing is decided from four orientation signs computed
 *   in double with a bound on their rounding error (Shewchuk's orient2d
 *   bound, taken more than twice over), on the very coordinates GEOS holds. A
 *   sign the bound cannot settle means that Q is on or extremely near a
 *   segment, or that R-Q runs through a vertex or along a segment: that
 *   lookup takes the exact path. So do lookups in cells with more than 64
 *   polygons, or with no reference point far enough from every segment (none
 *   in the synthetic France). The grid thus never answers a point GEOS would
 *   find on a border, and elsewhere both count crossings of the same rings.
 *
 *   Build. A hash of the segments by their ends finds the borders that two
 *   polygons share. Two passes over the segments then find the cells within
 *   MARGIN of each (a row-by-row clip): the first sizes the records, the
 *   second fills them. Last, a scanline per polygon along the centre line of
 *   each grid row it spans gives the crossings of its rings with that line
 *   (half-open rule, as GEOS); between pairs of crossings lie the cell
 *   centres and reference points it contains. Every reference point is far
 *   from every segment, so the rounding of a crossing cannot misplace it.
 *   Work: O(segments + cells covered + crossings log crossings). For the
 *   50,176 polygons (3.2 million segments) of the synthetic France: 3.2
 *   million cells, 0.97 million of them mixed, 103 MB, about 0.6 s of one
 *   core; the large arrays ask for 2 MB pages (see docs/performance.md).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "geom.h"
#include "internal.h"
#include "geodata/nbindex.h"

typedef struct nb_entry {
    char *id;
    char *name;
    GEOSGeometry *geom;                  /* EPSG:4326 (multi)polygon */
    const GEOSPreparedGeometry *prep;    /* owned; built from geom */
} nb_entry;

#define CELLS_PER_POLYGON 64    /* grid cells for a polygon of average size */
#define MAX_CELLS (1u << 23)    /* 32 MB of cells; building takes 20 bytes a cell more, for a while */
#define MARGIN 1e-6             /* segments this near a cell (in cell sides) count as in it */
#define REF_TOL 1e-5            /* least distance from a reference point to a segment, in cell sides */
#define MAX_NB_PER_CELL 64      /* polygons with segments in a cell: bits of the mask */
#define MAX_RUN_WORDS 65000     /* words of a cell's runs: posoff is 16 bits */
#define CELL_OUTSIDE (-1)
#define REF_NONE 255            /* no reference point: lookups in the cell take the exact path */
#define GRID_UNSURE (-2)        /* what grid_lookup says when the exact path must answer */
#define NO_J 255                /* run.j2 of a run that is one polygon's alone */
#define SEG_TWIN UINT32_MAX     /* twin[] of a segment that an earlier polygon's runs stand for */

/* Where the reference point of a mixed cell may lie along its centre line,
 * in order of preference; a cell without segments uses the first. */
static const double REF_AT[] = { 0.5, 0.25, 0.75, 0.375, 0.625, 0.125, 0.875 };

/* One 8-byte word of a mixed cell's record. A record is: a head, the mask,
 * the runs up to word posoff, each a run word followed by m vertices of two
 * coordinate words, then room for the positions of the cell's polygons, two
 * a word (room for at least k: the first pass counts some twice). */
typedef union nb_word {
    struct {
        int32_t base;       /* lowest polygon holding the whole cell and no segment in it, or -1 */
        uint16_t posoff;    /* word where the runs end and the positions begin */
        uint8_t k;          /* polygons with segments in the cell */
        uint8_t ref;        /* index in REF_AT of the reference point, or REF_NONE */
    } head;
    uint64_t mask;          /* bit j: polygon j of the cell contains the reference point */
    int32_t pos[2];         /* positions of the cell's polygons, in no order */
    struct {
        uint32_t m;         /* vertices in the run (m - 1 segments) */
        uint8_t j1;         /* the run's polygon, as its rank in the cell */
        uint8_t j2;         /* the polygon on the run's other side (a shared border), or NO_J */
        uint16_t unused;
    } run;
    double d;               /* a coordinate, x then y */
} nb_word;

typedef struct nb_grid {
    int nx, ny;             /* cells across and down; 0 when there is no grid */
    double x0, y0;          /* south-west corner of cell (0, 0), degrees */
    double dx, dy;          /* cell size, degrees */
    int32_t *cell;          /* nx * ny, row by row: a position, CELL_OUTSIDE, or -2 - the
                               word offset of the cell's record in rec */
    nb_word *rec;           /* the records of the mixed cells */
    size_t n_rec;           /* words in rec */
    size_t n_mixed;         /* cells with a record */
    size_t n_exact;         /* of those, cells with REF_NONE */
} nb_grid;

struct geodata_nbindex {
    geodata_geos geos;      /* this index's own context: one thread at a time */
    nb_grid grid;           /* see the top of the file; nx == 0 until accelerated */
    nb_entry *items;        /* sorted by id */
    size_t n;
    GEOSSTRtree *tree;      /* items are (void *)(position + 1) */
    long *cand;             /* scratch for one lookup's candidates, n long */
    size_t n_cand;
    size_t n_exact;         /* lookups that took the exact path */
};

void geodata_nbindex_free(geodata_nbindex *idx)
{
    if (!idx)
        return;
    GEOSContextHandle_t h = idx->geos.h;
    for (size_t i = 0; i < idx->n; i++) {
        free(idx->items[i].id);
        free(idx->items[i].name);
        if (idx->items[i].prep)
            GEOSPreparedGeom_destroy_r(h, idx->items[i].prep);
        if (idx->items[i].geom)
            GEOSGeom_destroy_r(h, idx->items[i].geom);
    }
    if (idx->tree)
        GEOSSTRtree_destroy_r(h, idx->tree);
    free(idx->grid.cell);
    free(idx->grid.rec);
    free(idx->items);
    free(idx->cand);
    geodata_geos_clear(&idx->geos);
    free(idx);
}

static char *dup_text(sql_stmt *st, int col)
{
    const unsigned char *s = sql_column_text(st, col);
    return strdup(s ? (const char *)s : "");
}

/* Reads every neighbourhood into idx->items; 0 or a GEODATA_E* code. */
static int read_items(geodata_store *store, geodata_nbindex *idx)
{
    sql_stmt *st = geodata_prepare(store,
        "SELECT id, name, ST_AsBinary(geom) FROM neighbourhoods ORDER BY id");
    if (!st)
        return GEODATA_EDB;
    GEOSWKBReader *reader = GEOSWKBReader_create_r(idx->geos.h);
    size_t cap = 0;
    int rc = GEODATA_OK, step;
    while (rc == GEODATA_OK && (step = sql_step(st)) == SQL_ROW) {
        if (idx->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            nb_entry *items = realloc(idx->items, ncap * sizeof *items);
            if (!items) {
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
                break;
            }
            idx->items = items;
            cap = ncap;
        }
        nb_entry *e = &idx->items[idx->n];
        memset(e, 0, sizeof *e);
        idx->n++;
        e->id = dup_text(st, 0);
        e->name = dup_text(st, 1);
        const void *wkb = sql_column_blob(st, 2);
        int len = sql_column_bytes(st, 2);
        e->geom = wkb ? GEOSWKBReader_read_r(idx->geos.h, reader, wkb, (size_t)len) : NULL;
        e->prep = e->geom ? GEOSPrepare_r(idx->geos.h, e->geom) : NULL;
        if (!e->id || !e->name)
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        else if (!e->prep)
            rc = geodata_fail(store, GEODATA_EGEOM, "neighbourhood '%s': unreadable geometry: %s",
                              e->id, idx->geos.msg);
    }
    if (rc == GEODATA_OK && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading neighbourhoods");
    GEOSWKBReader_destroy_r(idx->geos.h, reader);
    sql_finalize(st);
    return rc;
}

int geodata_nbindex_load(geodata_store *store, geodata_nbindex **out)
{
    *out = NULL;
    geodata_nbindex *idx = calloc(1, sizeof *idx);
    if (!idx || geodata_geos_init(&idx->geos)) {
        free(idx);
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    int rc = read_items(store, idx);
    if (rc == GEODATA_OK) {
        idx->cand = malloc((idx->n ? idx->n : 1) * sizeof *idx->cand);
        idx->tree = GEOSSTRtree_create_r(idx->geos.h, 10);
        if (!idx->cand || !idx->tree)
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == GEODATA_OK && i < idx->n; i++)
        GEOSSTRtree_insert_r(idx->geos.h, idx->tree, idx->items[i].geom, (void *)(uintptr_t)(i + 1));
    if (rc) {
        geodata_nbindex_free(idx);
        return rc;
    }
    *out = idx;
    return GEODATA_OK;
}

size_t geodata_nbindex_count(const geodata_nbindex *idx)
{
    return idx->n;
}

const char *geodata_nbindex_id(const geodata_nbindex *idx, size_t i)
{
    return i < idx->n ? idx->items[i].id : NULL;
}

const char *geodata_nbindex_name(const geodata_nbindex *idx, size_t i)
{
    return i < idx->n ? idx->items[i].name : NULL;
}

/* A block of n bytes for a large array, on 2 MB pages where the system
 * allows (fewer page faults to build it, fewer TLB misses to read it); freed
 * with free(). NULL when out of memory. */
static void *big_alloc(size_t n)
{
    void *p = NULL;
    size_t huge = (size_t)2 << 20;
    if (n < huge)
        return malloc(n ? n : 1);
    if (posix_memalign(&p, huge, n))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, n / huge * huge, MADV_HUGEPAGE);    /* a hint: its failure changes nothing */
#endif
    return p;
}

static void *big_zalloc(size_t n)
{
    void *p = big_alloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

/* ---- the rings, copied out of GEOS ------------------------------------------ */

typedef struct nb_rings {
    double *xy;             /* the vertices of every ring, x then y */
    size_t nv, vcap;        /* vertices held, room */
    uint32_t *ring;         /* first vertex of each ring; ring r is [ring[r], ring[r + 1]) */
    size_t nr, rcap;        /* rings held, room (ring has nr + 1 entries when done) */
    uint32_t *poly;         /* first ring of each polygon; polygon p is [poly[p], poly[p + 1]) */
    double x0, y0, x1, y1;  /* extent of every vertex */
    double big;             /* largest absolute coordinate */
} nb_rings;

enum { RINGS_OK = 0, RINGS_NOMEM = 1, RINGS_UNFIT = 2 };

static int add_ring(GEOSContextHandle_t h, nb_rings *r, const GEOSGeometry *ring)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int size;
    if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &size))
        return RINGS_UNFIT;
    if (r->nv + size >= UINT32_MAX)
        return RINGS_UNFIT;
    if (r->nv + size > r->vcap)
        return RINGS_UNFIT;     /* more than GEOSGetNumCoordinates said */
    if (r->nr + 2 > r->rcap) {
        size_t cap = r->rcap ? r->rcap * 2 : 1024;
        uint32_t *ri = realloc(r->ring, cap * sizeof *ri);
        if (!ri)
            return RINGS_NOMEM;
        r->ring = ri;
        r->rcap = cap;
    }
    double *xy = r->xy + 2 * r->nv;
    if (size && !GEOSCoordSeq_copyToBuffer_r(h, seq, xy, 0, 0))
        return RINGS_UNFIT;
    for (unsigned int i = 0; i < size; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y))
            return RINGS_UNFIT;
        if (x < r->x0) r->x0 = x;
        if (x > r->x1) r->x1 = x;
        if (y < r->y0) r->y0 = y;
        if (y > r->y1) r->y1 = y;
        if (fabs(x) > r->big) r->big = fabs(x);
        if (fabs(y) > r->big) r->big = fabs(y);
    }
    r->ring[r->nr++] = (uint32_t)r->nv;
    r->nv += size;
    return RINGS_OK;
}

/* Appends every ring of g, a polygon or a collection of them. RINGS_UNFIT
 * for anything else (the exact path then serves alone). */
static int add_polygonal(GEOSContextHandle_t h, nb_rings *r, const GEOSGeometry *g)
{
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, g))
            return RINGS_OK;
        int rc = add_ring(h, r, GEOSGetExteriorRing_r(h, g));
        int holes = GEOSGetNumInteriorRings_r(h, g);
        for (int i = 0; rc == RINGS_OK && i < holes; i++)
            rc = add_ring(h, r, GEOSGetInteriorRingN_r(h, g, i));
        return holes < 0 ? RINGS_UNFIT : rc;
    }
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int parts = GEOSGetNumGeometries_r(h, g);
        int rc = parts < 0 ? RINGS_UNFIT : RINGS_OK;
        for (int i = 0; rc == RINGS_OK && i < parts; i++)
            rc = add_polygonal(h, r, GEOSGetGeometryN_r(h, g, i));
        return rc;
    }
    return RINGS_UNFIT;
}

static void rings_clear(nb_rings *r)
{
    free(r->xy);
    free(r->ring);
    free(r->poly);
}

static int read_rings(geodata_nbindex *idx, nb_rings *r)
{
    memset(r, 0, sizeof *r);
    r->x0 = r->y0 = HUGE_VAL;
    r->x1 = r->y1 = -HUGE_VAL;
    for (size_t p = 0; p < idx->n; p++) {
        int nc = GEOSGetNumCoordinates_r(idx->geos.h, idx->items[p].geom);
        if (nc < 0)
            return RINGS_UNFIT;
        r->vcap += (size_t)nc;
    }
    if (r->vcap >= UINT32_MAX)
        return RINGS_UNFIT;
    r->xy = big_alloc(r->vcap * 2 * sizeof *r->xy);
    r->poly = malloc((idx->n + 1) * sizeof *r->poly);
    if (!r->xy || !r->poly)
        return RINGS_NOMEM;
    int rc = RINGS_OK;
    for (size_t p = 0; rc == RINGS_OK && p < idx->n; p++) {
        r->poly[p] = (uint32_t)r->nr;
        rc = add_polygonal(idx->geos.h, r, idx->items[p].geom);
    }
    if (rc == RINGS_OK && r->nr >= UINT32_MAX)
        rc = RINGS_UNFIT;
    if (rc == RINGS_OK && !r->ring && !(r->ring = malloc(sizeof *r->ring)))
        rc = RINGS_NOMEM;
    if (rc == RINGS_OK) {
        r->poly[idx->n] = (uint32_t)r->nr;
        r->ring[r->nr] = (uint32_t)r->nv;
    }
    return rc;
}

/* ---- grid geometry -------------------------------------------------------- */

/* Chooses the cells for polygons of extent r; 0, or -1 when the extent is
 * degenerate (no area: the exact path serves). */
static int grid_shape(nb_grid *g, const nb_rings *r, size_t n)
{
    double w = r->x1 - r->x0, h = r->y1 - r->y0;
    if (!(w > 0) || !(h > 0))
        return -1;
    double k = cos((r->y0 + r->y1) / 2 * M_PI / 180);
    k = k < 0.1 ? 0.1 : k > 1 ? 1 : k;           /* ground length of a degree of longitude */
    double want = (double)CELLS_PER_POLYGON * (double)n;
    if (want > MAX_CELLS / 2)
        want = MAX_CELLS / 2;
    double s = sqrt(w * k * h / want);          /* cell side on the ground, degrees of latitude */
    double least = r->big * 1e-7;               /* rounding stays far below MARGIN */
    double sx = fmax(s / k, least), sy = fmax(s, least);
    for (;;) {
        double nx = ceil(w / sx) + 2, ny = ceil(h / sy) + 2;
        if (nx * ny <= MAX_CELLS) {
            g->nx = (int)nx;
            g->ny = (int)ny;
            break;
        }
        sx *= 1.05;
        sy *= 1.05;
    }
    g->dx = fmax(w / (g->nx - 2), least);       /* wider than the extent if need be */
    g->dy = fmax(h / (g->ny - 2), least);
    g->x0 = r->x0 - g->dx;
    g->y0 = r->y0 - g->dy;
    return 0;
}

/* min, max and floor inline: fmin, fmax and floor are library calls on
 * baseline x86-64. No NaN reaches them. */
static inline double lo2(double a, double b) { return a < b ? a : b; }
static inline double hi2(double a, double b) { return a > b ? a : b; }

/* floor(v) clamped to [0, n - 1]. */
static inline int clamp_index(double v, int n)
{
    return v < 0 ? 0 : v >= n - 1 ? n - 1 : (int)v;
}

static inline void ref_point(const nb_grid *g, int ix, int iy, int ref, double *x, double *y)
{
    *x = g->x0 + ((double)ix + REF_AT[ref]) * g->dx;
    *y = g->y0 + ((double)iy + 0.5) * g->dy;
}

typedef struct nb_cells {
    uint32_t *c;            /* cell indices */
    size_t n, cap;
} nb_cells;

/* Lists in out the cells that the segment a-b comes within MARGIN of (in
 * cell sides), row by row; 0 or -1 when out of memory. Work: the cells
 * listed. */
static int segment_cells(const nb_grid *g, double ax, double ay, double bx, double by, nb_cells *out)
{
    out->n = 0;
    double ua = (ax - g->x0) / g->dx, va = (ay - g->y0) / g->dy;
    double ub = (bx - g->x0) / g->dx, vb = (by - g->y0) / g->dy;
    int j0 = clamp_index(lo2(va, vb) - MARGIN, g->ny), j1 = clamp_index(hi2(va, vb) + MARGIN, g->ny);
    for (int j = j0; j <= j1; j++) {
        double ulo = lo2(ua, ub), uhi = hi2(ua, ub);
        if (va != vb) {
            /* The part of the segment in the row's band, widened by MARGIN. */
            double t0 = ((double)j - MARGIN - va) / (vb - va);
            double t1 = ((double)j + 1 + MARGIN - va) / (vb - va);
            double tlo = hi2(lo2(t0, t1), 0), thi = lo2(hi2(t0, t1), 1);
            if (tlo > thi)
                continue;
            double u0 = ua + tlo * (ub - ua), u1 = ua + thi * (ub - ua);
            ulo = lo2(u0, u1);
            uhi = hi2(u0, u1);
        }
        int i0 = clamp_index(ulo - MARGIN, g->nx), i1 = clamp_index(uhi + MARGIN, g->nx);
        for (int i = i0; i <= i1; i++) {
            if (out->n == out->cap) {
                size_t cap = out->cap ? out->cap * 2 : 64;
                uint32_t *c = realloc(out->c, cap * sizeof *c);
                if (!c)
                    return -1;
                out->c = c;
                out->cap = cap;
            }
            out->c[out->n++] = (uint32_t)j * (uint32_t)g->nx + (uint32_t)i;
        }
    }
    return 0;
}

/* ---- exact crossings ---------------------------------------------------------- */

/* The sign of the orientation of (a, b, c), +1 counter-clockwise, -1
 * clockwise, or 0 when the double computation cannot tell it (its rounding
 * bound, Shewchuk's 3.3e-16 relative, is taken as 8.9e-16, plus an absolute
 * 1e-300 for underflow). A non-zero answer is the exact sign. */
static inline int orient(double ax, double ay, double bx, double by, double cx, double cy)
{
    double l = (ax - cx) * (by - cy), r = (ay - cy) * (bx - cx), det = l - r;
    double bound = 4 * DBL_EPSILON * (fabs(l) + fabs(r)) + 1e-300;
    return det > bound ? 1 : det < -bound ? -1 : 0;
}

/* Whether the segment r-q crosses the segment a-b: 1 at one point inside
 * both, 0 surely not, -1 when the signs cannot settle it (a touch, a
 * vertex on the way, an overlap, or a near miss). */
static inline int crosses(double rx, double ry, double qx, double qy,
                          double ax, double ay, double bx, double by)
{
    int s1 = orient(ax, ay, bx, by, rx, ry), s2 = orient(ax, ay, bx, by, qx, qy);
    if (s1 && s1 == s2)
        return 0;           /* r and q strictly on one side of the line a-b */
    int s3 = orient(rx, ry, qx, qy, ax, ay), s4 = orient(rx, ry, qx, qy, bx, by);
    if (s3 && s3 == s4)
        return 0;           /* a and b strictly on one side of the line r-q */
    return s1 && s2 && s3 && s4 ? 1 : -1;
}

static inline int lowest_bit(uint64_t m)
{
#if defined(__GNUC__)
    return __builtin_ctzll(m);
#else
    int i = 0;
    while (!(m & 1)) {
        m >>= 1;
        i++;
    }
    return i;
#endif
}

static inline uint64_t run_bits(const nb_word *run)
{
    uint64_t b = (uint64_t)1 << run->run.j1;
    return run->run.j2 == NO_J ? b : b | (uint64_t)1 << run->run.j2;
}

static inline nb_word *record(const nb_grid *g, int32_t cell_value)
{
    return g->rec + ((size_t)-(int64_t)cell_value - 2);
}

/* The grid's answer for (x, y): a position, -1, or GRID_UNSURE when only
 * the exact path can tell. Work: one cell read; in a mixed cell, a pass over
 * its runs with four orientations per segment whose box meets R-Q's. */
static long grid_lookup(const nb_grid *g, double x, double y)
{
    double fx = (x - g->x0) / g->dx, fy = (y - g->y0) / g->dy;
    if (!(fx >= 0 && fy >= 0 && fx < g->nx && fy < g->ny))
        return -1;          /* off the grid is outside every polygon (and NaN too) */
    int ix = (int)fx, iy = (int)fy;
    int32_t v = g->cell[(size_t)iy * (size_t)g->nx + (size_t)ix];
    if (v >= CELL_OUTSIDE)
        return v;
    const nb_word *w = record(g, v);
    if (w[0].head.ref == REF_NONE)
        return GRID_UNSURE;
    double rx, ry;
    ref_point(g, ix, iy, w[0].head.ref, &rx, &ry);
    double xlo = lo2(rx, x), xhi = hi2(rx, x), ylo = lo2(ry, y), yhi = hi2(ry, y);
    uint64_t in = w[1].mask;
    const nb_word *run = w + 2, *end = w + w[0].head.posoff;
    while (run < end) {
        uint32_t m = run[0].run.m;
        const nb_word *p = run + 1;
        for (uint32_t i = 1; i < m; i++, p += 2) {
            double ax = p[0].d, ay = p[1].d, bx = p[2].d, by = p[3].d;
            if ((ax < xlo && bx < xlo) || (ax > xhi && bx > xhi)
                || (ay < ylo && by < ylo) || (ay > yhi && by > yhi))
                continue;
            int c = crosses(rx, ry, x, y, ax, ay, bx, by);
            if (c < 0)
                return GRID_UNSURE;
            if (c)
                in ^= run_bits(run);
        }
        run += 1 + 2 * (size_t)m;
    }
    int32_t best = w[0].head.base < 0 ? INT32_MAX : w[0].head.base;
    for (; in; in &= in - 1) {
        int j = lowest_bit(in);
        if (end[j / 2].pos[j % 2] < best)
            best = end[j / 2].pos[j % 2];
    }
    return best == INT32_MAX ? -1 : best;
}

/* ---- building the grid -------------------------------------------------------- */

/* For each segment, by its first vertex: 0 when no other polygon has it,
 * SEG_TWIN when an earlier polygon has it too, else 1 + the later polygon
 * that has it too. Two polygons that share a border then share its runs,
 * which toggle both (GEOS counts a crossing of that segment once for
 * each). A segment met a third time, or twice in one polygon, stays on its
 * own. NULL when out of memory. Work: one hash probe a segment. */
static uint32_t *find_twins(const nb_rings *r, size_t n)
{
    uint32_t *twin = big_zalloc(r->nv * sizeof *twin);
    size_t size = 1024;
    while (size < 2 * r->nv)
        size *= 2;
    uint32_t *slot = big_zalloc(size * sizeof *slot);   /* 1 + first vertex of a segment, or 0 */
    if (!twin || !slot) {
        free(twin);
        free(slot);
        return NULL;
    }
    for (size_t p = 0; p < n; p++) {
        uint32_t first = r->ring[r->poly[p]];
        for (uint32_t ri = r->poly[p]; ri < r->poly[p + 1]; ri++)
            for (uint32_t v = r->ring[ri]; v + 1 < r->ring[ri + 1]; v++) {
                const double *a = r->xy + 2 * (size_t)v;
                /* The key: the segment's ends, the lesser first, as bits. */
                int swap = a[2] < a[0] || (a[2] == a[0] && a[3] < a[1]);
                uint64_t key[4];
                memcpy(key, swap ? a + 2 : a, 2 * sizeof *a);
                memcpy(key + 2, swap ? a : a + 2, 2 * sizeof *a);
                uint64_t h = 0;
                for (int e = 0; e < 4; e++) {
                    h = (h ^ key[e]) * 0x9E3779B97F4A7C15u;
                    h ^= h >> 32;
                }
                h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9u;  /* round values have zero low bits */
                h ^= h >> 32;
                for (size_t i = (size_t)h & (size - 1);; i = (i + 1) & (size - 1)) {
                    if (!slot[i]) {
                        slot[i] = v + 1;
                        break;
                    }
                    uint32_t u = slot[i] - 1;
                    const double *b = r->xy + 2 * (size_t)u;
                    int same = (a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3])
                               || (a[0] == b[2] && a[1] == b[3] && a[2] == b[0] && a[3] == b[1]);
                    if (!same)
                        continue;
                    if (u < first && twin[u] == 0) {
                        twin[u] = (uint32_t)p + 1;
                        twin[v] = SEG_TWIN;
                    }
                    break;
                }
            }
    }
    free(slot);
    return twin;
}

typedef struct nb_build {
    nb_grid *g;
    const nb_rings *r;
    size_t n;               /* polygons */
    size_t ncell;           /* nx * ny */
    uint32_t *twin;         /* per segment, see find_twins */
    uint32_t *last;         /* per cell: first vertex of the last segment put in it, or UINT32_MAX */
    uint32_t *words;        /* per cell: pass 1, the words of its runs; pass 2, the write offset */
    uint32_t *k;            /* per cell: pass 1, at least its polygons (or 0); pass 2, the
                               offset of its open run */
    uint32_t *stamp;        /* per cell (pass 1): 1 + the last polygon counted in k */
    uint32_t *stamp2;       /* per cell (pass 1): 1 + the last partner polygon counted in k */
    nb_cells cells;         /* scratch: the cells of one segment */
} nb_build;

/* The rank of polygon p in record w, added if new. */
static int rank_in(nb_word *w, int32_t p)
{
    nb_word *pos = w + w[0].head.posoff;
    int k = w[0].head.k;
    for (int j = k - 1; j >= 0; j--)
        if (pos[j / 2].pos[j % 2] == p)
            return j;
    pos[k / 2].pos[k % 2] = p;
    w[0].head.k++;
    return k;
}

/* Pass 1 (fill == 0) counts, per cell, the polygons and the words of the
 * runs of the segments near it; pass 2 (fill == 1) writes the runs into the
 * records. Both visit the same segments in the same order (polygons in
 * position order, their rings, their segments, less those an earlier
 * polygon's runs stand for), so a run is a stretch of one ring's
 * consecutive segments near one cell with the same twin. 0, or -1 when out
 * of memory. */
static int pass_segments(nb_build *b, int fill)
{
    const nb_rings *r = b->r;
    memset(b->last, 0xFF, b->ncell * sizeof *b->last);
    if (!fill) {
        memset(b->stamp, 0, b->ncell * sizeof *b->stamp);
        memset(b->stamp2, 0, b->ncell * sizeof *b->stamp2);
    }
    for (size_t p = 0; p < b->n; p++) {
        for (uint32_t ri = r->poly[p]; ri < r->poly[p + 1]; ri++) {
            uint32_t v0 = r->ring[ri], v1 = r->ring[ri + 1];
            for (uint32_t v = v0; v + 1 < v1; v++) {
                uint32_t twin = b->twin[v];
                if (twin == SEG_TWIN)
                    continue;
                const double *a = r->xy + 2 * (size_t)v;
                if (segment_cells(b->g, a[0], a[1], a[2], a[3], &b->cells))
                    return -1;
                for (size_t i = 0; i < b->cells.n; i++) {
                    uint32_t c = b->cells.c[i];
                    int extend = v > v0 && b->last[c] == v - 1 && b->twin[v - 1] == twin;
                    b->last[c] = v;
                    if (!fill) {
                        if (b->stamp[c] != p + 1) {
                            b->stamp[c] = (uint32_t)p + 1;
                            b->k[c]++;
                        }
                        if (twin && b->stamp2[c] != twin) {
                            b->stamp2[c] = twin;
                            b->k[c]++;
                        }
                        b->words[c] += extend ? 2 : 5;
                        continue;
                    }
                    nb_word *w = record(b->g, b->g->cell[c]);
                    if (w[0].head.ref == REF_NONE)
                        continue;       /* too crowded: the exact path serves it */
                    nb_word *o = w + b->words[c];
                    if (extend) {
                        o[0].d = a[2];
                        o[1].d = a[3];
                        w[b->k[c]].run.m++;
                        b->words[c] += 2;
                        continue;
                    }
                    o[0].run.m = 2;
                    o[0].run.j1 = (uint8_t)rank_in(w, (int32_t)p);
                    o[0].run.j2 = twin ? (uint8_t)rank_in(w, (int32_t)(twin - 1)) : NO_J;
                    o[0].run.unused = 0;
                    o[1].d = a[0];
                    o[2].d = a[1];
                    o[3].d = a[2];
                    o[4].d = a[3];
                    b->k[c] = b->words[c];
                    b->words[c] += 5;
                }
            }
        }
    }
    return 0;
}

/* Lays out one record per mixed cell after pass 1 and points the cells at
 * them; pass 2's write offsets are left in words. A cell with more than
 * MAX_NB_PER_CELL polygons or MAX_RUN_WORDS words of runs gets a record
 * without runs, marked REF_NONE. 0, or -1 when out of memory or beyond 2^31
 * words. */
static int lay_out_records(nb_build *b)
{
    nb_grid *g = b->g;
    size_t total = 0;
    for (size_t c = 0; c < b->ncell; c++) {
        if (!b->k[c]) {
            g->cell[c] = CELL_OUTSIDE;
            continue;
        }
        size_t size = 2;
        if (b->k[c] <= MAX_NB_PER_CELL && b->words[c] <= MAX_RUN_WORDS)
            size += b->words[c] + (b->k[c] + 1) / 2;
        if (total + size >= INT32_MAX - 2)
            return -1;
        g->cell[c] = -2 - (int32_t)total;
        total += size;
        g->n_mixed++;
    }
    g->n_rec = total;
    g->rec = big_alloc(total * sizeof *g->rec);
    if (!g->rec)
        return -1;
    for (size_t c = 0; c < b->ncell; c++) {
        if (g->cell[c] == CELL_OUTSIDE)
            continue;
        nb_word *w = record(g, g->cell[c]);
        int fits = b->k[c] <= MAX_NB_PER_CELL && b->words[c] <= MAX_RUN_WORDS;
        w[0].head.base = CELL_OUTSIDE;
        w[0].head.posoff = (uint16_t)(fits ? 2 + b->words[c] : 2);
        w[0].head.k = 0;
        w[0].head.ref = fits ? 0 : REF_NONE;
        g->n_exact += !fits;
        w[1].mask = 0;
        for (uint32_t i = 0; fits && i < (b->k[c] + 1) / 2; i++)
            w[w[0].head.posoff + i].pos[0] = w[w[0].head.posoff + i].pos[1] = INT32_MAX;
        b->words[c] = 2;
    }
    return 0;
}

/* Whether (rx, ry) is at least REF_TOL cell sides away from every segment
 * of the record w. */
static int far_from_segments(const nb_grid *g, const nb_word *w, double rx, double ry)
{
    for (const nb_word *run = w + 2, *end = w + w[0].head.posoff; run < end;) {
        uint32_t m = run[0].run.m;
        const nb_word *p = run + 1;
        for (uint32_t i = 1; i < m; i++, p += 2) {
            double au = (p[0].d - rx) / g->dx, av = (p[1].d - ry) / g->dy;
            double eu = (p[2].d - rx) / g->dx - au, ev = (p[3].d - ry) / g->dy - av;
            double len2 = eu * eu + ev * ev, t = 0;
            if (len2 > 0) {
                t = -(au * eu + av * ev) / len2;
                t = t < 0 ? 0 : t > 1 ? 1 : t;
            }
            double du = au + t * eu, dv = av + t * ev;
            if (!(du * du + dv * dv > REF_TOL * REF_TOL))
                return 0;
        }
        run += 1 + 2 * (size_t)m;
    }
    return 1;
}

/* Gives every mixed cell a reference point far from its segments, or
 * REF_NONE, and counts the cells left with REF_NONE. Work: the cells'
 * segments, times at most the 7 candidates. */
static void choose_refs(nb_grid *g)
{
    for (int iy = 0; iy < g->ny; iy++)
        for (int ix = 0; ix < g->nx; ix++) {
            int32_t v = g->cell[(size_t)iy * (size_t)g->nx + (size_t)ix];
            if (v >= CELL_OUTSIDE)
                continue;
            nb_word *w = record(g, v);
            if (w[0].head.ref == REF_NONE)
                continue;
            w[0].head.ref = REF_NONE;
            g->n_exact++;
            for (int c = 0; c < (int)(sizeof REF_AT / sizeof REF_AT[0]); c++) {
                double rx, ry;
                ref_point(g, ix, iy, c, &rx, &ry);
                if (far_from_segments(g, w, rx, ry)) {
                    w[0].head.ref = (uint8_t)c;
                    g->n_exact--;
                    break;
                }
            }
        }
}

typedef struct nb_cross {
    int32_t row;            /* grid row whose centre line is crossed */
    double x;               /* where */
} nb_cross;

static int cmp_cross(const void *a, const void *b)
{
    const nb_cross *p = a, *q = b;
    if (p->row != q->row)
        return (p->row > q->row) - (p->row < q->row);
    return (p->x > q->x) - (p->x < q->x);
}

/* Marks what polygon p holds, row by row along the cells' centre lines:
 * cells without segments whose centre it contains (unless a lower polygon
 * did), and in mixed cells its bit of the mask when it contains the
 * reference point, or the base when it has no segment there. *xs is
 * scratch of *cap entries. 0, -1 when out of memory, -2 when a row has an
 * odd number of crossings. Work: p's segments
 * and the cells between its crossings, plus sorting the crossings. */
static int scan_polygon(nb_grid *g, const nb_rings *r, size_t p, nb_cross **xs, size_t *cap)
{
    size_t nx = 0;
    for (uint32_t ri = r->poly[p]; ri < r->poly[p + 1]; ri++)
        for (uint32_t v = r->ring[ri]; v + 1 < r->ring[ri + 1]; v++) {
            const double *a = r->xy + 2 * (size_t)v;
            double ay = a[1], by = a[3];
            int j0 = clamp_index((lo2(ay, by) - g->y0) / g->dy - 1.5, g->ny);
            int j1 = clamp_index((hi2(ay, by) - g->y0) / g->dy + 0.5, g->ny);
            for (int j = j0; j <= j1; j++) {
                double yc = g->y0 + ((double)j + 0.5) * g->dy;
                if ((ay > yc) == (by > yc))
                    continue;
                if (nx == *cap) {
                    size_t ncap = *cap ? *cap * 2 : 256;
                    nb_cross *n = realloc(*xs, ncap * sizeof *n);
                    if (!n)
                        return -1;
                    *xs = n;
                    *cap = ncap;
                }
                (*xs)[nx].row = j;
                (*xs)[nx++].x = a[0] + (yc - ay) * (a[2] - a[0]) / (by - ay);
            }
        }
    if (nx > 1)
        qsort(*xs, nx, sizeof **xs, cmp_cross);
    for (size_t i = 0; i + 1 < nx; i += 2) {
        const nb_cross *lo = &(*xs)[i], *hi = &(*xs)[i + 1];
        if (lo->row != hi->row)
            return -2;          /* an odd row: not closed rings (GEOS does not make these) */
        int c0 = clamp_index((lo->x - g->x0) / g->dx - 1, g->nx);
        int c1 = clamp_index((hi->x - g->x0) / g->dx + 1, g->nx);
        for (int ix = c0; ix <= c1; ix++) {
            size_t c = (size_t)lo->row * (size_t)g->nx + (size_t)ix;
            int32_t v = g->cell[c];
            if (v >= 0)
                continue;       /* a lower polygon holds it */
            nb_word *w = v == CELL_OUTSIDE ? NULL : record(g, v);
            if (w && w[0].head.ref == REF_NONE)
                continue;
            double rx, ry;
            ref_point(g, ix, lo->row, w ? w[0].head.ref : 0, &rx, &ry);
            if (!(lo->x < rx && rx < hi->x))
                continue;
            if (!w) {
                g->cell[c] = (int32_t)p;
                continue;
            }
            const nb_word *pos = w + w[0].head.posoff;
            int j = 0, k = w[0].head.k;
            while (j < k && pos[j / 2].pos[j % 2] != (int32_t)p)
                j++;
            if (j < k)
                w[1].mask |= (uint64_t)1 << j;
            else if (w[0].head.base < 0)
                w[0].head.base = (int32_t)p;
        }
    }
    return 0;
}

static void build_clear(nb_build *b)
{
    free(b->twin);
    free(b->last);
    free(b->words);
    free(b->k);
    free(b->stamp);
    free(b->stamp2);
    free(b->cells.c);
}

/* Builds idx->grid from r; 0 or GEODATA_ENOMEM. On failure there is no
 * grid, and the exact path serves alone. */
static int build_grid(geodata_nbindex *idx, const nb_rings *r)
{
    nb_grid *g = &idx->grid;
    nb_build b = { .g = g, .r = r, .n = idx->n, .ncell = (size_t)g->nx * (size_t)g->ny };
    b.twin = find_twins(r, idx->n);
    b.last = big_alloc(b.ncell * sizeof *b.last);
    b.words = big_zalloc(b.ncell * sizeof *b.words);
    b.k = big_zalloc(b.ncell * sizeof *b.k);
    b.stamp = big_alloc(b.ncell * sizeof *b.stamp);
    b.stamp2 = big_alloc(b.ncell * sizeof *b.stamp2);
    g->cell = big_alloc(b.ncell * sizeof *g->cell);
    int ok = b.twin && b.last && b.words && b.k && b.stamp && b.stamp2 && g->cell
             && pass_segments(&b, 0) == 0 && lay_out_records(&b) == 0;
    free(b.stamp);
    free(b.stamp2);
    b.stamp = b.stamp2 = NULL;
    ok = ok && pass_segments(&b, 1) == 0;
    build_clear(&b);
    int unfit = 0;
    if (ok) {
        choose_refs(g);
        nb_cross *xs = NULL;
        size_t cap = 0;
        for (size_t p = 0; ok && p < idx->n; p++) {
            int rc = scan_polygon(g, r, p, &xs, &cap);
            unfit = rc == -2;
            ok = rc == 0;
        }
        free(xs);
    }
    if (ok)
        return GEODATA_OK;
    free(g->cell);
    free(g->rec);
    memset(g, 0, sizeof *g);
    return unfit ? GEODATA_OK : GEODATA_ENOMEM;
}

int geodata_nbindex_accelerate(geodata_nbindex *idx)
{
    if (idx->grid.cell || idx->n == 0)
        return GEODATA_OK;
    nb_rings r;
    int rc = read_rings(idx, &r);
    if (rc == RINGS_NOMEM) {
        rings_clear(&r);
        return GEODATA_ENOMEM;
    }
    if (rc == RINGS_UNFIT || grid_shape(&idx->grid, &r, idx->n)) {
        rings_clear(&r);
        memset(&idx->grid, 0, sizeof idx->grid);
        return GEODATA_OK;      /* the exact path serves alone */
    }
    rc = build_grid(idx, &r);
    rings_clear(&r);
    return rc;
}

void geodata_nbindex_get_stats(const geodata_nbindex *idx, geodata_nbindex_stats *out)
{
    const nb_grid *g = &idx->grid;
    memset(out, 0, sizeof *out);
    if (g->cell) {
        out->cells = (size_t)g->nx * (size_t)g->ny;
        out->mixed_cells = g->n_mixed;
        out->exact_cells = g->n_exact;
        out->bytes = out->cells * sizeof *g->cell + g->n_rec * sizeof *g->rec;
    }
    out->exact_lookups = idx->n_exact;
}

/* ---- lookups -------------------------------------------------------------------- */

static void collect(void *item, void *userdata)
{
    geodata_nbindex *idx = userdata;
    if (idx->n_cand < idx->n)
        idx->cand[idx->n_cand++] = (long)((uintptr_t)item - 1);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The exact path: R-tree candidates in id order, each tested by GEOS. */
static long exact_lookup(geodata_nbindex *idx, double lon, double lat)
{
    GEOSContextHandle_t h = idx->geos.h;
    idx->n_exact++;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, lon, lat);
    if (!pt)
        return -1;
    idx->n_cand = 0;
    GEOSSTRtree_query_r(h, idx->tree, pt, collect, idx);
    if (idx->n_cand > 1)
        qsort(idx->cand, idx->n_cand, sizeof *idx->cand, cmp_long);
    long found = -1;
    for (size_t i = 0; i < idx->n_cand && found < 0; i++)
        if (GEOSPreparedIntersects_r(h, idx->items[idx->cand[i]].prep, pt) == 1)
            found = idx->cand[i];
    GEOSGeom_destroy_r(h, pt);
    return found;
}

long geodata_nbindex_lookup(geodata_nbindex *idx, double lon, double lat)
{
    if (idx->n == 0)
        return -1;
    if (idx->grid.cell) {
        long k = grid_lookup(&idx->grid, lon, lat);
        if (k != GRID_UNSURE)
            return k;
    }
    return exact_lookup(idx, lon, lat);
}
