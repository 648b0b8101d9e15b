/*
 * tiles/shape.c — polygons prepared once, drawn in many tiles (see shape.h).
 *
 * A shape is three flat arrays: the points of its rings (closed, as GEOS
 * gives them) in world coordinates, where each ring starts, and per polygon
 * its first ring, its ring count and its bounds. Drawing classifies each
 * polygon against the frame's rectangle R:
 *   - bounds disjoint from R: nothing;
 *   - bounds inside R: the whole polygon, in tile units, no clip;
 *   - no edge meets R: R lies wholly inside or wholly outside the polygon,
 *     told by R's centre (even-odd rule over all its rings): R or nothing;
 *   - else: GEOS clips the polygon (its shell and the holes whose bounds meet
 *     R: a hole away from R takes nothing from R) in world coordinates.
 * The edge test is conservative: an edge that only grazes R sends the
 * polygon to GEOS, which is exact.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shape_internal.h"
#include "tiles/tile.h"

void tiles_shape_free(tiles_shape *s)
{
    if (!s)
        return;
    for (int z = 0; z <= TILES_SHAPE_OUTLINE_MAXZOOM; z++)
        tiles_outline_free(atomic_load(&s->outlines[z]));
    free(s->polys);
    free(s->rings);
    free(s->xy);
    free(s);
}

void tiles_shape_bounds(const tiles_shape *s, double out[4])
{
    memcpy(out, s->bounds, sizeof s->bounds);
}

void tiles_frame_world_box(const tiles_frame *f, double out[4])
{
    /* (x * extent - buffer) / (extent * 2^z): exact for the power-of-two
     * extents tiles use, so the box maps back to -buffer and extent + buffer */
    double scale = ldexp((double)f->extent, f->z);
    out[0] = ((double)f->x * f->extent - f->buffer) / scale;
    out[1] = ((double)f->y * f->extent - f->buffer) / scale;
    out[2] = ((double)(f->x + 1) * f->extent + f->buffer) / scale;
    out[3] = ((double)(f->y + 1) * f->extent + f->buffer) / scale;
}

/* ---- preparation ------------------------------------------------------------ */

static int world_cb(double *x, double *y, void *arg)
{
    (void)arg;
    tiles_world(*x, *y, x, y);
    return isfinite(*x) && isfinite(*y);
}

/* Counts the non-empty polygons of g and their rings and points. */
static void count(tiles_ctx *c, const GEOSGeometry *g, size_t *polys, size_t *rings, size_t *points)
{
    int t = GEOSGeomTypeId_r(c->h, g);
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(c->h, g);
        for (int i = 0; i < n; i++)
            count(c, GEOSGetGeometryN_r(c->h, g, i), polys, rings, points);
        return;
    }
    if (t != GEOS_POLYGON || GEOSisEmpty_r(c->h, g))
        return;
    int holes = GEOSGetNumInteriorRings_r(c->h, g);
    (*polys)++;
    *rings += 1 + (size_t)(holes > 0 ? holes : 0);
    *points += (size_t)GEOSGetNumCoordinates_r(c->h, g);
}

static int copy_ring(tiles_ctx *c, tiles_shape *s, const GEOSGeometry *ring)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(c->h, ring);
    unsigned int n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(c->h, seq, &n))
        return TILES_EINVAL;
    uint32_t at = s->rings[s->n_rings];
    if (n && !GEOSCoordSeq_copyToBuffer_r(c->h, seq, s->xy + 2 * (size_t)at, 0, 0))
        return TILES_EINVAL;
    s->rings[++s->n_rings] = at + n;
    return TILES_OK;
}

/* Copies the non-empty polygons of g into s (sized by count()). */
static int fill(tiles_ctx *c, const GEOSGeometry *g, tiles_shape *s)
{
    int t = GEOSGeomTypeId_r(c->h, g);
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(c->h, g);
        for (int i = 0; i < n; i++) {
            int rc = fill(c, GEOSGetGeometryN_r(c->h, g, i), s);
            if (rc)
                return rc;
        }
        return TILES_OK;
    }
    if (t != GEOS_POLYGON || GEOSisEmpty_r(c->h, g))
        return TILES_OK;
    poly *p = &s->polys[s->n_polys++];
    p->ring = (uint32_t)s->n_rings;
    int holes = GEOSGetNumInteriorRings_r(c->h, g);
    int rc = copy_ring(c, s, GEOSGetExteriorRing_r(c->h, g));
    for (int i = 0; !rc && i < holes; i++)
        rc = copy_ring(c, s, GEOSGetInteriorRingN_r(c->h, g, i));
    if (rc)
        return rc;
    p->n_rings = (uint32_t)(s->n_rings - p->ring);
    p->bounds[0] = p->bounds[1] = INFINITY;
    p->bounds[2] = p->bounds[3] = -INFINITY;
    for (uint32_t k = s->rings[p->ring]; k < s->rings[p->ring + 1]; k++) {
        const double *q = s->xy + 2 * (size_t)k;
        p->bounds[0] = fmin(p->bounds[0], q[0]);
        p->bounds[1] = fmin(p->bounds[1], q[1]);
        p->bounds[2] = fmax(p->bounds[2], q[0]);
        p->bounds[3] = fmax(p->bounds[3], q[1]);
    }
    for (int i = 0; i < 2; i++) {
        s->bounds[i] = fmin(s->bounds[i], p->bounds[i]);
        s->bounds[i + 2] = fmax(s->bounds[i + 2], p->bounds[i + 2]);
    }
    return TILES_OK;
}

int tiles_shape_from_wkb(tiles_ctx *c, const uint8_t *wkb, size_t len, tiles_shape **out)
{
    *out = NULL;
    GEOSGeometry *g = GEOSWKBReader_read_r(c->h, c->reader, wkb, len);
    if (!g)
        return TILES_EINVAL;
    int t = GEOSGeomTypeId_r(c->h, g);
    GEOSGeometry *world = t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON
                        ? GEOSGeom_transformXY_r(c->h, g, world_cb, NULL) : NULL;
    GEOSGeom_destroy_r(c->h, g);
    if (!world)
        return TILES_EINVAL;
    if (GEOSisValid_r(c->h, world) != 1) {
        GEOSGeometry *valid = GEOSMakeValid_r(c->h, world);
        GEOSGeom_destroy_r(c->h, world);
        if (!valid)
            return TILES_EINVAL;
        world = valid;
    }
    size_t polys = 0, rings = 0, points = 0;
    count(c, world, &polys, &rings, &points);
    int rc = TILES_ENOMEM;
    tiles_shape *s = points <= UINT32_MAX ? calloc(1, sizeof *s) : NULL;
    if (s && (s->polys = malloc((polys ? polys : 1) * sizeof *s->polys))
        && (s->rings = calloc(rings + 1, sizeof *s->rings))
        && (s->xy = malloc((points ? points : 1) * 2 * sizeof *s->xy))) {
        s->bounds[0] = s->bounds[1] = INFINITY;
        s->bounds[2] = s->bounds[3] = -INFINITY;
        rc = fill(c, world, s);
    }
    GEOSGeom_destroy_r(c->h, world);
    if (rc) {
        tiles_shape_free(s);
        return rc;
    }
    *out = s;
    return TILES_OK;
}

/* ---- drawing ------------------------------------------------------------------ */

static int meets(const double a[4], const double b[4])
{
    return a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1];
}

/* 1 when edge p-q may meet the closed rectangle r: their bounds overlap and
 * r's corners are not all strictly on one side of the edge's line (the
 * separating axes of a segment and a rectangle). */
static int edge_meets(const double *p, const double *q, const double r[4])
{
    if ((p[0] < r[0] && q[0] < r[0]) || (p[0] > r[2] && q[0] > r[2])
        || (p[1] < r[1] && q[1] < r[1]) || (p[1] > r[3] && q[1] > r[3]))
        return 0;
    double dx = q[0] - p[0], dy = q[1] - p[1];
    int above = 0, below = 0;
    for (int i = 0; i < 4; i++) {
        double x = r[i & 1 ? 2 : 0], y = r[i & 2 ? 3 : 1];
        double side = dx * (y - p[1]) - dy * (x - p[0]);
        above |= side >= 0;
        below |= side <= 0;
    }
    return above && below;
}

/* Even-odd rule over every ring of p: 1 when (x, y) is inside. */
static int covers(const tiles_shape *s, const poly *p, double x, double y)
{
    int inside = 0;
    for (uint32_t r = p->ring; r < p->ring + p->n_rings; r++)
        for (uint32_t k = s->rings[r] + 1; k < s->rings[r + 1]; k++) {
            const double *a = s->xy + 2 * (size_t)(k - 1), *b = s->xy + 2 * (size_t)k;
            if ((a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]))
                inside = !inside;
        }
    return inside;
}

/* The bounds of ring r, and 1 when one of its edges meets rect. */
static int ring_meets(const tiles_shape *s, uint32_t r, const double rect[4], double bounds[4])
{
    int any = 0;
    bounds[0] = bounds[1] = INFINITY;
    bounds[2] = bounds[3] = -INFINITY;
    for (uint32_t k = s->rings[r]; k < s->rings[r + 1]; k++) {
        const double *q = s->xy + 2 * (size_t)k;
        bounds[0] = fmin(bounds[0], q[0]);
        bounds[1] = fmin(bounds[1], q[1]);
        bounds[2] = fmax(bounds[2], q[0]);
        bounds[3] = fmax(bounds[3], q[1]);
        if (!any && k > s->rings[r])
            any = edge_meets(q - 2, q, rect);
    }
    return any;
}

static GEOSGeometry *ring_geos(tiles_ctx *c, const tiles_shape *s, uint32_t r)
{
    uint32_t at = s->rings[r], n = s->rings[r + 1] - at;
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(c->h, s->xy + 2 * (size_t)at, n, 0, 0);
    return seq ? GEOSGeom_createLinearRing_r(c->h, seq) : NULL;
}

/* Polygon p as GEOS, in world coordinates, with the holes keep[] marks;
 * NULL with *rc TILES_ENOMEM when the list of holes cannot be allocated,
 * TILES_EINVAL when GEOS refuses a ring. */
static GEOSGeometry *poly_geos(tiles_ctx *c, const tiles_shape *s, const poly *p, const uint8_t *keep,
                               int *rc)
{
    GEOSGeometry *shell = ring_geos(c, s, p->ring);
    GEOSGeometry **holes = p->n_rings > 1 ? malloc((p->n_rings - 1) * sizeof *holes) : NULL;
    *rc = TILES_EINVAL;
    if (!shell || (p->n_rings > 1 && !holes)) {
        if (shell && !holes)
            *rc = TILES_ENOMEM;
        if (shell)
            GEOSGeom_destroy_r(c->h, shell);
        free(holes);
        return NULL;
    }
    unsigned int n = 0;
    for (uint32_t i = 1; i < p->n_rings; i++) {
        if (keep && !keep[i])
            continue;
        if (!(holes[n] = ring_geos(c, s, p->ring + i))) {
            while (n)
                GEOSGeom_destroy_r(c->h, holes[--n]);
            GEOSGeom_destroy_r(c->h, shell);
            free(holes);
            return NULL;
        }
        n++;
    }
    GEOSGeometry *g = GEOSGeom_createPolygon_r(c->h, shell, holes, n);
    free(holes);
    return g;
}

static int tile_cb(double *x, double *y, void *arg)
{
    tiles_world_to_tile(arg, *x, *y, x, y);
    return 1;
}

/* Appends polygon p (clipped to rect first when clip is set). */
static int draw_geos(tiles_ctx *c, const tiles_frame *f, const tiles_shape *s, const poly *p,
                     const uint8_t *keep, const double rect[4], int clip, tiles_geom_buf *out)
{
    int rc;
    GEOSGeometry *g = poly_geos(c, s, p, keep, &rc);
    if (!g)
        return rc;
    if (clip) {
        GEOSGeometry *clipped = GEOSClipByRect_r(c->h, g, rect[0], rect[1], rect[2], rect[3]);
        GEOSGeom_destroy_r(c->h, g);
        if (!(g = clipped))
            return TILES_EINVAL;
    }
    GEOSGeometry *tile = GEOSGeom_transformXY_r(c->h, g, tile_cb, (void *)f);
    GEOSGeom_destroy_r(c->h, g);
    if (!tile)
        return TILES_EINVAL;
    rc = tiles_geom_append(c, f, tile, TILES_GEOM_POLYGON, out);
    GEOSGeom_destroy_r(c->h, tile);
    return rc;
}

int tiles_draw_rect(const tiles_frame *f, tiles_geom_buf *out)
{
    if (tiles_geom_buf_grow(out, out->g.n + 4, out->g.n_parts + 1))
        return TILES_ENOMEM;
    int32_t lo = -(int32_t)f->buffer, hi = (int32_t)(f->extent + f->buffer);
    int32_t ring[8] = { lo, lo, hi, lo, hi, hi, lo, hi };   /* clockwise, y down */
    out->parts[out->g.n_parts++] = (uint32_t)out->g.n;
    memcpy(out->xy + 2 * out->g.n, ring, sizeof ring);
    out->g.n += 4;
    out->g.xy = out->xy;
    out->g.parts = out->parts;
    return TILES_OK;
}

int tiles_geom_from_shape(tiles_ctx *c, const tiles_frame *f, const tiles_shape *s,
                          tiles_geom_buf *out)
{
    tiles_geom_buf_reset(out, TILES_GEOM_POLYGON);
    if (!tiles_tile_valid(f->z, f->x, f->y) || f->extent == 0)
        return TILES_EINVAL;
    double rect[4];
    tiles_frame_world_box(f, rect);
    if (!s->n_polys || !meets(s->bounds, rect))
        return TILES_OK;
    uint8_t keep_small[64], *keep = NULL;
    int rc = TILES_OK;
    for (size_t i = 0; !rc && i < s->n_polys; i++) {
        const poly *p = &s->polys[i];
        if (!meets(p->bounds, rect))
            continue;
        if (p->bounds[0] >= rect[0] && p->bounds[1] >= rect[1] && p->bounds[2] <= rect[2]
            && p->bounds[3] <= rect[3]) {
            rc = draw_geos(c, f, s, p, NULL, rect, 0, out);
            continue;
        }
        if (keep != keep_small)
            free(keep);
        keep = p->n_rings <= sizeof keep_small ? keep_small : malloc(p->n_rings);
        if (!keep) {
            rc = TILES_ENOMEM;
            break;
        }
        double bounds[4];
        int crossed = 0;
        for (uint32_t r = 0; r < p->n_rings; r++) {
            crossed |= ring_meets(s, p->ring + r, rect, bounds);
            keep[r] = (uint8_t)meets(bounds, rect);
        }
        if (crossed)
            rc = draw_geos(c, f, s, p, keep, rect, 1, out);
        else if (covers(s, p, (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2))
            rc = tiles_draw_rect(f, out);
    }
    if (keep != keep_small)
        free(keep);
    if (rc)
        tiles_geom_buf_reset(out, TILES_GEOM_POLYGON);
    return rc;
}
