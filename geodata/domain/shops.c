/*
 * geodata/domain/shops.c — shops (see shops.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "geodata/shops.h"
#include "spatialite_blob.h"

int geodata_shop_status_valid(const char *s)
{
    return s && (strcmp(s, "open") == 0 || strcmp(s, "closed") == 0
                 || strcmp(s, "delivery_only") == 0 || strcmp(s, "takeaway_only") == 0);
}

#define SHOP_COLUMNS "s.id, coalesce(s.source_id, ''), coalesce(s.name, ''), coalesce(s.shop, ''), " \
    "coalesce(s.brand, ''), coalesce(s.opening_hours, ''), coalesce(s.addr_housenumber, ''), " \
    "coalesce(s.addr_street, ''), coalesce(s.addr_postcode, ''), coalesce(s.addr_city, ''), s.status, " \
    "s.delivers, s.takeaway, s.gift_cards, coalesce(s.confirmed_at, 0), coalesce(s.owner_id, 0), " \
    "coalesce(s.neighbourhood_id, ''), ST_X(s.geom), ST_Y(s.geom)"

static void read_shop(sql_stmt *st, geodata_shop *s)
{
    s->id = sql_column_int64(st, 0);
    geodata_column_text(st, 1, s->source_id, sizeof s->source_id);
    geodata_column_text(st, 2, s->name, sizeof s->name);
    geodata_column_text(st, 3, s->shop, sizeof s->shop);
    geodata_column_text(st, 4, s->brand, sizeof s->brand);
    geodata_column_text(st, 5, s->opening_hours, sizeof s->opening_hours);
    geodata_column_text(st, 6, s->housenumber, sizeof s->housenumber);
    geodata_column_text(st, 7, s->street, sizeof s->street);
    geodata_column_text(st, 8, s->postcode, sizeof s->postcode);
    geodata_column_text(st, 9, s->city, sizeof s->city);
    geodata_column_text(st, 10, s->status, sizeof s->status);
    s->delivers = sql_column_int(st, 11);
    s->takeaway = sql_column_int(st, 12);
    s->gift_cards = sql_column_int(st, 13);
    s->confirmed_at = sql_column_int64(st, 14);
    s->owner_id = sql_column_int64(st, 15);
    geodata_column_text(st, 16, s->neighbourhood_id, sizeof s->neighbourhood_id);
    s->lon = sql_column_double(st, 17);
    s->lat = sql_column_double(st, 18);
}

int geodata_shop_get(geodata_store *store, int64_t id, geodata_shop *out)
{
    sql_stmt *st = geodata_prepare(store, "SELECT " SHOP_COLUMNS " FROM shops s WHERE s.id = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        read_shop(st, out);
    sql_finalize(st);
    if (rc == SQL_ROW)
        return GEODATA_OK;
    return rc == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such shop")
                             : geodata_fail_sql(store, "reading a shop");
}

int geodata_shops_query(geodata_store *store, const double *bbox, const char *status,
                        int64_t owner, int64_t after, size_t limit, size_t offset,
                        int (*each)(void *arg, const geodata_shop *s), void *arg, size_t *total,
                        int *more)
{
    *total = 0;
    *more = 0;
    if (limit < 1 || limit > (size_t)INT32_MAX || offset > (size_t)INT32_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "a page holds at least one shop");
    /* A box: SpatiaLite's R*Tree or PostGIS's GiST index finds the shops. */
    const char *from = !bbox ? " FROM shops s WHERE (CAST(?5 AS TEXT) IS NULL OR s.status = ?5) "
                               "AND (?8 = 0 OR s.owner_id = ?8)"
        : GEODATA_DIALECT(store,
            " FROM shops s JOIN idx_shops_geom i ON i.pkid = s.id "
            "WHERE i.xmin <= ?3 AND i.xmax >= ?1 AND i.ymin <= ?4 AND i.ymax >= ?2 "
            "AND (CAST(?5 AS TEXT) IS NULL OR s.status = ?5) AND (?8 = 0 OR s.owner_id = ?8)",
            " FROM shops s WHERE s.geom && ST_MakeEnvelope(?1, ?2, ?3, ?4, 4326) "
            "AND (CAST(?5 AS TEXT) IS NULL OR s.status = ?5) AND (?8 = 0 OR s.owner_id = ?8)");
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT count(*)%s", from);
    sql_stmt *cnt = geodata_prepare(store, sql);
    snprintf(sql, sizeof sql, "SELECT " SHOP_COLUMNS "%s AND s.id > ?9 ORDER BY s.id LIMIT ?6 OFFSET ?7",
             from);
    sql_stmt *st = geodata_prepare(store, sql);
    int rc = (cnt && st) ? GEODATA_OK : GEODATA_EDB;
    for (sql_stmt **p = (sql_stmt *[]){ cnt, st, NULL }; !rc && *p; p++) {
        if (bbox)
            for (int i = 0; i < 4; i++)
                sql_bind_double(*p, i + 1, bbox[i]);
        sql_bind_text(*p, 5, status, -1, SQL_STATIC);
        sql_bind_int64(*p, 8, owner);
    }
    if (!rc) {
        sql_bind_int64(st, 6, (long long)limit + 1);   /* one more: does a page follow? */
        sql_bind_int64(st, 7, (long long)offset);
        sql_bind_int64(st, 9, after > 0 ? after : 0);
        int row = geodata_step(store, cnt);
        if (row > 0)
            *total = (size_t)sql_column_int64(cnt, 0);
        else
            rc = row < 0 ? row : geodata_fail(store, GEODATA_EDB, "counting the shops gave no row");
    }
    geodata_shop *s = rc ? NULL : malloc(sizeof *s);
    if (!rc && !s)
        rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    int row = 0;
    size_t n = 0;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        read_shop(st, s);
        rc = each(arg, s);
    }
    if (!rc && row < 0)
        rc = row;
    free(s);
    sql_finalize(cnt);
    sql_finalize(st);
    return rc;
}

static int changes_or(geodata_store *store, sql_stmt *st, const char *what, int *changed)
{
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, what);
    *changed = rc ? 0 : sql_changes(store);
    sql_finalize(st);
    return rc;
}

int geodata_shop_create(geodata_store *store, int64_t owner, const char *name, const char *shop,
                        const char *opening_hours, const char *housenumber, const char *street,
                        const char *postcode, const char *city, double lon, double lat,
                        int64_t now, int64_t *id)
{
    unsigned char blob[GEODATA_POINT_BLOB_SIZE];
    sql_stmt *st = geodata_prepare(store, GEODATA_DIALECT(store,
        "INSERT INTO shops(name, shop, opening_hours, addr_housenumber, addr_street, addr_postcode, "
        "addr_city, owner_id, updated_at, geom, neighbourhood_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, (SELECT n.id FROM neighbourhoods n JOIN idx_neighbourhoods_geom i ON i.pkid = "
        "n.rowid WHERE i.xmin <= ?11 AND i.xmax >= ?11 AND i.ymin <= ?12 AND i.ymax >= ?12 "
        "AND ST_Covers(n.geom, MakePoint(?11, ?12, 4326)) ORDER BY n.id LIMIT 1)) RETURNING id",
        "INSERT INTO shops(name, shop, opening_hours, addr_housenumber, addr_street, addr_postcode, "
        "addr_city, owner_id, updated_at, geom, neighbourhood_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, (SELECT n.id FROM neighbourhoods n "
        "WHERE ST_Covers(n.geom, ST_SetSRID(ST_MakePoint(?11, ?12), 4326)) ORDER BY n.id LIMIT 1)) "
        "RETURNING id"));
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, name, -1, SQL_STATIC);
    sql_bind_text(st, 2, shop, -1, SQL_STATIC);
    sql_bind_text(st, 3, opening_hours, -1, SQL_STATIC);
    sql_bind_text(st, 4, housenumber, -1, SQL_STATIC);
    sql_bind_text(st, 5, street, -1, SQL_STATIC);
    sql_bind_text(st, 6, postcode, -1, SQL_STATIC);
    sql_bind_text(st, 7, city, -1, SQL_STATIC);
    sql_bind_int64(st, 8, owner);
    sql_bind_int64(st, 9, now);
    geodata_bind_point(store, st, 10, lon, lat, blob);
    sql_bind_double(st, 11, lon);
    sql_bind_double(st, 12, lat);
    int rc = geodata_insert(store, st, "creating a shop", id);
    sql_finalize(st);
    return rc;
}

int geodata_shop_update_status(geodata_store *store, int64_t id, int64_t actor, int actor_is_staff,
                               const geodata_shop_update *u, int64_t now)
{
    geodata_shop s;
    int rc = geodata_shop_get(store, id, &s);
    if (rc)
        return rc;
    if (!actor_is_staff && s.owner_id != actor)
        return geodata_fail(store, GEODATA_EDENIED, "only the shop's owner can change its status");
    /* A status and its services never contradict each other ("closed ·
     * takeaway", "delivery only · takeaway"): a status that implies them sets
     * the services left unsaid, and refuses those said otherwise. */
    geodata_shop_update v = *u;
    const char *status = u->status ? u->status : s.status;
    int deliver = -1, take = -1;  /* what the status implies; -1: nothing */
    if (strcmp(status, "closed") == 0)
        deliver = take = 0;
    else if (strcmp(status, "delivery_only") == 0)
        deliver = 1, take = 0;
    else if (strcmp(status, "takeaway_only") == 0)
        deliver = 0, take = 1;
    if ((deliver >= 0 && v.delivers >= 0 && v.delivers != deliver)
        || (take >= 0 && v.takeaway >= 0 && v.takeaway != take))
        return geodata_fail(store, GEODATA_EINVAL, "a shop that is %s %s", status,
                            strcmp(status, "closed") == 0 ? "neither delivers nor does takeaway"
                            : deliver ? "delivers and does no takeaway"
                                      : "does takeaway and does not deliver");
    if (deliver >= 0)
        v.delivers = deliver;
    if (take >= 0)
        v.takeaway = take;
    u = &v;
    sql_stmt *st = geodata_prepare(store,
        "UPDATE shops SET status = coalesce(?2, status), "
        "delivers = CASE WHEN ?3 < 0 THEN delivers ELSE ?3 END, "
        "takeaway = CASE WHEN ?4 < 0 THEN takeaway ELSE ?4 END, "
        "gift_cards = CASE WHEN ?5 < 0 THEN gift_cards ELSE ?5 END, "
        "opening_hours = coalesce(?6, opening_hours), confirmed_at = ?7, updated_at = ?7 WHERE id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_text(st, 2, u->status, -1, SQL_STATIC);
    sql_bind_int(st, 3, u->delivers);
    sql_bind_int(st, 4, u->takeaway);
    sql_bind_int(st, 5, u->gift_cards);
    sql_bind_text(st, 6, u->opening_hours, -1, SQL_STATIC);
    sql_bind_int64(st, 7, now);
    int changed;
    return changes_or(store, st, "updating a shop", &changed);
}
