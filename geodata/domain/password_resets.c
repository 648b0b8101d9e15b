/*
 * geodata/domain/password_resets.c — a forgotten password, reset through a
 * one-time link (see members.h).
 *
 * The link carries a random secret; the store finds it by the secret's
 * hash, as it does session cookies. Until the service can mail the link,
 * the secret itself is also kept (column token) so that staff can read it
 * and pass it on to the member by a channel they trust; a link that was
 * mailed keeps only its hash. A member has at most one live link (a new
 * request replaces the old one), links expire, and using one spends it and
 * ends every session of the account.
 */
#include <stdio.h>

#include "geodata/members.h"
#include "internal.h"

static int step_or(geodata_store *store, sql_stmt *st, const char *what)
{
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, what);
    sql_finalize(st);
    return rc;
}

int geodata_password_reset_create(geodata_store *store, int64_t member, const unsigned char hash[32],
                                  const char *token, int64_t now, int64_t expires_at)
{
    int rc = geodata_begin(store);
    sql_stmt *st = rc ? NULL : geodata_prepare(store,
        "DELETE FROM password_resets WHERE member_id = ?1 OR expires_at <= ?2");
    if (!rc && !st)
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, member);
        sql_bind_int64(st, 2, now);
        rc = step_or(store, st, "replacing a reset link");
    }
    if (!rc && !(st = geodata_prepare(store,
            "INSERT INTO password_resets(member_id, token_hash, token, created_at, expires_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5)")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, member);
        sql_bind_blob(st, 2, hash, 32, SQL_STATIC);
        sql_bind_text(st, 3, token, -1, SQL_STATIC);
        sql_bind_int64(st, 4, now);
        sql_bind_int64(st, 5, expires_at);
        rc = step_or(store, st, "saving a reset link");
    }
    if (!rc) {
        char target[32];
        snprintf(target, sizeof target, "member %lld", (long long)member);
        rc = geodata_audit(store, 0, "password reset requested", target, NULL);
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}

int geodata_password_resets(geodata_store *store, int64_t now, int staff_too, int64_t before,
                            size_t limit,
                            int (*each)(void *arg, const geodata_password_reset *r), void *arg,
                            int *more)
{
    *more = 0;
    if (limit < 1 || limit > GEODATA_RESETS_PAGE)
        return geodata_fail(store, GEODATA_EINVAL, "a page holds 1 to %d links", GEODATA_RESETS_PAGE);
    sql_stmt *st = geodata_prepare(store,
        "SELECT r.id, r.member_id, m.display_name, m.email, r.token, r.created_at, r.expires_at "
        "FROM password_resets r JOIN members m ON m.id = r.member_id "
        "WHERE r.token IS NOT NULL AND r.expires_at > ?1 AND (?3 <> 0 OR m.role IN ('member', 'shop')) "
        "AND r.id < ?4 ORDER BY r.id DESC LIMIT ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, now);
    sql_bind_int64(st, 2, (long long)limit + 1);
    sql_bind_int(st, 3, staff_too != 0);
    sql_bind_int64(st, 4, before > 0 ? before : INT64_MAX);
    geodata_password_reset r;
    int rc = GEODATA_OK, step = SQL_DONE;
    size_t n = 0;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        if (n++ == limit) {
            *more = 1;
            break;
        }
        r.id = sql_column_int64(st, 0);
        r.member_id = sql_column_int64(st, 1);
        geodata_column_text(st, 2, r.display_name, sizeof r.display_name);
        geodata_column_text(st, 3, r.email, sizeof r.email);
        geodata_column_text(st, 4, r.token, sizeof r.token);
        r.created_at = sql_column_int64(st, 5);
        r.expires_at = sql_column_int64(st, 6);
        rc = each(arg, &r);
    }
    if (!rc && step != SQL_DONE && step != SQL_ROW)
        rc = geodata_fail_sql(store, "reading reset links");
    sql_finalize(st);
    return rc;
}

int geodata_password_reset_use(geodata_store *store, const unsigned char hash[32],
                               const char *password_hash, int64_t now, int64_t *member)
{
    *member = 0;
    int rc = geodata_begin(store);
    sql_stmt *st = rc ? NULL : geodata_prepare(store,
        "DELETE FROM password_resets WHERE token_hash = ?1 AND expires_at > ?2 RETURNING member_id");
    if (!rc && !st)
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_blob(st, 1, hash, 32, SQL_STATIC);
        sql_bind_int64(st, 2, now);
        int step = sql_step(st);
        if (step == SQL_ROW)
            *member = sql_column_int64(st, 0);
        else if (step == SQL_DONE)
            rc = geodata_fail(store, GEODATA_ENOTFOUND, "this link is unknown, already used or expired");
        else
            rc = geodata_fail_sql(store, "spending a reset link");
        sql_finalize(st);
    }
    if (!rc && !(st = geodata_prepare(store, "UPDATE members SET password_hash = ?2 WHERE id = ?1")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, *member);
        sql_bind_text(st, 2, password_hash, -1, SQL_STATIC);
        rc = step_or(store, st, "setting the new password");
    }
    if (!rc && !(st = geodata_prepare(store, "DELETE FROM sessions WHERE member_id = ?1")))
        rc = GEODATA_EDB;
    if (!rc) {
        sql_bind_int64(st, 1, *member);
        rc = step_or(store, st, "ending the account's sessions");
    }
    if (!rc) {
        char target[32];
        snprintf(target, sizeof target, "member %lld", (long long)*member);
        rc = geodata_audit(store, *member, "password reset", target, NULL);
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) {
        geodata_rollback(store);
        *member = 0;
    }
    return rc;
}
