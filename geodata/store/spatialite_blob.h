/*
 * geodata/store/spatialite_blob.h — SpatiaLite's internal geometry BLOB for a point
 * (internal). Built here for bulk loads, where calling MakePoint() per row
 * costs an SQL function call and two allocations.
 */
#ifndef GEODATA_SPATIALITE_BLOB_H
#define GEODATA_SPATIALITE_BLOB_H

#define GEODATA_POINT_BLOB_SIZE 60

/* Writes the BLOB of POINT(x y) with the given SRID, byte for byte what
 * SpatiaLite's MakePoint(x, y, srid) returns. */
void geodata_point_blob(double x, double y, int srid, unsigned char out[GEODATA_POINT_BLOB_SIZE]);

/* Reads the bounding box in the header of any SpatiaLite geometry BLOB into
 * box (min x, max x, min y, max y: the rtree's order). Returns 0, or -1 when
 * blob is not a SpatiaLite geometry. Work: constant, no parsing of the body. */
int geodata_blob_box(const unsigned char *blob, int len, double box[4]);

#endif
