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

/* Classifies a 512 x 512 grid over the polygons once, so that most lookups
 * need no geometry test (about 1 MB; some tenths of a second for a city's
 * neighbourhoods). Worth it for millions of lookups, not for thousands. */
int geodata_nbindex_accelerate(geodata_nbindex *idx);

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
