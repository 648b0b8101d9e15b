/*
 * geodata/read/export.c — a layer of features.h written to a file through
 * GDAL/OGR (export.h says what and why).
 *
 * Design: the rows come from geodata_features_query, the one query of the
 * layers, with export set; only the fields marked GEODATA_FIELD_EXPORT
 * become columns. One table below says, per format, the GDAL driver and how
 * the geometry goes in:
 *   - GIS formats (GPKG, GeoJSON, FlatGeobuf, Shapefile, KML) carry it as
 *     geometry, in the CRS asked (KML: EPSG:4326 only);
 *   - CSV carries points as two number columns (lon/lat in EPSG:4326, x/y
 *     in EPSG:2154) and polygons as WKT (GDAL's GEOMETRY=AS_WKT);
 *   - XLSX, which has no geometry, carries the two number columns; for
 *     polygons they hold a point inside the polygon (its label point).
 * Coordinates are transformed by one OGRCoordinateTransformation with both
 * CRSs in OAMS_TRADITIONAL_GIS_ORDER, so lon/lat stays lon/lat. Field types
 * the driver cannot store go in a form it can, without loss (ogr_type).
 *
 * KML is written by GDAL's KML driver, not LIBKML: LIBKML's writer is
 * quadratic in the features of a layer (measured here with ogr2ogr: 0.35 s
 * for 500 needs, 1.1 s for 1,000, 4.4 s for 2,000), the KML driver linear
 * (0.13 s for 2,000). The price: the KML driver has no place for a
 * document description, so a KML file does not state its anonymisation
 * itself (docs/api.md does).
 *
 * The file is written under a temporary name next to the destination,
 * keeping the format's extension (GDAL's CSV, LIBKML and FlatGeobuf drivers
 * would make a directory of a name without it), and renamed onto the
 * destination once closed. A Shapefile is written in a temporary directory,
 * then its parts and a README.txt are copied into a zip through GDAL's
 * /vsizip/ writer, one member after the other. Every failure path removes
 * what was written.
 *
 * Rows are written in transactions of GEODATA_EXPORT_BATCH features when the
 * driver has transactions (GeoPackage): one commit per batch instead of one
 * per row. The count and the rows are read in one read transaction, so the
 * progress total is the number written.
 *
 * GDAL's messages go to a quiet handler pushed for this thread only (the
 * library never prints); the last one becomes the store's message.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "geodata/dates.h"
#include "geodata/export.h"
#include "geodata/features.h"
#include "geodata/neighbourhoods.h"
#include "internal.h"

/* Said in every file whose format has room for it, and in README.txt. */
#define ANONYMISED \
    "Anonymised export of Entraide, a neighbourhood mutual-aid service. It holds no person's " \
    "name, email, address or home location, and no free text: needs and makers are located " \
    "at the centre of the ~200 m cell holding the member's home, never at the home itself."

enum geom_mode {
    GEOM_NATIVE,    /* the driver's own geometry */
    GEOM_COLUMNS,   /* number columns for points; CSV: WKT for polygons */
};

typedef struct format_row {
    geodata_export_format pub;
    enum geom_mode mode;
    const char *const *dsco;        /* dataset creation options */
    const char *const *lco;         /* layer creation options */
} format_row;

static const char *const gpkg_lco[] = { "GEOMETRY_NAME=geom", "FID=fid", NULL };
static const char *const csv_lco[] = { "WRITE_BOM=YES", NULL };
static const char *const shp_lco[] = { "ENCODING=UTF-8", NULL };

static const format_row formats[] = {
    { { "gpkg", "GPKG", "gpkg", "application/geopackage+sqlite3", "GeoPackage", 0 },
      GEOM_NATIVE, NULL, gpkg_lco },
    { { "geojson", "GeoJSON", "geojson", "application/geo+json", "GeoJSON", 0 },
      GEOM_NATIVE, NULL, NULL },
    { { "csv", "CSV", "csv", "text/csv; charset=utf-8", "CSV", 0 }, GEOM_COLUMNS, NULL, csv_lco },
    { { "shp", "ESRI Shapefile", "shp.zip", "application/zip", "Shapefile (zipped)", 0 },
      GEOM_NATIVE, NULL, shp_lco },
    { { "fgb", "FlatGeobuf", "fgb", "application/vnd.flatgeobuf", "FlatGeobuf", 0 },
      GEOM_NATIVE, NULL, NULL },
    { { "kml", "KML", "kml", "application/vnd.google-earth.kml+xml", "KML", 1 },
      GEOM_NATIVE, NULL, NULL },
    { { "xlsx", "XLSX", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel workbook", 0 }, GEOM_COLUMNS, NULL, NULL },
};

#define N_FORMATS (sizeof formats / sizeof formats[0])

static const format_row *format_row_find(const char *name)
{
    for (size_t i = 0; name && i < N_FORMATS; i++)
        if (strcmp(formats[i].pub.name, name) == 0)
            return &formats[i];
    return NULL;
}

const geodata_export_format *geodata_export_format_find(const char *name)
{
    const format_row *f = format_row_find(name);
    return f ? &f->pub : NULL;
}

/* ---- times ---- */

int geodata_export_parse_time(geodata_store *store, const char *s, int end_of_day, int64_t *out)
{
    if (s && geodata_time_parse(s, strlen(s), end_of_day, out))
        return GEODATA_OK;
    return store ? geodata_fail(store, GEODATA_EINVAL,
                                "'%.40s' is not a date (YYYY-MM-DD) or an RFC 3339 time", s ? s : "")
                 : GEODATA_EINVAL;
}

int geodata_export_parse_crs(const char *s)
{
    if (!s || strcasecmp(s, "EPSG:4326") == 0)
        return 4326;
    return strcasecmp(s, "EPSG:2154") == 0 ? 2154 : 0;
}

/* ---- checks ---- */

static int epsg_of(const geodata_export_request *req)
{
    return req->epsg ? req->epsg : 4326;
}

/* A filter value for field name of layer: the field must be filterable and
 * the value one it takes, when the definition lists them. */
static int check_filter(geodata_store *store, const geodata_layer *layer, const char *name,
                        const char *value)
{
    if (!value || !*value)
        return GEODATA_OK;
    int i = geodata_layer_field(layer, name);
    if (i < 0 || !(layer->fields[i].flags & GEODATA_FIELD_FILTER))
        return geodata_fail(store, GEODATA_EINVAL, "the %s layer has no %s to filter on", layer->id,
                            name);
    const char *const *v = layer->fields[i].values;
    if (!v)
        return GEODATA_OK;
    for (; *v; v++)
        if (strcmp(*v, value) == 0)
            return GEODATA_OK;
    return geodata_fail(store, GEODATA_EINVAL, "unknown %s '%.60s' for the %s layer", name, value,
                        layer->id);
}

int geodata_export_check(geodata_store *store, const geodata_export_request *req)
{
    const geodata_layer *layer = geodata_layer_find(req->layer);
    if (!layer)
        return geodata_fail(store, GEODATA_EINVAL, "unknown layer '%.40s' (one of %s)",
                            req->layer ? req->layer : "", GEODATA_EXPORT_LAYERS);
    const format_row *f = format_row_find(req->format);
    if (!f)
        return geodata_fail(store, GEODATA_EINVAL, "unknown format '%.40s' (one of %s)",
                            req->format ? req->format : "", GEODATA_EXPORT_FORMATS);
    int epsg = epsg_of(req);
    if (epsg != 4326 && epsg != 2154)
        return geodata_fail(store, GEODATA_EINVAL, "unknown CRS EPSG:%d (EPSG:4326 or EPSG:2154)", epsg);
    if (f->pub.only_4326 && epsg != 4326)
        return geodata_fail(store, GEODATA_EINVAL, "%s is always in EPSG:4326", f->pub.label);
    int rc = check_filter(store, layer, "category", req->category);
    if (!rc)
        rc = check_filter(store, layer, "status", req->status);
    if (!rc && req->neighbourhood && *req->neighbourhood) {
        rc = check_filter(store, layer, "neighbourhood", req->neighbourhood);
        double lon, lat;
        int found = rc ? rc : geodata_neighbourhood_label(store, req->neighbourhood, &lon, &lat);
        if (found == GEODATA_ENOTFOUND)
            rc = geodata_fail(store, GEODATA_EINVAL, "unknown neighbourhood '%.60s'", req->neighbourhood);
        else
            rc = found;
    }
    int bounded = req->since != GEODATA_TIME_OPEN_START || req->until != GEODATA_TIME_OPEN_END;
    if (!rc && bounded && !layer->time_field)
        rc = geodata_fail(store, GEODATA_EINVAL, "the %s layer has no creation date to filter on",
                          layer->id);
    if (!rc && req->since > req->until)
        rc = geodata_fail(store, GEODATA_EINVAL, "since must not be after until");
    return rc;
}

/* The query of req: every row a staff member sees, filtered, with the
 * fields that may not be exported withheld. */
static void query_of(const geodata_export_request *req, const geodata_layer *layer,
                     geodata_feature_query *q)
{
    static const geodata_audience staff = GEODATA_AUDIENCE_ALL;
    geodata_feature_query_init(q, layer, &staff, req->now);
    q->neighbourhood = req->neighbourhood && *req->neighbourhood ? req->neighbourhood : NULL;
    q->category = req->category && *req->category ? req->category : NULL;
    q->status = req->status && *req->status ? req->status : NULL;
    q->since = req->since;
    q->until = req->until;
    q->export = 1;
}

static int count_only(void *arg, const geodata_feature *f)
{
    (void)arg;
    (void)f;
    return 1;    /* the count is all that is wanted */
}

/* The rows matching q, whatever q's paging. */
static int count_rows(geodata_store *store, geodata_feature_query q, int64_t *rows)
{
    *rows = 0;
    q.offset = 0;
    q.limit = 1;
    int rc = geodata_features_query(store, &q, count_only, NULL, rows);
    return rc == 1 ? GEODATA_OK : rc;
}

int geodata_export_count(geodata_store *store, const geodata_export_request *req, int64_t *rows)
{
    *rows = 0;
    int rc = geodata_export_check(store, req);
    if (rc)
        return rc;
    geodata_feature_query q;
    query_of(req, geodata_layer_find(req->layer), &q);
    return count_rows(store, q, rows);
}

int geodata_export_filename(const geodata_export_request *req, char *out, size_t n)
{
    const geodata_export_format *f = geodata_export_format_find(req->format);
    if (!f || !geodata_layer_find(req->layer))
        return GEODATA_EINVAL;
    time_t t = (time_t)req->now;
    struct tm tm;
    gmtime_r(&t, &tm);
    int len = snprintf(out, n, "entraide-%s-%04d-%02d-%02d.%s", req->layer, tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, f->extension);
    return len > 0 && (size_t)len < n ? GEODATA_OK : GEODATA_EINVAL;
}

/* ---- writing ---- */

typedef struct writer {
    geodata_store *store;
    const geodata_export_request *req;
    const geodata_layer *layer;
    const format_row *fmt;
    GDALDatasetH ds;
    OGRLayerH ol;
    OGRFeatureDefnH defn;
    OGRCoordinateTransformationH ct;   /* EPSG:4326 -> the CRS asked; NULL when 4326 */
    int field_of[64];                  /* layer field -> OGR field, -1 when not exported */
    int id_field;                      /* OGR field of the feature's id, -1 when a field is it */
    int x_field, y_field;              /* GEOM_COLUMNS: the number columns, else -1 */
    int datetime_text;                 /* the driver has no DateTime: ISO 8601 text */
    int int64_text;                    /* the driver has no Integer64: decimal text */
    int bool_subtype;                  /* the driver knows the Boolean subtype */
    int in_transaction;
    int64_t total, done;
    int rc;                            /* the first failure, or a cancellation */
} writer;

/* The store's message from GDAL's last error, with what was being done. */
static int gdal_fail(geodata_store *store, const char *what)
{
    const char *msg = CPLGetLastErrorMsg();
    return geodata_fail(store, GEODATA_EIO, "%s: %s", what, msg && *msg ? msg : "GDAL failed");
}

/* Whether the driver lists option (e.g. "DESCRIPTION") in its creation
 * option list of kind (GDAL_DMD_CREATIONOPTIONLIST or _DS_LAYER_...). */
static int driver_has_option(GDALDriverH drv, const char *kind, const char *option)
{
    const char *list = GDALGetMetadataItem(drv, kind, NULL);
    if (!list)
        return 0;
    char needle[64];
    snprintf(needle, sizeof needle, "name='%s'", option);
    return strstr(list, needle) != NULL;
}

/* Whether the space-separated list the driver gives as item holds word. */
static int driver_lists(GDALDriverH drv, const char *item, const char *word)
{
    char **words = CSLTokenizeString(GDALGetMetadataItem(drv, item, NULL));
    int found = CSLFindString(words, word) >= 0;
    CSLDestroy(words);
    return found;
}

/* The OGR type of a field of type t, in what the driver can store without
 * loss: times it cannot store go as ISO 8601 text, 64-bit integers as
 * decimal text (GDAL's own fallback, Real, would round above 2^53). */
static OGRFieldType ogr_type(const writer *w, geodata_field_type t, OGRFieldSubType *sub)
{
    *sub = OFSTNone;
    switch (t) {
    case GEODATA_FIELD_INT: return w->int64_text ? OFTString : OFTInteger64;
    case GEODATA_FIELD_REAL: return OFTReal;
    case GEODATA_FIELD_BOOL:
        *sub = w->bool_subtype ? OFSTBoolean : OFSTNone;
        return OFTInteger;
    case GEODATA_FIELD_DATETIME: return w->datetime_text ? OFTString : OFTDateTime;
    case GEODATA_FIELD_TEXT:
    default: return OFTString;
    }
}

static int add_field(writer *w, const char *name, OGRFieldType type, OGRFieldSubType sub, int width)
{
    OGRFieldDefnH fd = OGR_Fld_Create(name, type);
    if (sub != OFSTNone)
        OGR_Fld_SetSubType(fd, sub);
    if (width)
        OGR_Fld_SetWidth(fd, width);
    OGRErr e = OGR_L_CreateField(w->ol, fd, TRUE);
    OGR_Fld_Destroy(fd);
    if (e != OGRERR_NONE)
        return -1;
    return OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(w->ol)) - 1;
}

/* The dataset and its one layer, with its fields, at tmp. */
static int open_output(writer *w, const char *tmp, OGRSpatialReferenceH srs)
{
    GDALDriverH drv = GDALGetDriverByName(w->fmt->pub.driver);
    if (!drv)
        return geodata_fail(w->store, GEODATA_EIO, "GDAL has no %s driver here", w->fmt->pub.driver);
    char **dsco = NULL, **lco = NULL;
    for (const char *const *o = w->fmt->dsco; o && *o; o++)
        dsco = CSLAddString(dsco, *o);
    for (const char *const *o = w->fmt->lco; o && *o; o++)
        lco = CSLAddString(lco, *o);
    if (driver_has_option(drv, GDAL_DS_LAYER_CREATIONOPTIONLIST, "DESCRIPTION"))
        lco = CSLSetNameValue(lco, "DESCRIPTION", ANONYMISED);
    if (driver_has_option(drv, GDAL_DMD_CREATIONOPTIONLIST, "DESCRIPTION"))
        dsco = CSLSetNameValue(dsco, "DESCRIPTION", ANONYMISED);
    if (driver_has_option(drv, GDAL_DMD_CREATIONOPTIONLIST, "NAME"))
        dsco = CSLSetNameValue(dsco, "NAME", "Entraide");
    if (strcmp(w->fmt->pub.name, "geojson") == 0 && epsg_of(w->req) == 4326)
        lco = CSLSetNameValue(lco, "RFC7946", "YES");
    OGRwkbGeometryType gt = w->layer->geometry == GEODATA_GEOMETRY_POINT ? wkbPoint : wkbMultiPolygon;
    if (w->fmt->mode == GEOM_COLUMNS) {
        if (strcmp(w->fmt->pub.name, "csv") == 0 && gt == wkbMultiPolygon)
            lco = CSLSetNameValue(lco, "GEOMETRY", "AS_WKT");
        else
            gt = wkbNone;
    }
    w->ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, dsco);
    if (w->ds)
        w->ol = GDALDatasetCreateLayer(w->ds, w->layer->id, gt == wkbNone ? NULL : srs, gt, lco);
    CSLDestroy(dsco);
    CSLDestroy(lco);
    if (!w->ds || !w->ol)
        return gdal_fail(w->store, "creating the file");
    /* Where the format keeps metadata (GeoPackage: gpkg_metadata), the
     * statement goes there too. */
    GDALSetMetadataItem(w->ds, "ANONYMISATION", ANONYMISED, NULL);
    GDALSetMetadataItem(w->ol, "ANONYMISATION", ANONYMISED, NULL);
    CPLErrorReset();

    w->datetime_text = !driver_lists(drv, GDAL_DMD_CREATIONFIELDDATATYPES, "DateTime");
    w->int64_text = !driver_lists(drv, GDAL_DMD_CREATIONFIELDDATATYPES, "Integer64");
    w->bool_subtype = driver_lists(drv, GDAL_DMD_CREATIONFIELDDATASUBTYPES, "Boolean");
    w->id_field = -1;
    if (geodata_layer_field(w->layer, "id") < 0) {
        /* The feature's id: numeric but for neighbourhoods (their source's code). */
        int numeric = strcmp(w->layer->id, "neighbourhoods") != 0;
        OGRFieldSubType sub;
        if ((w->id_field = add_field(w, "id", numeric ? ogr_type(w, GEODATA_FIELD_INT, &sub) : OFTString,
                                     OFSTNone, 0)) < 0)
            return gdal_fail(w->store, "adding the field id");
    }
    if (w->layer->n_fields > sizeof w->field_of / sizeof w->field_of[0])
        return geodata_fail(w->store, GEODATA_EINVAL, "the %s layer has too many fields", w->layer->id);
    for (size_t i = 0; i < w->layer->n_fields; i++) {
        const geodata_field *fd = &w->layer->fields[i];
        w->field_of[i] = -1;
        if (!(fd->flags & GEODATA_FIELD_EXPORT))
            continue;
        OGRFieldSubType sub;
        OGRFieldType t = ogr_type(w, fd->type, &sub);
        if ((w->field_of[i] = add_field(w, fd->name, t, sub, 0)) < 0)
            return gdal_fail(w->store, "adding a field");
    }
    w->x_field = w->y_field = -1;
    if (w->fmt->mode == GEOM_COLUMNS && gt == wkbNone) {
        int lonlat = epsg_of(w->req) == 4326;
        if ((w->x_field = add_field(w, lonlat ? "lon" : "x", OFTReal, OFSTNone, 0)) < 0
            || (w->y_field = add_field(w, lonlat ? "lat" : "y", OFTReal, OFSTNone, 0)) < 0)
            return gdal_fail(w->store, "adding the coordinate fields");
    }
    w->defn = OGR_L_GetLayerDefn(w->ol);
    return GEODATA_OK;
}

/* t as "2026-12-07T10:30:00Z" into buf (of at least 21 bytes). */
static const char *iso_time(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static void set_datetime(writer *w, OGRFeatureH f, int field, int64_t t)
{
    if (w->datetime_text) {
        char buf[32];
        OGR_F_SetFieldString(f, field, iso_time(t, buf, sizeof buf));
    } else {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        OGR_F_SetFieldDateTimeEx(f, field, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                 tm.tm_min, (float)tm.tm_sec, 100 /* UTC */);
    }
}

/* The geometry of feature ft in the CRS asked; NULL with w->rc set. */
static OGRGeometryH geometry_of(writer *w, const geodata_feature *ft)
{
    OGRGeometryH g = NULL;
    if (w->layer->geometry == GEODATA_GEOMETRY_POINT) {
        g = OGR_G_CreateGeometry(wkbPoint);
        if (g)
            OGR_G_SetPoint_2D(g, 0, ft->lon, ft->lat);
    } else if (OGR_G_CreateFromWkb(ft->wkb, NULL, &g, (int)ft->wkb_len) != OGRERR_NONE) {
        g = NULL;
    } else if (OGR_G_GetGeometryType(g) == wkbPolygon) {
        g = OGR_G_ForceToMultiPolygon(g);
    }
    if (!g) {
        w->rc = geodata_fail(w->store, GEODATA_EGEOM, "feature %s has no readable geometry", ft->id);
        return NULL;
    }
    if (w->ct && OGR_G_Transform(g, w->ct) != OGRERR_NONE) {
        OGR_G_DestroyGeometry(g);
        w->rc = geodata_fail(w->store, GEODATA_EGEOM, "feature %s cannot be transformed to EPSG:%d",
                             ft->id, epsg_of(w->req));
        return NULL;
    }
    return g;
}

static int commit_batch(writer *w, int reopen)
{
    if (!w->in_transaction)
        return GEODATA_OK;
    w->in_transaction = 0;
    if (GDALDatasetCommitTransaction(w->ds) != OGRERR_NONE)
        return w->rc = gdal_fail(w->store, "writing the file");
    if (reopen)
        w->in_transaction = GDALDatasetStartTransaction(w->ds, FALSE) == OGRERR_NONE;
    return GEODATA_OK;
}

static int write_feature(void *arg, const geodata_feature *ft)
{
    writer *w = arg;
    OGRFeatureH f = OGR_F_Create(w->defn);
    if (!f)
        return w->rc = geodata_fail(w->store, GEODATA_ENOMEM, "out of memory");
    if (w->id_field >= 0) {
        if (OGR_Fld_GetType(OGR_FD_GetFieldDefn(w->defn, w->id_field)) == OFTInteger64)
            OGR_F_SetFieldInteger64(f, w->id_field, strtoll(ft->id, NULL, 10));
        else
            OGR_F_SetFieldString(f, w->id_field, ft->id);
    }
    for (size_t i = 0; i < w->layer->n_fields; i++) {
        int of = w->field_of[i];
        const geodata_value *v = &ft->values[i];
        if (of < 0)
            continue;
        if (v->null) {
            OGR_F_SetFieldNull(f, of);
            continue;
        }
        switch (w->layer->fields[i].type) {
        case GEODATA_FIELD_INT:
            if (w->int64_text) {
                char num[24];
                snprintf(num, sizeof num, "%lld", (long long)v->i);
                OGR_F_SetFieldString(f, of, num);
            } else {
                OGR_F_SetFieldInteger64(f, of, v->i);
            }
            break;
        case GEODATA_FIELD_BOOL: OGR_F_SetFieldInteger(f, of, v->i != 0); break;
        case GEODATA_FIELD_REAL: OGR_F_SetFieldDouble(f, of, v->r); break;
        case GEODATA_FIELD_DATETIME: set_datetime(w, f, of, v->i); break;
        case GEODATA_FIELD_TEXT: OGR_F_SetFieldString(f, of, v->s ? v->s : ""); break;
        }
    }
    OGRGeometryH g = geometry_of(w, ft);
    if (!g) {
        OGR_F_Destroy(f);
        return w->rc;
    }
    if (w->x_field >= 0) {
        OGRGeometryH p = OGR_G_GetGeometryType(g) == wkbPoint ? NULL : OGR_G_PointOnSurface(g);
        OGRGeometryH pt = p ? p : g;
        OGR_F_SetFieldDouble(f, w->x_field, OGR_G_GetX(pt, 0));
        OGR_F_SetFieldDouble(f, w->y_field, OGR_G_GetY(pt, 0));
        if (p)
            OGR_G_DestroyGeometry(p);
        OGR_G_DestroyGeometry(g);
    } else {
        OGR_F_SetGeometryDirectly(f, g);
    }
    OGRErr e = OGR_L_CreateFeature(w->ol, f);
    OGR_F_Destroy(f);
    if (e != OGRERR_NONE)
        return w->rc = gdal_fail(w->store, "writing a feature");
    w->done++;
    if (w->done % GEODATA_EXPORT_BATCH == 0 && commit_batch(w, 1))
        return w->rc;
    if (w->req->progress && (w->done % 1000 == 0 || w->done == w->total)) {
        int stop = w->req->progress(w->req->progress_arg, (uint64_t)w->done, (uint64_t)w->total);
        if (stop)
            return w->rc = stop;
    }
    return 0;
}

/* Removes dir and the files directly in it. */
static void remove_dir(const char *dir)
{
    char **names = VSIReadDir(dir);
    for (char **n = names; n && *n; n++) {
        if (strcmp(*n, ".") == 0 || strcmp(*n, "..") == 0)
            continue;
        VSIUnlink(CPLFormFilename(dir, *n, NULL));
    }
    CSLDestroy(names);
    VSIRmdir(dir);
}

/* Copies file src into the zip at zip (created by the first call) as name. */
static int zip_add(geodata_store *store, const char *zip, const char *name, const char *src,
                   const char *text)
{
    char *member = geodata_format("/vsizip/%s/%s", zip, name);
    if (!member)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    VSILFILE *out = VSIFOpenL(member, "wb");
    free(member);
    VSILFILE *in = src ? VSIFOpenL(src, "rb") : NULL;
    int ok = out && (in || !src);
    if (ok && text)
        ok = VSIFWriteL(text, 1, strlen(text), out) == strlen(text);
    char buf[65536];
    size_t n;
    while (ok && in && (n = VSIFReadL(buf, 1, sizeof buf, in)) > 0)
        ok = VSIFWriteL(buf, 1, n, out) == n;
    if (in)
        VSIFCloseL(in);
    if (out && VSIFCloseL(out) != 0)
        ok = 0;
    return ok ? GEODATA_OK : gdal_fail(store, "writing the zip");
}

/* README.txt of a zipped Shapefile: what it holds, and the statement. */
static char *readme_text(const geodata_export_request *req, int64_t rows)
{
    char since[32] = "", until[32] = "";
    if (req->since != GEODATA_TIME_OPEN_START)
        iso_time(req->since, since, sizeof since);
    if (req->until != GEODATA_TIME_OPEN_END)
        iso_time(req->until, until, sizeof until);
    const char *nb = req->neighbourhood ? req->neighbourhood : "", *cat = req->category ? req->category : "",
               *status = req->status ? req->status : "";
    return geodata_format(
        "Entraide export: layer %s, %lld features, ESRI Shapefile in EPSG:%d, text in UTF-8 (.cpg).\r\n"
        "Filters: neighbourhood %s, category %s, status %s, created since %s, until %s.\r\n\r\n"
        "%s\r\n\r\n"
        "Shapefile field names are cut to 10 characters; times are ISO 8601 text in UTC.\r\n",
        req->layer, (long long)rows, epsg_of(req), *nb ? nb : "any", *cat ? cat : "any",
        *status ? status : "any", *since ? since : "any time", *until ? until : "any time", ANONYMISED);
}

/* The Shapefile written in dir as a zip at zip, with README.txt. */
static int zip_shapefile(geodata_store *store, const geodata_export_request *req, int64_t rows,
                         const char *dir, const char *zip)
{
    static const char *const parts[] = { "shp", "shx", "dbf", "prj", "cpg" };
    char *readme = readme_text(req, rows);
    if (!readme)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    int rc = zip_add(store, zip, "README.txt", NULL, readme);
    free(readme);
    for (size_t i = 0; !rc && i < sizeof parts / sizeof parts[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", req->layer, parts[i]);
        const char *src = CPLFormFilename(dir, name, NULL);
        struct stat sb;
        if (stat(src, &sb) != 0)
            return geodata_fail(store, GEODATA_EIO, "the Shapefile lacks its .%s", parts[i]);
        char *copy = CPLStrdup(src);
        rc = zip_add(store, zip, name, copy, NULL);
        CPLFree(copy);
    }
    return rc;
}

/* The audit line of a finished export: its detail is a JSON object built by
 * the engine from bound values: SQLite's json_object(), PostgreSQL's
 * json_build_object() (the same members in the same order; PostgreSQL
 * writes " : " and ", " between them). */
static int audit_export(geodata_store *store, const geodata_export_request *req, int64_t rows)
{
    sql_stmt *st = geodata_prepare(store, GEODATA_DIALECT(store,
        "SELECT json_object('format', ?1, 'crs', ?2, 'rows', ?3, 'filters', json_object("
        "'neighbourhood', ?4, 'category', ?5, 'status', ?6, "
        "'since', CASE WHEN ?7 IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%SZ', ?7, 'unixepoch') END, "
        "'until', CASE WHEN ?8 IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%SZ', ?8, 'unixepoch') END))",
        "SELECT CAST(json_build_object('format', CAST(?1 AS TEXT), 'crs', CAST(?2 AS TEXT), "
        "'rows', ?3, 'filters', json_build_object("
        "'neighbourhood', CAST(?4 AS TEXT), 'category', CAST(?5 AS TEXT), 'status', CAST(?6 AS TEXT), "
        "'since', to_char(to_timestamp(CAST(?7 AS bigint)) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
        "'until', to_char(to_timestamp(CAST(?8 AS bigint)) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))) AS TEXT)"));
    if (!st)
        return GEODATA_EDB;
    char crs[16];
    snprintf(crs, sizeof crs, "EPSG:%d", epsg_of(req));
    sql_bind_text(st, 1, req->format, -1, SQL_STATIC);
    sql_bind_text(st, 2, crs, -1, SQL_STATIC);
    sql_bind_int64(st, 3, rows);
    if (req->neighbourhood && *req->neighbourhood)
        sql_bind_text(st, 4, req->neighbourhood, -1, SQL_STATIC);
    if (req->category && *req->category)
        sql_bind_text(st, 5, req->category, -1, SQL_STATIC);
    if (req->status && *req->status)
        sql_bind_text(st, 6, req->status, -1, SQL_STATIC);
    if (req->since != GEODATA_TIME_OPEN_START)
        sql_bind_int64(st, 7, req->since);
    if (req->until != GEODATA_TIME_OPEN_END)
        sql_bind_int64(st, 8, req->until);
    int rc = sql_step(st) == SQL_ROW
                 ? geodata_audit(store, req->actor_id, "export", req->layer,
                                 (const char *)sql_column_text(st, 0))
                 : geodata_fail_sql(store, "describing the export");
    sql_finalize(st);
    return rc;
}

/* A fresh temporary name beside path, ending in .ext:
 * "DIR/.entraide-export.PID-N.ext". The destination's own name is left out:
 * a dot-separated ".zip" or ".xlsx" inside it would be taken for an archive
 * by GDAL's /vsizip/, which the XLSX driver writes through. */
static char *temp_name(const char *path, const char *ext)
{
    static unsigned counter;
    unsigned c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
    char *dir = CPLStrdup(CPLGetPath(path));
    char *s = geodata_format("%s/.entraide-export.%ld-%u.%s", *dir ? dir : ".", (long)getpid(), c, ext);
    CPLFree(dir);
    return s;
}

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

static void gdal_setup(void)
{
    GDALAllRegister();
}

int geodata_export_write(geodata_store *store, const geodata_export_request *req, const char *path,
                         geodata_export_result *res)
{
    res->rows = res->bytes = 0;
    pthread_once(&gdal_once, gdal_setup);
    int rc = geodata_export_check(store, req);
    if (rc)
        return rc;
    writer w = { .store = store, .req = req, .layer = geodata_layer_find(req->layer),
                 .fmt = format_row_find(req->format) };
    int shp = strcmp(w.fmt->pub.name, "shp") == 0;
    char *tmp = temp_name(path, shp ? "zip" : w.fmt->pub.extension);
    char *shp_dir = shp ? temp_name(path, "d") : NULL;
    if (!tmp || (shp && !shp_dir)) {
        free(tmp);
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    if (shp && mkdir(shp_dir, 0700) != 0) {
        rc = geodata_fail(store, GEODATA_EIO, "cannot write in the directory of '%s': %s", path,
                          strerror(errno));
        free(shp_dir);
        free(tmp);
        return rc;
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    OGRSpatialReferenceH src = OSRNewSpatialReference(NULL), dst = OSRNewSpatialReference(NULL);
    if (!src || !dst || OSRImportFromEPSG(src, 4326) != OGRERR_NONE
        || OSRImportFromEPSG(dst, epsg_of(req)) != OGRERR_NONE)
        rc = gdal_fail(store, "setting up the CRS (is proj-data installed?)");
    if (!rc) {
        OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
        if (epsg_of(req) != 4326 && !(w.ct = OCTNewCoordinateTransformation(src, dst)))
            rc = gdal_fail(store, "setting up the transformation to the CRS asked");
    }
    if (!rc)
        rc = open_output(&w, shp ? shp_dir : tmp, dst);

    /* One read transaction: the count and the rows see the same data. */
    int reading = !rc && !(rc = geodata_exec(store, "BEGIN", "starting to read"));
    geodata_feature_query q;
    if (!rc) {
        query_of(req, w.layer, &q);
        rc = count_rows(store, q, &w.total);
    }
    if (!rc) {
        if (req->progress && (rc = req->progress(req->progress_arg, 0, (uint64_t)w.total)))
            w.rc = rc;
    }
    if (!rc) {
        w.in_transaction = GDALDatasetStartTransaction(w.ds, FALSE) == OGRERR_NONE;
        rc = geodata_features_query(store, &q, write_feature, &w, NULL);
        if (w.rc)
            rc = w.rc;   /* the writer's own failure or the cancellation */
        if (!rc)
            rc = commit_batch(&w, 0);
        else if (w.in_transaction)
            GDALDatasetRollbackTransaction(w.ds);
        if (!rc && req->progress && w.total == 0)
            rc = req->progress(req->progress_arg, 0, 0);
    }
    if (reading)
        geodata_exec(store, "COMMIT", "ending the read");
    if (w.ds) {
        CPLErrorReset();
        GDALClose(w.ds);
        if (!rc && CPLGetLastErrorType() >= CE_Failure)
            rc = gdal_fail(store, "finishing the file");
    }
    if (!rc && shp)
        rc = zip_shapefile(store, req, w.done, shp_dir, tmp);
    if (!rc && rename(tmp, path) != 0)
        rc = geodata_fail(store, GEODATA_EIO, "cannot write '%s': %s", path, strerror(errno));
    if (!rc) {
        struct stat sb;
        res->rows = w.done;
        res->bytes = stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
        if ((rc = audit_export(store, req, w.done)))
            unlink(path);   /* not audited: not delivered */
    }
    if (rc) {
        VSIUnlink(tmp);
        static const char *const sides[] = { "-journal", "-wal", "-shm", ".aux.xml" };
        for (size_t i = 0; !shp && i < sizeof sides / sizeof sides[0]; i++) {
            char *side = geodata_format("%s%s", tmp, sides[i]);   /* left by a driver that failed */
            if (side)
                VSIUnlink(side);
            free(side);
        }
        res->rows = res->bytes = 0;
    }
    if (shp)
        remove_dir(shp_dir);
    if (w.ct)
        OCTDestroyCoordinateTransformation(w.ct);
    OSRDestroySpatialReference(src);
    OSRDestroySpatialReference(dst);
    CPLPopErrorHandler();
    free(shp_dir);
    free(tmp);
    return rc;
}
