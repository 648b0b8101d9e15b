/*
 * tiles/geometry.c — lon/lat geometries to tile space (see geometry.h).
 *
 * GEOS does the parts that decide validity (clipping by rectangle, and the
 * precision reducer that snaps to the integer grid without creating
 * self-intersections); this file does the projection, the extraction into
 * flat arrays, the winding and the removal of degenerate parts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geometry_internal.h"

static void quiet(const char *msg, void *arg)
{
    (void)msg;
    (void)arg;
}

tiles_ctx *tiles_ctx_new(void)
{
    tiles_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->h = GEOS_init_r())) {
        free(c);
        return NULL;
    }
    GEOSContext_setErrorMessageHandler_r(c->h, quiet, NULL);
    GEOSContext_setNoticeMessageHandler_r(c->h, quiet, NULL);
    c->reader = GEOSWKBReader_create_r(c->h);
    if (!c->reader) {
        tiles_ctx_free(c);
        return NULL;
    }
    return c;
}

void tiles_ctx_free(tiles_ctx *c)
{
    if (!c)
        return;
    if (c->reader)
        GEOSWKBReader_destroy_r(c->h, c->reader);
    free(c->dxy);
    free(c->keep);
    free(c->stack);
    tiles_geom_buf_clear(&c->poly);
    GEOS_finish_r(c->h);
    free(c);
}

void tiles_geom_buf_clear(tiles_geom_buf *b)
{
    free(b->xy);
    free(b->parts);
    memset(b, 0, sizeof *b);
}

void tiles_world(double lon, double lat, double *wx, double *wy)
{
    if (lat > TILES_MAX_LAT) lat = TILES_MAX_LAT;
    if (lat < -TILES_MAX_LAT) lat = -TILES_MAX_LAT;
    double phi = lat * M_PI / 180.0;
    *wx = (lon + 180.0) / 360.0;
    *wy = (1.0 - log(tan(phi) + 1.0 / cos(phi)) / M_PI) / 2.0;
}

/* World to tile units of the frame: multiplying by a power of two is exact,
 * so the same world point gives the same tile point however it was reached. */
void tiles_world_to_tile(const tiles_frame *f, double wx, double wy, double *x, double *y)
{
    double scale = ldexp((double)f->extent, f->z);
    *x = wx * scale - (double)f->x * f->extent;
    *y = wy * scale - (double)f->y * f->extent;
}

/* lround(v) for |v| < 2^31 without the library call (point layers round
 * hundreds of thousands of points a tile): the truncation of |v| is its
 * floor, and |v| minus it is exact, so the half is compared exactly. */
static int32_t round_half_away(double v)
{
    double a = fabs(v);
    int32_t t = (int32_t)a;
    t += a - (double)t >= 0.5;
    return v < 0 ? -t : t;
}

int tiles_point_world(const tiles_frame *f, double wx, double wy, int32_t *tx, int32_t *ty)
{
    double x, y;
    tiles_world_to_tile(f, wx, wy, &x, &y);
    double lo = -(double)f->buffer, hi = (double)f->extent + f->buffer;
    if (!(x >= lo && x <= hi && y >= lo && y <= hi))
        return 0;
    if (hi < 2147483647.0 && lo > -2147483647.0) {
        *tx = round_half_away(x);
        *ty = round_half_away(y);
    } else {
        *tx = (int32_t)lround(x);
        *ty = (int32_t)lround(y);
    }
    return 1;
}

int tiles_point(const tiles_frame *f, double lon, double lat, int32_t *tx, int32_t *ty)
{
    if (!isfinite(lon) || !isfinite(lat))
        return 0;
    double wx, wy;
    tiles_world(lon, lat, &wx, &wy);
    return tiles_point_world(f, wx, wy, tx, ty);
}

/* 1 when g's envelope lies within [lo, hi] on both axes. */
static int inside_rect(tiles_ctx *c, const GEOSGeometry *g, double lo, double hi)
{
    double x0, y0, x1, y1;
    return GEOSGeom_getXMin_r(c->h, g, &x0) && GEOSGeom_getYMin_r(c->h, g, &y0)
        && GEOSGeom_getXMax_r(c->h, g, &x1) && GEOSGeom_getYMax_r(c->h, g, &y1)
        && x0 >= lo && y0 >= lo && x1 <= hi && y1 <= hi;
}

static int round_cb(double *x, double *y, void *arg)
{
    (void)arg;
    *x = (double)lround(*x);
    *y = (double)lround(*y);
    return 1;
}

static int project_cb(double *x, double *y, void *arg)
{
    double wx, wy;
    tiles_world(*x, *y, &wx, &wy);
    tiles_world_to_tile(arg, wx, wy, x, y);
    return isfinite(*x) && isfinite(*y);
}

int tiles_geom_buf_grow(tiles_geom_buf *b, size_t points, size_t parts)
{
    if (points > b->cap_xy) {
        size_t cap = b->cap_xy ? b->cap_xy : 256;
        while (cap < points)
            cap *= 2;
        int32_t *xy = realloc(b->xy, cap * 2 * sizeof *xy);
        if (!xy)
            return -1;
        b->xy = xy;
        b->cap_xy = cap;
    }
    if (parts > b->cap_parts) {
        size_t cap = b->cap_parts ? b->cap_parts : 16;
        while (cap < parts)
            cap *= 2;
        uint32_t *p = realloc(b->parts, cap * sizeof *p);
        if (!p)
            return -1;
        b->parts = p;
        b->cap_parts = cap;
    }
    return 0;
}

/* Appends the points of seq as one part: without consecutive repeats, and
 * for a ring without the closing point and wound as exterior or not. Parts
 * left with too few points are dropped. */
static int add_part(tiles_ctx *c, tiles_geom_buf *b, const GEOSCoordSequence *seq, int ring,
                    int exterior)
{
    unsigned int n = 0;
    if (!GEOSCoordSeq_getSize_r(c->h, seq, &n) || n == 0)
        return 0;
    if (tiles_geom_buf_grow(b, b->g.n + n, b->g.n_parts + 1))
        return -1;
    size_t start = b->g.n, k = start;
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(c->h, seq, i, &x, &y);
        int32_t ix = (int32_t)lround(x), iy = (int32_t)lround(y);
        if (k > start && b->xy[2 * (k - 1)] == ix && b->xy[2 * (k - 1) + 1] == iy)
            continue;
        b->xy[2 * k] = ix;
        b->xy[2 * k + 1] = iy;
        k++;
    }
    if (ring && k - start > 1 && b->xy[2 * start] == b->xy[2 * (k - 1)]
        && b->xy[2 * start + 1] == b->xy[2 * (k - 1) + 1])
        k--; /* MVT closes rings itself */
    size_t least = ring ? 3 : 2;
    if (k - start < least)
        return 0;
    if (ring) {
        /* Surveyor's formula in tile coordinates: exterior > 0, holes < 0. */
        int64_t area2 = 0;
        for (size_t i = start; i < k; i++) {
            size_t j = i + 1 < k ? i + 1 : start;
            area2 += (int64_t)b->xy[2 * i] * b->xy[2 * j + 1] - (int64_t)b->xy[2 * j] * b->xy[2 * i + 1];
        }
        if (area2 == 0)
            return 0;
        if ((area2 > 0) != exterior)
            for (size_t i = start, j = k - 1; i < j; i++, j--) {
                int32_t tx = b->xy[2 * i], ty = b->xy[2 * i + 1];
                b->xy[2 * i] = b->xy[2 * j];
                b->xy[2 * i + 1] = b->xy[2 * j + 1];
                b->xy[2 * j] = tx;
                b->xy[2 * j + 1] = ty;
            }
    }
    b->parts[b->g.n_parts++] = (uint32_t)start;
    b->g.n = k;
    return 0;
}

/* Extracts the parts of g of the wanted type into b. */
static int extract(tiles_ctx *c, const GEOSGeometry *g, tiles_geom_type want, tiles_geom_buf *b)
{
    int t = GEOSGeomTypeId_r(c->h, g);
    if (t == GEOS_MULTIPOINT || t == GEOS_MULTILINESTRING || t == GEOS_MULTIPOLYGON
        || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(c->h, g);
        for (int i = 0; i < n; i++)
            if (extract(c, GEOSGetGeometryN_r(c->h, g, i), want, b))
                return -1;
        return 0;
    }
    if (t == GEOS_POINT && want == TILES_GEOM_POINT && !GEOSisEmpty_r(c->h, g)) {
        double x, y;
        if (tiles_geom_buf_grow(b, b->g.n + 1, 1) || !GEOSGeomGetX_r(c->h, g, &x) || !GEOSGeomGetY_r(c->h, g, &y))
            return -1;
        if (b->g.n_parts == 0)
            b->parts[b->g.n_parts++] = 0;
        b->xy[2 * b->g.n] = (int32_t)lround(x);
        b->xy[2 * b->g.n + 1] = (int32_t)lround(y);
        b->g.n++;
        return 0;
    }
    if (t == GEOS_LINESTRING && want == TILES_GEOM_LINESTRING)
        return add_part(c, b, GEOSGeom_getCoordSeq_r(c->h, g), 0, 0);
    if (t == GEOS_POLYGON && want == TILES_GEOM_POLYGON && !GEOSisEmpty_r(c->h, g)) {
        size_t before = b->g.n_parts;
        if (add_part(c, b, GEOSGeom_getCoordSeq_r(c->h, GEOSGetExteriorRing_r(c->h, g)), 1, 1))
            return -1;
        if (b->g.n_parts == before)
            return 0; /* no exterior left: its holes go too */
        int holes = GEOSGetNumInteriorRings_r(c->h, g);
        for (int i = 0; i < holes; i++)
            if (add_part(c, b, GEOSGeom_getCoordSeq_r(c->h, GEOSGetInteriorRingN_r(c->h, g, i)), 1, 0))
                return -1;
    }
    return 0;
}

static tiles_geom_type type_of(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    switch (GEOSGeomTypeId_r(h, g)) {
    case GEOS_POINT: case GEOS_MULTIPOINT: return TILES_GEOM_POINT;
    case GEOS_LINESTRING: case GEOS_LINEARRING: case GEOS_MULTILINESTRING: return TILES_GEOM_LINESTRING;
    default: return TILES_GEOM_POLYGON;
    }
}

int tiles_geom_append(tiles_ctx *c, const tiles_frame *f, const GEOSGeometry *clipped,
                      tiles_geom_type type, tiles_geom_buf *out)
{
    if (GEOSisEmpty_r(c->h, clipped))
        return TILES_OK;
    GEOSGeometry *simple = type == TILES_GEOM_POINT
        ? GEOSGeom_clone_r(c->h, clipped)
        : GEOSSimplify_r(c->h, clipped, f->tolerance > 0 ? f->tolerance : 0.5);
    GEOSGeometry *snapped = NULL;
    /* Rounding to the grid keeps most polygons valid, and checking that
     * costs far less than snap rounding: the precision reducer (which
     * repairs what rounding breaks) runs only when it is needed. */
    if (simple && type == TILES_GEOM_POLYGON) {
        snapped = GEOSGeom_transformXY_r(c->h, simple, round_cb, NULL);
        if (snapped && GEOSisValid_r(c->h, snapped) != 1) {
            GEOSGeom_destroy_r(c->h, snapped);
            snapped = NULL;
        }
    }
    if (simple && !snapped)
        snapped = GEOSGeom_setPrecision_r(c->h, simple, 1.0, 0);
    int rc = !snapped ? TILES_EINVAL : extract(c, snapped, type, out) ? TILES_ENOMEM : TILES_OK;
    out->g.xy = out->xy;         /* extract may have moved them */
    out->g.parts = out->parts;
    if (snapped) GEOSGeom_destroy_r(c->h, snapped);
    if (simple) GEOSGeom_destroy_r(c->h, simple);
    return rc;
}

void tiles_geom_buf_reset(tiles_geom_buf *out, tiles_geom_type type)
{
    out->g.type = type;
    out->g.n = 0;
    out->g.n_parts = 0;
    out->g.xy = out->xy;
    out->g.parts = out->parts;
}

int tiles_geom_from_wkb(tiles_ctx *c, const tiles_frame *f, const uint8_t *wkb, size_t len,
                        tiles_geom_buf *out)
{
    tiles_geom_buf_reset(out, TILES_GEOM_POINT);
    GEOSGeometry *g = GEOSWKBReader_read_r(c->h, c->reader, wkb, len);
    if (!g)
        return TILES_EINVAL;
    tiles_geom_type type = type_of(c->h, g);
    out->g.type = type;
    GEOSGeometry *tile = GEOSGeom_transformXY_r(c->h, g, project_cb, (void *)f);
    GEOSGeom_destroy_r(c->h, g);
    double lo = -(double)f->buffer, hi = (double)f->extent + f->buffer;
    /* GEOS's rectangle clip needs valid polygons (given an invalid one that
     * it must cut, 3.11 fails and leaks): one that is cut is checked first
     * and repaired if need be. One inside the rectangle is not cut. */
    if (tile && type == TILES_GEOM_POLYGON && !inside_rect(c, tile, lo, hi)
        && GEOSisValid_r(c->h, tile) != 1) {
        GEOSGeometry *valid = GEOSMakeValid_r(c->h, tile);
        GEOSGeom_destroy_r(c->h, tile);
        tile = valid;
    }
    GEOSGeometry *clipped = tile ? GEOSClipByRect_r(c->h, tile, lo, lo, hi, hi) : NULL;
    if (tile)
        GEOSGeom_destroy_r(c->h, tile);
    int rc = clipped ? tiles_geom_append(c, f, clipped, type, out) : TILES_OK;
    if (clipped)
        GEOSGeom_destroy_r(c->h, clipped);
    if (rc)
        tiles_geom_buf_reset(out, type);
    return rc;
}
