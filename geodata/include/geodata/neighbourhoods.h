/*
 * geodata/neighbourhoods.h — reading the neighbourhood polygons back, for
 * maps and exports.
 */
#ifndef GEODATA_NEIGHBOURHOODS_H
#define GEODATA_NEIGHBOURHOODS_H

#include <stddef.h>

#include "geodata/store.h"

typedef struct geodata_neighbourhood {
    const char *id, *name;
    const unsigned char *wkb;   /* the (multi)polygon, OGC WKB, EPSG:4326 */
    size_t wkb_len;
    double label_lon, label_lat;
} geodata_neighbourhood;

/* Calls each(arg, n) for every neighbourhood whose box meets bbox (west,
 * south, east, north; NULL for all), in id order. n and what it points to are
 * valid during the call only. */
int geodata_neighbourhoods_in_box(geodata_store *store, const double *bbox,
                                  int (*each)(void *arg, const geodata_neighbourhood *n), void *arg);

/* The label point (a point inside the polygon, for names and map centres)
 * of neighbourhood id; GEODATA_ENOTFOUND when there is none. */
int geodata_neighbourhood_label(geodata_store *store, const char *id, double *lon, double *lat);

#endif
