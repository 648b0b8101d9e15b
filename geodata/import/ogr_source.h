/*
 * geodata/import/ogr_source.h — reading any OGR vector source as GEOS geometries in
 * EPSG:4326 (internal; used by the neighbourhood and shop imports).
 */
#ifndef GEODATA_OGR_SOURCE_H
#define GEODATA_OGR_SOURCE_H

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "geom.h"
#include "internal.h"

typedef enum { GEODATA_WANT_POLYGONS, GEODATA_WANT_ANY } geodata_geom_want;

typedef struct geodata_ogr {
    GDALDatasetH ds;
    OGRLayerH layer;                  /* the layer read; owned by ds */
    OGRCoordinateTransformationH ct;  /* source CRS -> EPSG:4326 lon/lat; NULL if none needed */
    OGRSpatialReferenceH wgs84;
    int no_crs;                       /* the layer declares no CRS: coordinates must be lon/lat */
    GIntBig n_features;               /* for progress; -1 when unknown */
} geodata_ogr;

/* Opens path and picks the first layer holding the wanted geometries.
 * A missing, empty or non-vector file, or one with no such layer, fails
 * with a one-line message on the store. */
int geodata_ogr_open(geodata_store *store, const char *path, geodata_geom_want want,
                     geodata_ogr *src);
void geodata_ogr_close(geodata_ogr *src);

/* The index of the first field whose name equals one of names (case
 * insensitive), or -1. names ends with NULL. */
int geodata_ogr_field(const geodata_ogr *src, const char *const *names);

/* The index of the first string or integer field whose name starts with one
 * of prefixes (case insensitive; shapefiles cut names to 10 characters), or -1. */
int geodata_ogr_field_prefix(const geodata_ogr *src, const char *const *prefixes);

/* A comma-separated list of the layer's field names, malloc'd, for messages. */
char *geodata_ogr_field_list(const geodata_ogr *src);

/* The feature's geometry as a new GEOS geometry in EPSG:4326, 2D, or NULL
 * with the reason in why (of size n) when it is missing, not transformable,
 * or not lon/lat in a layer without CRS. */
GEOSGeometry *geodata_ogr_geometry(geodata_ogr *src, OGRFeatureH f, geodata_geos *g,
                                   char *why, size_t n);

/* The field's value as a string, or NULL when unset, null or empty.
 * Owned by the feature. */
const char *geodata_ogr_string(OGRFeatureH f, int field);

#endif
