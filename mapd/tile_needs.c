/*
 * mapd/tile_needs.c — the needs layer in memory (see tile_needs.h).
 *
 * A point's payload is one allocation: the fixed fields, then the title and
 * the neighbourhood id. Neighbourhood ids become small group numbers through
 * a registry that only grows (a re-import that renames neighbourhoods leaves
 * unused numbers behind, harmlessly); lookups are linear — a city has tens
 * to hundreds of neighbourhoods, and they are looked up once per change, not
 * per tile.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "geodata/ids.h"
#include "geodata/members.h"
#include "geodata/posts.h"
#include "tile_needs.h"
#include "tiles/pointset.h"
#include "tiles/tile.h"

typedef struct payload {
    int64_t expires_at;
    int offer, claimed;
    char *nb;                /* into text, after the title */
    char text[];             /* title NUL neighbourhood NUL */
} payload;

struct mapd_needs {
    tiles_pointset *points;
    pthread_mutex_t groups_lock;   /* guards groups */
    geodata_ids *groups;           /* group number <-> neighbourhood id */
};

mapd_needs *mapd_needs_new(void)
{
    mapd_needs *n = calloc(1, sizeof *n);
    if (!n || !(n->points = tiles_pointset_new(free)) || !(n->groups = geodata_ids_new())) {
        if (n)
            tiles_pointset_free(n->points);
        free(n);
        return NULL;
    }
    pthread_mutex_init(&n->groups_lock, NULL);
    return n;
}

void mapd_needs_free(mapd_needs *n)
{
    if (!n)
        return;
    tiles_pointset_free(n->points);
    geodata_ids_free(n->groups);
    pthread_mutex_destroy(&n->groups_lock);
    free(n);
}

/* The group of neighbourhood id, registered if new; UINT32_MAX when out of
 * memory. Work: a hash probe (geodata/ids.h). */
static uint32_t group_of(mapd_needs *n, const char *id)
{
    pthread_mutex_lock(&n->groups_lock);
    uint32_t g = geodata_ids_intern(n->groups, id);
    pthread_mutex_unlock(&n->groups_lock);
    return g == GEODATA_IDS_NONE ? UINT32_MAX : g;
}

/* The index of category in geodata_post_categories ("other" if unknown). */
static uint32_t category_of(const char *category)
{
    uint32_t other = 0;
    for (uint32_t i = 0; geodata_post_categories[i]; i++) {
        if (strcmp(geodata_post_categories[i], category) == 0)
            return i;
        if (strcmp(geodata_post_categories[i], "other") == 0)
            other = i;
    }
    return other;
}

typedef struct loading {
    mapd_needs *n;
    tiles_pointset *into;
} loading;

static int put_need(void *arg, const geodata_map_need *need)
{
    loading *l = arg;
    uint32_t g = group_of(l->n, need->neighbourhood_id);
    size_t tl = strlen(need->title), nl = strlen(need->neighbourhood_id);
    payload *p = malloc(sizeof *p + tl + nl + 2);
    if (g == UINT32_MAX || !p) {
        free(p);
        return TILES_ENOMEM;
    }
    p->expires_at = need->expires_at;
    p->offer = strcmp(need->kind, "offer") == 0;
    p->claimed = strcmp(need->status, "claimed") == 0;
    memcpy(p->text, need->title, tl + 1);
    p->nb = p->text + tl + 1;
    memcpy(p->nb, need->neighbourhood_id, nl + 1);
    /* an open need leaves the map at its expiry; a claimed one stays */
    int rc = tiles_pointset_put(l->into, need->id, need->lon, need->lat, g,
                                category_of(need->category), p->claimed ? 0 : need->expires_at, p);
    return rc == TILES_EINVAL ? 0 : rc; /* a point off the map is left out */
}

int mapd_needs_load(mapd_needs *n, geodata_store *store, int64_t now)
{
    tiles_pointset *fresh = tiles_pointset_new(free);
    if (!fresh)
        return TILES_ENOMEM;
    loading l = { n, fresh };
    int rc = geodata_map_needs(store, now, put_need, &l);
    if (!rc)
        tiles_pointset_swap(n->points, fresh);
    tiles_pointset_free(fresh);
    return rc;
}

typedef struct refreshing {
    loading l;
    int seen;
} refreshing;

static int refresh_one(void *arg, const geodata_map_need *need)
{
    refreshing *r = arg;
    r->seen = 1;
    return put_need(&r->l, need);
}

int mapd_needs_refresh(mapd_needs *n, geodata_store *store, int64_t id)
{
    refreshing r = { { n, n->points }, 0 };
    int rc = geodata_map_need_by_id(store, id, refresh_one, &r);
    if (!rc && !r.seen)
        tiles_pointset_remove(n->points, id);
    return rc;
}

void mapd_needs_remove(mapd_needs *n, int64_t id)
{
    tiles_pointset_remove(n->points, id);
}

size_t mapd_needs_count(mapd_needs *n)
{
    return tiles_pointset_count(n->points);
}

int mapd_needs_visible(mapd_needs *n, const geodata_audience *a, uint8_t **groups,
                       size_t *n_groups)
{
    *groups = NULL;
    *n_groups = 0;
    if (a->kind == GEODATA_AUDIENCE_STAFF)
        return 0; /* every group */
    uint32_t *g = malloc((a->n_visible ? a->n_visible : 1) * sizeof *g);
    if (!g)
        return TILES_ENOMEM;
    uint32_t top = 0;
    for (size_t i = 0; i < a->n_visible; i++) {
        if ((g[i] = group_of(n, a->visible[i])) == UINT32_MAX) {
            free(g);
            return TILES_ENOMEM;
        }
        if (g[i] + 1 > top)
            top = g[i] + 1;
    }
    uint8_t *bits = calloc((top + 7) / 8 + 1, 1);
    for (size_t i = 0; bits && i < a->n_visible; i++)
        bits[g[i] >> 3] |= (uint8_t)(1u << (g[i] & 7));
    free(g);
    if (!bits)
        return TILES_ENOMEM;
    *groups = bits;
    *n_groups = top;
    return 0;
}

typedef struct querying {
    int (*each)(void *arg, int64_t id, uint32_t category, int32_t x, int32_t y);
    void *arg;
} querying;

static int visit(void *arg, const tiles_pointset_hit *h)
{
    querying *q = arg;
    return q->each(q->arg, h->id, h->category, h->x, h->y);
}

int mapd_needs_query(mapd_needs *n, const tiles_frame *f, const uint8_t *groups, size_t n_groups,
                     int64_t now,
                     int (*each)(void *arg, int64_t id, uint32_t category, int32_t x, int32_t y),
                     void *arg)
{
    querying q = { each, arg };
    return tiles_pointset_query(n->points, f, groups, n_groups, now, visit, &q);
}

typedef struct getting {
    int (*each)(void *arg, const geodata_map_need *need);
    void *arg;
} getting;

static int visit_one(void *arg, const tiles_pointset_hit *h)
{
    getting *g = arg;
    const payload *p = h->payload;
    geodata_map_need need = { .id = h->id, .kind = p->offer ? "offer" : "request",
                              .category = geodata_post_categories[h->category],
                              .status = p->claimed ? "claimed" : "open",
                              .title = p->text, .neighbourhood_id = p->nb,
                              .expires_at = p->expires_at };
    return g->each(g->arg, &need);
}

int mapd_needs_get(mapd_needs *n, int64_t id, int64_t now,
                   int (*each)(void *arg, const geodata_map_need *need), void *arg)
{
    getting g = { each, arg };
    return tiles_pointset_get(n->points, id, now, visit_one, &g);
}
