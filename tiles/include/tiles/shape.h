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
 * At low zooms one tile holds thousands of small polygons, and running
 * GEOS on each, in every tile, is what costs. tiles_geom_from_shape_generalised
 * draws them from the shape's outline at the tile's zoom instead: its
 * polygons simplified once (Douglas-Peucker at half a tile unit of that
 * zoom), snapped to that zoom's integer grid, checked valid (GEOS repairs the
 * rare one that is not) and kept with the shape. A polygon inside the tile
 * and its buffer is then copied, shifted by the tile's origin: no GEOS at
 * all; one that crosses the buffer's edge is clipped by GEOS. Neighbours
 * simplified apart may part or overlap by up to a tile unit, an eighth of a
 * pixel on a 512-pixel tile; the exact path allows half that.
 *
 * Threads: a shape's polygons never change once made; any number of
 * threads may draw the same shape at once, each with its own tiles_ctx (the
 * outlines a draw adds are published without a lock: see shape.c).
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

/* The deepest zoom drawn from outlines; deeper tiles span few polygons. */
#define TILES_SHAPE_OUTLINE_MAXZOOM 10

/* Draws s in frame f from its outline at f's zoom (see the top of the
 * file), making and keeping that outline on the first call for the zoom;
 * beyond TILES_SHAPE_OUTLINE_MAXZOOM, or for an extent other than the
 * outline's, it is tiles_geom_from_shape. A polygon or hole that the grid of
 * the zoom reduces to a line or a point (one narrower than about a tile
 * unit) is not drawn at that zoom. A frame tolerance above half a unit
 * simplifies the outline's polygons again, for this draw only.
 * TILES_OK, TILES_EINVAL as tiles_geom_from_shape, TILES_ENOMEM.
 * Work: the first call at a zoom, linear in the shape's points plus a
 * pairwise check of its simplified edges (GEOS's, past 1,024 points); then
 * one bounds test per polygon, a copy of those inside the frame, and a GEOS
 * clip of those crossing its edge. */
int tiles_geom_from_shape_generalised(tiles_ctx *ctx, const tiles_frame *f, const tiles_shape *s,
                                      tiles_geom_buf *out);

/* Lower bounds of the bytes that what tiles_geom_from_shape_generalised
 * draws of s in f takes as MVT geometry commands, at each of n tolerances
 * (in place of f's): at_least[i] counts 2n + 3 for each ring of n points of
 * the polygons inside the frame (a command and two coordinates take a byte
 * at least), nothing for those crossing its edge, and is 0 beyond the
 * outlines' zooms or at a tolerance whose outline is not kept. It makes
 * the outlines a draw would. TILES_OK, TILES_EINVAL as
 * tiles_geom_from_shape, TILES_ENOMEM. Work: once the outlines are made, a
 * bounds test per tolerance, and one step per polygon of a shape that
 * crosses the frame's edge. */
int tiles_shape_generalised_bytes(tiles_ctx *ctx, const tiles_frame *f, const tiles_shape *s,
                                  const double *tolerances, size_t n, size_t *at_least);

#endif
