/*
 * geodata/nbindex.c — point-in-neighbourhood lookups (see nbindex.h).
 *
 * Design: the polygons are read once from the store (in id order) and kept as
 * GEOS prepared geometries; an STR-packed R-tree over their envelopes gives
 * the candidates for a point. Prepared geometries cache a segment index on
 * their first use, so the first lookups in a polygon are slower than the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "internal.h"
#include "geodata/nbindex.h"

typedef struct nb_entry {
    char *id;
    char *name;
    GEOSGeometry *geom;                  /* EPSG:4326 (multi)polygon */
    const GEOSPreparedGeometry *prep;    /* owned; built from geom */
} nb_entry;

struct geodata_nbindex {
    geodata_geos geos;      /* this index's own context: one thread at a time */
    nb_entry *items;        /* sorted by id */
    size_t n;
    GEOSSTRtree *tree;      /* items are (void *)(position + 1) */
    long *cand;             /* scratch for one lookup's candidates, n long */
    size_t n_cand;
};

void geodata_nbindex_free(geodata_nbindex *idx)
{
    if (!idx)
        return;
    GEOSContextHandle_t h = idx->geos.h;
    for (size_t i = 0; i < idx->n; i++) {
        free(idx->items[i].id);
        free(idx->items[i].name);
        if (idx->items[i].prep)
            GEOSPreparedGeom_destroy_r(h, idx->items[i].prep);
        if (idx->items[i].geom)
            GEOSGeom_destroy_r(h, idx->items[i].geom);
    }
    if (idx->tree)
        GEOSSTRtree_destroy_r(h, idx->tree);
    free(idx->items);
    free(idx->cand);
    geodata_geos_clear(&idx->geos);
    free(idx);
}

static char *dup_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return strdup(s ? (const char *)s : "");
}

/* Reads every neighbourhood into idx->items; 0 or a GEODATA_E* code. */
static int read_items(geodata_store *store, geodata_nbindex *idx)
{
    sqlite3_stmt *st = geodata_prepare(store,
        "SELECT id, name, AsBinary(geom) FROM neighbourhoods ORDER BY id");
    if (!st)
        return GEODATA_EDB;
    GEOSWKBReader *reader = GEOSWKBReader_create_r(idx->geos.h);
    size_t cap = 0;
    int rc = GEODATA_OK, step;
    while (rc == GEODATA_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (idx->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            nb_entry *items = realloc(idx->items, ncap * sizeof *items);
            if (!items) {
                rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
                break;
            }
            idx->items = items;
            cap = ncap;
        }
        nb_entry *e = &idx->items[idx->n];
        memset(e, 0, sizeof *e);
        idx->n++;
        e->id = dup_text(st, 0);
        e->name = dup_text(st, 1);
        const void *wkb = sqlite3_column_blob(st, 2);
        int len = sqlite3_column_bytes(st, 2);
        e->geom = wkb ? GEOSWKBReader_read_r(idx->geos.h, reader, wkb, (size_t)len) : NULL;
        e->prep = e->geom ? GEOSPrepare_r(idx->geos.h, e->geom) : NULL;
        if (!e->id || !e->name)
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
        else if (!e->prep)
            rc = geodata_fail(store, GEODATA_EGEOM, "neighbourhood '%s': unreadable geometry: %s",
                              e->id, idx->geos.msg);
    }
    if (rc == GEODATA_OK && step != SQLITE_DONE)
        rc = geodata_fail_sql(store, "reading neighbourhoods");
    GEOSWKBReader_destroy_r(idx->geos.h, reader);
    sqlite3_finalize(st);
    return rc;
}

int geodata_nbindex_load(geodata_store *store, geodata_nbindex **out)
{
    *out = NULL;
    geodata_nbindex *idx = calloc(1, sizeof *idx);
    if (!idx || geodata_geos_init(&idx->geos)) {
        free(idx);
        return geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    int rc = read_items(store, idx);
    if (rc == GEODATA_OK) {
        idx->cand = malloc((idx->n ? idx->n : 1) * sizeof *idx->cand);
        idx->tree = GEOSSTRtree_create_r(idx->geos.h, 10);
        if (!idx->cand || !idx->tree)
            rc = geodata_fail(store, GEODATA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == GEODATA_OK && i < idx->n; i++)
        GEOSSTRtree_insert_r(idx->geos.h, idx->tree, idx->items[i].geom, (void *)(uintptr_t)(i + 1));
    if (rc) {
        geodata_nbindex_free(idx);
        return rc;
    }
    *out = idx;
    return GEODATA_OK;
}

size_t geodata_nbindex_count(const geodata_nbindex *idx)
{
    return idx->n;
}

const char *geodata_nbindex_id(const geodata_nbindex *idx, size_t i)
{
    return i < idx->n ? idx->items[i].id : NULL;
}

const char *geodata_nbindex_name(const geodata_nbindex *idx, size_t i)
{
    return i < idx->n ? idx->items[i].name : NULL;
}

static void collect(void *item, void *userdata)
{
    geodata_nbindex *idx = userdata;
    if (idx->n_cand < idx->n)
        idx->cand[idx->n_cand++] = (long)((uintptr_t)item - 1);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

long geodata_nbindex_lookup(geodata_nbindex *idx, double lon, double lat)
{
    if (idx->n == 0)
        return -1;
    GEOSContextHandle_t h = idx->geos.h;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, lon, lat);
    if (!pt)
        return -1;
    idx->n_cand = 0;
    GEOSSTRtree_query_r(h, idx->tree, pt, collect, idx);
    if (idx->n_cand > 1)
        qsort(idx->cand, idx->n_cand, sizeof *idx->cand, cmp_long);
    long found = -1;
    for (size_t i = 0; i < idx->n_cand && found < 0; i++)
        if (GEOSPreparedIntersects_r(h, idx->items[idx->cand[i]].prep, pt) == 1)
            found = idx->cand[i];
    GEOSGeom_destroy_r(h, pt);
    return found;
}
