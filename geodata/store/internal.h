/*
 * geodata/store/internal.h — what the files of the geodata library share and
 * callers must not see: the store's layout, error helpers, statement helpers.
 */
#ifndef GEODATA_INTERNAL_H
#define GEODATA_INTERNAL_H

#include <stdarg.h>
#include <sqlite3.h>

#include "geodata/import.h"
#include "geodata/store.h"
#include "stmt.h"

struct geodata_metric;
struct geodata_pg;

#define GEODATA_STMT_CACHE 48
#define STORE_CACHE_KIB "-65536"   /* every connection's page cache: 64 MiB (PRAGMA cache_size) */

struct geodata_store {
    sqlite3 *db;                    /* SQLite: one connection, used by one thread at a
                                       time; NULL on PostgreSQL */
    struct geodata_pg *pg;          /* PostgreSQL: the connection (pg.c); NULL on SQLite */
    char *err;                      /* malloc'd message of the last failure, or NULL */
    struct geodata_metric *metric;  /* metres for distance queries; made on first use */
    struct {
        const char *sql;            /* the literal's address is the key */
        sql_stmt *st;
    } cache[GEODATA_STMT_CACHE];    /* statements of the request paths, kept prepared */
};

/* The SQL of the store's engine: sqlite on SpatiaLite, pg on PostGIS. Where
 * the two must differ, both are written at the call, side by side. Both are
 * string literals, so geodata_cached keys them apart. */
#define GEODATA_DIALECT(store, sqlite_sql, pg_sql) ((store)->pg ? (pg_sql) : (sqlite_sql))

/* The PostgreSQL engine (pg.c). geodata_store_open hands it a connection
 * string (geodata_pg_conninfo tells one from a file path). */
int geodata_pg_conninfo(const char *db);
int geodata_pg_open(geodata_store *store, const char *conninfo, unsigned flags);
void geodata_pg_close(struct geodata_pg *pg);
sql_stmt *geodata_pg_prepare(geodata_store *store, const char *sql, int kept);
/* The statement is read through a cursor (geodata_prepare_stream). */
void geodata_pg_stream(struct geodata_pg_stmt *st);
int geodata_pg_exec(geodata_store *store, const char *sql, const char *what);
int geodata_pg_fail(geodata_store *store, const char *what);
int geodata_pg_changes(struct geodata_pg *pg);
int geodata_pg_in_transaction(struct geodata_pg *pg);
int geodata_pg_unique_violation(struct geodata_pg *pg);
/* COPY … FROM STDIN (sql) with data, len bytes of rows in COPY's text format
 * (tab between columns, newline after each row, \N for NULL, each text
 * escaped by geodata_pg_copy_text): the bulk path of the imports, one round
 * trip for many rows. sql_changes then gives the rows copied. */
int geodata_pg_copy(geodata_store *store, const char *sql, const char *data, size_t len,
                    const char *what);
/* s escaped for COPY's text format into dst (room for twice strlen(s) bytes,
 * not terminated): the bytes written. */
size_t geodata_pg_copy_text(char *dst, const char *s);
/* geodata_store_backup on PostgreSQL: pg_dump's custom format, checked by
 * pg_restore --list; no file is left behind on failure. */
int geodata_pg_backup(geodata_store *store, const char *path);
/* The database as messages name it (geodata_store_name). */
const char *geodata_pg_label(const struct geodata_pg *pg);
/* The GEODATA_E* code of a PostgreSQL SQLSTATE. */
int geodata_pg_code(const char *sqlstate);
/* A file of this machine for what (e.g. "geocoder") of the PostgreSQL store:
 * under $TMPDIR or /var/tmp, named after the connection string. malloc'd. */
char *geodata_pg_cache_path(struct geodata_pg *pg, const char *what);

/* Rows changed by the last write of the store's connection (sqlite3_changes). */
static inline int sql_changes(geodata_store *store)
{
    return store->pg ? geodata_pg_changes(store->pg) : sqlite3_changes(store->db);
}

/* Whether a transaction is open on the store's connection. */
static inline int sql_in_transaction(geodata_store *store)
{
    return store->pg ? geodata_pg_in_transaction(store->pg) : !sqlite3_get_autocommit(store->db);
}

/* Whether the last failure was a UNIQUE constraint's. */
static inline int sql_unique_violation(geodata_store *store)
{
    return store->pg ? geodata_pg_unique_violation(store->pg)
                     : sqlite3_extended_errcode(store->db) == SQLITE_CONSTRAINT_UNIQUE;
}

/* The store's metric projection, centred on its neighbourhoods (geom.h);
 * NULL with the message set when it cannot be made. */
struct geodata_metric *geodata_store_metric(geodata_store *store);

/* Sets the store's message from a printf format and returns code, so a
 * failing path reads `return geodata_fail(store, GEODATA_EINVAL, "...")`. */
int geodata_fail(geodata_store *store, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like geodata_fail, appending SQLite's own message: "what: sqlite says".
 * The code is geodata_sql_code's for the connection's last error. */
int geodata_fail_sql(geodata_store *store, const char *what);

/* The GEODATA_E* code for SQLite's result rc (primary or extended) met on
 * db: GEODATA_EFULL for a full disk — SQLITE_FULL, or an I/O error whose
 * system error (sqlite3_system_errno) is ENOSPC or EDQUOT, as a failed
 * fsync or shared-memory extension of the WAL reports it —, GEODATA_ENOMEM,
 * GEODATA_EIO for a file that cannot be opened, read or written, else
 * GEODATA_EDB. */
int geodata_sql_code(sqlite3 *db, int rc);

/* One step of a statement that reads: 1 when it gave a row, 0 when it is
 * done, or a GEODATA_E* code with the message set (busy, I/O, corrupt,
 * out of memory), so that a failing read is an error and never a shorter
 * list. Every read loop goes `while ((row = geodata_step(s, st)) > 0)`,
 * then `if (row < 0)`. */
int geodata_step(geodata_store *store, sql_stmt *st);

/* The audience rule (audience.h) in SQL, for a column col holding a
 * neighbourhood id and a parameter p bound by geodata_audience_bind: NULL
 * for staff (every row), the member's home (it and the contiguous ones), ""
 * for nobody (no row). The one place the rule is written in SQL. */
#define GEODATA_AUDIENCE_SQL(col, p) \
    "(CAST(" p " AS TEXT) IS NULL OR " col " = " p " OR " col \
    " IN (SELECT b FROM neighbourhood_contiguity WHERE a = " p "))"
struct geodata_audience;
/* Binds parameter i of st for GEODATA_AUDIENCE_SQL; a NULL audience is
 * every row. a must outlive the statement's use. */
void geodata_audience_bind(sql_stmt *st, int i, const struct geodata_audience *a);

/* Keywords as an FTS5 query into out (of size n): each word (letters and
 * digits) quoted, all required. Other characters only separate words, so no
 * input can form FTS5 syntax. Empty when there is no word (fts.c). */
void geodata_fts_query(const char *keywords, char *out, size_t n);
/* The same words as a PostgreSQL tsquery text into out (of size n): each
 * quoted, all required (`'word1' & 'word2'`; a word cut by non-ASCII
 * punctuation is a phrase, `'l' <-> 'eau'`), for
 * `fts @@ to_tsquery('simple', unaccent(?))` (fts.c). Empty when there is
 * no word. */
void geodata_fts_tsquery(const char *keywords, char *out, size_t n);
/* The store's engine's one of the two above: the text to bind where
 * SQLite says `posts_fts MATCH ?` and PostgreSQL
 * `fts @@ to_tsquery('simple', unaccent(?))`. */
void geodata_fts_keywords(geodata_store *store, const char *keywords, char *out, size_t n);

/* malloc'd printf, or NULL when out of memory. */
char *geodata_vformat(const char *fmt, va_list ap);
char *geodata_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies the text of a result column into out (of size n; "" for NULL). */
void geodata_column_text(sql_stmt *st, int col, char *out, size_t n);

/* Prepares sql on the store; on failure sets the message and returns NULL. */
sql_stmt *geodata_prepare(geodata_store *store, const char *sql);
/* Like geodata_prepare for a read of a whole table (the geocoder's load, the
 * streets' pass, the posts' read model, an export): SQLite steps through its rows as
 * always; PostgreSQL, which would hold the whole result in memory, reads it
 * through a cursor, a page of rows at a time. */
sql_stmt *geodata_prepare_stream(geodata_store *store, const char *sql);

/* Like geodata_prepare for a statement run on every request: sql must be a
 * string literal (its address is the cache key). The statement is kept
 * prepared; give it back with geodata_release(), never sql_finalize(). A
 * full cache simply prepares anew (and geodata_release then finalizes). */
sql_stmt *geodata_cached(geodata_store *store, const char *sql);
/* Resets a statement from geodata_cached (ending its read) and clears its
 * bindings; finalizes it when it was not kept. NULL is a no-op. */
void geodata_release(geodata_store *store, sql_stmt *st);

/* Transactions. geodata_begin takes the write lock at once (BEGIN IMMEDIATE)
 * so that an import never fails halfway for want of it; geodata_rollback is
 * safe to call when no transaction is open and keeps the current message. */
/* Runs sql (no result rows) on store: 0, or a GEODATA_E* code with the
 * message "what: SQLite's words". */
int geodata_exec(geodata_store *store, const char *sql, const char *what);
int geodata_begin(geodata_store *store);

/* A bulk write (an import) on a store that no other connection has open
 * runs with the rollback journal instead of the WAL: each page is written
 * once, in place (pages added to the file need no journal at all), where
 * the WAL takes every page, and more than once when a page spills from the
 * cache and changes again, then copies it all into the database at the
 * checkpoint. The atomicity is the same: a crash or a full disk leaves the
 * journal, and the next opening rolls the database back. Outside any
 * transaction. Returns 1 when switched (geodata_bulk_done switches back),
 * 0 when another connection has the store open: the WAL stays, and the
 * write is only slower. */
int geodata_bulk_journal(geodata_store *store);
void geodata_bulk_done(geodata_store *store, int switched);
int geodata_commit(geodata_store *store);
void geodata_rollback(geodata_store *store);
/* Ends the transaction of a write: commits when rc is 0, else (or when the
 * commit fails) rolls back; returns the outcome. `return geodata_end(store,
 * rc);` closes a writer. */
int geodata_end(geodata_store *store, int rc);

/* Steps st, a statement that writes (the caller keeps it: release or
 * finalize): 0, or the error "what: SQLite's words"; *changed (when not
 * NULL) gets the rows it changed. */
int geodata_write(geodata_store *store, sql_stmt *st, const char *what, int *changed);

/* Steps st, an INSERT … RETURNING id (the caller keeps it): 0 with *id the
 * new row's id, or 0 when the statement inserted nothing (an INSERT …
 * SELECT that found no row); else the error "what: the engine's words". */
int geodata_insert(geodata_store *store, sql_stmt *st, const char *what, int64_t *id);

/* Drops the index `name` for a bulk load, giving its CREATE statement in *sql
 * (sqlite3_free it) for geodata_index_restore() in the same transaction. */
int geodata_index_suspend(geodata_store *store, const char *name, char **sql);
int geodata_index_restore(geodata_store *store, const char *sql);

/* Adds a printf-formatted note to a report, keeping the first
 * GEODATA_REPORT_NOTES and counting the rest. */
void geodata_report_note(geodata_report *report, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends one line to the audit log; actor_id <= 0 means "the command line". */
int geodata_audit(geodata_store *store, long long actor_id, const char *action,
                  const char *target, const char *detail);

/* Runs the pending schema migrations (schema.c). */
int geodata_schema_migrate(geodata_store *store);

#endif
