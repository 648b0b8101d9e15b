/*
 * mapd/tile_render.h — one vector tile from the store: geodata's query
 * results turned into the tiles library's input (the only place the two
 * meet).
 */
#ifndef MAPD_TILE_RENDER_H
#define MAPD_TILE_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/store.h"
#include "tiles/geometry.h"

#define MAPD_TILE_EXTENT 4096
#define MAPD_TILE_BUFFER 64

/* Parses "Z/X/Y" + suffix (e.g. ".mvt") strictly: decimal digits, z in
 * 0..TILES_MAX_ZOOM, x and y inside the zoom's grid. 1 when valid. */
int mapd_tile_parse(const char *path, const char *suffix, int *z, int64_t *x, int64_t *y);

/*
 * Renders the public layers of tile (z, x, y) into *out (malloc'd, *len
 * bytes): `neighbourhoods` (polygons with id and name, and a label point each,
 * with label=true) and `shops` (points with their status). Work: the
 * neighbourhoods and shops whose boxes meet the tile, one GEOS clip each.
 * Returns 0, a GEODATA_E* code (message on the store), or TILES_ENOMEM.
 */
int mapd_tile_render(geodata_store *store, tiles_ctx *ctx, int z, int64_t x, int64_t y,
                     int64_t now, uint8_t **out, size_t *len);

#endif
