/*
 * tiles/mvt.h — Mapbox Vector Tile 2.1 encoding.
 *
 * A tile holds named layers; a layer holds features, each with an optional
 * id, one geometry already in tile coordinates (see tiles/geometry.h) and
 * properties. Keys and values are de-duplicated per layer. The encoder
 * writes the protobuf wire format itself (varints, zig-zag, packed
 * commands): it has no other dependency.
 *
 * Ownership: a tiles_mvt owns everything added to it (strings are copied);
 * tiles_mvt_encode returns a malloc'd buffer the caller frees.
 */
#ifndef TILES_MVT_H
#define TILES_MVT_H

#include <stddef.h>
#include <stdint.h>

#include "tiles/tile.h"

typedef enum {
    TILES_GEOM_POINT = 1,       /* one or more points (a multipoint) */
    TILES_GEOM_LINESTRING = 2,  /* one or more lines */
    TILES_GEOM_POLYGON = 3,     /* rings: exterior (positive area), then its holes */
} tiles_geom_type;

/* A geometry in tile coordinates: n points (x, y pairs in xy), cut into
 * parts at the offsets of parts[0..n_parts-1] (parts[0] == 0). A polygon's
 * rings are not closed (the first point is not repeated) and are wound as
 * MVT wants: exterior rings with positive surveyor's area (clockwise on
 * screen, y pointing down), holes negative. */
typedef struct tiles_geom {
    tiles_geom_type type;
    const int32_t *xy;
    size_t n;
    const uint32_t *parts;
    size_t n_parts;
} tiles_geom;

typedef enum {
    TILES_VALUE_STRING, TILES_VALUE_DOUBLE, TILES_VALUE_INT, TILES_VALUE_BOOL
} tiles_value_type;

typedef struct tiles_value {
    tiles_value_type type;
    const char *s;      /* TILES_VALUE_STRING (UTF-8) */
    double d;           /* TILES_VALUE_DOUBLE */
    int64_t i;          /* TILES_VALUE_INT */
    int b;              /* TILES_VALUE_BOOL */
} tiles_value;

typedef struct tiles_mvt tiles_mvt;
typedef struct tiles_layer tiles_layer;

tiles_mvt *tiles_mvt_new(void);
void tiles_mvt_free(tiles_mvt *t);

/* Adds a layer (version 2, the given extent, usually 4096); the layer
 * belongs to the tile. */
int tiles_mvt_layer(tiles_mvt *t, const char *name, uint32_t extent, tiles_layer **out);

/* Adds a feature. with_id: whether id is set. keys[i] / values[i] are its
 * n_props properties. An empty geometry is skipped (returns TILES_OK). */
int tiles_mvt_add(tiles_layer *l, int with_id, uint64_t id, const tiles_geom *g,
                  const char *const *keys, const tiles_value *values, size_t n_props);

/* Number of features in a layer. */
size_t tiles_layer_count(const tiles_layer *l);

/* The bytes tiles_mvt_encode would write now. It never decreases as
 * features are added, so a tile it puts over a size budget is over it for
 * good. Work: one step per layer (the layers keep their sizes as features
 * are added). */
size_t tiles_mvt_size(const tiles_mvt *t);

/* The encoded tile, malloc'd into *out (*len bytes; an empty tile is 0
 * bytes and *out may be NULL). */
int tiles_mvt_encode(const tiles_mvt *t, uint8_t **out, size_t *len);

#endif
