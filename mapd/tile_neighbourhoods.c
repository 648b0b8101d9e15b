/*
 * mapd/tile_neighbourhoods.c — neighbourhood polygons in memory (see
 * tile_neighbourhoods.h).
 *
 * The set is an array in id order (the store's order) of entries holding
 * copies of the strings, the label point in world coordinates and the
 * prepared shape, with a grid index made at load: each entry is filed under
 * the grid cell of its box's lower corner (its box holds its polygons and
 * its label point), the grid's cells being about as wide as the median
 * entry, so that an entry reaches at most SPAN cells beyond its own (a
 * wider one goes to a short list every lookup reads). The index is one
 * array of (cell, entry) sorted by row, column and entry: a lookup reads,
 * per row of cells, the run of cells that may hold an entry meeting the
 * frame (a binary search finds its start), tests those entries' boxes, and
 * sorts what it found back into id order. A frame spanning more cells than
 * there are entries (a low zoom over the whole set) tests every entry in
 * turn instead: deep tiles of a country's 50,000 neighbourhoods read a few
 * dozen entries, not all of them, and several times a tile.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/neighbourhoods.h"
#include "tile_neighbourhoods.h"
#include "tiles/tile.h"

#define SPAN 4                   /* cells an indexed entry may reach beyond its own */
#define FOUND_SMALL 256          /* entries a lookup sorts without allocating */

typedef struct entry {
    char *id, *name;
    double label_lon, label_lat;
    double label_wx, label_wy;   /* the label point in the world square */
    double bounds[4];            /* of the shape, world square */
    tiles_shape *shape;
} entry;

typedef struct filed {
    uint64_t cell;               /* row << 32 | column of the entry's lower corner */
    uint32_t entry;
} filed;

typedef struct entries {
    entry *items;
    size_t n, cap;
    int zoom;                    /* of the index's grid: 2^zoom cells across the world */
    filed *index;                /* sorted by cell, then entry */
    size_t n_index;
    uint32_t *wide;              /* entries reaching more than SPAN cells, in id order */
    size_t n_wide;
} entries;

struct mapd_neighbourhoods {
    pthread_rwlock_t lock;       /* renders share it; a reload's swap takes it alone,
                                    ahead of later renders (writer-preferring) */
    entries list;
};

static void entries_clear(entries *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].id);
        free(l->items[i].name);
        tiles_shape_free(l->items[i].shape);
    }
    free(l->items);
    free(l->index);
    free(l->wide);
    memset(l, 0, sizeof *l);
}

mapd_neighbourhoods *mapd_neighbourhoods_new(void)
{
    mapd_neighbourhoods *set = calloc(1, sizeof *set);
    if (!set)
        return NULL;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&set->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc) {
        free(set);
        return NULL;
    }
    return set;
}

void mapd_neighbourhoods_free(mapd_neighbourhoods *set)
{
    if (!set)
        return;
    entries_clear(&set->list);
    pthread_rwlock_destroy(&set->lock);
    free(set);
}

typedef struct loading {
    entries list;
    tiles_ctx *ctx;
} loading;

static int add(void *arg, const geodata_neighbourhood *n)
{
    loading *l = arg;
    tiles_shape *shape;
    int rc = tiles_shape_from_wkb(l->ctx, n->wkb, n->wkb_len, &shape);
    if (rc == TILES_EINVAL)
        return 0; /* an unreadable polygon is left out, not fatal */
    if (rc)
        return rc;
    if (l->list.n == l->list.cap) {
        size_t cap = l->list.cap ? l->list.cap * 2 : 64;
        entry *items = realloc(l->list.items, cap * sizeof *items);
        if (!items) {
            tiles_shape_free(shape);
            return TILES_ENOMEM;
        }
        l->list.items = items;
        l->list.cap = cap;
    }
    entry e = { .id = strdup(n->id), .name = strdup(n->name), .label_lon = n->label_lon,
                .label_lat = n->label_lat, .shape = shape };
    if (!e.id || !e.name) {
        free(e.id);
        free(e.name);
        tiles_shape_free(shape);
        return TILES_ENOMEM;
    }
    tiles_world(n->label_lon, n->label_lat, &e.label_wx, &e.label_wy);
    tiles_shape_bounds(shape, e.bounds);
    l->list.items[l->list.n++] = e;
    return 0;
}

/* The box of entry e: its polygons' bounds and its label point. */
static void entry_box(const entry *e, double b[4])
{
    b[0] = fmin(e->bounds[0], e->label_wx);
    b[1] = fmin(e->bounds[1], e->label_wy);
    b[2] = fmax(e->bounds[2], e->label_wx);
    b[3] = fmax(e->bounds[3], e->label_wy);
}

/* The cell of world coordinate v (0 to 1) in a grid of 2^zoom cells. */
static int64_t cell_of(double v, int zoom)
{
    double c = floor(v * ldexp(1.0, zoom));
    return c < 0 ? 0 : c >= ldexp(1.0, zoom) ? (int64_t)ldexp(1.0, zoom) - 1 : (int64_t)c;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_filed(const void *a, const void *b)
{
    const filed *x = a, *y = b;
    if (x->cell != y->cell)
        return x->cell < y->cell ? -1 : 1;
    return (x->entry > y->entry) - (x->entry < y->entry);
}

/* Makes l's grid index (see the top of the file). 0 or TILES_ENOMEM. Work:
 * two sorts of the entries. */
static int build_index(entries *l)
{
    if (!l->n)
        return 0;
    double *widths = malloc(l->n * sizeof *widths);
    l->index = malloc(l->n * sizeof *l->index);
    l->wide = malloc(l->n * sizeof *l->wide);
    if (!widths || !l->index || !l->wide) {
        free(widths);
        return TILES_ENOMEM;
    }
    for (size_t i = 0; i < l->n; i++) {
        double b[4];
        entry_box(&l->items[i], b);
        widths[i] = fmax(b[2] - b[0], b[3] - b[1]);
    }
    qsort(widths, l->n, sizeof *widths, cmp_double);
    double median = widths[l->n / 2];
    free(widths);
    /* cells about as wide as the median entry: it reaches one cell beyond its own */
    l->zoom = median > 0 ? (int)floor(-log2(median)) : 24;
    l->zoom = l->zoom < 0 ? 0 : l->zoom > 24 ? 24 : l->zoom;
    for (size_t i = 0; i < l->n; i++) {
        double b[4];
        entry_box(&l->items[i], b);
        int64_t x0 = cell_of(b[0], l->zoom), y0 = cell_of(b[1], l->zoom);
        if (cell_of(b[2], l->zoom) - x0 > SPAN || cell_of(b[3], l->zoom) - y0 > SPAN)
            l->wide[l->n_wide++] = (uint32_t)i;
        else
            l->index[l->n_index++] = (filed){ (uint64_t)y0 << 32 | (uint64_t)x0, (uint32_t)i };
    }
    qsort(l->index, l->n_index, sizeof *l->index, cmp_filed);
    return 0;
}

int mapd_neighbourhoods_load(mapd_neighbourhoods *set, geodata_store *store)
{
    loading l = { .ctx = tiles_ctx_new() };
    if (!l.ctx)
        return TILES_ENOMEM;
    int rc = geodata_neighbourhoods_in_box(store, NULL, add, &l);
    tiles_ctx_free(l.ctx);
    if (!rc)
        rc = build_index(&l.list);
    if (rc) {
        entries_clear(&l.list);
        return rc;
    }
    pthread_rwlock_wrlock(&set->lock);
    entries old = set->list;
    set->list = l.list;
    pthread_rwlock_unlock(&set->lock);
    entries_clear(&old);
    return 0;
}

/* 1 when entry e meets box (its polygons' bounds or its label point). */
static int meets(const entry *e, const double box[4])
{
    int shape_in = e->bounds[0] <= box[2] && e->bounds[2] >= box[0]
                && e->bounds[1] <= box[3] && e->bounds[3] >= box[1];
    int label_in = e->label_wx >= box[0] && e->label_wx <= box[2]
                && e->label_wy >= box[1] && e->label_wy <= box[3];
    return shape_in || label_in;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The first filed entry at or after cell key, by binary search. */
static size_t index_from(const entries *l, uint64_t key)
{
    size_t lo = 0, hi = l->n_index;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->index[mid].cell < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Appends i to the list *found (n used, *cap room, small the stack start). */
static int found_add(uint32_t **found, size_t *n, size_t *cap, uint32_t *small, uint32_t i)
{
    if (*n == *cap) {
        size_t more = *cap * 2;
        uint32_t *f = *found == small ? malloc(more * sizeof *f) : realloc(*found, more * sizeof *f);
        if (!f)
            return TILES_ENOMEM;
        if (*found == small)
            memcpy(f, small, *n * sizeof *f);
        *found = f;
        *cap = more;
    }
    (*found)[(*n)++] = i;
    return 0;
}

static int visit(const entry *e, int (*each)(void *arg, const mapd_neighbourhood *n), void *arg)
{
    mapd_neighbourhood n = { e->id, e->name, e->label_lon, e->label_lat, e->label_wx, e->label_wy,
                             e->shape };
    return each(arg, &n);
}

int mapd_neighbourhoods_each(mapd_neighbourhoods *set, const tiles_frame *f,
                             int (*each)(void *arg, const mapd_neighbourhood *n), void *arg)
{
    double box[4];
    tiles_frame_world_box(f, box);
    int rc = 0;
    pthread_rwlock_rdlock(&set->lock);
    const entries *l = &set->list;
    int64_t x0 = cell_of(box[0], l->zoom) - SPAN, x1 = cell_of(box[2], l->zoom);
    int64_t y0 = cell_of(box[1], l->zoom) - SPAN, y1 = cell_of(box[3], l->zoom);
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    uint32_t small[FOUND_SMALL], *found = small;
    size_t n = 0, cap = FOUND_SMALL;
    if ((uint64_t)(x1 - x0 + 1) * (uint64_t)(y1 - y0 + 1) > l->n) {
        /* a frame over most of the set: every entry in turn, in id order already */
        for (size_t i = 0; !rc && i < l->n; i++)
            if (meets(&l->items[i], box))
                rc = visit(&l->items[i], each, arg);
    } else {
        for (int64_t y = y0; !rc && y <= y1; y++)
            for (size_t k = index_from(l, (uint64_t)y << 32 | (uint64_t)x0);
                 !rc && k < l->n_index && l->index[k].cell <= ((uint64_t)y << 32 | (uint64_t)x1); k++)
                if (meets(&l->items[l->index[k].entry], box))
                    rc = found_add(&found, &n, &cap, small, l->index[k].entry);
        for (size_t k = 0; !rc && k < l->n_wide; k++)
            if (meets(&l->items[l->wide[k]], box))
                rc = found_add(&found, &n, &cap, small, l->wide[k]);
        qsort(found, n, sizeof *found, cmp_u32);
    }
    for (size_t k = 0; !rc && k < n; k++)
        rc = visit(&l->items[found[k]], each, arg);
    pthread_rwlock_unlock(&set->lock);
    if (found != small)
        free(found);
    return rc;
}
