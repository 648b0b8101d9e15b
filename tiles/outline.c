/*
 * tiles/outline.c — a shape's polygons generalised once per zoom, and drawn
 * from there (tiles_geom_from_shape_generalised, see shape.h).
 *
 * An outline holds, for one zoom and extent, the shape's polygons in units
 * of that zoom's grid (extent * 2^z across the world, so a tile's own units
 * once its origin is subtracted): open rings of int32 points wound as MVT
 * wants (exteriors with a positive surveyor's area, y down), each polygon
 * with its bounds. Making one:
 *   1. each ring is scaled to the grid and simplified by Douglas-Peucker at
 *      half a unit, its closing point fixed, as GEOSSimplify does;
 *   2. the kept points are rounded to the grid and repeats dropped; a ring
 *      left with fewer than three points or no area is dropped, and a
 *      polygon whose shell is dropped goes with its holes;
 *   3. the result is checked valid in exact integer arithmetic: no two
 *      edges meet except consecutive ones at their shared point (without
 *      folding back), each hole lies inside its shell and outside its
 *      siblings, no polygon lies inside another (past CHECK_MAX points,
 *      GEOSisValid decides). A shape that fails is made again by GEOS as the
 *      per-tile path makes it: simplified, then snapped by the precision
 *      reducer, which repairs what rounding broke.
 * The check is stricter than OGC validity (rings touching at one point are
 * refused): it only sends a few valid shapes to GEOS.
 *
 * A coarser tolerance (a tile over its size budget) is served by a coarser
 * outline, made from this one by the same three steps and kept beside it,
 * for the tolerances of the detail levels (0.5 * 4^k units); any other is
 * simplified again from the outline at each draw, polygon by polygon,
 * checked the same way, and given to GEOS when that fails.
 *
 * Drawing a polygon inside the frame copies it. A polygon crossing the
 * frame's edge is clipped by GEOS, then simplified and snapped by
 * tiles_geom_append like any clipped geometry. Memory: a France of 50,000
 * neighbourhoods drawn at every zoom to 10 keeps about 200 MB of outlines.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shape_internal.h"
#include "tiles/tile.h"

#define CHECK_MAX 1024           /* points checked pairwise; GEOS checks more */
#define COARSER 5                /* outlines kept at 0.5 * 4^k units, k = 1 to COARSER */
#define MAX_UNITS 16777216.0     /* 2^24 units a world: int64 products stay exact */

typedef struct opoly {
    int32_t bounds[4];       /* of its shell: x0, y0, x1, y1, zoom units */
    uint32_t ring, n_rings;  /* its rings, shell first */
} opoly;

/* The same zoom simplified at 0.5 * 4^k units (k = 1..COARSER), as a tile
 * over its size budget asks: made from the outline on first use, and
 * published, the set itself too, as the shape's outlines are. */
typedef struct coarser_set {
    _Atomic(tiles_outline *) level[COARSER];
} coarser_set;

/* One block, the header then its arrays (a country's worth of shapes keeps
 * one per zoom: the header is kept small, the coarser set apart). */
struct tiles_outline {
    uint32_t extent;         /* of the frames it was made for */
    uint32_t n_polys, n_rings;
    uint32_t bytes;          /* 2n + 3 summed over its rings of n points: see
                                tiles_shape_generalised_bytes */
    int32_t bounds[4];       /* of every polygon (empty when there is none) */
    opoly *polys;
    uint32_t *rings;         /* n_rings + 1 offsets into xy, in points */
    int32_t *xy;             /* every ring's points, open */
    _Atomic(coarser_set *) coarser;   /* NULL until a coarser level is asked for */
};

void tiles_outline_free(tiles_outline *o)
{
    if (!o)
        return;
    coarser_set *set = atomic_load(&o->coarser);
    for (int k = 0; set && k < COARSER; k++)
        tiles_outline_free(atomic_load(&set->level[k]));
    free(set);
    free(o);   /* its arrays live in the same block */
}

/* ---- exact integer geometry ------------------------------------------------- */

/* The side of p from a to b: 1 left, -1 right, 0 on the line (y down or up:
 * only consistency matters). */
static int orient(const int32_t *a, const int32_t *b, const int32_t *p)
{
    int64_t v = (int64_t)(b[0] - a[0]) * (p[1] - a[1]) - (int64_t)(b[1] - a[1]) * (p[0] - a[0]);
    return (v > 0) - (v < 0);
}

/* p, collinear with a-b, lies within the segment's box. */
static int within(const int32_t *a, const int32_t *b, const int32_t *p)
{
    return p[0] >= (a[0] < b[0] ? a[0] : b[0]) && p[0] <= (a[0] > b[0] ? a[0] : b[0])
        && p[1] >= (a[1] < b[1] ? a[1] : b[1]) && p[1] <= (a[1] > b[1] ? a[1] : b[1]);
}

/* 1 when the closed segments a-b and p-q share a point. */
static int segments_meet(const int32_t *a, const int32_t *b, const int32_t *p, const int32_t *q)
{
    if ((a[0] < p[0] && a[0] < q[0] && b[0] < p[0] && b[0] < q[0])
        || (a[0] > p[0] && a[0] > q[0] && b[0] > p[0] && b[0] > q[0])
        || (a[1] < p[1] && a[1] < q[1] && b[1] < p[1] && b[1] < q[1])
        || (a[1] > p[1] && a[1] > q[1] && b[1] > p[1] && b[1] > q[1]))
        return 0;
    int o1 = orient(a, b, p), o2 = orient(a, b, q), o3 = orient(p, q, a), o4 = orient(p, q, b);
    if (o1 != o2 && o3 != o4)
        return 1;
    return (o1 == 0 && within(a, b, p)) || (o2 == 0 && within(a, b, q))
        || (o3 == 0 && within(p, q, a)) || (o4 == 0 && within(p, q, b));
}

/* Even-odd rule over ring [from, to) of xy: 1 when p is inside (p is never
 * on the ring here: the rings were found not to meet). */
static int inside_ring(const int32_t *xy, uint32_t from, uint32_t to, const int32_t *p)
{
    int inside = 0;
    for (uint32_t i = from, j = to - 1; i < to; j = i++) {
        const int32_t *a = xy + 2 * (size_t)j, *b = xy + 2 * (size_t)i;
        if ((a[1] > p[1]) != (b[1] > p[1])) {
            int64_t cr = (int64_t)(b[0] - a[0]) * (p[1] - a[1]) - (int64_t)(p[0] - a[0]) * (b[1] - a[1]);
            if (b[1] > a[1] ? cr > 0 : cr < 0)
                inside = !inside;
        }
    }
    return inside;
}

static int64_t area2(const int32_t *xy, uint32_t from, uint32_t to)
{
    int64_t a = 0;
    for (uint32_t i = from, j = to - 1; i < to; j = i++)
        a += (int64_t)xy[2 * (size_t)j] * xy[2 * (size_t)i + 1]
           - (int64_t)xy[2 * (size_t)i] * xy[2 * (size_t)j + 1];
    return a;
}

/* Edge k of ring [from, to): its two points. */
static void edge(const int32_t *xy, uint32_t from, uint32_t to, uint32_t k, const int32_t **a,
                 const int32_t **b)
{
    *a = xy + 2 * (size_t)k;
    *b = xy + 2 * (size_t)(k + 1 < to ? k + 1 : from);
}

/* 1 when no edge of ring r meets an edge of ring s (r == s: of itself,
 * consecutive edges sharing only their point and not folding back). */
static int rings_apart(const int32_t *xy, const uint32_t *rings, uint32_t r, uint32_t s)
{
    uint32_t r0 = rings[r], r1 = rings[r + 1], s0 = rings[s], s1 = rings[s + 1];
    for (uint32_t i = r0; i < r1; i++) {
        const int32_t *a, *b;
        edge(xy, r0, r1, i, &a, &b);
        for (uint32_t j = r == s ? i + 1 : s0; j < s1; j++) {
            const int32_t *p, *q;
            edge(xy, s0, s1, j, &p, &q);
            if (r == s && (j == i + 1 || (i == r0 && j == r1 - 1))) {
                /* consecutive: v shared, u and w the far ends; folding back
                 * is u, v, w collinear with u and w on the same side of v */
                const int32_t *u = j == i + 1 ? a : p, *v = j == i + 1 ? b : a, *w = j == i + 1 ? q : b;
                if (orient(u, v, w) == 0
                    && (int64_t)(u[0] - v[0]) * (w[0] - v[0]) + (int64_t)(u[1] - v[1]) * (w[1] - v[1]) > 0)
                    return 0;
                continue;
            }
            if (segments_meet(a, b, p, q))
                return 0;
        }
    }
    return 1;
}

typedef struct box { int32_t b[4]; } box;

static box ring_box(const int32_t *xy, uint32_t from, uint32_t to)
{
    box r = { { INT32_MAX, INT32_MAX, INT32_MIN, INT32_MIN } };
    for (uint32_t i = from; i < to; i++) {
        const int32_t *p = xy + 2 * (size_t)i;
        if (p[0] < r.b[0]) r.b[0] = p[0];
        if (p[1] < r.b[1]) r.b[1] = p[1];
        if (p[0] > r.b[2]) r.b[2] = p[0];
        if (p[1] > r.b[3]) r.b[3] = p[1];
    }
    return r;
}

static int boxes_meet(const box *a, const box *b)
{
    return a->b[0] <= b->b[2] && a->b[2] >= b->b[0] && a->b[1] <= b->b[3] && a->b[3] >= b->b[1];
}

/* 1 when point p is inside polygon q (inside its shell, outside its holes). */
static int inside_poly(const int32_t *xy, const uint32_t *rings, const opoly *q, const int32_t *p)
{
    if (!inside_ring(xy, rings[q->ring], rings[q->ring + 1], p))
        return 0;
    for (uint32_t h = q->ring + 1; h < q->ring + q->n_rings; h++)
        if (inside_ring(xy, rings[h], rings[h + 1], p))
            return 0;
    return 1;
}

/* The check of step 3 (see the top of the file) over polys[0..n-1], whose
 * rings are consecutive from polys[0].ring: 1 valid, 0 not, or TILES_ENOMEM.
 * Work: the pairs of edges of rings whose boxes meet, and one point-in-ring
 * test per hole and per pair of polygons whose boxes meet. */
static int valid_polys(const int32_t *xy, const uint32_t *rings, const opoly *polys, size_t n)
{
    if (!n)
        return 1;
    uint32_t first = polys[0].ring, last = polys[n - 1].ring + polys[n - 1].n_rings;
    box small[16], *boxes = last - first <= 16 ? small : malloc((last - first) * sizeof *boxes);
    if (!boxes)
        return TILES_ENOMEM;
    for (uint32_t r = first; r < last; r++)
        boxes[r - first] = ring_box(xy, rings[r], rings[r + 1]);
    int ok = 1;
    for (uint32_t r = first; ok && r < last; r++)
        for (uint32_t s = r; ok && s < last; s++)
            if (boxes_meet(&boxes[r - first], &boxes[s - first]))
                ok = rings_apart(xy, rings, r, s);
    for (size_t i = 0; ok && i < n; i++) {
        const opoly *p = &polys[i];
        for (uint32_t h = p->ring + 1; ok && h < p->ring + p->n_rings; h++) {
            const int32_t *pt = xy + 2 * (size_t)rings[h];
            ok = inside_ring(xy, rings[p->ring], rings[p->ring + 1], pt);
            for (uint32_t g = p->ring + 1; ok && g < p->ring + p->n_rings; g++)
                ok = g == h || !inside_ring(xy, rings[g], rings[g + 1], pt);
        }
        for (size_t j = 0; ok && j < n; j++)
            if (j != i && boxes_meet(&boxes[p->ring - first], &boxes[polys[j].ring - first]))
                ok = !inside_poly(xy, rings, &polys[j], xy + 2 * (size_t)rings[p->ring]);
    }
    if (boxes != small)
        free(boxes);
    return ok;
}

/* ---- GEOS views of integer polygons --------------------------------------------- */

static GEOSGeometry *ring_geos(tiles_ctx *c, const int32_t *xy, uint32_t from, uint32_t to,
                               int64_t ox, int64_t oy)
{
    uint32_t n = to - from;
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(c->h, n + 1, 2);
    if (!seq)
        return NULL;
    for (uint32_t i = 0; i <= n; i++) {
        const int32_t *p = xy + 2 * (size_t)(from + (i < n ? i : 0));
        GEOSCoordSeq_setXY_r(c->h, seq, i, (double)(p[0] - ox), (double)(p[1] - oy));
    }
    return GEOSGeom_createLinearRing_r(c->h, seq);
}

/* Polygon p shifted by (-ox, -oy); NULL when GEOS fails or memory runs out. */
static GEOSGeometry *poly_geos(tiles_ctx *c, const int32_t *xy, const uint32_t *rings,
                               const opoly *p, int64_t ox, int64_t oy)
{
    GEOSGeometry *shell = ring_geos(c, xy, rings[p->ring], rings[p->ring + 1], ox, oy);
    if (!shell)
        return NULL;
    GEOSGeometry *small[8], **holes = p->n_rings - 1 <= 8 ? small : malloc((p->n_rings - 1) * sizeof *holes);
    if (!holes) {
        GEOSGeom_destroy_r(c->h, shell);
        return NULL;
    }
    unsigned int n = 0;
    for (uint32_t h = p->ring + 1; h < p->ring + p->n_rings; h++) {
        if (!(holes[n] = ring_geos(c, xy, rings[h], rings[h + 1], ox, oy))) {
            while (n)
                GEOSGeom_destroy_r(c->h, holes[--n]);
            GEOSGeom_destroy_r(c->h, shell);
            if (holes != small)
                free(holes);
            return NULL;
        }
        n++;
    }
    GEOSGeometry *g = GEOSGeom_createPolygon_r(c->h, shell, holes, n);
    if (holes != small)
        free(holes);
    return g;
}

/* 1 when GEOS finds polys[0..n-1] valid, 0 when not, TILES_ENOMEM. */
static int valid_by_geos(tiles_ctx *c, const int32_t *xy, const uint32_t *rings, const opoly *polys,
                         size_t n)
{
    GEOSGeometry **parts = malloc((n ? n : 1) * sizeof *parts);
    if (!parts)
        return TILES_ENOMEM;
    size_t made = 0;
    while (made < n && (parts[made] = poly_geos(c, xy, rings, &polys[made], 0, 0)))
        made++;
    GEOSGeometry *all = made == n
        ? GEOSGeom_createCollection_r(c->h, GEOS_MULTIPOLYGON, parts, (unsigned int)n) : NULL;
    if (!all)
        while (made)
            GEOSGeom_destroy_r(c->h, parts[--made]);
    free(parts);
    int ok = all && GEOSisValid_r(c->h, all) == 1;
    if (all)
        GEOSGeom_destroy_r(c->h, all);
    return ok;
}

static int check(tiles_ctx *c, const int32_t *xy, const uint32_t *rings, const opoly *polys, size_t n)
{
    size_t points = n ? rings[polys[n - 1].ring + polys[n - 1].n_rings] - rings[polys[0].ring] : 0;
    return points > CHECK_MAX ? valid_by_geos(c, xy, rings, polys, n) : valid_polys(xy, rings, polys, n);
}

/* ---- building an outline ----------------------------------------------------------- */

typedef struct builder {
    opoly *polys;
    size_t n_polys, cap_polys;
    uint32_t *rings;         /* n_rings + 1 offsets; rings[0] == 0 */
    size_t n_rings, cap_rings;
    int32_t *xy;
    size_t n, cap;           /* points */
} builder;

static void builder_clear(builder *b)
{
    free(b->polys);
    free(b->rings);
    free(b->xy);
    memset(b, 0, sizeof *b);
}

static int grow(void **p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < want)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static int builder_room(builder *b, size_t points, size_t rings, size_t polys)
{
    return grow((void **)&b->xy, &b->cap, (b->n + points) * 2, sizeof *b->xy)
        || grow((void **)&b->rings, &b->cap_rings, b->n_rings + rings + 1, sizeof *b->rings)
        || grow((void **)&b->polys, &b->cap_polys, b->n_polys + polys, sizeof *b->polys)
        ? TILES_ENOMEM : TILES_OK;
}

/* Room for a ring of n points in the ctx's scratch. */
static int scratch(tiles_ctx *c, size_t n)
{
    if (n <= c->cap_ring)
        return 0;
    size_t cap = c->cap_ring ? c->cap_ring : 256;
    while (cap < n)
        cap *= 2;
    double *d = realloc(c->dxy, cap * 2 * sizeof *d);
    if (d)
        c->dxy = d;
    uint8_t *k = realloc(c->keep, cap);
    if (k)
        c->keep = k;
    uint32_t *s = realloc(c->stack, (cap + 1) * 2 * sizeof *s);
    if (s)
        c->stack = s;
    if (!d || !k || !s)
        return -1;
    c->cap_ring = cap;
    return 0;
}

static double segment_dist2(const double *p, const double *a, const double *b)
{
    double dx = b[0] - a[0], dy = b[1] - a[1], len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = a[0] + t * dx - p[0], ey = a[1] + t * dy - p[1];
    return ex * ex + ey * ey;
}

/* Douglas-Peucker over c->dxy[0..n-1] (n >= 2): marks in c->keep the points
 * kept at tolerance tol, the first and last always. Work: O(n log n)
 * typical, O(n^2) at worst; no recursion (an explicit stack of ranges). */
static void simplify(tiles_ctx *c, size_t n, double tol)
{
    memset(c->keep, 0, n);
    c->keep[0] = c->keep[n - 1] = 1;
    size_t top = 0;
    c->stack[top++] = 0;
    c->stack[top++] = (uint32_t)(n - 1);
    double tol2 = tol * tol;
    while (top) {
        uint32_t j = c->stack[--top], i = c->stack[--top];
        double best = -1;
        uint32_t at = i;
        for (uint32_t k = i + 1; k < j; k++) {
            double d = segment_dist2(c->dxy + 2 * (size_t)k, c->dxy + 2 * (size_t)i, c->dxy + 2 * (size_t)j);
            if (d > best) {
                best = d;
                at = k;
            }
        }
        if (best > tol2) {
            c->keep[at] = 1;
            c->stack[top++] = i;
            c->stack[top++] = at;
            c->stack[top++] = at;
            c->stack[top++] = j;
        }
    }
}

/* Appends to xy (room for n more points from *k) the kept points of
 * c->dxy[0..n-1] (a closed ring) rounded and shifted by (-ox, -oy), without
 * repeats and without the closing point; wound as an exterior or a hole.
 * Returns the points appended: 0 when the ring collapsed (then nothing). */
static size_t put_kept(tiles_ctx *c, size_t n, int64_t ox, int64_t oy, int exterior, int32_t *xy,
                       size_t start)
{
    size_t k = start;
    for (size_t i = 0; i < n; i++) {
        if (!c->keep[i])
            continue;
        int32_t x = (int32_t)(lround(c->dxy[2 * i]) - ox), y = (int32_t)(lround(c->dxy[2 * i + 1]) - oy);
        if (k > start && xy[2 * (k - 1)] == x && xy[2 * (k - 1) + 1] == y)
            continue;
        xy[2 * k] = x;
        xy[2 * k + 1] = y;
        k++;
    }
    while (k - start > 1 && xy[2 * start] == xy[2 * (k - 1)] && xy[2 * start + 1] == xy[2 * (k - 1) + 1])
        k--;
    if (k - start < 3)
        return 0;
    int64_t a = area2(xy, (uint32_t)start, (uint32_t)k);
    if (a == 0)
        return 0;
    if ((a > 0) != exterior)
        for (size_t i = start, j = k - 1; i < j; i++, j--) {
            int32_t tx = xy[2 * i], ty = xy[2 * i + 1];
            xy[2 * i] = xy[2 * j];
            xy[2 * i + 1] = xy[2 * j + 1];
            xy[2 * j] = tx;
            xy[2 * j + 1] = ty;
        }
    return k - start;
}

/* Step 1 and 2 for ring r of s at scale, appended to b as its next ring;
 * *kept 0 when it collapsed. */
static int add_ring(tiles_ctx *c, builder *b, const tiles_shape *s, uint32_t r, double scale,
                    int exterior, int *kept)
{
    uint32_t at = s->rings[r], n = s->rings[r + 1] - at;
    *kept = 0;
    if (n < 4)
        return TILES_OK;
    const double *w = s->xy + 2 * (size_t)at;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        x0 = fmin(x0, w[2 * i]);
        y0 = fmin(y0, w[2 * i + 1]);
        x1 = fmax(x1, w[2 * i]);
        y1 = fmax(y1, w[2 * i + 1]);
    }
    /* every point rounds to one column or one row: no area whatever is kept */
    if (lround(x0 * scale) == lround(x1 * scale) || lround(y0 * scale) == lround(y1 * scale))
        return TILES_OK;
    if (scratch(c, n) || builder_room(b, n, 1, 0))
        return TILES_ENOMEM;
    for (uint32_t i = 0; i < 2 * n; i++)
        c->dxy[i] = w[i] * scale;
    simplify(c, n, 0.5);
    size_t got = put_kept(c, n, 0, 0, exterior, b->xy, b->n);
    if (!got)
        return TILES_OK;
    b->n += got;
    b->rings[++b->n_rings] = (uint32_t)b->n;
    *kept = 1;
    return TILES_OK;
}

static void close_poly(builder *b, uint32_t ring)
{
    opoly *p = &b->polys[b->n_polys++];
    p->ring = ring;
    p->n_rings = (uint32_t)b->n_rings - ring;
    box bx = ring_box(b->xy, b->rings[ring], b->rings[ring + 1]);
    memcpy(p->bounds, bx.b, sizeof p->bounds);
}

/* Steps 1 and 2 for every polygon of s into b (emptied first). */
static int simplify_shape(tiles_ctx *c, const tiles_shape *s, double scale, builder *b)
{
    b->n = b->n_rings = b->n_polys = 0;
    if (builder_room(b, 0, 0, s->n_polys))
        return TILES_ENOMEM;
    b->rings[0] = 0;
    for (size_t i = 0; i < s->n_polys; i++) {
        const poly *p = &s->polys[i];
        uint32_t ring = (uint32_t)b->n_rings;
        int kept, rc = add_ring(c, b, s, p->ring, scale, 1, &kept);
        for (uint32_t h = 1; !rc && kept && h < p->n_rings; h++) {
            int hole_kept;
            rc = add_ring(c, b, s, p->ring + h, scale, 0, &hole_kept);
        }
        if (rc)
            return rc;
        if (kept)
            close_poly(b, ring);
    }
    return TILES_OK;
}

static int scale_cb(double *x, double *y, void *arg)
{
    *x *= *(const double *)arg;
    *y *= *(const double *)arg;
    return 1;
}

/* The polygons of g (a GEOS polygon or multipolygon in zoom units, not
 * taken) simplified at tol and snapped by tiles_geom_append, into b
 * (emptied first): GEOS's repair, the fallback of step 3. */
static int builder_from_geos(tiles_ctx *c, const GEOSGeometry *g, double tol, builder *b)
{
    b->n = b->n_rings = b->n_polys = 0;
    tiles_frame at = { .tolerance = tol };   /* tiles_geom_append reads the tolerance only */
    tiles_geom_buf gb = { 0 };
    int rc = tiles_geom_append(c, &at, g, TILES_GEOM_POLYGON, &gb);
    if (!rc && builder_room(b, gb.g.n, gb.g.n_parts, gb.g.n_parts))
        rc = TILES_ENOMEM;
    if (!rc)
        b->rings[0] = 0;
    long open = -1;   /* the first ring of the polygon being filled */
    for (size_t k = 0; !rc && k < gb.g.n_parts; k++) {
        size_t from = gb.g.parts[k], to = k + 1 < gb.g.n_parts ? gb.g.parts[k + 1] : gb.g.n;
        int exterior = area2(gb.xy, (uint32_t)from, (uint32_t)to) > 0;
        if (!exterior && open < 0)
            continue;
        if (exterior && open >= 0)
            close_poly(b, (uint32_t)open);
        if (exterior)
            open = (long)b->n_rings;
        memcpy(b->xy + 2 * b->n, gb.xy + 2 * from, (to - from) * 2 * sizeof *b->xy);
        b->n += to - from;
        b->rings[++b->n_rings] = (uint32_t)b->n;
    }
    if (!rc && open >= 0)
        close_poly(b, (uint32_t)open);
    tiles_geom_buf_clear(&gb);
    return rc;
}

/* Shape s in zoom units as one GEOS multipolygon; NULL on failure. */
static GEOSGeometry *shape_geos(tiles_ctx *c, const tiles_shape *s, double scale)
{
    GEOSGeometry **parts = malloc((s->n_polys ? s->n_polys : 1) * sizeof *parts);
    GEOSGeometry **rings = NULL;
    size_t made = 0, cap_rings = 0;
    int bad = !parts;
    for (; !bad && made < s->n_polys; made++) {
        const poly *p = &s->polys[made];
        if (grow((void **)&rings, &cap_rings, p->n_rings, sizeof *rings)) {
            bad = 1;
            break;
        }
        uint32_t k = 0;
        for (; k < p->n_rings; k++) {
            uint32_t at = s->rings[p->ring + k], n = s->rings[p->ring + k + 1] - at;
            GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(c->h, s->xy + 2 * (size_t)at, n, 0, 0);
            if (!seq || !(rings[k] = GEOSGeom_createLinearRing_r(c->h, seq)))
                break;
        }
        parts[made] = k == p->n_rings && k
                    ? GEOSGeom_createPolygon_r(c->h, rings[0], rings + 1, k - 1) : NULL;
        if (!parts[made]) {
            while (k)
                GEOSGeom_destroy_r(c->h, rings[--k]);
            bad = 1;
            break;
        }
    }
    free(rings);
    GEOSGeometry *all = !bad
        ? GEOSGeom_createCollection_r(c->h, GEOS_MULTIPOLYGON, parts, (unsigned int)made) : NULL;
    if (!all)
        while (made)
            GEOSGeom_destroy_r(c->h, parts[--made]);
    free(parts);
    GEOSGeometry *scaled = all ? GEOSGeom_transformXY_r(c->h, all, scale_cb, &scale) : NULL;
    if (all)
        GEOSGeom_destroy_r(c->h, all);
    return scaled;
}

/* Outline o's polygons as one GEOS multipolygon; NULL on failure. */
static GEOSGeometry *outline_geos(tiles_ctx *c, const tiles_outline *o)
{
    GEOSGeometry **parts = malloc((o->n_polys ? o->n_polys : 1) * sizeof *parts);
    size_t made = 0;
    while (parts && made < o->n_polys && (parts[made] = poly_geos(c, o->xy, o->rings, &o->polys[made], 0, 0)))
        made++;
    GEOSGeometry *all = parts && made == o->n_polys
        ? GEOSGeom_createCollection_r(c->h, GEOS_MULTIPOLYGON, parts, (unsigned int)made) : NULL;
    if (!all)
        while (made)
            GEOSGeom_destroy_r(c->h, parts[--made]);
    free(parts);
    return all;
}

/* Steps 1 and 2 again for every polygon of o, simplified at tol (above
 * half a unit) into b (emptied first). */
static int simplify_outline(tiles_ctx *c, const tiles_outline *o, double tol, builder *b)
{
    b->n = b->n_rings = b->n_polys = 0;
    /* + 1: put_kept's closing point */
    if (builder_room(b, o->rings[o->n_rings] + 1, o->n_rings, o->n_polys))
        return TILES_ENOMEM;
    b->rings[0] = 0;
    for (size_t i = 0; i < o->n_polys; i++) {
        const opoly *p = &o->polys[i];
        uint32_t first = (uint32_t)b->n_rings;
        for (uint32_t r = p->ring; r < p->ring + p->n_rings; r++) {
            uint32_t from = o->rings[r], n = o->rings[r + 1] - from;
            if (scratch(c, n + 1))
                return TILES_ENOMEM;
            for (uint32_t k = 0; k <= n; k++) {
                c->dxy[2 * k] = o->xy[2 * (size_t)(from + (k < n ? k : 0))];
                c->dxy[2 * k + 1] = o->xy[2 * (size_t)(from + (k < n ? k : 0)) + 1];
            }
            simplify(c, n + 1, tol);
            size_t got = put_kept(c, n + 1, 0, 0, r == p->ring, b->xy, b->n);
            if (!got && r == p->ring)
                break;   /* the shell collapsed: the polygon goes, holes and all */
            if (got) {
                b->n += got;
                b->rings[++b->n_rings] = (uint32_t)b->n;
            }
        }
        if (b->n_rings > first)
            close_poly(b, first);
    }
    return TILES_OK;
}

/* b as an outline for frames of extent, malloc'd into *out as one block
 * (the header, then its polygons, ring offsets and points: a draw reads
 * them one after the other, and outlines stay for the life of the shape). */
static int outline_from(const builder *b, uint32_t extent, tiles_outline **out)
{
    size_t head = (sizeof(tiles_outline) + 7) / 8 * 8;
    size_t polys = b->n_polys * sizeof(opoly), rings = (b->n_rings + 1) * sizeof(uint32_t);
    tiles_outline *o = malloc(head + polys + rings + b->n * 2 * sizeof(int32_t));
    if (!o)
        return TILES_ENOMEM;
    memset(o, 0, sizeof *o);
    atomic_init(&o->coarser, NULL);
    o->extent = extent;
    o->polys = (opoly *)((char *)o + head);
    o->n_polys = (uint32_t)b->n_polys;
    o->rings = (uint32_t *)((char *)o->polys + polys);
    o->n_rings = (uint32_t)b->n_rings;
    o->xy = (int32_t *)((char *)o->rings + rings);
    if (polys)
        memcpy(o->polys, b->polys, polys);
    memcpy(o->rings, b->rings, rings);
    if (b->n)
        memcpy(o->xy, b->xy, b->n * 2 * sizeof(int32_t));
    o->bounds[0] = o->bounds[1] = INT32_MAX;
    o->bounds[2] = o->bounds[3] = INT32_MIN;
    for (size_t i = 0; i < o->n_polys; i++)
        for (int k = 0; k < 2; k++) {
            if (o->polys[i].bounds[k] < o->bounds[k])
                o->bounds[k] = o->polys[i].bounds[k];
            if (o->polys[i].bounds[k + 2] > o->bounds[k + 2])
                o->bounds[k + 2] = o->polys[i].bounds[k + 2];
        }
    size_t bytes = 2 * b->n + 3 * b->n_rings;
    o->bytes = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;   /* still a lower bound */
    *out = o;
    return TILES_OK;
}

/* The outline of s at scale for frames of extent (from == NULL), or the
 * outline from simplified again at tol; malloc'd into *out. Steps 1 to 3,
 * GEOS repairing what fails the check. */
static int outline_make(tiles_ctx *c, const tiles_shape *s, const tiles_outline *from, double scale,
                        double tol, uint32_t extent, tiles_outline **out)
{
    *out = NULL;
    builder b = { 0 };
    int rc = from ? simplify_outline(c, from, tol, &b) : simplify_shape(c, s, scale, &b);
    int ok = rc ? 0 : check(c, b.xy, b.rings, b.polys, b.n_polys);
    if (ok < 0)
        rc = ok;
    if (!rc && !ok) {
        GEOSGeometry *g = from ? outline_geos(c, from) : shape_geos(c, s, scale);
        rc = g ? builder_from_geos(c, g, tol, &b) : TILES_EINVAL;
        if (g)
            GEOSGeom_destroy_r(c->h, g);
    }
    if (!rc)
        rc = outline_from(&b, extent, out);
    builder_clear(&b);
    return rc;
}

/* The outline in *slot, made (from s, or from `from` at tol) and published
 * there when none is; one of another extent is made, returned in *mine (to
 * be freed by the caller) and not kept. */
static int outline_at(tiles_ctx *c, _Atomic(tiles_outline *) *slot, const tiles_shape *s,
                      const tiles_outline *from, double scale, double tol, uint32_t extent,
                      const tiles_outline **o, tiles_outline **mine)
{
    *mine = NULL;
    tiles_outline *have = atomic_load(slot);
    if (have && have->extent == extent) {
        *o = have;
        return TILES_OK;
    }
    tiles_outline *made;
    int rc = outline_make(c, s, from, scale, tol, extent, &made);
    if (rc)
        return rc;
    if (!have && atomic_compare_exchange_strong(slot, &have, made)) {
        *o = made;
    } else if (have && have->extent == extent) {
        tiles_outline_free(made);    /* another thread made it first */
        *o = have;
    } else {
        *o = *mine = made;           /* another extent: drawn, not kept */
    }
    return TILES_OK;
}

/* ---- drawing -------------------------------------------------------------------------- */

/* Appends polygon p of o shifted by (-ox, -oy). */
static int copy_poly(const tiles_outline *o, const opoly *p, int64_t ox, int64_t oy, tiles_geom_buf *out)
{
    uint32_t from = o->rings[p->ring], to = o->rings[p->ring + p->n_rings];
    if (tiles_geom_buf_grow(out, out->g.n + (to - from), out->g.n_parts + p->n_rings))
        return TILES_ENOMEM;
    for (uint32_t r = p->ring; r < p->ring + p->n_rings; r++)
        out->parts[out->g.n_parts++] = (uint32_t)(out->g.n + (o->rings[r] - from));
    int32_t *dst = out->xy + 2 * out->g.n;
    for (uint32_t i = from; i < to; i++) {
        *dst++ = (int32_t)(o->xy[2 * (size_t)i] - ox);
        *dst++ = (int32_t)(o->xy[2 * (size_t)i + 1] - oy);
    }
    out->g.n += to - from;
    out->g.xy = out->xy;
    out->g.parts = out->parts;
    return TILES_OK;
}

/* Appends polygon p of o through GEOS: shifted, clipped to the frame when
 * clip is set, then simplified and snapped at the frame's tolerance. */
static int draw_geos(tiles_ctx *c, const tiles_frame *f, const tiles_outline *o, const opoly *p,
                     int64_t ox, int64_t oy, int clip, tiles_geom_buf *out)
{
    GEOSGeometry *g = poly_geos(c, o->xy, o->rings, p, ox, oy);
    if (!g)
        return TILES_EINVAL;
    if (clip) {
        double lo = -(double)f->buffer, hi = (double)f->extent + f->buffer;
        GEOSGeometry *clipped = GEOSClipByRect_r(c->h, g, lo, lo, hi, hi);
        GEOSGeom_destroy_r(c->h, g);
        if (!(g = clipped))
            return TILES_EINVAL;
    }
    int rc = tiles_geom_append(c, f, g, TILES_GEOM_POLYGON, out);
    GEOSGeom_destroy_r(c->h, g);
    return rc;
}

/* Appends polygon p of o, inside the frame, simplified again at tol (above
 * half a unit); GEOS draws it when the result fails the check. */
static int draw_simpler(tiles_ctx *c, const tiles_frame *f, const tiles_outline *o, const opoly *p,
                        int64_t ox, int64_t oy, double tol, tiles_geom_buf *out)
{
    tiles_geom_buf *b = &c->poly;
    tiles_geom_buf_reset(b, TILES_GEOM_POLYGON);
    uint32_t all = o->rings[p->ring + p->n_rings] - o->rings[p->ring];
    if (tiles_geom_buf_grow(b, all + 1, p->n_rings + 1))   /* + 1: put_kept's closing point */
        return TILES_ENOMEM;
    for (uint32_t r = p->ring; r < p->ring + p->n_rings; r++) {
        uint32_t from = o->rings[r], n = o->rings[r + 1] - from;
        if (scratch(c, n + 1))
            return TILES_ENOMEM;
        for (uint32_t i = 0; i <= n; i++) {
            c->dxy[2 * i] = o->xy[2 * (size_t)(from + (i < n ? i : 0))];
            c->dxy[2 * i + 1] = o->xy[2 * (size_t)(from + (i < n ? i : 0)) + 1];
        }
        simplify(c, n + 1, tol);
        size_t got = put_kept(c, n + 1, ox, oy, r == p->ring, b->xy, b->g.n);
        if (!got && r == p->ring)
            return TILES_OK;   /* the shell collapsed: nothing, its holes neither */
        if (got) {
            b->parts[b->g.n_parts++] = (uint32_t)b->g.n;
            b->g.n += got;
        }
    }
    b->parts[b->g.n_parts] = (uint32_t)b->g.n;   /* the end of the last ring, for check() */
    opoly q = { .ring = 0, .n_rings = (uint32_t)b->g.n_parts };
    int ok = check(c, b->xy, b->parts, &q, 1);
    if (ok < 0)
        return ok;
    if (!ok)
        return draw_geos(c, f, o, p, ox, oy, 0, out);
    if (tiles_geom_buf_grow(out, out->g.n + b->g.n, out->g.n_parts + b->g.n_parts))
        return TILES_ENOMEM;
    for (size_t k = 0; k < b->g.n_parts; k++)
        out->parts[out->g.n_parts++] = (uint32_t)(out->g.n + b->parts[k]);
    memcpy(out->xy + 2 * out->g.n, b->xy, b->g.n * 2 * sizeof *b->xy);
    out->g.n += b->g.n;
    out->g.xy = out->xy;
    out->g.parts = out->parts;
    return TILES_OK;
}

/* 1 when an edge of polygon p (shifted) may meet the frame's rectangle
 * [lo, hi]^2: a segment and a rectangle meet unless their boxes are apart or
 * the rectangle's corners are all strictly on one side of the segment. */
static int crossed(const tiles_outline *o, const opoly *p, int64_t ox, int64_t oy, int64_t lo, int64_t hi)
{
    for (uint32_t r = p->ring; r < p->ring + p->n_rings; r++) {
        uint32_t from = o->rings[r], to = o->rings[r + 1];
        for (uint32_t i = from; i < to; i++) {
            const int32_t *a, *b;
            edge(o->xy, from, to, i, &a, &b);
            int64_t ax = a[0] - ox, ay = a[1] - oy, bx = b[0] - ox, by = b[1] - oy;
            if ((ax < lo && bx < lo) || (ax > hi && bx > hi) || (ay < lo && by < lo) || (ay > hi && by > hi))
                continue;
            int above = 0, below = 0;
            for (int k = 0; k < 4; k++) {
                int64_t x = k & 1 ? hi : lo, y = k & 2 ? hi : lo;
                int64_t side = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
                above |= side >= 0;
                below |= side <= 0;
            }
            if (above && below)
                return 1;
        }
    }
    return 0;
}

/* The slot of o's coarser level k (1..COARSER), its set made and
 * published on first use; NULL when out of memory. */
static _Atomic(tiles_outline *) *coarser_slot(const tiles_outline *o, int k)
{
    tiles_outline *w = (tiles_outline *)o;   /* the cache only: o's polygons stay as they are */
    coarser_set *set = atomic_load(&w->coarser);
    if (!set) {
        coarser_set *mine = calloc(1, sizeof *mine), *none = NULL;
        if (!mine)
            return NULL;
        for (int i = 0; i < COARSER; i++)
            atomic_init(&mine->level[i], NULL);
        if (atomic_compare_exchange_strong(&w->coarser, &none, mine))
            set = mine;
        else {
            free(mine);          /* another thread published one first */
            set = none;
        }
    }
    return &set->level[k - 1];
}

/* k when tol is 0.5 * 4^k for k in 1..COARSER, else 0. */
static int coarser_level(double tol)
{
    static const double kept[COARSER] = { 2, 8, 32, 128, 512 };
    for (int k = 1; k <= COARSER; k++)
        if (tol == kept[k - 1])
            return k;
    return 0;
}

/* Whether frame f's tile meets shape s's bounds: 1, 0 when not (or s is
 * empty), -1 when the frame is not a tile. */
static int frame_meets(const tiles_frame *f, const tiles_shape *s)
{
    if (!tiles_tile_valid(f->z, f->x, f->y) || f->extent == 0)
        return -1;
    double rect[4];
    tiles_frame_world_box(f, rect);
    return s->n_polys && rect[0] <= s->bounds[2] && rect[2] >= s->bounds[0]
           && rect[1] <= s->bounds[3] && rect[3] >= s->bounds[1];
}

int tiles_geom_from_shape_generalised(tiles_ctx *c, const tiles_frame *f, const tiles_shape *s,
                                      tiles_geom_buf *out)
{
    double scale = ldexp((double)f->extent, f->z < 0 ? 0 : f->z);
    if (f->z > TILES_SHAPE_OUTLINE_MAXZOOM || scale > MAX_UNITS)
        return tiles_geom_from_shape(c, f, s, out);
    tiles_geom_buf_reset(out, TILES_GEOM_POLYGON);
    int meets = frame_meets(f, s);
    if (meets <= 0)
        return meets < 0 ? TILES_EINVAL : TILES_OK;

    /* the cache is no part of what the caller sees: s stays const to it */
    tiles_shape *cache = (tiles_shape *)s;
    const tiles_outline *o = NULL;
    tiles_outline *mine = NULL, *mine2 = NULL;
    int rc = outline_at(c, &cache->outlines[f->z], s, NULL, scale, 0.5, f->extent, &o, &mine);
    double tol = f->tolerance > 0 ? f->tolerance : 0.5;
    int k = coarser_level(tol);
    _Atomic(tiles_outline *) *slot = !rc && k && o->n_polys ? coarser_slot(o, k) : NULL;
    if (!rc && k && o->n_polys)
        rc = slot ? outline_at(c, slot, s, o, scale, tol, f->extent, &o, &mine2) : TILES_ENOMEM;

    int64_t ox = f->x * (int64_t)f->extent, oy = f->y * (int64_t)f->extent;
    int64_t lo = -(int64_t)f->buffer, hi = (int64_t)f->extent + f->buffer;
    for (size_t i = 0; !rc && i < o->n_polys; i++) {
        const opoly *p = &o->polys[i];
        int64_t x0 = p->bounds[0] - ox, y0 = p->bounds[1] - oy;
        int64_t x1 = p->bounds[2] - ox, y1 = p->bounds[3] - oy;
        if (x1 < lo || x0 > hi || y1 < lo || y0 > hi)
            continue;
        if (x0 >= lo && y0 >= lo && x1 <= hi && y1 <= hi)
            rc = tol > 0.5 && !k ? draw_simpler(c, f, o, p, ox, oy, tol, out) : copy_poly(o, p, ox, oy, out);
        else if (crossed(o, p, ox, oy, lo, hi))
            rc = draw_geos(c, f, o, p, ox, oy, 1, out);
        else {
            int32_t mid[2] = { (int32_t)(ox + f->extent / 2), (int32_t)(oy + f->extent / 2) };
            if (inside_poly(o->xy, o->rings, p, mid))
                rc = tiles_draw_rect(f, out);
        }
    }
    tiles_outline_free(mine2);
    tiles_outline_free(mine);
    if (rc)
        tiles_geom_buf_reset(out, TILES_GEOM_POLYGON);
    return rc;
}

int tiles_shape_generalised_bytes(tiles_ctx *c, const tiles_frame *f, const tiles_shape *s,
                                  const double *tolerances, size_t n, size_t *at_least)
{
    memset(at_least, 0, n * sizeof *at_least);
    double scale = ldexp((double)f->extent, f->z < 0 ? 0 : f->z);
    if (f->z > TILES_SHAPE_OUTLINE_MAXZOOM || scale > MAX_UNITS)
        return TILES_OK;
    int meets = frame_meets(f, s);
    if (meets <= 0)
        return meets < 0 ? TILES_EINVAL : TILES_OK;
    tiles_shape *cache = (tiles_shape *)s;
    const tiles_outline *base = NULL;
    tiles_outline *mine = NULL;
    int rc = outline_at(c, &cache->outlines[f->z], s, NULL, scale, 0.5, f->extent, &base, &mine);
    int64_t ox = f->x * (int64_t)f->extent, oy = f->y * (int64_t)f->extent;
    int64_t lo = -(int64_t)f->buffer, hi = (int64_t)f->extent + f->buffer;
    for (size_t t = 0; !rc && t < n; t++) {
        double tol = tolerances[t] > 0 ? tolerances[t] : 0.5;
        int k = coarser_level(tol);
        if (tol > 0.5 && !k)
            continue;   /* simplified again per draw: no count to go by */
        const tiles_outline *o = base;
        tiles_outline *mine2 = NULL;
        if (k && base->n_polys) {
            _Atomic(tiles_outline *) *slot = coarser_slot(base, k);
            rc = slot ? outline_at(c, slot, s, base, scale, tol, f->extent, &o, &mine2) : TILES_ENOMEM;
        }
        /* a polygon inside the frame is drawn as it is in the outline */
        if (!rc && o->n_polys && o->bounds[0] - ox >= lo && o->bounds[1] - oy >= lo
            && o->bounds[2] - ox <= hi && o->bounds[3] - oy <= hi) {
            at_least[t] = o->bytes;
        } else {
            for (size_t i = 0; !rc && i < o->n_polys; i++) {
                const opoly *p = &o->polys[i];
                if (p->bounds[0] - ox >= lo && p->bounds[1] - oy >= lo && p->bounds[2] - ox <= hi
                    && p->bounds[3] - oy <= hi)
                    at_least[t] += 2 * (size_t)(o->rings[p->ring + p->n_rings] - o->rings[p->ring])
                                 + 3 * (size_t)p->n_rings;
            }
        }
        tiles_outline_free(mine2);
    }
    tiles_outline_free(mine);
    return rc;
}
