/*
 * geodata/domain/members.c — members, sessions and visibility (see members.h).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "geodata/members.h"

int geodata_member_create(geodata_store *store, const geodata_new_member *m, int64_t *id)
{
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO members(email, password_hash, display_name, role, address_id, address_text, "
        "  home_lon, home_lat, neighbourhood_id) "
        "VALUES (?1, ?2, ?3, ?4, (SELECT id FROM addresses WHERE source_id = ?5), ?6, ?7, ?8, ?9) "
        "RETURNING id");
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, m->email, -1, SQL_STATIC);
    sql_bind_text(st, 2, m->password_hash, -1, SQL_STATIC);
    sql_bind_text(st, 3, m->display_name, -1, SQL_STATIC);
    sql_bind_text(st, 4, m->role ? m->role : "member", -1, SQL_STATIC);
    sql_bind_text(st, 5, m->address_id, -1, SQL_STATIC);
    sql_bind_text(st, 6, m->address_text, -1, SQL_STATIC);
    if (m->neighbourhood_id) {
        sql_bind_double(st, 7, m->home_lon);
        sql_bind_double(st, 8, m->home_lat);
    }
    sql_bind_text(st, 9, m->neighbourhood_id, -1, SQL_STATIC);
    int code = geodata_insert(store, st, "creating a member", id);
    if (code && sql_unique_violation(store))
        code = geodata_fail(store, GEODATA_ECONFLICT, "this email is already registered");
    sql_finalize(st);
    return code;
}

#define MEMBER_COLUMNS "m.id, m.email, m.display_name, m.role, coalesce(m.neighbourhood_id, ''), " \
                       "coalesce(n.name, '')"

static int read_member(geodata_store *store, sql_stmt *st, geodata_member *out, char *hash,
                       size_t n)
{ /* consumes st (through geodata_release) */
    int rc = sql_step(st);
    if (rc == SQL_ROW) {
        out->id = sql_column_int64(st, 0);
        geodata_column_text(st, 1, out->email, sizeof out->email);
        geodata_column_text(st, 2, out->display_name, sizeof out->display_name);
        geodata_column_text(st, 3, out->role, sizeof out->role);
        geodata_column_text(st, 4, out->neighbourhood_id, sizeof out->neighbourhood_id);
        geodata_column_text(st, 5, out->neighbourhood_name, sizeof out->neighbourhood_name);
        if (hash)
            geodata_column_text(st, 6, hash, n);
    }
    geodata_release(store, st);
    if (rc == SQL_ROW)
        return GEODATA_OK;
    if (rc == SQL_DONE)
        return geodata_fail(store, GEODATA_ENOTFOUND, "no such member");
    return geodata_fail_sql(store, "reading a member");
}

int geodata_member_get(geodata_store *store, int64_t id, geodata_member *out)
{
    sql_stmt *st = geodata_cached(store, "SELECT " MEMBER_COLUMNS " FROM members m "
        "LEFT JOIN neighbourhoods n ON n.id = m.neighbourhood_id WHERE m.id = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    return read_member(store, st, out, NULL, 0);
}

int geodata_member_by_email(geodata_store *store, const char *email, geodata_member *out,
                            char *hash, size_t n)
{
    sql_stmt *st = geodata_prepare(store, "SELECT " MEMBER_COLUMNS ", m.password_hash "
        "FROM members m LEFT JOIN neighbourhoods n ON n.id = m.neighbourhood_id WHERE m.email = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, email, -1, SQL_STATIC);
    return read_member(store, st, out, hash, n);
}

int geodata_session_create(geodata_store *store, const unsigned char hash[32], int64_t member_id,
                           const char *csrf, int64_t expires_at)
{
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO sessions(token_hash, member_id, csrf, expires_at) VALUES (?, ?, ?, ?)");
    if (!st)
        return GEODATA_EDB;
    sql_bind_blob(st, 1, hash, 32, SQL_STATIC);
    sql_bind_int64(st, 2, member_id);
    sql_bind_text(st, 3, csrf, -1, SQL_STATIC);
    sql_bind_int64(st, 4, expires_at);
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "creating a session");
    sql_finalize(st);
    return rc;
}

int geodata_session_get(geodata_store *store, const unsigned char hash[32], int64_t now,
                        geodata_session *out)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT member_id, csrf, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_blob(st, 1, hash, 32, SQL_STATIC);
    sql_bind_int64(st, 2, now);
    int rc = sql_step(st);
    if (rc == SQL_ROW) {
        out->member_id = sql_column_int64(st, 0);
        geodata_column_text(st, 1, out->csrf, sizeof out->csrf);
        out->expires_at = sql_column_int64(st, 2);
    }
    geodata_release(store, st);
    if (rc == SQL_ROW)
        return GEODATA_OK;
    return rc == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no such session")
                             : geodata_fail_sql(store, "reading a session");
}

int geodata_session_delete(geodata_store *store, const unsigned char hash[32])
{
    sql_stmt *st = geodata_prepare(store, "DELETE FROM sessions WHERE token_hash = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_blob(st, 1, hash, 32, SQL_STATIC);
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "ending a session");
    sql_finalize(st);
    return rc;
}

int geodata_session_purge(geodata_store *store, int64_t now, int64_t *n)
{
    sql_stmt *st = geodata_prepare(store, "DELETE FROM sessions WHERE expires_at <= ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, now);
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "purging sessions");
    *n = rc ? 0 : sql_changes(store);
    sql_finalize(st);
    return rc;
}
