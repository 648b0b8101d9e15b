/*
 * geodata/domain/member_account.c — a member's own account after registration:
 * display name, password and home changed, and the account deleted.
 *
 * A new home moves what is published from the old one: the maker profile's
 * point (the public ~200 m cell of the home, stored when the profile was
 * saved) becomes the new home's cell in the same transaction, so the change
 * feed's trigger moves it in tiles, /api/makers and /ogc at once. Posts
 * already published keep the point they were published at.
 *
 * Deleting keeps what others rely on and removes what was personal: the row
 * stays (posts, reports and the audit log point at it) but loses its email,
 * password, name and home; sessions end; the member's open and claimed
 * posts are cancelled (nobody can help them now), posts they had claimed
 * are open again for others, their messages and maker profile are deleted,
 * their pending shop claims withdrawn, any password reset link voided, and
 * their alert subscriptions and delivery log deleted.
 * Done posts stay, under the name GEODATA_DELETED_NAME. One transaction.
 */
#include <stdio.h>
#include <string.h>

#include "geodata/members.h"
#include "geodata/posts.h"
#include "internal.h"
#include "spatialite_blob.h"

int geodata_member_password_hash(geodata_store *store, int64_t id, char *hash, size_t n)
{
    sql_stmt *st = geodata_prepare(store, "SELECT password_hash FROM members WHERE id = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        geodata_column_text(st, 0, hash, n);
    sql_finalize(st);
    if (rc == SQL_ROW)
        return GEODATA_OK;
    return rc == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such member")
                             : geodata_fail_sql(store, "reading a member");
}

/* The maker profile of member id, if there is one, to the public cell of
 * home (a statement only when the cell changes, so that a move within the
 * cell leaves the change feed alone). */
static int move_maker(geodata_store *store, int64_t id, const geodata_new_member *home)
{
    double lon, lat;
    geodata_public_point(home->home_lon, home->home_lat, &lon, &lat);
    unsigned char blob[GEODATA_POINT_BLOB_SIZE];
    sql_stmt *st = geodata_prepare(store, GEODATA_DIALECT(store,
        "UPDATE makers SET geom = ?2 WHERE member_id = ?1 AND geom IS NOT ?2",
        "UPDATE makers SET geom = ?2 WHERE member_id = ?1 "
        "AND geom IS DISTINCT FROM ST_GeomFromEWKB(?2)"));
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    geodata_bind_point(store, st, 2, lon, lat, blob);
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK
                                             : geodata_fail_sql(store, "moving a maker's point");
    sql_finalize(st);
    return rc;
}

/* The UPDATE of the member's row (see geodata_member_update). */
static int member_update(geodata_store *store, int64_t id, const geodata_member_change *c)
{
    sql_stmt *st = geodata_prepare(store,
        "UPDATE members SET display_name = coalesce(?2, display_name), "
        "password_hash = coalesce(?3, password_hash), "
        "address_id = CASE WHEN ?4 <> 0 THEN (SELECT id FROM addresses WHERE source_id = ?5) ELSE address_id END, "
        "address_text = CASE WHEN ?4 <> 0 THEN ?6 ELSE address_text END, "
        "home_lon = CASE WHEN ?4 <> 0 THEN ?7 ELSE home_lon END, "
        "home_lat = CASE WHEN ?4 <> 0 THEN ?8 ELSE home_lat END, "
        "neighbourhood_id = CASE WHEN ?4 <> 0 THEN ?9 ELSE neighbourhood_id END "
        "WHERE id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_text(st, 2, c->display_name, -1, SQL_STATIC);
    sql_bind_text(st, 3, c->password_hash, -1, SQL_STATIC);
    sql_bind_int(st, 4, c->home != NULL);
    if (c->home) {
        sql_bind_text(st, 5, c->home->address_id, -1, SQL_STATIC);
        sql_bind_text(st, 6, c->home->address_text, -1, SQL_STATIC);
        sql_bind_double(st, 7, c->home->home_lon);
        sql_bind_double(st, 8, c->home->home_lat);
        sql_bind_text(st, 9, c->home->neighbourhood_id, -1, SQL_STATIC);
    }
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "updating a member");
    int changed = rc ? 0 : sql_changes(store);
    sql_finalize(st);
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such member");
    return rc;
}

int geodata_member_update(geodata_store *store, int64_t id, const geodata_member_change *c)
{
    /* A new home: the member and their maker point change together. */
    if (c->home) {
        int rc = geodata_begin(store);
        if (!rc)
            rc = member_update(store, id, c);
        if (!rc)
            rc = move_maker(store, id, c->home);
        if (!rc)
            rc = geodata_commit(store);
        if (rc)
            geodata_rollback(store);
        return rc;
    }
    return member_update(store, id, c);
}

/* Runs one statement of the deletion with the member's id as ?1 (and now as
 * ?2 where it is used). */
static int step_with(geodata_store *store, const char *sql, int64_t id, int64_t now)
{
    sql_stmt *st = geodata_prepare(store, sql);
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    if (sql_bind_parameter_count(st) >= 2)
        sql_bind_int64(st, 2, now);
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "deleting an account");
    sql_finalize(st);
    return rc;
}

int geodata_member_delete(geodata_store *store, int64_t id, int64_t now)
{
    static const char *const steps[] = {
        "UPDATE posts SET status = 'cancelled', updated_at = ?2 "
        "WHERE author_id = ?1 AND status IN ('open', 'claimed')",
        "UPDATE posts SET status = 'open', claimed_by = NULL, claimed_at = NULL, updated_at = ?2 "
        "WHERE claimed_by = ?1 AND status = 'claimed'",
        "DELETE FROM post_messages WHERE author_id = ?1",
        "DELETE FROM makers WHERE member_id = ?1",
        "UPDATE maker_orders SET status = 'declined', updated_at = ?2 "
        "WHERE (requester_id = ?1 OR maker_id = ?1) AND status IN ('pending', 'accepted', 'ready')",
        "DELETE FROM sessions WHERE member_id = ?1",
        "UPDATE shops SET owner_id = NULL WHERE owner_id = ?1",
        "UPDATE shop_claims SET status = 'withdrawn', decided_at = ?2 WHERE member_id = ?1 AND status = 'pending'",
        "DELETE FROM password_resets WHERE member_id = ?1",
        "DELETE FROM alert_deliveries WHERE member_id = ?1",
        "DELETE FROM subscriptions WHERE member_id = ?1",
        "UPDATE members SET email = 'deleted-' || id || '@deleted.invalid', password_hash = '', "
        "display_name = '" GEODATA_DELETED_NAME "', address_id = NULL, address_text = NULL, "
        "home_lon = NULL, home_lat = NULL WHERE id = ?1",
    };
    int rc = geodata_begin(store);
    for (size_t i = 0; !rc && i < sizeof steps / sizeof *steps; i++)
        rc = step_with(store, steps[i], id, now);
    if (!rc) {
        char target[32];
        snprintf(target, sizeof target, "member %lld", (long long)id);
        rc = geodata_audit(store, id, "delete account", target, NULL);
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}
