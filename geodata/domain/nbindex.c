/*
 * geodata/domain/nbindex.c — point-in-neighbourhood lookups (see nbindex.h).
 *
 * Design: the polygons are read once from the store (in id order) and kept as
 * GEOS prepared geometries; an STR-packed R-tree over their envelopes gives
 * the candidates for a point. Prepared geometries cache a segment index on
 * their first use, so the first lookups in a polygon are slower than the rest.
 *
 * On request (geodata_nbindex_accelerate) a grid over all the polygons is
 * classified once, by quadtree subdivision with GEOS: a cell wholly inside one
 * polygon (and touching no other) answers a lookup with two multiplications
 * and a read; only points in cells that a border crosses go through the
 * R-tree and GEOS. The answers are the same either way.
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

#define GRID_LEVELS 9               /* 512 x 512 cells at the finest */
#define GRID_SIDE (1 << GRID_LEVELS)
#define CELL_OUTSIDE (-1)
#define CELL_MIXED   (-2)

struct geodata_nbindex {
    geodata_geos geos;      /* this index's own context: one thread at a time */
    int32_t *grid;          /* GRID_SIDE^2 cells: a position, CELL_OUTSIDE or CELL_MIXED; or NULL */
    double gx0, gy0, gdx, gdy; /* grid origin and cell size in degrees */
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
    free(idx->grid);
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

/* What the box (x0, y0, x1, y1) holds: the position of the one polygon that
 * contains it and no other touches, CELL_OUTSIDE when no polygon touches it,
 * else CELL_MIXED. */
static int32_t classify(geodata_nbindex *idx, double x0, double y0, double x1, double y1)
{
    GEOSContextHandle_t h = idx->geos.h;
    GEOSGeometry *box = GEOSGeom_createRectangle_r(h, x0, y0, x1, y1);
    if (!box)
        return CELL_MIXED;
    idx->n_cand = 0;
    GEOSSTRtree_query_r(h, idx->tree, box, collect, idx);
    int32_t result = CELL_OUTSIDE;
    for (size_t i = 0; i < idx->n_cand; i++) {
        const GEOSPreparedGeometry *p = idx->items[idx->cand[i]].prep;
        if (GEOSPreparedIntersects_r(h, p, box) != 1)
            continue;
        if (result != CELL_OUTSIDE || GEOSPreparedContainsProperly_r(h, p, box) != 1) {
            result = CELL_MIXED;
            break;
        }
        result = (int32_t)idx->cand[i];
    }
    GEOSGeom_destroy_r(h, box);
    return result;
}

/* Classifies the square of cells (cx, cy, side) and, when mixed, its four
 * quarters, down to single cells. Work: proportional to the cells that
 * borders cross, times the levels. */
static void classify_square(geodata_nbindex *idx, int cx, int cy, int side)
{
    int32_t c = classify(idx, idx->gx0 + cx * idx->gdx, idx->gy0 + cy * idx->gdy,
                         idx->gx0 + (cx + side) * idx->gdx, idx->gy0 + (cy + side) * idx->gdy);
    if (c != CELL_MIXED || side == 1) {
        for (int y = cy; y < cy + side; y++)
            for (int x = cx; x < cx + side; x++)
                idx->grid[(size_t)y * GRID_SIDE + (size_t)x] = c;
        return;
    }
    int half = side / 2;
    classify_square(idx, cx, cy, half);
    classify_square(idx, cx + half, cy, half);
    classify_square(idx, cx, cy + half, half);
    classify_square(idx, cx + half, cy + half, half);
}

int geodata_nbindex_accelerate(geodata_nbindex *idx)
{
    if (idx->grid || idx->n == 0)
        return GEODATA_OK;
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (size_t i = 0; i < idx->n; i++) {
        double a, b, c, d;
        if (!GEOSGeom_getExtent_r(idx->geos.h, idx->items[i].geom, &a, &b, &c, &d))
            return GEODATA_EGEOM;
        if (a < x0) x0 = a;
        if (b < y0) y0 = b;
        if (c > x1) x1 = c;
        if (d > y1) y1 = d;
    }
    idx->grid = malloc((size_t)GRID_SIDE * GRID_SIDE * sizeof *idx->grid);
    if (!idx->grid)
        return GEODATA_ENOMEM;
    /* A margin of one cell, so that points just outside land in the grid. */
    idx->gdx = (x1 - x0) / (GRID_SIDE - 2);
    idx->gdy = (y1 - y0) / (GRID_SIDE - 2);
    if (!(idx->gdx > 0) || !(idx->gdy > 0)) {
        free(idx->grid);
        idx->grid = NULL;
        return GEODATA_OK; /* degenerate extent: the plain path serves */
    }
    idx->gx0 = x0 - idx->gdx;
    idx->gy0 = y0 - idx->gdy;
    classify_square(idx, 0, 0, GRID_SIDE);
    return GEODATA_OK;
}

long geodata_nbindex_lookup(geodata_nbindex *idx, double lon, double lat)
{
    if (idx->n == 0)
        return -1;
    if (idx->grid) {
        double fx = (lon - idx->gx0) / idx->gdx, fy = (lat - idx->gy0) / idx->gdy;
        if (fx >= 0 && fy >= 0 && fx < GRID_SIDE && fy < GRID_SIDE) {
            int32_t c = idx->grid[(size_t)fy * GRID_SIDE + (size_t)fx];
            if (c != CELL_MIXED)
                return c;
        } else {
            return -1; /* outside the grid is outside every polygon */
        }
    }
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
