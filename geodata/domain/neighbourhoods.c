/*
 * geodata/domain/neighbourhoods.c — neighbourhood polygons read back (see
 * neighbourhoods.h), through their R*Tree (SQLite) or GiST index (PostgreSQL).
 */
#include "internal.h"
#include "geodata/neighbourhoods.h"

int geodata_neighbourhoods_in_box(geodata_store *store, const double *bbox,
                                  int (*each)(void *arg, const geodata_neighbourhood *n), void *arg)
{
    /* PostgreSQL: two statements, so that the one with a box keeps the
     * GiST index in a generic plan (an `IS NULL OR` would hide it). */
    sql_stmt *st = geodata_cached(store, GEODATA_DIALECT(store,
        "SELECT n.id, n.name, ST_AsBinary(n.geom), n.label_lon, n.label_lat FROM neighbourhoods n "
        "WHERE ?1 IS NULL OR n.rowid IN (SELECT pkid FROM idx_neighbourhoods_geom "
        "  WHERE xmin <= ?3 AND xmax >= ?1 AND ymin <= ?4 AND ymax >= ?2) ORDER BY n.id",
        bbox ? "SELECT n.id, n.name, ST_AsBinary(n.geom), n.label_lon, n.label_lat "
               "FROM neighbourhoods n WHERE n.geom && ST_MakeEnvelope(?1, ?2, ?3, ?4, 4326) "
               "ORDER BY n.id"
             : "SELECT n.id, n.name, ST_AsBinary(n.geom), n.label_lon, n.label_lat "
               "FROM neighbourhoods n ORDER BY n.id"));
    if (!st)
        return GEODATA_EDB;
    if (bbox)
        for (int i = 0; i < 4; i++)
            sql_bind_double(st, i + 1, bbox[i]);
    int rc = GEODATA_OK, step;
    while (!rc && (step = sql_step(st)) == SQL_ROW) {
        geodata_neighbourhood n = {
            .id = (const char *)sql_column_text(st, 0),
            .name = (const char *)sql_column_text(st, 1),
            .wkb = sql_column_blob(st, 2),
            .wkb_len = (size_t)sql_column_bytes(st, 2),
            .label_lon = sql_column_double(st, 3),
            .label_lat = sql_column_double(st, 4),
        };
        rc = each(arg, &n);
    }
    if (!rc && step != SQL_DONE)
        rc = geodata_fail_sql(store, "reading neighbourhoods");
    geodata_release(store, st);
    return rc;
}

int geodata_neighbourhood_label(geodata_store *store, const char *id, double *lon, double *lat)
{
    sql_stmt *st = geodata_cached(store,
        "SELECT label_lon, label_lat FROM neighbourhoods WHERE id = ?1");
    if (!st)
        return GEODATA_EDB;
    sql_bind_text(st, 1, id, -1, SQL_STATIC);
    int step = sql_step(st), rc = GEODATA_OK;
    if (step == SQL_ROW) {
        *lon = sql_column_double(st, 0);
        *lat = sql_column_double(st, 1);
    } else {
        rc = step == SQL_DONE ? geodata_fail(store, GEODATA_ENOTFOUND, "no neighbourhood %s", id)
                                 : geodata_fail_sql(store, "reading a neighbourhood");
    }
    geodata_release(store, st);
    return rc;
}
