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

#endif
