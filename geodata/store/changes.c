/*
 * geodata/store/changes.c — reading the change feed (see changes.h).
 *
 * The feed is written by the triggers of schema migration 5, never here: the
 * library's writers need not remember it, and neither does anyone else's.
 * Points are read from the geometry BLOB's header (a point's box is the
 * point), so reading the feed needs no SpatiaLite function.
 */
#include <string.h>

#include "internal.h"
#include "spatialite_blob.h"
#include "geodata/changes.h"

int geodata_changes_last(geodata_store *store, int64_t *seq)
{
    *seq = 0;
    sql_stmt *st = geodata_cached(store, "SELECT max(seq) FROM changes");
    if (!st)
        return GEODATA_EDB;
    int rc = sql_step(st);
    if (rc == SQL_ROW)
        *seq = sql_column_int64(st, 0);
    geodata_release(store, st);
    return rc == SQL_ROW ? GEODATA_OK : geodata_fail_sql(store, "reading the change feed");
}

/* The point in a geometry column, if it holds one. */
static int column_point(sql_stmt *st, int col, double *lon, double *lat)
{
    const unsigned char *blob = sql_column_blob(st, col);
    double box[4];
    if (!blob || geodata_blob_box(blob, sql_column_bytes(st, col), box))
        return 0;
    *lon = box[0];
    *lat = box[2];
    return 1;
}

int geodata_changes_since(geodata_store *store, int64_t after, size_t max,
                          int (*each)(void *arg, const geodata_change *c), void *arg,
                          int64_t *last)
{
    *last = after;
    /* Pruning removes the oldest rows: if the oldest kept is beyond after + 1
     * while newer ones exist, something in between is gone. Sequence numbers
     * have no gaps otherwise (AUTOINCREMENT; a rolled-back insert takes its
     * number back with it). PostgreSQL keeps the same property without a
     * sequence, whose numbers a rollback would lose: seq is taken from the
     * one row of changes_seq by a trigger (schema_pg.c), an UPDATE that rolls
     * back with its transaction, so a gap there too only means pruning. */
    /* Two subqueries: SQLite answers a lone min() or max() from the index's
     * ends, but both in one query scan the table. */
    sql_stmt *st = geodata_cached(store,
        "SELECT (SELECT min(seq) FROM changes), (SELECT max(seq) FROM changes)");
    if (!st)
        return GEODATA_EDB;
    if (sql_step(st) != SQL_ROW) {
        int rc = geodata_fail_sql(store, "reading the change feed");
        geodata_release(store, st);
        return rc;
    }
    int64_t lo = sql_column_int64(st, 0), hi = sql_column_int64(st, 1);
    int empty = sql_column_type(st, 0) == SQL_NULL;
    geodata_release(store, st);
    if (empty || hi <= after)
        return GEODATA_OK;
    if (lo > after + 1)
        return geodata_fail(store, GEODATA_ESTALE,
                            "changes after %lld were pruned (the oldest kept is %lld)",
                            (long long)after, (long long)lo);

    st = geodata_cached(store, "SELECT seq, layer, ref_id, old_geom, new_geom FROM changes "
                               "WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    if (!st)
        return GEODATA_EDB;
    sql_bind_int64(st, 1, after);
    sql_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    int rc, stop = 0;
    while (!stop && (rc = sql_step(st)) == SQL_ROW) {
        char layer[16];
        geodata_column_text(st, 1, layer, sizeof layer);
        geodata_change c = { .seq = sql_column_int64(st, 0), .layer = layer,
                             .ref_id = sql_column_int64(st, 2) };
        c.has_old = column_point(st, 3, &c.old_lon, &c.old_lat);
        c.has_new = column_point(st, 4, &c.new_lon, &c.new_lat);
        stop = each(arg, &c);
        *last = c.seq;
    }
    if (stop) {
        geodata_release(store, st);
        return stop;
    }
    rc = rc == SQL_DONE ? GEODATA_OK : geodata_fail_sql(store, "reading the change feed");
    geodata_release(store, st);
    return rc;
}
