/*
 * geodata/export.h — one layer of the store written to a file that GIS and
 * spreadsheet software open: GeoPackage, GeoJSON, CSV, zipped Shapefile,
 * FlatGeobuf, KML or XLSX, in EPSG:4326 (lon/lat) or EPSG:2154 (Lambert-93),
 * through GDAL/OGR.
 *
 * What leaves is decided in one place, features.h: the fields of each layer
 * marked as exported, and its filtered query. An export never holds a name,
 * an email, a free-text body, the title of a need or a home location; the
 * file says so in its own metadata (the GeoPackage's metadata table and
 * layer description, the zip's README.txt, the dataset or layer description
 * where the format has one).
 *
 * An export is all or nothing: the file is written under a temporary name in
 * the destination's directory and renamed onto it at the end; a failure or a
 * cancellation removes what was written. Only an export that succeeded is
 * audited (action "export", target the layer, detail a JSON object with the
 * format, CRS, filters and row count), in the store the export read.
 *
 * Threads: GDAL's error handler is pushed for the calling thread only, so
 * exports may run on several threads, each with its own store.
 */
#ifndef GEODATA_EXPORT_H
#define GEODATA_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "geodata/features.h"
#include "geodata/store.h"

#define GEODATA_EXPORT_FORMATS "gpkg, geojson, csv, shp, fgb, kml, xlsx"
#define GEODATA_EXPORT_LAYERS  "needs, shops, makers, neighbourhoods"

/* One output format. */
typedef struct geodata_export_format {
    const char *name;          /* as asked: "gpkg" */
    const char *driver;        /* GDAL's driver: "GPKG" */
    const char *extension;     /* of the file delivered: "gpkg", "zip" for shp */
    const char *media_type;    /* Content-Type of the file delivered */
    const char *label;         /* for people: "GeoPackage" */
    int only_4326;             /* the format knows no other CRS (KML) */
} geodata_export_format;

/* The format named name, or NULL when there is none. */
const geodata_export_format *geodata_export_format_find(const char *name);

/*
 * A time given as YYYY-MM-DD (a UTC day) or RFC 3339 (2026-12-07T10:30:00Z,
 * 2026-12-07T11:30:00+01:00, fractions of a second ignored), as Unix
 * seconds: a day's first second, or with end_of_day set its last second,
 * so that "until 2026-12-07" includes the whole of that day. 0, or
 * GEODATA_EINVAL when s is neither (the store, when not NULL, gets the
 * message).
 */
int geodata_export_parse_time(geodata_store *store, const char *s, int end_of_day, int64_t *out);

/* The EPSG code of "EPSG:4326" or "EPSG:2154" (any case; NULL is 4326),
 * or 0 for anything else. */
int geodata_export_parse_crs(const char *s);

/* Called with the rows written and the rows matched; a non-zero return
 * cancels the export, and is what geodata_export_write returns. */
typedef int (*geodata_export_progress)(void *arg, uint64_t done, uint64_t total);

typedef struct geodata_export_request {
    const char *layer;           /* needs, shops, makers, neighbourhoods */
    const char *format;          /* a geodata_export_format name */
    int epsg;                    /* 4326 or 2154; 0 means 4326 */
    const char *neighbourhood;   /* filters: NULL (or "") for any */
    const char *category;
    const char *status;
    int64_t since, until;        /* created at since..until, both included, in Unix
                                    seconds; GEODATA_TIME_OPEN_START / _END (features.h):
                                    no bound. Layers without a creation date take none. */
    int64_t actor_id;            /* who asks, for the audit log; 0: the command line */
    int64_t now;                 /* Unix seconds: the export's date, expiry of needs */
    geodata_export_progress progress;  /* may be NULL */
    void *progress_arg;
} geodata_export_request;

/*
 * Checks a request without writing anything: a known layer, format and CRS
 * (KML is EPSG:4326 only), filters the layer has, with values the store
 * knows (a category or status of the layer, an existing neighbourhood),
 * since before until. 0, or GEODATA_EINVAL with a message naming what is
 * wrong. Work: at most one indexed read.
 */
int geodata_export_check(geodata_store *store, const geodata_export_request *req);

/* The rows req would export, into *rows. Work: one counting query. */
int geodata_export_count(geodata_store *store, const geodata_export_request *req, int64_t *rows);

/* The file name to offer for req: "entraide-needs-2026-12-07.gpkg" (the
 * date of req->now, UTC), into out of size n. 0, or GEODATA_EINVAL. */
int geodata_export_filename(const geodata_export_request *req, char *out, size_t n);

typedef struct geodata_export_result {
    int64_t rows;                /* features written */
    int64_t bytes;               /* size of the file */
} geodata_export_result;

/*
 * Writes the export of req to path (replacing a file there) and audits it.
 * Rows are read in one streamed query and written in transactions of
 * GEODATA_EXPORT_BATCH features where the format has transactions. On
 * failure nothing is left at path (nor under the temporary name) and
 * nothing is audited; the store's message says why. Work: one pass over the
 * matching rows; memory bounded by one batch of the driver's.
 */
#define GEODATA_EXPORT_BATCH 20000
int geodata_export_write(geodata_store *store, const geodata_export_request *req, const char *path,
                         geodata_export_result *res);

#endif
