/*
 * geodata/domain/feeds.c — members' feed tokens (see feeds.h).
 */
#include "geodata/feeds.h"
#include "internal.h"

int geodata_feed_token_set(geodata_store *store, int64_t member, const unsigned char hash[32],
                           int64_t now)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO feed_tokens(member_id, token_hash, created_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT(member_id) DO UPDATE SET token_hash = excluded.token_hash, "
        "created_at = excluded.created_at");
    if (!st) {
        rc = GEODATA_EDB;
    } else {
        sql_bind_int64(st, 1, member);
        sql_bind_blob(st, 2, hash, 32, SQL_STATIC);
        sql_bind_int64(st, 3, now);
        rc = geodata_write(store, st, "making a feed token", NULL);
        sql_finalize(st);
    }
    if (!rc)
        rc = geodata_audit(store, member, "new feed token", NULL, NULL);
    return geodata_end(store, rc);
}

int geodata_feed_token_delete(geodata_store *store, int64_t member)
{
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store, "DELETE FROM feed_tokens WHERE member_id = ?1");
    int changed = 0;
    if (!st) {
        rc = GEODATA_EDB;
    } else {
        sql_bind_int64(st, 1, member);
        rc = geodata_write(store, st, "revoking a feed token", &changed);
        sql_finalize(st);
    }
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no feed address to revoke");
    if (!rc)
        rc = geodata_audit(store, member, "revoke feed token", NULL, NULL);
    return geodata_end(store, rc);
}

int geodata_feed_token_member(geodata_store *store, const unsigned char hash[32], int64_t *member,
                              int64_t *created_at)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT member_id, created_at FROM feed_tokens WHERE token_hash = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_blob(st, 1, hash, 32, SQL_STATIC);
    int row = geodata_step(store, st);
    if (row > 0) {
        *member = sql_column_int64(st, 0);
        *created_at = sql_column_int64(st, 1);
    }
    geodata_release(store, st);
    if (row < 0)
        return row;
    return row ? GEODATA_OK : geodata_fail(store, GEODATA_ENOTFOUND, "no such feed");
}

int geodata_feed_token_of(geodata_store *store, int64_t member, int64_t *created_at)
{
    *created_at = 0;
    sql_stmt *st = geodata_cached(store, "SELECT created_at FROM feed_tokens WHERE member_id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, member);
    int row = geodata_step(store, st);
    if (row > 0)
        *created_at = sql_column_int64(st, 0);
    geodata_release(store, st);
    return row < 0 ? row : GEODATA_OK;
}
