/*
 * mapd/tile_neighbourhoods.h — the neighbourhood polygons of the tiles in
 * memory, each prepared once as a tiles_shape (projected, validated), so
 * that a tile draws them without reading, parsing and projecting the same
 * polygons again.
 *
 * A server keeps one set and loads it afresh when the change feed reports a
 * change of the neighbourhoods table (an import by another process).
 *
 * Threads: any number of renders read the set at once; a reload builds the
 * new polygons aside and swaps them in under the set's lock (a rwlock: reads
 * share it, the swap takes it alone).
 */
#ifndef MAPD_TILE_NEIGHBOURHOODS_H
#define MAPD_TILE_NEIGHBOURHOODS_H

#include "geodata/store.h"
#include "tiles/geometry.h"
#include "tiles/shape.h"

typedef struct mapd_neighbourhoods mapd_neighbourhoods;

/* A neighbourhood as drawn: strings and shape live as long as the visit. */
typedef struct mapd_neighbourhood {
    const char *id, *name;
    double label_lon, label_lat;
    double label_wx, label_wy;   /* the label point in the world square (tiles_world) */
    const tiles_shape *shape;
} mapd_neighbourhood;

/* An empty set (NULL when out of memory); free with mapd_neighbourhoods_free. */
mapd_neighbourhoods *mapd_neighbourhoods_new(void);
void mapd_neighbourhoods_free(mapd_neighbourhoods *set);

/* Reads every neighbourhood of the store into set, replacing what it held;
 * a polygon that cannot be prepared is left out (as a tile would leave it).
 * On failure the set keeps what it held. 0, a GEODATA_E code (message on
 * the store) or TILES_ENOMEM. Work: one pass over the table, one GEOS
 * validity check per polygon, and two sorts of the set for its index. */
int mapd_neighbourhoods_load(mapd_neighbourhoods *set, geodata_store *store);

/* Visits, in id order, the neighbourhoods whose polygon bounds or label
 * point meet the frame f (the tile and its buffer); a non-zero return of
 * each stops the visit and is returned (TILES_ENOMEM when the list of those
 * found cannot grow). Work: through the grid index, a binary search per
 * row of cells the frame spans and a bounds test per neighbourhood filed
 * near it, then a sort of those found; for a frame spanning more cells than
 * there are neighbourhoods, one bounds test per neighbourhood. */
int mapd_neighbourhoods_each(mapd_neighbourhoods *set, const tiles_frame *f,
                             int (*each)(void *arg, const mapd_neighbourhood *n), void *arg);

#endif
