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
    uint32_t cell, pos;      /* its grid cell, and its place in the cell's list */
    void *payload;
} detail;

/* The grid: the tiles of GRID_ZOOM, each listing the slots of its points. */
#define GRID_ZOOM 17
#define GRID_SHIFT (32 - GRID_ZOOM)
#define GRID_MAX_CELLS 1200  /* a query spanning more cells scans the arrays instead */

typedef struct cell {
    uint64_t key;            /* column << 32 | row */
    uint32_t *slots;
    uint32_t n, cap;
} cell;

struct tiles_pointset {
    pthread_rwlock_t lock;   /* queries share it; changes take it alone */
    scan *scan;
    detail *detail;
    size_t n, cap;
    int64_t *keys;           /* open addressing: id -> slot + 1 in slots (0: empty) */
    uint32_t *slots;
    size_t table;            /* a power of two, at least 2n */
    size_t tombstones;
    cell *cells;             /* every cell ever used (empty ones stay) */
    size_t n_cells, cap_cells;
    uint32_t *cell_index;    /* open addressing: cell key -> index + 1 in cells */
    size_t cell_table;       /* a power of two, at least 2 n_cells */
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
    for (size_t i = 0; i < s->n_cells; i++)
        free(s->cells[i].slots);
    free(s->cells);
    free(s->cell_index);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

/* ---- the grid ---- */

static uint64_t cell_key(uint32_t wx, uint32_t wy)
{
    return ((uint64_t)(wx >> GRID_SHIFT) << 32) | (wy >> GRID_SHIFT);
}

static uint64_t mix_key(uint64_t k)
{
    k *= 0x9E3779B97F4A7C15u;
    return k ^ (k >> 31);
}

/* The index of the cell with key, or -1 when there is none. */
static long cell_find(const tiles_pointset *s, uint64_t key)
{
    if (!s->cell_table)
        return -1;
    size_t mask = s->cell_table - 1;
    for (size_t i = (size_t)mix_key(key) & mask; s->cell_index[i]; i = (i + 1) & mask)
        if (s->cells[s->cell_index[i] - 1].key == key)
            return (long)s->cell_index[i] - 1;
    return -1;
}

/* The index of the cell with key, made if need be; -1 when out of memory. */
static long cell_get(tiles_pointset *s, uint64_t key)
{
    long c = cell_find(s, key);
    if (c >= 0)
        return c;
    if ((s->n_cells + 1) * 2 > s->cell_table) {
        size_t size = s->cell_table ? s->cell_table * 2 : 64;
        uint32_t *index = calloc(size, sizeof *index);
        if (!index)
            return -1;
        for (size_t i = 0; i < s->n_cells; i++) {
            size_t j = (size_t)mix_key(s->cells[i].key) & (size - 1);
            while (index[j])
                j = (j + 1) & (size - 1);
            index[j] = (uint32_t)i + 1;
        }
        free(s->cell_index);
        s->cell_index = index;
        s->cell_table = size;
    }
    if (s->n_cells == s->cap_cells) {
        size_t cap = s->cap_cells ? s->cap_cells * 2 : 64;
        cell *cells = realloc(s->cells, cap * sizeof *cells);
        if (!cells)
            return -1;
        s->cells = cells;
        s->cap_cells = cap;
    }
    s->cells[s->n_cells] = (cell){ .key = key };
    size_t j = (size_t)mix_key(key) & (s->cell_table - 1);
    while (s->cell_index[j])
        j = (j + 1) & (s->cell_table - 1);
    s->cell_index[j] = (uint32_t)s->n_cells + 1;
    return (long)s->n_cells++;
}

/* Lists slot in cell c; 0 or -1 when out of memory. */
static int cell_add(tiles_pointset *s, long c, uint32_t slot)
{
    cell *k = &s->cells[c];
    if (k->n == k->cap) {
        uint32_t cap = k->cap ? k->cap * 2 : 8;
        uint32_t *slots = realloc(k->slots, cap * sizeof *slots);
        if (!slots)
            return -1;
        k->slots = slots;
        k->cap = cap;
    }
    s->detail[slot].cell = (uint32_t)c;
    s->detail[slot].pos = k->n;
    k->slots[k->n++] = slot;
    return 0;
}

/* Takes slot out of its cell's list (the list's last slot fills the hole). */
static void cell_drop(tiles_pointset *s, uint32_t slot)
{
    cell *k = &s->cells[s->detail[slot].cell];
    uint32_t pos = s->detail[slot].pos, last = k->slots[--k->n];
    k->slots[pos] = last;
    s->detail[last].pos = pos;
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

/* Frees slot i (already out of its cell's list), whose id sits at table
 * position at: the last slot moves into it, its table entry and its cell's
 * list following. */
static void remove_slot(tiles_pointset *s, uint32_t i, size_t at)
{
    uint32_t last = (uint32_t)s->n - 1;
    s->slots[at] = TOMBSTONE;
    s->tombstones++;
    if (i != last) {
        s->scan[i] = s->scan[last];
        s->detail[i] = s->detail[last];
        s->slots[probe(s, s->detail[i].id)] = i + 1;
        s->cells[s->detail[i].cell].slots[s->detail[i].pos] = i;
    }
    s->n--;
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
    long c = rc ? -1 : cell_get(s, cell_key(sc.wx, sc.wy));
    if (!rc && c < 0)
        rc = TILES_ENOMEM;
    if (rc) {
        pthread_rwlock_unlock(&s->lock);
        drop_payload(s, payload);
        return rc;
    }
    size_t at = probe(s, id);
    void *old = NULL;
    uint32_t slot;
    if (found(s, at, id)) {
        slot = s->slots[at] - 1;
        old = s->detail[slot].payload;
        cell_drop(s, slot);
    } else {
        if (s->slots[at] == TOMBSTONE)
            s->tombstones--;
        slot = (uint32_t)s->n++;
        s->keys[at] = id;
        s->slots[at] = slot + 1;
    }
    s->scan[slot] = sc;
    s->detail[slot] = d;
    if (cell_add(s, c, slot)) {
        /* out of memory for the cell's list: the point goes, as if never put */
        void *mine = s->detail[slot].payload;
        remove_slot(s, slot, at);
        pthread_rwlock_unlock(&s->lock);
        drop_payload(s, old);
        drop_payload(s, mine);
        return TILES_ENOMEM;
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
        uint32_t i = s->slots[at] - 1;
        old = s->detail[i].payload;
        cell_drop(s, i);
        remove_slot(s, i, at);
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
    s->cells = fresh->cells;             fresh->cells = t.cells;
    s->n_cells = fresh->n_cells;         fresh->n_cells = t.n_cells;
    s->cap_cells = fresh->cap_cells;     fresh->cap_cells = t.cap_cells;
    s->cell_index = fresh->cell_index;   fresh->cell_index = t.cell_index;
    s->cell_table = fresh->cell_table;   fresh->cell_table = t.cell_table;
    pthread_rwlock_unlock(&s->lock);
}

size_t tiles_pointset_count(tiles_pointset *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->n;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

/* Visits slot i if it passes the query's filters. */
static int visit_slot(const tiles_pointset *s, size_t i, const double box[4], const tiles_frame *f,
                      const uint8_t *groups, size_t n_groups, int64_t now,
                      int (*each)(void *arg, const tiles_pointset_hit *h), void *arg)
{
    const scan *p = &s->scan[i];
    if (p->wx < box[0] || p->wx > box[1] || p->wy < box[2] || p->wy > box[3])
        return 0;
    if (groups && (p->group >= n_groups || !(groups[p->group >> 3] & (1u << (p->group & 7)))))
        return 0;
    if (p->expires && p->expires <= now)
        return 0;
    const detail *d = &s->detail[i];
    tiles_pointset_hit h = { .id = d->id, .group = p->group, .category = d->category,
                             .payload = d->payload };
    return tiles_point_world(f, d->wx, d->wy, &h.x, &h.y) ? each(arg, &h) : 0;
}

int tiles_pointset_query(tiles_pointset *s, const tiles_frame *f, const uint8_t *groups,
                         size_t n_groups, int64_t now,
                         int (*each)(void *arg, const tiles_pointset_hit *h), void *arg)
{
    if (!tiles_tile_valid(f->z, f->x, f->y) || f->extent == 0)
        return TILES_EINVAL;
    /* The scan box in world units: the tile, its margin, one unit of slack. */
    double span = ldexp(1.0, 32 - f->z), unit = span / f->extent, top = 4294967295.0;
    double box[4] = { (double)f->x * span - f->buffer * unit - 1,
                      (double)(f->x + 1) * span + f->buffer * unit + 1,
                      (double)f->y * span - f->buffer * unit - 1,
                      (double)(f->y + 1) * span + f->buffer * unit + 1 };
    uint32_t cx0 = (uint32_t)fmax(box[0], 0) >> GRID_SHIFT, cx1 = (uint32_t)fmin(box[1], top) >> GRID_SHIFT;
    uint32_t cy0 = (uint32_t)fmax(box[2], 0) >> GRID_SHIFT, cy1 = (uint32_t)fmin(box[3], top) >> GRID_SHIFT;
    int rc = 0;
    pthread_rwlock_rdlock(&s->lock);
    if ((uint64_t)(cx1 - cx0 + 1) * (cy1 - cy0 + 1) <= GRID_MAX_CELLS) {
        /* a deep tile: the points of the grid cells it overlaps */
        for (uint32_t cx = cx0; cx <= cx1 && !rc; cx++)
            for (uint32_t cy = cy0; cy <= cy1 && !rc; cy++) {
                long c = cell_find(s, ((uint64_t)cx << 32) | cy);
                for (uint32_t k = 0; c >= 0 && k < s->cells[c].n && !rc; k++)
                    rc = visit_slot(s, s->cells[c].slots[k], box, f, groups, n_groups, now, each, arg);
            }
    } else {
        for (size_t i = 0; i < s->n && !rc; i++)
            rc = visit_slot(s, i, box, f, groups, n_groups, now, each, arg);
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
