/*
 * geodata/store/spatial_index.c — geometry columns, their R*Tree indexes, and the
 * triggers that keep them in step.
 *
 * Why our own triggers: SpatiaLite 5's AddGeometryColumn/CreateSpatialIndex
 * install triggers that, for every row written, scan geometry_columns with
 * Lower() to check the type, stamp geometry_columns_time, and go through
 * RTreeAlign(), which prepares an SQL statement per call. Measured on the
 * 158,048 Paris addresses, they turn a 0.9 s load into 6.6 s. The store keeps
 * SpatiaLite's registration (GDAL, QGIS and SpatiaLite's own functions see a
 * normal indexed geometry column) and replaces those triggers with
 * equivalents: a type and SRID check, and direct rtree inserts and deletes.
 * The time stamps in geometry_columns_time are not maintained.
 *
 * Table names come from the library's own code, never from input: they are
 * formatted into SQL, which cannot bind identifiers.
 */
#include <stdlib.h>

#include "rtree_bulk.h"
#include "spatial_index.h"
#include "spatialite_blob.h"

static int exec_fmt(geodata_store *store, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int exec_fmt(geodata_store *store, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = geodata_vformat(fmt, ap);
    va_end(ap);
    if (!sql)
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    int rc = geodata_exec(store, sql, what);
    free(sql);
    return rc;
}

static int index_triggers_create(geodata_store *store, const char *t)
{
    return exec_fmt(store, "creating spatial index triggers",
        "CREATE TRIGGER \"gii_%1$s_geom\" AFTER INSERT ON \"%1$s\" WHEN NEW.geom IS NOT NULL "
        "BEGIN INSERT INTO \"idx_%1$s_geom\"(pkid, xmin, xmax, ymin, ymax) VALUES (NEW.rowid, "
        "MbrMinX(NEW.geom), MbrMaxX(NEW.geom), MbrMinY(NEW.geom), MbrMaxY(NEW.geom)); END;"
        "CREATE TRIGGER \"giu_%1$s_geom\" AFTER UPDATE OF geom ON \"%1$s\" "
        "BEGIN DELETE FROM \"idx_%1$s_geom\" WHERE pkid = OLD.rowid; "
        "INSERT INTO \"idx_%1$s_geom\"(pkid, xmin, xmax, ymin, ymax) SELECT NEW.rowid, "
        "MbrMinX(NEW.geom), MbrMaxX(NEW.geom), MbrMinY(NEW.geom), MbrMaxY(NEW.geom) "
        "WHERE NEW.geom IS NOT NULL; END;"
        "CREATE TRIGGER \"gid_%1$s_geom\" AFTER DELETE ON \"%1$s\" "
        "BEGIN DELETE FROM \"idx_%1$s_geom\" WHERE pkid = OLD.rowid; END;", t);
}


static int check_triggers_create(geodata_store *store, const char *t, const char *type)
{
    return exec_fmt(store, "creating geometry check triggers",
        "CREATE TRIGGER \"ggi_%1$s_geom\" BEFORE INSERT ON \"%1$s\" WHEN NEW.geom IS NOT NULL "
        "AND (GeometryType(NEW.geom) IS NOT '%2$s' OR SRID(NEW.geom) IS NOT 4326) "
        "BEGIN SELECT RAISE(ABORT, '%1$s.geom must be a %2$s in EPSG:4326'); END;"
        "CREATE TRIGGER \"ggu_%1$s_geom\" BEFORE UPDATE OF geom ON \"%1$s\" WHEN NEW.geom IS NOT NULL "
        "AND (GeometryType(NEW.geom) IS NOT '%2$s' OR SRID(NEW.geom) IS NOT 4326) "
        "BEGIN SELECT RAISE(ABORT, '%1$s.geom must be a %2$s in EPSG:4326'); END;", t, type);
}

static int drop_triggers(geodata_store *store, const char *t, const char *what)
{
    return exec_fmt(store, what,
                    "DROP TRIGGER \"gii_%1$s_geom\"; DROP TRIGGER \"giu_%1$s_geom\"; "
                    "DROP TRIGGER \"gid_%1$s_geom\"; DROP TRIGGER \"ggi_%1$s_geom\"; "
                    "DROP TRIGGER \"ggu_%1$s_geom\";", t);
}

int geodata_spatial_index_suspend(geodata_store *store, const char *t)
{
    if (store->pg)   /* a GiST index keeps itself through a bulk load */
        return GEODATA_OK;
    return drop_triggers(store, t, "suspending a spatial index");
}

/* The geometry type name of table.geom, from SpatiaLite's registry. */
static const char *registered_type(geodata_store *store, const char *t)
{
    static const struct { int code; const char *name; } types[] = {
        { 1, "POINT" }, { 2, "LINESTRING" }, { 3, "POLYGON" },
        { 4, "MULTIPOINT" }, { 5, "MULTILINESTRING" }, { 6, "MULTIPOLYGON" },
    };
    sql_stmt *st = geodata_prepare(store,
        "SELECT geometry_type FROM geometry_columns WHERE f_table_name = lower(?) "
        "AND f_geometry_column = 'geom'");
    if (!st)
        return NULL;
    sql_bind_text(st, 1, t, -1, SQL_STATIC);
    int code = sql_step(st) == SQL_ROW ? sql_column_int(st, 0) : 0;
    sql_finalize(st);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].code == code)
            return types[i].name;
    geodata_fail(store, GEODATA_EDB, "%s.geom is not a registered geometry column", t);
    return NULL;
}

int geodata_spatial_column_add(geodata_store *store, const char *t, const char *type)
{
    char *sql = geodata_format("SELECT AddGeometryColumn('%1$s', 'geom', 4326, '%2$s', 'XY', 1), "
                               "CreateSpatialIndex('%1$s', 'geom')", t, type);
    sql_stmt *st = sql ? geodata_prepare(store, sql) : NULL;
    free(sql);
    if (!st)
        return GEODATA_EDB;
    int ok = sql_step(st) == SQL_ROW && sql_column_int(st, 0) == 1
          && sql_column_int(st, 1) == 1;
    sql_finalize(st);
    if (!ok)
        return geodata_fail(store, GEODATA_EDB, "cannot add geometry column %s.geom: %s", t,
                            sqlite3_errmsg(store->db));
    int rc = exec_fmt(store, "replacing SpatiaLite triggers",
        "DROP TRIGGER \"tmi_%1$s_geom\"; DROP TRIGGER \"tmu_%1$s_geom\"; "
        "DROP TRIGGER \"tmd_%1$s_geom\";", t);
    if (!rc) rc = drop_triggers(store, t, "replacing SpatiaLite triggers");
    if (!rc) rc = check_triggers_create(store, t, type);
    if (!rc) rc = index_triggers_create(store, t);
    return rc;
}

int geodata_spatial_index_rebuild(geodata_store *store, const char *t)
{
    if (store->pg)
        return GEODATA_OK;
    int rc = exec_fmt(store, "recreating a spatial index",
                      "DROP TABLE \"idx_%1$s_geom\"; CREATE VIRTUAL TABLE \"idx_%1$s_geom\" "
                      "USING rtree(pkid, xmin, xmax, ymin, ymax);", t);
    if (rc)
        return rc;
    char *sql = geodata_format("SELECT rowid, geom FROM \"%s\" WHERE geom IS NOT NULL", t);
    sql_stmt *st = sql ? geodata_prepare(store, sql) : NULL;
    free(sql);
    if (!st)
        return GEODATA_EDB;
    geodata_rtree_entry *e = NULL;
    size_t n = 0, cap = 0;
    int step;
    while ((step = sql_step(st)) == SQL_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            geodata_rtree_entry *m = realloc(e, cap * sizeof *m);
            if (!m) {
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
                break;
            }
            e = m;
        }
        e[n].id = sql_column_int64(st, 0);
        if (geodata_blob_box(sql_column_blob(st, 1), sql_column_bytes(st, 1), e[n].box)) {
            rc = geodata_fail(store, GEODATA_EGEOM, "%s row %lld: not a SpatiaLite geometry", t,
                              (long long)e[n].id);
            break;
        }
        n++;
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading geometries to index");
    sql_finalize(st);
    char *name = geodata_format("idx_%s_geom", t);
    if (!rc && !name)
        rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    if (!rc) rc = geodata_rtree_bulk_load(store, name, e, n);
    const char *type = rc ? NULL : registered_type(store, t);
    if (!rc && !type)
        rc = GEODATA_EDB;
    if (!rc) rc = check_triggers_create(store, t, type);
    if (!rc) rc = index_triggers_create(store, t);
    free(name);
    free(e);
    return rc;
}
