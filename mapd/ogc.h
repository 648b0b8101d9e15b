/*
 * mapd/ogc.h — what the files of the OGC API – Features service share
 * (ogc.c: landing, conformance, OpenAPI, collections, queryables;
 * ogc_items.c: features; ogc_crs.c: coordinate reference systems).
 *
 * The service reads the store through geodata/features.h: the layers there
 * are the collections here, and their fields the properties and
 * queryables, so what may leave the server is decided in one place.
 */
#ifndef MAPD_OGC_H
#define MAPD_OGC_H

#include <stddef.h>

#include "geodata/features.h"
#include "http.h"

/* ---- coordinate reference systems (ogc_crs.c) ---- */

typedef enum mapd_ogc_crs {
    MAPD_CRS_CRS84,      /* lon, lat (the default, RFC 7946) */
    MAPD_CRS_EPSG4326,   /* lat, lon: EPSG's axis order */
    MAPD_CRS_EPSG2154,   /* RGF93 / Lambert-93, easting, northing in metres */
    MAPD_CRS_COUNT
} mapd_ogc_crs;

#define MAPD_CRS84_URI "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

/* The URI of crs. */
const char *mapd_ogc_crs_uri(mapd_ogc_crs crs);

/* The CRS named by text (its URI, or a short form such as EPSG:2154); 0
 * with *out, or -1 when it is not one this service offers. */
int mapd_ogc_crs_parse(const char *text, mapd_ogc_crs *out);

/* Moves (lon, lat) in CRS84 into crs, in that CRS's axis order, in place: 0,
 * or -1 when PROJ cannot (the calling thread's PROJ context, made on first
 * use and freed when the thread ends). */
int mapd_ogc_crs_from84(mapd_ogc_crs crs, double *x, double *y);

/* A box given in crs (its axis order; west, south, east, north in v when
 * CRS84) turned into CRS84 west, south, east, north, covering it whole:
 * 0, or -1 with *why saying what is wrong (out of the CRS's range,
 * inverted). */
int mapd_ogc_bbox_to84(mapd_ogc_crs crs, const double in[4], double out[4], const char **why);

/* ---- shared by the handlers (ogc.c) ---- */

/* The absolute URL of this service's root ("http://host:port/ogc"):
 * mapd_base_url (http.h) and "/ogc", into out. */
#define MAPD_OGC_BASE_MAX 320
void mapd_ogc_base(mapd_ctx *ctx, char out[MAPD_OGC_BASE_MAX]);

/* 0 when every query argument is in allowed (NULL-terminated), given
 * once, and f (always allowed) names JSON; else -1 after a 400 naming the
 * argument. */
int mapd_ogc_args_or_reply(mapd_ctx *ctx, const char *const *allowed);

/* The collection layer for the reader of ctx: 0 with *layer and *audience
 * (the request's: mapd_audience_or_reply); -1 after a 404 (unknown), 401
 * (a members-only collection for an anonymous reader) or 503. */
int mapd_ogc_layer_or_reply(mapd_ctx *ctx, const char *id, const geodata_layer **layer,
                            const geodata_audience **audience);

/* Queues a JSON document with the OGC headers: the type given, an ETag
 * (strong: a hash of the bytes) with 304 on If-None-Match, Cache-Control
 * public or private, and Content-Crs when crs_uri is not NULL. Consumes doc. */
enum MHD_Result mapd_ogc_respond(mapd_ctx *ctx, json_t *doc, const char *type, int private_,
                                 const char *crs_uri);

/* How every document of the service is serialised. */
#define MAPD_OGC_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

/* doc (consumed) serialised with MAPD_OGC_JSON_FLAGS, malloc'd, its length
 * in *len; NULL when out of memory. */
char *mapd_ogc_dump(json_t *doc, size_t *len);

/* mapd_ogc_respond for a document already serialised: body (malloc'd, len
 * bytes) is taken, and freed once sent. */
enum MHD_Result mapd_ogc_respond_text(mapd_ctx *ctx, char *body, size_t len, const char *type,
                                      int private_, const char *crs_uri);

/* The strong ETag of a body: a quoted XXH3 hash. */
#define MAPD_OGC_ETAG_LEN 20
void mapd_ogc_etag(const char *body, size_t len, char etag[MAPD_OGC_ETAG_LEN]);

/* Queues body (len bytes) as mapd_ogc_respond does, without copying it:
 * release(cls) is called once libmicrohttpd is done with it (or at once
 * for a 304 or a failure). */
enum MHD_Result mapd_ogc_send(mapd_ctx *ctx, const char *body, size_t len, const char *etag,
                              const char *type, int private_, const char *crs_uri,
                              void (*release)(void *cls), void *cls);

/* The handlers. */
enum MHD_Result mapd_ogc_items(mapd_ctx *ctx, const geodata_layer *layer,
                               const geodata_audience *audience, const char *fid);

#endif
