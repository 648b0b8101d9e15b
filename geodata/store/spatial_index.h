/*
 * geodata/store/spatial_index.h — the R*Tree indexes of geometry columns and the
 * triggers that keep them current (internal).
 */
#ifndef GEODATA_SPATIAL_INDEX_H
#define GEODATA_SPATIAL_INDEX_H

#include "internal.h"

/* Registers table.geom with SpatiaLite (geometry_columns, so GIS clients see
 * it), creates its rtree idx_<table>_geom, and installs the store's lean
 * triggers in place of SpatiaLite's. type is a SpatiaLite geometry type name
 * ("POINT", "MULTIPOLYGON"). Runs inside the caller's transaction. */
int geodata_spatial_column_add(geodata_store *store, const char *table, const char *type);

/* Drops table's geometry triggers (index maintenance and type check), for a
 * bulk load that ends with geodata_spatial_index_rebuild() in the same
 * transaction. Meanwhile the caller vouches that every geometry it writes is
 * of the column's type in EPSG:4326. */
int geodata_spatial_index_suspend(geodata_store *store, const char *table);

/* Recreates idx_<table>_geom from every row's geometry with a bulk load,
 * and reinstalls the triggers. */
int geodata_spatial_index_rebuild(geodata_store *store, const char *table);

#endif
