/*
 * geodata/store/rtree_bulk.h — building an SQLite R*Tree index in one pass
 * (internal).
 */
#ifndef GEODATA_RTREE_BULK_H
#define GEODATA_RTREE_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef struct geodata_rtree_entry {
    int64_t id;          /* the indexed row's rowid */
    double box[4];       /* minx, maxx, miny, maxy, as SQLite's rtree orders them */
} geodata_rtree_entry;

/*
 * Replaces the content of the 2-D rtree virtual table `name` (which must
 * exist and be empty, e.g. just created) with an STR-packed tree of the n
 * entries, written straight into its shadow tables (%_node, %_rowid,
 * %_parent) in the format SQLite's rtree module reads. entries is reordered.
 * Coordinates are rounded outwards to 32-bit floats, as the module does.
 * Must run inside a transaction. Work: O(n log n) for sorting, and about
 * n/50 node writes plus n rowid writes, instead of n R*-tree insertions.
 */
int geodata_rtree_bulk_load(geodata_store *store, const char *name,
                            geodata_rtree_entry *entries, size_t n);

#endif
