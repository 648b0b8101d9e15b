/*
 * geodata/store/sql.c — the bottom layer of the store: error messages on the
 * handle, one step of a read, prepared and cached statements, transactions,
 * suspending an index for a bulk load, and the audit log's writer. Every
 * other file of the library is built on these; these call nothing above
 * them (no open, no migration).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *geodata_vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *geodata_format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = geodata_vformat(fmt, ap);
    va_end(ap);
    return s;
}

int geodata_fail(geodata_store *store, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = geodata_vformat(fmt, ap);
    va_end(ap);
    free(store->err);
    store->err = msg; /* NULL when out of memory: geodata_errmsg copes */
    return code;
}

int geodata_sql_code(sqlite3 *db, int rc)
{
    /* The store's connections return extended codes (store.c), e.g.
     * SQLITE_IOERR_WRITE: compare their primary code, the low byte. */
    int primary = rc & 0xff;
    int sys = db ? sqlite3_system_errno(db) : 0;
    if (primary == SQLITE_NOMEM || rc == SQLITE_IOERR_NOMEM)
        return GEODATA_ENOMEM;
    if (primary == SQLITE_FULL || (primary == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT)))
        return GEODATA_EFULL;
    if (primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR || primary == SQLITE_READONLY
        || primary == SQLITE_PERM)
        return GEODATA_EIO;
    return GEODATA_EDB;
}

int geodata_fail_sql(geodata_store *store, const char *what)
{
    if (store->pg)
        return geodata_pg_fail(store, what);
    int code = geodata_sql_code(store->db, sqlite3_extended_errcode(store->db));
    return geodata_fail(store, code, "%s: %s", what, sqlite3_errmsg(store->db));
}

int geodata_step(geodata_store *store, sql_stmt *st)
{
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        return 1;
    if (rc == SQL_DONE)
        return 0;
    return geodata_fail_sql(store, "reading the database");
}

const char *geodata_errmsg(const geodata_store *store)
{
    if (!store)
        return "no store";
    return store->err ? store->err : "";
}

void geodata_column_text(sql_stmt *st, int col, char *out, size_t n)
{
    const unsigned char *s = sql_column_text(st, col);
    snprintf(out, n, "%s", s ? (const char *)s : "");
}

/* Wraps SQLite's statement lite (NULL: failed to prepare) in a sql_stmt. */
static sql_stmt *wrap_sqlite(geodata_store *store, sqlite3_stmt *lite)
{
    if (!lite) {
        geodata_fail_sql(store, "preparing a statement");
        return NULL;
    }
    sql_stmt *st = malloc(sizeof *st);
    if (!st) {
        sqlite3_finalize(lite);
        geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        return NULL;
    }
    *st = (sql_stmt){ .lite = lite };
    return st;
}

sql_stmt *geodata_prepare(geodata_store *store, const char *sql)
{
    if (store->pg)
        return geodata_pg_prepare(store, sql, 0);
    sqlite3_stmt *lite = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &lite, NULL) != SQLITE_OK) {
        sqlite3_finalize(lite);
        lite = NULL;
    }
    return wrap_sqlite(store, lite);
}

sql_stmt *geodata_prepare_stream(geodata_store *store, const char *sql)
{
    sql_stmt *st = geodata_prepare(store, sql);
    if (st && store->pg)
        geodata_pg_stream(st->pg);
    return st;
}

void sql_finalize(sql_stmt *st)
{
    if (!st)
        return;
    if (st->lite)
        sqlite3_finalize(st->lite);
    else
        geodata_pg_finalize(st->pg);
    free(st);
}

sql_stmt *geodata_cached(geodata_store *store, const char *sql)
{
    size_t free_slot = GEODATA_STMT_CACHE;
    for (size_t i = 0; i < GEODATA_STMT_CACHE; i++) {
        if (store->cache[i].sql == sql)
            return store->cache[i].st;
        if (!store->cache[i].sql && free_slot == GEODATA_STMT_CACHE)
            free_slot = i;
    }
    sql_stmt *st;
    if (store->pg) {
        st = geodata_pg_prepare(store, sql, 1);
    } else {
        sqlite3_stmt *lite = NULL;
        if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &lite, NULL)
            != SQLITE_OK) {
            sqlite3_finalize(lite);
            lite = NULL;
        }
        st = wrap_sqlite(store, lite);
    }
    if (!st)
        return NULL;
    if (free_slot < GEODATA_STMT_CACHE) {
        store->cache[free_slot].sql = sql;
        store->cache[free_slot].st = st;
    }
    return st;
}

void geodata_release(geodata_store *store, sql_stmt *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < GEODATA_STMT_CACHE; i++)
        if (store->cache[i].st == st) {
            sql_reset(st);
            sql_clear_bindings(st);
            return;
        }
    sql_finalize(st);
}

int geodata_exec(geodata_store *store, const char *sql, const char *what)
{
    if (store->pg)
        return geodata_pg_exec(store, sql, what);
    if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return geodata_fail_sql(store, what);
    return GEODATA_OK;
}

int geodata_begin(geodata_store *store)
{
    /* The write lock at once: SQLite's own, and on PostgreSQL the change
     * feed's counter row (schema_pg.c), which every write takes sooner or
     * later. Taking it first, writers queue as on SQLite and cannot deadlock
     * on rows they would otherwise lock in different orders. */
    return geodata_exec(store, GEODATA_DIALECT(store, "BEGIN IMMEDIATE",
                                               "BEGIN; SELECT last FROM changes_seq FOR UPDATE"),
                        "starting a transaction");
}

int geodata_commit(geodata_store *store)
{
    return geodata_exec(store, "COMMIT", "committing");
}

void geodata_rollback(geodata_store *store)
{
    if (!sql_in_transaction(store))
        return;
    char *keep = store->err;   /* the message of the failure that rolls back */
    store->err = NULL;
    geodata_exec(store, "ROLLBACK", "rolling back");
    free(store->err);
    store->err = keep;
}

int geodata_end(geodata_store *store, int rc)
{
    if (!rc)
        rc = geodata_commit(store);
    if (rc)
        geodata_rollback(store);
    return rc;
}

int geodata_write(geodata_store *store, sql_stmt *st, const char *what, int *changed)
{
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, what);
    if (changed)
        *changed = rc ? 0 : sql_changes(store);
    return rc;
}

int geodata_insert(geodata_store *store, sql_stmt *st, const char *what, int64_t *id)
{
    *id = 0;
    int step = sql_step(st);
    if (step == SQL_ROW) {
        *id = sql_column_int64(st, 0);
        step = sql_step(st);
    }
    if (step != SQL_DONE) {
        *id = 0;
        return geodata_fail_sql(store, what);
    }
    return GEODATA_OK;
}

int geodata_index_suspend(geodata_store *store, const char *name, char **sql)
{
    *sql = NULL;
    if (store->pg)   /* PostgreSQL keeps its indexes through a bulk load */
        return GEODATA_OK;
    sql_stmt *st = geodata_prepare(store,
        "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?");
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, name, -1, SQL_STATIC);
    int row = geodata_step(store, st);
    if (row > 0 && sql_column_type(st, 0) != SQL_NULL
        && !(*sql = sqlite3_mprintf("%s", (const char *)sql_column_text(st, 0))))
        row = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    sql_finalize(st);
    if (row < 0)
        return row;
    if (!*sql)
        return geodata_fail(store, GEODATA_EDB, "index %s is missing", name);
    char *drop = sqlite3_mprintf("DROP INDEX \"%w\"", name);
    int rc = drop ? geodata_exec(store, drop, "suspending an index") : GEODATA_ENOMEM;
    sqlite3_free(drop);
    return rc;
}

int geodata_index_restore(geodata_store *store, const char *sql)
{
    if (!sql)
        return GEODATA_OK;
    return geodata_exec(store, sql, "rebuilding an index");
}

int geodata_audit(geodata_store *store, long long actor_id, const char *action,
                  const char *target, const char *detail)
{
    sql_stmt *st = geodata_prepare(store,
        "INSERT INTO audit_log(actor_id, action, target, detail) VALUES (?,?,?,?)");
    if (!st)
        return GEODATA_EDB;
    if (actor_id > 0)
        sql_bind_int64(st, 1, actor_id);
    sql_bind_text(st, 2, action, -1, SQL_STATIC);
    sql_bind_text(st, 3, target, -1, SQL_STATIC);
    sql_bind_text(st, 4, detail, -1, SQL_STATIC);
    int rc = sql_step(st) == SQL_DONE ? GEODATA_OK
                                             : geodata_fail_sql(store, "writing the audit log");
    sql_finalize(st);
    return rc;
}


int geodata_store_error(geodata_store *store, int code, const char *msg)
{
    return geodata_fail(store, code, "%s", msg ? msg : "");
}

int geodata_store_batch(geodata_store *store, size_t n,
                        int (*write)(void *arg, size_t i, geodata_store *store), void *arg)
{
    /* On PostgreSQL a failed statement spoils its whole transaction: each
     * write runs after a savepoint, and a failed one is undone alone back to
     * it (which keeps the savepoint for the next); a write that succeeded is
     * kept by releasing it and setting the next in the same round trip. */
    int rc = geodata_begin(store);
    if (!rc && store->pg)
        rc = geodata_exec(store, "SAVEPOINT batch_write", "writing a batch");
    for (size_t i = 0; !rc && i < n; i++) {
        int one = write(arg, i, store);
        if (store->pg && sql_in_transaction(store) && (one || i + 1 < n)) {
            char *keep = store->err;   /* the write's own message is the caller's */
            store->err = NULL;
            rc = geodata_exec(store, one ? "ROLLBACK TO SAVEPOINT batch_write"
                                         : "RELEASE SAVEPOINT batch_write; SAVEPOINT batch_write",
                              "writing a batch");
            if (rc) {
                free(keep);   /* the savepoint's failure is the batch's */
                break;
            }
            free(store->err);
            store->err = keep;
        }
        /* An I/O error or a full disk may have rolled the whole transaction
         * back: then none of the batch is in, earlier writes included. */
        if (one && !sql_in_transaction(store))
            rc = one;
    }
    if (!rc)
        rc = geodata_commit(store);
    if (rc)
        geodata_rollback(store); /* keeps the message */
    return rc;
}
