/*
 * geodata/nbindex.h — which neighbourhood holds a point.
 *
 * The polygons are kept in memory as GEOS prepared geometries behind an
 * STR-packed R-tree: a lookup asks the tree for the polygons whose box holds
 * the point, then tests those candidates exactly. A point on a shared border
 * belongs to the first polygon, in id order, that covers it.
 *
 * Threads: an index owns a GEOS context and must be used by one thread at a
 * time; build one per worker.
 */
#ifndef GEODATA_NBINDEX_H
#define GEODATA_NBINDEX_H

#include <stddef.h>

#include "geodata/store.h"

typedef struct geodata_nbindex geodata_nbindex;

/* Builds an index of every neighbourhood in the store. *out is freed with
 * geodata_nbindex_free(). An empty store gives an empty index. */
int geodata_nbindex_load(geodata_store *store, geodata_nbindex **out);

void geodata_nbindex_free(geodata_nbindex *idx);

/* Builds a grid over the polygons once (about 64 cells for a polygon), so
 * that lookups need no GEOS test: a cell that no border crosses holds its
 * answer, a cell that borders cross holds their segments and the answer at a
 * reference point, and a lookup there counts crossings. Answers stay exactly
 * those of the plain index; a point on or extremely near a border goes to
 * GEOS. About 0.6 s of CPU and 100 MB for 50,000 polygons of 65 vertices;
 * milliseconds and a few hundred kB for a city's. Worth it for millions of
 * lookups, not for thousands. 0, or GEODATA_ENOMEM (the index then works as
 * before). */
int geodata_nbindex_accelerate(geodata_nbindex *idx);

/* What geodata_nbindex_accelerate built, and how lookups went. */
typedef struct geodata_nbindex_stats {
    size_t cells;           /* grid cells; 0 without a grid */
    size_t mixed_cells;     /* cells that borders cross */
    size_t exact_cells;     /* of those, cells left to GEOS (crowded, or no reference point) */
    size_t bytes;           /* memory of the grid: its cells and the mixed cells' records */
    size_t exact_lookups;   /* lookups answered by the R-tree and GEOS, since loading */
} geodata_nbindex_stats;

void geodata_nbindex_get_stats(const geodata_nbindex *idx, geodata_nbindex_stats *out);

/* Number of neighbourhoods in the index. */
size_t geodata_nbindex_count(const geodata_nbindex *idx);

/* The position (0..count-1) of the neighbourhood covering (lon, lat) in
 * EPSG:4326, or -1 when none does. Work: O(log n) tree descent plus one exact
 * test per candidate whose box holds the point. */
long geodata_nbindex_lookup(geodata_nbindex *idx, double lon, double lat);

/* The id and name of the neighbourhood at position i; owned by the index. */
const char *geodata_nbindex_id(const geodata_nbindex *idx, size_t i);
const char *geodata_nbindex_name(const geodata_nbindex *idx, size_t i);

#endif
