/*
 * geodata/store/store.c — opening and closing the SpatiaLite store (then
 * migrating it: schema.c), its counts, reports and online backups. It sits
 * above sql.c, the helpers every part of the library uses, as schema.c does:
 * neither of the two calls the other's internals.
 *
 * Durability: the store runs in WAL mode with synchronous=FULL, so a commit
 * returns only once its WAL frames are on disk (an import on a store no one
 * else has open uses the rollback journal for its one transaction:
 * geodata_bulk_journal); foreign keys are enforced.
 * mod_spatialite is loaded once per connection, and extension loading is
 * switched off again right after, so no SQL can load another library.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geom.h"
#include "internal.h"

/* Explains why a path cannot hold a database, before SQLite gives its terser
 * "unable to open database file". Returns NULL when nothing is visibly wrong. */
static char *path_problem(const char *path, unsigned flags)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return geodata_format("cannot open database '%s': it is a directory", path);
        return NULL;
    }
    if (errno != ENOENT)
        return geodata_format("cannot open database '%s': %s", path, strerror(errno));
    if (!(flags & GEODATA_OPEN_CREATE))
        return geodata_format("cannot open database '%s': no such file", path);
    const char *slash = strrchr(path, '/');
    if (!slash)
        return NULL;
    char *dir = geodata_format("%.*s", (int)(slash - path), path);
    if (!dir)
        return NULL;
    char *msg = NULL;
    if (*dir && stat(dir, &st) != 0)
        msg = geodata_format("cannot create database '%s': directory '%s': %s",
                             path, dir, strerror(errno));
    else if (*dir && !S_ISDIR(st.st_mode))
        msg = geodata_format("cannot create database '%s': '%s' is not a directory", path, dir);
    free(dir);
    return msg;
}

/* After SQLite could not open path, asks the system why: SQLite's own
 * "unable to open database file" does not say. */
static char *open_problem(const char *path, unsigned flags)
{
    int readonly = (flags & GEODATA_OPEN_READONLY) != 0;
    int fd = open(path, readonly ? O_RDONLY : O_RDWR);
    if (fd < 0 && errno == ENOENT && (flags & GEODATA_OPEN_CREATE)) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
        if (fd >= 0)
            unlink(path);
    }
    if (fd >= 0) {
        close(fd);
        return NULL;
    }
    return geodata_format("cannot %s database '%s': %s",
                          readonly ? "read" : "write", path, strerror(errno));
}

static int load_spatialite(geodata_store *store)
{
    char *err = NULL;
    sqlite3_enable_load_extension(store->db, 1);
    int rc = sqlite3_load_extension(store->db, "mod_spatialite", NULL, &err);
    sqlite3_enable_load_extension(store->db, 0);
    if (rc != SQLITE_OK) {
        geodata_fail(store, GEODATA_EDB, "cannot load mod_spatialite: %s",
                     err ? err : sqlite3_errmsg(store->db));
        sqlite3_free(err);
        return GEODATA_EDB;
    }
    return GEODATA_OK;
}

/* Waits for another connection's write lock: tries every millisecond for 5 s.
 * SQLite's own busy timeout sleeps up to 100 ms between tries, which with
 * short write transactions leaves a writer asleep long after the lock is free. */
static int wait_for_lock(void *arg, int tries)
{
    (void)arg;
    if (tries >= 5000)
        return 0;
    usleep(1000);
    return 1;
}

/* Commits made by this process's stores: a counter that readers of the change
 * feed compare to know whether a write of their own process may have moved
 * it. Bumped by the WAL hook, which SQLite calls after a commit is visible. */
static uint64_t local_commits;

/* The WAL hook replaces SQLite's own, which checkpointed past 1,000 pages of
 * WAL: it does the same (a passive checkpoint), then counts the commit. */
static int commit_done(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)arg;
    if (pages >= 1000)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    __atomic_fetch_add(&local_commits, 1, __ATOMIC_RELEASE);
    return SQLITE_OK;
}

/* Whether PRAGMA journal_mode=mode leaves the store in that mode. */
static int journal_mode_is(geodata_store *store, const char *mode)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", mode);
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) == SQLITE_OK
             && sqlite3_step(st) == SQLITE_ROW
             && strcmp((const char *)sqlite3_column_text(st, 0), mode) == 0;
    sqlite3_finalize(st);
    return ok;
}

int geodata_bulk_journal(geodata_store *store)
{
    if (store->pg)
        return 0;
    /* Leaving WAL mode needs the store alone: another connection makes it
     * busy at once, without the busy handler's wait. */
    sqlite3_busy_handler(store->db, NULL, NULL);
    int switched = journal_mode_is(store, "delete");
    sqlite3_busy_handler(store->db, wait_for_lock, NULL);
    return switched;
}

void geodata_bulk_done(geodata_store *store, int switched)
{
    if (switched)   /* should this fail, the next opening of the store switches */
        journal_mode_is(store, "wal");
}

uint64_t geodata_local_commits(void)
{
    return __atomic_load_n(&local_commits, __ATOMIC_ACQUIRE);
}

static int configure(geodata_store *store, unsigned flags)
{
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_handler(store->db, wait_for_lock, NULL);
    int rc = load_spatialite(store);
    if (rc)
        return rc;
    /* The first read tells a database from any other file. */
    rc = geodata_exec(store, "PRAGMA foreign_keys=ON; PRAGMA cache_size=" STORE_CACHE_KIB ";",
                      "reading the database");
    if (rc)
        return rc;
    if (sqlite3_exec(store->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK)
        return geodata_fail_sql(store, "reading the database");
    if (flags & GEODATA_OPEN_READONLY) {
        int version = 0;
        rc = geodata_store_schema_version(store, &version);
        if (!rc && version != geodata_schema_version_current() && !(flags & GEODATA_OPEN_ANY_VERSION))
            rc = geodata_fail(store, GEODATA_ESCHEMA, "schema version %d, this program reads %d "
                              "(a write, such as an import, migrates it)", version,
                              geodata_schema_version_current());
        return rc;
    }
    sql_stmt *st = geodata_prepare(store, "PRAGMA journal_mode=WAL");
    if (!st)
        return GEODATA_EDB;
    int step = sql_step(st);
    int ok = step == SQL_ROW && strcmp((const char *)sql_column_text(st, 0), "wal") == 0;
    sql_finalize(st);
    if (!ok && (step & 0xff) == SQLITE_BUSY)   /* an import alone on it: geodata_bulk_journal */
        return geodata_fail(store, GEODATA_EDB, "the database is busy: an import is writing it; "
                            "try again once the import has finished");
    if (!ok)
        return geodata_fail(store, GEODATA_EDB, "cannot switch the database to WAL mode");
    rc = geodata_exec(store, "PRAGMA synchronous=FULL", "setting durability");
    if (rc)
        return rc;
    sqlite3_wal_hook(store->db, commit_done, NULL);
    return geodata_schema_migrate(store);
}

/* Process-wide SQLite settings, before SQLite initialises: memory statistics
 * off, which takes a global mutex out of every allocation. */
static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* geodata_store_open for a PostgreSQL connection string (pg.c); the message
 * names the database without its password. */
static int open_pg(const char *conninfo, unsigned flags, geodata_store **out, char **errmsg)
{
    geodata_store *store = calloc(1, sizeof *store);
    if (!store) {
        *errmsg = geodata_format("out of memory");
        return GEODATA_ENOMEM;
    }
    int rc = geodata_pg_open(store, conninfo, flags);
    if (rc) {
        *errmsg = geodata_format("%s", geodata_errmsg(store));
        geodata_store_close(store);
        return rc;
    }
    *out = store;
    return GEODATA_OK;
}

int geodata_store_open(const char *path, unsigned flags,
                       geodata_store **out, char **errmsg)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_setup);
    *out = NULL;
    *errmsg = NULL;
    if (!path || !*path) {
        *errmsg = geodata_format("no database path given");
        return GEODATA_EINVAL;
    }
    if (geodata_pg_conninfo(path))
        return open_pg(path, flags, out, errmsg);
    char *problem = path_problem(path, flags);
    if (problem) {
        *errmsg = problem;
        return GEODATA_EIO;
    }
    geodata_store *store = calloc(1, sizeof *store);
    if (!store) {
        *errmsg = geodata_format("out of memory");
        return GEODATA_ENOMEM;
    }
    int oflags = SQLITE_OPEN_NOMUTEX
               | ((flags & GEODATA_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE)
               | ((flags & GEODATA_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
    int rc;
    if (sqlite3_open_v2(path, &store->db, oflags, NULL) != SQLITE_OK) {
        char *why = open_problem(path, flags);
        if (why) {
            *errmsg = why;
            geodata_store_close(store);
            return GEODATA_EIO;
        }
        rc = geodata_fail_sql(store, "cannot open database");
    } else {
        rc = configure(store, flags);
    }
    if (rc) {
        *errmsg = geodata_format("%s: %s", path, geodata_errmsg(store));
        geodata_store_close(store);
        return rc;
    }
    *out = store;
    return GEODATA_OK;
}

int geodata_store_shared(const geodata_store *store)
{
    return store->pg != NULL;
}

const char *geodata_store_name(const geodata_store *store)
{
    if (store->pg)
        return geodata_pg_label(store->pg);
    const char *path = sqlite3_db_filename(store->db, "main");
    return path ? path : "";
}

void geodata_store_close(geodata_store *store)
{
    if (!store)
        return;
    if (store->metric) {
        geodata_metric_clear(store->metric);
        free(store->metric);
    }
    for (size_t i = 0; i < GEODATA_STMT_CACHE; i++)
        sql_finalize(store->cache[i].st);
    if (store->pg)
        geodata_pg_close(store->pg);
    else
        sqlite3_close_v2(store->db);
    free(store->err);
    free(store);
}

geodata_metric *geodata_store_metric(geodata_store *store)
{
    if (store->metric)
        return store->metric;
    double lon = 0, lat = 0;
    /* The centre of the neighbourhoods' extent: SpatiaLite's from the R*Tree
     * (boxes rounded outward to float), PostGIS's from the geometries. */
    sql_stmt *st = geodata_prepare(store, GEODATA_DIALECT(store,
        "SELECT (min(xmin) + max(xmax)) / 2, (min(ymin) + max(ymax)) / 2 FROM idx_neighbourhoods_geom",
        "SELECT (ST_XMin(e) + ST_XMax(e)) / 2, (ST_YMin(e) + ST_YMax(e)) / 2"
        " FROM (SELECT ST_Extent(geom) AS e FROM neighbourhoods) x"));
    if (!st)
        return NULL;
    int row = geodata_step(store, st);
    if (row > 0 && sql_column_type(st, 0) != SQL_NULL) {
        lon = sql_column_double(st, 0);
        lat = sql_column_double(st, 1);
    }
    sql_finalize(st);
    if (row < 0)
        return NULL; /* not made: the message says why */
    geodata_metric *m = malloc(sizeof *m);
    char msg[256];
    if (!m) {
        geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        return NULL;
    }
    if (geodata_metric_init(m, lon, lat, msg, sizeof msg)) {
        free(m);
        geodata_fail(store, GEODATA_EGEOM, "metric projection: %s", msg);
        return NULL;
    }
    store->metric = m;
    return m;
}

static int count(geodata_store *store, const char *sql, int64_t *out)
{
    sql_stmt *st = geodata_prepare(store, sql);
    if (!st)
        return GEODATA_EDB;
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        *out = sql_column_int64(st, 0);
    sql_finalize(st);
    return rc == SQL_ROW ? GEODATA_OK : geodata_fail_sql(store, "counting");
}

int geodata_store_counts(geodata_store *store, geodata_counts *out)
{
    memset(out, 0, sizeof *out);
    int64_t links = 0;
    int rc = count(store, "SELECT count(*) FROM neighbourhoods", &out->neighbourhoods);
    if (!rc) rc = count(store, "SELECT count(*) FROM neighbourhood_contiguity", &links);
    if (!rc) rc = count(store, "SELECT count(*) FROM addresses", &out->addresses);
    if (!rc) rc = count(store, "SELECT count(*) FROM addresses WHERE neighbourhood_id IS NULL",
                        &out->addresses_outside);
    if (!rc) rc = count(store, "SELECT count(*) FROM shops", &out->shops);
    if (!rc) rc = count(store, "SELECT count(*) FROM members", &out->members);
    if (!rc) rc = count(store, "SELECT count(*) FROM posts", &out->posts);
    out->contiguities = links / 2; /* each pair is stored both ways */
    return rc;
}

void geodata_report_clear(geodata_report *report)
{
    for (size_t i = 0; i < report->n_notes; i++)
        free(report->notes[i]);
    memset(report, 0, sizeof *report);
}

void geodata_report_note(geodata_report *report, const char *fmt, ...)
{
    report->n_notes_total++;
    if (report->n_notes >= GEODATA_REPORT_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *note = geodata_vformat(fmt, ap);
    va_end(ap);
    if (note)
        report->notes[report->n_notes++] = note;
}

int geodata_store_backup(geodata_store *store, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return geodata_fail(store, GEODATA_EIO, "%s exists already: choose a new file", path);
    if (store->pg)
        return geodata_pg_backup(store, path);
    sqlite3 *dst = NULL;
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        int rc = geodata_fail(store, GEODATA_EIO, "cannot create %s: %s", path,
                              dst ? sqlite3_errmsg(dst) : "out of memory");
        sqlite3_close(dst);
        unlink(path);
        return rc;
    }
    /* One read transaction on the source for the whole copy. SQLite restarts
     * a backup from its first page whenever another connection has changed
     * the source between two steps: under a server's steady writes the copy
     * never ended (tests/api/test_faults.py). Inside one read transaction the
     * steps see one snapshot, and in WAL mode a reader holds no writer back;
     * only the WAL grows meanwhile, its checkpoint waiting for the copy. */
    int own_snapshot = sqlite3_get_autocommit(store->db);
    int rc = own_snapshot ? geodata_exec(store, "BEGIN; SELECT count(*) FROM sqlite_schema",
                                         "starting the backup's read transaction") : GEODATA_OK;
    sqlite3_backup *b = rc ? NULL : sqlite3_backup_init(dst, "main", store->db, "main");
    int step = SQLITE_OK;
    if (rc) {
        /* the message is set */
    } else if (!b) {
        rc = geodata_fail(store, GEODATA_EIO, "backup to %s: %s", path, sqlite3_errmsg(dst));
    } else {
        while ((step = sqlite3_backup_step(b, 1000)) == SQLITE_OK || step == SQLITE_BUSY
               || step == SQLITE_LOCKED)
            if (step != SQLITE_OK)
                sqlite3_sleep(20);
        sqlite3_backup_finish(b);
        if (step != SQLITE_DONE && geodata_sql_code(dst, step) == GEODATA_EFULL)
            rc = geodata_fail(store, GEODATA_EFULL, "backup to %s: %s: free some space", path,
                              sqlite3_errstr(step));
        else if (step != SQLITE_DONE)
            rc = geodata_fail(store, GEODATA_EIO, "backup to %s: %s", path, sqlite3_errstr(step));
    }
    if (own_snapshot)
        geodata_rollback(store); /* ends the read transaction; nothing was written */
    if (!rc) {
        sqlite3_stmt *q = NULL;
        int ok = sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &q, NULL) == SQLITE_OK
                 && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)
                 && strcmp((const char *)sqlite3_column_text(q, 0), "ok") == 0;
        sqlite3_finalize(q);
        if (!ok)
            rc = geodata_fail(store, GEODATA_EDB, "backup to %s: the copy does not check", path);
    }
    sqlite3_close(dst);
    if (rc) {
        unlink(path);
        char side[4096];
        snprintf(side, sizeof side, "%s-journal", path);
        unlink(side);
    }
    return rc;
}
