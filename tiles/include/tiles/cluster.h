/*
 * tiles/cluster.h — hierarchical grid clustering of points in tile space.
 *
 * Points merge when they fall in the same cell of a grid aligned on the
 * tile's origin, `cell` tile units wide. With a cell that divides the extent,
 * the cells of zoom z are exactly the unions of four cells of zoom z + 1, so
 * the clusters of a zoom are unions of the clusters one zoom down (the
 * hierarchy supercluster builds with radii, here exact), a cluster never
 * straddles a tile, and a change to one point changes only the cell holding
 * it at each zoom: the tile holding the point. A cluster sits at the mean of
 * its points, inside its cell.
 *
 * Pure computation on caller memory: no GEOS, no I/O; safe from any thread.
 */
#ifndef TILES_CLUSTER_H
#define TILES_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tiles_cluster_point {
    int32_t x, y;            /* tile coordinates; any int32 (buffer cells included) */
    uint32_t ref;            /* the caller's index of the point */
    uint32_t category;       /* below n_categories */
} tiles_cluster_point;

typedef struct tiles_cluster {
    int32_t x, y;            /* the mean of its points, rounded */
    uint32_t count;          /* points merged; 1 is a lone point */
    uint32_t ref;            /* the ref of its point with the smallest ref */
    const uint32_t *per_category;  /* n_categories counts, into the result's storage */
} tiles_cluster;

typedef struct tiles_clusters {
    tiles_cluster *items;    /* ordered by cell (row by row) */
    size_t n;
    uint32_t *counts;        /* n * n_categories; items point into it */
    size_t n_categories;
} tiles_clusters;

/*
 * Clusters pts[0..n-1] on a grid of `cell` units (> 0) into *out (which the
 * caller clears with tiles_clusters_clear). Returns TILES_OK, TILES_EINVAL
 * for a cell of 0 or a category out of range, TILES_ENOMEM. Work: a sort of
 * the n points (n log n), then one pass; memory O(n + clusters × categories).
 */
int tiles_cluster_grid(const tiles_cluster_point *pts, size_t n, uint32_t cell,
                       size_t n_categories, tiles_clusters *out);

void tiles_clusters_clear(tiles_clusters *c);

/*
 * The clusters of tiles_cluster_grid, made one point at a time without
 * keeping the points: for points known to lie in the square [lo, hi]^2 of
 * tile coordinates (a tile and its ring of cells), a grid of per-cell sums.
 * Given the same points, with refs in the same order, it makes the same
 * clusters in the same order; refs are 64-bit (e.g. the points' own ids).
 * Caller storage: _init, then _add per point, _each, and _clear.
 */
typedef struct tiles_cluster_acc {
    int64_t origin;          /* the corner of the square's first cell, both axes */
    size_t w;                /* cells across, and down */
    uint32_t cell;
    int shift;               /* log2(cell) when cell is a power of two, else -1 */
    size_t n_categories;
    int64_t *sums;           /* x and y per cell */
    uint32_t *counts;        /* points per cell */
    uint64_t *refs;          /* the smallest ref per cell */
    uint32_t *per;           /* n_categories counts per cell */
} tiles_cluster_acc;

/* A cluster of tiles_cluster_acc: as tiles_cluster, with a 64-bit ref. */
typedef struct tiles_cluster64 {
    int32_t x, y;            /* the mean of its points, rounded as tiles_cluster_grid does */
    uint32_t count;
    uint64_t ref;            /* the smallest ref of its points */
    const uint32_t *per_category;
} tiles_cluster64;

/* An empty grid over [lo, hi]^2 (lo <= hi) of cells `cell` wide (> 0).
 * TILES_EINVAL for bad bounds or a cell of 0, TILES_ENOMEM. Memory: the
 * cells of the square times 24 + 4 * n_categories bytes. */
int tiles_cluster_acc_init(tiles_cluster_acc *a, int32_t lo, int32_t hi, uint32_t cell,
                           size_t n_categories);

/* Counts one point. TILES_EINVAL (nothing counted) for a point outside the
 * square or a category out of range. Work: O(1). */
int tiles_cluster_acc_add(tiles_cluster_acc *a, int32_t x, int32_t y, uint32_t category, uint64_t ref);

/* Calls each with every cluster, row by row; a non-zero return stops the
 * visit and is returned. Work: one step per cell of the square. */
int tiles_cluster_acc_each(const tiles_cluster_acc *a,
                           int (*each)(void *arg, const tiles_cluster64 *c), void *arg);

void tiles_cluster_acc_clear(tiles_cluster_acc *a);

#endif
