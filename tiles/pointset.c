/*
 * tiles/pointset.c — points in memory (see pointset.h).
 *
 * Positions are kept as 32-bit Web Mercator world coordinates for the scan
 * (a tile of zoom z spans 2^(32-z) of them) and as tiles_world's doubles for
 * the exact tile coordinates of the hits, so a point lands where tiles_point
 * puts it at every zoom, without a logarithm per hit. The scan box is the frame grown by its buffer plus one
 * world unit, widened to whole world units; hits are then trimmed exactly by
 * tiles_point.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tiles/pointset.h"
#include "tiles/tile.h"

typedef struct scan {
    uint32_t wx, wy;         /* world coordinates, 2^32 across */
    uint32_t group;
    int64_t expires;         /* 0: never */
} scan;

typedef struct detail {
    int64_t id;
    double wx, wy;           /* tiles_world of the point */
    uint32_t category;
    void *payload;
} detail;

struct tiles_pointset {
    pthread_rwlock_t lock;   /* queries share it; changes take it alone */
    scan *scan;
    detail *detail;
    size_t n, cap;
    int64_t *keys;           /* open addressing: id -> slot + 1 in slots (0: empty) */
    uint32_t *slots;
    size_t table;            /* a power of two, at least 2n */
    size_t tombstones;
    void (*free_payload)(void *);
};

#define TOMBSTONE UINT32_MAX

static uint64_t mix(int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15u;
    return h ^ (h >> 29);
}

tiles_pointset *tiles_pointset_new(void (*free_payload)(void *payload))
{
    tiles_pointset *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_rwlock_init(&s->lock, NULL);
    s->free_payload = free_payload;
    return s;
}

static void drop_payload(tiles_pointset *s, void *payload)
{
    if (payload && s->free_payload)
        s->free_payload(payload);
}

void tiles_pointset_free(tiles_pointset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        drop_payload(s, s->detail[i].payload);
    free(s->scan);
    free(s->detail);
    free(s->keys);
    free(s->slots);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

/* The table position of id, or of the empty place where it would go. */
static size_t probe(const tiles_pointset *s, int64_t id)
{
    size_t mask = s->table - 1, i = (size_t)mix(id) & mask, free_at = SIZE_MAX;
    for (;;) {
        if (s->slots[i] == 0)
            return free_at != SIZE_MAX ? free_at : i;
        if (s->slots[i] == TOMBSTONE) {
            if (free_at == SIZE_MAX)
                free_at = i;
        } else if (s->keys[i] == id) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int found(const tiles_pointset *s, size_t at, int64_t id)
{
    return s->slots[at] != 0 && s->slots[at] != TOMBSTONE && s->keys[at] == id;
}

/* Rebuilds the table for size entries (dropping tombstones). */
static int rehash(tiles_pointset *s, size_t size)
{
    int64_t *keys = calloc(size, sizeof *keys);
    uint32_t *slots = calloc(size, sizeof *slots);
    if (!keys || !slots) {
        free(keys);
        free(slots);
        return TILES_ENOMEM;
    }
    free(s->keys);
    free(s->slots);
    s->keys = keys;
    s->slots = slots;
    s->table = size;
    s->tombstones = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t at = probe(s, s->detail[i].id);
        s->keys[at] = s->detail[i].id;
        s->slots[at] = (uint32_t)i + 1;
    }
    return TILES_OK;
}

int tiles_pointset_put(tiles_pointset *s, int64_t id, double lon, double lat, uint32_t group,
                       uint32_t category, int64_t expires, void *payload)
{
    if (!isfinite(lon) || !isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
        drop_payload(s, payload);
        return TILES_EINVAL;
    }
    detail d = { .id = id, .category = category, .payload = payload };
    tiles_world(lon, lat, &d.wx, &d.wy);
    double scale = 4294967296.0;
    scan sc = { (uint32_t)fmin(fmax(d.wx * scale, 0), scale - 1),
                (uint32_t)fmin(fmax(d.wy * scale, 0), scale - 1), group, expires };
    pthread_rwlock_wrlock(&s->lock);
    int rc = TILES_OK;
    if ((s->n + s->tombstones + 1) * 2 > s->table)
        rc = rehash(s, s->table ? (s->n + 1) * 4 > s->table ? s->table * 2 : s->table : 64);
    if (!rc && s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        scan *a = realloc(s->scan, cap * sizeof *a);
        if (a)
            s->scan = a;
        detail *b = realloc(s->detail, cap * sizeof *b);
        if (b)
            s->detail = b;
        if (a && b)
            s->cap = cap;
        else
            rc = TILES_ENOMEM;
    }
    if (rc) {
        pthread_rwlock_unlock(&s->lock);
        drop_payload(s, payload);
        return rc;
    }
    size_t at = probe(s, id);
    void *old = NULL;
    if (found(s, at, id)) {
        size_t i = s->slots[at] - 1;
        old = s->detail[i].payload;
        s->scan[i] = sc;
        s->detail[i] = d;
    } else {
        if (s->slots[at] == TOMBSTONE)
            s->tombstones--;
        s->scan[s->n] = sc;
        s->detail[s->n] = d;
        s->keys[at] = id;
        s->slots[at] = (uint32_t)++s->n;
    }
    pthread_rwlock_unlock(&s->lock);
    drop_payload(s, old);
    return TILES_OK;
}

void tiles_pointset_remove(tiles_pointset *s, int64_t id)
{
    void *old = NULL;
    pthread_rwlock_wrlock(&s->lock);
    size_t at = s->table ? probe(s, id) : 0;
    if (s->table && found(s, at, id)) {
        size_t i = s->slots[at] - 1, last = s->n - 1;
        old = s->detail[i].payload;
        s->slots[at] = TOMBSTONE;
        s->tombstones++;
        if (i != last) {
            s->scan[i] = s->scan[last];
            s->detail[i] = s->detail[last];
            s->slots[probe(s, s->detail[i].id)] = (uint32_t)i + 1;
        }
        s->n--;
    }
    pthread_rwlock_unlock(&s->lock);
    drop_payload(s, old);
}

void tiles_pointset_swap(tiles_pointset *s, tiles_pointset *fresh)
{
    pthread_rwlock_wrlock(&s->lock);
    tiles_pointset t = *s;
    s->scan = fresh->scan;       s->detail = fresh->detail;
    s->n = fresh->n;             s->cap = fresh->cap;
    s->keys = fresh->keys;       s->slots = fresh->slots;
    s->table = fresh->table;     s->tombstones = fresh->tombstones;
    fresh->scan = t.scan;        fresh->detail = t.detail;
    fresh->n = t.n;              fresh->cap = t.cap;
    fresh->keys = t.keys;        fresh->slots = t.slots;
    fresh->table = t.table;      fresh->tombstones = t.tombstones;
    pthread_rwlock_unlock(&s->lock);
}

size_t tiles_pointset_count(tiles_pointset *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->n;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

int tiles_pointset_query(tiles_pointset *s, const tiles_frame *f, const uint8_t *groups,
                         size_t n_groups, int64_t now,
                         int (*each)(void *arg, const tiles_pointset_hit *h), void *arg)
{
    if (!tiles_tile_valid(f->z, f->x, f->y) || f->extent == 0)
        return TILES_EINVAL;
    /* The scan box in world units: the tile, its margin, one unit of slack. */
    double span = ldexp(1.0, 32 - f->z), unit = span / f->extent;
    double lo_x = (double)f->x * span - f->buffer * unit - 1, hi_x = (double)(f->x + 1) * span + f->buffer * unit + 1;
    double lo_y = (double)f->y * span - f->buffer * unit - 1, hi_y = (double)(f->y + 1) * span + f->buffer * unit + 1;
    int rc = 0;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = 0; i < s->n && !rc; i++) {
        const scan *p = &s->scan[i];
        if (p->wx < lo_x || p->wx > hi_x || p->wy < lo_y || p->wy > hi_y)
            continue;
        if (groups && (p->group >= n_groups || !(groups[p->group >> 3] & (1u << (p->group & 7)))))
            continue;
        if (p->expires && p->expires <= now)
            continue;
        const detail *d = &s->detail[i];
        tiles_pointset_hit h = { .id = d->id, .group = p->group, .category = d->category,
                                 .payload = d->payload };
        if (tiles_point_world(f, d->wx, d->wy, &h.x, &h.y))
            rc = each(arg, &h);
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

int tiles_pointset_get(tiles_pointset *s, int64_t id, int64_t now,
                       int (*each)(void *arg, const tiles_pointset_hit *h), void *arg)
{
    int rc = 0;
    pthread_rwlock_rdlock(&s->lock);
    size_t at = s->table ? probe(s, id) : 0;
    if (s->table && found(s, at, id)
        && !(s->scan[s->slots[at] - 1].expires && s->scan[s->slots[at] - 1].expires <= now)) {
        size_t i = s->slots[at] - 1;
        tiles_pointset_hit h = { .id = id, .group = s->scan[i].group,
                                 .category = s->detail[i].category,
                                 .payload = s->detail[i].payload };
        rc = each(arg, &h);
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}
