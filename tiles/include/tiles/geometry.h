/*
 * tiles/geometry.h — geometries from lon/lat (EPSG:4326) to tile space, in
 * the order PostGIS's ST_AsMVTGeom uses: to tile coordinates, clipped to the
 * tile and its buffer, simplified at half a tile unit, snapped to the integer
 * grid (GEOS's precision reducer, which keeps polygons valid), degenerate
 * parts dropped, rings wound as MVT 2.1 requires.
 *
 * Threads: a tiles_ctx owns a GEOS context; one per thread.
 */
#ifndef TILES_GEOMETRY_H
#define TILES_GEOMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "tiles/mvt.h"

typedef struct tiles_ctx tiles_ctx;

tiles_ctx *tiles_ctx_new(void);
void tiles_ctx_free(tiles_ctx *ctx);

/* Where a tile is drawn: its address, its extent (4096) and buffer (64). */
typedef struct tiles_frame {
    int z;
    int64_t x, y;
    uint32_t extent, buffer;
    double tolerance;          /* simplification, tile units; 0: half a unit */
} tiles_frame;

/* Storage for one geometry in tile space, reused from feature to feature. */
typedef struct tiles_geom_buf {
    tiles_geom g;          /* points into xy and parts below */
    int32_t *xy;
    uint32_t *parts;
    size_t cap_xy, cap_parts;
} tiles_geom_buf;

void tiles_geom_buf_clear(tiles_geom_buf *b);

/* The tile-space position of (lon, lat); 1 when it lies inside the tile and
 * its buffer, 0 when not (or not finite). */
int tiles_point(const tiles_frame *f, double lon, double lat, int32_t *tx, int32_t *ty);

/* (lon, lat) in the Web Mercator world square: 0 to 1 across, y down,
 * latitudes clamped at the Mercator edge. Computing it once per point makes
 * tiles_point_world cheap, with exactly tiles_point's result. */
void tiles_world(double lon, double lat, double *wx, double *wy);
int tiles_point_world(const tiles_frame *f, double wx, double wy, int32_t *tx, int32_t *ty);

/* Converts a WKB geometry (OGC or ISO) in lon/lat into *out
 * (out->g.n == 0 when nothing of it is left in the tile). TILES_EINVAL for
 * unreadable WKB. Work: linear in the geometry's points, plus GEOS's clip and
 * precision reduction. */
int tiles_geom_from_wkb(tiles_ctx *ctx, const tiles_frame *f, const uint8_t *wkb, size_t len,
                        tiles_geom_buf *out);

#endif
