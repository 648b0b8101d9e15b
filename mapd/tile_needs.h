/*
 * mapd/tile_needs.h — the needs layer in memory: every need on the map (open
 * or claimed, not hidden) in a tiles_pointset, grouped by neighbourhood, so
 * that a tile over a whole city is drawn from memory, not from 100,000 rows.
 *
 * It is loaded once from the store and kept in step by its owner, which
 * calls mapd_needs_refresh() for each post named by the change feed (and
 * mapd_needs_load() again when the feed was pruned past it). Expiry is
 * decided at query time.
 *
 * Threads: shared by all workers; the point set has its own rwlock, and the
 * neighbourhood registry a mutex (`groups_lock`).
 */
#ifndef MAPD_TILE_NEEDS_H
#define MAPD_TILE_NEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/audience.h"
#include "geodata/map.h"
#include "geodata/store.h"
#include "tiles/geometry.h"

typedef struct mapd_needs mapd_needs;

/* A new empty layer; NULL when out of memory. */
mapd_needs *mapd_needs_new(void);
void mapd_needs_free(mapd_needs *n);

/* Replaces what is held with every need on the map at now. Work: one pass
 * over the open and claimed posts. 0 or a GEODATA_E / TILES_E code. */
int mapd_needs_load(mapd_needs *n, geodata_store *store, int64_t now);

/* Reads post id again: it is put (on the map) or removed (gone, done,
 * cancelled, hidden). Work: one read by primary key. */
int mapd_needs_refresh(mapd_needs *n, geodata_store *store, int64_t id);

/* Drops post id (e.g. expired). */
void mapd_needs_remove(mapd_needs *n, int64_t id);

size_t mapd_needs_count(mapd_needs *n);

/* The neighbourhoods audience a sees, as a bitmap of groups for
 * mapd_needs_query, malloc'd into *groups (*n_groups bits); NULL for staff
 * (every group). 0 or TILES_ENOMEM. Not for NOBODY (who sees no need). */
int mapd_needs_visible(mapd_needs *n, const geodata_audience *a, uint8_t **groups,
                       size_t *n_groups);

/* Calls each with the id, category (its index in geodata_post_categories)
 * and tile coordinates of every need in frame f grown by its buffer, in the
 * groups of the bitmap (NULL: all), that is on the map at now. It runs under
 * the set's read lock. Work: one pass over the set, no payload read. */
int mapd_needs_query(mapd_needs *n, const tiles_frame *f, const uint8_t *groups, size_t n_groups,
                     int64_t now,
                     int (*each)(void *arg, int64_t id, uint32_t category, int32_t x, int32_t y),
                     void *arg);

/* Calls each once with need id when it is held and on the map at now; the
 * need's strings are valid during the call only. Work: O(1). */
int mapd_needs_get(mapd_needs *n, int64_t id, int64_t now,
                   int (*each)(void *arg, const geodata_map_need *need), void *arg);

#endif
