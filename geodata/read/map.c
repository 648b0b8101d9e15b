/*
 * geodata/read/map.c — rows for the map's layers (see map.h). Boxes go through the
 * R*Tree tables directly (joined on pkid) on SQLite, through the GiST
 * index's && on PostgreSQL; points are read from the
 * geometry BLOB's header, and the visibility rule is the one of posts.c:
 * the viewer's neighbourhood and those contiguous to it.
 */
#include <stdio.h>

#include "internal.h"
#include "spatialite_blob.h"
#include "geodata/map.h"

static int blob_point(sql_stmt *st, int col, double *lon, double *lat)
{
    double box[4];
    const void *blob = sql_column_blob(st, col);
    if (!blob || geodata_blob_box(blob, sql_column_bytes(st, col), box))
        return 0;
    *lon = box[0];
    *lat = box[2];
    return 1;
}

static const char *text(sql_stmt *st, int col)
{
    const char *s = (const char *)sql_column_text(st, col);
    return s ? s : "";
}

int geodata_map_extent(geodata_store *store, double box[4])
{
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store,
        "SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_neighbourhoods_geom",
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
        "FROM (SELECT ST_Extent(geom) AS e FROM neighbourhoods) x"));
    if (!st)
        return GEODATA_EDB;
    int rc = sql_step(st) == SQL_ROW ? GEODATA_OK
                                             : geodata_fail_sql(store, "reading the data's extent");
    if (!rc && sql_column_type(st, 0) == SQL_NULL)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no neighbourhoods");
    for (int i = 0; !rc && i < 4; i++)
        box[i] = sql_column_double(st, i);
    geodata_release(store, st);
    return rc;
}

int geodata_map_expired(geodata_store *store, int64_t after, int64_t upto,
                        int (*each)(void *arg, int64_t id, double lon, double lat), void *arg)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT geom, id FROM posts WHERE expires_at > ?1 AND expires_at <= ?2 "
        "AND status = 'open' AND hidden = 0");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, after);
    sql_bind_int64(st, 2, upto);
    int rc = GEODATA_OK, step;
    double lon, lat;
    while (!rc && (step = sql_step(st)) == SQL_ROW)
        if (blob_point(st, 0, &lon, &lat))
            rc = each(arg, sql_column_int64(st, 1), lon, lat);
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading expired posts");
    geodata_release(store, st);
    return rc;
}

#define NEED_COLUMNS "p.id, p.kind, p.category, p.status, p.title, p.neighbourhood_id, " \
                     "p.expires_at, p.geom"

static int each_need(geodata_store *store, sql_stmt *st,
                     int (*each)(void *arg, const geodata_map_need *n), void *arg)
{
    int rc = GEODATA_OK, step;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        geodata_map_need n = { .id = sql_column_int64(st, 0), .kind = text(st, 1),
                               .category = text(st, 2), .status = text(st, 3),
                               .title = text(st, 4), .neighbourhood_id = text(st, 5),
                               .expires_at = sql_column_int64(st, 6) };
        if (blob_point(st, 7, &n.lon, &n.lat))
            rc = each(arg, &n);
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading needs");
    geodata_release(store, st);
    return rc;
}

int geodata_map_needs(geodata_store *store, int64_t now,
                      int (*each)(void *arg, const geodata_map_need *n), void *arg)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT " NEED_COLUMNS " FROM posts p WHERE p.hidden = 0 "
        "AND (p.status = 'claimed' OR (p.status = 'open' AND p.expires_at > ?1))");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, now);
    return each_need(store, st, each, arg);
}

int geodata_map_need_by_id(geodata_store *store, int64_t id,
                     int (*each)(void *arg, const geodata_map_need *n), void *arg)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT " NEED_COLUMNS " FROM posts p WHERE p.id = ?1 AND p.hidden = 0 "
        "AND p.status IN ('open', 'claimed')");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    return each_need(store, st, each, arg);
}

int geodata_map_shops(geodata_store *store, const double box[4],
                      int (*each)(void *arg, const geodata_map_shop *s), void *arg)
{
    /* Both take the spatial index's candidates, whose boxes are floats
     * rounded outward: a point on the box's edge may come with them. */
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store,
        "SELECT s.id, s.name, s.shop, s.status, s.opening_hours, s.delivers, s.takeaway, "
        "s.gift_cards, s.confirmed_at, s.geom "
        "FROM idx_shops_geom i JOIN shops s ON s.id = i.pkid "
        "WHERE i.xmin <= ?3 AND i.xmax >= ?1 AND i.ymin <= ?4 AND i.ymax >= ?2",
        "SELECT s.id, s.name, s.shop, s.status, s.opening_hours, s.delivers, s.takeaway, "
        "s.gift_cards, s.confirmed_at, s.geom "
        "FROM shops s WHERE s.geom && ST_MakeEnvelope(?1, ?2, ?3, ?4, 4326)"));
    if (!st)
        return GEODATA_EDB;
    for (int i = 0; i < 4; i++)
        sql_bind_double(st, i + 1, box[i]);
    int rc = GEODATA_OK, step;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        geodata_map_shop s = { .id = sql_column_int64(st, 0), .name = text(st, 1),
                               .shop = text(st, 2), .status = text(st, 3),
                               .opening_hours = text(st, 4),
                               .delivers = sql_column_int(st, 5),
                               .takeaway = sql_column_int(st, 6),
                               .gift_cards = sql_column_int(st, 7),
                               .confirmed_at = sql_column_int64(st, 8) };
        if (blob_point(st, 9, &s.lon, &s.lat))
            rc = each(arg, &s);
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading the shops of a box");
    geodata_release(store, st);
    return rc;
}
