/*
 * tests/fuzz/fuzz_geojson.c — the neighbourhood and shop importers
 * (geodata_import_neighbourhoods, geodata_import_shops) on any file, into
 * a real SpatiaLite store.
 *
 * A store is built once (LLVMFuzzerInitialize, or the first input under
 * replay.c) in a temporary directory, removed at exit: the second test
 * city's neighbourhoods and shops, imported by the same functions. For each
 * input, a copy of that store is opened, the input is written to
 * input.geojson (GDAL picks the driver, as for `mapd import`), and:
 *   1. it is imported as neighbourhoods, then as shops;
 *   2. each import returns 0 or a GEODATA_E* code with a message, and its
 *      report adds up (stored and rejected within read, notes within
 *      GEODATA_REPORT_NOTES, each a line of text);
 *   3. an import that fails leaves the store as it was (every table the
 *      imports touch, row for row); one that succeeds gives the same store
 *      when run a second time on the same file (the importers' promise that
 *      a re-import changes nothing);
 *   4. the stored neighbourhoods are valid EPSG:4326 multipolygons, and the
 *      R*Tree index of each geometry column the imports write holds exactly
 *      its rows, each box covering its geometry (the store keeps these
 *      indexes itself: store/spatial_index.c);
 *   5. the store, closed and opened again, passes PRAGMA integrity_check
 *      and PRAGMA foreign_key_check.
 * Any violation prints what broke and aborts. FUZZ_GEOJSON_VERBOSE=1 in
 * the environment prints each import's result.
 *
 * GDAL, GEOS, SQLite and SpatiaLite are system libraries, not instrumented:
 * libFuzzer's coverage is that of the importers and the store.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geodata/import.h"
#include "geodata/store.h"
#include "internal.h"

#include "fuzz_city.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[256];
static char pristine[300], work[300], input[300];

/* The tables the two imports write or reassign (import.h). */
static const char *const tables[] = {
    "neighbourhoods", "neighbourhood_contiguity", "shops", "addresses", "members", "posts",
    "idx_neighbourhoods_geom", "idx_shops_geom",
};
#define N_TABLES (sizeof tables / sizeof *tables)

typedef struct digest { uint64_t h[N_TABLES]; } digest;

static digest pristine_digest;

static void fail(const char *what, const char *detail)
{
    fuzz_fail("fuzz_geojson", what, detail);
}

static geodata_store *open_store(const char *path, unsigned flags)
{
    geodata_store *s = NULL;
    char *err = NULL;
    if (geodata_store_open(path, flags, &s, &err) != GEODATA_OK) {
        fprintf(stderr, "fuzz_geojson: cannot open %s: %s\n", path, err ? err : "?");
        abort();
    }
    return s;
}

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        fail("cannot write", path);
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, (const char *)p + done, n - done);
        if (w <= 0)
            fail("cannot write", path);
        done += (size_t)w;
    }
    close(fd);
}

/* Copies the store file src to dst (no WAL is left once a store is closed). */
static void copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0)
        fail("cannot copy the store", src);
    char buf[1 << 16];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            fail("cannot copy the store", dst);
    close(in);
    close(out);
    for (const char *suffix = "-wal"; suffix; suffix = strcmp(suffix, "-wal") == 0 ? "-shm" : NULL) {
        char side[320];
        snprintf(side, sizeof side, "%s%s", dst, suffix);
        unlink(side);
    }
}

/* One FNV-1a hash per table over every row (in rowid order, or primary key
 * order for a table without rowid), every column's type and bytes. */
static digest take_digest(geodata_store *s)
{
    digest d;
    for (size_t t = 0; t < N_TABLES; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY rowid", tables[t]);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
            /* a WITHOUT ROWID table reads in its primary key's order */
            snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", tables[t]);
            if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                fail("cannot read a table", sqlite3_errmsg(s->db));
        }
        uint64_t h = 1469598103934665603ull;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                int type = sqlite3_column_type(st, c);
                const unsigned char *p = type == SQLITE_BLOB ? sqlite3_column_blob(st, c)
                                                             : sqlite3_column_text(st, c);
                int n = sqlite3_column_bytes(st, c);
                h = (h ^ (uint64_t)type) * 1099511628211ull;
                for (int i = 0; p && i < n; i++)
                    h = (h ^ p[i]) * 1099511628211ull;
                h = (h ^ 0xff) * 1099511628211ull;
            }
        }
        if (rc != SQLITE_DONE)
            fail("cannot read a table", sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        d.h[t] = h;
    }
    return d;
}

static int same(const digest *a, const digest *b, const char **table)
{
    for (size_t t = 0; t < N_TABLES; t++)
        if (a->h[t] != b->h[t]) {
            *table = tables[t];
            return 0;
        }
    return 1;
}

/* The integer the first column of sql's first row holds. */
static long long query_int(geodata_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "fuzz_geojson: %s\n%s\n", sqlite3_errmsg(s->db), sql);
        abort();
    }
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void check_report(const geodata_report *r, int rc, geodata_store *s, const char *what)
{
    if (rc > 0 || rc < GEODATA_ESTALE)
        fail(what, "an unknown return code");
    if (rc && !geodata_errmsg(s)[0])
        fail(what, "failed without a message");
    if (r->stored + r->rejected > r->read || r->n_notes > GEODATA_REPORT_NOTES || r->n_notes > r->n_notes_total)
        fail(what, "a report that does not add up");
    for (size_t i = 0; i < r->n_notes; i++)
        if (!r->notes[i] || strchr(r->notes[i], '\n'))
            fail(what, "a note that is not one line of text");
}


/* Imports the input with fn, checks the report, then: a failure changed
 * nothing; a success, run again, changes nothing more. */
static void import_twice(geodata_store *s, fuzz_import_fn fn, const char *what)
{
    digest before = take_digest(s);
    geodata_report r;
    int rc = fn(s, input, NULL, &r);
    check_report(&r, rc, s, what);
    if (getenv("FUZZ_GEOJSON_VERBOSE"))
        fprintf(stderr, "%s: %d %s (read %llu, stored %llu, rejected %llu)\n", what, rc,
                rc ? geodata_errmsg(s) : "", (unsigned long long)r.read, (unsigned long long)r.stored,
                (unsigned long long)r.rejected);
    geodata_report_clear(&r);
    digest after = take_digest(s);
    const char *table = NULL;
    if (rc) {
        if (!same(&before, &after, &table)) {
            fprintf(stderr, "fuzz_geojson: %s failed (%s) and changed %s\n", what, geodata_errmsg(s), table);
            abort();
        }
        return;
    }
    rc = fn(s, input, NULL, &r);
    check_report(&r, rc, s, what);
    geodata_report_clear(&r);
    if (rc) {
        fprintf(stderr, "fuzz_geojson: %s succeeded, then failed on the same file: %s\n", what,
                geodata_errmsg(s));
        abort();
    }
    digest again = take_digest(s);
    if (!same(&after, &again, &table)) {
        fprintf(stderr, "fuzz_geojson: %s a second time on the same file changed %s\n", what, table);
        abort();
    }
}

/* The R*Tree of table.geom holds exactly the rows with a geometry, each
 * box covering its geometry's. */
static void check_index(geodata_store *s, const char *t)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
        "SELECT (SELECT count(*) FROM \"%1$s\" WHERE geom IS NOT NULL) "
        "     = (SELECT count(*) FROM \"idx_%1$s_geom\") "
        "AND NOT EXISTS (SELECT 1 FROM \"%1$s\" t LEFT JOIN \"idx_%1$s_geom\" i ON i.pkid = t.rowid "
        "  WHERE t.geom IS NOT NULL AND (i.pkid IS NULL OR NOT (i.xmin <= MbrMinX(t.geom) "
        "  AND i.xmax >= MbrMaxX(t.geom) AND i.ymin <= MbrMinY(t.geom) AND i.ymax >= MbrMaxY(t.geom))))",
        t);
    if (query_int(s, sql) != 1)
        fail("a spatial index does not match its table", t);
}

static void check_store(geodata_store *s)
{
    if (query_int(s, "SELECT count(*) FROM neighbourhoods WHERE geom IS NULL OR ST_IsValid(geom) IS NOT 1 "
                     "OR ST_SRID(geom) != 4326 OR GeometryType(geom) != 'MULTIPOLYGON'") != 0)
        fail("a stored neighbourhood is not a valid EPSG:4326 multipolygon", NULL);
    check_index(s, "neighbourhoods");
    check_index(s, "shops");
}

/* Opens path again and runs SQLite's own checks on it. */
static void check_file(const char *path)
{
    geodata_store *s = open_store(path, 0);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK
        || sqlite3_step(st) != SQLITE_ROW)
        fail("cannot run PRAGMA integrity_check", sqlite3_errmsg(s->db));
    const char *ok = (const char *)sqlite3_column_text(st, 0);
    if (!ok || strcmp(ok, "ok") != 0)
        fail("PRAGMA integrity_check", ok);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        fail("cannot run PRAGMA foreign_key_check", sqlite3_errmsg(s->db));
    if (sqlite3_step(st) == SQLITE_ROW)
        fail("PRAGMA foreign_key_check found a row pointing nowhere in",
             (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    geodata_store_close(s);
}

static void init(void)
{
    if (tmpdir[0])
        return;
    fuzz_city_tmpdir("fuzz_geojson", tmpdir, NULL);
    snprintf(pristine, sizeof pristine, "%s/pristine.sqlite", tmpdir);
    snprintf(work, sizeof work, "%s/work.sqlite", tmpdir);
    snprintf(input, sizeof input, "%s/input.geojson", tmpdir);
    geodata_store *s = open_store(pristine, GEODATA_OPEN_CREATE);
    fuzz_city_import("fuzz_geojson", s, "quartiers.geojson", geodata_import_neighbourhoods);
    fuzz_city_import("fuzz_geojson", s, "commerces.geojson", geodata_import_shops);
    pristine_digest = take_digest(s);
    geodata_store_close(s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    copy_file(pristine, work);
    write_file(input, data, size);
    geodata_store *s = open_store(work, 0);
    digest start = take_digest(s);
    const char *table = NULL;
    if (!same(&start, &pristine_digest, &table))
        fail("the copy of the store differs from it in", table);
    import_twice(s, geodata_import_neighbourhoods, "geodata_import_neighbourhoods");
    import_twice(s, geodata_import_shops, "geodata_import_shops");
    check_store(s);
    geodata_store_close(s);
    check_file(work);
    return 0;
}
