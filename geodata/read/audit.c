/*
 * geodata/read/audit.c — the audit log's reader (audit.h). The log's writer,
 * geodata_audit(), lives in store.c with the other helpers every writer
 * shares.
 *
 * Texts are handed to the visitor as SQLite holds them, without copying:
 * they are valid until the visitor returns, which is all a JSON encoder
 * needs, and nothing is cut.
 */
#include "geodata/audit.h"
#include "internal.h"

int geodata_audit_read(geodata_store *store, int64_t before, int limit,
                       int (*each)(void *arg, const geodata_audit_entry *e), void *arg,
                       int *more)
{
    *more = 0;
    if (limit < 1 || limit > GEODATA_AUDIT_PAGE_MAX)
        return geodata_fail(store, GEODATA_EINVAL, "limit is 1 to %d", GEODATA_AUDIT_PAGE_MAX);
    sql_stmt *st = geodata_prepare(store,
        "SELECT a.id, a.at, coalesce(a.actor_id, 0), coalesce(m.display_name, ''), a.action, a.target, "
        "a.detail FROM audit_log a LEFT JOIN members m ON m.id = a.actor_id "
        "WHERE a.id < ?1 ORDER BY a.id DESC LIMIT ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
    sql_bind_int(st, 2, limit + 1);
    int rc = GEODATA_OK, step, seen = 0;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        if (seen++ == limit) {
            *more = 1;
            break;
        }
        geodata_audit_entry e = {
            .id = sql_column_int64(st, 0),
            .at = sql_column_int64(st, 1),
            .actor_id = sql_column_int64(st, 2),
            .action = (const char *)sql_column_text(st, 4),
            .target = (const char *)sql_column_text(st, 5),
            .detail = (const char *)sql_column_text(st, 6),
        };
        geodata_column_text(st, 3, e.actor_name, sizeof e.actor_name);
        if (!e.action)
            e.action = "";
        rc = each(arg, &e);
    }
    if (!rc && step != SQL_ROW && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading the audit log");
    sql_finalize(st);
    return rc;
}
