/*
 * geodata/store/rtree_bulk.c — Sort-Tile-Recursive bulk loading of an SQLite rtree.
 *
 * Why: inserting 150,000 points one by one through the rtree module costs
 * about 9 us each (R*-tree choose-subtree, splits and forced reinsertion), more
 * than all the rest of an address import. Packing the tree bottom-up costs a
 * sort and one write per node, and gives fuller, less overlapping nodes.
 *
 * Format (SQLite's ext/rtree/rtree.c): node 1 is the root; every node blob is
 * exactly the table's node size, holding a 2-byte big-endian depth (root only,
 * 0 elsewhere), a 2-byte cell count, then cells of an 8-byte id (a rowid in a
 * leaf, a child node number above) and 4 big-endian float32 coordinates
 * (minx, maxx, miny, maxy). %_rowid maps each rowid to its leaf, %_parent
 * each non-root node to its parent. SELECT rtreecheck(name) verifies a tree.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rtree_bulk.h"

#define CELL_BYTES 24    /* 8-byte id + 4 float32 */
#define MAX_CELLS  51    /* RTREE_MAXCELLS in SQLite */

/* Rounds outwards as the rtree module does: a min down, a max up. */
static float round_down(double d)
{
    float f = (float)d;
    return (double)f > d ? nextafterf(f, -INFINITY) : f;
}

static float round_up(double d)
{
    float f = (float)d;
    return (double)f < d ? nextafterf(f, INFINITY) : f;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static void put_float(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int cmp_x(const void *a, const void *b)
{
    const geodata_rtree_entry *p = a, *q = b;
    double x = p->box[0] + p->box[1], y = q->box[0] + q->box[1];
    return (x > y) - (x < y);
}

static int cmp_y(const void *a, const void *b)
{
    const geodata_rtree_entry *p = a, *q = b;
    double x = p->box[2] + p->box[3], y = q->box[2] + q->box[3];
    return (x > y) - (x < y);
}

/* STR order: sort by x, cut into vertical slices of slice cells, sort each
 * slice by y. Consecutive runs of cap entries then make compact nodes. */
static void str_sort(geodata_rtree_entry *e, size_t n, size_t cap)
{
    if (n < 2)
        return;
    size_t nodes = (n + cap - 1) / cap;
    size_t slices = (size_t)ceil(sqrt((double)nodes));
    size_t per_slice = slices ? ((nodes + slices - 1) / slices) * cap : n;
    qsort(e, n, sizeof *e, cmp_x);
    for (size_t i = 0; i < n; i += per_slice)
        qsort(e + i, (n - i < per_slice ? n - i : per_slice), sizeof *e, cmp_y);
}

typedef struct leaf_of {
    int64_t rowid;
    int64_t node;
} leaf_of;

typedef struct writer {
    geodata_store *store;
    sql_stmt *node, *rowid, *parent;
    unsigned char *blob;
    int node_size;
    int64_t next_node;    /* next free node number; 1 is kept for the root */
    leaf_of *leaves;      /* %_rowid rows, written last in rowid order */
    size_t n_leaves;
} writer;

/* Writes one node holding cells e[0..k-1]; ids are rowids when leaf. */
static int write_node(writer *w, int64_t nodeno, int depth, const geodata_rtree_entry *e,
                      size_t k, int leaf)
{
    memset(w->blob, 0, (size_t)w->node_size);
    w->blob[0] = (unsigned char)(depth >> 8);
    w->blob[1] = (unsigned char)depth;
    w->blob[2] = (unsigned char)(k >> 8);
    w->blob[3] = (unsigned char)k;
    for (size_t i = 0; i < k; i++) {
        unsigned char *c = w->blob + 4 + i * CELL_BYTES;
        put64(c, (uint64_t)e[i].id);
        put_float(c + 8, round_down(e[i].box[0]));
        put_float(c + 12, round_up(e[i].box[1]));
        put_float(c + 16, round_down(e[i].box[2]));
        put_float(c + 20, round_up(e[i].box[3]));
        if (leaf) {
            w->leaves[w->n_leaves].rowid = e[i].id;
            w->leaves[w->n_leaves++].node = nodeno;
            continue;
        }
        sql_bind_int64(w->parent, 1, e[i].id);
        sql_bind_int64(w->parent, 2, nodeno);
        int rc = sql_step(w->parent);
        sql_reset(w->parent);
        if (rc != SQL_DONE)
            return geodata_fail_sql(w->store, "writing an rtree parent");
    }
    sql_bind_int64(w->node, 1, nodeno);
    sql_bind_blob(w->node, 2, w->blob, w->node_size, SQL_STATIC);
    int rc = sql_step(w->node);
    sql_reset(w->node);
    return rc == SQL_DONE ? GEODATA_OK : geodata_fail_sql(w->store, "writing an rtree node");
}

/* Packs one level: writes nodes of cap cells from e[0..n-1] and replaces
 * e's first entries with one entry per written node (its number and box).
 * Returns the number of nodes, or a negative code. */
static long pack_level(writer *w, geodata_rtree_entry *e, size_t n, size_t cap, int depth, int leaf)
{
    str_sort(e, n, cap);
    size_t out = 0;
    for (size_t i = 0; i < n; i += cap) {
        size_t k = n - i < cap ? n - i : cap;
        geodata_rtree_entry parent = { w->next_node++, { INFINITY, -INFINITY, INFINITY, -INFINITY } };
        for (size_t j = i; j < i + k; j++) {
            if (e[j].box[0] < parent.box[0]) parent.box[0] = e[j].box[0];
            if (e[j].box[1] > parent.box[1]) parent.box[1] = e[j].box[1];
            if (e[j].box[2] < parent.box[2]) parent.box[2] = e[j].box[2];
            if (e[j].box[3] > parent.box[3]) parent.box[3] = e[j].box[3];
        }
        int rc = write_node(w, parent.id, depth, e + i, k, leaf);
        if (rc)
            return rc;
        e[out++] = parent; /* out <= i: the cells just written are no longer needed */
    }
    return (long)out;
}

static int cmp_rowid(const void *a, const void *b)
{
    int64_t x = ((const leaf_of *)a)->rowid, y = ((const leaf_of *)b)->rowid;
    return (x > y) - (x < y);
}

/* The rowid -> leaf map, in rowid order so that its B-tree only appends. */
static int write_rowids(writer *w)
{
    if (w->n_leaves > 1)
        qsort(w->leaves, w->n_leaves, sizeof *w->leaves, cmp_rowid);
    for (size_t i = 0; i < w->n_leaves; i++) {
        sql_bind_int64(w->rowid, 1, w->leaves[i].rowid);
        sql_bind_int64(w->rowid, 2, w->leaves[i].node);
        int rc = sql_step(w->rowid);
        sql_reset(w->rowid);
        if (rc != SQL_DONE)
            return geodata_fail_sql(w->store, "writing an rtree rowid");
    }
    return GEODATA_OK;
}

int geodata_rtree_bulk_load(geodata_store *store, const char *name,
                            geodata_rtree_entry *entries, size_t n)
{
    writer w = { .store = store, .next_node = 2 };
    char *sql = geodata_format("SELECT length(data) FROM \"%s_node\" WHERE nodeno = 1", name);
    sql_stmt *st = sql ? geodata_prepare(store, sql) : NULL;
    free(sql);
    if (!st)
        return GEODATA_EDB;
    w.node_size = sql_step(st) == SQL_ROW ? sql_column_int(st, 0) : 0;
    sql_finalize(st);
    size_t cap = w.node_size > 4 ? (size_t)(w.node_size - 4) / CELL_BYTES : 0;
    if (cap > MAX_CELLS)
        cap = MAX_CELLS;
    if (cap < 4)
        return geodata_fail(store, GEODATA_EDB, "rtree %s: unexpected node size %d", name, w.node_size);

    char *node_sql = geodata_format("INSERT OR REPLACE INTO \"%s_node\"(nodeno, data) VALUES (?, ?)", name);
    char *rowid_sql = geodata_format("INSERT INTO \"%s_rowid\"(rowid, nodeno) VALUES (?, ?)", name);
    char *parent_sql = geodata_format("INSERT INTO \"%s_parent\"(nodeno, parentnode) VALUES (?, ?)", name);
    w.blob = malloc((size_t)w.node_size);
    w.leaves = malloc((n ? n : 1) * sizeof *w.leaves);
    int rc = (node_sql && rowid_sql && parent_sql && w.blob && w.leaves) ? GEODATA_OK
           : geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    if (!rc && (!(w.node = geodata_prepare(store, node_sql)) || !(w.rowid = geodata_prepare(store, rowid_sql))
                || !(w.parent = geodata_prepare(store, parent_sql))))
        rc = GEODATA_EDB;
    free(node_sql);
    free(rowid_sql);
    free(parent_sql);

    /* Build upwards until one level fits in the root. The last level packed
     * is written as node 1 with the tree's depth. */
    int depth = 0;
    int leaf = 1;
    size_t level = n;
    while (!rc && level > cap) {
        long made = pack_level(&w, entries, level, cap, 0, leaf);
        if (made < 0)
            rc = (int)made;
        level = (size_t)(made < 0 ? 0 : made);
        leaf = 0;
        depth++;
    }
    if (!rc) {
        str_sort(entries, level, cap);
        rc = write_node(&w, 1, depth, entries, level, leaf);
    }
    if (!rc)
        rc = write_rowids(&w);
    sql_finalize(w.node);
    sql_finalize(w.rowid);
    sql_finalize(w.parent);
    free(w.blob);
    free(w.leaves);
    return rc;
}
