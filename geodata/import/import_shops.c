/*
 * geodata/import/import_shops.c — shops from any OGR source with OSM-style tags
 * (osm_id or @id, name, shop, brand, opening_hours, addr:*).
 *
 * Design: one transaction; each feature becomes a point (a polygon gives a
 * point on its surface), gets its neighbourhood, and is upserted by its source
 * id. An update touches only the imported tags and the location: the status,
 * delivery, takeaway, gift-card flags, confirmation time and owner that a shop
 * owner set in the app survive a re-import. A feature with no OSM id is keyed
 * by the file's base name and its feature id, which is stable for one file.
 * A second feature with an id already seen in the same file is skipped and
 * reported: the first one wins, so a re-import gives the same result.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/nbindex.h"
#include "ogr_source.h"
#include "spatialite_blob.h"

enum { F_ID, F_NAME, F_SHOP, F_BRAND, F_HOURS, F_HOUSENUMBER, F_STREET, F_POSTCODE, F_CITY, N_F };

static const char *const *const field_names[N_F] = {
    (const char *const[]){ "osm_id", "@id", "id", NULL },
    (const char *const[]){ "name", NULL },
    (const char *const[]){ "shop", NULL },
    (const char *const[]){ "brand", NULL },
    (const char *const[]){ "opening_hours", NULL },
    (const char *const[]){ "addr:housenumber", NULL },
    (const char *const[]){ "addr:street", NULL },
    (const char *const[]){ "addr:postcode", NULL },
    (const char *const[]){ "addr:city", NULL },
};

static const char upsert_sql[] =
    "INSERT INTO shops(source_id, name, shop, brand, opening_hours, addr_housenumber, "
    "  addr_street, addr_postcode, addr_city, neighbourhood_id, geom) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?13) "
    "ON CONFLICT(source_id) DO UPDATE SET name = excluded.name, shop = excluded.shop, "
    "  brand = excluded.brand, opening_hours = excluded.opening_hours, "
    "  addr_housenumber = excluded.addr_housenumber, addr_street = excluded.addr_street, "
    "  addr_postcode = excluded.addr_postcode, addr_city = excluded.addr_city, "
    "  neighbourhood_id = excluded.neighbourhood_id, geom = excluded.geom, "
    "  updated_at = unixepoch() "
    "WHERE NOT (shops.name IS NOT DISTINCT FROM excluded.name "
    "  AND shops.shop IS NOT DISTINCT FROM excluded.shop "
    "  AND shops.brand IS NOT DISTINCT FROM excluded.brand "
    "  AND shops.opening_hours IS NOT DISTINCT FROM excluded.opening_hours "
    "  AND shops.addr_housenumber IS NOT DISTINCT FROM excluded.addr_housenumber "
    "  AND shops.addr_street IS NOT DISTINCT FROM excluded.addr_street "
    "  AND shops.addr_postcode IS NOT DISTINCT FROM excluded.addr_postcode "
    "  AND shops.addr_city IS NOT DISTINCT FROM excluded.addr_city "
    "  AND shops.neighbourhood_id IS NOT DISTINCT FROM excluded.neighbourhood_id "
    "  AND ST_X(shops.geom) = ?11 AND ST_Y(shops.geom) = ?12)";

/* The point standing for a shop: itself, or a point on its surface. */
static int shop_point(GEOSContextHandle_t h, const GEOSGeometry *g, double *x, double *y)
{
    int type = GEOSGeomTypeId_r(h, g);
    const GEOSGeometry *p = g;
    GEOSGeometry *made = NULL;
    if (type == GEOS_MULTIPOINT)
        p = GEOSGetGeometryN_r(h, g, 0);
    else if (type != GEOS_POINT)
        p = made = GEOSPointOnSurface_r(h, g);
    int ok = p && GEOSisEmpty_r(h, p) == 0 && GEOSGeomGetX_r(h, p, x) == 1
          && GEOSGeomGetY_r(h, p, y) == 1;
    if (made)
        GEOSGeom_destroy_r(h, made);
    return ok;
}

static int import_features(geodata_store *store, const char *path, geodata_ogr *src,
                           geodata_geos *geos, geodata_nbindex *idx, sql_stmt *st,
                           sql_stmt *seen, const geodata_import_options *opts,
                           geodata_report *report)
{
    int field[N_F];
    for (int i = 0; i < N_F; i++)
        field[i] = geodata_ogr_field(src, field_names[i]);
    char *pathcopy = strdup(path);
    if (!pathcopy)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    const char *base = basename(pathcopy);
    OGRFeatureH f;
    char why[256], fallback_id[300];
    unsigned char point[GEODATA_POINT_BLOB_SIZE];
    int rc = GEODATA_OK;
    while (rc == GEODATA_OK && (f = OGR_L_GetNextFeature(src->layer)) != NULL) {
        report->read++;
        long long fid = (long long)OGR_F_GetFID(f);
        GEOSGeometry *g = geodata_ogr_geometry(src, f, geos, why, sizeof why);
        double x = 0, y = 0;
        if (!g || !shop_point(geos->h, g, &x, &y)) {
            report->rejected++;
            geodata_report_note(report, "feature %lld: %s, skipped", fid, g ? "empty geometry" : why);
        } else {
            const char *id = geodata_ogr_string(f, field[F_ID]);
            if (!id) {
                snprintf(fallback_id, sizeof fallback_id, "%.250s:%lld", base, fid);
                id = fallback_id;
            }
            sql_bind_text(seen, 1, id, -1, SQL_TRANSIENT);
            int step = sql_step(seen);
            sql_reset(seen);
            if (step != SQL_DONE) {
                rc = geodata_fail_sql(store, "checking shop ids");
            } else if (sql_changes(store) == 0) {
                report->rejected++;
                geodata_report_note(report, "feature %lld: id %s seen before in this file, skipped",
                                    fid, id);
                GEOSGeom_destroy_r(geos->h, g);
                OGR_F_Destroy(f);
                continue;
            }
            sql_bind_text(st, 1, id, -1, SQL_TRANSIENT);
            for (int i = F_NAME; i < N_F; i++)
                sql_bind_text(st, i + 1, geodata_ogr_string(f, field[i]), -1, SQL_TRANSIENT);
            long k = geodata_nbindex_lookup(idx, x, y);
            if (k >= 0)
                sql_bind_text(st, 10, geodata_nbindex_id(idx, (size_t)k), -1, SQL_STATIC);
            else
                sql_bind_null(st, 10);
            sql_bind_double(st, 11, x);
            sql_bind_double(st, 12, y);
            geodata_bind_point(store, st, 13, x, y, point);
            if (sql_step(st) != SQL_DONE)
                rc = geodata_fail_sql(store, "storing a shop");
            sql_reset(st);
            sql_clear_bindings(st);
            report->stored++;
            if (k < 0)
                report->outside++;
        }
        if (g)
            GEOSGeom_destroy_r(geos->h, g);
        OGR_F_Destroy(f);
        if (opts->progress)
            opts->progress(opts->progress_arg, report->read,
                           src->n_features > 0 ? (uint64_t)src->n_features : 0);
    }
    free(pathcopy);
    if (rc == GEODATA_OK && report->stored == 0)
        rc = geodata_fail(store, GEODATA_EINVAL, "%s: no usable shop among %llu features",
                          path, (unsigned long long)report->read);
    return rc;
}

int geodata_import_shops(geodata_store *store, const char *path,
                         const geodata_import_options *opts, geodata_report *report)
{
    static const geodata_import_options defaults = { 0 };
    if (!opts)
        opts = &defaults;
    memset(report, 0, sizeof *report);
    geodata_geos geos;
    if (geodata_geos_init(&geos))
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    geodata_ogr src;
    int rc = geodata_ogr_open(store, path, GEODATA_WANT_ANY, &src);
    if (!rc) {
        geodata_nbindex *idx = NULL;
        sql_stmt *st = NULL, *seen = NULL;
        rc = geodata_begin(store);
        if (!rc) rc = geodata_nbindex_load(store, &idx);
        if (!rc)
            rc = geodata_exec(store, "CREATE TEMP TABLE IF NOT EXISTS shop_seen"
                              "(id TEXT PRIMARY KEY); DELETE FROM shop_seen",
                              "preparing the import");
        if (!rc && (!(st = geodata_prepare(store, upsert_sql))
                    || !(seen = geodata_prepare(store, "INSERT INTO shop_seen(id) VALUES (?) "
                                                       "ON CONFLICT DO NOTHING"))))
            rc = GEODATA_EDB;
        if (!rc) rc = import_features(store, path, &src, &geos, idx, st, seen, opts, report);
        if (!rc) {
            char *detail = geodata_format("%llu features, %llu stored, %llu rejected",
                                          (unsigned long long)report->read,
                                          (unsigned long long)report->stored,
                                          (unsigned long long)report->rejected);
            rc = geodata_audit(store, 0, "import shops", path, detail);
            free(detail);
        }
        sql_finalize(st);
        sql_finalize(seen);
        if (!rc) rc = geodata_commit(store);
        if (rc) geodata_rollback(store);
        geodata_nbindex_free(idx);
        geodata_ogr_close(&src);
    }
    geodata_geos_clear(&geos);
    return rc;
}
