/*
 * tests/geodata/test_geodata.c — the store, the imports and neighbourhood
 * lookups, on small fixtures written by the tests into a fresh directory.
 * Results are checked through the library's API and, independently, with
 * plain SQL on the same file.
 *
 * The fixture city (around 10°E, 50°N, nowhere in particular):
 *   A [10.00,10.01]x[50.00,50.01]   B [10.01,10.02]x[50.00,50.01] touches A
 *   C [10.0202,10.03]x[50.00,50.01] about 14 m east of B
 *   D [10.10,10.11]x[50.10,50.11]   far from all
 *   E a self-intersecting "bow tie" near (10.2, 50.2), to be repaired
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <zlib.h>

#include "csv.h"
#include "internal.h"
#include "spatialite_blob.h"
#include "geodata/audience.h"
#include "geodata/changes.h"
#include "geodata/dates.h"
#include "geodata/geocode.h"
#include "geodata/import.h"
#include "geodata/members.h"
#include "geodata/nbindex.h"
#include "geodata/shops.h"
#include "geodata/store.h"
#include "geodata/streets.h"

static char dir[64];

static char *path_in_dir(const char *name)
{
    static char buf[8][128];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static const char *write_file(const char *name, const char *content)
{
    const char *p = path_in_dir(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    return p;
}

#define SQUARE(x0, y0, x1, y1) \
    "[[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1 "],[" #x0 "," #y0 "]]]"
#define FEATURE(id, name, coords) \
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"" id "\",\"name\":\"" name "\"}," \
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":" coords "}}"

static const char neighbourhoods_json[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    FEATURE("A", "Alpha", SQUARE(10.00, 50.00, 10.01, 50.01)) ","
    FEATURE("B", "Bravo", SQUARE(10.01, 50.00, 10.02, 50.01)) ","
    FEATURE("C", "Charlie", SQUARE(10.0202, 50.00, 10.03, 50.01)) ","
    FEATURE("D", "Delta", SQUARE(10.10, 50.10, 10.11, 50.11)) ","
    FEATURE("E", "Echo", "[[[10.2,50.2],[10.21,50.21],[10.21,50.2],[10.2,50.21],[10.2,50.2]]]")
    "]}";

static const char addresses_csv[] =
    "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"
    "x1;1;;Rue Haute;99001;99001;Ville;10.005;50.005\n"
    "x2;2;bis;Rue Haute;99001;99001;Ville;10.015;50.005\n"
    "x3;3;TER;Rue Basse;99001;99001;Ville;10.025;50.005\n"
    "x4;abc;;Rue Basse;99001;99001;Ville;10.025;50.005\n"
    "x5;5;;Rue Basse;99001;99001;Ville;;50.005\n"
    "x6;6;;Rue Basse;99001;99001;Ville;200;50.005\n"
    "x7;7;;Rue Basse;99001;99001;Ville;10.025;50.005;extra\n"
    "x8;8;quater;Rue Loin;99001;99001;Ville;11.0;51.0\n";

static geodata_store *open_store(const char *name)
{
    geodata_store *s = NULL;
    char *err = NULL;
    int rc = geodata_store_open(path_in_dir(name), GEODATA_OPEN_CREATE, &s, &err);
    if (rc)
        fail_msg("open: %s", err);
    return s;
}

/* A single integer from plain SQL on the file, without SpatiaLite. */
static long long sql_int(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(path_in_dir(db), &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static char *sql_text(const char *db, const char *sql)
{
    static char out[256];
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(path_in_dir(db), &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    int rc = sqlite3_step(st);
    snprintf(out, sizeof out, "%s",
             rc == SQLITE_ROW && sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
                                                           : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

static int has_note(const geodata_report *r, const char *needle)
{
    for (size_t i = 0; i < r->n_notes; i++)
        if (strstr(r->notes[i], needle))
            return 1;
    return 0;
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_geodata.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- dates --------------------------------------------------------------- */

static int64_t parsed(const char *s, int end)
{
    int64_t t = -42;
    return geodata_time_parse(s, strlen(s), end, &t) ? t : -42;
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(geodata_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(geodata_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(geodata_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(parsed("2026-12-07", 0), 1796601600);
    assert_int_equal(parsed("2026-12-07", 1), 1796601600 + 86399);
    assert_int_equal(parsed("2026-12-07T10:30:00Z", 0), 1796601600 + 37800);
    assert_int_equal(parsed("2026-12-07t10:30:00z", 0), 1796601600 + 37800);
    assert_int_equal(parsed("2026-12-07T11:30:00+01:00", 0), 1796601600 + 37800);
    assert_int_equal(parsed("2026-12-07T09:00:00-01:30", 0), 1796601600 + 37800);
    assert_int_equal(parsed("2026-12-07T10:30:00.25Z", 0), 1796601600 + 37800);
    assert_int_equal(parsed("2026-12-07T10:30:00.25Z", 1), 1796601600 + 37801);
    assert_int_equal(parsed("2026-12-07T10:30:00.000Z", 1), 1796601600 + 37800);
    assert_int_equal(parsed("2016-12-31T23:59:60Z", 0), parsed("2016-12-31T23:59:59Z", 0));
    assert_int_equal(parsed("2024-02-29", 0), 1709164800);
    const char *bad[] = { "", "2026", "2026-12", "2026-13-01", "2026-00-10", "2026-02-29",
                          "2026-04-31", "0000-01-01", "2026-12-07T", "2026-12-07T10:30Z",
                          "2026-12-07T24:00:00Z", "2026-12-07T10:60:00Z", "2026-12-07T10:30:00",
                          "2026-12-07T10:30:00.Z", "2026-12-07T10:30:00+0100",
                          "2026-12-07T10:30:00+24:00", "2026-12-07 10:30:00Z", "2026-12-07x",
                          "2026-12-07T10:30:00Zjunk", "2026/12/07", "+2026-12-07" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parsed(bad[i], 0) != -42)
            fail_msg("'%s' read as a time", bad[i]);
    int64_t day = 0;
    assert_true(geodata_day_parse("2026-12-07", &day));
    assert_int_equal(day, 1796601600);
    assert_false(geodata_day_parse("2026-12-07T00:00:00Z", &day));
    assert_false(geodata_day_parse("2026-12-0", &day));
    /* a slice: the bytes after n are not read */
    int64_t t = 0;
    assert_true(geodata_time_parse("2026-12-07/..", 10, 0, &t));
    assert_int_equal(t, 1796601600);
}

/* ---- csv ---------------------------------------------------------------- */

static void test_csv_split(void **state)
{
    (void)state;
    char line[] = "a;;\"b;c\";\"say \"\"hi\"\"\";d";
    char *f[8];
    assert_int_equal(geodata_csv_split(line, ';', f, 8), 5);
    assert_string_equal(f[0], "a");
    assert_string_equal(f[1], "");
    assert_string_equal(f[2], "b;c");
    assert_string_equal(f[3], "say \"hi\"");
    assert_string_equal(f[4], "d");
    char few[] = "1;2;3;4";
    assert_int_equal(geodata_csv_split(few, ';', f, 2), 4); /* counts past max */
    char empty[] = "";
    assert_int_equal(geodata_csv_split(empty, ';', f, 8), 1);
}

static void test_csv_reader_gzip_and_crlf(void **state)
{
    (void)state;
    const char *p = path_in_dir("lines.csv.gz");
    gzFile gz = gzopen(p, "wb");
    gzputs(gz, "h1;h2\r\nv1;v2\r\n\nlast");
    gzclose(gz);
    geodata_csv csv;
    char why[128], *line;
    assert_int_equal(geodata_csv_open(&csv, p, why, sizeof why), 0);
    assert_int_equal(geodata_csv_next(&csv, &line, why, sizeof why), 1);
    assert_string_equal(line, "h1;h2");
    assert_int_equal(geodata_csv_next(&csv, &line, why, sizeof why), 1);
    assert_string_equal(line, "v1;v2");
    assert_int_equal(geodata_csv_next(&csv, &line, why, sizeof why), 1);
    assert_string_equal(line, "");
    assert_int_equal(geodata_csv_next(&csv, &line, why, sizeof why), 1);
    assert_string_equal(line, "last");
    assert_int_equal(csv.line, 4);
    assert_int_equal(geodata_csv_next(&csv, &line, why, sizeof why), 0);
    geodata_csv_close(&csv);
}

/* ---- store -------------------------------------------------------------- */

static void test_store_create_and_reopen(void **state)
{
    (void)state;
    geodata_store *s = open_store("store.sqlite");
    int v = -1;
    assert_int_equal(geodata_store_schema_version(s, &v), 0);
    assert_int_equal(v, geodata_schema_version_current());
    geodata_store_close(s);
    assert_string_equal(sql_text("store.sqlite", "PRAGMA journal_mode"), "wal");
    assert_int_equal(sql_int("store.sqlite",
        "SELECT count(*) FROM geometry_columns WHERE spatial_index_enabled = 1"), 6);
    /* Reopening migrates nothing and keeps the version. */
    s = open_store("store.sqlite");
    assert_int_equal(geodata_store_schema_version(s, &v), 0);
    assert_int_equal(v, geodata_schema_version_current());
    geodata_store_close(s);
}

static void test_store_open_errors(void **state)
{
    (void)state;
    geodata_store *s = NULL;
    char *err = NULL;
    assert_int_equal(geodata_store_open(path_in_dir("no/such/dir/x.sqlite"), GEODATA_OPEN_CREATE,
                                        &s, &err), GEODATA_EIO);
    assert_null(s);
    assert_non_null(strstr(err, "No such file or directory"));
    free(err);
    assert_int_equal(geodata_store_open(dir, GEODATA_OPEN_CREATE, &s, &err), GEODATA_EIO);
    assert_non_null(strstr(err, "is a directory"));
    free(err);
    const char *junk = write_file("junk.sqlite", "this is not a database, just some text\n");
    assert_true(geodata_store_open(junk, GEODATA_OPEN_CREATE, &s, &err) < 0);
    assert_null(s);
    assert_non_null(strstr(err, "not a database"));
    free(err);
    assert_int_equal(geodata_store_open(path_in_dir("absent.sqlite"), 0, &s, &err), GEODATA_EIO);
    free(err);
    /* A newer schema than ours is refused, not downgraded. */
    s = open_store("future.sqlite");
    geodata_store_close(s);
    sqlite3 *h;
    sqlite3_open(path_in_dir("future.sqlite"), &h);
    sqlite3_exec(h, "PRAGMA user_version = 999", NULL, NULL, NULL);
    sqlite3_close(h);
    assert_int_equal(geodata_store_open(path_in_dir("future.sqlite"), 0, &s, &err), GEODATA_ESCHEMA);
    assert_non_null(strstr(err, "newer"));
    free(err);
}

static void test_point_blob_matches_spatialite(void **state)
{
    (void)state;
    geodata_store *s = open_store("blob.sqlite");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(s->db, "SELECT MakePoint(?, ?, 4326)", -1, &st, NULL),
                     SQLITE_OK);
    const double pts[][2] = { { 2.3522, 48.8566 }, { -70.6693, -33.4489 }, { 0, 0 }, { 180, -90 } };
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        unsigned char ours[GEODATA_POINT_BLOB_SIZE];
        geodata_point_blob(pts[i][0], pts[i][1], 4326, ours);
        sqlite3_bind_double(st, 1, pts[i][0]);
        sqlite3_bind_double(st, 2, pts[i][1]);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_bytes(st, 0), GEODATA_POINT_BLOB_SIZE);
        assert_memory_equal(sqlite3_column_blob(st, 0), ours, GEODATA_POINT_BLOB_SIZE);
        double box[4];
        assert_int_equal(geodata_blob_box(ours, sizeof ours, box), 0);
        assert_true(box[0] == pts[i][0] && box[1] == pts[i][0]);
        assert_true(box[2] == pts[i][1] && box[3] == pts[i][1]);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    double box[4];
    assert_int_equal(geodata_blob_box((const unsigned char *)"not a geometry at all, really not",
                                      33, box), -1);
    assert_int_equal(geodata_blob_box(NULL, 0, box), -1);
    /* The store's own triggers refuse a geometry of the wrong type or SRID. */
    assert_int_not_equal(sqlite3_exec(s->db, "INSERT INTO addresses(source_id, number, street, "
        "postcode, insee, city, geom) VALUES ('l', 1, 'R', '1', '1', 'V', "
        "GeomFromText('LINESTRING(0 0, 1 1)', 4326))", NULL, NULL, NULL), SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(s->db), "must be a POINT in EPSG:4326"));
    assert_int_not_equal(sqlite3_exec(s->db, "INSERT INTO addresses(source_id, number, street, "
        "postcode, insee, city, geom) VALUES ('l', 1, 'R', '1', '1', 'V', MakePoint(1, 1, 3857))",
        NULL, NULL, NULL), SQLITE_OK);
    /* ...and index what they accept. */
    assert_int_equal(sqlite3_exec(s->db, "INSERT INTO addresses(source_id, number, street, "
        "postcode, insee, city, geom) VALUES ('p', 1, 'R', '1', '1', 'V', MakePoint(1, 2, 4326))",
        NULL, NULL, NULL), SQLITE_OK);
    geodata_store_close(s);
    assert_int_equal(sql_int("blob.sqlite", "SELECT count(*) FROM idx_addresses_geom "
                                            "WHERE xmin <= 1 AND xmax >= 1 AND ymin <= 2 AND ymax >= 2"), 1);
}

/* ---- neighbourhoods ----------------------------------------------------- */

static geodata_store *city(const char *name)
{
    geodata_store *s = open_store(name);
    const char *file = write_file("nb.geojson", neighbourhoods_json);
    geodata_report r;
    int rc = geodata_import_neighbourhoods(s, file, NULL, &r);
    if (rc)
        fail_msg("import: %s", geodata_errmsg(s));
    geodata_report_clear(&r);
    return s;
}

static void test_neighbourhoods_import(void **state)
{
    (void)state;
    geodata_store *s = open_store("nb.sqlite");
    const char *file = write_file("nb.geojson", neighbourhoods_json);
    geodata_report r;
    assert_int_equal(geodata_import_neighbourhoods(s, file, NULL, &r), 0);
    assert_int_equal(r.read, 5);
    assert_int_equal(r.stored, 5);
    assert_int_equal(r.repaired, 1);
    assert_true(has_note(&r, "id E"));
    assert_int_equal(r.contiguities, 2); /* A-B touch, B-C 14 m apart */
    geodata_report_clear(&r);
    geodata_store_close(s);

    assert_int_equal(sql_int("nb.sqlite", "SELECT count(*) FROM neighbourhood_contiguity"), 4);
    assert_int_equal(sql_int("nb.sqlite", "SELECT count(*) FROM neighbourhood_contiguity "
                                          "WHERE a = 'A' AND b = 'B' AND gap_m = 0"), 1);
    assert_int_equal(sql_int("nb.sqlite", "SELECT count(*) FROM neighbourhood_contiguity "
                                          "WHERE a = 'C' AND b = 'B' AND gap_m BETWEEN 13 AND 16"), 1);
    assert_int_equal(sql_int("nb.sqlite", "SELECT count(*) FROM neighbourhood_contiguity "
                                          "WHERE 'A' IN (a, b) AND 'C' IN (a, b)"), 0);
    /* 0.01 deg x 0.01 deg at 50 N is about 717 m x 1112 m on the ellipsoid. */
    assert_int_equal(sql_int("nb.sqlite", "SELECT area_m2 BETWEEN 795000 AND 800000 "
                                          "FROM neighbourhoods WHERE id = 'A'"), 1);
    assert_string_equal(sql_text("nb.sqlite", "SELECT rtreecheck('idx_neighbourhoods_geom')"), "ok");
}

static void test_neighbourhoods_gap_option(void **state)
{
    (void)state;
    geodata_store *s = open_store("gap.sqlite");
    const char *file = write_file("nb.geojson", neighbourhoods_json);
    geodata_import_options o = { .gap_m = 5 };
    geodata_report r;
    assert_int_equal(geodata_import_neighbourhoods(s, file, &o, &r), 0);
    assert_int_equal(r.contiguities, 1); /* only A-B */
    geodata_report_clear(&r);
    geodata_store_close(s);
}

static void test_neighbourhoods_bad_sources(void **state)
{
    (void)state;
    geodata_store *s = city("badnb.sqlite");
    geodata_report r;
    const char *cases[][2] = {
        { write_file("empty.geojson", ""), "empty" },
        { write_file("text.geojson", "hello, I am not vector data\n"), "not a readable vector" },
        { write_file("noname.geojson",
                     "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                     "\"properties\":{\"code\":\"Z\",\"surface\":3},\"geometry\":{\"type\":"
                     "\"Polygon\",\"coordinates\":" SQUARE(1, 1, 2, 2) "}}]}"),
          "no usable name field" },
        { write_file("points.geojson",
                     "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                     "\"properties\":{\"name\":\"P\"},\"geometry\":{\"type\":\"Point\","
                     "\"coordinates\":[1,1]}}]}"),
          "no layer with polygon geometries" },
        { write_file("dup.geojson",
                     "{\"type\":\"FeatureCollection\",\"features\":["
                     FEATURE("A", "One", SQUARE(1, 1, 2, 2)) "," FEATURE("A", "Two", SQUARE(3, 3, 4, 4))
                     "]}"),
          "more than one feature" },
        { path_in_dir("missing.geojson"), "no such file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = geodata_import_neighbourhoods(s, cases[i][0], NULL, &r);
        geodata_report_clear(&r);
        assert_true(rc < 0);
        if (!strstr(geodata_errmsg(s), cases[i][1]))
            fail_msg("case %zu: '%s' lacks '%s'", i, geodata_errmsg(s), cases[i][1]);
    }
    geodata_import_options named = { .name_field = "nope" };
    assert_int_equal(geodata_import_neighbourhoods(s, path_in_dir("nb.geojson"), &named, &r),
                     GEODATA_EINVAL);
    geodata_report_clear(&r);
    geodata_store_close(s);
    /* Nothing changed. */
    assert_int_equal(sql_int("badnb.sqlite", "SELECT count(*) FROM neighbourhoods"), 5);
    assert_int_equal(sql_int("badnb.sqlite", "SELECT count(*) FROM neighbourhood_contiguity"), 4);
}

/* The answers of test_nbindex_lookup, asked of a plain or an accelerated index. */
static void check_city_lookups(geodata_nbindex *idx)
{
    long k = geodata_nbindex_lookup(idx, 10.005, 50.005);
    assert_true(k >= 0);
    assert_string_equal(geodata_nbindex_id(idx, (size_t)k), "A");
    assert_string_equal(geodata_nbindex_name(idx, (size_t)k), "Alpha");
    k = geodata_nbindex_lookup(idx, 10.015, 50.009);
    assert_string_equal(geodata_nbindex_id(idx, (size_t)k), "B");
    /* On the A|B border: the first in id order. */
    k = geodata_nbindex_lookup(idx, 10.01, 50.005);
    assert_string_equal(geodata_nbindex_id(idx, (size_t)k), "A");
    /* In the 14 m gap between B and C, and far away. */
    assert_int_equal(geodata_nbindex_lookup(idx, 10.0201, 50.005), -1);
    assert_int_equal(geodata_nbindex_lookup(idx, -70, -30), -1);
    assert_int_equal(geodata_nbindex_lookup(idx, NAN, 50.005), -1);
    /* The repaired bow tie covers both of its lobes. */
    k = geodata_nbindex_lookup(idx, 10.2025, 50.205);
    assert_string_equal(geodata_nbindex_id(idx, (size_t)k), "E");
    k = geodata_nbindex_lookup(idx, 10.2075, 50.205);
    assert_string_equal(geodata_nbindex_id(idx, (size_t)k), "E");
}

/* H has a hole; I is a multipolygon, one part an island in H's hole; J
 * shares H's east side. */
static const char holes_json[] =
    "{\"type\":\"FeatureCollection\",\"features\":["
    FEATURE("H", "Hotel", "[[[20.00,40.00],[20.10,40.00],[20.10,40.10],[20.00,40.10],[20.00,40.00]],"
                          "[[20.03,40.03],[20.03,40.07],[20.07,40.07],[20.07,40.03],[20.03,40.03]]]") ","
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"I\",\"name\":\"India\"},"
    "\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":["
    SQUARE(20.04, 40.04, 20.06, 40.06) "," SQUARE(20.20, 40.00, 20.22, 40.02) "]}},"
    FEATURE("J", "Juliett", SQUARE(20.10, 40.00, 20.15, 40.05))
    "]}";

static void check_holes_lookups(geodata_nbindex *idx)
{
    static const struct { double lon, lat; const char *id; } want[] = {
        { 20.01, 40.01, "H" },
        { 20.035, 40.05, NULL },     /* in the hole, beside the island */
        { 20.05, 40.05, "I" },       /* on the island */
        { 20.21, 40.01, "I" },       /* I's other part */
        { 20.03, 40.05, "H" },       /* on the hole's edge */
        { 20.03, 40.03, "H" },       /* on the hole's corner */
        { 20.04, 40.05, "I" },       /* on the island's edge */
        { 20.10, 40.02, "H" },       /* on the H|J border: the first in id order */
        { 20.10, 40.05, "H" },       /* on J's corner, on H's side */
        { 20.12, 40.02, "J" },
        { 20.16, 40.02, NULL },
        { 20.12, 40.07, NULL },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        long k = geodata_nbindex_lookup(idx, want[i].lon, want[i].lat);
        const char *got = k >= 0 ? geodata_nbindex_id(idx, (size_t)k) : NULL;
        if (want[i].id ? !got || strcmp(got, want[i].id) != 0 : got != NULL)
            fail_msg("%.3f,%.3f: %s, want %s", want[i].lon, want[i].lat, got ? got : "none",
                     want[i].id ? want[i].id : "none");
    }
}

static void test_nbindex_lookup(void **state)
{
    (void)state;
    geodata_store *s = city("idx.sqlite");
    geodata_nbindex *idx, *fast;
    assert_int_equal(geodata_nbindex_load(s, &idx), 0);
    assert_int_equal(geodata_nbindex_count(idx), 5);
    check_city_lookups(idx);
    assert_int_equal(geodata_nbindex_load(s, &fast), 0);
    assert_int_equal(geodata_nbindex_accelerate(fast), 0);
    geodata_nbindex_stats st;
    geodata_nbindex_get_stats(fast, &st);
    assert_true(st.cells > 0 && st.mixed_cells > 0 && st.bytes > 0);
    check_city_lookups(fast);
    geodata_nbindex_free(idx);
    geodata_nbindex_free(fast);
    geodata_store_close(s);

    /* Holes and multipolygons; then a lattice over all of it, on and off
     * the borders, asked of both. */
    s = open_store("holes.sqlite");
    geodata_report r;
    if (geodata_import_neighbourhoods(s, write_file("holes.geojson", holes_json), NULL, &r))
        fail_msg("import: %s", geodata_errmsg(s));
    geodata_report_clear(&r);
    assert_int_equal(geodata_nbindex_load(s, &idx), 0);
    assert_int_equal(geodata_nbindex_count(idx), 3);
    assert_int_equal(geodata_nbindex_load(s, &fast), 0);
    assert_int_equal(geodata_nbindex_accelerate(fast), 0);
    check_holes_lookups(idx);
    check_holes_lookups(fast);
    size_t counts[4] = { 0 };
    for (int i = 0; i <= 480; i++)
        for (int j = 0; j <= 240; j++) {
            double lon = 19.99 + i * 0.0005, lat = 39.99 + j * 0.0005;
            long a = geodata_nbindex_lookup(idx, lon, lat), b = geodata_nbindex_lookup(fast, lon, lat);
            if (a != b)
                fail_msg("%.4f,%.4f: plain %ld, grid %ld", lon, lat, a, b);
            counts[a + 1]++;
        }
    /* Every answer occurs, outside included. */
    for (int i = 0; i < 4; i++)
        assert_true(counts[i] > 100);
    geodata_nbindex_get_stats(fast, &st);
    assert_true(st.exact_lookups < 481 * 241 / 10); /* the grid answers off the borders */
    geodata_nbindex_free(idx);
    geodata_nbindex_free(fast);
    geodata_store_close(s);
}

/* ---- the audience rule --------------------------------------------------- */

static void test_audience(void **state)
{
    (void)state;
    geodata_store *s = city("aud.sqlite");
    geodata_audience a;
    /* A touches B; C is 14 m from B (within the default gap); D is far. */
    assert_int_equal(geodata_audience_of_home(s, "B", &a), 0);
    assert_int_equal(a.kind, GEODATA_AUDIENCE_MEMBER);
    assert_int_equal(a.n_visible, 3);
    assert_true(geodata_audience_sees(&a, "A") && geodata_audience_sees(&a, "B")
                && geodata_audience_sees(&a, "C"));
    assert_false(geodata_audience_sees(&a, "D"));
    assert_false(geodata_audience_sees(&a, ""));
    geodata_audience_clear(&a);
    assert_int_equal(a.kind, GEODATA_AUDIENCE_NOBODY);
    assert_null(a.visible);
    /* no home: nobody; staff: everything */
    assert_int_equal(geodata_audience_of_home(s, "", &a), 0);
    assert_int_equal(a.kind, GEODATA_AUDIENCE_NOBODY);
    assert_false(geodata_audience_sees(&a, "A"));
    geodata_member staff = { .id = 7 };
    snprintf(staff.role, sizeof staff.role, "staff");
    assert_int_equal(geodata_audience_of(s, &staff, &a), 0);
    assert_int_equal(a.kind, GEODATA_AUDIENCE_STAFF);
    assert_true(geodata_audience_sees(&a, "D"));
    geodata_audience_clear(&a);
    assert_int_equal(geodata_audience_of(s, NULL, &a), 0);
    assert_int_equal(a.kind, GEODATA_AUDIENCE_NOBODY);
    geodata_store_close(s);

    /* No cap: a neighbourhood with 80 neighbours sees all of them (the
     * rule once stopped at 64, silently). */
    char *json = malloc(200000);
    assert_non_null(json);
    size_t n = (size_t)sprintf(json, "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"hub\",\"name\":\"Hub\"},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":" SQUARE(20.0, 40.0, 20.2, 40.2) "}}");
    for (int side = 0; side < 4; side++)
        for (int k = 0; k < 20; k++) {
            double a0 = 20.0 + k * 0.01, a1 = a0 + 0.01, b0 = 40.0 + k * 0.01, b1 = b0 + 0.01;
            double w, so, e, no;
            if (side == 0) { w = a0; e = a1; so = 40.2; no = 40.21; }       /* north */
            else if (side == 1) { w = a0; e = a1; so = 39.99; no = 40.0; }  /* south */
            else if (side == 2) { w = 19.99; e = 20.0; so = b0; no = b1; }  /* west */
            else { w = 20.2; e = 20.21; so = b0; no = b1; }                 /* east */
            n += (size_t)sprintf(json + n, ",{\"type\":\"Feature\",\"properties\":{\"id\":\"n%02d\","
                "\"name\":\"N%02d\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
                "[[[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f],[%.2f,%.2f]]]}}",
                side * 20 + k, side * 20 + k, w, so, e, so, e, no, w, no, w, so);
        }
    strcpy(json + n, "]}");
    s = open_store("star.sqlite");
    geodata_report r;
    if (geodata_import_neighbourhoods(s, write_file("star.geojson", json), NULL, &r))
        fail_msg("import: %s", geodata_errmsg(s));
    geodata_report_clear(&r);
    free(json);
    assert_int_equal(geodata_audience_of_home(s, "hub", &a), 0);
    assert_int_equal(a.n_visible, 81);
    assert_true(geodata_audience_sees(&a, "n00") && geodata_audience_sees(&a, "n79"));
    geodata_audience_clear(&a);
    geodata_store_close(s);
}

/* ---- addresses ---------------------------------------------------------- */

static void test_addresses_import(void **state)
{
    (void)state;
    geodata_store *s = city("addr.sqlite");
    const char *file = write_file("addr.csv", addresses_csv);
    geodata_report r;
    assert_int_equal(geodata_import_addresses(s, file, NULL, &r), 0);
    assert_int_equal(r.read, 8);
    assert_int_equal(r.stored, 4);
    assert_int_equal(r.rejected, 4);
    assert_int_equal(r.outside, 1);
    assert_true(has_note(&r, "line 5: unparseable house number"));
    assert_true(has_note(&r, "line 6: missing coordinates"));
    assert_true(has_note(&r, "line 7: coordinates out of range"));
    assert_true(has_note(&r, "line 8: 10 fields where the header has 9"));
    geodata_report_clear(&r);
    /* Importing again changes nothing. */
    assert_int_equal(geodata_import_addresses(s, file, NULL, &r), 0);
    assert_int_equal(r.stored, 4);
    geodata_report_clear(&r);
    geodata_store_close(s);

    assert_int_equal(sql_int("addr.sqlite", "SELECT count(*) FROM addresses"), 4);
    assert_string_equal(sql_text("addr.sqlite",
        "SELECT group_concat(source_id || ':' || rep || ':' || ifnull(neighbourhood_id, '-'), ' ') "
        "FROM (SELECT * FROM addresses ORDER BY source_id)"), "x1::A x2:b:B x3:t:C x8:q:-");
    assert_string_equal(sql_text("addr.sqlite", "SELECT rtreecheck('idx_addresses_geom')"), "ok");
    assert_int_equal(sql_int("addr.sqlite", "SELECT count(*) FROM idx_addresses_geom"), 4);
    assert_int_equal(sql_int("addr.sqlite", "SELECT count(*) FROM idx_addresses_geom "
                                            "WHERE xmin >= 10.01 AND xmax <= 10.03"), 2);
}

/* A read that fails half-way is an error, never a shorter list: the
 * addresses table's first page is spoilt on disk, and loading the geocoder,
 * which reads every address, must fail instead of finding none. */
static void test_failed_read_is_an_error(void **state)
{
    (void)state;
    geodata_store *s = city("spoilt.sqlite");
    geodata_report r;
    assert_int_equal(geodata_import_addresses(s, write_file("spoilt.csv", addresses_csv), NULL, &r), 0);
    geodata_report_clear(&r);
    geodata_geocoder *g = NULL;
    assert_int_equal(geodata_geocoder_load(s, &g), 0);
    assert_int_equal(geodata_geocoder_count(g), 4);
    geodata_geocoder_free(g);
    geodata_store_close(s);

    long long page = sql_int("spoilt.sqlite", "PRAGMA page_size");
    long long root = sql_int("spoilt.sqlite", "SELECT rootpage FROM sqlite_schema WHERE name = 'addresses'");
    /* every page into the file itself, the log emptied */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path_in_dir("spoilt.sqlite"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    FILE *f = fopen(path_in_dir("spoilt.sqlite"), "r+b");
    assert_non_null(f);
    unsigned char junk[64];
    memset(junk, 0xA5, sizeof junk);
    assert_int_equal(fseek(f, (long)((root - 1) * page), SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    assert_int_equal(fclose(f), 0);

    char *err = NULL;
    assert_int_equal(geodata_store_open(path_in_dir("spoilt.sqlite"), 0, &s, &err), 0);
    g = NULL;
    int rc = geodata_geocoder_load(s, &g);
    assert_int_equal(rc, GEODATA_EDB);
    assert_null(g);
    assert_non_null(strstr(geodata_errmsg(s), "reading the database"));
    geodata_store_close(s);
}

static void test_addresses_bad_sources(void **state)
{
    (void)state;
    geodata_store *s = city("badaddr.sqlite");
    geodata_report r;
    assert_int_equal(geodata_import_addresses(s, write_file("a.csv", addresses_csv), NULL, &r), 0);
    geodata_report_clear(&r);

    /* A truncated gzip: the rows before the cut must not be kept either. */
    char big[200000];
    size_t n = (size_t)snprintf(big, sizeof big, "%s",
                                "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n");
    for (int i = 0; n < sizeof big - 100; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "t%d;%d;;Rue %d;1;1;V;10.005;50.005\n",
                              i, i % 500, i * 7919 % 1000);
    const char *gzpath = path_in_dir("cut.csv.gz");
    gzFile gz = gzopen(gzpath, "wb");
    gzwrite(gz, big, (unsigned)n);
    gzclose(gz);
    assert_int_equal(truncate(gzpath, 20000), 0);

    const char *cases[][2] = {
        { write_file("e.csv", ""), "empty" },
        { write_file("h.csv", "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"),
          "no data rows" },
        { write_file("w.csv", "a;b;c\n1;2;3\n"), "wrong column set: no column 'id'" },
        { write_file("x.csv", "id,numero,rep,nom_voie,code_postal,code_insee,nom_commune,lon\n"),
          "no column 'lat'" },
        { write_file("bad.csv", "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"
                                "z;1;;R;1;1;V;abc;def\n"), "none of the 1 rows is usable" },
        { gzpath, "corrupt or truncated" },
        { path_in_dir("nope.csv"), "No such file" },
        { dir, "not a regular file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = geodata_import_addresses(s, cases[i][0], NULL, &r);
        geodata_report_clear(&r);
        assert_true(rc < 0);
        if (!strstr(geodata_errmsg(s), cases[i][1]))
            fail_msg("case %zu: '%s' lacks '%s'", i, geodata_errmsg(s), cases[i][1]);
    }
    geodata_store_close(s);
    assert_int_equal(sql_int("badaddr.sqlite", "SELECT count(*) FROM addresses"), 4);
    assert_int_equal(sql_int("badaddr.sqlite", "SELECT count(*) FROM idx_addresses_geom"), 4);
    assert_string_equal(sql_text("badaddr.sqlite", "SELECT rtreecheck('idx_addresses_geom')"), "ok");
}

static void test_neighbourhood_reimport_reassigns(void **state)
{
    (void)state;
    geodata_store *s = city("re.sqlite");
    geodata_report r;
    assert_int_equal(geodata_import_addresses(s, write_file("a.csv", addresses_csv), NULL, &r), 0);
    geodata_report_clear(&r);
    /* Same file again: nothing to reassign. */
    assert_int_equal(geodata_import_neighbourhoods(s, path_in_dir("nb.geojson"), NULL, &r), 0);
    assert_int_equal(r.reassigned, 0);
    geodata_report_clear(&r);
    /* B disappears; A grows over it. */
    const char *v2 = write_file("nb2.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        FEATURE("A", "Alpha", SQUARE(10.00, 50.00, 10.02, 50.01)) ","
        FEATURE("C", "Charlie", SQUARE(10.0202, 50.00, 10.03, 50.01)) "]}");
    assert_int_equal(geodata_import_neighbourhoods(s, v2, NULL, &r), 0);
    assert_int_equal(r.reassigned, 1); /* x2 moves from B to A */
    geodata_report_clear(&r);
    geodata_store_close(s);
    assert_string_equal(sql_text("re.sqlite", "SELECT neighbourhood_id FROM addresses "
                                              "WHERE source_id = 'x2'"), "A");
    assert_int_equal(sql_int("re.sqlite", "SELECT count(*) FROM neighbourhoods"), 2);
    assert_int_equal(sql_int("re.sqlite", "SELECT count(*) FROM neighbourhood_contiguity"), 2);
    assert_string_equal(sql_text("re.sqlite", "SELECT rtreecheck('idx_neighbourhoods_geom')"), "ok");
}

/* ---- shops -------------------------------------------------------------- */

static void test_shops_import_keeps_owner_status(void **state)
{
    (void)state;
    geodata_store *s = city("shops.sqlite");
    const char *file = write_file("shops.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"osm_id\":\"node/1\",\"shop\":\"bakery\","
        "\"name\":\"Au Bon Pain\",\"opening_hours\":\"Mo-Sa 07:00-19:00\","
        "\"addr:street\":\"Rue Haute\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[10.005,50.005]}},"
        "{\"type\":\"Feature\",\"properties\":{\"shop\":\"kiosk\"},\"geometry\":{\"type\":\"Polygon\","
        "\"coordinates\":" SQUARE(10.012, 50.002, 10.014, 50.004) "}},"
        "{\"type\":\"Feature\",\"properties\":{\"osm_id\":\"node/3\"},\"geometry\":null}"
        "]}");
    geodata_report r;
    assert_int_equal(geodata_import_shops(s, file, NULL, &r), 0);
    assert_int_equal(r.stored, 2);
    assert_int_equal(r.rejected, 1);
    geodata_report_clear(&r);
    geodata_store_close(s);

    sqlite3 *h;
    sqlite3_open(path_in_dir("shops.sqlite"), &h);
    assert_int_equal(sqlite3_exec(h, "UPDATE shops SET status = 'open', delivers = 1 "
                                     "WHERE source_id = 'node/1'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    s = open_store("shops.sqlite");
    assert_int_equal(geodata_import_shops(s, file, NULL, &r), 0);
    geodata_report_clear(&r);
    geodata_store_close(s);
    assert_int_equal(sql_int("shops.sqlite", "SELECT count(*) FROM shops"), 2);
    assert_string_equal(sql_text("shops.sqlite", "SELECT status || delivers || neighbourhood_id "
                                                 "FROM shops WHERE source_id = 'node/1'"), "open1A");
    assert_string_equal(sql_text("shops.sqlite", "SELECT neighbourhood_id FROM shops "
                                                 "WHERE shop = 'kiosk'"), "B");
    assert_string_equal(sql_text("shops.sqlite", "SELECT opening_hours FROM shops "
                                                 "WHERE source_id = 'node/1'"), "Mo-Sa 07:00-19:00");
}

/* ---- shop claims and password resets ------------------------------------ */

static int64_t new_member(geodata_store *s, const char *email, const char *role)
{
    geodata_new_member m = { .email = email, .password_hash = "old", .display_name = email, .role = role };
    int64_t id = 0;
    assert_int_equal(geodata_member_create(s, &m, &id), 0);
    return id;
}

static int count_claim(void *arg, const geodata_shop_claim *c)
{
    (void)c;
    ++*(int *)arg;
    return 0;
}

/* Two accounts claim one shop: nobody owns it until staff decide; approving
 * one turns the other down, and neither can be decided again. */
static void test_shop_claims(void **state)
{
    (void)state;
    geodata_store *s = city("claims.sqlite");
    const char *file = write_file("claims.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
        "{\"osm_id\":\"node/1\",\"shop\":\"bakery\",\"name\":\"Au Bon Pain\"},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[10.005,50.005]}}]}");
    geodata_report r;
    assert_int_equal(geodata_import_shops(s, file, NULL, &r), 0);
    geodata_report_clear(&r);
    int64_t shop = sql_int("claims.sqlite", "SELECT id FROM shops");
    int64_t ana = new_member(s, "ana@example.org", "shop"), ben = new_member(s, "ben@example.org", "shop");
    int64_t staff = new_member(s, "staff@example.org", "staff");
    int64_t ca, cb, again;
    assert_int_equal(geodata_shop_claim_request(s, shop, ana, "call me", 100, &ca), 0);
    assert_int_equal(geodata_shop_claim_request(s, shop, ben, NULL, 101, &cb), 0);
    assert_int_equal(geodata_shop_claim_request(s, shop, ana, "call the shop", 102, &again), 0);
    assert_true(ca > 0 && cb > 0 && ca != cb && again == ca);
    geodata_shop sh;
    assert_int_equal(geodata_shop_get(s, shop, &sh), 0);
    assert_int_equal(sh.owner_id, 0);
    int pending = 0, mine = 0, more = -1;
    assert_int_equal(geodata_shop_claims(s, 0, 0, GEODATA_CLAIMS_PAGE, count_claim, &pending, &more), 0);
    assert_int_equal(more, 0);
    assert_int_equal(geodata_shop_claims(s, ana, 0, GEODATA_CLAIMS_PAGE, count_claim, &mine, &more), 0);
    assert_int_equal(pending, 2);
    assert_int_equal(mine, 1);
    pending = 0;   /* a page of one says that another follows; the next one ends the list */
    assert_int_equal(geodata_shop_claims(s, 0, 0, 1, count_claim, &pending, &more), 0);
    assert_true(pending == 1 && more == 1);
    assert_int_equal(geodata_shop_claims(s, 0, cb, 1, count_claim, &pending, &more), 0);
    assert_true(pending == 2 && more == 0);

    assert_int_equal(geodata_shop_claim_decide(s, ca, staff, 1, 200), 0);
    assert_int_equal(geodata_shop_get(s, shop, &sh), 0);
    assert_int_equal(sh.owner_id, ana);
    geodata_shop_claim c;
    assert_int_equal(geodata_shop_claim_get(s, cb, &c), 0);
    assert_string_equal(c.status, "rejected");
    assert_string_equal(c.member_email, "ben@example.org");
    assert_int_equal(geodata_shop_claim_decide(s, cb, staff, 1, 201), GEODATA_ECONFLICT);
    assert_int_equal(geodata_shop_claim_decide(s, ca, staff, 0, 201), GEODATA_ECONFLICT);
    assert_int_equal(geodata_shop_claim_request(s, shop, ben, NULL, 202, &cb), GEODATA_ECONFLICT);
    assert_int_equal(geodata_shop_claim_request(s, shop, ana, NULL, 202, &again), 0);
    assert_int_equal(again, 0);   /* already hers: nothing filed */
    char big[GEODATA_CLAIM_NOTE_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(geodata_shop_claim_request(s, shop, ben, big, 203, &cb), GEODATA_EINVAL);
    geodata_store_close(s);
    assert_int_equal(sql_int("claims.sqlite", "SELECT count(*) FROM audit_log WHERE action LIKE '%shop claim'"
                                              " OR action = 'claim shop'"), 4);
}

static int count_reset(void *arg, const geodata_password_reset *r)
{
    (void)r;
    ++*(int *)arg;
    return 0;
}

/* A link works once, before it expires, and ends the account's sessions. */
static void test_password_reset(void **state)
{
    (void)state;
    geodata_store *s = city("resets.sqlite");
    int64_t ana = new_member(s, "ana@example.org", "member");
    unsigned char sess[32] = { 1 }, h1[32] = { 2 }, h2[32] = { 3 };
    assert_int_equal(geodata_session_create(s, sess, ana, "csrf", 10000), 0);
    assert_int_equal(geodata_password_reset_create(s, ana, h1, "first", 100, 200), 0);
    int64_t who = -1;
    assert_int_equal(geodata_password_reset_use(s, h1, "new", 200, &who), GEODATA_ENOTFOUND);  /* expired */
    assert_int_equal(who, 0);
    assert_int_equal(geodata_password_reset_create(s, ana, h2, "second", 300, 400), 0);
    int live = 0, more = -1;
    assert_int_equal(geodata_password_resets(s, 300, 0, 0, GEODATA_RESETS_PAGE, count_reset, &live, &more), 0);
    assert_int_equal(live, 1);
    int64_t boss = new_member(s, "boss@example.org", "staff");
    unsigned char h3[32] = { 4 };
    assert_int_equal(geodata_password_reset_create(s, boss, h3, "boss", 300, 400), 0);
    live = 0;
    assert_int_equal(geodata_password_resets(s, 300, 0, 0, GEODATA_RESETS_PAGE, count_reset, &live, &more), 0);
    assert_int_equal(live, 1);   /* a staff account's link is not for staff to read */
    live = 0;
    assert_int_equal(geodata_password_resets(s, 300, 1, 0, GEODATA_RESETS_PAGE, count_reset, &live, &more), 0);
    assert_true(live == 2 && more == 0);
    assert_int_equal(geodata_password_reset_use(s, h1, "new", 301, &who), GEODATA_ENOTFOUND); /* replaced */
    assert_int_equal(geodata_password_reset_use(s, h2, "new", 301, &who), 0);
    assert_int_equal(who, ana);
    assert_int_equal(geodata_password_reset_use(s, h2, "newer", 302, &who), GEODATA_ENOTFOUND); /* spent */
    geodata_session se;
    assert_int_equal(geodata_session_get(s, sess, 302, &se), GEODATA_ENOTFOUND);
    geodata_store_close(s);
    assert_string_equal(sql_text("resets.sqlite", "SELECT password_hash FROM members"), "new");
    assert_int_equal(sql_int("resets.sqlite", "SELECT count(*) FROM password_resets WHERE member_id = 1"), 0);
}

/* ---- the change feed ---------------------------------------------------- */

typedef struct seen_changes {
    int n;
    geodata_change c[8];
    char layer[8][16];
} seen_changes;

static int remember_change(void *arg, const geodata_change *c)
{
    seen_changes *s = arg;
    if (s->n < 8) {
        s->c[s->n] = *c;
        snprintf(s->layer[s->n], sizeof s->layer[0], "%s", c->layer);
        s->c[s->n].layer = s->layer[s->n];
    }
    s->n++;
    return 0;
}

static void test_change_feed(void **state)
{
    (void)state;
    geodata_store *s = city("changes.sqlite");
    const char *file = write_file("shops1.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"osm_id\":\"node/1\",\"shop\":\"bakery\"},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[10.005,50.006]}}]}");
    geodata_report r;
    assert_int_equal(geodata_import_shops(s, file, NULL, &r), 0);
    geodata_report_clear(&r);
    int64_t first;
    assert_int_equal(geodata_changes_last(s, &first), 0);
    assert_true(first >= 1);

    seen_changes seen = { 0 };
    int64_t last;
    assert_int_equal(geodata_changes_since(s, first - 1, 100, remember_change, &seen, &last), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(last, first);
    assert_string_equal(seen.c[0].layer, "shops");
    assert_false(seen.c[0].has_old);
    assert_true(seen.c[0].has_new);
    assert_true(seen.c[0].new_lon == 10.005 && seen.c[0].new_lat == 50.006);
    geodata_store_close(s);

    /* Written by another connection, without SpatiaLite: a visible update
     * fires it, a bare timestamp does not, a delete does. */
    sqlite3 *h;
    sqlite3_open(path_in_dir("changes.sqlite"), &h);
    assert_int_equal(sqlite3_exec(h, "UPDATE shops SET updated_at = updated_at + 1", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "UPDATE shops SET status = 'open'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "DELETE FROM shops", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    s = open_store("changes.sqlite");
    memset(&seen, 0, sizeof seen);
    assert_int_equal(geodata_changes_since(s, first, 100, remember_change, &seen, &last), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(last, first + 2);
    assert_true(seen.c[0].has_old && seen.c[0].has_new);
    assert_true(seen.c[0].old_lat == 50.006 && seen.c[0].new_lat == 50.006);
    assert_true(seen.c[1].has_old && !seen.c[1].has_new);
    /* max bounds the visit; nothing after the newest. */
    memset(&seen, 0, sizeof seen);
    assert_int_equal(geodata_changes_since(s, first, 1, remember_change, &seen, &last), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(last, first + 1);
    assert_int_equal(geodata_changes_since(s, first + 2, 100, remember_change, &seen, &last), 0);
    assert_int_equal(last, first + 2);
    geodata_store_close(s);

    /* A reader behind what was pruned is told to reload. */
    sqlite3_open(path_in_dir("changes.sqlite"), &h);
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM changes WHERE seq <= %lld", (long long)first);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    s = open_store("changes.sqlite");
    assert_int_equal(geodata_changes_since(s, first - 1, 100, remember_change, &seen, &last),
                     GEODATA_ESTALE);
    assert_int_equal(geodata_changes_since(s, first, 100, remember_change, &seen, &last), 0);
    geodata_store_close(s);
}

/* ---- streets derived from the addresses ------------------------------------ */

/* Synthetic streets run from (ST_LON0, ST_LAT0) at 30 degrees north of east;
 * a point is given by its distance along the street (s) and to its left (o),
 * in metres. */
#define ST_LON0 10.001
#define ST_LAT0 50.005
#define ST_M 111319.49079327357

static double st_kx(void)
{
    return ST_M * cos(ST_LAT0 * M_PI / 180);
}

static void street_point(double s, double o, double *lon, double *lat)
{
    double ux = cos(M_PI / 6), uy = sin(M_PI / 6);
    *lon = ST_LON0 + (s * ux - o * uy) / st_kx();
    *lat = ST_LAT0 + (s * uy + o * ux) / ST_M;
}

static void street_coords(double lon, double lat, double *s, double *o)
{
    double ux = cos(M_PI / 6), uy = sin(M_PI / 6);
    double x = (lon - ST_LON0) * st_kx(), y = (lat - ST_LAT0) * ST_M;
    *s = x * ux + y * uy;
    *o = -x * uy + y * ux;
}

/* What the lines of one derivation look like in the street's frame. */
typedef struct got_lines {
    int n;
    double s_min[8], s_max[8];  /* extent of each line along the street */
    double off_max;             /* the largest |o| of a vertex */
    double back_max;            /* the largest step against the line's own direction */
    double length;              /* metres, all lines */
} got_lines;

static int collect_line(void *arg, const double *ll, size_t n)
{
    got_lines *g = arg;
    assert_true(n >= 2);
    assert_true(g->n < 8);
    double s0, o0, s1, o1;
    street_coords(ll[0], ll[1], &s0, &o0);
    street_coords(ll[2 * (n - 1)], ll[2 * (n - 1) + 1], &s1, &o1);
    double way = s1 >= s0 ? 1 : -1, prev_s = s0, prev_o = o0;
    g->s_min[g->n] = fmin(s0, s1);
    g->s_max[g->n] = fmax(s0, s1);
    for (size_t i = 0; i < n; i++) {
        double si, oi;
        street_coords(ll[2 * i], ll[2 * i + 1], &si, &oi);
        g->off_max = fmax(g->off_max, fabs(oi));
        g->back_max = fmax(g->back_max, -way * (si - prev_s));
        g->length += hypot(si - prev_s, oi - prev_o);
        g->s_min[g->n] = fmin(g->s_min[g->n], si);
        g->s_max[g->n] = fmax(g->s_max[g->n], si);
        prev_s = si;
        prev_o = oi;
    }
    g->n++;
    return 0;
}

/* A small deterministic jitter in [-1.5, 1.5] m. */
static double jitter(int k)
{
    return ((k * 7919) % 31) / 10.0 - 1.5;
}

static void test_streets_zigzag_centreline(void **state)
{
    (void)state;
    /* Odd numbers every 10 m on the left (8 m from the middle), even ones
     * every 25 m on the right: by number the points cross the street and
     * run ahead on the odd side. The line must stay between the sides. */
    geodata_street_address a[64];
    size_t n = 0;
    for (int k = 0; k <= 30; k++, n++) {
        street_point(10.0 * k, 8 + jitter(k), &a[n].lon, &a[n].lat);
        a[n].number = 2 * k + 1;
    }
    for (int k = 0; k <= 12; k++, n++) {
        street_point(25.0 * k, -8 + jitter(k + 40), &a[n].lon, &a[n].lat);
        a[n].number = 2 * k + 2;
    }
    got_lines g = { 0 };
    assert_int_equal(geodata_streets_derive(a, n, collect_line, &g), 0);
    assert_int_equal(g.n, 1);
    if (g.off_max > 3.0)
        fail_msg("the centreline strays %.1f m from the middle (the sides are at 8 m)", g.off_max);
    assert_true(g.back_max < 1.0);
    assert_true(g.s_min[0] < 15 && g.s_max[0] > 285);
    assert_true(g.length < 310);
}

static void test_streets_gap_splits(void **state)
{
    (void)state;
    /* Numbers run on across a kilometre without addresses: two lines, none
     * across the gap. */
    geodata_street_address a[128];
    size_t n = 0;
    for (int k = 0; k < 60; k++, n++) {
        double s = (k % 30) * 10.0 + (k >= 30 ? 1300 : 0);
        street_point(s, k % 2 ? 7 : -7, &a[n].lon, &a[n].lat);
        a[n].number = k + 1;
    }
    got_lines g = { 0 };
    assert_int_equal(geodata_streets_derive(a, n, collect_line, &g), 0);
    assert_int_equal(g.n, 2);
    for (int i = 0; i < 2; i++)
        assert_true(g.s_max[i] < 400 || g.s_min[i] > 1200);
    assert_true(g.length < 2 * 300);

    /* A street turning a corner with no address for 270 m around it: two
     * lines, not a diagonal across the block. */
    n = 0;
    for (int k = 0; k < 60; k++, n++) {
        int second = k >= 30;
        double along = (k % 30) * 10.0, side = k % 2 ? 6 : -6;
        street_point(second ? 420 + side : along, second ? 240 + along : side, &a[n].lon, &a[n].lat);
        a[n].number = k + 1;
    }
    memset(&g, 0, sizeof g);
    assert_int_equal(geodata_streets_derive(a, n, collect_line, &g), 0);
    assert_int_equal(g.n, 2);
    assert_true(g.length < 2 * 300);

    /* Two streets of one name in one commune, each numbered from 1, 2 km
     * apart: two lines, not one zig-zagging between them. */
    n = 0;
    for (int k = 0; k < 40; k++, n++) {
        street_point((k % 20) * 12.0 + (k >= 20 ? 2000 : 0), k % 2 ? 6 : -6, &a[n].lon, &a[n].lat);
        a[n].number = k % 20 + 1;
    }
    memset(&g, 0, sizeof g);
    assert_int_equal(geodata_streets_derive(a, n, collect_line, &g), 0);
    assert_int_equal(g.n, 2);
    assert_true(g.length < 2 * 240);
}

static void test_streets_erratic_numbers(void **state)
{
    (void)state;
    /* Each side's numbers shuffled along it (k -> 17k mod 20): by number the
     * line would run back and forth 400 m at a time. */
    geodata_street_address a[64];
    size_t n = 0;
    for (int k = 0; k < 40; k++, n++) {
        int side = k % 2, slot = (17 * (k / 2)) % 20;
        street_point(20.0 * slot + side * 10, side ? 7 : -7, &a[n].lon, &a[n].lat);
        a[n].number = 2 * (k / 2) + 1 + (side ? 0 : 1);
    }
    got_lines g = { 0 };
    assert_int_equal(geodata_streets_derive(a, n, collect_line, &g), 0);
    assert_true(g.n >= 1 && g.n <= 2);
    if (g.length > 1.15 * 400 || g.back_max > 2)
        fail_msg("a spike: %.0f m of line for a 400 m street, %.1f m back", g.length, g.back_max);
    assert_true(g.off_max < 4);
    /* ... and the whole street is drawn, not the few addresses in order. */
    if (g.length < 0.9 * 390)
        fail_msg("%.0f m of line for a 390 m street", g.length);

    /* Odd and even numbers mixed on both sides at random. */
    n = 0;
    for (int k = 0; k < 40; k++, n++) {
        street_point(10.0 * k, k % 2 ? 7 : -7, &a[n].lon, &a[n].lat);
        a[n].number = (13 * k) % 40 + 1;
    }
    memset(&g, 0, sizeof g);
    assert_int_equal(geodata_streets_derive(a, n, collect_line, &g), 0);
    assert_true(g.n >= 1 && g.n <= 2);
    if (g.length > 1.15 * 400 || g.back_max > 2)
        fail_msg("a spike: %.0f m of line for a 400 m street, %.1f m back", g.length, g.back_max);
    assert_true(g.off_max < 8);

    /* A single address, two facing ones, and a named place without a number
     * (BAN's 99999) make no line. */
    street_point(0, 7, &a[0].lon, &a[0].lat);
    street_point(0, -7, &a[1].lon, &a[1].lat);
    street_point(50, -7, &a[2].lon, &a[2].lat);
    a[0].number = 1;
    a[1].number = 2;
    a[2].number = 99999;
    memset(&g, 0, sizeof g);
    assert_int_equal(geodata_streets_derive(a, 1, collect_line, &g), 0);
    assert_int_equal(geodata_streets_derive(a, 3, collect_line, &g), 0);
    assert_int_equal(g.n, 0);
}

/* A CSV of addresses: "Rue du Test" (37 addresses) and "Rue Courte" (4) in
 * commune 99001, "Rue d'Ailleurs" (6) in 99002, "Rue Seule" (one address);
 * rename renames Rue du Test to Rue Neuve and moves Rue d'Ailleurs to 99003. */
static const char *streets_csv(const char *file, int rename)
{
    static char csv[16384];
    size_t used = (size_t)snprintf(csv, sizeof csv,
        "id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n");
    int id = 0;
    for (int k = 0; k <= 20; k++) {
        double lon, lat;
        street_point(15.0 * k, 8 + jitter(k), &lon, &lat);
        used += (size_t)snprintf(csv + used, sizeof csv - used, "t%d;%d;%s;%s;99001;99001;Ville;%.7f;%.7f\n",
                                 id++, 2 * k + 1, k == 5 ? "bis" : "", rename ? "Rue Neuve" : "Rue du Test",
                                 lon, lat);
    }
    for (int k = 0; k <= 15; k++) {
        double lon, lat;
        street_point(20.0 * k, -8 + jitter(k + 3), &lon, &lat);
        used += (size_t)snprintf(csv + used, sizeof csv - used, "t%d;%d;;%s;99001;99001;Ville;%.7f;%.7f\n",
                                 id++, 2 * k + 2, rename ? "Rue Neuve" : "Rue du Test", lon, lat);
    }
    for (int k = 0; k < 4; k++) {
        double lon, lat;
        street_point(100 + 8 * (k % 2), 30 + 12.0 * (k / 2) * 2 + k, &lon, &lat);
        used += (size_t)snprintf(csv + used, sizeof csv - used, "c%d;%d;;Rue Courte;99001;99001;Ville;%.7f;%.7f\n",
                                 k, k + 1, lon, lat);
    }
    for (int k = 0; k < 6; k++) {
        double lon, lat;
        street_point(12.0 * k, 200 + (k % 2 ? 6 : -6), &lon, &lat);
        used += (size_t)snprintf(csv + used, sizeof csv - used, "a%d;%d;;Rue d'Ailleurs;99002;%s;Autre;%.7f;%.7f\n",
                                 k, k + 1, rename ? "99003" : "99002", lon, lat);
    }
    snprintf(csv + used, sizeof csv - used, "s1;1;;Rue Seule;99001;99001;Ville;10.002;50.002\n");
    return write_file(file, csv);
}

typedef struct seen_streets {
    int n;
    char names[8][32];
} seen_streets;

static int remember_street(void *arg, const geodata_street *st)
{
    seen_streets *s = arg;
    assert_true(st->wkb_len >= 9 + 2 * 16 && st->wkb[0] == 1 && st->wkb[1] == 2);
    if (s->n < 8)
        snprintf(s->names[s->n], sizeof s->names[0], "%s", st->name);
    s->n++;
    return 0;
}

static long long streets_changes(void)
{
    return sql_int("streets.sqlite", "SELECT count(*) FROM changes WHERE layer = 'streets'");
}

static void test_streets_import_and_rebuild(void **state)
{
    (void)state;
    geodata_store *s = city("streets.sqlite");
    geodata_report r;
    assert_int_equal(geodata_import_addresses(s, streets_csv("st1.csv", 0), NULL, &r), 0);
    assert_true(has_note(&r, "streets: 3 derived from the addresses of 2 communes"));
    geodata_report_clear(&r);
    geodata_store_close(s);
    assert_string_equal(sql_text("streets.sqlite", "SELECT group_concat(insee || ':' || name || ':' || part, ', ') "
                                                   "FROM (SELECT * FROM streets ORDER BY insee, name)"),
                        "99001:Rue Courte:0, 99001:Rue du Test:0, 99002:Rue d'Ailleurs:0");
    assert_string_equal(sql_text("streets.sqlite", "SELECT rtreecheck('idx_streets_geom')"), "ok");
    assert_int_equal(sql_int("streets.sqlite", "SELECT count(*) FROM idx_streets_geom"), 3);
    assert_int_equal(sql_int("streets.sqlite", "SELECT count(*) FROM streets_pending"), 0);
    assert_int_equal(sql_int("streets.sqlite", "SELECT geometry_type FROM geometry_columns "
                                               "WHERE f_table_name = 'streets'"), 2);
    long long feed = streets_changes();
    assert_int_equal(feed, 3);

    /* Read back by box. */
    s = open_store("streets.sqlite");
    seen_streets seen = { 0 };
    double lon, lat;
    street_point(150, 0, &lon, &lat);
    double box[4] = { lon - 0.0001, lat - 0.0001, lon + 0.0001, lat + 0.0001 };
    assert_int_equal(geodata_streets_in_box(s, box, 10, remember_street, &seen), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.names[0], "Rue du Test");
    double far[4] = { 11, 51, 11.1, 51.1 };
    memset(&seen, 0, sizeof seen);
    assert_int_equal(geodata_streets_in_box(s, far, 10, remember_street, &seen), 0);
    assert_int_equal(seen.n, 0);

    /* The same file again: nothing derived, nothing written. */
    char before[256];
    snprintf(before, sizeof before, "%s", sql_text("streets.sqlite",
             "SELECT group_concat(id || hex(geom)) FROM streets"));
    assert_int_equal(geodata_import_addresses(s, path_in_dir("st1.csv"), NULL, &r), 0);
    assert_false(has_note(&r, "streets:"));
    geodata_report_clear(&r);
    assert_int_equal(streets_changes(), feed);
    assert_string_equal(sql_text("streets.sqlite", "SELECT group_concat(id || hex(geom)) FROM streets"),
                        before);

    /* A street renamed and another moved to a new commune: the old lines go,
     * the untouched Rue Courte keeps its row. */
    long long courte = sql_int("streets.sqlite", "SELECT id FROM streets WHERE name = 'Rue Courte'");
    if (geodata_import_addresses(s, streets_csv("st2.csv", 1), NULL, &r))
        fail_msg("import: %s", geodata_errmsg(s));
    assert_true(has_note(&r, "streets: 3 derived from the addresses of 3 communes"));
    geodata_report_clear(&r);
    assert_string_equal(sql_text("streets.sqlite", "SELECT group_concat(insee || ':' || name, ', ') "
                                                   "FROM (SELECT * FROM streets ORDER BY insee, name)"),
                        "99001:Rue Courte, 99001:Rue Neuve, 99003:Rue d'Ailleurs");
    assert_int_equal(sql_int("streets.sqlite", "SELECT id FROM streets WHERE name = 'Rue Courte'"), courte);
    assert_int_equal(streets_changes(), feed + 4); /* two deleted, two inserted */
    assert_int_equal(sql_int("streets.sqlite", "SELECT count(*) FROM idx_streets_geom"), 3);

    /* A database whose addresses were imported before the streets existed
     * (schema version 8) gets them on its first opening. (What the later
     * versions added goes too: they run again.) */
    assert_int_equal(sqlite3_exec(s->db,
        "SELECT DiscardGeometryColumn('streets', 'geom');"
        "DROP TABLE idx_streets_geom; DROP TABLE streets; DROP TABLE streets_pending;"
        "DROP TRIGGER addresses_streets_ai; DROP TRIGGER addresses_streets_au;"
        "DROP TRIGGER addresses_streets_ad;"
        "DROP INDEX posts_created; ALTER TABLE posts DROP COLUMN done_at;"   /* 10 */
        "DROP TABLE comments_fts; DROP TABLE comment_reports; DROP TABLE comments;" /* 11 */
        "DROP INDEX posts_group; ALTER TABLE posts DROP COLUMN group_id;"
        "ALTER TABLE posts DROP COLUMN comment_count; DROP TABLE group_members; DROP TABLE groups;"
        "DROP TABLE secrets; DROP TABLE alert_deliveries; DROP TABLE subscriptions;" /* 12 */
        "DROP TABLE feed_tokens;"                                                /* 13 */
        "PRAGMA user_version = 8;", NULL, NULL, NULL), SQLITE_OK);
    geodata_store_close(s);
    s = open_store("streets.sqlite");
    geodata_store_close(s);
    assert_string_equal(sql_text("streets.sqlite", "SELECT group_concat(insee || ':' || name, ', ') "
                                                   "FROM (SELECT * FROM streets ORDER BY insee, name)"),
                        "99001:Rue Courte, 99001:Rue Neuve, 99003:Rue d'Ailleurs");
    assert_string_equal(sql_text("streets.sqlite", "SELECT rtreecheck('idx_streets_geom')"), "ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_csv_split),
        cmocka_unit_test(test_csv_reader_gzip_and_crlf),
        cmocka_unit_test(test_store_create_and_reopen),
        cmocka_unit_test(test_store_open_errors),
        cmocka_unit_test(test_point_blob_matches_spatialite),
        cmocka_unit_test(test_neighbourhoods_import),
        cmocka_unit_test(test_neighbourhoods_gap_option),
        cmocka_unit_test(test_neighbourhoods_bad_sources),
        cmocka_unit_test(test_nbindex_lookup),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_addresses_import),
        cmocka_unit_test(test_addresses_bad_sources),
        cmocka_unit_test(test_failed_read_is_an_error),
        cmocka_unit_test(test_neighbourhood_reimport_reassigns),
        cmocka_unit_test(test_shops_import_keeps_owner_status),
        cmocka_unit_test(test_shop_claims),
        cmocka_unit_test(test_password_reset),
        cmocka_unit_test(test_change_feed),
        cmocka_unit_test(test_streets_zigzag_centreline),
        cmocka_unit_test(test_streets_gap_splits),
        cmocka_unit_test(test_streets_erratic_numbers),
        cmocka_unit_test(test_streets_import_and_rebuild),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
