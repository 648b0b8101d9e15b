/*
 * tiles/shape_internal.h — what shape.c (the prepared polygons) shares with
 * outline.c (their generalisations per zoom) inside the tiles library: the
 * layout of a shape and the helpers both draw with.
 */
#ifndef TILES_SHAPE_INTERNAL_H
#define TILES_SHAPE_INTERNAL_H

#include <stdatomic.h>

#include "geometry_internal.h"
#include "tiles/shape.h"

typedef struct poly {
    double bounds[4];        /* of its shell: x0, y0, x1, y1 */
    uint32_t ring, n_rings;  /* its rings in the shape's ring list, shell first */
} poly;

typedef struct tiles_outline tiles_outline;

struct tiles_shape {
    double bounds[4];        /* of every polygon */
    poly *polys;
    size_t n_polys;
    uint32_t *rings;         /* n_rings + 1 offsets into xy, in points */
    size_t n_rings;
    double *xy;              /* world x, y of every ring's points */
    /* The outline of each zoom up to TILES_SHAPE_OUTLINE_MAXZOOM, made by
     * the first draw that needs it and kept until the shape is freed. No
     * lock: a pointer is published once by compare-and-swap (two threads
     * drawing the same zoom first both make it, one copy is kept), and an
     * outline never changes once published. */
    _Atomic(tiles_outline *) outlines[TILES_SHAPE_OUTLINE_MAXZOOM + 1];
};

/* Frees an outline (outline.c); NULL is fine. */
void tiles_outline_free(tiles_outline *o);

/* Appends the frame's whole rectangle as an exterior ring (shape.c). */
int tiles_draw_rect(const tiles_frame *f, tiles_geom_buf *out);

#endif
