/*
 * tiles/tile.h — WebMercatorQuad tile maths, zoom 0 to TILES_MAX_ZOOM.
 *
 * Pure functions on numbers: no allocation, no I/O, safe from any thread.
 */
#ifndef TILES_TILE_H
#define TILES_TILE_H

#include <stdint.h>

#define TILES_MAX_ZOOM 22
#define TILES_MAX_LAT 85.0511287798066   /* the square Web Mercator world's edge */

/* Error codes, from -101 down: disjoint from geodata's (-1 to -99), so that
 * where both libraries' codes meet in one variable (mapd's tile rendering)
 * a code still says which library it came from and what it means. */
enum {
    TILES_OK      =  0,
    TILES_ENOMEM  = -101,
    TILES_EINVAL  = -102, /* a tile address or coordinate out of range */
    TILES_ETOOBIG = -103, /* a tile cannot be drawn within its size budget */
};

/* 1 when z is in 0..TILES_MAX_ZOOM and x, y in 0..2^z-1, else 0. */
int tiles_tile_valid(int z, int64_t x, int64_t y);

/* The tile at zoom z holding (lon, lat); latitudes beyond the Mercator edge
 * are clamped to it. TILES_EINVAL for a bad zoom or non-finite input. */
int tiles_tile_at(double lon, double lat, int z, int64_t *x, int64_t *y);

/* The tile's bounds in degrees (west, south, east, north). TILES_EINVAL for
 * an invalid tile. */
int tiles_tile_bounds(int z, int64_t x, int64_t y, double bounds[4]);

#endif
