/*
 * geodata/store/pg.c — the PostgreSQL engine of the store, through libpq:
 * telling a connection string from a file path, connecting (then creating or
 * checking the schema: schema_pg.c), statements behind SQLite's calls
 * (stmt.h), transactions' state, and errors with their codes.
 *
 * Statements. A statement's SQL is written with SQLite's placeholders and
 * turned into PostgreSQL's `$n` once, when it is made. A statement kept by
 * geodata_cached is prepared once per connection under a name of its own
 * and run with PQexecPrepared; any other runs with PQexecParams (parsed each
 * time) until it runs a second time, when it is prepared too. Parameters
 * travel as text, save blobs (bytea, binary); integers and doubles declare
 * their type, text takes the type its place in the SQL gives it. Results
 * come as text and are converted when read: integers (booleans 't'/'f' are 1
 * and 0, as SQLite's comparisons give), doubles, bytea's hex, and PostGIS
 * geometries' hex EWKB, read as bytes (spatialite_blob.c reads points). A result is
 * held whole in memory until the statement is reset: the library's reads are
 * pages and bounded lists, save the reads of whole tables, which are made
 * with geodata_prepare_stream and read through a cursor WITH HOLD, a page
 * of STREAM_ROWS at a time (the geocoder's load, the streets' pass, the
 * posts' read model, exports of whole layers).
 *
 * Connections. The string is libpq's (a URI or key=value pairs), so several
 * hosts and target_session_attrs=read-write find the primary among a primary
 * and its standby. When the connection is lost (the server restarted, a
 * standby was promoted), the statement under way fails as "unavailable" —
 * its outcome unknown to the caller, it is not run again — and the next
 * statement outside a transaction connects anew, prepares again, and goes on.
 * A transaction dies with its connection: its later statements fail until
 * the caller rolls back, never running on the new connection one by one.
 *
 * Also here, as they need the connection: backups (pg_dump, then
 * pg_restore --list), and waiting for the change feed's notices (LISTEN).
 *
 * Durability: synchronous_commit stays on (the server's default); a commit
 * returns once its WAL is flushed on the primary.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "geodata/changes.h"
#include "schema_pg.h"   /* geodata_pg_schema, GEODATA_PG_BASE_VERSION */

extern char **environ;

/* Type OIDs of pg_type, stable across releases. */
#define OID_BOOL   16
#define OID_BYTEA  17
#define OID_INT8   20
#define OID_INT2   21
#define OID_INT4   23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

/* How long connecting may take before the attempt (or the host) is given up. */
#define CONNECT_TIMEOUT_S "5"

struct geodata_pg {
    PGconn *conn;
    char *conninfo;        /* as given, to connect again */
    char *label;           /* the database named without a password, for messages */
    unsigned generation;   /* bumped at each connection: prepared names are lost with it */
    unsigned next_name;    /* statement names s1, s2, … on this store */
    int changes;           /* rows changed by the last statement */
    unsigned geometry_oid; /* PostGIS's geometry type, whose text is hex EWKB */
    int timeout_ms;        /* the statement_timeout set, set again on a new connection */
    unsigned listening;    /* the generation LISTEN geodata_changes was sent on, or 0 */
    int in_txn;            /* a transaction of the library's (geodata_begin) is open */
    char sqlstate[6];      /* of the last failure, "" when none */
};

struct geodata_pg_stmt {
    geodata_store *store;
    char *sql;             /* with $n placeholders */
    int nparams;           /* PostgreSQL's parameters, $1 … */
    int *map;              /* SQLite's parameter i is PostgreSQL's map[i] (0: unused) */
    int nlite;             /* SQLite's highest parameter number */
    char **values;         /* nparams values; NULL is SQL NULL */
    int *lengths;          /* byte lengths (blobs) */
    int *formats;          /* 0 text, 1 binary (blobs) */
    unsigned *types;       /* declared type OIDs; 0 lets the server infer */
    int kept;              /* prepare it at its first run */
    unsigned runs;         /* times run since made */
    char name[16];         /* "" until prepared */
    unsigned prepared_gen; /* the connection generation it was prepared on */
    PGresult *res;         /* the result being read, or NULL before a run */
    int row, nrows;        /* current row (-1 before the first) and row count */
    unsigned char *blob;   /* a decoded bytea or geometry of the current row */
    int blob_is_malloc;    /* freed with free(), else with PQfreemem() */
    size_t blob_len;
    int blob_col, blob_row;
    int stream;            /* read through a cursor, STREAM_ROWS at a time */
    char cursor[16];       /* its name while open, else "" */
    unsigned cursor_gen;   /* the connection generation it was opened on */
    int more;              /* the last page was full: there may be more rows */
};

/* Rows a streamed statement holds at once (geodata_prepare_stream). */
#define STREAM_ROWS 10000

static int ensure_connected(geodata_store *store);

int geodata_pg_conninfo(const char *db)
{
    if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)
        return 1;
    /* key=value pairs: a first word of letters and underscores, then '='. */
    const char *p = db;
    while (isspace((unsigned char)*p))
        p++;
    const char *w = p;
    while (isalpha((unsigned char)*p) || *p == '_')
        p++;
    while (isspace((unsigned char)*p))
        p++;
    return p > w && *p == '=';
}

/* The database as messages name it: host, port and name, never the password. */
static char *make_label(PGconn *conn, const char *conninfo)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    const char *host = NULL, *port = NULL, *dbname = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0) host = o->val;
        else if (strcmp(o->keyword, "port") == 0) port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0) dbname = o->val;
    }
    if (conn && PQstatus(conn) == CONNECTION_OK) {
        host = PQhost(conn);
        port = PQport(conn);
        dbname = PQdb(conn);
    }
    char *label = geodata_format("PostgreSQL database %s%s%s%s%s", dbname ? dbname : "(default)",
                                 host ? " on " : "", host ? host : "", port ? ":" : "",
                                 port ? port : "");
    PQconninfoFree(opts);
    return label;
}

/* Records the failure of res (or of the connection when res is NULL) as the
 * store's message "what: PostgreSQL's words" and returns its code. */
static int fail_result(geodata_store *store, const PGresult *res, const char *what)
{
    struct geodata_pg *pg = store->pg;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state && PQstatus(pg->conn) != CONNECTION_OK)
        state = "08006";   /* connection failure */
    snprintf(pg->sqlstate, sizeof pg->sqlstate, "%s", state ? state : "XX000");
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg || !*msg)
        msg = PQerrorMessage(pg->conn);
    int n = (int)strcspn(msg, "\n");
    return geodata_fail(store, geodata_pg_code(pg->sqlstate), "%s: %.*s", what, n, msg);
}

int geodata_pg_code(const char *sqlstate)
{
    if (strcmp(sqlstate, "53100") == 0)                      /* disk_full */
        return GEODATA_EFULL;
    if (strcmp(sqlstate, "53200") == 0)                      /* out_of_memory */
        return GEODATA_ENOMEM;
    if (strncmp(sqlstate, "08", 2) == 0                      /* connection exceptions */
        || strcmp(sqlstate, "57014") == 0                    /* query_canceled (timeout) */
        || strcmp(sqlstate, "57P01") == 0                    /* admin_shutdown */
        || strcmp(sqlstate, "57P03") == 0                    /* cannot_connect_now */
        || strcmp(sqlstate, "25006") == 0                    /* read_only_sql_transaction */
        || strcmp(sqlstate, "40001") == 0                    /* serialization_failure */
        || strcmp(sqlstate, "40P01") == 0                    /* deadlock_detected */
        || strcmp(sqlstate, "55P03") == 0)                   /* lock_not_available */
        return GEODATA_EUNAVAIL;
    return GEODATA_EDB;
}

int geodata_pg_fail(geodata_store *store, const char *what)
{
    /* The statement's own failure was recorded when it ran (fail_result);
     * keep its words, prefixed with what the caller was doing. */
    const char *prev = geodata_errmsg(store);
    char *msg = geodata_format("%s: %s", what, prev);
    int code = geodata_pg_code(store->pg->sqlstate[0] ? store->pg->sqlstate : "XX000");
    free(store->err);
    store->err = msg;
    return code;
}

int geodata_changes_wait(geodata_store *store, int timeout_ms)
{
    struct geodata_pg *pg = store->pg;
    if (!pg)
        return 0;
    int rc = ensure_connected(store);
    if (!rc && pg->listening != pg->generation) {   /* LISTEN again on every new connection */
        rc = geodata_pg_exec(store, "LISTEN geodata_changes", "listening to the change feed");
        if (!rc)
            pg->listening = pg->generation;
    }
    if (rc)
        return rc;
    int woken = 0;
    PGnotify *n;
    for (int turn = 0; turn < 2 && !woken; turn++) {
        if (!PQconsumeInput(pg->conn))
            return fail_result(store, NULL, "listening to the change feed");
        while ((n = PQnotifies(pg->conn))) {
            woken = 1;
            PQfreemem(n);
        }
        if (woken || turn)
            break;
        struct pollfd p = { .fd = PQsocket(pg->conn), .events = POLLIN };
        if (p.fd < 0)
            return fail_result(store, NULL, "listening to the change feed");
        if (poll(&p, 1, timeout_ms) <= 0)
            return 0;
    }
    return woken;
}

const char *geodata_pg_label(const struct geodata_pg *pg)
{
    return pg->label ? pg->label : "PostgreSQL database";
}

int geodata_pg_changes(struct geodata_pg *pg)
{
    return pg->changes;
}

int geodata_pg_in_transaction(struct geodata_pg *pg)
{
    if (pg->in_txn)
        return 1;
    PGTransactionStatusType t = PQtransactionStatus(pg->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

int geodata_pg_unique_violation(struct geodata_pg *pg)
{
    return strcmp(pg->sqlstate, "23505") == 0;
}

/* Connects (again) with the store's string: defaults first, so that the
 * string's own values win. */
static int connect_pg(geodata_store *store)
{
    struct geodata_pg *pg = store->pg;
    if (pg->conn)
        PQfinish(pg->conn);
    const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
    const char *values[] = { CONNECT_TIMEOUT_S, "mapd", pg->conninfo, NULL };
    pg->conn = PQconnectdbParams(keys, values, 1);
    pg->generation++;
    pg->sqlstate[0] = '\0';
    if (!pg->conn)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        snprintf(pg->sqlstate, sizeof pg->sqlstate, "08001");
        const char *msg = PQerrorMessage(pg->conn);
        /* libpq's message spans lines: one per host tried, each maybe
         * followed by a hint indented with a tab. Keep the last host's. */
        const char *line = msg, *p = msg;
        while (*p) {
            if (*p != '\t' && *p != '\n')
                line = p;
            p += strcspn(p, "\n");
            p += *p == '\n';
        }
        return geodata_fail(store, GEODATA_EUNAVAIL, "cannot connect to the %s: %.*s", pg->label,
                            (int)strcspn(line, "\n"), line);
    }
    /* The session's settings, on every connection: durable commits (the
     * server's default, made sure of), and the time budget if one is set. */
    char sql[160];
    snprintf(sql, sizeof sql, "SET synchronous_commit = on; SET client_min_messages = warning; "
             "SET statement_timeout = %d", pg->timeout_ms);
    return geodata_pg_exec(store, sql, "setting up the connection");
}

/* Before a statement: a lost connection is made again, unless a transaction
 * was under way on it (its statements are gone; the caller's rollback ends it). */
static int ensure_connected(geodata_store *store)
{
    struct geodata_pg *pg = store->pg;
    if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK)
        return GEODATA_OK;
    /* A transaction dies with its connection: its later statements must not
     * run on a new one, each committed alone. They fail until the caller
     * rolls back (geodata_pg_exec). */
    if (pg->in_txn) {
        snprintf(pg->sqlstate, sizeof pg->sqlstate, "08006");
        return geodata_fail(store, GEODATA_EUNAVAIL, "the connection to the %s was lost in a "
                            "transaction, which the server rolled back", pg->label);
    }
    return connect_pg(store);
}

int geodata_pg_exec(geodata_store *store, const char *sql, const char *what)
{
    struct geodata_pg *pg = store->pg;
    int begin = strncmp(sql, "BEGIN", 5) == 0, commit = strncmp(sql, "COMMIT", 6) == 0,
        rollback = strncmp(sql, "ROLLBACK", 8) == 0 && strncmp(sql, "ROLLBACK TO", 11) != 0;
    if (rollback && pg->in_txn && (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK)) {
        pg->in_txn = 0;   /* the server rolled it back when the connection went */
        return GEODATA_OK;
    }
    int rc = ensure_connected(store);
    if (rc)
        return rc;
    PGresult *res = PQexec(pg->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        pg->changes = atoi(PQcmdTuples(res));
        rc = GEODATA_OK;
        /* COMMIT of a transaction in which a statement failed is answered
         * "ROLLBACK", without an error: nothing of it is in. */
        if (commit && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
            snprintf(pg->sqlstate, sizeof pg->sqlstate, "40000");
            rc = geodata_fail(store, GEODATA_EDB, "%s: a statement of the transaction failed: "
                              "it was rolled back", what);
        }
    } else {
        rc = fail_result(store, res, what);
    }
    PQclear(res);
    if (begin && !rc)
        pg->in_txn = 1;
    if (commit || rollback)
        pg->in_txn = 0;
    return rc;
}

int geodata_pg_copy(geodata_store *store, const char *sql, const char *data, size_t len,
                    const char *what)
{
    struct geodata_pg *pg = store->pg;
    int rc = ensure_connected(store);
    if (rc)
        return rc;
    PGresult *res = PQexec(pg->conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        rc = fail_result(store, res, what);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    /* Sent in pieces below libpq's int length; an error the server raises
     * mid-way comes with the result after the end. */
    int ok = 1;
    for (size_t off = 0; ok && off < len;) {
        size_t n = len - off < (1u << 20) ? len - off : (1u << 20);
        ok = PQputCopyData(pg->conn, data + off, (int)n) == 1;
        off += n;
    }
    if (PQputCopyEnd(pg->conn, ok ? NULL : "the client could not send the rows") != 1)
        return fail_result(store, NULL, what);
    rc = GEODATA_OK;
    while ((res = PQgetResult(pg->conn))) {   /* until NULL: the connection is free again */
        if (rc)
            ;   /* the first failure is the one reported */
        else if (PQresultStatus(res) == PGRES_COMMAND_OK)
            pg->changes = atoi(PQcmdTuples(res));
        else
            rc = fail_result(store, res, what);
        PQclear(res);
    }
    return rc;
}

size_t geodata_pg_copy_text(char *dst, const char *s)
{
    char *d = dst;
    for (; *s; s++) {
        switch (*s) {
        case '\\': *d++ = '\\'; *d++ = '\\'; break;
        case '\t': *d++ = '\\'; *d++ = 't'; break;
        case '\n': *d++ = '\\'; *d++ = 'n'; break;
        case '\r': *d++ = '\\'; *d++ = 'r'; break;
        default: *d++ = *s;
        }
    }
    return (size_t)(d - dst);
}

/* SQLite's placeholders (`?`, `?NNN`) as PostgreSQL's `$n`, outside quoted
 * text. SQLite's numbers may leave gaps (?99 beside ?1 … ?13) where
 * PostgreSQL's may not: they are numbered again in order of first use, and
 * (*map)[i] is the new number of SQLite's i (0: not in the SQL), for i up to
 * *nlite; *nparams gets the count. malloc'd (both), or NULL. */
static char *translate(const char *sql, int *nparams, int **map, int *nlite)
{
    size_t len = strlen(sql);
    char *out = malloc(len * 4 + 1);   /* "?" becomes at most "$NNN" */
    int *m = calloc(1000, sizeof *m);  /* SQLite's limit is 999 by default here */
    if (!out || !m) {
        free(out);
        free(m);
        return NULL;
    }
    int max = 0, used = 0;
    char quote = 0;
    char *o = out;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            *o++ = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            *o++ = *p;
        } else if (*p == '?') {
            int n;
            if (isdigit((unsigned char)p[1])) {
                char *end;
                n = (int)strtol(p + 1, &end, 10);
                p = end - 1;
            } else {
                n = max + 1;
            }
            if (n < 1 || n > 999) {
                free(out);
                free(m);
                return NULL;
            }
            if (n > max)
                max = n;
            if (!m[n])
                m[n] = ++used;
            o += sprintf(o, "$%d", m[n]);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *nparams = used;
    *nlite = max;
    *map = m;
    return out;
}

sql_stmt *geodata_pg_prepare(geodata_store *store, const char *sql, int kept)
{
    sql_stmt *st = calloc(1, sizeof *st);
    struct geodata_pg_stmt *p = calloc(1, sizeof *p);
    if (p)
        p->sql = translate(sql, &p->nparams, &p->map, &p->nlite);
    int n = p ? (p->nparams ? p->nparams : 1) : 0;
    if (p && p->sql) {
        p->values = calloc((size_t)n, sizeof *p->values);
        p->lengths = calloc((size_t)n, sizeof *p->lengths);
        p->formats = calloc((size_t)n, sizeof *p->formats);
        p->types = calloc((size_t)n, sizeof *p->types);
    }
    if (!st || !p || !p->sql || !p->values || !p->lengths || !p->formats || !p->types) {
        if (p)
            geodata_pg_finalize(p);
        free(st);
        geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        return NULL;
    }
    p->store = store;
    p->kept = kept;
    p->row = -1;
    p->blob_col = -1;
    st->pg = p;
    return st;
}

/* Sets parameter i (1-based) to a copy of n bytes at v (NULL: SQL NULL). */
static int set_param(struct geodata_pg_stmt *st, int i, const void *v, size_t n, int format,
                     unsigned type)
{
    if (i < 1 || i > st->nlite)
        return SQLITE_RANGE;
    i = st->map[i];
    if (!i)   /* a number the SQL skips: nothing to bind, as SQLite */
        return SQLITE_OK;
    char *copy = NULL;
    if (v) {
        if (!(copy = malloc(n + 1)))
            return SQLITE_NOMEM;
        memcpy(copy, v, n);
        copy[n] = '\0';
    }
    free(st->values[i - 1]);
    st->values[i - 1] = copy;
    st->lengths[i - 1] = (int)n;
    st->formats[i - 1] = format;
    if (v && type)
        st->types[i - 1] = type;
    return SQLITE_OK;
}

int geodata_pg_bind_int64(struct geodata_pg_stmt *st, int i, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    return set_param(st, i, buf, (size_t)n, 0, OID_INT8);
}

int geodata_pg_bind_double(struct geodata_pg_stmt *st, int i, double v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%.17g", v);
    return set_param(st, i, buf, (size_t)n, 0, OID_FLOAT8);
}

int geodata_pg_bind_text(struct geodata_pg_stmt *st, int i, const char *s, int n)
{
    if (!s)
        return set_param(st, i, NULL, 0, 0, 0);
    size_t len = n < 0 ? strlen(s) : strnlen(s, (size_t)n);
    return set_param(st, i, s, len, 0, 0);
}

int geodata_pg_bind_blob(struct geodata_pg_stmt *st, int i, const void *p, int n)
{
    if (!p)
        return set_param(st, i, NULL, 0, 1, 0);
    return set_param(st, i, p ? p : "", (size_t)(n < 0 ? 0 : n), 1, OID_BYTEA);
}

int geodata_pg_bind_null(struct geodata_pg_stmt *st, int i)
{
    return set_param(st, i, NULL, 0, 0, 0);
}

int geodata_pg_bind_parameter_count(struct geodata_pg_stmt *st)
{
    return st->nlite;
}

static void drop_blob(struct geodata_pg_stmt *st)
{
    if (st->blob && st->blob_is_malloc)
        free(st->blob);
    else if (st->blob)
        PQfreemem(st->blob);
    st->blob = NULL;
    st->blob_col = -1;
}

/* A streamed statement's next page from its cursor: 0 with it held, or the
 * error recorded on the store. */
static int fetch(struct geodata_pg_stmt *st)
{
    geodata_store *store = st->store;
    struct geodata_pg *pg = store->pg;
    if (PQstatus(pg->conn) != CONNECTION_OK || st->cursor_gen != pg->generation) {
        snprintf(pg->sqlstate, sizeof pg->sqlstate, "08006");
        return geodata_fail(store, GEODATA_EUNAVAIL, "the connection to the %s was lost "
                            "while a result was read", pg->label);
    }
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", STREAM_ROWS, st->cursor);
    PGresult *res = PQexec(pg->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = fail_result(store, res, "reading a result");
        PQclear(res);
        return rc;
    }
    PQclear(st->res);
    st->res = res;
    st->nrows = PQntuples(res);
    st->row = -1;
    st->more = st->nrows == STREAM_ROWS;
    return GEODATA_OK;
}

/* A streamed statement opened as a cursor WITH HOLD (it outlives the
 * transaction, if any: the server keeps its rows, not this process) and
 * its first page read. */
static int open_cursor(struct geodata_pg_stmt *st)
{
    geodata_store *store = st->store;
    struct geodata_pg *pg = store->pg;
    char *sql = geodata_format("DECLARE c%u NO SCROLL CURSOR WITH HOLD FOR %s",
                               ++pg->next_name, st->sql);
    if (!sql)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    PGresult *res = PQexecParams(pg->conn, sql, st->nparams, st->types,
                                 (const char *const *)st->values, st->lengths, st->formats, 0);
    snprintf(st->cursor, sizeof st->cursor, "c%u", pg->next_name);
    free(sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        int rc = fail_result(store, res, "running a statement");
        PQclear(res);
        st->cursor[0] = '\0';
        return rc;
    }
    PQclear(res);
    st->cursor_gen = pg->generation;
    st->runs++;
    return fetch(st);
}

/* Runs the statement with its parameters: 0 with the result held, or the
 * error recorded on the store. */
static int run(struct geodata_pg_stmt *st)
{
    geodata_store *store = st->store;
    struct geodata_pg *pg = store->pg;
    int rc = ensure_connected(store);
    if (rc)
        return rc;
    if (st->stream)
        return open_cursor(st);
    const char *const *values = (const char *const *)st->values;
    PGresult *res;
    if (st->kept || st->runs > 0) {
        if (!st->name[0] || st->prepared_gen != pg->generation) {
            if (!st->name[0])
                snprintf(st->name, sizeof st->name, "s%u", ++pg->next_name);
            res = PQprepare(pg->conn, st->name, st->sql, st->nparams, st->types);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                rc = fail_result(store, res, "preparing a statement");
                if (getenv("GEODATA_PG_TRACE"))
                    fprintf(stderr, "geodata: %s\n  in: %s\n", geodata_errmsg(store), st->sql);
                PQclear(res);
                st->name[0] = '\0';
                return rc;
            }
            PQclear(res);
            st->prepared_gen = pg->generation;
        }
        res = PQexecPrepared(pg->conn, st->name, st->nparams, values, st->lengths, st->formats, 0);
    } else {
        res = PQexecParams(pg->conn, st->sql, st->nparams, st->types, values, st->lengths,
                           st->formats, 0);
    }
    st->runs++;
    ExecStatusType s = PQresultStatus(res);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        rc = fail_result(store, res, "running a statement");
        if (getenv("GEODATA_PG_TRACE"))   /* for the library's developers: which SQL failed */
            fprintf(stderr, "geodata: %s\n  in: %s\n", geodata_errmsg(store), st->sql);
        PQclear(res);
        return rc;
    }
    pg->changes = atoi(PQcmdTuples(res));
    pg->sqlstate[0] = '\0';
    st->res = res;
    st->nrows = PQntuples(res);
    st->row = -1;
    return GEODATA_OK;
}

int geodata_pg_step(struct geodata_pg_stmt *st)
{
    if (st->res && st->row >= st->nrows)   /* stepped past the end: runs again, as SQLite does */
        geodata_pg_reset(st);
    if (!st->res && run(st))
        return SQLITE_ERROR;
    drop_blob(st);
    if (st->row + 1 >= st->nrows && st->more && fetch(st))
        return SQLITE_ERROR;
    if (st->row + 1 < st->nrows) {
        st->row++;
        return SQLITE_ROW;
    }
    st->row = st->nrows;
    return SQLITE_DONE;
}

void geodata_pg_stream(struct geodata_pg_stmt *st)
{
    st->stream = 1;
}

void geodata_pg_reset(struct geodata_pg_stmt *st)
{
    drop_blob(st);
    struct geodata_pg *pg = st->store->pg;
    if (st->cursor[0] && st->cursor_gen == pg->generation && PQstatus(pg->conn) == CONNECTION_OK
        && PQtransactionStatus(pg->conn) != PQTRANS_INERROR) {
        char sql[32];
        snprintf(sql, sizeof sql, "CLOSE %s", st->cursor);
        PQclear(PQexec(pg->conn, sql));
    }
    st->cursor[0] = '\0';
    st->more = 0;
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->nrows = 0;
}

void geodata_pg_clear_bindings(struct geodata_pg_stmt *st)
{
    for (int i = 0; i < st->nparams; i++) {
        free(st->values[i]);
        st->values[i] = NULL;
    }
}

void geodata_pg_finalize(struct geodata_pg_stmt *st)
{
    if (!st)
        return;
    geodata_pg_reset(st);
    if (st->name[0] && st->prepared_gen == st->store->pg->generation
        && PQstatus(st->store->pg->conn) == CONNECTION_OK
        && PQtransactionStatus(st->store->pg->conn) != PQTRANS_INERROR) {
        char sql[32];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
        PQclear(PQexec(st->store->pg->conn, sql));
    }
    if (st->values)
        geodata_pg_clear_bindings(st);
    free(st->values);
    free(st->lengths);
    free(st->formats);
    free(st->types);
    free(st->map);
    free(st->sql);
    free(st);
}

/* The text of column col of the current row, or NULL for NULL or no row. */
static const char *value(struct geodata_pg_stmt *st, int col)
{
    if (!st->res || st->row < 0 || st->row >= st->nrows || col < 0 || col >= PQnfields(st->res)
        || PQgetisnull(st->res, st->row, col))
        return NULL;
    return PQgetvalue(st->res, st->row, col);
}

int geodata_pg_column_type(struct geodata_pg_stmt *st, int col)
{
    if (!value(st, col))
        return SQLITE_NULL;
    switch (PQftype(st->res, col)) {
    case OID_BOOL: case OID_INT2: case OID_INT4: case OID_INT8:
        return SQLITE_INTEGER;
    case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC:
        return SQLITE_FLOAT;
    case OID_BYTEA:
        return SQLITE_BLOB;
    default:
        return SQLITE_TEXT;
    }
}

long long geodata_pg_column_int64(struct geodata_pg_stmt *st, int col)
{
    const char *v = value(st, col);
    if (!v)
        return 0;
    if (v[0] == 't' && !v[1])
        return 1;
    if (v[0] == 'f' && !v[1])
        return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end == '.' || *end == 'e' || *end == 'E')   /* a numeric or float: truncated, as SQLite does */
        n = (long long)strtod(v, NULL);
    return n;
}

double geodata_pg_column_double(struct geodata_pg_stmt *st, int col)
{
    const char *v = value(st, col);
    if (!v)
        return 0;
    if (v[0] == 't' && !v[1])
        return 1;
    return strtod(v, NULL);
}

const unsigned char *geodata_pg_column_text(struct geodata_pg_stmt *st, int col)
{
    return (const unsigned char *)value(st, col);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A geometry's hex EWKB as bytes (PQfreemem), or NULL. */
static unsigned char *unhex(const char *v, size_t *len)
{
    size_t n = strlen(v) / 2;
    unsigned char *out = malloc(n ? n : 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n;
    return out;
}

/* Decodes a bytea or geometry column of the current row once. */
static int decode_blob(struct geodata_pg_stmt *st, int col)
{
    if (st->blob_col == col && st->blob_row == st->row)
        return 1;
    drop_blob(st);
    const char *v = value(st, col);
    if (!v)
        return 0;
    unsigned type = PQftype(st->res, col);
    if (type == OID_BYTEA)
        st->blob = PQunescapeBytea((const unsigned char *)v, &st->blob_len);
    else if (type == st->store->pg->geometry_oid && type)
        st->blob = unhex(v, &st->blob_len);
    else
        return 0;
    st->blob_is_malloc = type != OID_BYTEA;
    if (!st->blob)
        return 0;
    st->blob_col = col;
    st->blob_row = st->row;
    return 1;
}

const void *geodata_pg_column_blob(struct geodata_pg_stmt *st, int col)
{
    if (decode_blob(st, col))
        return st->blob;
    return value(st, col);
}

int geodata_pg_column_bytes(struct geodata_pg_stmt *st, int col)
{
    if (decode_blob(st, col))
        return (int)st->blob_len;
    const char *v = value(st, col);
    return v ? (int)strlen(v) : 0;
}

/* ---- opening ---- */

/* One value of a query without parameters into out (n bytes): 1 when a row
 * came, 0 when none (or NULL), or the error. */
static int query_value(geodata_store *store, const char *sql, char *out, size_t n)
{
    out[0] = '\0';
    PGresult *res = PQexec(store->pg->conn, sql);
    int rc;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = fail_result(store, res, "reading the database");
    else if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
        rc = 0;
    else {
        snprintf(out, n, "%s", PQgetvalue(res, 0, 0));
        rc = 1;
    }
    PQclear(res);
    return rc;
}

/* Checks PostGIS and the schema's version, creating the schema in a
 * database that has none (unless read-only). Nothing is written otherwise. */
static int check_schema(geodata_store *store, unsigned flags)
{
    struct geodata_pg *pg = store->pg;
    char v[64];
    int rc = query_value(store, "SELECT extversion FROM pg_extension WHERE extname = 'postgis'",
                         v, sizeof v);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return geodata_fail(store, GEODATA_EINVAL, "the %s has no PostGIS: a superuser creates "
                            "it with CREATE EXTENSION postgis", pg->label);
    rc = query_value(store, "SELECT to_regclass('geodata_schema') IS NOT NULL", v, sizeof v);
    if (rc < 0)
        return rc;
    int present = strcmp(v, "t") == 0;
    if (!present && (flags & GEODATA_OPEN_READONLY))
        return geodata_fail(store, GEODATA_ESCHEMA, "the %s holds no Entraide store yet "
                            "(an import creates it)", pg->label);
    if (!present) {
        /* Two processes creating it at once: the second waits, then finds it. */
        rc = geodata_pg_exec(store, "BEGIN; SELECT pg_advisory_xact_lock(7262001)",
                             "creating the schema");
        if (!rc)
            rc = query_value(store, "SELECT to_regclass('geodata_schema') IS NOT NULL", v, sizeof v);
        if (rc >= 0 && strcmp(v, "t") != 0) {
            rc = geodata_pg_exec(store, geodata_pg_schema, "creating the schema");
        } else if (rc > 0) {
            rc = 0;
        }
        if (!rc)
            rc = geodata_pg_exec(store, "COMMIT", "creating the schema");
        if (rc) {
            geodata_rollback(store);
            return rc;
        }
    }
    rc = query_value(store, "SELECT max(version) FROM geodata_schema", v, sizeof v);
    if (rc < 0)
        return rc;
    int version = atoi(v);
    if (version > GEODATA_PG_BASE_VERSION)
        return geodata_fail(store, GEODATA_ESCHEMA,
                            "the database has schema version %d, newer than this program's %d",
                            version, GEODATA_PG_BASE_VERSION);
    if (version < GEODATA_PG_BASE_VERSION)
        return geodata_fail(store, GEODATA_ESCHEMA, "the database has schema version %d, older "
                            "than any this program migrates from (%d)", version,
                            GEODATA_PG_BASE_VERSION);
    return GEODATA_OK;
}

int geodata_pg_open(geodata_store *store, const char *conninfo, unsigned flags)
{
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &why);
    if (!opts) {
        int rc = geodata_fail(store, GEODATA_EINVAL, "not a valid PostgreSQL connection string: %s",
                              why ? why : "out of memory");
        size_t n = store->err ? strlen(store->err) : 0;
        while (n > 0 && store->err[n - 1] == '\n')
            store->err[--n] = '\0';
        PQfreemem(why);
        return rc;
    }
    PQconninfoFree(opts);
    struct geodata_pg *pg = calloc(1, sizeof *pg);
    if (!pg || !(pg->conninfo = strdup(conninfo))) {
        free(pg);
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    store->pg = pg;
    pg->label = make_label(NULL, conninfo);
    int rc = connect_pg(store);
    if (!rc) {
        free(pg->label);
        pg->label = make_label(pg->conn, conninfo);
        if (PQserverVersion(pg->conn) < 130000)
            rc = geodata_fail(store, GEODATA_EINVAL, "the %s runs PostgreSQL %d: 13 or newer is "
                              "needed", pg->label, PQserverVersion(pg->conn) / 10000);
    }
    if (!rc)
        rc = check_schema(store, flags);
    char oid[16];
    if (!rc && query_value(store, "SELECT 'geometry'::regtype::oid", oid, sizeof oid) > 0)
        pg->geometry_oid = (unsigned)strtoul(oid, NULL, 10);
    return rc;
}

int geodata_store_time_budget(geodata_store *store, int ms)
{
    if (!store->pg)
        return GEODATA_OK;
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %d", ms > 0 ? ms : 0);
    store->pg->timeout_ms = ms > 0 ? ms : 0;
    return geodata_pg_exec(store, sql, "setting the time budget");
}

/* Runs argv (PATH is searched), stdout to /dev/null: its exit status, or -1
 * when it could not run; the first line of what it said on stderr goes into
 * why (n bytes). */
static int run_tool(char *const argv[], char *why, size_t n)
{
    why[0] = '\0';
    char errpath[] = "/tmp/geodata-tool-XXXXXX";
    int errfd = mkstemp(errpath);
    if (errfd < 0)
        return -1;
    unlink(errpath);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, errfd, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    while (!rc && waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            rc = -1;
    ssize_t got = pread(errfd, why, n - 1, 0);
    why[got > 0 ? got : 0] = '\0';
    why[strcspn(why, "\n")] = '\0';
    close(errfd);
    if (rc)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int geodata_pg_backup(geodata_store *store, const char *path)
{
    /* pg_dump takes one snapshot: the copy is of the moment it starts, and
     * writers go on meanwhile. */
    char *dump[] = { "pg_dump", "--format=custom", "--no-owner", "--file", (char *)path,
                     "--dbname", store->pg->conninfo, NULL };
    char *list[] = { "pg_restore", "--list", (char *)path, NULL };
    char why[256];
    int rc = run_tool(dump, why, sizeof why);
    if (rc != 0) {
        unlink(path);
        return geodata_fail(store, rc < 0 ? GEODATA_EIO : GEODATA_EDB, "backup to %s: %s", path,
                            rc < 0 ? "pg_dump cannot run (postgresql-client is needed)"
                                   : why[0] ? why : "pg_dump failed");
    }
    if (run_tool(list, why, sizeof why) != 0) {
        unlink(path);
        return geodata_fail(store, GEODATA_EDB, "backup to %s: the copy does not read back: %s",
                            path, why);
    }
    return GEODATA_OK;
}

void geodata_pg_close(struct geodata_pg *pg)
{
    if (!pg)
        return;
    PQfinish(pg->conn);
    free(pg->conninfo);
    free(pg->label);
    free(pg);
}

char *geodata_pg_cache_path(struct geodata_pg *pg, const char *what)
{
    /* FNV-1a of the connection string: one file per database, per machine. */
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)pg->conninfo; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    const char *dir = getenv("TMPDIR");
    return geodata_format("%s/entraide-%016llx.%s", dir && *dir ? dir : "/var/tmp",
                          (unsigned long long)h, what);
}
