/*
 * tiles/geometry_internal.h — what geometry.c shares with shape.c inside the
 * tiles library: the GEOS context, and the last stages of the pipeline
 * (simplify, snap, extract) for a geometry already in tile units and clipped.
 */
#ifndef TILES_GEOMETRY_INTERNAL_H
#define TILES_GEOMETRY_INTERNAL_H

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include "tiles/geometry.h"

struct tiles_ctx {
    GEOSContextHandle_t h;
    GEOSWKBReader *reader;
    /* scratch of the outlines (outline.c), kept from call to call: */
    double *dxy;             /* a ring's points in zoom units */
    uint8_t *keep;           /* Douglas-Peucker's kept points */
    uint32_t *stack;         /* its pending ranges, two entries each */
    size_t cap_ring;         /* points dxy and keep hold, half of stack's entries */
    tiles_geom_buf poly;     /* one polygon being simplified again */
};

/* Appends the parts of type of clipped (tile units of f, clipped to the
 * tile and its buffer; not taken) to out: simplified at f's tolerance,
 * snapped to the integer grid, degenerate parts dropped, rings wound.
 * TILES_OK (possibly adding nothing), TILES_EINVAL when GEOS fails,
 * TILES_ENOMEM. Work: GEOS's simplification and validity check, linear-ish
 * in clipped's points. */
int tiles_geom_append(tiles_ctx *c, const tiles_frame *f, const GEOSGeometry *clipped,
                      tiles_geom_type type, tiles_geom_buf *out);

/* World square to tile units of f: multiplying by a power of two is exact,
 * so the same world point gives the same tile point however it was reached. */
void tiles_world_to_tile(const tiles_frame *f, double wx, double wy, double *x, double *y);

/* Room in b for points points and parts parts in all; -1 on no memory.
 * b->g.xy and b->g.parts must be pointed again at b->xy and b->parts. */
int tiles_geom_buf_grow(tiles_geom_buf *b, size_t points, size_t parts);

/* Empties out for a geometry of type (its storage is kept). */
void tiles_geom_buf_reset(tiles_geom_buf *out, tiles_geom_type type);

#endif
