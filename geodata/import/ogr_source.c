/*
 * geodata/import/ogr_source.c — any OGR vector source read as EPSG:4326 GEOS
 * geometries. GDAL's messages are captured (never printed) and put into our
 * own one-line errors. Axis order is forced to the traditional lon/lat.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cpl_error.h>

#include "ogr_source.h"

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

static void gdal_setup(void)
{
    GDALAllRegister();
}

static const char *gdal_msg(void)
{
    const char *m = CPLGetLastErrorMsg();
    return (m && *m) ? m : "unknown GDAL error";
}

static int is_polygonal(OGRwkbGeometryType t)
{
    t = wkbFlatten(t);
    return t == wkbPolygon || t == wkbMultiPolygon || t == wkbCurvePolygon
        || t == wkbMultiSurface || t == wkbUnknown || t == wkbGeometryCollection;
}

static OGRLayerH pick_layer(GDALDatasetH ds, geodata_geom_want want)
{
    int n = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < n; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        OGRwkbGeometryType t = OGR_L_GetGeomType(l);
        if (t == wkbNone)
            continue;
        if (want == GEODATA_WANT_ANY || is_polygonal(t))
            return l;
    }
    return NULL;
}

static int setup_crs(geodata_store *store, const char *path, geodata_ogr *src)
{
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(src->layer);
    if (!srs) {
        src->no_crs = 1;
        return GEODATA_OK;
    }
    src->wgs84 = OSRNewSpatialReference(NULL);
    if (!src->wgs84 || OSRImportFromEPSG(src->wgs84, 4326) != OGRERR_NONE)
        return geodata_fail(store, GEODATA_EGEOM, "cannot set up EPSG:4326: %s", gdal_msg());
    OSRSetAxisMappingStrategy(src->wgs84, OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReferenceH from = OSRClone(srs);
    OSRSetAxisMappingStrategy(from, OAMS_TRADITIONAL_GIS_ORDER);
    if (!OSRIsSame(from, src->wgs84)) {
        src->ct = OCTNewCoordinateTransformation(from, src->wgs84);
        if (!src->ct) {
            OSRDestroySpatialReference(from);
            return geodata_fail(store, GEODATA_EGEOM, "%s: cannot transform its CRS to EPSG:4326: %s",
                                path, gdal_msg());
        }
    }
    OSRDestroySpatialReference(from);
    return GEODATA_OK;
}

int geodata_ogr_open(geodata_store *store, const char *path, geodata_geom_want want,
                     geodata_ogr *src)
{
    memset(src, 0, sizeof *src);
    pthread_once(&gdal_once, gdal_setup);
    struct stat st;
    if (stat(path, &st) != 0)
        return geodata_fail(store, GEODATA_EIO, "%s: no such file", path);
    if (S_ISREG(st.st_mode) && st.st_size == 0)
        return geodata_fail(store, GEODATA_EINVAL, "%s: the file is empty", path);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    src->ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    int rc = GEODATA_OK;
    if (!src->ds) {
        const char *m = CPLGetLastErrorMsg();
        rc = geodata_fail(store, GEODATA_EINVAL, "%s: not a readable vector data source (%s)",
                          path, (m && *m) ? m : "no GDAL driver recognises it");
    } else if (!(src->layer = pick_layer(src->ds, want))) {
        rc = geodata_fail(store, GEODATA_EINVAL, "%s: no layer with %s geometries", path,
                          want == GEODATA_WANT_POLYGONS ? "polygon" : "any");
    } else {
        rc = setup_crs(store, path, src);
        src->n_features = OGR_L_GetFeatureCount(src->layer, 0);
        OGR_L_ResetReading(src->layer);
    }
    CPLPopErrorHandler();
    if (rc)
        geodata_ogr_close(src);
    return rc;
}

void geodata_ogr_close(geodata_ogr *src)
{
    if (src->ct)
        OCTDestroyCoordinateTransformation(src->ct);
    if (src->wgs84)
        OSRDestroySpatialReference(src->wgs84);
    if (src->ds)
        GDALClose(src->ds);
    memset(src, 0, sizeof *src);
}

int geodata_ogr_field(const geodata_ogr *src, const char *const *names)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(src->layer);
    int n = OGR_FD_GetFieldCount(defn);
    for (const char *const *name = names; *name; name++)
        for (int i = 0; i < n; i++)
            if (strcasecmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)), *name) == 0)
                return i;
    return -1;
}

int geodata_ogr_field_prefix(const geodata_ogr *src, const char *const *prefixes)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(src->layer);
    int n = OGR_FD_GetFieldCount(defn);
    for (const char *const *prefix = prefixes; *prefix; prefix++)
        for (int i = 0; i < n; i++) {
            OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
            OGRFieldType t = OGR_Fld_GetType(fd);
            if ((t == OFTString || t == OFTInteger || t == OFTInteger64)
                && strncasecmp(OGR_Fld_GetNameRef(fd), *prefix, strlen(*prefix)) == 0)
                return i;
        }
    return -1;
}

char *geodata_ogr_field_list(const geodata_ogr *src)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(src->layer);
    int n = OGR_FD_GetFieldCount(defn);
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i))) + 2;
    char *s = malloc(len);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(s, ", ");
        strcat(s, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
    }
    return s;
}

const char *geodata_ogr_string(OGRFeatureH f, int field)
{
    if (field < 0 || !OGR_F_IsFieldSetAndNotNull(f, field))
        return NULL;
    const char *s = OGR_F_GetFieldAsString(f, field);
    return (s && *s) ? s : NULL;
}

GEOSGeometry *geodata_ogr_geometry(geodata_ogr *src, OGRFeatureH f, geodata_geos *g,
                                   char *why, size_t n)
{
    OGRGeometryH geom = OGR_F_GetGeometryRef(f);
    if (!geom || OGR_G_IsEmpty(geom)) {
        snprintf(why, n, "no geometry");
        return NULL;
    }
    geom = OGR_G_Clone(geom);
    if (!geom) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    if (OGR_G_HasCurveGeometry(geom, 0)) {
        OGRGeometryH linear = OGR_G_GetLinearGeometry(geom, 0, NULL);
        OGR_G_DestroyGeometry(geom);
        geom = linear;
    }
    OGR_G_FlattenTo2D(geom);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    OGRErr err = src->ct ? OGR_G_Transform(geom, src->ct) : OGRERR_NONE;
    CPLPopErrorHandler();
    GEOSGeometry *out = NULL;
    if (err != OGRERR_NONE) {
        snprintf(why, n, "cannot be transformed to EPSG:4326 (%s)", gdal_msg());
    } else {
        OGREnvelope env;
        OGR_G_GetEnvelope(geom, &env);
        if (env.MinX < -180 || env.MaxX > 180 || env.MinY < -90 || env.MaxY > 90) {
            snprintf(why, n, src->no_crs
                     ? "coordinates are not longitudes/latitudes and the layer declares no CRS"
                     : "coordinates out of range after transformation");
        } else {
            int size = OGR_G_WkbSize(geom);
            unsigned char *wkb = malloc((size_t)size);
            if (wkb && OGR_G_ExportToIsoWkb(geom, wkbNDR, wkb) == OGRERR_NONE)
                out = GEOSGeomFromWKB_buf_r(g->h, wkb, (size_t)size);
            if (!out)
                snprintf(why, n, "unreadable geometry (%s)", wkb ? g->msg : "out of memory");
            free(wkb);
        }
    }
    OGR_G_DestroyGeometry(geom);
    return out;
}
