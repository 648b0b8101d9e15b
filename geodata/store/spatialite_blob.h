/*
 * geodata/store/spatialite_blob.h — SpatiaLite's internal geometry BLOB for a point
 * (internal). Built here for bulk loads, where calling MakePoint() per row
 * costs an SQL function call and two allocations.
 */
#ifndef GEODATA_SPATIALITE_BLOB_H
#define GEODATA_SPATIALITE_BLOB_H

#include "geodata/store.h"

#define GEODATA_POINT_BLOB_SIZE 60

/* Writes the BLOB of POINT(x y) with the given SRID, byte for byte what
 * SpatiaLite's MakePoint(x, y, srid) returns. */
void geodata_point_blob(double x, double y, int srid, unsigned char out[GEODATA_POINT_BLOB_SIZE]);

/* Binds POINT(x y) in EPSG:4326 as parameter i of st, in the format of the
 * store's engine: SpatiaLite's BLOB, or EWKB for PostGIS. buf holds the bytes
 * and must outlive the statement's step. */
struct sql_stmt;
void geodata_bind_point(geodata_store *store, struct sql_stmt *st, int i, double x, double y,
                        unsigned char buf[GEODATA_POINT_BLOB_SIZE]);

/* Reads the bounding box in the header of any SpatiaLite geometry BLOB into
 * box (min x, max x, min y, max y: the rtree's order), or the point of an
 * (E)WKB point (PostGIS's). Returns 0, or -1 when blob is neither. Work:
 * constant, no parsing of the body. */
int geodata_blob_box(const unsigned char *blob, int len, double box[4]);

#endif
