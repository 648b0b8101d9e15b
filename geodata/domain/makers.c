/*
 * geodata/domain/makers.c — mask makers and orders (see makers.h).
 *
 * Materials are stored as a JSON array built from bound values by the
 * engine's own JSON functions, never by pasting strings: SQLite's
 * json_insert, or on PostgreSQL each value quoted by to_json and appended
 * to the array's text, so that both engines keep the same compact text
 * (["a","b"]; jsonb's own text would read ["a", "b"]).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "geodata/makers.h"
#include "geodata/posts.h"
#include "spatialite_blob.h"

static int step_done(geodata_store *store, sql_stmt *st, const char *what)
{
    int rc = (st && sql_step(st) == SQL_DONE) ? GEODATA_OK
           : st ? geodata_fail_sql(store, what) : GEODATA_EDB;
    sql_finalize(st);
    return rc;
}

/* Keeps the maker's materials post in step: open with the list, or cancelled
 * when the list is empty. */
static int sync_materials_post(geodata_store *store, int64_t member, const char *const *materials,
                               size_t n, int64_t now)
{
    geodata_maker m;
    int rc = geodata_maker_get(store, member, &m);
    if (rc)
        return rc;
    char body[GEODATA_MATERIALS_MAX * (GEODATA_MATERIAL_LEN + 2) + 128];
    size_t o = (size_t)snprintf(body, sizeof body, "Pour coudre des masques, il me faut : ");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(body + o, sizeof body - o, "%s%s", i ? ", " : "", materials[i]);
    snprintf(body + o, sizeof body - o, ".");
    geodata_post p;
    int open = m.materials_post_id && geodata_post_get(store, m.materials_post_id, now, &p) == 0
               && strcmp(p.status, "open") == 0;
    if (n == 0 || (m.materials_post_id && !open)) {
        /* No list, or its post was claimed or closed: unlink it (and cancel it
         * when still open); a new list gets a new post below. */
        if (open && n == 0)
            rc = geodata_post_finish(store, m.materials_post_id, member, GEODATA_POST_CANCEL, now);
        sql_stmt *st = rc ? NULL : geodata_prepare(store,
            "UPDATE makers SET materials_post_id = NULL WHERE member_id = ?");
        if (st)
            sql_bind_int64(st, 1, member);
        if (!rc)
            rc = step_done(store, st, "unlinking the materials post");
        if (rc || n == 0)
            return rc;
        open = 0;
    }
    if (open)
        return geodata_post_edit(store, m.materials_post_id, member, NULL, body, now);
    int64_t id;
    rc = geodata_post_create(store, member, "request", "materials", "Matériel pour masques", body, 0,
                             now, now + 30 * 86400, &id);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store, "UPDATE makers SET materials_post_id = ? WHERE member_id = ?");
    if (st) {
        sql_bind_int64(st, 1, id);
        sql_bind_int64(st, 2, member);
    }
    return step_done(store, st, "linking the materials post");
}

int geodata_maker_set(geodata_store *store, int64_t member, int capacity_per_day, int stock,
                      const char *const *materials, size_t n, int64_t now)
{
    if (n > GEODATA_MATERIALS_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "at most %d materials", GEODATA_MATERIALS_MAX);
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store,
        "SELECT home_lon, home_lat FROM members WHERE id = ? AND home_lon IS NOT NULL "
        "AND neighbourhood_id IS NOT NULL");
    if (!st)
        rc = GEODATA_EDB;
    double lon = 0, lat = 0;
    if (!rc) {
        sql_bind_int64(st, 1, member);
        int row = geodata_step(store, st);
        if (row > 0)
            geodata_public_point(sql_column_double(st, 0), sql_column_double(st, 1), &lon, &lat);
        else if (row < 0)
            rc = row;
        else
            rc = geodata_fail(store, GEODATA_EDENIED,
                              "only members with a verified home in a neighbourhood can make masks");
        sql_finalize(st);
    }
    unsigned char blob[GEODATA_POINT_BLOB_SIZE];
    if (!rc) {
        st = geodata_prepare(store,
            "INSERT INTO makers(member_id, capacity_per_day, stock, materials, updated_at, geom) "
            "VALUES (?1, ?2, ?3, '[]', ?4, ?5) ON CONFLICT(member_id) DO UPDATE SET "
            "capacity_per_day = ?2, stock = ?3, materials = '[]', updated_at = ?4, geom = ?5");
        if (st) {
            sql_bind_int64(st, 1, member);
            sql_bind_int(st, 2, capacity_per_day);
            sql_bind_int(st, 3, stock);
            sql_bind_int64(st, 4, now);
            geodata_bind_point(store, st, 5, lon, lat, blob);
        }
        rc = step_done(store, st, "saving a maker");
    }
    for (size_t i = 0; !rc && i < n; i++) {
        st = geodata_prepare(store, GEODATA_DIALECT(store,
            "UPDATE makers SET materials = json_insert(materials, '$[#]', ?2) WHERE member_id = ?1",
            "UPDATE makers SET materials = CASE WHEN materials = '[]' THEN '[' "
            "ELSE left(materials, -1) || ',' END || to_json(CAST(?2 AS text))::text || ']' "
            "WHERE member_id = ?1"));
        if (st) {
            sql_bind_int64(st, 1, member);
            sql_bind_text(st, 2, materials[i], -1, SQL_STATIC);
        }
        rc = step_done(store, st, "saving materials");
    }
    if (!rc) rc = sync_materials_post(store, member, materials, n, now);
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}

#define MAKER_COLUMNS "k.member_id, m.display_name, coalesce(m.neighbourhood_id, ''), " \
    "k.capacity_per_day, k.stock, k.materials, coalesce(k.materials_post_id, 0), ST_X(k.geom), ST_Y(k.geom)"

static int read_maker(geodata_store *store, sql_stmt *st, geodata_maker *k)
{
    memset(k, 0, sizeof *k);
    k->member_id = sql_column_int64(st, 0);
    geodata_column_text(st, 1, k->display_name, sizeof k->display_name);
    geodata_column_text(st, 2, k->neighbourhood_id, sizeof k->neighbourhood_id);
    k->capacity_per_day = sql_column_int(st, 3);
    k->stock = sql_column_int(st, 4);
    k->materials_post_id = sql_column_int64(st, 6);
    k->lon = sql_column_double(st, 7);
    k->lat = sql_column_double(st, 8);
    sql_stmt *each = geodata_cached(store, GEODATA_DIALECT(store,
        "SELECT value FROM json_each(?) LIMIT 10",
        "SELECT value FROM jsonb_array_elements_text(CAST(? AS jsonb)) WITH ORDINALITY AS e(value, n) "
        "ORDER BY n LIMIT 10"));
    if (!each)
        return GEODATA_EDB;
    sql_bind_text(each, 1, (const char *)sql_column_text(st, 5), -1, SQL_TRANSIENT);
    int row = 0;
    while (k->n_materials < GEODATA_MATERIALS_MAX && (row = geodata_step(store, each)) > 0)
        geodata_column_text(each, 0, k->materials[k->n_materials++], GEODATA_MATERIAL_LEN + 1);
    geodata_release(store, each);
    return row < 0 ? row : GEODATA_OK;
}

int geodata_maker_get(geodata_store *store, int64_t member, geodata_maker *out)
{
    sql_stmt *st = geodata_prepare(store, "SELECT " MAKER_COLUMNS " FROM makers k "
                                              "JOIN members m ON m.id = k.member_id WHERE k.member_id = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, member);
    int rc = sql_step(st);
    int code = rc == SQL_ROW ? read_maker(store, st, out)
             : rc == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such maker")
             : geodata_fail_sql(store, "reading a maker");
    sql_finalize(st);
    return code;
}

int geodata_makers_query(geodata_store *store, const geodata_audience *audience, const double *bbox,
                         int64_t after, size_t limit,
                         int (*each)(void *arg, const geodata_maker *m), void *arg, int *more)
{
    if (more)
        *more = 0;
    /* With a box, the R*Tree finds the candidates (its float bounds are
     * rounded outwards, so the exact test follows); without, all makers. */
    sql_stmt *st = bbox
        ? geodata_cached(store, GEODATA_DIALECT(store,
            "SELECT " MAKER_COLUMNS " FROM idx_makers_geom i "
            "JOIN makers k ON k.member_id = i.pkid JOIN members m ON m.id = k.member_id "
            "WHERE i.xmin <= ?4 AND i.xmax >= ?2 AND i.ymin <= ?5 AND i.ymax >= ?3 "
            "AND ST_X(k.geom) BETWEEN ?2 AND ?4 AND ST_Y(k.geom) BETWEEN ?3 AND ?5 "
            "AND " GEODATA_AUDIENCE_SQL("m.neighbourhood_id", "?1")
            " AND k.member_id > ?7 ORDER BY k.member_id LIMIT ?6",
            "SELECT " MAKER_COLUMNS " FROM makers k JOIN members m ON m.id = k.member_id "
            "WHERE k.geom && ST_MakeEnvelope(?2, ?3, ?4, ?5, 4326) "
            "AND ST_X(k.geom) BETWEEN ?2 AND ?4 AND ST_Y(k.geom) BETWEEN ?3 AND ?5 "
            "AND " GEODATA_AUDIENCE_SQL("m.neighbourhood_id", "?1")
            " AND k.member_id > ?7 ORDER BY k.member_id LIMIT ?6"))
        : geodata_cached(store, "SELECT " MAKER_COLUMNS " FROM makers k "
            "JOIN members m ON m.id = k.member_id "
            "WHERE " GEODATA_AUDIENCE_SQL("m.neighbourhood_id", "?1")
            " AND k.member_id > ?7 ORDER BY k.member_id LIMIT ?6");
    if (!st)
        return GEODATA_EDB;
    geodata_audience_bind(st, 1, audience);
    if (bbox)
        for (int i = 0; i < 4; i++)
            sql_bind_double(st, i + 2, bbox[i]);
    /* One row more than the page tells whether another follows; no limit
     * (SIZE_MAX) binds -1, SQLite's "all", or INT64_MAX on PostgreSQL, which
     * refuses a negative LIMIT. */
    int probe = more && limit < (size_t)INT64_MAX;
    sql_bind_int64(st, 6, limit >= (size_t)INT64_MAX ? (store->pg ? INT64_MAX : -1)
                                                     : (long long)(limit + (size_t)probe));
    sql_bind_int64(st, 7, after > 0 ? after : 0);
    geodata_maker *k = malloc(sizeof *k);
    int rc = k ? GEODATA_OK : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    int row = 0;
    size_t n = 0;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        if (probe && n++ == limit) {
            *more = 1;
            break;
        }
        rc = read_maker(store, st, k);
        if (!rc)
            rc = each(arg, k);
    }
    if (!rc && row < 0)
        rc = row;
    free(k);
    geodata_release(store, st);
    return rc;
}

int geodata_order_create(geodata_store *store, int64_t maker, int64_t requester, int quantity,
                         const char *note, int64_t now, int64_t *id)
{
    if (maker == requester)
        return geodata_fail(store, GEODATA_EDENIED, "one cannot order from oneself");
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO maker_orders(maker_id, requester_id, quantity, note, created_at, updated_at) "
        "SELECT member_id, ?2, ?3, ?4, ?5, ?5 FROM makers WHERE member_id = ?1 RETURNING id");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, maker);
    sql_bind_int64(st, 2, requester);
    sql_bind_int(st, 3, quantity);
    sql_bind_text(st, 4, note ? note : "", -1, SQL_STATIC);
    sql_bind_int64(st, 5, now);
    int rc = geodata_insert(store, st, "ordering", id);
    int changed = *id != 0;
    sql_finalize(st);
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such maker");
    return rc;
}

/* The requester's address comes with an order once the maker has accepted
 * it, as a claim gives the author's: the maker must deliver. */
#define ORDER_COLUMNS "o.id, o.maker_id, o.requester_id, r.display_name, k.display_name, " \
    "o.quantity, o.note, o.status, o.created_at, o.updated_at, " \
    "CASE WHEN o.status IN ('accepted', 'ready', 'delivered') THEN coalesce(r.address_text, '') " \
    "ELSE '' END"
#define ORDER_FROM " FROM maker_orders o JOIN members r ON r.id = o.requester_id " \
    "JOIN members k ON k.id = o.maker_id"

static void read_order(sql_stmt *st, geodata_order *o)
{
    o->id = sql_column_int64(st, 0);
    o->maker_id = sql_column_int64(st, 1);
    o->requester_id = sql_column_int64(st, 2);
    geodata_column_text(st, 3, o->requester_name, sizeof o->requester_name);
    geodata_column_text(st, 4, o->maker_name, sizeof o->maker_name);
    o->quantity = sql_column_int(st, 5);
    geodata_column_text(st, 6, o->note, sizeof o->note);
    geodata_column_text(st, 7, o->status, sizeof o->status);
    o->created_at = sql_column_int64(st, 8);
    o->updated_at = sql_column_int64(st, 9);
    geodata_column_text(st, 10, o->delivery_address, sizeof o->delivery_address);
}

int geodata_order_get(geodata_store *store, int64_t id, geodata_order *out)
{
    sql_stmt *st = geodata_prepare(store, "SELECT " ORDER_COLUMNS ORDER_FROM " WHERE o.id = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        read_order(st, out);
    sql_finalize(st);
    if (rc == SQL_ROW)
        return GEODATA_OK;
    return rc == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such order")
                             : geodata_fail_sql(store, "reading an order");
}

int geodata_orders_list(geodata_store *store, int64_t member, int by_maker, int64_t before,
                        size_t limit, int (*each)(void *arg, const geodata_order *o), void *arg,
                        int *more)
{
    *more = 0;
    if (limit < 1 || limit > (size_t)INT32_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "a page holds at least one order");
    sql_stmt *st = geodata_prepare(store, by_maker
        ? "SELECT " ORDER_COLUMNS ORDER_FROM " WHERE o.maker_id = ?1 AND o.id < ?3 "
          "ORDER BY o.id DESC LIMIT ?2"
        : "SELECT " ORDER_COLUMNS ORDER_FROM " WHERE o.requester_id = ?1 AND o.id < ?3 "
          "ORDER BY o.id DESC LIMIT ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, member);
    sql_bind_int64(st, 2, (long long)limit + 1);
    sql_bind_int64(st, 3, before > 0 ? before : INT64_MAX);
    geodata_order o;
    int rc = GEODATA_OK, row = 0;
    size_t n = 0;
    while (!rc && (row = geodata_step(store, st)) > 0) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        read_order(st, &o);
        rc = each(arg, &o);
    }
    if (!rc && row < 0)
        rc = row;
    sql_finalize(st);
    return rc;
}

int geodata_order_set_status(geodata_store *store, int64_t id, int64_t actor, const char *status,
                             int64_t now)
{
    static const struct { const char *from, *to; } steps[] = {
        { "pending", "accepted" }, { "pending", "declined" }, { "accepted", "ready" },
        { "accepted", "declined" }, { "ready", "delivered" },
    };
    geodata_order o;
    int rc = geodata_order_get(store, id, &o);
    if (rc)
        return rc;
    if (o.maker_id != actor)
        return geodata_fail(store, GEODATA_EDENIED, "only the maker changes an order's status");
    int ok = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        ok |= strcmp(steps[i].from, o.status) == 0 && strcmp(steps[i].to, status) == 0;
    if (!ok)
        return geodata_fail(store, GEODATA_ECONFLICT, "an order that is %s cannot become %s",
                            o.status, status);
    /* The order's step and, on delivery, the stock: one transaction. */
    if ((rc = geodata_begin(store)))
        return rc;
    sql_stmt *st = geodata_prepare(store,
        "UPDATE maker_orders SET status = ?2, updated_at = ?3 WHERE id = ?1 AND status = ?4");
    if (!st) {
        geodata_rollback(store);
        return GEODATA_EDB;
    }
    sql_bind_int64(st, 1, id);
    sql_bind_text(st, 2, status, -1, SQL_STATIC);
    sql_bind_int64(st, 3, now);
    sql_bind_text(st, 4, o.status, -1, SQL_STATIC);
    rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "changing an order");
    int changed = rc ? 0 : sql_changes(store);
    sql_finalize(st);
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ECONFLICT, "this order changed meanwhile");
    if (!rc && strcmp(status, "delivered") == 0) {
        /* The masks handed over leave the maker's stock (never below 0). */
        st = geodata_prepare(store, "UPDATE makers SET stock = "
                             "CASE WHEN stock > ?2 THEN stock - ?2 ELSE 0 END WHERE member_id = ?1");
        if (!st) {
            rc = GEODATA_EDB;
        } else {
            sql_bind_int64(st, 1, o.maker_id);
            sql_bind_int(st, 2, o.quantity);
            rc = sql_step(st) == SQL_DONE ? GEODATA_OK
                                                 : geodata_fail_sql(store, "updating the stock");
            sql_finalize(st);
        }
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}
