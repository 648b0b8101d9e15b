/*
 * geodata/store/geom.h — GEOS contexts and the local metric projection, shared by
 * the files of the geodata library (internal).
 */
#ifndef GEODATA_GEOM_H
#define GEODATA_GEOM_H

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#include <proj.h>

/* A GEOS context whose error and notice messages are kept (last one wins)
 * instead of printed. One per thread. */
typedef struct geodata_geos {
    GEOSContextHandle_t h;
    char msg[256];          /* last GEOS message; a longer one is cut, it is a diagnostic */
} geodata_geos;

int geodata_geos_init(geodata_geos *g);    /* 0, or GEODATA_ENOMEM */
void geodata_geos_clear(geodata_geos *g);

/*
 * A Lambert azimuthal equal-area projection centred on the data, so that
 * distances in metres are right to better than 0.1 % within 100 km of the
 * centre, and areas are exact, wherever on Earth the data lies: nothing is
 * tied to one country's grid. One per thread (it owns a PJ_CONTEXT).
 */
typedef struct geodata_metric {
    PJ_CONTEXT *ctx;
    PJ *pj;                 /* EPSG:4326 (lon, lat order) -> LAEA metres */
} geodata_metric;

/* Sets up the projection centred on (lon0, lat0). On failure returns
 * GEODATA_EGEOM and leaves a message in msg (of size n). */
int geodata_metric_init(geodata_metric *m, double lon0, double lat0, char *msg, size_t n);
void geodata_metric_clear(geodata_metric *m);

/* Projects (lon, lat) to metres in place; 0 or GEODATA_EGEOM. */
int geodata_metric_forward(geodata_metric *m, double *x, double *y);

/* A new geometry: g projected to metres, or NULL on failure. Caller frees. */
GEOSGeometry *geodata_metric_project(geodata_metric *m, geodata_geos *g, const GEOSGeometry *geom);

#endif
