/*
 * tiles/shape.h — polygons prepared once, drawn in many tiles.
 *
 * tiles_geom_from_wkb runs the whole pipeline for every tile: reading the
 * WKB, projecting every point, checking validity, clipping. A polygon that is
 * drawn in thousands of tiles (a neighbourhood) is better prepared once: a
 * tiles_shape holds it projected to the world square (tiles_world), repaired
 * if it was invalid, as flat rings with the bounds of each polygon.
 *
 * Drawing it in a tile then costs one pass over the edges of the polygons
 * whose bounds meet the tile and its buffer. A polygon none of whose edges
 * meets that rectangle either covers it (drawn as the rectangle itself, as a
 * clip would give) or misses it (nothing drawn): the common cases deep in a
 * tileset. A polygon that an edge crosses is clipped by GEOS in world
 * coordinates — the very geometry validated at preparation, so the clip
 * never sees an invalid input — and only the clipped part is moved to tile
 * units, simplified, snapped and wound as tiles_geom_from_wkb does.
 *
 * Threads: a shape is immutable once made; any number of threads may draw
 * the same shape at once, each with its own tiles_ctx.
 */
#ifndef TILES_SHAPE_H
#define TILES_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "tiles/geometry.h"

typedef struct tiles_shape tiles_shape;

/* Prepares the polygon or multipolygon of a WKB geometry in lon/lat into
 * *out (free with tiles_shape_free). Polygons that are empty, or that a
 * repair turned into lines, are dropped; a shape may end up with none, and
 * then draws nothing. TILES_EINVAL for unreadable WKB or another geometry
 * type, TILES_ENOMEM. Work: linear in the points, plus GEOS's validity check
 * (and repair when needed), once. */
int tiles_shape_from_wkb(tiles_ctx *ctx, const uint8_t *wkb, size_t len, tiles_shape **out);

void tiles_shape_free(tiles_shape *s);

/* The shape's bounds in the world square: x0, y0, x1, y1 (y down). */
void tiles_shape_bounds(const tiles_shape *s, double out[4]);

/* The rectangle of frame f (the tile and its buffer) in the world square:
 * x0, y0, x1, y1. f's extent must not be 0. */
void tiles_frame_world_box(const tiles_frame *f, double out[4]);

/* Draws s in frame f into *out (out->g.n == 0 when nothing of it is in the
 * tile), like tiles_geom_from_wkb given the same polygon. TILES_OK,
 * TILES_EINVAL for a frame that is not a tile or has no extent, or when GEOS
 * fails on a part (nothing is drawn), TILES_ENOMEM.
 * Work: one pass over the edges of the polygons whose bounds meet the frame;
 * GEOS only for those an edge of which crosses it. */
int tiles_geom_from_shape(tiles_ctx *ctx, const tiles_frame *f, const tiles_shape *s,
                          tiles_geom_buf *out);

#endif
