/*
 * mapd/tile_addresses.h — the address points of the basemap in memory: a
 * tiles_pointset of every address, so that a deep tile's street numbers come
 * from a grid cell's list rather than an R*Tree join per point.
 *
 * Addresses change only with `mapd import addresses`; a server started
 * before an import shows the new ones after a restart.
 */
#ifndef MAPD_TILE_ADDRESSES_H
#define MAPD_TILE_ADDRESSES_H

#include "geodata/store.h"
#include "tiles/pointset.h"

/* Every address of the store, each with its label as payload (the number
 * with its suffix, NUL, the street, NUL), into a new set *out. 0, a GEODATA_E
 * code (message on the store) or TILES_ENOMEM. Work: one pass over the
 * addresses. */
int mapd_addresses_load(geodata_store *store, tiles_pointset **out);

/* The label parts of a payload from mapd_addresses_load. */
const char *mapd_address_number(const void *payload);
const char *mapd_address_street(const void *payload);

#endif
