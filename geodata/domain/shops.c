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

#define SHOP_COLUMNS "s.id, ifnull(s.source_id, ''), ifnull(s.name, ''), ifnull(s.shop, ''), " \
    "ifnull(s.brand, ''), ifnull(s.opening_hours, ''), ifnull(s.addr_housenumber, ''), " \
    "ifnull(s.addr_street, ''), ifnull(s.addr_postcode, ''), ifnull(s.addr_city, ''), s.status, " \
    "s.delivers, s.takeaway, s.gift_cards, ifnull(s.confirmed_at, 0), ifnull(s.owner_id, 0), " \
    "ifnull(s.neighbourhood_id, ''), X(s.geom), Y(s.geom)"

static void read_shop(sqlite3_stmt *st, geodata_shop *s)
{
    s->id = sqlite3_column_int64(st, 0);
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
    s->delivers = sqlite3_column_int(st, 11);
    s->takeaway = sqlite3_column_int(st, 12);
    s->gift_cards = sqlite3_column_int(st, 13);
    s->confirmed_at = sqlite3_column_int64(st, 14);
    s->owner_id = sqlite3_column_int64(st, 15);
    geodata_column_text(st, 16, s->neighbourhood_id, sizeof s->neighbourhood_id);
    s->lon = sqlite3_column_double(st, 17);
    s->lat = sqlite3_column_double(st, 18);
}

int geodata_shop_get(geodata_store *store, int64_t id, geodata_shop *out)
{
    sqlite3_stmt *st = geodata_prepare(store, "SELECT " SHOP_COLUMNS " FROM shops s WHERE s.id = ?");
    if (!st)
        return GEODATA_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_shop(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return GEODATA_OK;
    return rc == SQLITE_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such shop")
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
    const char *from = bbox ? " FROM shops s JOIN idx_shops_geom i ON i.pkid = s.id "
                              "WHERE i.xmin <= ?3 AND i.xmax >= ?1 AND i.ymin <= ?4 AND i.ymax >= ?2 "
                              "AND (?5 IS NULL OR s.status = ?5) AND (?8 = 0 OR s.owner_id = ?8)"
                            : " FROM shops s WHERE (?5 IS NULL OR s.status = ?5) "
                              "AND (?8 = 0 OR s.owner_id = ?8)";
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT count(*)%s", from);
    sqlite3_stmt *cnt = geodata_prepare(store, sql);
    snprintf(sql, sizeof sql, "SELECT " SHOP_COLUMNS "%s AND s.id > ?9 ORDER BY s.id LIMIT ?6 OFFSET ?7",
             from);
    sqlite3_stmt *st = geodata_prepare(store, sql);
    int rc = (cnt && st) ? GEODATA_OK : GEODATA_EDB;
    for (sqlite3_stmt **p = (sqlite3_stmt *[]){ cnt, st, NULL }; !rc && *p; p++) {
        if (bbox)
            for (int i = 0; i < 4; i++)
                sqlite3_bind_double(*p, i + 1, bbox[i]);
        sqlite3_bind_text(*p, 5, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(*p, 8, owner);
    }
    if (!rc) {
        sqlite3_bind_int64(st, 6, (sqlite3_int64)limit + 1);   /* one more: does a page follow? */
        sqlite3_bind_int64(st, 7, (sqlite3_int64)offset);
        sqlite3_bind_int64(st, 9, after > 0 ? after : 0);
        int row = geodata_step(store, cnt);
        if (row > 0)
            *total = (size_t)sqlite3_column_int64(cnt, 0);
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
    sqlite3_finalize(cnt);
    sqlite3_finalize(st);
    return rc;
}

static int changes_or(geodata_store *store, sqlite3_stmt *st, const char *what, int *changed)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? GEODATA_OK : geodata_fail_sql(store, what);
    *changed = rc ? 0 : sqlite3_changes(store->db);
    sqlite3_finalize(st);
    return rc;
}

int geodata_shop_create(geodata_store *store, int64_t owner, const char *name, const char *shop,
                        const char *opening_hours, const char *housenumber, const char *street,
                        const char *postcode, const char *city, double lon, double lat,
                        int64_t now, int64_t *id)
{
    unsigned char blob[GEODATA_POINT_BLOB_SIZE];
    geodata_point_blob(lon, lat, 4326, blob);
    sqlite3_stmt *st = geodata_prepare(store,
        "INSERT INTO shops(name, shop, opening_hours, addr_housenumber, addr_street, addr_postcode, "
        "addr_city, owner_id, updated_at, geom, neighbourhood_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?9, ?10, (SELECT n.id FROM neighbourhoods n JOIN idx_neighbourhoods_geom i ON i.pkid = "
        "n.rowid WHERE i.xmin <= ?11 AND i.xmax >= ?11 AND i.ymin <= ?12 AND i.ymax >= ?12 "
        "AND ST_Covers(n.geom, MakePoint(?11, ?12, 4326)) ORDER BY n.id LIMIT 1))");
    if (!st)
        return GEODATA_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, shop, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, opening_hours, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, housenumber, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, street, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, postcode, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, city, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, owner);
    sqlite3_bind_int64(st, 9, now);
    sqlite3_bind_blob(st, 10, blob, sizeof blob, SQLITE_STATIC);
    sqlite3_bind_double(st, 11, lon);
    sqlite3_bind_double(st, 12, lat);
    int changed, rc = changes_or(store, st, "creating a shop", &changed);
    if (!rc)
        *id = sqlite3_last_insert_rowid(store->db);
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
    sqlite3_stmt *st = geodata_prepare(store,
        "UPDATE shops SET status = ifnull(?2, status), "
        "delivers = CASE WHEN ?3 < 0 THEN delivers ELSE ?3 END, "
        "takeaway = CASE WHEN ?4 < 0 THEN takeaway ELSE ?4 END, "
        "gift_cards = CASE WHEN ?5 < 0 THEN gift_cards ELSE ?5 END, "
        "opening_hours = ifnull(?6, opening_hours), confirmed_at = ?7, updated_at = ?7 WHERE id = ?1");
    if (!st)
        return GEODATA_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, u->status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, u->delivers);
    sqlite3_bind_int(st, 4, u->takeaway);
    sqlite3_bind_int(st, 5, u->gift_cards);
    sqlite3_bind_text(st, 6, u->opening_hours, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now);
    int changed;
    return changes_or(store, st, "updating a shop", &changed);
}
