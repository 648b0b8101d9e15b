/*
 * mapd/tile_neighbourhoods.c — neighbourhood polygons in memory (see
 * tile_neighbourhoods.h).
 *
 * The set is an array in id order (the store's order) of entries holding
 * copies of the strings, the label point in world coordinates and the
 * prepared shape; a lookup tests every entry's bounds, which for the tens to
 * few thousands of neighbourhoods of a city costs less than an index would.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/neighbourhoods.h"
#include "tile_neighbourhoods.h"
#include "tiles/tile.h"

typedef struct entry {
    char *id, *name;
    double label_lon, label_lat;
    double label_wx, label_wy;   /* the label point in the world square */
    double bounds[4];            /* of the shape, world square */
    tiles_shape *shape;
} entry;

typedef struct entries {
    entry *items;
    size_t n, cap;
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

int mapd_neighbourhoods_load(mapd_neighbourhoods *set, geodata_store *store)
{
    loading l = { .ctx = tiles_ctx_new() };
    if (!l.ctx)
        return TILES_ENOMEM;
    int rc = geodata_neighbourhoods_in_box(store, NULL, add, &l);
    tiles_ctx_free(l.ctx);
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

int mapd_neighbourhoods_each(mapd_neighbourhoods *set, const tiles_frame *f,
                             int (*each)(void *arg, const mapd_neighbourhood *n), void *arg)
{
    double box[4];
    tiles_frame_world_box(f, box);
    int rc = 0;
    pthread_rwlock_rdlock(&set->lock);
    for (size_t i = 0; !rc && i < set->list.n; i++) {
        const entry *e = &set->list.items[i];
        int shape_in = e->bounds[0] <= box[2] && e->bounds[2] >= box[0]
                    && e->bounds[1] <= box[3] && e->bounds[3] >= box[1];
        int label_in = e->label_wx >= box[0] && e->label_wx <= box[2]
                    && e->label_wy >= box[1] && e->label_wy <= box[3];
        if (!shape_in && !label_in)
            continue;
        mapd_neighbourhood n = { e->id, e->name, e->label_lon, e->label_lat, e->shape };
        rc = each(arg, &n);
    }
    pthread_rwlock_unlock(&set->lock);
    return rc;
}
