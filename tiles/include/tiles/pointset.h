/*
 * tiles/pointset.h — a live set of points in memory, for drawing point
 * layers without a database round trip per tile.
 *
 * Each point has an id (unique in the set), a position in degrees, a group
 * (the caller's small integer, e.g. a neighbourhood: queries may keep only
 * some groups), a category (for clustering), an expiry (queries at or after
 * it skip the point) and a payload that belongs to the caller. A query
 * visits the points that fall in a tile grown by a margin, with their tile
 * coordinates (tiles_point's rounding).
 *
 * Layout: the 32-bit positions a query scans sit in their own array (8
 * bytes a point), what a hit reads (id, group, category, expiry, payload)
 * in a second one, the exact positions in a third; a removal moves the last
 * point into the hole; an open-addressing table maps ids to slots, and two
 * grids, of the tiles of zooms 17 and 11, list the points of each cell. A
 * query for a deep tile (one spanning at most 1,200 cells of zoom 17: zoom
 * 12 and deeper, its margin included) visits the points of its cells, at
 * zoom 16 about four tiles' worth; a wider one visits those of its cells of
 * zoom 11 when they hold at most an eighth of the points (a middle zoom over
 * a country), and otherwise scans every point, a few milliseconds per
 * million.
 *
 * Threads: one set is shared; a pthread rwlock guards it — queries share it,
 * changes take it alone. Callbacks run under the read lock: they must not
 * change the set.
 */
#ifndef TILES_POINTSET_H
#define TILES_POINTSET_H

#include <stddef.h>
#include <stdint.h>

#include "tiles/geometry.h"

typedef struct tiles_pointset tiles_pointset;

/* A new empty set; payloads it drops are passed to free_payload (may be
 * NULL). NULL when out of memory. */
tiles_pointset *tiles_pointset_new(void (*free_payload)(void *payload));

/* Frees the set and its payloads. NULL is fine. */
void tiles_pointset_free(tiles_pointset *s);

/* Inserts point id, or replaces it (freeing the old payload); expires is
 * the time from which queries skip it, 0 for never. The set takes payload
 * in every case (freed on failure). TILES_EINVAL for degrees off the globe;
 * TILES_ENOMEM (point id is then absent). Work: O(1) amortised, plus the
 * points of its grid cells. */
int tiles_pointset_put(tiles_pointset *s, int64_t id, double lon, double lat, uint32_t group,
                       uint32_t category, int64_t expires, void *payload);

/* Removes point id (freeing its payload); nothing when absent. Work: O(1). */
void tiles_pointset_remove(tiles_pointset *s, int64_t id);

/* Exchanges the contents of s and fresh (a set no other thread sees), under
 * s's write lock: a reload without a gap. */
void tiles_pointset_swap(tiles_pointset *s, tiles_pointset *fresh);

size_t tiles_pointset_count(tiles_pointset *s);

typedef struct tiles_pointset_hit {
    int64_t id;
    int32_t x, y;            /* tile coordinates in the query's frame */
    uint32_t group, category;
    const void *payload;     /* valid during the callback only */
} tiles_pointset_hit;

/*
 * Calls each for every point inside frame f grown by f->buffer units (the
 * frame's own buffer is the margin) whose group is set in groups (a bitmap
 * of n_groups bits; NULL keeps every group) and that has not expired at
 * now, in no particular order. A non-zero return of each stops the visit
 * and is returned. Work: the points of the cells of a grid the tile
 * overlaps (see Layout above; a count of the coarse cells' points first),
 * else one pass over the set.
 */
int tiles_pointset_query(tiles_pointset *s, const tiles_frame *f, const uint8_t *groups,
                         size_t n_groups, int64_t now,
                         int (*each)(void *arg, const tiles_pointset_hit *h), void *arg);

/* Calls each once with point id (x and y left 0) when it is in the set and
 * has not expired at now. Work: O(1). */
int tiles_pointset_get(tiles_pointset *s, int64_t id, int64_t now,
                       int (*each)(void *arg, const tiles_pointset_hit *h), void *arg);

#endif
