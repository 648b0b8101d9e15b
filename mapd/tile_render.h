/*
 * mapd/tile_render.h — one vector tile from the store: geodata's query
 * results turned into the tiles library's input (the only place the two
 * meet).
 *
 * The tileset's layers:
 *   neighbourhoods  polygons {id, name}, and a label point each {id, name, label}
 *   addresses       points {number, street}, from zoom 16: the streets of the
 *                   offline basemap
 *   streets         lines {name}, from zoom 13: street centrelines derived
 *                   from the addresses (geodata/streets.h), read per tile
 *                   through their R*Tree
 *   shops           points {id, name, shop, status, delivers, takeaway,
 *                   gift_cards, confirmed, opening_hours}; up to zoom 14 shops
 *                   sharing a grid cell merge into clusters {cluster,
 *                   point_count, count_<status>}
 *   needs           members only: the open or claimed posts of the viewer's
 *                   visible neighbourhoods, at their public points {id, kind,
 *                   category, status, title, neighbourhood}; posts sharing a
 *                   cell merge at every zoom {cluster, point_count,
 *                   count_<category>}
 *   makers          members only, same visibility: {id, display_name,
 *                   capacity_per_day, stock, materials}; clusters {cluster,
 *                   point_count}
 * Clusters come from tiles/cluster.h's grid (MAPD_TILE_CELL units): a cluster
 * never straddles tiles, and the clusters of a zoom are unions of those of the
 * next. Counts only name the categories present.
 */
#ifndef MAPD_TILE_RENDER_H
#define MAPD_TILE_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/audience.h"
#include "geodata/geocode.h"
#include "geodata/store.h"
#include "tile_needs.h"
#include "tile_neighbourhoods.h"
#include "tiles/geometry.h"
#include "tiles/pointset.h"

#define MAPD_TILE_EXTENT 4096
#define MAPD_TILE_BUFFER 64
#define MAPD_TILE_CELL 256                  /* clustering grid: 16 x 16 cells a tile */
#define MAPD_TILE_SHOPS_CLUSTER_MAXZOOM 14
#define MAPD_TILE_ADDRESSES_MINZOOM 16
#define MAPD_TILE_ADDRESSES_MAX 10000       /* address points in one tile */
#define MAPD_TILE_STREETS_MINZOOM 13
#define MAPD_TILE_STREETS_MAX 5000          /* street lines read for one tile */
#define MAPD_TILE_MAX_BYTES (500 * 1024)    /* the default size budget */

/* Who the tile is drawn for. */
typedef struct mapd_tile_viewer {
    const geodata_audience *audience; /* NULL or NOBODY: no needs, no makers */
    const uint8_t *groups;   /* the needs groups the audience sees (mapd_needs_visible); NULL: all */
    size_t n_groups;
} mapd_tile_viewer;

/*
 * Renders tile (z, x, y) for viewer into *out (malloc'd, *len bytes), with
 * the layers src holds in memory. A tile
 * that would exceed max_bytes is drawn again with less detail: coarser
 * simplification, no address points, clusters on a grid twice as coarse,
 * up to one cluster per tile, no streets and no neighbourhood label points
 * from the fourth attempt, no neighbourhood names from the fifth;
 * TILES_ETOOBIG when even that does not fit.
 * Work: the features whose boxes meet the tile (plus one clustering cell
 * around it), one GEOS clip per neighbourhood polygon whose edges cross the
 * tile and per street line (at most MAPD_TILE_STREETS_MAX) whose box meets
 * it, per attempt; up to zoom 10 the other polygons are copied from their
 * outlines (made by the first tile that needs them), and an attempt that
 * cannot fit stops as soon as that is certain.
 * Returns 0, a GEODATA_E* code (message on the store), or a TILES_E* code.
 */
/* The layers kept in memory. */
typedef struct mapd_tile_sources {
    mapd_needs *needs;           /* NULL: no needs layer (e.g. anonymous tiles only) */
    const geodata_geocoder *geocoder; /* its address points; NULL: no addresses layer */
    mapd_neighbourhoods *neighbourhoods;  /* mapd_neighbourhoods_load; required */
} mapd_tile_sources;

int mapd_tile_render(geodata_store *store, const mapd_tile_sources *src, tiles_ctx *ctx, int z,
                     int64_t x, int64_t y, const mapd_tile_viewer *viewer, int64_t now,
                     size_t max_bytes, uint8_t **out, size_t *len);

#endif
