/*
 * geodata/store/stmt.h — one prepared statement on either engine of the
 * store: SQLite with SpatiaLite (the embedded default) or PostgreSQL with
 * PostGIS (pg.c). The calls mirror SQLite's own, name for name
 * (sql_bind_int64 is sqlite3_bind_int64, sql_step is sqlite3_step, …), so
 * the library's SQL code reads the same on both engines; on SQLite each is
 * one branch and SQLite's call.
 *
 * SQL text is written once with SQLite's placeholders, `?` and `?NNN`; on
 * PostgreSQL they become `$n` (pg.c). Where the two engines' SQL must differ
 * (SpatiaLite's functions against PostGIS's, FTS5 against tsvector), the
 * caller writes both side by side with GEODATA_DIALECT (internal.h).
 *
 * Internal to the library: nothing here is part of its interface.
 */
#ifndef GEODATA_STMT_H
#define GEODATA_STMT_H

#include <sqlite3.h>
#include <stdint.h>

/* A PostgreSQL statement (pg.c). */
struct geodata_pg_stmt;

typedef struct sql_stmt {
    sqlite3_stmt *lite;           /* SQLite's statement; NULL on PostgreSQL */
    struct geodata_pg_stmt *pg;   /* PostgreSQL's; NULL on SQLite */
} sql_stmt;

/* Results of sql_step, as SQLite's. Any other value is an error, whose
 * message geodata_fail_sql (internal.h) reads from the store. */
#define SQL_ROW  SQLITE_ROW
#define SQL_DONE SQLITE_DONE

/* Lifetimes of bound text and blobs, as SQLite's: STATIC when the value
 * outlives the statement's step, TRANSIENT to have it copied. PostgreSQL
 * copies every value. */
#define SQL_STATIC    SQLITE_STATIC
#define SQL_TRANSIENT SQLITE_TRANSIENT

/* Column types, as SQLite's. */
#define SQL_INTEGER SQLITE_INTEGER
#define SQL_FLOAT   SQLITE_FLOAT
#define SQL_TEXT    SQLITE_TEXT
#define SQL_BLOB    SQLITE_BLOB
#define SQL_NULL    SQLITE_NULL

/* The PostgreSQL side (pg.c), with SQLite's meanings. */
int geodata_pg_bind_int64(struct geodata_pg_stmt *st, int i, int64_t v);
int geodata_pg_bind_double(struct geodata_pg_stmt *st, int i, double v);
int geodata_pg_bind_text(struct geodata_pg_stmt *st, int i, const char *s, int n);
int geodata_pg_bind_blob(struct geodata_pg_stmt *st, int i, const void *p, int n);
int geodata_pg_bind_null(struct geodata_pg_stmt *st, int i);
int geodata_pg_bind_parameter_count(struct geodata_pg_stmt *st);
int geodata_pg_step(struct geodata_pg_stmt *st);
void geodata_pg_reset(struct geodata_pg_stmt *st);
void geodata_pg_clear_bindings(struct geodata_pg_stmt *st);
void geodata_pg_finalize(struct geodata_pg_stmt *st);
int geodata_pg_column_type(struct geodata_pg_stmt *st, int col);
long long geodata_pg_column_int64(struct geodata_pg_stmt *st, int col);
double geodata_pg_column_double(struct geodata_pg_stmt *st, int col);
const unsigned char *geodata_pg_column_text(struct geodata_pg_stmt *st, int col);
const void *geodata_pg_column_blob(struct geodata_pg_stmt *st, int col);
int geodata_pg_column_bytes(struct geodata_pg_stmt *st, int col);

static inline int sql_bind_int64(sql_stmt *st, int i, long long v)
{
    return st->lite ? sqlite3_bind_int64(st->lite, i, v) : geodata_pg_bind_int64(st->pg, i, v);
}

static inline int sql_bind_int(sql_stmt *st, int i, int v)
{
    return st->lite ? sqlite3_bind_int(st->lite, i, v) : geodata_pg_bind_int64(st->pg, i, v);
}

static inline int sql_bind_double(sql_stmt *st, int i, double v)
{
    return st->lite ? sqlite3_bind_double(st->lite, i, v) : geodata_pg_bind_double(st->pg, i, v);
}

static inline int sql_bind_text(sql_stmt *st, int i, const char *s, int n, void (*life)(void *))
{
    return st->lite ? sqlite3_bind_text(st->lite, i, s, n, life)
                    : geodata_pg_bind_text(st->pg, i, s, n);
}

static inline int sql_bind_blob(sql_stmt *st, int i, const void *p, int n, void (*life)(void *))
{
    return st->lite ? sqlite3_bind_blob(st->lite, i, p, n, life)
                    : geodata_pg_bind_blob(st->pg, i, p, n);
}

static inline int sql_bind_null(sql_stmt *st, int i)
{
    return st->lite ? sqlite3_bind_null(st->lite, i) : geodata_pg_bind_null(st->pg, i);
}

static inline int sql_bind_parameter_count(sql_stmt *st)
{
    return st->lite ? sqlite3_bind_parameter_count(st->lite)
                    : geodata_pg_bind_parameter_count(st->pg);
}

static inline int sql_step(sql_stmt *st)
{
    return st->lite ? sqlite3_step(st->lite) : geodata_pg_step(st->pg);
}

static inline void sql_reset(sql_stmt *st)
{
    if (st->lite)
        sqlite3_reset(st->lite);
    else
        geodata_pg_reset(st->pg);
}

static inline void sql_clear_bindings(sql_stmt *st)
{
    if (st->lite)
        sqlite3_clear_bindings(st->lite);
    else
        geodata_pg_clear_bindings(st->pg);
}

static inline int sql_column_type(sql_stmt *st, int col)
{
    return st->lite ? sqlite3_column_type(st->lite, col) : geodata_pg_column_type(st->pg, col);
}

static inline long long sql_column_int64(sql_stmt *st, int col)
{
    return st->lite ? sqlite3_column_int64(st->lite, col) : geodata_pg_column_int64(st->pg, col);
}

static inline int sql_column_int(sql_stmt *st, int col)
{
    return st->lite ? sqlite3_column_int(st->lite, col) : (int)geodata_pg_column_int64(st->pg, col);
}

static inline double sql_column_double(sql_stmt *st, int col)
{
    return st->lite ? sqlite3_column_double(st->lite, col) : geodata_pg_column_double(st->pg, col);
}

static inline const unsigned char *sql_column_text(sql_stmt *st, int col)
{
    return st->lite ? sqlite3_column_text(st->lite, col) : geodata_pg_column_text(st->pg, col);
}

static inline const void *sql_column_blob(sql_stmt *st, int col)
{
    return st->lite ? sqlite3_column_blob(st->lite, col) : geodata_pg_column_blob(st->pg, col);
}

static inline int sql_column_bytes(sql_stmt *st, int col)
{
    return st->lite ? sqlite3_column_bytes(st->lite, col) : geodata_pg_column_bytes(st->pg, col);
}

/* Frees the statement (sqlite3_finalize). NULL is a no-op. Defined in sql.c. */
void sql_finalize(sql_stmt *st);

#endif
