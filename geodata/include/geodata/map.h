/*
 * geodata/map.h — lean rows for the map's layers: the needs a viewer may
 * see, the makers' public points in a box, and the address points. Only what
 * a map feature shows is read, so that a low-zoom tile over a whole city
 * reads a few columns per row, not whole posts.
 */
#ifndef GEODATA_MAP_H
#define GEODATA_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/store.h"

/* The box of the neighbourhoods (west, south, east, north);
 * GEODATA_ENOTFOUND when there are none. Work: a scan of their R*Tree. */
int geodata_map_extent(geodata_store *store, double box[4]);

/* Calls each with the id and public point of every open, visible post whose
 * expiry falls in (after, upto]: the needs that left the map by time alone.
 * Work: an index range on the expiry. */
int geodata_map_expired(geodata_store *store, int64_t after, int64_t upto,
                        int (*each)(void *arg, int64_t id, double lon, double lat), void *arg);

typedef struct geodata_map_need {
    int64_t id;
    const char *kind, *category, *status, *title, *neighbourhood_id;
    int64_t expires_at;        /* an open need leaves the map then */
    double lon, lat;           /* the public point, never the home */
} geodata_map_need;

/*
 * Calls each for every need on the map at now: open and not expired, or
 * claimed; not hidden; whatever its neighbourhood (visibility is the
 * caller's). The strings are valid during the call only. A non-zero return
 * of each stops the visit and is returned. Work: one pass over the posts
 * that are open or claimed.
 */
int geodata_map_needs(geodata_store *store, int64_t now,
                      int (*each)(void *arg, const geodata_map_need *n), void *arg);

/* Calls each once with post id if it is on the map (open — whatever its
 * expiry — or claimed, and not hidden), not at all otherwise. Work: one
 * read by primary key. */
int geodata_map_need_by_id(geodata_store *store, int64_t id,
                           int (*each)(void *arg, const geodata_map_need *n), void *arg);

typedef struct geodata_map_shop {
    int64_t id;
    const char *name, *shop, *status, *opening_hours;   /* "" when unknown */
    int delivers, takeaway, gift_cards;
    int64_t confirmed_at;      /* 0 when never */
    double lon, lat;
} geodata_map_shop;

/* Calls each for every shop in box. Work: the R*Tree hits of the box. */
int geodata_map_shops(geodata_store *store, const double box[4],
                      int (*each)(void *arg, const geodata_map_shop *s), void *arg);


#endif
