/*
 * geodata/domain/post_reports.c — reports of posts and what staff do with them:
 * a member reports a post (once, the reason kept last), staff read the
 * reasons and dismiss the reports of a post they found fine. Hiding and
 * restoring a post are in posts.c; every staff action is audited.
 */
#include <stdio.h>

#include "geodata/posts.h"
#include "internal.h"

int geodata_post_report(geodata_store *store, int64_t id, int64_t reporter, const char *reason)
{
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO post_reports(post_id, reporter_id, reason) SELECT id, ?2, ?3 FROM posts WHERE id = ?1 "
        "ON CONFLICT(post_id, reporter_id) DO UPDATE SET reason = excluded.reason");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    if (reporter > 0)
        sql_bind_int64(st, 2, reporter);
    sql_bind_text(st, 3, reason ? reason : "", -1, SQL_STATIC);
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "reporting a post");
    int changed = rc ? 0 : sql_changes(store);
    sql_finalize(st);
    if (!rc && !changed)
        rc = geodata_fail(store, GEODATA_ENOTFOUND, "no such post");
    return rc;
}

int geodata_post_reports(geodata_store *store, int64_t id, int64_t after,
                         int (*each)(void *arg, const geodata_post_report_row *r), void *arg,
                         int *more)
{
    *more = 0;
    sql_stmt *st = geodata_prepare(store,
        "SELECT r.id, r.reason, r.created_at, coalesce(m.display_name, '') FROM post_reports r "
        "LEFT JOIN members m ON m.id = r.reporter_id WHERE r.post_id = ?1 AND r.id > ?3 "
        "ORDER BY r.id LIMIT ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, id);
    sql_bind_int(st, 2, GEODATA_REPORTS_PAGE + 1);
    sql_bind_int64(st, 3, after > 0 ? after : 0);
    geodata_post_report_row r;
    int rc = GEODATA_OK, step = SQL_DONE, n = 0;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        if (n++ == GEODATA_REPORTS_PAGE) {
            *more = 1;
            break;
        }
        r.id = sql_column_int64(st, 0);
        geodata_column_text(st, 1, r.reason, sizeof r.reason);
        r.created_at = sql_column_int64(st, 2);
        geodata_column_text(st, 3, r.reporter_name, sizeof r.reporter_name);
        rc = each(arg, &r);
    }
    if (!rc && step != SQL_DONE && step != SQL_ROW)
        rc = geodata_fail_sql(store, "reading reports");
    sql_finalize(st);
    return rc;
}

int geodata_post_reports_dismiss(geodata_store *store, int64_t id, int64_t staff, int64_t *dismissed)
{
    *dismissed = 0;
    int rc = geodata_begin(store);
    if (rc)
        return rc;
    sql_stmt *st = geodata_prepare(store, "DELETE FROM post_reports WHERE post_id = ?");
    if (!st)
        rc = GEODATA_EDB;
    else {
        sql_bind_int64(st, 1, id);
        rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "dismissing reports");
        *dismissed = rc ? 0 : sql_changes(store);
        sql_finalize(st);
    }
    if (!rc) {
        char target[32], detail[48];
        snprintf(target, sizeof target, "post %lld", (long long)id);
        snprintf(detail, sizeof detail, "%lld reports", (long long)*dismissed);
        rc = geodata_audit(store, staff, "dismiss reports", target, detail);
    }
    if (!rc) rc = geodata_commit(store);
    if (rc) geodata_rollback(store);
    return rc;
}
